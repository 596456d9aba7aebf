//! Pages: templates rendered with the layout's context (user, CSRF token, navigation), errors
//! shown as pages, and [`form_result`], the one way every form answers: a redirect when it
//! worked, the same form again with the errors beside their fields when the person can mend
//! them, an error page otherwise.

use crate::auth::Auth;
use crate::error::AppError;
use crate::state::AppState;
use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect, Response};
use jineng_domain::Role;
use minijinja::{context, Value};
use std::future::Future;
use std::sync::LazyLock;

/// An error shown as a page (with the caller, for the layout).
pub struct PageError(pub AppError, pub Box<Auth>);

impl PageError {
    /// An error page for this caller.
    pub fn new(err: AppError, auth: Auth) -> Self {
        PageError(err, Box::new(auth))
    }
}

/// Templates for error pages, which are rendered without the app's state.
static ERROR_TEMPLATES: LazyLock<minijinja::Environment<'static>> = LazyLock::new(crate::templates::environment);

/// An error page for a caller, as HTML.
pub fn error_page(err: &AppError, auth: &Auth) -> Html<String> {
    not_found_or_error(err, auth, None)
}

/// The 404 page of a path no route serves, for a caller (their menu when signed in).
pub fn not_found_page(auth: &Auth, path: &str) -> Html<String> {
    not_found_or_error(&AppError::NotFound, auth, Some(path))
}

/// An error page: the 404 page of its own for what is not found, else the error page.
fn not_found_or_error(err: &AppError, auth: &Auth, path: Option<&str>) -> Html<String> {
    let ctx = context! { user => user_ctx(auth), csrf => auth.csrf.clone(), status => err.status().as_u16(),
    message => err.message(), fields => err.fields(), nav => nav(auth), path };
    let name = if matches!(err, AppError::NotFound) { "not_found.html" } else { "error.html" };
    Html(ERROR_TEMPLATES.get_template(name).and_then(|t| t.render(ctx)).unwrap_or_else(|_| err.message()))
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let PageError(err, auth) = self;
        if matches!(err, AppError::Unauthorized) {
            return Redirect::to("/login").into_response();
        }
        (err.status(), error_page(&err, &auth)).into_response()
    }
}

fn user_ctx(auth: &Auth) -> Value {
    match &auth.user {
        Some(u) => Value::from_serialize(serde_json::json!({
            "username": u.username, "display_name": u.display_name, "role": u.role.code(), "role_zh": u.role.zh(), "role_en": u.role.en(), "scope": u.scope,
        })),
        None => Value::from(()),
    }
}

/// One entry of the menu.
#[derive(serde::Serialize)]
struct NavLink {
    href: String,
    zh: &'static str,
    en: &'static str,
    /// The page the caller is on.
    current: bool,
}

/// A group of the menu (计划 / 培训 / 补贴 / 监督); the first has no name (home).
#[derive(serde::Serialize)]
struct NavGroup {
    zh: &'static str,
    en: &'static str,
    links: Vec<NavLink>,
}

/// The menu of a caller: what their role may open, in groups, with the page they are on marked
/// (the entry whose path is the longest that the current path is or lies under).
fn nav(auth: &Auth) -> Vec<NavGroup> {
    let groups = nav_entries(auth);
    let has = |href: &str| groups.iter().flat_map(|g| &g.2).any(|l| l.0 == href);
    // A program's or a county's page is a drill-down of the plan: its entry is the plan's
    // (the home for those whose home is the plan), if the menu has one.
    let drill = auth.path.starts_with("/programs/") || auth.path.starts_with("/counties/");
    let plan_home = groups.first().and_then(|g| g.2.first()).is_some_and(|l| l.1 == "计划进度");
    let path = match (drill, has("/plan"), plan_home) {
        (true, true, _) => "/plan",
        (true, false, true) => "/",
        _ => auth.path.as_str(),
    };
    let under = |href: &str| {
        let href = href.split('?').next().unwrap_or(href);
        path == href || (href != "/" && path.starts_with(href) && path[href.len()..].starts_with('/'))
    };
    let current = groups.iter().flat_map(|g| &g.2).map(|l| l.0.as_str()).filter(|h| under(h)).max_by_key(|h| h.len());
    let current = current.map(str::to_owned);
    groups
        .into_iter()
        .filter(|g| !g.2.is_empty())
        .map(|(zh, en, links)| NavGroup {
            zh,
            en,
            links: links
                .into_iter()
                .map(|(href, zh, en)| NavLink { current: current.as_deref() == Some(href.as_str()), href, zh, en })
                .collect(),
        })
        .collect()
}

