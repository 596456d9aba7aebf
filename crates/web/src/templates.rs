//! Page templates, compiled into the binary, with HTML auto-escaping on.

use minijinja::{Environment, Value};

macro_rules! templates {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../templates/", $name)))),*]
    };
}

const TEMPLATES: &[(&str, &str)] = templates![
    "base.html",
    "login.html",
    "home.html",
    "tasks.html",
    "queue.html",
    "program.html",
    "county.html",
    "people.html",
    "registers.html",
    "facilities.html",
    "person.html",
    "person_form.html",
    "orgs.html",
    "org.html",
    "org_form.html",
    "classes.html",
    "class.html",
    "error.html",
    "parameters.html",
    "explain.html",
    "catalog.html",
    "catalog_manage.html",
    "class_form.html",
    "claim.html",
    "claim_form.html",
    "notice.html",
    "payments.html",
    "claims.html",
    "audit.html",
];

/// The template environment.
pub fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
    for (name, src) in TEMPLATES {
        env.add_template(name, src).expect("templates compile");
    }
    env.add_filter("n", |v: i64| group_digits(v));
    env.add_filter("permille", |v: Value| -> String {
        match i64::try_from(v) {
            Ok(p) => format!("{}.{}%", p / 10, p % 10),
            Err(_) => "—".into(),
        }
    });
    env.add_filter("yuan", |fen: i64| jineng_domain::Money::from_fen(fen).to_string());
    env.add_filter("training_kind", |code: String| -> String {
        jineng_domain::TrainingKind::parse(&code).map(|k| k.zh().to_owned()).unwrap_or(code)
    });
    env.add_filter("claim_kind", |code: String| -> String {
        jineng_domain::ClaimKind::parse(&code).map(|k| k.zh().to_owned()).unwrap_or(code)
    });
    env.add_filter("employer_kind", |code: String| -> String { label(jineng_store::orgs::EMPLOYER_KINDS, code) });
    env.add_filter("org_status", |code: String| -> String { label(jineng_store::orgs::STATUSES, code) });
    env
}

fn label(table: &[(&str, &str, &str)], code: String) -> String {
    table.iter().find(|(c, ..)| *c == code).map(|(_, zh, _)| (*zh).to_owned()).unwrap_or(code)
}

/// 1234567 → "1,234,567".
pub fn group_digits(v: i64) -> String {
    let s = v.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if v < 0 {
        format!("-{out}")
    } else {
        out
    }
}
