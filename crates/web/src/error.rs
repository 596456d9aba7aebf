//! One error type for every handler. The API answers with the JSON envelope
//! `{"error": {"code", "message", "fields"}}`; pages render the same error as HTML (the
//! render module's `PageError`). Internal details are logged, never sent.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use jineng_store::StoreError;
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// Every error a handler can return.
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
    /// 409: the thing exists already or changed meanwhile; the field it concerns, if one.
    #[error("{message}")]
    Conflict {
        /// Words for people.
        message: String,
        /// The input field it concerns.
        field: Option<&'static str>,
    },
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
            AppError::Conflict { .. } => StatusCode::CONFLICT,
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
            AppError::Conflict { .. } => "conflict",
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

    /// Whether the person who filled a form can mend it (the form is shown again with the
    /// errors) rather than an error page.
    pub fn is_input_mistake(&self) -> bool {
        matches!(self, AppError::Invalid(_) | AppError::Conflict { .. } | AppError::BadRequest(_))
    }

    /// Field errors, if any (a conflict on a field counts as one).
    pub fn fields(&self) -> BTreeMap<String, String> {
        match self {
            AppError::Invalid(f) => f.clone(),
            AppError::Conflict { message, field: Some(field) } => {
                BTreeMap::from([((*field).to_owned(), message.clone())])
            }
            _ => BTreeMap::new(),
        }
    }

    /// The message of an error that concerns no one field, for a form's summary; `None` when
    /// the fields say it all (the form shows each at its field).
    pub fn general(&self) -> Option<String> {
        self.fields().is_empty().then(|| self.message())
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

    /// The JSON envelope of this error.
    pub fn body(&self) -> ErrorBody {
        ErrorBody { error: ErrorDetail { code: self.code().into(), message: self.message(), fields: self.fields() } }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound,
            StoreError::Conflict(c) => AppError::Conflict { message: c.reason.to_string(), field: c.field },
            StoreError::Invalid { field, reason } => AppError::field(&field, reason),
            StoreError::Rows(rows) => AppError::Invalid(rows.into_iter().map(|(k, v)| (k, v.to_string())).collect()),
            other => AppError::Internal(other.to_string()),
        }
    }
}

impl From<minijinja::Error> for AppError {
    fn from(e: minijinja::Error) -> Self {
        AppError::Internal(format!("template: {e:#}"))
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        (self.status(), Json(self.body())).into_response()
    }
}

/// The error envelope.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// Error detail.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable code: `unauthorized`, `forbidden`, `not_found`, `conflict`, `invalid`, `bad_request`,
    /// `payload_too_large`, `unsupported_media_type`, `method_not_allowed`, `too_many_attempts`,
    /// `too_many_submissions`, `internal`.
    pub code: String,
    /// Message, Chinese then English.
    pub message: String,
    /// Field → reason, for `invalid` (and a `conflict` on one field).
    pub fields: BTreeMap<String, String>,
}
