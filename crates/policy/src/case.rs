//! A case as the contract (`jineng-case/1`) defines it, parsed and checked at the boundary:
//! anything malformed or dangling is refused with the JSON path and the reason.

use crate::params::Overrides;
use chrono::NaiveDate;
use jineng_domain::{AreaCode, IdNumber, PriorityGroup, TrainingKind};
use serde::{Deserialize, Serialize};
use std::collections::HashMap as StdHashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A small fast hasher for ids (the FxHash of rustc): the keys come from one case file, so
/// collision attacks are not a concern, and SipHash was a tenth of the run time.
#[derive(Default, Clone, Copy)]
pub struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let w = u64::from_le_bytes(c.try_into().unwrap_or([0; 8]));
            self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.0 = (self.0.rotate_left(5) ^ u64::from(i)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A hash map with [`FxHasher`].
pub type HashMap<K, V> = StdHashMap<K, V, BuildHasherDefault<FxHasher>>;

/// Parses `YYYY-MM-DD` quickly (dates are most of a large case's fields).
fn parse_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0u32, |n, d| d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0')))
    };
    NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)
}

fn de_date<'de, D: serde::Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
    let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
    parse_date(&s).ok_or_else(|| serde::de::Error::custom(format!("invalid date \"{s}\", expected YYYY-MM-DD")))
}

fn de_opt_date<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
    match <Option<std::borrow::Cow<'de, str>>>::deserialize(d)? {
        None => Ok(None),
        Some(s) => parse_date(&s)
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom(format!("invalid date \"{s}\", expected YYYY-MM-DD"))),
    }
}

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
    #[serde(deserialize_with = "de_date")]
    pub from: NaiveDate,
    /// To (inclusive) or null.
    #[serde(default, deserialize_with = "de_opt_date")]
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
    #[serde(default, deserialize_with = "de_opt_date")]
    pub insured_since: Option<NaiveDate>,
    /// Start of their own small business.
    #[serde(default, deserialize_with = "de_opt_date")]
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
    #[serde(deserialize_with = "de_date")]
    pub from: NaiveDate,
    /// To, null = ongoing.
    #[serde(default, deserialize_with = "de_opt_date")]
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
    #[serde(deserialize_with = "de_date")]
    pub start: NaiveDate,
    /// End.
    #[serde(deserialize_with = "de_date")]
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
    #[serde(deserialize_with = "de_date")]
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
    #[serde(default, deserialize_with = "de_opt_date")]
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
    #[serde(deserialize_with = "de_date")]
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
    #[serde(default, deserialize_with = "de_opt_date")]
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
    /// The person and certificate of each history entry, resolved.
    pub granted_refs: Vec<(Option<usize>, Option<usize>)>,
    /// What each claim refers to, resolved to indices (same order as `case.claims`).
    pub claim_refs: Vec<Refs>,
    /// The person of each training.
    pub training_person: Vec<usize>,
    /// The training of each certificate.
    pub cert_training: Vec<Option<usize>>,
    /// The person of each certificate.
    pub cert_person: Vec<usize>,
    /// The person and employer of each employment.
    pub employment_ix: Vec<(usize, usize)>,
}

/// A claim's references, resolved.
#[derive(Debug, Clone, Default)]
pub struct Refs {
    /// Person.
    pub person: Option<usize>,
    /// Certificate.
    pub certificate: Option<usize>,
    /// Training.
    pub training: Option<usize>,
    /// Employer.
    pub employer: Option<usize>,
    /// Project trainings.
    pub trainings: Vec<usize>,
}

/// Parses case JSON; a syntax or shape error names the JSON path.
pub fn parse(text: &str) -> Result<Checked, BadInput> {
    // The fast path parses without tracking paths; only a failure is parsed again to name it.
    let case: Case = match serde_json::from_str(text) {
        Ok(case) => case,
        Err(plain) => {
            let de = &mut serde_json::Deserializer::from_str(text);
            let e = serde_path_to_error::deserialize::<_, Case>(de).err();
            return Err(match e {
                Some(e) => {
                    let path = e.path().to_string();
                    bad(if path == "." { "$".to_owned() } else { path }, e.into_inner().to_string())
                }
                None => bad("$", plain.to_string()),
            });
        }
    };
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

fn index<'c, T>(
    items: &'c [T],
    list: &str,
    id: impl Fn(&'c T) -> &'c str,
) -> Result<HashMap<&'c str, usize>, BadInput> {
    let mut m = HashMap::with_capacity_and_hasher(items.len(), Default::default());
    for (i, t) in items.iter().enumerate() {
        if m.insert(id(t), i).is_some() {
            return Err(bad(format!("{list}[{i}]"), format!("duplicate id \"{}\"", id(t))));
        }
    }
    Ok(m)
}

