//! OpenAPI-driven fuzzing as a gate (issue 10, part 8), on both backends: every operation of the
//! served OpenAPI document is called many times, as every role and as no one, with path
//! parameters, query parameters and bodies generated from the document's schemas — valid ones,
//! and ones broken on purpose (wrong types, missing and extra fields, hostile strings, extreme
//! numbers, malformed JSON). No answer may be a 5xx; a success must be a status the document
//! lists; every refusal with a body is the one JSON error body. The generator is seeded, so a
//! failure is reproduced by running the test again.

use crate::common::{spawn_app, TestApp};
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use jineng_domain::Role;
use jineng_store::testing::both_backends;
use serde_json::{json, Map, Value};

/// Requests per operation and backend (`JINENG_FUZZ_PER_OPERATION` for a longer run).
fn per_operation() -> usize {
    std::env::var("JINENG_FUZZ_PER_OPERATION").ok().and_then(|v| v.parse().ok()).unwrap_or(24)
}

/// A small deterministic generator (xorshift64*), so that a failing case comes back.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

/// Strings an attacker types: empty, blanks, control and direction characters, NUL, huge,
/// SQL and markup, paths, numbers in words, and ordinary Chinese text.
fn hostile_string(rng: &mut Rng) -> String {
    let pool: &[&str] = &[
        "",
        "   ",
        "王小明",
        "abc",
        "0",
        "-1",
        "9223372036854775807",
        "99999999999999999999999",
        "1e309",
        "NaN",
        "2020-02-30",
        "2020-13-01",
        "0000-00-00",
        "2020-03",
        "2020-Q5",
        "'; DROP TABLE person; --",
        "<script>alert(1)</script>",
        "../../etc/passwd",
        "%00",
        "a\u{0}b",
        "\u{202E}evil",
        "line\nbreak",
        "41172219880229001X",
        "411722198802290011",
        "13812345678",
        "null",
        "{}",
        "P2a",
        "411722",
        "approve",
        "adopt",
        "confirm",
        "employment_subsidy_fund",
    ];
    if rng.chance(6) {
        return "字".repeat(5_000 + rng.below(20_000));
    }
    (*rng.pick(pool)).to_owned()
}

fn hostile_integer(rng: &mut Rng) -> Value {
    let pool: &[i64] = &[0, 1, 2, 3, 5, -1, -100, 100, 12_000, 1_000_000_000_000, i64::MAX, i64::MIN, i32::MAX as i64];
    json!(*rng.pick(pool))
}

/// A value for `schema` (references resolved against `doc`), broken on purpose now and then.
fn value(doc: &Value, schema: &Value, rng: &mut Rng, depth: usize) -> Value {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap_or_default();
        let resolved = &doc["components"]["schemas"][name];
        return value(doc, resolved, rng, depth);
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(options) = schema.get(key).and_then(Value::as_array) {
            if key == "allOf" {
                let mut merged = Map::new();
                for o in options {
                    if let Value::Object(m) = value(doc, o, rng, depth) {
                        merged.extend(m);
                    }
                }
                return Value::Object(merged);
            }
            if options.is_empty() {
                return Value::Null;
            }
            return value(doc, rng.pick(options), rng, depth);
        }
    }
    // Now and then, the wrong type altogether.
    if rng.chance(8) {
        return match rng.below(5) {
            0 => Value::Null,
            1 => json!(hostile_string(rng)),
            2 => hostile_integer(rng),
            3 => json!([1, "x", null]),
            _ => json!({"unexpected": true}),
        };
    }
    if let Some(e) = schema.get("enum").and_then(Value::as_array) {
        if !e.is_empty() && rng.chance(85) {
            return rng.pick(e).clone();
        }
    }
    let ty = match schema.get("type") {
        Some(Value::String(t)) => t.clone(),
        Some(Value::Array(ts)) => {
            ts.iter().filter_map(Value::as_str).find(|t| *t != "null").unwrap_or("null").to_owned()
        }
        _ if schema.get("properties").is_some() => "object".to_owned(),
        _ => "string".to_owned(),
    };
    match ty.as_str() {
        "integer" => hostile_integer(rng),
        "number" => json!(*rng.pick(&[0.0, -1.5, 1e300, 3.25])),
        "boolean" => json!(rng.chance(50)),
        "null" => Value::Null,
        "array" if depth < 4 => {
            let n = if rng.chance(5) { 300 } else { rng.below(4) };
            let item = schema.get("items").cloned().unwrap_or(json!({}));
            Value::Array((0..n).map(|_| value(doc, &item, rng, depth + 1)).collect())
        }
        "object" if depth < 4 => {
            let mut m = Map::new();
            if let Some(props) = schema.get("properties").and_then(Value::as_object) {
                let required: Vec<&str> = schema
                    .get("required")
                    .and_then(Value::as_array)
                    .map(|r| r.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                for (k, s) in props {
                    // Required fields are dropped now and then; optional ones often.
                    let keep = if required.contains(&k.as_str()) { !rng.chance(7) } else { rng.chance(60) };
                    if keep {
                        m.insert(k.clone(), value(doc, s, rng, depth + 1));
                    }
                }
            }
            if rng.chance(10) {
                m.insert("extra_field".into(), json!(hostile_string(rng)));
            }
            Value::Object(m)
        }
        "string" => {
            let format = schema.get("format").and_then(Value::as_str).unwrap_or_default();
            if format == "date" && rng.chance(60) {
                json!(*rng.pick(&["2020-03-20", "2021-12-31", "2019-01-01", "2026-11-27"]))
            } else {
                json!(hostile_string(rng))
            }
        }
        _ => Value::Null,
    }
}

