//! `update-dashboards`: an EventBridge rule delivers every case event here. The case is counted
//! as it is now ([`cms_domain::usecase::recount`]): its de-identified facts replace the ones it was
//! counted with, and each dashboard's counters move by the difference, in one transaction.
//!
//! Idempotent and order-free: the facts carry the case version they were taken at, so a
//! redelivered, replayed or late event finds the case already counted and changes nothing. The
//! read of the case is on its audit record (a system read). Logs carry ids and counts only; with
//! `METRICS_NAMESPACE` set, each count's business metrics (cases created, allocated, closed, SLA
//! breaches) are one Embedded Metric Format line.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use cms_aws::DynamoStore;
use cms_domain::events::EventEnvelope;
use cms_domain::ports::{CaseStore, Clock, DashboardStore, ReadLog, StoreError, SystemClock};
use cms_domain::usecase::{record_system_read, recount, Recount};

pub struct Deps<S, C> {
    pub store: S,
    pub clock: C,
    /// Where the business metrics go (Embedded Metric Format on stdout); `None`: not written.
    pub metrics_namespace: Option<String>,
}

pub type AwsDeps = Deps<DynamoStore, SystemClock>;

pub fn aws_deps(sdk: &aws_config::SdkConfig, env: &cms_aws::Env) -> AwsDeps {
    Deps {
        store: DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), &env.table_name),
        clock: SystemClock,
        metrics_namespace: env.metrics_namespace.clone(),
    }
}

/// Errors go back to Lambda, so EventBridge retries and finally dead-letters: never dropped.
#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    #[error("the event is malformed: {0}")]
    Malformed(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub async fn handle<S, C>(deps: &Deps<S, C>, event: EventBridgeEvent<serde_json::Value>) -> Result<Recount, UpdateError>
where
    S: CaseStore + DashboardStore + ReadLog,
    C: Clock,
{
    let env = EventEnvelope::from_parts(&event.detail_type, &event.detail).map_err(UpdateError::Malformed)?;
    let case_id = env.event.case_id().clone();
    let outcome = recount(&deps.store, &case_id).await?;
    if outcome != Recount::NoCase {
        let request_id = event.id.clone().unwrap_or_else(|| env.event_id.to_string());
        record_system_read(&deps.store, "update-dashboards", &case_id, "case.counted", &request_id, deps.clock.now()).await;
    }
    match &outcome {
        Recount::Counted { scopes, metrics } => {
            tracing::info!(case_id = %case_id, event_id = %env.event_id, scopes, "case counted");
            // the business metrics: CloudWatch reads them from this line of the log (no API call)
            if let Some(line) = deps
                .metrics_namespace
                .as_deref()
                .and_then(|ns| cms_domain::dashboard::emf_line(ns, metrics, deps.clock.now().timestamp_millis()))
            {
                println!("{line}");
            }
        }
        Recount::AlreadyCounted => tracing::info!(case_id = %case_id, event_id = %env.event_id, "already counted at this version"),
        Recount::NoCase => tracing::warn!(case_id = %case_id, event_id = %env.event_id, "no such case; nothing counted"),
    }
    Ok(outcome)
}
