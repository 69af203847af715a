//! Intake: what a submitted CA request does to the student's cases. The student is identified by
//! NSN only ([`StudentMatch::Same`]); a name + date of birth match is a *candidate* and never
//! reopens or converts anything. Decided from the student's active case (read consistently from
//! the student's one-active-case item), their earlier cases, and the school ENROL last reported
//! them enrolled at:
//!
//! 1. **Active case** the caller may see → refused (409, with the case): one active case per
//!    student. An active **NEN** case whose child ENROL reported enrolled at *this* school is
//!    **converted** instead: same case and history, now this school's CA case (in CIT review →
//!    Awaiting Allocation, so allocation runs; with a provider → stays there).
//! 2. **Active case the caller may not see** → **received**: the request is recorded on that case
//!    for its provider or CIT to link; the school learns nothing about the case (no id, status,
//!    school or provider), so the answer is no oracle of another school's case.
//! 3. **Reopen within 3 months** of the most recent closure (a case that had a provider):
//!    - by the **same school**: back to its provider's queue, Case Manager and reason cleared;
//!    - by **another school** at which ENROL reported the student enrolled: the case moves to that
//!      school and is allocated afresh for it (its catchment provider, or its ISP), the change of
//!      school on the timeline; the old school keeps read access to what happened up to the
//!      handover, and the new school's users see what happens from then on (ADR 0007);
//!    - by another school without that enrolment: a new case.
//! 4. Otherwise a **new case**, flagged `possibleDuplicateOf` the most recent candidate (same name
//!    and date of birth, another or no NSN) for the provider or CIT to confirm or dismiss.
//!
//! ## The 3-month boundary
//! Dates are New Zealand calendar dates. The window ends on `nz_date(closed_at) + 3 months`
//! (chrono's `checked_add_months`: the same day of the month, clamped to the month's last day —
//! closed 30 November → window ends 28 February, or 29 in a leap year). A request made **before**
//! that date reopens; a request **on** that date ("exactly 3 months later") or after makes a new case.

use crate::access::can_view_case;
use crate::actor::Actor;
use crate::case::{By, Case, CaseChange, CaseStatus, CaseType, FormerSchool, Move, TimelineEntry, TimelineKind};
use crate::events::{DomainEvent, EventEnvelope, ReopenTrigger};
use crate::ids::{CaseId, SchoolId};
use crate::referral::{Referral, SubmitOutcome, ValidReferral};
use crate::student::{StudentIdentity, StudentMatch};
use chrono::{DateTime, Months, NaiveDate, Utc};

/// How many calendar months after closure a new request reopens the case.
pub const REOPEN_WINDOW_MONTHS: u32 = 3;

/// Which outcome a request has, and on which case.
#[derive(Debug, Clone, PartialEq)]
pub enum Intake {
    New {
        possible_duplicate_of: Option<CaseId>,
    },
    Convert(Case),
    /// Reopen for the school that referred it.
    Reopen(Case),
    /// Reopen for another school, where ENROL reported the student enrolled.
    ReopenAtSchool(Case),
    /// Refused: the student's active case, which the caller may see.
    Active(Case),
    /// Received for linking to an active case the caller may not see.
    Link(Case),
}

/// The first New Zealand date on which a request no longer reopens a case closed at `closed_at`.
pub fn reopen_window_end(closed_at: DateTime<Utc>) -> NaiveDate {
    let closed_on = crate::nz_date(closed_at);
    closed_on.checked_add_months(Months::new(REOPEN_WINDOW_MONTHS)).unwrap_or(NaiveDate::MAX)
}

/// Does a request made on `today` (NZ date) reopen a case closed at `closed_at`?
pub fn within_reopen_window(closed_at: DateTime<Utc>, today: NaiveDate) -> bool {
    today < reopen_window_end(closed_at)
}

/// What intake reads before deciding.
#[derive(Debug, Clone, Default)]
pub struct StudentRecord {
    /// The case holding the student's one-active-case item (read consistently), if any.
    pub active: Option<Case>,
    /// The student's other cases and candidates, from the indexes (any order).
    pub previous: Vec<Case>,
    /// The school ENROL last reported the student enrolled at.
    pub enrolled_at: Option<SchoolId>,
}

