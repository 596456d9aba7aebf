//! Funds (资金渠道) and their balances: money allocated to a fund, and the ledger of every
//! entry with the balance after it. [`credit_fund!`] puts money in (allocation, refund,
//! recovery) inside the caller's transaction.

use crate::audit;
use crate::{in_tx, now, with_pool, Db, Result, StoreError};
use jineng_domain::Invalid;
use serde::Serialize;

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
pub(crate) use credit_fund;

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

pub(crate) fn fund_known(fund: &str) -> Result<()> {
    if matches!(fund, "employment_subsidy_fund" | "unemployment_insurance_fund") {
        Ok(())
    } else {
        Err(StoreError::invalid("fund", Invalid::new("fund.unknown", "资金渠道不存在", "unknown fund")))
    }
}

/// Records money allocated to a fund (资金下达); returns the new balance.
pub async fn allocate(db: &Db, actor: i64, fund: &str, amount_fen: i64, note: &str) -> Result<i64> {
    fund_known(fund)?;
    if amount_fen <= 0 || amount_fen > jineng_domain::money::MAX_AMOUNT_FEN {
        return Err(StoreError::invalid(
            "amount_fen",
            Invalid::new(
                "amount.range",
                "金额须大于0且不超过100亿元",
                "the amount must be positive and at most 10 billion yuan",
            ),
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
