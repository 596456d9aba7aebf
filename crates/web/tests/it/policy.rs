//! The policy engine over HTTP and its pages, on both backends.

use crate::common::spawn_app;
use axum::http::{Method, StatusCode};
use jineng_domain::Role;
use jineng_store::testing::both_backends;
use serde_json::json;

const EXAMPLE: &str = include_str!("../../../../policy/cases/contract-example-yearly-cap-and-on-the-job.json");

both_backends! {
    async fn adjudicate_over_http_answers_like_the_cli_and_refuses_bad_input_with_its_path(backend: &'static str) {
        let app = spawn_app(backend).await;
        let case: serde_json::Value = serde_json::from_str(EXAMPLE).unwrap();
        let r = app.api(Some(Role::County), Method::POST, "/api/v1/adjudicate", Some(case.clone())).await;
        assert_eq!(r.status, StatusCode::OK, "{backend}: {}", r.body);
        let d = r.json();
        let got = d["decisions"].as_array().unwrap();
        assert_eq!(got.len(), 5);
        assert_eq!(got[0]["payee"]["provider"], "52411702MA3X00010J");
        assert_eq!(got[3]["reasons"][0]["code"], "S7.yearly_cap");
        assert_eq!(got[4]["amount_fen"], 120_000);
        let mut bad = case.clone();
        bad["claims"][0]["certificate"] = json!("c99");
        let r = app.api(Some(Role::County), Method::POST, "/api/v1/adjudicate", Some(bad)).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.json()["error"]["fields"]["claims[0].certificate"].as_str().unwrap().contains("c99"));
    }
}

