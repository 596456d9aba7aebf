//! `jineng bench policy`: generates a large realistic case and measures the policy engine
//! (parse, decide, print) in-process and end to end through `jineng adjudicate`.

use anyhow::{Context, Result};
use jineng_domain::{AreaCode, IdNumber};
use std::fmt::Write as _;
use std::io::Write;
use std::time::Instant;

/// A small deterministic generator (xorshift), so the case is the same for the same seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

const COUNTIES: [&str; 10] =
    ["411702", "411721", "411722", "411723", "411724", "411725", "411726", "411727", "411728", "411729"];
const OCCUPATIONS: [&str; 12] = [
    "4-10-01-05",
    "4-10-01-06",
    "6-31-01-03",
    "4-03-02-01",
    "4-01-06-01",
    "5-01-02-01",
    "6-02-06-05",
    "4-14-01-01",
    "4-03-01-01",
    "6-29-01-01",
    "4-02-07-10",
    "4-07-02-06",
];
const GROUPS: [&str; 8] = [
    "poor_worker",
    "rural_migrant",
    "employee",
    "hard_to_employ",
    "school_leaver",
    "veteran",
    "laid_off",
    "urban_dibao",
];

fn date(rng: &mut Rng, from_year: i32, years: u64) -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(from_year, 1, 1).unwrap() + chrono::Days::new(rng.below(365 * years))
}

