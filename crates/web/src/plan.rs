//! The plan and its progress: the home page (each role's work queue, or the plan at a glance),
//! a program and a county drilled down, pages and API built from the same views, and the city
//! admin's change of a target.

use crate::auth::{Access, Auth, CurrentUser, Route, ADMIN, PLAN_PAGE, PLAN_VIEWERS, STAFF};
use crate::error::{AppError, ErrorBody};
use crate::guard::CsrfForm;
use crate::render::{form_result, render_page, Done, OrPage, PageError, PageResult};
use crate::state::AppState;
use crate::views::{self, CountyDetail, PlanOverview, ProgramDetail};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use jineng_domain::{ClaimStatus, Role};
use jineng_store::plan;
use jineng_store::queue::{self, StatusCounts};
use jineng_store::users::User;
use minijinja::{context, Value};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

/// Who proposes pending targets: the departments the plan names.
const DEPARTMENT: &[Role] = &[Role::Department];

/// Routes of this module.
pub fn routes() -> Vec<Route> {
    use Access::*;
    vec![
        Route::get("/", SignedIn, home),
        Route::get("/plan", Roles(PLAN_PAGE), plan_page),
        Route::get("/programs/{code}", Roles(STAFF), program_page),
        Route::post("/programs/{code}/target", Roles(ADMIN), set_target_form),
        Route::get("/counties/{code}", Roles(STAFF), county_page),
        Route::get("/api/v1/plan", Roles(PLAN_VIEWERS), plan_overview),
        Route::get("/api/v1/programs/{code}", Roles(STAFF), program_detail),
        Route::put("/api/v1/programs/{code}/target", Roles(ADMIN), set_target),
        Route::get("/api/v1/counties/{code}", Roles(STAFF), county_detail),
        Route::post("/programs/{code}/proposals", Roles(DEPARTMENT), propose_form),
        Route::post("/api/v1/programs/{code}/proposals", Roles(DEPARTMENT), propose_api),
        Route::post("/proposals/{id}/decision", Roles(ADMIN), decide_form),
        Route::post("/api/v1/proposals/{id}/decision", Roles(ADMIN), decide_api),
    ]
}

/// The API of this module.
#[derive(OpenApi)]
#[openapi(
    paths(plan_overview, program_detail, set_target, county_detail, propose_api, decide_api),
    components(schemas(ProposalBody, ProposalDecision))
)]
pub struct Api;

/// `GET /`: the caller's home. The city admin, departments and auditors see the plan at a
/// glance (the admin with the city's queue counts above it); every other role sees its work
/// queue, linking only to pages it may open.
pub async fn home(State(st): State<AppState>, auth: Auth, CurrentUser(u): CurrentUser) -> Result<Response, PageError> {
    match u.role {
        Role::CityAdmin => {
            let q = queue::city(&st.db).await.page(&auth)?;
            let tasks = city_tasks(&q);
            dashboard(&st, &auth, &u, Some(tasks)).await
        }
        Role::Department | Role::Auditor => dashboard(&st, &auth, &u, None).await,
        _ => Ok(queue_page(&st, &auth, &u).await?.into_response()),
    }
}

/// `GET /plan`: the plan at a glance, for the roles whose home is their work queue.
pub async fn plan_page(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
) -> Result<Response, PageError> {
    dashboard(&st, &auth, &u, None).await
}

/// The plan at a glance (T1–T3, programs; counties to drill into for staff), with `tasks` above.
async fn dashboard(st: &AppState, auth: &Auth, u: &User, tasks: Option<Vec<Task>>) -> Result<Response, PageError> {
    let overview = plan_overview_cached(st, u).await.page(auth)?;
    // A county office drills into its own county only.
    let counties: Vec<_> = plan::counties(&st.db)
        .await
        .page(auth)?
        .into_iter()
        .filter(|c| u.role != Role::County || u.scope.as_deref() == Some(c.county_code.as_str()))
        .collect();
    let staff = matches!(u.role, Role::CityAdmin | Role::Department | Role::County | Role::Finance | Role::Auditor);
    Ok(render_page(
        st,
        auth,
        "home.html",
        context! { o => Value::from_serialize(&overview), counties => Value::from_serialize(&counties), drill => staff,
        bars => Value::from_serialize(views::progress_bars(&overview)),
        tasks => Value::from_serialize(&tasks) },
    )?
    .into_response())
}

