//! Issue 15, other agencies and CIT's agency checks, through the API against the emulator: the
//! provider records the agencies engaged (the school never sees them); the provider or CIT asks
//! for an information check and CIT records the result; checks are seen by CIT and the case's
//! provider only — not the school, not the other Ministry teams — on the case and the timeline.

use cms_tests::{demo, TestEnv};
use serde_json::json;

#[tokio::test]
async fn the_provider_records_agencies_and_cit_answers_checks_only_they_see() {
    let env = TestEnv::new("agencies").await;
    let id = env.allocated_case().await;
    let today = cms_domain::nz_date(chrono::Utc::now()).to_string();
    let agencies = format!("/cases/{id}/agencies");

    // the list only; other needs a name; the school does not record agencies
    let r = env.call(demo::CASE_MANAGER, "POST", &agencies, Some(json!({"agency": "church", "since": today}))).await;
    assert_eq!((r.status, r.body["errors"][0]["field"].as_str()), (400, Some("agency")), "{:?}", r.body);
    let r = env.call(demo::CASE_MANAGER, "POST", &agencies, Some(json!({"agency": "other", "since": today}))).await;
    assert_eq!((r.status, r.body["errors"][0]["field"].as_str()), (400, Some("detail")), "{:?}", r.body);
    assert_eq!(env.call(demo::LEAD, "POST", &agencies, Some(json!({"agency": "police", "since": today}))).await.status, 403);
    let r = env
        .call(
            demo::CASE_MANAGER,
            "POST",
            &agencies,
            Some(json!({"agency": "oranga_tamariki", "detail": "Social worker at the Kaitaia site", "since": today})),
        )
        .await;
    assert_eq!((r.status, r.body["agency"].as_str()), (201, Some("oranga_tamariki")), "{:?}", r.body);
    let again = env.call(demo::PROVIDER_ADMIN, "POST", &agencies, Some(json!({"agency": "oranga_tamariki", "since": today}))).await;
    assert_eq!(again.status, 409, "{:?}", again.body);

    // a check asked by the provider, one by CIT; only CIT records the result, once
    let checks = format!("/cases/{id}/agency-checks");
    let asked =
        env.call(demo::CASE_MANAGER, "POST", &checks, Some(json!({"agency": "police", "question": "Any family harm callouts?"}))).await;
    assert_eq!(asked.status, 201, "{:?}", asked.body);
    assert_eq!(env.call(demo::CIT, "POST", &checks, Some(json!({"agency": "health"}))).await.status, 201);
    for refused in [demo::LEAD, demo::NATIONAL, demo::REGIONAL] {
        assert_eq!(env.call(refused, "POST", &checks, Some(json!({"agency": "msd"}))).await.status, 403, "{refused}");
    }
    let one = format!("{checks}/{}", asked.body["id"].as_str().unwrap());
    assert_eq!(env.call(demo::CASE_MANAGER, "PUT", &one, Some(json!({"result": "None"}))).await.status, 403);
    let done = env.call(demo::CIT, "PUT", &one, Some(json!({"result": "Two callouts in 2026, none since June"}))).await;
    assert_eq!((done.status, done.body["result"].as_str()), (200, Some("Two callouts in 2026, none since June")), "{:?}", done.body);
    assert_eq!(env.call(demo::CIT, "PUT", &one, Some(json!({"result": "again"}))).await.status, 409);

    // who sees what: the provider and CIT see checks; national sees agencies, not checks; the school neither
    let case_path = format!("/cases/{id}");
    let view = |user: &'static str| env.call(user, "GET", &case_path, None);
    let cm = view(demo::CASE_MANAGER).await;
    assert_eq!(cm.body["agencyChecks"].as_array().map(Vec::len), Some(2), "{:?}", cm.body);
    assert_eq!(cm.body["agencies"][0]["detail"], "Social worker at the Kaitaia site");
    assert_eq!(view(demo::CIT).await.body["agencyChecks"].as_array().map(Vec::len), Some(2));
    let national = view(demo::NATIONAL).await;
    assert!(national.body.get("agencyChecks").is_none() && national.body["agencies"].is_array(), "{:?}", national.body);
    for school_user in [demo::LEAD, demo::PRIMARY_CONTACT] {
        let seen = view(school_user).await;
        assert!(seen.body.get("agencies").is_none() && seen.body.get("agencyChecks").is_none(), "{school_user}: {:?}", seen.body);
    }
    let tl_path = format!("/cases/{id}/timeline?limit=100");
    let timeline = |user: &'static str| env.call(user, "GET", &tl_path, None);
    let types = |r: &cms_tests::Reply| -> Vec<String> {
        r.body["items"].as_array().unwrap().iter().filter_map(|e| e["type"].as_str().map(String::from)).collect()
    };
    let cm_tl = types(&timeline(demo::CASE_MANAGER).await);
    assert!(cm_tl.contains(&"agency_check_answered".to_string()) && cm_tl.contains(&"agency_engaged".to_string()), "{cm_tl:?}");
    let national_tl = types(&timeline(demo::NATIONAL).await);
    assert!(
        national_tl.contains(&"agency_engaged".to_string()) && !national_tl.iter().any(|t| t.starts_with("agency_check")),
        "{national_tl:?}"
    );
    let school_tl = types(&timeline(demo::LEAD).await);
    assert!(!school_tl.iter().any(|t| t.starts_with("agency")), "{school_tl:?}");

    // audited; no event carries any of it
    let trail = env.call(demo::NATIONAL, "GET", &format!("/cases/{id}/audit"), None).await;
    let actions: Vec<&str> = trail.body["entries"].as_array().unwrap().iter().filter_map(|e| e["action"].as_str()).collect();
    let n = |a: &str| actions.iter().filter(|x| **x == a).count();
    assert_eq!((n("case.agency.add"), n("case.agency_check.request"), n("case.agency_check.record")), (1, 2, 1), "{actions:?}");
    let events = env.bus_events().await;
    assert!(!events.iter().any(|(_, d)| d.to_string().contains("callouts") || d.to_string().contains("oranga")), "{events:?}");
}
