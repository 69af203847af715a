//! Attendance Services case management: the domain.
//!
//! Pure Rust, no AWS types. Modules are named in the seeds' words: the CA request ([`referral`]),
//! the [`case`], [`catchment`]s and providers, the access policy ([`access`]), and the [`ports`]
//! the adapters implement.

pub mod access;
pub mod activity;
pub mod actor;
pub mod audit;
pub mod calendar;
pub mod case;
pub mod catchment;
pub mod cit;
pub mod details;
pub mod enrol;
pub mod events;
pub mod files;
pub mod ids;
pub mod intake;
pub mod lifecycle;
#[cfg(any(test, feature = "memory"))]
pub mod memory;
pub mod notification;
pub mod outbox;
pub mod ports;
pub mod referral;
pub mod schedule;
pub mod sensitive;
pub mod sla;
pub mod student;
pub mod text;
pub mod usecase;

use chrono::{DateTime, NaiveDate, Utc};

/// The New Zealand calendar date of an instant.
/// Saturates instead of panicking for instants within hours of chrono's limits.
pub fn nz_date(t: DateTime<Utc>) -> NaiveDate {
    use chrono::{Offset, TimeZone};
    let utc = t.naive_utc();
    let offset = chrono_tz::Pacific::Auckland.offset_from_utc_datetime(&utc).fix();
    match utc.checked_add_offset(offset) {
        Some(local) => local.date(),
        None if offset.local_minus_utc() >= 0 => NaiveDate::MAX,
        None => NaiveDate::MIN,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn nz_date_crosses_midnight_before_utc() {
        // 2026-11-24 12:30 UTC is 01:30 on the 25th in New Zealand (NZDT, +13).
        let t = Utc.with_ymd_and_hms(2026, 11, 24, 12, 30, 0).unwrap();
        assert_eq!(nz_date(t), NaiveDate::from_ymd_opt(2026, 11, 25).unwrap());
        // In winter (NZST, +12) 11:59 UTC is still before midnight.
        let t = Utc.with_ymd_and_hms(2026, 6, 10, 11, 59, 0).unwrap();
        assert_eq!(nz_date(t), NaiveDate::from_ymd_opt(2026, 6, 10).unwrap());
    }
}
