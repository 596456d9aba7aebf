//! Roster import from `.xlsx`: a template to fill in Excel or LibreOffice, every row checked the
//! way the registry checks one person (ID number, name, priority-group codes), duplicates inside
//! the file and against classes running at the same time; the import lands whole or not at all,
//! and a refused import keeps an error report (row, column, reason) to download as `.xlsx`.

use crate::audit::{self, Actor};
use crate::{in_tx, now, with_pool, Db, Result, StoreError};
use chrono::NaiveDate;
use jineng_domain::{IdNumber, Invalid, PriorityGroup};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

/// Column headers of the template (Chinese first).
pub const HEADERS: [&str; 4] = [
    "身份证号 ID number",
    "姓名 Name",
    "人员类别 Group codes (逗号分隔，可空)",
    "类别起始日期 Group since (YYYY-MM-DD，可空)",
];
const COLUMNS: [&str; 4] = ["A 身份证号", "B 姓名", "C 人员类别", "D 类别起始日期"];

/// One refused row: Excel row number, column and reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RowError {
    /// Row number as Excel shows it (the header is row 1).
    pub row: usize,
    /// Column letter and header.
    pub column: String,
    /// Reason, Chinese then English.
    pub reason: String,
}

/// A row that parsed.
#[derive(Debug, Clone)]
pub struct Row {
    /// Excel row number.
    pub row: usize,
    /// ID number.
    pub id: IdNumber,
    pub name: String,
    /// Priority groups.
    pub groups: Vec<PriorityGroup>,
    /// Groups since.
    pub since: Option<NaiveDate>,
}

fn err(row: usize, col: usize, reason: impl Into<String>) -> RowError {
    RowError { row, column: COLUMNS[col].to_owned(), reason: reason.into() }
}

/// The template: the roster sheet with a text-formatted ID column, and a sheet of group codes.
pub fn template() -> std::result::Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let text = Format::new().set_num_format("@");
    let ws = wb.add_worksheet();
    ws.set_name("花名册")?;
    for (i, h) in HEADERS.iter().enumerate() {
        ws.write_string_with_format(0, i as u16, *h, &bold)?;
        ws.set_column_width(i as u16, if i == 0 { 24 } else { 30 })?;
    }
    ws.set_column_format(0, &text)?;
    ws.set_column_format(3, &text)?;
    let codes = wb.add_worksheet();
    codes.set_name("人员类别代码")?;
    codes.write_string_with_format(0, 0, "代码 Code", &bold)?;
    codes.write_string_with_format(0, 1, "名称", &bold)?;
    codes.write_string_with_format(0, 2, "Name", &bold)?;
    for (i, g) in PriorityGroup::ALL.iter().enumerate() {
        let r = i as u32 + 1;
        codes.write_string(r, 0, g.code())?;
        codes.write_string(r, 1, g.zh())?;
        codes.write_string(r, 2, g.en())?;
    }
    codes.set_column_width(0, 26)?;
    codes.set_column_width(1, 20)?;
    wb.save_to_buffer()
}

/// The error report of a refused import.
pub fn error_report(errors: &[RowError]) -> std::result::Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let ws = wb.add_worksheet();
    ws.set_name("错误报告")?;
    for (i, h) in ["行号 Row", "列 Column", "原因 Reason"].iter().enumerate() {
        ws.write_string_with_format(0, i as u16, *h, &bold)?;
    }
    for (i, e) in errors.iter().enumerate() {
        let r = i as u32 + 1;
        ws.write_number(r, 0, e.row as f64)?;
        ws.write_string(r, 1, &e.column)?;
        ws.write_string(r, 2, &e.reason)?;
    }
    ws.set_column_width(1, 16)?;
    ws.set_column_width(2, 70)?;
    wb.save_to_buffer()
}

use crate::sheet::read_rows;
pub use crate::sheet::{MAX_CELL, MAX_ERRORS, MAX_ROWS, MAX_UNPACKED};

/// Parses an uploaded workbook: file-level problems are an `Err`; row problems are returned
/// with the rows that parsed (the first [`MAX_ERRORS`], then one line that counts the rest).
/// A workbook malformed enough to make the `.xlsx` reader panic is refused like any other
/// invalid file (the property test `roster_parse` found such files).
pub fn parse(bytes: &[u8]) -> std::result::Result<(Vec<Row>, Vec<RowError>), Invalid> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| parse_checked(bytes)))
        .unwrap_or_else(|_| Err(Invalid::new("roster.file", "不是有效的 .xlsx 文件", "not a valid .xlsx file")))
}

