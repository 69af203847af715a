use super::*;
use chrono::TimeZone;
use proptest::prelude::*;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()
}
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 1, 0, 0).unwrap()
}

pub(crate) fn nen_json() -> serde_json::Value {
    serde_json::json!({
        "id": "nen-0001",
        "type": "non_enrolment_notification",
        "occurredAt": "2026-11-20T02:00:00Z",
        "data": {
            "nsn": "123456789",
            "student": {"fullName": "Test Student", "dateOfBirth": "2012-04-03"},
            "lastSchoolId": "1001",
            "lastDayOfAttendance": "2026-10-30",
            "withdrawalReason": "Continuous absence",
            "caregivers": [{"name": "Test Caregiver", "relationship": "father", "phone": "027 555 0199"}],
            "addresses": [{"street": "5 Test Road", "suburb": "Ahipara", "town": "Kaitaia", "postcode": "0481"}],
            "comments": "Aunt may know where the family is."
        }
    })
}

pub(crate) fn keys() -> StudentKeys {
    StudentKeys::new(b"enrol-test-secret").unwrap()
}

fn parse_json(v: serde_json::Value) -> Result<Notification, Vec<FieldError>> {
    let d: Delivery = serde_json::from_value(v).expect("delivery shape");
    parse(&d, now(), today())
}

fn fields(r: Result<Notification, Vec<FieldError>>) -> Vec<String> {
    r.expect_err("should be refused").into_iter().map(|e| e.field).collect()
}

#[test]
fn a_complete_nen_parses() {
    let n = match parse_json(nen_json()).unwrap() {
        Notification::NonEnrolment(n) => n,
        other => panic!("{other:?}"),
    };
    assert_eq!(n.nsn.as_str(), "123456789");
    assert_eq!(n.last_day_of_attendance, NaiveDate::from_ymd_opt(2026, 10, 30).unwrap());
    let change = Case::open_nen(CaseId::parse("C1").unwrap(), &n, &n.identity(&keys()), now());
    assert_eq!(change.case.status, CaseStatus::CitReview);
    assert_eq!(change.case.case_type, CaseType::Nen);
    let types: Vec<_> = change.events.iter().map(|e| e.detail_type()).collect();
    assert_eq!(types, vec!["NenReceived", "CaseCreated"]);
    for e in &change.events {
        let d = e.detail_json().to_string();
        assert!(!d.contains("Test Student") && !d.contains("123456789") && !d.contains("Ahipara"), "{d}");
    }
}

