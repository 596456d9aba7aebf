//! Users, roles, sessions and API tokens. Passwords are hashed with argon2; session and API
//! tokens are random and only their SHA-256 is stored.

use crate::audit;
use crate::{in_tx, now, with_pool, Db, Result, StoreError};
use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, SaltString};
use argon2::Argon2;
use jineng_domain::Invalid;
use jineng_domain::Role;
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// A signed-in user.
#[derive(Debug, Clone, Serialize)]
pub struct User {
    pub user_id: i64,
    /// Login name.
    pub username: String,
    /// Display name.
    pub display_name: String,
    pub role: Role,
    /// Scope value (county code, department code, provider id, body id or person id).
    pub scope: Option<String>,
}

impl User {
    /// The scope as an id (provider, body, person).
    pub fn scope_id(&self) -> Option<i64> {
        self.scope.as_deref().and_then(|s| s.parse().ok())
    }
}

#[derive(sqlx::FromRow)]
struct UserRow {
    user_id: i64,
    username: String,
    display_name: String,
    password_hash: String,
    role: String,
    scope: Option<String>,
    active: bool,
}

impl UserRow {
    fn into_user(self) -> Option<User> {
        Some(User {
            user_id: self.user_id,
            username: self.username,
            display_name: self.display_name,
            role: Role::parse(&self.role)?,
            scope: self.scope,
        })
    }
}

/// Password checks running at once (each takes a core for tens of milliseconds).
static HASHING: std::sync::LazyLock<tokio::sync::Semaphore> =
    std::sync::LazyLock::new(|| tokio::sync::Semaphore::new(hashers()));

fn hashers() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// A password to check against a stored hash, and where to send the answer.
struct Check {
    hash: String,
    password: String,
    reply: tokio::sync::oneshot::Sender<bool>,
}

/// The threads that check passwords: a fixed few, living as long as the server. Each check
/// takes 19 MB (argon2's memory cost); on a fixed thread it reuses that thread's memory, where
/// a new blocking thread each time would leave a 19 MB arena behind per thread (a sign-in flood
/// once took the server from 40 MB to 387 MB).
static CHECKERS: std::sync::LazyLock<std::sync::mpsc::SyncSender<Check>> = std::sync::LazyLock::new(|| {
    let (tx, rx) = std::sync::mpsc::sync_channel::<Check>(1024);
    let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
    for i in 0..hashers() {
        let rx = rx.clone();
        let _ = std::thread::Builder::new().name(format!("jineng-password-{i}")).spawn(move || {
            // The thread's argon2 memory, allocated once and reused by every check.
            let mut memory: Vec<argon2::Block> = Vec::new();
            loop {
                let job = match rx.lock() {
                    Ok(r) => r.recv(),
                    Err(_) => return,
                };
                let Ok(c) = job else { return };
                let ok = verify_reusing(&c.password, &c.hash, &mut memory);
                let _ = c.reply.send(ok);
            }
        });
    }
    tx
});

/// Checks `password` against a stored argon2 hash, computing into `memory` (grown to the hash's
/// memory cost once, then reused): argon2's own `verify_password` allocates its 19 MB anew on
/// every call, which the allocator kept, 19 MB more for each sign-in checked.
fn verify_reusing(password: &str, stored: &str, memory: &mut Vec<argon2::Block>) -> bool {
    use argon2::{Algorithm, Params, Version};
    let Ok(h) = PasswordHash::new(stored) else { return false };
    let (Some(salt), Some(expected)) = (h.salt, h.hash) else { return false };
    let (Ok(params), Ok(algorithm)) = (Params::try_from(&h), Algorithm::try_from(h.algorithm)) else { return false };
    let Ok(version) = h.version.map_or(Ok(Version::default()), Version::try_from) else { return false };
    let blocks = params.block_count();
    if memory.len() != blocks {
        memory.clear();
        memory.resize(blocks, argon2::Block::default());
    }
    let mut salt_buf = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_buf) else { return false };
    let mut out = vec![0u8; expected.len()];
    let ok = Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password.as_bytes(), salt, &mut out, memory.as_mut_slice())
        .is_ok();
    // Constant time over the output.
    ok && out.len() == expected.as_bytes().len()
        && out.iter().zip(expected.as_bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

/// Hashes a password with argon2id and a random salt.
pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).unwrap_or_default()
}

