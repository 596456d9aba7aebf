//! Signing in and out: the sign-in page and its form (a session in an HttpOnly SameSite
//! cookie), sign-out, bearer tokens for API clients, and who the caller is.

use crate::auth::{cookie_token, Access, Auth, ClientAddr, CurrentUser, Route, BODY_PUBLIC, COOKIE};
use crate::error::{AppError, ErrorBody};
use crate::guard::CsrfForm;
use crate::render::{render_page, PageError};
use crate::state::AppState;
use axum::extract::{FromRequest, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Form, Json};
use jineng_store::audit;
use jineng_store::users;
use minijinja::context;
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

/// Routes of this module.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/login", Access::Public, login_page),
        Route::post("/login", Access::Public, login).limit(BODY_PUBLIC),
        Route::post("/logout", Access::SignedIn, logout),
        Route::post("/api/v1/tokens", Access::Public, create_token).limit(BODY_PUBLIC),
        Route::get("/api/v1/me", Access::SignedIn, me),
        Route::get("/api/v1/tokens", Access::SignedIn, list_tokens),
        Route::delete("/api/v1/tokens/{id}", Access::SignedIn, revoke_token),
    ]
}

/// The API of this module.
#[derive(OpenApi)]
#[openapi(paths(create_token, me, list_tokens, revoke_token))]
pub struct Api;

/// Query of the sign-in page.
#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

/// `GET /login`
pub async fn login_page(
    State(st): State<AppState>,
    auth: Auth,
    Query(q): Query<LoginQuery>,
) -> Result<Html<String>, PageError> {
    render_page(
        &st,
        &auth,
        "login.html",
        context! { next => safe_next(q.next.as_deref()), error => None::<String>, username => "" },
    )
}

/// Sign-in form.
#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    next: Option<String>,
}

/// Where to go after signing in: a path on this server only. Anything a browser could read as
/// another host (`//x`, `/\\x`, control characters that it strips, such as `/\t/x`) or that
/// cannot be a header value becomes `/`.
fn safe_next(n: Option<&str>) -> String {
    match n {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && n.len() <= 1000
                && n.chars().all(|c| c.is_ascii_graphic() && c != '\\') =>
        {
            n.to_owned()
        }
        _ => "/".to_owned(),
    }
}

fn session_cookie(st: &AppState, value: &str, max_age: i64) -> String {
    format!(
        "{COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{}",
        if st.secure_cookies { "; Secure" } else { "" }
    )
}

/// `POST /login`
pub async fn login(
    State(st): State<AppState>,
    auth: Auth,
    ClientAddr(address): ClientAddr,
    Form(f): Form<LoginForm>,
) -> Result<Response, PageError> {
    if !st.throttle.sign_in(&f.username, &address) {
        let _ = audit::log(
            &st.db,
            None,
            "sign_in_throttled",
            "app_user",
            f.username.trim(),
            &serde_json::json!({"via": "form"}),
        )
        .await;
        let page = render_page(
            &st,
            &auth,
            "login.html",
            context! {
                next => safe_next(f.next.as_deref()), error => Some("密码错误次数过多，请15分钟后再试 / too many wrong passwords, try again in 15 minutes"), username => f.username.trim(),
            },
        )?;
        return Ok((StatusCode::TOO_MANY_REQUESTS, page).into_response());
    }
    let user = users::authenticate(&st.db, f.username.trim(), &f.password)
        .await
        .map_err(|e| PageError::new(e.into(), auth.clone()))?;
    let Some(user) = user else {
        tracing::info!(user.name = %f.username.trim(), "sign-in refused");
        let _ = audit::log(
            &st.db,
            None,
            "sign_in_refused",
            "app_user",
            f.username.trim(),
            &serde_json::json!({"username": f.username.trim(), "via": "form"}),
        )
        .await;
        let page = render_page(
            &st,
            &auth,
            "login.html",
            context! {
                next => safe_next(f.next.as_deref()), error => Some("用户名或密码错误 / wrong username or password"), username => f.username.trim(),
            },
        )?;
        return Ok((StatusCode::UNAUTHORIZED, page).into_response());
    };
    st.throttle.signed_in(&f.username, &address);
    audit::log(&st.db, Some(user.user_id), "sign_in", "app_user", &user.user_id.to_string(), &serde_json::json!({}))
        .await
        .map_err(|e| PageError::new(e.into(), auth.clone()))?;
    let (token, _csrf) =
        users::create_session(&st.db, user.user_id, 12).await.map_err(|e| PageError::new(e.into(), auth.clone()))?;
    tracing::info!(user.id = user.user_id, user.role = user.role.code(), "signed in");
    Ok(([(header::SET_COOKIE, session_cookie(&st, &token, 12 * 3600))], Redirect::to(&safe_next(f.next.as_deref())))
        .into_response())
}

/// Empty form with only the CSRF field.
#[derive(Deserialize)]
pub struct Empty {}

/// `POST /logout`
pub async fn logout(State(st): State<AppState>, req: Request) -> Response {
    let token = cookie_token(req.headers());
    let _checked: Result<CsrfForm<Empty>, Response> = CsrfForm::from_request(req, &st).await;
    if let Err(r) = _checked {
        return r;
    }
    if let Some(t) = token {
        let _ = users::delete_session(&st.db, &t).await;
    }
    ([(header::SET_COOKIE, session_cookie(&st, "", 0))], Redirect::to("/login")).into_response()
}

/// Credentials for a token.
#[derive(Deserialize, ToSchema)]
pub struct TokenRequest {
    pub username: String,
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
    ClientAddr(address): ClientAddr,
    Json(r): Json<TokenRequest>,
) -> Result<(StatusCode, Json<TokenResponse>), AppError> {
    if !st.throttle.sign_in(&r.username, &address) {
        let _ = audit::log(
            &st.db,
            None,
            "sign_in_throttled",
            "app_user",
            r.username.trim(),
            &serde_json::json!({"via": "api"}),
        )
        .await;
        return Err(AppError::TooManyAttempts);
    }
    let Some(user) = users::authenticate(&st.db, r.username.trim(), &r.password).await? else {
        let _ = audit::log(
            &st.db,
            None,
            "sign_in_refused",
            "app_user",
            r.username.trim(),
            &serde_json::json!({"username": r.username.trim(), "via": "api"}),
        )
        .await;
        return Err(AppError::Unauthorized);
    };
    st.throttle.signed_in(&r.username, &address);
    let token = users::create_api_token(&st.db, user.user_id, r.name.as_deref().unwrap_or("api")).await?;
    Ok((StatusCode::CREATED, Json(TokenResponse { token })))
}

/// The caller.
#[derive(Serialize, ToSchema)]
pub struct Me {
    pub user_id: i64,
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Role code.
    pub role: String,
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

/// The caller's API tokens (names and dates; never the tokens), newest first.
#[utoipa::path(get, path = "/api/v1/tokens", responses((status = 200, body = [users::TokenRow])))]
pub async fn list_tokens(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
) -> Result<Json<Vec<users::TokenRow>>, AppError> {
    Ok(Json(users::tokens_of(&st.db, u.user_id).await?))
}

/// Revoke one of the caller's API tokens: it stops working at once.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", params(("id" = i64, Path)), responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn revoke_token(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    axum::extract::Path(id): axum::extract::Path<i64>,
) -> Result<StatusCode, AppError> {
    users::revoke_token(&st.db, u.user_id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
