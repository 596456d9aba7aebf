//! Class applications and review on both backends: S12 made real.

use crate::common;

use crate::common::{id_number, spawn_app, TestApp, MY_COUNTY, OTHER_COUNTY};
use axum::http::{Method, StatusCode};
use jineng_domain::Role;
use jineng_store::testing::both_backends;
use serde_json::{json, Value};

async fn project(app: &TestApp) -> i64 {
    common::catalog_project(app).await
}

fn application(project: i64, roster: Value, start: &str, end: &str) -> Value {
    let mut body = common::application(project, roster, start, end);
    body["capacity"] = json!(40);
    body
}

fn roster() -> Value {
    json!([{"id_number": id_number(MY_COUNTY, 11), "name": "李娜"}, {"id_number": id_number(OTHER_COUNTY, 12), "name": "李娜"}])
}

async fn classes_count(app: &TestApp) -> usize {
    app.api(Some(Role::CityAdmin), Method::GET, "/api/v1/classes", None).await.json().as_array().unwrap().len()
}

both_backends! {
    async fn a_provider_applies_and_the_county_approves_with_who_when_and_why(backend: &'static str) {
        let app = spawn_app(backend).await;
        let p = project(&app).await;
        let r = app
            .api(
                Some(Role::Provider),
                Method::POST,
                "/api/v1/classes",
                Some(application(p, roster(), "2021-05-10", "2021-05-28")),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{backend}: {}", r.body);
        let id = r.json()["id"].as_i64().unwrap();
        let class = app.api(Some(Role::County), Method::GET, &format!("/api/v1/classes/{id}"), None).await.json();
        assert_eq!((class["status"].as_str(), class["enrolled"].as_i64()), (Some("submitted"), Some(2)));
        // Completions do not count before approval (S12).
        let enrolment = jineng_store::training::enrolments(&app.db, id).await.unwrap()[0].0;
        let refused = jineng_store::training::complete(&app.db, None, enrolment, "2021-05-28".parse().unwrap())
            .await
            .unwrap_err();
        assert!(matches!(refused, jineng_store::StoreError::Invalid { .. }), "{refused:?}");
        // The provider cannot approve its own class; returning needs a reason.
        let path = format!("/api/v1/classes/{id}/actions");
        let act = |role, action: &str, reason: &str| {
            app.api(Some(role), Method::POST, &path, Some(json!({"action": action, "reason": reason})))
        };
        assert_eq!(act(Role::Provider, "approve", "").await.status, StatusCode::FORBIDDEN);
        assert_eq!(act(Role::County, "return", " ").await.status, StatusCode::UNPROCESSABLE_ENTITY);
        let r = act(Role::County, "return", "师资证明缺失").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(
            act(Role::County, "approve", "").await.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "a returned class must be resubmitted first"
        );
        assert_eq!(act(Role::Provider, "resubmit", "已补充师资证明").await.status, StatusCode::OK);
        let r = act(Role::County, "approve", "材料齐全").await;
        assert_eq!(r.status, StatusCode::OK);
        let events = r.json();
        let trail: Vec<(String, String)> = events
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["to_status"].as_str().unwrap().to_owned(), e["actor"].as_str().unwrap_or("").to_owned()))
            .collect();
        assert_eq!(
            trail,
            vec![
                ("submitted".into(), "provider".into()),
                ("returned".into(), "county".into()),
                ("submitted".into(), "provider".into()),
                ("approved".into(), "county".into()),
            ],
            "{backend}"
        );
        assert_eq!(events[1]["reason"], "师资证明缺失");
        jineng_store::training::complete(&app.db, None, enrolment, "2021-05-28".parse().unwrap()).await.unwrap();
    }
}

both_backends! {
    async fn every_wrong_roster_row_is_named_and_nothing_is_written(backend: &'static str) {
        let app = spawn_app(backend).await;
        let p = project(&app).await;
        let before = classes_count(&app).await;
        let mut bad_check = id_number(MY_COUNTY, 11);
        let last = bad_check.pop().unwrap();
        bad_check.push(if last == '1' { '2' } else { '1' });
        let rows = json!([
            {"id_number": bad_check, "name": "李娜"},
            {"id_number": id_number(MY_COUNTY, 500), "name": "无名"},
            {"id_number": id_number(OTHER_COUNTY, 12), "name": "张冠"},
            {"id_number": id_number(MY_COUNTY, 11), "name": "李娜"},
            {"id_number": id_number(MY_COUNTY, 11), "name": "李娜"},
        ]);
        let r = app
            .api(
                Some(Role::Provider),
                Method::POST,
                "/api/v1/classes",
                Some(application(p, rows, "2021-05-10", "2021-05-28")),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}");
        let f = r.json()["error"]["fields"].clone();
        assert!(f["roster[1]"].as_str().unwrap().contains("校验码错误"), "{f}");
        // An unknown number and a known number under another name get the same answer (no oracle).
        assert!(f["roster[2]"].as_str().unwrap().contains("不在实名登记中"), "{f}");
        assert_eq!(f["roster[2]"].as_str().unwrap().replace("第2行", "第3行").replace("row 2", "row 3"), f["roster[3]"].as_str().unwrap(), "{f}");
        assert!(f["roster[4]"].is_null(), "row 4 is right");
        assert!(f["roster[5]"].as_str().unwrap().contains("重复"));
        assert_eq!(classes_count(&app).await, before, "nothing written");
        // Someone already in a class at the same time (the fixture's class of March 2020).
        let r = app
            .api(
                Some(Role::Provider),
                Method::POST,
                "/api/v1/classes",
                Some(application(p, roster(), "2020-03-15", "2020-04-10")),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.json()["error"]["fields"]["roster[1]"].as_str().unwrap().contains("同一时间"));
    }
}

