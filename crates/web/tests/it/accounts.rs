//! Accounts the bureau runs: who manages whom (a county office only its own county's office
//! accounts), one-time setup codes shown once, sign-ins that end at once on a role change,
//! suspension or reset, the password rules, and every step in the audit log. Both backends.

use crate::common::{spawn_app, TestApp, MY_COUNTY, OTHER_COUNTY};
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use jineng_domain::Role;
use jineng_store::testing::both_backends;
use jineng_store::{users, with_pool};
use serde_json::json;

const GOOD: &str = "驻马店-技能培训-2026";

async fn scalar(app: &TestApp, q: &str) -> i64 {
    with_pool!(&app.db, |p| sqlx::query_scalar::<_, i64>(q).fetch_one(p).await.unwrap())
}

async fn strings(app: &TestApp, q: &str) -> Vec<String> {
    with_pool!(&app.db, |p| sqlx::query_scalar::<_, String>(q).fetch_all(p).await.unwrap())
}

/// An API call with a given bearer token.
async fn with_token(
    app: &TestApp,
    token: &str,
    method: Method,
    path: &str,
    body: Option<serde_json::Value>,
) -> crate::common::Resp {
    let b = Request::builder().method(method).uri(path).header(header::AUTHORIZATION, format!("Bearer {token}"));
    let req = match body {
        Some(v) => b.header(header::CONTENT_TYPE, "application/json").body(Body::from(v.to_string())),
        None => b.body(Body::empty()),
    };
    app.send(req.unwrap()).await
}

/// `GET /api/v1/me` with a session cookie.
async fn me_by_cookie(app: &TestApp, cookie: &str) -> StatusCode {
    let req =
        Request::builder().uri("/api/v1/me").header(header::COOKIE, format!("jn_session={cookie}")).body(Body::empty());
    app.send(req.unwrap()).await.status
}

/// Signs in through the API; the token, or the status.
async fn sign_in(app: &TestApp, username: &str, password: &str) -> Result<String, StatusCode> {
    let r =
        app.api(None, Method::POST, "/api/v1/tokens", Some(json!({"username": username, "password": password}))).await;
    if r.status == StatusCode::CREATED {
        Ok(r.json()["token"].as_str().unwrap().to_owned())
    } else {
        Err(r.status)
    }
}

/// The city admin creates an account; its id and one-time code.
async fn create(app: &TestApp, by: Role, username: &str, role: &str, scope: Option<&str>) -> crate::common::Resp {
    app.api(
        Some(by),
        Method::POST,
        "/api/v1/accounts",
        Some(json!({"username": username, "display_name": "王芳", "role": role, "scope": scope})),
    )
    .await
}

