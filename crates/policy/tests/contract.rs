//! Bad input, parameters and the month arithmetic of the contract.

use chrono::NaiveDate;
use jineng_policy::engine::add_months;
use jineng_policy::{parse, Params};
use serde_json::{json, Value};

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn base() -> Value {
    json!({
        "format": "jineng-case/1",
        "name": "base",
        "people": [{"id_number": "411702199205100216", "name": "王小红", "hukou": "411702", "residence": "411702",
                    "rural": true, "monthly_pension": false, "insured_since": null, "business_started": null, "groups": []}],
        "trainings": [{"id": "t1", "person": "411702199205100216", "kind": "employment", "occupation": "4-10-01-05", "level": 5,
                       "county": "411702", "provider": "52411702MA3X00010J", "start": "2020-01-06", "end": "2020-01-20",
                       "days": 15, "attended_days": 15, "in_system": true, "project_based": false}],
        "certificates": [{"id": "c1", "person": "411702199205100216", "training": "t1", "kind": "skill_level",
                          "occupation": "4-10-01-05", "level": 5, "issued": "2020-01-25", "serial": "S1"}],
        "claims": [{"id": "k1", "kind": "training_subsidy", "filed": "2020-02-01", "person": "411702199205100216", "certificate": "c1"}]
    })
}

fn err(v: Value) -> (String, String) {
    let e = parse(&v.to_string()).unwrap_err();
    (e.path, e.message)
}

#[test]
fn the_base_case_decides() {
    let c = parse(&base().to_string()).unwrap();
    let params = Params::shipped();
    let d = jineng_policy::Engine::new(&params, "411700").decide(&c);
    assert_eq!(d[0].amount_fen, 100_000);
}

#[test]
fn not_json_is_bad_input() {
    let e = parse("{\"format\": ").unwrap_err();
    assert!(!e.message.is_empty());
}

#[test]
fn a_missing_field_names_its_path() {
    let mut v = base();
    v["people"][0].as_object_mut().unwrap().remove("name");
    let (path, message) = err(v);
    assert_eq!(path, "people[0]");
    assert!(message.contains("name"), "{message}");
}

#[test]
fn a_bad_id_number_names_the_field_and_the_reason() {
    let mut v = base();
    v["people"][0]["id_number"] = json!("411702199205100217");
    assert_eq!(err(v), ("people[0].id_number".into(), "校验码错误 / check digit wrong".into()));
}

#[test]
fn an_unknown_certificate_is_bad_input() {
    let mut v = base();
    v["claims"][0]["certificate"] = json!("c9");
    let (path, message) = err(v);
    assert_eq!(path, "claims[0].certificate");
    assert!(message.contains("c9"));
}

#[test]
fn a_claim_without_a_field_its_kind_needs_is_bad_input() {
    let mut v = base();
    v["claims"][0] = json!({"id": "k1", "kind": "on_the_job", "filed": "2020-02-01", "person": "411702199205100216", "employer": "x"});
    assert_eq!(err(v).0, "claims[0].employer");
}

#[test]
fn an_unknown_parameter_key_is_bad_input() {
    let mut v = base();
    v["parameters"] = json!({"training_subsidy_fen": {"level6": 1}});
    assert_eq!(err(v).0, "parameters.training_subsidy_fen.level6");
}

#[test]
fn an_unknown_group_or_kind_names_its_path() {
    let mut v = base();
    v["people"][0]["groups"] = json!([{"group": "martian", "from": "2019-01-01", "to": null}]);
    assert!(err(v).0.starts_with("people[0].groups[0]"));
    let mut v = base();
    v["claims"][0]["kind"] = json!("free_money");
    assert!(err(v).0.starts_with("claims[0]"));
}

#[test]
fn duplicate_ids_and_dangling_references_are_bad_input() {
    let mut v = base();
    let t = v["trainings"][0].clone();
    v["trainings"].as_array_mut().unwrap().push(t);
    assert_eq!(err(v).0, "trainings[1]");
    let mut v = base();
    v["certificates"][0]["training"] = json!("t7");
    assert_eq!(err(v).0, "certificates[0].training");
    let mut v = base();
    v["certificates"][0]["level"] = json!(null);
    assert_eq!(err(v).0, "certificates[0].level", "a skill-level certificate needs a level");
}

#[test]
fn months_clamp_to_the_end_of_the_month() {
    assert_eq!(add_months(d("2020-08-31"), 6), d("2021-02-28"));
    assert_eq!(add_months(d("2020-02-29"), 12), d("2021-02-28"));
    assert_eq!(add_months(d("2019-01-31"), 1), d("2019-02-28"));
    assert_eq!(add_months(d("2020-01-31"), 1), d("2020-02-29"));
}

#[test]
fn the_shipped_parameters_load_and_the_version_in_force_follows_the_date() {
    let p = Params::shipped();
    let k = jineng_policy::Key::UpgradeMinInsuredMonths;
    assert_eq!(p.version(k, d("2018-12-31")).value, 36);
    assert_eq!(p.version(k, d("2019-01-01")).value, 12);
    assert_eq!(p.version(k, d("2021-12-31")).value, 12);
    assert_eq!(p.version(k, d("2022-01-01")).value, 36);
    // Values the plan fixes are exact.
    let at = d("2020-06-01");
    use jineng_policy::Key::*;
    for (key, want) in [
        (OnTheJobFenPerMonth, 20_000),
        (OnTheJobMaxMonths, 6),
        (EquipmentPercent, 20),
        (EquipmentCapBase, 50_000_000),
        (EquipmentCapStudio, 10_000_000),
        (ProjectAdvancePercent, 50),
        (CertificatesPerYear, 3),
        (EntrepreneurshipMaxYears, 5),
    ] {
        assert_eq!(p.version(key, at).value, want, "{}", key.name());
        assert!(p.get(key).fixed_by_plan);
    }
}

#[test]
fn a_parameter_file_with_an_unknown_key_or_a_value_without_source_is_refused() {
    let shipped = jineng_policy::params::SHIPPED;
    let unknown = format!("{shipped}\n[[parameter]]\nkey = \"bonus_fen\"\nname_zh = \"x\"\nunit = \"fen\"\n[[parameter.version]]\nfrom = \"2019-01-01\"\nvalue = 1\nsource = \"x\"\n");
    assert!(Params::from_toml(&unknown).unwrap_err().to_string().contains("unknown parameter key"));
    let no_source = shipped.replacen("source = \"方案 S5：按每人每月200元的标准 / plan clause S5\"", "", 1);
    assert!(Params::from_toml(&no_source).unwrap_err().to_string().contains("without a source"));
    let missing = shipped.replacen("key = \"pre_job_subsidy_fen\"", "key = \"on_the_job_fen_per_month\"", 1);
    assert!(Params::from_toml(&missing).is_err());
}

#[test]
fn scheduling_a_value_keeps_the_old_one_for_earlier_dates() {
    let mut p = Params::shipped();
    let k = jineng_policy::Key::LivingFenPerDay;
    p.schedule(k, d("2021-07-01"), 4_000, "市人社局、财政局2021年6月通知").unwrap();
    assert_eq!(p.version(k, d("2021-06-30")).value, 3_000);
    assert_eq!(p.version(k, d("2021-07-01")).value, 4_000);
    assert!(p.schedule(jineng_policy::Key::OnTheJobFenPerMonth, d("2021-07-01"), 1, "x").is_err(), "fixed by the plan");
    assert!(p.schedule(k, d("2021-01-01"), 1, "x").is_err(), "must start after the last value");
}
