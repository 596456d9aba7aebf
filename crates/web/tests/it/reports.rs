//! What the bureau reports (issue 14, parts 1–4) on both backends: a month's report counted from
//! the registry, submitted by a county, closed and frozen by the city (a late correction shows in
//! the next report, never in the closed one, and of eight closings at once one wins); the
//! spreadsheet of a closed period is the same bytes every time; the year's tasks add up to the
//! whole; pending targets are proposed by the department the plan names and adopted or returned
//! by the city; T2 and T3 from the statistics bureau's figures and the system's certificates.

use crate::common::{spawn_app, TestApp, MY_COUNTY, OTHER_COUNTY};
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use http_body_util::BodyExt;
use jineng_domain::Role;
use jineng_store::testing::both_backends;
use serde_json::{json, Value};
use tower::ServiceExt;

fn d(s: &str) -> chrono::NaiveDate {
    s.parse().unwrap()
}

fn program<'a>(r: &'a Value, code: &str) -> &'a Value {
    r["programs"].as_array().unwrap().iter().find(|p| p["code"] == code).unwrap_or_else(|| panic!("{code} in {r}"))
}

async fn report(app: &TestApp, role: Role, path: &str) -> Value {
    let r = app.api(Some(role), Method::GET, path, None).await;
    assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
    r.json()
}

async fn bytes(app: &TestApp, role: Role, path: &str) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let req = Request::builder()
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {}", app.tokens[&role]))
        .body(Body::empty())
        .unwrap();
    let res = app.router.clone().oneshot(req).await.unwrap();
    let (status, headers) = (res.status(), res.headers().clone());
    (status, headers, res.into_body().collect().await.unwrap().to_bytes().to_vec())
}

/// One more trainee of the test app's March 2020 P2a class, completing on `on`.
async fn late_completion(app: &TestApp, on: &str) {
    let class: i64 =
        jineng_store::with_pool!(&app.db, |p| sqlx::query_scalar("SELECT MIN(class_id) FROM training_class")
            .fetch_one(p)
            .await
            .unwrap());
    let e = jineng_store::training::enrol(&app.db, None, class, app.other_person, d("2020-03-01")).await.unwrap();
    jineng_store::training::complete(&app.db, None, e, d(on)).await.unwrap();
}

