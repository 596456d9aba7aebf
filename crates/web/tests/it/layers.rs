//! The web crate's modules are layered: plumbing at the bottom imports nothing above it, each
//! resource module imports plumbing and no other resource (the parts of one resource, such as
//! `classes::*`, import each other without a circle), and `routes`/`openapi` at the top assemble
//! the resources. This test reads the sources, draws the graph of imports (`crate::…`,
//! `super::…`, `self::…`) and fails on any circle or any import across or up the layers; and it
//! checks the route table of `docs/architecture.md` against the modules' routes.
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

/// The modules a file (module `me`) imports: `crate::a::b`, `crate::{a, b}`, and the same
/// through `super::` (from `me`'s parent) and `self::` (from `me`).
fn imports(text: &str, known: &BTreeSet<String>, me: &str) -> BTreeSet<String> {
    let parent = me.rsplit_once("::").map_or("", |(p, _)| p);
    let mut paths = Vec::new();
    for (prefix, base) in [("crate::", ""), ("super::", parent), ("self::", me)] {
        let join = |p: &str| if base.is_empty() { p.to_owned() } else { format!("{base}::{p}") };
        let mut rest = text;
        while let Some(i) = rest.find(prefix) {
            let before = rest[..i].chars().next_back();
            rest = &rest[i + prefix.len()..];
            // `myself::` is not `self::`.
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            if let Some(group) = rest.strip_prefix('{') {
                let end = group.find('}').unwrap_or(group.len());
                paths.extend(group[..end].split(',').map(|s| join(s.trim())));
            } else {
                let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')).unwrap_or(rest.len());
                paths.push(join(&rest[..end]));
            }
        }
    }
    let mut out = BTreeSet::new();
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
            imports(text, &known, m).into_iter().filter(|t| t != m && !m.starts_with(&format!("{t}::"))).collect();
        for t in &own {
            let (from, to) = (top_level(m), top_level(t));
            if PLUMBING.contains(&from) && !PLUMBING.contains(&to) {
                problems.push(format!("plumbing `{m}` imports `{t}`, which is above it"));
            }
            if TOP.contains(&to) && !TOP.contains(&from) {
                problems.push(format!("`{m}` imports `{t}`, which assembles the crate"));
            }
            let resource = |x: &str| !PLUMBING.contains(&x) && !TOP.contains(&x);
            if resource(from) && resource(to) && from != to {
                problems.push(format!("resource `{m}` imports resource `{t}`: what they share belongs in plumbing"));
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
                let own = imports(text, &known, m).into_iter().filter(|t| t != m && !m.starts_with(&format!("{t}::")));
                (m.as_str(), own.collect())
            })
            .collect();
        problems.extend(circles(&edges).into_iter().map(|p| format!("{dir}: {p}")));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The route table of `docs/architecture.md`: each row's path patterns with its module.
fn documented_routes() -> Vec<(Vec<String>, String)> {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/architecture.md")).unwrap();
    let section = doc.split("## Where the code of a route lives").nth(1).expect("the route section");
    let section = section.split("\n## ").next().unwrap_or(section);
    let ticked = |cell: &str| -> Vec<String> { cell.split('`').skip(1).step_by(2).map(str::to_owned).collect() };
    section
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').collect();
            let module = ticked(cells[2]).first().cloned().unwrap_or_default();
            let module = module.trim_end_matches(".rs").trim_end_matches('/').to_owned();
            (ticked(cells[1]), module)
        })
        .collect()
}

/// Whether a documented pattern covers a route's path (`…` at its end covers what begins so).
fn covers(pattern: &str, path: &str) -> bool {
    match pattern.strip_suffix('…') {
        Some(prefix) => path.starts_with(prefix),
        None => pattern == path,
    }
}

#[test]
fn every_route_is_in_the_architecture_table() {
    let rows = documented_routes();
    assert!(rows.len() > 15, "the table was read: {rows:?}");
    let mut problems = Vec::new();
    for (module, routes) in jineng_web::routes::by_module() {
        for r in routes {
            // The longest pattern covering the path says where it lives.
            let best = rows
                .iter()
                .flat_map(|(patterns, m)| patterns.iter().filter(|p| covers(p, r.path)).map(move |p| (p.len(), m)))
                .max_by_key(|(len, _)| *len);
            match best {
                Some((_, m)) if m == module => {}
                Some((_, m)) => {
                    problems.push(format!("{} {} is in `{module}`, the table says `{m}`", r.method, r.path))
                }
                None => problems.push(format!("{} {} (`{module}`) is not in the table", r.method, r.path)),
            }
        }
    }
    assert!(problems.is_empty(), "docs/architecture.md, \"Where the code of a route lives\":\n{}", problems.join("\n"));
}
