//! The facts subsidy rules read, each with its source and date: a person's one-valued facts
//! (`person_fact`: residence, hukou and work county, rural hukou, insured since, monthly
//! pension, business started), priority-group memberships and employments. Who records a fact
//! decides its source: the county and city offices (and the system's own operators) record
//! `county_verified` facts; providers, employers and workers `declared` ones; the bureau's
//! imports of authorities' registers record the register's source ([`crate::fact_import`]).
//! A claim held on declared facts is released by the county's verification (`review::verify`).

use crate::audit::Actor;
use crate::{now, on_tx, with_pool, Db, Result, Tx};
use chrono::NaiveDate;
use serde::Serialize;

/// The source of what `actor` records: `county_verified` for the city and county offices and
/// for the system itself (no user), `declared` for everyone else.
pub async fn source_of(tx: &mut Tx, actor: Actor) -> Result<&'static str> {
    let Some(user) = actor else { return Ok("county_verified") };
    let role: Option<String> = on_tx!(tx, |c| sqlx::query_scalar("SELECT role FROM app_user WHERE user_id = $1")
        .bind(user)
        .fetch_optional(&mut **c)
        .await?);
    Ok(source_for(role.as_deref()))
}

/// Where a fact comes from: an authority's register, a county office that checked it, or a
/// declaration.
pub const SOURCES: [(&str, &str, &str); 6] = [
    ("poverty_roster", "扶贫部门建档立卡名单", "poverty-alleviation register"),
    ("civil_affairs", "民政、公安户籍登记", "civil-affairs and hukou register"),
    ("social_insurance", "社会保险登记", "social-insurance register"),
    ("market_regulation", "市场监管登记", "market-regulation register"),
    ("county_verified", "县区人社部门核实", "verified by the county office"),
    ("declared", "申报（未核实）", "declared, not verified"),
];

/// Whether a source is trusted without verification (anything but a declaration).
pub fn trusted(source: &str) -> bool {
    source != "declared"
}

/// The Chinese and English names of a source.
pub fn source_label(source: &str) -> (&'static str, &'static str) {
    SOURCES.iter().find(|s| s.0 == source).map(|s| (s.1, s.2)).unwrap_or(("未知来源", "unknown source"))
}

/// The source of what a user of this role records.
fn source_for(role: Option<&str>) -> &'static str {
    match role {
        Some("city_admin" | "county") => "county_verified",
        _ => "declared",
    }
}

/// [`source_of`], read outside a transaction.
pub async fn source_of_db(db: &Db, actor: Actor) -> Result<&'static str> {
    let Some(user) = actor else { return Ok("county_verified") };
    let role: Option<String> = with_pool!(db, |p| sqlx::query_scalar("SELECT role FROM app_user WHERE user_id = $1")
        .bind(user)
        .fetch_optional(p)
        .await?);
    Ok(source_for(role.as_deref()))
}

/// One statement of a one-valued fact.
#[derive(Debug, Clone)]
pub struct Statement<'a> {
    pub person_id: i64,
    /// `residence_county`, `hukou_county`, `work_county`, `rural`, `insured_since`,
    /// `monthly_pension`, `business_started`.
    pub fact: &'static str,
    /// What it states (None: there is none).
    pub value: Option<String>,
    pub source: &'a str,
    /// The date the source states it for.
    pub as_of: NaiveDate,
}

/// Records statements of one-valued facts (the person's columns are the caller's to update).
pub async fn state(tx: &mut Tx, actor: Actor, import: Option<i64>, facts: &[Statement<'_>]) -> Result<()> {
    let t = now();
    for part in facts.chunks(1000) {
        on_tx!(tx, |c| {
            let mut qb = sqlx::QueryBuilder::new(
                "INSERT INTO person_fact (person_id, fact, value, source, recorded_by, as_of, fact_import_id, recorded_at) ",
            );
            qb.push_values(part, |mut b, f| {
                b.push_bind(f.person_id)
                    .push_bind(f.fact)
                    .push_bind(f.value.clone())
                    .push_bind(f.source.to_owned())
                    .push_bind(actor)
                    .push_bind(f.as_of)
                    .push_bind(import)
                    .push_bind(t);
            });
            qb.build().execute(&mut **c).await?;
        });
    }
    Ok(())
}

/// A fact of a person as the person's page shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FactRow {
    /// `residence_county`, `group`, `employment`, …
    pub fact: String,
    /// What it states.
    pub value: String,
    /// Source code.
    pub source: String,
    /// Source in Chinese.
    pub source_zh: String,
    /// Source in English.
    pub source_en: String,
    /// Who recorded it (user name), if a user.
    pub recorded_by: Option<String>,
    /// The date the source states it for (or the date it was recorded).
    pub as_of: Option<NaiveDate>,
}

type FactTuple = (String, Option<String>, String, Option<String>, Option<NaiveDate>);

/// The facts in force of one person (the newest statement of each one-valued fact, every group
/// membership and employment), with their sources.
pub async fn of_person(db: &Db, person_id: i64) -> Result<Vec<FactRow>> {
    let rows: Vec<FactTuple> = with_pool!(db, |p| {
        sqlx::query_as(
            "SELECT f.fact, f.value, f.source, u.display_name, f.as_of FROM person_fact f \
             LEFT JOIN app_user u ON u.user_id = f.recorded_by WHERE f.person_id = $1 \
             AND f.person_fact_id = (SELECT MAX(g.person_fact_id) FROM person_fact g WHERE g.person_id = f.person_id AND g.fact = f.fact) \
             UNION ALL \
             SELECT 'group', g.group_code || ' ' || CAST(g.from_date AS TEXT) || '—' || COALESCE(CAST(g.to_date AS TEXT), ''), g.source, u.display_name, g.from_date \
             FROM person_group g LEFT JOIN app_user u ON u.user_id = g.recorded_by WHERE g.person_id = $1 \
             UNION ALL \
             SELECT 'employment', m.name || ' ' || CAST(y.from_date AS TEXT) || '—' || COALESCE(CAST(y.to_date AS TEXT), ''), y.source, u.display_name, y.from_date \
             FROM employment y JOIN employer m ON m.employer_id = y.employer_id LEFT JOIN app_user u ON u.user_id = y.recorded_by WHERE y.person_id = $1",
        )
        .bind(person_id)
        .fetch_all(p)
        .await?
    });
    Ok(rows
        .into_iter()
        .map(|(fact, value, source, by, as_of)| {
            let (zh, en) = source_label(&source);
            FactRow {
                fact,
                value: value.unwrap_or_else(|| "无 / none".into()),
                source_zh: zh.into(),
                source_en: en.into(),
                source,
                recorded_by: by,
                as_of,
            }
        })
        .collect())
}
