//! The facts money rests on are not lost or overwritten by accident: editing a person keeps the
//! facts the form carries, and a target the plan fixes cannot be changed.

use crate::common;

use crate::common::spawn_app;
use axum::http::{Method, StatusCode};
use jineng_domain::Role;
use jineng_store::testing::both_backends;
use serde_json::json;

both_backends! {
    async fn the_person_form_carries_every_fact_it_saves(backend: &'static str) {
        let app = spawn_app(backend).await;
        let path = format!("/api/v1/people/{}", app.my_person);
        let p = app.api(Some(Role::CityAdmin), Method::GET, &path, None).await.json()["person"].clone();
        let r = app
            .api(
                Some(Role::CityAdmin),
                Method::PUT,
                &path,
                Some(json!({"name": p["name"], "county_code": p["county_code"], "rural": true, "insured_since": "2016-03-01", "monthly_pension": true})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{backend}: {}", r.body);
        // The edit form shows the insured-since date and the pension, so saving it unchanged keeps them.
        let form = app.page(Some(Role::CityAdmin), Method::GET, &format!("/people/{}/edit", app.my_person), &[], false).await;
        assert_eq!(form.status, StatusCode::OK);
        assert!(form.body.contains(r#"value="2016-03-01""#), "{backend}: insured since is on the form");
        let pension = form.body.split("name=\"monthly_pension\"").nth(1).unwrap_or_default();
        assert!(pension.split('>').next().unwrap_or_default().contains("checked"), "{backend}: the pension box is ticked");
        let fields = [
            ("name", p["name"].as_str().unwrap()),
            ("county_code", p["county_code"].as_str().unwrap()),
            ("rural", "1"),
            ("insured_since", "2016-03-01"),
            ("monthly_pension", "1"),
        ];
        let r = app.page(Some(Role::CityAdmin), Method::POST, &format!("/people/{}", app.my_person), &fields, true).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{backend}: {}", r.body);
        let after = app.api(Some(Role::CityAdmin), Method::GET, &path, None).await.json()["person"].clone();
        assert_eq!((after["insured_since"].as_str(), after["monthly_pension"].as_bool()), (Some("2016-03-01"), Some(true)));
    }
}

both_backends! {
    async fn a_target_the_plan_fixes_cannot_be_changed(backend: &'static str) {
        let app = spawn_app(backend).await;
        // P2a: 60,000 person-times, fixed by the plan.
        let r = app
            .api(Some(Role::CityAdmin), Method::PUT, "/api/v1/programs/P2a/target", Some(json!({"target": 1, "reason": "试图改小"})))
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}: {}", r.body);
        assert!(r.body.contains("方案已规定"), "{}", r.body);
        let d = app.api(Some(Role::CityAdmin), Method::GET, "/api/v1/programs/P2a", None).await.json();
        assert_eq!(d["program"]["target"], 60_000, "{backend}: {d}");
        // A pending one (P1, asked of the industry bureau) is set, with its reason.
        let r = app
            .api(Some(Role::CityAdmin), Method::PUT, "/api/v1/programs/P1/target", Some(json!({"target": 30_000, "reason": "工信局意见"})))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{backend}: {}", r.body);
    }
}

both_backends! {
    async fn a_trainee_who_did_not_pass_gets_the_living_allowance_when_the_class_ends(backend: &'static str) {
        // S2: 在培训期间给予生活费补贴 — for the days attended, whether or not the trainee passes.
        let app = spawn_app(backend).await;
        jineng_store::people::add_group(&app.db, None, app.my_person, "poor_worker", "2019-01-01".parse().unwrap())
            .await
            .unwrap();
        let id = common::id_number(common::MY_COUNTY, 11);
        let class = common::applied_class(&app, json!([{"id_number": id, "name": "李娜"}]), true).await;
        for day in ["2021-05-10", "2021-05-11", "2021-05-12"] {
            let r = app
                .api(
                    Some(Role::Provider),
                    Method::POST,
                    &format!("/api/v1/classes/{class}/attendance"),
                    Some(json!({"id_number": id, "day": day, "method": "face"})),
                )
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{backend}: {}", r.body);
        }
        let r = app
            .api(
                Some(Role::AssessmentBody),
                Method::POST,
                &format!("/api/v1/classes/{class}/assessments"),
                Some(json!({"id_number": id, "assessed_on": "2021-05-15", "score": 40, "passed": false, "kind": "skill_level", "serial": ""})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{backend}: {}", r.body);
        let claims = app.api(Some(Role::County), Method::GET, "/api/v1/claims", None).await.json();
        assert_eq!(claims.as_array().unwrap().len(), 0, "{backend}: nothing before the class ends: {claims}");
        let r = app
            .api(Some(Role::County), Method::POST, &format!("/api/v1/classes/{class}/actions"), Some(json!({"action": "close"})))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{backend}: {}", r.body);
        let claims = app.api(Some(Role::County), Method::GET, "/api/v1/claims", None).await.json();
        let list = claims.as_array().unwrap();
        assert_eq!(list.len(), 1, "{backend}: {claims}");
        let c = &list[0];
        assert_eq!(
            (c["kind"].as_str(), c["outcome"].as_str(), c["amount_fen"].as_i64()),
            (Some("living_allowance"), Some("approved"), Some(3 * 3000)),
            "{backend}: three days at 30 yuan: {c}"
        );
    }
}

both_backends! {
    async fn a_target_in_persons_counts_each_person_once(backend: &'static str) {
        use jineng_store::training::{self, NewClass};
        let app = spawn_app(backend).await;
        // P2c (veterans) is stated in persons (万人); the pending target is set to 10.
        let r = app
            .api(Some(Role::CityAdmin), Method::PUT, "/api/v1/programs/P2c/target", Some(json!({"target": 10, "reason": "退役军人事务局意见"})))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{backend}: {}", r.body);
        let d = |s: &str| s.parse::<chrono::NaiveDate>().unwrap();
        // One veteran completes two trainings of the program: two person-times, one person.
        for (start, end) in [("2020-04-01", "2020-04-10"), ("2020-07-01", "2020-07-10")] {
            let class = training::create_class(
                &app.db,
                None,
                &NewClass {
                    name: format!("退役军人培训{start}"),
                    program_code: "P2c".into(),
                    occupation_code: "6-31-01-03".into(),
                    level: None,
                    kind: jineng_domain::TrainingKind::Employment,
                    county_code: common::MY_COUNTY.into(),
                    provider_id: app.provider_id,
                    start_date: d(start),
                    end_date: d(end),
                    subsidised: true,
                },
            )
            .await
            .unwrap();
            let e = training::enrol(&app.db, None, class, app.my_person, d(start)).await.unwrap();
            training::complete(&app.db, None, e, d(end)).await.unwrap();
        }
        let p = app.api(Some(Role::CityAdmin), Method::GET, "/api/v1/programs/P2c", None).await.json()["program"].clone();
        assert_eq!(p["done"]["person_times"], 2, "{backend}: {p}");
        assert_eq!(p["done_persons"], 1, "{backend}: {p}");
        assert_eq!(p["done_permille"], 100, "{backend}: one person of ten");
        // A target in person-times counts completions: P2a has no distinct-person count.
        let a = app.api(Some(Role::CityAdmin), Method::GET, "/api/v1/programs/P2a", None).await.json()["program"].clone();
        assert!(a["done_persons"].is_null(), "{a}");
        let page = app.page(Some(Role::CityAdmin), Method::GET, "/programs/P2c", &[], false).await;
        assert!(page.body.contains("done-persons"), "{backend}: the page says it counts persons");
    }
}

both_backends! {
    /// The county of work is a fact of its own, recorded by the office, even outside the city (a
    /// worker registered here who works in Zhengzhou); an update that does not name it keeps it.
    async fn the_county_of_work_is_recorded_even_outside_the_city(backend: &'static str) {
        let app = spawn_app(backend).await;
        let path = format!("/api/v1/people/{}", app.my_person);
        let p = app.api(Some(Role::CityAdmin), Method::GET, &path, None).await.json()["person"].clone();
        let mut body = json!({"name": p["name"], "county_code": p["county_code"], "rural": p["rural"], "work_county": "410102"});
        let r = app.api(Some(Role::CityAdmin), Method::PUT, &path, Some(body.clone())).await;
        assert_eq!(r.status, StatusCode::OK, "{backend}: {}", r.body);
        assert_eq!(r.json()["work_county"], "410102", "{}", r.body);
        body.as_object_mut().unwrap().remove("work_county");
        let r = app.api(Some(Role::CityAdmin), Method::PUT, &path, Some(body.clone())).await;
        assert_eq!(r.json()["work_county"], "410102", "an update without it keeps it: {}", r.body);
        let facts = app.api(Some(Role::CityAdmin), Method::GET, &path, None).await.json()["facts"].clone();
        let work = facts.as_array().unwrap().iter().find(|f| f["fact"] == "work_county").cloned().unwrap_or_default();
        assert_eq!(work["value"], "410102", "{facts}");
        assert_eq!(work["source"], "county_verified", "{facts}");
        // Outside areas are never listed among the city's counties.
        let counties = jineng_store::plan::counties(&app.db).await.unwrap();
        assert!(counties.iter().all(|c| c.county_code != "410102"), "{counties:?}");
        body["work_county"] = json!("41x102");
        let r = app.api(Some(Role::CityAdmin), Method::PUT, &path, Some(body)).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(r.body.contains("work_county"), "{}", r.body);
    }
}
