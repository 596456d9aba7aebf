//! Crash safety (issue 10, part 9), on both databases: the server is killed (SIGKILL, no chance
//! to clean up) in the middle of a large roster import and in the middle of a payment batch,
//! several times at different moments, and restarted. Whatever the moment: an import landed
//! whole or not at all, no row is half-written, no claim is paid twice, every fund's balance
//! agrees with its entries, the audit chain verifies, and the restarted server serves.

use jineng_store::{with_pool, Db};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn jineng() -> Command {
    Command::new(env!("CARGO_BIN_EXE_jineng"))
}

/// A free port on the loopback.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The server on `url`, up and answering `/healthz`.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    fn start(url: &str) -> Server {
        let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let child = jineng()
            .args(["serve", "--database", url, "--listen", &addr.to_string(), "--checks-every-hours", "0"])
            .env("JINENG_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let s = Server { child, addr };
        let until = Instant::now() + Duration::from_secs(60);
        while Instant::now() < until {
            if s.request("GET", "/healthz", None, "", &[]).is_some_and(|r| r.0 == 200) {
                return s;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("the server did not come up on {addr}");
    }

    fn request(&self, method: &str, path: &str, token: Option<&str>, ct: &str, body: &[u8]) -> Option<(u16, String)> {
        request(self.addr, method, path, token, ct, body)
    }

    fn token(&self, username: &str) -> String {
        let body = serde_json::json!({"username": username, "password": PASSWORD}).to_string();
        let (status, body) = self.request("POST", "/api/v1/tokens", None, "application/json", body.as_bytes()).unwrap();
        assert_eq!(status, 201, "{body}");
        serde_json::from_str::<serde_json::Value>(&body).unwrap()["token"].as_str().unwrap().to_owned()
    }

    /// SIGKILL: the process gets no chance to finish anything.
    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

/// Sends a request; the status and body, or None when the connection failed or was cut.
fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    ct: &str,
    body: &[u8],
) -> Option<(u16, String)> {
    {
        let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(120))).ok()?;
        let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n{auth}Content-Type: {ct}\r\nContent-Length: {}\r\n\r\n",
            addr,
            body.len()
        );
        s.write_all(head.as_bytes()).ok()?;
        s.write_all(body).ok()?;
        let mut out = Vec::new();
        s.read_to_end(&mut out).ok()?;
        let text = String::from_utf8_lossy(&out).into_owned();
        let status = text.split(' ').nth(1)?.parse().ok()?;
        let body = text.split_once("\r\n\r\n").map(|b| b.1.to_owned()).unwrap_or_default();
        Some((status, body))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const PASSWORD: &str = "crash test battery staple";
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

