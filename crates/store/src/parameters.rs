//! Parameter values scheduled by the city (on top of the shipped parameter file).

use crate::audit;
use crate::{in_tx, now, with_pool, Db, Result};
use chrono::NaiveDate;
use serde::Serialize;

/// A scheduled value.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ScheduledValue {
    /// Dotted key.
    pub key: String,
    /// First day in force.
    pub from_date: NaiveDate,
    pub value: i64,
    /// Source (e.g. the city's notice).
    pub source: String,
    /// Who scheduled it.
    pub created_by: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// Every scheduled value, oldest first per key.
pub async fn scheduled(db: &Db) -> Result<Vec<ScheduledValue>> {
    Ok(with_pool!(db, |p| {
        sqlx::query_as(
        "SELECT v.key, v.from_date, v.value, v.source, u.username AS created_by, v.created_at FROM parameter_version v \
         JOIN app_user u ON u.user_id = v.created_by ORDER BY v.key, v.from_date"
    )
    .fetch_all(p)
    .await?
    }))
}

/// Stores a scheduled value (the caller has checked it against the parameter rules).
pub async fn schedule(db: &Db, actor: i64, key: &str, from: NaiveDate, value: i64, source: &str) -> Result<()> {
    in_tx!(db, |tx| {
        sqlx::query(
            "INSERT INTO parameter_version (key, from_date, value, source, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(key)
        .bind(from)
        .bind(value)
        .bind(source)
        .bind(actor)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        audit::record(
            &mut *tx,
            Some(actor),
            "schedule",
            "parameter",
            key,
            &serde_json::json!({"from": from, "value": value, "source": source}),
        )
        .await?;
    });
    Ok(())
}

/// The parameters in force: the shipped file plus the values the city scheduled. A value that
/// no longer fits the parameter's rules was checked when scheduled and is skipped, not applied.
pub async fn effective(db: &Db) -> Result<jineng_policy::Params> {
    let mut p = jineng_policy::Params::shipped();
    for v in scheduled(db).await? {
        if let Some(k) = jineng_policy::Key::parse(&v.key) {
            let source = format!("{}（{} 设定 set by {}）", v.source, v.created_at.format("%Y-%m-%d"), v.created_by);
            let _ = p.schedule(k, v.from_date, v.value, &source);
        }
    }
    Ok(p)
}

/// The area code of the plan's region (e.g. `411700`), against which S7 checks place.
pub async fn region(db: &Db) -> Result<String> {
    Ok(crate::plan::current_plan(db).await?.plan.region_code.to_string())
}
