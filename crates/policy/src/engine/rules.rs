//! The rules of the plan, one function per rule, named after the clause it comes from
//! (`s7_yearly_cap` is clause S7; the clause texts are in [`crate::clauses`]). A rule returns
//! `Ok(())` or the reason code it refuses with; [`reason`] gives the plain words of each code.
//! `docs/policy.md` maps every clause to its rules.

use super::{add_months, member, Grant};
use crate::case::{Certificate, ClaimKind, Employer, EmployerKind, Person, Training};
use crate::decision::Reason;
use chrono::{Datelike, NaiveDate};
use jineng_domain::{PriorityGroup as G, TrainingKind};

/// A rule's verdict: `Err` carries the reason code.
pub type Rule = Result<(), &'static str>;

/// `Ok` when `ok`, else the reason `code`.
pub fn rule(ok: bool, code: &'static str) -> Rule {
    if ok {
        Ok(())
    } else {
        Err(code)
    }
}

// ---- S1 free training -------------------------------------------------------------------

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

// ---- S2 living allowance ----------------------------------------------------------------

/// S2: the training is the applicant's (people compared by their index in the case).
pub fn s2_own_training(trainee: usize, applicant: Option<usize>) -> Rule {
    rule(Some(trainee) == applicant, "S2.not_own_training")
}

/// S2: in a group entitled to a living allowance on the training's start date (the groups
/// are [`crate::brings::S2_GROUPS`], plus rural school leavers).
pub fn s2_eligible_group(p: &Person, start: NaiveDate) -> Rule {
    rule(crate::brings::s2_living_allowance_group(p, start), "S2.not_eligible_group")
}

// ---- S3 skill-upgrade subsidy, pre-job training -------------------------------------------

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

