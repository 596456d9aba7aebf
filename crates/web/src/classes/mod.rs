//! Training classes: the list, a class's page, applications (开班申请) and their review by the
//! county office, with every change recorded with who, when and why; the roster import, daily
//! attendance and assessments live in the submodules, each with its page forms and API.

pub mod application;
pub mod assessments;
pub mod attendance;
pub mod page;
pub mod roster;

use crate::auth::Auth;
use crate::auth::{Access, CurrentUser, Route, BODY, BODY_UPLOAD, CLASS_ACTORS, CLASS_READERS, PROVIDER};
use crate::common::{SearchQuery, PAGE};
use crate::error::AppError;
use crate::render::{render_page, OrPage, PageResult};
use crate::state::AppState;
use crate::views;
use crate::xlsx::{sheet, xerr, xlsx_download};
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::Json;
use jineng_store::training::{self, ClassRow};
use minijinja::{context, Value};
use rust_xlsxwriter::Workbook;
use utoipa::OpenApi;

/// Routes of this module and its submodules.
pub fn routes() -> Vec<Route> {
    use Access::*;
    vec![
        Route::get("/classes", Roles(CLASS_READERS), classes_page),
        Route::get("/classes.xlsx", Roles(CLASS_READERS), classes_xlsx),
        Route::post("/classes", Roles(PROVIDER), application::create_class_form),
        Route::get("/classes/new", Roles(PROVIDER), application::new_class_page),
        Route::get("/classes/{id}", Roles(CLASS_READERS), class_page),
        Route::post("/classes/{id}/actions", Roles(CLASS_ACTORS), application::class_action_form),
        Route::post("/classes/{id}/roster", Roles(PROVIDER), roster::import_form).limit(BODY_UPLOAD),
        Route::get("/classes/{id}/roster-imports/{import}/errors.xlsx", Roles(CLASS_READERS), roster::report),
        Route::get("/roster-template.xlsx", Roles(CLASS_ACTORS), roster::template),
        Route::post("/classes/{id}/attendance", Roles(PROVIDER), attendance::check_in_form),
        Route::post("/classes/{id}/attendance/all", Roles(PROVIDER), attendance::check_in_all_form),
        Route::post("/classes/{id}/assessments", Roles(BODY), assessments::assess_form),
        Route::get("/api/v1/classes", Roles(CLASS_READERS), list_classes),
        Route::post("/api/v1/classes", Roles(PROVIDER), application::apply),
        Route::get("/api/v1/classes/{id}", Roles(CLASS_READERS), get_class),
        Route::post("/api/v1/classes/{id}/actions", Roles(CLASS_ACTORS), application::class_action),
        Route::get("/api/v1/classes/{id}/events", Roles(CLASS_READERS), application::class_events),
        Route::post("/api/v1/classes/{id}/roster", Roles(PROVIDER), roster::import_api).limit(BODY_UPLOAD),
        Route::post("/api/v1/classes/{id}/attendance", Roles(PROVIDER), attendance::check_in_api),
        Route::get("/api/v1/classes/{id}/attendance", Roles(CLASS_READERS), attendance::attendance_api),
        Route::post("/api/v1/classes/{id}/assessments", Roles(BODY), assessments::assess_api),
    ]
}

/// The API of this module.
#[derive(OpenApi)]
#[openapi(paths(
    list_classes,
    get_class,
    application::apply,
    application::class_action,
    application::class_events,
    roster::import_api,
    attendance::check_in_api,
    attendance::attendance_api,
    assessments::assess_api
))]
pub struct Api;

/// `GET /classes`
pub async fn classes_page(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    Query(q): Query<SearchQuery>,
) -> PageResult {
    let scope = views::class_scope(&st.db, &u).await.page(&auth)?;
    let (page, offset) = crate::common::page_offset(q.page, 50);
    let rows = training::list_classes(&st.db, &scope, 50, offset).await.page(&auth)?;
    render_page(
        &st,
        &auth,
        "classes.html",
        context! { rows => Value::from_serialize(&rows), page, more => rows.len() == 50 },
    )
}

/// `GET /classes/{id}`
pub async fn class_page(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    Path(id): Path<i64>,
) -> PageResult {
    page::class_page(&st, &auth, &u, id, None).await
}

/// Classes visible to the caller, newest first.
#[utoipa::path(get, path = "/api/v1/classes", params(SearchQuery), responses((status = 200, body = [ClassRow])))]
pub async fn list_classes(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Query(q): Query<SearchQuery>,
) -> Result<Json<Vec<ClassRow>>, AppError> {
    let scope = views::class_scope(&st.db, &u).await?;
    let (_, offset) = crate::common::page_offset(q.page, PAGE);
    Ok(Json(training::list_classes(&st.db, &scope, PAGE, offset).await?))
}

/// One class.
#[utoipa::path(get, path = "/api/v1/classes/{id}", params(("id" = i64, Path)), responses((status = 200, body = ClassRow)))]
pub async fn get_class(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<ClassRow>, AppError> {
    let scope = views::class_scope(&st.db, &u).await?;
    Ok(Json(training::get_class(&st.db, &scope, id).await?))
}

/// `GET /classes.xlsx`: the classes the caller may see.
pub async fn classes_xlsx(State(st): State<AppState>, CurrentUser(u): CurrentUser) -> Result<Response, AppError> {
    let scope = views::class_scope(&st.db, &u).await?;
    let list = training::list_classes(&st.db, &scope, 100_000, 0).await?;
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|c| {
            vec![
                c.class_id.to_string(),
                c.name.clone(),
                c.program_code.clone(),
                format!("{} {}", c.occupation_code, c.occupation_name),
                c.level.map(|l| l.to_string()).unwrap_or_default(),
                c.county_name.clone(),
                c.provider_name.clone(),
                c.start_date.to_string(),
                c.end_date.to_string(),
                if c.subsidised { "是".into() } else { "否".into() },
                jineng_domain::ClassStatus::parse(&c.status)
                    .map(|s| s.zh().to_owned())
                    .unwrap_or_else(|| c.status.clone()),
                c.enrolled.to_string(),
                c.completed.to_string(),
            ]
        })
        .collect();
    let mut wb = Workbook::new();
    sheet(
        &mut wb,
        "培训班",
        &[
            "编号",
            "班级",
            "计划",
            "职业(工种)",
            "等级",
            "县区",
            "培训机构",
            "开始",
            "结束",
            "补贴性",
            "状态",
            "报名",
            "结业",
        ],
        &rows,
    )
    .map_err(xerr)?;
    let bytes = wb.save_to_buffer().map_err(xerr)?;
    crate::xlsx::audit_export(&st.db, u.user_id, "training_class", "all", list.len()).await?;
    Ok(xlsx_download(bytes, "培训班.xlsx", "export.xlsx"))
}
