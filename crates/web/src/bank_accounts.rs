//! Payees' bank accounts (收款账户): a provider, an employer or a worker records where its
//! subsidies are paid (declared); the city or the payee's county office records or corrects one
//! (county-verified). Numbers are shown masked to everyone; every change is audited with the old
//! and the new account, masked. The store holds the rules (the holder is the payee itself, a
//! county office reaches its county's payees): this module says who records.

use crate::auth::{Access, Auth, CurrentUser, Route};
use crate::error::AppError;
use crate::guard::CsrfForm;
use crate::render::{form_result, render_page, Done, OrPage, PageResult};
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use jineng_domain::{Invalid, Role};
use jineng_store::bank_accounts::{self, AccountRow, NewAccount, PayeeKind, Recorder};
use jineng_store::users::User;
use minijinja::{context, Value};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::auth::BANK_ACCOUNT_READERS as READERS;
/// Who records them: the payees (their own) and the city or county office.
const RECORDERS: &[Role] = &[Role::CityAdmin, Role::County, Role::Provider, Role::Employer, Role::Worker];

/// Routes of this module.
pub fn routes() -> Vec<Route> {
    use Access::*;
    vec![
        Route::get("/bank-accounts", Roles(READERS), page),
        Route::post("/bank-accounts", Roles(RECORDERS), record_form),
        Route::get("/api/v1/bank-accounts", Roles(READERS), list_api),
        Route::post("/api/v1/bank-accounts", Roles(RECORDERS), record_api),
    ]
}

/// The API of this module.
#[derive(OpenApi)]
#[openapi(paths(list_api, record_api), components(schemas(AccountInput, AccountRow, PayeeKind)))]
pub struct Api;

/// The payee a payee role is: its own kind and id.
fn own(u: &User) -> Option<(PayeeKind, i64)> {
    let kind = match u.role {
        Role::Provider => PayeeKind::Provider,
        Role::Employer => PayeeKind::Employer,
        Role::Worker => PayeeKind::Person,
        _ => return None,
    };
    u.scope_id().map(|id| (kind, id))
}

/// The county an office is limited to (a county office), none for the city-wide roles.
fn county_of(u: &User) -> Result<Option<String>, AppError> {
    match u.role {
        Role::County => Ok(Some(u.scope.clone().ok_or(AppError::Forbidden)?)),
        _ => Ok(None),
    }
}

/// Which accounts to list.
#[derive(Debug, Deserialize, Serialize, IntoParams, Default)]
pub struct ListQuery {
    /// `person`, `employer` or `provider` (offices only).
    #[serde(default)]
    pub kind: Option<String>,
}

fn kind_of(raw: Option<&str>, field: &str) -> Result<Option<PayeeKind>, AppError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(code) => PayeeKind::parse(code).map(Some).ok_or_else(|| {
            AppError::field(
                field,
                Invalid::new(
                    "bank_account.payee_kind",
                    "收款人类型应为 person（个人）、employer（用人单位）或 provider（培训机构）",
                    "person, employer or provider",
                ),
            )
        }),
    }
}

/// Accounts in force a list shows, newest first (a payee's own: every one, with its history).
const RECENT_ACCOUNTS: i64 = 100;

async fn list(st: &AppState, u: &User, kind: Option<&str>) -> Result<Vec<AccountRow>, AppError> {
    if let Some((kind, id)) = own(u) {
        return Ok(bank_accounts::history(&st.db, kind, id).await?);
    }
    let kind = kind_of(kind, "kind")?;
    Ok(bank_accounts::in_force(&st.db, county_of(u)?.as_deref(), kind, RECENT_ACCOUNTS).await?)
}

/// A payee's own accounts (the one in force first), or, for an office, the accounts in force
/// in its scope (numbers masked).
#[utoipa::path(get, path = "/api/v1/bank-accounts", params(ListQuery), responses((status = 200, body = Vec<AccountRow>), (status = 422, body = crate::error::ErrorBody)))]
pub async fn list_api(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Query(q): Query<ListQuery>,
) -> Result<Json<Vec<AccountRow>>, AppError> {
    Ok(Json(list(&st, &u, q.kind.as_deref()).await?))
}

/// An account to record. A payee records its own (leave `payee_kind` and `payee_id` out); the
/// city or a county office names the payee.
#[derive(Debug, Deserialize, Serialize, ToSchema, Default)]
pub struct AccountInput {
    /// `person`, `employer` or `provider` (offices only).
    #[serde(default)]
    pub payee_kind: Option<String>,
    /// The payee's id in the registry (offices only).
    #[serde(default)]
    pub payee_id: Option<i64>,
    /// Bank and branch (开户行).
    pub bank: String,
    /// Account number: 8 to 32 digits, spaces between groups allowed.
    pub account_no: String,
    /// Holder (户名): the payee's own name.
    pub holder: String,
}

