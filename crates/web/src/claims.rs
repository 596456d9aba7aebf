//! Subsidy claims on the web: the list and a claim's page with its decision, the county's review
//! (approve, reject with a reason, publish on the notice, resolve objections), the filing form
//! and API of employers and providers, and the .xlsx export. Preparing and deciding claims is the
//! store's (`jineng_store::claims`): handlers parse, call it, render.

use crate::auth::{Access, Auth, CurrentUser, Route, ADMIN, API_CLAIM_FILERS, CLAIM_FILERS, CLAIM_READERS, REVIEWERS};
use crate::error::AppError;
use crate::guard::CsrfForm;
use crate::render::{form_result, render_page, Done, PageError};
use crate::state::AppState;
use crate::views::{claim_view, kind_zh};
use crate::xlsx::{xerr, xlsx_download, yuan};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use chrono::NaiveDate;
use jineng_domain::{ClaimAction, ClaimKind, ClaimStatus, Role};
use jineng_store::claims::{self, ClaimRequest, ClaimRow, ClaimScope, Filer};
use jineng_store::notice::{self, ObjectionRow};
use jineng_store::review::{self, ClaimEvent};
use jineng_store::users::User;
use minijinja::{context, Value};
use rust_xlsxwriter::{Format, Workbook};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json_};
use std::collections::HashMap;
use utoipa::{OpenApi, ToSchema};

/// Routes of this module.
pub fn routes() -> Vec<Route> {
    use Access::*;
    vec![
        Route::get("/claims", Roles(CLAIM_READERS), list_page),
        Route::post("/claims", Roles(CLAIM_FILERS), file_form),
        Route::get("/claims/new", Roles(CLAIM_FILERS), new_page),
        Route::get("/claims.xlsx", Roles(CLAIM_READERS), claims_xlsx),
        Route::post("/claims/publish-all", Roles(REVIEWERS), publish_all_form),
        Route::get("/claims/{id}", Roles(CLAIM_READERS), detail_page),
        Route::post("/claims/{id}/actions", Roles(REVIEWERS), action_form),
        Route::post("/claims/{id}/objections", Roles(REVIEWERS), resolve_form),
        Route::get("/api/v1/claims", Roles(CLAIM_READERS), list_api),
        Route::post("/api/v1/claims", Roles(API_CLAIM_FILERS), file_api),
        Route::post("/api/v1/claims/granted-before", Roles(ADMIN), granted_before_api),
        Route::get("/api/v1/claims/{id}", Roles(CLAIM_READERS), get_api),
        Route::post("/api/v1/claims/{id}/actions", Roles(REVIEWERS), action_api),
        Route::post("/api/v1/objections/{id}", Roles(REVIEWERS), resolve_api),
    ]
}

/// The API of this module.
#[derive(OpenApi)]
#[openapi(paths(list_api, file_api, granted_before_api, get_api, action_api, resolve_api))]
pub struct Api;

/// What the caller may see.
pub fn scope_of(u: &User) -> Result<ClaimScope, AppError> {
    let id = || u.scope_id().ok_or(AppError::Forbidden);
    Ok(match u.role {
        Role::CityAdmin | Role::Finance | Role::Auditor => ClaimScope::default(),
        Role::County => ClaimScope { county: Some(u.scope.clone().ok_or(AppError::Forbidden)?), ..Default::default() },
        Role::Worker => ClaimScope { person_id: Some(id()?), ..Default::default() },
        Role::Employer => ClaimScope { employer_id: Some(id()?), names_masked: true, ..Default::default() },
        Role::Provider => ClaimScope { provider_id: Some(id()?), names_masked: true, ..Default::default() },
        _ => return Err(AppError::Forbidden),
    })
}

/// The answer to a filing.
#[derive(Debug, Serialize, ToSchema)]
pub struct Filed {
    /// The claim.
    pub claim: ClaimRow,
    /// False when the idempotency key had been used: this is the claim filed then.
    pub created: bool,
}

