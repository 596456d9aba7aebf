//! Work queues (待办): what each role must do next, counted in its own scope. Read-only; the
//! home page shows each role its queue. A status no row has counts 0 (so a status added later,
//! such as claims held for verification, is counted as soon as rows carry it).

use crate::claims::{bind_claim_scope, ClaimScope};
use crate::{with_pool, Db, Result};
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::BTreeMap;

/// Rows per status, e.g. `{"decided": 3, "paid": 12}`; a status with no rows is absent (0).
pub type StatusCounts = BTreeMap<String, i64>;

/// A class in a queue, with what the queue counts about it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct QueueClass {
    pub class_id: i64,
    pub name: String,
    /// `submitted`, `returned`, `approved` or `closed`.
    pub status: String,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    /// County name.
    pub county_name: String,
    /// Provider name.
    pub provider_name: String,
    /// Trainees enrolled.
    pub enrolled: i64,
    /// Trainees checked in on the queue's day.
    pub checked_in_today: i64,
    /// Trainees without an assessment result.
    pub unassessed: i64,
}

/// A claim in a queue.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct QueueClaim {
    pub claim_id: i64,
    /// Claim kind (the contract's code).
    pub kind: String,
    pub status: String,
    /// Amount, fen.
    pub amount_fen: i64,
    pub filed_on: NaiveDate,
    /// Open objections to it.
    pub open_objections: i64,
}

/// A roster import that was refused, of a class whose roster can still be imported and that
/// has had no successful import since.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct RefusedImport {
    pub roster_import_id: i64,
    pub class_id: i64,
    /// Class name.
    pub class_name: String,
    /// When (UTC).
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Rows in the file.
    pub row_count: i64,
}

/// A payment batch awaiting approval.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct DraftBatch {
    pub batch_id: i64,
    pub fund_code: String,
    /// Total, fen.
    pub total_fen: i64,
    /// Number of payments.
    pub payments: i64,
}

/// A county office's queue.
#[derive(Debug, Clone, Serialize)]
pub struct CountyQueue {
    /// Class applications awaiting its review (the first 20 of `classes_to_review`).
    pub classes: Vec<QueueClass>,
    /// How many class applications await review.
    pub classes_to_review: i64,
    /// Its claims in review per status (awaiting review, held for verification, to publish).
    pub claims: StatusCounts,
    /// Claims with open objections (the first 20).
    pub objection_claims: Vec<QueueClaim>,
    /// Open objections to its claims.
    pub open_objections: i64,
}

/// A training provider's queue.
#[derive(Debug, Clone, Serialize)]
pub struct ProviderQueue {
    /// Its classes per status.
    pub classes: StatusCounts,
    /// Classes running today, with today's check-ins.
    pub running: Vec<QueueClass>,
    /// Classes returned by the county (to amend and resubmit).
    pub returned: Vec<QueueClass>,
    /// Refused roster imports still to mend.
    pub refused_imports: Vec<RefusedImport>,
    /// Its claims per status (project-based advances and settlements).
    pub claims: StatusCounts,
}

/// An assessment body's queue.
#[derive(Debug, Clone, Serialize)]
pub struct BodyQueue {
    /// Approved classes naming it that ended before today with trainees still without a result.
    pub due: Vec<QueueClass>,
    /// Approved classes naming it that have not ended yet.
    pub upcoming: Vec<QueueClass>,
}

/// Finance's queue.
#[derive(Debug, Clone, Serialize)]
pub struct FinanceQueue {
    /// Payment batches awaiting approval.
    pub draft_batches: Vec<DraftBatch>,
    /// Failed payments and recoveries due, city-wide, per status.
    pub claims: StatusCounts,
    /// Claims whose notice ended before today without open objections: due for a batch.
    pub due_for_batch: i64,
}

/// The city admin's queue counts, city-wide.
#[derive(Debug, Clone, Serialize)]
pub struct CityQueue {
    /// Class applications awaiting review.
    pub classes_to_review: i64,
    /// Claims in review and failed payments, per status.
    pub claims: StatusCounts,
    /// Open objections.
    pub open_objections: i64,
    /// Payment batches awaiting approval.
    pub draft_batches: i64,
    /// Departments' proposals for pending targets awaiting the city's decision, and the
    /// program of the oldest.
    pub target_proposals: i64,
    pub first_target_proposal: Option<String>,
    /// The finance bureau's earmark proposals awaiting the city's decision (S6).
    pub earmark_proposals: i64,
}

/// A worker's own queue: trainings, certificates, subsidies.
#[derive(Debug, Clone, Serialize)]
pub struct WorkerQueue {
    /// Classes enrolled in.
    pub trainings: i64,
    /// Of which completed.
    pub completed: i64,
    /// Of which running today (approved, not completed).
    pub in_progress: i64,
    /// Certificates the person holds.
    pub certificates: i64,
    /// Their claims per status.
    pub claims: StatusCounts,
    /// Paid so far, fen.
    pub paid_fen: i64,
    /// Claims still in progress (neither paid, rejected nor recovered), newest first.
    pub pending: Vec<QueueClaim>,
}

