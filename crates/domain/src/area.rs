//! Administrative area codes (GB/T 2260): six digits, e.g. `411722` 上蔡县.

use crate::Invalid;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A six-digit administrative area code. Which codes exist is data (the plan file), not code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AreaCode([u8; 6]);

impl AreaCode {
    /// Parses six ASCII digits whose province part is not `00`.
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let s = s.trim();
        let b = s.as_bytes();
        if b.len() != 6 || !b.iter().all(u8::is_ascii_digit) {
            return Err(Invalid::new("area_code.format", "行政区划代码应为6位数字", "an area code is six digits"));
        }
        if &b[..2] == b"00" {
            return Err(Invalid::new("area_code.province", "省级代码无效", "unknown province"));
        }
        let mut a = [0u8; 6];
        a.copy_from_slice(b);
        Ok(Self(a))
    }

    /// The code as a string slice.
    pub fn as_str(&self) -> &str {
        // Only ASCII digits are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("000000")
    }

    /// The prefecture (city) this code belongs to, e.g. `411722` → `411700`.
    pub fn city(&self) -> AreaCode {
        let mut a = self.0;
        a[4] = b'0';
        a[5] = b'0';
        AreaCode(a)
    }

    /// Whether the code names a whole prefecture (ends in `00`).
    pub fn is_city(&self) -> bool {
        &self.0[4..] == b"00"
    }
}

impl fmt::Display for AreaCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TryFrom<String> for AreaCode {
    type Error = Invalid;
    fn try_from(s: String) -> Result<Self, Invalid> {
        Self::parse(&s)
    }
}

impl From<AreaCode> for String {
    fn from(a: AreaCode) -> String {
        a.as_str().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn county_belongs_to_its_city() {
        let c = AreaCode::parse("411722").unwrap();
        assert_eq!(c.city().as_str(), "411700");
        assert!(!c.is_city());
        assert!(c.city().is_city());
    }

    #[test]
    fn letters_and_short_codes_are_refused() {
        assert_eq!(AreaCode::parse("41172").unwrap_err().code, "area_code.format");
        assert_eq!(AreaCode::parse("41172x").unwrap_err().code, "area_code.format");
        assert_eq!(AreaCode::parse("001722").unwrap_err().code, "area_code.province");
    }
}
