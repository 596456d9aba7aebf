//! The public column and fund-use disclosure (M3, S12) and the budget against commitments (S6):
//! open without signing in, Chinese first, small counts suppressed in pages, CSV and JSON so that
//! no total gives them back, no personal data anywhere, budget figures that add up.

use crate::common::*;
use axum::http::{header, Method, StatusCode};
use jineng_domain::{IdNumber, Role, TrainingKind};
use jineng_store::people::{self, NewPerson};
use jineng_store::testing::both_backends;
use jineng_store::training::{self, NewClass};
use serde_json::{json, Value};

macro_rules! exec {
    ($app:expr, $sql:expr $(, $arg:expr)*) => {
        jineng_store::with_pool!(&$app.db, |p| {
            sqlx::query($sql)$(.bind($arg))*.execute(p).await.unwrap();
        })
    };
}

fn d(s: &str) -> chrono::NaiveDate {
    s.parse().unwrap()
}

/// Every public page and open-data file, as an anonymous visitor gets them.
const PUBLIC: [&str; 8] = [
    "/public",
    "/public/disclosure",
    "/open/money.csv",
    "/open/money.json",
    "/open/trainees.csv",
    "/open/trainees.json",
    "/open/funds.csv",
    "/open/funds.json",
];

/// The name, ID number and phone of a person seeded with completions.
const KNOWN_NAME: &str = "王秀英";
const KNOWN_PHONE: &str = "13900001111";

/// A provider in `county` with a class of `occupation` in which `n` new people completed
/// (numbered from `seq`); the first is named [`KNOWN_NAME`] with [`KNOWN_PHONE`].
async fn completions(app: &TestApp, name: &str, county: &str, occupation: &str, n: u16, seq: u16) -> i64 {
    use jineng_domain::{AreaCode, CreditCode};
    use jineng_store::orgs::{self, OrgInput, OrgKind};
    let provider_id = orgs::create(
        &app.db,
        None,
        OrgKind::Provider,
        &OrgInput {
            credit_code: CreditCode::generate(AreaCode::parse(county).unwrap(), u64::from(seq)).to_string(),
            legacy: false,
            name: name.into(),
            county_code: county.into(),
            kind: None,
            insured: false,
            status: None,
        },
    )
    .await
    .unwrap();
    let class = training::create_class(
        &app.db,
        None,
        &NewClass {
            name: format!("{name}{occupation}班"),
            program_code: "P2a".into(),
            occupation_code: occupation.into(),
            level: None,
            kind: TrainingKind::SkillUpgrade,
            county_code: county.into(),
            provider_id,
            start_date: d("2020-05-04"),
            end_date: d("2020-05-22"),
            subsidised: true,
        },
    )
    .await
    .unwrap();
    for i in 0..n {
        let person = people::create(
            &app.db,
            None,
            &NewPerson {
                id_number: IdNumber::parse(&id_number(county, seq + i)).unwrap(),
                name: if i == 0 { KNOWN_NAME.into() } else { "张伟".into() },
                county_code: county.into(),
                phone: Some(if i == 0 { KNOWN_PHONE.into() } else { format!("1370000{:04}", seq + i) }),
                rural: true,
                groups: vec![],
            },
        )
        .await
        .unwrap();
        let e = training::enrol(&app.db, None, class, person, d("2020-05-01")).await.unwrap();
        training::complete(&app.db, None, e, d("2020-05-22")).await.unwrap();
    }
    provider_id
}

/// Every public output must be free of the seeded people's names, ID numbers and phones.
async fn no_personal_data(app: &TestApp, backend: &str, people: &[(String, String, String)]) {
    for path in PUBLIC {
        let r = app.page(None, Method::GET, path, &[], false).await;
        assert_eq!(r.status, StatusCode::OK, "{backend}: {path}: {}", &r.body[..r.body.len().min(300)]);
        for (name, id, phone) in people {
            for secret in [name, id, phone] {
                assert!(!r.body.contains(secret.as_str()), "{backend}: {path} shows {secret}");
            }
        }
    }
}

