//! Money as an integer number of fen (分). Never a float.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An amount of money in fen (1 yuan = 100 fen).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Money(i64);

/// The largest amount the system takes in one figure (10 billion yuan): far above anything the
/// plan pays or a fund receives at once, far below where sums of them could overflow.
pub const MAX_AMOUNT_FEN: i64 = 1_000_000_000_000;

impl Money {
    /// Zero fen.
    pub const ZERO: Money = Money(0);

    /// An amount in fen.
    pub const fn from_fen(fen: i64) -> Self {
        Self(fen)
    }

    /// An amount in whole yuan.
    pub const fn from_yuan(yuan: i64) -> Self {
        Self(yuan * 100)
    }

    /// The amount in fen.
    pub const fn fen(self) -> i64 {
        self.0
    }

    /// Parses an amount in yuan as a person types it (`1234`, `1,234.5`, `1234.56`), exactly:
    /// no floats, at most two decimals, not negative.
    pub fn parse_yuan(s: &str) -> Result<Money, crate::Invalid> {
        let bad = || {
            crate::Invalid::new(
                "money.format",
                "金额格式有误（元，最多两位小数）",
                "an amount in yuan with at most two decimals",
            )
        };
        let t: String = s.trim().trim_start_matches('¥').chars().filter(|c| *c != ',').collect();
        let (whole, frac) = t.split_once('.').unwrap_or((&t, ""));
        if whole.is_empty()
            || !whole.bytes().all(|b| b.is_ascii_digit())
            || frac.len() > 2
            || !frac.bytes().all(|b| b.is_ascii_digit())
            || whole.len() > 13
        {
            return Err(bad());
        }
        let yuan: i64 = whole.parse().map_err(|_| bad())?;
        let fen: i64 = format!("{frac:0<2}").parse().map_err(|_| bad())?;
        Ok(Money(yuan * 100 + fen))
    }

    /// `percent` % of this amount, rounded half up to the fen (half away from zero).
    pub fn percent(self, percent: i64) -> Self {
        let n = self.0 * percent;
        let q = n / 100;
        let r = n % 100;
        Self(if r.abs() * 2 >= 100 { q + r.signum() } else { q })
    }

    /// The smaller of two amounts.
    pub fn min(self, other: Money) -> Money {
        Money(self.0.min(other.0))
    }

    /// Checked addition.
    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.0.checked_add(other.0).map(Money)
    }
}

impl std::ops::Add for Money {
    type Output = Money;
    fn add(self, o: Money) -> Money {
        Money(self.0 + o.0)
    }
}

impl std::ops::Sub for Money {
    type Output = Money;
    fn sub(self, o: Money) -> Money {
        Money(self.0 - o.0)
    }
}

impl std::iter::Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        Money(iter.map(|m| m.0).sum())
    }
}

/// Formats as yuan with thousands separators, e.g. `¥1,234.50`.
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let yuan = (abs / 100).to_string();
        let mut grouped = String::new();
        for (i, c) in yuan.chars().enumerate() {
            if i > 0 && (yuan.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(c);
        }
        write!(f, "{sign}¥{grouped}.{:02}", abs % 100)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn yuan_parse_exactly() {
        use super::Money;
        assert_eq!(Money::parse_yuan("1,234.5").unwrap().fen(), 123_450);
        assert_eq!(Money::parse_yuan("0.07").unwrap().fen(), 7);
        assert_eq!(Money::parse_yuan("200").unwrap().fen(), 20_000);
        for bad in ["", "-1", "1.234", "abc", "1.2.3"] {
            assert!(Money::parse_yuan(bad).is_err(), "{bad}");
        }
    }

    use super::*;

    #[test]
    fn displays_yuan_with_separators() {
        assert_eq!(Money::from_fen(123_456_789).to_string(), "¥1,234,567.89");
        assert_eq!(Money::from_fen(5).to_string(), "¥0.05");
        assert_eq!(Money::from_fen(-150).to_string(), "-¥1.50");
    }

    #[test]
    fn twenty_percent_rounds_half_up_to_the_fen() {
        assert_eq!(Money::from_fen(12_345).percent(20), Money::from_fen(2_469));
        assert_eq!(Money::from_fen(123).percent(50), Money::from_fen(62));
        assert_eq!(Money::from_yuan(2_500_000).percent(20), Money::from_yuan(500_000));
    }
}
