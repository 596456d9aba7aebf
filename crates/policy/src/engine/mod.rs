//! The rules of the plan as code: one named function per rule, each citing its clause, and
//! one function per claim kind that applies them in order. Pure: a case in, decisions out.

use crate::case::{CertKind, Certificate, Checked, Claim, ClaimKind, EmployerKind, Facility, Person, Stage, Training};
use crate::decision::{use_of, Check, Clause, Clauses, Decision, Fund, Outcome, ParamUse, Payee, Reason};
use crate::params::{Key, Params};
use chrono::{Datelike, Months, NaiveDate};
use jineng_domain::{PriorityGroup as G, TrainingKind};
use std::collections::HashMap;

/// `date` plus `n` calendar months, the day clamped to the month's end (2020-08-31 + 6 = 2021-02-28).
pub fn add_months(date: NaiveDate, n: i64) -> NaiveDate {
    let n = u32::try_from(n.max(0)).unwrap_or(u32::MAX);
    date.checked_add_months(Months::new(n)).unwrap_or(NaiveDate::MAX)
}

/// Whether a person belonged to a group on a date.
pub fn member(p: &Person, group: G, date: NaiveDate) -> bool {
    p.groups.iter().any(|g| g.group == group && g.from <= date && g.to.is_none_or(|to| date <= to))
}

/// The plain words of each reason code.
fn reason(code: &'static str) -> Reason {
    let (zh, en) = match code {
        "S12.not_in_system" => (
            "培训未通过系统开展（补贴培训进系统、系统之外零补贴）",
            "the training was not recorded in the system (no subsidy outside the system)",
        ),
        "S8.pensioner" => {
            ("申请人按月领取养老金，不在政策范围内", "the person is entitled to a monthly pension and is out of scope")
        }
        "S7.place" => (
            "培训地点不在本市，或申请人户籍地、常住地、求职就业地均不在本市",
            "the training was not held here, or the person's hukou, residence and work are all elsewhere",
        ),
        "S7.no_certificate" => ("该证书不属于申请人", "the certificate is not the applicant's"),
        "S7.yearly_cap" => {
            ("本年度证书类培训补贴次数已达上限", "the yearly number of certificate subsidies is reached")
        }
        "S7.same_occupation_level" => (
            "同一职业同一等级已享受过补贴，不可重复享受",
            "the same occupation at the same level was already subsidised",
        ),
        "S3.either_or" => (
            "同一证书的职业培训补贴与技能提升补贴只能享受其一",
            "one certificate earns either the training subsidy or the skill-upgrade subsidy, not both",
        ),
        "S3.not_employee" => ("取证时不是企业职工", "not an enterprise employee on the issue date"),
        "S3.not_insured_long_enough" => ("取证时参加失业保险的时间不足", "not insured long enough on the issue date"),
        "S3.no_level" => {
            ("证书没有技能等级，不享受技能提升补贴", "a certificate without a level earns no skill-upgrade subsidy")
        }
        "S3.not_new_hire" => {
            ("不是本单位新录用人员的岗前培训", "not the pre-job training of a new hire of this employer")
        }
        "S2.not_eligible_group" => (
            "培训开始时不属于可享受生活费补贴的人员",
            "not in a group entitled to a living allowance when the training started",
        ),
        "S2.not_own_training" => ("该培训不是申请人本人的", "the training is not the applicant's"),
        "S5.not_eligible" => (
            "不符合以工代训补贴条件（人员类别或单位类型）",
            "the person or employer does not qualify for the on-the-job subsidy",
        ),
        "S5.employment_too_short" => {
            ("吸纳贫困劳动力就业时间不足", "the poor worker has not been employed long enough")
        }
        "S5.months_capped" => {
            ("以工代训补贴月数超过上限，按上限核定", "months beyond the on-the-job limit are not paid")
        }
        "S5.pre_job_conflict" => (
            "以工代训补贴与岗前培训补贴不得重复享受",
            "the on-the-job and pre-job subsidies cannot both be paid for one hire",
        ),
        "S4.not_apprenticeship" => {
            ("不是本单位该人员的新型学徒制培训", "not this employer's apprenticeship training of this person")
        }
        "E1b.not_accepted" => ("设备未经财政、人社部门验收合格", "the equipment was not accepted by finance and HR"),
        "E1b.capped" => ("补助超过上限，按上限核定", "the grant is capped"),
        "S9.recover" => (
            "结算金额低于已先行拨付金额，应追回差额",
            "the settlement is below the advance: the difference is recovered",
        ),
        "S9.advance_already_paid" => ("该项目已先行拨付", "an advance was already paid for this project"),
        "S9.already_settled" => ("该项目已结算", "the project is already settled"),
        "P8.business_too_old" => {
            ("创业培训时企业开业已超过年限", "the business had been open too long when the training started")
        }
        _ => ("", ""),
    };
    Reason { code, zh, en }
}