/// One count of a work queue: what it counts, how many, and where to act on it (only a page
/// the role may open).
#[derive(Debug, Serialize)]
pub struct Task {
    /// Stable key (`data-task` on the page).
    pub key: String,
    /// What it counts (Chinese).
    pub zh: String,
    /// What it counts (English).
    pub en: String,
    /// How many.
    pub count: i64,
    /// The number as shown, when it is not a count (an amount).
    pub shown: Option<String>,
    /// Where to act on it.
    pub href: Option<String>,
    /// Something waits for this role.
    pub waiting: bool,
}

fn task(key: &str, zh: &str, en: &str, count: i64, href: Option<String>) -> Task {
    Task { key: key.into(), zh: zh.into(), en: en.into(), count, shown: None, href, waiting: count > 0 }
}

/// Claims of one status: `None` when this build does not know the status (e.g. held for
/// verification, added with the verification of declared facts); a status without rows is 0.
fn claims_task(claims: &StatusCounts, code: &str, label: Option<(&str, &str)>) -> Option<Task> {
    let s = ClaimStatus::parse(code)?;
    let (zh, en) = label.unwrap_or((s.zh(), s.en()));
    let count = claims.get(s.code()).copied().unwrap_or(0);
    Some(task(&format!("claims_{code}"), zh, en, count, Some(format!("/claims?status={code}"))))
}

/// The review steps of claims a county office (or the city admin) acts on.
fn review_tasks(claims: &StatusCounts) -> Vec<Task> {
    [
        claims_task(claims, "decided", Some(("待审核的补贴申请", "claims awaiting review"))),
        claims_task(claims, "needs_verification", Some(("待核实的补贴申请", "claims held for verification"))),
        claims_task(claims, "approved", Some(("已审核待公示", "approved, to publish on the notice"))),
    ]
    .into_iter()
    .flatten()
    .collect()
}

fn city_tasks(q: &queue::CityQueue) -> Vec<Task> {
    let mut out = vec![task(
        "classes_to_review",
        "待审核的开班申请",
        "class applications to review",
        q.classes_to_review,
        Some("/classes".into()),
    )];
    out.extend(review_tasks(&q.claims));
    out.push(task(
        "open_objections",
        "未处理的异议",
        "open objections",
        q.open_objections,
        Some("/claims?status=on_notice".into()),
    ));
    out.push(task(
        "draft_batches",
        "待审批的拨付批次",
        "payment batches awaiting approval",
        q.draft_batches,
        Some("/payments".into()),
    ));
    out.extend(claims_task(&q.claims, "payment_failed", Some(("拨付失败待重新拨付", "failed payments to re-issue"))));
    out.push(task(
        "target_proposals",
        "待采纳或退回的目标建议",
        "target proposals to adopt or return",
        q.target_proposals,
        q.first_target_proposal.as_ref().map(|c| format!("/programs/{c}#proposals")),
    ));
    out.push(task(
        "earmark_proposals",
        "待采纳或退回的预算额度建议",
        "earmark proposals to adopt or return",
        q.earmark_proposals,
        Some("/budget#earmark-proposals".into()),
    ));
    out
}

