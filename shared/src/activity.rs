//! Collaboration on a case: comments, recorded activities (meetings, calls, visits) and who may
//! see which timeline entry.
//!
//! - Anyone who may see a case may comment on it. Whatever a school user adds is shared with the
//!   school (it is the school's own words); provider and Ministry staff choose, and their entries
//!   are private to the provider and Ministry unless they share them.
//! - Only the provider's own staff record activities. A school meeting stops the "meet the school
//!   within 5 working days" clock and a whānau meeting the "meet the student/whānau within 10
//!   business days" clock (see [`crate::sla`]): the case keeps the earliest date of each.
//! - School users see only entries shared with the school; provider and Ministry staff who may
//!   see the case see every entry.
//!
//! Each addition is one [`CaseChange`]: the case at its next version, one timeline entry and (for
//! comments) one `CommentAdded` event carrying ids, the author's side and the shared flag — never
//! the text.

use crate::access::{can_view_case, permits, CaseAction};
use crate::actor::{Actor, Side};
use crate::case::{By, Case, CaseChange, CaseStatus, TimelineEntry, TimelineKind};
use crate::events::{DomainEvent, EventEnvelope};
use crate::referral::FieldError;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// Longest comment or activity note, in characters.
pub const MAX_TEXT_CHARS: usize = 4000;
/// Most attendees one activity lists, and the longest attendee entry.
pub const MAX_ATTENDEES: usize = 30;
pub const MAX_ATTENDEE_CHARS: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActivityError {
    /// The caller may not see the case (answered as "not found").
    #[error("no such case")]
    NotVisible,
    #[error("{0}")]
    NotPermitted(&'static str),
    #[error("{0}")]
    Closed(&'static str),
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
}

/// What kind of activity a provider records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActivityType {
    SchoolMeeting,
    WhanauMeeting,
    PhoneCall,
    HomeVisit,
    Other,
}

impl ActivityType {
    pub const ALL: [ActivityType; 5] =
        [ActivityType::SchoolMeeting, ActivityType::WhanauMeeting, ActivityType::PhoneCall, ActivityType::HomeVisit, ActivityType::Other];
    pub fn as_str(self) -> &'static str {
        match self {
            ActivityType::SchoolMeeting => "school_meeting",
            ActivityType::WhanauMeeting => "whanau_meeting",
            ActivityType::PhoneCall => "phone_call",
            ActivityType::HomeVisit => "home_visit",
            ActivityType::Other => "other",
        }
    }
    pub fn parse(s: &str) -> Option<ActivityType> {
        ActivityType::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// An activity as a provider describes it (already parsed from the request).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityInput {
    pub kind: ActivityType,
    pub date: NaiveDate,
    pub attendees: Vec<String>,
    pub notes: Option<String>,
    pub shared: Option<bool>,
}

/// May this caller see this timeline entry of this case? (The access policy decides.)
pub fn can_see_entry(actor: &Actor, case: &Case, entry: &TimelineEntry) -> bool {
    crate::access::can_see_entry(actor, case, entry.shared_with_school, entry.at)
        // agency checks: CIT and the case's provider only
        && (!crate::agencies::is_check_entry(&entry.kind) || crate::access::permits(actor, case, crate::access::CaseAction::ViewAgencyChecks))
}

/// Whether an entry added by this caller is shared with the school: always for school users,
/// otherwise as they chose (not shared unless they say so).
pub fn shared_for(actor: &Actor, requested: Option<bool>) -> bool {
    match actor.role().side() {
        Side::School => true,
        Side::Provider | Side::Ministry => requested.unwrap_or(false),
    }
}

fn count_chars(s: &str) -> usize {
    s.chars().count()
}

/// Trimmed text of 1..=max characters, or the error for `field`.
fn check_text(field: &str, text: &str, max: usize, what: &str) -> Result<String, FieldError> {
    let t = text.trim();
    if !crate::text::has_visible(t) {
        // spaces, zero-width or other invisible characters only: nothing anyone could read
        return Err(FieldError { field: field.into(), message: format!("{what} cannot be empty") });
    }
    if count_chars(t) > max {
        return Err(FieldError { field: field.into(), message: format!("{what} must be at most {max} characters") });
    }
    if t.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        return Err(FieldError { field: field.into(), message: format!("{what} must not contain control characters") });
    }
    Ok(t.to_string())
}