/// An employer's queue: its claims.
#[derive(Debug, Clone, Serialize)]
pub struct EmployerQueue {
    /// Its claims per status.
    pub claims: StatusCounts,
    /// Claims still in progress, newest first (the first 20).
    pub pending: Vec<QueueClaim>,
}

/// Statuses after which a claim needs nothing more from anyone.
const SETTLED: &str = "('paid', 'rejected', 'recovered')";

const CLASS: &str = "SELECT k.class_id, k.name, k.status, k.start_date, k.end_date, c.name_zh AS county_name, v.name AS provider_name, \
     (SELECT COUNT(*) FROM enrolment e WHERE e.class_id = k.class_id) AS enrolled, \
     (SELECT COUNT(*) FROM attendance a JOIN enrolment e ON e.enrolment_id = a.enrolment_id WHERE e.class_id = k.class_id AND a.day = $1) AS checked_in_today, \
     (SELECT COUNT(*) FROM enrolment e WHERE e.class_id = k.class_id AND NOT EXISTS (SELECT 1 FROM assessment s WHERE s.enrolment_id = e.enrolment_id)) AS unassessed \
     FROM training_class k JOIN county c ON c.county_code = k.county_code JOIN provider v ON v.provider_id = k.provider_id";

/// Classes where `filter` holds (`$1` is `today`, `$2` and `$3` are `a` and `b`), at most 20.
async fn classes(db: &Db, filter: &str, today: NaiveDate, a: &str, b: i64) -> Result<Vec<QueueClass>> {
    let sql = format!("{CLASS} WHERE {filter} ORDER BY k.start_date, k.class_id LIMIT 20");
    Ok(with_pool!(db, |p| sqlx::query_as(&sql).bind(today).bind(a.to_owned()).bind(b).fetch_all(p).await?))
}

/// One number (`$1` is `a`, `$2` is `b`).
async fn count(db: &Db, sql: &str, a: &str, b: i64) -> Result<i64> {
    Ok(with_pool!(db, |p| sqlx::query_scalar(sql).bind(a.to_owned()).bind(b).fetch_one(p).await?))
}

/// A provider's classes per status.
async fn class_counts(db: &Db, provider: i64) -> Result<StatusCounts> {
    let rows: Vec<(String, i64)> = with_pool!(db, |p| sqlx::query_as(
        "SELECT status, COUNT(*) FROM training_class WHERE provider_id = $1 GROUP BY status"
    )
    .bind(provider)
    .fetch_all(p)
    .await?);
    Ok(rows.into_iter().collect())
}

/// Claims in the scope per status, of the statuses asked for (none: every status). Asking
/// for a few keeps the count to an index range on the city's claims.
pub async fn claim_counts(db: &Db, scope: &ClaimScope, statuses: &[&str]) -> Result<StatusCounts> {
    // The city's or a county's: from the tally the triggers keep (0026), not the claims.
    if scope.person_id.is_none() && scope.employer_id.is_none() && scope.provider_id.is_none() {
        let county = scope.county.clone().unwrap_or_default();
        let only = if statuses.is_empty() {
            String::new()
        } else {
            let marks: Vec<String> = (0..statuses.len()).map(|i| format!("${}", 2 + i)).collect();
            format!(" AND status IN ({})", marks.join(", "))
        };
        let sql = format!(
            "SELECT status, CAST(SUM(claims) AS BIGINT) FROM claim_tally WHERE {}{only} GROUP BY status HAVING SUM(claims) > 0",
            crate::opt_eq("county_code", 1, !county.is_empty(), "''")
        );
        let rows: Vec<(String, i64)> = with_pool!(db, |p| {
            let mut q = sqlx::query_as(&sql).bind(county.clone());
            for s in statuses {
                q = q.bind(*s);
            }
            q.fetch_all(p).await?
        });
        return Ok(rows.into_iter().collect());
    }
    let only = if statuses.is_empty() {
        String::new()
    } else {
        let marks: Vec<String> = (0..statuses.len()).map(|i| format!("${}", 5 + i)).collect();
        format!(" AND c.status IN ({})", marks.join(", "))
    };
    let sql = format!("SELECT c.status, COUNT(*) FROM claim c WHERE {}{only} GROUP BY c.status", scope.sql());
    let rows: Vec<(String, i64)> = with_pool!(db, |p| {
        let mut q = bind_claim_scope!(sqlx::query_as(&sql), scope);
        for s in statuses {
            q = q.bind(*s);
        }
        q.fetch_all(p).await?
    });
    Ok(rows.into_iter().collect())
}

