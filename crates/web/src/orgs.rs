//! Employers, training providers and assessment bodies: lists, pages, registration and edits
//! (the city admin for all; a county office for its county's employers), with each change's history.

use crate::auth::{Access, Auth, CurrentUser, Route, ORG_READERS, PEOPLE_WRITERS};
use crate::common::{Created, SearchQuery};
use crate::error::{AppError, ErrorBody};
use crate::guard::CsrfForm;
use crate::render::{form_result, render_page, Done, OrPage, PageError, PageResult};
use crate::state::AppState;
use crate::views::{self, check_county, form_choices};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use jineng_domain::Role;
use jineng_store::orgs::{self, OrgInput, OrgKind, OrgRow, EMPLOYER_KINDS, STATUSES};
use jineng_store::plan;
use jineng_store::users::User;
use minijinja::{context, Value};
use serde::Deserialize;
use utoipa::{OpenApi, ToSchema};

/// Routes of this module.
pub fn routes() -> Vec<Route> {
    use Access::*;
    vec![
        Route::get("/orgs/{kind}", Roles(ORG_READERS), orgs_page),
        Route::post("/orgs/{kind}", Roles(PEOPLE_WRITERS), create_org_form),
        Route::get("/orgs/{kind}/new", Roles(PEOPLE_WRITERS), new_org_page),
        Route::get("/orgs/{kind}/{id}", Roles(ORG_READERS), org_page),
        Route::post("/orgs/{kind}/{id}", Roles(PEOPLE_WRITERS), update_org_form),
        Route::get("/orgs/{kind}/{id}/edit", Roles(PEOPLE_WRITERS), edit_org_page),
        Route::get("/api/v1/orgs/{kind}", Roles(ORG_READERS), list_orgs),
        Route::post("/api/v1/orgs/{kind}", Roles(PEOPLE_WRITERS), create_org),
        Route::get("/api/v1/orgs/{kind}/{id}", Roles(ORG_READERS), get_org),
        Route::put("/api/v1/orgs/{kind}/{id}", Roles(PEOPLE_WRITERS), update_org),
    ]
}

/// The API of this module.
#[derive(OpenApi)]
#[openapi(paths(list_orgs, create_org, get_org, update_org))]
pub struct Api;

fn kind_ctx(kind: OrgKind, slug: &str, extra: Value) -> Value {
    let (zh, en) = match kind {
        OrgKind::Employer => ("用人单位", "Employers"),
        OrgKind::Provider => ("培训机构", "Training providers"),
        OrgKind::AssessmentBody => ("评价机构", "Assessment bodies"),
    };
    context! { slug => slug, kind_zh => zh, kind_en => en, is_employer => kind == OrgKind::Employer,
    employer_kinds => Value::from_serialize(EMPLOYER_KINDS), statuses => Value::from_serialize(STATUSES), ..extra }
}

fn can_write_kind(u: &jineng_store::users::User, kind: OrgKind) -> bool {
    u.role == Role::CityAdmin || (u.role == Role::County && kind == OrgKind::Employer)
}

/// `GET /orgs/{kind}`
pub async fn orgs_page(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    Path(slug): Path<String>,
    Query(q): Query<SearchQuery>,
) -> PageResult {
    let kind = org_kind(&slug).page(&auth)?;
    let county = if kind == OrgKind::Employer { views::org_county(&u) } else { None };
    let rows =
        orgs::list(&st.db, kind, county.as_deref(), q.q.as_deref().unwrap_or(""), ORGS_SHOWN + 1).await.page(&auth)?;
    let more = rows.len() as i64 > ORGS_SHOWN;
    let rows = &rows[..rows.len().min(ORGS_SHOWN as usize)];
    render_page(
        &st,
        &auth,
        "orgs.html",
        context! { rows => Value::from_serialize(rows), more, shown => ORGS_SHOWN, q => q.q.unwrap_or_default(), can_create => can_write_kind(&u, kind), ..kind_ctx(kind, &slug, context! {}) },
    )
}

/// Organisations a list page shows (a search finds the others).
const ORGS_SHOWN: i64 = 100;