both_backends! {
    async fn the_public_column_opens_without_signing_in_in_chinese(backend: &'static str) {
        let app = spawn_app(backend).await;
        let column = app.page(None, Method::GET, "/public", &[], false).await;
        assert_eq!(column.status, StatusCode::OK, "{backend}: {}", column.body);
        for words in ["职业技能提升行动专栏", "驻马店市职业技能提升行动方案", "2019-01-01 至 2021-12-31", "补贴参数及生效日期",
                      "href=\"/public/disclosure\"", "href=\"/catalog\"", "href=\"/notice\""] {
            assert!(column.body.contains(words), "{backend}: /public lacks {words}");
        }
        let page = app.page(None, Method::GET, "/public/disclosure", &[], false).await;
        assert_eq!(page.status, StatusCode::OK, "{backend}: {}", page.body);
        for words in ["资金使用公开", "就业补助资金", "失业保险基金", "人次或笔数为1至4的单元格不公开", "href=\"/open/money.csv\""] {
            assert!(page.body.contains(words), "{backend}: /public/disclosure lacks {words}");
        }
        // Both are in the anonymous menu.
        assert!(page.body.contains("title=\"Public column\""), "{backend}: menu");

        // Open data: UTF-8 CSV with a byte-order mark and a header row, JSON with its rule; both
        // say what they are and how to save them.
        for (path, header_row) in [
            ("/open/money.csv", "month,fund_code,fund_name,program_code,program_name,county_code,county_name,claims,amount_yuan,amount_fen,suppressed,suppression"),
            ("/open/trainees.csv", "provider_name,provider_credit_code,occupation_code,occupation_name,trainees,suppressed,suppression"),
            ("/open/funds.csv", "fund_code,fund_name,earmark_fen,earmark_document,earmark_adopted_on,allocated_fen,paid_fen,recovered_fen"),
        ] {
            let r = app.api(None, Method::GET, path, None).await;
            assert_eq!(r.status, StatusCode::OK, "{backend}: {path}");
            assert_eq!(r.headers[header::CONTENT_TYPE], "text/csv; charset=utf-8");
            assert!(r.headers[header::CONTENT_DISPOSITION].to_str().unwrap().starts_with("attachment; filename="));
            assert!(r.body.starts_with('\u{feff}'), "{backend}: {path} has no BOM");
            assert_eq!(r.body.trim_start_matches('\u{feff}').lines().next(), Some(header_row), "{backend}: {path}");
        }
        for path in ["/open/money.json", "/open/trainees.json", "/open/funds.json"] {
            let r = app.api(None, Method::GET, path, None).await;
            assert_eq!(r.status, StatusCode::OK, "{backend}: {path}");
            assert!(r.headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("application/json"));
            assert!(r.headers[header::CONTENT_DISPOSITION].to_str().unwrap().contains(".json"));
            let j = r.json();
            assert!(j["rule_zh"].as_str().unwrap().contains("<5"), "{backend}: {path}");
            assert!(j["rows"].is_array() && j["truncated"] == false, "{backend}: {path}");
        }
        let funds = app.api(None, Method::GET, "/open/funds.json", None).await.json();
        assert_eq!(funds["rows"].as_array().unwrap().len(), 2, "{backend}: two funds");

        // A client that takes gzip gets the file compressed (once a minute, not per request).
        for (accept, compressed) in [("gzip, deflate, br", true), ("gzip;q=0, br", false), ("br", false)] {
            use http_body_util::BodyExt;
            use tower::ServiceExt;
            let req = axum::http::Request::builder()
                .uri("/open/funds.csv")
                .header(header::ACCEPT_ENCODING, accept)
                .body(axum::body::Body::empty())
                .unwrap();
            let res = app.router.clone().oneshot(req).await.unwrap();
            let encoding = res.headers().get(header::CONTENT_ENCODING).map(|v| v.to_str().unwrap().to_owned());
            let bytes = res.into_body().collect().await.unwrap().to_bytes();
            let text = if compressed {
                assert_eq!(encoding.as_deref(), Some("gzip"), "{backend}: {accept}");
                let mut s = String::new();
                std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut s).unwrap();
                s
            } else {
                assert!(encoding.as_deref() != Some("gzip"), "{backend}: {accept}");
                String::from_utf8(bytes.to_vec()).unwrap_or_default()
            };
            assert!(text.starts_with("\u{feff}fund_code,"), "{backend}: {accept}: {text}");
        }

        // Query parameters are checked.
        for bad in ["/open/money.json?year=abc", "/open/money.csv?year=1850", "/public/disclosure?year=99999", "/public/disclosure?page=0"] {
            let r = app.page(None, Method::GET, bad, &[], false).await;
            assert!(r.status.is_client_error(), "{backend}: {bad} gave {}", r.status);
        }
        let r = app.api(None, Method::GET, "/open/money.json?year=2020", None).await;
        assert_eq!((r.status, r.json()["year"].as_i64()), (StatusCode::OK, Some(2020)), "{backend}");
    }
}

