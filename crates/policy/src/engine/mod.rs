//! The adjudication engine. Pure: a checked case in, decisions out.
//!
//! - [`rules`]: one function per rule, named after its clause (`s7_yearly_cap` is S7).
//! - [`kinds`]: one function per claim kind, applying the rules of that kind in order.
//! - here: the run state ([`Run`]: history, projects, places) and the dispatch by kind.

mod kinds;
pub mod rules;

pub use rules::*;

use crate::case::{CertKind, Certificate, Checked, Claim, ClaimKind, Person, Stage, Training};
use crate::decision::{use_of, Check, Clause, Clauses, Decision, Fund, Outcome, ParamUse, Payee, Reason};
use crate::params::{Key, Overrides, Params};
use chrono::{Months, NaiveDate};
use jineng_domain::{PriorityGroup, TrainingKind};
use std::collections::HashMap;

/// `date` plus `n` calendar months, the day clamped to the month's end (2020-08-31 + 6 = 2021-02-28).
pub fn add_months(date: NaiveDate, n: i64) -> NaiveDate {
    let n = u32::try_from(n.max(0)).unwrap_or(u32::MAX);
    date.checked_add_months(Months::new(n)).unwrap_or(NaiveDate::MAX)
}

/// Whether a person belonged to a group on a date.
pub fn member(p: &Person, group: PriorityGroup, date: NaiveDate) -> bool {
    p.groups.iter().any(|g| g.group == group && g.from <= date && g.to.is_none_or(|to| date <= to))
}

/// Whether an area code lies in the region (same first four digits: the prefecture).
fn in_region(code: &str, prefix: u32) -> bool {
    code.as_bytes().get(..4).and_then(|b| <[u8; 4]>::try_from(b).ok()).is_some_and(|b| u32::from_le_bytes(b) == prefix)
}

/// The training-subsidy standard key of a certificate.
pub fn training_standard(cert: &Certificate, training: Option<&Training>) -> Key {
    match (cert.kind, cert.level) {
        (CertKind::Qualification | CertKind::SkillLevel, Some(l)) => Key::training_level(l),
        (CertKind::SpecialAbility, _) => Key::TrainingSpecialAbility,
        (CertKind::SpecialOperation, _) => Key::TrainingSpecialOperation,
        (CertKind::TrainingCompletion, _) if training.is_some_and(|t| t.kind == TrainingKind::Entrepreneurship) => {
            Key::TrainingEntrepreneurship
        }
        _ => Key::TrainingCompletion,
    }
}

/// The key a decision lists when it paid a catalog project's published standard.
pub const CATALOG_STANDARD: &str = "catalog.subsidy_project_fen";

/// A percentage of an amount, rounded down to the fen (amounts are never negative here).
fn pct(amount: i64, percent: i64) -> i64 {
    amount.saturating_mul(percent) / 100
}

/// A subsidy granted (from the case's history or decided earlier in the run): what the rules
/// that count earlier grants (S3, S5, S7) need to know of it.
#[derive(Debug, Clone)]
pub struct Grant<'a> {
    /// What was granted.
    pub kind: ClaimKind,
    /// The employer paid (pre-job, on-the-job, apprenticeship), for S5.
    pub employer: Option<&'a str>,
    /// The certificate subsidised, for S3 either-or.
    pub certificate: Option<&'a str>,
    /// The certificate's occupation, for S7.
    pub occupation: Option<&'a str>,
    /// The certificate's level, for S7.
    pub level: Option<u8>,
    /// The event date (a certificate's issue date), for the S7 yearly cap.
    pub date: Option<NaiveDate>,
    /// Months paid (on-the-job), for the S5 cap.
    pub months: i64,
}

impl Grant<'_> {
    fn new(kind: ClaimKind) -> Self {
        Grant { kind, employer: None, certificate: None, occupation: None, level: None, date: None, months: 0 }
    }
}

/// What a project has received so far (S9).
#[derive(Default)]
struct Project {
    advances: i64,
    advanced: bool,
    settled: bool,
}

/// The state of one run over a case, shared by the claims decided in it.
struct Run<'a> {
    c: &'a Checked,
    /// Grants of each person (by index), growing as claims are approved.
    history: Vec<Vec<Grant<'a>>>,
    /// Projects by id.
    projects: HashMap<&'a str, Project>,
    /// Facilities already granted equipment (E1b, one-off per facility).
    facilities: std::collections::HashSet<&'a str>,
    /// Certificates of each training, earliest first (ties in file order).
    certs_of: Vec<Vec<usize>>,
    /// Employments of each person.
    jobs: Vec<Vec<usize>>,
    /// Whether each person's hukou, residence or work is in the region (S7).
    lives_here: Vec<bool>,
    /// Whether each training was held in the region (S7).
    held_here: Vec<bool>,
}