fn parse_checked(bytes: &[u8]) -> std::result::Result<(Vec<Row>, Vec<RowError>), Invalid> {
    let mut rows = read_rows::<4>(bytes)?.into_iter();
    let (_, header) = rows.next().ok_or_else(|| Invalid::new("roster.empty", "花名册为空", "the roster is empty"))?;
    let first = header[0].clone().and_then(|r| r.ok()).unwrap_or_default();
    if !first.starts_with("身份证号") {
        return Err(Invalid::new(
            "roster.header",
            "第1行应为模板表头（身份证号、姓名……），请使用下载的模板",
            "row 1 must be the template's header: use the template",
        ));
    }
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (row, cells) in rows {
        let get = |c: usize| cells[c].clone();
        let id = match get(0) {
            None => {
                errors.push(err(row, 0, "身份证号为空 / the ID number is empty"));
                None
            }
            Some(Err(e)) => {
                errors.push(err(row, 0, e));
                None
            }
            Some(Ok(s)) => match IdNumber::parse(&s) {
                Ok(id) => Some(id),
                Err(e) => {
                    errors.push(err(row, 0, e.to_string()));
                    None
                }
            },
        };
        let name = match get(1) {
            Some(Ok(n)) if n.chars().count() <= 50 => Some(n),
            _ => {
                errors.push(err(row, 1, "姓名为空或过长 / the name is empty or too long"));
                None
            }
        };
        let mut groups = Vec::new();
        if let Some(Ok(codes)) = get(2) {
            for code in codes.split([',', '，', ';', '、', ' ']).map(str::trim).filter(|c| !c.is_empty()) {
                match PriorityGroup::parse(code) {
                    Ok(g) => groups.push(g),
                    Err(e) => errors.push(err(row, 2, e.to_string())),
                }
            }
        }
        let since = match get(3) {
            None => None,
            Some(Ok(d)) => match d.parse::<NaiveDate>() {
                Ok(d) => Some(d),
                Err(_) => {
                    errors.push(err(row, 3, format!("日期“{d}”无效，应为 YYYY-MM-DD / bad date")));
                    None
                }
            },
            Some(Err(e)) => {
                errors.push(err(row, 3, e));
                None
            }
        };
        if !groups.is_empty() && since.is_none() && !errors.iter().any(|e| e.row == row && e.column == COLUMNS[3]) {
            errors.push(err(row, 3, "填写了人员类别须填起始日期 / give the date the groups apply from"));
        }
        if let (Some(id), Some(name)) = (id, name) {
            if let Some(first) = seen.insert(id.as_str().to_owned(), row) {
                errors.push(err(row, 0, format!("身份证号与第{first}行重复 / the same ID number as row {first}")));
                continue;
            }
            out.push(Row { row, id, name, groups, since });
        }
    }
    if out.is_empty() && errors.is_empty() {
        return Err(Invalid::new("roster.empty", "花名册没有数据行", "the roster has no rows"));
    }
    if errors.len() > MAX_ERRORS {
        let more = errors.len() - MAX_ERRORS;
        let next = errors[MAX_ERRORS].row;
        errors.truncate(MAX_ERRORS);
        errors.push(RowError {
            row: next,
            column: "…".into(),
            reason: format!(
                "另有 {more} 处错误未列出，请先改正以上错误 / {more} more errors not listed: correct these first"
            ),
        });
    }
    Ok((out, errors))
}

/// What an import did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Imported {
    /// Rows enrolled.
    pub enrolled: usize,
    /// Of which people registered by this import.
    pub registered: usize,
    /// The import record.
    pub roster_import_id: i64,
}

/// A refused import: the errors, and the record that keeps the report.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Refused {
    /// Every wrong row.
    pub errors: Vec<RowError>,
    /// The import record (for the report).
    pub roster_import_id: i64,
}

async fn record(db: &Db, actor: Actor, class_id: i64, rows: usize, outcome: &str, errors: &[RowError]) -> Result<i64> {
    let json = serde_json::to_string(errors).unwrap_or_else(|_| "[]".into());
    Ok(with_pool!(db, |p| {
        sqlx::query_scalar(
        "INSERT INTO roster_import (class_id, created_by, created_at, row_count, outcome, errors) VALUES ($1, $2, $3, $4, $5, $6) RETURNING roster_import_id"
    )
    .bind(class_id)
    .bind(actor)
    .bind(now())
    .bind(rows as i64)
    .bind(outcome)
    .bind(json)
    .fetch_one(p)
    .await?
    }))
}

