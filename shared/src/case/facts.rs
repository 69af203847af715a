//! A case's de-identified facts: what the dashboards count and the export writes
//! ([`crate::dashboard`]) — no name, NSN, address, health or safety information.

use super::barrier::BarrierKind;
use super::{Case, CaseStatus, CaseType, CloseReason};
use crate::ids::{CaseId, CatchmentId, ProviderId, RegionId, SchoolId, UserId};
use crate::sla::{due_date, SlaKind};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

codes! {
    /// Where a case's SLA clock stands, from the case alone (no "today"): met on time, met late,
    /// reported breached by the nightly job and not met, still due, or closed without a meeting
    /// and never reported.
    pub enum SlaOutcome {
        Met = "met",
        MetLate = "met_late",
        Breached = "breached",
        Due = "due",
        NotMet = "not_met",
    }
}

/// The outcome of the `kind` clock on this case; `None` before a provider holds the case (the
/// clocks are reported only once one does).
pub fn sla_outcome(case: &Case, kind: SlaKind) -> Option<SlaOutcome> {
    case.provider_id.as_ref()?;
    let met = match kind {
        SlaKind::SchoolMeeting => case.school_met_on,
        SlaKind::WhanauMeeting => case.whanau_met_on,
    };
    Some(match met {
        Some(on) if on <= due_date(kind, case.referred_at) => SlaOutcome::Met,
        Some(_) => SlaOutcome::MetLate,
        None if case.breached.contains(&kind) => SlaOutcome::Breached,
        None if case.status == CaseStatus::Closed => SlaOutcome::NotMet,
        None => SlaOutcome::Due,
    })
}

/// A case's de-identified facts, as the dashboards count them (and the export writes them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaseFacts {
    pub case_id: CaseId,
    /// The case version these facts were taken at.
    pub version: u64,
    pub case_type: CaseType,
    pub status: CaseStatus,
    pub school_id: SchoolId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_contact: Option<UserId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_id: Option<ProviderId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catchment_id: Option<CatchmentId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region_id: Option<RegionId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_manager: Option<UserId>,
    pub referred_on: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla_school_meeting: Option<SlaOutcome>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla_whanau_meeting: Option<SlaOutcome>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub close_reason: Option<CloseReason>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_on: Option<NaiveDate>,
    /// The kinds of barrier identified on the case (each once).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub barriers: Vec<BarrierKind>,
}

impl CaseFacts {
    pub fn of(case: &Case) -> CaseFacts {
        let mut barriers: Vec<BarrierKind> = Vec::new();
        for b in &case.barriers {
            if !barriers.contains(&b.kind) {
                barriers.push(b.kind);
            }
        }
        let closed = case.status == CaseStatus::Closed;
        CaseFacts {
            case_id: case.id.clone(),
            version: case.version,
            case_type: case.case_type,
            status: case.status,
            school_id: case.school_id.clone(),
            primary_contact: case.primary_contact.clone(),
            provider_id: case.provider_id.clone(),
            catchment_id: case.catchment_id.clone(),
            region_id: case.region_id.clone(),
            case_manager: case.case_manager.clone(),
            referred_on: crate::nz_date(case.referred_at),
            sla_school_meeting: sla_outcome(case, SlaKind::SchoolMeeting),
            sla_whanau_meeting: sla_outcome(case, SlaKind::WhanauMeeting),
            close_reason: case.close_reason.filter(|_| closed),
            closed_on: case.closed_at.filter(|_| closed).map(crate::nz_date),
            barriers,
        }
    }
}

/// Would the dashboards count `next` differently from `case`?
pub fn counted_differently(case: &Case, next: &Case) -> bool {
    let (a, b) = (CaseFacts::of(case), CaseFacts::of(next));
    CaseFacts { version: 0, ..a } != CaseFacts { version: 0, ..b }
}
