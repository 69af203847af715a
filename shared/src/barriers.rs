//! Barriers to attendance (issue 15): the Case Manager's first task is to "Identify and record
//! all barriers" (the guide), from a maintained list drawn from the guide's own words — "housing
//! instability, poverty, mental health or addiction issues, or disability or additional learning
//! needs", bullying, wellbeing, behavioural or social issues, the school–whānau relationship
//! ("if the school/caregiver relationship has broken down"), transport — and "other", which needs
//! a description.
//!
//! Each barrier records who identified it and when, and moves forward only: identified → being
//! addressed → resolved (a barrier may be resolved straight from identified). They are recorded
//! by the case's provider staff and seen by them and the Ministry; a barrier names the whānau's
//! circumstances, so its timeline entries are not shared with the school and no event carries it.

use crate::access::{permits, CaseAction};
use crate::actor::Actor;
use crate::case::{By, Case, CaseChange, TimelineEntry, TimelineKind};
use crate::ids::EntryId;
use chrono::{DateTime, Utc};

pub use crate::case::barrier::{Barrier, BarrierKind, BarrierState};

/// The longest description kept.
pub const MAX_DETAIL: usize = 500;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BarrierError {
    #[error("Only the case's provider staff (its Case Manager and provider administrators) can record barriers.")]
    NotPermitted,
    #[error("Describe the barrier: a barrier of kind other needs a description.")]
    DetailRequired,
    #[error("The description is too long: at most 500 characters.")]
    DetailTooLong,
    #[error("This case has no barrier with that id.")]
    Unknown,
    #[error("A barrier that is {from} cannot become {to}: a barrier moves forward only (identified, being addressed, resolved).")]
    Backwards { from: &'static str, to: &'static str },
    #[error("This barrier is already recorded and not yet resolved.")]
    AlreadyRecorded,
    #[error("The description must not contain control characters.")]
    ControlCharacters,
    #[error("This case is closed: it can be read, but nothing more can be added to it.")]
    Closed,
}

fn detail_of(kind: BarrierKind, detail: Option<&str>) -> Result<Option<String>, BarrierError> {
    let detail = crate::text::note(detail, MAX_DETAIL).map_err(|e| match e {
        crate::text::NoteProblem::TooLong => BarrierError::DetailTooLong,
        crate::text::NoteProblem::ControlCharacters => BarrierError::ControlCharacters,
    })?;
    if kind == BarrierKind::Other && detail.is_none() {
        return Err(BarrierError::DetailRequired);
    }
    Ok(detail)
}

/// Barriers are the case's provider staff's to record, and only while the case is not closed.
fn may_record(case: &Case, actor: &Actor) -> Result<(), BarrierError> {
    if !permits(actor, case, CaseAction::RecordBarrier) {
        return Err(BarrierError::NotPermitted);
    }
    case.still_open(BarrierError::Closed)
}

/// The case's provider staff identify a barrier. The same kind may be identified again only once
/// the earlier one is resolved (an "other" barrier is its description's own).
pub fn identify(
    case: &Case,
    actor: &Actor,
    kind: BarrierKind,
    detail: Option<&str>,
    now: DateTime<Utc>,
) -> Result<CaseChange, BarrierError> {
    may_record(case, actor)?;
    let detail = detail_of(kind, detail)?;
    let open_same = case
        .barriers
        .iter()
        .any(|b| b.kind == kind && b.state != BarrierState::Resolved && (kind != BarrierKind::Other || b.detail == detail));
    if open_same {
        return Err(BarrierError::AlreadyRecorded);
    }
    let barrier = Barrier {
        id: EntryId::new_ulid(),
        kind,
        detail,
        state: BarrierState::Identified,
        identified_by: By::actor(actor),
        identified_at: now,
        changed_at: now,
    };
    let entry = TimelineEntry::new(
        &case.id,
        now,
        By::actor(actor),
        false,
        TimelineKind::BarrierRecorded { barrier_id: barrier.id.clone(), kind, state: BarrierState::Identified },
    );
    let mut next = case.bumped(now);
    next.barriers.push(barrier);
    Ok(CaseChange::of(case, next, vec![entry], Vec::new()))
}

