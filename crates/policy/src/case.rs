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

/// Kinds of claim: defined once in the domain crate; re-exported here for the old path.
pub use jineng_domain::ClaimKind;

/// Kinds of employer (S5 and E1b look at the kind).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EmployerKind {
    /// 企业 (the default)
    #[default]
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

/// Kinds of certificate; the kind chooses the training-subsidy standard.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CertKind {
    /// 职业资格证书 (needs a level)
    Qualification,
    /// 职业技能等级证书 (needs a level)
    SkillLevel,
    /// 专项职业能力证书
    SpecialAbility,
    /// 特种作业操作证书
    SpecialOperation,
    /// 培训合格证书 (the default: the one kind valid with or without a level)
    #[default]
    TrainingCompletion,
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

/// A person's membership of a priority group over a period.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Group {
    /// The group.
    pub group: PriorityGroup,
    /// First day of membership.
    #[serde(deserialize_with = "de_date")]
    pub from: NaiveDate,
    /// Last day of membership (inclusive), or null while ongoing.
    #[serde(default, deserialize_with = "de_opt_date")]
    pub to: Option<NaiveDate>,
}

/// A person.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Person {
    /// 18-character resident ID number (checked); other sections refer to the person by it.
    pub id_number: String,
    /// Full name.
    pub name: String,
    /// Hukou area code.
    pub hukou: String,
    /// Residence area code.
    pub residence: String,
    /// Work (or job-seeking) area code, if any.
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
    /// Priority-group memberships.
    pub groups: Vec<Group>,
}

/// An employer.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Employer {
    /// Unified social credit code; other sections refer to the employer by it.
    pub credit_code: String,
    /// Registered name.
    pub name: String,
    /// Enterprise, cooperative, …
    pub kind: EmployerKind,
    /// Pays unemployment insurance.
    pub insured: bool,
    /// County area code.
    pub county: String,
}

/// A period of employment of a person by an employer.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Employment {
    /// The person's ID number.
    pub person: String,
    /// The employer's credit code.
    pub employer: String,
    /// First day employed.
    #[serde(deserialize_with = "de_date")]
    pub from: NaiveDate,
    /// Last day employed, or null while ongoing.
    #[serde(default, deserialize_with = "de_opt_date")]
    pub to: Option<NaiveDate>,
}

/// One person in one class.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Training {
    /// Unique within the case's trainings.
    pub id: String,
    /// The trainee's ID number.
    pub person: String,
    /// Employment-skills, pre-job, apprenticeship, …
    pub kind: TrainingKind,
    /// Occupation code.
    pub occupation: String,
    /// Skill level 1–5 trained for, if any.
    #[serde(default)]
    pub level: Option<u8>,
    /// Area code of the county where it was held.
    pub county: String,
    /// The provider's credit code.
    pub provider: String,
    /// The employer a pre-job or apprenticeship training is for.
    #[serde(default)]
    pub employer: Option<String>,
    /// First day.
    #[serde(deserialize_with = "de_date")]
    pub start: NaiveDate,
    /// Last day.
    #[serde(deserialize_with = "de_date")]
    pub end: NaiveDate,
    /// Days of training.
    pub days: i64,
    /// Days the person attended (at most `days`).
    pub attended_days: i64,
    /// Recorded through the system's class workflow (S12).
    pub in_system: bool,
    /// Part of a project-based class, paid to the provider by settlement (S9).
    pub project_based: bool,
    /// The published standard (fen) of the catalog's subsidised project the class belongs to
    /// (M2): a certificate of the project's occupation and level earns it instead of the
    /// parameter's standard.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub standard_fen: Option<i64>,
}

/// A certificate.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Certificate {
    /// Unique within the case's certificates.
    pub id: String,
    /// The holder's ID number.
    pub person: String,
    /// The training that led to it, if any.
    #[serde(default)]
    pub training: Option<String>,
    /// Qualification, skill level, …
    pub kind: CertKind,
    /// Occupation code.
    pub occupation: String,
    /// Skill level 1–5, if the kind has one.
    #[serde(default)]
    pub level: Option<u8>,
    /// Issue date: the event date of its subsidies.
    #[serde(deserialize_with = "de_date")]
    pub issued: NaiveDate,
    /// Serial number printed on it.
    pub serial: String,
}

/// A subsidy already granted; only the fields its kind needs are set.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Granted {
    /// What was granted (required).
    pub kind: Option<ClaimKind>,
    /// The person's ID number.
    #[serde(default)]
    pub person: Option<String>,
    /// The employer's credit code.
    #[serde(default)]
    pub employer: Option<String>,
    /// The provider's credit code.
    #[serde(default)]
    pub provider: Option<String>,
    /// The project's id (project training).
    #[serde(default)]
    pub project: Option<String>,
    /// The certificate's id (certificate subsidies).
    #[serde(default)]
    pub certificate: Option<String>,
    /// Occupation code (defaults to the certificate's).
    #[serde(default)]
    pub occupation: Option<String>,
    /// Skill level (defaults to the certificate's).
    #[serde(default)]
    pub level: Option<u8>,
    /// The event date it was granted for (defaults to the certificate's issue date).
    #[serde(default, deserialize_with = "de_opt_date")]
    pub date: Option<NaiveDate>,
    /// Months paid (on-the-job).
    #[serde(default)]
    pub months: Option<i64>,
    /// Stage (project training).
    #[serde(default)]
    pub stage: Option<Stage>,
    /// Amount paid (a project advance is deducted from its settlement).
    #[serde(default)]
    pub amount_fen: Option<i64>,
    /// The facility an equipment grant was for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facility_ref: Option<String>,
}

