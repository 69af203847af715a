use super::*;
use crate::case::CaseStudent;
use crate::ids::{ProviderId, SchoolId, UserId};
use crate::student::{age_on, birthday, PersonName};
use proptest::prelude::*;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// Thursday 5 March 2026, 23:30 in New Zealand: school meeting due Thu 12 March, whānau Thu 19 March.
fn referred() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 5, 10, 30, 0).unwrap()
}

fn case(status: CaseStatus, dob: NaiveDate) -> Case {
    let name = PersonName::parse("Test Student").unwrap();
    Case {
        status,
        provider_id: Some(ProviderId::parse("P01").unwrap()),
        case_manager: Some(UserId::parse("cm-p01").unwrap()),
        primary_contact: Some(UserId::parse("u-pc").unwrap()),
        version: 4,
        ..Case::bare(
            CaseId::parse("C1").unwrap(),
            SchoolId::parse("1001").unwrap(),
            CaseStudent { full_name: name, date_of_birth: dob, nsn: None, year_level: None },
            referred(),
        )
    }
}

fn paused(dob: NaiveDate) -> Case {
    let mut c = case(CaseStatus::Paused, dob);
    c.school_met_on = Some(date(2026, 3, 9));
    c.whanau_met_on = Some(date(2026, 3, 10));
    c
}

fn detail_types(ch: &CaseChange) -> Vec<&'static str> {
    ch.events.iter().map(|e| e.detail_type()).collect()
}

#[test]
fn a_paused_case_reopens_on_the_sixth_birthday_not_the_day_before() {
    let c = paused(date(2020, 8, 14));
    assert_eq!(next_due(&c), Some(date(2026, 8, 14)));
    assert_eq!(run_due(&c, date(2026, 8, 13), nz_time(date(2026, 8, 13), 1)), None);
    let now = nz_time(date(2026, 8, 14), 1);
    let ch = run_due(&c, date(2026, 8, 14), now).expect("reopened on the birthday");
    assert_eq!(ch.case.status, CaseStatus::Open);
    assert_eq!(ch.case.pause, None);
    assert_eq!(ch.case.version, 5);
    assert_eq!(ch.expected_version, Some(4));
    assert_eq!(detail_types(&ch), vec!["CaseStatusChanged", "CaseReopened"]);
    assert!(matches!(ch.events[1].event, DomainEvent::CaseReopened { trigger: ReopenTrigger::TurnedSix, from: CaseStatus::Paused, .. }));
    assert_eq!(ch.timeline.len(), 1);
    assert_eq!(ch.timeline[0].by, By::system(PROCESS));
    // both meetings were met: nothing more is due, and the case leaves the index
    assert_eq!(next_due(&ch.case), None);
    assert_eq!(run_due(&ch.case, date(2026, 8, 14), now), None);
}

#[test]
fn a_paused_case_missed_by_earlier_runs_reopens_on_a_later_day() {
    let c = paused(date(2020, 8, 14));
    assert!(run_due(&c, date(2026, 9, 1), nz_time(date(2026, 9, 1), 1)).is_some());
}

#[test]
fn a_29_february_child_reopens_on_1_march_in_a_common_year() {
    let c = paused(date(2020, 2, 29));
    assert_eq!(next_due(&c), Some(date(2026, 3, 1)));
    assert_eq!(run_due(&c, date(2026, 2, 28), nz_time(date(2026, 2, 28), 1)), None);
    let ch = run_due(&c, date(2026, 3, 1), nz_time(date(2026, 3, 1), 1)).expect("reopened on 1 March");
    assert_eq!(ch.case.status, CaseStatus::Open);
    // a date of birth of 29 February is always followed by a common year six years on
    assert_eq!(sixth_birthday(date(2016, 2, 29)), Some(date(2022, 3, 1)));
}