/// The case's provider staff move a barrier forward.
pub fn change_state(
    case: &Case,
    actor: &Actor,
    barrier: &EntryId,
    to: BarrierState,
    now: DateTime<Utc>,
) -> Result<CaseChange, BarrierError> {
    may_record(case, actor)?;
    let current = case.barriers.iter().find(|b| &b.id == barrier).ok_or(BarrierError::Unknown)?;
    if !current.state.may_become(to) {
        return Err(BarrierError::Backwards { from: current.state.as_str(), to: to.as_str() });
    }
    let entry = TimelineEntry::new(
        &case.id,
        now,
        By::actor(actor),
        false,
        TimelineKind::BarrierRecorded { barrier_id: barrier.clone(), kind: current.kind, state: to },
    );
    let mut next = case.bumped(now);
    if let Some(b) = next.barriers.iter_mut().find(|b| &b.id == barrier) {
        b.state = to;
        b.changed_at = now;
    }
    Ok(CaseChange::of(case, next, vec![entry], Vec::new()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actor::Role;
    use crate::fixtures::{actor, case, cm, now};
    use proptest::prelude::*;

    #[test]
    fn the_provider_records_a_barrier_unshared_with_the_school() {
        let c = case();
        let ch = identify(&c, &cm(), BarrierKind::Transport, Some("  No bus from Ahipara  "), now()).unwrap();
        assert_eq!(ch.case.barriers.len(), 1);
        let b = &ch.case.barriers[0];
        assert_eq!((b.kind, b.state, b.detail.as_deref()), (BarrierKind::Transport, BarrierState::Identified, Some("No bus from Ahipara")));
        assert_eq!(b.identified_by, By::actor(&cm()));
        assert_eq!(ch.case.version, c.version + 1);
        assert!(!ch.timeline[0].shared_with_school, "a barrier names the whānau's circumstances");
        // the dashboards count barriers: the change says the case changed, with ids only
        match &ch.events[..] {
            [e] => assert_eq!(
                e.detail_json().as_object().map(|o| o.len()),
                Some(5),
                "caseId, caseType, schoolId, eventId, occurredAt: {:?}",
                e.detail_json()
            ),
            es => panic!("{es:?}"),
        }
        assert_eq!(ch.events[0].detail_type(), "CaseUpdated");
    }

    #[test]
    fn only_the_cases_provider_staff_record_barriers() {
        let c = case();
        for who in [
            actor(Role::AttendanceLead, "1001", "lead"),
            actor(Role::SchoolPrimaryContact, "1001", "contact-1001"),
            actor(Role::CaseManager, "P02", "cm-p02"),
            actor(Role::Cit, "ministry", "cit"),
        ] {
            assert_eq!(identify(&c, &who, BarrierKind::Poverty, None, now()), Err(BarrierError::NotPermitted), "{who:?}");
        }
        assert!(identify(&c, &actor(Role::ProviderAdmin, "P01", "admin-p01"), BarrierKind::Poverty, None, now()).is_ok());
    }

    #[test]
    fn other_needs_a_description_and_a_description_has_a_limit() {
        let c = case();
        assert_eq!(identify(&c, &cm(), BarrierKind::Other, None, now()), Err(BarrierError::DetailRequired));
        assert_eq!(identify(&c, &cm(), BarrierKind::Other, Some(" \u{200b} "), now()), Err(BarrierError::DetailRequired));
        let long = "x".repeat(MAX_DETAIL + 1);
        assert_eq!(identify(&c, &cm(), BarrierKind::Poverty, Some(&long), now()), Err(BarrierError::DetailTooLong));
        assert_eq!(identify(&c, &cm(), BarrierKind::Other, Some("nul\u{0}byte"), now()), Err(BarrierError::ControlCharacters));
        assert!(identify(&c, &cm(), BarrierKind::Other, Some("Caring for a sibling"), now()).is_ok());
    }

    #[test]
    fn an_open_barrier_is_not_recorded_twice_but_may_be_again_once_resolved() {
        let c = identify(&case(), &cm(), BarrierKind::Bullying, None, now()).unwrap().case;
        assert_eq!(identify(&c, &cm(), BarrierKind::Bullying, None, now()), Err(BarrierError::AlreadyRecorded));
        let id = c.barriers[0].id.clone();
        let c = change_state(&c, &cm(), &id, BarrierState::Resolved, now()).unwrap().case;
        assert!(identify(&c, &cm(), BarrierKind::Bullying, None, now()).is_ok());
    }

    #[test]
    fn an_unknown_barrier_is_refused() {
        let c = case();
        let id = EntryId::parse("01JNOTHERE").unwrap();
        assert_eq!(change_state(&c, &cm(), &id, BarrierState::Resolved, now()), Err(BarrierError::Unknown));
    }

    proptest! {
        /// Whatever sequence of states is asked for, a barrier only ever moves forward, and each
        /// accepted move is one timeline entry, unshared.
        #[test]
        fn a_barrier_moves_forward_only(asks in proptest::collection::vec(0usize..3, 1..8)) {
            let mut c = identify(&case(), &cm(), BarrierKind::Poverty, None, now()).unwrap().case;
            let id = c.barriers[0].id.clone();
            let mut seen = vec![BarrierState::Identified];
            for i in asks {
                let to = BarrierState::ALL[i];
                let before = c.barriers[0].state;
                match change_state(&c, &cm(), &id, to, now()) {
                    Ok(ch) => {
                        prop_assert!(to > before);
                        prop_assert_eq!(ch.timeline.len(), 1);
                        prop_assert!(!ch.timeline[0].shared_with_school);
                        c = ch.case;
                        seen.push(to);
                    }
                    Err(e) => {
                        prop_assert!(to <= before);
                        let is_backwards = matches!(e, BarrierError::Backwards { .. });
                        prop_assert!(is_backwards);
                    }
                }
            }
            prop_assert!(seen.windows(2).all(|w| w[0] < w[1]));
        }
    }
}