/// S3: one certificate earns the training subsidy or the skill-upgrade subsidy, not both.
pub fn s3_either_or(history: &[Grant<'_>], cert_id: &str, other: ClaimKind) -> Rule {
    rule(!history.iter().any(|g| g.kind == other && g.certificate == Some(cert_id)), "S3.either_or")
}

/// S3: the pre-job training of a new hire: the applicant's own (`own`) pre-job training for
/// this employer, and the person is employed by it on the filed date (`employed`).
pub fn s3_new_hire(own: bool, t: &Training, employer: &str, employed: bool) -> Rule {
    let ok = own && t.kind == TrainingKind::PreJob && t.employer.as_deref() == Some(employer) && employed;
    rule(ok, "S3.not_new_hire")
}

// ---- S4 apprenticeship --------------------------------------------------------------------

/// S4: the employer's apprenticeship training of this person.
pub fn s4_apprenticeship(t: &Training, person: &str, employer: &str) -> Rule {
    rule(
        t.person == person && t.kind == TrainingKind::Apprenticeship && t.employer.as_deref() == Some(employer),
        "S4.not_apprenticeship",
    )
}

// ---- S5 on-the-job training -----------------------------------------------------------------

/// S5 (a): a poor worker with an enterprise, cooperative or poverty workshop on the filed date
/// (how long they have been employed is checked by [`s5_eligible`]).
pub fn s5_poor_worker_path(p: &Person, e: &Employer, filed: NaiveDate) -> bool {
    member(p, G::PoorWorker, filed)
        && matches!(e.kind, EmployerKind::Enterprise | EmployerKind::Cooperative | EmployerKind::PovertyWorkshop)
}

/// S5 (b): a hard-to-employ or zero-employment-family member employed (`employed`) on the
/// filed date by an insured enterprise.
pub fn s5_hard_to_employ_path(p: &Person, e: &Employer, filed: NaiveDate, employed: bool) -> bool {
    (member(p, G::HardToEmploy, filed) || member(p, G::ZeroEmploymentFamily, filed))
        && e.kind == EmployerKind::Enterprise
        && e.insured
        && employed
}

/// S5: path (a) employed for at least the minimum months (`long_enough`) or path (b). A poor
/// worker employed (`employed`) but not yet long enough is told so.
pub fn s5_eligible(poor_path: bool, employed: bool, long_enough: bool, hard_path: bool) -> Rule {
    let code = if poor_path && employed { "S5.employment_too_short" } else { "S5.not_eligible" };
    rule((poor_path && long_enough) || hard_path, code)
}

/// S5: the on-the-job and pre-job subsidies are never both paid for one person and employer.
pub fn s5_no_conflict(history: &[Grant<'_>], employer: &str, other: ClaimKind) -> Rule {
    rule(!history.iter().any(|g| g.kind == other && g.employer == Some(employer)), "S5.pre_job_conflict")
}

/// S5: at most `max` months per person in all (`used` already granted): the months paid,
/// and `Err` when fewer than asked.
pub fn s5_months_cap(asked: i64, max: i64, used: i64) -> (i64, Rule) {
    let months = asked.min((max - used).max(0));
    (months, rule(months >= asked, "S5.months_capped"))
}

// ---- S7 certificate subsidies --------------------------------------------------------------

/// S7: trained here (`held_here`), and the person's hukou, residence or work is here (`lives_here`).
pub fn s7_place(held_here: bool, lives_here: bool) -> Rule {
    rule(held_here && lives_here, "S7.place")
}

/// S7: the certificate is the applicant's (people compared by their index in the case).
pub fn s7_own_certificate(holder: usize, applicant: Option<usize>) -> Rule {
    rule(Some(holder) == applicant, "S7.no_certificate")
}

/// S7: at most `cap` certificate subsidies per calendar year of issue.
pub fn s7_yearly_cap(history: &[Grant<'_>], year: i32, cap: i64) -> Rule {
    let used =
        history.iter().filter(|g| g.kind.is_certificate_subsidy() && g.date.is_some_and(|d| d.year() == year)).count();
    rule((used as i64) < cap, "S7.yearly_cap")
}

/// S7: never the same occupation at the same level twice (levels compared as given).
pub fn s7_same_occupation_level(history: &[Grant<'_>], occupation: &str, level: Option<u8>) -> Rule {
    let dup =
        history.iter().any(|g| g.kind.is_certificate_subsidy() && g.occupation == Some(occupation) && g.level == level);
    rule(!dup, "S7.same_occupation_level")
}

// ---- S8 scope -------------------------------------------------------------------------------

/// S8: people entitled to a monthly pension are out of scope.
pub fn s8_no_monthly_pension(p: &Person) -> Rule {
    rule(!p.monthly_pension, "S8.pensioner")
}

// ---- S9 project-based training --------------------------------------------------------------

/// S9: a settled project takes no further claim.
pub fn s9_not_settled(settled: bool) -> Rule {
    rule(!settled, "S9.already_settled")
}

/// S9: one advance per project.
pub fn s9_one_advance(advance: bool, advanced: bool) -> Rule {
    rule(!(advance && advanced), "S9.advance_already_paid")
}

/// S9: a settlement below the advances (`total` < 0) is recovered.
pub fn s9_settlement_covers_advance(total: i64) -> Rule {
    rule(total >= 0, "S9.recover")
}

/// S9 with S8, S7 and P8: whether a project trainee's certificate would pass the checks of a
/// training-subsidy claim (`place` is `(held_here, lives_here)` as for [`s7_place`]; the
/// caller checks that the certificate is the trainee's, [`s7_own_certificate`]).
pub fn s9_trainee_counts(
    p: &Person,
    t: &Training,
    cert: &Certificate,
    place: (bool, bool),
    history: &[Grant<'_>],
    cap: i64,
    max_years: i64,
) -> bool {
    s8_no_monthly_pension(p).is_ok()
        && s7_place(place.0, place.1).is_ok()
        && s7_yearly_cap(history, cert.issued.year(), cap).is_ok()
        && s7_same_occupation_level(history, &cert.occupation, cert.level).is_ok()
        && p8_business_age(p, Some(t), max_years).is_ok()
}

// ---- S12 in the system ------------------------------------------------------------------------

/// S12: training not in the system earns no subsidy.
pub fn s12_in_system(training: Option<&Training>) -> Rule {
    rule(training.is_some_and(|t| t.in_system), "S12.not_in_system")
}

/// S12 for a project: every listed training is in the system.
pub fn s12_all_in_system<'t>(mut trainings: impl Iterator<Item = &'t Training>) -> Rule {
    rule(trainings.all(|t| t.in_system), "S12.not_in_system")
}

// ---- E1b equipment --------------------------------------------------------------------------

/// E1b: the equipment was accepted by finance and HR.
pub fn e1b_accepted(accepted: bool) -> Rule {
    rule(accepted, "E1b.not_accepted")
}

/// E1b: the grant is one-off: none granted before for the same facility.
pub fn e1b_once_per_facility(granted_before: bool) -> Rule {
    rule(!granted_before, "E1b.facility_granted")
}

/// E1b: the grant (`raw`) is capped by facility: the amount paid, and `Err` when capped.
pub fn e1b_cap(raw: i64, cap: i64) -> (i64, Rule) {
    (raw.min(cap), rule(raw <= cap, "E1b.capped"))
}

// ---- P8 entrepreneurship ------------------------------------------------------------------

/// P8: an owner's business started less than `max_years` before the entrepreneurship training.
pub fn p8_business_age(p: &Person, training: Option<&Training>, max_years: i64) -> Rule {
    match (training, p.business_started) {
        (Some(t), Some(started)) if t.kind == TrainingKind::Entrepreneurship => {
            rule(t.start < add_months(started, max_years * 12), "P8.business_too_old")
        }
        _ => Ok(()),
    }
}

// ---- reasons --------------------------------------------------------------------------------

/// The plain words of each reason code.
pub fn reason(code: &'static str) -> Reason {
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
        "E1b.facility_granted" => {
            ("该基地（工作室）已获一次性补助，不再补助", "this facility already received its one-off grant")
        }
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