/// The errors of an import (for its report), if the class is visible to the caller.
pub async fn errors_of(db: &Db, class_id: i64, import_id: i64) -> Result<Vec<RowError>> {
    let json: Option<String> = with_pool!(db, |p| sqlx::query_scalar(
        "SELECT errors FROM roster_import WHERE roster_import_id = $1 AND class_id = $2"
    )
    .bind(import_id)
    .bind(class_id)
    .fetch_optional(p)
    .await?);
    let json = json.ok_or(StoreError::NotFound)?;
    Ok(serde_json::from_str(&json).unwrap_or_default())
}

const BATCH: usize = 1000;

/// Imports parsed rows into a class that is not yet approved: checks every row against the
/// registry (a registered person's name must match) and against classes at the same time, then
/// registers the new people and enrols everyone in one transaction. Row errors from parsing are
/// passed in so the report lists them all.
pub async fn import(
    db: &Db,
    actor: Actor,
    class_id: i64,
    provider_id: Option<i64>,
    rows: Vec<Row>,
    mut errors: Vec<RowError>,
) -> Result<std::result::Result<Imported, Refused>> {
    let class: Option<(i64, String, NaiveDate, NaiveDate, Option<i64>, String)> = with_pool!(db, |p| {
        sqlx::query_as(
        "SELECT provider_id, status, start_date, end_date, capacity, county_code FROM training_class WHERE class_id = $1"
    )
    .bind(class_id)
    .fetch_optional(p)
    .await?
    });
    let Some((owner, status, start, end, capacity, class_county)) = class else { return Err(StoreError::NotFound) };
    if provider_id.is_some_and(|p| p != owner) {
        return Err(StoreError::NotFound);
    }
    if !matches!(status.as_str(), "submitted" | "returned") {
        return Err(StoreError::invalid(
            "status",
            Invalid::new(
                "roster.locked",
                "培训班已批准或结班，花名册不能再导入",
                "the class is approved or closed: its roster is fixed",
            ),
        ));
    }
    let counties: HashSet<String> =
        with_pool!(db, |p| sqlx::query_scalar::<_, String>("SELECT county_code FROM county WHERE NOT outside")
            .fetch_all(p)
            .await?)
        .into_iter()
        .collect();
    // Who is registered already, and who is in another class at the same time.
    let mut known: HashMap<String, (i64, String)> = HashMap::new();
    let mut busy: HashMap<i64, String> = HashMap::new();
    for chunk in rows.chunks(BATCH) {
        let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!("SELECT id_number, person_id, name FROM person WHERE id_number IN ({})", marks.join(", "));
        let found: Vec<(String, i64, String)> = with_pool!(db, |p| {
            let mut q = sqlx::query_as(&sql);
            for r in chunk {
                q = q.bind(r.id.as_str());
            }
            q.fetch_all(p).await?
        });
        let ids: Vec<i64> = found.iter().map(|(_, id, _)| *id).collect();
        for (idn, pid, name) in found {
            known.insert(idn, (pid, name));
        }
        if ids.is_empty() {
            continue;
        }
        let marks: Vec<String> = (4..4 + ids.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT e.person_id, k.name FROM enrolment e JOIN training_class k ON k.class_id = e.class_id \
             WHERE k.class_id <> $1 AND k.status IN ('submitted', 'approved') AND k.start_date <= $3 AND k.end_date >= $2 AND e.person_id IN ({})",
            marks.join(", ")
        );
        let clash: Vec<(i64, String)> = with_pool!(db, |p| {
            let mut q = sqlx::query_as(&sql).bind(class_id).bind(start).bind(end);
            for id in &ids {
                q = q.bind(*id);
            }
            q.fetch_all(p).await?
        });
        busy.extend(clash);
    }
    let already: HashSet<i64> =
        with_pool!(db, |p| sqlx::query_scalar::<_, i64>("SELECT person_id FROM enrolment WHERE class_id = $1")
            .bind(class_id)
            .fetch_all(p)
            .await?)
        .into_iter()
        .collect();
    let mut new_people = Vec::new();
    let mut enrol = Vec::new();
    for r in &rows {
        match known.get(r.id.as_str()) {
            Some((pid, name)) => {
                if *name != r.name {
                    errors.push(err(
                        r.row,
                        1,
                        format!("姓名“{}”与登记姓名不符 / the name does not match the registry", r.name),
                    ));
                } else if let Some(other) = busy.get(pid) {
                    errors.push(err(
                        r.row,
                        0,
                        format!("同一时间已在“{other}”培训 / already in another class at the same time"),
                    ));
                } else if !already.contains(pid) {
                    enrol.push(*pid);
                }
            }
            None => new_people.push(r),
        }
    }
    let total = already.len() + enrol.len() + new_people.len();
    if let Some(cap) = capacity {
        if total as i64 > cap {
            errors.push(RowError {
                row: 1,
                column: "—".into(),
                reason: format!("报名人数{total}超过班额{cap} / {total} trainees exceed the capacity {cap}"),
            });
        }
    }
    if !errors.is_empty() {
        errors.sort_by(|a, b| (a.row, &a.column).cmp(&(b.row, &b.column)));
        let id = record(db, actor, class_id, rows.len() + errors.len(), "refused", &errors).await?;
        return Ok(Err(Refused { errors, roster_import_id: id }));
    }
    let t = now();
    let registered = new_people.len();
    let enrolled = enrol.len() + new_people.len();
    // What the roster states about people is declared by whoever imports it (a provider) unless
    // a county office imports it.
    let source = crate::facts::source_of_db(db, actor).await?;
    in_tx!(db, |tx| {
        for chunk in new_people.chunks(BATCH) {
            let mut qb = sqlx::QueryBuilder::new("INSERT INTO person (id_number, name, sex, birth_date, county_code, phone, rural, created_at, updated_at) ");
            qb.push_values(chunk, |mut b, r| {
                let area = r.id.area().to_string();
                let county = if counties.contains(&area) { area } else { class_county.clone() };
                let sex = match r.id.sex() {
                    jineng_domain::Sex::Male => "male",
                    jineng_domain::Sex::Female => "female",
                };
                b.push_bind(r.id.as_str().to_owned())
                    .push_bind(r.name.clone())
                    .push_bind(sex)
                    .push_bind(r.id.birth_date())
                    .push_bind(county)
                    .push_bind(None::<String>)
                    .push_bind(false)
                    .push_bind(t)
                    .push_bind(t);
            });
            qb.push(" RETURNING person_id");
            let ids: Vec<i64> = qb.build_query_scalar().fetch_all(&mut *tx).await?;
            let mut qb = sqlx::QueryBuilder::new(
                "INSERT INTO person_fact (person_id, fact, value, source, recorded_by, as_of, recorded_at) ",
            );
            qb.push_values(chunk.iter().zip(&ids), |mut b, (r, id)| {
                let area = r.id.area().to_string();
                let county = if counties.contains(&area) { area } else { class_county.clone() };
                b.push_bind(*id)
                    .push_bind("residence_county")
                    .push_bind(county)
                    .push_bind(source)
                    .push_bind(actor)
                    .push_bind(t.date_naive())
                    .push_bind(t);
            });
            qb.build().execute(&mut *tx).await?;
            let mut groups = Vec::new();
            for (r, id) in chunk.iter().zip(&ids) {
                enrol.push(*id);
                for g in &r.groups {
                    groups.push((*id, g.code(), r.since.unwrap_or(start)));
                }
            }
            for gchunk in groups.chunks(BATCH) {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO person_group (person_id, group_code, from_date, source, recorded_by, recorded_at) ",
                );
                qb.push_values(gchunk, |mut b, g| {
                    b.push_bind(g.0).push_bind(g.1).push_bind(g.2).push_bind(source).push_bind(actor).push_bind(t);
                });
                qb.build().execute(&mut *tx).await?;
            }
        }
        for chunk in enrol.chunks(BATCH) {
            let mut qb = sqlx::QueryBuilder::new("INSERT INTO enrolment (class_id, person_id, enrolled_on) ");
            qb.push_values(chunk, |mut b, pid| {
                b.push_bind(class_id).push_bind(*pid).push_bind(t.date_naive());
            });
            qb.build().execute(&mut *tx).await?;
        }
        audit::record(
            &mut *tx,
            actor,
            "roster_import",
            "training_class",
            &class_id.to_string(),
            &serde_json::json!({"enrolled": enrolled, "registered": registered}),
        )
        .await?;
    });
    let id = record(db, actor, class_id, rows.len(), "imported", &[]).await?;
    Ok(Ok(Imported { enrolled, registered, roster_import_id: id }))
}
