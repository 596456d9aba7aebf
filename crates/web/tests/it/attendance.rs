//! Attendance on both backends: by ID number through the API, per roster row and everyone at
//! once on the class page.

use crate::common;

use crate::common::{id_number, spawn_app, TestApp, MY_COUNTY, OTHER_COUNTY};
use axum::http::{Method, StatusCode};
use jineng_domain::Role;
use jineng_store::testing::both_backends;
use serde_json::json;

both_backends! {
    async fn trainees_check_in_once_a_day_within_an_approved_class(backend: &'static str) {
        let app = spawn_app(backend).await;
        let class =
            common::applied_class(&app, json!([{"id_number": id_number(MY_COUNTY, 11), "name": "李娜"}]), false).await;
        let path = format!("/api/v1/classes/{class}/attendance");
        let check = |id: String, day: &str| {
            app.api(
                Some(Role::Provider),
                Method::POST,
                &path,
                Some(json!({"id_number": id, "day": day, "method": "face"})),
            )
        };
        let me = id_number(MY_COUNTY, 11);
        assert_eq!(
            check(me.clone(), "2021-05-10").await.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{backend}: not approved yet"
        );
        app.api(
            Some(Role::County),
            Method::POST,
            &format!("/api/v1/classes/{class}/actions"),
            Some(json!({"action": "approve"})),
        )
        .await;
        assert_eq!(check(me.clone(), "2021-05-10").await.status, StatusCode::CREATED);
        assert_eq!(check(me.clone(), "2021-05-10").await.status, StatusCode::CONFLICT, "once a day");
        assert_eq!(check(me.clone(), "2021-05-11").await.status, StatusCode::CREATED);
        assert_eq!(check(me.clone(), "2021-05-20").await.status, StatusCode::UNPROCESSABLE_ENTITY, "outside the class");
        assert_eq!(
            check(id_number(OTHER_COUNTY, 12), "2021-05-11").await.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "not on the roster"
        );
        let summary = app.api(Some(Role::County), Method::GET, &path, None).await.json();
        assert_eq!((summary[0]["days_attended"].as_i64(), summary[0]["class_days"].as_i64()), (Some(2), Some(5)));
        assert!(!summary.to_string().contains(&me), "ID numbers are masked");
        assert_eq!(
            app.api(
                Some(Role::County),
                Method::POST,
                &path,
                Some(json!({"id_number": me, "day": "2021-05-12", "method": "face"}))
            )
            .await
            .status,
            StatusCode::FORBIDDEN
        );
        // Today (the app's clock) is after the class: the roster shows the days, no check-in.
        let page = app.page(Some(Role::Provider), Method::GET, &format!("/classes/{class}"), &[], false).await;
        assert!(page.body.contains("2 / 5") && !page.body.contains("id=\"check-in-all\""), "{backend}");
    }
}

/// Check-ins recorded for an enrolment.
async fn days(app: &TestApp, enrolment: i64) -> i64 {
    jineng_store::with_pool!(&app.db, |p| sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM attendance WHERE enrolment_id = $1"
    )
    .bind(enrolment)
    .fetch_one(p)
    .await
    .unwrap())
}

/// Audit entries of check-ins.
async fn audited(app: &TestApp) -> i64 {
    jineng_store::with_pool!(&app.db, |p| sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'check_in' AND entity = 'attendance'"
    )
    .fetch_one(p)
    .await
    .unwrap())
}

