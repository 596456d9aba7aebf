//! The middleware every request passes: the route's access rule (401 or a redirect to sign in,
//! 403 for a role the rule does not allow), the CSRF check of forms and cookie-authenticated API
//! writes, and the envelope: a request refused before any handler ran (bad JSON, a wrong path
//! parameter, a body too large, an unknown path) answers in the same shape as every other error.

use crate::auth::{cookie_token, Access, Auth, ClientAddr};
use crate::error::AppError;
use crate::render::{error_page, PageError};
use crate::state::AppState;
use axum::extract::{FromRequest, MatchedPath, Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use jineng_store::users;
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::sync::Arc;

/// State of the authorization middleware.
#[derive(Clone)]
pub struct AuthState {
    /// The app.
    pub app: AppState,
    /// Access rule per (method, path pattern).
    pub rules: Arc<HashMap<(Method, String), Access>>,
}

/// Applies the route's rule and the CSRF check of cookie-authenticated API writes; puts the
/// caller ([`Auth`]) into the request.
pub async fn authorize(
    State(st): State<AuthState>,
    matched: Option<MatchedPath>,
    mut req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path().to_owned();
    let is_api = path.starts_with("/api/");
    let mut auth = Auth { path: path.clone(), ..Auth::default() };
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
    let rule = matched.as_ref().and_then(|m| st.rules.get(&(method.clone(), m.as_str().to_owned())).copied());
    let Some(rule) = rule else {
        // The path is a route but not for this method.
        let pattern = matched.as_ref().map(|m| m.as_str()).unwrap_or_default();
        if st.rules.keys().any(|(_, p)| p == pattern) {
            return StatusCode::METHOD_NOT_ALLOWED.into_response();
        }
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
    // A confirmation carried across a redirect is shown by the page it leads to, then cleared.
    auth.flash = crate::render::flash_of(req.headers());
    let had_flash = auth.flash.is_some();
    req.extensions_mut().insert(auth);
    let mut res = next.run(req).await;
    let page = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("text/html"));
    if had_flash && page && res.status().is_success() {
        let (name, value) = crate::render::flash_cleared();
        if let Ok(value) = value.parse() {
            res.headers_mut().append(name, value);
        }
    }
    if st.app.secure_cookies {
        // Behind HTTPS the confirmation's cookie is marked Secure like the session's.
        let flashes: Vec<_> = res.headers().get_all(header::SET_COOKIE).iter().cloned().collect();
        if flashes.iter().any(|v| v.as_bytes().starts_with(crate::render::FLASH_COOKIE.as_bytes())) {
            res.headers_mut().remove(header::SET_COOKIE);
            for v in flashes {
                let secure = v
                    .to_str()
                    .ok()
                    .filter(|c| c.starts_with(crate::render::FLASH_COOKIE))
                    .map(|c| format!("{c}; Secure"));
                match secure.and_then(|c| c.parse().ok()) {
                    Some(marked) => res.headers_mut().append(header::SET_COOKIE, marked),
                    None => res.headers_mut().append(header::SET_COOKIE, v),
                };
            }
        }
    }
    res
}

/// Works out the request's client address once ([`ClientAddr`]: the peer, or behind a trusted
/// proxy the address it forwarded) and runs the request with it known to the audit log: every
/// entry written while it is served records it.
pub async fn client_address(State(st): State<AppState>, mut req: Request, next: Next) -> Response {
    let address = ClientAddr::of(req.headers(), req.extensions(), &st.trusted_proxies);
    req.extensions_mut().insert(address.clone());
    jineng_store::audit::with_address(address.0, next.run(req)).await
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

/// The code and words of a refusal made before any handler ran, by its status.
fn refusal(status: StatusCode) -> (&'static str, &'static str) {
    match status {
        StatusCode::NOT_FOUND => ("not_found", "未找到 / not found"),
        StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "不支持该请求方法 / method not allowed"),
        StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "提交的内容过大 / the request body is too large"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ("unsupported_media_type", "请求内容类型不受支持 / unsupported content type (send application/json)")
        }
        StatusCode::UNPROCESSABLE_ENTITY => ("invalid", "请求内容不符合要求 / the request body does not fit"),
        _ => ("bad_request", "请求格式有误 / malformed request"),
    }
}

