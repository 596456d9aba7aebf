//! T2 and T3 measured: skilled workers as a share of the employed (T2, ≥ 25 %) and high-skilled
//! workers as a share of skilled workers (T3, ≥ 30 %), per county and for the city.
//!
//! Method (stated on the page): the statistics bureau's figures for a county and year — persons
//! employed, skilled workers, high-skilled workers — are entered with their source; to them the
//! system adds the persons registered in the county who obtained a vocational qualification or a
//! skill-level certificate through it from the plan's start to the end of the year (each person
//! once; level 3 (高级工) or above counting as high-skilled). The shares are the sums divided.

use crate::{audit, in_tx, now, with_pool, Db, Result, StoreError};
use chrono::{Datelike, NaiveDate};
use jineng_domain::Invalid;
use serde::Serialize;

/// The largest count accepted (persons).
pub const COUNT_MAX: i64 = 1_000_000_000;

/// One county's figures for a year, with both shares.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct RatioLine {
    /// County code (none: the city).
    pub county_code: Option<String>,
    /// Name, Chinese.
    pub name_zh: String,
    /// Name, English.
    pub name_en: String,
    /// Employed persons (statistics bureau); none when not entered.
    pub employed: Option<i64>,
    /// Skilled workers (statistics bureau).
    pub skilled_stat: Option<i64>,
    /// High-skilled workers (statistics bureau).
    pub high_stat: Option<i64>,
    /// Persons certified through the system.
    pub certified: i64,
    /// Of whom at level 3 or above.
    pub certified_high: i64,
    /// Skilled workers counted (statistic + certified).
    pub skilled: Option<i64>,
    /// High-skilled workers counted.
    pub high_skilled: Option<i64>,
    /// T2 share, percent.
    pub t2_pct: Option<String>,
    /// T3 share, percent.
    pub t3_pct: Option<String>,
    /// T2 reached.
    pub t2_met: Option<bool>,
    /// T3 reached.
    pub t3_met: Option<bool>,
    /// Where the statistics come from.
    pub source: Option<String>,
}

/// T2 and T3 for a year: the required shares, each county's line and the city's.
#[derive(Debug, Clone, Serialize)]
pub struct Ratios {
    /// The year.
    pub year: i32,
    /// T2's required share, percent (from the plan).
    pub t2_required: i64,
    /// T3's required share, percent.
    pub t3_required: i64,
    /// Counties in plan order.
    pub counties: Vec<RatioLine>,
    /// The city (sums of the counties that have statistics).
    pub city: RatioLine,
}

fn year_range(plan: &jineng_domain::plan::PlanHeader, year: i32) -> Result<()> {
    let (a, b) = (plan.start.year() - 1, plan.end.year());
    if (a..=b).contains(&year) {
        Ok(())
    } else {
        Err(StoreError::invalid(
            "year",
            Invalid::new(
                "statistic.year",
                format!("年度应为 {a}–{b}（方案期及其前一年的基数）"),
                format!("the year must be {a}–{b} (the plan's years and the base year before)"),
            ),
        ))
    }
}

/// The statistic's fields, in the sheet's column order (errors of [`check`] name them by index).
const FIELDS: [&str; 6] = ["county", "year", "employed", "skilled", "high_skilled", "source"];

/// Writes (or replaces) one county's figures for a year.
const UPSERT: &str = "INSERT INTO labour_statistic (county_code, year, employed, skilled, high_skilled, source, entered_by, entered_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (county_code, year) DO UPDATE SET employed = excluded.employed, \
     skilled = excluded.skilled, high_skilled = excluded.high_skilled, source = excluded.source, \
     entered_by = excluded.entered_by, entered_at = excluded.entered_at";

