//! Attendance (考勤): one check-in per trainee per day of an approved class, with the time, the
//! method and who recorded it; summaries per class and per trainee.

use crate::audit::{self, Actor};
use crate::{in_tx, now, with_pool, Db, Result, StoreError};
use chrono::NaiveDate;
use jineng_domain::{IdNumber, Invalid};
use serde::Serialize;

/// How a check-in was taken.
pub const METHODS: &[(&str, &str)] =
    &[("face", "人脸识别"), ("fingerprint", "指纹"), ("qr_code", "扫码"), ("manual", "人工登记")];

/// A trainee's attendance in one class, with their assessment result.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct TraineeAttendance {
    /// The enrolment (what the page's per-trainee forms post).
    pub enrolment_id: i64,
    pub person_id: i64,
    pub name: String,
    /// ID number (mask before showing).
    pub id_number: String,
    /// Days checked in.
    pub days_attended: i64,
    /// Last check-in day.
    pub last_day: Option<NaiveDate>,
    /// Checked in on the day asked about (today, on the class page).
    pub checked_in: bool,
    /// Assessment result: passed, failed, or none recorded yet.
    pub passed: Option<bool>,
    /// Serial of the certificate issued, if passed.
    pub serial: Option<String>,
}

/// Refuses a check-in on `day` unless the class exists (and is `provider`'s, if given), is
/// approved and runs that day.
async fn open_on(db: &Db, class_id: i64, provider: Option<i64>, day: NaiveDate) -> Result<()> {
    let class: Option<(i64, String, NaiveDate, NaiveDate)> = with_pool!(db, |p| sqlx::query_as(
        "SELECT provider_id, status, start_date, end_date FROM training_class WHERE class_id = $1"
    )
    .bind(class_id)
    .fetch_optional(p)
    .await?);
    let Some((owner, status, start, end)) = class else { return Err(StoreError::NotFound) };
    if provider.is_some_and(|p| p != owner) {
        return Err(StoreError::NotFound);
    }
    if status != "approved" {
        return Err(StoreError::invalid(
            "class",
            Invalid::new(
                "attendance.not_approved",
                "培训班未经批准，不能考勤",
                "the class is not approved: no check-ins",
            ),
        ));
    }
    if day < start || day > end {
        return Err(StoreError::invalid(
            "day",
            Invalid::new(
                "attendance.day",
                format!("签到日期须在开班期间（{start} 至 {end}）"),
                format!("the day must be within the class ({start} to {end})"),
            ),
        ));
    }
    Ok(())
}

fn known_method(method: &str) -> Result<()> {
    if !METHODS.iter().any(|(m, _)| *m == method) {
        return Err(StoreError::invalid(
            "method",
            Invalid::new("attendance.method", "签到方式无效", "unknown check-in method"),
        ));
    }
    Ok(())
}

/// Records a check-in by ID number. The class must be approved, the day within its dates, the
/// person enrolled; a second check-in for the same day is a conflict.
pub async fn check_in(
    db: &Db,
    actor: Actor,
    class_id: i64,
    provider: Option<i64>,
    id_number: &IdNumber,
    day: NaiveDate,
    method: &str,
) -> Result<i64> {
    known_method(method)?;
    open_on(db, class_id, provider, day).await?;
    let enrolment: Option<i64> = with_pool!(db, |p| {
        sqlx::query_scalar(
        "SELECT e.enrolment_id FROM enrolment e JOIN person p ON p.person_id = e.person_id WHERE e.class_id = $1 AND p.id_number = $2"
    )
    .bind(class_id)
    .bind(id_number.as_str())
    .fetch_optional(p)
    .await?
    });
    let Some(enrolment) = enrolment else {
        return Err(StoreError::invalid(
            "id_number",
            Invalid::new(
                "attendance.not_enrolled",
                format!("{} 不在本班花名册中", id_number.masked()),
                "not on this class's roster",
            ),
        ));
    };
    insert(db, actor, class_id, enrolment, day, method).await
}

