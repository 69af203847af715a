//! The `EventBus` port on Amazon EventBridge.

use async_trait::async_trait;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use cms_domain::events::{EventEnvelope, SOURCE};
use cms_domain::ports::{BusError, EventBus};

#[derive(Clone, Debug)]
pub struct EventBridgeBus {
    client: aws_sdk_eventbridge::Client,
    bus_name: String,
}

impl EventBridgeBus {
    pub fn new(client: aws_sdk_eventbridge::Client, bus_name: impl Into<String>) -> Self {
        EventBridgeBus { client, bus_name: bus_name.into() }
    }
}

#[async_trait]
impl EventBus for EventBridgeBus {
    async fn publish(&self, events: &[EventEnvelope]) -> Result<(), BusError> {
        // PutEvents takes at most 10 entries per call.
        for chunk in events.chunks(10) {
            let entries = chunk
                .iter()
                .map(|e| {
                    PutEventsRequestEntry::builder()
                        .source(SOURCE)
                        .detail_type(e.detail_type())
                        .detail(e.detail_json().to_string())
                        .event_bus_name(&self.bus_name)
                        .time(aws_sdk_eventbridge::primitives::DateTime::from_millis(e.occurred_at.timestamp_millis()))
                        .build()
                })
                .collect::<Vec<_>>();
            let out = self
                .client
                .put_events()
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| BusError(aws_sdk_eventbridge::error::DisplayErrorContext(e).to_string()))?;
            let failed = out.failed_entry_count();
            if failed > 0 {
                let codes: Vec<String> = out.entries().iter().filter_map(|r| r.error_code().map(str::to_string)).collect();
                return Err(BusError(format!("{failed} event(s) were not accepted: {}", codes.join(", "))));
            }
            tracing::info!(count = chunk.len(), "events published");
        }
        Ok(())
    }
}
