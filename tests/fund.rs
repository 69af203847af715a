//! Issue 15, item 4, the Unmet Basic Needs Fund: "Providers may use up to 3% of their contract
//! funding to help meet unmet basic needs when these are significantly affecting attendance" (the
//! guide). Through the API against the emulator: spends and refunds on cases, the cap refused
//! with the remaining balance, the provider's and its regional office's view of spend against
//! cap, the school seeing nothing of it, and the cap holding under concurrent spends.

use cms_tests::{demo, open_case, TestEnv};
use futures::future::join_all;
use serde_json::json;

fn today() -> String {
    cms_domain::nz_date(chrono::Utc::now()).to_string()
}

/// The demo seed's P01 has a $350,000 contract: a cap of $10,500.00.
const CAP_CENTS: u64 = 1_050_000;

#[tokio::test]
async fn spends_and_refunds_count_against_the_providers_cap_and_the_school_sees_none_of_it() {
    let env = TestEnv::new("fund").await;
    let id = env.allocated_case().await;
    let spends = format!("/cases/{id}/fund-spends");
    let fund = format!("/providers/{}/fund", demo::SCHOOL_PROVIDER);

    let f = env.call(demo::PROVIDER_ADMIN, "GET", &fund, None).await;
    assert_eq!(f.status, 200, "{:?}", f.body);
    assert_eq!(
        (f.body["capCents"].as_u64(), f.body["spentCents"].as_u64(), f.body["remainingCents"].as_u64()),
        (Some(CAP_CENTS), Some(0), Some(CAP_CENTS))
    );
    assert_eq!(f.body["contractCents"], 35_000_000);

    // checked as a form: category from the list, a whole number of cents, a date not in the future
    let r = env.call(demo::CASE_MANAGER, "POST", &spends, Some(json!({"category": "rent", "amountCents": 12.5, "on": "2999-01-01"}))).await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    let fields: Vec<&str> = r.body["errors"].as_array().unwrap().iter().filter_map(|e| e["field"].as_str()).collect();
    assert_eq!(fields, ["category", "amountCents"], "{:?}", r.body);
    let r = env.call(demo::CASE_MANAGER, "POST", &spends, Some(json!({"category": "other", "amountCents": 100, "on": today()}))).await;
    assert_eq!((r.status, r.body["errors"][0]["field"].as_str()), (400, Some("note")), "{:?}", r.body);
    // a receipt must be a file on the case
    let r = env
        .call(
            demo::CASE_MANAGER,
            "POST",
            &spends,
            Some(json!({"category": "food", "amountCents": 100, "on": today(), "receiptFileId": "01JNOSUCHFILE"})),
        )
        .await;
    assert_eq!((r.status, r.body["errors"][0]["field"].as_str()), (400, Some("receiptFileId")), "{:?}", r.body);

    // a spend: recorded on the case, counted for the provider's year
    let r = env
        .call(
            demo::CASE_MANAGER,
            "POST",
            &spends,
            Some(json!({"category": "clothing", "amountCents": 1_000_000, "on": today(), "note": "School uniform and shoes"})),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!((r.body["category"].as_str(), r.body["amountCents"].as_u64()), (Some("clothing"), Some(1_000_000)));
    let spend = r.body["id"].as_str().unwrap().to_string();

    // one that would cross the cap: 409, with what is left in words
    let r =
        env.call(demo::CASE_MANAGER, "POST", &spends, Some(json!({"category": "transport", "amountCents": 50_001, "on": today()}))).await;
    assert_eq!(r.status, 409, "{:?}", r.body);
    assert!(r.body["detail"].as_str().unwrap().contains("$500.00 is left"), "{:?}", r.body);
    let r =
        env.call(demo::CASE_MANAGER, "POST", &spends, Some(json!({"category": "transport", "amountCents": 50_000, "on": today()}))).await;
    assert_eq!(r.status, 201, "up to the cap exactly: {:?}", r.body);

    // a refund gives money back; never more than is left of the spend
    let refunds = format!("{spends}/{spend}/refunds");
    let r = env.call(demo::CASE_MANAGER, "POST", &refunds, Some(json!({"amountCents": 1_000_001, "on": today()}))).await;
    assert_eq!((r.status, r.body["errors"][0]["field"].as_str()), (400, Some("amountCents")), "{:?}", r.body);
    let r = env
        .call(demo::CASE_MANAGER, "POST", &refunds, Some(json!({"amountCents": 250_000, "on": today(), "note": "Shoes returned"})))
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["refundedCents"], 250_000);
    let unknown = env
        .call(demo::CASE_MANAGER, "POST", &format!("{spends}/01JNOSUCHSPEND/refunds"), Some(json!({"amountCents": 1, "on": today()})))
        .await;
    assert_eq!(unknown.status, 404, "{:?}", unknown.body);

    // the provider, its regional office and the national team see spend against cap
    for who in [demo::CASE_MANAGER, demo::REGIONAL, demo::NATIONAL] {
        let f = env.call(who, "GET", &fund, None).await;
        assert_eq!(f.status, 200, "{who}: {:?}", f.body);
        assert_eq!((f.body["spentCents"].as_u64(), f.body["remainingCents"].as_u64()), (Some(800_000), Some(250_000)), "{who}");
    }
    // not another region's office, another provider, CIT or the school
    for who in [demo::OTHER_REGIONAL, demo::OTHER_CASE_MANAGER, demo::CIT, demo::LEAD] {
        assert_eq!(env.call(who, "GET", &fund, None).await.status, 404, "{who}");
    }
    // another contract year holds nothing yet
    let last_year = cms_domain::fund::ContractYear::of(cms_domain::nz_date(chrono::Utc::now())).0 - 1;
    let f = env.call(demo::CASE_MANAGER, "GET", &format!("{fund}?year={last_year}"), None).await;
    assert_eq!(f.body["spentCents"], 0, "{:?}", f.body);
    assert_eq!(env.call(demo::CASE_MANAGER, "GET", &format!("{fund}?year=26"), None).await.status, 400);

    // the school may not spend and sees nothing of it (case view, timeline)
    let refused = env.call(demo::LEAD, "POST", &spends, Some(json!({"category": "food", "amountCents": 100, "on": today()}))).await;
    assert_eq!(refused.status, 403, "{:?}", refused.body);
    let as_cm = env.call(demo::CASE_MANAGER, "GET", &format!("/cases/{id}"), None).await;
    assert_eq!(as_cm.body["fundSpends"].as_array().map(Vec::len), Some(2), "{:?}", as_cm.body);
    for school_user in [demo::LEAD, demo::PRIMARY_CONTACT] {
        let seen = env.call(school_user, "GET", &format!("/cases/{id}"), None).await;
        assert!(seen.body.get("fundSpends").is_none() && !seen.body.to_string().contains("uniform"), "{school_user}: {:?}", seen.body);
        let tl = env.call(school_user, "GET", &format!("/cases/{id}/timeline?limit=100"), None).await;
        assert!(!tl.body.to_string().contains("fund_"), "{school_user}: {:?}", tl.body);
    }

    // audited; no event carries any of it
    let trail = env.call(demo::NATIONAL, "GET", &format!("/cases/{id}/audit"), None).await;
    let actions: Vec<&str> = trail.body["entries"].as_array().unwrap().iter().filter_map(|e| e["action"].as_str()).collect();
    let n = |a: &str| actions.iter().filter(|x| **x == a).count();
    assert_eq!((n("case.fund.spend"), n("case.fund.refund")), (2, 1), "{actions:?}");
    let events = env.bus_events().await;
    assert!(!events.iter().any(|(_, d)| d.to_string().contains("uniform") || d.to_string().contains("fund")), "{events:?}");
}

