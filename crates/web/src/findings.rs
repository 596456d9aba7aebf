//! Findings of the fraud and anomaly checks (S12): the city admin and auditors read them by
//! check, county, provider and status (a county office reads its county's), the city admin runs
//! every check and confirms or dismisses each finding with a reason. A confirmed finding blocks
//! the claims it touches from review, publication and payment; the city admin can open the
//! recovery of what was paid on them and suspend the provider in the catalog. The investigators'
//! file is an `.xlsx`. The checks themselves live in `jineng_store::checks`.

use crate::auth::{Access, Auth, CurrentUser, Route, ADMIN, FINDING_READERS};
use crate::error::AppError;
use crate::guard::CsrfForm;
use crate::render::{form_result, render_page, Done, OrPage, PageError, PageResult};
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use jineng_domain::Role;
use jineng_store::checks::{self, Check, Finding, RunSummary};
use jineng_store::orgs::{self, OrgKind};
use jineng_store::users::User;
use minijinja::{context, Value};
use serde::Deserialize;
use serde_json::json;
use utoipa::{IntoParams, OpenApi, ToSchema};

/// Routes of this module.
pub fn routes() -> Vec<Route> {
    use Access::*;
    vec![
        Route::get("/findings", Roles(FINDING_READERS), findings_page),
        Route::get("/findings.xlsx", Roles(FINDING_READERS), findings_xlsx),
        Route::post("/findings/run", Roles(ADMIN), run_form),
        Route::post("/findings/{id}/decision", Roles(ADMIN), decide_form),
        Route::post("/findings/{id}/recoveries", Roles(ADMIN), recoveries_form),
        Route::post("/findings/{id}/suspension", Roles(ADMIN), suspension_form),
        Route::get("/api/v1/findings", Roles(FINDING_READERS), list_api),
        Route::post("/api/v1/findings/run", Roles(ADMIN), run_api),
        Route::post("/api/v1/findings/{id}/decision", Roles(ADMIN), decide_api),
        Route::post("/api/v1/findings/{id}/recoveries", Roles(ADMIN), recoveries_api),
        Route::post("/api/v1/findings/{id}/suspension", Roles(ADMIN), suspension_api),
    ]
}

/// The API of this module.
#[derive(OpenApi)]
#[openapi(
    paths(list_api, run_api, decide_api, recoveries_api, suspension_api),
    components(schemas(Finding, RunSummary, DecisionBody, SuspensionBody))
)]
pub struct Api;

/// At most this many findings are listed at once (the API and the .xlsx); the page shows
/// fewer, with the claims each confirmed one touches.
const LIMIT: i64 = 1000;
const PAGE_LIMIT: usize = 200;

/// Filters of the list.
#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct FindingQuery {
    /// `open`, `confirmed` or `dismissed`.
    pub status: Option<String>,
    /// A check's code, e.g. `two_classes_one_day`.
    pub check: Option<String>,
    /// A county code (the city's readers; a county office always reads its own).
    pub county: Option<String>,
    /// A provider id.
    pub provider: Option<i64>,
}

impl FindingQuery {
    fn status(&self) -> Result<Option<&str>, AppError> {
        match self.status.as_deref().filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(s @ ("open" | "confirmed" | "dismissed")) => Ok(Some(s)),
            Some(_) => Err(AppError::field(
                "status",
                "状态应为 open、confirmed 或 dismissed / status is open, confirmed or dismissed",
            )),
        }
    }

    /// The county to read: a county office's own, else the one asked for.
    fn county<'a>(&'a self, u: &'a User) -> Option<&'a str> {
        if u.role == Role::County {
            // A county office without a county reads nothing (the empty code matches no finding).
            return Some(u.scope.as_deref().unwrap_or(""));
        }
        self.county.as_deref().filter(|c| !c.is_empty())
    }

    fn check(&self) -> Result<Option<&str>, AppError> {
        match self.check.as_deref().filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(c) => Check::parse(c)
                .map(|c| Some(c.code()))
                .ok_or_else(|| AppError::field("check", "没有这项检查 / no such check")),
        }
    }
}

