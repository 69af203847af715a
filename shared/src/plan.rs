//! The support plan (issue 15, item 2): providers "develop and implement support plans" (the
//! guide) with the school and whānau.
//!
//! - Goals, and the steps towards them, each step with an owner (the school, the provider, the
//!   whānau or another agency) and a due date; goals and steps may carry a review date
//!   ([`add_item`]). The steps include the guide's "short-term arrangements (like a gradual return),
//!   longer-term adjustments (such as timetable changes)" and, "for students approaching 16 who
//!   intend to leave school", "transition planning into training or employment, or referral to a
//!   Youth Service or the Ministry of Social Development to access a youth coach" — those two only
//!   once the student is 15 ([`APPROACHING_16`]).
//! - An item is done or dropped once ([`set_state`]); the plan is reviewed, with a note and the
//!   next review date ([`review`]).
//! - The case's provider staff keep the plan; it is the school's plan too (it owns steps in it):
//!   its items and reviews are shared with the school on the timeline and the case.

use crate::access::{permits, CaseAction};
use crate::actor::Actor;
use crate::case::{By, Case, CaseChange, TimelineEntry, TimelineKind};
use crate::ids::EntryId;
use crate::text::{note, NoteProblem};
use chrono::{DateTime, NaiveDate, Utc};

pub use crate::case::plan::{PlanItem, PlanItemKind, PlanItemState, PlanOwner, PlanReview};

