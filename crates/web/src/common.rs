//! Small types the resources' API handlers share.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The id of what was created.
#[derive(Serialize, ToSchema)]
pub struct Created {
    pub id: i64,
}

/// The highest page a list opens (a page number from outside is bounded before any arithmetic).
pub const MAX_PAGE: i64 = 100_000;

/// A page number from outside (none, 0, negative or huge) as 1..=[`MAX_PAGE`], and the offset of
/// its first row with `per_page` rows a page.
pub fn page_offset(page: Option<i64>, per_page: i64) -> (i64, i64) {
    let page = page.unwrap_or(1).clamp(1, MAX_PAGE);
    (page, (page - 1).saturating_mul(per_page))
}

/// Search and paging.
#[derive(Deserialize, IntoParams)]
pub struct SearchQuery {
    /// Name prefix or ID-number prefix (≥ 6 characters).
    pub q: Option<String>,
    /// Page, from 1 (lists read by offset: classes, organisations).
    pub page: Option<i64>,
    /// The next page of a list read by keyset (people): rows after this id, the `next` of
    /// the page before.
    pub after: Option<i64>,
}

impl SearchQuery {
    /// The page asked for, from 1.
    pub fn page(&self) -> i64 {
        self.page.unwrap_or(1).max(1)
    }
}

/// Rows per page of the people and class lists.
pub const PAGE: i64 = 50;

/// A page's kind: its path with every run of digits as `N`, without query or fragment
/// (`/claims/42?x=1` → `/claims/N`). Walks of the pages (the browser test, `bench pages`) visit
/// one page of each kind.
pub fn page_kind(path: &str) -> String {
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let mut out = String::new();
    for ch in path.chars() {
        if ch.is_ascii_digit() {
            if !out.ends_with('N') {
                out.push('N');
            }
        } else {
            out.push(ch);
        }
    }
    out
}

/// The same-site links of a rendered page (`href="/..."`), unescaped, without fragments.
pub fn same_site_links(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(|h| h.replace("&#x2f;", "/").replace("&amp;", "&").replace("&#x3d;", "="))
        .filter(|h| h.starts_with('/') && !h.starts_with("//"))
        .map(|h| h.split('#').next().unwrap_or(&h).to_owned())
        .collect()
}
