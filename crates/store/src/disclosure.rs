//! Fund-use disclosure (资金公开, S12) and each fund's budget against its commitments (S6).
//!
//! The public tables never carry personal data: a cell counting 1–4 trainees or claims is
//! withheld ([`Suppression::Small`]); in a group whose total is published elsewhere exactly (a
//! fund's paid sum, on the same disclosure) one withheld cell would be that total minus the
//! others, so a second cell is withheld with it ([`Suppression::Complementary`]); and every total
//! these tables show adds up the published cells only ([`Totals`]), so no total minus the cells
//! shown gives back a withheld one. [`protect`] is the rule, [`RULE_ZH`] / [`RULE_EN`] say it.

use crate::audit;
use crate::funds::fund_known;
use crate::{in_tx, now, with_pool, Db, Result, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use jineng_domain::Invalid;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;

/// Counts below this are withheld.
pub const THRESHOLD: i64 = 5;

/// The most rows one open-data table gives (the rest is cut and the table says so).
pub const MAX_ROWS: usize = 100_000;

/// The disclosure rule, in Chinese (shown on the page and in the open data).
pub const RULE_ZH: &str = "为保护个人信息，人次或笔数为1至4的单元格不公开（页面显示“<5”，CSV 留空、JSON 为 null，并标明已隐去）。\
同一资金渠道中若只有一个单元格被隐去，再隐去该渠道中笔数最少的另一个单元格（显示“*”），使其无法由资金渠道的已拨付总额相减得出。\
表中所有合计只加总已公开的单元格，并注明隐去的单元格个数，因此任何合计减去公开单元格都得不到被隐去的数。";

/// The disclosure rule, in English.
pub const RULE_EN: &str = "To protect personal data, a cell counting 1 to 4 trainees or claims is withheld (shown as \"<5\"; \
empty in CSV, null in JSON, flagged as withheld). Where a fund has exactly one withheld cell, the fund's cell with the fewest \
claims is withheld too (shown as \"*\"), so that it cannot be found by subtracting the others from the fund's paid total. \
Every total in these tables adds up the published cells only and states how many cells it leaves out, so no total minus the \
cells shown gives a withheld figure.";

/// Why a cell is suppressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Suppression {
    /// It counts 1–4.
    Small,
    /// Suppression with a small cell so that the small one cannot be found by subtraction.
    Complementary,
}

impl Suppression {
    /// The code used in the open data.
    pub fn code(self) -> &'static str {
        match self {
            Suppression::Small => "small",
            Suppression::Complementary => "complementary",
        }
    }
}

/// The rule: which of the cells (by their counts, in order) are withheld. A count of 1–4 is
/// withheld; in each group (`group(i)` of cell `i`) with exactly one withheld cell, the other
/// cell with the smallest count (the first of equals) is withheld with it. Zero counts are not
/// cells (no row is published for them) and are never chosen as the companion.
pub fn protect<G: Eq + Hash>(counts: &[i64], group: impl Fn(usize) -> G) -> Vec<Option<Suppression>> {
    let mut out: Vec<Option<Suppression>> =
        counts.iter().map(|&c| (c > 0 && c < THRESHOLD).then_some(Suppression::Small)).collect();
    let mut groups: HashMap<G, Vec<usize>> = HashMap::new();
    for i in 0..counts.len() {
        groups.entry(group(i)).or_default().push(i);
    }
    for members in groups.values() {
        if members.iter().filter(|&&i| out[i].is_some()).count() != 1 {
            continue;
        }
        let other = members.iter().filter(|&&i| out[i].is_none() && counts[i] > 0).min_by_key(|&&i| (counts[i], i));
        if let Some(&i) = other {
            out[i] = Some(Suppression::Complementary);
        }
    }
    out
}

/// A total of published cells, and how many cells it leaves out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Totals {
    /// Sum of the published cells' counts.
    pub count: i64,
    /// Sum of the published cells' amounts, fen (money tables).
    pub amount_fen: i64,
    /// Cells withheld (not in the sums).
    pub suppressed_cells: i64,
}

impl Totals {
    fn add(&mut self, count: Option<i64>, amount: Option<i64>) {
        match count {
            Some(c) => {
                self.count += c;
                self.amount_fen += amount.unwrap_or(0);
            }
            None => self.suppressed_cells += 1,
        }
    }
}

