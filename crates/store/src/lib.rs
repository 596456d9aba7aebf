//! Persistence for jineng: one set of queries, run on SQLite (embedded default) or PostgreSQL.
//!
//! SQL is written once with `$n` placeholders, which both backends accept, and compiled for
//! each backend by the [`with_pool!`] macro; every test suite runs against both.

pub mod assessment;
pub mod attendance;
pub mod audit;
pub mod bank_accounts;
pub mod catalog;
pub mod checks;
pub mod claims;
pub mod demo;
pub mod disclosure;
mod error;
pub mod facilities;
pub mod facts;
pub mod funds;
pub mod labour;
pub mod notice;
pub mod orgs;
pub mod parameters;
pub mod payments;
pub mod people;
pub mod plan;
pub mod queue;
pub mod registers;
pub mod replay;
pub mod reports;
pub mod review;
pub mod roster;
pub mod sheet;
pub mod stops;
pub mod training;
pub mod users;

pub use error::{conflict_of, Conflict, StoreError};

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};
use std::str::FromStr;
use std::time::Duration;

/// Result of a store operation.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A connection pool to one of the two supported backends.
#[derive(Clone, Debug)]
pub enum Db {
    /// Embedded SQLite (WAL, foreign keys on).
    Sqlite(SqlitePool),
    /// PostgreSQL (one pool of up to 16 connections).
    Postgres(PgPool),
}

/// Runs the same code against whichever pool `db` holds; `$pool` is bound to the concrete pool.
#[macro_export]
macro_rules! with_pool {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            $crate::Db::Sqlite($pool) => $body,
            $crate::Db::Postgres($pool) => $body,
        }
    };
}

/// Runs `$body` inside a transaction on either backend, committing when it returns `Ok`.
#[macro_export]
macro_rules! in_tx {
    ($db:expr, |$tx:ident| $body:expr) => {
        match $db {
            $crate::Db::Sqlite(pool) => {
                let mut $tx = pool.begin().await?;
                let out = $body;
                $tx.commit().await?;
                out
            }
            $crate::Db::Postgres(pool) => {
                let mut $tx = pool.begin().await?;
                let out = $body;
                $tx.commit().await?;
                out
            }
        }
    };
}

/// A transaction on either backend, for work that must read and write as one: deciding a claim
/// reads what the rules count and stores the decision in the same transaction. Dropped without
/// [`Tx::commit`], it rolls back.
pub enum Tx {
    /// On SQLite (begun `IMMEDIATE`: it holds the write lock).
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    /// On PostgreSQL.
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// Runs the same code on whichever transaction `tx` holds; `$c` is bound to it, and `&mut **$c`
/// is its connection (an executor).
#[macro_export]
macro_rules! on_tx {
    ($tx:expr, |$c:ident| $body:expr) => {
        match $tx {
            $crate::Tx::Sqlite($c) => $body,
            $crate::Tx::Postgres($c) => $body,
        }
    };
}

impl Tx {
    /// Commits what the transaction wrote; dropped without this, it rolls back.
    pub async fn commit(self) -> Result<()> {
        match self {
            Tx::Sqlite(t) => t.commit().await?,
            Tx::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }
}

impl Db {
    /// Connects by URL (`sqlite:path`, `sqlite::memory:`, `postgres://…`) and runs migrations.
    pub async fn connect(url: &str) -> Result<Self> {
        let db = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let opts = PgConnectOptions::from_str(url)?;
            Db::Postgres(
                PgPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(opts)
                    .await?,
            )
        } else {
            let opts = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
                .pragma("cache_size", "-65536")
                // Rows cross from the connection's thread in batches of up to this many: with
                // sqlx's 50 a list page of 100 stalls the thread and wakes the reader twice as often.
                .row_buffer_size(256);
            let memory = url.contains(":memory:") || url.contains("mode=memory");
            Db::Sqlite(
                SqlitePoolOptions::new()
                    .max_connections(if memory { 1 } else { 8 })
                    .min_connections(if memory { 1 } else { 0 })
                    .idle_timeout(if memory { None } else { Some(Duration::from_secs(600)) })
                    .max_lifetime(if memory { None } else { Some(Duration::from_secs(3600)) })
                    .connect_with(opts)
                    .await?,
            )
        };
        db.migrate().await?;
        Ok(db)
    }

