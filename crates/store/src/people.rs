//! The real-name registry of workers.

use crate::audit::{self, Actor};
use crate::facts::Statement;
use crate::{now, on_tx, with_pool, Db, Result, StoreError};
use chrono::NaiveDate;
use jineng_domain::{GroupMembership, IdNumber, Invalid};
use serde::Serialize;

/// A person to register.
#[derive(Debug, Clone)]
pub struct NewPerson {
    /// Validated ID number.
    pub id_number: IdNumber,
    pub name: String,
    /// County of residence (admin code).
    pub county_code: String,
    /// Phone, optional.
    pub phone: Option<String>,
    /// Rural hukou.
    pub rural: bool,
    /// Priority groups with periods.
    pub groups: Vec<GroupMembership>,
}

/// Editable fields of a person (the ID number is fixed once registered).
#[derive(Debug, Clone)]
pub struct PersonUpdate {
    pub name: String,
    pub county_code: String,
    pub phone: Option<String>,
    /// Rural hukou.
    pub rural: bool,
    /// Start of continuous unemployment-insurance contributions (S3), if insured.
    pub insured_since: Option<chrono::NaiveDate>,
    /// Receives a monthly pension (S8).
    pub monthly_pension: bool,
    /// County (area code) where the person works or seeks work, if recorded: inside the city
    /// or outside it (S7, P-rules read it). None: none recorded.
    pub work_county: Option<String>,
}

/// A registered person.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct PersonRow {
    pub person_id: i64,
    /// Full ID number: mask it before it reaches a screen.
    pub id_number: String,
    pub name: String,
    /// `male` / `female`, from the ID number.
    pub sex: String,
    /// From the ID number.
    pub birth_date: chrono::NaiveDate,
    /// County code.
    pub county_code: String,
    /// County name.
    pub county_name: String,
    pub phone: Option<String>,
    /// Rural hukou.
    pub rural: bool,
    /// Start of continuous unemployment-insurance contributions.
    pub insured_since: Option<chrono::NaiveDate>,
    /// Receives a monthly pension.
    pub monthly_pension: bool,
    /// County of work (or job seeking), if recorded.
    pub work_county: Option<String>,
}

/// Who may be seen: the scope of the caller, enforced in SQL.
#[derive(Debug, Clone, Default)]
pub struct Visibility {
    /// Only people of this county.
    pub county: Option<String>,
    /// Only people enrolled in this provider's classes (kept in `provider_person`, one row per
    /// provider and trainee, so the list reads an index range in person order).
    pub provider_id: Option<i64>,
    /// Only this person.
    pub person_id: Option<i64>,
}

const SELECT: &str = "SELECT p.person_id, p.id_number, p.name, p.sex, p.birth_date, p.county_code, \
     c.name_zh AS county_name, p.phone, p.rural, p.insured_since, p.monthly_pension, p.work_county FROM person p JOIN county c ON c.county_code = p.county_code";

fn scope_sql(v: &Visibility, n: &mut usize, sql: &mut String) {
    scope_sql_after(v, n, sql, None)
}

/// As [`scope_sql`]; `after` names the placeholder of a person id the list starts after, so a
/// provider's later pages start their range there too (the planner does not carry
/// `p.person_id > x` into the sub-query).
fn scope_sql_after(v: &Visibility, n: &mut usize, sql: &mut String, after: Option<usize>) {
    if v.county.is_some() {
        *n += 1;
        sql.push_str(&format!(" AND p.county_code = ${n}"));
    }
    if v.provider_id.is_some() {
        *n += 1;
        let from = after.map(|a| format!(" AND pp.person_id > ${a}")).unwrap_or_default();
        sql.push_str(&format!(
            " AND p.person_id IN (SELECT pp.person_id FROM provider_person pp WHERE pp.provider_id = ${n}{from})"
        ));
    }
    if v.person_id.is_some() {
        *n += 1;
        sql.push_str(&format!(" AND p.person_id = ${n}"));
    }
}

macro_rules! bind_scope {
    ($q:expr, $v:expr) => {{
        let mut q = $q;
        if let Some(c) = &$v.county {
            q = q.bind(c.clone());
        }
        if let Some(id) = $v.provider_id {
            q = q.bind(id);
        }
        if let Some(id) = $v.person_id {
            q = q.bind(id);
        }
        q
    }};
}

