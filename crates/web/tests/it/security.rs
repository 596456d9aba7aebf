//! Security by default: headers on every answer, pages with personal data never cached, and
//! after signing in only a path on this server.

use crate::common;

use crate::common::spawn_app;
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use jineng_domain::Role;

#[tokio::test]
async fn every_answer_carries_the_security_headers_and_personal_pages_are_not_stored() {
    let app = spawn_app("sqlite").await;
    for (role, path) in [
        (Some(Role::CityAdmin), "/people"),
        (Some(Role::Worker), "/api/v1/claims"),
        (None, "/notice"),
        (None, "/login"),
        (Some(Role::CityAdmin), "/no/such/page"),
    ] {
        let r = match role {
            Some(r) if path.starts_with("/api/") => app.api(Some(r), Method::GET, path, None).await,
            r => app.page(r, Method::GET, path, &[], false).await,
        };
        let h = |name: header::HeaderName| r.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        assert!(h(header::CONTENT_SECURITY_POLICY).contains("default-src 'self'"), "{path}: {:?}", r.headers);
        assert!(h(header::CONTENT_SECURITY_POLICY).contains("frame-ancestors 'none'"), "{path}");
        let script = h(header::CONTENT_SECURITY_POLICY)
            .split(';')
            .find(|d| d.trim().starts_with("script-src"))
            .unwrap_or("")
            .to_owned();
        assert!(script.contains("'self'") && !script.contains("unsafe"), "{path}: no inline script runs: {script}");
        let style = h(header::CONTENT_SECURITY_POLICY)
            .split(';')
            .find(|d| d.trim().starts_with("style-src"))
            .unwrap_or("")
            .to_owned();
        assert!(style.contains("'self'") && !style.contains("unsafe"), "{path}: no inline style applies: {style}");
        assert_eq!(h(header::X_CONTENT_TYPE_OPTIONS), "nosniff", "{path}");
        assert_eq!(h(header::REFERRER_POLICY), "same-origin", "{path}");
        assert_eq!(h(header::CACHE_CONTROL), "no-store", "{path}");
        assert!(r.headers.get(header::STRICT_TRANSPORT_SECURITY).is_none(), "{path}: no HSTS over plain HTTP");
    }
    // No page needs an inline script: behaviour is in /static/app.js, chart data in JSON blocks.
    for page in ["/", "/programs/P2a", "/reports/2020-03", "/claims", "/claims/new", "/reports"] {
        let role = if page == "/claims/new" { Role::Employer } else { Role::CityAdmin };
        let body = app.page(Some(role), Method::GET, page, &[], false).await.body;
        for (i, _) in body.match_indices("<script") {
            let tag = &body[i..i + body[i..].find('>').unwrap()];
            assert!(
                tag.contains(" src=\"/static/") || tag.contains("type=\"application/json\""),
                "{page}: an inline script: {tag}"
            );
        }
        let lower = body.to_lowercase();
        for handler in [" onclick=", " onsubmit=", " onchange=", " onload=", "javascript:"] {
            assert!(!lower.contains(handler), "{page}: an inline handler {handler}");
        }
    }
    // No template carries a style of its own, which the policy would block: each uses the stylesheet.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap().to_lowercase();
        assert!(!text.contains(" style=") && !text.contains("<style"), "{}: an inline style", path.display());
    }
    let r = app.page(None, Method::GET, "/static/app.js", &[], false).await;
    assert!(
        r.status.is_success() && r.headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/javascript"),
        "{:?}",
        r.headers
    );
    // Compiled-in assets may be cached.
    let r = app.page(None, Method::GET, "/static/app.css", &[], false).await;
    assert!(r.headers[header::CACHE_CONTROL].to_str().unwrap().starts_with("public"), "{:?}", r.headers);
}

#[tokio::test]
async fn after_signing_in_the_browser_goes_only_to_a_path_on_this_server() {
    let app = spawn_app("sqlite").await;
    for (next, expected) in [
        ("/people?q=x", "/people?q=x"),
        ("//evil.example/x", "/"),
        ("/\\evil.example", "/"),
        ("/\t/evil.example", "/"),
        ("/\n/evil.example", "/"),
        ("/\r\nSet-Cookie: x=1", "/"),
        ("https://evil.example", "/"),
        ("", "/"),
    ] {
        let form = serde_urlencoded::to_string([
            ("username", Role::CityAdmin.code()),
            ("password", "correct horse battery"),
            ("next", next),
        ])
        .unwrap();
        let req = Request::builder()
            .method(Method::POST)
            .uri("/login")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(form))
            .unwrap();
        let r = app.send(req).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "next {next:?}: {}", r.body);
        assert_eq!(r.headers[header::LOCATION], expected, "next {next:?}");
    }
}

