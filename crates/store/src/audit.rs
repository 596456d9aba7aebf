//! The audit log: every change is written in the same transaction as the change itself, as one
//! link of a hash chain that shows any later change, removal or insertion.
//!
//! **Order.** Writers run at once (many request threads on PostgreSQL), so entries need one
//! total order before they can be chained. Each [`record`] first bumps the one-row
//! `audit_head` (`UPDATE … SET seq = seq + 1 … RETURNING seq, hash`): on PostgreSQL that takes
//! the head's row lock until the caller's transaction ends, on SQLite the database's write lock
//! (writers are one at a time there anyway). So a second writer waits for the first to commit
//! or roll back, reads the head as the first left it, and seq has no gaps and no two entries
//! share one; a rolled-back entry takes its seq back with it. The price is that audited
//! transactions on PostgreSQL commit one at a time from their first audit entry on: every
//! caller writes its entry after the rows it changes, so the head is the last lock it takes.
//!
//! **Hash.** `hash = SHA-256(prev_hash, seq, at in microseconds, user_id, address, action,
//! entity, entity_id, detail)`, every field length-prefixed (see [`link_hash`]); `prev_hash`
//! of the first entry is 64 zeros. Times are cut to microseconds before they are stored
//! (PostgreSQL keeps no more), so what is read back hashes as what was written.
//!
//! **Append-only.** A trigger refuses UPDATE and DELETE of `audit_log` (and TRUNCATE on
//! PostgreSQL); entries written before the chain existed are sealed once, in `audit_id` order,
//! by [`seal_legacy`] when the database is opened.
//!
//! **Verifying.** [`verify`] walks the chain in seq order, 10,000 rows a query (memory stays
//! flat for any length; the next page is read while the last is hashed), recomputes every hash and names the first entry that was altered
//! (its hash no longer matches its fields), removed (a gap in seq, or the head is further on
//! than the last entry) or inserted (an entry outside the chain, or beyond the head). The head
//! itself can be rewritten by whoever can rewrite the table: print it (`jineng audit verify`)
//! and keep the figure elsewhere to anchor the chain.
//!
//! **Personal data.** Details and entity ids are masked as they are written ([`mask_detail`]):
//! ID numbers keep their first and last four characters, phones their first three and last
//! four digits. **Address.** The client address comes from the request being served
//! ([`with_address`]; none for the CLI and jobs).

use crate::{now, Db, Result};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::future::Future;
use std::pin::Pin;

/// Who did something: a signed-in user, or the system (`None`: demo loader, migrations).
pub type Actor = Option<i64>;

/// `prev_hash` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

tokio::task_local! {
    static ADDRESS: String;
}

/// Runs `f` with `address` as the client address every audit entry written inside it records
/// (the web layer wraps each request in it).
pub async fn with_address<F: Future>(address: String, f: F) -> F::Output {
    ADDRESS.scope(address, f).await
}

fn current_address() -> Option<String> {
    ADDRESS.try_with(Clone::clone).ok()
}

/// One audit entry as shown to auditors.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct AuditEntry {
    pub audit_id: i64,
    pub at: chrono::DateTime<chrono::Utc>,
    pub user_id: Option<i64>,
    /// What (`create`, `update`, …).
    pub action: String,
    pub entity: String,
    /// Row id.
    pub entity_id: String,
    /// JSON detail of the change.
    pub detail: String,
    /// Client address (none: the system or the command line).
    pub address: Option<String>,
    /// Place in the chain (none: written before the chain and not sealed yet).
    pub seq: Option<i64>,
}

/// The fields a link's hash covers.
#[derive(Debug, Clone)]
pub struct Link<'a> {
    pub seq: i64,
    /// Microseconds since the epoch.
    pub at_micros: i64,
    pub user_id: Option<i64>,
    pub address: Option<&'a str>,
    pub action: &'a str,
    pub entity: &'a str,
    pub entity_id: &'a str,
    pub detail: &'a str,
    /// Hash of the entry before (hex).
    pub prev_hash: &'a str,
}

/// The hash of a link (hex): SHA-256 over a version tag and every field, each as a presence
/// byte, its length (8 bytes, big-endian) and its bytes, so no two different entries serialize
/// alike.
pub fn link_hash(l: &Link<'_>) -> String {
    hex::encode(link_digest(l))
}

