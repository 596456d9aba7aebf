//! After the decision: the county's review, the 7-day public notice (公示) with objections, and
//! the money — fund balances, payment batches per fund, failed payments re-issued, recoveries.
//!
//! Every move of a claim goes through [`ClaimStatus::apply`] and writes a `claim_event` (who,
//! when, why) and an audit entry in the same transaction as the move itself. A fund's balance is
//! checked and debited by one guarded `UPDATE` in the transaction that pays the batch, so two
//! finance clerks approving at once cannot overdraw it.

use crate::audit::{self, Actor};
use crate::{in_tx, now, with_pool, Db, Result, StoreError};
use chrono::{Days, NaiveDate};
use jineng_domain::{ClaimAction, ClaimStatus, Invalid};
use serde::Serialize;

/// Days a claim stays on public notice (the plan: 公示7天).
pub const NOTICE_DAYS: u64 = 7;

/// Which claims a caller may see and act on.
#[derive(Debug, Clone, Default)]
pub struct ClaimScope {
    /// Only claims reviewed by this county.
    pub county: Option<String>,
    /// Only this person's.
    pub person_id: Option<i64>,
    /// Only this employer's.
    pub employer_id: Option<i64>,
    /// Only this provider's.
    pub provider_id: Option<i64>,
}

impl ClaimScope {
    fn sql(&self) -> &'static str {
        "($1 = '' OR c.county_code = $1) AND ($2 = 0 OR c.person_id = $2) AND ($3 = 0 OR c.employer_id = $3) AND ($4 = 0 OR c.provider_id = $4)"
    }
}

/// Binds a [`ClaimScope`] as `$1..$4`.
macro_rules! bind_claim_scope {
    ($q:expr, $s:expr) => {
        $q.bind($s.county.clone().unwrap_or_default())
            .bind($s.person_id.unwrap_or(0))
            .bind($s.employer_id.unwrap_or(0))
            .bind($s.provider_id.unwrap_or(0))
    };
}

/// Moves claim `$id` from `$from` to `$to` inside transaction `$tx`, guarded by the status so
/// that only one of two simultaneous moves lands; writes the event and the audit entry.
macro_rules! move_claim {
    ($tx:ident, $id:expr, $from:expr, $to:expr, $action:expr, $actor:expr, $reason:expr, $t:expr) => {{
        let (id, from, to, action, actor, reason, t): (i64, ClaimStatus, ClaimStatus, ClaimAction, Actor, &str, _) =
            ($id, $from, $to, $action, $actor, $reason, $t);
        let n = sqlx::query("UPDATE claim SET status = $1 WHERE claim_id = $2 AND status = $3")
            .bind(to.code())
            .bind(id)
            .bind(from.code())
            .execute(&mut *$tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::Conflict(format!("claim {id} changed meanwhile")));
        }
        let why = if reason.trim().is_empty() { action.zh() } else { reason.trim() };
        sqlx::query(
            "INSERT INTO claim_event (claim_id, action, from_status, to_status, actor, at, reason) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id)
        .bind(action.code())
        .bind(from.code())
        .bind(to.code())
        .bind(actor)
        .bind(t)
        .bind(why)
        .execute(&mut *$tx)
        .await?;
        audit::record(
            &mut *$tx,
            actor,
            action.code(),
            "claim",
            &id.to_string(),
            &serde_json::json!({"from": from.code(), "to": to.code(), "reason": why}),
        )
        .await?;
    }};
}