/// Writes a case of `people` people and about `claims` claims to `path`.
pub fn generate(path: &std::path::Path, people: usize, claims: usize, seed: u64) -> Result<()> {
    let mut rng = Rng(seed.max(1));
    let f = std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut w = std::io::BufWriter::with_capacity(1 << 22, f);
    let employers = (people / 50).max(10);
    let ids: Vec<String> = (0..people)
        .map(|i| {
            let area = AreaCode::parse(COUNTIES[i % 10]).expect("county");
            let birth =
                chrono::NaiveDate::from_ymd_opt(1960, 1, 1).unwrap() + chrono::Days::new((i / 10 / 1000) as u64);
            IdNumber::from_parts(area, birth, ((i / 10) % 1000) as u16).as_str().to_owned()
        })
        .collect();
    let code = |i: usize| format!("91{}MA{:08}X", COUNTIES[i % 10], i);
    let mut s = String::with_capacity(1 << 16);
    write!(w, "{{\"format\":\"jineng-case/1\",\"name\":\"benchmark: {people} people, about {claims} claims\",\"exercises\":[],\"people\":[")?;
    for (i, id) in ids.iter().enumerate() {
        s.clear();
        let county = COUNTIES[i % 10];
        let g = GROUPS[rng.below(8) as usize];
        let g2 = GROUPS[rng.below(8) as usize];
        let insured = if rng.chance(40) { format!("\"{}\"", date(&mut rng, 2012, 8)) } else { "null".into() };
        let business = if rng.chance(5) { format!("\"{}\"", date(&mut rng, 2012, 8)) } else { "null".into() };
        write!(
            s,
            "{}{{\"id_number\":\"{id}\",\"name\":\"人{i}\",\"hukou\":\"{county}\",\"residence\":\"{county}\",\"rural\":{},\"monthly_pension\":{},\"insured_since\":{insured},\"business_started\":{business},\"groups\":[{{\"group\":\"{g}\",\"from\":\"2017-01-01\",\"to\":null}},{{\"group\":\"{g2}\",\"from\":\"{}\",\"to\":null}}]}}",
            if i > 0 { "," } else { "" },
            rng.chance(60),
            rng.chance(2),
            date(&mut rng, 2017, 3)
        )?;
        w.write_all(s.as_bytes())?;
    }
    write!(w, "],\"employers\":[")?;
    for e in 0..employers {
        let kind = ["enterprise", "enterprise", "enterprise", "cooperative", "poverty_workshop"][e % 5];
        write!(
            w,
            "{}{{\"credit_code\":\"{}\",\"name\":\"单位{e}\",\"kind\":\"{kind}\",\"insured\":{},\"county\":\"{}\"}}",
            if e > 0 { "," } else { "" },
            code(e),
            e % 3 != 0,
            COUNTIES[e % 10]
        )?;
    }
    write!(w, "],\"employments\":[")?;
    for (i, id) in ids.iter().enumerate() {
        write!(
            w,
            "{}{{\"person\":\"{id}\",\"employer\":\"{}\",\"from\":\"{}\",\"to\":null}}",
            if i > 0 { "," } else { "" },
            code(i % employers),
            date(&mut rng, 2017, 4)
        )?;
    }
    // Trainings and certificates: about half a claim's worth each.
    let trainings = claims / 2;
    write!(w, "],\"trainings\":[")?;
    let kinds =
        ["employment", "skill_upgrade", "pre_job", "safety", "entrepreneurship", "apprenticeship", "job_transfer"];
    for t in 0..trainings {
        let p = t % people;
        let start = date(&mut rng, 2019, 3);
        write!(
            w,
            "{}{{\"id\":\"t{t}\",\"person\":\"{}\",\"kind\":\"{}\",\"occupation\":\"{}\",\"level\":{},\"county\":\"{}\",\"provider\":\"{}\",\"employer\":\"{}\",\"start\":\"{start}\",\"end\":\"{}\",\"days\":20,\"attended_days\":{},\"in_system\":{},\"project_based\":{}}}",
            if t > 0 { "," } else { "" },
            ids[p],
            kinds[rng.below(7) as usize],
            OCCUPATIONS[rng.below(12) as usize],
            1 + rng.below(5),
            COUNTIES[p % 10],
            code(1_000_000 + t % 500),
            code(p % employers),
            start + chrono::Days::new(20),
            10 + rng.below(11),
            rng.chance(97),
            rng.chance(20)
        )?;
    }
    write!(w, "],\"certificates\":[")?;
    for t in 0..trainings {
        let p = t % people;
        let kind = ["skill_level", "skill_level", "qualification", "special_ability", "training_completion"]
            [rng.below(5) as usize];
        write!(
            w,
            "{}{{\"id\":\"c{t}\",\"person\":\"{}\",\"training\":\"t{t}\",\"kind\":\"{kind}\",\"occupation\":\"{}\",\"level\":{},\"issued\":\"{}\",\"serial\":\"S{t}\"}}",
            if t > 0 { "," } else { "" },
            ids[p],
            OCCUPATIONS[rng.below(12) as usize],
            1 + rng.below(5),
            date(&mut rng, 2019, 3)
        )?;
    }
    write!(w, "],\"granted\":[")?;
    for g in 0..people / 4 {
        let p = rng.below(people as u64) as usize;
        write!(
            w,
            "{}{{\"kind\":\"training_subsidy\",\"person\":\"{}\",\"occupation\":\"{}\",\"level\":{},\"date\":\"{}\",\"amount_fen\":100000}}",
            if g > 0 { "," } else { "" },
            ids[p],
            OCCUPATIONS[rng.below(12) as usize],
            1 + rng.below(5),
            date(&mut rng, 2019, 3)
        )?;
    }
    write!(w, "],\"claims\":[")?;
    // Claims come in filing order, each soon after its training (as a real export would).
    for k in 0..claims {
        let t = (k * trainings / claims + rng.below(2_000) as usize) % trainings;
        let p = t % people;
        let filed = chrono::NaiveDate::from_ymd_opt(2019, 1, 1).unwrap()
            + chrono::Days::new((k as u64 * 1_095) / claims as u64);
        let sep = if k > 0 { "," } else { "" };
        let roll = rng.below(100);
        let body = if roll < 40 {
            format!("\"kind\":\"training_subsidy\",\"person\":\"{}\",\"certificate\":\"c{t}\"", ids[p])
        } else if roll < 55 {
            format!("\"kind\":\"skill_upgrade_subsidy\",\"person\":\"{}\",\"certificate\":\"c{t}\"", ids[p])
        } else if roll < 70 {
            format!("\"kind\":\"living_allowance\",\"person\":\"{}\",\"training\":\"t{t}\"", ids[p])
        } else if roll < 75 {
            format!(
                "\"kind\":\"pre_job\",\"employer\":\"{}\",\"person\":\"{}\",\"training\":\"t{t}\"",
                code(p % employers),
                ids[p]
            )
        } else if roll < 87 {
            format!(
                "\"kind\":\"on_the_job\",\"employer\":\"{}\",\"person\":\"{}\",\"from\":\"{filed}\",\"months\":{}",
                code(p % employers),
                ids[p],
                1 + rng.below(8)
            )
        } else if roll < 90 {
            format!(
                "\"kind\":\"apprenticeship\",\"employer\":\"{}\",\"person\":\"{}\",\"training\":\"t{t}\",\"years\":{}",
                code(p % employers),
                ids[p],
                1 + rng.below(2)
            )
        } else if roll < 92 {
            format!(
                "\"kind\":\"equipment_grant\",\"employer\":\"{}\",\"facility\":\"{}\",\"equipment_value_fen\":{},\"accepted\":{}",
                code(p % employers),
                if rng.chance(50) { "training_base" } else { "master_studio" },
                rng.below(500_000_000),
                rng.chance(90)
            )
        } else {
            let project = rng.below((claims / 40).max(1) as u64);
            let list: Vec<String> =
                (0..10).map(|j| format!("\"t{}\"", (project as usize * 10 + j) % trainings)).collect();
            format!(
                "\"kind\":\"project_training\",\"provider\":\"{}\",\"project\":\"p{project}\",\"trainings\":[{}],\"contract_fen\":{},\"stage\":\"{}\"",
                code(1_000_000 + project as usize % 500),
                list.join(","),
                500_000 + rng.below(1_000_000),
                if rng.chance(50) { "advance" } else { "settlement" }
            )
        };
        write!(w, "{sep}{{\"id\":\"k{k}\",\"filed\":\"{filed}\",{body}}}")?;
    }
    write!(w, "]}}")?;
    w.flush()?;
    Ok(())
}

