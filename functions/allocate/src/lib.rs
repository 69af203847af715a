//! `allocate`: the EventBridge rule on `CaseCreated` (CA) delivers here. The case goes to the
//! catchment provider of the student's enrolled school, or to the school's In-School Provision
//! when the school chose it; its status becomes Provider Queue and `CaseAllocated` is emitted.
//!
//! Idempotent: EventBridge delivers at least once. A redelivered event finds the case already
//! allocated, changes nothing and emits nothing new (it only re-sends events still in the outbox
//! from a publish that failed).

use aws_lambda_events::eventbridge::EventBridgeEvent;
use cms_aws::{DynamoStore, EventBridgeBus};
use cms_domain::audit::AuditRecord;
use cms_domain::case::{By, CaseStatus};
use cms_domain::catchment::{allocate_ca, AllocationChoice};
use cms_domain::events::{DomainEvent, EventEnvelope};
use cms_domain::outbox::flush_pending;
use cms_domain::ports::{AuditLog, CaseStore, Clock, EventBus, ReferenceData, StoreError, SystemClock};
use cms_domain::usecase::{commit_change, Failed, Publish, Ran, Step};

/// What this handler needs from outside (the store, the bus, the clock).
pub use cms_domain::ports::CaseServices as Deps;

pub type AwsDeps = Deps<DynamoStore, EventBridgeBus, SystemClock>;

pub fn aws_deps(sdk: &aws_config::SdkConfig, env: &cms_aws::Env) -> AwsDeps {
    cms_aws::case_services(sdk, env)
}

/// What happened to one delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Allocated {
        provider_id: String,
    },
    /// Already allocated (a redelivery) or not a CA case: nothing changed.
    AlreadyDone,
    /// Not an event this function handles.
    Ignored,
}

/// Errors are returned to Lambda so EventBridge retries, and after the retry policy the event
/// lands in the rule's dead-letter queue — never dropped.
#[derive(Debug, thiserror::Error)]
pub enum AllocateError {
    #[error("the event is malformed: {0}")]
    Malformed(String),
    #[error("case {0} does not exist")]
    CaseMissing(String),
    #[error("reference data is missing: {0}")]
    ReferenceMissing(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("events could not be published; will retry")]
    Publish,
}

pub async fn handle<S, B, C>(deps: &Deps<S, B, C>, event: EventBridgeEvent<serde_json::Value>) -> Result<Outcome, AllocateError>
where
    S: CaseStore + ReferenceData + AuditLog,
    B: EventBus,
    C: Clock,
{
    let env = EventEnvelope::from_parts(&event.detail_type, &event.detail).map_err(AllocateError::Malformed)?;
    let (case_id, choice) = match &env.event {
        DomainEvent::CaseCreated { case_id, allocation, .. } => (case_id.clone(), allocation.unwrap_or(AllocationChoice::Catchment)),
        _ => return Ok(Outcome::Ignored),
    };
    // the EventBridge event's id ties the audit entry to the delivery that made the change
    let request_id = event.id.clone().unwrap_or_else(|| env.event_id.to_string());
    let (case_id, request_id) = (&case_id, &request_id);
    let ran = commit_change(&deps.store, &deps.bus, Publish::Committed, |_| async move {
        let case = deps.store.case(case_id).await?.ok_or_else(|| AllocateError::CaseMissing(case_id.to_string()))?;
        if case.status != CaseStatus::AwaitingAllocation {
            return Ok(Step::Stop(None));
        }
        let school = deps.store.school(&case.school_id).await?;
        let school = school.ok_or_else(|| AllocateError::ReferenceMissing(format!("school {}", case.school_id)))?;
        let catchment = deps.store.catchment(&school.catchment_id).await?;
        let catchment = catchment.ok_or_else(|| AllocateError::ReferenceMissing(format!("catchment {}", school.catchment_id)))?;
        let choice = case.allocation_choice.unwrap_or(choice);
        let (provider_id, route) = allocate_ca(&school, &catchment, choice).map_err(|e| AllocateError::ReferenceMissing(e.to_string()))?;
        if deps.store.provider(&provider_id).await?.is_none() {
            return Err(AllocateError::ReferenceMissing(format!("provider {provider_id}")).into());
        }
        let change = case
            .allocate(provider_id.clone(), catchment.id.clone(), route, deps.clock.now(), By::system("allocate"))
            .map_err(|e| AllocateError::Malformed(e.to_string()))?;
        let at = change.case.updated_at;
        let change = change.audited(AuditRecord::system("allocate", case_id, "case.allocated", request_id, at));
        Ok(Step::commit(change, Some(provider_id)))
    })
    .await
    .map_err(|f| f.into_error(|| AllocateError::Store(StoreError::Conflict), AllocateError::Store))?;
    match ran {
        Ran::Committed { answer: Some(provider_id), published, .. } => {
            tracing::info!(case_id = %case_id, provider_id = %provider_id, "case allocated");
            if !published {
                return Err(AllocateError::Publish);
            }
            Ok(Outcome::Allocated { provider_id: provider_id.to_string() })
        }
        _ => {
            tracing::info!(case_id = %case_id, event_id = %env.event_id, "already allocated; redelivery ignored");
            if !flush_pending(&deps.store, &deps.bus, case_id).await? {
                return Err(AllocateError::Publish);
            }
            Ok(Outcome::AlreadyDone)
        }
    }
}

impl From<AllocateError> for Failed<AllocateError> {
    fn from(e: AllocateError) -> Self {
        Failed::Refused(e)
    }
}
