//! Walks every route of the route table with every role (and no one), on both backends, and
//! checks that the answer follows the route's rule: 401 or a redirect to sign-in without a
//! user, 403 for a role the rule leaves out, anything else for a role it lets in.

use crate::common;

use crate::common::{spawn_app, MY_COUNTY};
use axum::http::{Method, StatusCode};
use jineng_domain::Role;
use jineng_store::testing::both_backends;
use jineng_web::routes::rules;
use jineng_web::Access;

fn concrete(path: &str, app: &common::TestApp) -> String {
    path.replace("{code}", if path.contains("counties") { MY_COUNTY } else { "P2a" })
        .replace("{kind}", "employers")
        .replace("{file}", "app.css")
        .replace("{id}", &app.my_person.to_string())
}

both_backends! {
    async fn every_route_answers_every_role_by_its_rule(backend: &'static str) {
        let app = spawn_app(backend).await;
        let table = rules();
        assert!(table.len() >= 35, "route table has {} rows", table.len());
        let mut checked = 0;
        // Signing out and revoking a token end the credentials the later requests use, so they
        // go last.
        let mut ordered: Vec<_> = table.iter().collect();
        ordered.sort_by_key(|r| r.path == "/logout" || r.path == "/api/v1/tokens/{id}");
        for rule in ordered {
            let path = concrete(rule.path, &app);
            let is_api = path.starts_with("/api/");
            for role in std::iter::once(None).chain(Role::ALL.iter().copied().map(Some)) {
                let r = if is_api {
                    let body = (rule.method != Method::GET).then(|| serde_json::json!({}));
                    app.api(role, rule.method.clone(), &path, body).await
                } else {
                    app.page(role, rule.method.clone(), &path, &[], true).await
                };
                let allowed = rule.access.allows(role);
                let who = role.map_or("anonymous", |r| r.code());
                let denied = match (role, is_api) {
                    (None, true) => r.status == StatusCode::UNAUTHORIZED,
                    (None, false) => {
                        r.status == StatusCode::SEE_OTHER
                            && r.headers.get("location").is_some_and(|l| l.to_str().unwrap().starts_with("/login"))
                    }
                    (Some(_), _) => r.status == StatusCode::FORBIDDEN,
                };
                if allowed {
                    assert!(
                        !denied && r.status != StatusCode::INTERNAL_SERVER_ERROR,
                        "{backend}: {who} should pass {} {path}, got {}: {}",
                        rule.method,
                        r.status,
                        &r.body[..r.body.len().min(300)]
                    );
                } else {
                    assert!(denied, "{backend}: {who} should be refused {} {path}, got {}", rule.method, r.status);
                }
                checked += 1;
            }
        }
        assert_eq!(checked, table.len() * (Role::ALL.len() + 1));
        // Public routes are few and named.
        // In any order: the table is assembled from the resource modules.
        let mut public: Vec<_> = table.iter().filter(|r| r.access == Access::Public).map(|r| r.path).collect();
        public.sort_unstable();
        let mut named = vec![
                "/healthz",
                "/static/{file}",
                "/login",
                "/login",
                "/notice",
                "/notice/{id}/objections",
                "/catalog",
                "/api/openapi.json",
                "/api/v1/tokens",
                "/api/v1/notice",
                "/api/v1/notice/{id}/objections",
                "/api/v1/catalog/occupations",
                "/api/v1/catalog/projects",
                "/api/v1/catalog/providers",
                "/api/v1/catalog/assessment-bodies",
                "/account/setup",
                "/account/setup",
                "/api/v1/account/setup",
                "/public",
                "/public/disclosure",
                "/open/money.csv",
                "/open/money.json",
                "/open/trainees.csv",
                "/open/trainees.json",
                "/open/funds.csv",
                "/open/funds.json",
        ];
        named.sort_unstable();
        assert_eq!(public, named);
    }
}

#[tokio::test]
async fn the_openapi_document_describes_every_api_route() {
    let app = spawn_app("sqlite").await;
    let doc = app.api(None, Method::GET, "/api/openapi.json", None).await.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for rule in rules().iter().filter(|r| r.path.starts_with("/api/v1/")) {
        let method = rule.method.as_str().to_lowercase();
        assert!(
            doc["paths"][rule.path][&method].is_object(),
            "{} {} missing from the OpenAPI document",
            rule.method,
            rule.path
        );
    }
}
