//! A province's paid history (PostgreSQL): the claims filed before a day, as the bureau's
//! three years of work would have left them — each approved and published by the county, on
//! notice for seven days, put in the next month's payment batch of its fund and paid — written
//! in one transaction with `COPY`. Every claim gets the four events and the four chained audit
//! entries the live workflow writes (`review::approve_and_publish_oldest`,
//! `payments::create_batch`, `payments::approve_batch`), each batch its two, each fund its
//! debits. The live workflow moves a claim four times at ≈ 0.9 ms a claim on PostgreSQL here,
//! so a province's million would take hours; this takes minutes. The events carry the days
//! they happened; the audit entries, as every audit entry, the moment they were written.

use crate::audit::{self, PendingEntry};
use crate::demo::load::CopyRow;
use crate::review::NOTICE_DAYS;
use crate::{Db, Result, StoreError};
use chrono::{DateTime, Datelike, Days, NaiveDate, Utc};
use jineng_domain::{ClaimAction, ClaimStatus};
use sqlx::PgConnection;
use std::collections::BTreeMap;

/// What [`pay_before`] paid.
#[derive(Debug, Clone, Default)]
pub struct History {
    /// Claims paid.
    pub paid: usize,
    /// Batches made (one per fund and month).
    pub batches: usize,
    /// Money paid, fen.
    pub paid_fen: i64,
    /// Claims filed before the day that stay awaiting review: their fund's money ran out.
    pub unpaid: usize,
}

/// One claim to pay.
#[derive(sqlx::FromRow)]
struct Due {
    claim_id: i64,
    filed_on: NaiveDate,
    fund: String,
    amount_fen: i64,
    payee: String,
    account: Option<String>,
}

/// A claim's days on its way: approved and published, its notice's last day.
struct Days3 {
    approved: DateTime<Utc>,
    published: DateTime<Utc>,
    notice_from: NaiveDate,
    notice_until: NaiveDate,
}

/// A batch's day of approval and its claims, each with its days.
type Batch<'a> = (DateTime<Utc>, Vec<(&'a Due, Days3)>);

/// 09:00 in China (UTC+8) on `day`, plus `minutes`.
fn at(day: NaiveDate, minutes: i64) -> DateTime<Utc> {
    day.and_hms_opt(1, 0, 0).unwrap_or_default().and_utc() + chrono::Duration::minutes(minutes)
}

fn days_of(d: &Due) -> Days3 {
    // The county reviews three to ten days after filing and publishes the next day.
    let approved_on = d.filed_on + Days::new(3 + (d.claim_id % 8) as u64);
    let notice_from = approved_on + Days::new(1);
    Days3 {
        approved: at(approved_on, d.claim_id % 420),
        published: at(notice_from, d.claim_id % 420),
        notice_from,
        notice_until: notice_from + Days::new(NOTICE_DAYS - 1),
    }
}

/// The batch a claim whose notice ends on `until` goes in: the fifth of the next month (made
/// at 09:30, approved two days later at 15:00).
fn batch_days(until: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
    let (y, m) = if until.month() == 12 { (until.year() + 1, 1) } else { (until.year(), until.month() + 1) };
    let day = NaiveDate::from_ymd_opt(y, m, 5).unwrap_or(until);
    (at(day, 30), at(day + Days::new(2), 360))
}

