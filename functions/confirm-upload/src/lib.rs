//! `confirm-upload`: S3 sends `Object Created` to EventBridge (default bus); the rule in
//! template.yaml delivers events for the case-files bucket here.
//!
//! The presigned POST's policy is S3's check; this is ours. The stored object is compared with its
//! pending record (size, content type): a match is confirmed in one transaction with the case
//! change (a `File` timeline entry shown per the record's shared flag, `FileAdded`); anything else
//! — a wrong type or size, a key with no pending record — is deleted and never shown.
//!
//! Idempotent: a redelivered event finds the record already settled and changes nothing (it only
//! re-publishes events still in the outbox, and deletes again what was rejected).

use aws_lambda_events::eventbridge::EventBridgeEvent;
use cms_aws::{DynamoStore, EventBridgeBus, S3FileStore};
use cms_domain::audit::append_system;
use cms_domain::files::{confirm, parse_object_key, FileStatus, Verdict};
use cms_domain::ids::EventId;
use cms_domain::outbox::{flush_pending, publish_committed};
use cms_domain::ports::{AuditLog, CaseStore, Clock, EventBus, FileRecords, FileStore, StoreError, SystemClock};

/// How this process is named in the audit trail.
const PROCESS: &str = "confirm-upload";

pub struct Deps<S, F, B, C> {
    pub store: S,
    pub files: F,
    pub bus: B,
    pub clock: C,
    /// Only this bucket's events are handled.
    pub bucket: String,
}

pub type AwsDeps = Deps<DynamoStore, S3FileStore, EventBridgeBus, SystemClock>;

pub fn aws_deps(sdk: &aws_config::SdkConfig, env: &cms_aws::Env) -> AwsDeps {
    let bucket = env.bucket_name.clone().unwrap_or_default();
    Deps {
        store: DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), &env.table_name),
        files: S3FileStore::new(sdk, bucket.clone()),
        bus: EventBridgeBus::new(aws_sdk_eventbridge::Client::new(sdk), &env.bus_name),
        clock: SystemClock,
        bucket,
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Confirmed {
        case_id: String,
        file_id: String,
    },
    Rejected {
        reason: String,
    },
    /// Already confirmed or rejected (a redelivery): nothing changed.
    AlreadySettled,
    /// Not an object-created event for this bucket.
    Ignored,
}

/// `Err` → EventBridge retries, then the rule's dead-letter queue.
#[derive(Debug, thiserror::Error)]
pub enum ConfirmError {
    #[error("the event is malformed: {0}")]
    Malformed(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("events could not be published; will retry")]
    Publish,
}

pub async fn handle<S, F, B, C>(deps: &Deps<S, F, B, C>, event: EventBridgeEvent<serde_json::Value>) -> Result<Outcome, ConfirmError>
where
    S: CaseStore + FileRecords + AuditLog,
    F: FileStore,
    B: EventBus,
    C: Clock,
{
    if event.source != "aws.s3" || event.detail_type != "Object Created" {
        return Ok(Outcome::Ignored);
    }
    let bucket = event.detail["bucket"]["name"].as_str().ok_or_else(|| ConfirmError::Malformed("detail.bucket.name".into()))?;
    if bucket != deps.bucket {
        return Ok(Outcome::Ignored);
    }
    let key = event.detail["object"]["key"].as_str().ok_or_else(|| ConfirmError::Malformed("detail.object.key".into()))?;
    let Some((case_id, file_id)) = parse_object_key(key) else {
        // nothing we issued a form for: not ours to keep
        deps.files.delete(key).await?;
        tracing::warn!("object outside the case-file key scheme deleted");
        return Ok(Outcome::Rejected { reason: "unknown_key".into() });
    };
    // the EventBridge event's id ties the audit entry to the delivery
    let request_id = event.id.clone().unwrap_or_else(|| EventId::new_ulid().to_string());
    for _attempt in 0..3 {
        let (case, record) = match (deps.store.case(&case_id).await?, deps.store.file(&case_id, &file_id).await?) {
            (Some(c), Some(r)) => (c, r),
            _ => {
                deps.files.delete(key).await?;
                tracing::warn!(case_id = %case_id, file_id = %file_id, "object without a pending record deleted");
                return Ok(Outcome::Rejected { reason: "no_record".into() });
            }
        };
        let object = deps.files.head(key).await?;
        match confirm(&case, &record, object.as_ref(), deps.clock.now()) {
            Verdict::AlreadySettled => {
                if record.status == FileStatus::Rejected && object.is_some() {
                    deps.files.delete(key).await?;
                }
                if !flush_pending(&deps.store, &deps.bus, &case_id).await? {
                    return Err(ConfirmError::Publish);
                }
                tracing::info!(case_id = %case_id, file_id = %file_id, "already settled; redelivery ignored");
                return Ok(Outcome::AlreadySettled);
            }
            Verdict::Reject { record, reason } => {
                // delete first: if marking fails, the retry finds the object gone and rejects again
                deps.files.delete(key).await?;
                match deps.store.settle_file(&record).await {
                    Ok(()) => {
                        tracing::warn!(case_id = %case_id, file_id = %file_id, reason, "uploaded file rejected and deleted");
                        append_system(&deps.store, PROCESS, &case_id, "case.file.rejected", &request_id, deps.clock.now()).await;
                        return Ok(Outcome::Rejected { reason: reason.to_string() });
                    }
                    Err(StoreError::Conflict) => continue,
                    Err(e) => return Err(e.into()),
                }
            }
            Verdict::Confirm { change, record } => {
                let at = change.case.updated_at;
                let change =
                    change.audited(cms_domain::audit::AuditRecord::system(PROCESS, &case_id, "case.file.confirmed", &request_id, at));
                match deps.store.commit_with_file(&change, &record).await {
                    Ok(()) => {
                        tracing::info!(case_id = %case_id, file_id = %file_id, shared = record.shared_with_school, "uploaded file confirmed");
                        if !publish_committed(&deps.bus, &case_id, &change.events).await {
                            return Err(ConfirmError::Publish);
                        }
                        return Ok(Outcome::Confirmed { case_id: case_id.to_string(), file_id: file_id.to_string() });
                    }
                    // the case changed meanwhile, or another delivery settled the file: read again
                    Err(StoreError::Conflict) => continue,
                    Err(e) => return Err(e.into()),
                }
            }
        }
    }
    Err(ConfirmError::Store(StoreError::Conflict))
}
