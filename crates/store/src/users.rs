//! Users, roles, sessions and API tokens. Passwords are hashed with argon2; session and API
//! tokens are random and only their SHA-256 is stored.

use crate::audit;
use crate::{in_tx, now, with_pool, Db, Result, StoreError};
use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use jineng_domain::Invalid;
use jineng_domain::Role;
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};

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
static HASHING: std::sync::LazyLock<tokio::sync::Semaphore> = std::sync::LazyLock::new(|| {
    tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get()))
});

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
    // Hashing is slow on purpose: it runs on the blocking threads, at most a few at once, so
    // that a flood of sign-ins cannot stall the server's other requests.
    let _permit = HASHING.acquire().await.map_err(|_| StoreError::NotFound)?;
    let password = password.to_owned();
    let ok = tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
    })
    .await
    .unwrap_or(false);
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
    if t - seen > chrono::Duration::minutes(1) {
        with_pool!(db, |p| sqlx::query("UPDATE session SET last_seen_at = $1 WHERE session_hash = $2")
            .bind(t)
            .bind(&hash)
            .execute(p)
            .await
            .map(|_| ())?);
    }
    Ok(Role::parse(&role).map(|role| (User { user_id, username, display_name, role, scope }, csrf)))
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
