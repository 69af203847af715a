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
    let synced =
        cms_local::import::import_dir(&env.store, &cms_local::import::demo_dir(), Default::default()).await.unwrap().expect("no problems");
    assert_eq!((synced.records, synced.users_on_record, synced.revoked.len()), (cms_local::seed::minimal().len(), 0, 0));
    // again: the same records, nothing more (every user now on record, none removed)
    let users = cms_local::seed::minimal().iter().filter(|i| matches!(i, cms_aws::ReferenceItem::User(_))).count();
    let items = env.items().await.len();
    let again = cms_local::import::import_dir(&env.store, &cms_local::import::demo_dir(), Default::default()).await.unwrap().unwrap();
    assert_eq!((again.records, again.users_on_record, again.revoked.len()), (synced.records, users, 0), "{again:?}");
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
    let problems = cms_local::import::import_dir(&env.store, &dir, Default::default()).await.unwrap().expect_err("a problem");
    let text: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
    let line = std::fs::read_to_string(dir.join("users.csv")).unwrap().lines().count();
    assert_eq!(text, vec![format!("users.csv:{line} org_id: \"P77\" is not a provider in the files")]);
    assert!(env.items().await.is_empty(), "nothing written");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The demo files, as a folder's texts, with `edit` applied to users.csv.
fn demo_files(edit: impl Fn(String) -> String) -> std::collections::BTreeMap<String, String> {
    let mut files = cms_local::import::read_dir(&cms_local::import::demo_dir()).unwrap();
    let users = files.remove("users.csv").unwrap();
    files.insert("users.csv".into(), edit(users));
    files
}

async fn put_files(bucket: &cms_aws::import::S3ReferenceFiles, files: &std::collections::BTreeMap<String, String>) {
    for (file, text) in files {
        bucket.put_file(file, text).await.unwrap();
    }
}

/// Issue 17: "(and a Lambda for scheduled syncs) … user roles synchronised from the Delegated
/// Authoriser's assignments": the sync-reference function, on the files of its bucket.
#[tokio::test]
async fn the_scheduled_sync_loads_the_bucket_and_removes_users_whose_role_ended() {
    let env = TestEnv::unseeded("syncref").await;
    let bucket =
        cms_aws::import::S3ReferenceFiles::new(&env.sdk, env.res.reference_bucket.clone().expect("template.yaml's ReferenceBucket"));
    let now = chrono::Utc::now();

    // nothing in the bucket yet: every file is reported missing, nothing is written
    let err = sync_reference::handle(&env.store, &bucket, now).await.expect_err("no files");
    assert!(err.to_string().contains("5 problem(s)"), "{err}");
    let latest = bucket.text("reports/latest.txt").await.unwrap().expect("a report");
    assert!(latest.contains("users.csv: the file is missing") && latest.ends_with("nothing was written\n"), "{latest}");
    assert!(env.items().await.is_empty());

    // the demo files: loaded; the report says what was written
    put_files(&bucket, &demo_files(|u| u)).await;
    let synced = sync_reference::handle(&env.store, &bucket, now).await.expect("synced");
    assert_eq!((synced.records, synced.revoked.len()), (cms_local::seed::minimal().len(), 0));
    let latest = bucket.text("reports/latest.txt").await.unwrap().unwrap();
    assert!(latest.starts_with(&format!("{} records were written; 0 of the 0 users", synced.records)), "{latest}");
    let stamped = format!("reports/{}.txt", now.format("%Y-%m-%dT%H-%M-%SZ"));
    assert_eq!(bucket.text(&stamped).await.unwrap().as_deref(), Some(latest.as_str()), "each run's report is kept");

    // the Delegated Authoriser ended the Case Manager's assignment: the next sync removes them
    // (record and email preference), and the school's lead, still assigned, keeps theirs
    let cm = demo::CASE_MANAGER;
    let r = env.call(cm, "PUT", "/me/email-preference", Some(json!({"emailPreference": "daily_digest"}))).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    put_files(&bucket, &demo_files(|u| u.lines().filter(|l| !l.starts_with(&format!("{cm},"))).map(|l| format!("{l}\n")).collect())).await;
    let synced = sync_reference::handle(&env.store, &bucket, now).await.expect("synced");
    assert_eq!(synced.revoked.iter().map(|u| u.to_string()).collect::<Vec<_>>(), vec![cm.to_string()]);
    let keys: Vec<(String, String)> = env
        .items()
        .await
        .iter()
        .map(|i| (i["PK"].as_s().unwrap().clone(), i["SK"].as_s().unwrap().clone()))
        .filter(|(pk, _)| pk.starts_with("USER#"))
        .collect();
    assert!(!keys.iter().any(|(pk, _)| pk == &format!("USER#{cm}")), "the record and the preference are gone: {keys:?}");
    assert!(keys.contains(&(format!("USER#{}", demo::LEAD), "USER".into())), "{keys:?}");
    let left = cms_domain::ports::ReferenceData::user(&env.store, &cms_domain::ids::UserId::parse(cm.to_string()).unwrap()).await.unwrap();
    assert!(left.is_none(), "no longer a user: no emails, not on the provider's staff list");
    let latest = bucket.text("reports/latest.txt").await.unwrap().unwrap();
    assert!(
        latest.contains(&format!("1 of the {} users on record were removed (no longer in users.csv): {cm}", synced.users_on_record)),
        "{latest}"
    );
}

/// A users.csv cut short (an export that failed half-way) must not remove most of the sector's
/// access overnight: more than a fifth of the users, and more than ten, missing is refused.
#[tokio::test]
async fn a_users_file_missing_most_users_is_refused_and_nothing_is_written() {
    let env = TestEnv::unseeded("syncmass").await;
    let bucket = cms_aws::import::S3ReferenceFiles::new(&env.sdk, env.res.reference_bucket.clone().unwrap());
    put_files(&bucket, &demo_files(|u| u)).await;
    sync_reference::handle(&env.store, &bucket, chrono::Utc::now()).await.expect("synced");
    let before = env.items().await.len();
    // only the header and the first three assignments left
    put_files(&bucket, &demo_files(|u| u.lines().take(4).map(|l| format!("{l}\n")).collect())).await;
    let err = sync_reference::handle(&env.store, &bucket, chrono::Utc::now()).await.expect_err("refused");
    assert!(err.to_string().contains("1 problem(s)"), "{err}");
    let latest = bucket.text("reports/latest.txt").await.unwrap().unwrap();
    assert!(latest.contains("users.csv: 18 of the 21 users on record are not in the file"), "{latest}");
    assert_eq!(env.items().await.len(), before, "nothing written, nobody removed");
    // the operator who knows it is right says so (the command's --allow-mass-revocation)
    let files = demo_files(|u| u.lines().take(4).map(|l| format!("{l}\n")).collect());
    let options = cms_aws::import::SyncOptions { allow_mass_revocation: true, ..Default::default() };
    let dry = cms_aws::import::sync(&env.store, &files, cms_aws::import::SyncOptions { dry_run: true, ..options }).await.unwrap().unwrap();
    assert_eq!(dry.revoked.len(), 18);
    assert_eq!(env.items().await.len(), before, "a dry run writes nothing");
    let done = cms_aws::import::sync(&env.store, &files, options).await.unwrap().unwrap();
    assert_eq!(done.revoked.len(), 18);
    assert!(env.items().await.len() < before);
}