/// The work queue of a county office, provider, assessment body, finance, worker or employer.
async fn queue_page(st: &AppState, auth: &Auth, u: &User) -> PageResult {
    let today = st.clock.today();
    let db = &st.db;
    let id = || u.scope_id().ok_or(AppError::Forbidden).page(auth);
    let mut tasks = Vec::new();
    let mut ctx = context! {};
    match u.role {
        Role::County => {
            let county = u.scope.clone().ok_or(AppError::Forbidden).page(auth)?;
            let q = queue::county(db, &county, today).await.page(auth)?;
            let progress = county_detail_cached(st, u, &county).await.page(auth)?;
            tasks.push(task(
                "classes_to_review",
                "待审核的开班申请",
                "class applications to review",
                q.classes_to_review,
                Some("#classes-to-review".into()),
            ));
            tasks.extend(review_tasks(&q.claims));
            tasks.push(task(
                "open_objections",
                "未处理的异议",
                "open objections",
                q.open_objections,
                Some("#objections".into()),
            ));
            // Last month's report, until the county has submitted it (M1).
            let last = chrono::Datelike::with_day(&today, 1).and_then(|d| d.pred_opt()).unwrap_or(today);
            if let Ok(period) = jineng_store::reports::Period::parse(&last.format("%Y-%m").to_string()) {
                let done = jineng_store::reports::submission(db, &period.code, &county).await.page(auth)?.is_some();
                tasks.push(task(
                    "report_due",
                    &format!("{}月报待报送（截止{}）", period.zh(), period.due_on().format("%-m月%-d日")),
                    &format!("report for {} to submit (due {})", period.en(), period.due_on()),
                    i64::from(!done),
                    Some(format!("/reports/{}", period.code)),
                ));
            }
            let mut p = task(
                "progress",
                &format!("{}完成培训（人次）", progress.name_zh),
                "person-times trained in the county",
                progress.total.person_times,
                Some(format!("/counties/{county}")),
            );
            p.waiting = false;
            tasks.push(p);
            ctx = context! { q => Value::from_serialize(&q), progress => Value::from_serialize(&progress) };
        }
        Role::Provider => {
            let q = queue::provider(db, id()?, today).await.page(auth)?;
            let n = |s: &str| q.classes.get(s).copied().unwrap_or(0);
            tasks.push(task(
                "running_today",
                "今天开课的培训班",
                "classes running today",
                q.running.len() as i64,
                Some("#running".into()),
            ));
            tasks.push(task(
                "refused_imports",
                "未导入的花名册",
                "refused roster imports to mend",
                q.refused_imports.len() as i64,
                Some("#refused-imports".into()),
            ));
            tasks.push(task(
                "classes_returned",
                "退回待修改的开班申请",
                "class applications returned to amend",
                n("returned"),
                Some("#returned".into()),
            ));
            for (code, zh, en) in [
                ("submitted", "已申请待审核", "applied, awaiting review"),
                ("approved", "已批准", "approved"),
                ("closed", "已结班", "closed"),
            ] {
                let mut t = task(&format!("classes_{code}"), zh, en, n(code), Some("/classes".into()));
                t.waiting = false;
                tasks.push(t);
            }
            ctx = context! { q => Value::from_serialize(&q) };
        }
        Role::AssessmentBody => {
            let q = queue::body(db, id()?, today).await.page(auth)?;
            tasks.push(task(
                "due_for_assessment",
                "已结业待录入考核结果的培训班",
                "classes ended without results recorded",
                q.due.len() as i64,
                Some("#due".into()),
            ));
            let mut t = task(
                "upcoming",
                "即将考核的培训班",
                "classes still running or to come",
                q.upcoming.len() as i64,
                Some("#upcoming".into()),
            );
            t.waiting = false;
            tasks.push(t);
            ctx = context! { q => Value::from_serialize(&q) };
        }
        Role::Finance => {
            let q = queue::finance(db, today).await.page(auth)?;
            tasks.push(task(
                "draft_batches",
                "待审批的拨付批次",
                "payment batches awaiting approval",
                q.draft_batches.len() as i64,
                Some("/payments".into()),
            ));
            tasks.extend(claims_task(
                &q.claims,
                "payment_failed",
                Some(("拨付失败待重新拨付", "failed payments to re-issue")),
            ));
            tasks.push(task(
                "due_for_batch",
                "公示期满待拨付的申请",
                "claims due for a payment batch",
                q.due_for_batch,
                Some("/payments".into()),
            ));
            tasks.extend(claims_task(&q.claims, "recovery_due", Some(("待追回", "recoveries due"))));
            ctx = context! { q => Value::from_serialize(&q) };
        }
        Role::Worker => {
            let person = id()?;
            let q = queue::worker(db, person, today).await.page(auth)?;
            let record = format!("/people/{person}");
            // What waits here waits for others (the class, the county, finance), not the worker.
            tasks.push(task("trainings", "我的培训", "my trainings", q.trainings, Some(record.clone())));
            tasks.push(task(
                "in_progress",
                "正在参加的培训",
                "trainings in progress",
                q.in_progress,
                Some(record.clone()),
            ));
            tasks.push(task("certificates", "我的证书", "my certificates", q.certificates, Some(record)));
            tasks.push(task(
                "claims_pending",
                "办理中的补贴",
                "subsidies in progress",
                q.pending.len() as i64,
                Some("#pending".into()),
            ));
            let mut t = task("paid", "已到账补贴", "subsidies paid", q.paid_fen, Some("/claims?status=paid".into()));
            t.shown = Some(jineng_domain::Money::from_fen(q.paid_fen).to_string());
            tasks.push(t);
            for t in &mut tasks {
                t.waiting = false;
            }
            ctx = context! { q => Value::from_serialize(&q) };
        }
        Role::Employer => {
            let q = queue::employer(db, id()?).await.page(auth)?;
            for s in ClaimStatus::ALL {
                if let Some(mut t) = claims_task(&q.claims, s.code(), None) {
                    t.waiting = false;
                    if t.count > 0 || s == ClaimStatus::Decided {
                        tasks.push(t);
                    }
                }
            }
            ctx = context! { q => Value::from_serialize(&q) };
        }
        _ => return Err(PageError::new(AppError::Forbidden, auth.clone())),
    }
    let statuses: Vec<(&str, &str)> = ClaimStatus::ALL.iter().map(|s| (s.code(), s.zh())).collect();
    render_page(
        st,
        auth,
        "queue.html",
        context! { role => u.role.code(), today => today.to_string(), tasks => Value::from_serialize(&tasks),
        statuses => statuses, scope => u.scope.clone(), ..ctx },
    )
}

