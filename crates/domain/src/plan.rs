//! The plan as data: overall targets, programs and their sub-targets, counties and
//! departments, loaded from a TOML file shipped with the project (`plan/*.toml`).
//!
//! Nothing about one city is written in Rust: another city's plan is another file.

use crate::{AreaCode, Invalid};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// A whole plan file.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// Header of the plan.
    pub plan: PlanHeader,
    /// Counties and districts covered.
    #[serde(rename = "county")]
    pub counties: Vec<County>,
    /// Every department named as responsible or asked to propose a value.
    #[serde(rename = "department")]
    pub departments: Vec<Department>,
    /// Overall targets (T1, T2, T3).
    #[serde(rename = "target")]
    pub targets: Vec<OverallTarget>,
    /// Programs and sub-targets.
    #[serde(rename = "program")]
    pub programs: Vec<Program>,
}

/// The plan's identity and period.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PlanHeader {
    /// Stable id, e.g. `zhumadian-2019-2021`.
    pub id: String,
    /// Title in Chinese.
    pub name_zh: String,
    /// Title in English.
    pub name_en: String,
    /// Area code of the region the plan covers.
    pub region_code: AreaCode,
    /// Region name in Chinese.
    pub region_name_zh: String,
    /// Region name in English.
    pub region_name_en: String,
    /// First day of the period.
    pub start: chrono::NaiveDate,
    /// Last day of the period.
    pub end: chrono::NaiveDate,
    /// Status of the text (e.g. draft for comment), Chinese.
    pub status_zh: String,
    /// Status, English.
    pub status_en: String,
    /// Where the source text is.
    pub source: String,
}

/// A county or district.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct County {
    /// Six-digit admin code.
    pub code: AreaCode,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// Resident population (persons).
    pub population: i64,
}

/// A department (责任单位).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Department {
    /// Short stable code, e.g. `hrss`.
    pub code: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
}

/// The unit a target counts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// 人次: completions.
    PersonTimes,
    /// 人: distinct persons.
    Persons,
    /// A share in percent.
    Percent,
    /// No numeric target (e.g. a competition).
    None,
}

impl Unit {
    /// Code as stored.
    pub fn code(self) -> &'static str {
        match self {
            Unit::PersonTimes => "person_times",
            Unit::Persons => "persons",
            Unit::Percent => "percent",
            Unit::None => "none",
        }
    }
}

/// An overall target T1–T3.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OverallTarget {
    /// Clause-style id (`T1`).
    pub id: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// What the value counts.
    pub unit: Unit,
    /// Target value.
    pub value: i64,
    /// Of which subsidised (T1 only).
    pub subsidised: Option<i64>,
    /// Clause id.
    pub clause: String,
    /// Verbatim quote from the source.
    pub quote: String,
    /// Note, Chinese.
    pub note_zh: Option<String>,
    /// Note, English.
    pub note_en: Option<String>,
}

/// A target the draft left as "X", awaiting a department's proposal.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Pending {
    /// Department codes asked to propose a value.
    pub asked: Vec<String>,
    /// The province-wide figure given for reference, verbatim.
    pub province_note: String,
}

/// A program (P1–P13) or a sub-target of one (P2a…).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Program {
    /// Code, e.g. `P2a`.
    pub code: String,
    /// Parent program code for sub-targets.
    pub parent: Option<String>,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// Unit of the target.
    pub unit: Unit,
    /// Target when the plan gives a number.
    pub target: Option<i64>,
    /// Pending marker when the plan says "X".
    pub pending: Option<Pending>,
    /// Minimum skill-upgrade share, percent.
    pub share_pct: Option<i64>,
    /// Responsible department codes.
    #[serde(default)]
    pub responsible: Vec<String>,
    /// Whether city and county governments are responsible too.
    #[serde(default)]
    pub lead_governments: bool,
    /// Clause id.
    pub clause: String,
    /// Verbatim quote.
    pub quote: String,
    /// Note, Chinese.
    pub note_zh: Option<String>,
    /// Note, English.
    pub note_en: Option<String>,
}

