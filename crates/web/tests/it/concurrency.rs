//! One decision per person at a time: many filings at once give exactly the decisions of filing
//! them one by one, on a SQLite file with a pool of connections (as served) and on PostgreSQL,
//! with requests really running in parallel. Never a 5xx.

use crate::common;

use crate::common::{id_number, spawn_app, TestApp, MY_COUNTY};
use axum::http::{Method, StatusCode};
use jineng_domain::Role;
use serde_json::{json, Value};

/// Files `bodies` with distinct idempotency keys, all at once or one by one; returns the
/// (outcome, amount) of each claim, sorted.
async fn file_all(app: &TestApp, role: Role, bodies: &[Value], at_once: bool) -> Vec<(String, i64)> {
    let keys: Vec<String> = (0..bodies.len()).map(|i| format!("k-{i}")).collect();
    let call = |i: usize| app.api_keyed(role, "/api/v1/claims", &keys[i], bodies[i].clone());
    let results = if at_once {
        futures_util::future::join_all((0..bodies.len()).map(call)).await
    } else {
        let mut out = Vec::new();
        for i in 0..bodies.len() {
            out.push(call(i).await);
        }
        out
    };
    let mut decided: Vec<(String, i64)> = results
        .iter()
        .map(|r| {
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
            let c = &r.json()["claim"];
            (c["outcome"].as_str().unwrap().to_owned(), c["amount_fen"].as_i64().unwrap())
        })
        .collect();
    decided.sort();
    decided
}

/// A poor worker employed by the test employer since 2020-01-01, and a class they passed.
async fn poor_worker_with_a_certificate(app: &TestApp) {
    jineng_store::people::add_group(&app.db, None, app.my_person, "poor_worker", "2019-01-01".parse().unwrap())
        .await
        .unwrap();
    common::certified_class(app).await;
}

async fn on_the_job_filings_at_once_are_decided_one_at_a_time(backend: &'static str) {
    // 32 on-the-job filings for one poor worker, 6 months each: the plan pays 6 months in all.
    let body = json!({"kind": "on_the_job", "id_number": id_number(MY_COUNTY, 11), "name": "李娜", "employed_from": "2020-01-01", "from": "2020-09-01", "months": 6});
    let bodies = vec![body; 32];
    let one_by_one = {
        let app = spawn_app(backend).await;
        poor_worker_with_a_certificate(&app).await;
        file_all(&app, Role::Employer, &bodies, false).await
    };
    let app = spawn_app(backend).await;
    poor_worker_with_a_certificate(&app).await;
    let at_once = file_all(&app, Role::Employer, &bodies, true).await;
    assert_eq!(at_once, one_by_one, "{backend}");
    let paid: Vec<_> = at_once.iter().filter(|d| d.1 > 0).collect();
    assert_eq!(paid, [&("approved".to_owned(), 120_000)], "{backend}: six months of 200 yuan, once");
}