/// Person-times completed per training provider and occupation (one cell).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TraineeCell {
    /// The provider (an organisation: public).
    pub provider_name: String,
    /// Its unified social credit code.
    pub provider_credit_code: String,
    /// Occupation code (national classification, or the city's list).
    pub occupation_code: String,
    pub occupation_name: String,
    /// Person-times completed; null when withheld.
    pub trainees: Option<i64>,
    /// Whether the cell is suppressed.
    pub suppressed: bool,
    /// Why: `small` (1–4) or `complementary` (suppressed with a small cell).
    pub suppression: Option<Suppression>,
}

/// Money paid per month (China time, by the day finance approved the batch), fund, program and
/// county (one cell).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MoneyCell {
    /// `YYYY-MM`.
    pub month: String,
    /// `employment_subsidy_fund` or `unemployment_insurance_fund`.
    pub fund_code: String,
    pub fund_name: String,
    /// The program of the class the paid certificate came from; null for claims not tied to a
    /// class's certificate (on-the-job, projects, equipment, …).
    pub program_code: Option<String>,
    pub program_name: Option<String>,
    /// County or district code (where the claim was filed).
    pub county_code: String,
    pub county_name: String,
    /// Claims paid; null when withheld.
    pub claims: Option<i64>,
    /// Amount paid, fen; null when withheld.
    pub amount_fen: Option<i64>,
    /// Whether the cell is suppressed.
    pub suppressed: bool,
    /// Why: `small` (1–4) or `complementary` (suppressed with a small cell).
    pub suppression: Option<Suppression>,
}

/// A fund as the public sees it: the earmark adopted for it, what was allocated, paid and
/// recovered.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FundDisclosure {
    pub fund_code: String,
    pub fund_name: String,
    /// The earmark in force, fen (null: none adopted yet; S6 leaves it pending).
    pub earmark_fen: Option<i64>,
    /// The document that adopted it.
    pub earmark_document: Option<String>,
    /// The day it was adopted.
    pub earmark_adopted_on: Option<NaiveDate>,
    /// Money allocated to the fund (资金下达), fen.
    pub allocated_fen: i64,
    /// Money paid from it (net of payments returned by the bank), fen; null when fewer than five
    /// claims were paid from it.
    pub paid_fen: Option<i64>,
    /// Money recovered into it (excess advances paid back), fen.
    pub recovered_fen: i64,
}

/// Everything the public disclosure shows, built at one moment.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Disclosure {
    /// When it was built.
    pub built_at: DateTime<Utc>,
    /// Each fund.
    pub funds: Vec<FundDisclosure>,
    /// Money cells, by month, fund, program and county.
    pub money: Vec<MoneyCell>,
    /// Trainee cells, by provider and occupation.
    pub trainees: Vec<TraineeCell>,
}

impl Disclosure {
    /// Totals of the published money cells, per fund (and `""` for all).
    pub fn money_totals(&self, year: Option<i32>) -> BTreeMap<String, Totals> {
        let mut t: BTreeMap<String, Totals> = BTreeMap::new();
        for c in self.money.iter().filter(|c| in_year(&c.month, year)) {
            t.entry(c.fund_code.clone()).or_default().add(c.claims, c.amount_fen);
            t.entry(String::new()).or_default().add(c.claims, c.amount_fen);
        }
        t
    }

    /// Totals of the published trainee cells.
    pub fn trainee_totals(&self) -> Totals {
        let mut t = Totals::default();
        for c in &self.trainees {
            t.add(c.trainees, None);
        }
        t
    }
}

/// Whether a `YYYY-MM` month lies in `year` (any month when no year is asked).
pub fn in_year(month: &str, year: Option<i32>) -> bool {
    year.is_none_or(|y| month.starts_with(&format!("{y:04}-")))
}

#[derive(sqlx::FromRow)]
struct TraineeRow {
    provider_name: String,
    provider_credit_code: String,
    occupation_code: String,
    occupation_name: String,
    trainees: i64,
}

/// A money cell's key: month, fund, program (if any), county.
type MoneyKey = (String, String, Option<String>, String);

#[derive(sqlx::FromRow)]
struct PaidRow {
    approved_at: Option<DateTime<Utc>>,
    fund_code: String,
    program_code: Option<String>,
    county_code: String,
    claims: i64,
    amount_fen: i64,
}