both_backends! {
    async fn a_month_is_counted_submitted_closed_and_frozen(backend: &'static str) {
        let app = spawn_app(backend).await;
        // The test app's one completion: P2a, MY_COUNTY, 20 March 2020.
        let city = report(&app, Role::CityAdmin, "/api/v1/reports/2020-03").await;
        let p2a = program(&city, "P2a");
        assert_eq!((p2a["period_person_times"].as_i64(), p2a["ytd_person_times"].as_i64(), p2a["ytd_persons"].as_i64()), (Some(1), Some(1), Some(1)));
        assert_eq!(program(&city, "P2")["ytd_person_times"], 1, "a parent counts its sub-programs");
        assert_eq!(city["total"]["ytd_person_times"], 1, "the total counts each completion once");
        assert_eq!(city["status"], "open");
        let mine = city["counties"].as_array().unwrap().iter().find(|c| c["county_code"] == MY_COUNTY).unwrap();
        assert_eq!((mine["period_person_times"].as_i64(), mine["late"].as_bool()), (Some(1), Some(true)), "due 5 April 2020, not submitted");
        // A quarter holds the month; April holds it in the year to date only.
        let q1 = report(&app, Role::CityAdmin, "/api/v1/reports/2020-Q1").await;
        assert_eq!(program(&q1, "P2a")["period_person_times"], 1);
        let april = report(&app, Role::CityAdmin, "/api/v1/reports/2020-04").await;
        assert_eq!((program(&april, "P2a")["period_person_times"].as_i64(), program(&april, "P2a")["ytd_person_times"].as_i64()), (Some(0), Some(1)));

        // A county office reads its own county only; a provider reads no report.
        let own = report(&app, Role::County, "/api/v1/reports/2020-03").await;
        assert_eq!(own["county"], MY_COUNTY);
        assert!(own["counties"].as_array().unwrap().is_empty());
        for path in [format!("/api/v1/reports/2020-03?county={OTHER_COUNTY}")] {
            assert_eq!(app.api(Some(Role::County), Method::GET, &path, None).await.status, StatusCode::FORBIDDEN);
        }
        assert_eq!(app.api(Some(Role::Provider), Method::GET, "/api/v1/reports/2020-03", None).await.status, StatusCode::FORBIDDEN);
        for bad in ["2020-13", "2020-Q5", "1999-01x", "2020-3"] {
            let r = app.api(Some(Role::CityAdmin), Method::GET, &format!("/api/v1/reports/{bad}"), None).await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {}", r.body);
        }
        let page = app.page(Some(Role::CityAdmin), Method::GET, "/reports/2020-03", &[], false).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("2020年3月月报") && page.body.contains("逾期县区"), "{}", page.body);

        // The county submits once; the city sees when.
        let r = app.page(Some(Role::County), Method::POST, "/reports/2020-03/submit", &[("note", "本月数据已核对")], true).await;
        assert!(r.status.is_redirection(), "{} {}", r.status, r.body);
        let again = app.page(Some(Role::County), Method::POST, "/reports/2020-03/submit", &[("note", "")], true).await;
        assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
        assert!(again.body.contains("已报送"), "{}", again.body);
        let city = report(&app, Role::CityAdmin, "/api/v1/reports/2020-03").await;
        let mine = city["counties"].as_array().unwrap().iter().find(|c| c["county_code"] == MY_COUNTY).unwrap();
        assert!(mine["submitted_at"].is_string(), "{mine}");
        // Submitted today, long after the due date: still late.
        assert_eq!(mine["late"], true);
        // A period that has not ended cannot be submitted or closed.
        let future = format!("{}", chrono::Datelike::year(&chrono::Utc::now()) + 1);
        let r = app.page(Some(Role::CityAdmin), Method::POST, &format!("/reports/{future}-01/close"), &[], true).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);

        // The city closes March: frozen.
        let r = app.page(Some(Role::County), Method::POST, "/reports/2020-03/close", &[], true).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = app.page(Some(Role::CityAdmin), Method::POST, "/reports/2020-03/close", &[], true).await;
        assert!(r.status.is_redirection(), "{} {}", r.status, r.body);
        let closed = report(&app, Role::CityAdmin, "/api/v1/reports/2020-03").await;
        assert_eq!(closed["status"], "closed");
        assert_eq!(closed["snapshot_sha256"].as_str().unwrap().len(), 64);
        let county_closed = report(&app, Role::County, "/api/v1/reports/2020-03").await;
        let (_, headers, first) = bytes(&app, Role::CityAdmin, "/reports/2020-03/xlsx").await;
        assert_eq!(headers[header::CONTENT_TYPE], "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
        let r = app.page(Some(Role::County), Method::POST, "/reports/2020-03/submit", &[("note", "")], true).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "a closed period takes no submission");

        // A completion recorded late into March changes nothing closed; April shows the correction.
        late_completion(&app, "2020-03-25").await;
        assert_eq!(report(&app, Role::CityAdmin, "/api/v1/reports/2020-03").await, closed);
        assert_eq!(report(&app, Role::County, "/api/v1/reports/2020-03").await, county_closed);
        let (_, _, second) = bytes(&app, Role::CityAdmin, "/reports/2020-03/xlsx").await;
        assert_eq!(first, second, "the closed period's spreadsheet is the same bytes");
        let april = report(&app, Role::CityAdmin, "/api/v1/reports/2020-04").await;
        let c = &april["corrections"][0];
        assert_eq!((c["period"].as_str(), c["reported"].as_i64(), c["now"].as_i64()), (Some("2020-03"), Some(1), Some(2)), "{april}");
        assert_eq!(program(&april, "P2a")["ytd_person_times"], 2);
        // The spreadsheet opens with its title and figures.
        let (status, _, xlsx) = bytes(&app, Role::CityAdmin, "/reports/2020-04/xlsx").await;
        assert_eq!(status, StatusCode::OK);
        use calamine::Reader;
        let mut wb = calamine::Xlsx::new(std::io::Cursor::new(xlsx)).unwrap();
        let range = wb.worksheet_range("月报").unwrap();
        let text: Vec<String> = range.rows().flat_map(|r| r.iter().map(|c| c.to_string())).collect();
        assert!(text.iter().any(|t| t.contains("2020年4月") && t.contains("月报")), "{text:?}");
        assert!(text.iter().any(|t| t == "P2a"));
        assert!(text.iter().any(|t| t.contains("以前期间更正")));

        // Of eight closings of one period at once, one wins; the others are conflicts.
        let admin: i64 = jineng_store::with_pool!(&app.db, |p| sqlx::query_scalar("SELECT user_id FROM app_user WHERE role = 'city_admin'")
            .fetch_one(p)
            .await
            .unwrap());
        let at = chrono::Utc::now();
        let runs = (0..8).map(|_| {
            let db = app.db.clone();
            tokio::spawn(async move { jineng_store::reports::close(&db, admin, "2020-05", at).await })
        });
        let results = futures_util::future::join_all(runs).await;
        let won = results.iter().filter(|r| r.as_ref().unwrap().is_ok()).count();
        assert_eq!(won, 1, "{results:?}");
        for r in results {
            if let Err(e) = r.unwrap() {
                assert!(matches!(e, jineng_store::StoreError::Conflict(_)), "{e:?}");
            }
        }
    }
}

