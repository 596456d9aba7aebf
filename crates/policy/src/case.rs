//! A case as the contract (`jineng-case/1`) defines it, parsed and checked at the boundary:
//! anything malformed or dangling is refused with the JSON path and the reason.

use crate::params::Overrides;
use chrono::NaiveDate;
use jineng_domain::{AreaCode, IdNumber, PriorityGroup, TrainingKind};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Bad input: where and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[error("{path}: {message}")]
pub struct BadInput {
    /// JSON path, e.g. `people[1].id_number`.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

fn bad(path: impl Into<String>, message: impl Into<String>) -> BadInput {
    BadInput { path: path.into(), message: message.into() }
}

/// Kinds of employer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EmployerKind {
    /// 企业
    Enterprise,
    /// 农民专业合作社
    Cooperative,
    /// 扶贫车间
    PovertyWorkshop,
    /// 院校
    College,
    /// 其他
    Other,
}

/// Kinds of certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CertKind {
    /// 职业资格证书
    Qualification,
    /// 职业技能等级证书
    SkillLevel,
    /// 专项职业能力证书
    SpecialAbility,
    /// 特种作业操作证书
    SpecialOperation,
    /// 培训合格证书
    TrainingCompletion,
}

/// Kinds of claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClaimKind {
    /// 职业培训补贴
    TrainingSubsidy,
    /// 技能提升补贴
    SkillUpgradeSubsidy,
    /// 生活费补贴
    LivingAllowance,
    /// 岗前培训补贴
    PreJob,
    /// 以工代训补贴
    OnTheJob,
    /// 新型学徒制补贴
    Apprenticeship,
    /// 设备补助
    EquipmentGrant,
    /// 项目制培训
    ProjectTraining,
}

/// Project-training stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// 先行拨付
    Advance,
    /// 结算
    Settlement,
}

/// Equipment-grant facility.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Facility {
    /// 高技能人才培训基地
    TrainingBase,
    /// 技能大师工作室
    MasterStudio,
}

/// A priority-group membership.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Group {
    /// Group.
    pub group: PriorityGroup,
    /// From.
    pub from: NaiveDate,
    /// To (inclusive) or null.
    #[serde(default)]
    pub to: Option<NaiveDate>,
}

/// A person.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Person {
    /// ID number (checked).
    pub id_number: String,
    /// Name.
    pub name: String,
    /// Hukou area.
    pub hukou: String,
    /// Residence area.
    pub residence: String,
    /// Work (or job-seeking) area.
    #[serde(default)]
    pub work: Option<String>,
    /// Rural hukou.
    pub rural: bool,
    /// Entitled to a monthly pension.
    pub monthly_pension: bool,
    /// Start of continuous unemployment-insurance contributions.
    #[serde(default)]
    pub insured_since: Option<NaiveDate>,
    /// Start of their own small business.
    #[serde(default)]
    pub business_started: Option<NaiveDate>,
    /// Groups.
    pub groups: Vec<Group>,
}

/// An employer.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Employer {
    /// Credit code.
    pub credit_code: String,
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: EmployerKind,
    /// Pays unemployment insurance.
    pub insured: bool,
    /// County.
    pub county: String,
}

/// An employment.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Employment {
    /// Person (ID number).
    pub person: String,
    /// Employer (credit code).
    pub employer: String,
    /// From.
    pub from: NaiveDate,
    /// To, null = ongoing.
    #[serde(default)]
    pub to: Option<NaiveDate>,
}

/// One person in one class.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Training {
    /// Id.
    pub id: String,
    /// Person.
    pub person: String,
    /// Kind.
    pub kind: TrainingKind,
    /// Occupation code.
    pub occupation: String,
    /// Level.
    #[serde(default)]
    pub level: Option<u8>,
    /// County where held.
    pub county: String,
    /// Provider credit code.
    pub provider: String,
    /// Employer the training is for.
    #[serde(default)]
    pub employer: Option<String>,
    /// Start.
    pub start: NaiveDate,
    /// End.
    pub end: NaiveDate,
    /// Days.
    pub days: i64,
    /// Days attended.
    pub attended_days: i64,
    /// Recorded through the system.
    pub in_system: bool,
    /// Project-based.
    pub project_based: bool,
}

