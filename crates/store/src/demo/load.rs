//! Bulk loading for the demo on PostgreSQL: rows go in with `COPY … FROM STDIN` (text format),
//! and into an empty table the table's secondary indexes and foreign keys are dropped first and
//! made again after the load, in the same transaction (one sorted index build and one checking
//! join instead of a B-tree insert and a key lookup per row). A failure rolls all of it back.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgConnection;

/// A value written as a field of COPY's text format.
pub(crate) trait CopyText {
    fn write(&self, out: &mut String);
}

fn escaped(s: &str, out: &mut String) {
    for ch in s.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}

impl CopyText for i64 {
    fn write(&self, out: &mut String) {
        use std::fmt::Write;
        let _ = write!(out, "{self}");
    }
}
impl CopyText for bool {
    fn write(&self, out: &mut String) {
        out.push(if *self { 't' } else { 'f' });
    }
}
impl CopyText for &str {
    fn write(&self, out: &mut String) {
        escaped(self, out);
    }
}
impl CopyText for String {
    fn write(&self, out: &mut String) {
        escaped(self, out);
    }
}
impl CopyText for NaiveDate {
    fn write(&self, out: &mut String) {
        use std::fmt::Write;
        let _ = write!(out, "{}", self.format("%Y-%m-%d"));
    }
}
impl CopyText for DateTime<Utc> {
    fn write(&self, out: &mut String) {
        use std::fmt::Write;
        let _ = write!(out, "{}", self.format("%Y-%m-%d %H:%M:%S%.6f+00"));
    }
}
impl<T: CopyText> CopyText for Option<T> {
    fn write(&self, out: &mut String) {
        match self {
            Some(v) => v.write(out),
            None => out.push_str("\\N"),
        }
    }
}

/// One row of COPY text being written; `push_bind` mirrors `QueryBuilder`'s so that one closure
/// serves both backends.
pub(crate) struct CopyRow<'a> {
    out: &'a mut String,
    first: bool,
}

impl<'a> CopyRow<'a> {
    pub(crate) fn new(out: &'a mut String) -> Self {
        CopyRow { out, first: true }
    }

    pub(crate) fn push_bind<T: CopyText>(&mut self, v: T) -> &mut Self {
        if !self.first {
            self.out.push('\t');
        }
        self.first = false;
        v.write(self.out);
        self
    }
}

/// `INSERT INTO t (a, b) ` → (`t`, `(a, b)`).
pub(crate) fn table_and_columns(head: &str) -> (&str, &str) {
    let rest = head.trim().trim_start_matches("INSERT INTO ").trim();
    match rest.find(' ') {
        Some(i) => (&rest[..i], rest[i..].trim()),
        None => (rest, ""),
    }
}

/// What was dropped from an empty table before a load, to make again after it.
pub(crate) struct Dropped {
    table: String,
    indexes: Vec<String>,
    keys: Vec<(String, String)>,
    unique: Vec<(String, String)>,
    /// The kept table whose trigger was held off during the load, to fill after it.
    held: Option<&'static Kept>,
}

/// A table kept from another by a statement trigger, whose one statement over a whole bulk
/// load would cost more than filling it afresh: the province's 9.8 M enrolments made as many
/// upserts into `provider_person`, in no order (the enrolments took 134.8 s; held off and filled
/// after, 68.5 s).
pub(crate) struct Kept {
    /// The table loaded.
    source: &'static str,
    /// Its trigger that keeps the other table on INSERT.
    trigger: &'static str,
    /// The table kept.
    kept: &'static str,
    /// Fills the kept table from the whole source, in key order.
    fill: &'static str,
}

const KEPT: &[Kept] = &[Kept {
    source: "enrolment",
    trigger: "provider_person_insert",
    kept: "provider_person",
    fill: "INSERT INTO provider_person (provider_id, person_id, enrolments) \
           SELECT k.provider_id, e.person_id, COUNT(*) FROM enrolment e JOIN training_class k ON k.class_id = e.class_id \
           GROUP BY k.provider_id, e.person_id ORDER BY 1, 2",
}];

