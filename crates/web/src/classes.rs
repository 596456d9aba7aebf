//! Class applications (开班申请) and their review: a provider applies with the roster, the county
//! office approves or returns it with a reason; every change is recorded with who, when and why.

use crate::auth::{Auth, CsrfForm, CurrentUser};
use crate::error::AppError;
use crate::pages::{render_page, PageError};
use crate::views;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Json;
use jineng_domain::{ClassAction, SkillLevel, TrainingKind};
use jineng_store::training::{self, Application, ClassEvent, NewClass};
use jineng_store::users::{Role, User};
use jineng_store::{catalog, plan};
use minijinja::{context, Value};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// One roster row.
#[derive(Deserialize, Serialize, ToSchema, Clone)]
pub struct RosterRow {
    /// ID number.
    pub id_number: String,
    /// Name as registered.
    pub name: String,
}

/// A class application.
#[derive(Deserialize, ToSchema)]
pub struct ApplicationBody {
    /// Class name.
    pub name: String,
    /// Leaf program code, e.g. `P2a`.
    pub program_code: String,
    /// Occupation code (listed in the catalog).
    pub occupation_code: String,
    /// Level 1–5.
    pub level: Option<u8>,
    /// Kind: employment | skill_upgrade | pre_job | safety | job_transfer | entrepreneurship | apprenticeship.
    pub kind: String,
    /// County where it is held.
    pub county_code: String,
    /// Start (YYYY-MM-DD).
    pub start_date: String,
    /// End (YYYY-MM-DD).
    pub end_date: String,
    /// Subsidised class.
    pub subsidised: bool,
    /// The catalog project (required when subsidised).
    pub subsidy_project_id: Option<i64>,
    /// Venue.
    pub venue: String,
    /// Timetable.
    pub timetable: String,
    /// Teachers.
    pub teachers: String,
    /// Capacity.
    pub capacity: i64,
    /// Assessment plan.
    pub assessment_plan: String,
    /// Roster.
    pub roster: Vec<RosterRow>,
    /// The employer trained for (credit code): required for pre-job and apprenticeship classes.
    #[serde(default)]
    pub employer_credit_code: Option<String>,
    /// Project-based class (项目制培训): paid to the provider by advance and settlement.
    #[serde(default)]
    pub project_based: bool,
}

fn provider_id(u: &User) -> Result<i64, AppError> {
    match u.role {
        Role::Provider => u.scope_id().ok_or(AppError::Forbidden),
        _ => Err(AppError::Forbidden),
    }
}

fn parse_application(u: &User, b: &ApplicationBody) -> Result<Application, AppError> {
    let mut errors = BTreeMap::new();
    let date = |s: &str, field: &str, errors: &mut BTreeMap<String, String>| {
        s.trim()
            .parse::<chrono::NaiveDate>()
            .map_err(|_| errors.insert(field.into(), "日期格式应为 YYYY-MM-DD / a date as YYYY-MM-DD".into()))
            .ok()
    };
    let start = date(&b.start_date, "start_date", &mut errors);
    let end = date(&b.end_date, "end_date", &mut errors);
    let kind = TrainingKind::parse(&b.kind).map_err(|e| errors.insert("kind".into(), e.to_string())).ok();
    let level = b
        .level
        .map(SkillLevel::new)
        .transpose()
        .map_err(|e| errors.insert("level".into(), e.to_string()))
        .ok()
        .flatten();
    if b.roster.is_empty() {
        errors.insert("roster".into(), "花名册不能为空 / the roster is empty".into());
    }
    let (Some(start_date), Some(end_date), Some(kind)) = (start, end, kind) else {
        return Err(AppError::Invalid(errors));
    };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    Ok(Application {
        class: NewClass {
            name: b.name.clone(),
            program_code: b.program_code.trim().into(),
            occupation_code: b.occupation_code.trim().into(),
            level,
            kind,
            county_code: b.county_code.trim().into(),
            provider_id: provider_id(u)?,
            start_date,
            end_date,
            subsidised: b.subsidised,
        },
        subsidy_project_id: b.subsidy_project_id,
        venue: b.venue.clone(),
        timetable: b.timetable.clone(),
        teachers: b.teachers.clone(),
        capacity: b.capacity,
        assessment_plan: b.assessment_plan.clone(),
        roster: b.roster.iter().map(|r| (r.id_number.clone(), r.name.clone())).collect(),
        employer_credit_code: b.employer_credit_code.clone(),
        project_based: b.project_based,
    })
}

/// Apply to open a class (listed providers). Every wrong roster row is named; nothing is written
/// unless all is right.
#[utoipa::path(post, path = "/api/v1/classes", request_body = ApplicationBody,
    responses((status = 201, body = crate::api::Created), (status = 422, body = crate::api::ErrorBody)))]