/// `GET /programs/{code}`
pub async fn program_page(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    Path(code): Path<String>,
) -> PageResult {
    program_view(&st, &auth, &u, &code, None).await
}

/// A refused form on the program page: which form (`target`, `proposal`, `decision`), what was
/// typed and why.
pub type ProgramFailure = (&'static str, serde_json::Value, AppError);

/// The program page: its target and the versions of it, the departments' proposals (a form for
/// the asked department, adopt or return for the city admin), progress by county and month.
pub async fn program_view(
    st: &AppState,
    auth: &Auth,
    u: &User,
    code: &str,
    failed: Option<ProgramFailure>,
) -> PageResult {
    let d = program_detail_cached(st, u, code).await.page(auth)?;
    let proposals = plan::proposals(&st.db, code).await.page(auth)?;
    let asked = u.role == Role::Department
        && plan::programs(&st.db)
            .await
            .page(auth)?
            .iter()
            .any(|p| p.program_code == code && u.scope.as_deref().is_some_and(|s| p.asked_codes().contains(&s)));
    let (form, typed, errors, error) = match failed {
        Some((form, typed, e)) => (Some(form), typed, e.fields(), e.general()),
        None => (None, serde_json::Value::Null, Default::default(), None),
    };
    render_page(
        st,
        auth,
        "program.html",
        context! { d => Value::from_serialize(&d), can_set => u.role == Role::CityAdmin, can_propose => asked,
        proposals => Value::from_serialize(&proposals), form, typed => Value::from_serialize(&typed),
        errors => Value::from_serialize(&errors), error },
    )
}

/// The target form.
#[derive(Deserialize, Serialize)]
pub struct TargetForm {
    target: String,
    reason: String,
}

/// `POST /programs/{code}/target`
pub async fn set_target_form(
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
    let result = result
        .map(|()| Done::new(format!("/programs/{code}"), "目标已设定，变更已记录 / target set; the change is kept"));
    form_result(auth, result, |e, auth| async move {
        let typed = serde_json::to_value(&f).unwrap_or_default();
        program_view(&st, &auth, &u, &code, Some(("target", typed, e))).await
    })
    .await
}

/// `GET /counties/{code}`
pub async fn county_page(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    Path(code): Path<String>,
) -> PageResult {
    let d = county_detail_cached(&st, &u, &code).await.page(&auth)?;
    render_page(&st, &auth, "county.html", context! { d => Value::from_serialize(&d) })
}

/// The plan at a glance: T1–T3 and every program visible to the caller.
#[utoipa::path(get, path = "/api/v1/plan", responses((status = 200, body = PlanOverview)))]
pub async fn plan_overview(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
) -> Result<Json<PlanOverview>, AppError> {
    Ok(Json(plan_overview_cached(&st, &u).await?))
}

/// One program with its counties and months.
#[utoipa::path(get, path = "/api/v1/programs/{code}", params(("code" = String, Path, description = "program code, e.g. P2a")),
    responses((status = 200, body = ProgramDetail), (status = 404, body = ErrorBody)))]
