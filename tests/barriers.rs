//! Issue 15, barriers to attendance: "Identify and record all barriers" (the guide). Through the
//! API against the emulator: the case's provider staff record them from the maintained list and
//! move them forward; every change is audited; the school never sees them (case view, timeline).

use cms_tests::{demo, TestEnv};
use serde_json::json;

#[tokio::test]
async fn the_provider_records_barriers_and_moves_them_forward_and_the_school_never_sees_them() {
    let env = TestEnv::new("barriers").await;
    let id = env.allocated_case().await;
    let barriers = format!("/cases/{id}/barriers");

    // the maintained list only; "other" needs a description
    let r = env.call(demo::CASE_MANAGER, "POST", &barriers, Some(json!({"kind": "homelessness"}))).await;
    assert_eq!((r.status, r.body["errors"][0]["field"].as_str()), (400, Some("kind")), "{:?}", r.body);
    let r = env.call(demo::CASE_MANAGER, "POST", &barriers, Some(json!({"kind": "other"}))).await;
    assert_eq!((r.status, r.body["errors"][0]["field"].as_str()), (400, Some("detail")), "{:?}", r.body);

    // recorded: identified, by the Case Manager
    let r = env
        .call(demo::CASE_MANAGER, "POST", &barriers, Some(json!({"kind": "housing_instability", "detail": "Staying with relatives"})))
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["state"], "identified");
    assert_eq!(r.body["identifiedBy"]["userId"], demo::CASE_MANAGER);
    let barrier = r.body["id"].as_str().unwrap().to_string();
    // the same kind again while it is open: 409
    let again = env.call(demo::CASE_MANAGER, "POST", &barriers, Some(json!({"kind": "housing_instability"}))).await;
    assert_eq!(again.status, 409, "{:?}", again.body);

    // forward: being addressed, then resolved; never back
    let one = format!("{barriers}/{barrier}");
    let r = env.call(demo::PROVIDER_ADMIN, "PUT", &one, Some(json!({"state": "being_addressed"}))).await;
    assert_eq!((r.status, r.body["state"].as_str()), (200, Some("being_addressed")), "{:?}", r.body);
    let back = env.call(demo::CASE_MANAGER, "PUT", &one, Some(json!({"state": "identified"}))).await;
    assert_eq!((back.status, back.body["errors"][0]["field"].as_str()), (400, Some("state")), "{:?}", back.body);
    let r = env.call(demo::CASE_MANAGER, "PUT", &one, Some(json!({"state": "resolved"}))).await;
    assert_eq!((r.status, r.body["state"].as_str()), (200, Some("resolved")), "{:?}", r.body);
    let unknown = env.call(demo::CASE_MANAGER, "PUT", &format!("{barriers}/01JNOSUCHBARRIER"), Some(json!({"state": "resolved"}))).await;
    assert_eq!(unknown.status, 404, "{:?}", unknown.body);

    // the school may read the case, not record barriers
    let refused = env.call(demo::LEAD, "POST", &barriers, Some(json!({"kind": "transport"}))).await;
    assert_eq!(refused.status, 403, "{:?}", refused.body);

    // the provider sees the barrier on the case; the school sees neither it nor its entries
    let as_cm = env.call(demo::CASE_MANAGER, "GET", &format!("/cases/{id}"), None).await;
    assert_eq!(as_cm.body["barriers"][0]["state"], "resolved", "{:?}", as_cm.body);
    for school_user in [demo::LEAD, demo::PRIMARY_CONTACT] {
        let seen = env.call(school_user, "GET", &format!("/cases/{id}"), None).await;
        assert_eq!(seen.status, 200);
        assert!(seen.body.get("barriers").is_none(), "{school_user}: {:?}", seen.body);
        let tl = env.call(school_user, "GET", &format!("/cases/{id}/timeline?limit=100"), None).await;
        assert!(!tl.body.to_string().contains("barrier_recorded") && !tl.body.to_string().contains("relatives"), "{school_user}");
    }
    // nor in the case an answer to the school's own change shows (200), nor a stale one's (409)
    let version = env.call(demo::LEAD, "GET", &format!("/cases/{id}"), None).await.body["version"].clone();
    let contacts = json!({
        "whanau": [{"name": "Mere Newcaregiver", "relationship": "aunt", "phone": "021 555 0199"}],
        "homeAddress": {"street": "3 Rimu Road", "town": "Kaitaia", "postcode": "0410"},
        "version": version,
    });
    for want in [200, 409] {
        let r = env.call(demo::LEAD, "PUT", &format!("/cases/{id}/contacts"), Some(contacts.clone())).await;
        assert_eq!(r.status, want, "{:?}", r.body);
        assert!(!r.body.to_string().contains("relatives") && !r.body.to_string().contains("barriers"), "{want}: {:?}", r.body);
    }
    let tl = env.call(demo::CASE_MANAGER, "GET", &format!("/cases/{id}/timeline?limit=100"), None).await;
    let entries: Vec<_> = tl.body["items"].as_array().unwrap().iter().filter(|e| e["type"] == "barrier_recorded").collect();
    assert_eq!(entries.len(), 3, "identified, being addressed, resolved: {entries:?}");
    assert!(entries.iter().all(|e| e["sharedWithSchool"] == false));

    // every change audited, in the case's chain (which still verifies)
    let trail = env.call(demo::NATIONAL, "GET", &format!("/cases/{id}/audit"), None).await;
    assert_eq!(trail.status, 200, "{:?}", trail.body);
    let actions: Vec<&str> = trail.body["entries"].as_array().unwrap().iter().filter_map(|e| e["action"].as_str()).collect();
    assert_eq!(actions.iter().filter(|a| **a == "case.barrier.add").count(), 1, "{actions:?}");
    assert_eq!(actions.iter().filter(|a| **a == "case.barrier.update").count(), 2, "{actions:?}");
    assert_eq!(trail.body["chain"]["intact"], true, "{:?}", trail.body);

    // no event carries a barrier, nor its description
    let events = env.bus_events().await;
    assert!(!events.iter().any(|(_, d)| d.to_string().contains("relatives") || d.to_string().contains("housing")), "{events:?}");
}
