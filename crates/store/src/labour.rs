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
    year_range(&plan, year)?;
    if !crate::plan::counties(db).await?.iter().any(|c| c.county_code == county) {
        return Err(StoreError::invalid(
            "county",
            Invalid::new("statistic.county", "未知县区", "no such county in the plan"),
        ));
    }
    let count = |field: &str, v: i64, min: i64| {
        if (min..=COUNT_MAX).contains(&v) {
            Ok(())
        } else {
            Err(StoreError::invalid(
                field,
                Invalid::new(
                    "statistic.range",
                    format!("人数应在 {min} 到 {COUNT_MAX} 之间"),
                    format!("a count is between {min} and {COUNT_MAX}"),
                ),
            ))
        }
    };
    count("employed", employed, 1)?;
    count("skilled", skilled, 0)?;
    count("high_skilled", high_skilled, 0)?;
    if skilled > employed {
        return Err(StoreError::invalid(
            "skilled",
            Invalid::new(
                "statistic.skilled",
                "技能劳动者人数不能多于就业人员",
                "skilled workers cannot exceed the employed",
            ),
        ));
    }
    if high_skilled > skilled {
        return Err(StoreError::invalid(
            "high_skilled",
            Invalid::new(
                "statistic.high_skilled",
                "高技能人才人数不能多于技能劳动者",
                "high-skilled workers cannot exceed skilled workers",
            ),
        ));
    }
    let source: String = source.trim().chars().take(500).collect();
    if source.is_empty() {
        return Err(StoreError::invalid(
            "source",
            Invalid::new(
                "statistic.source",
                "请写明数据来源（如：统计局《2020年统计年鉴》表3-1）",
                "give the source (e.g. the statistics bureau's yearbook, table)",
            ),
        ));
    }
    let y = i64::from(year);
    in_tx!(db, |tx| {
        let before: Option<(i64, i64, i64, String)> = sqlx::query_as(
            "SELECT employed, skilled, high_skilled, source FROM labour_statistic WHERE county_code = $1 AND year = $2",
        )
        .bind(county)
        .bind(y)
        .fetch_optional(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO labour_statistic (county_code, year, employed, skilled, high_skilled, source, entered_by, entered_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (county_code, year) DO UPDATE SET employed = excluded.employed, \
             skilled = excluded.skilled, high_skilled = excluded.high_skilled, source = excluded.source, \
             entered_by = excluded.entered_by, entered_at = excluded.entered_at",
        )
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