/// Person-times per provider and occupation: the completions the triggers keep per class
/// (migration 0033), summed over the classes (a few thousand rows at city scale, 244,424
/// classes at province scale), not every completion counted again.
async fn trainee_rows(db: &Db) -> Result<Vec<TraineeRow>> {
    Ok(with_pool!(db, |p| {
        sqlx::query_as(
        "SELECT v.name AS provider_name, v.credit_code AS provider_credit_code, k.occupation_code, o.name AS occupation_name, \
         CAST(SUM(m.completions) AS BIGINT) AS trainees \
         FROM class_completions m \
         JOIN training_class k ON k.class_id = m.class_id JOIN provider v ON v.provider_id = k.provider_id \
         JOIN occupation o ON o.occupation_code = k.occupation_code WHERE m.completions <> 0 \
         GROUP BY v.provider_id, v.name, v.credit_code, k.occupation_code, o.name ORDER BY v.name, v.provider_id, k.occupation_code"
    )
    .fetch_all(p)
    .await?
    }))
}

/// Payments that stand (paid, not returned) per batch, fund, program and county: the tally the
/// payments' triggers keep (migration 0032), one row a cell, not every payment.
async fn paid_rows(db: &Db) -> Result<Vec<PaidRow>> {
    Ok(with_pool!(db, |p| {
        sqlx::query_as(
        "SELECT b.approved_at, b.fund_code, NULLIF(t.program_code, '') AS program_code, t.county_code, t.claims, t.amount_fen \
         FROM paid_tally t JOIN payment_batch b ON b.batch_id = t.batch_id WHERE t.claims <> 0"
    )
    .fetch_all(p)
    .await?
    }))
}

async fn names(db: &Db, sql: &str) -> Result<HashMap<String, String>> {
    let rows: Vec<(String, String)> = with_pool!(db, |p| sqlx::query_as(sql).fetch_all(p).await?);
    Ok(rows.into_iter().collect())
}

/// Sums of the fund ledger per fund and kind of entry.
async fn ledger_sums(db: &Db) -> Result<HashMap<(String, String), i64>> {
    let rows: Vec<(String, String, i64)> = with_pool!(db, |p| sqlx::query_as(
        "SELECT fund_code, kind, CAST(SUM(amount_fen) AS BIGINT) FROM fund_entry GROUP BY fund_code, kind"
    )
    .fetch_all(p)
    .await?);
    Ok(rows.into_iter().map(|(f, k, s)| ((f, k), s)).collect())
}

/// The earmark in force per fund (the latest adopted).
async fn earmarks_in_force(db: &Db) -> Result<HashMap<String, Earmark>> {
    Ok(earmarks(db).await?.into_iter().map(|e| (e.fund_code.clone(), e)).collect())
}

