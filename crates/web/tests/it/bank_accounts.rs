//! Payees' bank accounts (issue 13): a payee records its own, an office records one for a payee
//! of its scope, the holder is the payee itself, numbers leave the server masked and every change
//! is audited masked; a payment keeps the account it was made to; one account for different
//! payees is a finding that names their claims, so that confirming it stops their money.

use crate::common::{spawn_app, TestApp, MY_COUNTY};
use axum::http::{Method, StatusCode};
use jineng_domain::{AreaCode, CreditCode, Role};
use jineng_store::checks::{self, Check};
use jineng_store::orgs::{self, OrgInput, OrgKind};
use jineng_store::testing::both_backends;
use serde_json::{json, Value};

const FULL: &str = "6228480012345678";

async fn scalar(app: &TestApp, sql: &str) -> i64 {
    jineng_store::with_pool!(&app.db, |p| sqlx::query_scalar::<_, i64>(sql).fetch_one(p).await.unwrap())
}

async fn text(app: &TestApp, sql: &str) -> String {
    jineng_store::with_pool!(&app.db, |p| sqlx::query_scalar::<_, String>(sql).fetch_one(p).await.unwrap())
}

async fn record(app: &TestApp, role: Role, body: Value) -> (StatusCode, Value) {
    let r = app.api(Some(role), Method::POST, "/api/v1/bank-accounts", Some(body)).await;
    let v = serde_json::from_str(&r.body).unwrap_or(Value::Null);
    (r.status, v)
}

async fn provider_name(app: &TestApp, id: i64) -> String {
    text(app, &format!("SELECT name FROM provider WHERE provider_id = {id}")).await
}

both_backends! {
    async fn a_payee_records_its_own_account_which_is_shown_masked_and_audited(backend: &'static str) {
        let app = spawn_app(backend).await;
        let name = provider_name(&app, app.provider_id).await;
        let list = app.api(Some(Role::Provider), Method::GET, "/api/v1/bank-accounts", None).await;
        assert_eq!(list.status, StatusCode::OK, "{backend}: {}", list.body);
        assert_eq!(list.json(), json!([]), "{backend}");

        // The holder must be the payee itself; a number is digits.
        let (s, v) = record(&app, Role::Provider, json!({"bank": "中国农业银行上蔡支行", "account_no": FULL, "holder": "张三"})).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{backend}: {v}");
        assert!(v["error"]["fields"]["holder"].is_string(), "{backend}: {v}");
        let (s, v) = record(&app, Role::Provider, json!({"bank": "中国农业银行上蔡支行", "account_no": "6228-abc", "holder": name})).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{backend}: {v}");
        assert!(v["error"]["fields"]["account_no"].is_string(), "{backend}: {v}");
        let (s, v) = record(&app, Role::Provider, json!({"bank": " ", "account_no": FULL, "holder": name})).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{backend}: {v}");
        assert!(v["error"]["fields"]["bank"].is_string(), "{backend}: {v}");
        assert_eq!(scalar(&app, "SELECT COUNT(*) FROM bank_account").await, 0, "{backend}: nothing refused is kept");

        // Groups of digits are one number; it comes back masked, declared by the payee.
        let (s, v) = record(&app, Role::Provider, json!({"bank": "中国农业银行上蔡支行", "account_no": "6228 4800 1234 5678", "holder": name})).await;
        assert_eq!(s, StatusCode::CREATED, "{backend}: {v}");
        assert_eq!(v["account_no"], "6228********5678", "{backend}: {v}");
        assert_eq!(v["source"], "declared", "{backend}");
        assert_eq!(text(&app, "SELECT account_no FROM bank_account").await, FULL, "{backend}: stored whole");
        // A new account retires the old one, which is kept.
        let (s, _) = record(&app, Role::Provider, json!({"bank": "上蔡农商银行", "account_no": "41050100000000000099", "holder": name})).await;
        assert_eq!(s, StatusCode::CREATED, "{backend}");
        let list = app.api(Some(Role::Provider), Method::GET, "/api/v1/bank-accounts", None).await.json();
        let list = list.as_array().unwrap();
        assert_eq!(list.len(), 2, "{backend}: {list:?}");
        assert!(list[0]["retired_at"].is_null() && list[0]["bank"] == "上蔡农商银行", "{backend}: the one in force first");
        assert!(list[1]["retired_at"].is_string(), "{backend}: the old one retired");
        // Audited, before and after, never the whole number.
        assert_eq!(scalar(&app, "SELECT COUNT(*) FROM audit_log WHERE action = 'record_bank_account'").await, 2, "{backend}");
        let leaked = scalar(&app, &format!("SELECT COUNT(*) FROM audit_log WHERE detail LIKE '%{FULL}%'")).await;
        assert_eq!(leaked, 0, "{backend}: the audit log keeps numbers masked");
        let page = app.page(Some(Role::Provider), Method::GET, "/bank-accounts", &[], false).await;
        assert_eq!(page.status, StatusCode::OK, "{backend}");
        assert!(page.body.contains(&format!("4105{}0099", "*".repeat(12))) && !page.body.contains("41050100000000000099"), "{backend}: masked on the page");

        // A worker's account is in the worker's own name, shown masked.
        let me = text(&app, &format!("SELECT name FROM person WHERE person_id = {}", app.my_person)).await;
        let (s, v) = record(&app, Role::Worker, json!({"bank": "中国邮政储蓄银行上蔡县支行", "account_no": "6217991234567890123", "holder": me})).await;
        assert_eq!(s, StatusCode::CREATED, "{backend}: {v}");
        assert_ne!(v["holder"], json!(me), "{backend}: a person's name is masked: {v}");
        // 32 recordings at once: each lands or is told to try again; one account stays in force.
        let calls = (0..32).map(|i| {
            let app = &app;
            let name = name.clone();
            async move {
                let body = json!({"bank": "上蔡农商银行", "account_no": format!("410501000000000{i:05}"), "holder": name});
                app.api(Some(Role::Provider), Method::POST, "/api/v1/bank-accounts", Some(body)).await.status
            }
        });
        for status in futures_util::future::join_all(calls).await {
            assert!(status == StatusCode::CREATED || status == StatusCode::CONFLICT, "{backend}: {status}");
        }
        let in_force = scalar(&app, &format!(
            "SELECT COUNT(*) FROM bank_account WHERE payee_kind = 'provider' AND payee_id = {} AND retired_at IS NULL", app.provider_id)).await;
        assert_eq!(in_force, 1, "{backend}");
        // Nobody else's accounts reach a payee.
        let theirs = app.api(Some(Role::Employer), Method::GET, "/api/v1/bank-accounts", None).await.json();
        assert_eq!(theirs, json!([]), "{backend}");
    }
}

