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

impl Outcome {
    /// Its code, as stored and as in case files.
    pub fn code(self) -> &'static str {
        match self {
            Outcome::Approved => "approved",
            Outcome::Reduced => "reduced",
            Outcome::Rejected => "rejected",
            Outcome::Recover => "recover",
        }
    }
}

/// Who would be paid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payee<'a> {
    /// A person (ID number).
    Person(&'a str),
    /// An employer (credit code).
    Employer(&'a str),
    /// A provider (credit code).
    Provider(&'a str),
}

impl Serialize for Payee<'_> {
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

impl Fund {
    /// The fund that pays a kind of claim: the skill-upgrade subsidy from the unemployment
    /// insurance fund (S3), everything else from the employment subsidy fund.
    pub fn of(kind: crate::ClaimKind) -> Fund {
        match kind {
            crate::ClaimKind::SkillUpgradeSubsidy => Fund::UnemploymentInsuranceFund,
            _ => Fund::EmploymentSubsidyFund,
        }
    }

    /// Its code, as stored.
    pub fn code(self) -> &'static str {
        match self {
            Fund::EmploymentSubsidyFund => "employment_subsidy_fund",
            Fund::UnemploymentInsuranceFund => "unemployment_insurance_fund",
        }
    }
}

/// Why a rule refused or reduced, in plain words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    /// Stable code, e.g. `S7.yearly_cap`.
    pub code: &'static str,
    /// In Chinese, for the worker or clerk.
    pub zh: &'static str,
    /// In English.
    pub en: &'static str,
}

/// A parameter value a decision used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParamUse<'a> {
    /// Dotted key.
    pub key: &'static str,
    /// The value used (fen, months, percent, count or years as the key says).
    pub value: i64,
    /// The date the value took effect (None for a per-case override).
    pub effective_from: Option<NaiveDate>,
    /// Where the figure comes from (plan clause, standard, city decision, or the case).
    pub source: &'a str,
}

/// One rule checked, for explanations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Rule function name.
    pub rule: &'static str,
    /// The clause the rule comes from.
    pub clause: Clause,
    /// Whether it passed.
    pub passed: bool,
}

/// The decision on one claim; it borrows from the case and the parameters it was decided with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision<'a> {
    /// Claim id.
    pub claim: &'a str,
    /// Approved, reduced, rejected or recover.
    pub outcome: Outcome,
    /// Amount in fen (to pay, or to recover).
    pub amount_fen: i64,
    /// Who would be paid.
    pub payee: Payee<'a>,
    /// Which fund.
    pub fund: Fund,
    /// Clauses that decided it.
    pub clauses: Clauses,
    /// Reasons for refusal or reduction.
    pub reasons: Vec<Reason>,
    /// Parameter values used.
    pub parameters: Vec<ParamUse<'a>>,
    /// Rules checked in order (only when explaining).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<Check>,
    /// A project settlement: the certificates (ids) whose training subsidies it paid; they
    /// count in their holders' histories as training subsidies (S7 caps, S9).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub certificates_paid: Vec<&'a str>,
}

/// Keys are kept out of `ParamUse` construction sites through this helper.
pub(crate) fn use_of(key: Key, value: i64, effective_from: Option<NaiveDate>, source: &str) -> ParamUse<'_> {
    ParamUse { key: key.name(), value, effective_from, source }
}

macro_rules! clauses {
    ($($v:ident),*) => {
        /// A clause a rule cites.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(u8)]
        pub enum Clause { $(#[doc = stringify!($v)] $v,)* }
        impl Clause {
            /// Every clause a rule cites.
            pub const ALL: &'static [Clause] = &[$(Clause::$v,)*];
            /// The id, e.g. `S12`.
            pub fn as_str(self) -> &'static str { match self { $(Clause::$v => stringify!($v),)* } }
        }
    };
}

clauses!(S1, S2, S3, S4, S5, S7, S8, S9, S12, E1b, P8);

impl Serialize for Clause {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A set of clauses (no allocation), listed in the order of `Clause::ALL`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Clauses(u16);

impl Clauses {
    /// Adds one.
    pub fn insert(&mut self, c: Clause) {
        self.0 |= 1 << c as u8;
    }

    /// Whether it holds one.
    pub fn contains(&self, c: Clause) -> bool {
        self.0 & (1 << c as u8) != 0
    }

    /// The clauses, in order.
    pub fn iter(&self) -> impl Iterator<Item = Clause> + '_ {
        Clause::ALL.iter().copied().filter(|c| self.contains(*c))
    }
}

impl Serialize for Clauses {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}
