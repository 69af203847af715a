//! Issue 10: one child, one case. Each observation of the issue as a test against the emulator
//! (each failed on the main branch before the fix), and the concurrency guarantees.

use cms_domain::case::TimelineKind;
use cms_domain::ids::CaseId;
use cms_domain::ports::{CaseStore, ReadLog, ReferenceData};
use cms_tests::{complete_form, demo, nsn_for, Reply, TestEnv, STUDENT_NAME};
use serde_json::json;

const DOB: &str = "2014-05-01";

/// A case of school 1001 for the test student, allocated to P01 and opened by its Case Manager.
async fn open_case(env: &TestEnv) -> (String, u64) {
    let r = env.submit_new(demo::LEAD, complete_form(demo::PRIMARY_CONTACT)).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let id = r.body["caseId"].as_str().unwrap().to_string();
    env.drain().await;
    let c = env.call(demo::CASE_MANAGER, "GET", &format!("/cases/{id}"), None).await;
    let v = c.body["version"].as_u64().unwrap();
    let a = env.call(demo::CASE_MANAGER, "POST", &format!("/cases/{id}/status"), Some(json!({"action": "assign", "version": v}))).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    (id, a.body["version"].as_u64().unwrap())
}

async fn close(env: &TestEnv, id: &str, v: u64) {
    let r = env
        .call(
            demo::CASE_MANAGER,
            "POST",
            &format!("/cases/{id}/status"),
            Some(json!({"action": "close", "version": v, "reason": "attending_regularly"})),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
}

async fn enrolled(env: &TestEnv, id: &str, nsn: &str, school: &str) {
    let body = json!({"id": id, "type": "student_enrolled", "data": {"nsn": nsn, "schoolId": school, "enrolledOn": cms_domain::nz_date(chrono::Utc::now()).to_string()}});
    let r = env.deliver_enrol(&body).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
}

/// Case items of the table, with their status (to count a student's active cases directly).
async fn case_items(env: &TestEnv) -> Vec<(String, String, String)> {
    env.items()
        .await
        .iter()
        .filter(|i| i.get("SK").and_then(|v| v.as_s().ok()).map(String::as_str) == Some("CASE"))
        .map(|i| {
            let g = |k: &str| i.get(k).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
            let nsn = i.get("student").and_then(|v| v.as_m().ok()).and_then(|m| m.get("nsn")).and_then(|v| v.as_s().ok()).cloned();
            (g("id"), g("status"), nsn.unwrap_or_default())
        })
        .collect()
}

/// Observation 1: school 1085 sent only the name and date of birth of school 1001's recently
/// closed case and got that case back, with its safety note and shared comments.
#[tokio::test]
async fn a_name_and_date_of_birth_from_another_school_never_takes_over_a_case() {
    let env = TestEnv::new("in-takeover").await;
    let (id, v) = open_case(&env).await;
    let note = env.call(demo::LEAD, "POST", &format!("/cases/{id}/safety-notes"), Some(json!({"text": "Dog at the address."}))).await;
    assert_eq!(note.status, 201, "{:?}", note.body);
    let c = env.call(demo::CASE_MANAGER, "GET", &format!("/cases/{id}"), None).await;
    close(&env, &id, c.body["version"].as_u64().unwrap_or(v)).await;

    // school 1085: the same name and date of birth, its own NSN for the child it means
    let mut form = complete_form(demo::OTHER_CONTACT);
    form["student"]["nsn"] = json!("555000111");
    form["whanau"][0]["phone"] = json!("027 000 0000");
    let r = env.submit_new(demo::OTHER_LEAD, form).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["outcome"], "created");
    let new_id = r.body["caseId"].as_str().unwrap().to_string();
    assert_ne!(new_id, id, "school 1085 got school 1001's case");

    // school 1001 still has its case, unchanged, with its whānau contacts
    let mine = env.call(demo::LEAD, "GET", &format!("/cases/{id}"), None).await;
    assert_eq!(mine.status, 200, "{:?}", mine.body);
    assert_eq!((mine.body["status"].as_str(), mine.body["schoolId"].as_str()), (Some("closed"), Some(demo::SCHOOL)));
    assert_eq!(mine.body["whanau"][0]["phone"], "021 555 0101");
    // school 1085 cannot read it, nor its safety note
    for path in [format!("/cases/{id}"), format!("/cases/{id}/sensitive"), format!("/cases/{id}/timeline")] {
        assert_eq!(env.call(demo::OTHER_LEAD, "GET", &path, None).await.status, 404, "{path}");
    }
    // the new case is flagged as a possible duplicate for the provider, not for the school
    env.drain().await;
    let as_school = env.call(demo::OTHER_LEAD, "GET", &format!("/cases/{new_id}"), None).await;
    assert!(as_school.body.get("possibleDuplicateOf").is_none(), "{:?}", as_school.body);
    let provider = as_school.body["providerId"].as_str().unwrap_or_default().to_string();
    let cm = if provider == demo::SCHOOL_PROVIDER { demo::CASE_MANAGER } else { demo::OTHER_CASE_MANAGER };
    let as_cit = env.call(demo::CIT, "GET", &format!("/cases/{new_id}"), None).await;
    assert_eq!(as_cit.body["possibleDuplicateOf"], id.as_str(), "{:?}", as_cit.body);
    let tl = env.store.timeline(&CaseId::parse(new_id.clone()).unwrap()).await.unwrap();
    assert!(tl.iter().any(|e| matches!(&e.kind, TimelineKind::PossibleDuplicate { of } if of.as_str() == id) && !e.shared_with_school));
    // the school cannot decide; the provider dismisses it: recorded, flag cleared
    let v = as_cit.body["version"].as_u64().unwrap();
    let school_try =
        env.call(demo::OTHER_LEAD, "POST", &format!("/cases/{new_id}/possible-duplicate"), Some(json!({"sameStudent": true}))).await;
    assert_eq!(school_try.status, 403, "{:?}", school_try.body);
    let missing = env.call(cm, "POST", &format!("/cases/{new_id}/possible-duplicate"), Some(json!({"version": v}))).await;
    assert_eq!(missing.status, 400, "{:?}", missing.body);
    let done =
        env.call(cm, "POST", &format!("/cases/{new_id}/possible-duplicate"), Some(json!({"sameStudent": false, "version": v}))).await;
    assert_eq!(done.status, 200, "{:?}", done.body);
    assert!(done.body.get("possibleDuplicateOf").is_none(), "{:?}", done.body);
    let tl = env.store.timeline(&CaseId::parse(new_id.clone()).unwrap()).await.unwrap();
    assert!(tl.iter().any(|e| matches!(&e.kind, TimelineKind::DuplicateResolved { same_student: false, .. })));
    let again = env.call(cm, "POST", &format!("/cases/{new_id}/possible-duplicate"), Some(json!({"sameStudent": false}))).await;
    assert_eq!(again.status, 409, "no longer flagged: {:?}", again.body);
    // and the case view never carries the student keys
    assert!(mine.body.get("studentKey").is_none() && mine.body.get("nameKey").is_none(), "{:?}", mine.body);
}

