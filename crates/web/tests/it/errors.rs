//! One error policy: the same mistake gets the same JSON body on SQLite and PostgreSQL; a request
//! refused before any handler ran (bad JSON, a wrong type, a bad path, an unknown route, a wrong
//! method) answers in the same envelope; no constraint or column name reaches a client; every
//! response carries a request id.

use crate::common::{id_number, spawn_app, Resp, TestApp, MY_COUNTY};
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use jineng_domain::Role;
use serde_json::json;

/// A raw API request with the role's token.
async fn raw(app: &TestApp, role: Role, method: Method, path: &str, content_type: &str, body: &str) -> Resp {
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {}", app.tokens[&role]))
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body.to_owned()))
        .unwrap();
    app.send(req).await
}

/// The mistakes, each sent the same way to an app: (what, status, body).
async fn mistakes(app: &TestApp) -> Vec<(String, StatusCode, serde_json::Value)> {
    let person = json!({"id_number": id_number(MY_COUNTY, 901), "name": "赵六", "county_code": MY_COUNTY});
    let first = app.api(Some(Role::CityAdmin), Method::POST, "/api/v1/people", Some(person.clone())).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let good = id_number(MY_COUNTY, 902);
    let bad_id = format!("{}{}", &good[..17], if good.ends_with('0') { '1' } else { '0' });
    let org = json!({"credit_code": "91411722MA44XXXX0X", "name": "x", "county_code": MY_COUNTY});
    let mut out = Vec::new();
    let mut push = |what: &str, r: Resp| {
        let body = serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {}", r.body));
        out.push((what.to_owned(), r.status, body));
    };
    push("duplicate ID number", app.api(Some(Role::CityAdmin), Method::POST, "/api/v1/people", Some(person)).await);
    push(
        "bad ID number",
        app.api(
            Some(Role::CityAdmin),
            Method::POST,
            "/api/v1/people",
            Some(json!({"id_number": bad_id, "name": "钱七", "county_code": MY_COUNTY})),
        )
        .await,
    );
    push("bad credit code", app.api(Some(Role::CityAdmin), Method::POST, "/api/v1/orgs/employers", Some(org)).await);
    push("unknown person", app.api(Some(Role::CityAdmin), Method::GET, "/api/v1/people/987654321", None).await);
    push(
        "malformed JSON",
        raw(app, Role::CityAdmin, Method::POST, "/api/v1/people", "application/json", "{\"id_number\": ").await,
    );
    push(
        "wrong JSON type",
        raw(app, Role::CityAdmin, Method::POST, "/api/v1/people", "application/json", "{\"id_number\": 5}").await,
    );
    push("no JSON content type", raw(app, Role::CityAdmin, Method::POST, "/api/v1/people", "text/plain", "{}").await);
    push("bad path parameter", app.api(Some(Role::CityAdmin), Method::GET, "/api/v1/people/abc", None).await);
    push("bad query parameter", app.api(Some(Role::CityAdmin), Method::GET, "/api/v1/people?page=x", None).await);
    push("unknown route", app.api(Some(Role::CityAdmin), Method::GET, "/api/v1/nothing-here", None).await);
    push("wrong method", app.api(Some(Role::CityAdmin), Method::DELETE, "/api/v1/people", None).await);
    push(
        "unknown fund",
        app.api(
            Some(Role::Finance),
            Method::POST,
            "/api/v1/payments",
            Some(json!({"op": "allocate", "fund": "nope", "amount_fen": 1, "note": "x"})),
        )
        .await,
    );
    out
}

