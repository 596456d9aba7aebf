//! Findings of the fraud and anomaly checks (S12): the city admin and auditors read them by
//! check and status, the city admin runs every check and confirms or dismisses each finding
//! with a reason. The checks themselves live in `jineng_store::checks`.

use crate::auth::{Access, Auth, CurrentUser, Route, ADMIN, AUDIT_READERS};
use crate::error::AppError;
use crate::guard::CsrfForm;
use crate::render::{form_result, render_page, Done, OrPage, PageError, PageResult};
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use jineng_store::checks::{self, Check, Finding, RunSummary};
use jineng_store::users::User;
use minijinja::{context, Value};
use serde::Deserialize;
use serde_json::json;
use utoipa::{IntoParams, OpenApi, ToSchema};

/// Routes of this module.
pub fn routes() -> Vec<Route> {
    use Access::*;
    vec![
        Route::get("/findings", Roles(AUDIT_READERS), findings_page),
        Route::post("/findings/run", Roles(ADMIN), run_form),
        Route::post("/findings/{id}/decision", Roles(ADMIN), decide_form),
        Route::get("/api/v1/findings", Roles(AUDIT_READERS), list_api),
        Route::post("/api/v1/findings/run", Roles(ADMIN), run_api),
        Route::post("/api/v1/findings/{id}/decision", Roles(ADMIN), decide_api),
    ]
}

/// The API of this module.
#[derive(OpenApi)]
#[openapi(paths(list_api, run_api, decide_api), components(schemas(Finding, RunSummary, DecisionBody)))]
pub struct Api;

/// At most this many findings are listed at once.
const LIMIT: i64 = 1000;

/// Filters of the list.
#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct FindingQuery {
    /// `open`, `confirmed` or `dismissed`.
    pub status: Option<String>,
    /// A check's code, e.g. `two_classes_one_day`.
    pub check: Option<String>,
}

impl FindingQuery {
    fn status(&self) -> Result<Option<&str>, AppError> {
        match self.status.as_deref().filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(s @ ("open" | "confirmed" | "dismissed")) => Ok(Some(s)),
            Some(_) => Err(AppError::field(
                "status",
                "状态应为 open、confirmed 或 dismissed / status is open, confirmed or dismissed",
            )),
        }
    }

    fn check(&self) -> Result<Option<&str>, AppError> {
        match self.check.as_deref().filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(c) => Check::parse(c)
                .map(|c| Some(c.code()))
                .ok_or_else(|| AppError::field("check", "没有这项检查 / no such check")),
        }
    }
}

/// Findings of the checks, newest first (at most 1,000), by status and check.
#[utoipa::path(get, path = "/api/v1/findings", params(FindingQuery), responses((status = 200, body = Vec<Finding>)))]
pub async fn list_api(
    State(st): State<AppState>,
    Query(q): Query<FindingQuery>,
) -> Result<Json<Vec<Finding>>, AppError> {
    Ok(Json(checks::list(&st.db, q.status()?, q.check()?, LIMIT).await?))
}

/// Runs every check and records the findings that are new (city admin).
#[utoipa::path(post, path = "/api/v1/findings/run", responses((status = 200, body = RunSummary)))]
pub async fn run_api(State(st): State<AppState>, CurrentUser(u): CurrentUser) -> Result<Json<RunSummary>, AppError> {
    Ok(Json(checks::run_all(&st.db, Some(u.user_id)).await?))
}

/// A decision on a finding.
#[derive(Debug, Deserialize, ToSchema)]
pub struct DecisionBody {
    /// `confirm` or `dismiss`.
    pub decision: String,
    /// Why (required).
    #[serde(default)]
    pub reason: String,
}

fn confirm_of(decision: &str) -> Result<bool, AppError> {
    match decision {
        "confirm" => Ok(true),
        "dismiss" => Ok(false),
        _ => Err(AppError::field("decision", "请选择确认或排除 / choose confirm or dismiss")),
    }
}

async fn decide(st: &AppState, u: &User, id: i64, decision: &str, reason: &str) -> Result<Finding, AppError> {
    let confirm = confirm_of(decision)?;
    Ok(checks::decide(&st.db, Some(u.user_id), id, confirm, reason).await?)
}

