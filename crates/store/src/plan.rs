//! The plan in the database: loading a plan file, targets set later by an administrator, and
//! progress counted from completion rows (through the `progress` aggregate).

use crate::audit;
use crate::{in_tx, now, with_pool, Db, Result, StoreError};
use jineng_domain::plan::{Plan, TargetValue};
use jineng_domain::Invalid;
use serde::Serialize;

const OCCUPATIONS_CSV: &str = include_str!("../../../data/occupations.csv");

/// Loads a plan into an empty database (plan, counties, departments, targets, programs) and the
/// national occupation catalog. Does nothing if this plan is already loaded, so values an
/// administrator set since are kept.
pub async fn load_plan(db: &Db, plan: &Plan, document: &str) -> Result<bool> {
    let existing: Option<(String,)> =
        with_pool!(db, |p| sqlx::query_as("SELECT plan_id FROM plan LIMIT 1").fetch_optional(p).await?);
    if let Some((id,)) = existing {
        if id != plan.plan.id {
            return Err(StoreError::invalid(
                "plan",
                jineng_domain::Invalid::new(
                    "plan.other",
                    format!("数据库中已是计划 {id}"),
                    format!("the database holds plan {id}, not {}", plan.plan.id),
                ),
            ));
        }
        return Ok(false);
    }
    let h = &plan.plan;
    in_tx!(db, |tx| {
        sqlx::query(
            "INSERT INTO plan (plan_id, name_zh, name_en, region_code, region_name_zh, region_name_en, \
             start_date, end_date, status_zh, status_en, source, document, loaded_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(&h.id)
        .bind(&h.name_zh)
        .bind(&h.name_en)
        .bind(h.region_code.as_str())
        .bind(&h.region_name_zh)
        .bind(&h.region_name_en)
        .bind(h.start)
        .bind(h.end)
        .bind(&h.status_zh)
        .bind(&h.status_en)
        .bind(&h.source)
        .bind(document)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        for (i, c) in plan.counties.iter().enumerate() {
            sqlx::query("INSERT INTO county (county_code, name_zh, name_en, population, sort_order) VALUES ($1, $2, $3, $4, $5)")
                .bind(c.code.as_str())
                .bind(&c.name_zh)
                .bind(&c.name_en)
                .bind(c.population)
                .bind(i as i64)
                .execute(&mut *tx)
                .await?;
        }
        for d in &plan.departments {
            sqlx::query("INSERT INTO department (department_code, name_zh, name_en) VALUES ($1, $2, $3)")
                .bind(&d.code)
                .bind(&d.name_zh)
                .bind(&d.name_en)
                .execute(&mut *tx)
                .await?;
        }
        for (i, t) in plan.targets.iter().enumerate() {
            sqlx::query(
                "INSERT INTO overall_target (target_id, name_zh, name_en, unit, value, subsidised, clause, quote, note_zh, note_en, sort_order) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(&t.id)
            .bind(&t.name_zh)
            .bind(&t.name_en)
            .bind(t.unit.code())
            .bind(t.value)
            .bind(t.subsidised)
            .bind(&t.clause)
            .bind(&t.quote)
            .bind(&t.note_zh)
            .bind(&t.note_en)
            .bind(i as i64)
            .execute(&mut *tx)
            .await?;
        }
        // Parents first, so the foreign key on parent_code holds.
        let mut programs: Vec<_> = plan.programs.iter().enumerate().collect();
        programs.sort_by_key(|(_, p)| p.parent.is_some());
        for (i, p) in programs {
            sqlx::query(
                "INSERT INTO program (program_code, parent_code, name_zh, name_en, unit, target, pending_asked, province_note, \
                 share_pct, responsible, lead_governments, clause, quote, note_zh, note_en, sort_order) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
            )
            .bind(&p.code)
            .bind(&p.parent)
            .bind(&p.name_zh)
            .bind(&p.name_en)
            .bind(p.unit.code())
            .bind(p.target)
            .bind(p.pending.as_ref().map(|x| x.asked.join(",")))
            .bind(p.pending.as_ref().map(|x| x.province_note.clone()))
            .bind(p.share_pct)
            .bind(p.responsible.join(","))
            .bind(p.lead_governments)
            .bind(&p.clause)
            .bind(&p.quote)
            .bind(&p.note_zh)
            .bind(&p.note_en)
            .bind(i as i64)
            .execute(&mut *tx)
            .await?;
        }
        // The national catalog, many rows per statement.
        let rows: Vec<Vec<&str>> = OCCUPATIONS_CSV
            .lines()
            .skip(1)
            .map(|l| l.split(',').collect::<Vec<_>>())
            .filter(|f| f.len() == 4)
            .collect();
        for part in rows.chunks(500) {
            let mut qb =
                sqlx::QueryBuilder::new("INSERT INTO occupation (occupation_code, name, major_group, has_levels) ");
            qb.push_values(part, |mut b, f| {
                b.push_bind(f[0]).push_bind(f[1]).push_bind(f[2].parse::<i64>().unwrap_or(0)).push_bind(f[3] == "1");
            });
            qb.build().execute(&mut *tx).await?;
        }
        audit::record(&mut *tx, None, "load", "plan", &h.id, &serde_json::json!({"programs": plan.programs.len()}))
            .await?;
    });
    Ok(true)
}

/// The plan file as loaded into this database. Most pages show something of it: the last
/// document parsed is kept with its text, and parsed again only when the stored text differs
/// (another database, or a plan loaded since).
pub async fn current_plan(db: &Db) -> Result<Plan> {
    static PARSED: std::sync::Mutex<Option<(String, Plan)>> = std::sync::Mutex::new(None);
    let (doc,): (String,) =
        with_pool!(db, |p| sqlx::query_as("SELECT document FROM plan LIMIT 1").fetch_one(p).await?);
    if let Some((text, plan)) = PARSED.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
        if *text == doc {
            return Ok(plan.clone());
        }
    }
    let plan = Plan::from_toml(&doc).map_err(|e| StoreError::invalid("plan", e))?;
    *PARSED.lock().unwrap_or_else(|e| e.into_inner()) = Some((doc, plan.clone()));
    Ok(plan)
}

/// A program row with its live target.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, PartialEq)]
pub struct ProgramRow {
    /// Code (`P2a`).
    pub program_code: String,
    /// Parent code.
    pub parent_code: Option<String>,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// `person_times`, `persons` or `none`.
    pub unit: String,
    /// Target value if set (by the plan or later by an administrator).
    pub target: Option<i64>,
    /// Departments asked to propose a value (comma-separated codes) if the plan left it pending.
    pub pending_asked: Option<String>,
    /// Province-wide reference figure.
    pub province_note: Option<String>,
    /// Required skill-upgrade share, percent.
    pub share_pct: Option<i64>,
    /// Responsible departments (comma-separated codes).
    pub responsible: String,
    /// City and county governments responsible too.
    pub lead_governments: bool,
    /// Clause id.
    pub clause: String,
    /// Verbatim quote.
    pub quote: String,
    /// Note, Chinese.
    pub note_zh: Option<String>,
    /// Note, English.
    pub note_en: Option<String>,
}

impl ProgramRow {
    /// The target as it stands now.
    pub fn target_value(&self) -> TargetValue {
        match (self.target, &self.pending_asked) {
            (Some(value), _) => TargetValue::Set { value },
            (None, Some(asked)) => TargetValue::Pending(jineng_domain::plan::Pending {
                asked: asked.split(',').map(str::to_owned).collect(),
                province_note: self.province_note.clone().unwrap_or_default(),
            }),
            (None, None) => TargetValue::None,
        }
    }

    /// Department codes responsible.
    pub fn responsible_codes(&self) -> Vec<&str> {
        self.responsible.split(',').filter(|s| !s.is_empty()).collect()
    }

    /// Department codes asked to propose a pending value.
    pub fn asked_codes(&self) -> Vec<&str> {
        self.pending_asked.as_deref().map(|a| a.split(',').collect()).unwrap_or_default()
    }
}

/// All programs in plan order.
pub async fn programs(db: &Db) -> Result<Vec<ProgramRow>> {
    Ok(with_pool!(db, |p| {
        sqlx::query_as(
        "SELECT program_code, parent_code, name_zh, name_en, unit, target, pending_asked, province_note, share_pct, \
         responsible, lead_governments, clause, quote, note_zh, note_en FROM program ORDER BY sort_order"
    )
    .fetch_all(p)
    .await?
    }))
}

/// An overall target row.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct OverallTargetRow {
    /// `T1`…
    pub target_id: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    pub unit: String,
    pub value: i64,
    /// Of which subsidised.
    pub subsidised: Option<i64>,
    pub clause: String,
    pub quote: String,
    /// Note, Chinese.
    pub note_zh: Option<String>,
    /// Note, English.
    pub note_en: Option<String>,
}

