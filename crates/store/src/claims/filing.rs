//! Claims filed by employers (on-the-job, pre-job, apprenticeship, equipment) and providers
//! (project advance or settlement): the request checked field by field, decided at once from
//! the registry's facts, and stored under the filer's idempotency key.

use super::case::{case_of, certificate_ref, decide, training_ref};
use super::{
    by_key, employer_codes, employers_by_code, file, histories, history, lock_class, lock_employer, lock_people,
    EmploymentFact, History, NewClaim,
};
use crate::facilities;
use crate::{parameters, people, Db, Result, StoreError, Tx};
use chrono::NaiveDate;
use jineng_domain::{IdNumber, Invalid};
use jineng_policy::case::{Claim, ClaimKind, Facility, Granted, Stage};
use jineng_policy::Params;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// What an employer or provider asks for. Which fields are needed depends on `kind`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ClaimRequest {
    /// `on_the_job`, `pre_job`, `apprenticeship`, `equipment_grant`, `project_training`
    /// (employers) or `project_training` (providers).
    pub kind: String,
    /// The worker's ID number (on-the-job, pre-job, apprenticeship).
    #[serde(default)]
    pub id_number: Option<String>,
    /// The worker's name as registered (with the ID number: an employer names whom it employs,
    /// and learns nothing about a number it cannot name).
    #[serde(default)]
    pub name: Option<String>,
    /// Employed by the employer since (on-the-job, pre-job, apprenticeship): recorded in the registry.
    #[serde(default)]
    pub employed_from: Option<NaiveDate>,
    /// First month subsidised (on-the-job).
    #[serde(default)]
    pub from: Option<NaiveDate>,
    /// Months (on-the-job).
    #[serde(default)]
    pub months: Option<i64>,
    /// The class (pre-job and apprenticeship: the class the worker trained in; project: the class).
    #[serde(default)]
    pub class_id: Option<i64>,
    /// Years (apprenticeship).
    #[serde(default)]
    pub years: Option<i64>,
    /// The facility equipped (equipment: one the employer registered; its value and its
    /// acceptance by finance and HR come from the facility's record, not from the claim).
    #[serde(default)]
    pub facility_id: Option<i64>,
    /// Contract sum, fen (project).
    #[serde(default)]
    pub contract_fen: Option<i64>,
    /// `advance` or `settlement` (project).
    #[serde(default)]
    pub stage: Option<String>,
    /// The certificate (a worker's training or skill-upgrade subsidy): one of the worker's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_id: Option<i64>,
}

/// Who files: the employer or provider the signed-in user acts for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filer {
    /// An employer (its id).
    Employer(i64),
    /// A training provider (its id).
    Provider(i64),
    /// A worker for themself, or the county office's window on the worker's behalf (the
    /// person's id): training and skill-upgrade subsidies for a certificate (S7, S3) and the
    /// living allowance of a training (S2).
    Person(i64),
}

impl Filer {
    /// The kinds this filer files: employers on-the-job (S5), pre-job (S3), apprenticeship (S4),
    /// equipment (E1b) and their own project-based training (S9); providers project-based
    /// training (S9); workers the certificate subsidies (S7, S3) and the living allowance (S2).
    pub fn kinds(self) -> &'static [ClaimKind] {
        use ClaimKind::*;
        match self {
            Filer::Employer(_) => &[OnTheJob, PreJob, Apprenticeship, EquipmentGrant, ProjectTraining],
            Filer::Provider(_) => &[ProjectTraining],
            Filer::Person(_) => &[TrainingSubsidy, SkillUpgradeSubsidy, LivingAllowance],
        }
    }

    fn code(self) -> (&'static str, i64) {
        match self {
            Filer::Employer(id) => ("employer", id),
            Filer::Provider(id) => ("provider", id),
            Filer::Person(id) => ("person", id),
        }
    }
}

fn refuse(field: &str, code: &'static str, zh: &str, en: &str) -> StoreError {
    StoreError::invalid(field, Invalid::new(code, zh, en))
}