/// Rewrites a refusal that no handler made (axum's plain-text rejections and empty 404/405
/// answers) into the JSON envelope on the API and an error page elsewhere, keeping its status.
/// The rejection's own text (e.g. which JSON field is missing) is kept as the detail.
pub async fn envelope(req: Request, next: Next) -> Response {
    let is_api = req.uri().path().starts_with("/api/");
    let res = next.run(req).await;
    let status = res.status();
    let plain = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|ct| ct.starts_with("text/plain"));
    if !(status.is_client_error() || status.is_server_error()) || !plain {
        return res;
    }
    let (parts, body) = res.into_parts();
    let detail =
        axum::body::to_bytes(body, 4096).await.map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
    let (code, words) = refusal(status);
    let message = if detail.trim().is_empty() { words.to_owned() } else { format!("{words}: {}", detail.trim()) };
    let mut out = if is_api {
        let body = serde_json::json!({"error": {"code": code, "message": message, "fields": {}}});
        (status, axum::Json(body)).into_response()
    } else {
        let err = if status == StatusCode::NOT_FOUND { AppError::NotFound } else { AppError::BadRequest(message) };
        (status, error_page(&err, &Auth::default())).into_response()
    };
    // Keep headers such as `Allow` of a 405.
    for (k, v) in parts.headers.iter() {
        if k != header::CONTENT_TYPE && k != header::CONTENT_LENGTH {
            out.headers_mut().insert(k.clone(), v.clone());
        }
    }
    out
}

/// Whether a refusal of this path is answered in JSON: the API and the open data in JSON.
fn wants_json(path: &str) -> bool {
    path.starts_with("/api/") || path.ends_with(".json")
}

/// Whether a character may be in text that people typed: no control characters but line breaks
/// and tabs, no characters that reorder text on screen (a name must read as it is stored).
fn allowed_char(c: char) -> bool {
    (!c.is_control() || matches!(c, '\n' | '\r' | '\t'))
        && !matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// The first field whose text holds a character [`allowed_char`] refuses.
fn bad_text(v: &serde_json::Value, path: &str) -> Option<String> {
    match v {
        serde_json::Value::String(s) => (!s.chars().all(allowed_char)).then(|| path.to_owned()),
        serde_json::Value::Array(a) => a.iter().enumerate().find_map(|(i, x)| bad_text(x, &format!("{path}[{i}]"))),
        serde_json::Value::Object(o) => o.iter().find_map(|(k, x)| {
            let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
            if k.chars().all(allowed_char) {
                bad_text(x, &p)
            } else {
                Some(p)
            }
        }),
        _ => None,
    }
}

/// Refuses a query string, JSON or form body with a control or text-direction character in any
/// field (422, naming the field), before any handler reads it. Bodies are already bounded by the
/// route.
pub async fn plain_text(req: Request, next: Next) -> Response {
    // The query string first: a search term or filter is text people typed too (and PostgreSQL
    // refuses a NUL in any text it is given).
    if let Some(q) = req.uri().query() {
        let bad = match serde_urlencoded::from_str::<Vec<(String, String)>>(q) {
            Ok(pairs) => pairs
                .into_iter()
                .find(|(k, v)| !(k.chars().all(allowed_char) && v.chars().all(allowed_char)))
                .map(|(k, _)| k),
            Err(_) => Some("query".to_owned()),
        };
        if let Some(field) = bad {
            let e = AppError::field(
                if field.is_empty() { "query" } else { &field },
                "查询条件含有不可见的控制字符或文字方向字符 / the query holds a control or text-direction character",
            );
            if wants_json(req.uri().path()) {
                return e.into_response();
            }
            return (e.status(), error_page(&e, &Auth::default())).into_response();
        }
    }
    let ct = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let json = ct.starts_with("application/json");
    let form = ct.starts_with("application/x-www-form-urlencoded");
    if !(json || form) {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, crate::auth::BODY_UPLOAD).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let field = if json {
        serde_json::from_slice::<serde_json::Value>(&bytes).ok().and_then(|v| bad_text(&v, ""))
    } else {
        serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
            .ok()
            .and_then(|pairs| {
                pairs.into_iter().find(|(k, v)| !(k.chars().all(allowed_char) && v.chars().all(allowed_char)))
            })
            .map(|(k, _)| k)
    };
    if let Some(field) = field {
        let e = AppError::field(
            if field.is_empty() { "body" } else { &field },
            "含有不可见的控制字符或文字方向字符 / holds a control or text-direction character",
        );
        if wants_json(parts.uri.path()) {
            return e.into_response();
        }
        return (e.status(), error_page(&e, &Auth::default())).into_response();
    }
    next.run(Request::from_parts(parts, axum::body::Body::from(bytes))).await
}
