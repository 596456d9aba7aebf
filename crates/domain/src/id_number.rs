//! Resident ID numbers (公民身份号码, GB 11643-1999).

use crate::{AreaCode, Invalid};
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use std::fmt;

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK: &[u8; 11] = b"10X98765432";

/// Sex as encoded by the 17th character of an ID number (odd = male).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    /// 男
    Male,
    /// 女
    Female,
}

impl Sex {
    /// Chinese label.
    pub fn zh(self) -> &'static str {
        match self {
            Sex::Male => "男",
            Sex::Female => "女",
        }
    }
}

/// An 18-character resident ID number with a real birth date and a correct check digit.
///
/// `Display` masks it (`4117**********123X`); use [`IdNumber::as_str`] only where the full
/// number is needed (storage, exports to authorised users).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IdNumber([u8; 18]);

impl IdNumber {
    /// Parses and validates an ID number; a lowercase `x` is accepted and stored as `X`.
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let s = s.trim();
        let b = s.as_bytes();
        if b.len() != 18 {
            return Err(Invalid::new(
                "id_number.length",
                format!("身份证号应为18位，实为{}位", s.chars().count()),
                format!("an ID number has 18 characters, this one has {}", s.chars().count()),
            ));
        }
        if !b[..17].iter().all(u8::is_ascii_digit) {
            return Err(Invalid::new(
                "id_number.format",
                "身份证号前17位应为数字",
                "the first 17 characters must be digits",
            ));
        }
        let last = b[17].to_ascii_uppercase();
        if !(last.is_ascii_digit() || last == b'X') {
            return Err(Invalid::new(
                "id_number.format",
                "身份证号末位应为数字或X",
                "the last character must be a digit or X",
            ));
        }
        let area = std::str::from_utf8(&b[..6]).unwrap_or_default();
        AreaCode::parse(area)
            .map_err(|_| Invalid::new("id_number.area", "地址码无效", "the area code part is not valid"))?;
        if birth_date(b).is_none() {
            return Err(Invalid::new(
                "id_number.birth_date",
                "出生日期不存在",
                "the birth date part is not a real date",
            ));
        }
        let expected = check_char(b);
        if last != expected {
            return Err(Invalid::new("id_number.check_digit", "校验码错误", "check digit wrong"));
        }
        let mut a = [0u8; 18];
        a.copy_from_slice(b);
        a[17] = last;
        Ok(Self(a))
    }

    /// Builds a valid number from its parts, computing the check digit (used by demo data and tests).
    pub fn from_parts(area: AreaCode, birth: NaiveDate, sequence: u16) -> Self {
        let body = format!("{}{:04}{:02}{:02}{:03}", area, birth.year(), birth.month(), birth.day(), sequence % 1000);
        let mut a = [0u8; 18];
        a[..17].copy_from_slice(body.as_bytes());
        a[17] = check_char(&a);
        Self(a)
    }

    /// The full number. Do not show it on screen: use `Display`, which masks it.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The masked form, e.g. `4117**********123X`.
    pub fn masked(&self) -> String {
        mask(self.as_str())
    }

    /// Area code of the place of first registration.
    pub fn area(&self) -> AreaCode {
        AreaCode::parse(&self.as_str()[..6]).expect("validated at parse")
    }

    /// Birth date encoded in the number.
    pub fn birth_date(&self) -> NaiveDate {
        birth_date(&self.0).expect("validated at parse")
    }

    /// Sex encoded in the number.
    pub fn sex(&self) -> Sex {
        if (self.0[16] - b'0') % 2 == 1 {
            Sex::Male
        } else {
            Sex::Female
        }
    }
}

/// Masks any ID-like string for display: first 4 and last 4 characters kept.
pub fn mask(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= 8 {
        return "*".repeat(chars.len());
    }
    let mut out: String = chars[..4].iter().collect();
    out.push_str(&"*".repeat(chars.len() - 8));
    out.extend(&chars[chars.len() - 4..]);
    out
}

fn birth_date(b: &[u8]) -> Option<NaiveDate> {
    let n = |r: std::ops::Range<usize>| std::str::from_utf8(&b[r]).ok()?.parse::<u32>().ok();
    let year = n(6..10)? as i32;
    if !(1900..=2100).contains(&year) {
        return None;
    }
    NaiveDate::from_ymd_opt(year, n(10..12)?, n(12..14)?)
}