/// A random token (hex, 64 characters).
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut b);
    hex::encode(b)
}

fn sha256(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// Creates a user; the password is hashed before it is stored.
pub async fn create(
    db: &Db,
    actor: Option<i64>,
    username: &str,
    display_name: &str,
    password: &str,
    role: Role,
    scope: Option<&str>,
) -> Result<i64> {
    if password.chars().count() < 8 {
        return Err(StoreError::invalid(
            "password",
            Invalid::new("password.short", "密码至少8位", "a password has at least 8 characters"),
        ));
    }
    if role.needs_scope() && scope.is_none_or(str::is_empty) {
        return Err(StoreError::invalid(
            "scope",
            Invalid::new("user.scope", "该角色需要指定范围", "this role needs a scope"),
        ));
    }
    let hash = hash_password(password);
    let id = in_tx!(db, |tx| {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO app_user (username, display_name, password_hash, role, scope, active, created_at) VALUES ($1, $2, $3, $4, $5, TRUE, $6) RETURNING user_id",
        )
        .bind(username)
        .bind(display_name)
        .bind(&hash)
        .bind(role.code())
        .bind(scope)
        .bind(now())
        .fetch_one(&mut *tx)
        .await?;
        audit::record(
            &mut *tx,
            actor,
            "create",
            "app_user",
            &id.to_string(),
            &serde_json::json!({"username": username, "role": role.code(), "scope": scope}),
        )
        .await?;
        id
    });
    Ok(id)
}

/// Checks a username and password; `None` if either is wrong or the user is inactive.
/// The hash is verified even for unknown users, so timing does not reveal which names exist.
pub async fn authenticate(db: &Db, username: &str, password: &str) -> Result<Option<User>> {
    let user = authenticate_quietly(db, username, password).await?;
    if let Some(u) = &user {
        with_pool!(db, |p| sqlx::query("UPDATE app_user SET last_sign_in_at = $1 WHERE user_id = $2")
            .bind(now())
            .bind(u.user_id)
            .execute(p)
            .await
            .map(|_| ())?);
    }
    Ok(user)
}

/// [`authenticate`] without recording a sign-in (checking the current password).
async fn authenticate_quietly(db: &Db, username: &str, password: &str) -> Result<Option<User>> {
    let row: Option<UserRow> = with_pool!(db, |p| {
        sqlx::query_as(
        "SELECT user_id, username, display_name, password_hash, role, scope, active FROM app_user WHERE username = $1"
    )
    .bind(username)
    .fetch_optional(p)
    .await?
    });
    const DUMMY: &str =
        "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$C2xXTZ/rU3v8mCPlRbrY1CK1T3ib3X1pUgEPdF1eNVE";
    let hash = row.as_ref().map_or(DUMMY, |r| r.password_hash.as_str()).to_owned();
    // Hashing is slow on purpose: it runs on the password threads, at most a few at once, so
    // that a flood of sign-ins cannot stall the server's other requests nor grow its memory.
    let _permit = HASHING.acquire().await.map_err(|_| StoreError::NotFound)?;
    let (reply, answer) = tokio::sync::oneshot::channel();
    let sent = CHECKERS.send(Check { hash, password: password.to_owned(), reply }).is_ok();
    let ok = sent && answer.await.unwrap_or(false);
    Ok(row.filter(|r| ok && r.active).and_then(UserRow::into_user))
}

/// A new session: returns the token for the cookie and the CSRF token for forms.
pub async fn create_session(db: &Db, user_id: i64, hours: i64) -> Result<(String, String)> {
    let token = random_token();
    let csrf = random_token();
    let t = now();
    with_pool!(db, |p| {
        sqlx::query(
        "INSERT INTO session (session_hash, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)"
    )
    .bind(sha256(&token))
    .bind(user_id)
    .bind(&csrf)
    .bind(t)
    .bind(t + chrono::Duration::hours(hours))
    .execute(p)
    .await
    .map(|_| ())?
    });
    Ok((token, csrf))
}

/// A session ends after this long without a request.
pub const SESSION_IDLE: chrono::Duration = chrono::Duration::hours(2);
/// An API token lasts this long.
pub const TOKEN_DAYS: i64 = 90;