/// Observation 2: 20 concurrent submits for one new student gave 5 active cases.
#[tokio::test]
async fn concurrent_requests_for_one_student_make_exactly_one_case() {
    let env = TestEnv::new("in-race").await;
    let calls = (0..20).map(|_| env.submit_new(demo::LEAD, complete_form(demo::PRIMARY_CONTACT)));
    let replies = futures::future::join_all(calls).await;
    let created: Vec<&Reply> = replies.iter().filter(|r| r.status == 201).collect();
    assert_eq!(created.len(), 1, "{:?}", replies.iter().map(|r| (r.status, r.body.clone())).collect::<Vec<_>>());
    let id = created[0].body["caseId"].as_str().unwrap();
    for r in &replies {
        match r.status {
            201 => {}
            409 => assert_eq!(r.body["current"]["caseId"], id, "{:?}", r.body),
            other => panic!("unexpected {other}: {:?}", r.body),
        }
    }
    let nsn = nsn_for(STUDENT_NAME, DOB);
    let cases: Vec<_> = case_items(&env).await.into_iter().filter(|(_, _, n)| *n == nsn).collect();
    assert_eq!(cases.len(), 1, "{cases:?}");
    // no orphans: one submitted request, no drafts left by the refused ones
    let referrals: Vec<_> =
        env.items().await.into_iter().filter(|i| i.get("SK").and_then(|v| v.as_s().ok()).map(String::as_str) == Some("REFERRAL")).collect();
    assert_eq!(referrals.len(), 1, "refused submissions left requests behind");
}