/// Records a check-in of one enrolment of the class (the roster's row on the class page). An
/// enrolment of another class is not found; a second check-in for the same day is a conflict.
pub async fn check_in_enrolment(
    db: &Db,
    actor: Actor,
    class_id: i64,
    provider: Option<i64>,
    enrolment_id: i64,
    day: NaiveDate,
    method: &str,
) -> Result<i64> {
    known_method(method)?;
    open_on(db, class_id, provider, day).await?;
    let found: Option<i64> = with_pool!(db, |p| sqlx::query_scalar(
        "SELECT enrolment_id FROM enrolment WHERE enrolment_id = $1 AND class_id = $2"
    )
    .bind(enrolment_id)
    .bind(class_id)
    .fetch_optional(p)
    .await?);
    let Some(enrolment) = found else { return Err(StoreError::NotFound) };
    insert(db, actor, class_id, enrolment, day, method).await
}

async fn insert(db: &Db, actor: Actor, class_id: i64, enrolment: i64, day: NaiveDate, method: &str) -> Result<i64> {
    let id = in_tx!(db, |tx| {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO attendance (enrolment_id, day, checked_at, method, recorded_by) VALUES ($1, $2, $3, $4, $5) RETURNING attendance_id",
        )
        .bind(enrolment)
        .bind(day)
        .bind(now())
        .bind(method)
        .bind(actor)
        .fetch_one(&mut *tx)
        .await?;
        audit::record(
            &mut *tx,
            actor,
            "check_in",
            "attendance",
            &id.to_string(),
            &serde_json::json!({"class": class_id, "day": day, "method": method}),
        )
        .await?;
        id
    });
    Ok(id)
}

/// Checks in every trainee of the class on `day` ("all present"), in one transaction. A trainee
/// already checked in that day is left as they are, so sending it twice records nothing more.
/// Returns how many check-ins were recorded now.
pub async fn check_in_all(
    db: &Db,
    actor: Actor,
    class_id: i64,
    provider: Option<i64>,
    day: NaiveDate,
    method: &str,
) -> Result<usize> {
    known_method(method)?;
    open_on(db, class_id, provider, day).await?;
    let t = now();
    let n = in_tx!(db, |tx| {
        // `WHERE` before `ON CONFLICT`: SQLite needs it to read the upsert after a SELECT.
        let rows: Vec<(i64, i64)> = sqlx::query_as(
            "INSERT INTO attendance (enrolment_id, day, checked_at, method, recorded_by) \
             SELECT e.enrolment_id, $2, $3, $4, $5 FROM enrolment e WHERE e.class_id = $1 \
             ON CONFLICT (enrolment_id, day) DO NOTHING RETURNING attendance_id, enrolment_id",
        )
        .bind(class_id)
        .bind(day)
        .bind(t)
        .bind(method)
        .bind(actor)
        .fetch_all(&mut *tx)
        .await?;
        for (id, enrolment) in &rows {
            audit::record(
                &mut *tx,
                actor,
                "check_in",
                "attendance",
                &id.to_string(),
                &serde_json::json!({"class": class_id, "day": day, "method": method, "enrolment": enrolment, "all_present": true}),
            )
            .await?;
        }
        rows.len()
    });
    Ok(n)
}

/// Attendance of every trainee of a class, whether each checked in on `day`, and their
/// assessment results.
pub async fn summary(db: &Db, class_id: i64, day: NaiveDate) -> Result<Vec<TraineeAttendance>> {
    Ok(with_pool!(db, |p| {
        sqlx::query_as(
            "SELECT e.enrolment_id, p.person_id, p.name, p.id_number, \
             (SELECT COUNT(*) FROM attendance a WHERE a.enrolment_id = e.enrolment_id) AS days_attended, \
             (SELECT MAX(a.day) FROM attendance a WHERE a.enrolment_id = e.enrolment_id) AS last_day, \
             EXISTS (SELECT 1 FROM attendance a WHERE a.enrolment_id = e.enrolment_id AND a.day = $2) AS checked_in, \
             s.passed, c.serial \
             FROM enrolment e JOIN person p ON p.person_id = e.person_id \
             LEFT JOIN assessment s ON s.enrolment_id = e.enrolment_id LEFT JOIN certificate c ON c.assessment_id = s.assessment_id \
             WHERE e.class_id = $1 ORDER BY p.person_id",
        )
        .bind(class_id)
        .bind(day)
        .fetch_all(p)
        .await?
    }))
}