/// The user and CSRF token of a live session: not expired, used within [`SESSION_IDLE`]. Its
/// last use is recorded (at most once a minute).
pub async fn session_user(db: &Db, token: &str) -> Result<Option<(User, String)>> {
    type Row = (
        i64,
        String,
        String,
        String,
        Option<String>,
        String,
        chrono::DateTime<chrono::Utc>,
        Option<chrono::DateTime<chrono::Utc>>,
    );
    let t = now();
    let hash = sha256(token);
    let row: Option<Row> = with_pool!(db, |p| {
        sqlx::query_as(
            "SELECT u.user_id, u.username, u.display_name, u.role, u.scope, s.csrf_token, s.created_at, s.last_seen_at FROM session s \
         JOIN app_user u ON u.user_id = s.user_id WHERE s.session_hash = $1 AND s.expires_at > $2 AND u.active",
        )
        .bind(&hash)
        .bind(t)
        .fetch_optional(p)
        .await?
    });
    let Some((user_id, username, display_name, role, scope, csrf, created, seen)) = row else { return Ok(None) };
    let seen = seen.unwrap_or(created);
    if t - seen > SESSION_IDLE {
        delete_session(db, token).await?;
        return Ok(None);
    }
    if t - seen > SESSION_TOUCH && first_touch(&hash, t) {
        with_pool!(db, |p| sqlx::query("UPDATE session SET last_seen_at = $1 WHERE session_hash = $2")
            .bind(t)
            .bind(&hash)
            .execute(p)
            .await
            .map(|_| ())?);
    }
    Ok(Role::parse(&role).map(|role| (User { user_id, username, display_name, role, scope }, csrf)))
}

/// How often a session's last use is written: at most once in this long.
const SESSION_TOUCH: chrono::Duration = chrono::Duration::minutes(1);

/// Whether this request is the one to write that the session `hash` was used at `t`: the
/// first of this process in [`SESSION_TOUCH`]. A page's requests (or an API client's) arrive
/// together; each writing the same row would queue them all on the write lock (on SQLite the
/// waiting connections sleep in the busy handler, and the pool runs dry) once a minute.
fn first_touch(hash: &str, t: chrono::DateTime<chrono::Utc>) -> bool {
    static TOUCHED: std::sync::LazyLock<std::sync::Mutex<HashMap<String, chrono::DateTime<chrono::Utc>>>> =
        std::sync::LazyLock::new(Default::default);
    let mut touched = TOUCHED.lock().unwrap_or_else(|e| e.into_inner());
    if touched.get(hash).is_some_and(|at| t - *at < SESSION_TOUCH) {
        return false;
    }
    if touched.len() >= 10_000 {
        touched.retain(|_, at| t - *at < SESSION_TOUCH);
    }
    touched.insert(hash.to_owned(), t);
    true
}

/// Ends a session.
pub async fn delete_session(db: &Db, token: &str) -> Result<()> {
    with_pool!(db, |p| sqlx::query("DELETE FROM session WHERE session_hash = $1")
        .bind(sha256(token))
        .execute(p)
        .await
        .map(|_| ())?);
    Ok(())
}

/// Issues an API bearer token for a user, valid for [`TOKEN_DAYS`]; the token is returned once
/// and only its hash kept.
pub async fn create_api_token(db: &Db, user_id: i64, name: &str) -> Result<String> {
    let token = format!("jn_{}", random_token());
    in_tx!(db, |tx| {
        let t = now();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO api_token (token_hash, user_id, name, created_at, expires_at) VALUES ($1, $2, $3, $4, $5) RETURNING api_token_id",
        )
            .bind(sha256(&token))
            .bind(user_id)
            .bind(name.trim().chars().take(100).collect::<String>())
            .bind(t)
            .bind(t + chrono::Duration::days(TOKEN_DAYS))
            .fetch_one(&mut *tx)
            .await?;
        audit::record(
            &mut *tx,
            Some(user_id),
            "create",
            "api_token",
            &id.to_string(),
            &serde_json::json!({"name": name}),
        )
        .await?;
    });
    Ok(token)
}

