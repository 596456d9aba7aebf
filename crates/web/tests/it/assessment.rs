//! Assessments and certificates on both backends.

use crate::common;

use crate::common::{id_number, spawn_app, TestApp, MY_COUNTY, OTHER_COUNTY};
use axum::http::{Method, StatusCode};
use jineng_domain::Role;
use jineng_store::testing::both_backends;
use serde_json::json;

async fn approved_class(app: &TestApp) -> i64 {
    let roster = json!([{"id_number": id_number(MY_COUNTY, 11), "name": "李娜"}, {"id_number": id_number(OTHER_COUNTY, 12), "name": "李娜"}]);
    common::applied_class(app, roster, true).await
}

both_backends! {
    async fn a_pass_completes_the_training_and_issues_a_certificate_with_a_serial_unique_per_body(backend: &'static str) {
        let app = spawn_app(backend).await;
        let class = approved_class(&app).await;
        let path = format!("/api/v1/classes/{class}/assessments");
        let before = app.api(Some(Role::CityAdmin), Method::GET, "/api/v1/programs/P4a", None).await.json()["program"]
            ["done"]["person_times"]
            .as_i64()
            .unwrap();
        let pass = |id: String, serial: &str| {
            app.api(Some(Role::AssessmentBody), Method::POST, &path, Some(json!({"id_number": id, "assessed_on": "2021-05-15", "score": 86, "passed": true, "kind": "skill_level", "serial": serial})))
        };
        let r = pass(id_number(MY_COUNTY, 11), "ZMD-2021-000123").await;
        assert_eq!(r.status, StatusCode::CREATED, "{backend}: {}", r.body);
        assert!(r.json()["certificate_id"].is_i64());
        assert_eq!(
            pass(id_number(MY_COUNTY, 11), "ZMD-2021-000124").await.status,
            StatusCode::CONFLICT,
            "assessed once"
        );
        assert_eq!(
            pass(id_number(OTHER_COUNTY, 12), "ZMD-2021-000123").await.status,
            StatusCode::CONFLICT,
            "serial unique per body"
        );
        let after = app.api(Some(Role::CityAdmin), Method::GET, "/api/v1/programs/P4a", None).await.json()["program"]
            ["done"]["person_times"]
            .as_i64()
            .unwrap();
        assert_eq!(after, before + 1, "a pass is a person-time");
        let me =
            app.api(Some(Role::Worker), Method::GET, &format!("/api/v1/people/{}", app.my_person), None).await.json();
        let cert = &me["certificates"][0];
        assert_eq!(
            (cert["serial"].as_str(), cert["level"].as_i64(), cert["issued_on"].as_str()),
            (Some("ZMD-2021-000123"), Some(5), Some("2021-05-15"))
        );
        // A fail records the result, no certificate, no person-time.
        let r = app.api(Some(Role::AssessmentBody), Method::POST, &path, Some(json!({"id_number": id_number(OTHER_COUNTY, 12), "assessed_on": "2021-05-15", "score": 40, "passed": false}))).await;
        assert_eq!(r.status, StatusCode::CREATED);
        assert!(r.json()["certificate_id"].is_null());
        let again = app.api(Some(Role::CityAdmin), Method::GET, "/api/v1/programs/P4a", None).await.json()["program"]
            ["done"]["person_times"]
            .as_i64()
            .unwrap();
        assert_eq!(again, after);
        // The provider cannot issue certificates.
        assert_eq!(
            app.api(
                Some(Role::Provider),
                Method::POST,
                &path,
                Some(json!({"id_number": id_number(MY_COUNTY, 11), "assessed_on": "2021-05-15", "passed": true}))
            )
            .await
            .status,
            StatusCode::FORBIDDEN
        );
        let page = app.page(Some(Role::Worker), Method::GET, &format!("/people/{}", app.my_person), &[], false).await;
        assert!(page.body.contains("ZMD-2021-000123") && page.body.contains("职业技能等级证书"));
    }
}