/// Runs the benchmark and prints the figures.
pub fn run(people: usize, claims: usize, path: &std::path::Path, seed: u64) -> Result<()> {
    let t = Instant::now();
    generate(path, people, claims, seed)?;
    let size = std::fs::metadata(path)?.len();
    println!(
        "case: {people} people, {claims} claims, {:.0} MB, generated in {:.1} s → {}",
        size as f64 / 1e6,
        t.elapsed().as_secs_f64(),
        path.display()
    );

    let params = jineng_policy::Params::shipped();
    let t = Instant::now();
    let text = std::fs::read_to_string(path)?;
    let read = t.elapsed();
    let t = Instant::now();
    let checked = jineng_policy::parse(&text).map_err(|e| anyhow::anyhow!("{e}"))?;
    let parse = t.elapsed();
    drop(text);
    let engine = jineng_policy::Engine::new(&params, "411700");
    // The first run pays for touching fresh memory; the figure is the best of three.
    let mut decide = std::time::Duration::MAX;
    let mut decisions = Vec::new();
    for _ in 0..3 {
        drop(decisions);
        let t = Instant::now();
        decisions = engine.decide(&checked);
        let took = t.elapsed();
        eprintln!("  decide run: {:.3} s", took.as_secs_f64());
        decide = decide.min(took);
    }
    let t = Instant::now();
    let mut sink = std::io::BufWriter::new(std::io::sink());
    serde_json::to_writer(&mut sink, &decisions)?;
    let print = t.elapsed();
    let approved = decisions.iter().filter(|d| d.outcome != jineng_policy::Outcome::Rejected).count();
    println!(
        "in-process: read {:.2} s, parse + check {:.2} s, decide {:.2} s, print {:.2} s",
        read.as_secs_f64(),
        parse.as_secs_f64(),
        decide.as_secs_f64(),
        print.as_secs_f64()
    );
    println!(
        "engine alone (one core): {} decisions in {:.3} s = {:.0} decisions/s ({approved} paid or reduced)",
        decisions.len(),
        decide.as_secs_f64(),
        decisions.len() as f64 / decide.as_secs_f64()
    );
    drop(decisions);
    drop(checked);

    let exe = std::env::current_exe()?;
    let t = Instant::now();
    let out = std::process::Command::new(exe)
        .arg("adjudicate")
        .arg(path)
        .arg("--stats")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .output()?;
    anyhow::ensure!(out.status.success(), "adjudicate failed: {}", String::from_utf8_lossy(&out.stderr));
    println!(
        "end to end (`jineng adjudicate FILE > /dev/null`): {:.2} s wall; {}",
        t.elapsed().as_secs_f64(),
        String::from_utf8_lossy(&out.stderr).trim()
    );
    Ok(())
}

/// Writes a roster workbook of `rows` new people (valid ID numbers, names, priority groups).
pub fn roster_file(path: &std::path::Path, rows: usize) -> Result<()> {
    write_roster(path, &[], rows, &std::collections::HashSet::new())
}

/// Writes a roster workbook for the database at `database`: for an empty one, `rows` new
/// people; for a demo city or province, as a class of returning and new trainees would be: one
/// row in five someone registered there (under their registered name), the rest new people
/// whose ID numbers are not registered.
pub async fn roster_file_for(database: &str, path: &std::path::Path, rows: usize) -> Result<()> {
    let db = jineng_store::Db::connect(database).await?;
    let registered: Vec<(String, String)> = jineng_store::with_pool!(&db, |p| sqlx::query_as(
        "SELECT id_number, name FROM person ORDER BY person_id LIMIT $1"
    )
    .bind((rows / 5) as i64)
    .fetch_all(p)
    .await?);
    if registered.is_empty() {
        return roster_file(path, rows);
    }
    let taken: std::collections::HashSet<String> =
        jineng_store::with_pool!(&db, |p| sqlx::query_scalar::<_, String>("SELECT id_number FROM person")
            .fetch_all(p)
            .await?)
        .into_iter()
        .collect();
    write_roster(path, &registered, rows - registered.len(), &taken)
}

/// The roster: `returning` as they are, then `new` people drawn in order, skipping `taken`.
fn write_roster(
    path: &std::path::Path,
    returning: &[(String, String)],
    new: usize,
    taken: &std::collections::HashSet<String>,
) -> Result<()> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (c, h) in jineng_store::roster::HEADERS.iter().enumerate() {
        ws.write_string(0, c as u16, *h)?;
    }
    for (r, (id, name)) in returning.iter().enumerate() {
        ws.write_string(r as u32 + 1, 0, id)?;
        ws.write_string(r as u32 + 1, 1, name)?;
    }
    let surnames = ["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴"];
    let given = ["伟", "芳", "娜", "敏", "静", "强", "磊", "洋", "艳", "勇"];
    let mut r = returning.len() as u32;
    for i in 0.. {
        if r as usize >= returning.len() + new {
            break;
        }
        let area = AreaCode::parse(COUNTIES[i % 10]).expect("county");
        let birth = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap() + chrono::Days::new((i / 10 / 1000) as u64);
        let id = IdNumber::from_parts(area, birth, ((i / 10) % 1000) as u16);
        if taken.contains(id.as_str()) {
            continue;
        }
        r += 1;
        ws.write_string(r, 0, id.as_str())?;
        ws.write_string(r, 1, format!("{}{}{}", surnames[i % 10], given[(i / 10) % 10], given[(i / 100) % 10]))?;
        if i % 3 == 0 {
            ws.write_string(r, 2, GROUPS[i % 8])?;
            ws.write_string(r, 3, "2020-01-01")?;
        }
    }
    wb.save(path)?;
    Ok(())
}

