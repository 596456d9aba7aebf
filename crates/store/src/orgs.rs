//! Organisations: employers, training providers and assessment bodies. They share a shape
//! (credit code, name, county) and differ in a few fields, so one module serves all three.

use crate::audit::{self, Actor};
use crate::{in_tx, now, with_pool, Db, Result, StoreError};
use jineng_domain::{CreditCode, Invalid};
use serde::{Deserialize, Serialize};

/// Which kind of organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrgKind {
    /// 用人单位
    Employer,
    /// 培训机构
    Provider,
    /// 评价机构
    AssessmentBody,
}

impl OrgKind {
    /// Table name (trusted, never from input).
    pub fn table(self) -> &'static str {
        match self {
            OrgKind::Employer => "employer",
            OrgKind::Provider => "provider",
            OrgKind::AssessmentBody => "assessment_body",
        }
    }

    fn id_col(self) -> &'static str {
        match self {
            OrgKind::Employer => "employer_id",
            OrgKind::Provider => "provider_id",
            OrgKind::AssessmentBody => "assessment_body_id",
        }
    }

    fn select(self) -> String {
        let extra = match self {
            OrgKind::Employer => "o.kind, o.insured, CAST(NULL AS TEXT) AS status",
            _ => "CAST(NULL AS TEXT) AS kind, FALSE AS insured, o.status",
        };
        format!(
            "SELECT o.{id} AS id, o.credit_code, o.credit_code_warning, o.name, o.county_code, c.name_zh AS county_name, {extra} \
             FROM {t} o JOIN county c ON c.county_code = o.county_code",
            id = self.id_col(),
            t = self.table()
        )
    }
}

/// Employer kinds allowed (the case contract's list).
pub const EMPLOYER_KINDS: &[(&str, &str, &str)] = &[
    ("enterprise", "企业", "enterprise"),
    ("cooperative", "农民专业合作社", "farmers' cooperative"),
    ("poverty_workshop", "扶贫车间", "poverty-relief workshop"),
    ("college", "院校", "college"),
    ("other", "其他", "other"),
];

/// Catalog statuses of providers and assessment bodies.
pub const STATUSES: &[(&str, &str, &str)] =
    &[("listed", "在册", "listed"), ("suspended", "暂停", "suspended"), ("removed", "移出", "removed")];

/// An organisation to create or the new values of one.
#[derive(Debug, Clone)]
pub struct OrgInput {
    /// Credit code as typed.
    pub credit_code: String,
    /// Accept a wrong check character (legacy data), storing a warning.
    pub legacy: bool,
    pub name: String,
    /// County code.
    pub county_code: String,
    /// Employer kind (employers only).
    pub kind: Option<String>,
    /// Pays unemployment insurance (employers only).
    pub insured: bool,
    /// Catalog status (providers and assessment bodies).
    pub status: Option<String>,
}

/// An organisation as stored.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct OrgRow {
    /// Id in its table.
    pub id: i64,
    /// Credit code.
    pub credit_code: String,
    /// Warning kept when a legacy code failed its check.
    pub credit_code_warning: Option<String>,
    pub name: String,
    /// County code.
    pub county_code: String,
    /// County name.
    pub county_name: String,
    /// Employer kind.
    pub kind: Option<String>,
    /// Insured (employers).
    pub insured: bool,
    /// Catalog status (providers, assessment bodies).
    pub status: Option<String>,
}

struct Checked {
    code: CreditCode,
    warning: Option<String>,
    kind: Option<String>,
    status: Option<String>,
}

fn check(org: OrgKind, i: &OrgInput) -> Result<Checked> {
    let (code, warning) = if i.legacy {
        CreditCode::parse_legacy(&i.credit_code)
    } else {
        CreditCode::parse(&i.credit_code).map(|c| (c, None))
    }
    .map_err(|e| StoreError::invalid("credit_code", e))?;
    let n = i.name.trim().chars().count();
    if n == 0 || n > 100 {
        return Err(StoreError::invalid(
            "name",
            Invalid::new("name.length", "名称不能为空且不超过100字", "a name is 1 to 100 characters"),
        ));
    }
    let (kind, status) = match org {
        OrgKind::Employer => {
            let k = i.kind.clone().unwrap_or_else(|| "enterprise".into());
            if !EMPLOYER_KINDS.iter().any(|(c, ..)| *c == k) {
                return Err(StoreError::invalid(
                    "kind",
                    Invalid::new("employer.kind", "单位类型无效", "unknown employer kind"),
                ));
            }
            (Some(k), None)
        }
        _ => {
            let s = i.status.clone().unwrap_or_else(|| "listed".into());
            if !STATUSES.iter().any(|(c, ..)| *c == s) {
                return Err(StoreError::invalid(
                    "status",
                    Invalid::new("catalog.status", "目录状态无效", "unknown catalog status"),
                ));
            }
            (None, Some(s))
        }
    };
    Ok(Checked { code, warning: warning.map(|w| w.to_string()), kind, status })
}

