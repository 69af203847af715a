//! Bulk reassignment (issue 15, item 7): when a Case Manager leaves or is away, a provider admin
//! moves all or some of their open cases to another Case Manager in one request, with a reason.
//!
//! - [`plan`] checks the request as a whole: the caller is an admin of the provider; the new Case
//!   Manager is one of its Case Managers and not the one the cases leave; a reason is given.
//! - [`reassign`] is one case's change: still the provider's, still open, still with the Case
//!   Manager it is taken from (a case someone reassigned meanwhile is left alone). Its timeline
//!   entry is the assignment's, shared with the school as any assignment is, with the reason; each
//!   case is audited in its own chain.
//! - The first case the request moves carries one `CasesReassigned` event, so the new Case Manager
//!   gets one summary email for the request, not one per case.

use crate::access::{permits, CaseAction};
use crate::actor::{Actor, Role};
use crate::case::{By, Case, CaseChange, CaseStatus, TimelineEntry, TimelineKind};
use crate::events::{DomainEvent, EventEnvelope};
use crate::ids::{EntryId, ProviderId, UserId};
use crate::referral::UserRecord;
use crate::text::{note, NoteProblem};
use chrono::{DateTime, Utc};

/// The most cases one request moves (each is its own transaction; the rest are left for the next
/// request, which the answer says).
pub const MAX_CASES: usize = 200;
/// The longest reason kept.
pub const MAX_REASON: usize = 300;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReassignError {
    #[error("Only the provider's admins reassign its cases in bulk.")]
    NotPermitted,
    #[error("Choose one of the provider's Case Managers to take the cases.")]
    NotACaseManagerHere,
    #[error("The cases would stay with the same Case Manager: choose another one.")]
    SameCaseManager,
    #[error("Say why the cases are moving (for example, the Case Manager has left or is on leave).")]
    ReasonRequired,
    #[error("The reason is too long: at most {MAX_REASON} characters.")]
    ReasonTooLong,
    #[error("The reason must not contain control characters.")]
    ControlCharacters,
    /// One case the request named cannot move (the answer lists it with this reason).
    #[error("This case is closed.")]
    Closed,
    #[error("This case is not with that Case Manager any more.")]
    NotTheirs,
    #[error("This case is not your provider's.")]
    NotThisProvider,
}

/// A checked request: who takes the cases, from whom, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reassignment {
    pub id: EntryId,
    pub provider_id: ProviderId,
    pub from: UserId,
    pub to: UserRecord,
    pub reason: String,
}

/// May the caller reassign the provider's cases at all (one of its admins)?
pub fn may_reassign(actor: &Actor, provider: &ProviderId) -> bool {
    actor.role() == Role::ProviderAdmin && actor.provider() == Some(provider)
}

/// Check a request: the caller is an admin of `provider`; `to` is one of its Case Managers (and
/// not `from`); a reason is given.
pub fn plan(
    actor: &Actor,
    provider: &ProviderId,
    from: UserId,
    to: UserRecord,
    reason: Option<&str>,
) -> Result<Reassignment, ReassignError> {
    if !may_reassign(actor, provider) {
        return Err(ReassignError::NotPermitted);
    }
    if to.role != Role::CaseManager || to.org_id != provider.as_str() {
        return Err(ReassignError::NotACaseManagerHere);
    }
    if to.id == from {
        return Err(ReassignError::SameCaseManager);
    }
    let reason = note(reason, MAX_REASON)
        .map_err(|e| match e {
            NoteProblem::TooLong => ReassignError::ReasonTooLong,
            NoteProblem::ControlCharacters => ReassignError::ControlCharacters,
        })?
        .ok_or(ReassignError::ReasonRequired)?;
    Ok(Reassignment { id: EntryId::new_ulid(), provider_id: provider.clone(), from, to, reason })
}

/// Does this case move with the request (an open case of the provider with the Case Manager it
/// is taken from)?
pub fn moves(case: &Case, r: &Reassignment) -> Result<(), ReassignError> {
    if case.provider_id.as_ref() != Some(&r.provider_id) {
        return Err(ReassignError::NotThisProvider);
    }
    if case.status == CaseStatus::Closed {
        return Err(ReassignError::Closed);
    }
    if case.case_manager.as_ref() != Some(&r.from) {
        return Err(ReassignError::NotTheirs);
    }
    Ok(())
}

