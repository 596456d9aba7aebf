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
    "findings.html",
    "reports.html",
    "report.html",
    "yearly.html",
    "skills.html",
    "facilities.html",
    "bank_accounts.html",
    "person.html",
    "person_form.html",
    "orgs.html",
    "org.html",
    "org_form.html",
    "classes.html",
    "class.html",
    "error.html",
    "not_found.html",
    "parameters.html",
    "explain.html",
    "catalog.html",
    "catalog_manage.html",
    "class_form.html",
    "claim.html",
    "claim_form.html",
    "notice.html",
    "payments.html",
    "budget.html",
    "public.html",
    "disclosure.html",
    "claims.html",
    "audit.html",
    "accounts.html",
    "account.html",
    "account_code.html",
    "password.html",
    "setup.html",
    "_errors.html",
    "_decision.html",
];

/// The template environment.
pub fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
    for (name, src) in TEMPLATES {
        env.add_template(name, src).expect("templates compile");
    }
    env.add_function("form_errors", form_errors);
    env.add_function("field_errors", field_errors);
    env.add_filter("n", |v: i64| group_digits(v));
    env.add_filter("permille", |v: Value| -> String {
        match i64::try_from(v) {
            Ok(p) => format!("{}.{}%", p / 10, p % 10),
            Err(_) => "—".into(),
        }
    });
    // A stored moment (RFC 3339, as it serializes) in China time, to the minute; text that is
    // not a moment is shown as it is.
    env.add_filter("cn_time", |at: String| -> String {
        chrono::DateTime::parse_from_rfc3339(&at)
            .map(|t| jineng_store::reports::china_time(t.with_timezone(&chrono::Utc)))
            .unwrap_or(at)
    });
    env.add_filter("yuan", |fen: i64| jineng_domain::Money::from_fen(fen).to_string());
    env.add_filter("training_kind", |code: String| -> String {
        jineng_domain::TrainingKind::parse(&code).map(|k| k.zh().to_owned()).unwrap_or(code)
    });
    env.add_filter("claim_kind", |code: String| -> String {
        jineng_domain::ClaimKind::parse(&code).map(|k| k.zh().to_owned()).unwrap_or(code)
    });
    env.add_filter("claim_kind_en", |code: String| -> String {
        jineng_domain::ClaimKind::parse(&code).map(|k| k.en().to_owned()).unwrap_or(code)
    });
    env.add_filter("rule_zh", |rule: String| {
        jineng_policy::clauses::rule_words(&rule).map_or(rule, |w| w.0.to_owned())
    });
    env.add_filter("rule_en", |rule: String| {
        jineng_policy::clauses::rule_words(&rule).map_or(String::new(), |w| w.1.to_owned())
    });
    env.add_filter("param_name", |key: String| param_words(&key).map_or(key, |(name, _)| name.to_owned()));
    env.add_filter("param_value", |value: i64, key: String| param_value(value, &key));
    env.add_filter("fund", |code: String| -> String { crate::views::fund_zh(&code).to_owned() });
    env.add_filter("outcome", |code: String| -> String { crate::views::outcome_zh(&code).to_owned() });
    env.add_filter("employer_kind", |code: String| -> String { label(jineng_store::orgs::EMPLOYER_KINDS, code) });
    env.add_filter("org_status", |code: String| -> String { label(jineng_store::orgs::STATUSES, code) });
    env
}

/// The shipped parameters: the names and units of the keys a decision cites.
static SHIPPED: std::sync::LazyLock<jineng_policy::Params> = std::sync::LazyLock::new(jineng_policy::Params::shipped);

/// A parameter key's Chinese name and unit (`fen`, `months`, `percent`, `count`, `years`).
fn param_words(key: &str) -> Option<(&'static str, &'static str)> {
    if key == jineng_policy::engine::CATALOG_STANDARD {
        return Some(("目录公布的补贴项目标准", "fen"));
    }
    let p = SHIPPED.get(jineng_policy::Key::parse(key)?);
    Some((p.name_zh.as_str(), p.unit.as_str()))
}

