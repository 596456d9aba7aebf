//! Persistence for jineng: one set of queries, run on SQLite (embedded default) or PostgreSQL.
//!
//! SQL is written once with `$n` placeholders, which both backends accept, and compiled for
//! each backend by the [`with_pool!`] macro; every test suite runs against both.

pub mod assessment;
pub mod attendance;
pub mod audit;
pub mod catalog;
pub mod claims;
pub mod demo;
mod error;
pub mod orgs;
pub mod parameters;
pub mod payments;
pub mod people;
pub mod plan;
pub mod roster;
pub mod training;
pub mod users;

pub use error::StoreError;

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
    /// PostgreSQL.
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
                .pragma("cache_size", "-65536");
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

    /// Applies pending migrations of the backend in use.
    pub async fn migrate(&self) -> Result<()> {
        match self {
            Db::Sqlite(p) => sqlx::migrate!("./migrations/sqlite").run(p).await?,
            Db::Postgres(p) => sqlx::migrate!("./migrations/postgres").run(p).await?,
        }
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
                     AND table_name NOT LIKE '_sqlx%'",
                )
                .fetch_all(p)
                .await?;
                rows.into_iter().map(|(t, c, ty, n)| (t, c, ty, n == "YES")).collect()
            }
        };
        out.sort();
        Ok(out)
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

/// The current time, set in Rust (never by database triggers).
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

    /// A fresh database of the given backend (`sqlite` or `postgres`) with the plan loaded.
    pub async fn fresh(backend: &str) -> Db {
        let db = match backend {
            "sqlite" => Db::connect("sqlite::memory:").await.expect("in-memory SQLite"),
            _ => {
                let url = pg_url();
                let admin = PgPool::connect(&url)
                    .await
                    .unwrap_or_else(|e| panic!("PostgreSQL at {url} is required for tests: {e}"));
                let schema = format!("t_{}", &users::random_token()[..16]);
                sqlx::query(&format!("CREATE SCHEMA {schema}")).execute(&admin).await.expect("create schema");
                admin.close().await;
                let opts = PgConnectOptions::from_str(&url).expect("url").options([("search_path", schema.as_str())]);
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
