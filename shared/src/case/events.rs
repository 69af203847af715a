//! Domain events (EventBridge source `attendance.cases`). Details carry ids and facts, never a
//! child's name, date of birth, address or any free text.

use crate::actor::Side;
use crate::case::{CaseStatus, CaseType};
use crate::catchment::{AllocationChoice, AllocationRoute};
use crate::ids::{CaseId, CatchmentId, EntryId, EventId, ProviderId, ReferralId, SchoolId};
use crate::sla::SlaKind;
use chrono::NaiveDate;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub const SOURCE: &str = "attendance.cases";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "detailType", content = "detail")]
pub enum DomainEvent {
    #[serde(rename_all = "camelCase")]
    ReferralSubmitted { referral_id: ReferralId, case_id: CaseId, school_id: SchoolId },
    #[serde(rename_all = "camelCase")]
    CaseCreated {
        case_id: CaseId,
        case_type: CaseType,
        school_id: SchoolId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        allocation: Option<AllocationChoice>,
    },
    #[serde(rename_all = "camelCase")]
    CaseAllocated { case_id: CaseId, case_type: CaseType, provider_id: ProviderId, catchment_id: CatchmentId, route: AllocationRoute },
    #[serde(rename_all = "camelCase")]
    CaseStatusChanged {
        case_id: CaseId,
        case_type: CaseType,
        school_id: SchoolId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        provider_id: Option<ProviderId>,
        from: CaseStatus,
        to: CaseStatus,
        /// A reason code (e.g. `attending_regularly`), never free text.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    #[serde(rename_all = "camelCase")]
    CaseReopened {
        case_id: CaseId,
        case_type: CaseType,
        school_id: SchoolId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        provider_id: Option<ProviderId>,
        from: CaseStatus,
        trigger: ReopenTrigger,
    },
    #[serde(rename_all = "camelCase")]
    CaseTransferred {
        case_id: CaseId,
        case_type: CaseType,
        school_id: SchoolId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from_provider_id: Option<ProviderId>,
        to_provider_id: ProviderId,
    },
    /// ENROL notified a non-enrolment; the NEN case waits for CIT review.
    #[serde(rename_all = "camelCase")]
    NenReceived { case_id: CaseId, school_id: SchoolId, notification_id: String },
    /// ENROL reported the student of this case enrolled at a school.
    #[serde(rename_all = "camelCase")]
    StudentEnrolled { case_id: CaseId, case_type: CaseType, school_id: SchoolId, notification_id: String },
    #[serde(rename_all = "camelCase")]
    CommentAdded {
        case_id: CaseId,
        case_type: CaseType,
        school_id: SchoolId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        provider_id: Option<ProviderId>,
        entry_id: EntryId,
        author_side: Side,
        shared: bool,
    },
    #[serde(rename_all = "camelCase")]
    FileAdded {
        case_id: CaseId,
        case_type: CaseType,
        school_id: SchoolId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        provider_id: Option<ProviderId>,
        file_id: String,
        author_side: Side,
        shared: bool,
    },
    /// The provider recorded a meeting, call or visit (the activity's type, never its notes).
    #[serde(rename_all = "camelCase")]
    ActivityRecorded {
        case_id: CaseId,
        case_type: CaseType,
        school_id: SchoolId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        provider_id: Option<ProviderId>,
        entry_id: EntryId,
        activity: String,
        author_side: Side,
        shared: bool,
    },
    /// Another School Primary Contact was named (they are told by email).
    #[serde(rename_all = "camelCase")]
    PrimaryContactChanged { case_id: CaseId, case_type: CaseType, school_id: SchoolId },
    /// A provider admin moved cases from one Case Manager to another in one request: carried by
    /// the first case the request moved, so the new Case Manager gets one summary email.
    #[serde(rename_all = "camelCase")]
    CasesReassigned { case_id: CaseId, provider_id: ProviderId, reassignment_id: EntryId, case_manager: crate::ids::UserId, cases: u32 },
    /// Something a dashboard counts changed on the case (a barrier, a meeting date, the Case
    /// Manager, …) and no other event of the change says so: ids only, so the dashboards'
    /// consumer re-reads the case ([`crate::dashboard`]). Emitted by [`crate::case::CaseChange::of`].
    #[serde(rename_all = "camelCase")]
    CaseUpdated { case_id: CaseId, case_type: CaseType, school_id: SchoolId },
    #[serde(rename_all = "camelCase")]
    SlaBreached {
        case_id: CaseId,
        case_type: CaseType,
        school_id: SchoolId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        provider_id: Option<ProviderId>,
        sla: SlaKind,
        due: NaiveDate,
    },
}

/// What reopened a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReopenTrigger {
    /// The provider reopened it by hand.
    Provider,
    /// ENROL reported the child enrolled at a school.
    Enrolled,
    /// The child turned six (nightly job).
    TurnedSix,
    /// A new CA request within 3 months of closure.
    NewRequest,
}

