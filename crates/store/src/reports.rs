//! Monthly and quarterly reports (M1: 月报、季报): what the bureau sends upward for a month or a
//! quarter, for the city or one county, and how a period is closed.
//!
//! - **Figures** come from maintained aggregates, never from a scan of all person-times:
//!   `progress` (person-times, subsidised, skill-upgrade and persons per program, county and month),
//!   certificates by their issue date, claims by the moment they were decided and their steps
//!   (`claim_event`) by the moment they happened. Periods are read in China time (UTC+8).
//! - **Persons** are distinct per program and year: a person counts once, in the month of their
//!   first completion of the program that year (`program_person_year`), so the year-to-date sum is
//!   the number of different people.
//! - **Counties submit** their report once the period has ended (报送), before its due date (a month:
//!   the 5th of the next month; a quarter: the 10th of the month after it); later ones are listed
//!   as late.
//! - **The city closes** a period: its report (the city's and each county's) is frozen as a snapshot
//!   with its SHA-256; the period's page and spreadsheet are then built from the snapshot alone and
//!   never change. A later correction to a closed period (a completion recorded late, a payment
//!   failed after) appears in the next report of the year as a correction, never as a silent change.

use crate::{audit, in_tx, now, with_pool, Db, Result, StoreError};
use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use jineng_domain::Invalid;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// China time, in which the bureau's months begin and end.
fn china() -> chrono::FixedOffset {
    chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8")
}

/// The date in China time of a moment.
pub fn china_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&china()).date_naive()
}

/// A month (`2020-03`) or a quarter (`2020-Q1`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    /// `2020-03` or `2020-Q1`.
    pub code: String,
    /// `month` or `quarter`.
    pub kind: String,
    /// First day.
    pub from: NaiveDate,
    /// Last day.
    pub to: NaiveDate,
}

fn bad_period() -> StoreError {
    StoreError::invalid(
        "period",
        Invalid::new(
            "period.format",
            "报告期应写作 2020-03（月）或 2020-Q1（季度），年份 2000–2100",
            "a period is written 2020-03 (a month) or 2020-Q1 (a quarter), year 2000–2100",
        ),
    )
}

impl Period {
    /// Parses `YYYY-MM` or `YYYY-Qn`.
    pub fn parse(s: &str) -> Result<Period> {
        let s = s.trim();
        let (y, rest) = s.split_once('-').ok_or_else(bad_period)?;
        if y.len() != 4 {
            return Err(bad_period());
        }
        let year: i32 = y.parse().map_err(|_| bad_period())?;
        if !(2000..=2100).contains(&year) {
            return Err(bad_period());
        }
        let (kind, first, last) = if let Some(q) = rest.strip_prefix('Q').or_else(|| rest.strip_prefix('q')) {
            let q: u32 = q.parse().map_err(|_| bad_period())?;
            if !(1..=4).contains(&q) || q.to_string() != rest[1..] {
                return Err(bad_period());
            }
            ("quarter", q * 3 - 2, q * 3)
        } else {
            if rest.len() != 2 {
                return Err(bad_period());
            }
            let m: u32 = rest.parse().map_err(|_| bad_period())?;
            if !(1..=12).contains(&m) {
                return Err(bad_period());
            }
            ("month", m, m)
        };
        let from = NaiveDate::from_ymd_opt(year, first, 1).ok_or_else(bad_period)?;
        let to = first_of_next(year, last).pred_opt().ok_or_else(bad_period)?;
        let code = if kind == "month" { format!("{year:04}-{first:02}") } else { format!("{year:04}-Q{}", last / 3) };
        Ok(Period { code, kind: kind.into(), from, to })
    }

    /// The year.
    pub fn year(&self) -> i32 {
        self.from.year()
    }

    /// When counties must have submitted it: a month by the 5th of the next month, a quarter
    /// by the 10th of the month after it.
    pub fn due_on(&self) -> NaiveDate {
        let next = self.to.succ_opt().unwrap_or(self.to);
        next.with_day(if self.kind == "month" { 5 } else { 10 }).unwrap_or(next)
    }

    /// `2020年3月` / `2020年第1季度`.
    pub fn zh(&self) -> String {
        if self.kind == "month" {
            format!("{}年{}月", self.year(), self.from.month())
        } else {
            format!("{}年第{}季度", self.year(), self.to.month() / 3)
        }
    }

    /// `March 2020` / `Q1 2020`.
    pub fn en(&self) -> String {
        const M: [&str; 12] = [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ];
        if self.kind == "month" {
            format!("{} {}", M[self.from.month0() as usize], self.year())
        } else {
            format!("Q{} {}", self.to.month() / 3, self.year())
        }
    }

    /// First and last month (`YYYY-MM`), as the progress aggregate keys them.
    fn months(&self) -> (String, String) {
        (self.from.format("%Y-%m").to_string(), self.to.format("%Y-%m").to_string())
    }

    /// The period as moments: from its first day's China midnight to the next one after its last day.
    fn moments(&self) -> (DateTime<Utc>, DateTime<Utc>) {
        let at = |d: NaiveDate| {
            china()
                .from_local_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight"))
                .single()
                .expect("UTC+8 has no gaps")
                .with_timezone(&Utc)
        };
        (at(self.from), at(self.to.succ_opt().unwrap_or(self.to)))
    }

    /// The earlier periods of the same kind in the same year, oldest first.
    fn earlier_this_year(&self) -> Vec<Period> {
        let n = if self.kind == "month" { self.from.month() } else { self.to.month() / 3 };
        (1..n)
            .filter_map(|i| {
                Period::parse(&if self.kind == "month" {
                    format!("{:04}-{i:02}", self.year())
                } else {
                    format!("{:04}-Q{i}", self.year())
                })
                .ok()
            })
            .collect()
    }
}

fn first_of_next(year: i32, month: u32) -> NaiveDate {
    if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1).expect("valid")
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1).expect("valid")
    }
}

/// `n / d` in percent with one decimal (`81.3`), none when `d` is 0.
pub fn percent(n: i64, d: i64) -> Option<String> {
    (d > 0).then(|| {
        let tenths = (i128::from(n) * 1000 + i128::from(d) / 2) / i128::from(d);
        format!("{}.{}", tenths / 10, tenths % 10)
    })
}

/// One program's figures in a report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgramLine {
    /// Code (`P2a`).
    pub code: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// `person_times` or `persons`: what the target counts.
    pub unit: String,
    /// Person-times completed in the period.
    pub period_person_times: i64,
    /// Person-times completed from January to the end of the period.
    pub ytd_person_times: i64,
    /// Different people who completed it from January to the end of the period.
    pub ytd_persons: i64,
    /// Of the year's person-times, in subsidised classes.
    pub ytd_subsidised: i64,
    /// Of the year's person-times, skill-upgrade training.
    pub ytd_skill_upgrade: i64,
    /// The year's task (for the city, or this county's share), if set.
    pub year_task: Option<i64>,
    /// Done toward the year's task, percent (in the target's unit).
    pub task_pct: Option<String>,
    /// Subsidised share of the year's person-times, percent.
    pub subsidised_pct: Option<String>,
    /// Skill-upgrade share of the year's person-times, percent.
    pub skill_upgrade_pct: Option<String>,
    /// The share of skill-upgrade training the plan requires, percent (P2a 80 %, P3 70 % …).
    pub required_share_pct: Option<i64>,
    /// Whether the required share is met (none: nothing required or nothing trained).
    pub share_met: Option<bool>,
}

