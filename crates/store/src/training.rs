//! The minimal training record: classes, enrolments and completions. One completion of one
//! person in one class is one person-time; the `progress` aggregate is kept in step in the
//! same transaction.

use crate::audit::{self, Actor};
use crate::{in_tx, now, with_pool, Db, Result, StoreError};
use chrono::NaiveDate;
use jineng_domain::{ClassAction, ClassStatus, Invalid, SkillLevel, TrainingKind};
use serde::Serialize;

/// A class to open.
#[derive(Debug, Clone)]
pub struct NewClass {
    pub name: String,
    /// Leaf program code.
    pub program_code: String,
    /// Occupation code.
    pub occupation_code: String,
    /// Level, if the training leads to one.
    pub level: Option<SkillLevel>,
    pub kind: TrainingKind,
    /// County where held.
    pub county_code: String,
    pub provider_id: i64,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    /// Subsidised class.
    pub subsidised: bool,
}

/// A class as listed.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ClassRow {
    pub class_id: i64,
    pub name: String,
    pub program_code: String,
    /// Occupation code.
    pub occupation_code: String,
    /// Occupation name.
    pub occupation_name: String,
    pub level: Option<i64>,
    pub kind: String,
    pub county_code: String,
    /// County name.
    pub county_name: String,
    /// Provider id.
    pub provider_id: i64,
    /// Provider name.
    pub provider_name: String,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub subsidised: bool,
    /// `submitted`, `returned`, `approved` or `closed`.
    pub status: String,
    /// Subsidised project of the catalog.
    pub subsidy_project_id: Option<i64>,
    pub venue: Option<String>,
    pub capacity: Option<i64>,
    pub enrolled: i64,
    pub completed: i64,
    /// The employer trained for (pre-job, apprenticeship).
    pub employer_name: Option<String>,
    /// The assessment body the class names (none: a class from before bodies were named).
    pub assessment_body_name: Option<String>,
    /// Project-based (paid to the provider by settlement).
    pub project_based: bool,
}

/// Which classes may be seen.
#[derive(Debug, Clone, Default)]
pub struct ClassScope {
    /// Only this county's classes.
    pub county: Option<String>,
    /// Only this provider's classes.
    pub provider_id: Option<i64>,
    /// Only these programs.
    pub programs: Option<Vec<String>>,
    /// Only the classes that name this assessment body (and classes from before classes named
    /// one, which any listed body may assess).
    pub assessment_body_id: Option<i64>,
}

impl ClassScope {
    /// The scope's conditions on the placeholders `[county, provider, assessment body]`, only
    /// those it sets filtering (see [`crate::opt_eq`]); bound as `''`/`0` when not set.
    fn sql(&self, [county, provider, body]: [usize; 3]) -> String {
        let body = if self.assessment_body_id.is_some_and(|b| b != 0) {
            format!("(k.assessment_body_id = ${body} OR k.assessment_body_id IS NULL)")
        } else {
            format!("${body} = 0")
        };
        format!(
            "{} AND {} AND {body}",
            crate::opt_eq("k.county_code", county, self.county.as_deref().is_some_and(|c| !c.is_empty()), "''"),
            crate::opt_eq("k.provider_id", provider, self.provider_id.is_some_and(|p| p != 0), "0"),
        )
    }
}

