//! Every link a role is shown leads to a page it may open: signed in as each role, follow the
//! links of its pages from the home page (breadth first, up to 80 pages, and every link of the
//! home itself) on a day with something in every work queue, and expect no refusal, no missing
//! page and no server error. On both backends.

use crate::home;

use crate::common::spawn_app;
use axum::http::{Method, StatusCode};
use jineng_domain::Role;
use jineng_store::testing::both_backends;
use std::collections::{BTreeSet, VecDeque};

use jineng_web::common::same_site_links as links;

both_backends! {
    async fn every_link_a_role_sees_opens_for_that_role(backend: &'static str) {
        let app = spawn_app(backend).await;
        // Something in every queue and list: classes with trainees (one applied, one running
        // today), a refused roster import, claims in review and on notice with an objection, a
        // payment batch to approve.
        home::busy_day(&app).await;
        let claims = app.api(Some(Role::County), Method::GET, "/api/v1/claims", None).await.json();
        let claim = claims[0]["claim_id"].as_i64().unwrap();
        for action in ["approve", "publish"] {
            app.api(Some(Role::County), Method::POST, &format!("/api/v1/claims/{claim}/actions"), Some(serde_json::json!({"action": action}))).await;
        }
        app.api(None, Method::POST, &format!("/api/v1/notice/{claim}/objections"),
            Some(serde_json::json!({"filer_name": "王某", "contact": "13900000000", "reason": "未实际参训"}))).await;
        let mut problems = Vec::new();
        for role in Role::ALL.iter().copied() {
            let mut seen = BTreeSet::new();
            let mut queue = VecDeque::from(["/".to_owned()]);
            // Every link of the home itself is followed, however many pages the walk opens.
            let home = app.page(Some(role), Method::GET, "/", &[], false).await;
            let first: BTreeSet<String> = links(&home.body).into_iter().collect();
            while let Some(path) = queue.pop_front() {
                let budget = seen.len() >= 80 && !first.contains(&path);
                if budget || !seen.insert(path.clone()) || path.starts_with("/static/") || path == "/logout" {
                    continue;
                }
                let r = app.page(Some(role), Method::GET, &path, &[], false).await;
                let status = r.status;
                if status.is_redirection() {
                    if let Some(to) = r.headers.get("location").and_then(|l| l.to_str().ok()) {
                        queue.push_back(to.to_owned());
                    }
                    continue;
                }
                if status != StatusCode::OK {
                    problems.push(format!("{backend}: {}: {path} answers {status}", role.code()));
                    continue;
                }
                let html = r.headers.get("content-type").is_some_and(|c| c.to_str().unwrap_or("").starts_with("text/html"));
                if html {
                    queue.extend(links(&r.body));
                }
            }
            assert!(seen.len() > 2, "{}: only {seen:?}", role.code());
            assert!(first.iter().all(|l| seen.contains(l)), "{backend}: {}: every link of the home was followed", role.code());
        }
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }
}