/// One county's line in the city's report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountyLine {
    /// County code.
    pub county_code: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// Person-times in the period.
    pub period_person_times: i64,
    /// Person-times from January to the end of the period.
    pub ytd_person_times: i64,
    /// The county's tasks for the year in person-times (programs counted in person-times).
    pub year_task: Option<i64>,
    /// Done toward them, percent.
    pub task_pct: Option<String>,
    /// When the county submitted this report (China time, `YYYY-MM-DD HH:MM`).
    pub submitted_at: Option<String>,
    /// Not submitted by the due date, or submitted after it.
    pub late: bool,
}

/// One responsible unit's line (M1: tasks decomposed to counties and responsible units): the
/// programs the plan names it for, added up in person-times.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitLine {
    /// Department code.
    pub department_code: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// The programs it is responsible for (those without sub-programs, in plan order).
    pub programs: Vec<String>,
    /// Of them, the programs it leads (named first).
    pub leads: Vec<String>,
    /// Person-times in the period over its programs.
    pub period_person_times: i64,
    /// Person-times from January to the end of the period.
    pub ytd_person_times: i64,
    /// The year's tasks of its programs counted in person-times (for the city, or the county's
    /// shares), if any is set; `task_pct` compares them with those programs' person-times.
    pub year_task: Option<i64>,
    /// Done toward them, percent.
    pub task_pct: Option<String>,
}

/// Certificates issued in the period, by kind and level.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateLine {
    /// Certificate kind code.
    pub kind: String,
    /// Chinese name of the kind.
    pub kind_zh: String,
    /// Level 1–5, if the kind has levels.
    pub level: Option<i64>,
    /// Level name, Chinese.
    pub level_zh: String,
    /// How many.
    pub count: i64,
}

/// Money of one fund in the period, in fen.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FundLine {
    /// Fund code.
    pub fund: String,
    /// Chinese name.
    pub name_zh: String,
    /// Claims granted (approved or reduced) in the period.
    pub decided_claims: i64,
    /// Their amount.
    pub decided_fen: i64,
    /// Claims put on the public notice in the period.
    pub published_claims: i64,
    /// Their amount.
    pub published_fen: i64,
    /// Claims paid in the period.
    pub paid_claims: i64,
    /// Their amount.
    pub paid_fen: i64,
    /// Recovered in the period.
    pub recovered_fen: i64,
}

/// A change, found later, to a period already closed: shown in the next report, never applied
/// silently to the closed one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Correction {
    /// The closed period corrected.
    pub period: String,
    /// What changed, Chinese (`P2a 本期人次`).
    pub what_zh: String,
    /// What changed, English.
    pub what_en: String,
    /// As reported when the period was closed.
    pub reported: i64,
    /// As it stands now.
    pub now: i64,
    /// Whether the values are money (fen).
    pub money: bool,
}

/// A monthly or quarterly report, for the city or one county.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// The period.
    pub period: Period,
    /// `2020年3月`.
    pub period_zh: String,
    /// `March 2020`.
    pub period_en: String,
    /// The county, or none for the whole city.
    pub county: Option<String>,
    /// Whose report: the city's or the county's name, Chinese.
    pub scope_zh: String,
    /// The same in English.
    pub scope_en: String,
    /// The plan's name, Chinese.
    pub plan_zh: String,
    /// Programs, in plan order (those with a counted target).
    pub programs: Vec<ProgramLine>,
    /// Totals over the programs (code `合计`).
    pub total: ProgramLine,
    /// The counties (the city's report only).
    pub counties: Vec<CountyLine>,
    /// The responsible units (a unit appears when the plan names it for a counted program).
    #[serde(default)]
    pub units: Vec<UnitLine>,
    /// Certificates issued in the period.
    pub certificates: Vec<CertificateLine>,
    /// Money per fund.
    pub funds: Vec<FundLine>,
    /// Corrections to closed periods of the year found since they were closed.
    pub corrections: Vec<Correction>,
    /// When the counties must submit.
    pub due_on: NaiveDate,
    /// `open` or `closed`.
    pub status: String,
    /// When it was closed (China time).
    pub closed_at: Option<String>,
    /// When these figures were taken (China time).
    pub generated_at: String,
    /// SHA-256 of the frozen snapshot (closed periods).
    pub snapshot_sha256: Option<String>,
}

/// The frozen form of a closed period: the city's report and each county's.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Snapshot {
    city: Report,
    counties: Vec<Report>,
}

/// A period's row.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct PeriodRow {
    /// The period's code: `2020-06` for a month, `2020-Q2` for a quarter.
    pub period: String,
    /// `month` or `quarter`.
    pub kind: String,
    /// Due date.
    pub due_on: NaiveDate,
    /// `open` or `closed`.
    pub status: String,
    /// When closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// Counties that submitted.
    pub submitted: i64,
}

/// A moment in China time, `YYYY-MM-DD HH:MM`.
pub fn china_time(at: DateTime<Utc>) -> String {
    at.with_timezone(&china()).format("%Y-%m-%d %H:%M").to_string()
}

/// A certificate kind's Chinese name.
fn certificate_kind_zh(kind: &str) -> &'static str {
    match kind {
        "qualification" => "职业资格证书",
        "skill_level" => "职业技能等级证书",
        "special_ability" => "专项职业能力证书",
        "special_operation" => "特种作业操作证",
        "training_completion" => "培训合格证书",
        _ => "其他证书",
    }
}

/// What a period's reports are built from, read once for the city and every county: each
/// query groups by county, so that closing a period (the city and every county) reads each
/// table once.
struct Data {
    plan: jineng_domain::plan::PlanHeader,
    programs: Vec<crate::plan::ProgramRow>,
    counties: Vec<crate::plan::CountyRow>,
    departments: Vec<crate::plan::DepartmentRow>,
    /// Progress from January to the end of the period: program, county, month, person-times,
    /// subsidised, skill upgrade, persons.
    rows: Vec<(String, String, String, i64, i64, i64, i64)>,
    city_tasks: Vec<(String, i64)>,
    county_tasks: Vec<(String, String, i64)>,
    submissions: Vec<(String, DateTime<Utc>)>,
    /// County, kind, level, count.
    certificates: Vec<(String, String, Option<i64>, i64)>,
    funds: Vec<(String, String)>,
    /// Fund, county, claims, fen — for claims granted, published, paid, recovered.
    decided: Vec<(String, String, i64, i64)>,
    published: Vec<(String, String, i64, i64)>,
    paid: Vec<(String, String, i64, i64)>,
    recovered: Vec<(String, String, i64, i64)>,
}

