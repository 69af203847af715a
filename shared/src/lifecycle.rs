//! The case lifecycle as the provider works it: a person's [`Command`] decided against the case.
//! Every status change goes through the one transition table, [`crate::case::Move`] and
//! [`Case::moved`] (this module's actions are five of its moves; CIT's, intake's and the system's
//! are the others).
//!
//! ```text
//!  Provider Queue ──assign──▶ Open ──transition──▶ Transition ──close──▶ Closed
//!                              │ ▲                     │
//!                         pause│ │reopen (provider,    └──reopen──▶ Open
//!                              ▼ │ enrolment, sixth birthday)
//!                             Paused
//!  Open ──close──▶ Closed
//! ```
//! (Closed cases reopen through a new CA request within 3 months; that is the referral's rule,
//! decided in [`crate::intake`], as is the NEN → CA conversion.)

use crate::actor::{Actor, Role};
use crate::case::{By, Case, CaseChange, CaseStatus, Move, TimelineEntry, TimelineKind};
use crate::events::{DomainEvent, EventEnvelope, ReopenTrigger};
use crate::referral::UserRecord;
use crate::student::age_on;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

pub use crate::case::status::{CloseReason, PauseAttestation};

/// The reason codes of [`CloseReason`] as the API takes them.
impl CloseReason {
    /// Parse a reason code. "Turned 16" is recognised only to be refused with the seeds' words.
    pub fn parse(s: &str) -> Result<CloseReason, LifecycleError> {
        match s {
            "attending_regularly" => Ok(CloseReason::AttendingRegularly),
            "engaged_with_school_support" => Ok(CloseReason::EngagedWithSchoolSupport),
            "chose_not_to_continue" => Ok(CloseReason::ChoseNotToContinue),
            "turned_16" | "turned_sixteen" | "age_16" | "aged_out" => Err(LifecycleError::SixteenIsNotAReason),
            _ => Err(LifecycleError::UnknownCloseReason),
        }
    }
}

impl PauseAttestation {
    fn missing(&self) -> Vec<&'static str> {
        let mut m = Vec::new();
        if !self.child_located {
            m.push("childLocated");
        }
        if !self.whanau_contacted {
            m.push("whanauContacted");
        }
        if !self.safe_and_informed_choice {
            m.push("safeAndInformedChoice");
        }
        if !self.withdrawn_from_school {
            m.push("withdrawnFromSchool");
        }
        m
    }
}

/// What a person asks to do to a case.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Set or replace the Case Manager (Provider Queue → Open).
    Assign { case_manager: UserRecord },
    /// Open → Transition: the school leads, the provider steps back.
    Transition { note: Option<String> },
    /// Open or Transition → Closed.
    Close { reason: CloseReason, note: Option<String> },
    /// Open → Paused (a child under six withdrawn by their whānau).
    Pause { attestation: PauseAttestation, note: Option<String> },
    /// Paused or Transition → Open, by the provider.
    Reopen { note: Option<String> },
}

/// The action names, for the API and for the transition table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Assign,
    Transition,
    Close,
    Pause,
    Reopen,
}

