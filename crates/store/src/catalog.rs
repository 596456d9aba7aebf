//! Published catalogs (M2): occupations (national codes plus the city's supplementary list of at
//! most ten), subsidised training projects, and the listed providers and assessment bodies.

use crate::audit::{self, Actor};
use crate::{in_tx, now, with_pool, Db, Result, StoreError};
use jineng_domain::{Invalid, SkillLevel};
use serde::Serialize;

/// The plan's limit on the city's supplementary occupations (M2).
pub const CITY_OCCUPATION_LIMIT: i64 = 10;

/// An occupation of the catalog.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Occupation {
    /// Code (national `4-10-01-06`, or the city's own).
    pub occupation_code: String,
    pub name: String,
    /// Whether it has skill levels.
    pub has_levels: bool,
    /// `national` or `city`.
    pub catalog: String,
    /// `listed`, `suspended` or `removed`.
    pub status: String,
    /// The city's own standard (supplementary occupations).
    pub standard: Option<String>,
}

/// A subsidised training project.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Project {
    pub subsidy_project_id: i64,
    pub occupation_code: String,
    /// Occupation name.
    pub occupation_name: String,
    /// Level, if any.
    pub level: Option<i64>,
    /// Class hours.
    pub class_hours: i64,
    /// Subsidy standard, fen per trainee.
    pub subsidy_fen: i64,
    pub status: String,
}

fn check_status(s: &str) -> Result<()> {
    if ["listed", "suspended", "removed"].contains(&s) {
        Ok(())
    } else {
        Err(StoreError::invalid("status", Invalid::new("catalog.status", "目录状态无效", "unknown catalog status")))
    }
}

/// Occupations, optionally only listed ones and matching a name or code fragment.
pub async fn occupations(db: &Db, only_listed: bool, q: &str) -> Result<Vec<Occupation>> {
    let q = q.trim();
    Ok(with_pool!(db, |p| sqlx::query_as(
        "SELECT occupation_code, name, has_levels, catalog, status, standard FROM occupation \
         WHERE ($1 = FALSE OR status = 'listed') AND ($2 = '' OR name LIKE $3 OR occupation_code LIKE $3) \
         ORDER BY catalog DESC, occupation_code"
    )
    .bind(only_listed)
    .bind(q)
    .bind(format!("%{q}%"))
    .fetch_all(p)
    .await?))
}

/// Every occupation of the city's own catalog, listed or removed (its maintenance page).
pub async fn city_catalog(db: &Db) -> Result<Vec<Occupation>> {
    Ok(with_pool!(db, |p| {
        sqlx::query_as(
        "SELECT occupation_code, name, has_levels, catalog, status, standard FROM occupation WHERE catalog = 'city' ORDER BY occupation_code"
    )
    .fetch_all(p)
    .await?
    }))
}

/// The city's own listed occupations (地方特色职业) matching a name or code fragment.
pub async fn city_occupations(db: &Db, q: &str) -> Result<Vec<Occupation>> {
    let q = q.trim();
    let search =
        if q.is_empty() { "$1 = ''" } else { "(name LIKE $2 ESCAPE '\\' OR occupation_code LIKE $2 ESCAPE '\\')" };
    let sql = format!(
        "SELECT occupation_code, name, has_levels, catalog, status, standard FROM occupation \
         WHERE catalog = 'city' AND status = 'listed' AND {search} ORDER BY occupation_code"
    );
    Ok(with_pool!(db, |p| sqlx::query_as(&sql).bind(q).bind(contains_pattern(q)).fetch_all(p).await?))
}

