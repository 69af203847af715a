use super::*;
use crate::actor::{Org, Role};
use crate::case::CaseStudent;
use crate::catchment::AllocationChoice;
use crate::enrol::NenDetails;
use crate::ids::{ProviderId, ReferralId, UserId};
use crate::referral::{Address, ReferralForm, Student, Whanau};
use crate::student::{Nsn, PersonName, StudentKey, YearLevel};
use chrono::TimeZone;
use proptest::prelude::*;

const SCHOOL: &str = "1001";

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// Noon in New Zealand on that date (unambiguous NZ date).
fn nz_noon(date: NaiveDate) -> DateTime<Utc> {
    let t = chrono_tz::Pacific::Auckland.from_local_datetime(&date.and_hms_opt(12, 0, 0).unwrap()).single().unwrap();
    t.with_timezone(&Utc)
}

fn name() -> PersonName {
    PersonName::parse("Aroha Testchild").unwrap()
}
fn dob() -> NaiveDate {
    d(2014, 5, 1)
}

fn prev(id: &str, case_type: CaseType, status: CaseStatus) -> Case {
    let now = nz_noon(d(2026, 1, 10));
    Case {
        id: CaseId::parse(id).unwrap(),
        case_type,
        status,
        school_id: SchoolId::parse("1085").unwrap(),
        region_id: None,
        catchment_id: None,
        provider_id: Some(ProviderId::parse("P01").unwrap()),
        case_manager: Some(UserId::parse("cm-p01").unwrap()),
        primary_contact: None,
        allocation_choice: None,
        referral_id: None,
        nen: None,
        school_met_on: Some(d(2026, 1, 12)),
        whanau_met_on: None,
        breached: vec![crate::sla::SlaKind::WhanauMeeting],
        has_safety_notes: false,
        student_key: StudentKey::from_name_dob(&name(), dob()),
        student: CaseStudent { full_name: name(), date_of_birth: dob(), nsn: None, year_level: None },
        whanau: vec![],
        home_address: None,
        alternative_address: None,
        reason: None,
        actions_taken: None,
        referred_at: now,
        created_at: now,
        updated_at: now,
        closed_at: None,
        close_reason: None,
        pause: None,
        version: 4,
    }
}

fn closed_on(id: &str, on: NaiveDate) -> Case {
    let mut c = prev(id, CaseType::Ca, CaseStatus::Closed);
    c.closed_at = Some(nz_noon(on));
    c.close_reason = Some(crate::lifecycle::CloseReason::AttendingRegularly);
    c
}

fn nen(id: &str, status: CaseStatus, enrolled_at: Option<&str>) -> Case {
    let mut c = prev(id, CaseType::Nen, status);
    if status == CaseStatus::CitReview {
        c.provider_id = None;
        c.case_manager = None;
    }
    c.nen = Some(NenDetails {
        notification_id: "N1".into(),
        last_day_of_attendance: d(2025, 12, 1),
        withdrawal_reason: "moved".into(),
        comments: None,
        enrolled_at: enrolled_at.map(|s| SchoolId::parse(s).unwrap()),
        enrolled_on: None,
    });
    c
}

fn who() -> StudentIdentity {
    StudentIdentity::new(None, &name(), dob())
}
fn school() -> SchoolId {
    SchoolId::parse(SCHOOL).unwrap()
}

fn lead() -> Actor {
    Actor::new(UserId::parse("lead-1001").unwrap(), Role::AttendanceLead, Org::School(school())).unwrap()
}

fn referral() -> Referral {
    let t = nz_noon(d(2026, 3, 1));
    Referral {
        id: ReferralId::parse("R9").unwrap(),
        school_id: school(),
        status: ReferralStatus::Draft,
        form: ReferralForm::default(),
        created_by: UserId::parse("lead-1001").unwrap(),
        created_at: t,
        updated_at: t,
        submitted_at: None,
        case_id: None,
        version: 2,
    }
}

fn valid() -> ValidReferral {
    let addr = Address { street: "1 Test St".into(), suburb: None, town: "Testtown".into(), postcode: None };
    ValidReferral {
        school_id: school(),
        region_id: None,
        student: Student {
            full_name: name(),
            date_of_birth: dob(),
            nsn: Some(Nsn::parse("123456").unwrap()),
            year_level: YearLevel::parse(7).unwrap(),
        },
        whanau: vec![Whanau {
            name: PersonName::parse("Mere Testparent").unwrap(),
            relationship: None,
            phone: Some("021 555 0101".into()),
            email: None,
        }],
        home_address: addr,
        alternative_address: None,
        reason: "absent".into(),
        actions_taken: "plan".into(),
        primary_contact: UserId::parse("contact-1001").unwrap(),
        allocation: AllocationChoice::Catchment,
    }
}