#[tokio::test]
async fn the_same_mistakes_give_the_same_bodies_on_both_backends() {
    let sqlite = mistakes(&spawn_app("sqlite").await).await;
    let postgres = mistakes(&spawn_app("postgres").await).await;
    for ((what, s1, b1), (_, s2, b2)) in sqlite.iter().zip(&postgres) {
        assert_eq!(s1, s2, "{what}: status differs");
        assert_eq!(b1, b2, "{what}: body differs between SQLite and PostgreSQL");
        assert!(s1.is_client_error(), "{what}: {s1}");
        let e = &b1["error"];
        assert!(e["code"].is_string() && e["message"].is_string() && e["fields"].is_object(), "{what}: {b1}");
        // Chinese first, and nothing of the schema.
        let text = b1.to_string();
        for leak in ["_key", "UNIQUE", "constraint", "person.id_number", "sqlx", "jineng_"] {
            assert!(!text.contains(leak), "{what} leaks {leak:?}: {text}");
        }
    }
    let code = |what: &str| sqlite.iter().find(|m| m.0 == what).map(|m| (m.1, m.2["error"]["code"].clone())).unwrap();
    assert_eq!(code("duplicate ID number"), (StatusCode::CONFLICT, json!("conflict")));
    assert_eq!(code("malformed JSON"), (StatusCode::BAD_REQUEST, json!("bad_request")));
    assert_eq!(code("wrong JSON type"), (StatusCode::UNPROCESSABLE_ENTITY, json!("invalid")));
    assert_eq!(code("no JSON content type"), (StatusCode::UNSUPPORTED_MEDIA_TYPE, json!("unsupported_media_type")));
    assert_eq!(code("bad path parameter"), (StatusCode::BAD_REQUEST, json!("bad_request")));
    assert_eq!(code("unknown route"), (StatusCode::NOT_FOUND, json!("not_found")));
    assert_eq!(code("wrong method"), (StatusCode::METHOD_NOT_ALLOWED, json!("method_not_allowed")));
    // A conflict on a field names the field, in words for people.
    let dup = &sqlite[0].2["error"];
    assert!(dup["fields"]["id_number"].as_str().unwrap().contains("身份证号已登记"), "{dup}");
}

#[tokio::test]
async fn a_refused_page_request_is_an_error_page_and_every_answer_has_a_request_id() {
    let app = spawn_app("sqlite").await;
    let r = app.page(Some(Role::CityAdmin), Method::GET, "/people/abc", &[], false).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/html"), "{:?}", r.headers);
    assert!(r.body.contains("请求格式有误"), "{}", r.body);
    let r = app.page(Some(Role::CityAdmin), Method::GET, "/no/such/page", &[], false).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.body.contains("页面不存在"), "{}", r.body);
    let id = r.headers.get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert_eq!(id.len(), 36, "a UUID request id: {:?}", r.headers);
    let again = app.page(Some(Role::CityAdmin), Method::GET, "/", &[], false).await;
    assert_ne!(again.headers["x-request-id"].to_str().unwrap(), id, "one id per request");
    // A caller's own request id is kept.
    let req = Request::builder().uri("/healthz").header("x-request-id", "clerk-42").body(Body::empty()).unwrap();
    assert_eq!(app.send(req).await.headers["x-request-id"], "clerk-42");
}

#[tokio::test]
async fn bodies_are_bounded_per_route_before_they_are_read() {
    let app = spawn_app("sqlite").await;
    // A 300 KB JSON body on an ordinary route: 413 in the envelope, nothing created.
    let name = "张".repeat(100_000);
    let body = json!({"id_number": id_number(MY_COUNTY, 905), "name": name, "county_code": MY_COUNTY}).to_string();
    let before = app.people_count().await;
    let r = raw(&app, Role::CityAdmin, Method::POST, "/api/v1/people", "application/json", &body).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", &r.body[..r.body.len().min(300)]);
    assert_eq!(r.json()["error"]["code"], "payload_too_large");
    assert_eq!(app.people_count().await, before);
    // Public routes take far less: 20 KB to the sign-in page or the public objections.
    let form = format!("username=admin&password={}", "x".repeat(20_000));
    let req = Request::builder()
        .method(Method::POST)
        .uri("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form))
        .unwrap();
    assert_eq!(app.send(req).await.status, StatusCode::PAYLOAD_TOO_LARGE);
    let objection = json!({"filer_name": "x", "contact": "y", "reason": "z".repeat(20_000)});
    let r = app.api(None, Method::POST, "/api/v1/notice/1/objections", Some(objection)).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.body);
}