/// Findings of the checks, newest first (at most 1,000), by status and check.
#[utoipa::path(get, path = "/api/v1/findings", params(FindingQuery), responses((status = 200, body = Vec<Finding>)))]
pub async fn list_api(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Query(q): Query<FindingQuery>,
) -> Result<Json<Vec<Finding>>, AppError> {
    let mut list = checks::list(&st.db, q.status()?, q.check()?, q.county(&u), LIMIT).await?;
    list.retain(|f| q.provider.is_none_or(|p| f.provider_id == Some(p)));
    Ok(Json(list))
}

/// Runs every check and records the findings that are new (city admin).
#[utoipa::path(post, path = "/api/v1/findings/run", responses((status = 200, body = RunSummary)))]
pub async fn run_api(State(st): State<AppState>, CurrentUser(u): CurrentUser) -> Result<Json<RunSummary>, AppError> {
    Ok(Json(checks::run_all(&st.db, Some(u.user_id)).await?))
}

/// A decision on a finding.
#[derive(Debug, Deserialize, ToSchema)]
pub struct DecisionBody {
    /// `confirm` or `dismiss`.
    pub decision: String,
    /// Why (required).
    #[serde(default)]
    pub reason: String,
}

fn confirm_of(decision: &str) -> Result<bool, AppError> {
    match decision {
        "confirm" => Ok(true),
        "dismiss" => Ok(false),
        _ => Err(AppError::field("decision", "请选择确认或排除 / choose confirm or dismiss")),
    }
}

async fn decide(st: &AppState, u: &User, id: i64, decision: &str, reason: &str) -> Result<Finding, AppError> {
    let confirm = confirm_of(decision)?;
    Ok(checks::decide(&st.db, Some(u.user_id), id, confirm, reason).await?)
}

/// Confirms or dismisses an open finding with a reason (city admin; audited).
#[utoipa::path(post, path = "/api/v1/findings/{id}/decision", request_body = DecisionBody, params(("id" = i64, Path)),
    responses((status = 200, body = Finding), (status = 422, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn decide_api(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Path(id): Path<i64>,
    Json(b): Json<DecisionBody>,
) -> Result<Response, AppError> {
    let f = decide(&st, &u, id, &b.decision, &b.reason).await?;
    Ok((StatusCode::OK, Json(f)).into_response())
}

/// The tables whose ids the evidence names, with the page that shows one (if any).
fn evidence_links(rows: &serde_json::Value) -> Vec<serde_json::Value> {
    const TABLES: &[(&str, &str, &str, Option<&str>)] = &[
        ("person", "人员", "person", Some("people")),
        ("class", "培训班", "class", Some("classes")),
        ("claim", "补贴申请", "claim", Some("claims")),
        ("certificate", "证书", "certificate", None),
        ("attendance", "签到记录", "check-in", None),
        ("enrolment", "报名记录", "enrolment", None),
        ("provider", "培训机构", "provider", None),
        ("assessment_body", "评价机构", "assessment body", None),
    ];
    TABLES
        .iter()
        .filter_map(|(key, zh, en, href)| {
            let ids = rows.get(*key)?.as_array()?;
            (!ids.is_empty()).then(|| json!({"table": key, "zh": zh, "en": en, "href": href, "ids": ids}))
        })
        .collect()
}

/// A refused decision: the finding, what was typed and the error.
type Failed<'a> = (i64, &'a str, AppError);

/// Open, confirmed and dismissed counts, and the money at stake of those not dismissed.
fn tally<'a>(list: impl Iterator<Item = &'a Finding>) -> serde_json::Value {
    let (mut open, mut confirmed, mut dismissed, mut money) = (0, 0, 0, 0i64);
    for f in list {
        match f.status.as_str() {
            "open" => open += 1,
            "confirmed" => confirmed += 1,
            _ => dismissed += 1,
        }
        if f.status != "dismissed" {
            money += f.money_fen.unwrap_or(0);
        }
    }
    json!({"open": open, "confirmed": confirmed, "dismissed": dismissed, "money_fen": money})
}

