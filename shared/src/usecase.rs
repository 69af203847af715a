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
use crate::outbox::{publish_and_clear, publish_committed};
use crate::ports::{CaseStore, EventBus, StoreError};

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
