//! One function per claim kind: the rules of that kind in the order they are checked, the
//! amount, the payee and fund, and what an approved claim adds to the run's history.

use super::rules::*;
use super::{pct, Ctx, Grant, Run};
use crate::case::{Claim, ClaimKind, Facility, Refs, Stage};
use crate::decision::{Clause, Decision, Fund, Outcome, Payee};
use crate::params::Key;
use chrono::Datelike;
use jineng_domain::TrainingKind;

/// `training_subsidy` (S7, S1 payee, P8) and `skill_upgrade_subsidy` (S3), both with S12, S8
/// and the S7 checks.
pub(super) fn certificate_subsidy<'a>(
    run: &mut Run<'a>,
    claim: &'a Claim,
    refs: &Refs,
    mut ctx: Ctx<'a>,
) -> Decision<'a> {
    let c = run.c;
    let case = &c.case;
    let pix = refs.person;
    let person_id: &'a str = claim.person.as_deref().unwrap_or_default();
    let pi = pix.unwrap_or_default();
    let p = &case.people[pi];
    let ci = refs.certificate.unwrap_or_default();
    let cert = &case.certificates[ci];
    let t = c.cert_training[ci].map(|i| &case.trainings[i]);
    let date = cert.issued;
    let history = &run.history[pi];
    let upgrade = claim.kind == ClaimKind::SkillUpgradeSubsidy;
    if upgrade {
        let months = ctx.param(Key::UpgradeMinInsuredMonths, date);
        ctx.check("s3_employee", Clause::S3, s3_employee(p, date));
        ctx.check("s3_insured_long_enough", Clause::S3, s3_insured_long_enough(p, date, months));
    }
    ctx.check("s12_in_system", Clause::S12, s12_in_system(t));
    ctx.check("s8_no_monthly_pension", Clause::S8, s8_no_monthly_pension(p));
    let held = c.cert_training[ci].is_none_or(|ti| run.held_here[ti]);
    ctx.check("s7_place", Clause::S7, s7_place(held, run.lives_here[pi]));
    ctx.check("s7_own_certificate", Clause::S7, s7_own_certificate(c.cert_person[ci], pix));
    let cap = ctx.param(Key::CertificatesPerYear, date);
    ctx.check("s7_yearly_cap", Clause::S7, s7_yearly_cap(history, date.year(), cap));
    ctx.check("s7_same_occupation_level", Clause::S7, s7_same_occupation_level(history, &cert.occupation, cert.level));
    let other = if upgrade { ClaimKind::TrainingSubsidy } else { ClaimKind::SkillUpgradeSubsidy };
    ctx.check("s3_either_or", Clause::S3, s3_either_or(history, &cert.id, other));
    let (amount, payee, fund) = if upgrade {
        let amount = if ctx.check("s3_has_level", Clause::S3, s3_has_level(cert)) {
            ctx.param(Key::upgrade_level(cert.level.unwrap_or(5)), date)
        } else {
            0
        };
        (amount, Payee::Person(person_id), Fund::of(claim.kind))
    } else {
        if t.is_some_and(|t| t.kind == TrainingKind::Entrepreneurship) && p.business_started.is_some() {
            let years = ctx.param(Key::EntrepreneurshipMaxYears, date);
            ctx.check("p8_business_age", Clause::P8, p8_business_age(p, t, years));
        }
        let amount = ctx.training_subsidy(cert, t, date);
        let payee = match t {
            Some(t) if s1_free_training(p, t.start) => {
                ctx.clause(Clause::S1);
                Payee::Provider(&t.provider)
            }
            _ => Payee::Person(person_id),
        };
        (amount, payee, Fund::of(claim.kind))
    };
    let amount = if ctx.reasons.is_empty() { amount } else { 0 };
    let d = ctx.finish(claim, amount, amount, payee, fund);
    if d.outcome != Outcome::Rejected {
        let mut g = Grant::new(claim.kind);
        g.certificate = Some(&cert.id);
        g.occupation = Some(&cert.occupation);
        g.level = cert.level;
        g.date = Some(date);
        run.history[pi].push(g);
    }
    d
}

