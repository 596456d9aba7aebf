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

/// A trainee's attendance in one class.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct TraineeAttendance {
    pub person_id: i64,
    pub name: String,
    /// ID number (mask before showing).
    pub id_number: String,
    /// Days checked in.
    pub days_attended: i64,
    /// Last check-in day.
    pub last_day: Option<NaiveDate>,
}

/// Records a check-in. The class must be approved, the day within its dates, the person enrolled;
/// a second check-in for the same day is a conflict.
pub async fn check_in(
    db: &Db,
    actor: Actor,
    class_id: i64,
    provider: Option<i64>,
    id_number: &IdNumber,
    day: NaiveDate,
    method: &str,
) -> Result<i64> {
    if !METHODS.iter().any(|(m, _)| *m == method) {
        return Err(StoreError::invalid(
            "method",
            Invalid::new("attendance.method", "签到方式无效", "unknown check-in method"),
        ));
    }
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

/// Attendance of every trainee of a class.
pub async fn summary(db: &Db, class_id: i64) -> Result<Vec<TraineeAttendance>> {
    Ok(with_pool!(db, |p| {
        sqlx::query_as(
        "SELECT p.person_id, p.name, p.id_number, COUNT(a.attendance_id) AS days_attended, MAX(a.day) AS last_day \
         FROM enrolment e JOIN person p ON p.person_id = e.person_id LEFT JOIN attendance a ON a.enrolment_id = e.enrolment_id \
         WHERE e.class_id = $1 GROUP BY p.person_id, p.name, p.id_number ORDER BY p.person_id"
    )
    .bind(class_id)
    .fetch_all(p)
    .await?
    }))
}
