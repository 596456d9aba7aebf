//! Checks that find fraud before money moves (S12: 虚假培训、套取骗取资金): each check is a named
//! function over the stored rows, citing the clause it protects, and returns findings with their
//! evidence (the row ids involved, an explanation in Chinese then English, the money at stake).
//! [`run_all`] records what is new as `finding` rows (one open finding per check and subject);
//! an investigator confirms or dismisses each with a reason ([`decide`], audited).
//!
//! Every check is one SQL query, the same text on SQLite and PostgreSQL; Rust only groups the
//! rows a query returns into findings.

use crate::audit::{self, Actor};
use crate::{now, on_tx, with_pool, Db, Result, StoreError};
use chrono::NaiveDate;
use jineng_domain::Invalid;
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// A check: what it looks for and the clause it protects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    /// One person checked in to two classes on the same day (S12).
    TwoClassesOneDay,
    /// Check-ins on days outside the class's dates (S12).
    OutsideClassDates,
    /// More trainees checked in on one day than the class's capacity (S12).
    OverCapacity,
    /// A certificate issued before its class started (S12).
    CertificateBeforeClass,
    /// A certificate issued by a body other than the one the class named (S12).
    CertificateOtherBody,
    /// Two classes of one provider whose rosters are at least 80 % the same people (S12, S1).
    RecycledCohort,
    /// More than 3 training subsidies for one person in one calendar year (S7).
    OverYearlyCap,
    /// Paid twice for the same occupation and level (S7).
    PaidTwice,
    /// A trainee with a monthly pension on a subsidised class (S8).
    PensionerTrainee,
    /// One phone number shared by people of different providers or employers (S12).
    SharedPhone,
    /// Many trainees of one class checked in within seconds on one day: signed in by one hand (S12).
    SameHandCheckIns,
    /// A trainee past the statutory retirement age on a subsidised class (S8).
    PastRetirementAge,
    /// Claims concentrated on one filer in the last 15 days of a year (S12).
    YearEndRush,
    /// Employment declared by the employer that the social-insurance import contradicts (S12).
    EmploymentContradicted,
    /// A provider far above the others of its county and occupation in pass rate, class size or
    /// subsidy per trainee (S12).
    ProviderOutlier,
    /// One bank account in force for different payees: providers, employers or people (S12).
    SharedBankAccount,
}

impl Check {
    /// Every check, in the order they run and are listed.
    pub const ALL: [Check; 16] = [
        Check::TwoClassesOneDay,
        Check::OutsideClassDates,
        Check::OverCapacity,
        Check::CertificateBeforeClass,
        Check::CertificateOtherBody,
        Check::RecycledCohort,
        Check::OverYearlyCap,
        Check::PaidTwice,
        Check::PensionerTrainee,
        Check::SharedPhone,
        Check::SameHandCheckIns,
        Check::PastRetirementAge,
        Check::YearEndRush,
        Check::EmploymentContradicted,
        Check::ProviderOutlier,
        Check::SharedBankAccount,
    ];

    /// Stable code, stored in `finding.check_code`.
    pub fn code(self) -> &'static str {
        match self {
            Check::TwoClassesOneDay => "two_classes_one_day",
            Check::OutsideClassDates => "outside_class_dates",
            Check::OverCapacity => "over_capacity",
            Check::CertificateBeforeClass => "certificate_before_class",
            Check::CertificateOtherBody => "certificate_other_body",
            Check::RecycledCohort => "recycled_cohort",
            Check::OverYearlyCap => "over_yearly_cap",
            Check::PaidTwice => "paid_twice",
            Check::PensionerTrainee => "pensioner_trainee",
            Check::SharedPhone => "shared_phone",
            Check::SameHandCheckIns => "same_hand_check_ins",
            Check::PastRetirementAge => "past_retirement_age",
            Check::YearEndRush => "year_end_rush",
            Check::EmploymentContradicted => "employment_contradicted",
            Check::ProviderOutlier => "provider_outlier",
            Check::SharedBankAccount => "shared_bank_account",
        }
    }

    /// The check of a code.
    pub fn parse(code: &str) -> Option<Check> {
        Check::ALL.into_iter().find(|c| c.code() == code)
    }

    /// The clause it protects.
    pub fn clause(self) -> &'static str {
        match self {
            Check::RecycledCohort => "S12/S1",
            Check::OverYearlyCap | Check::PaidTwice => "S7",
            Check::PensionerTrainee | Check::PastRetirementAge => "S8",
            _ => "S12",
        }
    }

    /// Its name in Chinese.
    pub fn zh(self) -> &'static str {
        match self {
            Check::TwoClassesOneDay => "同日两班签到",
            Check::OutsideClassDates => "培训期外签到",
            Check::OverCapacity => "签到人数超过班额",
            Check::CertificateBeforeClass => "开班前发证",
            Check::CertificateOtherBody => "非指定评价机构发证",
            Check::RecycledCohort => "同一机构学员重复参训",
            Check::OverYearlyCap => "超过年度补贴次数",
            Check::PaidTwice => "同职业同等级重复补贴",
            Check::PensionerTrainee => "领取养老金人员参加补贴培训",
            Check::SharedPhone => "多人共用手机号",
            Check::SameHandCheckIns => "同班同日集中签到（疑似代签）",
            Check::PastRetirementAge => "超过法定退休年龄人员参加补贴培训",
            Check::YearEndRush => "年末集中申请补贴",
            Check::EmploymentContradicted => "申报就业与社保记录不符",
            Check::ProviderOutlier => "培训机构指标异常（合格率、班额、人均补贴）",
            Check::SharedBankAccount => "多个收款人共用银行账户",
        }
    }

    /// Its name in English.
    pub fn en(self) -> &'static str {
        match self {
            Check::TwoClassesOneDay => "Checked in to two classes on one day",
            Check::OutsideClassDates => "Check-ins outside the class's dates",
            Check::OverCapacity => "More check-ins than the class's capacity",
            Check::CertificateBeforeClass => "Certificate issued before the class started",
            Check::CertificateOtherBody => "Certificate by a body the class did not name",
            Check::RecycledCohort => "Same trainees recycled through one provider's classes",
            Check::OverYearlyCap => "Over the yearly subsidy cap",
            Check::PaidTwice => "Paid twice for one occupation and level",
            Check::PensionerTrainee => "Pensioner on a subsidised class",
            Check::SharedPhone => "One phone shared across providers or employers",
            Check::SameHandCheckIns => "Check-ins within seconds of each other: signed in by one hand",
            Check::PastRetirementAge => "Past the retirement age on a subsidised class",
            Check::YearEndRush => "Claims concentrated at year end",
            Check::EmploymentContradicted => "Declared employment contradicted by social insurance",
            Check::ProviderOutlier => "Provider an outlier in pass rate, class size or subsidy per trainee",
            Check::SharedBankAccount => "One bank account shared by different payees",
        }
    }
}

/// What a check found: the subject (e.g. `person:12`), the evidence and the money at stake.
#[derive(Debug, Clone, Serialize)]
pub struct Found {
    pub check: Check,
    /// What the finding is about, e.g. `person:12`, `class:3`, `classes:3,5`.
    pub subject: String,
    /// `{"zh", "en", "rows": {"attendance": [...], ...}, ...}`.
    pub evidence: Value,
    /// Money at stake in fen, where there is some.
    pub money_fen: Option<i64>,
}

/// A finding: `rows` maps tables to the ids involved; any other key (days, shares) is a detail
/// kept beside them at the top of the evidence.
fn found(check: Check, subject: String, zh: String, en: String, rows: Value, money_fen: Option<i64>) -> Found {
    let mut evidence = json!({"zh": zh, "en": en});
    let mut ids = serde_json::Map::new();
    if let Value::Object(all) = rows {
        for (key, value) in all {
            let is_ids = value.as_array().is_some_and(|a| a.iter().all(Value::is_i64));
            if is_ids {
                ids.insert(key, value);
            } else {
                evidence[key] = value;
            }
        }
    }
    evidence["rows"] = Value::Object(ids);
    Found { check, subject, evidence, money_fen }
}

fn ids(v: &[i64]) -> String {
    v.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
}

fn sorted(mut v: Vec<i64>) -> Vec<i64> {
    v.sort_unstable();
    v.dedup();
    v
}

/// Claims that count as money granted: decided to pay (approved or reduced), not rejected since.
const PAYING: &str = "c.outcome IN ('approved', 'reduced') AND c.status <> 'rejected'";

/// Which rows a check reads: all, or only those of one person (the incremental checks run
/// when a claim is filed). The person is an id, written into the SQL as a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Only {
    /// Every row.
    #[default]
    All,
    /// The rows of one person.
    Person(i64),
}

impl Only {
    /// ` AND <column> = <id>` for one person, nothing for all.
    fn and(self, column: &str) -> String {
        match self {
            Only::All => String::new(),
            Only::Person(id) => format!(" AND {column} = {id}"),
        }
    }
}

/// A day, and each class with its check-in that day.
type DayPair = (NaiveDate, i64, i64, i64, i64);

