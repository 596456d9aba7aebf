//! The minimal training record: classes, enrolments and completions. One completion of one
//! person in one class is one person-time; the `progress` aggregate is kept in step in the
//! same transaction.

use crate::audit::{self, Actor};
use crate::{in_tx, now, with_pool, Db, Result, StoreError};
use chrono::NaiveDate;
use jineng_domain::{Invalid, SkillLevel, TrainingKind};
use serde::Serialize;

/// A class to open.
#[derive(Debug, Clone)]
pub struct NewClass {
    /// Name.
    pub name: String,
    /// Leaf program code.
    pub program_code: String,
    /// Occupation code.
    pub occupation_code: String,
    /// Level, if the training leads to one.
    pub level: Option<SkillLevel>,
    /// Kind.
    pub kind: TrainingKind,
    /// County where held.
    pub county_code: String,
    /// Provider.
    pub provider_id: i64,
    /// Start.
    pub start_date: NaiveDate,
    /// End.
    pub end_date: NaiveDate,
    /// Subsidised class.
    pub subsidised: bool,
}

/// A class as listed.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ClassRow {
    /// Id.
    pub class_id: i64,
    /// Name.
    pub name: String,
    /// Program.
    pub program_code: String,
    /// Occupation code.
    pub occupation_code: String,
    /// Occupation name.
    pub occupation_name: String,
    /// Level.
    pub level: Option<i64>,
    /// Kind.
    pub kind: String,
    /// County.
    pub county_code: String,
    /// County name.
    pub county_name: String,
    /// Provider id.
    pub provider_id: i64,
    /// Provider name.
    pub provider_name: String,
    /// Start.
    pub start_date: NaiveDate,
    /// End.
    pub end_date: NaiveDate,
    /// Subsidised.
    pub subsidised: bool,
    /// Enrolled.
    pub enrolled: i64,
    /// Completed.
    pub completed: i64,
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

/// Records that an enrolled person completed the class: one person-time.
pub async fn complete(db: &Db, actor: Actor, enrolment_id: i64, on: NaiveDate) -> Result<i64> {
    let id = in_tx!(db, |tx| {
        let row: Option<(i64, i64, String, String, bool, String, NaiveDate)> = sqlx::query_as(
            "SELECT e.class_id, e.person_id, k.program_code, k.county_code, k.subsidised, k.kind, k.start_date \
             FROM enrolment e JOIN training_class k ON k.class_id = e.class_id WHERE e.enrolment_id = $1",
        )
        .bind(enrolment_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((class_id, person_id, program, county, subsidised, kind, start)) = row else {
            return Err(StoreError::NotFound);
        };
        if on < start {
            return Err(StoreError::invalid(
                "completed_on",
                Invalid::new("completion.date", "结业日期早于开班日期", "completion before the class started"),
            ));
        }
        let skill_upgrade = TrainingKind::parse(&kind).map(TrainingKind::is_skill_upgrade).unwrap_or(false);
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
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO progress (program_code, county_code, month, person_times, subsidised, skill_upgrade) VALUES ($1, $2, $3, 1, $4, $5) \
             ON CONFLICT (program_code, county_code, month) DO UPDATE SET person_times = progress.person_times + 1, \
             subsidised = progress.subsidised + excluded.subsidised, skill_upgrade = progress.skill_upgrade + excluded.skill_upgrade",
        )
        .bind(&program)
        .bind(&county)
        .bind(on.format("%Y-%m").to_string())
        .bind(i64::from(subsidised))
        .bind(i64::from(skill_upgrade))
        .execute(&mut *tx)
        .await?;
        audit::record(
            &mut *tx,
            actor,
            "create",
            "completion",
            &id.to_string(),
            &serde_json::json!({"enrolment": enrolment_id}),
        )
        .await?;
        id
    });
    Ok(id)
}

const SELECT: &str = "SELECT k.class_id, k.name, k.program_code, k.occupation_code, o.name AS occupation_name, k.level, k.kind, \
     k.county_code, c.name_zh AS county_name, k.provider_id, v.name AS provider_name, k.start_date, k.end_date, k.subsidised, \
     (SELECT COUNT(*) FROM enrolment e WHERE e.class_id = k.class_id) AS enrolled, \
     (SELECT COUNT(*) FROM completion m WHERE m.class_id = k.class_id) AS completed \
     FROM training_class k JOIN occupation o ON o.occupation_code = k.occupation_code \
     JOIN county c ON c.county_code = k.county_code JOIN provider v ON v.provider_id = k.provider_id";

/// Classes visible in the scope, newest first.
pub async fn list_classes(db: &Db, scope: &ClassScope, limit: i64, offset: i64) -> Result<Vec<ClassRow>> {
    let mut sql = format!("{SELECT} WHERE ($1 = '' OR k.county_code = $1) AND ($2 = 0 OR k.provider_id = $2)");
    let programs = scope.programs.clone().unwrap_or_default();
    if scope.programs.is_some() {
        let marks: Vec<String> = (0..programs.len()).map(|i| format!("${}", 5 + i)).collect();
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
            .bind(offset);
        for code in &programs {
            q = q.bind(code.clone());
        }
        q.fetch_all(p).await?
    }))
}

/// One class, if visible in the scope.
pub async fn get_class(db: &Db, scope: &ClassScope, class_id: i64) -> Result<ClassRow> {
    let sql = format!(
        "{SELECT} WHERE k.class_id = $1 AND ($2 = '' OR k.county_code = $2) AND ($3 = 0 OR k.provider_id = $3)"
    );
    with_pool!(db, |p| sqlx::query_as(&sql)
        .bind(class_id)
        .bind(scope.county.clone().unwrap_or_default())
        .bind(scope.provider_id.unwrap_or(0))
        .fetch_optional(p)
        .await?)
    .ok_or(StoreError::NotFound)
}
