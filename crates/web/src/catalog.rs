//! Published catalogs (M2), public: occupations (national and the city's supplementary list),
//! subsidised projects, listed providers and assessment bodies. The city admin maintains them.

use crate::auth::{Access, Auth, CurrentUser, Route, ADMIN};
use crate::error::{AppError, ErrorBody};
use crate::guard::CsrfForm;
use crate::render::{form_result, render_page, Done, OrPage, PageError};
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, Response};
use axum::Json;
use jineng_domain::SkillLevel;
use jineng_store::catalog::{self, Occupation, Project, ProjectInput, CITY_OCCUPATION_LIMIT};
use jineng_store::orgs::{self, OrgKind};
use minijinja::{context, Value};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

/// Routes of this module.
pub fn routes() -> Vec<Route> {
    use Access::*;
    vec![
        Route::get("/catalog", Public, catalog_page),
        Route::get("/catalog/manage", Roles(ADMIN), manage_page_get),
        Route::post("/catalog/manage", Roles(ADMIN), manage_form),
        Route::get("/api/v1/catalog/occupations", Public, list_occupations),
        Route::post("/api/v1/catalog/occupations", Roles(ADMIN), create_city_occupation),
        Route::put("/api/v1/catalog/occupations/{code}/status", Roles(ADMIN), set_occupation_status),
        Route::get("/api/v1/catalog/projects", Public, list_projects),
        Route::post("/api/v1/catalog/projects", Roles(ADMIN), create_project),
        Route::put("/api/v1/catalog/projects/{id}", Roles(ADMIN), update_project),
        Route::get("/api/v1/catalog/providers", Public, list_providers),
        Route::get("/api/v1/catalog/assessment-bodies", Public, list_bodies),
    ]
}

/// The API of this module.
#[derive(OpenApi)]
#[openapi(paths(
    list_occupations,
    create_city_occupation,
    set_occupation_status,
    list_projects,
    create_project,
    update_project,
    list_providers,
    list_bodies
))]
pub struct Api;

/// What the catalog page and the occupation list search for.
#[derive(Deserialize, IntoParams)]
pub struct CatalogQuery {
    /// Name or code fragment.
    pub q: Option<String>,
}

/// A listed provider or assessment body, as the public sees it.
#[derive(Serialize, ToSchema)]
pub struct ListedOrg {
    pub name: String,
    /// Unified social credit code.
    pub credit_code: String,
    pub county_name: String,
}

async fn listed(st: &AppState, kind: OrgKind) -> Result<Vec<ListedOrg>, AppError> {
    Ok(orgs::list(&st.db, kind, None, "", 5000)
        .await?
        .into_iter()
        .filter(|o| o.status.as_deref() == Some("listed"))
        .map(|o| ListedOrg { name: o.name, credit_code: o.credit_code, county_name: o.county_name })
        .collect())
}

/// Listed occupations (public).
#[utoipa::path(get, path = "/api/v1/catalog/occupations", params(CatalogQuery), responses((status = 200, body = [Occupation])))]
pub async fn list_occupations(State(st): State<AppState>, Query(q): Query<CatalogQuery>) -> Result<Response, AppError> {
    let text = q.q.unwrap_or_default();
    let key = format!("/api/v1/catalog/occupations?q={text}");
    crate::render::cached_json(&st, &key, || async { Ok(catalog::occupations(&st.db, true, &text).await?) }).await
}

/// Listed subsidised projects (public).
#[utoipa::path(get, path = "/api/v1/catalog/projects", responses((status = 200, body = [Project])))]
pub async fn list_projects(State(st): State<AppState>) -> Result<Json<Vec<Project>>, AppError> {
    Ok(Json(catalog::projects(&st.db, true).await?))
}

/// Listed training providers (public).
#[utoipa::path(get, path = "/api/v1/catalog/providers", responses((status = 200, body = [ListedOrg])))]
pub async fn list_providers(State(st): State<AppState>) -> Result<Json<Vec<ListedOrg>>, AppError> {
    Ok(Json(listed(&st, OrgKind::Provider).await?))
}

/// Listed assessment bodies (public).
#[utoipa::path(get, path = "/api/v1/catalog/assessment-bodies", responses((status = 200, body = [ListedOrg])))]
pub async fn list_bodies(State(st): State<AppState>) -> Result<Json<Vec<ListedOrg>>, AppError> {
    Ok(Json(listed(&st, OrgKind::AssessmentBody).await?))
}

/// A city supplementary occupation.
#[derive(Deserialize, ToSchema)]
pub struct CityOccupationInput {
    /// The city's code, e.g. `驻-01`.
    pub occupation_code: String,
    pub name: String,
    /// Whether it has levels.
    #[serde(default)]
    pub has_levels: bool,
    /// The city's own standard (document and subsidy standard).
    pub standard: String,
}