/// The SHA-256 of a link, as bytes (see [`link_hash`]).
fn link_digest(l: &Link<'_>) -> [u8; 32] {
    fn put(h: &mut Sha256, v: Option<&[u8]>) {
        match v {
            None => h.update([0u8]),
            Some(b) => {
                h.update([1u8]);
                h.update((b.len() as u64).to_be_bytes());
                h.update(b);
            }
        }
    }
    let mut h = Sha256::new();
    h.update(b"jineng-audit-1");
    put(&mut h, Some(l.prev_hash.as_bytes()));
    put(&mut h, Some(&l.seq.to_be_bytes()));
    put(&mut h, Some(&l.at_micros.to_be_bytes()));
    put(&mut h, l.user_id.map(i64::to_be_bytes).as_ref().map(|b| b.as_slice()));
    put(&mut h, l.address.map(str::as_bytes));
    put(&mut h, Some(l.action.as_bytes()));
    put(&mut h, Some(l.entity.as_bytes()));
    put(&mut h, Some(l.entity_id.as_bytes()));
    put(&mut h, Some(l.detail.as_bytes()));
    h.finalize().into()
}

/// Masks personal data in a text: an ID number (17 digits and a digit or X, with a birth date
/// where one belongs) keeps its first and last four characters, a mobile phone (11 digits from
/// 1, also after +86 or with separators when it is the whole text) its first three and last
/// four; numbers inside longer text are masked alike. Text already masked is left as it is.
pub fn mask_text(s: &str) -> String {
    let t = s.trim();
    let d: String = t.chars().filter(|c| !matches!(c, ' ' | '-' | '+' | '(' | ')')).collect();
    let mobile = d.strip_prefix("86").filter(|m| m.len() == 11).unwrap_or(&d);
    if mobile.len() == 11 && mobile.bytes().all(|b| b.is_ascii_digit()) && mobile.starts_with('1') {
        return jineng_domain::phone::mask(mobile);
    }
    // Runs of digits (and a final X) inside the text.
    let mut out = String::with_capacity(s.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        out.push_str(&mask_number(run));
        run.clear();
    };
    for c in s.chars() {
        if c.is_ascii_digit() || (matches!(c, 'X' | 'x') && run.len() == 17) {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

/// A run of digits masked if it is an ID number or a mobile phone.
fn mask_number(run: &str) -> String {
    let b = run.as_bytes();
    // Year 19xx or 20xx, month 01–12, day 01–31 where an ID number keeps its birth date.
    let born = |d: &[u8]| {
        let n = |r: std::ops::Range<usize>| d[r].iter().fold(0u32, |a, c| a * 10 + u32::from(c - b'0'));
        matches!(&d[..2], b"19" | b"20") && (1..=12).contains(&n(4..6)) && (1..=31).contains(&n(6..8))
    };
    if b.len() == 18 && b[..17].iter().all(u8::is_ascii_digit) && born(&b[6..14]) {
        return jineng_domain::id_number::mask(run);
    }
    if b.len() == 11 && b[0] == b'1' && b.iter().all(u8::is_ascii_digit) {
        return jineng_domain::phone::mask(run);
    }
    run.to_owned()
}

/// Masks personal data anywhere in an entry's detail: every string by [`mask_text`], and every
/// field whose name says it is a phone or an ID number whatever its form.
pub fn mask_detail(v: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    fn personal(key: &str) -> bool {
        let k = key.to_ascii_lowercase();
        ["phone", "mobile", "id_number", "contact_number"].iter().any(|p| k.contains(p))
    }
    match v {
        Value::String(s) => Value::String(mask_text(s)),
        Value::Array(a) => Value::Array(a.iter().map(mask_detail).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| {
                    let x = match x {
                        Value::String(s) if personal(k) && !s.contains('*') && !s.is_empty() => {
                            Value::String(if k.to_ascii_lowercase().contains("id") {
                                jineng_domain::id_number::mask(s)
                            } else {
                                jineng_domain::phone::mask(s)
                            })
                        }
                        other if k.contains("credit_code") => other.clone(),
                        other => mask_detail(other),
                    };
                    (k.clone(), x)
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

/// An entry about to be chained.
struct Pending {
    at: chrono::DateTime<chrono::Utc>,
    user_id: Option<i64>,
    address: Option<String>,
    action: String,
    entity: String,
    entity_id: String,
    detail: String,
}

impl Pending {
    /// Its hash as link `seq` of the chain after `prev_hash`.
    fn hash(&self, seq: i64, prev_hash: &str) -> String {
        link_hash(&Link {
            seq,
            at_micros: self.at.timestamp_micros(),
            user_id: self.user_id,
            address: self.address.as_deref(),
            action: &self.action,
            entity: &self.entity,
            entity_id: &self.entity_id,
            detail: &self.detail,
            prev_hash,
        })
    }
}

/// A connection that audit entries can be appended on (SQLite's or PostgreSQL's, usually the
/// caller's transaction).
pub trait Append: Send {
    /// Appends one entry as the next link of the chain.
    #[doc(hidden)]
    fn append<'a>(&'a mut self, e: &'a PendingEntry) -> Pin<Box<dyn Future<Output = Result<()>> + Send + 'a>>;

    /// Appends entries as the next links of the chain, in order: the head is moved once for
    /// all of them, the links hashed here one after the other, and the rows written a few
    /// thousand to a statement.
    #[doc(hidden)]
    fn append_all<'a>(&'a mut self, es: &'a [PendingEntry]) -> Pin<Box<dyn Future<Output = Result<()>> + Send + 'a>>;
}

/// An entry about to be chained (opaque).
pub struct PendingEntry(Pending);

macro_rules! append_on {
    ($conn:ty, $db:ty) => {
        impl Append for $conn {
            fn append_all<'a>(
                &'a mut self,
                es: &'a [PendingEntry],
            ) -> Pin<Box<dyn Future<Output = Result<()>> + Send + 'a>> {
                Box::pin(async move {
                    if es.is_empty() {
                        return Ok(());
                    }
                    let (last, mut prev): (i64, String) = sqlx::query_as(
                        "UPDATE audit_head SET seq = seq + $1 WHERE audit_head_id = 1 RETURNING seq, hash",
                    )
                    .bind(es.len() as i64)
                    .fetch_one(&mut *self)
                    .await?;
                    let first = last - es.len() as i64 + 1;
                    // (seq, prev_hash, hash) of each entry, in order.
                    let mut links = Vec::with_capacity(es.len());
                    for (i, e) in es.iter().enumerate() {
                        let e = &e.0;
                        let seq = first + i as i64;
                        let hash = e.hash(seq, &prev);
                        links.push((seq, std::mem::replace(&mut prev, hash.clone()), hash));
                    }
                    let rows: Vec<(&Pending, &(i64, String, String))> = es.iter().map(|e| &e.0).zip(&links).collect();
                    for chunk in rows.chunks(2_000) {
                        let mut qb = sqlx::QueryBuilder::<$db>::new(
                            "INSERT INTO audit_log (at, user_id, address, action, entity, entity_id, detail, seq, prev_hash, hash) ",
                        );
                        qb.push_values(chunk, |mut b, (e, (seq, prev, hash))| {
                            b.push_bind(e.at)
                                .push_bind(e.user_id)
                                .push_bind(e.address.clone())
                                .push_bind(e.action.clone())
                                .push_bind(e.entity.clone())
                                .push_bind(e.entity_id.clone())
                                .push_bind(e.detail.clone())
                                .push_bind(*seq)
                                .push_bind(prev.clone())
                                .push_bind(hash.clone());
                        });
                        qb.build().execute(&mut *self).await?;
                    }
                    sqlx::query("UPDATE audit_head SET hash = $1 WHERE audit_head_id = 1")
                        .bind(&prev)
                        .execute(&mut *self)
                        .await?;
                    Ok(())
                })
            }

            fn append<'a>(
                &'a mut self,
                e: &'a PendingEntry,
            ) -> Pin<Box<dyn Future<Output = Result<()>> + Send + 'a>> {
                Box::pin(async move {
                    let e = &e.0;
                    // Takes the head's lock (PostgreSQL) or the write lock (SQLite) until the
                    // transaction ends.
                    let (seq, prev): (i64, String) = sqlx::query_as(
                        "UPDATE audit_head SET seq = seq + 1 WHERE audit_head_id = 1 RETURNING seq, hash",
                    )
                    .fetch_one(&mut *self)
                    .await?;
                    let hash = e.hash(seq, &prev);
                    sqlx::query(
                        "INSERT INTO audit_log (at, user_id, address, action, entity, entity_id, detail, seq, prev_hash, hash) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                    )
                    .bind(e.at)
                    .bind(e.user_id)
                    .bind(&e.address)
                    .bind(&e.action)
                    .bind(&e.entity)
                    .bind(&e.entity_id)
                    .bind(&e.detail)
                    .bind(seq)
                    .bind(&prev)
                    .bind(&hash)
                    .execute(&mut *self)
                    .await?;
                    sqlx::query("UPDATE audit_head SET hash = $1 WHERE audit_head_id = 1")
                        .bind(&hash)
                        .execute(&mut *self)
                        .await?;
                    Ok(())
                })
            }
        }
    };
}
append_on!(sqlx::SqliteConnection, sqlx::Sqlite);
append_on!(sqlx::PgConnection, sqlx::Postgres);

/// Appends entries as the next links of the chain with `COPY` (PostgreSQL): what
/// [`record_all`] does, for a bulk load of history (the province's paid claims, four entries
/// each), inside the caller's transaction.
pub(crate) async fn copy_all(conn: &mut sqlx::PgConnection, es: &[PendingEntry]) -> Result<()> {
    use crate::demo::load::CopyRow;
    if es.is_empty() {
        return Ok(());
    }
    let (last, mut prev): (i64, String) =
        sqlx::query_as("UPDATE audit_head SET seq = seq + $1 WHERE audit_head_id = 1 RETURNING seq, hash")
            .bind(es.len() as i64)
            .fetch_one(&mut *conn)
            .await?;
    let first = last - es.len() as i64 + 1;
    let mut copy = conn
        .copy_in_raw(
            "COPY audit_log (at, user_id, address, action, entity, entity_id, detail, seq, prev_hash, hash) FROM STDIN",
        )
        .await?;
    let mut buf = String::with_capacity(1 << 20);
    for (i, e) in es.iter().enumerate() {
        let e = &e.0;
        let seq = first + i as i64;
        let hash = e.hash(seq, &prev);
        CopyRow::new(&mut buf)
            .push_bind(e.at)
            .push_bind(e.user_id)
            .push_bind(e.address.as_deref())
            .push_bind(e.action.as_str())
            .push_bind(e.entity.as_str())
            .push_bind(e.entity_id.as_str())
            .push_bind(e.detail.as_str())
            .push_bind(seq)
            .push_bind(prev.as_str())
            .push_bind(hash.as_str());
        buf.push('\n');
        prev = hash;
        if buf.len() >= 1 << 20 {
            copy.send(std::mem::take(&mut buf).into_bytes()).await?;
        }
    }
    if !buf.is_empty() {
        copy.send(buf.into_bytes()).await?;
    }
    copy.finish().await?;
    sqlx::query("UPDATE audit_head SET hash = $1 WHERE audit_head_id = 1").bind(&prev).execute(&mut *conn).await?;
    Ok(())
}

/// The current time cut to microseconds (what PostgreSQL keeps), so an entry hashes the same
/// when it is read back.
fn now_micros() -> chrono::DateTime<chrono::Utc> {
    let t = now();
    chrono::DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
}

/// Writes one entry on the given connection (inside the caller's transaction), as the next link
/// of the chain, with personal data masked and the address of the request being served.
pub async fn record<C: Append + ?Sized>(
    conn: &mut C,
    actor: Actor,
    action: &str,
    entity: &str,
    entity_id: &str,
    detail: &serde_json::Value,
) -> Result<()> {
    conn.append(&entry(actor, action, entity, entity_id, detail)).await
}

/// An entry to write with [`record_all`]: who, what, which row, and the detail (masked as
/// [`record`] masks it).
pub fn entry(actor: Actor, action: &str, entity: &str, entity_id: &str, detail: &serde_json::Value) -> PendingEntry {
    PendingEntry(Pending {
        at: now_micros(),
        user_id: actor,
        address: current_address(),
        action: action.to_owned(),
        entity: entity.to_owned(),
        entity_id: mask_text(entity_id),
        detail: mask_detail(detail).to_string(),
    })
}

/// Writes entries on the given connection (inside the caller's transaction) as the next links
/// of the chain, in order: what [`record`] does for each, with the chain's head moved once.
pub async fn record_all<C: Append + ?Sized>(conn: &mut C, entries: &[PendingEntry]) -> Result<()> {
    conn.append_all(entries).await
}

/// Writes one entry outside any other change (e.g. a sign-in), in a transaction of its own.
pub async fn log(
    db: &Db,
    actor: Actor,
    action: &str,
    entity: &str,
    entity_id: &str,
    detail: &serde_json::Value,
) -> Result<()> {
    crate::in_tx!(db, |tx| record(&mut *tx, actor, action, entity, entity_id, detail).await?);
    Ok(())
}

const COLUMNS: &str = "audit_id, at, user_id, action, entity, entity_id, detail, address, seq";

/// The newest entries for one row, newest first.
pub async fn for_entity(db: &Db, entity: &str, entity_id: &str) -> Result<Vec<AuditEntry>> {
    Ok(crate::with_pool!(db, |p| sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM audit_log WHERE entity = $1 AND entity_id = $2 ORDER BY audit_id DESC LIMIT 200"
    ))
    .bind(entity)
    .bind(entity_id)
    .fetch_all(p)
    .await?))
}

/// Which entries the audit page lists.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// One entity kind (table), or all.
    pub entity: Option<String>,
    /// From this moment on.
    pub from: Option<chrono::DateTime<chrono::Utc>>,
    /// Before this moment.
    pub until: Option<chrono::DateTime<chrono::Utc>>,
    /// Page size.
    pub limit: i64,
    /// Entries skipped (newest first).
    pub offset: i64,
}

/// An entry with the name of who made it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct AuditRow {
    /// The entry.
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub entry: AuditEntry,
    /// The user's display name (none: the system).
    pub user_name: Option<String>,
}