/// Imports a roster file into a new class of a new provider (in an empty database or a demo
/// city or province) and prints time and peak memory.
pub async fn roster_import(path: &std::path::Path, database: &str) -> Result<()> {
    use jineng_store::{orgs, plan, roster, training, Db};
    let db = Db::connect(database).await?;
    let p = jineng_domain::Plan::from_toml(jineng_store::DEFAULT_PLAN).map_err(|e| anyhow::anyhow!("{e}"))?;
    plan::load_plan(&db, &p, jineng_store::DEFAULT_PLAN).await?;
    let provider = orgs::create(
        &db,
        None,
        orgs::OrgKind::Provider,
        &orgs::OrgInput {
            credit_code: jineng_domain::CreditCode::generate(
                AreaCode::parse("411722")?,
                4_242_424 + std::process::id() as u64,
            )
            .to_string(),
            legacy: false,
            name: format!("基准测试培训学校{}", std::process::id()),
            county_code: "411722".into(),
            kind: None,
            insured: false,
            status: None,
        },
    )
    .await?;
    let body = jineng_domain::CreditCode::generate(AreaCode::parse("411722")?, 5_353_535 + std::process::id() as u64);
    orgs::create(
        &db,
        None,
        orgs::OrgKind::AssessmentBody,
        &orgs::OrgInput {
            credit_code: body.to_string(),
            legacy: false,
            name: format!("基准测试评价机构{}", std::process::id()),
            county_code: "411722".into(),
            kind: None,
            insured: false,
            status: None,
        },
    )
    .await?;
    let class = training::apply_class(
        &db,
        None,
        &training::Application {
            class: training::NewClass {
                name: "花名册导入基准".into(),
                program_code: "P2a".into(),
                occupation_code: "4-10-01-06".into(),
                level: None,
                kind: jineng_domain::TrainingKind::Employment,
                county_code: "411722".into(),
                provider_id: provider,
                start_date: "2031-03-01".parse()?,
                end_date: "2031-03-31".parse()?,
                subsidised: false,
            },
            subsidy_project_id: None,
            venue: "基准".into(),
            timetable: "基准".into(),
            teachers: "基准".into(),
            capacity: 10_000_000,
            assessment_plan: "基准".into(),
            roster: vec![],
            employer_credit_code: None,
            assessment_body_credit_code: Some(body.to_string()),
            project_based: false,
            training_days: None,
            project_code: None,
            contract_fen: None,
        },
    )
    .await?;
    let before = crate::peak_memory_kb().unwrap_or(0);
    let t = Instant::now();
    let bytes = std::fs::read(path)?;
    let (rows, errors) = roster::parse(&bytes).map_err(|e| anyhow::anyhow!("{e}"))?;
    let parsed = t.elapsed();
    let n = rows.len();
    let outcome = roster::import(&db, None, class, Some(provider), rows, errors).await?;
    let total = t.elapsed();
    let done =
        outcome.map_err(|r| anyhow::anyhow!("refused: {} errors, first {:?}", r.errors.len(), r.errors.first()))?;
    println!(
        "{} ({}): {n} rows — parse {:.2} s, check + insert {:.2} s, total {:.2} s; {} registered, {} enrolled; peak memory {:.0} MB (before import {:.0} MB)",
        path.display(),
        db.backend(),
        parsed.as_secs_f64(),
        (total - parsed).as_secs_f64(),
        total.as_secs_f64(),
        done.registered,
        done.enrolled,
        crate::peak_memory_kb().unwrap_or(0) as f64 / 1024.0,
        before as f64 / 1024.0
    );
    Ok(())
}

