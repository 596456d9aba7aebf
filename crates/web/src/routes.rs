//! Every route with its access rule, in one table. A route cannot be registered without a
//! rule, the `authorize` middleware enforces the rule for every request, and the test
//! `every_route_answers_every_role_by_its_rule` walks this table with every role.

use crate::auth::{self, authorize, AuthState};
use crate::{api, catalog, claims, classes, export, pages, payments, policy, roster, AppState};
use axum::http::Method;
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post, put, MethodRouter};
use axum::Router;
use jineng_store::users::Role;
use std::collections::HashMap;
use std::sync::Arc;
use Role::*;

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

/// One row of the route table.
#[derive(Debug, Clone)]
pub struct RouteRule {
    /// Method.
    pub method: Method,
    /// Path pattern as registered.
    pub path: &'static str,
    /// Rule.
    pub access: Access,
}

const STAFF: &[Role] = &[CityAdmin, Department, County, Finance, Auditor];
const PLAN_VIEWERS: &[Role] = &[CityAdmin, Department, County, Finance, Auditor, AssessmentBody, Provider];
const PEOPLE_READERS: &[Role] = &[CityAdmin, County, Provider, Auditor, Worker];
const PEOPLE_WRITERS: &[Role] = &[CityAdmin, County];
const ORG_READERS: &[Role] = &[CityAdmin, Department, County, Finance, Auditor];
const CLASS_READERS: &[Role] = &[CityAdmin, Department, County, Provider, Auditor, AssessmentBody];
const BODY: &[Role] = &[AssessmentBody];
const CLAIM_READERS: &[Role] = &[CityAdmin, County, Finance, Auditor, Worker, Employer, Provider];
const CLAIM_FILERS: &[Role] = &[Employer, Provider];
const REVIEWERS: &[Role] = &[CityAdmin, County];
const MONEY_READERS: &[Role] = &[CityAdmin, Finance, Auditor];
const FINANCE: &[Role] = &[Finance];
const ADMIN: &[Role] = &[CityAdmin];
const PROVIDER: &[Role] = &[Provider];
const CLASS_ACTORS: &[Role] = &[CityAdmin, County, Provider];
const DECIDERS: &[Role] = &[CityAdmin, County, Finance, Auditor];