/// A path parameter: mostly small ids and known codes, sometimes garbage.
fn path_param(name: &str, rng: &mut Rng) -> String {
    let pool: &[&str] = match name {
        "period" => &["2020-03", "2020-Q1", "2021-12", "2020-13", "2020-Q0", "abc", "9999-99"],
        "code" => &["P2a", "P1", "411722", "411729", "X", "p2a", "%27", "%2e%2e"],
        "year" => &["2020", "2019", "2030", "0", "-1", "abc", "99999999999"],
        "kind" => &["employers", "providers", "assessment-bodies", "nope"],
        "key" => &["on_the_job_fen_per_month", "training_subsidy_fen.level5", "nope", "%00"],
        _ => &["1", "2", "3", "4", "5", "0", "-1", "9223372036854775807", "99999999999999999999", "abc", "%20", "1.5"],
    };
    (*rng.pick(pool)).to_owned()
}

fn query_value(doc: &Value, schema: &Value, rng: &mut Rng) -> String {
    let v = value(doc, schema, rng, 3);
    let s = match v {
        Value::String(s) => s,
        Value::Null => String::new(),
        other => other.to_string(),
    };
    // Percent-encode everything but the unreserved characters.
    s.bytes()
        .take(3_000)
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Where `v` does not fit `schema` (references resolved against `doc`): the first path and why.
/// Checks types, required properties, array items and enums; `nullable` and `null` types allow
/// null; `oneOf`/`anyOf` need one option to fit, `allOf` all.
fn misfit(doc: &Value, schema: &Value, v: &Value, path: &str, depth: usize) -> Option<String> {
    if depth > 12 {
        return None;
    }
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap_or_default();
        return misfit(doc, &doc["components"]["schemas"][name], v, path, depth + 1);
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        return all.iter().find_map(|s| misfit(doc, s, v, path, depth + 1));
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(options) = schema.get(key).and_then(Value::as_array) {
            return if options.iter().any(|s| misfit(doc, s, v, path, depth + 1).is_none()) {
                None
            } else {
                Some(format!("{path}: fits none of the {key} options: {v}"))
            };
        }
    }
    if v.is_null() {
        let nullable = schema.get("nullable").and_then(Value::as_bool).unwrap_or(false)
            || schema.get("type").and_then(Value::as_array).is_some_and(|t| t.iter().any(|x| x == "null"))
            || schema.get("type").and_then(Value::as_str) == Some("null")
            || schema.get("type").is_none();
        return (!nullable)
            .then(|| format!("{path}: null where the document says {}", schema.get("type").unwrap_or(&Value::Null)));
    }
    let types: Vec<&str> = match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    let fits_type = |t: &str| match t {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        "null" => v.is_null(),
        _ => true,
    };
    if !types.is_empty() && !types.iter().any(|t| fits_type(t)) {
        return Some(format!("{path}: {v} is not {types:?}"));
    }
    if let Some(e) = schema.get("enum").and_then(Value::as_array) {
        if !e.contains(v) {
            return Some(format!("{path}: {v} is not one of {e:?}"));
        }
    }
    if let (Some(items), Some(a)) = (schema.get("items"), v.as_array()) {
        return a
            .iter()
            .enumerate()
            .take(50)
            .find_map(|(i, x)| misfit(doc, items, x, &format!("{path}[{i}]"), depth + 1));
    }
    if let Some(o) = v.as_object() {
        if let Some(required) = schema.get("required").and_then(Value::as_array) {
            if let Some(k) = required.iter().filter_map(Value::as_str).find(|k| !o.contains_key(*k)) {
                return Some(format!("{path}: the required {k} is missing"));
            }
        }
        if let Some(props) = schema.get("properties").and_then(Value::as_object) {
            return props
                .iter()
                .filter_map(|(k, s)| o.get(k).map(|x| (k, s, x)))
                .find_map(|(k, s, x)| misfit(doc, s, x, &format!("{path}.{k}"), depth + 1));
        }
    }
    None
}