/// Overall targets in plan order.
pub async fn overall_targets(db: &Db) -> Result<Vec<OverallTargetRow>> {
    Ok(with_pool!(db, |p| {
        sqlx::query_as(
            "SELECT target_id, name_zh, name_en, unit, value, subsidised, clause, quote, note_zh, note_en \
         FROM overall_target ORDER BY sort_order",
        )
        .fetch_all(p)
        .await?
    }))
}

/// A county row.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct CountyRow {
    pub county_code: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    pub population: i64,
}

/// Counties in plan order.
pub async fn counties(db: &Db) -> Result<Vec<CountyRow>> {
    Ok(with_pool!(db, |p| sqlx::query_as(
        "SELECT county_code, name_zh, name_en, population FROM county WHERE NOT outside ORDER BY sort_order"
    )
    .fetch_all(p)
    .await?))
}

/// A department row.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct DepartmentRow {
    pub department_code: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
}

/// The departments the plan names, with their codes and names.
pub async fn departments(db: &Db) -> Result<Vec<DepartmentRow>> {
    Ok(with_pool!(db, |p| sqlx::query_as(
        "SELECT department_code, name_zh, name_en FROM department ORDER BY department_code"
    )
    .fetch_all(p)
    .await?))
}

/// Person-times counted for one slice (program, county or month).
#[derive(Debug, Clone, Default, Serialize, sqlx::FromRow, PartialEq, Eq)]
pub struct Counts {
    /// The key of the slice: a program code, county code or `YYYY-MM`.
    pub key: String,
    /// Completed trainings.
    pub person_times: i64,
    /// Of which in subsidised classes.
    pub subsidised: i64,
    /// Of which skill-upgrade training.
    pub skill_upgrade: i64,
}

