//! What the server itself answers: `/healthz` and the assets compiled into the binary.

use crate::auth::{Access, Route};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
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

/// `GET /static/{file}`: assets compiled into the binary.
pub async fn static_file(Path(file): Path<String>) -> Response {
    let (body, ctype) = match file.as_str() {
        "chart.js" => (CHART_JS, "text/javascript; charset=utf-8"),
        "app.css" => (APP_CSS, "text/css; charset=utf-8"),
        _ => return (StatusCode::NOT_FOUND, "not found").into_response(),
    };
    ([(header::CONTENT_TYPE, ctype), (header::CACHE_CONTROL, "public, max-age=86400")], body).into_response()
}