/// Every rule one county's figures for a year break, as (index into [`FIELDS`], why): the same
/// rules for the form and for each row of a sheet.
fn check(
    plan: &jineng_domain::plan::PlanHeader,
    counties: &[crate::plan::CountyRow],
    r: &StatisticRow,
) -> Vec<(usize, Invalid)> {
    let mut out = Vec::new();
    if !counties.iter().any(|c| c.county_code == r.county) {
        out.push((0, Invalid::new("statistic.county", "未知县区", "no such county in the plan")));
    }
    if let Err(StoreError::Invalid { reason, .. }) = year_range(plan, r.year) {
        out.push((1, reason));
    }
    for (i, v, min) in [(2, r.employed, 1), (3, r.skilled, 0), (4, r.high_skilled, 0)] {
        if !(min..=COUNT_MAX).contains(&v) {
            out.push((
                i,
                Invalid::new(
                    "statistic.range",
                    format!("人数应在 {min} 到 {COUNT_MAX} 之间"),
                    format!("a count is between {min} and {COUNT_MAX}"),
                ),
            ));
        }
    }
    if r.skilled > r.employed {
        out.push((
            3,
            Invalid::new(
                "statistic.skilled",
                "技能劳动者人数不能多于就业人员",
                "skilled workers cannot exceed the employed",
            ),
        ));
    }
    if r.high_skilled > r.skilled {
        out.push((
            4,
            Invalid::new(
                "statistic.high_skilled",
                "高技能人才人数不能多于技能劳动者",
                "high-skilled workers cannot exceed skilled workers",
            ),
        ));
    }
    if r.source.is_empty() || r.source.chars().count() > 500 {
        out.push((
            5,
            Invalid::new(
                "statistic.source",
                "请写明数据来源，500字以内（如：统计局《2020年统计年鉴》表3-1）",
                "give the source, at most 500 characters (e.g. the statistics bureau's yearbook, table)",
            ),
        ));
    }
    out
}

/// Records (or replaces) the statistics bureau's figures for a county and year, with their source.
#[expect(clippy::too_many_arguments, reason = "one argument per figure of the statistic")]
pub async fn record(
    db: &Db,
    actor: i64,
    county: &str,
    year: i32,
    employed: i64,
    skilled: i64,
    high_skilled: i64,
    source: &str,
) -> Result<()> {
    let plan = crate::plan::current_plan(db).await?.plan;
    let row = StatisticRow {
        county: county.to_owned(),
        year,
        employed,
        skilled,
        high_skilled,
        source: source.trim().to_owned(),
    };
    if let Some((i, reason)) = check(&plan, &crate::plan::counties(db).await?, &row).into_iter().next() {
        return Err(StoreError::invalid(FIELDS[i], reason));
    }
    let source = row.source;
    let y = i64::from(year);
    in_tx!(db, |tx| {
        let before: Option<(i64, i64, i64, String)> = sqlx::query_as(
            "SELECT employed, skilled, high_skilled, source FROM labour_statistic WHERE county_code = $1 AND year = $2",
        )
        .bind(county)
        .bind(y)
        .fetch_optional(&mut *tx)
        .await?;
        sqlx::query(UPSERT)
            .bind(county)
            .bind(y)
            .bind(employed)
            .bind(skilled)
            .bind(high_skilled)
            .bind(&source)
            .bind(actor)
            .bind(now())
            .execute(&mut *tx)
            .await?;
        audit::record(
            &mut *tx,
            Some(actor),
            "record_statistic",
            "labour_statistic",
            &format!("{county}/{year}"),
            &serde_json::json!({"before": before, "employed": employed, "skilled": skilled, "high_skilled": high_skilled, "source": source}),
        )
        .await?;
    });
    Ok(())
}

/// The columns of the statistics sheet (`.xlsx` or CSV), Chinese then English.
pub const SHEET_HEADERS: [&str; 6] = [
    "县区代码 county code",
    "年度 year",
    "就业人员 employed",
    "技能劳动者 skilled workers",
    "高技能人才 high-skilled workers",
    "数据来源 source",
];

/// One county's figures for a year, as read from a sheet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatisticRow {
    /// County code.
    pub county: String,
    /// The statistical year the figures describe.
    pub year: i32,
    /// Employed persons.
    pub employed: i64,
    /// Skilled workers.
    pub skilled: i64,
    /// High-skilled workers.
    pub high_skilled: i64,
    /// Where the figures come from (the statistics office's table, as typed on the sheet).
    pub source: String,
}