/// Opens a class. The program must be a leaf program (no sub-targets).
pub async fn create_class(db: &Db, actor: Actor, c: &NewClass) -> Result<i64> {
    if c.end_date < c.start_date {
        return Err(StoreError::invalid(
            "end_date",
            Invalid::new("class.dates", "结束日期早于开始日期", "the class ends before it starts"),
        ));
    }
    if c.name.trim().is_empty() {
        return Err(StoreError::invalid(
            "name",
            Invalid::new("name.length", "班级名称不能为空", "a class needs a name"),
        ));
    }
    let id = in_tx!(db, |tx| {
        let leaf: Option<i64> = sqlx::query_scalar(
            "SELECT COUNT(*) FROM program p WHERE p.program_code = $1 AND NOT EXISTS (SELECT 1 FROM program k WHERE k.parent_code = p.program_code)",
        )
        .bind(&c.program_code)
        .fetch_optional(&mut *tx)
        .await?;
        if leaf != Some(1) {
            return Err(StoreError::invalid(
                "program_code",
                Invalid::new(
                    "program.unknown",
                    "专项计划不存在或含子目标（请选择子目标）",
                    "unknown program, or one with sub-targets (choose a sub-target)",
                ),
            ));
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO training_class (name, program_code, occupation_code, level, kind, county_code, provider_id, start_date, end_date, subsidised, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING class_id",
        )
        .bind(c.name.trim())
        .bind(&c.program_code)
        .bind(&c.occupation_code)
        .bind(c.level.map(|l| i64::from(l.get())))
        .bind(c.kind.code())
        .bind(&c.county_code)
        .bind(c.provider_id)
        .bind(c.start_date)
        .bind(c.end_date)
        .bind(c.subsidised)
        .bind(now())
        .fetch_one(&mut *tx)
        .await?;
        audit::record(&mut *tx, actor, "create", "training_class", &id.to_string(), &serde_json::json!({
            "program": c.program_code, "occupation": c.occupation_code, "county": c.county_code, "provider": c.provider_id,
        }))
        .await?;
        id
    });
    Ok(id)
}

/// Enrols a person in a class; enrolling twice is a conflict.
pub async fn enrol(db: &Db, actor: Actor, class_id: i64, person_id: i64, on: NaiveDate) -> Result<i64> {
    let id = in_tx!(db, |tx| {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO enrolment (class_id, person_id, enrolled_on) VALUES ($1, $2, $3) RETURNING enrolment_id",
        )
        .bind(class_id)
        .bind(person_id)
        .bind(on)
        .fetch_one(&mut *tx)
        .await?;
        audit::record(
            &mut *tx,
            actor,
            "create",
            "enrolment",
            &id.to_string(),
            &serde_json::json!({"class": class_id, "person": person_id}),
        )
        .await?;
        id
    });
    Ok(id)
}

#[derive(sqlx::FromRow)]
pub(crate) struct EnrolmentClass {
    pub(crate) class_id: i64,
    pub(crate) person_id: i64,
    pub(crate) program: String,
    pub(crate) county: String,
    pub(crate) subsidised: bool,
    pub(crate) kind: String,
    pub(crate) start: NaiveDate,
    pub(crate) status: String,
}

