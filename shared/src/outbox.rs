//! Publishing what a change committed. Events are written to the case's outbox in the same
//! transaction as the change, then published; only a confirmed publish removes them. A failure
//! leaves them in the outbox for the next delivery of the triggering event (or the sweeper).

use crate::events::EventEnvelope;
use crate::ids::{CaseId, EventId};
use crate::ports::{CaseStore, EventBus};

/// Publish committed events and clear them from the outbox. Returns whether all were published.
pub async fn publish_committed<S: CaseStore + ?Sized, B: EventBus + ?Sized>(
    store: &S,
    bus: &B,
    case_id: &CaseId,
    events: &[EventEnvelope],
) -> bool {
    if events.is_empty() {
        return true;
    }
    match bus.publish(events).await {
        Ok(()) => {
            let ids: Vec<EventId> = events.iter().map(|e| e.event_id.clone()).collect();
            if let Err(e) = store.mark_published(case_id, &ids).await {
                // harmless: consumers de-duplicate on eventId if these are published again
                tracing::warn!(case_id = %case_id, error = %e, "published events could not be cleared from the outbox");
            }
            true
        }
        Err(e) => {
            tracing::warn!(case_id = %case_id, count = events.len(), error = %e, "events left in the outbox for retry");
            false
        }
    }
}

/// Re-publish whatever is still pending for a case (used when a redelivered trigger finds the
/// change already made).
pub async fn flush_pending<S: CaseStore + ?Sized, B: EventBus + ?Sized>(
    store: &S,
    bus: &B,
    case_id: &CaseId,
) -> Result<bool, crate::ports::StoreError> {
    let pending = store.pending_events(case_id).await?;
    Ok(publish_committed(store, bus, case_id, &pending).await)
}
