//! `policy test`: compare decisions with a case's `expect` list. Only the fields given are
//! compared; each expected reason code must appear; expected clauses must all be cited.

use crate::decision::Decision;
use serde_json::Value;

/// Differences between expected and actual decisions (empty = pass).
pub fn compare(expect: &[Value], decisions: &[Decision]) -> Vec<String> {
    let mut problems = Vec::new();
    for (i, e) in expect.iter().enumerate() {
        let Some(id) = e.get("claim").and_then(Value::as_str) else {
            problems.push(format!("expect[{i}]: no claim id"));
            continue;
        };
        let Some(d) = decisions.iter().find(|d| d.claim == id) else {
            problems.push(format!("{id}: no decision"));
            continue;
        };
        let actual = serde_json::to_value(d).unwrap_or(Value::Null);
        for (k, want) in e.as_object().into_iter().flatten() {
            if k == "claim" {
                continue;
            }
            let got = &actual[k];
            match k.as_str() {
                "reasons" => {
                    for r in want.as_array().into_iter().flatten() {
                        let code = r.get("code").and_then(Value::as_str).unwrap_or_default();
                        let found = got.as_array().into_iter().flatten().any(|g| g["code"] == code);
                        if !found {
                            problems.push(format!("{id}: reason {code} expected, got {}", codes(got)));
                        }
                    }
                }
                "clauses" => {
                    for c in want.as_array().into_iter().flatten() {
                        if !got.as_array().is_some_and(|g| g.contains(c)) {
                            problems.push(format!("{id}: clause {c} expected, got {got}"));
                        }
                    }
                }
                _ if got != want => problems.push(format!("{id}: {k} expected {want}, got {got}")),
                _ => {}
            }
        }
    }
    problems
}

fn codes(v: &Value) -> String {
    let list: Vec<&str> = v.as_array().into_iter().flatten().filter_map(|r| r["code"].as_str()).collect();
    format!("[{}]", list.join(", "))
}