/// Observation 2: re-submitting the same request (20 at once) returns the same case.
#[tokio::test]
async fn submitting_one_request_twenty_times_at_once_gives_one_case_and_the_same_answer() {
    let env = TestEnv::new("in-idem").await;
    let draft = env.call(demo::LEAD, "POST", "/referrals", Some(complete_form(demo::PRIMARY_CONTACT))).await;
    assert_eq!(draft.status, 201, "{:?}", draft.body);
    let rid = draft.body["id"].as_str().unwrap().to_string();
    let path = format!("/referrals/{rid}/submit");
    let replies = futures::future::join_all((0..20).map(|_| env.call(demo::LEAD, "POST", &path, None))).await;
    let ids: std::collections::BTreeSet<String> = replies.iter().map(|r| r.body["caseId"].as_str().unwrap_or("none").to_string()).collect();
    assert!(replies.iter().all(|r| r.status == 201), "{:?}", replies.iter().map(|r| (r.status, r.body.clone())).collect::<Vec<_>>());
    assert_eq!(ids.len(), 1, "{ids:?}");
    let again = env.call(demo::LEAD, "POST", &path, None).await;
    assert_eq!((again.status, again.body["caseId"].as_str()), (201, ids.iter().next().map(String::as_str)));
    assert_eq!(case_items(&env).await.len(), 1);
}

/// Concurrent reopen and new request for one student whose case just closed: one active case.
#[tokio::test]
async fn concurrent_reopens_leave_one_active_case() {
    let env = TestEnv::new("in-reopen").await;
    let (id, v) = open_case(&env).await;
    close(&env, &id, v).await;
    let replies = futures::future::join_all((0..10).map(|_| env.submit_new(demo::LEAD, complete_form(demo::PRIMARY_CONTACT)))).await;
    let reopened: Vec<&Reply> = replies.iter().filter(|r| r.status == 200).collect();
    assert_eq!(reopened.len(), 1, "{:?}", replies.iter().map(|r| (r.status, r.body.clone())).collect::<Vec<_>>());
    assert_eq!(reopened[0].body["caseId"], id.as_str());
    assert!(replies.iter().all(|r| r.status == 200 || (r.status == 409 && r.body["current"]["caseId"] == id.as_str())));
    let active: Vec<_> = case_items(&env).await.into_iter().filter(|(_, s, _)| s != "closed").collect();
    assert_eq!(active.len(), 1, "{active:?}");
}