/// A working account with a password: created by the city admin and set up with its code.
async fn ready(app: &TestApp, username: &str) -> i64 {
    let r = create(app, Role::CityAdmin, username, "county", Some(MY_COUNTY)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let (id, code) = (r.json()["user_id"].as_i64().unwrap(), r.json()["code"].as_str().unwrap().to_owned());
    let s = app
        .api(
            None,
            Method::POST,
            "/api/v1/account/setup",
            Some(json!({"username": username, "code": code, "password": GOOD})),
        )
        .await;
    assert_eq!(s.status, StatusCode::NO_CONTENT, "{}", s.body);
    id
}

both_backends! {
    async fn a_county_office_manages_only_its_own_county_accounts(backend: &'static str) {
        let app = spawn_app(backend).await;
        let admin_id = scalar(&app, "SELECT user_id FROM app_user WHERE role = 'city_admin'").await;
        // Not another county, not a role above its own, not a role of no county, not a
        // provider or worker of another county (or of none).
        let other_person = app.other_person.to_string();
        for (role, scope) in [
            ("county", Some(OTHER_COUNTY)),
            ("city_admin", None),
            ("auditor", None),
            ("finance", None),
            ("department", Some("hrss")),
            ("provider", Some("999999")),
            ("provider", Some("abc")),
            ("worker", Some(other_person.as_str())),
        ] {
            let r = create(&app, Role::County, &format!("x-{role}"), role, scope).await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}: county creates {role} {scope:?}: {}", r.body);
        }
        // Its county's provider and worker: yes.
        let provider = app.provider_id.to_string();
        let p = create(&app, Role::County, "provider-clerk", "provider", Some(provider.as_str())).await;
        assert_eq!(p.status, StatusCode::CREATED, "{backend}: {}", p.body);
        let p = p.json()["user_id"].as_i64().unwrap();
        let my_person = app.my_person.to_string();
        let w = create(&app, Role::County, "worker-lina", "worker", Some(my_person.as_str())).await;
        assert_eq!(w.status, StatusCode::CREATED, "{backend}: {}", w.body);
        let mine = create(&app, Role::County, "county-clerk", "county", Some(MY_COUNTY)).await;
        assert_eq!(mine.status, StatusCode::CREATED, "{backend}: {}", mine.body);
        let mine = mine.json()["user_id"].as_i64().unwrap();
        let other = create(&app, Role::CityAdmin, "other-clerk", "county", Some(OTHER_COUNTY)).await;
        assert_eq!(other.status, StatusCode::CREATED, "{backend}");
        let other = other.json()["user_id"].as_i64().unwrap();

        let listed = app.api(Some(Role::County), Method::GET, "/api/v1/accounts", None).await.json();
        let ids: Vec<i64> = listed.as_array().unwrap().iter().map(|a| a["user_id"].as_i64().unwrap()).collect();
        assert!(ids.contains(&mine), "{backend}");
        assert!(!ids.contains(&other) && !ids.contains(&admin_id), "{backend}: {ids:?}");
        assert!(ids.contains(&p), "{backend}: its provider's account is listed");
        // Only its county's: its offices, and the test's provider, employer, assessment body and
        // worker, all registered in MY_COUNTY.
        assert!(
            listed.as_array().unwrap().iter().all(|a| (a["role"] == "county" && a["scope"] == MY_COUNTY)
                || ["provider", "employer", "assessment_body", "worker"].contains(&a["role"].as_str().unwrap())),
            "{backend}: {listed}"
        );
        assert!(!listed.as_array().unwrap().iter().any(|a| a["role"] == "worker" && a["scope"] == other_person.as_str()), "{backend}");
        let all = app.api(Some(Role::CityAdmin), Method::GET, "/api/v1/accounts", None).await.json();
        assert!(all.as_array().unwrap().len() >= 11, "{backend}: the city admin sees every account");

        for target in [other, admin_id] {
            for (method, path, body) in [
                (Method::GET, format!("/api/v1/accounts/{target}"), None),
                (Method::POST, format!("/api/v1/accounts/{target}/suspend"), None),
                (Method::POST, format!("/api/v1/accounts/{target}/reset-password"), None),
                (Method::PUT, format!("/api/v1/accounts/{target}/role"), Some(json!({"role": "county", "scope": MY_COUNTY}))),
            ] {
                let r = app.api(Some(Role::County), method.clone(), &path, body).await;
                assert_eq!(r.status, StatusCode::NOT_FOUND, "{backend}: county {method} {path}: {}", r.body);
            }
        }
        // Its own county's account, but not into a role above its own.
        let up = app.api(Some(Role::County), Method::PUT, &format!("/api/v1/accounts/{mine}/role"), Some(json!({"role": "city_admin"}))).await;
        assert_eq!(up.status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}");
        let moved = app.api(Some(Role::County), Method::PUT, &format!("/api/v1/accounts/{mine}/role"), Some(json!({"role": "county", "scope": OTHER_COUNTY}))).await;
        assert_eq!(moved.status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}");
        let s = app.api(Some(Role::County), Method::POST, &format!("/api/v1/accounts/{mine}/suspend"), None).await;
        assert_eq!(s.status, StatusCode::NO_CONTENT, "{backend}");
        // Nobody suspends themselves.
        let me = scalar(&app, "SELECT user_id FROM app_user WHERE username = 'county'").await;
        let s = app.api(Some(Role::County), Method::POST, &format!("/api/v1/accounts/{me}/suspend"), None).await;
        assert_eq!(s.status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}");
        // Other roles do not manage accounts at all.
        for role in [Role::Auditor, Role::Finance, Role::Provider, Role::Worker] {
            assert_eq!(app.api(Some(role), Method::GET, "/api/v1/accounts", None).await.status, StatusCode::FORBIDDEN, "{backend}");
        }
    }
}