/// The names of the providers findings are filed under.
async fn provider_names(st: &AppState, all: &[Finding]) -> Result<std::collections::BTreeMap<i64, String>, AppError> {
    let mut names = std::collections::BTreeMap::new();
    for id in all.iter().filter_map(|f| f.provider_id) {
        if let std::collections::btree_map::Entry::Vacant(e) = names.entry(id) {
            let name = orgs::get(&st.db, OrgKind::Provider, id, None).await.map(|o| o.name).unwrap_or_default();
            e.insert(name);
        }
    }
    Ok(names)
}

use jineng_store::reports::china_time as china;

async fn page_of(st: &AppState, auth: &Auth, u: &User, q: &FindingQuery, failed: Option<Failed<'_>>) -> PageResult {
    let status = q.status().page(auth)?;
    let check = q.check().page(auth)?;
    let county = q.county(u);
    let all = checks::list(&st.db, None, None, county, 100_000).await.page(auth)?;
    let counties = jineng_store::plan::counties(&st.db).await.page(auth)?;
    let names = provider_names(st, &all).await.page(auth)?;
    let by_check: Vec<serde_json::Value> = Check::ALL
        .iter()
        .map(|c| {
            let mut t = tally(all.iter().filter(|f| f.check_code == c.code()));
            t["code"] = json!(c.code());
            t["zh"] = json!(c.zh());
            t["en"] = json!(c.en());
            t["clause"] = json!(c.clause());
            t
        })
        .collect();
    let by_county: Vec<serde_json::Value> = counties
        .iter()
        .filter(|c| county.is_none_or(|k| k == c.county_code))
        .map(|c| {
            let mut t = tally(all.iter().filter(|f| f.county_code.as_deref() == Some(c.county_code.as_str())));
            t["code"] = json!(c.county_code);
            t["name"] = json!(c.name_zh);
            t
        })
        .collect();
    let mut by_provider: Vec<serde_json::Value> = names
        .iter()
        .map(|(id, name)| {
            let mut t = tally(all.iter().filter(|f| f.provider_id == Some(*id)));
            t["id"] = json!(id);
            t["name"] = json!(name);
            t
        })
        .collect();
    by_provider.sort_by_key(|t| {
        (std::cmp::Reverse(t["confirmed"].as_i64().unwrap_or(0) + t["open"].as_i64().unwrap_or(0)), t["id"].as_i64())
    });
    let chosen: Vec<&Finding> = all
        .iter()
        .filter(|f| status.is_none_or(|s| f.status == s) && check.is_none_or(|c| f.check_code == c))
        .filter(|f| q.provider.is_none_or(|p| f.provider_id == Some(p)))
        .collect();
    let mut shown = Vec::new();
    for f in chosen.iter().take(PAGE_LIMIT) {
        let evidence: serde_json::Value = serde_json::from_str(&f.evidence).unwrap_or_default();
        let c = Check::parse(&f.check_code);
        // A confirmed finding shows the claims it blocks (and those paid, to recover).
        let touched = if f.status == "confirmed" {
            jineng_store::stops::touched_claims(&st.db, f.finding_id).await.page(auth)?
        } else {
            Vec::new()
        };
        let county_name = counties.iter().find(|c| Some(&c.county_code) == f.county_code.as_ref()).map(|c| &c.name_zh);
        shown.push(json!({"id": f.finding_id, "check": f.check_code, "check_zh": c.map(Check::zh), "check_en": c.map(Check::en),
               "clause": f.clause, "subject": f.subject, "zh": evidence["zh"], "en": evidence["en"],
               "links": evidence_links(&evidence["rows"]), "money_fen": f.money_fen, "status": f.status,
               "reason": f.reason, "decided_by": f.decided_by, "decided_at": f.decided_at.map(china),
               "found_at": china(f.found_at), "county": county_name, "provider_id": f.provider_id,
               "provider": f.provider_id.and_then(|p| names.get(&p)),
               "claims": touched.iter().map(|(id, st, fen)| json!({"id": id, "status": st,
                   "status_zh": jineng_domain::ClaimStatus::parse(st).map(|s| s.zh()), "amount_fen": fen})).collect::<Vec<_>>(),
               "paid": touched.iter().filter(|c| c.1 == "paid").count()}));
    }
    let (failed, typed, errors, error) = match failed {
        Some((id, reason, e)) => (Some(id), reason.to_owned(), e.fields(), e.general()),
        None => (None, String::new(), Default::default(), None),
    };
    let query = filters_query(q, u);
    render_page(
        st,
        auth,
        "findings.html",
        context! { by_check => Value::from_serialize(&by_check), findings => Value::from_serialize(&shown),
        by_county => Value::from_serialize(&by_county), by_provider => Value::from_serialize(&by_provider),
        counties => Value::from_serialize(&counties), county, provider => q.provider,
        total_shown => chosen.len(), page_limit => PAGE_LIMIT, query,
        status => status, check => check, can_decide => u.role == Role::CityAdmin, is_county => u.role == Role::County,
        failed, typed, errors => Value::from_serialize(&errors), error },
    )
}

