//! The policy case files (`policy/cases`) as a gate of `cargo test`: every file is decided with
//! the shipped parameters and the shipped plan's region, exactly as `jineng policy test` does,
//! and must match its `expect` list; no decision may list the same parameter value twice.

use jineng_policy::{parse, testing, Engine, Params};
use std::path::{Path, PathBuf};

/// The shipped case files; `policy test` counts 181 of them.
const AT_LEAST: usize = 185;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn case_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display())) {
            let path = entry.expect("a directory entry").path();
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

/// The region of the shipped plan, as the CLI reads it.
fn region() -> String {
    let path = root().join("plan/zhumadian-2019-2021.toml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let plan = jineng_domain::Plan::from_toml(&text).expect("the shipped plan parses");
    plan.plan.region_code.to_string()
}

#[test]
fn every_policy_case_file_passes() {
    let files = case_files(&root().join("policy/cases"));
    assert!(files.len() >= AT_LEAST, "{} case files, expected at least {AT_LEAST}", files.len());
    let params = Params::shipped();
    let region = region();
    let engine = Engine::new(&params, &region);
    let mut failures = Vec::new();
    let mut passed = 0;
    for file in &files {
        let name = file.strip_prefix(root()).unwrap_or(file).display().to_string();
        let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("reading {name}: {e}"));
        let checked = match parse(&text) {
            Ok(c) => c,
            Err(e) => {
                failures.push(format!("{name}: bad input: {e}"));
                continue;
            }
        };
        let Some(expect) = &checked.case.expect else { continue };
        let decisions = engine.decide(&checked);
        let mut problems = testing::compare(expect, &decisions);
        // Every parameter value used is listed once.
        for d in &decisions {
            for (i, p) in d.parameters.iter().enumerate() {
                if d.parameters[..i].iter().any(|q| q.key == p.key && q.effective_from == p.effective_from) {
                    problems.push(format!("{}: parameter {} listed twice", d.claim, p.key));
                }
            }
        }
        if problems.is_empty() {
            passed += 1;
        } else {
            failures.push(format!("{name} — {}\n    {}", checked.case.name, problems.join("\n    ")));
        }
    }
    assert!(failures.is_empty(), "{} case files failed ({passed} passed):\n{}", failures.len(), failures.join("\n"));
    assert!(passed >= AT_LEAST, "only {passed} case files with expectations passed, expected at least {AT_LEAST}");
}