#[test]
fn an_sla_is_breached_the_day_after_its_due_date_and_reported_once() {
    let mut c = case(CaseStatus::Open, date(2014, 5, 1));
    c.whanau_met_on = Some(date(2026, 3, 11));
    assert_eq!(next_due(&c), Some(date(2026, 3, 13)));
    assert_eq!(run_due(&c, date(2026, 3, 12), nz_time(date(2026, 3, 12), 1)), None, "the due day itself is not breached");
    let now = nz_time(date(2026, 3, 13), 1);
    let ch = run_due(&c, date(2026, 3, 13), now).expect("breached");
    assert_eq!(ch.case.breached, vec![SlaKind::SchoolMeeting]);
    assert_eq!(ch.case.status, CaseStatus::Open);
    assert_eq!(detail_types(&ch), vec!["SlaBreached"]);
    match &ch.events[0].event {
        DomainEvent::SlaBreached { sla, due, provider_id, .. } => {
            assert_eq!(*sla, SlaKind::SchoolMeeting);
            assert_eq!(*due, date(2026, 3, 12));
            assert_eq!(provider_id.as_ref().map(|p| p.as_str()), Some("P01"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(ch.timeline.len(), 1);
    assert!(!ch.timeline[0].shared_with_school);
    assert_eq!(ch.timeline[0].kind, TimelineKind::SlaBreached { sla: SlaKind::SchoolMeeting, due: date(2026, 3, 12) });
    assert_eq!(ch.markers.len(), 1);
    assert_eq!(ch.markers[0].key, "SLA#C1#school_meeting#2026-03-12");
    assert_eq!(next_due(&ch.case), None);
    assert_eq!(run_due(&ch.case, date(2026, 3, 13), now), None);
    assert_eq!(run_due(&ch.case, date(2026, 12, 1), now), None);
}

#[test]
fn both_clocks_overdue_are_reported_in_one_change() {
    let c = case(CaseStatus::ProviderQueue, date(2014, 5, 1));
    assert_eq!(next_due(&c), Some(date(2026, 3, 13)));
    let ch = run_due(&c, date(2026, 4, 1), nz_time(date(2026, 4, 1), 1)).unwrap();
    assert_eq!(ch.case.breached, vec![SlaKind::SchoolMeeting, SlaKind::WhanauMeeting]);
    assert_eq!(detail_types(&ch), vec!["SlaBreached", "SlaBreached"]);
    assert_eq!(ch.markers.len(), 2);
    assert_eq!(ch.case.version, 5);
}

#[test]
fn the_whanau_clock_is_next_once_the_school_one_is_reported() {
    let c = case(CaseStatus::Open, date(2014, 5, 1));
    let ch = run_due(&c, date(2026, 3, 13), nz_time(date(2026, 3, 13), 1)).unwrap();
    assert_eq!(ch.case.breached, vec![SlaKind::SchoolMeeting]);
    assert_eq!(next_due(&ch.case), Some(date(2026, 3, 20)));
    let mut met = ch.case.clone();
    met.whanau_met_on = Some(date(2026, 3, 18));
    assert_eq!(next_due(&met), None);
}

#[test]
fn statuses_whose_clocks_do_not_run() {
    for status in [CaseStatus::Closed, CaseStatus::AwaitingAllocation, CaseStatus::CitReview] {
        let c = case(status, date(2014, 5, 1));
        assert_eq!(next_due(&c), None, "{status:?}");
        assert_eq!(run_due(&c, date(2027, 1, 1), nz_time(date(2027, 1, 1), 1)), None, "{status:?}");
    }
    // Transition keeps running: the deadline is fixed by the referral
    let c = case(CaseStatus::Transition, date(2014, 5, 1));
    assert_eq!(next_due(&c), Some(date(2026, 3, 13)));
}

#[test]
fn a_paused_case_reports_no_breach_until_it_reopens_then_in_the_same_change() {
    let mut c = paused(date(2020, 8, 14));
    c.school_met_on = None;
    // clocks are suspended while paused: only the birthday is due
    assert_eq!(next_due(&c), Some(date(2026, 8, 14)));
    assert_eq!(run_due(&c, date(2026, 6, 1), nz_time(date(2026, 6, 1), 1)), None);
    let ch = run_due(&c, date(2026, 8, 14), nz_time(date(2026, 8, 14), 1)).unwrap();
    assert_eq!(detail_types(&ch), vec!["CaseStatusChanged", "CaseReopened", "SlaBreached"]);
    assert_eq!(ch.case.breached, vec![SlaKind::SchoolMeeting]);
    assert_eq!(ch.case.version, c.version + 1);
}

#[test]
fn shards_spread_ids() {
    let mut counts = [0u32; SHARDS as usize];
    for i in 0..4000 {
        let id = CaseId::new_ulid();
        let _ = i;
        counts[shard(&id) as usize] += 1;
    }
    for c in counts {
        assert!(c > 700, "{counts:?}");
    }
    let id = CaseId::parse("01HZX3A7Q4").unwrap();
    assert_eq!(shard(&id), shard(&id.clone()));
}

#[test]
fn nz_time_is_that_new_zealand_date() {
    for d in [date(2026, 1, 15), date(2026, 4, 5), date(2026, 7, 1), date(2026, 9, 27)] {
        assert_eq!(crate::nz_date(nz_time(d, 1)), d);
    }
    assert_eq!(nz_time(date(2026, 7, 1), 1), Utc.with_ymd_and_hms(2026, 6, 30, 13, 0, 0).unwrap());
}

#[test]
fn no_panics_at_the_edges_of_the_calendar() {
    for dob in [NaiveDate::MIN, NaiveDate::MAX] {
        let mut c = paused(dob);
        let _ = next_due(&c);
        let _ = run_due(&c, NaiveDate::MAX, DateTime::<Utc>::MAX_UTC);
        c.status = CaseStatus::Open;
        c.school_met_on = None;
        c.referred_at = DateTime::<Utc>::MAX_UTC;
        let _ = next_due(&c);
        let _ = run_due(&c, NaiveDate::MAX, DateTime::<Utc>::MAX_UTC);
    }
}

fn any_status() -> impl Strategy<Value = CaseStatus> {
    prop::sample::select(CaseStatus::ALL.to_vec())
}

prop_compose! {
    fn any_case()(
        status in any_status(),
        dob_days in 0i64..8000,
        referred_secs in 1_600_000_000i64..1_900_000_000,
        school_met in proptest::option::of(0i64..40),
        whanau_met in proptest::option::of(0i64..40),
        breached_school in any::<bool>(),
        breached_whanau in any::<bool>(),
    ) -> Case {
        let mut c = case(status, date(2012, 1, 1) + chrono::Duration::days(dob_days));
        c.referred_at = DateTime::<Utc>::from_timestamp(referred_secs, 0).unwrap();
        let start = crate::nz_date(c.referred_at);
        c.school_met_on = school_met.map(|d| start + chrono::Duration::days(d));
        c.whanau_met_on = whanau_met.map(|d| start + chrono::Duration::days(d));
        if breached_school { c.breached.push(SlaKind::SchoolMeeting); }
        if breached_whanau { c.breached.push(SlaKind::WhanauMeeting); }
        c
    }
}

proptest! {
    /// The index and the job agree: a case is due on `today` exactly when the job has work for it.
    #[test]
    fn run_due_acts_exactly_when_next_due_has_come(c in any_case(), offset in -30i64..4000) {
        let today = crate::nz_date(c.referred_at) + chrono::Duration::days(offset);
        let due_now = next_due(&c).is_some_and(|d| d <= today);
        prop_assert_eq!(run_due(&c, today, nz_time(today, 1)).is_some(), due_now);
    }

    /// Running twice on the same day: the second run does nothing, and the case's next due date
    /// is in the future (or there is none).
    #[test]
    fn running_twice_the_same_day_does_nothing_the_second_time(c in any_case(), offset in -30i64..4000) {
        let today = crate::nz_date(c.referred_at) + chrono::Duration::days(offset);
        let now = nz_time(today, 1);
        if let Some(ch) = run_due(&c, today, now) {
            prop_assert_eq!(ch.expected_version, Some(c.version));
            prop_assert_eq!(ch.case.version, c.version + 1);
            prop_assert!(run_due(&ch.case, today, now).is_none());
            prop_assert!(next_due(&ch.case).is_none_or(|d| d > today));
            // one marker per breach event; a breach is never reported twice for a case
            let breaches = ch.events.iter().filter(|e| e.detail_type() == "SlaBreached").count();
            prop_assert_eq!(breaches, ch.markers.len());
            prop_assert_eq!(ch.case.breached.len(), c.breached.len() + breaches);
            let mut kinds = ch.case.breached.clone();
            kinds.dedup();
            prop_assert_eq!(kinds.len(), ch.case.breached.len());
            prop_assert_eq!(ch.timeline.len(), breaches + usize::from(ch.case.status != c.status));
        }
    }

    /// The sixth birthday agrees with the age rule (29 February → 1 March) and with
    /// `student::birthday`, and a paused child is reopened on it and not the day before.
    #[test]
    fn reopened_on_the_sixth_birthday_not_the_day_before(dob_days in 0i64..20_000) {
        let dob = date(1990, 1, 1) + chrono::Duration::days(dob_days);
        let b = sixth_birthday(dob).unwrap();
        prop_assert_eq!(b, birthday(dob, 6));
        prop_assert_eq!(age_on(dob, b), 6);
        prop_assert_eq!(age_on(dob, b.pred_opt().unwrap()), 5);
        let c = paused(dob);
        let before = b.pred_opt().unwrap();
        prop_assert!(run_due(&c, before, nz_time(before, 1)).is_none());
        let ch = run_due(&c, b, nz_time(b, 1));
        prop_assert_eq!(ch.map(|ch| ch.case.status), Some(CaseStatus::Open));
    }
}
