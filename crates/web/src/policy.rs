//! The policy engine on the web: `POST /api/v1/adjudicate`, the parameter page (政策参数) where
//! the city schedules new values, and the page that explains each decision rule by rule.

use crate::auth::{Access, Auth, CurrentUser, Route, ADMIN, DECIDERS, STAFF};
use crate::error::{AppError, ErrorBody};
use crate::guard::CsrfForm;
use crate::render::{form_result, render_page, Done, OrPage, PageError};
use crate::state::AppState;
use crate::views::{parameter_views, ParameterView};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use chrono::NaiveDate;
use jineng_policy::{Decision, Engine, Key, Params};
use jineng_store::parameters;
use minijinja::{context, Value};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{OpenApi, ToSchema};

/// Routes of this module.
pub fn routes() -> Vec<Route> {
    use Access::*;
    vec![
        Route::get("/policy/parameters", Roles(STAFF), parameters_page_get),
        Route::post("/policy/parameters", Roles(ADMIN), parameters_form),
        Route::get("/policy/explain", Roles(DECIDERS), explain_page_get),
        Route::post("/policy/explain", Roles(DECIDERS), explain_form).limit(CASE_LIMIT),
        Route::post("/api/v1/adjudicate", Roles(DECIDERS), adjudicate).limit(CASE_LIMIT),
        Route::get("/api/v1/parameters", Roles(STAFF), list_parameters),
        Route::post("/api/v1/parameters", Roles(ADMIN), schedule_parameter),
    ]
}

/// The largest case the web decides (bigger ones: `jineng adjudicate FILE`).
const CASE_LIMIT: usize = 2 * 1024 * 1024;

/// The API of this module.
#[derive(OpenApi)]
#[openapi(paths(adjudicate, list_parameters, schedule_parameter))]
pub struct Api;

/// Decisions as the contract prints them.
#[derive(Serialize, ToSchema)]
pub struct Decisions {
    /// One per claim, in the order decided.
    #[schema(value_type = Vec<Object>)]
    pub decisions: serde_json::Value,
}

fn bad_input(e: jineng_policy::BadInput) -> AppError {
    AppError::Invalid(BTreeMap::from([(e.path, e.message)]))
}

/// Decide every claim of a case (the contract `jineng-case/1`). Bad input: 422 naming the JSON
/// path and the reason; nothing is decided.
#[utoipa::path(post, path = "/api/v1/adjudicate", request_body(content = Object, description = "a case, jineng-case/1"),
    responses((status = 200, body = Decisions), (status = 422, body = ErrorBody)))]
pub async fn adjudicate(State(st): State<AppState>, body: String) -> Result<Json<Decisions>, AppError> {
    let checked = jineng_policy::parse(&body).map_err(bad_input)?;
    let params = parameters::effective(&st.db).await?;
    let region = parameters::region(&st.db).await?;
    let decisions = Engine::new(&params, &region).decide(&checked);
    let decisions = serde_json::to_value(&decisions).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(Json(Decisions { decisions }))
}

/// Every parameter with its history, effective dates and sources.
#[utoipa::path(get, path = "/api/v1/parameters", responses((status = 200, body = [ParameterView])))]
pub async fn list_parameters(State(st): State<AppState>) -> Result<Json<Vec<ParameterView>>, AppError> {
    Ok(Json(parameter_views(&parameters::effective(&st.db).await?, st.clock.today())))
}

/// A new value from a future date.
#[derive(Deserialize, ToSchema)]
pub struct ScheduleInput {
    /// Dotted key, e.g. `living_allowance_fen_per_day`.
    pub key: String,
    /// First day in force (YYYY-MM-DD, after today).
    pub from: String,
    /// Value (fen, months, percent, count or years as the key says).
    pub value: i64,
    /// Where the figure comes from (e.g. the city's notice).
    pub source: String,
}

async fn schedule(st: &AppState, actor: i64, i: &ScheduleInput) -> Result<(), AppError> {
    let key = Key::parse(i.key.trim()).ok_or_else(|| AppError::field("key", "未知参数 / unknown parameter"))?;
    let from: NaiveDate =
        i.from.trim().parse().map_err(|_| AppError::field("from", "日期格式应为 YYYY-MM-DD / date as YYYY-MM-DD"))?;
    if from <= st.clock.today() {
        return Err(AppError::field("from", "新值只能从今后某日起生效，已作出的决定保留原值 / a new value starts after today; decisions made keep their values"));
    }
    let mut params = parameters::effective(&st.db).await?;
    if params.get(key).unit == "fen" && i.value > jineng_domain::money::MAX_AMOUNT_FEN {
        return Err(AppError::field("value", "金额不能超过100亿元 / at most 10 billion yuan"));
    }
    params.schedule(key, from, i.value, &i.source).map_err(|e| {
        let zh = match e.message.as_str() {
            "the plan fixes this value" => "方案已规定此值，不能调整 / the plan fixes this value",
            "a value without a source" => "请填写依据 / give the source",
            "negative value" => "不能为负数 / cannot be negative",
            _ => "生效日期须晚于该参数已有的最后一个值 / must start after the last value",
        };
        AppError::field(if zh.starts_with("请填写") { "source" } else { "value" }, zh)
    })?;
    parameters::schedule(&st.db, actor, key.name(), from, i.value, i.source.trim()).await?;
    Ok(())
}

