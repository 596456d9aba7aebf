//! The audit log's hash chain: concurrent writers leave one verifiable chain; altering,
//! removing or inserting entries behind the application's back is found by `verify`; the table
//! refuses UPDATE and DELETE; personal data is masked as it is written. On both backends.

use jineng_store::audit::{self, Break};
use jineng_store::testing::{both_backends, dispose, fresh};
use jineng_store::{with_pool, Db};

/// Runs SQL as the table's owner (tests only: this is what an intruder with database access
/// would do).
async fn sql(db: &Db, q: &str) -> Result<(), sqlx::Error> {
    with_pool!(db, |p| sqlx::query(q).execute(p).await.map(|_| ()))
}

/// Lifts the append-only triggers, as an intruder who owns the table could.
async fn lift_triggers(db: &Db) {
    match db {
        Db::Sqlite(_) => {
            sql(db, "DROP TRIGGER audit_log_append_only").await.unwrap();
            sql(db, "DROP TRIGGER audit_log_no_delete").await.unwrap();
        }
        Db::Postgres(_) => sql(db, "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only").await.unwrap(),
    }
}

/// A database with `n` more entries; returns the head seq.
async fn with_entries(backend: &str, n: i64) -> (Db, i64) {
    let db = fresh(backend).await;
    for i in 0..n {
        audit::log(&db, Some(1), "update", "claim", &i.to_string(), &serde_json::json!({"n": i})).await.unwrap();
    }
    let v = audit::verify(&db).await.unwrap();
    assert!(v.first.is_none(), "{backend}: a fresh chain is intact: {:?}", v.first);
    (db, v.head_seq)
}

async fn seq_of(db: &Db, audit_id_of: &str) -> i64 {
    with_pool!(db, |p| sqlx::query_scalar::<_, i64>(audit_id_of).fetch_one(p).await.unwrap())
}