both_backends! {
    async fn a_role_change_suspension_or_reset_ends_sessions_and_tokens_at_once(backend: &'static str) {
        let app = spawn_app(backend).await;
        let id = ready(&app, "clerk-a").await;
        let live = |token: String| {
            let app = &app;
            async move { with_token(app, &token, Method::GET, "/api/v1/me", None).await.status }
        };

        // Role change.
        let token = sign_in(&app, "clerk-a", GOOD).await.unwrap();
        let (cookie, _) = users::create_session(&app.db, id, 1).await.unwrap();
        assert_eq!(live(token.clone()).await, StatusCode::OK, "{backend}");
        assert_eq!(me_by_cookie(&app, &cookie).await, StatusCode::OK, "{backend}");
        let r = app.api(Some(Role::CityAdmin), Method::PUT, &format!("/api/v1/accounts/{id}/role"), Some(json!({"role": "auditor"}))).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{backend}: {}", r.body);
        assert_eq!(live(token).await, StatusCode::UNAUTHORIZED, "{backend}: the token ended with the role change");
        assert_eq!(me_by_cookie(&app, &cookie).await, StatusCode::UNAUTHORIZED, "{backend}: the session too");
        let token = sign_in(&app, "clerk-a", GOOD).await.unwrap();
        assert_eq!(with_token(&app, &token, Method::GET, "/api/v1/me", None).await.json()["role"], "auditor", "{backend}");

        // Suspension: no sign-in, the live ones end; restored, the password works again.
        let (cookie, _) = users::create_session(&app.db, id, 1).await.unwrap();
        let r = app.api(Some(Role::CityAdmin), Method::POST, &format!("/api/v1/accounts/{id}/suspend"), None).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{backend}");
        assert_eq!(live(token).await, StatusCode::UNAUTHORIZED, "{backend}");
        assert_eq!(me_by_cookie(&app, &cookie).await, StatusCode::UNAUTHORIZED, "{backend}");
        assert_eq!(sign_in(&app, "clerk-a", GOOD).await, Err(StatusCode::UNAUTHORIZED), "{backend}");
        app.api(Some(Role::CityAdmin), Method::POST, &format!("/api/v1/accounts/{id}/unsuspend"), None).await;
        assert_eq!(me_by_cookie(&app, &cookie).await, StatusCode::UNAUTHORIZED, "{backend}: an ended session stays ended");
        let token = sign_in(&app, "clerk-a", GOOD).await.unwrap();

        // Reset: the password, the token and the session all stop at once.
        let (cookie, _) = users::create_session(&app.db, id, 1).await.unwrap();
        let r = app.api(Some(Role::CityAdmin), Method::POST, &format!("/api/v1/accounts/{id}/reset-password"), None).await;
        assert_eq!(r.status, StatusCode::OK, "{backend}");
        assert_eq!(live(token).await, StatusCode::UNAUTHORIZED, "{backend}");
        assert_eq!(me_by_cookie(&app, &cookie).await, StatusCode::UNAUTHORIZED, "{backend}");
        assert_eq!(sign_in(&app, "clerk-a", GOOD).await, Err(StatusCode::UNAUTHORIZED), "{backend}: the old password is gone");
        let last = app.api(Some(Role::CityAdmin), Method::GET, &format!("/api/v1/accounts/{id}"), None).await.json();
        assert!(last["last_sign_in_at"].is_string(), "{backend}: last sign-in shown: {last}");
    }
}

