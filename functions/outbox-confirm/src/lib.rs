//! `outbox-confirm`: an EventBridge rule delivers every case event here once the bus has it, and
//! the event is cleared from its case's outbox (docs/adr/0002-outbox-for-events.md, ADR 0016).
//!
//! The operation that committed the event publishes it and answers at once, without waiting to
//! clear it (one AWS call fewer on every change: issue 14). The bus delivering the event is the
//! proof it was published; until this runs, the nightly sweep would publish it again, which every
//! consumer tolerates (they de-duplicate on `eventId`). Idempotent: clearing twice is clearing once.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use cms_aws::DynamoStore;
use cms_domain::events::EventEnvelope;
use cms_domain::ports::{CaseStore, StoreError};

pub fn aws_store(sdk: &aws_config::SdkConfig, env: &cms_aws::Env) -> DynamoStore {
    DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), &env.table_name)
}

/// What happened to one delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Cleared from the case's outbox (or already gone).
    Cleared,
    /// Not a case event (nothing to clear).
    Ignored,
}

/// A store failure is returned so EventBridge retries (and then keeps it in the rule's
/// dead-letter queue): the sweep would otherwise publish the event again.
#[derive(Debug, thiserror::Error)]
pub enum ConfirmError {
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub async fn handle<S: CaseStore + ?Sized>(store: &S, event: EventBridgeEvent<serde_json::Value>) -> Result<Outcome, ConfirmError> {
    let detail_type = event.detail_type.as_str();
    let Ok(envelope) = EventEnvelope::from_parts(detail_type, &event.detail) else {
        tracing::warn!(detail_type, "not a case event; ignored");
        return Ok(Outcome::Ignored);
    };
    let case_id = envelope.event.case_id().clone();
    store.mark_published(&case_id, std::slice::from_ref(&envelope.event_id)).await?;
    tracing::info!(case_id = %case_id, event_id = %envelope.event_id, detail_type, "event confirmed published");
    Ok(Outcome::Cleared)
}