fn check_char(b: &[u8]) -> u8 {
    let sum: u32 = b[..17].iter().zip(WEIGHTS).map(|(d, w)| u32::from(d - b'0') * w).sum();
    CHECK[(sum % 11) as usize]
}

impl fmt::Display for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl fmt::Debug for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdNumber({})", self.masked())
    }
}

impl TryFrom<String> for IdNumber {
    type Error = Invalid;
    fn try_from(s: String) -> Result<Self, Invalid> {
        Self::parse(&s)
    }
}

impl From<IdNumber> for String {
    fn from(i: IdNumber) -> String {
        i.as_str().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // A published example of GB 11643-1999.
    const VALID: &str = "11010519491231002X";

    #[test]
    fn a_valid_number_parses_with_birth_date_and_sex() {
        let id = IdNumber::parse(VALID).unwrap();
        assert_eq!(id.birth_date(), NaiveDate::from_ymd_opt(1949, 12, 31).unwrap());
        assert_eq!(id.sex(), Sex::Female);
        assert_eq!(id.area().as_str(), "110105");
    }

    #[test]
    fn lowercase_x_is_accepted_and_normalised() {
        let id = IdNumber::parse("11010519491231002x").unwrap();
        assert_eq!(id.as_str(), VALID);
    }

    #[test]
    fn display_and_debug_are_masked() {
        let id = IdNumber::parse(VALID).unwrap();
        assert_eq!(id.to_string(), "1101**********002X");
        assert!(!format!("{id:?}").contains("19491231"));
    }

    #[test]
    fn wrong_check_digit_is_refused_with_reason() {
        let e = IdNumber::parse("110105194912310021").unwrap_err();
        assert_eq!(e.code, "id_number.check_digit");
        assert_eq!(e.zh, "校验码错误");
        assert_eq!(e.en, "check digit wrong");
    }

    #[test]
    fn impossible_birth_date_is_refused() {
        // 1949-02-30 does not exist; the check digit is computed so that only the date is wrong.
        let mut b = *b"11010519490230002?";
        b[17] = check_char(&b);
        let e = IdNumber::parse(std::str::from_utf8(&b).unwrap()).unwrap_err();
        assert_eq!(e.code, "id_number.birth_date");
    }

    #[test]
    fn length_and_format_errors_name_the_problem() {
        assert_eq!(IdNumber::parse("1234").unwrap_err().code, "id_number.length");
        assert_eq!(IdNumber::parse("1101051949123100AX").unwrap_err().code, "id_number.format");
        assert_eq!(IdNumber::parse("00010519491231002X").unwrap_err().code, "id_number.area");
    }

    proptest! {
        #[test]
        fn built_numbers_round_trip(days in 0i64..40_000, seq in 0u16..1000, county in 0u32..10) {
            let area = AreaCode::parse(&format!("4117{:02}", 21 + county)).unwrap();
            let birth = NaiveDate::from_ymd_opt(1920, 1, 1).unwrap() + chrono::Days::new(days as u64);
            let id = IdNumber::from_parts(area, birth, seq);
            let parsed = IdNumber::parse(id.as_str()).unwrap();
            prop_assert_eq!(parsed.birth_date(), birth);
            prop_assert_eq!(parsed.area(), area);
        }

        #[test]
        fn changing_one_digit_breaks_the_check(days in 0i64..40_000, seq in 0u16..1000, pos in 14usize..17, delta in 1u8..10) {
            let birth = NaiveDate::from_ymd_opt(1920, 1, 1).unwrap() + chrono::Days::new(days as u64);
            let id = IdNumber::from_parts(AreaCode::parse("411722").unwrap(), birth, seq);
            let mut b = id.as_str().as_bytes().to_vec();
            b[pos] = b'0' + (b[pos] - b'0' + delta) % 10;
            let s = String::from_utf8(b).unwrap();
            prop_assert!(IdNumber::parse(&s).is_err());
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,30}") {
            let _ = IdNumber::parse(&s);
        }
    }
}
