//! Every route with its access rule, assembled from the resource modules (each lists its own
//! routes with their rules). A route cannot be registered without a rule, the guard enforces
//! the rule for every request, and the test `every_route_answers_every_role_by_its_rule` walks
//! this table with every role.

use crate::auth::{Access, Route, BODY_DEFAULT, BODY_UPLOAD};
use crate::guard::{authorize, envelope, plain_text, AuthState};
use crate::state::AppState;
use crate::{
    accounts, assets, audit, bank_accounts, budget, catalog, claims, classes, facilities, findings, notice, openapi,
    orgs, payments, people, plan, policy, public, registers, reports, session,
};
use axum::http::{header, HeaderName, HeaderValue, Method, Request};
use axum::middleware::{from_fn, from_fn_with_state};
use axum::Router;
use std::collections::HashMap;
use std::sync::Arc;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

/// Where pages may load from: this server only (charts and styles are compiled in); no plugin,
/// no framing, forms post only here. No inline script and no inline style (not even a `style`
/// attribute: the templates use the stylesheet's classes); everything a page shows is auto-escaped.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
                   img-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/// One row of the route table.
#[derive(Debug, Clone)]
pub struct RouteRule {
    pub method: Method,
    /// Path pattern as registered.
    pub path: &'static str,
    pub access: Access,
}

/// Every module's routes, with the module's name (the table of `docs/architecture.md` is
/// checked against it).
pub fn by_module() -> Vec<(&'static str, Vec<Route>)> {
    vec![
        ("assets", assets::routes()),
        ("session", session::routes()),
        ("plan", plan::routes()),
        ("people", people::routes()),
        ("orgs", orgs::routes()),
        ("classes", classes::routes()),
        ("claims", claims::routes()),
        ("notice", notice::routes()),
        ("payments", payments::routes()),
        ("budget", budget::routes()),
        ("public", public::routes()),
        ("catalog", catalog::routes()),
        ("policy", policy::routes()),
        ("audit", audit::routes()),
        ("registers", registers::routes()),
        ("findings", findings::routes()),
        ("reports", reports::routes()),
        ("accounts", accounts::routes()),
        ("facilities", facilities::routes()),
        ("bank_accounts", bank_accounts::routes()),
        ("openapi", openapi::routes()),
    ]
}

fn table() -> Vec<Route> {
    by_module().into_iter().flat_map(|(_, routes)| routes).collect()
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
    let hsts = state.secure_cookies;
    router
        // Inner first: the access rule, then the text check, then the handler.
        .route_layer(from_fn(plain_text))
        .route_layer(from_fn_with_state(auth_state, authorize))
        .route_layer(from_fn_with_state(state.clone(), crate::guard::client_address))
        .fallback(assets::not_found)
        .layer(axum::extract::DefaultBodyLimit::max(BODY_DEFAULT))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(BODY_UPLOAD))
        .layer(from_fn(envelope))
        // The fastest level: a page is compressed for each request, and level 1 costs a few
        // times less CPU than the default for a body some 15 % larger.
        .layer(tower_http::compression::CompressionLayer::new().quality(tower_http::CompressionLevel::Fastest))
        .layer(tower_http::set_header::SetResponseHeaderLayer::if_not_present(
            axum::http::header::X_CONTENT_TYPE_OPTIONS,
            axum::http::HeaderValue::from_static("nosniff"),
        ))
        .layer(tower_http::set_header::SetResponseHeaderLayer::if_not_present(
            axum::http::header::X_FRAME_OPTIONS,
            axum::http::HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP)))
        .layer(SetResponseHeaderLayer::if_not_present(header::REFERRER_POLICY, HeaderValue::from_static("same-origin")))
        // Pages and API answers carry personal data: no browser or proxy keeps them. Assets
        // say otherwise themselves.
        .layer(SetResponseHeaderLayer::if_not_present(header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            // Only behind HTTPS (the cookies are marked Secure then).
            hsts.then(|| HeaderValue::from_static("max-age=31536000")),
        ))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("request", request.id = %id, method = %req.method(), path = %req.uri().path())
        }))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .with_state(state)
}