pub async fn program_detail(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Path(code): Path<String>,
) -> Result<Json<ProgramDetail>, AppError> {
    Ok(Json(program_detail_cached(&st, &u, &code).await?))
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
    Ok(Json(program_detail_cached(&st, &u, &code).await?))
}

/// One county with its programs.
#[utoipa::path(get, path = "/api/v1/counties/{code}", params(("code" = String, Path)), responses((status = 200, body = CountyDetail)))]
pub async fn county_detail(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Path(code): Path<String>,
) -> Result<Json<CountyDetail>, AppError> {
    Ok(Json(county_detail_cached(&st, &u, &code).await?))
}

/// A department's proposal for a pending target.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct ProposalBody {
    /// The proposed value (person-times or persons, as the program counts).
    pub value: i64,
    /// The reasoning behind it.
    pub reasoning: String,
}

/// A department asked by the plan proposes a pending target's value (one open proposal each).
#[utoipa::path(post, path = "/api/v1/programs/{code}/proposals", request_body = ProposalBody, params(("code" = String, Path)),
    responses((status = 201, description = "proposed; the id"), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn propose_api(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Path(code): Path<String>,
    Json(b): Json<ProposalBody>,
) -> Result<Response, AppError> {
    let department = u.scope.clone().ok_or(AppError::Forbidden)?;
    let id = plan::propose(&st.db, u.user_id, &department, &code, b.value, &b.reasoning).await?;
    Ok((axum::http::StatusCode::CREATED, Json(serde_json::json!({"proposal_id": id}))).into_response())
}

/// The proposal form.
#[derive(Debug, Default, Deserialize, Serialize)]
pub struct ProposalForm {
    #[serde(default)]
    value: String,
    #[serde(default)]
    reasoning: String,
}

/// `POST /programs/{code}/proposals`
pub async fn propose_form(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    Path(code): Path<String>,
    CsrfForm(f): CsrfForm<ProposalForm>,
) -> Result<Response, PageError> {
    let value = f
        .value
        .trim()
        .replace([',', '，'], "")
        .parse::<i64>()
        .map_err(|_| AppError::field("value", "请输入不小于 0 的整数 / enter a whole number, 0 or more"));
    let result = match (value, u.scope.clone()) {
        (Ok(v), Some(d)) => plan::propose(&st.db, u.user_id, &d, &code, v, &f.reasoning).await.map_err(AppError::from),
        (Err(e), _) => Err(e),
        (_, None) => Err(AppError::Forbidden),
    }
    .map(|id| {
        Done::new(
            format!("/programs/{code}#proposals"),
            format!("建议已提交（第 {id} 号），待市人社局采纳 / proposal {id} submitted for the city's decision"),
        )
    });
    form_result(auth, result, |e, auth| async move {
        program_view(&st, &auth, &u, &code, Some(("proposal", serde_json::to_value(&f).unwrap_or_default(), e))).await
    })
    .await
}

/// The city's decision on a proposal.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct ProposalDecision {
    /// `adopt` or `return`.
    pub decision: String,
    /// The reasoning, required when returning it.
    #[serde(default)]
    pub reason: String,
}