both_backends! {
    async fn a_setup_code_is_shown_once_and_works_once(backend: &'static str) {
        let app = spawn_app(backend).await;
        let r = create(&app, Role::CityAdmin, "clerk-b", "county", Some(MY_COUNTY)).await;
        let (id, code) = (r.json()["user_id"].as_i64().unwrap(), r.json()["code"].as_str().unwrap().to_owned());
        // Nowhere to be read again: not the account, not the list, not the audit log, not the table.
        let one = app.api(Some(Role::CityAdmin), Method::GET, &format!("/api/v1/accounts/{id}"), None).await;
        let list = app.api(Some(Role::CityAdmin), Method::GET, "/api/v1/accounts", None).await;
        let page = app.page(Some(Role::CityAdmin), Method::GET, &format!("/accounts/{id}"), &[], false).await;
        for body in [&one.body, &list.body, &page.body] {
            assert!(!body.contains(&code), "{backend}: the code shows again");
        }
        assert!(one.json()["setup_code_expires_at"].is_string(), "{backend}: a code is waiting");
        let stored = strings(&app, "SELECT detail FROM audit_log UNION ALL SELECT COALESCE(setup_code_hash, '') FROM app_user").await;
        assert!(stored.iter().all(|s| !s.contains(&code)), "{backend}: only its hash is kept");
        // No password signs in before the code is redeemed.
        assert_eq!(sign_in(&app, "clerk-b", "!").await, Err(StatusCode::UNAUTHORIZED), "{backend}");
        let setup = |code: String| {
            let app = &app;
            async move {
                app.api(None, Method::POST, "/api/v1/account/setup", Some(json!({"username": "clerk-b", "code": code, "password": GOOD}))).await.status
            }
        };
        assert_eq!(setup(code.clone()).await, StatusCode::NO_CONTENT, "{backend}");
        assert_eq!(setup(code.clone()).await, StatusCode::UNPROCESSABLE_ENTITY, "{backend}: once only");
        assert!(sign_in(&app, "clerk-b", GOOD).await.is_ok(), "{backend}");
        // A reset gives a new code; the old one stays dead.
        let again = app.api(Some(Role::CityAdmin), Method::POST, &format!("/api/v1/accounts/{id}/reset-password"), None).await.json();
        let code2 = again["code"].as_str().unwrap().to_owned();
        assert_ne!(code2, code, "{backend}");
        assert_eq!(setup(code).await, StatusCode::UNPROCESSABLE_ENTITY, "{backend}");
        assert_eq!(setup(code2).await, StatusCode::NO_CONTENT, "{backend}");

        // The page shows the code once, on the answer to the form.
        let r = app.page(Some(Role::CityAdmin), Method::POST, "/accounts", &[("username", "clerk-c"), ("display_name", "李娜"), ("role", "finance"), ("scope", "")], true).await;
        assert_eq!(r.status, StatusCode::OK, "{backend}: {}", &r.body[..r.body.len().min(500)]);
        assert!(r.body.contains("id=\"setup-code\""), "{backend}");
        let c = strings(&app, "SELECT CAST(user_id AS TEXT) FROM app_user WHERE username = 'clerk-c'").await;
        let later = app.page(Some(Role::CityAdmin), Method::GET, &format!("/accounts/{}", c[0]), &[], false).await;
        assert!(!later.body.contains("id=\"setup-code\""), "{backend}");
        assert!(later.body.contains("待设置密码"), "{backend}");
        // A county office cannot use the form for another county: the form again, with the error.
        let r = app.page(Some(Role::County), Method::POST, "/accounts", &[("username", "clerk-d"), ("display_name", "李娜"), ("role", "county"), ("scope", OTHER_COUNTY)], true).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}");
        assert!(r.body.contains("form-errors") && !r.body.contains("setup-code"), "{backend}");
    }
}

both_backends! {
    async fn a_new_password_must_pass_the_rules(backend: &'static str) {
        let app = spawn_app(backend).await;
        let id = ready(&app, "clerk-e").await;
        let token = sign_in(&app, "clerk-e", GOOD).await.unwrap();
        let change = |current: &'static str, new: &'static str| {
            let (app, token) = (&app, token.clone());
            async move {
                with_token(app, &token, Method::POST, "/api/v1/account/password", Some(json!({"current": current, "password": new}))).await
            }
        };
        for (bad, why) in [
            ("short-one", "password.short"),
            ("my-clerk-e-password", "username"),
            ("zzzzzzzzzzzzzz", "same"),
            ("123456789012", "sequence"),
            ("abcdefghijklmn", "sequence"),
            ("password2026!", "common"),
            ("qwerty123456", "common"),
        ] {
            let r = change(GOOD, bad).await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}: {bad} ({why}) refused");
            assert!(r.json()["error"]["fields"]["password"].is_string(), "{backend}: {bad}: {}", r.body);
        }
        let wrong = change("not-my-password", "另一个足够长的密码-2026").await;
        assert!(wrong.json()["error"]["fields"]["current"].is_string(), "{backend}: the current password is checked");
        assert_eq!(change(GOOD, "另一个足够长的密码-2026").await.status, StatusCode::NO_CONTENT, "{backend}");
        assert_eq!(with_token(&app, &token, Method::GET, "/api/v1/me", None).await.status, StatusCode::UNAUTHORIZED, "{backend}: tokens end");
        assert_eq!(sign_in(&app, "clerk-e", GOOD).await, Err(StatusCode::UNAUTHORIZED), "{backend}");
        assert!(sign_in(&app, "clerk-e", "另一个足够长的密码-2026").await.is_ok(), "{backend}");
        // A setup code takes only a password that passes the rules, and stays usable until then.
        let code = app.api(Some(Role::CityAdmin), Method::POST, &format!("/api/v1/accounts/{id}/reset-password"), None).await.json()["code"].as_str().unwrap().to_owned();
        let weak = app.api(None, Method::POST, "/api/v1/account/setup", Some(json!({"username": "clerk-e", "code": code, "password": "12345678"}))).await;
        assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}");
        let ok = app.api(None, Method::POST, "/api/v1/account/setup", Some(json!({"username": "clerk-e", "code": code, "password": GOOD}))).await;
        assert_eq!(ok.status, StatusCode::NO_CONTENT, "{backend}");
    }
}