/// The smallest string greater than every string that starts with `prefix` (its last
/// character's successor), so that `x >= prefix AND x < successor` is a prefix search an
/// ordinary index answers, in code-point order (= UTF-8 byte order).
fn successor(prefix: &str) -> String {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let mut next = last as u32 + 1;
        if (0xD800..0xE000).contains(&next) {
            next = 0xE000;
        }
        if let Some(c) = char::from_u32(next) {
            chars.push(c);
            return chars.into_iter().collect();
        }
    }
    char::MAX.to_string()
}

/// Searches by name (prefix) or ID number (prefix, at least 6 characters), within the scope,
/// one page after the person `after` (the `next` of the page before). Read by keyset on an
/// index made for each order, never counted:
/// - no search: by person id;
/// - an ID-number prefix: by ID number (its unique index);
/// - a name prefix: by name then person id, on an index of names in code-point order
///   (`person_name_key`; on PostgreSQL in the "C" collation, whose order is the bytes').
pub async fn search(
    db: &Db,
    vis: &Visibility,
    q: &str,
    limit: i64,
    after: Option<i64>,
) -> Result<crate::Page<PersonRow>> {
    let q = q.trim().to_uppercase();
    let collate = if matches!(db, Db::Postgres(_)) { " COLLATE \"C\"" } else { "" };
    let mut where_ = String::new();
    let mut n = 0;
    let looks_like_id = q.len() >= 6 && q.bytes().all(|b| b.is_ascii_digit() || b == b'X');
    let after = after.filter(|a| *a > 0);
    // The placeholder of `after` in the list by person id: the one after the scope's.
    let scoped =
        [vis.county.is_some(), vis.provider_id.is_some(), vis.person_id.is_some()].iter().filter(|s| **s).count();
    let floor = (q.is_empty() && after.is_some()).then_some(scoped + 1);
    scope_sql_after(vis, &mut n, &mut where_, floor);
    let (lo, hi) = (q.clone(), successor(&q));
    let order = if q.is_empty() {
        if after.is_some() {
            n += 1;
            debug_assert_eq!(Some(n), floor);
            where_.push_str(&format!(" AND p.person_id > ${n}"));
        }
        "p.person_id".to_owned()
    } else if looks_like_id {
        where_.push_str(&format!(" AND p.id_number >= ${} AND p.id_number < ${}", n + 1, n + 2));
        n += 2;
        if after.is_some() {
            n += 1;
            where_.push_str(&format!(" AND p.id_number > (SELECT id_number FROM person WHERE person_id = ${n})"));
        }
        "p.id_number".to_owned()
    } else {
        where_.push_str(&format!(" AND p.name{collate} >= ${} AND p.name{collate} < ${}", n + 1, n + 2));
        n += 2;
        if after.is_some() {
            n += 1;
            where_.push_str(&format!(
                " AND (p.name{collate}, p.person_id) > ((SELECT name FROM person WHERE person_id = ${n}){collate}, ${n})"
            ));
        }
        format!("p.name{collate}, p.person_id")
    };
    let sql = format!("{SELECT} WHERE 1 = 1{where_} ORDER BY {order} LIMIT ${}", n + 1);
    let limit = limit.max(1);
    let rows: Vec<PersonRow> = with_pool!(db, |p| {
        let mut rows = bind_scope!(sqlx::query_as::<_, PersonRow>(&sql), vis);
        if !q.is_empty() {
            rows = rows.bind(lo.clone()).bind(hi.clone());
        }
        if let Some(a) = after {
            rows = rows.bind(a);
        }
        rows.bind(limit + 1).fetch_all(p).await?
    });
    Ok(crate::Page::of(rows, limit, |r| r.person_id))
}

/// How many people the scope holds, from the counts kept per county (`county_people`),
/// without reading the people; `None` for a scope those counts cannot answer (a provider's
/// trainees, one person).
pub async fn count(db: &Db, vis: &Visibility) -> Result<Option<i64>> {
    if vis.provider_id.is_some() || vis.person_id.is_some() {
        return Ok(None);
    }
    let n: Option<i64> = with_pool!(db, |p| sqlx::query_scalar(
        "SELECT CAST(SUM(people) AS BIGINT) FROM county_people WHERE ($1 = '' OR county_code = $1)"
    )
    .bind(vis.county.clone().unwrap_or_default())
    .fetch_one(p)
    .await?);
    Ok(Some(n.unwrap_or(0)))
}

