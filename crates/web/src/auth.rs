//! Who is calling and what a route lets them do: the caller ([`Auth`], [`CurrentUser`]), the
//! access rule of a route ([`Access`]) and a route registered together with its rule
//! ([`Route`]). The middleware that applies the rules is the guard module's.

use crate::error::AppError;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::handler::Handler;
use axum::http::{header, request::Parts, HeaderMap, Method};
use axum::routing::MethodRouter;
use jineng_domain::Role;
use jineng_domain::Role::*;
use jineng_store::users::User;

/// Name of the session cookie.
pub const COOKIE: &str = "jn_session";

/// Who is calling, put into request extensions by the guard.
#[derive(Clone, Debug, Default)]
pub struct Auth {
    /// The user, if signed in.
    pub user: Option<User>,
    /// CSRF token of the session (cookie sign-in only).
    pub csrf: Option<String>,
    /// The path asked for (the menu marks the page it is on).
    pub path: String,
    /// The confirmation of what the caller just did, carried across the redirect (shown once).
    pub flash: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for Auth {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        Ok(parts.extensions.get::<Auth>().cloned().unwrap_or_default())
    }
}

/// The signed-in user (the route's rule has already required one).
pub struct CurrentUser(pub User);

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        parts.extensions.get::<Auth>().and_then(|a| a.user.clone()).map(CurrentUser).ok_or(AppError::Unauthorized)
    }
}

/// The caller's network address: the peer of the connection (`local` when the app is driven
/// in-process), or, when the peer is a trusted reverse proxy, the nearest address in
/// `X-Forwarded-For` that is not one. Throttles count per address; audit entries record it.
#[derive(Clone, Debug)]
pub struct ClientAddr(pub String);

impl ClientAddr {
    /// The address of a request, given the proxies whose `X-Forwarded-For` is believed.
    pub fn of(parts_headers: &HeaderMap, extensions: &axum::http::Extensions, trusted: &[std::net::IpAddr]) -> Self {
        let Some(peer) = extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip()) else {
            return ClientAddr("local".to_owned());
        };
        if !trusted.contains(&peer) {
            return ClientAddr(peer.to_string());
        }
        // Rightmost first: each trusted proxy appends the address it saw.
        let forwarded = parts_headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect::<Vec<_>>();
        let client =
            forwarded.iter().rev().filter_map(|a| a.parse::<std::net::IpAddr>().ok()).find(|ip| !trusted.contains(ip));
        ClientAddr(client.unwrap_or(peer).to_string())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        // Worked out once per request by the guard's `client_address` layer.
        Ok(parts
            .extensions
            .get::<ClientAddr>()
            .cloned()
            .unwrap_or_else(|| ClientAddr::of(&parts.headers, &parts.extensions, &[])))
    }
}

/// The session token in the request's cookies.
pub fn cookie_token(headers: &HeaderMap) -> Option<String> {
    cookie(headers, COOKIE)
}

/// A cookie of the request by name.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|c| {
        let (k, v) = c.trim().split_once('=')?;
        (k == name).then(|| v.to_owned())
    })
}

/// Who may use a route. Scope (which county, provider, person…) is then enforced by the
/// handler's queries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not.
    Public,
    /// Any signed-in user.
    SignedIn,
    /// Signed-in users with one of these roles.
    Roles(&'static [Role]),
}

impl Access {
    /// Whether a user with `role` (or nobody) passes.
    pub fn allows(self, role: Option<Role>) -> bool {
        match (self, role) {
            (Access::Public, _) => true,
            (_, None) => false,
            (Access::SignedIn, Some(_)) => true,
            (Access::Roles(rs), Some(r)) => rs.contains(&r),
        }
    }
}