impl DomainEvent {
    pub fn detail_type(&self) -> &'static str {
        match self {
            DomainEvent::ReferralSubmitted { .. } => "ReferralSubmitted",
            DomainEvent::CaseCreated { .. } => "CaseCreated",
            DomainEvent::CaseAllocated { .. } => "CaseAllocated",
            DomainEvent::CaseStatusChanged { .. } => "CaseStatusChanged",
            DomainEvent::CaseReopened { .. } => "CaseReopened",
            DomainEvent::CaseTransferred { .. } => "CaseTransferred",
            DomainEvent::NenReceived { .. } => "NenReceived",
            DomainEvent::StudentEnrolled { .. } => "StudentEnrolled",
            DomainEvent::CommentAdded { .. } => "CommentAdded",
            DomainEvent::FileAdded { .. } => "FileAdded",
            DomainEvent::ActivityRecorded { .. } => "ActivityRecorded",
            DomainEvent::PrimaryContactChanged { .. } => "PrimaryContactChanged",
            DomainEvent::CasesReassigned { .. } => "CasesReassigned",
            DomainEvent::SlaBreached { .. } => "SlaBreached",
            DomainEvent::CaseUpdated { .. } => "CaseUpdated",
        }
    }
    pub fn case_id(&self) -> &CaseId {
        match self {
            DomainEvent::ReferralSubmitted { case_id, .. }
            | DomainEvent::CaseCreated { case_id, .. }
            | DomainEvent::CaseAllocated { case_id, .. }
            | DomainEvent::CaseStatusChanged { case_id, .. }
            | DomainEvent::CaseReopened { case_id, .. }
            | DomainEvent::CaseTransferred { case_id, .. }
            | DomainEvent::NenReceived { case_id, .. }
            | DomainEvent::StudentEnrolled { case_id, .. }
            | DomainEvent::CommentAdded { case_id, .. }
            | DomainEvent::FileAdded { case_id, .. }
            | DomainEvent::ActivityRecorded { case_id, .. }
            | DomainEvent::PrimaryContactChanged { case_id, .. }
            | DomainEvent::CasesReassigned { case_id, .. }
            | DomainEvent::SlaBreached { case_id, .. }
            | DomainEvent::CaseUpdated { case_id, .. } => case_id,
        }
    }
}

/// An event ready to publish: its id (consumers de-duplicate on it), when it happened, and the
/// detail JSON (the event's fields plus `eventId` and `occurredAt`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventEnvelope {
    pub event_id: EventId,
    pub occurred_at: DateTime<Utc>,
    pub event: DomainEvent,
}

impl EventEnvelope {
    pub fn new(occurred_at: DateTime<Utc>, event: DomainEvent) -> Self {
        EventEnvelope { event_id: EventId::new_ulid(), occurred_at, event }
    }
    pub fn detail_type(&self) -> &'static str {
        self.event.detail_type()
    }
    /// The EventBridge `detail` object.
    pub fn detail_json(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(&self.event).unwrap_or_default();
        let mut detail = v.get_mut("detail").map(serde_json::Value::take).unwrap_or_default();
        if let Some(obj) = detail.as_object_mut() {
            obj.insert("eventId".into(), self.event_id.as_str().into());
            obj.insert("occurredAt".into(), self.occurred_at.to_rfc3339().into());
        }
        detail
    }
    /// Parse an EventBridge `detail-type` and `detail` back into an envelope.
    pub fn from_parts(detail_type: &str, detail: &serde_json::Value) -> Result<Self, String> {
        let obj = detail.as_object().ok_or("detail is not an object")?;
        let event_id = obj
            .get("eventId")
            .and_then(|v| v.as_str())
            .ok_or("detail.eventId is missing")
            .and_then(|s| EventId::parse(s).map_err(|_| "detail.eventId is invalid"))?;
        let occurred_at = obj
            .get("occurredAt")
            .and_then(|v| v.as_str())
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .map(|d| d.with_timezone(&Utc))
            .ok_or("detail.occurredAt is missing or invalid")?;
        let mut fields = obj.clone();
        fields.remove("eventId");
        fields.remove("occurredAt");
        let event: DomainEvent = serde_json::from_value(serde_json::json!({
            "detailType": detail_type,
            "detail": fields,
        }))
        .map_err(|e| format!("detail does not match {detail_type}: {e}"))?;
        Ok(EventEnvelope { event_id, occurred_at, event })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detail_round_trips_and_carries_ids_only() {
        let env = EventEnvelope::new(
            Utc::now(),
            DomainEvent::CaseCreated {
                case_id: CaseId::parse("C1").unwrap(),
                case_type: CaseType::Ca,
                school_id: SchoolId::parse("1001").unwrap(),
                allocation: Some(AllocationChoice::Catchment),
            },
        );
        let d = env.detail_json();
        assert_eq!(d["caseId"], "C1");
        assert_eq!(d["caseType"], "CA");
        assert_eq!(d["eventId"], env.event_id.as_str());
        let back = EventEnvelope::from_parts("CaseCreated", &d).unwrap();
        assert_eq!(back.event, env.event);
        assert_eq!(back.event_id, env.event_id);
        assert!(EventEnvelope::from_parts("CaseAllocated", &d).is_err());
    }
}