/// S12: one person checked in to two classes on the same day (one finding per person).
pub async fn two_classes_one_day(db: &Db, only: Only) -> Result<Vec<Found>> {
    let sql = format!(
        "SELECT e1.person_id, a1.day, e1.class_id, a1.attendance_id, e2.class_id, a2.attendance_id \
         FROM attendance a1 JOIN enrolment e1 ON e1.enrolment_id = a1.enrolment_id \
         JOIN enrolment e2 ON e2.person_id = e1.person_id AND e2.class_id > e1.class_id \
         JOIN attendance a2 ON a2.enrolment_id = e2.enrolment_id AND a2.day = a1.day \
         WHERE 1 = 1{} ORDER BY e1.person_id, a1.day, e1.class_id, e2.class_id",
        only.and("e1.person_id")
    );
    let rows: Vec<(i64, NaiveDate, i64, i64, i64, i64)> = with_pool!(db, |p| sqlx::query_as(&sql).fetch_all(p).await?);
    let mut by_person: BTreeMap<i64, Vec<DayPair>> = BTreeMap::new();
    for (person, day, c1, a1, c2, a2) in rows {
        by_person.entry(person).or_default().push((day, c1, a1, c2, a2));
    }
    Ok(by_person
        .into_iter()
        .map(|(person, pairs)| {
            let days: Vec<String> = pairs.iter().map(|p| p.0.to_string()).collect();
            let classes = sorted(pairs.iter().flat_map(|p| [p.1, p.3]).collect());
            let attendance = sorted(pairs.iter().flat_map(|p| [p.2, p.4]).collect());
            found(
                Check::TwoClassesOneDay,
                format!("person:{person}"),
                format!("第 {person} 号人员同一天在两个培训班签到（{}；培训班 {}）", days.join("、"), ids(&classes)),
                format!(
                    "person {person} checked in to two classes on one day ({}; classes {})",
                    days.join(", "),
                    ids(&classes)
                ),
                json!({"person": [person], "class": classes, "attendance": attendance, "days": days}),
                None,
            )
        })
        .collect())
}

/// S12: check-ins on days before the class started or after it ended (one finding per class).
pub async fn outside_class_dates(db: &Db) -> Result<Vec<Found>> {
    let rows: Vec<(i64, NaiveDate, NaiveDate, i64, NaiveDate)> = with_pool!(db, |p| sqlx::query_as(
        "SELECT t.class_id, t.start_date, t.end_date, a.attendance_id, a.day \
         FROM attendance a JOIN enrolment e ON e.enrolment_id = a.enrolment_id \
         JOIN training_class t ON t.class_id = e.class_id \
         WHERE a.day < t.start_date OR a.day > t.end_date ORDER BY t.class_id, a.attendance_id"
    )
    .fetch_all(p)
    .await?);
    let mut by_class: BTreeMap<i64, (NaiveDate, NaiveDate, Vec<i64>, Vec<String>)> = BTreeMap::new();
    for (class, start, end, att, day) in rows {
        let e = by_class.entry(class).or_insert((start, end, Vec::new(), Vec::new()));
        e.2.push(att);
        e.3.push(day.to_string());
    }
    Ok(by_class
        .into_iter()
        .map(|(class, (start, end, att, days))| {
            let days = {
                let mut d = days;
                d.sort();
                d.dedup();
                d
            };
            found(
                Check::OutsideClassDates,
                format!("class:{class}"),
                format!(
                    "第 {class} 号培训班（{start} 至 {end}）在培训期外有 {} 次签到：{}",
                    att.len(),
                    days.join("、")
                ),
                format!(
                    "class {class} ({start} to {end}) has {} check-ins outside its dates: {}",
                    att.len(),
                    days.join(", ")
                ),
                json!({"class": [class], "attendance": att, "days": days}),
                None,
            )
        })
        .collect())
}

/// S12: more trainees checked in on one day than the class's capacity (one finding per class).
pub async fn over_capacity(db: &Db) -> Result<Vec<Found>> {
    let rows: Vec<(i64, i64, NaiveDate, i64)> = with_pool!(db, |p| sqlx::query_as(
        "SELECT t.class_id, t.capacity, a.day, COUNT(*) \
         FROM attendance a JOIN enrolment e ON e.enrolment_id = a.enrolment_id \
         JOIN training_class t ON t.class_id = e.class_id \
         WHERE t.capacity IS NOT NULL GROUP BY t.class_id, t.capacity, a.day \
         HAVING COUNT(*) > t.capacity ORDER BY t.class_id, a.day"
    )
    .fetch_all(p)
    .await?);
    let mut by_class: BTreeMap<i64, (i64, Vec<(String, i64)>)> = BTreeMap::new();
    for (class, capacity, day, n) in rows {
        by_class.entry(class).or_insert((capacity, Vec::new())).1.push((day.to_string(), n));
    }
    Ok(by_class
        .into_iter()
        .map(|(class, (capacity, days))| {
            let text: Vec<String> = days.iter().map(|(d, n)| format!("{d}: {n}")).collect();
            found(
                Check::OverCapacity,
                format!("class:{class}"),
                format!("第 {class} 号培训班班额 {capacity} 人，签到人数超过班额（{}）", text.join("；")),
                format!("class {class} has room for {capacity}, more checked in ({})", text.join("; ")),
                json!({"class": [class], "capacity": capacity,
                       "days": days.iter().map(|(d, n)| json!({"day": d, "checked_in": n})).collect::<Vec<_>>()}),
                None,
            )
        })
        .collect())
}

/// Certificates with their class, body named, and the money their claims grant.
type CertRow = (i64, i64, i64, NaiveDate, NaiveDate, i64, Option<i64>, Option<i64>, Option<i64>);

async fn certificates_where(db: &Db, condition: &str, only: Only) -> Result<Vec<CertRow>> {
    let sql = format!(
        "SELECT ce.certificate_id, ce.person_id, t.class_id, ce.issued_on, t.start_date, ce.assessment_body_id, \
         t.assessment_body_id, c.claim_id, c.amount_fen \
         FROM certificate ce JOIN assessment a ON a.assessment_id = ce.assessment_id \
         JOIN enrolment e ON e.enrolment_id = a.enrolment_id JOIN training_class t ON t.class_id = e.class_id \
         LEFT JOIN claim c ON c.certificate_id = ce.certificate_id AND {PAYING} \
         WHERE {condition}{} ORDER BY ce.certificate_id, c.claim_id",
        only.and("ce.person_id")
    );
    Ok(with_pool!(db, |p| sqlx::query_as(&sql).fetch_all(p).await?))
}

/// One finding per certificate, with the claims it brought as money at stake.
fn per_certificate(check: Check, rows: Vec<CertRow>, say: impl Fn(&CertRow) -> (String, String)) -> Vec<Found> {
    let mut by_cert: BTreeMap<i64, (CertRow, Vec<i64>, i64)> = BTreeMap::new();
    for r in rows {
        let e = by_cert.entry(r.0).or_insert((r, Vec::new(), 0));
        if let (Some(claim), Some(fen)) = (r.7, r.8) {
            e.1.push(claim);
            e.2 += fen;
        }
    }
    by_cert
        .into_values()
        .map(|(r, claims, fen)| {
            let (zh, en) = say(&r);
            found(
                check,
                format!("certificate:{}", r.0),
                zh,
                en,
                json!({"certificate": [r.0], "person": [r.1], "class": [r.2], "claim": claims,
                       "assessment_body": sorted([Some(r.5), r.6].into_iter().flatten().collect())}),
                (!claims.is_empty()).then_some(fen),
            )
        })
        .collect()
}

/// S12: a certificate dated before its class started.
pub async fn certificate_before_class(db: &Db, only: Only) -> Result<Vec<Found>> {
    let rows = certificates_where(db, "ce.issued_on < t.start_date", only).await?;
    Ok(per_certificate(Check::CertificateBeforeClass, rows, |r| {
        (
            format!("第 {} 号证书发证日期 {} 早于第 {} 号培训班开班日期 {}", r.0, r.3, r.2, r.4),
            format!("certificate {} was issued on {}, before class {} started on {}", r.0, r.3, r.2, r.4),
        )
    }))
}

/// S12: a certificate issued by a body other than the one its class named.
pub async fn certificate_other_body(db: &Db, only: Only) -> Result<Vec<Found>> {
    let rows = certificates_where(
        db,
        "t.assessment_body_id IS NOT NULL AND ce.assessment_body_id IS NOT NULL \
         AND ce.assessment_body_id <> t.assessment_body_id",
        only,
    )
    .await?;
    Ok(per_certificate(Check::CertificateOtherBody, rows, |r| {
        let named = r.6.unwrap_or_default();
        (
            format!("第 {} 号证书由第 {} 号评价机构颁发，而第 {} 号培训班指定的是第 {named} 号评价机构", r.0, r.5, r.2),
            format!("certificate {} was issued by assessment body {}, class {} named body {named}", r.0, r.5, r.2),
        )
    }))
}

/// A cohort: this many of the same people at least, so that one person retraining is no finding.
const COHORT_MIN: i64 = 3;

