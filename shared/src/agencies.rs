//! Other agencies engaged on a case, and CIT's agency checks (issue 15).
//!
//! The guide has the provider working alongside other agencies (Oranga Tamariki, Police, Health,
//! social services, MSD) and "CIT is also responsible for managing information checks with other
//! agencies". So:
//! - the case's provider staff record the agencies engaged on the case ([`engage`]); provider and
//!   Ministry staff see them, the school does not (an agency's involvement says something about
//!   the whānau);
//! - the provider or CIT asks for an information check with an agency ([`request_check`]) and CIT
//!   records its result ([`record_check`], once). Checks — and their timeline entries — are seen
//!   by CIT and the case's provider only: not the school, not the other Ministry teams.
//!
//! No event carries any of it.

use crate::access::{permits, CaseAction};
use crate::actor::Actor;
use crate::case::{By, Case, CaseChange, TimelineEntry, TimelineKind};
use crate::ids::EntryId;
use crate::text::{note, NoteProblem};
use chrono::{DateTime, NaiveDate, Utc};

pub use crate::case::agency::{Agency, AgencyCheck, AgencyInvolvement};

/// The longest agency detail or question kept.
pub const MAX_DETAIL: usize = 300;
/// The longest check result kept.
pub const MAX_RESULT: usize = 2000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AgencyError {
    #[error("Only the case's provider staff record the agencies engaged on a case.")]
    EngageNotPermitted,
    #[error("Only the case's provider staff and CIT ask for agency checks.")]
    RequestNotPermitted,
    #[error("Only CIT records the result of an agency check.")]
    RecordNotPermitted,
    #[error("This case is closed: it can be read, but nothing more can be added to it.")]
    Closed,
    #[error("The date cannot be in the future.")]
    FutureDate,
    #[error("Name the agency: an agency of kind other needs its name.")]
    DetailRequired,
    #[error("This agency is already recorded on the case.")]
    AlreadyRecorded,
    #[error("This case has no agency check with that id.")]
    Unknown,
    #[error("The result of this check is already recorded.")]
    AlreadyAnswered,
    #[error("Give the result of the check.")]
    ResultRequired,
    #[error("The {0} is too long: at most {1} characters.")]
    TooLong(&'static str, usize),
    #[error("The {0} must not contain control characters.")]
    ControlCharacters(&'static str),
}

fn text(field: &'static str, s: Option<&str>, max: usize) -> Result<Option<String>, AgencyError> {
    note(s, max).map_err(|e| match e {
        NoteProblem::TooLong => AgencyError::TooLong(field, max),
        NoteProblem::ControlCharacters => AgencyError::ControlCharacters(field),
    })
}

/// The case's provider staff record an agency engaged on the case since `since`.
pub fn engage(
    case: &Case,
    actor: &Actor,
    agency: Agency,
    detail: Option<&str>,
    since: NaiveDate,
    now: DateTime<Utc>,
    today: NaiveDate,
) -> Result<CaseChange, AgencyError> {
    if !permits(actor, case, CaseAction::RecordAgency) {
        return Err(AgencyError::EngageNotPermitted);
    }
    case.still_open(AgencyError::Closed)?;
    if since > today {
        return Err(AgencyError::FutureDate);
    }
    let detail = text("detail", detail, MAX_DETAIL)?;
    if agency == Agency::Other && detail.is_none() {
        return Err(AgencyError::DetailRequired);
    }
    if case.agencies.iter().any(|a| a.agency == agency && (agency != Agency::Other || a.detail == detail)) {
        return Err(AgencyError::AlreadyRecorded);
    }
    let a = AgencyInvolvement { id: EntryId::new_ulid(), agency, detail, since, by: By::actor(actor), at: now };
    let entry =
        TimelineEntry::new(&case.id, now, By::actor(actor), false, TimelineKind::AgencyEngaged { involvement_id: a.id.clone(), agency });
    let mut next = case.bumped(now);
    next.agencies.push(a);
    Ok(CaseChange::of(case, next, vec![entry], Vec::new()))
}

/// The case's provider staff or CIT ask for an information check with an agency.
pub fn request_check(
    case: &Case,
    actor: &Actor,
    agency: Agency,
    question: Option<&str>,
    now: DateTime<Utc>,
) -> Result<CaseChange, AgencyError> {
    if !permits(actor, case, CaseAction::RequestAgencyCheck) {
        return Err(AgencyError::RequestNotPermitted);
    }
    case.still_open(AgencyError::Closed)?;
    let question = text("question", question, MAX_DETAIL)?;
    if agency == Agency::Other && question.is_none() {
        return Err(AgencyError::DetailRequired);
    }
    let check = AgencyCheck {
        id: EntryId::new_ulid(),
        agency,
        question,
        requested_by: By::actor(actor),
        requested_at: now,
        result: None,
        result_by: None,
        result_at: None,
    };
    let entry = TimelineEntry::new(
        &case.id,
        now,
        By::actor(actor),
        false,
        TimelineKind::AgencyCheckRequested { check_id: check.id.clone(), agency },
    );
    let mut next = case.bumped(now);
    next.agency_checks.push(check);
    Ok(CaseChange::of(case, next, vec![entry], Vec::new()))
}

/// CIT records what the agency said (once).
pub fn record_check(case: &Case, actor: &Actor, id: &EntryId, result: Option<&str>, now: DateTime<Utc>) -> Result<CaseChange, AgencyError> {
    if !permits(actor, case, CaseAction::RecordAgencyCheck) {
        return Err(AgencyError::RecordNotPermitted);
    }
    case.still_open(AgencyError::Closed)?;
    let current = case.agency_checks.iter().find(|c| &c.id == id).ok_or(AgencyError::Unknown)?;
    if current.result.is_some() {
        return Err(AgencyError::AlreadyAnswered);
    }
    let result = text("result", result, MAX_RESULT)?.ok_or(AgencyError::ResultRequired)?;
    let entry = TimelineEntry::new(
        &case.id,
        now,
        By::actor(actor),
        false,
        TimelineKind::AgencyCheckAnswered { check_id: id.clone(), agency: current.agency },
    );
    let mut next = case.bumped(now);
    if let Some(c) = next.agency_checks.iter_mut().find(|c| &c.id == id) {
        c.result = Some(result);
        c.result_by = Some(By::actor(actor));
        c.result_at = Some(now);
    }
    Ok(CaseChange::of(case, next, vec![entry], Vec::new()))
}

/// Whether a timeline entry is about an agency check (seen by CIT and the provider only).
pub fn is_check_entry(kind: &TimelineKind) -> bool {
    matches!(kind, TimelineKind::AgencyCheckRequested { .. } | TimelineKind::AgencyCheckAnswered { .. })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actor::Role;
    use crate::fixtures::{actor, case, cm, now, today};
    use proptest::prelude::*;

    fn cit() -> Actor {
        actor(Role::Cit, "ministry", "cit")
    }

    #[test]
    fn the_provider_records_the_agencies_engaged_unshared_with_the_school() {
        let c = case();
        let ch = engage(&c, &cm(), Agency::OrangaTamariki, Some(" Social worker "), today(), now(), today()).unwrap();
        assert_eq!(ch.case.agencies[0].detail.as_deref(), Some("Social worker"));
        assert!(!ch.timeline[0].shared_with_school);
        assert!(ch.events.is_empty());
        assert_eq!(engage(&ch.case, &cm(), Agency::OrangaTamariki, None, today(), now(), today()), Err(AgencyError::AlreadyRecorded));
        assert_eq!(engage(&c, &cm(), Agency::Other, None, today(), now(), today()), Err(AgencyError::DetailRequired));
        let tomorrow = today().succ_opt().unwrap();
        assert_eq!(engage(&c, &cm(), Agency::Police, None, tomorrow, now(), today()), Err(AgencyError::FutureDate));
        for who in [actor(Role::AttendanceLead, "1001", "lead"), cit(), actor(Role::CaseManager, "P02", "cm-p02")] {
            assert_eq!(engage(&c, &who, Agency::Police, None, today(), now(), today()), Err(AgencyError::EngageNotPermitted), "{who:?}");
        }
    }

    #[test]
    fn the_provider_or_cit_asks_and_only_cit_answers_once() {
        let c = case();
        let asked = request_check(&c, &cm(), Agency::Police, Some("Any family harm callouts?"), now()).unwrap();
        assert!(request_check(&c, &cit(), Agency::Health, None, now()).is_ok());
        for who in [
            actor(Role::AttendanceLead, "1001", "lead"),
            actor(Role::National, "ministry", "nat"),
            actor(Role::Prosecutions, "ministry", "p"),
        ] {
            assert_eq!(request_check(&c, &who, Agency::Police, None, now()), Err(AgencyError::RequestNotPermitted), "{who:?}");
        }
        let id = asked.case.agency_checks[0].id.clone();
        assert_eq!(record_check(&asked.case, &cm(), &id, Some("None"), now()), Err(AgencyError::RecordNotPermitted));
        assert_eq!(record_check(&asked.case, &cit(), &id, Some("  "), now()), Err(AgencyError::ResultRequired));
        let done = record_check(&asked.case, &cit(), &id, Some("No callouts recorded"), now()).unwrap();
        assert_eq!(done.case.agency_checks[0].result.as_deref(), Some("No callouts recorded"));
        assert!(is_check_entry(&done.timeline[0].kind) && !done.timeline[0].shared_with_school);
        assert_eq!(record_check(&done.case, &cit(), &id, Some("again"), now()), Err(AgencyError::AlreadyAnswered));
        assert_eq!(record_check(&c, &cit(), &EntryId::parse("NOPE").unwrap(), Some("x"), now()), Err(AgencyError::Unknown));
    }

    proptest! {
        /// Whoever asks, in any order, a check's result is recorded at most once, only by CIT,
        /// and every entry about agencies stays off the school's timeline.
        #[test]
        fn a_check_is_answered_once_by_cit_and_nothing_is_shared(steps in proptest::collection::vec((0usize..4, 0usize..6), 1..12)) {
            let who = [cm(), cit(), actor(Role::AttendanceLead, "1001", "lead"), actor(Role::National, "ministry", "nat")];
            let mut c = case();
            let mut answers = 0;
            for (w, a) in steps {
                let agency = Agency::ALL[a];
                let by = &who[w];
                let change = match c.agency_checks.iter().find(|k| k.result.is_none()).map(|k| k.id.clone()) {
                    Some(id) if w % 2 == 1 => record_check(&c, by, &id, Some("answered"), now()),
                    _ => request_check(&c, by, agency, Some("asked"), now()),
                };
                if let Ok(ch) = change {
                    prop_assert!(ch.timeline.iter().all(|e| !e.shared_with_school));
                    if matches!(ch.timeline[0].kind, TimelineKind::AgencyCheckAnswered { .. }) {
                        prop_assert_eq!(by.role(), Role::Cit);
                        answers += 1;
                    }
                    c = ch.case;
                }
            }
            prop_assert_eq!(c.agency_checks.iter().filter(|k| k.result.is_some()).count(), answers);
        }
    }
}