/// Puts `$amount` fen into fund `$fund` inside transaction `$tx` and writes the fund entry
/// (`allocation`, `refund` or `recovery`) with the balance after it; evaluates to that balance.
macro_rules! credit_fund {
    ($tx:ident, $fund:expr, $kind:expr, $amount:expr, $claim:expr, $actor:expr, $note:expr, $t:expr) => {{
        let (fund, kind, amount, claim, actor, note, t): (&str, &str, i64, Option<i64>, i64, &str, _) =
            ($fund, $kind, $amount, $claim, $actor, $note, $t);
        let balance: i64 = sqlx::query_scalar(
            "UPDATE fund SET balance_fen = balance_fen + $1, updated_at = $2 WHERE fund_code = $3 RETURNING balance_fen",
        )
        .bind(amount)
        .bind(t)
        .bind(fund)
        .fetch_one(&mut *$tx)
        .await?;
        sqlx::query(
            "INSERT INTO fund_entry (fund_code, kind, amount_fen, balance_after_fen, claim_id, actor, note, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(fund)
        .bind(kind)
        .bind(amount)
        .bind(balance)
        .bind(claim)
        .bind(actor)
        .bind(note.trim())
        .bind(t)
        .execute(&mut *$tx)
        .await?;
        balance
    }};
}

/// One claim's state as the workflow needs it.
#[derive(Debug, Clone, sqlx::FromRow)]
struct ClaimState {
    status: String,
    outcome: String,
    amount_fen: i64,
    fund: String,
    notice_until: Option<NaiveDate>,
}

async fn state(db: &Db, scope: &ClaimScope, claim_id: i64) -> Result<(ClaimStatus, ClaimState)> {
    let sql = format!(
        "SELECT c.status, c.outcome, c.amount_fen, c.fund, c.notice_until FROM claim c WHERE c.claim_id = $5 AND {}",
        scope.sql()
    );
    let s: ClaimState =
        with_pool!(db, |p| bind_claim_scope!(sqlx::query_as(&sql), scope).bind(claim_id).fetch_optional(p).await?)
            .ok_or(StoreError::NotFound)?;
    let st = ClaimStatus::parse(&s.status).ok_or(StoreError::NotFound)?;
    Ok((st, s))
}

fn refuse(code: &'static str, zh: &str, en: &str) -> StoreError {
    StoreError::invalid("status", Invalid::new(code, zh, en))
}

/// The county's review, publication and rejection: `approve`, `reject` (reason required) and
/// `publish` (starts the 7-day notice on `today`). Returns the new status.
pub async fn review(
    db: &Db,
    actor: i64,
    scope: &ClaimScope,
    claim_id: i64,
    action: ClaimAction,
    reason: &str,
    today: NaiveDate,
) -> Result<ClaimStatus> {
    let (from, s) = state(db, scope, claim_id).await?;
    if !matches!(action, ClaimAction::Approve | ClaimAction::Reject | ClaimAction::Publish) {
        return Err(refuse("claim.action", "该操作由财政部门办理", "finance does this, through payment batches"));
    }
    let recover = s.outcome == "recover";
    let to = from.apply(action, recover).map_err(|e| StoreError::invalid("status", e))?;
    if action == ClaimAction::Approve && (s.outcome == "rejected" || s.amount_fen == 0) {
        return Err(refuse(
            "claim.nothing_to_pay",
            "政策审核结果为不予补贴，只能不予补贴",
            "the policy decided nothing is due: the claim can only be rejected",
        ));
    }
    if action == ClaimAction::Reject && reason.trim().is_empty() {
        return Err(StoreError::invalid(
            "reason",
            Invalid::new("claim.reason", "不予补贴须写明原因", "give the reason for rejecting the claim"),
        ));
    }
    let t = now();
    in_tx!(db, |tx| {
        move_claim!(tx, claim_id, from, to, action, Some(actor), reason, t);
        if action == ClaimAction::Publish {
            let until = today + Days::new(NOTICE_DAYS - 1);
            sqlx::query("UPDATE claim SET notice_from = $1, notice_until = $2 WHERE claim_id = $3")
                .bind(today)
                .bind(until)
                .bind(claim_id)
                .execute(&mut *tx)
                .await?;
        }
    });
    Ok(to)
}

/// Approves and publishes every claim of the scope awaiting review whose decision pays
/// something (the county's 一键审核公示); returns how many were published.
pub async fn approve_and_publish_all(db: &Db, actor: i64, scope: &ClaimScope, today: NaiveDate) -> Result<usize> {
    let sql = format!(
        "SELECT c.claim_id FROM claim c WHERE c.status = 'decided' AND c.outcome IN ('approved', 'reduced') AND c.amount_fen > 0 AND {} ORDER BY c.claim_id",
        scope.sql()
    );
    let ids: Vec<i64> = with_pool!(db, |p| bind_claim_scope!(sqlx::query_scalar(&sql), scope).fetch_all(p).await?);
    let mut n = 0;
    for id in ids {
        review(db, actor, scope, id, ClaimAction::Approve, "", today).await?;
        review(db, actor, scope, id, ClaimAction::Publish, "", today).await?;
        n += 1;
    }
    Ok(n)
}

/// An objection to a claim on notice.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ObjectionRow {
    /// Id.
    pub objection_id: i64,
    /// Claim.
    pub claim_id: i64,
    /// Who objected (as given).
    pub filer_name: String,
    /// How to reach them (shown to reviewers only).
    pub contact: String,
    /// Why.
    pub reason: String,
    /// `open`, `upheld`, `dismissed`.
    pub status: String,
    /// Filed at.
    pub filed_at: chrono::DateTime<chrono::Utc>,
    /// Resolution.
    pub resolution: Option<String>,
}

