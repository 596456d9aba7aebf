//! The public column (职业技能提升行动专栏, M3 and S12), open to everyone without signing in:
//! the plan and the policy parameters with their effective dates, the catalogs and the notice,
//! and the fund-use disclosure (资金公开) as pages and as open data (`/open/*.csv`, `.json`).
//!
//! Nothing here names a person: the tables count trainees per provider and occupation and
//! money per fund, program, county and month, with small counts suppressed by the rule of
//! `jineng_store::disclosure`. The figures are counted at most once a minute (the state's
//! disclosure cache).

use crate::auth::{Access, Auth, Route};
use crate::cache::Encoded;
use crate::error::AppError;
use crate::render::{render_page, OrPage, PageError, PageResult};
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use jineng_store::disclosure::{self, Disclosure, FundDisclosure, MoneyCell, Totals, TraineeCell, MAX_ROWS};
use jineng_store::{parameters, plan};
use minijinja::{context, Value};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;
use utoipa::{IntoParams, OpenApi, ToSchema};

/// Routes of this module.
pub fn routes() -> Vec<Route> {
    use Access::Public;
    vec![
        Route::get("/public", Public, column_page),
        Route::get("/public/disclosure", Public, disclosure_page),
        Route::get("/open/money.csv", Public, money_csv),
        Route::get("/open/money.json", Public, money_json),
        Route::get("/open/trainees.csv", Public, trainees_csv),
        Route::get("/open/trainees.json", Public, trainees_json),
        Route::get("/open/funds.csv", Public, funds_csv),
        Route::get("/open/funds.json", Public, funds_json),
    ]
}

/// The API of this module (the open data's JSON).
#[derive(OpenApi)]
#[openapi(paths(money_json, trainees_json, funds_json))]
pub struct Api;

/// How long a client or proxy may keep the open data (it holds no personal data).
const OPEN_CACHE: &str = "public, max-age=60";

/// The disclosure, counted at most once per [`crate::state::PUBLIC_TTL`].
async fn snapshot(st: &AppState) -> Result<Arc<Disclosure>, AppError> {
    st.disclosure.get(|| async { Ok::<_, AppError>(disclosure::disclosure(&st.db).await?) }).await
}

/// What the disclosure pages and the money data are asked.
#[derive(Debug, Deserialize, IntoParams)]
pub struct YearQuery {
    /// A calendar year (`2020`); all years when absent or empty.
    pub year: Option<String>,
}

/// What the disclosure page is asked: a year and a page of the trainee table.
#[derive(Debug, Deserialize)]
pub struct DisclosureQuery {
    /// A calendar year (`2020`); all years when absent or empty.
    pub year: Option<String>,
    /// A page of the trainee table, from 1.
    pub page: Option<String>,
}

/// A page of the trainee table, checked: 1 to 10,000.
fn page_number(page: Option<&str>) -> Result<usize, AppError> {
    match page.map(str::trim).filter(|p| !p.is_empty()) {
        None => Ok(1),
        Some(p) => p
            .parse::<usize>()
            .ok()
            .filter(|p| (1..=10_000).contains(p))
            .ok_or_else(|| AppError::field("page", "页码应为1至10000 / the page must be 1–10000")),
    }
}

/// Whether the client takes gzip (`Accept-Encoding` names it without `q=0`).
fn accepts_gzip(headers: &HeaderMap) -> bool {
    let Some(v) = headers.get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    v.split(',').any(|part| {
        let mut it = part.split(';');
        it.next().map(str::trim) == Some("gzip")
            && !it.any(|p| p.trim().strip_prefix("q=").and_then(|q| q.parse::<f32>().ok()) == Some(0.0))
    })
}

