//! The Ministry's Central Investigations Team (CIT): reviews NEN cases before a provider gets them,
//! allocates them to the catchment provider for the student's address (or another it chooses),
//! closes NEN cases that need no provider, and transfers any active case between providers.

use crate::actor::Actor;
use crate::case::{By, Case, CaseChange, CaseStatus, CaseType, Move, TimelineEntry, TimelineKind};
use crate::catchment::{locality_key, AllocationRoute, Provider};
use crate::events::{DomainEvent, EventEnvelope};
use crate::lifecycle::CloseReason;
use chrono::{DateTime, Utc};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CitError {
    #[error("Only the Central Investigations Team can do this.")]
    NotCit,
    #[error("Only a NEN case waiting for CIT review can be allocated or closed here; this case is {0}.")]
    NotInReview(&'static str),
    #[error("Only an active case with a provider can be transferred; this case is {0}.")]
    NotTransferable(&'static str),
    #[error("The case is already with that provider.")]
    SameProvider,
    #[error("A reason is required (1 to 500 characters).")]
    ReasonRequired,
}

fn require_cit(actor: &Actor, case: &Case) -> Result<(), CitError> {
    if crate::access::permits(actor, case, crate::access::CaseAction::CitDecide) {
        Ok(())
    } else {
        Err(CitError::NotCit)
    }
}

/// A reason typed by CIT: trimmed, 1..=500 characters, no control characters (new lines and tabs are fine).
pub fn reason(s: Option<&str>) -> Result<String, CitError> {
    match s.map(str::trim) {
        Some(r)
            if crate::text::has_visible(r)
                && r.chars().count() <= 500
                && !r.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) =>
        {
            Ok(r.to_string())
        }
        _ => Err(CitError::ReasonRequired),
    }
}

/// The place names to look up for the student's address, most specific first: the home address's
/// suburb and town, then the alternative address's.
pub fn locality_candidates(case: &Case) -> Vec<String> {
    let mut out = Vec::new();
    for a in [case.home_address.as_ref(), case.alternative_address.as_ref()].into_iter().flatten() {
        for name in [a.suburb.as_deref(), Some(a.town.as_str())].into_iter().flatten() {
            let k = locality_key(name);
            if !k.is_empty() && !out.contains(&k) {
                out.push(k);
            }
        }
    }
    out
}

/// CIT allocates a NEN case to a provider: Provider Queue of that provider.
pub fn allocate(case: &Case, actor: &Actor, provider: &Provider, now: DateTime<Utc>) -> Result<CaseChange, CitError> {
    require_cit(actor, case)?;
    if case.case_type != CaseType::Nen || case.status != CaseStatus::CitReview {
        return Err(CitError::NotInReview(case.status.words()));
    }
    let mut next = case.moved(Move::CitAllocate, now).map_err(|e| CitError::NotInReview(e.from.words()))?;
    next.provider_id = Some(provider.id.clone());
    next.catchment_id = Some(provider.catchment_id.clone());
    let timeline = vec![
        TimelineEntry::new(
            &case.id,
            now,
            By::actor(actor),
            true,
            TimelineKind::Allocated { provider_id: provider.id.clone(), route: AllocationRoute::Cit },
        ),
        TimelineEntry::new(
            &case.id,
            now,
            By::actor(actor),
            true,
            TimelineKind::StatusChanged { from: case.status, to: CaseStatus::ProviderQueue, reason: None },
        ),
    ];
    let events = vec![EventEnvelope::new(
        now,
        DomainEvent::CaseAllocated {
            case_id: case.id.clone(),
            case_type: case.case_type,
            provider_id: provider.id.clone(),
            catchment_id: provider.catchment_id.clone(),
            route: AllocationRoute::Cit,
        },
    )];
    Ok(CaseChange::of(case, next, timeline, events))
}

/// CIT closes a NEN case that does not need a provider.
pub fn close(case: &Case, actor: &Actor, why: &str, now: DateTime<Utc>) -> Result<CaseChange, CitError> {
    require_cit(actor, case)?;
    if case.case_type != CaseType::Nen || case.status != CaseStatus::CitReview {
        return Err(CitError::NotInReview(case.status.words()));
    }
    let why = reason(Some(why))?;
    let mut next = case.moved(Move::CitClose, now).map_err(|e| CitError::NotInReview(e.from.words()))?;
    next.closed_at = Some(now);
    next.close_reason = Some(CloseReason::ClosedByCit);
    let timeline = vec![TimelineEntry::new(
        &case.id,
        now,
        By::actor(actor),
        false,
        TimelineKind::StatusChanged { from: case.status, to: CaseStatus::Closed, reason: Some(why) },
    )];
    let events = vec![EventEnvelope::new(
        now,
        DomainEvent::CaseStatusChanged {
            case_id: case.id.clone(),
            case_type: case.case_type,
            school_id: case.school_id.clone(),
            provider_id: None,
            from: case.status,
            to: CaseStatus::Closed,
            reason: Some(CloseReason::ClosedByCit.as_str().into()),
        },
    )];
    Ok(CaseChange::of(case, next, timeline, events))
}

/// CIT moves an active case to another provider. The new provider's queue receives it (a Case
/// Manager there picks it up); the old provider loses access; the history moves with the case.
pub fn transfer(case: &Case, actor: &Actor, to: &Provider, why: &str, now: DateTime<Utc>) -> Result<CaseChange, CitError> {
    require_cit(actor, case)?;
    let active = matches!(case.status, CaseStatus::ProviderQueue | CaseStatus::Open | CaseStatus::Transition | CaseStatus::Paused);
    if !active || case.provider_id.is_none() {
        return Err(CitError::NotTransferable(case.status.words()));
    }
    if case.provider_id.as_ref() == Some(&to.id) {
        return Err(CitError::SameProvider);
    }
    let why = reason(Some(why))?;
    let mut next = case.moved(Move::CitTransfer, now).map_err(|e| CitError::NotTransferable(e.from.words()))?;
    next.provider_id = Some(to.id.clone());
    next.catchment_id = Some(to.catchment_id.clone());
    next.case_manager = None;
    next.pause = None;
    let mut timeline = vec![TimelineEntry::new(
        &case.id,
        now,
        By::actor(actor),
        false,
        TimelineKind::Transferred { from: case.provider_id.clone(), to: to.id.clone(), reason: why },
    )];
    let mut events = vec![EventEnvelope::new(
        now,
        DomainEvent::CaseTransferred {
            case_id: case.id.clone(),
            case_type: case.case_type,
            school_id: case.school_id.clone(),
            from_provider_id: case.provider_id.clone(),
            to_provider_id: to.id.clone(),
        },
    )];
    if case.status != CaseStatus::ProviderQueue {
        timeline.push(TimelineEntry::new(
            &case.id,
            now,
            By::actor(actor),
            true,
            TimelineKind::StatusChanged { from: case.status, to: CaseStatus::ProviderQueue, reason: Some("transferred".into()) },
        ));
        events.push(EventEnvelope::new(
            now,
            DomainEvent::CaseStatusChanged {
                case_id: case.id.clone(),
                case_type: case.case_type,
                school_id: case.school_id.clone(),
                provider_id: Some(to.id.clone()),
                from: case.status,
                to: CaseStatus::ProviderQueue,
                reason: Some("transferred".into()),
            },
        ));
    }
    Ok(CaseChange::of(case, next, timeline, events))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actor::{Org, Role};
    use crate::catchment::ProviderKind;
    use crate::enrol::{parse, Delivery, Notification};
    use crate::ids::{CaseId, CatchmentId, ProviderId, UserId};
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, 1, 0, 0).unwrap()
    }
    fn nen_case() -> Case {
        let d: Delivery = serde_json::from_value(crate::enrol::tests::nen_json()).unwrap();
        let n = match parse(&d, now(), chrono::NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()).unwrap() {
            Notification::NonEnrolment(n) => n,
            _ => unreachable!(),
        };
        Case::open_nen(CaseId::parse("C1").unwrap(), &n, &n.identity(&crate::enrol::tests::keys()), now()).case
    }
    fn provider(id: &str, c: &str) -> Provider {
        Provider {
            id: ProviderId::parse(id).unwrap(),
            name: id.into(),
            kind: ProviderKind::Catchment,
            catchment_id: CatchmentId::parse(c).unwrap(),
            queue_email: "q@p.nz".into(),
            contract_cents_per_year: None,
        }
    }
    fn actor(role: Role) -> Actor {
        let org = match role.side() {
            crate::actor::Side::Ministry => Org::Ministry(Some(crate::ids::RegionId::parse("r").unwrap())),
            crate::actor::Side::Provider => Org::Provider(ProviderId::parse("P01").unwrap()),
            crate::actor::Side::School => Org::School(crate::ids::SchoolId::parse("1001").unwrap()),
        };
        Actor::new(UserId::parse("u").unwrap(), role, org).unwrap()
    }

    #[test]
    fn only_cit_acts() {
        let c = nen_case();
        for role in Role::ALL {
            let r = allocate(&c, &actor(role), &provider("P01", "C01"), now());
            assert_eq!(r.is_ok(), role == Role::Cit, "{role:?}");
            let r = close(&c, &actor(role), "Family moved overseas", now());
            assert_eq!(r.is_ok(), role == Role::Cit, "{role:?}");
        }
    }

    #[test]
    fn allocate_close_and_transfer() {
        let c = nen_case();
        let cit = actor(Role::Cit);
        let a = allocate(&c, &cit, &provider("P01", "C01"), now()).unwrap();
        assert_eq!(a.case.status, CaseStatus::ProviderQueue);
        assert_eq!(a.case.provider_id.as_ref().unwrap().as_str(), "P01");
        assert_eq!(allocate(&a.case, &cit, &provider("P01", "C01"), now()), Err(CitError::NotInReview("in a provider queue")));
        assert_eq!(close(&c, &cit, "  ", now()), Err(CitError::ReasonRequired));
        let closed = close(&c, &cit, "Enrolled overseas", now()).unwrap();
        assert_eq!(closed.case.status, CaseStatus::Closed);
        assert!(closed.case.closed_at.is_some() && closed.case.close_reason.is_some());
        let mut open = a.case.clone();
        open.status = CaseStatus::Open;
        open.case_manager = Some(UserId::parse("cm").unwrap());
        let t = transfer(&open, &cit, &provider("P08", "C08"), "Family moved to Takapuna", now()).unwrap();
        assert_eq!(t.case.provider_id.as_ref().unwrap().as_str(), "P08");
        assert_eq!(t.case.status, CaseStatus::ProviderQueue);
        assert!(t.case.case_manager.is_none());
        assert_eq!(t.events[0].detail_type(), "CaseTransferred");
        assert!(!t.events[0].detail_json().to_string().contains("Takapuna"), "reasons stay out of events");
        assert_eq!(transfer(&t.case, &cit, &provider("P08", "C08"), "again", now()), Err(CitError::SameProvider));
        assert_eq!(transfer(&closed.case, &cit, &provider("P08", "C08"), "x", now()), Err(CitError::NotTransferable("closed")));
    }

    #[test]
    fn candidates_come_from_the_addresses() {
        let c = nen_case();
        assert_eq!(locality_candidates(&c), vec!["ahipara".to_string(), "kaitaia".to_string()]);
    }
}