/// Schedule a new value of a parameter from a future date (city admin). Values the plan fixes are refused.
#[utoipa::path(post, path = "/api/v1/parameters", request_body = ScheduleInput,
    responses((status = 201, body = [ParameterView]), (status = 422, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn schedule_parameter(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Json(i): Json<ScheduleInput>,
) -> Result<(StatusCode, Json<Vec<ParameterView>>), AppError> {
    schedule(&st, u.user_id, &i).await?;
    Ok((StatusCode::CREATED, Json(parameter_views(&parameters::effective(&st.db).await?, st.clock.today()))))
}

fn parameters_page(
    st: &AppState,
    auth: &Auth,
    params: &Params,
    error: Option<(&AppError, &ScheduleForm)>,
    can_edit: bool,
) -> Result<Html<String>, PageError> {
    let (errors, error, typed) = match error {
        Some((e, typed)) => (Value::from_serialize(e.fields()), e.general(), Value::from_serialize(typed)),
        None => (Value::from(()), None, Value::from(())),
    };
    let today = st.clock.today();
    let tomorrow = (today + chrono::Duration::days(1)).to_string();
    render_page(
        st,
        auth,
        "parameters.html",
        context! { params => Value::from_serialize(parameter_views(params, today)), errors, error, typed, can_edit, tomorrow },
    )
}

/// `GET /policy/parameters`
pub async fn parameters_page_get(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
) -> Result<Html<String>, PageError> {
    let params = parameters::effective(&st.db).await.page(&auth)?;
    parameters_page(&st, &auth, &params, None, u.role == jineng_domain::Role::CityAdmin)
}

/// The scheduling form.
#[derive(Deserialize, Serialize)]
pub struct ScheduleForm {
    key: String,
    from: String,
    value: String,
    source: String,
}

/// A value as a person types it, in the parameter's unit: money in yuan (`1200`, `1,200.50`;
/// stored in fen, parsed exactly), anything else a whole number of months, percent, times or
/// years. The API takes the stored figure (fen) as it is.
fn typed_value(key: &str, typed: &str) -> Result<i64, AppError> {
    let money = Key::parse(key.trim()).is_some_and(|k| Params::shipped().get(k).unit == "fen");
    if money {
        return jineng_domain::Money::parse_yuan(typed).map(|m| m.fen()).map_err(|_| {
            AppError::field(
                "value",
                "请按元填写金额，如 1200 或 1200.50（最多两位小数）/ an amount in yuan, e.g. 1200 or 1200.50",
            )
        });
    }
    typed.trim().replace(',', "").parse::<i64>().map_err(|_| {
        AppError::field(
            "value",
            "请填写整数（月数、百分比、次数或年数）/ a whole number (months, percent, times or years)",
        )
    })
}

/// `POST /policy/parameters`
pub async fn parameters_form(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    CsrfForm(f): CsrfForm<ScheduleForm>,
) -> Result<Response, PageError> {
    let result = match typed_value(&f.key, &f.value) {
        Ok(value) => {
            let input = ScheduleInput { key: f.key.clone(), from: f.from.clone(), value, source: f.source.clone() };
            schedule(&st, u.user_id, &input).await
        }
        Err(e) => Err(e),
    };
    let result = result.map(|()| {
        Done::new(
            "/policy/parameters",
            format!("已设定新值，自 {} 起生效 / the new value takes effect on {}", f.from.trim(), f.from.trim()),
        )
    });
    form_result(auth, result, |e, auth| async move {
        let params = parameters::effective(&st.db).await.page(&auth)?;
        parameters_page(&st, &auth, &params, Some((&e, &f)), true)
    })
    .await
}

const EXAMPLE: &str = include_str!("../../../policy/cases/contract-example-yearly-cap-and-on-the-job.json");

fn explain_page(
    st: &AppState,
    auth: &Auth,
    case: &str,
    result: Option<(Vec<Decision<'_>>, serde_json::Value)>,
    error: Option<String>,
) -> Result<Html<String>, PageError> {
    let quotes: BTreeMap<&str, &str> = jineng_policy::clauses::QUOTES.iter().copied().collect();
    let (decisions, claims) = result.unwrap_or_default();
    render_page(
        st,
        auth,
        "explain.html",
        context! {
            case, error, decisions => Value::from_serialize(&decisions), claims => Value::from_serialize(&claims), quotes => Value::from_serialize(&quotes),
        },
    )
}

/// `GET /policy/explain`: a case to decide, with the contract's example filled in.
pub async fn explain_page_get(State(st): State<AppState>, auth: Auth) -> Result<Html<String>, PageError> {
    explain_page(&st, &auth, EXAMPLE, None, None)
}

/// The case form.
#[derive(Deserialize)]
pub struct CaseForm {
    case: String,
}

/// `POST /policy/explain`: every decision with each rule checked, the clause text and the parameters.
pub async fn explain_form(
    State(st): State<AppState>,
    auth: Auth,
    CsrfForm(f): CsrfForm<CaseForm>,
) -> Result<Response, PageError> {
    let checked = match jineng_policy::parse(&f.case) {
        Ok(c) => c,
        Err(e) => {
            let page = explain_page(
                &st,
                &auth,
                &f.case,
                None,
                Some(format!("输入有误 / bad input — {}: {}", e.path, e.message)),
            )?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    let params = parameters::effective(&st.db).await.page(&auth)?;
    let region = parameters::region(&st.db).await.page(&auth)?;
    let decisions = Engine::new(&params, &region).explaining().decide(&checked);
    let claims: serde_json::Map<String, serde_json::Value> =
        checked.case.claims.iter().map(|c| (c.id.clone(), serde_json::to_value(c).unwrap_or_default())).collect();
    Ok(explain_page(&st, &auth, &f.case, Some((decisions, claims.into())), None)?.into_response())
}