/// A certificate.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Certificate {
    /// Id.
    pub id: String,
    /// Person.
    pub person: String,
    /// Training id.
    #[serde(default)]
    pub training: Option<String>,
    /// Kind.
    pub kind: CertKind,
    /// Occupation.
    pub occupation: String,
    /// Level.
    #[serde(default)]
    pub level: Option<u8>,
    /// Issue date.
    pub issued: NaiveDate,
    /// Serial.
    pub serial: String,
}

/// A subsidy already granted.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Granted {
    /// Claim kind.
    pub kind: Option<ClaimKind>,
    /// Person.
    #[serde(default)]
    pub person: Option<String>,
    /// Employer.
    #[serde(default)]
    pub employer: Option<String>,
    /// Provider.
    #[serde(default)]
    pub provider: Option<String>,
    /// Project.
    #[serde(default)]
    pub project: Option<String>,
    /// Certificate.
    #[serde(default)]
    pub certificate: Option<String>,
    /// Occupation.
    #[serde(default)]
    pub occupation: Option<String>,
    /// Level.
    #[serde(default)]
    pub level: Option<u8>,
    /// Event date.
    #[serde(default)]
    pub date: Option<NaiveDate>,
    /// Months (on-the-job).
    #[serde(default)]
    pub months: Option<i64>,
    /// Stage (project training).
    #[serde(default)]
    pub stage: Option<Stage>,
    /// Amount.
    #[serde(default)]
    pub amount_fen: Option<i64>,
}

/// A claim as filed.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Claim {
    /// Id.
    pub id: String,
    /// Kind.
    pub kind: ClaimKind,
    /// Filed on.
    pub filed: NaiveDate,
    /// Person.
    #[serde(default)]
    pub person: Option<String>,
    /// Certificate.
    #[serde(default)]
    pub certificate: Option<String>,
    /// Training.
    #[serde(default)]
    pub training: Option<String>,
    /// Employer.
    #[serde(default)]
    pub employer: Option<String>,
    /// On-the-job: from.
    #[serde(default)]
    pub from: Option<NaiveDate>,
    /// On-the-job: months.
    #[serde(default)]
    pub months: Option<i64>,
    /// Apprenticeship: years.
    #[serde(default)]
    pub years: Option<i64>,
    /// Equipment: facility.
    #[serde(default)]
    pub facility: Option<Facility>,
    /// Equipment: value.
    #[serde(default)]
    pub equipment_value_fen: Option<i64>,
    /// Equipment: accepted.
    #[serde(default)]
    pub accepted: Option<bool>,
    /// Project: provider.
    #[serde(default)]
    pub provider: Option<String>,
    /// Project id.
    #[serde(default)]
    pub project: Option<String>,
    /// Project: trainings.
    #[serde(default)]
    pub trainings: Option<Vec<String>>,
    /// Project: contract.
    #[serde(default)]
    pub contract_fen: Option<i64>,
    /// Project: stage.
    #[serde(default)]
    pub stage: Option<Stage>,
}

/// The whole case file.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Case {
    /// `jineng-case/1`.
    pub format: String,
    /// What it shows.
    #[serde(default)]
    pub name: String,
    /// Clauses exercised.
    #[serde(default)]
    pub exercises: Vec<String>,
    /// Parameter overrides.
    #[serde(default)]
    pub parameters: Option<serde_json::Value>,
    /// People.
    #[serde(default)]
    pub people: Vec<Person>,
    /// Employers.
    #[serde(default)]
    pub employers: Vec<Employer>,
    /// Employments.
    #[serde(default)]
    pub employments: Vec<Employment>,
    /// Trainings.
    #[serde(default)]
    pub trainings: Vec<Training>,
    /// Certificates.
    #[serde(default)]
    pub certificates: Vec<Certificate>,
    /// History.
    #[serde(default)]
    pub granted: Vec<Granted>,
    /// Claims to decide.
    #[serde(default)]
    pub claims: Vec<Claim>,
    /// Expected decisions (for `policy test`).
    #[serde(default)]
    pub expect: Option<Vec<serde_json::Value>>,
}

/// A case that parsed and whose references all resolve.
#[derive(Debug)]
pub struct Checked {
    /// The case.
    pub case: Case,
    /// Parameter overrides.
    pub overrides: Overrides,
    /// Person index by ID number.
    pub person_ix: HashMap<String, usize>,
    /// Employer index by credit code.
    pub employer_ix: HashMap<String, usize>,
    /// Training index by id.
    pub training_ix: HashMap<String, usize>,
    /// Certificate index by id.
    pub certificate_ix: HashMap<String, usize>,
}