/// Builds the public disclosure: the funds, the money paid and the trainees, with the rule
/// applied.
pub async fn disclosure(db: &Db) -> Result<Disclosure> {
    let fund_names = names(db, "SELECT fund_code, name_zh FROM fund ORDER BY fund_code").await?;
    let programs = names(db, "SELECT program_code, name_zh FROM program").await?;
    let counties = names(db, "SELECT county_code, name_zh FROM county").await?;

    // Money: per batch from the database, then per month (China time) here.
    let mut cube: BTreeMap<MoneyKey, (i64, i64)> = BTreeMap::new();
    for r in paid_rows(db).await? {
        let month = r.approved_at.map(|t| (t + chrono::Duration::hours(8)).format("%Y-%m").to_string());
        let e = cube.entry((month.unwrap_or_default(), r.fund_code, r.program_code, r.county_code)).or_default();
        e.0 += r.claims;
        e.1 += r.amount_fen;
    }
    let cells: Vec<_> = cube.into_iter().collect();
    let counts: Vec<i64> = cells.iter().map(|c| c.1 .0).collect();
    let withheld = protect(&counts, |i| cells[i].0 .1.clone());
    let mut paid_claims: HashMap<String, i64> = HashMap::new();
    let money: Vec<MoneyCell> = cells
        .into_iter()
        .zip(withheld)
        .map(|(((month, fund, program, county), (claims, amount)), w)| {
            *paid_claims.entry(fund.clone()).or_default() += claims;
            MoneyCell {
                month,
                fund_name: fund_names.get(&fund).cloned().unwrap_or_else(|| fund.clone()),
                fund_code: fund,
                program_name: program.as_ref().and_then(|p| programs.get(p).cloned()),
                program_code: program,
                county_name: counties.get(&county).cloned().unwrap_or_else(|| county.clone()),
                county_code: county,
                claims: w.is_none().then_some(claims),
                amount_fen: w.is_none().then_some(amount),
                suppressed: w.is_some(),
                suppression: w,
            }
        })
        .collect();

    let rows = trainee_rows(db).await?;
    let withheld = protect(&rows.iter().map(|r| r.trainees).collect::<Vec<_>>(), |_| ());
    let trainees = rows
        .into_iter()
        .zip(withheld)
        .map(|(r, w)| TraineeCell {
            provider_name: r.provider_name,
            provider_credit_code: r.provider_credit_code,
            occupation_code: r.occupation_code,
            occupation_name: r.occupation_name,
            trainees: w.is_none().then_some(r.trainees),
            suppressed: w.is_some(),
            suppression: w,
        })
        .collect();

    let sums = ledger_sums(db).await?;
    let sum = |f: &str, k: &str| sums.get(&(f.to_owned(), k.to_owned())).copied().unwrap_or(0);
    let mut earmarks = earmarks_in_force(db).await?;
    let funds = fund_names
        .iter()
        .map(|(code, name)| {
            let e = earmarks.remove(code);
            let paid = sum(code, "payment") - sum(code, "refund");
            // A fund that paid 1–4 claims would show what they were paid.
            let few = (1..THRESHOLD).contains(&paid_claims.get(code).copied().unwrap_or(0));
            FundDisclosure {
                fund_code: code.clone(),
                fund_name: name.clone(),
                earmark_fen: e.as_ref().map(|e| e.amount_fen),
                earmark_document: e.as_ref().map(|e| e.document.clone()),
                earmark_adopted_on: e.as_ref().map(|e| e.adopted_on),
                allocated_fen: sum(code, "allocation"),
                paid_fen: (!few).then_some(paid),
                recovered_fen: sum(code, "recovery"),
            }
        })
        .collect::<Vec<_>>();
    let mut funds = funds;
    funds.sort_by(|a, b| a.fund_code.cmp(&b.fund_code));
    Ok(Disclosure { built_at: now(), funds, money, trainees })
}

/// An earmark adopted for a fund (S6).
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Earmark {
    pub fund_code: String,
    /// Amount, fen.
    pub amount_fen: i64,
    /// The document that adopted it.
    pub document: String,
    /// The day it was adopted.
    pub adopted_on: NaiveDate,
    /// Who adopted it.
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
    /// The finance bureau's proposal it adopted.
    pub proposal_id: Option<i64>,
}

/// Every earmark adopted, oldest first (the last of each fund is in force).
pub async fn earmarks(db: &Db) -> Result<Vec<Earmark>> {
    Ok(with_pool!(db, |p| {
        sqlx::query_as(
        "SELECT m.fund_code, m.amount_fen, m.document, m.adopted_on, u.username AS recorded_by, m.recorded_at, m.proposal_id \
         FROM fund_earmark m JOIN app_user u ON u.user_id = m.recorded_by \
         ORDER BY m.fund_code, m.adopted_on, m.recorded_at, m.fund_earmark_id"
    )
    .fetch_all(p)
    .await?
    }))
}

/// The earmark's amount and the adopting document, checked.
fn check_amount(amount_fen: i64) -> Result<()> {
    if !(0..=jineng_domain::money::MAX_AMOUNT_FEN).contains(&amount_fen) {
        return Err(StoreError::invalid(
            "amount_fen",
            Invalid::new("amount.range", "金额须在0至100亿元之间", "the amount must be between 0 and 10 billion yuan"),
        ));
    }
    Ok(())
}

/// A text the user must give (reasoning, reason, document), trimmed and bounded.
fn required_text(field: &'static str, text: &str, max: usize, zh: &str, en: &str) -> Result<String> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > max {
        let code = match field {
            "document" => "earmark.document",
            "reasoning" => "reasoning.empty",
            _ => "reason.empty",
        };
        return Err(StoreError::invalid(field, Invalid::new(code, zh, en)));
    }
    Ok(text.to_owned())
}

