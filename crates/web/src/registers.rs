//! The authorities' registers the bureau imports (poverty roster, hukou, social insurance and
//! pensions, employment records, market regulation): templates, the upload (page and API) and
//! the imports so far. What lands becomes facts with the register as their source.

use crate::auth::{Access, Auth, CurrentUser, Route, ADMIN, AUDIT_READERS, BODY_UPLOAD};
use crate::error::AppError;
use crate::render::{form_answer, render_page, Done, OrPage, PageError, PageResult};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use jineng_store::registers::{self, Imported, Register};
use jineng_store::roster::RowError;
use jineng_store::users::User;
use minijinja::{context, Value};
use serde::Deserialize;
use utoipa::OpenApi;

/// Routes of this module.
pub fn routes() -> Vec<Route> {
    use Access::*;
    vec![
        Route::get("/registers", Roles(AUDIT_READERS), page),
        Route::get("/registers/{kind}/template.xlsx", Roles(AUDIT_READERS), template),
        Route::post("/registers/{kind}", Roles(ADMIN), import_form).limit(BODY_UPLOAD),
        Route::post("/api/v1/registers/{kind}", Roles(ADMIN), import_api).limit(BODY_UPLOAD),
        Route::post("/api/v1/certificates/register", Roles(ADMIN), certificates_api).limit(BODY_UPLOAD),
    ]
}

/// The API of this module.
#[derive(OpenApi)]
#[openapi(paths(import_api, certificates_api), components(schemas(Imported, RowError)))]
pub struct Api;

fn register(kind: &str) -> Result<Register, AppError> {
    Register::parse(kind).ok_or(AppError::NotFound)
}

/// `GET /registers/{kind}/template.xlsx`
pub async fn template(Path(kind): Path<String>) -> Result<Response, AppError> {
    if kind == CERTIFICATES {
        let bytes = jineng_store::assessment::register_template().map_err(|e| AppError::Internal(e.to_string()))?;
        return Ok(crate::xlsx::xlsx_download(bytes, "职业技能评价证书登记模板.xlsx", "certificates.xlsx"));
    }
    if kind == GRANTED {
        let bytes = jineng_store::claims::past::sheet_template().map_err(|e| AppError::Internal(e.to_string()))?;
        return Ok(crate::xlsx::xlsx_download(bytes, "历史补贴发放记录模板.xlsx", "granted.xlsx"));
    }
    if kind == STATISTICS {
        let bytes = jineng_store::labour::sheet_template().map_err(|e| AppError::Internal(e.to_string()))?;
        return Ok(crate::xlsx::xlsx_download(bytes, "技能人才统计数据模板.xlsx", "statistics.xlsx"));
    }
    let reg = register(&kind)?;
    let bytes = registers::template(reg).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(crate::xlsx::xlsx_download(bytes, &format!("{}模板.xlsx", reg.zh()), &format!("{}.xlsx", reg.code())))
}

/// What a certificate import landed.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct CertificatesImported {
    /// Certificates new to the registry (a certificate recorded before is left as it is).
    pub recorded: usize,
    /// Claims the new certificates brought (e.g. skill-upgrade subsidies of insured employees).
    pub claims: usize,
}

/// The pseudo-kind of the appraisal register on the registers page and its addresses.
const CERTIFICATES: &str = "certificates";
/// The pseudo-kind of the record of subsidies granted before the system.
const GRANTED: &str = "granted";
/// The pseudo-kind of the statistics bureau's figures for T2 and T3.
const STATISTICS: &str = "statistics";

/// The statistics bureau's figures as uploaded: how many rows were recorded, or every wrong row.
async fn upload_statistics(
    st: &AppState,
    u: &User,
    bytes: axum::body::Bytes,
) -> Result<Result<usize, Vec<RowError>>, AppError> {
    use jineng_store::labour;
    let (rows, errors) = tokio::task::spawn_blocking(move || labour::parse_sheet(&bytes))
        .await
        .map_err(|e| AppError::Internal(format!("register parser: {e}")))?
        .map_err(|e| AppError::field("file", e))?;
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    Ok(labour::record_sheet(&st.db, u.user_id, &rows).await?)
}

