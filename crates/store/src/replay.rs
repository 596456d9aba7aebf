//! `jineng replay`: a `jineng-case/1` case loaded into a fresh database through the registry's
//! real write paths, and its claims filed through the live filing path in `filed` order. The
//! decisions it prints are the ones the live system stores: equal to the engine's decisions
//! of the case itself, or the live path lost (or added) a fact.
//!
//! What goes where, as a bureau would record it:
//! - people: registered by the city office (residence), then the authorities' registers state
//!   their facts (poverty roster: groups with periods; civil affairs: hukou and rural hukou;
//!   social insurance: insured since, pension; employment records; market regulation: business);
//! - employers, providers and one assessment body: the catalogs (a legacy credit code is taken
//!   with its warning); occupations outside the national catalog: the city's supplementary list;
//! - trainings: class applications with their rosters (a project's trainings are one class),
//!   approved by the county when the training is in the system; check-ins for the days
//!   attended; certificates: the assessment body's results;
//! - parameters: values the city schedules (from the case's first date, or the day after the
//!   shipped file's last version of the key);
//! - subsidies granted before: claims filed and decided before the case's claims;
//! - claims: workers file certificate subsidies and living allowances, employers and providers
//!   their claims, each on its filing date.
//!
//! A case the live system cannot hold (a value the plan fixes, one person in two classes at
//! once, …) is refused with what and why: [`ReplayError::Unsupported`].

use crate::audit::Actor;
use crate::claims::{file_request, ClaimRequest, Filer};
use crate::registers::{self, Register};
use crate::training::{self, Application, NewClass};
use crate::{
    assessment, attendance, catalog, facilities, orgs, parameters, people, plan, users, with_pool, Db, StoreError,
};
use chrono::NaiveDate;
use jineng_domain::{ClassAction, CreditCode, IdNumber, Role, SkillLevel};
use jineng_policy::case::{Checked, ClaimKind, Facility, Stage};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Why a case was not replayed.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The case holds something the live system has no place for.
    #[error("the live system cannot hold {0}")]
    Unsupported(String),
    /// A write path refused a fact of the case.
    #[error("{step}: {}", detail(.error))]
    Refused {
        /// What was being recorded.
        step: String,
        /// The refusal.
        error: StoreError,
    },
}

/// A refusal with every row it names.
fn detail(e: &StoreError) -> String {
    match e {
        StoreError::Rows(rows) => {
            rows.iter().map(|(path, r)| format!("{path}: {} / {}", r.zh, r.en)).collect::<Vec<_>>().join("; ")
        }
        other => other.to_string(),
    }
}

type Out<T> = std::result::Result<T, ReplayError>;

fn at<T>(step: impl Into<String>, r: crate::Result<T>) -> Out<T> {
    r.map_err(|error| ReplayError::Refused { step: step.into(), error })
}

fn unsupported<T>(what: impl Into<String>) -> Out<T> {
    Err(ReplayError::Unsupported(what.into()))
}

/// A valid credit code for a synthetic organisation `n` (check digit computed).
fn synthetic_code(prefix: &str, n: usize) -> String {
    const AL: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
    const W: [usize; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
    let body = format!("{prefix}{n:0>width$}", width = 17 - prefix.len());
    let sum: usize = body.bytes().zip(W).map(|(b, w)| AL.iter().position(|&a| a == b).unwrap_or(0) * w).sum();
    let check = AL[(31 - sum % 31) % 31] as char;
    format!("{body}{check}")
}

fn yes(b: bool) -> &'static str {
    if b {
        "是"
    } else {
        "否"
    }
}

/// Imports one register from CSV lines (after its template's header).
async fn import(db: &Db, actor: Actor, reg: Register, lines: &[String]) -> Out<()> {
    if lines.is_empty() {
        return Ok(());
    }
    let mut csv = reg.headers().join(",");
    for l in lines {
        csv.push('\n');
        csv.push_str(l);
    }
    let step = format!("register {}", reg.code());
    let (rows, errors) = registers::parse(reg, csv.as_bytes())
        .map_err(|e| ReplayError::Refused { step: step.clone(), error: StoreError::invalid("file", e) })?;
    match at(&step, registers::import(db, actor, reg, "replay.csv", rows, errors).await)? {
        Ok(_) => Ok(()),
        Err(rows) => {
            let list: Vec<String> = rows.iter().map(|r| format!("row {} {}: {}", r.row, r.column, r.reason)).collect();
            unsupported(format!("{step}: {}", list.join("; ")))
        }
    }
}

