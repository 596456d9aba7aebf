use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use jineng_store::StoreError;
use std::collections::BTreeMap;

/// Every error a handler can return. API routes answer with the JSON envelope
/// `{"error": {"code", "message", "fields"}}`; pages render the same error as HTML.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 401
    #[error("请先登录 / sign in first")]
    Unauthorized,
    /// 403
    #[error("无权访问 / not allowed for your role or scope")]
    Forbidden,
    /// 404
    #[error("未找到 / not found")]
    NotFound,
    /// 409
    #[error("{0}")]
    Conflict(String),
    /// 422 with field errors.
    #[error("输入有误 / invalid input")]
    Invalid(BTreeMap<String, String>),
    /// 400
    #[error("{0}")]
    BadRequest(String),
    /// 429: too many wrong passwords.
    #[error("密码错误次数过多，请15分钟后再试 / too many wrong passwords, try again in 15 minutes")]
    TooManyAttempts,
    /// 429: too many public submissions from one contact.
    #[error("提交过于频繁，请15分钟后再试 / too many submissions, try again in 15 minutes")]
    TooManySubmissions,
    /// 500: details are logged, never sent.
    #[error("服务器内部错误 / internal error")]
    Internal(String),
}

impl AppError {
    /// HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::Forbidden => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::TooManyAttempts | AppError::TooManySubmissions => StatusCode::TOO_MANY_REQUESTS,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Stable code.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthorized => "unauthorized",
            AppError::Forbidden => "forbidden",
            AppError::NotFound => "not_found",
            AppError::Conflict(_) => "conflict",
            AppError::Invalid(_) => "invalid",
            AppError::BadRequest(_) => "bad_request",
            AppError::TooManyAttempts => "too_many_attempts",
            AppError::TooManySubmissions => "too_many_submissions",
            AppError::Internal(_) => "internal",
        }
    }

    /// One invalid field.
    pub fn field(field: &str, reason: impl ToString) -> Self {
        AppError::Invalid(BTreeMap::from([(field.to_owned(), reason.to_string())]))
    }

    /// Field errors, if any.
    pub fn fields(&self) -> BTreeMap<String, String> {
        match self {
            AppError::Invalid(f) => f.clone(),
            _ => BTreeMap::new(),
        }
    }

    /// The message a user sees (never internal detail).
    pub fn message(&self) -> String {
        match self {
            AppError::Internal(detail) => {
                tracing::error!(error.detail = %detail, "internal error");
                self.to_string()
            }
            AppError::Invalid(f) => {
                let list: Vec<String> = f.iter().map(|(k, v)| format!("{k}: {v}")).collect();
                format!("输入有误 / invalid input — {}", list.join("; "))
            }
            other => other.to_string(),
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound,
            StoreError::Conflict(what) => AppError::Conflict(match what.as_str() {
                w if w.contains("id_number") => "身份证号已登记 / this ID number is already registered".into(),
                w if w.contains("credit_code") => "统一社会信用代码已存在 / this credit code exists already".into(),
                w if w.contains("username") => "用户名已存在 / username taken".into(),
                w if w.contains("enrolment") => "已报名该班 / already enrolled in this class".into(),
                _ => "记录已存在 / already exists".into(),
            }),
            StoreError::Invalid { field, reason } => AppError::field(&field, reason),
            StoreError::Rows(rows) => AppError::Invalid(rows.into_iter().map(|(k, v)| (k, v.to_string())).collect()),
            other => AppError::Internal(other.to_string()),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({
            "error": {"code": self.code(), "message": self.message(), "fields": self.fields()}
        });
        (self.status(), Json(body)).into_response()
    }
}