/// `living_allowance` (S2, S12): attended days at the daily rate in force on the training's start.
pub(super) fn living_allowance<'a>(run: &mut Run<'a>, claim: &'a Claim, refs: &Refs, mut ctx: Ctx<'a>) -> Decision<'a> {
    let c = run.c;
    let person_id: &'a str = claim.person.as_deref().unwrap_or_default();
    let pi = refs.person.unwrap_or_default();
    let p = &c.case.people[pi];
    let ti = refs.training.unwrap_or_default();
    let t = &c.case.trainings[ti];
    ctx.check("s2_own_training", Clause::S2, s2_own_training(c.training_person[ti], refs.person));
    ctx.check("s2_eligible_group", Clause::S2, s2_eligible_group(p, t.start));
    ctx.check("s12_in_system", Clause::S12, s12_in_system(Some(t)));
    let rate = ctx.param(Key::LivingFenPerDay, t.start);
    let amount = if ctx.reasons.is_empty() { t.attended_days * rate } else { 0 };
    let d = ctx.finish(claim, amount, amount, Payee::Person(person_id), Fund::of(claim.kind));
    if d.outcome != Outcome::Rejected {
        run.history[pi].push(Grant::new(ClaimKind::LivingAllowance));
    }
    d
}

/// `pre_job` (S3 new hire, S12, S5 no on-the-job subsidy for the same hire).
pub(super) fn pre_job<'a>(run: &mut Run<'a>, claim: &'a Claim, refs: &Refs, mut ctx: Ctx<'a>) -> Decision<'a> {
    let c = run.c;
    let employer: &'a str = claim.employer.as_deref().unwrap_or_default();
    let pi = refs.person.unwrap_or_default();
    let ti = refs.training.unwrap_or_default();
    let t = &c.case.trainings[ti];
    let own = Some(c.training_person[ti]) == refs.person;
    let employed = run.employed_on(refs.person, refs.employer, claim.filed, 0);
    ctx.check("s3_new_hire", Clause::S3, s3_new_hire(own, t, employer, employed));
    ctx.check("s12_in_system", Clause::S12, s12_in_system(Some(t)));
    ctx.check("s5_no_conflict", Clause::S5, s5_no_conflict(&run.history[pi], employer, ClaimKind::OnTheJob));
    let standard = ctx.param(Key::PreJobFen, claim.filed);
    let amount = if ctx.reasons.is_empty() { standard } else { 0 };
    let d = ctx.finish(claim, amount, amount, Payee::Employer(employer), Fund::of(claim.kind));
    if d.outcome != Outcome::Rejected {
        let mut g = Grant::new(ClaimKind::PreJob);
        g.employer = Some(employer);
        run.history[pi].push(g);
    }
    d
}

/// `on_the_job` (S5): eligibility by path (a) or (b), no pre-job subsidy for the same hire, and
/// at most the maximum months per person in all.
pub(super) fn on_the_job<'a>(run: &mut Run<'a>, claim: &'a Claim, refs: &Refs, mut ctx: Ctx<'a>) -> Decision<'a> {
    let c = run.c;
    let employer: &'a str = claim.employer.as_deref().unwrap_or_default();
    let pi = refs.person.unwrap_or_default();
    let p = &c.case.people[pi];
    let e = &c.case.employers[refs.employer.unwrap_or_default()];
    let filed = claim.filed;
    let employed = run.employed_on(refs.person, refs.employer, filed, 0);
    let poor_path = s5_poor_worker_path(p, e, filed);
    let hard_path = s5_hard_to_employ_path(p, e, filed, employed);
    let long_enough = poor_path && {
        let min = ctx.param(Key::OnTheJobMinEmploymentMonths, filed);
        run.employed_on(refs.person, refs.employer, filed, min)
    };
    ctx.check("s5_eligible", Clause::S5, s5_eligible(poor_path, employed, long_enough, hard_path));
    let history = &run.history[pi];
    ctx.check("s5_no_conflict", Clause::S5, s5_no_conflict(history, employer, ClaimKind::PreJob));
    let max = ctx.param(Key::OnTheJobMaxMonths, filed);
    let rate = ctx.param(Key::OnTheJobFenPerMonth, filed);
    let asked = claim.months.unwrap_or(0);
    let used: i64 = history.iter().filter(|g| g.kind == ClaimKind::OnTheJob).map(|g| g.months).sum();
    let (months, capped) = s5_months_cap(asked, max, used);
    let ok = ctx.reasons.is_empty();
    if ok && capped.is_err() {
        ctx.check("s5_months_cap", Clause::S5, capped);
    }
    let amount = if ok { months * rate } else { 0 };
    let d = ctx.finish(claim, amount, asked * rate, Payee::Employer(employer), Fund::of(claim.kind));
    if d.outcome != Outcome::Rejected {
        let mut g = Grant::new(ClaimKind::OnTheJob);
        g.employer = Some(employer);
        g.months = months;
        run.history[pi].push(g);
    }
    d
}

