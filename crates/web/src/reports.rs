//! What the bureau reports upward (M1): monthly and quarterly reports for the city and each
//! county (on screen, as JSON and as `.xlsx`), the counties' submissions and the city's closing of
//! a period; the year's tasks decomposed to counties; T2 and T3 measured from the statistics
//! bureau's figures; the departments' proposals for pending targets. The figures and rules live in
//! `jineng_store::reports`, `jineng_store::labour` and `jineng_store::plan`.

use crate::auth::{Access, Auth, CurrentUser, Route, ADMIN, STAFF};
use crate::error::{AppError, ErrorBody};
use crate::guard::CsrfForm;
use crate::render::{form_result, render_page, Done, OrPage, PageError, PageResult};
use crate::state::AppState;
use crate::xlsx::{xerr, xlsx_download};
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::Json;
use jineng_domain::Role;
use jineng_store::users::User;
use jineng_store::{labour, plan, reports};
use minijinja::{context, Value};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi};

/// Who submits a county's report.
const COUNTY: &[Role] = &[Role::County];

/// Routes of this module.
pub fn routes() -> Vec<Route> {
    use Access::*;
    vec![
        Route::get("/reports", Roles(STAFF), index_page),
        Route::get("/reports/{period}", Roles(STAFF), report_page),
        Route::get("/reports/{period}/xlsx", Roles(STAFF), report_xlsx),
        Route::post("/reports/{period}/submit", Roles(COUNTY), submit_form),
        Route::post("/reports/{period}/close", Roles(ADMIN), close_form),
        Route::get("/api/v1/reports/{period}", Roles(STAFF), report_api),
        Route::get("/plan/years/{year}", Roles(STAFF), tasks_page),
        Route::post("/plan/years/{year}/{code}", Roles(ADMIN), task_form),
        Route::get("/skills", Roles(STAFF), skills_page),
        Route::post("/skills", Roles(ADMIN), statistic_form),
        Route::get("/api/v1/skills/{year}", Roles(STAFF), skills_api),
    ]
}

/// The API of this module.
#[derive(OpenApi)]
#[openapi(paths(report_api, skills_api))]
pub struct Api;

/// Which county's report.
#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct ReportQuery {
    /// A county code; none for the whole city. A county office always reads its own.
    pub county: Option<String>,
}

/// The county whose report the caller reads: a county office its own (asking for another, or
/// for the city, is refused); others the one asked for, or the city.
fn scope(u: &User, asked: Option<&str>) -> Result<Option<String>, AppError> {
    let asked = asked.filter(|c| !c.is_empty());
    if u.role == Role::County {
        let own = u.scope.clone().ok_or(AppError::Forbidden)?;
        return match asked {
            None => Ok(Some(own)),
            Some(c) if c == own => Ok(Some(own)),
            Some(_) => Err(AppError::Forbidden),
        };
    }
    if let Some(c) = asked {
        if c.len() > 12 || !c.bytes().all(|b| b.is_ascii_digit()) {
            return Err(AppError::field("county", "县区代码应为数字 / a county code is digits"));
        }
    }
    Ok(asked.map(str::to_owned))
}

fn now() -> chrono::DateTime<chrono::Utc> {
    jineng_store::now()
}

/// A month or quarter's report, for the city or one county: frozen once the city has closed the
/// period, otherwise as the figures stand, with corrections to the year's closed periods.
#[utoipa::path(get, path = "/api/v1/reports/{period}", params(("period" = String, Path, description = "2020-03 or 2020-Q1"), ReportQuery),
    responses((status = 200, description = "the report"), (status = 422, body = ErrorBody)))]
pub async fn report_api(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Path(period): Path<String>,
    Query(q): Query<ReportQuery>,
) -> Result<Json<reports::Report>, AppError> {
    let county = scope(&u, q.county.as_deref())?;
    Ok(Json(reports::report(&st.db, &period, county.as_deref(), now()).await?))
}