/// The claim statuses a reviewer acts on (those this build does not know count 0).
const IN_REVIEW: &[&str] = &["decided", "needs_verification", "approved"];

/// Class applications awaiting review in a county ('' = every county).
async fn to_review(db: &Db, county: &str) -> Result<i64> {
    let sql = format!(
        "SELECT COUNT(*) FROM training_class WHERE status = 'submitted' AND {} AND $2 = 0",
        crate::opt_eq("county_code", 1, !county.is_empty(), "''")
    );
    count(db, &sql, county, 0).await
}

/// Claims in the scope where `filter` holds, newest first, at most 20.
async fn claims(db: &Db, scope: &ClaimScope, filter: &str) -> Result<Vec<QueueClaim>> {
    let sql = format!(
        "SELECT c.claim_id, c.kind, c.status, c.amount_fen, c.filed_on, CAST(COALESCE(o.n_open, 0) AS BIGINT) AS open_objections \
         FROM claim c LEFT JOIN (SELECT claim_id, COUNT(*) AS n_open FROM objection WHERE status = 'open' GROUP BY claim_id) o \
         ON o.claim_id = c.claim_id WHERE {} AND {filter} ORDER BY c.claim_id DESC LIMIT 20",
        scope.sql()
    );
    Ok(with_pool!(db, |p| bind_claim_scope!(sqlx::query_as(&sql), scope).fetch_all(p).await?))
}

/// Open objections to the claims of a county ('' = every county).
async fn open_objections(db: &Db, county: &str) -> Result<i64> {
    let sql = format!(
        "SELECT COUNT(*) FROM objection o JOIN claim c ON c.claim_id = o.claim_id WHERE o.status = 'open' AND {} AND $2 = 0",
        crate::opt_eq("c.county_code", 1, !county.is_empty(), "''")
    );
    count(db, &sql, county, 0).await
}

/// A county office's queue: class applications and claims awaiting its review, objections open.
pub async fn county(db: &Db, county: &str, today: NaiveDate) -> Result<CountyQueue> {
    let scope = ClaimScope { county: Some(county.to_owned()), ..Default::default() };
    Ok(CountyQueue {
        classes: classes(db, "k.status = 'submitted' AND k.county_code = $2 AND $3 = 0", today, county, 0).await?,
        classes_to_review: to_review(db, county).await?,
        claims: claim_counts(db, &scope, IN_REVIEW).await?,
        objection_claims: claims(
            db,
            &scope,
            "EXISTS (SELECT 1 FROM objection o WHERE o.claim_id = c.claim_id AND o.status = 'open')",
        )
        .await?,
        open_objections: open_objections(db, county).await?,
    })
}

/// A provider's queue: its classes by status, those running today with today's check-ins,
/// those returned to it, and refused roster imports still to mend.
pub async fn provider(db: &Db, provider: i64, today: NaiveDate) -> Result<ProviderQueue> {
    let refused_imports = with_pool!(db, |p| {
        sqlx::query_as(
        "SELECT r.roster_import_id, r.class_id, k.name AS class_name, r.created_at, r.row_count FROM roster_import r \
         JOIN training_class k ON k.class_id = r.class_id WHERE k.provider_id = $1 AND r.outcome = 'refused' \
         AND k.status IN ('submitted', 'returned') \
         AND NOT EXISTS (SELECT 1 FROM roster_import n WHERE n.class_id = r.class_id AND n.roster_import_id > r.roster_import_id) \
         ORDER BY r.roster_import_id DESC LIMIT 20"
    )
    .bind(provider)
    .fetch_all(p)
    .await?
    });
    let scope = ClaimScope { provider_id: Some(provider), ..Default::default() };
    Ok(ProviderQueue {
        classes: class_counts(db, provider).await?,
        running: classes(
            db,
            "k.status = 'approved' AND k.start_date <= $1 AND k.end_date >= $1 AND k.provider_id = $3 AND $2 = ''",
            today,
            "",
            provider,
        )
        .await?,
        returned: classes(db, "k.status = 'returned' AND k.provider_id = $3 AND $2 = ''", today, "", provider).await?,
        refused_imports,
        claims: claim_counts(db, &scope, &[]).await?,
    })
}

/// An assessment body's queue: the approved classes that name it and ended before `today` with
/// trainees still without a result, and those still to come.
pub async fn body(db: &Db, body: i64, today: NaiveDate) -> Result<BodyQueue> {
    Ok(BodyQueue {
        due: classes(
            db,
            "k.status = 'approved' AND k.assessment_body_id = $3 AND k.end_date < $1 AND $2 = '' \
             AND EXISTS (SELECT 1 FROM enrolment e WHERE e.class_id = k.class_id \
             AND NOT EXISTS (SELECT 1 FROM assessment s WHERE s.enrolment_id = e.enrolment_id))",
            today,
            "",
            body,
        )
        .await?,
        upcoming: classes(
            db,
            "k.status = 'approved' AND k.assessment_body_id = $3 AND k.end_date >= $1 AND $2 = ''",
            today,
            "",
            body,
        )
        .await?,
    })
}