/// Parses case JSON; a syntax or shape error names the JSON path.
pub fn parse(text: &str) -> Result<Checked, BadInput> {
    let de = &mut serde_json::Deserializer::from_str(text);
    let case: Case = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        bad(if path == "." { "$".to_owned() } else { path }, e.into_inner().to_string())
    })?;
    check(case)
}

fn area(path: String, s: &str) -> Result<(), BadInput> {
    AreaCode::parse(s).map(|_| ()).map_err(|e| bad(path, e.to_string()))
}

fn level(path: String, l: Option<u8>) -> Result<(), BadInput> {
    match l {
        Some(l) if !(1..=5).contains(&l) => Err(bad(path, "a skill level is 1 to 5")),
        _ => Ok(()),
    }
}

fn index<T>(items: &[T], list: &str, id: impl Fn(&T) -> &str) -> Result<HashMap<String, usize>, BadInput> {
    let mut m = HashMap::with_capacity(items.len());
    for (i, t) in items.iter().enumerate() {
        if m.insert(id(t).to_owned(), i).is_some() {
            return Err(bad(format!("{list}[{i}]"), format!("duplicate id \"{}\"", id(t))));
        }
    }
    Ok(m)
}

fn resolve(m: &HashMap<String, usize>, path: String, what: &str, id: &str) -> Result<usize, BadInput> {
    m.get(id).copied().ok_or_else(|| bad(path, format!("unknown {what} \"{id}\"")))
}

fn need<T: Clone>(v: &Option<T>, path: &str, field: &str, kind: ClaimKind) -> Result<T, BadInput> {
    v.clone().ok_or_else(|| {
        bad(
            format!("{path}.{field}"),
            format!(
                "missing field `{field}` for a {} claim",
                serde_json::to_value(kind).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
            ),
        )
    })
}