/// The periods to choose from: every month and quarter of the plan up to today.
fn choices(start: chrono::NaiveDate, end: chrono::NaiveDate, today: chrono::NaiveDate) -> Vec<(String, String)> {
    use chrono::Datelike;
    let mut out = Vec::new();
    let last = end.min(today);
    let (mut y, mut m) = (start.year(), start.month());
    while (y, m) <= (last.year(), last.month()) {
        if let Ok(p) = reports::Period::parse(&format!("{y:04}-{m:02}")) {
            out.push((p.code.clone(), p.zh()));
        }
        if m % 3 == 0 {
            if let Ok(p) = reports::Period::parse(&format!("{y:04}-Q{}", m / 3)) {
                out.push((p.code.clone(), p.zh()));
            }
        }
        (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    }
    out.reverse();
    out
}

/// `GET /reports`: choose a period; the periods opened, submitted or closed; the year's tasks.
pub async fn index_page(State(st): State<AppState>, auth: Auth, CurrentUser(u): CurrentUser) -> PageResult {
    let header = plan::current_plan(&st.db).await.page(&auth)?.plan;
    let today = st.clock.today();
    let periods = reports::periods(&st.db).await.page(&auth)?;
    let years: Vec<i32> = (chrono::Datelike::year(&header.start)..=chrono::Datelike::year(&header.end)).collect();
    render_page(
        &st,
        &auth,
        "reports.html",
        context! { choices => choices(header.start, header.end, today), periods => Value::from_serialize(&periods),
        years => years, county => (u.role == Role::County).then(|| u.scope.clone()).flatten(), role => u.role.code() },
    )
}

async fn report_view(
    st: &AppState,
    auth: &Auth,
    u: &User,
    period: &str,
    q: &ReportQuery,
    error: Option<AppError>,
) -> PageResult {
    let county = scope(u, q.county.as_deref()).page(auth)?;
    // Computed once per change: the key holds the audit chain's head, which every change moves.
    let (seq, _) = jineng_store::audit::head(&st.db).await.page(auth)?;
    let key = format!("{seq}:{period}:{}", county.as_deref().unwrap_or(""));
    let r = st.reports.get(&key, || reports::report(&st.db, period, county.as_deref(), now())).await.page(auth)?;
    let counties = plan::counties(&st.db).await.page(auth)?;
    let linkable = crate::views::visible_programs(&st.db, u).await.page(auth)?;
    let today = st.clock.today();
    let ended = today > r.period.to;
    let submitted = match (&county, u.role) {
        (Some(c), Role::County) => reports::submission(&st.db, &r.period.code, c).await.page(auth)?.map(
            |s| serde_json::json!({"by": s.submitted_by, "at": reports::china_time(s.submitted_at), "note": s.note}),
        ),
        _ => None,
    };
    let (errors, general) = match &error {
        Some(e) => (e.fields(), e.general()),
        None => (Default::default(), None),
    };
    render_page(
        st,
        auth,
        "report.html",
        context! { r => Value::from_serialize(&r), counties => Value::from_serialize(&counties), linkable,
        can_choose => u.role != Role::County, can_close => u.role == Role::CityAdmin && ended && r.status == "open",
        can_submit => u.role == Role::County && ended && r.status == "open" && submitted.is_none(),
        submitted => Value::from_serialize(&submitted), ended, errors => Value::from_serialize(&errors), error => general,
        my_unit => (u.role == Role::Department).then(|| u.scope.clone()).flatten() },
    )
}

/// `GET /reports/{period}`
pub async fn report_page(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    Path(period): Path<String>,
    Query(q): Query<ReportQuery>,
) -> PageResult {
    report_view(&st, &auth, &u, &period, &q, None).await
}

/// `GET /reports/{period}/xlsx`: the report as a spreadsheet to send upward unchanged.
pub async fn report_xlsx(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Path(period): Path<String>,
    Query(q): Query<ReportQuery>,
) -> Result<Response, AppError> {
    let county = scope(&u, q.county.as_deref())?;
    let r = reports::report(&st.db, &period, county.as_deref(), now()).await?;
    let bytes = tokio::task::spawn_blocking(move || reports::to_xlsx(&r).map(|b| (b, r)))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .map_err(xerr)?;
    let (bytes, r) = bytes;
    let kind = if r.period.kind == "month" { "月报" } else { "季报" };
    let name = format!("{}{}{}.xlsx", r.scope_zh, r.period_zh, kind);
    let fallback = format!("report-{}{}.xlsx", r.period.code, county.map(|c| format!("-{c}")).unwrap_or_default());
    Ok(xlsx_download(bytes, &name, &fallback))
}

/// The submission form.
#[derive(Deserialize)]
pub struct SubmitForm {
    #[serde(default)]
    note: String,
}

/// `POST /reports/{period}/submit`: a county office submits its report (报送).
pub async fn submit_form(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    Path(period): Path<String>,
    CsrfForm(f): CsrfForm<SubmitForm>,
) -> Result<Response, PageError> {
    let county = u.scope.clone().unwrap_or_default();
    let result = reports::submit(&st.db, u.user_id, &period, &county, &f.note, now())
        .await
        .map_err(AppError::from)
        .map(|()| Done::new(format!("/reports/{period}"), "已报送本期报告 / this period's report is submitted"));
    form_result(auth, result, |e, auth| async move {
        report_view(&st, &auth, &u, &period, &ReportQuery::default(), Some(e)).await
    })
    .await
}

/// `POST /reports/{period}/close`: the city closes the period; its figures are frozen.
pub async fn close_form(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    Path(period): Path<String>,
    CsrfForm(_f): CsrfForm<std::collections::HashMap<String, String>>,
) -> Result<Response, PageError> {
    let result = reports::close(&st.db, u.user_id, &period, now()).await.map_err(AppError::from).map(|sha| {
        Done::new(
            format!("/reports/{period}"),
            format!("本期已关账，数据已冻结（SHA-256 {}…）/ period closed, figures frozen", &sha[..12]),
        )
    });
    form_result(auth, result, |e, auth| async move {
        report_view(&st, &auth, &u, &period, &ReportQuery::default(), Some(e)).await
    })
    .await
}

/// `GET /plan/years/{year}`: the year's task per program and its decomposition to counties.
pub async fn tasks_page(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    Path(year): Path<i32>,
) -> PageResult {
    tasks_view(&st, &auth, &u, year, None).await
}

type TaskFailure = (String, TaskForm, AppError);

async fn tasks_view(st: &AppState, auth: &Auth, u: &User, year: i32, failed: Option<TaskFailure>) -> PageResult {
    let header = plan::current_plan(&st.db).await.page(auth)?.plan;
    let (a, b) = (chrono::Datelike::year(&header.start), chrono::Datelike::year(&header.end));
    if !(a..=b).contains(&year) {
        return Err(PageError::new(AppError::NotFound, auth.clone()));
    }
    let tasks = reports::yearly_tasks(&st.db, year).await.page(auth)?;
    let programs: Vec<_> = plan::programs(&st.db).await.page(auth)?.into_iter().filter(|p| p.unit != "none").collect();
    let counties = plan::counties(&st.db).await.page(auth)?;
    // The tasks of every year of the plan, to compare their sum with the plan's target.
    let mut all_years = std::collections::BTreeMap::<String, i64>::new();
    for y in a..=b {
        for t in reports::yearly_tasks(&st.db, y).await.page(auth)? {
            *all_years.entry(t.program_code).or_default() += t.value;
        }
    }
    let own = (u.role == Role::County).then(|| u.scope.clone()).flatten();
    let linkable = crate::views::visible_programs(&st.db, u).await.page(auth)?;
    let (failed_code, typed, errors, error) = match failed {
        Some((code, f, e)) => (Some(code), Some(f), e.fields(), e.general()),
        None => (None, None, Default::default(), None),
    };
    render_page(
        st,
        auth,
        "yearly.html",
        context! { year, years => (a..=b).collect::<Vec<_>>(), tasks => Value::from_serialize(&tasks),
        programs => Value::from_serialize(&programs), counties => Value::from_serialize(&counties),
        all_years => Value::from_serialize(&all_years), own, linkable, can_set => u.role == Role::CityAdmin,
        failed => failed_code, typed => Value::from_serialize(&typed), errors => Value::from_serialize(&errors), error },
    )
}

/// The year's task form for one program: the whole, the responsible units, each county's share
/// (`county.<code>` fields).
#[derive(Debug, Default, Deserialize, Serialize)]
pub struct TaskForm {
    #[serde(default)]
    value: String,
    #[serde(default)]
    responsible: String,
    #[serde(flatten)]
    counties: std::collections::BTreeMap<String, String>,
}

fn whole(field: &str, v: &str) -> Result<i64, AppError> {
    v.trim()
        .replace([',', '，'], "")
        .parse::<i64>()
        .map_err(|_| AppError::field(field, "请输入不小于 0 的整数 / enter a whole number, 0 or more"))
}

fn parse_task(f: &TaskForm) -> Result<(i64, Vec<(String, i64)>), AppError> {
    let value = whole("value", &f.value)?;
    let mut shares = Vec::new();
    let mut errors = std::collections::BTreeMap::new();
    for (k, v) in &f.counties {
        let Some(c) = k.strip_prefix("county.") else { continue };
        if v.trim().is_empty() {
            continue;
        }
        match whole(k, v) {
            Ok(n) => shares.push((c.to_owned(), n)),
            Err(e) => errors.extend(e.fields()),
        }
    }
    if errors.is_empty() {
        Ok((value, shares))
    } else {
        Err(AppError::Invalid(errors))
    }
}

/// `POST /plan/years/{year}/{code}`
pub async fn task_form(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    Path((year, code)): Path<(i32, String)>,
    CsrfForm(f): CsrfForm<TaskForm>,
) -> Result<Response, PageError> {
    let parsed = parse_task(&f);
    let result = match parsed {
        Ok((value, shares)) => reports::set_yearly_task(&st.db, u.user_id, year, &code, value, &f.responsible, &shares)
            .await
            .map_err(AppError::from),
        Err(e) => Err(e),
    }
    .map(|()| {
        Done::new(format!("/plan/years/{year}#task-{code}"), format!("{code} {year}年度任务已保存 / task saved"))
    });
    form_result(auth, result, |e, auth| async move { tasks_view(&st, &auth, &u, year, Some((code, f, e))).await }).await
}

/// Which year's T2 and T3.
#[derive(Debug, Default, Deserialize)]
pub struct YearQuery {
    year: Option<i32>,
}

async fn skills_view(
    st: &AppState,
    auth: &Auth,
    u: &User,
    year: Option<i32>,
    failed: Option<(StatisticForm, AppError)>,
) -> PageResult {
    let header = plan::current_plan(&st.db).await.page(auth)?.plan;
    let (a, b) = (chrono::Datelike::year(&header.start), chrono::Datelike::year(&header.end));
    let year = year.unwrap_or_else(|| chrono::Datelike::year(&st.clock.today()).clamp(a, b));
    let ratios = ratios(st, year).await.page(auth)?;
    let (typed, errors, error) = match failed {
        Some((f, e)) => (Some(f), e.fields(), e.general()),
        None => (None, Default::default(), None),
    };
    render_page(
        st,
        auth,
        "skills.html",
        context! { x => Value::from_serialize(&ratios), years => (a - 1..=b).collect::<Vec<_>>(), can_enter => u.role == Role::CityAdmin,
        typed => Value::from_serialize(&typed), errors => Value::from_serialize(&errors), error },
    )
}

/// `GET /skills?year=`: T2 and T3 per county and for the city.
pub async fn skills_page(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    Query(q): Query<YearQuery>,
) -> PageResult {
    skills_view(&st, &auth, &u, q.year, None).await
}

/// T2 and T3 for a year, per county and for the city, with the method's inputs.
#[utoipa::path(get, path = "/api/v1/skills/{year}", params(("year" = i32, Path)), responses((status = 200, description = "T2 and T3"), (status = 422, body = ErrorBody)))]
pub async fn skills_api(State(st): State<AppState>, Path(year): Path<i32>) -> Result<Json<labour::Ratios>, AppError> {
    Ok(Json(ratios(&st, year).await?.as_ref().clone()))
}

/// T2 and T3 for a year, computed once per audited change (the key holds the chain's head).
async fn ratios(st: &AppState, year: i32) -> Result<std::sync::Arc<labour::Ratios>, AppError> {
    let (seq, _) = jineng_store::audit::head(&st.db).await?;
    Ok(st.ratios.get(&format!("{seq}:{year}"), || labour::ratios(&st.db, year)).await?)
}

/// The statistics bureau's figures for a county and year.
#[derive(Debug, Default, Deserialize, Serialize)]
pub struct StatisticForm {
    #[serde(default)]
    county: String,
    #[serde(default)]
    year: String,
    #[serde(default)]
    employed: String,
    #[serde(default)]
    skilled: String,
    #[serde(default)]
    high_skilled: String,
    #[serde(default)]
    source: String,
}

fn parse_statistic(f: &StatisticForm, year: Option<i32>) -> Result<(i64, i64, i64), AppError> {
    let mut errors = std::collections::BTreeMap::new();
    let mut get = |k: &str, v: &str| match whole(k, v) {
        Ok(n) => n,
        Err(e) => {
            errors.extend(e.fields());
            0
        }
    };
    let (e, s, h) = (get("employed", &f.employed), get("skilled", &f.skilled), get("high_skilled", &f.high_skilled));
    if year.is_none() {
        errors.insert("year".into(), "请选择年度 / choose the year".into());
    }
    if errors.is_empty() {
        Ok((e, s, h))
    } else {
        Err(AppError::Invalid(errors))
    }
}

/// `POST /skills`
pub async fn statistic_form(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    CsrfForm(f): CsrfForm<StatisticForm>,
) -> Result<Response, PageError> {
    let year = f.year.trim().parse::<i32>().ok();
    let parsed = parse_statistic(&f, year);
    let result = match parsed {
        Ok((e, s, h)) => {
            labour::record(&st.db, u.user_id, f.county.trim(), year.unwrap_or_default(), e, s, h, &f.source)
                .await
                .map_err(AppError::from)
        }
        Err(e) => Err(e),
    }
    .map(|()| {
        Done::new(format!("/skills?year={}", year.unwrap_or_default()), "统计数据已保存 / the statistics are saved")
    });
    form_result(auth, result, |e, auth| async move { skills_view(&st, &auth, &u, year, Some((f, e))).await }).await
}
