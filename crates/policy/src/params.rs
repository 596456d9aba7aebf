//! Parameters of the rules: every value with the date it takes effect and its source, loaded
//! from a versioned file (`policy/parameters.toml`) and checked at load. The version in force
//! on an event date is the latest one that started on or before it.

use chrono::NaiveDate;
use serde::Deserialize;
use std::collections::HashSet;
use std::sync::Arc;

macro_rules! keys {
    ($($v:ident = $name:literal),* $(,)?) => {
        /// A parameter key of the case contract.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Key { $(#[doc = $name] $v,)* }
        impl Key {
            /// Every key.
            pub const ALL: &'static [Key] = &[$(Key::$v,)*];
            /// The dotted name, e.g. `training_subsidy_fen.level5`.
            pub fn name(self) -> &'static str { match self { $(Key::$v => $name,)* } }
            /// Parses a dotted name.
            pub fn parse(s: &str) -> Option<Key> { match s { $($name => Some(Key::$v),)* _ => None } }
        }
    };
}

keys! {
    TrainingL5 = "training_subsidy_fen.level5",
    TrainingL4 = "training_subsidy_fen.level4",
    TrainingL3 = "training_subsidy_fen.level3",
    TrainingL2 = "training_subsidy_fen.level2",
    TrainingL1 = "training_subsidy_fen.level1",
    TrainingSpecialAbility = "training_subsidy_fen.special_ability",
    TrainingSpecialOperation = "training_subsidy_fen.special_operation",
    TrainingCompletion = "training_subsidy_fen.training_completion",
    TrainingEntrepreneurship = "training_subsidy_fen.entrepreneurship",
    UpgradeL5 = "skill_upgrade_subsidy_fen.level5",
    UpgradeL4 = "skill_upgrade_subsidy_fen.level4",
    UpgradeL3 = "skill_upgrade_subsidy_fen.level3",
    UpgradeL2 = "skill_upgrade_subsidy_fen.level2",
    UpgradeL1 = "skill_upgrade_subsidy_fen.level1",
    UpgradeMinInsuredMonths = "skill_upgrade_min_insured_months",
    PreJobFen = "pre_job_subsidy_fen",
    LivingFenPerDay = "living_allowance_fen_per_day",
    OnTheJobFenPerMonth = "on_the_job_fen_per_month",
    OnTheJobMaxMonths = "on_the_job_max_months",
    OnTheJobMinEmploymentMonths = "on_the_job_min_employment_months",
    EquipmentPercent = "equipment_grant_percent",
    EquipmentCapBase = "equipment_grant_cap_fen.training_base",
    EquipmentCapStudio = "equipment_grant_cap_fen.master_studio",
    ProjectAdvancePercent = "project_advance_percent",
    CertificatesPerYear = "certificate_subsidies_per_year",
    ApprenticeshipFenPerYear = "apprenticeship_fen_per_year",
    EntrepreneurshipMaxYears = "entrepreneurship_business_max_years",
}

impl Key {
    /// The training-subsidy standard of a skill level.
    pub fn training_level(level: u8) -> Key {
        [Key::TrainingL1, Key::TrainingL2, Key::TrainingL3, Key::TrainingL4, Key::TrainingL5][level as usize - 1]
    }

    /// The skill-upgrade subsidy of a skill level.
    pub fn upgrade_level(level: u8) -> Key {
        [Key::UpgradeL1, Key::UpgradeL2, Key::UpgradeL3, Key::UpgradeL4, Key::UpgradeL5][level as usize - 1]
    }
}

/// One value of a parameter from a date on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    /// First day in force.
    pub from: NaiveDate,
    /// The value (fen, months, percent, count or years as the key says).
    pub value: i64,
    /// Where the figure comes from (plan clause, provincial or national standard, city decision).
    pub source: Arc<str>,
}

/// A parameter with its history.
#[derive(Debug, Clone)]
pub struct Parameter {
    /// Which parameter.
    pub key: Key,
    /// Chinese name.
    pub name_zh: String,
    /// Unit: `fen`, `months`, `percent`, `count`, `years`.
    pub unit: String,
    /// Whether the plan itself fixes the value (the city cannot change it).
    pub fixed_by_plan: bool,
    /// Versions, oldest first.
    pub versions: Vec<Version>,
}

/// All parameters.
#[derive(Debug, Clone)]
pub struct Params {
    by_key: Vec<Parameter>,
}

/// What a parameter file or override got wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ParamError {
    /// Where (key or JSON path).
    pub path: String,
    /// What is wrong.
    pub message: String,
}

