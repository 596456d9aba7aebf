//! The plan and its progress: the home page, a program and a county drilled down, pages and API
//! built from the same views, and the city admin's change of a target.

use crate::auth::{Access, Auth, CurrentUser, Route, ADMIN, PLAN_VIEWERS, STAFF};
use crate::error::{AppError, ErrorBody};
use crate::guard::CsrfForm;
use crate::render::{form_result, render_page, OrPage, PageError, PageResult};
use crate::state::AppState;
use crate::views::{self, CountyDetail, PlanOverview, ProgramDetail};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use jineng_domain::Role;
use jineng_store::plan;
use minijinja::{context, Value};
use serde::Deserialize;
use utoipa::{OpenApi, ToSchema};

/// Routes of this module.
pub fn routes() -> Vec<Route> {
    use Access::*;
    vec![
        Route::get("/", SignedIn, home),
        Route::get("/programs/{code}", Roles(STAFF), program_page),
        Route::post("/programs/{code}/target", Roles(ADMIN), set_target_form),
        Route::get("/counties/{code}", Roles(STAFF), county_page),
        Route::get("/api/v1/plan", Roles(PLAN_VIEWERS), plan_overview),
        Route::get("/api/v1/programs/{code}", Roles(STAFF), program_detail),
        Route::put("/api/v1/programs/{code}/target", Roles(ADMIN), set_target),
        Route::get("/api/v1/counties/{code}", Roles(STAFF), county_detail),
    ]
}

/// The API of this module.
#[derive(OpenApi)]
#[openapi(paths(plan_overview, program_detail, set_target, county_detail))]
pub struct Api;

/// `GET /`: the plan at a glance.
pub async fn home(State(st): State<AppState>, auth: Auth, CurrentUser(u): CurrentUser) -> Result<Response, PageError> {
    if u.role == Role::Worker {
        return Ok(Redirect::to(&format!("/people/{}", u.scope.clone().unwrap_or_default())).into_response());
    }
    let overview = views::plan_overview(&st.db, &u).await.page(&auth)?;
    // A county office drills into its own county only.
    let counties: Vec<_> = plan::counties(&st.db)
        .await
        .page(&auth)?
        .into_iter()
        .filter(|c| u.role != Role::County || u.scope.as_deref() == Some(c.county_code.as_str()))
        .collect();
    let staff = matches!(u.role, Role::CityAdmin | Role::Department | Role::County | Role::Finance | Role::Auditor);
    Ok(render_page(&st, &auth, "home.html", context! { o => Value::from_serialize(&overview), counties => Value::from_serialize(&counties), drill => staff })?.into_response())
}

/// `GET /programs/{code}`
pub async fn program_page(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    Path(code): Path<String>,
) -> PageResult {
    let d = views::program_detail(&st.db, &u, &code).await.page(&auth)?;
    render_page(
        &st,
        &auth,
        "program.html",
        context! { d => Value::from_serialize(&d), can_set => u.role == Role::CityAdmin, error => None::<String> },
    )
}

/// The target form.
#[derive(Deserialize)]
pub struct TargetForm {
    target: String,
    reason: String,
}

/// `POST /programs/{code}/target`
pub async fn set_target_form(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    Path(code): Path<String>,
    CsrfForm(f): CsrfForm<TargetForm>,
) -> Result<Response, PageError> {
    let result = match f.target.trim().replace(',', "").parse::<i64>() {
        Ok(v) => plan::set_target(&st.db, u.user_id, &code, v, &f.reason).await.map_err(AppError::from),
        Err(_) => Err(AppError::field("target", "请输入整数 / enter a whole number")),
    };
    let result = result.map(|()| format!("/programs/{code}"));
    form_result(auth, result, |e, auth| async move {
        let d = views::program_detail(&st.db, &u, &code).await.page(&auth)?;
        render_page(
            &st,
            &auth,
            "program.html",
            context! { d => Value::from_serialize(&d), can_set => true, error => Some(e.message()), errors => Value::from_serialize(e.fields()) },
        )
    })
    .await
}

/// `GET /counties/{code}`
pub async fn county_page(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    Path(code): Path<String>,
) -> PageResult {
    let d = views::county_detail(&st.db, &u, &code).await.page(&auth)?;
    render_page(&st, &auth, "county.html", context! { d => Value::from_serialize(&d) })
}

/// The plan at a glance: T1–T3 and every program visible to the caller.
#[utoipa::path(get, path = "/api/v1/plan", responses((status = 200, body = PlanOverview)))]
pub async fn plan_overview(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
) -> Result<Json<PlanOverview>, AppError> {
    Ok(Json(views::plan_overview(&st.db, &u).await?))
}

/// One program with its counties and months.
#[utoipa::path(get, path = "/api/v1/programs/{code}", params(("code" = String, Path, description = "program code, e.g. P2a")),
    responses((status = 200, body = ProgramDetail), (status = 404, body = ErrorBody)))]
pub async fn program_detail(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Path(code): Path<String>,
) -> Result<Json<ProgramDetail>, AppError> {
    Ok(Json(views::program_detail(&st.db, &u, &code).await?))
}

/// A new value for a program target.
#[derive(Deserialize, ToSchema)]
pub struct TargetInput {
    /// Person-times (or persons).
    pub target: i64,
    /// Why: e.g. the department's proposal and its date.
    pub reason: String,
}

/// Set a program target (e.g. a pending one, once proposed). City admin only; kept with who and when.
#[utoipa::path(put, path = "/api/v1/programs/{code}/target", request_body = TargetInput, params(("code" = String, Path)),
    responses((status = 200, body = ProgramDetail), (status = 422, body = ErrorBody)))]
pub async fn set_target(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Path(code): Path<String>,
    Json(t): Json<TargetInput>,
) -> Result<Json<ProgramDetail>, AppError> {
    jineng_store::plan::set_target(&st.db, u.user_id, &code, t.target, &t.reason).await?;
    Ok(Json(views::program_detail(&st.db, &u, &code).await?))
}

/// One county with its programs.
#[utoipa::path(get, path = "/api/v1/counties/{code}", params(("code" = String, Path)), responses((status = 200, body = CountyDetail)))]
pub async fn county_detail(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Path(code): Path<String>,
) -> Result<Json<CountyDetail>, AppError> {
    Ok(Json(views::county_detail(&st.db, &u, &code).await?))
}
