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
use cms_domain::access::can_view_case;
use cms_domain::actor::Actor;
use cms_domain::case::{Case, CaseChange};
use cms_domain::ids::CaseId;
use cms_domain::outbox::publish_committed;
use cms_domain::ports::{CaseStore, Clock, EventBus, StoreError};
use lambda_http::{Body, Request, Response};

/// Tries of one change before "being changed by someone else right now".
pub const ATTEMPTS: usize = 3;

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
/// publish. `decide` returns the change or the problem to answer with; it runs again on a retry.
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
    let Change { actor, case_id, basis, action, idempotency, answer, mut loaded } = change;
    for _ in 0..ATTEMPTS {
        if let Some(i) = idempotency {
            if let Some(resp) = i.replay(store).await? {
                return Ok(Outcome::Replayed(resp));
            }
        }
        let found = match loaded.take() {
            Some(c) => Some(c),
            None => store.case(case_id).await.map_err(unavailable)?,
        };
        let case = match found {
            Some(c) if can_view_case(actor, &c) => c,
            _ => return Err(Problem::not_found("case")),
        };
        if let Basis::Version(v) = basis {
            if case.version != v {
                return Err(stale_for(actor, &case));
            }
        }
        let now = clock.now();
        let mut next = decide(&case)?;
        if let Some(i) = idempotency {
            let (status, body) = answer(&next);
            next.markers.push(i.marker(status, &body, now));
        }
        let next = next.audited(crate::audit_record(actor, case_id, action, req, now));
        match store.commit(&next).await {
            Ok(()) => {
                // a failed publish leaves the events in the outbox for the sweeper; the change stands
                publish_committed(bus, case_id, &next.events).await;
                return Ok(Outcome::Done(Box::new(next)));
            }
            Err(StoreError::Conflict) => continue,
            Err(e) => return Err(unavailable(e)),
        }
    }
    Err(Problem::conflict("The case is being changed by someone else right now. Please try again."))
}

fn unavailable(e: StoreError) -> Problem {
    tracing::error!(error = %e, "store failure");
    Problem::unavailable()
}