type Rule = Result<(), &'static str>;

fn rule(ok: bool, code: &'static str) -> Rule {
    if ok {
        Ok(())
    } else {
        Err(code)
    }
}

// ---- rules, one per clause ------------------------------------------------------------

/// S12: training not in the system earns no subsidy.
pub fn s12_in_system(training: Option<&Training>) -> Rule {
    rule(training.is_some_and(|t| t.in_system), "S12.not_in_system")
}

/// S8: people entitled to a monthly pension are out of scope.
pub fn s8_no_monthly_pension(p: &Person) -> Rule {
    rule(!p.monthly_pension, "S8.pensioner")
}

/// S7: trained here (`held_here`), and the person's hukou, residence or work is here (`lives_here`).
pub fn s7_place(held_here: bool, lives_here: bool) -> Rule {
    rule(held_here && lives_here, "S7.place")
}

/// Whether an area code lies in the region (same first four digits: the prefecture).
fn in_region(code: &str, prefix: u32) -> bool {
    code.as_bytes().get(..4).and_then(|b| <[u8; 4]>::try_from(b).ok()).is_some_and(|b| u32::from_le_bytes(b) == prefix)
}

/// S7: the certificate is the applicant's (people compared by their index in the case).
pub fn s7_own_certificate(holder: usize, applicant: Option<usize>) -> Rule {
    rule(Some(holder) == applicant, "S7.no_certificate")
}

