//! The real-name registry of workers: search, register, edit; a person's page (their electronic
//! training record, 电子档案) with groups, trainings, certificates and subsidies, also as .xlsx.
//! ID numbers and phones are masked on every page and in the API.

use crate::auth::{Access, Auth, CurrentUser, Route, PEOPLE_READERS, PEOPLE_WRITERS};
use crate::common::{Created, SearchQuery, PAGE};
use crate::error::{AppError, ErrorBody};
use crate::guard::CsrfForm;
use crate::render::{form_result, render_page, Done, OrPage, PageError, PageResult};
use crate::state::AppState;
use crate::views::{self, check_county, form_choices};
use crate::xlsx::{sheet, xerr, xlsx_download, yuan};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use chrono::Datelike;
use jineng_domain::id_number::mask;
use jineng_domain::{GroupMembership, IdNumber, PriorityGroup, Role};
use jineng_store::people::{self, GroupRow, NewPerson, PersonRow, PersonUpdate, TrainingRow};
use jineng_store::users::User;
use jineng_store::{assessment, plan};
use minijinja::{context, Value};
use rust_xlsxwriter::Workbook;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{OpenApi, ToSchema};

/// Routes of this module.
pub fn routes() -> Vec<Route> {
    use Access::*;
    vec![
        Route::get("/people", Roles(PEOPLE_READERS), people_page),
        Route::post("/people", Roles(PEOPLE_WRITERS), create_person_form),
        Route::get("/people/new", Roles(PEOPLE_WRITERS), new_person_page),
        Route::get("/people/{id}", Roles(PEOPLE_READERS), person_page),
        Route::post("/people/{id}", Roles(PEOPLE_WRITERS), update_person_form),
        Route::get("/people/{id}/edit", Roles(PEOPLE_WRITERS), edit_person_page),
        Route::get("/people/{id}/record.xlsx", Roles(PEOPLE_READERS), record_xlsx),
        Route::get("/api/v1/people", Roles(PEOPLE_READERS), list_people),
        Route::post("/api/v1/people", Roles(PEOPLE_WRITERS), create_person),
        Route::get("/api/v1/people/{id}", Roles(PEOPLE_READERS), get_person),
        Route::put("/api/v1/people/{id}", Roles(PEOPLE_WRITERS), update_person),
    ]
}

/// The API of this module.
#[derive(OpenApi)]
#[openapi(paths(list_people, create_person, get_person, update_person))]
pub struct Api;

/// `GET /people`
pub async fn people_page(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    Query(q): Query<SearchQuery>,
) -> PageResult {
    let vis = views::people_visibility(&u).page(&auth)?;
    let text = q.q.clone().unwrap_or_default();
    let found = people::search(&st.db, &vis, &text, PAGE, q.after).await.page(&auth)?;
    // How many the scope holds, from the counts kept per county (a search shows its pages only).
    let total = if text.trim().is_empty() { people::count(&st.db, &vis).await.page(&auth)? } else { None };
    let next = found.next;
    let rows: Vec<PersonView> = found.rows.into_iter().map(PersonView::from).collect();
    render_page(
        &st,
        &auth,
        "people.html",
        context! {
            rows => Value::from_serialize(&rows), total, q => text, next, first => q.after.is_none(),
            can_create => matches!(u.role, Role::CityAdmin | Role::County),
        },
    )
}

/// `GET /people/new`
pub async fn new_person_page(State(st): State<AppState>, auth: Auth, CurrentUser(u): CurrentUser) -> PageResult {
    let counties = plan::counties(&st.db).await.page(&auth)?;
    render_page(
        &st,
        &auth,
        "person_form.html",
        context! { p => Value::from(()), errors => Value::from(()), ..form_choices(&counties, &u) },
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
    #[serde(default)]
    work_county: Option<String>,
}

/// `POST /people`
pub async fn create_person_form(
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
        let id = people::create(&st.db, Some(u.user_id), &new).await?;
        Ok::<_, AppError>(Done::new(format!("/people/{id}"), "已登记 / registered"))
    }
    .await;
    form_result(auth, result, |e, auth| async move {
        let counties = plan::counties(&st.db).await.page(&auth)?;
        let p = serde_json::json!({"id_number": input.id_number, "name": input.name, "county_code": input.county_code, "phone": input.phone, "rural": input.rural});
        render_page(
            &st,
            &auth,
            "person_form.html",
            context! { p => Value::from_serialize(&p), errors => Value::from_serialize(e.fields()), error => e.general(), ..form_choices(&counties, &u) },
        )
    })
    .await
}

