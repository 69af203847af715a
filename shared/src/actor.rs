//! Who is calling: a portal user with exactly one role in one organisation.

use crate::ids::{ProviderId, RegionId, SchoolId, UserId};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The roles of the AS-CMS (school, provider and Ministry sides).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    AttendanceLead,
    SchoolPrimaryContact,
    OfficeSupport,
    CaseManager,
    ProviderAdmin,
    Cit,
    Regional,
    National,
    Prosecutions,
}

impl Role {
    pub const ALL: [Role; 9] = [
        Role::AttendanceLead,
        Role::SchoolPrimaryContact,
        Role::OfficeSupport,
        Role::CaseManager,
        Role::ProviderAdmin,
        Role::Cit,
        Role::Regional,
        Role::National,
        Role::Prosecutions,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::AttendanceLead => "attendance_lead",
            Role::SchoolPrimaryContact => "school_primary_contact",
            Role::OfficeSupport => "office_support",
            Role::CaseManager => "case_manager",
            Role::ProviderAdmin => "provider_admin",
            Role::Cit => "cit",
            Role::Regional => "regional",
            Role::National => "national",
            Role::Prosecutions => "prosecutions",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn side(self) -> Side {
        match self {
            Role::AttendanceLead | Role::SchoolPrimaryContact | Role::OfficeSupport => Side::School,
            Role::CaseManager | Role::ProviderAdmin => Side::Provider,
            Role::Cit | Role::Regional | Role::National | Role::Prosecutions => Side::Ministry,
        }
    }

    /// Roles that may be named as a case's School Primary Contact (the seeds: the School Primary
    /// Contact role, and an Attendance Lead "can be a School Primary Contact for any case").
    pub fn can_be_primary_contact(self) -> bool {
        matches!(self, Role::AttendanceLead | Role::SchoolPrimaryContact)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    School,
    Provider,
    Ministry,
}

/// The organisation a user acts for. The role decides which kind it must be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Org {
    School(SchoolId),
    Provider(ProviderId),
    /// The Ministry; regional staff carry their region.
    Ministry(Option<RegionId>),
}

/// An authenticated caller. Constructed only through [`Actor::new`], which refuses a role paired
/// with the wrong kind of organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    user_id: UserId,
    role: Role,
    org: Org,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActorError {
    #[error("the role {0} does not belong to that kind of organisation")]
    RoleOrgMismatch(Role),
    #[error("regional staff must carry their region")]
    MissingRegion,
}

impl Actor {
    pub fn new(user_id: UserId, role: Role, org: Org) -> Result<Actor, ActorError> {
        let ok = match (&org, role.side()) {
            (Org::School(_), Side::School) => true,
            (Org::Provider(_), Side::Provider) => true,
            (Org::Ministry(region), Side::Ministry) => {
                if role == Role::Regional && region.is_none() {
                    return Err(ActorError::MissingRegion);
                }
                true
            }
            _ => false,
        };
        if ok {
            Ok(Actor { user_id, role, org })
        } else {
            Err(ActorError::RoleOrgMismatch(role))
        }
    }
    pub fn user_id(&self) -> &UserId {
        &self.user_id
    }
    pub fn role(&self) -> Role {
        self.role
    }
    pub fn org(&self) -> &Org {
        &self.org
    }
    pub fn school(&self) -> Option<&SchoolId> {
        match &self.org {
            Org::School(s) => Some(s),
            _ => None,
        }
    }
    pub fn provider(&self) -> Option<&ProviderId> {
        match &self.org {
            Org::Provider(p) => Some(p),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("admin"), None);
    }

    #[test]
    fn role_must_match_org_kind() {
        let u = UserId::parse("u1").unwrap();
        let school = Org::School(SchoolId::parse("100").unwrap());
        assert!(Actor::new(u.clone(), Role::OfficeSupport, school.clone()).is_ok());
        assert!(Actor::new(u.clone(), Role::CaseManager, school).is_err());
        assert_eq!(Actor::new(u.clone(), Role::Regional, Org::Ministry(None)), Err(ActorError::MissingRegion));
        assert!(Actor::new(u, Role::National, Org::Ministry(None)).is_ok());
    }
}