/// Issues `n` certificates to `n` new people (in an empty database or a demo city or province),
/// then prepares, decides and stores the claims
/// they bring in one batch, and prints time, claims per second and peak memory.
pub async fn claims(n: usize, database: &str) -> Result<()> {
    use jineng_store::{plan, Db};
    let db = Db::connect(database).await?;
    let p = jineng_domain::Plan::from_toml(jineng_store::DEFAULT_PLAN).map_err(|e| anyhow::anyhow!("{e}"))?;
    plan::load_plan(&db, &p, jineng_store::DEFAULT_PLAN).await?;
    let t = Instant::now();
    let certs = jineng_store::demo::bench_certificates(&db, n, 2019).await?;
    println!("issued {} certificates in {:.1} s ({})", certs.len(), t.elapsed().as_secs_f64(), db.backend());
    let before = crate::peak_memory_kb().unwrap_or(0);
    let t = Instant::now();
    let filed = jineng_store::claims::prepare::for_certificates(&db, None, &certs).await?;
    let took = t.elapsed().as_secs_f64();
    let by_kind = jineng_store::claims::count_by_kind(&db).await?;
    println!(
        "certificate → decided claim ({}): {} certificates, {filed} claims stored in {took:.2} s = {:.0} certificates/s; {by_kind:?}; peak memory {:.0} MB (before {:.0} MB)",
        db.backend(),
        certs.len(),
        certs.len() as f64 / took,
        crate::peak_memory_kb().unwrap_or(0) as f64 / 1024.0,
        before as f64 / 1024.0
    );
    Ok(())
}

/// Registers `rows` people in a fresh database and writes a social-insurance register of them
/// (and one person in ten not registered) as `.xlsx`.
pub async fn register_file(database: &str, path: &std::path::Path, rows: usize) -> Result<()> {
    use jineng_store::{plan, Db};
    let db = Db::connect(database).await?;
    let p = jineng_domain::Plan::from_toml(jineng_store::DEFAULT_PLAN).map_err(|e| anyhow::anyhow!("{e}"))?;
    plan::load_plan(&db, &p, jineng_store::DEFAULT_PLAN).await?;
    let t = Instant::now();
    let people = jineng_store::demo::bench_people(&db, rows - rows / 10, 2019).await?;
    println!("registered {} people in {:.1} s ({})", people.len(), t.elapsed().as_secs_f64(), db.backend());
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (c, h) in jineng_store::registers::Register::SocialInsurance.headers().iter().enumerate() {
        ws.write_string(0, c as u16, *h)?;
    }
    let mut rng = Rng(7);
    for i in 0..rows {
        let r = i as u32 + 1;
        let (id, name) = match people.get(i) {
            Some((id, name)) => (id.clone(), name.clone()),
            None => {
                let area = AreaCode::parse("411723").expect("county");
                let birth = chrono::NaiveDate::from_ymd_opt(1975, 1, 1).unwrap() + chrono::Days::new((i / 1000) as u64);
                (IdNumber::from_parts(area, birth, (i % 1000) as u16).as_str().to_owned(), "未登记".to_owned())
            }
        };
        ws.write_string(r, 0, id)?;
        ws.write_string(r, 1, name)?;
        if rng.chance(70) {
            ws.write_string(r, 2, date(&mut rng, 2010, 10).to_string())?;
        }
        ws.write_string(r, 3, if rng.chance(3) { "是" } else { "否" })?;
    }
    wb.save(path)?;
    println!("wrote {} ({} rows)", path.display(), rows);
    Ok(())
}

/// Parses and imports a social-insurance register and prints time and peak memory.
pub async fn register_import(path: &std::path::Path, database: &str) -> Result<()> {
    use jineng_store::registers::{self, Register};
    let db = jineng_store::Db::connect(database).await?;
    let bytes = std::fs::read(path)?;
    let t = Instant::now();
    let (rows, errors) = registers::parse(Register::SocialInsurance, &bytes).map_err(|e| anyhow::anyhow!("{e}"))?;
    let parsed = t.elapsed().as_secs_f64();
    let n = rows.len();
    let done = registers::import(&db, None, Register::SocialInsurance, "bench.xlsx", rows, errors)
        .await?
        .map_err(|e| anyhow::anyhow!("refused: {:?}", e.first()))?;
    println!(
        "social-insurance register ({}): {n} rows parsed in {parsed:.2} s, imported in {:.2} s in all ({} recorded, {} not registered); peak memory {:.0} MB",
        db.backend(),
        t.elapsed().as_secs_f64(),
        done.recorded,
        done.not_registered,
        crate::peak_memory_kb().unwrap_or(0) as f64 / 1024.0
    );
    Ok(())
}

