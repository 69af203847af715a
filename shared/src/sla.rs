//! SLA clocks for a case, from the Ministry guidance:
//!
//! > "The Case Manager meets the school within 5 working days and the student/whānau within
//! > 10 business days of referral."
//!
//! Both are counted in New Zealand working days ([`crate::calendar`]: Monday–Friday, excluding
//! national public holidays). The clock starts on the referral's **New Zealand** calendar date
//! (`referred_at` is an instant in UTC, converted via `Pacific/Auckland` as [`crate::nz_date`]
//! does), and the referral day itself is not counted: the due date is
//! [`add_working_days`]`(nz_date(referred_at), n)`.
//!
//! The state of a clock on a given (NZ) `today`:
//!
//! - **Met** once a meeting date is recorded — even if late ([`SlaState::Met::met_late`] says so);
//! - **Breached** if there is no meeting and `today` is after the due date;
//! - **Due** otherwise. The due day itself is not yet breached.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::calendar::add_working_days;

/// Which SLA clock.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SlaKind {
    /// The Case Manager meets the school: 5 working days.
    SchoolMeeting,
    /// The Case Manager meets the student/whānau: 10 working days.
    WhanauMeeting,
}

impl SlaKind {
    /// Both clocks, in the order they fall due.
    pub const ALL: [SlaKind; 2] = [SlaKind::SchoolMeeting, SlaKind::WhanauMeeting];

    /// The working days allowed from referral.
    pub fn working_days(self) -> u32 {
        match self {
            SlaKind::SchoolMeeting => 5,
            SlaKind::WhanauMeeting => 10,
        }
    }
}

/// Where a clock stands.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(tag = "state", rename_all = "snake_case", rename_all_fields = "camelCase")]
pub enum SlaState {
    /// The meeting happened `on` this date; `metLate` if that was after the due date (camelCase
    /// like the rest of the API).
    Met {
        on: NaiveDate,
        #[serde(alias = "met_late")]
        met_late: bool,
    },
    /// Not yet met, and not yet overdue: due `by` this date (inclusive).
    Due { by: NaiveDate },
    /// Not met, and the `due` date has passed.
    Breached { due: NaiveDate },
}

/// One clock as a case view shows it.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SlaView {
    pub kind: SlaKind,
    pub due: NaiveDate,
    pub state: SlaState,
}

/// The date by which the `kind` meeting must happen: `kind.working_days()` working days after
/// the referral's New Zealand date.
pub fn due_date(kind: SlaKind, referred_at: DateTime<Utc>) -> NaiveDate {
    add_working_days(crate::nz_date(referred_at), kind.working_days())
}

/// The state of the `kind` clock on `today` (a New Zealand date), given the recorded meeting
/// date if any.
pub fn sla_state(kind: SlaKind, referred_at: DateTime<Utc>, met_on: Option<NaiveDate>, today: NaiveDate) -> SlaState {
    state_for_due(due_date(kind, referred_at), met_on, today)
}

/// Both clocks (school meeting, then whānau meeting) for a case.
pub fn sla_views(
    referred_at: DateTime<Utc>,
    school_met: Option<NaiveDate>,
    whanau_met: Option<NaiveDate>,
    today: NaiveDate,
) -> Vec<SlaView> {
    SlaKind::ALL
        .into_iter()
        .map(|kind| {
            let met_on = match kind {
                SlaKind::SchoolMeeting => school_met,
                SlaKind::WhanauMeeting => whanau_met,
            };
            let due = due_date(kind, referred_at);
            SlaView { kind, due, state: state_for_due(due, met_on, today) }
        })
        .collect()
}