both_backends! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn thirty_two_writers_at_once_leave_one_intact_chain(backend: &'static str) {
        // A SQLite file with a pool, as served, so that writers really contend.
        let db = fresh(if backend == "sqlite" { "sqlite-file" } else { backend }).await;
        let before = audit::verify(&db).await.unwrap().head_seq;
        let mut tasks = Vec::new();
        for w in 0..32 {
            let db = db.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0..10 {
                    audit::log(&db, Some(1), "update", "claim", &format!("{w}-{i}"), &serde_json::json!({"w": w, "i": i}))
                        .await
                        .unwrap();
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let v = audit::verify(&db).await.unwrap();
        assert!(v.first.is_none(), "{backend}: {:?}", v.first);
        assert_eq!(v.head_seq, before + 320, "{backend}: every entry has its own seq");
        assert_eq!(v.rows as i64, v.head_seq, "{backend}: no gaps");
        dispose(db).await;
    }
}

both_backends! {
    async fn the_log_refuses_update_and_delete(backend: &'static str) {
        let (db, head) = with_entries(backend, 3).await;
        let upd = sql(&db, &format!("UPDATE audit_log SET detail = '{{}}' WHERE seq = {head}")).await;
        assert!(upd.is_err(), "{backend}: UPDATE refused");
        let del = sql(&db, &format!("DELETE FROM audit_log WHERE seq = {head}")).await;
        assert!(del.is_err(), "{backend}: DELETE refused");
        if backend == "postgres" {
            assert!(sql(&db, "TRUNCATE audit_log").await.is_err(), "TRUNCATE refused");
        }
        assert!(audit::verify(&db).await.unwrap().first.is_none(), "{backend}");
        dispose(db).await;
    }
}

both_backends! {
    async fn a_changed_field_is_found_at_its_entry(backend: &'static str) {
        let (db, head) = with_entries(backend, 10).await;
        lift_triggers(&db).await;
        let target = head - 5;
        sql(&db, &format!("UPDATE audit_log SET detail = '{{\"n\":99}}' WHERE seq = {target}")).await.unwrap();
        let v = audit::verify(&db).await.unwrap();
        let p = v.first.expect("found");
        assert_eq!((p.kind, p.seq), (Break::Altered, Some(target)), "{backend}: {}", p.message);
        assert_eq!(v.breaks, 1, "{backend}: the entries after it still link");
        // Another field: who did it.
        sql(&db, &format!("UPDATE audit_log SET user_id = 2 WHERE seq = {}", target - 2)).await.unwrap();
        let p = audit::verify(&db).await.unwrap().first.expect("found");
        assert_eq!((p.kind, p.seq), (Break::Altered, Some(target - 2)), "{backend}: the first of two");
        dispose(db).await;
    }
}

both_backends! {
    async fn a_removed_entry_is_found_where_the_gap_is(backend: &'static str) {
        let (db, head) = with_entries(backend, 10).await;
        lift_triggers(&db).await;
        sql(&db, &format!("DELETE FROM audit_log WHERE seq = {}", head - 3)).await.unwrap();
        let p = audit::verify(&db).await.unwrap().first.expect("found");
        assert_eq!((p.kind, p.seq), (Break::Removed, Some(head - 3)), "{backend}: {}", p.message);
        dispose(db).await;
    }
}

both_backends! {
    async fn removing_the_newest_entries_leaves_the_head_ahead(backend: &'static str) {
        let (db, head) = with_entries(backend, 5).await;
        lift_triggers(&db).await;
        sql(&db, &format!("DELETE FROM audit_log WHERE seq >= {}", head - 1)).await.unwrap();
        let p = audit::verify(&db).await.unwrap().first.expect("found");
        assert_eq!((p.kind, p.seq), (Break::Removed, Some(head - 1)), "{backend}: {}", p.message);
        dispose(db).await;
    }
}

both_backends! {
    async fn an_inserted_entry_is_found(backend: &'static str) {
        let (db, head) = with_entries(backend, 5).await;
        // Outside the chain (no seq): the triggers do not stop an INSERT, verify does.
        sql(&db, "INSERT INTO audit_log (at, user_id, action, entity, entity_id, detail) \
                  VALUES ('2026-01-01 00:00:00+00:00', 1, 'approve', 'claim', '7', '{}')").await.unwrap();
        let p = audit::verify(&db).await.unwrap().first.expect("found");
        assert_eq!(p.kind, Break::Inserted, "{backend}: {}", p.message);
        let outside = seq_of(&db, "SELECT MAX(audit_id) FROM audit_log").await;
        assert_eq!(p.audit_id, Some(outside), "{backend}");
        dispose(db).await;

        // Inside the chain's numbering, after the head, with its link copied from the last entry.
        let (db, head2) = with_entries(backend, 5).await;
        assert_eq!(head, head2);
        let last: String = with_pool!(&db, |p| sqlx::query_scalar(&format!("SELECT hash FROM audit_log WHERE seq = {head}")).fetch_one(p).await.unwrap());
        sql(&db, &format!("INSERT INTO audit_log (at, user_id, action, entity, entity_id, detail, seq, prev_hash, hash) \
                  VALUES ('2026-01-01 00:00:00+00:00', 1, 'approve', 'claim', '7', '{{}}', {}, '{last}', '{}')", head + 1, "ab".repeat(32))).await.unwrap();
        let p = audit::verify(&db).await.unwrap().first.expect("found");
        assert_eq!((p.kind, p.seq), (Break::Inserted, Some(head + 1)), "{backend}: {}", p.message);
        dispose(db).await;
    }
}

both_backends! {
    async fn entries_from_before_the_chain_are_sealed_once_in_order(backend: &'static str) {
        let (db, head) = with_entries(backend, 2).await;
        // Rows as the old code wrote them: no seq, no hash, no address.
        lift_triggers(&db).await;
        for i in 0..3 {
            sql(&db, &format!("INSERT INTO audit_log (at, user_id, action, entity, entity_id, detail) \
                               VALUES ('2020-01-0{} 00:00:00+00:00', NULL, 'create', 'person', '{i}', '{{}}')", i + 1)).await.unwrap();
        }
        let last = seq_of(&db, "SELECT MAX(audit_id) FROM audit_log").await;
        sql(&db, &format!("UPDATE audit_head SET legacy_until = {last}")).await.unwrap();
        assert_eq!(audit::seal_legacy(&db).await.unwrap(), 3, "{backend}");
        let v = audit::verify(&db).await.unwrap();
        assert!(v.first.is_none(), "{backend}: {:?}", v.first);
        assert_eq!(v.head_seq, head + 3);
        // Once: a row added later without a seq is not sealed.
        sql(&db, "INSERT INTO audit_log (at, user_id, action, entity, entity_id, detail) \
                  VALUES ('2020-02-01 00:00:00+00:00', NULL, 'create', 'person', '9', '{}')").await.unwrap();
        assert_eq!(audit::seal_legacy(&db).await.unwrap(), 0, "{backend}");
        assert_eq!(audit::verify(&db).await.unwrap().first.map(|p| p.kind), Some(Break::Inserted));
        dispose(db).await;
    }
}

both_backends! {
    async fn phones_and_id_numbers_are_masked_as_they_are_written(backend: &'static str) {
        let db = fresh(backend).await;
        audit::log(&db, None, "sign_in_refused", "app_user", "411722198802290118",
            &serde_json::json!({"username": "411722198802290118", "after": {"phone": "13812345678", "contact_phone": "0396-2345678", "note": "call 13912345678"},
                                "credit_code": "914117000000000000"})).await.unwrap();
        let (entity_id, detail): (String, String) = with_pool!(&db, |p| sqlx::query_as(
            "SELECT entity_id, detail FROM audit_log WHERE action = 'sign_in_refused'").fetch_one(p).await.unwrap());
        assert_eq!(entity_id, "4117**********0118", "{backend}");
        assert!(!detail.contains("13812345678") && detail.contains("138****5678"), "{backend}: {detail}");
        assert!(!detail.contains("2345678\"") && !detail.contains("198802290118"), "{backend}: {detail}");
        assert!(detail.contains("call 139****5678"), "{backend}: a phone inside text: {detail}");
        assert!(detail.contains("914117000000000000"), "{backend}: a credit code is not personal: {detail}");
        dispose(db).await;
    }
}

#[test]
fn a_link_hash_covers_every_field() {
    let base = audit::Link {
        seq: 7,
        at_micros: 1_700_000_000_000_000,
        user_id: Some(3),
        address: Some("10.0.0.1"),
        action: "approve",
        entity: "claim",
        entity_id: "12",
        detail: "{}",
        prev_hash: audit::GENESIS,
    };
    let h = audit::link_hash(&base);
    let changed = [
        audit::Link { seq: 8, ..base.clone() },
        audit::Link { at_micros: base.at_micros + 1, ..base.clone() },
        audit::Link { user_id: None, ..base.clone() },
        audit::Link { address: None, ..base.clone() },
        audit::Link { action: "reject", ..base.clone() },
        audit::Link { entity: "claims", ..base.clone() },
        audit::Link { entity_id: "121", ..base.clone() },
        audit::Link { detail: "{ }", ..base.clone() },
        // Moving a byte from one field to the next is another entry.
        audit::Link { entity: "clai", entity_id: "m12", ..base.clone() },
    ];
    for c in changed {
        assert_ne!(audit::link_hash(&c), h, "{c:?}");
    }
}

both_backends! {
    async fn the_checks_run_on_their_schedule_inside_the_server(backend: &'static str) {
        let db = fresh(backend).await;
        let task = jineng_store::checks::spawn_scheduled(
            db.clone(),
            std::time::Duration::from_millis(10),
            std::time::Duration::from_millis(100),
        );
        let mut runs = 0i64;
        for _ in 0..100 {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            runs = with_pool!(&db, |p| sqlx::query_scalar(
                "SELECT COUNT(*) FROM audit_log WHERE action = 'run_checks' AND user_id IS NULL"
            )
            .fetch_one(p)
            .await
            .unwrap());
            if runs >= 2 {
                break;
            }
        }
        task.abort();
        assert!(runs >= 2, "{backend}: the schedule ran the checks {runs} times, by the system");
        dispose(db).await;
    }
}