fn ensure_open_to_additions(case: &Case) -> Result<(), ActivityError> {
    if case.status == CaseStatus::Closed {
        return Err(ActivityError::Closed("This case is closed: it can be read, but nothing more can be added to it."));
    }
    Ok(())
}

/// Add a comment. `shared` is the caller's choice (ignored for school users: always shared).
pub fn comment(case: &Case, actor: &Actor, text: &str, shared: Option<bool>, now: DateTime<Utc>) -> Result<CaseChange, ActivityError> {
    if !can_view_case(actor, case) {
        return Err(ActivityError::NotVisible);
    }
    if !permits(actor, case, CaseAction::Comment) {
        return Err(ActivityError::NotPermitted("Your role can read this case but not add comments to it."));
    }
    ensure_open_to_additions(case)?;
    let text = check_text("text", text, MAX_TEXT_CHARS, "The comment").map_err(|e| ActivityError::Invalid(vec![e]))?;
    let shared = shared_for(actor, shared);
    let side = actor.role().side();
    let entry = TimelineEntry::new(&case.id, now, By::actor(actor), shared, TimelineKind::Comment { text, author_side: side });
    let event = EventEnvelope::new(
        now,
        DomainEvent::CommentAdded {
            case_id: case.id.clone(),
            case_type: case.case_type,
            school_id: case.school_id.clone(),
            provider_id: case.provider_id.clone(),
            entry_id: entry.id.clone(),
            author_side: side,
            shared,
        },
    );
    Ok(CaseChange::of(case, case.bumped(now), vec![entry], vec![event]))
}

