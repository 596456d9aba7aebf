//! What the server itself answers: `/healthz`, the assets compiled into the binary, and the
//! 404 of a path no route serves.

use crate::auth::{cookie_token, Access, Auth, Route};
use crate::error::AppError;
use crate::render::not_found_page;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

/// Routes of this module.
pub fn routes() -> Vec<Route> {
    vec![Route::get("/healthz", Access::Public, healthz), Route::get("/static/{file}", Access::Public, static_file)]
}

/// `GET /healthz`
pub async fn healthz(State(st): State<AppState>) -> Response {
    match jineng_store::plan::counties(&st.db).await {
        Ok(_) => (StatusCode::OK, "ok").into_response(),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response(),
    }
}

const CHART_JS: &[u8] = include_bytes!("../assets/chart-4.6.1.umd.min.js");

const APP_CSS: &[u8] = include_bytes!("../assets/app.css");

const APP_JS: &[u8] = include_bytes!("../assets/app.js");

const FAVICON: &[u8] = include_bytes!("../assets/favicon.svg");

/// `GET /static/{file}`: assets compiled into the binary.
pub async fn static_file(Path(file): Path<String>) -> Response {
    let (body, ctype) = match file.as_str() {
        "chart.js" => (CHART_JS, "text/javascript; charset=utf-8"),
        "app.css" => (APP_CSS, "text/css; charset=utf-8"),
        "app.js" => (APP_JS, "text/javascript; charset=utf-8"),
        "favicon.svg" => (FAVICON, "image/svg+xml"),
        _ => return (StatusCode::NOT_FOUND, "not found").into_response(),
    };
    ([(header::CONTENT_TYPE, ctype), (header::CACHE_CONTROL, "public, max-age=86400")], body).into_response()
}

/// A path no route serves: 404 in the error envelope under `/api/`, else the 404 page in
/// Chinese and English, with the caller's menu when they are signed in.
pub async fn not_found(State(st): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    if uri.path().starts_with("/api/") {
        return AppError::NotFound.into_response();
    }
    let mut auth = Auth { path: uri.path().to_owned(), ..Auth::default() };
    if let Some(token) = cookie_token(&headers) {
        if let Ok(Some((user, csrf))) = jineng_store::users::session_user(&st.db, &token).await {
            auth.user = Some(user);
            auth.csrf = Some(csrf);
        }
    }
    (StatusCode::NOT_FOUND, not_found_page(&auth, uri.path())).into_response()
}
