//! The audit log page: the newest changes, filterable by entity, for auditors and the city admin.

use crate::auth::{Access, Auth, Route, AUDIT_READERS};
use crate::render::{render_page, OrPage, PageResult};
use crate::state::AppState;
use axum::extract::{Query, State};
use minijinja::{context, Value};
use serde::Deserialize;

/// Routes of this module.
pub fn routes() -> Vec<Route> {
    vec![Route::get("/audit", Access::Roles(AUDIT_READERS), audit_page)]
}

/// Filter of the audit page.
#[derive(Deserialize)]
pub struct AuditQuery {
    entity: Option<String>,
}

/// `GET /audit`: the newest changes, for auditors and the city admin (read-only).
pub async fn audit_page(State(st): State<AppState>, auth: Auth, Query(q): Query<AuditQuery>) -> PageResult {
    let entity = q.entity.filter(|e| !e.is_empty());
    let rows = jineng_store::audit::recent(&st.db, entity.as_deref(), 500).await.page(&auth)?;
    let entities = [
        "person",
        "employer",
        "provider",
        "assessment_body",
        "training_class",
        "enrolment",
        "completion",
        "attendance",
        "assessment",
        "claim",
        "program",
        "parameter",
        "occupation",
        "subsidy_project",
        "app_user",
        "api_token",
        "plan",
    ];
    render_page(
        &st,
        &auth,
        "audit.html",
        context! { rows => Value::from_serialize(&rows), entities => Value::from_serialize(entities), entity },
    )
}