/// S7: at most `cap` certificate subsidies per calendar year of issue.
pub fn s7_yearly_cap(history: &[Grant<'_>], year: i32, cap: i64) -> Rule {
    let used =
        history.iter().filter(|g| g.is_certificate_subsidy() && g.date.is_some_and(|d| d.year() == year)).count();
    rule((used as i64) < cap, "S7.yearly_cap")
}

/// S7: never the same occupation at the same level twice (levels compared as given).
pub fn s7_same_occupation_level(history: &[Grant<'_>], occupation: &str, level: Option<u8>) -> Rule {
    let dup =
        history.iter().any(|g| g.is_certificate_subsidy() && g.occupation == Some(occupation) && g.level == level);
    rule(!dup, "S7.same_occupation_level")
}

/// P8: an owner's business started less than `max_years` before the entrepreneurship training.
pub fn p8_business_age(p: &Person, training: Option<&Training>, max_years: i64) -> Rule {
    match (training, p.business_started) {
        (Some(t), Some(started)) if t.kind == TrainingKind::Entrepreneurship => {
            rule(t.start < add_months(started, max_years * 12), "P8.business_too_old")
        }
        _ => Ok(()),
    }
}

/// S3: one certificate earns the training subsidy or the skill-upgrade subsidy, not both.
pub fn s3_either_or(history: &[Grant<'_>], cert_id: &str, other: ClaimKind) -> Rule {
    rule(!history.iter().any(|g| g.kind == other && g.certificate == Some(cert_id)), "S3.either_or")
}

/// S3: an enterprise employee on the issue date.
pub fn s3_employee(p: &Person, issued: NaiveDate) -> Rule {
    rule(member(p, G::Employee, issued), "S3.not_employee")
}

/// S3: insured for at least `months` whole months on the issue date.
pub fn s3_insured_long_enough(p: &Person, issued: NaiveDate, months: i64) -> Rule {
    rule(p.insured_since.is_some_and(|s| add_months(s, months) <= issued), "S3.not_insured_long_enough")
}

/// S3: the skill-upgrade subsidy needs a level.
pub fn s3_has_level(cert: &Certificate) -> Rule {
    rule(cert.level.is_some(), "S3.no_level")
}

/// S2: the training is the applicant's (people compared by their index in the case).
pub fn s2_own_training(trainee: usize, applicant: Option<usize>) -> Rule {
    rule(Some(trainee) == applicant, "S2.not_own_training")
}

/// S2: in a group entitled to a living allowance on the training's start date.
pub fn s2_eligible_group(p: &Person, start: NaiveDate) -> Rule {
    let ok =
        [G::PoorWorker, G::HardToEmploy, G::ZeroEmploymentFamily, G::UrbanDibao].iter().any(|g| member(p, *g, start))
            || (p.rural && member(p, G::SchoolLeaver, start));
    rule(ok, "S2.not_eligible_group")
}

/// S1: the free-training groups, whose training subsidy is paid to the provider.
pub fn s1_free_training(p: &Person, start: NaiveDate) -> bool {
    [
        G::PoorFamilyChild,
        G::PoorWorker,
        G::SchoolLeaver,
        G::RuralMigrant,
        G::LaidOff,
        G::JobTransfer,
        G::Veteran,
        G::Disabled,
    ]
    .iter()
    .any(|g| member(p, *g, start))
}

/// S5: the on-the-job and pre-job subsidies are never both paid for one person and employer.
pub fn s5_no_conflict(history: &[Grant<'_>], employer: &str, other: ClaimKind) -> Rule {
    rule(!history.iter().any(|g| g.kind == other && g.employer == Some(employer)), "S5.pre_job_conflict")
}

/// S4: the employer's apprenticeship training of this person.
pub fn s4_apprenticeship(t: &Training, person: &str, employer: &str) -> Rule {
    rule(
        t.person == person && t.kind == TrainingKind::Apprenticeship && t.employer.as_deref() == Some(employer),
        "S4.not_apprenticeship",
    )
}

/// E1b: the equipment was accepted by finance and HR.
pub fn e1b_accepted(accepted: bool) -> Rule {
    rule(accepted, "E1b.not_accepted")
}

// ---- state ------------------------------------------------------------------------------

/// A subsidy granted (from the case's history or decided earlier in the run).
#[derive(Debug, Clone)]
pub struct Grant<'a> {
    /// Kind.
    pub kind: ClaimKind,
    /// Employer.
    pub employer: Option<&'a str>,
    /// Certificate.
    pub certificate: Option<&'a str>,
    /// Occupation.
    pub occupation: Option<&'a str>,
    /// Level.
    pub level: Option<u8>,
    /// Event date.
    pub date: Option<NaiveDate>,
    /// Months (on-the-job).
    pub months: i64,
}

impl Grant<'_> {
    fn is_certificate_subsidy(&self) -> bool {
        matches!(self.kind, ClaimKind::TrainingSubsidy | ClaimKind::SkillUpgradeSubsidy)
    }

    fn new(kind: ClaimKind) -> Self {
        Grant { kind, employer: None, certificate: None, occupation: None, level: None, date: None, months: 0 }
    }
}

/// S7 place facts of a run.
struct Place<'x> {
    lives_here: &'x [bool],
    held_here: &'x [bool],
}

#[derive(Default)]
struct Project {
    advances: i64,
    advanced: bool,
    settled: bool,
}

/// The adjudication engine: parameters, the region, and whether to record each check.
pub struct Engine<'p> {
    params: &'p Params,
    region: String,
    explain: bool,
}

struct Ctx<'a> {
    params_file: &'a Params,
    explain: bool,
    overrides: &'a crate::params::Overrides,
    clauses: Clauses,
    reasons: Vec<Reason>,
    params: Vec<ParamUse<'a>>,
    checks: Vec<Check>,
}

impl<'a> Ctx<'a> {
    fn clause(&mut self, c: Clause) {
        self.clauses.insert(c);
    }

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

    fn param(&mut self, key: Key, date: NaiveDate) -> i64 {
        let file: &'a Params = self.params_file;
        let (value, from, source): (i64, Option<NaiveDate>, &'a str) = match self.overrides.get(key) {
            Some(v) => (v, None, "本案指定 / case override"),
            None => {
                let v = file.version(key, date);
                (v.value, Some(v.from), &v.source)
            }
        };
        let name = key.name();
        if !self.params.iter().any(|p| std::ptr::eq(p.key, name) && p.effective_from == from) {
            self.params.push(use_of(key, value, from, source));
        }
        value
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
        }
    }
}

