//! The application layer's one pipeline for changing a case: decide on the case as it is (the
//! caller's `attempt`: load, ask the access policy, decide — pure — and name the audit entry),
//! commit conditionally (the change, its audit entries, events, markers and attached items in one
//! transaction), retry under one policy, publish. Every operation that changes a case goes
//! through [`commit_change`]: the HTTP handlers (through `cms_http::usecase`, which adds the
//! caller, the version they saw and the `Idempotency-Key`), the event handlers (allocation, file
//! confirmation, ENROL) and the nightly job.
//!
//! The retry policy: a commit refused because the case (or a once-only marker) changed since it
//! was read is decided again from a fresh read, at most [`ATTEMPTS`] times in all; then the
//! operation answers [`Failed::Busy`]. Each attempt is told its number so it can read again what
//! it read before (attempt 0 may use what the caller already holds).

use crate::case::CaseChange;
use crate::ids::CaseId;
use crate::outbox::{publish_and_clear, publish_committed};
use crate::ports::{CaseStore, EventBus, ReadLog, StoreError};
use chrono::{DateTime, Utc};

/// Tries of one change before "being changed by someone else right now".
pub const ATTEMPTS: usize = 3;

/// What one attempt decided.
pub enum Step<T> {
    /// Commit this change; on success the operation answers `T`.
    Commit(Box<CaseChange>, T),
    /// Nothing to commit (already done, a repeat of an earlier request, not this operation's
    /// case): the operation answers `T` as it is.
    Stop(T),
}

impl<T> Step<T> {
    /// Commit `change`, answering `answer`.
    pub fn commit(change: CaseChange, answer: T) -> Step<T> {
        Step::Commit(Box::new(change), answer)
    }
}

/// What [`commit_change`] did.
pub enum Ran<T> {
    /// The change was committed; `published` is false when its events were left in the outbox
    /// (the sweep or the trigger's redelivery publishes them: the change stands).
    Committed { change: Box<CaseChange>, answer: T, published: bool },
    /// An attempt stopped without a change.
    Stopped(T),
}

impl<T> Ran<T> {
    /// The answer, whichever way it ended.
    pub fn answer(self) -> T {
        match self {
            Ran::Committed { answer, .. } | Ran::Stopped(answer) => answer,
        }
    }
}

/// Why [`commit_change`] did not end.
#[derive(Debug)]
pub enum Failed<E> {
    /// The attempt refused it (its own error: a rule, the access policy, a stale version).
    Refused(E),
    /// Every attempt met a concurrent change.
    Busy,
    /// The store could not be reached or answered nonsense.
    Store(StoreError),
}

impl<E> From<StoreError> for Failed<E> {
    fn from(e: StoreError) -> Self {
        Failed::Store(e)
    }
}

impl<E> Failed<E> {
    /// The operation's own error for each way of not ending.
    pub fn into_error(self, busy: impl FnOnce() -> E, store: impl FnOnce(StoreError) -> E) -> E {
        match self {
            Failed::Refused(e) => e,
            Failed::Busy => busy(),
            Failed::Store(e) => store(e),
        }
    }
}

/// The case as the caller already holds it (attempt 0), else as the store has it now.
pub async fn held_or_read<S: CaseStore + ?Sized>(
    store: &S,
    id: &crate::ids::CaseId,
    held: Option<crate::case::Case>,
) -> Result<Option<crate::case::Case>, StoreError> {
    match held {
        Some(c) => Ok(Some(c)),
        None => store.case(id).await,
    }
}

/// Who clears the published events from the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Publish {
    /// The bus's delivery to `outbox-confirm` does (ADR 0016): one call on the request's path.
    Committed,
    /// This operation does, after publishing (a batch job no one waits on).
    AndClear,
}

