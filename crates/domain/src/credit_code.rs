//! Unified social credit codes (统一社会信用代码, GB 32100-2015).

use crate::{AreaCode, Invalid};
use serde::{Deserialize, Serialize};
use std::fmt;

const CHARSET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/// An 18-character unified social credit code.
///
/// [`CreditCode::parse`] is strict. Legacy data whose check character fails can be kept with
/// [`CreditCode::parse_legacy`], which returns the reason as a warning to store beside it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CreditCode(String);

impl CreditCode {
    /// Parses a code and checks its check character.
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        match Self::parse_legacy(s)? {
            (code, None) => Ok(code),
            (_, Some(warning)) => Err(warning),
        }
    }

    /// Parses a code whose format is right; a wrong check character is returned as a warning.
    pub fn parse_legacy(s: &str) -> Result<(Self, Option<Invalid>), Invalid> {
        let s = s.trim().to_ascii_uppercase();
        let b = s.as_bytes();
        if b.len() != 18 {
            return Err(Invalid::new(
                "credit_code.length",
                format!("统一社会信用代码应为18位，实为{}位", s.chars().count()),
                format!("a credit code has 18 characters, this one has {}", s.chars().count()),
            ));
        }
        let mut values = [0u32; 18];
        for (i, c) in b.iter().enumerate() {
            match CHARSET.iter().position(|x| x == c) {
                Some(v) => values[i] = v as u32,
                None => {
                    return Err(Invalid::new(
                        "credit_code.format",
                        format!("第{}位字符“{}”不允许（不使用I、O、Z、S、V）", i + 1, *c as char),
                        format!("character {} '{}' is not allowed (I, O, Z, S, V are never used)", i + 1, *c as char),
                    ))
                }
            }
        }
        if !b[2..8].iter().all(u8::is_ascii_digit) {
            return Err(Invalid::new(
                "credit_code.area",
                "第3–8位应为行政区划代码",
                "characters 3–8 must be an area code",
            ));
        }
        let warning = (check_value(&values) != values[17])
            .then(|| Invalid::new("credit_code.check_digit", "校验码错误", "check character wrong"));
        Ok((Self(s), warning))
    }

    /// Builds a valid code: registration authority `9` (market regulation), type `1` (enterprise),
    /// the area code, and a 9-character organisation code derived from `serial`.
    pub fn generate(area: AreaCode, serial: u64) -> Self {
        let mut values = [0u32; 18];
        values[0] = 9;
        values[1] = 1;
        for (i, d) in area.as_str().bytes().enumerate() {
            values[2 + i] = u32::from(d - b'0');
        }
        let mut n = serial;
        for i in (8..17).rev() {
            values[i] = (n % 31) as u32;
            n /= 31;
        }
        values[17] = check_value(&values);
        Self(values.iter().map(|v| CHARSET[*v as usize] as char).collect())
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn check_value(values: &[u32; 18]) -> u32 {
    let sum: u32 = values[..17].iter().zip(WEIGHTS).map(|(v, w)| v * w).sum();
    (31 - sum % 31) % 31
}

impl fmt::Display for CreditCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for CreditCode {
    type Error = Invalid;
    fn try_from(s: String) -> Result<Self, Invalid> {
        Self::parse(&s)
    }
}

impl From<CreditCode> for String {
    fn from(c: CreditCode) -> String {
        c.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_published_code_is_valid() {
        // Tencent's code, published on its licence.
        assert!(CreditCode::parse("91440300708461136T").is_ok());
    }

    #[test]
    fn a_wrong_check_character_is_an_error_strictly_and_a_warning_for_legacy_data() {
        let e = CreditCode::parse("91440300708461136A").unwrap_err();
        assert_eq!(e.code, "credit_code.check_digit");
        let (code, warning) = CreditCode::parse_legacy("91440300708461136A").unwrap();
        assert_eq!(code.as_str(), "91440300708461136A");
        assert_eq!(warning.unwrap().code, "credit_code.check_digit");
    }

    #[test]
    fn forbidden_letters_and_lengths_are_refused() {
        assert_eq!(CreditCode::parse("9144030070846113OT").unwrap_err().code, "credit_code.format");
        assert_eq!(CreditCode::parse("9144").unwrap_err().code, "credit_code.length");
    }

    proptest! {
        #[test]
        fn generated_codes_are_valid(serial in 0u64..10_000_000_000, county in 0u32..10) {
            let area = AreaCode::parse(&format!("4117{:02}", 21 + county)).unwrap();
            let c = CreditCode::generate(area, serial);
            prop_assert!(CreditCode::parse(c.as_str()).is_ok());
        }
    }
}