    /// Begins a transaction for reading and writing as one. On SQLite it takes the write lock at
    /// once (`BEGIN IMMEDIATE`), waiting for another writer rather than failing later when its
    /// snapshot went stale; on PostgreSQL the caller locks the rows it counts.
    pub async fn begin(&self) -> Result<Tx> {
        Ok(match self {
            Db::Sqlite(p) => Tx::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?),
            Db::Postgres(p) => Tx::Postgres(p.begin().await?),
        })
    }

    /// Applies pending migrations of the backend in use.
    pub async fn migrate(&self) -> Result<()> {
        match self {
            Db::Sqlite(p) => sqlx::migrate!("./migrations/sqlite").run(p).await?,
            Db::Postgres(p) => {
                sqlx::migrate!("./migrations/postgres").run(p).await?;
                let year = chrono::Datelike::year(&chrono::Utc::now().date_naive());
                ensure_partitions(p, year..=year + 1).await?;
            }
        }
        // Audit entries written before the chain existed are chained once.
        audit::seal_legacy(self).await?;
        Ok(())
    }

    /// `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        match self {
            Db::Sqlite(_) => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    /// Columns of every table as `(table, column, type, nullable)`, with backend-specific type
    /// names brought to one vocabulary, for the test that the two schemas match.
    pub async fn schema(&self) -> Result<Vec<(String, String, String, bool)>> {
        let mut out: Vec<(String, String, String, bool)> = match self {
            Db::Sqlite(p) => {
                let rows: Vec<(String, String, String, i64, i64)> = sqlx::query_as(
                    "SELECT m.name, c.name, c.type, c.\"notnull\", c.pk FROM sqlite_master m \
                     JOIN pragma_table_info(m.name) c WHERE m.type = 'table' \
                     AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '_sqlx%'",
                )
                .fetch_all(p)
                .await?;
                rows.into_iter()
                    .map(|(t, c, ty, notnull, pk)| {
                        let ty = match ty.to_ascii_lowercase().as_str() {
                            "integer" | "bigint" => "bigint".to_owned(),
                            "timestamptz" => "timestamp with time zone".to_owned(),
                            other => other.to_owned(),
                        };
                        (t, c, ty, notnull == 0 && pk == 0)
                    })
                    .collect()
            }
            Db::Postgres(p) => {
                let rows: Vec<(String, String, String, String)> = sqlx::query_as(
                    "SELECT table_name::text, column_name::text, data_type::text, is_nullable::text \
                     FROM information_schema.columns WHERE table_schema = current_schema() \
                     AND table_name NOT LIKE '_sqlx%' AND table_name NOT IN \
                     (SELECT relname FROM pg_class WHERE relispartition)",
                )
                .fetch_all(p)
                .await?;
                rows.into_iter().map(|(t, c, ty, n)| (t, c, ty, n == "YES")).collect()
            }
        };
        out.sort();
        Ok(out)
    }