/// A proposal for a fund's earmark (S6), from the finance bureau to the city.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct EarmarkProposal {
    pub proposal_id: i64,
    pub fund_code: String,
    /// Proposed amount, fen.
    pub amount_fen: i64,
    /// The finance bureau's reasoning (the surplus, the years, the estimate).
    pub reasoning: String,
    /// `proposed`, `adopted` or `returned`.
    pub status: String,
    /// Who proposed (username).
    pub proposed_by: String,
    pub proposed_at: DateTime<Utc>,
    /// Who decided (username).
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    /// Why adopted or returned.
    pub decision_reason: Option<String>,
}

/// Every earmark proposal, newest first.
pub async fn earmark_proposals(db: &Db) -> Result<Vec<EarmarkProposal>> {
    Ok(with_pool!(db, |p| {
        sqlx::query_as(
        "SELECT e.proposal_id, e.fund_code, e.amount_fen, e.reasoning, e.status, u.username AS proposed_by, e.proposed_at, \
         d.username AS decided_by, e.decided_at, e.decision_reason FROM earmark_proposal e \
         JOIN app_user u ON u.user_id = e.proposed_by LEFT JOIN app_user d ON d.user_id = e.decided_by \
         ORDER BY e.proposal_id DESC"
    )
    .fetch_all(p)
    .await?
    }))
}

/// The finance bureau proposes a fund's earmark (S6: X亿元 from the unemployment-insurance
/// fund's surplus, pending in the plan) with its reasoning. One open proposal per fund; the
/// city HR admin adopts or returns it.
pub async fn propose_earmark(db: &Db, actor: i64, fund: &str, amount_fen: i64, reasoning: &str) -> Result<i64> {
    fund_known(fund)?;
    check_amount(amount_fen)?;
    let reasoning = required_text(
        "reasoning",
        reasoning,
        2000,
        "请写明测算依据（2000字以内）",
        "give the reasoning behind the amount (at most 2,000 characters)",
    )?;
    let id = in_tx!(db, |tx| {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO earmark_proposal (fund_code, amount_fen, reasoning, status, proposed_by, proposed_at) \
             VALUES ($1, $2, $3, 'proposed', $4, $5) RETURNING proposal_id",
        )
        .bind(fund)
        .bind(amount_fen)
        .bind(&reasoning)
        .bind(actor)
        .bind(now())
        .fetch_one(&mut *tx)
        .await?;
        audit::record(
            &mut *tx,
            Some(actor),
            "propose_earmark",
            "fund",
            fund,
            &serde_json::json!({"proposal": id, "amount_fen": amount_fen, "reasoning": reasoning}),
        )
        .await?;
        id
    });
    Ok(id)
}

/// The city's decision on an earmark proposal.
#[derive(Debug, Clone)]
pub enum EarmarkDecision {
    /// Adopted by a document on a day: the earmark in force from then.
    Adopt { document: String, adopted_on: NaiveDate },
    /// Returned to the finance bureau.
    Return,
}