/// Observation 3: the 409 told any school whether a child has an active case anywhere.
#[tokio::test]
async fn another_school_learns_only_that_its_request_was_received() {
    let env = TestEnv::new("in-oracle").await;
    let (id, _) = open_case(&env).await;
    let before = env.call(demo::LEAD, "GET", &format!("/cases/{id}"), None).await;
    let r = env.submit_new(demo::OTHER_LEAD, complete_form(demo::OTHER_CONTACT)).await;
    assert_eq!(r.status, 202, "{:?}", r.body);
    assert_eq!(r.body["outcome"], "received");
    assert!(!r.body.to_string().contains(&id), "{:?}", r.body);
    assert!(r.body["message"].as_str().unwrap().contains("received"));
    // the school's request is kept, submitted, pointing nowhere
    let rid = r.body["referral"]["id"].as_str().unwrap();
    let mine = env.call(demo::OTHER_LEAD, "GET", &format!("/referrals/{rid}"), None).await;
    assert_eq!((mine.status, mine.body["status"].as_str(), mine.body.get("caseId")), (200, Some("submitted"), None));
    // submitting again: the same answer
    let again = env.call(demo::OTHER_LEAD, "POST", &format!("/referrals/{rid}/submit"), None).await;
    assert_eq!((again.status, again.body["outcome"].as_str()), (202, Some("received")));
    // the case is the same for school 1001; the provider sees the link request
    let after = env.call(demo::LEAD, "GET", &format!("/cases/{id}"), None).await;
    for k in ["schoolId", "whanau", "homeAddress", "primaryContact", "status", "providerId"] {
        assert_eq!(after.body[k], before.body[k], "{k}");
    }
    let tl = env.call(demo::CASE_MANAGER, "GET", &format!("/cases/{id}/timeline"), None).await;
    assert!(tl.body["items"].as_array().unwrap().iter().any(|e| e["type"] == "link_requested"), "{:?}", tl.body);
    let tl = env.call(demo::LEAD, "GET", &format!("/cases/{id}/timeline"), None).await;
    assert!(!tl.body["items"].as_array().unwrap().iter().any(|e| e["type"] == "link_requested"), "school users do not see it");
    assert_eq!(env.call(demo::OTHER_LEAD, "GET", &format!("/cases/{id}"), None).await.status, 404);
}

/// Observation 4: a 17-year-old's case was closed with `attending_regularly`.
#[tokio::test]
async fn a_student_of_sixteen_or_over_is_closed_only_when_they_choose_not_to_continue() {
    let env = TestEnv::new("in-sixteen").await;
    let dob = (cms_domain::nz_date(chrono::Utc::now()) - chrono::Months::new(17 * 12 + 2)).to_string();
    let mut form = complete_form(demo::PRIMARY_CONTACT);
    form["student"]["dateOfBirth"] = json!(dob);
    form["student"]["yearLevel"] = json!(12);
    form["student"]["nsn"] = json!(nsn_for(STUDENT_NAME, &dob));
    let r = env.submit_new(demo::LEAD, form).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let id = r.body["caseId"].as_str().unwrap().to_string();
    env.drain().await;
    let v = env.call(demo::CASE_MANAGER, "GET", &format!("/cases/{id}"), None).await.body["version"].as_u64().unwrap();
    let a = env.call(demo::CASE_MANAGER, "POST", &format!("/cases/{id}/status"), Some(json!({"action": "assign", "version": v}))).await;
    let v = a.body["version"].as_u64().unwrap();
    let refused = env
        .call(
            demo::CASE_MANAGER,
            "POST",
            &format!("/cases/{id}/status"),
            Some(json!({"action": "close", "version": v, "reason": "attending_regularly"})),
        )
        .await;
    assert_eq!(refused.status, 422, "{:?}", refused.body);
    assert!(refused.body["detail"].as_str().unwrap().contains("can be closed only if they choose not to continue receiving support"));
    let ok = env
        .call(
            demo::CASE_MANAGER,
            "POST",
            &format!("/cases/{id}/status"),
            Some(json!({"action": "close", "version": v, "reason": "chose_not_to_continue"})),
        )
        .await;
    assert_eq!(ok.status, 200, "{:?}", ok.body);
}

