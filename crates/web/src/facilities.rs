//! E1b facilities (高技能人才培训基地、技能大师工作室): the employer registers one with its new
//! equipment's value and invoices; finance and HR each record the joint acceptance themselves.
//! The equipment grant is filed for a registered facility and decided from its record.

use crate::auth::{Access, Auth, CurrentUser, Route};
use crate::common::Created;
use crate::error::AppError;
use crate::guard::CsrfForm;
use crate::render::{form_result, render_page, Done, OrPage, PageResult};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use jineng_domain::Role;
use jineng_store::facilities::{self, Acceptor, FacilityRow, FacilityScope, NewFacility};
use jineng_store::users::User;
use minijinja::{context, Value};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

const READERS: &[Role] = &[Role::CityAdmin, Role::County, Role::Finance, Role::Auditor, Role::Employer];
const EMPLOYER: &[Role] = &[Role::Employer];
const ACCEPTORS: &[Role] = &[Role::CityAdmin, Role::County, Role::Finance];

/// Routes of this module.
pub fn routes() -> Vec<Route> {
    use Access::*;
    vec![
        Route::get("/facilities", Roles(READERS), page),
        Route::post("/facilities", Roles(EMPLOYER), register_form),
        Route::post("/facilities/{id}/acceptance", Roles(ACCEPTORS), accept_form),
        Route::get("/api/v1/facilities", Roles(READERS), list_api),
        Route::post("/api/v1/facilities", Roles(EMPLOYER), register_api),
        Route::post("/api/v1/facilities/{id}/acceptance", Roles(ACCEPTORS), accept_api),
    ]
}

/// The API of this module.
#[derive(OpenApi)]
#[openapi(paths(list_api, register_api, accept_api), components(schemas(FacilityInput, AcceptanceInput, FacilityRow)))]
pub struct Api;

fn scope(u: &User) -> Result<FacilityScope, AppError> {
    Ok(match u.role {
        Role::Employer => {
            FacilityScope { employer_id: Some(u.scope_id().ok_or(AppError::Forbidden)?), ..Default::default() }
        }
        Role::County => {
            FacilityScope { county: Some(u.scope.clone().ok_or(AppError::Forbidden)?), ..Default::default() }
        }
        _ => FacilityScope::default(),
    })
}

/// Facilities the caller may see.
#[utoipa::path(get, path = "/api/v1/facilities", responses((status = 200, body = Vec<FacilityRow>)))]
pub async fn list_api(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
) -> Result<Json<Vec<FacilityRow>>, AppError> {
    Ok(Json(facilities::list(&st.db, &scope(&u)?).await?))
}

/// A facility to register.
#[derive(Debug, Deserialize, Serialize, ToSchema, Default)]
pub struct FacilityInput {
    /// `training_base` or `master_studio`.
    pub kind: String,
    pub name: String,
    /// Value of the new training equipment, fen.
    pub equipment_value_fen: i64,
    /// The equipment's invoices (numbers, dates).
    pub invoices: String,
}

async fn register(st: &AppState, u: &User, b: &FacilityInput) -> Result<i64, AppError> {
    let employer = u.scope_id().ok_or(AppError::Forbidden)?;
    let new = NewFacility {
        kind: b.kind.clone(),
        name: b.name.clone(),
        equipment_value_fen: b.equipment_value_fen,
        invoices: b.invoices.clone(),
    };
    Ok(facilities::register(&st.db, Some(u.user_id), employer, &new).await?)
}

/// The employer registers a facility.
#[utoipa::path(post, path = "/api/v1/facilities", request_body = FacilityInput, responses((status = 201, body = Created), (status = 422, body = crate::error::ErrorBody)))]
pub async fn register_api(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Json(b): Json<FacilityInput>,
) -> Result<(StatusCode, Json<Created>), AppError> {
    let id = register(&st, &u, &b).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// An acceptance: the report's number.
#[derive(Debug, Deserialize, Serialize, ToSchema, Default)]
pub struct AcceptanceInput {
    /// The acceptance report's number.
    pub reference: String,
}

async fn accept(st: &AppState, u: &User, id: i64, reference: &str) -> Result<FacilityRow, AppError> {
    let by = if u.role == Role::Finance { Acceptor::Finance } else { Acceptor::Hr };
    Ok(facilities::accept(&st.db, u.user_id, &scope(u)?, by, id, reference).await?)
}

/// Finance (its role) or HR (the city or the facility's county office) records the acceptance.
#[utoipa::path(post, path = "/api/v1/facilities/{id}/acceptance", params(("id" = i64, Path)), request_body = AcceptanceInput, responses((status = 200, body = FacilityRow), (status = 409, body = crate::error::ErrorBody)))]
pub async fn accept_api(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Path(id): Path<i64>,
    Json(b): Json<AcceptanceInput>,
) -> Result<Json<FacilityRow>, AppError> {
    Ok(Json(accept(&st, &u, id, &b.reference).await?))
}

async fn facilities_page(st: &AppState, auth: &Auth, u: &User, form: Option<(&RegisterForm, AppError)>) -> PageResult {
    let rows = async { Ok::<_, AppError>(facilities::list(&st.db, &scope(u)?).await?) }.await.page(auth)?;
    let (f, errors, error) = match form {
        Some((f, e)) => (Value::from_serialize(f), Value::from_serialize(e.fields()), e.general()),
        None => (Value::from_serialize(RegisterForm::default()), Value::from(()), None),
    };
    render_page(
        st,
        auth,
        "facilities.html",
        context! { rows => Value::from_serialize(&rows), f => f, errors => errors, error => error,
        employer => u.role == Role::Employer,
        acceptor => match u.role { Role::Finance => "finance", Role::CityAdmin | Role::County => "hr", _ => "" } },
    )
}

/// `GET /facilities`
pub async fn page(State(st): State<AppState>, auth: Auth, CurrentUser(u): CurrentUser) -> PageResult {
    facilities_page(&st, &auth, &u, None).await
}

/// The registration form (money in yuan).
#[derive(Debug, Deserialize, Serialize, Default)]
pub struct RegisterForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    equipment_value_yuan: String,
    #[serde(default)]
    invoices: String,
}

/// `POST /facilities`
pub async fn register_form(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    CsrfForm(f): CsrfForm<RegisterForm>,
) -> Result<Response, crate::render::PageError> {
    let result = async {
        let fen = jineng_domain::Money::parse_yuan(f.equipment_value_yuan.trim())
            .map_err(|e| AppError::field("equipment_value_yuan", e.to_string()))?
            .fen();
        let b = FacilityInput {
            kind: f.kind.clone(),
            name: f.name.clone(),
            equipment_value_fen: fen,
            invoices: f.invoices.clone(),
        };
        register(&st, &u, &b).await.map(|_| {
            Done::new("/facilities", "已登记，待财政、人社部门验收 / registered, for finance and HR to accept")
        })
    }
    .await;
    form_result(auth, result, |e, auth| async move { facilities_page(&st, &auth, &u, Some((&f, e))).await }).await
}

/// The acceptance form.
#[derive(Debug, Deserialize)]
pub struct AcceptForm {
    #[serde(default)]
    reference: String,
}

/// `POST /facilities/{id}/acceptance`
pub async fn accept_form(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<AcceptForm>,
) -> Result<Response, crate::render::PageError> {
    let result =
        accept(&st, &u, id, &f.reference).await.map(|_| Done::new("/facilities", "已登记验收 / acceptance recorded"));
    form_result(auth, result, |e, auth| async move {
        let form = RegisterForm::default();
        facilities_page(&st, &auth, &u, Some((&form, e))).await
    })
    .await
}