/// Confirms or dismisses an open finding with a reason (city admin; audited).
#[utoipa::path(post, path = "/api/v1/findings/{id}/decision", request_body = DecisionBody, params(("id" = i64, Path)),
    responses((status = 200, body = Finding), (status = 422, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn decide_api(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Path(id): Path<i64>,
    Json(b): Json<DecisionBody>,
) -> Result<Response, AppError> {
    let f = decide(&st, &u, id, &b.decision, &b.reason).await?;
    Ok((StatusCode::OK, Json(f)).into_response())
}

/// The tables whose ids the evidence names, with the page that shows one (if any).
fn evidence_links(rows: &serde_json::Value) -> Vec<serde_json::Value> {
    const TABLES: &[(&str, &str, &str, Option<&str>)] = &[
        ("person", "人员", "person", Some("people")),
        ("class", "培训班", "class", Some("classes")),
        ("claim", "补贴申请", "claim", Some("claims")),
        ("certificate", "证书", "certificate", None),
        ("attendance", "签到记录", "check-in", None),
        ("enrolment", "报名记录", "enrolment", None),
        ("provider", "培训机构", "provider", None),
        ("assessment_body", "评价机构", "assessment body", None),
    ];
    TABLES
        .iter()
        .filter_map(|(key, zh, en, href)| {
            let ids = rows.get(*key)?.as_array()?;
            (!ids.is_empty()).then(|| json!({"table": key, "zh": zh, "en": en, "href": href, "ids": ids}))
        })
        .collect()
}

/// A refused decision: the finding, what was typed and the error.
type Failed<'a> = (i64, &'a str, AppError);

async fn page_of(st: &AppState, auth: &Auth, u: &User, q: &FindingQuery, failed: Option<Failed<'_>>) -> PageResult {
    let status = q.status().page(auth)?;
    let check = q.check().page(auth)?;
    let all = checks::list(&st.db, None, None, 100_000).await.page(auth)?;
    // By check: open, confirmed, dismissed and the money at stake of those not dismissed.
    let by_check: Vec<serde_json::Value> = Check::ALL
        .iter()
        .map(|c| {
            let of = |s: &str| all.iter().filter(|f| f.check_code == c.code() && f.status == s).count();
            let money: i64 = all
                .iter()
                .filter(|f| f.check_code == c.code() && f.status != "dismissed")
                .filter_map(|f| f.money_fen)
                .sum();
            json!({"code": c.code(), "zh": c.zh(), "en": c.en(), "clause": c.clause(),
                   "open": of("open"), "confirmed": of("confirmed"), "dismissed": of("dismissed"), "money_fen": money})
        })
        .collect();
    let shown: Vec<serde_json::Value> = all
        .iter()
        .filter(|f| status.is_none_or(|s| f.status == s) && check.is_none_or(|c| f.check_code == c))
        .take(LIMIT as usize)
        .map(|f| {
            let evidence: serde_json::Value = serde_json::from_str(&f.evidence).unwrap_or_default();
            let c = Check::parse(&f.check_code);
            json!({"id": f.finding_id, "check": f.check_code, "check_zh": c.map(Check::zh), "check_en": c.map(Check::en),
                   "clause": f.clause, "subject": f.subject, "zh": evidence["zh"], "en": evidence["en"],
                   "links": evidence_links(&evidence["rows"]), "money_fen": f.money_fen, "status": f.status,
                   "reason": f.reason, "decided_by": f.decided_by,
                   "decided_at": f.decided_at.map(|t| (t + chrono::Duration::hours(8)).format("%Y-%m-%d %H:%M").to_string()),
                   "found_at": (f.found_at + chrono::Duration::hours(8)).format("%Y-%m-%d %H:%M").to_string()})
        })
        .collect();
    let (failed, typed, errors, error) = match failed {
        Some((id, reason, e)) => (Some(id), reason.to_owned(), e.fields(), e.general()),
        None => (None, String::new(), Default::default(), None),
    };
    render_page(
        st,
        auth,
        "findings.html",
        context! { by_check => Value::from_serialize(&by_check), findings => Value::from_serialize(&shown),
        status => status, check => check, can_decide => u.role == jineng_domain::Role::CityAdmin,
        failed, typed, errors => Value::from_serialize(&errors), error },
    )
}

/// `GET /findings`
pub async fn findings_page(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    Query(q): Query<FindingQuery>,
) -> PageResult {
    page_of(&st, &auth, &u, &q, None).await
}

/// `POST /findings/run`: the "run all checks" button.
pub async fn run_form(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    CsrfForm(_f): CsrfForm<std::collections::HashMap<String, String>>,
) -> Result<Response, PageError> {
    let result = checks::run_all(&st.db, Some(u.user_id)).await.map_err(AppError::from).map(|s| {
        Done::new(
            "/findings?status=open",
            format!(
                "已运行全部检查：新增线索 {} 条（共发现 {} 条）/ all checks run: {} new findings ({} found in all)",
                s.recorded, s.found, s.recorded, s.found
            ),
        )
    });
    form_result(auth, result, |e, auth| async move { Err(PageError::new(e, auth)) }).await
}

/// A decision form.
#[derive(Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    reason: String,
}

/// `POST /findings/{id}/decision`
pub async fn decide_form(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<DecisionForm>,
) -> Result<Response, PageError> {
    let result = decide(&st, &u, id, &f.decision, &f.reason).await.map(|found| {
        let (zh, en) = if found.status == "confirmed" { ("确认", "confirmed") } else { ("排除", "dismissed") };
        Done::new(format!("/findings#finding-{id}"), format!("已{zh}第 {id} 号线索 / finding {id} {en}"))
    });
    form_result(auth, result, |e, auth| async move {
        page_of(&st, &auth, &u, &FindingQuery::default(), Some((id, &f.reason, e))).await
    })
    .await
}
