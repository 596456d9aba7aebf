//! Claims prepared when a certificate is issued, decided by the policy engine, on both backends.

use crate::common;

use crate::common::spawn_app;
use axum::http::Method;
use jineng_domain::Role;
use jineng_store::testing::both_backends;
use serde_json::json;

both_backends! {
    async fn a_certificate_from_a_subsidised_class_brings_a_decided_claim_once(backend: &'static str) {
        let app = spawn_app(backend).await;
        common::certified_class(&app).await;
        let claims = app.api(Some(Role::CityAdmin), Method::GET, "/api/v1/claims", None).await.json();
        assert_eq!(claims.as_array().unwrap().len(), 1, "{backend}");
        let c = &claims[0];
        assert_eq!(
            (c["kind"].as_str(), c["outcome"].as_str(), c["amount_fen"].as_i64()),
            (Some("training_subsidy"), Some("approved"), Some(100_000))
        );
        let decision: serde_json::Value = serde_json::from_str(c["decision"].as_str().unwrap()).unwrap();
        assert!(decision["clauses"].as_array().unwrap().contains(&json!("S12")));
        assert!(decision["parameters"][0]["source"].is_string());
        // The snapshot it was decided from is kept and is itself a valid case.
        let snapshot = jineng_store::claims::snapshot(&app.db, c["claim_id"].as_i64().unwrap()).await.unwrap();
        assert!(jineng_policy::parse(&snapshot).is_ok());
        // The worker sees their own claim; preparing it again (twice at once) files nothing new.
        let mine = app.api(Some(Role::Worker), Method::GET, "/api/v1/claims", None).await.json();
        assert_eq!(mine.as_array().unwrap().len(), 1);
        let person =
            app.api(Some(Role::Worker), Method::GET, &format!("/api/v1/people/{}", app.my_person), None).await.json();
        let cert = person["certificates"][0]["certificate_id"].as_i64().unwrap();
        let certs = [(app.my_person, cert)];
        let (a, b) = tokio::join!(
            jineng_store::claims::prepare::for_certificates(&app.db, None, &certs),
            jineng_store::claims::prepare::for_certificates(&app.db, None, &certs)
        );
        assert_eq!(a.unwrap(), b.unwrap());
        let all = app.api(Some(Role::CityAdmin), Method::GET, "/api/v1/claims", None).await.json();
        assert_eq!(all.as_array().unwrap().len(), 1, "{backend}: one claim however often it is filed");
        // A provider sees only its own (project) claims: none here.
        let theirs = app.api(Some(Role::Provider), Method::GET, "/api/v1/claims", None).await.json();
        assert_eq!(theirs.as_array().unwrap().len(), 0, "{backend}");
        let page = app.page(Some(Role::County), Method::GET, "/claims", &[], false).await;
        assert!(page.body.contains("职业培训补贴") && page.body.contains("¥1,000.00"));
    }
}

