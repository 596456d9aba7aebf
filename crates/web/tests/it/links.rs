//! Every link a role is shown leads to a page it may open: signed in as each role, follow the
//! links of its pages from the home page (breadth first, up to 80 pages) and expect no refusal,
//! no missing page and no server error.

use crate::common;

use crate::common::spawn_app;
use axum::http::{Method, StatusCode};
use jineng_domain::Role;
use std::collections::{BTreeSet, VecDeque};

/// The same-site links of a page (`href="/..."`), without fragments.
fn links(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(|h| h.replace("&#x2f;", "/").replace("&amp;", "&").replace("&#x3d;", "="))
        .filter(|h| h.starts_with('/') && !h.starts_with("//"))
        .map(|h| h.split('#').next().unwrap_or(&h).to_owned())
        .collect()
}

#[tokio::test]
async fn every_link_a_role_sees_opens_for_that_role() {
    let app = spawn_app("sqlite").await;
    // Something in every list: a class with a trainee, so that class pages are linked.
    common::applied_class(
        &app,
        serde_json::json!([{"id_number": common::id_number(common::MY_COUNTY, 11), "name": "李娜"}]),
        true,
    )
    .await;
    let mut problems = Vec::new();
    for role in Role::ALL.iter().copied() {
        let mut seen = BTreeSet::new();
        let mut queue = VecDeque::from(["/".to_owned()]);
        while let Some(path) = queue.pop_front() {
            if seen.len() >= 80 || !seen.insert(path.clone()) || path.starts_with("/static/") || path == "/logout" {
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
                problems.push(format!("{}: {path} answers {status}", role.code()));
                continue;
            }
            let html = r.headers.get("content-type").is_some_and(|c| c.to_str().unwrap_or("").starts_with("text/html"));
            if html {
                queue.extend(links(&r.body));
            }
        }
        assert!(seen.len() > 2, "{}: only {seen:?}", role.code());
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