/// What a stored claim decided, as the engine's decision JSON with the case's claim id.
async fn decision_of(db: &Db, claim_id: i64, case_id: &str) -> Out<serde_json::Value> {
    let text: String = at(
        "reading a decision",
        async {
            Ok(with_pool!(db, |p| sqlx::query_scalar("SELECT decision FROM claim WHERE claim_id = $1")
                .bind(claim_id)
                .fetch_one(p)
                .await?))
        }
        .await,
    )?;
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
    v["claim"] = serde_json::Value::String(case_id.to_owned());
    Ok(v)
}

/// Loads the case into `db` (migrated, the plan loaded, nothing else recorded) and files its
/// claims; returns the live decisions, in the order the claims were filed.
pub async fn replay(db: &Db, checked: &Checked) -> Out<Vec<serde_json::Value>> {
    let case = &checked.case;
    let existing: i64 = at(
        "checking the database",
        async { Ok(with_pool!(db, |p| sqlx::query_scalar("SELECT COUNT(*) FROM person").fetch_one(p).await?)) }.await,
    )?;
    if existing > 0 {
        return unsupported("a case in a database that already holds people (replay needs a fresh one)");
    }
    // The dates the rules read parameters on (issue, start, filing, first month): the first is
    // where the city's scheduled values start.
    let mut dates: Vec<NaiveDate> = Vec::new();
    dates.extend(case.trainings.iter().map(|t| t.start));
    dates.extend(case.certificates.iter().map(|c| c.issued));
    dates.extend(case.claims.iter().map(|c| c.filed));
    dates.extend(case.claims.iter().filter_map(|c| c.from));
    dates.extend(case.granted.iter().filter_map(|g| g.date));
    let first = dates.iter().min().copied().unwrap_or_else(|| NaiveDate::from_ymd_opt(2019, 1, 1).unwrap_or_default());

    let admin = at(
        "the replay's city administrator",
        users::create(db, None, "replay-admin", "回放 市人社局", &users::random_token(), Role::CityAdmin, None).await,
    )?;
    let actor = Some(admin);

    // Areas outside the city and occupations outside the national catalog.
    let mut areas: BTreeSet<String> = BTreeSet::new();
    for p in &case.people {
        areas.insert(p.residence.clone());
        areas.insert(p.hukou.clone());
    }
    areas.extend(case.employers.iter().map(|e| e.county.clone()));
    areas.extend(case.trainings.iter().map(|t| t.county.clone()));
    let mut tx = at("areas", db.begin().await)?;
    at("areas", plan::ensure_areas(&mut tx, &areas.into_iter().collect::<Vec<_>>()).await)?;
    at("areas", tx.commit().await)?;
    let catalog: BTreeSet<String> =
        at("catalog", catalog::occupations(db, false, "").await)?.into_iter().map(|o| o.occupation_code).collect();
    let mut missing: BTreeMap<&str, bool> = BTreeMap::new();
    for (code, level) in case
        .trainings
        .iter()
        .map(|t| (&t.occupation, t.level))
        .chain(case.certificates.iter().map(|c| (&c.occupation, c.level)))
    {
        if !catalog.contains(code) {
            *missing.entry(code).or_default() |= level.is_some();
        }
    }
    for (code, levels) in missing {
        at(
            format!("occupation {code}"),
            catalog::add_city_occupation(db, actor, code, &format!("职业 {code}"), levels, "回放案例 replay").await,
        )?;
    }

    // Parameters the case sets: scheduled by the city.
    if let Some(v) = &case.parameters {
        let mut flat = Vec::new();
        fn walk(prefix: &str, v: &serde_json::Value, out: &mut Vec<(String, i64)>) {
            if let Some(m) = v.as_object() {
                for (k, x) in m {
                    let name = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                    walk(&name, x, out);
                }
            } else if let Some(n) = v.as_i64() {
                out.push((prefix.to_owned(), n));
            }
        }
        walk("", v, &mut flat);
        let shipped = jineng_policy::Params::shipped();
        for (key, value) in flat {
            let k =
                jineng_policy::Key::parse(&key).ok_or_else(|| ReplayError::Unsupported(format!("parameter {key}")))?;
            // A value the shipped file already holds on every date needs no scheduling.
            if shipped.get(k).versions.iter().all(|v| v.value == value) {
                continue;
            }
            let last = shipped.get(k).versions.last().map(|v| v.from);
            // The city schedules values forward, after the last one it has.
            let from = match last {
                Some(l) if l >= first => {
                    return unsupported(format!(
                        "parameter {key}: a value for dates before {l}, the shipped file's last version (the city schedules values forward only)"
                    ))
                }
                _ => first,
            };
            let mut check = shipped.clone();
            check
                .schedule(k, from, value, "回放案例 replay")
                .map_err(|e| ReplayError::Unsupported(format!("parameter {key}: {e}")))?;
            at(
                format!("parameter {key}"),
                parameters::schedule(db, admin, &key, from, value, "回放案例 replay").await,
            )?;
        }
    }

    // People: registered by the city office, their facts stated by the authorities' registers.
    let mut person_id: HashMap<String, i64> = HashMap::new();
    let (mut groups, mut hukou, mut insurance, mut business) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (i, p) in case.people.iter().enumerate() {
        let id = IdNumber::parse(&p.id_number)
            .map_err(|e| ReplayError::Unsupported(format!("people[{i}].id_number: {e}")))?;
        let new = people::NewPerson {
            id_number: id.clone(),
            name: p.name.clone(),
            county_code: p.residence.clone(),
            phone: None,
            rural: false,
            groups: vec![],
        };
        let pid = at(format!("people[{i}]"), people::create(db, actor, &new).await)?;
        // Where the person works: recorded by the city office on the person's record.
        if let Some(work) = &p.work {
            let vis = people::Visibility::default();
            let row = at(format!("people[{i}]"), people::get(db, &vis, pid).await)?;
            let update = people::PersonUpdate {
                name: row.name,
                county_code: row.county_code,
                phone: row.phone,
                rural: row.rural,
                insured_since: row.insured_since,
                monthly_pension: row.monthly_pension,
                work_county: Some(work.clone()),
            };
            at(format!("people[{i}].work"), people::update(db, actor, &vis, pid, &update).await)?;
        }
        person_id.insert(p.id_number.to_ascii_uppercase(), pid);
        let n = id.as_str();
        for g in &p.groups {
            let to = g.to.map(|d| d.to_string()).unwrap_or_default();
            groups.push(format!("{n},{},{},{},{to}", p.name, g.group.code(), g.from));
        }
        hukou.push(format!("{n},{},{},{}", p.name, p.hukou, yes(p.rural)));
        if p.insured_since.is_some() || p.monthly_pension {
            let since = p.insured_since.map(|d| d.to_string()).unwrap_or_default();
            insurance.push(format!("{n},{},{since},{}", p.name, yes(p.monthly_pension)));
        }
        if let Some(b) = p.business_started {
            business.push(format!("{n},{},{b}", p.name));
        }
    }
    let pid = |number: &str| person_id.get(&number.to_ascii_uppercase()).copied().unwrap_or(0);
    let name_of = |number: &str| {
        case.people
            .iter()
            .find(|p| p.id_number.eq_ignore_ascii_case(number))
            .map(|p| p.name.clone())
            .unwrap_or_default()
    };

    // Organisations.
    let mut employer_id: HashMap<String, i64> = HashMap::new();
    for (i, e) in case.employers.iter().enumerate() {
        let kind = serde_json::to_value(e.kind).ok().and_then(|v| v.as_str().map(str::to_owned));
        let input = orgs::OrgInput {
            credit_code: e.credit_code.clone(),
            legacy: CreditCode::parse(&e.credit_code).is_err(),
            name: e.name.clone(),
            county_code: e.county.clone(),
            kind,
            insured: e.insured,
            status: None,
        };
        let id = at(format!("employers[{i}]"), orgs::create(db, actor, orgs::OrgKind::Employer, &input).await)?;
        employer_id.insert(e.credit_code.clone(), id);
    }
    let mut provider_id: HashMap<String, i64> = HashMap::new();
    let providers = case
        .trainings
        .iter()
        .map(|t| (t.provider.clone(), t.county.clone()))
        .chain(case.claims.iter().filter_map(|c| c.provider.clone().map(|p| (p, String::new()))))
        .chain(case.granted.iter().filter_map(|g| g.provider.clone().map(|p| (p, String::new()))));
    for (code, county) in providers {
        if provider_id.contains_key(&code) {
            continue;
        }
        let county = if county.is_empty() { "411702".to_owned() } else { county };
        let input = orgs::OrgInput {
            credit_code: code.clone(),
            legacy: CreditCode::parse(&code).is_err(),
            name: format!("培训机构 {code}"),
            county_code: county,
            kind: None,
            insured: false,
            status: Some("listed".into()),
        };
        let id = at(format!("provider {code}"), orgs::create(db, actor, orgs::OrgKind::Provider, &input).await)?;
        provider_id.insert(code, id);
    }
    let body_code = synthetic_code("12411700MB", 1);
    let body_input = orgs::OrgInput {
        credit_code: body_code.clone(),
        legacy: false,
        name: "回放 评价机构".into(),
        county_code: "411702".into(),
        kind: None,
        insured: false,
        status: Some("listed".into()),
    };
    let body = at("assessment body", orgs::create(db, actor, orgs::OrgKind::AssessmentBody, &body_input).await)?;

    // The registers, after the employers they name.
    let jobs: Vec<String> = case
        .employments
        .iter()
        .map(|e| {
            let to = e.to.map(|d| d.to_string()).unwrap_or_default();
            format!("{},{},{},{},{to}", e.person.to_ascii_uppercase(), name_of(&e.person), e.employer, e.from)
        })
        .collect();
    import(db, actor, Register::PovertyRoster, &groups).await?;
    import(db, actor, Register::CivilAffairs, &hukou).await?;
    import(db, actor, Register::SocialInsurance, &insurance).await?;
    import(db, actor, Register::Employment, &jobs).await?;
    import(db, actor, Register::MarketRegulation, &business).await?;

    // Classes: the trainings a project claim lists are one class; every other training its own.
    let leaf: String = at(
        "programs",
        async {
            Ok(with_pool!(db, |p| sqlx::query_scalar(
                "SELECT p.program_code FROM program p WHERE NOT EXISTS (SELECT 1 FROM program k WHERE k.parent_code = p.program_code) ORDER BY p.sort_order LIMIT 1"
            )
            .fetch_one(p)
            .await?))
        }
        .await,
    )?;
    // The project each training is in (the project claims that list it), and its contract.
    let mut project_of: Vec<Option<&str>> = vec![None; case.trainings.len()];
    let mut contract_of: HashMap<&str, i64> = HashMap::new();
    for (claim, refs) in case.claims.iter().zip(&checked.claim_refs) {
        if claim.kind != ClaimKind::ProjectTraining {
            continue;
        }
        let Some(project) = claim.project.as_deref() else { continue };
        let c = contract_of.entry(project).or_default();
        *c = (*c).max(claim.contract_fen.unwrap_or(0));
        for &t in &refs.trainings {
            if project_of[t].is_some_and(|p| p != project) {
                return unsupported(format!("training {}: in two projects", case.trainings[t].id));
            }
            project_of[t] = Some(project);
        }
    }
    // A class: the trainings of one project (or of none) with the same terms.
    let terms = |t: &jineng_policy::case::Training| {
        format!(
            "{:?}|{}|{:?}|{}|{}|{:?}|{}|{}|{}|{}|{}|{:?}",
            t.kind,
            t.occupation,
            t.level,
            t.county,
            t.provider,
            t.employer,
            t.start,
            t.end,
            t.days,
            t.in_system,
            t.project_based,
            t.standard_fen
        )
    };
    let mut class_of_training: Vec<usize> = vec![0; case.trainings.len()];
    let mut classes: Vec<Vec<usize>> = Vec::new();
    let mut keyed: HashMap<(String, String), usize> = HashMap::new();
    let mut persons_in: Vec<BTreeSet<String>> = Vec::new();
    // The trainings a project claim lists, in its order (the live settlement pays a project's
    // trainees by class, then enrolment), then the others.
    let mut in_order: Vec<usize> = Vec::with_capacity(case.trainings.len());
    for (claim, refs) in case.claims.iter().zip(&checked.claim_refs) {
        if claim.kind == ClaimKind::ProjectTraining {
            in_order.extend(refs.trainings.iter().copied().filter(|t| !in_order.contains(t)).collect::<Vec<_>>());
        }
    }
    in_order.extend((0..case.trainings.len()).filter(|t| !in_order.contains(t)).collect::<Vec<_>>());
    for ti in in_order {
        let t = &case.trainings[ti];
        // Trainings outside a project are a class each; a project's share classes by terms
        // (one person once per class).
        let person = t.person.to_ascii_uppercase();
        let k = match project_of[ti] {
            Some(p) => {
                let key = (p.to_owned(), terms(t));
                match keyed.get(&key) {
                    Some(&k) if !persons_in[k].contains(&person) => k,
                    _ => {
                        keyed.insert(key, classes.len());
                        classes.push(Vec::new());
                        persons_in.push(BTreeSet::new());
                        classes.len() - 1
                    }
                }
            }
            None => {
                classes.push(Vec::new());
                persons_in.push(BTreeSet::new());
                classes.len() - 1
            }
        };
        classes[k].push(ti);
        persons_in[k].insert(person);
        class_of_training[ti] = k;
    }
    let class_of_training: Vec<Option<usize>> = class_of_training.into_iter().map(Some).collect();
    // Each class of a project states an equal share of its contract (rounded up).
    let mut classes_in_project: HashMap<&str, i64> = HashMap::new();
    for members in &classes {
        if let Some(p) = project_of[members[0]] {
            *classes_in_project.entry(p).or_default() += 1;
        }
    }
    let mut class_id: Vec<i64> = Vec::with_capacity(classes.len());
    let mut enrolment: Vec<i64> = vec![0; case.trainings.len()];
    for members in &classes {
        let t0 = &case.trainings[members[0]];
        let span = (t0.end - t0.start).num_days() + 1;
        let level = match t0.level {
            Some(l) => {
                Some(SkillLevel::new(l).map_err(|e| ReplayError::Unsupported(format!("training {}: {e}", t0.id)))?)
            }
            None => None,
        };
        let subsidy_project_id = match t0.standard_fen {
            Some(fen) => Some(at(
                format!("catalog project for {}", t0.id),
                catalog::create_project(
                    db,
                    actor,
                    &catalog::ProjectInput {
                        occupation_code: t0.occupation.clone(),
                        level,
                        class_hours: 40,
                        subsidy_fen: fen,
                        status: "listed".into(),
                    },
                )
                .await,
            )?),
            None => None,
        };
        let roster: Vec<(String, String)> = members
            .iter()
            .map(|&ti| {
                let n = &case.trainings[ti].person;
                (n.to_ascii_uppercase(), name_of(n))
            })
            .collect();
        let application = Application {
            class: NewClass {
                name: format!("回放班 {}", t0.id),
                program_code: leaf.clone(),
                occupation_code: t0.occupation.clone(),
                level,
                kind: t0.kind,
                county_code: t0.county.clone(),
                provider_id: provider_id[&t0.provider],
                start_date: t0.start,
                end_date: t0.end,
                subsidised: subsidy_project_id.is_some(),
            },
            subsidy_project_id,
            venue: "回放 replay".into(),
            timetable: "回放 replay".into(),
            teachers: "回放 replay".into(),
            capacity: members.len() as i64,
            assessment_plan: "回放 replay".into(),
            roster,
            employer_credit_code: t0.employer.clone(),
            assessment_body_credit_code: Some(body_code.clone()),
            project_based: t0.project_based,
            training_days: (t0.days != span).then_some(t0.days),
            project_code: project_of[members[0]].map(str::to_owned),
            // A project-based training no project claim names states a nominal contract.
            contract_fen: match project_of[members[0]] {
                Some(p) => {
                    let n = classes_in_project.get(p).copied().unwrap_or(1).max(1);
                    let total = contract_of.get(p).copied().unwrap_or(0).max(1);
                    Some((total + n - 1) / n)
                }
                None => t0.project_based.then_some(100_000),
            },
        };
        let id = at(format!("class of training {}", t0.id), training::apply_class(db, actor, &application).await)?;
        if t0.in_system {
            at(
                format!("approving the class of training {}", t0.id),
                training::act_on_class(db, admin, id, ClassAction::Approve, "", &Default::default()).await,
            )?;
        }
        class_id.push(id);
        let enrolled = at("enrolments", training::enrolments(db, id).await)?;
        for &ti in members {
            let p = pid(&case.trainings[ti].person);
            enrolment[ti] = enrolled.iter().find(|e| e.1 == p).map(|e| e.0).unwrap_or(0);
        }
    }
    // Check-ins: the first days attended.
    for (ti, t) in case.trainings.iter().enumerate() {
        if t.attended_days == 0 {
            continue;
        }
        // A class outside the system (never approved) takes no check-ins: what its trainees
        // attended is not the system's to know, and S12 refuses its subsidies whatever it was.
        if !t.in_system {
            continue;
        }
        let span = (t.end - t.start).num_days() + 1;
        if t.attended_days > span {
            return unsupported(format!("training {}: more days attended than the class spans", t.id));
        }
        let k = class_id[class_of_training[ti].unwrap_or(0)];
        for d in 0..t.attended_days {
            let day = t.start + chrono::Days::new(d as u64);
            at(
                format!("check-in of training {}", t.id),
                attendance::check_in_enrolment(db, actor, k, None, enrolment[ti], day, "manual").await,
            )?;
        }
    }
    // Certificates: the assessment body's results.
    let mut certificate_id: Vec<i64> = vec![0; case.certificates.len()];
    for (ci, c) in case.certificates.iter().enumerate() {
        let kind = serde_json::to_value(c.kind).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
        // A certificate of no training of the case, or of a training outside the system (whose
        // class no body of ours assesses): from the appraisal register.
        let in_system = |ti: usize| case.trainings[ti].in_system;
        let Some(ti) = checked.cert_training[ci].filter(|&ti| in_system(ti)) else {
            let row = assessment::RegisteredCertificate {
                id_number: c.person.to_ascii_uppercase(),
                name: name_of(&c.person),
                kind,
                occupation_code: c.occupation.clone(),
                level: c.level,
                serial: c.serial.clone(),
                issued_on: c.issued,
                issuer: "回放 职业技能等级认定".into(),
            };
            match at(format!("certificate {}", c.id), assessment::record_from_register(db, actor, &[row]).await)? {
                Ok(new) => certificate_id[ci] = new.first().map(|n| n.1).unwrap_or(0),
                Err(rows) => {
                    let list: Vec<String> = rows.iter().map(|r| format!("{}: {}", r.field, r.reason)).collect();
                    return unsupported(format!("certificate {}: {}", c.id, list.join("; ")));
                }
            }
            continue;
        };
        let t = &case.trainings[ti];
        if !c.person.eq_ignore_ascii_case(&t.person) {
            return unsupported(format!("certificate {}: held by someone other than the trainee", c.id));
        }
        let r = assessment::Result_ {
            trainee: assessment::Trainee::Enrolment(enrolment[ti]),
            assessed_on: c.issued,
            score: None,
            passed: true,
            kind,
            serial: c.serial.clone(),
            certified_as: (t.occupation != c.occupation || t.level != c.level)
                .then(|| (Some(c.occupation.clone()), c.level)),
        };
        let k = class_id[class_of_training[ti].unwrap_or(0)];
        let done = at(format!("certificate {}", c.id), assessment::record(db, actor, body, k, &r).await)?;
        certificate_id[ci] = done.certificate.unwrap_or(0);
    }

    // Subsidies granted before: recorded by the city office from the bureau's records.
    let mut facility_of: HashMap<String, i64> = HashMap::new();
    for (gi, g) in case.granted.iter().enumerate() {
        let label = format!("granted[{gi}]");
        let kind = g.kind.ok_or_else(|| ReplayError::Unsupported(format!("{label}: no kind")))?;
        let cert = g.certificate.as_ref().and_then(|c| case.certificates.iter().find(|x| &x.id == c));
        let Some(date) = g.date.or(cert.map(|c| c.issued)) else {
            return unsupported(format!("{label}: a grant with no date"));
        };
        let mut facility_id = None;
        if kind == ClaimKind::EquipmentGrant {
            let (Some(reference), Some(employer)) = (&g.facility_ref, &g.employer) else {
                return unsupported(format!("{label}: an equipment grant of no facility"));
            };
            let eid = employer_id.get(employer).copied().unwrap_or(0);
            let f = facilities::NewFacility {
                kind: "training_base".into(),
                name: format!("回放 {reference}"),
                equipment_value_fen: g.amount_fen.unwrap_or(0).max(1),
                invoices: "回放 replay".into(),
            };
            let id = at(format!("{label}: facility"), facilities::register(db, actor, eid, &f).await)?;
            facility_of.insert(reference.clone(), id);
            facility_id = Some(id);
        }
        let grant = crate::claims::past::PastGrant {
            kind: kind.code().into(),
            id_number: g.person.as_ref().map(|p| p.to_ascii_uppercase()),
            certificate_serial: cert.map(|c| c.serial.clone()),
            employer_code: g.employer.clone(),
            provider_code: g.provider.clone(),
            project_code: g.project.clone(),
            stage: g.stage.map(|s| match s {
                Stage::Advance => "advance".into(),
                Stage::Settlement => "settlement".into(),
            }),
            facility_id,
            months: g.months,
            granted_on: date,
            amount_fen: g.amount_fen.unwrap_or(0),
        };
        at(label.clone(), crate::claims::past::record(db, actor, &label, &grant).await)?;
    }
    // The claims, in filed order (file order on one day), through the live filing path.
    let mut order: Vec<usize> = (0..case.claims.len()).collect();
    order.sort_by_key(|&i| (case.claims[i].filed, i));
    let mut out = Vec::with_capacity(case.claims.len());
    for i in order {
        let claim = &case.claims[i];
        let refs = &checked.claim_refs[i];
        let label = claim.id.clone();
        let date = claim.filed;
        let mut r = ClaimRequest { kind: claim.kind.code().to_owned(), ..ClaimRequest::default() };
        let who = match claim.kind {
            ClaimKind::TrainingSubsidy | ClaimKind::SkillUpgradeSubsidy => {
                let Some(ci) = refs.certificate else {
                    return unsupported(format!("{label}: a certificate subsidy of no certificate in the case"));
                };
                r.certificate_id = Some(certificate_id[ci]);
                Filer::Person(pid(claim.person.as_deref().unwrap_or(&case.certificates[ci].person)))
            }
            ClaimKind::LivingAllowance => {
                let Some(ti) = refs.training else {
                    return unsupported(format!("{label}: a living allowance of no training"));
                };
                r.class_id = Some(class_id[class_of_training[ti].unwrap_or(0)]);
                Filer::Person(pid(claim.person.as_deref().unwrap_or(&case.trainings[ti].person)))
            }
            ClaimKind::OnTheJob | ClaimKind::PreJob | ClaimKind::Apprenticeship => {
                let (Some(person), Some(employer)) = (&claim.person, &claim.employer) else {
                    return unsupported(format!("{label}: an employer's claim without its person or employer"));
                };
                let Some(&eid) = employer_id.get(employer) else {
                    return unsupported(format!("{label}: an employer outside the case"));
                };
                // The employment the employer states: the one on record that covers the claim.
                let on = claim.from.unwrap_or(claim.filed);
                let job = case
                    .employments
                    .iter()
                    .filter(|e| {
                        e.person.eq_ignore_ascii_case(person) && &e.employer == employer && e.from <= claim.filed
                    })
                    .min_by_key(|e| (e.to.is_some_and(|t| t < on), std::cmp::Reverse(e.from)));
                let Some(job) = job else {
                    return unsupported(format!("{label}: an employer's claim for someone it never employed"));
                };
                r.id_number = Some(person.to_ascii_uppercase());
                r.name = case.people.iter().find(|p| p.id_number.eq_ignore_ascii_case(person)).map(|p| p.name.clone());
                r.employed_from = Some(job.from);
                r.from = claim.from;
                r.months = claim.months;
                r.years = claim.years;
                if let Some(ti) = refs.training {
                    r.class_id = Some(class_id[class_of_training[ti].unwrap_or(0)]);
                }
                Filer::Employer(eid)
            }
            ClaimKind::EquipmentGrant => {
                let Some(eid) = claim.employer.as_ref().and_then(|e| employer_id.get(e)).copied() else {
                    return unsupported(format!("{label}: an equipment grant of no employer in the case"));
                };
                let reference = claim.facility_ref.clone().unwrap_or_else(|| label.clone());
                let facility = match facility_of.get(&reference) {
                    Some(&f) => f,
                    None => {
                        let kind = match claim.facility {
                            Some(Facility::MasterStudio) => "master_studio",
                            _ => "training_base",
                        };
                        let f = facilities::NewFacility {
                            kind: kind.into(),
                            name: format!("回放 {reference}"),
                            equipment_value_fen: claim.equipment_value_fen.unwrap_or(0),
                            invoices: "回放 replay".into(),
                        };
                        let id = at(format!("{label}: facility"), facilities::register(db, actor, eid, &f).await)?;
                        facility_of.insert(reference, id);
                        id
                    }
                };
                // Finance and HR record the joint acceptance the claim rests on (once each).
                if claim.accepted == Some(true) {
                    let scope = facilities::FacilityScope::default();
                    let row = at(format!("{label}: facility"), facilities::get(db, &scope, facility).await)?;
                    if !row.accepted() {
                        for by in [facilities::Acceptor::Finance, facilities::Acceptor::Hr] {
                            match facilities::accept(db, admin, &scope, by, facility, "回放 replay").await {
                                Ok(_) | Err(StoreError::Conflict(_)) => {}
                                Err(error) => {
                                    return Err(ReplayError::Refused { step: format!("{label}: acceptance"), error })
                                }
                            }
                        }
                    }
                }
                r.facility_id = Some(facility);
                Filer::Employer(eid)
            }
            ClaimKind::ProjectTraining => {
                let Some(&ti) = refs.trainings.first() else {
                    return unsupported(format!("{label}: a project of no training"));
                };
                r.class_id = Some(class_id[class_of_training[ti].unwrap_or(0)]);
                r.contract_fen = claim.contract_fen;
                r.stage = claim.stage.map(|s| match s {
                    Stage::Advance => "advance".into(),
                    Stage::Settlement => "settlement".into(),
                });
                match (&claim.provider, &claim.employer) {
                    (Some(p), _) => Filer::Provider(provider_id.get(p).copied().unwrap_or(0)),
                    (None, Some(e)) => Filer::Employer(employer_id.get(e).copied().unwrap_or(0)),
                    _ => return unsupported(format!("{label}: a project of no organiser")),
                }
            }
        };
        let d = match file_request(db, admin, who, &label, &r, date).await {
            Ok((id, _)) => decision_of(db, id, &label).await?,
            // Refused at filing for a reason the engine rejects for: the same outcome, no money.
            Err(StoreError::Invalid { reason, .. }) if refusal(reason.code).is_some() => {
                serde_json::json!({
                    "claim": label, "outcome": "rejected", "amount_fen": 0,
                    "refused_at_filing": {"code": reason.code, "zh": reason.zh, "en": reason.en},
                })
            }
            Err(error) => return Err(ReplayError::Refused { step: format!("claim {label}"), error }),
        };
        out.push(d);
    }
    Ok(out)
}

