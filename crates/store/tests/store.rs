//! Store contract tests, run against SQLite and PostgreSQL alike.

use chrono::NaiveDate;
use jineng_domain::{AreaCode, IdNumber, TrainingKind};
use jineng_store::orgs::{self, OrgInput, OrgKind};
use jineng_store::people::{self, NewPerson, Visibility};
use jineng_store::plan::{self, GroupBy};
use jineng_store::testing::{both_backends, fresh};
use jineng_store::training::{self, NewClass};
use jineng_store::{demo, Db, StoreError};

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn person(county: &str, seq: u16) -> NewPerson {
    NewPerson {
        id_number: IdNumber::from_parts(AreaCode::parse(county).unwrap(), d("1990-05-17"), seq),
        name: "张三".into(),
        county_code: county.into(),
        phone: None,
        rural: true,
        groups: vec![],
    }
}

/// Claims per county, fund, status and outcome: (the kept `claim_tally`, a recount).
type ClaimCells = Vec<(String, String, String, String, i64, i64)>;
async fn claim_tally_and_recount(db: &Db) -> (ClaimCells, ClaimCells) {
    jineng_store::with_pool!(db, |p| {
        (
        sqlx::query_as("SELECT county_code, fund, status, outcome, claims, amount_fen FROM claim_tally WHERE claims <> 0 ORDER BY 1, 2, 3, 4")
            .fetch_all(p)
            .await
            .unwrap(),
        sqlx::query_as(
            "SELECT county_code, fund, status, outcome, COUNT(*), CAST(SUM(amount_fen) AS BIGINT) FROM claim GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"
        )
        .fetch_all(p)
        .await
        .unwrap()
    )
    })
}

/// Money paid per batch, program and county: (the kept `paid_tally`, a recount).
type PaidCells = Vec<(i64, String, String, i64, i64)>;
async fn paid_tally_and_recount(db: &Db) -> (PaidCells, PaidCells) {
    jineng_store::with_pool!(db, |p| {
        (
        sqlx::query_as("SELECT batch_id, program_code, county_code, claims, amount_fen FROM paid_tally WHERE claims <> 0 ORDER BY 1, 2, 3")
            .fetch_all(p)
            .await
            .unwrap(),
        sqlx::query_as(
            "SELECT y.batch_id, COALESCE(k.program_code, '') AS program_code, c.county_code, COUNT(*), CAST(SUM(y.amount_fen) AS BIGINT) \
             FROM payment y JOIN claim c ON c.claim_id = y.claim_id \
             LEFT JOIN certificate f ON f.certificate_id = c.certificate_id LEFT JOIN assessment a ON a.assessment_id = f.assessment_id \
             LEFT JOIN enrolment e ON e.enrolment_id = a.enrolment_id LEFT JOIN training_class k ON k.class_id = e.class_id \
             WHERE y.status = 'paid' GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
        )
        .fetch_all(p)
        .await
        .unwrap()
    )
    })
}

#[tokio::test]
async fn schemas_match() {
    let (sqlite, postgres) = (fresh("sqlite").await, fresh("postgres").await);
    let a = sqlite.schema().await.unwrap();
    let b = postgres.schema().await.unwrap();
    assert!(a.len() > 50, "schema has {} columns", a.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x, y, "sqlite vs postgres");
    }
    assert_eq!(a.len(), b.len());

    // Keys, CHECK constraints, foreign keys and indexes, compared by what they cover (not by name).
    let a = sqlite.constraints().await.unwrap();
    let b = postgres.constraints().await.unwrap();
    for kind in ["primary key ", "check ", "foreign key ", "unique index ", "index "] {
        assert!(a.iter().any(|l| l.starts_with(kind)), "no {kind}line on SQLite: {a:#?}");
    }
    let only = |x: &[String], y: &[String]| -> Vec<String> {
        let mut y = y.to_vec();
        x.iter()
            .filter(|l| match y.iter().position(|m| m == *l) {
                Some(i) => {
                    y.remove(i);
                    false
                }
                None => true,
            })
            .cloned()
            .collect()
    };
    let (only_sqlite, only_postgres) = (only(&a, &b), only(&b, &a));
    assert!(
        only_sqlite.is_empty() && only_postgres.is_empty(),
        "constraints differ\nonly on SQLite: {only_sqlite:#?}\nonly on PostgreSQL: {only_postgres:#?}"
    );
    assert_eq!(a, b);
}

both_backends! {
    async fn the_plan_loads_with_every_program_and_pending_marker(backend: &'static str) {
        let db = fresh(backend).await;
        let programs = plan::programs(&db).await.unwrap();
        assert_eq!(programs.len(), 20, "{backend}");
        let p2a = programs.iter().find(|p| p.program_code == "P2a").unwrap();
        assert_eq!(p2a.target, Some(60_000));
        let p1 = programs.iter().find(|p| p.program_code == "P1").unwrap();
        assert_eq!(p1.target, None);
        assert_eq!(p1.asked_codes(), vec!["industry"]);
        assert_eq!(p1.share_pct, Some(80));
        let t = plan::overall_targets(&db).await.unwrap();
        assert_eq!((t[0].value, t[0].subsidised), (250_000, Some(150_000)));
        assert_eq!(plan::counties(&db).await.unwrap().len(), 10);
        assert!(plan::occupations(&db).await.unwrap().len() > 400);
    }
}

both_backends! {
    async fn a_duplicate_id_number_is_a_conflict_and_writes_nothing(backend: &'static str) {
        let db = fresh(backend).await;
        let p = person("411722", 123);
        people::create(&db, None, &p).await.unwrap();
        let err = people::create(&db, None, &p).await.unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{backend}: {err:?}");
        let found = people::search(&db, &Visibility::default(), "", 10, None).await.unwrap();
        let total = people::count(&db, &Visibility::default()).await.unwrap();
        assert_eq!((found.rows.len(), total), (1, Some(1)), "{backend}");
    }
}