/// Every field a kind needs and the request left out, named at once (not one at a time).
fn all_given(fields: &[(&str, bool)]) -> Result<()> {
    let missing: Vec<(String, Invalid)> = fields
        .iter()
        .filter(|(_, given)| !given)
        .map(|(field, _)| ((*field).to_owned(), Invalid::new("claim.required", "必填", "required")))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(StoreError::Rows(missing))
    }
}

fn need<T: Clone>(v: &Option<T>, field: &str) -> Result<T> {
    v.clone().ok_or_else(|| refuse(field, "claim.required", "必填", "required"))
}

/// Files a claim, decided at once. `key` is the filer's idempotency key: the same key from the
/// same filer yields the same claim. Returns the claim and whether it is new. `user_id` is who
/// filed; `today` the filing date.
///
/// The request is checked first; then, in one transaction, what the rules count is locked (the
/// person, then the employer or the project's class), the history is read, the claim decided
/// and stored: concurrent filings yield the decisions of filing them one by one.
pub async fn file_request(
    db: &Db,
    user_id: i64,
    filer: Filer,
    key: &str,
    r: &ClaimRequest,
    today: NaiveDate,
) -> Result<(i64, bool)> {
    let (role, scope_id) = filer.code();
    let idem = format!("{role}:{scope_id}:{}", key.trim());
    let params = parameters::effective(db).await?;
    let region = parameters::region(db).await?;
    let kind = ClaimKind::parse(&r.kind).ok().filter(|k| filer.kinds().contains(k)).ok_or_else(|| {
        refuse(
            "kind",
            "claim.kind",
            "用人单位可申请以工代训、岗前培训、新型学徒制、设施设备补助和本单位的项目制培训；培训机构可申请项目制培训；劳动者可申请职业培训补贴、技能提升补贴和生活费补贴",
            "employers file on_the_job, pre_job, apprenticeship, equipment_grant and project_training for their own classes; providers project_training; workers training_subsidy, skill_upgrade_subsidy and living_allowance",
        )
    })?;
    let f = Filing { db, scope_id, kind, r, today, key: idem, params: &params, region: &region };
    let asked = match filer {
        // S9: project-based training by enterprises or providers.
        Filer::Employer(_) if kind == ClaimKind::ProjectTraining => project_request(&f, true).await?,
        Filer::Employer(_) => employer_request(&f).await?,
        Filer::Provider(_) => project_request(&f, false).await?,
        Filer::Person(_) => person_request(&f).await?,
    };
    let mut tx = db.begin().await?;
    lock_people(&mut tx, &asked.people).await?;
    match filer {
        Filer::Employer(id) => lock_employer(&mut tx, id).await?,
        Filer::Provider(_) | Filer::Person(_) => {}
    }
    for class_id in &asked.classes_to_lock {
        lock_class(&mut tx, *class_id).await?;
    }
    // A retry with the same key waited for the first filing and finds its claim.
    if let Some(id) = by_key(&mut tx, &f.key).await? {
        return Ok((id, false));
    }
    // The employment the employer declares is recorded first (a declaration: the claim that
    // rests on it is held until the county verifies it), so the decision reads it as stored.
    if let (Filer::Employer(employer), Some(&person_id), Some(from)) = (filer, asked.people.first(), r.employed_from) {
        people::record_employment(&mut tx, Some(user_id), person_id, employer, from).await?;
    }
    let mut new = match (filer, &asked.project) {
        (Filer::Person(_), _) => decide_person_claim(&f, &mut tx, asked).await?,
        (_, None) => decide_employer_claim(&f, &mut tx, asked).await?,
        (_, Some(_)) => decide_project_claim(&f, &mut tx, asked).await?,
    };
    new.request = serde_json::to_string(r).ok();
    new.filed_by = Some(user_id);
    let out = file(&mut tx, Some(user_id), &new).await?;
    tx.commit().await?;
    Ok(out)
}

/// What every filing needs.
struct Filing<'a> {
    db: &'a Db,
    /// The employer's or provider's id.
    scope_id: i64,
    kind: ClaimKind,
    r: &'a ClaimRequest,
    today: NaiveDate,
    /// The idempotency key as stored.
    key: String,
    params: &'a Params,
    region: &'a str,
}