/// Finance's queue: batches to approve, claims per status (failed payments among them) and
/// how many claims are due for a batch.
pub async fn finance(db: &Db, today: NaiveDate) -> Result<FinanceQueue> {
    let draft_batches = with_pool!(db, |p| {
        sqlx::query_as(
        "SELECT batch_id, fund_code, total_fen, payments FROM payment_batch WHERE status = 'draft' ORDER BY batch_id"
    )
    .fetch_all(p)
    .await?
    });
    // The claims `payments::create_batch` would take (failed payments are counted by status).
    let due_for_batch = with_pool!(db, |p| sqlx::query_scalar(&format!(
        "SELECT COUNT(*) FROM claim c WHERE c.amount_fen > 0 AND c.status = 'on_notice' AND c.notice_until < $1 \
         AND NOT EXISTS (SELECT 1 FROM objection o WHERE o.claim_id = c.claim_id AND o.status = 'open') AND NOT {}",
        crate::stops::BLOCKED
    ))
    .bind(today)
    .fetch_one(p)
    .await?);
    let claims = claim_counts(db, &ClaimScope::default(), &["payment_failed", "recovery_due"]).await?;
    Ok(FinanceQueue { draft_batches, claims, due_for_batch })
}

/// The city admin's queue counts, city-wide.
pub async fn city(db: &Db) -> Result<CityQueue> {
    Ok(CityQueue {
        classes_to_review: to_review(db, "").await?,
        claims: claim_counts(db, &ClaimScope::default(), &[IN_REVIEW, &["payment_failed"]].concat()).await?,
        open_objections: open_objections(db, "").await?,
        draft_batches: count(
            db,
            "SELECT COUNT(*) FROM payment_batch WHERE status = 'draft' AND $1 = '' AND $2 = 0",
            "",
            0,
        )
        .await?,
        target_proposals: count(
            db,
            "SELECT COUNT(*) FROM target_proposal WHERE status = 'proposed' AND $1 = '' AND $2 = 0",
            "",
            0,
        )
        .await?,
        first_target_proposal: with_pool!(db, |p| sqlx::query_scalar(
            "SELECT program_code FROM target_proposal WHERE status = 'proposed' ORDER BY proposal_id LIMIT 1"
        )
        .fetch_optional(p)
        .await?),
        earmark_proposals: count(
            db,
            "SELECT COUNT(*) FROM earmark_proposal WHERE status = 'proposed' AND $1 = '' AND $2 = 0",
            "",
            0,
        )
        .await?,
    })
}

/// A worker's own queue.
pub async fn worker(db: &Db, person_id: i64, today: NaiveDate) -> Result<WorkerQueue> {
    let (trainings, completed, in_progress): (i64, i64, i64) = with_pool!(db, |p| {
        sqlx::query_as(
        "SELECT COUNT(*), COUNT(m.completion_id), \
         COUNT(CASE WHEN m.completion_id IS NULL AND k.status = 'approved' AND k.start_date <= $2 AND k.end_date >= $2 THEN 1 END) \
         FROM enrolment e JOIN training_class k ON k.class_id = e.class_id LEFT JOIN completion m ON m.enrolment_id = e.enrolment_id \
         WHERE e.person_id = $1"
    )
    .bind(person_id)
    .bind(today)
    .fetch_one(p)
    .await?
    });
    let certificates =
        count(db, "SELECT COUNT(*) FROM certificate WHERE $1 = '' AND person_id = $2", "", person_id).await?;
    let scope = ClaimScope { person_id: Some(person_id), ..Default::default() };
    let paid_fen = count(
        db,
        "SELECT CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT) FROM claim WHERE $1 = '' AND person_id = $2 AND status = 'paid'",
        "",
        person_id,
    )
    .await?;
    Ok(WorkerQueue {
        trainings,
        completed,
        in_progress,
        certificates,
        claims: claim_counts(db, &scope, &[]).await?,
        paid_fen,
        pending: claims(db, &scope, &format!("c.status NOT IN {SETTLED}")).await?,
    })
}

/// An employer's queue: its claims.
pub async fn employer(db: &Db, employer_id: i64) -> Result<EmployerQueue> {
    let scope = ClaimScope { employer_id: Some(employer_id), ..Default::default() };
    Ok(EmployerQueue {
        claims: claim_counts(db, &scope, &[]).await?,
        pending: claims(db, &scope, &format!("c.status NOT IN {SETTLED}")).await?,
    })
}
