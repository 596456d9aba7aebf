//! The bureau imports the authorities' registers — the poverty-alleviation roster, hukou
//! (civil affairs), social insurance and pensions, employment records, the market-regulation
//! register — as `.xlsx` or CSV. Each row is checked (ID number, name against the real-name
//! registry, dates, codes); an import lands whole or not at all and a refusal names every wrong
//! row and column. People the registry does not hold are counted and left out (a register
//! covers far more people than are in training). What lands becomes facts with the register as
//! their source: claims resting on them need no verification.

use crate::audit::{self, Actor};
use crate::roster::RowError;
use crate::sheet::Cell;
use crate::{now, on_tx, with_pool, Db, Result, Tx};
use chrono::NaiveDate;
use jineng_domain::{CreditCode, IdNumber, Invalid, PriorityGroup};
use serde::Serialize;
use std::collections::HashMap;

/// Columns read from each row (the widest register).
const WIDTH: usize = 5;
/// Rows per statement.
const BATCH: usize = 1000;

/// A register the bureau imports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Register {
    /// 扶贫部门建档立卡名单: priority-group memberships with their periods.
    PovertyRoster,
    /// 户籍登记: hukou county and rural hukou.
    CivilAffairs,
    /// 社会保险登记: insured since (unemployment insurance) and monthly pension.
    SocialInsurance,
    /// 就业登记（社保缴费单位）: employments with employer and period.
    Employment,
    /// 市场主体登记: the date a person's own business was registered (P8).
    MarketRegulation,
}

impl Register {
    /// Every register.
    pub const ALL: [Register; 5] = [
        Register::PovertyRoster,
        Register::CivilAffairs,
        Register::SocialInsurance,
        Register::Employment,
        Register::MarketRegulation,
    ];

    /// The code, as in addresses and the `fact_import` table.
    pub fn code(self) -> &'static str {
        match self {
            Register::PovertyRoster => "poverty_roster",
            Register::CivilAffairs => "civil_affairs",
            Register::SocialInsurance => "social_insurance",
            Register::Employment => "employment",
            Register::MarketRegulation => "market_regulation",
        }
    }

    /// Parses a code.
    pub fn parse(code: &str) -> Option<Register> {
        Register::ALL.into_iter().find(|r| r.code() == code)
    }

    /// Chinese name.
    pub fn zh(self) -> &'static str {
        match self {
            Register::PovertyRoster => "扶贫部门建档立卡名单",
            Register::CivilAffairs => "户籍登记（民政、公安）",
            Register::SocialInsurance => "社会保险参保及养老金领取名单",
            Register::Employment => "就业登记（社保缴费单位）",
            Register::MarketRegulation => "市场主体登记（经营者）",
        }
    }

    /// English name.
    pub fn en(self) -> &'static str {
        match self {
            Register::PovertyRoster => "poverty-alleviation register",
            Register::CivilAffairs => "hukou register",
            Register::SocialInsurance => "social insurance and pensions",
            Register::Employment => "employment records",
            Register::MarketRegulation => "market-regulation register",
        }
    }

    /// The source the facts it brings are recorded with.
    pub fn source(self) -> &'static str {
        match self {
            Register::PovertyRoster => "poverty_roster",
            Register::CivilAffairs => "civil_affairs",
            Register::SocialInsurance | Register::Employment => "social_insurance",
            Register::MarketRegulation => "market_regulation",
        }
    }

    /// Column headers of its template, Chinese first.
    pub fn headers(self) -> &'static [&'static str] {
        match self {
            Register::PovertyRoster => &[
                "身份证号 ID number",
                "姓名 Name",
                "人员类别 Group code",
                "起始日期 From (YYYY-MM-DD)",
                "终止日期 To (可空 optional)",
            ],
            Register::CivilAffairs => {
                &["身份证号 ID number", "姓名 Name", "户籍县区代码 Hukou county code", "农村户籍 Rural (是/否)"]
            }
            Register::SocialInsurance => &[
                "身份证号 ID number",
                "姓名 Name",
                "失业保险参保起始日期 Insured since (可空 optional)",
                "按月领取养老金 Monthly pension (是/否)",
            ],
            Register::Employment => &[
                "身份证号 ID number",
                "姓名 Name",
                "单位统一社会信用代码 Employer credit code",
                "入职日期 From (YYYY-MM-DD)",
                "离职日期 To (可空 optional)",
            ],
            Register::MarketRegulation => &["身份证号 ID number", "姓名 Name", "成立日期 Business registered on"],
        }
    }
}

