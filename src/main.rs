//! `jineng`: the command line. Each subcommand is a thin shell over the library crates.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use jineng_domain::Plan;
use jineng_store::{demo, plan, Db};
use std::net::SocketAddr;
use std::time::Instant;

mod bench;
mod bench_pages;

/// mimalloc rather than the C library's allocator: a page allocates and frees thousands of small
/// strings, on as many threads as there are requests, and glibc's arenas contend on their locks
/// (a fifth of the server's time in a list API under 16 clients).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "jineng", version, about = "职业技能提升行动管理系统 · Vocational skills upgrading action")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web UI and API on an existing or new database.
    Serve {
        /// Database URL: `sqlite:jineng.db` (default) or `postgres://user@host/db`.
        #[arg(long, env = "JINENG_DATABASE", default_value = "sqlite:jineng.db")]
        database: String,
        /// Address to listen on.
        #[arg(long, env = "JINENG_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Plan file to load into a new database (default: the shipped Zhumadian 2019–2021 plan).
        #[arg(long, env = "JINENG_PLAN")]
        plan: Option<std::path::PathBuf>,
        /// Mark cookies Secure (when served behind HTTPS).
        #[arg(long, env = "JINENG_SECURE_COOKIES")]
        secure_cookies: bool,
        /// Reverse proxies (IP addresses, comma-separated) whose `X-Forwarded-For` names the
        /// client for throttles and the audit log; by default the header is ignored.
        #[arg(long, env = "JINENG_TRUSTED_PROXIES", value_delimiter = ',')]
        trusted_proxies: Vec<std::net::IpAddr>,
        /// Run every fraud check (S12) this many hours apart inside the server, the first run
        /// five minutes after start; 0: only on demand, from the findings page.
        #[arg(long, env = "JINENG_CHECKS_EVERY_HOURS", default_value_t = 24)]
        checks_every_hours: u64,
    },
    /// Create a fresh database with the plan and a synthetic city, then serve it.
    Demo {
        /// small (tests), city (≈ 250,000 person-times) or province (10× city).
        #[arg(long, default_value = "city")]
        scale: demo::Scale,
        /// Seed: the same seed gives the same city.
        #[arg(long, default_value_t = 2019)]
        seed: u64,
        /// Database URL; an SQLite file is deleted and created anew.
        #[arg(long, env = "JINENG_DATABASE", default_value = "sqlite:jineng-demo.db")]
        database: String,
        /// Address to listen on.
        #[arg(long, env = "JINENG_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Plan file (default: the shipped plan).
        #[arg(long)]
        plan: Option<std::path::PathBuf>,
        /// Generate and exit without serving.
        #[arg(long)]
        no_serve: bool,
        /// Also write check-ins and plant anomalies of every check (for `bench checks`).
        #[arg(long)]
        anomalies: bool,
    },
    /// Decide every claim of a case file (`-` = stdin) and print the decisions as JSON.
    Adjudicate {
        /// Case file, or `-` for standard input.
        file: String,
        /// Pretty-print the JSON.
        #[arg(long)]
        pretty: bool,
        /// Include every rule checked in each decision.
        #[arg(long)]
        explain: bool,
        /// Parameter file (default: the shipped `policy/parameters.toml`).
        #[arg(long, env = "JINENG_PARAMETERS")]
        parameters: Option<std::path::PathBuf>,
        /// Print elapsed time and peak memory to standard error at the end.
        #[arg(long)]
        stats: bool,
    },
    /// Load a case into a fresh database through the live write paths, file its claims in
    /// `filed` order and print the decisions the live system stored, as `adjudicate` does.
    /// Bad input exits 2; a case the live system cannot hold (or a refused fact) exits 3.
    Replay {
        /// Case file, or `-` for standard input.
        file: String,
        /// An empty database to load it into (default: an in-memory SQLite).
        #[arg(long)]
        database: Option<String>,
        /// Pretty-print the JSON.
        #[arg(long)]
        pretty: bool,
        /// Also print, to standard error, where the live decisions differ from the engine's.
        #[arg(long)]
        compare: bool,
    },
    /// Benchmarks (figures for the issues; not tests).
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
    /// Policy tools.
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// Write a consistent copy of the SQLite database while it serves (`VACUUM INTO`).
    Backup {
        /// Database URL.
        #[arg(long, env = "JINENG_DATABASE", default_value = "sqlite:jineng.db")]
        database: String,
        /// The backup file to write (must not exist).
        file: std::path::PathBuf,
    },
    /// Put a backup in place of the SQLite database (stop the server first); checked first.
    Restore {
        /// The backup file.
        file: std::path::PathBuf,
        /// Database URL.
        #[arg(long, env = "JINENG_DATABASE", default_value = "sqlite:jineng.db")]
        database: String,
    },
    /// The audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Create a user.
    User {
        /// Database URL.
        #[arg(long, env = "JINENG_DATABASE", default_value = "sqlite:jineng.db")]
        database: String,
        username: String,
        /// Role: city_admin, department, county, finance, provider, assessment_body, auditor, worker.
        role: String,
        /// Scope: county code, department code, provider id, assessment body id or person id.
        #[arg(long)]
        scope: Option<String>,
        /// Display name.
        #[arg(long)]
        name: Option<String>,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Walk the hash chain of the audit log and report the first entry altered, removed or
    /// inserted (exit 1 if any).
    Verify {
        /// Database URL.
        #[arg(long, env = "JINENG_DATABASE", default_value = "sqlite:jineng.db")]
        database: String,
    },
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Append N audit entries through the live write path, then time `audit verify` over them.
    Audit {
        #[arg(long, default_value_t = 1_000_000)]
        rows: u64,
        /// Database URL (default: a new SQLite file in /tmp); a PostgreSQL URL should name an empty database.
        #[arg(long)]
        database: Option<String>,
    },
    /// The server under abuse, on a small demo city: `/healthz` latency while bogus sign-ins
    /// arrive, and the server's peak memory while it receives the largest upload it allows.
    Abuse {
        /// How long the sign-in flood lasts.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Bogus sign-ins a second.
        #[arg(long, default_value_t = 100)]
        rate: u64,
    },
    /// Write a roster .xlsx of N new people, then import it in a child process and report.
    Roster {
        #[arg(long, default_value_t = 100_000)]
        rows: usize,
        /// Database URL (default: a new SQLite file in /tmp): an empty database, or a demo city or
        /// province (the roster then goes to a new class of a new provider there, one row in five
        /// someone registered there).
        #[arg(long)]
        database: Option<String>,
    },
    /// Register N people, write a social-insurance register of them (.xlsx, one row in ten of
    /// someone not registered), then import it in a child process and report time and memory.
    Registers {
        #[arg(long, default_value_t = 100_000)]
        rows: usize,
        /// Database URL (default: a new SQLite file in /tmp); a PostgreSQL URL should name an empty database.
        #[arg(long)]
        database: Option<String>,
    },
    /// Import a social-insurance register file (used by `bench registers`).
    #[command(hide = true)]
    RegisterImport {
        /// The .xlsx file.
        file: std::path::PathBuf,
        /// Database URL.
        #[arg(long)]
        database: String,
    },
    /// Import a roster file into a new class (used by `bench roster`).
    #[command(hide = true)]
    RosterImport {
        /// The .xlsx file.
        file: std::path::PathBuf,
        /// Database URL.
        #[arg(long)]
        database: String,
    },
    /// Issue N certificates to N new people, then time certificate → decided, stored claims.
    Claims {
        #[arg(long, default_value_t = 100_000)]
        certificates: usize,
        /// Database URL (default: a new SQLite file in /tmp): an empty database, or a demo city or
        /// province (the new rows then follow its largest ids).
        #[arg(long)]
        database: Option<String>,
    },
    /// On an existing database (e.g. a demo city or province), time the monthly and quarterly
    /// reports, their .xlsx, T2/T3 and closing a month.
    Reports {
        /// Database URL.
        #[arg(long)]
        database: String,
        /// The quarter to report.
        #[arg(long, default_value = "2020-Q4")]
        quarter: String,
        /// The month to report, export and close.
        #[arg(long, default_value = "2020-11")]
        month: String,
    },
    /// Build the demo city with planted anomalies of every check, then time each check and
    /// report what it found against what was planted; on a database that already holds a demo
    /// (e.g. the province), time the checks on it without planting.
    Checks {
        /// Database URL (default: a new SQLite file in /tmp): an empty database, or one holding a
        /// demo city or province.
        #[arg(long)]
        database: Option<String>,
        /// small or city.
        #[arg(long, default_value = "city")]
        scale: demo::Scale,
        #[arg(long, default_value_t = 2019)]
        seed: u64,
    },
    /// Serve a database (a demo city or province) in a second process and drive every GET page
    /// and list API of every role with concurrent clients: path, role, p50, p99, requests/s.
    Pages {
        /// Database URL (default: a new demo city on SQLite in /tmp).
        #[arg(long)]
        database: Option<String>,
        /// Concurrent clients per path.
        #[arg(long, default_value_t = 16)]
        clients: usize,
        /// Requests each client sends per path.
        #[arg(long, default_value_t = 20)]
        requests: usize,
        /// Only paths containing this.
        #[arg(long)]
        only: Option<String>,
        /// Also write the table (Markdown) to this file.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
    /// Generate a large case and time the policy engine in-process and end to end.
    Policy {
        /// People in the case.
        #[arg(long, default_value_t = 200_000)]
        people: usize,
        /// Claims in the case.
        #[arg(long, default_value_t = 1_000_000)]
        claims: usize,
        /// Where to write the case.
        #[arg(long, default_value = "/tmp/jineng-bench-case.json")]
        out: std::path::PathBuf,
        #[arg(long, default_value_t = 2019)]
        seed: u64,
    },
}

#[derive(Subcommand)]
enum PolicyCommand {
    /// Run case files with `expect` (files or folders) and print one line per case.
    Test {
        /// Case files or folders.
        #[arg(required = true)]
        paths: Vec<std::path::PathBuf>,
        /// Parameter file (default: the shipped one).
        #[arg(long, env = "JINENG_PARAMETERS")]
        parameters: Option<std::path::PathBuf>,
    },
}

fn load_params(path: Option<&std::path::Path>) -> Result<jineng_policy::Params> {
    match path {
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            jineng_policy::Params::from_toml(&text).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))
        }
        None => Ok(jineng_policy::Params::shipped()),
    }
}

