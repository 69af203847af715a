//! Ports: what the domain needs from the outside world. Adapters (DynamoDB, EventBridge, …) live in
//! `cms-aws`; tests use the same adapters against the emulator.

use crate::access::ListScope;
use crate::case::{Case, CaseChange, CaseStatus, Marker, TimelineEntry};
use crate::catchment::{Catchment, Provider, School};
use crate::events::EventEnvelope;
use crate::ids::{CaseId, CatchmentId, EventId, ProviderId, ReferralId, SchoolId, UserId};
use crate::referral::{Referral, UserRecord};
use crate::student::{StudentIdentity, StudentKey};
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

/// The reference records one answer needs, asked for together ([`ReferenceData::lookup`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Wanted {
    pub schools: Vec<SchoolId>,
    pub providers: Vec<ProviderId>,
    pub users: Vec<UserId>,
}

/// What [`ReferenceData::lookup`] found: a record asked for and not found is simply absent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Found {
    pub schools: std::collections::HashMap<SchoolId, School>,
    pub providers: std::collections::HashMap<ProviderId, Provider>,
    pub users: std::collections::HashMap<UserId, UserRecord>,
}

#[async_trait]
pub trait ReferenceData: Send + Sync {
    /// Several records at once: the DynamoDB adapter reads what it does not already keep in one
    /// round trip (the names a case view shows, a submission's school and Primary Contact).
    async fn lookup(&self, wanted: &Wanted) -> Result<Found, StoreError> {
        let mut found = Found::default();
        for id in &wanted.schools {
            if let Some(x) = self.school(id).await? {
                found.schools.insert(id.clone(), x);
            }
        }
        for id in &wanted.providers {
            if let Some(x) = self.provider(id).await? {
                found.providers.insert(id.clone(), x);
            }
        }
        for id in &wanted.users {
            if let Some(x) = self.user(id).await? {
                found.users.insert(id.clone(), x);
            }
        }
        Ok(found)
    }
    async fn school(&self, id: &SchoolId) -> Result<Option<School>, StoreError>;
    async fn catchment(&self, id: &CatchmentId) -> Result<Option<Catchment>, StoreError>;
    async fn provider(&self, id: &ProviderId) -> Result<Option<Provider>, StoreError>;
    async fn user(&self, id: &UserId) -> Result<Option<UserRecord>, StoreError>;
    /// A suburb or town by its [`crate::catchment::locality_key`].
    async fn locality(&self, key: &str) -> Result<Option<crate::catchment::Locality>, StoreError>;
    /// The staff of a school or provider (its users), by user id.
    async fn staff(&self, org_id: &str) -> Result<Vec<UserRecord>, StoreError>;
    /// Every provider (catchment providers and In-School Provision), by id.
    async fn providers(&self) -> Result<Vec<Provider>, StoreError>;
}

#[async_trait]
pub trait ReferralStore: Send + Sync {
    /// Create a new request; fails with `Conflict` if the id exists.
    async fn create_referral(&self, r: &Referral, markers: &[crate::case::Marker]) -> Result<(), StoreError>;
    /// Replace a draft, only if it is still a draft at `expected_version`.
    async fn update_draft(&self, r: &Referral, expected_version: u64) -> Result<(), StoreError>;
    async fn referral(&self, id: &ReferralId) -> Result<Option<Referral>, StoreError>;
    /// The school's drafts, newest first.
    async fn referrals(
        &self,
        school: &SchoolId,
        status: crate::referral::ReferralStatus,
        limit: u32,
        cursor: Option<String>,
    ) -> Result<Page<Referral>, StoreError>;
    /// Delete a draft, only if it is still a draft (and at `expected_version` when given).
    async fn delete_draft(&self, id: &ReferralId, expected_version: Option<u64>) -> Result<(), StoreError>;
}