fn map_fk(e: sqlx::Error) -> StoreError {
    match StoreError::from(e) {
        StoreError::Invalid { .. } => {
            StoreError::invalid("county_code", Invalid::new("county.unknown", "县区代码不存在", "unknown county"))
        }
        other => other,
    }
}

/// Lists organisations of one kind, optionally of one county, filtered by a name fragment.
pub async fn list(db: &Db, org: OrgKind, county: Option<&str>, q: &str, limit: i64) -> Result<Vec<OrgRow>> {
    let q = q.trim();
    let search = if q.is_empty() { "$2 = ''".to_owned() } else { "(o.name LIKE $3 OR o.credit_code = $2)".to_owned() };
    let sql = format!(
        "{} WHERE {} AND {search} ORDER BY o.county_code, o.name LIMIT $4",
        org.select(),
        crate::opt_eq("o.county_code", 1, county.is_some_and(|c| !c.is_empty()), "''")
    );
    Ok(with_pool!(db, |p| sqlx::query_as(&sql)
        .bind(county.unwrap_or(""))
        .bind(q)
        .bind(format!("%{q}%"))
        .bind(limit)
        .fetch_all(p)
        .await?))
}

/// One organisation, optionally only if in the given county.
pub async fn get(db: &Db, org: OrgKind, id: i64, county: Option<&str>) -> Result<OrgRow> {
    let sql = format!(
        "{} WHERE o.{} = $1 AND {}",
        org.select(),
        org.id_col(),
        crate::opt_eq("o.county_code", 2, county.is_some_and(|c| !c.is_empty()), "''")
    );
    with_pool!(db, |p| sqlx::query_as(&sql).bind(id).bind(county.unwrap_or("")).fetch_optional(p).await?)
        .ok_or(StoreError::NotFound)
}

/// Creates an organisation; a credit code already present is a conflict.
pub async fn create(db: &Db, actor: Actor, org: OrgKind, i: &OrgInput) -> Result<i64> {
    let c = check(org, i)?;
    let t = now();
    let sql = match org {
        OrgKind::Employer => "INSERT INTO employer (credit_code, credit_code_warning, name, county_code, kind, insured, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING employer_id"
            .to_owned(),
        _ => format!(
            "INSERT INTO {} (credit_code, credit_code_warning, name, county_code, status, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING {}",
            org.table(),
            org.id_col()
        ),
    };
    let id = in_tx!(db, |tx| {
        let q = sqlx::query_scalar::<_, i64>(&sql)
            .bind(c.code.as_str())
            .bind(&c.warning)
            .bind(i.name.trim())
            .bind(&i.county_code);
        let q = match org {
            OrgKind::Employer => q.bind(&c.kind).bind(i.insured),
            _ => q.bind(&c.status),
        };
        let id = q.bind(t).fetch_one(&mut *tx).await.map_err(map_fk)?;
        audit::record(&mut *tx, actor, "create", org.table(), &id.to_string(), &serde_json::json!({
            "credit_code": c.code.as_str(), "warning": c.warning, "name": i.name.trim(), "county_code": i.county_code,
            "kind": c.kind, "insured": i.insured, "status": c.status,
        }))
        .await?;
        id
    });
    Ok(id)
}

/// Updates an organisation (optionally only if in the given county).
pub async fn update(db: &Db, actor: Actor, org: OrgKind, id: i64, county: Option<&str>, i: &OrgInput) -> Result<()> {
    let before = get(db, org, id, county).await?;
    let c = check(org, i)?;
    let sql = match org {
        OrgKind::Employer => "UPDATE employer SET credit_code = $1, credit_code_warning = $2, name = $3, county_code = $4, kind = $5, insured = $6, updated_at = $7 WHERE employer_id = $8".to_owned(),
        _ => format!(
            "UPDATE {} SET credit_code = $1, credit_code_warning = $2, name = $3, county_code = $4, status = $5, updated_at = $6 WHERE {} = $7",
            org.table(),
            org.id_col()
        ),
    };
    in_tx!(db, |tx| {
        let q = sqlx::query(&sql).bind(c.code.as_str()).bind(&c.warning).bind(i.name.trim()).bind(&i.county_code);
        let q = match org {
            OrgKind::Employer => q.bind(&c.kind).bind(i.insured),
            _ => q.bind(&c.status),
        };
        q.bind(now()).bind(id).execute(&mut *tx).await.map_err(map_fk)?;
        audit::record(&mut *tx, actor, "update", org.table(), &id.to_string(), &serde_json::json!({
            "before": before, "after": {"credit_code": c.code.as_str(), "name": i.name.trim(), "county_code": i.county_code,
            "kind": c.kind, "insured": i.insured, "status": c.status},
        }))
        .await?;
    });
    Ok(())
}
