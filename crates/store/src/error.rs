use jineng_domain::Invalid;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No such row (or not visible in the caller's scope).
    #[error("not found")]
    NotFound,
    /// A unique constraint: the thing exists already.
    #[error("conflict: {0}")]
    Conflict(String),
    /// A field was refused.
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// Field name.
        field: String,
        /// Why.
        reason: Invalid,
    },
    /// Several fields or rows were refused (e.g. a roster): each with its path and reason.
    #[error("{} invalid rows or fields", .0.len())]
    Rows(Vec<(String, Invalid)>),
    /// A database failure.
    #[error(transparent)]
    Db(sqlx::Error),
    /// Migration failure.
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl StoreError {
    /// A field-level refusal.
    pub fn invalid(field: &str, reason: Invalid) -> Self {
        StoreError::Invalid { field: field.to_owned(), reason }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::Database(d) if d.is_unique_violation() => {
                StoreError::Conflict(d.constraint().unwrap_or("unique").to_owned())
            }
            sqlx::Error::Database(d) if d.is_foreign_key_violation() => StoreError::Invalid {
                field: d.constraint().unwrap_or("reference").to_owned(),
                reason: Invalid::new("reference.unknown", "引用的记录不存在", "refers to a record that does not exist"),
            },
            _ => StoreError::Db(e),
        }
    }
}