/// Files an objection to a claim on notice (anyone may, during the notice period).
pub async fn object(
    db: &Db,
    claim_id: i64,
    filer_name: &str,
    contact: &str,
    reason: &str,
    today: NaiveDate,
) -> Result<i64> {
    let (status, s) = state(db, &ClaimScope::default(), claim_id).await?;
    if status != ClaimStatus::OnNotice || s.notice_until.is_some_and(|u| today > u) {
        return Err(refuse(
            "objection.closed",
            "该申请不在公示期内，不能提出异议",
            "the claim is not on public notice",
        ));
    }
    let mut errors = Vec::new();
    for (field, v, max) in [("filer_name", filer_name, 50), ("contact", contact, 100), ("reason", reason, 2000)] {
        let n = v.trim().chars().count();
        if n == 0 || n > max {
            errors.push((
                field.to_owned(),
                Invalid::new(
                    "objection.field",
                    format!("必填，且不超过{max}字"),
                    format!("required, at most {max} characters"),
                ),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(StoreError::Rows(errors));
    }
    let t = now();
    Ok(in_tx!(db, |tx| {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO objection (claim_id, filer_name, contact, reason, status, filed_at) VALUES ($1, $2, $3, $4, 'open', $5) RETURNING objection_id",
        )
        .bind(claim_id)
        .bind(filer_name.trim())
        .bind(contact.trim())
        .bind(reason.trim())
        .bind(t)
        .fetch_one(&mut *tx)
        .await?;
        audit::record(
            &mut *tx,
            None,
            "object",
            "claim",
            &claim_id.to_string(),
            &serde_json::json!({"objection_id": id}),
        )
        .await?;
        id
    }))
}

/// Objections to one claim.
pub async fn objections(db: &Db, claim_id: i64) -> Result<Vec<ObjectionRow>> {
    Ok(with_pool!(db, |p| {
        sqlx::query_as(
        "SELECT objection_id, claim_id, filer_name, contact, reason, status, filed_at, resolution FROM objection WHERE claim_id = $1 ORDER BY objection_id"
    )
    .bind(claim_id)
    .fetch_all(p)
    .await?
    }))
}

/// Resolves an open objection: upheld rejects the claim (in the same transaction), dismissed
/// leaves it on notice. A resolution text is required.
pub async fn resolve_objection(
    db: &Db,
    actor: i64,
    scope: &ClaimScope,
    objection_id: i64,
    uphold: bool,
    resolution: &str,
) -> Result<()> {
    let row: Option<(i64, String)> =
        with_pool!(db, |p| sqlx::query_as("SELECT claim_id, status FROM objection WHERE objection_id = $1")
            .bind(objection_id)
            .fetch_optional(p)
            .await?);
    let (claim_id, ostatus) = row.ok_or(StoreError::NotFound)?;
    let (from, _) = state(db, scope, claim_id).await?;
    if ostatus != "open" {
        return Err(refuse("objection.resolved", "该异议已处理", "the objection was resolved already"));
    }
    if resolution.trim().is_empty() {
        return Err(StoreError::invalid(
            "resolution",
            Invalid::new("objection.resolution", "须写明处理意见", "give the resolution"),
        ));
    }
    let to = if uphold {
        Some(from.apply(ClaimAction::Reject, false).map_err(|e| StoreError::invalid("status", e))?)
    } else {
        None
    };
    let t = now();
    in_tx!(db, |tx| {
        let n = sqlx::query(
            "UPDATE objection SET status = $1, resolution = $2, resolved_by = $3, resolved_at = $4 WHERE objection_id = $5 AND status = 'open'",
        )
        .bind(if uphold { "upheld" } else { "dismissed" })
        .bind(resolution.trim())
        .bind(actor)
        .bind(t)
        .bind(objection_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::Conflict("objection resolved meanwhile".into()));
        }
        if let Some(to) = to {
            let why = format!("异议成立 objection upheld: {}", resolution.trim());
            move_claim!(tx, claim_id, from, to, ClaimAction::Reject, Some(actor), &why, t);
        }
        audit::record(
            &mut *tx,
            Some(actor),
            if uphold { "uphold_objection" } else { "dismiss_objection" },
            "claim",
            &claim_id.to_string(),
            &serde_json::json!({"objection_id": objection_id, "resolution": resolution.trim()}),
        )
        .await?;
    });
    Ok(())
}

/// Records that `person_id` works for `employer_id` from `from` (as the employer declared with a
/// claim); a second declaration of the same start is a no-op.
pub async fn record_employment(db: &Db, actor: Actor, person_id: i64, employer_id: i64, from: NaiveDate) -> Result<()> {
    let t = now();
    in_tx!(db, |tx| {
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO employment (person_id, employer_id, from_date, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (person_id, employer_id, from_date) DO NOTHING RETURNING employment_id",
        )
        .bind(person_id)
        .bind(employer_id)
        .bind(from)
        .bind(t)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(id) = id {
            audit::record(
                &mut *tx,
                actor,
                "create",
                "employment",
                &id.to_string(),
                &serde_json::json!({"person_id": person_id, "employer_id": employer_id, "from": from}),
            )
            .await?;
        }
    });
    Ok(())
}

/// A fund and its balance.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct FundRow {
    /// `employment_subsidy_fund` or `unemployment_insurance_fund`.
    pub fund_code: String,
    /// Chinese name.
    pub name_zh: String,
    /// Balance, fen.
    pub balance_fen: i64,
}

