//! Issue 15, item 2, the support plan: providers "develop and implement support plans" (the
//! guide). Through the API against the emulator: goals and steps with owners and due dates, the
//! guide's adjustments, transition planning only for students approaching 16, items settled once,
//! reviews; shared with the school; every change audited.

use cms_tests::{complete_form, demo, nsn_for, TestEnv};
use serde_json::json;

fn day(offset: i64) -> String {
    (cms_domain::nz_date(chrono::Utc::now()) + chrono::Duration::days(offset)).to_string()
}

#[tokio::test]
async fn the_provider_keeps_a_support_plan_the_school_can_follow() {
    let env = TestEnv::new("plan").await;
    let id = env.allocated_case().await;
    let items = format!("/cases/{id}/plan/items");
    let field = |r: &cms_tests::Reply| (r.status, r.body["errors"][0]["field"].as_str().map(str::to_string));

    // a goal, then steps towards it
    let r = env
        .call(
            demo::CASE_MANAGER,
            "POST",
            &items,
            Some(json!({"kind": "goal", "text": "Back at school full time by Term 1", "reviewOn": day(14)})),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let goal = r.body["id"].as_str().unwrap().to_string();
    let r = env
        .call(
            demo::CASE_MANAGER,
            "POST",
            &items,
            Some(
                json!({"kind": "gradual_return", "text": "Mornings only for two weeks", "goalId": goal, "owner": "school", "due": day(14)}),
            ),
        )
        .await;
    assert_eq!((r.status, r.body["owner"].as_str()), (201, Some("school")), "{:?}", r.body);
    let step = r.body["id"].as_str().unwrap().to_string();
    // a step needs its owner and due date; a goal has neither; the goal must be one of the plan's
    let r = env
        .call(demo::CASE_MANAGER, "POST", &items, Some(json!({"kind": "timetable_change", "text": "Drop period 1 maths", "due": day(7)})))
        .await;
    assert_eq!(field(&r), (400, Some("owner".into())), "{:?}", r.body);
    let r = env
        .call(demo::CASE_MANAGER, "POST", &items, Some(json!({"kind": "action", "text": "Call whānau weekly", "owner": "provider"})))
        .await;
    assert_eq!(field(&r), (400, Some("due".into())), "{:?}", r.body);
    let r = env
        .call(demo::CASE_MANAGER, "POST", &items, Some(json!({"kind": "action", "text": "x", "owner": "provider", "due": day(-1)})))
        .await;
    assert_eq!(field(&r), (400, Some("due".into())), "{:?}", r.body);
    let r = env.call(demo::CASE_MANAGER, "POST", &items, Some(json!({"kind": "goal", "text": "x", "owner": "whanau"}))).await;
    assert_eq!(field(&r), (400, Some("kind".into())), "{:?}", r.body);
    let r = env
        .call(
            demo::CASE_MANAGER,
            "POST",
            &items,
            Some(json!({"kind": "action", "text": "x", "owner": "whanau", "due": day(1), "goalId": "01JNOGOAL"})),
        )
        .await;
    assert_eq!(field(&r), (400, Some("goalId".into())), "{:?}", r.body);
    // the demo student is 12: no transition planning yet
    let r = env
        .call(
            demo::CASE_MANAGER,
            "POST",
            &items,
            Some(json!({"kind": "transition_planning", "text": "Explore trades training", "owner": "agency", "due": day(30)})),
        )
        .await;
    assert_eq!(field(&r), (400, Some("kind".into())), "{:?}", r.body);
    assert!(r.body["errors"][0]["message"].as_str().unwrap().contains("approaching 16"), "{:?}", r.body);

    // settled once, never reopened
    let one = format!("{items}/{step}");
    let r = env.call(demo::PROVIDER_ADMIN, "PUT", &one, Some(json!({"state": "done"}))).await;
    assert_eq!((r.status, r.body["state"].as_str()), (200, Some("done")), "{:?}", r.body);
    assert_eq!(env.call(demo::CASE_MANAGER, "PUT", &one, Some(json!({"state": "dropped"}))).await.status, 409);
    assert_eq!(field(&env.call(demo::CASE_MANAGER, "PUT", &one, Some(json!({"state": "open"}))).await), (400, Some("state".into())));
    assert_eq!(env.call(demo::CASE_MANAGER, "PUT", &format!("{items}/01JNOSUCHITEM"), Some(json!({"state": "done"}))).await.status, 404);

    // a review
    let reviews = format!("/cases/{id}/plan/reviews");
    let r = env.call(demo::CASE_MANAGER, "POST", &reviews, Some(json!({"heldOn": day(1), "note": "x"}))).await;
    assert_eq!(field(&r), (400, Some("heldOn".into())), "{:?}", r.body);
    let r = env
        .call(
            demo::CASE_MANAGER,
            "POST",
            &reviews,
            Some(json!({"heldOn": day(0), "note": "Attending four mornings of five", "nextReviewOn": day(14)})),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);

    // the school may not keep the plan, but sees it: on the case and the timeline
    let refused = env.call(demo::LEAD, "POST", &items, Some(json!({"kind": "goal", "text": "x"}))).await;
    assert_eq!(refused.status, 403, "{:?}", refused.body);
    let seen = env.call(demo::LEAD, "GET", &format!("/cases/{id}"), None).await;
    assert_eq!(seen.body["plan"].as_array().map(Vec::len), Some(2), "{:?}", seen.body);
    assert_eq!(seen.body["planReviews"][0]["note"], "Attending four mornings of five");
    let tl = env.call(demo::PRIMARY_CONTACT, "GET", &format!("/cases/{id}/timeline?limit=100"), None).await;
    let n = |t: &str| tl.body["items"].as_array().unwrap().iter().filter(|e| e["type"] == t).count();
    assert_eq!((n("plan_item_recorded"), n("plan_reviewed")), (3, 1), "{:?}", tl.body);

    // audited
    let trail = env.call(demo::NATIONAL, "GET", &format!("/cases/{id}/audit"), None).await;
    let actions: Vec<&str> = trail.body["entries"].as_array().unwrap().iter().filter_map(|e| e["action"].as_str()).collect();
    let count = |a: &str| actions.iter().filter(|x| **x == a).count();
    assert_eq!((count("case.plan.item.add"), count("case.plan.item.update"), count("case.plan.review")), (2, 1, 1), "{actions:?}");
}

#[tokio::test]
async fn a_student_approaching_16_gets_transition_planning_and_a_youth_service_referral() {
    let env = TestEnv::new("plan-16").await;
    let dob = (cms_domain::nz_date(chrono::Utc::now()) - chrono::Duration::days(15 * 365 + 60)).to_string();
    let mut form = complete_form(demo::PRIMARY_CONTACT);
    form["student"]["fullName"] = json!("Tama Fifteen");
    form["student"]["dateOfBirth"] = json!(dob);
    form["student"]["nsn"] = json!(nsn_for("Tama Fifteen", &dob));
    let r = env.submit_new(demo::LEAD, form).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let id = r.body["caseId"].as_str().unwrap().to_string();
    env.drain().await;
    for kind in ["transition_planning", "youth_service_referral"] {
        let r = env
            .call(
                demo::CASE_MANAGER,
                "POST",
                &format!("/cases/{id}/plan/items"),
                Some(json!({"kind": kind, "text": "MSD youth coach", "owner": "agency", "due": day(21)})),
            )
            .await;
        assert_eq!(r.status, 201, "{kind}: {:?}", r.body);
    }
}