type Entries = Vec<(String, &'static str, &'static str)>;

/// What each role may open, by group.
fn nav_entries(auth: &Auth) -> Vec<(&'static str, &'static str, Entries)> {
    let Some(u) = &auth.user else {
        return vec![(
            "",
            "",
            vec![
                ("/public".to_owned(), "行动专栏", "Public column"),
                ("/public/disclosure".to_owned(), "资金公开", "Fund-use disclosure"),
                ("/catalog".to_owned(), "公开目录", "Catalogs"),
                ("/notice".to_owned(), "补贴公示", "Public notice"),
            ],
        )];
    };
    let r = u.role;
    let any = |roles: &[Role]| roles.contains(&r);
    // Home is the plan at a glance for these, and every other role's work queue.
    let home = if any(&[Role::CityAdmin, Role::Department, Role::Auditor]) {
        ("/".to_owned(), "计划进度", "Plan")
    } else {
        ("/".to_owned(), "工作台", "My work")
    };
    let (mut plan, mut training, mut subsidies, mut oversight) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    // The public column, for everyone.
    let public: Entries = vec![
        ("/public".into(), "行动专栏", "Public column"),
        ("/public/disclosure".into(), "资金公开", "Fund-use disclosure"),
    ];
    if any(&[Role::Finance, Role::Provider, Role::AssessmentBody]) {
        plan.push(("/plan".into(), "计划进度", "Plan"));
    }
    if any(&[Role::CityAdmin, Role::Department, Role::County, Role::Finance, Role::Auditor]) {
        plan.push(("/orgs/employers".into(), "用人单位", "Employers"));
        plan.push(("/orgs/providers".into(), "培训机构", "Providers"));
        plan.push(("/orgs/assessment-bodies".into(), "评价机构", "Assessment bodies"));
    }
    if any(&[Role::CityAdmin, Role::Department, Role::County, Role::Finance, Role::Auditor]) {
        plan.push(("/reports".into(), "月报季报", "Reports"));
        plan.push(("/skills".into(), "技能人才占比", "Skilled shares (T2, T3)"));
    }
    if any(&[Role::CityAdmin, Role::Auditor]) {
        plan.push(("/registers".into(), "名单导入", "Registers"));
    }
    if any(&[Role::CityAdmin, Role::County, Role::Provider, Role::Auditor]) {
        training.push(("/people".into(), "劳动者", "People"));
    }
    if r == Role::Worker {
        training.push((format!("/people/{}", u.scope.clone().unwrap_or_default()), "我的培训档案", "My record"));
    }
    if any(&[Role::CityAdmin, Role::Department, Role::County, Role::Provider, Role::Auditor, Role::AssessmentBody]) {
        training.push(("/classes".into(), "培训班", "Classes"));
    }
    if r == Role::Provider {
        training.push(("/classes/new".into(), "开班申请", "Apply for a class"));
    }
    if any(&[Role::CityAdmin, Role::County, Role::Finance, Role::Employer]) {
        training.push(("/facilities".into(), "基地工作室", "Facilities"));
    }
    training.push(("/catalog".into(), "目录", "Catalogs"));
    if any(&[Role::CityAdmin, Role::County, Role::Finance, Role::Auditor, Role::Worker, Role::Employer, Role::Provider])
    {
        subsidies.push(("/claims".into(), "补贴申请", "Claims"));
    }
    if any(&[Role::Employer, Role::Provider]) {
        subsidies.push(("/claims/new".into(), "申请补贴", "File a claim"));
    }
    if any(crate::auth::BANK_ACCOUNT_READERS) {
        subsidies.push(("/bank-accounts".into(), "收款账户", "Bank accounts"));
    }
    if any(&[Role::CityAdmin, Role::Finance, Role::Auditor]) {
        subsidies.push(("/payments".into(), "资金拨付", "Payments"));
        subsidies.push(("/budget".into(), "预算与承诺", "Budget"));
    }
    if any(&[Role::CityAdmin, Role::Department, Role::County, Role::Finance, Role::Auditor]) {
        subsidies.push(("/policy/parameters".into(), "政策参数", "Policy parameters"));
    }
    if any(&[Role::CityAdmin, Role::County, Role::Finance, Role::Auditor]) {
        subsidies.push(("/policy/explain".into(), "审核演算", "Decide a case"));
        oversight.push(("/notice".into(), "补贴公示", "Public notice"));
    }
    if any(crate::auth::FINDING_READERS) {
        oversight.push(("/findings".into(), "疑点线索", "Findings"));
    }
    if any(&[Role::CityAdmin, Role::Auditor]) {
        oversight.push(("/audit".into(), "审计日志", "Audit log"));
    }
    if any(&[Role::CityAdmin, Role::County]) {
        oversight.push(("/accounts".into(), "账号管理", "Accounts"));
    }
    vec![
        ("", "", vec![home]),
        ("计划", "Plan", plan),
        ("培训", "Training", training),
        ("补贴", "Subsidies", subsidies),
        ("监督", "Oversight", oversight),
        ("公开", "Public", public),
    ]
}

