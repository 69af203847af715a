//! Issue 15, consultation before major steps and escalations, through the API against the
//! emulator: the provider consults the school before each step; a formal communication, then the
//! provider's prosecution referral (after telling the regional office); the Prosecutions team's
//! queue, decision and outcome; the school's section 19 referral and its outcome; a multi-agency
//! forum referral marked in a pilot catchment. Each is audited and on the school's timeline
//! without its words; no event carries any of it.

use cms_tests::{demo, TestEnv};
use serde_json::{json, Value};

fn today() -> String {
    cms_domain::nz_date(chrono::Utc::now()).to_string()
}

async fn escalate(env: &TestEnv, user: &str, case: &str, body: Value) -> cms_tests::Reply {
    env.call(user, "POST", &format!("/cases/{case}/escalations"), Some(body)).await
}

#[tokio::test]
async fn the_provider_consults_writes_and_refers_and_the_prosecutions_team_decides() {
    let env = TestEnv::new("escalate").await;
    let id = env.allocated_case().await;
    let letter =
        json!({"kind": "formal_communication", "on": today(), "method": "letter", "notes": "Letter about the obligation to attend"});

    // before consulting the school: refused, and nothing written
    let r = escalate(&env, demo::CASE_MANAGER, &id, letter.clone()).await;
    assert_eq!(r.status, 409, "{:?}", r.body);
    assert!(r.body["detail"].as_str().unwrap().contains("consultation with the school"), "{:?}", r.body);
    // the school cannot send the provider's formal communication; Office Support escalates nothing
    assert_eq!(escalate(&env, demo::LEAD, &id, letter.clone()).await.status, 403);
    assert_eq!(escalate(&env, demo::OFFICE, &id, json!({"kind": "section_19", "on": today()})).await.status, 403);
    // a consultation in the future is refused; today's is recorded, shared with the school
    let tomorrow = (cms_domain::nz_date(chrono::Utc::now()) + chrono::Days::new(1)).to_string();
    let future = env
        .call(
            demo::CASE_MANAGER,
            "POST",
            &format!("/cases/{id}/consultations"),
            Some(json!({"about": "formal_communication", "heldOn": tomorrow})),
        )
        .await;
    assert_eq!((future.status, future.body["errors"][0]["field"].as_str()), (400, Some("heldOn")), "{:?}", future.body);
    env.consult(&id, "formal_communication").await;

    // the formal communication, with its method
    let sent = escalate(&env, demo::CASE_MANAGER, &id, letter.clone()).await;
    assert_eq!(sent.status, 201, "{:?}", sent.body);
    assert_eq!((sent.body["kind"].as_str(), sent.body["method"].as_str()), (Some("formal_communication"), Some("letter")));
    // the consultation is used up: another letter needs another
    assert_eq!(escalate(&env, demo::CASE_MANAGER, &id, letter).await.status, 409);

    // the provider's prosecution referral: consult, then say when the regional office was told
    env.consult(&id, "prosecution_referral").await;
    let referral = json!({"kind": "prosecution_referral", "on": today(), "notes": "Non-engagement since Term 2"});
    let untold = escalate(&env, demo::CASE_MANAGER, &id, referral.clone()).await;
    assert_eq!((untold.status, untold.body["errors"][0]["field"].as_str()), (400, Some("regionalOfficeToldOn")), "{:?}", untold.body);
    // before the referral the Prosecutions team does not see the case
    assert_eq!(env.call(demo::PROSECUTIONS, "GET", &format!("/cases/{id}"), None).await.status, 404);
    let mut told = referral.clone();
    told["regionalOfficeToldOn"] = json!(today());
    let referred = escalate(&env, demo::CASE_MANAGER, &id, told.clone()).await;
    assert_eq!(referred.status, 201, "{:?}", referred.body);
    let referral_id = referred.body["id"].as_str().unwrap().to_string();
    // one referral at a time, whoever asks
    let again = escalate(&env, demo::LEAD, &id, json!({"kind": "prosecution_referral", "on": today()})).await;
    assert_eq!(again.status, 409, "{:?}", again.body);

    // the Prosecutions team's queue is the referred case; it decides, once, then records the outcome
    let queue = env.call(demo::PROSECUTIONS, "GET", "/cases", None).await;
    assert_eq!(queue.status, 200, "{:?}", queue.body);
    let ids: Vec<&str> = queue.body["items"].as_array().unwrap().iter().filter_map(|c| c["id"].as_str()).collect();
    assert_eq!(ids, vec![id.as_str()], "{:?}", queue.body);
    let one = format!("/cases/{id}/escalations/{referral_id}");
    assert_eq!(env.call(demo::CASE_MANAGER, "PUT", &one, Some(json!({"decision": "accepted"}))).await.status, 403);
    let none = env.call(demo::PROSECUTIONS, "PUT", &one, Some(json!({"outcome": "Filed"}))).await;
    assert_eq!((none.status, none.body["errors"][0]["field"].as_str()), (400, Some("decision")), "{:?}", none.body);
    let accepted = env.call(demo::PROSECUTIONS, "PUT", &one, Some(json!({"decision": "accepted"}))).await;
    assert_eq!((accepted.status, accepted.body["decision"].as_str()), (200, Some("accepted")), "{:?}", accepted.body);
    let changed = env.call(demo::PROSECUTIONS, "PUT", &one, Some(json!({"decision": "declined"}))).await;
    assert_eq!(changed.status, 409, "{:?}", changed.body);
    let outcome = env.call(demo::PROSECUTIONS, "PUT", &one, Some(json!({"outcome": "Heard in the Youth Court"}))).await;
    assert_eq!((outcome.status, outcome.body["outcome"].as_str()), (200, Some("Heard in the Youth Court")), "{:?}", outcome.body);

    // the school sees that each step was taken and the decision, never the provider's words
    let seen = env.call(demo::LEAD, "GET", &format!("/cases/{id}"), None).await;
    let text = seen.body.to_string();
    assert_eq!(seen.body["escalations"].as_array().map(Vec::len), Some(2), "{:?}", seen.body);
    assert!(!text.contains("Youth Court") && !text.contains("Non-engagement") && !text.contains("Checked in"), "{text}");
    assert_eq!(seen.body["escalations"][1]["decision"], "accepted");
    let tl = env.call(demo::PRIMARY_CONTACT, "GET", &format!("/cases/{id}/timeline?limit=100"), None).await;
    let kinds: Vec<&str> = tl.body["items"].as_array().unwrap().iter().filter_map(|e| e["type"].as_str()).collect();
    for k in ["consulted", "escalated", "escalation_outcome"] {
        assert!(kinds.contains(&k), "{k} not on the school's timeline: {kinds:?}");
    }
    assert!(!tl.body.to_string().contains("Youth Court"));
    // the provider and the Ministry see the words
    let cm = env.call(demo::CASE_MANAGER, "GET", &format!("/cases/{id}"), None).await;
    assert_eq!(cm.body["escalations"][1]["outcome"], "Heard in the Youth Court");
    assert_eq!(cm.body["consultations"][0]["notes"], "Checked in with the Attendance Lead");

    // each change audited in the case's chain
    let trail = env.call(demo::NATIONAL, "GET", &format!("/cases/{id}/audit"), None).await;
    let actions: Vec<&str> = trail.body["entries"].as_array().unwrap().iter().filter_map(|e| e["action"].as_str()).collect();
    let n = |a: &str| actions.iter().filter(|x| **x == a).count();
    assert_eq!((n("case.consultation.add"), n("case.escalation.add"), n("case.escalation.outcome")), (2, 2, 2), "{actions:?}");
    assert_eq!(trail.body["chain"]["intact"], true);
    // no event carries any of it
    let events = env.bus_events().await;
    assert!(
        !events.iter().any(|(_, d)| {
            let t = d.to_string();
            t.contains("Youth Court") || t.contains("escalat")
        }),
        "{events:?}"
    );
}