    /// Keys, CHECK constraints, foreign keys and indexes of every table as sorted, normalised
    /// lines (no constraint or index names), for the test that the two schemas match:
    ///
    /// - `primary key T (a, b)`
    /// - `check T cols=(a, b) ops=(<=, >=) values=(0, 100)`: the columns a CHECK reads, its
    ///   comparisons (`IN` counts as `=`, `NOT IN` as `<>`, `BETWEEN` as `>=` and `<=`) and its
    ///   literals, as PostgreSQL rewrites the expression while SQLite keeps the text
    /// - `foreign key T (a) -> U (b) on update … on delete …`
    /// - `index T (a, b)` or `unique index T (a)`, with ` where …` (same form as a check) for a
    ///   partial index; UNIQUE constraints are unique indexes on both backends, and the index of
    ///   the primary key is its `primary key` line.
    pub async fn constraints(&self) -> Result<Vec<String>> {
        let mut out = Vec::new();
        match self {
            Db::Sqlite(p) => {
                let tables: Vec<(String, String)> = sqlx::query_as(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'table' \
                     AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx%' ORDER BY name",
                )
                .fetch_all(p)
                .await?;
                let mut pks = std::collections::HashMap::new();
                for (table, _) in &tables {
                    let cols: Vec<(String, i64)> =
                        sqlx::query_as("SELECT name, pk FROM pragma_table_info($1) WHERE pk > 0 ORDER BY pk")
                            .bind(table)
                            .fetch_all(p)
                            .await?;
                    pks.insert(table.clone(), cols.into_iter().map(|(c, _)| c).collect::<Vec<_>>());
                }
                for (table, sql) in &tables {
                    let columns: Vec<String> =
                        sqlx::query_scalar("SELECT name FROM pragma_table_info($1)").bind(table).fetch_all(p).await?;
                    if !pks[table].is_empty() {
                        out.push(format!("primary key {table} ({})", pks[table].join(", ")));
                    }
                    for check in shape::checks(sql) {
                        out.push(format!("check {table} {}", shape::fingerprint(&check, &columns)));
                    }
                    let indexes: Vec<(String, bool, String, bool)> = sqlx::query_as(
                        "SELECT name, \"unique\", origin, partial FROM pragma_index_list($1) WHERE origin <> 'pk'",
                    )
                    .bind(table)
                    .fetch_all(p)
                    .await?;
                    for (index, unique, _, partial) in indexes {
                        let cols: Vec<Option<String>> =
                            sqlx::query_scalar("SELECT name FROM pragma_index_info($1) ORDER BY seqno")
                                .bind(&index)
                                .fetch_all(p)
                                .await?;
                        let cols: Vec<String> =
                            cols.into_iter().map(|c| c.unwrap_or_else(|| "<expr>".into())).collect();
                        let mut line =
                            format!("{}index {table} ({})", if unique { "unique " } else { "" }, cols.join(", "));
                        if partial {
                            let sql: String = sqlx::query_scalar("SELECT sql FROM sqlite_master WHERE name = $1")
                                .bind(&index)
                                .fetch_one(p)
                                .await?;
                            let tokens = shape::tokens(&sql);
                            let at = tokens.iter().position(|t| t.is_word("where")).unwrap_or(tokens.len());
                            let pred = tokens.get(at + 1..).unwrap_or_default();
                            line.push_str(&format!(" where {}", shape::fingerprint(pred, &columns)));
                        }
                        out.push(line);
                    }
                    let fks: Vec<(i64, String, String, Option<String>, String, String)> = sqlx::query_as(
                        "SELECT id, \"table\", \"from\", \"to\", on_update, on_delete \
                         FROM pragma_foreign_key_list($1) ORDER BY id, seq",
                    )
                    .bind(table)
                    .fetch_all(p)
                    .await?;
                    let mut by_id: std::collections::BTreeMap<i64, Vec<_>> = Default::default();
                    for fk in fks {
                        by_id.entry(fk.0).or_default().push(fk);
                    }
                    for parts in by_id.values() {
                        let (_, ref_table, _, _, on_update, on_delete) = &parts[0];
                        let from: Vec<&str> = parts.iter().map(|f| f.2.as_str()).collect();
                        let to: Vec<String> = if parts.iter().all(|f| f.3.is_some()) {
                            parts.iter().map(|f| f.3.clone().unwrap_or_default()).collect()
                        } else {
                            pks.get(ref_table).cloned().unwrap_or_default()
                        };
                        out.push(format!(
                            "foreign key {table} ({}) -> {ref_table} ({}) on update {} on delete {}",
                            from.join(", "),
                            to.join(", "),
                            on_update.to_ascii_lowercase(),
                            on_delete.to_ascii_lowercase()
                        ));
                    }
                }
            }
            Db::Postgres(p) => {
                let columns: Vec<(String, String)> = sqlx::query_as(
                    "SELECT table_name::text, column_name::text FROM information_schema.columns \
                     WHERE table_schema = current_schema()",
                )
                .fetch_all(p)
                .await?;
                let mut by_table: std::collections::HashMap<String, Vec<String>> = Default::default();
                for (t, c) in columns {
                    by_table.entry(t).or_default().push(c);
                }
                let names = |rel: &str, key: &str| {
                    format!(
                        "ARRAY(SELECT a.attname::text FROM unnest(co.{key}) WITH ORDINALITY k(attnum, ord) \
                         JOIN pg_attribute a ON a.attrelid = co.{rel} AND a.attnum = k.attnum ORDER BY k.ord)"
                    )
                };
                let sql = format!(
                    "SELECT t.relname::text, co.contype::text, pg_get_constraintdef(co.oid), {}, \
                     r.relname::text, {}, co.confupdtype::text, co.confdeltype::text \
                     FROM pg_constraint co JOIN pg_class t ON t.oid = co.conrelid \
                     JOIN pg_namespace n ON n.oid = t.relnamespace LEFT JOIN pg_class r ON r.oid = co.confrelid \
                     WHERE n.nspname = current_schema() AND co.contype IN ('p', 'c', 'f') \
                     AND NOT t.relispartition AND t.relname NOT LIKE '\\_sqlx%'",
                    names("conrelid", "conkey"),
                    names("confrelid", "confkey")
                );
                type Row = (String, String, String, Vec<String>, Option<String>, Vec<String>, String, String);
                let rows: Vec<Row> = sqlx::query_as(&sql).fetch_all(p).await?;
                let action = |c: &str| {
                    match c {
                        "a" => "no action",
                        "r" => "restrict",
                        "c" => "cascade",
                        "n" => "set null",
                        "d" => "set default",
                        _ => "?",
                    }
                    .to_owned()
                };
                // A partitioned table's primary key must hold its partition key (SQLite's has no
                // such rule): it is compared without it.
                let partition_keys: Vec<(String, String)> = sqlx::query_as(
                    "SELECT c.relname::text, a.attname::text FROM pg_partitioned_table pt \
                     JOIN pg_class c ON c.oid = pt.partrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
                     JOIN pg_attribute a ON a.attrelid = pt.partrelid AND a.attnum = ANY (pt.partattrs::int2[]) \
                     WHERE n.nspname = current_schema()",
                )
                .fetch_all(p)
                .await?;
                for (table, kind, def, cols, ref_table, ref_cols, on_update, on_delete) in rows {
                    let columns = by_table.get(&table).map(Vec::as_slice).unwrap_or_default();
                    match kind.as_str() {
                        "p" => {
                            let cols: Vec<&String> = cols
                                .iter()
                                .filter(|c| !partition_keys.contains(&(table.clone(), (*c).clone())))
                                .collect();
                            let cols: Vec<&str> = cols.iter().map(|c| c.as_str()).collect();
                            out.push(format!("primary key {table} ({})", cols.join(", ")))
                        }
                        "c" => {
                            let tokens = shape::tokens(&def);
                            let body = tokens.get(1..).unwrap_or_default();
                            out.push(format!("check {table} {}", shape::fingerprint(body, columns)));
                        }
                        _ => out.push(format!(
                            "foreign key {table} ({}) -> {} ({}) on update {} on delete {}",
                            cols.join(", "),
                            ref_table.unwrap_or_default(),
                            ref_cols.join(", "),
                            action(&on_update),
                            action(&on_delete)
                        )),
                    }
                }
                let indexes: Vec<(String, bool, Vec<String>, Option<String>)> = sqlx::query_as(
                    "SELECT t.relname::text, i.indisunique, \
                     ARRAY(SELECT COALESCE(a.attname::text, '<expr>') \
                           FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, ord) \
                           LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum \
                           ORDER BY k.ord), \
                     pg_get_expr(i.indpred, i.indrelid) \
                     FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid \
                     JOIN pg_namespace n ON n.oid = t.relnamespace \
                     WHERE n.nspname = current_schema() AND t.relkind IN ('r', 'p') \
                     AND NOT t.relispartition AND NOT i.indisprimary \
                     AND t.relname NOT LIKE '\\_sqlx%'",
                )
                .fetch_all(p)
                .await?;
                for (table, unique, cols, pred) in indexes {
                    let columns = by_table.get(&table).map(Vec::as_slice).unwrap_or_default();
                    let mut line =
                        format!("{}index {table} ({})", if unique { "unique " } else { "" }, cols.join(", "));
                    if let Some(pred) = pred {
                        line.push_str(&format!(" where {}", shape::fingerprint(&shape::tokens(&pred), columns)));
                    }
                    out.push(line);
                }
            }
        }
        out.sort();
        Ok(out)
    }

