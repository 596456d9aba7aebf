//! Subsidy claims: what the policy engine decided, stored with the snapshot it decided from.
//! Filing the same claim twice (double click, retry, two clerks) yields one claim: the
//! idempotency key is unique and an insert that meets it returns the claim already there.

use crate::audit::{self, Actor};
use crate::{in_tx, now, with_pool, Db, Result, StoreError};
use chrono::NaiveDate;
use serde::Serialize;

/// A decided claim to store.
#[derive(Debug, Clone)]
pub struct NewClaim {
    /// Unique per claim, e.g. `training_subsidy:certificate:42`.
    pub idempotency_key: String,
    /// Claim kind (the contract's code).
    pub kind: String,
    /// Person.
    pub person_id: Option<i64>,
    /// Certificate.
    pub certificate_id: Option<i64>,
    /// County whose office reviews it.
    pub county_code: String,
    /// Filed on.
    pub filed_on: NaiveDate,
    /// Outcome.
    pub outcome: String,
    /// Amount, fen.
    pub amount_fen: i64,
    /// Payee (JSON).
    pub payee: String,
    /// Fund.
    pub fund: String,
    /// The decision (JSON).
    pub decision: String,
    /// The case it was decided from (JSON).
    pub snapshot: String,
}

/// A claim as listed.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ClaimRow {
    /// Id.
    pub claim_id: i64,
    /// Kind.
    pub kind: String,
    /// Person.
    pub person_id: Option<i64>,
    /// Person's name.
    pub person_name: Option<String>,
    /// County.
    pub county_code: String,
    /// Filed on.
    pub filed_on: NaiveDate,
    /// Status.
    pub status: String,
    /// Outcome.
    pub outcome: String,
    /// Amount, fen.
    pub amount_fen: i64,
    /// Payee (JSON).
    pub payee: String,
    /// Fund.
    pub fund: String,
    /// Decision (JSON).
    pub decision: String,
}

/// Stores a decided claim; returns its id and whether it is new (false: the key existed).
pub async fn file(db: &Db, actor: Actor, c: &NewClaim) -> Result<(i64, bool)> {
    let inserted: Option<i64> = in_tx!(db, |tx| {
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO claim (idempotency_key, kind, person_id, certificate_id, county_code, filed_on, status, outcome, amount_fen, payee, fund, decision, snapshot, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 'decided', $7, $8, $9, $10, $11, $12, $13) ON CONFLICT (idempotency_key) DO NOTHING RETURNING claim_id",
        )
        .bind(&c.idempotency_key)
        .bind(&c.kind)
        .bind(c.person_id)
        .bind(c.certificate_id)
        .bind(&c.county_code)
        .bind(c.filed_on)
        .bind(&c.outcome)
        .bind(c.amount_fen)
        .bind(&c.payee)
        .bind(&c.fund)
        .bind(&c.decision)
        .bind(&c.snapshot)
        .bind(now())
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(id) = id {
            audit::record(
                &mut *tx,
                actor,
                "decide",
                "claim",
                &id.to_string(),
                &serde_json::json!({"kind": c.kind, "outcome": c.outcome, "amount_fen": c.amount_fen}),
            )
            .await?;
        }
        id
    });
    match inserted {
        Some(id) => Ok((id, true)),
        None => {
            let id: i64 =
                with_pool!(db, |p| sqlx::query_scalar("SELECT claim_id FROM claim WHERE idempotency_key = $1")
                    .bind(&c.idempotency_key)
                    .fetch_one(p)
                    .await?);
            Ok((id, false))
        }
    }
}

const SELECT: &str =
    "SELECT c.claim_id, c.kind, c.person_id, p.name AS person_name, c.county_code, c.filed_on, c.status, c.outcome, \
     c.amount_fen, c.payee, c.fund, c.decision FROM claim c LEFT JOIN person p ON p.person_id = c.person_id";

/// Claims, optionally of one county or one person, newest first.
pub async fn list(db: &Db, county: Option<&str>, person: Option<i64>, limit: i64) -> Result<Vec<ClaimRow>> {
    let sql = format!("{SELECT} WHERE ($1 = '' OR c.county_code = $1) AND ($2 = 0 OR c.person_id = $2) ORDER BY c.claim_id DESC LIMIT $3");
    Ok(with_pool!(db, |p| sqlx::query_as(&sql)
        .bind(county.unwrap_or(""))
        .bind(person.unwrap_or(0))
        .bind(limit)
        .fetch_all(p)
        .await?))
}