/// What one row of a register states.
#[derive(Debug, Clone)]
enum Says {
    Group { group: PriorityGroup, from: NaiveDate, to: Option<NaiveDate> },
    Hukou { county: String, rural: bool },
    Insurance { since: Option<NaiveDate>, pension: bool },
    Job { employer: String, from: NaiveDate, to: Option<NaiveDate> },
    Business { started: NaiveDate },
}

/// A row that parsed.
#[derive(Debug, Clone)]
pub struct RegisterRow {
    row: usize,
    id: IdNumber,
    name: String,
    says: Says,
}

const LETTERS: [&str; WIDTH] = ["A", "B", "C", "D", "E"];

fn err(reg: Register, row: usize, col: usize, reason: impl Into<String>) -> RowError {
    let header = reg.headers().get(col).map(|h| h.split(' ').next().unwrap_or(h)).unwrap_or("");
    RowError { row, column: format!("{} {header}", LETTERS[col]), reason: reason.into() }
}

/// The template of a register: its header row, the ID column as text.
pub fn template(reg: Register) -> std::result::Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let text = Format::new().set_num_format("@");
    let ws = wb.add_worksheet();
    ws.set_name(reg.zh().chars().take(20).collect::<String>())?;
    for (i, h) in reg.headers().iter().enumerate() {
        ws.write_string_with_format(0, i as u16, *h, &bold)?;
        ws.set_column_width(i as u16, 24)?;
    }
    ws.set_column_format(0, &text)?;
    wb.save_to_buffer()
}

fn date(reg: Register, row: usize, col: usize, c: &Option<Cell>, errors: &mut Vec<RowError>) -> Option<NaiveDate> {
    match c {
        None => None,
        Some(Ok(d)) => match d.replace('/', "-").parse::<NaiveDate>() {
            Ok(d) => Some(d),
            Err(_) => {
                errors.push(err(reg, row, col, format!("日期“{d}”无效，应为 YYYY-MM-DD / bad date")));
                None
            }
        },
        Some(Err(e)) => {
            errors.push(err(reg, row, col, *e));
            None
        }
    }
}

fn yes_no(reg: Register, row: usize, col: usize, c: &Option<Cell>, errors: &mut Vec<RowError>) -> Option<bool> {
    match c.as_ref().map(|c| c.as_deref()) {
        Some(Ok("是" | "Y" | "y" | "yes" | "1" | "true")) => Some(true),
        Some(Ok("否" | "N" | "n" | "no" | "0" | "false")) | None => Some(false),
        Some(Ok(other)) => {
            errors.push(err(reg, row, col, format!("应填“是”或“否”，不是“{other}” / yes or no")));
            None
        }
        Some(Err(e)) => {
            errors.push(err(reg, row, col, *e));
            None
        }
    }
}