/// The record of subsidies granted before, as uploaded (`.xlsx` or CSV in the template's
/// layout): how many rows were recorded, or every wrong row.
async fn upload_granted(
    st: &AppState,
    u: &User,
    bytes: axum::body::Bytes,
) -> Result<Result<usize, Vec<RowError>>, AppError> {
    use jineng_store::claims::past;
    let (rows, errors) = tokio::task::spawn_blocking(move || past::parse_sheet(&bytes))
        .await
        .map_err(|e| AppError::Internal(format!("register parser: {e}")))?
        .map_err(|e| AppError::field("file", e))?;
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    if rows.len() > 100_000 {
        return Err(AppError::BadRequest("一次最多导入100,000行 / at most 100,000 rows at once".into()));
    }
    Ok(past::record_sheet(&st.db, Some(u.user_id), &rows).await?)
}

/// Certificates from the appraisal register, checked and recorded (all rows or none); each new
/// certificate brings the claims the policy allows. `rows` carry the row number a refusal names;
/// `column` names a field's column.
async fn record_certificates(
    st: &AppState,
    u: &User,
    rows: Vec<(usize, jineng_store::assessment::RegisteredCertificate)>,
    column: fn(&str) -> String,
) -> Result<Result<CertificatesImported, Vec<RowError>>, AppError> {
    if rows.len() > 100_000 {
        return Err(AppError::BadRequest("一次最多导入100,000行 / at most 100,000 rows at once".into()));
    }
    let (numbers, certs): (Vec<usize>, Vec<_>) = rows.into_iter().unzip();
    match jineng_store::assessment::record_from_register(&st.db, Some(u.user_id), &certs).await? {
        Ok(new) => {
            let claims = jineng_store::claims::prepare::for_certificates(&st.db, Some(u.user_id), &new).await?;
            Ok(Ok(CertificatesImported { recorded: new.len(), claims }))
        }
        Err(bad) => Ok(Err(bad
            .into_iter()
            .map(|e| RowError {
                row: numbers.get(e.row.saturating_sub(1)).copied().unwrap_or(e.row),
                column: column(&e.field),
                reason: e.reason,
            })
            .collect())),
    }
}

/// The appraisal register as uploaded (`.xlsx` or CSV in the template's layout).
async fn upload_certificates(
    st: &AppState,
    u: &User,
    bytes: axum::body::Bytes,
) -> Result<Result<CertificatesImported, Vec<RowError>>, AppError> {
    let (rows, errors) = tokio::task::spawn_blocking(move || jineng_store::assessment::parse_register(&bytes))
        .await
        .map_err(|e| AppError::Internal(format!("register parser: {e}")))?
        .map_err(|e| AppError::field("file", e))?;
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    record_certificates(st, u, rows, jineng_store::assessment::register_column).await
}

/// A refused import: the one error body, every wrong row named.
fn rows_refused(errors: &[RowError]) -> Response {
    let fields: serde_json::Map<String, serde_json::Value> = errors
        .iter()
        .map(|e| (format!("row {} {}", e.row, e.column), serde_json::Value::String(e.reason.clone())))
        .collect();
    let body = serde_json::json!({
        "error": {"code": "invalid", "message": format!("名单有{}处错误，未导入 / {} errors: nothing imported", errors.len(), errors.len()), "fields": fields},
        "errors": errors,
    });
    (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response()
}

/// Certificates from the appraisal register (职业技能等级认定、职业资格 results issued outside the
/// system's classes), city admin: a JSON list of rows, or the register as `.xlsx` or CSV in the
/// template's layout (`/registers/certificates/template.xlsx`). All rows or none, every wrong
/// row named; a certificate recorded before (same issuer and serial) is left as it is. Each new
/// certificate brings the claims the policy allows, decided at once.
#[utoipa::path(post, path = "/api/v1/certificates/register", request_body = Vec<jineng_store::assessment::RegisteredCertificate>,
    responses((status = 201, body = CertificatesImported), (status = 422, body = crate::error::ErrorBody)))]