both_backends! {
    async fn the_years_tasks_add_up_and_are_measured(backend: &'static str) {
        let app = spawn_app(backend).await;
        let form = |v: &'static str, mine: &'static str, other: &'static str| {
            vec![("value", v), ("responsible", "市人社局、各县区人民政府"), ("county.411722", mine), ("county.411729", other)]
        };
        let r = app.page(Some(Role::CityAdmin), Method::POST, "/plan/years/2020/P2a", &form("100", "60", "30"), true).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(r.body.contains("相差 10"), "{}", r.body);
        assert!(r.body.contains("value=\"100\""), "what was typed stays: {}", r.body);
        let r = app.page(Some(Role::CityAdmin), Method::POST, "/plan/years/2020/P2a", &form("100", "abc", "30"), true).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        let r = app.page(Some(Role::CityAdmin), Method::POST, "/plan/years/2030/P2a", &form("100", "70", "30"), true).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "no year outside the plan: {}", r.body);
        let r = app.page(Some(Role::County), Method::POST, "/plan/years/2020/P2a", &form("100", "70", "30"), true).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = app.page(Some(Role::CityAdmin), Method::POST, "/plan/years/2020/P2a", &form("100", "70", "30"), true).await;
        assert!(r.status.is_redirection(), "{} {}", r.status, r.body);

        let city = report(&app, Role::CityAdmin, "/api/v1/reports/2020-03").await;
        assert_eq!((program(&city, "P2a")["year_task"].as_i64(), program(&city, "P2a")["task_pct"].as_str()), (Some(100), Some("1.0")));
        let own = report(&app, Role::County, "/api/v1/reports/2020-03").await;
        assert_eq!((program(&own, "P2a")["year_task"].as_i64(), program(&own, "P2a")["task_pct"].as_str()), (Some(70), Some("1.4")));
        // Per responsible unit (M1): hrss is named for P2 (so for P2a, its sub-program, which
        // names none) and leads it; its one person-time counts once, against P2a's task.
        let unit = |r: &Value, code: &str| r["units"].as_array().unwrap().iter().find(|u| u["department_code"] == code).cloned();
        let hrss = unit(&city, "hrss").expect("hrss is a responsible unit");
        assert!(hrss["programs"].as_array().unwrap().contains(&json!("P2a")), "{hrss}");
        assert!(!hrss["programs"].as_array().unwrap().contains(&json!("P2")), "a parent is counted by its sub-programs: {hrss}");
        assert!(hrss["leads"].as_array().unwrap().contains(&json!("P2a")), "{hrss}");
        assert_eq!((hrss["ytd_person_times"].as_i64(), hrss["year_task"].as_i64(), hrss["task_pct"].as_str()), (Some(1), Some(100), Some("1.0")), "{hrss}");
        let edu = unit(&city, "edu").expect("edu is named for P2 too");
        assert!(!edu["leads"].as_array().unwrap().contains(&json!("P2a")), "{edu}");
        assert_eq!(edu["ytd_person_times"], 1, "{edu}");
        let own_hrss = unit(&own, "hrss").unwrap();
        assert_eq!((own_hrss["year_task"].as_i64(), own_hrss["task_pct"].as_str()), (Some(70), Some("1.4")), "the county's share: {own_hrss}");
        let total: i64 = city["total"]["ytd_person_times"].as_i64().unwrap();
        for u in city["units"].as_array().unwrap() {
            assert!(u["ytd_person_times"].as_i64().unwrap() <= total, "no unit counts a person-time twice: {u}");
        }
        let page = app.page(Some(Role::Department), Method::GET, "/reports/2020-03", &[], false).await;
        assert!(page.body.contains("id=\"units\"") && page.body.contains("本单位"), "the department finds its own line");
        let (status, _, xlsx) = bytes(&app, Role::CityAdmin, "/reports/2020-03/xlsx").await;
        assert_eq!(status, StatusCode::OK);
        use calamine::Reader;
        let mut book: calamine::Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(xlsx)).unwrap();
        let sheet = book.worksheet_range_at(0).unwrap().unwrap();
        let cells: Vec<String> = sheet.rows().flat_map(|r| r.iter().map(|c| c.to_string())).collect();
        assert!(cells.iter().any(|c| c == "三、分责任单位完成情况"), "the sheet has the units' section");
        assert!(cells.iter().any(|c| c == "市人力资源和社会保障局"), "with the units by name");

        let page = app.page(Some(Role::County), Method::GET, "/plan/years/2020", &[], false).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("★"), "the county's own share is marked");
        assert!(!page.body.contains("form-P2a"), "a county sees no form");
    }
}