/// Refusals at filing that match an engine's rejection: the live code and the engine's reason
/// codes it stands for (a worker cannot file for another's certificate or training at all).
const REFUSALS: &[(&str, &[&str])] = &[
    ("claim.not_own_certificate", &["S7.no_certificate", "S3.no_certificate"]),
    // An employer's pre-job or apprenticeship claim for a class the worker was not in: the
    // engine finds no training of theirs that qualifies.
    ("claim.not_trainee", &["S2.not_own_training", "S3.not_new_hire", "S4.not_apprenticeship"]),
];

fn refusal(code: &str) -> Option<&'static [&'static str]> {
    REFUSALS.iter().find(|r| r.0 == code).map(|r| r.1)
}

/// The fields of two decisions that must agree: outcome, amount, payee, fund and the reason
/// codes (as a set). Returns the differences, empty when equal.
pub fn differences(engine: &serde_json::Value, live: &serde_json::Value) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(code) = live["refused_at_filing"]["code"].as_str() {
        let stands_for = refusal(code).unwrap_or(&[]);
        let rejected = engine["outcome"] == "rejected" && engine["amount_fen"] == 0;
        let reasons = engine["reasons"].as_array().into_iter().flatten();
        if !(rejected && reasons.filter_map(|r| r["code"].as_str()).any(|c| stands_for.contains(&c))) {
            out.push(format!("refused at filing ({code}) where the engine decided {}", engine["outcome"]));
        }
        return out;
    }
    // An ID number's check letter is stored upper case (the case may write it lower case).
    let upper = |v: &serde_json::Value| serde_json::Value::String(v.to_string().to_ascii_uppercase());
    for k in ["outcome", "amount_fen", "payee", "fund"] {
        if upper(&engine[k]) != upper(&live[k]) {
            out.push(format!("{k}: engine {} / live {}", engine[k], live[k]));
        }
    }
    let codes = |v: &serde_json::Value| -> BTreeSet<String> {
        v["reasons"].as_array().into_iter().flatten().filter_map(|r| r["code"].as_str().map(str::to_owned)).collect()
    };
    let (a, b) = (codes(engine), codes(live));
    if a != b {
        out.push(format!("reasons: engine {a:?} / live {b:?}"));
    }
    out
}