fn err(path: impl Into<String>, message: impl Into<String>) -> ParamError {
    ParamError { path: path.into(), message: message.into() }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    format: String,
    #[serde(rename = "parameter")]
    parameters: Vec<FileParam>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileParam {
    key: String,
    name_zh: String,
    unit: String,
    #[serde(default)]
    fixed_by_plan: bool,
    #[serde(rename = "version")]
    versions: Vec<FileVersion>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileVersion {
    from: NaiveDate,
    value: i64,
    source: Option<String>,
}

/// The parameters shipped with the project.
pub const SHIPPED: &str = include_str!("../../../policy/parameters.toml");

impl Params {
    /// Loads and checks a parameter file: every key of the contract exactly once, no unknown
    /// key, every version with a source, versions in date order, no negative value.
    pub fn from_toml(text: &str) -> Result<Params, ParamError> {
        let file: File = toml::from_str(text).map_err(|e| err("parameters", e.to_string()))?;
        if file.format != "jineng-parameters/1" {
            return Err(err("format", "expected \"jineng-parameters/1\""));
        }
        let mut seen = HashSet::new();
        let mut by_key: Vec<Option<Parameter>> = vec![None; Key::ALL.len()];
        for p in file.parameters {
            let key = Key::parse(&p.key).ok_or_else(|| err(&p.key, "unknown parameter key"))?;
            if !seen.insert(key) {
                return Err(err(&p.key, "listed twice"));
            }
            if p.versions.is_empty() {
                return Err(err(&p.key, "has no value"));
            }
            let mut versions = Vec::new();
            for (i, v) in p.versions.into_iter().enumerate() {
                let source = v
                    .source
                    .filter(|s| !s.trim().is_empty())
                    .ok_or_else(|| err(format!("{}[{i}]", p.key), "a value without a source"))?;
                if v.value < 0 {
                    return Err(err(format!("{}[{i}]", p.key), "negative value"));
                }
                if versions.last().is_some_and(|last: &Version| last.from >= v.from) {
                    return Err(err(format!("{}[{i}]", p.key), "versions must be in increasing date order"));
                }
                versions.push(Version { from: v.from, value: v.value, source: source.into() });
            }
            by_key[key as usize] =
                Some(Parameter { key, name_zh: p.name_zh, unit: p.unit, fixed_by_plan: p.fixed_by_plan, versions });
        }
        let by_key = by_key
            .into_iter()
            .enumerate()
            .map(|(i, p)| p.ok_or_else(|| err(Key::ALL[i].name(), "missing from the parameter file")))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Params { by_key })
    }

    /// The shipped parameters (the file is parsed once per process: every decision and every
    /// page that shows a parameter starts from them).
    pub fn shipped() -> Params {
        static PARSED: std::sync::LazyLock<Params> =
            std::sync::LazyLock::new(|| Params::from_toml(SHIPPED).expect("the shipped parameter file is valid"));
        PARSED.clone()
    }

    /// Every parameter.
    pub fn all(&self) -> &[Parameter] {
        &self.by_key
    }

    /// The parameter of a key.
    pub fn get(&self, key: Key) -> &Parameter {
        &self.by_key[key as usize]
    }

    /// The version in force on `date` (the earliest one if the date precedes them all).
    pub fn version(&self, key: Key, date: NaiveDate) -> &Version {
        let vs = &self.by_key[key as usize].versions;
        let i = vs.partition_point(|v| v.from <= date);
        &vs[i.saturating_sub(1)]
    }

    /// Adds a version from a date on (scheduling a new value). Refuses values the plan fixes
    /// and versions not after the last one.
    pub fn schedule(&mut self, key: Key, from: NaiveDate, value: i64, source: &str) -> Result<(), ParamError> {
        let p = &mut self.by_key[key as usize];
        if p.fixed_by_plan {
            return Err(err(key.name(), "the plan fixes this value"));
        }
        if source.trim().is_empty() {
            return Err(err(key.name(), "a value without a source"));
        }
        if value < 0 {
            return Err(err(key.name(), "negative value"));
        }
        if p.versions.last().is_some_and(|v| v.from >= from) {
            return Err(err(key.name(), "a new value must start after the last one"));
        }
        p.versions.push(Version { from, value, source: source.trim().into() });
        Ok(())
    }
}

/// Per-case overrides: `{"training_subsidy_fen": {"level5": 100000}}` or dotted keys.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    values: Vec<Option<i64>>,
}

impl Overrides {
    /// Parses the `parameters` block of a case; an unknown key is an error naming its path.
    pub fn from_json(v: &serde_json::Value) -> Result<Overrides, ParamError> {
        let mut o = Overrides { values: vec![None; Key::ALL.len()] };
        fn walk(o: &mut Overrides, prefix: &str, v: &serde_json::Value) -> Result<(), ParamError> {
            let path = |k: &str| if prefix.is_empty() { k.to_owned() } else { format!("{prefix}.{k}") };
            let map = v.as_object().ok_or_else(|| {
                err(
                    format!("parameters{}", if prefix.is_empty() { String::new() } else { format!(".{prefix}") }),
                    "expected an object",
                )
            })?;
            for (k, val) in map {
                let name = path(k);
                if val.is_object() {
                    walk(o, &name, val)?;
                    continue;
                }
                let key =
                    Key::parse(&name).ok_or_else(|| err(format!("parameters.{name}"), "unknown parameter key"))?;
                let n = val
                    .as_i64()
                    .filter(|n| *n >= 0)
                    .ok_or_else(|| err(format!("parameters.{name}"), "expected a non-negative integer"))?;
                o.values[key as usize] = Some(n);
            }
            Ok(())
        }
        walk(&mut o, "", v)?;
        Ok(o)
    }

    /// The override of a key, if any.
    pub fn get(&self, key: Key) -> Option<i64> {
        self.values.get(key as usize).copied().flatten()
    }
}
