//! A deterministic synthetic city for demos, tests and benchmarks: people spread over the
//! plan's counties by population, providers, assessment bodies, employers, and classes across
//! every program and month of the plan period, with completions near the plan's scale.
//!
//! Everything is derived from the plan loaded in the database and a seed; nothing here is
//! specific to one city except optional occupation hints keyed by program code.

use crate::users;
use crate::{plan, Db, Result};
use chrono::{Datelike, Days, NaiveDate};
use jineng_domain::Role;
use jineng_domain::{AreaCode, CreditCode, IdNumber, TrainingKind};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use std::collections::{HashMap, HashSet};

/// How big a demo city to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// About 3,000 person-times: for tests.
    Small,
    /// About the plan's T1 (≈ 250,000 person-times).
    City,
    /// A province: about ten million person-times (≈ 6 million people) over three years, with
    /// check-ins (each trainee's first five days of class, one class a day) and certificates and
    /// claims over the whole period, not only its last quarter.
    Province,
}

impl Scale {
    /// Whether the demo itself writes check-ins and certifies over the whole plan period (the
    /// smaller scales keep both small, for tests and for the quick start; `demo --anomalies`
    /// writes their check-ins).
    pub fn in_proportion(self) -> bool {
        self == Scale::Province
    }
}

impl std::str::FromStr for Scale {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "small" => Ok(Scale::Small),
            "city" => Ok(Scale::City),
            "province" => Ok(Scale::Province),
            other => Err(format!("unknown scale '{other}' (small, city, province)")),
        }
    }
}

/// One demo login per role.
#[derive(Debug, Clone)]
pub struct DemoLogin {
    pub role: Role,
    pub username: String,
    /// Password (random, printed once on the terminal).
    pub password: String,
    /// What the scope is, in words.
    pub scope_label: String,
}

/// What was generated.
#[derive(Debug, Clone, Default)]
pub struct DemoSummary {
    /// People registered.
    pub people: usize,
    pub classes: usize,
    pub enrolments: usize,
    /// Completions (person-times).
    pub completions: usize,
    pub logins: Vec<DemoLogin>,
    /// Certificates issued (in the last quarter of the plan; over the whole period at province
    /// scale): (person, certificate), for the claims the system prepares from them.
    pub certificates: Vec<(i64, i64)>,
    /// Check-ins written (none below province scale, where `demo --anomalies` writes them).
    pub check_ins: usize,
    /// How many times a city's money the funds hold and the earmarks name: 1, or at province
    /// scale its person-times over the city's (whole yuan stay whole: an integer factor).
    pub money_factor: i64,
    /// The whole review queue of the county with the most claims is walked to payment (at
    /// province scale); otherwise everything is, in the two counties walked.
    pub pay_whole_county: bool,
}

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高", "林", "何", "郭", "马",
    "罗", "梁", "宋", "郑", "谢", "韩", "唐", "冯", "于", "董", "萧", "程", "曹", "袁", "邓", "许", "傅", "沈", "曾",
    "彭", "吕", "苏", "卢", "蒋", "蔡", "贾", "丁", "魏", "薛", "叶", "阎", "余", "潘", "杜", "戴", "夏", "钟", "汪",
    "田", "任", "姜", "范", "方", "石", "姚", "谭", "廖", "邹", "熊", "金", "陆", "郝", "孔", "白", "崔", "康", "毛",
    "邱", "秦", "江", "史",
];
const MALE: &[&str] = &[
    "伟", "强", "磊", "军", "洋", "勇", "杰", "涛", "明", "超", "刚", "平", "辉", "鹏", "华", "飞", "鑫", "波", "斌",
    "宇", "浩", "凯", "健", "俊", "帅", "建国", "建军", "国强", "志强", "海涛", "永刚", "红军", "振华", "子豪", "浩然",
    "宇航", "家豪", "文博", "明辉", "天佑",
];
const FEMALE: &[&str] = &[
    "芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "秀英", "桂英", "玉兰", "丹", "萍", "红", "玲", "燕", "倩", "婷",
    "雪", "慧", "欣怡", "梓涵", "雨婷", "佳琪", "晓燕", "春梅", "海燕", "丽娟", "秀兰", "美玲",
];
const BRANDS: &[&str] = &[
    "天中",
    "嵖岈山",
    "汝河",
    "伏羲",
    "华夏",
    "鑫源",
    "宏达",
    "金桥",
    "博远",
    "启航",
    "众诚",
    "恒信",
    "中原",
    "惠民",
    "瑞丰",
    "德众",
];
const PROVIDER_TYPES: &[&str] = &["职业培训学校", "职业技能培训中心", "技工学校", "职业培训学院"];
const INDUSTRIES: &[&str] =
    &["食品", "机械制造", "建筑工程", "物流", "电子商务", "家政服务", "农业科技", "服装", "新材料", "汽车配件"];

/// Occupation-name hints per program (falls back to the whole catalog).
fn hints(program: &str) -> &'static [&'static str] {
    match program {
        "P1" => &["机", "电", "装配", "数控", "焊", "车工", "钳工"],
        "P4a" => &["养老", "家政", "护理", "育婴", "保育"],
        "P4b" => &["电子商务", "快递", "网", "营销", "物流"],
        "P5" => &["砌筑", "钢筋", "混凝土", "架子", "装饰", "建筑", "防水", "管工"],
        "P6" => &["电工", "焊", "起重", "安全"],
        "P7" => &["农", "种", "养殖", "园艺", "果", "菌", "畜", "植保"],
        "P9" => &["食品", "中式", "烹调", "面点", "餐", "物流"],
        "P10" => &["导游", "茶", "工艺", "美"],
        "P11" => &["电工", "绿化", "园林", "驾驶", "环境", "保洁"],
        _ => &[],
    }
}

fn weighted<'a, T>(rng: &mut StdRng, items: &'a [(T, f64)]) -> &'a T {
    let total: f64 = items.iter().map(|(_, w)| *w).sum();
    let mut x = rng.gen_range(0.0..total);
    for (t, w) in items {
        if x < *w {
            return t;
        }
        x -= w;
    }
    &items[items.len() - 1].0
}

struct Person {
    id: i64,
    id_number: String,
    name: String,
    sex: &'static str,
    birth: NaiveDate,
    county: String,
    phone: String,
    rural: bool,
}

struct Class {
    id: i64,
    name: String,
    program: String,
    occupation: String,
    level: Option<i64>,
    kind: TrainingKind,
    county: String,
    provider: i64,
    start: NaiveDate,
    end: NaiveDate,
    subsidised: bool,
}

struct Completion {
    id: i64,
    enrolment: i64,
    class: i64,
    person: i64,
    program: String,
    county: String,
    on: NaiveDate,
    subsidised: bool,
    skill_upgrade: bool,
}

struct Org {
    id: i64,
    code: String,
    name: String,
    county: String,
    kind: &'static str,
    insured: bool,
}

