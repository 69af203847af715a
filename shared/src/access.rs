//! The access policy: which cases a caller may see and which lists they may ask for.
//! Handlers ask here; none decides on its own. A case the caller may not see is reported as
//! not found, so its existence does not leak.

use crate::actor::{Actor, Role};
use crate::case::{Case, CaseStatus};
use crate::ids::{ProviderId, SchoolId, UserId};

/// The one index a caller's case list is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListScope {
    /// Attendance Lead and Office Support: every case of their school.
    School(SchoolId),
    /// School Primary Contact: the cases they are named on.
    PrimaryContact(UserId),
    /// Case Manager and provider admin: their provider's cases (its queue and caseload).
    Provider(ProviderId),
    /// Ministry roles: every case, read status by status.
    National,
}

pub fn list_scope(actor: &Actor) -> ListScope {
    match actor.role() {
        Role::AttendanceLead | Role::OfficeSupport => match actor.school() {
            Some(s) => ListScope::School(s.clone()),
            None => ListScope::PrimaryContact(actor.user_id().clone()),
        },
        Role::SchoolPrimaryContact => ListScope::PrimaryContact(actor.user_id().clone()),
        Role::CaseManager | Role::ProviderAdmin => match actor.provider() {
            Some(p) => ListScope::Provider(p.clone()),
            None => ListScope::PrimaryContact(actor.user_id().clone()),
        },
        Role::Cit | Role::Regional | Role::National | Role::Prosecutions => ListScope::National,
    }
}

/// May this caller see this case at all?
pub fn can_view_case(actor: &Actor, case: &Case) -> bool {
    match actor.role() {
        Role::AttendanceLead | Role::OfficeSupport => actor.school() == Some(&case.school_id),
        Role::SchoolPrimaryContact => {
            actor.school() == Some(&case.school_id) && case.primary_contact.as_ref() == Some(actor.user_id())
        }
        Role::CaseManager | Role::ProviderAdmin => {
            actor.provider().is_some() && actor.provider() == case.provider_id.as_ref()
        }
        Role::Cit | Role::Regional | Role::National | Role::Prosecutions => true,
    }
}

/// Does a listed case belong in this caller's list (re-checked on every row an index returns)?
pub fn in_scope(actor: &Actor, case: &Case) -> bool {
    can_view_case(actor, case)
}

/// School-side roles make CA requests for their own school.
pub fn can_make_requests(actor: &Actor) -> Option<&SchoolId> {
    match actor.role() {
        Role::AttendanceLead | Role::SchoolPrimaryContact | Role::OfficeSupport => actor.school(),
        _ => None,
    }
}

/// Which statuses a filter names; `None` means all.
pub fn status_filter(s: Option<&str>) -> Result<Option<CaseStatus>, String> {
    match s {
        None | Some("") => Ok(None),
        Some(v) => CaseStatus::parse(v).map(Some).ok_or_else(|| {
            format!(
                "status must be one of: {}",
                CaseStatus::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
            )
        }),
    }
}