/// Decide the outcome of `actor`'s request from `school` for student `who`.
pub fn classify(record: &StudentRecord, who: &StudentIdentity, school: &SchoolId, actor: &Actor, today: NaiveDate) -> Intake {
    let same = |c: &&Case| who.compare(c.student.nsn.as_ref(), c.name_key.as_ref()) == StudentMatch::Same;
    // the item is authoritative; an index row is a fallback for cases written before it existed
    let active = record.active.iter().chain(record.previous.iter()).filter(same).find(|c| c.status != CaseStatus::Closed);
    if let Some(a) = active {
        let enrolled_here = a.nen.as_ref().and_then(|n| n.enrolled_at.as_ref()) == Some(school);
        if a.case_type == CaseType::Nen && enrolled_here {
            return Intake::Convert(a.clone());
        }
        return if can_view_case(actor, a) { Intake::Active(a.clone()) } else { Intake::Link(a.clone()) };
    }
    let last_closed = record
        .previous
        .iter()
        .filter(same)
        .filter(|c| c.status == CaseStatus::Closed && c.provider_id.is_some())
        .filter_map(|c| c.closed_at.map(|t| (t, c)))
        .max_by_key(|(t, _)| *t);
    if let Some((t, c)) = last_closed {
        if within_reopen_window(t, today) {
            if &c.school_id == school {
                return Intake::Reopen(c.clone());
            }
            if record.enrolled_at.as_ref() == Some(school) {
                return Intake::ReopenAtSchool(c.clone());
            }
        }
    }
    let candidate = record
        .previous
        .iter()
        .filter(|c| who.compare(c.student.nsn.as_ref(), c.name_key.as_ref()) == StudentMatch::Candidate)
        .max_by_key(|c| c.created_at)
        .map(|c| c.id.clone());
    Intake::New { possible_duplicate_of: candidate }
}

/// A submission the domain accepted: the change to commit and which outcome it was.
#[derive(Debug, Clone, PartialEq)]
pub struct Accepted {
    pub outcome: SubmitOutcome,
    pub change: CaseChange,
}

/// Submit a checked request: one [`CaseChange`] that also moves the request to submitted (so the
/// store writes both atomically), or the student's active case when the caller may see it.
#[allow(clippy::too_many_arguments)]
pub fn submit(
    record: &StudentRecord,
    who: &StudentIdentity,
    referral: &Referral,
    valid: &ValidReferral,
    new_id: CaseId,
    now: DateTime<Utc>,
    by: &Actor,
) -> Result<Accepted, Box<Case>> {
    let accepted = |outcome, change| Ok(Accepted { outcome, change });
    match classify(record, who, &valid.school_id, by, crate::nz_date(now)) {
        Intake::Active(c) => Err(Box::new(c)),
        Intake::New { possible_duplicate_of } => {
            let mut change = Case::open_ca(new_id, referral, valid, who, now, by);
            if let Some(of) = possible_duplicate_of {
                change.case.possible_duplicate_of = Some(of.clone());
                change.timeline.push(TimelineEntry::new(
                    &change.case.id,
                    now,
                    By::system("intake"),
                    false,
                    TimelineKind::PossibleDuplicate { of },
                ));
            }
            accepted(SubmitOutcome::Created, change)
        }
        Intake::Convert(c) => accepted(SubmitOutcome::Converted, convert_nen(&c, referral, valid, who, now, by)),
        Intake::Reopen(c) => accepted(SubmitOutcome::Reopened, reopen_by_request(&c, referral, valid, who, now, by)),
        Intake::ReopenAtSchool(c) => accepted(SubmitOutcome::Reopened, reopen_at_school(&c, referral, valid, who, now, by)),
        Intake::Link(c) => accepted(SubmitOutcome::Received, link_request(&c, referral, valid, now, by)),
    }
}

/// The request as submitted (written in the same transaction), with the version it was read at.
fn submitted(referral: &Referral, case_id: Option<&CaseId>, outcome: SubmitOutcome, now: DateTime<Utc>) -> (Referral, u64) {
    (referral.submitted(case_id, outcome, now), referral.version)
}

/// Fill the case in with the request's details (the school's view of the student now).
fn fill_from_request(case: &mut Case, referral: &Referral, valid: &ValidReferral, who: &StudentIdentity) {
    case.case_type = CaseType::Ca;
    case.school_id = valid.school_id.clone();
    case.region_id = valid.region_id.clone();
    case.primary_contact = Some(valid.primary_contact.clone());
    case.allocation_choice = Some(valid.allocation);
    case.referral_id = Some(referral.id.clone());
    case.whanau = valid.whanau.clone();
    case.home_address = Some(valid.home_address.clone());
    case.alternative_address = valid.alternative_address.clone();
    case.reason = Some(valid.reason.clone());
    case.actions_taken = Some(valid.actions_taken.clone());
    case.student.year_level = Some(valid.student.year_level);
    case.student.nsn = Some(valid.student.nsn.clone());
    case.student_key = who.nsn_key.clone();
    case.name_key = who.name_key.clone();
}