/// Renders a page with the layout's context (user, CSRF token, navigation, the confirmation of
/// what the caller just did) merged in.
pub fn render_page(st: &AppState, auth: &Auth, name: &str, ctx: Value) -> PageResult {
    let full = context! { user => user_ctx(auth), csrf => auth.csrf.clone(), nav => nav(auth), flash => auth.flash.clone(), ..ctx };
    st.templates
        .get_template(name)
        .and_then(|t| t.render(full))
        .map(Html)
        .map_err(|e| PageError::new(e.into(), auth.clone()))
}

/// A rendered page or an error page.
pub type PageResult = Result<Html<String>, PageError>;

/// Turns any error into an error page for the caller.
pub trait OrPage<T> {
    /// The error as a page for `auth`.
    fn page(self, auth: &Auth) -> Result<T, PageError>;
}

impl<T, E: Into<AppError>> OrPage<T> for Result<T, E> {
    fn page(self, auth: &Auth) -> Result<T, PageError> {
        self.map_err(|e| PageError::new(e.into(), auth.clone()))
    }
}

/// What a form did: the page to go to and the confirmation to show there (Chinese, then
/// English), e.g. `Done::new("/classes/7", "已导入 40 行 / 40 rows imported")`.
#[derive(Debug, Clone)]
pub struct Done {
    /// Where to go.
    pub url: String,
    /// What was done, in words.
    pub message: String,
}

impl Done {
    /// Go to `url` and say `message` there.
    pub fn new(url: impl Into<String>, message: impl Into<String>) -> Self {
        Done { url: url.into(), message: message.into() }
    }
}

/// The cookie that carries a confirmation across the redirect after a form: set with the
/// redirect, read by the guard into [`Auth::flash`] and cleared by the page that shows it.
pub const FLASH_COOKIE: &str = "jn_flash";

/// The longest confirmation carried (characters).
const FLASH_MAX: usize = 300;

/// The one way a confirmation is said after a successful action: a redirect (303) to the page,
/// which shows the message once.
impl IntoResponse for Done {
    fn into_response(self) -> Response {
        let message: String = self.message.chars().take(FLASH_MAX).collect();
        let value = serde_urlencoded::to_string([("m", message.as_str())]).unwrap_or_default();
        let cookie = format!("{FLASH_COOKIE}={value}; Path=/; Max-Age=60; HttpOnly; SameSite=Lax");
        ([(header::SET_COOKIE, cookie)], Redirect::to(&self.url)).into_response()
    }
}

/// The confirmation a request carries, if any.
pub fn flash_of(headers: &axum::http::HeaderMap) -> Option<String> {
    let value = crate::auth::cookie(headers, FLASH_COOKIE)?;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(&value).ok()?;
    let message = pairs.into_iter().find(|(k, _)| k == "m")?.1;
    (!message.trim().is_empty()).then(|| message.chars().take(FLASH_MAX).collect())
}

/// The header that clears the confirmation once a page has shown it.
pub fn flash_cleared() -> (header::HeaderName, String) {
    (header::SET_COOKIE, format!("{FLASH_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax"))
}

