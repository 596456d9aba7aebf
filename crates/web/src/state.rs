//! The state every handler shares: the database, the compiled templates, the sign-in throttle
//! and the clock that says what day it is (China Standard Time), which tests can set.

use crate::cache::{Encoded, Keyed, Ttl};
use crate::templates;
use crate::throttle::Throttle;
use chrono::NaiveDate;
use jineng_store::Db;
use std::sync::{Arc, Mutex};

/// Shared state of the server.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub db: Db,
    /// Compiled templates.
    pub templates: Arc<minijinja::Environment<'static>>,
    /// Whether cookies are marked `Secure` (behind HTTPS).
    pub secure_cookies: bool,
    /// Reverse proxies whose `X-Forwarded-For` is believed (none by default: any client can
    /// send the header).
    pub trusted_proxies: Arc<Vec<std::net::IpAddr>>,
    /// Wrong-password counts for sign-in throttling.
    pub throttle: Arc<Throttle>,
    /// Today's date.
    pub clock: Clock,
    /// What the public disclosure shows, kept for [`PUBLIC_TTL`].
    pub disclosure: Arc<Ttl<jineng_store::disclosure::Disclosure>>,
    /// Public pages as anonymous visitors get them, by path and query, kept for [`PUBLIC_TTL`].
    pub public_bodies: Arc<Keyed<Vec<u8>>>,
    /// What a page shows that is the same for every caller (the published catalogs), by the
    /// audit chain's head, the day, the path and query: a signed-in page renders it inside its
    /// caller's menu without reading it again.
    pub public_values: Arc<Keyed<minijinja::Value>>,
    /// The open-data files (as they are and gzip-compressed), by path and query, kept for
    /// [`PUBLIC_TTL`].
    pub open_files: Arc<Keyed<Encoded>>,
    /// The plan's progress as a role and scope see it (the overview, a program, a county), by the
    /// audit chain's head and the day: counted again after any audited change, not on every view.
    pub views: Arc<Keyed<Box<dyn std::any::Any + Send + Sync>>>,
    /// Reports as computed, by the audit chain's head, period and county: a report is computed
    /// again after any audited change (or after [`PUBLIC_TTL`]), not on every view.
    pub reports: Arc<Keyed<jineng_store::reports::Report>>,
    /// T2 and T3 (`labour::ratios`) by the audit chain's head and year, as `reports`.
    pub ratios: Arc<Keyed<jineng_store::labour::Ratios>>,
}

/// How long the public pages' figures are kept before they are counted again.
pub const PUBLIC_TTL: std::time::Duration = std::time::Duration::from_secs(60);

impl AppState {
    /// State for a database, on the system clock.
    pub fn new(db: Db) -> Self {
        Self {
            db,
            templates: Arc::new(templates::environment()),
            secure_cookies: false,
            trusted_proxies: Arc::default(),
            throttle: Arc::default(),
            clock: Clock::default(),
            disclosure: Arc::new(Ttl::new(PUBLIC_TTL)),
            public_bodies: Arc::new(Keyed::new(PUBLIC_TTL, 512)),
            public_values: Arc::new(Keyed::new(PUBLIC_TTL, 256)),
            open_files: Arc::new(Keyed::new(PUBLIC_TTL, 256)),
            views: Arc::new(Keyed::new(PUBLIC_TTL, 256)),
            reports: Arc::new(Keyed::new(PUBLIC_TTL, 256)),
            ratios: Arc::new(Keyed::new(PUBLIC_TTL, 64)),
        }
    }
}

/// What day it is: the system's date in China Standard Time, or a date that tests set and move.
#[derive(Clone, Debug, Default)]
pub struct Clock(Option<Arc<Mutex<NaiveDate>>>);

impl Clock {
    /// A clock stopped at `date` (for tests); [`Clock::set`] moves it.
    pub fn fixed(date: NaiveDate) -> Self {
        Clock(Some(Arc::new(Mutex::new(date))))
    }

    /// Today's date by this clock.
    pub fn today(&self) -> NaiveDate {
        match &self.0 {
            Some(d) => *d.lock().unwrap_or_else(|e| e.into_inner()),
            None => (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive(),
        }
    }

    /// Moves a fixed clock to `date` (a system clock cannot be moved).
    pub fn set(&self, date: NaiveDate) {
        if let Some(d) = &self.0 {
            *d.lock().unwrap_or_else(|e| e.into_inner()) = date;
        }
    }
}