    /// Writes a consistent copy of a SQLite database to `path` while it serves (`VACUUM INTO`:
    /// one read transaction, so the copy is the database at one moment, whatever is being
    /// written meanwhile). Returns the copy's size in bytes. PostgreSQL is backed up with its
    /// own tools (`pg_dump`).
    pub async fn backup_to(&self, path: &std::path::Path) -> Result<u64> {
        let Db::Sqlite(p) = self else {
            return Err(StoreError::invalid(
                "database",
                jineng_domain::Invalid::new(
                    "backup.backend",
                    "PostgreSQL 请用 pg_dump 备份",
                    "back PostgreSQL up with pg_dump",
                ),
            ));
        };
        if path.exists() {
            return Err(StoreError::invalid(
                "file",
                jineng_domain::Invalid::new("backup.exists", "备份文件已存在", "the backup file exists already"),
            ));
        }
        sqlx::query("VACUUM INTO $1").bind(path.to_string_lossy().as_ref()).execute(p).await?;
        Ok(std::fs::metadata(path).map(|m| m.len()).unwrap_or(0))
    }

    /// After bulk loads, refreshes the planner's statistics (`ANALYZE`) so that queries use
    /// the indexes (autovacuum would do it later on PostgreSQL; SQLite never does on its own).
    pub async fn analyze(&self) -> Result<()> {
        with_pool!(self, |p| {
            sqlx::query("ANALYZE").execute(p).await?;
        });
        Ok(())
    }