/// An open-data file from the short cache, under `key` (its name and query): gzip-compressed
/// when the client accepts it (compressed once per minute, not per request).
async fn cached_file<F, Fut>(
    st: &AppState,
    headers: &HeaderMap,
    key: &str,
    content_type: &str,
    disposition: &str,
    build: F,
) -> Result<Response, AppError>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<Vec<u8>, AppError>>,
{
    let file = st
        .open_files
        .get(key, || async { Encoded::new(build().await?).map_err(|e| AppError::Internal(e.to_string())) })
        .await?;
    let mut res = if accepts_gzip(headers) {
        let mut r = download(file.gzip.clone(), content_type, disposition);
        r.headers_mut().insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        r
    } else {
        download(file.plain.clone(), content_type, disposition)
    };
    res.headers_mut().insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    Ok(res)
}

impl YearQuery {
    /// The year asked for, checked: four digits between 2000 and 2100.
    fn year(&self) -> Result<Option<i32>, AppError> {
        match self.year.as_deref().map(str::trim).filter(|y| !y.is_empty()) {
            None => Ok(None),
            Some(y) => y.parse::<i32>().ok().filter(|y| (2000..=2100).contains(y)).map(Some).ok_or_else(|| {
                AppError::field("year", "年份应为2000至2100之间的四位数字 / the year must be 2000–2100")
            }),
        }
    }
}

/// `GET /public`: the column's front page: the plan with its period and status, its programs
/// with the plan's words, the policy parameters with their effective dates and sources, and
/// links to the catalogs, the notice and the disclosure.
pub async fn column_page(State(st): State<AppState>, auth: Auth) -> Result<Response, PageError> {
    crate::render::cached_page(&st, &auth, "/public", || column(&st, &auth)).await
}

async fn column(st: &AppState, auth: &Auth) -> PageResult {
    let (st, auth) = (st.clone(), auth.clone());
    let plan = plan::current_plan(&st.db).await.page(&auth)?;
    let params = parameters::effective(&st.db).await.page(&auth)?;
    let programs: Vec<_> = plan
        .programs
        .iter()
        .map(|p| json!({"code": p.code, "name_zh": p.name_zh, "name_en": p.name_en, "clause": p.clause, "quote": p.quote}))
        .collect();
    render_page(
        &st,
        &auth,
        "public.html",
        context! {
            plan => Value::from_serialize(&plan.plan),
            programs => Value::from_serialize(&programs),
            params => Value::from_serialize(crate::views::parameter_views(&params, st.clock.today())),
        },
    )
}

/// A published total, for the page: one row of a summary.
#[derive(Serialize)]
struct SummaryRow {
    key: String,
    name: String,
    totals: Totals,
}

/// Sums of published money cells by one dimension.
fn money_by(cells: &[&MoneyCell], key: impl Fn(&MoneyCell) -> (String, String)) -> Vec<SummaryRow> {
    let mut m: BTreeMap<String, SummaryRow> = BTreeMap::new();
    for c in cells {
        let (k, name) = key(c);
        let row = m.entry(k.clone()).or_insert(SummaryRow { key: k, name, totals: Totals::default() });
        match (c.claims, c.amount_fen) {
            (Some(n), Some(a)) => {
                row.totals.count += n;
                row.totals.amount_fen += a;
            }
            _ => row.totals.suppressed_cells += 1,
        }
    }
    m.into_values().collect()
}

/// Rows a page lists of the trainee table (the open data has all of them on one sheet).
const PAGE_TRAINEE_ROWS: usize = 100;

/// `GET /public/disclosure?year=`: fund-use disclosure: each fund's earmark, allocations,
/// payments and recoveries; money paid by fund and month, by program and by county; trainees
/// per provider and occupation; the suppression rule and the open data's schema.
pub async fn disclosure_page(
    State(st): State<AppState>,
    auth: Auth,
    Query(q): Query<DisclosureQuery>,
) -> Result<Response, PageError> {
    let year = YearQuery { year: q.year.clone() }.year().page(&auth)?;
    let page = page_number(q.page.as_deref()).page(&auth)?;
    let key = format!("/public/disclosure?year={}&page={page}", year.unwrap_or(0));
    crate::render::cached_page(&st, &auth, &key, || disclosure_view(&st, &auth, year, page)).await
}