fn types(c: &CaseChange) -> Vec<&'static str> {
    c.events.iter().map(|e| e.detail_type()).collect()
}

#[test]
fn window_boundary_is_three_calendar_months_in_nz_dates() {
    // closed 10 January → reopens through 9 April; 10 April is "exactly 3 months later": new case
    let closed = nz_noon(d(2026, 1, 10));
    assert_eq!(reopen_window_end(closed), d(2026, 4, 10));
    assert!(within_reopen_window(closed, d(2026, 4, 9)));
    assert!(!within_reopen_window(closed, d(2026, 4, 10)));
    // end-of-month clamping: 30 November → 28 February (29 in a leap year); 31 August → 30 November
    assert_eq!(reopen_window_end(nz_noon(d(2025, 11, 30))), d(2026, 2, 28));
    assert_eq!(reopen_window_end(nz_noon(d(2027, 11, 30))), d(2028, 2, 29));
    assert_eq!(reopen_window_end(nz_noon(d(2026, 8, 31))), d(2026, 11, 30));
    // the NZ date counts, not UTC: 23:30 NZDT on 31 January is still 31 January in NZ (10:30 UTC)
    let late = Utc.with_ymd_and_hms(2026, 1, 31, 10, 30, 0).unwrap();
    assert_eq!(crate::nz_date(late), d(2026, 1, 31));
    assert_eq!(reopen_window_end(late), d(2026, 4, 30));
    // 00:30 NZDT on 1 February is 31 January in UTC, but 1 February in NZ
    let early = Utc.with_ymd_and_hms(2026, 1, 31, 11, 30, 0).unwrap();
    assert_eq!(reopen_window_end(early), d(2026, 5, 1));
}

#[test]
fn classify_each_outcome() {
    let today = d(2026, 3, 1);
    assert_eq!(classify(&[], &who(), &school(), today), Intake::New);
    let recent = closed_on("C1", d(2026, 1, 10));
    assert_eq!(classify(&[recent.clone()], &who(), &school(), today), Intake::Reopen(recent.clone()));
    let old = closed_on("C0", d(2025, 6, 1));
    assert_eq!(classify(&[old.clone()], &who(), &school(), today), Intake::New);
    // the most recently closed one is reopened
    assert_eq!(classify(&[recent.clone(), old], &who(), &school(), today), Intake::Reopen(recent.clone()));
    // an active CA case refuses, whatever else there is
    let active = prev("C2", CaseType::Ca, CaseStatus::Open);
    assert_eq!(classify(&[recent.clone(), active.clone()], &who(), &school(), today), Intake::Active(active));
    // a NEN enrolled here converts; enrolled elsewhere (or not yet) is left alone
    let here = nen("N1", CaseStatus::CitReview, Some(SCHOOL));
    assert_eq!(classify(&[recent.clone(), here.clone()], &who(), &school(), today), Intake::Convert(here));
    let elsewhere = nen("N2", CaseStatus::Open, Some("1085"));
    assert_eq!(classify(&[elsewhere], &who(), &school(), today), Intake::New);
    let closed_nen = {
        let mut c = nen("N3", CaseStatus::Closed, Some(SCHOOL));
        c.closed_at = Some(nz_noon(d(2025, 1, 1)));
        c
    };
    assert_eq!(classify(&[closed_nen], &who(), &school(), today), Intake::New);
    // a closed case that never had a provider (a NEN closed in CIT review) is not reopened
    let mut no_provider = closed_on("C5", d(2026, 2, 1));
    no_provider.provider_id = None;
    assert_eq!(classify(&[no_provider], &who(), &school(), today), Intake::New);
}

#[test]
fn other_students_cases_are_ignored() {
    let mut someone = prev("C7", CaseType::Ca, CaseStatus::Open);
    someone.student.full_name = PersonName::parse("Someone Else").unwrap();
    assert_eq!(classify(&[someone], &who(), &school(), d(2026, 3, 1)), Intake::New);
    // same name and birthday, but both NSNs known and different: another child
    let mut twin = prev("C8", CaseType::Ca, CaseStatus::Open);
    twin.student.nsn = Some(Nsn::parse("999").unwrap());
    let with_nsn = StudentIdentity::new(Some(&Nsn::parse("123").unwrap()), &name(), dob());
    assert_eq!(classify(&[twin.clone()], &with_nsn, &school(), d(2026, 3, 1)), Intake::New);
    assert_eq!(classify(&[twin.clone()], &who(), &school(), d(2026, 3, 1)), Intake::Active(twin));
}

