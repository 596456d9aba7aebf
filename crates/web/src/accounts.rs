//! Accounts the bureau runs: the city admin (and a county office for its own county's office
//! accounts) creates users with a role and scope, suspends and restores them, resets passwords
//! and changes roles; each of these ends the user's sessions and tokens at once (a reset and a
//! new account hand out a one-time setup code, shown once). Users change their own password at
//! `/account/password` and redeem a setup code at `/account/setup`. Every step is audited by
//! the store. Who may manage which account is decided in the store (`users::Manager`).

use crate::auth::{cookie_token, Access, Auth, ClientAddr, CurrentUser, Route, BODY_PUBLIC};
use crate::error::{AppError, ErrorBody};
use crate::guard::CsrfForm;
use crate::render::{form_answer, form_result, render_page, Done, OrPage, PageError, PageResult};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use jineng_domain::Role;
use jineng_store::users::{self, Account, Manager, NewAccount, SetupCode, User};
use minijinja::{context, Value};
use serde::Deserialize;
use utoipa::{OpenApi, ToSchema};

/// Who manages accounts (each within its reach).
pub const ACCOUNT_MANAGERS: &[Role] = &[Role::CityAdmin, Role::County];

/// Routes of this module.
pub fn routes() -> Vec<Route> {
    use Access::*;
    vec![
        Route::get("/accounts", Roles(ACCOUNT_MANAGERS), accounts_page),
        Route::post("/accounts", Roles(ACCOUNT_MANAGERS), create_account_form),
        Route::get("/accounts/{id}", Roles(ACCOUNT_MANAGERS), account_page),
        Route::post("/accounts/{id}/role", Roles(ACCOUNT_MANAGERS), change_role_form),
        Route::post("/accounts/{id}/suspend", Roles(ACCOUNT_MANAGERS), suspend_form),
        Route::post("/accounts/{id}/unsuspend", Roles(ACCOUNT_MANAGERS), unsuspend_form),
        Route::post("/accounts/{id}/reset", Roles(ACCOUNT_MANAGERS), reset_form),
        Route::get("/account/password", SignedIn, password_page),
        Route::post("/account/password", SignedIn, change_password_form),
        Route::get("/account/setup", Public, setup_page),
        Route::post("/account/setup", Public, setup_form).limit(BODY_PUBLIC),
        Route::get("/api/v1/accounts", Roles(ACCOUNT_MANAGERS), list_accounts),
        Route::post("/api/v1/accounts", Roles(ACCOUNT_MANAGERS), create_account),
        Route::get("/api/v1/accounts/{id}", Roles(ACCOUNT_MANAGERS), get_account),
        Route::put("/api/v1/accounts/{id}/role", Roles(ACCOUNT_MANAGERS), change_role),
        Route::post("/api/v1/accounts/{id}/suspend", Roles(ACCOUNT_MANAGERS), suspend_account),
        Route::post("/api/v1/accounts/{id}/unsuspend", Roles(ACCOUNT_MANAGERS), unsuspend_account),
        Route::post("/api/v1/accounts/{id}/reset-password", Roles(ACCOUNT_MANAGERS), reset_password),
        Route::post("/api/v1/account/password", SignedIn, change_password),
        Route::post("/api/v1/account/setup", Public, redeem_setup_code).limit(BODY_PUBLIC),
    ]
}

/// The API of this module.
#[derive(OpenApi)]
#[openapi(paths(
    list_accounts,
    create_account,
    get_account,
    change_role,
    suspend_account,
    unsuspend_account,
    reset_password,
    change_password,
    redeem_setup_code
))]
pub struct Api;

fn manager(u: &User) -> Result<Manager, AppError> {
    Manager::of(u).ok_or(AppError::Forbidden)
}

/// The roles a manager may give, as `(code, 中文, English)`.
fn roles_for(m: &Manager) -> Vec<(&'static str, &'static str, &'static str)> {
    Role::ALL
        .iter()
        .filter(|r| {
            *m == Manager::City
                || matches!(r, Role::County | Role::Provider | Role::Employer | Role::AssessmentBody | Role::Worker)
        })
        .map(|r| (r.code(), r.zh(), r.en()))
        .collect()
}

/// China time, to the minute.
fn china(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map(jineng_store::reports::china_time).unwrap_or_default()
}