fn resolve(m: &HashMap<&str, usize>, path: String, what: &str, id: &str) -> Result<usize, BadInput> {
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
    // A lowercase x is accepted; its uppercase form refers to the same person.
    let mut upper: Vec<(String, usize)> = Vec::new();
    for (i, p) in case.people.iter().enumerate() {
        if let Ok(id) = IdNumber::parse(&p.id_number) {
            if id.as_str() != p.id_number {
                upper.push((id.as_str().to_owned(), i));
            }
        }
    }
    let mut person_ix: HashMap<&str, usize> = HashMap::with_capacity_and_hasher(case.people.len(), Default::default());
    for (i, p) in case.people.iter().enumerate() {
        IdNumber::parse(&p.id_number).map_err(|e| bad(format!("people[{i}].id_number"), e.to_string()))?;
        if person_ix.insert(p.id_number.as_str(), i).is_some() {
            return Err(bad(format!("people[{i}].id_number"), "duplicate ID number"));
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
    for (id, i) in &upper {
        if person_ix.insert(id.as_str(), *i).is_some_and(|j| j != *i) {
            return Err(bad(format!("people[{i}].id_number"), "duplicate ID number"));
        }
    }
    let employer_ix = index(&case.employers, "employers", |e| &e.credit_code)?;
    for (i, e) in case.employers.iter().enumerate() {
        area(format!("employers[{i}].county"), &e.county)?;
    }
    let mut employment_ix = Vec::with_capacity(case.employments.len());
    for (i, e) in case.employments.iter().enumerate() {
        let p = resolve(&person_ix, format!("employments[{i}].person"), "person", &e.person)?;
        let r = resolve(&employer_ix, format!("employments[{i}].employer"), "employer", &e.employer)?;
        employment_ix.push((p, r));
    }
    let training_ix = index(&case.trainings, "trainings", |t| &t.id)?;
    let mut training_person = Vec::with_capacity(case.trainings.len());
    for (i, t) in case.trainings.iter().enumerate() {
        training_person.push(resolve(&person_ix, format!("trainings[{i}].person"), "person", &t.person)?);
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
    let mut cert_training = Vec::with_capacity(case.certificates.len());
    let mut cert_person = Vec::with_capacity(case.certificates.len());
    for (i, c) in case.certificates.iter().enumerate() {
        cert_person.push(resolve(&person_ix, format!("certificates[{i}].person"), "person", &c.person)?);
        cert_training.push(match &c.training {
            Some(t) => Some(resolve(&training_ix, format!("certificates[{i}].training"), "training", t)?),
            None => None,
        });
        level(format!("certificates[{i}].level"), c.level)?;
        if matches!(c.kind, CertKind::Qualification | CertKind::SkillLevel) && c.level.is_none() {
            return Err(bad(
                format!("certificates[{i}].level"),
                "a qualification or skill-level certificate must have a level",
            ));
        }
    }
    let mut granted_refs = Vec::with_capacity(case.granted.len());
    for (i, g) in case.granted.iter().enumerate() {
        if g.kind.is_none() {
            return Err(bad(format!("granted[{i}].kind"), "missing field `kind`"));
        }
        let person = match &g.person {
            Some(p) => Some(resolve(&person_ix, format!("granted[{i}].person"), "person", p)?),
            None => None,
        };
        let cert = match &g.certificate {
            Some(c) => Some(resolve(&certificate_ix, format!("granted[{i}].certificate"), "certificate", c)?),
            None => None,
        };
        granted_refs.push((person, cert));
        level(format!("granted[{i}].level"), g.level)?;
    }
    index(&case.claims, "claims", |c| &c.id)?;
    let mut claim_refs = Vec::with_capacity(case.claims.len());
    for (i, c) in case.claims.iter().enumerate() {
        let path = format!("claims[{i}]");
        let k = c.kind;
        let mut r = Refs::default();
        let person = |c: &Claim| -> Result<usize, BadInput> {
            resolve(&person_ix, format!("{path}.person"), "person", &need(&c.person, &path, "person", k)?)
        };
        let employer = |c: &Claim| -> Result<usize, BadInput> {
            resolve(&employer_ix, format!("{path}.employer"), "employer", &need(&c.employer, &path, "employer", k)?)
        };
        let training = |c: &Claim| -> Result<usize, BadInput> {
            resolve(&training_ix, format!("{path}.training"), "training", &need(&c.training, &path, "training", k)?)
        };
        match k {
            ClaimKind::TrainingSubsidy | ClaimKind::SkillUpgradeSubsidy => {
                r.person = Some(person(c)?);
                let cert = need(&c.certificate, &path, "certificate", k)?;
                r.certificate = Some(resolve(&certificate_ix, format!("{path}.certificate"), "certificate", &cert)?);
            }
            ClaimKind::LivingAllowance => {
                r.person = Some(person(c)?);
                r.training = Some(training(c)?);
            }
            ClaimKind::PreJob => {
                r.employer = Some(employer(c)?);
                r.person = Some(person(c)?);
                r.training = Some(training(c)?);
            }
            ClaimKind::OnTheJob => {
                r.employer = Some(employer(c)?);
                r.person = Some(person(c)?);
                need(&c.from, &path, "from", k)?;
                if need(&c.months, &path, "months", k)? < 1 {
                    return Err(bad(format!("{path}.months"), "months must be at least 1"));
                }
            }
            ClaimKind::Apprenticeship => {
                r.employer = Some(employer(c)?);
                r.person = Some(person(c)?);
                r.training = Some(training(c)?);
                if need(&c.years, &path, "years", k)? < 1 {
                    return Err(bad(format!("{path}.years"), "years must be at least 1"));
                }
            }
            ClaimKind::EquipmentGrant => {
                r.employer = Some(employer(c)?);
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
                    r.trainings.push(resolve(&training_ix, format!("{path}.trainings[{j}]"), "training", t)?);
                }
            }
        }
        claim_refs.push(r);
    }
    Ok(Checked {
        case,
        overrides,
        granted_refs,
        claim_refs,
        training_person,
        cert_training,
        cert_person,
        employment_ix,
    })
}