both_backends! {
    async fn an_unknown_county_is_refused_by_field(backend: &'static str) {
        let db = fresh(backend).await;
        let mut p = person("411722", 5);
        p.county_code = "411799".into();
        match people::create(&db, None, &p).await.unwrap_err() {
            StoreError::Invalid { field, .. } => assert_eq!(field, "county_code", "{backend}"),
            e => panic!("{backend}: {e:?}"),
        }
    }
}

both_backends! {
    async fn a_county_sees_only_its_own_people(backend: &'static str) {
        let db = fresh(backend).await;
        let a = people::create(&db, None, &person("411722", 1)).await.unwrap();
        let b = people::create(&db, None, &person("411729", 2)).await.unwrap();
        let vis = Visibility { county: Some("411722".into()), ..Default::default() };
        let rows = people::search(&db, &vis, "", 10, None).await.unwrap().rows;
        assert_eq!(rows.iter().map(|r| r.person_id).collect::<Vec<_>>(), vec![a], "{backend}");
        assert!(matches!(people::get(&db, &vis, b).await, Err(StoreError::NotFound)), "{backend}");
    }
}

both_backends! {
    async fn a_person_counts_once_per_program_and_year_even_when_completions_arrive_at_once(backend: &'static str) {
        let db = fresh(backend).await;
        let code = jineng_domain::CreditCode::generate(AreaCode::parse("411722").unwrap(), 43);
        let provider = orgs::create(
            &db,
            None,
            OrgKind::Provider,
            &OrgInput {
                credit_code: code.to_string(),
                legacy: false,
                name: "上蔡县测试职业培训学校".into(),
                county_code: "411722".into(),
                kind: None,
                insured: false,
                status: None,
            },
        )
        .await
        .unwrap();
        let p = people::create(&db, None, &person("411722", 1)).await.unwrap();
        // Eight classes of one program in 2020 (one a month) and one in 2021, the same trainee.
        let mut enrolments = Vec::new();
        for (i, start) in ["2020-01-06", "2020-02-03", "2020-03-02", "2020-04-06", "2020-05-04", "2020-06-01", "2020-07-06", "2020-08-03", "2021-03-01"].iter().enumerate() {
            let class = training::create_class(
                &db,
                None,
                &NewClass {
                    name: format!("电工班{i}"),
                    program_code: "P2a".into(),
                    occupation_code: "6-31-01-03".into(),
                    level: None,
                    kind: TrainingKind::SkillUpgrade,
                    county_code: "411722".into(),
                    provider_id: provider,
                    start_date: d(start),
                    end_date: d(start) + chrono::Duration::days(10),
                    subsidised: true,
                },
            )
            .await
            .unwrap();
            enrolments.push((training::enrol(&db, None, class, p, d(start)).await.unwrap(), d(start) + chrono::Duration::days(10)));
        }
        let runs: Vec<_> = enrolments
            .into_iter()
            .map(|(e, on)| {
                let db = db.clone();
                tokio::spawn(async move { training::complete(&db, None, e, on).await })
            })
            .collect();
        for r in runs {
            r.await.unwrap().unwrap();
        }
        let want = vec![("P2a".to_owned(), "2020".to_owned(), 1), ("P2a".to_owned(), "2021".to_owned(), 1)];
        assert_eq!(persons_by_year(&db).await, want, "{backend}");
        assert_eq!(persons_recount(&db).await, want);
        plan::rebuild_progress(&db).await.unwrap();
        assert_eq!(persons_by_year(&db).await, want, "{backend}: rebuilt");
    }
}

both_backends! {
    async fn completions_count_toward_progress_and_the_aggregate_equals_a_recount(backend: &'static str) {
        let db = fresh(backend).await;
        let code = jineng_domain::CreditCode::generate(AreaCode::parse("411722").unwrap(), 42);
        let provider = orgs::create(
            &db,
            None,
            OrgKind::Provider,
            &OrgInput {
                credit_code: code.to_string(),
                legacy: false,
                name: "上蔡县测试职业培训学校".into(),
                county_code: "411722".into(),
                kind: None,
                insured: false,
                status: None,
            },
        )
        .await
        .unwrap();
        let class = training::create_class(
            &db,
            None,
            &NewClass {
                name: "电工班".into(),
                program_code: "P2a".into(),
                occupation_code: "6-31-01-03".into(),
                level: None,
                kind: TrainingKind::SkillUpgrade,
                county_code: "411722".into(),
                provider_id: provider,
                start_date: d("2020-03-02"),
                end_date: d("2020-03-20"),
                subsidised: true,
            },
        )
        .await
        .unwrap();
        for seq in 0..3 {
            let p = people::create(&db, None, &person("411722", seq)).await.unwrap();
            let e = training::enrol(&db, None, class, p, d("2020-03-01")).await.unwrap();
            if seq < 2 {
                training::complete(&db, None, e, d("2020-03-20")).await.unwrap();
            }
        }
        // The completions kept per class (the public disclosure's trainees) follow.
        let kept: Vec<(i64, i64)> = jineng_store::with_pool!(&db, |p| sqlx::query_as(
            "SELECT class_id, completions FROM class_completions ORDER BY class_id"
        )
        .fetch_all(p)
        .await
        .unwrap());
        assert_eq!(kept, vec![(class, 2)], "{backend}");
        let by_program = plan::counts(&db, GroupBy::Program, None, None).await.unwrap();
        assert_eq!(by_program.len(), 1);
        assert_eq!(
            (by_program[0].person_times, by_program[0].subsidised, by_program[0].skill_upgrade),
            (2, 2, 2),
            "{backend}"
        );
        assert_eq!(by_program, plan::recount(&db).await.unwrap());
        let by_month = plan::counts(&db, GroupBy::Month, Some(&["P2a".to_string()]), Some("411722")).await.unwrap();
        assert_eq!(by_month[0].key, "2020-03");
        // A class under a program with sub-targets is refused.
        let err = training::create_class(
            &db,
            None,
            &NewClass {
                name: "x".into(),
                program_code: "P2".into(),
                occupation_code: "6-31-01-03".into(),
                level: None,
                kind: TrainingKind::Employment,
                county_code: "411722".into(),
                provider_id: provider,
                start_date: d("2020-03-02"),
                end_date: d("2020-03-20"),
                subsidised: true,
            },
        )
        .await
        .unwrap_err();
        assert!(matches!(err, StoreError::Invalid { ref field, .. } if field == "program_code"), "{err:?}");
    }
}