/// A request checked field by field, before anything is locked.
struct Asked {
    /// The claim as the policy reads it, without what the history adds.
    claim: Claim,
    /// The people whose history the rules count (locked, then read).
    people: Vec<i64>,
    /// The classes of the project the claim is for (locked, ascending).
    classes_to_lock: Vec<i64>,
    /// County of the office that reviews it.
    county: String,
    /// The employer's credit code (employer claims).
    employer_code: Option<String>,
    /// Project claims: the project.
    project: Option<Project>,
    /// Equipment claims: the facility.
    facility_id: Option<i64>,
}

/// The project a provider's claim is for.
struct Project {
    /// `class-{id}`.
    id: String,
    /// The credit code of who runs it: the provider, or the enterprise (`by_employer`).
    organiser: String,
    by_employer: bool,
    /// The class's trainees (person, enrolment).
    trainees: Vec<(i64, i64)>,
}

/// An employer's request, checked.
async fn employer_request(f: &Filing<'_>) -> Result<Asked> {
    let (code, county) = super::employer_code(f.db, f.scope_id).await?;
    let mut claim = Claim::new("k", f.kind, f.today);
    claim.employer = Some(code.clone());
    let mut people_ids = Vec::new();
    let mut facility_id = None;
    if f.kind != ClaimKind::EquipmentGrant {
        all_given(&[
            ("id_number", f.r.id_number.is_some()),
            ("name", f.r.name.as_deref().is_some_and(|n| !n.trim().is_empty())),
            ("employed_from", f.r.employed_from.is_some()),
            ("from", f.kind != ClaimKind::OnTheJob || f.r.from.is_some()),
            ("months", f.kind != ClaimKind::OnTheJob || f.r.months.is_some()),
            ("class_id", f.kind == ClaimKind::OnTheJob || f.r.class_id.is_some()),
            ("years", f.kind != ClaimKind::Apprenticeship || f.r.years.is_some()),
        ])?;
        let id =
            IdNumber::parse(&need(&f.r.id_number, "id_number")?).map_err(|e| StoreError::invalid("id_number", e))?;
        // One answer for a number not registered and a name that does not match: the registry
        // tells an employer nothing about a number it cannot name.
        let named = need(&f.r.name, "name")?;
        let person = people::find_by_id_number(f.db, &Default::default(), &id)
            .await?
            .filter(|p| p.name.trim() == named.trim())
            .ok_or_else(|| {
                refuse(
                    "id_number",
                    "claim.person_unknown",
                    "没有与该身份证号和姓名一致的实名登记人员",
                    "no registered worker with this ID number and name",
                )
            })?;
        people_ids.push(person.person_id);
        let from = need(&f.r.employed_from, "employed_from")?;
        if from > f.today {
            return Err(refuse("employed_from", "claim.future", "入职日期不能晚于今天", "cannot be in the future"));
        }
        claim.person = Some(id.as_str().to_owned());
        match f.kind {
            ClaimKind::OnTheJob => {
                let months = need(&f.r.months, "months")?;
                if !(1..=120).contains(&months) {
                    return Err(refuse("months", "claim.months", "月数应为1至120", "1 to 120 months"));
                }
                claim.from = Some(need(&f.r.from, "from")?);
                claim.months = Some(months);
            }
            _ => {
                need(&f.r.class_id, "class_id")?;
                if f.kind == ClaimKind::Apprenticeship {
                    let years = need(&f.r.years, "years")?;
                    if !(1..=5).contains(&years) {
                        return Err(refuse("years", "claim.years", "年数应为1至5", "1 to 5 years"));
                    }
                    claim.years = Some(years);
                }
            }
        }
    } else {
        let id = need(&f.r.facility_id, "facility_id")?;
        let scope = facilities::FacilityScope { employer_id: Some(f.scope_id), ..Default::default() };
        let facility = facilities::get(f.db, &scope, id).await.map_err(|_| {
            refuse(
                "facility_id",
                "claim.facility",
                "不是本单位登记的基地或工作室",
                "not a facility this employer registered",
            )
        })?;
        claim.facility =
            Some(if facility.kind == "master_studio" { Facility::MasterStudio } else { Facility::TrainingBase });
        claim.equipment_value_fen = Some(facility.equipment_value_fen);
        claim.accepted = Some(facility.accepted());
        claim.facility_ref = Some(format!("facility-{id}"));
        facility_id = Some(id);
    }
    Ok(Asked {
        claim,
        people: people_ids,
        classes_to_lock: Vec::new(),
        county,
        employer_code: Some(code),
        project: None,
        facility_id,
    })
}