fn user(url: &str, name: &str, role: &str, scope: Option<&str>) {
    let mut c = jineng();
    c.args(["user", "--database", url, name, role]).env("JINENG_NEW_PASSWORD", PASSWORD);
    if let Some(s) = scope {
        c.args(["--scope", s]);
    }
    let out = c.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

async fn scalar(db: &Db, sql: &str) -> i64 {
    with_pool!(db, |p| sqlx::query_scalar::<_, i64>(sql).fetch_one(p).await.unwrap())
}

/// A roster of `n` new people (valid ID numbers of the class's county, never registered).
fn roster(n: usize, round: usize) -> Vec<u8> {
    use jineng_domain::{AreaCode, IdNumber};
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (c, h) in jineng_store::roster::HEADERS.iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    let area = AreaCode::parse("411722").unwrap();
    for i in 0..n {
        let birth = chrono::NaiveDate::from_ymd_opt(
            1970 + (round as i32) * 3 + (i / 900) as i32,
            1 + (i % 12) as u32,
            1 + (i / 12 % 28) as u32,
        )
        .unwrap();
        let id = IdNumber::from_parts(area, birth, (i % 900 + 100) as u16);
        ws.write_string(i as u32 + 1, 0, id.as_str()).unwrap();
        ws.write_string(i as u32 + 1, 1, format!("崩溃测试{round}号{i}")).unwrap();
    }
    wb.save_to_buffer().unwrap()
}

/// What must hold after any crash.
async fn invariants(db: &Db, class: i64, rows: i64, what: &str) {
    let enrolled = scalar(db, &format!("SELECT COUNT(*) FROM enrolment WHERE class_id = {class}")).await;
    assert!(enrolled == 0 || enrolled == rows, "{what}: the import landed in part: {enrolled} of {rows}");
    let orphans = scalar(
        db,
        "SELECT COUNT(*) FROM person p WHERE p.name LIKE '崩溃测试%' AND NOT EXISTS (SELECT 1 FROM enrolment e WHERE e.person_id = p.person_id)",
    )
    .await;
    assert_eq!(orphans, 0, "{what}: people registered without their enrolment");
    let twice = scalar(
        db,
        "SELECT COUNT(*) FROM (SELECT claim_id FROM payment WHERE status = 'paid' GROUP BY claim_id HAVING COUNT(*) > 1) x",
    )
    .await;
    assert_eq!(twice, 0, "{what}: a claim paid twice");
    let paid_unpaid = scalar(
        db,
        "SELECT COUNT(*) FROM payment y JOIN claim c ON c.claim_id = y.claim_id WHERE y.status = 'paid' AND c.status NOT IN ('paid', 'recovery_due', 'recovered')",
    )
    .await;
    assert_eq!(paid_unpaid, 0, "{what}: a payment paid whose claim is not");
    // Each fund's balance is its last entry's balance after, and the sum of its entries.
    let off = scalar(
        db,
        "SELECT COUNT(*) FROM fund f WHERE f.balance_fen <> COALESCE((SELECT SUM(CASE WHEN e.kind IN ('payment') THEN -e.amount_fen ELSE e.amount_fen END) \
         FROM fund_entry e WHERE e.fund_code = f.fund_code), 0)",
    )
    .await;
    assert_eq!(off, 0, "{what}: a fund's balance disagrees with its entries");
    let verdict = jineng_store::audit::verify(db).await.unwrap();
    assert_eq!(verdict.breaks, 0, "{what}: the audit chain broke: {verdict:?}");
}

fn crash_and_restart(url: &str, rt: &tokio::runtime::Runtime, db: &Db) {
    // On the demo city (people, classes, claims, payments): a provider's user and finance's.
    let provider = rt.block_on(scalar(db, "SELECT MIN(provider_id) FROM provider"));
    user(url, "crash-provider", "provider", Some(&provider.to_string()));
    user(url, "crash-finance", "finance", None);
    for (round, delay_ms) in [(0usize, 40u64), (1, 250), (2, 450), (3, 650), (4, 900)] {
        // A class awaiting approval, room for everyone.
        let class = rt.block_on(async {
            let id = jineng_store::training::create_class(
                db,
                None,
                &jineng_store::training::NewClass {
                    name: format!("崩溃测试班{round}"),
                    program_code: "P2a".into(),
                    occupation_code: "6-31-01-03".into(),
                    level: None,
                    kind: jineng_domain::TrainingKind::SkillUpgrade,
                    county_code: "411722".into(),
                    provider_id: provider,
                    start_date: chrono::NaiveDate::from_ymd_opt(2031, 1, 10 + round as u32).unwrap(),
                    end_date: chrono::NaiveDate::from_ymd_opt(2031, 1, 20 + round as u32).unwrap(),
                    subsidised: true,
                },
            )
            .await
            .unwrap();
            with_pool!(db, |p| {
                sqlx::query("UPDATE training_class SET status = 'submitted', capacity = NULL WHERE class_id = $1")
                    .bind(id)
                    .execute(p)
                    .await
                    .unwrap();
            });
            id
        });
        let rows = 4_000;
        let sheet = roster(rows, round);
        let server = Server::start(url);
        let provider_token = server.token("crash-provider");
        let finance_token = server.token("crash-finance");
        // The import, killed after `delay_ms`.
        let addr = server.addr;
        let path = format!("/api/v1/classes/{class}/roster");
        let upload = std::thread::spawn(move || request(addr, "POST", &path, Some(&provider_token), XLSX, &sheet));
        std::thread::sleep(Duration::from_millis(delay_ms));
        server.kill();
        let answered = upload.join().unwrap();
        let what = format!("round {round}, killed after {delay_ms} ms during an import ({answered:?})");
        rt.block_on(invariants(db, class, rows as i64, &what));
        let landed = rt.block_on(scalar(db, &format!("SELECT COUNT(*) FROM enrolment WHERE class_id = {class}")));
        println!(
            "{url}: round {round}: killed after {delay_ms} ms; the upload was {}; {landed} of {rows} rows landed",
            if answered.is_some() { "answered" } else { "cut" }
        );

        // A payment batch, killed while finance approves it: three more claims' notice ended.
        rt.block_on(async {
            let past = chrono::NaiveDate::from_ymd_opt(2000, 1, 1).unwrap();
            with_pool!(db, |p| {
                sqlx::query(
                    "UPDATE claim SET notice_until = $1 WHERE claim_id IN \
                     (SELECT claim_id FROM claim WHERE status = 'on_notice' AND notice_until > $1 ORDER BY claim_id LIMIT 3)",
                )
                .bind(past)
                .execute(p)
                .await
                .unwrap();
            })
        });
        let server = Server::start(url);
        let batch_id = ["employment_subsidy_fund", "unemployment_insurance_fund"].iter().find_map(|fund| {
            let body = format!(r#"{{"op": "create_batch", "fund": "{fund}"}}"#);
            let r =
                server.request("POST", "/api/v1/payments", Some(&finance_token), "application/json", body.as_bytes());
            r.and_then(|(_, b)| serde_json::from_str::<serde_json::Value>(&b).ok())
                .and_then(|v| v["batch"]["batch_id"].as_i64())
        });
        assert!(batch_id.is_some() || round >= 2, "round {round}: a batch to approve");
        if let Some(id) = batch_id {
            let addr = server.addr;
            let token = finance_token.clone();
            let approve = std::thread::spawn(move || {
                let body = format!(r#"{{"op": "approve_batch", "batch_id": {id}}}"#);
                request(addr, "POST", "/api/v1/payments", Some(&token), "application/json", body.as_bytes())
            });
            std::thread::sleep(Duration::from_millis(delay_ms / 20));
            server.kill();
            let answered = approve.join().unwrap();
            let what = format!("round {round}, killed during the approval of batch {id} ({answered:?})");
            println!(
                "{url}: round {round}: batch {id} approval {}",
                if answered.is_some() { "answered" } else { "cut" }
            );
            rt.block_on(invariants(db, class, rows as i64, &what));
            // Restarted: approving again pays nothing twice.
            let server = Server::start(url);
            let again = server.request(
                "POST",
                "/api/v1/payments",
                Some(&finance_token),
                "application/json",
                format!(r#"{{"op": "approve_batch", "batch_id": {id}}}"#).as_bytes(),
            );
            assert!(again.is_some_and(|r| r.0 < 500), "{what}: the restarted server answers");
            rt.block_on(invariants(db, class, rows as i64, &format!("{what}, approved again")));
            server.kill();
        } else {
            server.kill();
        }
        // The import again, to the end: every row lands (or had landed) exactly once.
        let server = Server::start(url);
        let token = server.token("crash-provider");
        let sheet = roster(rows, round);
        let r = server.request("POST", &format!("/api/v1/classes/{class}/roster"), Some(&token), XLSX, &sheet).unwrap();
        assert!(r.0 == 201 || r.0 == 422, "round {round}: {} {}", r.0, &r.1[..r.1.len().min(300)]);
        rt.block_on(invariants(db, class, rows as i64, &format!("round {round}, after the import ran to its end")));
        server.kill();
    }
}

#[test]
fn a_killed_server_leaves_no_partial_import_no_double_payment_and_a_sound_ledger_sqlite() {
    let dir = std::env::temp_dir().join(format!("jineng-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite:{}", dir.join("jineng.db").display());
    let out = jineng().args(["demo", "--scale", "small", "--database", &url, "--no-serve"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let runtime = rt();
    let db = runtime.block_on(Db::connect(&url)).unwrap();
    crash_and_restart(&url, &runtime, &db);
    runtime.block_on(async { drop(db) });
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_killed_server_leaves_no_partial_import_no_double_payment_and_a_sound_ledger_postgres() {
    let base = std::env::var("JINENG_TEST_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let name = format!("jineng_crash_{}", std::process::id());
    let runtime = rt();
    let admin =
        runtime.block_on(sqlx::PgPool::connect(&base)).expect("PostgreSQL is needed for this test (JINENG_TEST_PG)");
    runtime.block_on(async {
        sqlx::query(&format!("DROP DATABASE IF EXISTS {name}")).execute(&admin).await.unwrap();
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&admin).await.unwrap();
    });
    let url = format!("{}/{name}", base.rsplit_once('/').unwrap().0);
    let out = jineng().args(["demo", "--scale", "small", "--database", &url, "--no-serve"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let db = runtime.block_on(Db::connect(&url)).unwrap();
    crash_and_restart(&url, &runtime, &db);
    runtime.block_on(async {
        drop(db);
        sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&admin).await.unwrap();
    });
}