/// What every rejection may answer without the document listing it.
const GENERIC: &[u16] = &[400, 401, 403, 404, 405, 409, 413, 415, 422, 429];

struct Operation {
    method: Method,
    path: String,
    spec: Value,
}

fn operations(doc: &Value) -> Vec<Operation> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (m, spec) in item.as_object().expect("path item") {
            let Ok(method) = m.to_uppercase().parse::<Method>() else { continue };
            out.push(Operation { method, path: path.clone(), spec: spec.clone() });
        }
    }
    // Revoking tokens ends the credentials the other calls use: those go last.
    out.sort_by_key(|o| o.path.contains("/tokens"));
    out
}

async fn fuzz(app: &TestApp, backend: &str, seed: u64) -> (usize, Vec<String>) {
    let doc = app.api(None, Method::GET, "/api/openapi.json", None).await.json();
    let ops = operations(&doc);
    assert!(ops.len() >= 60, "{backend}: the document lists {} operations", ops.len());
    let mut rng = Rng(seed);
    let roles: Vec<Option<Role>> = std::iter::once(None).chain(Role::ALL.iter().copied().map(Some)).collect();
    let mut sent = 0;
    let mut failures = Vec::new();
    for op in &ops {
        let documented: Vec<u16> = op.spec["responses"]
            .as_object()
            .map(|r| r.keys().filter_map(|k| k.parse().ok()).collect())
            .unwrap_or_default();
        let params = op.spec["parameters"].as_array().cloned().unwrap_or_default();
        let body_schema = op.spec["requestBody"]["content"]["application/json"]["schema"].clone();
        for _ in 0..per_operation() {
            let role = *rng.pick(&roles);
            let mut path = op.path.clone();
            let mut query = Vec::new();
            for p in &params {
                let name = p["name"].as_str().unwrap_or_default();
                match p["in"].as_str() {
                    Some("path") => path = path.replace(&format!("{{{name}}}"), &path_param(name, &mut rng)),
                    Some("query") if rng.chance(70) => {
                        query.push(format!("{name}={}", query_value(&doc, &p["schema"], &mut rng)))
                    }
                    _ => {}
                }
            }
            // A template the document names without declaring the parameter still gets a value.
            while let (Some(a), Some(b)) = (path.find('{'), path.find('}')) {
                let name = path[a + 1..b].to_owned();
                path.replace_range(a..=b, &path_param(&name, &mut rng));
            }
            if !query.is_empty() {
                path = format!("{path}?{}", query.join("&"));
            }
            let mut req = Request::builder().method(op.method.clone()).uri(&path);
            if let Some(r) = role {
                req = req.header(header::AUTHORIZATION, format!("Bearer {}", app.tokens[&r]));
            }
            let body = if op.method == Method::GET || op.method == Method::DELETE {
                Body::empty()
            } else if rng.chance(8) {
                // Malformed JSON, or another content type.
                req = req.header(header::CONTENT_TYPE, "application/json");
                Body::from(rng.pick(&["{", "[1,2", "\"\\u0000", "{\"a\":}", "null", "1e999999"]).to_string())
            } else if rng.chance(4) {
                req = req.header(header::CONTENT_TYPE, "text/plain");
                Body::from("hello")
            } else {
                req = req.header(header::CONTENT_TYPE, "application/json");
                let v = if body_schema.is_null() { json!({}) } else { value(&doc, &body_schema, &mut rng, 0) };
                Body::from(v.to_string())
            };
            let r = app.send(req.body(body).unwrap()).await;
            sent += 1;
            let code = r.status.as_u16();
            let who = role.map_or("anonymous", |r| r.code());
            let say = |why: &str| {
                format!("{backend} {} {path} as {who}: {code} {why}: {}", op.method, &r.body[..r.body.len().min(300)])
            };
            if r.status.is_server_error() {
                failures.push(say("server error"));
            } else if r.status.is_success() && !documented.contains(&code) {
                failures.push(say(&format!("success not in the document {documented:?}")));
            } else if r.status.is_success()
                && r.headers.get(header::CONTENT_TYPE).is_some_and(|c| c.to_str().unwrap_or("").contains("json"))
            {
                // A success's body fits the schema the document gives for its status.
                let schema = &op.spec["responses"][code.to_string()]["content"]["application/json"]["schema"];
                let body: Value = serde_json::from_str(&r.body).unwrap_or(Value::Null);
                if !schema.is_null() {
                    if let Some(why) = misfit(&doc, schema, &body, "$", 0) {
                        failures.push(say(&format!("the body does not fit the document: {why}")));
                    }
                }
            } else if !r.status.is_success() && !documented.contains(&code) && !GENERIC.contains(&code) {
                failures.push(say("status neither documented nor a known refusal"));
            } else if r.status.is_client_error()
                && r.headers.get(header::CONTENT_TYPE).is_some_and(|c| c.to_str().unwrap_or("").contains("json"))
            {
                let v: Value = serde_json::from_str(&r.body).unwrap_or_default();
                if !v["error"]["code"].is_string() || !v["error"]["message"].is_string() {
                    failures.push(say("refusal without the JSON error body"));
                }
            } else if r.status.is_client_error() && r.status != StatusCode::METHOD_NOT_ALLOWED && !r.body.is_empty() {
                failures.push(say("refusal that is not JSON"));
            }
        }
    }
    (sent, failures)
}