fn pct(amount: i64, percent: i64) -> i64 {
    // Rounds down to the fen (amounts are never negative here).
    amount.saturating_mul(percent) / 100
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
        let mut history: Vec<Vec<Grant<'a>>> = vec![Vec::new(); case.people.len()];
        let mut projects: HashMap<&'a str, Project> = HashMap::new();
        for (gi, g) in case.granted.iter().enumerate() {
            let Some(kind) = g.kind else { continue };
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
        // Certificates of each training, earliest first (ties in file order).
        let mut certs_of: Vec<Vec<usize>> = vec![Vec::new(); case.trainings.len()];
        for (i, t) in c.cert_training.iter().enumerate() {
            if let Some(t) = t {
                certs_of[*t].push(i);
            }
        }
        for v in certs_of.iter_mut().filter(|v| v.len() > 1) {
            v.sort_by_key(|&i| case.certificates[i].issued);
        }
        // Where each person lives and each training was held, against the region (S7).
        let prefix =
            self.region.as_bytes().get(..4).and_then(|b| <[u8; 4]>::try_from(b).ok()).map_or(0, u32::from_le_bytes);
        let lives_here: Vec<bool> = case
            .people
            .iter()
            .map(|p| {
                in_region(&p.hukou, prefix)
                    || in_region(&p.residence, prefix)
                    || p.work.as_deref().is_some_and(|w| in_region(w, prefix))
            })
            .collect();
        let held_here: Vec<bool> = case.trainings.iter().map(|t| in_region(&t.county, prefix)).collect();
        let place = Place { lives_here: &lives_here, held_here: &held_here };
        // Employments of each person.
        let mut jobs: Vec<Vec<usize>> = vec![Vec::new(); case.people.len()];
        for (i, (pi, _)) in c.employment_ix.iter().enumerate() {
            jobs[*pi].push(i);
        }
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
            let d = self.one(c, i, ctx, &mut history, &mut projects, &certs_of, &jobs, &place);
            out.push(d);
        }
        out
    }

    #[expect(clippy::too_many_arguments, reason = "the state of one run, passed by reference")]
    fn one<'a>(
        &self,
        c: &'a Checked,
        claim_index: usize,
        mut ctx: Ctx<'a>,
        history: &mut [Vec<Grant<'a>>],
        projects: &mut HashMap<&'a str, Project>,
        certs_of: &[Vec<usize>],
        jobs: &[Vec<usize>],
        place: &Place<'_>,
    ) -> Decision<'a> {
        let case = &c.case;
        let claim: &'a Claim = &case.claims[claim_index];
        let refs = &c.claim_refs[claim_index];
        let pix = refs.person;
        let training = refs.training.map(|i| &case.trainings[i]);
        let employer = refs.employer.map(|i| &case.employers[i]);
        let employer_code: &'a str = claim.employer.as_deref().unwrap_or_default();
        let person_id: &'a str = claim.person.as_deref().unwrap_or_default();
        let employed_on = |date: NaiveDate, min_months: i64| {
            pix.map(|pi| jobs[pi].as_slice()).unwrap_or_default().iter().any(|&i| {
                let e = &case.employments[i];
                Some(c.employment_ix[i].1) == refs.employer
                    && add_months(e.from, min_months) <= date
                    && e.to.is_none_or(|to| date <= to)
            })
        };
        let finish = |ctx: Ctx<'a>, amount: i64, asked: i64, payee: Payee<'a>, fund: Fund| {
            let outcome = if !ctx.reasons.is_empty() && amount == 0 {
                Outcome::Rejected
            } else if amount < asked {
                Outcome::Reduced
            } else {
                Outcome::Approved
            };
            let amount = if outcome == Outcome::Rejected { 0 } else { amount };
            ctx.decide(claim, outcome, amount, payee, fund)
        };
        match claim.kind {
            ClaimKind::TrainingSubsidy | ClaimKind::SkillUpgradeSubsidy => {
                let pi = pix.unwrap_or_default();
                let p = &case.people[pi];
                let ci = refs.certificate.unwrap_or_default();
                let cert = &case.certificates[ci];
                let t = c.cert_training[ci].map(|i| &case.trainings[i]);
                let date = cert.issued;
                let upgrade = claim.kind == ClaimKind::SkillUpgradeSubsidy;
                if upgrade {
                    let months = ctx.param(Key::UpgradeMinInsuredMonths, date);
                    ctx.check("s3_employee", Clause::S3, s3_employee(p, date));
                    ctx.check("s3_insured_long_enough", Clause::S3, s3_insured_long_enough(p, date, months));
                }
                ctx.check("s12_in_system", Clause::S12, s12_in_system(t));
                ctx.check("s8_no_monthly_pension", Clause::S8, s8_no_monthly_pension(p));
                let held = c.cert_training[ci].is_none_or(|ti| place.held_here[ti]);
                ctx.check("s7_place", Clause::S7, s7_place(held, place.lives_here[pi]));
                ctx.check("s7_own_certificate", Clause::S7, s7_own_certificate(c.cert_person[ci], pix));
                let cap = ctx.param(Key::CertificatesPerYear, date);
                ctx.check("s7_yearly_cap", Clause::S7, s7_yearly_cap(&history[pi], date.year(), cap));
                ctx.check(
                    "s7_same_occupation_level",
                    Clause::S7,
                    s7_same_occupation_level(&history[pi], &cert.occupation, cert.level),
                );
                let other = if upgrade { ClaimKind::TrainingSubsidy } else { ClaimKind::SkillUpgradeSubsidy };
                ctx.check("s3_either_or", Clause::S3, s3_either_or(&history[pi], &cert.id, other));
                let (amount, payee, fund) = if upgrade {
                    let amount = if ctx.check("s3_has_level", Clause::S3, s3_has_level(cert)) {
                        ctx.param(Key::upgrade_level(cert.level.unwrap_or(5)), date)
                    } else {
                        0
                    };
                    (amount, Payee::Person(person_id), Fund::UnemploymentInsuranceFund)
                } else {
                    if t.is_some_and(|t| t.kind == TrainingKind::Entrepreneurship) && p.business_started.is_some() {
                        let years = ctx.param(Key::EntrepreneurshipMaxYears, date);
                        ctx.check("p8_business_age", Clause::P8, p8_business_age(p, t, years));
                    }
                    let amount = ctx.param(training_standard(cert, t), date);
                    let payee = match t {
                        Some(t) if s1_free_training(p, t.start) => {
                            ctx.clause(Clause::S1);
                            Payee::Provider(&t.provider)
                        }
                        _ => Payee::Person(person_id),
                    };
                    (amount, payee, Fund::EmploymentSubsidyFund)
                };
                let amount = if ctx.reasons.is_empty() { amount } else { 0 };
                let d = finish(ctx, amount, amount, payee, fund);
                if d.outcome != Outcome::Rejected {
                    let mut g = Grant::new(claim.kind);
                    g.certificate = Some(&cert.id);
                    g.occupation = Some(&cert.occupation);
                    g.level = cert.level;
                    g.date = Some(date);
                    history[pi].push(g);
                }
                d
            }
            ClaimKind::LivingAllowance => {
                let pi = pix.unwrap_or_default();
                let p = &case.people[pi];
                let t = training.expect("checked");
                ctx.check(
                    "s2_own_training",
                    Clause::S2,
                    s2_own_training(c.training_person[refs.training.unwrap_or_default()], pix),
                );
                ctx.check("s2_eligible_group", Clause::S2, s2_eligible_group(p, t.start));
                ctx.check("s12_in_system", Clause::S12, s12_in_system(Some(t)));
                let rate = ctx.param(Key::LivingFenPerDay, t.start);
                let amount = if ctx.reasons.is_empty() { t.attended_days * rate } else { 0 };
                let d = finish(ctx, amount, amount, Payee::Person(person_id), Fund::EmploymentSubsidyFund);
                if d.outcome != Outcome::Rejected {
                    history[pi].push(Grant::new(ClaimKind::LivingAllowance));
                }
                d
            }
            ClaimKind::PreJob => {
                let pi = pix.unwrap_or_default();
                let t = training.expect("checked");
                let new_hire = Some(c.training_person[refs.training.unwrap_or_default()]) == pix
                    && t.kind == TrainingKind::PreJob
                    && t.employer.as_deref() == Some(employer_code)
                    && employed_on(claim.filed, 0);
                ctx.check("s3_new_hire", Clause::S3, rule(new_hire, "S3.not_new_hire"));
                ctx.check("s12_in_system", Clause::S12, s12_in_system(Some(t)));
                ctx.check(
                    "s5_no_conflict",
                    Clause::S5,
                    s5_no_conflict(&history[pi], employer_code, ClaimKind::OnTheJob),
                );
                let standard = ctx.param(Key::PreJobFen, claim.filed);
                let amount = if ctx.reasons.is_empty() { standard } else { 0 };
                let d = finish(ctx, amount, amount, Payee::Employer(employer_code), Fund::EmploymentSubsidyFund);
                if d.outcome != Outcome::Rejected {
                    let mut g = Grant::new(ClaimKind::PreJob);
                    g.employer = Some(employer_code);
                    history[pi].push(g);
                }
                d
            }
            ClaimKind::OnTheJob => {
                let pi = pix.unwrap_or_default();
                let p = &case.people[pi];
                let e = employer.expect("checked");
                let filed = claim.filed;
                let poor_path = member(p, G::PoorWorker, filed)
                    && matches!(
                        e.kind,
                        EmployerKind::Enterprise | EmployerKind::Cooperative | EmployerKind::PovertyWorkshop
                    );
                let hard_path = (member(p, G::HardToEmploy, filed) || member(p, G::ZeroEmploymentFamily, filed))
                    && e.kind == EmployerKind::Enterprise
                    && e.insured
                    && employed_on(filed, 0);
                let long_enough = poor_path && {
                    let min = ctx.param(Key::OnTheJobMinEmploymentMonths, filed);
                    employed_on(filed, min)
                };
                let eligible = long_enough || hard_path;
                let code =
                    if poor_path && employed_on(filed, 0) { "S5.employment_too_short" } else { "S5.not_eligible" };
                ctx.check("s5_eligible", Clause::S5, rule(eligible, code));
                ctx.check("s5_no_conflict", Clause::S5, s5_no_conflict(&history[pi], employer_code, ClaimKind::PreJob));
                let max = ctx.param(Key::OnTheJobMaxMonths, filed);
                let rate = ctx.param(Key::OnTheJobFenPerMonth, filed);
                let asked = claim.months.unwrap_or(0);
                let used: i64 = history[pi].iter().filter(|g| g.kind == ClaimKind::OnTheJob).map(|g| g.months).sum();
                let months = asked.min((max - used).max(0));
                let ok = ctx.reasons.is_empty();
                if ok && months < asked {
                    ctx.check("s5_months_cap", Clause::S5, Err("S5.months_capped"));
                }
                let amount = if ok { months * rate } else { 0 };
                let d = finish(ctx, amount, asked * rate, Payee::Employer(employer_code), Fund::EmploymentSubsidyFund);
                if d.outcome != Outcome::Rejected {
                    let mut g = Grant::new(ClaimKind::OnTheJob);
                    g.employer = Some(employer_code);
                    g.months = months;
                    history[pi].push(g);
                }
                d
            }
            ClaimKind::Apprenticeship => {
                let pi = pix.unwrap_or_default();
                let t = training.expect("checked");
                ctx.check("s4_apprenticeship", Clause::S4, s4_apprenticeship(t, person_id, employer_code));
                ctx.check("s12_in_system", Clause::S12, s12_in_system(Some(t)));
                let rate = ctx.param(Key::ApprenticeshipFenPerYear, claim.filed);
                let amount = if ctx.reasons.is_empty() { claim.years.unwrap_or(0) * rate } else { 0 };
                let d = finish(ctx, amount, amount, Payee::Employer(employer_code), Fund::EmploymentSubsidyFund);
                if d.outcome != Outcome::Rejected {
                    let mut g = Grant::new(ClaimKind::Apprenticeship);
                    g.employer = Some(employer_code);
                    history[pi].push(g);
                }
                d
            }
            ClaimKind::EquipmentGrant => {
                ctx.check("e1b_accepted", Clause::E1b, e1b_accepted(claim.accepted.unwrap_or(false)));
                let percent = ctx.param(Key::EquipmentPercent, claim.filed);
                let cap_key = match claim.facility {
                    Some(Facility::MasterStudio) => Key::EquipmentCapStudio,
                    _ => Key::EquipmentCapBase,
                };
                let cap = ctx.param(cap_key, claim.filed);
                let raw = pct(claim.equipment_value_fen.unwrap_or(0), percent);
                let ok = ctx.reasons.is_empty();
                if ok && raw > cap {
                    ctx.check("e1b_cap", Clause::E1b, Err("E1b.capped"));
                }
                let amount = if ok { raw.min(cap) } else { 0 };
                finish(ctx, amount, raw, Payee::Employer(employer_code), Fund::EmploymentSubsidyFund)
            }
            ClaimKind::ProjectTraining => {
                let project_id: &'a str = claim.project.as_deref().unwrap_or_default();
                let provider: &'a str = claim.provider.as_deref().unwrap_or_default();
                let payee = Payee::Provider(provider);
                let fund = Fund::EmploymentSubsidyFund;
                let contract = claim.contract_fen.unwrap_or(0);
                let listed: Vec<(usize, &Training)> = refs.trainings.iter().map(|&t| (t, &case.trainings[t])).collect();
                let state = projects.entry(project_id).or_default();
                ctx.clause(Clause::S9);
                if state.settled {
                    ctx.check("s9_not_settled", Clause::S9, Err("S9.already_settled"));
                    return finish(ctx, 0, 0, payee, fund);
                }
                let stage = claim.stage.unwrap_or(Stage::Advance);
                if stage == Stage::Advance && state.advanced {
                    ctx.check("s9_one_advance", Clause::S9, Err("S9.advance_already_paid"));
                    return finish(ctx, 0, 0, payee, fund);
                }
                let all_in = listed.iter().all(|(_, t)| t.in_system);
                let in_system = ctx.check("s12_in_system", Clause::S12, rule(all_in, "S12.not_in_system"));
                if stage == Stage::Settlement {
                    state.settled = true;
                }
                if !in_system {
                    return finish(ctx, 0, 0, payee, fund);
                }
                match stage {
                    Stage::Advance => {
                        let percent = ctx.param(Key::ProjectAdvancePercent, claim.filed);
                        let amount = pct(contract, percent);
                        state.advanced = true;
                        state.advances += amount;
                        finish(ctx, amount, amount, payee, fund)
                    }
                    Stage::Settlement => {
                        let advances = state.advances;
                        let mut sum = 0i64;
                        for &(ti, t) in &listed {
                            let Some(&ci) = certs_of[ti].first() else { continue };
                            let cert = &case.certificates[ci];
                            let pi = c.training_person[ti];
                            let p = &case.people[pi];
                            let date = cert.issued;
                            let cap = ctx.param(Key::CertificatesPerYear, date);
                            let years = ctx.param(Key::EntrepreneurshipMaxYears, date);
                            let passes = s8_no_monthly_pension(p).is_ok()
                                && s7_place(place.held_here[ti], place.lives_here[pi]).is_ok()
                                && s7_own_certificate(c.cert_person[ci], Some(pi)).is_ok()
                                && s7_yearly_cap(&history[pi], date.year(), cap).is_ok()
                                && s7_same_occupation_level(&history[pi], &cert.occupation, cert.level).is_ok()
                                && p8_business_age(p, Some(t), years).is_ok();
                            if !passes {
                                continue;
                            }
                            sum += ctx.param(training_standard(cert, Some(t)), date);
                            let mut g = Grant::new(ClaimKind::TrainingSubsidy);
                            g.certificate = Some(&cert.id);
                            g.occupation = Some(&cert.occupation);
                            g.level = cert.level;
                            g.date = Some(date);
                            history[pi].push(g);
                        }
                        ctx.clause(Clause::S7);
                        let total = sum.min(contract) - advances;
                        if total >= 0 {
                            ctx.decide(claim, Outcome::Approved, total, payee, fund)
                        } else {
                            ctx.check("s9_settlement_covers_advance", Clause::S9, Err("S9.recover"));
                            ctx.decide(claim, Outcome::Recover, -total, payee, fund)
                        }
                    }
                }
            }
        }
    }
}
