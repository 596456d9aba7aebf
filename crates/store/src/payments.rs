//! Payments: batches per fund of the claims whose notice ended without open objections, paid
//! when finance approves the batch. A fund's balance is checked and debited by one guarded
//! `UPDATE` in the transaction that pays the batch, so two finance clerks approving at once
//! cannot overdraw it. A payment the bank returns goes back to the fund and is re-issued; a
//! settlement below its advance is recovered.

use crate::audit;
use crate::bank_accounts::CLAIM_PAYEE_ACCOUNT;
use crate::claims::ClaimScope;
use crate::funds::{credit_fund, fund_known};
use crate::review::{move_claim, move_claims, refuse, state};
use crate::stops::BLOCKED;
use crate::{in_tx, now, with_pool, Db, Result, StoreError};
use chrono::NaiveDate;
use jineng_domain::{ClaimAction, ClaimStatus, Invalid};
use serde::Serialize;

/// A payment batch.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct BatchRow {
    pub batch_id: i64,
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
/// with no open objection, and every failed payment to re-issue, leaving out the claims a
/// confirmed fraud finding blocks (S12). Returns None if nothing is due.
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
        // Each payment keeps the account in force of its payee when the batch is made.
        let due: Vec<(i64, String, i64, String, Option<String>)> = sqlx::query_as(&format!(
            "SELECT c.claim_id, c.status, c.amount_fen, c.payee, {CLAIM_PAYEE_ACCOUNT} FROM claim c WHERE c.fund = $1 AND c.amount_fen > 0 AND \
             ((c.status = 'on_notice' AND c.notice_until < $2 AND NOT EXISTS (SELECT 1 FROM objection o WHERE o.claim_id = c.claim_id AND o.status = 'open')) \
              OR c.status = 'payment_failed') AND NOT {BLOCKED} ORDER BY c.claim_id",
        ))
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
            // The query reads no other status.
            if due.iter().any(|d| d.1 != ClaimStatus::OnNotice.code() && d.1 != ClaimStatus::PaymentFailed.code()) {
                return Err(StoreError::NotFound);
            }
            // Claims whose notice ended are included, failed payments re-issued: each group
            // moves at once, every claim with its event and audit entry.
            let why = format!("拨付批次 batch {batch_id}");
            for (from, action) in
                [(ClaimStatus::OnNotice, ClaimAction::Include), (ClaimStatus::PaymentFailed, ClaimAction::Reissue)]
            {
                let ids: Vec<i64> = due.iter().filter(|d| d.1 == from.code()).map(|d| d.0).collect();
                if !ids.is_empty() {
                    let to = from.apply(action, false).map_err(|e| StoreError::invalid("status", e))?;
                    move_claims!(tx, &ids, from, to, action, Some(actor), &why, t);
                }
            }
            for part in due.chunks(2_000) {
                let mut rows = sqlx::QueryBuilder::new(
                    "INSERT INTO payment (batch_id, claim_id, amount_fen, payee, status, created_at, updated_at, account_no) ",
                );
                rows.push_values(part, |mut b, (claim_id, _, amount, payee, account)| {
                    b.push_bind(batch_id)
                        .push_bind(*claim_id)
                        .push_bind(*amount)
                        .push_bind(payee.clone())
                        .push_bind("pending")
                        .push_bind(t)
                        .push_bind(t)
                        .push_bind(account.clone());
                });
                rows.build().execute(&mut *tx).await?;
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
/// balance is short), every payment is paid and every claim moves to paid — except those a
/// fraud finding confirmed since the batch was made blocks, whose payments fail.
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
        // A fraud finding confirmed since the batch was made stops its claims: their payments
        // fail with the finding named, and the batch pays the rest (S12).
        let stopped: Vec<(i64, i64, i64)> = sqlx::query_as(&format!(
            "SELECT y.payment_id, y.claim_id, y.amount_fen FROM payment y JOIN claim c ON c.claim_id = y.claim_id \
             WHERE y.batch_id = $1 AND y.status = 'pending' AND {BLOCKED} ORDER BY y.payment_id"
        ))
        .bind(batch_id)
        .fetch_all(&mut *tx)
        .await?;
        let mut total = total;
        for (payment_id, claim_id, amount) in &stopped {
            let why = "疑点线索已确认，暂停拨付 / stopped: a confirmed fraud finding touches the claim";
            sqlx::query(
                "UPDATE payment SET status = 'failed', failure_reason = $1, updated_at = $2 WHERE payment_id = $3",
            )
            .bind(why)
            .bind(t)
            .bind(payment_id)
            .execute(&mut *tx)
            .await?;
            move_claim!(
                tx,
                *claim_id,
                ClaimStatus::InBatch,
                ClaimStatus::PaymentFailed,
                ClaimAction::Fail,
                Some(actor),
                why,
                t
            );
            total -= amount;
        }
        if !stopped.is_empty() {
            sqlx::query("UPDATE payment_batch SET total_fen = $1, payments = payments - $2 WHERE batch_id = $3")
                .bind(total)
                .bind(stopped.len() as i64)
                .bind(batch_id)
                .execute(&mut *tx)
                .await?;
        }
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
        move_claims!(
            tx,
            &claims,
            ClaimStatus::InBatch,
            ClaimStatus::Paid,
            ClaimAction::Pay,
            Some(actor),
            &format!("拨付批次 batch {batch_id}"),
            t
        );
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
    pub payment_id: i64,
    pub batch_id: i64,
    pub claim_id: i64,
    /// Claim kind.
    pub kind: String,
    pub fund: String,
    /// Payee name (person, employer or provider).
    pub payee_name: Option<String>,
    pub county_code: String,
    /// Amount, fen.
    pub amount_fen: i64,
    /// `pending`, `paid`, `failed`.
    pub status: String,
    /// Why it failed.
    pub failure_reason: Option<String>,
    /// The payee's account it was made to (masked); none when the payee had recorded none.
    pub account_no: Option<String>,
    /// Last change.
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

/// Payments, optionally of one batch, newest first.
pub async fn payments(db: &Db, batch: Option<i64>, limit: i64) -> Result<Vec<PaymentRow>> {
    let batch_is = crate::opt_eq("y.batch_id", 1, batch.is_some_and(|b| b != 0), "0");
    let sql = format!(
        "SELECT y.payment_id, y.batch_id, y.claim_id, c.kind, c.fund, COALESCE(p.name, e.name, v.name) AS payee_name, c.county_code, \
         y.amount_fen, y.status, y.failure_reason, y.account_no, y.updated_at FROM payment y JOIN claim c ON c.claim_id = y.claim_id \
         LEFT JOIN person p ON p.person_id = c.person_id AND c.employer_id IS NULL AND c.provider_id IS NULL \
         LEFT JOIN employer e ON e.employer_id = c.employer_id LEFT JOIN provider v ON v.provider_id = c.provider_id \
         WHERE {batch_is} ORDER BY y.payment_id DESC LIMIT $2"
    );
    let rows: Vec<PaymentRow> =
        with_pool!(db, |p| { sqlx::query_as(&sql).bind(batch.unwrap_or(0)).bind(limit).fetch_all(p).await? });
    Ok(rows
        .into_iter()
        .map(|mut r| {
            r.account_no = r.account_no.map(|n| jineng_domain::id_number::mask(&n));
            r
        })
        .collect())
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
