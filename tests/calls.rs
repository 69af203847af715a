//! Issue 14: the AWS calls each operation makes, counted by a proxy in front of the emulator
//! (tests/support/counting.rs), against the budgets. Each operation is measured on a warm
//! function (its second call: what a busy Lambda instance does; the first call of a cold start may
//! also fetch the reference data and the student-key secret it then keeps).

use cms_domain::ids::CaseId;
use cms_domain::ports::CaseStore;
use cms_tests::{complete_form, demo, TestEnv};
use serde_json::json;

fn show(what: &str, calls: &[String]) -> String {
    format!("{what}: {} calls {calls:?}", calls.len())
}

// the loops run each operation twice on the same case and measure the second (a warm instance):
// the index is the point, not the element
#[allow(clippy::needless_range_loop)]
#[tokio::test]
async fn each_operation_stays_within_its_aws_call_budget() {
    let mut env = TestEnv::new("calls").await;
    let counter = env
        .count_calls(&["SubmitReferralFunction", "AllocateFunction", "CaseQueryFunction", "UpdateStatusFunction", "CaseActivityFunction"])
        .await;
    let mut report = Vec::new();
    let mut over = Vec::new();
    let mut check = |what: &str, calls: Vec<String>, budget: usize| {
        report.push(show(what, &calls));
        // every operation reads or writes something: none counted means the proxy was bypassed
        assert!(!calls.is_empty(), "{what}: no AWS call went through the counting proxy");
        if calls.len() > budget {
            over.push(format!("{} (budget {budget})", show(what, &calls)));
        }
    };

    // submit: the first of this cold start warms the function; the second is measured
    let mut ids = Vec::new();
    for (i, pc) in [demo::PRIMARY_CONTACT, demo::PRIMARY_CONTACT].iter().enumerate() {
        let mut form = complete_form(pc);
        form["submit"] = json!(true);
        form["student"]["nsn"] = json!(format!("31415926{i}"));
        form["student"]["fullName"] = json!(format!("Calls Student{}", ["a", "b"][i]));
        let r = env.call(demo::LEAD, "POST", "/referrals", Some(form)).await;
        assert_eq!(r.status, 201, "{:?}", r.body);
        ids.push(r.body["caseId"].as_str().unwrap().to_string());
        let calls = counter.take();
        if i == 1 {
            check("POST /referrals (submit)", calls, 4);
        }
        // allocate: the event of each submission (the first warms it)
        env.drain().await;
        let calls: Vec<String> = counter.take();
        if i == 1 {
            check("allocate (CaseSubmitted)", calls, 3);
        }
    }

    // reads
    for i in 0..2 {
        env.call(demo::CASE_MANAGER, "GET", &format!("/cases/{}", ids[i]), None).await;
        let calls = counter.take();
        if i == 0 {
            // the first read of this instance: the names (school, provider, Case Manager, Primary
            // Contact) are not kept yet and come in one BatchGetItem, not four GetItems
            check("GET /cases/{id} (names not yet kept)", calls, 3);
        } else {
            check("GET /cases/{id}", calls, 2);
        }
    }
    for i in 0..2 {
        let r = env.call(demo::CASE_MANAGER, "GET", "/cases?limit=25", None).await;
        assert!(r.body["items"].as_array().unwrap().len() >= 2, "{:?}", r.body);
        let calls = counter.take();
        if i == 1 {
            check("GET /cases (a page)", calls, 3);
        }
    }

    // changes
    for i in 0..2 {
        let version = env.store.case(&CaseId::parse(ids[i].clone()).unwrap()).await.unwrap().unwrap().version;
        let r = env
            .call(demo::CASE_MANAGER, "POST", &format!("/cases/{}/status", ids[i]), Some(json!({"action": "assign", "version": version})))
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        let calls = counter.take();
        if i == 1 {
            check("POST /cases/{id}/status (assign)", calls, 3);
        }
    }
    for i in 0..2 {
        let r = env.call(demo::LEAD, "POST", &format!("/cases/{}/comments", ids[i]), Some(json!({"text": "Hui on Monday."}))).await;
        assert_eq!(r.status, 201, "{:?}", r.body);
        let calls = counter.take();
        if i == 1 {
            check("POST /cases/{id}/comments", calls, 3);
        }
    }
    // issue 15: a consultation and an escalation are one read and one transaction (no event:
    // nothing downstream consumes them); the Prosecutions team's queue is one Query of the
    // sparse ByTeam index whatever the number of cases
    let today = cms_domain::nz_date(chrono::Utc::now()).to_string();
    for i in 0..2 {
        let body = json!({"about": "prosecution_referral", "heldOn": today});
        let r = env.call(demo::CASE_MANAGER, "POST", &format!("/cases/{}/consultations", ids[i]), Some(body)).await;
        assert_eq!(r.status, 201, "{:?}", r.body);
        let calls = counter.take();
        if i == 1 {
            check("POST /cases/{id}/consultations", calls, 2);
        }
    }
    for i in 0..2 {
        let body = json!({"kind": "prosecution_referral", "on": today});
        let r = env.call(demo::LEAD, "POST", &format!("/cases/{}/escalations", ids[i]), Some(body)).await;
        assert_eq!(r.status, 201, "{:?}", r.body);
        let calls = counter.take();
        if i == 1 {
            check("POST /cases/{id}/escalations", calls, 2);
        }
    }
    for i in 0..2 {
        let r = env.call(demo::PROSECUTIONS, "GET", "/cases?limit=25", None).await;
        assert_eq!(r.body["items"].as_array().map(Vec::len), Some(2), "{:?}", r.body);
        let calls = counter.take();
        if i == 1 {
            check("GET /cases (the Prosecutions team's queue)", calls, 2);
        }
    }
    // a fund spend reads the case, the provider's counter (the provider record is kept per cold
    // start) and writes both in one transaction; a reassignment is one read and one change per
    // case, plus the Query of the provider's cases
    for i in 0..2 {
        let body = json!({"category": "transport", "amountCents": 1500, "on": today});
        let r = env.call(demo::CASE_MANAGER, "POST", &format!("/cases/{}/fund-spends", ids[i]), Some(body)).await;
        assert_eq!(r.status, 201, "{:?}", r.body);
        let calls = counter.take();
        if i == 1 {
            check("POST /cases/{id}/fund-spends", calls, 3);
        }
    }
    for (i, (from, to)) in [(demo::CASE_MANAGER, demo::CASE_MANAGER_2), (demo::CASE_MANAGER_2, demo::CASE_MANAGER)].into_iter().enumerate()
    {
        let body = json!({"fromUserId": from, "toUserId": to, "reason": "On leave", "caseIds": [ids[0]]});
        let r = env.call(demo::PROVIDER_ADMIN, "POST", "/providers/P01/reassignments", Some(body)).await;
        assert_eq!(r.body["moved"].as_array().map(Vec::len), Some(1), "{:?}", r.body);
        let calls = counter.take();
        if i == 1 {
            check("POST /providers/{id}/reassignments (one case named)", calls, 3);
        }
    }
    // issue 16: a dashboard read is its scope's counters (one GetItem), whatever the number of
    // cases, and the reference data that says whose they are (kept per cold start); the
    // provider's adds its fund counter
    for (user, path) in [
        (demo::LEAD, "/dashboards/schools/1001"),
        (demo::REGIONAL, "/dashboards/schools/1001"),
        (demo::CASE_MANAGER, "/dashboards/providers/P01"),
        (demo::REGIONAL, "/dashboards/providers/P01"),
        (demo::REGIONAL, "/dashboards/regions/tai-tokerau"),
        (demo::NATIONAL, "/dashboards/national"),
    ] {
        for i in 0..2 {
            let r = env.call(user, "GET", path, None).await;
            assert_eq!(r.status, 200, "{path}: {:?}", r.body);
            let calls = counter.take();
            if i == 1 {
                check(&format!("GET {path} as {user}"), calls, 3);
            }
        }
    }
    println!("{}", report.join("\n"));
    assert!(over.is_empty(), "over budget:\n{}\n\nall:\n{}", over.join("\n"), report.join("\n"));
}