both_backends! {
    async fn an_unlisted_body_or_an_unapproved_class_cannot_assess(backend: &'static str) {
        let app = spawn_app(backend).await;
        let class = approved_class(&app).await;
        let path = format!("/api/v1/classes/{class}/assessments");
        let r = app.api(Some(Role::AssessmentBody), Method::POST, &path, Some(json!({"id_number": id_number(MY_COUNTY, 11), "assessed_on": "2021-05-01", "passed": true, "kind": "skill_level", "serial": "X1"}))).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}: before the class started");
        let r = app.api(Some(Role::AssessmentBody), Method::POST, &path, Some(json!({"id_number": id_number(MY_COUNTY, 11), "assessed_on": "2021-05-15", "passed": true, "kind": "bogus", "serial": "X1"}))).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        let bodies = app.api(Some(Role::CityAdmin), Method::GET, "/api/v1/orgs/assessment-bodies", None).await.json();
        let mut body = bodies[0].clone();
        let id = body["id"].as_i64().unwrap();
        body["status"] = json!("suspended");
        app.api(Some(Role::CityAdmin), Method::PUT, &format!("/api/v1/orgs/assessment-bodies/{id}"), Some(body)).await;
        let r = app.api(Some(Role::AssessmentBody), Method::POST, &path, Some(json!({"id_number": id_number(MY_COUNTY, 11), "assessed_on": "2021-05-15", "passed": true, "kind": "skill_level", "serial": "X1"}))).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("不在目录"));
    }
}

both_backends! {
    async fn only_the_body_a_class_names_assesses_it(backend: &'static str) {
        let app = spawn_app(backend).await;
        // An application must name a listed assessment body.
        let project = common::catalog_project(&app).await;
        let mut body = common::application(project, json!([{"id_number": id_number(MY_COUNTY, 11), "name": "李娜"}]), "2021-05-10", "2021-05-14");
        body["assessment_body_credit_code"] = json!(null);
        let r = app.api(Some(Role::Provider), Method::POST, "/api/v1/classes", Some(body.clone())).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}: {}", r.body);
        assert!(r.json()["error"]["fields"]["assessment_body_credit_code"].is_string(), "{}", r.body);
        // The class names the test body; another listed body is refused.
        let class = approved_class(&app).await;
        let other = jineng_store::orgs::create(
            &app.db,
            None,
            jineng_store::orgs::OrgKind::AssessmentBody,
            &jineng_store::orgs::OrgInput {
                credit_code: jineng_domain::CreditCode::generate(jineng_domain::AreaCode::parse(MY_COUNTY).unwrap(), 88).to_string(),
                legacy: false,
                name: "别的评价机构".into(),
                county_code: MY_COUNTY.into(),
                kind: None,
                insured: false,
                status: None,
            },
        )
        .await
        .unwrap();
        let uid = jineng_store::users::create(&app.db, None, "other-body", "别的评价机构", "correct horse battery", Role::AssessmentBody, Some(&other.to_string()))
            .await
            .unwrap();
        let token = jineng_store::users::create_api_token(&app.db, uid, "t").await.unwrap();
        let req = axum::http::Request::builder()
            .method(Method::POST)
            .uri(format!("/api/v1/classes/{class}/assessments"))
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .body(axum::body::Body::from(json!({"id_number": id_number(MY_COUNTY, 11), "assessed_on": "2021-05-15", "score": 90, "passed": true, "kind": "skill_level", "serial": "X-1"}).to_string()))
            .unwrap();
        let r = app.send(req).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}: {}", r.body);
        assert!(r.body.contains("指定的评价机构"), "{}", r.body);
        // The named body assesses it.
        let r = app
            .api(Some(Role::AssessmentBody), Method::POST, &format!("/api/v1/classes/{class}/assessments"),
                 Some(json!({"id_number": id_number(MY_COUNTY, 11), "assessed_on": "2021-05-15", "score": 90, "passed": true, "kind": "skill_level", "serial": "X-2"})))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{backend}: {}", r.body);
        let page = app.page(Some(Role::County), Method::GET, &format!("/classes/{class}"), &[], false).await;
        assert!(page.body.contains("上蔡县职业技能评价中心"), "{backend}: the class page names its body");
    }
}

