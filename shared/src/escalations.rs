//! Consultation before major steps, and escalations (issue 15).
//!
//! The guide: the provider "will check in with you at key points, for example, before moving the
//! case into Transition status and before taking major steps such as escalating non-engagement,
//! considering prosecution, or raising the case at a multi-agency forum". So the case's provider
//! staff record each consultation with the school ([`consult`]), and a provider's step — moving to
//! Transition ([`crate::lifecycle`]) or any escalation below — needs one, held on or before the
//! step, that no earlier step has used.
//!
//! The escalations ([`escalate`]):
//! - a *formal communication* to the caregivers (the provider), with its date and method;
//! - a *prosecution referral*: "Both the school and the provider can refer a case to the
//!   Ministry's prosecution team"; the provider's only after at least one formal communication and
//!   after telling the school (the consultation) and the regional office (its date recorded). One
//!   referral at a time: another only once the team has declined the last. The Prosecutions team
//!   then sees the case, and records its decision and the outcome ([`record_outcome`]);
//! - a *section 19 referral* to Oranga Tamariki (the school or the provider), with its outcome;
//! - a *multi-agency forum* referral (the provider), marked when the case's catchment is one of
//!   the 2026 pilots, with its outcome.
//!
//! Each is a timeline entry shared with the school; what came of it, in words, stays with the
//! provider and the Ministry. No event carries any of it.

use crate::access::{permits, CaseAction};
use crate::actor::{Actor, Side};
use crate::case::{By, Case, CaseChange, TimelineEntry, TimelineKind};
use crate::ids::EntryId;
use crate::text::{note, NoteProblem};
use chrono::{DateTime, NaiveDate, Utc};

pub use crate::case::escalation::{CommMethod, Consultation, Escalation, EscalationKind, ProsecutionDecision, Step};