/// Decide, commit, retry, publish. `attempt(n)` (n = 0, 1, …) reads what it needs — again from
/// the store when n > 0 — and returns the change to commit or the answer to stop with. (A closure
/// returning a future rather than an async closure: the future must be `Send` for Lambda's
/// runtime, which today's compiler cannot yet prove of an async closure's.)
pub async fn commit_change<S, B, T, E, F, Fut>(store: &S, bus: &B, publish: Publish, mut attempt: F) -> Result<Ran<T>, Failed<E>>
where
    S: CaseStore + ?Sized,
    B: EventBus + ?Sized,
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = Result<Step<T>, Failed<E>>>,
{
    for n in 0..ATTEMPTS {
        let (change, answer) = match attempt(n).await? {
            Step::Stop(answer) => return Ok(Ran::Stopped(answer)),
            Step::Commit(change, answer) => (change, answer),
        };
        match store.commit(&change).await {
            Ok(()) => {
                let id = &change.case.id;
                let published = match publish {
                    Publish::Committed => publish_committed(bus, id, &change.events).await,
                    Publish::AndClear => publish_and_clear(store, bus, id, &change.events).await,
                };
                return Ok(Ran::Committed { change, answer, published });
            }
            Err(StoreError::Conflict) => continue,
            Err(e) => return Err(Failed::Store(e)),
        }
    }
    Err(Failed::Busy)
}

/// Record what a system process read of a case (in its process's read chain). The work is done,
/// so a failure is logged loudly (ids only) and reported as `false`, never fatal.
pub async fn record_system_read<L: ReadLog + ?Sized>(
    log: &L,
    process: &str,
    case_id: &CaseId,
    action: &str,
    request_id: &str,
    at: DateTime<Utc>,
) -> bool {
    let written = log.record_read(crate::audit::ReadRecord::system(process, vec![case_id.clone()], action, request_id, at)).await;
    written_or_gap(written.map(|_| ()), process, case_id, action)
}

/// A system entry's outcome: `true` when written; otherwise logged as an audit gap (ids only).
fn written_or_gap(written: Result<(), StoreError>, process: &str, case_id: &CaseId, action: &str) -> bool {
    match written {
        Ok(()) => true,
        Err(e) => {
            tracing::error!(case_id = %case_id, process, action, error = %e, "AUDIT GAP: audit entry not written");
            false
        }
    }
}