async fn disclosure_view(st: &AppState, auth: &Auth, year: Option<i32>, page: usize) -> PageResult {
    let (st, auth) = (st.clone(), auth.clone());
    let d = snapshot(&st).await.page(&auth)?;
    let mut years: Vec<String> = d.money.iter().filter_map(|c| c.month.get(..4).map(str::to_owned)).collect();
    years.dedup();
    let cells: Vec<&MoneyCell> = d.money.iter().filter(|c| disclosure::in_year(&c.month, year)).collect();
    let by_month =
        money_by(&cells, |c| (format!("{} {}", c.month, c.fund_code), format!("{} · {}", c.month, c.fund_name)));
    let by_program = money_by(&cells, |c| match &c.program_code {
        Some(p) => (p.clone(), format!("{p} {}", c.program_name.clone().unwrap_or_default())),
        None => ("~".into(), "未关联专项计划 not tied to a program".into()),
    });
    let by_county = money_by(&cells, |c| (c.county_code.clone(), c.county_name.clone()));
    let totals = d.money_totals(year);
    render_page(
        &st,
        &auth,
        "disclosure.html",
        context! {
            year, years,
            funds => Value::from_serialize(&d.funds),
            by_month => Value::from_serialize(&by_month),
            by_program => Value::from_serialize(&by_program),
            by_county => Value::from_serialize(&by_county),
            money_total => Value::from_serialize(totals.get("")),
            trainees => Value::from_serialize(d.trainees.iter().skip((page - 1) * PAGE_TRAINEE_ROWS).take(PAGE_TRAINEE_ROWS).collect::<Vec<_>>()),
            trainee_rows => d.trainees.len(), page_rows => PAGE_TRAINEE_ROWS, page,
            pages => d.trainees.len().div_ceil(PAGE_TRAINEE_ROWS).max(1),
            trainee_total => Value::from_serialize(d.trainee_totals()),
            built_at => (d.built_at + chrono::Duration::hours(8)).format("%Y-%m-%d %H:%M").to_string(),
            rule_zh => disclosure::RULE_ZH, rule_en => disclosure::RULE_EN,
        },
    )
}

/// One open-data table as JSON: the rows, the published totals, the rule and whether rows were
/// cut at [`MAX_ROWS`].
#[derive(Serialize, ToSchema)]
pub struct OpenTable<T: ToSchema> {
    /// `money`, `trainees` or `funds`.
    pub dataset: &'static str,
    /// When the figures were counted (UTC).
    pub generated_at: chrono::DateTime<chrono::Utc>,
    /// The year asked for (money only), or null for all.
    pub year: Option<i32>,
    /// The suppression rule, Chinese.
    pub rule_zh: &'static str,
    /// The suppression rule, English.
    pub rule_en: &'static str,
    /// Totals of the published cells (suppressed cells are counted, not added).
    pub totals: Option<Totals>,
    /// More rows than the limit (100,000): the rest are left out.
    pub truncated: bool,
    /// The rows.
    pub rows: Vec<T>,
}

fn open_json<T: Serialize + ToSchema + Clone>(
    dataset: &'static str,
    d: &Disclosure,
    year: Option<i32>,
    totals: Option<Totals>,
    rows: Vec<&T>,
) -> Result<Vec<u8>, AppError> {
    let truncated = rows.len() > MAX_ROWS;
    let table = OpenTable {
        dataset,
        generated_at: d.built_at,
        year,
        rule_zh: disclosure::RULE_ZH,
        rule_en: disclosure::RULE_EN,
        totals,
        truncated,
        rows: rows.into_iter().take(MAX_ROWS).cloned().collect(),
    };
    serde_json::to_vec(&table).map_err(|e| AppError::Internal(e.to_string()))
}