/// S12/S1: two classes of one provider whose rosters are at least 80 % the same people (of the
/// larger roster): the same trainees recycled to draw the subsidy twice.
pub async fn recycled_cohort(db: &Db) -> Result<Vec<Found>> {
    let rows: Vec<(i64, i64, i64, i64, i64, i64)> = with_pool!(db, |p| sqlx::query_as(
        "WITH size AS (SELECT class_id, COUNT(*) AS n FROM enrolment GROUP BY class_id) \
         SELECT t1.provider_id, e1.class_id, e2.class_id, COUNT(*), s1.n, s2.n \
         FROM enrolment e1 JOIN enrolment e2 ON e2.person_id = e1.person_id AND e2.class_id > e1.class_id \
         JOIN training_class t1 ON t1.class_id = e1.class_id \
         JOIN training_class t2 ON t2.class_id = e2.class_id AND t2.provider_id = t1.provider_id \
         JOIN size s1 ON s1.class_id = e1.class_id JOIN size s2 ON s2.class_id = e2.class_id \
         GROUP BY t1.provider_id, e1.class_id, e2.class_id, s1.n, s2.n \
         HAVING COUNT(*) >= $1 AND COUNT(*) * 5 >= s1.n * 4 AND COUNT(*) * 5 >= s2.n * 4 \
         ORDER BY e1.class_id, e2.class_id"
    )
    .bind(COHORT_MIN)
    .fetch_all(p)
    .await?);
    Ok(rows
        .into_iter()
        .map(|(provider, a, b, shared, na, nb)| {
            let pct = shared * 100 / na.max(nb);
            found(
                Check::RecycledCohort,
                format!("classes:{a},{b}"),
                format!("第 {provider} 号培训机构的第 {a} 号（{na} 人）与第 {b} 号（{nb} 人）培训班有 {shared} 名相同学员（{pct}%，阈值 80%）"),
                format!("provider {provider}'s classes {a} ({na}) and {b} ({nb}) share {shared} trainees ({pct} %, threshold 80 %)"),
                json!({"provider": [provider], "class": [a, b], "shared": shared, "percent": pct}),
                None,
            )
        })
        .collect())
}

/// Person, kind, claim, occupation, level, year, fen.
type Grant = (i64, String, i64, String, Option<i64>, String, i64);
/// Person, occupation, level.
type Skill = (i64, String, Option<i64>);

/// Training and skill-upgrade subsidies granted, with the certificate's occupation, level and year.
async fn granted_subsidies(db: &Db, only: Only) -> Result<Vec<Grant>> {
    let sql = format!(
        "SELECT c.person_id, c.kind, c.claim_id, ce.occupation_code, ce.level, \
         SUBSTR(CAST(ce.issued_on AS TEXT), 1, 4), c.amount_fen \
         FROM claim c JOIN certificate ce ON ce.certificate_id = c.certificate_id \
         WHERE c.kind IN ('training_subsidy', 'skill_upgrade_subsidy') AND c.person_id IS NOT NULL AND {PAYING}{} \
         ORDER BY c.person_id, ce.issued_on, c.claim_id",
        only.and("c.person_id")
    );
    Ok(with_pool!(db, |p| sqlx::query_as(&sql).fetch_all(p).await?))
}

/// S7: more training subsidies for one person in one calendar year than the S7 cap (the
/// parameter `certificate_subsidies_per_year` in force that year, 3 in the plan: the engine's
/// cap, checked again as a second line of defence). The money at stake is what the claims beyond
/// the cap grant.
pub async fn over_yearly_cap(db: &Db, only: Only) -> Result<Vec<Found>> {
    let params = crate::parameters::effective(db).await?;
    let cap_in = |year: &str| -> usize {
        let end = year.parse().ok().and_then(|y| NaiveDate::from_ymd_opt(y, 12, 31)).unwrap_or_default();
        usize::try_from(params.version(jineng_policy::Key::CertificatesPerYear, end).value).unwrap_or(0)
    };
    let mut by_year: BTreeMap<(i64, String), Vec<(i64, i64)>> = BTreeMap::new();
    for (person, kind, claim, _, _, year, fen) in granted_subsidies(db, only).await? {
        if kind == "training_subsidy" {
            by_year.entry((person, year)).or_default().push((claim, fen));
        }
    }
    Ok(by_year
        .into_iter()
        .filter(|((_, year), claims)| claims.len() > cap_in(year))
        .map(|((person, year), claims)| {
            let cap = cap_in(&year);
            let over: i64 = claims[cap..].iter().map(|c| c.1).sum();
            let ids_: Vec<i64> = claims.iter().map(|c| c.0).collect();
            found(
                Check::OverYearlyCap,
                format!("person:{person}/{year}"),
                format!(
                    "第 {person} 号人员 {year} 年获批培训补贴 {} 次（上限 {cap} 次）：申请 {}",
                    claims.len(),
                    ids(&ids_)
                ),
                format!(
                    "person {person} was granted {} training subsidies in {year} (cap {cap}): claims {}",
                    claims.len(),
                    ids(&ids_)
                ),
                json!({"person": [person], "claim": ids_, "year": year}),
                Some(over),
            )
        })
        .collect())
}

/// S7: the same occupation at the same level paid twice (training or skill-upgrade subsidy, S3:
/// one of the two). The money at stake is what the claims after the first grant.
pub async fn paid_twice(db: &Db, only: Only) -> Result<Vec<Found>> {
    let mut by_skill: BTreeMap<Skill, Vec<(i64, i64)>> = BTreeMap::new();
    for (person, _, claim, occupation, level, _, fen) in granted_subsidies(db, only).await? {
        by_skill.entry((person, occupation, level)).or_default().push((claim, fen));
    }
    Ok(by_skill
        .into_iter()
        .filter(|(_, claims)| claims.len() > 1)
        .map(|((person, occupation, level), claims)| {
            let again: i64 = claims[1..].iter().map(|c| c.1).sum();
            let ids_: Vec<i64> = claims.iter().map(|c| c.0).collect();
            let lv = level.map(|l| l.to_string()).unwrap_or_else(|| "—".into());
            found(
                Check::PaidTwice,
                format!("person:{person}/{occupation}/{lv}"),
                format!(
                    "第 {person} 号人员同一职业（{occupation}）同一等级（{lv}）获批补贴 {} 次：申请 {}",
                    claims.len(),
                    ids(&ids_)
                ),
                format!(
                    "person {person} was granted {} subsidies for occupation {occupation} level {lv}: claims {}",
                    claims.len(),
                    ids(&ids_)
                ),
                json!({"person": [person], "claim": ids_, "occupation": occupation, "level": level}),
                Some(again),
            )
        })
        .collect())
}

/// Person, class, enrolment, claim, fen.
type PensionRow = (i64, i64, i64, Option<i64>, Option<i64>);
/// Classes, enrolments, claims, fen.
type Enrolled = (Vec<i64>, Vec<i64>, Vec<i64>, i64);

/// S8: a person with a monthly pension enrolled on a subsidised class; the money at stake is
/// what the claims from that class's certificates grant.
pub async fn pensioner_trainee(db: &Db, only: Only) -> Result<Vec<Found>> {
    let sql = format!(
        "SELECT p.person_id, e.class_id, e.enrolment_id, c.claim_id, c.amount_fen \
         FROM person p JOIN enrolment e ON e.person_id = p.person_id \
         JOIN training_class t ON t.class_id = e.class_id \
         LEFT JOIN assessment a ON a.enrolment_id = e.enrolment_id \
         LEFT JOIN certificate ce ON ce.assessment_id = a.assessment_id \
         LEFT JOIN claim c ON c.certificate_id = ce.certificate_id AND {PAYING} \
         WHERE p.monthly_pension = TRUE AND t.subsidised = TRUE{} ORDER BY p.person_id, e.class_id, c.claim_id",
        only.and("p.person_id")
    );
    let rows: Vec<PensionRow> = with_pool!(db, |p| sqlx::query_as(&sql).fetch_all(p).await?);
    let mut by_person: BTreeMap<i64, Enrolled> = BTreeMap::new();
    for (person, class, enrolment, claim, fen) in rows {
        let e = by_person.entry(person).or_default();
        e.0.push(class);
        e.1.push(enrolment);
        if let (Some(claim), Some(fen)) = (claim, fen) {
            e.2.push(claim);
            e.3 += fen;
        }
    }
    Ok(by_person
        .into_iter()
        .map(|(person, (classes, enrolments, claims, fen))| {
            let classes = sorted(classes);
            found(
                Check::PensionerTrainee,
                format!("person:{person}"),
                format!("第 {person} 号人员按月领取养老金，却参加了补贴培训班 {}", ids(&classes)),
                format!("person {person} draws a monthly pension and is on subsidised classes {}", ids(&classes)),
                json!({"person": [person], "class": classes, "enrolment": sorted(enrolments), "claim": claims}),
                (!claims.is_empty()).then_some(fen),
            )
        })
        .collect())
}

/// The last 4 digits of a phone, the rest hidden.
fn mask_phone(phone: &str) -> String {
    let digits: Vec<char> = phone.chars().collect();
    let keep = digits.len().min(4);
    format!("{}{}", "*".repeat(digits.len() - keep), digits[digits.len() - keep..].iter().collect::<String>())
}