/// Inserts rows in batches inside one transaction, on either backend.
/// Where the demo's group memberships come from: the register that keeps each group, and one
/// person in twenty declared on a provider's roster (their claims wait for the county's check).
fn group_source(code: &str, person_id: i64) -> &'static str {
    if person_id % 20 == 0 {
        return "declared";
    }
    match code {
        "poor_worker" | "poor_family_child" => "poverty_roster",
        "employee" | "laid_off" | "job_transfer" => "social_insurance",
        _ => "civil_affairs",
    }
}

/// Inserts rows in batches inside one transaction: multi-row INSERTs on SQLite, `COPY` on
/// PostgreSQL (see [`load`]). The closure pushes one row's values with `push_bind`.
macro_rules! bulk {
    ($db:expr, $head:expr, $rows:expr, $per:expr, |$b:ident, $r:ident| $push:block) => {{
        let rows = $rows;
        let started = std::time::Instant::now();
        match $db {
            $crate::Db::Sqlite(pool) => {
                let chunk = (30_000 / $per).max(1);
                let mut tx = pool.begin().await?;
                for part in rows.chunks(chunk) {
                    let mut qb = sqlx::QueryBuilder::new($head);
                    qb.push_values(part, |mut $b, $r| $push);
                    qb.build().execute(&mut *tx).await?;
                }
                tx.commit().await?;
            }
            $crate::Db::Postgres(pool) => {
                let (table, columns) = $crate::demo::load::table_and_columns($head);
                let mut tx = pool.begin().await?;
                let dropped = $crate::demo::load::unindex(&mut tx, table).await?;
                let mut copy = tx.copy_in_raw(&format!("COPY {table} {columns} FROM STDIN")).await?;
                let mut buf = String::with_capacity(1 << 20);
                for $r in rows.iter() {
                    {
                        let mut $b = $crate::demo::load::CopyRow::new(&mut buf);
                        $push;
                    }
                    buf.push('\n');
                    if buf.len() >= 1 << 20 {
                        copy.send(std::mem::take(&mut buf).into_bytes()).await?;
                    }
                }
                if !buf.is_empty() {
                    copy.send(buf.into_bytes()).await?;
                }
                copy.finish().await?;
                $crate::demo::load::reindex(&mut tx, dropped).await?;
                tx.commit().await?;
            }
        }
        tracing::info!(
            rows = rows.len(),
            secs = started.elapsed().as_secs_f64(),
            "demo: {}",
            $head.split(' ').nth(2).unwrap_or("")
        );
    }};
}