/// `GET /orgs/{kind}/{id}`
pub async fn org_page(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    Path((slug, id)): Path<(String, i64)>,
) -> PageResult {
    let kind = org_kind(&slug).page(&auth)?;
    let county = if kind == OrgKind::Employer { views::org_county(&u) } else { None };
    let o = orgs::get(&st.db, kind, id, county.as_deref()).await.page(&auth)?;
    let history = jineng_store::audit::for_entity(&st.db, kind.table(), &id.to_string()).await.page(&auth)?;
    render_page(
        &st,
        &auth,
        "org.html",
        context! { o => Value::from_serialize(&o), history => Value::from_serialize(&history), can_edit => can_write_kind(&u, kind), ..kind_ctx(kind, &slug, context! {}) },
    )
}

/// `GET /orgs/{kind}/new`
pub async fn new_org_page(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    Path(slug): Path<String>,
) -> PageResult {
    let kind = org_kind(&slug).page(&auth)?;
    if !can_write_kind(&u, kind) {
        return Err(PageError::new(AppError::Forbidden, auth));
    }
    let counties = plan::counties(&st.db).await.page(&auth)?;
    render_page(
        &st,
        &auth,
        "org_form.html",
        context! { o => Value::from(()), errors => Value::from(()), ..kind_ctx(kind, &slug, form_choices(&counties, &u)) },
    )
}

/// `GET /orgs/{kind}/{id}/edit`
pub async fn edit_org_page(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    Path((slug, id)): Path<(String, i64)>,
) -> PageResult {
    let kind = org_kind(&slug).page(&auth)?;
    if !can_write_kind(&u, kind) {
        return Err(PageError::new(AppError::Forbidden, auth));
    }
    let county = if kind == OrgKind::Employer { views::org_county(&u) } else { None };
    let o = orgs::get(&st.db, kind, id, county.as_deref()).await.page(&auth)?;
    let counties = plan::counties(&st.db).await.page(&auth)?;
    render_page(
        &st,
        &auth,
        "org_form.html",
        context! { o => Value::from_serialize(&o), errors => Value::from(()), ..kind_ctx(kind, &slug, form_choices(&counties, &u)) },
    )
}

/// The organisation form.
#[derive(Deserialize)]
pub struct OrgForm {
    credit_code: String,
    legacy: Option<String>,
    name: String,
    county_code: String,
    kind: Option<String>,
    insured: Option<String>,
    status: Option<String>,
}

impl OrgForm {
    fn input(&self) -> OrgInput {
        OrgInput {
            credit_code: self.credit_code.clone(),
            legacy: self.legacy.is_some(),
            name: self.name.clone(),
            county_code: self.county_code.trim().into(),
            kind: self.kind.clone(),
            insured: self.insured.is_some(),
            status: self.status.clone(),
        }
    }
}

async fn save_org(
    st: &AppState,
    auth: Auth,
    u: &jineng_store::users::User,
    slug: &str,
    id: Option<i64>,
    f: OrgForm,
) -> Result<Response, PageError> {
    let kind = org_kind(slug).page(&auth)?;
    check_org_write(u, kind, f.county_code.trim()).page(&auth)?;
    let input = f.input();
    let county = if kind == OrgKind::Employer { views::org_county(u) } else { None };
    let result = match id {
        Some(id) => orgs::update(&st.db, Some(u.user_id), kind, id, county.as_deref(), &input).await.map(|_| id),
        None => orgs::create(&st.db, Some(u.user_id), kind, &input).await,
    }
    .map(|id| Done::new(format!("/orgs/{slug}/{id}"), "已保存 / saved"))
    .map_err(AppError::from);
    form_result(auth, result, |e, auth| async move {
        let counties = plan::counties(&st.db).await.page(&auth)?;
        let o = serde_json::json!({"id": id, "credit_code": f.credit_code, "name": f.name, "county_code": f.county_code, "kind": f.kind, "insured": f.insured.is_some(), "status": f.status});
        render_page(
            st,
            &auth,
            "org_form.html",
            context! { o => Value::from_serialize(&o), errors => Value::from_serialize(e.fields()), error => e.general(), ..kind_ctx(kind, slug, form_choices(&counties, u)) },
        )
    })
    .await
}

/// `POST /orgs/{kind}`
pub async fn create_org_form(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    Path(slug): Path<String>,
    CsrfForm(f): CsrfForm<OrgForm>,
) -> Result<Response, PageError> {
    save_org(&st, auth, &u, &slug, None, f).await
}

/// `POST /orgs/{kind}/{id}`
pub async fn update_org_form(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    Path((slug, id)): Path<(String, i64)>,
    CsrfForm(f): CsrfForm<OrgForm>,
) -> Result<Response, PageError> {
    save_org(&st, auth, &u, &slug, Some(id), f).await
}