async fn load(db: &Db, p: &Period) -> Result<Data> {
    let plan = crate::plan::current_plan(db).await?.plan;
    let programs = crate::plan::programs(db).await?;
    let counties = crate::plan::counties(db).await?;
    let departments = crate::plan::departments(db).await?;
    let year = i64::from(p.year());
    let (_, last_month) = p.months();
    let year_start = format!("{:04}-01", p.year());
    let rows = with_pool!(db, |x| sqlx::query_as(
        "SELECT program_code, county_code, month, person_times, subsidised, skill_upgrade, persons FROM progress \
         WHERE month >= $1 AND month <= $2"
    )
    .bind(&year_start)
    .bind(&last_month)
    .fetch_all(x)
    .await?);
    let city_tasks = with_pool!(db, |x| sqlx::query_as("SELECT program_code, value FROM yearly_task WHERE year = $1")
        .bind(year)
        .fetch_all(x)
        .await?);
    let county_tasks =
        with_pool!(db, |x| sqlx::query_as("SELECT program_code, county_code, value FROM county_task WHERE year = $1")
            .bind(year)
            .fetch_all(x)
            .await?);
    let submissions =
        with_pool!(db, |x| sqlx::query_as("SELECT county_code, submitted_at FROM report_submission WHERE period = $1")
            .bind(&p.code)
            .fetch_all(x)
            .await?);
    // Certificates issued in the period, by the holder's county, kind and level: the tally the
    // triggers on `certificate` keep (level 0 is none), never the certificates themselves.
    let (first_month, _) = p.months();
    let tally: Vec<(String, String, i64, i64)> = with_pool!(db, |x| {
        sqlx::query_as(
        "SELECT county_code, kind, level, CAST(SUM(certificates) AS BIGINT) FROM certificate_tally \
         WHERE issued_month >= $1 AND issued_month <= $2 GROUP BY county_code, kind, level HAVING SUM(certificates) > 0"
    )
    .bind(&first_month)
    .bind(&last_month)
    .fetch_all(x)
    .await?
    });
    let certificates =
        tally.into_iter().map(|(c, kind, level, n)| (c, kind, (level > 0).then_some(level), n)).collect();
    let funds = with_pool!(db, |x| sqlx::query_as("SELECT fund_code, name_zh FROM fund ORDER BY fund_code")
        .fetch_all(x)
        .await?);
    let (from_at, until_at) = p.moments();
    // Granted when decided (subsidies granted before the system are not decided here).
    let decided = with_pool!(db, |x| sqlx::query_as(
        "SELECT fund, county_code, COUNT(*), CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT) FROM claim \
         WHERE created_at >= $1 AND created_at < $2 AND outcome IN ('approved', 'reduced') AND amount_fen > 0 \
         AND (request IS NULL OR request NOT LIKE '%\"imported\":true%') GROUP BY fund, county_code"
    )
    .bind(from_at)
    .bind(until_at)
    .fetch_all(x)
    .await?);
    let step = |to: &'static str| async move {
        let r: Vec<(String, String, i64, i64)> = with_pool!(db, |x| {
            sqlx::query_as(
            "SELECT c.fund, c.county_code, COUNT(DISTINCT c.claim_id), CAST(COALESCE(SUM(c.amount_fen), 0) AS BIGINT) \
             FROM claim_event e JOIN claim c ON c.claim_id = e.claim_id WHERE e.to_status = $1 AND e.at >= $2 AND e.at < $3 \
             GROUP BY c.fund, c.county_code"
        )
        .bind(to)
        .bind(from_at)
        .bind(until_at)
        .fetch_all(x)
        .await?
        });
        Ok::<_, StoreError>(r)
    };
    let (published, paid, recovered) = (step("on_notice").await?, step("paid").await?, step("recovered").await?);
    Ok(Data {
        plan,
        programs,
        counties,
        departments,
        rows,
        city_tasks,
        county_tasks,
        submissions,
        certificates,
        funds,
        decided,
        published,
        paid,
        recovered,
    })
}

/// The figures of a period as they stand now (no corrections), for the city or one county.
async fn figures(db: &Db, p: &Period, county: Option<&str>, today_at: DateTime<Utc>) -> Result<Report> {
    build(&load(db, p).await?, p, county, today_at)
}

