//! Issue 3: a CA request travels from the school portal API to a provider's queue, on the emulator.

use cms_tests::{complete_form, demo, Reply, TestEnv, STUDENT_NAME};
use serde_json::{json, Value};

fn field_names(r: &Reply) -> Vec<String> {
    r.body["errors"].as_array().map(|a| a.iter().map(|e| e["field"].as_str().unwrap_or_default().to_string()).collect()).unwrap_or_default()
}

#[tokio::test]
async fn draft_resume_edit_submit_then_allocated_to_the_catchment_provider() {
    let env = TestEnv::new("skeleton").await;
    // start a draft with only part of the form
    let draft = env.call(demo::LEAD, "POST", "/referrals", Some(json!({"student": {"fullName": STUDENT_NAME}}))).await;
    assert_eq!(draft.status, 201, "{:?}", draft.body);
    assert_eq!(draft.body["status"], "draft");
    let id = draft.body["id"].as_str().unwrap().to_string();

    // it is in the school's drafts, and can be resumed
    let list = env.call(demo::OFFICE, "GET", "/referrals?status=draft", None).await;
    assert_eq!(list.status, 200);
    assert!(list.body["items"].as_array().unwrap().iter().any(|r| r["id"] == id.as_str()));
    let resumed = env.call(demo::LEAD, "GET", &format!("/referrals/{id}"), None).await;
    assert_eq!(resumed.status, 200);
    assert_eq!(resumed.body["form"]["student"]["fullName"], STUDENT_NAME);
    assert_eq!(resumed.body["version"], 1);

    // submitting the incomplete draft names what is missing, and changes nothing
    let before = env.items().await;
    let early = env.call(demo::LEAD, "POST", &format!("/referrals/{id}/submit"), None).await;
    assert_eq!(early.status, 400);
    assert!(field_names(&early).contains(&"student.dateOfBirth".to_string()), "{:?}", early.body);
    assert_eq!(env.items().await, before, "a refused submission wrote something");

    // edit: complete the form
    let mut form = complete_form(demo::PRIMARY_CONTACT);
    form["version"] = json!(1);
    let edited = env.call(demo::LEAD, "PUT", &format!("/referrals/{id}"), Some(form.clone())).await;
    assert_eq!(edited.status, 200, "{:?}", edited.body);
    assert_eq!(edited.body["version"], 2);
    // an edit from a stale copy is refused
    let stale = env.call(demo::LEAD, "PUT", &format!("/referrals/{id}"), Some(form.clone())).await;
    assert_eq!(stale.status, 409);
    assert_eq!(stale.body["current"]["version"], 2);

    let submitted = env.call(demo::LEAD, "POST", &format!("/referrals/{id}/submit"), Some(json!({"version": 2}))).await;
    assert_eq!(submitted.status, 201, "{:?}", submitted.body);
    let case_id = submitted.body["caseId"].as_str().unwrap().to_string();
    assert_eq!(submitted.body["referral"]["status"], "submitted");

    // submitted requests are read-only
    form["version"] = json!(3);
    let late_edit = env.call(demo::LEAD, "PUT", &format!("/referrals/{id}"), Some(form)).await;
    assert_eq!(late_edit.status, 409);
    assert_eq!(late_edit.body["current"]["caseId"], case_id.as_str());
    // submitting again (a retry, a double click) answers as the first submission did (issue 10)
    let again = env.call(demo::LEAD, "POST", &format!("/referrals/{id}/submit"), None).await;
    assert_eq!((again.status, again.body["caseId"].as_str()), (201, Some(case_id.as_str())), "{:?}", again.body);
    let drafts = env.call(demo::LEAD, "GET", "/referrals", None).await;
    assert!(!drafts.body["items"].as_array().unwrap().iter().any(|r| r["id"] == id.as_str()), "submitted request still listed as a draft");

    // the event flow: CaseCreated → allocate (through the template's rule) → provider queue
    let case = env.call(demo::LEAD, "GET", &format!("/cases/{case_id}"), None).await;
    assert_eq!(case.body["status"], "awaiting_allocation");
    assert!(env.drain().await >= 1);
    let case = env.call(demo::CASE_MANAGER, "GET", &format!("/cases/{case_id}"), None).await;
    assert_eq!(case.status, 200, "{:?}", case.body);
    assert_eq!(case.body["status"], "provider_queue");
    assert_eq!(case.body["providerId"], demo::SCHOOL_PROVIDER);
    assert_eq!(case.body["catchmentId"], demo::SCHOOL_CATCHMENT);
    assert_eq!(case.body["primaryContact"], demo::PRIMARY_CONTACT);

    let queue = env.call(demo::CASE_MANAGER, "GET", "/cases?status=provider_queue", None).await;
    assert_eq!(queue.status, 200);
    assert!(queue.body["items"].as_array().unwrap().iter().any(|c| c["id"] == case_id.as_str()));

    // what the bus carried: ids and facts, never the child's details
    let events = env.bus_events().await;
    let types: Vec<&str> = events.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(types.iter().filter(|t| **t == "CaseCreated").count(), 1, "{types:?}");
    assert_eq!(types.iter().filter(|t| **t == "CaseAllocated").count(), 1, "{types:?}");
    assert!(types.contains(&"ReferralSubmitted"));
    for (_, detail) in &events {
        let text = detail.to_string();
        for secret in [STUDENT_NAME, "Tamati", "2014-05-01", "Kowhai", "021 555 0101", "Hinewai"] {
            assert!(!text.contains(secret), "event detail leaks {secret}: {text}");
        }
    }
}