/// The small demo on one backend: its progress equals a recount, its ID numbers are valid, and
/// rows added after the bulk load get fresh ids. Returns (people, classes, completions).
/// Persons per program and year as the progress aggregate keeps them.
async fn persons_by_year(db: &Db) -> Vec<(String, String, i64)> {
    jineng_store::with_pool!(db, |p| sqlx::query_as(
        "SELECT program_code, substr(month, 1, 4), CAST(SUM(persons) AS BIGINT) FROM progress \
         GROUP BY program_code, substr(month, 1, 4) HAVING SUM(persons) > 0 ORDER BY 1, 2"
    )
    .fetch_all(p)
    .await
    .unwrap())
}

/// Distinct persons per program and year, counted from the completions.
async fn persons_recount(db: &Db) -> Vec<(String, String, i64)> {
    let year = match db {
        Db::Sqlite(_) => "substr(completed_on, 1, 4)",
        Db::Postgres(_) => "to_char(completed_on, 'YYYY')",
    };
    let sql = format!(
        "SELECT program_code, {year}, COUNT(DISTINCT person_id) FROM completion GROUP BY program_code, {year} ORDER BY 1, 2"
    );
    jineng_store::with_pool!(db, |p| sqlx::query_as(&sql).fetch_all(p).await.unwrap())
}

async fn small_demo(backend: &str) -> (usize, usize, usize) {
    let db = fresh(backend).await;
    let s = demo::generate(&db, demo::Scale::Small, 7, &|_, _| {}).await.unwrap();
    assert!(s.completions > 2_000 && s.completions < 5_000, "{}", s.completions);
    let agg = plan::counts(&db, GroupBy::Program, None, None).await.unwrap();
    assert_eq!(agg, plan::recount(&db).await.unwrap(), "{backend}");
    assert_eq!(persons_by_year(&db).await, persons_recount(&db).await, "{backend}: persons");
    // The people of each program over the whole plan, kept with each completion, equal a recount.
    let codes: Vec<String> = plan::programs(&db).await.unwrap().into_iter().map(|p| p.program_code).collect();
    let distinct: Vec<(String, i64)> = jineng_store::with_pool!(&db, |p| {
        sqlx::query_as(
        "SELECT program_code, COUNT(DISTINCT person_id) FROM completion GROUP BY program_code ORDER BY program_code"
    )
    .fetch_all(p)
    .await
    .unwrap()
    });
    assert!(!distinct.is_empty());
    assert_eq!(plan::persons(&db, &codes).await.unwrap(), distinct, "{backend}: people per program");
    // The certificate tally the triggers keep equals a recount.
    let month = if backend == "sqlite" { "substr(c.issued_on, 1, 7)" } else { "to_char(c.issued_on, 'YYYY-MM')" };
    let recount = format!(
        "SELECT p.county_code, {month}, COUNT(*) FROM certificate c JOIN person p ON p.person_id = c.person_id GROUP BY 1, 2 ORDER BY 1, 2"
    );
    let tally_sql = "SELECT county_code, issued_month, CAST(SUM(certificates) AS BIGINT) FROM certificate_tally \
                     GROUP BY 1, 2 HAVING SUM(certificates) > 0 ORDER BY 1, 2";
    type Counted = Vec<(String, String, i64)>;
    let (tally, recount): (Counted, Counted) = jineng_store::with_pool!(&db, |p| (
        sqlx::query_as(tally_sql).fetch_all(p).await.unwrap(),
        sqlx::query_as(&recount).fetch_all(p).await.unwrap()
    ));
    assert!(!tally.is_empty());
    assert_eq!(tally, recount, "{backend}: certificate tally");
    // The ID numbers generated are valid.
    let rows = people::search(&db, &Visibility::default(), "", 50, None).await.unwrap().rows;
    let total = people::count(&db, &Visibility::default()).await.unwrap().unwrap();
    assert_eq!(total as usize, s.people);
    assert!(rows.iter().all(|r| IdNumber::parse(&r.id_number).is_ok()));
    // New rows after a bulk load get fresh ids.
    people::create(&db, None, &person("411702", 999)).await.unwrap();
    (s.people, s.classes, s.completions)
}

both_backends! {
    async fn the_small_demo_is_deterministic_and_its_progress_equals_a_recount(backend: &'static str) {
        small_demo(backend).await;
    }
}

#[tokio::test]
async fn the_small_demo_is_the_same_city_on_both_backends() {
    let sizes = [small_demo("sqlite").await, small_demo("postgres").await];
    assert_eq!(sizes[0], sizes[1], "same seed, same city on both backends");
}

both_backends! {
    async fn setting_a_pending_target_keeps_who_and_when(backend: &'static str) {
        let db = fresh(backend).await;
        let admin = jineng_store::users::create(
            &db,
            None,
            "admin",
            "管理员",
            "password-123",
            jineng_domain::Role::CityAdmin,
            None,
        )
        .await
        .unwrap();
        plan::set_target(&db, admin, "P1", 30_000, "工信局意见 2019-08").await.unwrap();
        let changes = plan::target_changes(&db, "P1").await.unwrap();
        assert_eq!(changes.len(), 1);
        assert_eq!(
            (changes[0].old_target, changes[0].new_target, changes[0].changed_by.as_str()),
            (None, 30_000, "admin")
        );
        assert!(plan::set_target(&db, admin, "P1", -1, "x").await.is_err());
        assert!(plan::set_target(&db, admin, "P13", 5, "x").await.is_err());
        let audit = jineng_store::audit::for_entity(&db, "program", "P1").await.unwrap();
        assert_eq!(audit.len(), 1, "{backend}");
    }
}