/// The body of a completion inside a transaction `$tx` (used by [`complete`] and by assessments,
/// so that a passed assessment and its completion land together).
macro_rules! complete_in {
    ($tx:ident, $actor:expr, $enrolment:expr, $on:expr) => {{
        let (actor, enrolment_id, on): ($crate::audit::Actor, i64, chrono::NaiveDate) = ($actor, $enrolment, $on);
        let row: Option<$crate::training::EnrolmentClass> = sqlx::query_as(
            "SELECT e.class_id, e.person_id, k.program_code AS program, k.county_code AS county, k.subsidised, k.kind, k.start_date AS start, k.status \
             FROM enrolment e JOIN training_class k ON k.class_id = e.class_id WHERE e.enrolment_id = $1",
        )
        .bind(enrolment_id)
        .fetch_optional(&mut *$tx)
        .await?;
        let Some($crate::training::EnrolmentClass { class_id, person_id, program, county, subsidised, kind, start, status }) = row else {
            return Err($crate::StoreError::NotFound);
        };
        if status != "approved" {
            return Err($crate::StoreError::invalid(
                "class",
                jineng_domain::Invalid::new(
                    "class.not_approved",
                    "培训班未经批准，结业不计入（补贴培训进系统）",
                    "the class was not approved: its completions do not count (S12)",
                ),
            ));
        }
        if on < start {
            return Err($crate::StoreError::invalid(
                "completed_on",
                jineng_domain::Invalid::new("completion.date", "结业日期早于开班日期", "completion before the class started"),
            ));
        }
        let skill_upgrade = jineng_domain::TrainingKind::parse(&kind).map(jineng_domain::TrainingKind::is_skill_upgrade).unwrap_or(false);
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO completion (enrolment_id, class_id, person_id, program_code, county_code, completed_on, subsidised, skill_upgrade) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING completion_id",
        )
        .bind(enrolment_id)
        .bind(class_id)
        .bind(person_id)
        .bind(&program)
        .bind(&county)
        .bind(on)
        .bind(subsidised)
        .bind(skill_upgrade)
        .fetch_one(&mut *$tx)
        .await?;
        // The person's first completion of the program this year counts one person (M1 reports
        // count persons where a target is stated in persons); the key decides it under concurrency.
        let first = sqlx::query(
            "INSERT INTO program_person_year (program_code, year, person_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(&program)
        .bind(i64::from(chrono::Datelike::year(&on)))
        .bind(person_id)
        .execute(&mut *$tx)
        .await?
        .rows_affected();
        // The person's first completion of the program ever counts one more of its people.
        let new_person = sqlx::query("INSERT INTO program_person (program_code, person_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(&program)
            .bind(person_id)
            .execute(&mut *$tx)
            .await?
            .rows_affected();
        if new_person == 1 {
            sqlx::query(
                "INSERT INTO program_persons (program_code, persons) VALUES ($1, 1) \
                 ON CONFLICT (program_code) DO UPDATE SET persons = program_persons.persons + 1",
            )
            .bind(&program)
            .execute(&mut *$tx)
            .await?;
        }
        sqlx::query(
            "INSERT INTO progress (program_code, county_code, month, person_times, subsidised, skill_upgrade, persons) VALUES ($1, $2, $3, 1, $4, $5, $6) \
             ON CONFLICT (program_code, county_code, month) DO UPDATE SET person_times = progress.person_times + 1, \
             subsidised = progress.subsidised + excluded.subsidised, skill_upgrade = progress.skill_upgrade + excluded.skill_upgrade, \
             persons = progress.persons + excluded.persons",
        )
        .bind(&program)
        .bind(&county)
        .bind(on.format("%Y-%m").to_string())
        .bind(i64::from(subsidised))
        .bind(i64::from(skill_upgrade))
        .bind(i64::try_from(first).unwrap_or(0))
        .execute(&mut *$tx)
        .await?;
        $crate::audit::record(
            &mut *$tx,
            actor,
            "create",
            "completion",
            &id.to_string(),
            &serde_json::json!({"enrolment": enrolment_id}),
        )
        .await?;
        id
    }};
}
pub(crate) use complete_in;

/// Records that an enrolled person completed the class: one person-time.
pub async fn complete(db: &Db, actor: Actor, enrolment_id: i64, on: NaiveDate) -> Result<i64> {
    let id = in_tx!(db, |tx| complete_in!(tx, actor, enrolment_id, on));
    Ok(id)
}

const SELECT: &str = "SELECT k.class_id, k.name, k.program_code, k.occupation_code, o.name AS occupation_name, k.level, k.kind, \
     k.county_code, c.name_zh AS county_name, k.provider_id, v.name AS provider_name, k.start_date, k.end_date, k.subsidised, \
     k.status, k.subsidy_project_id, k.venue, k.capacity, (SELECT COUNT(*) FROM enrolment e WHERE e.class_id = k.class_id) AS enrolled, \
     (SELECT COUNT(*) FROM completion m WHERE m.class_id = k.class_id) AS completed, \
     (SELECT y.name FROM employer y WHERE y.employer_id = k.employer_id) AS employer_name, k.project_based, \
     (SELECT b.name FROM assessment_body b WHERE b.assessment_body_id = k.assessment_body_id) AS assessment_body_name \
     FROM training_class k JOIN occupation o ON o.occupation_code = k.occupation_code \
     JOIN county c ON c.county_code = k.county_code JOIN provider v ON v.provider_id = k.provider_id";

/// Classes visible in the scope, newest first.
pub async fn list_classes(db: &Db, scope: &ClassScope, limit: i64, offset: i64) -> Result<Vec<ClassRow>> {
    let mut sql = format!("{SELECT} WHERE {}", scope.sql([1, 2, 5]));
    let programs = scope.programs.clone().unwrap_or_default();
    if scope.programs.is_some() {
        let marks: Vec<String> = (0..programs.len()).map(|i| format!("${}", 6 + i)).collect();
        sql.push_str(&format!(
            " AND k.program_code IN ({})",
            if marks.is_empty() { "NULL".into() } else { marks.join(", ") }
        ));
    }
    sql.push_str(" ORDER BY k.start_date DESC, k.class_id DESC LIMIT $3 OFFSET $4");
    Ok(with_pool!(db, |p| {
        let mut q = sqlx::query_as::<_, ClassRow>(&sql)
            .bind(scope.county.clone().unwrap_or_default())
            .bind(scope.provider_id.unwrap_or(0))
            .bind(limit)
            .bind(offset)
            .bind(scope.assessment_body_id.unwrap_or(0));
        for code in &programs {
            q = q.bind(code.clone());
        }
        q.fetch_all(p).await?
    }))
}

/// One class, if visible in the scope.
pub async fn get_class(db: &Db, scope: &ClassScope, class_id: i64) -> Result<ClassRow> {
    let sql = format!("{SELECT} WHERE k.class_id = $1 AND {}", scope.sql([2, 3, 4]));
    with_pool!(db, |p| sqlx::query_as(&sql)
        .bind(class_id)
        .bind(scope.county.clone().unwrap_or_default())
        .bind(scope.provider_id.unwrap_or(0))
        .bind(scope.assessment_body_id.unwrap_or(0))
        .fetch_optional(p)
        .await?)
    .ok_or(StoreError::NotFound)
}

/// A class application (开班申请) from a provider.
#[derive(Debug, Clone)]
pub struct Application {
    /// The class.
    pub class: NewClass,
    /// Subsidised project of the catalog (required for a subsidised class).
    pub subsidy_project_id: Option<i64>,
    pub venue: String,
    pub timetable: String,
    pub teachers: String,
    pub capacity: i64,
    /// Assessment plan.
    pub assessment_plan: String,
    /// Roster: ID number and name as given, one per row.
    pub roster: Vec<(String, String)>,
    /// The employer trained for (credit code): required for pre-job and apprenticeship classes.
    pub employer_credit_code: Option<String>,
    /// The listed assessment body that assesses the class (credit code); required.
    pub assessment_body_credit_code: Option<String>,
    /// A project-based class (项目制培训): the provider is paid by advance and settlement.
    pub project_based: bool,
    /// Training days (培训天数) when the class meets on fewer days than its calendar span
    /// (e.g. weekends only); None: every day from start to end.
    pub training_days: Option<i64>,
    /// Project-based: the project number (项目编号) the class runs under; classes of one
    /// organiser with one number are one project. None: the class is a project of its own.
    pub project_code: Option<String>,
    /// Project-based: the class's share of the project's contract sum (fen), required.
    pub contract_fen: Option<i64>,
}

/// One change of a class's status.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ClassEvent {
    /// From (None: applied).
    pub from_status: Option<String>,
    pub to_status: String,
    /// Who (username).
    pub actor: Option<String>,
    pub at: chrono::DateTime<chrono::Utc>,
    pub reason: String,
}