async fn record(st: &AppState, u: &User, b: &AccountInput) -> Result<AccountRow, AppError> {
    let county = county_of(u)?;
    let (kind, id, by) = match own(u) {
        Some((kind, id)) => (kind, id, Recorder::Payee),
        None => {
            let kind = kind_of(b.payee_kind.as_deref(), "payee_kind")?.ok_or_else(|| {
                AppError::field(
                    "payee_kind",
                    Invalid::new("bank_account.payee_kind", "请选择收款人类型", "choose the payee's kind"),
                )
            })?;
            let id = b.payee_id.filter(|id| *id > 0).ok_or_else(|| {
                AppError::field(
                    "payee_id",
                    Invalid::new("bank_account.payee_id", "请填写收款人编号", "give the payee's id"),
                )
            })?;
            (kind, id, Recorder::Office { county: county.as_deref() })
        }
    };
    let new = NewAccount { bank: b.bank.clone(), account_no: b.account_no.clone(), holder: b.holder.clone() };
    Ok(bank_accounts::record(&st.db, Some(u.user_id), kind, id, &new, by).await?)
}

/// Records a payee's account, retiring the one in force (audited, the numbers masked).
#[utoipa::path(post, path = "/api/v1/bank-accounts", request_body = AccountInput, responses((status = 201, body = AccountRow), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn record_api(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Json(b): Json<AccountInput>,
) -> Result<(StatusCode, Json<AccountRow>), AppError> {
    Ok((StatusCode::CREATED, Json(record(&st, &u, &b).await?)))
}

/// The form, as typed.
#[derive(Debug, Deserialize, Serialize, Default)]
pub struct AccountForm {
    #[serde(default)]
    payee_kind: String,
    #[serde(default)]
    payee_id: String,
    #[serde(default)]
    bank: String,
    #[serde(default)]
    account_no: String,
    #[serde(default)]
    holder: String,
}

async fn accounts_page(
    st: &AppState,
    auth: &Auth,
    u: &User,
    kind: Option<&str>,
    form: Option<(&AccountForm, AppError)>,
) -> PageResult {
    let rows = list(st, u, kind).await.page(auth)?;
    let payee = match own(u) {
        Some((kind, id)) => {
            Some(async { Ok::<_, AppError>(bank_accounts::payee(&st.db, kind, id).await?.name) }.await.page(auth)?)
        }
        None => None,
    };
    let (f, errors, error) = match form {
        Some((f, e)) => (Value::from_serialize(f), Value::from_serialize(e.fields()), e.general()),
        None => {
            let mut f = AccountForm::default();
            // A payee's holder is its own name: offered, not typed.
            if let (Some(name), Some((kind, _))) = (&payee, own(u)) {
                if kind != PayeeKind::Person {
                    f.holder = name.clone();
                }
            }
            (Value::from_serialize(&f), Value::from(()), None)
        }
    };
    render_page(
        st,
        auth,
        "bank_accounts.html",
        context! { rows => Value::from_serialize(&rows), f => f, errors => errors, error => error,
        payee => payee.map(|n| if own(u).is_some_and(|o| o.0 == PayeeKind::Person) { jineng_domain::name::mask(&n) } else { n }),
        office => own(u).is_none(), recorder => RECORDERS.contains(&u.role), kind => kind.unwrap_or("") },
    )
}

/// `GET /bank-accounts`
pub async fn page(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    Query(q): Query<ListQuery>,
) -> PageResult {
    accounts_page(&st, &auth, &u, q.kind.as_deref(), None).await
}

/// `POST /bank-accounts`
pub async fn record_form(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    CsrfForm(f): CsrfForm<AccountForm>,
) -> Result<Response, crate::render::PageError> {
    let result = async {
        let payee_id = match f.payee_id.trim() {
            "" => None,
            raw => Some(raw.parse::<i64>().map_err(|_| {
                AppError::field(
                    "payee_id",
                    Invalid::new("bank_account.payee_id", "收款人编号应为数字", "the payee's id is a number"),
                )
            })?),
        };
        let b = AccountInput {
            payee_kind: Some(f.payee_kind.clone()).filter(|s| !s.is_empty()),
            payee_id,
            bank: f.bank.clone(),
            account_no: f.account_no.clone(),
            holder: f.holder.clone(),
        };
        record(&st, &u, &b).await.map(|_| Done::new("/bank-accounts", "收款账户已登记 / account recorded"))
    }
    .await;
    form_result(auth, result, |e, auth| async move { accounts_page(&st, &auth, &u, None, Some((&f, e))).await }).await
}