/// Generates the demo city into a database that has the plan loaded and no other data.
/// `progress` is called with (done, total) classes as they are generated.
pub async fn generate(db: &Db, scale: Scale, seed: u64, progress: &(dyn Fn(u64, u64) + Sync)) -> Result<DemoSummary> {
    let mut rng = StdRng::seed_from_u64(seed);
    let the_plan = plan::current_plan(db).await?;
    let occupations = plan::occupations(db).await?;
    let programs = plan::programs(db).await?;
    let t1 = the_plan.targets.iter().find(|t| t.subsidised.is_some());
    let (total_goal, subsidised_goal) = t1.map_or((250_000, 150_000), |t| (t.value, t.subsidised.unwrap_or(t.value)));
    let factor = match scale {
        Scale::Small => 3_000.0 / total_goal as f64,
        Scale::City => 1.0,
        // A province the size of Henan's plan: about ten million person-times over three years.
        Scale::Province => 10_000_000.0 / total_goal as f64,
    };
    // How often a class's trainee is someone already trained in the county: a province's
    // people train more often (≈ 6 million people for ≈ 10 million person-times).
    let returning = if scale == Scale::Province { 0.42 } else { 0.22 };
    let subsidised_share = subsidised_goal as f64 / total_goal as f64;
    let counties: Vec<(String, f64)> =
        the_plan.counties.iter().map(|c| (c.code.to_string(), c.population as f64)).collect();

    // Organisations.
    let mut serial = 1_000_000u64;
    let mut orgs =
        |per_county: usize, rng: &mut StdRng, f: &dyn Fn(&mut StdRng, &str) -> (String, &'static str, bool)| {
            let mut out = Vec::new();
            let mut names = HashSet::new();
            for c in &the_plan.counties {
                for _ in 0..per_county {
                    let (name, kind, insured) = f(rng, &c.name_zh);
                    if !names.insert(name.clone()) {
                        continue;
                    }
                    serial += 7919;
                    out.push(Org {
                        id: out.len() as i64 + 1,
                        code: CreditCode::generate(c.code, serial).to_string(),
                        name,
                        county: c.code.to_string(),
                        kind,
                        insured,
                    });
                }
            }
            out
        };
    let per = |n: f64| ((n * factor.max(0.05)).round() as usize).clamp(2, 400);
    let providers = orgs(per(12.0), &mut rng, &|rng, county| {
        (format!("{county}{}{}", BRANDS.choose(rng).unwrap(), PROVIDER_TYPES.choose(rng).unwrap()), "", false)
    });
    let bodies = orgs(2, &mut rng, &|rng, county| {
        (format!("{county}{}职业技能评价中心", BRANDS.choose(rng).unwrap()), "", false)
    });
    let employers = orgs(per(40.0), &mut rng, &|rng, county| {
        let kind =
            *weighted(rng, &[("enterprise", 80.0), ("cooperative", 10.0), ("poverty_workshop", 8.0), ("other", 2.0)]);
        let name = match kind {
            "cooperative" => format!("{county}{}种植专业合作社", BRANDS.choose(rng).unwrap()),
            "poverty_workshop" => format!("{county}{}扶贫车间", BRANDS.choose(rng).unwrap()),
            _ => format!("{county}{}{}有限公司", BRANDS.choose(rng).unwrap(), INDUSTRIES.choose(rng).unwrap()),
        };
        (name, kind, kind == "enterprise" && rng.gen_bool(0.85))
    });
    let providers_by_county: HashMap<&str, Vec<i64>> = providers.iter().fold(HashMap::new(), |mut m, p| {
        m.entry(p.county.as_str()).or_default().push(p.id);
        m
    });

    // Volume per leaf program: its target where the plan sets one, the rest of T1 spread over
    // programs whose target is pending, each reaching 85–115 %.
    let leaves: Vec<&plan::ProgramRow> = programs
        .iter()
        .filter(|p| p.unit != "none" && !programs.iter().any(|c| c.parent_code.as_deref() == Some(&p.program_code)))
        .collect();
    let set: i64 = leaves.iter().filter_map(|p| p.target).sum();
    let pending: Vec<_> = leaves.iter().filter(|p| p.target.is_none()).collect();
    let weights: Vec<f64> = pending.iter().map(|_| rng.gen_range(0.3..1.7)).collect();
    let wsum: f64 = weights.iter().sum();
    let rest = (total_goal - set).max(0) as f64;
    let mut volumes: Vec<(&plan::ProgramRow, i64)> = Vec::new();
    for p in &leaves {
        let base = match p.target {
            Some(t) => t as f64,
            None => {
                let i = pending.iter().position(|q| q.program_code == p.program_code).unwrap_or(0);
                rest * weights[i] / wsum
            }
        };
        volumes.push((p, (base * factor * rng.gen_range(0.85..1.15)).round() as i64));
    }
    let planned: i64 = volumes.iter().map(|(_, v)| v).sum();

    let start = the_plan.plan.start;
    let days = (the_plan.plan.end - start).num_days().max(1) as u64;
    let mut people: Vec<Person> = Vec::new();
    let mut pool: HashMap<String, Vec<usize>> = HashMap::new();
    let mut used_ids: HashSet<String> = HashSet::new();
    let mut groups: Vec<(i64, &'static str, NaiveDate, Option<NaiveDate>)> = Vec::new();
    let mut classes: Vec<Class> = Vec::new();
    let mut enrolments: Vec<(i64, i64, i64, NaiveDate)> = Vec::new();
    let mut completions: Vec<Completion> = Vec::new();
    let mut done = 0i64;
    let generated = std::time::Instant::now();

    for (program, volume) in &volumes {
        let pool_occ: Vec<&plan::OccupationRow> = {
            let h = hints(&program.program_code);
            let v: Vec<_> = occupations.iter().filter(|o| h.iter().any(|k| o.name.contains(k))).collect();
            if v.is_empty() {
                occupations.iter().collect()
            } else {
                v
            }
        };
        let share = program.share_pct.unwrap_or(30) as f64 / 100.0;
        let share = (share + rng.gen_range(-0.12..0.10)).clamp(0.0, 1.0);
        let mut left = *volume;
        while left > 0 {
            let size = rng.gen_range(20..=60).min(left.max(1));
            let county = weighted(&mut rng, &counties).clone();
            let occupation = *pool_occ.choose(&mut rng).unwrap();
            let kind = if program.program_code == "P8" {
                TrainingKind::Entrepreneurship
            } else if rng.gen_bool(share) {
                *[
                    TrainingKind::SkillUpgrade,
                    TrainingKind::SkillUpgrade,
                    TrainingKind::Safety,
                    TrainingKind::JobTransfer,
                ]
                .choose(&mut rng)
                .unwrap()
            } else {
                *[TrainingKind::Employment, TrainingKind::Employment, TrainingKind::PreJob].choose(&mut rng).unwrap()
            };
            let level =
                occupation.has_levels.then(|| *weighted(&mut rng, &[(5i64, 50.0), (4, 30.0), (3, 15.0), (2, 5.0)]));
            // Slightly more training later in the period.
            let d = (rng.gen_range(0.0f64..1.0).powf(0.8) * days as f64) as u64;
            let class_start = start + Days::new(d.min(days.saturating_sub(10)));
            let class_end = (class_start + Days::new(rng.gen_range(5..40))).min(the_plan.plan.end);
            let provider = *providers_by_county[county.as_str()].choose(&mut rng).unwrap();
            let class_id = classes.len() as i64 + 1;
            let county_name = the_plan.county(&county).map_or("", |c| c.name_zh.as_str());
            let class = Class {
                id: class_id,
                name: format!("{county_name}{}{}期", occupation.name, class_start.format("%Y年%-m月")),
                program: program.program_code.clone(),
                occupation: occupation.occupation_code.clone(),
                level,
                kind,
                county: county.clone(),
                provider,
                start: class_start,
                end: class_end,
                subsidised: rng.gen_bool(subsidised_share),
            };
            let mut in_class = HashSet::new();
            for _ in 0..size {
                let reuse = pool.get(&county).filter(|v| v.len() > 50 && rng.gen_bool(returning));
                let idx = match reuse {
                    Some(v) => *v.choose(&mut rng).unwrap(),
                    None => {
                        let p = new_person(&mut rng, &county, people.len() as i64 + 1, &mut used_ids, class_start);
                        for (g, p_) in [
                            ("rural_migrant", 0.3),
                            ("poor_worker", 0.08),
                            ("employee", 0.25),
                            ("veteran", 0.02),
                            ("disabled", 0.01),
                            ("registered_unemployed", 0.05),
                        ] {
                            if rng.gen_bool(p_) {
                                let from = class_start - Days::new(rng.gen_range(30..1500));
                                groups.push((p.id, g, from, None));
                            }
                        }
                        people.push(p);
                        pool.entry(county.clone()).or_default().push(people.len() - 1);
                        people.len() - 1
                    }
                };
                let person_id = people[idx].id;
                if !in_class.insert(person_id) {
                    continue;
                }
                let enrolment_id = enrolments.len() as i64 + 1;
                enrolments.push((enrolment_id, class_id, person_id, class_start));
                if rng.gen_bool(0.96) {
                    completions.push(Completion {
                        id: completions.len() as i64 + 1,
                        enrolment: enrolment_id,
                        class: class_id,
                        person: person_id,
                        program: class.program.clone(),
                        county: class.county.clone(),
                        on: class.end,
                        subsidised: class.subsidised,
                        skill_upgrade: kind.is_skill_upgrade(),
                    });
                }
            }
            left -= size;
            done += size;
            classes.push(class);
            if classes.len().is_multiple_of(200) {
                progress(done as u64, planned as u64 * 2);
            }
        }
    }

    tracing::info!(secs = generated.elapsed().as_secs_f64(), "demo: generated in memory");
    let now = crate::now();
    bulk!(
        db,
        "INSERT INTO provider (provider_id, credit_code, name, county_code, status, created_at, updated_at) ",
        &providers,
        7,
        |b, o| {
            b.push_bind(o.id)
                .push_bind(o.code.clone())
                .push_bind(o.name.clone())
                .push_bind(o.county.clone())
                .push_bind("listed")
                .push_bind(now)
                .push_bind(now);
        }
    );
    bulk!(db, "INSERT INTO assessment_body (assessment_body_id, credit_code, name, county_code, status, created_at, updated_at) ", &bodies, 7, |b, o| {
        b.push_bind(o.id).push_bind(o.code.clone()).push_bind(o.name.clone()).push_bind(o.county.clone()).push_bind("listed").push_bind(now).push_bind(now);
    });
    bulk!(
        db,
        "INSERT INTO employer (employer_id, credit_code, name, county_code, kind, insured, created_at, updated_at) ",
        &employers,
        8,
        |b, o| {
            b.push_bind(o.id)
                .push_bind(o.code.clone())
                .push_bind(o.name.clone())
                .push_bind(o.county.clone())
                .push_bind(o.kind)
                .push_bind(o.insured)
                .push_bind(now)
                .push_bind(now);
        }
    );
    // Every provider and employer banks where subsidies are paid: one account each, recorded by
    // the county office (`county_verified`), numbers distinct.
    let banks = [
        "中国农业银行驻马店分行",
        "中国工商银行驻马店分行",
        "中国建设银行驻马店分行",
        "中国邮政储蓄银行驻马店市分行",
        "驻马店农村商业银行",
    ];
    let accounts: Vec<(&str, i64, String, String, &str)> = providers
        .iter()
        .map(|o| ("provider", o.id, o.name.clone(), format!("410501{:013}", o.id), banks[o.id as usize % banks.len()]))
        .chain(employers.iter().map(|o| {
            ("employer", o.id, o.name.clone(), format!("410502{:013}", o.id), banks[(o.id as usize / 3) % banks.len()])
        }))
        .collect();
    bulk!(
        db,
        "INSERT INTO bank_account (payee_kind, payee_id, bank, account_no, holder, source, recorded_at) ",
        &accounts,
        7,
        |b, a| {
            b.push_bind(a.0)
                .push_bind(a.1)
                .push_bind(a.4)
                .push_bind(a.3.clone())
                .push_bind(a.2.clone())
                .push_bind("county_verified")
                .push_bind(now);
        }
    );
    progress(planned as u64 * 5 / 4, planned as u64 * 2);
    bulk!(db, "INSERT INTO person (person_id, id_number, name, sex, birth_date, county_code, phone, rural, created_at, updated_at) ", &people, 10, |b, p| {
        b.push_bind(p.id).push_bind(p.id_number.clone()).push_bind(p.name.clone()).push_bind(p.sex).push_bind(p.birth)
            .push_bind(p.county.clone()).push_bind(p.phone.clone()).push_bind(p.rural).push_bind(now).push_bind(now);
    });
    let rural_people: Vec<i64> = people.iter().filter(|p| p.rural).map(|p| p.id).collect();
    bulk!(
        db,
        "INSERT INTO person_fact (person_id, fact, value, source, as_of, recorded_at) ",
        &rural_people,
        6,
        |b, id| {
            b.push_bind(*id)
                .push_bind("rural")
                .push_bind("true")
                .push_bind("civil_affairs")
                .push_bind(NaiveDate::from_ymd_opt(2019, 1, 1).unwrap_or_default())
                .push_bind(now);
        }
    );
    bulk!(
        db,
        "INSERT INTO person_group (person_id, group_code, from_date, to_date, source, recorded_at) ",
        &groups,
        6,
        |b, g| {
            b.push_bind(g.0)
                .push_bind(g.1)
                .push_bind(g.2)
                .push_bind(g.3)
                .push_bind(group_source(g.1, g.0))
                .push_bind(now);
        }
    );
    bulk!(db, "INSERT INTO training_class (class_id, name, program_code, occupation_code, level, kind, county_code, provider_id, start_date, end_date, subsidised, created_at) ", &classes, 12, |b, c| {
        b.push_bind(c.id).push_bind(c.name.clone()).push_bind(c.program.clone()).push_bind(c.occupation.clone()).push_bind(c.level)
            .push_bind(c.kind.code()).push_bind(c.county.clone()).push_bind(c.provider).push_bind(c.start).push_bind(c.end)
            .push_bind(c.subsidised).push_bind(now);
    });
    progress(planned as u64 * 3 / 2, planned as u64 * 2);
    bulk!(db, "INSERT INTO enrolment (enrolment_id, class_id, person_id, enrolled_on) ", &enrolments, 4, |b, e| {
        b.push_bind(e.0).push_bind(e.1).push_bind(e.2).push_bind(e.3);
    });
    bulk!(db, "INSERT INTO completion (completion_id, enrolment_id, class_id, person_id, program_code, county_code, completed_on, subsidised, skill_upgrade) ", &completions, 9, |b, c| {
        b.push_bind(c.id).push_bind(c.enrolment).push_bind(c.class).push_bind(c.person).push_bind(c.program.clone()).push_bind(c.county.clone())
            .push_bind(c.on).push_bind(c.subsidised).push_bind(c.skill_upgrade);
    });
    let mut check_in_count = 0;
    if scale.in_proportion() {
        let checkins = check_ins(&classes, &enrolments, people.len(), seed);
        check_in_count = checkins.len();
        bulk!(db, "INSERT INTO attendance (enrolment_id, day, checked_at, method) ", &checkins, 4, |b, c| {
            let t = chrono::NaiveTime::from_num_seconds_from_midnight_opt(c.2, 0).unwrap_or_default();
            b.push_bind(c.0).push_bind(c.1).push_bind(c.1.and_time(t).and_utc()).push_bind("face");
        });
    }
    // Certificates (assessed by the first body) for a fifth of the subsidised completions of the
    // plan's last quarter (of the whole period at province scale), and for the demo worker's
    // trainings.
    let class_of: HashMap<i64, &Class> = classes.iter().map(|c| (c.id, c)).collect();
    let last_quarter = NaiveDate::from_ymd_opt(2021, 10, 1).unwrap_or_default();
    let worker_person = completions.first().map(|c| c.person);
    let certified: Vec<&Completion> = completions
        .iter()
        .filter(|c| {
            let period = scale.in_proportion() || c.on >= last_quarter;
            c.subsidised && ((period && c.id % 5 == 0) || Some(c.person) == worker_person)
        })
        .collect();
    let body_id = bodies.first().map(|b| b.id).unwrap_or(1);
    bulk!(db, "INSERT INTO assessment (assessment_id, enrolment_id, assessment_body_id, assessed_on, score, passed, recorded_by, created_at) ", &certified, 8, |b, c| {
        b.push_bind(c.id).push_bind(c.enrolment).push_bind(body_id).push_bind(c.on).push_bind(85i64).push_bind(true).push_bind(None::<i64>).push_bind(now);
    });
    bulk!(db, "INSERT INTO certificate (certificate_id, assessment_id, assessment_body_id, person_id, kind, occupation_code, level, serial, issued_on, created_at) ", &certified, 10, |b, c| {
        let class = class_of.get(&c.class);
        let level = class.and_then(|k| k.level);
        let kind = if level.is_some() { "skill_level" } else { "training_completion" };
        b.push_bind(c.id).push_bind(c.id).push_bind(body_id).push_bind(c.person).push_bind(kind)
            .push_bind(class.map(|k| k.occupation.clone()).unwrap_or_default()).push_bind(level)
            .push_bind(format!("S{}{:07}", c.on.format("%Y"), c.id)).push_bind(c.on).push_bind(now);
    });
    let certificates: Vec<(i64, i64)> = certified.iter().map(|c| (c.person, c.id)).collect();
    let t = std::time::Instant::now();
    plan::rebuild_progress(db).await?;
    tracing::info!(secs = t.elapsed().as_secs_f64(), "demo: progress rebuilt");
    let t = std::time::Instant::now();
    // Fresh statistics for the planner after a bulk load (PostgreSQL would gather them only when
    // autovacuum comes round; until then it plans a province's pages as if its tables were empty).
    if let Db::Postgres(p) = db {
        sqlx::query("ANALYZE").execute(p).await?;
    }
    db.reset_sequences().await?;
    db.analyze().await?;
    tracing::info!(secs = t.elapsed().as_secs_f64(), "demo: analysed");
    progress(planned as u64 * 2, planned as u64 * 2);

    // The subsidised project catalog: the occupations and levels most trained.
    let mut counts: HashMap<(String, Option<i64>), usize> = HashMap::new();
    for c in classes.iter().filter(|c| c.subsidised) {
        *counts.entry((c.occupation.clone(), c.level)).or_default() += 1;
    }
    let mut pairs: Vec<_> = counts.into_iter().collect();
    pairs.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let mut top: Vec<(String, Option<i64>)> = pairs.into_iter().take(60).map(|(k, _)| k).collect();
    top.sort();
    for (occupation, level) in top {
        let (hours, yuan) = match level {
            Some(1) => (240, 3000),
            Some(2) => (200, 2500),
            Some(3) => (160, 2000),
            Some(4) => (120, 1500),
            Some(_) => (80, 1000),
            None => (60, 800),
        };
        let input = crate::catalog::ProjectInput {
            occupation_code: occupation,
            level: level.and_then(|l| jineng_domain::SkillLevel::new(l as u8).ok()),
            class_hours: hours,
            subsidy_fen: yuan * 100,
            status: "listed".into(),
        };
        crate::catalog::create_project(db, None, &input).await?;
    }

    // One login per role.
    let biggest = the_plan.counties.iter().max_by_key(|c| c.population).cloned();
    let county = biggest.as_ref().map(|c| (c.code.to_string(), c.name_zh.clone())).unwrap_or_default();
    let dept = the_plan
        .department("hrss")
        .or(the_plan.departments.first())
        .map(|d| (d.code.clone(), d.name_zh.clone()))
        .unwrap_or_default();
    let provider = providers.iter().find(|p| p.county == county.0).or(providers.first());
    let body = bodies.first();
    let employer = employers.iter().find(|e| e.county == county.0 && e.insured).or(employers.first());
    let worker = completions.first().and_then(|c| people.iter().find(|p| p.id == c.person));
    // The funds' allocations for the plan years (资金下达), so that finance can pay: a
    // province's are as many times a city's as its person-times.
    let money_factor = if scale.in_proportion() { factor.round().max(1.0) as i64 } else { 1 };
    for (fund, yuan, note) in [
        ("employment_subsidy_fund", 80_000_000i64, "演示数据：2019—2021年就业补助资金（职业技能提升行动）"),
        ("unemployment_insurance_fund", 30_000_000, "演示数据：失业保险基金结余中的职业技能提升行动专账资金"),
    ] {
        let fen = yuan * 100 * money_factor;
        crate::with_pool!(db, |p| {
            sqlx::query("UPDATE fund SET balance_fen = balance_fen + $1, updated_at = $2 WHERE fund_code = $3")
                .bind(fen)
                .bind(crate::now())
                .bind(fund)
                .execute(p)
                .await?;
            sqlx::query("INSERT INTO fund_entry (fund_code, kind, amount_fen, balance_after_fen, note, at) SELECT fund_code, 'allocation', $1, balance_fen, $2, $3 FROM fund WHERE fund_code = $4")
                .bind(fen)
                .bind(note)
                .bind(crate::now())
                .bind(fund)
                .execute(p)
                .await?;
        });
    }
    let mut logins = Vec::new();
    let specs: Vec<(Role, &str, Option<String>, String)> = vec![
        (Role::CityAdmin, "admin", None, the_plan.plan.region_name_zh.clone()),
        (Role::County, "county", Some(county.0.clone()), county.1.clone()),
        (Role::Department, "department", Some(dept.0.clone()), dept.1.clone()),
        (Role::Finance, "finance", None, the_plan.plan.region_name_zh.clone()),
        (
            Role::Provider,
            "provider",
            provider.map(|p| p.id.to_string()),
            provider.map(|p| p.name.clone()).unwrap_or_default(),
        ),
        (
            Role::AssessmentBody,
            "assessor",
            body.map(|p| p.id.to_string()),
            body.map(|p| p.name.clone()).unwrap_or_default(),
        ),
        (Role::Auditor, "auditor", None, the_plan.plan.region_name_zh.clone()),
        (Role::Worker, "worker", worker.map(|p| p.id.to_string()), worker.map(|p| p.name.clone()).unwrap_or_default()),
        (
            Role::Employer,
            "employer",
            employer.map(|e| e.id.to_string()),
            employer.map(|e| e.name.clone()).unwrap_or_default(),
        ),
    ];
    let mut admin = None;
    for (role, username, scope, label) in specs {
        let password = format!("{}-{}", username, &users::random_token()[..12]);
        let id =
            users::create(db, None, username, &format!("{} {}", role.zh(), label), &password, role, scope.as_deref())
                .await?;
        if role == Role::CityAdmin {
            admin = Some(id);
        }
        logins.push(DemoLogin { role, username: username.into(), password, scope_label: label });
    }
    if let Some(admin) = admin {
        yearly_plans(db, admin, &the_plan, &programs).await?;
    }
    Ok(DemoSummary {
        people: people.len(),
        classes: classes.len(),
        enrolments: enrolments.len(),
        completions: completions.len(),
        logins,
        certificates,
        check_ins: check_in_count,
        money_factor,
        pay_whole_county: scale.in_proportion(),
    })
}

/// The demo's yearly plans (M1): each program's target spread over the plan's years (30 %, then
/// the rest evenly) and each year's task over the counties by population (largest remainder),
/// and the statistics bureau's figures for T2 and T3, marked as demonstration data.
async fn yearly_plans(
    db: &Db,
    admin: i64,
    the_plan: &jineng_domain::plan::Plan,
    programs: &[plan::ProgramRow],
) -> Result<()> {
    let counties = &the_plan.counties;
    let years: Vec<i32> = (the_plan.plan.start.year()..=the_plan.plan.end.year()).collect();
    let split = |whole: i64, weights: &[i64]| -> Vec<i64> {
        let total: i64 = weights.iter().sum::<i64>().max(1);
        let mut parts: Vec<i64> = weights.iter().map(|w| whole * w / total).collect();
        let mut order: Vec<usize> = (0..weights.len()).collect();
        order.sort_by_key(|&i| (std::cmp::Reverse(whole * weights[i] % total), i));
        let short = whole - parts.iter().sum::<i64>();
        for &i in order.iter().take(short.max(0) as usize) {
            parts[i] += 1;
        }
        parts
    };
    let year_weights: Vec<i64> =
        (0..years.len()).map(|i| if i == 0 { 30 } else { 70 / (years.len() as i64 - 1).max(1) }).collect();
    let weights: Vec<i64> = counties.iter().map(|c| c.population).collect();
    for p in programs.iter().filter(|p| p.unit != "none") {
        let Some(target) = p.target else { continue };
        let responsible = format!("{}及各县区人民政府", p.responsible.replace(',', "、"));
        for (year, value) in years.iter().zip(split(target, &year_weights)) {
            let shares: Vec<(String, i64)> =
                counties.iter().map(|c| c.code.to_string()).zip(split(value, &weights)).collect();
            crate::reports::set_yearly_task(db, admin, *year, &p.program_code, value, &responsible, &shares).await?;
        }
    }
    for (i, c) in counties.iter().enumerate() {
        for (k, year) in std::iter::once(years[0] - 1).chain(years.iter().copied()).enumerate() {
            let employed = c.population * 55 / 100;
            let skilled = employed * (18 + (i as i64 % 4) + k as i64) / 100;
            let high = skilled * (24 + (i as i64 % 3) + k as i64) / 100;
            crate::labour::record(
                db,
                admin,
                c.code.as_str(),
                year,
                employed.max(1),
                skilled,
                high,
                "演示数据（非真实统计）demo figures, not real statistics",
            )
            .await?;
        }
    }
    Ok(())
}

/// A mobile number of one's own: the network's prefix drawn, the nine digits a bijection of
/// the person id (times a number prime to 10, modulo 10⁹), so that no two people of a demo
/// share one by chance (drawn at random, 5.9 M people shared 13,487 and every one was a
/// `shared_phone` finding); sharing is what the anomalies plant.
fn phone(rng: &mut StdRng, id: i64) -> String {
    const STEP: u64 = 387_420_489; // 3^18
    let prefix = [3, 5, 7, 8, 9][rng.gen_range(0..5)];
    // The draw the number used to be, kept so that everything drawn after it stays the same.
    let _ = rng.gen_range(0..1_000_000_000u64);
    format!("1{prefix}{:09}", (id.unsigned_abs() % 1_000_000_000) * STEP % 1_000_000_000)
}

fn new_person(rng: &mut StdRng, county: &str, id: i64, used: &mut HashSet<String>, at: NaiveDate) -> Person {
    let area = AreaCode::parse(county).expect("county codes are valid");
    loop {
        let age = rng.gen_range(17..58);
        let birth =
            NaiveDate::from_ymd_opt(at.year() - age, rng.gen_range(1..=12), rng.gen_range(1..=28)).unwrap_or(at);
        let sequence = rng.gen_range(0..1000);
        let mut number = IdNumber::from_parts(area, birth, sequence);
        // Nobody reaches the retirement age (S8: men 60, women 50) on a class of the plan's
        // three years: the oldest are made eleven years younger.
        let oldest = if matches!(number.sex(), jineng_domain::Sex::Male) { 56 } else { 46 };
        let birth = if age > oldest { birth.with_year(birth.year() + 11).unwrap_or(birth) } else { birth };
        if age > oldest {
            number = IdNumber::from_parts(area, birth, sequence);
        }
        if !used.insert(number.as_str().to_owned()) {
            continue;
        }
        let male = matches!(number.sex(), jineng_domain::Sex::Male);
        let given = if male { MALE.choose(rng) } else { FEMALE.choose(rng) }.copied().unwrap_or("");
        let surname = SURNAMES[(rng.gen_range(0.0f64..1.0).powi(2) * SURNAMES.len() as f64) as usize];
        return Person {
            id,
            id_number: number.as_str().to_owned(),
            name: format!("{surname}{given}"),
            sex: if male { "male" } else { "female" },
            birth,
            county: county.to_owned(),
            phone: phone(rng, id),
            rural: rng.gen_bool(0.6),
        };
    }
}

/// Fresh planner statistics for the tables the claims' walk fills (PostgreSQL plans by them;
/// autovacuum may be slow to come round, or off).
async fn analyse_claims(db: &Db) -> Result<()> {
    if let Db::Postgres(p) = db {
        sqlx::query("ANALYZE claim, claim_event, claim_tally, payment, audit_log").execute(p).await?;
    }
    Ok(())
}

/// Check-ins for every enrolment: its class's first five days (or fewer), each between 8:00
/// and 9:30, and never two classes on one day for one person (a day already taken is left out).
/// Returns (enrolment, day, seconds after midnight).
fn check_ins(
    classes: &[Class],
    enrolments: &[(i64, i64, i64, NaiveDate)],
    people: usize,
    seed: u64,
) -> Vec<(i64, NaiveDate, u32)> {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x0a77_e4d5);
    let mut taken: Vec<Vec<(NaiveDate, NaiveDate)>> = vec![Vec::new(); people + 1];
    let mut out = Vec::with_capacity(enrolments.len() * 5);
    for &(enrolment, class, person, _) in enrolments {
        let Some(c) = classes.get(class as usize - 1) else { continue };
        let last = (c.start + Days::new(4)).min(c.end);
        let Some(mine) = taken.get_mut(person as usize) else { continue };
        let mut day = c.start;
        while day <= last {
            if !mine.iter().any(|(a, b)| *a <= day && day <= *b) {
                out.push((enrolment, day, 8 * 3600 + rng.gen_range(0..5400)));
            }
            day = day + Days::new(1);
        }
        mine.push((c.start, last));
    }
    out
}

