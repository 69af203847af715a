//! The support plan as the case keeps it (the rules: [`crate::plan`]).

use super::By;
use crate::ids::EntryId;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

codes! {
    /// What an item of the plan is: a goal, or one of the steps towards it the guide names.
    pub enum PlanItemKind {
        Goal = "goal",
        Action = "action",
        /// "short-term arrangements (like a gradual return)"
        GradualReturn = "gradual_return",
        /// "longer-term adjustments (such as timetable changes)"
        TimetableChange = "timetable_change",
        /// "transition planning into training or employment" (students approaching 16)
        TransitionPlanning = "transition_planning",
        /// "referral to a Youth Service or the Ministry of Social Development to access a youth coach"
        YouthServiceReferral = "youth_service_referral",
    }
}

codes! {
    /// Who carries a step out.
    pub enum PlanOwner {
        School = "school",
        Provider = "provider",
        Whanau = "whanau",
        /// Another agency (named in the item's text).
        Agency = "agency",
    }
}

codes! {
    pub enum PlanItemState {
        Open = "open",
        Done = "done",
        /// No longer pursued (the plan changed).
        Dropped = "dropped",
    }
}

/// A goal or a step of the support plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanItem {
    pub id: EntryId,
    pub kind: PlanItemKind,
    pub text: String,
    /// The goal a step works towards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goal_id: Option<EntryId>,
    /// Who carries a step out (every step has one; a goal has none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<PlanOwner>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_on: Option<NaiveDate>,
    pub state: PlanItemState,
    pub by: By,
    pub at: DateTime<Utc>,
}

/// A review of the plan with the school and whānau.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanReview {
    pub id: EntryId,
    pub held_on: NaiveDate,
    pub note: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_review_on: Option<NaiveDate>,
    pub by: By,
    pub at: DateTime<Utc>,
}