/// Counts by month (`YYYY-MM`) for every month from the month of `from` to the month of `to`,
/// and on to any month outside them that has counts: a month without training is there with
/// zeros (a chart of them shows the gap), in order.
pub fn every_month(counts: Vec<Counts>, from: chrono::NaiveDate, to: chrono::NaiveDate) -> Vec<Counts> {
    use chrono::Datelike;
    let month = |key: &str| -> Option<(i32, u32)> {
        let (y, m) = key.split_once('-')?;
        Some((y.parse().ok()?, m.parse().ok()?)).filter(|(_, m)| (1..=12).contains(m))
    };
    let mut by_key: std::collections::BTreeMap<String, Counts> =
        counts.into_iter().map(|c| (c.key.clone(), c)).collect();
    let known = by_key.keys().filter_map(|k| month(k));
    let first = known.clone().min().map_or((from.year(), from.month()), |m| m.min((from.year(), from.month())));
    let last = known.max().map_or((to.year(), to.month()), |m| m.max((to.year(), to.month())));
    let (mut y, mut m) = first;
    while (y, m) <= last {
        let key = format!("{y:04}-{m:02}");
        by_key.entry(key.clone()).or_insert_with(|| Counts { key, ..Counts::default() });
        (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    }
    by_key.into_values().collect()
}

/// Which part of the progress aggregate to group by.
#[derive(Debug, Clone, Copy)]
pub enum GroupBy {
    /// By program code (leaf programs).
    Program,
    /// By county code.
    County,
    /// By month.
    Month,
}

/// Distinct people who completed a training in each of `programs`: what a target stated in
/// persons (万人) counts, where person-times would count a person twice.
pub async fn persons(db: &Db, programs: &[String]) -> Result<Vec<(String, i64)>> {
    if programs.is_empty() {
        return Ok(Vec::new());
    }
    // Kept with every completion (`program_persons`), so not counted here.
    let marks: Vec<String> = (1..=programs.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT program_code, persons FROM program_persons WHERE program_code IN ({}) ORDER BY program_code",
        marks.join(", ")
    );
    Ok(with_pool!(db, |p| {
        let mut q = sqlx::query_as::<_, (String, i64)>(&sql);
        for code in programs {
            q = q.bind(code);
        }
        q.fetch_all(p).await?
    }))
}

/// Person-times grouped by program, county or month, optionally restricted to some programs
/// and one county.
pub async fn counts(db: &Db, by: GroupBy, programs: Option<&[String]>, county: Option<&str>) -> Result<Vec<Counts>> {
    let key = match by {
        GroupBy::Program => "program_code",
        GroupBy::County => "county_code",
        GroupBy::Month => "month",
    };
    let mut sql = format!(
        "SELECT {key} AS key, CAST(COALESCE(SUM(person_times), 0) AS BIGINT) AS person_times, \
         CAST(COALESCE(SUM(subsidised), 0) AS BIGINT) AS subsidised, \
         CAST(COALESCE(SUM(skill_upgrade), 0) AS BIGINT) AS skill_upgrade FROM progress WHERE 1 = 1"
    );
    let mut n = 0;
    if county.is_some() {
        n += 1;
        sql.push_str(&format!(" AND county_code = ${n}"));
    }
    if let Some(ps) = programs {
        let marks: Vec<String> = (0..ps.len()).map(|i| format!("${}", n + 1 + i)).collect();
        if marks.is_empty() {
            return Ok(Vec::new());
        }
        sql.push_str(&format!(" AND program_code IN ({})", marks.join(", ")));
    }
    sql.push_str(&format!(" GROUP BY {key} ORDER BY {key}"));
    Ok(with_pool!(db, |p| {
        let mut q = sqlx::query_as::<_, Counts>(&sql);
        if let Some(c) = county {
            q = q.bind(c);
        }
        for code in programs.unwrap_or_default() {
            q = q.bind(code);
        }
        q.fetch_all(p).await?
    }))
}

/// Rebuilds the progress aggregate (and the first completion of each person in each program
/// and year, which counts the persons) from completion rows (after bulk loads).
pub async fn rebuild_progress(db: &Db) -> Result<()> {
    let (month, year) = match db {
        Db::Sqlite(_) => ("substr(completed_on, 1, 7)", "CAST(substr(completed_on, 1, 4) AS INTEGER)"),
        Db::Postgres(_) => ("to_char(completed_on, 'YYYY-MM')", "CAST(EXTRACT(YEAR FROM completed_on) AS BIGINT)"),
    };
    let sql = format!(
        "INSERT INTO progress (program_code, county_code, month, person_times, subsidised, skill_upgrade, persons) \
         SELECT program_code, county_code, {month}, COUNT(*), \
         SUM(CASE WHEN subsidised THEN 1 ELSE 0 END), SUM(CASE WHEN skill_upgrade THEN 1 ELSE 0 END), SUM(first) \
         FROM (SELECT program_code, county_code, completed_on, subsidised, skill_upgrade, \
         CASE WHEN ROW_NUMBER() OVER (PARTITION BY person_id, program_code, {year} ORDER BY completed_on, completion_id) = 1 \
         THEN 1 ELSE 0 END AS first FROM completion) c GROUP BY program_code, county_code, {month}"
    );
    let firsts = format!(
        "INSERT INTO program_person_year (program_code, year, person_id) SELECT DISTINCT program_code, {year}, person_id FROM completion \
         ORDER BY 1, 2, 3"
    );
    let clear = [
        "DELETE FROM progress",
        "DELETE FROM program_person_year",
        "DELETE FROM program_persons",
        "DELETE FROM program_person",
    ];
    let fill = [
        sql.as_str(),
        firsts.as_str(),
        // In key order, so that the primary key's B-tree is appended to rather than split at random.
        "INSERT INTO program_person (program_code, person_id) SELECT DISTINCT program_code, person_id FROM completion ORDER BY 1, 2",
        "INSERT INTO program_persons (program_code, persons) SELECT program_code, COUNT(*) FROM program_person GROUP BY program_code",
    ];
    match db {
        Db::Sqlite(p) => {
            let mut tx = p.begin().await?;
            for s in clear.iter().chain(&fill) {
                sqlx::query(s).execute(&mut *tx).await?;
            }
            tx.commit().await?;
        }
        // On PostgreSQL the emptied tables are filled without their secondary indexes and
        // foreign keys, which are made again (and checked) once, at the end.
        Db::Postgres(p) => {
            let mut tx = p.begin().await?;
            sqlx::query("SET LOCAL work_mem = '1GB'").execute(&mut *tx).await?;
            for s in clear {
                sqlx::query(s).execute(&mut *tx).await?;
            }
            let mut dropped = Vec::new();
            for table in ["progress", "program_person_year", "program_person", "program_persons"] {
                dropped.push(crate::demo::load::unindex(&mut tx, table).await?);
            }
            for s in fill {
                sqlx::query(s).execute(&mut *tx).await?;
            }
            for d in dropped {
                crate::demo::load::reindex(&mut tx, d).await?;
            }
            tx.commit().await?;
        }
    }
    Ok(())
}

/// Recounts person-times from completion rows directly (slow; for checks and tests).
pub async fn recount(db: &Db) -> Result<Vec<Counts>> {
    Ok(with_pool!(db, |p| sqlx::query_as(
        "SELECT program_code AS key, COUNT(*) AS person_times, \
         CAST(SUM(CASE WHEN subsidised THEN 1 ELSE 0 END) AS BIGINT) AS subsidised, \
         CAST(SUM(CASE WHEN skill_upgrade THEN 1 ELSE 0 END) AS BIGINT) AS skill_upgrade \
         FROM completion GROUP BY program_code ORDER BY program_code"
    )
    .fetch_all(p)
    .await?))
}

/// One change of a program target.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct TargetChange {
    pub program_code: String,
    /// Value before (None: was pending).
    pub old_target: Option<i64>,
    /// New value.
    pub new_target: i64,
    /// Why (e.g. the department's proposal).
    pub reason: String,
    /// Username of who changed it.
    pub changed_by: String,
    pub changed_at: chrono::DateTime<chrono::Utc>,
}