pub async fn apply(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Json(b): Json<ApplicationBody>,
) -> Result<(StatusCode, Json<crate::api::Created>), AppError> {
    let a = parse_application(&u, &b)?;
    let id = training::apply_class(&st.db, Some(u.user_id), &a).await?;
    Ok((StatusCode::CREATED, Json(crate::api::Created { id })))
}

/// An action on a class.
#[derive(Deserialize, ToSchema)]
pub struct ActionBody {
    /// approve | return | resubmit | close.
    pub action: String,
    /// Why (required to return).
    #[serde(default)]
    pub reason: String,
}

fn action_allowed(u: &User, action: ClassAction) -> bool {
    match action {
        ClassAction::Approve | ClassAction::Return => matches!(u.role, Role::CityAdmin | Role::County),
        ClassAction::Resubmit => u.role == Role::Provider,
        ClassAction::Close => matches!(u.role, Role::CityAdmin | Role::County | Role::Provider),
    }
}

async fn act(st: &AppState, u: &User, id: i64, action: &str, reason: &str) -> Result<(), AppError> {
    let action: ClassAction = serde_json::from_value(serde_json::Value::String(action.into()))
        .map_err(|_| AppError::field("action", "未知操作 / unknown action"))?;
    if !action_allowed(u, action) {
        return Err(AppError::Forbidden);
    }
    let scope = views::class_scope(&st.db, u).await?;
    training::act_on_class(&st.db, u.user_id, id, action, reason, &scope).await?;
    Ok(())
}

/// Approve, return (with a reason), resubmit or close a class. The county office reviews its
/// county's classes; the provider resubmits its own.
#[utoipa::path(post, path = "/api/v1/classes/{id}/actions", request_body = ActionBody, params(("id" = i64, Path)),
    responses((status = 200, body = [ClassEvent]), (status = 409, body = crate::api::ErrorBody), (status = 422, body = crate::api::ErrorBody)))]
pub async fn class_action(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Path(id): Path<i64>,
    Json(b): Json<ActionBody>,
) -> Result<Json<Vec<ClassEvent>>, AppError> {
    act(&st, &u, id, &b.action, &b.reason).await?;
    Ok(Json(training::class_events(&st.db, id).await?))
}