/// The user of a live bearer token: not revoked, not expired (tokens issued before tokens had
/// an expiry last [`TOKEN_DAYS`] from their creation).
pub async fn token_user(db: &Db, token: &str) -> Result<Option<User>> {
    #[derive(sqlx::FromRow)]
    struct Live {
        #[sqlx(flatten)]
        user: UserRow,
        created_at: chrono::DateTime<chrono::Utc>,
        expires_at: Option<chrono::DateTime<chrono::Utc>>,
        revoked_at: Option<chrono::DateTime<chrono::Utc>>,
    }
    let row: Option<Live> = with_pool!(db, |p| {
        sqlx::query_as(
        "SELECT u.user_id, u.username, u.display_name, u.password_hash, u.role, u.scope, u.active, t.created_at, t.expires_at, t.revoked_at \
         FROM api_token t JOIN app_user u ON u.user_id = t.user_id WHERE t.token_hash = $1"
    )
    .bind(sha256(token))
    .fetch_optional(p)
    .await?
    });
    let t = now();
    Ok(row
        .filter(|r| {
            r.revoked_at.is_none() && r.expires_at.unwrap_or(r.created_at + chrono::Duration::days(TOKEN_DAYS)) > t
        })
        .map(|r| r.user)
        .filter(|r| r.active)
        .and_then(UserRow::into_user))
}

