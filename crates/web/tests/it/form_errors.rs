//! Every form shows its errors in one pattern: 422, a summary at the top that links to each
//! field, the message beside the field, what was typed kept, and never a raw field key. Both
//! backends.

use crate::common::{self, id_number, spawn_app, TestApp, MY_COUNTY};
use axum::http::{Method, StatusCode};
use jineng_domain::Role;
use jineng_store::testing::both_backends;
use serde_json::json;

/// The pattern, for one field: `id` is the input's id, `typed` what was typed in it, `raw` the
/// keys that must not be shown as they are.
fn assert_pattern(what: &str, r: &common::Resp, id: &str, typed: &str, raw: &[&str]) {
    let body = &r.body;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{what}: {body}");
    // (b) A summary at the top that links to the field.
    let summary = body.find(r#"id="form-errors""#).unwrap_or_else(|| panic!("{what}: no summary: {body}"));
    let link =
        body.find(&format!(r##"<a href="#{id}">"##)).unwrap_or_else(|| panic!("{what}: no link to #{id}: {body}"));
    assert!(link > summary, "{what}: the link is in the summary");
    let input = body.find(&format!(r#"id="{id}""#)).unwrap_or_else(|| panic!("{what}: no input #{id}: {body}"));
    assert!(summary < input, "{what}: the summary comes before the field");
    // (c) The message beside the field: the first field error after the input is its own, and
    // close to it.
    let beside = body[input..].find(&format!(r#"<div class="field-error" data-field="{id}">"#));
    assert!(
        beside.is_some_and(|at| at < 1_500),
        "{what}: the message is not beside #{id}: {}",
        &body[input..(input + 2_000).min(body.len())]
    );
    // (d) What was typed is still there.
    assert!(body[input.saturating_sub(400)..].contains(typed), "{what}: {typed:?} was not kept");
    // (e) No raw key.
    for key in raw {
        assert!(!body.contains(key), "{what}: the raw key {key:?} is shown: {body}");
    }
}

fn class_form<'a>(project: &'a str, body_code: &'a str, capacity: &'a str, roster: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("name", "上蔡县家政服务员2021年6月期"),
        ("program_code", "P4a"),
        ("subsidy_project_id", project),
        ("kind", "employment"),
        ("county_code", MY_COUNTY),
        ("start_date", "2021-06-07"),
        ("end_date", "2021-06-25"),
        ("subsidised", "1"),
        ("venue", "职教中心"),
        ("timetable", "周一至周五"),
        ("teachers", "王老师"),
        ("capacity", capacity),
        ("assessment_plan", "评价机构考核"),
        ("roster", roster),
        ("assessment_body_credit_code", body_code),
    ]
}

both_backends! {
    async fn the_class_application_names_a_capacity_that_is_no_number_and_a_roster_row_in_words(backend: &'static str) {
        let app = spawn_app(backend).await;
        let p = common::catalog_project(&app).await.to_string();
        let code = common::body_code();
        let roster = format!("{}, 李娜\n", id_number(MY_COUNTY, 11));
        let form = class_form(&p, &code, "abc", &roster);
        let r = app.page(Some(Role::Provider), Method::POST, "/classes", &form, true).await;
        assert_pattern(&format!("{backend}: capacity abc"), &r, "capacity", r#"value="abc""#, &["capacity:", "<b>capacity</b>"]);
        assert!(r.body.contains("班额须为整数"), "{backend}: {}", r.body);
        assert!(!r.body.contains("超过班额"), "{backend}: not 'over capacity'");
        // A wrong roster row: the row in words, linked to the roster, the roster kept.
        let bad_roster = "411722198802290000, 某人";
        let form = class_form(&p, &code, "40", bad_roster);
        let r = app.page(Some(Role::Provider), Method::POST, "/classes", &form, true).await;
        assert_pattern(&format!("{backend}: roster"), &r, "roster", bad_roster, &["roster[", "roster:"]);
        assert!(r.body.contains("花名册第1行"), "{backend}: {}", r.body);
        assert!(r.body.contains(r#"value="40""#), "{backend}: the other fields are kept");
    }
}

async fn certified(app: &TestApp) -> i64 {
    common::certified_class(app).await;
    let claims = app.api(Some(Role::County), Method::GET, "/api/v1/claims", None).await.json();
    claims[0]["claim_id"].as_i64().unwrap()
}

both_backends! {
    async fn a_rejection_without_a_reason_is_named_at_the_reason(backend: &'static str) {
        let app = spawn_app(backend).await;
        let claim = certified(&app).await;
        let r = app
            .page(Some(Role::County), Method::POST, &format!("/claims/{claim}/actions"), &[("action", "reject"), ("reason", "  ")], true)
            .await;
        assert_pattern(&format!("{backend}: reject"), &r, "reason", r#"id="reason""#, &["reason:", "invalid input"]);
        assert!(r.body.contains("不予补贴须写明原因"), "{backend}");
    }
}

both_backends! {
    async fn a_parameter_value_that_is_no_number_is_named_at_the_value(backend: &'static str) {
        let app = spawn_app(backend).await;
        let form = [("key", "living_allowance_fen_per_day"), ("from", "2099-01-01"), ("value", "abc"), ("source", "驻人社〔2021〕12号")];
        let r = app.page(Some(Role::CityAdmin), Method::POST, "/policy/parameters", &form, true).await;
        assert_pattern(&format!("{backend}: parameter"), &r, "value", r#"value="abc""#, &["value:", "invalid input"]);
        assert!(r.body.contains("驻人社〔2021〕12号") && r.body.contains(r#"value="2099-01-01""#), "{backend}: all typed is kept");
    }
}

both_backends! {
    async fn a_target_that_is_no_number_is_named_at_the_target(backend: &'static str) {
        let app = spawn_app(backend).await;
        let form = [("target", "abc"), ("reason", "工信局意见")];
        let r = app.page(Some(Role::CityAdmin), Method::POST, "/programs/P1/target", &form, true).await;
        assert_pattern(&format!("{backend}: target"), &r, "new_target", r#"value="abc""#, &["target:", "invalid input"]);
        assert!(r.body.contains(r#"value="工信局意见""#), "{backend}: the reason is kept");
    }
}

both_backends! {
    async fn the_claim_form_shows_each_error_at_its_field(backend: &'static str) {
        let app = spawn_app(backend).await;
        let id = id_number(MY_COUNTY, 11);
        let form = [("key", "e-1"), ("kind", "on_the_job"), ("id_number", id.as_str()), ("name", "李娜"), ("employed_from", "2020-01-01"), ("from", "2020-09-01"), ("months", "three")];
        let r = app.page(Some(Role::Employer), Method::POST, "/claims", &form, true).await;
        assert_pattern(&format!("{backend}: employer months"), &r, "months", r#"value="three""#, &["months:", "invalid input"]);
        // The provider's form: a contract amount that is no amount.
        let form = [("key", "p-1"), ("kind", "project_training"), ("class_id", "1"), ("contract_yuan", "十万"), ("stage", "advance")];
        let r = app.page(Some(Role::Provider), Method::POST, "/claims", &form, true).await;
        assert_pattern(&format!("{backend}: provider contract"), &r, "contract_yuan", r#"value="十万""#, &["contract_yuan:", "invalid input"]);
    }
}

both_backends! {
    async fn a_public_objection_needs_a_contact_that_reaches_someone(backend: &'static str) {
        let app = spawn_app(backend).await;
        let claim = certified(&app).await;
        for action in ["approve", "publish"] {
            let r = app.api(Some(Role::County), Method::POST, &format!("/api/v1/claims/{claim}/actions"), Some(json!({"action": action, "reason": ""}))).await;
            assert_eq!(r.status, StatusCode::OK, "{backend}: {}", r.body);
        }
        let form = [("filer_name", "张某"), ("contact", "abc"), ("reason", "证书系代考")];
        let r = app.page(None, Method::POST, &format!("/notice/{claim}/objections"), &form, false).await;
        let id = format!("contact-{claim}");
        assert_pattern(&format!("{backend}: contact"), &r, &id, r#"value="abc""#, &["contact:", "invalid input"]);
        assert!(r.body.contains("手机号") && r.body.contains("证书系代考"), "{backend}: {}", r.body);
        let r = app
            .api(None, Method::POST, &format!("/api/v1/notice/{claim}/objections"), Some(json!({"filer_name": "张某", "contact": "abc", "reason": "x"})))
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}: the API refuses it too");
        for good in ["13700000000", "0396-1234567", "zhang@example.cn"] {
            let r = app
                .api(None, Method::POST, &format!("/api/v1/notice/{claim}/objections"), Some(json!({"filer_name": "张某", "contact": good, "reason": "x"})))
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{backend}: {good}: {}", r.body);
        }
    }
}

both_backends! {
    async fn the_people_form_links_its_summary_to_the_field(backend: &'static str) {
        let app = spawn_app(backend).await;
        let form = [("id_number", "411722198802290000"), ("name", "赵六"), ("county_code", MY_COUNTY)];
        let r = app.page(Some(Role::CityAdmin), Method::POST, "/people", &form, true).await;
        assert_pattern(&format!("{backend}: id number"), &r, "id_number", r#"value="411722198802290000""#, &["id_number:"]);
    }
}

both_backends! {
    async fn returning_a_class_without_a_reason_is_named_at_the_reason(backend: &'static str) {
        let app = spawn_app(backend).await;
        let roster = json!([{"id_number": id_number(MY_COUNTY, 11), "name": "李娜"}]);
        let class = common::applied_class(&app, roster, false).await;
        let r = app
            .page(Some(Role::County), Method::POST, &format!("/classes/{class}/actions"), &[("action", "return"), ("reason", " ")], true)
            .await;
        assert_pattern(&format!("{backend}: return"), &r, "reason", r#"id="reason""#, &["reason:", "invalid input"]);
        assert!(r.body.contains("退回须写明原因"), "{backend}");
    }
}

#[tokio::test]
async fn a_refusal_before_the_handler_names_the_field_in_words() {
    let app = spawn_app("sqlite").await;
    let form = [("id_number", "411722198802290000"), ("name", "赵\u{2066}六"), ("county_code", MY_COUNTY)];
    let r = app.page(Some(Role::CityAdmin), Method::POST, "/people", &form, true).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("姓名") && !r.body.contains("<b>name</b>") && !r.body.contains("name:"), "{}", r.body);
}

both_backends! {
    async fn the_claim_form_names_every_missing_field_at_once(backend: &'static str) {
        let app = spawn_app(backend).await;
        let form = [("key", "e-2"), ("kind", "on_the_job"), ("id_number", ""), ("employed_from", ""), ("from", ""), ("months", "")];
        let r = app.page(Some(Role::Employer), Method::POST, "/claims", &form, true).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}: {}", r.body);
        for id in ["id_number", "employed_from", "from", "months"] {
            assert!(r.body.contains(&format!(r##"<a href="#{id}">"##)), "{backend}: {id} is listed: {}", r.body);
            assert!(r.body.contains(&format!(r#"<div class="field-error" data-field="{id}">"#)), "{backend}: {id}");
        }
        for id in ["class_id", "years"] {
            assert!(!r.body.contains(&format!(r##"<a href="#{id}">"##)), "{backend}: on-the-job training needs no {id}");
        }
    }
}