/// `jineng bench reports`: on an existing database (a demo city or province), the size of what
/// is reported on, and the time to build a quarter's and a month's report for the city and for
/// one county, the month's `.xlsx`, T2/T3, and closing the month (freezing the city's and every
/// county's report). Each timing is the median of five runs.
pub async fn reports(database: &str, quarter: &str, month: &str) -> Result<()> {
    use jineng_store::{reports, Db};
    let db = Db::connect(database).await?;
    let sizes = reports::sizes(&db).await?;
    println!("{}: {}", db.backend(), sizes.iter().map(|(t, n)| format!("{n} {t}")).collect::<Vec<_>>().join(", "));
    let county = jineng_store::plan::counties(&db).await?.first().map(|c| c.county_code.clone()).unwrap_or_default();
    let now = jineng_store::now();
    async fn median<F, Fut>(mut f: F) -> Result<f64>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<()>>,
    {
        let mut times = Vec::new();
        for _ in 0..5 {
            let t = Instant::now();
            f().await?;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(f64::total_cmp);
        Ok(times[2])
    }
    let mut rows: Vec<(String, f64)> = Vec::new();
    for (what, period, c) in [
        ("quarterly report, city", quarter, None),
        ("quarterly report, one county", quarter, Some(county.as_str())),
        ("monthly report, city", month, None),
    ] {
        let ms =
            median(|| async { reports::report(&db, period, c, now).await.map(|_| ()).map_err(Into::into) }).await?;
        rows.push((format!("{what} ({period})"), ms));
    }
    let ms = median(|| async {
        let r = reports::report(&db, month, None, now).await?;
        reports::to_xlsx(&r).map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(())
    })
    .await?;
    rows.push((format!("monthly report as .xlsx, city ({month})"), ms));
    let year: i32 = quarter.get(..4).and_then(|y| y.parse().ok()).unwrap_or(2020);
    // T2 and T3 are measured for the plan's years only.
    if jineng_store::labour::ratios(&db, year).await.is_ok() {
        let ms =
            median(|| async { jineng_store::labour::ratios(&db, year).await.map(|_| ()).map_err(Into::into) }).await?;
        rows.push((format!("T2 and T3 ({year})"), ms));
    }
    let admin = jineng_store::users::first_city_admin(&db).await?;
    if let Some(admin) = admin {
        let t = Instant::now();
        let closed = match reports::close(&db, admin, month, now).await {
            Ok(_) => {
                rows.push((
                    format!("closing {month} (city and every county frozen)"),
                    t.elapsed().as_secs_f64() * 1000.0,
                ));
                true
            }
            Err(jineng_store::StoreError::Conflict(_)) => true,
            Err(e) => {
                println!("closing {month}: {e}");
                false
            }
        };
        if closed {
            let ms = median(|| async { reports::report(&db, month, None, now).await.map(|_| ()).map_err(Into::into) })
                .await?;
            rows.push((format!("closed month's report, from its snapshot ({month})"), ms));
        }
    }
    println!("{:<60} {:>10}", "what", "ms");
    for (what, ms) in rows {
        println!("{what:<60} {ms:>10.1}");
    }
    Ok(())
}

/// A request over a fresh connection; the status, or None when it failed.
fn http(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    ct: &str,
    body: &[u8],
) -> Option<u16> {
    http_from(addr, method, path, token, ct, body, "")
}

/// [`http`] with extra header lines (each ending in `\r\n`).
fn http_from(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    ct: &str,
    body: &[u8],
    extra: &str,
) -> Option<u16> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_secs(5)).ok()?;
    s.set_read_timeout(Some(std::time::Duration::from_secs(300))).ok()?;
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{auth}{extra}Content-Type: {ct}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).ok()?;
    s.write_all(body).ok()?;
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).split(' ').nth(1)?.parse().ok()
}

/// A process's peak resident memory (VmHWM), MB.
fn peak_mb(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(str::to_owned))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|k| k.parse::<f64>().ok()))
        .map_or(0.0, |kb| kb / 1024.0)
}

