//! A short in-process cache for what the public pages show: one value, built again when it is
//! older than its time to live. Callers that find it stale at the same moment wait for one
//! build instead of each running the queries.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// One cached value with its time to live.
pub struct Ttl<T> {
    ttl: Duration,
    slot: Mutex<Option<(Instant, Arc<T>)>>,
}

impl<T> Ttl<T> {
    /// An empty cache whose value lives `ttl`.
    pub fn new(ttl: Duration) -> Self {
        Ttl { ttl, slot: Mutex::new(None) }
    }

    /// The value, built by `build` when there is none younger than the time to live (an error
    /// is returned and nothing is kept).
    pub async fn get<E, F, Fut>(&self, build: F) -> Result<Arc<T>, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let mut slot = self.slot.lock().await;
        if let Some((at, value)) = slot.as_ref() {
            if at.elapsed() < self.ttl {
                return Ok(value.clone());
            }
        }
        let value = Arc::new(build().await?);
        *slot = Some((Instant::now(), value.clone()));
        Ok(value)
    }
}

/// Values by key (a path with its query), each kept for the time to live; at most `max` keys
/// (when full, the stale ones go, and if none is stale the map is emptied).
pub struct Keyed<T> {
    ttl: Duration,
    max: usize,
    map: Mutex<HashMap<String, (Instant, Arc<T>)>>,
}

impl<T> Keyed<T> {
    /// An empty cache of at most `max` keys, each value living `ttl`.
    pub fn new(ttl: Duration, max: usize) -> Self {
        Keyed { ttl, max, map: Mutex::new(HashMap::new()) }
    }

    /// The value of `key`, built by `build` when there is none younger than the time to live
    /// (an error is returned and nothing is kept).
    pub async fn get<E, F, Fut>(&self, key: &str, build: F) -> Result<Arc<T>, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let mut map = self.map.lock().await;
        if let Some((at, value)) = map.get(key) {
            if at.elapsed() < self.ttl {
                return Ok(value.clone());
            }
        }
        let value = Arc::new(build().await?);
        if map.len() >= self.max {
            let ttl = self.ttl;
            map.retain(|_, (at, _)| at.elapsed() < ttl);
            if map.len() >= self.max {
                map.clear();
            }
        }
        map.insert(key.to_owned(), (Instant::now(), value.clone()));
        Ok(value)
    }
}

/// A file kept as it is and gzip-compressed, so that a large file is compressed once per time to
/// live rather than on every request, and shared (not copied) by every response that sends it.
pub struct Encoded {
    /// The bytes.
    pub plain: axum::body::Bytes,
    /// The same, gzip-compressed.
    pub gzip: axum::body::Bytes,
}

impl Encoded {
    /// Compresses `plain` (gzip, default level).
    pub fn new(plain: Vec<u8>) -> std::io::Result<Self> {
        use std::io::Write;
        let mut z = flate2::write::GzEncoder::new(Vec::with_capacity(plain.len() / 8), flate2::Compression::default());
        z.write_all(&plain)?;
        Ok(Encoded { gzip: z.finish()?.into(), plain: plain.into() })
    }
}
