//! The Case: one student's attendance case, its status, and the changes the domain makes to it.
//! Every change returns a [`CaseChange`] — the new state, the timeline entries and the events —
//! which the store writes in one transaction conditioned on the version it was read at.

pub mod agency;
pub mod attached;
pub mod barrier;
pub mod escalation;
pub mod events;
pub mod facts;
pub mod fund;
pub mod plan;
pub mod status;

pub use attached::{FileRecord, SensitiveNote};
pub use status::{CloseReason, Move, NotAllowed, PauseAttestation};

use crate::actor::{Actor, Role};
use crate::catchment::{AllocationChoice, AllocationRoute};
use crate::events::{DomainEvent, EventEnvelope};
use crate::ids::{CaseId, CatchmentId, EntryId, ProviderId, ReferralId, SchoolId, UserId};
use crate::referral::{Address, Referral, ValidReferral, Whanau};
use crate::student::{Nsn, PersonName, StudentKey, YearLevel};

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CaseType {
    /// Chronic Absence: requested by a school.
    #[serde(rename = "CA")]
    Ca,
    /// Non-Enrolment: notified through ENROL.
    #[serde(rename = "NEN")]
    Nen,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    /// A CA case just created, on its way to its provider (allocation is automatic).
    AwaitingAllocation,
    /// A NEN case waiting for the Central Investigations Team.
    CitReview,
    /// Allocated to a provider, waiting for a Case Manager.
    ProviderQueue,
    /// A Case Manager is working the case.
    Open,
    /// The provider is stepping back; the school leads.
    Transition,
    /// Paused: a child under six withdrawn by their whānau.
    Paused,
    Closed,
}

impl CaseStatus {
    pub const ALL: [CaseStatus; 7] = [
        CaseStatus::AwaitingAllocation,
        CaseStatus::CitReview,
        CaseStatus::ProviderQueue,
        CaseStatus::Open,
        CaseStatus::Transition,
        CaseStatus::Paused,
        CaseStatus::Closed,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            CaseStatus::AwaitingAllocation => "awaiting_allocation",
            CaseStatus::CitReview => "cit_review",
            CaseStatus::ProviderQueue => "provider_queue",
            CaseStatus::Open => "open",
            CaseStatus::Transition => "transition",
            CaseStatus::Paused => "paused",
            CaseStatus::Closed => "closed",
        }
    }
    pub fn parse(s: &str) -> Option<CaseStatus> {
        CaseStatus::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// The student as the case knows them (a NEN may not carry a year level).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaseStudent {
    pub full_name: PersonName,
    pub date_of_birth: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nsn: Option<Nsn>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year_level: Option<YearLevel>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Case {
    pub id: CaseId,
    pub case_type: CaseType,
    pub status: CaseStatus,
    /// The school the student is enrolled at (for a NEN: the last school).
    pub school_id: SchoolId,
    /// The Ministry region of that school: regional staff see their region's cases.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region_id: Option<crate::ids::RegionId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catchment_id: Option<CatchmentId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_id: Option<ProviderId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_manager: Option<UserId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_contact: Option<UserId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allocation_choice: Option<AllocationChoice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referral_id: Option<ReferralId>,
    /// NEN only: what ENROL reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nen: Option<NenDetails>,
    /// When the Case Manager met the school and the student/whānau (stop the SLA clocks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub school_met_on: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub whanau_met_on: Option<NaiveDate>,
    /// Whether safety notes exist (their text is kept apart: see [`crate::sensitive`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub has_safety_notes: bool,
    /// SLA clocks already reported as breached (so `SlaBreached` is emitted once per breach).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub breached: Vec<crate::sla::SlaKind>,
    pub student: CaseStudent,
    /// The keyed digest of the student's NSN (see [`crate::student::StudentKeys`]): the key of the
    /// student's one-active-case item and of the ByStudent index. Never serialised (so never in a
    /// response or an event); the store writes and reads it as its own attribute.
    #[serde(default, skip_serializing)]
    pub student_key: Option<StudentKey>,
    /// The keyed digest of name + date of birth: finds *candidate* duplicates only. As above.
    #[serde(default, skip_serializing)]
    pub name_key: Option<StudentKey>,
    /// Where the case's audit chain stands (see [`crate::audit::AuditHead`]). Never serialised;
    /// the store writes and reads it as its own attribute, and moves it on with each audited change.
    #[serde(default, skip_serializing, rename = "auditHead")]
    pub audit_head: Option<crate::audit::AuditHead>,
    /// A case that may be this student's too (name and date of birth agree, NSN does not): for the
    /// provider or CIT to confirm or dismiss.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub possible_duplicate_of: Option<CaseId>,
    /// When the current school took the case over from another school (a reopening from another
    /// school, or ENROL's enrolment of a NEN student): its school users see what happened since.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub school_since: Option<DateTime<Utc>>,
    /// Schools that referred this case before it moved to another school: each keeps read access
    /// to what happened up to the handover.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub former_schools: Vec<FormerSchool>,
    /// Barriers to attendance the provider identified ([`crate::barriers`]); provider and
    /// Ministry eyes only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub barriers: Vec<barrier::Barrier>,
    /// The provider's check-ins with the school before major steps ([`crate::escalations`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub consultations: Vec<escalation::Consultation>,
    /// Formal communications, prosecution, section 19 and multi-agency forum referrals.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub escalations: Vec<escalation::Escalation>,
    /// Other agencies engaged on the case ([`crate::agencies`]): provider and Ministry eyes only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub agencies: Vec<agency::AgencyInvolvement>,
    /// Information checks with other agencies: CIT's and the case's provider's eyes only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub agency_checks: Vec<agency::AgencyCheck>,
    /// Spends from the provider's Unmet Basic Needs Fund ([`crate::fund`]): provider and Ministry
    /// eyes only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fund_spends: Vec<fund::FundSpend>,
    /// The support plan: goals and the steps towards them ([`crate::plan`]); shared with the school.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub plan: Vec<plan::PlanItem>,
    /// Reviews of the support plan.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub plan_reviews: Vec<plan::PlanReview>,
    pub whanau: Vec<Whanau>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub home_address: Option<Address>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alternative_address: Option<Address>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actions_taken: Option<String>,
    /// When the school referred (CA) or ENROL notified (NEN): the SLA clocks start here.
    pub referred_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub close_reason: Option<CloseReason>,
    /// While paused: the provider's attestation of the four conditions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pause: Option<PauseAttestation>,
    /// Optimistic lock: the version this state was written at.
    pub version: u64,
}

/// A school that referred the case before it moved on, and when it handed over.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FormerSchool {
    pub school_id: SchoolId,
    pub until: DateTime<Utc>,
}