both_backends! {
    async fn pending_targets_are_proposed_by_the_named_department_and_decided_by_the_city(backend: &'static str) {
        let app = spawn_app(backend).await;
        // P1 is pending; the plan asks the industry department (工信局) to propose it.
        let uid = jineng_store::users::create(&app.db, None, "industry", "市工信局", "correct horse battery", Role::Department, Some("industry"))
            .await
            .unwrap();
        let industry = jineng_store::users::create_api_token(&app.db, uid, "test").await.unwrap();
        let call = |token: String, path: String, body: Value| {
            let app = &app;
            async move {
                let req = Request::builder()
                    .method(Method::POST)
                    .uri(path)
                    .header(header::AUTHORIZATION, format!("Bearer {token}"))
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from(body.to_string()))
                    .unwrap();
                app.send(req).await
            }
        };
        let r = app.api(Some(Role::Department), Method::POST, "/api/v1/programs/P1/proposals", Some(json!({"value": 30000, "reasoning": "测算"}))).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "a department the plan does not ask: {}", r.body);
        let r = call(industry.clone(), "/api/v1/programs/P2a/proposals".into(), json!({"value": 1, "reasoning": "测算"})).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "a target the plan fixes: {}", r.body);
        let r = call(industry.clone(), "/api/v1/programs/P1/proposals".into(), json!({"value": 30000, "reasoning": ""})).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "no reasoning: {}", r.body);
        let r = call(industry.clone(), "/api/v1/programs/P1/proposals".into(), json!({"value": 30000, "reasoning": "按全市规上企业职工数的10%测算"})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let first = r.json()["proposal_id"].as_i64().unwrap();
        let r = call(industry.clone(), "/api/v1/programs/P1/proposals".into(), json!({"value": 31000, "reasoning": "又一版"})).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "one open proposal per department: {}", r.body);

        // Only the city admin decides; with a reason; once.
        let path = format!("/api/v1/proposals/{first}/decision");
        assert_eq!(call(industry.clone(), path.clone(), json!({"decision": "adopt", "reason": "x"})).await.status, StatusCode::FORBIDDEN);
        let r = app.api(Some(Role::CityAdmin), Method::POST, &path, Some(json!({"decision": "return", "reason": ""}))).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        let r = app.api(Some(Role::CityAdmin), Method::POST, &path, Some(json!({"decision": "return", "reason": "请按2019年实际在岗职工数重新测算"}))).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
        let r = app.api(Some(Role::CityAdmin), Method::POST, &path, Some(json!({"decision": "adopt", "reason": "x"}))).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "decided once: {}", r.body);
        let program = app.api(Some(Role::CityAdmin), Method::GET, "/api/v1/programs/P1", None).await.json();
        assert!(program["program"]["target"].is_null(), "a returned proposal sets nothing: {program}");

        let r = call(industry.clone(), "/api/v1/programs/P1/proposals".into(), json!({"value": 28000, "reasoning": "按2019年在岗职工数测算"})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let second = r.json()["proposal_id"].as_i64().unwrap();
        let page = app.page(Some(Role::CityAdmin), Method::POST, &format!("/proposals/{second}/decision"), &[("decision", "adopt"), ("reason", "经市领导小组研究同意"), ("program", "P1")], true).await;
        assert!(page.status.is_redirection(), "{} {}", page.status, page.body);
        let program = app.api(Some(Role::CityAdmin), Method::GET, "/api/v1/programs/P1", None).await.json();
        assert_eq!(program["program"]["target"], 28000, "{program}");
        let changes = jineng_store::plan::target_changes(&app.db, "P1").await.unwrap();
        assert_eq!(changes.len(), 1);
        assert!(changes[0].reason.contains("industry") && changes[0].reason.contains("经市领导小组研究同意"), "{:?}", changes[0]);
        let proposals = jineng_store::plan::proposals(&app.db, "P1").await.unwrap();
        assert_eq!(proposals.iter().map(|p| p.status.as_str()).collect::<Vec<_>>(), ["adopted", "returned"]);
        let page = app.page(Some(Role::CityAdmin), Method::GET, "/programs/P1", &[], false).await;
        assert!(page.body.contains("当前为第 1 版") && page.body.contains("已退回"), "{}", page.body);
        // Every step is in the audit log.
        let audited: i64 = jineng_store::with_pool!(&app.db, |p| sqlx::query_scalar(
            "SELECT COUNT(*) FROM audit_log WHERE action IN ('propose_target', 'adopt_proposal', 'return_proposal', 'set_target')"
        )
        .fetch_one(p)
        .await
        .unwrap());
        assert_eq!(audited, 5);
    }
}

