//! Published catalogs (M2) on both backends.

use crate::common::{self, spawn_app};
use axum::http::{Method, StatusCode};
use jineng_domain::Role;
use jineng_store::testing::both_backends;
use serde_json::json;

both_backends! {
    async fn the_city_may_add_ten_occupations_and_the_eleventh_is_refused(backend: &'static str) {
        let app = spawn_app(backend).await;
        let admin = Some(Role::CityAdmin);
        let add = |n: usize| json!({"occupation_code": format!("驻-{n:02}"), "name": format!("特色职业{n}"), "standard": "驻人社〔2020〕8号：80课时，补贴800元"});
        for n in 1..=10 {
            let r = app.api(admin, Method::POST, "/api/v1/catalog/occupations", Some(add(n))).await;
            assert_eq!(r.status, StatusCode::CREATED, "{backend} #{n}: {}", r.body);
        }
        let r = app.api(admin, Method::POST, "/api/v1/catalog/occupations", Some(add(11))).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}");
        assert!(r.json()["error"]["fields"]["occupation_code"].as_str().unwrap().contains("最多10个"));
        let listed = app.api(None, Method::GET, "/api/v1/catalog/occupations?q=特色职业", None).await.json();
        assert_eq!(listed.as_array().unwrap().len(), 10, "the eleventh was not written");
        // Removing one frees a place; bringing it back when full is refused.
        let r = app
            .api(admin, Method::PUT, "/api/v1/catalog/occupations/驻-03/status", Some(json!({"status": "removed"})))
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        assert_eq!(
            app.api(admin, Method::POST, "/api/v1/catalog/occupations", Some(add(11))).await.status,
            StatusCode::CREATED
        );
        let r = app
            .api(admin, Method::PUT, "/api/v1/catalog/occupations/驻-03/status", Some(json!({"status": "listed"})))
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        // A city occupation needs the city's own standard.
        let r = app
            .api(
                admin,
                Method::POST,
                "/api/v1/catalog/occupations",
                Some(json!({"occupation_code": "驻-99", "name": "x", "standard": ""})),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        // Only the city admin maintains the catalog.
        assert_eq!(
            app.api(Some(Role::County), Method::POST, "/api/v1/catalog/occupations", Some(add(12))).await.status,
            StatusCode::FORBIDDEN
        );
    }
}

