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
use cms_domain::audit::AuditRecord;
use cms_domain::case::{Attached, CaseChange};
use cms_domain::files::{confirm, parse_object_key, FileStatus, Verdict};
use cms_domain::ids::EventId;
use cms_domain::outbox::flush_pending;
use cms_domain::ports::{AuditLog, CaseStore, Clock, EventBus, FileRecords, FileStore, StoreError, SystemClock};
use cms_domain::usecase::{commit_change, Failed, Publish, Ran, Step};

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
    let (case_id, file_id, request_id) = (&case_id, &file_id, &request_id);
    let ran = commit_change(&deps.store, &deps.bus, Publish::Committed, |_| async move {
        let (case, record) = match (deps.store.case(case_id).await?, deps.store.file(case_id, file_id).await?) {
            (Some(c), Some(r)) => (c, r),
            _ => return Ok(Step::Stop(Found::NoRecord)),
        };
        let object = deps.files.head(key).await?;
        Ok(match confirm(&case, &record, object.as_ref(), deps.clock.now()) {
            Verdict::AlreadySettled => {
                Step::Stop(Found::Settled { rejected_but_stored: record.status == FileStatus::Rejected && object.is_some() })
            }
            Verdict::Reject { record, reason } => {
                // delete first: if recording fails, the retry finds the object gone and rejects again
                deps.files.delete(key).await?;
                let change = CaseChange::of(&case, case.clone(), Vec::new(), Vec::new()).attach(Attached::File(record));
                let change = change.audited(AuditRecord::system(PROCESS, case_id, "case.file.rejected", request_id, deps.clock.now()));
                Step::commit(change, Found::Rejected { reason })
            }
            Verdict::Confirm { change, record } => {
                let at = change.case.updated_at;
                let change = change.audited(AuditRecord::system(PROCESS, case_id, "case.file.confirmed", request_id, at));
                Step::commit(change, Found::Confirmed { shared: record.shared_with_school })
            }
        })
    })
    .await
    .map_err(|f| f.into_error(|| ConfirmError::Store(StoreError::Conflict), ConfirmError::Store))?;
    let settled = match ran {
        Ran::Committed { answer: Found::Rejected { reason }, .. } => {
            tracing::warn!(case_id = %case_id, file_id = %file_id, reason, "uploaded file rejected and deleted");
            return Ok(Outcome::Rejected { reason: reason.to_string() });
        }
        Ran::Committed { answer, published, .. } => {
            let shared = matches!(answer, Found::Confirmed { shared: true });
            tracing::info!(case_id = %case_id, file_id = %file_id, shared, "uploaded file confirmed");
            if !published {
                return Err(ConfirmError::Publish);
            }
            return Ok(Outcome::Confirmed { case_id: case_id.to_string(), file_id: file_id.to_string() });
        }
        Ran::Stopped(Found::NoRecord) => {
            deps.files.delete(key).await?;
            tracing::warn!(case_id = %case_id, file_id = %file_id, "object without a pending record deleted");
            return Ok(Outcome::Rejected { reason: "no_record".into() });
        }
        Ran::Stopped(Found::Settled { rejected_but_stored }) => rejected_but_stored,
        Ran::Stopped(Found::Confirmed { .. } | Found::Rejected { .. }) => false,
    };
    if settled {
        deps.files.delete(key).await?;
    }
    if !flush_pending(&deps.store, &deps.bus, case_id).await? {
        return Err(ConfirmError::Publish);
    }
    tracing::info!(case_id = %case_id, file_id = %file_id, "already settled; redelivery ignored");
    Ok(Outcome::AlreadySettled)
}

/// What an attempt found.
enum Found {
    /// The object matched its record: confirmed (shared with the school or not).
    Confirmed { shared: bool },
    /// No case or no pending record for the key: not ours to keep.
    NoRecord,
    /// The object broke the rules: deleted, and the record rejected.
    Rejected { reason: &'static str },
    /// Already confirmed or rejected (a redelivery); a rejected object still stored is deleted again.
    Settled { rejected_but_stored: bool },
}

impl From<ConfirmError> for Failed<ConfirmError> {
    fn from(e: ConfirmError) -> Self {
        Failed::Refused(e)
    }
}