/// `apprenticeship` (S4, S12): years at the yearly rate.
pub(super) fn apprenticeship<'a>(run: &mut Run<'a>, claim: &'a Claim, refs: &Refs, mut ctx: Ctx<'a>) -> Decision<'a> {
    let c = run.c;
    let employer: &'a str = claim.employer.as_deref().unwrap_or_default();
    let person_id: &'a str = claim.person.as_deref().unwrap_or_default();
    let pi = refs.person.unwrap_or_default();
    let t = &c.case.trainings[refs.training.unwrap_or_default()];
    ctx.check("s4_apprenticeship", Clause::S4, s4_apprenticeship(t, person_id, employer));
    ctx.check("s12_in_system", Clause::S12, s12_in_system(Some(t)));
    let rate = ctx.param(Key::ApprenticeshipFenPerYear, claim.filed);
    let amount = if ctx.reasons.is_empty() { claim.years.unwrap_or(0) * rate } else { 0 };
    let d = ctx.finish(claim, amount, amount, Payee::Employer(employer), Fund::of(claim.kind));
    if d.outcome != Outcome::Rejected {
        let mut g = Grant::new(ClaimKind::Apprenticeship);
        g.employer = Some(employer);
        run.history[pi].push(g);
    }
    d
}

/// `equipment_grant` (E1b): a percentage of the equipment's value, capped by facility, once per
/// facility (一次性补助).
pub(super) fn equipment_grant<'a>(run: &mut Run<'a>, claim: &'a Claim, mut ctx: Ctx<'a>) -> Decision<'a> {
    let employer: &'a str = claim.employer.as_deref().unwrap_or_default();
    ctx.check("e1b_accepted", Clause::E1b, e1b_accepted(claim.accepted.unwrap_or(false)));
    if let Some(f) = claim.facility_ref.as_deref() {
        ctx.check("e1b_once_per_facility", Clause::E1b, e1b_once_per_facility(run.facilities.contains(f)));
    }
    let percent = ctx.param(Key::EquipmentPercent, claim.filed);
    let cap_key = match claim.facility {
        Some(Facility::MasterStudio) => Key::EquipmentCapStudio,
        _ => Key::EquipmentCapBase,
    };
    let cap = ctx.param(cap_key, claim.filed);
    let raw = pct(claim.equipment_value_fen.unwrap_or(0), percent);
    let (capped, within) = e1b_cap(raw, cap);
    let ok = ctx.reasons.is_empty();
    if ok && within.is_err() {
        ctx.check("e1b_cap", Clause::E1b, within);
    }
    let amount = if ok { capped } else { 0 };
    let d = ctx.finish(claim, amount, raw, Payee::Employer(employer), Fund::of(claim.kind));
    if d.outcome != Outcome::Rejected {
        if let Some(f) = claim.facility_ref.as_deref() {
            run.facilities.insert(f);
        }
    }
    d
}

