//! After the decision: county review, 7-day public notice with objections, payment batches per
//! fund with the balance checked in the same transaction, failed payments re-issued, employer
//! and provider claims with idempotency keys, advances reconciled into recoveries. Both backends.

use crate::common;

use crate::common::{id_number, spawn_app, TestApp, MY_COUNTY};
use axum::http::{Method, StatusCode};
use chrono::{Days, NaiveDate};
use jineng_domain::Role;
use jineng_store::testing::both_backends;
use serde_json::json;

fn today() -> NaiveDate {
    jineng_web::Clock::default().today()
}

/// A certificate for the test app's own worker in an approved subsidised class: one decided
/// training-subsidy claim of 1,000 yuan. Returns the claim id and the class.
async fn certified_in(app: &TestApp) -> (i64, i64) {
    let class = common::certified_class(app).await;
    let claims = app.api(Some(Role::County), Method::GET, "/api/v1/claims", None).await.json();
    (claims[0]["claim_id"].as_i64().unwrap(), class)
}

async fn certified(app: &TestApp) -> i64 {
    certified_in(app).await.0
}

async fn act(app: &TestApp, role: Role, claim: i64, action: &str, reason: &str) -> common::Resp {
    app.api(
        Some(role),
        Method::POST,
        &format!("/api/v1/claims/{claim}/actions"),
        Some(json!({"action": action, "reason": reason})),
    )
    .await
}

async fn finance(app: &TestApp, op: serde_json::Value) -> common::Resp {
    app.api(Some(Role::Finance), Method::POST, "/api/v1/payments", Some(op)).await
}

async fn balance(app: &TestApp) -> i64 {
    jineng_store::funds::funds(&app.db)
        .await
        .unwrap()
        .iter()
        .find(|f| f.fund_code == "employment_subsidy_fund")
        .unwrap()
        .balance_fen
}

async fn status(app: &TestApp, claim: i64) -> String {
    let d = app.api(Some(Role::CityAdmin), Method::GET, &format!("/api/v1/claims/{claim}"), None).await.json();
    d["claim"]["status"].as_str().unwrap().to_owned()
}

