//! A real headless Chromium (through ChromeDriver) signs in, opens the home page, drills into
//! a program and a county, and checks that the numbers on the pages equal the API's. Runs on
//! both backends and leaves screenshots in `target/screenshots/`.

use fantoccini::{ClientBuilder, Locator};
use jineng_store::testing::{both_backends, fresh};
use jineng_store::{demo, users};
use std::future::Future;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn start_chromedriver() -> (Driver, u16) {
    let port = free_port();
    let driver = Driver(
        Command::new(std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into()))
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect(
                "chromedriver is required for the browser test (scripts/test.sh installs Debian's chromium-driver)",
            ),
    );
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return (driver, port);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not start");
}

/// Polls `probe` every 100 ms until it reports done, for at most 30 s, and gives its last value
/// either way: the caller asserts on it, so a timeout fails with what the page last showed.
async fn poll<T, F: Future<Output = (bool, T)>>(mut probe: impl FnMut() -> F) -> T {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (done, value) = probe().await;
        if done || Instant::now() >= deadline {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A headless Chromium session through the ChromeDriver on `driver_port`, with a fresh profile
/// (removed by the caller) and the folder screenshots go to.
async fn chromium(
    driver_port: u16,
    window: (u32, u32),
) -> (fantoccini::Client, std::path::PathBuf, std::path::PathBuf) {
    let mut caps = serde_json::Map::new();
    let profile = std::env::temp_dir().join(format!("jineng-chromium-{}", users::random_token()));
    caps.insert("goog:loggingPrefs".into(), serde_json::json!({"browser": "ALL"}));
    caps.insert("goog:chromeOptions".into(), serde_json::json!({
        "binary": std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
        "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage",
                 "--disable-component-update", "--disable-sync", "--no-first-run", format!("--window-size={},{}", window.0, window.1),
                 "--lang=zh-CN", format!("--user-data-dir={}", profile.display())]
    }));
    let c = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{driver_port}"))
        .await
        .expect("connect to chromedriver");
    let shots = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    (c, profile, shots)
}

/// Waits until the Chart.js chart on the canvas `canvas_id` exists (the pages draw without
/// animation) and the browser has painted a frame since, so that a screenshot shows it.
async fn wait_for_chart(c: &fantoccini::Client, canvas_id: &str) {
    let script = format!("return !!(window.Chart && Chart.getChart(document.getElementById('{canvas_id}')));");
    let script = script.as_str();
    let drawn = poll(|| async move {
        let drawn = c.execute(script, vec![]).await.ok().and_then(|v| v.as_bool()).unwrap_or(false);
        (drawn, drawn)
    })
    .await;
    assert!(drawn, "the chart #{canvas_id} is drawn");
    let frame = "const done = arguments[arguments.length - 1]; requestAnimationFrame(() => requestAnimationFrame(() => done()));";
    c.execute_async(frame, vec![]).await.unwrap();
}

fn number(s: &str) -> i64 {
    s.chars().filter(char::is_ascii_digit).collect::<String>().parse().unwrap_or_else(|_| panic!("not a number: {s:?}"))
}

async fn api(base: &str, token: &str, path: &str) -> serde_json::Value {
    // A minimal HTTP/1.1 GET over TCP, so the test needs no HTTP client crate of its own.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nAccept-Encoding: identity\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.unwrap();
    let text = String::from_utf8_lossy(&buf);
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{path}: {head}");
    let body =
        if head.to_ascii_lowercase().contains("transfer-encoding: chunked") { dechunk(body) } else { body.to_owned() };
    serde_json::from_str(&body).unwrap()
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    loop {
        let (size, rest) = s.split_once("\r\n").unwrap();
        let n = usize::from_str_radix(size.trim(), 16).unwrap();
        if n == 0 {
            return out;
        }
        out.push_str(&rest[..n]);
        s = &rest[n + 2..];
    }
}

both_backends! {
    async fn a_clerk_signs_in_and_the_pages_show_the_apis_numbers(backend: &'static str) {
        let (_driver, driver_port) = start_chromedriver().await;
        let db = fresh(backend).await;
        let summary = demo::generate(&db, demo::Scale::Small, 11, &|_, _| {}).await.unwrap();
        jineng_store::demo::walk_claims(&db, &summary, jineng_web::Clock::default().today()).await.unwrap();
        let uid = users::create(&db, None, "clerk", "市人社局 张科员", "browser-test-pw", jineng_domain::Role::CityAdmin, None)
            .await
            .unwrap();
        let token = users::create_api_token(&db, uid, "browser-test").await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = jineng_web::app(jineng_web::AppState::new(db.clone()));
        let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

        let (c, profile, shots) = chromium(driver_port, (1366, 2200)).await;

        // Signing in from a deep link comes back to it.
        c.goto(&format!("{base}/")).await.unwrap();
        assert!(c.current_url().await.unwrap().path().starts_with("/login"));
        c.find(Locator::Id("username")).await.unwrap().send_keys("clerk").await.unwrap();
        c.find(Locator::Id("password")).await.unwrap().send_keys("browser-test-pw").await.unwrap();
        c.find(Locator::Id("sign-in")).await.unwrap().click().await.unwrap();
        c.wait().for_element(Locator::Css("#programs")).await.unwrap();
        // Chart.js has drawn before the screenshot.
        wait_for_chart(&c, "programs-chart").await;
        std::fs::write(shots.join(format!("{backend}-home.png")), c.screenshot().await.unwrap()).unwrap();

        let plan = api(&base, &token, "/api/v1/plan").await;
        let t1 = c.find(Locator::Css("[data-target='T1'] [data-k='done']")).await.unwrap().text().await.unwrap();
        assert_eq!(number(&t1), plan["targets"][0]["done"].as_i64().unwrap(), "{backend}: T1 on the page = API");
        let chart_drawn: bool = c
            .execute("return !!Chart.getChart(document.getElementById('programs-chart'));", vec![])
            .await
            .unwrap()
            .as_bool()
            .unwrap();
        assert!(chart_drawn, "the chart library loads from the app and draws");
        for p in plan["programs"].as_array().unwrap() {
            let code = p["code"].as_str().unwrap();
            let cell = c
                .find(Locator::Css(&format!("tr[data-program='{code}'] [data-k='done']")))
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            assert_eq!(number(&cell), p["done"]["person_times"].as_i64().unwrap(), "{backend}: {code}");
        }
        let pending =
            c.find(Locator::Css("tr[data-program='P1'] [data-k='target']")).await.unwrap().text().await.unwrap();
        assert!(pending.contains("待定"), "{pending}");

        // Drill into a program, then a county.
        c.find(Locator::Css("tr[data-program='P2a'] a")).await.unwrap().click().await.unwrap();
        c.wait().for_element(Locator::Css("#by-county")).await.unwrap();
        wait_for_chart(&c, "months-chart").await;
        std::fs::write(shots.join(format!("{backend}-program.png")), c.screenshot().await.unwrap()).unwrap();
        let detail = api(&base, &token, "/api/v1/programs/P2a").await;
        let done = c.find(Locator::Id("done")).await.unwrap().text().await.unwrap();
        assert_eq!(number(&done), detail["program"]["done"]["person_times"].as_i64().unwrap(), "{backend}");
        for row in detail["by_county"].as_array().unwrap() {
            let key = row["key"].as_str().unwrap();
            let cell = c
                .find(Locator::Css(&format!("tr[data-county='{key}'] [data-k='done']")))
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            assert_eq!(number(&cell), row["done"]["person_times"].as_i64().unwrap(), "{backend}: county {key}");
        }
        let months: i64 =
            detail["by_month"].as_array().unwrap().iter().map(|m| m["done"]["person_times"].as_i64().unwrap()).sum();
        assert_eq!(months, number(&done), "months add up to the program");
        c.find(Locator::Css("tr[data-county='411722'] a")).await.unwrap().click().await.unwrap();
        c.wait().for_element(Locator::Css("#county-programs")).await.unwrap();
        let county = api(&base, &token, "/api/v1/counties/411722").await;
        let total = c.find(Locator::Id("total")).await.unwrap().text().await.unwrap();
        assert_eq!(number(&total), county["total"]["person_times"].as_i64().unwrap());
        std::fs::write(shots.join(format!("{backend}-county.png")), c.screenshot().await.unwrap()).unwrap();

        // A person's page shows the ID number masked.
        c.goto(&format!("{base}/people")).await.unwrap();
        c.find(Locator::Css("#people tbody tr a")).await.unwrap().click().await.unwrap();
        let id = c.wait().for_element(Locator::Id("id-number")).await.unwrap().text().await.unwrap();
        assert!(id.contains("**********") && id.len() == 18, "{id}");
        std::fs::write(shots.join(format!("{backend}-person.png")), c.screenshot().await.unwrap()).unwrap();

        // The policy pages: parameters with their sources, and a case decided rule by rule.
        c.goto(&format!("{base}/policy/parameters")).await.unwrap();
        let in_force = c
            .find(Locator::Css("tr[data-key='on_the_job_fen_per_month'] [data-k='in-force']"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(in_force, "¥200.00");
        std::fs::write(shots.join(format!("{backend}-parameters.png")), c.screenshot().await.unwrap()).unwrap();
        c.goto(&format!("{base}/policy/explain")).await.unwrap();
        // The trial in words, as filled in: a poor worker's certificate brings two grants.
        c.find(Locator::Id("try")).await.unwrap().click().await.unwrap();
        c.wait().for_element(Locator::Id("result")).await.unwrap();
        let outcomes = c.find_all(Locator::Css("[data-k='outcome']")).await.unwrap();
        assert_eq!(outcomes.len(), 2);
        std::fs::write(shots.join(format!("{backend}-trial.png")), c.screenshot().await.unwrap()).unwrap();
        // A whole case file, for those who write them.
        c.find(Locator::Css("details summary")).await.unwrap().click().await.unwrap();
        c.find(Locator::Id("decide")).await.unwrap().click().await.unwrap();
        let k4 = c
            .wait()
            .for_element(Locator::Css("[data-claim='k4'] [data-k='outcome']"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(k4.contains("不予补贴"), "{k4}");
        let k5 = c.find(Locator::Css("[data-claim='k5'] [data-k='amount']")).await.unwrap().text().await.unwrap();
        assert_eq!(k5, "¥1,200.00");
        std::fs::write(shots.join(format!("{backend}-explain.png")), c.screenshot().await.unwrap()).unwrap();

        // Review a claim: approve, publish; it then shows on the public notice, name masked.
        c.goto(&format!("{base}/claims?status=decided")).await.unwrap();
        std::fs::write(shots.join(format!("{backend}-claims.png")), c.screenshot().await.unwrap()).unwrap();
        c.find(Locator::Css("#claims tbody tr a")).await.unwrap().click().await.unwrap();
        c.wait().for_element(Locator::Id("approve")).await.unwrap().click().await.unwrap();
        c.wait().for_element(Locator::Id("publish")).await.unwrap().click().await.unwrap();
        // The page reloads after each action: read the status once the new page shows it.
        let client = &c;
        let status = poll(|| async move {
            let status = match client.find(Locator::Id("status")).await {
                Ok(e) => e.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            (status.contains("公示中"), status)
        })
        .await;
        assert!(status.contains("公示中"), "{status}");
        std::fs::write(shots.join(format!("{backend}-claim.png")), c.screenshot().await.unwrap()).unwrap();
        let claim_id: String = c.current_url().await.unwrap().path().rsplit('/').next().unwrap().to_owned();
        c.goto(&format!("{base}/notice")).await.unwrap();
        let row =
            c.find(Locator::Css(&format!("tr[data-claim='{claim_id}'] .payee"))).await.unwrap().text().await.unwrap();
        assert!(row.contains('*'), "masked: {row}");
        let html = c.source().await.unwrap();
        // The CSRF tokens are random hex: a run of 18 digits in one is chance, not an ID number.
        let mut html = html;
        while let Some(i) = html.find(r#"name="csrf" value=""#) {
            let start = i + r#"name="csrf" value=""#.len();
            let end = html[start..].find('"').map_or(html.len(), |e| start + e);
            html.replace_range(i..end, "");
        }
        let chars: Vec<char> = html.chars().collect();
        let run = chars.windows(18).find(|w| w.iter().all(|ch| ch.is_ascii_digit() || *ch == 'X'));
        assert!(run.is_none(), "no ID number on the notice: {:?}", run.map(|w| w.iter().collect::<String>()));
        std::fs::write(shots.join(format!("{backend}-notice.png")), c.screenshot().await.unwrap()).unwrap();
        // Finance's view: fund balances as the API gives them.
        c.goto(&format!("{base}/payments")).await.unwrap();
        let ledger = api(&base, &token, "/api/v1/payments").await;
        let fund = &ledger["funds"][0];
        let cell = c
            .find(Locator::Css(&format!("tr[data-fund='{}'] .balance", fund["fund_code"].as_str().unwrap())))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(number(&cell), fund["balance_fen"].as_i64().unwrap(), "{backend}: {cell}");
        std::fs::write(shots.join(format!("{backend}-payments.png")), c.screenshot().await.unwrap()).unwrap();

        // On a phone (390 px wide) no page scrolls sideways: the menu wraps and a wide table
        // scrolls inside itself.
        c.set_window_size(390, 844).await.unwrap();
        let person = api(&base, &token, "/api/v1/people").await["items"][0]["person_id"].as_i64().unwrap();
        for path in ["/".to_owned(), "/people".to_owned(), format!("/people/{person}"), "/notice".to_owned(), "/audit".to_owned(),
                     "/claims".to_owned(), "/payments".to_owned(), "/classes".to_owned(), "/catalog".to_owned()] {
            c.goto(&format!("{base}{path}")).await.unwrap();
            c.wait().for_element(Locator::Css("main")).await.unwrap();
            let widths = c
                .execute("return [document.documentElement.scrollWidth, document.documentElement.clientWidth];", vec![])
                .await
                .unwrap();
            let (scroll, client) = (widths[0].as_i64().unwrap(), widths[1].as_i64().unwrap());
            assert!(scroll <= client, "{backend}: {path} is {scroll} px wide on a {client} px screen");
        }
        c.goto(&format!("{base}/people/{person}")).await.unwrap();
        std::fs::write(shots.join(format!("{backend}-phone-person.png")), c.screenshot().await.unwrap()).unwrap();
        c.goto(&format!("{base}/")).await.unwrap();
        std::fs::write(shots.join(format!("{backend}-phone-home.png")), c.screenshot().await.unwrap()).unwrap();
        c.set_window_size(1366, 2200).await.unwrap();

        // An employer signs in and files an equipment claim on the page.
        let employer = summary.logins.iter().find(|l| l.role == jineng_domain::Role::Employer).unwrap();
        c.find(Locator::Css("form[action='/logout'] button")).await.unwrap().click().await.unwrap();
        // Signing out lands on the sign-in page; only then go on, so no request races the sign-out.
        c.wait().for_element(Locator::Id("username")).await.unwrap();
        c.goto(&format!("{base}/claims/new")).await.unwrap();
        c.wait().for_element(Locator::Id("username")).await.unwrap().send_keys(&employer.username).await.unwrap();
        c.find(Locator::Id("password")).await.unwrap().send_keys(&employer.password).await.unwrap();
        c.find(Locator::Id("sign-in")).await.unwrap().click().await.unwrap();
        c.wait().for_element(Locator::Id("kind")).await.unwrap();
        // First the training base, registered with its equipment's value and invoices…
        c.goto(&format!("{base}/facilities")).await.unwrap();
        c.wait().for_element(Locator::Id("name")).await.unwrap().send_keys("高技能人才培训基地").await.unwrap();
        c.find(Locator::Id("equipment_value_yuan")).await.unwrap().send_keys("1,200,000").await.unwrap();
        c.find(Locator::Id("invoices")).await.unwrap().send_keys("No.41000212 2021-03-02").await.unwrap();
        c.find(Locator::Id("register-facility")).await.unwrap().click().await.unwrap();
        c.wait().for_element(Locator::Css("#facilities td")).await.unwrap();
        // …then finance and HR each record their acceptance (their own steps, by their roles).
        let all = jineng_store::facilities::list(&db, &Default::default()).await.unwrap();
        let fid = all.first().expect("registered").facility_id;
        let finance = users::create(&db, None, "finance-clerk", "市财政局 李科员", "browser-test-pw", jineng_domain::Role::Finance, None)
            .await
            .unwrap();
        use jineng_store::facilities::{accept, Acceptor};
        accept(&db, finance, &Default::default(), Acceptor::Finance, fid, "驻财验〔2021〕8号").await.unwrap();
        accept(&db, uid, &Default::default(), Acceptor::Hr, fid, "驻人社验〔2021〕8号").await.unwrap();
        c.goto(&format!("{base}/claims/new")).await.unwrap();
        c.wait().for_element(Locator::Id("kind")).await.unwrap();
        c.find(Locator::Css("#kind option[value='equipment_grant']")).await.unwrap().click().await.unwrap();
        c.find(Locator::Css(&format!("#facility_id option[value='{fid}']"))).await.unwrap().click().await.unwrap();
        std::fs::write(shots.join(format!("{backend}-claim-form.png")), c.screenshot().await.unwrap()).unwrap();
        c.find(Locator::Id("submit-claim")).await.unwrap().click().await.unwrap();
        let outcome = c.wait().for_element(Locator::Id("outcome")).await.unwrap().text().await.unwrap();
        assert!(outcome.contains("¥240,000.00"), "{backend}: 20 % of 1,200,000 yuan: {outcome}");
        std::fs::write(shots.join(format!("{backend}-employer-claim.png")), c.screenshot().await.unwrap()).unwrap();

        c.close().await.unwrap();
        server.abort();
        let _ = std::fs::remove_dir_all(&profile);
    }
}

/// ChromeDriver's browser log since the last read (its `se/log` endpoint).
#[derive(Debug)]
struct BrowserLog;

impl fantoccini::wd::WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(&self, base: &url::Url, session: Option<&str>) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/se/log", session.unwrap_or_default()))
    }
    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(r#"{"type":"browser"}"#.to_owned()))
    }
}

/// The errors the browser's console shows since the last read: a script's error, a resource
/// that failed to load, anything the Content-Security-Policy blocked.
async fn console_errors(c: &fantoccini::Client) -> Vec<String> {
    let log = c.issue_cmd(BrowserLog).await.expect("the browser log");
    log.as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["level"] == "SEVERE")
        .map(|e| e["message"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Whether the page at the window's width scrolls sideways: `[scrollWidth, clientWidth]`.
async fn widths(c: &fantoccini::Client) -> (i64, i64) {
    let w = c
        .execute("return [document.documentElement.scrollWidth, document.documentElement.clientWidth];", vec![])
        .await
        .unwrap();
    (w[0].as_i64().unwrap(), w[1].as_i64().unwrap())
}

both_backends! {
    async fn a_provider_records_a_days_attendance_for_a_class_of_forty_in_three_clicks(backend: &'static str) {
        use jineng_domain::{AreaCode, CreditCode, IdNumber, Role, TrainingKind};
        use jineng_store::orgs::{self, OrgInput, OrgKind};
        use jineng_store::people::{self, NewPerson};
        use jineng_store::training::{self, NewClass};
        let (_driver, driver_port) = start_chromedriver().await;
        let db = fresh(backend).await;
        let county = AreaCode::parse("411722").unwrap();
        let provider = orgs::create(&db, None, OrgKind::Provider, &OrgInput {
            credit_code: CreditCode::generate(county, 77).to_string(),
            legacy: false,
            name: "上蔡县天中职业培训学校".into(),
            county_code: "411722".into(),
            kind: None,
            insured: false,
            status: None,
        })
        .await
        .unwrap();
        let today: chrono::NaiveDate = "2021-05-12".parse().unwrap();
        let class = training::create_class(&db, None, &NewClass {
            name: "上蔡县电工2021年5月期".into(),
            program_code: "P2a".into(),
            occupation_code: "6-31-01-03".into(),
            level: None,
            kind: TrainingKind::SkillUpgrade,
            county_code: "411722".into(),
            provider_id: provider,
            start_date: "2021-05-10".parse().unwrap(),
            end_date: "2021-05-21".parse().unwrap(),
            subsidised: true,
        })
        .await
        .unwrap();
        let names = ["李娜", "王芳", "张伟", "刘洋", "陈静", "杨磊", "赵敏", "黄勇"];
        for i in 0..40u16 {
            let id = IdNumber::from_parts(county, "1985-06-15".parse().unwrap(), 100 + i);
            let person = people::create(&db, None, &NewPerson {
                id_number: id,
                name: format!("{}{}", names[usize::from(i) % names.len()], i + 1),
                county_code: "411722".into(),
                phone: None,
                rural: true,
                groups: vec![],
            })
            .await
            .unwrap();
            training::enrol(&db, None, class, person, "2021-05-09".parse().unwrap()).await.unwrap();
        }
        users::create(&db, None, "school", "天中职业培训学校 王老师", "browser-test-pw", Role::Provider, Some(&provider.to_string()))
            .await
            .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        // The class names a listed assessment body, whose clerk records the results afterwards.
        let body = orgs::create(&db, None, OrgKind::AssessmentBody, &OrgInput {
            credit_code: CreditCode::generate(county, 78).to_string(),
            legacy: false,
            name: "上蔡县职业技能评价中心".into(),
            county_code: "411722".into(),
            kind: None,
            insured: false,
            status: None,
        })
        .await
        .unwrap();
        let named: u64 = jineng_store::with_pool!(&db, |p| sqlx::query("UPDATE training_class SET assessment_body_id = $1 WHERE class_id = $2")
            .bind(body)
            .bind(class)
            .execute(p)
            .await
            .unwrap()
            .rows_affected());
        assert_eq!(named, 1);
        users::create(&db, None, "assessor", "评价中心 刘老师", "browser-test-pw", Role::AssessmentBody, Some(&body.to_string()))
            .await
            .unwrap();
        let clock = jineng_web::Clock::fixed(today);
        let mut state = jineng_web::AppState::new(db.clone());
        state.clock = clock.clone();
        let app = jineng_web::app(state);
        let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

        let (c, profile, shots) = chromium(driver_port, (1440, 1000)).await;
        let shot = |name: String| {
            let c = c.clone();
            let path = shots.join(name);
            async move { std::fs::write(path, c.screenshot().await.unwrap()).unwrap() }
        };

        // Click 1: sign in. The home is the provider's work queue: today's class, none checked in.
        c.goto(&format!("{base}/")).await.unwrap();
        c.wait().for_element(Locator::Id("username")).await.unwrap().send_keys("school").await.unwrap();
        c.find(Locator::Id("password")).await.unwrap().send_keys("browser-test-pw").await.unwrap();
        c.find(Locator::Id("sign-in")).await.unwrap().click().await.unwrap();
        let row = format!("tr[data-class='{class}']");
        let today_cell = c.wait().for_element(Locator::Css(&format!("{row} [data-k='checked-in']"))).await.unwrap().text().await.unwrap();
        assert_eq!(today_cell, "0 / 40", "{backend}");
        shot(format!("{backend}-provider-home-1440.png")).await;
        // Click 2: open the class from the queue.
        c.find(Locator::Css(&format!("{row} a"))).await.unwrap().click().await.unwrap();
        c.wait().for_element(Locator::Id("all-present")).await.unwrap();
        shot(format!("{backend}-class-before-1440.png")).await;
        // Click 3: everyone present today.
        c.find(Locator::Id("all-present")).await.unwrap().click().await.unwrap();
        let client = &c;
        let done = poll(|| async move {
            let n = match client.find(Locator::Id("checked-in-today")).await {
                Ok(e) => e.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            (n == "40", n)
        })
        .await;
        assert_eq!(done, "40", "{backend}: every trainee checked in");
        let cells = c.find_all(Locator::Css("#attendance [data-k='today']")).await.unwrap();
        assert_eq!(cells.len(), 40);
        for cell in cells {
            assert!(cell.text().await.unwrap().contains("已签到"), "{backend}");
        }
        let days = c.find(Locator::Css("#attendance [data-k='days']")).await.unwrap().text().await.unwrap();
        assert_eq!(days, "1 / 12", "{backend}");
        shot(format!("{backend}-class-after-1440.png")).await;

        // On a phone: the class page and the queue fit the screen (the roster scrolls in its box).
        c.set_window_size(390, 844).await.unwrap();
        for path in [format!("/classes/{class}"), "/".to_owned()] {
            c.goto(&format!("{base}{path}")).await.unwrap();
            c.wait().for_element(Locator::Css("main")).await.unwrap();
            let (scroll, client) = widths(&c).await;
            assert!(scroll <= client, "{backend}: {path} is {scroll} px wide on a {client} px screen");
            if path != "/" {
                c.execute("document.getElementById('roster').scrollIntoView();", vec![]).await.unwrap();
            }
            let name = if path == "/" { "provider-home" } else { "class-after" };
            shot(format!("{backend}-{name}-390.png")).await;
        }
        c.set_window_size(1440, 1000).await.unwrap();

        // After the class, the assessment body finds it in its queue and records a result on the
        // trainee's row: a pass with the certificate's serial.
        clock.set("2021-05-24".parse().unwrap());
        c.find(Locator::Css("form[action='/logout'] button")).await.unwrap().click().await.unwrap();
        c.wait().for_element(Locator::Id("username")).await.unwrap().send_keys("assessor").await.unwrap();
        c.find(Locator::Id("password")).await.unwrap().send_keys("browser-test-pw").await.unwrap();
        c.find(Locator::Id("sign-in")).await.unwrap().click().await.unwrap();
        let due = c.wait().for_element(Locator::Css(&format!("{row} [data-k='unassessed']"))).await.unwrap().text().await.unwrap();
        assert_eq!(due, "40", "{backend}: 40 trainees without a result");
        shot(format!("{backend}-body-home-1440.png")).await;
        c.find(Locator::Css(&format!("{row} a"))).await.unwrap().click().await.unwrap();
        let form = c.wait().for_element(Locator::Css("#attendance tbody tr:first-child form.assess")).await.unwrap();
        form.find(Locator::Css("input[name='serial']")).await.unwrap().send_keys("ZMD-2021-0001").await.unwrap();
        shot(format!("{backend}-class-assess-1440.png")).await;
        form.find(Locator::Css("button.record")).await.unwrap().click().await.unwrap();
        let result = poll(|| async move {
            let text = match client.find(Locator::Css("#attendance tbody tr:first-child [data-k='result']")).await {
                Ok(e) => e.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            (text.contains("ZMD-2021-0001"), text)
        })
        .await;
        assert!(result.contains("合格") && result.contains("ZMD-2021-0001"), "{backend}: {result}");
        c.set_window_size(390, 844).await.unwrap();
        c.execute("document.getElementById('roster').scrollIntoView();", vec![]).await.unwrap();
        let (scroll, client_width) = widths(&c).await;
        assert!(scroll <= client_width, "{backend}: the class page is {scroll} px wide on a {client_width} px screen");
        shot(format!("{backend}-class-assess-390.png")).await;
        c.close().await.unwrap();
        server.abort();
        let _ = std::fs::remove_dir_all(&profile);
    }
}

both_backends! {
    async fn every_roles_work_queue_fits_a_phone(backend: &'static str) {
        let (_driver, driver_port) = start_chromedriver().await;
        let app = crate::common::spawn_app(backend).await;
        crate::home::busy_day(&app).await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let router = app.router.clone();
        let server = tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        let (c, profile, shots) = chromium(driver_port, (1440, 1000)).await;
        let (mut walked, mut wide) = (Vec::new(), Vec::new());
        for role in jineng_domain::Role::ALL.iter().copied() {
            c.set_window_size(1440, 1000).await.unwrap();
            c.goto(&format!("{base}/login")).await.unwrap();
            c.wait().for_element(Locator::Id("username")).await.unwrap().send_keys(role.code()).await.unwrap();
            c.find(Locator::Id("password")).await.unwrap().send_keys("correct horse battery").await.unwrap();
            c.find(Locator::Id("sign-in")).await.unwrap().click().await.unwrap();
            c.wait().for_element(Locator::Css("form[action='/logout']")).await.unwrap();
            c.goto(&format!("{base}/")).await.unwrap();
            c.wait().for_element(Locator::Css("main h1")).await.unwrap();
            std::fs::write(shots.join(format!("{backend}-queue-{}-1440.png", role.code())), c.screenshot().await.unwrap()).unwrap();
            c.set_window_size(390, 844).await.unwrap();
            c.goto(&format!("{base}/")).await.unwrap();
            c.wait().for_element(Locator::Css("main h1")).await.unwrap();
            let (scroll, client) = widths(&c).await;
            assert!(scroll <= client, "{backend}: {}'s home is {scroll} px wide on a {client} px screen", role.code());
            std::fs::write(shots.join(format!("{backend}-queue-{}-390.png", role.code())), c.screenshot().await.unwrap()).unwrap();
            // Every kind of page the role is shown, one of each, two links deep: none scrolls
            // sideways on the phone and none logs an error in the console.
            let mut seen = std::collections::BTreeSet::from([jineng_web::common::page_kind("/")]);
            let mut queue = std::collections::VecDeque::new();
            let mut depth = 0;
            loop {
                let found = c
                    .execute("return Array.from(document.querySelectorAll('a[href^=\"/\"]')).map(a => a.getAttribute('href'));", vec![])
                    .await
                    .unwrap();
                for href in found.as_array().into_iter().flatten().filter_map(|h| h.as_str()) {
                    let download = [".xlsx", ".csv", ".json", "/xlsx", "/api/", "/logout", "/static/"].iter().any(|d| href.contains(d));
                    if !download && !href.starts_with("//") && depth < 2 && seen.insert(jineng_web::common::page_kind(href)) {
                        queue.push_back((href.to_owned(), depth + 1));
                    }
                }
                let problems = console_errors(&c).await;
                assert!(problems.is_empty(), "{backend}: {} sees console errors on {}: {problems:?}", role.code(), c.current_url().await.unwrap());
                let Some((path, d)) = queue.pop_front() else { break };
                depth = d;
                c.goto(&format!("{base}{path}")).await.unwrap();
                if c.wait().for_element(Locator::Css("main h1")).await.is_err() {
                    panic!("{backend}: {}: {path} shows no heading: {}", role.code(), c.source().await.unwrap());
                }
                let (scroll, client) = widths(&c).await;
                walked.push(format!("{} {path}", role.code()));
                if path.starts_with("/claims") || path.starts_with("/audit") || path.starts_with("/people/") {
                    std::fs::write(shots.join(format!("{backend}-walk-{}-{}.png", role.code(), jineng_web::common::page_kind(&path).replace('/', "_"))), c.screenshot().await.unwrap()).unwrap();
                }
                if scroll > client {
                    std::fs::write(shots.join(format!("{backend}-overflow-{}-{}.png", role.code(), jineng_web::common::page_kind(&path).replace('/', "_"))), c.screenshot().await.unwrap()).unwrap();
                    wide.push(format!("{}: {path} is {scroll} px wide on a {client} px screen", role.code()));
                }
            }
            c.find(Locator::Css("form[action='/logout'] button")).await.unwrap().click().await.unwrap();
            c.wait().for_element(Locator::Id("username")).await.unwrap();
        }
        assert!(wide.is_empty(), "{backend}: pages wider than a phone:\n{}", wide.join("\n"));
        eprintln!("{backend}: walked {} pages at 390 px: {walked:?}", walked.len());
        assert!(walked.len() >= 60, "{backend}: walked {} pages: {walked:?}", walked.len());
        c.close().await.unwrap();
        server.abort();
        let _ = std::fs::remove_dir_all(&profile);
    }
}