/// Every fund.
pub async fn funds(db: &Db) -> Result<Vec<FundRow>> {
    Ok(with_pool!(db, |p| sqlx::query_as("SELECT fund_code, name_zh, balance_fen FROM fund ORDER BY fund_code")
        .fetch_all(p)
        .await?))
}

fn fund_known(fund: &str) -> Result<()> {
    if matches!(fund, "employment_subsidy_fund" | "unemployment_insurance_fund") {
        Ok(())
    } else {
        Err(StoreError::invalid("fund", Invalid::new("fund.unknown", "资金渠道不存在", "unknown fund")))
    }
}

/// Records money allocated to a fund (资金下达); returns the new balance.
pub async fn allocate(db: &Db, actor: i64, fund: &str, amount_fen: i64, note: &str) -> Result<i64> {
    fund_known(fund)?;
    if amount_fen <= 0 {
        return Err(StoreError::invalid(
            "amount_fen",
            Invalid::new("amount.positive", "金额须大于0", "the amount must be positive"),
        ));
    }
    if note.trim().is_empty() {
        return Err(StoreError::invalid(
            "note",
            Invalid::new("fund.note", "须写明资金文件或来源", "name the allocation document"),
        ));
    }
    let t = now();
    Ok(in_tx!(db, |tx| {
        let balance = credit_fund!(tx, fund, "allocation", amount_fen, None, actor, note, t);
        audit::record(
            &mut *tx,
            Some(actor),
            "allocate",
            "fund",
            fund,
            &serde_json::json!({"amount_fen": amount_fen, "note": note.trim()}),
        )
        .await?;
        balance
    }))
}

