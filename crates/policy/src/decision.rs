//! Decisions as the contract prints them.

use crate::params::Key;
use chrono::NaiveDate;
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

/// The outcome of a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Paid in full.
    Approved,
    /// Paid less than asked.
    Reduced,
    /// Nothing paid.
    Rejected,
    /// Money to take back (project settlement below the advances).
    Recover,
}

/// Who would be paid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payee {
    /// A person (ID number).
    Person(String),
    /// An employer (credit code).
    Employer(String),
    /// A provider (credit code).
    Provider(String),
}

impl Serialize for Payee {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(1))?;
        match self {
            Payee::Person(id) => m.serialize_entry("person", id)?,
            Payee::Employer(c) => m.serialize_entry("employer", c)?,
            Payee::Provider(c) => m.serialize_entry("provider", c)?,
        }
        m.end()
    }
}

/// Which fund pays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Fund {
    /// 就业补助资金
    EmploymentSubsidyFund,
    /// 失业保险基金
    UnemploymentInsuranceFund,
}

/// Why a rule refused or reduced, in plain words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    /// Stable code, e.g. `S7.yearly_cap`.
    pub code: &'static str,
    /// Chinese.
    pub zh: String,
    /// English.
    pub en: String,
}

/// A parameter value a decision used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParamUse {
    /// Dotted key.
    pub key: &'static str,
    /// Value.
    pub value: i64,
    /// The date the value took effect (None for a per-case override).
    pub effective_from: Option<NaiveDate>,
    /// Source.
    pub source: String,
}

/// One rule checked, for explanations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Rule function name.
    pub rule: &'static str,
    /// Clause.
    pub clause: &'static str,
    /// Whether it passed.
    pub passed: bool,
}

/// The decision on one claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    /// Claim id.
    pub claim: String,
    /// Outcome.
    pub outcome: Outcome,
    /// Amount in fen (to pay, or to recover).
    pub amount_fen: i64,
    /// Who would be paid.
    pub payee: Payee,
    /// Which fund.
    pub fund: Fund,
    /// Clauses that decided it.
    pub clauses: Vec<&'static str>,
    /// Reasons for refusal or reduction.
    pub reasons: Vec<Reason>,
    /// Parameter values used.
    pub parameters: Vec<ParamUse>,
    /// Rules checked in order (only when explaining).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<Check>,
}

/// Keys are kept out of `ParamUse` construction sites through this helper.
pub(crate) fn use_of(key: Key, value: i64, effective_from: Option<NaiveDate>, source: &str) -> ParamUse {
    ParamUse { key: key.name(), value, effective_from, source: source.to_owned() }
}
