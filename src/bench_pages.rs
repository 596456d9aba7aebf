//! `jineng bench pages`: every GET page and list API as each role sees it, under 16 concurrent
//! clients, against a server in a second process.
//!
//! The server is `jineng serve` on the database, started as a child process. This process signs
//! in as each role (a bench user copied from the demo's login of that role, same scope), walks
//! the pages the role is shown from its home (one page of each kind, two links deep), adds every
//! list API the role may read and the public pages as nobody, then drives each path with
//! `clients` threads of `requests` sequential requests, each client on one kept-alive connection
//! as a browser (and `wrk`) keeps it, and prints path, role, p50, p99 and
//! requests a second, slowest first, with the budget each is held to. The bench users
//! (`bench-<pid>-<login>`) stay in the database: their sign-ins are in its audit log.

use anyhow::{Context, Result};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// What to drive and how hard.
pub struct Options {
    /// The database (a demo city or province); `None`: a new demo city on SQLite.
    pub database: Option<String>,
    /// Concurrent clients per path.
    pub clients: usize,
    /// Requests each client sends, one after another.
    pub requests: usize,
    /// Only paths containing this.
    pub only: Option<String>,
    /// Also write the table (Markdown) here.
    pub out: Option<std::path::PathBuf>,
}

/// The demo's login of each role, whose role and scope the bench user copies.
const DEMO_LOGINS: [&str; 9] =
    ["admin", "county", "department", "finance", "provider", "assessor", "auditor", "worker", "employer"];

/// One GET request; the status and the body. Connection closed after each. `gzip`: accept a
/// compressed body, as every browser does (the driven requests; the walk reads the pages).
fn get(addr: SocketAddr, path: &str, token: Option<&str>, gzip: bool) -> Option<(u16, Vec<u8>)> {
    let mut out = Vec::with_capacity(64 * 1024);
    let status = fetch(addr, path, token, gzip, &mut out)?;
    let body = out.windows(4).position(|w| w == b"\r\n\r\n").map_or(Vec::new(), |i| out[i + 4..].to_vec());
    Some((status, body))
}

/// One GET into `out` (the whole response, cleared first): its status. Connection closed.
fn fetch(addr: SocketAddr, path: &str, token: Option<&str>, gzip: bool, out: &mut Vec<u8>) -> Option<u16> {
    out.clear();
    let mut s = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(5)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(120))).ok()?;
    s.set_nodelay(true).ok()?;
    let head = request(addr, path, token, gzip, false);
    s.write_all(head.as_bytes()).ok()?;
    let _ = s.read_to_end(out);
    std::str::from_utf8(out.get(..12)?).ok()?.split(' ').nth(1)?.parse().ok()
}

/// The request's head.
fn request(addr: SocketAddr, path: &str, token: Option<&str>, gzip: bool, keep_alive: bool) -> String {
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    let encoding = if gzip { "Accept-Encoding: gzip\r\n" } else { "" };
    let connection = if keep_alive { "keep-alive" } else { "close" };
    format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: {connection}\r\n{auth}{encoding}\r\n")
}

/// A client on one kept-alive connection (opened again when the server closes it), as a
/// browser or `wrk` sends its requests: what is timed is the request, not a TCP handshake and
/// teardown each time.
struct Client {
    addr: SocketAddr,
    conn: Option<std::io::BufReader<std::net::TcpStream>>,
}

impl Client {
    fn new(addr: SocketAddr) -> Self {
        Client { addr, conn: None }
    }

    /// One GET with the whole body read into `out` (cleared first, chunks joined): its status.
    fn get(&mut self, path: &str, token: Option<&str>, out: &mut Vec<u8>) -> Option<u16> {
        let status = self.try_get(path, token, out);
        if status.is_none() {
            self.conn = None;
        }
        status
    }