async fn project_advances_at_once_are_decided_one_at_a_time(backend: &'static str) {
    // 16 advances and 16 settlements of one project at once: at most one advance, and the one
    // settlement that closes the project.
    let app = spawn_app(backend).await;
    let mut application = common::application(
        common::catalog_project(&app).await,
        json!([{"id_number": id_number(MY_COUNTY, 11), "name": "李娜"}]),
        "2021-05-10",
        "2021-05-14",
    );
    application["project_based"] = json!(true);
    application["contract_fen"] = json!(100_000);
    let r = app.api(Some(Role::Provider), Method::POST, "/api/v1/classes", Some(application)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let class = r.json()["id"].as_i64().unwrap();
    let r = app
        .api(
            Some(Role::County),
            Method::POST,
            &format!("/api/v1/classes/{class}/actions"),
            Some(json!({"action": "approve"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let stage = |s: &str| json!({"kind": "project_training", "class_id": class, "contract_fen": 100_000, "stage": s});
    let keys: Vec<String> = (0..32).map(|i| format!("p-{i}")).collect();
    let calls = (0..32).map(|i| {
        let body = stage(if i % 2 == 0 { "advance" } else { "settlement" });
        app.api_keyed(Role::Provider, "/api/v1/claims", &keys[i], body)
    });
    let results = futures_util::future::join_all(calls).await;
    let mut paid = (0, 0);
    for (i, r) in results.iter().enumerate() {
        assert_eq!(r.status, StatusCode::CREATED, "{backend}: {}", r.body);
        if r.json()["claim"]["outcome"] != "rejected" {
            if i % 2 == 0 {
                paid.0 += 1;
            } else {
                paid.1 += 1;
            }
        }
    }
    assert!(paid.0 <= 1, "{backend}: {} advances", paid.0);
    assert_eq!(paid.1, 1, "{backend}: one settlement closes the project");
}

async fn pre_job_and_on_the_job_at_once_pay_one_of_them(backend: &'static str) {
    // S5: for one hire, the pre-job or the on-the-job subsidy, never both.
    let app = spawn_app(backend).await;
    jineng_store::people::add_group(&app.db, None, app.my_person, "poor_worker", "2019-01-01".parse().unwrap())
        .await
        .unwrap();
    let employer = jineng_domain::CreditCode::generate(jineng_domain::AreaCode::parse(MY_COUNTY).unwrap(), 79);
    let mut application = common::application(
        common::catalog_project(&app).await,
        json!([{"id_number": id_number(MY_COUNTY, 11), "name": "李娜"}]),
        "2021-05-10",
        "2021-05-14",
    );
    application["kind"] = json!("pre_job");
    application["employer_credit_code"] = json!(employer.to_string());
    let r = app.api(Some(Role::Provider), Method::POST, "/api/v1/classes", Some(application)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let class = r.json()["id"].as_i64().unwrap();
    let path = format!("/api/v1/classes/{class}/actions");
    let r = app.api(Some(Role::County), Method::POST, &path, Some(json!({"action": "approve"}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let pre_job = json!({"kind": "pre_job", "id_number": id_number(MY_COUNTY, 11), "name": "李娜", "employed_from": "2020-01-01", "class_id": class});
    let on_the_job = json!({"kind": "on_the_job", "id_number": id_number(MY_COUNTY, 11), "name": "李娜", "employed_from": "2020-01-01", "from": "2020-09-01", "months": 6});
    let bodies: Vec<Value> = (0..16).flat_map(|_| [pre_job.clone(), on_the_job.clone()]).collect();
    let at_once = file_all(&app, Role::Employer, &bodies, true).await;
    let on_the_job_paid = at_once.iter().filter(|d| d.1 == 120_000).count();
    let pre_job_paid = at_once.iter().filter(|d| d.1 > 0 && d.1 != 120_000).count();
    assert!(on_the_job_paid <= 1, "{backend}: {at_once:?}");
    assert!(
        on_the_job_paid == 0 || pre_job_paid == 0,
        "{backend}: both the pre-job and the on-the-job subsidy paid for one hire: {at_once:?}"
    );
    assert!(on_the_job_paid + pre_job_paid > 0, "{backend}: one of them is paid: {at_once:?}");
}

async fn certificates_at_once_respect_the_yearly_cap(backend: &'static str) {
    // S7: at most 3 training subsidies per person per year. Four classes of different occupations
    // end with results recorded at the same moment: three are paid, never four.
    let app = spawn_app(backend).await;
    let id = id_number(MY_COUNTY, 11);
    let occupations = [
        ("4-10-01-06", "2021-03-01", "2021-03-05"),
        ("4-10-01-05", "2021-04-01", "2021-04-05"),
        ("6-31-01-03", "2021-05-10", "2021-05-14"),
        ("4-03-02-01", "2021-06-01", "2021-06-05"),
    ];
    let mut classes = Vec::new();
    for (occupation, start, end) in occupations {
        let r = app
            .api(
                Some(Role::CityAdmin),
                Method::POST,
                "/api/v1/catalog/projects",
                Some(json!({"occupation_code": occupation, "level": 5, "class_hours": 80, "subsidy_fen": 100_000})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let mut a = common::application(
            r.json()["id"].as_i64().unwrap(),
            json!([{"id_number": id, "name": "李娜"}]),
            start,
            end,
        );
        a["occupation_code"] = json!(occupation);
        let r = app.api(Some(Role::Provider), Method::POST, "/api/v1/classes", Some(a)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let class = r.json()["id"].as_i64().unwrap();
        let r = app
            .api(
                Some(Role::County),
                Method::POST,
                &format!("/api/v1/classes/{class}/actions"),
                Some(json!({"action": "approve"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        classes.push(class);
    }
    let paths: Vec<String> = classes.iter().map(|c| format!("/api/v1/classes/{c}/assessments")).collect();
    let calls = paths.iter().enumerate().map(|(i, path)| {
        let body = json!({"id_number": id, "assessed_on": "2021-07-01", "score": 90, "passed": true, "kind": "skill_level", "serial": format!("C-{i}")});
        app.api(Some(Role::AssessmentBody), Method::POST, path, Some(body))
    });
    for r in futures_util::future::join_all(calls).await {
        assert_eq!(r.status, StatusCode::CREATED, "{backend}: {}", r.body);
    }
    let claims = app.api(Some(Role::CityAdmin), Method::GET, "/api/v1/claims?kind=training_subsidy", None).await.json();
    let paid = claims.as_array().unwrap().iter().filter(|c| c["outcome"] != "rejected").count();
    assert_eq!(claims.as_array().unwrap().len(), 4, "{backend}: one claim per certificate: {claims}");
    assert_eq!(paid, 3, "{backend}: the yearly cap holds at once: {claims}");
}

macro_rules! on_both {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                super::$name("sqlite-file").await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                super::$name("postgres").await
            }
        }
    )*};
}

on_both!(
    certificates_at_once_respect_the_yearly_cap,
    on_the_job_filings_at_once_are_decided_one_at_a_time,
    project_advances_at_once_are_decided_one_at_a_time,
    pre_job_and_on_the_job_at_once_pay_one_of_them,
);
