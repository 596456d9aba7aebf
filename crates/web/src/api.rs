//! The JSON API under `/api/v1`, described by the OpenAPI document at `/api/openapi.json`,
//! which is generated from these handlers' annotations.

use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::views::{self, CountyDetail, PlanOverview, ProgramDetail};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use jineng_domain::id_number::mask;
use jineng_domain::{GroupMembership, IdNumber, PriorityGroup};
use jineng_store::orgs::{self, OrgInput, OrgKind, OrgRow};
use jineng_store::people::{self, GroupRow, NewPerson, PersonRow, PersonUpdate, TrainingRow};
use jineng_store::training::{self, ClassRow};
use jineng_store::users::{self, Role, User};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, OpenApi, ToSchema};

/// The OpenAPI 3 document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "jineng 职业技能提升行动管理系统 API",
        description = "Plan progress, real-name registry, organisations and classes. \
        Authenticate with `Authorization: Bearer <token>` (from `POST /api/v1/tokens`) or a session cookie plus `X-CSRF-Token` for writes."
    ),
    paths(
        create_token,
        me,
        plan_overview,
        program_detail,
        set_target,
        county_detail,
        list_people,
        create_person,
        get_person,
        update_person,
        list_orgs,
        create_org,
        get_org,
        update_org,
        list_classes,
        get_class,
        crate::policy::adjudicate,
        crate::policy::list_parameters,
        crate::policy::schedule_parameter,
        crate::catalog::list_occupations,
        crate::catalog::create_city_occupation,
        crate::catalog::set_occupation_status,
        crate::catalog::list_projects,
        crate::catalog::create_project,
        crate::catalog::update_project,
        crate::catalog::list_providers,
        crate::catalog::list_bodies,
        crate::classes::apply,
        crate::classes::class_action,
        crate::classes::class_events,
        crate::roster::import_api,
        crate::classes::check_in_api,
        crate::classes::attendance_api,
        crate::classes::assess_api,
        crate::claims::list_api,
        crate::claims::file_api,
        crate::claims::get_api,
        crate::claims::action_api,
        crate::claims::resolve_api,
        crate::claims::notice_api,
        crate::claims::object_api,
        crate::payments::ledger_api,
        crate::payments::op_api,
        crate::payments::batch_api
    ),
    components(schemas(ErrorBody, ErrorDetail))
)]
pub struct ApiDoc;

/// `GET /api/openapi.json`
pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// The error envelope.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// Error detail.
#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable code: `unauthorized`, `forbidden`, `not_found`, `conflict`, `invalid`, `bad_request`, `internal`.
    pub code: String,
    /// Message, Chinese then English.
    pub message: String,
    /// Field → reason, for `invalid`.
    pub fields: BTreeMap<String, String>,
}

/// Credentials for a token.
#[derive(Deserialize, ToSchema)]
pub struct TokenRequest {
    /// Username.
    pub username: String,
    /// Password.
    pub password: String,
    /// A name for the token (which client uses it).
    pub name: Option<String>,
}

/// A new bearer token, shown once.
#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    /// The token.
    pub token: String,
}

/// Exchange a username and password for a bearer token.
#[utoipa::path(post, path = "/api/v1/tokens", request_body = TokenRequest,
    responses((status = 201, body = TokenResponse), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn create_token(
    State(st): State<AppState>,
    Json(r): Json<TokenRequest>,
) -> Result<(StatusCode, Json<TokenResponse>), AppError> {
    if st.throttle.locked(&r.username) {
        return Err(AppError::TooManyAttempts);
    }
    let Some(user) = users::authenticate(&st.db, r.username.trim(), &r.password).await? else {
        st.throttle.fail(&r.username);
        return Err(AppError::Unauthorized);
    };
    st.throttle.succeed(&r.username);
    let token = users::create_api_token(&st.db, user.user_id, r.name.as_deref().unwrap_or("api")).await?;
    Ok((StatusCode::CREATED, Json(TokenResponse { token })))
}

/// The caller.
#[derive(Serialize, ToSchema)]
pub struct Me {
    /// Id.
    pub user_id: i64,
    /// Username.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Role code.
    pub role: String,
    /// Scope.
    pub scope: Option<String>,
}

/// Who am I.
#[utoipa::path(get, path = "/api/v1/me", responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
pub async fn me(CurrentUser(u): CurrentUser) -> Json<Me> {
    Json(Me {
        user_id: u.user_id,
        username: u.username,
        display_name: u.display_name,
        role: u.role.code().into(),
        scope: u.scope,
    })
}

/// The plan at a glance: T1–T3 and every program visible to the caller.
#[utoipa::path(get, path = "/api/v1/plan", responses((status = 200, body = PlanOverview)))]
pub async fn plan_overview(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
) -> Result<Json<PlanOverview>, AppError> {
    Ok(Json(views::plan_overview(&st.db, &u).await?))
}

/// One program with its counties and months.
#[utoipa::path(get, path = "/api/v1/programs/{code}", params(("code" = String, Path, description = "program code, e.g. P2a")),
    responses((status = 200, body = ProgramDetail), (status = 404, body = ErrorBody)))]