/// An empty statistics sheet with its header (text columns for the codes).
pub fn sheet_template() -> std::result::Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let ws = wb.add_worksheet();
    ws.set_name("统计数据")?;
    for (i, h) in SHEET_HEADERS.iter().enumerate() {
        ws.write_string_with_format(0, i as u16, *h, &bold)?;
        ws.set_column_width(i as u16, 22)?;
    }
    ws.set_column_format(0, &Format::new().set_num_format("@"))?;
    wb.save_to_buffer()
}

fn column(i: usize) -> String {
    format!("{} {}", (b'A' + i as u8) as char, SHEET_HEADERS[i])
}

/// A statistics sheet as read: (row number, figures) per row, and the unreadable rows.
pub type SheetRead = (Vec<(usize, StatisticRow)>, Vec<crate::roster::RowError>);

/// Reads a statistics sheet: every row's numbers, or the rows and columns that are wrong.
pub fn parse_sheet(bytes: &[u8]) -> std::result::Result<SheetRead, Invalid> {
    use crate::roster::RowError;
    let rows = crate::sheet::read_template::<6>(bytes, &SHEET_HEADERS)?;
    let (mut out, mut errors) = (Vec::new(), Vec::new());
    for (row, cells) in rows {
        if cells.iter().all(Option::is_none) {
            continue;
        }
        let before = errors.len();
        let mut text = |i: usize| -> String {
            match &cells[i] {
                Some(Ok(s)) => s.trim().to_owned(),
                Some(Err(e)) => {
                    errors.push(RowError { row, column: column(i), reason: (*e).to_owned() });
                    String::new()
                }
                None => String::new(),
            }
        };
        let cols: Vec<String> = (0..6).map(&mut text).collect();
        let mut number = |i: usize| -> i64 {
            let t = cols[i].replace([',', '，'], "");
            let t = t.strip_suffix(".0").unwrap_or(&t);
            t.parse::<i64>().unwrap_or_else(|_| {
                errors.push(RowError { row, column: column(i), reason: "应为整数 / a whole number".into() });
                0
            })
        };
        let (year, employed, skilled, high_skilled) = (number(1), number(2), number(3), number(4));
        if cols[0].is_empty() {
            errors.push(RowError { row, column: column(0), reason: "必填 / required".into() });
        }
        if cols[5].is_empty() {
            errors.push(RowError { row, column: column(5), reason: "请写明数据来源 / give the source".into() });
        }
        if errors.len() == before {
            out.push((
                row,
                StatisticRow {
                    county: cols[0].clone(),
                    year: i32::try_from(year).unwrap_or(0),
                    employed,
                    skilled,
                    high_skilled,
                    source: cols[5].clone(),
                },
            ));
        }
    }
    Ok((out, errors))
}

/// Records a sheet of statistics: every row is checked as [`record`] checks one (a wrong row is
/// named with its column and why), then all land in one transaction, or none.
pub async fn record_sheet(
    db: &Db,
    actor: i64,
    rows: &[(usize, StatisticRow)],
) -> Result<std::result::Result<usize, Vec<crate::roster::RowError>>> {
    use crate::roster::RowError;
    let plan = crate::plan::current_plan(db).await?.plan;
    let counties = crate::plan::counties(db).await?;
    let mut errors = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for (row, r) in rows {
        for (i, reason) in check(&plan, &counties, r) {
            errors.push(RowError { row: *row, column: column(i), reason: format!("{} / {}", reason.zh, reason.en) });
        }
        if !seen.insert((r.county.clone(), r.year)) {
            errors.push(RowError {
                row: *row,
                column: column(0),
                reason: "同一县区同一年度出现两次 / the same county and year twice".into(),
            });
        }
    }
    if rows.len() > 10_000 {
        errors
            .push(RowError { row: 1, column: column(0), reason: "一次最多10,000行 / at most 10,000 rows".into() });
    }
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    in_tx!(db, |tx| {
        for (_, r) in rows {
            sqlx::query(UPSERT)
                .bind(&r.county)
                .bind(i64::from(r.year))
                .bind(r.employed)
                .bind(r.skilled)
                .bind(r.high_skilled)
                .bind(&r.source)
                .bind(actor)
                .bind(now())
                .execute(&mut *tx)
                .await?;
        }
        audit::record(
            &mut *tx,
            Some(actor),
            "import_statistics",
            "labour_statistic",
            &format!("{} rows", rows.len()),
            &serde_json::json!({"rows": rows.iter().map(|(_, r)| format!("{}/{}", r.county, r.year)).collect::<Vec<_>>()}),
        )
        .await?;
    });
    Ok(Ok(rows.len()))
}