#[test]
fn reopen_returns_the_same_case_to_its_providers_queue() {
    let c = closed_on("C1", d(2026, 1, 10));
    let r = referral();
    let now = nz_noon(d(2026, 3, 1));
    let a = submit(&[c.clone()], &r, &valid(), CaseId::parse("NEW").unwrap(), now, &lead()).unwrap();
    assert_eq!(a.outcome, Outcome::Reopened);
    let ch = &a.change;
    assert_eq!(ch.case.id, c.id);
    assert_eq!(ch.case.status, CaseStatus::ProviderQueue);
    assert_eq!(ch.case.provider_id, c.provider_id);
    assert_eq!(ch.case.case_manager, None);
    assert_eq!(ch.case.closed_at, None);
    assert_eq!(ch.case.close_reason, None);
    assert_eq!(ch.case.referred_at, now, "new SLA clocks start with the new request");
    assert_eq!((ch.case.school_met_on, ch.case.whanau_met_on), (None, None));
    assert!(ch.case.breached.is_empty());
    assert_eq!(ch.case.school_id, school());
    assert_eq!(ch.case.reason.as_deref(), Some("absent"));
    assert_eq!(ch.expected_version, Some(c.version));
    assert_eq!(ch.case.version, c.version + 1);
    assert!(matches!(ch.timeline[0].kind, TimelineKind::ReopenedByRequest { .. }));
    assert_eq!(types(ch), vec!["ReferralSubmitted", "CaseStatusChanged", "CaseReopened"]);
    match &ch.events[2].event {
        DomainEvent::CaseReopened { trigger, from, .. } => {
            assert_eq!(*trigger, ReopenTrigger::NewRequest);
            assert_eq!(*from, CaseStatus::Closed);
        }
        other => panic!("{other:?}"),
    }
    let (sub, expected) = ch.referral.clone().unwrap();
    assert_eq!((sub.status, sub.case_id, expected), (ReferralStatus::Submitted, Some(c.id.clone()), r.version));
}

#[test]
fn conversion_in_cit_review_goes_to_allocation_as_ca() {
    let c = nen("N1", CaseStatus::CitReview, Some(SCHOOL));
    let a = submit(&[c.clone()], &referral(), &valid(), CaseId::parse("NEW").unwrap(), nz_noon(d(2026, 3, 1)), &lead()).unwrap();
    assert_eq!(a.outcome, Outcome::Converted);
    let ch = &a.change;
    assert_eq!(ch.case.id, c.id);
    assert_eq!(ch.case.case_type, CaseType::Ca);
    assert_eq!(ch.case.status, CaseStatus::AwaitingAllocation);
    assert_eq!(ch.case.school_id, school());
    assert_eq!(ch.case.primary_contact.as_ref().map(|u| u.as_str()), Some("contact-1001"));
    assert_eq!(ch.case.allocation_choice, Some(AllocationChoice::Catchment));
    assert_eq!(ch.case.whanau.len(), 1);
    assert!(ch.case.nen.is_some(), "the NEN history stays");
    assert_eq!(ch.case.student.nsn, Some(Nsn::parse("123456").unwrap()));
    assert_eq!(ch.case.student_key, valid().student.key());
    assert!(matches!(ch.timeline[0].kind, TimelineKind::ConvertedToCa { .. }));
    assert_eq!(types(ch), vec!["ReferralSubmitted", "CaseStatusChanged", "CaseCreated"]);
    assert!(matches!(&ch.events[2].event, DomainEvent::CaseCreated { case_type: CaseType::Ca, .. }));
}

#[test]
fn conversion_with_a_provider_stays_with_it() {
    let c = nen("N1", CaseStatus::Open, Some(SCHOOL));
    let a = submit(&[c.clone()], &referral(), &valid(), CaseId::parse("NEW").unwrap(), nz_noon(d(2026, 3, 1)), &lead()).unwrap();
    let ch = &a.change;
    assert_eq!(ch.case.status, CaseStatus::Open);
    assert_eq!(ch.case.provider_id, c.provider_id);
    assert_eq!(ch.case.case_manager, c.case_manager);
    assert_eq!(ch.case.case_type, CaseType::Ca);
    assert_eq!(types(ch), vec!["ReferralSubmitted"]);
    assert_eq!(ch.timeline.len(), 1);
}

