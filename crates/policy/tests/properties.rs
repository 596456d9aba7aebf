//! Properties of the engine over random cases.

use jineng_domain::{AreaCode, IdNumber};
use jineng_policy::{parse, Engine, Params};
use proptest::prelude::*;
use serde_json::{json, Value};
use std::collections::HashMap;

const OCCUPATIONS: [&str; 3] = ["4-10-01-05", "6-31-01-03", "4-03-02-01"];

#[derive(Debug, Clone)]
struct Cert {
    occupation: usize,
    level: Option<u8>,
    day: u32,
    kind: u8,
}

fn person_json(i: usize, employee: bool) -> (String, Value) {
    let id = IdNumber::from_parts(AreaCode::parse("411722").unwrap(), "1990-01-01".parse().unwrap(), i as u16)
        .as_str()
        .to_owned();
    let groups = if employee {
        json!([{"group": "employee", "from": "2015-01-01", "to": null}])
    } else {
        json!([{"group": "poor_worker", "from": "2015-01-01", "to": null}])
    };
    (
        id.clone(),
        json!({"id_number": id, "name": format!("人{i}"), "hukou": "411722", "residence": "411722", "rural": true,
        "monthly_pension": false, "insured_since": "2015-01-01", "business_started": null, "groups": groups}),
    )
}

/// A case of several people, each with certificates and claims of both certificate kinds and
/// on-the-job claims; claims of one person are filed in order.
fn build(people: &[(bool, Vec<Cert>, Vec<i64>)], order: &[usize]) -> Value {
    let mut v = json!({"format": "jineng-case/1", "name": "random", "people": [], "employers": [
        {"credit_code": "91411722MA0000001X", "name": "某企业", "kind": "enterprise", "insured": true, "county": "411722"}],
        "employments": [], "trainings": [], "certificates": [], "claims": []});
    for &pi in order {
        let (employee, certs, months) = &people[pi];
        let (id, p) = person_json(pi, *employee);
        v["people"].as_array_mut().unwrap().push(p);
        v["employments"]
            .as_array_mut()
            .unwrap()
            .push(json!({"person": id, "employer": "91411722MA0000001X", "from": "2015-01-01", "to": null}));
        for (ci, c) in certs.iter().enumerate() {
            let tid = format!("t{pi}-{ci}");
            let kind = ["skill_level", "special_ability", "training_completion"][c.kind as usize % 3];
            let level = if kind == "skill_level" { Some(c.level.unwrap_or(5)) } else { c.level };
            let issued = chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap() + chrono::Days::new(c.day as u64);
            v["trainings"].as_array_mut().unwrap().push(json!({"id": tid, "person": id, "kind": "employment", "occupation": OCCUPATIONS[c.occupation],
                "level": level, "county": "411722", "provider": "52411702MA3X00010J", "start": "2019-12-01", "end": "2019-12-20",
                "days": 15, "attended_days": 15, "in_system": true, "project_based": false}));
            v["certificates"].as_array_mut().unwrap().push(json!({"id": format!("c{pi}-{ci}"), "person": id, "training": tid, "kind": kind,
                "occupation": OCCUPATIONS[c.occupation], "level": level, "issued": issued.to_string(), "serial": format!("S{pi}-{ci}")}));
            for (k, claim_kind) in ["training_subsidy", "skill_upgrade_subsidy"].iter().enumerate() {
                v["claims"].as_array_mut().unwrap().push(json!({"id": format!("k{pi}-{ci}-{k}"), "kind": claim_kind,
                    "filed": (issued + chrono::Days::new(10 + k as u64)).to_string(), "person": id, "certificate": format!("c{pi}-{ci}")}));
            }
        }
        for (m, months) in months.iter().enumerate() {
            v["claims"].as_array_mut().unwrap().push(json!({"id": format!("o{pi}-{m}"), "kind": "on_the_job",
                "filed": format!("2021-0{}-01", m + 1), "employer": "91411722MA0000001X", "person": id, "from": "2020-01-01", "months": months}));
        }
    }
    v
}

fn cert() -> impl Strategy<Value = Cert> {
    (0usize..3, prop::option::of(3u8..=5), 0u32..800, 0u8..3).prop_map(|(occupation, level, day, kind)| Cert {
        occupation,
        level,
        day,
        kind,
    })
}