fn shares(l: &mut RatioLine, t2: i64, t3: i64) {
    if let (Some(e), Some(s), Some(h)) = (l.employed, l.skilled_stat, l.high_stat) {
        let skilled = s + l.certified;
        let high = h + l.certified_high;
        l.skilled = Some(skilled);
        l.high_skilled = Some(high);
        l.t2_pct = crate::reports::percent(skilled, e);
        l.t3_pct = crate::reports::percent(high, skilled);
        l.t2_met = Some(skilled * 100 >= t2 * e);
        l.t3_met = (skilled > 0).then(|| high * 100 >= t3 * skilled);
    }
}

/// T2 and T3 for a year, per county and for the city.
pub async fn ratios(db: &Db, year: i32) -> Result<Ratios> {
    let plan = crate::plan::current_plan(db).await?.plan;
    year_range(&plan, year)?;
    let targets = crate::plan::overall_targets(db).await?;
    let required = |id: &str, default: i64| targets.iter().find(|t| t.target_id == id).map_or(default, |t| t.value);
    let (t2, t3) = (required("T2", 25), required("T3", 30));
    let y = i64::from(year);
    let stats: Vec<(String, i64, i64, i64, String)> = with_pool!(db, |x| sqlx::query_as(
        "SELECT county_code, employed, skilled, high_skilled, source FROM labour_statistic WHERE year = $1"
    )
    .bind(y)
    .fetch_all(x)
    .await?);
    let until = NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or(plan.end);
    let certified: Vec<(String, i64, i64)> = with_pool!(db, |x| {
        sqlx::query_as(
        "SELECT p.county_code, COUNT(DISTINCT c.person_id), COUNT(DISTINCT CASE WHEN c.level <= 3 THEN c.person_id END) \
         FROM certificate c JOIN person p ON p.person_id = c.person_id \
         WHERE c.kind IN ('qualification', 'skill_level') AND c.issued_on >= $1 AND c.issued_on <= $2 GROUP BY p.county_code"
    )
    .bind(plan.start)
    .bind(until)
    .fetch_all(x)
    .await?
    });
    let mut city =
        RatioLine { name_zh: plan.region_name_zh.clone(), name_en: plan.region_name_en.clone(), ..Default::default() };
    let mut counties = Vec::new();
    for c in crate::plan::counties(db).await? {
        let mut l = RatioLine {
            county_code: Some(c.county_code.clone()),
            name_zh: c.name_zh,
            name_en: c.name_en,
            ..Default::default()
        };
        if let Some(s) = stats.iter().find(|s| s.0 == c.county_code) {
            l.employed = Some(s.1);
            l.skilled_stat = Some(s.2);
            l.high_stat = Some(s.3);
            l.source = Some(s.4.clone());
        }
        if let Some(k) = certified.iter().find(|k| k.0 == c.county_code) {
            l.certified = k.1;
            l.certified_high = k.2;
        }
        city.certified += l.certified;
        city.certified_high += l.certified_high;
        if let (Some(e), Some(s), Some(h)) = (l.employed, l.skilled_stat, l.high_stat) {
            city.employed = Some(city.employed.unwrap_or(0) + e);
            city.skilled_stat = Some(city.skilled_stat.unwrap_or(0) + s);
            city.high_stat = Some(city.high_stat.unwrap_or(0) + h);
        }
        shares(&mut l, t2, t3);
        counties.push(l);
    }
    // The city's shares only when every county has its statistics (a partial sum misleads).
    if counties.iter().all(|l| l.employed.is_some()) {
        shares(&mut city, t2, t3);
    } else {
        city.employed = None;
        city.skilled_stat = None;
        city.high_stat = None;
    }
    Ok(Ratios { year, t2_required: t2, t3_required: t3, counties, city })
}
