//! Consultations with the school and escalations as the case keeps them (the rules:
//! [`crate::escalations`]).

use super::By;
use crate::ids::EntryId;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

codes! {
    /// A step the provider checks in with the school before: "before moving the case into
    /// Transition status and before taking major steps such as escalating non-engagement,
    /// considering prosecution, or raising the case at a multi-agency forum" (the guide).
    pub enum Step {
        Transition = "transition",
        FormalCommunication = "formal_communication",
        ProsecutionReferral = "prosecution_referral",
        Section19 = "section_19",
        MultiAgencyForum = "multi_agency_forum",
    }
}

codes! {
    /// The major steps taken when support has not brought the child back.
    pub enum EscalationKind {
        /// A letter to the caregivers about their legal obligations for enrolment and attendance
        /// and the consequences of non-compliance.
        FormalCommunication = "formal_communication",
        /// A referral to the Ministry's Prosecutions team.
        ProsecutionReferral = "prosecution_referral",
        /// A referral to Oranga Tamariki under section 19 of the Oranga Tamariki Act.
        Section19 = "section_19",
        /// A referral to a multi-agency forum.
        MultiAgencyForum = "multi_agency_forum",
    }
}

impl EscalationKind {
    /// The step the provider consults the school about before taking this one.
    pub fn step(self) -> Step {
        match self {
            EscalationKind::FormalCommunication => Step::FormalCommunication,
            EscalationKind::ProsecutionReferral => Step::ProsecutionReferral,
            EscalationKind::Section19 => Step::Section19,
            EscalationKind::MultiAgencyForum => Step::MultiAgencyForum,
        }
    }
}

codes! {
    /// How a formal communication reached the caregivers.
    pub enum CommMethod {
        Letter = "letter",
        Email = "email",
        HandDelivered = "hand_delivered",
        InPerson = "in_person",
    }
}

codes! {
    /// The Prosecutions team's decision on a referral.
    pub enum ProsecutionDecision {
        Accepted = "accepted",
        Declined = "declined",
    }
}

/// The provider checked in with the school before a step. Each consultation is for one step
/// taken once: the step uses it up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Consultation {
    pub id: EntryId,
    pub about: Step,
    pub held_on: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    pub by: By,
    pub at: DateTime<Utc>,
    /// Whether the step it was for has since been taken.
    #[serde(default)]
    pub used: bool,
}

/// One escalation on a case, and (once known) its outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Escalation {
    pub id: EntryId,
    pub kind: EscalationKind,
    /// When it was sent or made.
    pub on: NaiveDate,
    /// How a formal communication was sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<CommMethod>,
    /// A provider's prosecution referral: when the regional office was told.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regional_office_told_on: Option<NaiveDate>,
    /// A multi-agency forum referral in one of the 2026 pilot catchments.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub forum_pilot: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    pub by: By,
    pub at: DateTime<Utc>,
    /// The Prosecutions team's decision (prosecution referrals only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<ProsecutionDecision>,
    /// What came of it, in the words of whoever recorded it (not shown to the school).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome_by: Option<By>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome_at: Option<DateTime<Utc>>,
}
