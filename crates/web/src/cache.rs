//! A short in-process cache for what the public pages show: values built again when they are
//! older than their time to live. One caller builds a value while the others wait for it (the
//! first time) or are given the stale one (after), instead of each running the queries.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// One cached value with its time to live: a [`Keyed`] of one key, so that it is built as those
/// are (one build at a time, the stale value meanwhile).
pub struct Ttl<T>(Keyed<T>);

impl<T> Ttl<T> {
    /// An empty cache whose value lives `ttl`.
    pub fn new(ttl: Duration) -> Self {
        Ttl(Keyed::new(ttl, 1))
    }

    /// The value, built by `build` when there is none younger than the time to live (an error
    /// is returned and nothing is kept).
    pub async fn get<E, F, Fut>(&self, build: F) -> Result<Arc<T>, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        self.0.get("", build).await
    }
}

/// Values by key (a path with its query), each kept for the time to live; at most `max` keys
/// (when full, the stale ones go, and if none is stale the map is emptied).
///
/// Each key builds on its own: a build holds no other key's hits, callers that find a key
/// absent wait for the one build under way, and once a value has gone stale the one caller
/// that builds it again waits while the others get the stale value meanwhile (a public page is
/// never held up by the rebuild of another, or of itself). A value that must change at once is
/// keyed by what it depends on (the audit chain's head, the day), so it is a new key, not a
/// stale one.
pub struct Keyed<T> {
    ttl: Duration,
    max: usize,
    map: std::sync::Mutex<HashMap<String, Arc<Slot<T>>>>,
}

/// One key's value and the lock its builder holds.
struct Slot<T> {
    value: std::sync::Mutex<Option<(Instant, Arc<T>)>>,
    build: Mutex<()>,
}

impl<T> Slot<T> {
    fn value(&self) -> Option<(Instant, Arc<T>)> {
        self.value.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl<T> Keyed<T> {
    /// An empty cache of at most `max` keys, each value living `ttl`.
    pub fn new(ttl: Duration, max: usize) -> Self {
        Keyed { ttl, max, map: std::sync::Mutex::new(HashMap::new()) }
    }

    fn slot(&self, key: &str) -> Arc<Slot<T>> {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(slot) = map.get(key) {
            return slot.clone();
        }
        if map.len() >= self.max {
            let ttl = self.ttl;
            map.retain(|_, slot| slot.value().is_some_and(|(at, _)| at.elapsed() < ttl));
            if map.len() >= self.max {
                map.clear();
            }
        }
        let slot = Arc::new(Slot { value: std::sync::Mutex::new(None), build: Mutex::new(()) });
        map.insert(key.to_owned(), slot.clone());
        slot
    }

    /// The value of `key`, built by `build` when there is none younger than the time to live
    /// (an error is returned and nothing is kept); while another caller builds it again, the
    /// stale value.
    pub async fn get<E, F, Fut>(&self, key: &str, build: F) -> Result<Arc<T>, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let slot = self.slot(key);
        let fresh =
            |v: &Option<(Instant, Arc<T>)>| v.as_ref().filter(|(at, _)| at.elapsed() < self.ttl).map(|v| v.1.clone());
        let now = slot.value();
        if let Some(v) = fresh(&now) {
            return Ok(v);
        }
        let _building = match (slot.build.try_lock(), now) {
            (Ok(guard), _) => guard,
            // Someone builds it again: theirs comes soon, this caller takes the stale one.
            (Err(_), Some((_, stale))) => return Ok(stale),
            // Nothing yet: wait for the build under way, then take what it made (or build, if
            // it failed).
            (Err(_), None) => slot.build.lock().await,
        };
        if let Some(v) = fresh(&slot.value()) {
            return Ok(v);
        }
        let value = Arc::new(build().await?);
        *slot.value.lock().unwrap_or_else(|e| e.into_inner()) = Some((Instant::now(), value.clone()));
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    async fn slow(n: &AtomicUsize, value: u32, ms: u64) -> Result<u32, ()> {
        n.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(ms)).await;
        Ok(value)
    }

    #[tokio::test]
    async fn callers_of_an_absent_key_wait_for_one_build() {
        let cache = Keyed::new(Duration::from_secs(60), 8);
        let builds = AtomicUsize::new(0);
        let got = futures_util::future::join_all((0..16).map(|_| cache.get("k", || slow(&builds, 7, 50)))).await;
        assert!(got.iter().all(|v| *v.as_ref().unwrap().as_ref() == 7));
        assert_eq!(builds.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_stale_value_is_served_while_one_caller_builds_it_again() {
        let cache = Keyed::new(Duration::from_millis(20), 8);
        let builds = AtomicUsize::new(0);
        cache.get("k", || slow(&builds, 1, 0)).await.unwrap();
        tokio::time::sleep(Duration::from_millis(30)).await;
        let started = Instant::now();
        let (rebuilt, others) = tokio::join!(cache.get("k", || slow(&builds, 2, 200)), async {
            tokio::time::sleep(Duration::from_millis(20)).await;
            futures_util::future::join_all((0..8).map(|_| cache.get("k", || slow(&builds, 3, 200)))).await
        });
        assert_eq!(*rebuilt.unwrap(), 2);
        // The others got the stale value at once, and built nothing.
        assert!(others.iter().all(|v| *v.as_ref().unwrap().as_ref() == 1));
        assert_eq!(builds.load(Ordering::SeqCst), 2);
        assert!(started.elapsed() < Duration::from_millis(400));
        assert_eq!(*cache.get("k", || slow(&builds, 4, 0)).await.unwrap(), 2);
    }

    #[tokio::test]
    async fn one_keys_build_does_not_hold_up_another_keys_hits() {
        let cache = Keyed::new(Duration::from_secs(60), 8);
        let builds = AtomicUsize::new(0);
        cache.get("b", || slow(&builds, 2, 0)).await.unwrap();
        let (a, b) = tokio::join!(cache.get("a", || slow(&builds, 1, 300)), async {
            tokio::time::sleep(Duration::from_millis(20)).await;
            let t = Instant::now();
            let v = cache.get("b", || slow(&builds, 9, 0)).await;
            (v, t.elapsed())
        });
        assert_eq!(*a.unwrap(), 1);
        assert_eq!(*b.0.unwrap(), 2);
        assert!(b.1 < Duration::from_millis(100), "a hit on b waited {:?} for a's build", b.1);
    }

    #[tokio::test]
    async fn a_failed_build_keeps_nothing_and_the_next_caller_builds() {
        let cache: Keyed<u32> = Keyed::new(Duration::from_secs(60), 8);
        assert!(cache.get("k", || async { Err::<u32, ()>(()) }).await.is_err());
        assert_eq!(*cache.get("k", || async { Ok::<u32, ()>(5) }).await.unwrap(), 5);
    }
}