/// The entries that pass the filter, newest first, with who made them.
pub async fn recent(db: &Db, f: &AuditFilter) -> Result<Vec<AuditRow>> {
    let entity = crate::opt_eq("a.entity", 1, f.entity.as_deref().is_some_and(|e| !e.is_empty()), "''");
    let from = if f.from.is_some() { "a.at >= $2" } else { "$2 IS NULL" };
    let until = if f.until.is_some() { "a.at < $3" } else { "$3 IS NULL" };
    let sql = format!(
        "SELECT a.audit_id, a.at, a.user_id, a.action, a.entity, a.entity_id, a.detail, a.address, a.seq, u.display_name AS user_name \
         FROM audit_log a LEFT JOIN app_user u ON u.user_id = a.user_id \
         WHERE {entity} AND {from} AND {until} ORDER BY a.audit_id DESC LIMIT $4 OFFSET $5"
    );
    Ok(crate::with_pool!(db, |p| {
        sqlx::query_as(&sql)
            .bind(f.entity.as_deref().unwrap_or(""))
            .bind(f.from)
            .bind(f.until)
            .bind(f.limit)
            .bind(f.offset)
            .fetch_all(p)
            .await?
    }))
}

/// A stored entry with its chain fields, as [`verify`] reads it.
#[derive(Debug, Clone, sqlx::FromRow)]
struct Stored {
    audit_id: i64,
    seq: Option<i64>,
    at: chrono::DateTime<chrono::Utc>,
    user_id: Option<i64>,
    address: Option<String>,
    action: String,
    entity: String,
    entity_id: String,
    detail: String,
    prev_hash: Option<String>,
    hash: Option<String>,
}