/// Parses an uploaded register (`.xlsx` or CSV): file-level problems are an `Err`; row problems
/// are returned with the rows that parsed. Pure: call it off the async threads.
pub fn parse(reg: Register, bytes: &[u8]) -> std::result::Result<(Vec<RegisterRow>, Vec<RowError>), Invalid> {
    let rows = crate::sheet::read_template::<WIDTH>(bytes, reg.headers())?;
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let mut seen: HashMap<(String, String), usize> = HashMap::new();
    for (row, cells) in rows {
        let before = errors.len();
        let id = match &cells[0] {
            None => {
                errors.push(err(reg, row, 0, "身份证号为空 / the ID number is empty"));
                None
            }
            Some(Err(e)) => {
                errors.push(err(reg, row, 0, *e));
                None
            }
            Some(Ok(s)) => IdNumber::parse(s).map_err(|e| errors.push(err(reg, row, 0, e.to_string()))).ok(),
        };
        let name = match &cells[1] {
            Some(Ok(n)) if n.chars().count() <= 50 => Some(n.clone()),
            _ => {
                errors.push(err(reg, row, 1, "姓名为空或过长 / the name is empty or too long"));
                None
            }
        };
        let says = match reg {
            Register::PovertyRoster => {
                let group = match &cells[2] {
                    Some(Ok(code)) => {
                        PriorityGroup::parse(code).map_err(|e| errors.push(err(reg, row, 2, e.to_string()))).ok()
                    }
                    _ => {
                        errors.push(err(reg, row, 2, "人员类别为空 / the group is empty"));
                        None
                    }
                };
                let from = date(reg, row, 3, &cells[3], &mut errors);
                if from.is_none() && cells[3].is_none() {
                    errors.push(err(reg, row, 3, "起始日期为空 / the start date is empty"));
                }
                let to = date(reg, row, 4, &cells[4], &mut errors);
                if let (Some(f), Some(t)) = (from, to) {
                    if t < f {
                        errors.push(err(reg, row, 4, "终止日期早于起始日期 / ends before it starts"));
                    }
                }
                group.zip(from).map(|(group, from)| Says::Group { group, from, to })
            }
            Register::CivilAffairs => {
                let county = match &cells[2] {
                    Some(Ok(c)) if c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit()) => Some(c.clone()),
                    _ => {
                        errors.push(err(reg, row, 2, "县区代码应为6位数字 / a county code is 6 digits"));
                        None
                    }
                };
                let rural = yes_no(reg, row, 3, &cells[3], &mut errors);
                county.zip(rural).map(|(county, rural)| Says::Hukou { county, rural })
            }
            Register::SocialInsurance => {
                let since = date(reg, row, 2, &cells[2], &mut errors);
                yes_no(reg, row, 3, &cells[3], &mut errors).map(|pension| Says::Insurance { since, pension })
            }
            Register::Employment => {
                let employer = match &cells[2] {
                    // A code issued before the check digit was enforced names its employer too (the
                    // employer must be registered, which the import checks).
                    Some(Ok(c)) => CreditCode::parse_legacy(c)
                        .map(|(c, _)| c)
                        .map_err(|e| errors.push(err(reg, row, 2, e.to_string())))
                        .ok(),
                    _ => {
                        errors.push(err(reg, row, 2, "统一社会信用代码为空 / the credit code is empty"));
                        None
                    }
                };
                let from = date(reg, row, 3, &cells[3], &mut errors);
                if cells[3].is_none() {
                    errors.push(err(reg, row, 3, "入职日期为空 / the start date is empty"));
                }
                let to = date(reg, row, 4, &cells[4], &mut errors);
                employer.zip(from).map(|(e, from)| Says::Job { employer: e.to_string(), from, to })
            }
            Register::MarketRegulation => {
                let started = date(reg, row, 2, &cells[2], &mut errors);
                if cells[2].is_none() {
                    errors.push(err(reg, row, 2, "成立日期为空 / the date is empty"));
                }
                started.map(|started| Says::Business { started })
            }
        };
        if errors.len() > before {
            continue;
        }
        if let (Some(id), Some(name), Some(says)) = (id, name, says) {
            // The same person twice is an error where a person has one value (not for groups
            // and employments, of which a person may have several).
            let key = match &says {
                Says::Group { group, from, .. } => (id.as_str().to_owned(), format!("{}:{from}", group.code())),
                Says::Job { employer, from, .. } => (id.as_str().to_owned(), format!("{employer}:{from}")),
                _ => (id.as_str().to_owned(), String::new()),
            };
            if let Some(first) = seen.insert(key, row) {
                errors.push(err(reg, row, 0, format!("与第{first}行重复 / the same as row {first}")));
                continue;
            }
            out.push(RegisterRow { row, id, name, says });
        }
    }
    if out.is_empty() && errors.is_empty() {
        return Err(Invalid::new("register.empty", "文件没有数据行", "the file has no rows"));
    }
    Ok((out, errors))
}

/// What an import did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Imported {
    /// The import record.
    pub fact_import_id: i64,
    /// Rows recorded as facts.
    pub recorded: usize,
    /// Rows of people the registry does not hold (left out).
    pub not_registered: usize,
}

/// A past import.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ImportRow {
    pub fact_import_id: i64,
    /// Register code.
    pub kind: String,
    pub file_name: String,
    /// Rows recorded.
    pub row_count: i64,
    /// Who imported it.
    pub imported_by: Option<String>,
    pub imported_at: chrono::DateTime<chrono::Utc>,
}

/// The imports so far, newest first.
pub async fn list(db: &Db, limit: i64) -> Result<Vec<ImportRow>> {
    Ok(with_pool!(db, |p| sqlx::query_as(
        "SELECT i.fact_import_id, i.kind, i.file_name, i.row_count, u.display_name AS imported_by, i.imported_at \
         FROM fact_import i LEFT JOIN app_user u ON u.user_id = i.imported_by ORDER BY i.fact_import_id DESC LIMIT $1"
    )
    .bind(limit)
    .fetch_all(p)
    .await?))
}