/// `project_training` (S9 with S12): one advance, then one settlement that closes the project,
/// for a provider's project or an enterprise's own (by enterprises or providers, 企业或培训机构).
/// A settlement pays the training-subsidy standard of each listed trainee whose certificate
/// passes the checks of a training subsidy (S8, S7, P8), capped by the contract, less the
/// advances; the trainees it pays join the history as training subsidies.
pub(super) fn project_training<'a>(run: &mut Run<'a>, claim: &'a Claim, refs: &Refs, mut ctx: Ctx<'a>) -> Decision<'a> {
    let c = run.c;
    let case = &c.case;
    let project_id: &'a str = claim.project.as_deref().unwrap_or_default();
    // S9: a provider's project, or an enterprise's own (paid to the enterprise).
    let payee = match (claim.provider.as_deref(), claim.employer.as_deref()) {
        (None, Some(employer)) => Payee::Employer(employer),
        (provider, _) => Payee::Provider(provider.unwrap_or_default()),
    };
    let fund = Fund::of(claim.kind);
    let contract = claim.contract_fen.unwrap_or(0);
    let state = run.projects.entry(project_id).or_default();
    ctx.clause(Clause::S9);
    let not_settled = s9_not_settled(state.settled);
    if not_settled.is_err() {
        ctx.check("s9_not_settled", Clause::S9, not_settled);
        return ctx.finish(claim, 0, 0, payee, fund);
    }
    let stage = claim.stage.unwrap_or(Stage::Advance);
    let one_advance = s9_one_advance(stage == Stage::Advance, state.advanced);
    if one_advance.is_err() {
        ctx.check("s9_one_advance", Clause::S9, one_advance);
        return ctx.finish(claim, 0, 0, payee, fund);
    }
    let listed = refs.trainings.iter().map(|&ti| &case.trainings[ti]);
    let in_system = ctx.check("s12_in_system", Clause::S12, s12_all_in_system(listed));
    if stage == Stage::Settlement {
        state.settled = true;
    }
    if !in_system {
        return ctx.finish(claim, 0, 0, payee, fund);
    }
    if stage == Stage::Advance {
        let percent = ctx.param(Key::ProjectAdvancePercent, claim.filed);
        let amount = pct(contract, percent);
        state.advanced = true;
        state.advances += amount;
        return ctx.finish(claim, amount, amount, payee, fund);
    }
    let advances = state.advances;
    let mut sum = 0i64;
    let mut paid: Vec<&'a str> = Vec::new();
    for &ti in &refs.trainings {
        let t = &case.trainings[ti];
        let Some(&ci) = run.certs_of[ti].first() else { continue };
        let cert = &case.certificates[ci];
        let pi = c.training_person[ti];
        let p = &case.people[pi];
        let date = cert.issued;
        let cap = ctx.param(Key::CertificatesPerYear, date);
        let years = ctx.param(Key::EntrepreneurshipMaxYears, date);
        let own = s7_own_certificate(c.cert_person[ci], Some(pi)).is_ok();
        let place = (run.held_here[ti], run.lives_here[pi]);
        if !(own && s9_trainee_counts(p, t, cert, place, &run.history[pi], cap, years)) {
            continue;
        }
        sum += ctx.training_subsidy(cert, Some(t), date);
        paid.push(&cert.id);
        let mut g = Grant::new(ClaimKind::TrainingSubsidy);
        g.certificate = Some(&cert.id);
        g.occupation = Some(&cert.occupation);
        g.level = cert.level;
        g.date = Some(date);
        run.history[pi].push(g);
    }
    ctx.clause(Clause::S7);
    let total = sum.min(contract) - advances;
    let covers = s9_settlement_covers_advance(total);
    let mut d = if covers.is_ok() {
        ctx.decide(claim, Outcome::Approved, total, payee, fund)
    } else {
        ctx.check("s9_settlement_covers_advance", Clause::S9, covers);
        ctx.decide(claim, Outcome::Recover, -total, payee, fund)
    };
    d.certificates_paid = paid;
    d
}
