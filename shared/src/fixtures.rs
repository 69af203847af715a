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