    /// After bulk loads with explicit ids, moves PostgreSQL identity sequences past the largest id.
    pub async fn reset_sequences(&self) -> Result<()> {
        if let Db::Postgres(p) = self {
            for (table, col) in [
                ("person", "person_id"),
                ("person_group", "person_group_id"),
                ("employer", "employer_id"),
                ("provider", "provider_id"),
                ("assessment_body", "assessment_body_id"),
                ("training_class", "class_id"),
                ("enrolment", "enrolment_id"),
                ("completion", "completion_id"),
                ("assessment", "assessment_id"),
                ("certificate", "certificate_id"),
                ("app_user", "user_id"),
                ("audit_log", "audit_id"),
                ("attendance", "attendance_id"),
            ] {
                let sql = format!(
                    "SELECT setval(pg_get_serial_sequence('{table}', '{col}'), \
                     COALESCE((SELECT MAX({col}) FROM {table}), 0) + 1, false)"
                );
                sqlx::query(&sql).execute(p).await?;
            }
        }
        Ok(())
    }
}

/// Makes the yearly partitions of `attendance` (PostgreSQL, migration 0028) for `years` that
/// have none. A year whose check-ins already sit in the default partition is left there, with a
/// warning: moving them is an operator's step (detach the default, create, re-attach).
async fn ensure_partitions(p: &sqlx::PgPool, years: std::ops::RangeInclusive<i32>) -> Result<()> {
    for y in years {
        let name = format!("attendance_{y}");
        let exists: bool = sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL").bind(&name).fetch_one(p).await?;
        if exists {
            continue;
        }
        let sql =
            format!("CREATE TABLE {name} PARTITION OF attendance FOR VALUES FROM ('{y}-01-01') TO ('{}-01-01')", y + 1);
        if let Err(e) = sqlx::query(&sql).execute(p).await {
            tracing::warn!(year = y, error = %e, "attendance: no partition made for the year");
        }
    }
    Ok(())
}

/// A small SQL tokenizer and the normalised form of CHECK expressions and index predicates
/// that [`Db::constraints`] compares across backends.
mod shape {
    use std::collections::BTreeSet;

    #[derive(Clone, Debug, PartialEq)]
    pub enum Tok {
        /// An identifier or keyword, lower-cased (quotes removed).
        Word(String),
        /// A string literal, unquoted.
        Str(String),
        Num(String),
        Punct(String),
    }

    impl Tok {
        pub fn is_word(&self, w: &str) -> bool {
            matches!(self, Tok::Word(x) if x == w)
        }
        fn is_punct(&self, p: &str) -> bool {
            matches!(self, Tok::Punct(x) if x == p)
        }
    }