impl Action {
    pub const ALL: [Action; 5] = [Action::Assign, Action::Transition, Action::Close, Action::Pause, Action::Reopen];
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Assign => "assign",
            Action::Transition => "transition",
            Action::Close => "close",
            Action::Pause => "pause",
            Action::Reopen => "reopen",
        }
    }
    pub fn parse(s: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

impl Command {
    pub fn action(&self) -> Action {
        match self {
            Command::Assign { .. } => Action::Assign,
            Command::Transition { .. } => Action::Transition,
            Command::Close { .. } => Action::Close,
            Command::Pause { .. } => Action::Pause,
            Command::Reopen { .. } => Action::Reopen,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LifecycleError {
    #[error("Only the provider's Case Managers and provider administrators can change this case's status.")]
    NotPermitted,
    #[error("A Case Manager can only assign a case to themselves; ask a provider administrator to assign it to someone else.")]
    AssignOthersNotPermitted,
    #[error("A case that is {status} cannot be {action}.")]
    NotAllowedFrom { action: &'static str, status: &'static str },
    #[error("The person assigned must be a Case Manager at this case's provider.")]
    NotACaseManagerHere,
    #[error("A closing reason is required: attending_regularly, engaged_with_school_support, or chose_not_to_continue (students aged 16 or over).")]
    UnknownCloseReason,
    #[error("A case is never closed just because the student turned 16. Students 16 or over can be closed only when they choose not to continue (chose_not_to_continue).")]
    SixteenIsNotAReason,
    #[error("Only a student aged 16 or over can choose not to continue; this student is under 16.")]
    UnderSixteenCannotChoose,
    /// The guide: "Once a student turns 16, the case can be closed only if they choose not to
    /// continue receiving support."
    #[error("This student is {age}. Once a student turns 16, the case can be closed only if they choose not to continue receiving support: close it with chose_not_to_continue, or keep supporting them.")]
    SixteenOrOverMustChoose { age: i32 },
    #[error("Only the case of a child under six can be paused.")]
    PauseOnlyUnderSix,
    #[error("Before pausing, confirm all four conditions; not yet confirmed: {0}.")]
    PauseConditionsNotMet(String),
    #[error("The case is already {0}.")]
    NoChange(&'static str),
    /// The guide: the provider "will check in with you at key points, for example, before moving
    /// the case into Transition status".
    #[error("Record a consultation with the school about the move to Transition first: the guide asks the provider to check in with the school before moving a case into Transition.")]
    ConsultFirst,
}

impl From<Action> for Move {
    fn from(a: Action) -> Move {
        match a {
            Action::Assign => Move::Assign,
            Action::Transition => Move::Transition,
            Action::Close => Move::Close,
            Action::Pause => Move::Pause,
            Action::Reopen => Move::Reopen,
        }
    }
}

/// Where a person's action takes a case from `from`: [`Move::target`], the one transition table.
pub fn target(action: Action, from: CaseStatus) -> Option<CaseStatus> {
    Move::from(action).target(from)
}

/// May this caller act on this case's lifecycle at all? Provider staff of the case's provider.
pub fn may_act(actor: &Actor, case: &Case) -> bool {
    crate::access::permits(actor, case, crate::access::CaseAction::ChangeStatus)
}

/// Decide a person's command against the case as read. `today` is the New Zealand date.
pub fn decide(case: &Case, actor: &Actor, cmd: &Command, now: DateTime<Utc>, today: NaiveDate) -> Result<CaseChange, LifecycleError> {
    if !may_act(actor, case) {
        return Err(LifecycleError::NotPermitted);
    }
    let action = cmd.action();
    let mut next = case
        .moved(Move::from(action), now)
        .map_err(|e| LifecycleError::NotAllowedFrom { action: e.to_do.verb(), status: e.from.words() })?;
    let to = next.status;
    let mut timeline = Vec::new();
    let by = By::actor(actor);
    let mut reason_code: Option<String> = None;
    let mut note: Option<String> = None;
    match cmd {
        Command::Assign { case_manager } => {
            let here = case.provider_id.as_ref().map(|p| p.as_str()) == Some(case_manager.org_id.as_str());
            if case_manager.role != Role::CaseManager || !here {
                return Err(LifecycleError::NotACaseManagerHere);
            }
            if actor.role() == Role::CaseManager && &case_manager.id != actor.user_id() {
                return Err(LifecycleError::AssignOthersNotPermitted);
            }
            if case.case_manager.as_ref() == Some(&case_manager.id) && to == case.status {
                return Err(LifecycleError::NoChange("assigned to that Case Manager"));
            }
            next.case_manager = Some(case_manager.id.clone());
            timeline.push(TimelineEntry::new(
                &case.id,
                now,
                by.clone(),
                true,
                TimelineKind::CaseManagerAssigned {
                    case_manager: case_manager.id.clone(),
                    previous: case.case_manager.clone(),
                    reason: None,
                },
            ));
        }
        Command::Transition { note: n } => {
            // "before moving the case into Transition status" the provider checks in with the school
            crate::escalations::use_consultation(&mut next, crate::escalations::Step::Transition, today)
                .map_err(|_| LifecycleError::ConsultFirst)?;
            note = n.clone();
        }
        Command::Close { reason, note: n } => {
            let age = age_on(case.student.date_of_birth, today);
            if *reason == CloseReason::ChoseNotToContinue && age < 16 {
                return Err(LifecycleError::UnderSixteenCannotChoose);
            }
            if *reason != CloseReason::ChoseNotToContinue && age >= 16 {
                return Err(LifecycleError::SixteenOrOverMustChoose { age });
            }
            next.closed_at = Some(now);
            next.close_reason = Some(*reason);
            reason_code = Some(reason.as_str().to_string());
            note = n.clone();
        }
        Command::Pause { attestation, note: n } => {
            if age_on(case.student.date_of_birth, today) >= 6 {
                return Err(LifecycleError::PauseOnlyUnderSix);
            }
            let missing = attestation.missing();
            if !missing.is_empty() {
                return Err(LifecycleError::PauseConditionsNotMet(missing.join(", ")));
            }
            next.pause = Some(*attestation);
            reason_code = Some("under_six_withdrawn".into());
            note = n.clone();
        }
        Command::Reopen { note: n } => {
            next.pause = None;
            note = n.clone();
        }
    }
    let mut events = Vec::new();
    if to != case.status {
        timeline.push(TimelineEntry::new(
            &case.id,
            now,
            by,
            true,
            TimelineKind::StatusChanged { from: case.status, to, reason: reason_code.clone() },
        ));
        events.push(status_event(case, to, reason_code, now));
        if action == Action::Reopen {
            events.push(reopen_event(case, ReopenTrigger::Provider, now));
        }
    }
    // The person's note is free text for the provider and the Ministry: its own entry, not shared
    // with the school (the shared status entry carries only the reason code).
    if let Some(text) = note.filter(|n| crate::text::has_visible(n)) {
        timeline.push(TimelineEntry::new(
            &case.id,
            now,
            By::actor(actor),
            false,
            TimelineKind::Comment { text, author_side: actor.role().side() },
        ));
    }
    if to != CaseStatus::Closed {
        next.closed_at = None;
        next.close_reason = None;
    }
    Ok(CaseChange::of(case, next, timeline, events))
}

pub(crate) fn status_event(case: &Case, to: CaseStatus, reason: Option<String>, now: DateTime<Utc>) -> EventEnvelope {
    EventEnvelope::new(
        now,
        DomainEvent::CaseStatusChanged {
            case_id: case.id.clone(),
            case_type: case.case_type,
            school_id: case.school_id.clone(),
            provider_id: case.provider_id.clone(),
            from: case.status,
            to,
            reason,
        },
    )
}

fn reopen_event(case: &Case, trigger: ReopenTrigger, now: DateTime<Utc>) -> EventEnvelope {
    EventEnvelope::new(
        now,
        DomainEvent::CaseReopened {
            case_id: case.id.clone(),
            case_type: case.case_type,
            school_id: case.school_id.clone(),
            provider_id: case.provider_id.clone(),
            from: case.status,
            trigger,
        },
    )
}

/// The system reopens a paused case when the child re-enrols (ENROL) or turns six (nightly job).
/// Returns `None` when there is nothing to do (not paused, or not yet six): safe to run twice.
pub fn auto_reopen(case: &Case, trigger: ReopenTrigger, now: DateTime<Utc>, today: NaiveDate) -> Option<CaseChange> {
    if case.status != CaseStatus::Paused {
        return None;
    }
    if trigger == ReopenTrigger::TurnedSix && age_on(case.student.date_of_birth, today) < 6 {
        return None;
    }
    let process = match trigger {
        ReopenTrigger::Enrolled => "enrol",
        ReopenTrigger::TurnedSix => "reopen-scheduler",
        ReopenTrigger::Provider | ReopenTrigger::NewRequest => "system",
    };
    let mut next = case.moved(Move::AutoReopen, now).ok()?;
    next.pause = None;
    let reason = match trigger {
        ReopenTrigger::Enrolled => "child_enrolled",
        ReopenTrigger::TurnedSix => "child_turned_six",
        ReopenTrigger::Provider => "provider",
        ReopenTrigger::NewRequest => "new_request",
    };
    let timeline = vec![TimelineEntry::new(
        &case.id,
        now,
        By::system(process),
        true,
        TimelineKind::StatusChanged { from: CaseStatus::Paused, to: CaseStatus::Open, reason: Some(reason.into()) },
    )];
    let events = vec![status_event(case, CaseStatus::Open, Some(reason.into()), now), reopen_event(case, trigger, now)];
    Some(CaseChange::of(case, next, timeline, events))
}

#[cfg(test)]
mod tests;