/// The city HR admin adopts an earmark proposal (a new earmark in force, with the adopting
/// document) or returns it, with a reason. A proposal is decided once: of two decisions at
/// once, one wins and the other is refused.
pub async fn decide_earmark(
    db: &Db,
    actor: i64,
    proposal_id: i64,
    decision: &EarmarkDecision,
    reason: &str,
) -> Result<()> {
    let reason = required_text(
        "reason",
        reason,
        2000,
        "请填写采纳或退回的理由",
        "give the reason for adopting or returning it",
    )?;
    let adoption = match decision {
        EarmarkDecision::Adopt { document, adopted_on } => Some((
            required_text(
                "document",
                document,
                200,
                "采纳须写明批准文件（200字以内）",
                "name the document that adopts it (at most 200 characters)",
            )?,
            *adopted_on,
        )),
        EarmarkDecision::Return => None,
    };
    let t = now();
    in_tx!(db, |tx| {
        // The write comes first, so that of two decisions at once the second waits for the first
        // (SQLite takes the write lock here; a read first would leave it a stale snapshot).
        let n = sqlx::query(
            "UPDATE earmark_proposal SET status = $1, decided_by = $2, decided_at = $3, decision_reason = $4 \
             WHERE proposal_id = $5 AND status = 'proposed'",
        )
        .bind(if adoption.is_some() { "adopted" } else { "returned" })
        .bind(actor)
        .bind(t)
        .bind(&reason)
        .bind(proposal_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let row: Option<(String, i64)> =
            sqlx::query_as("SELECT fund_code, amount_fen FROM earmark_proposal WHERE proposal_id = $1")
                .bind(proposal_id)
                .fetch_optional(&mut *tx)
                .await?;
        let Some((fund, amount_fen)) = row else {
            return Err(StoreError::NotFound);
        };
        if n == 0 {
            return Err(StoreError::conflict(
                "earmark_proposal.decided",
                None,
                "该建议已处理",
                "this proposal has already been decided",
            ));
        }
        if let Some((document, adopted_on)) = &adoption {
            sqlx::query(
                "INSERT INTO fund_earmark (fund_code, amount_fen, document, adopted_on, recorded_by, recorded_at, proposal_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&fund)
            .bind(amount_fen)
            .bind(document)
            .bind(adopted_on)
            .bind(actor)
            .bind(t)
            .bind(proposal_id)
            .execute(&mut *tx)
            .await?;
        }
        audit::record(
            &mut *tx,
            Some(actor),
            if adoption.is_some() { "adopt_earmark" } else { "return_earmark" },
            "earmark_proposal",
            &proposal_id.to_string(),
            &serde_json::json!({
                "fund": fund, "amount_fen": amount_fen, "reason": reason,
                "document": adoption.as_ref().map(|a| &a.0), "adopted_on": adoption.as_ref().map(|a| a.1),
            }),
        )
        .await?;
    });
    Ok(())
}

/// Claim statuses whose money is decided and not yet paid: decided by the engine (held for
/// verification included), approved, on notice, in a batch, or returned by the bank.
pub const COMMITTED_STATUSES: [&str; 6] =
    ["needs_verification", "decided", "approved", "on_notice", "in_batch", "payment_failed"];

/// A fund's budget against its commitments (S6), for finance and the city.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FundBudget {
    pub fund_code: String,
    pub fund_name: String,
    /// The earmark in force, fen (null: none adopted).
    pub earmark_fen: Option<i64>,
    pub earmark_document: Option<String>,
    pub earmark_adopted_on: Option<NaiveDate>,
    /// Allocated to the fund, fen.
    pub allocated_fen: i64,
    /// Decided and not yet paid (granted claims not rejected, not paid), fen.
    pub committed_fen: i64,
    /// Paid, net of payments returned by the bank, fen.
    pub paid_fen: i64,
    /// Recovered (excess advances paid back), fen.
    pub recovered_fen: i64,
    /// Recoveries due and not yet recorded, fen.
    pub recovery_due_fen: i64,
    /// The fund's balance (allocated − paid + recovered), fen.
    pub balance_fen: i64,
    /// What the fund is bound to: paid − recovered + committed, fen.
    pub exposure_fen: i64,
    /// Earmark − exposure, fen (negative: over-committed); null without an earmark.
    pub headroom_fen: Option<i64>,
    /// The commitments exceed the earmark.
    pub over_committed: bool,
    /// The money decided and not yet paid exceeds the balance (more must be allocated).
    pub short_of_allocation: bool,
}

/// Each fund's earmark, allocations, money decided not yet paid, paid and recovered, with a
/// warning when the commitments exceed the earmark.
pub async fn budget(db: &Db) -> Result<Vec<FundBudget>> {
    let funds: Vec<(String, String, i64)> =
        with_pool!(db, |p| sqlx::query_as("SELECT fund_code, name_zh, balance_fen FROM fund ORDER BY fund_code")
            .fetch_all(p)
            .await?);
    let sums = ledger_sums(db).await?;
    let sum = |f: &str, k: &str| sums.get(&(f.to_owned(), k.to_owned())).copied().unwrap_or(0);
    let marks: Vec<String> = (1..=COMMITTED_STATUSES.len()).map(|i| format!("${i}")).collect();
    // From the tally the triggers keep per county, fund, status and outcome (0026), not the claims.
    let sql = format!(
        "SELECT fund, CAST(SUM(CASE WHEN outcome IN ('approved', 'reduced') AND status IN ({}) THEN amount_fen ELSE 0 END) AS BIGINT), \
         CAST(SUM(CASE WHEN status = 'recovery_due' THEN amount_fen ELSE 0 END) AS BIGINT) \
         FROM claim_tally WHERE status IN ({}, 'recovery_due') GROUP BY fund",
        marks.join(", "),
        marks.join(", ")
    );
    let open: Vec<(String, i64, i64)> = with_pool!(db, |p| {
        let mut q = sqlx::query_as(&sql);
        for s in COMMITTED_STATUSES {
            q = q.bind(s);
        }
        q.fetch_all(p).await?
    });
    let open: HashMap<String, (i64, i64)> = open.into_iter().map(|(f, c, r)| (f, (c, r))).collect();
    let mut earmarks = earmarks_in_force(db).await?;
    Ok(funds
        .into_iter()
        .map(|(code, name, balance)| {
            let e = earmarks.remove(&code);
            let (committed, recovery_due) = open.get(&code).copied().unwrap_or((0, 0));
            let paid = sum(&code, "payment") - sum(&code, "refund");
            let recovered = sum(&code, "recovery");
            let exposure = paid - recovered + committed;
            let headroom = e.as_ref().map(|e| e.amount_fen - exposure);
            FundBudget {
                fund_name: name,
                earmark_fen: e.as_ref().map(|e| e.amount_fen),
                earmark_document: e.as_ref().map(|e| e.document.clone()),
                earmark_adopted_on: e.as_ref().map(|e| e.adopted_on),
                allocated_fen: sum(&code, "allocation"),
                committed_fen: committed,
                paid_fen: paid,
                recovered_fen: recovered,
                recovery_due_fen: recovery_due,
                balance_fen: balance,
                exposure_fen: exposure,
                headroom_fen: headroom,
                over_committed: headroom.is_some_and(|h| h < 0),
                short_of_allocation: committed > balance,
                fund_code: code,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(counts: &[i64], groups: &[u8]) -> Vec<Option<Suppression>> {
        protect(counts, |i| groups[i])
    }

    #[test]
    fn small_counts_are_withheld_and_a_lone_one_gets_a_companion() {
        use Suppression::*;
        assert_eq!(shown(&[3, 12, 7, 40], &[0, 0, 0, 0]), vec![Some(Small), None, Some(Complementary), None]);
        // Two small cells protect each other; groups are protected apart.
        assert_eq!(
            shown(&[1, 4, 9, 2, 5, 6], &[0, 0, 0, 1, 1, 1]),
            vec![Some(Small), Some(Small), None, Some(Small), Some(Complementary), None]
        );
        assert_eq!(shown(&[5, 6, 100], &[0, 0, 0]), vec![None, None, None]);
        // A group of one small cell has no companion: the caller withholds its total.
        assert_eq!(shown(&[2], &[0]), vec![Some(Small)]);
    }

    proptest::proptest! {
        /// Whatever the counts and groups: every cell of 1–4 is suppressed, and a group with a
        /// suppressed cell has at least two of them unless it has only one cell.
        #[test]
        fn a_suppressed_cell_never_stands_alone_in_its_group(
            cells in proptest::collection::vec((0i64..40, 0u8..4), 0..60)
        ) {
            let counts: Vec<i64> = cells.iter().map(|c| c.0).collect();
            let w = protect(&counts, |i| cells[i].1);
            for (i, &c) in counts.iter().enumerate() {
                proptest::prop_assert_eq!(w[i] == Some(Suppression::Small), (1..THRESHOLD).contains(&c));
            }
            for g in 0u8..4 {
                let members: Vec<usize> = (0..cells.len()).filter(|&i| cells[i].1 == g && counts[i] > 0).collect();
                let suppressed = members.iter().filter(|&&i| w[i].is_some()).count();
                proptest::prop_assert!(suppressed != 1 || members.len() == 1, "group {g}: {cells:?} {w:?}");
                proptest::prop_assert!(members.iter().all(|&i| counts[i] > 0 || w[i].is_none()));
            }
        }
    }

    #[test]
    fn no_published_total_minus_published_cells_gives_a_withheld_cell() {
        let counts = [3, 12, 7, 40, 1, 9];
        let w = protect(&counts, |_| ());
        let mut t = Totals::default();
        for (c, w) in counts.iter().zip(&w) {
            t.add(w.is_none().then_some(*c), None);
        }
        let published: i64 = counts.iter().zip(&w).filter(|(_, w)| w.is_none()).map(|(c, _)| c).sum();
        assert_eq!(t.count - published, 0, "the total is the published cells' sum");
        assert_eq!(t.suppressed_cells, 2);
    }
}