/// S12: one phone number shared by people whom different providers enrolled or different
/// employers employ (one finding per phone; the phone is masked in the evidence).
pub async fn shared_phone(db: &Db, only: Only) -> Result<Vec<Found>> {
    let only_people = match only {
        Only::All => String::new(),
        // Everyone sharing that person's phone.
        Only::Person(id) => format!(" AND p1.phone = (SELECT x.phone FROM person x WHERE x.person_id = {id})"),
    };
    let sql = format!(
        "SELECT p1.phone, p1.person_id, p2.person_id FROM person p1 \
         JOIN person p2 ON p2.phone = p1.phone AND p2.person_id > p1.person_id \
         WHERE p1.phone IS NOT NULL AND p1.phone <> '' AND ( \
           EXISTS (SELECT 1 FROM enrolment e1 JOIN training_class t1 ON t1.class_id = e1.class_id \
                   JOIN enrolment e2 ON e2.person_id = p2.person_id JOIN training_class t2 ON t2.class_id = e2.class_id \
                   WHERE e1.person_id = p1.person_id AND t1.provider_id <> t2.provider_id) \
           OR EXISTS (SELECT 1 FROM employment m1 JOIN employment m2 ON m2.person_id = p2.person_id \
                   WHERE m1.person_id = p1.person_id AND m1.employer_id <> m2.employer_id)) \
{only_people} ORDER BY p1.phone, p1.person_id, p2.person_id"
    );
    let rows: Vec<(String, i64, i64)> = with_pool!(db, |p| { sqlx::query_as(&sql).fetch_all(p).await? });
    let mut by_phone: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for (phone, a, b) in rows {
        by_phone.entry(phone).or_default().extend([a, b]);
    }
    Ok(by_phone
        .into_iter()
        .map(|(phone, people)| {
            let people = sorted(people);
            let masked = mask_phone(&phone);
            found(
                Check::SharedPhone,
                format!("people:{}", people.iter().map(i64::to_string).collect::<Vec<_>>().join(",")),
                format!(
                    "手机号 {masked} 由 {} 人共用（人员 {}），他们属于不同的培训机构或用人单位",
                    people.len(),
                    ids(&people)
                ),
                format!(
                    "phone {masked} is shared by {} people ({}) of different providers or employers",
                    people.len(),
                    ids(&people)
                ),
                json!({"person": people, "phone": masked}),
                None,
            )
        })
        .collect())
}

/// A payee's kind and id, and the claims paid or to be paid to it with their amounts.
type PayeeClaims = BTreeMap<(String, i64), Vec<(i64, i64)>>;

/// S12: one bank account in force for two or more payees (providers, employers, people): a
/// provider paid into a trainee's account, two providers or employers banking together, or
/// several workers' subsidies paid into one account. One finding per account (masked in the
/// evidence); the money at stake is what the payees were granted, and the finding names those
/// claims, so that confirming it stops them.
pub async fn shared_bank_account(db: &Db, only: Only) -> Result<Vec<Found>> {
    let only_sql = match only {
        Only::All => String::new(),
        // The accounts of that person.
        Only::Person(id) => format!(
            " AND b1.account_no IN (SELECT x.account_no FROM bank_account x WHERE x.retired_at IS NULL \
             AND x.payee_kind = 'person' AND x.payee_id = {id})"
        ),
    };
    let sql = format!(
        "SELECT b1.account_no, b1.payee_kind, b1.payee_id FROM bank_account b1 WHERE b1.retired_at IS NULL \
         AND EXISTS (SELECT 1 FROM bank_account b2 WHERE b2.account_no = b1.account_no AND b2.retired_at IS NULL \
         AND (b2.payee_kind <> b1.payee_kind OR b2.payee_id <> b1.payee_id)){only_sql} \
         ORDER BY b1.account_no, b1.payee_kind, b1.payee_id"
    );
    let rows: Vec<(String, String, i64)> = with_pool!(db, |p| sqlx::query_as(&sql).fetch_all(p).await?);
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    // What each of those payees was granted: one query per kind of payee, by its claim index.
    let mut granted: PayeeClaims = BTreeMap::new();
    for (kind, column) in [("person", "person_id"), ("employer", "employer_id"), ("provider", "provider_id")] {
        let wanted: Vec<i64> = rows.iter().filter(|r| r.1 == kind).map(|r| r.2).collect();
        if wanted.is_empty() {
            continue;
        }
        let sql = format!(
            "SELECT c.{column}, c.claim_id, c.amount_fen FROM claim c WHERE c.{column} IN ({}) \
             AND c.payee LIKE '{{\"{kind}\"%' AND {PAYING} ORDER BY c.claim_id",
            ids(&sorted(wanted))
        );
        let claims: Vec<(i64, i64, i64)> = with_pool!(db, |p| sqlx::query_as(&sql).fetch_all(p).await?);
        for (payee, claim, amount) in claims {
            granted.entry((kind.to_owned(), payee)).or_default().push((claim, amount));
        }
    }
    let mut by_account: BTreeMap<String, Vec<(String, i64)>> = BTreeMap::new();
    for (number, kind, id) in rows {
        by_account.entry(number).or_default().push((kind, id));
    }
    Ok(by_account
        .into_iter()
        .map(|(number, payees)| {
            let masked = jineng_domain::id_number::mask(&number);
            let of = |kind: &str| -> Vec<i64> { payees.iter().filter(|p| p.0 == kind).map(|p| p.1).collect() };
            let claims: Vec<(i64, i64)> =
                payees.iter().flat_map(|p| granted.get(p).cloned().unwrap_or_default()).collect();
            let money: i64 = claims.iter().map(|c| c.1).sum();
            let named = |zh: bool| -> String {
                [
                    ("provider", "培训机构", "provider"),
                    ("employer", "用人单位", "employer"),
                    ("person", "人员", "person"),
                ]
                .iter()
                .filter(|(k, ..)| !of(k).is_empty())
                .map(|(k, z, e)| format!("{} {}", if zh { z } else { e }, ids(&of(k))))
                .collect::<Vec<_>>()
                .join(if zh { "、" } else { ", " })
            };
            found(
                Check::SharedBankAccount,
                format!("payees:{}", payees.iter().map(|(k, id)| format!("{k}:{id}")).collect::<Vec<_>>().join(",")),
                format!(
                    "银行账户 {masked} 同时登记为 {} 个收款人的账户（{}），涉及补贴 {} 笔",
                    payees.len(),
                    named(true),
                    claims.len()
                ),
                format!(
                    "bank account {masked} is in force for {} payees ({}), with {} subsidy claims",
                    payees.len(),
                    named(false),
                    claims.len()
                ),
                json!({"provider": of("provider"), "employer": of("employer"), "person": of("person"),
                    "claim": claims.iter().map(|c| c.0).collect::<Vec<_>>(), "account": masked}),
                (money > 0).then_some(money),
            )
        })
        .collect())
}

/// S12 "signed in by one hand": at least this many check-ins of one class on one day...
pub const SAME_HAND_MIN: usize = 5;
/// ...within this many seconds of each other...
pub const SAME_HAND_SECONDS: i64 = 10;
/// ...and at least this share (in %) of that class's check-ins that day.
pub const SAME_HAND_SHARE_PCT: usize = 50;

/// Class, day, check-in, when.
type CheckIn = (i64, NaiveDate, i64, chrono::DateTime<chrono::Utc>);
/// A check-in and when.
type Stamp = (i64, chrono::DateTime<chrono::Utc>);
/// A day signed by one hand: the day, check-ins in the window, that day's, the window's ids.
type HandDay = (NaiveDate, usize, usize, Vec<i64>);

/// S12: check-ins signed in by one hand. The statistic: for each class and day, the largest
/// number of check-ins whose `checked_at` fall within [`SAME_HAND_SECONDS`] seconds of each
/// other; a finding when it is at least [`SAME_HAND_MIN`] and at least [`SAME_HAND_SHARE_PCT`] %
/// of that day's check-ins (one finding per class, naming each such day). The query keeps only
/// class-days where some 10-second bucket of the clock holds 3 check-ins or more (any 5 within
/// 10 s span at most two buckets, so one holds 3), then Rust slides the window.
pub async fn same_hand_check_ins(db: &Db) -> Result<Vec<Found>> {
    let rows: Vec<CheckIn> = with_pool!(db, |p| sqlx::query_as(
        "WITH hot AS (SELECT DISTINCT class_id, day FROM ( \
             SELECT e.class_id, a.day FROM attendance a JOIN enrolment e ON e.enrolment_id = a.enrolment_id \
             GROUP BY e.class_id, a.day, SUBSTR(CAST(a.checked_at AS TEXT), 1, 18) HAVING COUNT(*) >= 3) b) \
         SELECT h.class_id, h.day, a.attendance_id, a.checked_at FROM hot h \
         JOIN enrolment e ON e.class_id = h.class_id \
         JOIN attendance a ON a.enrolment_id = e.enrolment_id AND a.day = h.day \
         ORDER BY h.class_id, h.day, a.checked_at, a.attendance_id"
    )
    .fetch_all(p)
    .await?);
    let mut by_day: BTreeMap<(i64, NaiveDate), Vec<Stamp>> = BTreeMap::new();
    for (class, day, att, at) in rows {
        by_day.entry((class, day)).or_default().push((att, at));
    }
    let mut by_class: BTreeMap<i64, Vec<HandDay>> = BTreeMap::new();
    for ((class, day), mut all) in by_day {
        all.sort_by_key(|r| (r.1, r.0));
        let (mut best, mut from) = ((0, 0), 0);
        for to in 0..all.len() {
            while (all[to].1 - all[from].1).num_seconds() > SAME_HAND_SECONDS {
                from += 1;
            }
            if to + 1 - from > best.1 - best.0 {
                best = (from, to + 1);
            }
        }
        let n = best.1 - best.0;
        if n >= SAME_HAND_MIN && n * 100 >= all.len() * SAME_HAND_SHARE_PCT {
            let ids = sorted(all[best.0..best.1].iter().map(|r| r.0).collect());
            by_class.entry(class).or_default().push((day, n, all.len(), ids));
        }
    }
    Ok(by_class
        .into_iter()
        .map(|(class, days)| {
            let zh: Vec<String> = days.iter().map(|d| format!("{}：{} 次中 {} 次", d.0, d.2, d.1)).collect();
            let en: Vec<String> = days.iter().map(|d| format!("{}: {} of {}", d.0, d.1, d.2)).collect();
            let attendance = sorted(days.iter().flat_map(|d| d.3.iter().copied()).collect());
            found(
                Check::SameHandCheckIns,
                format!("class:{class}"),
                format!(
                    "第 {class} 号培训班同一天有多名学员在 {SAME_HAND_SECONDS} 秒内签到，疑为一人代签（{}；阈值：同班同日 {SAME_HAND_SECONDS} 秒内至少 {SAME_HAND_MIN} 次且不少于当日签到的 {SAME_HAND_SHARE_PCT}%）",
                    zh.join("；")
                ),
                format!(
                    "class {class} has many trainees checked in within {SAME_HAND_SECONDS} seconds on one day, as if signed in by one hand ({}; threshold: at least {SAME_HAND_MIN} of one class and day within {SAME_HAND_SECONDS} s and at least {SAME_HAND_SHARE_PCT} % of that day's check-ins)",
                    en.join("; ")
                ),
                json!({"class": [class], "attendance": attendance,
                       "days": days.iter().map(|d| json!({"day": d.0.to_string(), "within": d.1, "checked_in": d.2})).collect::<Vec<_>>()}),
                None,
            )
        })
        .collect())
}