/// A worker's request (or the county window's on the worker's behalf), checked.
async fn person_request(f: &Filing<'_>) -> Result<Asked> {
    let kind = f.kind;
    let living = kind == ClaimKind::LivingAllowance;
    all_given(&[
        ("certificate_id", living || f.r.certificate_id.is_some()),
        ("class_id", !living || f.r.class_id.is_some()),
    ])?;
    let person: (String, String) =
        crate::with_pool!(f.db, |p| sqlx::query_as("SELECT id_number, county_code FROM person WHERE person_id = $1")
            .bind(f.scope_id)
            .fetch_optional(p)
            .await?)
        .ok_or(StoreError::NotFound)?;
    let mut claim = Claim::new("k", kind, f.today);
    claim.person = Some(person.0);
    Ok(Asked {
        claim,
        people: vec![f.scope_id],
        classes_to_lock: Vec::new(),
        county: person.1,
        employer_code: None,
        project: None,
        facility_id: None,
    })
}

/// A worker's claim decided from their history read in `tx` (the person locked): the
/// certificate must be theirs, the class one they trained in.
async fn decide_person_claim(f: &Filing<'_>, tx: &mut Tx, asked: Asked) -> Result<NewClaim> {
    let Asked { mut claim, county, .. } = asked;
    let h = history(tx, f.scope_id).await?;
    let training;
    let mut certificate = None;
    if claim.kind == ClaimKind::LivingAllowance {
        let class_id = need(&f.r.class_id, "class_id")?;
        let t = h.trainings.iter().find(|t| t.class_id == class_id).ok_or_else(|| {
            refuse("class_id", "claim.not_trainee", "该劳动者未在此培训班", "the worker is not in this class")
        })?;
        training = Some(training_ref(t.enrolment_id));
        claim.training = training.clone();
    } else {
        let id = need(&f.r.certificate_id, "certificate_id")?;
        let c = h.certificates.iter().find(|c| c.certificate_id == id).ok_or_else(|| {
            refuse("certificate_id", "claim.not_own_certificate", "不是本人的证书", "not a certificate of this worker")
        })?;
        claim.certificate = Some(certificate_ref(c.certificate_id));
        training = c.enrolment_id.map(training_ref);
        certificate = Some(id);
    }
    let kind = claim.kind;
    let codes: Vec<String> = employer_codes(&h).into_iter().collect();
    let employers = employers_by_code(tx, &codes).await?;
    let case = case_of(&[&h], &employers, vec![], vec![claim])?;
    let (snapshot, ds) = decide(case, f.params, f.region)?;
    let d = ds.get("k").ok_or(StoreError::NotFound)?;
    let mut c = NewClaim::decided(f.key.clone(), f.kind.code(), &county, f.today, &snapshot, d);
    c.person_id = Some(f.scope_id);
    c.certificate_id = certificate;
    let on = super::hold::dates(&h, training.as_deref(), f.today);
    super::hold::hold(&mut c, &h, kind, &on, None);
    Ok(c)
}