fn row_err(errors: &mut Vec<(String, Invalid)>, path: String, code: &'static str, zh: String, en: String) {
    errors.push((path, Invalid::new(code, zh, en)));
}

/// The id an organisation query finds for a credit code, if any.
async fn id_by_code(db: &Db, sql: &str, code: &str) -> Result<Option<i64>> {
    Ok(with_pool!(db, |p| sqlx::query_scalar(sql).bind(code).fetch_optional(p).await?))
}

/// A provider applies to open a class: the provider must be listed, the occupation listed in the
/// catalog (and the project, for a subsidised class), every roster row a registered person whose
/// name matches and who is in no other class at the same time. All or nothing: every wrong row is
/// reported and nothing is written.
pub async fn apply_class(db: &Db, actor: Actor, a: &Application) -> Result<i64> {
    let c = &a.class;
    let mut errors: Vec<(String, Invalid)> = Vec::new();
    if c.end_date < c.start_date {
        row_err(
            &mut errors,
            "end_date".into(),
            "class.dates",
            "结束日期早于开始日期".into(),
            "the class ends before it starts".into(),
        );
    }
    if c.name.trim().is_empty() {
        row_err(&mut errors, "name".into(), "name.length", "班级名称不能为空".into(), "a class needs a name".into());
    }
    let span = (c.end_date - c.start_date).num_days() + 1;
    if a.training_days.is_some_and(|d| d < 1 || d > span) {
        row_err(
            &mut errors,
            "training_days".into(),
            "class.training_days",
            format!("培训天数须在1至{span}天之间（开班至结业共{span}天）"),
            format!("training days are 1 to {span} (the class spans {span} days)"),
        );
    }
    let project_code = a.project_code.as_deref().map(str::trim).filter(|s| !s.is_empty());
    if project_code.is_some_and(|c| c.chars().count() > 50) {
        row_err(
            &mut errors,
            "project_code".into(),
            "class.project_code",
            "项目编号不超过50字".into(),
            "a project number is at most 50 characters".into(),
        );
    }
    if a.project_based {
        match a.contract_fen {
            Some(fen) if (1..=jineng_domain::money::MAX_AMOUNT_FEN).contains(&fen) => {}
            Some(_) => row_err(
                &mut errors,
                "contract_fen".into(),
                "amount.range",
                "合同金额须大于0且不超过100亿元".into(),
                "the contract sum must be positive and at most 10 billion yuan".into(),
            ),
            None => row_err(
                &mut errors,
                "contract_fen".into(),
                "class.contract_required",
                "项目制培训班须填写本班合同金额".into(),
                "a project-based class states its share of the contract sum".into(),
            ),
        }
    }
    if a.capacity < 1 {
        row_err(
            &mut errors,
            "capacity".into(),
            "class.capacity",
            "班额须为不小于1的整数".into(),
            "the capacity must be a whole number of at least 1".into(),
        );
    } else if (a.roster.len() as i64) > a.capacity {
        row_err(
            &mut errors,
            "capacity".into(),
            "class.capacity",
            format!("花名册{}人，超过班额{}人", a.roster.len(), a.capacity),
            format!("{} on the roster, capacity {}", a.roster.len(), a.capacity),
        );
    }
    let provider: Option<(String,)> =
        with_pool!(db, |p| sqlx::query_as("SELECT status FROM provider WHERE provider_id = $1")
            .bind(c.provider_id)
            .fetch_optional(p)
            .await?);
    match provider {
        Some((s,)) if s == "listed" => {}
        _ => row_err(
            &mut errors,
            "provider".into(),
            "provider.not_listed",
            "培训机构不在目录中（或已暂停），不能申请开班".into(),
            "the provider is not listed (or suspended) and cannot open classes".into(),
        ),
    }
    let occupation: Option<(String,)> =
        with_pool!(db, |p| sqlx::query_as("SELECT status FROM occupation WHERE occupation_code = $1")
            .bind(&c.occupation_code)
            .fetch_optional(p)
            .await?);
    if !matches!(occupation, Some((ref s,)) if s == "listed") {
        row_err(
            &mut errors,
            "occupation_code".into(),
            "occupation.not_listed",
            "职业（工种）不在公布的目录中".into(),
            "the occupation is not in the published catalog".into(),
        );
    }
    if c.subsidised {
        let project: Option<(String, String)> = match a.subsidy_project_id {
            Some(id) => with_pool!(db, |p| sqlx::query_as(
                "SELECT occupation_code, status FROM subsidy_project WHERE subsidy_project_id = $1"
            )
            .bind(id)
            .fetch_optional(p)
            .await?),
            None => None,
        };
        match project {
            Some((occ, status)) if status == "listed" && occ == c.occupation_code => {}
            _ => row_err(
                &mut errors,
                "subsidy_project_id".into(),
                "project.not_listed",
                "补贴性培训须选择目录中该职业的补贴项目".into(),
                "a subsidised class needs a listed project of this occupation".into(),
            ),
        }
    }
    let needs_employer =
        matches!(c.kind, jineng_domain::TrainingKind::PreJob | jineng_domain::TrainingKind::Apprenticeship);
    let code = a.employer_credit_code.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let employer_id: Option<i64> = match code {
        Some(code) => {
            let id = id_by_code(db, "SELECT employer_id FROM employer WHERE credit_code = $1", code).await?;
            if id.is_none() {
                row_err(
                    &mut errors,
                    "employer_credit_code".into(),
                    "employer.unknown",
                    "用人单位未登记（统一社会信用代码）".into(),
                    "no employer with this credit code is registered".into(),
                );
            }
            id
        }
        None => None,
    };
    if needs_employer && code.is_none() {
        row_err(
            &mut errors,
            "employer_credit_code".into(),
            "employer.required",
            "岗前培训和学徒制培训须填写用人单位".into(),
            "a pre-job or apprenticeship class names its employer".into(),
        );
    }
    // The assessment body the class names: listed in the catalog; only it assesses the class.
    let body_code = a.assessment_body_credit_code.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let body_id: Option<i64> = match body_code {
        Some(code) => {
            let sql = "SELECT assessment_body_id FROM assessment_body WHERE credit_code = $1 AND status = 'listed'";
            let id = id_by_code(db, sql, code).await?;
            if id.is_none() {
                row_err(
                    &mut errors,
                    "assessment_body_credit_code".into(),
                    "assessment_body.not_listed",
                    "评价机构不在目录中".into(),
                    "no listed assessment body has this credit code".into(),
                );
            }
            id
        }
        None => {
            row_err(
                &mut errors,
                "assessment_body_credit_code".into(),
                "assessment_body.required",
                "须指定考核的评价机构".into(),
                "name the assessment body that assesses the class".into(),
            );
            None
        }
    };
    // The roster: real-name check and overlap with other classes.
    let mut seen = std::collections::HashSet::new();
    let mut person_ids = Vec::new();
    for (i, (id, name)) in a.roster.iter().enumerate() {
        let row = i + 1;
        let path = format!("roster[{row}]");
        let parsed = match jineng_domain::IdNumber::parse(id) {
            Ok(p) => p,
            Err(e) => {
                row_err(
                    &mut errors,
                    path,
                    e.code,
                    format!("第{row}行 身份证号：{}", e.zh),
                    format!("row {row}, ID number: {}", e.en),
                );
                continue;
            }
        };
        if !seen.insert(parsed.as_str().to_owned()) {
            row_err(
                &mut errors,
                path,
                "roster.duplicate",
                format!("第{row}行：身份证号在花名册中重复"),
                format!("row {row}: the ID number appears twice on the roster"),
            );
            continue;
        }
        let person: Option<(i64, String)> =
            with_pool!(db, |p| sqlx::query_as("SELECT person_id, name FROM person WHERE id_number = $1")
                .bind(parsed.as_str())
                .fetch_optional(p)
                .await?);
        // One answer whether the number is unknown or the name differs: an application tells no
        // provider which ID numbers the registry holds, or under which name.
        let Some(person_id) = person.filter(|(_, registered)| registered == name.trim()).map(|p| p.0) else {
            row_err(
                &mut errors,
                path,
                "roster.not_registered",
                format!("第{row}行：身份证号与姓名不在实名登记中，请核对（未登记的请先实名登记）"),
                format!("row {row}: this ID number and name are not in the real-name registry together: check them (register the person first)"),
            );
            continue;
        };
        let overlap: Option<(String,)> = with_pool!(db, |p| {
            sqlx::query_as(
            "SELECT k.name FROM enrolment e JOIN training_class k ON k.class_id = e.class_id WHERE e.person_id = $1 \
             AND k.status IN ('submitted', 'approved') AND k.start_date <= $3 AND k.end_date >= $2 LIMIT 1"
        )
        .bind(person_id)
        .bind(c.start_date)
        .bind(c.end_date)
        .fetch_optional(p)
        .await?
        });
        if let Some((other,)) = overlap {
            row_err(
                &mut errors,
                path,
                "roster.overlap",
                format!("第{row}行：同一时间已在“{other}”培训"),
                format!("row {row}: already in another class at the same time"),
            );
            continue;
        }
        person_ids.push(person_id);
    }
    if !errors.is_empty() {
        return Err(StoreError::Rows(errors));
    }
    let t = now();
    let id = in_tx!(db, |tx| {
        let leaf: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM program p WHERE p.program_code = $1 AND NOT EXISTS (SELECT 1 FROM program k WHERE k.parent_code = p.program_code)",
        )
        .bind(&c.program_code)
        .fetch_one(&mut *tx)
        .await?;
        if leaf != 1 {
            return Err(StoreError::invalid(
                "program_code",
                Invalid::new(
                    "program.unknown",
                    "专项计划不存在或含子目标（请选择子目标）",
                    "unknown program, or one with sub-targets",
                ),
            ));
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO training_class (name, program_code, occupation_code, level, kind, county_code, provider_id, start_date, end_date, subsidised, created_at, \
             status, subsidy_project_id, venue, timetable, teachers, capacity, assessment_plan, employer_id, project_based, assessment_body_id, training_days, project_code, contract_fen) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'submitted', $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23) RETURNING class_id",
        )
        .bind(c.name.trim())
        .bind(&c.program_code)
        .bind(&c.occupation_code)
        .bind(c.level.map(|l| i64::from(l.get())))
        .bind(c.kind.code())
        .bind(&c.county_code)
        .bind(c.provider_id)
        .bind(c.start_date)
        .bind(c.end_date)
        .bind(c.subsidised)
        .bind(t)
        .bind(a.subsidy_project_id.filter(|_| c.subsidised))
        .bind(a.venue.trim())
        .bind(a.timetable.trim())
        .bind(a.teachers.trim())
        .bind(a.capacity)
        .bind(a.assessment_plan.trim())
        .bind(employer_id)
        .bind(a.project_based)
        .bind(body_id)
        .bind(a.training_days)
        .bind(a.project_based.then_some(project_code).flatten())
        .bind(a.contract_fen.filter(|_| a.project_based))
        .fetch_one(&mut *tx)
        .await?;
        for pid in &person_ids {
            sqlx::query("INSERT INTO enrolment (class_id, person_id, enrolled_on) VALUES ($1, $2, $3)")
                .bind(id)
                .bind(pid)
                .bind(t.date_naive())
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("INSERT INTO class_event (class_id, from_status, to_status, actor, at, reason) VALUES ($1, NULL, 'submitted', $2, $3, $4)")
            .bind(id)
            .bind(actor)
            .bind(t)
            .bind("开班申请 application")
            .execute(&mut *tx)
            .await?;
        audit::record(
            &mut *tx,
            actor,
            "apply",
            "training_class",
            &id.to_string(),
            &serde_json::json!({"provider": c.provider_id, "roster": person_ids.len()}),
        )
        .await?;
        id
    });
    Ok(id)
}