both_backends! {
    async fn subsidised_projects_need_a_listed_occupation_and_a_level_where_it_has_levels(backend: &'static str) {
        let app = spawn_app(backend).await;
        let admin = Some(Role::CityAdmin);
        let unknown = app
            .api(
                admin,
                Method::POST,
                "/api/v1/catalog/projects",
                Some(json!({"occupation_code": "9-99-99-99", "level": 5, "class_hours": 80, "subsidy_fen": 100000})),
            )
            .await;
        assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}");
        let levels: Vec<serde_json::Value> =
            serde_json::from_value(app.api(None, Method::GET, "/api/v1/catalog/occupations", None).await.json())
                .unwrap();
        let with_levels =
            levels.iter().find(|o| o["has_levels"] == true).unwrap()["occupation_code"].as_str().unwrap().to_owned();
        let no_level = app
            .api(
                admin,
                Method::POST,
                "/api/v1/catalog/projects",
                Some(json!({"occupation_code": with_levels, "class_hours": 80, "subsidy_fen": 100000})),
            )
            .await;
        assert_eq!(no_level.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(no_level.json()["error"]["fields"]["level"].is_string());
        let ok = app
            .api(
                admin,
                Method::POST,
                "/api/v1/catalog/projects",
                Some(json!({"occupation_code": with_levels, "level": 4, "class_hours": 120, "subsidy_fen": 150000})),
            )
            .await;
        assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.body);
        let public = app.api(None, Method::GET, "/api/v1/catalog/projects", None).await.json();
        assert_eq!(public.as_array().unwrap().len(), 1);
        assert_eq!(public[0]["subsidy_fen"], 150000);
        // A suspended occupation takes no new projects.
        app.api(
            admin,
            Method::PUT,
            &format!("/api/v1/catalog/occupations/{with_levels}/status"),
            Some(json!({"status": "suspended"})),
        )
        .await;
        let r = app
            .api(
                admin,
                Method::POST,
                "/api/v1/catalog/projects",
                Some(json!({"occupation_code": with_levels, "level": 3, "class_hours": 160, "subsidy_fen": 200000})),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
}

both_backends! {
    async fn the_catalog_page_is_public_and_lists_only_listed_organisations(backend: &'static str) {
        let app = spawn_app(backend).await;
        let r = app.page(None, Method::GET, "/catalog", &[], false).await;
        assert_eq!(r.status, StatusCode::OK, "{backend}");
        assert!(r.body.contains("上蔡县天中职业培训学校") && r.body.contains("公开目录"));
        assert!(!r.body.contains("李娜"), "no personal data on public pages");
        // Suspend the provider: it leaves the public list.
        let p = app
            .api(Some(Role::CityAdmin), Method::GET, &format!("/api/v1/orgs/providers/{}", app.provider_id), None)
            .await
            .json();
        let mut body = p.clone();
        body["status"] = json!("suspended");
        let r = app
            .api(Some(Role::CityAdmin), Method::PUT, &format!("/api/v1/orgs/providers/{}", app.provider_id), Some(body))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let listed = app.api(None, Method::GET, "/api/v1/catalog/providers", None).await.json();
        assert!(listed.as_array().unwrap().is_empty());
        // The admin maintains the catalog from a page.
        let r = app
            .page(
                Some(Role::CityAdmin),
                Method::POST,
                "/catalog/manage",
                &[
                    ("action", "add_city_occupation"),
                    ("occupation_code", "驻-01"),
                    ("name", "芝麻种植加工工"),
                    ("standard", "驻人社〔2020〕8号"),
                ],
                true,
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let r = app.page(None, Method::GET, "/catalog", &[], false).await;
        assert!(r.body.contains("芝麻种植加工工"));
    }
}

/// The occupation codes a catalog page lists in its national table.
fn national_codes(body: &str) -> Vec<String> {
    let table = &body[body.find(r#"id="occupations""#).unwrap()..];
    let table = &table[..table.find("</table>").unwrap()];
    table.split("<td><code>").skip(1).map(|c| c[..c.find("</code>").unwrap()].to_owned()).collect()
}

both_backends! {
    async fn the_public_catalog_is_searched_by_code_or_name_and_paged(backend: &'static str) {
        let app = spawn_app(backend).await;
        common::catalog_project(&app).await;
        // Unsearched: fifty national occupations a page, in code order, with a way on.
        let first = app.page(None, Method::GET, "/catalog", &[], false).await.body;
        let codes = national_codes(&first);
        assert_eq!(codes.len(), 50, "{backend}");
        let mut sorted = codes.clone();
        sorted.sort();
        assert_eq!(codes, sorted, "{backend}: in code order");
        assert!(first.contains(r#"id="occupations-pager""#) && first.contains("page=2"), "{backend}");
        let second = app.page(None, Method::GET, "/catalog?page=2", &[], false).await.body;
        let next = national_codes(&second);
        assert_eq!(next.len(), 50, "{backend}");
        assert!(next[0] > codes[49], "{backend}: page 2 goes on where page 1 ended");
        assert!(second.contains("第 2/"), "{backend}");
        // By name and by code: the occupation and its subsidised project.
        for q in ["家政", "4-10-01-06"] {
            let r = app.page(None, Method::GET, &format!("/catalog?q={}", urlencoding(q)), &[], false).await;
            assert_eq!(r.status, StatusCode::OK, "{backend}: {q}");
            assert_eq!(national_codes(&r.body), ["4-10-01-06"], "{backend}: {q}");
            let projects = &r.body[r.body.find(r#"id="projects""#).unwrap()..];
            assert!(projects[..projects.find("</table>").unwrap()].contains("家政服务员"), "{backend}: {q}: the project");
            assert!(!r.body.contains(r#"id="occupations-pager""#), "{backend}: one page");
        }
        // What is typed is matched as it is: a % is no wildcard.
        let r = app.page(None, Method::GET, "/catalog?q=%25", &[], false).await;
        assert!(national_codes(&r.body).is_empty() && r.body.contains("没有相符的职业"), "{backend}");
        // A search that finds nothing keeps the projects' table honest too.
        let r = app.page(None, Method::GET, "/catalog?q=4-10-01-06x", &[], false).await;
        assert!(r.body.contains("没有相符的项目"), "{backend}");
    }
}

fn urlencoding(s: &str) -> String {
    serde_urlencoded::to_string([("q", s)]).unwrap()[2..].to_owned()
}