impl Stored {
    fn link(&self, seq: i64, prev_hash: &'_ str) -> [u8; 32] {
        link_digest(&Link {
            seq,
            at_micros: self.at.timestamp_micros(),
            user_id: self.user_id,
            address: self.address.as_deref(),
            action: &self.action,
            entity: &self.entity,
            entity_id: &self.entity_id,
            detail: &self.detail,
            prev_hash,
        })
    }

    fn link_hash(&self, seq: i64, prev_hash: &str) -> String {
        hex::encode(self.link(seq, prev_hash))
    }

    /// Whether the stored hash is the hash of the entry's fields.
    fn hash_holds(&self, seq: i64, prev_hash: &str) -> bool {
        let mut stored = [0u8; 32];
        self.hash.as_deref().is_some_and(|h| hex::decode_to_slice(h, &mut stored).is_ok())
            && stored == self.link(seq, prev_hash)
    }
}

const STORED: &str = "audit_id, seq, at, user_id, address, action, entity, entity_id, detail, prev_hash, hash";

/// Chains the entries written before the chain existed (up to the head's `legacy_until`, not
/// chained yet), in `audit_id` order, once; returns how many. Run when the database is opened;
/// an entry added later without a seq is never sealed (verify reports it as inserted).
pub async fn seal_legacy(db: &Db) -> Result<u64> {
    let mut sealed = 0;
    loop {
        let n: u64 = crate::in_tx!(db, |tx| {
            let (seq, mut prev, until): (i64, String, i64) = sqlx::query_as(
                "UPDATE audit_head SET seq = seq WHERE audit_head_id = 1 RETURNING seq, hash, legacy_until",
            )
            .fetch_one(&mut *tx)
            .await?;
            let rows: Vec<Stored> = sqlx::query_as(&format!(
                "SELECT {STORED} FROM audit_log WHERE seq IS NULL AND audit_id <= $1 ORDER BY audit_id LIMIT 5000"
            ))
            .bind(until)
            .fetch_all(&mut *tx)
            .await?;
            let mut seq = seq;
            for r in &rows {
                seq += 1;
                let hash = r.link_hash(seq, &prev);
                sqlx::query("UPDATE audit_log SET seq = $1, prev_hash = $2, hash = $3 WHERE audit_id = $4")
                    .bind(seq)
                    .bind(&prev)
                    .bind(&hash)
                    .bind(r.audit_id)
                    .execute(&mut *tx)
                    .await?;
                prev = hash;
            }
            // Once every legacy entry is sealed, nothing is sealed again: an entry added later
            // without a seq stays outside the chain, where verify finds it.
            let rest = if rows.len() < 5000 { 0 } else { until };
            sqlx::query("UPDATE audit_head SET seq = $1, hash = $2, legacy_until = $3 WHERE audit_head_id = 1")
                .bind(seq)
                .bind(&prev)
                .bind(rest)
                .execute(&mut *tx)
                .await?;
            rows.len() as u64
        });
        sealed += n;
        if n == 0 {
            return Ok(sealed);
        }
    }
}

