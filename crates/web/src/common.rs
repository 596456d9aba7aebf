//! Small types the resources' API handlers share.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The id of what was created.
#[derive(Serialize, ToSchema)]
pub struct Created {
    pub id: i64,
}

/// Search and paging.
#[derive(Deserialize, IntoParams)]
pub struct SearchQuery {
    /// Name prefix or ID-number prefix (≥ 6 characters).
    pub q: Option<String>,
    /// Page, from 1.
    pub page: Option<i64>,
}

impl SearchQuery {
    /// The page asked for, from 1.
    pub fn page(&self) -> i64 {
        self.page.unwrap_or(1).max(1)
    }
}

/// Rows per page of the people and class lists.
pub const PAGE: i64 = 50;