/// Moves a class along its state machine (approve, return with a reason, resubmit, close),
/// recording who, when and why. `county` limits the class to one county (county offices).
pub async fn act_on_class(
    db: &Db,
    actor: i64,
    class_id: i64,
    action: ClassAction,
    reason: &str,
    scope: &ClassScope,
) -> Result<ClassStatus> {
    let class = get_class(db, scope, class_id).await?;
    let from = ClassStatus::parse(&class.status).ok_or(StoreError::NotFound)?;
    let to = from.apply(action).map_err(|e| StoreError::invalid("status", e))?;
    if action == ClassAction::Return && reason.trim().is_empty() {
        return Err(StoreError::invalid(
            "reason",
            Invalid::new("class.reason", "退回须写明原因", "give the reason for returning the class"),
        ));
    }
    if action == ClassAction::Approve {
        let provider: (String,) =
            with_pool!(db, |p| sqlx::query_as("SELECT status FROM provider WHERE provider_id = $1")
                .bind(class.provider_id)
                .fetch_one(p)
                .await?);
        if provider.0 != "listed" {
            return Err(StoreError::invalid(
                "provider",
                Invalid::new(
                    "provider.not_listed",
                    "培训机构已不在目录中，不能批准",
                    "the provider is no longer listed: the class cannot be approved",
                ),
            ));
        }
    }
    let t = now();
    in_tx!(db, |tx| {
        // The status in the WHERE makes two clerks acting at once safe: only one update lands.
        let n = sqlx::query("UPDATE training_class SET status = $1 WHERE class_id = $2 AND status = $3")
            .bind(to.code())
            .bind(class_id)
            .bind(from.code())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::conflict(
                "class.changed",
                None,
                "培训班状态已被他人更改，请刷新",
                "the class changed meanwhile: reload",
            ));
        }
        sqlx::query("INSERT INTO class_event (class_id, from_status, to_status, actor, at, reason) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(class_id)
            .bind(from.code())
            .bind(to.code())
            .bind(actor)
            .bind(t)
            .bind(if reason.trim().is_empty() { action.zh() } else { reason.trim() })
            .execute(&mut *tx)
            .await?;
        audit::record(
            &mut *tx,
            Some(actor),
            action.en(),
            "training_class",
            &class_id.to_string(),
            &serde_json::json!({"from": from.code(), "to": to.code(), "reason": reason.trim()}),
        )
        .await?;
    });
    Ok(to)
}

/// The status changes of a class, oldest first.
pub async fn class_events(db: &Db, class_id: i64) -> Result<Vec<ClassEvent>> {
    Ok(with_pool!(db, |p| sqlx::query_as(
        "SELECT e.from_status, e.to_status, u.username AS actor, e.at, e.reason FROM class_event e \
         LEFT JOIN app_user u ON u.user_id = e.actor WHERE e.class_id = $1 ORDER BY e.class_event_id"
    )
    .bind(class_id)
    .fetch_all(p)
    .await?))
}

/// Enrolments of a class as `(enrolment_id, person_id)`, in enrolment order.
pub async fn enrolments(db: &Db, class_id: i64) -> Result<Vec<(i64, i64)>> {
    Ok(with_pool!(db, |p| sqlx::query_as(
        "SELECT enrolment_id, person_id FROM enrolment WHERE class_id = $1 ORDER BY enrolment_id"
    )
    .bind(class_id)
    .fetch_all(p)
    .await?))
}