/// Record a meeting, call, visit or other activity (the case's provider staff only).
/// `today` is today's New Zealand date: an activity cannot be in the future, nor before the case
/// was referred.
pub fn record_activity(
    case: &Case,
    actor: &Actor,
    input: &ActivityInput,
    now: DateTime<Utc>,
    today: NaiveDate,
) -> Result<CaseChange, ActivityError> {
    if !can_view_case(actor, case) {
        return Err(ActivityError::NotVisible);
    }
    if !permits(actor, case, CaseAction::RecordActivity) {
        return Err(ActivityError::NotPermitted(
            "Only the provider's Case Managers and provider administrators can record meetings, calls and visits.",
        ));
    }
    ensure_open_to_additions(case)?;
    let mut errors = Vec::new();
    let referred_on = crate::nz_date(case.referred_at);
    if input.date > today {
        errors.push(FieldError { field: "date".into(), message: "cannot be in the future".into() });
    } else if input.date < referred_on {
        errors.push(FieldError {
            field: "date".into(),
            message: format!("cannot be before the case was referred ({})", referred_on.format("%Y-%m-%d")),
        });
    }
    if input.attendees.len() > MAX_ATTENDEES {
        errors.push(FieldError { field: "attendees".into(), message: format!("list at most {MAX_ATTENDEES} people") });
    }
    let mut attendees = Vec::new();
    for (i, a) in input.attendees.iter().enumerate().take(MAX_ATTENDEES) {
        match check_text(&format!("attendees[{i}]"), a, MAX_ATTENDEE_CHARS, "An attendee") {
            // attendees are people's names: one Unicode form, as PersonName keeps them
            Ok(a) => attendees.push(crate::text::nfc(&a)),
            Err(e) => errors.push(e),
        }
    }
    let notes = match input.notes.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(n) => match check_text("notes", n, MAX_TEXT_CHARS, "The notes") {
            Ok(n) => Some(n),
            Err(e) => {
                errors.push(e);
                None
            }
        },
    };
    if !errors.is_empty() {
        return Err(ActivityError::Invalid(errors));
    }
    let shared = shared_for(actor, input.shared);
    let mut next = case.bumped(now);
    let earliest = |current: Option<NaiveDate>| Some(current.map_or(input.date, |c| c.min(input.date)));
    match input.kind {
        ActivityType::SchoolMeeting => next.school_met_on = earliest(case.school_met_on),
        ActivityType::WhanauMeeting => next.whanau_met_on = earliest(case.whanau_met_on),
        ActivityType::PhoneCall | ActivityType::HomeVisit | ActivityType::Other => {}
    }
    let entry = TimelineEntry::new(
        &case.id,
        now,
        By::actor(actor),
        shared,
        TimelineKind::Activity { activity: input.kind.as_str().to_string(), date: input.date, attendees, notes },
    );
    // the activity's type and whether it is shared (a shared one is emailed to the School
    // Primary Contact, like a shared comment); never its notes or attendees
    let event = EventEnvelope::new(
        now,
        DomainEvent::ActivityRecorded {
            case_id: case.id.clone(),
            case_type: case.case_type,
            school_id: case.school_id.clone(),
            provider_id: case.provider_id.clone(),
            entry_id: entry.id.clone(),
            activity: input.kind.as_str().to_string(),
            author_side: actor.role().side(),
            shared,
        },
    );
    Ok(CaseChange::of(case, next, vec![entry], vec![event]))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::actor::{Org, Role};
    use crate::case::CaseStudent;
    use crate::ids::{CaseId, ProviderId, RegionId, SchoolId, UserId};
    use crate::student::PersonName;
    use chrono::TimeZone;
    use proptest::prelude::*;

    pub(crate) fn actor(role: Role, org: &str, user: &str) -> Actor {
        let org = match role.side() {
            Side::School => Org::School(SchoolId::parse(org).unwrap()),
            Side::Provider => Org::Provider(ProviderId::parse(org).unwrap()),
            Side::Ministry => Org::Ministry(Some(RegionId::parse("r1").unwrap())),
        };
        Actor::new(UserId::parse(user).unwrap(), role, org).unwrap()
    }

    pub(crate) fn referred() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 22, 0, 0).unwrap() // 3 March 2026 in New Zealand
    }

    pub(crate) fn case() -> Case {
        let name = PersonName::parse("Test Child").unwrap();
        let dob = NaiveDate::from_ymd_opt(2014, 5, 1).unwrap();
        Case {
            status: CaseStatus::Open,
            provider_id: Some(ProviderId::parse("P01").unwrap()),
            case_manager: Some(UserId::parse("cm").unwrap()),
            primary_contact: Some(UserId::parse("pc").unwrap()),
            version: 3,
            ..Case::bare(
                CaseId::parse("C1").unwrap(),
                SchoolId::parse("1001").unwrap(),
                CaseStudent { full_name: name, date_of_birth: dob, nsn: None, year_level: None },
                referred(),
            )
        }
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 10, 1, 0, 0).unwrap()
    }

    fn input(kind: ActivityType, date: NaiveDate) -> ActivityInput {
        ActivityInput { kind, date, attendees: vec!["School principal".into()], notes: Some("Agreed a plan".into()), shared: None }
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn school_comments_are_always_shared_and_others_choose() {
        let c = case();
        for (who, asked, want) in [
            (actor(Role::AttendanceLead, "1001", "lead"), Some(false), true),
            (actor(Role::SchoolPrimaryContact, "1001", "pc"), None, true),
            (actor(Role::CaseManager, "P01", "cm"), Some(true), true),
            (actor(Role::CaseManager, "P01", "cm"), Some(false), false),
            (actor(Role::ProviderAdmin, "P01", "adm"), None, false),
            (actor(Role::National, "ministry", "nat"), Some(true), true),
        ] {
            let ch = comment(&c, &who, "  Hello  ", asked, now()).unwrap();
            assert_eq!(ch.timeline.len(), 1);
            assert_eq!(ch.timeline[0].shared_with_school, want, "{:?}", who.role());
            assert_eq!(ch.case.version, 4);
            assert_eq!(ch.expected_version, Some(3));
            match &ch.events[0].event {
                DomainEvent::CommentAdded { shared, author_side, entry_id, .. } => {
                    assert_eq!(*shared, want);
                    assert_eq!(*author_side, who.role().side());
                    assert_eq!(entry_id, &ch.timeline[0].id);
                }
                other => panic!("unexpected {other:?}"),
            }
            match &ch.timeline[0].kind {
                TimelineKind::Comment { text, .. } => assert_eq!(text, "Hello"),
                other => panic!("unexpected {other:?}"),
            }
            // the event never carries the text
            assert!(!ch.events[0].detail_json().to_string().contains("Hello"));
        }
    }

    #[test]
    fn comment_needs_a_visible_case_and_sensible_text() {
        let c = case();
        let other_school = actor(Role::AttendanceLead, "1085", "lead2");
        assert_eq!(comment(&c, &other_school, "hi", None, now()), Err(ActivityError::NotVisible));
        let other_provider = actor(Role::CaseManager, "P08", "cm8");
        assert_eq!(comment(&c, &other_provider, "hi", None, now()), Err(ActivityError::NotVisible));
        let lead = actor(Role::AttendanceLead, "1001", "lead");
        assert!(matches!(comment(&c, &lead, "   ", None, now()), Err(ActivityError::Invalid(_))));
        assert!(matches!(comment(&c, &lead, &"x".repeat(4001), None, now()), Err(ActivityError::Invalid(_))));
        // 4000 multi-byte characters are fine: the limit counts characters, not bytes
        assert!(comment(&c, &lead, &"ā".repeat(4000), None, now()).is_ok());
        let mut closed = case();
        closed.status = CaseStatus::Closed;
        assert!(matches!(comment(&closed, &lead, "hi", None, now()), Err(ActivityError::Closed(_))));
    }

    #[test]
    fn school_users_see_only_shared_entries() {
        let c = case();
        let cm = actor(Role::CaseManager, "P01", "cm");
        let private = comment(&c, &cm, "internal", Some(false), now()).unwrap().timeline.remove(0);
        let shared = comment(&c, &cm, "for the school", Some(true), now()).unwrap().timeline.remove(0);
        for r in Role::ALL {
            let org = match r.side() {
                Side::School => "1001",
                Side::Provider => "P01",
                Side::Ministry => "ministry",
            };
            let a = actor(r, org, "u");
            if !can_view_case(&a, &c) {
                // not on the case at all (e.g. a primary contact of another case): sees nothing
                assert!(!can_see_entry(&a, &c, &shared), "{r:?}");
                continue;
            }
            assert!(can_see_entry(&a, &c, &shared), "{r:?}");
            assert_eq!(can_see_entry(&a, &c, &private), r.side() != Side::School, "{r:?}");
        }
    }

    #[test]
    fn only_the_cases_provider_staff_record_activities() {
        let c = case();
        let today = d(2026, 3, 10);
        for r in Role::ALL {
            let org = match r.side() {
                Side::School => "1001",
                Side::Provider => "P01",
                Side::Ministry => "ministry",
            };
            let res = record_activity(&c, &actor(r, org, "u"), &input(ActivityType::PhoneCall, today), now(), today);
            let ok = matches!(r, Role::CaseManager | Role::ProviderAdmin);
            assert_eq!(res.is_ok(), ok, "{r:?}: {res:?}");
        }
        let other = actor(Role::CaseManager, "P08", "cm8");
        assert_eq!(record_activity(&c, &other, &input(ActivityType::PhoneCall, today), now(), today), Err(ActivityError::NotVisible));
    }

    #[test]
    fn meetings_stop_the_sla_clocks_at_the_earliest_date() {
        let c = case();
        let cm = actor(Role::CaseManager, "P01", "cm");
        let today = d(2026, 3, 10);
        let ch = record_activity(&c, &cm, &input(ActivityType::SchoolMeeting, d(2026, 3, 6)), now(), today).unwrap();
        assert_eq!(ch.case.school_met_on, Some(d(2026, 3, 6)));
        assert_eq!(ch.case.whanau_met_on, None);
        // one event with the activity's type and the shared flag (not shared: no email follows)
        assert!(
            matches!(&ch.events[..], [e] if matches!(&e.event, DomainEvent::ActivityRecorded { activity, shared: false, .. } if activity == "school_meeting"))
        );
        assert!(!ch.timeline[0].shared_with_school);
        // a later school meeting keeps the earlier date; an earlier one replaces it
        let later = record_activity(&ch.case, &cm, &input(ActivityType::SchoolMeeting, d(2026, 3, 9)), now(), today).unwrap();
        assert_eq!(later.case.school_met_on, Some(d(2026, 3, 6)));
        let earlier = record_activity(&ch.case, &cm, &input(ActivityType::SchoolMeeting, d(2026, 3, 4)), now(), today).unwrap();
        assert_eq!(earlier.case.school_met_on, Some(d(2026, 3, 4)));
        let wh = record_activity(&c, &cm, &input(ActivityType::WhanauMeeting, d(2026, 3, 3)), now(), today).unwrap();
        assert_eq!(wh.case.whanau_met_on, Some(d(2026, 3, 3)));
        assert_eq!(wh.case.school_met_on, None);
        let call = record_activity(&c, &cm, &input(ActivityType::PhoneCall, d(2026, 3, 3)), now(), today).unwrap();
        assert_eq!((call.case.school_met_on, call.case.whanau_met_on), (None, None));
    }

    #[test]
    fn activity_dates_and_fields_are_checked() {
        let c = case();
        let cm = actor(Role::CaseManager, "P01", "cm");
        let today = d(2026, 3, 10);
        let field_of = |r: Result<CaseChange, ActivityError>| match r {
            Err(ActivityError::Invalid(e)) => e.into_iter().map(|e| e.field).collect::<Vec<_>>(),
            other => panic!("expected invalid, got {other:?}"),
        };
        assert_eq!(field_of(record_activity(&c, &cm, &input(ActivityType::Other, d(2026, 3, 11)), now(), today)), vec!["date"]);
        // referred on 3 March NZ time (2 March UTC): 2 March is before the referral
        assert_eq!(field_of(record_activity(&c, &cm, &input(ActivityType::Other, d(2026, 3, 2)), now(), today)), vec!["date"]);
        assert!(record_activity(&c, &cm, &input(ActivityType::Other, d(2026, 3, 3)), now(), today).is_ok());
        let mut bad = input(ActivityType::HomeVisit, today);
        bad.attendees = vec!["ok".into(), "  ".into()];
        bad.notes = Some("n".repeat(4001));
        assert_eq!(field_of(record_activity(&c, &cm, &bad, now(), today)), vec!["attendees[1]", "notes"]);
        bad.attendees = vec!["a".into(); MAX_ATTENDEES + 1];
        bad.notes = None;
        assert_eq!(field_of(record_activity(&c, &cm, &bad, now(), today)), vec!["attendees"]);
    }

    #[test]
    fn invisible_only_comments_are_refused() {
        let lead = actor(Role::AttendanceLead, "1001", "lead");
        for text in ["\u{200B}", "\u{200B}\u{200C}\u{200D}\u{2060}\u{FEFF}", " \u{00A0}\u{3000} ", "\u{202E}\u{2066}"] {
            match comment(&case(), &lead, text, None, now()) {
                Err(ActivityError::Invalid(e)) => assert_eq!(e[0].field, "text", "{text:?}"),
                other => panic!("{text:?}: {other:?}"),
            }
        }
        assert!(comment(&case(), &lead, "\u{200B}Kia ora", None, now()).is_ok());
    }

    proptest! {
        #[test]
        fn comment_length_rule_counts_trimmed_characters(s in "\\PC{0,50}", pad in 0usize..3, n in 3990usize..4010) {
            let lead = actor(Role::AttendanceLead, "1001", "lead");
            let text = format!("{}{}{}", " ".repeat(pad), "é".repeat(n), s.trim());
            let trimmed = text.trim().chars().count();
            let res = comment(&case(), &lead, &text, None, now());
            prop_assert_eq!(res.is_ok(), (1..=MAX_TEXT_CHARS).contains(&trimmed));
        }

        #[test]
        fn met_on_dates_never_move_later(a in 0i64..7, b in 0i64..7) {
            let cm = actor(Role::CaseManager, "P01", "cm");
            let today = d(2026, 3, 10);
            let first = d(2026, 3, 3) + chrono::Duration::days(a);
            let second = d(2026, 3, 3) + chrono::Duration::days(b);
            let one = record_activity(&case(), &cm, &input(ActivityType::WhanauMeeting, first), now(), today).unwrap();
            let two = record_activity(&one.case, &cm, &input(ActivityType::WhanauMeeting, second), now(), today).unwrap();
            prop_assert_eq!(two.case.whanau_met_on, Some(first.min(second)));
        }
    }
}