    /// Tokens of `sql`, comments left out.
    pub fn tokens(sql: &str) -> Vec<Tok> {
        let c: Vec<char> = sql.chars().collect();
        let mut out = Vec::new();
        let mut i = 0;
        while i < c.len() {
            let ch = c[i];
            if ch.is_whitespace() {
                i += 1;
            } else if ch == '-' && c.get(i + 1) == Some(&'-') {
                while i < c.len() && c[i] != '\n' {
                    i += 1;
                }
            } else if ch == '/' && c.get(i + 1) == Some(&'*') {
                i += 2;
                while i < c.len() && !(c[i] == '*' && c.get(i + 1) == Some(&'/')) {
                    i += 1;
                }
                i += 2;
            } else if ch == '\'' || ch == '"' || ch == '`' {
                let mut s = String::new();
                i += 1;
                while i < c.len() {
                    if c[i] == ch {
                        if c.get(i + 1) == Some(&ch) {
                            s.push(ch);
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    s.push(c[i]);
                    i += 1;
                }
                i += 1;
                out.push(if ch == '\'' { Tok::Str(s) } else { Tok::Word(s.to_lowercase()) });
            } else if ch.is_ascii_digit() {
                let start = i;
                while i < c.len() && (c[i].is_ascii_digit() || c[i] == '.') {
                    i += 1;
                }
                out.push(Tok::Num(c[start..i].iter().collect()));
            } else if ch.is_alphabetic() || ch == '_' {
                let start = i;
                while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_' || c[i] == '$') {
                    i += 1;
                }
                out.push(Tok::Word(c[start..i].iter().collect::<String>().to_lowercase()));
            } else {
                let two: String = c[i..(i + 2).min(c.len())].iter().collect();
                if ["<=", ">=", "<>", "!=", "::", "||", "=="].contains(&two.as_str()) {
                    out.push(Tok::Punct(two));
                    i += 2;
                } else {
                    out.push(Tok::Punct(ch.to_string()));
                    i += 1;
                }
            }
        }
        out
    }

    /// The expressions (inside the parentheses) of every `CHECK (…)` in a `CREATE TABLE`.
    pub fn checks(create_table: &str) -> Vec<Vec<Tok>> {
        let t = tokens(create_table);
        let mut out = Vec::new();
        for i in 0..t.len() {
            if t[i].is_word("check") && t.get(i + 1).is_some_and(|x| x.is_punct("(")) {
                let mut depth = 0;
                for j in i + 1..t.len() {
                    if t[j].is_punct("(") {
                        depth += 1;
                    } else if t[j].is_punct(")") {
                        depth -= 1;
                        if depth == 0 {
                            out.push(t[i + 2..j].to_vec());
                            break;
                        }
                    }
                }
            }
        }
        out
    }

    /// `cols=(…) ops=(…) values=(…)`: the columns of the table an expression reads, its
    /// comparisons and null tests, and its literals, each sorted; the same on both backends for
    /// the same constraint although PostgreSQL rewrites `IN` to `= ANY (ARRAY[…])`, `NOT IN` to
    /// `<> ALL (…)`, `BETWEEN` to `>=` and `<=`, and adds casts and parentheses.
    pub fn fingerprint(expr: &[Tok], columns: &[String]) -> String {
        let (mut cols, mut ops, mut values) = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
        for (i, tok) in expr.iter().enumerate() {
            let prev = if i > 0 { expr.get(i - 1) } else { None };
            let next = |k: usize| expr.get(i + k);
            match tok {
                // A cast's type name.
                Tok::Word(_) if prev.is_some_and(|p| p.is_punct("::")) => {}
                Tok::Word(w) => match w.as_str() {
                    "between" => {
                        ops.insert(">=".to_owned());
                        ops.insert("<=".to_owned());
                    }
                    "in" => {
                        let not = prev.is_some_and(|p| p.is_word("not"));
                        ops.insert(if not { "<>" } else { "=" }.to_owned());
                    }
                    "is" => {
                        let not = next(1).is_some_and(|n| n.is_word("not"));
                        ops.insert(if not { "is not null" } else { "is null" }.to_owned());
                    }
                    _ if columns.iter().any(|c| c == w) => {
                        cols.insert(w.clone());
                    }
                    _ => {}
                },
                Tok::Str(s) => {
                    values.insert(format!("'{s}'"));
                }
                Tok::Num(n) => {
                    values.insert(n.clone());
                }
                Tok::Punct(p) => {
                    let op = match p.as_str() {
                        "!=" => "<>",
                        "==" => "=",
                        "<" | ">" | "<=" | ">=" | "=" | "<>" => p,
                        _ => continue,
                    };
                    ops.insert(op.to_owned());
                }
            }
        }
        let join = |s: BTreeSet<String>| s.into_iter().collect::<Vec<_>>().join(", ");
        format!("cols=({}) ops=({}) values=({})", join(cols), join(ops), join(values))
    }
}

/// Puts a backup made by [`Db::backup_to`] in place of the SQLite database at `target` (the
/// server must be stopped). The backup is checked first — a SQLite file whose integrity check
/// passes, holding this system's tables, with no migration newer than this program knows — and
/// then moved into place in one rename, so a failure leaves the old database as it was.
pub async fn restore_sqlite(backup: &std::path::Path, target: &std::path::Path) -> Result<()> {
    let refuse = |zh: &str, en: &str| {
        StoreError::invalid("file", jineng_domain::Invalid::new("restore.file", zh.to_owned(), en.to_owned()))
    };
    let staged = target.with_extension("restoring");
    std::fs::copy(backup, &staged).map_err(|_| refuse("无法读取备份文件", "the backup file cannot be read"))?;
    let check = async {
        let opts = SqliteConnectOptions::new().filename(&staged).create_if_missing(false);
        let pool = SqlitePoolOptions::new().max_connections(1).connect_with(opts).await?;
        let ok: String = sqlx::query_scalar("PRAGMA integrity_check").fetch_one(&pool).await?;
        let tables: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN ('plan', 'claim', '_sqlx_migrations')",
        )
        .fetch_one(&pool)
        .await?;
        let newest: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations").fetch_one(&pool).await.ok().flatten();
        pool.close().await;
        Ok::<_, sqlx::Error>((ok, tables, newest))
    }
    .await;
    let known = sqlx::migrate!("./migrations/sqlite").iter().map(|m| m.version).max().unwrap_or(0);
    let verdict = match check {
        Ok((ok, 3, Some(v))) if ok == "ok" && v <= known => Ok(()),
        Ok((_, _, Some(v))) if v > known => {
            Err(refuse("备份来自更新的版本", "the backup is from a newer version of jineng"))
        }
        _ => Err(refuse("不是本系统的有效备份", "not a valid jineng backup")),
    };
    if let Err(e) = verdict {
        let _ = std::fs::remove_file(&staged);
        return Err(e);
    }
    for suffix in ["-wal", "-shm"] {
        let mut p = target.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(std::path::PathBuf::from(p));
    }
    std::fs::rename(&staged, target)
        .map_err(|_| refuse("无法替换数据库文件", "the database file cannot be replaced"))?;
    Ok(())
}