/// The error a statement gives, as the store types it.
async fn refusal(db: &Db, sql: &str) -> String {
    let at = chrono::Utc::now();
    let r = jineng_store::with_pool!(db, |p| sqlx::query(sql).bind(at).execute(p).await.map(|_| ()));
    match r.map_err(StoreError::from) {
        Ok(()) => "accepted".to_owned(),
        Err(StoreError::Invalid { field, reason }) => format!("invalid {field} {} {reason}", reason.code),
        Err(StoreError::Conflict(c)) => format!("conflict {} {:?} {}", c.code, c.field, c.reason),
        Err(other) => format!("untyped: {other}"),
    }
}

both_backends! {
    async fn constraint_errors_are_typed_the_same_on_both_backends(backend: &'static str) {
        let db = fresh(backend).await;
        // A foreign key to nothing, a CHECK broken, a unique key taken: the same typed refusal on
        // both backends, with no table, column or constraint name in it.
        let fk = refusal(&db, "INSERT INTO fund_entry (fund_code, kind, amount_fen, balance_after_fen, note, at) \
                               VALUES ('no_such_fund', 'allocation', 1, 1, 'x', $1)").await;
        assert_eq!(fk, "invalid reference reference.unknown 引用的记录不存在 / refers to a record that does not exist", "{backend}");
        let check = refusal(&db, "INSERT INTO fund_entry (fund_code, kind, amount_fen, balance_after_fen, note, at) \
                                  VALUES ('employment_subsidy_fund', 'allocation', 0, 1, 'x', $1)").await;
        assert_eq!(check, "invalid value value.out_of_range 取值超出允许范围 / a value is outside its allowed range", "{backend}");
        people::create(&db, None, &person("411722", 7)).await.unwrap();
        let again = people::create(&db, None, &person("411722", 7)).await.unwrap_err();
        let StoreError::Conflict(c) = again else { panic!("{backend}: {again:?}") };
        assert_eq!((c.code, c.field), ("person.id_number_taken", Some("id_number")), "{backend}");
        for text in [&fk, &check, &c.reason.to_string()] {
            for leak in ["fund_entry", "fund_code", "amount_fen", "_key", "_fkey", "_check", "constraint", "FOREIGN", "CHECK"] {
                assert!(!text.contains(leak), "{backend}: {leak:?} in {text}");
            }
        }
    }
}

both_backends! {
    async fn people_are_searched_by_prefix_a_page_at_a_time_and_counted_without_reading_them(backend: &'static str) {
        let db = fresh(backend).await;
        let names = ["王芳", "王小红", "王伟", "汪洋", "张伟", "王一", "王芳芳"];
        let mut ids = Vec::new();
        for (i, name) in names.iter().enumerate() {
            let mut p = person(if i % 2 == 0 { "411722" } else { "411729" }, 300 + i as u16);
            p.name = (*name).to_owned();
            ids.push(people::create(&db, None, &p).await.unwrap());
        }
        let all = Visibility::default();
        // Every 王 by name order, two a page, each page after the last one shown.
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page = people::search(&db, &all, "王", 2, after).await.unwrap();
            assert!(page.rows.len() <= 2);
            seen.extend(page.rows.iter().map(|r| r.name.clone()));
            match page.next {
                Some(n) => after = Some(n),
                None => break,
            }
        }
        assert_eq!(seen, ["王一", "王伟", "王小红", "王芳", "王芳芳"], "{backend}: code-point order, no 汪");
        // By ID-number prefix: the county's six digits.
        let page = people::search(&db, &all, "411729", 10, None).await.unwrap();
        assert_eq!(page.rows.len(), 3, "{backend}");
        assert!(page.rows.windows(2).all(|w| w[0].id_number < w[1].id_number));
        // No search: by id, in pages.
        let first = people::search(&db, &all, "", 4, None).await.unwrap();
        assert_eq!(first.rows.iter().map(|r| r.person_id).collect::<Vec<_>>(), ids[..4].to_vec());
        let rest = people::search(&db, &all, "", 4, first.next).await.unwrap();
        assert_eq!(rest.rows.iter().map(|r| r.person_id).collect::<Vec<_>>(), ids[4..].to_vec());
        assert_eq!(rest.next, None);
        // The counts kept per county follow inserts and moves.
        let county = |c: &str| Visibility { county: Some(c.into()), ..Default::default() };
        assert_eq!(people::count(&db, &all).await.unwrap(), Some(7));
        assert_eq!(people::count(&db, &county("411722")).await.unwrap(), Some(4));
        jineng_store::with_pool!(&db, |p| sqlx::query("UPDATE person SET county_code = '411729' WHERE person_id = $1")
            .bind(ids[0])
            .execute(p)
            .await
            .unwrap()
            .rows_affected());
        assert_eq!(people::count(&db, &county("411722")).await.unwrap(), Some(3), "{backend}");
        assert_eq!(people::count(&db, &county("411729")).await.unwrap(), Some(4), "{backend}");
        assert_eq!(people::count(&db, &all).await.unwrap(), Some(7));
    }
}