/// A case from a file or standard input (`-`), checked; bad input exits 2 naming its path.
fn read_case(file: &str) -> Result<jineng_policy::Checked> {
    use std::io::Read;
    let mut text = String::new();
    if file == "-" {
        std::io::stdin().read_to_string(&mut text).context("reading standard input")?;
    } else {
        text = std::fs::read_to_string(file).with_context(|| format!("reading {file}"))?;
    }
    match jineng_policy::parse(&text) {
        Ok(c) => Ok(c),
        Err(e) => {
            eprintln!("bad input: {e}");
            std::process::exit(2);
        }
    }
}

fn region() -> Result<String> {
    Ok(read_plan(None)?.0.plan.region_code.to_string())
}

fn case_files(paths: &[std::path::PathBuf]) -> Result<Vec<std::path::PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut stack = vec![p.clone()];
            while let Some(dir) = stack.pop() {
                for entry in std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
                    let path = entry?.path();
                    if path.is_dir() {
                        stack.push(path);
                    } else if path.extension().is_some_and(|e| e == "json") {
                        out.push(path);
                    }
                }
            }
        } else {
            out.push(p.clone());
        }
    }
    out.sort();
    Ok(out)
}

/// `policy test`: returns (passed, failed).
fn policy_test(paths: &[std::path::PathBuf], params: &jineng_policy::Params, region: &str) -> Result<(usize, usize)> {
    let (mut passed, mut failed) = (0, 0);
    for file in case_files(paths)? {
        let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
        let checked = match jineng_policy::parse(&text) {
            Ok(c) => c,
            Err(e) => {
                println!("FAIL {} — bad input: {e}", file.display());
                failed += 1;
                continue;
            }
        };
        let Some(expect) = checked.case.expect.clone() else { continue };
        let decisions = jineng_policy::Engine::new(params, region).decide(&checked);
        let problems = jineng_policy::testing::compare(&expect, &decisions);
        let clauses = checked.case.exercises.join(",");
        if problems.is_empty() {
            passed += 1;
            println!("ok   [{clauses}] {} — {}", file.display(), checked.case.name);
        } else {
            failed += 1;
            println!("FAIL [{clauses}] {} — {}", file.display(), checked.case.name);
            for p in problems {
                println!("       {p}");
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    Ok((passed, failed))
}

fn read_plan(path: Option<&std::path::Path>) -> Result<(Plan, String)> {
    let text = match path {
        Some(p) => std::fs::read_to_string(p).with_context(|| format!("reading plan file {}", p.display()))?,
        None => jineng_store::DEFAULT_PLAN.to_owned(),
    };
    let plan = Plan::from_toml(&text).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok((plan, text))
}

async fn open(database: &str, plan_path: Option<&std::path::Path>) -> Result<Db> {
    let db = Db::connect(database).await.with_context(|| format!("opening database {}", redact(database)))?;
    let (p, text) = read_plan(plan_path)?;
    if plan::load_plan(&db, &p, &text).await? {
        tracing::info!(plan.id = %p.plan.id, "plan loaded");
    }
    Ok(db)
}

/// The database's size on disk: PostgreSQL's own count, or the SQLite file with its WAL.
async fn database_size(db: &jineng_store::Db, url: &str) -> Option<i64> {
    match db {
        jineng_store::Db::Postgres(p) => {
            sqlx::query_scalar("SELECT pg_database_size(current_database())").fetch_one(p).await.ok()
        }
        jineng_store::Db::Sqlite(_) => {
            let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
            let path = path.split('?').next()?;
            let size = |p: String| std::fs::metadata(p).map(|m| m.len() as i64).unwrap_or(0);
            Some(size(path.to_owned()) + size(format!("{path}-wal")))
        }
    }
}

/// Peak resident memory of this process (Linux `VmHWM`), for the demo's report.
fn peak_memory_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Hides a password in a database URL.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

async fn serve(
    db: Db,
    listen: SocketAddr,
    secure_cookies: bool,
    trusted_proxies: Vec<std::net::IpAddr>,
    checks_every_hours: u64,
) -> Result<()> {
    if checks_every_hours > 0 {
        let every = std::time::Duration::from_secs(checks_every_hours.saturating_mul(3600));
        jineng_store::checks::spawn_scheduled(db.clone(), std::time::Duration::from_secs(300), every);
        println!("疑点检查每 {checks_every_hours} 小时自动运行一次 fraud checks run every {checks_every_hours} h");
    }
    let mut state = jineng_web::AppState::new(db);
    state.secure_cookies = secure_cookies;
    state.trusted_proxies = std::sync::Arc::new(trusted_proxies);
    println!("jineng 正在运行 running at http://{listen}/  (Ctrl-C 停止 to stop)");
    jineng_web::serve(state, listen).await?;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("JINENG_LOG").unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .init();
    match Cli::parse().command {
        Command::Serve { database, listen, plan, secure_cookies, trusted_proxies, checks_every_hours } => {
            let db = open(&database, plan.as_deref()).await?;
            serve(db, listen, secure_cookies, trusted_proxies, checks_every_hours).await
        }
        Command::Demo { scale, seed, database, listen, plan, no_serve, anomalies } => {
            if let Some(path) = database.strip_prefix("sqlite:") {
                let path = path.trim_start_matches("//");
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{path}{suffix}"));
                }
            }
            anyhow::ensure!(
                !(anomalies && scale.in_proportion()),
                "省级规模的演示数据已自带签到记录：--anomalies 只用于 city 或 small 规模 \
                 (the province demo writes its own check-ins; plant anomalies at city or small scale)"
            );
            let started = Instant::now();
            let db = open(&database, plan.as_deref()).await?;
            if db.backend() == "postgres" {
                anyhow::ensure!(
                    jineng_store::plan::recount(&db).await?.is_empty(),
                    "the PostgreSQL database already holds data: give an empty one to `demo`"
                );
            }
            let bar = indicatif::ProgressBar::new(100);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} 生成演示数据 generating {bar:40} {percent}% {elapsed}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            let summary = demo::generate(&db, scale, seed, &|done, total| {
                bar.set_length(total.max(1));
                bar.set_position(done);
            })
            .await?;
            // The claims (a province's take minutes): the step, its bar and the time so far.
            bar.set_style(
                indicatif::ProgressStyle::with_template("{spinner} {msg} {bar:40} {percent}% {elapsed}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar.enable_steady_tick(std::time::Duration::from_millis(200));
            let today = jineng_web::Clock::default().today();
            let claims = demo::walk_claims_with(&db, &summary, today, &|step, done, all| {
                bar.set_message(step);
                bar.set_length(all.max(1));
                bar.set_position(done);
            })
            .await?;
            bar.finish_and_clear();
            println!(
                "演示数据已生成 demo ready in {:.1} s: {} 人 people, {} 个培训班 classes, {} 人次 person-times ({})",
                started.elapsed().as_secs_f64(),
                summary.people,
                summary.classes,
                summary.completions,
                redact(&database)
            );
            if summary.check_ins > 0 {
                println!(
                    "  {} 次签到 check-ins, {} 张证书 certificates",
                    summary.check_ins,
                    summary.certificates.len()
                );
            }
            println!("  {claims}");
            if anomalies {
                let planted = demo::anomalies::plant(&db, scale, seed).await?;
                println!(
                    "  {} 次签到 check-ins; 植入异常 planted anomalies: {}",
                    planted.attendance,
                    planted.anomalies.len()
                );
            }
            if let Some(kb) = peak_memory_kb() {
                println!("峰值内存 peak memory (VmHWM): {:.0} MB", kb as f64 / 1024.0);
            }
            if let Some(bytes) = database_size(&db, &database).await {
                println!("数据库大小 database size: {:.2} GB", bytes as f64 / 1e9);
            }
            println!("\n演示账号 Demo logins (one per role; passwords are random for this run):");
            for l in &summary.logins {
                println!(
                    "  {:<12} {:<24} {:<10} {}  ({} {})",
                    l.role.zh(),
                    l.password,
                    l.username,
                    l.scope_label,
                    l.role.en(),
                    l.role.code()
                );
            }
            println!("  用法 usage: username = the third column, password = the second\n");
            if no_serve {
                return Ok(());
            }
            serve(db, listen, false, Vec::new(), 24).await
        }
        Command::Bench { command: BenchCommand::Policy { people, claims, out, seed } } => {
            bench::run(people, claims, &out, seed)
        }
        Command::Bench { command: BenchCommand::Abuse { seconds, rate } } => bench::abuse(seconds, rate).await,
        Command::Bench { command: BenchCommand::Pages { database, clients, requests, only, out } } => {
            bench_pages::pages(bench_pages::Options { database, clients, requests, only, out }).await
        }
        Command::Bench { command: BenchCommand::Roster { rows, database } } => {
            let file = std::path::PathBuf::from(format!("/tmp/jineng-roster-{rows}.xlsx"));
            let t = Instant::now();
            let database = match database {
                Some(d) => {
                    bench::roster_file_for(&d, &file, rows).await?;
                    d
                }
                None => {
                    bench::roster_file(&file, rows)?;
                    let path = format!("/tmp/jineng-roster-bench-{}.db", std::process::id());
                    let _ = std::fs::remove_file(&path);
                    format!("sqlite:{path}")
                }
            };
            println!("wrote {} in {:.1} s", file.display(), t.elapsed().as_secs_f64());
            let status = std::process::Command::new(std::env::current_exe()?)
                .args(["bench", "roster-import"])
                .arg(&file)
                .args(["--database", &database])
                .env("JINENG_LOG", "warn")
                .status()?;
            anyhow::ensure!(status.success(), "roster import failed");
            Ok(())
        }
        Command::Bench { command: BenchCommand::Reports { database, quarter, month } } => {
            bench::reports(&database, &quarter, &month).await
        }
        Command::Bench { command: BenchCommand::Checks { database, scale, seed } } => {
            let database = database.unwrap_or_else(|| {
                let path = format!("/tmp/jineng-checks-bench-{}.db", std::process::id());
                let _ = std::fs::remove_file(&path);
                format!("sqlite:{path}")
            });
            let db = open(&database, None).await?;
            println!("{}", redact(&database));
            bench::checks(&db, scale, seed).await
        }
        Command::Bench { command: BenchCommand::Audit { rows, database } } => {
            let database = database.unwrap_or_else(|| {
                let path = format!("/tmp/jineng-audit-bench-{}.db", std::process::id());
                let _ = std::fs::remove_file(&path);
                format!("sqlite:{path}")
            });
            let db = Db::connect(&database).await?;
            let t = Instant::now();
            jineng_store::audit::fill(&db, rows).await?;
            println!("appended {rows} audit entries in {:.1} s ({})", t.elapsed().as_secs_f64(), redact(&database));
            let t = Instant::now();
            let v = jineng_store::audit::verify(&db).await?;
            let secs = t.elapsed().as_secs_f64();
            println!(
                "audit verify: {} entries in {secs:.2} s ({:.0} entries/s), breaks: {}",
                v.rows,
                v.rows as f64 / secs.max(1e-9),
                v.breaks
            );
            if let Some(kb) = peak_memory_kb() {
                println!("峰值内存 peak memory (VmHWM): {:.0} MB", kb as f64 / 1024.0);
            }
            Ok(())
        }
        Command::Audit { command: AuditCommand::Verify { database } } => {
            let db = Db::connect(&database).await?;
            let t = Instant::now();
            let v = jineng_store::audit::verify(&db).await?;
            println!(
                "审计日志 audit log: {} 条 entries read in {:.2} s; 链头 head: seq {} hash {}",
                v.rows,
                t.elapsed().as_secs_f64(),
                v.head_seq,
                v.head_hash
            );
            match &v.first {
                None => {
                    println!("完好 intact: every entry links to the one before and hashes as written");
                    Ok(())
                }
                Some(p) => {
                    println!(
                        "已被篡改 TAMPERED: {} break(s); first: {:?} at seq {} (audit_id {}): {}",
                        v.breaks,
                        p.kind,
                        p.seq.map_or("-".to_owned(), |s| s.to_string()),
                        p.audit_id.map_or("-".to_owned(), |s| s.to_string()),
                        p.message
                    );
                    std::process::exit(1);
                }
            }
        }
        Command::Bench { command: BenchCommand::Claims { certificates, database } } => {
            let database = database.unwrap_or_else(|| {
                let path = format!("/tmp/jineng-claims-bench-{}.db", std::process::id());
                let _ = std::fs::remove_file(&path);
                format!("sqlite:{path}")
            });
            bench::claims(certificates, &database).await
        }
        Command::Bench { command: BenchCommand::Registers { rows, database } } => {
            let database = database.unwrap_or_else(|| {
                let path = format!("/tmp/jineng-registers-bench-{}.db", std::process::id());
                let _ = std::fs::remove_file(&path);
                format!("sqlite:{path}")
            });
            let file = std::path::PathBuf::from(format!("/tmp/jineng-insured-{rows}.xlsx"));
            bench::register_file(&database, &file, rows).await?;
            let status = std::process::Command::new(std::env::current_exe()?)
                .args(["bench", "register-import"])
                .arg(&file)
                .args(["--database", &database])
                .env("JINENG_LOG", "warn")
                .status()?;
            anyhow::ensure!(status.success(), "register import failed");
            Ok(())
        }
        Command::Bench { command: BenchCommand::RegisterImport { file, database } } => {
            bench::register_import(&file, &database).await
        }
        Command::Bench { command: BenchCommand::RosterImport { file, database } } => {
            bench::roster_import(&file, &database).await
        }
        Command::Adjudicate { file, pretty, explain, parameters, stats } => {
            use std::io::Write;
            let started = Instant::now();
            let params = load_params(parameters.as_deref())?;
            let checked = read_case(&file)?;
            let region = region()?;
            let mut engine = jineng_policy::Engine::new(&params, &region);
            if explain {
                engine = engine.explaining();
            }
            let decisions = engine.decide(&checked);
            let out = std::io::stdout().lock();
            let mut out = std::io::BufWriter::with_capacity(1 << 20, out);
            #[derive(serde::Serialize)]
            struct Out<'a> {
                decisions: &'a [jineng_policy::Decision<'a>],
            }
            let body = Out { decisions: &decisions };
            if pretty {
                serde_json::to_writer_pretty(&mut out, &body)?;
            } else {
                serde_json::to_writer(&mut out, &body)?;
            }
            writeln!(out)?;
            out.flush()?;
            if stats {
                eprintln!(
                    "{} decisions in {:.2} s, peak memory {:.0} MB",
                    decisions.len(),
                    started.elapsed().as_secs_f64(),
                    peak_memory_kb().unwrap_or(0) as f64 / 1024.0
                );
            }
            Ok(())
        }
        Command::Replay { file, database, pretty, compare } => {
            let checked = read_case(&file)?;
            let db = open(database.as_deref().unwrap_or("sqlite::memory:"), None).await?;
            let live = match jineng_store::replay::replay(&db, &checked).await {
                Ok(d) => d,
                Err(e) => {
                    eprintln!("not replayed: {e}");
                    std::process::exit(3);
                }
            };
            let body = serde_json::json!({ "decisions": live });
            if pretty {
                println!("{}", serde_json::to_string_pretty(&body)?);
            } else {
                println!("{body}");
            }
            if compare {
                let params = jineng_policy::Params::shipped();
                let region = region()?;
                let engine = jineng_policy::Engine::new(&params, &region);
                let decided = serde_json::to_value(engine.decide(&checked))?;
                let mut differ = 0;
                for d in decided.as_array().into_iter().flatten() {
                    let id = d["claim"].as_str().unwrap_or_default();
                    match live.iter().find(|l| l["claim"] == id) {
                        None => {
                            differ += 1;
                            eprintln!("{id}: not filed by the live system");
                        }
                        Some(l) => {
                            for x in jineng_store::replay::differences(d, l) {
                                differ += 1;
                                eprintln!("{id}: {x}");
                            }
                        }
                    }
                }
                if differ > 0 {
                    std::process::exit(1);
                }
            }
            Ok(())
        }
        Command::Policy { command: PolicyCommand::Test { paths, parameters } } => {
            let params = load_params(parameters.as_deref())?;
            let (_, failed) = policy_test(&paths, &params, &region()?)?;
            if failed > 0 {
                std::process::exit(1);
            }
            Ok(())
        }
        Command::Backup { database, file } => {
            let db = Db::connect(&database).await?;
            let bytes = db.backup_to(&file).await?;
            println!("备份完成 backup written: {} ({:.1} MB)", file.display(), bytes as f64 / 1e6);
            Ok(())
        }
        Command::Restore { file, database } => {
            let path = database.strip_prefix("sqlite:").map(|p| p.trim_start_matches("//")).context(
                "restore puts a backup in place of a SQLite database (sqlite:PATH); for PostgreSQL use pg_restore",
            )?;
            jineng_store::restore_sqlite(&file, std::path::Path::new(path)).await?;
            println!("已恢复 restored {} from {}", path, file.display());
            Ok(())
        }
        Command::User { database, username, role, scope, name } => {
            let db = open(&database, None).await?;
            let role = jineng_domain::Role::parse(&role).with_context(|| format!("unknown role {role}"))?;
            let password = std::env::var("JINENG_NEW_PASSWORD")
                .unwrap_or_else(|_| jineng_store::users::random_token()[..16].to_owned());
            jineng_store::users::create(
                &db,
                None,
                &username,
                name.as_deref().unwrap_or(&username),
                &password,
                role,
                scope.as_deref(),
            )
            .await?;
            println!("created {username} ({}) password: {password}", role.code());
            Ok(())
        }
    }
}
