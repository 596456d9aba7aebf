//! The policy case of some people's histories, built as typed values (never JSON text parsed
//! again), and its decision: what a stored claim keeps of it.

use super::{EmployerFact, History};
use crate::{Result, StoreError};
use jineng_domain::{Invalid, PriorityGroup, TrainingKind};
use jineng_policy::case::ClaimKind;
use jineng_policy::case::{self, Case, Certificate, Claim, Employer, Employment, Granted, Group, Person, Training};
use jineng_policy::decision::{Fund, Outcome};
use jineng_policy::{Engine, Params};
use serde::de::DeserializeOwned;
use std::collections::HashMap;

/// A value stored as its snake_case code, read back into a policy enum.
fn code<T: DeserializeOwned>(what: &str, s: &str) -> Result<T> {
    serde_json::from_value(serde_json::Value::String(s.to_owned())).map_err(|_| bad(what, s))
}

fn bad(what: &str, value: &str) -> StoreError {
    StoreError::invalid(
        what,
        Invalid::new("case.unknown_code", format!("登记的取值无法识别：{value}"), format!("unknown code {value:?}")),
    )
}

/// The case id of an enrolment (a training) and of a certificate.
pub(crate) fn training_ref(enrolment_id: i64) -> String {
    format!("e{enrolment_id}")
}

/// The case id of a certificate.
pub(crate) fn certificate_ref(certificate_id: i64) -> String {
    format!("c{certificate_id}")
}