both_backends! {
    async fn an_office_records_accounts_of_its_own_scope_only(backend: &'static str) {
        let app = spawn_app(backend).await;
        let name = provider_name(&app, app.provider_id).await;
        let body = json!({"payee_kind": "provider", "payee_id": app.provider_id, "bank": "中国建设银行上蔡支行", "account_no": FULL, "holder": name});
        let (s, v) = record(&app, Role::County, body.clone()).await;
        assert_eq!(s, StatusCode::CREATED, "{backend}: {v}");
        assert_eq!(v["source"], "county_verified", "{backend}");
        // Another county's person is unknown to this county; the city reaches every county.
        let other = text(&app, &format!("SELECT name FROM person WHERE person_id = {}", app.other_person)).await;
        let theirs = json!({"payee_kind": "person", "payee_id": app.other_person, "bank": "工商银行", "account_no": "6222020000000001", "holder": other});
        let (s, v) = record(&app, Role::County, theirs.clone()).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{backend}: {v}");
        assert!(v["error"]["fields"]["payee_id"].is_string(), "{backend}: {v}");
        let (s, v) = record(&app, Role::CityAdmin, theirs).await;
        assert_eq!(s, StatusCode::CREATED, "{backend}: {v}");
        // An office must name the payee; a payee that does not exist is named as such.
        let (s, v) = record(&app, Role::CityAdmin, json!({"bank": "工商银行", "account_no": FULL, "holder": name})).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{backend}: {v}");
        assert!(v["error"]["fields"]["payee_kind"].is_string(), "{backend}: {v}");
        let (s, v) = record(&app, Role::CityAdmin, json!({"payee_kind": "provider", "payee_id": 999_999, "bank": "工商银行", "account_no": FULL, "holder": name})).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{backend}: {v}");
        // Finance and auditors read; they do not record.
        let (s, _) = record(&app, Role::Finance, body).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{backend}");
        let county = app.api(Some(Role::County), Method::GET, "/api/v1/bank-accounts", None).await.json();
        assert_eq!(county.as_array().unwrap().len(), 1, "{backend}: the county sees its county's: {county}");
        let city = app.api(Some(Role::Auditor), Method::GET, "/api/v1/bank-accounts", None).await.json();
        assert_eq!(city.as_array().unwrap().len(), 2, "{backend}: {city}");
        let people = app.api(Some(Role::Auditor), Method::GET, "/api/v1/bank-accounts?kind=person", None).await.json();
        assert_eq!(people.as_array().unwrap().len(), 1, "{backend}: {people}");
        let r = app.api(Some(Role::Auditor), Method::GET, "/api/v1/bank-accounts?kind=bank", None).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}: {}", r.body);
        // The page: the form names the payee for the office, errors at the field.
        let page = app.page(Some(Role::County), Method::POST, "/bank-accounts",
            &[("payee_kind", "provider"), ("payee_id", "abc"), ("bank", "工商银行"), ("account_no", FULL), ("holder", &name)], true).await;
        assert!(page.body.contains("收款人编号应为数字"), "{backend}: {}", page.body);
        assert!(page.body.contains(&name), "{backend}: what was typed is kept");
    }
}