fn people() -> impl Strategy<Value = Vec<(bool, Vec<Cert>, Vec<i64>)>> {
    prop::collection::vec(
        (any::<bool>(), prop::collection::vec(cert(), 0..7), prop::collection::vec(1i64..9, 0..3)),
        1..5,
    )
}

/// Decisions as JSON values (what a user sees).
fn decide(v: &Value) -> Vec<Value> {
    let c = parse(&v.to_string()).expect("generated cases are valid");
    let params = Params::shipped();
    let ds = Engine::new(&params, "411700").decide(&c);
    ds.iter().map(|d| serde_json::to_value(d).unwrap()).collect()
}

fn claim(d: &Value) -> &str {
    d["claim"].as_str().unwrap()
}

fn amount(d: &Value) -> i64 {
    d["amount_fen"].as_i64().unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn no_decision_pays_more_than_its_cap(ps in people()) {
        let v = build(&ps, &(0..ps.len()).collect::<Vec<_>>());
        let mut months: HashMap<String, i64> = HashMap::new();
        for d in decide(&v) {
            prop_assert!(amount(&d) >= 0);
            prop_assert!(amount(&d) <= 300_000, "no certificate subsidy above the level-1 standard");
            if claim(&d).starts_with('o') {
                prop_assert!(amount(&d) <= 6 * 20_000);
                let person = claim(&d).split('-').next().unwrap().to_owned();
                *months.entry(person).or_default() += amount(&d) / 20_000;
            }
        }
        prop_assert!(months.values().all(|m| *m <= 6), "at most six months of on-the-job subsidy per person");
    }

    #[test]
    fn certificate_subsidies_respect_the_yearly_number_and_never_repeat_an_occupation_and_level(ps in people()) {
        let v = build(&ps, &(0..ps.len()).collect::<Vec<_>>());
        let certs: HashMap<String, &Value> = v["certificates"].as_array().unwrap().iter().map(|c| (c["id"].as_str().unwrap().to_owned(), c)).collect();
        let claims: HashMap<String, &Value> = v["claims"].as_array().unwrap().iter().map(|c| (c["id"].as_str().unwrap().to_owned(), c)).collect();
        let mut per_year: HashMap<(String, String), usize> = HashMap::new();
        let mut seen = std::collections::HashSet::new();
        let mut per_cert: HashMap<String, usize> = HashMap::new();
        for d in decide(&v) {
            if claim(&d).starts_with('o') || d["outcome"] == "rejected" { continue; }
            let claim = claims[claim(&d)];
            let cert = certs[claim["certificate"].as_str().unwrap()];
            let person = cert["person"].as_str().unwrap().to_owned();
            let year = cert["issued"].as_str().unwrap()[..4].to_owned();
            *per_year.entry((person.clone(), year)).or_default() += 1;
            prop_assert!(seen.insert((person, cert["occupation"].to_string(), cert["level"].to_string())), "same occupation and level paid twice");
            *per_cert.entry(cert["id"].to_string()).or_default() += 1;
        }
        prop_assert!(per_year.values().all(|n| *n <= 3));
        prop_assert!(per_cert.values().all(|n| *n <= 1), "one certificate, one subsidy (S3 either-or)");
    }

    #[test]
    fn deciding_twice_gives_the_same_result(ps in people()) {
        let v = build(&ps, &(0..ps.len()).collect::<Vec<_>>());
        prop_assert_eq!(decide(&v), decide(&v));
    }

    #[test]
    fn the_order_of_independent_people_does_not_matter(ps in people(), seed in any::<u64>()) {
        let forward: Vec<usize> = (0..ps.len()).collect();
        let mut shuffled = forward.clone();
        let n = shuffled.len();
        for i in (1..n).rev() {
            shuffled.swap(i, (seed as usize).wrapping_mul(i + 7) % (i + 1));
        }
        let by_claim = |ds: Vec<Value>| ds.into_iter().map(|d| (claim(&d).to_owned(), d)).collect::<std::collections::BTreeMap<_, _>>();
        prop_assert_eq!(by_claim(decide(&build(&ps, &forward))), by_claim(decide(&build(&ps, &shuffled))));
    }
}