const JSON: &str = "application/json; charset=utf-8";
const CSV: &str = "text/csv; charset=utf-8";

fn download(body: axum::body::Bytes, content_type: &str, disposition: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, disposition.to_owned()),
            (header::CACHE_CONTROL, OPEN_CACHE.to_owned()),
        ],
        body,
    )
        .into_response()
}

/// A CSV file: UTF-8 with a byte-order mark (so that Excel reads the Chinese), a header row,
/// fields quoted when they hold a comma, quote or line break, and text that a spreadsheet would
/// take for a formula (`=`, `+`, `-`, `@` first) led by an apostrophe.
fn csv(header: &[&str], rows: impl Iterator<Item = Vec<String>>) -> Vec<u8> {
    let mut out = String::from("\u{feff}");
    let line = |out: &mut String, fields: &[String]| {
        let cells: Vec<String> =
            fields
                .iter()
                .map(|f| {
                    if f.contains([',', '"', '\n', '\r']) {
                        format!("\"{}\"", f.replace('"', "\"\""))
                    } else {
                        f.clone()
                    }
                })
                .collect();
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    };
    line(&mut out, &header.iter().map(|h| (*h).to_owned()).collect::<Vec<_>>());
    for row in rows.take(MAX_ROWS) {
        line(&mut out, &row);
    }
    out.into_bytes()
}

fn attachment(name: &str) -> String {
    format!("attachment; filename=\"{name}\"")
}

/// Text for a CSV cell: what a spreadsheet would run as a formula is led by an apostrophe.
fn text(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    }
}

fn opt(n: Option<i64>) -> String {
    n.map(|n| n.to_string()).unwrap_or_default()
}

fn yuan(fen: Option<i64>) -> String {
    fen.map(|f| format!("{}{}.{:02}", if f < 0 { "-" } else { "" }, f.abs() / 100, f.abs() % 100)).unwrap_or_default()
}

fn flag(suppressed: bool, s: Option<disclosure::Suppression>) -> [String; 2] {
    [if suppressed { "true" } else { "false" }.into(), s.map(|s| s.code().to_owned()).unwrap_or_default()]
}

/// Columns of `/open/money.csv`.
pub const MONEY_COLUMNS: [&str; 12] = [
    "month",
    "fund_code",
    "fund_name",
    "program_code",
    "program_name",
    "county_code",
    "county_name",
    "claims",
    "amount_yuan",
    "amount_fen",
    "suppressed",
    "suppression",
];

/// `GET /open/money.csv?year=`: money paid per month, fund, program and county.
pub async fn money_csv(
    State(st): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<YearQuery>,
) -> Result<Response, AppError> {
    let year = q.year()?;
    let name = match year {
        Some(y) => format!("money-{y}.csv"),
        None => "money.csv".into(),
    };
    cached_file(&st, &headers, &format!("/open/{name}"), CSV, &attachment(&name), || async {
        let d = snapshot(&st).await?;
        let rows = d.money.iter().filter(|c| disclosure::in_year(&c.month, year)).map(|c| {
            let mut r = vec![
                c.month.clone(),
                c.fund_code.clone(),
                text(&c.fund_name),
                c.program_code.clone().unwrap_or_default(),
                text(c.program_name.as_deref().unwrap_or("")),
                c.county_code.clone(),
                text(&c.county_name),
                opt(c.claims),
                yuan(c.amount_fen),
                opt(c.amount_fen),
            ];
            r.extend(flag(c.suppressed, c.suppression));
            r
        });
        Ok(csv(&MONEY_COLUMNS, rows))
    })
    .await
}