/// S8: the statutory retirement age (men, women).
pub const RETIREMENT_AGE: (i32, i32) = (60, 50);

/// Age in whole years on a day.
fn age_on(birth: NaiveDate, day: NaiveDate) -> i32 {
    use chrono::Datelike;
    let mut age = day.year() - birth.year();
    if (day.month(), day.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age
}

/// Person, ID number, class, start date, enrolment, claim, fen.
type AgeRow = (i64, String, i64, NaiveDate, i64, Option<i64>, Option<i64>);

/// S8: a trainee on a subsidised class who, on the class's start date, has reached the statutory
/// retirement age ([`RETIREMENT_AGE`]: men 60, women 50), sex and birth date read from the
/// 18-digit ID number (digits 7–14 the birth date, digit 17 odd for a man). The query keeps
/// those 50 or older by the years alone; Rust decides on the exact day. The money at stake is
/// what the claims from those classes' certificates grant.
pub async fn past_retirement_age(db: &Db, only: Only) -> Result<Vec<Found>> {
    let sql = format!(
        "SELECT p.person_id, p.id_number, e.class_id, t.start_date, e.enrolment_id, c.claim_id, c.amount_fen \
         FROM person p JOIN enrolment e ON e.person_id = p.person_id \
         JOIN training_class t ON t.class_id = e.class_id \
         LEFT JOIN assessment a ON a.enrolment_id = e.enrolment_id \
         LEFT JOIN certificate ce ON ce.assessment_id = a.assessment_id \
         LEFT JOIN claim c ON c.certificate_id = ce.certificate_id AND {PAYING} \
         WHERE t.subsidised = TRUE \
           AND CAST(SUBSTR(CAST(t.start_date AS TEXT), 1, 4) AS INTEGER) - CAST(SUBSTR(p.id_number, 7, 4) AS INTEGER) >= $1{} \
         ORDER BY p.person_id, e.class_id, c.claim_id",
        only.and("p.person_id")
    );
    let rows: Vec<AgeRow> = with_pool!(db, |p| sqlx::query_as(&sql).bind(RETIREMENT_AGE.1).fetch_all(p).await?);
    // Per person: sex, birth, (class, start, age), enrolments, claims, fen.
    type Past = (jineng_domain::id_number::Sex, NaiveDate, Vec<(i64, NaiveDate, i32)>, Vec<i64>, Vec<i64>, i64);
    let mut by_person: BTreeMap<i64, Past> = BTreeMap::new();
    for (person, number, class, start, enrolment, claim, fen) in rows {
        let Ok(id) = jineng_domain::IdNumber::parse(&number) else { continue };
        let (sex, birth) = (id.sex(), id.birth_date());
        let limit = match sex {
            jineng_domain::id_number::Sex::Male => RETIREMENT_AGE.0,
            jineng_domain::id_number::Sex::Female => RETIREMENT_AGE.1,
        };
        let age = age_on(birth, start);
        if age < limit {
            continue;
        }
        let e = by_person.entry(person).or_insert((sex, birth, Vec::new(), Vec::new(), Vec::new(), 0));
        if !e.2.iter().any(|c| c.0 == class) {
            e.2.push((class, start, age));
        }
        e.3.push(enrolment);
        if let (Some(claim), Some(fen)) = (claim, fen) {
            e.4.push(claim);
            e.5 += fen;
        }
    }
    Ok(by_person
        .into_iter()
        .map(|(person, (sex, birth, classes, enrolments, claims, fen))| {
            let (limit, en_sex) = match sex {
                jineng_domain::id_number::Sex::Male => (RETIREMENT_AGE.0, "a man"),
                jineng_domain::id_number::Sex::Female => (RETIREMENT_AGE.1, "a woman"),
            };
            let zh: Vec<String> =
                classes.iter().map(|c| format!("第 {} 号培训班 {} 开班时 {} 岁", c.0, c.1, c.2)).collect();
            let en: Vec<String> =
                classes.iter().map(|c| format!("class {} starting {} at {}", c.0, c.1, c.2)).collect();
            found(
                Check::PastRetirementAge,
                format!("person:{person}"),
                format!(
                    "第 {person} 号人员（{}，{birth} 出生，据身份证号）已达法定退休年龄 {limit} 岁，却参加了补贴培训：{}",
                    sex.zh(),
                    zh.join("；")
                ),
                format!(
                    "person {person} ({en_sex} born {birth}, from the ID number) had reached the retirement age of {limit} on subsidised classes: {}",
                    en.join("; ")
                ),
                json!({"person": [person], "class": classes.iter().map(|c| c.0).collect::<Vec<_>>(),
                       "enrolment": sorted(enrolments), "claim": sorted(claims.clone()),
                       "ages": classes.iter().map(|c| json!({"class": c.0, "start": c.1.to_string(), "age": c.2})).collect::<Vec<_>>()}),
                (!claims.is_empty()).then_some(fen),
            )
        })
        .collect())
}

/// S12 year-end rush: the last days of the year that count (17–31 December)...
pub const YEAR_END_FROM: &str = "12-17";
/// ...at least this many of one filer's claims filed in them...
pub const YEAR_END_MIN: i64 = 10;
/// ...making at least this share (in %) of that filer's claims of the year.
pub const YEAR_END_SHARE_PCT: i64 = 30;

/// Filer kind, filer, year, the year's claims, the last days' claims, claim, fen at stake.
type RushRow = (String, i64, String, i64, i64, i64, i64);
/// Filer kind, filer, year.
type Filer = (String, i64, String);
/// The year's claims, the last days' claims, those claims, fen at stake.
type Rush = (i64, i64, Vec<i64>, i64);

/// S12: claims concentrated on one filer just before year end. The filer is the provider or
/// employer the claim names (the provider first); the statistic is the filer's claims filed
/// (`filed_on`) in the last 15 days of a calendar year (from [`YEAR_END_FROM`]) against all its
/// claims filed that year; a finding when they are at least [`YEAR_END_MIN`] and at least
/// [`YEAR_END_SHARE_PCT`] % of the year's (one finding per filer and year). The money at stake
/// is what those last days' claims grant.
pub async fn year_end_rush(db: &Db) -> Result<Vec<Found>> {
    let sql = format!(
        "WITH filed AS (SELECT c.claim_id, \
             CASE WHEN c.provider_id IS NOT NULL THEN 'provider' ELSE 'employer' END AS kind, \
             COALESCE(c.provider_id, c.employer_id) AS filer, \
             SUBSTR(CAST(c.filed_on AS TEXT), 1, 4) AS yr, \
             CASE WHEN SUBSTR(CAST(c.filed_on AS TEXT), 6, 5) >= '{YEAR_END_FROM}' THEN 1 ELSE 0 END AS late, \
             CASE WHEN {PAYING} THEN c.amount_fen ELSE 0 END AS fen \
             FROM claim c WHERE c.provider_id IS NOT NULL OR c.employer_id IS NOT NULL), \
         rush AS (SELECT kind, filer, yr, COUNT(*) AS n, SUM(late) AS late FROM filed \
             GROUP BY kind, filer, yr HAVING SUM(late) >= $1 AND SUM(late) * 100 >= COUNT(*) * $2) \
         SELECT r.kind, r.filer, r.yr, r.n, r.late, f.claim_id, f.fen FROM rush r \
         JOIN filed f ON f.kind = r.kind AND f.filer = r.filer AND f.yr = r.yr AND f.late = 1 \
         ORDER BY r.kind, r.filer, r.yr, f.claim_id"
    );
    let rows: Vec<RushRow> =
        with_pool!(db, |p| sqlx::query_as(&sql).bind(YEAR_END_MIN).bind(YEAR_END_SHARE_PCT).fetch_all(p).await?);
    let mut by_filer: BTreeMap<Filer, Rush> = BTreeMap::new();
    for (kind, filer, year, n, late, claim, fen) in rows {
        let e = by_filer.entry((kind, filer, year)).or_insert((n, late, Vec::new(), 0));
        e.2.push(claim);
        e.3 += fen;
    }
    Ok(by_filer
        .into_iter()
        .map(|((kind, filer, year), (n, late, claims, fen))| {
            let pct = late * 100 / n.max(1);
            let zh_kind = if kind == "provider" { "培训机构" } else { "用人单位" };
            found(
                Check::YearEndRush,
                format!("{kind}:{filer}/{year}"),
                format!(
                    "第 {filer} 号{zh_kind} {year} 年共申请补贴 {n} 笔，其中 {late} 笔（{pct}%）集中在年末最后 15 天（12月17日至31日）申请（阈值：至少 {YEAR_END_MIN} 笔且不少于全年的 {YEAR_END_SHARE_PCT}%）"
                ),
                format!(
                    "{kind} {filer} filed {n} claims in {year}, {late} of them ({pct} %) in the year's last 15 days (17–31 December) (threshold: at least {YEAR_END_MIN} and at least {YEAR_END_SHARE_PCT} % of the year's)"
                ),
                json!({kind.clone(): [filer], "claim": claims, "year": year, "claims_in_year": n, "claims_at_year_end": late, "percent": pct}),
                (fen > 0).then_some(fen),
            )
        })
        .collect())
}

/// Days the social-insurance record may start after a declared employment (contributions
/// begin with the month after hiring).
pub const INSURED_GRACE_DAYS: i64 = 62;

/// Employment, person, employer, from, the insured-since value, as of.
type EmploymentRow = (i64, i64, i64, NaiveDate, Option<String>, NaiveDate);

/// S12: an employment the employer declared (source `declared`, with an employer that insures
/// its staff) that the social-insurance import contradicts: its latest `insured_since` fact says
/// the person is not insured, or insured only from more than [`INSURED_GRACE_DAYS`] days after
/// the declared start (one finding per employment).
pub async fn employment_contradicted(db: &Db, only: Only) -> Result<Vec<Found>> {
    let sql = format!(
        "SELECT m.employment_id, m.person_id, m.employer_id, m.from_date, f.value, f.as_of \
         FROM employment m JOIN employer r ON r.employer_id = m.employer_id \
         JOIN person_fact f ON f.person_id = m.person_id AND f.fact = 'insured_since' AND f.source = 'social_insurance' \
         WHERE m.source = 'declared' AND r.insured = TRUE AND (m.to_date IS NULL OR m.to_date >= f.as_of) \
           AND (f.value IS NULL OR f.value = '' OR f.value > CAST(m.from_date AS TEXT)) \
           AND NOT EXISTS (SELECT 1 FROM person_fact g WHERE g.person_id = f.person_id AND g.fact = 'insured_since' \
                AND g.source = 'social_insurance' AND (g.as_of > f.as_of OR (g.as_of = f.as_of AND g.person_fact_id > f.person_fact_id))) \
{} ORDER BY m.employment_id",
        only.and("m.person_id")
    );
    let rows: Vec<EmploymentRow> = with_pool!(db, |p| { sqlx::query_as(&sql).fetch_all(p).await? });
    Ok(rows
        .into_iter()
        .filter_map(|(employment, person, employer, from, value, as_of)| {
            let since = value.as_deref().and_then(|v| v.parse::<NaiveDate>().ok());
            let (zh, en) = match since {
                Some(s) if (s - from).num_days() <= INSURED_GRACE_DAYS => return None,
                Some(s) => (
                    format!("社保记录（截至 {as_of}）显示其 {s} 才开始参保"),
                    format!("the social-insurance record (as of {as_of}) has them insured only from {s}"),
                ),
                None => (
                    format!("社保记录（截至 {as_of}）显示其未参保"),
                    format!("the social-insurance record (as of {as_of}) has them not insured"),
                ),
            };
            Some(found(
                Check::EmploymentContradicted,
                format!("employment:{employment}"),
                format!("第 {employer} 号用人单位申报第 {person} 号人员自 {from} 起在本单位就业，但{zh}"),
                format!("employer {employer} declared person {person} employed from {from}, but {en}"),
                json!({"employment": [employment], "person": [person], "employer": [employer],
                       "declared_from": from.to_string(), "insured_since": since.map(|s| s.to_string())}),
                None,
            ))
        })
        .collect())
}

/// Providers compared within one county and occupation: at least this many, each with enough
/// rows for its statistic.
const OUTLIER_PEERS: usize = 3;
/// How far above the group's median a provider must be, in median absolute deviations (MAD),
/// with a floor on the MAD so that a tight group does not flag small differences.
const OUTLIER_MADS: i64 = 3;

/// The statistics compared: (code, Chinese, English, the least rows, the MAD floor) — pass rate
/// in permille of ≥ 10 assessed (floor 50 ‰, and ≥ 950 ‰ to flag), trainees per class of ≥ 2
/// classes (floor 5), subsidy granted per trainee in fen of ≥ 10 trainees, among providers
/// granted something (floor 5,000 fen).
const OUTLIER_STATS: [(&str, &str, &str, i64, i64); 3] = [
    ("pass_rate", "考核合格率（‰）", "pass rate (‰)", 10, 50),
    ("class_size", "平均班额（人）", "trainees per class", 2, 5),
    ("subsidy_per_trainee", "人均补贴（分）", "subsidy per trainee (fen)", 10, 5_000),
];

/// Per county, occupation and provider: classes, trainees, assessed, passed, subsidy granted.
type OutlierRow = (String, String, i64, i64, i64, i64, i64, i64);

fn median(v: &mut [i64]) -> i64 {
    v.sort_unstable();
    let n = v.len();
    if n == 0 {
        0
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2
    }
}

/// S12: a provider whose pass rate, class size or subsidy per trainee is an outlier among the
/// providers of its county and occupation: above the group's median by more than 3 median
/// absolute deviations (with a floor), in groups of at least 3 providers with enough rows
/// each (see [`OUTLIER_STATS`]). One finding per provider, county, occupation and statistic.
pub async fn provider_outlier(db: &Db) -> Result<Vec<Found>> {
    let sql = format!(
        "SELECT t.county_code, t.occupation_code, t.provider_id, COUNT(DISTINCT t.class_id), COUNT(e.enrolment_id), \
         COUNT(a.assessment_id), CAST(SUM(CASE WHEN a.passed THEN 1 ELSE 0 END) AS BIGINT), \
         CAST(COALESCE(SUM(c.amount_fen), 0) AS BIGINT) \
         FROM training_class t JOIN enrolment e ON e.class_id = t.class_id \
         LEFT JOIN assessment a ON a.enrolment_id = e.enrolment_id \
         LEFT JOIN certificate ce ON ce.assessment_id = a.assessment_id \
         LEFT JOIN claim c ON c.certificate_id = ce.certificate_id AND {PAYING} \
         GROUP BY t.county_code, t.occupation_code, t.provider_id \
         ORDER BY t.county_code, t.occupation_code, t.provider_id"
    );
    let rows: Vec<OutlierRow> = with_pool!(db, |p| sqlx::query_as(&sql).fetch_all(p).await?);
    let mut groups: BTreeMap<(String, String), Vec<OutlierRow>> = BTreeMap::new();
    for r in rows {
        groups.entry((r.0.clone(), r.1.clone())).or_default().push(r);
    }
    let mut out = Vec::new();
    for ((county, occupation), members) in groups {
        for (code, zh, en, least, floor) in OUTLIER_STATS {
            // (provider, value) of the providers with enough rows for this statistic.
            let values: Vec<(i64, i64)> = members
                .iter()
                .filter_map(|&(_, _, provider, classes, trainees, assessed, passed, fen)| match code {
                    "pass_rate" => (assessed >= least).then(|| (provider, passed * 1000 / assessed.max(1))),
                    "class_size" => (classes >= least).then(|| (provider, trainees / classes.max(1))),
                    // Among providers whose trainees were granted something: most classes
                    // have no claim yet, and a median of nothing makes every payer an outlier.
                    _ => (trainees >= least && fen > 0).then(|| (provider, fen / trainees.max(1))),
                })
                .collect();
            if values.len() < OUTLIER_PEERS {
                continue;
            }
            let mut v: Vec<i64> = values.iter().map(|x| x.1).collect();
            let med = median(&mut v);
            let mut dev: Vec<i64> = values.iter().map(|x| (x.1 - med).abs()).collect();
            let mad = median(&mut dev).max(floor);
            for &(provider, value) in &values {
                let high = value > med + OUTLIER_MADS * mad && (code != "pass_rate" || value >= 950);
                if !high {
                    continue;
                }
                let peers: Vec<i64> = values.iter().map(|x| x.0).filter(|&p| p != provider).collect();
                out.push(found(
                    Check::ProviderOutlier,
                    format!("provider:{provider}/{county}/{occupation}/{code}"),
                    format!(
                        "第 {provider} 号培训机构在本县区（{county}）{occupation} 职业的{zh}为 {value}，同组 {} 家机构中位数 {med}，\
                         高出 {} 个绝对中位差（阈值 {OUTLIER_MADS}，绝对中位差取 {mad}）",
                        values.len(),
                        (value - med) / mad.max(1)
                    ),
                    format!(
                        "provider {provider}'s {en} in county {county}, occupation {occupation}, is {value}; the median of the {} providers is {med}, \
                         {} MADs above it (threshold {OUTLIER_MADS}, MAD taken as {mad})",
                        values.len(),
                        (value - med) / mad.max(1)
                    ),
                    json!({"provider": [provider], "peers": peers, "statistic": code, "value": value, "median": med, "mad": mad}),
                    None,
                ));
            }
        }
    }
    Ok(out)
}

/// Runs one check.
pub async fn run(db: &Db, check: Check) -> Result<Vec<Found>> {
    run_only(db, check, Only::All).await
}

/// The checks about one person's rows, run for each new claim (the others — a class's
/// check-ins, a provider's cohorts, a filer's year — run on the schedule and on demand).
pub const PERSONAL: [Check; 10] = [
    Check::TwoClassesOneDay,
    Check::CertificateBeforeClass,
    Check::CertificateOtherBody,
    Check::OverYearlyCap,
    Check::PaidTwice,
    Check::PensionerTrainee,
    Check::SharedPhone,
    Check::PastRetirementAge,
    Check::EmploymentContradicted,
    Check::SharedBankAccount,
];

/// Runs one check over all rows or one person's (a check not in [`PERSONAL`] finds nothing
/// for one person).
pub async fn run_only(db: &Db, check: Check, only: Only) -> Result<Vec<Found>> {
    if only != Only::All && !PERSONAL.contains(&check) {
        return Ok(Vec::new());
    }
    match check {
        Check::TwoClassesOneDay => two_classes_one_day(db, only).await,
        Check::OutsideClassDates => outside_class_dates(db).await,
        Check::OverCapacity => over_capacity(db).await,
        Check::CertificateBeforeClass => certificate_before_class(db, only).await,
        Check::CertificateOtherBody => certificate_other_body(db, only).await,
        Check::RecycledCohort => recycled_cohort(db).await,
        Check::OverYearlyCap => over_yearly_cap(db, only).await,
        Check::PaidTwice => paid_twice(db, only).await,
        Check::PensionerTrainee => pensioner_trainee(db, only).await,
        Check::SharedPhone => shared_phone(db, only).await,
        Check::SameHandCheckIns => same_hand_check_ins(db).await,
        Check::PastRetirementAge => past_retirement_age(db, only).await,
        Check::YearEndRush => year_end_rush(db).await,
        Check::EmploymentContradicted => employment_contradicted(db, only).await,
        Check::ProviderOutlier => provider_outlier(db).await,
        Check::SharedBankAccount => shared_bank_account(db, only).await,
    }
}

/// The incremental checks of a new claim, before it can be published: every check about the
/// claim's person, what is new recorded as by a full run (audited when something is found).
/// A claim of no person (equipment, a project) has none.
pub async fn for_claim(db: &Db, claim_id: i64) -> Result<RunSummary> {
    let person: Option<Option<i64>> =
        with_pool!(db, |p| sqlx::query_scalar("SELECT person_id FROM claim WHERE claim_id = $1")
            .bind(claim_id)
            .fetch_optional(p)
            .await?);
    let Some(Some(person)) = person else { return Ok(RunSummary { recorded: 0, found: 0 }) };
    // The nine queries at once (each a few index lookups): the claim waits for the slowest,
    // not for their sum.
    let mut running = tokio::task::JoinSet::new();
    for check in PERSONAL {
        let db = db.clone();
        running.spawn(async move { run_only(&db, check, Only::Person(person)).await });
    }
    let mut all = Vec::new();
    while let Some(done) = running.join_next().await {
        all.extend(done.map_err(|e| StoreError::Db(sqlx::Error::Protocol(format!("a check stopped: {e}"))))??);
    }
    // The same order as one by one, whatever finished first.
    all.sort_by(|a, b| (a.check.code(), &a.subject).cmp(&(b.check.code(), &b.subject)));
    record(db, None, all, &format!("claim:{claim_id}")).await
}

/// What a run of every check recorded.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RunSummary {
    /// Findings new to the table.
    pub recorded: usize,
    /// What the checks found in all, new or known.
    pub found: usize,
}

