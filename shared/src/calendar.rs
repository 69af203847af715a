//! New Zealand working days: the national public holidays and working-day arithmetic.
//!
//! The SLA clocks ([`crate::sla`]) count *working days*: Monday to Friday, excluding the
//! national public holidays of the Holidays Act 2003 (as amended). This module encodes the
//! Act's rules rather than per-year tables wherever a rule exists (the holidays are listed in
//! s 44; s 45 and s 45A say when a weekend holiday is observed on a weekday instead):
//!
//! | Holiday | Rule |
//! |---|---|
//! | New Year's Day, Day after New Year's Day | 1 and 2 January, Mondayised as a pair (s 45) |
//! | Waitangi Day | 6 February; from 2014, if on a Saturday or Sunday, the following Monday (s 45A) |
//! | Good Friday, Easter Monday | from Easter Sunday (Gregorian computus) |
//! | Anzac Day | 25 April; from 2014, if on a Saturday or Sunday, the following Monday (s 45A) |
//! | Sovereign's birthday (King's Birthday) | the first Monday in June |
//! | Matariki | from 2022, the Friday fixed in Schedule 1 of Te Kāhui o Matariki Public Holiday Act 2022 |
//! | Labour Day | the fourth Monday in October |
//! | Christmas Day, Boxing Day | 25 and 26 December, Mondayised as a pair (s 45) |
//!
//! **Mondayisation of the pairs** (Christmas/Boxing Day and 1/2 January), with `first` the
//! 25 December or 1 January and `second` the day after:
//!
//! - `first` on a Friday: `second` (Saturday) is observed on Monday (first + 3);
//! - `first` on a Saturday: observed Monday (first + 2), `second` (Sunday) observed Tuesday (first + 3);
//! - `first` on a Sunday: observed Tuesday (first + 2); `second` is itself a Monday;
//! - otherwise both fall on weekdays and are observed on the day.
//!
//! (The Act frames this per employee — "if the employee does not normally work on that day" —
//! and these are the dates it gives for the usual Monday–Friday week, as published nationally.)
//!
//! Waitangi Day and Anzac Day were Mondayised by the Holidays (Full Recognition of Waitangi Day
//! and ANZAC Day) Amendment Act 2013, from 1 January 2014; before 2014 they are observed on the
//! day even at a weekend (so they do not take a working day).
//!
//! **Matariki** has no arithmetic rule: the Act's Schedule 1 fixes the dates for 2022–2052 and
//! that table is encoded here. For years after 2052 the schedule has not yet been extended, so
//! no Matariki holiday is returned (extend [`MATARIKI`] when Parliament does).
//!
//! **Scope**: national public holidays only. Regional anniversary days (Wellington, Auckland,
//! Canterbury, …) are out of scope and never count as holidays here. The rules are applied to any
//! year chrono can represent; historical accuracy before the 2003 Act is not claimed (the
//! sovereign's-birthday label switches from "Queen's Birthday" to "King's Birthday" in 2023).
//!
//! Nothing here panics: dates outside chrono's range are skipped, and
//! [`add_working_days`] saturates at [`NaiveDate::MAX`].

use chrono::{Datelike, Days, NaiveDate, Weekday};

/// Te Kāhui o Matariki Public Holiday Act 2022, Schedule 1: the observance dates, 2022–2052,
/// as `(year, month, day)`. Every one is a Friday.
pub const MATARIKI: [(i32, u32, u32); 31] = [
    (2022, 6, 24),
    (2023, 7, 14),
    (2024, 6, 28),
    (2025, 6, 20),
    (2026, 7, 10),
    (2027, 6, 25),
    (2028, 7, 14),
    (2029, 7, 6),
    (2030, 6, 21),
    (2031, 7, 11),
    (2032, 7, 2),
    (2033, 6, 24),
    (2034, 7, 7),
    (2035, 6, 29),
    (2036, 7, 18),
    (2037, 7, 10),
    (2038, 6, 25),
    (2039, 7, 15),
    (2040, 7, 6),
    (2041, 7, 19),
    (2042, 7, 11),
    (2043, 7, 3),
    (2044, 6, 24),
    (2045, 7, 7),
    (2046, 6, 29),
    (2047, 7, 19),
    (2048, 7, 3),
    (2049, 6, 25),
    (2050, 7, 15),
    (2051, 6, 30),
    (2052, 6, 21),
];

