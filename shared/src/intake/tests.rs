use super::*;
use crate::access::can_view_case;
use crate::actor::{Org, Role};
use crate::case::CaseStudent;
use crate::catchment::AllocationChoice;
use crate::enrol::NenDetails;
use crate::ids::{ProviderId, ReferralId, UserId};
use crate::referral::{Address, ReferralForm, ReferralStatus, Student, Whanau};
use crate::student::{Nsn, PersonName, StudentKeys, YearLevel};
use chrono::TimeZone;
use proptest::prelude::*;
use std::collections::{HashMap, HashSet};

const SCHOOL: &str = "1001";
const NSN: &str = "123456";

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// Noon in New Zealand on that date (unambiguous NZ date).
fn nz_noon(date: NaiveDate) -> DateTime<Utc> {
    let t = chrono_tz::Pacific::Auckland.from_local_datetime(&date.and_hms_opt(12, 0, 0).unwrap()).single().unwrap();
    t.with_timezone(&Utc)
}

fn keys() -> StudentKeys {
    StudentKeys::new(b"intake-test-secret").unwrap()
}
fn name() -> PersonName {
    PersonName::parse("Aroha Testchild").unwrap()
}
fn dob() -> NaiveDate {
    d(2014, 5, 1)
}
fn nsn(n: &str) -> Nsn {
    Nsn::parse(n).unwrap()
}
fn who() -> StudentIdentity {
    keys().identify(&nsn(NSN), &name(), dob())
}

/// A case of the student (NSN 123456) referred by school 1085, with provider P01.
fn prev(id: &str, case_type: CaseType, status: CaseStatus) -> Case {
    let now = nz_noon(d(2026, 1, 10));
    let student = CaseStudent { full_name: name(), date_of_birth: dob(), nsn: Some(nsn(NSN)), year_level: None };
    Case {
        case_type,
        status,
        provider_id: Some(ProviderId::parse("P01").unwrap()),
        case_manager: Some(UserId::parse("cm-p01").unwrap()),
        school_met_on: Some(d(2026, 1, 12)),
        breached: vec![crate::sla::SlaKind::WhanauMeeting],
        student_key: who().nsn_key,
        name_key: who().name_key,
        version: 4,
        ..Case::bare(CaseId::parse(id).unwrap(), SchoolId::parse("1085").unwrap(), student, now)
    }
}

fn at_school(mut c: Case, school: &str) -> Case {
    c.school_id = SchoolId::parse(school).unwrap();
    c
}