/// The server under abuse (issue 10's figures), on a small demo city served by a child process:
/// `/healthz` latency while `rate` bogus sign-ins a second arrive for `seconds`, and the
/// server's peak memory while it receives the largest upload it allows (a roster as large as
/// the body limit lets through, parsed and refused or imported).
pub async fn abuse(seconds: u64, rate: u64) -> Result<()> {
    use std::time::{Duration, Instant};
    let exe = std::env::current_exe()?;
    let dir = std::env::temp_dir().join(format!("jineng-abuse-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let url = format!("sqlite:{}", dir.join("jineng.db").display());
    let run = |args: &[&str]| -> Result<()> {
        let out = std::process::Command::new(&exe)
            .args(args)
            .env("JINENG_NEW_PASSWORD", "abuse bench staple horse")
            .output()?;
        anyhow::ensure!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        Ok(())
    };
    run(&["demo", "--scale", "small", "--database", &url, "--no-serve"])?;
    let (provider, class): (i64, i64) = {
        let db = jineng_store::Db::connect(&url).await?;
        jineng_store::with_pool!(&db, |p| sqlx::query_as(
            "SELECT provider_id, MIN(class_id) FROM training_class GROUP BY provider_id ORDER BY provider_id LIMIT 1"
        )
        .fetch_one(p)
        .await?)
    };
    run(&["user", "--database", &url, "abuse-provider", "provider", "--scope", &provider.to_string()])?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse()?;
    let mut child = std::process::Command::new(&exe)
        .args(["serve", "--database", &url, "--listen", &addr.to_string(), "--checks-every-hours", "0"])
        // The flood comes from many addresses (as through a proxy the server trusts), so the
        // per-address limit does not stop it before the passwords are checked.
        .args(["--trusted-proxies", "127.0.0.1"])
        .env("JINENG_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .spawn()?;
    let until = Instant::now() + Duration::from_secs(60);
    while http(addr, "GET", "/healthz", None, "", b"") != Some(200) {
        anyhow::ensure!(Instant::now() < until, "the server did not come up");
        std::thread::sleep(Duration::from_millis(100));
    }
    let idle_mb = peak_mb(child.id());
    // The provider signs in before the flood (which throttles this address).
    let token = crate::bench_pages::token(addr, "abuse-provider", "abuse bench staple horse")?;

    // 1. /healthz while bogus sign-ins arrive.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sent = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let throttled = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut attackers = Vec::new();
    let threads = 8u64;
    for t in 0..threads {
        let (stop, sent, throttled) = (stop.clone(), sent.clone(), throttled.clone());
        attackers.push(std::thread::spawn(move || {
            let every = Duration::from_secs_f64(threads as f64 / rate.max(1) as f64);
            let mut next = Instant::now();
            let mut i = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                // Half against a real account, half against names that do not exist.
                let user = if i.is_multiple_of(2) { "admin".to_owned() } else { format!("nobody-{t}-{i}") };
                let body = format!(r#"{{"username": "{user}", "password": "wrong password {i}"}}"#);
                let from = format!("X-Forwarded-For: 10.{}.{}.{}\r\n", t, (i / 250) % 250, i % 250);
                let status =
                    http_from(addr, "POST", "/api/v1/tokens", None, "application/json", body.as_bytes(), &from);
                if status == Some(429) {
                    throttled.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                sent.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                i += 1;
                next += every;
                if let Some(wait) = next.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
            }
        }));
    }
    let mut lat = Vec::new();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(seconds) {
        let t = Instant::now();
        let ok = http(addr, "GET", "/healthz", None, "", b"") == Some(200);
        lat.push((t.elapsed().as_secs_f64() * 1000.0, ok));
        std::thread::sleep(Duration::from_millis(20));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for a in attackers {
        let _ = a.join();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let mut ms: Vec<f64> = lat.iter().map(|l| l.0).collect();
    ms.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: f64| ms[((ms.len() as f64 - 1.0) * p).round() as usize];
    let sent = sent.load(std::sync::atomic::Ordering::Relaxed);
    println!(
        "bogus sign-ins, each from its own address (X-Forwarded-For through a trusted proxy, so the per-address \
         limit does not stop them before the password is checked): {sent} in {elapsed:.1} s ({:.0}/s), {} answered 429",
        sent as f64 / elapsed,
        throttled.load(std::sync::atomic::Ordering::Relaxed)
    );
    println!(
        "/healthz meanwhile: {} requests, {} failed, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms (budget p99 ≤ 50 ms)",
        ms.len(),
        lat.iter().filter(|l| !l.1).count(),
        pct(0.5),
        pct(0.99),
        ms.last().copied().unwrap_or(0.0)
    );

    // 2. The largest upload: a roster as large as the body limit lets through.
    let limit = jineng_web::auth::BODY_UPLOAD;
    let file = dir.join("largest.xlsx");
    let mut rows = 200_000usize;
    loop {
        roster_file(&file, rows)?;
        if std::fs::metadata(&file)?.len() as usize <= limit || rows < 1000 {
            break;
        }
        rows = rows * 3 / 4;
    }
    let bytes = std::fs::read(&file)?;
    let before_mb = peak_mb(child.id());
    let t = Instant::now();
    let status = http(
        addr,
        "POST",
        &format!("/api/v1/classes/{class}/roster"),
        Some(&token),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        &bytes,
    );
    let took = t.elapsed().as_secs_f64();
    let after_mb = peak_mb(child.id());
    println!(
        "largest upload: a roster of {rows} rows, {:.1} MB (body limit {:.0} MB): answered {status:?} in {took:.1} s",
        bytes.len() as f64 / 1_048_576.0,
        limit as f64 / 1_048_576.0
    );
    // And a body of the full allowed size that is no workbook: received, bounded, refused.
    let mut junk = vec![0u8; limit - 1024];
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    for b in junk.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    let t = Instant::now();
    let junk_status = http(
        addr,
        "POST",
        &format!("/api/v1/classes/{class}/roster"),
        Some(&token),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        &junk,
    );
    println!(
        "a {:.0} MB body that is no workbook: answered {junk_status:?} in {:.1} s",
        junk.len() as f64 / 1_048_576.0,
        t.elapsed().as_secs_f64()
    );
    let final_mb = peak_mb(child.id());
    println!(
        "server peak memory: {idle_mb:.0} MB idle, {before_mb:.0} MB after the sign-in flood, {after_mb:.0} MB after the largest roster, \
         {final_mb:.0} MB after the largest body (budget ≤ 200 MB)"
    );
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// `bench checks`: builds the demo city of `scale` with its claims and planted anomalies, then
/// runs each check (timed) and every check at once (`run_all`), and prints per check what it
/// found, what was planted, how many of the planted it found, and what else it found. On a
/// database that already holds a demo (a city, or the province, which plants none) nothing is
/// built or planted: the checks are timed on what is there.
pub async fn checks(db: &jineng_store::Db, scale: jineng_store::demo::Scale, seed: u64) -> Result<()> {
    use jineng_store::checks::{self, Check};
    use jineng_store::demo;
    let existing = jineng_store::people::count(db, &Default::default()).await?.unwrap_or(0);
    let planted = if existing > 0 {
        let claims: i64 =
            jineng_store::with_pool!(db, |p| sqlx::query_scalar("SELECT COUNT(*) FROM claim").fetch_one(p).await?);
        println!("已有数据 existing database ({}): {existing} people, {claims} claims; nothing planted", db.backend());
        demo::anomalies::Planted::default()
    } else {
        let t = Instant::now();
        let summary = demo::generate(db, scale, seed, &|_, _| {}).await?;
        let claims = demo::walk_claims(db, &summary, chrono::Utc::now().date_naive()).await?;
        println!(
            "演示数据 demo ({}): {} people, {} classes, {} person-times in {:.1} s; {claims}",
            db.backend(),
            summary.people,
            summary.classes,
            summary.completions,
            t.elapsed().as_secs_f64()
        );
        let t = Instant::now();
        let planted = demo::anomalies::plant(db, scale, seed).await?;
        println!(
            "植入 planted: {} check-ins, {} anomalies in {:.1} s",
            planted.attendance,
            planted.anomalies.len(),
            t.elapsed().as_secs_f64()
        );
        planted
    };
    println!("{:<26} {:>9} {:>7} {:>8} {:>14} {:>7}", "check", "time ms", "found", "planted", "planted found", "clean");
    let (mut total_ms, mut all_planted, mut all_hit, mut all_clean) = (0.0, 0, 0, 0);
    for check in Check::ALL {
        let t = Instant::now();
        let found = checks::run(db, check).await?;
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        total_ms += ms;
        let want = planted.subjects(check.code());
        let got: std::collections::HashSet<&str> = found.iter().map(|f| f.subject.as_str()).collect();
        let hit = want.iter().filter(|s| got.contains(*s)).count();
        let clean = got.iter().filter(|s| !want.contains(*s)).count();
        (all_planted, all_hit, all_clean) = (all_planted + want.len(), all_hit + hit, all_clean + clean);
        println!(
            "{:<26} {:>9.1} {:>7} {:>8} {:>8} ({:>3}%) {:>7}",
            check.code(),
            ms,
            found.len(),
            want.len(),
            hit,
            hit * 100 / want.len().max(1),
            clean
        );
        let missed: Vec<&&str> = want.iter().filter(|s| !got.contains(**s)).take(5).collect();
        if !missed.is_empty() {
            println!("    missed, e.g. {missed:?}");
        }
    }
    println!(
        "{:<26} {:>9.1} {:>7} {:>8} {:>8} ({:>3}%) {:>7}",
        "every check, one by one",
        total_ms,
        "",
        all_planted,
        all_hit,
        all_hit * 100 / all_planted.max(1),
        all_clean
    );
    let t = Instant::now();
    let run = checks::run_all(db, None).await?;
    println!(
        "run_all (checks and recording findings): {:.1} ms, {} found, {} recorded",
        t.elapsed().as_secs_f64() * 1000.0,
        run.found,
        run.recorded
    );
    // The incremental checks of one new claim (what filing a claim adds), over 200 claims of
    // people, spread over the table.
    let ids: Vec<i64> = jineng_store::with_pool!(db, |p| sqlx::query_scalar(
        "SELECT claim_id FROM claim WHERE person_id IS NOT NULL ORDER BY claim_id"
    )
    .fetch_all(p)
    .await?);
    let step = (ids.len() / 200).max(1);
    let mut ms = Vec::new();
    let mut per_check = vec![0.0f64; checks::PERSONAL.len()];
    for id in ids.iter().step_by(step).take(200) {
        let t = Instant::now();
        checks::for_claim(db, *id).await?;
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
        // Where the time goes: each personal check alone, for the same person.
        let person: Option<i64> =
            jineng_store::with_pool!(db, |p| sqlx::query_scalar("SELECT person_id FROM claim WHERE claim_id = $1")
                .bind(*id)
                .fetch_one(p)
                .await?);
        if let Some(person) = person {
            for (i, check) in checks::PERSONAL.iter().enumerate() {
                let t = Instant::now();
                checks::run_only(db, *check, checks::Only::Person(person)).await?;
                per_check[i] += t.elapsed().as_secs_f64() * 1000.0;
            }
        }
    }
    let n = ms.len().max(1) as f64;
    let mean: Vec<String> =
        checks::PERSONAL.iter().zip(&per_check).map(|(c, t)| format!("{} {:.1}", c.code(), t / n)).collect();
    println!("incremental checks, mean ms per claim: {}", mean.join(", "));
    ms.sort_by(|a, b| a.total_cmp(b));
    if !ms.is_empty() {
        let pct = |p: f64| ms[((ms.len() as f64 - 1.0) * p).round() as usize];
        println!(
            "incremental checks of one new claim ({} claims): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms (budget ≤ 20 ms)",
            ms.len(),
            pct(0.5),
            pct(0.99),
            ms.last().copied().unwrap_or(0.0)
        );
    }
    Ok(())
}