/// The first year Waitangi Day and Anzac Day are Mondayised.
const WAITANGI_ANZAC_MONDAYISED_FROM: i32 = 2014;

/// The national public holidays observed in `year`, sorted by date, with their names.
///
/// Dates are the *observed* dates (after Mondayisation). All observed dates fall within
/// `year`. Two holidays may share a date (e.g. a Mondayised Anzac Day on Easter Monday, as in
/// 2038); both are listed. Years outside chrono's range give whatever dates can be represented.
pub fn public_holidays(year: i32) -> Vec<(NaiveDate, &'static str)> {
    let mut out: Vec<(NaiveDate, &'static str)> = Vec::with_capacity(12);
    let mut push = |d: Option<NaiveDate>, name: &'static str| {
        if let Some(d) = d {
            out.push((d, name));
        }
    };

    let (ny, ny2) = mondayised_pair(ymd(year, 1, 1));
    push(ny, "New Year's Day");
    push(ny2, "Day after New Year's Day");

    push(mondayised_from_2014(year, 2, 6), "Waitangi Day");

    let easter = easter_sunday(year);
    push(easter.and_then(|e| e.checked_sub_days(Days::new(2))), "Good Friday");
    push(easter.and_then(|e| e.checked_add_days(Days::new(1))), "Easter Monday");

    push(mondayised_from_2014(year, 4, 25), "Anzac Day");

    let sovereign = if year >= 2023 { "King's Birthday" } else { "Queen's Birthday" };
    push(NaiveDate::from_weekday_of_month_opt(year, 6, Weekday::Mon, 1), sovereign);

    push(matariki(year), "Matariki");

    push(NaiveDate::from_weekday_of_month_opt(year, 10, Weekday::Mon, 4), "Labour Day");

    let (xmas, boxing) = mondayised_pair(ymd(year, 12, 25));
    push(xmas, "Christmas Day");
    push(boxing, "Boxing Day");

    out.sort_by_key(|(d, _)| *d);
    out
}

/// Whether `d` is an (observed) national public holiday.
pub fn is_public_holiday(d: NaiveDate) -> bool {
    // Cheap pre-filter: national holidays only ever fall in these months.
    if !matches!(d.month(), 1 | 2 | 3 | 4 | 6 | 7 | 10 | 12) {
        return false;
    }
    public_holidays(d.year()).iter().any(|(h, _)| *h == d)
}

/// Whether `d` is a working day: Monday to Friday and not a national public holiday.
pub fn is_working_day(d: NaiveDate) -> bool {
    is_weekday(d) && !is_public_holiday(d)
}

/// The date `n` working days after `start`.
///
/// `start` itself is never counted: the first working day strictly after `start` is day 1. So a
/// referral on a Saturday (or a holiday) starts counting from the next working day, and
/// `add_working_days(saturday, 5)` is the following Friday when there are no holidays.
/// `n == 0` returns `start` unchanged.
///
/// Saturates at [`NaiveDate::MAX`] if the count would run past chrono's last date.
pub fn add_working_days(start: NaiveDate, n: u32) -> NaiveDate {
    if n == 0 {
        return start;
    }
    // Every working day is a day: if there are fewer days left than `n`, we cannot get there.
    let days_left = NaiveDate::MAX.signed_duration_since(start).num_days();
    if i64::from(n) > days_left {
        return NaiveDate::MAX;
    }
    let mut cache = HolidayCache::default();
    let mut d = start;
    let mut counted = 0u32;
    while counted < n {
        d = match d.succ_opt() {
            Some(next) => next,
            None => return NaiveDate::MAX,
        };
        if is_weekday(d) && !cache.is_holiday(d) {
            counted += 1;
        }
    }
    d
}

/// Easter Sunday of `year` by the anonymous Gregorian algorithm (Meeus/Jones/Butcher), with
/// Euclidean division so that it also holds for proleptic negative years.
pub fn easter_sunday(year: i32) -> Option<NaiveDate> {
    let y = i64::from(year);
    let a = y.rem_euclid(19);
    let b = y.div_euclid(100);
    let c = y.rem_euclid(100);
    let d = b.div_euclid(4);
    let e = b.rem_euclid(4);
    let f = (b + 8).div_euclid(25);
    let g = (b - f + 1).div_euclid(3);
    let h = (19 * a + b - d - g + 15).rem_euclid(30);
    let i = c.div_euclid(4);
    let k = c.rem_euclid(4);
    let l = (32 + 2 * e + 2 * i - h - k).rem_euclid(7);
    let m = (a + 11 * h + 22 * l).div_euclid(451);
    let x = h + l - 7 * m + 114;
    let month = u32::try_from(x.div_euclid(31)).ok()?;
    let day = u32::try_from(x.rem_euclid(31) + 1).ok()?;
    NaiveDate::from_ymd_opt(year, month, day)
}