/// Sets a pending target inside a transaction `$tx` (the body of [`set_target`] and of adopting a
/// proposal): refuses what the plan fixes, keeps the change and audits it.
macro_rules! set_target_body {
    ($tx:expr, $actor:expr, $program_code:expr, $value:expr, $reason:expr) => {{
        let row: Option<(Option<i64>, String, Option<String>)> =
            sqlx::query_as("SELECT target, unit, pending_asked FROM program WHERE program_code = $1")
                .bind($program_code)
                .fetch_optional(&mut *$tx)
                .await?;
        let Some((old, unit, pending)) = row else {
            return Err(StoreError::NotFound);
        };
        // Only a target the plan left pending (X) is set here; what the plan fixes stays.
        if pending.is_none() && unit != "none" {
            return Err(StoreError::invalid(
                "target",
                Invalid::new(
                    "target.fixed_by_plan",
                    "方案已规定此目标，不能调整",
                    "the plan fixes this target; only pending targets are set",
                ),
            ));
        }
        if unit == "none" {
            return Err(StoreError::invalid(
                "target",
                Invalid::new("target.none", "该计划不设数量目标", "this program has no numeric target"),
            ));
        }
        sqlx::query("UPDATE program SET target = $1 WHERE program_code = $2")
            .bind($value)
            .bind($program_code)
            .execute(&mut *$tx)
            .await?;
        sqlx::query(
            "INSERT INTO target_change (program_code, old_target, new_target, reason, changed_by, changed_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind($program_code)
        .bind(old)
        .bind($value)
        .bind($reason.trim())
        .bind($actor)
        .bind(now())
        .execute(&mut *$tx)
        .await?;
        audit::record(
            &mut *$tx,
            Some($actor),
            "set_target",
            "program",
            $program_code,
            &serde_json::json!({"old": old, "new": $value, "reason": $reason.trim()}),
        )
        .await?;
    }};
}

/// Sets a program target (typically a pending one, once the department has proposed it),
/// keeping the change with who and when.
pub async fn set_target(db: &Db, actor: i64, program_code: &str, value: i64, reason: &str) -> Result<()> {
    check_target(value, reason)?;
    in_tx!(db, |tx| {
        set_target_body!(tx, actor, program_code, value, reason);
    });
    Ok(())
}

/// The largest target a program may be given (persons or person-times).
pub const TARGET_MAX: i64 = 1_000_000_000;

fn check_target(value: i64, reason: &str) -> Result<()> {
    if !(0..=TARGET_MAX).contains(&value) {
        return Err(StoreError::invalid(
            "target",
            Invalid::new(
                "target.range",
                format!("目标值应在 0 到 {TARGET_MAX} 之间"),
                format!("a target is between 0 and {TARGET_MAX}"),
            ),
        ));
    }
    if reason.trim().is_empty() {
        return Err(StoreError::invalid(
            "reason",
            Invalid::new("reason.empty", "请填写调整依据", "give the reason (e.g. the proposal document)"),
        ));
    }
    Ok(())
}

/// Changes of one program's target, newest first.
pub async fn target_changes(db: &Db, program_code: &str) -> Result<Vec<TargetChange>> {
    Ok(with_pool!(db, |p| {
        sqlx::query_as(
            "SELECT c.program_code, c.old_target, c.new_target, c.reason, u.username AS changed_by, c.changed_at \
         FROM target_change c JOIN app_user u ON u.user_id = c.changed_by \
         WHERE c.program_code = $1 ORDER BY c.target_change_id DESC",
        )
        .bind(program_code)
        .fetch_all(p)
        .await?
    }))
}

/// A department's proposal for a target the plan left pending.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Proposal {
    pub proposal_id: i64,
    /// The program whose target it proposes.
    pub program_code: String,
    /// The proposing department.
    pub department_code: String,
    /// Proposed value.
    pub value: i64,
    /// The department's reasoning.
    pub reasoning: String,
    /// `proposed`, `adopted` or `returned`.
    pub status: String,
    /// Who proposed (username).
    pub proposed_by: String,
    pub proposed_at: chrono::DateTime<chrono::Utc>,
    /// Who decided (username).
    pub decided_by: Option<String>,
    pub decided_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Why adopted or returned.
    pub decision_reason: Option<String>,
}

