//! ENROL: Non-Enrolment Notifications (NEN) and enrolments, as the ENROL webhook delivers them.

use crate::ids::SchoolId;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// What ENROL reported about a non-enrolment, kept on the NEN case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NenDetails {
    /// ENROL's notification id (idempotency key of the delivery).
    pub notification_id: String,
    /// The student's last day of attendance (not the date they were taken off the roll).
    pub last_day_of_attendance: NaiveDate,
    pub withdrawal_reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comments: Option<String>,
    /// Set when ENROL reports the student enrolled at a school: that school may then submit a
    /// CA request that converts this case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enrolled_at: Option<SchoolId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enrolled_on: Option<NaiveDate>,
}