/// One person, if visible in the scope.
pub async fn get(db: &Db, vis: &Visibility, person_id: i64) -> Result<PersonRow> {
    let mut sql = format!("{SELECT} WHERE p.person_id = $1");
    let mut n = 1;
    scope_sql(vis, &mut n, &mut sql);
    with_pool!(db, |p| bind_scope!(sqlx::query_as::<_, PersonRow>(&sql).bind(person_id), vis).fetch_optional(p).await?)
        .ok_or(StoreError::NotFound)
}

/// One person by ID number (full), if visible.
pub async fn find_by_id_number(db: &Db, vis: &Visibility, id: &IdNumber) -> Result<Option<PersonRow>> {
    let mut sql = format!("{SELECT} WHERE p.id_number = $1");
    let mut n = 1;
    scope_sql(vis, &mut n, &mut sql);
    Ok(with_pool!(db, |p| bind_scope!(sqlx::query_as::<_, PersonRow>(&sql).bind(id.as_str()), vis)
        .fetch_optional(p)
        .await?))
}

fn check_name(name: &str) -> Result<()> {
    let n = name.trim().chars().count();
    if n == 0 || n > 50 {
        return Err(StoreError::invalid(
            "name",
            Invalid::new("name.length", "姓名不能为空且不超过50字", "a name is 1 to 50 characters"),
        ));
    }
    Ok(())
}

/// A phone number as stored: digits, `+`, `-`, spaces and brackets, at most 20 characters.
fn check_phone(phone: &Option<String>) -> Result<()> {
    let Some(p) = phone.as_deref().map(str::trim).filter(|p| !p.is_empty()) else { return Ok(()) };
    if p.chars().count() > 20 || !p.chars().all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | ' ' | '(' | ')')) {
        return Err(StoreError::invalid(
            "phone",
            Invalid::new(
                "phone.format",
                "电话号码只能含数字、+、-，不超过20位",
                "a phone number has digits, + and - only, at most 20",
            ),
        ));
    }
    Ok(())
}

/// Registers a person; a duplicate ID number is a conflict and writes nothing. The facts it
/// states (residence, rural hukou, groups) are recorded with the source the actor gives them
/// ([`crate::facts::source_of`]).
pub async fn create(db: &Db, actor: Actor, new: &NewPerson) -> Result<i64> {
    check_name(&new.name)?;
    check_phone(&new.phone)?;
    let t = now();
    let mut tx = db.begin().await?;
    let source = crate::facts::source_of(&mut tx, actor).await?;
    let id: i64 = on_tx!(&mut tx, |c| {
        sqlx::query_scalar(
            "INSERT INTO person (id_number, name, sex, birth_date, county_code, phone, rural, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING person_id",
        )
        .bind(new.id_number.as_str())
        .bind(new.name.trim())
        .bind(match new.id_number.sex() {
            jineng_domain::Sex::Male => "male",
            jineng_domain::Sex::Female => "female",
        })
        .bind(new.id_number.birth_date())
        .bind(&new.county_code)
        .bind(&new.phone)
        .bind(new.rural)
        .bind(t)
        .fetch_one(&mut **c)
        .await
        .map_err(|e| match StoreError::from(e) {
            StoreError::Invalid { .. } => {
                StoreError::invalid("county_code", Invalid::new("county.unknown", "县区代码不存在", "unknown county"))
            }
            other => other,
        })?
    });
    insert_groups(&mut tx, actor, id, source, &new.groups).await?;
    let today = t.date_naive();
    let mut facts = vec![Statement {
        person_id: id,
        fact: "residence_county",
        value: Some(new.county_code.clone()),
        source,
        as_of: today,
    }];
    if new.rural {
        facts.push(Statement { person_id: id, fact: "rural", value: Some("true".into()), source, as_of: today });
    }
    crate::facts::state(&mut tx, actor, None, &facts).await?;
    on_tx!(&mut tx, |c| {
        audit::record(
        &mut **c,
        actor,
        "create",
        "person",
        &id.to_string(),
        &serde_json::json!({
            "id_number": new.id_number.masked(), "name": new.name.trim(), "county_code": new.county_code, "source": source,
        }),
    )
    .await?
    });
    tx.commit().await?;
    Ok(id)
}