/// Registers `n` people in one county (for the register-import benchmark); returns each one's
/// ID number and name.
pub async fn bench_people(db: &Db, n: usize, seed: u64) -> Result<Vec<(String, String)>> {
    let mut rng = StdRng::seed_from_u64(seed);
    let now = crate::now();
    let mut used = HashSet::new();
    let at = NaiveDate::from_ymd_opt(2020, 6, 1).unwrap_or_default();
    let people: Vec<Person> = (1..=n as i64).map(|id| new_person(&mut rng, "411722", id, &mut used, at)).collect();
    bulk!(db, "INSERT INTO person (person_id, id_number, name, sex, birth_date, county_code, phone, rural, created_at, updated_at) ", &people, 10, |b, p| {
        b.push_bind(p.id).push_bind(p.id_number.clone()).push_bind(p.name.clone()).push_bind(p.sex).push_bind(p.birth)
            .push_bind(p.county.clone()).push_bind(p.phone.clone()).push_bind(p.rural).push_bind(now).push_bind(now);
    });
    Ok(people.into_iter().map(|p| (p.id_number, p.name)).collect())
}

/// Data for the certificate → claim benchmark, in a database with the plan loaded (empty, or a
/// demo city or province: every id then follows the largest there, and no ID number already
/// registered is drawn): `n` new people of 上蔡县, each with a level-5 certificate from an approved,
/// subsidised class of 100 with 9 days of 10 checked in (a tenth of them poor workers, who also
/// earn a living allowance; a fifth insured employees, who earn the skill-upgrade subsidy instead). Returns the
/// (person, certificate) pairs in issue order.
pub async fn bench_certificates(db: &Db, n: usize, seed: u64) -> Result<Vec<(i64, i64)>> {
    let mut rng = StdRng::seed_from_u64(seed);
    let now = crate::now();
    let county = "411722";
    let area = AreaCode::parse(county).expect("valid county");
    // The largest id of each table the benchmark writes to: its rows follow them.
    let last = |table: &'static str, key: &'static str| async move {
        let sql = format!("SELECT CAST(COALESCE(MAX({key}), 0) AS BIGINT) FROM {table}");
        Ok::<i64, crate::StoreError>(crate::with_pool!(db, |p| sqlx::query_scalar::<_, i64>(&sql).fetch_one(p).await?))
    };
    let provider = last("provider", "provider_id").await? + 1;
    let body = last("assessment_body", "assessment_body_id").await? + 1;
    let (person0, class0) = (last("person", "person_id").await?, last("training_class", "class_id").await?);
    let (enrolment0, assessment0) =
        (last("enrolment", "enrolment_id").await?, last("assessment", "assessment_id").await?);
    let certificate0 = last("certificate", "certificate_id").await?;
    let provider_code = CreditCode::generate(area, 9_100_001 + 2 * provider as u64).to_string();
    let body_code = CreditCode::generate(area, 9_100_002 + 2 * body as u64).to_string();
    crate::with_pool!(db, |p| {
        sqlx::query("INSERT INTO provider (provider_id, credit_code, name, county_code, status, created_at, updated_at) VALUES ($4, $1, '上蔡县基准职业培训学校' || $4, $2, 'listed', $3, $3)")
            .bind(&provider_code).bind(county).bind(now).bind(provider).execute(p).await?;
        sqlx::query("INSERT INTO assessment_body (assessment_body_id, credit_code, name, county_code, status, created_at, updated_at) VALUES ($4, $1, '上蔡县基准职业技能评价中心' || $4, $2, 'listed', $3, $3)")
            .bind(&body_code).bind(county).bind(now).bind(body).execute(p).await?;
    });
    // ID numbers already registered in the county are not drawn again.
    let mut used: HashSet<String> = crate::with_pool!(db, |p| {
        sqlx::query_scalar::<_, String>("SELECT id_number FROM person WHERE county_code = $1")
            .bind(county)
            .fetch_all(p)
            .await?
    })
    .into_iter()
    .collect();
    let at = NaiveDate::from_ymd_opt(2020, 6, 1).unwrap_or_default();
    let people: Vec<Person> =
        (1..=n as i64).map(|id| new_person(&mut rng, county, person0 + id, &mut used, at)).collect();
    // The n-th new person (from 1) is person0 + n; their enrolment, assessment and certificate
    // are the n-th new ones of those tables, their class the (n - 1) / 100 + 1-th new one.
    let nth = |p: &Person| p.id - person0;
    let insured: Vec<bool> = (0..n).map(|_| rng.gen_bool(0.2)).collect();
    let poor: Vec<bool> = (0..n).map(|_| rng.gen_bool(0.1)).collect();
    bulk!(db, "INSERT INTO person (person_id, id_number, name, sex, birth_date, county_code, phone, rural, created_at, updated_at, insured_since, monthly_pension) ", &people, 12, |b, p| {
        let since = insured[nth(p) as usize - 1].then(|| NaiveDate::from_ymd_opt(2015, 3, 1).unwrap_or_default());
        b.push_bind(p.id).push_bind(p.id_number.clone()).push_bind(p.name.clone()).push_bind(p.sex).push_bind(p.birth)
            .push_bind(p.county.clone()).push_bind(p.phone.clone()).push_bind(p.rural).push_bind(now).push_bind(now)
            .push_bind(since).push_bind(false);
    });
    let groups: Vec<(i64, &str)> = people
        .iter()
        .filter_map(|p| {
            let i = nth(p) as usize - 1;
            if insured[i] {
                Some((p.id, "employee"))
            } else if poor[i] {
                Some((p.id, "poor_worker"))
            } else {
                None
            }
        })
        .collect();
    bulk!(db, "INSERT INTO person_group (person_id, group_code, from_date, to_date, source) ", &groups, 5, |b, g| {
        b.push_bind(g.0)
            .push_bind(g.1)
            .push_bind(NaiveDate::from_ymd_opt(2014, 1, 1).unwrap_or_default())
            .push_bind(None::<NaiveDate>)
            .push_bind(if g.1 == "employee" { "social_insurance" } else { "poverty_roster" });
    });
    let insured_people: Vec<i64> = people.iter().filter(|p| insured[nth(p) as usize - 1]).map(|p| p.id).collect();
    bulk!(
        db,
        "INSERT INTO person_fact (person_id, fact, value, source, as_of, recorded_at) ",
        &insured_people,
        6,
        |b, id| {
            b.push_bind(*id)
                .push_bind("insured_since")
                .push_bind("2015-03-01")
                .push_bind("social_insurance")
                .push_bind(NaiveDate::from_ymd_opt(2020, 1, 1).unwrap_or_default())
                .push_bind(now);
        }
    );
    let classes: Vec<i64> = (1..=n.div_ceil(100) as i64).map(|c| class0 + c).collect();
    bulk!(db, "INSERT INTO training_class (class_id, name, program_code, occupation_code, level, kind, county_code, provider_id, start_date, end_date, subsidised, created_at, status) ", &classes, 13, |b, c| {
        b.push_bind(*c).push_bind(format!("基准班{c}")).push_bind("P4a").push_bind("4-10-01-06").push_bind(5i64).push_bind("employment")
            .push_bind(county).push_bind(provider).push_bind(at).push_bind(at + Days::new(9)).push_bind(true).push_bind(now).push_bind("approved");
    });
    bulk!(db, "INSERT INTO enrolment (enrolment_id, class_id, person_id, enrolled_on) ", &people, 4, |b, p| {
        b.push_bind(enrolment0 + nth(p)).push_bind(class0 + (nth(p) - 1) / 100 + 1).push_bind(p.id).push_bind(at);
    });
    // Every trainee checked in on most of the ten days.
    let checkins: Vec<(i64, NaiveDate)> = people
        .iter()
        .flat_map(|p| {
            let (enrolment, missed) = (enrolment0 + nth(p), (nth(p) % 4) as u64);
            (0..10u64).filter(move |d| *d != missed + 5).map(move |d| (enrolment, at + Days::new(d)))
        })
        .collect();
    bulk!(db, "INSERT INTO attendance (enrolment_id, day, checked_at, method) ", &checkins, 4, |b, c| {
        b.push_bind(c.0).push_bind(c.1).push_bind(now).push_bind("face");
    });
    let issued = at + Days::new(12);
    bulk!(db, "INSERT INTO assessment (assessment_id, enrolment_id, assessment_body_id, assessed_on, score, passed, recorded_by, created_at) ", &people, 8, |b, p| {
        b.push_bind(assessment0 + nth(p)).push_bind(enrolment0 + nth(p)).push_bind(body).push_bind(issued).push_bind(80i64).push_bind(true).push_bind(None::<i64>).push_bind(now);
    });
    bulk!(db, "INSERT INTO certificate (certificate_id, assessment_id, assessment_body_id, person_id, kind, occupation_code, level, serial, issued_on, created_at) ", &people, 10, |b, p| {
        b.push_bind(certificate0 + nth(p)).push_bind(assessment0 + nth(p)).push_bind(body).push_bind(p.id).push_bind("skill_level").push_bind("4-10-01-06").push_bind(5i64)
            .push_bind(format!("BENCH-{:08}", certificate0 + nth(p))).push_bind(issued).push_bind(now);
    });
    db.reset_sequences().await?;
    db.analyze().await?;
    Ok(people.iter().map(|p| (p.id, certificate0 + nth(p))).collect())
}