/// One case's change. `summary`: the number of cases the request moves, when this is the change
/// that carries the request's one `CasesReassigned` event.
pub fn reassign(
    case: &Case,
    actor: &Actor,
    r: &Reassignment,
    summary: Option<u32>,
    now: DateTime<Utc>,
) -> Result<CaseChange, ReassignError> {
    if !permits(actor, case, CaseAction::ChangeStatus) || actor.role() != Role::ProviderAdmin {
        return Err(ReassignError::NotPermitted);
    }
    moves(case, r)?;
    let entry = TimelineEntry::new(
        &case.id,
        now,
        By::actor(actor),
        true,
        TimelineKind::CaseManagerAssigned {
            case_manager: r.to.id.clone(),
            previous: case.case_manager.clone(),
            reason: Some(r.reason.clone()),
        },
    );
    let mut next = case.bumped(now);
    next.case_manager = Some(r.to.id.clone());
    let events = summary
        .map(|cases| {
            vec![EventEnvelope::new(
                now,
                DomainEvent::CasesReassigned {
                    case_id: case.id.clone(),
                    provider_id: r.provider_id.clone(),
                    reassignment_id: r.id.clone(),
                    case_manager: r.to.id.clone(),
                    cases,
                },
            )]
        })
        .unwrap_or_default();
    Ok(CaseChange::of(case, next, vec![entry], events))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{actor, case, now};
    use proptest::prelude::*;

    fn admin() -> Actor {
        actor(Role::ProviderAdmin, "P01", "admin-p01")
    }
    fn p01() -> ProviderId {
        ProviderId::parse("P01").unwrap()
    }
    fn user(id: &str, role: Role, org: &str) -> UserRecord {
        UserRecord { id: UserId::parse(id).unwrap(), role, org_id: org.into(), email: format!("{id}@p.nz"), display_name: id.into() }
    }
    fn request() -> Reassignment {
        plan(&admin(), &p01(), UserId::parse("cm").unwrap(), user("cm-2", Role::CaseManager, "P01"), Some("  On leave until March  "))
            .unwrap()
    }

    #[test]
    fn only_the_providers_admin_plans_and_only_to_one_of_its_case_managers() {
        let from = || UserId::parse("cm").unwrap();
        let to = || user("cm-2", Role::CaseManager, "P01");
        for who in
            [actor(Role::CaseManager, "P01", "cm"), actor(Role::ProviderAdmin, "P02", "admin-p02"), actor(Role::Cit, "ministry", "cit")]
        {
            assert_eq!(plan(&who, &p01(), from(), to(), Some("x")), Err(ReassignError::NotPermitted), "{who:?}");
        }
        assert_eq!(
            plan(&admin(), &p01(), from(), user("cm-9", Role::CaseManager, "P02"), Some("x")),
            Err(ReassignError::NotACaseManagerHere)
        );
        assert_eq!(
            plan(&admin(), &p01(), from(), user("adm", Role::ProviderAdmin, "P01"), Some("x")),
            Err(ReassignError::NotACaseManagerHere)
        );
        assert_eq!(plan(&admin(), &p01(), UserId::parse("cm-2").unwrap(), to(), Some("x")), Err(ReassignError::SameCaseManager));
        assert_eq!(plan(&admin(), &p01(), from(), to(), Some(" \u{200b} ")), Err(ReassignError::ReasonRequired));
        assert_eq!(plan(&admin(), &p01(), from(), to(), Some(&"x".repeat(MAX_REASON + 1))), Err(ReassignError::ReasonTooLong));
        assert_eq!(request().reason, "On leave until March");
    }

    #[test]
    fn a_case_moves_to_the_new_case_manager_shared_with_the_school_with_the_reason() {
        let ch = reassign(&case(), &admin(), &request(), None, now()).unwrap();
        assert_eq!(ch.case.case_manager, Some(UserId::parse("cm-2").unwrap()));
        assert_eq!(ch.case.status, CaseStatus::Open, "the status does not change");
        assert!(ch.timeline[0].shared_with_school);
        match &ch.timeline[0].kind {
            TimelineKind::CaseManagerAssigned { case_manager, previous, reason } => {
                assert_eq!(
                    (case_manager.as_str(), previous.as_ref().map(|p| p.as_str()), reason.as_deref()),
                    ("cm-2", Some("cm"), Some("On leave until March"))
                );
            }
            k => panic!("{k:?}"),
        }
        // only the change that carries the summary has an email's event; each says the case
        // changed (the dashboards count caseloads), with ids only
        let types: Vec<&str> = ch.events.iter().map(|e| e.detail_type()).collect();
        assert_eq!(types, vec!["CaseUpdated"]);
        assert_eq!(crate::notification::notice_for(&ch.events[0].event), None, "no email for it");
        let first = reassign(&case(), &admin(), &request(), Some(12), now()).unwrap();
        match &first.events[..] {
            [e] => {
                assert!(matches!(&e.event, DomainEvent::CasesReassigned { cases: 12, case_manager, .. } if case_manager.as_str() == "cm-2"))
            }
            es => panic!("{es:?}"),
        }
    }

    #[test]
    fn a_case_that_is_closed_or_with_someone_else_stays_where_it_is() {
        let closed = Case { status: CaseStatus::Closed, ..case() };
        assert_eq!(reassign(&closed, &admin(), &request(), None, now()), Err(ReassignError::Closed));
        let elsewhere = Case { case_manager: Some(UserId::parse("cm-3").unwrap()), ..case() };
        assert_eq!(reassign(&elsewhere, &admin(), &request(), None, now()), Err(ReassignError::NotTheirs));
        let other = Case { provider_id: Some(ProviderId::parse("P02").unwrap()), ..case() };
        assert_eq!(reassign(&other, &admin(), &request(), None, now()), Err(ReassignError::NotPermitted), "no relation to it at all");
    }

    proptest! {
        /// Whatever cases a request meets, each moves exactly when it is an open case of the
        /// provider with the Case Manager it is taken from, and then ends with the new one.
        #[test]
        fn a_case_moves_exactly_when_it_is_open_and_with_the_case_manager_it_leaves(
            manager in 0usize..3, closed in any::<bool>(), ours in any::<bool>(),
        ) {
            let managers = ["cm", "cm-2", "cm-3"];
            let c = Case {
                case_manager: Some(UserId::parse(managers[manager]).unwrap()),
                status: if closed { CaseStatus::Closed } else { CaseStatus::Open },
                provider_id: Some(ProviderId::parse(if ours { "P01" } else { "P02" }).unwrap()),
                ..case()
            };
            let r = request();
            let got = reassign(&c, &admin(), &r, None, now());
            prop_assert_eq!(got.is_ok(), ours && !closed && manager == 0);
            if let Ok(ch) = got {
                prop_assert_eq!(ch.case.case_manager, Some(r.to.id.clone()));
                prop_assert_eq!(ch.case.version, c.version + 1);
            }
        }
    }
}
