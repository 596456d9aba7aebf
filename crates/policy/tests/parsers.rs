//! The parsers that take input from outside never panic, whatever they are given: arbitrary
//! text as a case, arbitrary JSON shapes, arbitrary ID numbers and credit codes. A refusal is an
//! error naming where, never a crash.

use jineng_domain::{CreditCode, IdNumber};
use proptest::prelude::*;

/// JSON values of any shape, a few levels deep, with the case's own keys among the names.
fn json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        "[0-9A-Za-z\\-:]{0,20}".prop_map(serde_json::Value::from),
        Just(serde_json::Value::from("411702199205100216")),
        Just(serde_json::Value::from("2020-02-30")),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        let key = prop_oneof![
            Just("format".to_owned()),
            Just("people".to_owned()),
            Just("claims".to_owned()),
            Just("trainings".to_owned()),
            Just("certificates".to_owned()),
            Just("granted".to_owned()),
            Just("id".to_owned()),
            Just("kind".to_owned()),
            Just("person".to_owned()),
            Just("filed".to_owned()),
            "[a-z_]{1,12}",
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
            prop::collection::btree_map(key, inner, 0..8)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_text_as_a_case_is_refused_or_decided_without_a_panic(text in "\\PC{0,400}") {
        let params = jineng_policy::Params::shipped();
        let _ = jineng_policy::adjudicate(&text, &params, "411700");
    }

    #[test]
    fn any_json_shape_as_a_case_is_refused_or_decided_without_a_panic(mut v in json()) {
        if let Some(o) = v.as_object_mut() {
            o.insert("format".into(), "jineng-case/1".into());
        }
        let params = jineng_policy::Params::shipped();
        if let Err(e) = jineng_policy::adjudicate(&v.to_string(), &params, "411700") {
            prop_assert!(!e.message.is_empty());
        }
    }

    #[test]
    fn any_id_number_or_credit_code_is_refused_or_parsed_without_a_panic(s in "\\PC{0,30}", digits in "[0-9X]{18}") {
        let _ = IdNumber::parse(&s);
        let _ = IdNumber::parse(&digits);
        let _ = CreditCode::parse(&s);
        let _ = CreditCode::parse(&digits);
    }
}
