//! Issue 15, item 7, bulk reassignment: "when a Case Manager leaves or is away, a provider admin
//! moves all or selected cases from one Case Manager to another in one request, with a reason;
//! each case audited; the new Case Manager gets one summary email, not one per case". Through the
//! API against the emulator, with the emails read from the emulator's record of SES sends.

use cms_tests::{demo, open_case, TestEnv};
use serde_json::{json, Value};

fn endpoint() -> String {
    std::env::var("AWS_ENDPOINT_URL").expect("AWS_ENDPOINT_URL")
}

/// The emails the emulator recorded to one address: (subject, body).
async fn emails_to(address: &str) -> Vec<(String, String)> {
    let v: Value = reqwest::get(format!("{}/_local/outbox", endpoint())).await.expect("outbox").json().await.expect("outbox json");
    v["messages"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter(|m| m["destinations"]["ToAddresses"].as_array().is_some_and(|to| to.iter().any(|a| a == address)))
        .map(|m| (m["subject"].as_str().unwrap_or_default().to_string(), m["body"].as_str().unwrap_or_default().to_string()))
        .collect()
}

const PATH: &str = "/providers/P01/reassignments";

#[tokio::test]
async fn a_provider_admin_moves_a_case_managers_cases_in_one_request_with_one_email() {
    let env = TestEnv::new("reassign").await;
    let names = ["Reassign Aperahama", "Reassign Bethany", "Reassign Ciaran"];
    let mut theirs = Vec::new();
    for n in names {
        theirs.push(open_case(&env, n).await);
    }
    // a case already with the other Case Manager
    let elsewhere = open_case(&env, "Reassign Dmitri").await;
    let v = env.version(demo::PROVIDER_ADMIN, &elsewhere).await;
    let r = env
        .status(demo::PROVIDER_ADMIN, &elsewhere, json!({"action": "assign", "version": v, "caseManagerId": demo::CASE_MANAGER_2}))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    env.drain().await;
    let address = cms_local::seed::demo_user(demo::CASE_MANAGER_2).expect("demo user").email;
    let before = emails_to(&address).await.len();

    // refused: a Case Manager, another provider's admin; a body that names no one, the same
    // person twice, someone who is not a Case Manager here, or no reason
    let body = json!({"fromUserId": demo::CASE_MANAGER, "toUserId": demo::CASE_MANAGER_2, "reason": "On leave until the end of term"});
    assert_eq!(env.call(demo::CASE_MANAGER, "POST", PATH, Some(body.clone())).await.status, 403);
    assert_eq!(env.call(demo::OTHER_PROVIDER_ADMIN, "POST", PATH, Some(body.clone())).await.status, 403);
    let field = |r: &cms_tests::Reply| (r.status, r.body["errors"][0]["field"].as_str().map(str::to_string));
    let r = env.call(demo::PROVIDER_ADMIN, "POST", PATH, Some(json!({"reason": "x"}))).await;
    assert_eq!(field(&r), (400, Some("fromUserId".into())), "{:?}", r.body);
    let r = env
        .call(
            demo::PROVIDER_ADMIN,
            "POST",
            PATH,
            Some(json!({"fromUserId": demo::CASE_MANAGER, "toUserId": demo::CASE_MANAGER, "reason": "x"})),
        )
        .await;
    assert_eq!(field(&r), (400, Some("toUserId".into())), "{:?}", r.body);
    let r = env
        .call(
            demo::PROVIDER_ADMIN,
            "POST",
            PATH,
            Some(json!({"fromUserId": demo::CASE_MANAGER, "toUserId": demo::OTHER_CASE_MANAGER, "reason": "x"})),
        )
        .await;
    assert_eq!(field(&r), (400, Some("toUserId".into())), "another provider's Case Manager: {:?}", r.body);
    let r = env
        .call(demo::PROVIDER_ADMIN, "POST", PATH, Some(json!({"fromUserId": demo::CASE_MANAGER, "toUserId": demo::CASE_MANAGER_2})))
        .await;
    assert_eq!(field(&r), (400, Some("reason".into())), "{:?}", r.body);
    env.drain().await;
    assert_eq!(
        env.call(demo::NATIONAL, "GET", &format!("/cases/{}", theirs[0]), None).await.body["caseManager"],
        demo::CASE_MANAGER,
        "nothing moved"
    );

    // selected cases: the one still with cm-p01 moves, the other is listed with why
    let mut picked = body.clone();
    picked["caseIds"] = json!([theirs[0], elsewhere]);
    let r = env.call(demo::PROVIDER_ADMIN, "POST", PATH, Some(picked)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["moved"], json!([theirs[0]]), "{:?}", r.body);
    assert_eq!(r.body["skipped"][0]["caseId"], elsewhere.as_str(), "{:?}", r.body);
    assert!(r.body["skipped"][0]["reason"].as_str().unwrap().contains("not with that Case Manager"), "{:?}", r.body);

    // all the rest of cm-p01's open cases
    let r = env.call(demo::PROVIDER_ADMIN, "POST", PATH, Some(body.clone())).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let mut moved: Vec<String> = r.body["moved"].as_array().unwrap().iter().map(|x| x.as_str().unwrap().to_string()).collect();
    moved.sort();
    let mut want = theirs[1..].to_vec();
    want.sort();
    assert_eq!(moved, want, "{:?}", r.body);
    assert_eq!(r.body["remaining"], 0);
    env.drain().await;

    // one email per request, none per case, no child details
    let mails = emails_to(&address).await;
    let new: Vec<&(String, String)> = mails[before..].iter().collect();
    let subjects: Vec<&str> = new.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(subjects, ["1 case has been reassigned to you", "2 cases have been reassigned to you"], "{new:?}");
    for (_, body) in &new {
        assert!(names.iter().all(|n| !body.contains(n.split(' ').nth(1).unwrap())), "{body}");
        assert!(!body.contains("On leave"), "the reason stays in the portal: {body}");
    }

    // again: nothing left to move, no email
    let r = env.call(demo::PROVIDER_ADMIN, "POST", PATH, Some(body)).await;
    assert_eq!((r.status, r.body["moved"].as_array().map(Vec::len)), (200, Some(0)), "{:?}", r.body);
    env.drain().await;
    assert_eq!(emails_to(&address).await.len(), mails.len());

    // each case: with the new Case Manager, the reason on its timeline (the school sees it, as it
    // sees any assignment), audited in its own chain
    for id in &theirs {
        let c = env.call(demo::CASE_MANAGER_2, "GET", &format!("/cases/{id}"), None).await;
        assert_eq!(c.body["caseManager"], demo::CASE_MANAGER_2, "{:?}", c.body);
        let tl = env.call(demo::LEAD, "GET", &format!("/cases/{id}/timeline?limit=100"), None).await;
        let moved_entry =
            tl.body["items"].as_array().unwrap().iter().find(|e| e["type"] == "case_manager_assigned" && e["reason"].is_string()).cloned();
        let e = moved_entry.unwrap_or_else(|| panic!("{:?}", tl.body));
        assert_eq!(
            (e["caseManager"].as_str(), e["previous"].as_str(), e["reason"].as_str()),
            (Some(demo::CASE_MANAGER_2), Some(demo::CASE_MANAGER), Some("On leave until the end of term"))
        );
        let trail = env.call(demo::NATIONAL, "GET", &format!("/cases/{id}/audit"), None).await;
        let n = trail.body["entries"].as_array().unwrap().iter().filter(|e| e["action"] == "case.reassign").count();
        assert_eq!(n, 1, "{id}");
    }
}
