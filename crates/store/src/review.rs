//! The county's review of a decided claim: approve, reject (with a reason) or publish on the
//! public notice. Every move of a claim goes through [`ClaimStatus::apply`] and writes a
//! `claim_event` (who, when, why) and an audit entry in the same transaction as the move itself;
//! [`move_claim!`] is that move, shared with the notice and the payments.

use crate::audit;
use crate::claims::hold::HeldFact;
use crate::claims::{bind_claim_scope, ClaimScope};
use crate::facts::Statement;
use crate::{in_tx, now, on_tx, with_pool, Db, Result, StoreError, Tx};
use chrono::{Days, NaiveDate};
use jineng_domain::{ClaimAction, ClaimStatus, Invalid};
use serde::Serialize;

/// Days a claim stays on public notice (the plan: 公示7天).
pub const NOTICE_DAYS: u64 = 7;

/// Moves claim `$id` from `$from` to `$to` inside transaction `$tx`, guarded by the status so
/// that only one of two simultaneous moves lands; writes the event and the audit entry.
macro_rules! move_claim {
    ($tx:ident, $id:expr, $from:expr, $to:expr, $action:expr, $actor:expr, $reason:expr, $t:expr) => {{
        let (id, from, to, action, actor, reason, t): (i64, jineng_domain::ClaimStatus, jineng_domain::ClaimStatus, jineng_domain::ClaimAction, $crate::audit::Actor, &str, _) =
            ($id, $from, $to, $action, $actor, $reason, $t);
        let n = sqlx::query("UPDATE claim SET status = $1 WHERE claim_id = $2 AND status = $3")
            .bind(to.code())
            .bind(id)
            .bind(from.code())
            .execute(&mut *$tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err($crate::StoreError::conflict("claim.changed", None, "该申请已被他人处理，请刷新", "the claim changed meanwhile: reload"));
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
        $crate::audit::record(
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

pub(crate) use move_claim;

/// [`move_claim!`] for many claims at once, each with its event and its audit entry as there:
/// one status update and one insert of events per thousand claims, the audit entries chained
/// in one append. Any claim not in `from` any more refuses the whole move, as one would.
macro_rules! move_claims {
    ($tx:ident, $ids:expr, $from:expr, $to:expr, $action:expr, $actor:expr, $reason:expr, $t:expr) => {{
        let (ids, from, to, action, actor, reason, t): (&[i64], jineng_domain::ClaimStatus, jineng_domain::ClaimStatus, jineng_domain::ClaimAction, $crate::audit::Actor, &str, _) =
            ($ids, $from, $to, $action, $actor, $reason, $t);
        let why = if reason.trim().is_empty() { action.zh() } else { reason.trim() };
        for chunk in ids.chunks(1_000) {
            let list = chunk.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
            let n = sqlx::query(&format!("UPDATE claim SET status = $1 WHERE claim_id IN ({list}) AND status = $2"))
                .bind(to.code())
                .bind(from.code())
                .execute(&mut *$tx)
                .await?
                .rows_affected();
            if n != chunk.len() as u64 {
                return Err($crate::StoreError::conflict("claim.changed", None, "该申请已被他人处理，请刷新", "the claim changed meanwhile: reload"));
            }
            let mut events = sqlx::QueryBuilder::new("INSERT INTO claim_event (claim_id, action, from_status, to_status, actor, at, reason) ");
            events.push_values(chunk, |mut b, id| {
                b.push_bind(*id).push_bind(action.code()).push_bind(from.code()).push_bind(to.code()).push_bind(actor).push_bind(t).push_bind(why);
            });
            events.build().execute(&mut *$tx).await?;
        }
        let detail = serde_json::json!({"from": from.code(), "to": to.code(), "reason": why});
        let entries: Vec<$crate::audit::PendingEntry> =
            ids.iter().map(|id| $crate::audit::entry(actor, action.code(), "claim", &id.to_string(), &detail)).collect();
        $crate::audit::record_all(&mut *$tx, &entries).await?;
    }};
}

pub(crate) use move_claims;

/// One claim's state as the workflow needs it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct ClaimState {
    pub(crate) status: String,
    pub(crate) outcome: String,
    pub(crate) amount_fen: i64,
    pub(crate) fund: String,
    pub(crate) notice_until: Option<NaiveDate>,
}

pub(crate) async fn state(db: &Db, scope: &ClaimScope, claim_id: i64) -> Result<(ClaimStatus, ClaimState)> {
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

pub(crate) fn refuse(code: &'static str, zh: &str, en: &str) -> StoreError {
    StoreError::invalid("status", Invalid::new(code, zh, en))
}

/// The county's review, publication and rejection: `verify` (the declared facts a held claim
/// rests on, see [`verify`]), `approve`, `reject` (reason required) and `publish`
/// (starts the 7-day notice on `today`). Returns the new status.
pub async fn review(
    db: &Db,
    actor: i64,
    scope: &ClaimScope,
    claim_id: i64,
    action: ClaimAction,
    reason: &str,
    today: NaiveDate,
) -> Result<ClaimStatus> {
    if action == ClaimAction::Verify {
        verify(db, actor, scope, claim_id, reason).await?;
        return Ok(ClaimStatus::Decided);
    }
    let (from, s) = state(db, scope, claim_id).await?;
    if !matches!(action, ClaimAction::Approve | ClaimAction::Reject | ClaimAction::Publish) {
        return Err(refuse("claim.action", "该操作由财政部门办理", "finance does this, through payment batches"));
    }
    let recover = s.outcome == "recover";
    let to = from.apply(action, recover).map_err(|e| StoreError::invalid("status", e))?;
    // A confirmed fraud finding stops the claim on its way to payment (rejecting it stays open).
    if matches!(action, ClaimAction::Approve | ClaimAction::Publish) {
        let findings = crate::stops::blocking(db, claim_id).await?;
        if !findings.is_empty() {
            return Err(crate::stops::blocked_error(&findings));
        }
    }
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
/// something and that no confirmed finding blocks (the county's 一键审核公示); returns how many
/// were published.
pub async fn approve_and_publish_all(db: &Db, actor: i64, scope: &ClaimScope, today: NaiveDate) -> Result<usize> {
    approve_and_publish_oldest(db, actor, scope, today, usize::MAX).await
}

/// [`approve_and_publish_all`] for at most `limit` claims, the oldest first.
pub async fn approve_and_publish_oldest(
    db: &Db,
    actor: i64,
    scope: &ClaimScope,
    today: NaiveDate,
    limit: usize,
) -> Result<usize> {
    let sql = format!(
        "SELECT c.claim_id FROM claim c WHERE c.status = 'decided' AND c.outcome IN ('approved', 'reduced') AND c.amount_fen > 0 \
         AND NOT {} AND {} ORDER BY c.claim_id",
        crate::stops::BLOCKED,
        scope.sql()
    );
    let mut ids: Vec<i64> = with_pool!(db, |p| bind_claim_scope!(sqlx::query_scalar(&sql), scope).fetch_all(p).await?);
    ids.truncate(limit);
    // A few hundred claims per transaction: each claim still moves twice with an event and an
    // audit entry each (`move_claims!`, set by set), and is read again inside the transaction
    // so that one moved or stopped meanwhile is left as it is.
    let until = today + Days::new(NOTICE_DAYS - 1);
    // The two moves are the same for every claim read back as decided.
    let approved =
        ClaimStatus::Decided.apply(ClaimAction::Approve, false).map_err(|e| StoreError::invalid("status", e))?;
    let published = approved.apply(ClaimAction::Publish, false).map_err(|e| StoreError::invalid("status", e))?;
    let mut n = 0;
    for chunk in ids.chunks(500) {
        let list = chunk.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        let again = format!(
            "SELECT c.claim_id FROM claim c WHERE c.claim_id IN ({list}) AND c.status = 'decided' AND NOT {} ORDER BY c.claim_id",
            crate::stops::BLOCKED
        );
        let t = now();
        n += in_tx!(db, |tx| {
            let ready: Vec<i64> = sqlx::query_scalar(&again).fetch_all(&mut *tx).await?;
            if !ready.is_empty() {
                move_claims!(tx, &ready, ClaimStatus::Decided, approved, ClaimAction::Approve, Some(actor), "", t);
                move_claims!(tx, &ready, approved, published, ClaimAction::Publish, Some(actor), "", t);
                let list = ready.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
                sqlx::query(&format!(
                    "UPDATE claim SET notice_from = $1, notice_until = $2 WHERE claim_id IN ({list})"
                ))
                .bind(today)
                .bind(until)
                .execute(&mut *tx)
                .await?;
            }
            ready.len()
        });
    }
    Ok(n)
}

/// A status change of a claim.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ClaimEvent {
    /// Action code.
    pub action: String,
    pub from_status: String,
    pub to_status: String,
    /// Who (user name), if a user.
    pub actor_name: Option<String>,
    pub at: chrono::DateTime<chrono::Utc>,
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

/// The county verifies the declared facts a held claim rests on: each becomes
/// `county_verified` (recorded with who and when), the claim goes to review (`decided`), and so
/// does every other held claim of the same person whose facts are now all verified. Returns the
/// ids of the claims released.
pub async fn verify(db: &Db, actor: i64, scope: &ClaimScope, claim_id: i64, note: &str) -> Result<Vec<i64>> {
    let (from, _) = state(db, scope, claim_id).await?;
    let to = from.apply(ClaimAction::Verify, false).map_err(|e| StoreError::invalid("status", e))?;
    let sql = format!("SELECT c.person_id, c.held_for FROM claim c WHERE c.claim_id = $5 AND {}", scope.sql());
    let (person_id, held): (Option<i64>, Option<String>) =
        with_pool!(db, |p| bind_claim_scope!(sqlx::query_as(&sql), scope).bind(claim_id).fetch_optional(p).await?)
            .ok_or(StoreError::NotFound)?;
    let facts: Vec<HeldFact> = held.as_deref().and_then(|h| serde_json::from_str(h).ok()).unwrap_or_default();
    let t = now();
    let mut tx = db.begin().await?;
    if let Some(p) = person_id {
        crate::claims::lock_people(&mut tx, &[p]).await?;
    }
    for f in &facts {
        verify_record(&mut tx, actor, &f.record, t).await?;
    }
    let mut released = vec![claim_id];
    let reason = if note.trim().is_empty() { "县区核实申报事实属实" } else { note.trim() };
    move_held(&mut tx, claim_id, from, to, actor, reason, t).await?;
    // Other claims of the person held on facts now all verified.
    if let Some(p) = person_id {
        let others: Vec<(i64, Option<String>)> = on_tx!(&mut tx, |c| {
            sqlx::query_as(
            "SELECT claim_id, held_for FROM claim WHERE person_id = $1 AND status = 'needs_verification' AND claim_id <> $2"
        )
        .bind(p)
        .bind(claim_id)
        .fetch_all(&mut **c)
        .await?
        });
        for (id, held) in others {
            let facts: Vec<HeldFact> = held.as_deref().and_then(|h| serde_json::from_str(h).ok()).unwrap_or_default();
            let mut all = true;
            for f in &facts {
                all &= record_trusted(&mut tx, &f.record).await?;
            }
            if all {
                move_held(&mut tx, id, from, to, actor, "同一申报事实已由县区核实", t).await?;
                released.push(id);
            }
        }
    }
    tx.commit().await?;
    Ok(released)
}

async fn move_held(
    tx: &mut Tx,
    id: i64,
    from: ClaimStatus,
    to: ClaimStatus,
    actor: i64,
    reason: &str,
    t: chrono::DateTime<chrono::Utc>,
) -> Result<()> {
    on_tx!(tx, |c| {
        let c = &mut **c;
        move_claim!(c, id, from, to, ClaimAction::Verify, Some(actor), reason, t);
    });
    Ok(())
}

/// Marks one declared record verified by `actor`.
async fn verify_record(tx: &mut Tx, actor: i64, record: &str, t: chrono::DateTime<chrono::Utc>) -> Result<()> {
    let parts: Vec<&str> = record.split(':').collect();
    let bad =
        || StoreError::invalid("record", Invalid::new("fact.record", "无法识别的事实记录", "unknown fact record"));
    match parts.as_slice() {
        ["person_group", id] => {
            let id: i64 = id.parse().map_err(|_| bad())?;
            on_tx!(tx, |c| {
                sqlx::query(
                    "UPDATE person_group SET source = 'county_verified', recorded_by = $1, recorded_at = $2 WHERE person_group_id = $3",
                )
                .bind(actor)
                .bind(t)
                .bind(id)
                .execute(&mut **c)
                .await?;
                audit::record(&mut **c, Some(actor), "verify", "person_group", &id.to_string(), &serde_json::json!({}))
                    .await?;
            });
        }
        ["employment", id] => {
            let id: i64 = id.parse().map_err(|_| bad())?;
            on_tx!(tx, |c| {
                sqlx::query(
                    "UPDATE employment SET source = 'county_verified', recorded_by = $1 WHERE employment_id = $2",
                )
                .bind(actor)
                .bind(id)
                .execute(&mut **c)
                .await?;
                audit::record(&mut **c, Some(actor), "verify", "employment", &id.to_string(), &serde_json::json!({}))
                    .await?;
            });
        }
        ["person", person, fact @ ("rural" | "insured_since")] => {
            let person: i64 = person.parse().map_err(|_| bad())?;
            let column = if *fact == "rural" {
                "CASE WHEN rural THEN 'true' ELSE 'false' END"
            } else {
                "CAST(insured_since AS TEXT)"
            };
            let sql = format!("SELECT {column} FROM person WHERE person_id = $1");
            let value: Option<String> =
                on_tx!(tx, |c| sqlx::query_scalar(&sql).bind(person).fetch_optional(&mut **c).await?).flatten();
            let fact: &'static str = if *fact == "rural" { "rural" } else { "insured_since" };
            let today = t.date_naive();
            crate::facts::state(
                tx,
                Some(actor),
                None,
                &[Statement { person_id: person, fact, value, source: "county_verified", as_of: today }],
            )
            .await?;
            on_tx!(tx, |c| audit::record(
                &mut **c,
                Some(actor),
                "verify",
                "person",
                &person.to_string(),
                &serde_json::json!({"fact": fact})
            )
            .await?);
        }
        _ => return Err(bad()),
    }
    Ok(())
}

/// Whether a record is now trusted (not a declaration).
async fn record_trusted(tx: &mut Tx, record: &str) -> Result<bool> {
    let parts: Vec<&str> = record.split(':').collect();
    let sql = match parts.as_slice() {
        ["person_group", _] => "SELECT source FROM person_group WHERE person_group_id = $1",
        ["employment", _] => "SELECT source FROM employment WHERE employment_id = $1",
        ["person", _, "rural"] => {
            "SELECT source FROM person_fact WHERE person_id = $1 AND fact = 'rural' ORDER BY person_fact_id DESC LIMIT 1"
        }
        ["person", _, "insured_since"] => {
            "SELECT source FROM person_fact WHERE person_id = $1 AND fact = 'insured_since' ORDER BY person_fact_id DESC LIMIT 1"
        }
        _ => return Ok(false),
    };
    let Ok(id) = parts[1].parse::<i64>() else { return Ok(false) };
    let source: Option<String> = on_tx!(tx, |c| sqlx::query_scalar(sql).bind(id).fetch_optional(&mut **c).await?);
    Ok(source.is_some_and(|s| crate::facts::trusted(&s)))
}