fn state_for_due(due: NaiveDate, met_on: Option<NaiveDate>, today: NaiveDate) -> SlaState {
    match met_on {
        Some(on) => SlaState::Met { on, met_late: on > due },
        None if today > due => SlaState::Breached { due },
        None => SlaState::Due { by: due },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nz_date;
    use chrono::TimeZone;
    use chrono::{Datelike, Weekday};
    use proptest::prelude::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    #[test]
    fn working_days_per_kind() {
        assert_eq!(SlaKind::SchoolMeeting.working_days(), 5);
        assert_eq!(SlaKind::WhanauMeeting.working_days(), 10);
    }

    #[test]
    fn friday_evening_nz_is_friday_morning_utc() {
        // Friday 6 March 2026, 19:00 NZDT (+13) = 06:00 UTC the same Friday.
        let t = utc(2026, 3, 6, 6, 0);
        assert_eq!(nz_date(t).weekday(), Weekday::Fri);
        assert_eq!(due_date(SlaKind::SchoolMeeting, t), date(2026, 3, 13));
        assert_eq!(due_date(SlaKind::WhanauMeeting, t), date(2026, 3, 20));
    }

    #[test]
    fn nz_midnight_moves_the_due_date_by_a_day() {
        // Thursday 5 March 2026 23:30 NZDT = 10:30 UTC Thursday.
        let thursday_night = utc(2026, 3, 5, 10, 30);
        // Friday 6 March 2026 00:30 NZDT = 11:30 UTC Thursday.
        let friday_early = utc(2026, 3, 5, 11, 30);
        assert_eq!(due_date(SlaKind::SchoolMeeting, thursday_night), date(2026, 3, 12));
        assert_eq!(due_date(SlaKind::SchoolMeeting, friday_early), date(2026, 3, 13));
        assert_eq!(due_date(SlaKind::WhanauMeeting, thursday_night), date(2026, 3, 19));
        assert_eq!(due_date(SlaKind::WhanauMeeting, friday_early), date(2026, 3, 20));
    }

    #[test]
    fn across_easter_2026() {
        // Wednesday 1 April 2026, 10:00 NZDT. Good Friday 3 Apr and Easter Monday 6 Apr don't count.
        let t = utc(2026, 3, 31, 21, 0);
        assert_eq!(nz_date(t), date(2026, 4, 1));
        assert_eq!(due_date(SlaKind::SchoolMeeting, t), date(2026, 4, 10));
        assert_eq!(due_date(SlaKind::WhanauMeeting, t), date(2026, 4, 17));
    }

    #[test]
    fn across_christmas_2026() {
        // Wednesday 23 December 2026, 14:00 NZDT. Christmas (Fri 25), Boxing Day (observed Mon 28),
        // New Year (Fri 1 Jan) and 2 January (observed Mon 4 Jan) don't count.
        let t = utc(2026, 12, 23, 1, 0);
        assert_eq!(nz_date(t), date(2026, 12, 23));
        assert_eq!(due_date(SlaKind::SchoolMeeting, t), date(2027, 1, 5));
        assert_eq!(due_date(SlaKind::WhanauMeeting, t), date(2027, 1, 12));
    }

    #[test]
    fn due_day_is_not_breached_the_day_after_is() {
        let t = utc(2026, 3, 5, 10, 30); // school meeting due Thursday 12 March
        let due = date(2026, 3, 12);
        assert_eq!(sla_state(SlaKind::SchoolMeeting, t, None, date(2026, 3, 6)), SlaState::Due { by: due });
        assert_eq!(sla_state(SlaKind::SchoolMeeting, t, None, due), SlaState::Due { by: due });
        assert_eq!(sla_state(SlaKind::SchoolMeeting, t, None, date(2026, 3, 13)), SlaState::Breached { due });
    }

    #[test]
    fn met_is_met_even_when_late() {
        let t = utc(2026, 3, 5, 10, 30);
        let today = date(2026, 4, 30);
        assert_eq!(
            sla_state(SlaKind::SchoolMeeting, t, Some(date(2026, 3, 12)), today),
            SlaState::Met { on: date(2026, 3, 12), met_late: false }
        );
        assert_eq!(
            sla_state(SlaKind::SchoolMeeting, t, Some(date(2026, 3, 13)), today),
            SlaState::Met { on: date(2026, 3, 13), met_late: true }
        );
    }

    #[test]
    fn views_and_their_json() {
        let t = utc(2026, 3, 5, 10, 30);
        let views = sla_views(t, Some(date(2026, 3, 10)), None, date(2026, 3, 20));
        assert_eq!(
            views,
            vec![
                SlaView {
                    kind: SlaKind::SchoolMeeting,
                    due: date(2026, 3, 12),
                    state: SlaState::Met { on: date(2026, 3, 10), met_late: false },
                },
                SlaView { kind: SlaKind::WhanauMeeting, due: date(2026, 3, 19), state: SlaState::Breached { due: date(2026, 3, 19) } },
            ]
        );
        let json = serde_json::to_value(&views).unwrap();
        assert_eq!(
            json,
            serde_json::json!([
                { "kind": "school_meeting", "due": "2026-03-12",
                  "state": { "state": "met", "on": "2026-03-10", "metLate": false } },
                { "kind": "whanau_meeting", "due": "2026-03-19",
                  "state": { "state": "breached", "due": "2026-03-19" } },
            ])
        );
        let back: Vec<SlaView> = serde_json::from_value(json).unwrap();
        assert_eq!(back, views);
        let due = serde_json::to_value(SlaState::Due { by: date(2026, 3, 19) }).unwrap();
        assert_eq!(due, serde_json::json!({ "state": "due", "by": "2026-03-19" }));
    }

    #[test]
    fn no_panics_at_the_limits() {
        for t in [DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC] {
            let _ = sla_views(t, None, None, NaiveDate::MAX);
            let _ = sla_views(t, Some(NaiveDate::MIN), Some(NaiveDate::MAX), NaiveDate::MIN);
        }
    }

    proptest! {
        #[test]
        fn referral_date_is_nz_date(secs in -5_000_000_000i64..10_000_000_000) {
            let t = DateTime::<Utc>::from_timestamp(secs, 0).unwrap();
            prop_assert_eq!(due_date(SlaKind::SchoolMeeting, t), crate::calendar::add_working_days(nz_date(t), 5));
        }

        #[test]
        fn state_is_consistent(
            secs in 1_500_000_000i64..2_500_000_000,
            met in proptest::option::of(0i64..60),
            today in 0i64..60,
        ) {
            let t = DateTime::<Utc>::from_timestamp(secs, 0).unwrap();
            let start = nz_date(t);
            let met_on = met.map(|d| start + chrono::Duration::days(d));
            let today = start + chrono::Duration::days(today);
            for view in sla_views(t, met_on, met_on, today) {
                prop_assert!(view.due > start);
                match view.state {
                    SlaState::Met { on, met_late } => {
                        prop_assert_eq!(Some(on), met_on);
                        prop_assert_eq!(met_late, on > view.due);
                    }
                    SlaState::Due { by } => {
                        prop_assert!(met_on.is_none());
                        prop_assert_eq!(by, view.due);
                        prop_assert!(today <= by);
                    }
                    SlaState::Breached { due } => {
                        prop_assert!(met_on.is_none());
                        prop_assert_eq!(due, view.due);
                        prop_assert!(today > due);
                    }
                }
            }
        }
    }
}