/// The Matariki public holiday of `year`, if Schedule 1 fixes one.
pub fn matariki(year: i32) -> Option<NaiveDate> {
    MATARIKI.iter().find(|(y, _, _)| *y == year).and_then(|&(y, m, d)| NaiveDate::from_ymd_opt(y, m, d))
}

fn ymd(year: i32, month: u32, day: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year, month, day)
}

fn is_weekday(d: NaiveDate) -> bool {
    !matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

/// Observed dates of a Mondayised pair (25/26 December or 1/2 January), given the first day.
fn mondayised_pair(first: Option<NaiveDate>) -> (Option<NaiveDate>, Option<NaiveDate>) {
    let Some(first) = first else {
        return (None, None);
    };
    let plus = |n: u64| first.checked_add_days(Days::new(n));
    match first.weekday() {
        Weekday::Fri => (Some(first), plus(3)),
        Weekday::Sat => (plus(2), plus(3)),
        Weekday::Sun => (plus(2), plus(1)),
        _ => (Some(first), plus(1)),
    }
}

/// Waitangi Day / Anzac Day: on the day, or from 2014 the following Monday if at a weekend.
fn mondayised_from_2014(year: i32, month: u32, day: u32) -> Option<NaiveDate> {
    let d = ymd(year, month, day)?;
    if year < WAITANGI_ANZAC_MONDAYISED_FROM {
        return Some(d);
    }
    match d.weekday() {
        Weekday::Sat => d.checked_add_days(Days::new(2)),
        Weekday::Sun => d.checked_add_days(Days::new(1)),
        _ => Some(d),
    }
}

/// One year's holidays at a time, so long counts don't recompute them for every day.
#[derive(Default)]
struct HolidayCache {
    year: Option<i32>,
    dates: Vec<NaiveDate>,
}

impl HolidayCache {
    fn is_holiday(&mut self, d: NaiveDate) -> bool {
        if self.year != Some(d.year()) {
            self.year = Some(d.year());
            self.dates = public_holidays(d.year()).into_iter().map(|(h, _)| h).collect();
        }
        self.dates.contains(&d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn dates(year: i32) -> Vec<NaiveDate> {
        public_holidays(year).into_iter().map(|(d, _)| d).collect()
    }

    fn named(year: i32, name: &str) -> NaiveDate {
        public_holidays(year).into_iter().find(|(_, n)| *n == name).map(|(d, _)| d).unwrap_or_else(|| panic!("{name} missing in {year}"))
    }

    #[test]
    fn holidays_2024() {
        assert_eq!(
            dates(2024),
            vec![
                date(2024, 1, 1),
                date(2024, 1, 2),
                date(2024, 2, 6),
                date(2024, 3, 29),
                date(2024, 4, 1),
                date(2024, 4, 25),
                date(2024, 6, 3),
                date(2024, 6, 28),
                date(2024, 10, 28),
                date(2024, 12, 25),
                date(2024, 12, 26),
            ]
        );
    }

    #[test]
    fn holidays_2025() {
        assert_eq!(
            dates(2025),
            vec![
                date(2025, 1, 1),
                date(2025, 1, 2),
                date(2025, 2, 6),
                date(2025, 4, 18),
                date(2025, 4, 21),
                date(2025, 4, 25),
                date(2025, 6, 2),
                date(2025, 6, 20),
                date(2025, 10, 27),
                date(2025, 12, 25),
                date(2025, 12, 26),
            ]
        );
    }

    #[test]
    fn holidays_2026() {
        let names: Vec<_> = public_holidays(2026);
        assert_eq!(
            names,
            vec![
                (date(2026, 1, 1), "New Year's Day"),
                (date(2026, 1, 2), "Day after New Year's Day"),
                (date(2026, 2, 6), "Waitangi Day"),
                (date(2026, 4, 3), "Good Friday"),
                (date(2026, 4, 6), "Easter Monday"),
                // Anzac Day 2026 is a Saturday: observed Monday 27 April.
                (date(2026, 4, 27), "Anzac Day"),
                (date(2026, 6, 1), "King's Birthday"),
                (date(2026, 7, 10), "Matariki"),
                (date(2026, 10, 26), "Labour Day"),
                (date(2026, 12, 25), "Christmas Day"),
                // Boxing Day 2026 is a Saturday: observed Monday 28 December.
                (date(2026, 12, 28), "Boxing Day"),
            ]
        );
        assert!(!is_public_holiday(date(2026, 4, 25)));
        assert!(!is_public_holiday(date(2026, 12, 26)));
    }

    #[test]
    fn holidays_2027() {
        assert_eq!(
            dates(2027),
            vec![
                date(2027, 1, 1),
                date(2027, 1, 4), // 2 Jan is a Saturday
                date(2027, 2, 8), // Waitangi on a Saturday
                date(2027, 3, 26),
                date(2027, 3, 29),
                date(2027, 4, 26), // Anzac on a Sunday
                date(2027, 6, 7),
                date(2027, 6, 25),
                date(2027, 10, 25),
                date(2027, 12, 27), // Christmas on a Saturday
                date(2027, 12, 28), // Boxing Day on a Sunday
            ]
        );
    }

    #[test]
    fn christmas_saturday_2021_goes_to_27th_and_28th() {
        assert_eq!(named(2021, "Christmas Day"), date(2021, 12, 27));
        assert_eq!(named(2021, "Boxing Day"), date(2021, 12, 28));
        // 1 Jan 2021 is a Friday: 2 Jan (Saturday) goes to Monday 4 Jan.
        assert_eq!(named(2021, "New Year's Day"), date(2021, 1, 1));
        assert_eq!(named(2021, "Day after New Year's Day"), date(2021, 1, 4));
        assert!(!is_working_day(date(2021, 12, 27)));
        assert!(!is_working_day(date(2021, 12, 28)));
        assert!(is_working_day(date(2021, 12, 29)));
    }

    #[test]
    fn christmas_sunday_2022_goes_to_tuesday_boxing_stays_monday() {
        assert_eq!(named(2022, "Christmas Day"), date(2022, 12, 27));
        assert_eq!(named(2022, "Boxing Day"), date(2022, 12, 26));
        // 1 Jan 2022 Saturday → Monday 3rd; 2 Jan Sunday → Tuesday 4th.
        assert_eq!(named(2022, "New Year's Day"), date(2022, 1, 3));
        assert_eq!(named(2022, "Day after New Year's Day"), date(2022, 1, 4));
        // 1 Jan 2023 Sunday → Tuesday 3rd; 2 Jan is Monday.
        assert_eq!(named(2023, "New Year's Day"), date(2023, 1, 3));
        assert_eq!(named(2023, "Day after New Year's Day"), date(2023, 1, 2));
        assert_eq!(named(2022, "Queen's Birthday"), date(2022, 6, 6));
        assert_eq!(named(2023, "King's Birthday"), date(2023, 6, 5));
    }

    #[test]
    fn waitangi_and_anzac_mondayised_only_from_2014() {
        // 6 Feb 2016 was a Saturday → Monday 8 Feb 2016.
        assert_eq!(named(2016, "Waitangi Day"), date(2016, 2, 8));
        // 2015: Waitangi on a Friday, Anzac on a Saturday → Monday 27 April.
        assert_eq!(named(2015, "Waitangi Day"), date(2015, 2, 6));
        assert_eq!(named(2015, "Anzac Day"), date(2015, 4, 27));
        // 2010 (before the 2013 amendment): Waitangi Saturday, Anzac Sunday — not Mondayised.
        assert_eq!(named(2010, "Waitangi Day"), date(2010, 2, 6));
        assert_eq!(named(2010, "Anzac Day"), date(2010, 4, 25));
        assert!(is_working_day(date(2010, 2, 8)));
        assert!(is_working_day(date(2010, 4, 26)));
    }

    #[test]
    fn easter() {
        assert_eq!(easter_sunday(2021), Some(date(2021, 4, 4)));
        assert_eq!(easter_sunday(2022), Some(date(2022, 4, 17)));
        assert_eq!(easter_sunday(2024), Some(date(2024, 3, 31)));
        assert_eq!(easter_sunday(2025), Some(date(2025, 4, 20)));
        assert_eq!(easter_sunday(2026), Some(date(2026, 4, 5)));
        assert_eq!(easter_sunday(2038), Some(date(2038, 4, 25)));
        assert_eq!(named(2024, "Good Friday"), date(2024, 3, 29));
        assert_eq!(named(2025, "Good Friday"), date(2025, 4, 18));
        assert_eq!(named(2026, "Good Friday"), date(2026, 4, 3));
        assert_eq!(named(2026, "Easter Monday"), date(2026, 4, 6));
    }

    #[test]
    fn anzac_sunday_on_easter_sunday_2038_coincides_with_easter_monday() {
        assert_eq!(named(2038, "Anzac Day"), date(2038, 4, 26));
        assert_eq!(named(2038, "Easter Monday"), date(2038, 4, 26));
        assert!(is_public_holiday(date(2038, 4, 26)));
        assert!(is_working_day(date(2038, 4, 27)));
    }

    #[test]
    fn kings_birthday_labour_day_matariki_2026() {
        assert_eq!(named(2026, "King's Birthday"), date(2026, 6, 1));
        assert_eq!(named(2026, "Labour Day"), date(2026, 10, 26));
        assert_eq!(named(2026, "Matariki"), date(2026, 7, 10));
    }

    #[test]
    fn matariki_schedule_is_all_fridays_and_bounded() {
        for (y, m, d) in MATARIKI {
            let day = date(y, m, d);
            assert_eq!(day.weekday(), Weekday::Fri, "{day}");
            assert!(is_public_holiday(day));
        }
        assert_eq!(matariki(2021), None);
        assert_eq!(matariki(2053), None);
        assert!(public_holidays(2021).iter().all(|(_, n)| *n != "Matariki"));
        assert!(public_holidays(2053).iter().all(|(_, n)| *n != "Matariki"));
        assert_eq!(public_holidays(2053).len(), 10);
    }

    #[test]
    fn add_working_days_from_a_saturday() {
        // Saturday 7 March 2026 + 5 → Friday 13 March.
        assert_eq!(add_working_days(date(2026, 3, 7), 5), date(2026, 3, 13));
        // Friday + 1 → Monday.
        assert_eq!(add_working_days(date(2026, 3, 6), 1), date(2026, 3, 9));
        assert_eq!(add_working_days(date(2026, 3, 6), 0), date(2026, 3, 6));
        // Across Easter 2026: Thursday 2 April + 1 → Tuesday 7 April.
        assert_eq!(add_working_days(date(2026, 4, 2), 1), date(2026, 4, 7));
    }

    #[test]
    fn no_panics_near_chrono_limits() {
        assert_eq!(add_working_days(NaiveDate::MAX, 1), NaiveDate::MAX);
        assert_eq!(add_working_days(NaiveDate::MAX, 0), NaiveDate::MAX);
        assert_eq!(add_working_days(NaiveDate::MIN, u32::MAX), NaiveDate::MAX);
        let near_end = NaiveDate::MAX - Days::new(10);
        let _ = add_working_days(near_end, 20);
        let _ = add_working_days(NaiveDate::MIN, 20);
        for y in [NaiveDate::MIN.year(), NaiveDate::MAX.year(), i32::MIN, i32::MAX, 0, -1] {
            let _ = public_holidays(y);
            let _ = easter_sunday(y);
        }
        let _ = is_working_day(NaiveDate::MIN);
        let _ = is_working_day(NaiveDate::MAX);
    }

    fn any_date() -> impl Strategy<Value = NaiveDate> {
        // 1990-01-01 .. ~2070, covering every rule era.
        (0u64..30_000).prop_map(|n| date(1990, 1, 1) + Days::new(n))
    }

    proptest! {
        #[test]
        fn result_is_a_later_working_day_with_exactly_n_between(d in any_date(), n in 1u32..80) {
            let r = add_working_days(d, n);
            prop_assert!(r > d);
            prop_assert!(is_working_day(r));
            let mut count = 0u32;
            let mut x = d;
            while x < r {
                x = x.succ_opt().unwrap();
                if is_working_day(x) { count += 1; }
            }
            prop_assert_eq!(count, n);
        }

        #[test]
        fn monotonic_in_n(d in any_date(), n in 0u32..80) {
            prop_assert!(add_working_days(d, n + 1) > add_working_days(d, n));
        }

        #[test]
        fn holidays_fall_in_their_year_and_are_sorted(y in 1900i32..2100) {
            let hs = public_holidays(y);
            prop_assert!(hs.iter().all(|(d, _)| d.year() == y));
            prop_assert!(hs.windows(2).all(|w| w[0].0 <= w[1].0));
            prop_assert!(hs.len() >= 10);
        }
    }
}