impl<'a> Run<'a> {
    fn new(c: &'a Checked, region: &str) -> Self {
        let case = &c.case;
        let mut history: Vec<Vec<Grant<'a>>> = vec![Vec::new(); case.people.len()];
        let mut projects: HashMap<&'a str, Project> = HashMap::new();
        let mut facilities = std::collections::HashSet::new();
        for (gi, g) in case.granted.iter().enumerate() {
            let Some(kind) = g.kind else { continue };
            if let (ClaimKind::EquipmentGrant, Some(f)) = (kind, g.facility_ref.as_deref()) {
                facilities.insert(f);
            }
            if kind == ClaimKind::ProjectTraining {
                let p = projects.entry(g.project.as_deref().unwrap_or_default()).or_default();
                match g.stage {
                    Some(Stage::Advance) => {
                        p.advanced = true;
                        p.advances += g.amount_fen.unwrap_or(0);
                    }
                    Some(Stage::Settlement) => p.settled = true,
                    None => {}
                }
            }
            let (person, cert) = c.granted_refs[gi];
            let Some(pi) = person.as_ref() else { continue };
            let (occupation, level) = match cert.as_ref() {
                Some(&ci) if g.occupation.is_none() => {
                    (Some(case.certificates[ci].occupation.as_str()), case.certificates[ci].level)
                }
                _ => (g.occupation.as_deref(), g.level),
            };
            let date = g.date.or_else(|| cert.map(|ci| case.certificates[ci].issued));
            history[*pi].push(Grant {
                kind,
                employer: g.employer.as_deref(),
                certificate: g.certificate.as_deref(),
                occupation,
                level,
                date,
                months: g.months.unwrap_or(0),
            });
        }
        let mut certs_of: Vec<Vec<usize>> = vec![Vec::new(); case.trainings.len()];
        for (i, t) in c.cert_training.iter().enumerate() {
            if let Some(t) = t {
                certs_of[*t].push(i);
            }
        }
        for v in certs_of.iter_mut().filter(|v| v.len() > 1) {
            v.sort_by_key(|&i| case.certificates[i].issued);
        }
        let prefix = region.as_bytes().get(..4).and_then(|b| <[u8; 4]>::try_from(b).ok()).map_or(0, u32::from_le_bytes);
        let lives_here = case
            .people
            .iter()
            .map(|p| {
                in_region(&p.hukou, prefix)
                    || in_region(&p.residence, prefix)
                    || p.work.as_deref().is_some_and(|w| in_region(w, prefix))
            })
            .collect();
        let held_here = case.trainings.iter().map(|t| in_region(&t.county, prefix)).collect();
        let mut jobs: Vec<Vec<usize>> = vec![Vec::new(); case.people.len()];
        for (i, (pi, _)) in c.employment_ix.iter().enumerate() {
            jobs[*pi].push(i);
        }
        Run { c, history, projects, facilities, certs_of, jobs, lives_here, held_here }
    }

    /// Whether a person (by index) was employed by an employer (by index) on `date`, for at
    /// least `min_months` months by then.
    fn employed_on(&self, person: Option<usize>, employer: Option<usize>, date: NaiveDate, min_months: i64) -> bool {
        person.map(|pi| self.jobs[pi].as_slice()).unwrap_or_default().iter().any(|&i| {
            let e = &self.c.case.employments[i];
            Some(self.c.employment_ix[i].1) == employer
                && add_months(e.from, min_months) <= date
                && e.to.is_none_or(|to| date <= to)
        })
    }
}

/// The adjudication engine: parameters, the region, and whether to record each check.
pub struct Engine<'p> {
    params: &'p Params,
    region: String,
    explain: bool,
}

/// What one decision collects while its rules run: clauses, reasons, parameters used, checks.
struct Ctx<'a> {
    params_file: &'a Params,
    explain: bool,
    overrides: &'a Overrides,
    clauses: Clauses,
    reasons: Vec<Reason>,
    params: Vec<ParamUse<'a>>,
    checks: Vec<Check>,
}

impl<'a> Ctx<'a> {
    fn clause(&mut self, c: Clause) {
        self.clauses.insert(c);
    }

    /// Records a rule's verdict; a refusal adds its reason once. Returns whether it passed.
    fn check(&mut self, name: &'static str, clause: Clause, r: Rule) -> bool {
        self.clause(clause);
        if self.explain {
            self.checks.push(Check { rule: name, clause, passed: r.is_ok() });
        }
        match r {
            Ok(()) => true,
            Err(code) => {
                if !self.reasons.iter().any(|x| x.code == code) {
                    self.reasons.push(reason(code));
                }
                false
            }
        }
    }