both_backends! {
    async fn a_claim_is_paid_only_after_review_notice_and_objections_with_the_balance_checked(backend: &'static str) {
        let app = spawn_app(backend).await;
        let claim = certified(&app).await;

        // No payment before approval and notice: nothing is due for a batch.
        let r = finance(&app, json!({"op": "create_batch", "fund": "employment_subsidy_fund"})).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}: {}", r.body);
        // Publishing before approval is refused by the state machine; a worker cannot review.
        let r = act(&app, Role::County, claim, "publish", "").await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}: {}", r.body);
        assert!(r.body.contains("claim.transition") || r.body.contains("不能"), "{}", r.body);
        assert_eq!(act(&app, Role::Worker, claim, "approve", "").await.status, StatusCode::FORBIDDEN);
        // Rejecting needs a reason.
        assert_eq!(act(&app, Role::County, claim, "reject", " ").await.status, StatusCode::UNPROCESSABLE_ENTITY);

        assert_eq!(act(&app, Role::County, claim, "approve", "").await.status, StatusCode::OK);
        let r = act(&app, Role::County, claim, "publish", "").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let d = r.json();
        assert_eq!(d["claim"]["status"], "on_notice");
        assert_eq!(d["claim"]["notice_from"], json!(today()));
        assert_eq!(d["claim"]["notice_until"], json!(today() + Days::new(6)));
        // Who, when, why of each move.
        let events = d["events"].as_array().unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!(events[0]["action"], "approve");
        assert!(events[0]["actor_name"].is_string() && events[0]["at"].is_string());

        // The public notice: name partly masked, no ID number anywhere.
        let notice = app.api(None, Method::GET, "/api/v1/notice", None).await;
        assert_eq!(notice.status, StatusCode::OK);
        assert!(notice.body.contains("李*") && !notice.body.contains("李娜"), "{}", notice.body);
        assert!(!notice.body.contains(&id_number(MY_COUNTY, 11)[..10]));
        let page = app.page(None, Method::GET, "/notice", &[], false).await;
        assert!(page.body.contains("李*") && !page.body.contains("李娜"));

        // An objection from the public (no sign-in) blocks payment until resolved.
        let r = app
            .api(
                None,
                Method::POST,
                &format!("/api/v1/notice/{claim}/objections"),
                Some(json!({"filer_name": "王某", "contact": "13900000000", "reason": "该学员未实际参训"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let objection = r.json()["objection_id"].as_i64().unwrap();
        // One contact cannot flood the notice: the sixth objection in 15 minutes waits.
        for i in 0..5 {
            let r = app
                .api(
                    None,
                    Method::POST,
                    &format!("/api/v1/notice/{claim}/objections"),
                    Some(json!({"filer_name": "刷屏者", "contact": "flood@example.cn", "reason": format!("第{i}条")})),
                )
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{backend}: {i}");
        }
        let r = app
            .api(
                None,
                Method::POST,
                &format!("/api/v1/notice/{claim}/objections"),
                Some(json!({"filer_name": "刷屏者", "contact": "flood@example.cn", "reason": "再来"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{backend}: {}", r.body);
        // The county dismisses the five.
        let d = app.api(Some(Role::County), Method::GET, &format!("/api/v1/claims/{claim}"), None).await.json();
        for o in d["objections"].as_array().unwrap().iter().filter(|o| o["filer_name"] == "刷屏者") {
            let id = o["objection_id"].as_i64().unwrap();
            let r = app
                .api(
                    Some(Role::County),
                    Method::POST,
                    &format!("/api/v1/objections/{id}"),
                    Some(json!({"uphold": false, "resolution": "内容与本申请无关"})),
                )
                .await;
            assert_eq!(r.status, StatusCode::NO_CONTENT);
        }
        // Eight days on, an open objection still keeps the claim from payment.
        let after_notice = today() + Days::new(8);
        let batch_op = json!({"op": "create_batch", "fund": "employment_subsidy_fund"});
        app.clock.set(after_notice);
        assert_eq!(finance(&app, batch_op.clone()).await.status, StatusCode::UNPROCESSABLE_ENTITY);
        app.clock.set(today());
        // Not before the notice ends either, even without objections.
        let r = app
            .api(
                Some(Role::County),
                Method::POST,
                &format!("/api/v1/objections/{objection}"),
                Some(json!({"uphold": false, "resolution": "经核实考勤与签到记录，异议不成立"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
        assert_eq!(finance(&app, batch_op.clone()).await.status, StatusCode::UNPROCESSABLE_ENTITY);

        // After the notice: a batch; approving it with an empty fund is refused and changes nothing.
        app.clock.set(after_notice);
        let r = finance(&app, batch_op.clone()).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let batch = r.json()["batch"].clone();
        assert_eq!((batch["payments"].as_i64(), batch["total_fen"].as_i64()), (Some(1), Some(100_000)));
        assert_eq!(status(&app, claim).await, "in_batch");
        let r = finance(&app, json!({"op": "approve_batch", "batch_id": batch["batch_id"]})).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(r.body.contains("fund.insufficient") || r.body.contains("余额不足"), "{}", r.body);
        assert_eq!(status(&app, claim).await, "in_batch");
        assert_eq!(balance(&app).await, 0);

        // Allocate 1,500 yuan; two clerks approve at once: one payment, one debit.
        let r = finance(&app, json!({"op": "allocate", "fund": "employment_subsidy_fund", "amount_fen": 150_000, "note": "驻财社〔2021〕12号"})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let op = json!({"op": "approve_batch", "batch_id": batch["batch_id"]});
        let (a, b) = tokio::join!(finance(&app, op.clone()), finance(&app, op.clone()));
        let oks = [&a, &b].iter().filter(|r| r.status == StatusCode::OK).count();
        assert_eq!(oks, 1, "{backend}: {} / {}", a.body, b.body);
        let loser = if a.status == StatusCode::OK { &b } else { &a };
        assert!(
            matches!(loser.status, StatusCode::UNPROCESSABLE_ENTITY | StatusCode::CONFLICT),
            "{backend}: the second approval is refused cleanly: {} {}",
            loser.status,
            loser.body
        );
        assert_eq!(balance(&app).await, 50_000);
        assert_eq!(status(&app, claim).await, "paid");

        // The bank returns it: the money goes back, and the next batch re-issues it.
        let ledger = app.api(Some(Role::Finance), Method::GET, "/api/v1/payments", None).await.json();
        let payment = ledger["payments"][0]["payment_id"].as_i64().unwrap();
        let r = finance(&app, json!({"op": "fail_payment", "payment_id": payment, "reason": "账户已注销"})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(balance(&app).await, 150_000);
        assert_eq!(status(&app, claim).await, "payment_failed");
        let again = finance(&app, batch_op.clone()).await.json()["batch"].clone();
        assert_eq!(again["payments"], 1);
        assert_eq!(
            finance(&app, json!({"op": "approve_batch", "batch_id": again["batch_id"]})).await.status,
            StatusCode::OK
        );
        assert_eq!(status(&app, claim).await, "paid");
        assert_eq!(balance(&app).await, 50_000);

        // Lists export to real .xlsx files.
        for (path, sheet, cell) in
            [("/claims.xlsx", "补贴申请", "职业培训补贴"), ("/payments.xlsx", "拨付明细", "拨付失败")]
        {
            let req = axum::http::Request::builder()
                .uri(path)
                .header("authorization", format!("Bearer {}", app.tokens[&Role::CityAdmin]))
                .body(axum::body::Body::empty())
                .unwrap();
            let res = tower::ServiceExt::oneshot(app.router.clone(), req).await.unwrap();
            assert_eq!(res.status(), StatusCode::OK, "{path}");
            let bytes = http_body_util::BodyExt::collect(res.into_body()).await.unwrap().to_bytes();
            let mut wb: calamine::Xlsx<_> =
                calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
            let range = calamine::Reader::worksheet_range(&mut wb, sheet).unwrap();
            let text: Vec<String> = range.rows().flat_map(|r| r.iter().map(|c| c.to_string())).collect();
            assert!(text.iter().any(|t| t == cell), "{path}: {text:?}");
        }
        let page = app.page(Some(Role::Finance), Method::GET, "/payments", &[], false).await;
        assert!(page.body.contains("就业补助资金") && page.body.contains("¥500.00"), "{backend}");
    }
}

both_backends! {
    /// One open objection per claim and contact, however the number is written: the same contact
    /// sent again (with spaces, a dash, +86) is the same objection, not another that blocks payment.
    async fn the_same_contact_objects_once_per_claim(backend: &'static str) {
        let app = spawn_app(backend).await;
        let claim = certified(&app).await;
        act(&app, Role::County, claim, "approve", "").await;
        act(&app, Role::County, claim, "publish", "").await;
        for contact in ["13700000000", "137 0000 0000", "+86 137-0000-0000"] {
            let r = app
                .page(
                    None,
                    Method::POST,
                    &format!("/notice/{claim}/objections"),
                    &[("filer_name", "张某"), ("contact", contact), ("reason", "证书系代考")],
                    false,
                )
                .await;
            assert_eq!(r.status, StatusCode::SEE_OTHER, "{backend}: {}", r.body);
        }
        let r = app
            .page(
                None,
                Method::POST,
                &format!("/notice/{claim}/objections"),
                &[("filer_name", "李某"), ("contact", "li@example.cn"), ("reason", "未参加培训")],
                false,
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{backend}: {}", r.body);
        let d = app.api(Some(Role::County), Method::GET, &format!("/api/v1/claims/{claim}"), None).await.json();
        assert_eq!(d["objections"].as_array().unwrap().len(), 2, "{backend}: {}", d["objections"]);
        assert_eq!(jineng_store::notice::contact_key("+86 137-0000-0000"), "13700000000");
        assert_eq!(jineng_store::notice::contact_key(" Li@Example.CN "), "li@example.cn");
    }
}

both_backends! {
    async fn an_upheld_objection_rejects_the_claim(backend: &'static str) {
        let app = spawn_app(backend).await;
        let claim = certified(&app).await;
        act(&app, Role::County, claim, "approve", "").await;
        act(&app, Role::County, claim, "publish", "").await;
        let r = app
            .page(
                None,
                Method::POST,
                &format!("/notice/{claim}/objections"),
                &[("filer_name", "张某"), ("contact", "13700000000"), ("reason", "证书系代考")],
                false,
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{backend}: the notice again, saying it was received: {}", r.body);
        let d = app.api(Some(Role::County), Method::GET, &format!("/api/v1/claims/{claim}"), None).await.json();
        let objection = d["objections"][0]["objection_id"].as_i64().unwrap();
        assert_eq!(d["objections"][0]["filer_name"], "张某");
        // The claimant sees the objection but not who made it.
        let mine = app.api(Some(Role::Worker), Method::GET, &format!("/api/v1/claims/{claim}"), None).await;
        assert!(
            mine.body.contains("证书系代考") && !mine.body.contains("张某") && !mine.body.contains("13700000000"),
            "{}",
            mine.body
        );
        let r = app
            .api(
                Some(Role::County),
                Method::POST,
                &format!("/api/v1/objections/{objection}"),
                Some(json!({"uphold": true, "resolution": "经核实证书系代考"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        assert_eq!(status(&app, claim).await, "rejected");
        // A rejected claim is no longer on notice and its subsidy no longer counts in the history.
        assert!(!app
            .api(None, Method::GET, "/api/v1/notice", None)
            .await
            .body
            .contains(&format!("\"claim_id\":{claim}")));
    }
}

both_backends! {
    async fn the_public_notice_drops_a_claim_the_day_after_its_notice_ends_though_nothing_was_written(backend: &'static str) {
        let app = spawn_app(backend).await;
        let claim = certified(&app).await;
        act(&app, Role::County, claim, "approve", "").await;
        act(&app, Role::County, claim, "publish", "").await;
        let listed = format!("\"claim_id\":{claim}");
        let shown = format!("data-claim=\"{claim}\"");
        // Read once, so the public cache holds both.
        assert!(app.api(None, Method::GET, "/api/v1/notice", None).await.body.contains(&listed), "{backend}");
        let page = app.page(None, Method::GET, "/notice", &[], false).await.body;
        assert!(page.contains("李*") && page.contains(&shown), "{backend}");
        // The last day of the notice: still listed.
        app.clock.set(today() + Days::new(6));
        assert!(app.api(None, Method::GET, "/api/v1/notice", None).await.body.contains(&listed), "{backend}");
        // The next day, with no write in between: gone from the API and the page alike.
        app.clock.set(today() + Days::new(7));
        let api = app.api(None, Method::GET, "/api/v1/notice", None).await;
        assert_eq!(api.status, StatusCode::OK);
        assert!(!api.body.contains(&listed), "{backend}: {}", api.body);
        let page = app.page(None, Method::GET, "/notice", &[], false).await.body;
        assert!(!page.contains("李*") && !page.contains(&shown), "{backend}: the notice page still lists the claim");
    }
}

both_backends! {
    async fn a_refused_objection_shows_the_form_again_with_what_was_typed(backend: &'static str) {
        let app = spawn_app(backend).await;
        let claim = certified(&app).await;
        act(&app, Role::County, claim, "approve", "").await;
        act(&app, Role::County, claim, "publish", "").await;
        let r = app
            .page(
                None,
                Method::POST,
                &format!("/notice/{claim}/objections"),
                &[("filer_name", "张某"), ("contact", "13700000000"), ("reason", " ")],
                false,
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}: {}", r.body);
        // The claims on notice are still listed, the form is open with what was typed, and the
        // error stands beside the reason.
        assert!(r.body.contains(&format!("data-claim=\"{claim}\"")), "{backend}: the notice is listed");
        assert!(r.body.contains("<details open>") && r.body.contains(r#"value="张某""#), "{backend}: {}", r.body);
        assert!(r.body.contains("field-error"), "{backend}: the reason's error is at the field");
        assert!(!r.body.contains("当前没有公示中的补贴"), "{backend}");
    }
}

both_backends! {
    async fn an_employer_claim_filed_many_times_at_once_is_one_claim(backend: &'static str) {
        let app = spawn_app(backend).await;
        // The worker is a poor worker employed by the (enterprise) employer for over 6 months (S5a).
        jineng_store::people::add_group(&app.db, None, app.my_person, "poor_worker", "2019-01-01".parse().unwrap())
            .await
            .unwrap();
        let body = json!({"kind": "on_the_job", "id_number": id_number(MY_COUNTY, 11), "name": "李娜", "employed_from": "2020-01-01", "from": "2020-09-01", "months": 3});
        let calls: Vec<_> =
            (0..8).map(|_| app.api_keyed(Role::Employer, "/api/v1/claims", "form-7f3a", body.clone())).collect();
        let results = futures_util::future::join_all(calls).await;
        let created = results.iter().filter(|r| r.status == StatusCode::CREATED).count();
        assert!(
            results.iter().all(|r| r.status == StatusCode::CREATED || r.status == StatusCode::OK),
            "{backend}: {:?}",
            results.iter().map(|r| &r.body).collect::<Vec<_>>()
        );
        let ids: std::collections::BTreeSet<i64> =
            results.iter().map(|r| r.json()["claim"]["claim_id"].as_i64().unwrap()).collect();
        assert_eq!(ids.len(), 1, "{backend}: one claim");
        assert!(created <= 1, "{backend}: {created} created");
        let mine = app.api(Some(Role::Employer), Method::GET, "/api/v1/claims", None).await.json();
        assert_eq!(mine.as_array().unwrap().len(), 1);
        let c = &mine[0];
        assert_eq!(
            (c["kind"].as_str(), c["outcome"].as_str(), c["amount_fen"].as_i64()),
            (Some("on_the_job"), Some("approved"), Some(60_000)),
            "{backend}: {c}"
        );
        // The page form: a double click submits the same form key twice and files one claim.
        let base = facility(&app, "training_base", "天一食品高技能人才培训基地", 25_000_000, true, true).await;
        let base_id = base.to_string();
        let form = [("key", "page-form-1"), ("kind", "equipment_grant"), ("facility_id", base_id.as_str())];
        let (a, b) = tokio::join!(
            app.page(Some(Role::Employer), Method::POST, "/claims", &form, true),
            app.page(Some(Role::Employer), Method::POST, "/claims", &form, true)
        );
        assert_eq!(
            (a.status, b.status),
            (StatusCode::SEE_OTHER, StatusCode::SEE_OTHER),
            "{backend}: {} {}",
            a.body,
            b.body
        );
        assert_eq!(a.headers["location"], b.headers["location"], "{backend}: the same claim");
        let claim =
            app.page(Some(Role::Employer), Method::GET, a.headers["location"].to_str().unwrap(), &[], false).await;
        assert!(
            claim.body.contains("设施设备补助") && claim.body.contains("¥50,000.00"),
            "{backend}: 20 % of 250,000 yuan"
        );
        // A bad amount is named on the form, nothing filed.
        let bad = [("key", "page-form-2"), ("kind", "equipment_grant"), ("facility_id", "abc")];
        let r = app.page(Some(Role::Employer), Method::POST, "/claims", &bad, true).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("facility_id"));
        // Without a key the API refuses; the worker (who files her own subsidies) cannot file an
        // employer's kind of claim: refused at the kind, nothing filed.
        let r = app.api(Some(Role::Employer), Method::POST, "/api/v1/claims", Some(body.clone())).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        let r = app.api_keyed(Role::Worker, "/api/v1/claims", "k", body.clone()).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(r.body.contains("\"kind\""), "{}", r.body);
        // A wrong ID number names the field.
        let mut bad = body.clone();
        bad["id_number"] = json!("411722199001011234");
        let r = app.api_keyed(Role::Employer, "/api/v1/claims", "other", bad).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("id_number"));
        // Equipment grant: 20 % of the registered facility's equipment, capped; once per
        // facility; not accepted by both finance and HR → nothing.
        let studio = facility(&app, "master_studio", "王师傅技能大师工作室", 100_000_000, true, true).await;
        let r = app.api_keyed(Role::Employer, "/api/v1/claims", "eq-1", json!({"kind": "equipment_grant", "facility_id": studio})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert_eq!(r.json()["claim"]["amount_fen"], 10_000_000);
        let r = app.api_keyed(Role::Employer, "/api/v1/claims", "eq-1-again", json!({"kind": "equipment_grant", "facility_id": studio})).await;
        assert_eq!(r.json()["claim"]["outcome"], "rejected", "one-off per facility: {}", r.body);
        assert!(r.body.contains("E1b.facility_granted"), "{}", r.body);
        let half = facility(&app, "training_base", "只经财政验收的基地", 1_000_000, true, false).await;
        let r = app.api_keyed(Role::Employer, "/api/v1/claims", "eq-2", json!({"kind": "equipment_grant", "facility_id": half})).await;
        assert_eq!(r.json()["claim"]["outcome"], "rejected");
        assert!(r.body.contains("E1b.not_accepted"), "{}", r.body);
        // Lists filter by kind and page; an unknown kind is named.
        let eq = app.api(Some(Role::CityAdmin), Method::GET, "/api/v1/claims?kind=equipment_grant", None).await.json();
        assert_eq!(eq.as_array().unwrap().len(), 4, "{backend}");
        // Pages by keyset: two at a time, each next page starting after the last claim shown.
        let ids = |v: &serde_json::Value| v.as_array().unwrap().iter().map(|c| c["claim_id"].as_i64().unwrap()).collect::<Vec<_>>();
        let all = ids(&eq);
        let p1 = app.api(Some(Role::CityAdmin), Method::GET, "/api/v1/claims?kind=equipment_grant&limit=2", None).await.json();
        assert_eq!(ids(&p1), all[..2].to_vec());
        let p2 = app
            .api(Some(Role::CityAdmin), Method::GET, &format!("/api/v1/claims?kind=equipment_grant&limit=2&before={}", all[1]), None)
            .await
            .json();
        assert_eq!(ids(&p2), all[2..].to_vec(), "{backend}");
        let p3 = app
            .api(Some(Role::CityAdmin), Method::GET, &format!("/api/v1/claims?kind=equipment_grant&before={}", all[3]), None)
            .await
            .json();
        assert_eq!(p3.as_array().unwrap().len(), 0);
        let r = app.api(Some(Role::CityAdmin), Method::GET, "/api/v1/claims?kind=bonus", None).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        let page = app.page(Some(Role::County), Method::GET, "/claims?kind=equipment_grant", &[], false).await;
        assert_eq!(page.body.matches("href=\"/claims/").count(), 4, "{backend}");
        assert!(!page.body.contains("id=\"next-page\""), "one page");
    }
}

both_backends! {
    async fn a_settlement_below_the_advance_becomes_a_recovery(backend: &'static str) {
        let app = spawn_app(backend).await;
        // A class that is not project-based is paid per certificate: no project claim (S9).
        let (_, plain) = certified_in(&app).await;
        let body = |class: i64, contract: i64, stage: &str| json!({"kind": "project_training", "class_id": class, "contract_fen": contract, "stage": stage});
        let r = app.api_keyed(Role::Provider, "/api/v1/claims", "plain", body(plain, 100_000, "advance")).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}: {}", r.body);
        assert!(r.body.contains("项目制"), "{}", r.body);
        // A project-based class of one trainee at the project's 1,000 yuan: the contract is at
        // most 1,000 yuan.
        let r = class_with(&app, json!({"project_based": true, "contract_fen": 100_000, "start_date": "2021-06-07", "end_date": "2021-06-11"})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{backend}: {}", r.body);
        let class = r.json()["id"].as_i64().unwrap();
        approve_class(&app, class).await;
        let r = app.api_keyed(Role::Provider, "/api/v1/claims", "big", body(class, 1_000_000_000_000_000, "advance")).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}: {}", r.body);
        assert!(r.json()["error"]["fields"]["contract_fen"].as_str().unwrap().contains("1,000.00"), "{}", r.body);
        let r = app.api_keyed(Role::Provider, "/api/v1/claims", "adv", body(class, 100_000, "advance")).await;
        assert_eq!(r.status, StatusCode::CREATED, "{backend}: {}", r.body);
        assert_eq!(r.json()["claim"]["amount_fen"], 50_000);
        let r = app.api_keyed(Role::Provider, "/api/v1/claims", "set", body(class, 100_000, "settlement")).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let c = r.json()["claim"].clone();
        // The trainee has no certificate, so the settlement is worth nothing: all of the advance
        // is to be recovered.
        assert_eq!(
            (c["outcome"].as_str(), c["amount_fen"].as_i64()),
            (Some("recover"), Some(50_000)),
            "{backend}: {c}"
        );
        let id = c["claim_id"].as_i64().unwrap();
        let r = act(&app, Role::County, id, "approve", "").await;
        assert_eq!(r.json()["claim"]["status"], "recovery_due");
        let r = finance(&app, json!({"op": "record_recovery", "claim_id": id, "note": "缴款书 No.2021-0042"})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(status(&app, id).await, "recovered");
        assert_eq!(balance(&app).await, 50_000);
        // A second settlement of the same project is refused by S9.
        let r = app.api_keyed(Role::Provider, "/api/v1/claims", "set-2", body(class, 100_000, "settlement")).await;
        assert_eq!(r.json()["claim"]["outcome"], "rejected", "{}", r.body);
    }
}

both_backends! {
    async fn an_insured_employee_gets_the_skill_upgrade_subsidy_instead(backend: &'static str) {
        let app = spawn_app(backend).await;
        jineng_store::people::add_group(&app.db, None, app.my_person, "employee", "2015-01-01".parse().unwrap())
            .await
            .unwrap();
        let r = app
            .api(
                Some(Role::County),
                Method::PUT,
                &format!("/api/v1/people/{}", app.my_person),
                Some(json!({"name": "李娜", "county_code": MY_COUNTY, "rural": true, "insured_since": "2016-03-01"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.json()["insured_since"], "2016-03-01");
        certified(&app).await;
        let claims = app.api(Some(Role::CityAdmin), Method::GET, "/api/v1/claims", None).await.json();
        let kinds: Vec<_> = claims.as_array().unwrap().iter().map(|c| c["kind"].as_str().unwrap().to_owned()).collect();
        assert_eq!(kinds, vec!["skill_upgrade_subsidy"], "{backend}");
        assert_eq!(claims[0]["fund"], "unemployment_insurance_fund");
    }
}

fn employer_code() -> String {
    jineng_domain::CreditCode::generate(jineng_domain::AreaCode::parse(MY_COUNTY).unwrap(), 79).to_string()
}

async fn class_with(app: &TestApp, changes: serde_json::Value) -> common::Resp {
    let p = common::catalog_project(app).await;
    let mut body = common::application(
        p,
        json!([{"id_number": id_number(MY_COUNTY, 11), "name": "李娜"}]),
        "2021-05-10",
        "2021-05-14",
    );
    for (k, v) in changes.as_object().unwrap() {
        body[k] = v.clone();
    }
    app.api(Some(Role::Provider), Method::POST, "/api/v1/classes", Some(body)).await
}

async fn approve_class(app: &TestApp, class: i64) {
    let r = app
        .api(
            Some(Role::County),
            Method::POST,
            &format!("/api/v1/classes/{class}/actions"),
            Some(json!({"action": "approve"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

both_backends! {
    async fn a_pre_job_class_names_its_employer_who_then_claims_the_subsidy(backend: &'static str) {
        let app = spawn_app(backend).await;
        let r = class_with(&app, json!({"kind": "pre_job"})).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}: {}", r.body);
        assert!(r.body.contains("employer_credit_code"), "{}", r.body);
        let r = class_with(&app, json!({"kind": "pre_job", "employer_credit_code": "91411722MA0000000X"})).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}: unknown employer: {}", r.body);
        let r = class_with(&app, json!({"kind": "pre_job", "employer_credit_code": employer_code()})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{backend}: {}", r.body);
        let class = r.json()["id"].as_i64().unwrap();
        approve_class(&app, class).await;
        let r = app
            .api_keyed(Role::Employer, "/api/v1/claims", "pre-1", json!({"kind": "pre_job", "id_number": id_number(MY_COUNTY, 11), "name": "李娜", "employed_from": "2021-05-01", "class_id": class}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{backend}: {}", r.body);
        let c = &r.json()["claim"];
        assert_eq!(c["outcome"], "approved", "{backend}: {c}");
        assert!(c["amount_fen"].as_i64().unwrap() > 0);
        let decision: serde_json::Value = serde_json::from_str(c["decision"].as_str().unwrap()).unwrap();
        assert!(decision["clauses"].as_array().unwrap().contains(&json!("S3")), "{decision}");
        // The employment declared with the claim is in the registry now: a second claim for the
        // same worker and employer, on-the-job this time, conflicts with the pre-job subsidy (S5).
        let r = app
            .api_keyed(Role::Employer, "/api/v1/claims", "otj-1", json!({"kind": "on_the_job", "id_number": id_number(MY_COUNTY, 11), "name": "李娜", "employed_from": "2021-05-01", "from": "2021-06-01", "months": 2}))
            .await;
        let c = &r.json()["claim"];
        assert_eq!(c["outcome"], "rejected", "{backend}: {c}");
    }
}

both_backends! {
    /// A project (one contract, one project number) runs two classes: its claims are bounded by
    /// what both approved classes are worth, and it has one advance whichever class it names.
    async fn a_project_of_two_classes_is_claimed_as_one(backend: &'static str) {
        let app = spawn_app(backend).await;
        let mut classes = Vec::new();
        for (county, seq) in [(MY_COUNTY, 11), (common::OTHER_COUNTY, 12)] {
            let r = class_with(
                &app,
                json!({"project_based": true, "project_code": "XM-2021-7", "contract_fen": 100_000,
                       "roster": [{"id_number": id_number(county, seq), "name": "李娜"}]}),
            )
            .await;
            assert_eq!(r.status, StatusCode::CREATED, "{backend}: {}", r.body);
            let class = r.json()["id"].as_i64().unwrap();
            approve_class(&app, class).await;
            classes.push(class);
        }
        let body = |class: i64, contract: i64| json!({"kind": "project_training", "class_id": class, "contract_fen": contract, "stage": "advance"});
        // Over both classes' 2,000 yuan: refused, naming the two classes.
        let r = app.api_keyed(Role::Provider, "/api/v1/claims", "over", body(classes[0], 200_001)).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}: {}", r.body);
        assert!(r.body.contains("2 个班"), "{}", r.body);
        // Within them: half of it in advance.
        let r = app.api_keyed(Role::Provider, "/api/v1/claims", "a", body(classes[0], 150_000)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{backend}: {}", r.body);
        assert_eq!(r.json()["claim"]["amount_fen"], 75_000, "{}", r.body);
        // The other class is the same project: no second advance.
        let r = app.api_keyed(Role::Provider, "/api/v1/claims", "b", body(classes[1], 150_000)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{backend}: {}", r.body);
        assert_eq!(r.json()["claim"]["outcome"], "rejected", "{}", r.body);
        assert!(r.body.contains("S9"), "{}", r.body);
    }
}

both_backends! {
    async fn a_project_based_class_is_paid_to_the_provider_by_settlement(backend: &'static str) {
        let app = spawn_app(backend).await;
        // A project-based class states its share of the contract.
        let r = class_with(&app, json!({"project_based": true})).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}: {}", r.body);
        assert!(r.body.contains("contract_fen") && r.body.contains("合同金额"), "{}", r.body);
        let r = class_with(&app, json!({"project_based": true, "contract_fen": 100_000})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{backend}: {}", r.body);
        let class = r.json()["id"].as_i64().unwrap();
        approve_class(&app, class).await;
        let r = app
            .api(
                Some(Role::AssessmentBody),
                Method::POST,
                &format!("/api/v1/classes/{class}/assessments"),
                Some(json!({"id_number": id_number(MY_COUNTY, 11), "assessed_on": "2021-05-15", "score": 90, "passed": true, "kind": "skill_level", "serial": "P-1"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        // No individual training subsidy for a project-based class.
        let claims = app.api(Some(Role::CityAdmin), Method::GET, "/api/v1/claims", None).await.json();
        assert_eq!(claims.as_array().unwrap().len(), 0, "{backend}: {claims}");
        let r = app
            .api_keyed(
                Role::Provider,
                "/api/v1/claims",
                "a",
                json!({"kind": "project_training", "class_id": class, "contract_fen": 100_000, "stage": "advance"}),
            )
            .await;
        assert_eq!(r.json()["claim"]["amount_fen"], 50_000, "{}", r.body);
        let r = app
            .api_keyed(
                Role::Provider,
                "/api/v1/claims",
                "s",
                json!({"kind": "project_training", "class_id": class, "contract_fen": 100_000, "stage": "settlement"}),
            )
            .await;
        let c = &r.json()["claim"];
        assert_eq!(
            (c["outcome"].as_str(), c["amount_fen"].as_i64()),
            (Some("approved"), Some(50_000)),
            "{backend}: {c}"
        );
        // The provider sees its own claims; the employer none of them.
        assert_eq!(
            app.api(Some(Role::Provider), Method::GET, "/api/v1/claims", None).await.json().as_array().unwrap().len(),
            2
        );
        assert_eq!(
            app.api(Some(Role::Employer), Method::GET, "/api/v1/claims", None).await.json().as_array().unwrap().len(),
            0
        );
    }
}

/// A facility the employer registers (value in fen), accepted by finance and/or HR (the county).
async fn facility(app: &TestApp, kind: &str, name: &str, value_fen: i64, finance: bool, hr: bool) -> i64 {
    let r = app
        .api(Some(Role::Employer), Method::POST, "/api/v1/facilities", Some(json!({"kind": kind, "name": name, "equipment_value_fen": value_fen, "invoices": "豫增值税发票 No.41000212 2021-03-02"})))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.json()["id"].as_i64().unwrap();
    let path = format!("/api/v1/facilities/{id}/acceptance");
    let accept = |role: Role| app.api(Some(role), Method::POST, &path, Some(json!({"reference": "驻财验〔2021〕8号"})));
    if finance {
        let r = accept(Role::Finance).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(accept(Role::Finance).await.status, StatusCode::CONFLICT, "accepted once by each side");
    }
    if hr {
        let r = accept(Role::County).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
    id
}
