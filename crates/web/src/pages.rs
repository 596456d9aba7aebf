//! Server-rendered pages, Chinese first. Each page uses the same view builders as the API.

use crate::api::{self, check_county, check_org_write, org_kind, parse_person, GroupInput, PersonInput, PersonView};
use crate::auth::{Auth, CsrfForm, CurrentUser};
use crate::error::AppError;
use crate::views;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use jineng_domain::id_number::mask;
use jineng_domain::PriorityGroup;
use jineng_store::orgs::{self, OrgInput, OrgKind, EMPLOYER_KINDS, STATUSES};
use jineng_store::people::{self, PersonUpdate};
use jineng_store::plan;
use jineng_store::training;
use jineng_store::users::Role;
use minijinja::{context, Value};
use serde::Deserialize;

/// An error shown as a page (with the caller, for the layout).
pub struct PageError(pub AppError, pub Box<Auth>);

impl PageError {
    /// An error page for this caller.
    pub fn new(err: AppError, auth: Auth) -> Self {
        PageError(err, Box::new(auth))
    }
}

impl From<minijinja::Error> for AppError {
    fn from(e: minijinja::Error) -> Self {
        AppError::Internal(format!("template: {e:#}"))
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let PageError(err, auth) = self;
        if matches!(err, AppError::Unauthorized) {
            return Redirect::to("/login").into_response();
        }
        let status = err.status();
        let env = crate::templates::environment();
        let ctx = context! { user => user_ctx(&auth), csrf => auth.csrf.clone(), status => status.as_u16(), message => err.message(), fields => err.fields(), nav => nav(&auth) };
        let html = env.get_template("error.html").and_then(|t| t.render(ctx)).unwrap_or_else(|_| err.message());
        (status, Html(html)).into_response()
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

fn nav(auth: &Auth) -> Vec<(String, &'static str, &'static str)> {
    let Some(u) = &auth.user else {
        return vec![
            ("/catalog".to_owned(), "公开目录", "Catalogs"),
            ("/notice".to_owned(), "补贴公示", "Public notice"),
        ];
    };
    let r = u.role;
    let mut out = vec![("/".to_owned(), "计划进度", "Plan")];
    if matches!(r, Role::CityAdmin | Role::County | Role::Provider | Role::Auditor) {
        out.push(("/people".into(), "劳动者", "People"));
    }
    if r == Role::Worker {
        out.push((format!("/people/{}", u.scope.clone().unwrap_or_default()), "我的培训档案", "My record"));
    }
    if matches!(
        r,
        Role::CityAdmin | Role::Department | Role::County | Role::Provider | Role::Auditor | Role::AssessmentBody
    ) {
        out.push(("/classes".into(), "培训班", "Classes"));
    }
    if r == Role::Provider {
        out.push(("/classes/new".into(), "开班申请", "Apply for a class"));
    }
    if matches!(r, Role::CityAdmin | Role::Department | Role::County | Role::Finance | Role::Auditor) {
        out.push(("/orgs/employers".into(), "用人单位", "Employers"));
        out.push(("/orgs/providers".into(), "培训机构", "Providers"));
        out.push(("/orgs/assessment-bodies".into(), "评价机构", "Assessment bodies"));
        out.push(("/policy/parameters".into(), "政策参数", "Policy parameters"));
    }
    if matches!(
        r,
        Role::CityAdmin | Role::County | Role::Finance | Role::Auditor | Role::Worker | Role::Employer | Role::Provider
    ) {
        out.push(("/claims".into(), "补贴申请", "Claims"));
    }
    if matches!(r, Role::Employer | Role::Provider) {
        out.push(("/claims/new".into(), "申请补贴", "File a claim"));
    }
    if matches!(r, Role::CityAdmin | Role::Finance | Role::Auditor) {
        out.push(("/payments".into(), "资金拨付", "Payments"));
    }
    if matches!(r, Role::CityAdmin | Role::Auditor) {
        out.push(("/audit".into(), "审计日志", "Audit log"));
    }
    out.push(("/catalog".into(), "目录", "Catalogs"));
    if matches!(r, Role::CityAdmin | Role::County | Role::Finance | Role::Auditor) {
        out.push(("/policy/explain".into(), "补贴审核演算", "Decide a case"));
    }
    out
}

/// Renders a page with the layout's context (user, CSRF token, navigation) merged in.
pub fn render_page(st: &AppState, auth: &Auth, name: &str, ctx: Value) -> Result<Html<String>, PageError> {
    let full = context! { user => user_ctx(auth), csrf => auth.csrf.clone(), nav => nav(auth), ..ctx };
    st.templates
        .get_template(name)
        .and_then(|t| t.render(full))
        .map(Html)
        .map_err(|e| PageError::new(e.into(), auth.clone()))
}

type PageResult = Result<Html<String>, PageError>;

trait OrPage<T> {
    fn page(self, auth: &Auth) -> Result<T, PageError>;
}

impl<T, E: Into<AppError>> OrPage<T> for Result<T, E> {
    fn page(self, auth: &Auth) -> Result<T, PageError> {
        self.map_err(|e| PageError::new(e.into(), auth.clone()))
    }
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

/// `GET /`: the plan at a glance.
pub async fn home(State(st): State<AppState>, auth: Auth, CurrentUser(u): CurrentUser) -> Result<Response, PageError> {
    if u.role == Role::Worker {
        return Ok(Redirect::to(&format!("/people/{}", u.scope.clone().unwrap_or_default())).into_response());
    }
    let overview = views::plan_overview(&st.db, &u).await.page(&auth)?;
    let counties = plan::counties(&st.db).await.page(&auth)?;
    let staff = matches!(u.role, Role::CityAdmin | Role::Department | Role::County | Role::Finance | Role::Auditor);
    Ok(render_page(&st, &auth, "home.html", context! { o => Value::from_serialize(&overview), counties => Value::from_serialize(&counties), drill => staff })?.into_response())
}

/// `GET /programs/{code}`
pub async fn program(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    Path(code): Path<String>,
) -> PageResult {
    let d = views::program_detail(&st.db, &u, &code).await.page(&auth)?;
    render_page(
        &st,
        &auth,
        "program.html",
        context! { d => Value::from_serialize(&d), can_set => u.role == Role::CityAdmin, error => None::<String> },
    )
}

/// The target form.
#[derive(Deserialize)]
pub struct TargetForm {
    target: String,
    reason: String,
}

/// `POST /programs/{code}/target`
pub async fn set_target(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    Path(code): Path<String>,
    CsrfForm(f): CsrfForm<TargetForm>,
) -> Result<Response, PageError> {
    let result = match f.target.trim().replace(',', "").parse::<i64>() {
        Ok(v) => plan::set_target(&st.db, u.user_id, &code, v, &f.reason).await.map_err(AppError::from),
        Err(_) => Err(AppError::field("target", "请输入整数 / enter a whole number")),
    };
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/programs/{code}")).into_response()),
        Err(e @ AppError::Invalid(_)) => {
            let d = views::program_detail(&st.db, &u, &code).await.page(&auth)?;
            let page = render_page(
                &st,
                &auth,
                "program.html",
                context! { d => Value::from_serialize(&d), can_set => true, error => Some(e.message()) },
            )?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(PageError::new(e, auth)),
    }
}

/// `GET /counties/{code}`
pub async fn county(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    Path(code): Path<String>,
) -> PageResult {
    let d = views::county_detail(&st.db, &u, &code).await.page(&auth)?;
    render_page(&st, &auth, "county.html", context! { d => Value::from_serialize(&d) })
}

/// `GET /people`
pub async fn people(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    Query(q): Query<api::SearchQuery>,
) -> PageResult {
    let vis = views::people_visibility(&u).page(&auth)?;
    let page = q.page.unwrap_or(1).max(1);
    let text = q.q.clone().unwrap_or_default();
    let (rows, total) = people::search(&st.db, &vis, &text, 50, (page - 1) * 50).await.page(&auth)?;
    let rows: Vec<PersonView> = rows.into_iter().map(PersonView::from).collect();
    render_page(
        &st,
        &auth,
        "people.html",
        context! {
            rows => Value::from_serialize(&rows), total, q => text, page, pages => (total + 49) / 50,
            can_create => matches!(u.role, Role::CityAdmin | Role::County),
        },
    )
}

fn person_form_ctx(st_counties: &[plan::CountyRow], u: &jineng_store::users::User) -> Value {
    let counties: Vec<_> =
        st_counties.iter().filter(|c| u.role != Role::County || u.scope.as_deref() == Some(&c.county_code)).collect();
    let groups: Vec<_> = PriorityGroup::ALL.iter().map(|g| (g.code(), g.zh(), g.en())).collect();
    context! { counties => Value::from_serialize(&counties), groups => Value::from_serialize(&groups) }
}

/// `GET /people/new`
pub async fn new_person(State(st): State<AppState>, auth: Auth, CurrentUser(u): CurrentUser) -> PageResult {
    let counties = plan::counties(&st.db).await.page(&auth)?;
    render_page(
        &st,
        &auth,
        "person_form.html",
        context! { p => Value::from(()), errors => Value::from(()), ..person_form_ctx(&counties, &u) },
    )
}

/// The person form.
#[derive(Deserialize, Default)]
pub struct PersonForm {
    id_number: Option<String>,
    name: String,
    county_code: String,
    phone: Option<String>,
    rural: Option<String>,
    group: Option<String>,
    group_from: Option<String>,
    insured_since: Option<String>,
    monthly_pension: Option<String>,
}

/// `POST /people`
pub async fn create_person(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    CsrfForm(f): CsrfForm<PersonForm>,
) -> Result<Response, PageError> {
    let groups = match (&f.group, &f.group_from) {
        (Some(g), Some(from)) if !g.is_empty() => vec![GroupInput { group: g.clone(), from: from.clone(), to: None }],
        _ => vec![],
    };
    let input = PersonInput {
        id_number: f.id_number.clone().unwrap_or_default(),
        name: f.name.clone(),
        county_code: f.county_code.clone(),
        phone: f.phone.clone(),
        rural: f.rural.is_some(),
        groups,
    };
    let result = async {
        let new = parse_person(&input)?;
        check_county(&u, &new.county_code)?;
        Ok::<_, AppError>(people::create(&st.db, Some(u.user_id), &new).await?)
    }
    .await;
    match result {
        Ok(id) => Ok(Redirect::to(&format!("/people/{id}")).into_response()),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            let counties = plan::counties(&st.db).await.page(&auth)?;
            let mut errors = e.fields();
            if let AppError::Conflict(m) = &e {
                errors.insert("id_number".into(), m.clone());
            }
            let p = serde_json::json!({"id_number": input.id_number, "name": input.name, "county_code": input.county_code, "phone": input.phone, "rural": input.rural});
            let page = render_page(
                &st,
                &auth,
                "person_form.html",
                context! { p => Value::from_serialize(&p), errors => Value::from_serialize(&errors), ..person_form_ctx(&counties, &u) },
            )?;
            Ok((e.status(), page).into_response())
        }
        Err(e) => Err(PageError::new(e, auth)),
    }
}

/// `GET /people/{id}`
pub async fn person(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    Path(id): Path<i64>,
) -> PageResult {
    let vis = views::people_visibility(&u).page(&auth)?;
    let p = people::get(&st.db, &vis, id).await.page(&auth)?;
    let groups = people::groups(&st.db, id).await.page(&auth)?;
    let groups: Vec<_> = groups
        .iter()
        .map(|g| {
            let name = PriorityGroup::parse(&g.group_code).map(|x| x.zh()).unwrap_or("?");
            serde_json::json!({"name": name, "code": g.group_code, "from": g.from_date, "to": g.to_date})
        })
        .collect();
    let trainings = people::trainings(&st.db, id).await.page(&auth)?;
    let certificates = jineng_store::assessment::certificates_of(&st.db, id).await.page(&auth)?;
    let view = PersonView::from(p);
    let subsidies = crate::claims::subsidies_of(&st.db, id).await.page(&auth)?;
    render_page(
        &st,
        &auth,
        "person.html",
        context! {
            p => Value::from_serialize(&view), groups => Value::from_serialize(&groups), trainings => Value::from_serialize(&trainings),
            certificates => Value::from_serialize(&certificates), cert_kinds => Value::from_serialize(jineng_store::assessment::CERT_KINDS),
            can_edit => matches!(u.role, Role::CityAdmin | Role::County),
            subsidies => Value::from_serialize(&subsidies),
        },
    )
}

/// `GET /people/{id}/edit`
pub async fn edit_person(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    Path(id): Path<i64>,
) -> PageResult {
    let vis = views::people_visibility(&u).page(&auth)?;
    let p = people::get(&st.db, &vis, id).await.page(&auth)?;
    let counties = plan::counties(&st.db).await.page(&auth)?;
    let pv = serde_json::json!({"person_id": p.person_id, "id_number_masked": mask(&p.id_number), "name": p.name, "county_code": p.county_code, "phone": p.phone, "rural": p.rural});
    render_page(
        &st,
        &auth,
        "person_form.html",
        context! { p => Value::from_serialize(&pv), errors => Value::from(()), ..person_form_ctx(&counties, &u) },
    )
}

/// `POST /people/{id}`
pub async fn update_person(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<PersonForm>,
) -> Result<Response, PageError> {
    let vis = views::people_visibility(&u).page(&auth)?;
    check_county(&u, f.county_code.trim()).page(&auth)?;
    let insured = f.insured_since.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let insured_since = match insured.map(|s| s.parse::<chrono::NaiveDate>()) {
        Some(Err(_)) => Err(AppError::Invalid(std::collections::BTreeMap::from([(
            "insured_since".to_string(),
            "日期格式应为 YYYY-MM-DD / date must be YYYY-MM-DD".to_string(),
        )]))),
        Some(Ok(d)) => Ok(Some(d)),
        None => Ok(None),
    };
    let result = match insured_since {
        Ok(insured_since) => {
            let upd = PersonUpdate {
                name: f.name.clone(),
                county_code: f.county_code.trim().into(),
                phone: f.phone.clone().filter(|p| !p.trim().is_empty()),
                rural: f.rural.is_some(),
                insured_since,
                monthly_pension: f.monthly_pension.is_some(),
            };
            people::update(&st.db, Some(u.user_id), &vis, id, &upd).await.map_err(AppError::from)
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/people/{id}")).into_response()),
        Err(e @ AppError::Invalid(_)) => {
            let counties = plan::counties(&st.db).await.page(&auth)?;
            let pv = serde_json::json!({"person_id": id, "name": f.name, "county_code": f.county_code, "phone": f.phone, "rural": f.rural.is_some(),
                                       "insured_since": f.insured_since, "monthly_pension": f.monthly_pension.is_some()});
            let page = render_page(
                &st,
                &auth,
                "person_form.html",
                context! { p => Value::from_serialize(&pv), errors => Value::from_serialize(e.fields()), ..person_form_ctx(&counties, &u) },
            )?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(PageError::new(e, auth)),
    }
}

fn kind_ctx(kind: OrgKind, slug: &str, extra: Value) -> Value {
    let (zh, en) = match kind {
        OrgKind::Employer => ("用人单位", "Employers"),
        OrgKind::Provider => ("培训机构", "Training providers"),
        OrgKind::AssessmentBody => ("评价机构", "Assessment bodies"),
    };
    context! { slug => slug, kind_zh => zh, kind_en => en, is_employer => kind == OrgKind::Employer,
    employer_kinds => Value::from_serialize(EMPLOYER_KINDS), statuses => Value::from_serialize(STATUSES), ..extra }
}

fn can_write_kind(u: &jineng_store::users::User, kind: OrgKind) -> bool {
    u.role == Role::CityAdmin || (u.role == Role::County && kind == OrgKind::Employer)
}

/// `GET /orgs/{kind}`
pub async fn orgs(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    Path(slug): Path<String>,
    Query(q): Query<api::SearchQuery>,
) -> PageResult {
    let kind = org_kind(&slug).page(&auth)?;
    let county = if kind == OrgKind::Employer { views::org_county(&u) } else { None };
    let rows = orgs::list(&st.db, kind, county.as_deref(), q.q.as_deref().unwrap_or(""), 500).await.page(&auth)?;
    render_page(
        &st,
        &auth,
        "orgs.html",
        context! { rows => Value::from_serialize(&rows), q => q.q.unwrap_or_default(), can_create => can_write_kind(&u, kind), ..kind_ctx(kind, &slug, context! {}) },
    )
}

/// `GET /orgs/{kind}/{id}`
pub async fn org(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    Path((slug, id)): Path<(String, i64)>,
) -> PageResult {
    let kind = org_kind(&slug).page(&auth)?;
    let county = if kind == OrgKind::Employer { views::org_county(&u) } else { None };
    let o = orgs::get(&st.db, kind, id, county.as_deref()).await.page(&auth)?;
    let history = jineng_store::audit::for_entity(&st.db, kind.table(), &id.to_string()).await.page(&auth)?;
    render_page(
        &st,
        &auth,
        "org.html",
        context! { o => Value::from_serialize(&o), history => Value::from_serialize(&history), can_edit => can_write_kind(&u, kind), ..kind_ctx(kind, &slug, context! {}) },
    )
}

/// `GET /orgs/{kind}/new`
pub async fn new_org(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    Path(slug): Path<String>,
) -> PageResult {
    let kind = org_kind(&slug).page(&auth)?;
    if !can_write_kind(&u, kind) {
        return Err(PageError::new(AppError::Forbidden, auth));
    }
    let counties = plan::counties(&st.db).await.page(&auth)?;
    render_page(
        &st,
        &auth,
        "org_form.html",
        context! { o => Value::from(()), errors => Value::from(()), ..kind_ctx(kind, &slug, person_form_ctx(&counties, &u)) },
    )
}

/// `GET /orgs/{kind}/{id}/edit`
pub async fn edit_org(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    Path((slug, id)): Path<(String, i64)>,
) -> PageResult {
    let kind = org_kind(&slug).page(&auth)?;
    if !can_write_kind(&u, kind) {
        return Err(PageError::new(AppError::Forbidden, auth));
    }
    let county = if kind == OrgKind::Employer { views::org_county(&u) } else { None };
    let o = orgs::get(&st.db, kind, id, county.as_deref()).await.page(&auth)?;
    let counties = plan::counties(&st.db).await.page(&auth)?;
    render_page(
        &st,
        &auth,
        "org_form.html",
        context! { o => Value::from_serialize(&o), errors => Value::from(()), ..kind_ctx(kind, &slug, person_form_ctx(&counties, &u)) },
    )
}

/// The organisation form.
#[derive(Deserialize)]
pub struct OrgForm {
    credit_code: String,
    legacy: Option<String>,
    name: String,
    county_code: String,
    kind: Option<String>,
    insured: Option<String>,
    status: Option<String>,
}

impl OrgForm {
    fn input(&self) -> OrgInput {
        OrgInput {
            credit_code: self.credit_code.clone(),
            legacy: self.legacy.is_some(),
            name: self.name.clone(),
            county_code: self.county_code.trim().into(),
            kind: self.kind.clone(),
            insured: self.insured.is_some(),
            status: self.status.clone(),
        }
    }
}

async fn save_org(
    st: &AppState,
    auth: Auth,
    u: &jineng_store::users::User,
    slug: &str,
    id: Option<i64>,
    f: OrgForm,
) -> Result<Response, PageError> {
    let kind = org_kind(slug).page(&auth)?;
    check_org_write(u, kind, f.county_code.trim()).page(&auth)?;
    let input = f.input();
    let county = if kind == OrgKind::Employer { views::org_county(u) } else { None };
    let result = match id {
        Some(id) => orgs::update(&st.db, Some(u.user_id), kind, id, county.as_deref(), &input).await.map(|_| id),
        None => orgs::create(&st.db, Some(u.user_id), kind, &input).await,
    }
    .map_err(AppError::from);
    match result {
        Ok(id) => Ok(Redirect::to(&format!("/orgs/{slug}/{id}")).into_response()),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            let counties = plan::counties(&st.db).await.page(&auth)?;
            let mut errors = e.fields();
            if let AppError::Conflict(m) = &e {
                errors.insert("credit_code".into(), m.clone());
            }
            let o = serde_json::json!({"id": id, "credit_code": f.credit_code, "name": f.name, "county_code": f.county_code, "kind": f.kind, "insured": f.insured.is_some(), "status": f.status});
            let page = render_page(
                st,
                &auth,
                "org_form.html",
                context! { o => Value::from_serialize(&o), errors => Value::from_serialize(&errors), ..kind_ctx(kind, slug, person_form_ctx(&counties, u)) },
            )?;
            Ok((e.status(), page).into_response())
        }
        Err(e) => Err(PageError::new(e, auth)),
    }
}

/// `POST /orgs/{kind}`
pub async fn create_org(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    Path(slug): Path<String>,
    CsrfForm(f): CsrfForm<OrgForm>,
) -> Result<Response, PageError> {
    save_org(&st, auth, &u, &slug, None, f).await
}

/// `POST /orgs/{kind}/{id}`
pub async fn update_org(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    Path((slug, id)): Path<(String, i64)>,
    CsrfForm(f): CsrfForm<OrgForm>,
) -> Result<Response, PageError> {
    save_org(&st, auth, &u, &slug, Some(id), f).await
}

/// `GET /classes`
pub async fn classes(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    Query(q): Query<api::SearchQuery>,
) -> PageResult {
    let scope = views::class_scope(&st.db, &u).await.page(&auth)?;
    let page = q.page.unwrap_or(1).max(1);
    let rows = training::list_classes(&st.db, &scope, 50, (page - 1) * 50).await.page(&auth)?;
    render_page(
        &st,
        &auth,
        "classes.html",
        context! { rows => Value::from_serialize(&rows), page, more => rows.len() == 50 },
    )
}

/// `GET /classes/{id}`
pub async fn class(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    Path(id): Path<i64>,
) -> PageResult {
    class_page(&st, &auth, &u, id, None).await
}

/// The class page with an error message.
pub async fn class_page(
    st: &AppState,
    auth: &Auth,
    u: &jineng_store::users::User,
    id: i64,
    error: Option<String>,
) -> PageResult {
    class_page_with(st, auth, u, id, error, None).await
}

/// The class page: details, status history, the actions the caller may take and, after a
/// refused roster upload, its errors and report.
pub async fn class_page_with(
    st: &AppState,
    auth: &Auth,
    u: &jineng_store::users::User,
    id: i64,
    error: Option<String>,
    import: Option<(Vec<jineng_store::roster::RowError>, String)>,
) -> PageResult {
    let scope = views::class_scope(&st.db, u).await.page(auth)?;
    let c = training::get_class(&st.db, &scope, id).await.page(auth)?;
    let events = training::class_events(&st.db, id).await.page(auth)?;
    let attendance = crate::classes::attendance_views(st, u, id).await.page(auth)?;
    let status = jineng_domain::ClassStatus::parse(&c.status);
    let actions: Vec<(&str, &str)> = [
        (jineng_domain::ClassAction::Approve, "approve", matches!(u.role, Role::CityAdmin | Role::County)),
        (jineng_domain::ClassAction::Return, "return", matches!(u.role, Role::CityAdmin | Role::County)),
        (jineng_domain::ClassAction::Resubmit, "resubmit", u.role == Role::Provider),
        (jineng_domain::ClassAction::Close, "close", matches!(u.role, Role::CityAdmin | Role::County | Role::Provider)),
    ]
    .into_iter()
    .filter(|(a, _, allowed)| *allowed && status.is_some_and(|s| s.apply(*a).is_ok()))
    .map(|(a, code, _)| (code, a.zh()))
    .collect();
    render_page(
        st,
        auth,
        "class.html",
        context! {
            c => Value::from_serialize(&c), events => Value::from_serialize(&events), actions => Value::from_serialize(&actions), error,
            status_zh => status.map(|s| s.zh()).unwrap_or(""),
            can_upload => u.role == Role::Provider && matches!(c.status.as_str(), "submitted" | "returned"),
            can_check_in => u.role == Role::Provider && c.status == "approved",
            can_assess => u.role == Role::AssessmentBody && c.status == "approved",
            cert_kinds => Value::from_serialize(jineng_store::assessment::CERT_KINDS),
            attendance => Value::from_serialize(&attendance),
            methods => Value::from_serialize(jineng_store::attendance::METHODS),
            import_errors => Value::from_serialize(import.as_ref().map(|(e, _)| e)),
            report => import.as_ref().map(|(_, r)| r.clone()),
        },
    )
}

/// Filter of the audit page.
#[derive(Deserialize)]
pub struct AuditQuery {
    entity: Option<String>,
}

/// `GET /audit`: the newest changes, for auditors and the city admin (read-only).
pub async fn audit(State(st): State<AppState>, auth: Auth, Query(q): Query<AuditQuery>) -> PageResult {
    let entity = q.entity.filter(|e| !e.is_empty());
    let rows = jineng_store::audit::recent(&st.db, entity.as_deref(), 500).await.page(&auth)?;
    let entities = [
        "person",
        "employer",
        "provider",
        "assessment_body",
        "training_class",
        "enrolment",
        "completion",
        "attendance",
        "assessment",
        "claim",
        "program",
        "parameter",
        "occupation",
        "subsidy_project",
        "app_user",
        "api_token",
        "plan",
    ];
    render_page(
        &st,
        &auth,
        "audit.html",
        context! { rows => Value::from_serialize(&rows), entities => Value::from_serialize(entities), entity },
    )
}