/// Pays every decided claim filed before `before` whose batch would have been approved before
/// `today` (approved or reduced, with money, not stopped by a confirmed finding), as described
/// above; `county` approves and publishes, `finance` makes and approves the batches. A fund
/// pays its batches in order until its balance would not cover the next. PostgreSQL only (the
/// province runs on it); on SQLite it pays nothing. `progress` is called with (batches written,
/// batches in all).
pub async fn pay_before(
    db: &Db,
    county: i64,
    finance: i64,
    before: NaiveDate,
    today: NaiveDate,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<History> {
    let Db::Postgres(pool) = db else { return Ok(History::default()) };
    let sql = format!(
        "SELECT c.claim_id, c.filed_on, c.fund, c.amount_fen, c.payee, {} AS account FROM claim c \
         WHERE c.status = 'decided' AND c.outcome IN ('approved', 'reduced') AND c.amount_fen > 0 AND c.filed_on < $1 \
         AND NOT {} ORDER BY c.claim_id",
        crate::bank_accounts::CLAIM_PAYEE_ACCOUNT,
        crate::stops::BLOCKED
    );
    let due: Vec<Due> = sqlx::query_as(&sql).bind(before).fetch_all(pool).await?;
    // By batch: (when made, fund) → when approved, and the claims, each with its days.
    let mut batches: BTreeMap<(DateTime<Utc>, String), Batch> = BTreeMap::new();
    let today_at = at(today, 0);
    let mut unpaid = 0;
    for d in &due {
        let days = days_of(d);
        let (made, approved) = batch_days(days.notice_until);
        if approved >= today_at {
            unpaid += 1;
            continue;
        }
        batches.entry((made, d.fund.clone())).or_insert_with(|| (approved, Vec::new())).1.push((d, days));
    }
    let mut tx = pool.begin().await?;
    let conn: &mut PgConnection = &mut tx;
    // Each fund pays its batches in order while its balance covers them.
    let mut balance: BTreeMap<String, i64> =
        sqlx::query_as::<_, (String, i64)>("SELECT fund_code, balance_fen FROM fund ORDER BY fund_code FOR UPDATE")
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .collect();
    let mut out = History { unpaid, ..History::default() };
    // The four moves of every paid claim, each with the status it leads to.
    let mut moves = Vec::with_capacity(4);
    for (from, action) in [
        (ClaimStatus::Decided, ClaimAction::Approve),
        (ClaimStatus::Approved, ClaimAction::Publish),
        (ClaimStatus::OnNotice, ClaimAction::Include),
        (ClaimStatus::InBatch, ClaimAction::Pay),
    ] {
        moves.push((from, action, from.apply(action, false).map_err(|e| StoreError::invalid("status", e))?));
    }
    // The days each claim moved, for the one UPDATE of the claims at the end.
    sqlx::query(
        "CREATE TEMPORARY TABLE history_paid (claim_id BIGINT PRIMARY KEY, filed_at TIMESTAMPTZ NOT NULL, \
         notice_from DATE NOT NULL, notice_until DATE NOT NULL) ON COMMIT DROP",
    )
    .execute(&mut *conn)
    .await?;
    for ((made, fund), (approved, claims)) in &batches {
        let total: i64 = claims.iter().map(|(d, _)| d.amount_fen).sum();
        let left = balance.get(fund).copied().unwrap_or(0);
        if total > left {
            out.unpaid += claims.len();
            continue;
        }
        let after = left - total;
        balance.insert(fund.clone(), after);
        let batch_id: i64 = sqlx::query_scalar(
            "INSERT INTO payment_batch (fund_code, status, total_fen, payments, created_by, created_at, approved_by, approved_at) \
             VALUES ($1, 'approved', $2, $3, $4, $5, $4, $6) RETURNING batch_id",
        )
        .bind(fund)
        .bind(total)
        .bind(claims.len() as i64)
        .bind(finance)
        .bind(made)
        .bind(approved)
        .fetch_one(&mut *conn)
        .await?;
        let why_batch = format!("拨付批次 batch {batch_id}");
        sqlx::query(
            "INSERT INTO fund_entry (fund_code, kind, amount_fen, balance_after_fen, batch_id, actor, note, at) \
             VALUES ($1, 'payment', $2, $3, $4, $5, $6, $7)",
        )
        .bind(fund)
        .bind(total)
        .bind(after)
        .bind(batch_id)
        .bind(finance)
        .bind(&why_batch)
        .bind(approved)
        .execute(&mut *conn)
        .await?;
        // The claims' events and payments, and the days they moved.
        let mut events = String::with_capacity(claims.len() * 4 * 96);
        let mut payments = String::with_capacity(claims.len() * 128);
        let mut moved = String::with_capacity(claims.len() * 64);
        for (d, days) in claims {
            for (i, (from, action, next)) in moves.iter().enumerate() {
                let (actor, when, why) = match i {
                    0 => (county, days.approved, action.zh()),
                    1 => (county, days.published, action.zh()),
                    2 => (finance, *made, why_batch.as_str()),
                    _ => (finance, *approved, why_batch.as_str()),
                };
                CopyRow::new(&mut events)
                    .push_bind(d.claim_id)
                    .push_bind(action.code())
                    .push_bind(from.code())
                    .push_bind(next.code())
                    .push_bind(actor)
                    .push_bind(when)
                    .push_bind(why);
                events.push('\n');
            }
            CopyRow::new(&mut payments)
                .push_bind(batch_id)
                .push_bind(d.claim_id)
                .push_bind(d.amount_fen)
                .push_bind(d.payee.as_str())
                .push_bind("paid")
                .push_bind(*made)
                .push_bind(*approved)
                .push_bind(d.account.as_deref());
            payments.push('\n');
            CopyRow::new(&mut moved)
                .push_bind(d.claim_id)
                .push_bind(at(d.filed_on, 0))
                .push_bind(days.notice_from)
                .push_bind(days.notice_until);
            moved.push('\n');
        }
        copy(
            &mut *conn,
            "COPY claim_event (claim_id, action, from_status, to_status, actor, at, reason) FROM STDIN",
            events,
        )
        .await?;
        copy(
            &mut *conn,
            "COPY payment (batch_id, claim_id, amount_fen, payee, status, created_at, updated_at, account_no) FROM STDIN",
            payments,
        )
        .await?;
        copy(&mut *conn, "COPY history_paid (claim_id, filed_at, notice_from, notice_until) FROM STDIN", moved).await?;
        // The chain: the claims approved and published, the batch made, the claims included,
        // the batch approved, the claims paid — as the live workflow writes them.
        let mut entries: Vec<PendingEntry> = Vec::with_capacity(claims.len() * 4 + 2);
        for (i, (from, action, next)) in moves.iter().enumerate() {
            let why = if i < 2 { action.zh() } else { why_batch.as_str() };
            let detail = serde_json::json!({"from": from.code(), "to": next.code(), "reason": why});
            let actor = if i < 2 { county } else { finance };
            if i == 2 {
                entries.push(audit::entry(
                    Some(finance),
                    "create",
                    "payment_batch",
                    &batch_id.to_string(),
                    &serde_json::json!({"fund": fund, "total_fen": total, "payments": claims.len()}),
                ));
            }
            if i == 3 {
                entries.push(audit::entry(
                    Some(finance),
                    "approve",
                    "payment_batch",
                    &batch_id.to_string(),
                    &serde_json::json!({"fund": fund, "total_fen": total, "balance_after_fen": after}),
                ));
            }
            entries.extend(
                claims
                    .iter()
                    .map(|(d, _)| audit::entry(Some(actor), action.code(), "claim", &d.claim_id.to_string(), &detail)),
            );
        }
        audit::copy_all(&mut *conn, &entries).await?;
        out.batches += 1;
        out.paid += claims.len();
        out.paid_fen += total;
        progress(out.batches, batches.len());
    }
    if out.batches > 0 {
        // One statement moves every claim (the claims' tally follows by its statement trigger).
        let n = sqlx::query(
            "UPDATE claim c SET status = 'paid', created_at = h.filed_at, notice_from = h.notice_from, notice_until = h.notice_until \
             FROM history_paid h WHERE c.claim_id = h.claim_id AND c.status = 'decided'",
        )
        .execute(&mut *conn)
        .await?
        .rows_affected();
        if n != out.paid as u64 {
            return Err(StoreError::conflict(
                "claim.changed",
                None,
                "历史数据写入时申请状态已变化",
                "claims changed while the history was written",
            ));
        }
        for (fund, left) in &balance {
            sqlx::query("UPDATE fund SET balance_fen = $1, updated_at = $2 WHERE fund_code = $3")
                .bind(left)
                .bind(crate::now())
                .bind(fund)
                .execute(&mut *conn)
                .await?;
        }
    }
    tx.commit().await?;
    Ok(out)
}

/// Sends COPY text in pieces of about a megabyte.
async fn copy(conn: &mut PgConnection, statement: &str, text: String) -> Result<()> {
    let mut copy = conn.copy_in_raw(statement).await?;
    let bytes = text.into_bytes();
    for part in bytes.chunks(1 << 20) {
        copy.send(part.to_vec()).await?;
    }
    copy.finish().await?;
    Ok(())
}