    fn try_get(&mut self, path: &str, token: Option<&str>, out: &mut Vec<u8>) -> Option<u16> {
        use std::io::BufRead;
        out.clear();
        if self.conn.is_none() {
            let s = std::net::TcpStream::connect_timeout(&self.addr, Duration::from_secs(5)).ok()?;
            s.set_read_timeout(Some(Duration::from_secs(120))).ok()?;
            s.set_nodelay(true).ok()?;
            self.conn = Some(std::io::BufReader::with_capacity(64 * 1024, s));
        }
        let conn = self.conn.as_mut()?;
        conn.get_mut().write_all(request(self.addr, path, token, true, true).as_bytes()).ok()?;
        let mut line = String::new();
        conn.read_line(&mut line).ok()?;
        let status: u16 = line.split(' ').nth(1)?.parse().ok()?;
        let (mut length, mut chunked, mut close) = (None, false, false);
        loop {
            line.clear();
            conn.read_line(&mut line).ok()?;
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            let (name, value) = header.split_once(':')?;
            let value = value.trim();
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = value.parse::<usize>().ok(),
                "transfer-encoding" => chunked = value.eq_ignore_ascii_case("chunked"),
                "connection" => close = value.eq_ignore_ascii_case("close"),
                _ => {}
            }
        }
        if chunked {
            loop {
                line.clear();
                conn.read_line(&mut line).ok()?;
                let size = usize::from_str_radix(line.trim_end().split(';').next()?, 16).ok()?;
                let at = out.len();
                out.resize(at + size, 0);
                conn.read_exact(&mut out[at..]).ok()?;
                line.clear();
                conn.read_line(&mut line).ok()?;
                if size == 0 {
                    break;
                }
            }
        } else if let Some(n) = length {
            out.resize(n, 0);
            conn.read_exact(out).ok()?;
        } else {
            conn.read_to_end(out).ok()?;
            close = true;
        }
        if close {
            self.conn = None;
        }
        Some(status)
    }
}