/// A payment batch.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct BatchRow {
    /// Id.
    pub batch_id: i64,
    /// Fund.
    pub fund_code: String,
    /// `draft` or `approved`.
    pub status: String,
    /// Total, fen.
    pub total_fen: i64,
    /// Number of payments.
    pub payments: i64,
    /// Created at.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Approved at.
    pub approved_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Payment batches, newest first.
pub async fn batches(db: &Db) -> Result<Vec<BatchRow>> {
    Ok(with_pool!(db, |p| {
        sqlx::query_as(
        "SELECT batch_id, fund_code, status, total_fen, payments, created_at, approved_at FROM payment_batch ORDER BY batch_id DESC LIMIT 500"
    )
    .fetch_all(p)
    .await?
    }))
}

/// Builds a draft batch for `fund` with every claim whose 7-day notice ended before `today`
/// with no open objection, and every failed payment to re-issue. Returns None if nothing is due.
pub async fn create_batch(db: &Db, actor: i64, fund: &str, today: NaiveDate) -> Result<Option<BatchRow>> {
    fund_known(fund)?;
    let t = now();
    let batch = in_tx!(db, |tx| {
        // Batches of one fund are made one at a time: touching the fund's row first takes the
        // write lock (SQLite) or the row lock (PostgreSQL) before the due claims are read.
        sqlx::query("UPDATE fund SET updated_at = updated_at WHERE fund_code = $1")
            .bind(fund)
            .execute(&mut *tx)
            .await?;
        let due: Vec<(i64, String, i64, String)> = sqlx::query_as(
            "SELECT c.claim_id, c.status, c.amount_fen, c.payee FROM claim c WHERE c.fund = $1 AND c.amount_fen > 0 AND \
             ((c.status = 'on_notice' AND c.notice_until < $2 AND NOT EXISTS (SELECT 1 FROM objection o WHERE o.claim_id = c.claim_id AND o.status = 'open')) \
              OR c.status = 'payment_failed') ORDER BY c.claim_id",
        )
        .bind(fund)
        .bind(today)
        .fetch_all(&mut *tx)
        .await?;
        if due.is_empty() {
            None
        } else {
            let total: i64 = due.iter().map(|d| d.2).sum();
            let batch_id: i64 = sqlx::query_scalar(
                "INSERT INTO payment_batch (fund_code, status, total_fen, payments, created_by, created_at) VALUES ($1, 'draft', $2, $3, $4, $5) RETURNING batch_id",
            )
            .bind(fund)
            .bind(total)
            .bind(due.len() as i64)
            .bind(actor)
            .bind(t)
            .fetch_one(&mut *tx)
            .await?;
            for (claim_id, status, amount, payee) in &due {
                let from = ClaimStatus::parse(status).ok_or(StoreError::NotFound)?;
                let action =
                    if from == ClaimStatus::PaymentFailed { ClaimAction::Reissue } else { ClaimAction::Include };
                let to = from.apply(action, false).map_err(|e| StoreError::invalid("status", e))?;
                move_claim!(tx, *claim_id, from, to, action, Some(actor), &format!("拨付批次 batch {batch_id}"), t);
                sqlx::query(
                    "INSERT INTO payment (batch_id, claim_id, amount_fen, payee, status, created_at, updated_at) VALUES ($1, $2, $3, $4, 'pending', $5, $5)",
                )
                .bind(batch_id)
                .bind(claim_id)
                .bind(amount)
                .bind(payee)
                .bind(t)
                .execute(&mut *tx)
                .await?;
            }
            audit::record(
                &mut *tx,
                Some(actor),
                "create",
                "payment_batch",
                &batch_id.to_string(),
                &serde_json::json!({"fund": fund, "total_fen": total, "payments": due.len()}),
            )
            .await?;
            Some(batch_id)
        }
    });
    match batch {
        None => Ok(None),
        Some(id) => Ok(batches(db).await?.into_iter().find(|b| b.batch_id == id)),
    }
}

