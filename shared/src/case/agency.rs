//! Other agencies engaged on a case, and CIT's information checks with them, as the case keeps
//! them (the rules: [`crate::agencies`]).

use super::By;
use crate::ids::EntryId;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

codes! {
    /// The agencies the guide names beside the school and the provider.
    pub enum Agency {
        OrangaTamariki = "oranga_tamariki",
        Police = "police",
        Health = "health",
        SocialServices = "social_services",
        Msd = "msd",
        /// Named in `detail`.
        Other = "other",
    }
}

/// An agency working with the student or whānau, as the provider recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgencyInvolvement {
    pub id: EntryId,
    pub agency: Agency,
    /// Which service, or the agency's name for `other`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Since when it has been engaged.
    pub since: NaiveDate,
    pub by: By,
    pub at: DateTime<Utc>,
}

/// An information check with another agency ("CIT is also responsible for managing information
/// checks with other agencies"): asked for, then its result recorded by CIT.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgencyCheck {
    pub id: EntryId,
    pub agency: Agency,
    /// What is asked (for `other`, which agency).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub question: Option<String>,
    pub requested_by: By,
    pub requested_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_by: Option<By>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_at: Option<DateTime<Utc>>,
}
