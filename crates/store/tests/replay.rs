//! `jineng replay` is the proof that the live path loses no fact: every case file of
//! `policy/cases/`, loaded through the registry's write paths and filed through the live
//! filing path, is decided as the engine decides the case itself (outcome, amount, payee, fund
//! and reason codes) — or the live system says exactly what in the case it cannot hold.

use jineng_store::replay::{differences, replay, ReplayError};
use jineng_store::testing::{dispose, fresh};
use std::path::{Path, PathBuf};

fn case_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policy/cases");
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("case directory") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "json") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// What replaying one case file came to.
enum Replayed {
    Equal,
    Differs(Vec<String>),
    CannotHold(String),
}

async fn one(backend: &'static str, path: PathBuf) -> (PathBuf, Replayed) {
    let text = std::fs::read_to_string(&path).expect("case file");
    let checked = jineng_policy::parse(&text).expect("every shipped case parses");
    let params = jineng_policy::Params::shipped();
    let engine = jineng_policy::Engine::new(&params, "411700");
    let decided = serde_json::to_value(engine.decide(&checked)).expect("decisions");
    let db = fresh(backend).await;
    let live = replay(&db, &checked).await;
    dispose(db).await;
    let outcome = match live {
        Err(ReplayError::Unsupported(what)) => Replayed::CannotHold(what),
        Err(e) => Replayed::CannotHold(e.to_string()),
        Ok(live) => {
            let mut diffs = Vec::new();
            for d in decided.as_array().into_iter().flatten() {
                let id = d["claim"].as_str().unwrap_or_default();
                match live.iter().find(|l| l["claim"] == id) {
                    None => diffs.push(format!("{id}: not filed by the live system")),
                    Some(l) => diffs.extend(differences(d, l).into_iter().map(|x| format!("{id}: {x}"))),
                }
            }
            if live.len() != decided.as_array().map_or(0, Vec::len) {
                diffs.push(format!(
                    "{} live decisions for {} claims",
                    live.len(),
                    decided.as_array().map_or(0, Vec::len)
                ));
            }
            if diffs.is_empty() {
                Replayed::Equal
            } else {
                Replayed::Differs(diffs)
            }
        }
    };
    (path, outcome)
}

/// The live system decides every case it can hold as the engine does, and holds at least as
/// many as it did when this test was written (the number only goes up).
async fn replayed_equals_adjudicated(backend: &'static str) {
    const AT_LEAST: usize = 173;
    let files = case_files();
    assert!(files.len() >= 185, "the case files are found ({})", files.len());
    let mut results = Vec::new();
    // A few at a time: each case has its own database.
    for chunk in files.chunks(6) {
        let runs = chunk.iter().cloned().map(|p| tokio::spawn(one(backend, p)));
        for r in runs {
            results.push(r.await.expect("replay task"));
        }
    }
    let mut equal = 0;
    let mut differ = Vec::new();
    let mut cannot = Vec::new();
    for (path, r) in &results {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        match r {
            Replayed::Equal => equal += 1,
            Replayed::Differs(d) => differ.push(format!("{name}: {}", d.join("; "))),
            Replayed::CannotHold(w) => cannot.push(format!("{name}: {w}")),
        }
    }
    eprintln!(
        "{backend}: {equal} equal, {} differ, {} cannot be held:\n  {}",
        differ.len(),
        cannot.len(),
        cannot.join("\n  ")
    );
    assert!(differ.is_empty(), "live decisions differ from the engine's:\n{}", differ.join("\n"));
    assert!(equal >= AT_LEAST, "only {equal} of {} case files replayed (at least {AT_LEAST})", files.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite() {
    replayed_equals_adjudicated("sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres() {
    replayed_equals_adjudicated("postgres").await;
}
