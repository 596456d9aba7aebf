//! The fraud and anomaly checks (issue 13, part 1) on both backends: each anomaly is planted
//! through the live write paths where they allow it (rosters, check-ins, classes, enrolments),
//! by direct SQL where they refuse it (two check-ins on one day in two classes, a certificate
//! before its class, claims the engine would never grant); each is found with its rows, clean
//! data gives no finding of its kind, and the city admin alone decides each with a reason.

use crate::common::{self, id_number, spawn_app, TestApp, MY_COUNTY};
use axum::http::{Method, StatusCode};
use chrono::NaiveDate;
use jineng_domain::{AreaCode, CreditCode, IdNumber, Role, TrainingKind};
use jineng_store::checks::{self, Check, Found};
use jineng_store::orgs::{self, OrgInput, OrgKind};
use jineng_store::people::{self, NewPerson};
use jineng_store::testing::both_backends;
use jineng_store::training::{self, NewClass};
use serde_json::{json, Value};

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// Runs one statement with its date/number arguments on either backend.
macro_rules! exec {
    ($app:expr, $sql:expr $(, $arg:expr)*) => {
        jineng_store::with_pool!(&$app.db, |p| {
            sqlx::query($sql)$(.bind($arg))*.execute(p).await.unwrap();
        })
    };
}

async fn scalar(app: &TestApp, sql: &str) -> i64 {
    jineng_store::with_pool!(&app.db, |p| sqlx::query_scalar::<_, i64>(sql).fetch_one(p).await.unwrap())
}

/// A registered person in MY_COUNTY (number `seq`), with a phone if given.
async fn person(app: &TestApp, seq: u16, phone: Option<&str>) -> (i64, Value) {
    let id = id_number(MY_COUNTY, seq);
    let name = format!("学员{seq}");
    let person_id = people::create(
        &app.db,
        None,
        &NewPerson {
            id_number: IdNumber::parse(&id).unwrap(),
            name: name.clone(),
            county_code: MY_COUNTY.into(),
            phone: phone.map(str::to_owned),
            rural: false,
            groups: vec![],
        },
    )
    .await
    .unwrap();
    (person_id, json!({"id_number": id, "name": name}))
}