both_backends! {
    async fn lists_are_read_a_page_at_a_time_by_keyset_without_gaps_or_repeats(backend: &'static str) {
        use jineng_store::claims::{self, ClaimFilter, ClaimScope};
        use jineng_store::notice::{self, NoticeQuery};
        let db = fresh(backend).await;
        let s = demo::generate(&db, demo::Scale::Small, 11, &|_, _| {}).await.unwrap();
        demo::walk_claims(&db, &s, d("2021-12-31")).await.unwrap();
        // Every claim, three at a time, newest first: the same as one read of them all.
        let all = claims::list(&db, &ClaimScope::default(), None, 1_000_000).await.unwrap();
        assert!(all.len() > 10, "{backend}: {}", all.len());
        let mut paged = Vec::new();
        let mut f = ClaimFilter { limit: 7, ..Default::default() };
        loop {
            let page = claims::page(&db, &ClaimScope::default(), &f).await.unwrap();
            paged.extend(page.rows.iter().map(|r| r.claim_id));
            match page.next {
                Some(n) => f.before = Some(n),
                None => break,
            }
        }
        assert_eq!(paged, all.iter().map(|r| r.claim_id).collect::<Vec<_>>(), "{backend}");
        // A county's claims by its index, the same as filtering them all.
        let county = all[0].county_code.clone();
        let scope = ClaimScope { county: Some(county.clone()), ..Default::default() };
        let mine = claims::list(&db, &scope, None, 1_000_000).await.unwrap();
        assert_eq!(mine.len(), all.iter().filter(|r| r.county_code == county).count());
        // The notice: put some on notice over a few days, then page through it.
        let n: u64 = jineng_store::with_pool!(&db, |p| sqlx::query(
            "UPDATE claim SET status = 'on_notice', notice_from = filed_on, notice_until = '2099-01-01' \
             WHERE claim_id IN (SELECT claim_id FROM claim ORDER BY claim_id LIMIT 11)"
        )
        .execute(p)
        .await
        .unwrap()
        .rows_affected());
        assert_eq!(n, 11);
        // The tally the triggers keep equals a recount, after the filing and the updates.
        let (tally, recount) = claim_tally_and_recount(&db).await;
        assert!(tally.iter().any(|t| t.2 == "on_notice"));
        assert_eq!(tally, recount, "{backend}: claim tally");
        let mut seen = Vec::new();
        let mut q = NoticeQuery { limit: 4, ..Default::default() };
        loop {
            let page = notice::notice(&db, d("2030-01-01"), &q).await.unwrap();
            seen.extend(page.rows.iter().map(|r| (r.notice_from, r.claim_id)));
            match page.next {
                Some(n) => q.after = Some(n),
                None => break,
            }
        }
        assert_eq!(seen.len(), 11, "{backend}: {seen:?}");
        let mut sorted = seen.clone();
        sorted.sort_by(|a, b| b.cmp(a));
        assert_eq!(seen, sorted, "{backend}: newest notice first, then the higher claim");
    }
}

both_backends! {
    async fn check_ins_of_any_year_are_kept_and_counted_and_on_postgres_sit_in_their_years_partition(backend: &'static str) {
        let db = fresh(backend).await;
        demo::generate(&db, demo::Scale::Small, 5, &|_, _| {}).await.unwrap();
        let (enrolment, class): (i64, i64) = jineng_store::with_pool!(&db, |p| sqlx::query_as(
            "SELECT enrolment_id, class_id FROM enrolment ORDER BY enrolment_id LIMIT 1"
        )
        .fetch_one(p)
        .await
        .unwrap());
        // A day of the plan, one of the partition made at start-up, and one no partition covers.
        let days = [d("2019-03-04"), d("2027-06-01"), d("2041-05-01")];
        for day in days {
            jineng_store::with_pool!(&db, |p| sqlx::query(
                "INSERT INTO attendance (enrolment_id, day, checked_at, method) VALUES ($1, $2, $3, 'manual')"
            )
            .bind(enrolment)
            .bind(day)
            .bind(day.and_hms_opt(8, 30, 0).unwrap().and_utc())
            .execute(p)
            .await
            .map(|_| ())
            .unwrap());
        }
        // The same day again is refused, whichever partition holds it.
        let twice = jineng_store::with_pool!(&db, |p| sqlx::query(
            "INSERT INTO attendance (enrolment_id, day, checked_at, method) VALUES ($1, $2, $3, 'manual')"
        )
        .bind(enrolment)
        .bind(days[2])
        .bind(days[2].and_hms_opt(9, 0, 0).unwrap().and_utc())
        .execute(p)
        .await
        .map(|_| ()));
        assert!(twice.is_err(), "{backend}: a second check-in on one day must be refused");
        let rows = jineng_store::attendance::summary(&db, class, days[2]).await.unwrap();
        let mine = rows.iter().find(|r| r.enrolment_id == enrolment).unwrap();
        assert_eq!((mine.days_attended, mine.last_day, mine.checked_in), (3, Some(days[2]), true), "{backend}");
        if backend == "postgres" {
            let Db::Postgres(p) = &db else { unreachable!() };
            let parts: Vec<String> = sqlx::query_scalar(
                "SELECT tableoid::regclass::text FROM attendance WHERE enrolment_id = $1 ORDER BY day",
            )
            .bind(enrolment)
            .fetch_all(p)
            .await
            .unwrap();
            let names: Vec<&str> = parts.iter().map(|s| s.rsplit('.').next().unwrap_or(s)).collect();
            assert_eq!(names, ["attendance_2019", "attendance_2027", "attendance_other"]);
        }
    }
}

/// Every provider's trainees as a recount from the enrolments, and as the kept
/// `provider_person` holds them: (provider, person, enrolments).
async fn trainees(db: &Db) -> (Vec<(i64, i64, i64)>, Vec<(i64, i64, i64)>) {
    jineng_store::with_pool!(db, |p| {
        (
        sqlx::query_as(
            "SELECT k.provider_id, e.person_id, COUNT(*) FROM enrolment e JOIN training_class k ON k.class_id = e.class_id \
             GROUP BY k.provider_id, e.person_id ORDER BY 1, 2"
        )
        .fetch_all(p)
        .await
        .unwrap(),
        sqlx::query_as("SELECT provider_id, person_id, enrolments FROM provider_person ORDER BY 1, 2")
            .fetch_all(p)
            .await
            .unwrap()
    )
    })
}