both_backends! {
    async fn an_enterprise_files_the_advance_of_its_own_project_based_training(backend: &'static str) {
        // S9: project-based training "by enterprises or providers": the 50 % advance is paid to
        // the enterprise whose people the class trains; one advance per project whoever files.
        let app = spawn_app(backend).await;
        let employer = jineng_domain::CreditCode::generate(jineng_domain::AreaCode::parse(common::MY_COUNTY).unwrap(), 79).to_string();
        let mut application = common::application(
            common::catalog_project(&app).await,
            json!([{"id_number": common::id_number(common::MY_COUNTY, 11), "name": "李娜"}]),
            "2021-05-10",
            "2021-05-14",
        );
        application["project_based"] = json!(true);
        application["contract_fen"] = json!(100_000);
        application["kind"] = json!("pre_job");
        application["employer_credit_code"] = json!(employer);
        let r = app.api(Some(Role::Provider), Method::POST, "/api/v1/classes", Some(application)).await;
        assert_eq!(r.status, axum::http::StatusCode::CREATED, "{}", r.body);
        let class = r.json()["id"].as_i64().unwrap();
        let r = app.api(Some(Role::County), Method::POST, &format!("/api/v1/classes/{class}/actions"), Some(json!({"action": "approve"}))).await;
        assert_eq!(r.status, axum::http::StatusCode::OK, "{}", r.body);
        let advance = json!({"kind": "project_training", "class_id": class, "contract_fen": 100_000, "stage": "advance"});
        let r = app.api_keyed(Role::Employer, "/api/v1/claims", "e-adv", advance.clone()).await;
        assert_eq!(r.status, axum::http::StatusCode::CREATED, "{}", r.body);
        let c = &r.json()["claim"];
        assert_eq!(c["outcome"], "approved", "{c}");
        assert_eq!(c["amount_fen"], 50_000, "{c}");
        assert!(c["payee"].as_str().unwrap().contains(&employer), "paid to the enterprise: {c}");
        // The provider's advance for the same project is the second one: refused.
        let r = app.api_keyed(Role::Provider, "/api/v1/claims", "p-adv", advance).await;
        assert_eq!(r.json()["claim"]["outcome"], "rejected", "{}", r.body);
        // Its page says which rule refused it, in words, with the clause.
        let id = r.json()["claim"]["claim_id"].as_i64().unwrap();
        let page = app.page(Some(Role::CityAdmin), Method::GET, &format!("/claims/{id}"), &[], false).await.body;
        let refused = &page[page.find(r#"data-rule="s9_one_advance" data-passed="false""#).expect("the refusing rule is listed")..];
        assert!(refused[..refused.find("</tr>").unwrap()].contains("每个项目只先行拨付一次"), "{backend}: {refused}");
        assert!(refused.contains("S9") && refused.contains("未通过"), "{backend}");
    }
}

both_backends! {
    async fn a_claims_page_traces_each_rule_and_names_each_parameter_in_words(backend: &'static str) {
        let app = spawn_app(backend).await;
        common::certified_class(&app).await;
        let claims = app.api(Some(Role::County), Method::GET, "/api/v1/claims", None).await.json();
        let id = claims[0]["claim_id"].as_i64().unwrap();
        for role in [Role::County, Role::Worker] {
            let page = app.page(Some(role), Method::GET, &format!("/claims/{id}"), &[], false).await;
            assert_eq!(page.status, axum::http::StatusCode::OK, "{backend}: {role:?}");
            let body = &page.body;
            let trace = &body[body.find(r#"id="trace""#).expect("a trace")..body.find(r#"id="parameters""#).unwrap()];
            // Every rule of a training subsidy, each passed, in words with its clause.
            for (rule, words, clause) in [
                ("s12_in_system", "补贴培训进系统", "S12"),
                ("s8_no_monthly_pension", "不具有按月领取养老金资格", "S8"),
                ("s7_yearly_cap", "每人每年享受次数不超过上限", "S7"),
                ("s7_same_occupation_level", "同一职业同一等级不重复享受", "S7"),
            ] {
                let at = trace.find(&format!(r#"data-rule="{rule}" data-passed="true""#)).unwrap_or_else(|| panic!("{backend}: {rule} in {trace}"));
                let row = &trace[at..];
                let row = &row[..row.find("</tr>").unwrap()];
                assert!(row.contains(words) && row.contains(&format!("<b>{clause}</b>")) && row.contains("通过"), "{backend}: {row}");
            }
            assert!(!trace.contains("未通过"), "{backend}: nothing failed");
            // Parameters by name, in yuan, with the date or the catalog as their origin; no keys.
            let params = &body[body.find(r#"id="parameters""#).unwrap()..];
            let params = &params[..params.find("</table>").unwrap()];
            assert!(params.contains("目录公布的补贴项目标准") && params.contains("¥1,000.00"), "{backend}: {params}");
            assert!(params.contains("每人每年证书类培训补贴次数上限") && params.contains("3次"), "{backend}: {params}");
            for raw in ["subsidy_project_fen", "certificate_subsidies_per_year", "100000"] {
                assert!(!body.contains(raw), "{backend}: {role:?} sees {raw}");
            }
        }
    }
}

both_backends! {
    async fn a_catalog_projects_published_standard_is_what_its_certificates_are_paid(backend: &'static str) {
        // M2: the subsidised project the catalog publishes (家政服务员 level 5, 880 yuan) is what
        // a level-5 certificate of its class earns, and the decision says where the figure is from.
        let app = spawn_app(backend).await;
        let r = app
            .api(Some(Role::CityAdmin), Method::POST, "/api/v1/catalog/projects", Some(json!({"occupation_code": "4-10-01-06", "level": 5, "class_hours": 80, "subsidy_fen": 88_000})))
            .await;
        assert_eq!(r.status, axum::http::StatusCode::CREATED, "{}", r.body);
        let project = r.json()["id"].as_i64().unwrap();
        let id = common::id_number(common::MY_COUNTY, 11);
        let r = app
            .api(Some(Role::Provider), Method::POST, "/api/v1/classes", Some(common::application(project, json!([{"id_number": id, "name": "李娜"}]), "2021-05-10", "2021-05-14")))
            .await;
        assert_eq!(r.status, axum::http::StatusCode::CREATED, "{}", r.body);
        let class = r.json()["id"].as_i64().unwrap();
        let r = app.api(Some(Role::County), Method::POST, &format!("/api/v1/classes/{class}/actions"), Some(json!({"action": "approve"}))).await;
        assert_eq!(r.status, axum::http::StatusCode::OK, "{}", r.body);
        let r = app
            .api(Some(Role::AssessmentBody), Method::POST, &format!("/api/v1/classes/{class}/assessments"), Some(json!({"id_number": id, "assessed_on": "2021-05-15", "score": 90, "passed": true, "kind": "skill_level", "serial": "C-88"})))
            .await;
        assert_eq!(r.status, axum::http::StatusCode::CREATED, "{}", r.body);
        let claims = app.api(Some(Role::CityAdmin), Method::GET, "/api/v1/claims", None).await.json();
        let c = claims.as_array().unwrap().iter().find(|c| c["kind"] == "training_subsidy").expect("a training subsidy");
        assert_eq!(c["amount_fen"], 88_000, "{c}");
        assert!(c["decision"].as_str().unwrap().contains("catalog.subsidy_project_fen"), "{c}");
    }
}

both_backends! {
    /// Subsidies granted before the system count like any other: six on-the-job months recorded
    /// from the bureau's records leave none for a new filing. Only the city admin records them.
    /// A worker files for a certificate of her own, and for no one else's.
    async fn grants_from_before_count_and_workers_file_for_themselves(backend: &'static str) {
        let app = spawn_app(backend).await;
        jineng_store::people::add_group(&app.db, None, app.my_person, "poor_worker", "2019-01-01".parse().unwrap())
            .await
            .unwrap();
        common::certified_class(&app).await;
        let employer = jineng_domain::CreditCode::generate(jineng_domain::AreaCode::parse(common::MY_COUNTY).unwrap(), 79).to_string();
        let grant = json!({"kind": "on_the_job", "id_number": common::id_number(common::MY_COUNTY, 11), "name": "李娜", "employer_code": employer,
                           "months": 6, "granted_on": "2020-06-30", "amount_fen": 120_000});
        let r = app.api_keyed(Role::County, "/api/v1/claims/granted-before", "g1", grant.clone()).await;
        assert_eq!(r.status, axum::http::StatusCode::FORBIDDEN, "{}", r.body);
        let r = app.api_keyed(Role::CityAdmin, "/api/v1/claims/granted-before", "g1", grant.clone()).await;
        assert_eq!(r.status, axum::http::StatusCode::CREATED, "{backend}: {}", r.body);
        let first = r.json()["claim"].clone();
        assert_eq!(first["status"], "paid", "{first}");
        assert!(first["decision"].as_str().unwrap().contains("imported"), "{first}");
        let r = app.api_keyed(Role::CityAdmin, "/api/v1/claims/granted-before", "g1", grant).await;
        assert_eq!(r.status, axum::http::StatusCode::OK, "a repeat is the same record: {}", r.body);
        assert_eq!(r.json()["claim"]["claim_id"], first["claim_id"]);
        // The six months were paid: a new filing gets nothing.
        let filing = json!({"kind": "on_the_job", "id_number": common::id_number(common::MY_COUNTY, 11), "name": "李娜", "employed_from": "2020-01-01", "from": "2020-09-01", "months": 6});
        let r = app.api_keyed(Role::Employer, "/api/v1/claims", "otj", filing).await;
        assert_eq!(r.status, axum::http::StatusCode::CREATED, "{}", r.body);
        assert_eq!(r.json()["claim"]["amount_fen"], 0, "{backend}: {}", r.body);
        // The worker's own certificate: filed by her (already paid with the certificate: nothing
        // more); another's certificate: refused at the field.
        let me = app.api(Some(Role::Worker), Method::GET, &format!("/api/v1/people/{}", app.my_person), None).await.json();
        let cert = me["certificates"][0]["certificate_id"].as_i64().expect("her certificate");
        let r = app.api_keyed(Role::Worker, "/api/v1/claims", "mine", json!({"kind": "training_subsidy", "certificate_id": cert})).await;
        assert_eq!(r.status, axum::http::StatusCode::CREATED, "{backend}: {}", r.body);
        assert_eq!(r.json()["claim"]["amount_fen"], 0, "paid once only: {}", r.body);
        let r = app.api_keyed(Role::Worker, "/api/v1/claims", "other", json!({"kind": "training_subsidy", "certificate_id": cert + 1000})).await;
        assert_eq!(r.status, axum::http::StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(r.body.contains("certificate_id"), "{}", r.body);
        let r = app.api_keyed(Role::Worker, "/api/v1/claims", "otj", json!({"kind": "on_the_job", "months": 6})).await;
        assert_eq!(r.status, axum::http::StatusCode::UNPROCESSABLE_ENTITY, "a worker files her own subsidies only: {}", r.body);
    }
}
