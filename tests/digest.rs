//! Issue 15, item 8: "a School Primary Contact (or Case Manager) may choose a daily digest instead
//! of one email per event; still no child details in any email" — on the emulator: the choice
//! through the API, the notices kept by the real notify function, the nightly job's summary sent
//! through SES (the emulator's record of sends) and the digest partition cleared.

use cms_domain::digest::{held, sent_key, DigestEntry};
use cms_domain::ports::{CaseStore, DigestStore, FixedClock, MailError, Mailer};
use cms_domain::schedule::nz_time;
use cms_tests::{demo, emails_for, Reply, TestEnv, STUDENT_NAME};
use serde_json::{json, Value};

const PORTAL: &str = "http://portal.test";

fn email_of(user: &str) -> String {
    cms_local::seed::demo_user(user).expect("demo user").email
}

async fn prefer(env: &TestEnv, user: &str, choice: &str) -> Reply {
    env.call(user, "PUT", "/me/email-preference", Some(json!({ "emailPreference": choice }))).await
}

/// What waits in the digest partition, read through the adapter (all pages).
async fn waiting(env: &TestEnv) -> Vec<DigestEntry> {
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let page = env.store.digest_entries(2, cursor.take()).await.expect("digest entries");
        out.extend(page.items);
        match page.next {
            Some(n) => cursor = Some(n),
            None => break out,
        }
    }
}

fn today() -> chrono::NaiveDate {
    cms_domain::nz_date(chrono::Utc::now())
}

async fn night<M: Mailer>(env: &TestEnv, mailer: &M) -> reopen_scheduler::Digests {
    let clock = FixedClock(nz_time(today(), 1));
    reopen_scheduler::send_digests(&env.store, mailer, &clock, PORTAL).await.expect("the digest run reads its entries")
}

fn ses(env: &TestEnv) -> cms_aws::SesMailer {
    cms_aws::SesMailer::new(env.clients.sesv2.clone(), cms_local::resources::LOCAL_SENDER_EMAIL)
}

async fn assign(env: &TestEnv, case_id: &str) {
    let version = env.version(demo::CASE_MANAGER, case_id).await;
    let r =
        env.status(demo::CASE_MANAGER, case_id, json!({"action": "assign", "caseManagerId": demo::CASE_MANAGER, "version": version})).await;
    assert!(r.status / 100 == 2, "{:?}", r.body);
    env.drain().await;
}

async fn comment(env: &TestEnv, user: &str, case_id: &str, text: &str) {
    let r = env.call(user, "POST", &format!("/cases/{case_id}/comments"), Some(json!({"text": text, "shared": true}))).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    env.drain().await;
}

/// The emails of this case sent to `user`.
async fn mails_to(user: &str, case_id: &str) -> Vec<(String, String)> {
    let to = vec![email_of(user)];
    emails_for(case_id).await.into_iter().filter(|(t, _, _)| *t == to).map(|(_, s, b)| (s, b)).collect()
}

#[tokio::test]
async fn a_primary_contact_who_chose_the_digest_gets_one_summary_a_night_and_no_child_details() {
    let env = TestEnv::new("digest").await;
    let me = env.call(demo::PRIMARY_CONTACT, "GET", "/me", None).await;
    assert_eq!((me.body["emailPreference"].clone(), me.body["can"]["chooseEmailDigest"].clone()), (json!("each_update"), json!(true)));
    let r = prefer(&env, demo::PRIMARY_CONTACT, "daily_digest").await;
    assert_eq!((r.status, r.body.clone()), (200, json!({"emailPreference": "daily_digest"})));
    assert_eq!(env.call(demo::PRIMARY_CONTACT, "GET", "/me", None).await.body["emailPreference"], "daily_digest");

    // three updates for the School Primary Contact: allocation, a status change, a shared comment
    let case_id = env.allocated_case().await;
    assign(&env, &case_id).await;
    comment(&env, demo::CASE_MANAGER, &case_id, "Met the whanau SECRET-COMMENT-TEXT").await;
    // and one for the Case Manager, who did not choose the digest
    comment(&env, demo::LEAD, &case_id, "Please call us").await;
    assert_eq!(mails_to(demo::PRIMARY_CONTACT, &case_id).await, vec![], "no email per update for the digest's chooser");
    let cm = mails_to(demo::CASE_MANAGER, &case_id).await;
    assert_eq!(cm.iter().map(|(s, _)| s.as_str()).collect::<Vec<_>>(), vec!["New comment from the school"], "{cm:?}");
    let kept = waiting(&env).await;
    assert_eq!(kept.len(), 3, "{kept:?}");
    assert!(kept.iter().all(|e| e.user_id.as_str() == demo::PRIMARY_CONTACT && e.case_id.as_str() == case_id));
    assert!(!serde_json::to_string(&kept).unwrap().contains("SECRET-COMMENT-TEXT"), "an entry keeps no words of the case");

    let run = night(&env, &ses(&env)).await;
    assert_eq!((run.users, run.sent, run.updates, run.errors), (1, 1, 3, 0), "{run:?}");
    let mails = mails_to(demo::PRIMARY_CONTACT, &case_id).await;
    assert_eq!(mails.len(), 1, "one summary: {mails:?}");
    let (subject, body) = &mails[0];
    assert_eq!(subject, "Attendance Services: your daily summary (3 updates)");
    assert!(body.contains(&format!("View the case: {PORTAL}/cases/{case_id}\n")), "{body}");
    for line in [
        "has been allocated to an attendance service provider",
        "has changed status: Provider Queue → Open.",
        "has a new comment from the provider.",
    ] {
        assert!(body.contains(line), "{line:?} missing from: {body}");
    }
    for secret in [STUDENT_NAME, "Tamati", "Testchild", "SECRET-COMMENT-TEXT"] {
        assert!(!body.contains(secret) && !subject.contains(secret), "the summary names {secret}");
    }
    assert_eq!(waiting(&env).await, vec![], "sent entries are cleared");
    assert_eq!(night(&env, &ses(&env)).await.sent, 0, "a second run tonight sends nothing");
    assert_eq!(mails_to(demo::PRIMARY_CONTACT, &case_id).await.len(), 1);

    // back to one email per update: the next one is emailed at once
    assert_eq!(prefer(&env, demo::PRIMARY_CONTACT, "each_update").await.status, 200);
    comment(&env, demo::CASE_MANAGER, &case_id, "Second visit").await;
    let mails = mails_to(demo::PRIMARY_CONTACT, &case_id).await;
    assert!(mails.iter().any(|(s, _)| s == "New comment from the provider"), "{mails:?}");
    assert_eq!(waiting(&env).await, vec![]);
}