#[test]
fn new_and_active() {
    let now = nz_noon(d(2026, 3, 1));
    let a = submit(&[], &referral(), &valid(), CaseId::parse("NEW").unwrap(), now, &lead()).unwrap();
    assert_eq!(a.outcome, Outcome::Created);
    assert_eq!(a.change.case.id.as_str(), "NEW");
    let active = prev("C2", CaseType::Ca, CaseStatus::Paused);
    assert_eq!(submit(&[active.clone()], &referral(), &valid(), CaseId::parse("NEW").unwrap(), now, &lead()), Err(Box::new(active)));
}

proptest! {
    /// Reopen exactly when the request's NZ date is before closure date + 3 months; whatever the
    /// dates, a reopen keeps the id and lands in the provider queue, a new case gets the new id.
    #[test]
    fn reopen_iff_before_three_months(closed_days in 0i64..3000, gap in 0i64..200, hour in 0u32..24) {
        let closed_on_date = d(2020, 1, 1) + chrono::Duration::days(closed_days);
        let closed_at = Utc.with_ymd_and_hms(2020, 1, 1, hour, 0, 0).unwrap() + chrono::Duration::days(closed_days);
        let closed_nz = crate::nz_date(closed_at);
        let today = closed_nz + chrono::Duration::days(gap);
        let mut c = closed_on("C1", closed_on_date);
        c.closed_at = Some(closed_at);
        let expect = today < closed_nz.checked_add_months(Months::new(3)).unwrap();
        let got = classify(&[c.clone()], &who(), &school(), today);
        prop_assert_eq!(matches!(got, Intake::Reopen(_)), expect);
        prop_assert_eq!(matches!(got, Intake::New), !expect);
        // monotone: once past the window, every later day is past it too
        if !expect {
            prop_assert!(!within_reopen_window(closed_at, today + chrono::Duration::days(1)));
        }
        // 3 months is between 89 and 92 days
        let end = reopen_window_end(closed_at);
        let days = (end - closed_nz).num_days();
        prop_assert!((89..=92).contains(&days), "{} days", days);
    }

    /// Whatever mix of previous cases, an accepted submission never leaves the student with two
    /// active CA cases, and a converted or reopened case keeps its id and history.
    #[test]
    fn submission_outcomes_are_consistent(kinds in proptest::collection::vec((0usize..7, 0usize..3, 0i64..200), 0..5)) {
        let now = nz_noon(d(2026, 3, 1));
        let mut cases = Vec::new();
        for (i, (st, ty, days_ago)) in kinds.into_iter().enumerate() {
            let status = CaseStatus::ALL[st];
            let id = format!("C{i}");
            let mut c = match ty {
                0 => prev(&id, CaseType::Ca, status),
                1 => nen(&id, status, Some(SCHOOL)),
                _ => nen(&id, status, None),
            };
            if status == CaseStatus::Closed {
                c.closed_at = Some(now - chrono::Duration::days(days_ago));
                c.close_reason = Some(crate::lifecycle::CloseReason::AttendingRegularly);
            }
            cases.push(c);
        }
        let active_ca = cases.iter().any(|c| c.case_type == CaseType::Ca && c.status != CaseStatus::Closed);
        match submit(&cases, &referral(), &valid(), CaseId::parse("NEW").unwrap(), now, &lead()) {
            Err(c) => {
                prop_assert!(active_ca);
                prop_assert!(c.status != CaseStatus::Closed && c.case_type == CaseType::Ca);
            }
            Ok(a) => {
                prop_assert!(!active_ca);
                let ch = &a.change;
                prop_assert_eq!(ch.case.case_type, CaseType::Ca);
                prop_assert!(ch.case.status != CaseStatus::Closed);
                prop_assert_eq!(ch.case.closed_at, None);
                prop_assert_eq!(ch.referral.as_ref().and_then(|(r, _)| r.case_id.clone()), Some(ch.case.id.clone()));
                let status_events = ch.events.iter().filter(|e| e.detail_type() == "CaseStatusChanged").count();
                let status_entries = ch.timeline.iter().filter(|e| matches!(e.kind, TimelineKind::StatusChanged { .. })).count();
                prop_assert_eq!(status_events, status_entries);
                match a.outcome {
                    Outcome::Created => {
                        prop_assert_eq!(ch.case.id.as_str(), "NEW");
                        prop_assert_eq!(ch.expected_version, None);
                    }
                    Outcome::Converted | Outcome::Reopened => {
                        let before = cases.iter().find(|c| c.id == ch.case.id);
                        prop_assert!(before.is_some());
                        prop_assert_eq!(ch.expected_version, before.map(|c| c.version));
                    }
                }
            }
        }
    }
}