both_backends! {
    async fn the_city_schedules_a_new_value_and_earlier_events_keep_the_old_one(backend: &'static str) {
        let app = spawn_app(backend).await;
        let admin = Some(Role::CityAdmin);
        let past = app
            .api(
                admin,
                Method::POST,
                "/api/v1/parameters",
                Some(
                    json!({"key": "living_allowance_fen_per_day", "from": "2020-01-01", "value": 5000, "source": "x"}),
                ),
            )
            .await;
        assert_eq!(past.status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}: only future dates");
        let fixed = app
            .api(
                admin,
                Method::POST,
                "/api/v1/parameters",
                Some(json!({"key": "on_the_job_fen_per_month", "from": "2099-01-01", "value": 1, "source": "x"})),
            )
            .await;
        assert_eq!(fixed.status, StatusCode::UNPROCESSABLE_ENTITY, "the plan fixes 200 yuan a month");
        let unsourced = app
            .api(
                admin,
                Method::POST,
                "/api/v1/parameters",
                Some(
                    json!({"key": "living_allowance_fen_per_day", "from": "2099-01-01", "value": 5000, "source": " "}),
                ),
            )
            .await;
        assert_eq!(unsourced.status, StatusCode::UNPROCESSABLE_ENTITY);
        let ok = app.api(admin, Method::POST, "/api/v1/parameters", Some(json!({"key": "living_allowance_fen_per_day", "from": "2099-01-01", "value": 5000, "source": "驻人社〔2098〕1号"}))).await;
        assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.body);
        let list = app.api(Some(Role::Auditor), Method::GET, "/api/v1/parameters", None).await.json();
        let p = list.as_array().unwrap().iter().find(|p| p["key"] == "living_allowance_fen_per_day").unwrap().clone();
        assert_eq!(p["in_force"], 3000);
        assert_eq!(p["versions"].as_array().unwrap().len(), 2);
        assert_eq!(p["versions"][1]["scheduled"], true);
        assert!(p["versions"][1]["source"].as_str().unwrap().contains("驻人社〔2098〕1号"));
        // A living allowance for a training that starts in 2099 uses the new value; one in 2020 the old.
        let case = |start: &str| {
            json!({"format": "jineng-case/1", "name": "x",
            "people": [{"id_number": "411702199205100216", "name": "王小红", "hukou": "411702", "residence": "411702", "rural": true, "monthly_pension": false,
                        "groups": [{"group": "poor_worker", "from": "2018-01-01", "to": null}]}],
            "trainings": [{"id": "t1", "person": "411702199205100216", "kind": "employment", "occupation": "4-10-01-05", "level": null, "county": "411702",
                           "provider": "52411702MA3X00010J", "start": start, "end": start, "days": 10, "attended_days": 10, "in_system": true, "project_based": false}],
            "claims": [{"id": "k1", "kind": "living_allowance", "filed": start, "person": "411702199205100216", "training": "t1"}]})
        };
        let old = app.api(admin, Method::POST, "/api/v1/adjudicate", Some(case("2020-05-01"))).await.json();
        assert_eq!(old["decisions"][0]["amount_fen"], 30_000);
        let new = app.api(admin, Method::POST, "/api/v1/adjudicate", Some(case("2099-05-01"))).await.json();
        assert_eq!(new["decisions"][0]["amount_fen"], 50_000);
        assert_eq!(new["decisions"][0]["parameters"][0]["effective_from"], "2099-01-01");
        // A county office cannot schedule values.
        let r = app
            .api(
                Some(Role::County),
                Method::POST,
                "/api/v1/parameters",
                Some(json!({"key": "living_allowance_fen_per_day", "from": "2099-06-01", "value": 1, "source": "x"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    }
}

both_backends! {
    async fn the_parameter_page_and_the_explanation_page_show_sources_rules_and_clause_text(backend: &'static str) {
        let app = spawn_app(backend).await;
        let r = app.page(Some(Role::CityAdmin), Method::GET, "/policy/parameters", &[], false).await;
        assert_eq!(r.status, StatusCode::OK, "{backend}");
        assert!(
            r.body.contains("方案规定") && r.body.contains("国办发〔2019〕24号") && r.body.contains("id=\"schedule\"")
        );
        let r = app.page(Some(Role::Auditor), Method::GET, "/policy/parameters", &[], false).await;
        assert!(!r.body.contains("id=\"schedule\""), "only the city admin schedules");
        let r = app
            .page(
                Some(Role::CityAdmin),
                Method::POST,
                "/policy/parameters",
                &[
                    ("key", "pre_job_subsidy_fen"),
                    ("from", "2099-03-01"),
                    ("value", "600"),
                    ("source", "市人社局通知"),
                ],
                true,
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let r = app.page(Some(Role::CityAdmin), Method::GET, "/policy/parameters", &[], false).await;
        assert!(r.body.contains("2099-03-01") && r.body.contains("市人社局通知"));
        let r = app.page(Some(Role::County), Method::POST, "/policy/explain", &[("case", EXAMPLE)], true).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(
            r.body.contains("每人每年享受次数不超过上限") && r.body.contains("原则上每人每年可享受不超过3次"),
            "rule in words and the plan's words"
        );
        assert!(!r.body.contains(">s7_yearly_cap<") && !r.body.contains(">training_subsidy_fen."), "no rule or parameter keys shown");
        assert!(r.body.contains("职业培训补贴标准·"), "parameters by name");
        assert!(r.body.contains("S7.yearly_cap") && r.body.contains("¥1,200.00"));
        let r =
            app.page(Some(Role::County), Method::POST, "/policy/explain", &[("case", "{\"format\": 1}")], true).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("format"));
    }
}

both_backends! {
    async fn a_new_amount_is_typed_in_yuan_stored_in_fen_and_shown_in_yuan(backend: &'static str) {
        let app = spawn_app(backend).await;
        let admin = Some(Role::CityAdmin);
        let schedule = |key: &'static str, from: &'static str, value: &'static str| {
            [("key", key), ("from", from), ("value", value), ("source", "驻人社〔2099〕1号")]
        };
        // Yuan with fen, and with a thousands separator.
        let form = schedule("training_subsidy_fen.level5", "2099-03-01", "1,200.50");
        let r = app.page(admin, Method::POST, "/policy/parameters", &form, true).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{backend}: {}", r.body);
        let form = schedule("living_allowance_fen_per_day", "2099-03-01", "45");
        let r = app.page(admin, Method::POST, "/policy/parameters", &form, true).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{backend}: {}", r.body);
        // A value that is no money is a whole number as it is typed.
        let form = schedule("skill_upgrade_min_insured_months", "2099-03-01", "24");
        let r = app.page(admin, Method::POST, "/policy/parameters", &form, true).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{backend}: {}", r.body);
        let listed = app.api(admin, Method::GET, "/api/v1/parameters", None).await.json();
        let last = |key: &str| {
            let p = listed.as_array().unwrap().iter().find(|p| p["key"] == key).unwrap();
            p["versions"].as_array().unwrap().last().unwrap()["value"].clone()
        };
        assert_eq!(last("training_subsidy_fen.level5"), json!(120_050), "{backend}: stored in fen");
        assert_eq!(last("living_allowance_fen_per_day"), json!(4_500), "{backend}");
        assert_eq!(last("skill_upgrade_min_insured_months"), json!(24), "{backend}");
        let page = app.page(admin, Method::GET, "/policy/parameters", &[], false).await.body;
        let row = &page[page.find(r#"data-key="training_subsidy_fen.level5""#).unwrap()..];
        let row = &row[..row.find("</tr>").unwrap()];
        assert!(row.contains("2099-03-01 起：¥1,200.50"), "{backend}: shown in yuan: {row}");
        // More than two decimals, a negative amount, words: refused at the value, in Chinese first.
        for bad in ["12.345", "-5", "一千", "1e3"] {
            let form = schedule("training_subsidy_fen.level4", "2099-04-01", bad);
            let r = app.page(admin, Method::POST, "/policy/parameters", &form, true).await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}: {bad}");
            assert!(r.body.contains("请按元填写金额"), "{backend}: {bad}: {}", r.body);
            assert!(r.body.contains(&format!(r#"value="{bad}""#)), "{backend}: {bad} is kept");
        }
        // Months are whole months; no amount above 10 billion yuan.
        let form = schedule("skill_upgrade_min_insured_months", "2099-05-01", "6.5");
        let r = app.page(admin, Method::POST, "/policy/parameters", &form, true).await;
        assert!(r.status == StatusCode::UNPROCESSABLE_ENTITY && r.body.contains("请填写整数"), "{backend}: {}", r.body);
        let form = schedule("training_subsidy_fen.level4", "2099-05-01", "10000000000.01");
        let r = app.page(admin, Method::POST, "/policy/parameters", &form, true).await;
        assert!(r.status == StatusCode::UNPROCESSABLE_ENTITY && r.body.contains("100亿元"), "{backend}: {}", r.body);
        let listed = app.api(admin, Method::GET, "/api/v1/parameters", None).await.json();
        let level4 = listed.as_array().unwrap().iter().find(|p| p["key"] == "training_subsidy_fen.level4").unwrap();
        assert_eq!(level4["versions"].as_array().unwrap().len(), 1, "{backend}: nothing refused was stored");
    }
}

/// The trial in words: the example the page fills in, with `changes` made to it.
fn trial(changes: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    let mut form = vec![
        ("group", "poor_worker"),
        ("group_from", "2018-01-01"),
        ("hukou", "411702"),
        ("rural", "1"),
        ("birth", "1990-05-10"),
        ("insured_since", ""),
        ("training_kind", "employment"),
        ("occupation", "4-10-01-05"),
        ("level", "5"),
        ("county", "411702"),
        ("start", "2020-01-06"),
        ("end", "2020-01-20"),
        ("days", "15"),
        ("attended", "15"),
        ("in_system", "1"),
        ("cert_kind", "skill_level"),
        ("issued", "2020-01-25"),
        ("earlier", "0"),
    ];
    for (k, v) in changes {
        form.retain(|(key, _)| key != k);
        if !v.is_empty() {
            form.push((k, v));
        }
    }
    form
}

both_backends! {
    async fn a_trial_in_words_decides_what_a_certificate_brings_and_names_every_wrong_field(backend: &'static str) {
        let app = spawn_app(backend).await;
        let county = Some(Role::County);
        let r = app.page(county, Method::GET, "/policy/explain", &[], false).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains("id=\"trial\"") && r.body.contains("人员类别") && r.body.contains("贫困劳动力"), "a form in words");
        assert!(!r.body.contains("id=\"form-errors\""), "no errors before anything is sent");

        // The example: a poor worker's level-5 certificate brings a training subsidy, paid to the
        // provider (free training, S1), and a living allowance (S2), both granted.
        let r = app.page(county, Method::POST, "/policy/explain", &trial(&[]), true).await;
        assert_eq!(r.status, StatusCode::OK, "{backend}: {}", r.body);
        assert!(r.body.contains("职业培训补贴") && r.body.contains("生活费补贴"), "{}", r.body);
        assert_eq!(r.body.matches("核准 approved").count(), 2, "{}", r.body);
        assert!(r.body.contains("支付对象 payee 培训机构"), "S1: paid to the provider");
        let result = r.body.split("id=\"result\"").nth(1).expect("a result");
        assert!(!result.contains("52411702MA3X00010J"), "the trial's made-up codes are not shown");
        assert!(r.body.contains("value=\"4-10-01-05\""), "what was typed stays");

        // Three certificate subsidies already this year: the fourth is refused by S7's cap.
        let r = app.page(county, Method::POST, "/policy/explain", &trial(&[("earlier", "3")]), true).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains("不予补贴 rejected") && r.body.contains("S7.yearly_cap"), "{}", r.body);
        // A monthly pension: S8.
        let r = app.page(county, Method::POST, "/policy/explain", &trial(&[("pension", "1")]), true).await;
        assert!(r.body.contains("S8"), "{}", r.body);

        // Every wrong field at once, each named in words at the top and at the field, what was typed kept.
        let bad = trial(&[("days", "abc"), ("occupation", "养老"), ("issued", "2020-01-10"), ("level", "9"), ("hukou", "x")]);
        let r = app.page(county, Method::POST, "/policy/explain", &bad, true).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        let summary = r.body.split("id=\"form-errors\"").nth(1).expect("a summary").split("</div>").next().unwrap();
        for label in ["培训天数", "职业编码", "发证日期", "等级", "户籍所在县区"] {
            assert!(summary.contains(label), "{label} in the summary: {summary}");
        }
        assert!(!summary.contains("days:") && !summary.contains("trainings["), "no raw keys: {summary}");
        assert!(r.body.matches("class=\"field-error\"").count() >= 5);
        assert!(r.body.contains("value=\"abc\"") && r.body.contains("value=\"养老\""), "typed values kept");
        assert!(!r.body.contains("id=\"result\""), "nothing decided");

        // Workers do not reach the trial (it is for staff who decide).
        let r = app.page(Some(Role::Worker), Method::GET, "/policy/explain", &[], false).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    }
}