/// `GET /people/{id}`
pub async fn person_page(
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
    let trainings = people::trainings(&st.db, id, own_classes(&u)).await.page(&auth)?;
    let certificates = jineng_store::assessment::certificates_of(&st.db, id, own_classes(&u)).await.page(&auth)?;
    let view = PersonView::from(p);
    let subsidies = views::subsidies_of(&st.db, id, &u).await.page(&auth)?;
    // Where each fact comes from: for the offices, the auditor and the person themselves.
    let facts = if sees_facts(&u) { jineng_store::facts::of_person(&st.db, id).await.page(&auth)? } else { Vec::new() };
    render_page(
        &st,
        &auth,
        "person.html",
        context! {
            p => Value::from_serialize(&view), groups => Value::from_serialize(&groups), trainings => Value::from_serialize(&trainings),
            certificates => Value::from_serialize(&certificates), cert_kinds => Value::from_serialize(jineng_store::assessment::CERT_KINDS),
            can_edit => matches!(u.role, Role::CityAdmin | Role::County),
            subsidies => Value::from_serialize(&subsidies), facts => Value::from_serialize(&facts),
            fact_names => Value::from_serialize(FACT_NAMES),
        },
    )
}

/// Who sees where a person's facts come from: the offices, the auditor and the person.
fn sees_facts(u: &User) -> bool {
    matches!(u.role, Role::CityAdmin | Role::County | Role::Auditor | Role::Worker | Role::Department)
}

/// The facts a person's page lists, in words.
const FACT_NAMES: &[(&str, &str)] = &[
    ("residence_county", "常住县区 Residence"),
    ("hukou_county", "户籍县区 Hukou county"),
    ("work_county", "就业县区 Work county"),
    ("rural", "农村户籍 Rural hukou"),
    ("insured_since", "失业保险参保起始 Insured since"),
    ("monthly_pension", "按月领取养老金 Monthly pension"),
    ("business_started", "创业（营业执照）日期 Business started"),
    ("group", "人员类别 Group"),
    ("employment", "就业 Employment"),
];

/// `GET /people/{id}/edit`
pub async fn edit_person_page(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    Path(id): Path<i64>,
) -> PageResult {
    let vis = views::people_visibility(&u).page(&auth)?;
    let p = people::get(&st.db, &vis, id).await.page(&auth)?;
    let counties = plan::counties(&st.db).await.page(&auth)?;
    // Every fact the form saves is on it, so saving it unchanged changes nothing.
    let pv = serde_json::json!({"person_id": p.person_id, "id_number_masked": mask(&p.id_number), "name": p.name, "county_code": p.county_code,
                               "phone": p.phone.as_deref().map(mask_phone), "rural": p.rural, "insured_since": p.insured_since, "monthly_pension": p.monthly_pension});
    render_page(
        &st,
        &auth,
        "person_form.html",
        context! { p => Value::from_serialize(&pv), errors => Value::from(()), ..form_choices(&counties, &u) },
    )
}

/// `POST /people/{id}`
pub async fn update_person_form(
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
        Some(Err(_)) => Err(AppError::field("insured_since", "日期格式应为 YYYY-MM-DD / date must be YYYY-MM-DD")),
        Some(Ok(d)) => Ok(Some(d)),
        None => Ok(None),
    };
    let result = async {
        let upd = PersonUpdate {
            name: f.name.clone(),
            county_code: f.county_code.trim().into(),
            phone: f.phone.clone().filter(|p| !p.trim().is_empty()),
            rural: f.rural.is_some(),
            insured_since: insured_since?,
            monthly_pension: f.monthly_pension.is_some(),
            work_county: f.work_county.clone(),
        };
        people::update(&st.db, Some(u.user_id), &vis, id, &upd).await?;
        Ok(Done::new(format!("/people/{id}"), "已保存 / saved"))
    }
    .await;
    form_result(auth, result, |e, auth| async move {
        let counties = plan::counties(&st.db).await.page(&auth)?;
        let pv = serde_json::json!({"person_id": id, "name": f.name, "county_code": f.county_code, "phone": f.phone, "rural": f.rural.is_some(),
                                   "insured_since": f.insured_since, "monthly_pension": f.monthly_pension.is_some()});
        render_page(
            &st,
            &auth,
            "person_form.html",
            context! { p => Value::from_serialize(&pv), errors => Value::from_serialize(e.fields()), error => e.general(), ..form_choices(&counties, &u) },
        )
    })
    .await
}