both_backends! {
    async fn t2_and_t3_are_measured_from_the_statistics_and_the_certificates(backend: &'static str) {
        let app = spawn_app(backend).await;
        let form = |employed: &'static str, skilled: &'static str, high: &'static str, source: &'static str| {
            vec![("county", MY_COUNTY), ("year", "2020"), ("employed", employed), ("skilled", skilled), ("high_skilled", high), ("source", source)]
        };
        let r = app.page(Some(Role::CityAdmin), Method::POST, "/skills", &form("1000", "2000", "50", "统计年鉴"), true).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("技能劳动者人数不能多于就业人员"), "{}", r.body);
        let r = app.page(Some(Role::CityAdmin), Method::POST, "/skills", &form("1000", "200", "50", " "), true).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "a source is required");
        let r = app.page(Some(Role::County), Method::POST, "/skills", &form("1000", "200", "50", "统计年鉴"), true).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = app.page(Some(Role::CityAdmin), Method::POST, "/skills", &form("1000", "200", "50", "市统计局《2020年统计年鉴》表3-1"), true).await;
        assert!(r.status.is_redirection(), "{} {}", r.status, r.body);

        let x = report(&app, Role::CityAdmin, "/api/v1/skills/2020").await;
        assert_eq!((x["t2_required"].as_i64(), x["t3_required"].as_i64()), (Some(25), Some(30)));
        let mine = x["counties"].as_array().unwrap().iter().find(|c| c["county_code"] == MY_COUNTY).unwrap();
        assert_eq!((mine["t2_pct"].as_str(), mine["t2_met"].as_bool(), mine["t3_pct"].as_str(), mine["t3_met"].as_bool()), (Some("20.0"), Some(false), Some("25.0"), Some(false)), "{mine}");
        assert!(x["city"]["t2_pct"].is_null(), "not every county has its figures: {}", x["city"]);

        // A level-3 skill certificate of 2020 from the appraisal register (an audited write, as
        // every certificate is: T2/T3 are kept per audited change) adds one skilled and one
        // high-skilled worker.
        let (id_number, name): (String, String) = jineng_store::with_pool!(&app.db, |p| sqlx::query_as(
            "SELECT id_number, name FROM person WHERE person_id = $1"
        )
        .bind(app.my_person)
        .fetch_one(p)
        .await
        .unwrap());
        let row = jineng_store::assessment::RegisteredCertificate {
            id_number,
            name,
            kind: "skill_level".into(),
            occupation_code: "6-31-01-03".into(),
            level: Some(3),
            serial: "T-1".into(),
            issued_on: d("2020-06-01"),
            issuer: "测试".into(),
        };
        let added = jineng_store::assessment::record_from_register(&app.db, None, &[row]).await.unwrap();
        assert_eq!(added.map(|v| v.len()).ok(), Some(1));
        let x = report(&app, Role::CityAdmin, "/api/v1/skills/2020").await;
        let mine = x["counties"].as_array().unwrap().iter().find(|c| c["county_code"] == MY_COUNTY).unwrap();
        assert_eq!((mine["skilled"].as_i64(), mine["high_skilled"].as_i64(), mine["t2_pct"].as_str()), (Some(201), Some(51), Some("20.1")), "{mine}");
        let page = app.page(Some(Role::Auditor), Method::GET, "/skills?year=2020", &[], false).await;
        assert!(page.status == StatusCode::OK && page.body.contains("计算方法") && page.body.contains("市统计局《2020年统计年鉴》表3-1"), "{}", page.body);
        assert_eq!(app.api(Some(Role::CityAdmin), Method::GET, "/api/v1/skills/2040", None).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
}

