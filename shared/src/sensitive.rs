//! Sensitive parts of a case, kept apart from it: **safety notes** (what a visitor to the whānau
//! must know — shown as a warning to those who may see them) and **health information** (Health
//! Information Privacy Code: only provider staff on the case and the Ministry teams that need it).
//! They are stored as separate items with no index keys, so no list or timeline query can return
//! them; the case itself carries only whether safety notes exist. They never go into events,
//! emails or logs.

use crate::access::{permits, CaseAction};
use crate::actor::Actor;
use crate::case::{By, Case, CaseChange};
use crate::ids::EntryId;
use chrono::{DateTime, Utc};

pub use crate::case::attached::{SensitiveKind, SensitiveNote};

/// What a reader or writer of each kind needs (the access policy's actions).
impl SensitiveKind {
    pub fn view_action(self) -> CaseAction {
        match self {
            SensitiveKind::SafetyNote => CaseAction::ViewSafetyNotes,
            SensitiveKind::Health => CaseAction::ViewHealth,
        }
    }
    pub fn add_action(self) -> CaseAction {
        match self {
            SensitiveKind::SafetyNote => CaseAction::AddSafetyNote,
            SensitiveKind::Health => CaseAction::AddHealth,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SensitiveError {
    #[error("no such case")]
    NotVisible,
    #[error("Your role cannot add this kind of information to the case.")]
    NotPermitted,
    #[error("The note must be 1 to 4000 characters.")]
    Invalid,
}

/// Add a safety note or health information: the note, and the case change that records it
/// (version bump; `has_safety_notes` for the warning).
pub fn add_note(
    case: &Case,
    actor: &Actor,
    kind: SensitiveKind,
    text: &str,
    now: DateTime<Utc>,
) -> Result<(CaseChange, SensitiveNote), SensitiveError> {
    if !permits(actor, case, CaseAction::View) {
        return Err(SensitiveError::NotVisible);
    }
    if !permits(actor, case, kind.add_action()) {
        return Err(SensitiveError::NotPermitted);
    }
    let text = text.trim();
    if !crate::text::has_visible(text) || text.chars().count() > 4000 || text.chars().any(|c| c.is_control() && !"\n\r\t".contains(c)) {
        return Err(SensitiveError::Invalid);
    }
    let note = SensitiveNote { id: EntryId::new_ulid(), kind, text: text.to_string(), at: now, by: By::actor(actor) };
    let mut next = case.bumped(now);
    if kind == SensitiveKind::SafetyNote {
        next.has_safety_notes = true;
    }
    let change = CaseChange::of(case, next, Vec::new(), Vec::new()).attach(crate::case::Attached::Note(note.clone()));
    Ok((change, note))
}

/// Which kinds this caller may read on this case.
pub fn readable_kinds(actor: &Actor, case: &Case) -> Vec<SensitiveKind> {
    [SensitiveKind::SafetyNote, SensitiveKind::Health].into_iter().filter(|k| permits(actor, case, k.view_action())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actor::{Org, Role, Side};
    use crate::ids::{ProviderId, RegionId, SchoolId, UserId};

    fn actor(role: Role, org: &str, user: &str) -> Actor {
        let org = match role.side() {
            Side::School => Org::School(SchoolId::parse(org).unwrap()),
            Side::Provider => Org::Provider(ProviderId::parse(org).unwrap()),
            Side::Ministry => Org::Ministry(Some(RegionId::parse(org).unwrap())),
        };
        Actor::new(UserId::parse(user).unwrap(), role, org).unwrap()
    }

    #[test]
    fn who_reads_and_adds_what() {
        let mut case = crate::activity::tests::case();
        case.region_id = Some(RegionId::parse("r1").unwrap());
        let now = case.updated_at;
        let cm = actor(Role::CaseManager, "P01", "cm");
        let lead = actor(Role::AttendanceLead, "1001", "lead");
        let national = actor(Role::National, "r1", "nat");
        let cit = actor(Role::Cit, "r1", "cit");
        let other_cm = actor(Role::CaseManager, "P08", "cm8");
        assert_eq!(readable_kinds(&cm, &case), vec![SensitiveKind::SafetyNote, SensitiveKind::Health]);
        assert_eq!(readable_kinds(&lead, &case), vec![SensitiveKind::SafetyNote]);
        assert_eq!(readable_kinds(&national, &case), Vec::<SensitiveKind>::new());
        assert_eq!(readable_kinds(&cit, &case), vec![SensitiveKind::SafetyNote, SensitiveKind::Health]);
        assert!(readable_kinds(&other_cm, &case).is_empty());
        let (change, note) = add_note(&case, &lead, SensitiveKind::SafetyNote, "Dog on the property", now).unwrap();
        assert!(change.case.has_safety_notes);
        assert!(change.events.is_empty() && change.timeline.is_empty(), "nothing sensitive leaves through events or the timeline");
        assert_eq!(note.kind, SensitiveKind::SafetyNote);
        assert_eq!(add_note(&case, &lead, SensitiveKind::Health, "x", now).unwrap_err(), SensitiveError::NotPermitted);
        assert_eq!(add_note(&case, &other_cm, SensitiveKind::Health, "x", now).unwrap_err(), SensitiveError::NotVisible);
        assert_eq!(add_note(&case, &cm, SensitiveKind::Health, "  ", now).unwrap_err(), SensitiveError::Invalid);
        assert!(add_note(&case, &cm, SensitiveKind::Health, "Asthma; inhaler at school", now).is_ok());
    }
}