/// A claim as filed; which optional fields are required depends on `kind`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Claim {
    /// Unique within the case's claims; decisions refer to it.
    pub id: String,
    /// What is claimed.
    pub kind: ClaimKind,
    /// Filing date: claims are decided in this order.
    #[serde(deserialize_with = "de_date")]
    pub filed: NaiveDate,
    /// The person's ID number.
    #[serde(default)]
    pub person: Option<String>,
    /// The certificate's id (certificate subsidies).
    #[serde(default)]
    pub certificate: Option<String>,
    /// The training's id (living allowance, pre-job, apprenticeship).
    #[serde(default)]
    pub training: Option<String>,
    /// The employer's credit code.
    #[serde(default)]
    pub employer: Option<String>,
    /// On-the-job: first month subsidised.
    #[serde(default, deserialize_with = "de_opt_date")]
    pub from: Option<NaiveDate>,
    /// On-the-job: months asked.
    #[serde(default)]
    pub months: Option<i64>,
    /// Apprenticeship: years asked.
    #[serde(default)]
    pub years: Option<i64>,
    /// Equipment: the facility equipped.
    #[serde(default)]
    pub facility: Option<Facility>,
    /// Equipment: the value of the new equipment.
    #[serde(default)]
    pub equipment_value_fen: Option<i64>,
    /// Equipment: accepted by finance and HR.
    #[serde(default)]
    pub accepted: Option<bool>,
    /// Equipment: the facility's own identity (the grant is one-off per facility).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facility_ref: Option<String>,
    /// Project: the provider's credit code.
    #[serde(default)]
    pub provider: Option<String>,
    /// Project: its id (one advance and one settlement per project).
    #[serde(default)]
    pub project: Option<String>,
    /// Project: the trainings' ids, in the order they are paid.
    #[serde(default)]
    pub trainings: Option<Vec<String>>,
    /// Project: the contract sum.
    #[serde(default)]
    pub contract_fen: Option<i64>,
    /// Project: advance or settlement.
    #[serde(default)]
    pub stage: Option<Stage>,
}

impl Claim {
    /// A claim with only its id, kind and filing date; set the fields its kind needs.
    pub fn new(id: impl Into<String>, kind: ClaimKind, filed: NaiveDate) -> Claim {
        Claim {
            id: id.into(),
            kind,
            filed,
            person: None,
            certificate: None,
            training: None,
            employer: None,
            from: None,
            months: None,
            years: None,
            facility: None,
            equipment_value_fen: None,
            accepted: None,
            facility_ref: None,
            provider: None,
            project: None,
            trainings: None,
            contract_fen: None,
            stage: None,
        }
    }
}

/// The format a case file names.
pub const FORMAT: &str = "jineng-case/1";

/// A whole case (`docs/case-format.md`). Build one with [`Case::new`] and push its parts, then
/// [`check`] it; [`parse`] reads one from JSON.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Case {
    /// Must be [`FORMAT`].
    pub format: String,
    /// What the case shows.
    #[serde(default)]
    pub name: String,
    /// Clause ids it exercises (informative).
    #[serde(default)]
    pub exercises: Vec<String>,
    /// Parameter overrides, `{"training_subsidy_fen": {"level5": 100000}}` or dotted keys.
    #[serde(default)]
    pub parameters: Option<serde_json::Value>,
    /// People, referred to by ID number.
    #[serde(default)]
    pub people: Vec<Person>,
    /// Employers, referred to by credit code.
    #[serde(default)]
    pub employers: Vec<Employer>,
    /// Employment periods.
    #[serde(default)]
    pub employments: Vec<Employment>,
    /// Trainings (one person in one class each).
    #[serde(default)]
    pub trainings: Vec<Training>,
    /// Certificates, referred to by id.
    #[serde(default)]
    pub certificates: Vec<Certificate>,
    /// Subsidies already granted (history).
    #[serde(default)]
    pub granted: Vec<Granted>,
    /// Claims to decide.
    #[serde(default)]
    pub claims: Vec<Claim>,
    /// Expected decisions, compared by `policy test` ([`crate::testing::compare`]).
    #[serde(default)]
    pub expect: Option<Vec<serde_json::Value>>,
}

impl Case {
    /// An empty case of format [`FORMAT`].
    pub fn new(name: impl Into<String>) -> Case {
        Case { format: FORMAT.to_owned(), name: name.into(), ..Case::default() }
    }
}

/// A case that parsed and whose references all resolve.
#[derive(Debug)]
pub struct Checked {
    /// The case as given.
    pub case: Case,
    /// Its `parameters` block, parsed.
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
    /// Index in `case.people`.
    pub person: Option<usize>,
    /// Index in `case.certificates`.
    pub certificate: Option<usize>,
    /// Index in `case.trainings`.
    pub training: Option<usize>,
    /// Index in `case.employers`.
    pub employer: Option<usize>,
    /// Indices in `case.trainings` of a project claim's trainings, in the order listed.
    pub trainings: Vec<usize>,
}

/// Parses case JSON and [`check`]s it; a syntax or shape error names the JSON path.
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
    v.clone()
        .ok_or_else(|| bad(format!("{path}.{field}"), format!("missing field `{field}` for a {} claim", kind.code())))
}

/// Checks a parsed case: formats, ID numbers, unique ids and every reference.
pub fn check(case: Case) -> Result<Checked, BadInput> {
    if case.format != FORMAT {
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
                // S9: project-based training by a provider, or by an enterprise for its own
                // people (then the employer is the payee).
                if c.provider.is_none() && c.employer.is_some() {
                    r.employer = Some(employer(c)?);
                } else {
                    need(&c.provider, &path, "provider", k)?;
                }
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