/// Runs every check and records what is new: a finding is new unless its check and subject
/// have an open finding, or a decided one with the same evidence (a dismissed finding comes
/// back only when its evidence changes).
pub async fn run_all(db: &Db, actor: Actor) -> Result<RunSummary> {
    let mut all = Vec::new();
    for check in Check::ALL {
        all.extend(run(db, check).await?);
    }
    record(db, actor, all, "all").await
}

/// Records what is new of `all` (see [`run_all`]); `what` names the run in the audit log. A
/// run for one claim is audited only when it records something.
async fn record(db: &Db, actor: Actor, all: Vec<Found>, what: &str) -> Result<RunSummary> {
    if all.is_empty() && what != "all" {
        return Ok(RunSummary { recorded: 0, found: 0 });
    }
    let t = now();
    let mut recorded = 0;
    let mut tx = db.begin().await?;
    for f in &all {
        let evidence = f.evidence.to_string();
        let known: i64 = on_tx!(&mut tx, |c| {
            sqlx::query_scalar(
            "SELECT COUNT(*) FROM finding WHERE check_code = $1 AND subject = $2 AND (status = 'open' OR evidence = $3)"
        )
        .bind(f.check.code())
        .bind(&f.subject)
        .bind(&evidence)
        .fetch_one(&mut **c)
        .await?
        });
        if known > 0 {
            continue;
        }
        let id: Option<i64> = on_tx!(&mut tx, |c| sqlx::query_scalar(
            "INSERT INTO finding (check_code, clause, subject, evidence, money_fen, status, found_at) \
             VALUES ($1, $2, $3, $4, $5, 'open', $6) ON CONFLICT DO NOTHING RETURNING finding_id"
        )
        .bind(f.check.code())
        .bind(f.check.clause())
        .bind(&f.subject)
        .bind(&evidence)
        .bind(f.money_fen)
        .bind(t)
        .fetch_optional(&mut **c)
        .await?);
        // A run at the same moment may have recorded it first: then it is not new.
        let Some(id) = id else { continue };
        recorded += 1;
        link(&mut tx, id, &f.evidence).await?;
    }
    if what == "all" || recorded > 0 {
        let detail = json!({"recorded": recorded, "found": all.len()});
        on_tx!(&mut tx, |c| audit::record(&mut **c, actor, "run_checks", "finding", what, &detail).await?);
    }
    tx.commit().await?;
    Ok(RunSummary { recorded, found: all.len() })
}