/// The demo's claims: prepared and decided from the demo certificates; in the county with the
/// most claims published ten days before `today` and paid, in the next one published `today`
/// (on notice; at province scale its oldest 5,000); elsewhere awaiting the county's review.
/// Returns a line for the console.
pub async fn walk_claims(db: &Db, summary: &DemoSummary, today: NaiveDate) -> Result<String> {
    walk_claims_with(db, summary, today, &|_, _, _| {}).await
}

/// [`walk_claims`], calling `progress` with the step (中文 English), done and in all as it
/// goes: the claims filed (people), the paid history (batches), the review walk.
pub async fn walk_claims_with(
    db: &Db,
    summary: &DemoSummary,
    today: NaiveDate,
    progress: &(dyn Fn(&'static str, u64, u64) + Sync),
) -> Result<String> {
    use crate::claims::{self, ClaimScope};
    let t = std::time::Instant::now();
    let filing = "补贴申请 filing claims";
    let filed = claims::prepare::for_certificates_with(db, None, &summary.certificates, &|done, all| {
        progress(filing, done as u64, all as u64)
    })
    .await?;
    tracing::info!(secs = t.elapsed().as_secs_f64(), filed, "demo: claims filed");
    analyse_claims(db).await?;
    let user = |role: Role| summary.logins.iter().find(|l| l.role == role);
    let (Some(admin), Some(finance)) = (user(Role::CityAdmin), user(Role::Finance)) else {
        return Ok(format!("{filed} 笔补贴申请 claims"));
    };
    let admin = users::authenticate(db, &admin.username, &admin.password).await?.map(|u| u.user_id);
    let finance = users::authenticate(db, &finance.username, &finance.password).await?.map(|u| u.user_id);
    let (Some(admin), Some(finance)) = (admin, finance) else { return Ok(format!("{filed} 笔补贴申请 claims")) };
    // The earmark (S6): finance proposed one for the unemployment-insurance fund, the city
    // returned it, finance proposed again and the city adopted it; a proposal for the
    // employment subsidy fund awaits the city.
    if crate::disclosure::earmarks(db).await?.is_empty() {
        use crate::disclosure::{decide_earmark, propose_earmark, EarmarkDecision};
        let m = summary.money_factor.max(1);
        let fund = "unemployment_insurance_fund";
        let first = propose_earmark(
            db,
            finance,
            fund,
            200_000_000 * 100 * m,
            "演示数据：按2018年末失业保险基金结余的四分之一测算",
        )
        .await?;
        decide_earmark(db, admin, first, &EarmarkDecision::Return, "演示数据：请按2019年6月末结余重新测算").await?;
        let second = propose_earmark(
            db,
            finance,
            fund,
            150_000_000 * 100 * m,
            "演示数据：2019年6月末结余6亿元，按25%安排，三年培训约15万人次",
        )
        .await?;
        let adopted_on = today.min(chrono::NaiveDate::from_ymd_opt(2019, 9, 1).unwrap_or(today));
        let adopt = EarmarkDecision::Adopt { document: "演示数据：驻政〔2019〕30号".into(), adopted_on };
        decide_earmark(db, admin, second, &adopt, "演示数据：经市政府常务会议研究同意").await?;
        propose_earmark(
            db,
            finance,
            "employment_subsidy_fund",
            90_000_000 * 100 * m,
            "演示数据：2019—2021年中央和省级下达就业补助资金中用于职业培训的部分",
        )
        .await?;
    }
    let t = std::time::Instant::now();
    let mut paid = 0;
    let mut on_notice = 0;
    // A province's history: the claims filed before the plan's last quarter were reviewed,
    // published and paid month by month (written in bulk, as the workflow writes them).
    let mut history = String::new();
    if summary.pay_whole_county {
        let last: Option<NaiveDate> =
            crate::with_pool!(db, |p| sqlx::query_scalar("SELECT MAX(filed_on) FROM claim").fetch_one(p).await?);
        if let Some(last) = last {
            let quarter = NaiveDate::from_ymd_opt(last.year(), (last.month0() / 3) * 3 + 1, 1).unwrap_or(last);
            let step = "历史拨付 paying the history";
            let h = history::pay_before(db, admin, finance, quarter, today, &|done, all| {
                progress(step, done as u64, all as u64)
            })
            .await?;
            tracing::info!(
                secs = t.elapsed().as_secs_f64(),
                paid = h.paid,
                batches = h.batches,
                unpaid = h.unpaid,
                "demo: history before {quarter} paid"
            );
            paid += h.paid as i64;
            history = format!(" ({} before {quarter}, in {} monthly batches)", h.paid, h.batches);
            analyse_claims(db).await?;
        }
    }
    // Each claim paid moves four times through the audited workflow, an event and a chained
    // audit entry each (set by set: ≈ 0.9 ms a paid claim on PostgreSQL): the county with the
    // most claims awaiting review has every one paid, the next its oldest on notice (5,000 in
    // a province), and the rest await review.
    let notice = if summary.pay_whole_county { 5_000 } else { usize::MAX };
    let walk = "审核、拨付、公示 review, payment, notice";
    progress(walk, 0, 1);
    // The two counties with the most claims.
    let mut counties: Vec<(String, i64)> = crate::with_pool!(db, |p| {
        sqlx::query_as(
        "SELECT county_code, COUNT(*) FROM claim WHERE status = 'decided' GROUP BY county_code ORDER BY COUNT(*) DESC, county_code"
    )
    .fetch_all(p)
    .await?
    });
    counties.truncate(2);
    if let Some(c) = counties.first() {
        let scope = ClaimScope { county: Some(c.0.clone()), ..Default::default() };
        crate::review::approve_and_publish_oldest(db, admin, &scope, today - Days::new(10), usize::MAX).await?;
        tracing::info!(secs = t.elapsed().as_secs_f64(), "demo: first county approved and published");
        for fund in ["employment_subsidy_fund", "unemployment_insurance_fund"] {
            if let Some(b) = crate::payments::create_batch(db, finance, fund, today).await? {
                tracing::info!(secs = t.elapsed().as_secs_f64(), "demo: batch made");
                crate::payments::approve_batch(db, finance, b.batch_id).await?;
                tracing::info!(secs = t.elapsed().as_secs_f64(), "demo: batch paid");
                paid += b.payments;
            }
        }
    }
    if let Some(c) = counties.get(1) {
        let scope = ClaimScope { county: Some(c.0.clone()), ..Default::default() };
        on_notice = crate::review::approve_and_publish_oldest(db, admin, &scope, today, notice).await?;
    }
    analyse_claims(db).await?;
    progress(walk, 1, 1);
    tracing::info!(secs = t.elapsed().as_secs_f64(), paid, on_notice, "demo: claims reviewed, paid and published");
    Ok(format!(
        "{filed} 笔补贴申请 claims: {paid} 已拨付 paid{history}, {on_notice} 公示中 on notice, the rest awaiting review"
    ))
}

pub mod anomalies;
pub mod history;
pub(crate) mod load;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_two_people_of_a_demo_share_a_phone_by_chance() {
        let mut rng = StdRng::seed_from_u64(7);
        let mut seen = HashSet::new();
        for id in 1..=300_000i64 {
            let p = phone(&mut rng, id);
            assert_eq!(p.len(), 11, "{p}");
            assert!(p.starts_with('1') && p.bytes().all(|b| b.is_ascii_digit()), "{p}");
            // The nine digits alone are already unique: a person's number is theirs whatever
            // network prefix was drawn.
            assert!(seen.insert(p[2..].to_owned()), "{p} twice");
        }
    }
}
