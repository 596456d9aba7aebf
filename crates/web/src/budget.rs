//! Budget against commitments (预算与承诺, S6): each fund's adopted earmark, allocations, money
//! decided and not yet paid, paid and recovered, with a warning when the commitments exceed the
//! earmark. The earmark (S6: X亿元, pending in the plan) is settled like the plan's pending
//! targets: the finance bureau proposes it with its reasoning, the city HR admin adopts it (with
//! the adopting document) or returns it; the auditor reads. The public part
//! (earmark, allocated, paid, recovered) is on the disclosure (`public`).

use crate::auth::{Access, Auth, CurrentUser, Route, MONEY_READERS};
use crate::error::{AppError, ErrorBody};
use crate::guard::CsrfForm;
use crate::render::{form_result, render_page, Done, OrPage, PageError, PageResult};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::NaiveDate;
use jineng_domain::Role;
use jineng_store::disclosure::{self, Earmark, EarmarkDecision, EarmarkProposal, FundBudget};
use minijinja::{context, Value};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{OpenApi, ToSchema};

/// Who proposes an earmark: the finance bureau (S6 names the unemployment-insurance fund's
/// surplus, which finance and HR manage together).
pub const EARMARK_PROPOSERS: &[Role] = &[Role::Finance];
/// Who adopts or returns a proposal: the city HR admin.
pub const EARMARK_DECIDERS: &[Role] = &[Role::CityAdmin];

/// Routes of this module.
pub fn routes() -> Vec<Route> {
    use Access::*;
    vec![
        Route::get("/budget", Roles(MONEY_READERS), budget_page),
        Route::post("/budget/earmarks", Roles(EARMARK_PROPOSERS), propose_form),
        Route::post("/budget/earmarks/{id}/decision", Roles(EARMARK_DECIDERS), decide_form),
        Route::get("/api/v1/budget", Roles(MONEY_READERS), budget_api),
        Route::post("/api/v1/budget/earmarks", Roles(EARMARK_PROPOSERS), propose_api),
        Route::post("/api/v1/budget/earmarks/{id}/decision", Roles(EARMARK_DECIDERS), decide_api),
    ]
}

/// The API of this module.
#[derive(OpenApi)]
#[openapi(paths(budget_api, propose_api, decide_api), components(schemas(EarmarkBody, EarmarkDecisionBody)))]
pub struct Api;

/// Each fund's budget, every earmark adopted and every proposal.
#[derive(Serialize, ToSchema)]
pub struct Budget {
    /// Each fund against its earmark.
    pub funds: Vec<FundBudget>,
    /// Every earmark adopted, oldest first (the last of a fund is in force).
    pub earmarks: Vec<Earmark>,
    /// Every earmark proposal, newest first.
    pub proposals: Vec<EarmarkProposal>,
}

async fn budget(st: &AppState) -> Result<Budget, AppError> {
    Ok(Budget {
        funds: disclosure::budget(&st.db).await?,
        earmarks: disclosure::earmarks(&st.db).await?,
        proposals: disclosure::earmark_proposals(&st.db).await?,
    })
}

/// Each fund's earmark, allocations, money decided not yet paid, paid and recovered, and
/// whether the commitments exceed the earmark; with every earmark adopted and proposed.
#[utoipa::path(get, path = "/api/v1/budget", responses((status = 200, body = Budget)))]
pub async fn budget_api(State(st): State<AppState>) -> Result<Json<Budget>, AppError> {
    Ok(Json(budget(&st).await?))
}

/// The finance bureau's proposal for a fund's earmark.
#[derive(Deserialize, ToSchema)]
pub struct EarmarkBody {
    /// `employment_subsidy_fund` or `unemployment_insurance_fund`.
    #[serde(default)]
    pub fund: String,
    /// Amount, fen.
    #[serde(default)]
    pub amount_fen: i64,
    /// The reasoning (the fund's surplus, the years, the estimate).
    #[serde(default)]
    pub reasoning: String,
}

