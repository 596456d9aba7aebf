//! The web crate's modules are layered: plumbing at the bottom imports nothing above it, each
//! resource module imports plumbing (and no resource module imports one that imports it back),
//! and `routes`/`openapi` at the top assemble the resources. This test reads the sources, draws
//! the graph of `crate::…` imports and fails on any circle or any import from below to above.
//! The other crates are checked for circles too. Run it alone with
//! `cargo test -p jineng-web --test it layers`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Modules that serve the resources and may import only each other.
const PLUMBING: &[&str] =
    &["auth", "cache", "common", "error", "guard", "render", "state", "templates", "throttle", "views", "xlsx"];
/// Modules that assemble the others; nothing imports them.
const TOP: &[&str] = &["routes", "openapi"];

/// Every module of `src` (as `a::b`) with the text of its file.
fn modules(src: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "rs") {
                let rel = p.strip_prefix(src).unwrap().with_extension("");
                let mut name = rel.to_string_lossy().replace(std::path::MAIN_SEPARATOR, "::");
                if name == "mod" || name.ends_with("::mod") {
                    name = name.trim_end_matches("mod").trim_end_matches("::").to_owned();
                }
                if name != "lib" {
                    out.insert(name, std::fs::read_to_string(&p).unwrap());
                }
            }
        }
    }
    out
}

/// The modules a file imports through `crate::` paths (`crate::a::b`, `crate::{a, b}`).
fn imports(text: &str, known: &BTreeSet<String>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut paths = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + 7..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            paths.extend(group[..end].split(',').map(|s| s.trim().to_owned()));
        } else {
            let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')).unwrap_or(rest.len());
            paths.push(rest[..end].to_owned());
        }
    }
    for p in paths {
        let parts: Vec<&str> = p.split("::").filter(|s| !s.is_empty()).collect();
        for k in (1..=parts.len()).rev() {
            let cand = parts[..k].join("::");
            if known.contains(&cand) {
                out.insert(cand);
                break;
            }
        }
    }
    out
}

/// The modules that reach themselves again through their imports.
fn circles(edges: &BTreeMap<&str, BTreeSet<String>>) -> Vec<String> {
    let mut out = Vec::new();
    for start in edges.keys() {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<String> = edges[start].iter().cloned().collect();
        while let Some(n) = stack.pop() {
            if n == *start {
                out.push(format!("`{start}` reaches itself through its imports"));
                break;
            }
            if seen.insert(n.clone()) {
                stack.extend(edges.get(n.as_str()).into_iter().flatten().cloned());
            }
        }
    }
    out
}

fn top_level(m: &str) -> &str {
    m.split("::").next().unwrap_or(m)
}

#[test]
fn the_web_crate_has_no_import_circle_and_no_upward_import() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mods = modules(&src);
    let known: BTreeSet<String> = mods.keys().cloned().collect();
    let mut edges: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    let mut problems = Vec::new();
    for (m, text) in &mods {
        let own: BTreeSet<String> =
            imports(text, &known).into_iter().filter(|t| t != m && !m.starts_with(&format!("{t}::"))).collect();
        for t in &own {
            let (from, to) = (top_level(m), top_level(t));
            if PLUMBING.contains(&from) && !PLUMBING.contains(&to) {
                problems.push(format!("plumbing `{m}` imports `{t}`, which is above it"));
            }
            if TOP.contains(&to) && !TOP.contains(&from) {
                problems.push(format!("`{m}` imports `{t}`, which assembles the crate"));
            }
        }
        edges.insert(m.as_str(), own);
    }
    problems.extend(circles(&edges));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // The check sees the modules it claims to check.
    for m in ["claims", "classes::roster", "guard", "render"] {
        assert!(known.contains(m), "{m} not found among {known:?}");
    }
}

#[test]
fn no_crate_has_an_import_circle() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut problems = Vec::new();
    for dir in ["crates/domain/src", "crates/policy/src", "crates/store/src", "crates/web/src", "src"] {
        let mods = modules(&root.join(dir));
        assert!(!mods.is_empty(), "{dir} has no modules");
        let known: BTreeSet<String> = mods.keys().cloned().collect();
        let edges: BTreeMap<&str, BTreeSet<String>> = mods
            .iter()
            .map(|(m, text)| {
                let own = imports(text, &known).into_iter().filter(|t| t != m && !m.starts_with(&format!("{t}::")));
                (m.as_str(), own.collect())
            })
            .collect();
        problems.extend(circles(&edges).into_iter().map(|p| format!("{dir}: {p}")));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