/// Parses the `{kind}` path segment.
pub fn org_kind(s: &str) -> Result<OrgKind, AppError> {
    match s {
        "employers" => Ok(OrgKind::Employer),
        "providers" => Ok(OrgKind::Provider),
        "assessment-bodies" => Ok(OrgKind::AssessmentBody),
        _ => Err(AppError::NotFound),
    }
}

/// Who may change an organisation: the city admin any; a county office its county's employers.
pub fn check_org_write(u: &User, kind: OrgKind, county: &str) -> Result<(), AppError> {
    match (u.role, kind) {
        (Role::CityAdmin, _) => Ok(()),
        (Role::County, OrgKind::Employer) => check_county(u, county),
        _ => Err(AppError::Forbidden),
    }
}

fn read_county(u: &User, kind: OrgKind) -> Option<String> {
    if kind == OrgKind::Employer {
        views::org_county(u)
    } else {
        None
    }
}

/// List employers, providers or assessment bodies (a county office sees its county's employers).
#[utoipa::path(get, path = "/api/v1/orgs/{kind}", params(("kind" = String, Path, description = "employers | providers | assessment-bodies"), SearchQuery),
    responses((status = 200, body = [OrgRow])))]
pub async fn list_orgs(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Path(kind): Path<String>,
    Query(q): Query<SearchQuery>,
) -> Result<Json<Vec<OrgRow>>, AppError> {
    let kind = org_kind(&kind)?;
    Ok(Json(orgs::list(&st.db, kind, read_county(&u, kind).as_deref(), q.q.as_deref().unwrap_or(""), 500).await?))
}

/// An organisation to create or update.
#[derive(Deserialize, ToSchema, Default)]
pub struct OrgInputBody {
    /// Unified social credit code.
    pub credit_code: String,
    /// Keep a code whose check character fails (legacy data), with a warning.
    #[serde(default)]
    pub legacy: bool,
    pub name: String,
    /// County code.
    pub county_code: String,
    /// Employer kind: enterprise | cooperative | poverty_workshop | college | other.
    pub kind: Option<String>,
    /// Employer pays unemployment insurance.
    #[serde(default)]
    pub insured: bool,
    /// Catalog status: listed | suspended | removed.
    pub status: Option<String>,
}

impl From<OrgInputBody> for OrgInput {
    fn from(b: OrgInputBody) -> Self {
        OrgInput {
            credit_code: b.credit_code,
            legacy: b.legacy,
            name: b.name,
            county_code: b.county_code.trim().into(),
            kind: b.kind,
            insured: b.insured,
            status: b.status,
        }
    }
}

/// Create an organisation. 422 names the field and reason (e.g. the credit code's check character); 409 on a duplicate code.
#[utoipa::path(post, path = "/api/v1/orgs/{kind}", request_body = OrgInputBody, params(("kind" = String, Path)),
    responses((status = 201, body = Created), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_org(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Path(kind): Path<String>,
    Json(b): Json<OrgInputBody>,
) -> Result<(StatusCode, Json<Created>), AppError> {
    let kind = org_kind(&kind)?;
    check_org_write(&u, kind, b.county_code.trim())?;
    let id = orgs::create(&st.db, Some(u.user_id), kind, &b.into()).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// One organisation.
#[utoipa::path(get, path = "/api/v1/orgs/{kind}/{id}", params(("kind" = String, Path), ("id" = i64, Path)), responses((status = 200, body = OrgRow)))]
pub async fn get_org(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Path((kind, id)): Path<(String, i64)>,
) -> Result<Json<OrgRow>, AppError> {
    let kind = org_kind(&kind)?;
    Ok(Json(orgs::get(&st.db, kind, id, read_county(&u, kind).as_deref()).await?))
}

/// Update an organisation.
#[utoipa::path(put, path = "/api/v1/orgs/{kind}/{id}", request_body = OrgInputBody, params(("kind" = String, Path), ("id" = i64, Path)), responses((status = 200, body = OrgRow)))]
pub async fn update_org(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Path((kind, id)): Path<(String, i64)>,
    Json(b): Json<OrgInputBody>,
) -> Result<Json<OrgRow>, AppError> {
    let kind = org_kind(&kind)?;
    check_org_write(&u, kind, b.county_code.trim())?;
    let county = read_county(&u, kind);
    orgs::update(&st.db, Some(u.user_id), kind, id, county.as_deref(), &b.into()).await?;
    Ok(Json(orgs::get(&st.db, kind, id, county.as_deref()).await?))
}