fn account_view(a: &Account) -> serde_json::Value {
    let role = Role::parse(&a.role);
    serde_json::json!({
        "user_id": a.user_id, "username": a.username, "display_name": a.display_name, "role": a.role,
        "role_zh": role.map_or("", Role::zh), "role_en": role.map_or("", Role::en), "scope": a.scope, "active": a.active,
        "created_at": china(Some(a.created_at)), "last_sign_in_at": china(a.last_sign_in_at),
        "password_set_at": china(a.password_set_at), "setup_pending": a.setup_code_expires_at.is_some(),
    })
}

async fn list_page(
    st: &AppState,
    auth: &Auth,
    u: &User,
    typed: Value,
    errors: Value,
    error: Option<String>,
) -> PageResult {
    let m = manager(u).page(auth)?;
    let rows = users::accounts(&st.db, &m).await.page(auth)?;
    let rows: Vec<_> = rows.iter().map(account_view).collect();
    render_page(
        st,
        auth,
        "accounts.html",
        context! { rows => Value::from_serialize(&rows), roles => Value::from_serialize(roles_for(&m)),
        county_only => m != Manager::City, my_scope => u.scope.clone(), typed, errors, error },
    )
}

/// `GET /accounts`: the accounts the caller manages, with their last sign-in, and the form to
/// create one.
pub async fn accounts_page(State(st): State<AppState>, auth: Auth, CurrentUser(u): CurrentUser) -> PageResult {
    list_page(&st, &auth, &u, Value::from(()), Value::from(()), None).await
}

/// The new-account form.
#[derive(Deserialize, Default, serde::Serialize)]
pub struct AccountForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    scope: Option<String>,
}

/// The page that shows a one-time setup code, once.
fn code_page(st: &AppState, auth: &Auth, a: &Account, code: &SetupCode, what: &str) -> Result<Response, AppError> {
    let page = render_page(
        st,
        auth,
        "account_code.html",
        context! { account => Value::from_serialize(account_view(a)), code => code.code.clone(),
        expires_at => china(Some(code.expires_at)), what },
    )
    .map_err(|e| e.0)?;
    Ok(page.into_response())
}

/// `POST /accounts`: creates the account and shows its one-time setup code once.
pub async fn create_account_form(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    CsrfForm(f): CsrfForm<AccountForm>,
) -> Result<Response, PageError> {
    let new = NewAccount {
        username: f.username.clone(),
        display_name: f.display_name.clone(),
        role: f.role.clone(),
        scope: f.scope.clone(),
    };
    let result = async {
        let code = users::create_account(&st.db, &u, &new).await?;
        let a = users::account(&st.db, &manager(&u)?, code.user_id).await?;
        code_page(&st, &auth, &a, &code, "created")
    }
    .await;
    form_answer(auth, result, |e, auth| async move {
        list_page(&st, &auth, &u, Value::from_serialize(&f), Value::from_serialize(e.fields()), e.general()).await
    })
    .await
}

async fn detail_page(
    st: &AppState,
    auth: &Auth,
    u: &User,
    id: i64,
    errors: Value,
    error: Option<String>,
) -> PageResult {
    let m = manager(u).page(auth)?;
    let a = users::account(&st.db, &m, id).await.page(auth)?;
    let history = jineng_store::audit::for_entity(&st.db, "app_user", &id.to_string()).await.page(auth)?;
    let history: Vec<_> = history
        .iter()
        .map(|h| serde_json::json!({"at": china(Some(h.at)), "action": h.action, "detail": h.detail, "address": h.address}))
        .collect();
    render_page(
        st,
        auth,
        "account.html",
        context! { a => Value::from_serialize(account_view(&a)), roles => Value::from_serialize(roles_for(&m)),
        history => Value::from_serialize(&history), is_me => a.user_id == u.user_id, errors, error },
    )
}

/// `GET /accounts/{id}`
pub async fn account_page(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    Path(id): Path<i64>,
) -> PageResult {
    detail_page(&st, &auth, &u, id, Value::from(()), None).await
}

/// The role form.
#[derive(Deserialize, ToSchema)]
pub struct RoleInput {
    /// Role code.
    pub role: String,
    /// Scope value (none for roles without one).
    pub scope: Option<String>,
}

/// `POST /accounts/{id}/role`
pub async fn change_role_form(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<RoleInput>,
) -> Result<Response, PageError> {
    let result = async {
        users::change_role(&st.db, &u, id, &f.role, f.scope.as_deref()).await?;
        Ok(Done::new(format!("/accounts/{id}"), "已修改角色，该用户需重新登录 / role changed; the user signs in again"))
    }
    .await;
    form_result(auth, result, |e, auth| async move {
        detail_page(&st, &auth, &u, id, Value::from_serialize(e.fields()), e.general()).await
    })
    .await
}