/// The case of some people's histories, with the employers they refer to, further history
/// and the claims to decide. References to employers outside `employers` are left out.
pub(crate) fn case_of(
    hs: &[&History],
    employers: &[EmployerFact],
    mut granted: Vec<Granted>,
    claims: Vec<Claim>,
) -> Result<Case> {
    let known =
        |code: &Option<String>| code.as_ref().filter(|c| employers.iter().any(|e| &e.credit_code == *c)).cloned();
    let mut people = Vec::with_capacity(hs.len());
    let mut trainings = Vec::new();
    let mut certificates = Vec::new();
    let mut employments = Vec::new();
    for h in hs {
        let p = &h.person;
        let groups = h
            .groups
            .iter()
            .map(|g| {
                let code = &g.group_code;
                Ok(Group {
                    group: PriorityGroup::parse(code).map_err(|_| bad("group", code))?,
                    from: g.from_date,
                    to: g.to_date,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        people.push(Person {
            id_number: p.id_number.clone(),
            name: p.name.clone(),
            hukou: p.hukou_county.clone().unwrap_or_else(|| p.county_code.clone()),
            residence: p.county_code.clone(),
            work: p.work_county.clone(),
            rural: p.rural,
            monthly_pension: p.monthly_pension,
            insured_since: p.insured_since,
            business_started: p.business_started,
            groups,
        });
        for t in &h.trainings {
            let days = t.training_days.unwrap_or_else(|| (t.end_date - t.start_date).num_days() + 1);
            trainings.push(Training {
                id: training_ref(t.enrolment_id),
                person: p.id_number.clone(),
                kind: TrainingKind::parse(&t.kind).map_err(|_| bad("training.kind", &t.kind))?,
                occupation: t.occupation_code.clone(),
                level: t.level.and_then(|l| u8::try_from(l).ok()),
                county: t.county_code.clone(),
                provider: t.provider_code.clone(),
                employer: known(&t.employer_code),
                start: t.start_date,
                end: t.end_date,
                days,
                attended_days: t.attended.min(days),
                in_system: matches!(t.status.as_str(), "approved" | "closed"),
                project_based: t.project_based,
                standard_fen: t.standard_fen,
            });
        }
        for c in &h.certificates {
            certificates.push(Certificate {
                id: certificate_ref(c.certificate_id),
                person: p.id_number.clone(),
                training: c.enrolment_id.map(training_ref),
                kind: code("certificate.kind", &c.kind)?,
                occupation: c.occupation_code.clone(),
                level: c.level.and_then(|l| u8::try_from(l).ok()),
                issued: c.issued_on,
                serial: c.serial.clone(),
            });
        }
        for g in &h.granted {
            let months = g
                .request
                .as_deref()
                .and_then(|r| serde_json::from_str::<serde_json::Value>(r).ok())
                .and_then(|r| r.get("months").and_then(serde_json::Value::as_i64));
            granted.push(Granted {
                kind: Some(ClaimKind::parse(&g.kind).map_err(|_| bad("claim.kind", &g.kind))?),
                person: Some(p.id_number.clone()),
                certificate: g.certificate_id.map(certificate_ref),
                employer: known(&g.employer_code),
                months,
                date: Some(g.filed_on),
                amount_fen: Some(g.amount_fen),
                ..Granted::default()
            });
        }
        for e in h.employments.iter().filter(|e| employers.iter().any(|x| x.credit_code == e.employer_code)) {
            employments.push(Employment {
                person: p.id_number.clone(),
                employer: e.employer_code.clone(),
                from: e.from_date,
                to: e.to_date,
            });
        }
    }
    let employers = employers
        .iter()
        .map(|e| {
            Ok(Employer {
                credit_code: e.credit_code.clone(),
                name: e.name.clone(),
                kind: code("employer.kind", &e.kind)?,
                insured: e.insured,
                county: e.county_code.clone(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let name = hs.first().map(|h| format!("{} 的申请", h.person.name)).unwrap_or_else(|| "单位申请".into());
    Ok(Case {
        format: case::FORMAT.into(),
        name,
        exercises: Vec::new(),
        parameters: None,
        people,
        employers,
        employments,
        trainings,
        certificates,
        granted,
        claims,
        expect: None,
    })
}

/// A decision as a stored claim keeps it.
#[derive(Debug, Clone)]
pub(crate) struct Decided {
    pub outcome: Outcome,
    /// Amount, fen (never negative).
    pub amount_fen: i64,
    /// Payee (JSON).
    pub payee: String,
    pub fund: Fund,
    /// The whole decision (JSON).
    pub json: String,
    /// A settlement: the certificates (ids) whose training subsidies it paid.
    pub certificates_paid: Vec<i64>,
}

/// Decides every claim of `case`: the case as stored (the snapshot) and each decision by claim id.
pub(crate) fn decide(case: Case, params: &Params, region: &str) -> Result<(String, HashMap<String, Decided>)> {
    let snapshot = serde_json::to_string(&case).map_err(|e| bad("case", &e.to_string()))?;
    let checked = case::check(case).map_err(|e| {
        StoreError::invalid(
            "case",
            Invalid::new(
                "case.invalid",
                format!("登记信息不完整：{e}"),
                format!("the registry's facts do not form a case: {e}"),
            ),
        )
    })?;
    let decisions = Engine::new(params, region).decide(&checked);
    let mut out = HashMap::with_capacity(decisions.len());
    for d in &decisions {
        let json = serde_json::to_string(d).map_err(|e| bad("decision", &e.to_string()))?;
        let payee = serde_json::to_string(&d.payee).map_err(|e| bad("payee", &e.to_string()))?;
        out.insert(
            d.claim.to_owned(),
            Decided {
                outcome: d.outcome,
                amount_fen: d.amount_fen.max(0),
                payee,
                fund: d.fund,
                json,
                certificates_paid: d
                    .certificates_paid
                    .iter()
                    .filter_map(|c| c.strip_prefix('c').and_then(|n| n.parse().ok()))
                    .collect(),
            },
        );
    }
    Ok((snapshot, out))
}

/// The rules checked for the claim `claim` (its id in the case) of a stored snapshot, in the
/// order the engine checked them: the snapshot decided again, explaining. Values of a parameter
/// are only ever scheduled from a future date, so the dates of a stored case find the values
/// it was decided with; `None` when the decision made again is not `outcome` and `amount_fen`
/// (then no trace is shown rather than one that did not decide the claim).
pub(crate) fn trace(
    snapshot: &str,
    claim: &str,
    outcome: &str,
    amount_fen: i64,
    params: &Params,
    region: &str,
) -> Option<Vec<jineng_policy::decision::Check>> {
    let checked = jineng_policy::parse(snapshot).ok()?;
    let decisions = Engine::new(params, region).explaining().decide(&checked);
    let d = decisions.into_iter().find(|d| d.claim == claim)?;
    (d.outcome.code() == outcome && d.amount_fen.max(0) == amount_fen).then_some(d.checks)
}
