//! Issue 6: comments, the shared timeline, activities, files on S3 and the emails, on the emulator.
//! Emails are read from the emulator's record of SES sends (`/_local/outbox`); every test
//! looks only at the emails that link to its own case.

use base64::Engine;
use cms_tests::{all_emails, demo, emails_for, post_form, Reply, TestEnv, STUDENT_NAME};
use serde_json::{json, Value};

fn email_of(user: &str) -> String {
    cms_local::seed::demo_user(user).expect("demo user").email
}

/// Assign cm-p01 (Provider Queue → Open) through the update-status endpoint.
async fn assign(env: &TestEnv, case_id: &str) {
    let case = env.call(demo::CASE_MANAGER, "GET", &format!("/cases/{case_id}"), None).await;
    let version = case.body["version"].clone();
    let r = env
        .call(
            demo::CASE_MANAGER,
            "POST",
            &format!("/cases/{case_id}/status"),
            Some(json!({"action": "assign", "caseManagerId": demo::CASE_MANAGER, "version": version})),
        )
        .await;
    assert!(r.status == 200 || r.status == 201, "{:?}", r.body);
    env.drain().await;
}

async fn comment(env: &TestEnv, user: &str, case_id: &str, text: &str, shared: bool) -> Reply {
    env.call(user, "POST", &format!("/cases/{case_id}/comments"), Some(json!({"text": text, "shared": shared}))).await
}

async fn timeline(env: &TestEnv, user: &str, case_id: &str) -> Reply {
    env.call(user, "GET", &format!("/cases/{case_id}/timeline?limit=100"), None).await
}

