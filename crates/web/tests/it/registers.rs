//! The bureau imports the authorities' registers (.xlsx or CSV): facts land with the register as
//! their source, all rows or none, people not in the registry counted and left out; claims that
//! rest on those facts are not held. On both backends.

use crate::common;
use crate::common::{id_number, spawn_app, TestApp, MY_COUNTY, OTHER_COUNTY};
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use jineng_domain::{AreaCode, CreditCode, Role};
use jineng_store::testing::both_backends;
use serde_json::{json, Value};

async fn upload(app: &TestApp, role: Role, kind: &str, bytes: Vec<u8>) -> (StatusCode, Value) {
    let req = Request::builder()
        .method(Method::POST)
        .uri(format!("/api/v1/registers/{kind}?file_name=t.csv"))
        .header(header::AUTHORIZATION, format!("Bearer {}", app.tokens[&role]))
        .header(header::CONTENT_TYPE, "text/csv")
        .body(Body::from(bytes))
        .unwrap();
    let r = app.send(req).await;
    let v = serde_json::from_str(&r.body).unwrap_or(Value::Null);
    (r.status, v)
}

fn xlsx(rows: &[&[&str]]) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            ws.write_string(r as u32, c as u16, *v).unwrap();
        }
    }
    wb.save_to_buffer().unwrap()
}

async fn person(app: &TestApp) -> Value {
    app.api(Some(Role::CityAdmin), Method::GET, &format!("/api/v1/people/{}", app.my_person), None).await.json()
        ["person"]
        .clone()
}