/// Proposals for one program, newest first.
pub async fn proposals(db: &Db, program_code: &str) -> Result<Vec<Proposal>> {
    Ok(with_pool!(db, |p| {
        sqlx::query_as(
        "SELECT t.proposal_id, t.program_code, t.department_code, t.value, t.reasoning, t.status, u.username AS proposed_by, \
         t.proposed_at, d.username AS decided_by, t.decided_at, t.decision_reason FROM target_proposal t \
         JOIN app_user u ON u.user_id = t.proposed_by LEFT JOIN app_user d ON d.user_id = t.decided_by \
         WHERE t.program_code = $1 ORDER BY t.proposal_id DESC"
    )
    .bind(program_code)
    .fetch_all(p)
    .await?
    }))
}

/// A department asked by the plan proposes a value for a pending target, with its reasoning.
/// One open proposal per department and program; the city admin adopts or returns it.
pub async fn propose(
    db: &Db,
    actor: i64,
    department: &str,
    program_code: &str,
    value: i64,
    reasoning: &str,
) -> Result<i64> {
    check_target(value, reasoning).map_err(|e| match e {
        StoreError::Invalid { field, reason } if field == "reason" => StoreError::invalid(
            "reasoning",
            Invalid::new(reason.code, "请写明测算依据", "give the reasoning behind the value"),
        ),
        e => e,
    })?;
    let program =
        programs(db).await?.into_iter().find(|p| p.program_code == program_code).ok_or(StoreError::NotFound)?;
    if !program.asked_codes().contains(&department) {
        return Err(StoreError::invalid(
            "program",
            Invalid::new(
                "proposal.not_asked",
                "方案未请本单位提出此目标（仅对待定目标“X”由方案指定的单位提出）",
                "the plan does not ask this department to propose this target (only pending X targets, by the units the plan names)",
            ),
        ));
    }
    let reasoning: String = reasoning.trim().chars().take(2000).collect();
    let id = in_tx!(db, |tx| {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO target_proposal (program_code, department_code, value, reasoning, status, proposed_by, proposed_at) \
             VALUES ($1, $2, $3, $4, 'proposed', $5, $6) RETURNING proposal_id",
        )
        .bind(program_code)
        .bind(department)
        .bind(value)
        .bind(&reasoning)
        .bind(actor)
        .bind(now())
        .fetch_one(&mut *tx)
        .await?;
        audit::record(
            &mut *tx,
            Some(actor),
            "propose_target",
            "program",
            program_code,
            &serde_json::json!({"proposal": id, "department": department, "value": value, "reasoning": reasoning}),
        )
        .await?;
        id
    });
    Ok(id)
}

