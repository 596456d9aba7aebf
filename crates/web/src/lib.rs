//! The jineng HTTP server: Chinese-first pages, a JSON API under `/api/v1` described by an
//! OpenAPI document, sign-in with roles and scopes enforced on the server for every route.
//!
//! One module per resource, each owning its pages, its API handlers and its routes with their
//! access rules (`routes()`); plumbing below them imports nothing above it:
//! `state` → `auth` → `render` → `guard`, with `cache`, `error`, `templates`, `throttle`, `common`,
//! `xlsx` and `views` beside them. `routes` and `openapi` at the top assemble the modules.

mod templates;
pub mod throttle;

pub mod auth;
pub mod cache;
pub mod common;
pub mod error;
pub mod guard;
pub mod render;
pub mod state;
pub mod views;
pub mod xlsx;

pub mod accounts;
pub mod assets;
pub mod audit;
pub mod bank_accounts;
pub mod budget;
pub mod catalog;
pub mod claims;
pub mod classes;
pub mod facilities;
pub mod findings;
pub mod notice;
pub mod orgs;
pub mod payments;
pub mod people;
pub mod plan;
pub mod policy;
pub mod public;
pub mod registers;
pub mod reports;
pub mod session;

pub mod openapi;
pub mod routes;

pub use auth::Access;
pub use error::AppError;
pub use routes::RouteRule;
pub use state::{AppState, Clock};

use axum::Router;

/// The whole application: every route with its access rule.
pub fn app(state: AppState) -> Router {
    routes::build(state)
}

/// Serves until Ctrl-C.
pub async fn serve(state: AppState, addr: std::net::SocketAddr) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    axum::serve(listener, app(state).into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
}
