//! Budget against commitments (预算与承诺, S6): each fund's adopted earmark, allocations, money
//! decided and not yet paid, paid and recovered, with a warning when the commitments exceed the
//! earmark. Finance and the city admin record the earmark; the auditor reads. The public part
//! (earmark, allocated, paid, recovered) is on the disclosure (`public`).

use crate::auth::{Access, Auth, CurrentUser, Route, MONEY_READERS};
use crate::error::{AppError, ErrorBody};
use crate::guard::CsrfForm;
use crate::render::{form_result, render_page, Done, OrPage, PageResult};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use chrono::NaiveDate;
use jineng_domain::Role;
use jineng_store::disclosure::{self, Earmark, FundBudget};
use minijinja::{context, Value};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{OpenApi, ToSchema};

/// Who records an earmark: finance and the city admin.
pub const EARMARK_SETTERS: &[Role] = &[Role::Finance, Role::CityAdmin];

/// Routes of this module.
pub fn routes() -> Vec<Route> {
    use Access::*;
    vec![
        Route::get("/budget", Roles(MONEY_READERS), budget_page),
        Route::post("/budget", Roles(EARMARK_SETTERS), earmark_form),
        Route::get("/api/v1/budget", Roles(MONEY_READERS), budget_api),
        Route::post("/api/v1/budget/earmarks", Roles(EARMARK_SETTERS), earmark_api),
    ]
}

/// The API of this module.
#[derive(OpenApi)]
#[openapi(paths(budget_api, earmark_api))]
pub struct Api;

/// Each fund's budget and every earmark adopted.
#[derive(Serialize, ToSchema)]
pub struct Budget {
    /// Each fund against its earmark.
    pub funds: Vec<FundBudget>,
    /// Every earmark adopted, oldest first (the last of a fund is in force).
    pub earmarks: Vec<Earmark>,
}

async fn budget(st: &AppState) -> Result<Budget, AppError> {
    Ok(Budget { funds: disclosure::budget(&st.db).await?, earmarks: disclosure::earmarks(&st.db).await? })
}

/// Each fund's earmark, allocations, money decided not yet paid, paid and recovered, and
/// whether the commitments exceed the earmark.
#[utoipa::path(get, path = "/api/v1/budget", responses((status = 200, body = Budget)))]
pub async fn budget_api(State(st): State<AppState>) -> Result<Json<Budget>, AppError> {
    Ok(Json(budget(&st).await?))
}

/// An earmark adopted for a fund.
#[derive(Deserialize, ToSchema)]
pub struct EarmarkBody {
    /// `employment_subsidy_fund` or `unemployment_insurance_fund`.
    pub fund: String,
    /// Amount, fen.
    pub amount_fen: i64,
    /// The budget document that adopted it.
    pub document: String,
    /// The day it was adopted (YYYY-MM-DD).
    pub adopted_on: NaiveDate,
}

/// Record the earmark adopted for a fund (S6); the latest adopted is in force.
#[utoipa::path(post, path = "/api/v1/budget/earmarks", request_body = EarmarkBody,
    responses((status = 201), (status = 422, body = ErrorBody)))]
pub async fn earmark_api(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Json(b): Json<EarmarkBody>,
) -> Result<StatusCode, AppError> {
    disclosure::set_earmark(&st.db, u.user_id, &b.fund, b.amount_fen, &b.document, b.adopted_on).await?;
    Ok(StatusCode::CREATED)
}

fn page(st: &AppState, auth: &Auth, b: &Budget, refused: Option<(&EarmarkForm, AppError)>) -> PageResult {
    let can_set = auth.user.as_ref().is_some_and(|u| EARMARK_SETTERS.contains(&u.role));
    let (typed, errors, error) = match refused {
        Some((f, e)) => (
            Some(
                json!({"fund": f.fund, "amount_yuan": f.amount_yuan, "document": f.document, "adopted_on": f.adopted_on}),
            ),
            e.fields(),
            e.general(),
        ),
        None => (None, Default::default(), None),
    };
    render_page(
        st,
        auth,
        "budget.html",
        context! {
            funds => Value::from_serialize(&b.funds), earmarks => Value::from_serialize(&b.earmarks), can_set,
            typed => Value::from_serialize(&typed), errors => Value::from_serialize(&errors), error,
            today => st.clock.today().to_string(),
        },
    )
}

/// `GET /budget`
pub async fn budget_page(State(st): State<AppState>, auth: Auth) -> PageResult {
    let b = budget(&st).await.page(&auth)?;
    page(&st, &auth, &b, None)
}

/// The earmark form (amount typed in yuan).
#[derive(Deserialize)]
pub struct EarmarkForm {
    #[serde(default)]
    fund: String,
    #[serde(default)]
    amount_yuan: String,
    #[serde(default)]
    document: String,
    #[serde(default)]
    adopted_on: String,
}

/// `POST /budget`
pub async fn earmark_form(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    CsrfForm(f): CsrfForm<EarmarkForm>,
) -> Result<Response, crate::render::PageError> {
    let result = async {
        let fen =
            jineng_domain::Money::parse_yuan(&f.amount_yuan).map_err(|e| AppError::field("amount_yuan", e))?.fen();
        let on = f
            .adopted_on
            .trim()
            .parse::<NaiveDate>()
            .map_err(|_| AppError::field("adopted_on", "请填写日期 / a date, YYYY-MM-DD"))?;
        disclosure::set_earmark(&st.db, u.user_id, &f.fund, fen, &f.document, on).await?;
        Ok(Done::new("/budget", "预算额度已登记 / the earmark is recorded"))
    }
    .await;
    form_result(auth, result, |e, auth| async move {
        let b = budget(&st).await.page(&auth)?;
        page(&st, &auth, &b, Some((&f, e)))
    })
    .await
}
