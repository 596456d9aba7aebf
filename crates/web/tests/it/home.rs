//! Each role's home is its work queue: signed in as each role, the counts on the home page are
//! the rows waiting for it, in its scope, on both backends. (`links.rs` follows every link of
//! every home, on the busy day built here.)

use crate::common;

use crate::common::{id_number, spawn_app, TestApp, MY_COUNTY, OTHER_COUNTY};
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use jineng_domain::{IdNumber, Role};
use jineng_store::testing::both_backends;
use serde_json::json;

/// A day in the May 2021 classes.
pub fn may(day: u32) -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2021, 5, day).unwrap()
}

/// The classes of a busy day, with the clock on 12 May 2021: class A (approved, 10–14 May,
/// named body) with the worker (checked in today) and a second trainee; class B (applied, not
/// yet reviewed) with the other-county person and a refused roster import; an employer's claim
/// for the worker. Returns (A, B).
pub async fn busy_day(app: &TestApp) -> (i64, i64) {
    app.clock.set(may(12));
    let second = jineng_store::people::create(
        &app.db,
        None,
        &jineng_store::people::NewPerson {
            id_number: IdNumber::parse(&id_number(MY_COUNTY, 13)).unwrap(),
            name: "王芳".into(),
            county_code: MY_COUNTY.into(),
            phone: None,
            rural: false,
            groups: vec![],
        },
    )
    .await
    .unwrap();
    assert!(second > 0);
    let a = common::applied_class(
        app,
        json!([{"id_number": id_number(MY_COUNTY, 11), "name": "李娜"}, {"id_number": id_number(MY_COUNTY, 13), "name": "王芳"}]),
        true,
    )
    .await;
    let b =
        common::applied_class(app, json!([{"id_number": id_number(OTHER_COUNTY, 12), "name": "李娜"}]), false).await;
    // A roster whose only row names the wrong person: refused, with a report.
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (c, h) in jineng_store::roster::HEADERS.iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    ws.write_string(1, 0, id_number(MY_COUNTY, 11)).unwrap();
    ws.write_string(1, 1, "李四").unwrap();
    let req = Request::builder()
        .method(Method::POST)
        .uri(format!("/api/v1/classes/{b}/roster"))
        .header(header::AUTHORIZATION, format!("Bearer {}", app.tokens[&Role::Provider]))
        .header(header::CONTENT_TYPE, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        .body(Body::from(wb.save_to_buffer().unwrap()))
        .unwrap();
    let r = app.send(req).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let r = app
        .api(
            Some(Role::Provider),
            Method::POST,
            &format!("/api/v1/classes/{a}/attendance"),
            Some(json!({"id_number": id_number(MY_COUNTY, 11), "day": "2021-05-12", "method": "face"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    // The employer files an on-the-job claim for the worker (a poor worker it employs).
    jineng_store::people::add_group(&app.db, None, app.my_person, "poor_worker", "2019-01-01".parse().unwrap())
        .await
        .unwrap();
    let body = json!({"kind": "on_the_job", "id_number": id_number(MY_COUNTY, 11), "name": "李娜", "employed_from": "2020-01-01", "from": "2020-09-01", "months": 3});
    let r = app.api_keyed(Role::Employer, "/api/v1/claims", "home-1", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    (a, b)
}

/// The count of the task `key` on the home page as `html` shows it (None: not shown).
pub fn task_count(html: &str, key: &str) -> Option<i64> {
    let rest = &html[html.find(&format!("data-task=\"{key}\""))?..];
    let at = rest.find("data-count=\"")? + "data-count=\"".len();
    rest[at..].split('"').next()?.parse().ok()
}

/// How many claims of a status the role sees through the API (another path to the same rows);
/// None when this build does not know the status (claims held for verification come with the
/// verification of declared facts), and then the home shows no count for it either.
async fn api_claims(app: &TestApp, role: Role, status: &str) -> Option<i64> {
    let r = app.api(Some(role), Method::GET, &format!("/api/v1/claims?status={status}"), None).await;
    (r.status == StatusCode::OK).then(|| r.json().as_array().unwrap().len() as i64)
}

/// The role's claims neither paid, rejected nor recovered, through the API.
async fn api_pending(app: &TestApp, role: Role) -> Option<i64> {
    let all = app.api(Some(role), Method::GET, "/api/v1/claims", None).await.json();
    let settled = ["paid", "rejected", "recovered"];
    Some(all.as_array().unwrap().iter().filter(|c| !settled.contains(&c["status"].as_str().unwrap())).count() as i64)
}

/// Checks the counts a role's home shows; names every difference.
async fn expect(app: &TestApp, backend: &str, stage: &str, role: Role, want: &[(&str, Option<i64>)]) -> String {
    let r = app.page(Some(role), Method::GET, "/", &[], false).await;
    assert_eq!(r.status, StatusCode::OK, "{backend} {stage}: {} home: {}", role.code(), r.body);
    let wrong: Vec<String> = want
        .iter()
        .filter_map(|(key, n)| {
            let got = task_count(&r.body, key);
            (got != *n).then(|| format!("{key}: {got:?}, expected {n:?}"))
        })
        .collect();
    assert!(wrong.is_empty(), "{backend} {stage}: {} home: {}", role.code(), wrong.join("; "));
    r.body
}

both_backends! {
    async fn each_role_sees_what_waits_for_it_in_its_own_scope(backend: &'static str) {
        let app = spawn_app(backend).await;
        let (a, b) = busy_day(&app).await;
        let s = "12 May";
        // The employer's claim awaits the county: reviewed, or first verified when it rests on a
        // fact the employer declared.
        let (decided, held) = (api_claims(&app, Role::County, "decided").await, api_claims(&app, Role::County, "needs_verification").await);
        assert_eq!(decided.unwrap_or(0) + held.unwrap_or(0), 1, "{backend}: one claim in review");
        let county = expect(&app, backend, s, Role::County, &[
            ("classes_to_review", Some(1)), ("claims_decided", decided), ("claims_needs_verification", held), ("claims_approved", Some(0)),
            ("open_objections", Some(0)),
        ]).await;
        assert!(county.contains(&format!("href=\"/classes/{b}\"")), "{backend}: the application to review is linked");
        assert!(!county.contains("/counties/411729") && county.contains("/counties/411722"), "{backend}: its own county only");
        let done = app.api(Some(Role::County), Method::GET, "/api/v1/counties/411722", None).await.json()["total"]["person_times"]
            .as_i64();
        assert_eq!(task_count(&county, "progress"), done, "{backend}: the county's progress");
        let provider = expect(&app, backend, s, Role::Provider, &[
            ("running_today", Some(1)), ("refused_imports", Some(1)), ("classes_returned", Some(0)),
            ("classes_submitted", Some(1)), ("classes_approved", Some(2)), ("classes_closed", Some(0)),
        ]).await;
        let row = &provider[provider.find(&format!("<tr data-class=\"{a}\">")).expect("class A runs today")..];
        assert!(row[..row.find("</tr>").unwrap()].contains("1 / 2"), "{backend}: one of two checked in today");
        assert!(provider.contains(&format!("/classes/{b}/roster-imports/")), "{backend}: the refused import's report");
        expect(&app, backend, s, Role::AssessmentBody, &[("due_for_assessment", Some(0)), ("upcoming", Some(1))]).await;
        expect(&app, backend, s, Role::Worker, &[
            ("trainings", Some(2)), ("in_progress", Some(1)), ("certificates", Some(0)), ("claims_pending", Some(1)),
        ]).await;
        let held_shown = held.filter(|n| *n > 0);
        expect(&app, backend, s, Role::Employer, &[("claims_decided", decided), ("claims_needs_verification", held_shown), ("claims_paid", None)]).await;
        expect(&app, backend, s, Role::Finance, &[
            ("draft_batches", Some(0)), ("claims_payment_failed", Some(0)), ("due_for_batch", Some(0)),
        ]).await;
        let admin = expect(&app, backend, s, Role::CityAdmin, &[("classes_to_review", Some(1)), ("claims_decided", decided), ("claims_needs_verification", held)]).await;
        assert!(admin.contains("id=\"programs\""), "{backend}: the admin keeps the plan at a glance");
        for role in [Role::Department, Role::Auditor] {
            let r = app.page(Some(role), Method::GET, "/", &[], false).await;
            assert!(r.body.contains("id=\"programs\"") && task_count(&r.body, "classes_to_review").is_none(), "{backend}");
        }

        // After the class: the body assesses the worker; the second trainee is still due.
        app.clock.set(may(20));
        let r = app.api(Some(Role::AssessmentBody), Method::POST, &format!("/api/v1/classes/{a}/assessments"),
            Some(json!({"id_number": id_number(MY_COUNTY, 11), "assessed_on": "2021-05-15", "score": 90, "passed": true, "kind": "skill_level", "serial": "H-1"}))).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let s = "20 May";
        let body = expect(&app, backend, s, Role::AssessmentBody, &[("due_for_assessment", Some(1)), ("upcoming", Some(0))]).await;
        let row = &body[body.find(&format!("<tr data-class=\"{a}\">")).expect("class A is due")..];
        assert!(row[..row.find("</tr>").unwrap()].contains("data-k=\"unassessed\">1<"), "{backend}: one trainee without a result");
        expect(&app, backend, s, Role::Provider, &[("running_today", Some(0))]).await;
        // The certificate brings the claims the policy allows (the training subsidy among them).
        let decided = api_claims(&app, Role::County, "decided").await;
        assert!(decided >= Some(1), "{backend}: {decided:?}");
        expect(&app, backend, s, Role::County, &[("claims_decided", decided)]).await;
        let pending = api_pending(&app, Role::Worker).await;
        expect(&app, backend, s, Role::Worker, &[("in_progress", Some(0)), ("certificates", Some(1)), ("claims_pending", pending)]).await;

        // The county approves and publishes the training subsidy; someone objects.
        let claims = app.api(Some(Role::County), Method::GET, "/api/v1/claims", None).await.json();
        let claim = claims.as_array().unwrap().iter().find(|c| c["kind"] != "on_the_job" && c["outcome"] == "approved" && c["amount_fen"].as_i64() > Some(0)).unwrap()["claim_id"].as_i64().unwrap();
        for action in ["approve", "publish"] {
            let r = app.api(Some(Role::County), Method::POST, &format!("/api/v1/claims/{claim}/actions"), Some(json!({"action": action}))).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        }
        let r = app.api(None, Method::POST, &format!("/api/v1/notice/{claim}/objections"),
            Some(json!({"filer_name": "王某", "contact": "13900000000", "reason": "该学员未实际参训"}))).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let objection = r.json()["objection_id"].as_i64().unwrap();
        let s = "objection";
        let county = expect(&app, backend, s, Role::County, &[
            ("claims_decided", decided.map(|n| n - 1)), ("claims_approved", Some(0)), ("open_objections", Some(1)),
        ]).await;
        assert!(county.contains(&format!("href=\"/claims/{claim}\"")), "{backend}: the claim objected to is linked");
        expect(&app, backend, s, Role::CityAdmin, &[("open_objections", Some(1))]).await;

        // The objection dismissed and the notice over: finance batches, pays, and a payment fails.
        let r = app.api(Some(Role::County), Method::POST, &format!("/api/v1/objections/{objection}"),
            Some(json!({"uphold": false, "resolution": "经核实，异议不成立"}))).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        app.clock.set(chrono::NaiveDate::from_ymd_opt(2021, 6, 1).unwrap());
        expect(&app, backend, "notice over", Role::Finance, &[("due_for_batch", Some(1)), ("draft_batches", Some(0))]).await;
        let finance = |op: serde_json::Value| app.api(Some(Role::Finance), Method::POST, "/api/v1/payments", Some(op));
        let r = finance(json!({"op": "create_batch", "fund": "employment_subsidy_fund"})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let batch = r.json()["batch"]["batch_id"].clone();
        let page = expect(&app, backend, "batch", Role::Finance, &[("due_for_batch", Some(0)), ("draft_batches", Some(1))]).await;
        assert!(page.contains(&format!("<tr data-batch=\"{batch}\">")), "{backend}");
        expect(&app, backend, "batch", Role::CityAdmin, &[("draft_batches", Some(1))]).await;
        finance(json!({"op": "allocate", "fund": "employment_subsidy_fund", "amount_fen": 10_000_000, "note": "驻财社〔2021〕12号"})).await;
        assert_eq!(finance(json!({"op": "approve_batch", "batch_id": batch})).await.status, StatusCode::OK);
        let worker = expect(&app, backend, "paid", Role::Worker, &[("claims_pending", pending.map(|n| n - 1))]).await;
        assert!(task_count(&worker, "paid").is_some_and(|fen| fen > 0), "{backend}: paid");
        let ledger = app.api(Some(Role::Finance), Method::GET, "/api/v1/payments", None).await.json();
        let payment = ledger["payments"][0]["payment_id"].as_i64().unwrap();
        finance(json!({"op": "fail_payment", "payment_id": payment, "reason": "账户已注销"})).await;
        expect(&app, backend, "failed", Role::Finance, &[("claims_payment_failed", Some(1)), ("draft_batches", Some(0))]).await;
        expect(&app, backend, "failed", Role::Worker, &[("claims_pending", pending), ("paid", Some(0))]).await;
    }
}

both_backends! {
    async fn the_home_chart_draws_each_programs_progress_in_percent_of_its_target(backend: &'static str) {
        let app = spawn_app(backend).await;
        common::certified_class(&app).await;
        // The class's program had its target pending; the city sets it: 200 person-times.
        let r = app.api(Some(Role::CityAdmin), Method::PUT, "/api/v1/programs/P4a/target", Some(json!({"target": 200, "reason": "民政局意见"}))).await;
        assert_eq!(r.status, StatusCode::OK, "{backend}: {}", r.body);
        let page = app.page(Some(Role::CityAdmin), Method::GET, "/", &[], false).await.body;
        let open = r#"<script type="application/json" id="programs-data">"#;
        let at = page.find(open).expect("the chart's data") + open.len();
        let bars: serde_json::Value = serde_json::from_str(page[at..].split("</script>").next().unwrap()).unwrap();
        let plan = app.api(Some(Role::CityAdmin), Method::GET, "/api/v1/plan", None).await.json();
        let programs = plan["programs"].as_array().unwrap();
        let bar = |code: &str| bars.as_array().unwrap().iter().find(|b| b["code"] == code).unwrap_or_else(|| panic!("{code}")).clone();
        let api = |code: &str| programs.iter().find(|p| p["code"] == code).unwrap().clone();
        // The class's program: its one completion as a share of its own target, not a count.
        let p4a = api("P4a");
        assert_eq!(bar("P4a")["done"], 1, "{backend}");
        assert_eq!(bar("P4a")["target"], p4a["target"], "{backend}");
        let permille = p4a["done_permille"].as_i64().unwrap();
        assert_eq!(bar("P4a")["percent"].as_f64().unwrap(), permille as f64 / 10.0, "{backend}");
        assert_eq!(bar("P4a")["percent"].as_f64(), Some(0.5), "{backend}: 1 of 200 is 0.5 %");
        // A pending target has no bar; a program with nothing done is at zero.
        assert!(bar("P1")["percent"].is_null(), "{backend}");
        let idle = bars.as_array().unwrap().iter().find(|b| b["done"] == 0 && !b["percent"].is_null()).expect("an idle program");
        assert_eq!(idle["percent"].as_f64(), Some(0.0), "{backend}");
        // Only leaf programs are drawn, each once; the dashed line is 100 %.
        let leaves = programs.iter().filter(|p| p["leaf"] == true && p["unit"] != "none").count();
        assert_eq!(bars.as_array().unwrap().len(), leaves, "{backend}");
        let script = app.page(None, Method::GET, "/static/app.js", &[], false).await.body;
        assert!(script.contains(r#"label: "目标 100% Target""#) && script.contains("programs-data"), "{backend}");
    }
}

both_backends! {
    async fn the_plans_progress_viewed_before_a_completion_counts_it_at_the_next_view(backend: &'static str) {
        // The progress views are kept between audited changes: what was viewed before a
        // class completed must not be what is shown after.
        let app = spawn_app(backend).await;
        let done = |v: &serde_json::Value, code: &str| {
            v["programs"].as_array().unwrap().iter().find(|p| p["code"] == code).unwrap()["done"]["person_times"].clone()
        };
        let before = app.api(Some(Role::CityAdmin), Method::GET, "/api/v1/plan", None).await.json();
        let program = app.api(Some(Role::CityAdmin), Method::GET, "/api/v1/programs/P4a", None).await.json();
        let department = app.api(Some(Role::Department), Method::GET, "/api/v1/plan", None).await;
        assert_eq!(done(&before, "P4a"), 0, "{backend}");
        common::certified_class(&app).await;
        let after = app.api(Some(Role::CityAdmin), Method::GET, "/api/v1/plan", None).await.json();
        assert_eq!(done(&after, "P4a"), 1, "{backend}: {after}");
        let again = app.api(Some(Role::CityAdmin), Method::GET, "/api/v1/programs/P4a", None).await.json();
        assert_ne!(program, again, "{backend}: the program's figures moved");
        // A role's view is its own: the department's is not the city admin's.
        let city = app.api(Some(Role::CityAdmin), Method::GET, "/api/v1/plan", None).await.body;
        let dept = app.api(Some(Role::Department), Method::GET, "/api/v1/plan", None).await;
        assert_eq!(dept.status, department.status, "{backend}");
        if dept.status == StatusCode::OK {
            assert_ne!(dept.body, city, "{backend}: the department sees its own programs");
        }
    }
}
