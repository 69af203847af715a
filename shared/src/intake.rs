//! Intake: what a submitted CA request does to the student's cases. One request, one of four
//! outcomes, decided here from the student's previous cases (found by NSN or by normalised name +
//! date of birth, each confirmed with [`StudentIdentity::matches`]):
//!
//! 1. **Active case** — the student already has a CA case that is not closed: refused (409); a
//!    student has one active CA case at a time.
//! 2. **NEN → CA conversion** — a NEN case of this student, not closed, whose child ENROL reported
//!    enrolled at *this* school: the same case (same id, same history) becomes a CA case filled in
//!    with the request's details. Still in CIT review → Awaiting Allocation (`CaseCreated` with
//!    caseType CA is emitted so allocation runs); already with a provider → stays there, status
//!    unchanged.
//! 3. **Reopen within 3 months** — the student's most recently closed case (one that had a
//!    provider) closed less than 3 calendar months ago: the same case goes back to its provider's
//!    queue (Case Manager cleared, closing reason cleared), `CaseReopened {trigger: new_request}`.
//! 4. Otherwise a **new case** ([`Case::open_ca`]).
//!
//! ## The 3-month boundary
//! Dates are New Zealand calendar dates. The window ends on `nz_date(closed_at) + 3 months`
//! (chrono's `checked_add_months`: the same day of the month, clamped to the month's last day —
//! closed 30 November → window ends 28 February, or 29 in a leap year). A request made **before**
//! that date reopens; a request **on** that date ("exactly 3 months later") or after makes a new case.
//!
//! A NEN case that is still active but not enrolled at this school is left alone (the request makes
//! a new CA case; CIT keeps the NEN).

use crate::actor::Actor;
use crate::case::{By, Case, CaseChange, CaseStatus, CaseType, TimelineEntry, TimelineKind};
use crate::events::{DomainEvent, EventEnvelope, ReopenTrigger};
use crate::ids::{CaseId, SchoolId};
use crate::referral::{Referral, ReferralStatus, ValidReferral};
use crate::student::StudentIdentity;
use chrono::{DateTime, Months, NaiveDate, Utc};

/// How many calendar months after closure a new request reopens the case.
pub const REOPEN_WINDOW_MONTHS: u32 = 3;

/// Which outcome a request has, and on which previous case.
#[derive(Debug, Clone, PartialEq)]
pub enum Intake {
    New,
    Convert(Case),
    Reopen(Case),
    /// Refused: this active CA case already exists.
    Active(Case),
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

/// Decide the outcome from the cases the store returned for the student (any order; cases that
/// are not this student's are ignored).
pub fn classify(previous: &[Case], who: &StudentIdentity, school: &SchoolId, today: NaiveDate) -> Intake {
    let mine: Vec<&Case> =
        previous.iter().filter(|c| who.matches(c.student.nsn.as_ref(), &c.student.full_name, c.student.date_of_birth)).collect();
    if let Some(active) = mine.iter().find(|c| c.case_type == CaseType::Ca && c.status != CaseStatus::Closed) {
        return Intake::Active((*active).clone());
    }
    if let Some(nen) = mine.iter().find(|c| {
        c.case_type == CaseType::Nen
            && c.status != CaseStatus::Closed
            && c.nen.as_ref().and_then(|n| n.enrolled_at.as_ref()) == Some(school)
    }) {
        return Intake::Convert((*nen).clone());
    }
    let last_closed = mine
        .iter()
        .filter(|c| c.status == CaseStatus::Closed && c.provider_id.is_some())
        .filter_map(|c| c.closed_at.map(|t| (t, *c)))
        .max_by_key(|(t, _)| *t);
    match last_closed {
        Some((t, c)) if within_reopen_window(t, today) => Intake::Reopen(c.clone()),
        _ => Intake::New,
    }
}

/// A submission the domain accepted: the change to commit and which outcome it was.
#[derive(Debug, Clone, PartialEq)]
pub struct Accepted {
    pub outcome: Outcome,
    pub change: CaseChange,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Created,
    Converted,
    Reopened,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Created => "created",
            Outcome::Converted => "converted",
            Outcome::Reopened => "reopened",
        }
    }
}

/// Submit a checked request: one [`CaseChange`] that also moves the request to submitted (so the
/// store writes both atomically), or the student's active case when there already is one.
pub fn submit(
    previous: &[Case],
    referral: &Referral,
    valid: &ValidReferral,
    new_id: CaseId,
    now: DateTime<Utc>,
    by: &Actor,
) -> Result<Accepted, Box<Case>> {
    let s = &valid.student;
    let who = StudentIdentity::new(s.nsn.as_ref(), &s.full_name, s.date_of_birth);
    match classify(previous, &who, &valid.school_id, crate::nz_date(now)) {
        Intake::Active(c) => Err(Box::new(c)),
        Intake::New => Ok(Accepted { outcome: Outcome::Created, change: Case::open_ca(new_id, referral, valid, now, by) }),
        Intake::Convert(c) => Ok(Accepted { outcome: Outcome::Converted, change: convert_nen(&c, referral, valid, now, by) }),
        Intake::Reopen(c) => Ok(Accepted { outcome: Outcome::Reopened, change: reopen_by_request(&c, referral, valid, now, by) }),
    }
}