/// A person as the API shows them: the ID number masked.
#[derive(Serialize, ToSchema)]
pub struct PersonView {
    pub person_id: i64,
    /// e.g. `4117**********123X`.
    pub id_number_masked: String,
    pub name: String,
    /// `male` / `female`.
    pub sex: String,
    /// Year of birth. The full date is not shown: with it, the masked ID number could be rebuilt.
    pub birth_year: i32,
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
    /// County of work or job seeking, if recorded.
    pub work_county: Option<String>,
}

impl From<PersonRow> for PersonView {
    fn from(p: PersonRow) -> Self {
        Self {
            person_id: p.person_id,
            id_number_masked: mask(&p.id_number),
            name: p.name,
            sex: p.sex,
            birth_year: p.birth_date.year(),
            county_code: p.county_code,
            county_name: p.county_name,
            phone_masked: p.phone.as_deref().map(mask_phone),
            rural: p.rural,
            insured_since: p.insured_since.map(|d| d.to_string()),
            monthly_pension: p.monthly_pension,
            work_county: p.work_county,
        }
    }
}

/// A provider sees a trainee's trainings and certificates in its own classes only, not what
/// the person did elsewhere.
fn own_classes(u: &User) -> Option<i64> {
    (u.role == Role::Provider).then(|| u.scope_id()).flatten()
}

/// `13812345678` → `138****5678`.
pub fn mask_phone(p: &str) -> String {
    jineng_domain::phone::mask(p)
}

/// A page of people.
#[derive(Serialize, ToSchema)]
pub struct PeoplePage {
    /// This page.
    pub items: Vec<PersonView>,
    /// The next page: ask again with `after` set to this (none: the last page).
    pub next: Option<i64>,
}

/// Search people by name or ID number, within the caller's scope.
#[utoipa::path(get, path = "/api/v1/people", params(SearchQuery), responses((status = 200, body = PeoplePage)))]
pub async fn list_people(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Query(q): Query<SearchQuery>,
) -> Result<Json<PeoplePage>, AppError> {
    let vis = views::people_visibility(&u)?;
    let found = people::search(&st.db, &vis, q.q.as_deref().unwrap_or(""), PAGE, q.after).await?;
    Ok(Json(PeoplePage { items: found.rows.into_iter().map(PersonView::from).collect(), next: found.next }))
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
    pub name: String,
    /// County code.
    pub county_code: String,
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
    /// The facts in force with their sources (for the offices, the auditor and the person).
    pub facts: Vec<jineng_store::facts::FactRow>,
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
        trainings: people::trainings(&st.db, id, own_classes(&u)).await?,
        certificates: jineng_store::assessment::certificates_of(&st.db, id, own_classes(&u)).await?,
        facts: if sees_facts(&u) { jineng_store::facts::of_person(&st.db, id).await? } else { Vec::new() },
        person: p.into(),
    }))
}

/// Editable fields of a person.
#[derive(Deserialize, ToSchema)]
pub struct PersonUpdateInput {
    pub name: String,
    /// County code.
    pub county_code: String,
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
    /// County of work or job seeking (area code, may be outside the city); absent: unchanged,
    /// empty: none.
    #[serde(default)]
    pub work_county: Option<String>,
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
    let work_county = match i.work_county {
        Some(w) => Some(w),
        None => people::get(&st.db, &vis, id).await?.work_county,
    };
    let upd = PersonUpdate {
        name: i.name,
        county_code: i.county_code.trim().into(),
        phone: i.phone.filter(|p| !p.trim().is_empty()),
        rural: i.rural,
        insured_since: i.insured_since,
        monthly_pension: i.monthly_pension,
        work_county,
    };
    people::update(&st.db, Some(u.user_id), &vis, id, &upd).await?;
    Ok(Json(people::get(&st.db, &vis, id).await?.into()))
}