/// How every form answers. `Ok(done)`: redirect to the page, which confirms what was done. An error the person can mend
/// ([`AppError::is_input_mistake`]): `again(error, auth)` renders the form once more with what
/// was typed and the errors, answered with the error's status. Any other error: an error page.
pub async fn form_result<F, Fut>(auth: Auth, result: Result<Done, AppError>, again: F) -> Result<Response, PageError>
where
    F: FnOnce(AppError, Auth) -> Fut,
    Fut: Future<Output = PageResult>,
{
    form_answer(auth, result.map(IntoResponse::into_response), again).await
}

/// [`form_result`] for a form whose success is a page of its own rather than a redirect.
pub async fn form_answer<F, Fut>(
    auth: Auth,
    result: Result<Response, AppError>,
    again: F,
) -> Result<Response, PageError>
where
    F: FnOnce(AppError, Auth) -> Fut,
    Fut: Future<Output = PageResult>,
{
    match result {
        Ok(done) => Ok(done),
        Err(e) if e.is_input_mistake() => {
            let status = e.status();
            again(e, auth).await.map(|page| (status, page).into_response())
        }
        Err(e) => Err(PageError::new(e, auth)),
    }
}

/// `key` under the audit chain's head and today's date: every change is audited and moves the
/// head, and what is on notice or disclosed changes at midnight with no write, so a value cached
/// under this key is never older than what it shows.
async fn current_key(st: &AppState, key: &str) -> Result<String, AppError> {
    let (seq, _) = jineng_store::audit::head(&st.db).await?;
    Ok(format!("{seq}:{}:{key}", st.clock.today()))
}

/// A page for anyone not signed in (the same for all of them) comes from the short cache,
/// under `key` and the audit chain's head: every change is audited, so a change anywhere (in
/// this process or another) moves the head and the next visitor gets the page built afresh;
/// between changes a public page costs one primary-key read. A signed-in caller's page (their
/// menu) is rendered each time.
pub async fn cached_page<F, Fut>(st: &AppState, auth: &Auth, key: &str, render: F) -> Result<Response, PageError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = PageResult>,
{
    if auth.user.is_some() || auth.flash.is_some() {
        return Ok(render().await?.into_response());
    }
    let key = current_key(st, key).await.map_err(|e| PageError::new(e, auth.clone()))?;
    let body = st.public_bodies.get(&key, || async { Ok::<_, PageError>(render().await?.0.into_bytes()) }).await?;
    Ok(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body.as_ref().clone()).into_response())
}

/// What a page shows that is the same for every caller (a catalog), from the short cache under
/// `key`, the audit chain's head and the day (see [`cached_page`]): built once between changes
/// for every visitor, signed in or not.
pub async fn cached_value<F, Fut>(st: &AppState, key: &str, build: F) -> Result<Value, AppError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Value, AppError>>,
{
    let key = current_key(st, key).await?;
    Ok(st.public_values.get(&key, build).await?.as_ref().clone())
}

/// A view of the plan's progress for one role and scope (`key` names both, and what is shown),
/// from the short cache under the audit chain's head and the day: every completion, target and
/// program change is audited, so a change moves the head and the next view counts afresh.
pub async fn cached_view<T, F, Fut>(st: &AppState, key: &str, build: F) -> Result<T, AppError>
where
    T: Clone + Send + Sync + 'static,
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<T, AppError>>,
{
    let key = current_key(st, &format!("{}:{key}", std::any::type_name::<T>())).await?;
    let value = st
        .views
        .get(&key, || async { Ok::<_, AppError>(Box::new(build().await?) as Box<dyn std::any::Any + Send + Sync>) })
        .await?;
    value.downcast_ref::<T>().cloned().ok_or_else(|| AppError::Internal(format!("view cache: {key}")))
}

/// A public list the same for every caller (a catalog), as JSON from the short cache under
/// `key` and the audit chain's head (see [`cached_page`]).
pub async fn cached_json<T, F, Fut>(st: &AppState, key: &str, build: F) -> Result<Response, AppError>
where
    T: serde::Serialize,
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<T, AppError>>,
{
    let key = current_key(st, &format!("json:{key}")).await?;
    let body = st
        .public_bodies
        .get(&key, || async { serde_json::to_vec(&build().await?).map_err(|e| AppError::Internal(e.to_string())) })
        .await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body.as_ref().clone()).into_response())
}