both_backends! {
    async fn a_providers_trainees_are_kept_through_enrolments_added_removed_and_classes_handed_over(backend: &'static str) {
        let db = fresh(backend).await;
        demo::generate(&db, demo::Scale::Small, 3, &|_, _| {}).await.unwrap();
        let (recount, kept) = trainees(&db).await;
        assert!(!recount.is_empty());
        assert_eq!(kept, recount, "{backend}: after the bulk load");
        // Two classes of two different providers.
        let classes: Vec<(i64, i64)> = jineng_store::with_pool!(&db, |p| sqlx::query_as(
            "SELECT MIN(class_id), provider_id FROM training_class GROUP BY provider_id ORDER BY provider_id LIMIT 2"
        )
        .fetch_all(p)
        .await
        .unwrap());
        let [(class_a, provider_a), (class_b, provider_b)] = classes[..] else { panic!("{classes:?}") };
        let someone = people::create(&db, None, &person("411702", 998)).await.unwrap();
        let sees = |provider: i64| {
            let db = db.clone();
            async move {
                let vis = Visibility { provider_id: Some(provider), ..Visibility::default() };
                let mut all = Vec::new();
                let mut after = None;
                loop {
                    let page = people::search(&db, &vis, "", 7, after).await.unwrap();
                    all.extend(page.rows.iter().map(|r| r.person_id));
                    match page.next {
                        Some(n) => after = Some(n),
                        None => break all,
                    }
                }
            }
        };
        assert!(!sees(provider_a).await.contains(&someone));
        let exec = |sql: &'static str, a: i64, b: i64| {
            let db = db.clone();
            async move {
                jineng_store::with_pool!(&db, |p| sqlx::query(sql).bind(a).bind(b).execute(p).await.map(|_| ()).unwrap())
            }
        };
        // Enrolled in A's class: A sees them, B does not.
        exec("INSERT INTO enrolment (class_id, person_id, enrolled_on) VALUES ($1, $2, '2020-03-01')", class_a, someone).await;
        assert!(sees(provider_a).await.contains(&someone), "{backend}");
        assert!(!sees(provider_b).await.contains(&someone), "{backend}");
        // And in B's too, then A's class handed to B: B holds them twice, A not at all.
        exec("INSERT INTO enrolment (class_id, person_id, enrolled_on) VALUES ($1, $2, '2020-03-01')", class_b, someone).await;
        exec("UPDATE training_class SET provider_id = $1 WHERE class_id = $2", provider_b, class_a).await;
        let (recount, kept) = trainees(&db).await;
        assert_eq!(kept, recount, "{backend}: after a class changed hands");
        assert!(kept.contains(&(provider_b, someone, 2)), "{backend}");
        assert!(!sees(provider_a).await.contains(&someone), "{backend}");
        // One enrolment removed: B still sees them; both removed: nobody does.
        exec("DELETE FROM enrolment WHERE class_id = $1 AND person_id = $2", class_b, someone).await;
        assert!(sees(provider_b).await.contains(&someone), "{backend}");
        exec("DELETE FROM enrolment WHERE class_id = $1 AND person_id = $2", class_a, someone).await;
        assert!(!sees(provider_b).await.contains(&someone), "{backend}");
        let (recount, kept) = trainees(&db).await;
        assert_eq!(kept, recount, "{backend}: after the enrolments were removed");
        // The list a provider sees is exactly its trainees, in person order.
        let mut expected: Vec<i64> = recount.iter().filter(|r| r.0 == provider_b).map(|r| r.1).collect();
        expected.sort_unstable();
        assert_eq!(sees(provider_b).await, expected, "{backend}");
    }
}

both_backends! {
    async fn claims_moved_many_at_a_time_each_keep_their_events_and_audit_entries_and_the_chain_holds(backend: &'static str) {
        let db = fresh(backend).await;
        let s = demo::generate(&db, demo::Scale::Small, 5, &|_, _| {}).await.unwrap();
        let before = jineng_store::audit::head(&db).await.unwrap().0;
        // The walk approves and publishes, batches and pays claims, set by set.
        demo::walk_claims(&db, &s, d("2021-12-31")).await.unwrap();
        let verdict = jineng_store::audit::verify(&db).await.unwrap();
        assert!(verdict.first.is_none() && verdict.breaks == 0, "{backend}: {:?}", verdict.first);
        // Each paid claim: approved, published, included in a batch and paid, in that order,
        // each move an event and an audit entry of that claim.
        type Moves = Vec<(i64, String)>;
        let (paid, events, audited): (Vec<i64>, Moves, Moves) = jineng_store::with_pool!(&db, |p| (
            sqlx::query_scalar("SELECT claim_id FROM claim WHERE status = 'paid' ORDER BY claim_id").fetch_all(p).await.unwrap(),
            sqlx::query_as("SELECT claim_id, action FROM claim_event WHERE claim_id IN (SELECT claim_id FROM claim WHERE status = 'paid') ORDER BY claim_id, claim_event_id")
                .fetch_all(p)
                .await
                .unwrap(),
            sqlx::query_as(
                "SELECT CAST(entity_id AS BIGINT), action FROM audit_log WHERE entity = 'claim' AND seq > $1 \
                 AND entity_id IN (SELECT CAST(claim_id AS TEXT) FROM claim WHERE status = 'paid') ORDER BY CAST(entity_id AS BIGINT), seq"
            )
            .bind(before)
            .fetch_all(p)
            .await
            .unwrap()
        ));
        assert!(paid.len() >= 2, "{backend}: {} paid", paid.len());
        let want: Moves = paid
            .iter()
            .flat_map(|c| ["approve", "publish", "include", "pay"].map(|a| (*c, a.to_owned())))
            .collect();
        assert_eq!(events, want, "{backend}: events");
        assert_eq!(audited, want, "{backend}: audit entries");
    }
}