/// File a claim (employers: on-the-job, pre-job, apprenticeship, equipment; providers: project
/// advance or settlement). Send an `Idempotency-Key` header: a retry with the same key returns
/// the claim filed the first time (200) instead of filing another (201).
#[utoipa::path(post, path = "/api/v1/claims", request_body = ClaimRequest, responses((status = 201, body = Filed), (status = 200, body = Filed)))]
pub async fn file_api(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    headers: HeaderMap,
    Json(r): Json<ClaimRequest>,
) -> Result<Response, AppError> {
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).unwrap_or("");
    let (id, created) = file_request(&st, &u, key, &r).await?;
    let claim = claims::get(&st.db, &scope_of(&u)?, id).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(Filed { claim, created })).into_response())
}

/// Record a subsidy granted before the system (历史补贴发放记录, city admin): paid from the
/// bureau's earlier records, stored as a paid claim marked imported, counted by every cap, never
/// paid again. The `Idempotency-Key` header names the record (a repeat returns the same claim).
#[utoipa::path(post, path = "/api/v1/claims/granted-before", request_body = jineng_store::claims::past::PastGrant,
    responses((status = 201, body = Filed), (status = 200, body = Filed), (status = 422, body = crate::error::ErrorBody)))]
pub async fn granted_before_api(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    headers: HeaderMap,
    Json(g): Json<jineng_store::claims::past::PastGrant>,
) -> Result<Response, AppError> {
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).unwrap_or("").trim();
    if key.is_empty() || key.chars().count() > 100 {
        return Err(AppError::BadRequest(
            "缺少幂等键（Idempotency-Key，1–100字符）/ an Idempotency-Key header of 1 to 100 characters is required"
                .into(),
        ));
    }
    let before = claims::by_key_db(&st.db, &format!("granted:{key}")).await?;
    let id = claims::past::record(&st.db, Some(u.user_id), key, &g).await?;
    let claim = claims::get(&st.db, &scope_of(&u)?, id).await?;
    let status = if before.is_none() { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(Filed { claim, created: before.is_none() })).into_response())
}

/// Files a claim for the employer or provider the caller acts for (see
/// [`jineng_store::claims::file_request`]); the idempotency key comes from the client.
async fn file_request(st: &AppState, u: &User, key: &str, r: &ClaimRequest) -> Result<(i64, bool), AppError> {
    let key = key.trim();
    if key.is_empty() || key.chars().count() > 100 {
        return Err(AppError::BadRequest(
            "缺少幂等键（Idempotency-Key，1–100字符）/ an Idempotency-Key header of 1 to 100 characters is required"
                .into(),
        ));
    }
    let id = u.scope_id().ok_or(AppError::Forbidden)?;
    let filer = match u.role {
        Role::Employer => Filer::Employer(id),
        Role::Provider => Filer::Provider(id),
        Role::Worker => Filer::Person(id),
        _ => return Err(AppError::Forbidden),
    };
    let (claim, new) = claims::file_request(&st.db, u.user_id, filer, key, r, st.clock.today()).await?;
    if new {
        // The checks about the claim's person run before it can be published (S12). A failed
        // check does not undo the filing: the scheduled run looks again.
        if let Err(e) = jineng_store::checks::for_claim(&st.db, claim).await {
            tracing::warn!(claim, error = %e, "the incremental checks of a new claim failed");
        }
    }
    Ok((claim, new))
}

/// Filter of claim lists.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct ClaimQuery {
    /// Only claims in this status.
    pub status: Option<String>,
    /// Only claims of this kind.
    pub kind: Option<String>,
    /// The next page: claims older than this claim id (the `next` of the page before).
    pub before: Option<i64>,
    /// Claims per page (the API: 100 unless asked, at most 500; the list page shows 50).
    pub limit: Option<i64>,
}