/// Who did something, as the timeline records it (ids and role, never names).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", rename_all_fields = "camelCase")]
pub enum By {
    User { user_id: UserId, role: Role },
    System { process: String },
}

impl By {
    pub fn actor(a: &Actor) -> By {
        By::User { user_id: a.user_id().clone(), role: a.role() }
    }
    pub fn system(process: &str) -> By {
        By::System { process: process.to_string() }
    }
}

/// What happened: one JSON shape per `type` (docs/openapi.yaml `TimelineEntry`), fields in
/// camelCase like the rest of the API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", rename_all_fields = "camelCase")]
pub enum TimelineKind {
    CaseCreated {
        case_type: CaseType,
        referral_id: Option<ReferralId>,
    },
    Allocated {
        provider_id: ProviderId,
        route: AllocationRoute,
    },
    StatusChanged {
        from: CaseStatus,
        to: CaseStatus,
        reason: Option<String>,
    },
    CaseManagerAssigned {
        case_manager: UserId,
        previous: Option<UserId>,
        /// Why a provider admin moved the case in a bulk reassignment ([`crate::reassign`]).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// The Central Investigations Team moved the case to another provider.
    Transferred {
        from: Option<ProviderId>,
        to: ProviderId,
        reason: String,
    },
    /// ENROL reported the student enrolled at a school.
    Enrolled {
        school_id: SchoolId,
        enrolled_on: NaiveDate,
    },
    /// A school's CA request turned this NEN case into a CA case (same case, same history).
    ConvertedToCa {
        referral_id: ReferralId,
    },
    /// A new CA request within 3 months of closure reopened this case.
    ReopenedByRequest {
        referral_id: ReferralId,
    },
    /// ENROL reported a non-enrolment for a student who already has this active case.
    NonEnrolmentNotified {
        notification_id: String,
        last_school_id: SchoolId,
        last_day_of_attendance: NaiveDate,
    },
    /// The case moved to another school (the student enrolled there).
    SchoolChanged {
        from: SchoolId,
        to: SchoolId,
    },
    /// A school that cannot see this case asked for support for the same student (same NSN):
    /// the provider or CIT links the request (the school was told only that it was received).
    LinkRequested {
        referral_id: ReferralId,
        school_id: SchoolId,
    },
    /// This case's student may be the student of another case (name and date of birth agree).
    PossibleDuplicate {
        of: CaseId,
    },
    /// A barrier identified, or moved forward (never shared with the school).
    BarrierRecorded {
        barrier_id: EntryId,
        kind: barrier::BarrierKind,
        state: barrier::BarrierState,
    },
    /// The provider checked in with the school before a step.
    Consulted {
        consultation_id: EntryId,
        about: escalation::Step,
        held_on: NaiveDate,
    },
    /// A formal communication sent, or a referral made (prosecution, section 19, forum).
    Escalated {
        escalation_id: EntryId,
        escalation: escalation::EscalationKind,
        on: NaiveDate,
    },
    /// An escalation's outcome (its words stay on the case, for the provider and the Ministry).
    EscalationOutcome {
        escalation_id: EntryId,
        escalation: escalation::EscalationKind,
        decision: Option<escalation::ProsecutionDecision>,
    },
    /// An agency engaged on the case (never shared with the school).
    AgencyEngaged {
        involvement_id: EntryId,
        agency: agency::Agency,
    },
    /// An information check with an agency asked for (CIT and the provider only).
    AgencyCheckRequested {
        check_id: EntryId,
        agency: agency::Agency,
    },
    /// CIT recorded an agency check's result (the result stays on the case).
    AgencyCheckAnswered {
        check_id: EntryId,
        agency: agency::Agency,
    },
    /// Money spent from the Unmet Basic Needs Fund (never shared with the school).
    FundSpent {
        spend_id: EntryId,
        category: fund::FundCategory,
        amount_cents: u64,
    },
    /// Money of a spend returned to the fund.
    FundRefunded {
        spend_id: EntryId,
        amount_cents: u64,
    },
    /// A goal or step added to the support plan, or its state changed (shared with the school).
    PlanItemRecorded {
        item_id: EntryId,
        kind: plan::PlanItemKind,
        state: plan::PlanItemState,
    },
    /// The support plan was reviewed.
    PlanReviewed {
        review_id: EntryId,
        held_on: NaiveDate,
    },
    /// The provider or CIT decided whether the possible duplicate is the same student.
    DuplicateResolved {
        of: CaseId,
        same_student: bool,
    },
    /// A comment (text is free text: shown only to those who may see this entry).
    Comment {
        text: String,
        author_side: crate::actor::Side,
    },
    /// A file attached to the case (confirmed uploaded).
    File {
        file_id: String,
        file_name: String,
        content_type: String,
        size: u64,
        author_side: crate::actor::Side,
    },
    /// A meeting, phone call or other activity.
    Activity {
        activity: String,
        date: NaiveDate,
        attendees: Vec<String>,
        notes: Option<String>,
    },
    /// The whānau contacts or addresses were brought up to date (which parts; the values are on the case).
    ContactsUpdated {
        fields: Vec<String>,
    },
    /// Another School Primary Contact was named for the case.
    PrimaryContactChanged {
        from: Option<UserId>,
        to: UserId,
    },
    /// An SLA clock passed its due date without the meeting.
    SlaBreached {
        sla: crate::sla::SlaKind,
        due: NaiveDate,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TimelineEntry {
    pub id: EntryId,
    pub case_id: CaseId,
    pub at: DateTime<Utc>,
    pub by: By,
    /// Whether school users may see this entry.
    pub shared_with_school: bool,
    #[serde(flatten)]
    pub kind: TimelineKind,
}

impl TimelineEntry {
    pub fn new(case_id: &CaseId, at: DateTime<Utc>, by: By, shared_with_school: bool, kind: TimelineKind) -> Self {
        TimelineEntry { id: EntryId::new_ulid(), case_id: case_id.clone(), at, by, shared_with_school, kind }
    }
}

/// A change to one case, written atomically by the store.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseChange {
    /// The new state (its `version` is the new version).
    pub case: Case,
    /// `None` when the case is being created (the write fails if it exists).
    pub expected_version: Option<u64>,
    pub timeline: Vec<TimelineEntry>,
    pub events: Vec<EventEnvelope>,
    /// The request that produced the case, moved to submitted in the same transaction.
    pub referral: Option<(Referral, u64)>,
    /// Once-only markers written in the same transaction (the write fails with a conflict if one
    /// already exists): idempotency of deliveries, "breach already reported", …
    pub markers: Vec<Marker>,
    /// Who made the change and what it was, linked into the case's audit chain (in this order)
    /// in the same transaction, after the head the case was read with (a concurrent change makes
    /// it a conflict).
    pub audit: Vec<crate::audit::AuditRecord>,
    /// Items of the case's own written in the same transaction (a safety note, a confirmed file).
    pub attached: Vec<Attached>,
    /// The provider's Unmet Basic Needs Fund counter, moved in the same transaction.
    pub fund: Option<fund::FundMove>,
}

/// An item that belongs to the case and is written with a change to it.
#[derive(Debug, Clone, PartialEq)]
pub enum Attached {
    /// A new safety note or health note (it must not exist yet).
    Note(SensitiveNote),
    /// A file record settled by this change (written only while the stored record is pending).
    File(FileRecord),
    /// A new file record, pending its upload (it must not exist yet).
    NewFile(FileRecord),
}

/// A once-only record: `key` is unique within the store (e.g. `ENROL#<notification id>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marker {
    pub key: String,
    /// What the marked thing was (e.g. a digest of a delivery's body), to tell a true repeat from a
    /// different request reusing the key.
    pub fingerprint: String,
    /// A small JSON answer to give again on a repeat.
    pub answer: Option<String>,
    /// When the store may forget it (TTL); `None` keeps it.
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaseError {
    #[error("the case is {0:?}, so it cannot be allocated by this route")]
    NotAwaitingAllocation(CaseStatus),
}

impl CaseChange {
    /// The change that takes `case` to `next` (written only if `case` is still at its version),
    /// with its timeline entries and events; no request, no markers.
    ///
    /// When what the dashboards count changes ([`crate::dashboard::CaseFacts`]) and the change
    /// carries no event, it carries a `CaseUpdated` (ids only), so the dashboards' consumer sees
    /// every change it counts, however the change came about.
    pub fn of(case: &Case, next: Case, timeline: Vec<TimelineEntry>, mut events: Vec<EventEnvelope>) -> CaseChange {
        if events.is_empty() && facts::counted_differently(case, &next) {
            let updated =
                DomainEvent::CaseUpdated { case_id: next.id.clone(), case_type: next.case_type, school_id: next.school_id.clone() };
            events.push(EventEnvelope::new(next.updated_at, updated));
        }
        CaseChange { expected_version: Some(case.version), ..CaseChange::created(next, timeline, events) }
    }

    /// The change that creates `case` (written only if it does not exist yet).
    pub fn created(case: Case, timeline: Vec<TimelineEntry>, events: Vec<EventEnvelope>) -> CaseChange {
        CaseChange {
            case,
            expected_version: None,
            timeline,
            events,
            referral: None,
            markers: Vec::new(),
            audit: Vec::new(),
            attached: Vec::new(),
            fund: None,
        }
    }

    /// This change, with `item` written in the same transaction.
    pub fn attach(mut self, item: Attached) -> CaseChange {
        self.attached.push(item);
        self
    }

    /// This change, recorded in the case's audit trail as `record`.
    pub fn audited(mut self, record: crate::audit::AuditRecord) -> CaseChange {
        self.audit.push(record);
        self
    }
}

impl Case {
    /// A case with only its identity, school and student: CA, awaiting allocation, version 1, every
    /// optional part empty. Constructors and fixtures fill in the rest with struct update syntax.
    pub fn bare(id: CaseId, school_id: SchoolId, student: CaseStudent, at: DateTime<Utc>) -> Case {
        Case {
            id,
            case_type: CaseType::Ca,
            status: CaseStatus::AwaitingAllocation,
            school_id,
            region_id: None,
            catchment_id: None,
            provider_id: None,
            case_manager: None,
            primary_contact: None,
            allocation_choice: None,
            referral_id: None,
            nen: None,
            school_met_on: None,
            whanau_met_on: None,
            breached: Vec::new(),
            has_safety_notes: false,
            student_key: None,
            name_key: None,
            audit_head: None,
            possible_duplicate_of: None,
            school_since: None,
            former_schools: Vec::new(),
            barriers: Vec::new(),
            consultations: Vec::new(),
            escalations: Vec::new(),
            agencies: Vec::new(),
            agency_checks: Vec::new(),
            fund_spends: Vec::new(),
            plan: Vec::new(),
            plan_reviews: Vec::new(),
            student,
            whanau: Vec::new(),
            home_address: None,
            alternative_address: None,
            reason: None,
            actions_taken: None,
            referred_at: at,
            created_at: at,
            updated_at: at,
            closed_at: None,
            close_reason: None,
            pause: None,
            version: 1,
        }
    }

    /// `closed` when the case is closed: "it can be read, but nothing more can be added to it"
    /// (every addition's first check after the access policy).
    pub fn still_open<E>(&self, closed: E) -> Result<(), E> {
        if self.status == CaseStatus::Closed {
            return Err(closed);
        }
        Ok(())
    }

    /// Has the case been referred to the Ministry's Prosecutions team (whatever it decided)? Only
    /// then may that team see it.
    pub fn referred_for_prosecution(&self) -> bool {
        self.escalations.iter().any(|e| e.kind == escalation::EscalationKind::ProsecutionReferral)
    }

    /// This case one version on, as changed at `now`: the start of every change the domain makes
    /// (the store writes it conditioned on `self.version`).
    pub fn bumped(&self, now: DateTime<Utc>) -> Case {
        Case { updated_at: now, version: self.version + 1, ..self.clone() }
    }

    /// A new CA case from a submitted request; allocation follows asynchronously.
    pub fn open_ca(
        id: CaseId,
        referral: &Referral,
        valid: &ValidReferral,
        who: &crate::student::StudentIdentity,
        now: DateTime<Utc>,
        by: &Actor,
    ) -> CaseChange {
        let student = CaseStudent {
            full_name: valid.student.full_name.clone(),
            date_of_birth: valid.student.date_of_birth,
            nsn: Some(valid.student.nsn.clone()),
            year_level: Some(valid.student.year_level),
        };
        let case = Case {
            region_id: valid.region_id.clone(),
            primary_contact: Some(valid.primary_contact.clone()),
            allocation_choice: Some(valid.allocation),
            referral_id: Some(referral.id.clone()),
            whanau: valid.whanau.clone(),
            home_address: Some(valid.home_address.clone()),
            alternative_address: valid.alternative_address.clone(),
            reason: Some(valid.reason.clone()),
            actions_taken: Some(valid.actions_taken.clone()),
            student_key: who.nsn_key.clone(),
            name_key: who.name_key.clone(),
            ..Case::bare(id.clone(), valid.school_id.clone(), student, now)
        };
        let submitted = referral.submitted(Some(&id), crate::referral::SubmitOutcome::Created, now);
        let timeline = vec![TimelineEntry::new(
            &id,
            now,
            By::actor(by),
            true,
            TimelineKind::CaseCreated { case_type: CaseType::Ca, referral_id: Some(referral.id.clone()) },
        )];
        let events = vec![
            EventEnvelope::new(
                now,
                DomainEvent::ReferralSubmitted {
                    referral_id: referral.id.clone(),
                    case_id: id.clone(),
                    school_id: valid.school_id.clone(),
                },
            ),
            EventEnvelope::new(
                now,
                DomainEvent::CaseCreated {
                    case_id: id.clone(),
                    case_type: CaseType::Ca,
                    school_id: valid.school_id.clone(),
                    allocation: Some(valid.allocation),
                },
            ),
        ];
        CaseChange { referral: Some((submitted, referral.version)), ..CaseChange::created(case, timeline, events) }
    }

    /// Hand the case to its provider's queue (automatic CA allocation).
    pub fn allocate(
        &self,
        provider_id: ProviderId,
        catchment_id: CatchmentId,
        route: AllocationRoute,
        now: DateTime<Utc>,
        by: By,
    ) -> Result<CaseChange, CaseError> {
        let mut case = self.moved(Move::Allocate, now).map_err(|e| CaseError::NotAwaitingAllocation(e.from))?;
        case.provider_id = Some(provider_id.clone());
        case.catchment_id = Some(catchment_id.clone());
        let timeline =
            vec![TimelineEntry::new(&self.id, now, by, true, TimelineKind::Allocated { provider_id: provider_id.clone(), route })];
        let events = vec![EventEnvelope::new(
            now,
            DomainEvent::CaseAllocated { case_id: self.id.clone(), case_type: self.case_type, provider_id, catchment_id, route },
        )];
        Ok(CaseChange {
            audit: Vec::new(),
            case,
            expected_version: Some(self.version),
            timeline,
            events,
            referral: None,
            markers: Vec::new(),
            attached: Vec::new(),
            fund: None,
        })
    }
}

/// What ENROL reported about a non-enrolment, kept on the NEN case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NenDetails {
    /// ENROL's notification id (idempotency key of the delivery).
    pub notification_id: String,
    /// The student's last day of attendance (not the date they were taken off the roll).
    pub last_day_of_attendance: NaiveDate,
    pub withdrawal_reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comments: Option<String>,
    /// Set when ENROL reports the student enrolled at a school: that school may then submit a
    /// CA request that converts this case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enrolled_at: Option<SchoolId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enrolled_on: Option<NaiveDate>,
}