/// The list's filters as a query string, for the .xlsx link (a county office's own county is
/// implied, never passed on).
fn filters_query(q: &FindingQuery, u: &User) -> String {
    let mut pairs: Vec<(&str, String)> = Vec::new();
    let mut put = |k, v: Option<&str>| {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            pairs.push((k, v.to_owned()));
        }
    };
    put("status", q.status.as_deref());
    put("check", q.check.as_deref());
    if u.role != Role::County {
        put("county", q.county.as_deref());
    }
    let provider = q.provider.map(|p| p.to_string());
    put("provider", provider.as_deref());
    serde_urlencoded::to_string(&pairs).unwrap_or_default()
}

/// `GET /findings.xlsx`: the findings of the filters, for the investigators' file (audited).
pub async fn findings_xlsx(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Query(q): Query<FindingQuery>,
) -> Result<Response, AppError> {
    let mut list = checks::list(&st.db, q.status()?, q.check()?, q.county(&u), LIMIT * 100).await?;
    list.retain(|f| q.provider.is_none_or(|p| f.provider_id == Some(p)));
    let counties = jineng_store::plan::counties(&st.db).await?;
    let names = provider_names(&st, &list).await?;
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|f| {
            let evidence: serde_json::Value = serde_json::from_str(&f.evidence).unwrap_or_default();
            let c = Check::parse(&f.check_code);
            let rows = evidence["rows"]
                .as_object()
                .map(|o| {
                    o.iter()
                        .map(|(k, v)| {
                            let ids: Vec<String> = v.as_array().into_iter().flatten().map(|i| i.to_string()).collect();
                            format!("{k}: {}", ids.join(","))
                        })
                        .collect::<Vec<_>>()
                        .join("; ")
                })
                .unwrap_or_default();
            vec![
                f.finding_id.to_string(),
                c.map_or(f.check_code.clone(), |c| c.zh().to_owned()),
                f.clause.clone(),
                f.county_code
                    .as_ref()
                    .and_then(|k| counties.iter().find(|c| &c.county_code == k))
                    .map(|c| c.name_zh.clone())
                    .unwrap_or_default(),
                f.provider_id.and_then(|p| names.get(&p).cloned()).unwrap_or_default(),
                evidence["zh"].as_str().unwrap_or_default().to_owned(),
                f.money_fen.map(crate::xlsx::yuan).unwrap_or_default(),
                match f.status.as_str() {
                    "open" => "待核查",
                    "confirmed" => "已确认",
                    _ => "已排除",
                }
                .to_owned(),
                f.reason.clone().unwrap_or_default(),
                f.decided_at.map(china).unwrap_or_default(),
                china(f.found_at),
                rows,
            ]
        })
        .collect();
    let mut wb = rust_xlsxwriter::Workbook::new();
    crate::xlsx::sheet(
        &mut wb,
        "疑点线索",
        &[
            "编号",
            "检查项",
            "条款",
            "县区",
            "培训机构",
            "线索",
            "涉及金额（元）",
            "状态",
            "理由",
            "处理时间",
            "发现时间",
            "证据（表: 编号）",
        ],
        &rows,
    )
    .map_err(crate::xlsx::xerr)?;
    let bytes = wb.save_to_buffer().map_err(crate::xlsx::xerr)?;
    crate::xlsx::audit_export(&st.db, u.user_id, "finding", "all", rows.len()).await?;
    Ok(crate::xlsx::xlsx_download(bytes, "疑点线索.xlsx", "findings.xlsx"))
}

