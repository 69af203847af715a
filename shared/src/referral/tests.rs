use super::*;
use crate::ids::{CatchmentId, ProviderId, RegionId};
use proptest::prelude::*;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()
}

fn school(isp: bool) -> School {
    School {
        id: SchoolId::parse("1001").unwrap(),
        name: "Test School".into(),
        catchment_id: CatchmentId::parse("C01").unwrap(),
        region_id: RegionId::parse("R1").unwrap(),
        isp_provider_id: isp.then(|| ProviderId::parse("ISP-1001").unwrap()),
    }
}

fn contact(role: Role, org: &str) -> UserRecord {
    UserRecord {
        id: UserId::parse("u-pc").unwrap(),
        role,
        org_id: org.into(),
        email: "pc@school.nz".into(),
        display_name: "Primary Contact".into(),
    }
}

pub(crate) fn complete_form() -> ReferralForm {
    serde_json::from_value(serde_json::json!({
        "student": {"fullName": "Test Student", "dateOfBirth": "2014-05-01", "yearLevel": 7, "nsn": "123456789",
                    "international": false},
        "whanau": [{"name": "Test Caregiver", "relationship": "mother", "phone": "021 555 0101"}],
        "homeAddress": {"street": "1 Test Street", "suburb": "Testville", "town": "Testtown", "postcode": "0600"},
        "reason": "Chronic absence: attended 55% of half-days this term.",
        "actionsTaken": "Attendance plan, two whānau hui, referral to counsellor.",
        "absencePattern": "whole_days",
        "primaryContactUserId": "u-pc"
    }))
    .unwrap()
}

fn submit(form: &ReferralForm, s: &School, pc: Option<&UserRecord>) -> Result<ValidReferral, Rejection> {
    validate_submission(form, &SubmissionContext { school: s, primary_contact: pc, today: today() })
}

fn fields(r: Result<ValidReferral, Rejection>) -> Vec<String> {
    match r {
        Err(Rejection::Invalid(errs)) => errs.into_iter().map(|e| e.field).collect(),
        other => panic!("expected field errors, got {other:?}"),
    }
}

#[test]
fn complete_form_is_accepted() {
    let pc = contact(Role::SchoolPrimaryContact, "1001");
    let v = submit(&complete_form(), &school(false), Some(&pc)).unwrap();
    assert_eq!(v.allocation, AllocationChoice::Catchment);
    assert_eq!(v.student.full_name.as_str(), "Test Student");
    assert_eq!(v.primary_contact.as_str(), "u-pc");
}

#[test]
fn empty_form_names_every_required_field() {
    let f = fields(submit(&ReferralForm::default(), &school(false), None));
    for want in ["student", "whanau", "homeAddress", "reason", "actionsTaken", "absencePattern", "primaryContactUserId"] {
        assert!(f.contains(&want.to_string()), "missing {want} in {f:?}");
    }
}