/// The value of a program target as the plan states it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum TargetValue {
    /// A number of person-times or persons.
    Set {
        /// The value.
        value: i64,
    },
    /// 待定: the draft says "X"; a department is asked to propose a value.
    Pending(Pending),
    /// No numeric target.
    None,
}

impl Program {
    /// The target as the plan states it.
    pub fn target_value(&self) -> TargetValue {
        match (&self.target, &self.pending) {
            (Some(v), _) => TargetValue::Set { value: *v },
            (None, Some(p)) => TargetValue::Pending(p.clone()),
            (None, None) => TargetValue::None,
        }
    }
}

impl Plan {
    /// Parses a plan file and checks that it is consistent.
    pub fn from_toml(text: &str) -> Result<Self, Invalid> {
        let plan: Plan = toml::from_str(text)
            .map_err(|e| Invalid::new("plan.syntax", format!("计划文件格式错误：{e}"), format!("plan file: {e}")))?;
        plan.check()?;
        Ok(plan)
    }

    fn check(&self) -> Result<(), Invalid> {
        let bad = |zh: String, en: String| Err(Invalid::new("plan.consistency", zh, en));
        let departments: HashSet<&str> = self.departments.iter().map(|d| d.code.as_str()).collect();
        let mut codes = HashSet::new();
        for p in &self.programs {
            if !codes.insert(p.code.as_str()) {
                return bad(format!("专项计划编号重复：{}", p.code), format!("duplicate program {}", p.code));
            }
            if p.target.is_some() && p.pending.is_some() {
                return bad(
                    format!("{} 同时有目标值和待定标记", p.code),
                    format!("{} has both a value and a pending marker", p.code),
                );
            }
            let asked = p.pending.iter().flat_map(|x| x.asked.iter());
            for d in p.responsible.iter().chain(asked) {
                if !departments.contains(d.as_str()) {
                    return bad(
                        format!("{} 引用了未定义的部门 {d}", p.code),
                        format!("{} names unknown department {d}", p.code),
                    );
                }
            }
        }
        for p in &self.programs {
            if let Some(parent) = &p.parent {
                if !codes.contains(parent.as_str()) {
                    return bad(
                        format!("{} 的上级计划 {parent} 不存在", p.code),
                        format!("{}: unknown parent {parent}", p.code),
                    );
                }
            }
        }
        let mut counties = HashSet::new();
        for c in &self.counties {
            if c.code.city() != self.plan.region_code.city() || !counties.insert(c.code) {
                return bad(
                    format!("县区代码 {} 不属于本市或重复", c.code),
                    format!("county {} is outside the region or repeated", c.code),
                );
            }
        }
        if self.plan.end < self.plan.start {
            return bad("计划结束日期早于开始日期".into(), "the plan ends before it starts".into());
        }
        Ok(())
    }

    /// A program by code.
    pub fn program(&self, code: &str) -> Option<&Program> {
        self.programs.iter().find(|p| p.code == code)
    }

    /// Sub-targets of a program.
    pub fn children<'a>(&'a self, code: &'a str) -> impl Iterator<Item = &'a Program> + 'a {
        self.programs.iter().filter(move |p| p.parent.as_deref() == Some(code))
    }

    /// Programs that classes can be filed under: those with no sub-targets.
    pub fn leaf_programs(&self) -> impl Iterator<Item = &Program> {
        self.programs.iter().filter(|p| self.children(&p.code).next().is_none())
    }

    /// A county by code.
    pub fn county(&self, code: &str) -> Option<&County> {
        self.counties.iter().find(|c| c.code.as_str() == code)
    }

    /// A department by code.
    pub fn department(&self, code: &str) -> Option<&Department> {
        self.departments.iter().find(|d| d.code == code)
    }
}