/// The request as submitted, pointing at `case_id` (written in the same transaction).
fn submitted(referral: &Referral, case_id: &CaseId, now: DateTime<Utc>) -> (Referral, u64) {
    let mut r = referral.clone();
    r.status = ReferralStatus::Submitted;
    r.submitted_at = Some(now);
    r.updated_at = now;
    r.case_id = Some(case_id.clone());
    r.version = referral.version + 1;
    (r, referral.version)
}

/// Fill the case in with the request's details (the school's view of the student now).
fn fill_from_request(case: &mut Case, referral: &Referral, valid: &ValidReferral) {
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
    if case.student.nsn.is_none() {
        if let Some(nsn) = &valid.student.nsn {
            case.student.nsn = Some(nsn.clone());
            case.student_key = valid.student.key();
        }
    }
}

fn status_changed(case: &Case, to: CaseStatus, reason: &str, now: DateTime<Utc>) -> EventEnvelope {
    crate::lifecycle::status_event(case, to, Some(reason.into()), now)
}

fn referral_submitted(referral: &Referral, case: &Case, now: DateTime<Utc>) -> EventEnvelope {
    EventEnvelope::new(
        now,
        DomainEvent::ReferralSubmitted { referral_id: referral.id.clone(), case_id: case.id.clone(), school_id: case.school_id.clone() },
    )
}

/// NEN → CA: same case and history, now a CA case with the request's details.
pub fn convert_nen(case: &Case, referral: &Referral, valid: &ValidReferral, now: DateTime<Utc>, by: &Actor) -> CaseChange {
    let mut next = case.clone();
    fill_from_request(&mut next, referral, valid);
    let mut timeline =
        vec![TimelineEntry::new(&case.id, now, By::actor(by), true, TimelineKind::ConvertedToCa { referral_id: referral.id.clone() })];
    let mut events = vec![referral_submitted(referral, &next, now)];
    if case.status == CaseStatus::CitReview {
        // not yet with a provider: allocate it as a CA case, its SLA clocks start with this request
        next.status = CaseStatus::AwaitingAllocation;
        next.referred_at = now;
        timeline.push(TimelineEntry::new(
            &case.id,
            now,
            By::actor(by),
            true,
            TimelineKind::StatusChanged { from: case.status, to: next.status, reason: Some("converted_to_ca".into()) },
        ));
        let mut as_ca = case.clone();
        as_ca.case_type = CaseType::Ca;
        as_ca.school_id = next.school_id.clone();
        events.push(status_changed(&as_ca, next.status, "converted_to_ca", now));
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
    next.updated_at = now;
    next.version = case.version + 1;
    CaseChange {
        case: next,
        expected_version: Some(case.version),
        timeline,
        events,
        referral: Some(submitted(referral, &case.id, now)),
        markers: Vec::new(),
    }
}

/// A closed case reopened by a new request within 3 months: back to its provider's queue.
/// The request starts new SLA clocks (meetings recorded for the earlier referral no longer count).
pub fn reopen_by_request(case: &Case, referral: &Referral, valid: &ValidReferral, now: DateTime<Utc>, by: &Actor) -> CaseChange {
    let mut next = case.clone();
    fill_from_request(&mut next, referral, valid);
    next.status = CaseStatus::ProviderQueue;
    next.case_manager = None;
    next.closed_at = None;
    next.close_reason = None;
    next.pause = None;
    next.referred_at = now;
    next.school_met_on = None;
    next.whanau_met_on = None;
    next.breached = Vec::new();
    next.updated_at = now;
    next.version = case.version + 1;
    let by_user = By::actor(by);
    let timeline = vec![
        TimelineEntry::new(&case.id, now, by_user.clone(), true, TimelineKind::ReopenedByRequest { referral_id: referral.id.clone() }),
        TimelineEntry::new(
            &case.id,
            now,
            by_user,
            true,
            TimelineKind::StatusChanged { from: CaseStatus::Closed, to: CaseStatus::ProviderQueue, reason: Some("new_request".into()) },
        ),
    ];
    // the events describe the case as it now is (CA, the requesting school), moving from Closed
    let mut from = next.clone();
    from.status = case.status;
    let events = vec![
        referral_submitted(referral, &next, now),
        status_changed(&from, CaseStatus::ProviderQueue, "new_request", now),
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
    CaseChange {
        case: next,
        expected_version: Some(case.version),
        timeline,
        events,
        referral: Some(submitted(referral, &case.id, now)),
        markers: Vec::new(),
    }
}

#[cfg(test)]
mod tests;