/// A bearer token for `username`.
pub fn token(addr: SocketAddr, username: &str, password: &str) -> Result<String> {
    let body = serde_json::json!({"username": username, "password": password}).to_string();
    let mut s = std::net::TcpStream::connect(addr)?;
    let head = format!(
        "POST /api/v1/tokens HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(head.as_bytes())?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    let json = out.split_once("\r\n\r\n").map(|b| b.1).unwrap_or_default();
    let v: serde_json::Value = serde_json::from_str(json).with_context(|| format!("sign-in of {username}: {out}"))?;
    v["token"].as_str().map(str::to_owned).with_context(|| format!("sign-in of {username}: {out}"))
}

/// The same-site links of a page, without downloads, sign-out or the API.
fn links(html: &str) -> Vec<String> {
    jineng_web::common::same_site_links(html)
        .into_iter()
        .filter(|h| ![".xlsx", ".csv", "/xlsx", "/logout", "/static/", "/api/"].iter().any(|d| h.contains(d)))
        .collect()
}

/// The pages a caller is shown, from `start`, one of each kind, two links deep.
fn walk(addr: SocketAddr, token: Option<&str>, start: &str) -> Vec<String> {
    let mut seen = BTreeSet::from([jineng_web::common::page_kind(start)]);
    let mut queue = VecDeque::from([(start.to_owned(), 0)]);
    let mut out = Vec::new();
    while let Some((path, depth)) = queue.pop_front() {
        let Some((200, body)) = get(addr, &path, token, false) else { continue };
        out.push(path);
        if depth < 2 {
            for l in links(&String::from_utf8_lossy(&body)) {
                if seen.insert(jineng_web::common::page_kind(&l)) {
                    queue.push_back((l, depth + 1));
                }
            }
        }
    }
    out
}

/// One row of the table.
struct Row {
    path: String,
    role: &'static str,
    p50_ms: f64,
    p99_ms: f64,
    per_s: f64,
    errors: usize,
    budget_ms: f64,
}

/// Drives `path` with `clients` threads of `requests` requests each.
fn drive(addr: SocketAddr, path: &str, token: Option<&str>, clients: usize, requests: usize) -> (Vec<f64>, usize, f64) {
    let started = Instant::now();
    let results: Vec<(Vec<f64>, usize)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..clients)
            .map(|_| {
                s.spawn(move || {
                    let mut times = Vec::with_capacity(requests);
                    let mut errors = 0;
                    let mut buf = Vec::with_capacity(64 * 1024);
                    let mut client = Client::new(addr);
                    for _ in 0..requests {
                        let t = Instant::now();
                        match client.get(path, token, &mut buf) {
                            Some(200) => times.push(t.elapsed().as_secs_f64() * 1000.0),
                            _ => errors += 1,
                        }
                    }
                    (times, errors)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_default()).collect()
    });
    let wall = started.elapsed().as_secs_f64();
    let errors = results.iter().map(|r| r.1).sum();
    let mut times: Vec<f64> = results.into_iter().flat_map(|r| r.0).collect();
    times.sort_by(f64::total_cmp);
    (times, errors, wall)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

/// Runs the bench (see the module's documentation).
pub async fn pages(o: Options) -> Result<()> {
    let exe = std::env::current_exe()?;
    let database = match o.database.clone() {
        Some(d) => d,
        None => {
            let path = format!("/tmp/jineng-pages-bench-{}.db", std::process::id());
            let _ = std::fs::remove_file(&path);
            let url = format!("sqlite:{path}");
            eprintln!("building a demo city in {path} …");
            let out = std::process::Command::new(&exe)
                .args(["demo", "--scale", "city", "--database", &url, "--no-serve"])
                .env("JINENG_LOG", "warn")
                .output()?;
            anyhow::ensure!(out.status.success(), "demo: {}", String::from_utf8_lossy(&out.stderr));
            url
        }
    };
    let postgres = database.starts_with("postgres");
    let db = jineng_store::Db::connect(&database).await?;
    let people: i64 =
        jineng_store::with_pool!(&db, |p| sqlx::query_scalar("SELECT COUNT(*) FROM person").fetch_one(p).await?);
    let person_times: i64 =
        jineng_store::with_pool!(&db, |p| sqlx::query_scalar("SELECT COUNT(*) FROM completion").fetch_one(p).await?);
    // A bench user per role, with the demo login's role and scope.
    let password = "bench pages staple horse battery";
    let tag = std::process::id();
    let mut users = Vec::new();
    for login in DEMO_LOGINS {
        let found: Option<(String, Option<String>)> =
            jineng_store::with_pool!(&db, |p| sqlx::query_as("SELECT role, scope FROM app_user WHERE username = $1")
                .bind(login)
                .fetch_optional(p)
                .await?);
        let Some((role, scope)) = found else { continue };
        let role = jineng_domain::Role::parse(&role).with_context(|| format!("unknown role {role}"))?;
        let username = format!("bench-{tag}-{login}");
        jineng_store::users::create(&db, None, &username, &username, password, role, scope.as_deref()).await?;
        users.push((role, username));
    }
    drop(db);

    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse()?;
    let mut server = std::process::Command::new(&exe)
        .args(["serve", "--database", &database, "--listen", &addr.to_string(), "--checks-every-hours", "0"])
        .env("JINENG_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .spawn()?;
    let result = run(addr, &o, &users, password, postgres, people, person_times);
    let _ = server.kill();
    let _ = server.wait();
    result
}

fn run(
    addr: SocketAddr,
    o: &Options,
    users: &[(jineng_domain::Role, String)],
    password: &str,
    postgres: bool,
    people: i64,
    person_times: i64,
) -> Result<()> {
    let until = Instant::now() + Duration::from_secs(120);
    while get(addr, "/healthz", None, false).map(|r| r.0) != Some(200) {
        anyhow::ensure!(Instant::now() < until, "the server did not come up");
        std::thread::sleep(Duration::from_millis(100));
    }
    let page_budget = if postgres { 300.0 } else { 50.0 };
    // (role, token, path)
    let mut targets: Vec<(&'static str, Option<String>, String)> = Vec::new();
    for path in walk(addr, None, "/public") {
        targets.push(("public", None, path));
    }
    for p in ["/notice", "/login", "/healthz"] {
        if !targets.iter().any(|t| t.2 == p) {
            targets.push(("public", None, p.to_owned()));
        }
    }
    for (role, username) in users {
        let t = token(addr, username, password)?;
        for path in walk(addr, Some(&t), "/") {
            targets.push((role.code(), Some(t.clone()), path));
        }
        for (_, routes) in jineng_web::routes::by_module() {
            for r in routes {
                let list = r.method.as_str() == "GET" && r.path.starts_with("/api/v1/") && !r.path.contains('{');
                if list && r.access.allows(Some(*role)) && !r.path.contains("export") {
                    targets.push((role.code(), Some(t.clone()), r.path.to_owned()));
                }
            }
        }
    }
    if let Some(only) = &o.only {
        targets.retain(|t| t.2.contains(only.as_str()));
    }
    eprintln!("{} paths × {} clients × {} requests …", targets.len(), o.clients, o.requests);
    let mut rows = Vec::new();
    let bar = indicatif::ProgressBar::new(targets.len() as u64);
    for (role, token, path) in &targets {
        // Once first, so that a cache the page keeps is warm, as it is in service.
        let first = get(addr, path, token.as_deref(), false);
        if first.as_ref().map(|r| r.0) != Some(200) {
            bar.println(format!("skipped {role} {path}: {:?}", first.map(|r| r.0)));
            bar.inc(1);
            continue;
        }
        // And one round of every client, not timed: the server's connections to the database
        // and its buffers for this many concurrent responses are made once in service, not
        // for the first path the bench happens to drive.
        drive(addr, path, token.as_deref(), o.clients, 1);
        let (times, errors, wall) = drive(addr, path, token.as_deref(), o.clients, o.requests);
        let public = *role == "public";
        rows.push(Row {
            path: path.clone(),
            role,
            p50_ms: percentile(&times, 0.50),
            p99_ms: percentile(&times, 0.99),
            per_s: times.len() as f64 / wall,
            errors,
            budget_ms: if public { 50.0 } else { page_budget },
        });
        bar.inc(1);
    }
    bar.finish_and_clear();
    rows.sort_by(|a, b| b.p99_ms.total_cmp(&a.p99_ms));
    let over = rows.iter().filter(|r| r.p99_ms > r.budget_ms || r.errors > 0).count();
    let mut table = String::new();
    use std::fmt::Write as _;
    writeln!(
        table,
        "{} — {} people, {} person-times; {} paths, {} clients × {} requests each\n",
        if postgres { "PostgreSQL" } else { "SQLite" },
        people,
        person_times,
        rows.len(),
        o.clients,
        o.requests
    )?;
    writeln!(table, "| path | role | p50 ms | p99 ms | req/s | budget p99 | |")?;
    writeln!(table, "|---|---|---:|---:|---:|---:|---|")?;
    for r in &rows {
        let mark = if r.errors > 0 {
            format!("✗ {} errors", r.errors)
        } else if r.p99_ms > r.budget_ms {
            "✗ over".to_owned()
        } else {
            "✓".to_owned()
        };
        writeln!(
            table,
            "| `{}` | {} | {:.1} | {:.1} | {:.0} | {:.0} | {mark} |",
            r.path, r.role, r.p50_ms, r.p99_ms, r.per_s, r.budget_ms
        )?;
    }
    let mut by_role: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &rows {
        *by_role.entry(r.role).or_default() += 1;
    }
    writeln!(table, "\npaths per role: {by_role:?}; over budget or failing: {over}")?;
    print!("{table}");
    if let Some(out) = &o.out {
        std::fs::write(out, &table)?;
    }
    Ok(())
}
