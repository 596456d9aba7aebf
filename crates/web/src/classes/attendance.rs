//! Attendance (考勤): one check-in per trainee per day of an approved class, recorded by its
//! provider on the class page (per roster row, or everyone at once, for today) or through the API
//! (by ID number, any day of the class); the summary per trainee.

use crate::auth::{Auth, CurrentUser};
use crate::classes::application::provider_id;
use crate::classes::page::{attendance_views, back_to_class_at, AttendanceView};
use crate::error::AppError;
use crate::guard::CsrfForm;
use crate::render::PageError;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use jineng_store::attendance;
use jineng_store::users::User;
use serde::Deserialize;
use utoipa::ToSchema;

/// A check-in.
#[derive(Deserialize, ToSchema)]
pub struct CheckInBody {
    /// The trainee's ID number.
    pub id_number: String,
    /// Day (YYYY-MM-DD), within the class.
    pub day: String,
    /// face | fingerprint | qr_code | manual.
    pub method: String,
}

async fn check_in(st: &AppState, u: &User, class_id: i64, b: &CheckInBody) -> Result<(), AppError> {
    let id = jineng_domain::IdNumber::parse(&b.id_number).map_err(|e| AppError::field("id_number", e))?;
    let day: chrono::NaiveDate =
        b.day.trim().parse().map_err(|_| AppError::field("day", "日期格式应为 YYYY-MM-DD / a date as YYYY-MM-DD"))?;
    jineng_store::attendance::check_in(
        &st.db,
        Some(u.user_id),
        class_id,
        Some(provider_id(u)?),
        &id,
        day,
        b.method.trim(),
    )
    .await?;
    Ok(())
}

/// Record a trainee's check-in for a day of an approved class (the provider).
#[utoipa::path(post, path = "/api/v1/classes/{id}/attendance", request_body = CheckInBody, params(("id" = i64, Path)),
    responses((status = 201), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn check_in_api(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Path(id): Path<i64>,
    Json(b): Json<CheckInBody>,
) -> Result<StatusCode, AppError> {
    check_in(&st, &u, id, &b).await?;
    Ok(StatusCode::CREATED)
}

/// Attendance of every trainee of a class.
#[utoipa::path(get, path = "/api/v1/classes/{id}/attendance", params(("id" = i64, Path)), responses((status = 200, body = [AttendanceView])))]
pub async fn attendance_api(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<Vec<AttendanceView>>, AppError> {
    Ok(Json(attendance_views(&st, &u, id).await?))
}

/// A check-in on the class page: one row of the roster (its enrolment), today.
#[derive(Deserialize)]
pub struct CheckInForm {
    enrolment_id: i64,
    /// Empty: manual (人工登记).
    #[serde(default)]
    method: String,
}

fn method_or_manual(method: &str) -> &str {
    match method.trim() {
        "" => "manual",
        m => m,
    }
}

/// `POST /classes/{id}/attendance`: checks one trainee of the roster in for today.
pub async fn check_in_form(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<CheckInForm>,
) -> Result<Response, PageError> {
    let result = async {
        let provider = Some(provider_id(&u)?);
        let method = method_or_manual(&f.method);
        attendance::check_in_enrolment(&st.db, Some(u.user_id), id, provider, f.enrolment_id, st.clock.today(), method)
            .await?;
        Ok("已签到 / checked in".to_owned())
    }
    .await;
    back_to_class_at(&st, auth, &u, id, &format!("#e{}", f.enrolment_id), result).await
}

/// The "all present today" form.
#[derive(Deserialize)]
pub struct AllPresentForm {
    /// Empty: manual (人工登记).
    #[serde(default)]
    method: String,
}

/// `POST /classes/{id}/attendance/all`: checks every trainee in for today, in one transaction;
/// those already checked in stay as they are.
pub async fn check_in_all_form(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<AllPresentForm>,
) -> Result<Response, PageError> {
    let result = async {
        let provider = Some(provider_id(&u)?);
        let n = attendance::check_in_all(
            &st.db,
            Some(u.user_id),
            id,
            provider,
            st.clock.today(),
            method_or_manual(&f.method),
        )
        .await?;
        Ok(format!("今日已签到 {n} 人（此前已签到的不变）/ {n} checked in today (those already in stay as they are)"))
    }
    .await;
    back_to_class_at(&st, auth, &u, id, "#roster", result).await
}
