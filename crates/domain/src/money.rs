//! Money as an integer number of fen (分). Never a float.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An amount of money in fen (1 yuan = 100 fen).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Money(i64);

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