/// Inserts group memberships with their source, in the caller's transaction.
pub(crate) async fn insert_groups(
    tx: &mut crate::Tx,
    actor: Actor,
    person_id: i64,
    source: &str,
    groups: &[GroupMembership],
) -> Result<()> {
    let t = now();
    for g in groups {
        on_tx!(tx, |c| {
            sqlx::query(
            "INSERT INTO person_group (person_id, group_code, from_date, to_date, source, recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        )
        .bind(person_id)
        .bind(g.group.code())
        .bind(g.from)
        .bind(g.to)
        .bind(source.to_owned())
        .bind(actor)
        .bind(t)
        .execute(&mut **c)
        .await
        .map(|_| ())?
        });
    }
    Ok(())
}

/// Updates a person visible in the scope. Facts the update changes are recorded as statements
/// with the actor's source; facts it leaves as they were keep their source.
pub async fn update(db: &Db, actor: Actor, vis: &Visibility, person_id: i64, u: &PersonUpdate) -> Result<()> {
    check_name(&u.name)?;
    let before = get(db, vis, person_id).await?;
    // Forms show the phone masked: the masked number sent back means "unchanged".
    let unchanged = |p: &String| before.phone.as_deref().is_some_and(|old| *p == jineng_domain::phone::mask(old));
    let mut u = u.clone();
    if u.phone.as_ref().is_some_and(unchanged) {
        u.phone = before.phone.clone();
    }
    let u = &u;
    check_phone(&u.phone)?;
    let work = u.work_county.as_deref().map(str::trim).filter(|w| !w.is_empty());
    if let Some(w) = work {
        jineng_domain::AreaCode::parse(w).map_err(|e| StoreError::invalid("work_county", e))?;
    }
    let mut tx = db.begin().await?;
    if let Some(w) = work {
        crate::plan::ensure_areas(&mut tx, &[w.to_owned()]).await?;
    }
    let source = crate::facts::source_of(&mut tx, actor).await?;
    on_tx!(&mut tx, |c| {
        sqlx::query("UPDATE person SET name = $1, county_code = $2, phone = $3, rural = $4, updated_at = $5, insured_since = $7, monthly_pension = $8, work_county = $9 WHERE person_id = $6")
            .bind(u.name.trim())
            .bind(&u.county_code)
            .bind(&u.phone)
            .bind(u.rural)
            .bind(now())
            .bind(person_id)
            .bind(u.insured_since)
            .bind(u.monthly_pension)
            .bind(work)
            .execute(&mut **c)
            .await
            .map_err(|e| match StoreError::from(e) {
                StoreError::Invalid { .. } => StoreError::invalid("county_code", Invalid::new("county.unknown", "县区代码不存在", "unknown county")),
                other => other,
            })?;
    });
    let today = now().date_naive();
    let mut facts = Vec::new();
    let mut said = |fact: &'static str, value: Option<String>| {
        facts.push(Statement { person_id, fact, value, source, as_of: today });
    };
    if u.county_code != before.county_code {
        said("residence_county", Some(u.county_code.clone()));
    }
    if u.rural != before.rural {
        said("rural", Some(u.rural.to_string()));
    }
    if u.insured_since != before.insured_since {
        said("insured_since", u.insured_since.map(|d| d.to_string()));
    }
    if u.monthly_pension != before.monthly_pension {
        said("monthly_pension", Some(u.monthly_pension.to_string()));
    }
    if work != before.work_county.as_deref() {
        said("work_county", work.map(str::to_owned));
    }
    crate::facts::state(&mut tx, actor, None, &facts).await?;
    on_tx!(&mut tx, |c| {
        audit::record(&mut **c, actor, "update", "person", &person_id.to_string(), &serde_json::json!({
        "before": {"name": before.name, "county_code": before.county_code, "phone": before.phone.as_deref().map(jineng_domain::phone::mask), "rural": before.rural,
                   "insured_since": before.insured_since, "monthly_pension": before.monthly_pension},
        "after": {"name": u.name.trim(), "county_code": u.county_code, "phone": u.phone.as_deref().map(jineng_domain::phone::mask), "rural": u.rural,
                  "insured_since": u.insured_since, "monthly_pension": u.monthly_pension},
        "source": source,
    }))
    .await?
    });
    tx.commit().await?;
    Ok(())
}

/// A priority-group membership as stored.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct GroupRow {
    /// Group code.
    pub group_code: String,
    pub from_date: chrono::NaiveDate,
    /// To (inclusive), open if None.
    pub to_date: Option<chrono::NaiveDate>,
    /// Where it comes from (`poverty_roster`, `county_verified`, `declared`, …).
    pub source: String,
}

