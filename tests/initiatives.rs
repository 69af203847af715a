//! Issue 15, item 9, provider initiatives: "Providers may also run targeted projects or
//! initiatives to support improved attendance for ākongā. These could be group or school-based
//! activities" (the guide). Through the API against the emulator.

use cms_tests::{demo, TestEnv};
use serde_json::json;

const PATH: &str = "/providers/P01/initiatives";

#[tokio::test]
async fn a_provider_records_initiatives_for_the_schools_it_serves_and_those_schools_see_them() {
    let env = TestEnv::new("initiatives").await;
    let field = |r: &cms_tests::Reply| (r.status, r.body["errors"][0]["field"].as_str().map(str::to_string));
    let body = json!({
        "title": "Year 8 to 9 transition",
        "purpose": "Support the move from intermediate to college",
        "schoolIds": [demo::SCHOOL],
        "group": "Year 8 students at risk of disengaging",
        "startsOn": "2027-02-01",
        "endsOn": "2027-04-01",
    });
    // only the provider's staff; only schools it serves; dates in order
    assert_eq!(env.call(demo::LEAD, "POST", PATH, Some(body.clone())).await.status, 403);
    assert_eq!(env.call(demo::OTHER_CASE_MANAGER, "POST", PATH, Some(body.clone())).await.status, 403);
    let mut far = body.clone();
    far["schoolIds"] = json!([demo::ISP_SCHOOL]);
    assert_eq!(field(&env.call(demo::CASE_MANAGER, "POST", PATH, Some(far)).await), (400, Some("schoolIds".into())));
    let mut backwards = body.clone();
    backwards["endsOn"] = json!("2027-01-01");
    assert_eq!(field(&env.call(demo::CASE_MANAGER, "POST", PATH, Some(backwards)).await), (400, Some("endsOn".into())));
    let r = env.call(demo::CASE_MANAGER, "POST", PATH, Some(json!({"schoolIds": [demo::SCHOOL], "startsOn": "2027-02-01"}))).await;
    assert_eq!(field(&r), (400, Some("title".into())), "{:?}", r.body);

    let r = env.call(demo::CASE_MANAGER, "POST", PATH, Some(body.clone())).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let id = r.body["id"].as_str().unwrap().to_string();
    let mut other = body.clone();
    other["title"] = json!("After the floods");
    other["schoolIds"] = json!([demo::OTHER_SCHOOL]);
    assert_eq!(env.call(demo::PROVIDER_ADMIN, "POST", PATH, Some(other)).await.status, 201);

    // the outcome, conditional on the version
    let one = format!("{PATH}/{id}");
    let r = env.call(demo::CASE_MANAGER, "PUT", &one, Some(json!({"outcome": "18 of 22 attending 90 %", "version": 1}))).await;
    assert_eq!((r.status, r.body["version"].as_u64()), (200, Some(2)), "{:?}", r.body);
    let stale = env.call(demo::PROVIDER_ADMIN, "PUT", &one, Some(json!({"outcome": "x", "version": 1}))).await;
    assert_eq!((stale.status, stale.body["current"]["outcome"].as_str()), (409, Some("18 of 22 attending 90 %")), "{:?}", stale.body);
    assert_eq!(env.call(demo::CASE_MANAGER, "PUT", &one, Some(json!({"outcome": "x"}))).await.status, 428);

    // who sees what
    let titles = |r: &cms_tests::Reply| -> Vec<String> {
        r.body["items"].as_array().map(|l| l.iter().filter_map(|i| i["title"].as_str().map(str::to_string)).collect()).unwrap_or_default()
    };
    for who in [demo::CASE_MANAGER, demo::NATIONAL, demo::REGIONAL] {
        let r = env.call(who, "GET", PATH, None).await;
        assert_eq!(titles(&r).len(), 2, "{who}: {:?}", r.body);
    }
    assert_eq!(titles(&env.call(demo::LEAD, "GET", PATH, None).await), ["Year 8 to 9 transition"]);
    assert_eq!(titles(&env.call(demo::OTHER_LEAD, "GET", PATH, None).await), ["After the floods"]);
    for who in [demo::OTHER_CASE_MANAGER, demo::OTHER_REGIONAL, demo::CIT, demo::PRIMARY_CONTACT] {
        assert_eq!(env.call(who, "GET", PATH, None).await.status, 404, "{who}");
    }
}
