use std::fmt;

/// Why a value from outside was refused, in Chinese and English, with a stable code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Invalid {
    /// Stable machine-readable code, e.g. `id_number.check_digit`.
    pub code: &'static str,
    /// Reason in Chinese, shown first.
    pub zh: String,
    /// Reason in English.
    pub en: String,
}

impl Invalid {
    /// A reason with both languages.
    pub fn new(code: &'static str, zh: impl Into<String>, en: impl Into<String>) -> Self {
        Self { code, zh: zh.into(), en: en.into() }
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} / {}", self.zh, self.en)
    }
}