pub async fn certificates_api(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    body: Bytes,
) -> Result<Response, AppError> {
    let json = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[');
    let result = if json {
        let rows: Vec<jineng_store::assessment::RegisteredCertificate> =
            serde_json::from_slice(&body).map_err(|e| {
                AppError::BadRequest(format!("请求体不是证书列表 / the body is not a list of certificates: {e}"))
            })?;
        record_certificates(&st, &u, rows.into_iter().enumerate().map(|(i, r)| (i + 1, r)).collect(), str::to_owned)
            .await?
    } else {
        upload_certificates(&st, &u, body).await?
    };
    match result {
        Ok(done) => Ok((StatusCode::CREATED, Json(done)).into_response()),
        Err(errors) => Ok(rows_refused(&errors)),
    }
}

/// An upload's outcome: what landed, or every wrong row.
async fn upload(
    st: &AppState,
    u: &User,
    reg: Register,
    file_name: &str,
    bytes: axum::body::Bytes,
) -> Result<Result<Imported, Vec<RowError>>, AppError> {
    let (rows, errors) = tokio::task::spawn_blocking(move || registers::parse(reg, &bytes))
        .await
        .map_err(|e| AppError::Internal(format!("register parser: {e}")))?
        .map_err(|e| AppError::field("file", e))?;
    Ok(registers::import(&st.db, Some(u.user_id), reg, file_name, rows, errors).await?)
}

/// The file's name, for the record.
#[derive(Deserialize)]
pub struct ImportQuery {
    file_name: Option<String>,
}

/// Import a register (`.xlsx` or CSV body, first row the template's header): all rows land or
/// none; a refusal lists every wrong row (row, column, reason). People the registry does not
/// hold are counted and left out.
#[utoipa::path(post, path = "/api/v1/registers/{kind}", params(("kind" = String, Path, description = "poverty_roster, civil_affairs, social_insurance, employment, market_regulation")),
    request_body(content = Vec<u8>, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    responses((status = 201, body = Imported), (status = 422, body = crate::error::ErrorBody)))]
pub async fn import_api(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Path(kind): Path<String>,
    Query(q): Query<ImportQuery>,
    body: Bytes,
) -> Result<Response, AppError> {
    if kind == CERTIFICATES || kind == GRANTED || kind == STATISTICS {
        let result = if kind == GRANTED {
            upload_granted(&st, &u, body).await?.map(|n| serde_json::json!({"recorded": n}))
        } else if kind == STATISTICS {
            upload_statistics(&st, &u, body).await?.map(|n| serde_json::json!({"recorded": n}))
        } else {
            upload_certificates(&st, &u, body)
                .await?
                .map(|d| serde_json::json!({"recorded": d.recorded, "claims": d.claims}))
        };
        return Ok(match result {
            Ok(done) => (StatusCode::CREATED, Json(done)).into_response(),
            Err(errors) => rows_refused(&errors),
        });
    }
    let reg = register(&kind)?;
    let name = q.file_name.unwrap_or_else(|| format!("{}.xlsx", reg.code()));
    match upload(&st, &u, reg, &name, body).await? {
        Ok(done) => Ok((StatusCode::CREATED, Json(done)).into_response()),
        Err(errors) => {
            let fields: serde_json::Map<String, serde_json::Value> = errors
                .iter()
                .map(|e| (format!("row {} {}", e.row, e.column), serde_json::Value::String(e.reason.clone())))
                .collect();
            let body = serde_json::json!({
                "error": {"code": "invalid", "message": format!("名单有{}处错误，未导入 / {} errors: nothing imported", errors.len(), errors.len()), "fields": fields},
                "errors": errors,
            });
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response())
        }
    }
}

async fn registers_page(st: &AppState, auth: &Auth, u: &User, error: Option<(String, Vec<RowError>)>) -> PageResult {
    let imports = registers::list(&st.db, 50).await.page(auth)?;
    let mut kinds: Vec<serde_json::Value> = Register::ALL
        .iter()
        .map(|r| serde_json::json!({"code": r.code(), "zh": r.zh(), "en": r.en(), "headers": r.headers()}))
        .collect();
    kinds.push(serde_json::json!({"code": GRANTED, "zh": "历史补贴发放记录（系统上线前）",
        "en": "subsidies granted before the system", "headers": jineng_store::claims::past::SHEET_HEADERS}));
    kinds.push(serde_json::json!({"code": CERTIFICATES, "zh": "职业技能评价证书登记（系统外评价）",
        "en": "certificates from the appraisal register", "headers": jineng_store::assessment::REGISTER_HEADERS}));
    kinds.push(serde_json::json!({"code": STATISTICS, "zh": "技能人才统计数据（统计部门，T2、T3）",
        "en": "the statistics bureau's figures for T2 and T3", "headers": jineng_store::labour::SHEET_HEADERS}));
    let names: Vec<(&str, &str)> = Register::ALL.iter().map(|r| (r.code(), r.zh())).collect();
    let imports: Vec<serde_json::Value> = imports
        .iter()
        .map(|i| serde_json::json!({"id": i.fact_import_id, "kind": i.kind, "file_name": i.file_name, "rows": i.row_count,
            "by": i.imported_by, "at": (i.imported_at + chrono::Duration::hours(8)).format("%Y-%m-%d %H:%M").to_string()}))
        .collect();
    let (error_kind, errors) = error.unzip();
    render_page(
        st,
        auth,
        "registers.html",
        context! { kinds => Value::from_serialize(&kinds), names => names, imports => Value::from_serialize(&imports),
        can_import => u.role == jineng_domain::Role::CityAdmin,
        error_kind => error_kind, errors => Value::from_serialize(errors.unwrap_or_default()) },
    )
}

