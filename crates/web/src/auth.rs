//! Sign-in: sessions in HttpOnly SameSite cookies, bearer tokens for API clients, CSRF
//! tokens for forms and cookie-authenticated API calls, and the middleware that applies
//! each route's access rule.

use crate::error::AppError;
use crate::pages::{render_page, PageError};
use crate::routes::Access;
use crate::AppState;
use axum::extract::{FromRequest, FromRequestParts, MatchedPath, Query, Request, State};
use axum::http::{header, request::Parts, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use jineng_store::audit;
use jineng_store::users::{self, User};
use minijinja::context;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Arc;

/// Name of the session cookie.
pub const COOKIE: &str = "jn_session";

/// State of the authorization middleware.
#[derive(Clone)]
pub struct AuthState {
    /// The app.
    pub app: AppState,
    /// Access rule per (method, path pattern).
    pub rules: Arc<HashMap<(Method, String), Access>>,
}

/// Who is calling, put into request extensions by [`authorize`].
#[derive(Clone, Debug, Default)]
pub struct Auth {
    /// The user, if signed in.
    pub user: Option<User>,
    /// CSRF token of the session (cookie sign-in only).
    pub csrf: Option<String>,
}

fn cookie_token(parts: &axum::http::HeaderMap) -> Option<String> {
    parts.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|c| {
        let (k, v) = c.trim().split_once('=')?;
        (k == COOKIE).then(|| v.to_owned())
    })
}

/// Applies the route's rule: 401 (or a redirect to the sign-in page) without a user, 403 for
/// a role the rule does not allow, and a CSRF check for cookie-authenticated API writes.
pub async fn authorize(
    State(st): State<AuthState>,
    matched: Option<MatchedPath>,
    mut req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path().to_owned();
    let is_api = path.starts_with("/api/");
    let mut auth = Auth::default();
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    let lookup = if let Some(t) = bearer {
        users::token_user(&st.app.db, t.trim()).await.map(|u| (u, None))
    } else if let Some(t) = cookie_token(req.headers()) {
        users::session_user(&st.app.db, &t).await.map(|s| match s {
            Some((u, csrf)) => (Some(u), Some(csrf)),
            None => (None, None),
        })
    } else {
        Ok((None, None))
    };
    match lookup {
        Ok((user, csrf)) => {
            auth.user = user;
            auth.csrf = csrf;
        }
        Err(e) => return AppError::from(e).into_response(),
    }
    let method = if req.method() == Method::HEAD { Method::GET } else { req.method().clone() };
    let rule = matched.and_then(|m| st.rules.get(&(method.clone(), m.as_str().to_owned())).copied());
    let Some(rule) = rule else {
        // Fail closed: a route without a rule answers nobody.
        return AppError::Internal(format!("route {method} {path} has no access rule")).into_response();
    };
    let role = auth.user.as_ref().map(|u| u.role);
    if !rule.allows(role) {
        if role.is_none() {
            if is_api {
                return AppError::Unauthorized.into_response();
            }
            let next_url = req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/");
            let encoded = serde_urlencoded::to_string([("next", next_url)]).unwrap_or_default();
            return Redirect::to(&format!("/login?{encoded}")).into_response();
        }
        if is_api {
            return AppError::Forbidden.into_response();
        }
        return PageError::new(AppError::Forbidden, auth).into_response();
    }
    let unsafe_method = !matches!(method, Method::GET | Method::HEAD | Method::OPTIONS);
    if is_api && unsafe_method && auth.csrf.is_some() {
        let sent = req.headers().get("x-csrf-token").and_then(|v| v.to_str().ok());
        if sent != auth.csrf.as_deref() {
            return AppError::Forbidden.into_response();
        }
    }
    req.extensions_mut().insert(auth);
    next.run(req).await
}

impl<S: Send + Sync> FromRequestParts<S> for Auth {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        Ok(parts.extensions.get::<Auth>().cloned().unwrap_or_default())
    }
}

/// The signed-in user (the route's rule has already required one).
pub struct CurrentUser(pub User);

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        parts.extensions.get::<Auth>().and_then(|a| a.user.clone()).map(CurrentUser).ok_or(AppError::Unauthorized)
    }
}

/// A form whose `csrf` field must equal the session's CSRF token.
pub struct CsrfForm<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for CsrfForm<T> {
    type Rejection = Response;
    async fn from_request(req: Request, state: &S) -> Result<Self, Response> {
        let auth = req.extensions().get::<Auth>().cloned().unwrap_or_default();
        let Form(fields): Form<HashMap<String, String>> =
            Form::from_request(req, state).await.map_err(IntoResponse::into_response)?;
        let ok = matches!((&auth.csrf, fields.get("csrf")), (Some(a), Some(b)) if a == b);
        if !ok {
            return Err(PageError::new(
                AppError::BadRequest("表单已过期，请刷新后重试 / the form expired, reload and try again".into()),
                auth,
            )
            .into_response());
        }
        let encoded = serde_urlencoded::to_string(&fields).unwrap_or_default();
        serde_urlencoded::from_str(&encoded).map(CsrfForm).map_err(|e| {
            PageError::new(AppError::BadRequest(format!("表单字段有误 / bad form: {e}")), auth).into_response()
        })
    }
}

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

fn safe_next(n: Option<&str>) -> String {
    match n {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_owned(),
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
pub async fn login(State(st): State<AppState>, auth: Auth, Form(f): Form<LoginForm>) -> Result<Response, PageError> {
    if st.throttle.locked(&f.username) {
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
        st.throttle.fail(&f.username);
        tracing::info!(user.name = %f.username.trim(), "sign-in refused");
        let _ =
            audit::log(&st.db, None, "sign_in_refused", "app_user", f.username.trim(), &serde_json::json!({})).await;
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
    st.throttle.succeed(&f.username);
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