#[async_trait]
pub trait CaseStore: Send + Sync {
    async fn case(&self, id: &CaseId) -> Result<Option<Case>, StoreError>;
    /// Write a change atomically: the case (conditioned on its version, or on not existing),
    /// its timeline entries, its outgoing events (outbox) and, with a submission, the request.
    async fn commit(&self, change: &CaseChange) -> Result<(), StoreError>;
    async fn list_cases(&self, q: &CaseListQuery) -> Result<Page<Case>, StoreError>;
    async fn timeline(&self, id: &CaseId) -> Result<Vec<TimelineEntry>, StoreError>;
    /// One page of the case's timeline in time order (oldest first), after `cursor` (an opaque
    /// value from the previous page's `next`). The default reads the whole timeline; the DynamoDB
    /// adapter reads one page.
    async fn timeline_page(&self, id: &CaseId, limit: u32, cursor: Option<String>) -> Result<Page<TimelineEntry>, StoreError> {
        let all = self.timeline(id).await?;
        let start = match cursor {
            None => 0,
            Some(c) => all.iter().position(|e| e.id.as_str() == c).map(|i| i + 1).ok_or(StoreError::InvalidCursor)?,
        };
        let items: Vec<TimelineEntry> = all.iter().skip(start).take(limit as usize).cloned().collect();
        let next = (start + items.len() < all.len()).then(|| items.last().map(|e| e.id.to_string())).flatten();
        Ok(Page { items, next })
    }
    /// Events committed for this case but not yet confirmed published.
    async fn pending_events(&self, id: &CaseId) -> Result<Vec<EventEnvelope>, StoreError>;
    async fn mark_published(&self, id: &CaseId, events: &[EventId]) -> Result<(), StoreError>;
    /// A once-only marker written by an earlier change, if any: (fingerprint, answer).
    async fn marker(&self, key: &str) -> Result<Option<(String, Option<String>)>, StoreError>;
    /// Write a marker on its own; `Ok(false)` when it already existed (nothing written).
    async fn claim_marker(&self, marker: &Marker) -> Result<bool, StoreError>;
    /// Remove a marker claimed with [`CaseStore::claim_marker`] whose work then failed, so a retry
    /// can claim it again.
    async fn release_marker(&self, key: &str) -> Result<(), StoreError> {
        let _ = key;
        Err(StoreError::Unavailable("this store cannot release markers".into()))
    }
    /// Every case that may be this student's (by NSN and by name + date of birth), oldest first;
    /// callers confirm with [`crate::student::StudentIdentity::matches`].
    async fn cases_for_student(&self, who: &StudentIdentity) -> Result<Vec<Case>, StoreError>;
    /// The case holding the student's one-active-case item (`student_key`: the keyed NSN digest),
    /// read consistently. Every commit of a case that is not closed claims the item (and fails with
    /// `Conflict` when another case holds it); closing releases it.
    async fn active_case(&self, student_key: &StudentKey) -> Result<Option<Case>, StoreError>;
    /// The school ENROL last reported the student enrolled at.
    async fn enrolment(&self, student_key: &StudentKey) -> Result<Option<SchoolId>, StoreError>;
    /// Remember ENROL's enrolment report (the latest `enrolled_on` wins).
    async fn record_enrolment(&self, student_key: &StudentKey, school: &SchoolId, enrolled_on: NaiveDate) -> Result<(), StoreError>;
}

/// What the nightly job reads: the sparse due index and the outbox index (never a Scan).
#[async_trait]
pub trait DueStore: Send + Sync {
    /// One page of the cases in due-index shard `shard` (0..[`crate::schedule::SHARDS`]) whose next
    /// due date is on or before `today`, earliest first. Index reads are eventually consistent:
    /// re-read a case before relying on it (a commit conditioned on its version does that).
    async fn due_cases(&self, shard: u32, today: NaiveDate, limit: u32, cursor: Option<String>) -> Result<Page<Case>, StoreError>;
    /// One page of drafts whose expiry reminder is due on or before `today`, earliest first.
    async fn drafts_to_remind(&self, today: NaiveDate, limit: u32, cursor: Option<String>) -> Result<Page<Referral>, StoreError>;
    /// One page of events still in an outbox (not confirmed published) that were written before
    /// `before`, oldest first, with their case.
    async fn stale_outbox(
        &self,
        before: DateTime<Utc>,
        limit: u32,
        cursor: Option<String>,
    ) -> Result<Page<(CaseId, EventEnvelope)>, StoreError>;
}