/// Eight spends of $3,000 at once on four cases of one provider with a $10,500 cap: whatever
/// order they land in, the total never passes the cap and the counter equals the spends the cases
/// hold (no lost update). Those refused as busy are tried again until each is accepted or refused
/// for the cap: exactly three fit.
#[tokio::test]
async fn the_cap_holds_under_concurrent_spends() {
    let env = TestEnv::new("fund-race").await;
    let mut cases = Vec::new();
    for i in 0..4 {
        cases.push(open_case(&env, &format!("Fund Racer {}", ["Aroha", "Bex", "Cody", "Dani"][i])).await);
    }
    let body = json!({"category": "equipment", "amountCents": 300_000, "on": today(), "note": "Laptop for school work"});
    let mut pending: Vec<&String> = cases.iter().chain(cases.iter()).collect();
    let (mut accepted, mut over_cap) = (0, 0);
    for _round in 0..10 {
        let paths: Vec<String> = pending.iter().map(|c| format!("/cases/{c}/fund-spends")).collect();
        let replies = join_all(paths.iter().map(|p| env.call(demo::CASE_MANAGER, "POST", p, Some(body.clone())))).await;
        let mut again = Vec::new();
        for (c, r) in pending.iter().zip(replies) {
            match r.status {
                201 => accepted += 1,
                409 if r.body["detail"].as_str().is_some_and(|d| d.contains("above its cap")) => over_cap += 1,
                409 => again.push(*c), // busy: someone else's change landed first
                s => panic!("unexpected {s}: {:?}", r.body),
            }
        }
        pending = again;
        if pending.is_empty() {
            break;
        }
    }
    assert!(pending.is_empty(), "still busy after ten rounds");
    assert_eq!((accepted, over_cap), (3, 5));
    let f = env.call(demo::PROVIDER_ADMIN, "GET", &format!("/providers/{}/fund", demo::SCHOOL_PROVIDER), None).await;
    let mut held = 0;
    for c in &cases {
        let v = env.call(demo::CASE_MANAGER, "GET", &format!("/cases/{c}"), None).await;
        held += v.body["fundSpends"].as_array().map(|s| s.iter().filter_map(|x| x["amountCents"].as_u64()).sum::<u64>()).unwrap_or(0);
    }
    assert_eq!((f.body["spentCents"].as_u64(), held), (Some(900_000), 900_000), "{:?}", f.body);
    assert!(f.body["spentCents"].as_u64().unwrap() <= CAP_CENTS);
}