fn table() -> Vec<(Method, &'static str, Access, MethodRouter<AppState>)> {
    use Access::*;
    let g = Method::GET;
    let p = Method::POST;
    vec![
        (g.clone(), "/healthz", Public, get(pages::healthz)),
        (g.clone(), "/static/{file}", Public, get(pages::static_file)),
        (g.clone(), "/login", Public, get(auth::login_page)),
        (p.clone(), "/login", Public, post(auth::login)),
        (p.clone(), "/logout", SignedIn, post(auth::logout)),
        (g.clone(), "/", SignedIn, get(pages::home)),
        (g.clone(), "/programs/{code}", Roles(STAFF), get(pages::program)),
        (p.clone(), "/programs/{code}/target", Roles(ADMIN), post(pages::set_target)),
        (g.clone(), "/counties/{code}", Roles(STAFF), get(pages::county)),
        (g.clone(), "/people", Roles(PEOPLE_READERS), get(pages::people)),
        (p.clone(), "/people", Roles(PEOPLE_WRITERS), post(pages::create_person)),
        (g.clone(), "/people/new", Roles(PEOPLE_WRITERS), get(pages::new_person)),
        (g.clone(), "/people/{id}", Roles(PEOPLE_READERS), get(pages::person)),
        (p.clone(), "/people/{id}", Roles(PEOPLE_WRITERS), post(pages::update_person)),
        (g.clone(), "/people/{id}/edit", Roles(PEOPLE_WRITERS), get(pages::edit_person)),
        (g.clone(), "/people/{id}/record.xlsx", Roles(PEOPLE_READERS), get(export::record)),
        (g.clone(), "/orgs/{kind}", Roles(ORG_READERS), get(pages::orgs)),
        (p.clone(), "/orgs/{kind}", Roles(PEOPLE_WRITERS), post(pages::create_org)),
        (g.clone(), "/orgs/{kind}/new", Roles(PEOPLE_WRITERS), get(pages::new_org)),
        (g.clone(), "/orgs/{kind}/{id}", Roles(ORG_READERS), get(pages::org)),
        (p.clone(), "/orgs/{kind}/{id}", Roles(PEOPLE_WRITERS), post(pages::update_org)),
        (g.clone(), "/orgs/{kind}/{id}/edit", Roles(PEOPLE_WRITERS), get(pages::edit_org)),
        (g.clone(), "/classes", Roles(CLASS_READERS), get(pages::classes)),
        (g.clone(), "/classes.xlsx", Roles(CLASS_READERS), get(export::classes)),
        (g.clone(), "/claims", Roles(CLAIM_READERS), get(claims::list_page)),
        (p.clone(), "/claims", Roles(CLAIM_FILERS), post(claims::file_form)),
        (g.clone(), "/claims/new", Roles(CLAIM_FILERS), get(claims::new_page)),
        (g.clone(), "/claims.xlsx", Roles(CLAIM_READERS), get(export::claims)),
        (p.clone(), "/claims/publish-all", Roles(REVIEWERS), post(claims::publish_all_form)),
        (g.clone(), "/claims/{id}", Roles(CLAIM_READERS), get(claims::detail_page)),
        (p.clone(), "/claims/{id}/actions", Roles(REVIEWERS), post(claims::action_form)),
        (p.clone(), "/claims/{id}/objections", Roles(REVIEWERS), post(claims::resolve_form)),
        (g.clone(), "/notice", Public, get(claims::notice_page)),
        (p.clone(), "/notice/{id}/objections", Public, post(claims::object_form)),
        (g.clone(), "/payments", Roles(MONEY_READERS), get(payments::page_get)),
        (p.clone(), "/payments", Roles(FINANCE), post(payments::page_post)),
        (g.clone(), "/payments.xlsx", Roles(MONEY_READERS), get(export::payments)),
        (g.clone(), "/audit", Roles(&[CityAdmin, Auditor]), get(pages::audit)),
        (p.clone(), "/classes", Roles(PROVIDER), post(classes::create_class)),
        (g.clone(), "/classes/new", Roles(PROVIDER), get(classes::new_class)),
        (p.clone(), "/classes/{id}/actions", Roles(CLASS_ACTORS), post(classes::class_action_form)),
        (p.clone(), "/classes/{id}/roster", Roles(PROVIDER), post(roster::import_page)),
        (p.clone(), "/classes/{id}/attendance", Roles(PROVIDER), post(classes::check_in_form)),
        (p.clone(), "/classes/{id}/assessments", Roles(BODY), post(classes::assess_form)),
        (g.clone(), "/classes/{id}/roster-imports/{import}/errors.xlsx", Roles(CLASS_READERS), get(roster::report)),
        (g.clone(), "/roster-template.xlsx", Roles(CLASS_ACTORS), get(roster::template)),
        (g.clone(), "/classes/{id}", Roles(CLASS_READERS), get(pages::class)),
        (g.clone(), "/catalog", Public, get(catalog::catalog_page)),
        (g.clone(), "/catalog/manage", Roles(ADMIN), get(catalog::manage_get)),
        (p.clone(), "/catalog/manage", Roles(ADMIN), post(catalog::manage_post)),
        (g.clone(), "/policy/parameters", Roles(STAFF), get(policy::parameters_get)),
        (p.clone(), "/policy/parameters", Roles(ADMIN), post(policy::parameters_post)),
        (g.clone(), "/policy/explain", Roles(DECIDERS), get(policy::explain_get)),
        (p.clone(), "/policy/explain", Roles(DECIDERS), post(policy::explain_post)),
        // JSON API
        (g.clone(), "/api/openapi.json", Public, get(api::openapi_json)),
        (p.clone(), "/api/v1/tokens", Public, post(api::create_token)),
        (g.clone(), "/api/v1/me", SignedIn, get(api::me)),
        (g.clone(), "/api/v1/plan", Roles(PLAN_VIEWERS), get(api::plan_overview)),
        (g.clone(), "/api/v1/programs/{code}", Roles(STAFF), get(api::program_detail)),
        (Method::PUT, "/api/v1/programs/{code}/target", Roles(ADMIN), put(api::set_target)),
        (g.clone(), "/api/v1/counties/{code}", Roles(STAFF), get(api::county_detail)),
        (g.clone(), "/api/v1/people", Roles(PEOPLE_READERS), get(api::list_people)),
        (p.clone(), "/api/v1/people", Roles(PEOPLE_WRITERS), post(api::create_person)),
        (g.clone(), "/api/v1/people/{id}", Roles(PEOPLE_READERS), get(api::get_person)),
        (Method::PUT, "/api/v1/people/{id}", Roles(PEOPLE_WRITERS), put(api::update_person)),
        (g.clone(), "/api/v1/orgs/{kind}", Roles(ORG_READERS), get(api::list_orgs)),
        (p.clone(), "/api/v1/orgs/{kind}", Roles(PEOPLE_WRITERS), post(api::create_org)),
        (g.clone(), "/api/v1/orgs/{kind}/{id}", Roles(ORG_READERS), get(api::get_org)),
        (Method::PUT, "/api/v1/orgs/{kind}/{id}", Roles(PEOPLE_WRITERS), put(api::update_org)),
        (g.clone(), "/api/v1/classes", Roles(CLASS_READERS), get(api::list_classes)),
        (g.clone(), "/api/v1/classes/{id}", Roles(CLASS_READERS), get(api::get_class)),
        (p.clone(), "/api/v1/classes", Roles(PROVIDER), post(classes::apply)),
        (p.clone(), "/api/v1/classes/{id}/actions", Roles(CLASS_ACTORS), post(classes::class_action)),
        (g.clone(), "/api/v1/classes/{id}/events", Roles(CLASS_READERS), get(classes::class_events)),
        (p.clone(), "/api/v1/classes/{id}/roster", Roles(PROVIDER), post(roster::import_api)),
        (p.clone(), "/api/v1/classes/{id}/attendance", Roles(PROVIDER), post(classes::check_in_api)),
        (g.clone(), "/api/v1/classes/{id}/attendance", Roles(CLASS_READERS), get(classes::attendance_api)),
        (p.clone(), "/api/v1/classes/{id}/assessments", Roles(BODY), post(classes::assess_api)),
        (p.clone(), "/api/v1/adjudicate", Roles(DECIDERS), post(policy::adjudicate)),
        (g.clone(), "/api/v1/claims", Roles(CLAIM_READERS), get(claims::list_api)),
        (p.clone(), "/api/v1/claims", Roles(CLAIM_FILERS), post(claims::file_api)),
        (g.clone(), "/api/v1/claims/{id}", Roles(CLAIM_READERS), get(claims::get_api)),
        (p.clone(), "/api/v1/claims/{id}/actions", Roles(REVIEWERS), post(claims::action_api)),
        (p.clone(), "/api/v1/objections/{id}", Roles(REVIEWERS), post(claims::resolve_api)),
        (g.clone(), "/api/v1/notice", Public, get(claims::notice_api)),
        (p.clone(), "/api/v1/notice/{id}/objections", Public, post(claims::object_api)),
        (g.clone(), "/api/v1/payments", Roles(MONEY_READERS), get(payments::ledger_api)),
        (p.clone(), "/api/v1/payments", Roles(FINANCE), post(payments::op_api)),
        (g.clone(), "/api/v1/payment-batches/{id}", Roles(MONEY_READERS), get(payments::batch_api)),
        (g.clone(), "/api/v1/catalog/occupations", Public, get(catalog::list_occupations)),
        (p.clone(), "/api/v1/catalog/occupations", Roles(ADMIN), post(catalog::create_city_occupation)),
        (Method::PUT, "/api/v1/catalog/occupations/{code}/status", Roles(ADMIN), put(catalog::set_occupation_status)),
        (g.clone(), "/api/v1/catalog/projects", Public, get(catalog::list_projects)),
        (p.clone(), "/api/v1/catalog/projects", Roles(ADMIN), post(catalog::create_project)),
        (Method::PUT, "/api/v1/catalog/projects/{id}", Roles(ADMIN), put(catalog::update_project)),
        (g.clone(), "/api/v1/catalog/providers", Public, get(catalog::list_providers)),
        (g.clone(), "/api/v1/catalog/assessment-bodies", Public, get(catalog::list_bodies)),
        (g.clone(), "/api/v1/parameters", Roles(STAFF), get(policy::list_parameters)),
        (p.clone(), "/api/v1/parameters", Roles(ADMIN), post(policy::schedule_parameter)),
    ]
}