/// An employer's claim decided from the history read in `tx` (its people and employer locked).
async fn decide_employer_claim(f: &Filing<'_>, tx: &mut Tx, asked: Asked) -> Result<NewClaim> {
    let Asked { mut claim, people, county, employer_code, facility_id, .. } = asked;
    let code = employer_code.unwrap_or_default();
    let mut hs: Vec<History> = Vec::new();
    if let Some(&person_id) = people.first() {
        let mut h = history(tx, person_id).await?;
        let from = need(&f.r.employed_from, "employed_from")?;
        if !h.employments.iter().any(|e| e.employer_code == code && e.from_date == from) {
            h.employments.push(EmploymentFact {
                person_id,
                employment_id: None,
                source: "declared".into(),
                employer_code: code.clone(),
                from_date: from,
                to_date: None,
            });
        }
        if matches!(f.kind, ClaimKind::PreJob | ClaimKind::Apprenticeship) {
            let class_id = need(&f.r.class_id, "class_id")?;
            let t = h.trainings.iter().find(|t| t.class_id == class_id).ok_or_else(|| {
                refuse("class_id", "claim.not_trainee", "该劳动者未在此培训班", "the worker is not in this class")
            })?;
            claim.training = Some(training_ref(t.enrolment_id));
        }
        hs.push(h);
    }
    let refs: Vec<&History> = hs.iter().collect();
    let mut codes: BTreeSet<String> = hs.iter().flat_map(employer_codes).collect();
    codes.insert(code.clone());
    let case_training = claim.training.clone();
    let employers = employers_by_code(tx, &codes.into_iter().collect::<Vec<_>>()).await?;
    // E1b: the grants the facility had (the employer is locked: none lands meanwhile).
    let mut granted = Vec::new();
    if let Some(id) = facility_id {
        for (date, amount) in super::facility_grants(tx, id).await? {
            granted.push(Granted {
                kind: Some(ClaimKind::EquipmentGrant),
                employer: claim.employer.clone(),
                facility_ref: Some(format!("facility-{id}")),
                date: Some(date),
                amount_fen: Some(amount),
                ..Granted::default()
            });
        }
    }
    let case = case_of(&refs, &employers, granted, vec![claim])?;
    let (snapshot, ds) = decide(case, f.params, f.region)?;
    let d = ds.get("k").ok_or(StoreError::NotFound)?;
    let mut c = NewClaim::decided(f.key.clone(), f.kind.code(), &county, f.today, &snapshot, d);
    c.facility_id = facility_id;
    c.person_id = people.first().copied();
    c.employer_id = Some(f.scope_id);
    if let Some(h) = hs.first() {
        let kind = f.kind;
        let training = case_training.as_deref();
        let on = super::hold::dates(h, training, f.today);
        super::hold::hold(&mut c, h, kind, &on, Some(&code));
    }
    Ok(c)
}

/// A project request (advance or settlement) of a provider, or of an enterprise for a
/// project-based class that trains its own people (`by_employer`), checked.
async fn project_request(f: &Filing<'_>, by_employer: bool) -> Result<Asked> {
    all_given(&[
        ("class_id", f.r.class_id.is_some()),
        ("contract_fen", f.r.contract_fen.is_some()),
        ("stage", f.r.stage.is_some()),
    ])?;
    let class_id = need(&f.r.class_id, "class_id")?;
    let not_own = || {
        refuse(
            "class_id",
            "claim.not_own_class",
            "不是本单位（机构）的培训班",
            "not a class of this employer or provider",
        )
    };
    let (project, classes) = super::project_of(f.db, class_id, by_employer).await?.ok_or_else(not_own)?;
    let asked_class = classes.iter().find(|c| c.class_id == class_id).ok_or_else(not_own)?;
    let own =
        if by_employer { asked_class.employer_id == Some(f.scope_id) } else { asked_class.provider_id == f.scope_id };
    if !own {
        return Err(not_own());
    }
    let county = asked_class.county_code.clone();
    // S9 pays project-based training by advance and settlement; other classes are paid per
    // certificate.
    if !asked_class.project_based {
        return Err(refuse(
            "class_id",
            "claim.not_project_based",
            "该培训班不是项目制培训，按证书申领补贴",
            "not a project-based class: its trainees' subsidies come with their certificates",
        ));
    }
    let contract = need(&f.r.contract_fen, "contract_fen")?;
    if contract <= 0 {
        return Err(refuse("contract_fen", "amount.positive", "金额须大于0", "must be positive"));
    }
    let stage = match need(&f.r.stage, "stage")?.as_str() {
        "advance" => Stage::Advance,
        "settlement" => Stage::Settlement,
        _ => {
            return Err(refuse(
                "stage",
                "claim.stage",
                "应为预拨（advance）或清算（settlement）",
                "advance or settlement",
            ))
        }
    };
    let organiser = if by_employer {
        super::employer_code(f.db, f.scope_id).await?.0
    } else {
        super::provider_code(f.db, f.scope_id).await?
    };
    let ids: Vec<i64> = classes.iter().map(|c| c.class_id).collect();
    let trainees = super::classes_trainees(f.db, &ids).await?;
    // The contract cannot exceed what the approved classes are worth: each class's share of
    // the contract, and no more than its trainees at the catalog project's standard.
    let bound = classes.iter().fold(0i64, |sum, c| sum.saturating_add(c.bound()));
    if contract > bound {
        let sum = jineng_domain::Money::from_fen(bound);
        return Err(StoreError::invalid(
            "contract_fen",
            Invalid::new(
                "claim.contract_over_bound",
                format!(
                    "合同金额不能超过经批准的培训班合同金额（{} 个班 {} 人）合计 {sum}",
                    classes.len(),
                    trainees.len()
                ),
                format!(
                    "the contract cannot exceed what the approved classes are worth ({} classes, {} trainees): {sum}",
                    classes.len(),
                    trainees.len()
                ),
            ),
        ));
    }
    let mut claim = Claim::new("k", ClaimKind::ProjectTraining, f.today);
    if by_employer {
        claim.employer = Some(organiser.clone());
    } else {
        claim.provider = Some(organiser.clone());
    }
    claim.project = Some(project.clone());
    claim.contract_fen = Some(contract);
    claim.stage = Some(stage);
    Ok(Asked {
        claim,
        people: trainees.iter().map(|t| t.0).collect(),
        classes_to_lock: ids,
        county,
        employer_code: by_employer.then(|| organiser.clone()),
        project: Some(Project { id: project, organiser, by_employer, trainees }),
        facility_id: None,
    })
}