    /// The value of a parameter in force on `date` (or the case's override), recorded once.
    fn param(&mut self, key: Key, date: NaiveDate) -> i64 {
        let file: &'a Params = self.params_file;
        let (value, from, source): (i64, Option<NaiveDate>, &'a str) = match self.overrides.get(key) {
            Some(v) => (v, None, "本案指定 / case override"),
            None => {
                let v = file.version(key, date);
                (v.value, Some(v.from), &v.source)
            }
        };
        // Compared by name: the addresses of equal string literals may differ between codegen
        // units, so pointer equality listed a parameter twice in some builds.
        let name = key.name();
        if !self.params.iter().any(|p| p.key == name && p.effective_from == from) {
            self.params.push(use_of(key, value, from, source));
        }
        value
    }

    /// The training subsidy a certificate earns (S7): the published standard of the catalog
    /// project its training belongs to (M2) when the certificate is of that project's occupation
    /// and level, else the parameter's standard in force on `date`.
    fn training_subsidy(&mut self, cert: &Certificate, training: Option<&'a Training>, date: NaiveDate) -> i64 {
        let catalog = training.and_then(|t| {
            let graded = matches!(
                cert.kind,
                CertKind::Qualification | CertKind::SkillLevel | CertKind::SpecialAbility | CertKind::SpecialOperation
            );
            t.standard_fen.filter(|_| graded && cert.occupation == t.occupation && cert.level == t.level)
        });
        match catalog {
            Some(v) => {
                if !self.params.iter().any(|p| p.key == CATALOG_STANDARD && p.value == v) {
                    self.params.push(ParamUse {
                        key: CATALOG_STANDARD,
                        value: v,
                        effective_from: None,
                        source: "目录公布的补贴项目标准 / the catalog's published standard (M2)",
                    });
                }
                v
            }
            None => self.param(training_standard(cert, training), date),
        }
    }

    fn decide(self, claim: &'a Claim, outcome: Outcome, amount_fen: i64, payee: Payee<'a>, fund: Fund) -> Decision<'a> {
        Decision {
            claim: &claim.id,
            outcome,
            amount_fen,
            payee,
            fund,
            clauses: self.clauses,
            reasons: self.reasons,
            parameters: self.params,
            checks: self.checks,
            certificates_paid: Vec::new(),
        }
    }

    /// The decision for `amount` of `asked`: rejected when a rule refused and nothing is paid,
    /// reduced when less than asked, else approved.
    fn finish(self, claim: &'a Claim, amount: i64, asked: i64, payee: Payee<'a>, fund: Fund) -> Decision<'a> {
        let outcome = if !self.reasons.is_empty() && amount == 0 {
            Outcome::Rejected
        } else if amount < asked {
            Outcome::Reduced
        } else {
            Outcome::Approved
        };
        let amount = if outcome == Outcome::Rejected { 0 } else { amount };
        self.decide(claim, outcome, amount, payee, fund)
    }
}

impl<'p> Engine<'p> {
    /// An engine for a region (the plan's area code, e.g. `411700`).
    pub fn new(params: &'p Params, region: &str) -> Self {
        Engine { params, region: region.to_owned(), explain: false }
    }

    /// Records every rule checked in each decision.
    pub fn explaining(mut self) -> Self {
        self.explain = true;
        self
    }

    /// Decides every claim of a checked case, in order of `filed` (ties in file order).
    pub fn decide<'a>(&self, c: &'a Checked) -> Vec<Decision<'a>>
    where
        'p: 'a,
    {
        let case = &c.case;
        let mut run = Run::new(c, &self.region);
        let mut order: Vec<usize> = (0..case.claims.len()).collect();
        order.sort_by_key(|&i| case.claims[i].filed);
        let mut out = Vec::with_capacity(order.len());
        for i in order {
            let ctx = Ctx {
                params_file: self.params,
                explain: self.explain,
                overrides: &c.overrides,
                clauses: Clauses::default(),
                reasons: Vec::new(),
                params: Vec::new(),
                checks: Vec::new(),
            };
            out.push(one(&mut run, i, ctx));
        }
        out
    }
}

/// Decides one claim (by index) with the rules of its kind.
fn one<'a>(run: &mut Run<'a>, i: usize, ctx: Ctx<'a>) -> Decision<'a> {
    let c = run.c;
    let (claim, refs) = (&c.case.claims[i], &c.claim_refs[i]);
    match claim.kind {
        ClaimKind::TrainingSubsidy | ClaimKind::SkillUpgradeSubsidy => {
            kinds::certificate_subsidy(run, claim, refs, ctx)
        }
        ClaimKind::LivingAllowance => kinds::living_allowance(run, claim, refs, ctx),
        ClaimKind::PreJob => kinds::pre_job(run, claim, refs, ctx),
        ClaimKind::OnTheJob => kinds::on_the_job(run, claim, refs, ctx),
        ClaimKind::Apprenticeship => kinds::apprenticeship(run, claim, refs, ctx),
        ClaimKind::EquipmentGrant => kinds::equipment_grant(run, claim, ctx),
        ClaimKind::ProjectTraining => kinds::project_training(run, claim, refs, ctx),
    }
}