both_backends! {
    async fn a_provider_checks_in_one_trainee_or_everyone_today_from_the_roster(backend: &'static str) {
        let app = spawn_app(backend).await;
        let roster = json!([{"id_number": id_number(MY_COUNTY, 11), "name": "李娜"}, {"id_number": id_number(OTHER_COUNTY, 12), "name": "李娜"}]);
        let class = common::applied_class(&app, roster, true).await;
        let rows = jineng_store::training::enrolments(&app.db, class).await.unwrap();
        let (first, second) = (rows[0].0, rows[1].0);
        app.clock.set("2021-05-11".parse().unwrap());
        let page_path = format!("/classes/{class}");
        let page = app.page(Some(Role::Provider), Method::GET, &page_path, &[], false).await;
        assert!(page.body.contains("id=\"check-in-all\""), "{backend}: {}", page.body);
        assert!(page.body.contains(&format!("name=\"enrolment_id\" value=\"{first}\"")), "{backend}: a form per row");
        assert!(!page.body.contains(&id_number(MY_COUNTY, 11)), "{backend}: no full ID number on the page");
        // One row: its enrolment, today.
        let one = format!("/classes/{class}/attendance");
        let r = app.page(Some(Role::Provider), Method::POST, &one, &[("enrolment_id", &first.to_string())], true).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{backend}: {}", r.body);
        assert_eq!(r.headers["location"], format!("/classes/{class}#e{first}").as_str(), "back at the row");
        assert_eq!((days(&app, first).await, days(&app, second).await), (1, 0));
        let r = app.page(Some(Role::Provider), Method::POST, &one, &[("enrolment_id", &first.to_string())], true).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{backend}: once a day");
        assert!(r.body.contains("id=\"attendance\""), "{backend}: the class page again, with the refusal");
        // Everyone present: the one still missing is checked in; again, nothing more.
        let all = format!("/classes/{class}/attendance/all");
        for _ in 0..2 {
            let r = app.page(Some(Role::Provider), Method::POST, &all, &[], true).await;
            assert_eq!(r.status, StatusCode::SEE_OTHER, "{backend}: {}", r.body);
            assert_eq!((days(&app, first).await, days(&app, second).await), (1, 1), "{backend}");
        }
        assert_eq!(audited(&app).await, 2, "{backend}: one audit entry per check-in");
        let summary = app.api(Some(Role::Provider), Method::GET, &format!("/api/v1/classes/{class}/attendance"), None).await.json();
        assert!(summary.as_array().unwrap().iter().all(|a| a["checked_in_today"] == true && a["last_day"] == "2021-05-11"), "{summary}");
        let page = app.page(Some(Role::Provider), Method::GET, &page_path, &[], false).await;
        assert!(page.body.contains("<b id=\"checked-in-today\">2</b>"), "{backend}");
        // The next day, everyone again.
        app.clock.set("2021-05-12".parse().unwrap());
        app.page(Some(Role::Provider), Method::POST, &all, &[], true).await;
        assert_eq!((days(&app, first).await, days(&app, second).await), (2, 2));
        // After the class, no check-in.
        app.clock.set("2021-05-15".parse().unwrap());
        let r = app.page(Some(Role::Provider), Method::POST, &all, &[], true).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}");
        assert_eq!((days(&app, first).await, days(&app, second).await), (2, 2));
        // Only the provider checks in.
        let r = app.page(Some(Role::County), Method::POST, &all, &[], true).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    }
}

both_backends! {
    async fn a_provider_cannot_check_in_another_providers_trainee(backend: &'static str) {
        let app = spawn_app(backend).await;
        let mine = common::applied_class(&app, json!([{"id_number": id_number(MY_COUNTY, 11), "name": "李娜"}]), true).await;
        // Another provider's class, running the same days, with the other person.
        let other = jineng_store::orgs::create(&app.db, None, jineng_store::orgs::OrgKind::Provider, &jineng_store::orgs::OrgInput {
            credit_code: jineng_domain::CreditCode::generate(jineng_domain::AreaCode::parse(MY_COUNTY).unwrap(), 91).to_string(),
            legacy: false,
            name: "别的培训学校".into(),
            county_code: MY_COUNTY.into(),
            kind: None,
            insured: false,
            status: None,
        })
        .await
        .unwrap();
        let theirs = jineng_store::training::create_class(&app.db, None, &jineng_store::training::NewClass {
            name: "别人的班".into(),
            program_code: "P2a".into(),
            occupation_code: "6-31-01-03".into(),
            level: None,
            kind: jineng_domain::TrainingKind::SkillUpgrade,
            county_code: MY_COUNTY.into(),
            provider_id: other,
            start_date: "2021-05-10".parse().unwrap(),
            end_date: "2021-05-14".parse().unwrap(),
            subsidised: true,
        })
        .await
        .unwrap();
        let enrolment = jineng_store::training::enrol(&app.db, None, theirs, app.other_person, "2021-05-09".parse().unwrap()).await.unwrap();
        app.clock.set("2021-05-11".parse().unwrap());
        let id = enrolment.to_string();
        for (path, form) in [
            (format!("/classes/{mine}/attendance"), vec![("enrolment_id", id.as_str())]),
            (format!("/classes/{theirs}/attendance"), vec![("enrolment_id", id.as_str())]),
            (format!("/classes/{theirs}/attendance/all"), vec![]),
        ] {
            let r = app.page(Some(Role::Provider), Method::POST, &path, &form, true).await;
            assert!(matches!(r.status, StatusCode::NOT_FOUND | StatusCode::FORBIDDEN), "{backend}: {path}: {}", r.status);
        }
        assert_eq!(days(&app, enrolment).await, 0, "{backend}: nothing written");
        assert_eq!(audited(&app).await, 0, "{backend}: nothing audited");
        // Their page is not ours to see either.
        let r = app.page(Some(Role::Provider), Method::GET, &format!("/classes/{theirs}"), &[], false).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
    }
}
