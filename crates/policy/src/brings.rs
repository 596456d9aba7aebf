//! What an event brings: the claims a set of newly issued certificates of one person brings,
//! as the plan allows. The web, the CLI and the demo file these claims; the rules that decide
//! them are in [`crate::engine`].
//!
//! Per certificate, in order of issue (ties in file order): a skill-upgrade subsidy (S3) when
//! the person is an insured employee, the certificate has a level and a trial run grants it;
//! else a training subsidy (S7), except for a project-based training, which is paid to the
//! provider by settlement (S9). Then the certificate's training brings one living allowance
//! (S2) when the person was in an S2 group on its start, at most one per training.

use crate::case::{check, BadInput, Case, Certificate, Claim, ClaimKind, Person};
use crate::decision::Outcome;
use crate::engine::{member, Engine};
use chrono::NaiveDate;
use jineng_domain::PriorityGroup;

/// S2: the groups entitled to a living allowance during training (rural school leavers too,
/// see [`s2_living_allowance_group`]).
pub const S2_GROUPS: &[PriorityGroup] = &[
    PriorityGroup::PoorWorker,
    PriorityGroup::HardToEmploy,
    PriorityGroup::ZeroEmploymentFamily,
    PriorityGroup::UrbanDibao,
];

/// S2: whether a person is entitled to a living allowance for a training starting on `start`:
/// in one of [`S2_GROUPS`], or a rural school leaver, on that date.
pub fn s2_living_allowance_group(p: &Person, start: NaiveDate) -> bool {
    S2_GROUPS.iter().any(|g| member(p, *g, start)) || (p.rural && member(p, PriorityGroup::SchoolLeaver, start))
}

/// A registry fact that opens the way to money for some claim kind: what a rule reads as "is
/// in the group", "has rural hukou", "insured since", "employed by the filing employer".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpeningFact {
    /// Priority-group memberships (S1 free training, S2, S3 employee, S5 paths).
    Groups,
    /// Rural hukou (S2: rural school leavers).
    Rural,
    /// Insured since (S3: the skill-upgrade subsidy's insured months).
    InsuredSince,
    /// Employment by the filing employer (S3 new hire, S5).
    Employment,
}

/// The facts whose truth a claim of `kind` rests on when the engine grants it: a grant resting
/// on one that was only declared (not from an authority's register nor verified by the county)
/// waits for the county's verification. `paid_to_provider`: a training subsidy paid to the
/// provider because the trainee is in an S1 group (free training) rests on the groups.
pub fn opening_facts(kind: ClaimKind, paid_to_provider: bool) -> &'static [OpeningFact] {
    use OpeningFact::*;
    match kind {
        ClaimKind::TrainingSubsidy if paid_to_provider => &[Groups],
        ClaimKind::SkillUpgradeSubsidy => &[Groups, InsuredSince],
        ClaimKind::LivingAllowance => &[Groups, Rural],
        ClaimKind::PreJob => &[Employment],
        ClaimKind::OnTheJob => &[Groups, Employment],
        _ => &[],
    }
}

fn bad(path: String, message: String) -> BadInput {
    BadInput { path, message }
}