/// Money paid per month, fund, program and county (public; cells of 1–4 claims suppressed).
#[utoipa::path(get, path = "/open/money.json", params(YearQuery), responses((status = 200, body = OpenTable<MoneyCell>)))]
pub async fn money_json(
    State(st): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<YearQuery>,
) -> Result<Response, AppError> {
    let year = q.year()?;
    let key = format!("/open/money.json?year={}", year.unwrap_or(0));
    cached_file(&st, &headers, &key, JSON, "inline; filename=\"money.json\"", || async {
        let d = snapshot(&st).await?;
        let rows: Vec<&MoneyCell> = d.money.iter().filter(|c| disclosure::in_year(&c.month, year)).collect();
        let totals = d.money_totals(year).get("").copied().unwrap_or_default();
        open_json("money", &d, year, Some(totals), rows)
    })
    .await
}

/// Columns of `/open/trainees.csv`.
pub const TRAINEE_COLUMNS: [&str; 7] = [
    "provider_name",
    "provider_credit_code",
    "occupation_code",
    "occupation_name",
    "trainees",
    "suppressed",
    "suppression",
];

/// `GET /open/trainees.csv`: person-times completed per provider and occupation.
pub async fn trainees_csv(State(st): State<AppState>, headers: HeaderMap) -> Result<Response, AppError> {
    cached_file(&st, &headers, "/open/trainees.csv", CSV, &attachment("trainees.csv"), || async {
        let d = snapshot(&st).await?;
        let rows = d.trainees.iter().map(|c| {
            let mut r = vec![
                text(&c.provider_name),
                c.provider_credit_code.clone(),
                c.occupation_code.clone(),
                text(&c.occupation_name),
                opt(c.trainees),
            ];
            r.extend(flag(c.suppressed, c.suppression));
            r
        });
        Ok(csv(&TRAINEE_COLUMNS, rows))
    })
    .await
}

/// Person-times completed per training provider and occupation (public; cells of 1–4 suppressed).
#[utoipa::path(get, path = "/open/trainees.json", responses((status = 200, body = OpenTable<TraineeCell>)))]
pub async fn trainees_json(State(st): State<AppState>, headers: HeaderMap) -> Result<Response, AppError> {
    cached_file(&st, &headers, "/open/trainees.json", JSON, "inline; filename=\"trainees.json\"", || async {
        let d = snapshot(&st).await?;
        open_json("trainees", &d, None, Some(d.trainee_totals()), d.trainees.iter().collect())
    })
    .await
}

/// Columns of `/open/funds.csv`.
pub const FUND_COLUMNS: [&str; 8] = [
    "fund_code",
    "fund_name",
    "earmark_fen",
    "earmark_document",
    "earmark_adopted_on",
    "allocated_fen",
    "paid_fen",
    "recovered_fen",
];

/// `GET /open/funds.csv`: each fund's earmark, allocations, payments and recoveries.
pub async fn funds_csv(State(st): State<AppState>, headers: HeaderMap) -> Result<Response, AppError> {
    cached_file(&st, &headers, "/open/funds.csv", CSV, &attachment("funds.csv"), || async {
        let d = snapshot(&st).await?;
        let rows = d.funds.iter().map(|f| {
            vec![
                f.fund_code.clone(),
                text(&f.fund_name),
                opt(f.earmark_fen),
                text(f.earmark_document.as_deref().unwrap_or("")),
                f.earmark_adopted_on.map(|d| d.to_string()).unwrap_or_default(),
                f.allocated_fen.to_string(),
                opt(f.paid_fen),
                f.recovered_fen.to_string(),
            ]
        });
        Ok(csv(&FUND_COLUMNS, rows))
    })
    .await
}

/// Each fund's earmark (S6), allocations, payments and recoveries (public).
#[utoipa::path(get, path = "/open/funds.json", responses((status = 200, body = OpenTable<FundDisclosure>)))]
pub async fn funds_json(State(st): State<AppState>, headers: HeaderMap) -> Result<Response, AppError> {
    cached_file(&st, &headers, "/open/funds.json", JSON, "inline; filename=\"funds.json\"", || async {
        let d = snapshot(&st).await?;
        open_json("funds", &d, None, None, d.funds.iter().collect())
    })
    .await
}