/// An API token as its owner sees it (never the token itself).
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct TokenRow {
    /// Id (to revoke it).
    pub api_token_id: i64,
    /// The name given when it was issued.
    pub name: String,
    /// Issued at.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Valid until (none: issued before tokens expired; then 90 days from issue).
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Revoked at, if it was.
    pub revoked_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// A user's API tokens, newest first.
pub async fn tokens_of(db: &Db, user_id: i64) -> Result<Vec<TokenRow>> {
    Ok(with_pool!(db, |p| {
        sqlx::query_as(
        "SELECT api_token_id, name, created_at, expires_at, revoked_at FROM api_token WHERE user_id = $1 ORDER BY api_token_id DESC"
    )
    .bind(user_id)
    .fetch_all(p)
    .await?
    }))
}

/// Revokes one of a user's tokens (another user's token is not found).
pub async fn revoke_token(db: &Db, user_id: i64, api_token_id: i64) -> Result<()> {
    in_tx!(db, |tx| {
        let n = sqlx::query(
            "UPDATE api_token SET revoked_at = $1 WHERE api_token_id = $2 AND user_id = $3 AND revoked_at IS NULL",
        )
        .bind(now())
        .bind(api_token_id)
        .bind(user_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        audit::record(
            &mut *tx,
            Some(user_id),
            "revoke",
            "api_token",
            &api_token_id.to_string(),
            &serde_json::json!({}),
        )
        .await?;
    });
    Ok(())
}

/// The first city admin's id, if there is one (for benchmarks and the demo).
pub async fn first_city_admin(db: &crate::Db) -> crate::Result<Option<i64>> {
    Ok(crate::with_pool!(db, |p| sqlx::query_scalar(
        "SELECT user_id FROM app_user WHERE role = 'city_admin' ORDER BY user_id LIMIT 1"
    )
    .fetch_optional(p)
    .await?))
}
// ---------------------------------------------------------------------------------------------
// Accounts the bureau runs (issue 13, part 4).

/// A one-time setup code lasts this long.
pub const SETUP_CODE_HOURS: i64 = 72;

/// A password hash that no password matches (an account waiting for its setup code).
const NO_PASSWORD: &str = "!";

/// One account as the admins see it (never a password or code).
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Account {
    pub user_id: i64,
    /// Login name.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Role code.
    pub role: String,
    /// Scope value.
    pub scope: Option<String>,
    /// False: suspended (cannot sign in; its sessions and tokens ended).
    pub active: bool,
    /// Created at.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Last successful sign-in.
    pub last_sign_in_at: Option<chrono::DateTime<chrono::Utc>>,
    /// When the password was last set (none: never, or a setup code is waiting).
    pub password_set_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Until when a setup code (not shown again) can be redeemed.
    pub setup_code_expires_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Who manages accounts, and which: the city admin every account, a county office the county
/// office accounts of its own county (never an admin above itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Manager {
    /// The city admin.
    City,
    /// A county office: its county code.
    County(String),
}

impl Manager {
    /// The manager a user is, if any.
    pub fn of(u: &User) -> Option<Manager> {
        match (u.role, &u.scope) {
            (Role::CityAdmin, _) => Some(Manager::City),
            (Role::County, Some(c)) if !c.is_empty() => Some(Manager::County(c.clone())),
            _ => None,
        }
    }

    /// Whether an account of `role` and `scope` is this manager's to hold: the city's, any; a
    /// county office's, its own office, and the providers, employers, assessment bodies and
    /// workers registered in its county.
    pub async fn may_hold(&self, db: &Db, role: Role, scope: Option<&str>) -> Result<bool> {
        let Manager::County(c) = self else { return Ok(true) };
        let table = match role {
            Role::County => return Ok(scope == Some(c.as_str())),
            Role::Provider => "provider WHERE provider_id",
            Role::Employer => "employer WHERE employer_id",
            Role::AssessmentBody => "assessment_body WHERE assessment_body_id",
            Role::Worker => "person WHERE person_id",
            _ => return Ok(false),
        };
        let Some(id) = scope.and_then(|s| s.parse::<i64>().ok()) else { return Ok(false) };
        let sql = format!("SELECT COUNT(*) FROM {table} = $1 AND county_code = $2");
        let n: i64 = with_pool!(db, |p| sqlx::query_scalar(&sql).bind(id).bind(c).fetch_one(p).await?);
        Ok(n > 0)
    }

    /// The county of this manager's accounts, `''` for all (bound as `$1` of [`REACH`]).
    fn county(&self) -> &str {
        match self {
            Manager::City => "",
            Manager::County(c) => c.as_str(),
        }
    }
}

/// SQL condition on `app_user`: within the reach of the manager whose county is `$1` (`''`: the
/// city's, every account).
/// Each scoped account is probed by its organisation's or person's key (one index lookup per
/// account), not by listing every person of the county as text to compare scopes with. The
/// `CASE` casts a scope only for the roles whose scope is an id.
const REACH: &str = "($1 = '' OR (role = 'county' AND scope = $1) \
    OR (role = 'provider' AND EXISTS (SELECT 1 FROM provider o WHERE o.county_code = $1 \
        AND o.provider_id = CASE WHEN app_user.role = 'provider' THEN CAST(app_user.scope AS BIGINT) END)) \
    OR (role = 'employer' AND EXISTS (SELECT 1 FROM employer o WHERE o.county_code = $1 \
        AND o.employer_id = CASE WHEN app_user.role = 'employer' THEN CAST(app_user.scope AS BIGINT) END)) \
    OR (role = 'assessment_body' AND EXISTS (SELECT 1 FROM assessment_body o WHERE o.county_code = $1 \
        AND o.assessment_body_id = CASE WHEN app_user.role = 'assessment_body' THEN CAST(app_user.scope AS BIGINT) END)) \
    OR (role = 'worker' AND EXISTS (SELECT 1 FROM person o WHERE o.county_code = $1 \
        AND o.person_id = CASE WHEN app_user.role = 'worker' THEN CAST(app_user.scope AS BIGINT) END)))";

const ACCOUNT: &str = "user_id, username, display_name, role, scope, active, created_at, last_sign_in_at, password_set_at, setup_code_expires_at";

/// The accounts a manager manages, by username.
pub async fn accounts(db: &Db, m: &Manager) -> Result<Vec<Account>> {
    Ok(with_pool!(db, |p| sqlx::query_as(&format!("SELECT {ACCOUNT} FROM app_user WHERE {REACH} ORDER BY username"))
        .bind(m.county())
        .fetch_all(p)
        .await?))
}

/// One account of a manager's (another's is not found).
pub async fn account(db: &Db, m: &Manager, user_id: i64) -> Result<Account> {
    with_pool!(db, |p| sqlx::query_as(&format!("SELECT {ACCOUNT} FROM app_user WHERE {REACH} AND user_id = $2"))
        .bind(m.county())
        .bind(user_id)
        .fetch_optional(p)
        .await?)
    .ok_or(StoreError::NotFound)
}

/// A new account as a manager asks for it.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct NewAccount {
    /// Login name: 3–50 letters, digits, `.`, `_` or `-`.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Role code.
    pub role: String,
    /// Scope value (county code, department code, provider id, body id, person id, employer id).
    pub scope: Option<String>,
}

/// A one-time setup code: shown once to the manager who made it, kept only as its SHA-256.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SetupCode {
    /// The account.
    pub user_id: i64,
    /// The code (the user redeems it once at `/account/setup` to choose a password).
    pub code: String,
    /// Valid until.
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

fn new_setup_code(user_id: i64) -> (SetupCode, String) {
    // 16 characters without look-alikes (0/O, 1/I/L): about 80 bits.
    const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
    let mut b = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut b);
    let raw: String = b.iter().map(|x| ALPHABET[*x as usize % ALPHABET.len()] as char).collect();
    let code = format!("{}-{}-{}-{}", &raw[..4], &raw[4..8], &raw[8..12], &raw[12..]);
    let hash = sha256(&code);
    (SetupCode { user_id, code, expires_at: now() + chrono::Duration::hours(SETUP_CODE_HOURS) }, hash)
}

