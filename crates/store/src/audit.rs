//! The audit log: every change is written in the same transaction as the change itself.

use crate::{now, Result};
use serde::Serialize;

/// Who did something: a signed-in user, or the system (`None`: demo loader, migrations).
pub type Actor = Option<i64>;

/// One audit entry as shown to auditors.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct AuditEntry {
    pub audit_id: i64,
    pub at: chrono::DateTime<chrono::Utc>,
    pub user_id: Option<i64>,
    /// What (`create`, `update`, …).
    pub action: String,
    pub entity: String,
    /// Row id.
    pub entity_id: String,
    /// JSON detail of the change.
    pub detail: String,
}

/// Writes one entry on the given connection (inside the caller's transaction).
pub async fn record<'c, E, DB>(
    conn: E,
    actor: Actor,
    action: &str,
    entity: &str,
    entity_id: &str,
    detail: &serde_json::Value,
) -> Result<()>
where
    E: sqlx::Executor<'c, Database = DB>,
    DB: sqlx::Database,
    for<'q> <DB as sqlx::Database>::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    for<'q> chrono::DateTime<chrono::Utc>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Option<i64>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    sqlx::query(
        "INSERT INTO audit_log (at, user_id, action, entity, entity_id, detail) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(now())
    .bind(actor)
    .bind(action.to_owned())
    .bind(entity.to_owned())
    .bind(entity_id.to_owned())
    .bind(detail.to_string())
    .execute(conn)
    .await?;
    Ok(())
}

/// The newest entries for one row, newest first.
pub async fn for_entity(db: &crate::Db, entity: &str, entity_id: &str) -> Result<Vec<AuditEntry>> {
    Ok(crate::with_pool!(db, |p| sqlx::query_as(
        "SELECT audit_id, at, user_id, action, entity, entity_id, detail FROM audit_log \
         WHERE entity = $1 AND entity_id = $2 ORDER BY audit_id DESC LIMIT 200"
    )
    .bind(entity)
    .bind(entity_id)
    .fetch_all(p)
    .await?))
}

/// Writes one entry outside any other change (e.g. a sign-in).
pub async fn log(
    db: &crate::Db,
    actor: Actor,
    action: &str,
    entity: &str,
    entity_id: &str,
    detail: &serde_json::Value,
) -> Result<()> {
    crate::with_pool!(db, |p| record(p, actor, action, entity, entity_id, detail).await)
}

/// Which entries the audit page lists.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// One entity kind (table), or all.
    pub entity: Option<String>,
    /// From this moment on.
    pub from: Option<chrono::DateTime<chrono::Utc>>,
    /// Before this moment.
    pub until: Option<chrono::DateTime<chrono::Utc>>,
    /// Page size.
    pub limit: i64,
    /// Entries skipped (newest first).
    pub offset: i64,
}

/// An entry with the name of who made it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct AuditRow {
    /// The entry.
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub entry: AuditEntry,
    /// The user's display name (none: the system).
    pub user_name: Option<String>,
}

/// The entries that pass the filter, newest first, with who made them.
pub async fn recent(db: &crate::Db, f: &AuditFilter) -> Result<Vec<AuditRow>> {
    Ok(crate::with_pool!(db, |p| {
        sqlx::query_as(
        "SELECT a.audit_id, a.at, a.user_id, a.action, a.entity, a.entity_id, a.detail, u.display_name AS user_name \
         FROM audit_log a LEFT JOIN app_user u ON u.user_id = a.user_id \
         WHERE ($1 = '' OR a.entity = $1) AND ($2 IS NULL OR a.at >= $2) AND ($3 IS NULL OR a.at < $3) ORDER BY a.audit_id DESC LIMIT $4 OFFSET $5"
    )
    .bind(f.entity.as_deref().unwrap_or(""))
    .bind(f.from)
    .bind(f.until)
    .bind(f.limit)
    .bind(f.offset)
    .fetch_all(p)
    .await?
    }))
}
