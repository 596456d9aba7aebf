//! Subsidies granted before the system (历史补贴发放记录): what a bureau paid from its
//! spreadsheets or the provincial platform before it used jineng, recorded by the city office
//! so that every cap counts them (the yearly certificate cap, the six on-the-job months, one
//! advance and one settlement per project, one equipment grant per facility). Each is stored as
//! a paid claim marked imported; it moves no money and is not decided again.

use super::{file, NewClaim};
use crate::audit::Actor;
use crate::{with_pool, Db, Result, StoreError};
use chrono::NaiveDate;
use jineng_domain::{ClaimKind, IdNumber, Invalid};
use serde::{Deserialize, Serialize};

/// One subsidy granted before; which fields are needed depends on `kind`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PastGrant {
    /// The claim kind's code (`training_subsidy`, `on_the_job`, `project_training`, …).
    pub kind: String,
    /// The person's ID number (certificate subsidies, living allowance, on-the-job, pre-job,
    /// apprenticeship).
    #[serde(default)]
    pub id_number: Option<String>,
    /// The certificate's serial (certificate subsidies): one of the person's certificates.
    #[serde(default)]
    pub certificate_serial: Option<String>,
    /// The employer's credit code (employer subsidies, an enterprise's own project).
    #[serde(default)]
    pub employer_code: Option<String>,
    /// The provider's credit code (a provider's project).
    #[serde(default)]
    pub provider_code: Option<String>,
    /// The project number (project training).
    #[serde(default)]
    pub project_code: Option<String>,
    /// `advance` or `settlement` (project training).
    #[serde(default)]
    pub stage: Option<String>,
    /// The facility (equipment grant): one the employer registered.
    #[serde(default)]
    pub facility_id: Option<i64>,
    /// Months paid (on-the-job).
    #[serde(default)]
    pub months: Option<i64>,
    /// The date it was granted for.
    pub granted_on: NaiveDate,
    /// Amount paid, fen.
    pub amount_fen: i64,
}

fn refuse(field: &str, code: &'static str, zh: &str, en: &str) -> StoreError {
    StoreError::invalid(field, Invalid::new(code, zh, en))
}

/// The project reference of a project number for its organiser: `p{provider id}` or
/// `e{employer id}` (as [`super::project_of`] names the project of a class).
pub(crate) fn project_ref(organiser: char, id: i64, code: &str) -> String {
    format!("project-{organiser}{id}-{code}")
}