/// `GET /people/{id}/record.xlsx`: one person's trainings, certificates and groups (ID masked).
pub async fn record_xlsx(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let vis = views::people_visibility(&u)?;
    let p = people::get(&st.db, &vis, id).await?;
    let trainings = people::trainings(&st.db, id, own_classes(&u)).await?;
    let certificates = assessment::certificates_of(&st.db, id, own_classes(&u)).await?;
    let groups = people::groups(&st.db, id).await?;
    let mut wb = Workbook::new();
    let info = vec![
        vec!["姓名 Name".into(), p.name.clone()],
        vec!["身份证号 ID number".into(), mask(&p.id_number)],
        vec!["性别 Sex".into(), if p.sex == "male" { "男".into() } else { "女".into() }],
        vec!["出生年份 Year of birth".into(), p.birth_date.year().to_string()],
        vec!["县区 County".into(), p.county_name.clone()],
    ];
    sheet(&mut wb, "基本信息", &["项目", "内容"], &info).map_err(xerr)?;
    let rows: Vec<Vec<String>> = trainings
        .iter()
        .map(|t| {
            vec![
                t.class_name.clone(),
                t.program_code.clone(),
                format!("{} {}", t.occupation_code, t.occupation_name),
                t.level.map(|l| l.to_string()).unwrap_or_default(),
                jineng_domain::TrainingKind::parse(&t.kind)
                    .map(|k| k.zh().to_owned())
                    .unwrap_or_else(|_| t.kind.clone()),
                t.provider_name.clone(),
                format!("{} — {}", t.start_date, t.end_date),
                if t.subsidised { "是".into() } else { "否".into() },
                format!("{} 天", t.days_attended),
                t.completed_on.map(|d| d.to_string()).unwrap_or_else(|| "未结业".into()),
            ]
        })
        .collect();
    sheet(
        &mut wb,
        "培训记录",
        &["培训班", "计划", "职业(工种)", "等级", "类型", "培训机构", "时间", "补贴性", "出勤", "结业"],
        &rows,
    )
    .map_err(xerr)?;
    let rows: Vec<Vec<String>> = certificates
        .iter()
        .map(|c| {
            vec![
                c.kind.clone(),
                format!("{} {}", c.occupation_code, c.occupation_name),
                c.level.map(|l| l.to_string()).unwrap_or_default(),
                c.serial.clone(),
                c.issued_on.to_string(),
                c.body_name.clone(),
            ]
        })
        .collect();
    sheet(&mut wb, "证书", &["证书类型", "职业(工种)", "等级", "编号", "发证日期", "评价机构"], &rows).map_err(xerr)?;
    let rows: Vec<Vec<String>> = groups
        .iter()
        .map(|g| {
            vec![
                jineng_domain::PriorityGroup::parse(&g.group_code)
                    .map(|x| x.zh().to_owned())
                    .unwrap_or_else(|_| g.group_code.clone()),
                g.from_date.to_string(),
                g.to_date.map(|d| d.to_string()).unwrap_or_else(|| "至今".into()),
            ]
        })
        .collect();
    sheet(&mut wb, "人员类别", &["类别", "起", "止"], &rows).map_err(xerr)?;
    let subsidies = views::subsidies_of(&st.db, id, &u).await?;
    let rows: Vec<Vec<String>> = subsidies
        .iter()
        .map(|c| {
            let s = |k: &str| c[k].as_str().unwrap_or_default().to_owned();
            vec![
                c["claim_id"].to_string(),
                s("kind_zh"),
                s("filed_on"),
                views::outcome_zh(&s("outcome")).to_owned(),
                yuan(c["amount_fen"].as_i64().unwrap_or(0)),
                s("status_zh"),
            ]
        })
        .collect();
    sheet(&mut wb, "补贴", &["编号", "补贴类型", "日期", "政策测算", "金额(元)", "状态"], &rows).map_err(xerr)?;
    let bytes = wb.save_to_buffer().map_err(xerr)?;
    crate::xlsx::audit_export(&st.db, u.user_id, "person", &id.to_string(), 1).await?;
    Ok(xlsx_download(bytes, &format!("电子培训档案-{}.xlsx", p.name), "export.xlsx"))
}