/// The city admin adopts a proposal (the target takes its value, a new version) or returns it
/// with a reason. A proposal is decided once: of two decisions at once, one wins.
pub async fn decide_proposal(db: &Db, actor: i64, proposal_id: i64, adopt: bool, reason: &str) -> Result<()> {
    if reason.trim().is_empty() {
        return Err(StoreError::invalid(
            "reason",
            Invalid::new("reason.empty", "请填写采纳或退回的理由", "give the reason for adopting or returning it"),
        ));
    }
    let reason: String = reason.trim().chars().take(2000).collect();
    in_tx!(db, |tx| {
        // The write comes first, so that of two decisions at once the second waits for the first
        // (SQLite takes the write lock here; a read first would leave it a stale snapshot).
        let n = sqlx::query(
            "UPDATE target_proposal SET status = $1, decided_by = $2, decided_at = $3, decision_reason = $4 \
             WHERE proposal_id = $5 AND status = 'proposed'",
        )
        .bind(if adopt { "adopted" } else { "returned" })
        .bind(actor)
        .bind(now())
        .bind(&reason)
        .bind(proposal_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let row: Option<(String, String, i64, String)> = sqlx::query_as(
            "SELECT program_code, department_code, value, reasoning FROM target_proposal WHERE proposal_id = $1",
        )
        .bind(proposal_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((program_code, department, value, reasoning)) = row else {
            return Err(StoreError::NotFound);
        };
        if n == 0 {
            return Err(StoreError::conflict(
                "proposal.decided",
                None,
                "该建议已处理",
                "this proposal has already been decided",
            ));
        }
        if adopt {
            let why = format!("采纳{department}建议（第{proposal_id}号）：{reasoning}；{reason}");
            set_target_body!(tx, actor, program_code.as_str(), value, why);
        }
        audit::record(
            &mut *tx,
            Some(actor),
            if adopt { "adopt_proposal" } else { "return_proposal" },
            "target_proposal",
            &proposal_id.to_string(),
            &serde_json::json!({"program": program_code, "value": value, "reason": reason}),
        )
        .await?;
    });
    Ok(())
}

/// An occupation of the catalog.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct OccupationRow {
    /// National code, e.g. `4-10-01-06`.
    pub occupation_code: String,
    pub name: String,
    /// Whether the occupation has skill levels.
    pub has_levels: bool,
}

/// The occupation catalog.
pub async fn occupations(db: &Db) -> Result<Vec<OccupationRow>> {
    Ok(with_pool!(db, |p| sqlx::query_as(
        "SELECT occupation_code, name, has_levels FROM occupation ORDER BY occupation_code"
    )
    .fetch_all(p)
    .await?))
}

/// Records area codes outside the plan's region (a hukou, a residence or a place of work in
/// another city, which the P-rules read) that the registry does not hold yet, in the caller's
/// transaction. They are never listed among the city's counties. Codes must be valid area codes.
pub async fn ensure_areas(tx: &mut crate::Tx, codes: &[String]) -> Result<()> {
    for code in codes {
        let code = jineng_domain::AreaCode::parse(code).map_err(|e| StoreError::invalid("county_code", e))?;
        crate::on_tx!(tx, |c| sqlx::query(
            "INSERT INTO county (county_code, name_zh, name_en, population, sort_order, outside) \
             VALUES ($1, $2, $3, 0, 100000, TRUE) ON CONFLICT (county_code) DO NOTHING"
        )
        .bind(code.as_str())
        .bind(format!("市外 {}", code.as_str()))
        .bind(format!("outside the city ({})", code.as_str()))
        .execute(&mut **c)
        .await
        .map(|_| ())?);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(key: &str, n: i64) -> Counts {
        Counts { key: key.into(), person_times: n, subsidised: n, skill_upgrade: 0 }
    }

    #[test]
    fn every_month_of_the_period_is_there_a_month_without_training_as_zero() {
        let d = |s: &str| s.parse::<chrono::NaiveDate>().unwrap();
        let months = every_month(vec![c("2020-03", 5), c("2019-12", 2)], d("2019-11-15"), d("2020-04-30"));
        let keys: Vec<&str> = months.iter().map(|m| m.key.as_str()).collect();
        assert_eq!(keys, ["2019-11", "2019-12", "2020-01", "2020-02", "2020-03", "2020-04"]);
        assert_eq!(months.iter().map(|m| m.person_times).collect::<Vec<_>>(), [0, 2, 0, 0, 5, 0]);
        // Training outside the period widens it; nothing is dropped.
        let months = every_month(vec![c("2021-02", 1)], d("2020-11-01"), d("2020-12-31"));
        assert_eq!(
            months.iter().map(|m| m.key.as_str()).collect::<Vec<_>>(),
            ["2020-11", "2020-12", "2021-01", "2021-02"]
        );
    }
}
