//! Attendance on both backends.

use crate::common;

use crate::common::{id_number, spawn_app, MY_COUNTY, OTHER_COUNTY};
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
        let page = app.page(Some(Role::Provider), Method::GET, &format!("/classes/{class}"), &[], false).await;
        assert!(page.body.contains("id=\"check-in\"") && page.body.contains("2 / 5"));
    }
}