/// The claims that the newly issued `certificates` (ids) of `person` (ID number) bring, filed
/// on each certificate's issue date: `skill_upgrade_subsidy` or `training_subsidy` with id
/// `"{kind}:{certificate id}"`, each followed by a `living_allowance` with id
/// `"living_allowance:{training id}"` where one is due. The skill-upgrade candidates are
/// decided together in one trial run on a copy of `case` (its own `claims` are ignored).
/// An unknown person, certificate or training, or a certificate of someone else, is bad input.
pub fn claims_brought_by(
    engine: &Engine<'_>,
    case: &Case,
    person: &str,
    certificates: &[&str],
) -> Result<Vec<Claim>, BadInput> {
    let p = case
        .people
        .iter()
        .find(|p| p.id_number.eq_ignore_ascii_case(person))
        .ok_or_else(|| bad("person".into(), format!("unknown person \"{person}\"")))?;
    let mut certs: Vec<(usize, &Certificate)> = Vec::with_capacity(certificates.len());
    for (i, id) in certificates.iter().enumerate() {
        let path = || format!("certificates[{i}]");
        let found = case.certificates.iter().enumerate().find(|(_, c)| c.id == *id);
        let (ci, c) = found.ok_or_else(|| bad(path(), format!("unknown certificate \"{id}\"")))?;
        if !c.person.eq_ignore_ascii_case(&p.id_number) {
            return Err(bad(path(), format!("certificate \"{id}\" is not held by \"{person}\"")));
        }
        certs.push((ci, c));
    }
    certs.sort_by_key(|&(ci, c)| (c.issued, ci));
    certs.dedup_by_key(|&mut (ci, _)| ci);

    let certificate_claim = |kind: ClaimKind, c: &Certificate| {
        let mut claim = Claim::new(format!("{}:{}", kind.code(), c.id), kind, c.issued);
        claim.person = Some(p.id_number.clone());
        claim.certificate = Some(c.id.clone());
        claim
    };

    // S3 before S7: the skill-upgrade candidates, decided in one trial run.
    let candidates: Vec<Claim> = certs
        .iter()
        .filter(|(_, c)| p.insured_since.is_some() && member(p, PriorityGroup::Employee, c.issued) && c.level.is_some())
        .map(|(_, c)| certificate_claim(ClaimKind::SkillUpgradeSubsidy, c))
        .collect();
    let mut upgraded: Vec<String> = Vec::new();
    if !candidates.is_empty() {
        let checked = check(with_claims(case, candidates))?;
        for d in engine.decide(&checked) {
            if matches!(d.outcome, Outcome::Approved | Outcome::Reduced) {
                upgraded.push(d.claim.to_owned());
            }
        }
    }

    let mut out = Vec::with_capacity(certs.len() * 2);
    let mut allowances: Vec<&str> = Vec::new();
    for (_, c) in &certs {
        let training = match &c.training {
            Some(id) => Some(
                case.trainings
                    .iter()
                    .find(|t| t.id == *id)
                    .ok_or_else(|| bad(format!("certificate {}", c.id), format!("unknown training \"{id}\"")))?,
            ),
            None => None,
        };
        // S9: a project-based class is paid to the provider by settlement, not per certificate.
        if !training.is_some_and(|t| t.project_based) {
            let upgrade = certificate_claim(ClaimKind::SkillUpgradeSubsidy, c);
            if upgraded.contains(&upgrade.id) {
                out.push(upgrade);
            } else {
                out.push(certificate_claim(ClaimKind::TrainingSubsidy, c));
            }
        }
        // S2: one living allowance per training.
        if let Some(t) = training {
            if s2_living_allowance_group(p, t.start) && !allowances.contains(&t.id.as_str()) {
                allowances.push(&t.id);
                let mut claim = Claim::new(format!("living_allowance:{}", t.id), ClaimKind::LivingAllowance, c.issued);
                claim.person = Some(p.id_number.clone());
                claim.training = Some(t.id.clone());
                out.push(claim);
            }
        }
    }
    Ok(out)
}

/// The claims the end of a training brings its trainee (S2: 在培训期间给予生活费补贴): one living
/// allowance when the person was in an S2 group on the training's start, decided from the days
/// attended, whether or not they pass; id `"living_allowance:{training id}"`, filed on `filed`
/// (the day the class ended or was closed). The same claim as a certificate of the training
/// brings, so it is filed once.
pub fn claims_at_training_end(case: &Case, training: &str, filed: NaiveDate) -> Result<Vec<Claim>, BadInput> {
    let t = case
        .trainings
        .iter()
        .find(|t| t.id == training)
        .ok_or_else(|| bad("training".into(), format!("unknown training \"{training}\"")))?;
    let p = case
        .people
        .iter()
        .find(|p| p.id_number.eq_ignore_ascii_case(&t.person))
        .ok_or_else(|| bad("training".into(), format!("unknown trainee \"{}\"", t.person)))?;
    if !s2_living_allowance_group(p, t.start) {
        return Ok(vec![]);
    }
    let mut claim = Claim::new(format!("living_allowance:{}", t.id), ClaimKind::LivingAllowance, filed);
    claim.person = Some(p.id_number.clone());
    claim.training = Some(t.id.clone());
    Ok(vec![claim])
}