/// The province's paid history is written in bulk (PostgreSQL only: the province runs on it,
/// and `pay_before` pays nothing on SQLite): it must leave what the live workflow leaves.
#[tokio::test]
async fn a_history_paid_in_bulk_leaves_what_the_workflow_leaves() {
    use jineng_store::demo::history;
    let db = fresh("postgres").await;
    let s = demo::generate(&db, demo::Scale::Small, 11, &|_, _| {}).await.unwrap();
    jineng_store::claims::prepare::for_certificates(&db, None, &s.certificates).await.unwrap();
    let user = |role: jineng_domain::Role| {
        let l = s.logins.iter().find(|l| l.role == role).unwrap();
        (l.username.clone(), l.password.clone())
    };
    let mut ids = Vec::new();
    for role in [jineng_domain::Role::CityAdmin, jineng_domain::Role::Finance] {
        let (u, p) = user(role);
        ids.push(jineng_store::users::authenticate(&db, &u, &p).await.unwrap().unwrap().user_id);
    }
    let (admin, finance) = (ids[0], ids[1]);
    let before = d("2021-12-01");
    let due_sql = "SELECT COUNT(*) FROM claim WHERE status = 'decided' AND outcome IN ('approved', 'reduced') \
                   AND amount_fen > 0 AND filed_on < $1";
    let due: i64 =
        jineng_store::with_pool!(&db, |p| sqlx::query_scalar(due_sql).bind(before).fetch_one(p).await.unwrap());
    let later: i64 = jineng_store::with_pool!(&db, |p| sqlx::query_scalar(
        "SELECT COUNT(*) FROM claim WHERE status = 'decided' AND filed_on >= $1"
    )
    .bind(before)
    .fetch_one(p)
    .await
    .unwrap());
    assert!(due > 10 && later > 0, "the demo files claims on both sides of the day: {due}, {later}");
    let funds_before: i64 =
        jineng_store::with_pool!(&db, |p| sqlx::query_scalar("SELECT CAST(SUM(balance_fen) AS BIGINT) FROM fund")
            .fetch_one(p)
            .await
            .unwrap());
    let h = history::pay_before(&db, admin, finance, before, d("2022-03-01"), &|_, _| {}).await.unwrap();
    assert_eq!(h.paid as i64, due, "every claim due is paid: {h:?}");
    assert_eq!(h.unpaid, 0);
    assert!(h.batches >= 2, "a batch per fund and month: {h:?}");
    // Nothing due is left, the later claims await review.
    let left: i64 =
        jineng_store::with_pool!(&db, |p| sqlx::query_scalar(due_sql).bind(before).fetch_one(p).await.unwrap());
    assert_eq!(left, 0);
    let still: i64 = jineng_store::with_pool!(&db, |p| sqlx::query_scalar(
        "SELECT COUNT(*) FROM claim WHERE status = 'decided' AND filed_on >= $1"
    )
    .bind(before)
    .fetch_one(p)
    .await
    .unwrap());
    assert_eq!(still, later);
    // Each paid claim: four events in the workflow's order and days, one paid payment of its
    // amount in an approved batch, paid the day its batch was approved, after its notice ended.
    type Row = (i64, String, Option<i64>, i64, String, bool, bool);
    let rows: Vec<Row> = jineng_store::with_pool!(&db, |p| {
        sqlx::query_as(
        "SELECT c.claim_id, \
           (SELECT string_agg(e.from_status || '>' || e.to_status, ',' ORDER BY e.claim_event_id) FROM claim_event e WHERE e.claim_id = c.claim_id), \
           (SELECT CAST(SUM(y.amount_fen) AS BIGINT) FROM payment y WHERE y.claim_id = c.claim_id AND y.status = 'paid'), c.amount_fen, \
           (SELECT b.status FROM payment y JOIN payment_batch b ON b.batch_id = y.batch_id WHERE y.claim_id = c.claim_id), \
           (SELECT bool_and(e.at > prev.at) FROM claim_event e JOIN claim_event prev ON prev.claim_id = e.claim_id \
              AND prev.claim_event_id = (SELECT MAX(x.claim_event_id) FROM claim_event x WHERE x.claim_id = e.claim_id AND x.claim_event_id < e.claim_event_id) \
              WHERE e.claim_id = c.claim_id) \
             AND (SELECT e.at::date > c.notice_until FROM claim_event e WHERE e.claim_id = c.claim_id AND e.action = 'include') \
             AND c.created_at::date = c.filed_on AND c.notice_until = c.notice_from + 6, \
           (SELECT e.at = b.approved_at FROM claim_event e, payment y JOIN payment_batch b ON b.batch_id = y.batch_id \
              WHERE e.claim_id = c.claim_id AND e.action = 'pay' AND y.claim_id = c.claim_id) \
         FROM claim c WHERE c.status = 'paid' ORDER BY c.claim_id"
    )
    .fetch_all(p)
    .await
    .unwrap()
    });
    assert_eq!(rows.len() as i64, due);
    for (id, events, paid, amount, batch, in_order, on_the_day) in &rows {
        assert_eq!(events, "decided>approved,approved>on_notice,on_notice>in_batch,in_batch>paid", "claim {id}");
        assert_eq!(*paid, Some(*amount), "claim {id}");
        assert_eq!(batch, "approved", "claim {id}");
        assert!(in_order, "claim {id}: its days in order, after its filing and notice");
        assert!(on_the_day, "claim {id}: paid when its batch was approved");
    }
    // The money: the funds lost what was paid, each batch's fund entry says so, and batches
    // add up to their payments.
    let funds_after: i64 =
        jineng_store::with_pool!(&db, |p| sqlx::query_scalar("SELECT CAST(SUM(balance_fen) AS BIGINT) FROM fund")
            .fetch_one(p)
            .await
            .unwrap());
    assert_eq!(funds_before - funds_after, h.paid_fen);
    let (entries, batch_totals, payments): (i64, i64, i64) = jineng_store::with_pool!(&db, |p| {
        sqlx::query_as(
        "SELECT (SELECT CAST(SUM(amount_fen) AS BIGINT) FROM fund_entry WHERE kind = 'payment'), \
                (SELECT CAST(SUM(total_fen) AS BIGINT) FROM payment_batch), (SELECT CAST(SUM(amount_fen) AS BIGINT) FROM payment)"
    )
    .fetch_one(p)
    .await
    .unwrap()
    });
    assert_eq!((entries, batch_totals, payments), (h.paid_fen, h.paid_fen, h.paid_fen));
    // The kept tally equals a recount, and the audit chain holds, with the four entries of each
    // claim and the two of each batch.
    let (tally, recount) = claim_tally_and_recount(&db).await;
    assert_eq!(tally, recount);
    // The public disclosure's tally of money paid (kept by the trigger on payments, through COPY
    // too) equals a recount.
    let (paid, recount) = paid_tally_and_recount(&db).await;
    assert_eq!(paid.iter().map(|r| r.3).sum::<i64>(), due);
    assert_eq!(paid, recount);
    let v = jineng_store::audit::verify(&db).await.unwrap();
    assert!(v.first.is_none() && v.breaks == 0, "{v:?}");
    let audited: Vec<(String, i64)> = jineng_store::with_pool!(&db, |p| {
        sqlx::query_as(
        "SELECT action, COUNT(*) FROM audit_log WHERE (entity = 'claim' AND action IN ('approve', 'publish', 'include', 'pay')) \
         OR entity = 'payment_batch' GROUP BY action ORDER BY action"
    )
    .fetch_all(p)
    .await
    .unwrap()
    });
    let b = h.batches as i64;
    assert_eq!(
        audited,
        vec![
            ("approve".to_owned(), due + b),
            ("create".to_owned(), b),
            ("include".to_owned(), due),
            ("pay".to_owned(), due),
            ("publish".to_owned(), due)
        ]
    );
    // Once more pays nothing: nothing is due.
    let again = history::pay_before(&db, admin, finance, before, d("2022-03-01"), &|_, _| {}).await.unwrap();
    assert_eq!(again.paid, 0);
}