fn refuse(field: &str, code: &'static str, zh: &str, en: &str) -> StoreError {
    StoreError::invalid(field, Invalid::new(code, zh, en))
}

/// A role and scope as a manager asks for them, checked: a known role, a scope when the role
/// needs one, none when it does not, and within the manager's reach.
async fn role_and_scope(db: &Db, m: &Manager, role: &str, scope: Option<&str>) -> Result<(Role, Option<String>)> {
    let role = Role::parse(role.trim()).ok_or_else(|| refuse("role", "user.role", "角色不存在", "no such role"))?;
    let scope = scope.map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    if role.needs_scope() && scope.is_none() {
        return Err(refuse("scope", "user.scope", "该角色需要指定范围", "this role needs a scope"));
    }
    let scope = if role.needs_scope() { scope } else { None };
    if scope.as_deref().is_some_and(|s| s.chars().count() > 50) {
        return Err(refuse("scope", "user.scope", "范围过长", "the scope is too long"));
    }
    if !m.may_hold(db, role, scope.as_deref()).await? {
        return Err(refuse(
            "role",
            "user.out_of_reach",
            "县区人社局只能管理本县区的县区人社局、培训机构、用人单位、评价机构和劳动者账号",
            "a county office manages only its own office's accounts and those of the providers, employers, assessment bodies and workers of its county",
        ));
    }
    Ok((role, scope))
}

/// Ends every session and API token of a user at once, inside the transaction `$tx` (a macro:
/// the body of [`in_tx!`] is compiled once per backend).
macro_rules! revoke_all {
    ($tx:ident, $user_id:expr) => {{
        sqlx::query("DELETE FROM session WHERE user_id = $1").bind($user_id).execute(&mut *$tx).await?;
        sqlx::query("UPDATE api_token SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
            .bind(now())
            .bind($user_id)
            .execute(&mut *$tx)
            .await?;
    }};
}

/// The account `user_id` as the manager may act on it: in reach, and not the manager's own
/// (nobody suspends or demotes themselves out of the system).
async fn target(db: &Db, actor: &User, m: &Manager, user_id: i64) -> Result<Account> {
    let a = account(db, m, user_id).await?;
    if a.user_id == actor.user_id {
        return Err(refuse(
            "user_id",
            "user.self",
            "不能对自己的账号执行此操作",
            "you cannot do this to your own account",
        ));
    }
    Ok(a)
}

/// Creates an account with no password and a one-time setup code (returned once; only its
/// hash is kept). Audited.
pub async fn create_account(db: &Db, actor: &User, new: &NewAccount) -> Result<SetupCode> {
    let m = Manager::of(actor).ok_or(StoreError::NotFound)?;
    let username = new.username.trim();
    let ok_name = (3..=50).contains(&username.chars().count())
        && username.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if !ok_name {
        return Err(refuse(
            "username",
            "user.username",
            "用户名为 3–50 位字母、数字或 . _ -",
            "a username is 3–50 letters, digits, '.', '_' or '-'",
        ));
    }
    let display = new.display_name.trim();
    if display.is_empty() || display.chars().count() > 50 {
        return Err(refuse(
            "display_name",
            "user.display_name",
            "请填写姓名（最多 50 字）",
            "a display name of at most 50 characters",
        ));
    }
    let (role, scope) = role_and_scope(db, &m, &new.role, new.scope.as_deref()).await?;
    let code = in_tx!(db, |tx| {
        let t = now();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO app_user (username, display_name, password_hash, role, scope, active, created_at) \
             VALUES ($1, $2, $3, $4, $5, TRUE, $6) RETURNING user_id",
        )
        .bind(username)
        .bind(display)
        .bind(NO_PASSWORD)
        .bind(role.code())
        .bind(&scope)
        .bind(t)
        .fetch_one(&mut *tx)
        .await?;
        let (code, hash) = new_setup_code(id);
        sqlx::query("UPDATE app_user SET setup_code_hash = $1, setup_code_expires_at = $2 WHERE user_id = $3")
            .bind(&hash)
            .bind(code.expires_at)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        audit::record(
            &mut *tx,
            Some(actor.user_id),
            "create",
            "app_user",
            &id.to_string(),
            &serde_json::json!({"after": {"username": username, "display_name": display, "role": role.code(), "scope": scope, "active": true}, "setup_code": "issued"}),
        )
        .await?;
        code
    });
    Ok(code)
}