/// A copy of a case with other claims and no expectations.
fn with_claims(case: &Case, claims: Vec<Claim>) -> Case {
    Case {
        format: case.format.clone(),
        name: case.name.clone(),
        exercises: Vec::new(),
        parameters: case.parameters.clone(),
        people: case.people.clone(),
        employers: case.employers.clone(),
        employments: case.employments.clone(),
        trainings: case.trainings.clone(),
        certificates: case.certificates.clone(),
        granted: case.granted.clone(),
        claims,
        expect: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::{CertKind, Group, Training};
    use crate::params::Params;

    const ID: &str = "411702199205100216";

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn group(g: PriorityGroup) -> Group {
        Group { group: g, from: d("2015-01-01"), to: None }
    }

    /// One person with training `t1` (in the city, in the system) and certificates `c1`, `c2`
    /// of it (levels 4 and 3, issued in 2020).
    fn case(insured: bool, groups: Vec<Group>, project_based: bool) -> Case {
        let mut case = Case::new("brings");
        case.people.push(Person {
            id_number: ID.into(),
            name: "王小红".into(),
            hukou: "411702".into(),
            residence: "411702".into(),
            insured_since: insured.then(|| d("2016-01-01")),
            groups,
            ..Person::default()
        });
        case.trainings.push(Training {
            id: "t1".into(),
            person: ID.into(),
            occupation: "4-10-01-05".into(),
            county: "411702".into(),
            provider: "52411702MA3X00010J".into(),
            start: d("2020-03-02"),
            end: d("2020-03-20"),
            days: 15,
            attended_days: 15,
            in_system: true,
            project_based,
            ..Training::default()
        });
        for (id, level, issued) in [("c1", 4, "2020-04-01"), ("c2", 3, "2020-05-01")] {
            case.certificates.push(Certificate {
                id: id.into(),
                person: ID.into(),
                training: Some("t1".into()),
                kind: CertKind::SkillLevel,
                occupation: "4-10-01-05".into(),
                level: Some(level),
                issued: d(issued),
                serial: format!("S-{id}"),
            });
        }
        case
    }

    fn brought(case: &Case, certificates: &[&str]) -> Vec<String> {
        let params = Params::shipped();
        let engine = Engine::new(&params, "411700");
        claims_brought_by(&engine, case, ID, certificates).unwrap().into_iter().map(|c| c.id).collect()
    }

    #[test]
    fn an_insured_employee_with_a_level_gets_the_skill_upgrade_subsidy() {
        let case = case(true, vec![group(PriorityGroup::Employee)], false);
        assert_eq!(brought(&case, &["c1"]), ["skill_upgrade_subsidy:c1"]);
    }

    #[test]
    fn without_insurance_it_is_a_training_subsidy() {
        let case = case(false, vec![group(PriorityGroup::Employee)], false);
        assert_eq!(brought(&case, &["c1"]), ["training_subsidy:c1"]);
    }

    #[test]
    fn an_insured_employee_the_trial_refuses_gets_a_training_subsidy() {
        // Insured only since 2020-01-01: not the 12 months S3 asks on 2020-04-01.
        let mut case = case(true, vec![group(PriorityGroup::Employee)], false);
        case.people[0].insured_since = Some(d("2020-01-01"));
        assert_eq!(brought(&case, &["c1"]), ["training_subsidy:c1"]);
    }

    #[test]
    fn a_project_based_training_brings_no_certificate_claim() {
        let case = case(false, vec![], true);
        assert!(brought(&case, &["c1", "c2"]).is_empty());
    }

    #[test]
    fn an_s2_group_member_gets_one_living_allowance_per_training() {
        let case = case(false, vec![group(PriorityGroup::PoorWorker)], false);
        // Given out of order: decided in order of issue.
        let claims = brought(&case, &["c2", "c1"]);
        assert_eq!(claims, ["training_subsidy:c1", "living_allowance:t1", "training_subsidy:c2"]);
    }

    #[test]
    fn the_claims_carry_person_certificate_training_and_issue_date() {
        let case = case(false, vec![group(PriorityGroup::UrbanDibao)], false);
        let params = Params::shipped();
        let claims = claims_brought_by(&Engine::new(&params, "411700"), &case, ID, &["c1"]).unwrap();
        assert_eq!(claims[0].kind, ClaimKind::TrainingSubsidy);
        assert_eq!(claims[0].certificate.as_deref(), Some("c1"));
        assert_eq!(claims[1].kind, ClaimKind::LivingAllowance);
        assert_eq!(claims[1].training.as_deref(), Some("t1"));
        assert!(claims.iter().all(|c| c.person.as_deref() == Some(ID) && c.filed == d("2020-04-01")));
        // The claims decide as a case: both approved.
        let mut case = case;
        case.claims = claims;
        let decisions = Engine::new(&params, "411700").decide(&check(case).unwrap()).len();
        assert_eq!(decisions, 2);
    }

    #[test]
    fn a_rural_school_leaver_is_in_an_s2_group_an_urban_one_is_not() {
        let mut p = Person { groups: vec![group(PriorityGroup::SchoolLeaver)], ..Person::default() };
        assert!(!s2_living_allowance_group(&p, d("2020-03-02")));
        p.rural = true;
        assert!(s2_living_allowance_group(&p, d("2020-03-02")));
    }

    #[test]
    fn an_unknown_certificate_or_someone_elses_is_bad_input() {
        let mut case = case(false, vec![], false);
        let params = Params::shipped();
        let engine = Engine::new(&params, "411700");
        assert!(claims_brought_by(&engine, &case, ID, &["c9"]).is_err());
        case.certificates[0].person = "411702199205100224".into();
        assert!(claims_brought_by(&engine, &case, ID, &["c1"]).is_err());
    }

    #[test]
    fn the_end_of_a_training_brings_a_living_allowance_to_an_s2_member_only() {
        let end = d("2020-06-30");
        let none = claims_at_training_end(&case(false, vec![], false), "t1", end).unwrap();
        assert!(none.is_empty());
        let poor = case(false, vec![group(PriorityGroup::PoorWorker)], false);
        let got = claims_at_training_end(&poor, "t1", end).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(
            (got[0].kind, got[0].id.as_str(), got[0].filed),
            (ClaimKind::LivingAllowance, "living_allowance:t1", end)
        );
        assert!(claims_at_training_end(&poor, "t9", end).is_err());
    }
}