both_backends! {
    async fn the_disclosures_tallies_equal_a_recount_after_payments_returns_and_reissues(backend: &'static str) {
        use jineng_store::payments;
        let db = fresh(backend).await;
        let s = demo::generate(&db, demo::Scale::Small, 11, &|_, _| {}).await.unwrap();
        demo::walk_claims(&db, &s, d("2021-12-31")).await.unwrap();
        let l = s.logins.iter().find(|l| l.role == jineng_domain::Role::Finance).unwrap();
        let finance = jineng_store::users::authenticate(&db, &l.username, &l.password).await.unwrap().unwrap().user_id;
        // The completions kept per class equal a recount after the demo's bulk load.
        type PerClass = Vec<(i64, i64)>;
        let (kept, recount): (PerClass, PerClass) = jineng_store::with_pool!(&db, |p| (
            sqlx::query_as("SELECT class_id, completions FROM class_completions WHERE completions <> 0 ORDER BY class_id")
                .fetch_all(p)
                .await
                .unwrap(),
            sqlx::query_as("SELECT class_id, COUNT(*) FROM completion GROUP BY class_id ORDER BY class_id")
                .fetch_all(p)
                .await
                .unwrap()
        ));
        assert!(kept.len() > 10, "{backend}");
        assert_eq!(kept, recount, "{backend}: completions per class");
        let (tally, recount) = paid_tally_and_recount(&db).await;
        assert!(!tally.is_empty(), "{backend}: the demo pays");
        assert!(tally.iter().any(|t| !t.1.is_empty()), "{backend}: training claims are counted under their class's program");
        assert_eq!(tally, recount, "{backend}: after the demo's batches");
        let paid: i64 = tally.iter().map(|t| t.3).sum();
        // A payment the bank returns leaves the tally; paid again, it comes back.
        let (payment_id, fund): (i64, String) = jineng_store::with_pool!(&db, |p| sqlx::query_as(
            "SELECT y.payment_id, b.fund_code FROM payment y JOIN payment_batch b ON b.batch_id = y.batch_id \
             WHERE y.status = 'paid' ORDER BY y.payment_id LIMIT 1"
        )
        .fetch_one(p)
        .await
        .unwrap());
        payments::fail_payment(&db, finance, payment_id, "账户已销户 account closed").await.unwrap();
        let (tally, recount) = paid_tally_and_recount(&db).await;
        assert_eq!(tally, recount, "{backend}: after a return");
        assert_eq!(tally.iter().map(|t| t.3).sum::<i64>(), paid - 1);
        let batch = payments::create_batch(&db, finance, &fund, d("2022-01-05")).await.unwrap().expect("the return is due again");
        payments::approve_batch(&db, finance, batch.batch_id).await.unwrap();
        let (tally, recount) = paid_tally_and_recount(&db).await;
        assert_eq!(tally, recount, "{backend}: after the re-issue");
        assert_eq!(tally.iter().map(|t| t.3).sum::<i64>(), paid);
        assert!(tally.iter().any(|t| t.0 == batch.batch_id), "{backend}: under its new batch");
        // The public disclosure reads the tally: a cell for each month, fund, program and
        // county paid, the re-issued payment's month among them.
        let shown = jineng_store::disclosure::disclosure(&db).await.unwrap();
        let cells: std::collections::BTreeSet<(String, Option<String>, String)> =
            shown.money.iter().map(|c| (c.month.clone(), c.program_code.clone(), c.county_code.clone())).collect();
        assert_eq!(cells.len(), shown.money.len(), "{backend}: one cell each");
        let programs: std::collections::BTreeSet<Option<String>> =
            tally.iter().map(|t| (!t.1.is_empty()).then(|| t.1.clone())).collect();
        assert_eq!(
            programs,
            shown.money.iter().map(|c| c.program_code.clone()).collect(),
            "{backend}: the programs paid, none for a claim of no class"
        );
        let month = (chrono::Utc::now() + chrono::Duration::hours(8)).format("%Y-%m").to_string();
        assert!(shown.money.iter().any(|c| c.month == month), "{backend}: paid this month (China time)");
    }
}