/// A fragment typed to search, as a `LIKE` pattern that matches it anywhere, literally (`%`, `_`
/// and `\` typed are themselves; the query says `ESCAPE '\'`).
fn contains_pattern(q: &str) -> String {
    let mut out = String::from("%");
    for c in q.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// One page of the listed national occupations whose code or name holds `q` (all when empty),
/// in code order, and how many there are in all.
pub async fn national_page(db: &Db, q: &str, limit: i64, offset: i64) -> Result<(Vec<Occupation>, i64)> {
    let q = q.trim();
    let pattern = contains_pattern(q);
    const WHERE: &str = "WHERE status = 'listed' AND catalog = 'national' \
         AND ($1 = '' OR name LIKE $2 ESCAPE '\\' OR occupation_code LIKE $2 ESCAPE '\\')";
    let rows = with_pool!(db, |p| sqlx::query_as(&format!(
        "SELECT occupation_code, name, has_levels, catalog, status, standard FROM occupation {WHERE} \
         ORDER BY occupation_code LIMIT $3 OFFSET $4"
    ))
    .bind(q)
    .bind(&pattern)
    .bind(limit)
    .bind(offset)
    .fetch_all(p)
    .await?);
    let total: i64 = with_pool!(db, |p| sqlx::query_scalar(&format!("SELECT COUNT(*) FROM occupation {WHERE}"))
        .bind(q)
        .bind(&pattern)
        .fetch_one(p)
        .await?);
    Ok((rows, total))
}

/// The listed subsidised projects whose occupation's code or name holds `q` (all when empty).
pub async fn listed_projects(db: &Db, q: &str) -> Result<Vec<Project>> {
    let q = q.trim();
    Ok(with_pool!(db, |p| {
        sqlx::query_as(
            "SELECT s.subsidy_project_id, s.occupation_code, o.name AS occupation_name, s.level, s.class_hours, s.subsidy_fen, s.status \
         FROM subsidy_project s JOIN occupation o ON o.occupation_code = s.occupation_code \
         WHERE s.status = 'listed' AND ($1 = '' OR o.name LIKE $2 ESCAPE '\\' OR s.occupation_code LIKE $2 ESCAPE '\\') \
         ORDER BY s.occupation_code, s.level",
        )
        .bind(q)
        .bind(contains_pattern(q))
        .fetch_all(p)
        .await?
    }))
}

/// Adds an occupation to the city's supplementary list; the eleventh is refused.
pub async fn add_city_occupation(
    db: &Db,
    actor: Actor,
    code: &str,
    name: &str,
    has_levels: bool,
    standard: &str,
) -> Result<()> {
    let (code, name, standard) = (code.trim(), name.trim(), standard.trim());
    if code.is_empty() || code.chars().count() > 20 {
        return Err(StoreError::invalid(
            "occupation_code",
            Invalid::new("occupation.code", "职业编码不能为空且不超过20字", "a code is 1 to 20 characters"),
        ));
    }
    if name.is_empty() {
        return Err(StoreError::invalid("name", Invalid::new("name.length", "职业名称不能为空", "a name is required")));
    }
    if standard.is_empty() {
        return Err(StoreError::invalid(
            "standard",
            Invalid::new(
                "occupation.standard",
                "市级补充职业须有本市制定的标准",
                "a city occupation needs the city's own standard",
            ),
        ));
    }
    let postgres = db.backend() == "postgres";
    in_tx!(db, |tx| {
        if postgres {
            // Two clerks adding the tenth and eleventh at once: the count and the insert are one step.
            sqlx::query("LOCK TABLE occupation IN SHARE ROW EXCLUSIVE MODE").execute(&mut *tx).await?;
        }
        let active: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM occupation WHERE catalog = 'city' AND status <> 'removed'")
                .fetch_one(&mut *tx)
                .await?;
        if active >= CITY_OCCUPATION_LIMIT {
            return Err(StoreError::invalid(
                "occupation_code",
                Invalid::new(
                    "catalog.city_limit",
                    format!("市级补充职业最多{CITY_OCCUPATION_LIMIT}个（方案M2），已有{active}个"),
                    format!("the city may add at most {CITY_OCCUPATION_LIMIT} occupations (M2); it has {active}"),
                ),
            ));
        }
        sqlx::query(
            "INSERT INTO occupation (occupation_code, name, major_group, has_levels, catalog, status, standard) VALUES ($1, $2, 0, $3, 'city', 'listed', $4)",
        )
        .bind(code)
        .bind(name)
        .bind(has_levels)
        .bind(standard)
        .execute(&mut *tx)
        .await?;
        audit::record(
            &mut *tx,
            actor,
            "create",
            "occupation",
            code,
            &serde_json::json!({"name": name, "catalog": "city", "standard": standard}),
        )
        .await?;
    });
    Ok(())
}

/// Changes an occupation's catalog status (kept in the audit log as its history).
pub async fn set_occupation_status(db: &Db, actor: Actor, code: &str, status: &str) -> Result<()> {
    check_status(status)?;
    in_tx!(db, |tx| {
        let row: Option<(String, String)> =
            sqlx::query_as("SELECT status, catalog FROM occupation WHERE occupation_code = $1")
                .bind(code)
                .fetch_optional(&mut *tx)
                .await?;
        let Some((before, catalog)) = row else { return Err(StoreError::NotFound) };
        if before == "removed" && status != "removed" && catalog == "city" {
            let active: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM occupation WHERE catalog = 'city' AND status <> 'removed'")
                    .fetch_one(&mut *tx)
                    .await?;
            if active >= CITY_OCCUPATION_LIMIT {
                return Err(StoreError::invalid(
                    "status",
                    Invalid::new("catalog.city_limit", "市级补充职业已满10个", "the city list is full"),
                ));
            }
        }
        sqlx::query("UPDATE occupation SET status = $1 WHERE occupation_code = $2")
            .bind(status)
            .bind(code)
            .execute(&mut *tx)
            .await?;
        audit::record(
            &mut *tx,
            actor,
            "set_status",
            "occupation",
            code,
            &serde_json::json!({"before": before, "after": status}),
        )
        .await?;
    });
    Ok(())
}

/// A project to create or the new values of one.
#[derive(Debug, Clone)]
pub struct ProjectInput {
    /// Occupation (must be listed).
    pub occupation_code: String,
    /// Level (required when the occupation has levels).
    pub level: Option<SkillLevel>,
    /// Class hours.
    pub class_hours: i64,
    /// Subsidy standard, fen.
    pub subsidy_fen: i64,
    pub status: String,
}

async fn check_project(db: &Db, i: &ProjectInput) -> Result<()> {
    check_status(&i.status)?;
    if i.class_hours <= 0 {
        return Err(StoreError::invalid(
            "class_hours",
            Invalid::new("project.hours", "课时须大于0", "class hours must be positive"),
        ));
    }
    if i.subsidy_fen < 0 {
        return Err(StoreError::invalid(
            "subsidy_fen",
            Invalid::new("project.subsidy", "补贴标准不能为负", "the subsidy cannot be negative"),
        ));
    }
    let occ: Option<(String, bool)> =
        with_pool!(db, |p| sqlx::query_as("SELECT status, has_levels FROM occupation WHERE occupation_code = $1")
            .bind(&i.occupation_code)
            .fetch_optional(p)
            .await?);
    match occ.map(|(status, has_levels)| OccStatus { status, has_levels }) {
        None => Err(StoreError::invalid(
            "occupation_code",
            Invalid::new("occupation.unknown", "职业不在目录中", "the occupation is not in the catalog"),
        )),
        Some(o) if o.status != "listed" => Err(StoreError::invalid(
            "occupation_code",
            Invalid::new("occupation.not_listed", "该职业已暂停或移出目录", "the occupation is suspended or removed"),
        )),
        Some(o) if o.has_levels && i.level.is_none() => Err(StoreError::invalid(
            "level",
            Invalid::new("project.level", "该职业分等级，须指定等级", "this occupation has levels: give one"),
        )),
        Some(_) => Ok(()),
    }
}

struct OccStatus {
    status: String,
    has_levels: bool,
}

/// Adds a subsidised project.
pub async fn create_project(db: &Db, actor: Actor, i: &ProjectInput) -> Result<i64> {
    check_project(db, i).await?;
    let t = now();
    let id = in_tx!(db, |tx| {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO subsidy_project (occupation_code, level, class_hours, subsidy_fen, status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING subsidy_project_id",
        )
        .bind(&i.occupation_code)
        .bind(i.level.map(|l| i64::from(l.get())))
        .bind(i.class_hours)
        .bind(i.subsidy_fen)
        .bind(&i.status)
        .bind(t)
        .fetch_one(&mut *tx)
        .await?;
        audit::record(&mut *tx, actor, "create", "subsidy_project", &id.to_string(), &serde_json::json!({
            "occupation": i.occupation_code, "level": i.level.map(|l| l.get()), "class_hours": i.class_hours, "subsidy_fen": i.subsidy_fen, "status": i.status,
        }))
        .await?;
        id
    });
    Ok(id)
}

/// Updates a project (hours, standard, status).
pub async fn update_project(db: &Db, actor: Actor, id: i64, i: &ProjectInput) -> Result<()> {
    check_project(db, i).await?;
    in_tx!(db, |tx| {
        let n = sqlx::query(
            "UPDATE subsidy_project SET occupation_code = $1, level = $2, class_hours = $3, subsidy_fen = $4, status = $5, updated_at = $6 WHERE subsidy_project_id = $7",
        )
        .bind(&i.occupation_code)
        .bind(i.level.map(|l| i64::from(l.get())))
        .bind(i.class_hours)
        .bind(i.subsidy_fen)
        .bind(&i.status)
        .bind(now())
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        audit::record(
            &mut *tx,
            actor,
            "update",
            "subsidy_project",
            &id.to_string(),
            &serde_json::json!({
                "class_hours": i.class_hours, "subsidy_fen": i.subsidy_fen, "status": i.status,
            }),
        )
        .await?;
    });
    Ok(())
}

/// Projects, optionally only listed ones.
pub async fn projects(db: &Db, only_listed: bool) -> Result<Vec<Project>> {
    Ok(with_pool!(db, |p| {
        sqlx::query_as(
        "SELECT s.subsidy_project_id, s.occupation_code, o.name AS occupation_name, s.level, s.class_hours, s.subsidy_fen, s.status \
         FROM subsidy_project s JOIN occupation o ON o.occupation_code = s.occupation_code \
         WHERE ($1 = FALSE OR s.status = 'listed') ORDER BY s.occupation_code, s.level"
    )
    .bind(only_listed)
    .fetch_all(p)
    .await?
    }))
}