/// `CaseStatusChanged` for a case as it now is (`next`), moved from `from`.
fn status_changed(next: &Case, from: CaseStatus, reason: &str, now: DateTime<Utc>) -> EventEnvelope {
    EventEnvelope::new(
        now,
        DomainEvent::CaseStatusChanged {
            case_id: next.id.clone(),
            case_type: next.case_type,
            school_id: next.school_id.clone(),
            provider_id: next.provider_id.clone(),
            from,
            to: next.status,
            reason: Some(reason.into()),
        },
    )
}

fn referral_submitted(referral: &Referral, case: &Case, now: DateTime<Utc>) -> EventEnvelope {
    EventEnvelope::new(
        now,
        DomainEvent::ReferralSubmitted {
            referral_id: referral.id.clone(),
            case_id: case.id.clone(),
            school_id: referral.school_id.clone(),
        },
    )
}

/// A request for a student whose active case the school may not see: recorded on that case (not
/// shared with any school) for its provider or CIT to link; the case is otherwise unchanged.
pub fn link_request(case: &Case, referral: &Referral, valid: &ValidReferral, now: DateTime<Utc>, by: &Actor) -> CaseChange {
    let timeline = vec![TimelineEntry::new(
        &case.id,
        now,
        By::actor(by),
        false,
        TimelineKind::LinkRequested { referral_id: referral.id.clone(), school_id: valid.school_id.clone() },
    )];
    CaseChange {
        audit: Vec::new(),
        events: vec![referral_submitted(referral, case, now)],
        case: case.bumped(now),
        expected_version: Some(case.version),
        timeline,
        referral: Some(submitted(referral, None, SubmitOutcome::Received, now)),
        markers: Vec::new(),
        attached: Vec::new(),
        fund: None,
    }
}

/// NEN → CA: same case and history, now a CA case with the request's details.
pub fn convert_nen(
    case: &Case,
    referral: &Referral,
    valid: &ValidReferral,
    who: &StudentIdentity,
    now: DateTime<Utc>,
    by: &Actor,
) -> CaseChange {
    // not yet with a provider (in CIT review): allocated as a CA case, its SLA clocks starting
    // with this request; with a provider already, it stays where it is
    let (mut next, converting) = match case.moved(Move::ConvertToCa, now) {
        Ok(next) => (next, true),
        Err(_) => (case.bumped(now), false),
    };
    fill_from_request(&mut next, referral, valid, who);
    let mut timeline =
        vec![TimelineEntry::new(&case.id, now, By::actor(by), true, TimelineKind::ConvertedToCa { referral_id: referral.id.clone() })];
    let mut events = vec![referral_submitted(referral, &next, now)];
    if converting {
        next.referred_at = now;
        timeline.push(TimelineEntry::new(
            &case.id,
            now,
            By::actor(by),
            true,
            TimelineKind::StatusChanged { from: case.status, to: next.status, reason: Some("converted_to_ca".into()) },
        ));
        events.push(status_changed(&next, case.status, "converted_to_ca", now));
        events.push(EventEnvelope::new(
            now,
            DomainEvent::CaseCreated {
                case_id: case.id.clone(),
                case_type: CaseType::Ca,
                school_id: next.school_id.clone(),
                allocation: Some(valid.allocation),
            },
        ));
    }
    CaseChange {
        audit: Vec::new(),
        case: next,
        expected_version: Some(case.version),
        timeline,
        events,
        referral: Some(submitted(referral, Some(&case.id), SubmitOutcome::Converted, now)),
        markers: Vec::new(),
        attached: Vec::new(),
        fund: None,
    }
}

/// A closed case reopened by a new request within 3 months: back to its provider's queue.
/// The request starts new SLA clocks (meetings recorded for the earlier referral no longer count).
pub fn reopen_by_request(
    case: &Case,
    referral: &Referral,
    valid: &ValidReferral,
    who: &StudentIdentity,
    now: DateTime<Utc>,
    by: &Actor,
) -> CaseChange {
    reopened(case, referral, valid, who, now, by, Move::ReopenByRequest)
}