/// A parameter's value in its unit, as people read it: `¥600.00`, `6个月`, `20%`, `3次`, `5年`.
pub fn param_value(value: i64, key: &str) -> String {
    match param_words(key).map(|(_, unit)| unit) {
        Some("fen") => jineng_domain::Money::from_fen(value).to_string(),
        Some("months") => format!("{value}个月"),
        Some("percent") => format!("{value}%"),
        Some("count") => format!("{value}次"),
        Some("years") => format!("{value}年"),
        _ => value.to_string(),
    }
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

/// Words for the fields the forms post: key → (Chinese, English). A form may name a field
/// otherwise (its `labels`); a key found nowhere is never shown as it is.
const FIELD_LABELS: &[(&str, &str, &str)] = &[
    ("id_number", "身份证号", "ID number"),
    ("name", "姓名", "name"),
    ("phone", "电话", "phone"),
    ("county_code", "县区", "county"),
    ("insured_since", "参保起始日", "insured since"),
    ("work_county", "就业地", "work county"),
    ("groups", "人员类别", "priority group"),
    ("group_from", "类别起始日期", "group since"),
    ("credit_code", "统一社会信用代码", "credit code"),
    ("program_code", "专项计划", "program"),
    ("subsidy_project_id", "补贴项目", "catalog project"),
    ("occupation_code", "职业编码", "occupation code"),
    ("level", "等级", "level"),
    ("kind", "类型", "kind"),
    ("venue", "培训场地", "venue"),
    ("start_date", "开班日期", "start date"),
    ("end_date", "结业日期", "end date"),
    ("timetable", "课程安排", "timetable"),
    ("teachers", "授课教师", "teachers"),
    ("capacity", "班额", "capacity"),
    ("training_days", "培训天数", "training days"),
    ("project_code", "项目编号", "project number"),
    ("employer_credit_code", "用人单位", "employer"),
    ("assessment_body_credit_code", "考核评价机构", "assessment body"),
    ("assessment_plan", "考核计划", "assessment plan"),
    ("roster", "花名册", "roster"),
    ("provider", "培训机构", "provider"),
    ("employed_from", "入职日期", "employed since"),
    ("from", "起始日期", "from"),
    ("months", "月数", "months"),
    ("class_id", "培训班编号", "class no."),
    ("years", "学徒年数", "years"),
    ("facility_id", "基地或工作室", "facility"),
    ("contract_yuan", "合同金额", "contract"),
    ("contract_fen", "合同金额", "contract"),
    ("stage", "阶段", "stage"),
    ("reason", "意见", "reason"),
    ("action", "操作", "action"),
    ("status", "状态", "status"),
    ("resolution", "处理意见", "resolution"),
    ("key", "参数", "parameter"),
    ("value", "新值", "value"),
    ("source", "依据", "source"),
    ("target", "目标值", "target"),
    ("filer_name", "姓名", "name"),
    ("contact", "联系方式", "contact"),
    ("equipment_value_yuan", "设备价值", "equipment value"),
    ("equipment_value_fen", "设备价值", "equipment value"),
    ("invoices", "发票", "invoices"),
];

/// Lists whose rows the store counts from 1 (its messages say "第n行"); others count from 0.
const ONE_BASED: &[&str] = &["roster"];

/// A posted key taken apart: `roster[1].id_number` → ("roster", Some(1), Some("id_number")).
fn split_key(key: &str) -> (&str, Option<usize>, Option<&str>) {
    let end = key.find(['[', '.']).unwrap_or(key.len());
    let (base, rest) = key.split_at(end);
    let mut index = None;
    let mut rest = rest;
    if let Some(r) = rest.strip_prefix('[') {
        if let Some(close) = r.find(']') {
            index = r[..close].parse().ok();
            rest = &r[close + 1..];
        }
    }
    let sub = rest.strip_prefix('.').filter(|s| !s.is_empty());
    (base, index, sub)
}

/// The words for one field: the form's own (`labels`: key → [Chinese, English]) or the table's.
fn words(labels: &Option<Value>, key: &str) -> Option<(String, String)> {
    if let Some(l) = labels.as_ref().and_then(|l| l.get_item(&Value::from(key)).ok()).filter(|v| !v.is_undefined()) {
        let zh = l.get_item(&Value::from(0)).ok().and_then(|v| v.as_str().map(str::to_owned));
        let en = l.get_item(&Value::from(1)).ok().and_then(|v| v.as_str().map(str::to_owned));
        if let (Some(zh), Some(en)) = (zh, en) {
            return Some((zh, en));
        }
    }
    FIELD_LABELS.iter().find(|(k, ..)| *k == key).map(|(_, zh, en)| ((*zh).to_owned(), (*en).to_owned()))
}

/// A key in words, Chinese and English: `roster[1].id_number` → ("花名册第1行 身份证号",
/// "roster row 1, ID number"). Never the key itself.
pub fn field_words(labels: &Option<Value>, key: &str) -> (String, String) {
    let (base, index, sub) = split_key(key);
    let (mut zh, mut en) = words(labels, base).unwrap_or_else(|| ("此项".to_owned(), "this field".to_owned()));
    if let Some(i) = index {
        let n = if ONE_BASED.contains(&base) { i } else { i + 1 };
        zh.push_str(&format!("第{n}行"));
        en.push_str(&format!(" row {n}"));
    }
    if let Some(sub) = sub {
        let (szh, sen) = words(labels, sub).unwrap_or_else(|| ("此项".to_owned(), "this field".to_owned()));
        zh.push_str(&format!(" {szh}"));
        en.push_str(&format!(", {sen}"));
    }
    (zh, en)
}

/// The id of the input a key belongs to (`roster[1].id_number` → `roster`); a form may send a
/// field to another input (`ids`: key → id).
fn field_id(ids: &Option<Value>, key: &str) -> String {
    let (base, ..) = split_key(key);
    ids.as_ref()
        .and_then(|m| m.get_item(&Value::from(base)).ok())
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| base.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-')).collect())
}

fn entries(errors: &Value) -> Vec<(String, String)> {
    let Ok(keys) = errors.try_iter() else { return Vec::new() };
    keys.filter_map(|k| {
        let message = errors.get_item(&k).ok()?.to_string();
        Some((k.as_str()?.to_owned(), message))
    })
    .collect()
}

/// `form_errors(errors, labels, ids)`: the summary's lines, each `{id, zh, en, message}` — the
/// input to link to, the field in words and why.
fn form_errors(errors: Value, labels: Option<Value>, ids: Option<Value>) -> Value {
    let items: Vec<_> = entries(&errors)
        .into_iter()
        .map(|(key, message)| {
            let (zh, en) = field_words(&labels, &key);
            minijinja::context! { id => field_id(&ids, &key), zh, en, message }
        })
        .collect();
    Value::from(items)
}

/// `field_errors(errors, id, labels, ids)`: the errors that belong to one input, each
/// `{zh, en, message}`; the words are given only for a row of a list (the input holds many).
fn field_errors(errors: Value, id: String, labels: Option<Value>, ids: Option<Value>) -> Value {
    let items: Vec<_> = entries(&errors)
        .into_iter()
        .filter(|(key, _)| field_id(&ids, key) == id)
        .map(|(key, message)| {
            let (zh, en) =
                if split_key(&key).0 == key { (String::new(), String::new()) } else { field_words(&labels, &key) };
            minijinja::context! { zh, en, message }
        })
        .collect();
    Value::from(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_read_in_their_units() {
        assert_eq!(param_words("training_subsidy_fen.training_completion").unwrap().0, "职业培训补贴标准·培训合格证书");
        assert_eq!(param_value(60_000, "training_subsidy_fen.training_completion"), "¥600.00");
        assert_eq!(param_value(6, "on_the_job_max_months"), "6个月");
        assert_eq!(param_value(20, "equipment_grant_percent"), "20%");
        assert_eq!(param_value(150_000, "catalog.subsidy_project_fen"), "¥1,500.00");
        assert_eq!(param_value(7, "no.such.key"), "7");
    }

    #[test]
    fn keys_become_words() {
        assert_eq!(field_words(&None, "capacity"), ("班额".into(), "capacity".into()));
        assert_eq!(
            field_words(&None, "roster[1].id_number"),
            ("花名册第1行 身份证号".into(), "roster row 1, ID number".into())
        );
        assert_eq!(field_words(&None, "groups[0]"), ("人员类别第1行".into(), "priority group row 1".into()));
        assert_eq!(field_words(&None, "nonsense[x"), ("此项".into(), "this field".into()));
        assert_eq!(field_id(&None, "roster[3]"), "roster");
    }
}