/// The access rules of every route (for tests and documentation).
pub fn rules() -> Vec<RouteRule> {
    table().into_iter().map(|(method, path, access, _)| RouteRule { method, path, access }).collect()
}

/// Builds the router: each route is registered together with its rule.
pub fn build(state: AppState) -> Router {
    let mut router: Router<AppState> = Router::new();
    let mut rules = HashMap::new();
    for (method, path, access, handler) in table() {
        rules.insert((method, path.to_owned()), access);
        router = router.route(path, handler);
    }
    let auth_state = AuthState { app: state.clone(), rules: Arc::new(rules) };
    router
        .route_layer(from_fn_with_state(auth_state, authorize))
        // Rosters of 100,000 rows are about 4 MB of .xlsx; allow headroom.
        .layer(axum::extract::DefaultBodyLimit::max(32 * 1024 * 1024))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(32 * 1024 * 1024))
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(tower_http::set_header::SetResponseHeaderLayer::if_not_present(
            axum::http::header::X_CONTENT_TYPE_OPTIONS,
            axum::http::HeaderValue::from_static("nosniff"),
        ))
        .layer(tower_http::set_header::SetResponseHeaderLayer::if_not_present(
            axum::http::header::X_FRAME_OPTIONS,
            axum::http::HeaderValue::from_static("DENY"),
        ))
        .with_state(state)
}
