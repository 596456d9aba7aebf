//! E1b facilities: a high-skill training base or master studio registered by its employer with
//! the new equipment's value and invoices; finance and HR (the city or the facility's county
//! office) each record the joint acceptance in their own step. The equipment grant reads the
//! value and the acceptance from here, never from the employer's claim, and is decided once per
//! facility.

use crate::audit::{self, Actor};
use crate::{in_tx, now, with_pool, Db, Result, StoreError};
use jineng_domain::Invalid;
use serde::Serialize;

/// A facility to register.
#[derive(Debug, Clone)]
pub struct NewFacility {
    /// `training_base` or `master_studio`.
    pub kind: String,
    pub name: String,
    /// Value of the new training equipment, fen.
    pub equipment_value_fen: i64,
    /// The invoices, as numbers and dates typed by the employer.
    pub invoices: String,
}

/// A facility as stored.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct FacilityRow {
    pub facility_id: i64,
    pub employer_id: i64,
    /// Employer's name.
    pub employer_name: String,
    /// County of the employer.
    pub county_code: String,
    /// `training_base` or `master_studio`.
    pub kind: String,
    pub name: String,
    /// Value of the new equipment, fen.
    pub equipment_value_fen: i64,
    pub invoices: String,
    pub registered_at: chrono::DateTime<chrono::Utc>,
    /// Finance's acceptance: who (name), when, report.
    pub finance_accepted_by: Option<String>,
    pub finance_accepted_at: Option<chrono::DateTime<chrono::Utc>>,
    pub finance_ref: Option<String>,
    /// HR's acceptance: who (name), when, report.
    pub hr_accepted_by: Option<String>,
    pub hr_accepted_at: Option<chrono::DateTime<chrono::Utc>>,
    pub hr_ref: Option<String>,
}

impl FacilityRow {
    /// Accepted by both finance and HR.
    pub fn accepted(&self) -> bool {
        self.finance_accepted_at.is_some() && self.hr_accepted_at.is_some()
    }
}

const SELECT: &str = "SELECT f.facility_id, f.employer_id, e.name AS employer_name, e.county_code, f.kind, f.name, \
     f.equipment_value_fen, f.invoices, f.registered_at, uf.display_name AS finance_accepted_by, f.finance_accepted_at, f.finance_ref, \
     uh.display_name AS hr_accepted_by, f.hr_accepted_at, f.hr_ref FROM facility f JOIN employer e ON e.employer_id = f.employer_id \
     LEFT JOIN app_user uf ON uf.user_id = f.finance_accepted_by LEFT JOIN app_user uh ON uh.user_id = f.hr_accepted_by";

fn invalid(field: &str, code: &'static str, zh: &str, en: &str) -> StoreError {
    StoreError::invalid(field, Invalid::new(code, zh, en))
}

/// The employer registers a facility.
pub async fn register(db: &Db, actor: Actor, employer_id: i64, f: &NewFacility) -> Result<i64> {
    if !matches!(f.kind.as_str(), "training_base" | "master_studio") {
        return Err(invalid(
            "kind",
            "facility.kind",
            "应为高技能人才培训基地（training_base）或技能大师工作室（master_studio）",
            "training_base or master_studio",
        ));
    }
    let name = f.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(invalid("name", "facility.name", "名称不能为空且不超过100字", "a name is 1 to 100 characters"));
    }
    if f.equipment_value_fen <= 0 || f.equipment_value_fen > jineng_domain::money::MAX_AMOUNT_FEN {
        return Err(invalid(
            "equipment_value_fen",
            "amount.range",
            "金额须大于0且不超过100亿元",
            "must be positive and at most 10 billion yuan",
        ));
    }
    let invoices = f.invoices.trim();
    if invoices.is_empty() || invoices.chars().count() > 1000 {
        return Err(invalid(
            "invoices",
            "facility.invoices",
            "请填写设备购置发票号码（不超过1000字）",
            "list the equipment's invoices (at most 1000 characters)",
        ));
    }
    let t = now();
    Ok(in_tx!(db, |tx| {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO facility (employer_id, kind, name, equipment_value_fen, invoices, registered_by, registered_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING facility_id",
        )
        .bind(employer_id)
        .bind(&f.kind)
        .bind(name)
        .bind(f.equipment_value_fen)
        .bind(invoices)
        .bind(actor)
        .bind(t)
        .fetch_one(&mut *tx)
        .await?;
        audit::record(
            &mut *tx,
            actor,
            "create",
            "facility",
            &id.to_string(),
            &serde_json::json!({"employer_id": employer_id, "kind": f.kind, "name": name, "equipment_value_fen": f.equipment_value_fen}),
        )
        .await?;
        id
    }))
}

