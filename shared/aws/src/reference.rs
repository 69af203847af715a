//! Reference data (schools, catchments, providers, users, localities) kept for a while once read:
//! it changes by an import, rarely, and every operation needs some of it, so a warm Lambda
//! instance reads each record once per [`ttl`] instead of on every request (issue 14's "fewest
//! calls"). Only records found are kept (a record added by an import is seen at once); a change to
//! a kept record is seen within the TTL. `REFERENCE_CACHE_SECS` sets it (default 300; 0 turns the
//! cache off).

use crate::dynamo::Item;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug)]
pub(crate) struct ReferenceCache {
    items: Mutex<HashMap<String, (Instant, Item)>>,
    /// [`ttl`], read once when the store is built (not on every lookup).
    ttl: Duration,
}

impl Default for ReferenceCache {
    fn default() -> Self {
        ReferenceCache { items: Mutex::default(), ttl: ttl() }
    }
}

/// How long a record read is kept.
pub fn ttl() -> Duration {
    let secs = std::env::var("REFERENCE_CACHE_SECS").ok().and_then(|v| v.parse().ok()).unwrap_or(300);
    Duration::from_secs(secs)
}

/// Records kept at most (a cold start's worth of schools and staff for one region is far less).
const CAPACITY: usize = 20_000;

impl ReferenceCache {
    pub(crate) fn get(&self, key: &str) -> Option<Item> {
        let items = self.items.lock().ok()?;
        items.get(key).filter(|(at, _)| at.elapsed() < self.ttl).map(|(_, item)| item.clone())
    }

    pub(crate) fn put(&self, key: &str, item: &Item) {
        if self.ttl.is_zero() {
            return;
        }
        if let Ok(mut items) = self.items.lock() {
            if items.len() >= CAPACITY {
                items.clear();
            }
            items.insert(key.to_string(), (Instant::now(), item.clone()));
        }
    }
}