/// A report for the city (`county` none) or one county from what was read.
fn build(d: &Data, p: &Period, county: Option<&str>, today_at: DateTime<Utc>) -> Result<Report> {
    let (scope_zh, scope_en) = match county {
        None => (d.plan.region_name_zh.clone(), d.plan.region_name_en.clone()),
        Some(c) => {
            let row = d.counties.iter().find(|x| x.county_code == c).ok_or(StoreError::NotFound)?;
            (row.name_zh.clone(), row.name_en.clone())
        }
    };
    let mine = |c: &str| county.is_none_or(|k| k == c);
    let (first_month, _) = p.months();
    let rows: Vec<_> = d.rows.iter().filter(|r| mine(&r.1)).collect();
    let programs = &d.programs;
    let task_of = |program: &str, c: Option<&str>| -> Option<i64> {
        match c {
            None => d.city_tasks.iter().find(|t| t.0 == program).map(|t| t.1),
            Some(c) => d.county_tasks.iter().find(|t| t.0 == program && t.1 == c).map(|t| t.2),
        }
    };
    let counted: Vec<_> = programs.iter().filter(|r| r.unit != "none").collect();
    let mut lines = Vec::new();
    let mut total =
        ProgramLine { code: "合计".into(), name_zh: "合计".into(), name_en: "Total".into(), ..Default::default() };
    for r in &counted {
        let mut l = ProgramLine {
            code: r.program_code.clone(),
            name_zh: r.name_zh.clone(),
            name_en: r.name_en.clone(),
            unit: r.unit.clone(),
            required_share_pct: r.share_pct,
            year_task: task_of(&r.program_code, county),
            ..Default::default()
        };
        // A program with sub-programs counts what they count (and the total counts each once).
        let children: Vec<&str> = programs
            .iter()
            .filter(|c| c.parent_code.as_deref() == Some(r.program_code.as_str()))
            .map(|c| c.program_code.as_str())
            .collect();
        for row in rows.iter().filter(|x| x.0 == r.program_code || children.contains(&x.0.as_str())) {
            if row.2 >= first_month {
                l.period_person_times += row.3;
            }
            l.ytd_person_times += row.3;
            l.ytd_subsidised += row.4;
            l.ytd_skill_upgrade += row.5;
            l.ytd_persons += row.6;
        }
        let measured = if l.unit == "persons" { l.ytd_persons } else { l.ytd_person_times };
        l.task_pct = l.year_task.and_then(|t| percent(measured, t));
        l.subsidised_pct = percent(l.ytd_subsidised, l.ytd_person_times);
        l.skill_upgrade_pct = percent(l.ytd_skill_upgrade, l.ytd_person_times);
        l.share_met = match (r.share_pct, l.ytd_person_times) {
            (Some(share), n) if n > 0 => Some(l.ytd_skill_upgrade * 100 >= share * n),
            _ => None,
        };
        if children.is_empty() {
            total.period_person_times += l.period_person_times;
            total.ytd_person_times += l.ytd_person_times;
            total.ytd_subsidised += l.ytd_subsidised;
            total.ytd_skill_upgrade += l.ytd_skill_upgrade;
        }
        lines.push(l);
    }
    total.unit = "person_times".into();
    let units = unit_lines(d, &counted, &lines);
    total.subsidised_pct = percent(total.ytd_subsidised, total.ytd_person_times);
    total.skill_upgrade_pct = percent(total.ytd_skill_upgrade, total.ytd_person_times);

    // Counties (the city's report), with their submissions.
    let due = p.due_on();
    let today = china_date(today_at);
    let mut county_lines = Vec::new();
    if county.is_none() {
        for c in &d.counties {
            let mut l = CountyLine {
                county_code: c.county_code.clone(),
                name_zh: c.name_zh.clone(),
                name_en: c.name_en.clone(),
                ..Default::default()
            };
            for row in rows.iter().filter(|x| x.1 == c.county_code) {
                if row.2 >= first_month {
                    l.period_person_times += row.3;
                }
                l.ytd_person_times += row.3;
            }
            let tasks: Vec<i64> = d
                .county_tasks
                .iter()
                .filter(|t| {
                    t.1 == c.county_code && counted.iter().any(|r| r.program_code == t.0 && r.unit == "person_times")
                })
                .map(|t| t.2)
                .collect();
            l.year_task = (!tasks.is_empty()).then(|| tasks.iter().sum());
            l.task_pct = l.year_task.and_then(|t| percent(l.ytd_person_times, t));
            let sub = d.submissions.iter().find(|s| s.0 == c.county_code).map(|s| s.1);
            l.submitted_at = sub.map(china_time);
            l.late = match sub {
                Some(at) => china_date(at) > due,
                None => today > due,
            };
            county_lines.push(l);
        }
    }

    // Certificates by kind and level (holders registered in the county).
    let mut by_kind: BTreeMap<(String, Option<i64>), i64> = BTreeMap::new();
    for (c, kind, level, n) in &d.certificates {
        if mine(c) {
            *by_kind.entry((kind.clone(), *level)).or_default() += n;
        }
    }
    let certificates = by_kind
        .into_iter()
        .map(|((kind, level), count)| CertificateLine {
            kind_zh: certificate_kind_zh(&kind).into(),
            level_zh: level
                .and_then(|l| u8::try_from(l).ok())
                .and_then(|l| jineng_domain::SkillLevel::new(l).ok())
                .map_or_else(|| "—".to_owned(), |l| l.zh().to_owned()),
            kind,
            level,
            count,
        })
        .collect();

    // Money per fund.
    let pick = |v: &[(String, String, i64, i64)], f: &str| {
        v.iter().filter(|x| x.0 == f && mine(&x.1)).fold((0, 0), |(n, fen), x| (n + x.2, fen + x.3))
    };
    let funds = d
        .funds
        .iter()
        .map(|(fund, name_zh)| {
            let (dc, df) = pick(&d.decided, fund);
            let (pc, pf) = pick(&d.published, fund);
            let (yc, yf) = pick(&d.paid, fund);
            let (_, rf) = pick(&d.recovered, fund);
            FundLine {
                fund: fund.clone(),
                name_zh: name_zh.clone(),
                decided_claims: dc,
                decided_fen: df,
                published_claims: pc,
                published_fen: pf,
                paid_claims: yc,
                paid_fen: yf,
                recovered_fen: rf,
            }
        })
        .collect();

    Ok(Report {
        period_zh: p.zh(),
        period_en: p.en(),
        period: p.clone(),
        county: county.map(str::to_owned),
        scope_zh,
        scope_en,
        plan_zh: d.plan.name_zh.clone(),
        programs: lines,
        total,
        counties: county_lines,
        units,
        certificates,
        funds,
        corrections: Vec::new(),
        due_on: due,
        status: "open".into(),
        closed_at: None,
        generated_at: china_time(today_at),
        snapshot_sha256: None,
    })
}