/// Staff of the bureaus.
pub const STAFF: &[Role] = &[CityAdmin, Department, County, Finance, Auditor];
/// Who sees plan progress.
pub const PLAN_VIEWERS: &[Role] = &[CityAdmin, Department, County, Finance, Auditor, AssessmentBody, Provider];
/// Who opens the plan at a glance on a page of its own (`/plan`): the roles whose home is their
/// work queue and who see plan progress, except county offices (their own county only).
pub const PLAN_PAGE: &[Role] = &[CityAdmin, Department, Finance, Auditor, AssessmentBody, Provider];
/// Who reads the registry of people (each in their scope).
pub const PEOPLE_READERS: &[Role] = &[CityAdmin, County, Provider, Auditor, Worker];
/// Who registers people and employers.
pub const PEOPLE_WRITERS: &[Role] = &[CityAdmin, County];
/// Who reads organisations.
pub const ORG_READERS: &[Role] = &[CityAdmin, Department, County, Finance, Auditor];
/// Who reads classes.
pub const CLASS_READERS: &[Role] = &[CityAdmin, Department, County, Provider, Auditor, AssessmentBody];
/// Who acts on classes.
pub const CLASS_ACTORS: &[Role] = &[CityAdmin, County, Provider];
/// Who reads claims (each in their scope).
pub const CLAIM_READERS: &[Role] = &[CityAdmin, County, Finance, Auditor, Worker, Employer, Provider];
/// Who files claims on the claim form.
pub const CLAIM_FILERS: &[Role] = &[Employer, Provider];
/// Who files claims through the API: employers and providers, and workers for themselves
/// (training and skill-upgrade subsidies for their certificates, living allowances).
pub const API_CLAIM_FILERS: &[Role] = &[Employer, Provider, Worker];
/// Who reviews claims.
pub const REVIEWERS: &[Role] = &[CityAdmin, County];
/// Who reads funds and payments.
pub const MONEY_READERS: &[Role] = &[CityAdmin, Finance, Auditor];
/// Who decides cases on the explanation page and the API.
pub const DECIDERS: &[Role] = &[CityAdmin, County, Finance, Auditor];
/// Who reads the audit log.
pub const AUDIT_READERS: &[Role] = &[CityAdmin, Auditor];
/// Who reads fraud findings: the city admin and auditors (all), a county office (its county's).
pub const FINDING_READERS: &[Role] = &[CityAdmin, Auditor, County];

/// Who reads payees' bank accounts: the payees (their own) and the offices (in their scope);
/// the menu and the module share it.
pub const BANK_ACCOUNT_READERS: &[Role] = &[CityAdmin, County, Finance, Auditor, Provider, Employer, Worker];
/// The city admin alone.
pub const ADMIN: &[Role] = &[CityAdmin];
/// Finance alone.
pub const FINANCE: &[Role] = &[Finance];
/// Providers alone.
pub const PROVIDER: &[Role] = &[Provider];
/// Assessment bodies alone.
pub const BODY: &[Role] = &[AssessmentBody];

/// The largest body a route accepts unless it says otherwise (forms and JSON).
pub const BODY_DEFAULT: usize = 256 * 1024;
/// The largest body of a route anyone may call without signing in.
pub const BODY_PUBLIC: usize = 16 * 1024;
/// The largest upload (a roster of 100,000 rows is about 4 MB of .xlsx).
pub const BODY_UPLOAD: usize = 32 * 1024 * 1024;

/// A route: method, path pattern, access rule and handler. A route cannot be registered
/// without a rule; each resource module lists its own in `routes()`.
pub struct Route {
    pub method: Method,
    /// Path pattern as registered.
    pub path: &'static str,
    /// Who may use it.
    pub access: Access,
    /// The handler.
    pub handler: MethodRouter<AppState>,
}

impl Route {
    /// A GET route.
    pub fn get<H: Handler<T, AppState>, T: 'static>(path: &'static str, access: Access, h: H) -> Self {
        Route { method: Method::GET, path, access, handler: axum::routing::get(h) }
    }

    /// A POST route.
    pub fn post<H: Handler<T, AppState>, T: 'static>(path: &'static str, access: Access, h: H) -> Self {
        Route { method: Method::POST, path, access, handler: axum::routing::post(h) }
    }

    /// Accepts bodies of at most `bytes` on this route (the default is [`BODY_DEFAULT`]).
    pub fn limit(mut self, bytes: usize) -> Self {
        self.handler = self.handler.layer(axum::extract::DefaultBodyLimit::max(bytes));
        self
    }

    /// A DELETE route.
    pub fn delete<H: Handler<T, AppState>, T: 'static>(path: &'static str, access: Access, h: H) -> Self {
        Route { method: Method::DELETE, path, access, handler: axum::routing::delete(h) }
    }

    /// A PUT route.
    pub fn put<H: Handler<T, AppState>, T: 'static>(path: &'static str, access: Access, h: H) -> Self {
        Route { method: Method::PUT, path, access, handler: axum::routing::put(h) }
    }
}