/// Safety notes and health information, apart from the case (see [`crate::sensitive`]); a new note
/// is written with its case change ([`crate::case::Attached::Note`]).
#[async_trait]
pub trait SensitiveStore: Send + Sync {
    /// The case's notes of one kind, oldest first.
    async fn sensitive_notes(
        &self,
        case_id: &CaseId,
        kind: crate::sensitive::SensitiveKind,
    ) -> Result<Vec<crate::sensitive::SensitiveNote>, StoreError>;
}

/// The Unmet Basic Needs Fund's counters (see [`crate::fund`]); a change moves one with
/// [`CaseChange::fund`], conditionally, in its transaction.
#[async_trait]
pub trait FundStore: Send + Sync {
    /// What the provider has spent in the contract year (net of refunds), read consistently;
    /// 0 before its first spend.
    async fn fund_spent(&self, provider: &ProviderId, contract_year: i32) -> Result<u64, StoreError>;
}

/// Provider initiatives ([`crate::initiatives`]): a provider's own records, not a case's.
#[async_trait]
pub trait InitiativeStore: Send + Sync {
    /// Store a new initiative (its id must be free).
    async fn create_initiative(&self, i: &crate::initiatives::Initiative) -> Result<(), StoreError>;
    /// Replace an initiative, only if it is still at `expected_version` (else `Conflict`).
    async fn update_initiative(&self, i: &crate::initiatives::Initiative, expected_version: u64) -> Result<(), StoreError>;
    async fn initiative(
        &self,
        provider: &ProviderId,
        id: &crate::ids::EntryId,
    ) -> Result<Option<crate::initiatives::Initiative>, StoreError>;
    /// The provider's initiatives, oldest first.
    async fn initiatives(&self, provider: &ProviderId) -> Result<Vec<crate::initiatives::Initiative>, StoreError>;
}