fn comment_texts(r: &Reply) -> Vec<String> {
    r.body["items"].as_array().unwrap().iter().filter(|e| e["type"] == "comment").map(|e| e["text"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn comments_reach_the_other_side_and_the_school_sees_only_what_is_shared() {
    let env = TestEnv::new("collab").await;
    let case_id = env.allocated_case().await;
    let pc = email_of(demo::PRIMARY_CONTACT);
    let cm = email_of(demo::CASE_MANAGER);

    // allocation and the status change email the School Primary Contact
    let mails = emails_for(&case_id).await;
    assert!(mails.iter().any(|(to, s, _)| to == &vec![pc.clone()] && s.contains("allocated")), "{mails:?}");
    assign(&env, &case_id).await;
    let mails = emails_for(&case_id).await;
    assert!(
        mails.iter().any(|(to, _, b)| to == &vec![pc.clone()]
            && b.contains("A case you are the School Primary Contact for has changed status: Provider Queue → Open")),
        "{mails:?}"
    );

    // a school comment is shared whatever the flag says, and emails the Case Manager
    let before = emails_for(&case_id).await.len();
    let r = comment(&env, demo::LEAD, &case_id, "Whānau meeting went well", false).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["sharedWithSchool"], true);
    assert_eq!(r.body["authorSide"], "school");
    env.drain().await;
    let mails = emails_for(&case_id).await;
    assert_eq!(mails.len(), before + 1, "{mails:?}");
    let (to, subject, body) = mails.last().unwrap();
    assert_eq!(to, &vec![cm.clone()]);
    assert_eq!(subject, "New comment from the school");
    assert!(body.contains(&format!("https://portal.attendance.education.govt.nz/cases/{case_id}")));
    assert!(!body.contains("Whānau meeting went well"), "the comment's text is not emailed");

    // a shared provider comment emails the School Primary Contact
    assert_eq!(comment(&env, demo::CASE_MANAGER, &case_id, "Plan agreed with the school", true).await.status, 201);
    env.drain().await;
    let mails = emails_for(&case_id).await;
    assert_eq!(mails.len(), before + 2);
    assert_eq!(mails.last().unwrap().0, vec![pc.clone()]);
    assert_eq!(mails.last().unwrap().1, "New comment from the provider");

    // an unshared provider comment emails nobody and stays invisible to the school
    let r = comment(&env, demo::CASE_MANAGER, &case_id, "Internal: safety concern noted", false).await;
    assert_eq!(r.status, 201);
    assert_eq!(r.body["sharedWithSchool"], false);
    env.drain().await;
    assert_eq!(emails_for(&case_id).await.len(), before + 2, "an unshared comment sent an email");
    let events = env.bus_events().await;
    assert!(events.iter().any(|(t, d)| t == "CommentAdded" && d["shared"] == false && d["authorSide"] == "provider"));
    for (t, d) in &events {
        assert!(!d.to_string().contains("Internal: safety"), "{t} carries comment text");
    }

    for school_user in [demo::LEAD, demo::PRIMARY_CONTACT, demo::OFFICE] {
        let t = timeline(&env, school_user, &case_id).await;
        assert_eq!(t.status, 200, "{school_user}: {:?}", t.body);
        assert_eq!(comment_texts(&t), vec!["Whānau meeting went well", "Plan agreed with the school"], "{school_user}");
        assert!(t.body["items"].as_array().unwrap().iter().all(|e| e["sharedWithSchool"] == true));
    }
    for staff in [demo::CASE_MANAGER, demo::PROVIDER_ADMIN, demo::NATIONAL, demo::CIT] {
        let t = timeline(&env, staff, &case_id).await;
        assert_eq!(comment_texts(&t).len(), 3, "{staff}");
    }
    // another school's users and another provider's staff cannot see the case at all
    for outsider in [demo::OTHER_LEAD, demo::OTHER_CONTACT, demo::OTHER_CASE_MANAGER, demo::PRIMARY_CONTACT_2] {
        assert_eq!(timeline(&env, outsider, &case_id).await.status, 404, "{outsider}");
        assert_eq!(comment(&env, outsider, &case_id, "hello", true).await.status, 404, "{outsider}");
    }

    // the timeline is in time order, and paging through it one entry at a time gives the same list
    let full = timeline(&env, demo::CASE_MANAGER, &case_id).await.body["items"].as_array().unwrap().clone();
    let ats: Vec<&str> = full.iter().map(|e| e["at"].as_str().unwrap()).collect();
    let mut sorted = ats.clone();
    sorted.sort();
    assert_eq!(ats, sorted);
    assert!(full.iter().any(|e| e["type"] == "allocated") && full.iter().any(|e| e["type"] == "case_manager_assigned"));
    let mut paged = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..50 {
        let q = cursor.as_ref().map(|c| format!("&cursor={c}")).unwrap_or_default();
        let p = env.call(demo::CASE_MANAGER, "GET", &format!("/cases/{case_id}/timeline?limit=1{q}"), None).await;
        assert_eq!(p.status, 200, "{:?}", p.body);
        paged.extend(p.body["items"].as_array().unwrap().clone());
        match p.body["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(paged, full);
    // school users page through shared entries only
    let p = env.call(demo::LEAD, "GET", &format!("/cases/{case_id}/timeline?limit=2"), None).await;
    assert_eq!(p.body["items"].as_array().unwrap().len(), 2);
    assert!(p.body["items"].as_array().unwrap().iter().all(|e| e["sharedWithSchool"] == true));

    // bad input is a clear 400 and writes nothing
    let items = env.items().await;
    let empty = comment(&env, demo::LEAD, &case_id, "   ", true).await;
    assert_eq!(empty.status, 400);
    assert_eq!(empty.body["errors"][0]["field"], "text");
    let long = comment(&env, demo::LEAD, &case_id, &"x".repeat(4001), true).await;
    assert_eq!(long.status, 400);
    assert!(long.body["errors"][0]["message"].as_str().unwrap().contains("4000"));
    let no_text = env.call(demo::LEAD, "POST", &format!("/cases/{case_id}/comments"), Some(json!({"shared": true}))).await;
    assert_eq!(no_text.status, 400);
    let bad_cursor = env.call(demo::LEAD, "GET", &format!("/cases/{case_id}/timeline?cursor=nonsense"), None).await;
    assert_eq!(bad_cursor.status, 400);
    assert_eq!(env.items().await, items, "a refused request wrote something");
}

#[tokio::test]
async fn the_same_event_twice_sends_one_email_and_no_email_names_the_student() {
    let env = TestEnv::new("emailonce").await;
    let case_id = env.allocated_case().await;
    assert_eq!(comment(&env, demo::LEAD, &case_id, "Please call us", true).await.status, 201);
    // capture the CommentAdded event, deliver it ourselves twice (as EventBridge may)
    let events = env.bus_events().await;
    let (_, detail) = events.iter().find(|(t, _)| t == "CommentAdded").expect("CommentAdded on the bus").clone();
    env.drain().await;
    let after_first = emails_for(&case_id).await.len();
    let notify = env.registry.event("NotifyPrimaryContactFunction").expect("registered").clone();
    let event: aws_lambda_events::eventbridge::EventBridgeEvent<Value> = serde_json::from_value(json!({
        "version": "0", "id": "redelivery", "detail-type": "CommentAdded", "source": "attendance.cases",
        "account": "123456789012", "time": "2026-03-10T01:00:00Z", "region": "ap-southeast-2", "resources": [],
        "detail": detail,
    }))
    .unwrap();
    notify(event.clone()).await.expect("redelivery handled");
    notify(event).await.expect("redelivery handled");
    let mails = emails_for(&case_id).await;
    assert_eq!(mails.len(), after_first, "a redelivered event sent another email");
    // the case has no Case Manager yet: the school's comment went to the provider's queue mailbox
    assert!(
        mails.iter().any(|(to, s, _)| to == &vec!["queue@p01.provider.example.nz".to_string()] && s == "New comment from the school"),
        "{mails:?}"
    );

    // no email the emulator ever sent (every test's) names the seeded student
    let all = all_emails().await;
    assert!(!all.is_empty());
    for (_, subject, body) in all {
        assert!(!body.contains(STUDENT_NAME) && !subject.contains(STUDENT_NAME), "an email names the student: {subject}");
        assert!(!body.contains("Tamati") && !body.contains("Testchild"));
    }
}

#[tokio::test]
async fn provider_staff_record_meetings_which_stop_the_sla_clocks() {
    let env = TestEnv::new("activity").await;
    let case_id = env.allocated_case().await;
    let today = cms_domain::nz_date(chrono::Utc::now()).format("%Y-%m-%d").to_string();
    let meeting = json!({"type": "school_meeting", "date": today, "attendees": ["Principal", "Case Manager"], "notes": "Agreed a plan"});
    // school users and other providers cannot record activities
    assert_eq!(env.call(demo::LEAD, "POST", &format!("/cases/{case_id}/activities"), Some(meeting.clone())).await.status, 403);
    assert_eq!(
        env.call(demo::OTHER_CASE_MANAGER, "POST", &format!("/cases/{case_id}/activities"), Some(meeting.clone())).await.status,
        404
    );
    let r = env.call(demo::CASE_MANAGER, "POST", &format!("/cases/{case_id}/activities"), Some(meeting)).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["schoolMetOn"], today.as_str());
    let case = env.call(demo::CASE_MANAGER, "GET", &format!("/cases/{case_id}"), None).await;
    assert_eq!(case.body["schoolMetOn"], today.as_str());
    assert!(case.body["whanauMetOn"].is_null());
    let wh = json!({"type": "whanau_meeting", "date": today, "attendees": ["Mother"], "shared": true});
    let r = env.call(demo::PROVIDER_ADMIN, "POST", &format!("/cases/{case_id}/activities"), Some(wh)).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["whanauMetOn"], today.as_str());
    // the school sees only the shared one
    let t = timeline(&env, demo::LEAD, &case_id).await;
    let acts: Vec<&Value> = t.body["items"].as_array().unwrap().iter().filter(|e| e["type"] == "activity").collect();
    assert_eq!(acts.len(), 1);
    assert_eq!(acts[0]["activity"], "whanau_meeting");
    // dates in the future or before the referral, unknown types: 400
    for bad in [
        json!({"type": "phone_call", "date": "2999-01-01"}),
        json!({"type": "phone_call", "date": "2020-01-01"}),
        json!({"type": "video_call", "date": today}),
        json!({"type": "phone_call", "date": "10/03/2026"}),
    ] {
        let r = env.call(demo::CASE_MANAGER, "POST", &format!("/cases/{case_id}/activities"), Some(bad.clone())).await;
        assert_eq!(r.status, 400, "{bad}: {:?}", r.body);
        assert!(r.body["errors"][0]["message"].as_str().is_some());
    }
}

fn policy_of(upload: &Value) -> Value {
    let b64 = upload["fields"]["policy"].as_str().expect("policy field");
    serde_json::from_slice(&base64::engine::general_purpose::STANDARD.decode(b64).expect("base64")).expect("policy JSON")
}

async fn request_upload(env: &TestEnv, user: &str, case_id: &str, name: &str, ct: &str, size: usize, shared: bool) -> Reply {
    env.call(
        user,
        "POST",
        &format!("/cases/{case_id}/files"),
        Some(json!({"fileName": name, "contentType": ct, "size": size, "shared": shared})),
    )
    .await
}

#[tokio::test]
async fn upload_through_the_presigned_post_then_confirm_then_download() {
    let env = TestEnv::new("upload").await;
    let case_id = env.allocated_case().await;
    assign(&env, &case_id).await;
    env.bus_events().await;
    let content = b"%PDF-1.4 attendance plan (test)".to_vec();
    let started = chrono::Utc::now();
    let r = request_upload(&env, demo::LEAD, &case_id, "attendance-plan.pdf", "application/pdf", content.len(), false).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let file_id = r.body["fileId"].as_str().unwrap().to_string();
    assert_eq!(r.body["status"], "pending");
    assert_eq!(r.body["sharedWithSchool"], true, "a school user's file is always shared");

    // the policy S3 enforces: size range, exact content type, a key under the case's prefix, 15 minutes
    let upload = &r.body["upload"];
    let policy = policy_of(upload);
    let conds = policy["conditions"].as_array().unwrap();
    assert!(conds.contains(&json!(["content-length-range", 1, 20 * 1024 * 1024])), "{policy}");
    assert!(conds.contains(&json!({"Content-Type": "application/pdf"})));
    let key = upload["fields"]["key"].as_str().unwrap();
    assert_eq!(key, format!("cases/{case_id}/{file_id}"));
    assert!(conds.contains(&json!({"key": key})));
    assert!(conds.contains(&json!({"bucket": env.res.bucket_name.clone().unwrap()})));
    let expiration = chrono::DateTime::parse_from_rfc3339(policy["expiration"].as_str().unwrap()).unwrap().with_timezone(&chrono::Utc);
    let ttl = expiration - started;
    assert!(ttl <= chrono::Duration::minutes(15) + chrono::Duration::seconds(1) && ttl > chrono::Duration::minutes(14), "{ttl}");
    for f in ["x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-signature"] {
        assert!(upload["fields"][f].is_string(), "{f} missing");
    }
    assert_eq!(upload["fields"]["x-amz-algorithm"], "AWS4-HMAC-SHA256");

    // pending: not on the timeline, not downloadable
    assert_eq!(env.call(demo::LEAD, "GET", &format!("/cases/{case_id}/files/{file_id}"), None).await.status, 404);

    // the browser posts the form; S3 → EventBridge (default bus) → the rule → confirm-upload
    let status = post_form(upload, content.clone(), "application/pdf").await;
    assert!((200..300).contains(&status), "POST to S3 answered {status}");
    env.drain().await;

    let t = timeline(&env, demo::LEAD, &case_id).await;
    let files: Vec<&Value> = t.body["items"].as_array().unwrap().iter().filter(|e| e["type"] == "file").collect();
    assert_eq!(files.len(), 1, "{:?}", t.body);
    assert_eq!(files[0]["fileId"], file_id.as_str());
    assert_eq!(files[0]["size"], content.len());
    let events = env.bus_events().await;
    assert!(events.iter().any(|(t, d)| t == "FileAdded" && d["fileId"] == file_id.as_str() && d["authorSide"] == "school"));
    for (_, d) in &events {
        assert!(!d.to_string().contains("attendance-plan.pdf"), "an event carries the file name");
    }
    // the school's file emails the Case Manager
    let mails = emails_for(&case_id).await;
    assert!(mails.iter().any(|(to, s, _)| to == &vec![email_of(demo::CASE_MANAGER)] && s == "New document from the school"), "{mails:?}");

    // download: the school and the provider get a short-lived link that works; others get 404
    for user in [demo::LEAD, demo::CASE_MANAGER, demo::NATIONAL] {
        let d = env.call(user, "GET", &format!("/cases/{case_id}/files/{file_id}"), None).await;
        assert_eq!(d.status, 200, "{user}: {:?}", d.body);
        assert_eq!(d.body["expiresInSeconds"], 300);
        let got = reqwest::get(d.body["url"].as_str().unwrap()).await.unwrap().bytes().await.unwrap();
        assert_eq!(got.to_vec(), content);
    }
    for outsider in [demo::OTHER_LEAD, demo::OTHER_CONTACT, demo::OTHER_CASE_MANAGER] {
        assert_eq!(env.call(outsider, "GET", &format!("/cases/{case_id}/files/{file_id}"), None).await.status, 404, "{outsider}");
    }

    // a provider's unshared file: the provider can download it, the school cannot see it at all
    let notes = b"internal notes".to_vec();
    let r = request_upload(&env, demo::CASE_MANAGER, &case_id, "notes.txt", "text/plain", notes.len(), false).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let private_id = r.body["fileId"].as_str().unwrap().to_string();
    assert!((200..300).contains(&post_form(&r.body["upload"], notes, "text/plain").await));
    env.drain().await;
    assert_eq!(env.call(demo::CASE_MANAGER, "GET", &format!("/cases/{case_id}/files/{private_id}"), None).await.status, 200);
    assert_eq!(env.call(demo::LEAD, "GET", &format!("/cases/{case_id}/files/{private_id}"), None).await.status, 404);
    let t = timeline(&env, demo::LEAD, &case_id).await;
    assert!(!t.body.to_string().contains(&private_id));

    // bad requests: type, size, another school's case
    let bad = request_upload(&env, demo::LEAD, &case_id, "x.zip", "application/zip", 10, true).await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.body["errors"][0]["field"], "contentType");
    let big = request_upload(&env, demo::LEAD, &case_id, "x.pdf", "application/pdf", 20 * 1024 * 1024 + 1, true).await;
    assert_eq!(big.status, 400);
    assert_eq!(big.body["errors"][0]["field"], "size");
    assert_eq!(request_upload(&env, demo::OTHER_LEAD, &case_id, "x.pdf", "application/pdf", 10, true).await.status, 404);
}

#[tokio::test]
async fn an_object_that_breaks_the_rules_is_deleted_and_never_shown() {
    let env = TestEnv::new("reject").await;
    let case_id = env.allocated_case().await;
    let bucket = env.res.bucket_name.clone().expect("bucket");
    let s3 = &env.clients.s3;
    env.bus_events().await;

    // the form says a 100-byte PDF; a zip of another size is put there directly, bypassing the policy
    let r = request_upload(&env, demo::CASE_MANAGER, &case_id, "report.pdf", "application/pdf", 100, true).await;
    assert_eq!(r.status, 201);
    let file_id = r.body["fileId"].as_str().unwrap().to_string();
    let key = format!("cases/{case_id}/{file_id}");
    s3.put_object()
        .bucket(&bucket)
        .key(&key)
        .content_type("application/zip")
        .body(aws_sdk_s3::primitives::ByteStream::from(vec![0u8; 64]))
        .send()
        .await
        .expect("direct put");
    // and an object under the case's prefix that no form was issued for
    let stray = format!("cases/{case_id}/01STRAYFILE");
    s3.put_object()
        .bucket(&bucket)
        .key(&stray)
        .content_type("text/plain")
        .body(aws_sdk_s3::primitives::ByteStream::from_static(b"x"))
        .send()
        .await
        .expect("stray put");
    env.drain().await;

    for k in [&key, &stray] {
        let versions = s3.list_object_versions().bucket(&bucket).prefix(k.as_str()).send().await.unwrap();
        assert!(versions.versions().is_empty(), "{k} still has versions");
        assert!(s3.head_object().bucket(&bucket).key(k.as_str()).send().await.is_err(), "{k} still there");
    }
    for user in [demo::CASE_MANAGER, demo::LEAD] {
        assert_eq!(env.call(user, "GET", &format!("/cases/{case_id}/files/{file_id}"), None).await.status, 404);
        let t = timeline(&env, user, &case_id).await;
        assert!(!t.body["items"].as_array().unwrap().iter().any(|e| e["type"] == "file"), "{user} sees a rejected file");
    }
    assert!(!env.bus_events().await.iter().any(|(t, _)| t == "FileAdded"));
    let record = env
        .items()
        .await
        .into_iter()
        .find(|i| i.get("SK").and_then(|v| v.as_s().ok()) == Some(&format!("FILE#{file_id}")))
        .expect("file record");
    assert_eq!(record.get("status").and_then(|v| v.as_s().ok()).map(String::as_str), Some("rejected"));

    // a redelivered object-created event for the rejected file changes nothing
    let confirm = env.registry.event("ConfirmUploadFunction").expect("registered").clone();
    let ev: aws_lambda_events::eventbridge::EventBridgeEvent<Value> = serde_json::from_value(json!({
        "version": "0", "id": "again", "detail-type": "Object Created", "source": "aws.s3", "account": "123456789012",
        "time": "2026-03-10T01:00:00Z", "region": "ap-southeast-2", "resources": [],
        "detail": {"bucket": {"name": bucket}, "object": {"key": key, "size": 64}},
    }))
    .unwrap();
    let items = env.items().await;
    confirm(ev).await.expect("redelivery handled");
    assert_eq!(env.items().await, items);
}

#[tokio::test]
async fn a_shared_meeting_record_is_emailed_to_the_primary_contact_and_an_unshared_one_is_not() {
    let env = TestEnv::new("collab-meeting").await;
    let case_id = env.allocated_case().await;
    assign(&env, &case_id).await;
    let pc = email_of(demo::PRIMARY_CONTACT);
    let today = cms_domain::nz_date(chrono::Utc::now()).to_string();
    let record = |shared: bool, kind: &str| json!({"type": kind, "date": today, "attendees": ["Case Manager", "Dean"], "notes": "MEETING-NOTES private", "shared": shared});
    let r = env.call(demo::CASE_MANAGER, "POST", &format!("/cases/{case_id}/activities"), Some(record(false, "phone_call"))).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    env.drain().await;
    let before = emails_for(&case_id).await.iter().filter(|(to, _, _)| to.contains(&pc)).count();
    let r = env.call(demo::CASE_MANAGER, "POST", &format!("/cases/{case_id}/activities"), Some(record(true, "school_meeting"))).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    env.drain().await;
    let mails: Vec<_> = emails_for(&case_id).await.into_iter().filter(|(to, _, _)| to.contains(&pc)).collect();
    assert_eq!(mails.len(), before + 1, "one email for the shared record only: {mails:?}");
    let (_, subject, body) = mails.iter().find(|(_, s, _)| s.contains("record")).expect("the meeting email");
    assert!(body.contains("a meeting with the school"), "{subject}: {body}");
    assert!(!body.contains("MEETING-NOTES") && !body.contains(cms_tests::STUDENT_NAME), "no notes or student in the email");
}

#[tokio::test]
async fn school_and_provider_keep_the_contacts_current_and_a_new_primary_contact_is_told() {
    let env = TestEnv::new("collab-current").await;
    let case_id = env.allocated_case().await;
    let path = format!("/cases/{case_id}/contacts");
    let version = env.call(demo::LEAD, "GET", &format!("/cases/{case_id}"), None).await.body["version"].clone();
    let contacts = json!({
        "whanau": [{"name": "Mere Newcaregiver", "relationship": "aunt", "phone": "021 555 0199"}],
        "homeAddress": {"street": "3 Rimu Road", "town": "Kaitaia", "postcode": "0410"},
        "version": version,
    });
    // every problem at once, before anything is written
    let r = env
        .call(demo::LEAD, "PUT", &path, Some(json!({"whanau": [{"name": "Mere"}], "homeAddress": {"street": ""}, "version": version})))
        .await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    assert!(r.body["errors"].as_array().unwrap().len() >= 2, "{:?}", r.body);
    // without a version: 428; the Ministry may not; another school does not see the case
    let mut unversioned = contacts.clone();
    unversioned.as_object_mut().unwrap().remove("version");
    assert_eq!(env.call(demo::LEAD, "PUT", &path, Some(unversioned)).await.status, 428);
    assert_eq!(env.call(demo::NATIONAL, "PUT", &path, Some(contacts.clone())).await.status, 403);
    assert_eq!(env.call(demo::OTHER_LEAD, "PUT", &path, Some(contacts.clone())).await.status, 404);
    // the school updates them
    let r = env.call(demo::OFFICE, "PUT", &path, Some(contacts.clone())).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["whanau"][0]["name"], "Mere Newcaregiver");
    // the answer shows the case as the school's GET does: no system record of former schools, the
    // safety flag only as the warning
    assert!(r.body.get("formerSchools").is_none() && r.body.get("hasSafetyNotes").is_none(), "{:?}", r.body);
    assert!(r.body.get("safetyWarning").is_some());
    assert_eq!(r.body["version"].as_u64(), version.as_u64().map(|v| v + 1));
    // the same body again is stale (the case moved on) — with the current case to reload
    let r = env.call(demo::CASE_MANAGER, "PUT", &path, Some(contacts.clone())).await;
    assert_eq!(r.status, 409, "{:?}", r.body);
    let current = r.body["current"]["version"].clone();
    // the provider sends the same values at the current version: nothing changes
    let mut same = contacts.clone();
    same["version"] = current.clone();
    let r = env.call(demo::CASE_MANAGER, "PUT", &path, Some(same)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["version"], current, "unchanged values write nothing");
    // the school sees which parts changed, not the old values
    let t = timeline(&env, demo::LEAD, &case_id).await;
    let entry = t.body["items"].as_array().unwrap().iter().find(|e| e["type"] == "contacts_updated").expect("on the timeline").clone();
    assert_eq!(entry["fields"], json!(["whanau", "homeAddress"]));
    assert!(!t.body.to_string().contains("Hinewai"), "the old whānau name is not repeated on the timeline");

    // the School Primary Contact changes: Office Support may not, an ineligible person is refused
    let pc_path = format!("/cases/{case_id}/primary-contact");
    let v = env.call(demo::LEAD, "GET", &format!("/cases/{case_id}"), None).await.body["version"].clone();
    let r = env.call(demo::OFFICE, "POST", &pc_path, Some(json!({"userId": demo::PRIMARY_CONTACT_2, "version": v}))).await;
    assert_eq!(r.status, 403, "{:?}", r.body);
    for bad in [demo::OFFICE, demo::OTHER_CONTACT, "nobody-at-all"] {
        let r = env.call(demo::LEAD, "POST", &pc_path, Some(json!({"userId": bad, "version": v}))).await;
        assert_eq!(r.status, 400, "{bad}: {:?}", r.body);
    }
    let r = env.call(demo::LEAD, "POST", &pc_path, Some(json!({"userId": demo::PRIMARY_CONTACT_2, "version": v}))).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["primaryContact"], demo::PRIMARY_CONTACT_2);
    env.drain().await;
    let new_contact = email_of(demo::PRIMARY_CONTACT_2);
    let told =
        emails_for(&case_id).await.into_iter().any(|(to, subject, _)| to.contains(&new_contact) && subject.contains("Primary Contact"));
    assert!(told, "the new School Primary Contact is emailed");
    // the new contact sees the case; the former one no longer does
    assert_eq!(env.call(demo::PRIMARY_CONTACT_2, "GET", &format!("/cases/{case_id}"), None).await.status, 200);
    assert_eq!(env.call(demo::PRIMARY_CONTACT, "GET", &format!("/cases/{case_id}"), None).await.status, 404);
}
