//! The JSON API: scopes, bad input and the plan numbers, on both backends.

use crate::common::{id_number, spawn_app, MY_COUNTY, OTHER_COUNTY};
use axum::http::{Method, StatusCode};
use jineng_domain::Role;
use jineng_store::testing::both_backends;
use serde_json::json;

both_backends! {
    async fn an_invalid_id_number_is_refused_with_field_and_reason_and_writes_nothing(backend: &'static str) {
        let app = spawn_app(backend).await;
        let before = app.people_count().await;
        let mut bad = id_number(MY_COUNTY, 5);
        let last = bad.pop().unwrap();
        bad.push(if last == '1' { '2' } else { '1' });
        let r = app
            .api(
                Some(Role::CityAdmin),
                Method::POST,
                "/api/v1/people",
                Some(json!({"id_number": bad, "name": "王五", "county_code": MY_COUNTY})),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}");
        let j = r.json();
        assert_eq!(j["error"]["code"], "invalid");
        assert_eq!(j["error"]["fields"]["id_number"], "校验码错误 / check digit wrong");
        assert_eq!(app.people_count().await, before, "{backend}: nothing written");
    }
}

both_backends! {
    async fn a_duplicate_id_number_is_a_conflict(backend: &'static str) {
        let app = spawn_app(backend).await;
        let body = json!({"id_number": id_number(MY_COUNTY, 300), "name": "赵六", "county_code": MY_COUNTY, "groups": [{"group": "poor_worker", "from": "2019-01-01", "to": null}]});
        let r = app.api(Some(Role::County), Method::POST, "/api/v1/people", Some(body.clone())).await;
        assert_eq!(r.status, StatusCode::CREATED, "{backend}: {}", r.body);
        let before = app.people_count().await;
        let r = app.api(Some(Role::CityAdmin), Method::POST, "/api/v1/people", Some(body)).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{backend}");
        assert_eq!(app.people_count().await, before);
    }
}