/// Opens the recovery of what was paid on the claims a confirmed finding touches (city admin).
#[utoipa::path(post, path = "/api/v1/findings/{id}/recoveries", params(("id" = i64, Path)),
    responses((status = 200, description = "the claims now due for recovery: `{\"claims\": [ids]}`"),
              (status = 422, body = crate::error::ErrorBody)))]
pub async fn recoveries_api(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<serde_json::Value>, AppError> {
    let claims = checks::open_recoveries(&st.db, u.user_id, id).await?;
    Ok(Json(json!({"claims": claims})))
}

/// Why a provider is suspended.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct SuspensionBody {
    /// Why (required).
    #[serde(default)]
    pub reason: String,
}

/// Suspends in the catalog the provider a confirmed finding is filed under (city admin).
#[utoipa::path(post, path = "/api/v1/findings/{id}/suspension", request_body = SuspensionBody, params(("id" = i64, Path)),
    responses((status = 200, description = "`{\"provider_id\": n}`"), (status = 409, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)))]
pub async fn suspension_api(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Path(id): Path<i64>,
    Json(b): Json<SuspensionBody>,
) -> Result<Json<serde_json::Value>, AppError> {
    let provider = checks::suspend_provider(&st.db, u.user_id, id, &b.reason).await?;
    Ok(Json(json!({"provider_id": provider})))
}

/// `POST /findings/{id}/recoveries`
pub async fn recoveries_form(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    Path(id): Path<i64>,
    CsrfForm(_f): CsrfForm<std::collections::HashMap<String, String>>,
) -> Result<Response, PageError> {
    let result = checks::open_recoveries(&st.db, u.user_id, id).await.map_err(AppError::from).map(|c| {
        Done::new(
            format!("/findings?status=confirmed#finding-{id}"),
            format!("已对 {} 笔已拨付申请启动追回 / {} paid claims are now due for recovery", c.len(), c.len()),
        )
    });
    form_result(auth, result, |e, auth| async move {
        page_of(&st, &auth, &u, &FindingQuery::default(), Some((id, "", e))).await
    })
    .await
}

/// `POST /findings/{id}/suspension`
pub async fn suspension_form(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<DecisionForm>,
) -> Result<Response, PageError> {
    let result = checks::suspend_provider(&st.db, u.user_id, id, &f.reason).await.map_err(AppError::from).map(|p| {
        Done::new(
            format!("/findings?status=confirmed#finding-{id}"),
            format!("培训机构 {p} 已暂停目录资格 / provider {p} is suspended in the catalog"),
        )
    });
    form_result(auth, result, |e, auth| async move {
        page_of(&st, &auth, &u, &FindingQuery::default(), Some((id, &f.reason, e))).await
    })
    .await
}

/// `GET /findings`
pub async fn findings_page(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    Query(q): Query<FindingQuery>,
) -> PageResult {
    page_of(&st, &auth, &u, &q, None).await
}

/// `POST /findings/run`: the "run all checks" button.
pub async fn run_form(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    CsrfForm(_f): CsrfForm<std::collections::HashMap<String, String>>,
) -> Result<Response, PageError> {
    let result = checks::run_all(&st.db, Some(u.user_id)).await.map_err(AppError::from).map(|s| {
        Done::new(
            "/findings?status=open",
            format!(
                "已运行全部检查：新增线索 {} 条（共发现 {} 条）/ all checks run: {} new findings ({} found in all)",
                s.recorded, s.found, s.recorded, s.found
            ),
        )
    });
    form_result(auth, result, |e, auth| async move { Err(PageError::new(e, auth)) }).await
}

/// A decision form.
#[derive(Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    reason: String,
}

/// `POST /findings/{id}/decision`
pub async fn decide_form(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<DecisionForm>,
) -> Result<Response, PageError> {
    let result = decide(&st, &u, id, &f.decision, &f.reason).await.map(|found| {
        let (zh, en) = if found.status == "confirmed" { ("确认", "confirmed") } else { ("排除", "dismissed") };
        Done::new(format!("/findings#finding-{id}"), format!("已{zh}第 {id} 号线索 / finding {id} {en}"))
    });
    form_result(auth, result, |e, auth| async move {
        page_of(&st, &auth, &u, &FindingQuery::default(), Some((id, &f.reason, e))).await
    })
    .await
}