/// Priority groups of a person.
pub async fn groups(db: &Db, person_id: i64) -> Result<Vec<GroupRow>> {
    Ok(with_pool!(db, |p| {
        sqlx::query_as(
            "SELECT group_code, from_date, to_date, source FROM person_group WHERE person_id = $1 ORDER BY from_date",
        )
        .bind(person_id)
        .fetch_all(p)
        .await?
    }))
}

/// One training of a person, for their record.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct TrainingRow {
    /// Class id.
    pub class_id: i64,
    /// Class name.
    pub class_name: String,
    /// Program code.
    pub program_code: String,
    /// Occupation code.
    pub occupation_code: String,
    /// Occupation name.
    pub occupation_name: String,
    pub level: Option<i64>,
    /// Kind of training.
    pub kind: String,
    /// County where held.
    pub county_name: String,
    pub provider_name: String,
    pub start_date: chrono::NaiveDate,
    pub end_date: chrono::NaiveDate,
    /// Subsidised class.
    pub subsidised: bool,
    /// Completed on, if completed.
    pub completed_on: Option<chrono::NaiveDate>,
    /// Days checked in (attendance summary).
    pub days_attended: i64,
}

/// Trainings of one person, newest first.
/// `provider`: only the trainings in that provider's classes (what a provider may see).
pub async fn trainings(db: &Db, person_id: i64, provider: Option<i64>) -> Result<Vec<TrainingRow>> {
    let provider_is = crate::opt_eq("k.provider_id", 2, provider.is_some_and(|p| p != 0), "0");
    let sql = format!(
        "SELECT k.class_id, k.name AS class_name, k.program_code, k.occupation_code, o.name AS occupation_name, k.level, k.kind, \
         c.name_zh AS county_name, v.name AS provider_name, k.start_date, k.end_date, k.subsidised, m.completed_on, \
         (SELECT COUNT(*) FROM attendance a WHERE a.enrolment_id = e.enrolment_id) AS days_attended \
         FROM enrolment e JOIN training_class k ON k.class_id = e.class_id \
         JOIN occupation o ON o.occupation_code = k.occupation_code JOIN county c ON c.county_code = k.county_code \
         JOIN provider v ON v.provider_id = k.provider_id LEFT JOIN completion m ON m.enrolment_id = e.enrolment_id \
         WHERE e.person_id = $1 AND {provider_is} ORDER BY k.start_date DESC"
    );
    Ok(with_pool!(db, |p| { sqlx::query_as(&sql).bind(person_id).bind(provider.unwrap_or(0)).fetch_all(p).await? }))
}

/// Adds a priority-group membership from `from` (open-ended), with the actor's source.
pub async fn add_group(db: &Db, actor: Actor, person_id: i64, group: &str, from: chrono::NaiveDate) -> Result<()> {
    let g = jineng_domain::PriorityGroup::parse(group).map_err(|e| StoreError::invalid("group", e))?;
    let mut tx = db.begin().await?;
    let source = crate::facts::source_of(&mut tx, actor).await?;
    insert_groups(&mut tx, actor, person_id, source, &[GroupMembership { group: g, from, to: None }]).await?;
    on_tx!(&mut tx, |c| audit::record(
        &mut **c,
        actor,
        "add_group",
        "person",
        &person_id.to_string(),
        &serde_json::json!({"group": g.code(), "from": from, "source": source}),
    )
    .await?);
    tx.commit().await?;
    Ok(())
}

/// Records that `person_id` works for `employer_id` from `from` (as the employer declared with a
/// claim), in the caller's transaction; a second declaration of the same start is a no-op.
pub async fn record_employment(
    tx: &mut crate::Tx,
    actor: Actor,
    person_id: i64,
    employer_id: i64,
    from: NaiveDate,
) -> Result<()> {
    let t = now();
    let source = crate::facts::source_of(tx, actor).await?;
    crate::on_tx!(tx, |c| {
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO employment (person_id, employer_id, from_date, created_at, source, recorded_by) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (person_id, employer_id, from_date) DO NOTHING RETURNING employment_id",
        )
        .bind(person_id)
        .bind(employer_id)
        .bind(from)
        .bind(t)
        .bind(source)
        .bind(actor)
        .fetch_optional(&mut **c)
        .await?;
        if let Some(id) = id {
            audit::record(
                &mut **c,
                actor,
                "create",
                "employment",
                &id.to_string(),
                &serde_json::json!({"person_id": person_id, "employer_id": employer_id, "from": from}),
            )
            .await?;
        }
    });
    Ok(())
}