fn adopt_of(d: &str) -> Result<bool, AppError> {
    match d {
        "adopt" => Ok(true),
        "return" => Ok(false),
        _ => Err(AppError::field("decision", "请选择采纳或退回 / choose adopt or return")),
    }
}

/// The city admin adopts a proposal (the target takes its value) or returns it, with a reason.
#[utoipa::path(post, path = "/api/v1/proposals/{id}/decision", request_body = ProposalDecision, params(("id" = i64, Path)),
    responses((status = 204, description = "decided"), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn decide_api(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Path(id): Path<i64>,
    Json(b): Json<ProposalDecision>,
) -> Result<Response, AppError> {
    plan::decide_proposal(&st.db, u.user_id, id, adopt_of(&b.decision)?, &b.reason).await?;
    Ok(axum::http::StatusCode::NO_CONTENT.into_response())
}

/// The decision form (on the program page).
#[derive(Debug, Default, Deserialize, Serialize)]
pub struct DecisionForm {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    program: String,
}

/// `POST /proposals/{id}/decision`
pub async fn decide_form(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<DecisionForm>,
) -> Result<Response, PageError> {
    let code: String = f.program.chars().filter(|c| c.is_ascii_alphanumeric()).take(8).collect();
    let result = match adopt_of(&f.decision) {
        Ok(adopt) => {
            plan::decide_proposal(&st.db, u.user_id, id, adopt, &f.reason).await.map_err(AppError::from).map(|()| {
                let (zh, en) = if adopt { ("已采纳", "adopted") } else { ("已退回", "returned") };
                Done::new(format!("/programs/{code}#proposals"), format!("第 {id} 号建议{zh} / proposal {id} {en}"))
            })
        }
        Err(e) => Err(e),
    };
    form_result(auth, result, |e, auth| async move {
        program_view(&st, &auth, &u, &code, Some(("decision", serde_json::json!({"id": id, "reason": f.reason}), e)))
            .await
    })
    .await
}

/// [`views::plan_overview`] as `user`'s role and scope see it, counted once between audited changes.
async fn plan_overview_cached(st: &AppState, user: &User) -> Result<views::PlanOverview, AppError> {
    let key = format!("overview:{}:{:?}", user.role.code(), user.scope);
    crate::render::cached_view(st, &key, || views::plan_overview(&st.db, user)).await
}

/// [`views::program_detail`] as `user`'s role and scope see it, counted once between audited changes.
async fn program_detail_cached(st: &AppState, user: &User, code: &str) -> Result<views::ProgramDetail, AppError> {
    let key = format!("program:{}:{:?}:{code:?}", user.role.code(), user.scope);
    crate::render::cached_view(st, &key, || views::program_detail(&st.db, user, code)).await
}

/// [`views::county_detail`] as `user`'s role and scope see it, counted once between audited changes.
async fn county_detail_cached(st: &AppState, user: &User, code: &str) -> Result<views::CountyDetail, AppError> {
    let key = format!("county:{}:{:?}:{code:?}", user.role.code(), user.scope);
    crate::render::cached_view(st, &key, || views::county_detail(&st.db, user, code)).await
}