/// What is wrong with the chain at one entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Break {
    /// The entry's fields no longer give its hash (or its link to the one before is wrong).
    Altered,
    /// Entries are missing before this place.
    Removed,
    /// The entry is not part of the chain.
    Inserted,
}

/// The first place the chain breaks.
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    pub kind: Break,
    /// The seq where it breaks (for a removal: the first missing seq).
    pub seq: Option<i64>,
    /// The entry found there, if any.
    pub audit_id: Option<i64>,
    /// What was found, in words (中文 / English).
    pub message: String,
}

/// The result of walking the chain.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    /// Entries read.
    pub rows: u64,
    /// The head: last seq and hash (keep them elsewhere to anchor the chain).
    pub head_seq: i64,
    pub head_hash: String,
    /// The first break, if any.
    pub first: Option<Problem>,
    /// How many breaks in all.
    pub breaks: u64,
}

/// The chain's head: the last seq and its hash (cheap; to show and to keep elsewhere).
pub async fn head(db: &Db) -> Result<(i64, String)> {
    Ok(crate::with_pool!(db, |p| sqlx::query_as("SELECT seq, hash FROM audit_head WHERE audit_head_id = 1")
        .fetch_one(p)
        .await?))
}

/// Walks the whole chain in seq order, 10,000 entries a query, and reports the first entry that
/// was altered, removed or inserted (see the module doc).
pub async fn verify(db: &Db) -> Result<Verdict> {
    const PAGE: i64 = 10_000;
    let (head_seq, head_hash): (i64, String) =
        crate::with_pool!(db, |p| sqlx::query_as("SELECT seq, hash FROM audit_head WHERE audit_head_id = 1")
            .fetch_one(p)
            .await?);
    let mut v = Verdict { rows: 0, head_seq, head_hash: head_hash.clone(), first: None, breaks: 0 };
    let found = |v: &mut Verdict, kind: Break, seq: Option<i64>, audit_id: Option<i64>, message: String| {
        v.breaks += 1;
        if v.first.is_none() {
            v.first = Some(Problem { kind, seq, audit_id, message });
        }
    };
    // Entries outside the chain: written around it.
    let outside: Vec<(i64,)> =
        crate::with_pool!(db, |p| sqlx::query_as("SELECT audit_id FROM audit_log WHERE seq IS NULL ORDER BY audit_id")
            .fetch_all(p)
            .await?);
    for (id,) in &outside {
        found(
            &mut v,
            Break::Inserted,
            None,
            Some(*id),
            format!("第 {id} 号记录不在链中 / entry {id} is outside the chain"),
        );
    }
    // One task reads the next page while this one hashes the last (two cores at work).
    let (send, mut pages) = tokio::sync::mpsc::channel::<Result<Vec<Stored>>>(2);
    let reader = db.clone();
    tokio::spawn(async move {
        let mut from = 1i64;
        loop {
            let rows: Result<Vec<Stored>> = async {
                Ok(crate::with_pool!(&reader, |p| sqlx::query_as(&format!(
                    "SELECT {STORED} FROM audit_log WHERE seq >= $1 ORDER BY seq LIMIT $2"
                ))
                .bind(from)
                .bind(PAGE)
                .fetch_all(p)
                .await?))
            }
            .await;
            let done = match &rows {
                Ok(r) => {
                    from = r.last().and_then(|r| r.seq).map_or(from, |s| s + 1);
                    (r.len() as i64) < PAGE
                }
                Err(_) => true,
            };
            if send.send(rows).await.is_err() || done {
                break;
            }
        }
    });
    let mut expected = 1i64;
    let mut prev = GENESIS.to_owned();
    while let Some(rows) = pages.recv().await {
        let rows = rows?;
        for r in &rows {
            v.rows += 1;
            let seq = r.seq.unwrap_or_default();
            if seq > head_seq {
                found(
                    &mut v,
                    Break::Inserted,
                    Some(seq),
                    Some(r.audit_id),
                    format!("序号 {seq} 在链头 {head_seq} 之后 / seq {seq} is beyond the head {head_seq}"),
                );
            } else if seq > expected {
                found(
                    &mut v,
                    Break::Removed,
                    Some(expected),
                    Some(r.audit_id),
                    format!("序号 {expected}–{} 的记录缺失 / entries {expected}–{} are missing", seq - 1, seq - 1),
                );
            } else if r.prev_hash.as_deref() != Some(prev.as_str()) {
                found(
                    &mut v,
                    Break::Altered,
                    Some(seq),
                    Some(r.audit_id),
                    format!("序号 {seq} 与前一条记录的链接不符 / entry {seq} does not link to the one before"),
                );
            } else if !r.hash_holds(seq, &prev) {
                found(
                    &mut v,
                    Break::Altered,
                    Some(seq),
                    Some(r.audit_id),
                    format!("序号 {seq} 的内容已被改动 / entry {seq} was changed after it was written"),
                );
            }
            expected = seq + 1;
            prev.clear();
            prev.push_str(r.hash.as_deref().unwrap_or_default());
        }
    }
    if expected <= head_seq {
        found(&mut v, Break::Removed, Some(expected), None, format!(
            "链头为 {head_seq}，序号 {expected} 起的记录缺失 / the head is at {head_seq}, entries from {expected} on are missing"));
    } else if expected - 1 == head_seq && prev != head_hash && v.first.is_none() {
        found(
            &mut v,
            Break::Altered,
            Some(head_seq),
            None,
            "链头与最后一条记录不符 / the head does not match the last entry".to_owned(),
        );
    }
    Ok(v)
}

/// Appends `n` entries of made-up changes through [`record`], 10,000 to a transaction (for the
/// benchmark of [`verify`]).
pub async fn fill(db: &Db, n: u64) -> Result<()> {
    let mut done = 0u64;
    while done < n {
        let batch = (n - done).min(10_000);
        crate::in_tx!(db, |tx| {
            for i in done..done + batch {
                let detail =
                    serde_json::json!({"before": {"status": "submitted"}, "after": {"status": "approved"}, "n": i});
                record(&mut *tx, Some(1), "update", "claim", &i.to_string(), &detail).await?;
            }
        });
        done += batch;
    }
    Ok(())
}