/// The responsible units' lines, from the program lines: each unit adds up the programs the plan
/// names it for, counted as the total counts them (programs without sub-programs, so each
/// person-time once), and the tasks of those counted in person-times.
fn unit_lines(d: &Data, counted: &[&crate::plan::ProgramRow], lines: &[ProgramLine]) -> Vec<UnitLine> {
    // The units named on a program, or on its parent when it names none.
    fn named<'a>(r: &'a crate::plan::ProgramRow, counted: &[&'a crate::plan::ProgramRow]) -> Vec<&'a str> {
        let own = r.responsible_codes();
        match (&r.parent_code, own.is_empty()) {
            (Some(parent), true) => {
                counted.iter().find(|q| &q.program_code == parent).map(|q| q.responsible_codes()).unwrap_or_default()
            }
            _ => own,
        }
    }
    let mut out = Vec::new();
    for dep in &d.departments {
        let code = dep.department_code.as_str();
        // Programs without sub-programs, as the total counts them: each person-time once.
        let mine: Vec<&crate::plan::ProgramRow> = counted
            .iter()
            .copied()
            .filter(|r| !counted.iter().any(|c| c.parent_code.as_deref() == Some(r.program_code.as_str())))
            .filter(|r| named(r, counted).contains(&code))
            .collect();
        if mine.is_empty() {
            continue;
        }
        let mut u = UnitLine {
            department_code: dep.department_code.clone(),
            name_zh: dep.name_zh.clone(),
            name_en: dep.name_en.clone(),
            programs: mine.iter().map(|r| r.program_code.clone()).collect(),
            leads: mine
                .iter()
                .filter(|r| named(r, counted).first() == Some(&code))
                .map(|r| r.program_code.clone())
                .collect(),
            ..Default::default()
        };
        // Done against task: only programs counted in person-times that have a task.
        let (mut task, mut done, mut any) = (0, 0, false);
        for r in &mine {
            let Some(l) = lines.iter().find(|l| l.code == r.program_code) else { continue };
            u.period_person_times += l.period_person_times;
            u.ytd_person_times += l.ytd_person_times;
            if let (Some(t), "person_times") = (l.year_task, l.unit.as_str()) {
                (task, done, any) = (task + t, done + l.ytd_person_times, true);
            }
        }
        u.year_task = any.then_some(task);
        u.task_pct = u.year_task.and_then(|t| percent(done, t));
        out.push(u);
    }
    out
}

/// What changed in `now` against the frozen `reported` of a closed period.
fn differences(reported: &Report, now: &Report) -> Vec<Correction> {
    let mut out = Vec::new();
    let code = &reported.period.code;
    for r in &reported.programs {
        let n = now.programs.iter().find(|l| l.code == r.code).cloned().unwrap_or_default();
        if n.period_person_times != r.period_person_times {
            out.push(Correction {
                period: code.clone(),
                what_zh: format!("{} {} 本期完成人次", r.code, r.name_zh),
                what_en: format!("{} person-times in the period", r.code),
                reported: r.period_person_times,
                now: n.period_person_times,
                money: false,
            });
        }
    }
    for r in &reported.funds {
        let n = now.funds.iter().find(|l| l.fund == r.fund).cloned().unwrap_or_default();
        for (zh, en, a, b) in [
            ("核定金额", "granted", r.decided_fen, n.decided_fen),
            ("公示金额", "published", r.published_fen, n.published_fen),
            ("拨付金额", "paid", r.paid_fen, n.paid_fen),
            ("追回金额", "recovered", r.recovered_fen, n.recovered_fen),
        ] {
            if a != b {
                out.push(Correction {
                    period: code.clone(),
                    what_zh: format!("{} {zh}", r.name_zh),
                    what_en: format!("{} {en}", r.fund),
                    reported: a,
                    now: b,
                    money: true,
                });
            }
        }
    }
    out
}

fn snapshot_of(text: &str) -> Result<Snapshot> {
    serde_json::from_str(text).map_err(|e| StoreError::Db(sqlx::Error::Decode(Box::new(e))))
}

/// The report of a period for the city (`county` none) or one county: the frozen snapshot when
/// the period is closed, otherwise the figures as they stand, with corrections to the year's
/// closed periods.
pub async fn report(db: &Db, period: &str, county: Option<&str>, at: DateTime<Utc>) -> Result<Report> {
    let p = Period::parse(period)?;
    type Stored = (String, Option<String>, Option<String>, Option<DateTime<Utc>>);
    let row: Option<Stored> = with_pool!(db, |x| sqlx::query_as(
        "SELECT status, snapshot, snapshot_sha256, closed_at FROM report_period WHERE period = $1"
    )
    .bind(&p.code)
    .fetch_optional(x)
    .await?);
    if let Some((status, Some(text), sha, closed_at)) = row {
        if status == "closed" {
            let s = snapshot_of(&text)?;
            let mut r = match county {
                None => s.city,
                Some(c) => {
                    s.counties.into_iter().find(|r| r.county.as_deref() == Some(c)).ok_or(StoreError::NotFound)?
                }
            };
            r.status = "closed".into();
            r.closed_at = closed_at.map(china_time);
            r.snapshot_sha256 = sha;
            return Ok(r);
        }
    }
    let mut r = figures(db, &p, county, at).await?;
    r.corrections = corrections(db, &p, county, at).await?;
    Ok(r)
}

/// The closed periods of the same kind earlier in the year: (code, snapshot), oldest first.
async fn closed_before(db: &Db, p: &Period) -> Result<Vec<(String, String)>> {
    let earlier = p.earlier_this_year();
    let Some(first) = earlier.first() else {
        return Ok(Vec::new());
    };
    Ok(with_pool!(db, |x| {
        sqlx::query_as(
        "SELECT period, snapshot FROM report_period WHERE status = 'closed' AND kind = $1 AND period >= $2 AND period < $3 ORDER BY period"
    )
    .bind(&p.kind)
    .bind(&first.code)
    .bind(&p.code)
    .fetch_all(x)
    .await?
    }))
}

/// Differences between each closed earlier period of the year (same kind) and its figures now.
async fn corrections(db: &Db, p: &Period, county: Option<&str>, at: DateTime<Utc>) -> Result<Vec<Correction>> {
    let mut out = Vec::new();
    for (code, text) in closed_before(db, p).await? {
        let s = snapshot_of(&text)?;
        let reported = match county {
            None => s.city,
            Some(c) => match s.counties.into_iter().find(|r| r.county.as_deref() == Some(c)) {
                Some(r) => r,
                None => continue,
            },
        };
        let now = figures(db, &Period::parse(&code)?, county, at).await?;
        out.extend(differences(&reported, &now));
    }
    Ok(out)
}

/// The periods the bureau has opened, submitted or closed, newest first.
pub async fn periods(db: &Db) -> Result<Vec<PeriodRow>> {
    Ok(with_pool!(db, |x| sqlx::query_as(
        "SELECT r.period, r.kind, r.due_on, r.status, r.closed_at, \
         (SELECT COUNT(*) FROM report_submission s WHERE s.period = r.period) AS submitted \
         FROM report_period r ORDER BY r.from_date DESC, r.kind"
    )
    .fetch_all(x)
    .await?))
}

/// A county's submission of a period.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Submission {
    /// Who (username).
    pub submitted_by: String,
    pub submitted_at: DateTime<Utc>,
    /// The county's note.
    pub note: String,
}

/// A county's submission of a period, if it submitted.
pub async fn submission(db: &Db, period: &str, county: &str) -> Result<Option<Submission>> {
    Ok(with_pool!(db, |x| sqlx::query_as(
        "SELECT u.username AS submitted_by, s.submitted_at, s.note FROM report_submission s \
         JOIN app_user u ON u.user_id = s.submitted_by WHERE s.period = $1 AND s.county_code = $2"
    )
    .bind(period)
    .bind(county)
    .fetch_optional(x)
    .await?))
}

/// Records the period's row if it is not there yet (in the transaction `$tx`).
macro_rules! ensure_period {
    ($tx:expr, $p:expr) => {
        sqlx::query(
            "INSERT INTO report_period (period, kind, from_date, to_date, due_on, status) VALUES ($1, $2, $3, $4, $5, 'open') \
             ON CONFLICT (period) DO NOTHING",
        )
        .bind(&$p.code)
        .bind(&$p.kind)
        .bind($p.from)
        .bind($p.to)
        .bind($p.due_on())
        .execute(&mut *$tx)
        .await?
    };
}

fn not_ended(p: &Period) -> StoreError {
    StoreError::invalid(
        "period",
        Invalid::new(
            "period.not_ended",
            format!("{}尚未结束，期满后才能报送或关账", p.zh()),
            format!("{} has not ended: it is submitted or closed after its last day", p.en()),
        ),
    )
}

/// A county office submits its report for an ended period (报送): once; not after the city closed it.
pub async fn submit(db: &Db, actor: i64, period: &str, county: &str, note: &str, at: DateTime<Utc>) -> Result<()> {
    let p = Period::parse(period)?;
    if china_date(at) <= p.to {
        return Err(not_ended(&p));
    }
    let note: String = note.trim().chars().take(500).collect();
    in_tx!(db, |tx| {
        ensure_period!(tx, p);
        let status: String = sqlx::query_scalar("SELECT status FROM report_period WHERE period = $1")
            .bind(&p.code)
            .fetch_one(&mut *tx)
            .await?;
        if status == "closed" {
            return Err(StoreError::conflict(
                "report.closed",
                Some("period"),
                "本期已关账，不能再报送",
                "the city has closed this period; it can no longer be submitted",
            ));
        }
        let n = sqlx::query(
            "INSERT INTO report_submission (period, county_code, submitted_by, submitted_at, note) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (period, county_code) DO NOTHING",
        )
        .bind(&p.code)
        .bind(county)
        .bind(actor)
        .bind(at)
        .bind(&note)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::conflict(
                "report.submitted",
                Some("period"),
                "本县本期报告已报送",
                "this county has already submitted this period",
            ));
        }
        audit::record(
            &mut *tx,
            Some(actor),
            "submit_report",
            "report_period",
            &p.code,
            &serde_json::json!({"county": county, "note": note}),
        )
        .await?;
    });
    Ok(())
}