/// The store filter of a query, checked.
pub fn claim_filter(q: &ClaimQuery, per_page: i64) -> Result<claims::ClaimFilter, AppError> {
    let status = match q.status.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(
            ClaimStatus::parse(s)
                .map(|s| s.code().to_owned())
                .ok_or_else(|| AppError::field("status", "未知状态 / unknown status"))?,
        ),
    };
    let kind = match q.kind.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(k) if ClaimKind::parse(k).is_ok() => Some(k.to_owned()),
        Some(_) => return Err(AppError::field("kind", "未知补贴类型 / unknown kind")),
    };
    let limit = q.limit.unwrap_or(per_page).clamp(1, per_page.max(1));
    Ok(claims::ClaimFilter { status, kind, limit, before: q.before.filter(|b| *b > 0) })
}

/// Claims visible to the caller, newest first, with their decisions.
#[utoipa::path(get, path = "/api/v1/claims", params(ClaimQuery), responses((status = 200, body = [ClaimRow])))]
pub async fn list_api(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Query(q): Query<ClaimQuery>,
) -> Result<Json<Vec<ClaimRow>>, AppError> {
    let mut f = claim_filter(&q, 500)?;
    if q.limit.is_none() {
        f.limit = 100;
    }
    Ok(Json(claims::page(&st.db, &scope_of(&u)?, &f).await?.rows))
}

/// A claim with its history of status changes and objections.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClaimDetail {
    /// The claim.
    pub claim: ClaimRow,
    /// Status label (Chinese).
    pub status_zh: String,
    /// Who moved it, when, why.
    pub events: Vec<ClaimEvent>,
    /// Objections filed during the notice.
    pub objections: Vec<ObjectionRow>,
}

async fn detail(st: &AppState, u: &User, id: i64) -> Result<ClaimDetail, AppError> {
    let claim = claims::get(&st.db, &scope_of(u)?, id).await?;
    let status_zh = ClaimStatus::parse(&claim.status).map(|s| s.zh()).unwrap_or("").to_owned();
    let events = review::events(&st.db, id).await?;
    let mut objections = notice::objections(&st.db, id).await?;
    // Who objected, and how to reach them, is for the reviewers (and auditors) only: the
    // claimant sees what was objected and how it was resolved.
    if !matches!(u.role, Role::County | Role::CityAdmin | Role::Auditor) {
        for o in &mut objections {
            o.filer_name = "（不公开）".into();
            o.contact = String::new();
        }
    }
    Ok(ClaimDetail { claim, status_zh, events, objections })
}

/// One claim.
#[utoipa::path(get, path = "/api/v1/claims/{id}", params(("id" = i64, Path)), responses((status = 200, body = ClaimDetail)))]
pub async fn get_api(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<ClaimDetail>, AppError> {
    Ok(Json(detail(&st, &u, id).await?))
}

/// A review action.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ClaimActionBody {
    /// `approve`, `reject` or `publish`.
    pub action: String,
    /// Why (required to reject).
    #[serde(default)]
    pub reason: String,
}

async fn act(st: &AppState, u: &User, id: i64, b: &ClaimActionBody) -> Result<ClaimStatus, AppError> {
    let action = ClaimAction::parse(&b.action).ok_or_else(|| AppError::field("action", "未知操作 / unknown action"))?;
    Ok(review::review(&st.db, u.user_id, &scope_of(u)?, id, action, &b.reason, st.clock.today()).await?)
}

/// The county's review: approve, reject (with a reason) or publish on the 7-day notice.
#[utoipa::path(post, path = "/api/v1/claims/{id}/actions", request_body = ClaimActionBody, params(("id" = i64, Path)), responses((status = 200, body = ClaimDetail)))]
pub async fn action_api(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Path(id): Path<i64>,
    Json(b): Json<ClaimActionBody>,
) -> Result<Json<ClaimDetail>, AppError> {
    act(&st, &u, id, &b).await?;
    Ok(Json(detail(&st, &u, id).await?))
}

/// How an objection is resolved.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ResolveBody {
    /// True: the objection stands and the claim is rejected; false: dismissed.
    #[serde(default)]
    pub uphold: bool,
    /// The resolution, in words.
    #[serde(default)]
    pub resolution: String,
}

