//! Ports: what the domain needs from the outside world. Adapters (DynamoDB, EventBridge, …) live in
//! `cms-aws`; tests use the same adapters against the emulator.

use crate::access::ListScope;
use crate::case::{Case, CaseChange, CaseStatus, Marker, TimelineEntry};
use crate::student::StudentIdentity;
use crate::catchment::{Catchment, Provider, School};
use crate::events::EventEnvelope;
use crate::ids::{CaseId, CatchmentId, EventId, ProviderId, ReferralId, SchoolId, UserId};
use crate::referral::{Referral, UserRecord};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// A conditional write failed: someone else changed the item first, or it already exists.
    #[error("the record was changed by someone else")]
    Conflict,
    /// The store could not be reached or throttled us; safe to retry.
    #[error("the store is unavailable: {0}")]
    Unavailable(String),
    /// A page cursor that this service did not issue.
    #[error("the page cursor is not valid")]
    InvalidCursor,
    /// An item could not be read back into a domain value.
    #[error("a stored record could not be read: {0}")]
    Corrupt(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("publishing events failed: {0}")]
pub struct BusError(pub String);

/// A page of results and the opaque cursor for the next one.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseListQuery {
    pub scope: ListScope,
    pub status: Option<CaseStatus>,
    pub limit: u32,
    pub cursor: Option<String>,
}

#[async_trait]
pub trait ReferenceData: Send + Sync {
    async fn school(&self, id: &SchoolId) -> Result<Option<School>, StoreError>;
    async fn catchment(&self, id: &CatchmentId) -> Result<Option<Catchment>, StoreError>;
    async fn provider(&self, id: &ProviderId) -> Result<Option<Provider>, StoreError>;
    async fn user(&self, id: &UserId) -> Result<Option<UserRecord>, StoreError>;
}

#[async_trait]
pub trait ReferralStore: Send + Sync {
    /// Create a new request; fails with `Conflict` if the id exists.
    async fn create_referral(&self, r: &Referral) -> Result<(), StoreError>;
    /// Replace a draft, only if it is still a draft at `expected_version`.
    async fn update_draft(&self, r: &Referral, expected_version: u64) -> Result<(), StoreError>;
    async fn referral(&self, id: &ReferralId) -> Result<Option<Referral>, StoreError>;
    /// The school's drafts, newest first.
    async fn drafts(&self, school: &SchoolId, limit: u32, cursor: Option<String>) -> Result<Page<Referral>, StoreError>;
}

#[async_trait]
pub trait CaseStore: Send + Sync {
    async fn case(&self, id: &CaseId) -> Result<Option<Case>, StoreError>;
    /// Write a change atomically: the case (conditioned on its version, or on not existing),
    /// its timeline entries, its outgoing events (outbox) and, with a submission, the request.
    async fn commit(&self, change: &CaseChange) -> Result<(), StoreError>;
    async fn list_cases(&self, q: &CaseListQuery) -> Result<Page<Case>, StoreError>;
    async fn timeline(&self, id: &CaseId) -> Result<Vec<TimelineEntry>, StoreError>;
    /// Events committed for this case but not yet confirmed published.
    async fn pending_events(&self, id: &CaseId) -> Result<Vec<EventEnvelope>, StoreError>;
    async fn mark_published(&self, id: &CaseId, events: &[EventId]) -> Result<(), StoreError>;
    /// A once-only marker written by an earlier change, if any: (fingerprint, answer).
    async fn marker(&self, key: &str) -> Result<Option<(String, Option<String>)>, StoreError>;
    /// Write a marker on its own; `Ok(false)` when it already existed (nothing written).
    async fn claim_marker(&self, marker: &Marker) -> Result<bool, StoreError>;
    /// Every case that may be this student's (by NSN and by name + date of birth), oldest first;
    /// callers confirm with [`crate::student::StudentIdentity::matches`].
    async fn cases_for_student(&self, who: &StudentIdentity) -> Result<Vec<Case>, StoreError>;
}

#[async_trait]
pub trait EventBus: Send + Sync {
    /// Publish all or report failure (a partial failure is a failure: `FailedEntryCount` > 0).
    async fn publish(&self, events: &[EventEnvelope]) -> Result<(), BusError>;
}

/// The time, from outside: domain rules never read the system clock.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
    /// Today's date in New Zealand (Pacific/Auckland).
    fn today_nz(&self) -> NaiveDate {
        crate::nz_date(self.now())
    }
}

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;
impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that always says the same time (tests, replays).
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub DateTime<Utc>);
impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}