both_backends! {
    async fn an_unlisted_provider_or_an_occupation_outside_the_catalog_is_refused(backend: &'static str) {
        let app = spawn_app(backend).await;
        let p = project(&app).await;
        let mut body = application(p, roster(), "2021-05-10", "2021-05-28");
        body["subsidised"] = json!(false);
        body["occupation_code"] = json!("9-99-99-99");
        let r = app.api(Some(Role::Provider), Method::POST, "/api/v1/classes", Some(body)).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}");
        assert!(r.json()["error"]["fields"]["occupation_code"].is_string());
        let mut body = application(p, roster(), "2021-05-10", "2021-05-28");
        body["subsidy_project_id"] = json!(null);
        let r = app.api(Some(Role::Provider), Method::POST, "/api/v1/classes", Some(body)).await;
        assert!(
            r.json()["error"]["fields"]["subsidy_project_id"].is_string(),
            "a subsidised class needs a catalog project"
        );
        // Suspend the provider.
        let mut org = app
            .api(Some(Role::CityAdmin), Method::GET, &format!("/api/v1/orgs/providers/{}", app.provider_id), None)
            .await
            .json();
        org["status"] = json!("suspended");
        app.api(Some(Role::CityAdmin), Method::PUT, &format!("/api/v1/orgs/providers/{}", app.provider_id), Some(org))
            .await;
        let r = app
            .api(
                Some(Role::Provider),
                Method::POST,
                "/api/v1/classes",
                Some(application(p, roster(), "2021-05-10", "2021-05-28")),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.json()["error"]["fields"]["provider"].as_str().unwrap().contains("不在目录"));
    }
}

both_backends! {
    async fn two_clerks_approving_at_once_make_one_approval(backend: &'static str) {
        let app = spawn_app(backend).await;
        let p = project(&app).await;
        let id = app
            .api(
                Some(Role::Provider),
                Method::POST,
                "/api/v1/classes",
                Some(application(p, roster(), "2021-05-10", "2021-05-28")),
            )
            .await
            .json()["id"]
            .as_i64()
            .unwrap();
        let path = format!("/api/v1/classes/{id}/actions");
        let a = app.api(Some(Role::County), Method::POST, &path, Some(json!({"action": "approve"})));
        let b = app.api(Some(Role::CityAdmin), Method::POST, &path, Some(json!({"action": "approve"})));
        let (a, b) = tokio::join!(a, b);
        let mut codes = [a.status.as_u16(), b.status.as_u16()];
        codes.sort();
        assert_eq!(codes[0], 200, "{backend}: one approval lands");
        assert!(codes[1] == 409 || codes[1] == 422, "{backend}: the other is refused, got {codes:?}");
        let events =
            app.api(Some(Role::County), Method::GET, &format!("/api/v1/classes/{id}/events"), None).await.json();
        assert_eq!(events.as_array().unwrap().iter().filter(|e| e["to_status"] == "approved").count(), 1);
        // Another county's office cannot see or act on it.
        let _ = OTHER_COUNTY;
    }
}

both_backends! {
    async fn the_application_page_submits_and_the_class_page_offers_the_county_its_actions(backend: &'static str) {
        let app = spawn_app(backend).await;
        let p = project(&app).await.to_string();
        let roster_text = format!("{}, 李娜\n{} 李娜\n", id_number(MY_COUNTY, 11), id_number(OTHER_COUNTY, 12));
        let body_code = common::body_code();
        let form = [
            ("name", "上蔡县家政服务员2021年6月期"),
            ("program_code", "P4a"),
            ("subsidy_project_id", p.as_str()),
            ("kind", "employment"),
            ("county_code", MY_COUNTY),
            ("start_date", "2021-06-07"),
            ("end_date", "2021-06-25"),
            ("subsidised", "1"),
            ("venue", "职教中心"),
            ("timetable", "周一至周五"),
            ("teachers", "王老师"),
            ("capacity", "40"),
            ("assessment_plan", "评价机构考核"),
            ("roster", roster_text.as_str()),
            ("assessment_body_credit_code", body_code.as_str()),
        ];
        let r = app.page(Some(Role::Provider), Method::POST, "/classes", &form, true).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{backend}: {}", r.body);
        let location = r.headers["location"].to_str().unwrap().to_owned();
        let page = app.page(Some(Role::County), Method::GET, &location, &[], false).await;
        assert!(page.body.contains("action-approve") && page.body.contains("已申请待审核"), "{}", page.body);
        let page = app.page(Some(Role::Provider), Method::GET, &location, &[], false).await;
        assert!(!page.body.contains("action-approve"));
        let r = app
            .page(
                Some(Role::County),
                Method::POST,
                &format!("{location}/actions"),
                &[("action", "approve"), ("reason", "同意")],
                true,
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let page = app.page(Some(Role::County), Method::GET, &location, &[], false).await;
        assert!(page.body.contains("已批准") && page.body.contains("同意"));
        // A wrong row on the page form names the row.
        let bad = form.map(|(k, v)| if k == "roster" { (k, "411722198802290000, 某人") } else { (k, v) });
        let r = app.page(Some(Role::Provider), Method::POST, "/classes", &bad, true).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("花名册第1行") && !r.body.contains("roster["), "{}", r.body);
    }
}