/// The status changes of a class.
#[utoipa::path(get, path = "/api/v1/classes/{id}/events", params(("id" = i64, Path)), responses((status = 200, body = [ClassEvent])))]
pub async fn class_events(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<Vec<ClassEvent>>, AppError> {
    let scope = views::class_scope(&st.db, &u).await?;
    training::get_class(&st.db, &scope, id).await?;
    Ok(Json(training::class_events(&st.db, id).await?))
}

async fn form_ctx(st: &AppState) -> Result<Value, AppError> {
    let programs: Vec<_> = plan::programs(&st.db).await?;
    let leaves: Vec<_> = programs
        .iter()
        .filter(|p| p.unit != "none" && !programs.iter().any(|c| c.parent_code.as_deref() == Some(&p.program_code)))
        .collect();
    let kinds: Vec<_> = TrainingKind::ALL.iter().map(|k| (k.code(), k.zh())).collect();
    Ok(context! {
        programs => Value::from_serialize(&leaves),
        counties => Value::from_serialize(plan::counties(&st.db).await?),
        projects => Value::from_serialize(catalog::projects(&st.db, true).await?),
        kinds => Value::from_serialize(&kinds),
    })
}

/// `GET /classes/new`: the application form.
pub async fn new_class(State(st): State<AppState>, auth: Auth) -> Result<Html<String>, PageError> {
    let ctx = form_ctx(&st).await.map_err(|e| PageError::new(e, auth.clone()))?;
    render_page(&st, &auth, "class_form.html", context! { f => Value::from(()), errors => Value::from(()), ..ctx })
}

/// The application form.
#[derive(Deserialize, Serialize)]
pub struct ApplicationForm {
    name: String,
    program_code: String,
    subsidy_project_id: Option<String>,
    occupation_code: Option<String>,
    level: Option<String>,
    kind: String,
    county_code: String,
    start_date: String,
    end_date: String,
    subsidised: Option<String>,
    venue: String,
    timetable: String,
    teachers: String,
    capacity: String,
    assessment_plan: String,
    roster: String,
    #[serde(default)]
    employer_credit_code: Option<String>,
    #[serde(default)]
    project_based: Option<String>,
}

/// `POST /classes`: a provider applies from the page. The roster is one person a line:
/// `ID number, name` (comma, tab or spaces).
pub async fn create_class(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    CsrfForm(f): CsrfForm<ApplicationForm>,
) -> Result<Response, PageError> {
    let result = async {
        let subsidised = f.subsidised.is_some();
        let project_id = f.subsidy_project_id.as_deref().and_then(|p| p.trim().parse::<i64>().ok());
        // The project decides occupation and level of a subsidised class.
        let project = match project_id {
            Some(id) => catalog::projects(&st.db, true).await?.into_iter().find(|p| p.subsidy_project_id == id),
            None => None,
        };
        let occupation =
            project.as_ref().map(|p| p.occupation_code.clone()).or(f.occupation_code.clone()).unwrap_or_default();
        let level = project
            .as_ref()
            .and_then(|p| p.level)
            .map(|l| l as u8)
            .or_else(|| f.level.as_deref().and_then(|l| l.trim().parse().ok()));
        let roster = f
            .roster
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|l| {
                let mut parts = l
                    .split(|c: char| c == ',' || c == '，' || c == '\t' || c.is_whitespace())
                    .filter(|s| !s.is_empty());
                RosterRow {
                    id_number: parts.next().unwrap_or_default().into(),
                    name: parts.next().unwrap_or_default().into(),
                }
            })
            .collect();
        let body = ApplicationBody {
            name: f.name.clone(),
            program_code: f.program_code.clone(),
            occupation_code: occupation,
            level,
            kind: f.kind.clone(),
            county_code: f.county_code.clone(),
            start_date: f.start_date.clone(),
            end_date: f.end_date.clone(),
            subsidised,
            subsidy_project_id: project_id,
            venue: f.venue.clone(),
            timetable: f.timetable.clone(),
            teachers: f.teachers.clone(),
            capacity: f.capacity.trim().parse().unwrap_or(0),
            assessment_plan: f.assessment_plan.clone(),
            roster,
            employer_credit_code: f.employer_credit_code.clone(),
            project_based: f.project_based.is_some(),
        };
        let a = parse_application(&u, &body)?;
        Ok::<_, AppError>(training::apply_class(&st.db, Some(u.user_id), &a).await?)
    }
    .await;
    match result {
        Ok(id) => Ok(Redirect::to(&format!("/classes/{id}")).into_response()),
        Err(e @ AppError::Invalid(_)) => {
            let ctx = form_ctx(&st).await.map_err(|e| PageError::new(e, auth.clone()))?;
            let page = render_page(
                &st,
                &auth,
                "class_form.html",
                context! { f => Value::from_serialize(&f), errors => Value::from_serialize(e.fields()), ..ctx },
            )?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(PageError::new(e, auth)),
    }
}

/// An action form.
#[derive(Deserialize)]
pub struct ActionForm {
    pub(crate) action: String,
    #[serde(default)]
    pub(crate) reason: String,
}

/// `POST /classes/{id}/actions`
pub async fn class_action_form(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<ActionForm>,
) -> Result<Response, PageError> {
    back_to_class(&st, auth, &u, id, act(&st, &u, id, &f.action, &f.reason).await).await
}

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

/// A trainee's attendance as shown: the ID number masked.
#[derive(Serialize, ToSchema)]
pub struct AttendanceView {
    /// Person.
    pub person_id: i64,
    /// Name.
    pub name: String,
    /// Masked ID number.
    pub id_number_masked: String,
    /// Days checked in.
    pub days_attended: i64,
    /// Days of the class.
    pub class_days: i64,
    /// Last check-in.
    pub last_day: Option<String>,
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
    responses((status = 201), (status = 409, body = crate::api::ErrorBody), (status = 422, body = crate::api::ErrorBody)))]
pub async fn check_in_api(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Path(id): Path<i64>,
    Json(b): Json<CheckInBody>,
) -> Result<StatusCode, AppError> {
    check_in(&st, &u, id, &b).await?;
    Ok(StatusCode::CREATED)
}