/// The age from which a student is "approaching 16" for transition planning and youth services.
pub const APPROACHING_16: i32 = 15;
/// The longest goal or step text kept.
pub const MAX_TEXT: usize = 500;
/// The longest review note kept.
pub const MAX_NOTE: usize = 2000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("Only the case's provider staff keep the support plan.")]
    NotPermitted,
    #[error("This case is closed: it can be read, but nothing more can be added to it.")]
    Closed,
    #[error("Describe the {0}.")]
    TextRequired(&'static str),
    #[error("The {0} is too long: at most {1} characters.")]
    TooLong(&'static str, usize),
    #[error("The {0} must not contain control characters.")]
    ControlCharacters(&'static str),
    #[error("Say who carries this step out: the school, the provider, the whānau or another agency.")]
    OwnerRequired,
    #[error("A goal has no owner or due date of its own: its steps do.")]
    GoalTakesNoOwner,
    #[error("Give the date this step is due.")]
    DueRequired,
    #[error("The date cannot be in the past.")]
    PastDate,
    #[error("The date cannot be in the future.")]
    FutureDate,
    #[error("The plan has no open goal with that id.")]
    UnknownGoal,
    #[error("A goal cannot belong to another goal.")]
    GoalUnderGoal,
    #[error("Transition planning and youth service referrals are for students approaching 16 (15 or older); this student is {age}.")]
    TooYoung { age: i32 },
    #[error("The plan has no item with that id.")]
    Unknown,
    #[error("This item is already {0}.")]
    AlreadySettled(&'static str),
    #[error("An item is done or dropped; it does not go back to open.")]
    BackToOpen,
}

fn text(field: &'static str, s: Option<&str>, max: usize) -> Result<String, PlanError> {
    note(s, max)
        .map_err(|e| match e {
            NoteProblem::TooLong => PlanError::TooLong(field, max),
            NoteProblem::ControlCharacters => PlanError::ControlCharacters(field),
        })?
        .ok_or(PlanError::TextRequired(field))
}

fn may_keep(case: &Case, actor: &Actor) -> Result<(), PlanError> {
    if !permits(actor, case, CaseAction::RecordPlan) {
        return Err(PlanError::NotPermitted);
    }
    case.still_open(PlanError::Closed)
}

/// What a new goal or step says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemInput<'a> {
    pub kind: PlanItemKind,
    pub text: Option<&'a str>,
    pub goal_id: Option<EntryId>,
    pub owner: Option<PlanOwner>,
    pub due: Option<NaiveDate>,
    pub review_on: Option<NaiveDate>,
}

/// The case's provider staff add a goal or a step to the plan.
pub fn add_item(case: &Case, actor: &Actor, input: ItemInput<'_>, now: DateTime<Utc>, today: NaiveDate) -> Result<CaseChange, PlanError> {
    may_keep(case, actor)?;
    let what = if input.kind == PlanItemKind::Goal { "goal" } else { "step" };
    let words = text(what, input.text, MAX_TEXT)?;
    if input.kind == PlanItemKind::Goal {
        if input.owner.is_some() || input.due.is_some() {
            return Err(PlanError::GoalTakesNoOwner);
        }
        if input.goal_id.is_some() {
            return Err(PlanError::GoalUnderGoal);
        }
    } else {
        input.owner.ok_or(PlanError::OwnerRequired)?;
        let due = input.due.ok_or(PlanError::DueRequired)?;
        if due < today {
            return Err(PlanError::PastDate);
        }
        if let Some(g) = &input.goal_id {
            let open_goal = case.plan.iter().any(|i| &i.id == g && i.kind == PlanItemKind::Goal && i.state == PlanItemState::Open);
            if !open_goal {
                return Err(PlanError::UnknownGoal);
            }
        }
    }
    if input.review_on.is_some_and(|d| d < today) {
        return Err(PlanError::PastDate);
    }
    if matches!(input.kind, PlanItemKind::TransitionPlanning | PlanItemKind::YouthServiceReferral) {
        let age = crate::student::age_on(case.student.date_of_birth, today);
        if age < APPROACHING_16 {
            return Err(PlanError::TooYoung { age });
        }
    }
    let item = PlanItem {
        id: EntryId::new_ulid(),
        kind: input.kind,
        text: words,
        goal_id: input.goal_id,
        owner: input.owner,
        due: input.due,
        review_on: input.review_on,
        state: PlanItemState::Open,
        by: By::actor(actor),
        at: now,
    };
    let entry = TimelineEntry::new(
        &case.id,
        now,
        By::actor(actor),
        true,
        TimelineKind::PlanItemRecorded { item_id: item.id.clone(), kind: item.kind, state: item.state },
    );
    let mut next = case.bumped(now);
    next.plan.push(item);
    Ok(CaseChange::of(case, next, vec![entry], Vec::new()))
}

/// An item done or dropped (once).
pub fn set_state(case: &Case, actor: &Actor, id: &EntryId, to: PlanItemState, now: DateTime<Utc>) -> Result<CaseChange, PlanError> {
    may_keep(case, actor)?;
    let current = case.plan.iter().find(|i| &i.id == id).ok_or(PlanError::Unknown)?;
    if to == PlanItemState::Open {
        return Err(PlanError::BackToOpen);
    }
    if current.state != PlanItemState::Open {
        return Err(PlanError::AlreadySettled(current.state.as_str()));
    }
    let entry = TimelineEntry::new(
        &case.id,
        now,
        By::actor(actor),
        true,
        TimelineKind::PlanItemRecorded { item_id: id.clone(), kind: current.kind, state: to },
    );
    let mut next = case.bumped(now);
    if let Some(i) = next.plan.iter_mut().find(|i| &i.id == id) {
        i.state = to;
    }
    Ok(CaseChange::of(case, next, vec![entry], Vec::new()))
}

/// A review of the plan: when it was held, what was found, when the next one is.
pub fn review(
    case: &Case,
    actor: &Actor,
    held_on: NaiveDate,
    note_text: Option<&str>,
    next_review_on: Option<NaiveDate>,
    now: DateTime<Utc>,
    today: NaiveDate,
) -> Result<CaseChange, PlanError> {
    may_keep(case, actor)?;
    if held_on > today {
        return Err(PlanError::FutureDate);
    }
    if next_review_on.is_some_and(|d| d < today) {
        return Err(PlanError::PastDate);
    }
    let words = text("review note", note_text, MAX_NOTE)?;
    let r = PlanReview { id: EntryId::new_ulid(), held_on, note: words, next_review_on, by: By::actor(actor), at: now };
    let entry = TimelineEntry::new(&case.id, now, By::actor(actor), true, TimelineKind::PlanReviewed { review_id: r.id.clone(), held_on });
    let mut next = case.bumped(now);
    next.plan_reviews.push(r);
    Ok(CaseChange::of(case, next, vec![entry], Vec::new()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actor::Role;
    use crate::fixtures::{actor, case, cm, now, today};
    use proptest::prelude::*;

    fn goal(text: &str) -> ItemInput<'_> {
        ItemInput { kind: PlanItemKind::Goal, text: Some(text), goal_id: None, owner: None, due: None, review_on: None }
    }
    fn step(kind: PlanItemKind, owner: PlanOwner) -> ItemInput<'static> {
        ItemInput { kind, text: Some("Half days for two weeks"), goal_id: None, owner: Some(owner), due: Some(today()), review_on: None }
    }

    #[test]
    fn a_goal_and_its_steps_are_shared_with_the_school() {
        let ch = add_item(&case(), &cm(), goal("Back at school full time by Term 1"), now(), today()).unwrap();
        assert!(ch.timeline[0].shared_with_school, "the plan is made with the school");
        let g = ch.case.plan[0].id.clone();
        let c = ch.case;
        let ch = add_item(
            &c,
            &cm(),
            ItemInput { goal_id: Some(g.clone()), ..step(PlanItemKind::GradualReturn, PlanOwner::School) },
            now(),
            today(),
        )
        .unwrap();
        let s = &ch.case.plan[1];
        assert_eq!(
            (s.kind, s.owner, s.goal_id.as_ref(), s.state),
            (PlanItemKind::GradualReturn, Some(PlanOwner::School), Some(&g), PlanItemState::Open)
        );
        assert!(ch.events.is_empty());
    }

    #[test]
    fn a_step_needs_an_owner_and_a_due_date_and_a_goal_has_neither() {
        let c = case();
        let no_owner = ItemInput { owner: None, ..step(PlanItemKind::Action, PlanOwner::Whanau) };
        assert_eq!(add_item(&c, &cm(), no_owner, now(), today()), Err(PlanError::OwnerRequired));
        let no_due = ItemInput { due: None, ..step(PlanItemKind::Action, PlanOwner::Whanau) };
        assert_eq!(add_item(&c, &cm(), no_due, now(), today()), Err(PlanError::DueRequired));
        let past = ItemInput { due: today().pred_opt(), ..step(PlanItemKind::Action, PlanOwner::Whanau) };
        assert_eq!(add_item(&c, &cm(), past, now(), today()), Err(PlanError::PastDate));
        let owned_goal = ItemInput { owner: Some(PlanOwner::School), ..goal("x") };
        assert_eq!(add_item(&c, &cm(), owned_goal, now(), today()), Err(PlanError::GoalTakesNoOwner));
        assert_eq!(add_item(&c, &cm(), ItemInput { text: Some("  "), ..goal("x") }, now(), today()), Err(PlanError::TextRequired("goal")));
        let unknown = ItemInput { goal_id: Some(EntryId::parse("01JNOGOAL").unwrap()), ..step(PlanItemKind::Action, PlanOwner::Provider) };
        assert_eq!(add_item(&c, &cm(), unknown, now(), today()), Err(PlanError::UnknownGoal));
    }

    #[test]
    fn only_the_cases_provider_staff_keep_the_plan() {
        for who in
            [actor(Role::AttendanceLead, "1001", "lead"), actor(Role::CaseManager, "P02", "cm-p02"), actor(Role::Cit, "ministry", "cit")]
        {
            assert_eq!(add_item(&case(), &who, goal("x"), now(), today()), Err(PlanError::NotPermitted), "{who:?}");
        }
    }

    #[test]
    fn an_item_is_done_or_dropped_once_and_never_reopened() {
        let c = add_item(&case(), &cm(), step(PlanItemKind::TimetableChange, PlanOwner::School), now(), today()).unwrap().case;
        let id = c.plan[0].id.clone();
        assert_eq!(set_state(&c, &cm(), &id, PlanItemState::Open, now()), Err(PlanError::BackToOpen));
        let c = set_state(&c, &cm(), &id, PlanItemState::Done, now()).unwrap().case;
        assert_eq!(set_state(&c, &cm(), &id, PlanItemState::Dropped, now()), Err(PlanError::AlreadySettled("done")));
    }

    #[test]
    fn a_review_is_held_by_today_and_the_next_one_is_ahead() {
        let c = case();
        assert_eq!(review(&c, &cm(), today().succ_opt().unwrap(), Some("x"), None, now(), today()), Err(PlanError::FutureDate));
        assert_eq!(review(&c, &cm(), today(), Some("x"), today().pred_opt(), now(), today()), Err(PlanError::PastDate));
        assert_eq!(review(&c, &cm(), today(), None, None, now(), today()), Err(PlanError::TextRequired("review note")));
        let ch = review(&c, &cm(), today(), Some("Attending 4 days of 5"), today().succ_opt(), now(), today()).unwrap();
        assert_eq!(ch.case.plan_reviews[0].note, "Attending 4 days of 5");
        assert!(ch.timeline[0].shared_with_school);
    }

    proptest! {
        /// Transition planning and youth service referrals are accepted exactly when the student
        /// is 15 or older on the day; other steps at any age.
        #[test]
        fn youth_services_exactly_from_fifteen(age_days in 3_000i64..7_000, transition in any::<bool>()) {
            let dob = today() - chrono::Duration::days(age_days);
            let mut c = case();
            c.student.date_of_birth = dob;
            let kind = if transition { PlanItemKind::TransitionPlanning } else { PlanItemKind::YouthServiceReferral };
            let age = crate::student::age_on(dob, today());
            let got = add_item(&c, &cm(), step(kind, PlanOwner::Agency), now(), today());
            prop_assert_eq!(got.is_ok(), age >= APPROACHING_16, "age {}: {:?}", age, got);
            prop_assert!(add_item(&c, &cm(), step(PlanItemKind::Action, PlanOwner::Agency), now(), today()).is_ok());
        }
    }
}
