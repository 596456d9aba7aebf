//! Every route with its access rule, assembled from the resource modules (each lists its own
//! routes with their rules). A route cannot be registered without a rule, the guard enforces
//! the rule for every request, and the test `every_route_answers_every_role_by_its_rule` walks
//! this table with every role.

use crate::auth::{Access, Route};
use crate::guard::{authorize, envelope, AuthState};
use crate::state::AppState;
use crate::{assets, audit, catalog, claims, classes, notice, openapi, orgs, payments, people, plan, policy, session};
use axum::http::{HeaderName, Method, Request};
use axum::middleware::{from_fn, from_fn_with_state};
use axum::Router;
use std::collections::HashMap;
use std::sync::Arc;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

/// One row of the route table.
#[derive(Debug, Clone)]
pub struct RouteRule {
    pub method: Method,
    /// Path pattern as registered.
    pub path: &'static str,
    pub access: Access,
}

/// Largest request body accepted (a roster of 100,000 rows is about 4 MB of .xlsx).
pub const BODY_LIMIT: usize = 32 * 1024 * 1024;

fn table() -> Vec<Route> {
    [
        assets::routes(),
        session::routes(),
        plan::routes(),
        people::routes(),
        orgs::routes(),
        classes::routes(),
        claims::routes(),
        notice::routes(),
        payments::routes(),
        catalog::routes(),
        policy::routes(),
        audit::routes(),
        openapi::routes(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The access rules of every route (for tests and documentation).
pub fn rules() -> Vec<RouteRule> {
    table().into_iter().map(|r| RouteRule { method: r.method, path: r.path, access: r.access }).collect()
}

/// Builds the router: each route is registered together with its rule; every response carries
/// an `x-request-id` (the caller's, or a new one), which every log line of the request names.
pub fn build(state: AppState) -> Router {
    let mut router: Router<AppState> = Router::new();
    let mut rules = HashMap::new();
    for r in table() {
        assert!(rules.insert((r.method, r.path.to_owned()), r.access).is_none(), "route {} twice", r.path);
        router = router.route(r.path, r.handler);
    }
    let auth_state = AuthState { app: state.clone(), rules: Arc::new(rules) };
    let request_id = HeaderName::from_static("x-request-id");
    router
        .route_layer(from_fn_with_state(auth_state, authorize))
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(from_fn(envelope))
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(tower_http::set_header::SetResponseHeaderLayer::if_not_present(
            axum::http::header::X_CONTENT_TYPE_OPTIONS,
            axum::http::HeaderValue::from_static("nosniff"),
        ))
        .layer(tower_http::set_header::SetResponseHeaderLayer::if_not_present(
            axum::http::header::X_FRAME_OPTIONS,
            axum::http::HeaderValue::from_static("DENY"),
        ))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("request", request.id = %id, method = %req.method(), path = %req.uri().path())
        }))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .with_state(state)
}