/// The snapshot a claim was decided from.
pub async fn snapshot(db: &Db, claim_id: i64) -> Result<String> {
    with_pool!(db, |p| sqlx::query_scalar::<_, String>("SELECT snapshot FROM claim WHERE claim_id = $1")
        .bind(claim_id)
        .fetch_optional(p)
        .await?)
    .ok_or(StoreError::NotFound)
}

/// What the engine needs to know about one person: the rows of their history.
#[derive(Debug, Clone, Default)]
pub struct History {
    /// ID number, name, county, rural.
    pub person: (String, String, String, bool),
    /// Groups: code, from, to.
    pub groups: Vec<(String, NaiveDate, Option<NaiveDate>)>,
    /// Trainings.
    pub trainings: Vec<TrainingFact>,
    /// Certificates.
    pub certificates: Vec<CertificateFact>,
    /// Subsidies already granted (approved or reduced claims).
    pub granted: Vec<GrantedFact>,
}

/// One training of the person.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TrainingFact {
    /// Enrolment id.
    pub enrolment_id: i64,
    /// Kind.
    pub kind: String,
    /// Occupation.
    pub occupation_code: String,
    /// Level.
    pub level: Option<i64>,
    /// County held.
    pub county_code: String,
    /// Provider credit code.
    pub provider_code: String,
    /// Start.
    pub start_date: NaiveDate,
    /// End.
    pub end_date: NaiveDate,
    /// Class status (approved classes are "in the system").
    pub status: String,
    /// Days checked in.
    pub attended: i64,
}

/// One certificate of the person.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CertificateFact {
    /// Id.
    pub certificate_id: i64,
    /// The enrolment (training) it came from.
    pub enrolment_id: i64,
    /// Kind.
    pub kind: String,
    /// Occupation.
    pub occupation_code: String,
    /// Level.
    pub level: Option<i64>,
    /// Issued on.
    pub issued_on: NaiveDate,
    /// Serial.
    pub serial: String,
}

/// A subsidy granted before.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct GrantedFact {
    /// Kind.
    pub kind: String,
    /// Certificate.
    pub certificate_id: Option<i64>,
    /// Filed on.
    pub filed_on: NaiveDate,
    /// Amount.
    pub amount_fen: i64,
}

/// The history of one person, read in one go.
pub async fn history(db: &Db, person_id: i64) -> Result<History> {
    let person: (String, String, String, bool) = with_pool!(db, |p| sqlx::query_as(
        "SELECT id_number, name, county_code, rural FROM person WHERE person_id = $1"
    )
    .bind(person_id)
    .fetch_optional(p)
    .await?)
    .ok_or(StoreError::NotFound)?;
    Ok(with_pool!(db, |p| {
        let groups = sqlx::query_as("SELECT group_code, from_date, to_date FROM person_group WHERE person_id = $1")
            .bind(person_id)
            .fetch_all(p)
            .await?;
        let trainings = sqlx::query_as(
            "SELECT e.enrolment_id, k.kind, k.occupation_code, k.level, k.county_code, v.credit_code AS provider_code, k.start_date, k.end_date, k.status, \
             (SELECT COUNT(*) FROM attendance a WHERE a.enrolment_id = e.enrolment_id) AS attended \
             FROM enrolment e JOIN training_class k ON k.class_id = e.class_id JOIN provider v ON v.provider_id = k.provider_id WHERE e.person_id = $1",
        )
        .bind(person_id)
        .fetch_all(p)
        .await?;
        let certificates = sqlx::query_as(
            "SELECT c.certificate_id, a.enrolment_id, c.kind, c.occupation_code, c.level, c.issued_on, c.serial \
             FROM certificate c JOIN assessment a ON a.assessment_id = c.assessment_id WHERE c.person_id = $1",
        )
        .bind(person_id)
        .fetch_all(p)
        .await?;
        let granted = sqlx::query_as(
            "SELECT kind, certificate_id, filed_on, amount_fen FROM claim WHERE person_id = $1 AND outcome IN ('approved', 'reduced')",
        )
        .bind(person_id)
        .fetch_all(p)
        .await?;
        History { person, groups, trainings, certificates, granted }
    }))
}
