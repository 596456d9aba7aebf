//! Money only on trusted facts: a granted claim that rests on a fact only declared (by a
//! provider's roster, an employer's filing, anyone who is not the authority that keeps the
//! fact) is stored held, `needs_verification`, naming each such fact; the county verifies them
//! (they become `county_verified`, with who and when) and only then reviews the claim. Which
//! facts a claim kind rests on is the policy crate's call ([`jineng_policy::opening_facts`]).

use super::{History, NewClaim};
use crate::facts::trusted;
use chrono::NaiveDate;
use jineng_policy::case::ClaimKind;
use jineng_policy::OpeningFact;
use serde::{Deserialize, Serialize};

/// A declared fact a held claim rests on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HeldFact {
    /// `group`, `rural`, `insured_since`, `employment`.
    pub fact: String,
    /// What the record states: a group code, `true`, a date, an employer's credit code.
    pub value: String,
    /// The record to verify: `person_group:12`, `employment:3`, `person:7:rural`.
    pub record: String,
    /// In words, Chinese then English.
    pub words: String,
}

fn in_force(from: NaiveDate, to: Option<NaiveDate>, on: NaiveDate) -> bool {
    from <= on && to.is_none_or(|t| t >= on)
}

/// The declared facts a decided claim rests on: empty when the claim was refused, or every fact
/// it rests on comes from an authority or the county. `on`: the dates the facts must hold on
/// (the training's start, the issue or filing date); `employer`: the filing employer's code.
pub(crate) fn held_for(
    h: &History,
    kind: ClaimKind,
    claim: &NewClaim,
    on: &[NaiveDate],
    employer: Option<&str>,
) -> Vec<HeldFact> {
    if claim.outcome == "rejected" || claim.amount_fen == 0 {
        return Vec::new();
    }
    let to_provider = claim.payee.contains("\"provider\"");
    let mut out = Vec::new();
    let person = h.person.person_id;
    for fact in jineng_policy::opening_facts(kind, to_provider) {
        match fact {
            OpeningFact::Groups => {
                // A declaration matters only where no register (or the county) states the same
                // group on that date.
                let confirmed = |code: &str, d: NaiveDate| {
                    h.groups
                        .iter()
                        .any(|t| t.group_code == code && trusted(&t.source) && in_force(t.from_date, t.to_date, d))
                };
                for g in h.groups.iter().filter(|g| !trusted(&g.source)) {
                    if on.iter().any(|d| in_force(g.from_date, g.to_date, *d) && !confirmed(&g.group_code, *d)) {
                        let zh =
                            jineng_domain::PriorityGroup::parse(&g.group_code).map(|p| p.zh()).unwrap_or("人员类别");
                        out.push(HeldFact {
                            fact: "group".into(),
                            value: g.group_code.clone(),
                            record: format!("person_group:{}", g.person_group_id),
                            words: format!(
                                "人员类别“{zh}”（自{}）为申报，未经核实 / group {} is declared",
                                g.from_date, g.group_code
                            ),
                        });
                    }
                }
            }
            OpeningFact::Rural => {
                let source = h.person.rural_source.as_deref().unwrap_or("declared");
                if h.person.rural && !trusted(source) {
                    out.push(HeldFact {
                        fact: "rural".into(),
                        value: "true".into(),
                        record: format!("person:{person}:rural"),
                        words: "农村户籍为申报，未经核实 / rural hukou is declared".into(),
                    });
                }
            }
            OpeningFact::InsuredSince => {
                let source = h.person.insured_source.as_deref().unwrap_or("declared");
                if let (Some(since), false) = (h.person.insured_since, trusted(source)) {
                    out.push(HeldFact {
                        fact: "insured_since".into(),
                        value: since.to_string(),
                        record: format!("person:{person}:insured_since"),
                        words: format!("参保起始日期 {since} 为申报，未经核实 / insured since {since} is declared"),
                    });
                }
            }
            OpeningFact::Employment => {
                let confirmed =
                    h.employments.iter().any(|t| trusted(&t.source) && Some(t.employer_code.as_str()) == employer);
                for e in h
                    .employments
                    .iter()
                    .filter(|e| !confirmed && !trusted(&e.source) && Some(e.employer_code.as_str()) == employer)
                {
                    out.push(HeldFact {
                        fact: "employment".into(),
                        value: e.employer_code.clone(),
                        record: e.employment_id.map(|id| format!("employment:{id}")).unwrap_or_else(|| {
                            format!("employment:new:{}:{}", e.employer_code, e.from_date)
                        }),
                        words: format!(
                            "自{}起在本单位就业为用人单位申报，未经核实 / employment from {} is declared by the employer",
                            e.from_date, e.from_date
                        ),
                    });
                }
            }
        }
    }
    out
}

/// Marks a new claim held when it rests on declared facts (see [`held_for`]).
pub(crate) fn hold(c: &mut NewClaim, h: &History, kind: ClaimKind, on: &[NaiveDate], employer: Option<&str>) {
    let facts = held_for(h, kind, c, on, employer);
    if !facts.is_empty() {
        c.held_for = serde_json::to_string(&facts).ok();
    }
}

/// The dates the facts of a claim must hold on: its filing date and, for a claim about one
/// training (`e{enrolment}`), the training's start.
pub(crate) fn dates(h: &History, training: Option<&str>, filed: NaiveDate) -> Vec<NaiveDate> {
    let start = training
        .and_then(|t| t.strip_prefix('e'))
        .and_then(|t| t.parse::<i64>().ok())
        .and_then(|e| h.trainings.iter().find(|t| t.enrolment_id == e))
        .map(|t| t.start_date);
    std::iter::once(filed).chain(start).collect()
}
