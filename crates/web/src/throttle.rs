//! Throttling of sign-in and public submissions. An attempt is counted *before* it is checked
//! (reserved atomically under one lock), so that many attempts at once cannot all pass the
//! check; a success forgets the key's count. Sign-in is throttled per account and address
//! together (a locked account still signs in from an address that has not failed) and per
//! address across accounts.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Wrong passwords allowed per account and address per window.
pub const MAX_FAILURES: u32 = 5;
/// Sign-in attempts allowed per address (any account) per window.
pub const MAX_PER_ADDRESS: u32 = 30;
/// The window.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);

/// Attempts per key within the window.
#[derive(Default)]
pub struct Throttle {
    counts: Mutex<HashMap<String, (u32, Instant)>>,
}

impl Throttle {
    fn key(k: &str) -> String {
        k.trim().to_lowercase()
    }

    /// Reserves one attempt under every key at once: false (and nothing counted) when any key
    /// has used its limit within the window.
    pub fn attempt(&self, keys: &[(&str, u32)]) -> bool {
        let mut map = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > 100_000 {
            map.retain(|_, (_, since)| since.elapsed() < WINDOW);
        }
        let used = |map: &HashMap<String, (u32, Instant)>, k: &str| {
            map.get(&Self::key(k)).filter(|(_, since)| since.elapsed() < WINDOW).map_or(0, |(n, _)| *n)
        };
        if keys.iter().any(|(k, limit)| used(&map, k) >= *limit) {
            return false;
        }
        for (k, _) in keys {
            let e = map.entry(Self::key(k)).or_insert((0, Instant::now()));
            if e.1.elapsed() >= WINDOW {
                *e = (0, Instant::now());
            }
            e.0 += 1;
        }
        true
    }

    /// Gives back one reserved attempt under each key (the attempt was refused for another
    /// reason and does not count).
    pub fn refund(&self, keys: &[&str]) {
        let mut map = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        for k in keys {
            if let Some(e) = map.get_mut(&Self::key(k)) {
                e.0 = e.0.saturating_sub(1);
            }
        }
    }

    /// Forgets a key's attempts (after a successful sign-in).
    pub fn succeed(&self, key: &str) {
        self.counts.lock().unwrap_or_else(|e| e.into_inner()).remove(&Self::key(key));
    }

    /// Reserves a sign-in attempt for `username` from `address`: per account and address, and
    /// per address.
    pub fn sign_in(&self, username: &str, address: &str) -> bool {
        let pair = format!("sign-in:{}@{address}", username.trim());
        let from = format!("sign-in-from:{address}");
        self.attempt(&[(&pair, MAX_FAILURES), (&from, MAX_PER_ADDRESS)])
    }

    /// After a successful sign-in: the account's failures from that address are forgotten.
    pub fn signed_in(&self, username: &str, address: &str) {
        self.succeed(&format!("sign-in:{}@{address}", username.trim()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_are_counted_before_they_are_checked() {
        let t = Throttle::default();
        let allowed = (0..32).filter(|_| t.sign_in("clerk", "10.0.0.1")).count();
        assert_eq!(allowed, MAX_FAILURES as usize);
        // The same account from another address is not locked.
        assert!(t.sign_in("clerk", "10.0.0.2"));
        // One address trying many accounts is stopped too.
        let many = (0..100).filter(|i| t.sign_in(&format!("user{i}"), "10.0.0.3")).count();
        assert_eq!(many, MAX_PER_ADDRESS as usize);
    }
}
