//! The class page as every class form shows it again: details, status history, the actions the
//! caller may take, the attendance summary and, after a refused roster upload, its errors.

use crate::auth::Auth;
use crate::error::AppError;
use crate::render::{form_result, render_page, Done, OrPage, PageError, PageResult};
use crate::state::AppState;
use crate::views;
use axum::response::Response;
use jineng_domain::Role;
use jineng_store::training;
use jineng_store::users::User;
use minijinja::{context, Value};
use serde::Serialize;
use utoipa::ToSchema;

/// The class page, with the refusal of one of its forms, if any.
pub async fn class_page(
    st: &AppState,
    auth: &Auth,
    u: &jineng_store::users::User,
    id: i64,
    refused: Option<&AppError>,
) -> PageResult {
    class_page_with(st, auth, u, id, refused, None).await
}

/// The class page: details, status history, the actions the caller may take and, after a
/// refused roster upload, its errors and report.
pub async fn class_page_with(
    st: &AppState,
    auth: &Auth,
    u: &jineng_store::users::User,
    id: i64,
    refused: Option<&AppError>,
    import: Option<(Vec<jineng_store::roster::RowError>, String)>,
) -> PageResult {
    let error = refused.and_then(AppError::general);
    let errors = refused.map(AppError::fields).unwrap_or_default();
    let scope = views::class_scope(&st.db, u).await.page(auth)?;
    let c = training::get_class(&st.db, &scope, id).await.page(auth)?;
    let events = training::class_events(&st.db, id).await.page(auth)?;
    let today = st.clock.today();
    let attendance = attendance_views(st, u, id).await.page(auth)?;
    let runs_today = c.status == "approved" && c.start_date <= today && today <= c.end_date;
    let status = jineng_domain::ClassStatus::parse(&c.status);
    let actions: Vec<(&str, &str)> = [
        (jineng_domain::ClassAction::Approve, "approve", matches!(u.role, Role::CityAdmin | Role::County)),
        (jineng_domain::ClassAction::Return, "return", matches!(u.role, Role::CityAdmin | Role::County)),
        (jineng_domain::ClassAction::Resubmit, "resubmit", u.role == Role::Provider),
        (jineng_domain::ClassAction::Close, "close", matches!(u.role, Role::CityAdmin | Role::County | Role::Provider)),
    ]
    .into_iter()
    .filter(|(a, _, allowed)| *allowed && status.is_some_and(|s| s.apply(*a).is_ok()))
    .map(|(a, code, _)| (code, a.zh()))
    .collect();
    render_page(
        st,
        auth,
        "class.html",
        context! {
            c => Value::from_serialize(&c), events => Value::from_serialize(&events), actions => Value::from_serialize(&actions), error, errors,
            status_zh => status.map(|s| s.zh()).unwrap_or(""),
            can_open_program => matches!(u.role, Role::CityAdmin | Role::Department | Role::County | Role::Finance | Role::Auditor),
            can_upload => u.role == Role::Provider && matches!(c.status.as_str(), "submitted" | "returned"),
            can_check_in => u.role == Role::Provider && runs_today,
            checked_in_today => attendance.iter().filter(|a| a.checked_in_today).count(),
            today => today.to_string(),
            can_assess => u.role == Role::AssessmentBody && c.status == "approved",
            cert_kinds => Value::from_serialize(jineng_store::assessment::CERT_KINDS),
            attendance => Value::from_serialize(&attendance),
            methods => Value::from_serialize(jineng_store::attendance::METHODS),
            import_errors => Value::from_serialize(import.as_ref().map(|(e, _)| e)),
            report => import.as_ref().map(|(_, r)| r.clone()),
        },
    )
}

/// A trainee's attendance as shown: the ID number masked.
#[derive(Serialize, ToSchema)]
pub struct AttendanceView {
    /// The enrolment: what the class page's per-trainee forms post.
    pub enrolment_id: i64,
    pub person_id: i64,
    pub name: String,
    /// Masked ID number.
    pub id_number_masked: String,
    /// Days checked in.
    pub days_attended: i64,
    /// Days of the class.
    pub class_days: i64,
    /// Last check-in.
    pub last_day: Option<String>,
    /// Checked in today.
    pub checked_in_today: bool,
    /// Assessment result: passed, failed, or none recorded yet.
    pub passed: Option<bool>,
    /// Serial of the certificate issued, if passed.
    pub serial: Option<String>,
}

/// Attendance summary of a class, per trainee, with today's check-ins and assessment results.
pub async fn attendance_views(st: &AppState, u: &User, class_id: i64) -> Result<Vec<AttendanceView>, AppError> {
    let scope = views::class_scope(&st.db, u).await?;
    let class = training::get_class(&st.db, &scope, class_id).await?;
    let days = (class.end_date - class.start_date).num_days() + 1;
    Ok(jineng_store::attendance::summary(&st.db, class_id, st.clock.today())
        .await?
        .into_iter()
        .map(|a| AttendanceView {
            enrolment_id: a.enrolment_id,
            person_id: a.person_id,
            name: a.name,
            id_number_masked: jineng_domain::id_number::mask(&a.id_number),
            days_attended: a.days_attended,
            class_days: days,
            last_day: a.last_day.map(|d| d.to_string()),
            checked_in_today: a.checked_in,
            passed: a.passed,
            serial: a.serial,
        })
        .collect())
}

/// After a form on the class page: back to the page saying what was done (`result`'s words),
/// or the page again with the refusal.
pub async fn back_to_class(
    st: &AppState,
    auth: Auth,
    u: &User,
    id: i64,
    result: Result<String, AppError>,
) -> Result<Response, PageError> {
    back_to_class_at(st, auth, u, id, "", result).await
}

/// [`back_to_class`] to a place on the page (`#roster`, a trainee's row), so that a clerk going
/// down the roster row by row stays where they were.
pub async fn back_to_class_at(
    st: &AppState,
    auth: Auth,
    u: &User,
    id: i64,
    anchor: &str,
    result: Result<String, AppError>,
) -> Result<Response, PageError> {
    let result = result.map(|said| Done::new(format!("/classes/{id}{anchor}"), said));
    form_result(auth, result, |e, auth| async move { class_page(st, &auth, u, id, Some(&e)).await }).await
}