both_backends! {
    async fn one_account_for_two_payees_is_a_finding_that_stops_their_money(backend: &'static str) {
        let app = spawn_app(backend).await;
        let other = orgs::create(&app.db, None, OrgKind::Provider, &OrgInput {
            credit_code: CreditCode::generate(AreaCode::parse(MY_COUNTY).unwrap(), 91).to_string(),
            legacy: false,
            name: "上蔡县借户职业培训学校".into(),
            county_code: MY_COUNTY.into(),
            kind: None,
            insured: false,
            status: None,
        }).await.unwrap();
        let mine = provider_name(&app, app.provider_id).await;
        let theirs = provider_name(&app, other).await;
        let (s, v) = record(&app, Role::Provider, json!({"bank": "农行", "account_no": FULL, "holder": mine})).await;
        assert_eq!(s, StatusCode::CREATED, "{backend}: {v}");
        assert!(checks::run(&app.db, Check::SharedBankAccount).await.unwrap().is_empty(), "{backend}: one payee, one account");
        // The same number recorded for another provider (and so under its name): accepted, and found.
        let (s, v) = record(&app, Role::CityAdmin, json!({"payee_kind": "provider", "payee_id": other, "bank": "农行", "account_no": FULL, "holder": theirs})).await;
        assert_eq!(s, StatusCode::CREATED, "{backend}: {v}");
        let code = text(&app, &format!("SELECT credit_code FROM provider WHERE provider_id = {}", app.provider_id)).await;
        let payee = json!({"provider": code}).to_string();
        jineng_store::with_pool!(&app.db, |p| { sqlx::query(
            "INSERT INTO claim (idempotency_key, kind, person_id, county_code, filed_on, status, outcome, amount_fen, payee, fund, \
             decision, snapshot, created_at, provider_id) VALUES ('k1', 'training_subsidy', $1, $2, '2020-06-01', 'decided', 'approved', \
             50000, $3, 'employment_subsidy_fund', '{}', '{}', $4, $5)")
            .bind(app.my_person).bind(MY_COUNTY).bind(&payee).bind(chrono::Utc::now()).bind(app.provider_id)
            .execute(p).await.unwrap(); });
        let claim = scalar(&app, "SELECT claim_id FROM claim WHERE idempotency_key = 'k1'").await;
        let found = checks::run(&app.db, Check::SharedBankAccount).await.unwrap();
        assert_eq!(found.len(), 1, "{backend}: {found:?}");
        let (a, b) = (app.provider_id.min(other), app.provider_id.max(other));
        assert_eq!(found[0].subject, format!("payees:provider:{a},provider:{b}"), "{backend}");
        assert_eq!(found[0].evidence["rows"]["claim"], json!([claim]), "{backend}: {}", found[0].evidence);
        assert_eq!(found[0].money_fen, Some(50_000), "{backend}");
        assert_eq!(found[0].evidence["account"], "6228********5678", "{backend}: masked in the evidence");
        assert!(!found[0].evidence.to_string().contains(FULL), "{backend}");
        // Recorded and confirmed, it stops the claim.
        let r = app.api(Some(Role::CityAdmin), Method::POST, "/api/v1/findings/run", None).await;
        assert_eq!(r.json()["recorded"], 1, "{backend}: {}", r.body);
        let list = app.api(Some(Role::CityAdmin), Method::GET, "/api/v1/findings?check=shared_bank_account", None).await.json();
        let id = list[0]["finding_id"].as_i64().unwrap();
        let r = app.api(Some(Role::CityAdmin), Method::POST, &format!("/api/v1/findings/{id}/decision"),
            Some(json!({"decision": "confirm", "reason": "两机构共用同一对公账户"}))).await;
        assert_eq!(r.status, StatusCode::OK, "{backend}: {}", r.body);
        let r = app.api(Some(Role::County), Method::POST, &format!("/api/v1/claims/{claim}/actions"), Some(json!({"action": "approve"}))).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}: stopped: {}", r.body);
        // The payee moves to its own account: the check finds nothing more.
        let (s, _) = record(&app, Role::Provider, json!({"bank": "农行", "account_no": "6228480099990000", "holder": mine})).await;
        assert_eq!(s, StatusCode::CREATED, "{backend}");
        assert!(checks::run(&app.db, Check::SharedBankAccount).await.unwrap().is_empty(), "{backend}");
    }
}