#[tokio::test]
async fn isp_school_chooses_its_in_school_provision_or_the_catchment_provider() {
    let env = TestEnv::new("isp").await;
    let mut to_isp = complete_form(demo::ISP_CONTACT);
    to_isp["allocation"] = json!("in_school_provision");
    let a = env.submit_new(demo::ISP_LEAD, to_isp).await;
    assert_eq!(a.status, 201, "{:?}", a.body);
    let mut to_catchment = complete_form(demo::ISP_CONTACT);
    to_catchment["allocation"] = json!("catchment");
    to_catchment["student"]["fullName"] = json!("Another Testchild");
    to_catchment["student"]["nsn"] = json!(cms_tests::nsn_for("Another Testchild", "2014-05-01"));
    let b = env.submit_new(demo::ISP_OFFICE, to_catchment).await;
    assert_eq!(b.status, 201, "{:?}", b.body);
    // an ISP school must choose
    let unchosen = env.submit_new(demo::ISP_LEAD, complete_form(demo::ISP_CONTACT)).await;
    assert_eq!(unchosen.status, 400);
    assert_eq!(field_names(&unchosen), vec!["allocation"]);

    env.drain().await;
    let a = env.call(demo::ISP_CASE_MANAGER, "GET", &format!("/cases/{}", a.body["caseId"].as_str().unwrap()), None).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert_eq!(a.body["providerId"], demo::ISP_PROVIDER);
    assert_eq!(a.body["status"], "provider_queue");
    let b_id = b.body["caseId"].as_str().unwrap();
    let b = env.call(demo::OTHER_CASE_MANAGER, "GET", &format!("/cases/{b_id}"), None).await;
    assert_eq!(b.status, 200, "{:?}", b.body);
    assert_eq!(b.body["providerId"], demo::ISP_SCHOOL_PROVIDER);
    // the ISP does not see the case the school sent to the catchment provider
    let hidden = env.call(demo::ISP_CASE_MANAGER, "GET", &format!("/cases/{b_id}"), None).await;
    assert_eq!(hidden.status, 404);
    // a school without ISP cannot choose it
    let mut bad = complete_form(demo::PRIMARY_CONTACT);
    bad["allocation"] = json!("in_school_provision");
    let r = env.submit_new(demo::LEAD, bad).await;
    assert_eq!(r.status, 400);
    assert_eq!(field_names(&r), vec!["allocation"]);
}

