//! Payees' bank accounts (收款账户): where a subsidy is paid. A payee — a person (the worker's
//! own subsidies), an employer or a provider — has at most one account in force; recording a
//! new one retires the old, which is kept with when it was retired. An account the payee
//! records is `declared`; one an office records (the city, or the payee's county) is
//! `county_verified`. Numbers leave the store masked (first 4 and last 4 digits); each payment
//! keeps the account it was made to, and the check `shared_bank_account` (S12) looks for one
//! account in force for different payees.

use crate::audit::{self, Actor};
use crate::{in_tx, now, with_pool, Db, Result, StoreError};
use jineng_domain::Invalid;
use serde::{Deserialize, Serialize};

/// Who is paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PayeeKind {
    /// A person (劳动者本人).
    Person,
    /// An employer (用人单位).
    Employer,
    /// A provider (培训机构).
    Provider,
}

impl PayeeKind {
    /// Stable code, stored in `bank_account.payee_kind`.
    pub fn code(self) -> &'static str {
        match self {
            PayeeKind::Person => "person",
            PayeeKind::Employer => "employer",
            PayeeKind::Provider => "provider",
        }
    }

    /// From its code.
    pub fn parse(code: &str) -> Option<PayeeKind> {
        [PayeeKind::Person, PayeeKind::Employer, PayeeKind::Provider].into_iter().find(|k| k.code() == code)
    }

    /// The payee's table and the column of its id and county.
    fn table(self) -> (&'static str, &'static str) {
        match self {
            PayeeKind::Person => ("person", "person_id"),
            PayeeKind::Employer => ("employer", "employer_id"),
            PayeeKind::Provider => ("provider", "provider_id"),
        }
    }
}

/// An account to record.
#[derive(Debug, Clone, Default)]
pub struct NewAccount {
    /// The bank and branch (开户行).
    pub bank: String,
    /// The account number; spaces and hyphens are dropped.
    pub account_no: String,
    /// The account holder's name (户名).
    pub holder: String,
}

/// An account as it leaves the store: the number masked.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct AccountRow {
    pub bank_account_id: i64,
    /// `person`, `employer` or `provider`.
    pub payee_kind: String,
    pub payee_id: i64,
    /// The payee's name (a person's masked).
    pub payee_name: String,
    /// The payee's county.
    pub county_code: String,
    pub bank: String,
    /// The number, first 4 and last 4 digits shown.
    pub account_no: String,
    /// The holder's name (a person's masked).
    pub holder: String,
    /// `declared` (by the payee) or `county_verified` (by an office).
    pub source: String,
    /// Who recorded it (display name).
    pub recorded_by: Option<String>,
    pub recorded_at: chrono::DateTime<chrono::Utc>,
    /// When a newer account replaced it; none while in force.
    pub retired_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl AccountRow {
    fn masked(mut self) -> AccountRow {
        self.account_no = jineng_domain::id_number::mask(&self.account_no);
        if self.payee_kind == "person" {
            self.payee_name = jineng_domain::name::mask(&self.payee_name);
            self.holder = jineng_domain::name::mask(&self.holder);
        }
        self
    }
}

fn invalid(field: &str, code: &'static str, zh: &str, en: &str) -> StoreError {
    StoreError::invalid(field, Invalid::new(code, zh, en))
}

/// The number as stored: digits only, 8 to 32 of them, spaces and hyphens between groups
/// dropped.
pub fn normalize_number(raw: &str) -> Result<String> {
    let kept: String = raw.chars().filter(|c| !matches!(c, ' ' | '-' | '\u{3000}')).collect();
    if kept.is_empty() || kept.len() > 32 || !kept.chars().all(|c| c.is_ascii_digit()) || kept.len() < 8 {
        return Err(invalid(
            "account_no",
            "bank_account.number",
            "银行账号应为8至32位数字（可用空格分组）",
            "an account number is 8 to 32 digits (spaces between groups allowed)",
        ));
    }
    Ok(kept)
}