both_backends! {
    async fn a_payment_keeps_the_account_it_was_made_to(backend: &'static str) {
        let app = spawn_app(backend).await;
        let me = text(&app, &format!("SELECT name FROM person WHERE person_id = {}", app.my_person)).await;
        let id_number = text(&app, &format!("SELECT id_number FROM person WHERE person_id = {}", app.my_person)).await;
        let (s, v) = record(&app, Role::Worker, json!({"bank": "邮储银行", "account_no": FULL, "holder": me})).await;
        assert_eq!(s, StatusCode::CREATED, "{backend}: {v}");
        let ended = app.clock.today() - chrono::Duration::days(10);
        for (key, person, payee) in [("mine", app.my_person, json!({"person": id_number}).to_string()), ("other", app.other_person, "{\"person\":\"x\"}".to_owned())] {
            jineng_store::with_pool!(&app.db, |p| { sqlx::query(
                "INSERT INTO claim (idempotency_key, kind, person_id, county_code, filed_on, status, outcome, amount_fen, payee, fund, \
                 decision, snapshot, created_at, notice_from, notice_until) VALUES ($1, 'living_allowance', $2, $3, $4, 'on_notice', 'approved', \
                 30000, $5, 'employment_subsidy_fund', '{}', '{}', $6, $7, $8)")
                .bind(key).bind(person).bind(MY_COUNTY).bind(ended).bind(&payee).bind(chrono::Utc::now())
                .bind(ended - chrono::Duration::days(7)).bind(ended)
                .execute(p).await.unwrap(); });
        }
        let r = app.api(Some(Role::Finance), Method::POST, "/api/v1/payments",
            Some(json!({"op": "allocate", "fund": "employment_subsidy_fund", "amount_fen": 1_000_000, "note": "驻财社〔2020〕1号"}))).await;
        assert_eq!(r.status, StatusCode::OK, "{backend}: {}", r.body);
        let r = app.api(Some(Role::Finance), Method::POST, "/api/v1/payments", Some(json!({"op": "create_batch", "fund": "employment_subsidy_fund"}))).await;
        assert_eq!(r.status, StatusCode::OK, "{backend}: {}", r.body);
        let batch = r.json()["batch"]["batch_id"].as_i64().unwrap();
        let rows = app.api(Some(Role::Finance), Method::GET, &format!("/api/v1/payment-batches/{batch}"), None).await.json();
        let rows = rows.as_array().unwrap();
        assert_eq!(rows.len(), 2, "{backend}: {rows:?}");
        let mine = scalar(&app, "SELECT claim_id FROM claim WHERE idempotency_key = 'mine'").await;
        let of = |claim: i64| rows.iter().find(|r| r["claim_id"] == claim).unwrap()["account_no"].clone();
        assert_eq!(of(mine), json!("6228********5678"), "{backend}: {rows:?}");
        let other = scalar(&app, "SELECT claim_id FROM claim WHERE idempotency_key = 'other'").await;
        assert_eq!(of(other), Value::Null, "{backend}: no account recorded, none kept");
        // A later change of account does not rewrite the payment.
        let (s, _) = record(&app, Role::Worker, json!({"bank": "邮储银行", "account_no": "6217000000000000", "holder": me})).await;
        assert_eq!(s, StatusCode::CREATED, "{backend}");
        assert_eq!(text(&app, &format!("SELECT account_no FROM payment WHERE claim_id = {mine}")).await, FULL, "{backend}");
    }
}
