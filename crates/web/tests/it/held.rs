//! Money only on trusted facts: a claim resting on a fact its own payee declared is decided but
//! held (`needs_verification`) until the county verifies the fact; the person's page shows each
//! fact with its source. On both backends.

use crate::common::{id_number, spawn_app, TestApp, MY_COUNTY};
use axum::http::{Method, StatusCode};
use jineng_domain::Role;
use jineng_store::testing::both_backends;
use serde_json::{json, Value};

/// A poor worker (the county recorded the group) for whom the employer files on-the-job months,
/// declaring the employment itself.
async fn file_on_the_job(app: &TestApp, key: &str, from: &str, months: i64) -> Value {
    let body = json!({"kind": "on_the_job", "id_number": id_number(MY_COUNTY, 11), "name": "李娜", "employed_from": "2020-01-01", "from": from, "months": months});
    let r = app.api_keyed(Role::Employer, "/api/v1/claims", key, body).await;
    assert!(r.status.is_success(), "{}", r.body);
    let id = r.json()["claim"]["claim_id"].as_i64().expect("claim id");
    app.api(Some(Role::County), Method::GET, &format!("/api/v1/claims/{id}"), None).await.json()["claim"].clone()
}

both_backends! {
    async fn a_claim_on_an_employment_the_employer_declared_waits_for_the_county(backend: &'static str) {
        let app = spawn_app(backend).await;
        // The group was recorded by the bureau itself (no user: the system's operators).
        jineng_store::people::add_group(&app.db, None, app.my_person, "poor_worker", "2019-01-01".parse().unwrap())
            .await
            .unwrap();
        let c = file_on_the_job(&app, "otj-1", "2020-09-01", 3).await;
        assert_eq!(c["outcome"], "approved", "{c}");
        assert_eq!(c["status"], "needs_verification", "the employer declared the employment itself: {c}");
        let held: Value = serde_json::from_str(c["held_for"].as_str().unwrap()).unwrap();
        assert_eq!(held[0]["fact"], "employment", "{held}");
        let id = c["claim_id"].as_i64().unwrap();

        // Nothing moves it to payment before the verification.
        for action in ["approve", "publish"] {
            let r = app.api(Some(Role::County), Method::POST, &format!("/api/v1/claims/{id}/actions"), Some(json!({"action": action}))).await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{action}: {}", r.body);
        }
        // One-click approval skips it.
        let page = app.page(Some(Role::County), Method::GET, &format!("/claims/{id}"), &[], false).await;
        assert!(page.body.contains("待核实的申报事实"), "{}", page.body);
        assert!(page.body.contains("id=\"verify\""));
        // The employer may not verify its own declaration.
        let r = app.api(Some(Role::Employer), Method::POST, &format!("/api/v1/claims/{id}/actions"), Some(json!({"action": "verify"}))).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);

        // The county verifies: the claim goes to review, the employment is county_verified.
        let r = app.page(Some(Role::County), Method::POST, &format!("/claims/{id}/actions"), &[("action", "verify"), ("reason", "社保记录核对属实")], true).await;
        assert!(r.status.is_redirection(), "{} {}", r.status, r.body);
        let c = app.api(Some(Role::County), Method::GET, &format!("/api/v1/claims/{id}"), None).await.json();
        assert_eq!(c["claim"]["status"], "decided", "{c}");
        assert!(c["events"].as_array().unwrap().iter().any(|e| e["action"] == "verify" && e["reason"] == "社保记录核对属实"), "{c}");
        let r = app.api(Some(Role::County), Method::POST, &format!("/api/v1/claims/{id}/actions"), Some(json!({"action": "approve"}))).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);

        // A later filing on the same (now verified) employment is not held.
        let c = file_on_the_job(&app, "otj-2", "2020-12-01", 2).await;
        assert_eq!(c["status"], "decided", "{c}");

        // The person's page lists the facts with their sources, for the county.
        let page = app.page(Some(Role::County), Method::GET, &format!("/people/{}", app.my_person), &[], false).await;
        assert!(page.body.contains("id=\"facts\""), "{}", page.body);
        assert!(page.body.contains("县区人社部门核实"), "{}", page.body);
        // The employer sees no one's facts.
        let r = app.page(Some(Role::Employer), Method::GET, &format!("/people/{}", app.my_person), &[], false).await;
        assert!(!r.body.contains("id=\"facts\""));
    }
}

both_backends! {
    async fn a_rejected_declaration_rejects_the_claim_with_its_reason(backend: &'static str) {
        let app = spawn_app(backend).await;
        jineng_store::people::add_group(&app.db, None, app.my_person, "poor_worker", "2019-01-01".parse().unwrap()).await.unwrap();
        let c = file_on_the_job(&app, "otj-x", "2020-09-01", 3).await;
        let id = c["claim_id"].as_i64().unwrap();
        assert_eq!(c["status"], "needs_verification");
        let r = app.api(Some(Role::County), Method::POST, &format!("/api/v1/claims/{id}/actions"), Some(json!({"action": "reject"}))).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "a rejection needs its reason: {}", r.body);
        let r = app.api(Some(Role::County), Method::POST, &format!("/api/v1/claims/{id}/actions"), Some(json!({"action": "reject", "reason": "社保无该单位参保记录"}))).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.json()["claim"]["status"], "rejected");
    }
}

both_backends! {
    async fn a_living_allowance_on_a_group_the_provider_declared_waits_for_the_county(backend: &'static str) {
        // S2 opens on the group; a group only the provider declared holds the allowance.
        let app = spawn_app(backend).await;
        let provider = jineng_store::users::authenticate(&app.db, "provider", "correct horse battery")
            .await
            .unwrap()
            .expect("the provider user")
            .user_id;
        jineng_store::people::add_group(&app.db, Some(provider), app.my_person, "poor_worker", "2019-01-01".parse().unwrap())
            .await
            .unwrap();
        let id = id_number(MY_COUNTY, 11);
        let class = crate::common::applied_class(&app, json!([{"id_number": id, "name": "李娜"}]), true).await;
        let r = app
            .api(Some(Role::Provider), Method::POST, &format!("/api/v1/classes/{class}/attendance"), Some(json!({"id_number": id, "day": "2021-05-10", "method": "face"})))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let r = app.api(Some(Role::County), Method::POST, &format!("/api/v1/classes/{class}/actions"), Some(json!({"action": "close"}))).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let claims = app.api(Some(Role::County), Method::GET, "/api/v1/claims", None).await.json();
        let c = &claims[0];
        assert_eq!((c["kind"].as_str(), c["outcome"].as_str()), (Some("living_allowance"), Some("approved")), "{c}");
        assert_eq!(c["status"], "needs_verification", "{c}");
        assert!(c["held_for"].as_str().unwrap().contains("poor_worker"), "{c}");
        // The county's verification releases it.
        let id2 = c["claim_id"].as_i64().unwrap();
        let r = app.api(Some(Role::County), Method::POST, &format!("/api/v1/claims/{id2}/actions"), Some(json!({"action": "verify"}))).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.json()["claim"]["status"], "decided");
    }
}