/// Email preferences and the entries waiting for a daily summary ([`crate::digest`]).
#[async_trait]
pub trait DigestStore: Send + Sync {
    /// A user's record and email preference, in one read (`EachUpdate` unless they chose).
    async fn recipient(&self, id: &UserId) -> Result<Option<(UserRecord, crate::digest::EmailPreference)>, StoreError>;
    /// Record the user's choice (the caller checks that their user record exists).
    async fn set_email_preference(
        &self,
        id: &UserId,
        preference: crate::digest::EmailPreference,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Add an entry and its once-only marker together: `Ok(false)` when the marker was already
    /// taken (a redelivered event), and nothing is written.
    async fn add_to_digest(&self, entry: &crate::digest::DigestEntry, marker: &crate::case::Marker) -> Result<bool, StoreError>;
    /// A page of the waiting entries, by user, oldest first within each user.
    async fn digest_entries(&self, limit: u32, cursor: Option<String>) -> Result<Page<crate::digest::DigestEntry>, StoreError>;
    /// Remove entries that were sent.
    async fn clear_digest(&self, entries: &[crate::digest::DigestEntry]) -> Result<(), StoreError>;
}

/// The dashboards' counters and the facts they were counted from ([`crate::dashboard`]).
#[async_trait]
pub trait DashboardStore: Send + Sync {
    /// The facts a case was last counted with (`None`: never counted).
    async fn counted_facts(&self, case: &CaseId) -> Result<Option<crate::dashboard::CaseFacts>, StoreError>;
    /// Store `facts` as the case's counted facts — only if the stored ones are still at
    /// `expected_version` (`None`: none stored) — and move every counter by `deltas`, all in one
    /// transaction (`Conflict` when someone counted the case first; nothing is written).
    async fn count(
        &self,
        facts: &crate::dashboard::CaseFacts,
        expected_version: Option<u64>,
        deltas: &std::collections::BTreeMap<crate::dashboard::Scope, std::collections::BTreeMap<String, i64>>,
    ) -> Result<(), StoreError>;
    /// One scope's counters (empty when nothing was counted yet): one read.
    async fn counters(&self, scope: &crate::dashboard::Scope) -> Result<std::collections::BTreeMap<String, i64>, StoreError>;
    /// A page of the counted facts of one shard ([`crate::schedule::shard`]), by case id.
    async fn facts_page(&self, shard: u32, limit: u32, cursor: Option<String>) -> Result<Page<crate::dashboard::CaseFacts>, StoreError>;
}

/// Where the export of de-identified case facts is written (S3).
#[async_trait]
pub trait ExportSink: Send + Sync {
    /// Write `body` at `key`, replacing what is there.
    async fn put(&self, key: &str, body: Vec<u8>, content_type: &str) -> Result<(), StoreError>;
}

/// The append-only, hash-chained audit trail (see [`crate::audit`]).
#[async_trait]
pub trait AuditLog: Send + Sync {
    /// The case's whole chain, in order.
    async fn entries(&self, case_id: &CaseId) -> Result<Vec<crate::audit::AuditEntry>, StoreError>;
}

/// Where reads are recorded: one entry per request naming every case shown, appended to the
/// reader process's own chain with one write (see [`crate::audit::ReadRecord`]).
#[async_trait]
pub trait ReadLog: Send + Sync {
    /// Record a read before its data is returned.
    async fn record_read(&self, record: crate::audit::ReadRecord) -> Result<crate::audit::ReadEntry, StoreError>;
    /// The reads of this case on its own (not the lists it appeared in), oldest first.
    async fn reads_of(&self, case_id: &CaseId) -> Result<Vec<crate::audit::ReadEntry>, StoreError>;
    /// Every read chain ever started, by id.
    async fn read_chains(&self) -> Result<Vec<String>, StoreError>;
    /// One read chain, in order.
    async fn read_chain(&self, chain: &str) -> Result<Vec<crate::audit::ReadEntry>, StoreError>;
}

#[async_trait]
pub trait EventBus: Send + Sync {
    /// Publish all or report failure (a partial failure is a failure: `FailedEntryCount` > 0).
    async fn publish(&self, events: &[EventEnvelope]) -> Result<(), BusError>;
}

/// The bus of an operation whose changes emit no events (a safety note): anything it is asked to
/// publish stays in the case's outbox for the nightly sweep, which has a real bus.
pub struct NoEvents;

#[async_trait]
impl EventBus for NoEvents {
    async fn publish(&self, events: &[EventEnvelope]) -> Result<(), BusError> {
        Err(BusError(format!("{} event(s) from an operation without a bus", events.len())))
    }
}

/// File records (`CASE#<id> / FILE#<fileId>`): pending until the object-created event confirms them.
#[async_trait]
pub trait FileRecords: Send + Sync {
    async fn file(&self, case: &CaseId, file_id: &crate::files::FileId) -> Result<Option<crate::files::FileRecord>, StoreError>;
}

/// The object store holding case files (S3).
#[async_trait]
pub trait FileStore: Send + Sync {
    /// A browser form (presigned POST) that can upload exactly this key, of this content type and
    /// at most `max_bytes`, until `now + expires_in`.
    async fn upload_form(
        &self,
        key: &str,
        content_type: &str,
        max_bytes: u64,
        now: DateTime<Utc>,
        expires_in: std::time::Duration,
    ) -> Result<crate::files::UploadForm, StoreError>;
    /// A short-lived link to download the object.
    async fn download_url(&self, key: &str, file_name: &str, expires_in: std::time::Duration) -> Result<String, StoreError>;
    /// The stored object's size and content type, or `None` when there is no such object.
    async fn head(&self, key: &str) -> Result<Option<crate::files::ObjectInfo>, StoreError>;
    /// Remove the object (every version).
    async fn delete(&self, key: &str) -> Result<(), StoreError>;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("sending the email failed: {0}")]
pub struct MailError(pub String);

/// Sends email (SES).
#[async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, email: &crate::notification::Email) -> Result<(), MailError>;
}

/// Where the secret of the student keys comes from (Secrets Manager in AWS; a local secret locally).
#[async_trait]
pub trait StudentKeySource: Send + Sync {
    async fn keys(&self) -> Result<crate::student::StudentKeys, StoreError>;
}

/// Keys from a secret already in hand (tests, local tools).
#[derive(Debug, Clone)]
pub struct StaticStudentKeys(pub crate::student::StudentKeys);

#[async_trait]
impl StudentKeySource for StaticStudentKeys {
    async fn keys(&self) -> Result<crate::student::StudentKeys, StoreError> {
        Ok(self.0.clone())
    }
}

/// What most handlers need: the store, the event bus and the clock (each function's `Deps`).
pub struct CaseServices<S, B, C> {
    pub store: S,
    pub bus: B,
    pub clock: C,
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