both_backends! {
    async fn unknown_county_and_group_are_refused_by_field(backend: &'static str) {
        let app = spawn_app(backend).await;
        let r = app
            .api(
                Some(Role::CityAdmin),
                Method::POST,
                "/api/v1/people",
                Some(json!({"id_number": id_number(MY_COUNTY, 301), "name": "赵六", "county_code": "411799"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}");
        assert!(r.json()["error"]["fields"]["county_code"].is_string());
        let r = app.api(Some(Role::CityAdmin), Method::POST, "/api/v1/people", Some(json!({"id_number": id_number(MY_COUNTY, 302), "name": "赵六", "county_code": MY_COUNTY, "groups": [{"group": "martian", "from": "2019-01-01"}]}))).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.json()["error"]["fields"]["groups[0]"].as_str().unwrap().contains("martian"));
        let r = app
            .api(
                Some(Role::CityAdmin),
                Method::PUT,
                "/api/v1/programs/P99/target",
                Some(json!({"target": 5, "reason": "x"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
    }
}

both_backends! {
    async fn a_county_office_sees_and_changes_only_its_county(backend: &'static str) {
        let app = spawn_app(backend).await;
        let c = Some(Role::County);
        let list = app.api(c, Method::GET, "/api/v1/people", None).await.json();
        assert_eq!(list["items"].as_array().unwrap().len(), 1, "{backend}");
        assert!(list["items"].as_array().unwrap().iter().all(|p| p["county_code"] == MY_COUNTY));
        let other = app.api(c, Method::GET, &format!("/api/v1/people/{}", app.other_person), None).await;
        assert_eq!(other.status, StatusCode::NOT_FOUND);
        let r = app
            .api(
                c,
                Method::POST,
                "/api/v1/people",
                Some(json!({"id_number": id_number(OTHER_COUNTY, 5), "name": "钱七", "county_code": OTHER_COUNTY})),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = app
            .api(
                c,
                Method::PUT,
                &format!("/api/v1/people/{}", app.my_person),
                Some(json!({"name": "李娜", "county_code": OTHER_COUNTY})),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "a county cannot move a person out of its reach");
        let r = app.api(c, Method::GET, &format!("/api/v1/counties/{OTHER_COUNTY}"), None).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = app
            .api(
                c,
                Method::POST,
                "/api/v1/orgs/providers",
                Some(json!({"credit_code": "91440300708461136T", "name": "x", "county_code": MY_COUNTY})),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "providers are catalogued by the city");
    }
}

both_backends! {
    async fn a_provider_sees_its_trainees_and_a_worker_only_themself(backend: &'static str) {
        let app = spawn_app(backend).await;
        let list = app.api(Some(Role::Provider), Method::GET, "/api/v1/people", None).await.json();
        assert_eq!(
            list["items"].as_array().unwrap().iter().map(|p| p["person_id"].as_i64().unwrap()).collect::<Vec<_>>(),
            vec![app.my_person],
            "{backend}"
        );
        let classes = app.api(Some(Role::Provider), Method::GET, "/api/v1/classes", None).await.json();
        assert_eq!(classes.as_array().unwrap().len(), 1);
        let me = app.api(Some(Role::Worker), Method::GET, &format!("/api/v1/people/{}", app.my_person), None).await;
        assert_eq!(me.status, StatusCode::OK);
        assert_eq!(me.json()["trainings"].as_array().unwrap().len(), 1);
        let other =
            app.api(Some(Role::Worker), Method::GET, &format!("/api/v1/people/{}", app.other_person), None).await;
        assert_eq!(other.status, StatusCode::NOT_FOUND);
        let list = app.api(Some(Role::Worker), Method::GET, "/api/v1/people", None).await.json();
        assert_eq!(list["items"].as_array().unwrap().len(), 1);
    }
}

both_backends! {
    async fn id_numbers_are_masked_in_the_api_and_on_pages(backend: &'static str) {
        let app = spawn_app(backend).await;
        let full = id_number(MY_COUNTY, 11);
        let r = app.api(Some(Role::CityAdmin), Method::GET, &format!("/api/v1/people?q={full}"), None).await;
        let j = r.json();
        assert_eq!(j["items"].as_array().unwrap().len(), 1, "{backend}: search by the full ID number finds the person");
        let masked = j["items"][0]["id_number_masked"].as_str().unwrap();
        assert_eq!(masked, format!("{}**********{}", &full[..4], &full[14..]));
        assert!(!r.body.contains(&full));
        assert_eq!(j["items"][0]["phone_masked"], "138****5678");
        let page =
            app.page(Some(Role::CityAdmin), Method::GET, &format!("/people/{}", app.my_person), &[], false).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains(masked) && !page.body.contains(&full));
    }
}

both_backends! {
    async fn credit_codes_are_checked_and_legacy_ones_kept_with_a_warning(backend: &'static str) {
        let app = spawn_app(backend).await;
        let a = Some(Role::CityAdmin);
        let bad = json!({"credit_code": "91440300708461136A", "name": "某某有限公司", "county_code": MY_COUNTY, "kind": "enterprise", "insured": true});
        let r = app.api(a, Method::POST, "/api/v1/orgs/employers", Some(bad.clone())).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}");
        assert_eq!(r.json()["error"]["fields"]["credit_code"], "校验码错误 / check character wrong");
        let mut legacy = bad.clone();
        legacy["legacy"] = json!(true);
        let r = app.api(a, Method::POST, "/api/v1/orgs/employers", Some(legacy.clone())).await;
        assert_eq!(r.status, StatusCode::CREATED);
        let id = r.json()["id"].as_i64().unwrap();
        let got = app.api(a, Method::GET, &format!("/api/v1/orgs/employers/{id}"), None).await.json();
        assert!(got["credit_code_warning"].as_str().unwrap().contains("校验码错误"));
        let r = app.api(a, Method::POST, "/api/v1/orgs/employers", Some(legacy)).await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        // A county office manages employers of its own county only.
        let good = json!({"credit_code": "91440300708461136T", "name": "深圳某公司驻马店分公司", "county_code": MY_COUNTY, "kind": "enterprise"});
        assert_eq!(
            app.api(Some(Role::County), Method::POST, "/api/v1/orgs/employers", Some(good)).await.status,
            StatusCode::CREATED
        );
        let listed = app.api(Some(Role::County), Method::GET, "/api/v1/orgs/employers", None).await.json();
        assert!(listed.as_array().unwrap().iter().all(|o| o["county_code"] == MY_COUNTY));
    }
}

both_backends! {
    async fn the_plan_counts_completions_and_shows_pending_targets(backend: &'static str) {
        let app = spawn_app(backend).await;
        let plan = app.api(Some(Role::CityAdmin), Method::GET, "/api/v1/plan", None).await.json();
        let t1 = &plan["targets"][0];
        assert_eq!(
            (t1["value"].as_i64(), t1["subsidised_target"].as_i64(), t1["done"].as_i64()),
            (Some(250_000), Some(150_000), Some(1)),
            "{backend}"
        );
        let programs = plan["programs"].as_array().unwrap();
        assert_eq!(programs.len(), 20);
        let p1 = programs.iter().find(|p| p["code"] == "P1").unwrap();
        assert_eq!(p1["target_state"], "pending");
        assert_eq!(p1["asked"][0]["code"], "industry");
        assert!(p1["province_note"].as_str().unwrap().contains("120万"));
        let p2 = programs.iter().find(|p| p["code"] == "P2").unwrap();
        assert_eq!(
            (p2["target_state"].as_str(), p2["target"].as_i64(), p2["done"]["person_times"].as_i64()),
            (Some("partly_pending"), Some(70_000), Some(1))
        );
        // A department sees only its programs.
        let dept = app.api(Some(Role::Department), Method::GET, "/api/v1/plan", None).await.json();
        let codes: Vec<&str> =
            dept["programs"].as_array().unwrap().iter().map(|p| p["code"].as_str().unwrap()).collect();
        assert!(codes.contains(&"P2a") && codes.contains(&"P8") && !codes.contains(&"P6"), "{codes:?}");
        assert_eq!(
            app.api(Some(Role::Department), Method::GET, "/api/v1/programs/P6", None).await.status,
            StatusCode::FORBIDDEN
        );
        // The admin sets a pending target; who and when are kept.
        let r = app
            .api(
                Some(Role::CityAdmin),
                Method::PUT,
                "/api/v1/programs/P1/target",
                Some(json!({"target": 30000, "reason": "工信局2019年8月意见"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let d = r.json();
        assert_eq!(d["program"]["target_state"], "set");
        assert_eq!(d["target_changes"][0]["changed_by"], "city_admin");
        assert!(d["target_changes"][0]["old_target"].is_null());
        // Drill-down by county and month.
        let p = app.api(Some(Role::CityAdmin), Method::GET, "/api/v1/programs/P2a", None).await.json();
        let c = p["by_county"].as_array().unwrap().iter().find(|c| c["key"] == MY_COUNTY).unwrap().clone();
        assert_eq!(c["done"]["person_times"], 1);
        // Every month of the plan's period (2019–2021), a month without training as zero.
        let months = p["by_month"].as_array().unwrap();
        let keys: Vec<&str> = months.iter().map(|m| m["key"].as_str().unwrap()).collect();
        assert_eq!((keys.len(), keys[0], keys[35]), (36, "2019-01", "2021-12"), "{keys:?}");
        let done = |key: &str| months.iter().find(|m| m["key"] == key).unwrap()["done"]["person_times"].clone();
        assert_eq!((done("2020-02"), done("2020-03"), done("2020-04")), (json!(0), json!(1), json!(0)));
        let county =
            app.api(Some(Role::County), Method::GET, &format!("/api/v1/counties/{MY_COUNTY}"), None).await.json();
        assert_eq!(county["total"]["person_times"], 1);
    }
}

both_backends! {
    async fn tokens_are_issued_for_right_passwords_only(backend: &'static str) {
        let app = spawn_app(backend).await;
        let r = app
            .api(
                None,
                Method::POST,
                "/api/v1/tokens",
                Some(json!({"username": "city_admin", "password": "wrong password"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{backend}");
        let r = app
            .api(
                None,
                Method::POST,
                "/api/v1/tokens",
                Some(json!({"username": "city_admin", "password": "correct horse battery"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
        assert!(r.json()["token"].as_str().unwrap().starts_with("jn_"));
    }
}

#[tokio::test]
async fn five_wrong_passwords_lock_a_username_for_a_while() {
    let app = spawn_app("sqlite").await;
    let attempt = |pw: &'static str| {
        app.api(None, Method::POST, "/api/v1/tokens", Some(json!({"username": "county", "password": pw})))
    };
    for _ in 0..5 {
        assert_eq!(attempt("wrong").await.status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        attempt("correct horse battery").await.status,
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits"
    );
    let other = app
        .api(
            None,
            Method::POST,
            "/api/v1/tokens",
            Some(json!({"username": "city_admin", "password": "correct horse battery"})),
        )
        .await;
    assert_eq!(other.status, StatusCode::CREATED, "other users are not affected");
}
