//! A barrier to attendance as the case keeps it (the rules: [`crate::barriers`]).

use super::By;
use crate::ids::EntryId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The maintained list of barriers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BarrierKind {
    HousingInstability,
    Poverty,
    MentalHealthOrAddiction,
    DisabilityOrLearningNeeds,
    Bullying,
    WellbeingBehaviourOrSocial,
    SchoolWhanauRelationship,
    Transport,
    Other,
}

impl BarrierKind {
    pub const ALL: [BarrierKind; 9] = [
        BarrierKind::HousingInstability,
        BarrierKind::Poverty,
        BarrierKind::MentalHealthOrAddiction,
        BarrierKind::DisabilityOrLearningNeeds,
        BarrierKind::Bullying,
        BarrierKind::WellbeingBehaviourOrSocial,
        BarrierKind::SchoolWhanauRelationship,
        BarrierKind::Transport,
        BarrierKind::Other,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            BarrierKind::HousingInstability => "housing_instability",
            BarrierKind::Poverty => "poverty",
            BarrierKind::MentalHealthOrAddiction => "mental_health_or_addiction",
            BarrierKind::DisabilityOrLearningNeeds => "disability_or_learning_needs",
            BarrierKind::Bullying => "bullying",
            BarrierKind::WellbeingBehaviourOrSocial => "wellbeing_behaviour_or_social",
            BarrierKind::SchoolWhanauRelationship => "school_whanau_relationship",
            BarrierKind::Transport => "transport",
            BarrierKind::Other => "other",
        }
    }
    pub fn parse(s: &str) -> Option<BarrierKind> {
        BarrierKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Where a barrier stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BarrierState {
    Identified,
    BeingAddressed,
    Resolved,
}

impl BarrierState {
    pub const ALL: [BarrierState; 3] = [BarrierState::Identified, BarrierState::BeingAddressed, BarrierState::Resolved];
    pub fn as_str(self) -> &'static str {
        match self {
            BarrierState::Identified => "identified",
            BarrierState::BeingAddressed => "being_addressed",
            BarrierState::Resolved => "resolved",
        }
    }
    pub fn parse(s: &str) -> Option<BarrierState> {
        BarrierState::ALL.into_iter().find(|k| k.as_str() == s)
    }
    /// Forward only: a state may be followed by any later one.
    pub fn may_become(self, next: BarrierState) -> bool {
        next > self
    }
}

/// One barrier on a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Barrier {
    pub id: EntryId,
    pub kind: BarrierKind,
    /// What the barrier is, in the Case Manager's words (required for `other`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    pub state: BarrierState,
    pub identified_by: By,
    pub identified_at: DateTime<Utc>,
    pub changed_at: DateTime<Utc>,
}