/// Attendance summary of a class, per trainee.
pub async fn attendance_views(st: &AppState, u: &User, class_id: i64) -> Result<Vec<AttendanceView>, AppError> {
    let scope = views::class_scope(&st.db, u).await?;
    let class = training::get_class(&st.db, &scope, class_id).await?;
    let days = (class.end_date - class.start_date).num_days() + 1;
    Ok(jineng_store::attendance::summary(&st.db, class_id)
        .await?
        .into_iter()
        .map(|a| AttendanceView {
            person_id: a.person_id,
            name: a.name,
            id_number_masked: jineng_domain::id_number::mask(&a.id_number),
            days_attended: a.days_attended,
            class_days: days,
            last_day: a.last_day.map(|d| d.to_string()),
        })
        .collect())
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

/// The check-in form.
#[derive(Deserialize)]
pub struct CheckInForm {
    id_number: String,
    day: String,
    method: String,
}

/// `POST /classes/{id}/attendance`
pub async fn check_in_form(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<CheckInForm>,
) -> Result<Response, PageError> {
    let body = CheckInBody { id_number: f.id_number, day: f.day, method: f.method };
    back_to_class(&st, auth, &u, id, check_in(&st, &u, id, &body).await).await
}

/// An assessment result.
#[derive(Deserialize, ToSchema)]
pub struct AssessmentBody {
    /// The trainee's ID number.
    pub id_number: String,
    /// Date assessed (YYYY-MM-DD); the certificate's issue date when passed.
    pub assessed_on: String,
    /// Score 0–100.
    pub score: Option<i64>,
    /// Passed.
    pub passed: bool,
    /// Certificate kind when passed: qualification | skill_level | special_ability | special_operation | training_completion.
    #[serde(default)]
    pub kind: String,
    /// Certificate serial (unique per body) when passed.
    #[serde(default)]
    pub serial: String,
}

/// The certificate issued, if any.
#[derive(Serialize, ToSchema)]
pub struct Assessed {
    /// Certificate id (none when failed).
    pub certificate_id: Option<i64>,
}

async fn assess(st: &AppState, u: &User, class_id: i64, b: &AssessmentBody) -> Result<Option<i64>, AppError> {
    let body_id = match u.role {
        Role::AssessmentBody => u.scope_id().ok_or(AppError::Forbidden)?,
        _ => return Err(AppError::Forbidden),
    };
    let id_number = jineng_domain::IdNumber::parse(&b.id_number).map_err(|e| AppError::field("id_number", e))?;
    let assessed_on = b
        .assessed_on
        .trim()
        .parse()
        .map_err(|_| AppError::field("assessed_on", "日期格式应为 YYYY-MM-DD / a date as YYYY-MM-DD"))?;
    let r = jineng_store::assessment::Result_ {
        id_number,
        assessed_on,
        score: b.score,
        passed: b.passed,
        kind: b.kind.trim().into(),
        serial: b.serial.clone(),
    };
    let certificate = jineng_store::assessment::record(&st.db, Some(u.user_id), body_id, class_id, &r).await?;
    if let Some(cert) = certificate {
        // A certificate from a subsidised class: prepare the training subsidy and let the
        // policy engine decide it. A failure here leaves the certificate; the claim can be
        // prepared again (the idempotency key keeps it single).
        let class = training::get_class(&st.db, &Default::default(), class_id).await?;
        if class.subsidised {
            let person = jineng_store::people::find_by_id_number(&st.db, &Default::default(), &r.id_number).await?;
            if let Some(person) = person {
                if let Err(e) =
                    crate::claims::prepare_for_certificate(st, Some(u.user_id), person.person_id, cert).await
                {
                    tracing::error!(certificate.id = cert, error = %e, "claim not prepared");
                }
            }
        }
    }
    Ok(certificate)
}

/// Record a trainee's assessment (listed assessment bodies). A pass completes the training and
/// issues the certificate; the serial is unique per body.
#[utoipa::path(post, path = "/api/v1/classes/{id}/assessments", request_body = AssessmentBody, params(("id" = i64, Path)),
    responses((status = 201, body = Assessed), (status = 409, body = crate::api::ErrorBody), (status = 422, body = crate::api::ErrorBody)))]
pub async fn assess_api(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Path(id): Path<i64>,
    Json(b): Json<AssessmentBody>,
) -> Result<(StatusCode, Json<Assessed>), AppError> {
    let certificate_id = assess(&st, &u, id, &b).await?;
    Ok((StatusCode::CREATED, Json(Assessed { certificate_id })))
}

/// The assessment form.
#[derive(Deserialize)]
pub struct AssessmentForm {
    id_number: String,
    assessed_on: String,
    score: Option<String>,
    passed: Option<String>,
    kind: String,
    serial: String,
}

/// `POST /classes/{id}/assessments`
pub async fn assess_form(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<AssessmentForm>,
) -> Result<Response, PageError> {
    let b = AssessmentBody {
        id_number: f.id_number,
        assessed_on: f.assessed_on,
        score: f.score.as_deref().and_then(|s| s.trim().parse().ok()),
        passed: f.passed.is_some(),
        kind: f.kind,
        serial: f.serial,
    };
    back_to_class(&st, auth, &u, id, assess(&st, &u, id, &b).await.map(|_| ())).await
}

/// After a form on the class page: back to the page, or the page again with the refusal.
async fn back_to_class(
    st: &AppState,
    auth: Auth,
    u: &User,
    id: i64,
    result: Result<(), AppError>,
) -> Result<Response, PageError> {
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/classes/{id}")).into_response()),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            crate::pages::class_page(st, &auth, u, id, Some(e.message())).await.map(|h| (e.status(), h).into_response())
        }
        Err(e) => Err(PageError::new(e, auth)),
    }
}