both_backends! {
    async fn the_api_answers_every_generated_request_without_a_5xx_and_as_documented(backend: &'static str) {
        let app = spawn_app(backend).await;
        let seed = std::env::var("JINENG_FUZZ_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(0x5EED_2026_1127);
        // The body check can fail: a wrong type and a missing field are named.
        let doc = app.api(None, Method::GET, "/api/openapi.json", None).await.json();
        let finding = json!({"$ref": "#/components/schemas/Finding"});
        assert!(misfit(&doc, &finding, &json!({"finding_id": "x"}), "$", 0).is_some(), "{backend}");
        assert!(misfit(&doc, &json!({"type": "array", "items": finding}), &json!([{}]), "$", 0).is_some(), "{backend}");
        let (sent, failures) = fuzz(&app, backend, seed).await;
        println!("fuzz {backend}: {sent} requests, {} failures", failures.len());
        assert!(failures.is_empty(), "{} of {sent} requests failed:\n{}", failures.len(), failures.join("\n"));
    }
}

/// Field names the forms read, for the page fuzzer.
const FIELDS: &[&str] = &[
    "name",
    "id_number",
    "reason",
    "value",
    "amount_yuan",
    "amount_fen",
    "capacity",
    "start_date",
    "end_date",
    "decision",
    "action",
    "q",
    "page",
    "county",
    "fund",
    "document",
    "phone",
    "day",
    "method",
    "status",
    "note",
    "password",
    "username",
    "reasoning",
    "responsible",
    "county.411722",
    "adopted_on",
    "occupation_code",
    "level",
    "program",
    "from",
    "to",
    "entity",
    "contact",
    "objection_id",
    "resolution",
    "seq",
    "kind",
    "year",
];

both_backends! {
    async fn every_page_and_form_answers_generated_input_without_a_5xx(backend: &'static str) {
        let app = spawn_app(backend).await;
        let mut rng = Rng(0xF0_2026_1127);
        let roles: Vec<Option<Role>> = std::iter::once(None).chain(Role::ALL.iter().copied().map(Some)).collect();
        let mut rules = jineng_web::routes::rules();
        // Signing out ends the session the other calls use: it goes last.
        rules.sort_by_key(|r| r.path == "/logout" || r.path.contains("tokens"));
        let mut sent = 0;
        let mut failures = Vec::new();
        for rule in rules.iter().filter(|r| !r.path.starts_with("/api/")) {
            for _ in 0..per_operation() / 2 {
                let role = *rng.pick(&roles);
                let mut path = rule.path.to_owned();
                while let (Some(a), Some(b)) = (path.find('{'), path.find('}')) {
                    let name = path[a + 1..b].to_owned();
                    let v = if name == "file" { "app.css".to_owned() } else { path_param(&name, &mut rng) };
                    path.replace_range(a..=b, &v);
                }
                let fields: Vec<(String, String)> = (0..rng.below(6))
                    .map(|_| ((*rng.pick(FIELDS)).to_owned(), hostile_string(&mut rng).chars().take(3_000).collect()))
                    .collect();
                if rule.method == Method::GET && !fields.is_empty() {
                    // A URI has a bound of its own: query values are kept short.
                    let q: Vec<(String, String)> = fields.iter().map(|(k, v)| (k.clone(), v.chars().take(200).collect())).collect();
                    path = format!("{path}?{}", serde_urlencoded::to_string(&q).unwrap());
                }
                let form: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                let r = app.page(role, rule.method.clone(), &path, &form, rng.chance(90)).await;
                sent += 1;
                if r.status.is_server_error() {
                    let who = role.map_or("anonymous", |r| r.code());
                    failures.push(format!("{backend} {} {path} as {who} {fields:?}: {} {}", rule.method, r.status, &r.body[..r.body.len().min(300)]));
                }
            }
        }
        println!("page fuzz {backend}: {sent} requests, {} server errors", failures.len());
        assert!(failures.is_empty(), "{} of {sent} requests failed:\n{}", failures.len(), failures.join("\n"));
    }
}
