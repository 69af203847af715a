//! Test fixtures the domain's rule tests share: a Case Manager of P01, an open case of school
//! 1001 with P01 ([`case`]), and one moment, 24 November 2026 in New Zealand.

pub(crate) use crate::activity::tests::{actor, case};
use crate::actor::{Actor, Role};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};

pub(crate) fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 1, 0, 0).unwrap()
}

pub(crate) fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()
}

pub(crate) fn cm() -> Actor {
    actor(Role::CaseManager, "P01", "cm-p01")
}

/// Provider P01 of catchment c1, with this contract value a year.
pub(crate) fn provider(contract_cents_per_year: Option<u64>) -> crate::catchment::Provider {
    crate::catchment::Provider {
        id: crate::ids::ProviderId::parse("P01").unwrap(),
        name: "P01".into(),
        kind: crate::catchment::ProviderKind::Catchment,
        catchment_id: crate::ids::CatchmentId::parse("c1").unwrap(),
        queue_email: "q@p.nz".into(),
        contract_cents_per_year,
    }
}