/// Every required field, missing or invalid: 400 naming that field, and nothing written.
#[tokio::test]
async fn every_missing_or_invalid_field_is_named_and_nothing_is_written() {
    let env = TestEnv::new("fields").await;
    type Breakage = (&'static str, Box<dyn Fn(&mut Value)>);
    let cases: Vec<Breakage> = vec![
        (
            "student",
            Box::new(|f| {
                f.as_object_mut().unwrap().remove("student");
            }),
        ),
        (
            "student.fullName",
            Box::new(|f| {
                f["student"].as_object_mut().unwrap().remove("fullName");
            }),
        ),
        ("student.fullName", Box::new(|f| f["student"]["fullName"] = json!("R2-D2"))),
        (
            "student.dateOfBirth",
            Box::new(|f| {
                f["student"].as_object_mut().unwrap().remove("dateOfBirth");
            }),
        ),
        ("student.dateOfBirth", Box::new(|f| f["student"]["dateOfBirth"] = json!("2014-02-30"))),
        ("student.dateOfBirth", Box::new(|f| f["student"]["dateOfBirth"] = json!("2099-01-01"))),
        (
            "student.yearLevel",
            Box::new(|f| {
                f["student"].as_object_mut().unwrap().remove("yearLevel");
            }),
        ),
        ("student.yearLevel", Box::new(|f| f["student"]["yearLevel"] = json!(15))),
        (
            "student.international",
            Box::new(|f| {
                f["student"].as_object_mut().unwrap().remove("international");
            }),
        ),
        (
            "whanau",
            Box::new(|f| {
                f.as_object_mut().unwrap().remove("whanau");
            }),
        ),
        ("whanau", Box::new(|f| f["whanau"] = json!([]))),
        (
            "whanau[0].name",
            Box::new(|f| {
                f["whanau"][0].as_object_mut().unwrap().remove("name");
            }),
        ),
        (
            "whanau[0].phone",
            Box::new(|f| {
                let w = f["whanau"][0].as_object_mut().unwrap();
                w.remove("phone");
                w.remove("email");
            }),
        ),
        ("whanau[0].phone", Box::new(|f| f["whanau"][0]["phone"] = json!("call me"))),
        ("whanau[0].email", Box::new(|f| f["whanau"][0]["email"] = json!("not-an-email"))),
        (
            "homeAddress",
            Box::new(|f| {
                f.as_object_mut().unwrap().remove("homeAddress");
            }),
        ),
        ("homeAddress.street", Box::new(|f| f["homeAddress"]["street"] = json!(""))),
        ("homeAddress.postcode", Box::new(|f| f["homeAddress"]["postcode"] = json!("AB12"))),
        ("alternativeAddress.town", Box::new(|f| f["alternativeAddress"] = json!({"street": "1 Other Road"}))),
        (
            "reason",
            Box::new(|f| {
                f.as_object_mut().unwrap().remove("reason");
            }),
        ),
        ("actionsTaken", Box::new(|f| f["actionsTaken"] = json!("   "))),
        (
            "absencePattern",
            Box::new(|f| {
                f.as_object_mut().unwrap().remove("absencePattern");
            }),
        ),
        (
            "primaryContactUserId",
            Box::new(|f| {
                f.as_object_mut().unwrap().remove("primaryContactUserId");
            }),
        ),
        ("primaryContactUserId", Box::new(|f| f["primaryContactUserId"] = json!("nobody-here"))),
        ("primaryContactUserId", Box::new(|f| f["primaryContactUserId"] = json!(demo::OTHER_CONTACT))),
        ("primaryContactUserId", Box::new(|f| f["primaryContactUserId"] = json!(demo::OFFICE))),
    ];
    let before = env.items().await;
    for (field, mutate) in cases {
        let mut form = complete_form(demo::PRIMARY_CONTACT);
        mutate(&mut form);
        let r = env.submit_new(demo::LEAD, form).await;
        assert_eq!(r.status, 400, "{field}: {:?}", r.body);
        assert_eq!(field_names(&r), vec![field.to_string()], "{:?}", r.body);
        let msg = r.body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(msg.len() > 5, "{field}: message too thin: {msg:?}");
        assert_eq!(r.body["status"], 400);
    }
    // malformed bodies: clear 400s too
    let claims = env.claims_of(demo::LEAD);
    for body in ["", "{", "[1,2]", r#"{"studnet": {}}"#, r#"{"student": {"yearLevel": "seven"}}"#, r#"{"submit": "yes"}"#] {
        let r = env.call_with_claims(Some(claims.clone()), "POST", "/referrals", Some(body.to_string())).await;
        assert_eq!(r.status, 400, "{body}: {:?}", r.body);
        assert!(r.body["detail"].as_str().unwrap_or_default().len() > 10, "{:?}", r.body);
    }
    assert_eq!(env.items().await, before, "a refused request wrote something");
    assert!(env.bus_events().await.is_empty());
}

#[tokio::test]
async fn not_appropriate_requests_are_refused_with_the_reason() {
    let env = TestEnv::new("notappr").await;
    let before = env.items().await;
    let mut single = complete_form(demo::PRIMARY_CONTACT);
    single["absencePattern"] = json!("single_class");
    let r = env.submit_new(demo::LEAD, single).await;
    assert_eq!(r.status, 422);
    assert!(r.body["detail"].as_str().unwrap().contains("single class"), "{:?}", r.body);
    let mut visa = complete_form(demo::PRIMARY_CONTACT);
    visa["student"]["international"] = json!(true);
    visa["student"]["validVisa"] = json!(false);
    let r = env.submit_new(demo::LEAD, visa).await;
    assert_eq!(r.status, 422);
    assert!(r.body["detail"].as_str().unwrap().contains("visa"), "{:?}", r.body);
    assert_eq!(env.items().await, before);
}

#[tokio::test]
async fn unknown_school_and_wrong_roles_are_refused() {
    let env = TestEnv::new("refuse").await;
    // a token for a school the CMS does not know
    let mut claims = env.claims_of(demo::LEAD);
    claims.insert("custom:org".into(), "9999".into());
    let r = env.call_with_claims(Some(claims), "POST", "/referrals", Some(complete_form(demo::PRIMARY_CONTACT).to_string())).await;
    assert_eq!(r.status, 422, "{:?}", r.body);
    assert!(r.body["detail"].as_str().unwrap().contains("9999"));
    // provider and Ministry staff do not make CA requests
    for user in [demo::CASE_MANAGER, demo::CIT, demo::NATIONAL] {
        let r = env.submit_new(user, complete_form(demo::PRIMARY_CONTACT)).await;
        assert_eq!(r.status, 403, "{user}: {:?}", r.body);
    }
    // no authorizer context at all
    let r = env.call_with_claims(None, "GET", "/cases", None).await;
    assert_eq!(r.status, 401);
    // a token without a CMS role
    let mut claims = env.claims_of(demo::LEAD);
    claims.remove("custom:role");
    let r = env.call_with_claims(Some(claims), "GET", "/cases", None).await;
    assert_eq!(r.status, 403);
    // another school's draft is not found
    let d = env.call(demo::LEAD, "POST", "/referrals", Some(json!({}))).await;
    assert_eq!(d.status, 201);
    let id = d.body["id"].as_str().unwrap();
    let r = env.call(demo::OTHER_LEAD, "GET", &format!("/referrals/{id}"), None).await;
    assert_eq!(r.status, 404);
    let r = env.call(demo::OTHER_LEAD, "POST", &format!("/referrals/{id}/submit"), None).await;
    assert_eq!(r.status, 404);
    let r = env.call(demo::LEAD, "GET", "/referrals/not%23valid", None).await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn office_support_can_submit() {
    let env = TestEnv::new("office").await;
    let r = env.submit_new(demo::OFFICE, complete_form(demo::PRIMARY_CONTACT)).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    env.drain().await;
    let c = env.call(demo::OFFICE, "GET", &format!("/cases/{}", r.body["caseId"].as_str().unwrap()), None).await;
    assert_eq!(c.status, 200);
    assert_eq!(c.body["status"], "provider_queue");
}

/// Each role's `GET /cases` sees exactly its scope.
#[tokio::test]
async fn each_roles_case_list_scope() {
    let env = TestEnv::new("scope").await;
    // school 1001: one case with contact-1001, one with contact2-1001; school 1085: one; ISP school: one (to its ISP)
    let mine = env.submit_new(demo::LEAD, complete_form(demo::PRIMARY_CONTACT)).await.body["caseId"].as_str().unwrap().to_string();
    let mut f = complete_form(demo::PRIMARY_CONTACT_2);
    f["student"]["fullName"] = json!("Second Testchild");
    f["student"]["nsn"] = json!(cms_tests::nsn_for("Second Testchild", "2014-05-01"));
    let colleague = env.submit_new(demo::LEAD, f).await.body["caseId"].as_str().unwrap().to_string();
    // (other students: one student has one active case, wherever the request comes from)
    let mut f = complete_form(demo::OTHER_CONTACT);
    f["student"]["fullName"] = json!("Third Testchild");
    f["student"]["nsn"] = json!(cms_tests::nsn_for("Third Testchild", "2014-05-01"));
    let other = env.submit_new(demo::OTHER_LEAD, f).await.body["caseId"].as_str().unwrap().to_string();
    let mut f = complete_form(demo::ISP_CONTACT);
    f["student"]["fullName"] = json!("Fourth Testchild");
    f["student"]["nsn"] = json!(cms_tests::nsn_for("Fourth Testchild", "2014-05-01"));
    f["allocation"] = json!("in_school_provision");
    let isp = env.submit_new(demo::ISP_LEAD, f).await.body["caseId"].as_str().unwrap().to_string();
    env.drain().await;

    let all = [mine.as_str(), colleague.as_str(), other.as_str(), isp.as_str()];
    let expect: Vec<(&str, Vec<&str>)> = vec![
        (demo::LEAD, vec![&mine, &colleague]),
        (demo::OFFICE, vec![&mine, &colleague]),
        (demo::PRIMARY_CONTACT, vec![&mine]),
        (demo::PRIMARY_CONTACT_2, vec![&colleague]),
        (demo::OTHER_LEAD, vec![&other]),
        (demo::CASE_MANAGER, vec![&mine, &colleague, &other]),
        (demo::PROVIDER_ADMIN, vec![&mine, &colleague, &other]),
        (demo::OTHER_CASE_MANAGER, vec![]),
        (demo::ISP_CASE_MANAGER, vec![&isp]),
        (demo::CIT, all.to_vec()),
        (demo::NATIONAL, all.to_vec()),
        // regional staff: the cases of their region's schools (1001 and 1085 are in Tai Tokerau,
        // the ISP school 1008 in Auckland)
        (demo::REGIONAL, vec![&mine, &colleague, &other]),
        (demo::OTHER_REGIONAL, vec![&isp]),
        // the Prosecutions team: only the cases referred to it (none yet)
        (demo::PROSECUTIONS, vec![]),
    ];
    for (user, want) in expect {
        let r = env.call(user, "GET", "/cases?limit=100", None).await;
        assert_eq!(r.status, 200, "{user}: {:?}", r.body);
        let mut got: Vec<String> = r.body["items"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_string()).collect();
        got.sort();
        let mut want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
        want.sort();
        assert_eq!(got, want, "{user}'s list");
        // and one case: visible exactly when listed
        for id in all {
            let one = env.call(user, "GET", &format!("/cases/{id}"), None).await;
            let visible = want.iter().any(|w| w == id);
            assert_eq!(one.status, if visible { 200 } else { 404 }, "{user} GET /cases/{id}");
        }
    }
    // once school 1085 refers its case for prosecution, that case (and only it) is the team's
    let today = cms_domain::nz_date(chrono::Utc::now()).to_string();
    let referred = env
        .call(demo::OTHER_LEAD, "POST", &format!("/cases/{other}/escalations"), Some(json!({"kind": "prosecution_referral", "on": today})))
        .await;
    assert_eq!(referred.status, 201, "{:?}", referred.body);
    let r = env.call(demo::PROSECUTIONS, "GET", "/cases?limit=100", None).await;
    let got: Vec<&str> = r.body["items"].as_array().unwrap().iter().filter_map(|c| c["id"].as_str()).collect();
    assert_eq!(got, vec![other.as_str()], "{:?}", r.body);
    for id in all {
        let one = env.call(demo::PROSECUTIONS, "GET", &format!("/cases/{id}"), None).await;
        assert_eq!(one.status, if id == other { 200 } else { 404 }, "prosecutions GET /cases/{id}");
    }
    // list rows carry no contact details or free text
    let r = env.call(demo::NATIONAL, "GET", "/cases", None).await;
    let row = r.body["items"][0].to_string();
    assert!(!row.contains("021 555 0101") && !row.contains("Kowhai") && !row.contains("counsellor"), "{row}");
    // paging: limit 1 walks the whole list without repeats
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..10 {
        let path = match &cursor {
            Some(c) => format!("/cases?limit=1&cursor={c}"),
            None => "/cases?limit=1".to_string(),
        };
        let r = env.call(demo::NATIONAL, "GET", &path, None).await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        for c in r.body["items"].as_array().unwrap() {
            seen.push(c["id"].as_str().unwrap().to_string());
        }
        match r.body["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    seen.sort();
    let mut all_sorted: Vec<String> = all.iter().map(|s| s.to_string()).collect();
    all_sorted.sort();
    assert_eq!(seen, all_sorted);
    // bad filters are clear 400s
    assert_eq!(env.call(demo::NATIONAL, "GET", "/cases?status=lost", None).await.status, 400);
    assert_eq!(env.call(demo::NATIONAL, "GET", "/cases?limit=0", None).await.status, 400);
    assert_eq!(env.call(demo::NATIONAL, "GET", "/cases?cursor=garbage", None).await.status, 400);
}

/// EventBridge delivers at least once: a redelivered CaseCreated changes nothing and emits nothing.
#[tokio::test]
async fn redelivered_case_created_is_a_no_op() {
    let env = TestEnv::new("redeliver").await;
    let r = env.submit_new(demo::LEAD, complete_form(demo::PRIMARY_CONTACT)).await;
    let case_id = r.body["caseId"].as_str().unwrap().to_string();
    // take the CaseCreated envelope off the allocate queue ourselves, to deliver it twice
    let rule = env.res.rules.iter().find(|r| r.function_logical_id == "AllocateFunction").expect("allocate rule");
    let mut envelope = None;
    for _ in 0..5 {
        let m = env.clients.sqs.receive_message().queue_url(&rule.queue_url).wait_time_seconds(1).send().await.unwrap();
        if let Some(msg) = m.messages.unwrap_or_default().into_iter().next() {
            envelope = Some(msg.body().unwrap().to_string());
            env.clients.sqs.delete_message().queue_url(&rule.queue_url).receipt_handle(msg.receipt_handle().unwrap()).send().await.unwrap();
            break;
        }
    }
    let envelope: aws_lambda_events::eventbridge::EventBridgeEvent<Value> =
        serde_json::from_str(&envelope.expect("CaseCreated reached the allocate queue")).unwrap();
    let deps = allocate::aws_deps(&env.sdk, &env.res.env());
    let first = allocate::handle(&deps, envelope.clone()).await.unwrap();
    assert!(matches!(first, allocate::Outcome::Allocated { .. }), "{first:?}");
    // the bus delivers what the first allocation published (the outbox's confirmation, ADR 0016;
    // the email about it)
    env.drain().await;
    let after_first = env.items().await;
    let events_first = env.bus_events().await;
    assert_eq!(events_first.iter().filter(|(t, _)| t == "CaseAllocated").count(), 1);

    for _ in 0..3 {
        let again = allocate::handle(&deps, envelope.clone()).await.unwrap();
        assert_eq!(again, allocate::Outcome::AlreadyDone);
    }
    assert_eq!(env.items().await, after_first, "a redelivery changed the table");
    assert!(env.bus_events().await.is_empty(), "a redelivery emitted events");
    let case = env.call(demo::CASE_MANAGER, "GET", &format!("/cases/{case_id}"), None).await;
    assert_eq!(case.body["version"], 2);
}
