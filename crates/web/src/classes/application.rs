//! Class applications (开班申请) and their review: a provider applies with the roster, the county
//! office approves or returns it with a reason; every change is recorded with who, when and why.

use crate::auth::{Auth, CurrentUser};
use crate::classes::page::back_to_class;
use crate::error::AppError;
use crate::guard::CsrfForm;
use crate::render::{form_result, render_page, Done, OrPage, PageError};
use crate::state::AppState;
use crate::views;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, Response};
use axum::Json;
use jineng_domain::{ClassAction, Role, SkillLevel, TrainingKind};
use jineng_store::training::{self, Application, ClassEvent, NewClass};
use jineng_store::users::User;
use jineng_store::{catalog, orgs, plan};
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
    pub venue: String,
    pub timetable: String,
    pub teachers: String,
    pub capacity: i64,
    /// Assessment plan.
    pub assessment_plan: String,
    pub roster: Vec<RosterRow>,
    /// The employer trained for (credit code): required for pre-job and apprenticeship classes.
    #[serde(default)]
    pub employer_credit_code: Option<String>,
    /// Project-based class (项目制培训): paid to the provider by advance and settlement.
    #[serde(default)]
    pub project_based: bool,
    /// The listed assessment body (credit code) that assesses the class; only it records results.
    #[serde(default)]
    pub assessment_body_credit_code: Option<String>,
    /// Training days (培训天数) when the class meets on fewer days than it spans (e.g. weekends).
    #[serde(default)]
    pub training_days: Option<i64>,
    /// Project-based: the project number (项目编号); the organiser's classes with one number are
    /// one project, claimed together.
    #[serde(default)]
    pub project_code: Option<String>,
    /// Project-based: the class's share of the project's contract sum, fen (required).
    #[serde(default)]
    pub contract_fen: Option<i64>,
}

pub(crate) fn provider_id(u: &User) -> Result<i64, AppError> {
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
        assessment_body_credit_code: b.assessment_body_credit_code.clone(),
        project_based: b.project_based,
        training_days: b.training_days,
        project_code: b.project_code.clone(),
        contract_fen: b.contract_fen,
    })
}

/// Apply to open a class (listed providers). Every wrong roster row is named; nothing is written
/// unless all is right.
#[utoipa::path(post, path = "/api/v1/classes", request_body = ApplicationBody,
    responses((status = 201, body = crate::common::Created), (status = 422, body = crate::error::ErrorBody)))]
pub async fn apply(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Json(b): Json<ApplicationBody>,
) -> Result<(StatusCode, Json<crate::common::Created>), AppError> {
    let a = parse_application(&u, &b)?;
    let id = training::apply_class(&st.db, Some(u.user_id), &a).await?;
    Ok((StatusCode::CREATED, Json(crate::common::Created { id })))
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

async fn act(st: &AppState, u: &User, id: i64, action: &str, reason: &str) -> Result<ClassAction, AppError> {
    let action: ClassAction = serde_json::from_value(serde_json::Value::String(action.into()))
        .map_err(|_| AppError::field("action", "未知操作 / unknown action"))?;
    if !action_allowed(u, action) {
        return Err(AppError::Forbidden);
    }
    let scope = views::class_scope(&st.db, u).await?;
    training::act_on_class(&st.db, u.user_id, id, action, reason, &scope).await?;
    if action == ClassAction::Close {
        // The end of a class brings its trainees' living allowances (S2), passed or not. A
        // failure here leaves the class closed; the allowances can be prepared again.
        let today = st.clock.today();
        if let Err(e) = jineng_store::claims::prepare::for_class_end(&st.db, Some(u.user_id), id, today).await {
            tracing::error!(class.id = id, error = %e, "living allowances not prepared");
        }
    }
    Ok(action)
}

/// Approve, return (with a reason), resubmit or close a class. The county office reviews its
/// county's classes; the provider resubmits its own.
#[utoipa::path(post, path = "/api/v1/classes/{id}/actions", request_body = ActionBody, params(("id" = i64, Path)),
    responses((status = 200, body = [ClassEvent]), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
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
        bodies => Value::from_serialize(
            orgs::list(&st.db, orgs::OrgKind::AssessmentBody, None, "", 500)
                .await?
                .into_iter()
                .filter(|b| b.status.as_deref() == Some("listed"))
                .map(|b| (b.credit_code, b.name))
                .collect::<Vec<_>>()
        ),
    })
}