/// Drops an empty table's secondary indexes (those that back no constraint), its foreign keys,
/// and its primary key and UNIQUE constraints where no foreign key leans on them; returns how to
/// make them again. A table that holds rows is left as it is. Where the table keeps another
/// (see [`Kept`]) that is empty too, its trigger is held off until [`reindex`].
pub(crate) async fn unindex(conn: &mut PgConnection, table: &str) -> sqlx::Result<Dropped> {
    let mut dropped = Dropped { table: table.to_owned(), indexes: vec![], keys: vec![], unique: vec![], held: None };
    let empty = |t: &str| format!("SELECT NOT EXISTS (SELECT 1 FROM {t})");
    if !sqlx::query_scalar::<_, bool>(&empty(table)).fetch_one(&mut *conn).await? {
        return Ok(dropped);
    }
    if let Some(k) = KEPT.iter().find(|k| k.source == table) {
        if sqlx::query_scalar::<_, bool>(&empty(k.kept)).fetch_one(&mut *conn).await? {
            sqlx::query(&format!("ALTER TABLE {table} DISABLE TRIGGER {}", k.trigger)).execute(&mut *conn).await?;
            dropped.held = Some(k);
        }
    }
    sqlx::query("SET LOCAL maintenance_work_mem = '512MB'").execute(&mut *conn).await?;
    let indexes: Vec<(String, String)> = sqlx::query_as(
        "SELECT i.relname::text, pg_get_indexdef(x.indexrelid) FROM pg_index x \
         JOIN pg_class i ON i.oid = x.indexrelid \
         WHERE x.indrelid = $1::regclass \
         AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)",
    )
    .bind(table)
    .fetch_all(&mut *conn)
    .await?;
    for (name, def) in indexes {
        sqlx::query(&format!("DROP INDEX \"{name}\"")).execute(&mut *conn).await?;
        // A partitioned table's index is shown `ON ONLY` the parent; made again, it must reach
        // every partition.
        dropped.indexes.push(def.replacen(" ON ONLY ", " ON ", 1));
    }
    dropped.keys = sqlx::query_as(
        "SELECT conname::text, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'f'",
    )
    .bind(table)
    .fetch_all(&mut *conn)
    .await?;
    for (name, _) in &dropped.keys {
        sqlx::query(&format!("ALTER TABLE {table} DROP CONSTRAINT \"{name}\"")).execute(&mut *conn).await?;
    }
    // Primary keys and UNIQUE constraints no foreign key leans on: one sorted build after the
    // load instead of a B-tree insert per row (the rows are checked when they are made again).
    dropped.unique = sqlx::query_as(
        "SELECT c.conname::text, pg_get_constraintdef(c.oid) FROM pg_constraint c \
         WHERE c.conrelid = $1::regclass AND c.contype IN ('p', 'u') \
         AND NOT EXISTS (SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = c.conindid)",
    )
    .bind(table)
    .fetch_all(&mut *conn)
    .await?;
    for (name, _) in &dropped.unique {
        sqlx::query(&format!("ALTER TABLE {table} DROP CONSTRAINT \"{name}\"")).execute(&mut *conn).await?;
    }
    Ok(dropped)
}

/// Makes again what [`unindex`] dropped (each foreign key checks every loaded row), and fills
/// a kept table whose trigger was held off, in one sorted pass with its key built after.
pub(crate) async fn reindex(conn: &mut PgConnection, dropped: Dropped) -> sqlx::Result<()> {
    let held = dropped.held;
    remake(conn, dropped).await?;
    if let Some(k) = held {
        sqlx::query(&format!("ALTER TABLE {} ENABLE TRIGGER {}", k.source, k.trigger)).execute(&mut *conn).await?;
        let kept = unindex(conn, k.kept).await?;
        sqlx::query("SET LOCAL work_mem = '1GB'").execute(&mut *conn).await?;
        sqlx::query(k.fill).execute(&mut *conn).await?;
        remake(conn, kept).await?;
    }
    Ok(())
}

async fn remake(conn: &mut PgConnection, dropped: Dropped) -> sqlx::Result<()> {
    for (name, def) in &dropped.unique {
        sqlx::query(&format!("ALTER TABLE {} ADD CONSTRAINT \"{name}\" {def}", dropped.table))
            .execute(&mut *conn)
            .await?;
    }
    for def in &dropped.indexes {
        sqlx::query(def).execute(&mut *conn).await?;
    }
    for (name, def) in &dropped.keys {
        sqlx::query(&format!("ALTER TABLE {} ADD CONSTRAINT \"{name}\" {def}", dropped.table))
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_text_escapes_and_writes_nulls() {
        let mut s = String::new();
        CopyRow::new(&mut s).push_bind(7i64).push_bind("a\tb\\c\nd").push_bind(None::<i64>).push_bind(true);
        assert_eq!(s, "7\ta\\tb\\\\c\\nd\t\\N\tt");
        assert_eq!(table_and_columns("INSERT INTO person (a, b) "), ("person", "(a, b)"));
    }
}