/// Add an occupation to the city's supplementary list (at most ten; the eleventh is refused).
#[utoipa::path(post, path = "/api/v1/catalog/occupations", request_body = CityOccupationInput,
    responses((status = 201), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_city_occupation(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Json(i): Json<CityOccupationInput>,
) -> Result<StatusCode, AppError> {
    catalog::add_city_occupation(&st.db, Some(u.user_id), &i.occupation_code, &i.name, i.has_levels, &i.standard)
        .await?;
    Ok(StatusCode::CREATED)
}

/// A new status.
#[derive(Deserialize, ToSchema)]
pub struct StatusInput {
    /// `listed`, `suspended` or `removed`.
    pub status: String,
}

/// Change an occupation's status in the catalog.
#[utoipa::path(put, path = "/api/v1/catalog/occupations/{code}/status", request_body = StatusInput, params(("code" = String, Path)), responses((status = 204)))]
pub async fn set_occupation_status(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Path(code): Path<String>,
    Json(i): Json<StatusInput>,
) -> Result<StatusCode, AppError> {
    catalog::set_occupation_status(&st.db, Some(u.user_id), &code, &i.status).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A subsidised project.
#[derive(Deserialize, ToSchema)]
pub struct ProjectBody {
    /// Occupation code (listed).
    pub occupation_code: String,
    /// Level 1–5 (required when the occupation has levels).
    pub level: Option<u8>,
    /// Class hours.
    pub class_hours: i64,
    /// Subsidy standard, fen per trainee.
    pub subsidy_fen: i64,
    /// Status (default listed).
    pub status: Option<String>,
}

fn project_input(b: ProjectBody) -> Result<ProjectInput, AppError> {
    let level = b.level.map(SkillLevel::new).transpose().map_err(|e| AppError::field("level", e))?;
    Ok(ProjectInput {
        occupation_code: b.occupation_code.trim().into(),
        level,
        class_hours: b.class_hours,
        subsidy_fen: b.subsidy_fen,
        status: b.status.unwrap_or_else(|| "listed".into()),
    })
}

/// Add a subsidised project (occupation, level, class hours, subsidy standard).
#[utoipa::path(post, path = "/api/v1/catalog/projects", request_body = ProjectBody, responses((status = 201, body = crate::common::Created), (status = 422, body = ErrorBody)))]
pub async fn create_project(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Json(b): Json<ProjectBody>,
) -> Result<(StatusCode, Json<crate::common::Created>), AppError> {
    let id = catalog::create_project(&st.db, Some(u.user_id), &project_input(b)?).await?;
    Ok((StatusCode::CREATED, Json(crate::common::Created { id })))
}

/// Update a subsidised project.
#[utoipa::path(put, path = "/api/v1/catalog/projects/{id}", request_body = ProjectBody, params(("id" = i64, Path)), responses((status = 204)))]
pub async fn update_project(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Path(id): Path<i64>,
    Json(b): Json<ProjectBody>,
) -> Result<StatusCode, AppError> {
    catalog::update_project(&st.db, Some(u.user_id), id, &project_input(b)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What the catalog page is asked: an occupation's code or name (fragment) and a page of the
/// national occupations.
#[derive(Deserialize)]
pub struct CatalogPageQuery {
    /// Code or name fragment.
    pub q: Option<String>,
    /// Page of the national occupations, from 1.
    pub page: Option<i64>,
}

/// National occupations a page of the catalog lists.
const OCCUPATIONS_PER_PAGE: i64 = 50;

/// `GET /catalog`: the published catalogs, for everyone: subsidised projects and occupations
/// found by code or name, the national occupations a page at a time.
pub async fn catalog_page(
    State(st): State<AppState>,
    auth: Auth,
    Query(q): Query<CatalogPageQuery>,
    uri: axum::http::Uri,
) -> Result<Response, PageError> {
    let key = uri.path_and_query().map_or_else(|| "/catalog".to_owned(), |p| p.as_str().to_owned());
    crate::render::cached_page(&st, &auth, &key, || catalog_view(&st, &auth, q)).await
}

async fn catalog_view(st: &AppState, auth: &Auth, q: CatalogPageQuery) -> Result<Html<String>, PageError> {
    let text: String = q.q.clone().unwrap_or_default().trim().chars().take(50).collect();
    let (page, offset) = crate::common::page_offset(q.page, OCCUPATIONS_PER_PAGE);
    // The catalogs are the same for everyone: read once between changes, shown in each
    // caller's menu.
    let key = format!("catalog:{text:?}:{page}");
    let listed = crate::render::cached_value(st, &key, || async {
        let city: Vec<Occupation> = catalog::city_occupations(&st.db, &text).await?;
        let (national, total) = catalog::national_page(&st.db, &text, OCCUPATIONS_PER_PAGE, offset).await?;
        let pages = ((total + OCCUPATIONS_PER_PAGE - 1) / OCCUPATIONS_PER_PAGE).max(1);
        Ok(context! {
            q => text,
            city => Value::from_serialize(&city),
            occupations => Value::from_serialize(&national),
            total, page, pages,
            projects => Value::from_serialize(catalog::listed_projects(&st.db, &text).await?),
            providers => Value::from_serialize(listed(st, OrgKind::Provider).await?),
            bodies => Value::from_serialize(listed(st, OrgKind::AssessmentBody).await?),
            limit => CITY_OCCUPATION_LIMIT,
        })
    })
    .await
    .map_err(|e| PageError::new(e, auth.clone()))?;
    let is_admin = auth.user.as_ref().is_some_and(|u| u.role == jineng_domain::Role::CityAdmin);
    render_page(st, auth, "catalog.html", context! { is_admin, ..listed })
}

fn manage_page(
    st: &AppState,
    auth: &Auth,
    occupations: Vec<Occupation>,
    projects: Vec<Project>,
    refused: Option<&AppError>,
) -> Result<Html<String>, PageError> {
    let error = refused.and_then(AppError::general);
    let errors = refused.map(AppError::fields).unwrap_or_default();
    let city: Vec<&Occupation> = occupations.iter().filter(|o| o.catalog == "city").collect();
    let active = city.iter().filter(|o| o.status != "removed").count();
    render_page(
        st,
        auth,
        "catalog_manage.html",
        context! {
            city => Value::from_serialize(&city), active, limit => CITY_OCCUPATION_LIMIT,
            projects => Value::from_serialize(&projects), error, errors,
        },
    )
}

/// `GET /catalog/manage`
pub async fn manage_page_get(State(st): State<AppState>, auth: Auth) -> Result<Html<String>, PageError> {
    let occ = catalog::city_catalog(&st.db).await.map_err(|e| PageError::new(e.into(), auth.clone()))?;
    let projects = catalog::projects(&st.db, false).await.map_err(|e| PageError::new(e.into(), auth.clone()))?;
    manage_page(&st, &auth, occ, projects, None)
}

/// The forms of the management page (one `action` each).
#[derive(Deserialize)]
pub struct ManageForm {
    action: String,
    occupation_code: Option<String>,
    name: Option<String>,
    has_levels: Option<String>,
    standard: Option<String>,
    status: Option<String>,
    level: Option<String>,
    class_hours: Option<String>,
    subsidy_yuan: Option<String>,
    project_id: Option<String>,
}

/// `POST /catalog/manage`
pub async fn manage_form(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    CsrfForm(f): CsrfForm<ManageForm>,
) -> Result<Response, PageError> {
    let actor = Some(u.user_id);
    let num = |s: &Option<String>, field: &str| -> Result<i64, AppError> {
        s.as_deref()
            .unwrap_or("")
            .trim()
            .replace(',', "")
            .parse::<i64>()
            .map_err(|_| AppError::field(field, "请输入整数 / a whole number"))
    };
    let result: Result<(), AppError> = async {
        match f.action.as_str() {
            "add_city_occupation" => Ok(catalog::add_city_occupation(
                &st.db,
                actor,
                f.occupation_code.as_deref().unwrap_or(""),
                f.name.as_deref().unwrap_or(""),
                f.has_levels.is_some(),
                f.standard.as_deref().unwrap_or(""),
            )
            .await?),
            "occupation_status" => Ok(catalog::set_occupation_status(
                &st.db,
                actor,
                f.occupation_code.as_deref().unwrap_or(""),
                f.status.as_deref().unwrap_or(""),
            )
            .await?),
            "add_project" | "project_status" => {
                let level = match f.level.as_deref().map(str::trim).filter(|l| !l.is_empty()) {
                    Some(l) => Some(SkillLevel::new(l.parse().unwrap_or(0)).map_err(|e| AppError::field("level", e))?),
                    None => None,
                };
                let input = ProjectInput {
                    occupation_code: f.occupation_code.clone().unwrap_or_default().trim().into(),
                    level,
                    class_hours: num(&f.class_hours, "class_hours")?,
                    subsidy_fen: num(&f.subsidy_yuan, "subsidy_yuan")? * 100,
                    status: f.status.clone().unwrap_or_else(|| "listed".into()),
                };
                if f.action == "add_project" {
                    catalog::create_project(&st.db, actor, &input).await?;
                } else {
                    catalog::update_project(&st.db, actor, num(&f.project_id, "project_id")?, &input).await?;
                }
                Ok(())
            }
            _ => Err(AppError::BadRequest("未知操作 / unknown action".into())),
        }
    }
    .await;
    // What the form names and the catalog lacks is a mistake in the form, shown on it.
    let result =
        result.map(|()| Done::new("/catalog/manage", "目录已更新 / the catalog is updated")).map_err(|e| match e {
            AppError::NotFound => AppError::BadRequest("目录中没有该条目 / no such entry in the catalog".into()),
            e => e,
        });
    form_result(auth, result, |e, auth| async move {
        let occ = catalog::city_catalog(&st.db).await.page(&auth)?;
        let projects = catalog::projects(&st.db, false).await.page(&auth)?;
        manage_page(&st, &auth, occ, projects, Some(&e))
    })
    .await
}