/// A named way to break a form (the field it names, the change).
type Breakage = (&'static str, Box<dyn Fn(&mut ReferralForm)>);

#[test]
fn each_required_field_is_reported_by_its_path() {
    let pc = contact(Role::AttendanceLead, "1001");
    let cases: Vec<Breakage> = vec![
        ("student.fullName", Box::new(|f| f.student.as_mut().unwrap().full_name = None)),
        ("student.dateOfBirth", Box::new(|f| f.student.as_mut().unwrap().date_of_birth = Some("2014-13-01".into()))),
        ("student.yearLevel", Box::new(|f| f.student.as_mut().unwrap().year_level = Some(14))),
        ("student.international", Box::new(|f| f.student.as_mut().unwrap().international = None)),
        ("student.nsn", Box::new(|f| f.student.as_mut().unwrap().nsn = Some("12ab".into()))),
        // the NSN is the student's identity: required on every request (issue 10)
        ("student.nsn", Box::new(|f| f.student.as_mut().unwrap().nsn = None)),
        ("whanau", Box::new(|f| f.whanau = Some(vec![]))),
        ("whanau[0].phone", Box::new(|f| f.whanau.as_mut().unwrap()[0].phone = None)),
        ("whanau[0].email", Box::new(|f| f.whanau.as_mut().unwrap()[0].email = Some("nope".into()))),
        ("whanau[0].name", Box::new(|f| f.whanau.as_mut().unwrap()[0].name = None)),
        ("homeAddress", Box::new(|f| f.home_address = None)),
        ("homeAddress.town", Box::new(|f| f.home_address.as_mut().unwrap().town = Some("  ".into()))),
        ("homeAddress.postcode", Box::new(|f| f.home_address.as_mut().unwrap().postcode = Some("12".into()))),
        (
            "alternativeAddress.street",
            Box::new(|f| f.alternative_address = Some(AddressForm { town: Some("X".into()), ..Default::default() })),
        ),
        ("reason", Box::new(|f| f.reason = Some("".into()))),
        ("actionsTaken", Box::new(|f| f.actions_taken = None)),
        ("absencePattern", Box::new(|f| f.absence_pattern = Some("sometimes".into()))),
        ("primaryContactUserId", Box::new(|f| f.primary_contact_user_id = Some("bad id".into()))),
        ("allocation", Box::new(|f| f.allocation = Some("elsewhere".into()))),
    ];
    for (field, mutate) in cases {
        let mut form = complete_form();
        mutate(&mut form);
        let f = fields(submit(&form, &school(false), Some(&pc)));
        assert_eq!(f, vec![field.to_string()], "mutating {field}");
    }
}

#[test]
fn primary_contact_must_be_an_eligible_user_of_this_school() {
    let form = complete_form();
    assert_eq!(fields(submit(&form, &school(false), None)), vec!["primaryContactUserId"]);
    let other_school = contact(Role::SchoolPrimaryContact, "2002");
    assert_eq!(fields(submit(&form, &school(false), Some(&other_school))), vec!["primaryContactUserId"]);
    let office = contact(Role::OfficeSupport, "1001");
    assert_eq!(fields(submit(&form, &school(false), Some(&office))), vec!["primaryContactUserId"]);
    let lead = contact(Role::AttendanceLead, "1001");
    assert!(submit(&form, &school(false), Some(&lead)).is_ok());
}

#[test]
fn isp_schools_must_choose_and_others_cannot_choose_isp() {
    let pc = contact(Role::SchoolPrimaryContact, "1001");
    let mut form = complete_form();
    assert_eq!(fields(submit(&form, &school(true), Some(&pc))), vec!["allocation"]);
    form.allocation = Some("in_school_provision".into());
    assert_eq!(submit(&form, &school(true), Some(&pc)).unwrap().allocation, AllocationChoice::InSchoolProvision);
    assert_eq!(fields(submit(&form, &school(false), Some(&pc))), vec!["allocation"]);
    form.allocation = Some("catchment".into());
    assert_eq!(submit(&form, &school(true), Some(&pc)).unwrap().allocation, AllocationChoice::Catchment);
}

#[test]
fn not_appropriate_requests_are_refused_with_the_reason() {
    let pc = contact(Role::SchoolPrimaryContact, "1001");
    let mut form = complete_form();
    form.absence_pattern = Some("single_class".into());
    assert_eq!(submit(&form, &school(false), Some(&pc)), Err(Rejection::NotAppropriate(NotAppropriate::SingleClassOnly)));
    let mut form = complete_form();
    let s = form.student.as_mut().unwrap();
    s.international = Some(true);
    assert_eq!(fields(submit(&form, &school(false), Some(&pc))), vec!["student.validVisa"]);
    form.student.as_mut().unwrap().valid_visa = Some(false);
    assert_eq!(submit(&form, &school(false), Some(&pc)), Err(Rejection::NotAppropriate(NotAppropriate::InternationalWithoutVisa)));
    form.student.as_mut().unwrap().valid_visa = Some(true);
    assert!(submit(&form, &school(false), Some(&pc)).is_ok());
}

#[test]
fn drafts_may_be_incomplete_but_not_malformed() {
    assert!(check_draft(&ReferralForm::default(), today()).is_ok());
    let partial: ReferralForm = serde_json::from_value(serde_json::json!({"student": {"fullName": "Test Student"}})).unwrap();
    assert!(check_draft(&partial, today()).is_ok());
    let bad: ReferralForm = serde_json::from_value(serde_json::json!({"student": {"dateOfBirth": "yesterday"}})).unwrap();
    let errs = check_draft(&bad, today()).unwrap_err();
    assert_eq!(errs[0].field, "student.dateOfBirth");
}

#[test]
fn unknown_fields_are_refused() {
    let r: Result<ReferralForm, _> = serde_json::from_value(serde_json::json!({"studnet": {}}));
    assert!(r.is_err());
}

fn arb_opt_string() -> impl Strategy<Value = Option<String>> {
    prop_oneof![Just(None), ".{0,30}".prop_map(Some), Just(Some("2014-05-01".to_string())), Just(Some("021 555 0101".to_string()))]
}

prop_compose! {
    fn arb_form()(name in arb_opt_string(), dob in arb_opt_string(), yl in proptest::option::of(-5i64..20),
                  intl in proptest::option::of(any::<bool>()), visa in proptest::option::of(any::<bool>()),
                  wname in arb_opt_string(), phone in arb_opt_string(), email in arb_opt_string(),
                  reason in arb_opt_string(), actions in arb_opt_string(), pattern in arb_opt_string(),
                  pc in arb_opt_string(), alloc in arb_opt_string(), street in arb_opt_string()) -> ReferralForm {
        ReferralForm {
            student: Some(StudentForm { full_name: name, date_of_birth: dob, nsn: None, year_level: yl, international: intl, valid_visa: visa }),
            whanau: Some(vec![WhanauForm { name: wname, relationship: None, phone, email }]),
            home_address: Some(AddressForm { street, suburb: None, town: Some("Town".into()), postcode: None }),
            alternative_address: None,
            reason, actions_taken: actions, absence_pattern: pattern, primary_contact_user_id: pc, allocation: alloc,
        }
    }
}

proptest! {
    /// Whatever is typed in, validation answers (never panics); an accepted request satisfies
    /// every invariant the seeds require; a rejected one names at least one field.
    #[test]
    fn validation_is_total_and_sound(form in arb_form(), isp in any::<bool>()) {
        let s = school(isp);
        let pc = contact(Role::SchoolPrimaryContact, "1001");
        let pc_match = form.primary_contact_user_id.as_deref() == Some("u-pc");
        let r = submit(&form, &s, pc_match.then_some(&pc));
        match r {
            Ok(v) => {
                prop_assert!(!v.whanau.is_empty());
                prop_assert!(v.whanau.iter().all(|w| w.phone.is_some() || w.email.is_some()));
                prop_assert!(!v.reason.trim().is_empty() && !v.actions_taken.trim().is_empty());
                prop_assert!(v.student.year_level.get() <= 13);
                prop_assert!(v.student.date_of_birth < today());
                prop_assert_eq!(v.primary_contact.as_str(), "u-pc");
                prop_assert_eq!(form.absence_pattern.as_deref(), Some("whole_days"));
                if form.student.as_ref().unwrap().international == Some(true) {
                    prop_assert_eq!(form.student.as_ref().unwrap().valid_visa, Some(true));
                }
                prop_assert!(isp || v.allocation == AllocationChoice::Catchment);
            }
            Err(Rejection::Invalid(errs)) => prop_assert!(!errs.is_empty()),
            Err(Rejection::NotAppropriate(_)) => {}
        }
    }
}

/// Issue 11: the messages a school administrator reads are grammatical (the form once said "The
/// student's details are is required" and "The actions the school has already taken is required").
#[test]
fn missing_field_messages_read_as_sentences() {
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
    let mut messages = Vec::new();
    for form in [serde_json::json!({}), serde_json::json!({"student": {}})] {
        let form: ReferralForm = serde_json::from_value(form).unwrap();
        let mut c = Checker { errors: Vec::new(), require: true };
        let _ = parse_fields(&mut c, &form, today);
        messages.extend(c.errors.into_iter().map(|e| (e.field, e.message)));
    }
    let get = |f: &str| messages.iter().find(|(field, _)| field == f).map(|(_, m)| m.clone()).unwrap_or_default();
    assert_eq!(get("student"), "Information about the student is required");
    assert_eq!(get("actionsTaken"), "A description of the actions the school has already taken is required");
    for (field, m) in &messages {
        assert!(!m.contains(" are is ") && !m.contains("details is"), "{field}: {m}");
    }
}