/// Finance approves a draft batch: in one transaction the fund is debited (refused if the
/// balance is short), every payment is paid and every claim moves to paid.
pub async fn approve_batch(db: &Db, actor: i64, batch_id: i64) -> Result<i64> {
    let t = now();
    Ok(in_tx!(db, |tx| {
        // The guarded update comes first: it takes the write lock at once (SQLite) or the row
        // lock (PostgreSQL), so a second approval waits and then finds the batch approved.
        let row: Option<(String, i64)> = sqlx::query_as(
            "UPDATE payment_batch SET status = 'approved', approved_by = $1, approved_at = $2 WHERE batch_id = $3 AND status = 'draft' \
             RETURNING fund_code, total_fen",
        )
        .bind(actor)
        .bind(t)
        .bind(batch_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((fund, total)) = row else {
            let exists: Option<i64> = sqlx::query_scalar("SELECT batch_id FROM payment_batch WHERE batch_id = $1")
                .bind(batch_id)
                .fetch_optional(&mut *tx)
                .await?;
            return Err(match exists {
                Some(_) => refuse("batch.approved", "该批次已拨付", "the batch was approved already"),
                None => StoreError::NotFound,
            });
        };
        let balance: Option<i64> = sqlx::query_scalar(
            "UPDATE fund SET balance_fen = balance_fen - $1, updated_at = $2 WHERE fund_code = $3 AND balance_fen >= $1 RETURNING balance_fen",
        )
        .bind(total)
        .bind(t)
        .bind(&fund)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(balance) = balance else {
            return Err(StoreError::invalid(
                "fund",
                Invalid::new(
                    "fund.insufficient",
                    format!("资金余额不足，本批次需 {}", jineng_domain::Money::from_fen(total)),
                    format!("the fund's balance is short of this batch's {}", jineng_domain::Money::from_fen(total)),
                ),
            ));
        };
        sqlx::query("INSERT INTO fund_entry (fund_code, kind, amount_fen, balance_after_fen, batch_id, actor, note, at) VALUES ($1, 'payment', $2, $3, $4, $5, $6, $7)")
            .bind(&fund)
            .bind(total)
            .bind(balance)
            .bind(batch_id)
            .bind(actor)
            .bind(format!("拨付批次 batch {batch_id}"))
            .bind(t)
            .execute(&mut *tx)
            .await?;
        let claims: Vec<i64> =
            sqlx::query_scalar("SELECT claim_id FROM payment WHERE batch_id = $1 AND status = 'pending'")
                .bind(batch_id)
                .fetch_all(&mut *tx)
                .await?;
        sqlx::query("UPDATE payment SET status = 'paid', updated_at = $1 WHERE batch_id = $2 AND status = 'pending'")
            .bind(t)
            .bind(batch_id)
            .execute(&mut *tx)
            .await?;
        for claim_id in claims {
            move_claim!(
                tx,
                claim_id,
                ClaimStatus::InBatch,
                ClaimStatus::Paid,
                ClaimAction::Pay,
                Some(actor),
                &format!("拨付批次 batch {batch_id}"),
                t
            );
        }
        audit::record(
            &mut *tx,
            Some(actor),
            "approve",
            "payment_batch",
            &batch_id.to_string(),
            &serde_json::json!({"fund": fund, "total_fen": total, "balance_after_fen": balance}),
        )
        .await?;
        balance
    }))
}

/// A payment.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct PaymentRow {
    /// Id.
    pub payment_id: i64,
    /// Batch.
    pub batch_id: i64,
    /// Claim.
    pub claim_id: i64,
    /// Claim kind.
    pub kind: String,
    /// Fund.
    pub fund: String,
    /// Payee name (person, employer or provider).
    pub payee_name: Option<String>,
    /// County.
    pub county_code: String,
    /// Amount, fen.
    pub amount_fen: i64,
    /// `pending`, `paid`, `failed`.
    pub status: String,
    /// Why it failed.
    pub failure_reason: Option<String>,
    /// Last change.
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

/// Payments, optionally of one batch, newest first.
pub async fn payments(db: &Db, batch: Option<i64>, limit: i64) -> Result<Vec<PaymentRow>> {
    Ok(with_pool!(db, |p| {
        sqlx::query_as(
        "SELECT y.payment_id, y.batch_id, y.claim_id, c.kind, c.fund, COALESCE(p.name, e.name, v.name) AS payee_name, c.county_code, \
         y.amount_fen, y.status, y.failure_reason, y.updated_at FROM payment y JOIN claim c ON c.claim_id = y.claim_id \
         LEFT JOIN person p ON p.person_id = c.person_id AND c.employer_id IS NULL AND c.provider_id IS NULL \
         LEFT JOIN employer e ON e.employer_id = c.employer_id LEFT JOIN provider v ON v.provider_id = c.provider_id \
         WHERE ($1 = 0 OR y.batch_id = $1) ORDER BY y.payment_id DESC LIMIT $2"
    )
    .bind(batch.unwrap_or(0))
    .bind(limit)
    .fetch_all(p)
    .await?
    }))
}

/// Records that a paid payment failed (returned by the bank): the sum goes back to the fund and
/// the claim waits to be re-issued in the next batch.
pub async fn fail_payment(db: &Db, actor: i64, payment_id: i64, reason: &str) -> Result<()> {
    if reason.trim().is_empty() {
        return Err(StoreError::invalid(
            "reason",
            Invalid::new("payment.reason", "须写明失败原因", "give the reason the payment failed"),
        ));
    }
    let t = now();
    in_tx!(db, |tx| {
        let row: Option<(i64, i64)> = sqlx::query_as(
            "UPDATE payment SET status = 'failed', failure_reason = $1, updated_at = $2 WHERE payment_id = $3 AND status = 'paid' \
             RETURNING claim_id, amount_fen",
        )
        .bind(reason.trim())
        .bind(t)
        .bind(payment_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((claim_id, amount)) = row else {
            let exists: Option<i64> = sqlx::query_scalar("SELECT payment_id FROM payment WHERE payment_id = $1")
                .bind(payment_id)
                .fetch_optional(&mut *tx)
                .await?;
            return Err(match exists {
                Some(_) => refuse("payment.not_paid", "只有已拨付的款项才能登记失败", "only a paid payment can fail"),
                None => StoreError::NotFound,
            });
        };
        let fund: String =
            sqlx::query_scalar("SELECT fund FROM claim WHERE claim_id = $1").bind(claim_id).fetch_one(&mut *tx).await?;
        credit_fund!(tx, &fund, "refund", amount, Some(claim_id), actor, reason, t);
        move_claim!(
            tx,
            claim_id,
            ClaimStatus::Paid,
            ClaimStatus::PaymentFailed,
            ClaimAction::Fail,
            Some(actor),
            reason,
            t
        );
    });
    Ok(())
}

/// Records a recovered sum (a settlement below the advance): the fund gets it back.
pub async fn record_recovery(db: &Db, actor: i64, claim_id: i64, note: &str) -> Result<()> {
    let (from, s) = state(db, &ClaimScope::default(), claim_id).await?;
    let to = from.apply(ClaimAction::Recover, true).map_err(|e| StoreError::invalid("status", e))?;
    if note.trim().is_empty() {
        return Err(StoreError::invalid(
            "note",
            Invalid::new("recovery.note", "须写明缴回凭证", "name the receipt of the recovered sum"),
        ));
    }
    let t = now();
    in_tx!(db, |tx| {
        move_claim!(tx, claim_id, from, to, ClaimAction::Recover, Some(actor), note, t);
        if s.amount_fen > 0 {
            credit_fund!(tx, &s.fund, "recovery", s.amount_fen, Some(claim_id), actor, note, t);
        }
    });
    Ok(())
}

/// A status change of a claim.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ClaimEvent {
    /// Action code.
    pub action: String,
    /// From.
    pub from_status: String,
    /// To.
    pub to_status: String,
    /// Who (user name), if a user.
    pub actor_name: Option<String>,
    /// When.
    pub at: chrono::DateTime<chrono::Utc>,
    /// Why.
    pub reason: String,
}

/// The status changes of a claim, oldest first.
pub async fn events(db: &Db, claim_id: i64) -> Result<Vec<ClaimEvent>> {
    Ok(with_pool!(db, |p| sqlx::query_as(
        "SELECT e.action, e.from_status, e.to_status, u.display_name AS actor_name, e.at, e.reason FROM claim_event e \
         LEFT JOIN app_user u ON u.user_id = e.actor WHERE e.claim_id = $1 ORDER BY e.claim_event_id"
    )
    .bind(claim_id)
    .fetch_all(p)
    .await?))
}

/// A claim on public notice, as the public sees it: no ID number, the name partly masked.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NoticeRow {
    /// Claim id (to object to).
    pub claim_id: i64,
    /// Kind.
    pub kind: String,
    /// Payee: a person's name masked (张*三), an organisation's name in full.
    pub payee: String,
    /// County name.
    pub county_name: String,
    /// Amount, fen.
    pub amount_fen: i64,
    /// First day of the notice.
    pub notice_from: NaiveDate,
    /// Last day.
    pub notice_until: NaiveDate,
}

