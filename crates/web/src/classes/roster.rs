//! Roster import from `.xlsx`: the template, the upload (page and API), and the error report.

use crate::auth::{Auth, CurrentUser};
use crate::classes::page::class_page_with;
use crate::error::AppError;
use crate::render::{form_answer, Done, PageError};
use crate::state::AppState;
use crate::views;
use axum::body::Bytes;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use jineng_domain::Role;
use jineng_store::roster::{self, Imported};
use jineng_store::training;
use jineng_store::users::User;

/// `GET /roster-template.xlsx`: the roster template.
pub async fn template() -> Result<Response, AppError> {
    let bytes = roster::template().map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(crate::xlsx::xlsx_download(bytes, "花名册模板.xlsx", "roster.xlsx"))
}

fn provider_scope(u: &User) -> Option<i64> {
    (u.role == Role::Provider).then(|| u.scope_id()).flatten()
}

/// The outcome of an upload.
pub enum Upload {
    /// Every row landed.
    Imported(Imported),
    /// Refused: the rows' errors and the report's address.
    Refused(Vec<roster::RowError>, String),
}

async fn upload(st: &AppState, u: &User, class_id: i64, bytes: Bytes) -> Result<Upload, AppError> {
    if u.role != Role::Provider {
        return Err(AppError::Forbidden);
    }
    // The caller's right to the class first, then the file: parsed off the async threads.
    let scope = views::class_scope(&st.db, u).await?;
    training::get_class(&st.db, &scope, class_id).await?;
    // The body moves to the parser's thread as it is (no copy of up to 32 MB).
    let (rows, errors) = tokio::task::spawn_blocking(move || roster::parse(&bytes))
        .await
        .map_err(|e| AppError::Internal(format!("roster parser: {e}")))?
        .map_err(|e| AppError::field("file", e))?;
    match roster::import(&st.db, Some(u.user_id), class_id, provider_scope(u), rows, errors).await? {
        Ok(done) => Ok(Upload::Imported(done)),
        Err(refused) => Ok(Upload::Refused(
            refused.errors,
            format!("/classes/{class_id}/roster-imports/{}/errors.xlsx", refused.roster_import_id),
        )),
    }
}

/// Import a roster (`.xlsx` body) into the provider's class before approval. All rows land or
/// none; a refusal lists every wrong row (row, column, reason) and links the error report.
#[utoipa::path(post, path = "/api/v1/classes/{id}/roster", params(("id" = i64, Path)),
    request_body(content = Vec<u8>, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    responses((status = 201, body = Imported), (status = 422, body = crate::error::ErrorBody)))]
pub async fn import_api(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Path(id): Path<i64>,
    body: Bytes,
) -> Result<Response, AppError> {
    match upload(&st, &u, id, body).await? {
        Upload::Imported(done) => Ok((StatusCode::CREATED, Json(done)).into_response()),
        Upload::Refused(errors, report) => {
            let fields: serde_json::Map<String, serde_json::Value> = errors
                .iter()
                .map(|e| (format!("row {} {}", e.row, e.column), serde_json::Value::String(e.reason.clone())))
                .collect();
            let body = serde_json::json!({
                "error": {"code": "invalid", "message": format!("花名册有{}处错误，未导入 / {} errors: nothing imported", errors.len(), errors.len()), "fields": fields},
                "errors": errors,
                "report": report,
            });
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response())
        }
    }
}

/// `POST /classes/{id}/roster`: the upload form (multipart, with the CSRF token).
pub async fn import_form(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    Path(id): Path<i64>,
    mut form: Multipart,
) -> Result<Response, PageError> {
    let mut csrf = None;
    let mut file = None;
    while let Ok(Some(field)) = form.next_field().await {
        match field.name() {
            Some("csrf") => csrf = field.text().await.ok(),
            Some("file") => file = field.bytes().await.ok(),
            _ => {}
        }
    }
    if csrf.is_none() || csrf != auth.csrf {
        return Err(PageError::new(
            AppError::BadRequest("表单已过期，请刷新后重试 / the form expired, reload and try again".into()),
            auth,
        ));
    }
    let result = match file.filter(|f| !f.is_empty()) {
        None => Err(AppError::field("file", "请选择要上传的 .xlsx 文件 / choose an .xlsx file")),
        Some(file) => match upload(&st, &u, id, file).await {
            Ok(Upload::Imported(done)) => Ok(Done::new(
                format!("/classes/{id}#roster"),
                format!(
                    "已导入 {} 行（其中新登记 {} 人）/ {} rows imported ({} newly registered)",
                    done.enrolled, done.registered, done.enrolled, done.registered
                ),
            )
            .into_response()),
            Ok(Upload::Refused(errors, report)) => {
                // The refused rows are listed on the class page, with the report to download.
                let msg = format!(
                    "花名册有{}处错误，未导入任何人 / {} errors: nothing was imported",
                    errors.len(),
                    errors.len()
                );
                let refused = AppError::BadRequest(msg);
                let page = class_page_with(&st, &auth, &u, id, Some(&refused), Some((errors, report))).await?;
                return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
            }
            Err(e) => Err(e),
        },
    };
    form_answer(auth, result, |e, auth| async move { class_page_with(&st, &auth, &u, id, Some(&e), None).await }).await
}

/// `GET /classes/{id}/roster-imports/{import}/errors.xlsx`: the error report of a refused import.
pub async fn report(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Path((id, import)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    let scope = views::class_scope(&st.db, &u).await?;
    training::get_class(&st.db, &scope, id).await?;
    let errors = roster::errors_of(&st.db, id, import).await?;
    let bytes = roster::error_report(&errors).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(crate::xlsx::xlsx_download(bytes, &format!("花名册错误报告-{id}-{import}.xlsx"), "roster.xlsx"))
}
