//! The jineng HTTP server: Chinese-first pages, a JSON API under `/api/v1` described by an
//! OpenAPI document, sign-in with roles and scopes enforced on the server for every route.

pub mod api;
pub mod auth;
pub mod catalog;
pub mod claims;
pub mod classes;
mod error;
pub mod export;
pub mod pages;
pub mod payments;
pub mod policy;
pub mod roster;
pub mod routes;
mod templates;
pub mod throttle;
pub mod views;

pub use error::AppError;
pub use routes::{Access, RouteRule};

use axum::Router;
use jineng_store::Db;
use std::sync::Arc;

/// Shared state of the server.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub db: Db,
    /// Compiled templates.
    pub templates: Arc<minijinja::Environment<'static>>,
    /// Whether cookies are marked `Secure` (behind HTTPS).
    pub secure_cookies: bool,
    /// Wrong-password counts for sign-in throttling.
    pub throttle: Arc<throttle::Throttle>,
}

impl AppState {
    /// State for a database.
    pub fn new(db: Db) -> Self {
        Self { db, templates: Arc::new(templates::environment()), secure_cookies: false, throttle: Arc::default() }
    }
}

/// The whole application: every route with its access rule.
pub fn app(state: AppState) -> Router {
    routes::build(state)
}

/// Serves until Ctrl-C.
pub async fn serve(state: AppState, addr: std::net::SocketAddr) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    axum::serve(listener, app(state))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
}