/// `张三` → `张*`, `张小三` → `张*三`, `欧阳小三` → `欧**三`.
pub fn mask_name(name: &str) -> String {
    let c: Vec<char> = name.chars().collect();
    match c.len() {
        0 => String::new(),
        1 => "*".into(),
        2 => format!("{}*", c[0]),
        n => format!("{}{}{}", c[0], "*".repeat(n - 2), c[n - 1]),
    }
}

/// Claims on notice on `today`, optionally of one county.
pub async fn notice(db: &Db, county: Option<&str>, today: NaiveDate, limit: i64) -> Result<Vec<NoticeRow>> {
    #[derive(sqlx::FromRow)]
    struct NoticeDb {
        claim_id: i64,
        kind: String,
        person_name: Option<String>,
        org_name: Option<String>,
        county_name: String,
        amount_fen: i64,
        notice_from: NaiveDate,
        notice_until: NaiveDate,
    }
    let rows: Vec<NoticeDb> = with_pool!(db, |p| {
        sqlx::query_as(
        "SELECT c.claim_id, c.kind, p.name AS person_name, COALESCE(e.name, v.name) AS org_name, k.name_zh AS county_name, c.amount_fen, \
         c.notice_from, c.notice_until FROM claim c JOIN county k ON k.county_code = c.county_code \
         LEFT JOIN person p ON p.person_id = c.person_id LEFT JOIN employer e ON e.employer_id = c.employer_id \
         LEFT JOIN provider v ON v.provider_id = c.provider_id \
         WHERE c.status = 'on_notice' AND c.notice_until >= $1 AND ($2 = '' OR c.county_code = $2) ORDER BY c.notice_from DESC, c.claim_id LIMIT $3"
    )
    .bind(today)
    .bind(county.unwrap_or(""))
    .bind(limit)
    .fetch_all(p)
    .await?
    });
    Ok(rows
        .into_iter()
        .map(|r| NoticeRow {
            claim_id: r.claim_id,
            kind: r.kind,
            payee: r.org_name.unwrap_or_else(|| mask_name(r.person_name.as_deref().unwrap_or(""))),
            county_name: r.county_name,
            amount_fen: r.amount_fen,
            notice_from: r.notice_from,
            notice_until: r.notice_until,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::mask_name;

    #[test]
    fn names_are_partly_masked() {
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("李小娜"), "李*娜");
        assert_eq!(mask_name("欧阳小三"), "欧**三");
        assert_eq!(mask_name("王"), "*");
    }
}