/// The county resolves an objection.
#[utoipa::path(post, path = "/api/v1/objections/{id}", request_body = ResolveBody, params(("id" = i64, Path)), responses((status = 204)))]
pub async fn resolve_api(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Path(id): Path<i64>,
    Json(b): Json<ResolveBody>,
) -> Result<StatusCode, AppError> {
    notice::resolve_objection(&st.db, u.user_id, &scope_of(&u)?, id, b.uphold, &b.resolution).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /claims`
pub async fn list_page(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    Query(q): Query<ClaimQuery>,
) -> Result<Html<String>, PageError> {
    const PER_PAGE: i64 = 50;
    let page = async { Ok::<_, AppError>(claims::page(&st.db, &scope_of(&u)?, &claim_filter(&q, PER_PAGE)?).await?) }
        .await
        .map_err(|e| PageError::new(e, auth.clone()))?;
    let rows: Vec<Json_> = page.rows.iter().map(claim_view).collect();
    let statuses: Vec<(&str, &str)> = ClaimStatus::ALL.iter().map(|s| (s.code(), s.zh())).collect();
    let kinds: Vec<(&str, &str)> = ClaimKind::ALL.iter().map(|k| (k.code(), k.zh())).collect();
    render_page(
        &st,
        &auth,
        "claims.html",
        context! { rows => Value::from_serialize(&rows), statuses => statuses, kinds => kinds, kind => q.kind.clone().unwrap_or_default(),
                          next => page.next, first => q.before.is_none(),
        status => q.status.unwrap_or_default(),
               can_review => u.role == Role::County || u.role == Role::CityAdmin,
               can_file => u.role == Role::Employer || u.role == Role::Provider },
    )
}

/// `GET /claims/{id}`
pub async fn detail_page(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    Path(id): Path<i64>,
) -> Result<Html<String>, PageError> {
    claim_page(&st, &auth, &u, id, None).await
}

async fn claim_page(
    st: &AppState,
    auth: &Auth,
    u: &User,
    id: i64,
    error: Option<(&AppError, Value)>,
) -> Result<Html<String>, PageError> {
    let (errors, error, typed) = match error {
        Some((e, typed)) => (Value::from_serialize(e.fields()), e.general(), typed),
        None => (Value::from(()), None, Value::from(())),
    };
    let d = detail(st, u, id).await.map_err(|e| PageError::new(e, auth.clone()))?;
    let decision: Json_ = serde_json::from_str(&d.claim.decision).unwrap_or_default();
    // The plan's words for each clause that decided it.
    let quotes: Vec<(String, &str)> = decision["clauses"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|c| c.as_str())
                .filter_map(|c| jineng_policy::clauses::quote(c).map(|q| (c.to_owned(), q)))
                .collect()
        })
        .unwrap_or_default();
    // The rules the engine checked, in order (the explanation page's trace of a stored claim).
    let trace = claims::trace(&st.db, &d.claim).await.map_err(|e| PageError::new(e.into(), auth.clone()))?;
    let reviewer = matches!(u.role, Role::County | Role::CityAdmin);
    // Contacts of objectors are for reviewers only.
    let objections: Vec<Json_> = d
        .objections
        .iter()
        .map(|o| json!({"objection_id": o.objection_id, "filer_name": o.filer_name, "contact": if reviewer { o.contact.clone() } else { String::new() },
                        "reason": o.reason, "status": o.status, "filed_at": o.filed_at.format("%Y-%m-%d %H:%M").to_string(), "resolution": o.resolution}))
        .collect();
    let events: Vec<Json_> = d
        .events
        .iter()
        .map(|e| json!({"action": ClaimAction::parse(&e.action).map(|a| a.zh()).unwrap_or(""), "from": ClaimStatus::parse(&e.from_status).map(|s| s.zh()),
                        "to": ClaimStatus::parse(&e.to_status).map(|s| s.zh()), "actor": e.actor_name, "at": (e.at + chrono::Duration::hours(8)).format("%Y-%m-%d %H:%M").to_string(), "reason": e.reason}))
        .collect();
    // Staff see that a confirmed fraud finding stops the claim (the payee is not told here).
    let blocked = if matches!(u.role, Role::County | Role::CityAdmin | Role::Finance | Role::Auditor) {
        jineng_store::stops::blocking(&st.db, d.claim.claim_id)
            .await
            .map_err(|e| PageError::new(e.into(), auth.clone()))?
    } else {
        Vec::new()
    };
    render_page(
        st,
        auth,
        "claim.html",
        context! { c => Value::from_serialize(claim_view(&d.claim)), decision => Value::from_serialize(&decision),
        events => Value::from_serialize(&events), objections => Value::from_serialize(&objections),
        reviewer => reviewer, errors, error, typed, quotes => quotes, trace => Value::from_serialize(&trace),
        blocked, can_read_findings => crate::auth::FINDING_READERS.contains(&u.role) },
    )
}

/// A review form: the action and, to reject, the reason.
#[derive(Deserialize)]
pub struct ReviewForm {
    action: String,
    #[serde(default)]
    reason: String,
}

/// `POST /claims/{id}/actions`
pub async fn action_form(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<ReviewForm>,
) -> Result<Response, PageError> {
    let typed = Value::from_serialize(json!({ "reason": f.reason }));
    let action = ClaimAction::parse(&f.action);
    let result = act(&st, &u, id, &ClaimActionBody { action: f.action, reason: f.reason }).await;
    let result = result.map(|status| {
        let (zh, en) = action.map_or(("办理", "done"), |a| (a.zh(), a.en()));
        Done::new(
            format!("/claims/{id}"),
            format!("已{zh}：第 {id} 号申请现为“{}” / claim {id} {en}: now {}", status.zh(), status.en()),
        )
    });
    form_result(auth, result, |e, auth| async move { claim_page(&st, &auth, &u, id, Some((&e, typed))).await }).await
}

/// A resolution form.
#[derive(Deserialize)]
pub struct ResolveForm {
    objection_id: i64,
    decision: String,
    #[serde(default)]
    resolution: String,
}

/// `POST /claims/{id}/objections`: the county resolves an objection.
pub async fn resolve_form(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<ResolveForm>,
) -> Result<Response, PageError> {
    let result = async {
        Ok::<_, AppError>(
            notice::resolve_objection(
                &st.db,
                u.user_id,
                &scope_of(&u)?,
                f.objection_id,
                f.decision == "uphold",
                &f.resolution,
            )
            .await?,
        )
    }
    .await;
    let typed = Value::from_serialize(json!({ "objection_id": f.objection_id, "resolution": f.resolution }));
    let said = if f.decision == "uphold" {
        "异议成立，该申请不予补贴 / objection upheld: the claim is rejected"
    } else {
        "异议不成立，已记录处理意见 / objection dismissed, the resolution recorded"
    };
    let result = result.map(|()| Done::new(format!("/claims/{id}"), said));
    form_result(auth, result, |e, auth| async move { claim_page(&st, &auth, &u, id, Some((&e, typed))).await }).await
}

/// `POST /claims/publish-all`: the county approves and publishes every claim awaiting review
/// whose decision pays something.
pub async fn publish_all_form(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    CsrfForm(_f): CsrfForm<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let n = async {
        Ok::<_, AppError>(review::approve_and_publish_all(&st.db, u.user_id, &scope_of(&u)?, st.clock.today()).await?)
    }
    .await
    .map_err(|e| PageError::new(e, auth.clone()))?;
    Ok(Done::new(
        "/claims?status=on_notice",
        format!("已审核通过并公示 {n} 项申请 / {n} claims approved and put on the public notice"),
    )
    .into_response())
}

/// The kinds the form offers its filer, with their labels and clauses (from `ClaimKind`, the
/// one list of kinds; which filer files which is `Filer::kinds`).
fn form_kinds(u: &User) -> Value {
    let filer = if u.role == Role::Employer { Filer::Employer(0) } else { Filer::Provider(0) };
    let kinds: Vec<serde_json::Value> = filer
        .kinds()
        .iter()
        .map(|k| serde_json::json!({"code": k.code(), "zh": k.zh(), "en": k.en(), "clause": k.clause()}))
        .collect();
    Value::from_serialize(kinds)
}

/// `GET /claims/new`: the filing form of employers and providers.
pub async fn new_page(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
) -> Result<Html<String>, PageError> {
    let facilities = employer_facilities(&st, &u).await.map_err(|e| PageError::new(e, auth.clone()))?;
    render_page(
        &st,
        &auth,
        "claim_form.html",
        context! { employer => u.role == Role::Employer, key => jineng_store::users::random_token(), f => Value::from_serialize(ClaimRequest::default()),
        facilities => Value::from_serialize(&facilities), kinds => form_kinds(&u) },
    )
}

/// The facilities an employer registered, for the equipment grant's form.
async fn employer_facilities(st: &AppState, u: &User) -> Result<Vec<jineng_store::facilities::FacilityRow>, AppError> {
    if u.role != Role::Employer {
        return Ok(Vec::new());
    }
    let scope = jineng_store::facilities::FacilityScope { employer_id: u.scope_id(), ..Default::default() };
    Ok(jineng_store::facilities::list(&st.db, &scope).await?)
}

/// The filing form.
#[derive(Deserialize, Serialize, Default)]
pub struct ClaimForm {
    key: String,
    kind: String,
    #[serde(default)]
    id_number: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    employed_from: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    months: String,
    #[serde(default)]
    class_id: String,
    #[serde(default)]
    years: String,
    #[serde(default)]
    facility_id: String,
    #[serde(default)]
    contract_yuan: String,
    #[serde(default)]
    stage: String,
}

fn parse_form(f: &ClaimForm) -> Result<ClaimRequest, AppError> {
    let mut errors = std::collections::BTreeMap::new();
    let opt = |s: &str| Some(s.trim()).filter(|s| !s.is_empty()).map(str::to_owned);
    let mut date = |field: &str, s: &str| match opt(s) {
        None => None,
        Some(v) => v
            .parse::<NaiveDate>()
            .map_err(|_| errors.insert(field.to_owned(), "日期格式应为 YYYY-MM-DD / a date as YYYY-MM-DD".to_owned()))
            .ok(),
    };
    let employed_from = date("employed_from", &f.employed_from);
    let from = date("from", &f.from);
    let mut int = |field: &str, s: &str| match opt(s) {
        None => None,
        Some(v) => {
            v.parse::<i64>().map_err(|_| errors.insert(field.to_owned(), "应为整数 / a whole number".to_owned())).ok()
        }
    };
    let months = int("months", &f.months);
    let facility_id = int("facility_id", &f.facility_id);
    let class_id = int("class_id", &f.class_id);
    let years = int("years", &f.years);
    let mut yuan = |field: &str, s: &str| match opt(s) {
        None => None,
        Some(v) => jineng_domain::Money::parse_yuan(&v)
            .map(|m| m.fen())
            .map_err(|e| errors.insert(field.to_owned(), e.to_string()))
            .ok(),
    };
    let contract_fen = yuan("contract_yuan", &f.contract_yuan);
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    Ok(ClaimRequest {
        kind: f.kind.clone(),
        id_number: opt(&f.id_number),
        name: opt(&f.name),
        employed_from,
        from,
        months,
        class_id,
        years,
        facility_id,
        contract_fen,
        stage: opt(&f.stage),
        certificate_id: None,
    })
}

/// `POST /claims`
pub async fn file_form(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    CsrfForm(f): CsrfForm<ClaimForm>,
) -> Result<Response, PageError> {
    let result = async {
        let r = parse_form(&f)?;
        file_request(&st, &u, &f.key, &r).await
    }
    .await;
    let result = result.map(|(id, new)| {
        let said = if new {
            format!("申请已提交：第 {id} 号，政策测算结果见下 / claim {id} filed; the policy result is below")
        } else {
            format!("该申请此前已提交（第 {id} 号），未重复提交 / claim {id} was filed before; nothing filed twice")
        };
        Done::new(format!("/claims/{id}"), said)
    });
    form_result(auth, result, |e, auth| async move {
        let facilities = employer_facilities(&st, &u).await.unwrap_or_default();
        render_page(
            &st,
            &auth,
            "claim_form.html",
            context! { employer => u.role == Role::Employer, key => f.key.clone(), f => Value::from_serialize(&f),
            errors => Value::from_serialize(e.fields()), error => e.general(), facilities => Value::from_serialize(&facilities),
            kinds => form_kinds(&u) },
        )
    })
    .await
}

/// `GET /claims.xlsx`: the claims the caller may see (the list page's status and kind filters apply).
pub async fn claims_xlsx(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    axum::extract::Query(q): axum::extract::Query<crate::claims::ClaimQuery>,
) -> Result<Response, AppError> {
    let scope = crate::claims::scope_of(&u)?;
    // Every page of the list's filter.
    let mut filter = crate::claims::claim_filter(&q, 1_000_000)?;
    filter.before = None;
    filter.limit = 1_000_000;
    let list = jineng_store::claims::page(&st.db, &scope, &filter).await?.rows;
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let ws = wb.add_worksheet();
    ws.set_name("补贴申请").map_err(xerr)?;
    let header = [
        "编号",
        "类型",
        "申请人/支付对象",
        "县区",
        "申请日期",
        "政策测算",
        "金额(元)",
        "金额(分)",
        "资金渠道",
        "状态",
        "公示起",
        "公示止",
        "依据条款",
        "原因",
    ];
    for (c, h) in header.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &bold).map_err(xerr)?;
        ws.set_column_width(c as u16, 16).map_err(xerr)?;
    }
    for (i, r) in list.iter().enumerate() {
        let row = i as u32 + 1;
        let d: serde_json::Value = serde_json::from_str(&r.decision).unwrap_or_default();
        let clauses = d["clauses"]
            .as_array()
            .map(|a| a.iter().filter_map(|c| c.as_str()).collect::<Vec<_>>().join(", "))
            .unwrap_or_default();
        let reasons = d["reasons"]
            .as_array()
            .map(|a| a.iter().filter_map(|c| c["zh"].as_str()).collect::<Vec<_>>().join("；"))
            .unwrap_or_default();
        let cells = [
            r.claim_id.to_string(),
            kind_zh(&r.kind).to_owned(),
            r.payee_name.clone().unwrap_or_default(),
            r.county_code.clone(),
            r.filed_on.to_string(),
            crate::views::outcome_zh(&r.outcome).to_owned(),
            yuan(r.amount_fen),
        ];
        for (c, v) in cells.iter().enumerate() {
            ws.write_string(row, c as u16, v).map_err(xerr)?;
        }
        ws.write_number(row, 7, r.amount_fen as f64).map_err(xerr)?;
        let rest = [
            crate::views::fund_zh(&r.fund).to_owned(),
            jineng_domain::ClaimStatus::parse(&r.status).map(|s| s.zh().to_owned()).unwrap_or_default(),
            r.notice_from.map(|d| d.to_string()).unwrap_or_default(),
            r.notice_until.map(|d| d.to_string()).unwrap_or_default(),
            clauses,
            reasons,
        ];
        for (c, v) in rest.iter().enumerate() {
            ws.write_string(row, 8 + c as u16, v).map_err(xerr)?;
        }
    }
    let bytes = wb.save_to_buffer().map_err(xerr)?;
    crate::xlsx::audit_export(&st.db, u.user_id, "claim", "all", list.len()).await?;
    Ok(xlsx_download(bytes, "补贴申请.xlsx", "export.xlsx"))
}