pub async fn program_detail(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Path(code): Path<String>,
) -> Result<Json<ProgramDetail>, AppError> {
    Ok(Json(views::program_detail(&st.db, &u, &code).await?))
}

/// A new value for a program target.
#[derive(Deserialize, ToSchema)]
pub struct TargetInput {
    /// Person-times (or persons).
    pub target: i64,
    /// Why: e.g. the department's proposal and its date.
    pub reason: String,
}

/// Set a program target (e.g. a pending one, once proposed). City admin only; kept with who and when.
#[utoipa::path(put, path = "/api/v1/programs/{code}/target", request_body = TargetInput, params(("code" = String, Path)),
    responses((status = 200, body = ProgramDetail), (status = 422, body = ErrorBody)))]
pub async fn set_target(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Path(code): Path<String>,
    Json(t): Json<TargetInput>,
) -> Result<Json<ProgramDetail>, AppError> {
    jineng_store::plan::set_target(&st.db, u.user_id, &code, t.target, &t.reason).await?;
    Ok(Json(views::program_detail(&st.db, &u, &code).await?))
}

/// One county with its programs.
#[utoipa::path(get, path = "/api/v1/counties/{code}", params(("code" = String, Path)), responses((status = 200, body = CountyDetail)))]
pub async fn county_detail(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Path(code): Path<String>,
) -> Result<Json<CountyDetail>, AppError> {
    Ok(Json(views::county_detail(&st.db, &u, &code).await?))
}

/// A person as the API shows them: the ID number masked.
#[derive(Serialize, ToSchema)]
pub struct PersonView {
    /// Id.
    pub person_id: i64,
    /// e.g. `4117**********123X`.
    pub id_number_masked: String,
    /// Name.
    pub name: String,
    /// `male` / `female`.
    pub sex: String,
    /// Birth date.
    pub birth_date: String,
    /// County code.
    pub county_code: String,
    /// County name.
    pub county_name: String,
    /// Phone, masked.
    pub phone_masked: Option<String>,
    /// Rural hukou.
    pub rural: bool,
    /// Start of continuous unemployment-insurance contributions.
    pub insured_since: Option<String>,
    /// Receives a monthly pension.
    pub monthly_pension: bool,
}

impl From<PersonRow> for PersonView {
    fn from(p: PersonRow) -> Self {
        Self {
            person_id: p.person_id,
            id_number_masked: mask(&p.id_number),
            name: p.name,
            sex: p.sex,
            birth_date: p.birth_date.to_string(),
            county_code: p.county_code,
            county_name: p.county_name,
            phone_masked: p.phone.as_deref().map(mask_phone),
            rural: p.rural,
            insured_since: p.insured_since.map(|d| d.to_string()),
            monthly_pension: p.monthly_pension,
        }
    }
}

/// `13812345678` → `138****5678`.
pub fn mask_phone(p: &str) -> String {
    let c: Vec<char> = p.chars().collect();
    if c.len() < 7 {
        return "*".repeat(c.len());
    }
    format!("{}****{}", c[..3].iter().collect::<String>(), c[c.len() - 4..].iter().collect::<String>())
}