/// Empty form (only the CSRF field).
#[derive(Deserialize)]
pub struct Empty {}

async fn suspend_or_restore(st: AppState, auth: Auth, u: User, id: i64, active: bool) -> Result<Response, PageError> {
    let result = async {
        users::set_active(&st.db, &u, id, active).await?;
        Ok(Done::new(
            format!("/accounts/{id}"),
            if active {
                "已恢复账号 / account restored"
            } else {
                "已停用账号，其登录已全部失效 / account suspended; its sign-ins ended"
            },
        ))
    }
    .await;
    form_result(auth, result, |e, auth| async move {
        detail_page(&st, &auth, &u, id, Value::from_serialize(e.fields()), e.general()).await
    })
    .await
}

/// `POST /accounts/{id}/suspend`
pub async fn suspend_form(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, PageError> {
    suspend_or_restore(st, auth, u, id, false).await
}

/// `POST /accounts/{id}/unsuspend`
pub async fn unsuspend_form(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, PageError> {
    suspend_or_restore(st, auth, u, id, true).await
}

/// `POST /accounts/{id}/reset`: a new one-time setup code, shown once; the old password,
/// sessions and tokens stop working.
pub async fn reset_form(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, PageError> {
    let result = async {
        let code = users::reset_password(&st.db, &u, id).await?;
        let a = users::account(&st.db, &manager(&u)?, id).await?;
        code_page(&st, &auth, &a, &code, "reset")
    }
    .await;
    form_answer(auth, result, |e, auth| async move {
        detail_page(&st, &auth, &u, id, Value::from_serialize(e.fields()), e.general()).await
    })
    .await
}

/// `GET /account/password`
pub async fn password_page(State(st): State<AppState>, auth: Auth) -> PageResult {
    render_page(
        &st,
        &auth,
        "password.html",
        context! { errors => Value::from(()), min => jineng_domain::password::MIN_LEN },
    )
}

/// The change-password form.
#[derive(Deserialize, ToSchema)]
pub struct PasswordInput {
    /// The current password.
    pub current: String,
    /// The new password (at least 12 characters, not the username, not one character
    /// repeated, not consecutive characters, not a common password).
    pub password: String,
}

/// `POST /account/password`
pub async fn change_password_form(
    State(st): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    CurrentUser(u): CurrentUser,
    CsrfForm(f): CsrfForm<PasswordInput>,
) -> Result<Response, PageError> {
    let result = async {
        users::change_password(&st.db, &u, &f.current, &f.password, cookie_token(&headers).as_deref()).await?;
        Ok(Done::new("/", "密码已修改，其他登录已失效 / password changed; other sign-ins ended"))
    }
    .await;
    form_result(auth, result, |e, auth| async move {
        render_page(
            &st,
            &auth,
            "password.html",
            context! { errors => Value::from_serialize(e.fields()), error => e.general(),
            min => jineng_domain::password::MIN_LEN },
        )
    })
    .await
}

/// `GET /account/setup`
pub async fn setup_page(State(st): State<AppState>, auth: Auth) -> PageResult {
    render_page(
        &st,
        &auth,
        "setup.html",
        context! { errors => Value::from(()), username => "", min => jineng_domain::password::MIN_LEN },
    )
}

/// A one-time setup code redeemed.
#[derive(Deserialize, ToSchema)]
pub struct SetupInput {
    pub username: String,
    /// The one-time code the administrator handed over.
    pub code: String,
    /// The password to set.
    pub password: String,
}

/// Redeems a code, counted like a sign-in (5 wrong per account and address in 15 minutes).
async fn redeem(st: &AppState, address: &str, i: &SetupInput) -> Result<(), AppError> {
    if !st.throttle.sign_in(&i.username, address) {
        return Err(AppError::TooManyAttempts);
    }
    let r = users::redeem_setup_code(&st.db, &i.username, &i.code, &i.password).await;
    if r.is_ok() {
        st.throttle.signed_in(&i.username, address);
    } else {
        let _ = jineng_store::audit::log(
            &st.db,
            None,
            "setup_refused",
            "app_user",
            i.username.trim(),
            &serde_json::json!({}),
        )
        .await;
    }
    r.map(|_| ()).map_err(AppError::from)
}

/// `POST /account/setup`
pub async fn setup_form(
    State(st): State<AppState>,
    auth: Auth,
    ClientAddr(address): ClientAddr,
    axum::Form(f): axum::Form<SetupInput>,
) -> Result<Response, PageError> {
    let result =
        redeem(&st, &address, &f).await.map(|_| Done::new("/login", "密码已设置，请登录 / password set; sign in"));
    form_result(auth, result, |e, auth| async move {
        render_page(
            &st,
            &auth,
            "setup.html",
            context! { errors => Value::from_serialize(e.fields()), error => e.general(),
            username => f.username.trim(), min => jineng_domain::password::MIN_LEN },
        )
    })
    .await
}

/// The accounts the caller manages (the city admin: all; a county office: its county's office
/// accounts), by username. Never a password or a setup code.
#[utoipa::path(get, path = "/api/v1/accounts", responses((status = 200, body = [Account])))]
pub async fn list_accounts(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
) -> Result<Json<Vec<Account>>, AppError> {
    Ok(Json(users::accounts(&st.db, &manager(&u)?).await?))
}

/// Create an account: answered with its one-time setup code, which is never shown again.
#[utoipa::path(post, path = "/api/v1/accounts", request_body = NewAccount,
    responses((status = 201, body = SetupCode), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_account(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Json(new): Json<NewAccount>,
) -> Result<(StatusCode, Json<SetupCode>), AppError> {
    Ok((StatusCode::CREATED, Json(users::create_account(&st.db, &u, &new).await?)))
}

/// One account the caller manages.
#[utoipa::path(get, path = "/api/v1/accounts/{id}", params(("id" = i64, Path)), responses((status = 200, body = Account), (status = 404, body = ErrorBody)))]
pub async fn get_account(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<Account>, AppError> {
    Ok(Json(users::account(&st.db, &manager(&u)?, id).await?))
}

/// Change an account's role and scope: its sessions and tokens end at once.
#[utoipa::path(put, path = "/api/v1/accounts/{id}/role", params(("id" = i64, Path)), request_body = RoleInput,
    responses((status = 204), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn change_role(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Path(id): Path<i64>,
    Json(r): Json<RoleInput>,
) -> Result<StatusCode, AppError> {
    users::change_role(&st.db, &u, id, &r.role, r.scope.as_deref()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Suspend an account: it cannot sign in, its sessions and tokens end at once.
#[utoipa::path(post, path = "/api/v1/accounts/{id}/suspend", params(("id" = i64, Path)), responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn suspend_account(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Path(id): Path<i64>,
) -> Result<StatusCode, AppError> {
    users::set_active(&st.db, &u, id, false).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Restore a suspended account (it signs in again with its password).
#[utoipa::path(post, path = "/api/v1/accounts/{id}/unsuspend", params(("id" = i64, Path)), responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn unsuspend_account(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Path(id): Path<i64>,
) -> Result<StatusCode, AppError> {
    users::set_active(&st.db, &u, id, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Reset an account's password: answered with a new one-time setup code (shown once); the old
/// password, sessions and tokens stop working at once.
#[utoipa::path(post, path = "/api/v1/accounts/{id}/reset-password", params(("id" = i64, Path)),
    responses((status = 200, body = SetupCode), (status = 404, body = ErrorBody)))]
pub async fn reset_password(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<SetupCode>, AppError> {
    Ok(Json(users::reset_password(&st.db, &u, id).await?))
}

/// Change one's own password; every API token and every other session ends.
#[utoipa::path(post, path = "/api/v1/account/password", request_body = PasswordInput,
    responses((status = 204), (status = 422, body = ErrorBody)))]
pub async fn change_password(
    State(st): State<AppState>,
    headers: HeaderMap,
    CurrentUser(u): CurrentUser,
    Json(i): Json<PasswordInput>,
) -> Result<StatusCode, AppError> {
    users::change_password(&st.db, &u, &i.current, &i.password, cookie_token(&headers).as_deref()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Redeem a one-time setup code and set one's password (counted like a sign-in).
#[utoipa::path(post, path = "/api/v1/account/setup", request_body = SetupInput,
    responses((status = 204), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn redeem_setup_code(
    State(st): State<AppState>,
    ClientAddr(address): ClientAddr,
    Json(i): Json<SetupInput>,
) -> Result<StatusCode, AppError> {
    redeem(&st, &address, &i).await?;
    Ok(StatusCode::NO_CONTENT)
}