/// Resets an account's password: the old one stops working, every session and token of the
/// account ends, and a new one-time setup code is returned (once). Audited.
pub async fn reset_password(db: &Db, actor: &User, user_id: i64) -> Result<SetupCode> {
    let m = Manager::of(actor).ok_or(StoreError::NotFound)?;
    target(db, actor, &m, user_id).await?;
    let (code, hash) = new_setup_code(user_id);
    in_tx!(db, |tx| {
        sqlx::query(
            "UPDATE app_user SET password_hash = $1, password_set_at = NULL, setup_code_hash = $2, setup_code_expires_at = $3 WHERE user_id = $4",
        )
        .bind(NO_PASSWORD)
        .bind(&hash)
        .bind(code.expires_at)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        revoke_all!(tx, user_id);
        audit::record(
            &mut *tx,
            Some(actor.user_id),
            "reset_password",
            "app_user",
            &user_id.to_string(),
            &serde_json::json!({"setup_code": "issued", "sessions": "ended"}),
        )
        .await?;
    });
    Ok(code)
}

/// Suspends (`active = false`) or restores an account; suspending ends its sessions and tokens
/// at once. Audited with before and after.
pub async fn set_active(db: &Db, actor: &User, user_id: i64, active: bool) -> Result<()> {
    let m = Manager::of(actor).ok_or(StoreError::NotFound)?;
    let before = target(db, actor, &m, user_id).await?;
    in_tx!(db, |tx| {
        sqlx::query("UPDATE app_user SET active = $1 WHERE user_id = $2")
            .bind(active)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        revoke_all!(tx, user_id);
        audit::record(
            &mut *tx,
            Some(actor.user_id),
            if active { "unsuspend" } else { "suspend" },
            "app_user",
            &user_id.to_string(),
            &serde_json::json!({"before": {"active": before.active}, "after": {"active": active}}),
        )
        .await?;
    });
    Ok(())
}

/// Changes an account's role and scope (both within the manager's reach); the account's
/// sessions and tokens end at once. Audited with before and after.
pub async fn change_role(db: &Db, actor: &User, user_id: i64, role: &str, scope: Option<&str>) -> Result<()> {
    let m = Manager::of(actor).ok_or(StoreError::NotFound)?;
    let before = target(db, actor, &m, user_id).await?;
    let (role, scope) = role_and_scope(db, &m, role, scope).await?;
    in_tx!(db, |tx| {
        sqlx::query("UPDATE app_user SET role = $1, scope = $2 WHERE user_id = $3")
            .bind(role.code())
            .bind(&scope)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        revoke_all!(tx, user_id);
        audit::record(
            &mut *tx,
            Some(actor.user_id),
            "change_role",
            "app_user",
            &user_id.to_string(),
            &serde_json::json!({
            "before": {"role": before.role, "scope": before.scope}, "after": {"role": role.code(), "scope": scope}}),
        )
        .await?;
    });
    Ok(())
}