/// A page of people.
#[derive(Serialize, ToSchema)]
pub struct PeoplePage {
    /// Matches in scope.
    pub total: i64,
    /// This page.
    pub items: Vec<PersonView>,
}

/// Search and paging.
#[derive(Deserialize, IntoParams)]
pub struct SearchQuery {
    /// Name prefix or ID-number prefix (≥ 6 characters).
    pub q: Option<String>,
    /// Page, from 1.
    pub page: Option<i64>,
}

const PAGE: i64 = 50;

/// Search people by name or ID number, within the caller's scope.
#[utoipa::path(get, path = "/api/v1/people", params(SearchQuery), responses((status = 200, body = PeoplePage)))]
pub async fn list_people(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Query(q): Query<SearchQuery>,
) -> Result<Json<PeoplePage>, AppError> {
    let vis = views::people_visibility(&u)?;
    let page = q.page.unwrap_or(1).max(1);
    let (rows, total) = people::search(&st.db, &vis, q.q.as_deref().unwrap_or(""), PAGE, (page - 1) * PAGE).await?;
    Ok(Json(PeoplePage { total, items: rows.into_iter().map(PersonView::from).collect() }))
}

/// A priority-group membership in input.
#[derive(Deserialize, Serialize, ToSchema, Clone)]
pub struct GroupInput {
    /// Group code, e.g. `poor_worker`.
    pub group: String,
    /// From (YYYY-MM-DD).
    pub from: String,
    /// To (YYYY-MM-DD), or null while ongoing.
    pub to: Option<String>,
}

/// A person to register.
#[derive(Deserialize, ToSchema, Default)]
pub struct PersonInput {
    /// 18-character ID number.
    pub id_number: String,
    /// Name.
    pub name: String,
    /// County code.
    pub county_code: String,
    /// Phone.
    pub phone: Option<String>,
    /// Rural hukou.
    #[serde(default)]
    pub rural: bool,
    /// Priority groups.
    #[serde(default)]
    pub groups: Vec<GroupInput>,
}

/// Parses a person input at the boundary, collecting every field error.
pub fn parse_person(i: &PersonInput) -> Result<NewPerson, AppError> {
    let mut errors = BTreeMap::new();
    let id = IdNumber::parse(&i.id_number).map_err(|e| errors.insert("id_number".into(), e.to_string())).ok();
    let mut groups = Vec::new();
    for (n, g) in i.groups.iter().enumerate() {
        let parsed = (|| {
            let group = PriorityGroup::parse(&g.group)?;
            let date = |s: &str| {
                s.parse::<chrono::NaiveDate>().map_err(|_| {
                    jineng_domain::Invalid::new("date", format!("日期“{s}”无效"), format!("bad date '{s}'"))
                })
            };
            GroupMembership::new(group, date(&g.from)?, g.to.as_deref().map(date).transpose()?)
        })();
        match parsed {
            Ok(m) => groups.push(m),
            Err(e) => {
                errors.insert(format!("groups[{n}]"), e.to_string());
            }
        }
    }
    if i.name.trim().is_empty() {
        errors.insert("name".into(), "姓名不能为空 / name is required".into());
    }
    match id {
        Some(id_number) if errors.is_empty() => Ok(NewPerson {
            id_number,
            name: i.name.trim().into(),
            county_code: i.county_code.trim().into(),
            phone: i.phone.clone().filter(|p| !p.trim().is_empty()),
            rural: i.rural,
            groups,
        }),
        _ => Err(AppError::Invalid(errors)),
    }
}

/// A county office works only in its own county.
pub fn check_county(u: &User, county: &str) -> Result<(), AppError> {
    if u.role == Role::County && u.scope.as_deref() != Some(county) {
        return Err(AppError::Forbidden);
    }
    Ok(())
}

/// The new person's id.
#[derive(Serialize, ToSchema)]
pub struct Created {
    /// Id.
    pub id: i64,
}