both_backends! {
    async fn fewer_than_five_trainees_are_suppressed_everywhere_and_no_total_gives_them_back(backend: &'static str) {
        let app = spawn_app(backend).await;
        // The test app's provider has one completion (6-31-01-03); two more providers have 7
        // and 12 in 家政服务员.
        completions(&app, "驿城区红星职业培训学校", "411702", "4-10-01-06", 7, 200).await;
        completions(&app, "西平县远航职业培训学校", "411721", "4-10-01-06", 12, 300).await;

        let j = app.api(None, Method::GET, "/open/trainees.json", None).await.json();
        let rows = j["rows"].as_array().unwrap();
        assert_eq!(rows.len(), 3, "{backend}: {rows:?}");
        let row = |provider: &str| rows.iter().find(|r| r["provider_name"] == provider).unwrap().clone();
        let small = row("上蔡县天中职业培训学校");
        assert_eq!((small["trainees"].clone(), small["suppressed"].clone(), small["suppression"].clone()),
                   (Value::Null, json!(true), json!("small")), "{backend}");
        // The one small cell has a companion: the smallest other cell.
        let companion = row("驿城区红星职业培训学校");
        assert_eq!((companion["trainees"].clone(), companion["suppression"].clone()), (Value::Null, json!("complementary")), "{backend}");
        assert_eq!(row("西平县远航职业培训学校")["trainees"], 12, "{backend}");
        // The total adds the published cells only: total − published cells gives nothing back.
        let published: i64 = rows.iter().filter_map(|r| r["trainees"].as_i64()).sum();
        assert_eq!((j["totals"]["count"].as_i64(), j["totals"]["suppressed_cells"].as_i64()), (Some(12), Some(2)), "{backend}");
        assert_eq!(j["totals"]["count"].as_i64().unwrap() - published, 0, "{backend}");

        // The same in CSV: empty figure, flagged.
        let csv = app.api(None, Method::GET, "/open/trainees.csv", None).await.body;
        let line = csv.lines().find(|l| l.starts_with("上蔡县天中职业培训学校")).unwrap();
        assert!(line.ends_with(",6-31-01-03,电工,,true,small"), "{backend}: {line}");
        let line = csv.lines().find(|l| l.starts_with("驿城区红星")).unwrap();
        assert!(line.ends_with(",,true,complementary"), "{backend}: {line}");
        assert!(!csv.lines().any(|l| l.contains(",7,") || l.contains(",1,false")), "{backend}: {csv}");

        // And on the page: "<5" for the small cell, "*" for its companion, the rule stated.
        let page = app.page(None, Method::GET, "/public/disclosure", &[], false).await.body;
        let table = &page[page.find("id=\"trainee-table\"").unwrap()..];
        let table = &table[..table.find("</table>").unwrap()];
        let row_of = |provider: &str| {
            let at = table.find(provider).unwrap();
            table[at..].split("</tr>").next().unwrap().to_owned()
        };
        assert!(row_of("上蔡县天中职业培训学校").contains("&lt;5"), "{backend}: {table}");
        assert!(row_of("驿城区红星职业培训学校").contains(">*<"), "{backend}: {table}");
        assert!(row_of("西平县远航职业培训学校").contains(">12<"), "{backend}");
        assert!(page.contains("合计 Total：12") && page.contains("另有 2 个单元格隐去未计"), "{backend}");

        // No name, ID number or phone of anyone in any public output.
        let people = vec![
            ("李娜".to_owned(), id_number(MY_COUNTY, 11), "13812345678".to_owned()),
            (KNOWN_NAME.to_owned(), id_number("411702", 200), KNOWN_PHONE.to_owned()),
            (KNOWN_NAME.to_owned(), id_number("411721", 300), KNOWN_PHONE.to_owned()),
        ];
        no_personal_data(&app, backend, &people).await;
    }
}

