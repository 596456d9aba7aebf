//! The `jineng` command line: `adjudicate` and `policy test` as a user runs them.

use std::io::Write;
use std::process::{Command, Stdio};

fn jineng() -> Command {
    Command::new(env!("CARGO_BIN_EXE_jineng"))
}

const EXAMPLE: &str = include_str!("../policy/cases/contract-example-yearly-cap-and-on-the-job.json");

#[test]
fn adjudicate_prints_decisions_with_clauses_reasons_and_parameters() {
    let dir = std::env::temp_dir().join(format!("jineng-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("case.json");
    std::fs::write(&file, EXAMPLE).unwrap();
    let out = jineng().arg("adjudicate").arg(&file).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ds = v["decisions"].as_array().unwrap();
    assert_eq!(ds.len(), 5);
    assert_eq!(ds[0]["claim"], "k1");
    assert_eq!(ds[0]["payee"]["provider"], "52411702MA3X00010J");
    assert!(ds[0]["clauses"].as_array().unwrap().contains(&"S12".into()));
    let k4 = &ds[3];
    assert_eq!((k4["outcome"].as_str(), k4["amount_fen"].as_i64()), (Some("rejected"), Some(0)));
    assert_eq!(k4["reasons"][0]["code"], "S7.yearly_cap");
    assert!(!k4["reasons"][0]["zh"].as_str().unwrap().is_empty());
    let p = ds[4]["parameters"].as_array().unwrap();
    let rate = p.iter().find(|x| x["key"] == "on_the_job_fen_per_month").unwrap();
    assert_eq!((rate["value"].as_i64(), rate["effective_from"].as_str()), (Some(20_000), Some("2019-01-01")));
    assert!(rate["source"].as_str().unwrap().contains("S5"));
    let overridden = ds[0]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["key"] == "training_subsidy_fen.level5")
        .unwrap()
        .clone();
    assert!(overridden["effective_from"].is_null(), "a per-case override has no effective date");
}

#[test]
fn bad_input_exits_2_with_the_json_path_and_decides_nothing() {
    let mut bad: serde_json::Value = serde_json::from_str(EXAMPLE).unwrap();
    bad["people"][1]["id_number"] = "41172119881102035Y".into();
    let mut child = jineng()
        .args(["adjudicate", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(bad.to_string().as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "nothing is decided");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("people[1].id_number"), "{err}");
    let mut child = jineng()
        .args(["adjudicate", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"{ not json").unwrap();
    assert_eq!(child.wait_with_output().unwrap().status.code(), Some(2));
}

#[test]
fn policy_test_prints_one_line_per_case_and_a_closing_count() {
    let out =
        jineng().args(["policy", "test", "policy/cases"]).current_dir(env!("CARGO_MANIFEST_DIR")).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let last = text.lines().last().unwrap();
    assert!(last.ends_with(" failed") && last.contains(" passed, "), "{last}");
    let passed: usize = last.split(' ').next().unwrap().parse().unwrap();
    assert!(passed >= 1);
    // A failing expectation is reported and exits 1.
    let dir = std::env::temp_dir().join(format!("jineng-cli-fail-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(EXAMPLE).unwrap();
    v["expect"][0]["amount_fen"] = 1.into();
    std::fs::write(dir.join("wrong.json"), v.to_string()).unwrap();
    let out = jineng().args(["policy", "test"]).arg(&dir).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("FAIL")
            && text.contains("amount_fen expected 1, got 100000")
            && text.trim_end().ends_with("0 passed, 1 failed"),
        "{text}"
    );
}

#[test]
fn a_backup_restores_the_database_as_it_was_when_taken() {
    let dir = std::env::temp_dir().join(format!("jineng-backup-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = format!("sqlite:{}", dir.join("jineng.db").display());
    let backup = dir.join("backup.db");
    let user = |name: &str| {
        jineng()
            .args(["user", "--database", &db, name, "auditor"])
            .env("JINENG_NEW_PASSWORD", "correct horse battery")
            .output()
            .unwrap()
    };
    assert!(user("alice").status.success());
    let out = jineng().args(["backup", "--database", &db]).arg(&backup).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // A backup never overwrites a file.
    assert!(!jineng().args(["backup", "--database", &db]).arg(&backup).output().unwrap().status.success());
    assert!(user("bob").status.success());
    // Not a backup: refused, the database untouched.
    let junk = dir.join("junk.db");
    std::fs::write(&junk, "not a database").unwrap();
    let out = jineng().arg("restore").arg(&junk).args(["--database", &db]).output().unwrap();
    assert!(!out.status.success());
    assert!(!user("bob").status.success(), "bob is still there");
    // The backup: the database is as it was when the backup was taken (alice, no bob).
    let out = jineng().arg("restore").arg(&backup).args(["--database", &db]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!user("alice").status.success(), "alice came back");
    assert!(user("bob").status.success(), "bob was added after the backup");
    let _ = std::fs::remove_dir_all(&dir);
}
