//! Issue 17: "The import command loads the demo CSVs into a fresh emulator and the walkthrough
//! works on that data alone (no demo seed); a bad CSV row is reported and nothing is written."

use cms_tests::{complete_form, demo, TestEnv};
use serde_json::json;

#[tokio::test]
async fn the_demo_files_alone_carry_a_request_from_the_school_to_its_case_manager() {
    let env = TestEnv::unseeded("import").await;
    assert!(env.items().await.is_empty(), "a fresh table");
    // nothing set up: the school is told so
    let r = env.submit_new(demo::LEAD, complete_form(demo::PRIMARY_CONTACT)).await;
    assert!(r.status >= 400, "{:?}", r.body);
    let n = cms_local::import::import_dir(&env.store, &cms_local::import::demo_dir()).await.unwrap().expect("no problems");
    assert_eq!(n, cms_local::seed::minimal().len());
    // again: the same records, nothing more
    let items = env.items().await.len();
    cms_local::import::import_dir(&env.store, &cms_local::import::demo_dir()).await.unwrap().unwrap();
    assert_eq!(env.items().await.len(), items, "importing again changes nothing");

    // the walkthrough on that data: request → allocation to the catchment's provider → a Case Manager
    let r = env.submit_new(demo::LEAD, complete_form(demo::PRIMARY_CONTACT)).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let case_id = r.body["caseId"].as_str().unwrap().to_string();
    env.drain().await;
    let case = env.call(demo::CASE_MANAGER, "GET", &format!("/cases/{case_id}"), None).await;
    assert_eq!(case.status, 200, "{:?}", case.body);
    assert_eq!((case.body["status"].as_str(), case.body["providerId"].as_str()), (Some("provider_queue"), Some(demo::SCHOOL_PROVIDER)));
    let v = env.version(demo::CASE_MANAGER, &case_id).await;
    let a = env.status(demo::CASE_MANAGER, &case_id, json!({"action": "assign", "version": v})).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    let fund = env.call(demo::CASE_MANAGER, "GET", &format!("/providers/{}/fund", demo::SCHOOL_PROVIDER), None).await;
    assert_eq!(fund.body["capCents"], 1_050_000, "the contract value came from providers.csv: {:?}", fund.body);
}

#[tokio::test]
async fn a_bad_row_is_reported_with_its_place_and_nothing_is_written() {
    let env = TestEnv::unseeded("importbad").await;
    let dir = std::env::temp_dir().join(format!("cms-import-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (file, mut text) in cms_local::import::read_dir(&cms_local::import::demo_dir()).unwrap() {
        if file == "users.csv" {
            text.push_str("cm-new,case_manager,P77,cm-new@p77.example.nz,New Case Manager\n");
        }
        std::fs::write(dir.join(file), text).unwrap();
    }
    let problems = cms_local::import::import_dir(&env.store, &dir).await.unwrap().expect_err("a problem");
    let text: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
    let line = std::fs::read_to_string(dir.join("users.csv")).unwrap().lines().count();
    assert_eq!(text, vec![format!("users.csv:{line} org_id: \"P77\" is not a provider in the files")]);
    assert!(env.items().await.is_empty(), "nothing written");
    let _ = std::fs::remove_dir_all(&dir);
}