both_backends! {
    async fn an_assessment_body_records_each_trainees_result_on_the_roster(backend: &'static str) {
        let app = spawn_app(backend).await;
        let class = approved_class(&app).await;
        let rows = jineng_store::training::enrolments(&app.db, class).await.unwrap();
        let mine = rows.iter().find(|(_, p)| *p == app.my_person).unwrap().0;
        let other = rows.iter().find(|(_, p)| *p != app.my_person).unwrap().0;
        app.clock.set("2021-05-15".parse().unwrap());
        let page_path = format!("/classes/{class}");
        let page = app.page(Some(Role::AssessmentBody), Method::GET, &page_path, &[], false).await;
        assert!(page.body.contains(&format!("name=\"enrolment_id\" value=\"{mine}\"")), "{backend}: a result form per row");
        assert!(page.body.contains("value=\"2021-05-15\""), "{backend}: dated today");
        assert!(!page.body.contains(&id_number(MY_COUNTY, 11)), "{backend}: no full ID number on the page");
        let path = format!("/classes/{class}/assessments");
        let post = |form: Vec<(&'static str, String)>| {
            let path = path.clone();
            let app = &app;
            async move {
                let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
                app.page(Some(Role::AssessmentBody), Method::POST, &path, &form, true).await
            }
        };
        // A pass needs its certificate's serial; the page says so and nothing is recorded.
        let r = post(vec![("enrolment_id", mine.to_string()), ("result", "pass".into()), ("kind", "skill_level".into()), ("serial", "".into())]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}");
        assert!(r.body.contains("证书编号"), "{backend}: {}", r.body);
        let r = post(vec![("enrolment_id", mine.to_string()), ("result", "pass".into()), ("score", "88".into()), ("kind", "skill_level".into()), ("serial", "R-1".into())]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{backend}: {}", r.body);
        let r = post(vec![("enrolment_id", other.to_string()), ("result", "fail".into()), ("assessed_on", "2021-05-15".into())]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{backend}: {}", r.body);
        let me = app.api(Some(Role::Worker), Method::GET, &format!("/api/v1/people/{}", app.my_person), None).await.json();
        assert_eq!((me["certificates"][0]["serial"].as_str(), me["certificates"][0]["issued_on"].as_str()), (Some("R-1"), Some("2021-05-15")));
        let claims = app.api(Some(Role::Worker), Method::GET, "/api/v1/claims", None).await.json();
        assert!(!claims.as_array().unwrap().is_empty(), "{backend}: the certificate brings its claims");
        let page = app.page(Some(Role::AssessmentBody), Method::GET, &page_path, &[], false).await;
        assert!(page.body.contains("合格 passed") && page.body.contains("R-1") && page.body.contains("不合格 failed"), "{backend}");
        assert!(!page.body.contains("class=\"row-form assess\""), "{backend}: nothing left to record");
        // Once per trainee; an enrolment of another class is not this class's.
        let r = post(vec![("enrolment_id", other.to_string()), ("result", "pass".into()), ("kind", "skill_level".into()), ("serial", "R-2".into())]).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{backend}");
        let foreign = jineng_store::with_pool!(&app.db, |p| sqlx::query_scalar::<_, i64>("SELECT enrolment_id FROM enrolment WHERE class_id <> $1 LIMIT 1")
            .bind(class)
            .fetch_one(p)
            .await
            .unwrap());
        let r = post(vec![("enrolment_id", foreign.to_string()), ("result", "fail".into())]).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{backend}");
        let results = jineng_store::with_pool!(&app.db, |p| sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM assessment")
            .fetch_one(p)
            .await
            .unwrap());
        assert_eq!(results, 2, "{backend}: two results, no more");
    }
}

both_backends! {
    async fn an_assessment_body_sees_only_the_classes_that_name_it(backend: &'static str) {
        let app = spawn_app(backend).await;
        let class = approved_class(&app).await;
        // A second listed body, with its own user.
        let other = jineng_store::orgs::create(
            &app.db,
            None,
            jineng_store::orgs::OrgKind::AssessmentBody,
            &jineng_store::orgs::OrgInput {
                credit_code: jineng_domain::CreditCode::generate(jineng_domain::AreaCode::parse(MY_COUNTY).unwrap(), 4242).to_string(),
                legacy: false,
                name: "驿城区另一评价中心".into(),
                county_code: MY_COUNTY.into(),
                kind: None,
                insured: false,
                status: None,
            },
        )
        .await
        .unwrap();
        let uid = jineng_store::users::create(&app.db, None, "body2", "另一评价中心", "correct horse battery", Role::AssessmentBody, Some(&other.to_string()))
            .await
            .unwrap();
        let token = jineng_store::users::create_api_token(&app.db, uid, "t").await.unwrap();
        let get = |path: String| {
            let req = axum::http::Request::builder()
                .uri(path)
                .header(axum::http::header::AUTHORIZATION, format!("Bearer {token}"))
                .body(axum::body::Body::empty())
                .unwrap();
            app.send(req)
        };
        let r = get(format!("/api/v1/classes/{class}")).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "another body's class and roster stay hidden: {}", r.body);
        let r = get("/api/v1/classes".into()).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(!r.body.contains(&format!("\"class_id\":{class}")), "{}", r.body);
        // The body the class names sees it.
        let r = app.api(Some(Role::AssessmentBody), Method::GET, &format!("/api/v1/classes/{class}"), None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
}