/// What [`recount`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recount {
    /// The case's new facts were counted, moving this many scopes' counters, and these business
    /// metrics ([`crate::dashboard::business_metrics`]).
    Counted { scopes: usize, metrics: Vec<(&'static str, i64)> },
    /// The counters already reflect this version of the case (a replayed or late event).
    AlreadyCounted,
    /// No such case.
    NoCase,
}

/// Bring the dashboards ([`crate::dashboard`]) up to date with a case as it is now: read it and the facts it was last
/// counted with; if the case is newer, count the difference (one transaction, conditional on the
/// facts read). Another consumer counting the case first is a conflict: read both again and
/// decide again, a few times.
pub async fn recount<S>(store: &S, case_id: &CaseId) -> Result<Recount, StoreError>
where
    S: CaseStore + crate::ports::DashboardStore + ?Sized,
{
    use crate::dashboard::{business_metrics, deltas, CaseFacts};
    for _ in 0..5 {
        let Some(case) = store.case(case_id).await? else { return Ok(Recount::NoCase) };
        let old = store.counted_facts(case_id).await?;
        if old.as_ref().is_some_and(|f| f.version >= case.version) {
            return Ok(Recount::AlreadyCounted);
        }
        let new = CaseFacts::of(&case);
        let d = deltas(old.as_ref(), &new);
        let metrics = business_metrics(old.as_ref(), &new);
        match store.count(&new, old.map(|f| f.version), &d).await {
            Ok(()) => return Ok(Recount::Counted { scopes: d.len(), metrics }),
            Err(StoreError::Conflict) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::Conflict)
}

#[cfg(test)]
mod tests {
    //! The pipeline on the in-memory adapters: milliseconds, no emulator.
    use super::*;
    use crate::audit::AuditRecord;
    use crate::case::{Case, CaseStatus, CaseStudent};
    use crate::events::{DomainEvent, EventEnvelope};
    use crate::ids::{CaseId, SchoolId};
    use crate::memory::{MemoryBus, MemoryStore};
    use crate::ports::{AuditLog, CaseStore};
    use crate::student::PersonName;
    use chrono::{DateTime, NaiveDate, TimeZone, Utc};
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 2, 1, 0, 0).unwrap()
    }

    fn id() -> CaseId {
        CaseId::parse("C1").unwrap()
    }

    async fn stored_case(store: &MemoryStore) -> Case {
        let student = CaseStudent {
            full_name: PersonName::parse("Test Student").unwrap(),
            date_of_birth: NaiveDate::from_ymd_opt(2015, 3, 1).unwrap(),
            nsn: None,
            year_level: None,
        };
        let case = Case::bare(id(), SchoolId::parse("1001").unwrap(), student, now());
        let created =
            CaseChange::created(case, Vec::new(), Vec::new()).audited(AuditRecord::system("test", &id(), "case.created", "r0", now()));
        store.commit(&created).await.unwrap();
        store.case(&id()).await.unwrap().unwrap()
    }

    /// The change a status update would make: the next version, an event, its audit entry.
    fn to_queue(case: &Case, who: &str) -> CaseChange {
        let mut next = case.bumped(now());
        next.status = CaseStatus::ProviderQueue;
        let event = EventEnvelope::new(
            now(),
            DomainEvent::CaseStatusChanged {
                case_id: case.id.clone(),
                case_type: case.case_type,
                school_id: case.school_id.clone(),
                provider_id: None,
                from: case.status,
                to: next.status,
                reason: None,
            },
        );
        CaseChange::of(case, next, Vec::new(), vec![event]).audited(AuditRecord::system(who, &case.id, "case.status", "r1", now()))
    }

    #[tokio::test]
    async fn a_change_is_committed_with_its_audit_entry_and_published() {
        let (store, bus) = (MemoryStore::new(), MemoryBus::default());
        stored_case(&store).await;
        let ran = commit_change(&store, &bus, Publish::Committed, |_| async {
            let case = store.case(&id()).await?.unwrap();
            Ok::<_, Failed<()>>(Step::commit(to_queue(&case, "us"), "done"))
        })
        .await
        .unwrap();
        let Ran::Committed { change, answer, published } = ran else { panic!("not committed") };
        assert_eq!((answer, published, change.case.version), ("done", true, 2));
        let entries = store.entries(&id()).await.unwrap();
        assert_eq!(entries.iter().map(|e| e.record.action.as_str()).collect::<Vec<_>>(), ["case.created", "case.status"]);
        assert_eq!(store.case(&id()).await.unwrap().unwrap().audit_head.map(|h| h.seq), Some(entries[1].seq));
        assert_eq!(bus.published.lock().unwrap().len(), 1);
        // the event stays in the outbox until the bus's delivery confirms it (ADR 0016)
        assert_eq!(store.pending_events(&id()).await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_concurrent_change_is_decided_again_on_the_case_as_it_now_is() {
        let (store, bus) = (MemoryStore::new(), MemoryBus::default());
        stored_case(&store).await;
        let tries = AtomicUsize::new(0);
        let ran = commit_change(&store, &bus, Publish::Committed, |n| {
            let (store, tries) = (&store, &tries);
            async move {
                tries.fetch_add(1, Ordering::Relaxed);
                let case = store.case(&id()).await?.unwrap();
                if n == 0 {
                    // someone else commits between this attempt's read and its commit
                    store.commit(&to_queue(&case, "someone-else")).await?;
                }
                Ok::<_, Failed<()>>(Step::commit(to_queue(&case, "us"), case.version))
            }
        })
        .await
        .unwrap();
        let Ran::Committed { answer: decided_on, .. } = ran else { panic!("not committed") };
        assert_eq!((tries.load(Ordering::Relaxed), decided_on), (2, 2), "decided again on version 2");
        let s = store.snapshot();
        assert_eq!((s.commits, s.conflicts), (3, 1));
        assert_eq!(s.cases[&id()].version, 3);
        let who: Vec<String> = s.audit[&id()].iter().map(|e| e.record.user_id.clone()).collect();
        assert_eq!(who, ["system:test", "system:someone-else", "system:us"]);
    }

    #[tokio::test]
    async fn after_three_conflicts_it_is_busy_and_nothing_of_it_is_written() {
        let (store, bus) = (MemoryStore::new(), MemoryBus::default());
        stored_case(&store).await;
        let tries = AtomicUsize::new(0);
        let ran = commit_change(&store, &bus, Publish::Committed, |_| {
            let (store, tries) = (&store, &tries);
            async move {
                tries.fetch_add(1, Ordering::Relaxed);
                let case = store.case(&id()).await?.unwrap();
                store.commit(&to_queue(&case, "someone-else")).await?;
                Ok::<_, Failed<()>>(Step::commit(to_queue(&case, "us"), ()))
            }
        })
        .await;
        assert!(matches!(ran, Err(Failed::Busy)));
        assert_eq!(tries.load(Ordering::Relaxed), ATTEMPTS);
        let s = store.snapshot();
        assert!(s.audit[&id()].iter().all(|e| e.record.user_id != "system:us"), "an entry of the refused change was written");
        assert_eq!(bus.published.lock().unwrap().len(), 0, "the refused change published");
    }

    #[tokio::test]
    async fn a_stop_or_a_refusal_writes_and_publishes_nothing() {
        let (store, bus) = (MemoryStore::new(), MemoryBus::default());
        stored_case(&store).await;
        let before = store.snapshot();
        let stopped = commit_change(&store, &bus, Publish::Committed, |_| async { Ok::<_, Failed<()>>(Step::Stop("already done")) }).await;
        assert!(matches!(stopped, Ok(Ran::Stopped("already done"))));
        let refused =
            commit_change(&store, &bus, Publish::Committed, |_| async { Err::<Step<()>, _>(Failed::Refused("not allowed")) }).await;
        assert!(matches!(refused, Err(Failed::Refused("not allowed"))));
        let after = store.snapshot();
        assert_eq!((after.commits, after.cases[&id()].version), (before.commits, before.cases[&id()].version));
        assert!(bus.published.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_failed_publish_leaves_the_events_in_the_outbox_and_the_change_stands() {
        let (store, bus) = (MemoryStore::new(), MemoryBus::default());
        stored_case(&store).await;
        bus.failing.store(true, Ordering::Relaxed);
        let ran = commit_change(&store, &bus, Publish::AndClear, |_| async {
            let case = store.case(&id()).await?.unwrap();
            Ok::<_, Failed<()>>(Step::commit(to_queue(&case, "us"), ()))
        })
        .await
        .unwrap();
        assert!(matches!(ran, Ran::Committed { published: false, .. }));
        assert_eq!(store.case(&id()).await.unwrap().unwrap().version, 2);
        assert_eq!(store.pending_events(&id()).await.unwrap().len(), 1, "the event was lost");
        // once the bus works, a batch job's publish clears what it published
        bus.failing.store(false, Ordering::Relaxed);
        let ran = commit_change(&store, &bus, Publish::AndClear, |_| async {
            let case = store.case(&id()).await?.unwrap();
            Ok::<_, Failed<()>>(Step::commit(to_queue(&case, "us"), ()))
        })
        .await
        .unwrap();
        assert!(matches!(ran, Ran::Committed { published: true, .. }));
        assert_eq!(store.pending_events(&id()).await.unwrap().len(), 1, "only the earlier, unpublished event is left");
    }

    #[tokio::test]
    async fn recounting_counts_a_case_once_per_version_whatever_is_replayed() {
        use crate::fixtures::case;
        use crate::memory::MemoryStore;
        use crate::ports::{CaseStore, DashboardStore};
        let store = MemoryStore::new();
        let mut c = case();
        c.status = CaseStatus::ProviderQueue;
        c.version = 1;
        store.commit(&crate::case::CaseChange::created(c.clone(), vec![], vec![])).await.unwrap();
        assert_eq!(
            super::recount(&store, &c.id).await.unwrap(),
            super::Recount::Counted { scopes: 4, metrics: vec![("CasesCreated", 1), ("CasesAllocated", 1)] },
            "school, contact, provider, nation; a new case, already with its provider"
        );
        assert_eq!(super::recount(&store, &c.id).await.unwrap(), super::Recount::AlreadyCounted);
        let mut next = c.clone();
        next.status = CaseStatus::Open;
        next.version = 2;
        store.commit(&crate::case::CaseChange::of(&c, next, vec![], vec![])).await.unwrap();
        assert_eq!(super::recount(&store, &c.id).await.unwrap(), super::Recount::Counted { scopes: 4, metrics: vec![] });
        assert_eq!(super::recount(&store, &c.id).await.unwrap(), super::Recount::AlreadyCounted);
        let school = store.counters(&crate::dashboard::Scope::School(c.school_id.clone())).await.unwrap();
        assert_eq!(school.get("st.open.CA"), Some(&1));
        assert_eq!(school.get("st.provider_queue.CA"), None, "moved, not added");
        assert_eq!(school.get("cases"), Some(&1));
        assert_eq!(super::recount(&store, &crate::ids::CaseId::parse("nope").unwrap()).await.unwrap(), super::Recount::NoCase);
    }
}