/// The city closes an ended period: the city's and every county's report are frozen as they
/// stand, with a SHA-256 of the snapshot. Of two closings at once, one wins, the other is a
/// conflict. Returns the digest.
pub async fn close(db: &Db, actor: i64, period: &str, at: DateTime<Utc>) -> Result<String> {
    let p = Period::parse(period)?;
    if china_date(at) <= p.to {
        return Err(not_ended(&p));
    }
    let data = load(db, &p).await?;
    let mut city = build(&data, &p, None, at)?;
    let mut counties = Vec::new();
    for c in &data.counties {
        counties.push(build(&data, &p, Some(&c.county_code), at)?);
    }
    // Corrections to the year's closed periods: each read once, for the city and every county.
    let mut earlier = Vec::new();
    for (code, snapshot) in closed_before(db, &p).await? {
        let q = Period::parse(&code)?;
        earlier.push((snapshot_of(&snapshot)?, load(db, &q).await?, q));
    }
    for (s, now_data, q) in &earlier {
        city.corrections.extend(differences(&s.city, &build(now_data, q, None, at)?));
        for r in counties.iter_mut() {
            if let Some(reported) = s.counties.iter().find(|x| x.county == r.county) {
                r.corrections.extend(differences(reported, &build(now_data, q, r.county.as_deref(), at)?));
            }
        }
    }
    let text = serde_json::to_string(&Snapshot { city, counties })
        .map_err(|e| StoreError::Db(sqlx::Error::Decode(Box::new(e))))?;
    let digest = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(text.as_bytes()))
    };
    in_tx!(db, |tx| {
        ensure_period!(tx, p);
        let n = sqlx::query(
            "UPDATE report_period SET status = 'closed', closed_by = $1, closed_at = $2, snapshot = $3, snapshot_sha256 = $4 \
             WHERE period = $5 AND status = 'open'",
        )
        .bind(actor)
        .bind(at)
        .bind(&text)
        .bind(&digest)
        .bind(&p.code)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::conflict(
                "report.closed",
                Some("period"),
                "本期已关账",
                "this period is already closed",
            ));
        }
        audit::record(
            &mut *tx,
            Some(actor),
            "close_report",
            "report_period",
            &p.code,
            &serde_json::json!({"sha256": digest}),
        )
        .await?;
    });
    Ok(digest)
}