#[tokio::test]
async fn text_with_hidden_characters_and_unbounded_figures_are_refused_by_field() {
    let app = spawn_app("sqlite").await;
    let person = |name: &str, phone: &str| json!({"id_number": id_number(MY_COUNTY, 907), "name": name, "county_code": MY_COUNTY, "phone": phone});
    let before = app.people_count().await;
    for (what, body, field) in [
        ("NUL in a name", person("张\u{0}三", "13800000000"), "name"),
        ("a right-to-left override", person("张\u{202E}三", "13800000000"), "name"),
        (
            "an escape in a nested field",
            json!({"id_number": "x", "name": "李四", "county_code": MY_COUNTY, "groups": [{"group": "poor\u{1b}", "from": "2020-01-01"}]}),
            "groups[0].group",
        ),
        ("a 10 KB phone", person("王五", &"1".repeat(10_000)), "phone"),
    ] {
        let r = app.api(Some(Role::CityAdmin), Method::POST, "/api/v1/people", Some(body)).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{what}: {}", r.body);
        assert!(r.json()["error"]["fields"][field].is_string(), "{what}: {}", r.body);
    }
    assert_eq!(app.people_count().await, before, "nothing registered");
    // The same on a page form, which is shown as an error page naming the field.
    let r = app
        .page(
            Some(Role::CityAdmin),
            Method::POST,
            "/people",
            &[("name", "赵\u{2066}六"), ("county_code", MY_COUNTY)],
            true,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    // Line breaks in a reason are text, not control characters to refuse.
    let r = app
        .api(
            None,
            Method::POST,
            "/api/v1/notice/1/objections",
            Some(json!({"filer_name": "张", "contact": "1", "reason": "第一行\n第二行"})),
        )
        .await;
    assert!(!r.body.contains("控制字符"), "{}", r.body);
    // A fund allocation of 9 × 10^18 fen is named, not a server error.
    let r = app
        .api(
            Some(Role::Finance),
            Method::POST,
            "/api/v1/payments",
            Some(json!({"op": "allocate", "fund": "employment_subsidy_fund", "amount_fen": 9_000_000_000_000_000_000i64, "note": "x"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.json()["error"]["fields"]["amount_fen"].is_string());
}

#[tokio::test]
async fn an_unknown_page_is_a_404_page_of_its_own_and_the_api_answers_in_its_envelope() {
    let app = spawn_app("sqlite").await;
    // Anonymous: the 404 page, in Chinese first, leading to the public pages.
    let r = app.page(None, Method::GET, "/no/such/page", &[], false).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
    let zh = r.body.find("页面不存在").expect("a Chinese title");
    assert!(zh < r.body.find("Page not found").unwrap(), "Chinese first");
    assert!(
        r.body.contains(r#"id="not-found""#)
            && r.body.contains(r#"href="/catalog""#)
            && r.body.contains("such&#x2f;page"),
        "{}",
        r.body
    );
    // Signed in: the same page with the caller's own menu.
    let r = app.page(Some(Role::County), Method::GET, "/no/such/page", &[], false).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.body.contains(r#"id="not-found""#) && r.body.contains("退出 Sign out"), "{}", r.body);
    // A record that does not exist is the same page.
    let r = app.page(Some(Role::CityAdmin), Method::GET, "/claims/999999", &[], false).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.body.contains(r#"id="not-found""#), "{}", r.body);
    // The API: JSON.
    let r = app.api(None, Method::GET, "/api/v1/no-such-thing", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.json()["error"]["code"], "not_found");
    // A known path with a wrong method is still 405.
    let r = app.api(Some(Role::CityAdmin), Method::DELETE, "/api/v1/claims", None).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn every_page_names_the_favicon_the_server_serves() {
    let app = spawn_app("sqlite").await;
    let r = app.page(None, Method::GET, "/catalog", &[], false).await;
    assert!(r.body.contains(r#"<link rel="icon" href="/static/favicon.svg""#), "{}", r.body);
    let r = app.page(None, Method::GET, "/static/favicon.svg", &[], false).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers[header::CONTENT_TYPE], "image/svg+xml");
    assert!(r.body.starts_with("<svg") && r.body.len() < 2_000, "a small SVG");
}