fn closed_on(id: &str, on: NaiveDate) -> Case {
    let mut c = at_school(prev(id, CaseType::Ca, CaseStatus::Closed), SCHOOL);
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
    if let Some(s) = enrolled_at {
        // ENROL's enrolment moved the case to the enrolling school
        c.school_id = SchoolId::parse(s).unwrap();
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

fn school() -> SchoolId {
    SchoolId::parse(SCHOOL).unwrap()
}

fn lead_of(school: &str) -> Actor {
    Actor::new(UserId::parse(format!("lead-{school}")).unwrap(), Role::AttendanceLead, Org::School(SchoolId::parse(school).unwrap()))
        .unwrap()
}
fn lead() -> Actor {
    lead_of(SCHOOL)
}

fn record(active: Option<Case>, previous: Vec<Case>) -> StudentRecord {
    StudentRecord { active, previous, enrolled_at: None }
}

fn referral_from(school: &str) -> Referral {
    let t = nz_noon(d(2026, 3, 1));
    Referral {
        id: ReferralId::parse(format!("R-{school}")).unwrap(),
        school_id: SchoolId::parse(school).unwrap(),
        status: ReferralStatus::Draft,
        form: ReferralForm::default(),
        created_by: UserId::parse(format!("lead-{school}")).unwrap(),
        created_at: t,
        updated_at: t,
        submitted_at: None,
        case_id: None,
        outcome: None,
        version: 2,
    }
}
fn referral() -> Referral {
    referral_from(SCHOOL)
}

fn valid_for(school: &str, student_nsn: &str, student_name: &PersonName) -> ValidReferral {
    let addr = Address { street: "1 Test St".into(), suburb: None, town: "Testtown".into(), postcode: None };
    ValidReferral {
        school_id: SchoolId::parse(school).unwrap(),
        region_id: None,
        student: Student {
            full_name: student_name.clone(),
            date_of_birth: dob(),
            nsn: nsn(student_nsn),
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
        primary_contact: UserId::parse(format!("contact-{school}")).unwrap(),
        allocation: AllocationChoice::Catchment,
    }
}
fn valid() -> ValidReferral {
    valid_for(SCHOOL, NSN, &name())
}

fn types(c: &CaseChange) -> Vec<&'static str> {
    c.events.iter().map(|e| e.detail_type()).collect()
}

fn submit_one(rec: &StudentRecord, now: DateTime<Utc>) -> Result<Accepted, Box<Case>> {
    submit(rec, &who(), &referral(), &valid(), CaseId::parse("NEW").unwrap(), now, &lead())
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
    let c = |r: &StudentRecord| classify(r, &who(), &school(), &lead(), today);
    assert_eq!(c(&record(None, vec![])), Intake::New { possible_duplicate_of: None });
    let recent = closed_on("C1", d(2026, 1, 10));
    assert_eq!(c(&record(None, vec![recent.clone()])), Intake::Reopen(recent.clone()));
    let old = closed_on("C0", d(2025, 6, 1));
    assert_eq!(c(&record(None, vec![old.clone()])), Intake::New { possible_duplicate_of: None });
    // the most recently closed one is reopened
    assert_eq!(c(&record(None, vec![recent.clone(), old])), Intake::Reopen(recent.clone()));
    // an active case of this school refuses, whatever else there is; from the item or an index row
    let active = at_school(prev("C2", CaseType::Ca, CaseStatus::Open), SCHOOL);
    assert_eq!(c(&record(Some(active.clone()), vec![recent.clone()])), Intake::Active(active.clone()));
    assert_eq!(c(&record(None, vec![recent.clone(), active.clone()])), Intake::Active(active));
    // a NEN enrolled here converts
    let here = nen("N1", CaseStatus::CitReview, Some(SCHOOL));
    assert_eq!(c(&record(Some(here.clone()), vec![recent.clone()])), Intake::Convert(here));
    // a closed case that never had a provider (a NEN closed in CIT review) is not reopened
    let mut no_provider = closed_on("C5", d(2026, 2, 1));
    no_provider.provider_id = None;
    assert_eq!(c(&record(None, vec![no_provider])), Intake::New { possible_duplicate_of: None });
}

/// Observation 1 (case takeover): school 1085's request carrying the name and date of birth of
/// school 1001's recently closed case must not get that case back.
#[test]
fn a_name_and_date_of_birth_match_never_reopens_it_is_a_possible_duplicate() {
    let today = d(2026, 3, 1);
    let theirs = closed_on("C1", d(2026, 2, 10)); // school 1001's case
                                                  // another school, another NSN, same name and date of birth
    let other = keys().identify(&nsn("999999"), &name(), dob());
    let got = classify(&record(None, vec![theirs.clone()]), &other, &SchoolId::parse("1085").unwrap(), &lead_of("1085"), today);
    assert_eq!(got, Intake::New { possible_duplicate_of: Some(theirs.id.clone()) });
    // the new case carries the flag, on a timeline entry school users do not see
    let v = valid_for("1085", "999999", &name());
    let a = submit(
        &record(None, vec![theirs.clone()]),
        &other,
        &referral_from("1085"),
        &v,
        CaseId::parse("NEW").unwrap(),
        nz_noon(today),
        &lead_of("1085"),
    )
    .unwrap();
    assert_eq!(a.outcome, SubmitOutcome::Created);
    assert_eq!(a.change.case.id.as_str(), "NEW");
    assert_eq!(a.change.case.possible_duplicate_of, Some(theirs.id.clone()));
    assert!(a
        .change
        .timeline
        .iter()
        .any(|e| matches!(&e.kind, TimelineKind::PossibleDuplicate { of } if *of == theirs.id) && !e.shared_with_school));
    // an active case of someone with the same name and birthday: still only a candidate
    let active_twin = at_school(prev("C8", CaseType::Ca, CaseStatus::Open), SCHOOL);
    let got = classify(&record(None, vec![active_twin.clone()]), &other, &SchoolId::parse("1085").unwrap(), &lead_of("1085"), today);
    assert_eq!(got, Intake::New { possible_duplicate_of: Some(active_twin.id) });
}

/// Observation 3 (existence oracle): a school that may not see the student's active case learns
/// only that its request was received; nothing of that case changes hands.
#[test]
fn an_active_case_the_school_cannot_see_is_linked_not_revealed() {
    let today = d(2026, 3, 1);
    let theirs = at_school(prev("C2", CaseType::Ca, CaseStatus::Open), "1085");
    assert_eq!(classify(&record(Some(theirs.clone()), vec![]), &who(), &school(), &lead(), today), Intake::Link(theirs.clone()));
    let a = submit_one(&record(Some(theirs.clone()), vec![]), nz_noon(today)).unwrap();
    assert_eq!(a.outcome, SubmitOutcome::Received);
    let ch = &a.change;
    assert_eq!(ch.case.id, theirs.id);
    // the case keeps its school, contacts, provider and status; only a private timeline entry is added
    let mut unchanged = ch.case.clone();
    unchanged.version = theirs.version;
    unchanged.updated_at = theirs.updated_at;
    assert_eq!(unchanged, theirs);
    assert_eq!(ch.timeline.len(), 1);
    assert!(!ch.timeline[0].shared_with_school);
    assert!(matches!(&ch.timeline[0].kind, TimelineKind::LinkRequested { school_id, .. } if *school_id == school()));
    let (r, _) = ch.referral.clone().unwrap();
    assert_eq!((r.status, r.case_id, r.outcome), (ReferralStatus::Submitted, None, Some(SubmitOutcome::Received)));
    // a NEN still in CIT review, not enrolled at this school: the same (CIT links it)
    let nen_case = nen("N2", CaseStatus::CitReview, None);
    assert_eq!(classify(&record(Some(nen_case.clone()), vec![]), &who(), &school(), &lead(), today), Intake::Link(nen_case));
    // a Primary Contact of the same school who is not named on the school's case cannot see it either
    let own = at_school(prev("C3", CaseType::Ca, CaseStatus::Open), SCHOOL);
    let pc = Actor::new(UserId::parse("contact-other").unwrap(), Role::SchoolPrimaryContact, Org::School(school())).unwrap();
    assert_eq!(classify(&record(Some(own.clone()), vec![]), &who(), &school(), &pc, today), Intake::Link(own.clone()));
    assert_eq!(classify(&record(Some(own.clone()), vec![]), &who(), &school(), &lead(), today), Intake::Active(own));
}

/// Reopening across schools: only where ENROL reported the student enrolled, routed afresh for the
/// requesting school, the old school keeping read access up to the handover.
#[test]
fn another_school_reopens_only_where_the_student_is_enrolled() {
    let today = d(2026, 3, 1);
    let now = nz_noon(today);
    let theirs = at_school(closed_on("C1", d(2026, 2, 10)), "1085");
    let not_enrolled = record(None, vec![theirs.clone()]);
    assert_eq!(classify(&not_enrolled, &who(), &school(), &lead(), today), Intake::New { possible_duplicate_of: None });
    let enrolled = StudentRecord { enrolled_at: Some(school()), ..not_enrolled.clone() };
    assert_eq!(classify(&enrolled, &who(), &school(), &lead(), today), Intake::ReopenAtSchool(theirs.clone()));
    let a = submit_one(&enrolled, now).unwrap();
    assert_eq!(a.outcome, SubmitOutcome::Reopened);
    let c = &a.change.case;
    assert_eq!((c.id.clone(), c.school_id.clone(), c.status), (theirs.id.clone(), school(), CaseStatus::AwaitingAllocation));
    assert_eq!((c.provider_id.clone(), c.case_manager.clone()), (None, None), "allocated afresh for the requesting school");
    assert_eq!(c.former_schools, vec![FormerSchool { school_id: SchoolId::parse("1085").unwrap(), until: now }]);
    assert_eq!(c.school_since, Some(now));
    assert!(a.change.timeline.iter().any(|e| matches!(e.kind, TimelineKind::SchoolChanged { .. }) && e.shared_with_school));
    assert_eq!(types(&a.change), vec!["ReferralSubmitted", "CaseStatusChanged", "CaseReopened", "CaseCreated"]);
    // who sees what: the new school from the handover on, the old school up to it, read-only
    let old = lead_of("1085");
    assert!(can_view_case(&lead(), c) && can_view_case(&old, c));
    let before = now - chrono::Duration::days(30);
    assert!(!crate::access::can_see_entry(&lead(), c, true, before), "the new school does not see the old school's history");
    assert!(crate::access::can_see_entry(&lead(), c, true, now));
    assert!(crate::access::can_see_entry(&old, c, true, before));
    assert!(!crate::access::can_see_entry(&old, c, true, now), "the old school does not see past the handover");
    assert!(!crate::access::permits(&old, c, crate::access::CaseAction::Comment));
    assert!(crate::access::sees_only_handover(&old, c));
    // safety notes reach the new school's staff working with the child
    assert!(crate::access::permits(&lead(), c, crate::access::CaseAction::ViewSafetyNotes));
    assert!(!crate::access::permits(&old, c, crate::access::CaseAction::ViewSafetyNotes));
}

#[test]
fn a_possible_duplicate_is_resolved_by_the_provider_or_cit_only() {
    let mut c = at_school(prev("C9", CaseType::Ca, CaseStatus::ProviderQueue), SCHOOL);
    let now = nz_noon(d(2026, 3, 1));
    let cm = Actor::new(UserId::parse("cm-p01").unwrap(), Role::CaseManager, Org::Provider(ProviderId::parse("P01").unwrap())).unwrap();
    let cit = Actor::new(UserId::parse("cit-1").unwrap(), Role::Cit, Org::Ministry(None)).unwrap();
    assert_eq!(resolve_duplicate(&c, &cm, true, now), Err(DuplicateError::NotFlagged));
    c.possible_duplicate_of = Some(CaseId::parse("C1").unwrap());
    assert_eq!(resolve_duplicate(&c, &lead(), true, now), Err(DuplicateError::NotPermitted), "the school does not decide");
    let other_cm =
        Actor::new(UserId::parse("cm-p08").unwrap(), Role::CaseManager, Org::Provider(ProviderId::parse("P08").unwrap())).unwrap();
    assert_eq!(resolve_duplicate(&c, &other_cm, true, now), Err(DuplicateError::NotPermitted));
    for (who, same) in [(&cm, true), (&cit, false)] {
        let ch = resolve_duplicate(&c, who, same, now).unwrap();
        assert_eq!(ch.case.possible_duplicate_of, None);
        assert_eq!(ch.expected_version, Some(c.version));
        assert!(
            matches!(&ch.timeline[0].kind, TimelineKind::DuplicateResolved { of, same_student } if of.as_str() == "C1" && *same_student == same)
        );
        assert!(!ch.timeline[0].shared_with_school);
    }
}

#[test]
fn reopen_returns_the_same_case_to_its_providers_queue() {
    let c = closed_on("C1", d(2026, 1, 10));
    let r = referral();
    let now = nz_noon(d(2026, 3, 1));
    let a = submit_one(&record(None, vec![c.clone()]), now).unwrap();
    assert_eq!(a.outcome, SubmitOutcome::Reopened);
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
    assert!(ch.case.former_schools.is_empty());
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
    assert_eq!(
        (sub.status, sub.case_id, sub.outcome, expected),
        (ReferralStatus::Submitted, Some(c.id.clone()), Some(SubmitOutcome::Reopened), r.version)
    );
}

#[test]
fn conversion_in_cit_review_goes_to_allocation_as_ca() {
    let c = nen("N1", CaseStatus::CitReview, Some(SCHOOL));
    let a = submit_one(&record(Some(c.clone()), vec![]), nz_noon(d(2026, 3, 1))).unwrap();
    assert_eq!(a.outcome, SubmitOutcome::Converted);
    let ch = &a.change;
    assert_eq!(ch.case.id, c.id);
    assert_eq!(ch.case.case_type, CaseType::Ca);
    assert_eq!(ch.case.status, CaseStatus::AwaitingAllocation);
    assert_eq!(ch.case.school_id, school());
    assert_eq!(ch.case.primary_contact.as_ref().map(|u| u.as_str()), Some("contact-1001"));
    assert_eq!(ch.case.allocation_choice, Some(AllocationChoice::Catchment));
    assert_eq!(ch.case.whanau.len(), 1);
    assert!(ch.case.nen.is_some(), "the NEN history stays");
    assert_eq!(ch.case.student.nsn, Some(nsn(NSN)));
    assert_eq!(ch.case.student_key, who().nsn_key);
    assert!(matches!(ch.timeline[0].kind, TimelineKind::ConvertedToCa { .. }));
    assert_eq!(types(ch), vec!["ReferralSubmitted", "CaseStatusChanged", "CaseCreated"]);
    assert!(matches!(&ch.events[2].event, DomainEvent::CaseCreated { case_type: CaseType::Ca, .. }));
}

#[test]
fn conversion_with_a_provider_stays_with_it() {
    let c = nen("N1", CaseStatus::Open, Some(SCHOOL));
    let a = submit_one(&record(Some(c.clone()), vec![]), nz_noon(d(2026, 3, 1))).unwrap();
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
    let a = submit_one(&record(None, vec![]), now).unwrap();
    assert_eq!(a.outcome, SubmitOutcome::Created);
    assert_eq!(a.change.case.id.as_str(), "NEW");
    assert_eq!(a.change.case.student_key, who().nsn_key, "the case carries the keyed NSN digest, for its one-active-case item");
    let active = at_school(prev("C2", CaseType::Ca, CaseStatus::Paused), SCHOOL);
    assert_eq!(submit_one(&record(Some(active.clone()), vec![]), now), Err(Box::new(active)));
}

proptest! {
    /// Reopen exactly when the request's NZ date is before closure date + 3 months.
    #[test]
    fn reopen_iff_before_three_months(closed_days in 0i64..3000, gap in 0i64..200, hour in 0u32..24) {
        let closed_on_date = d(2020, 1, 1) + chrono::Duration::days(closed_days);
        let closed_at = Utc.with_ymd_and_hms(2020, 1, 1, hour, 0, 0).unwrap() + chrono::Duration::days(closed_days);
        let closed_nz = crate::nz_date(closed_at);
        let today = closed_nz + chrono::Duration::days(gap);
        let mut c = closed_on("C1", closed_on_date);
        c.closed_at = Some(closed_at);
        let expect = today < closed_nz.checked_add_months(Months::new(3)).unwrap();
        let got = classify(&record(None, vec![c.clone()]), &who(), &school(), &lead(), today);
        prop_assert_eq!(matches!(got, Intake::Reopen(_)), expect);
        prop_assert_eq!(matches!(got, Intake::New { .. }), !expect);
        if !expect {
            prop_assert!(!within_reopen_window(closed_at, today + chrono::Duration::days(1)));
        }
        let end = reopen_window_end(closed_at);
        let days = (end - closed_nz).num_days();
        prop_assert!((89..=92).contains(&days), "{} days", days);
    }

    /// Sequences of submissions, closures, NENs, enrolments and transfers for three students (two
    /// of them with the same name and date of birth) and three schools: at every step each student
    /// has at most one active case, and a school sees only cases it has a relation to (it referred
    /// it, the NEN named it as the last school, or ENROL reported the student enrolled there).
    #[test]
    fn one_active_case_per_student_and_no_school_sees_a_stranger(ops in proptest::collection::vec((0u8..6, 0usize..3, 0usize..3, 0i64..60), 1..40)) {
        let schools = ["1001", "1002", "1003"];
        let twin = PersonName::parse("Aroha Testchild").unwrap();
        let students = [("111", twin.clone()), ("222", twin), ("333", PersonName::parse("Tama Other").unwrap())];
        let mut world = World::default();
        let mut now = nz_noon(d(2026, 2, 1));
        for (step, (op, s, sc, days)) in ops.into_iter().enumerate() {
            now += chrono::Duration::days(days);
            let (n, student_name) = &students[s];
            let school = schools[sc];
            let who = keys().identify(&nsn(n), student_name, dob());
            match op {
                0 | 1 => world.submit(school, &who, n, student_name, step, now),
                2 => world.close(&who, now),
                3 => world.nen(school, &who, n, student_name, step, now),
                4 => world.enrol(school, &who, n, step, now),
                _ => world.transfer(&who, now),
            }
            // at most one active case per student (from the cases themselves, not the store's item)
            let mut active: HashMap<String, usize> = HashMap::new();
            for c in &world.cases {
                if c.status != CaseStatus::Closed {
                    *active.entry(c.student.nsn.as_ref().unwrap().as_str().to_string()).or_default() += 1;
                }
            }
            prop_assert!(active.values().all(|n| *n <= 1), "step {}: {:?}", step, active);
            for c in &world.cases {
                for s in schools {
                    if can_view_case(&lead_of(s), c) {
                        prop_assert!(world.related.get(&c.id).is_some_and(|r| r.contains(s)), "step {}: school {} sees case {:?}", step, s, c.id);
                    }
                }
            }
        }
    }
}

/// An in-memory model of the store for the property test: cases, each student's active-case item,
/// ENROL's last enrolment; `related` is the test's own record of which schools may have a relation.
#[derive(Default)]
struct World {
    cases: Vec<Case>,
    enrolled: HashMap<String, SchoolId>,
    related: HashMap<CaseId, HashSet<String>>,
}

impl World {
    fn record(&self, who: &StudentIdentity, n: &str) -> StudentRecord {
        let key = who.nsn_key.clone();
        let active = self.cases.iter().find(|c| c.student_key == key && c.status != CaseStatus::Closed).cloned();
        let previous =
            self.cases.iter().filter(|c| c.student_key == key || (c.name_key.is_some() && c.name_key == who.name_key)).cloned().collect();
        StudentRecord { active, previous, enrolled_at: self.enrolled.get(n).cloned() }
    }
    fn apply(&mut self, change: CaseChange) {
        match self.cases.iter_mut().find(|c| c.id == change.case.id) {
            Some(c) => {
                assert_eq!(Some(c.version), change.expected_version);
                *c = change.case;
            }
            None => {
                assert_eq!(change.expected_version, None);
                self.cases.push(change.case);
            }
        }
    }
    fn relate(&mut self, id: &CaseId, school: &str) {
        self.related.entry(id.clone()).or_default().insert(school.to_string());
    }
    fn submit(&mut self, school: &str, who: &StudentIdentity, n: &str, name: &PersonName, step: usize, now: DateTime<Utc>) {
        let mut r = referral_from(school);
        r.id = ReferralId::parse(format!("R{step}")).unwrap();
        let rec = self.record(who, n);
        if let Ok(a) = submit(&rec, who, &r, &valid_for(school, n, name), CaseId::parse(format!("C{step}")).unwrap(), now, &lead_of(school))
        {
            let id = a.change.case.id.clone();
            let allocate = a.change.case.status == CaseStatus::AwaitingAllocation;
            if a.outcome != SubmitOutcome::Received {
                self.relate(&id, school);
            }
            self.apply(a.change);
            if allocate {
                let c = self.cases.iter_mut().find(|c| c.id == id).unwrap();
                c.status = CaseStatus::ProviderQueue;
                c.provider_id = Some(ProviderId::parse("P01").unwrap());
                c.version += 1;
            }
        }
    }
    fn close(&mut self, who: &StudentIdentity, now: DateTime<Utc>) {
        if let Some(c) = self.cases.iter_mut().find(|c| c.student_key == who.nsn_key && c.status != CaseStatus::Closed) {
            c.status = CaseStatus::Closed;
            c.closed_at = Some(now);
            c.version += 1;
        }
    }
    fn nen(&mut self, school: &str, who: &StudentIdentity, n: &str, name: &PersonName, step: usize, now: DateTime<Utc>) {
        let nen = crate::enrol::Nen {
            notification_id: format!("N{step}"),
            nsn: nsn(n),
            full_name: name.clone(),
            date_of_birth: dob(),
            last_school_id: SchoolId::parse(school).unwrap(),
            last_day_of_attendance: d(2026, 1, 20),
            withdrawal_reason: "moved".into(),
            caregivers: vec![],
            addresses: vec![],
            comments: None,
        };
        let rec = self.record(who, n);
        let change = crate::enrol::receive_nen(rec.active.as_ref(), &nen, who, CaseId::parse(format!("C{step}")).unwrap(), now);
        if change.expected_version.is_none() {
            self.relate(&change.case.id, school);
        }
        self.apply(change);
    }
    fn enrol(&mut self, school: &str, who: &StudentIdentity, n: &str, step: usize, now: DateTime<Utc>) {
        let e = crate::enrol::Enrolled {
            notification_id: format!("E{step}"),
            nsn: nsn(n),
            school_id: SchoolId::parse(school).unwrap(),
            enrolled_on: crate::nz_date(now),
        };
        self.enrolled.insert(n.to_string(), e.school_id.clone());
        let mine: Vec<Case> = self.cases.iter().filter(|c| c.student_key == who.nsn_key).cloned().collect();
        for c in mine {
            if let Some(change) = crate::enrol::on_enrolled(&c, &e, None, now, crate::nz_date(now)) {
                if change.case.school_id != c.school_id {
                    self.relate(&c.id, school);
                }
                self.apply(change);
            }
        }
    }
    fn transfer(&mut self, who: &StudentIdentity, _now: DateTime<Utc>) {
        if let Some(c) =
            self.cases.iter_mut().find(|c| c.student_key == who.nsn_key && c.provider_id.is_some() && c.status != CaseStatus::Closed)
        {
            c.provider_id = Some(ProviderId::parse("P08").unwrap());
            c.status = CaseStatus::ProviderQueue;
            c.version += 1;
        }
    }
}