/// The current time, set in Rust (never by database triggers).
/// One page of a list, and where the next starts (`None`: this is the last page). A list is
/// read by keyset, never counted: the next page's query starts at an index entry, so page 1
/// and page 10,000 cost the same and no request reads every row to count them.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Page<T> {
    /// The rows.
    pub rows: Vec<T>,
    /// The cursor of the next page.
    pub next: Option<i64>,
}

impl<T> Page<T> {
    /// A page from the `limit + 1` rows a keyset query read: the extra row, if there, is cut
    /// and says that a next page starts after the last row kept (whose cursor `key` gives).
    pub(crate) fn of(mut rows: Vec<T>, limit: i64, key: impl Fn(&T) -> i64) -> Page<T> {
        let limit = usize::try_from(limit.max(1)).unwrap_or(usize::MAX);
        let next = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(key)
        } else {
            None
        };
        Page { rows, next }
    }
}

/// An optional equality filter on placeholder `$n`: `col = $n` when a value is given, else
/// `$n = {none}` (a constant the caller binds, e.g. `''` or `0`). Not `($n = '' OR col = $n)`:
/// that OR keeps both databases' planners from the column's index, and a list filtered by a
/// county would read the whole table. The binds stay the same either way.
pub(crate) fn opt_eq(col: &str, n: usize, given: bool, none: &str) -> String {
    if given {
        format!("{col} = ${n}")
    } else {
        format!("${n} = {none}")
    }
}

pub fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}

/// The plan file shipped with the project (the Zhumadian 2019–2021 plan); another city passes
/// its own file with `--plan`.
pub const DEFAULT_PLAN: &str = include_str!("../../../plan/zhumadian-2019-2021.toml");

/// Creates a database with the plan loaded, for tests: an in-memory SQLite, or a fresh schema
/// in the PostgreSQL named by `JINENG_TEST_PG` (default `postgres://postgres@127.0.0.1:5432/test`).
/// A PostgreSQL that cannot be reached is an error, never a skip.
pub mod testing {
    use super::*;