fn cap(mut errors: Vec<RowError>) -> Vec<RowError> {
    errors.sort_by(|a, b| (a.row, &a.column).cmp(&(b.row, &b.column)));
    let max = crate::sheet::MAX_ERRORS;
    if errors.len() > max {
        let more = errors.len() - max;
        let next = errors[max].row;
        errors.truncate(max);
        errors.push(RowError {
            row: next,
            column: "…".into(),
            reason: format!("另有 {more} 处错误未列出，请先改正以上错误 / {more} more errors not listed"),
        });
    }
    errors
}

/// Imports parsed rows: checks them against the registry (names, counties, employers), then
/// records every fact in one transaction, or nothing and the wrong rows.
pub async fn import(
    db: &Db,
    actor: Actor,
    reg: Register,
    file_name: &str,
    rows: Vec<RegisterRow>,
    mut errors: Vec<RowError>,
) -> Result<std::result::Result<Imported, Vec<RowError>>> {
    let started = std::time::Instant::now();
    // People by ID number, a thousand at a time.
    let mut people: HashMap<String, (i64, String)> = HashMap::with_capacity(rows.len());
    match db {
        // PostgreSQL: the whole file's ID numbers as one array.
        Db::Postgres(p) => {
            let ids: Vec<String> = rows.iter().map(|r| r.id.as_str().to_owned()).collect();
            let found: Vec<(i64, String, String)> =
                sqlx::query_as("SELECT person_id, id_number, name FROM person WHERE id_number = ANY($1)")
                    .bind(ids)
                    .fetch_all(p)
                    .await?;
            people.extend(found.into_iter().map(|(id, number, name)| (number, (id, name))));
        }
        Db::Sqlite(p) => {
            for part in rows.chunks(BATCH) {
                let mut qb =
                    sqlx::QueryBuilder::new("SELECT person_id, id_number, name FROM person WHERE id_number IN (");
                let mut list = qb.separated(", ");
                for r in part {
                    list.push_bind(r.id.as_str().to_owned());
                }
                qb.push(")");
                let found: Vec<(i64, String, String)> = qb.build_query_as().fetch_all(p).await?;
                people.extend(found.into_iter().map(|(id, number, name)| (number, (id, name))));
            }
        }
    }
    let counties: Vec<String> =
        with_pool!(db, |p| sqlx::query_scalar("SELECT county_code FROM county").fetch_all(p).await?);
    // A hukou outside the city (a migrant worker's) is recorded as an area outside the region.
    let outside: std::collections::BTreeSet<String> = rows
        .iter()
        .filter_map(|r| match &r.says {
            Says::Hukou { county, .. }
                if !counties.contains(county) && jineng_domain::AreaCode::parse(county).is_ok() =>
            {
                Some(county.clone())
            }
            _ => None,
        })
        .collect();
    let mut employers: HashMap<String, i64> = HashMap::new();
    if reg == Register::Employment {
        let codes: std::collections::BTreeSet<String> = rows
            .iter()
            .filter_map(|r| match &r.says {
                Says::Job { employer, .. } => Some(employer.clone()),
                _ => None,
            })
            .collect();
        let codes: Vec<String> = codes.into_iter().collect();
        for part in codes.chunks(BATCH) {
            let found: Vec<(i64, String)> = with_pool!(db, |p| {
                let mut qb =
                    sqlx::QueryBuilder::new("SELECT employer_id, credit_code FROM employer WHERE credit_code IN (");
                let mut list = qb.separated(", ");
                for c in part {
                    list.push_bind(c.clone());
                }
                qb.push(")");
                qb.build_query_as().fetch_all(p).await?
            });
            employers.extend(found.into_iter().map(|(id, code)| (code, id)));
        }
    }
    let mut land: Vec<(i64, &RegisterRow)> = Vec::with_capacity(rows.len());
    let mut not_registered = 0;
    for r in &rows {
        let Some((person_id, name)) = people.get(r.id.as_str()) else {
            not_registered += 1;
            continue;
        };
        if name != r.name.trim() {
            errors.push(err(
                reg,
                r.row,
                1,
                "姓名与实名登记不一致，请核对 / the name differs from the real-name registry",
            ));
            continue;
        }
        match &r.says {
            Says::Hukou { county, .. } if jineng_domain::AreaCode::parse(county).is_err() => {
                errors.push(err(reg, r.row, 2, format!("县区代码 {county} 无效 / not an area code")));
                continue;
            }
            Says::Job { employer, .. } if !employers.contains_key(employer) => {
                errors.push(err(
                    reg,
                    r.row,
                    2,
                    "单位未在本系统登记，请先登记用人单位 / the employer is not registered: register it first",
                ));
                continue;
            }
            _ => {}
        }
        land.push((*person_id, r));
    }
    if !errors.is_empty() {
        return Ok(Err(cap(errors)));
    }
    let checked = started.elapsed();
    let t = now();
    let today = t.date_naive();
    let source = reg.source();
    let mut tx = db.begin().await?;
    crate::plan::ensure_areas(&mut tx, &outside.into_iter().collect::<Vec<_>>()).await?;
    let import: i64 = on_tx!(&mut tx, |c| {
        sqlx::query_scalar(
        "INSERT INTO fact_import (kind, file_name, row_count, imported_by, imported_at) VALUES ($1, $2, $3, $4, $5) RETURNING fact_import_id"
    )
    .bind(reg.code())
    .bind(file_name.chars().take(200).collect::<String>())
    .bind(land.len() as i64)
    .bind(actor)
    .bind(t)
    .fetch_one(&mut **c)
    .await?
    });
    match reg {
        Register::PovertyRoster => {
            for part in land.chunks(BATCH) {
                on_tx!(&mut tx, |c| {
                    let mut qb = sqlx::QueryBuilder::new(
                        "INSERT INTO person_group (person_id, group_code, from_date, to_date, source, recorded_by, recorded_at, fact_import_id) ",
                    );
                    qb.push_values(part, |mut b, (pid, r)| {
                        if let Says::Group { group, from, to } = &r.says {
                            b.push_bind(*pid)
                                .push_bind(group.code())
                                .push_bind(*from)
                                .push_bind(*to)
                                .push_bind(source)
                                .push_bind(actor)
                                .push_bind(t)
                                .push_bind(import);
                        }
                    });
                    qb.build().execute(&mut **c).await?;
                });
            }
        }
        Register::Employment => {
            for part in land.chunks(BATCH) {
                on_tx!(&mut tx, |c| {
                    let mut qb = sqlx::QueryBuilder::new(
                        "INSERT INTO employment (person_id, employer_id, from_date, to_date, created_at, source, recorded_by, fact_import_id) ",
                    );
                    qb.push_values(part, |mut b, (pid, r)| {
                        if let Says::Job { employer, from, to } = &r.says {
                            b.push_bind(*pid)
                                .push_bind(employers.get(employer).copied().unwrap_or_default())
                                .push_bind(*from)
                                .push_bind(*to)
                                .push_bind(t)
                                .push_bind(source)
                                .push_bind(actor)
                                .push_bind(import);
                        }
                    });
                    // The register confirms (and dates the end of) an employment declared before.
                    qb.push(
                        " ON CONFLICT (person_id, employer_id, from_date) DO UPDATE SET to_date = excluded.to_date, \
                         source = excluded.source, recorded_by = excluded.recorded_by, fact_import_id = excluded.fact_import_id",
                    );
                    qb.build().execute(&mut **c).await?;
                });
            }
        }
        _ => {
            // One-valued facts: statements, then the person's columns from them.
            let mut statements: Vec<(i64, &'static str, Option<String>)> = Vec::with_capacity(land.len() * 2);
            for (pid, r) in &land {
                match &r.says {
                    Says::Hukou { county, rural } => {
                        statements.push((*pid, "hukou_county", Some(county.clone())));
                        statements.push((*pid, "rural", Some(rural.to_string())));
                    }
                    Says::Insurance { since, pension } => {
                        statements.push((*pid, "insured_since", since.map(|d| d.to_string())));
                        statements.push((*pid, "monthly_pension", Some(pension.to_string())));
                    }
                    Says::Business { started } => {
                        statements.push((*pid, "business_started", Some(started.to_string())))
                    }
                    _ => {}
                }
            }
            match &mut tx {
                // PostgreSQL takes the whole file as arrays in one statement.
                Tx::Postgres(c) => {
                    let pids: Vec<i64> = statements.iter().map(|s| s.0).collect();
                    let facts: Vec<&str> = statements.iter().map(|s| s.1).collect();
                    let values: Vec<Option<String>> = statements.iter().map(|s| s.2.clone()).collect();
                    sqlx::query(
                        "INSERT INTO person_fact (person_id, fact, value, source, recorded_by, as_of, fact_import_id, recorded_at) \
                         SELECT v.pid, v.fact, v.value, $4, $5, $6, $7, $8 FROM UNNEST($1::bigint[], $2::text[], $3::text[]) AS v(pid, fact, value)",
                    )
                    .bind(pids)
                    .bind(facts)
                    .bind(values)
                    .bind(source)
                    .bind(actor)
                    .bind(today)
                    .bind(import)
                    .bind(t)
                    .execute(&mut **c)
                    .await?;
                }
                Tx::Sqlite(c) => {
                    for part in statements.chunks(BATCH) {
                        let mut qb = sqlx::QueryBuilder::new(
                            "INSERT INTO person_fact (person_id, fact, value, source, recorded_by, as_of, fact_import_id, recorded_at) ",
                        );
                        qb.push_values(part, |mut b, (pid, fact, value)| {
                            b.push_bind(*pid)
                                .push_bind(*fact)
                                .push_bind(value.clone())
                                .push_bind(source)
                                .push_bind(actor)
                                .push_bind(today)
                                .push_bind(import)
                                .push_bind(t);
                        });
                        qb.build().execute(&mut **c).await?;
                    }
                }
            }
            tracing::info!(?checked, stated = ?started.elapsed(), "register facts stated");
            if let Tx::Postgres(c) = &mut tx {
                // One update per person (each writes a new row version and its index entries),
                // the register's values as arrays.
                let pids: Vec<i64> = land.iter().map(|l| l.0).collect();
                let q = match reg {
                    Register::CivilAffairs => {
                        let (a, b): (Vec<String>, Vec<bool>) = land
                            .iter()
                            .map(|l| match &l.1.says {
                                Says::Hukou { county, rural } => (county.clone(), *rural),
                                _ => (String::new(), false),
                            })
                            .unzip();
                        sqlx::query("UPDATE person AS p SET hukou_county = v.a, rural = v.b, updated_at = $4 FROM UNNEST($1::bigint[], $2::text[], $3::bool[]) AS v(pid, a, b) WHERE p.person_id = v.pid")
                            .bind(pids).bind(a).bind(b)
                    }
                    Register::SocialInsurance => {
                        let (a, b): (Vec<Option<NaiveDate>>, Vec<bool>) = land
                            .iter()
                            .map(|l| match &l.1.says {
                                Says::Insurance { since, pension } => (*since, *pension),
                                _ => (None, false),
                            })
                            .unzip();
                        sqlx::query("UPDATE person AS p SET insured_since = v.a, monthly_pension = v.b, updated_at = $4 FROM UNNEST($1::bigint[], $2::date[], $3::bool[]) AS v(pid, a, b) WHERE p.person_id = v.pid")
                            .bind(pids).bind(a).bind(b)
                    }
                    _ => {
                        let a: Vec<Option<NaiveDate>> = land
                            .iter()
                            .map(|l| match &l.1.says {
                                Says::Business { started } => Some(*started),
                                _ => None,
                            })
                            .collect();
                        sqlx::query("UPDATE person AS p SET business_started = v.a, updated_at = $3 FROM UNNEST($1::bigint[], $2::date[]) AS v(pid, a) WHERE p.person_id = v.pid")
                            .bind(pids).bind(a)
                    }
                };
                q.bind(t).execute(&mut **c).await?;
            } else {
                let columns: &[(&str, &str)] = match reg {
                    Register::CivilAffairs => &[("hukou_county", "f.value"), ("rural", "(f.value = 'true')")],
                    Register::SocialInsurance => {
                        &[("insured_since", "f.value"), ("monthly_pension", "(f.value = 'true')")]
                    }
                    _ => &[("business_started", "f.value")],
                };
                for (fact, expr) in columns {
                    let sql = format!(
                        "UPDATE person SET {fact} = {expr}, updated_at = $2 FROM person_fact f \
                         WHERE f.fact_import_id = $1 AND f.fact = '{fact}' AND f.person_id = person.person_id"
                    );
                    on_tx!(&mut tx, |c| sqlx::query(&sql).bind(import).bind(t).execute(&mut **c).await.map(|_| ())?);
                }
            }
        }
    }
    on_tx!(&mut tx, |c| {
        audit::record(
        &mut **c,
        actor,
        "import",
        "fact_import",
        &import.to_string(),
        &serde_json::json!({"register": reg.code(), "recorded": land.len(), "not_registered": not_registered, "file": file_name}),
    )
    .await?
    });
    tx.commit().await?;
    tracing::info!(register = reg.code(), recorded = land.len(), not_registered, ?checked, took = ?started.elapsed(), "register imported");
    Ok(Ok(Imported { fact_import_id: import, recorded: land.len(), not_registered }))
}