/// Which facilities a caller sees.
#[derive(Debug, Clone, Default)]
pub struct FacilityScope {
    /// Only this employer's.
    pub employer_id: Option<i64>,
    /// Only employers of this county.
    pub county: Option<String>,
}

impl FacilityScope {
    /// The scope's conditions on `$1` (employer) and `$2` (county), only those it sets filtering.
    fn sql(&self) -> String {
        format!(
            "{} AND {}",
            crate::opt_eq("f.employer_id", 1, self.employer_id.is_some_and(|e| e != 0), "0"),
            crate::opt_eq("e.county_code", 2, self.county.as_deref().is_some_and(|c| !c.is_empty()), "''")
        )
    }
}

/// Facilities in the scope, newest first.
pub async fn list(db: &Db, scope: &FacilityScope) -> Result<Vec<FacilityRow>> {
    let sql = format!("{SELECT} WHERE {} ORDER BY f.facility_id DESC LIMIT 500", scope.sql());
    Ok(with_pool!(db, |p| sqlx::query_as(&sql)
        .bind(scope.employer_id.unwrap_or(0))
        .bind(scope.county.clone().unwrap_or_default())
        .fetch_all(p)
        .await?))
}

/// One facility in the scope.
pub async fn get(db: &Db, scope: &FacilityScope, facility_id: i64) -> Result<FacilityRow> {
    let sql = format!("{SELECT} WHERE f.facility_id = $3 AND {}", scope.sql());
    with_pool!(db, |p| sqlx::query_as(&sql)
        .bind(scope.employer_id.unwrap_or(0))
        .bind(scope.county.clone().unwrap_or_default())
        .bind(facility_id)
        .fetch_optional(p)
        .await?)
    .ok_or(StoreError::NotFound)
}

/// Who accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acceptor {
    /// 财政局.
    Finance,
    /// 人力资源社会保障局 (the city or the facility's county office).
    Hr,
}

/// Finance or HR records its acceptance of a facility (once: a second acceptance by the same
/// side is a conflict), with the acceptance report's reference.
pub async fn accept(
    db: &Db,
    actor: i64,
    scope: &FacilityScope,
    by: Acceptor,
    facility_id: i64,
    reference: &str,
) -> Result<FacilityRow> {
    get(db, scope, facility_id).await?;
    let reference = reference.trim();
    if reference.is_empty() || reference.chars().count() > 100 {
        return Err(invalid(
            "reference",
            "facility.reference",
            "请填写验收报告编号（不超过100字）",
            "give the acceptance report's number (at most 100 characters)",
        ));
    }
    let side = match by {
        Acceptor::Finance => "finance",
        Acceptor::Hr => "hr",
    };
    let sql = format!(
        "UPDATE facility SET {side}_accepted_by = $1, {side}_accepted_at = $2, {side}_ref = $3 \
         WHERE facility_id = $4 AND {side}_accepted_at IS NULL"
    );
    let t = now();
    let n = in_tx!(db, |tx| {
        let n = sqlx::query(&sql)
            .bind(actor)
            .bind(t)
            .bind(reference)
            .bind(facility_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 1 {
            audit::record(
                &mut *tx,
                Some(actor),
                "accept",
                "facility",
                &facility_id.to_string(),
                &serde_json::json!({"by": side, "reference": reference}),
            )
            .await?;
        }
        n
    });
    if n == 0 {
        return Err(StoreError::conflict(
            "facility.accepted",
            Some("reference"),
            "已验收，不能重复验收",
            "already accepted by this side",
        ));
    }
    get(db, scope, facility_id).await
}