/// The tables of a finding's evidence that name what it touches (`finding_link.kind`).
const LINKED: [&str; 6] = ["claim", "certificate", "person", "class", "provider", "employer"];

/// Records what a new finding touches, and the county and provider it is filed under: the
/// class's county and provider, else the claim's, else the certificate holder's or the
/// person's county and the provider of their class.
async fn link(tx: &mut crate::Tx, finding_id: i64, evidence: &Value) -> Result<()> {
    let rows = &evidence["rows"];
    let ids_of = |kind: &str| -> Vec<i64> {
        rows[kind].as_array().map(|a| a.iter().filter_map(Value::as_i64).collect()).unwrap_or_default()
    };
    // A finding that names claims, certificates, people or classes stops those; it names a
    // provider or employer as a whole only when it names nothing narrower (a year-end rush
    // stops the rushed claims, not every claim of the filer).
    let narrow = ["claim", "certificate", "person", "class"].iter().any(|k| !ids_of(k).is_empty());
    for kind in LINKED {
        if narrow && matches!(kind, "provider" | "employer") {
            continue;
        }
        for id in ids_of(kind) {
            on_tx!(tx, |c| {
                sqlx::query(
                    "INSERT INTO finding_link (finding_id, kind, ref_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                )
                .bind(finding_id)
                .bind(kind)
                .bind(id)
                .execute(&mut **c)
                .await?;
            });
        }
    }
    let first = |kind: &str| ids_of(kind).first().copied();
    let (sql, id) = if let Some(id) = first("class") {
        ("SELECT county_code, provider_id FROM training_class WHERE class_id = $1", id)
    } else if let Some(id) = first("claim") {
        ("SELECT county_code, provider_id FROM claim WHERE claim_id = $1", id)
    } else if let Some(id) = first("certificate") {
        (
            "SELECT p.county_code, t.provider_id FROM certificate ce JOIN person p ON p.person_id = ce.person_id \
             JOIN assessment a ON a.assessment_id = ce.assessment_id JOIN enrolment e ON e.enrolment_id = a.enrolment_id \
             JOIN training_class t ON t.class_id = e.class_id WHERE ce.certificate_id = $1",
            id,
        )
    } else if let Some(id) = first("person") {
        (
            "SELECT p.county_code, (SELECT MIN(t.provider_id) FROM enrolment e JOIN training_class t ON t.class_id = e.class_id \
             WHERE e.person_id = p.person_id) FROM person p WHERE p.person_id = $1",
            id,
        )
    } else if let Some(id) = first("provider") {
        ("SELECT county_code, provider_id FROM provider WHERE provider_id = $1", id)
    } else {
        return Ok(());
    };
    let at: Option<(Option<String>, Option<i64>)> =
        on_tx!(tx, |c| sqlx::query_as(sql).bind(id).fetch_optional(&mut **c).await?);
    if let Some((county, provider)) = at {
        on_tx!(tx, |c| {
            sqlx::query("UPDATE finding SET county_code = $1, provider_id = $2 WHERE finding_id = $3")
                .bind(&county)
                .bind(provider)
                .bind(finding_id)
                .execute(&mut **c)
                .await?;
        });
    }
    Ok(())
}

/// A recorded finding.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Finding {
    pub finding_id: i64,
    /// The check's code, e.g. `two_classes_one_day`.
    pub check_code: String,
    /// The clause it protects, e.g. `S12`.
    pub clause: String,
    pub subject: String,
    /// JSON: `{"zh", "en", "rows": {table: [ids]}, ...}`.
    pub evidence: String,
    /// Money at stake in fen, where there is some.
    pub money_fen: Option<i64>,
    /// `open`, `confirmed` or `dismissed`.
    pub status: String,
    pub reason: Option<String>,
    pub decided_by: Option<i64>,
    pub decided_at: Option<chrono::DateTime<chrono::Utc>>,
    pub found_at: chrono::DateTime<chrono::Utc>,
    /// The county it is filed under (the class's, claim's or person's).
    pub county_code: Option<String>,
    /// The provider it is filed under, if any.
    pub provider_id: Option<i64>,
}