    /// URL of the PostgreSQL used by tests.
    pub fn pg_url() -> String {
        std::env::var("JINENG_TEST_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
    }

    /// A fresh database of the given backend (`sqlite`: in memory, one connection; `sqlite-file`:
    /// a file in the temporary directory with a pool, as served; `postgres`) with the plan loaded.
    pub async fn fresh(backend: &str) -> Db {
        let db = match backend {
            "sqlite" => Db::connect("sqlite::memory:").await.expect("in-memory SQLite"),
            // A SQLite file with a pool of connections, as served: requests really run at once.
            "sqlite-file" => {
                let path = std::env::temp_dir().join(format!("jineng-test-{}.db", &users::random_token()[..16]));
                Db::connect(&format!("sqlite:{}", path.display())).await.expect("SQLite file")
            }
            _ => {
                let url = pg_url();
                let admin = PgPool::connect(&url)
                    .await
                    .unwrap_or_else(|e| panic!("PostgreSQL at {url} is required for tests: {e}"));
                let schema = format!("t_{}", &users::random_token()[..16]);
                sqlx::query(&format!("CREATE SCHEMA {schema}")).execute(&admin).await.expect("create schema");
                admin.close().await;
                // Tests do not wait for each commit's WAL flush (a crash of the test server loses
                // nothing a test needs); the server's own connections keep the default.
                let opts = PgConnectOptions::from_str(&url)
                    .expect("url")
                    .options([("search_path", schema.as_str()), ("synchronous_commit", "off")]);
                let pool = PgPoolOptions::new().max_connections(8).connect_with(opts).await.expect("connect");
                let db = Db::Postgres(pool);
                db.migrate().await.expect("migrate");
                db
            }
        };
        let plan = jineng_domain::Plan::from_toml(DEFAULT_PLAN).expect("shipped plan parses");
        plan::load_plan(&db, &plan, DEFAULT_PLAN).await.expect("load plan");
        db
    }

    /// Drops a database made by [`fresh`]: on PostgreSQL its schema (tests that make many
    /// databases leave none behind); SQLite's in-memory database goes with the pool.
    pub async fn dispose(db: Db) {
        if let Db::Postgres(pool) = &db {
            let schema: Option<String> =
                sqlx::query_scalar("SELECT current_schema()").fetch_one(pool).await.ok().flatten();
            pool.close().await;
            if let Some(schema) = schema.filter(|s| s.starts_with("t_")) {
                if let Ok(admin) = PgPool::connect(&pg_url()).await {
                    let _ = sqlx::query(&format!("DROP SCHEMA {schema} CASCADE")).execute(&admin).await;
                    admin.close().await;
                }
            }
        }
    }

    /// Both backends.
    pub const BACKENDS: [&str; 2] = ["sqlite", "postgres"];

    #[doc(inline)]
    pub use crate::both_backends;

    /// Turns one test written for either backend into a module of two tests, `sqlite` and
    /// `postgres`, so that a failure on one backend never hides the other's result and one
    /// backend can run alone (`cargo test sqlite`, `cargo test some_test::postgres`):
    ///
    /// ```ignore
    /// jineng_store::both_backends! {
    ///     async fn a_duplicate_is_a_conflict(backend: &'static str) {
    ///         let db = fresh(backend).await;
    ///         // …
    ///     }
    /// }
    /// ```
    ///
    /// Each test is `#[tokio::test]`; a test that needs another runtime starts with that
    /// attribute, e.g. `#[tokio::test(flavor = "multi_thread", worker_threads = 2)]`, which both
    /// generated tests then carry (it must come first). Other attributes (`#[ignore]`, doc
    /// comments) go on both tests.
    /// The body sees the items of the enclosing module (`use super::*`).
    #[macro_export]
    macro_rules! both_backends {
        (
            #[tokio::test $(($($rt:tt)*))?]
            $(#[$meta:meta])*
            async fn $name:ident($backend:ident: $ty:ty) $body:block
        ) => {
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                async fn $name($backend: $ty) $body

                #[tokio::test $(($($rt)*))?]
                $(#[$meta])*
                async fn sqlite() {
                    $name("sqlite").await
                }

                #[tokio::test $(($($rt)*))?]
                $(#[$meta])*
                async fn postgres() {
                    $name("postgres").await
                }
            }
        };
        (
            $(#[$meta:meta])*
            async fn $name:ident($backend:ident: $ty:ty) $body:block
        ) => {
            $crate::both_backends! {
                #[tokio::test]
                $(#[$meta])*
                async fn $name($backend: $ty) $body
            }
        };
    }
}
