//! The public notice (补贴公示): claims on their 7-day notice, names partly masked and no ID
//! numbers; anyone may object, without signing in, at most five times in 15 minutes per contact.

use crate::auth::{Access, Auth, ClientAddr, Route, BODY_PUBLIC};
use crate::error::AppError;
use crate::render::{form_answer, render_page, Done, OrPage, PageError, PageResult};
use crate::state::AppState;
use crate::views::kind_zh;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use jineng_store::notice::{self, NoticeRow};
use minijinja::{context, Value};
use serde::Deserialize;
use serde_json::{json, Value as Json_};
use utoipa::{OpenApi, ToSchema};

/// Routes of this module.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/notice", Access::Public, notice_page),
        Route::post("/notice/{id}/objections", Access::Public, object_form).limit(BODY_PUBLIC),
        Route::get("/api/v1/notice", Access::Public, notice_api),
        Route::post("/api/v1/notice/{id}/objections", Access::Public, object_api).limit(BODY_PUBLIC),
    ]
}

/// The API of this module.
#[derive(OpenApi)]
#[openapi(paths(notice_api, object_api))]
pub struct Api;

/// A page of the notice.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct NoticeParams {
    /// The next page: the claims listed after this claim (the `next` of the page before).
    pub after: Option<i64>,
    /// Claims per page (the page shows 50; the API 100 unless asked, at most 500).
    pub limit: Option<i64>,
}

/// Claims a page of the notice shows.
const NOTICE_PAGE: i64 = 50;

/// `GET /notice`: the public notice, a page at a time, with a form to object.
pub async fn notice_page(
    State(st): State<AppState>,
    auth: Auth,
    Query(q): Query<NoticeParams>,
) -> Result<Response, PageError> {
    let key = format!("/notice?after={}", q.after.unwrap_or(0));
    crate::render::cached_page(&st, &auth, &key, || notice_view(&st, &auth, None, q.after)).await
}

/// The notice page: every claim on notice, or after a refused objection the objection's form
/// again with what was typed and the errors beside the fields.
async fn notice_view(
    st: &AppState,
    auth: &Auth,
    failed: Option<(i64, &ObjectionForm, AppError)>,
    after: Option<i64>,
) -> PageResult {
    // After a refused objection: that claim's row alone, its form open with the errors.
    let q = notice::NoticeQuery {
        claim: failed.as_ref().map(|f| f.0),
        after: after.filter(|a| *a > 0),
        limit: NOTICE_PAGE,
        ..Default::default()
    };
    let page = notice::notice(&st.db, st.clock.today(), &q).await.page(auth)?;
    let (next, first, single) = (page.next, q.after.is_none(), q.claim.is_some());
    let rows: Vec<Json_> = page
        .rows
        .iter()
        .map(|r| {
            json!({"claim_id": r.claim_id, "kind_zh": kind_zh(&r.kind), "payee": r.payee, "county_name": r.county_name,
                        "amount_fen": r.amount_fen, "notice_from": r.notice_from, "notice_until": r.notice_until})
        })
        .collect();
    let (failed, typed, errors, error) = match failed {
        Some((claim, f, e)) => (
            Some(claim),
            Some(json!({"filer_name": f.filer_name, "contact": f.contact, "reason": f.reason})),
            e.fields(),
            Some(e.general().unwrap_or_default()).filter(|m| !m.is_empty()),
        ),
        None => (None, None, Default::default(), None),
    };
    // A claim no longer listed has no form to show the error in: the page's banner says it.
    let failed = failed.filter(|c| rows.iter().any(|r| r["claim_id"] == *c));
    render_page(
        st,
        auth,
        "notice.html",
        context! { rows => Value::from_serialize(&rows), failed, typed => Value::from_serialize(&typed),
        errors => Value::from_serialize(&errors), error, next, first, single },
    )
}

/// An objection from the public page.
#[derive(Deserialize)]
pub struct ObjectionForm {
    #[serde(default)]
    filer_name: String,
    #[serde(default)]
    contact: String,
    #[serde(default)]
    reason: String,
}

/// `POST /notice/{id}/objections` (public; no session, so no CSRF token: nothing is done in
/// anybody's name).
pub async fn object_form(
    State(st): State<AppState>,
    auth: Auth,
    ClientAddr(address): ClientAddr,
    Path(id): Path<i64>,
    axum::Form(f): axum::Form<ObjectionForm>,
) -> Result<Response, PageError> {
    let result = match object(&st, &address, id, &f.filer_name, &f.contact, &f.reason).await {
        Ok(_) => Ok(Done::new(
            "/notice",
            "异议已收到，县区人社部门将核实处理 / your objection was received; the county office will look into it",
        )
        .into_response()),
        Err(e) => Err(e),
    };
    form_answer(auth, result, |e, auth| async move { notice_view(&st, &auth, Some((id, &f, e)), None).await }).await
}

/// An objection.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ObjectionBody {
    /// Who objects.
    #[serde(default)]
    pub filer_name: String,
    /// Phone or address (seen by reviewers only).
    #[serde(default)]
    pub contact: String,
    #[serde(default)]
    pub reason: String,
}

/// Anyone may object to a claim on public notice.
#[utoipa::path(post, path = "/api/v1/notice/{id}/objections", request_body = ObjectionBody, params(("id" = i64, Path)), responses((status = 201)))]
pub async fn object_api(
    State(st): State<AppState>,
    ClientAddr(address): ClientAddr,
    Path(id): Path<i64>,
    Json(b): Json<ObjectionBody>,
) -> Result<Response, AppError> {
    let oid = object(&st, &address, id, &b.filer_name, &b.contact, &b.reason).await?;
    Ok((StatusCode::CREATED, Json(json!({"objection_id": oid}))).into_response())
}

/// Files a public objection. In 15 minutes one contact may file at most five on one claim, one
/// address ten on one claim and thirty in all, so that the notice cannot be flooded by changing
/// the contact; the count is reserved before the
/// objection is stored (many at once cannot all pass) and given back if it is refused.
async fn object(
    st: &AppState,
    address: &str,
    claim_id: i64,
    filer_name: &str,
    contact: &str,
    reason: &str,
) -> Result<i64, AppError> {
    let contact_key = format!("objection:{claim_id}:{}", contact.split_whitespace().collect::<String>());
    let claim_key = format!("objection-from:{address}:{claim_id}");
    let address_key = format!("objection-from:{address}");
    if !st.throttle.attempt(&[(&contact_key, 5), (&claim_key, 10), (&address_key, 30)]) {
        return Err(AppError::TooManySubmissions);
    }
    let stored = notice::object(&st.db, claim_id, filer_name, contact, reason, st.clock.today()).await;
    if stored.is_err() {
        st.throttle.refund(&[&contact_key, &claim_key, &address_key]);
    }
    Ok(stored?)
}

/// Claims on public notice (public: names partly masked, no ID numbers).
#[utoipa::path(get, path = "/api/v1/notice", params(NoticeParams), responses((status = 200, body = [NoticeRow])))]
/// The same for every caller, so served from the public cache as the page is.
pub async fn notice_api(State(st): State<AppState>, Query(q): Query<NoticeParams>) -> Result<Response, AppError> {
    let q = notice::NoticeQuery {
        after: q.after.filter(|a| *a > 0),
        limit: q.limit.unwrap_or(100).clamp(1, 500),
        ..Default::default()
    };
    let key = format!("/api/v1/notice?after={}&limit={}", q.after.unwrap_or(0), q.limit);
    crate::render::cached_json(&st, &key, || async { Ok(notice::notice(&st.db, st.clock.today(), &q).await?.rows) })
        .await
}