/// Register a person. 422 names the field and the reason; 409 on a duplicate ID number.
#[utoipa::path(post, path = "/api/v1/people", request_body = PersonInput,
    responses((status = 201, body = Created), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_person(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Json(i): Json<PersonInput>,
) -> Result<(StatusCode, Json<Created>), AppError> {
    let new = parse_person(&i)?;
    check_county(&u, &new.county_code)?;
    let id = people::create(&st.db, Some(u.user_id), &new).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// A person with groups and trainings.
#[derive(Serialize, ToSchema)]
pub struct PersonDetail {
    /// The person.
    pub person: PersonView,
    /// Priority groups.
    pub groups: Vec<GroupRow>,
    /// Trainings, newest first.
    pub trainings: Vec<TrainingRow>,
    /// Certificates, newest first.
    pub certificates: Vec<jineng_store::assessment::CertificateRow>,
}

/// A person and their trainings, within the caller's scope.
#[utoipa::path(get, path = "/api/v1/people/{id}", params(("id" = i64, Path)), responses((status = 200, body = PersonDetail), (status = 404, body = ErrorBody)))]
pub async fn get_person(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<PersonDetail>, AppError> {
    let vis = views::people_visibility(&u)?;
    let p = people::get(&st.db, &vis, id).await?;
    Ok(Json(PersonDetail {
        groups: people::groups(&st.db, id).await?,
        trainings: people::trainings(&st.db, id).await?,
        certificates: jineng_store::assessment::certificates_of(&st.db, id).await?,
        person: p.into(),
    }))
}

/// Editable fields of a person.
#[derive(Deserialize, ToSchema)]
pub struct PersonUpdateInput {
    /// Name.
    pub name: String,
    /// County code.
    pub county_code: String,
    /// Phone.
    pub phone: Option<String>,
    /// Rural hukou.
    #[serde(default)]
    pub rural: bool,
    /// Start of continuous unemployment-insurance contributions (`YYYY-MM-DD`), absent if not insured.
    #[serde(default)]
    pub insured_since: Option<chrono::NaiveDate>,
    /// Receives a monthly pension.
    #[serde(default)]
    pub monthly_pension: bool,
}

/// Update a person (the ID number is fixed).
#[utoipa::path(put, path = "/api/v1/people/{id}", request_body = PersonUpdateInput, params(("id" = i64, Path)), responses((status = 200, body = PersonView)))]
pub async fn update_person(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Path(id): Path<i64>,
    Json(i): Json<PersonUpdateInput>,
) -> Result<Json<PersonView>, AppError> {
    let vis = views::people_visibility(&u)?;
    check_county(&u, i.county_code.trim())?;
    let upd = PersonUpdate {
        name: i.name,
        county_code: i.county_code.trim().into(),
        phone: i.phone.filter(|p| !p.trim().is_empty()),
        rural: i.rural,
        insured_since: i.insured_since,
        monthly_pension: i.monthly_pension,
    };
    people::update(&st.db, Some(u.user_id), &vis, id, &upd).await?;
    Ok(Json(people::get(&st.db, &vis, id).await?.into()))
}

/// Parses the `{kind}` path segment.
pub fn org_kind(s: &str) -> Result<OrgKind, AppError> {
    match s {
        "employers" => Ok(OrgKind::Employer),
        "providers" => Ok(OrgKind::Provider),
        "assessment-bodies" => Ok(OrgKind::AssessmentBody),
        _ => Err(AppError::NotFound),
    }
}

/// Who may change an organisation: the city admin any; a county office its county's employers.
pub fn check_org_write(u: &User, kind: OrgKind, county: &str) -> Result<(), AppError> {
    match (u.role, kind) {
        (Role::CityAdmin, _) => Ok(()),
        (Role::County, OrgKind::Employer) => check_county(u, county),
        _ => Err(AppError::Forbidden),
    }
}

fn read_county(u: &User, kind: OrgKind) -> Option<String> {
    if kind == OrgKind::Employer {
        views::org_county(u)
    } else {
        None
    }
}

/// List employers, providers or assessment bodies (a county office sees its county's employers).
#[utoipa::path(get, path = "/api/v1/orgs/{kind}", params(("kind" = String, Path, description = "employers | providers | assessment-bodies"), SearchQuery),
    responses((status = 200, body = [OrgRow])))]
pub async fn list_orgs(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Path(kind): Path<String>,
    Query(q): Query<SearchQuery>,
) -> Result<Json<Vec<OrgRow>>, AppError> {
    let kind = org_kind(&kind)?;
    Ok(Json(orgs::list(&st.db, kind, read_county(&u, kind).as_deref(), q.q.as_deref().unwrap_or(""), 500).await?))
}

/// An organisation to create or update.
#[derive(Deserialize, ToSchema, Default)]
pub struct OrgInputBody {
    /// Unified social credit code.
    pub credit_code: String,
    /// Keep a code whose check character fails (legacy data), with a warning.
    #[serde(default)]
    pub legacy: bool,
    /// Name.
    pub name: String,
    /// County code.
    pub county_code: String,
    /// Employer kind: enterprise | cooperative | poverty_workshop | college | other.
    pub kind: Option<String>,
    /// Employer pays unemployment insurance.
    #[serde(default)]
    pub insured: bool,
    /// Catalog status: listed | suspended | removed.
    pub status: Option<String>,
}

impl From<OrgInputBody> for OrgInput {
    fn from(b: OrgInputBody) -> Self {
        OrgInput {
            credit_code: b.credit_code,
            legacy: b.legacy,
            name: b.name,
            county_code: b.county_code.trim().into(),
            kind: b.kind,
            insured: b.insured,
            status: b.status,
        }
    }
}

/// Create an organisation. 422 names the field and reason (e.g. the credit code's check character); 409 on a duplicate code.
#[utoipa::path(post, path = "/api/v1/orgs/{kind}", request_body = OrgInputBody, params(("kind" = String, Path)),
    responses((status = 201, body = Created), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_org(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Path(kind): Path<String>,
    Json(b): Json<OrgInputBody>,
) -> Result<(StatusCode, Json<Created>), AppError> {
    let kind = org_kind(&kind)?;
    check_org_write(&u, kind, b.county_code.trim())?;
    let id = orgs::create(&st.db, Some(u.user_id), kind, &b.into()).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// One organisation.
#[utoipa::path(get, path = "/api/v1/orgs/{kind}/{id}", params(("kind" = String, Path), ("id" = i64, Path)), responses((status = 200, body = OrgRow)))]
pub async fn get_org(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Path((kind, id)): Path<(String, i64)>,
) -> Result<Json<OrgRow>, AppError> {
    let kind = org_kind(&kind)?;
    Ok(Json(orgs::get(&st.db, kind, id, read_county(&u, kind).as_deref()).await?))
}

/// Update an organisation.
#[utoipa::path(put, path = "/api/v1/orgs/{kind}/{id}", request_body = OrgInputBody, params(("kind" = String, Path), ("id" = i64, Path)), responses((status = 200, body = OrgRow)))]
pub async fn update_org(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Path((kind, id)): Path<(String, i64)>,
    Json(b): Json<OrgInputBody>,
) -> Result<Json<OrgRow>, AppError> {
    let kind = org_kind(&kind)?;
    check_org_write(&u, kind, b.county_code.trim())?;
    let county = read_county(&u, kind);
    orgs::update(&st.db, Some(u.user_id), kind, id, county.as_deref(), &b.into()).await?;
    Ok(Json(orgs::get(&st.db, kind, id, county.as_deref()).await?))
}

/// Classes visible to the caller, newest first.
#[utoipa::path(get, path = "/api/v1/classes", params(SearchQuery), responses((status = 200, body = [ClassRow])))]
pub async fn list_classes(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Query(q): Query<SearchQuery>,
) -> Result<Json<Vec<ClassRow>>, AppError> {
    let scope = views::class_scope(&st.db, &u).await?;
    let page = q.page.unwrap_or(1).max(1);
    Ok(Json(training::list_classes(&st.db, &scope, PAGE, (page - 1) * PAGE).await?))
}

/// One class.
#[utoipa::path(get, path = "/api/v1/classes/{id}", params(("id" = i64, Path)), responses((status = 200, body = ClassRow)))]
pub async fn get_class(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<ClassRow>, AppError> {
    let scope = views::class_scope(&st.db, &u).await?;
    Ok(Json(training::get_class(&st.db, &scope, id).await?))
}