/// The longest note or outcome kept.
pub const MAX_NOTE: usize = 2000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EscalationError {
    #[error("Only the case's provider staff (its Case Manager and provider administrators) record consultations with the school.")]
    ConsultNotPermitted,
    #[error("You cannot take this step on this case: escalations are for the case's provider staff and the school's Attendance Lead or Primary Contact.")]
    NotPermitted,
    #[error("Only the case's provider can {0}.")]
    ProviderOnly(&'static str),
    #[error("Only the Ministry's Prosecutions team records its decision on a prosecution referral.")]
    ProsecutionsOnly,
    #[error("Only the side that made this referral ({0}) records its outcome.")]
    OtherSide(&'static str),
    #[error("This case is closed: it can be read, but nothing more can be added to it.")]
    Closed,
    #[error("The date cannot be in the future.")]
    FutureDate,
    #[error("Record a consultation with the school about this step ({0}) first: the guide asks the provider to check in with the school before it.")]
    ConsultFirst(&'static str),
    #[error("A prosecution referral by the provider needs at least one formal communication to the caregivers recorded first.")]
    FormalCommunicationFirst,
    #[error("Give the date the regional office was told: the provider tells the school and the regional office before referring a case for prosecution.")]
    RegionalOfficeRequired,
    #[error("The regional office must have been told on or before the referral.")]
    RegionalOfficeAfter,
    #[error("Give how the formal communication was sent.")]
    MethodRequired,
    #[error("A method is recorded for formal communications only.")]
    MethodNotApplicable,
    #[error("The regional office date is recorded for a provider's prosecution referral only.")]
    RegionalOfficeNotApplicable,
    #[error("This case is already referred for prosecution and the referral has not been declined.")]
    AlreadyReferred,
    #[error("This case has no escalation with that id.")]
    Unknown,
    #[error("Record the Prosecutions team's decision (accepted or declined) first.")]
    DecisionRequired,
    #[error("The decision on this referral is already recorded as {0}.")]
    AlreadyDecided(&'static str),
    #[error("A decision is recorded for prosecution referrals only.")]
    DecisionNotApplicable,
    #[error("Describe the outcome.")]
    OutcomeRequired,
    #[error("The {0} is too long: at most 2000 characters.")]
    TooLong(&'static str),
    #[error("The {0} must not contain control characters.")]
    ControlCharacters(&'static str),
}

fn text(field: &'static str, s: Option<&str>) -> Result<Option<String>, EscalationError> {
    note(s, MAX_NOTE).map_err(|e| match e {
        NoteProblem::TooLong => EscalationError::TooLong(field),
        NoteProblem::ControlCharacters => EscalationError::ControlCharacters(field),
    })
}

/// The case's provider staff record a consultation with the school about a step. Shared with the
/// school: it was there.
pub fn consult(
    case: &Case,
    actor: &Actor,
    about: Step,
    held_on: NaiveDate,
    notes: Option<&str>,
    now: DateTime<Utc>,
    today: NaiveDate,
) -> Result<CaseChange, EscalationError> {
    if !permits(actor, case, CaseAction::RecordActivity) {
        return Err(EscalationError::ConsultNotPermitted);
    }
    case.still_open(EscalationError::Closed)?;
    if held_on > today {
        return Err(EscalationError::FutureDate);
    }
    let c =
        Consultation { id: EntryId::new_ulid(), about, held_on, notes: text("notes", notes)?, by: By::actor(actor), at: now, used: false };
    let entry = TimelineEntry::new(
        &case.id,
        now,
        By::actor(actor),
        true,
        TimelineKind::Consulted { consultation_id: c.id.clone(), about, held_on },
    );
    let mut next = case.bumped(now);
    next.consultations.push(c);
    Ok(CaseChange::of(case, next, vec![entry], Vec::new()))
}

/// The consultation a provider's step on `on` uses: the earliest unused one about `step` held on
/// or before that day.
pub fn consultation_for(case: &Case, step: Step, on: NaiveDate) -> Option<&Consultation> {
    case.consultations.iter().filter(|c| c.about == step && !c.used && c.held_on <= on).min_by_key(|c| (c.held_on, c.at))
}

/// Use up the consultation a provider's step needs (on the case `next`), or say it is missing.
pub fn use_consultation(next: &mut Case, step: Step, on: NaiveDate) -> Result<(), EscalationError> {
    let id = consultation_for(next, step, on).map(|c| c.id.clone()).ok_or(EscalationError::ConsultFirst(step.as_str()))?;
    if let Some(c) = next.consultations.iter_mut().find(|c| c.id == id) {
        c.used = true;
    }
    Ok(())
}

/// An escalation as asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EscalationInput {
    pub kind: EscalationKind,
    pub on: NaiveDate,
    pub method: Option<CommMethod>,
    pub regional_office_told_on: Option<NaiveDate>,
    pub notes: Option<String>,
}

fn side_name(side: Side) -> &'static str {
    match side {
        Side::School => "the school",
        Side::Provider => "the provider",
        Side::Ministry => "the Ministry",
    }
}

fn by_side(by: &By) -> Option<Side> {
    match by {
        By::User { role, .. } => Some(role.side()),
        By::System { .. } => None,
    }
}

/// An escalation on the case. `forum_pilot`: whether the case's catchment is one of the 2026
/// multi-agency forum pilots (the caller reads it from the catchment).
pub fn escalate(
    case: &Case,
    actor: &Actor,
    input: &EscalationInput,
    forum_pilot: bool,
    now: DateTime<Utc>,
    today: NaiveDate,
) -> Result<CaseChange, EscalationError> {
    if !permits(actor, case, CaseAction::Escalate) {
        return Err(EscalationError::NotPermitted);
    }
    case.still_open(EscalationError::Closed)?;
    let kind = input.kind;
    let provider = actor.role().side() == Side::Provider;
    if !provider && !matches!(kind, EscalationKind::ProsecutionReferral | EscalationKind::Section19) {
        return Err(EscalationError::ProviderOnly(match kind {
            EscalationKind::FormalCommunication => "send a formal communication to the caregivers",
            _ => "refer a case to a multi-agency forum",
        }));
    }
    if input.on > today {
        return Err(EscalationError::FutureDate);
    }
    match (kind, input.method) {
        (EscalationKind::FormalCommunication, None) => return Err(EscalationError::MethodRequired),
        (EscalationKind::FormalCommunication, Some(_)) | (_, None) => {}
        (_, Some(_)) => return Err(EscalationError::MethodNotApplicable),
    }
    let prosecution = kind == EscalationKind::ProsecutionReferral;
    if prosecution
        && case
            .escalations
            .iter()
            .any(|e| e.kind == EscalationKind::ProsecutionReferral && e.decision != Some(ProsecutionDecision::Declined))
    {
        return Err(EscalationError::AlreadyReferred);
    }
    match (provider && prosecution, input.regional_office_told_on) {
        (true, None) => return Err(EscalationError::RegionalOfficeRequired),
        (true, Some(told)) if told > input.on => return Err(EscalationError::RegionalOfficeAfter),
        (false, Some(_)) => return Err(EscalationError::RegionalOfficeNotApplicable),
        _ => {}
    }
    if provider && prosecution && !case.escalations.iter().any(|e| e.kind == EscalationKind::FormalCommunication && e.on <= input.on) {
        return Err(EscalationError::FormalCommunicationFirst);
    }
    let notes = text("notes", input.notes.as_deref())?;
    let mut next = case.bumped(now);
    if provider {
        use_consultation(&mut next, kind.step(), input.on)?;
    }
    let e = Escalation {
        id: EntryId::new_ulid(),
        kind,
        on: input.on,
        method: input.method,
        regional_office_told_on: input.regional_office_told_on,
        forum_pilot: kind == EscalationKind::MultiAgencyForum && forum_pilot,
        notes,
        by: By::actor(actor),
        at: now,
        decision: None,
        outcome: None,
        outcome_by: None,
        outcome_at: None,
    };
    let entry = TimelineEntry::new(
        &case.id,
        now,
        By::actor(actor),
        true,
        TimelineKind::Escalated { escalation_id: e.id.clone(), escalation: kind, on: input.on },
    );
    next.escalations.push(e);
    Ok(CaseChange::of(case, next, vec![entry], Vec::new()))
}

/// Record what came of an escalation: the Prosecutions team's decision (once) and outcome on a
/// prosecution referral; otherwise the outcome, by the side that made it.
pub fn record_outcome(
    case: &Case,
    actor: &Actor,
    id: &EntryId,
    decision: Option<ProsecutionDecision>,
    outcome: Option<&str>,
    now: DateTime<Utc>,
) -> Result<CaseChange, EscalationError> {
    let current = case.escalations.iter().find(|e| &e.id == id).ok_or(EscalationError::Unknown)?;
    if current.kind == EscalationKind::ProsecutionReferral {
        if !permits(actor, case, CaseAction::DecideProsecution) {
            return Err(EscalationError::ProsecutionsOnly);
        }
        match (current.decision, decision) {
            (None, None) => return Err(EscalationError::DecisionRequired),
            (Some(was), Some(asked)) if was != asked => return Err(EscalationError::AlreadyDecided(was.as_str())),
            _ => {}
        }
    } else {
        if !permits(actor, case, CaseAction::Escalate) {
            return Err(EscalationError::NotPermitted);
        }
        if decision.is_some() {
            return Err(EscalationError::DecisionNotApplicable);
        }
        let made_by = by_side(&current.by);
        if made_by.is_some_and(|s| s != actor.role().side()) {
            return Err(EscalationError::OtherSide(made_by.map(side_name).unwrap_or("")));
        }
    }
    case.still_open(EscalationError::Closed)?;
    let outcome = text("outcome", outcome)?;
    if outcome.is_none() && decision.is_none() {
        return Err(EscalationError::OutcomeRequired);
    }
    let mut next = case.bumped(now);
    let Some(e) = next.escalations.iter_mut().find(|e| &e.id == id) else {
        return Err(EscalationError::Unknown);
    };
    e.decision = e.decision.or(decision);
    if outcome.is_some() {
        e.outcome = outcome;
        e.outcome_by = Some(By::actor(actor));
        e.outcome_at = Some(now);
    }
    let entry = TimelineEntry::new(
        &case.id,
        now,
        By::actor(actor),
        true,
        TimelineKind::EscalationOutcome { escalation_id: id.clone(), escalation: e.kind, decision: e.decision },
    );
    Ok(CaseChange::of(case, next, vec![entry], Vec::new()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actor::Role;
    use crate::fixtures::{actor, case, cm, now};
    use proptest::prelude::*;

    fn today() -> NaiveDate {
        d(24)
    }
    fn d(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, day).unwrap()
    }
    fn lead() -> Actor {
        actor(Role::AttendanceLead, "1001", "lead")
    }
    fn prosecutions() -> Actor {
        actor(Role::Prosecutions, "ministry", "pros")
    }
    fn ask(kind: EscalationKind, on: NaiveDate) -> EscalationInput {
        let method = (kind == EscalationKind::FormalCommunication).then_some(CommMethod::Letter);
        EscalationInput { kind, on, method, regional_office_told_on: None, notes: None }
    }
    fn consulted(c: &Case, about: Step, on: NaiveDate) -> Case {
        consult(c, &cm(), about, on, Some("Talked it through with the Attendance Lead"), now(), today()).unwrap().case
    }
    fn referral(on: NaiveDate) -> EscalationInput {
        EscalationInput { regional_office_told_on: Some(on), ..ask(EscalationKind::ProsecutionReferral, on) }
    }
    /// A case on which the provider has sent a formal communication on the 10th.
    fn after_letter() -> Case {
        let c = consulted(&case(), Step::FormalCommunication, d(9));
        escalate(&c, &cm(), &ask(EscalationKind::FormalCommunication, d(10)), false, now(), today()).unwrap().case
    }

    #[test]
    fn a_consultation_is_the_providers_to_record_and_shared_with_the_school() {
        let c = case();
        let ch = consult(&c, &cm(), Step::Transition, d(20), Some(" agreed "), now(), today()).unwrap();
        assert_eq!(ch.case.consultations.len(), 1);
        assert_eq!(ch.case.consultations[0].notes.as_deref(), Some("agreed"));
        assert!(ch.timeline[0].shared_with_school);
        assert!(ch.events.is_empty());
        assert_eq!(consult(&c, &lead(), Step::Transition, d(20), None, now(), today()), Err(EscalationError::ConsultNotPermitted));
        assert_eq!(consult(&c, &cm(), Step::Transition, d(25), None, now(), today()), Err(EscalationError::FutureDate));
    }

    #[test]
    fn the_provider_consults_the_school_before_each_escalation_and_each_consultation_serves_one_step() {
        let c = case();
        let forum = ask(EscalationKind::MultiAgencyForum, d(12));
        assert_eq!(escalate(&c, &cm(), &forum, true, now(), today()), Err(EscalationError::ConsultFirst("multi_agency_forum")));
        // a consultation about another step, or held after the step, does not count
        let other = consulted(&c, Step::Section19, d(11));
        assert!(escalate(&other, &cm(), &forum, true, now(), today()).is_err());
        let late = consulted(&c, Step::MultiAgencyForum, d(13));
        assert!(escalate(&late, &cm(), &forum, true, now(), today()).is_err());
        let ok = consulted(&c, Step::MultiAgencyForum, d(12));
        let ch = escalate(&ok, &cm(), &forum, true, now(), today()).unwrap();
        assert!(ch.case.consultations[0].used);
        assert!(ch.case.escalations[0].forum_pilot, "a pilot catchment's forum referral is marked");
        assert!(ch.timeline[0].shared_with_school);
        // used up: a second forum referral needs another consultation
        assert_eq!(escalate(&ch.case, &cm(), &forum, true, now(), today()), Err(EscalationError::ConsultFirst("multi_agency_forum")));
    }

    #[test]
    fn the_school_refers_for_prosecution_or_section_19_without_a_consultation_but_takes_no_other_step() {
        let c = case();
        assert!(escalate(&c, &lead(), &ask(EscalationKind::Section19, d(10)), false, now(), today()).is_ok());
        assert!(escalate(&c, &lead(), &ask(EscalationKind::ProsecutionReferral, d(10)), false, now(), today()).is_ok());
        let pc = actor(Role::SchoolPrimaryContact, "1001", "pc");
        assert!(escalate(&c, &pc, &ask(EscalationKind::Section19, d(10)), false, now(), today()).is_ok());
        for kind in [EscalationKind::FormalCommunication, EscalationKind::MultiAgencyForum] {
            assert!(matches!(escalate(&c, &lead(), &ask(kind, d(10)), false, now(), today()), Err(EscalationError::ProviderOnly(_))));
        }
        for who in [actor(Role::OfficeSupport, "1001", "office"), actor(Role::CaseManager, "P02", "cm-p02"), prosecutions()] {
            assert_eq!(
                escalate(&c, &who, &ask(EscalationKind::Section19, d(10)), false, now(), today()),
                Err(EscalationError::NotPermitted)
            );
        }
    }

    #[test]
    fn a_formal_communication_has_a_method_and_only_it_does() {
        let c = consulted(&case(), Step::FormalCommunication, d(9));
        let no_method = EscalationInput { method: None, ..ask(EscalationKind::FormalCommunication, d(10)) };
        assert_eq!(escalate(&c, &cm(), &no_method, false, now(), today()), Err(EscalationError::MethodRequired));
        let stray = EscalationInput { method: Some(CommMethod::Email), ..ask(EscalationKind::Section19, d(10)) };
        assert_eq!(escalate(&case(), &lead(), &stray, false, now(), today()), Err(EscalationError::MethodNotApplicable));
        let future = ask(EscalationKind::FormalCommunication, d(25));
        assert_eq!(escalate(&c, &cm(), &future, false, now(), today()), Err(EscalationError::FutureDate));
    }

    #[test]
    fn the_providers_prosecution_referral_needs_a_letter_the_school_and_the_regional_office() {
        let c = consulted(&case(), Step::ProsecutionReferral, d(11));
        assert_eq!(escalate(&c, &cm(), &referral(d(12)), false, now(), today()), Err(EscalationError::FormalCommunicationFirst));
        let c = consulted(&after_letter(), Step::ProsecutionReferral, d(11));
        let untold = EscalationInput { regional_office_told_on: None, ..referral(d(12)) };
        assert_eq!(escalate(&c, &cm(), &untold, false, now(), today()), Err(EscalationError::RegionalOfficeRequired));
        let told_late = EscalationInput { regional_office_told_on: Some(d(13)), ..referral(d(12)) };
        assert_eq!(escalate(&c, &cm(), &told_late, false, now(), today()), Err(EscalationError::RegionalOfficeAfter));
        let ch = escalate(&c, &cm(), &referral(d(12)), false, now(), today()).unwrap();
        assert!(ch.case.referred_for_prosecution());
        // one at a time
        let again = consulted(&ch.case, Step::ProsecutionReferral, d(12));
        assert_eq!(escalate(&again, &cm(), &referral(d(12)), false, now(), today()), Err(EscalationError::AlreadyReferred));
        assert_eq!(
            escalate(&ch.case, &lead(), &ask(EscalationKind::ProsecutionReferral, d(12)), false, now(), today()),
            Err(EscalationError::AlreadyReferred)
        );
    }

    #[test]
    fn the_prosecutions_team_decides_once_and_records_the_outcome() {
        let c = escalate(&case(), &lead(), &ask(EscalationKind::ProsecutionReferral, d(10)), false, now(), today()).unwrap().case;
        let id = c.escalations[0].id.clone();
        assert_eq!(
            record_outcome(&c, &cm(), &id, Some(ProsecutionDecision::Accepted), None, now()),
            Err(EscalationError::ProsecutionsOnly)
        );
        assert_eq!(record_outcome(&c, &prosecutions(), &id, None, Some("Filed"), now()), Err(EscalationError::DecisionRequired));
        let ch = record_outcome(&c, &prosecutions(), &id, Some(ProsecutionDecision::Accepted), None, now()).unwrap();
        assert_eq!(ch.case.escalations[0].decision, Some(ProsecutionDecision::Accepted));
        assert_eq!(
            record_outcome(&ch.case, &prosecutions(), &id, Some(ProsecutionDecision::Declined), None, now()),
            Err(EscalationError::AlreadyDecided("accepted"))
        );
        let done = record_outcome(&ch.case, &prosecutions(), &id, None, Some("Heard in the District Court"), now()).unwrap();
        assert_eq!(done.case.escalations[0].outcome.as_deref(), Some("Heard in the District Court"));
        assert!(done.timeline[0].shared_with_school);
        let shown = serde_json::to_string(&done.timeline[0]).unwrap();
        assert!(!shown.contains("District Court"), "the entry carries the decision, not the words: {shown}");
        // a declined referral may be followed by another
        let declined = record_outcome(&c, &prosecutions(), &id, Some(ProsecutionDecision::Declined), None, now()).unwrap().case;
        assert!(escalate(&declined, &lead(), &ask(EscalationKind::ProsecutionReferral, d(20)), false, now(), today()).is_ok());
    }

    #[test]
    fn the_side_that_made_a_referral_records_its_outcome() {
        let c = escalate(&case(), &lead(), &ask(EscalationKind::Section19, d(10)), false, now(), today()).unwrap().case;
        let id = c.escalations[0].id.clone();
        assert_eq!(record_outcome(&c, &cm(), &id, None, Some("Assessed"), now()), Err(EscalationError::OtherSide("the school")));
        assert_eq!(
            record_outcome(&c, &lead(), &id, Some(ProsecutionDecision::Accepted), None, now()),
            Err(EscalationError::DecisionNotApplicable)
        );
        assert_eq!(record_outcome(&c, &lead(), &id, None, Some("  "), now()), Err(EscalationError::OutcomeRequired));
        let ch = record_outcome(&c, &lead(), &id, None, Some("Oranga Tamariki assessed the whānau"), now()).unwrap();
        assert_eq!(ch.case.escalations[0].outcome_by, Some(By::actor(&lead())));
        assert_eq!(record_outcome(&c, &lead(), &EntryId::parse("NOPE").unwrap(), None, Some("x"), now()), Err(EscalationError::Unknown));
    }

    #[test]
    fn nothing_is_escalated_on_a_closed_case() {
        let mut c = consulted(&case(), Step::FormalCommunication, d(9));
        c.status = crate::case::CaseStatus::Closed;
        assert_eq!(
            escalate(&c, &cm(), &ask(EscalationKind::FormalCommunication, d(10)), false, now(), today()),
            Err(EscalationError::Closed)
        );
        assert_eq!(consult(&c, &cm(), Step::Transition, d(10), None, now(), today()), Err(EscalationError::Closed));
    }

    proptest! {
        /// Whatever the provider records, in any order, a prosecution referral it makes is always
        /// preceded by a formal communication and by a consultation it alone used.
        #[test]
        fn no_provider_prosecution_referral_without_a_formal_communication_and_a_consultation(
            steps in proptest::collection::vec((0usize..3, 0usize..4, 1u32..24), 1..14)
        ) {
            let mut c = case();
            for (what, kind, day) in steps {
                let kind = EscalationKind::ALL[kind];
                let next = match what {
                    0 => consult(&c, &cm(), kind.step(), d(day), None, now(), today()),
                    1 => escalate(&c, &cm(), &EscalationInput { regional_office_told_on: (kind == EscalationKind::ProsecutionReferral).then_some(d(day)), ..ask(kind, d(day)) }, false, now(), today()),
                    _ => match c.escalations.first() {
                        Some(e) if e.kind == EscalationKind::ProsecutionReferral => record_outcome(&c, &prosecutions(), &e.id.clone(), Some(ProsecutionDecision::Declined), None, now()),
                        _ => continue,
                    },
                };
                if let Ok(ch) = next { c = ch.case; }
            }
            for r in c.escalations.iter() {
                let letter_before = c.escalations.iter().any(|e| e.kind == EscalationKind::FormalCommunication && e.on <= r.on);
                prop_assert!(r.kind != EscalationKind::ProsecutionReferral || letter_before);
            }
            let used = c.consultations.iter().filter(|x| x.used).count();
            prop_assert_eq!(used, c.escalations.len(), "each provider escalation used exactly one consultation");
        }
    }
}