const SELECT: &str = "SELECT b.bank_account_id, b.payee_kind, b.payee_id, \
     COALESCE(p.name, e.name, v.name, '') AS payee_name, COALESCE(p.county_code, e.county_code, v.county_code, '') AS county_code, \
     b.bank, b.account_no, b.holder, b.source, u.display_name AS recorded_by, b.recorded_at, b.retired_at FROM bank_account b \
     LEFT JOIN person p ON b.payee_kind = 'person' AND p.person_id = b.payee_id \
     LEFT JOIN employer e ON b.payee_kind = 'employer' AND e.employer_id = b.payee_id \
     LEFT JOIN provider v ON b.payee_kind = 'provider' AND v.provider_id = b.payee_id \
     LEFT JOIN app_user u ON u.user_id = b.recorded_by";

/// A payee as registered.
#[derive(Debug, Clone)]
pub struct Payee {
    /// Its registered name (a person's in full: the caller masks what it shows).
    pub name: String,
    pub county: String,
}

/// The payee of this kind and id, or not found.
pub async fn payee(db: &Db, kind: PayeeKind, payee_id: i64) -> Result<Payee> {
    let (table, column) = kind.table();
    let sql = format!("SELECT name, county_code FROM {table} WHERE {column} = $1");
    let row: Option<(String, String)> =
        with_pool!(db, |p| sqlx::query_as(&sql).bind(payee_id).fetch_optional(p).await?);
    row.map(|(name, county)| Payee { name, county }).ok_or(StoreError::NotFound)
}

/// Who records an account.
#[derive(Debug, Clone, Copy)]
pub enum Recorder<'a> {
    /// The payee itself: the account is `declared`.
    Payee,
    /// An office: the city (`county` none) or a county office, which reaches its county's
    /// payees only. The account is `county_verified`.
    Office { county: Option<&'a str> },
}

/// Records the payee's account, retiring the one in force. The holder must be the payee's own
/// registered name (subsidies are paid only into the payee's own account); a payee that does
/// not exist, or lies outside a county office's county, is refused alike. The audit entry keeps
/// the numbers masked.
pub async fn record(
    db: &Db,
    actor: Actor,
    kind: PayeeKind,
    payee_id: i64,
    new: &NewAccount,
    by: Recorder<'_>,
) -> Result<AccountRow> {
    let bank = new.bank.trim();
    if bank.is_empty() || bank.chars().count() > 60 {
        return Err(invalid(
            "bank",
            "bank_account.bank",
            "请填写开户银行及网点（不超过60字）",
            "name the bank and branch (at most 60 characters)",
        ));
    }
    let number = normalize_number(&new.account_no)?;
    let holder = new.holder.trim();
    if holder.is_empty() || holder.chars().count() > 100 {
        return Err(invalid(
            "holder",
            "bank_account.holder",
            "请填写户名（不超过100字）",
            "name the holder (at most 100 characters)",
        ));
    }
    let unknown = || invalid("payee_id", "bank_account.payee_unknown", "未找到该收款人", "no such payee");
    let payee = payee(db, kind, payee_id).await.map_err(|e| match e {
        StoreError::NotFound => unknown(),
        e => e,
    })?;
    let source = match by {
        Recorder::Office { county: Some(mine) } if mine != payee.county => return Err(unknown()),
        Recorder::Office { .. } => "county_verified",
        Recorder::Payee => "declared",
    };
    if holder != payee.name.trim() {
        return Err(invalid(
            "holder",
            "bank_account.holder_not_payee",
            "户名须为收款人本人（单位）的登记名称：补贴只发放到本人或本单位的账户",
            "the holder must be the payee's own registered name: subsidies are paid only to the payee's own account",
        ));
    }
    let t = now();
    let id: i64 = in_tx!(db, |tx| {
        // The payee's account in force, locked by the retiring UPDATE; the unique index on the
        // account in force makes two recordings at once one after the other.
        let retired: Option<(i64, String, String, String, String)> = sqlx::query_as(
            "UPDATE bank_account SET retired_at = $1 WHERE payee_kind = $2 AND payee_id = $3 AND retired_at IS NULL \
             RETURNING bank_account_id, bank, account_no, holder, source",
        )
        .bind(t)
        .bind(kind.code())
        .bind(payee_id)
        .fetch_optional(&mut *tx)
        .await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO bank_account (payee_kind, payee_id, bank, account_no, holder, source, recorded_by, recorded_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING bank_account_id",
        )
        .bind(kind.code())
        .bind(payee_id)
        .bind(bank)
        .bind(&number)
        .bind(holder)
        .bind(source)
        .bind(actor)
        .bind(t)
        .fetch_one(&mut *tx)
        .await?;
        let before = retired.map(|(id, bank, no, holder, source)| {
            serde_json::json!({"bank_account_id": id, "bank": bank, "account_no": jineng_domain::id_number::mask(&no),
                "holder": holder, "source": source})
        });
        audit::record(
            &mut *tx,
            actor,
            "record_bank_account",
            kind.code(),
            &payee_id.to_string(),
            &serde_json::json!({"before": before, "after": {"bank_account_id": id, "bank": bank,
                "account_no": jineng_domain::id_number::mask(&number), "holder": holder, "source": source}}),
        )
        .await?;
        id
    });
    history(db, kind, payee_id).await?.into_iter().find(|a| a.bank_account_id == id).ok_or(StoreError::NotFound)
}