/// A closed case reopened within 3 months by a request from **another** school, where ENROL
/// reported the student enrolled: the case moves to that school and is allocated afresh for it (its
/// catchment provider or its ISP: `CaseCreated` with caseType CA, as a conversion does). The old
/// school keeps read access up to now; the new school's users see what happens from now on.
pub fn reopen_at_school(
    case: &Case,
    referral: &Referral,
    valid: &ValidReferral,
    who: &StudentIdentity,
    now: DateTime<Utc>,
    by: &Actor,
) -> CaseChange {
    reopened(case, referral, valid, who, now, by, Move::ReopenAtSchool)
}

/// A closed case reopened by a request ([`Move::ReopenByRequest`] or [`Move::ReopenAtSchool`]).
/// A case the table does not let the request reopen (intake reopens only closed cases) has the
/// request recorded on it instead ([`link_request`]): nothing is lost and nothing moves.
fn reopened(
    case: &Case,
    referral: &Referral,
    valid: &ValidReferral,
    who: &StudentIdentity,
    now: DateTime<Utc>,
    by: &Actor,
    how: Move,
) -> CaseChange {
    let Ok(mut next) = case.moved(how, now) else {
        return link_request(case, referral, valid, now, by);
    };
    let elsewhere = how == Move::ReopenAtSchool;
    fill_from_request(&mut next, referral, valid, who);
    next.case_manager = None;
    next.closed_at = None;
    next.close_reason = None;
    next.pause = None;
    next.referred_at = now;
    next.school_met_on = None;
    next.whanau_met_on = None;
    next.breached = Vec::new();
    if elsewhere {
        next.former_schools.push(FormerSchool { school_id: case.school_id.clone(), until: now });
        next.school_since = Some(now);
        next.provider_id = None;
        next.catchment_id = None;
    }
    let by_user = By::actor(by);
    let mut timeline = vec![TimelineEntry::new(
        &case.id,
        now,
        by_user.clone(),
        true,
        TimelineKind::ReopenedByRequest { referral_id: referral.id.clone() },
    )];
    if elsewhere {
        timeline.push(TimelineEntry::new(
            &case.id,
            now,
            by_user.clone(),
            true,
            TimelineKind::SchoolChanged { from: case.school_id.clone(), to: valid.school_id.clone() },
        ));
    }
    timeline.push(TimelineEntry::new(
        &case.id,
        now,
        by_user,
        true,
        TimelineKind::StatusChanged { from: case.status, to: next.status, reason: Some("new_request".into()) },
    ));
    // the events describe the case as it now is (CA, the requesting school), moving from Closed
    let mut events = vec![
        referral_submitted(referral, &next, now),
        status_changed(&next, case.status, "new_request", now),
        EventEnvelope::new(
            now,
            DomainEvent::CaseReopened {
                case_id: case.id.clone(),
                case_type: next.case_type,
                school_id: next.school_id.clone(),
                provider_id: next.provider_id.clone(),
                from: case.status,
                trigger: ReopenTrigger::NewRequest,
            },
        ),
    ];
    if elsewhere {
        events.push(EventEnvelope::new(
            now,
            DomainEvent::CaseCreated {
                case_id: case.id.clone(),
                case_type: CaseType::Ca,
                school_id: valid.school_id.clone(),
                allocation: Some(valid.allocation),
            },
        ));
    }
    CaseChange {
        referral: Some(submitted(referral, Some(&case.id), SubmitOutcome::Reopened, now)),
        ..CaseChange::of(case, next, timeline, events)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DuplicateError {
    #[error("Only the case's provider staff and the Central Investigations Team can decide whether two cases are the same student.")]
    NotPermitted,
    #[error("This case is not flagged as a possible duplicate.")]
    NotFlagged,
}

/// The provider or CIT decides whether a case flagged `possibleDuplicateOf` is the same student as
/// the other case: the decision is recorded (not shared with the school) and the flag cleared.
/// Confirmed duplicates are then closed or transferred by the usual routes; nothing is merged.
pub fn resolve_duplicate(case: &Case, actor: &Actor, same_student: bool, now: DateTime<Utc>) -> Result<CaseChange, DuplicateError> {
    if !crate::access::permits(actor, case, crate::access::CaseAction::ResolveDuplicate) {
        return Err(DuplicateError::NotPermitted);
    }
    let of = case.possible_duplicate_of.clone().ok_or(DuplicateError::NotFlagged)?;
    let next = Case { possible_duplicate_of: None, ..case.bumped(now) };
    let timeline = vec![TimelineEntry::new(&case.id, now, By::actor(actor), false, TimelineKind::DuplicateResolved { of, same_student })];
    Ok(CaseChange::of(case, next, timeline, Vec::new()))
}

#[cfg(test)]
mod tests;