/// Records a subsidy granted before the system; `key` makes a repeated import a no-op.
/// Returns the claim's id.
pub async fn record(db: &Db, actor: Actor, key: &str, g: &PastGrant) -> Result<i64> {
    let kind = ClaimKind::parse(&g.kind).map_err(|e| StoreError::invalid("kind", e))?;
    if !(0..=jineng_domain::money::MAX_AMOUNT_FEN).contains(&g.amount_fen) {
        return Err(refuse("amount_fen", "amount.range", "金额须在0至100亿元之间", "0 to 10 billion yuan"));
    }
    let mut person: Option<(i64, String, String)> = None;
    if let Some(n) = g.id_number.as_deref() {
        let id = IdNumber::parse(n).map_err(|e| StoreError::invalid("id_number", e))?;
        person = with_pool!(db, |p| sqlx::query_as(
            "SELECT person_id, id_number, county_code FROM person WHERE id_number = $1"
        )
        .bind(id.as_str())
        .fetch_optional(p)
        .await?);
        if person.is_none() {
            return Err(refuse("id_number", "claim.unregistered", "未实名登记", "not in the registry"));
        }
    }
    let employer: Option<(i64, String, String)> = match g.employer_code.as_deref() {
        Some(code) => Some(
            with_pool!(db, |p| sqlx::query_as(
                "SELECT employer_id, credit_code, county_code FROM employer WHERE credit_code = $1"
            )
            .bind(code.trim())
            .fetch_optional(p)
            .await?)
            .ok_or_else(|| refuse("employer_code", "employer.unknown", "用人单位未登记", "no such employer"))?,
        ),
        None => None,
    };
    let provider: Option<(i64, String, String)> = match g.provider_code.as_deref() {
        Some(code) => Some(
            with_pool!(db, |p| sqlx::query_as(
                "SELECT provider_id, credit_code, county_code FROM provider WHERE credit_code = $1"
            )
            .bind(code.trim())
            .fetch_optional(p)
            .await?)
            .ok_or_else(|| refuse("provider_code", "provider.unknown", "培训机构未登记", "no such provider"))?,
        ),
        None => None,
    };
    let mut certificate_id = None;
    let mut request = serde_json::json!({"kind": kind.code(), "imported": true});
    let mut project = None;
    let needs_person = !matches!(kind, ClaimKind::ProjectTraining | ClaimKind::EquipmentGrant);
    if needs_person && person.is_none() {
        return Err(refuse("id_number", "claim.required", "必填", "required"));
    }
    match kind {
        ClaimKind::TrainingSubsidy | ClaimKind::SkillUpgradeSubsidy => {
            let serial = g
                .certificate_serial
                .as_deref()
                .ok_or_else(|| refuse("certificate_serial", "claim.required", "必填", "required"))?;
            let pid = person.as_ref().map(|p| p.0).unwrap_or(0);
            certificate_id = with_pool!(db, |p| sqlx::query_scalar(
                "SELECT certificate_id FROM certificate WHERE person_id = $1 AND serial = $2"
            )
            .bind(pid)
            .bind(serial.trim())
            .fetch_optional(p)
            .await?);
            if certificate_id.is_none() {
                return Err(refuse(
                    "certificate_serial",
                    "claim.not_own_certificate",
                    "该人员没有此编号的证书",
                    "the person holds no certificate with this serial",
                ));
            }
        }
        ClaimKind::OnTheJob | ClaimKind::PreJob | ClaimKind::Apprenticeship => {
            if employer.is_none() {
                return Err(refuse("employer_code", "claim.required", "必填", "required"));
            }
            if kind == ClaimKind::OnTheJob {
                let months = g.months.ok_or_else(|| refuse("months", "claim.required", "必填", "required"))?;
                if !(1..=120).contains(&months) {
                    return Err(refuse("months", "claim.months", "月数应为1至120", "1 to 120 months"));
                }
                request["months"] = months.into();
            }
        }
        ClaimKind::ProjectTraining => {
            let code = g
                .project_code
                .as_deref()
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .ok_or_else(|| refuse("project_code", "claim.required", "必填", "required"))?;
            let stage = match g.stage.as_deref() {
                Some(s @ ("advance" | "settlement")) => s,
                _ => return Err(refuse("stage", "claim.stage", "应为预拨或清算", "advance or settlement")),
            };
            request["stage"] = stage.into();
            project = Some(match (&provider, &employer) {
                (Some(p), _) => project_ref('p', p.0, code),
                (None, Some(e)) => project_ref('e', e.0, code),
                _ => return Err(refuse("provider_code", "claim.required", "必填", "required")),
            });
        }
        ClaimKind::EquipmentGrant => {
            let Some(f) = g.facility_id else {
                return Err(refuse("facility_id", "claim.required", "必填", "required"));
            };
            let owner: Option<i64> =
                with_pool!(db, |p| sqlx::query_scalar("SELECT employer_id FROM facility WHERE facility_id = $1")
                    .bind(f)
                    .fetch_optional(p)
                    .await?);
            if owner.is_none() || owner != employer.as_ref().map(|e| e.0) {
                return Err(refuse(
                    "facility_id",
                    "claim.facility",
                    "不是该单位登记的基地或工作室",
                    "not this employer's facility",
                ));
            }
        }
        ClaimKind::LivingAllowance => {}
    }
    let payee = match (kind, &provider, &employer, &person) {
        (ClaimKind::ProjectTraining, Some(p), _, _) => serde_json::json!({"provider": p.1}),
        (ClaimKind::TrainingSubsidy | ClaimKind::SkillUpgradeSubsidy | ClaimKind::LivingAllowance, _, _, Some(p)) => {
            serde_json::json!({"person": p.1})
        }
        (_, _, Some(e), _) => serde_json::json!({"employer": e.1}),
        (_, Some(p), _, _) => serde_json::json!({"provider": p.1}),
        (_, _, _, Some(p)) => serde_json::json!({"person": p.1}),
        _ => serde_json::Value::Null,
    };
    let county = person
        .as_ref()
        .map(|p| p.2.clone())
        .or_else(|| employer.as_ref().map(|e| e.2.clone()))
        .or_else(|| provider.as_ref().map(|p| p.2.clone()))
        .unwrap_or_default();
    let fund =
        if kind == ClaimKind::SkillUpgradeSubsidy { "unemployment_insurance_fund" } else { "employment_subsidy_fund" };
    let decision = serde_json::json!({
        "claim": key, "outcome": "approved", "amount_fen": g.amount_fen, "payee": payee, "fund": fund,
        "clauses": [], "reasons": [], "parameters": [], "imported": true,
        "note": "系统上线前已发放，据历史记录登记 / granted before the system, recorded from the bureau's records",
    });
    let c = NewClaim {
        idempotency_key: format!("granted:{}", key.trim()),
        kind: kind.code().into(),
        person_id: person.as_ref().map(|p| p.0),
        certificate_id,
        county_code: county,
        filed_on: g.granted_on,
        outcome: "approved".into(),
        amount_fen: g.amount_fen,
        payee: payee.to_string(),
        fund: fund.into(),
        decision: decision.to_string(),
        snapshot: "{}".into(),
        employer_id: employer.as_ref().map(|e| e.0),
        provider_id: provider.as_ref().map(|p| p.0),
        project_ref: project,
        request: Some(request.to_string()),
        filed_by: actor,
        held_for: None,
        facility_id: g.facility_id,
        covers: Vec::new(),
    };
    let mut tx = db.begin().await?;
    let (id, new) = file(&mut tx, actor, &c).await?;
    if new {
        // Paid before the system: no payment of this system's funds is made for it.
        crate::on_tx!(&mut tx, |x| sqlx::query("UPDATE claim SET status = 'paid' WHERE claim_id = $1")
            .bind(id)
            .execute(&mut **x)
            .await
            .map(|_| ())?);
    }
    tx.commit().await?;
    Ok(id)
}