/// Checks a parsed case: formats, ID numbers, unique ids and every reference.
pub fn check(case: Case) -> Result<Checked, BadInput> {
    if case.format != "jineng-case/1" {
        return Err(bad("format", "expected \"jineng-case/1\""));
    }
    let overrides = match &case.parameters {
        Some(v) => Overrides::from_json(v).map_err(|e| bad(e.path, e.message))?,
        None => Overrides::default(),
    };
    let mut person_ix = HashMap::with_capacity(case.people.len());
    for (i, p) in case.people.iter().enumerate() {
        let id = IdNumber::parse(&p.id_number).map_err(|e| bad(format!("people[{i}].id_number"), e.to_string()))?;
        if person_ix.insert(id.as_str().to_owned(), i).is_some() {
            return Err(bad(format!("people[{i}].id_number"), "duplicate ID number"));
        }
        // Lowercase x is accepted and refers to the same person.
        if id.as_str() != p.id_number {
            person_ix.insert(p.id_number.clone(), i);
        }
        area(format!("people[{i}].hukou"), &p.hukou)?;
        area(format!("people[{i}].residence"), &p.residence)?;
        if let Some(w) = &p.work {
            area(format!("people[{i}].work"), w)?;
        }
        for (j, g) in p.groups.iter().enumerate() {
            if g.to.is_some_and(|to| to < g.from) {
                return Err(bad(format!("people[{i}].groups[{j}].to"), "the period ends before it starts"));
            }
        }
    }
    let employer_ix = index(&case.employers, "employers", |e| &e.credit_code)?;
    for (i, e) in case.employers.iter().enumerate() {
        area(format!("employers[{i}].county"), &e.county)?;
    }
    for (i, e) in case.employments.iter().enumerate() {
        resolve(&person_ix, format!("employments[{i}].person"), "person", &e.person)?;
        resolve(&employer_ix, format!("employments[{i}].employer"), "employer", &e.employer)?;
    }
    let training_ix = index(&case.trainings, "trainings", |t| &t.id)?;
    for (i, t) in case.trainings.iter().enumerate() {
        resolve(&person_ix, format!("trainings[{i}].person"), "person", &t.person)?;
        if let Some(e) = &t.employer {
            resolve(&employer_ix, format!("trainings[{i}].employer"), "employer", e)?;
        }
        level(format!("trainings[{i}].level"), t.level)?;
        area(format!("trainings[{i}].county"), &t.county)?;
        if t.end < t.start {
            return Err(bad(format!("trainings[{i}].end"), "the training ends before it starts"));
        }
        if t.days < 0 || t.attended_days < 0 || t.attended_days > t.days {
            return Err(bad(format!("trainings[{i}].attended_days"), "attended days must be between 0 and days"));
        }
    }
    let certificate_ix = index(&case.certificates, "certificates", |c| &c.id)?;
    for (i, c) in case.certificates.iter().enumerate() {
        resolve(&person_ix, format!("certificates[{i}].person"), "person", &c.person)?;
        if let Some(t) = &c.training {
            resolve(&training_ix, format!("certificates[{i}].training"), "training", t)?;
        }
        level(format!("certificates[{i}].level"), c.level)?;
        if matches!(c.kind, CertKind::Qualification | CertKind::SkillLevel) && c.level.is_none() {
            return Err(bad(
                format!("certificates[{i}].level"),
                "a qualification or skill-level certificate must have a level",
            ));
        }
    }
    for (i, g) in case.granted.iter().enumerate() {
        if g.kind.is_none() {
            return Err(bad(format!("granted[{i}].kind"), "missing field `kind`"));
        }
        if let Some(p) = &g.person {
            resolve(&person_ix, format!("granted[{i}].person"), "person", p)?;
        }
        if let Some(c) = &g.certificate {
            resolve(&certificate_ix, format!("granted[{i}].certificate"), "certificate", c)?;
        }
        level(format!("granted[{i}].level"), g.level)?;
    }
    index(&case.claims, "claims", |c| &c.id)?;
    for (i, c) in case.claims.iter().enumerate() {
        let path = format!("claims[{i}]");
        let k = c.kind;
        let person = |c: &Claim| -> Result<(), BadInput> {
            resolve(&person_ix, format!("{path}.person"), "person", &need(&c.person, &path, "person", k)?).map(|_| ())
        };
        let employer = |c: &Claim| -> Result<(), BadInput> {
            resolve(&employer_ix, format!("{path}.employer"), "employer", &need(&c.employer, &path, "employer", k)?)
                .map(|_| ())
        };
        let training = |c: &Claim| -> Result<(), BadInput> {
            resolve(&training_ix, format!("{path}.training"), "training", &need(&c.training, &path, "training", k)?)
                .map(|_| ())
        };
        match k {
            ClaimKind::TrainingSubsidy | ClaimKind::SkillUpgradeSubsidy => {
                person(c)?;
                resolve(
                    &certificate_ix,
                    format!("{path}.certificate"),
                    "certificate",
                    &need(&c.certificate, &path, "certificate", k)?,
                )?;
            }
            ClaimKind::LivingAllowance => {
                person(c)?;
                training(c)?;
            }
            ClaimKind::PreJob => {
                employer(c)?;
                person(c)?;
                training(c)?;
            }
            ClaimKind::OnTheJob => {
                employer(c)?;
                person(c)?;
                need(&c.from, &path, "from", k)?;
                if need(&c.months, &path, "months", k)? < 1 {
                    return Err(bad(format!("{path}.months"), "months must be at least 1"));
                }
            }
            ClaimKind::Apprenticeship => {
                employer(c)?;
                person(c)?;
                training(c)?;
                if need(&c.years, &path, "years", k)? < 1 {
                    return Err(bad(format!("{path}.years"), "years must be at least 1"));
                }
            }
            ClaimKind::EquipmentGrant => {
                employer(c)?;
                need(&c.facility, &path, "facility", k)?;
                need(&c.accepted, &path, "accepted", k)?;
                if need(&c.equipment_value_fen, &path, "equipment_value_fen", k)? < 0 {
                    return Err(bad(format!("{path}.equipment_value_fen"), "must not be negative"));
                }
            }
            ClaimKind::ProjectTraining => {
                need(&c.provider, &path, "provider", k)?;
                need(&c.project, &path, "project", k)?;
                need(&c.stage, &path, "stage", k)?;
                if need(&c.contract_fen, &path, "contract_fen", k)? < 0 {
                    return Err(bad(format!("{path}.contract_fen"), "must not be negative"));
                }
                for (j, t) in need(&c.trainings, &path, "trainings", k)?.iter().enumerate() {
                    resolve(&training_ix, format!("{path}.trainings[{j}]"), "training", t)?;
                }
            }
        }
    }
    Ok(Checked { case, overrides, person_ix, employer_ix, training_ix, certificate_ix })
}