/// SES refusing every send (the port's failure, as SES throttling or an unverified sender would
/// answer): the store and the emails stay real.
struct RefusingMailer;

#[async_trait::async_trait]
impl Mailer for RefusingMailer {
    async fn send(&self, _: &cms_domain::notification::Email) -> Result<(), MailError> {
        Err(MailError("SES is throttling".into()))
    }
}

#[tokio::test]
async fn a_redelivered_event_is_kept_once_and_a_failed_or_interrupted_night_loses_nothing() {
    let env = TestEnv::new("digestfail").await;
    assert_eq!(prefer(&env, demo::PRIMARY_CONTACT, "daily_digest").await.status, 200);
    let case_id = env.allocated_case().await;
    let events = env.bus_events().await;
    let (_, detail) = events.iter().find(|(t, _)| t == "CaseAllocated").expect("CaseAllocated on the bus").clone();
    assert_eq!(waiting(&env).await.len(), 1);
    // EventBridge delivers the event again: nothing more is kept
    let notify = env.registry.event("NotifyPrimaryContactFunction").expect("registered").clone();
    let event: aws_lambda_events::eventbridge::EventBridgeEvent<Value> = serde_json::from_value(json!({
        "version": "0", "id": "redelivery", "detail-type": "CaseAllocated", "source": "attendance.cases",
        "account": "123456789012", "time": "2026-03-10T01:00:00Z", "region": "ap-southeast-2", "resources": [],
        "detail": detail,
    }))
    .unwrap();
    notify(event).await.expect("redelivery handled");
    assert_eq!(waiting(&env).await.len(), 1, "a redelivered event is kept once");

    // SES fails: the summary is not sent, its entries wait, and the run says it left work
    let failed = night(&env, &RefusingMailer).await;
    assert_eq!((failed.sent, failed.errors), (0, 1), "{failed:?}");
    assert!(reopen_scheduler::digests_or_retry(Ok(failed)).is_err(), "the scheduler retries the run");
    assert_eq!(waiting(&env).await.len(), 1, "nothing lost");
    assert_eq!(env.store.marker(&sent_key(&cms_domain::ids::UserId::parse(demo::PRIMARY_CONTACT).unwrap(), today())).await.unwrap(), None);

    // a night that sent the summary and stopped before clearing it (its marker holds the entries)
    // while one more update came in: the retry clears what was sent, sends nothing again, and
    // the newer update waits for the next summary
    let sent = waiting(&env).await;
    let user = sent[0].user_id.clone();
    let marker = cms_domain::case::Marker {
        key: sent_key(&user, today()),
        fingerprint: "daily-digest".into(),
        answer: Some(held(&sent)),
        expires_at: None,
    };
    assert!(env.store.claim_marker(&marker).await.unwrap());
    assign(&env, &case_id).await;
    assert_eq!(waiting(&env).await.len(), 2);
    let before = mails_to(demo::PRIMARY_CONTACT, &case_id).await.len();
    let retry = night(&env, &ses(&env)).await;
    assert_eq!((retry.sent, retry.resumed, retry.errors), (0, 1, 0), "{retry:?}");
    assert_eq!(mails_to(demo::PRIMARY_CONTACT, &case_id).await.len(), before, "not sent twice");
    let left = waiting(&env).await;
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(left[0].what.contains("changed status"), "the newer update waits: {left:?}");
}

#[tokio::test]
async fn only_those_case_emails_go_to_may_choose_and_a_bad_choice_is_explained() {
    let env = TestEnv::new("digestbad").await;
    let before = env.items().await;
    let r = prefer(&env, demo::NATIONAL, "daily_digest").await;
    assert_eq!(r.status, 403, "{:?}", r.body);
    assert!(r.body["detail"].as_str().unwrap().contains("your role gets none"), "{:?}", r.body);
    let r = prefer(&env, demo::CASE_MANAGER, "weekly").await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    assert_eq!(r.body["errors"][0]["field"], "emailPreference");
    assert!(r.body["errors"][0]["message"].as_str().unwrap().contains("each_update, daily_digest"), "{:?}", r.body);
    assert_eq!(env.items().await, before, "a refused choice wrote nothing");
    // a Case Manager chooses for themselves only
    assert_eq!(prefer(&env, demo::CASE_MANAGER, "daily_digest").await.status, 200);
    assert_eq!(env.call(demo::CASE_MANAGER, "GET", "/me", None).await.body["emailPreference"], "daily_digest");
    assert_eq!(env.call(demo::OTHER_CASE_MANAGER, "GET", "/me", None).await.body["emailPreference"], "each_update");
}