/// A project claim decided from the project's history and its trainees' histories
/// read in `tx` (the class and the trainees locked).
async fn decide_project_claim(f: &Filing<'_>, tx: &mut Tx, asked: Asked) -> Result<NewClaim> {
    let Asked { mut claim, people, county, project, .. } = asked;
    let Project { id: project, organiser, by_employer, trainees } = project.ok_or(StoreError::NotFound)?;
    let hs = histories(tx, &people).await?;
    let refs: Vec<&History> = hs.iter().collect();
    let mut codes: BTreeSet<String> = hs.iter().flat_map(employer_codes).collect();
    if by_employer {
        codes.insert(organiser.clone());
    }
    let employers = employers_by_code(tx, &codes.into_iter().collect::<Vec<_>>()).await?;
    let (before, settled) = super::project_history(tx, &project).await?;
    let grant = |stage: Option<Stage>, date: NaiveDate, amount: i64| Granted {
        kind: Some(ClaimKind::ProjectTraining),
        provider: (!by_employer).then(|| organiser.clone()),
        employer: by_employer.then(|| organiser.clone()),
        project: Some(project.clone()),
        stage,
        date: Some(date),
        amount_fen: Some(amount),
        ..Granted::default()
    };
    let mut granted: Vec<Granted> = before
        .iter()
        .map(|(req, date, amount)| {
            let stage = req
                .as_deref()
                .and_then(|r| serde_json::from_str::<ClaimRequest>(r).ok())
                .and_then(|r| r.stage)
                .and_then(|s| match s.as_str() {
                    "advance" => Some(Stage::Advance),
                    "settlement" => Some(Stage::Settlement),
                    _ => None,
                });
            grant(stage, *date, *amount)
        })
        .collect();
    if settled {
        granted.push(grant(Some(Stage::Settlement), f.today, 0));
    }
    claim.trainings = Some(
        trainees.iter().filter(|p| hs.iter().any(|h| h.person.person_id == p.0)).map(|p| training_ref(p.1)).collect(),
    );
    let case = case_of(&refs, &employers, granted, vec![claim])?;
    let (snapshot, ds) = decide(case, f.params, f.region)?;
    let d = ds.get("k").ok_or(StoreError::NotFound)?;
    let mut c = NewClaim::decided(f.key.clone(), ClaimKind::ProjectTraining.code(), &county, f.today, &snapshot, d);
    if by_employer {
        c.employer_id = Some(f.scope_id);
    } else {
        c.provider_id = Some(f.scope_id);
    }
    c.project_ref = Some(project);
    Ok(c)
}
