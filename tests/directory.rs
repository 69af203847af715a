//! Issue 11 (10): what a client needs — the school and provider directory, names for the ids in a
//! case view, and search within the caller's scope by NSN or name (`GET /cases?q=`).

use cms_domain::ports::ReadLog;
use cms_tests::{complete_form, demo, nsn_for, TestEnv};
use serde_json::{json, Value};

/// A submitted CA request of school 1001 for `name`; returns the case id.
async fn case_for(env: &TestEnv, name: &str, dob: &str) -> String {
    let mut form = complete_form(demo::PRIMARY_CONTACT);
    form["student"]["fullName"] = json!(name);
    form["student"]["dateOfBirth"] = json!(dob);
    form["student"]["nsn"] = json!(nsn_for(name, dob));
    form["submit"] = json!(true);
    let r = env.call(demo::LEAD, "POST", "/referrals", Some(form)).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    r.body["caseId"].as_str().unwrap().to_string()
}

fn ids(v: &Value) -> Vec<String> {
    v["items"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn a_school_shows_its_catchment_provider_isp_and_staff_who_may_be_primary_contact() {
    let env = TestEnv::new("dir-school").await;
    let r = env.call(demo::LEAD, "GET", &format!("/schools/{}", demo::ISP_SCHOOL), None).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["catchment"]["id"], demo::ISP_SCHOOL_CATCHMENT);
    assert_eq!(r.body["provider"]["id"], demo::ISP_SCHOOL_PROVIDER);
    assert_eq!(r.body["inSchoolProvision"]["id"], demo::ISP_PROVIDER);
    assert!(r.body.get("staff").is_none(), "another school's staff are not listed to lead-1001");

    let r = env.call(demo::LEAD, "GET", &format!("/schools/{}", demo::SCHOOL), None).await;
    assert_eq!(r.status, 200);
    assert!(r.body.get("inSchoolProvision").is_none());
    let staff = r.body["staff"].as_array().expect("own school's staff");
    let contact = staff.iter().find(|s| s["userId"] == demo::PRIMARY_CONTACT).expect("the contact is listed");
    assert_eq!(contact["canBePrimaryContact"], true);
    let office = staff.iter().find(|s| s["userId"] == demo::OFFICE).expect("office support listed");
    assert_eq!(office["canBePrimaryContact"], false, "Office Support cannot be named Primary Contact");
    assert!(!r.body.to_string().contains('@'), "no email addresses in the directory");
    assert!(staff.iter().all(|s| s["userId"] != demo::OTHER_LEAD), "only this school's staff");

    let r = env.call(demo::LEAD, "GET", "/schools/999999", None).await;
    assert_eq!(r.status, 404, "{:?}", r.body);
}

#[tokio::test]
async fn providers_and_their_case_managers() {
    let env = TestEnv::new("dir-provider").await;
    let r = env.call(demo::CIT, "GET", "/providers", None).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let all = ids(&r.body);
    assert!(all.contains(&demo::SCHOOL_PROVIDER.to_string()) && all.contains(&demo::ISP_PROVIDER.to_string()), "{all:?}");
    let r = env.call(demo::PROVIDER_ADMIN, "GET", &format!("/providers/{}", demo::SCHOOL_PROVIDER), None).await;
    assert_eq!(r.status, 200);
    let staff = r.body["staff"].as_array().expect("own provider's staff");
    assert!(staff.iter().any(|s| s["userId"] == demo::CASE_MANAGER && s["role"] == "case_manager"));
    let r = env.call(demo::OTHER_PROVIDER_ADMIN, "GET", &format!("/providers/{}", demo::SCHOOL_PROVIDER), None).await;
    assert_eq!(r.status, 200);
    assert!(r.body.get("staff").is_none(), "another provider's staff are not listed");
    let r = env.call(demo::CIT, "GET", "/providers/NOPE", None).await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn a_case_view_names_its_school_provider_and_people() {
    let env = TestEnv::new("dir-names").await;
    let id = case_for(&env, "Names Testchild", "2014-02-02").await;
    env.drain().await;
    let r = env.call(demo::LEAD, "GET", &format!("/cases/{id}"), None).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let contact = cms_local::seed::demo_user(demo::PRIMARY_CONTACT).unwrap().display_name;
    assert_eq!(r.body["names"]["primaryContact"], contact.as_str());
    assert!(r.body["names"]["school"].as_str().is_some_and(|s| !s.is_empty()));
    assert!(r.body["names"]["provider"].as_str().is_some_and(|s| !s.is_empty()), "allocated: {:?}", r.body);
}

#[tokio::test]
async fn search_finds_a_student_by_nsn_or_name_within_the_callers_scope_only() {
    let env = TestEnv::new("dir-search").await;
    let a = case_for(&env, "Whetū Searchable", "2013-03-03").await;
    let b = case_for(&env, "Aperahama Other", "2013-04-04").await;
    env.drain().await;
    let nsn = nsn_for("Whetū Searchable", "2013-03-03");

    // by NSN (padded or not), for the school and the provider
    for user in [demo::LEAD, demo::CASE_MANAGER, demo::CIT] {
        let r = env.call(user, "GET", &format!("/cases?q={nsn}"), None).await;
        assert_eq!(r.status, 200, "{user}: {:?}", r.body);
        assert_eq!(ids(&r.body), vec![a.clone()], "{user}");
    }
    let r = env.call(demo::LEAD, "GET", &format!("/cases?q=0{nsn}"), None).await;
    assert_eq!(ids(&r.body), vec![a.clone()], "a zero-padded NSN is the same student");
    // by the start of a name, ignoring case and macrons
    let r = env.call(demo::LEAD, "GET", "/cases?q=whetu", None).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(ids(&r.body), vec![a.clone()]);
    let r = env.call(demo::CASE_MANAGER, "GET", "/cases?q=Aperahama", None).await;
    assert_eq!(ids(&r.body), vec![b.clone()]);
    // nationally: a name needs the date of birth, and then matches exactly
    let r = env.call(demo::CIT, "GET", "/cases?q=Whetu", None).await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    assert!(r.body.to_string().contains("dateOfBirth"), "{:?}", r.body);
    let r = env.call(demo::CIT, "GET", "/cases?q=whetu%20searchable&dateOfBirth=2013-03-03", None).await;
    assert_eq!(ids(&r.body), vec![a.clone()], "{:?}", r.body);
    // outside the caller's scope: nothing, and no hint
    for user in [demo::OTHER_LEAD, demo::OTHER_CASE_MANAGER, demo::OTHER_CONTACT] {
        let r = env.call(user, "GET", &format!("/cases?q={nsn}"), None).await;
        assert_eq!(r.status, 200);
        assert!(ids(&r.body).is_empty(), "{user} found another school's student");
        let r = env.call(user, "GET", "/cases?q=whetu", None).await;
        assert!(ids(&r.body).is_empty(), "{user} found another school's student by name");
    }
    // what is not an NSN or a name is refused with a message
    let r = env.call(demo::LEAD, "GET", "/cases?q=12ab", None).await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    // the search is audited like a list: one case.listed entry per search, naming the cases shown
    let mut listed = 0;
    for chain in env.store.read_chains().await.unwrap() {
        listed += env
            .store
            .read_chain(&chain)
            .await
            .unwrap()
            .iter()
            .filter(|e| e.record.action == "case.listed" && e.record.case_ids.iter().any(|c| c.as_str() == a))
            .count();
    }
    assert!(listed >= 5, "each search that found it was audited ({listed})");
}