/// The provider applies for a class with this roster and these dates; the county approves it.
async fn approved(app: &TestApp, project: i64, roster: Value, start: &str, end: &str) -> i64 {
    let r = app
        .api(
            Some(Role::Provider),
            Method::POST,
            "/api/v1/classes",
            Some(common::application(project, roster, start, end)),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.json()["id"].as_i64().unwrap();
    let r = app
        .api(
            Some(Role::County),
            Method::POST,
            &format!("/api/v1/classes/{id}/actions"),
            Some(json!({"action": "approve"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    id
}

async fn check_in(app: &TestApp, class: i64, id: &Value, day: &str) {
    let r = app
        .api(
            Some(Role::Provider),
            Method::POST,
            &format!("/api/v1/classes/{class}/attendance"),
            Some(json!({"id_number": id["id_number"], "day": day, "method": "face"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
}

async fn found(app: &TestApp, check: Check) -> Vec<Found> {
    checks::run(&app.db, check).await.unwrap()
}

fn rows(f: &Found, table: &str) -> Vec<i64> {
    f.evidence["rows"][table].as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect()
}

async fn other_provider(app: &TestApp) -> i64 {
    orgs::create(
        &app.db,
        None,
        OrgKind::Provider,
        &OrgInput {
            credit_code: CreditCode::generate(AreaCode::parse(MY_COUNTY).unwrap(), 90).to_string(),
            legacy: false,
            name: "上蔡县另一职业培训学校".into(),
            county_code: MY_COUNTY.into(),
            kind: None,
            insured: false,
            status: None,
        },
    )
    .await
    .unwrap()
}

async fn plain_class(app: &TestApp, provider_id: i64, start: &str, end: &str) -> i64 {
    training::create_class(
        &app.db,
        None,
        &NewClass {
            name: "另一培训班".into(),
            program_code: "P2a".into(),
            occupation_code: "6-31-01-03".into(),
            level: None,
            kind: TrainingKind::SkillUpgrade,
            county_code: MY_COUNTY.into(),
            provider_id,
            start_date: d(start),
            end_date: d(end),
            subsidised: true,
        },
    )
    .await
    .unwrap()
}

both_backends! {
    async fn attendance_anomalies_are_found_with_their_rows(backend: &'static str) {
        let app = spawn_app(backend).await;
        let project = common::catalog_project(&app).await;
        let (p1, r1) = person(&app, 101, None).await;
        let (_, r2) = person(&app, 102, None).await;
        let class = approved(&app, project, json!([r1, r2]), "2021-05-10", "2021-05-14").await;
        check_in(&app, class, &r1, "2021-05-10").await;
        check_in(&app, class, &r2, "2021-05-10").await;
        for c in [Check::TwoClassesOneDay, Check::OutsideClassDates, Check::OverCapacity] {
            assert!(found(&app, c).await.is_empty(), "{backend}: clean check-ins give no {c:?}");
        }
        // The same person checked in to another class the same day (the write path refuses it).
        let other = plain_class(&app, app.provider_id, "2021-05-01", "2021-05-31").await;
        let e = training::enrol(&app.db, None, other, p1, d("2021-05-01")).await.unwrap();
        exec!(app, "INSERT INTO attendance (enrolment_id, day, checked_at, method) VALUES ($1, $2, $3, 'manual')",
            e, d("2021-05-10"), chrono::Utc::now());
        let two = found(&app, Check::TwoClassesOneDay).await;
        assert_eq!(two.len(), 1, "{backend}: {two:?}");
        assert_eq!(two[0].subject, format!("person:{p1}"));
        assert_eq!(rows(&two[0], "class"), { let mut v = vec![class, other]; v.sort(); v });
        assert_eq!(rows(&two[0], "attendance").len(), 2, "{backend}: both check-ins named");
        assert!(two[0].evidence["zh"].as_str().unwrap().contains("2021-05-10"), "{backend}: Chinese first, with the day");
        // A check-in after the class ended.
        exec!(app, "INSERT INTO attendance (enrolment_id, day, checked_at, method) \
                    SELECT enrolment_id, $1, $2, 'manual' FROM enrolment WHERE class_id = $3 AND person_id = $4",
            d("2021-05-20"), chrono::Utc::now(), class, p1);
        let outside = found(&app, Check::OutsideClassDates).await;
        assert_eq!(outside.len(), 1, "{backend}: {outside:?}");
        assert_eq!((outside[0].subject.as_str(), rows(&outside[0], "class")), (format!("class:{class}").as_str(), vec![class]));
        assert_eq!(outside[0].evidence["days"], json!(["2021-05-20"]));
        // Two checked in on a day of a class whose capacity is one.
        exec!(app, "UPDATE training_class SET capacity = 1 WHERE class_id = $1", class);
        let over = found(&app, Check::OverCapacity).await;
        assert_eq!(over.len(), 1, "{backend}: {over:?}");
        assert_eq!(over[0].evidence["days"], json!([{"day": "2021-05-10", "checked_in": 2}]));
    }
}

both_backends! {
    async fn certificate_anomalies_are_found_with_their_rows(backend: &'static str) {
        let app = spawn_app(backend).await;
        let class = common::certified_class(&app).await;
        for c in [Check::CertificateBeforeClass, Check::CertificateOtherBody] {
            assert!(found(&app, c).await.is_empty(), "{backend}: a certificate after its class, by its body, gives no {c:?}");
        }
        let cert = scalar(&app, "SELECT MAX(certificate_id) FROM certificate").await;
        exec!(app, "UPDATE certificate SET issued_on = $1 WHERE certificate_id = $2", d("2021-05-01"), cert);
        let before = found(&app, Check::CertificateBeforeClass).await;
        assert_eq!(before.len(), 1, "{backend}: {before:?}");
        assert_eq!((rows(&before[0], "certificate"), rows(&before[0], "class")), (vec![cert], vec![class]));
        assert!(before[0].evidence["zh"].as_str().unwrap().contains("2021-05-01"));
        // Money at stake: what the certificate's granted claims pay.
        let granted = scalar(&app, &format!("SELECT COUNT(*) FROM claim WHERE certificate_id = {cert} AND outcome IN ('approved', 'reduced') AND status <> 'rejected'")).await;
        assert_eq!(before[0].money_fen.is_some(), granted > 0, "{backend}");
        let body = orgs::create(&app.db, None, OrgKind::AssessmentBody, &OrgInput {
            credit_code: CreditCode::generate(AreaCode::parse(MY_COUNTY).unwrap(), 91).to_string(),
            legacy: false, name: "另一评价机构".into(), county_code: MY_COUNTY.into(), kind: None, insured: false, status: None,
        }).await.unwrap();
        exec!(app, "UPDATE certificate SET assessment_body_id = $1 WHERE certificate_id = $2", body, cert);
        let other = found(&app, Check::CertificateOtherBody).await;
        assert_eq!(other.len(), 1, "{backend}: {other:?}");
        assert!(rows(&other[0], "assessment_body").contains(&body), "{backend}: the issuing body named");
    }
}

both_backends! {
    async fn recycled_trainees_shared_phones_and_pensioners_are_found(backend: &'static str) {
        let app = spawn_app(backend).await;
        let project = common::catalog_project(&app).await;
        let mut roster = Vec::new();
        for seq in 201..208 {
            roster.push(person(&app, seq, None).await.1);
        }
        let a = approved(&app, project, json!(roster[0..5]), "2021-05-10", "2021-05-14").await;
        approved(&app, project, json!([roster[0], roster[1], roster[5], roster[6], roster[2]]), "2021-07-05", "2021-07-09").await;
        assert!(found(&app, Check::RecycledCohort).await.is_empty(), "{backend}: 3 of 5 the same is no recycled cohort");
        let b = approved(&app, project, json!(roster[0..4]), "2021-06-07", "2021-06-11").await;
        let recycled = found(&app, Check::RecycledCohort).await;
        assert_eq!(recycled.len(), 1, "{backend}: {recycled:?}");
        assert_eq!(rows(&recycled[0], "class"), vec![a, b]);
        assert_eq!((recycled[0].evidence["shared"].as_i64(), recycled[0].evidence["percent"].as_i64()), (Some(4), Some(80)));

        // The worker (enrolled with the provider) and another person share a phone; the other
        // is enrolled nowhere yet.
        assert!(found(&app, Check::SharedPhone).await.is_empty(), "{backend}: one provider's people only");
        let class = plain_class(&app, other_provider(&app).await, "2021-08-02", "2021-08-06").await;
        training::enrol(&app.db, None, class, app.other_person, d("2021-08-01")).await.unwrap();
        let shared = found(&app, Check::SharedPhone).await;
        assert_eq!(shared.len(), 1, "{backend}: {shared:?}");
        assert_eq!(rows(&shared[0], "person"), vec![app.my_person, app.other_person]);
        assert_eq!(shared[0].evidence["phone"], "*******5678", "{backend}: the phone masked");

        assert!(found(&app, Check::PensionerTrainee).await.is_empty(), "{backend}");
        exec!(app, "UPDATE person SET monthly_pension = TRUE WHERE person_id = $1", app.my_person);
        let pension = found(&app, Check::PensionerTrainee).await;
        assert_eq!(pension.len(), 1, "{backend}: {pension:?}");
        assert_eq!(pension[0].subject, format!("person:{}", app.my_person));
        assert_eq!(pension[0].check.clause(), "S8");
    }
}

/// A certificate (from the appraisal register) and a claim on it with this outcome and amount.
async fn granted(app: &TestApp, person: i64, occupation: &str, level: i64, issued: &str, outcome: &str, fen: i64) {
    let serial = format!("R-{person}-{occupation}-{issued}-{outcome}-{fen}");
    exec!(
        app,
        "INSERT INTO certificate (person_id, kind, occupation_code, level, serial, issued_on, created_at, issuer) \
                VALUES ($1, 'skill_level', $2, $3, $4, $5, $6, '评价登记')",
        person,
        occupation,
        level,
        serial.clone(),
        d(issued),
        chrono::Utc::now()
    );
    let cert = scalar(app, "SELECT MAX(certificate_id) FROM certificate").await;
    let status = if outcome == "rejected" { "rejected" } else { "paid" };
    exec!(
        app,
        "INSERT INTO claim (idempotency_key, kind, person_id, certificate_id, county_code, filed_on, status, outcome, \
                amount_fen, payee, fund, decision, snapshot, created_at) \
                VALUES ($1, 'training_subsidy', $2, $3, $4, $5, $6, $7, $8, 'payee', 'employment', '{}', '{}', $9)",
        serial,
        person,
        cert,
        MY_COUNTY,
        d(issued),
        status,
        outcome,
        fen,
        chrono::Utc::now()
    );
}

both_backends! {
    async fn subsidies_over_the_yearly_cap_or_paid_twice_are_found(backend: &'static str) {
        let app = spawn_app(backend).await;
        let occupations: Vec<String> = jineng_store::with_pool!(&app.db, |p| sqlx::query_scalar(
            "SELECT occupation_code FROM occupation ORDER BY occupation_code LIMIT 4").fetch_all(p).await.unwrap());
        let me = app.my_person;
        for (i, occ) in occupations[0..3].iter().enumerate() {
            granted(&app, me, occ, 5, &format!("2021-0{}-01", i + 3), "approved", 100_000).await;
        }
        granted(&app, me, &occupations[3], 5, "2021-07-01", "rejected", 0).await;
        granted(&app, app.other_person, &occupations[0], 4, "2020-06-01", "approved", 150_000).await;
        granted(&app, app.other_person, &occupations[0], 3, "2021-06-01", "reduced", 80_000).await;
        for c in [Check::OverYearlyCap, Check::PaidTwice] {
            assert!(found(&app, c).await.is_empty(), "{backend}: three a year, a rejected fourth, other levels give no {c:?}");
        }
        granted(&app, me, &occupations[3], 4, "2021-09-01", "approved", 120_000).await;
        let cap = found(&app, Check::OverYearlyCap).await;
        assert_eq!(cap.len(), 1, "{backend}: {cap:?}");
        assert_eq!((cap[0].subject.clone(), rows(&cap[0], "claim").len(), cap[0].money_fen), (format!("person:{me}/2021"), 4, Some(120_000)));
        granted(&app, app.other_person, &occupations[0], 4, "2021-08-01", "approved", 150_000).await;
        let twice = found(&app, Check::PaidTwice).await;
        assert_eq!(twice.len(), 1, "{backend}: {twice:?}");
        assert_eq!((rows(&twice[0], "person"), rows(&twice[0], "claim").len(), twice[0].money_fen), (vec![app.other_person], 2, Some(150_000)));
        assert_eq!(twice[0].check.clause(), "S7");
    }
}

both_backends! {
    async fn the_city_admin_runs_the_checks_and_decides_each_finding_with_a_reason(backend: &'static str) {
        let app = spawn_app(backend).await;
        exec!(app, "UPDATE person SET monthly_pension = TRUE WHERE person_id = $1", app.my_person);
        let r = app.api(Some(Role::Auditor), Method::POST, "/api/v1/findings/run", None).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{backend}: an auditor reads, never runs");
        let r = app.api(Some(Role::CityAdmin), Method::POST, "/api/v1/findings/run", None).await;
        assert_eq!(r.status, StatusCode::OK, "{backend}: {}", r.body);
        assert_eq!(r.json()["recorded"], 1, "{backend}: {}", r.body);
        let again = app.api(Some(Role::CityAdmin), Method::POST, "/api/v1/findings/run", None).await;
        assert_eq!((again.json()["recorded"].as_i64(), again.json()["found"].as_i64()), (Some(0), Some(1)), "{backend}: no duplicate");
        let list = app.api(Some(Role::Auditor), Method::GET, "/api/v1/findings?status=open&check=pensioner_trainee", None).await.json();
        assert_eq!(list.as_array().unwrap().len(), 1, "{backend}: {list}");
        let id = list[0]["finding_id"].as_i64().unwrap();
        assert_eq!(list[0]["clause"], "S8");
        let path = format!("/api/v1/findings/{id}/decision");
        let r = app.api(Some(Role::Auditor), Method::POST, &path, Some(json!({"decision": "confirm", "reason": "核实属实"}))).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{backend}: an auditor cannot decide");
        let r = app.api(Some(Role::CityAdmin), Method::POST, &path, Some(json!({"decision": "confirm", "reason": "  "}))).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}: a reason is required: {}", r.body);
        assert!(r.json()["error"]["fields"]["reason"].is_string(), "{}", r.body);

        // The page: the auditor reads the evidence and clause, without the buttons.
        let page = app.page(Some(Role::Auditor), Method::GET, "/findings", &[], false).await;
        assert_eq!(page.status, StatusCode::OK, "{backend}");
        assert!(page.body.contains(&format!("id=\"finding-{id}\"")) && page.body.contains("S8"), "{backend}");
        assert!(page.body.contains(&format!("href=\"/people/{}\"", app.my_person)), "{backend}: the evidence links to the person: {}", page.body);
        assert!(!page.body.contains("run-checks") && !page.body.contains("/decision"), "{backend}: an auditor has no buttons");
        for (role, listed) in [(Role::Auditor, true), (Role::CityAdmin, true), (Role::County, true), (Role::Provider, false)] {
            let home = app.page(Some(role), Method::GET, "/", &[], false).await;
            assert_eq!(home.body.contains("疑点线索"), listed, "{backend}: {role:?}'s menu under 监督");
        }
        let r = app.page(Some(Role::County), Method::GET, "/findings", &[], false).await;
        assert_eq!(r.status, StatusCode::OK, "{backend}: a county office reads its county's findings");
        assert!(r.body.contains(&format!("id=\"finding-{id}\"")) && !r.body.contains("/decision"), "{backend}: without the buttons");
        // Filters: by status and check; an unknown check is named.
        let none = app.page(Some(Role::Auditor), Method::GET, "/findings?status=confirmed", &[], false).await;
        assert!(!none.body.contains(&format!("id=\"finding-{id}\"")) && none.body.contains("id=\"no-findings\""), "{backend}");
        let other = app.page(Some(Role::Auditor), Method::GET, "/findings?check=shared_phone", &[], false).await;
        assert!(!other.body.contains(&format!("id=\"finding-{id}\"")), "{backend}");
        let r = app.api(Some(Role::Auditor), Method::GET, "/api/v1/findings?check=nonsense", None).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}: {}", r.body);
        // The form: no reason, the error beside the field; a reason, done and said so.
        let form = format!("/findings/{id}/decision");
        let r = app.page(Some(Role::CityAdmin), Method::POST, &form, &[("decision", "dismiss"), ("reason", "")], true).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}: {}", r.body);
        assert!(r.body.contains("id=\"form-errors\"") && r.body.contains(&format!("data-field=\"reason-{id}\"")), "{backend}: {}", r.body);
        let r = app.page(Some(Role::CityAdmin), Method::POST, &form, &[("decision", "dismiss"), ("reason", "养老金为误报，已核实")], true).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{backend}: {}", r.body);
        let shown = app.follow(Some(Role::CityAdmin), &r).await;
        assert!(shown.body.contains(&format!("已排除第 {id} 号线索")), "{backend}: {}", shown.body);
        assert!(shown.body.contains("养老金为误报，已核实"), "{backend}: the reason shown");
        let r = app.api(Some(Role::CityAdmin), Method::POST, &path, Some(json!({"decision": "confirm", "reason": "再次"}))).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{backend}: decided once");
        let audited = scalar(&app, &format!("SELECT COUNT(*) FROM audit_log WHERE entity = 'finding' AND entity_id = '{id}' AND action = 'dismissed'")).await;
        assert_eq!(audited, 1, "{backend}: the decision is audited");
        // A dismissed finding stays dismissed while its evidence is the same.
        let r = app.page(Some(Role::CityAdmin), Method::POST, "/findings/run", &[], true).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{backend}: {}", r.body);
        let shown = app.follow(Some(Role::CityAdmin), &r).await;
        assert!(shown.body.contains("新增线索 0 条"), "{backend}: {}", shown.body);
        assert_eq!(scalar(&app, "SELECT COUNT(*) FROM finding").await, 1, "{backend}");
    }
}

both_backends! {
    async fn two_runs_at_once_record_each_finding_once_and_two_decisions_at_once_one(backend: &'static str) {
        let app = spawn_app(backend).await;
        exec!(app, "UPDATE person SET monthly_pension = TRUE WHERE person_id = $1", app.my_person);
        let (a, b) = tokio::join!(checks::run_all(&app.db, None), checks::run_all(&app.db, None));
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a.recorded + b.recorded, 1, "{backend}: {a:?} {b:?}");
        assert_eq!(scalar(&app, "SELECT COUNT(*) FROM finding").await, 1, "{backend}");
        let id = scalar(&app, "SELECT finding_id FROM finding").await;
        let (a, b) = tokio::join!(
            checks::decide(&app.db, None, id, true, "属实"),
            checks::decide(&app.db, None, id, false, "不实")
        );
        assert_eq!([a.is_ok(), b.is_ok()].iter().filter(|ok| **ok).count(), 1, "{backend}: one decision: {a:?} {b:?}");
        assert_eq!(scalar(&app, "SELECT COUNT(*) FROM audit_log WHERE entity = 'finding' AND entity_id <> 'all'").await, 1, "{backend}");
    }
}

/// A claim of `person` for `fen` in this status, in the employment subsidy fund; `on_notice`
/// claims' notice ended ten days ago.
async fn claim_of(app: &TestApp, key: &str, person: i64, status: &str, fen: i64) -> i64 {
    let ended = app.clock.today() - chrono::Duration::days(10);
    exec!(
        app,
        "INSERT INTO claim (idempotency_key, kind, person_id, county_code, filed_on, status, outcome, amount_fen, payee, fund, \
         decision, snapshot, created_at, notice_from, notice_until) \
         VALUES ($1, 'training_subsidy', $2, $3, $4, $5, 'approved', $6, '学员', 'employment_subsidy_fund', '{}', '{}', $7, $8, $9)",
        key.to_owned(),
        person,
        MY_COUNTY,
        ended,
        status.to_owned(),
        fen,
        chrono::Utc::now(),
        ended - chrono::Duration::days(7),
        ended
    );
    scalar(app, &format!("SELECT claim_id FROM claim WHERE idempotency_key = '{key}'")).await
}

async fn status_of(app: &TestApp, claim: i64) -> String {
    jineng_store::with_pool!(&app.db, |p| sqlx::query_scalar::<_, String>(
        "SELECT status FROM claim WHERE claim_id = $1"
    )
    .bind(claim)
    .fetch_one(p)
    .await
    .unwrap())
}

async fn pay(app: &TestApp, op: Value) -> Value {
    let r = app.api(Some(Role::Finance), Method::POST, "/api/v1/payments", Some(op.clone())).await;
    assert_eq!(r.status, StatusCode::OK, "{op}: {}", r.body);
    r.json()
}

both_backends! {
    async fn a_confirmed_finding_stops_the_money_it_touches_and_can_recover_it_and_suspend_the_provider(backend: &'static str) {
        let app = spawn_app(backend).await;
        const FUND: &str = "employment_subsidy_fund";
        pay(&app, json!({"op": "allocate", "fund": FUND, "amount_fen": 1_000_000, "note": "驻财社〔2020〕1号"})).await;
        let me = app.my_person;
        let to_review = claim_of(&app, "mine-decided", me, "decided", 10_000).await;
        let noticed = claim_of(&app, "mine-notice", me, "on_notice", 20_000).await;
        let paid = claim_of(&app, "mine-paid", me, "paid", 30_000).await;
        let others = claim_of(&app, "other-notice", app.other_person, "on_notice", 40_000).await;
        // Finance batches both noticed claims before the finding is confirmed.
        let batch = pay(&app, json!({"op": "create_batch", "fund": FUND})).await;
        let batch_id = batch["batch"]["batch_id"].as_i64().unwrap();
        assert_eq!(batch["batch"]["total_fen"], 60_000, "{backend}");

        // The pensioner check finds the person; open, it stops nothing yet.
        exec!(app, "UPDATE person SET monthly_pension = TRUE WHERE person_id = $1", me);
        let r = app.api(Some(Role::CityAdmin), Method::POST, "/api/v1/findings/run", None).await;
        assert_eq!(r.json()["recorded"], 1, "{backend}: {}", r.body);
        let list = app.api(Some(Role::CityAdmin), Method::GET, "/api/v1/findings?check=pensioner_trainee", None).await.json();
        let id = list[0]["finding_id"].as_i64().unwrap();
        assert_eq!(list[0]["county_code"], MY_COUNTY, "{backend}: filed under the person's county");
        assert!(list[0]["provider_id"].is_i64(), "{backend}: and the provider of their class: {list}");
        let r = app.api(Some(Role::CityAdmin), Method::POST, &format!("/api/v1/findings/{id}/recoveries"), None).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}: an open finding recovers nothing: {}", r.body);
        let r = app.api(Some(Role::CityAdmin), Method::POST, &format!("/api/v1/findings/{id}/decision"),
            Some(json!({"decision": "confirm", "reason": "社保核实：已按月领取养老金"}))).await;
        assert_eq!(r.status, StatusCode::OK, "{backend}: {}", r.body);

        // Confirmed: the county cannot approve the person's claim, and is told why.
        let r = app.api(Some(Role::County), Method::POST, &format!("/api/v1/claims/{to_review}/actions"), Some(json!({"action": "approve"}))).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}: {}", r.body);
        assert!(r.body.contains(&format!("第 {id} 号")), "{backend}: the finding is named: {}", r.body);
        let page = app.page(Some(Role::County), Method::GET, &format!("/claims/{to_review}"), &[], false).await.body;
        assert!(page.contains("id=\"blocked\""), "{backend}: the claim's page says it is stopped");
        let page = app.page(Some(Role::County), Method::GET, &format!("/claims/{others}"), &[], false).await.body;
        assert!(!page.contains("id=\"blocked\""), "{backend}: another person's claim is not");
        // Rejecting stays open.
        let r = app.api(Some(Role::County), Method::POST, &format!("/api/v1/claims/{to_review}/actions"),
            Some(json!({"action": "reject", "reason": "领取养老金，不属补贴范围"}))).await;
        assert_eq!(r.status, StatusCode::OK, "{backend}: {}", r.body);
        // The batch made before pays the other person and stops this one's payment.
        let before = scalar(&app, "SELECT balance_fen FROM fund WHERE fund_code = 'employment_subsidy_fund'").await;
        pay(&app, json!({"op": "approve_batch", "batch_id": batch_id})).await;
        let after = scalar(&app, "SELECT balance_fen FROM fund WHERE fund_code = 'employment_subsidy_fund'").await;
        assert_eq!(before - after, 40_000, "{backend}: only the untouched claim is paid");
        assert_eq!((status_of(&app, others).await, status_of(&app, noticed).await), ("paid".to_owned(), "payment_failed".to_owned()), "{backend}");
        let reason: String = jineng_store::with_pool!(&app.db, |p| sqlx::query_scalar("SELECT failure_reason FROM payment WHERE claim_id = $1")
            .bind(noticed).fetch_one(p).await.unwrap());
        assert!(reason.contains("疑点线索"), "{backend}: {reason}");
        // And no later batch re-issues it.
        let r = app.api(Some(Role::Finance), Method::POST, "/api/v1/payments", Some(json!({"op": "create_batch", "fund": FUND}))).await;
        assert!(r.json()["batch"].is_null(), "{backend}: {}", r.body);

        // What was paid is opened for recovery, once.
        let r = app.api(Some(Role::Auditor), Method::POST, &format!("/api/v1/findings/{id}/recoveries"), None).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{backend}");
        let r = app.api(Some(Role::CityAdmin), Method::POST, &format!("/api/v1/findings/{id}/recoveries"), None).await;
        assert_eq!(r.status, StatusCode::OK, "{backend}: {}", r.body);
        assert_eq!(r.json()["claims"], json!([paid]), "{backend}");
        assert_eq!(status_of(&app, paid).await, "recovery_due", "{backend}");
        let r = app.api(Some(Role::CityAdmin), Method::POST, &format!("/api/v1/findings/{id}/recoveries"), None).await;
        assert_eq!(r.json()["claims"], json!([]), "{backend}: nothing paid is left");
        pay(&app, json!({"op": "record_recovery", "claim_id": paid, "note": "缴款书 0002"})).await;
        assert_eq!(status_of(&app, paid).await, "recovered", "{backend}");

        // The provider is suspended with a reason, once; it can open no class.
        let provider = list[0]["provider_id"].as_i64().unwrap();
        let path = format!("/api/v1/findings/{id}/suspension");
        let r = app.api(Some(Role::CityAdmin), Method::POST, &path, Some(json!({"reason": " "}))).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}");
        let r = app.api(Some(Role::CityAdmin), Method::POST, &path, Some(json!({"reason": "组织领取养老金人员参加补贴性培训"}))).await;
        assert_eq!(r.status, StatusCode::OK, "{backend}: {}", r.body);
        let st: String = jineng_store::with_pool!(&app.db, |p| sqlx::query_scalar("SELECT status FROM provider WHERE provider_id = $1")
            .bind(provider).fetch_one(p).await.unwrap());
        assert_eq!(st, "suspended", "{backend}");
        let r = app.api(Some(Role::CityAdmin), Method::POST, &path, Some(json!({"reason": "再次"}))).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{backend}");
        for action in ["open_recoveries", "suspend_provider"] {
            let n = scalar(&app, &format!("SELECT COUNT(*) FROM audit_log WHERE action = '{action}'")).await;
            assert!(n >= 1, "{backend}: {action} is audited");
        }

        // The page: by county and provider, the stopped claims, the export.
        let page = app.page(Some(Role::CityAdmin), Method::GET, "/findings?status=confirmed", &[], false).await.body;
        assert!(page.contains("id=\"by-county\"") && page.contains("id=\"by-provider\"") && page.contains(&format!("href=\"/claims/{paid}\"")), "{backend}");
        let county = app.page(Some(Role::County), Method::GET, "/findings?county=411702", &[], false).await.body;
        assert!(county.contains(&format!("id=\"finding-{id}\"")) && !county.contains("id=\"by-county\""), "{backend}: a county reads its own, whatever it asks");
        let other = app.api(Some(Role::CityAdmin), Method::GET, "/api/v1/findings?county=411702", None).await.json();
        assert_eq!(other, json!([]), "{backend}: the city filters by county");
        let r = app.page(Some(Role::Auditor), Method::GET, "/findings.xlsx?status=confirmed", &[], false).await;
        assert_eq!(r.status, StatusCode::OK, "{backend}");
        assert!(r.headers.get("content-type").unwrap().to_str().unwrap().contains("spreadsheetml"), "{backend}");
        assert_eq!(scalar(&app, "SELECT COUNT(*) FROM audit_log WHERE action = 'export' AND entity = 'finding'").await, 1, "{backend}");
    }
}

fn at(s: &str) -> chrono::DateTime<chrono::Utc> {
    s.parse().unwrap()
}

both_backends! {
    async fn check_ins_within_seconds_of_each_other_are_found_as_one_hand(backend: &'static str) {
        let app = spawn_app(backend).await;
        let class = plain_class(&app, app.provider_id, "2021-05-10", "2021-05-14").await;
        let mut enrolments = Vec::new();
        for seq in 301..312 {
            let (p, _) = person(&app, seq, None).await;
            enrolments.push(training::enrol(&app.db, None, class, p, d("2021-05-01")).await.unwrap());
        }
        let sign = |e: i64, day: &str, time: &str| (e, d(day), at(&format!("{day}T{time}Z")));
        let mut planted = Vec::new();
        // 11 May: four within 10 s (a fifth 12 s after the first), the rest spread.
        for (i, t) in ["08:00:00", "08:00:03", "08:00:06", "08:00:09", "08:00:12"].iter().enumerate() {
            planted.push(sign(enrolments[i], "2021-05-11", t));
        }
        // 12 May: five within 9 s, but of 11 check-ins that day (45 %, under half).
        for (i, e) in enrolments.iter().enumerate() {
            let t = if i < 5 { format!("08:00:0{}", i * 2) } else { format!("08:{}:00", 10 + i) };
            planted.push(sign(*e, "2021-05-12", &t));
        }
        for (e, day, when) in &planted {
            exec!(app, "INSERT INTO attendance (enrolment_id, day, checked_at, method) VALUES ($1, $2, $3, 'face')", *e, *day, *when);
        }
        let none = found(&app, Check::SameHandCheckIns).await;
        assert!(none.is_empty(), "{backend}: 4 within 10 s, or 5 of 11, is no finding: {none:?}");
        // 10 May: five within 9 s of six check-ins.
        for (i, t) in ["08:00:00", "08:00:02", "08:00:04", "08:00:06", "08:00:09", "08:31:00"].iter().enumerate() {
            exec!(app, "INSERT INTO attendance (enrolment_id, day, checked_at, method) VALUES ($1, $2, $3, 'face')",
                enrolments[i], d("2021-05-10"), at(&format!("2021-05-10T{t}Z")));
        }
        let hand = found(&app, Check::SameHandCheckIns).await;
        assert_eq!(hand.len(), 1, "{backend}: {hand:?}");
        assert_eq!(hand[0].subject, format!("class:{class}"));
        assert_eq!(hand[0].evidence["days"], json!([{"day": "2021-05-10", "within": 5, "checked_in": 6}]), "{backend}");
        assert_eq!(rows(&hand[0], "attendance").len(), 5, "{backend}: the five check-ins named");
        let zh = hand[0].evidence["zh"].as_str().unwrap();
        assert!(zh.contains("代签") && zh.contains("10 秒内至少 5 次"), "{backend}: Chinese first, with the threshold: {zh}");
        assert_eq!(hand[0].check.clause(), "S12");
    }
}

/// A person in MY_COUNTY born on `birth` (the sequence's last digit odd for a man).
async fn born(app: &TestApp, birth: &str, seq: u16) -> i64 {
    people::create(
        &app.db,
        None,
        &NewPerson {
            id_number: IdNumber::from_parts(AreaCode::parse(MY_COUNTY).unwrap(), d(birth), seq),
            name: format!("学员{seq}"),
            county_code: MY_COUNTY.into(),
            phone: None,
            rural: false,
            groups: vec![],
        },
    )
    .await
    .unwrap()
}

both_backends! {
    async fn trainees_past_the_retirement_age_on_subsidised_classes_are_found(backend: &'static str) {
        let app = spawn_app(backend).await;
        let class = plain_class(&app, app.provider_id, "2021-05-10", "2021-05-14").await;
        let unsubsidised = plain_class(&app, app.provider_id, "2021-06-07", "2021-06-11").await;
        exec!(app, "UPDATE training_class SET subsidised = FALSE WHERE class_id = $1", unsubsidised);
        let man_59 = born(&app, "1961-05-11", 401).await;
        let woman_49 = born(&app, "1971-05-11", 402).await;
        let man_60_unsubsidised = born(&app, "1950-01-01", 403).await;
        for p in [man_59, woman_49] {
            training::enrol(&app.db, None, class, p, d("2021-05-01")).await.unwrap();
        }
        training::enrol(&app.db, None, unsubsidised, man_60_unsubsidised, d("2021-06-01")).await.unwrap();
        let none = found(&app, Check::PastRetirementAge).await;
        assert!(none.is_empty(), "{backend}: a day short of 60 or 50, or an unsubsidised class, is no finding: {none:?}");
        let man_60 = born(&app, "1961-05-10", 405).await;
        let woman_50 = born(&app, "1971-05-10", 406).await;
        for p in [man_60, woman_50] {
            training::enrol(&app.db, None, class, p, d("2021-05-01")).await.unwrap();
        }
        let past = found(&app, Check::PastRetirementAge).await;
        let subjects: Vec<&str> = past.iter().map(|f| f.subject.as_str()).collect();
        assert_eq!(subjects, [format!("person:{man_60}"), format!("person:{woman_50}")], "{backend}: {past:?}");
        assert_eq!(rows(&past[0], "class"), vec![class]);
        assert_eq!(past[1].evidence["ages"], json!([{"class": class, "start": "2021-05-10", "age": 50}]), "{backend}");
        assert!(past[1].evidence["zh"].as_str().unwrap().starts_with(&format!("第 {woman_50} 号人员（女")), "{backend}: {}", past[1].evidence["zh"]);
        assert_eq!(past[0].check.clause(), "S8");
    }
}

/// A claim a provider filed on a day (paid, this amount).
async fn filed(app: &TestApp, provider: i64, on: &str, n: usize, fen: i64) {
    exec!(
        app,
        "INSERT INTO claim (idempotency_key, kind, person_id, county_code, filed_on, status, outcome, \
                amount_fen, payee, fund, decision, snapshot, created_at, provider_id) \
                VALUES ($1, 'training_subsidy', $2, $3, $4, 'paid', 'approved', $5, 'payee', 'employment', '{}', '{}', $6, $7)",
        format!("rush-{provider}-{on}-{n}"),
        app.my_person,
        MY_COUNTY,
        d(on),
        fen,
        chrono::Utc::now(),
        provider
    );
}

both_backends! {
    async fn claims_rushed_in_at_year_end_by_one_filer_are_found(backend: &'static str) {
        let app = spawn_app(backend).await;
        let (a, b) = (app.provider_id, other_provider(&app).await);
        // Provider a, 2021: nine in the last 15 days and one on 16 December (under 10).
        for n in 0..9 {
            filed(&app, a, "2021-12-20", n, 10_000).await;
        }
        filed(&app, a, "2021-12-16", 0, 10_000).await;
        // Provider b, 2020: ten at year end of 34 (29 %, under 30 %).
        for n in 0..10 {
            filed(&app, b, "2020-12-28", n, 10_000).await;
        }
        for n in 0..24 {
            filed(&app, b, "2020-06-01", n, 10_000).await;
        }
        let none = found(&app, Check::YearEndRush).await;
        assert!(none.is_empty(), "{backend}: 9 at year end, or 10 of 34, is no finding: {none:?}");
        // Provider a, 2020: ten of twenty in the last 15 days (17 December counts).
        for n in 0..9 {
            filed(&app, a, "2020-12-31", n, 20_000).await;
        }
        filed(&app, a, "2020-12-17", 0, 20_000).await;
        for n in 0..10 {
            filed(&app, a, "2020-03-02", n, 20_000).await;
        }
        let rush = found(&app, Check::YearEndRush).await;
        assert_eq!(rush.len(), 1, "{backend}: {rush:?}");
        assert_eq!(rush[0].subject, format!("provider:{a}/2020"));
        assert_eq!((rows(&rush[0], "claim").len(), rush[0].money_fen), (10, Some(200_000)), "{backend}");
        assert_eq!((rush[0].evidence["claims_in_year"].as_i64(), rush[0].evidence["percent"].as_i64()), (Some(20), Some(50)));
        assert!(rush[0].evidence["zh"].as_str().unwrap().contains("年末最后 15 天"), "{backend}");
    }
}

both_backends! {
    async fn employment_the_social_insurance_import_contradicts_is_found(backend: &'static str) {
        let app = spawn_app(backend).await;
        let employer = scalar(&app, "SELECT MIN(employer_id) FROM employer").await;
        let (me, other) = (app.my_person, app.other_person);
        let third = person(&app, 501, None).await.0;
        for (p, source) in [(me, "declared"), (other, "declared"), (third, "social_insurance")] {
            exec!(app, "INSERT INTO employment (person_id, employer_id, from_date, created_at, source) VALUES ($1, $2, $3, $4, $5)",
                p, employer, d("2020-01-06"), chrono::Utc::now(), source);
        }
        let fact = |p: i64, value: Option<&'static str>, as_of: &'static str| (p, value, as_of);
        // Insured a month after the declared start; the third not insured but not declared.
        for (p, value, as_of) in [fact(me, Some("2020-02-01"), "2021-01-01"), fact(third, None, "2021-01-01")] {
            exec!(app, "INSERT INTO person_fact (person_id, fact, value, source, as_of, recorded_at) VALUES ($1, 'insured_since', $2, 'social_insurance', $3, $4)",
                p, value, d(as_of), chrono::Utc::now());
        }
        let none = found(&app, Check::EmploymentContradicted).await;
        assert!(none.is_empty(), "{backend}: insured within two months, or a record from social insurance, is no finding: {none:?}");
        // Insured only eight months later; and a newer record: no longer insured.
        for (p, value, as_of) in [fact(other, Some("2020-09-01"), "2021-01-01"), fact(me, None, "2021-06-01")] {
            exec!(app, "INSERT INTO person_fact (person_id, fact, value, source, as_of, recorded_at) VALUES ($1, 'insured_since', $2, 'social_insurance', $3, $4)",
                p, value, d(as_of), chrono::Utc::now());
        }
        let contradicted = found(&app, Check::EmploymentContradicted).await;
        let people: Vec<Vec<i64>> = contradicted.iter().map(|f| rows(f, "person")).collect();
        assert_eq!(people, vec![vec![me], vec![other]], "{backend}: {contradicted:?}");
        assert!(contradicted[0].evidence["zh"].as_str().unwrap().contains("未参保"), "{backend}");
        assert_eq!(contradicted[1].evidence["insured_since"], "2020-09-01", "{backend}");
    }
}

both_backends! {
    async fn every_anomaly_planted_in_the_small_demo_is_found_and_the_clean_rest_is_quiet(backend: &'static str) {
        let db = jineng_store::testing::fresh(backend).await;
        let summary = jineng_store::demo::generate(&db, jineng_store::demo::Scale::Small, 7, &|_, _| {}).await.unwrap();
        jineng_store::demo::walk_claims(&db, &summary, jineng_web::Clock::default().today()).await.unwrap();
        let mut clean = Vec::new();
        for check in Check::ALL {
            let found = checks::run(&db, check).await.unwrap();
            assert!(found.is_empty(), "{backend}: the clean demo gives no {check:?}: {found:?}");
        }
        let planted = jineng_store::demo::anomalies::plant(&db, jineng_store::demo::Scale::Small, 7).await.unwrap();
        assert!(planted.attendance > 5_000, "{backend}: {} check-ins", planted.attendance);
        for check in Check::ALL {
            let want = planted.subjects(check.code());
            // Outliers need several providers of one county and occupation, which the small
            // demo has not: that check has a test of its own.
            assert!(!want.is_empty() || check == Check::ProviderOutlier, "{backend}: {check:?} planted");
            let found = checks::run(&db, check).await.unwrap();
            let got: std::collections::HashSet<&str> = found.iter().map(|f| f.subject.as_str()).collect();
            let missed: Vec<&&str> = want.iter().filter(|s| !got.contains(**s)).collect();
            assert!(missed.is_empty(), "{backend}: {check:?} missed {missed:?} of {want:?}");
            clean.extend(got.iter().filter(|s| !want.contains(**s)).map(|s| format!("{check:?} {s}")));
        }
        assert!(clean.is_empty(), "{backend}: found beyond what was planted: {clean:?}");
    }
}

both_backends! {
    async fn a_new_claim_is_checked_before_it_can_be_published(backend: &'static str) {
        let app = spawn_app(backend).await;
        common::certified_class(&app).await;
        let me = app.api(Some(Role::Worker), Method::GET, &format!("/api/v1/people/{}", app.my_person), None).await.json();
        let cert = me["certificates"][0]["certificate_id"].as_i64().expect("her certificate");
        // Her pension, as the social-insurance register would state it; no check has run since.
        exec!(app, "UPDATE person SET monthly_pension = TRUE WHERE person_id = $1", app.my_person);
        assert_eq!(scalar(&app, "SELECT COUNT(*) FROM finding").await, 0, "{backend}");
        let r = app.api_keyed(Role::Worker, "/api/v1/claims", "mine", json!({"kind": "training_subsidy", "certificate_id": cert})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{backend}: {}", r.body);
        let claim = r.json()["claim"]["claim_id"].as_i64().unwrap();
        // Filing it ran the checks about her: the finding is there, with the claim in its evidence.
        let list = app.api(Some(Role::CityAdmin), Method::GET, "/api/v1/findings?check=pensioner_trainee", None).await.json();
        assert_eq!(list.as_array().unwrap().len(), 1, "{backend}: {list}");
        assert!(list[0]["evidence"].as_str().unwrap().contains(&claim.to_string()), "{backend}: {list}");
        let audited = scalar(&app, &format!("SELECT COUNT(*) FROM audit_log WHERE action = 'run_checks' AND entity_id = 'claim:{claim}'")).await;
        assert_eq!(audited, 1, "{backend}: the run that found it is audited");
        // The same filing again (its key) runs nothing new; a full run adds no duplicate.
        let again = app.api_keyed(Role::Worker, "/api/v1/claims", "mine", json!({"kind": "training_subsidy", "certificate_id": cert})).await;
        assert_eq!(again.json()["claim"]["claim_id"], claim, "{backend}");
        let r = app.api(Some(Role::CityAdmin), Method::POST, "/api/v1/findings/run", None).await.json();
        assert_eq!(r["recorded"], 0, "{backend}: {r}");
        assert_eq!(scalar(&app, "SELECT COUNT(*) FROM finding").await, 1, "{backend}");
        // Another person's checks do not run for her claim: only her rows are read.
        let only_hers = checks::run_only(&app.db, Check::PensionerTrainee, checks::Only::Person(app.other_person)).await.unwrap();
        assert!(only_hers.is_empty(), "{backend}: {only_hers:?}");
        let hers = checks::run_only(&app.db, Check::PensionerTrainee, checks::Only::Person(app.my_person)).await.unwrap();
        assert_eq!(hers.len(), 1, "{backend}");
    }
}

both_backends! {
    async fn the_audit_page_shows_the_chain_head_and_verifies_it_on_demand(backend: &'static str) {
        let app = spawn_app(backend).await;
        let page = app.page(Some(Role::Auditor), Method::GET, "/audit", &[], false).await.body;
        assert!(page.contains("id=\"head-seq\"") && page.contains("id=\"verify-chain\""), "{backend}");
        let r = app.page(Some(Role::Auditor), Method::POST, "/audit/verify", &[], true).await;
        assert_eq!(r.status, StatusCode::OK, "{backend}: {}", r.body);
        assert!(r.body.contains("id=\"chain-verdict\" data-breaks=\"0\""), "{backend}: intact");
        let v = app.api(Some(Role::CityAdmin), Method::POST, "/api/v1/audit/verify", None).await.json();
        assert_eq!(v["breaks"], 0, "{backend}: {v}");
        assert!(v["rows"].as_u64().unwrap() > 0 && v["head_hash"].is_string(), "{backend}: {v}");
        assert_eq!(app.api(Some(Role::County), Method::POST, "/api/v1/audit/verify", None).await.status, StatusCode::FORBIDDEN);
        // Each check is itself audited.
        assert_eq!(scalar(&app, "SELECT COUNT(*) FROM audit_log WHERE action = 'verify_chain'").await, 2, "{backend}");
    }
}

/// A provider of MY_COUNTY with two classes of one occupation, each with `per_class` new people.
async fn provider_with_classes(app: &TestApp, seq: u8, per_class: u16, next_person: &mut u16) -> i64 {
    let provider = orgs::create(
        &app.db,
        None,
        OrgKind::Provider,
        &OrgInput {
            credit_code: CreditCode::generate(AreaCode::parse(MY_COUNTY).unwrap(), 100 + u64::from(seq)).to_string(),
            legacy: false,
            name: format!("上蔡县第{seq}职业培训学校"),
            county_code: MY_COUNTY.into(),
            kind: None,
            insured: false,
            status: None,
        },
    )
    .await
    .unwrap();
    for c in 0..2 {
        let class = plain_class(app, provider, &format!("2021-0{}-01", 3 + c), &format!("2021-0{}-20", 3 + c)).await;
        for _ in 0..per_class {
            *next_person += 1;
            let (person, _) = person(app, *next_person, None).await;
            training::enrol(&app.db, None, class, person, d("2021-02-20")).await.unwrap();
        }
    }
    provider
}

both_backends! {
    async fn a_provider_far_above_its_peers_is_an_outlier_and_a_near_one_is_not(backend: &'static str) {
        let app = spawn_app(backend).await;
        let mut next = 400;
        for seq in 1..=3 {
            provider_with_classes(&app, seq, 5, &mut next).await;
        }
        // The median class is 5 trainees, its MAD floored at 5: more than 5 + 3 × 5 = 20 is an
        // outlier. 19 a class is not.
        let near = provider_with_classes(&app, 4, 19, &mut next).await;
        let none = found(&app, Check::ProviderOutlier).await;
        assert!(none.is_empty(), "{backend}: {none:?}");
        let far = provider_with_classes(&app, 5, 40, &mut next).await;
        let hit = found(&app, Check::ProviderOutlier).await;
        assert_eq!(hit.len(), 1, "{backend}: {hit:?}");
        assert_eq!(rows(&hit[0], "provider"), vec![far], "{backend}");
        assert_eq!(hit[0].evidence["statistic"], "class_size", "{backend}");
        assert_eq!((hit[0].evidence["value"].as_i64(), hit[0].evidence["median"].as_i64()), (Some(40), Some(5)), "{backend}: {:?}", hit[0].evidence);
        assert!(hit[0].evidence["zh"].as_str().unwrap().contains("绝对中位差"), "{backend}: the statistic is stated");
        assert_ne!(near, far);
        assert_eq!(Check::ProviderOutlier.clause(), "S12");
    }
}