both_backends! {
    async fn money_is_reported_per_fund_when_granted_published_and_paid(backend: &'static str) {
        let app = spawn_app(backend).await;
        crate::common::certified_class(&app).await;
        let claims = app.api(Some(Role::County), Method::GET, "/api/v1/claims", None).await.json();
        let claim = claims[0]["claim_id"].as_i64().unwrap();
        let month = jineng_store::reports::china_date(chrono::Utc::now()).format("%Y-%m").to_string();
        let fund = |r: &Value| r["funds"].as_array().unwrap().iter().find(|f| f["fund"] == "employment_subsidy_fund").unwrap().clone();
        let f = fund(&report(&app, Role::CityAdmin, &format!("/api/v1/reports/{month}")).await);
        assert_eq!((f["decided_claims"].as_i64(), f["decided_fen"].as_i64(), f["published_fen"].as_i64(), f["paid_fen"].as_i64()), (Some(1), Some(100_000), Some(0), Some(0)), "{f}");
        for action in ["approve", "publish"] {
            let r = app.api(Some(Role::County), Method::POST, &format!("/api/v1/claims/{claim}/actions"), Some(json!({"action": action, "reason": ""}))).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        }
        app.clock.set(app.clock.today() + chrono::Days::new(8));
        let finance = |op: Value| app.api(Some(Role::Finance), Method::POST, "/api/v1/payments", Some(op));
        assert_eq!(finance(json!({"op": "allocate", "fund": "employment_subsidy_fund", "amount_fen": 150_000, "note": "驻财社〔2021〕12号"})).await.status, StatusCode::OK);
        let batch = finance(json!({"op": "create_batch", "fund": "employment_subsidy_fund"})).await.json()["batch"]["batch_id"].clone();
        assert_eq!(finance(json!({"op": "approve_batch", "batch_id": batch})).await.status, StatusCode::OK);
        let f = fund(&report(&app, Role::CityAdmin, &format!("/api/v1/reports/{month}")).await);
        assert_eq!((f["published_claims"].as_i64(), f["published_fen"].as_i64(), f["paid_claims"].as_i64(), f["paid_fen"].as_i64()), (Some(1), Some(100_000), Some(1), Some(100_000)), "{f}");
        // The county's report holds its own claims; another county's holds none.
        let own = fund(&report(&app, Role::County, &format!("/api/v1/reports/{month}")).await);
        assert_eq!(own["paid_fen"], 100_000);
        let other = fund(&report(&app, Role::CityAdmin, &format!("/api/v1/reports/{month}?county={OTHER_COUNTY}")).await);
        assert_eq!((other["decided_fen"].as_i64(), other["paid_fen"].as_i64()), (Some(0), Some(0)));
        // Certificates issued in May 2021 by kind and level.
        let may = report(&app, Role::CityAdmin, "/api/v1/reports/2021-05").await;
        let issued: i64 = may["certificates"].as_array().unwrap().iter().map(|c| c["count"].as_i64().unwrap()).sum();
        assert_eq!(issued, 1, "{}", may["certificates"]);
    }
}