/// The payee's accounts, the one in force first, then the retired ones newest first.
pub async fn history(db: &Db, kind: PayeeKind, payee_id: i64) -> Result<Vec<AccountRow>> {
    let sql = format!(
        "{SELECT} WHERE b.payee_kind = $1 AND b.payee_id = $2 \
         ORDER BY CASE WHEN b.retired_at IS NULL THEN 0 ELSE 1 END, b.bank_account_id DESC LIMIT 50"
    );
    let rows: Vec<AccountRow> =
        with_pool!(db, |p| sqlx::query_as(&sql).bind(kind.code()).bind(payee_id).fetch_all(p).await?);
    Ok(rows.into_iter().map(AccountRow::masked).collect())
}

/// Accounts in force, of one county's payees if given, by payee kind if given (at most
/// `limit`, newest first).
pub async fn in_force(db: &Db, county: Option<&str>, kind: Option<PayeeKind>, limit: i64) -> Result<Vec<AccountRow>> {
    let sql = format!(
        "SELECT * FROM ({SELECT} WHERE b.retired_at IS NULL AND {}) a WHERE {} ORDER BY a.bank_account_id DESC LIMIT $3",
        crate::opt_eq("b.payee_kind", 1, kind.is_some(), "''"),
        crate::opt_eq("a.county_code", 2, county.is_some_and(|c| !c.is_empty()), "''")
    );
    let rows: Vec<AccountRow> = with_pool!(db, |p| sqlx::query_as(&sql)
        .bind(kind.map(PayeeKind::code).unwrap_or(""))
        .bind(county.unwrap_or(""))
        .bind(limit.clamp(1, 1000))
        .fetch_all(p)
        .await?);
    Ok(rows.into_iter().map(AccountRow::masked).collect())
}

/// SQL for the account in force of claim `c`'s payee (the payee's kind is the key of the
/// claim's `payee` JSON): the number, or NULL when the payee has recorded none.
pub const CLAIM_PAYEE_ACCOUNT: &str = "(SELECT b.account_no FROM bank_account b WHERE b.retired_at IS NULL AND ( \
     (c.payee LIKE '{\"provider\"%' AND b.payee_kind = 'provider' AND b.payee_id = c.provider_id) \
     OR (c.payee LIKE '{\"employer\"%' AND b.payee_kind = 'employer' AND b.payee_id = c.employer_id) \
     OR (c.payee LIKE '{\"person\"%' AND b.payee_kind = 'person' AND b.payee_id = c.person_id)))";