/// Redeems a one-time setup code: the account's password becomes `password` (checked against
/// the rules) and the code is gone. A wrong, used or expired code, an unknown or suspended user
/// are one refusal. Audited.
pub async fn redeem_setup_code(db: &Db, username: &str, code: &str, password: &str) -> Result<User> {
    let wrong = || {
        refuse(
            "code",
            "user.setup_code",
            "用户名或一次性代码错误，或代码已失效",
            "wrong username or one-time code, or the code expired",
        )
    };
    let row: Option<UserRow> = with_pool!(db, |p| sqlx::query_as(
        "SELECT user_id, username, display_name, password_hash, role, scope, active FROM app_user \
         WHERE username = $1 AND setup_code_hash = $2 AND setup_code_expires_at > $3 AND active"
    )
    .bind(username.trim())
    .bind(sha256(&code.trim().to_ascii_uppercase()))
    .bind(now())
    .fetch_optional(p)
    .await?);
    let row = row.ok_or_else(wrong)?;
    jineng_domain::password::check(password, &row.username).map_err(|r| StoreError::invalid("password", r))?;
    let hash = hash_password(password);
    in_tx!(db, |tx| {
        // Used once: the code's hash must still be there when it is cleared.
        let n = sqlx::query(
            "UPDATE app_user SET password_hash = $1, password_set_at = $2, setup_code_hash = NULL, setup_code_expires_at = NULL \
             WHERE user_id = $3 AND setup_code_hash = $4",
        )
        .bind(&hash)
        .bind(now())
        .bind(row.user_id)
        .bind(sha256(&code.trim().to_ascii_uppercase()))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(wrong());
        }
        audit::record(
            &mut *tx,
            Some(row.user_id),
            "set_password",
            "app_user",
            &row.user_id.to_string(),
            &serde_json::json!({"by": "setup_code"}),
        )
        .await?;
    });
    row.into_user().ok_or(StoreError::NotFound)
}

/// A user changes their own password: the current one must be right and the new one pass the
/// rules. Every other session and every API token of the user ends. Audited.
pub async fn change_password(db: &Db, user: &User, current: &str, new: &str, keep_session: Option<&str>) -> Result<()> {
    if authenticate_quietly(db, &user.username, current).await?.is_none() {
        return Err(refuse("current", "password.wrong", "当前密码错误", "the current password is wrong"));
    }
    jineng_domain::password::check(new, &user.username).map_err(|r| StoreError::invalid("password", r))?;
    let hash = hash_password(new);
    let keep = keep_session.map(sha256).unwrap_or_default();
    in_tx!(db, |tx| {
        sqlx::query("UPDATE app_user SET password_hash = $1, password_set_at = $2 WHERE user_id = $3")
            .bind(&hash)
            .bind(now())
            .bind(user.user_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM session WHERE user_id = $1 AND session_hash <> $2")
            .bind(user.user_id)
            .bind(&keep)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE api_token SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
            .bind(now())
            .bind(user.user_id)
            .execute(&mut *tx)
            .await?;
        audit::record(
            &mut *tx,
            Some(user.user_id),
            "change_password",
            "app_user",
            &user.user_id.to_string(),
            &serde_json::json!({"other_sessions": "ended"}),
        )
        .await?;
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_is_checked_in_reused_memory_and_only_the_right_one_passes() {
        let stored = hash_password("correct horse battery staple");
        let mut memory = Vec::new();
        assert!(verify_reusing("correct horse battery staple", &stored, &mut memory));
        let blocks = memory.len();
        assert!(blocks >= 19 * 1024, "argon2's memory cost, in 1 KiB blocks: {blocks}");
        let at = memory.as_ptr();
        assert!(!verify_reusing("correct horse battery stapl", &stored, &mut memory));
        assert!(!verify_reusing("", &stored, &mut memory));
        assert_eq!((memory.len(), memory.as_ptr()), (blocks, at), "the same memory, not a new allocation");
        assert!(!verify_reusing("x", "not a hash", &mut memory));
        // Hashes made by argon2's own verifier check the same way.
        let h = PasswordHash::new(&stored).unwrap();
        use argon2::password_hash::PasswordVerifier;
        assert!(Argon2::default().verify_password(b"correct horse battery staple", &h).is_ok());
    }
}

#[cfg(test)]
mod touch_tests {
    use super::{first_touch, SESSION_TOUCH};

    #[test]
    fn of_32_requests_of_one_session_at_once_one_writes_its_last_use_and_the_next_minute_one_again() {
        let t = chrono::Utc::now();
        let hash = format!("{:064x}", t.timestamp_nanos_opt().unwrap_or_default());
        let writers = std::thread::scope(|s| {
            let handles: Vec<_> = (0..32).map(|_| s.spawn(|| first_touch(&hash, t))).collect();
            handles.into_iter().map(|h| h.join().unwrap()).filter(|w| *w).count()
        });
        assert_eq!(writers, 1);
        assert!(!first_touch(&hash, t + chrono::Duration::seconds(59)));
        assert!(first_touch(&hash, t + SESSION_TOUCH + chrono::Duration::seconds(1)));
        // Another session is its own.
        assert!(first_touch(&format!("{hash}-other"), t));
    }
}
