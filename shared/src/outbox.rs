//! Publishing what a change committed. Events are written to the case's outbox in the same
//! transaction as the change, then published. The operation that committed them publishes and
//! answers; the bus's delivery to `outbox-confirm` clears them from the outbox (ADR 0016). A
//! failed publish leaves them there for the next delivery of the triggering event or the sweep,
//! which publishes and clears them itself.

use crate::events::EventEnvelope;
use crate::ids::{CaseId, EventId};
use crate::ports::{CaseStore, EventBus};

/// Publish committed events (they stay in the outbox until the bus's delivery confirms them).
/// Returns whether all were published.
pub async fn publish_committed<B: EventBus + ?Sized>(bus: &B, case_id: &CaseId, events: &[EventEnvelope]) -> bool {
    if events.is_empty() {
        return true;
    }
    match bus.publish(events).await {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(case_id = %case_id, count = events.len(), error = %e, "events left in the outbox for retry");
            false
        }
    }
}

/// Publish events found still in an outbox and clear them (the sweep, a redelivered trigger):
/// once published they need no confirmation. Returns whether all were published.
pub async fn publish_and_clear<S: CaseStore + ?Sized, B: EventBus + ?Sized>(
    store: &S,
    bus: &B,
    case_id: &CaseId,
    events: &[EventEnvelope],
) -> bool {
    if !publish_committed(bus, case_id, events).await {
        return false;
    }
    let ids: Vec<EventId> = events.iter().map(|e| e.event_id.clone()).collect();
    if let Err(e) = store.mark_published(case_id, &ids).await {
        // harmless: consumers de-duplicate on eventId if these are published again
        tracing::warn!(case_id = %case_id, error = %e, "published events could not be cleared from the outbox");
    }
    true
}

/// Re-publish whatever is still pending for a case (used when a redelivered trigger finds the
/// change already made).
pub async fn flush_pending<S: CaseStore + ?Sized, B: EventBus + ?Sized>(
    store: &S,
    bus: &B,
    case_id: &CaseId,
) -> Result<bool, crate::ports::StoreError> {
    let pending = store.pending_events(case_id).await?;
    Ok(publish_and_clear(store, bus, case_id, &pending).await)
}