/// The report as an `.xlsx` workbook a clerk can send upward unchanged: one sheet, a title, the
/// period's facts, then the programs, counties, certificates, money (yuan) and corrections, with
/// numbers as numbers. The same report gives the same bytes (the document's date is the period's
/// end, not the moment of writing).
pub fn to_xlsx(r: &Report) -> std::result::Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, FormatAlign, FormatBorder, Workbook};
    let mut wb = Workbook::new();
    let day = r.period.to;
    let stamp = ExcelDateTime::from_ymd(day.year() as u16, day.month() as u8, day.day() as u8)?;
    wb.set_properties(
        &DocProperties::new()
            .set_title(format!("{} {} {}", r.plan_zh, r.scope_zh, r.period_zh))
            .set_creation_datetime(&stamp),
    );
    let title = Format::new().set_bold().set_font_size(14).set_align(FormatAlign::Center);
    let head = Format::new().set_bold().set_border(FormatBorder::Thin).set_background_color("#EEEEEE").set_text_wrap();
    let cell = Format::new().set_border(FormatBorder::Thin);
    let num = Format::new().set_border(FormatBorder::Thin).set_num_format("#,##0");
    let money = Format::new().set_border(FormatBorder::Thin).set_num_format("#,##0.00");
    let section = Format::new().set_bold();
    let ws = wb.add_worksheet();
    ws.set_name(if r.period.kind == "month" { "月报" } else { "季报" })?;
    ws.set_column_width(0, 10)?;
    ws.set_column_width(1, 30)?;
    for c in 2..14u16 {
        ws.set_column_width(c, 13)?;
    }
    let kind = if r.period.kind == "month" { "月报" } else { "季报" };
    ws.merge_range(
        0,
        0,
        0,
        13,
        &format!("{}{}职业技能提升行动{}（{}）", r.scope_zh, r.period_zh, kind, r.plan_zh),
        &title,
    )?;
    let status = if r.status == "closed" {
        format!(
            "已关账 {}（快照 SHA-256 {}）",
            r.closed_at.clone().unwrap_or_default(),
            r.snapshot_sha256.clone().unwrap_or_default()
        )
    } else {
        format!("未关账，数据截至 {}", r.generated_at)
    };
    ws.write_string(1, 0, format!("报告期 {} 至 {}；报送截止 {}；{}", r.period.from, r.period.to, r.due_on, status))?;
    let mut row = 3u32;
    let header = |ws: &mut rust_xlsxwriter::Worksheet,
                  row: u32,
                  cols: &[&str]|
     -> std::result::Result<(), rust_xlsxwriter::XlsxError> {
        for (c, h) in cols.iter().enumerate() {
            ws.write_string_with_format(row, c as u16, *h, &head)?;
        }
        Ok(())
    };
    let pct = |v: &Option<String>| v.as_ref().and_then(|p| p.parse::<f64>().ok());
    let opt = |ws: &mut rust_xlsxwriter::Worksheet,
               row: u32,
               col: u16,
               v: Option<f64>,
               f: &Format|
     -> std::result::Result<(), rust_xlsxwriter::XlsxError> {
        match v {
            Some(v) => ws.write_number_with_format(row, col, v, f)?,
            None => ws.write_string_with_format(row, col, "—", f)?,
        };
        Ok(())
    };
    let numerals = ["一", "二", "三", "四", "五", "六", "七", "八"];
    let mut sections = numerals.iter();
    let mut numbered = |title: &str| format!("{}、{title}", sections.next().copied().unwrap_or("·"));
    ws.write_string_with_format(row, 0, numbered("分计划完成情况（人次；以人计的计划另列人数）"), &section)?;
    row += 1;
    header(
        ws,
        row,
        &[
            "编号",
            "计划",
            "本期人次",
            "本年累计人次",
            "本年累计人数",
            "年度任务",
            "完成率%",
            "补贴性人次",
            "补贴性占比%",
            "技能提升人次",
            "技能提升占比%",
            "要求占比%",
            "占比达标",
            "任务单位",
        ],
    )?;
    row += 1;
    for l in r.programs.iter().chain(std::iter::once(&r.total)) {
        ws.write_string_with_format(row, 0, &l.code, &cell)?;
        ws.write_string_with_format(row, 1, &l.name_zh, &cell)?;
        ws.write_number_with_format(row, 2, l.period_person_times as f64, &num)?;
        ws.write_number_with_format(row, 3, l.ytd_person_times as f64, &num)?;
        opt(ws, row, 4, (l.code != "合计").then_some(l.ytd_persons as f64), &num)?;
        opt(ws, row, 5, l.year_task.map(|v| v as f64), &num)?;
        opt(ws, row, 6, pct(&l.task_pct), &cell)?;
        ws.write_number_with_format(row, 7, l.ytd_subsidised as f64, &num)?;
        opt(ws, row, 8, pct(&l.subsidised_pct), &cell)?;
        ws.write_number_with_format(row, 9, l.ytd_skill_upgrade as f64, &num)?;
        opt(ws, row, 10, pct(&l.skill_upgrade_pct), &cell)?;
        opt(ws, row, 11, l.required_share_pct.map(|v| v as f64), &cell)?;
        ws.write_string_with_format(
            row,
            12,
            match l.share_met {
                Some(true) => "达标",
                Some(false) => "未达标",
                None => "—",
            },
            &cell,
        )?;
        ws.write_string_with_format(row, 13, if l.unit == "persons" { "人" } else { "人次" }, &cell)?;
        row += 1;
    }
    if !r.counties.is_empty() {
        row += 1;
        ws.write_string_with_format(row, 0, numbered("分县区完成情况及报送"), &section)?;
        row += 1;
        header(
            ws,
            row,
            &["代码", "县区", "本期人次", "本年累计人次", "年度任务（人次）", "完成率%", "报送时间", "是否逾期"],
        )?;
        row += 1;
        for c in &r.counties {
            ws.write_string_with_format(row, 0, &c.county_code, &cell)?;
            ws.write_string_with_format(row, 1, &c.name_zh, &cell)?;
            ws.write_number_with_format(row, 2, c.period_person_times as f64, &num)?;
            ws.write_number_with_format(row, 3, c.ytd_person_times as f64, &num)?;
            opt(ws, row, 4, c.year_task.map(|v| v as f64), &num)?;
            opt(ws, row, 5, pct(&c.task_pct), &cell)?;
            ws.write_string_with_format(row, 6, c.submitted_at.as_deref().unwrap_or("未报送"), &cell)?;
            ws.write_string_with_format(row, 7, if c.late { "逾期" } else { "" }, &cell)?;
            row += 1;
        }
    }
    if !r.units.is_empty() {
        row += 1;
        ws.write_string_with_format(row, 0, numbered("分责任单位完成情况"), &section)?;
        row += 1;
        header(
            ws,
            row,
            &["代码", "责任单位", "本期人次", "本年累计人次", "年度任务（人次）", "完成率%", "负责计划", "牵头计划"],
        )?;
        row += 1;
        for u in &r.units {
            ws.write_string_with_format(row, 0, &u.department_code, &cell)?;
            ws.write_string_with_format(row, 1, &u.name_zh, &cell)?;
            ws.write_number_with_format(row, 2, u.period_person_times as f64, &num)?;
            ws.write_number_with_format(row, 3, u.ytd_person_times as f64, &num)?;
            opt(ws, row, 4, u.year_task.map(|v| v as f64), &num)?;
            opt(ws, row, 5, pct(&u.task_pct), &cell)?;
            ws.write_string_with_format(row, 6, u.programs.join("、"), &cell)?;
            ws.write_string_with_format(row, 7, u.leads.join("、"), &cell)?;
            row += 1;
        }
    }
    row += 1;
    ws.write_string_with_format(row, 0, numbered("本期发证情况"), &section)?;
    row += 1;
    header(ws, row, &["类别代码", "证书类别", "等级", "数量"])?;
    row += 1;
    for c in &r.certificates {
        ws.write_string_with_format(row, 0, &c.kind, &cell)?;
        ws.write_string_with_format(row, 1, &c.kind_zh, &cell)?;
        ws.write_string_with_format(row, 2, &c.level_zh, &cell)?;
        ws.write_number_with_format(row, 3, c.count as f64, &num)?;
        row += 1;
    }
    row += 1;
    ws.write_string_with_format(row, 0, numbered("资金情况（元）"), &section)?;
    row += 1;
    header(
        ws,
        row,
        &["资金代码", "资金", "核定笔数", "核定金额", "公示笔数", "公示金额", "拨付笔数", "拨付金额", "追回金额"],
    )?;
    row += 1;
    // A spreadsheet's numbers are doubles: money is computed in fen and only turned into yuan for
    // the cell (exact to the fen below 2^53 fen), so that a clerk's sums in Excel work.
    let yuan = |fen: i64| fen as f64 / 100.0;
    for f in &r.funds {
        ws.write_string_with_format(row, 0, &f.fund, &cell)?;
        ws.write_string_with_format(row, 1, &f.name_zh, &cell)?;
        ws.write_number_with_format(row, 2, f.decided_claims as f64, &num)?;
        ws.write_number_with_format(row, 3, yuan(f.decided_fen), &money)?;
        ws.write_number_with_format(row, 4, f.published_claims as f64, &num)?;
        ws.write_number_with_format(row, 5, yuan(f.published_fen), &money)?;
        ws.write_number_with_format(row, 6, f.paid_claims as f64, &num)?;
        ws.write_number_with_format(row, 7, yuan(f.paid_fen), &money)?;
        ws.write_number_with_format(row, 8, yuan(f.recovered_fen), &money)?;
        row += 1;
    }
    row += 1;
    ws.write_string_with_format(row, 0, numbered("以前期间更正（已关账期间的数据在关账后发生的变化）"), &section)?;
    row += 1;
    if r.corrections.is_empty() {
        ws.write_string(row, 0, "无")?;
    } else {
        header(ws, row, &["期间", "项目", "原报", "现值", "差额"])?;
        row += 1;
        for c in &r.corrections {
            let v = |x: i64| if c.money { yuan(x) } else { x as f64 };
            let f = if c.money { &money } else { &num };
            ws.write_string_with_format(row, 0, &c.period, &cell)?;
            ws.write_string_with_format(row, 1, &c.what_zh, &cell)?;
            ws.write_number_with_format(row, 2, v(c.reported), f)?;
            ws.write_number_with_format(row, 3, v(c.now), f)?;
            ws.write_number_with_format(row, 4, v(c.now - c.reported), f)?;
            row += 1;
        }
    }
    wb.save_to_buffer()
}

/// How many rows the reports read from (for the benchmark's heading).
pub async fn sizes(db: &Db) -> Result<Vec<(&'static str, i64)>> {
    let mut out = Vec::new();
    for table in ["person", "completion", "certificate", "claim", "claim_event"] {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        let n: i64 = with_pool!(db, |x| sqlx::query_scalar(&sql).fetch_one(x).await?);
        out.push((table, n));
    }
    Ok(out)
}

/// A program's year task and its decomposition to counties.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct YearlyTask {
    /// Program code.
    pub program_code: String,
    /// The city's task for the year.
    pub value: i64,
    /// Responsible units (free text: departments and bodies).
    pub responsible: String,
    /// Each county's share.
    pub counties: BTreeMap<String, i64>,
}

