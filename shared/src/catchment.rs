//! Catchments, providers and schools (the reference data), and the CA allocation rule.

use crate::ids::{CatchmentId, ProviderId, RegionId, SchoolId};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Catchment {
    pub id: CatchmentId,
    pub name: String,
    pub region_id: RegionId,
    /// The one contracted attendance service provider of this catchment.
    pub provider_id: ProviderId,
    /// One of the 2026 multi-agency forum pilots ([`crate::escalations`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub forum_pilot: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderKind {
    /// The contracted provider of a catchment.
    Catchment,
    /// A school funded for In-School Provision, acting as the provider for its own students.
    InSchoolProvision,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Provider {
    pub id: ProviderId,
    pub name: String,
    pub kind: ProviderKind,
    pub catchment_id: CatchmentId,
    /// The provider queue's shared mailbox (used when a case has no Case Manager yet).
    pub queue_email: String,
    /// What the Ministry's contract pays the provider a year, in cents: its Unmet Basic Needs
    /// Fund may spend up to 3 % of it ([`crate::fund`]). `None` until the Ministry records it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract_cents_per_year: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct School {
    pub id: SchoolId,
    pub name: String,
    pub catchment_id: CatchmentId,
    pub region_id: RegionId,
    /// Set for the 170 schools funded for In-School Provision: their ISP's provider id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub isp_provider_id: Option<ProviderId>,
}

impl School {
    pub fn has_isp(&self) -> bool {
        self.isp_provider_id.is_some()
    }
}

/// Where a CA request from an ISP school goes, chosen at submission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AllocationChoice {
    Catchment,
    InSchoolProvision,
}

impl AllocationChoice {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "catchment" => Some(Self::Catchment),
            "in_school_provision" => Some(Self::InSchoolProvision),
            _ => None,
        }
    }
}

/// How a case reached its provider (recorded on the timeline and in `CaseAllocated`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AllocationRoute {
    /// CA: the catchment provider of the student's enrolled school.
    CatchmentOfSchool,
    /// CA: the school's In-School Provision, chosen by the school.
    InSchoolProvision,
    /// NEN: allocated by the Central Investigations Team.
    Cit,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AllocationError {
    #[error("the school's catchment {0} does not match the catchment record")]
    CatchmentMismatch(CatchmentId),
    #[error("the school does not have In-School Provision")]
    NoIsp,
}

/// The CA allocation rule: the catchment provider of the enrolled school, unless the school has
/// In-School Provision and chose it.
pub fn allocate_ca(
    school: &School,
    catchment: &Catchment,
    choice: AllocationChoice,
) -> Result<(ProviderId, AllocationRoute), AllocationError> {
    if school.catchment_id != catchment.id {
        return Err(AllocationError::CatchmentMismatch(school.catchment_id.clone()));
    }
    match choice {
        AllocationChoice::Catchment => Ok((catchment.provider_id.clone(), AllocationRoute::CatchmentOfSchool)),
        AllocationChoice::InSchoolProvision => match &school.isp_provider_id {
            Some(p) => Ok((p.clone(), AllocationRoute::InSchoolProvision)),
            None => Err(AllocationError::NoIsp),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn school(isp: bool) -> School {
        School {
            id: SchoolId::parse("1001").unwrap(),
            name: "Test School".into(),
            catchment_id: CatchmentId::parse("C01").unwrap(),
            region_id: RegionId::parse("R1").unwrap(),
            isp_provider_id: isp.then(|| ProviderId::parse("ISP-1001").unwrap()),
        }
    }
    fn catchment() -> Catchment {
        Catchment {
            id: CatchmentId::parse("C01").unwrap(),
            name: "North".into(),
            region_id: RegionId::parse("R1").unwrap(),
            provider_id: ProviderId::parse("P01").unwrap(),
            forum_pilot: false,
        }
    }

    #[test]
    fn ca_goes_to_catchment_provider() {
        let (p, route) = allocate_ca(&school(false), &catchment(), AllocationChoice::Catchment).unwrap();
        assert_eq!(p.as_str(), "P01");
        assert_eq!(route, AllocationRoute::CatchmentOfSchool);
    }

    #[test]
    fn isp_school_can_choose_either() {
        let s = school(true);
        let (p, _) = allocate_ca(&s, &catchment(), AllocationChoice::InSchoolProvision).unwrap();
        assert_eq!(p.as_str(), "ISP-1001");
        let (p, _) = allocate_ca(&s, &catchment(), AllocationChoice::Catchment).unwrap();
        assert_eq!(p.as_str(), "P01");
    }

    #[test]
    fn non_isp_school_cannot_choose_isp() {
        assert_eq!(allocate_ca(&school(false), &catchment(), AllocationChoice::InSchoolProvision), Err(AllocationError::NoIsp));
    }

    #[test]
    fn wrong_catchment_is_refused() {
        let mut c = catchment();
        c.id = CatchmentId::parse("C02").unwrap();
        assert!(allocate_ca(&school(false), &c, AllocationChoice::Catchment).is_err());
    }
}

/// A suburb or town, mapped to the catchment whose provider serves it (for allocating NEN cases
/// by the student's address).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Locality {
    pub name: String,
    pub catchment_id: CatchmentId,
}

/// The lookup key of a place name: lower case, macrons and other accents removed, single spaces.
pub fn locality_key(name: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    name.nfkd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join("-")
}

#[cfg(test)]
mod locality_tests {
    use super::*;

    #[test]
    fn keys_ignore_case_accents_and_punctuation() {
        assert_eq!(locality_key("Whangārei"), "whangarei");
        assert_eq!(locality_key("  Mount  Roskill "), "mount-roskill");
        assert_eq!(locality_key("Hawke's Bay"), "hawke-s-bay");
        assert_eq!(locality_key("ŌTĀHUHU"), locality_key("otahuhu"));
    }
}