/// Observation 5: the enrolling school got 404 on the NEN case; the school the student left kept
/// seeing it, with the new school and the caregivers' address.
#[tokio::test]
async fn an_enrolment_hands_a_nen_case_to_the_enrolling_school() {
    let env = TestEnv::new("in-nen").await;
    let nsn = "100200311";
    let nen = json!({
        "id": "nen-hand-1", "type": "non_enrolment_notification",
        "data": {
            "nsn": nsn, "student": {"fullName": "Hemi Testnen", "dateOfBirth": "2013-06-15"},
            "lastSchoolId": demo::OTHER_SCHOOL, "lastDayOfAttendance": "2026-10-30", "withdrawalReason": "Continuous absence",
            "caregivers": [{"name": "Aroha Testparent", "phone": "027 555 0199"}],
            "addresses": [{"street": "5 Test Road", "suburb": "Ahipara", "town": "Kaitaia"}]
        }
    });
    let r = env.deliver_enrol(&nen).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let id = r.body["caseId"].as_str().unwrap().to_string();
    assert_eq!(env.call(demo::OTHER_LEAD, "GET", &format!("/cases/{id}"), None).await.status, 200, "the last school sees it");
    assert_eq!(env.call(demo::LEAD, "GET", &format!("/cases/{id}"), None).await.status, 404);

    enrolled(&env, "enr-hand-1", nsn, demo::SCHOOL).await;
    let c = env.call(demo::LEAD, "GET", &format!("/cases/{id}"), None).await;
    assert_eq!(c.status, 200, "the enrolling school sees the case: {:?}", c.body);
    assert_eq!(c.body["schoolId"], demo::SCHOOL);
    let list = env.call(demo::LEAD, "GET", "/cases", None).await;
    assert!(list.body["items"].as_array().unwrap().iter().any(|i| i["id"] == id.as_str()), "in the school's list");
    for path in [format!("/cases/{id}"), format!("/cases/{id}/timeline")] {
        assert_eq!(env.call(demo::OTHER_LEAD, "GET", &path, None).await.status, 404, "the school the student left: {path}");
    }
    // the read was audited for the enrolling school's Attendance Lead
    let entries = env.store.reads_of(&CaseId::parse(id.clone()).unwrap()).await.unwrap();
    assert!(entries.iter().any(|e| e.record.user_id == demo::LEAD && e.record.action == "case.read"), "{entries:?}");
    // and the school converts it with its CA request
    let mut form = complete_form(demo::PRIMARY_CONTACT);
    form["student"]["nsn"] = json!(nsn);
    form["student"]["fullName"] = json!("Hemi Testnen");
    form["student"]["dateOfBirth"] = json!("2013-06-15");
    let conv = env.submit_new(demo::LEAD, form).await;
    assert_eq!(
        (conv.status, conv.body["outcome"].as_str(), conv.body["caseId"].as_str()),
        (200, Some("converted"), Some(id.as_str())),
        "{:?}",
        conv.body
    );
}