/// The year's tasks, by program.
pub async fn yearly_tasks(db: &Db, year: i32) -> Result<Vec<YearlyTask>> {
    let year = i64::from(year);
    let tasks: Vec<(String, i64, String)> = with_pool!(db, |x| {
        sqlx::query_as(
        "SELECT t.program_code, t.value, t.responsible FROM yearly_task t JOIN program p ON p.program_code = t.program_code \
         WHERE t.year = $1 ORDER BY p.sort_order"
    )
    .bind(year)
    .fetch_all(x)
    .await?
    });
    let shares: Vec<(String, String, i64)> =
        with_pool!(db, |x| sqlx::query_as("SELECT program_code, county_code, value FROM county_task WHERE year = $1")
            .bind(year)
            .fetch_all(x)
            .await?);
    Ok(tasks
        .into_iter()
        .map(|(program_code, value, responsible)| YearlyTask {
            counties: shares.iter().filter(|s| s.0 == program_code).map(|s| (s.1.clone(), s.2)).collect(),
            program_code,
            value,
            responsible,
        })
        .collect())
}

/// The largest task a program may be given for a year (persons or person-times).
pub const TASK_MAX: i64 = 100_000_000;

/// Sets a program's task for a year and its decomposition to the plan's counties, replacing
/// what was set before: every county named once, every share between 0 and [`TASK_MAX`], and
/// the shares adding up to the whole.
pub async fn set_yearly_task(
    db: &Db,
    actor: i64,
    year: i32,
    program_code: &str,
    value: i64,
    responsible: &str,
    shares: &[(String, i64)],
) -> Result<()> {
    let plan = crate::plan::current_plan(db).await?.plan;
    if year < plan.start.year() || year > plan.end.year() {
        return Err(StoreError::invalid(
            "year",
            Invalid::new(
                "task.year",
                format!("年度应在方案期内（{}–{}）", plan.start.year(), plan.end.year()),
                format!("the year must be within the plan ({}–{})", plan.start.year(), plan.end.year()),
            ),
        ));
    }
    let program = crate::plan::programs(db)
        .await?
        .into_iter()
        .find(|p| p.program_code == program_code)
        .ok_or(StoreError::NotFound)?;
    if program.unit == "none" {
        return Err(StoreError::invalid(
            "value",
            Invalid::new("target.none", "该计划不设数量目标", "this program has no numeric target"),
        ));
    }
    let range = |field: &str, v: i64| {
        if (0..=TASK_MAX).contains(&v) {
            Ok(())
        } else {
            Err(StoreError::invalid(
                field,
                Invalid::new(
                    "task.range",
                    format!("任务数应在 0 到 {TASK_MAX} 之间"),
                    format!("a task is between 0 and {TASK_MAX}"),
                ),
            ))
        }
    };
    range("value", value)?;
    let counties = crate::plan::counties(db).await?;
    let mut seen = std::collections::BTreeSet::new();
    for (c, v) in shares {
        if !counties.iter().any(|k| &k.county_code == c) {
            return Err(StoreError::invalid(
                &format!("county.{c}"),
                Invalid::new("task.county", format!("未知县区 {c}"), format!("no county {c} in the plan")),
            ));
        }
        if !seen.insert(c.clone()) {
            return Err(StoreError::invalid(
                &format!("county.{c}"),
                Invalid::new("task.county_twice", format!("县区 {c} 出现两次"), format!("county {c} given twice")),
            ));
        }
        range(&format!("county.{c}"), *v)?;
    }
    let sum: i64 = shares.iter().map(|s| s.1).sum();
    if !shares.is_empty() && sum != value {
        return Err(StoreError::invalid(
            "value",
            Invalid::new(
                "task.sum",
                format!("各县区任务合计 {sum}，与全市年度任务 {value} 不符（相差 {}）", value - sum),
                format!("the counties' shares add up to {sum}, not the city's {value} (difference {})", value - sum),
            ),
        ));
    }
    let responsible: String = responsible.trim().chars().take(200).collect();
    let y = i64::from(year);
    in_tx!(db, |tx| {
        let before: Option<i64> =
            sqlx::query_scalar("SELECT value FROM yearly_task WHERE year = $1 AND program_code = $2")
                .bind(y)
                .bind(program_code)
                .fetch_optional(&mut *tx)
                .await?;
        sqlx::query("DELETE FROM county_task WHERE year = $1 AND program_code = $2")
            .bind(y)
            .bind(program_code)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO yearly_task (year, program_code, value, responsible, set_by, set_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (year, program_code) DO UPDATE SET value = excluded.value, responsible = excluded.responsible, \
             set_by = excluded.set_by, set_at = excluded.set_at",
        )
        .bind(y)
        .bind(program_code)
        .bind(value)
        .bind(&responsible)
        .bind(actor)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        for (c, v) in shares {
            sqlx::query("INSERT INTO county_task (year, program_code, county_code, value) VALUES ($1, $2, $3, $4)")
                .bind(y)
                .bind(program_code)
                .bind(c)
                .bind(*v)
                .execute(&mut *tx)
                .await?;
        }
        audit::record(
            &mut *tx,
            Some(actor),
            "set_yearly_task",
            "program",
            program_code,
            &serde_json::json!({"year": year, "before": before, "value": value, "responsible": responsible,
                "counties": shares.iter().map(|(c, v)| (c.clone(), *v)).collect::<BTreeMap<_, _>>()}),
        )
        .await?;
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_parse_with_their_days_and_due_dates() {
        let m = Period::parse("2020-02").unwrap();
        assert_eq!(
            (m.from.to_string(), m.to.to_string(), m.due_on().to_string()),
            ("2020-02-01".into(), "2020-02-29".into(), "2020-03-05".into())
        );
        let q = Period::parse("2020-q4").unwrap();
        assert_eq!(q.code, "2020-Q4");
        assert_eq!(
            (q.from.to_string(), q.to.to_string(), q.due_on().to_string()),
            ("2020-10-01".into(), "2020-12-31".into(), "2021-01-10".into())
        );
        assert_eq!(q.zh(), "2020年第4季度");
        for bad in
            ["2020", "2020-13", "2020-00", "2020-Q5", "2020-Q01", "20-03", "2020-3", "１９９９-01", "2020-03; DROP", ""]
        {
            assert!(Period::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            Period::parse("2020-Q3").unwrap().earlier_this_year().iter().map(|p| p.code.as_str()).collect::<Vec<_>>(),
            ["2020-Q1", "2020-Q2"]
        );
    }

    #[test]
    fn a_period_is_read_in_china_time() {
        let (from, until) = Period::parse("2020-03").unwrap().moments();
        assert_eq!(from.to_rfc3339(), "2020-02-29T16:00:00+00:00");
        assert_eq!(until.to_rfc3339(), "2020-03-31T16:00:00+00:00");
    }

    #[test]
    fn percent_rounds_to_one_decimal() {
        assert_eq!(percent(813, 1000).as_deref(), Some("81.3"));
        assert_eq!(percent(2, 3).as_deref(), Some("66.7"));
        assert_eq!(percent(1, 0), None);
    }
}