/// Findings, newest first, by status, check and county if given (at most `limit`).
pub async fn list(
    db: &Db,
    status: Option<&str>,
    check: Option<&str>,
    county: Option<&str>,
    limit: i64,
) -> Result<Vec<Finding>> {
    Ok(with_pool!(db, |p| {
        sqlx::query_as(
        "SELECT finding_id, check_code, clause, subject, evidence, money_fen, status, reason, decided_by, decided_at, found_at, \
         county_code, provider_id FROM finding WHERE (CAST($1 AS TEXT) IS NULL OR status = $1) AND (CAST($2 AS TEXT) IS NULL OR check_code = $2) \
         AND (CAST($3 AS TEXT) IS NULL OR county_code = $3) ORDER BY finding_id DESC LIMIT $4"
    )
    .bind(status)
    .bind(check)
    .bind(county)
    .bind(limit)
    .fetch_all(p)
    .await?
    }))
}

/// An investigator's decision on an open finding: confirmed or dismissed, with a reason (audited).
pub async fn decide(db: &Db, actor: Actor, finding_id: i64, confirm: bool, reason: &str) -> Result<Finding> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(StoreError::invalid(
            "reason",
            Invalid::new("finding.reason_required", "请填写确认或排除的理由", "a reason is required"),
        ));
    }
    if reason.chars().count() > 2000 {
        return Err(StoreError::invalid(
            "reason",
            Invalid::new("finding.reason_long", "理由最多2000字", "a reason is at most 2,000 characters"),
        ));
    }
    let status = if confirm { "confirmed" } else { "dismissed" };
    let t = now();
    let mut tx = db.begin().await?;
    let current: Option<String> =
        on_tx!(&mut tx, |c| sqlx::query_scalar("SELECT status FROM finding WHERE finding_id = $1")
            .bind(finding_id)
            .fetch_optional(&mut **c)
            .await?);
    match current.as_deref() {
        None => return Err(StoreError::NotFound),
        Some("open") => {}
        Some(_) => {
            return Err(StoreError::conflict(
                "finding.decided",
                None,
                "该线索已处理",
                "the finding was decided already",
            ))
        }
    }
    let changed = on_tx!(&mut tx, |c| sqlx::query(
        "UPDATE finding SET status = $1, reason = $2, decided_by = $3, decided_at = $4 \
         WHERE finding_id = $5 AND status = 'open'"
    )
    .bind(status)
    .bind(reason)
    .bind(actor)
    .bind(t)
    .bind(finding_id)
    .execute(&mut **c)
    .await
    .map(|r| r.rows_affected())?);
    // Another decision may have come first (PostgreSQL reads the status without a lock).
    if changed == 0 {
        return Err(StoreError::conflict("finding.decided", None, "该线索已处理", "the finding was decided already"));
    }
    let detail = json!({"status": status, "reason": reason});
    on_tx!(&mut tx, |c| audit::record(&mut **c, actor, status, "finding", &finding_id.to_string(), &detail).await?);
    let f: Finding = on_tx!(&mut tx, |c| {
        sqlx::query_as(
        "SELECT finding_id, check_code, clause, subject, evidence, money_fen, status, reason, decided_by, decided_at, found_at, \
         county_code, provider_id FROM finding WHERE finding_id = $1"
    )
    .bind(finding_id)
    .fetch_one(&mut **c)
    .await?
    });
    tx.commit().await?;
    Ok(f)
}

/// A confirmed finding's status, or the refusal to act on one not confirmed.
async fn confirmed(db: &Db, finding_id: i64) -> Result<Finding> {
    let f: Finding = with_pool!(db, |p| sqlx::query_as(
        "SELECT finding_id, check_code, clause, subject, evidence, money_fen, status, reason, decided_by, decided_at, found_at, \
         county_code, provider_id FROM finding WHERE finding_id = $1"
    )
    .bind(finding_id)
    .fetch_optional(p)
    .await?)
    .ok_or(StoreError::NotFound)?;
    if f.status != "confirmed" {
        return Err(StoreError::invalid(
            "finding",
            Invalid::new(
                "finding.not_confirmed",
                "只有已确认属实的线索才能追回资金或暂停机构",
                "only a confirmed finding can open recoveries or suspend a provider",
            ),
        ));
    }
    Ok(f)
}

/// Opens the recovery of what was already paid on the claims a confirmed finding touches: each
/// paid claim becomes due for recovery (finance then records the sum paid back). Returns the
/// claims moved; claims not paid stay blocked by the finding instead.
pub async fn open_recoveries(db: &Db, actor: i64, finding_id: i64) -> Result<Vec<i64>> {
    confirmed(db, finding_id).await?;
    let paid: Vec<i64> = crate::stops::touched_claims(db, finding_id)
        .await?
        .into_iter()
        .filter(|c| c.1 == "paid")
        .map(|c| c.0)
        .collect();
    let t = now();
    let why = format!("疑点线索第 {finding_id} 号已确认属实，追回已拨付资金");
    crate::in_tx!(db, |tx| {
        for claim_id in &paid {
            crate::review::move_claim!(
                tx,
                *claim_id,
                jineng_domain::ClaimStatus::Paid,
                jineng_domain::ClaimStatus::RecoveryDue,
                jineng_domain::ClaimAction::Reclaim,
                Some(actor),
                &why,
                t
            );
        }
        audit::record(
            &mut *tx,
            Some(actor),
            "open_recoveries",
            "finding",
            &finding_id.to_string(),
            &json!({"claims": paid}),
        )
        .await?;
    });
    Ok(paid)
}

/// Suspends in the catalog the provider a confirmed finding is filed under (it can open no new
/// class; its claims stay blocked by the finding), with a reason; audited with before and after.
pub async fn suspend_provider(db: &Db, actor: i64, finding_id: i64, reason: &str) -> Result<i64> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 2000 {
        return Err(StoreError::invalid(
            "reason",
            Invalid::new(
                "finding.reason_required",
                "请填写暂停的理由（2000字以内）",
                "give the reason (at most 2,000 characters)",
            ),
        ));
    }
    let f = confirmed(db, finding_id).await?;
    let Some(provider) = f.provider_id else {
        return Err(StoreError::invalid(
            "finding",
            Invalid::new("finding.no_provider", "该线索不涉及培训机构", "this finding is not about a provider"),
        ));
    };
    let t = now();
    crate::in_tx!(db, |tx| {
        let before: Option<String> = sqlx::query_scalar(
            "UPDATE provider SET status = 'suspended', updated_at = $1 WHERE provider_id = $2 AND status = 'listed' \
             RETURNING 'listed'",
        )
        .bind(t)
        .bind(provider)
        .fetch_optional(&mut *tx)
        .await?;
        if before.is_none() {
            return Err(StoreError::conflict(
                "provider.not_listed",
                None,
                "该机构已不在目录中（已暂停或移出）",
                "the provider is no longer listed (suspended or removed already)",
            ));
        }
        audit::record(
            &mut *tx,
            Some(actor),
            "suspend_provider",
            "provider",
            &provider.to_string(),
            &json!({"before": {"status": "listed"}, "after": {"status": "suspended"}, "finding": finding_id, "reason": reason}),
        )
        .await?;
    });
    Ok(provider)
}

/// Runs every check on a schedule inside the server: first after `first`, then every `every`.
/// Each run is recorded like a run from the page (audited, by the system); a failed run is
/// logged and the schedule goes on.
pub fn spawn_scheduled(db: Db, first: std::time::Duration, every: std::time::Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        tokio::time::sleep(first).await;
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let started = std::time::Instant::now();
            match run_all(&db, None).await {
                Ok(s) => tracing::info!(
                    recorded = s.recorded,
                    found = s.found,
                    took_ms = started.elapsed().as_millis() as u64,
                    "scheduled checks ran"
                ),
                Err(e) => tracing::warn!(error = %e, "scheduled checks failed"),
            }
        }
    })
}