/// A token request from `address`.
fn token_request(username: &str, password: &str, address: [u8; 4]) -> Request<Body> {
    let mut req = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/tokens")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(serde_json::json!({"username": username, "password": password}).to_string()))
        .unwrap();
    let peer = std::net::SocketAddr::from((address, 40000));
    req.extensions_mut().insert(axum::extract::ConnectInfo(peer));
    req
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn wrong_passwords_at_once_are_counted_per_account_and_address() {
    let app = spawn_app("sqlite").await;
    let user = Role::Finance.code();
    // 32 wrong passwords at once from one address: five are checked, the rest refused unchecked.
    let tries = (0..32).map(|_| app.send(token_request(user, "wrong password", [10, 0, 0, 1])));
    let answers = futures_util::future::join_all(tries).await;
    let checked = answers.iter().filter(|r| r.status == StatusCode::UNAUTHORIZED).count();
    let refused = answers.iter().filter(|r| r.status == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!((checked, refused), (5, 27), "{:?}", answers.iter().map(|r| r.status).collect::<Vec<_>>());
    // The right password from that address waits too; from another address the account signs in.
    let r = app.send(token_request(user, "correct horse battery", [10, 0, 0, 1])).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    let r = app.send(token_request(user, "correct horse battery", [10, 0, 0, 2])).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    // One address trying many accounts is stopped after thirty attempts.
    let mut refused = 0;
    for i in 0..40 {
        let r = app.send(token_request(&format!("nobody{i}"), "x", [10, 0, 0, 3])).await;
        refused += usize::from(r.status == StatusCode::TOO_MANY_REQUESTS);
    }
    assert_eq!(refused, 10);
}

#[tokio::test]
async fn no_answer_carries_a_full_id_number_or_what_rebuilds_a_masked_one() {
    let app = spawn_app("postgres").await;
    let id = common::id_number(common::MY_COUNTY, 11);
    let class = common::applied_class(&app, serde_json::json!([{"id_number": id, "name": "李娜"}]), true).await;
    let r = app
        .api(
            Some(Role::AssessmentBody),
            Method::POST,
            &format!("/api/v1/classes/{class}/assessments"),
            Some(serde_json::json!({"id_number": id, "assessed_on": "2021-05-15", "score": 90, "passed": true, "kind": "skill_level", "serial": "C-1"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let list = app.api(Some(Role::CityAdmin), Method::GET, "/api/v1/claims", None).await;
    let claim = list.json()[0]["claim_id"].as_i64().unwrap();
    let birth = &id[6..14];
    for (role, path) in [
        (Role::CityAdmin, "/api/v1/claims".to_owned()),
        (Role::Worker, format!("/api/v1/claims/{claim}")),
        (Role::County, format!("/claims/{claim}")),
        (Role::CityAdmin, format!("/api/v1/people/{}", app.my_person)),
        (Role::CityAdmin, format!("/people/{}", app.my_person)),
        (Role::CityAdmin, "/api/v1/people?q=李".to_owned()),
    ] {
        let r = if path.starts_with("/api/") {
            app.api(Some(role), Method::GET, &path, None).await
        } else {
            app.page(Some(role), Method::GET, &path, &[], false).await
        };
        assert_eq!(r.status, StatusCode::OK, "{path}");
        assert!(!r.body.contains(&id), "{path} carries the full ID number");
        assert!(!r.body.contains(birth), "{path} carries the birth date that rebuilds the masked number");
    }
    // The payee is still named for the reviewer, masked.
    let c = app.api(Some(Role::County), Method::GET, &format!("/api/v1/claims/{claim}"), None).await.json();
    let payee: serde_json::Value = serde_json::from_str(c["claim"]["payee"].as_str().unwrap()).unwrap();
    assert_eq!(payee["person"], jineng_domain::id_number::mask(&id));
}

#[tokio::test]
async fn api_tokens_expire_and_can_be_listed_and_revoked_and_idle_sessions_end() {
    let app = spawn_app("sqlite").await;
    let me = || app.api(Some(Role::Auditor), Method::GET, "/api/v1/me", None);
    assert_eq!(me().await.status, StatusCode::OK);
    let list = app.api(Some(Role::Auditor), Method::GET, "/api/v1/tokens", None).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    let tokens = list.json();
    assert_eq!(tokens.as_array().unwrap().len(), 1);
    assert!(tokens[0]["expires_at"].is_string() && !list.body.contains(&app.tokens[&Role::Auditor]), "{}", list.body);
    let id = tokens[0]["api_token_id"].as_i64().unwrap();
    // Another user cannot revoke it; its owner can, and it stops working at once.
    let path = format!("/api/v1/tokens/{id}");
    assert_eq!(app.api(Some(Role::Finance), Method::DELETE, &path, None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(me().await.status, StatusCode::OK);
    assert_eq!(app.api(Some(Role::Auditor), Method::DELETE, &path, None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(me().await.status, StatusCode::UNAUTHORIZED);
    // An expired token is refused.
    let jineng_store::Db::Sqlite(pool) = &app.db else { unreachable!() };
    sqlx::query("UPDATE api_token SET expires_at = $1").bind(chrono::Utc::now()).execute(pool).await.unwrap();
    assert_eq!(app.api(Some(Role::Finance), Method::GET, "/api/v1/me", None).await.status, StatusCode::UNAUTHORIZED);
    // A session unused for three hours has ended: the page asks to sign in again.
    assert_eq!(app.page(Some(Role::County), Method::GET, "/", &[], false).await.status, StatusCode::OK);
    sqlx::query("UPDATE session SET last_seen_at = $1")
        .bind(chrono::Utc::now() - chrono::Duration::hours(3))
        .execute(pool)
        .await
        .unwrap();
    let r = app.page(Some(Role::County), Method::GET, "/", &[], false).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(r.headers[header::LOCATION].to_str().unwrap().starts_with("/login"));
}

#[tokio::test]
async fn a_provider_reads_a_trainees_record_at_its_own_classes_only_and_a_phone_never_leaves_unmasked() {
    use jineng_store::orgs::{self, OrgInput, OrgKind};
    use jineng_store::training::{self, NewClass};
    let app = spawn_app("sqlite").await;
    // The same worker also trained with another provider.
    let other = orgs::create(
        &app.db,
        None,
        OrgKind::Provider,
        &OrgInput {
            credit_code: jineng_domain::CreditCode::generate(
                jineng_domain::AreaCode::parse(common::MY_COUNTY).unwrap(),
                91,
            )
            .to_string(),
            legacy: false,
            name: "另一家培训学校".into(),
            county_code: common::MY_COUNTY.into(),
            kind: None,
            insured: false,
            status: None,
        },
    )
    .await
    .unwrap();
    let d = |s: &str| s.parse::<chrono::NaiveDate>().unwrap();
    let class = training::create_class(
        &app.db,
        None,
        &NewClass {
            name: "别家的焊工班".into(),
            program_code: "P2a".into(),
            occupation_code: "6-31-01-03".into(),
            level: None,
            kind: jineng_domain::TrainingKind::SkillUpgrade,
            county_code: common::MY_COUNTY.into(),
            provider_id: other,
            start_date: d("2020-06-01"),
            end_date: d("2020-06-10"),
            subsidised: true,
        },
    )
    .await
    .unwrap();
    training::enrol(&app.db, None, class, app.my_person, d("2020-05-30")).await.unwrap();
    let path = format!("/api/v1/people/{}", app.my_person);
    let own = app.api(Some(Role::Provider), Method::GET, &path, None).await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.body);
    assert!(!own.body.contains("别家的焊工班"), "the provider sees its own classes only: {}", own.body);
    assert_eq!(own.json()["trainings"].as_array().unwrap().len(), 1);
    let page = app.page(Some(Role::Provider), Method::GET, &format!("/people/{}", app.my_person), &[], false).await;
    assert!(!page.body.contains("别家的焊工班"));
    // The county office sees both.
    let all = app.api(Some(Role::County), Method::GET, &path, None).await;
    assert!(all.body.contains("别家的焊工班"));
    // The phone is masked on the edit form; saving the form unchanged keeps the number.
    let form = app.page(Some(Role::County), Method::GET, &format!("/people/{}/edit", app.my_person), &[], false).await;
    assert!(form.body.contains("138****5678") && !form.body.contains("13812345678"), "{}", form.body);
    let fields = [("name", "李娜"), ("county_code", common::MY_COUNTY), ("phone", "138****5678"), ("rural", "1")];
    let r = app.page(Some(Role::County), Method::POST, &format!("/people/{}", app.my_person), &fields, true).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let p = jineng_store::people::get(&app.db, &Default::default(), app.my_person).await.unwrap();
    assert_eq!(p.phone.as_deref(), Some("13812345678"));
    // The audit log keeps the phone masked too.
    let audit = app.page(Some(Role::Auditor), Method::GET, "/audit?entity=person", &[], false).await;
    assert!(!audit.body.contains("13812345678"), "the audit log shows a full phone");
}

#[tokio::test]
async fn an_employer_filing_for_an_id_number_does_not_learn_the_registered_name() {
    let app = spawn_app("sqlite").await;
    let body = serde_json::json!({"kind": "on_the_job", "id_number": common::id_number(common::MY_COUNTY, 11), "name": "李娜", "name": "李娜",
                                   "employed_from": "2020-01-01", "from": "2020-09-01", "months": 3});
    let r = app.api_keyed(Role::Employer, "/api/v1/claims", "probe-1", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.json()["claim"]["person_name"], "李*", "{}", r.body);
    assert!(!r.body.contains("李娜"));
    let list = app.api(Some(Role::Employer), Method::GET, "/api/v1/claims", None).await;
    assert!(!list.body.contains("李娜"), "{}", list.body);
    // The county office reviewing it sees the name.
    let county = app.api(Some(Role::County), Method::GET, "/api/v1/claims", None).await;
    assert!(county.body.contains("李娜"));
}

#[tokio::test]
async fn an_employer_cannot_tell_a_registered_number_from_an_unregistered_one() {
    let app = spawn_app("sqlite").await;
    let registered = common::id_number(common::MY_COUNTY, 11);
    let unregistered = common::id_number(common::MY_COUNTY, 12);
    let employments = || async {
        jineng_store::with_pool!(&app.db, |p| sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM employment")
            .fetch_one(p)
            .await
            .unwrap())
    };
    let before = employments().await;
    let mut answers = Vec::new();
    for (i, (id, name)) in
        [(&registered, "王某"), (&unregistered, "王某"), (&unregistered, "李娜"), (&registered, "")].iter().enumerate()
    {
        let body = serde_json::json!({"kind": "on_the_job", "id_number": id, "name": name,
                                       "employed_from": "2020-01-01", "from": "2020-09-01", "months": 3});
        let r = app.api_keyed(Role::Employer, "/api/v1/claims", &format!("probe-{i}"), body).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(!r.body.contains("李娜"), "{}", r.body);
        answers.push(r.json()["error"]["fields"].clone());
    }
    // A wrong name and an unregistered number read the same; no employment is written.
    assert_eq!(answers[0], answers[1], "a wrong name and an unknown number answer alike");
    assert_eq!(answers[1], answers[2]);
    assert!(answers[3]["name"].is_string(), "the name is required: {}", answers[3]);
    assert_eq!(employments().await, before, "a refused filing writes no employment");
}

#[tokio::test]
async fn the_confirmation_cookie_is_httponly_and_secure_behind_https() {
    let app = spawn_app("sqlite").await;
    let (cookie, csrf) = app.sessions[&Role::CityAdmin].clone();
    let post = |from: &str| {
        let form = serde_urlencoded::to_string([
            ("key", "pre_job_subsidy_fen"),
            ("from", from),
            ("value", "600"),
            ("source", "市人社局通知"),
            ("csrf", csrf.as_str()),
        ])
        .unwrap();
        Request::builder()
            .method(Method::POST)
            .uri("/policy/parameters")
            .header(header::COOKIE, format!("jn_session={cookie}"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(form))
            .unwrap()
    };
    let flash = |r: &common::Resp| {
        r.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .find(|c| c.starts_with("jn_flash="))
            .unwrap_or_else(|| panic!("no confirmation cookie: {:?}", r.headers))
    };
    // Plain HTTP: HttpOnly, SameSite, short-lived.
    let r = app.send(post("2099-03-01")).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let c = flash(&r);
    assert!(
        c.contains("HttpOnly") && c.contains("SameSite=Lax") && c.contains("Max-Age=60") && !c.contains("Secure"),
        "{c}"
    );
    // Behind HTTPS: Secure too.
    let mut state = jineng_web::AppState::new(app.db.clone());
    state.secure_cookies = true;
    let secure = jineng_web::app(state);
    let res = tower::ServiceExt::oneshot(secure, post("2099-04-01")).await.unwrap();
    let c: Vec<String> =
        res.headers().get_all(header::SET_COOKIE).iter().map(|v| v.to_str().unwrap().to_owned()).collect();
    let c = c.iter().find(|c| c.starts_with("jn_flash=")).expect("a confirmation");
    assert!(c.ends_with("; Secure"), "{c}");
}
