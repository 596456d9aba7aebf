//! Anomalies planted in a demo city for the checks' benchmark (issue 13): the check-ins the demo
//! does not otherwise keep (each trainee on up to the first five days of the class, at a random
//! moment between 8:00 and 9:30, never two classes on one day), then, with the same seed, a few
//! of each kind of fraud the checks look for. What was planted is returned as (check code,
//! subject), so that a benchmark can measure which planted ones a check finds and what else it
//! finds on the clean rest.

use super::Scale;
use crate::{with_pool, Db, Result};
use chrono::{DateTime, Datelike, Days, NaiveDate, Utc};
use jineng_domain::{IdNumber, Sex};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use std::collections::{BTreeMap, HashMap, HashSet};

/// What was planted.
#[derive(Debug, Clone, Default)]
pub struct Planted {
    /// Check-ins written (clean and planted).
    pub attendance: usize,
    /// (check code, subject) of each planted anomaly, as the check names its subject.
    pub anomalies: Vec<(&'static str, String)>,
}

impl Planted {
    /// The subjects planted for one check.
    pub fn subjects(&self, code: &str) -> HashSet<&str> {
        self.anomalies.iter().filter(|(c, _)| *c == code).map(|(_, s)| s.as_str()).collect()
    }
}

/// How many of each kind: a few at small scale, dozens for a city, hundreds for a province.
fn per_kind(scale: Scale) -> usize {
    match scale {
        Scale::Small => 3,
        Scale::City => 50,
        Scale::Province => 200,
    }
}

#[derive(Clone)]
struct ClassRow {
    id: i64,
    start: NaiveDate,
    end: NaiveDate,
    provider: i64,
    subsidised: bool,
}

/// Attendance to write: enrolment, day, when.
type CheckIn = (i64, NaiveDate, DateTime<Utc>);

fn at(day: NaiveDate, seconds: u32) -> DateTime<Utc> {
    let t = chrono::NaiveTime::from_num_seconds_from_midnight_opt(seconds, 0).unwrap_or_default();
    day.and_time(t).and_utc()
}

async fn id_of(db: &Db, sql: &str, binds: &[Bind<'_>]) -> Result<i64> {
    Ok(with_pool!(db, |p| {
        let mut q = sqlx::query_scalar::<_, i64>(sql);
        for b in binds {
            q = match b {
                Bind::I(v) => q.bind(*v),
                Bind::O(v) => q.bind(*v),
                Bind::S(v) => q.bind(*v),
                Bind::OS(v) => q.bind(*v),
                Bind::D(v) => q.bind(*v),
                Bind::T(v) => q.bind(*v),
            };
        }
        q.fetch_one(p).await?
    }))
}

async fn exec(db: &Db, sql: &str, binds: &[Bind<'_>]) -> Result<()> {
    with_pool!(db, |p| {
        let mut q = sqlx::query(sql);
        for b in binds {
            q = match b {
                Bind::I(v) => q.bind(*v),
                Bind::O(v) => q.bind(*v),
                Bind::S(v) => q.bind(*v),
                Bind::OS(v) => q.bind(*v),
                Bind::D(v) => q.bind(*v),
                Bind::T(v) => q.bind(*v),
            };
        }
        q.execute(p).await?;
    });
    Ok(())
}

/// A value bound to a statement.
enum Bind<'a> {
    I(i64),
    O(Option<i64>),
    S(&'a str),
    OS(Option<&'a str>),
    D(NaiveDate),
    T(DateTime<Utc>),
}
use Bind::{D, I, O, OS, S, T};

/// A certificate from the appraisal register and a paid training-subsidy claim on it.
async fn certificate_and_claim(db: &Db, person: i64, county: &str, occupation: &str, issued: NaiveDate) -> Result<()> {
    let serial = format!("PLANT-{person}-{occupation}-{issued}");
    let now = crate::now();
    let cert = id_of(
        db,
        "INSERT INTO certificate (person_id, kind, occupation_code, level, serial, issued_on, created_at, issuer) \
         VALUES ($1, 'skill_level', $2, 5, $3, $4, $5, '评价登记（演示异常）') RETURNING certificate_id",
        &[I(person), S(occupation), S(&serial), D(issued), T(now)],
    )
    .await?;
    exec(
        db,
        "INSERT INTO claim (idempotency_key, kind, person_id, certificate_id, county_code, filed_on, status, outcome, \
         amount_fen, payee, fund, decision, snapshot, created_at) \
         VALUES ($1, 'training_subsidy', $2, $3, $4, $5, 'paid', 'approved', 100000, '演示异常', 'employment_subsidy_fund', '{}', '{}', $6)",
        &[S(&serial), I(person), I(cert), S(county), D(issued + Days::new(20)), T(now)],
    )
    .await
}

/// Writes the demo's check-ins and plants `per_kind(scale)` anomalies of every check, from
/// `seed`, into a demo city made by [`super::generate`] (and, if wanted, [`super::walk_claims`]).
pub async fn plant(db: &Db, scale: Scale, seed: u64) -> Result<Planted> {
    if scale.in_proportion() {
        return Err(crate::StoreError::invalid(
            "anomalies",
            jineng_domain::Invalid::new(
                "demo.anomalies_scale",
                "省级规模的演示数据已自带签到记录，异常只植入市级或小规模演示数据",
                "the province demo writes its own check-ins: plant anomalies at city or small scale",
            ),
        ));
    }
    let mut rng = StdRng::seed_from_u64(seed ^ 0x00c4_ec45);
    let k = per_kind(scale);
    let classes: Vec<(i64, NaiveDate, NaiveDate, i64, bool)> = with_pool!(db, |p| sqlx::query_as(
        "SELECT class_id, start_date, end_date, provider_id, subsidised FROM training_class ORDER BY class_id"
    )
    .fetch_all(p)
    .await?);
    let classes: Vec<ClassRow> = classes
        .into_iter()
        .map(|(id, start, end, provider, subsidised)| ClassRow { id, start, end, provider, subsidised })
        .collect();
    let class_at: HashMap<i64, usize> = classes.iter().enumerate().map(|(i, c)| (c.id, i)).collect();
    let enrolments: Vec<(i64, i64, i64)> = with_pool!(db, |p| sqlx::query_as(
        "SELECT enrolment_id, class_id, person_id FROM enrolment ORDER BY class_id, enrolment_id"
    )
    .fetch_all(p)
    .await?);
    let people: Vec<(i64, String, String, String)> = with_pool!(db, |p| sqlx::query_as(
        "SELECT person_id, id_number, county_code, COALESCE(phone, '') FROM person ORDER BY person_id"
    )
    .fetch_all(p)
    .await?);
    let person_at: HashMap<i64, usize> = people.iter().enumerate().map(|(i, p)| (p.0, i)).collect();
    let mut roster: BTreeMap<i64, Vec<(i64, i64)>> = BTreeMap::new();
    let mut classes_of: HashMap<i64, Vec<i64>> = HashMap::new();
    for (e, c, p) in &enrolments {
        roster.entry(*c).or_default().push((*e, *p));
        classes_of.entry(*p).or_default().push(*c);
    }
    let certified: HashSet<i64> =
        with_pool!(db, |p| sqlx::query_scalar::<_, i64>("SELECT DISTINCT person_id FROM certificate")
            .fetch_all(p)
            .await?)
        .into_iter()
        .collect();
    let mut out = Planted::default();
    let mut taken_class: HashSet<i64> = HashSet::new();
    let mut taken_person: HashSet<i64> = certified;
    let pick_class = |rng: &mut StdRng, taken: &mut HashSet<i64>, ok: &dyn Fn(&ClassRow) -> bool| -> Option<ClassRow> {
        for _ in 0..10_000 {
            let c = classes.choose(rng)?;
            if !taken.contains(&c.id) && ok(c) {
                taken.insert(c.id);
                return Some(c.clone());
            }
        }
        None
    };
    let size = |c: &ClassRow| roster.get(&c.id).map_or(0, Vec::len);

    // Classes whose first day is signed in by one hand, and classes over their capacity.
    let mut hand = HashSet::new();
    for _ in 0..k {
        if let Some(c) = pick_class(&mut rng, &mut taken_class, &|c| size(c) >= 8) {
            hand.insert(c.id);
            out.anomalies.push(("same_hand_check_ins", format!("class:{}", c.id)));
        }
    }
    let mut over = Vec::new();
    for _ in 0..k {
        if let Some(c) = pick_class(&mut rng, &mut taken_class, &|c| size(c) >= 4) {
            over.push(c.id);
        }
    }

    // The clean check-ins: the first five days (or fewer) of each class, one class a day each.
    let mut busy: HashSet<(i64, NaiveDate)> = HashSet::new();
    let mut checked: HashSet<(i64, NaiveDate)> = HashSet::new();
    let mut attendance: Vec<CheckIn> = Vec::new();
    let mut per_day: HashMap<(i64, NaiveDate), i64> = HashMap::new();
    for c in &classes {
        let days = ((c.end - c.start).num_days() + 1).clamp(1, 5) as u64;
        for (i, (e, p)) in roster.get(&c.id).map(Vec::as_slice).unwrap_or_default().iter().enumerate() {
            for d in 0..days {
                let day = c.start + Days::new(d);
                if !busy.insert((*p, day)) {
                    continue;
                }
                let seconds = if d == 0 && hand.contains(&c.id) {
                    8 * 3600 + (i as u32 % 8)
                } else {
                    8 * 3600 + rng.gen_range(0..5400)
                };
                checked.insert((*e, day));
                *per_day.entry((c.id, day)).or_default() += 1;
                attendance.push((*e, day, at(day, seconds)));
            }
        }
    }
    for c in over {
        let most = per_day.iter().filter(|((id, _), _)| *id == c).map(|(_, n)| *n).max().unwrap_or(0);
        if most >= 2 {
            exec(db, "UPDATE training_class SET capacity = $1 WHERE class_id = $2", &[I(most - 1), I(c)]).await?;
            out.anomalies.push(("over_capacity", format!("class:{c}")));
        }
    }

    // Check-ins three days after the class ended.
    for _ in 0..k {
        let Some(c) = pick_class(&mut rng, &mut taken_class, &|c| size(c) >= 1) else { continue };
        let day = c.end + Days::new(3);
        if let Some((e, p)) = roster[&c.id].iter().find(|(_, p)| !busy.contains(&(*p, day))) {
            busy.insert((*p, day));
            attendance.push((*e, day, at(day, 8 * 3600 + rng.gen_range(0..5400))));
            out.anomalies.push(("outside_class_dates", format!("class:{}", c.id)));
        }
    }

    // A trainee checked in to a second class on a day of the first.
    let mut added = 0;
    for _ in 0..k * 200 {
        if added == k {
            break;
        }
        let Some((e1, c1, p)) = enrolments.choose(&mut rng).copied() else { break };
        let first = &classes[class_at[&c1]];
        if taken_person.contains(&p) || taken_class.contains(&c1) || !checked.contains(&(e1, first.start)) {
            continue;
        }
        let day = first.start;
        let mine = &classes_of[&p];
        let Some(second) = pick_class(&mut rng, &mut taken_class.clone(), &|c| {
            c.id != c1 && c.start <= day && day <= c.end && !mine.contains(&c.id)
        }) else {
            continue;
        };
        taken_person.insert(p);
        let e2 = id_of(
            db,
            "INSERT INTO enrolment (class_id, person_id, enrolled_on) VALUES ($1, $2, $3) RETURNING enrolment_id",
            &[I(second.id), I(p), D(second.start)],
        )
        .await?;
        attendance.push((e2, day, at(day, 8 * 3600 + rng.gen_range(0..5400))));
        out.anomalies.push(("two_classes_one_day", format!("person:{p}")));
        added += 1;
    }
    out.attendance = attendance.len();
    bulk!(db, "INSERT INTO attendance (enrolment_id, day, checked_at, method) ", &attendance, 4, |b, a| {
        b.push_bind(a.0).push_bind(a.1).push_bind(a.2).push_bind("face");
    });

    // The same trainees enrolled again, a month after their class ended, by the same provider.
    for _ in 0..k {
        let Some(a) = pick_class(&mut rng, &mut taken_class, &|c| size(c) >= 5) else { continue };
        let start = a.end + Days::new(30);
        let b = id_of(
            db,
            "INSERT INTO training_class (name, program_code, occupation_code, level, kind, county_code, provider_id, \
             start_date, end_date, subsidised, created_at) \
             SELECT name || '（复训）', program_code, occupation_code, level, kind, county_code, provider_id, $1, $2, subsidised, $3 \
             FROM training_class WHERE class_id = $4 RETURNING class_id",
            &[D(start), D(start + Days::new(5)), T(crate::now()), I(a.id)],
        )
        .await?;
        taken_class.insert(b);
        for (_, p) in &roster[&a.id] {
            exec(
                db,
                "INSERT INTO enrolment (class_id, person_id, enrolled_on) VALUES ($1, $2, $3)",
                &[I(b), I(*p), D(start)],
            )
            .await?;
        }
        out.anomalies.push(("recycled_cohort", format!("classes:{},{b}", a.id)));
    }

    // Certificates dated before their class, and by a body the class did not name.
    let certs: Vec<(i64, i64, NaiveDate, Option<i64>)> = with_pool!(db, |p| sqlx::query_as(
        "SELECT ce.certificate_id, t.class_id, t.start_date, ce.assessment_body_id FROM certificate ce \
         JOIN assessment a ON a.assessment_id = ce.assessment_id JOIN enrolment e ON e.enrolment_id = a.enrolment_id \
         JOIN training_class t ON t.class_id = e.class_id ORDER BY ce.certificate_id"
    )
    .fetch_all(p)
    .await?);
    let bodies: Vec<i64> = with_pool!(db, |p| sqlx::query_scalar(
        "SELECT assessment_body_id FROM assessment_body ORDER BY assessment_body_id"
    )
    .fetch_all(p)
    .await?);
    let mut cert_classes: HashSet<i64> = HashSet::new();
    let mut shuffled: Vec<&(i64, i64, NaiveDate, Option<i64>)> = certs.iter().collect();
    shuffled.shuffle(&mut rng);
    let mut chosen = shuffled.into_iter().filter(|c| cert_classes.insert(c.1));
    for (cert, _, start, _) in chosen.by_ref().take(k.min(certs.len() / 4)) {
        exec(
            db,
            "UPDATE certificate SET issued_on = $1 WHERE certificate_id = $2",
            &[D(*start - Days::new(7)), I(*cert)],
        )
        .await?;
        out.anomalies.push(("certificate_before_class", format!("certificate:{cert}")));
    }
    for (cert, class, _, body) in chosen.take(k.min(certs.len() / 4)) {
        let Some(other) = bodies.iter().find(|b| Some(**b) != *body) else { continue };
        exec(db, "UPDATE training_class SET assessment_body_id = $1 WHERE class_id = $2", &[O(*body), I(*class)])
            .await?;
        exec(db, "UPDATE certificate SET assessment_body_id = $1 WHERE certificate_id = $2", &[I(*other), I(*cert)])
            .await?;
        out.anomalies.push(("certificate_other_body", format!("certificate:{cert}")));
    }

    // People: over the yearly cap, paid twice, on a pension, past the retirement age, sharing a
    // phone across providers, declared employed against the social-insurance record.
    let occupations: Vec<String> = with_pool!(db, |p| sqlx::query_scalar(
        "SELECT occupation_code FROM occupation ORDER BY occupation_code LIMIT 40"
    )
    .fetch_all(p)
    .await?);
    let enrolled: Vec<i64> = {
        let mut v: Vec<i64> = classes_of.keys().copied().collect();
        v.sort_unstable();
        v
    };
    let mut pick_person = |rng: &mut StdRng, ok: &dyn Fn(i64) -> bool| -> Option<i64> {
        for _ in 0..10_000 {
            let p = *enrolled.choose(rng)?;
            if !taken_person.contains(&p) && ok(p) {
                taken_person.insert(p);
                return Some(p);
            }
        }
        None
    };
    let county = |p: i64| people[person_at[&p]].2.clone();
    for _ in 0..k {
        let Some(p) = pick_person(&mut rng, &|_| true) else { break };
        let mut occ: Vec<&String> = occupations.iter().collect();
        occ.shuffle(&mut rng);
        for (i, o) in occ.iter().take(4).enumerate() {
            let issued = NaiveDate::from_ymd_opt(2020, 3 + 2 * i as u32, 1).unwrap_or_default();
            certificate_and_claim(db, p, &county(p), o, issued).await?;
        }
        out.anomalies.push(("over_yearly_cap", format!("person:{p}/2020")));
    }
    for _ in 0..k {
        let Some(p) = pick_person(&mut rng, &|_| true) else { break };
        let Some(o) = occupations.choose(&mut rng) else { break };
        for year in [2019, 2020] {
            let issued = NaiveDate::from_ymd_opt(year, 6, 1).unwrap_or_default();
            certificate_and_claim(db, p, &county(p), o, issued).await?;
        }
        out.anomalies.push(("paid_twice", format!("person:{p}/{o}/5")));
    }
    let on_subsidised = |p: i64| classes_of[&p].iter().any(|c| classes[class_at[c]].subsidised);
    for _ in 0..k {
        let Some(p) = pick_person(&mut rng, &on_subsidised) else { break };
        exec(db, "UPDATE person SET monthly_pension = TRUE WHERE person_id = $1", &[I(p)]).await?;
        out.anomalies.push(("pensioner_trainee", format!("person:{p}")));
    }
    for _ in 0..k {
        let Some(p) = pick_person(&mut rng, &on_subsidised) else { break };
        let Ok(old) = IdNumber::parse(&people[person_at[&p]].1) else { continue };
        let first =
            classes_of[&p].iter().map(|c| &classes[class_at[c]]).filter(|c| c.subsidised).map(|c| c.start).min();
        let Some(first) = first else { continue };
        let limit = if old.sex() == Sex::Male { 62 } else { 52 };
        let birth = NaiveDate::from_ymd_opt(first.year() - limit, rng.gen_range(1..=12), rng.gen_range(1..=28))
            .unwrap_or_default();
        let sequence: u16 = old.as_str()[14..17].parse().unwrap_or(1);
        let number = IdNumber::from_parts(old.area(), birth, sequence);
        let exists: i64 = id_of(db, "SELECT COUNT(*) FROM person WHERE id_number = $1", &[S(number.as_str())]).await?;
        if exists > 0 {
            continue;
        }
        exec(
            db,
            "UPDATE person SET id_number = $1, birth_date = $2 WHERE person_id = $3",
            &[S(number.as_str()), D(birth), I(p)],
        )
        .await?;
        out.anomalies.push(("past_retirement_age", format!("person:{p}")));
    }
    for _ in 0..k {
        let Some(a) = pick_person(&mut rng, &|_| true) else { break };
        let providers_a: HashSet<i64> = classes_of[&a].iter().map(|c| classes[class_at[c]].provider).collect();
        let Some(b) = pick_person(&mut rng, &|b| {
            classes_of[&b].iter().any(|c| !providers_a.contains(&classes[class_at[c]].provider))
        }) else {
            break;
        };
        let phone = &people[person_at[&a]].3;
        exec(db, "UPDATE person SET phone = $1 WHERE person_id = $2", &[S(phone), I(b)]).await?;
        out.anomalies.push(("shared_phone", format!("people:{},{}", a.min(b), a.max(b))));
    }
    let employers: Vec<i64> = with_pool!(db, |p| sqlx::query_scalar(
        "SELECT employer_id FROM employer WHERE insured = TRUE ORDER BY employer_id"
    )
    .fetch_all(p)
    .await?);
    let from = NaiveDate::from_ymd_opt(2020, 3, 2).unwrap_or_default();
    let as_of = NaiveDate::from_ymd_opt(2021, 6, 30).unwrap_or_default();
    for i in 0..2 * k {
        let Some(p) = pick_person(&mut rng, &|_| true) else { break };
        let Some(employer) = employers.choose(&mut rng) else { break };
        // Every other one is clean: insured from the month after the declared start.
        let (planted, since) = match i % 4 {
            0 => (true, None),
            2 => (true, Some("2021-01-01")),
            _ => (false, Some("2020-04-01")),
        };
        let employment = id_of(
            db,
            "INSERT INTO employment (person_id, employer_id, from_date, created_at, source) \
             VALUES ($1, $2, $3, $4, 'declared') RETURNING employment_id",
            &[I(p), I(*employer), D(from), T(crate::now())],
        )
        .await?;
        exec(
            db,
            "INSERT INTO person_fact (person_id, fact, value, source, as_of, recorded_at) \
             VALUES ($1, 'insured_since', $2, 'social_insurance', $3, $4)",
            &[I(p), OS(since), D(as_of), T(crate::now())],
        )
        .await?;
        if planted {
            out.anomalies.push(("employment_contradicted", format!("employment:{employment}")));
        }
    }

    // Providers that filed half their year's claims in its last fortnight.
    let mut providers: Vec<i64> = classes.iter().map(|c| c.provider).collect::<HashSet<_>>().into_iter().collect();
    providers.sort_unstable();
    providers.shuffle(&mut rng);
    for provider in providers.into_iter().take(k) {
        let Some(c) = classes.iter().find(|c| c.provider == provider) else { continue };
        let Some((_, person)) = roster.get(&c.id).and_then(|r| r.first()) else { continue };
        let county = county(*person);
        for n in 0..15 {
            let on = if n < 10 { "2019-12-20" } else { "2019-06-14" };
            let on: NaiveDate = on.parse().unwrap_or_default();
            exec(
                db,
                "INSERT INTO claim (idempotency_key, kind, person_id, county_code, filed_on, status, outcome, amount_fen, \
                 payee, fund, decision, snapshot, created_at, provider_id) \
                 VALUES ($1, 'training_subsidy', $2, $3, $4, 'decided', 'approved', 100000, '演示异常', \
                 'employment_subsidy_fund', '{}', '{}', $5, $6)",
                &[S(&format!("PLANT-RUSH-{provider}-{n}")), I(*person), S(&county), D(on), T(crate::now()), I(provider)],
            )
            .await?;
        }
        out.anomalies.push(("year_end_rush", format!("provider:{provider}/2019")));
    }

    // One bank account for different payees: a provider banking with another provider, with an
    // employer, or with one of its own trainees (the trainee's account recorded as declared).
    let mut banked: Vec<i64> = classes.iter().map(|c| c.provider).collect::<HashSet<_>>().into_iter().collect();
    banked.sort_unstable();
    banked.shuffle(&mut rng);
    let mut lenders: Vec<i64> = employers.clone();
    lenders.shuffle(&mut rng);
    let mut banked = banked.into_iter();
    for i in 0..k {
        let Some(provider) = banked.next() else { break };
        let has: i64 = id_of(
            db,
            "SELECT COUNT(*) FROM bank_account WHERE payee_kind = 'provider' AND payee_id = $1 AND retired_at IS NULL",
            &[I(provider)],
        )
        .await?;
        if has == 0 {
            continue;
        }
        let account = format!("410501{provider:013}");
        let (kind, other) = match i % 3 {
            0 => ("provider", banked.next()),
            1 => ("employer", lenders.pop()),
            _ => {
                let trainee = classes
                    .iter()
                    .filter(|c| c.provider == provider)
                    .flat_map(|c| roster.get(&c.id).cloned().unwrap_or_default())
                    .map(|(_, p)| p)
                    .find(|p| !taken_person.contains(p));
                if let Some(p) = trainee {
                    taken_person.insert(p);
                }
                ("person", trainee)
            }
        };
        let Some(other) = other else { continue };
        exec(
            db,
            "UPDATE bank_account SET retired_at = $1 WHERE payee_kind = $2 AND payee_id = $3 AND retired_at IS NULL",
            &[T(crate::now()), S(kind), I(other)],
        )
        .await?;
        exec(
            db,
            "INSERT INTO bank_account (payee_kind, payee_id, bank, account_no, holder, source, recorded_at) \
             VALUES ($1, $2, '中国农业银行驻马店分行', $3, $4, 'declared', $5)",
            &[S(kind), I(other), S(&account), S("演示异常"), T(crate::now())],
        )
        .await?;
        let mut payees = [("provider", provider), (kind, other)];
        payees.sort_unstable();
        let subject = payees.iter().map(|(k, id)| format!("{k}:{id}")).collect::<Vec<_>>().join(",");
        out.anomalies.push(("shared_bank_account", format!("payees:{subject}")));
    }
    db.analyze().await?;
    Ok(out)
}