both_backends! {
    async fn every_account_step_and_failed_sign_in_is_audited_and_the_chain_holds(backend: &'static str) {
        let app = spawn_app(backend).await;
        let id = ready(&app, "clerk-f").await;
        let admin = |m: Method, path: String, body: Option<serde_json::Value>| {
            let app = &app;
            async move { assert!(app.api(Some(Role::CityAdmin), m, &path, body).await.status.is_success()) }
        };
        admin(Method::PUT, format!("/api/v1/accounts/{id}/role"), Some(json!({"role": "county", "scope": OTHER_COUNTY}))).await;
        admin(Method::POST, format!("/api/v1/accounts/{id}/suspend"), None).await;
        admin(Method::POST, format!("/api/v1/accounts/{id}/unsuspend"), None).await;
        admin(Method::POST, format!("/api/v1/accounts/{id}/reset-password"), None).await;
        assert_eq!(sign_in(&app, "clerk-f", "wrong password").await, Err(StatusCode::UNAUTHORIZED));
        assert_eq!(sign_in(&app, "411722198802290118", "my secret guess").await, Err(StatusCode::UNAUTHORIZED));
        let actions = strings(&app, &format!("SELECT action FROM audit_log WHERE entity = 'app_user' AND entity_id = '{id}' ORDER BY seq")).await;
        assert_eq!(actions, ["create", "set_password", "change_role", "suspend", "unsuspend", "reset_password"], "{backend}");
        let change = strings(&app, &format!("SELECT detail FROM audit_log WHERE action = 'change_role' AND entity_id = '{id}'")).await;
        assert!(change[0].contains("\"before\"") && change[0].contains(OTHER_COUNTY), "{backend}: before and after: {}", change[0]);
        // Who, from where: the request's address (in-process: `local`).
        let addresses = strings(&app, &format!("SELECT COALESCE(address, '') FROM audit_log WHERE entity_id = '{id}'")).await;
        assert!(addresses.iter().all(|a| a == "local"), "{backend}: {addresses:?}");
        let refused = strings(&app, "SELECT entity_id || ' ' || detail FROM audit_log WHERE action = 'sign_in_refused' ORDER BY seq").await;
        assert_eq!(refused.len(), 2, "{backend}");
        assert!(refused[0].starts_with("clerk-f "), "{backend}: {refused:?}");
        assert!(refused[1].starts_with("4117**********0118 ") && !refused[1].contains("198802290118"), "{backend}: an ID number tried as a username is masked: {refused:?}");
        assert!(refused.iter().all(|r| !r.contains("wrong password") && !r.contains("secret guess")), "{backend}: never the password");
        // Exports of personal data.
        let x = app.page(Some(Role::CityAdmin), Method::GET, &format!("/people/{}/record.xlsx", app.my_person), &[], false).await;
        assert_eq!(x.status, StatusCode::OK, "{backend}");
        assert_eq!(scalar(&app, &format!("SELECT COUNT(*) FROM audit_log WHERE action = 'export' AND entity = 'person' AND entity_id = '{}'", app.my_person)).await, 1, "{backend}");
        let v = jineng_store::audit::verify(&app.db).await.unwrap();
        assert!(v.first.is_none(), "{backend}: {:?}", v.first);
    }
}

both_backends! {
    async fn the_audit_log_records_the_peer_and_believes_forwarded_for_only_from_a_trusted_proxy(backend: &'static str) {
        let app = spawn_app(backend).await;
        let mut state = jineng_web::AppState::new(app.db.clone());
        state.trusted_proxies = std::sync::Arc::new(vec!["10.0.0.1".parse().unwrap()]);
        let router = jineng_web::app(state);
        for (peer, forwarded, user) in [
            ("10.0.0.1", "203.0.113.9, 10.0.0.1", "via-proxy"),
            ("198.51.100.7", "203.0.113.50", "direct"),
        ] {
            let mut req = Request::builder()
                .method(Method::POST)
                .uri("/api/v1/tokens")
                .header(header::CONTENT_TYPE, "application/json")
                .header("x-forwarded-for", forwarded)
                .body(Body::from(json!({"username": user, "password": "wrong password"}).to_string()))
                .unwrap();
            let addr: std::net::SocketAddr = format!("{peer}:40000").parse().unwrap();
            req.extensions_mut().insert(axum::extract::ConnectInfo(addr));
            let r = tower::ServiceExt::oneshot(router.clone(), req).await.unwrap();
            assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{backend}");
        }
        let seen = strings(&app, "SELECT entity_id || ' ' || COALESCE(address, '') FROM audit_log WHERE action = 'sign_in_refused' ORDER BY seq").await;
        assert_eq!(seen, ["via-proxy 203.0.113.9", "direct 198.51.100.7"], "{backend}");
    }
}