/// Reopening across schools: only where ENROL reported the student enrolled; routed to the
/// requesting school's provider; the old school keeps what it referred, up to the handover.
#[tokio::test]
async fn a_closed_case_reopens_for_the_school_the_student_enrolled_at() {
    let env = TestEnv::new("in-move").await;
    let (id, v) = open_case(&env).await;
    let shared = env
        .call(demo::CASE_MANAGER, "POST", &format!("/cases/{id}/comments"), Some(json!({"text": "Met the whānau.", "shared": true})))
        .await;
    assert_eq!(shared.status, 201, "{:?}", shared.body);
    let v = env.call(demo::CASE_MANAGER, "GET", &format!("/cases/{id}"), None).await.body["version"].as_u64().unwrap_or(v);
    close(&env, &id, v).await;
    let nsn = nsn_for(STUDENT_NAME, DOB);
    enrolled(&env, "enr-move-1", &nsn, demo::OTHER_SCHOOL).await;
    let r = env.submit_new(demo::OTHER_LEAD, complete_form(demo::OTHER_CONTACT)).await;
    assert_eq!(
        (r.status, r.body["outcome"].as_str(), r.body["caseId"].as_str()),
        (200, Some("reopened"), Some(id.as_str())),
        "{:?}",
        r.body
    );
    env.drain().await;
    // the new school's case now, allocated to the provider of the new school's catchment
    let c = env.call(demo::OTHER_LEAD, "GET", &format!("/cases/{id}"), None).await;
    assert_eq!(c.status, 200, "{:?}", c.body);
    assert_eq!((c.body["schoolId"].as_str(), c.body["status"].as_str()), (Some(demo::OTHER_SCHOOL), Some("provider_queue")));
    let school = env.store.school(&cms_domain::ids::SchoolId::parse(demo::OTHER_SCHOOL).unwrap()).await.unwrap().unwrap();
    let catchment = env.store.catchment(&school.catchment_id).await.unwrap().unwrap();
    assert_eq!(c.body["providerId"], catchment.provider_id.as_str());
    assert!(c.body.get("formerSchools").is_none());
    // the new school sees the case's history from the handover on, not the old school's
    let tl = env.call(demo::OTHER_LEAD, "GET", &format!("/cases/{id}/timeline?limit=100"), None).await;
    let kinds: Vec<&str> = tl.body["items"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap_or_default()).collect();
    assert!(kinds.contains(&"school_changed") && !kinds.contains(&"comment") && !kinds.contains(&"case_created"), "{kinds:?}");
    // the old school: what it referred, up to the handover; nothing current
    let old = env.call(demo::LEAD, "GET", &format!("/cases/{id}"), None).await;
    assert_eq!(old.status, 200, "{:?}", old.body);
    assert!(
        old.body.get("whanau").is_none() && old.body.get("providerId").is_none() && old.body.get("schoolId") == Some(&json!(demo::SCHOOL)),
        "{:?}",
        old.body
    );
    assert!(old.body["handedOver"]["at"].is_string(), "{:?}", old.body);
    let tl = env.call(demo::LEAD, "GET", &format!("/cases/{id}/timeline?limit=100"), None).await;
    let kinds: Vec<&str> = tl.body["items"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap_or_default()).collect();
    assert!(kinds.contains(&"comment") && kinds.contains(&"case_created") && !kinds.contains(&"school_changed"), "{kinds:?}");
    let write = env.call(demo::LEAD, "POST", &format!("/cases/{id}/comments"), Some(json!({"text": "Still here?", "shared": true}))).await;
    assert_eq!(write.status, 403, "a former school reads only: {:?}", write.body);
    assert_eq!(env.call(demo::LEAD, "GET", &format!("/cases/{id}/sensitive"), None).await.status, 403);
}

/// Observation 6: a School Primary Contact not named on a case read its submitted request (name,
/// date of birth, whānau phone, address) and listed every draft of the school; not audited.
#[tokio::test]
async fn a_primary_contact_reads_only_their_own_requests_and_each_read_is_audited() {
    let env = TestEnv::new("in-pc").await;
    // the lead names contact-1001; contact2-1001 is another Primary Contact of the same school
    let draft = env.call(demo::LEAD, "POST", "/referrals", Some(complete_form(demo::PRIMARY_CONTACT))).await;
    let rid = draft.body["id"].as_str().unwrap().to_string();
    let drafts = env.call(demo::PRIMARY_CONTACT_2, "GET", "/referrals?status=draft", None).await;
    assert_eq!(drafts.status, 200);
    assert!(drafts.body["items"].as_array().unwrap().is_empty(), "{:?}", drafts.body);
    assert_eq!(env.call(demo::PRIMARY_CONTACT_2, "GET", &format!("/referrals/{rid}"), None).await.status, 404);
    let named = env.call(demo::PRIMARY_CONTACT, "GET", "/referrals?status=draft", None).await;
    assert_eq!(named.body["items"].as_array().unwrap().len(), 1);
    let s = env.call(demo::LEAD, "POST", &format!("/referrals/{rid}/submit"), None).await;
    assert_eq!(s.status, 201, "{:?}", s.body);
    let case_id = s.body["caseId"].as_str().unwrap().to_string();
    assert_eq!(env.call(demo::PRIMARY_CONTACT_2, "GET", &format!("/referrals/{rid}"), None).await.status, 404);
    assert_eq!(env.call(demo::PRIMARY_CONTACT_2, "GET", &format!("/cases/{case_id}"), None).await.status, 404);
    assert_eq!(env.call(demo::PRIMARY_CONTACT, "GET", &format!("/referrals/{rid}"), None).await.status, 200);
    assert_eq!(env.call(demo::OFFICE, "GET", &format!("/referrals/{rid}"), None).await.status, 200);
    let entries = env.store.reads_of(&CaseId::parse(case_id).unwrap()).await.unwrap();
    let reads: Vec<&str> = entries.iter().filter(|e| e.record.action == "referral.read").map(|e| e.record.user_id.as_str()).collect();
    assert_eq!(reads, vec![demo::PRIMARY_CONTACT, demo::OFFICE], "{entries:?}");
}