/// The finance bureau proposes a fund's earmark (S6, pending in the plan) with its reasoning;
/// one open proposal per fund; the city HR admin adopts or returns it.
#[utoipa::path(post, path = "/api/v1/budget/earmarks", request_body = EarmarkBody,
    responses((status = 201, description = "proposed: `{\"proposal_id\": n}`"), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn propose_api(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Json(b): Json<EarmarkBody>,
) -> Result<Response, AppError> {
    let id = disclosure::propose_earmark(&st.db, u.user_id, &b.fund, b.amount_fen, &b.reasoning).await?;
    Ok((StatusCode::CREATED, Json(json!({"proposal_id": id}))).into_response())
}

/// The city's decision on an earmark proposal.
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
pub struct EarmarkDecisionBody {
    /// `adopt` or `return`.
    #[serde(default)]
    pub decision: String,
    /// The reasoning, required when returning it.
    #[serde(default)]
    pub reason: String,
    /// When adopting: the document that adopts it (e.g. 驻政〔2020〕5号).
    #[serde(default)]
    pub document: String,
    /// When adopting: the day it was adopted (YYYY-MM-DD; today if left out).
    #[serde(default)]
    pub adopted_on: Option<String>,
}

impl EarmarkDecisionBody {
    fn decision(&self, today: NaiveDate) -> Result<EarmarkDecision, AppError> {
        match self.decision.as_str() {
            "adopt" => {
                let adopted_on = match self.adopted_on.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
                    None => today,
                    Some(d) => d.parse::<NaiveDate>().ok().filter(|d| *d <= today).ok_or_else(|| {
                        AppError::field("adopted_on", "请填写不晚于今天的日期 / a date no later than today, YYYY-MM-DD")
                    })?,
                };
                Ok(EarmarkDecision::Adopt { document: self.document.clone(), adopted_on })
            }
            "return" => Ok(EarmarkDecision::Return),
            _ => Err(AppError::field("decision", "请选择采纳或退回 / choose adopt or return")),
        }
    }
}

/// The city HR admin adopts an earmark proposal (with the adopting document: the earmark in
/// force from the day adopted) or returns it, with a reason. Decided once.
#[utoipa::path(post, path = "/api/v1/budget/earmarks/{id}/decision", request_body = EarmarkDecisionBody, params(("id" = i64, Path)),
    responses((status = 204, description = "decided"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn decide_api(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Path(id): Path<i64>,
    Json(b): Json<EarmarkDecisionBody>,
) -> Result<Response, AppError> {
    let d = b.decision(st.clock.today())?;
    disclosure::decide_earmark(&st.db, u.user_id, id, &d, &b.reason).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// A refused form on the page: `proposal` (with what was typed) or `decision` (with its id).
type Refused<'a> = (&'a str, serde_json::Value, AppError);

fn page(st: &AppState, auth: &Auth, b: &Budget, refused: Option<Refused<'_>>) -> PageResult {
    let role = auth.user.as_ref().map(|u| u.role);
    let can_propose = role.is_some_and(|r| EARMARK_PROPOSERS.contains(&r));
    let can_decide = role.is_some_and(|r| EARMARK_DECIDERS.contains(&r));
    let (form, typed, errors, error) = match refused {
        Some((form, typed, e)) => (Some(form), Some(typed), e.fields(), e.general()),
        None => (None, None, Default::default(), None),
    };
    render_page(
        st,
        auth,
        "budget.html",
        context! {
            funds => Value::from_serialize(&b.funds), earmarks => Value::from_serialize(&b.earmarks),
            proposals => Value::from_serialize(&b.proposals), can_propose, can_decide, form,
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

/// The proposal form (amount typed in yuan).
#[derive(Deserialize, Serialize)]
pub struct ProposalForm {
    #[serde(default)]
    fund: String,
    #[serde(default)]
    amount_yuan: String,
    #[serde(default)]
    reasoning: String,
}

/// `POST /budget/earmarks`
pub async fn propose_form(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    CsrfForm(f): CsrfForm<ProposalForm>,
) -> Result<Response, PageError> {
    let result = async {
        let fen =
            jineng_domain::Money::parse_yuan(&f.amount_yuan).map_err(|e| AppError::field("amount_yuan", e))?.fen();
        let id = disclosure::propose_earmark(&st.db, u.user_id, &f.fund, fen, &f.reasoning).await?;
        Ok(Done::new(
            "/budget#earmark-proposals",
            format!("预算额度建议已提交（第 {id} 号），待市人社局采纳 / earmark proposal {id} submitted for the city's decision"),
        ))
    }
    .await;
    form_result(auth, result, |e, auth| async move {
        let b = budget(&st).await.page(&auth)?;
        page(&st, &auth, &b, Some(("proposal", serde_json::to_value(&f).unwrap_or_default(), e)))
    })
    .await
}

/// `POST /budget/earmarks/{id}/decision`
pub async fn decide_form(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<EarmarkDecisionBody>,
) -> Result<Response, PageError> {
    let result = async {
        let d = f.decision(st.clock.today())?;
        disclosure::decide_earmark(&st.db, u.user_id, id, &d, &f.reason).await?;
        let (zh, en) = match d {
            EarmarkDecision::Adopt { .. } => ("已采纳，预算额度生效", "adopted: the earmark is in force"),
            EarmarkDecision::Return => ("已退回财政局", "returned to finance"),
        };
        Ok(Done::new("/budget#earmark-proposals", format!("第 {id} 号预算额度建议{zh} / earmark proposal {id} {en}")))
    }
    .await;
    form_result(auth, result, |e, auth| async move {
        let b = budget(&st).await.page(&auth)?;
        let mut typed = serde_json::to_value(&f).unwrap_or_default();
        typed["id"] = json!(id);
        page(&st, &auth, &b, Some(("decision", typed, e)))
    })
    .await
}
