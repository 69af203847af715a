//! The application layer's one way to change a case: load it, ask the access policy, decide
//! (pure), commit conditionally with its audit entry in the same transaction, retry under one
//! policy, publish. Handlers parse, call [`change_case`] with their decision, and respond.
//!
//! The retry policy: a conflict is re-read and decided again, at most [`ATTEMPTS`] times. A change
//! made against the version the caller saw ([`Basis::Version`]) is refused with the case as it
//! now is (409) once the version has moved on; one that only adds to the case ([`Basis::Latest`]:
//! a comment, an activity) is decided again on the new version. A conflict that left the version
//! where it was (the audit chain moved, or the same `Idempotency-Key` is being committed by a
//! concurrent request) is always retried.

use crate::idempotency::Idempotency;
use crate::{stale_for, Problem};
use cms_domain::access::{can_view_case, permits, CaseAction};
use cms_domain::actor::Actor;
use cms_domain::case::{Case, CaseChange};
use cms_domain::ids::CaseId;
use cms_domain::ports::{CaseStore, Clock, EventBus, ReadLog, StoreError};
use cms_domain::usecase::{commit_change, Failed, Publish, Ran, Step};
use lambda_http::{Body, Request, Response};

pub use cms_domain::usecase::ATTEMPTS;

/// What the change is made against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis {
    /// The version the caller was looking at (`version` or `If-Match`).
    Version(u64),
    /// Whatever the case is now: the change only adds to it.
    Latest,
}

/// What [`change_case`] did.
pub enum Outcome {
    /// Committed (and published) this change.
    Done(Box<CaseChange>),
    /// This `Idempotency-Key` already made the change: its first answer, again.
    Replayed(Response<Body>),
}

/// One change to a case, as the caller asks for it.
pub struct Change<'a> {
    pub actor: &'a Actor,
    pub case_id: &'a CaseId,
    pub basis: Basis,
    /// The audit action (`case.comment.add`, `case.status.assign`, …).
    pub action: &'a str,
    pub idempotency: Option<&'a Idempotency>,
    /// The status and body a repeat of this request gets (with an `Idempotency-Key`).
    pub answer: &'a (dyn Fn(&CaseChange) -> (u16, serde_json::Value) + Sync),
    /// The case as the handler already read it (its first attempt is decided on that).
    pub loaded: Option<Case>,
}

/// Load, authorise, decide, commit (with the audit entry and any idempotency marker), retry,
/// publish: [`cms_domain::usecase::commit_change`] for a caller. `decide` returns the change or
/// the problem to answer with; it runs again on a retry.
pub async fn change_case<S, B, C>(
    store: &S,
    bus: &B,
    clock: &C,
    req: &Request,
    change: Change<'_>,
    decide: impl Fn(&Case) -> Result<CaseChange, Problem>,
) -> Result<Outcome, Problem>
where
    S: CaseStore + ?Sized,
    B: EventBus + ?Sized,
    C: Clock + ?Sized,
{
    change_case_with(store, bus, clock, req, change, |_| async { Ok(()) }, |case, _: &()| decide(case)).await
}

/// [`change_case`] for a decision that needs more than the case: `read` fetches it (e.g. the
/// provider's fund counter) once the case is loaded, on every attempt, so a retry after a
/// concurrent change decides on fresh values of both.
pub async fn change_case_with<S, B, C, T, F>(
    store: &S,
    bus: &B,
    clock: &C,
    req: &Request,
    change: Change<'_>,
    read: impl Fn(&Case) -> F,
    decide: impl Fn(&Case, &T) -> Result<CaseChange, Problem>,
) -> Result<Outcome, Problem>
where
    S: CaseStore + ?Sized,
    B: EventBus + ?Sized,
    C: Clock + ?Sized,
    F: std::future::Future<Output = Result<T, Problem>>,
{
    let Change { actor, case_id, basis, action, idempotency, answer, mut loaded } = change;
    let (read, decide) = (&read, &decide);
    let ran = commit_change(store, bus, Publish::Committed, |n| {
        let held = if n == 0 { loaded.take() } else { None };
        async move {
            if let Some(i) = idempotency {
                if let Some(resp) = i.replay(store).await? {
                    return Ok(Step::Stop(Some(resp)));
                }
            }
            let case = visible(store, actor, case_id, held).await?;
            if let Basis::Version(v) = basis {
                if case.version != v {
                    return Err(stale_for(actor, &case).into());
                }
            }
            let more = read(&case).await?;
            let now = clock.now();
            let mut next = decide(&case, &more)?;
            if let Some(i) = idempotency {
                let (status, body) = answer(&next);
                next.markers.push(i.marker(status, &body, now));
            }
            Ok(Step::commit(next.audited(crate::audit_record(actor, case_id, action, req, now)), None))
        }
    })
    .await
    .map_err(|f| failed(f, BUSY))?;
    Ok(match ran {
        Ran::Committed { change, .. } => Outcome::Done(change),
        Ran::Stopped(resp) => Outcome::Replayed(resp.unwrap_or_else(|| Response::new(Body::Empty))),
    })
}

/// The case, if it exists and this caller may see it (`held`: as the caller already read it);
/// "not found" otherwise, the same for both.
pub async fn visible<S: CaseStore + ?Sized>(store: &S, actor: &Actor, case_id: &CaseId, held: Option<Case>) -> Result<Case, Problem> {
    let found = match held {
        Some(c) => Some(c),
        None => store.case(case_id).await.map_err(unavailable)?,
    };
    match found {
        Some(c) if can_view_case(actor, &c) => Ok(c),
        _ => Err(Problem::not_found("case")),
    }
}

/// The one way to read a case for a caller: the case if it exists and they may see it (404
/// otherwise), and, when `require` names an action, only if the access policy permits it (403 with
/// its words); the read is recorded in the audit trail before anything is returned (503 if it
/// cannot be).
pub async fn read_case<S: CaseStore + ReadLog + ?Sized>(
    store: &S,
    actor: &Actor,
    case_id: &CaseId,
    require: Option<(CaseAction, &str)>,
    action: &str,
    req: &Request,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Case, Problem> {
    let case = visible(store, actor, case_id, None).await?;
    if let Some((needed, refusal)) = require {
        if !permits(actor, &case, needed) {
            return Err(Problem::forbidden(refusal));
        }
    }
    crate::audit_read(store, actor, case_id, action, req, now).await?;
    Ok(case)
}

/// What a caller is told when every attempt met a concurrent change.
pub const BUSY: &str = "The case is being changed by someone else right now. Please try again.";

/// The problem for a use case that did not end: its own, "busy" (in `busy`'s words), or the store.
pub fn failed(f: Failed<Problem>, busy: &str) -> Problem {
    f.into_error(|| Problem::conflict(busy), unavailable)
}

impl From<Problem> for Failed<Problem> {
    fn from(p: Problem) -> Self {
        Failed::Refused(p)
    }
}

/// A store failure, logged (ids only), as the 503 the caller sees.
pub fn unavailable(e: StoreError) -> Problem {
    tracing::error!(error = %e, "store failure");
    Problem::unavailable()
}