both_backends! {
    async fn a_social_insurance_register_lands_whole_with_its_source(backend: &'static str) {
        let app = spawn_app(backend).await;
        let header = "身份证号,姓名,失业保险参保起始日期,按月领取养老金\n";
        // A wrong row refuses the whole file: nothing changes.
        let bad = format!("{header}{},李娜,2018-03-01,否\n{},李娜,2018-13-01,否\n", id_number(MY_COUNTY, 11), id_number(OTHER_COUNTY, 12));
        let (status, body) = upload(&app, Role::CityAdmin, "social_insurance", bad.into_bytes()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["errors"][0]["row"], 3, "{body}");
        assert!(body["errors"][0]["column"].as_str().unwrap().starts_with('C'), "{body}");
        assert!(person(&app).await["insured_since"].is_null(), "nothing landed");
        // A name that differs from the registry is named, and also refuses the file.
        let wrong_name = format!("{header}{},王芳,2018-03-01,否\n", id_number(MY_COUNTY, 11));
        let (status, body) = upload(&app, Role::CityAdmin, "social_insurance", wrong_name.into_bytes()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(body["errors"][0]["reason"].as_str().unwrap().contains("姓名"), "{body}");

        // GBK, as Excel saves CSV in China; one person not in the registry is counted.
        let good = format!("{header}{},李娜,2018-03-01,否\n{},张伟,2019-01-01,是\n", id_number(MY_COUNTY, 11), id_number(MY_COUNTY, 99));
        let (gbk, _, _) = encoding_rs::GBK.encode(&good);
        let (status, body) = upload(&app, Role::CityAdmin, "social_insurance", gbk.into_owned()).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(body["recorded"], 1);
        assert_eq!(body["not_registered"], 1);
        assert_eq!(person(&app).await["insured_since"], "2018-03-01");
        let facts = jineng_store::facts::of_person(&app.db, app.my_person).await.unwrap();
        let insured = facts.iter().find(|f| f.fact == "insured_since").expect("insured_since stated");
        assert_eq!(insured.source, "social_insurance");
        assert_eq!(insured.value, "2018-03-01");

        // Only the city admin imports.
        for role in [Role::County, Role::Provider, Role::Employer] {
            let (status, _) = upload(&app, role, "social_insurance", good.clone().into_bytes()).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{role:?}");
        }
        // The page lists the import; the template is a real workbook with the header.
        let page = app.page(Some(Role::CityAdmin), Method::GET, "/registers", &[], false).await;
        assert!(page.body.contains("社会保险参保及养老金领取名单"), "{}", page.body);
        let t = app.page(Some(Role::CityAdmin), Method::GET, "/registers/poverty_roster/template.xlsx", &[], false).await;
        assert_eq!(t.status, StatusCode::OK);
    }
}

both_backends! {
    async fn registers_confirm_the_facts_a_claim_rests_on_so_it_is_not_held(backend: &'static str) {
        let app = spawn_app(backend).await;
        let id = id_number(MY_COUNTY, 11);
        let poverty = xlsx(&[&["身份证号 ID number", "姓名", "人员类别", "起始日期", "终止日期"], &[&id, "李娜", "poor_worker", "2019-01-01", ""]]);
        let (status, body) = upload(&app, Role::CityAdmin, "poverty_roster", poverty).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let employer = CreditCode::generate(AreaCode::parse(MY_COUNTY).unwrap(), 79).to_string();
        let jobs = format!("身份证号,姓名,单位统一社会信用代码,入职日期,离职日期\n{id},李娜,{employer},2020-01-01,\n");
        let (status, body) = upload(&app, Role::CityAdmin, "employment", jobs.into_bytes()).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        // An unknown employer is named, not created.
        let other = CreditCode::generate(AreaCode::parse(MY_COUNTY).unwrap(), 5).to_string();
        let (status, body) = upload(&app, Role::CityAdmin, "employment", format!("身份证号,姓名,单位统一社会信用代码,入职日期,离职日期\n{id},李娜,{other},2020-01-01,\n").into_bytes()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

        // The employer files on that employment: decided, not held.
        let r = app
            .api_keyed(Role::Employer, "/api/v1/claims", "otj", json!({"kind": "on_the_job", "id_number": id, "name": "李娜", "employed_from": "2020-01-01", "from": "2020-09-01", "months": 3}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert_eq!(r.json()["claim"]["outcome"], "approved", "{}", r.body);
        assert_eq!(r.json()["claim"]["status"], "decided", "{}", r.body);

        // Hukou and business from the registers reach the live case.
        let hukou = format!("身份证号,姓名,户籍县区代码,农村户籍\n{id},李娜,{OTHER_COUNTY},是\n");
        assert_eq!(upload(&app, Role::CityAdmin, "civil_affairs", hukou.into_bytes()).await.0, StatusCode::CREATED);
        let business = format!("身份证号,姓名,成立日期\n{id},李娜,2018-05-01\n");
        assert_eq!(upload(&app, Role::CityAdmin, "market_regulation", business.into_bytes()).await.0, StatusCode::CREATED);
        let facts = jineng_store::facts::of_person(&app.db, app.my_person).await.unwrap();
        for (fact, source) in [("hukou_county", "civil_affairs"), ("business_started", "market_regulation"), ("group", "poverty_roster"), ("employment", "social_insurance")] {
            assert!(facts.iter().any(|f| f.fact == fact && f.source == source), "{fact} from {source}: {facts:?}");
        }
        let r = app
            .api_keyed(Role::Employer, "/api/v1/claims", "otj-2", json!({"kind": "on_the_job", "id_number": id, "name": "李娜", "employed_from": "2020-01-01", "from": "2020-12-01", "months": 1}))
            .await;
        let claim_id = r.json()["claim"]["claim_id"].as_i64().unwrap();
        let snap = jineng_store::claims::snapshot(&app.db, claim_id).await.unwrap();
        let snap: Value = serde_json::from_str(&snap).unwrap();
        assert_eq!(snap["people"][0]["hukou"], OTHER_COUNTY, "{snap}");
        assert_eq!(snap["people"][0]["business_started"], "2018-05-01", "{snap}");
    }
}

both_backends! {
    /// A certificate from the appraisal register (issued outside the system's classes) joins the
    /// person's record; the claim it brings is decided like any other, and refused: no subsidy for
    /// training outside the system (S12). A file with a wrong row lands nothing, and a certificate
    /// imported twice is recorded once.
    async fn certificates_from_the_appraisal_register_join_the_record(backend: &'static str) {
        let app = spawn_app(backend).await;
        jineng_store::people::add_group(&app.db, None, app.my_person, "employee", "2015-01-01".parse().unwrap())
            .await
            .unwrap();
        let path = format!("/api/v1/people/{}", app.my_person);
        let p = app.api(Some(Role::CityAdmin), Method::GET, &path, None).await.json()["person"].clone();
        let r = app
            .api(
                Some(Role::CityAdmin),
                Method::PUT,
                &path,
                Some(json!({"name": p["name"], "county_code": p["county_code"], "rural": p["rural"], "insured_since": "2015-01-01"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let row = |name: &str, serial: &str| {
            json!({"id_number": common::id_number(common::MY_COUNTY, 11), "name": name, "kind": "skill_level", "occupation_code": "4-10-01-06",
                   "level": 4, "serial": serial, "issued_on": "2021-06-01", "issuer": "河南省职业技能鉴定指导中心"})
        };
        let admin = Some(Role::CityAdmin);
        // A wrong name in row 2: nothing lands, the row and field are named.
        let r = app.api(admin, Method::POST, "/api/v1/certificates/register", Some(json!([row("李娜", "Z-1"), row("王五", "Z-2")]))).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}: {}", r.body);
        assert_eq!(r.json()["errors"][0]["row"], 2, "{}", r.body);
        assert_eq!(r.json()["errors"][0]["column"], "name", "{}", r.body);
        assert!(r.json()["error"]["fields"].to_string().contains("不在实名登记中"), "{}", r.body);
        let r = app.api(Some(Role::County), Method::POST, "/api/v1/certificates/register", Some(json!([row("李娜", "Z-1")]))).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        let r = app.api(admin, Method::POST, "/api/v1/certificates/register", Some(json!([row("李娜", "Z-1")]))).await;
        assert_eq!(r.status, StatusCode::CREATED, "{backend}: {}", r.body);
        assert_eq!(r.json()["recorded"], 1, "{}", r.body);
        let claims = app.api(admin, Method::GET, "/api/v1/claims", None).await.json();
        let brought = claims.as_array().unwrap();
        assert_eq!(brought.len(), 1, "{backend}: {claims}");
        assert_eq!(brought[0]["outcome"], "rejected", "{}", brought[0]);
        assert!(brought[0]["decision"].as_str().unwrap().contains("S12.not_in_system"), "{}", brought[0]);
        // The same file again: nothing new.
        let r = app.api(admin, Method::POST, "/api/v1/certificates/register", Some(json!([row("李娜", "Z-1")]))).await;
        assert_eq!(r.json()["recorded"], 0, "{}", r.body);
        // The register as CSV in the template's layout (the kind by its Chinese name); a bad date
        // is named by row and column.
        let csv = |date: &str| {
            format!(
                "{}\n{},李娜,职业技能等级证书,4-10-01-06,4,Z-9,{date},河南省职业技能鉴定指导中心\n",
                jineng_store::assessment::REGISTER_HEADERS.join(","),
                common::id_number(common::MY_COUNTY, 11)
            )
        };
        let send = |text: String| {
            let req = Request::builder()
                .method(Method::POST)
                .uri("/api/v1/certificates/register")
                .header(header::AUTHORIZATION, format!("Bearer {}", app.tokens[&Role::CityAdmin]))
                .header(header::CONTENT_TYPE, "text/csv")
                .body(Body::from(text))
                .unwrap();
            app.send(req)
        };
        let r = send(csv("2021-13-01")).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(r.body.contains("row 2 G 发证日期"), "{}", r.body);
        let r = send(csv("2021-07-01")).await;
        let (status, body): (StatusCode, Value) = (r.status, serde_json::from_str(&r.body).unwrap_or(Value::Null));
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(body["recorded"], 1, "{body}");
        // The person's record lists it with its issuer.
        let me = app.api(Some(Role::Worker), Method::GET, &path, None).await.json();
        assert!(me["certificates"].to_string().contains("河南省职业技能鉴定指导中心"), "{me}");
    }
}

both_backends! {
    /// The record of subsidies granted before the system, as a sheet in its template's layout:
    /// the kind by its Chinese name, the amount in yuan; a wrong row is named by row and column
    /// and nothing lands; what lands is paid and counts (a new filing for the same months gets
    /// nothing).
    async fn subsidies_granted_before_are_imported_from_a_sheet(backend: &'static str) {
        let app = spawn_app(backend).await;
        jineng_store::people::add_group(&app.db, None, app.my_person, "poor_worker", "2019-01-01".parse().unwrap())
            .await
            .unwrap();
        let employer = CreditCode::generate(AreaCode::parse(MY_COUNTY).unwrap(), 79).to_string();
        let sheet = |kind: &str| {
            format!(
                "{}\n H-1,{kind},{},{employer},,,,,6,,2020-06-30,\"1,200\"\n",
                jineng_store::claims::past::SHEET_HEADERS.join(","),
                id_number(MY_COUNTY, 11)
            )
        };
        let (status, body) = upload(&app, Role::CityAdmin, "granted", sheet("奖金").into_bytes()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}: {body}");
        assert!(body.to_string().contains("row 2 B 补贴类型"), "{body}");
        let (status, _) = upload(&app, Role::County, "granted", sheet(jineng_domain::ClaimKind::OnTheJob.zh()).into_bytes()).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, body) = upload(&app, Role::CityAdmin, "granted", sheet(jineng_domain::ClaimKind::OnTheJob.zh()).into_bytes()).await;
        assert_eq!(status, StatusCode::CREATED, "{backend}: {body}");
        let claims = app.api(Some(Role::CityAdmin), Method::GET, "/api/v1/claims", None).await.json();
        let paid: Vec<_> = claims.as_array().unwrap().iter().filter(|c| c["status"] == "paid").collect();
        assert_eq!(paid.len(), 1, "{claims}");
        assert_eq!(paid[0]["amount_fen"], 120_000, "{}", paid[0]);
        let filing = json!({"kind": "on_the_job", "id_number": id_number(MY_COUNTY, 11), "name": "李娜", "employed_from": "2020-01-01", "from": "2020-09-01", "months": 6});
        let r = app.api_keyed(Role::Employer, "/api/v1/claims", "otj", filing).await;
        assert_eq!(r.json()["claim"]["amount_fen"], 0, "{backend}: {}", r.body);
    }
}