/// Issue 11: a draft can be discarded, a submitted request cannot, and an untouched draft expires.
#[tokio::test]
async fn drafts_can_be_discarded_and_expire_when_left_untouched() {
    let env = TestEnv::new("in-draft").await;
    let d = env.call(demo::LEAD, "POST", "/referrals", Some(json!({"student": {"fullName": STUDENT_NAME}}))).await;
    let id = d.body["id"].as_str().unwrap().to_string();
    let expires = env
        .items()
        .await
        .into_iter()
        .find(|i| i.get("PK").and_then(|v| v.as_s().ok()) == Some(&format!("REFERRAL#{id}")))
        .and_then(|i| i.get("expiresAt").and_then(|v| v.as_n().ok()).and_then(|n| n.parse::<i64>().ok()))
        .expect("a draft carries its expiry");
    let updated = chrono::DateTime::parse_from_rfc3339(d.body["updatedAt"].as_str().unwrap()).unwrap().timestamp();
    assert_eq!(expires - updated, cms_domain::referral::DRAFT_TTL_DAYS * 86_400);
    let stale = env.call(demo::LEAD, "DELETE", &format!("/referrals/{id}?version=9"), None).await;
    assert_eq!(stale.status, 409, "{:?}", stale.body);
    assert_eq!(env.call(demo::OTHER_LEAD, "DELETE", &format!("/referrals/{id}"), None).await.status, 404);
    let gone = env.call(demo::OFFICE, "DELETE", &format!("/referrals/{id}?version=1"), None).await;
    assert_eq!(gone.status, 204, "{:?}", gone.body);
    assert_eq!(env.call(demo::LEAD, "GET", &format!("/referrals/{id}"), None).await.status, 404);
    assert_eq!(env.call(demo::LEAD, "DELETE", &format!("/referrals/{id}"), None).await.status, 404);
    // a submitted request stays, without an expiry
    let s = env.submit_new(demo::LEAD, complete_form(demo::PRIMARY_CONTACT)).await;
    let rid = s.body["referral"]["id"].as_str().unwrap().to_string();
    let kept = env.call(demo::LEAD, "DELETE", &format!("/referrals/{rid}"), None).await;
    assert_eq!(kept.status, 409, "{:?}", kept.body);
    let item = env.items().await.into_iter().find(|i| i.get("PK").and_then(|v| v.as_s().ok()) == Some(&format!("REFERRAL#{rid}"))).unwrap();
    assert!(!item.contains_key("expiresAt"), "a submitted request does not expire");
}

/// Issue 11: a submission's field problems come in one answer (a bad date used to be reported
/// alone, and the missing fields only once it was fixed).
#[tokio::test]
async fn a_submission_names_every_field_problem_at_once() {
    let env = TestEnv::new("in-onepass").await;
    let body = json!({"submit": true, "student": {"fullName": STUDENT_NAME, "dateOfBirth": "21/03/2015"}});
    let r = env.call(demo::LEAD, "POST", "/referrals", Some(body)).await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    let fields: Vec<&str> = r.body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    for f in [
        "student.dateOfBirth",
        "student.nsn",
        "student.yearLevel",
        "whanau",
        "homeAddress",
        "reason",
        "actionsTaken",
        "absencePattern",
        "primaryContactUserId",
    ] {
        assert!(fields.contains(&f), "{f} missing from {fields:?}");
    }
    assert!(case_items(&env).await.is_empty());
}