/// `GET /classes/new`: the application form.
pub async fn new_class_page(State(st): State<AppState>, auth: Auth) -> Result<Html<String>, PageError> {
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
    assessment_body_credit_code: Option<String>,
    #[serde(default)]
    project_based: Option<String>,
    #[serde(default)]
    training_days: Option<String>,
    #[serde(default)]
    project_code: Option<String>,
    #[serde(default)]
    contract_yuan: Option<String>,
}

/// `POST /classes`: a provider applies from the page. The roster is one person a line:
/// `ID number, name` (comma, tab or spaces).
pub async fn create_class_form(
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
        // A capacity that is no number is named as such, with the form's other mistakes; the
        // store is not asked to save anything then.
        let capacity = f.capacity.trim().replace(',', "").parse::<i64>().ok();
        let mut extra = BTreeMap::new();
        let blank = |s: &Option<String>| s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
        let training_days = match blank(&f.training_days) {
            None => None,
            Some(s) => s
                .parse::<i64>()
                .map_err(|_| {
                    extra.insert("training_days".to_owned(), "培训天数须为整数 / a whole number of days".to_owned())
                })
                .ok(),
        };
        let contract_fen = match blank(&f.contract_yuan) {
            None => None,
            Some(s) => jineng_domain::Money::parse_yuan(&s)
                .map(|m| m.fen())
                .map_err(|e| extra.insert("contract_fen".to_owned(), e.to_string()))
                .ok(),
        };
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
            capacity: capacity.unwrap_or(1),
            assessment_plan: f.assessment_plan.clone(),
            roster,
            employer_credit_code: f.employer_credit_code.clone(),
            assessment_body_credit_code: f.assessment_body_credit_code.clone(),
            project_based: f.project_based.is_some(),
            training_days,
            project_code: blank(&f.project_code),
            contract_fen,
        };
        let a = match (parse_application(&u, &body), capacity) {
            (Ok(a), Some(_)) if extra.is_empty() => a,
            (parsed, _) => {
                let mut errors = match parsed {
                    Err(AppError::Invalid(errors)) => errors,
                    Err(other) => return Err(other),
                    Ok(_) => BTreeMap::new(),
                };
                if capacity.is_none() {
                    errors.insert("capacity".into(), CAPACITY_NOT_A_NUMBER.into());
                }
                errors.extend(extra);
                return Err(AppError::Invalid(errors));
            }
        };
        Ok::<_, AppError>(training::apply_class(&st.db, Some(u.user_id), &a).await?)
    }
    .await;
    let result = result.map(|id| {
        Done::new(
            format!("/classes/{id}"),
            "开班申请已提交，等待县区审核 / the application is in, for the county to review",
        )
    });
    form_result(auth, result, |e, auth| async move {
        let ctx = form_ctx(&st).await.page(&auth)?;
        render_page(
            &st,
            &auth,
            "class_form.html",
            context! { f => Value::from_serialize(&f), errors => Value::from_serialize(e.fields()), error => e.general(), ..ctx },
        )
    })
    .await
}

const CAPACITY_NOT_A_NUMBER: &str = "班额须为整数（人数）/ the capacity must be a whole number (of trainees)";

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
    let result = act(&st, &u, id, &f.action, &f.reason).await;
    let said = result.map(|a| format!("已{}：第 {id} 号培训班 / class {id} {}", a.zh(), a.en()));
    back_to_class(&st, auth, &u, id, said).await
}