/// `GET /registers`
pub async fn page(State(st): State<AppState>, auth: Auth, CurrentUser(u): CurrentUser) -> PageResult {
    registers_page(&st, &auth, &u, None).await
}

/// `POST /registers/{kind}`: the upload form (multipart, with the CSRF token).
pub async fn import_form(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    Path(kind): Path<String>,
    mut form: Multipart,
) -> Result<Response, PageError> {
    let reg = if kind == CERTIFICATES || kind == GRANTED || kind == STATISTICS {
        None
    } else {
        Some(register(&kind).map_err(|e| PageError::new(e, auth.clone()))?)
    };
    let mut csrf = None;
    let mut file = None;
    let mut name = String::new();
    while let Ok(Some(field)) = form.next_field().await {
        match field.name() {
            Some("csrf") => csrf = field.text().await.ok(),
            Some("file") => {
                name = field.file_name().unwrap_or_default().to_owned();
                file = field.bytes().await.ok();
            }
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
        None => Err(AppError::field("file", "请选择要上传的 .xlsx 或 CSV 文件 / choose an .xlsx or CSV file")),
        Some(file) => {
            // What landed, in words, or every wrong row; the title names the file in a refusal.
            let (title, landed) = match reg {
                None if kind == STATISTICS => (
                    "技能人才统计数据",
                    upload_statistics(&st, &u, file.clone()).await.map(|r| {
                        r.map(|n| format!("已导入 {n} 行统计数据 / {n} rows of statistics recorded"))
                    }),
                ),
                None if kind == GRANTED => (
                    "历史补贴发放记录",
                    upload_granted(&st, &u, file.clone()).await.map(|r| {
                        r.map(|n| format!("已登记 {n} 条历史补贴发放记录 / {n} subsidies granted before the system recorded"))
                    }),
                ),
                None => (
                    "职业技能评价证书登记",
                    upload_certificates(&st, &u, file.clone()).await.map(|r| {
                        r.map(|d| {
                            format!(
                                "已登记 {r} 张证书，带来 {c} 项补贴申请 / {r} certificates recorded, {c} claims decided",
                                r = d.recorded,
                                c = d.claims
                            )
                        })
                    }),
                ),
                Some(reg) => (
                    reg.zh(),
                    upload(&st, &u, reg, &name, file.clone()).await.map(|r| {
                        r.map(|done| {
                            format!(
                                "第 {id} 次导入完成：记录 {r} 行，{s} 人未实名登记未导入 / import {id} done: {r} rows recorded, {s} not in the registry",
                                id = done.fact_import_id,
                                r = done.recorded,
                                s = done.not_registered
                            )
                        })
                    }),
                ),
            };
            match landed {
                Ok(Ok(msg)) => Ok(Done::new("/registers", msg).into_response()),
                Ok(Err(errors)) => {
                    let msg = format!(
                        "{title}有{}处错误，未导入任何一行 / {} errors: nothing was imported",
                        errors.len(),
                        errors.len()
                    );
                    let page = registers_page(&st, &auth, &u, Some((msg, errors))).await?;
                    return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
                }
                Err(e) => Err(e),
            }
        }
    };
    form_answer(
        auth,
        result,
        |e, auth| async move { registers_page(&st, &auth, &u, Some((e.message(), Vec::new()))).await },
    )
    .await
}