#[tokio::test]
async fn the_school_refers_to_oranga_tamariki_and_the_provider_raises_a_pilot_forum() {
    let env = TestEnv::new("escalate-s19").await;
    let id = env.allocated_case().await;
    // the school's section 19 referral needs no consultation; its outcome is the school's to record
    let s19 = escalate(&env, demo::PRIMARY_CONTACT, &id, json!({"kind": "section_19", "on": today(), "notes": "Shared with OT"})).await;
    assert_eq!(s19.status, 201, "{:?}", s19.body);
    let one = format!("/cases/{id}/escalations/{}", s19.body["id"].as_str().unwrap());
    assert_eq!(env.call(demo::CASE_MANAGER, "PUT", &one, Some(json!({"outcome": "Assessed"}))).await.status, 403);
    let done = env.call(demo::LEAD, "PUT", &one, Some(json!({"outcome": "Oranga Tamariki assessed the whānau"}))).await;
    assert_eq!(done.status, 200, "{:?}", done.body);
    // the school sees its own referral's words
    let seen = env.call(demo::LEAD, "GET", &format!("/cases/{id}"), None).await;
    assert_eq!(seen.body["escalations"][0]["outcome"], "Oranga Tamariki assessed the whānau", "{:?}", seen.body);
    // a multi-agency forum is the provider's; school 1001's catchment (Kaitaia) is not a pilot
    assert_eq!(escalate(&env, demo::LEAD, &id, json!({"kind": "multi_agency_forum", "on": today()})).await.status, 403);
    env.consult(&id, "multi_agency_forum").await;
    let forum = escalate(&env, demo::CASE_MANAGER, &id, json!({"kind": "multi_agency_forum", "on": today()})).await;
    assert_eq!(forum.status, 201, "{:?}", forum.body);
    assert!(forum.body.get("forumPilot").is_none(), "{:?}", forum.body);
}

#[tokio::test]
async fn a_forum_referral_in_a_pilot_catchment_is_marked() {
    let env = TestEnv::new("escalate-pilot").await;
    // the seed marks the guide's six pilots; the test table's catchment C01 is made one of them
    let mut pilots: Vec<String> = cms_local::seed::full()
        .into_iter()
        .filter_map(|i| match i {
            cms_aws::ReferenceItem::Catchment(c) if c.forum_pilot => Some(c.name),
            _ => None,
        })
        .collect();
    pilots.sort();
    assert_eq!(pilots, ["Kāpiti", "Marlborough", "Mt Albert Lynfield", "Napier", "Porirua", "Whangārei South"]);
    // (before anything reads it, so no cache holds the old record)
    let mut c = cms_local::seed::minimal()
        .into_iter()
        .find_map(|i| match i {
            cms_aws::ReferenceItem::Catchment(c) if c.id.as_str() == demo::SCHOOL_CATCHMENT => Some(c),
            _ => None,
        })
        .expect("C01 in the seed");
    assert!(!c.forum_pilot);
    c.forum_pilot = true;
    env.store.put_reference(&[cms_aws::ReferenceItem::Catchment(c)]).await.unwrap();
    let id = env.allocated_case().await;
    env.consult(&id, "multi_agency_forum").await;
    let forum = escalate(&env, demo::CASE_MANAGER, &id, json!({"kind": "multi_agency_forum", "on": today()})).await;
    assert_eq!((forum.status, forum.body["forumPilot"].as_bool()), (201, Some(true)), "{:?}", forum.body);
}