/// A named way to break a value (the field it names, the change).
type Breakage<T> = (&'static str, Box<dyn Fn(&mut T)>);

#[test]
fn each_field_is_named_when_wrong() {
    let cases: Vec<Breakage<serde_json::Value>> = vec![
        ("id", Box::new(|v| v["id"] = serde_json::json!("has space"))),
        ("type", Box::new(|v| v["type"] = serde_json::json!("something_else"))),
        ("data.nsn", Box::new(|v| v["data"]["nsn"] = serde_json::json!("12x"))),
        (
            "data.student.fullName",
            Box::new(|v| {
                v["data"]["student"].as_object_mut().unwrap().remove("fullName");
            }),
        ),
        ("data.student.dateOfBirth", Box::new(|v| v["data"]["student"]["dateOfBirth"] = serde_json::json!("2012-02-30"))),
        (
            "data.lastSchoolId",
            Box::new(|v| {
                v["data"].as_object_mut().unwrap().remove("lastSchoolId");
            }),
        ),
        ("data.lastDayOfAttendance", Box::new(|v| v["data"]["lastDayOfAttendance"] = serde_json::json!("2027-01-01"))),
        ("data.lastDayOfAttendance", Box::new(|v| v["data"]["lastDayOfAttendance"] = serde_json::json!("2011-01-01"))),
        ("data.withdrawalReason", Box::new(|v| v["data"]["withdrawalReason"] = serde_json::json!(" "))),
        ("data.caregivers", Box::new(|v| v["data"]["caregivers"] = serde_json::json!([]))),
        ("data.caregivers[0].phone", Box::new(|v| v["data"]["caregivers"][0]["phone"] = serde_json::json!("nope"))),
        ("data.addresses", Box::new(|v| v["data"]["addresses"] = serde_json::json!([]))),
        (
            "data.addresses[0].town",
            Box::new(|v| {
                v["data"]["addresses"][0].as_object_mut().unwrap().remove("town");
            }),
        ),
    ];
    for (field, mutate) in cases {
        let mut v = nen_json();
        mutate(&mut v);
        assert_eq!(fields(parse_json(v)), vec![field.to_string()], "{field}");
    }
}

#[test]
fn occurred_at_is_an_rfc3339_instant_not_in_the_future() {
    // now() is 2026-11-24T01:00:00Z
    for ok in ["2026-11-20T02:00:00Z", "2026-11-24T14:04:00+13:00", "2026-11-24T01:05:00Z"] {
        let mut v = nen_json();
        v["occurredAt"] = serde_json::json!(ok);
        assert!(parse_json(v).is_ok(), "{ok}");
    }
    let mut absent = nen_json();
    absent.as_object_mut().unwrap().remove("occurredAt");
    assert!(parse_json(absent).is_ok(), "occurredAt is optional");
    for bad in ["2026-11-24T01:05:01Z", "2099-01-01T00:00:00Z", "yesterday", "2026-11-20", "2026-11-20T02:00:00", "2026-11-20 02:00"] {
        let mut v = nen_json();
        v["occurredAt"] = serde_json::json!(bad);
        assert_eq!(fields(parse_json(v)), vec!["occurredAt".to_string()], "{bad}");
    }
}

#[test]
fn only_canonical_dates_and_nsns() {
    let cases: Vec<(&str, &str, serde_json::Value)> = vec![
        ("/data/lastDayOfAttendance", "data.lastDayOfAttendance", serde_json::json!("2026-1-1")),
        ("/data/lastDayOfAttendance", "data.lastDayOfAttendance", serde_json::json!("+2026-10-30")),
        ("/data/student/dateOfBirth", "data.student.dateOfBirth", serde_json::json!("2012-4-3")),
        ("/data/nsn", "data.nsn", serde_json::json!(" 123456789")),
        ("/data/nsn", "data.nsn", serde_json::json!("123456789 ")),
        ("/data/nsn", "data.nsn", serde_json::json!("+123456789")),
    ];
    for (ptr, field, value) in cases {
        let mut v = nen_json();
        *v.pointer_mut(ptr).unwrap() = value.clone();
        assert_eq!(fields(parse_json(v)), vec![field.to_string()], "{field} = {value}");
    }
    let e = serde_json::json!({"id": "enr-2", "type": "student_enrolled", "data": {"nsn": "123456789", "schoolId": "1085", "enrolledOn": "+2026-11-20"}});
    assert_eq!(fields(parse_json(e)), vec!["data.enrolledOn".to_string()]);
    // a zero-padded NSN is the same student
    let mut padded = nen_json();
    padded["data"]["nsn"] = serde_json::json!("0123456789");
    match parse_json(padded).unwrap() {
        Notification::NonEnrolment(n) => assert_eq!(n.nsn.as_str(), "123456789"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn enrolled_parses_and_reopens_or_marks() {
    let v = serde_json::json!({"id": "enr-1", "type": "student_enrolled", "data": {"nsn": "123456789", "schoolId": "1085", "enrolledOn": "2026-11-23"}});
    let e = match parse_json(v).unwrap() {
        Notification::StudentEnrolled(e) => e,
        other => panic!("{other:?}"),
    };
    let n = match parse_json(nen_json()).unwrap() {
        Notification::NonEnrolment(n) => n,
        _ => unreachable!(),
    };
    let nen_case = Case::open_nen(CaseId::parse("C1").unwrap(), &n, &n.identity(&keys()), now()).case;
    let region = crate::ids::RegionId::parse("R2").ok();
    let change = on_enrolled(&nen_case, &e, region.clone(), now(), today()).expect("marks the NEN");
    assert_eq!(change.case.nen.as_ref().unwrap().enrolled_at.as_ref().unwrap().as_str(), "1085");
    assert_eq!(change.case.status, CaseStatus::CitReview);
    // observation 5: the case moves to the enrolling school (it holds the transition meeting and
    // converts the case); the school the student left no longer sees it
    assert_eq!(change.case.school_id.as_str(), "1085");
    assert_eq!(change.case.region_id, region);
    assert_eq!(change.case.school_since, Some(now()));
    assert!(change.case.former_schools.is_empty(), "the school the student left keeps no access");
    let lead = |s: &str| {
        crate::actor::Actor::new(
            crate::ids::UserId::parse(format!("lead-{s}")).unwrap(),
            crate::actor::Role::AttendanceLead,
            crate::actor::Org::School(SchoolId::parse(s).unwrap()),
        )
        .unwrap()
    };
    assert!(crate::access::can_view_case(&lead("1001"), &nen_case), "before the enrolment: the last school");
    assert!(!crate::access::can_view_case(&lead("1001"), &change.case));
    assert!(crate::access::can_view_case(&lead("1085"), &change.case));
    assert!(on_enrolled(&change.case, &e, region, now(), today()).is_none(), "redelivery does nothing");
    let mut paused = nen_case.clone();
    paused.status = CaseStatus::Paused;
    paused.case_manager = Some(crate::ids::UserId::parse("cm").unwrap());
    let reopened = on_enrolled(&paused, &e, None, now(), today()).expect("reopens");
    assert_eq!(reopened.case.status, CaseStatus::Open);
    assert!(reopened.events.iter().any(|e| e.detail_type() == "CaseReopened"));
    let mut closed = nen_case;
    closed.status = CaseStatus::Closed;
    assert!(on_enrolled(&closed, &e, None, now(), today()).is_none());
}

#[test]
fn markers_tell_repeats_from_reuse() {
    let a = delivery_marker("x", b"{\"a\":1}", &serde_json::json!({"ok": true}));
    let b = delivery_marker("x", b"{\"a\":1}", &serde_json::json!({"ok": true}));
    let c = delivery_marker("x", b"{\"a\":2}", &serde_json::json!({"ok": true}));
    assert_eq!(a.fingerprint, b.fingerprint);
    assert_ne!(a.fingerprint, c.fingerprint);
    assert_eq!(a.key, "ENROL#x");
}

proptest! {
    #[test]
    fn parsing_never_panics(id in proptest::option::of(".{0,20}"), kind in proptest::option::of(prop_oneof![Just("non_enrolment_notification".to_string()), Just("student_enrolled".to_string()), ".{0,10}"]),
                            nsn in proptest::option::of(".{0,12}"), date in proptest::option::of(".{0,12}")) {
        let v = serde_json::json!({"id": id, "type": kind, "data": {"nsn": nsn, "schoolId": "1001", "enrolledOn": date}});
        if let Ok(d) = serde_json::from_value::<Delivery>(v) {
            let _ = parse(&d, now(), today());
        }
    }
}