both_backends! {
    async fn the_statistics_are_imported_from_a_sheet_all_rows_or_none(backend: &'static str) {
        let app = spawn_app(backend).await;
        let header = "县区代码 county code,年度 year,就业人员 employed,技能劳动者 skilled workers,高技能人才 high-skilled workers,数据来源 source\n";
        let send = |body: String| {
            let req = Request::builder()
                .method(Method::POST)
                .uri("/api/v1/registers/statistics")
                .header(header::AUTHORIZATION, format!("Bearer {}", app.tokens[&Role::CityAdmin]))
                .header(header::CONTENT_TYPE, "text/csv")
                .body(Body::from(body))
                .unwrap();
            app.send(req)
        };
        // One wrong row (more skilled than employed; an unknown county): nothing lands.
        let bad = format!("{header}{MY_COUNTY},2020,1000,200,50,统计年鉴\n{OTHER_COUNTY},2020,1000,2000,50,统计年鉴\n999999,2020,10,1,0,统计年鉴\n");
        let r = send(bad).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        let errors = r.json()["errors"].clone();
        assert!(errors.as_array().unwrap().iter().any(|e| e["row"] == 3 && e["column"].as_str().unwrap().starts_with('D')), "{errors}");
        assert!(errors.as_array().unwrap().iter().any(|e| e["row"] == 4 && e["column"].as_str().unwrap().starts_with('A')), "{errors}");
        let x = report(&app, Role::CityAdmin, "/api/v1/skills/2020").await;
        assert!(x["counties"].as_array().unwrap().iter().all(|c| c["employed"].is_null()), "nothing landed");
        let good = format!("{header}{MY_COUNTY},2020,1000,200,50,统计年鉴表3-1\n{OTHER_COUNTY},2020,\"2,000\",600,200,统计年鉴表3-1\n");
        let r = send(good).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert_eq!(r.json()["recorded"], 2);
        let x = report(&app, Role::CityAdmin, "/api/v1/skills/2020").await;
        let other = x["counties"].as_array().unwrap().iter().find(|c| c["county_code"] == OTHER_COUNTY).unwrap();
        assert_eq!((other["t2_pct"].as_str(), other["t3_pct"].as_str()), (Some("30.0"), Some("33.3")), "{other}");
        let (status, _, template) = bytes(&app, Role::CityAdmin, "/registers/statistics/template.xlsx").await;
        assert_eq!(status, StatusCode::OK);
        assert!(template.starts_with(b"PK"));
    }
}