/// A claim of `fen` in `county` on the employment subsidy fund, in `status`.
async fn claim(app: &TestApp, key: &str, county: &str, status: &str, outcome: &str, fen: i64) {
    let ended = app.clock.today() - chrono::Duration::days(10);
    exec!(
        app,
        "INSERT INTO claim (idempotency_key, kind, person_id, county_code, filed_on, status, outcome, amount_fen, payee, fund, \
         decision, snapshot, created_at, notice_from, notice_until) \
         VALUES ($1, 'training_subsidy', $2, $3, $4, $5, $6, $7, '李娜', 'employment_subsidy_fund', '{}', '{}', $8, $9, $10)",
        key.to_owned(),
        app.my_person,
        county.to_owned(),
        ended,
        status.to_owned(),
        outcome.to_owned(),
        fen,
        chrono::Utc::now(),
        ended - chrono::Duration::days(7),
        ended
    );
}

async fn finance(app: &TestApp, op: Value) -> Value {
    let r = app.api(Some(Role::Finance), Method::POST, "/api/v1/payments", Some(op.clone())).await;
    assert_eq!(r.status, StatusCode::OK, "{op}: {}", r.body);
    r.json()
}

/// Finance proposes a fund's earmark, the city admin adopts it by a document on a day.
async fn adopt_earmark(app: &TestApp, backend: &str, fund: &str, amount_fen: i64, document: &str, on: &str) -> i64 {
    let r = app
        .api(
            Some(Role::Finance),
            Method::POST,
            "/api/v1/budget/earmarks",
            Some(json!({"fund": fund, "amount_fen": amount_fen, "reasoning": "失业保险基金结余测算"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{backend}: {}", r.body);
    let id = r.json()["proposal_id"].as_i64().unwrap();
    let r = app
        .api(
            Some(Role::CityAdmin),
            Method::POST,
            &format!("/api/v1/budget/earmarks/{id}/decision"),
            Some(json!({"decision": "adopt", "reason": "同意", "document": document, "adopted_on": on})),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{backend}: {}", r.body);
    id
}

both_backends! {
    async fn the_earmark_is_proposed_by_finance_and_adopted_or_returned_by_the_city(backend: &'static str) {
        let app = spawn_app(backend).await;
        const FUND: &str = "unemployment_insurance_fund";
        let earmark = |b: &Value| b["funds"].as_array().unwrap().iter().find(|f| f["fund_code"] == FUND).unwrap()["earmark_fen"].clone();
        // Pending until adopted.
        let b = app.api(Some(Role::Auditor), Method::GET, "/api/v1/budget", None).await.json();
        assert_eq!(earmark(&b), Value::Null, "{backend}");
        // Refused proposals name the field and keep nothing.
        for (body, field) in [
            (json!({"fund": FUND, "amount_fen": 1_000, "reasoning": "  "}), "reasoning"),
            (json!({"fund": FUND, "amount_fen": -1, "reasoning": "x"}), "amount_fen"),
            (json!({"fund": FUND, "amount_fen": i64::MAX, "reasoning": "x"}), "amount_fen"),
            (json!({"fund": "no_such_fund", "amount_fen": 1, "reasoning": "x"}), "fund"),
        ] {
            let r = app.api(Some(Role::Finance), Method::POST, "/api/v1/budget/earmarks", Some(body.clone())).await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}: {body}");
            assert!(r.json()["error"]["fields"][field].is_string(), "{backend}: {body}: {}", r.body);
        }
        // The city admin does not propose, finance does not decide.
        let r = app.api(Some(Role::CityAdmin), Method::POST, "/api/v1/budget/earmarks",
            Some(json!({"fund": FUND, "amount_fen": 1, "reasoning": "x"}))).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{backend}");
        let r = app.api(Some(Role::Finance), Method::POST, "/api/v1/budget/earmarks",
            Some(json!({"fund": FUND, "amount_fen": 30_000_000_000_i64, "reasoning": "2018年末结余12亿元，按25%安排"}))).await;
        assert_eq!(r.status, StatusCode::CREATED, "{backend}: {}", r.body);
        let first = r.json()["proposal_id"].as_i64().unwrap();
        let r = app.api(Some(Role::Finance), Method::POST, &format!("/api/v1/budget/earmarks/{first}/decision"),
            Some(json!({"decision": "adopt", "reason": "x", "document": "d"}))).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{backend}");
        // One open proposal per fund.
        let r = app.api(Some(Role::Finance), Method::POST, "/api/v1/budget/earmarks",
            Some(json!({"fund": FUND, "amount_fen": 1, "reasoning": "again"}))).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{backend}: {}", r.body);
        // Adopting needs the adopting document and a day no later than today.
        for (body, field) in [
            (json!({"decision": "adopt", "reason": "同意", "document": " "}), "document"),
            (json!({"decision": "adopt", "reason": "", "document": "驻政〔2019〕30号"}), "reason"),
            (json!({"decision": "adopt", "reason": "同意", "document": "驻政〔2019〕30号", "adopted_on": "2999-01-01"}), "adopted_on"),
            (json!({"decision": "maybe", "reason": "同意"}), "decision"),
        ] {
            let r = app.api(Some(Role::CityAdmin), Method::POST, &format!("/api/v1/budget/earmarks/{first}/decision"), Some(body.clone())).await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}: {body}");
            assert!(r.json()["error"]["fields"][field].is_string(), "{backend}: {body}: {}", r.body);
        }
        // Returned: no earmark; the proposal and the reason stay.
        let r = app.page(Some(Role::CityAdmin), Method::POST, &format!("/budget/earmarks/{first}/decision"),
            &[("decision", "return"), ("reason", "结余测算口径有误，请按2019年6月末数")], true).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{backend}: {}", r.body);
        let b = app.api(Some(Role::Auditor), Method::GET, "/api/v1/budget", None).await.json();
        assert_eq!(earmark(&b), Value::Null, "{backend}");
        assert_eq!(b["proposals"][0]["status"], "returned", "{backend}");
        // Deciding again is refused, on the page with the reason in words.
        let r = app.page(Some(Role::CityAdmin), Method::POST, &format!("/budget/earmarks/{first}/decision"),
            &[("decision", "adopt"), ("reason", "同意"), ("document", "驻政〔2019〕30号")], true).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{backend}");
        assert!(r.body.contains("该建议已处理"), "{backend}");
        // A new proposal; 8 decisions at once: one adopts, the others are refused, and the
        // earmark is recorded once.
        let r = app.api(Some(Role::Finance), Method::POST, "/api/v1/budget/earmarks",
            Some(json!({"fund": FUND, "amount_fen": 25_000_000_000_i64, "reasoning": "按2019年6月末结余10亿元的25%"}))).await;
        assert_eq!(r.status, StatusCode::CREATED, "{backend}: {}", r.body);
        let second = r.json()["proposal_id"].as_i64().unwrap();
        let path = format!("/api/v1/budget/earmarks/{second}/decision");
        let answers = futures_util::future::join_all((0..8).map(|i| {
            let body = json!({"decision": "adopt", "reason": format!("同意 {i}"), "document": "驻政〔2019〕30号", "adopted_on": "2019-09-01"});
            app.api(Some(Role::CityAdmin), Method::POST, &path, Some(body))
        })).await;
        assert_eq!(answers.iter().filter(|r| r.status == StatusCode::NO_CONTENT).count(), 1, "{backend}");
        assert!(answers.iter().all(|r| r.status == StatusCode::NO_CONTENT || r.status == StatusCode::CONFLICT), "{backend}");
        let b = app.api(Some(Role::Auditor), Method::GET, "/api/v1/budget", None).await.json();
        assert_eq!(earmark(&b), json!(25_000_000_000_i64), "{backend}");
        let adopted: Vec<_> = b["earmarks"].as_array().unwrap().iter().filter(|m| m["fund_code"] == FUND).collect();
        assert_eq!(adopted.len(), 1, "{backend}");
        assert_eq!((adopted[0]["proposal_id"].as_i64(), adopted[0]["adopted_on"].as_str()), (Some(second), Some("2019-09-01")), "{backend}");
        // The page tells the whole story in words; the audit log has each step.
        let page = app.page(Some(Role::Auditor), Method::GET, "/budget", &[], false).await.body;
        assert!(page.contains("已退回") && page.contains("结余测算口径有误") && page.contains("已采纳") && page.contains("失业保险基金"), "{backend}");
        let actions: Vec<String> = jineng_store::with_pool!(&app.db, |p| sqlx::query_scalar(
            "SELECT action FROM audit_log WHERE action LIKE '%earmark%' ORDER BY audit_id").fetch_all(p).await.unwrap());
        assert_eq!(actions, ["propose_earmark", "return_earmark", "propose_earmark", "adopt_earmark"], "{backend}");
        // A refused page form keeps what was typed.
        let r = app.page(Some(Role::Finance), Method::POST, "/budget/earmarks",
            &[("fund", FUND), ("amount_yuan", "abc"), ("reasoning", "我的测算依据")], true).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}");
        assert!(r.body.contains("我的测算依据") && r.body.contains("form-errors"), "{backend}");
    }
}

both_backends! {
    async fn budget_figures_add_up_and_commitments_over_the_earmark_are_warned(backend: &'static str) {
        let app = spawn_app(backend).await;
        const FUND: &str = "employment_subsidy_fund";
        finance(&app, json!({"op": "allocate", "fund": FUND, "amount_fen": 1_000_000, "note": "驻财社〔2020〕1号"})).await;
        // Paid: 6 × 100 yuan in MY_COUNTY, 2 × 50 in OTHER_COUNTY, 8 × 25 in 驿城区.
        for i in 0..6 { claim(&app, &format!("a{i}"), MY_COUNTY, "on_notice", "approved", 10_000).await; }
        for i in 0..2 { claim(&app, &format!("b{i}"), OTHER_COUNTY, "on_notice", "approved", 5_000).await; }
        for i in 0..8 { claim(&app, &format!("c{i}"), "411702", "on_notice", "reduced", 2_500).await; }
        // Decided and not yet paid: 300 + 200 + 50 yuan; a rejection and a recovery due do not count.
        claim(&app, "d1", MY_COUNTY, "decided", "approved", 30_000).await;
        claim(&app, "d2", MY_COUNTY, "approved", "approved", 20_000).await;
        claim(&app, "d3", MY_COUNTY, "needs_verification", "approved", 5_000).await;
        claim(&app, "r1", MY_COUNTY, "rejected", "rejected", 0).await;
        claim(&app, "v1", MY_COUNTY, "recovery_due", "recover", 4_000).await;

        let batch = finance(&app, json!({"op": "create_batch", "fund": FUND})).await;
        let batch_id = batch["batch"]["batch_id"].as_i64().unwrap();
        assert_eq!(batch["batch"]["total_fen"], 90_000, "{backend}");
        finance(&app, json!({"op": "approve_batch", "batch_id": batch_id})).await;
        // The bank returns one of the 100-yuan payments: it is decided, not paid, again.
        let payments = app.api(Some(Role::Finance), Method::GET, &format!("/api/v1/payment-batches/{batch_id}"), None).await.json();
        let returned = payments.as_array().unwrap().iter().find(|p| p["amount_fen"] == 10_000).unwrap()["payment_id"].as_i64().unwrap();
        finance(&app, json!({"op": "fail_payment", "payment_id": returned, "reason": "账户已注销"})).await;
        let v1: i64 = jineng_store::with_pool!(&app.db, |p| sqlx::query_scalar("SELECT claim_id FROM claim WHERE idempotency_key = 'v1'")
            .fetch_one(p).await.unwrap());
        finance(&app, json!({"op": "record_recovery", "claim_id": v1, "note": "缴款书 0001"})).await;

        // The earmark: 1,500 yuan leaves room.
        adopt_earmark(&app, backend, FUND, 150_000, "驻政〔2019〕30号", "2019-09-01").await;
        let b = app.api(Some(Role::Finance), Method::GET, "/api/v1/budget", None).await.json();
        let f = b["funds"].as_array().unwrap().iter().find(|f| f["fund_code"] == FUND).unwrap().clone();
        let paid = 90_000 - 10_000;
        let committed = 30_000 + 20_000 + 5_000 + 10_000;
        assert_eq!(f["earmark_fen"], 150_000, "{backend}");
        assert_eq!(f["allocated_fen"], 1_000_000, "{backend}");
        assert_eq!(f["paid_fen"], paid, "{backend}");
        assert_eq!(f["committed_fen"], committed, "{backend}: decided, approved, held and the returned payment");
        assert_eq!(f["recovered_fen"], 4_000, "{backend}");
        assert_eq!(f["recovery_due_fen"], 0, "{backend}");
        assert_eq!(f["balance_fen"], 1_000_000 - paid + 4_000, "{backend}: the balance is allocated − paid + recovered");
        assert_eq!(f["exposure_fen"], paid - 4_000 + committed, "{backend}");
        assert_eq!((f["headroom_fen"].as_i64(), f["over_committed"].as_bool()), (Some(150_000 - 141_000), Some(false)), "{backend}");
        let page = app.page(Some(Role::Finance), Method::GET, "/budget", &[], false).await.body;
        assert!(!page.contains("data-warning=\"over-committed\""), "{backend}");

        // Finance proposes a smaller earmark on the page; the city admin adopts it later: the
        // commitments exceed it.
        let r = app.page(Some(Role::Finance), Method::POST, "/budget/earmarks",
            &[("fund", FUND), ("amount_yuan", "1,000"), ("reasoning", "按2020年培训计划压减")], true).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{backend}: {}", r.body);
        let id = app.api(Some(Role::CityAdmin), Method::GET, "/api/v1/budget", None).await.json()["proposals"][0]["proposal_id"].as_i64().unwrap();
        let r = app.page(Some(Role::CityAdmin), Method::POST, &format!("/budget/earmarks/{id}/decision"),
            &[("decision", "adopt"), ("reason", "同意"), ("document", "驻政〔2020〕5号"), ("adopted_on", "2020-03-01")], true).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{backend}: {}", r.body);
        let b = app.api(Some(Role::CityAdmin), Method::GET, "/api/v1/budget", None).await.json();
        let f = b["funds"].as_array().unwrap().iter().find(|f| f["fund_code"] == FUND).unwrap().clone();
        assert_eq!((f["earmark_fen"].as_i64(), f["headroom_fen"].as_i64(), f["over_committed"].as_bool()),
                   (Some(100_000), Some(-41_000), Some(true)), "{backend}");
        assert_eq!(b["earmarks"].as_array().unwrap().len(), 2, "{backend}: both adoptions are kept");
        for role in [Role::Finance, Role::CityAdmin] {
            let page = app.page(Some(role), Method::GET, "/budget", &[], false).await.body;
            assert!(page.contains("data-warning=\"over-committed\"") && page.contains("超出 ¥410.00"), "{backend}: {role:?}");
        }
        // Only finance proposes earmarks; a county office does not see the budget.
        let r = app.api(Some(Role::Auditor), Method::POST, "/api/v1/budget/earmarks",
            Some(json!({"fund": FUND, "amount_fen": 1, "reasoning": "x"}))).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{backend}");
        assert_eq!(app.api(Some(Role::County), Method::GET, "/api/v1/budget", None).await.status, StatusCode::FORBIDDEN);

        // The public part: the earmark, allocations, net payments and recoveries; money cells by
        // county with the two-claim cell suppressed and a companion, so the fund's paid total minus
        // the published cells is the sum of two cells, never one.
        let funds = app.api(None, Method::GET, "/open/funds.json", None).await.json();
        let pf = funds["rows"].as_array().unwrap().iter().find(|f| f["fund_code"] == FUND).unwrap().clone();
        assert_eq!((pf["earmark_fen"].as_i64(), pf["allocated_fen"].as_i64(), pf["paid_fen"].as_i64(), pf["recovered_fen"].as_i64()),
                   (Some(100_000), Some(1_000_000), Some(paid), Some(4_000)), "{backend}");
        assert!(pf.get("committed_fen").is_none(), "{backend}: commitments are for finance");
        let money = app.api(None, Method::GET, "/open/money.json", None).await.json();
        let rows = money["rows"].as_array().unwrap();
        let cell = |county: &str| rows.iter().find(|r| r["county_code"] == county).unwrap().clone();
        assert_eq!((cell(OTHER_COUNTY)["amount_fen"].clone(), cell(OTHER_COUNTY)["suppression"].clone()), (Value::Null, json!("small")), "{backend}");
        assert_eq!((cell(MY_COUNTY)["amount_fen"].clone(), cell(MY_COUNTY)["suppression"].clone()), (Value::Null, json!("complementary")), "{backend}");
        assert_eq!((cell("411702")["claims"].as_i64(), cell("411702")["amount_fen"].as_i64()), (Some(8), Some(20_000)), "{backend}");
        let published: i64 = rows.iter().filter_map(|r| r["amount_fen"].as_i64()).sum();
        assert_eq!(money["totals"]["amount_fen"].as_i64(), Some(published), "{backend}");
        let rest = paid - published;
        assert!(rest != 10_000 && rest != 50_000, "{backend}: the paid total minus published cells gives no single cell");
        let csv = app.api(None, Method::GET, "/open/money.csv", None).await.body;
        let line = csv.lines().find(|l| l.contains(OTHER_COUNTY)).unwrap();
        assert!(line.ends_with(",,,,true,small"), "{backend}: {line}");
        let page = app.page(None, Method::GET, "/public/disclosure", &[], false).await.body;
        assert!(page.contains("¥1,000.00") && page.contains("驻政〔2020〕5号"), "{backend}: the earmark is public");
        assert!(page.contains("¥200.00（8 笔）"), "{backend}: the published county");
        no_personal_data(&app, backend, &[("李娜".to_owned(), id_number(MY_COUNTY, 11), "13812345678".to_owned())]).await;
    }
}
