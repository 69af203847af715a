//! The nightly job (`reopen-scheduler`) against the emulator: paused children reopened on their
//! sixth birthday (29 February included) and not the day before, SLA breaches reported once across
//! runs (and across two concurrent runs), only the due index read, and the outbox swept.
//! "Today" comes from a FixedClock at 01:00 New Zealand time, as the schedule fires.

use chrono::NaiveDate;
use cms_aws::{DynamoStore, EventBridgeBus};
use cms_domain::case::{Case, CaseStatus, TimelineKind};
use cms_domain::ports::{CaseStore, FixedClock, StoreError};
use cms_domain::schedule::nz_time;
use cms_domain::sla::SlaKind;
use cms_local::fixtures::{self, CaseSpec, Ends};
use cms_tests::{TestEnv, STUDENT_NAME};
use reopen_scheduler::{Deps, Summary};

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn deps(env: &TestEnv, today: NaiveDate) -> Deps<DynamoStore, EventBridgeBus, FixedClock> {
    let aws = reopen_scheduler::aws_deps(&env.sdk, &env.res.env());
    Deps { store: aws.store, bus: aws.bus, clock: FixedClock(nz_time(today, 1)) }
}

async fn run_on(env: &TestEnv, today: NaiveDate) -> Summary {
    reopen_scheduler::handle(&deps(env, today), serde_json::json!({"job": "reopen-scheduler"})).await.expect("the run completes")
}

/// A paused case of a child born on `dob`, paused `days_before` days before their sixth birthday,
/// both meetings recorded (so only the birthday is due).
fn paused(dob: NaiveDate, paused_on: NaiveDate) -> CaseSpec {
    CaseSpec { date_of_birth: dob, at: nz_time(paused_on, 10), ends: Ends::Paused, school_met: true, whanau_met: true }
}

async fn status(env: &TestEnv, c: &Case) -> CaseStatus {
    env.store.case(&c.id).await.unwrap().unwrap().status
}

fn of_type<'a>(events: &'a [(String, serde_json::Value)], t: &str) -> Vec<&'a serde_json::Value> {
    events.iter().filter(|(dt, _)| dt == t).map(|(_, d)| d).collect()
}

#[tokio::test]
async fn a_paused_child_is_reopened_on_their_sixth_birthday_and_not_the_day_before() {
    let env = TestEnv::new("sched-six").await;
    let today = date(2026, 8, 14);
    let six_today = fixtures::commit(&env.store, &paused(date(2020, 8, 14), date(2026, 2, 2)), true).await.unwrap();
    let six_tomorrow = fixtures::commit(&env.store, &paused(date(2020, 8, 15), date(2026, 2, 2)), true).await.unwrap();
    assert_eq!(status(&env, &six_today).await, CaseStatus::Paused);
    env.bus_events().await;

    let s = run_on(&env, today).await;
    assert_eq!((s.read, s.due, s.reopened, s.breaches, s.errors), (1, 1, 1, 0, 0), "{s:?}");
    assert_eq!(status(&env, &six_today).await, CaseStatus::Open);
    assert_eq!(status(&env, &six_tomorrow).await, CaseStatus::Paused, "not the day before the birthday");
    let events = env.bus_events().await;
    let reopened = of_type(&events, "CaseReopened");
    assert_eq!(reopened.len(), 1, "{events:?}");
    assert_eq!(reopened[0]["caseId"], six_today.id.as_str());
    assert_eq!(reopened[0]["trigger"], "turned_six");
    assert_eq!(reopened[0]["from"], "paused");
    let changed = of_type(&events, "CaseStatusChanged");
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0]["to"], "open");
    assert!(!serde_json::to_string(&events).unwrap().contains(STUDENT_NAME), "events carry no names");
    let timeline = env.store.timeline(&six_today.id).await.unwrap();
    let last = timeline.last().unwrap();
    assert_eq!(
        last.kind,
        TimelineKind::StatusChanged { from: CaseStatus::Paused, to: CaseStatus::Open, reason: Some("child_turned_six".into()) }
    );
    assert_eq!(last.by, cms_domain::case::By::system("reopen-scheduler"));

    // the next night it is the other child's birthday; the first is not touched again
    let s = run_on(&env, date(2026, 8, 15)).await;
    assert_eq!((s.read, s.reopened), (1, 1), "{s:?}");
    assert_eq!(status(&env, &six_tomorrow).await, CaseStatus::Open);
    let reopened: Vec<_> = env.bus_events().await.into_iter().filter(|(t, _)| t == "CaseReopened").collect();
    assert_eq!(reopened.len(), 1);
    assert_eq!(reopened[0].1["caseId"], six_tomorrow.id.as_str());
}

#[tokio::test]
async fn a_29_february_child_is_reopened_on_1_march_in_a_common_year() {
    let env = TestEnv::new("sched-leap").await;
    let c = fixtures::commit(&env.store, &paused(date(2020, 2, 29), date(2025, 10, 1)), true).await.unwrap();
    let s = run_on(&env, date(2026, 2, 28)).await;
    assert_eq!((s.read, s.reopened), (0, 0), "{s:?}");
    assert_eq!(status(&env, &c).await, CaseStatus::Paused);
    let s = run_on(&env, date(2026, 3, 1)).await;
    assert_eq!((s.read, s.reopened), (1, 1), "{s:?}");
    assert_eq!(status(&env, &c).await, CaseStatus::Open);
    assert_eq!(of_type(&env.bus_events().await, "CaseReopened").len(), 1);
}

/// Open, referred on Thursday 5 March 2026 (NZ): school meeting due Thu 12 March, whānau Thu 19 March.
fn unmet_open_case() -> CaseSpec {
    CaseSpec { date_of_birth: date(2014, 5, 1), at: nz_time(date(2026, 3, 5), 10), ends: Ends::Open, school_met: false, whanau_met: false }
}

#[tokio::test]
async fn an_sla_breach_is_emitted_once_across_two_runs() {
    let env = TestEnv::new("sched-sla").await;
    let c = fixtures::commit(&env.store, &unmet_open_case(), true).await.unwrap();
    env.bus_events().await;

    let due_day = run_on(&env, date(2026, 3, 12)).await;
    assert_eq!((due_day.read, due_day.breaches), (0, 0), "the due day itself is not a breach");
    let first = run_on(&env, date(2026, 3, 13)).await;
    let second = run_on(&env, date(2026, 3, 13)).await;
    assert_eq!((first.read, first.due, first.breaches), (1, 1, 1), "{first:?}");
    assert_eq!((second.read, second.due, second.breaches), (0, 0, 0), "{second:?}");
    let events = env.bus_events().await;
    let breached = of_type(&events, "SlaBreached");
    assert_eq!(breached.len(), 1, "{events:?}");
    assert_eq!(breached[0]["caseId"], c.id.as_str());
    assert_eq!(breached[0]["sla"], "school_meeting");
    assert_eq!(breached[0]["due"], "2026-03-12");
    assert_eq!(breached[0]["providerId"], "P01");
    let now = env.store.case(&c.id).await.unwrap().unwrap();
    assert_eq!(now.breached, vec![SlaKind::SchoolMeeting]);
    assert_eq!(now.version, c.version + 1);
    assert!(env.store.marker(&format!("SLA#{}#school_meeting#2026-03-12", c.id)).await.unwrap().is_some());
    let timeline = env.store.timeline(&c.id).await.unwrap();
    assert_eq!(timeline.iter().filter(|e| matches!(e.kind, TimelineKind::SlaBreached { .. })).count(), 1);

    // a week later the whānau clock, once too
    for _ in 0..2 {
        run_on(&env, date(2026, 3, 20)).await;
    }
    let breached: Vec<_> = env.bus_events().await.into_iter().filter(|(t, _)| t == "SlaBreached").collect();
    assert_eq!(breached.len(), 1);
    assert_eq!(breached[0].1["sla"], "whanau_meeting");
    // nothing is due any more: the case has left the index
    let later = run_on(&env, date(2026, 12, 1)).await;
    assert_eq!(later.read, 0);
}

/// A second run that read the case before the first one committed (a duplicate or overlapping
/// invocation) cannot report the breach again: its write is conditioned on the version it read,
/// and the breach's once-only marker refuses it even if the case's `breached` list were lost.
#[tokio::test]
async fn a_run_working_from_a_stale_read_cannot_report_the_breach_again() {
    let env = TestEnv::new("sched-race").await;
    let c = fixtures::commit(&env.store, &unmet_open_case(), true).await.unwrap();
    let today = date(2026, 3, 13);
    let now = nz_time(today, 1);
    let stale = env.store.case(&c.id).await.unwrap().unwrap();
    assert_eq!(run_on(&env, today).await.breaches, 1);

    let late = cms_domain::schedule::run_due(&stale, today, now).expect("the stale copy looks due");
    assert_eq!(env.store.commit(&late).await, Err(StoreError::Conflict));
    let mut forgetful = env.store.case(&c.id).await.unwrap().unwrap();
    forgetful.breached.clear();
    let again = cms_domain::schedule::run_due(&forgetful, today, now).expect("looks due without the list");
    assert_eq!(again.markers.len(), 1);
    assert_eq!(env.store.commit(&again).await, Err(StoreError::Conflict), "the marker already exists");
    assert_eq!(of_type(&env.bus_events().await, "SlaBreached").len(), 1);
}

#[tokio::test]
async fn the_due_index_is_read_not_scanned() {
    let env = TestEnv::new("sched-index").await;
    let today = date(2026, 8, 14);
    let day = |d: i64| today + chrono::Duration::days(d);
    let mut bulk = Vec::new();
    // 60 cases with nothing due today: closed, met, paused children turning six later, recent
    for i in 0..60i64 {
        let spec = match i % 4 {
            0 => CaseSpec {
                date_of_birth: date(2014, 5, 1),
                at: nz_time(day(-90), 10),
                ends: Ends::Closed,
                school_met: false,
                whanau_met: false,
            },
            1 => CaseSpec {
                date_of_birth: date(2014, 5, 1),
                at: nz_time(day(-60), 10),
                ends: Ends::Open,
                school_met: true,
                whanau_met: true,
            },
            2 => paused(day(1 + i) - chrono::Duration::days(6 * 365 + 2), day(-100)),
            _ => CaseSpec {
                date_of_birth: date(2014, 5, 1),
                at: nz_time(day(-1), 10),
                ends: Ends::ProviderQueue,
                school_met: false,
                whanau_met: false,
            },
        };
        bulk.push(fixtures::case(&spec).unwrap());
    }
    // 5 due: 3 SLA clocks overdue, 2 children turned six
    for _ in 0..3 {
        bulk.push(
            fixtures::case(&CaseSpec {
                date_of_birth: date(2014, 5, 1),
                at: nz_time(day(-30), 10),
                ends: Ends::Open,
                school_met: true,
                whanau_met: false,
            })
            .unwrap(),
        );
    }
    bulk.push(fixtures::case(&paused(date(2020, 8, 14), day(-200))).unwrap());
    bulk.push(fixtures::case(&paused(date(2020, 8, 10), day(-200))).unwrap());
    env.store.put_cases(&bulk).await.unwrap();

    let s = run_on(&env, today).await;
    assert_eq!((s.read, s.due, s.reopened, s.breaches, s.errors), (5, 5, 2, 3, 0), "{s:?}");
    // four shards, each one page
    assert_eq!(s.queries, 4);
    let again = run_on(&env, today).await;
    assert_eq!((again.read, again.due), (0, 0), "{again:?}");
}

#[tokio::test]
async fn events_left_in_an_outbox_are_published_by_the_sweep() {
    let env = TestEnv::new("sched-outbox").await;
    // every step committed, none published (as if each publish had failed)
    let c = fixtures::commit(&env.store, &CaseSpec { ends: Ends::ProviderQueue, ..unmet_open_case() }, false).await.unwrap();
    let pending = env.store.pending_events(&c.id).await.unwrap();
    assert_eq!(pending.len(), 3, "ReferralSubmitted, CaseCreated, CaseAllocated: {pending:?}");
    env.bus_events().await;

    let s = run_on(&env, date(2026, 3, 6)).await;
    assert_eq!((s.outbox_found, s.outbox_published), (3, 3), "{s:?}");
    assert!(env.store.pending_events(&c.id).await.unwrap().is_empty());
    let events = env.bus_events().await;
    for p in &pending {
        assert!(events.iter().any(|(_, d)| d["eventId"] == p.event_id.as_str()), "{} was not published", p.event_id);
    }
    let again = run_on(&env, date(2026, 3, 6)).await;
    assert_eq!(again.outbox_found, 0);
}

/// Issue 11 (10): a draft left untouched is deleted after 90 days; a week before, the nightly job
/// emails its author once (per save) with a link to the draft and no student details.
#[tokio::test]
async fn the_author_of_a_draft_about_to_expire_is_reminded_once() {
    use cms_domain::ports::ReferralStore;
    use cms_domain::referral::{Referral, ReferralForm, ReferralStatus, StudentForm};
    let env = TestEnv::new("sched-drafts").await;
    let today = date(2026, 9, 1);
    let draft = |days_ago: i64, student: &str| {
        let at = nz_time(today, 10) - chrono::Duration::days(days_ago);
        Referral {
            id: cms_domain::ids::ReferralId::new_ulid(),
            school_id: cms_domain::ids::SchoolId::parse(cms_tests::demo::SCHOOL).unwrap(),
            status: ReferralStatus::Draft,
            form: ReferralForm {
                student: Some(StudentForm { full_name: Some(student.into()), ..Default::default() }),
                ..Default::default()
            },
            created_by: cms_domain::ids::UserId::parse(cms_tests::demo::LEAD).unwrap(),
            created_at: at,
            updated_at: at,
            submitted_at: None,
            case_id: None,
            outcome: None,
            version: 1,
        }
    };
    let old = draft(84, "Reminder Testchild");
    let fresh = draft(10, "Fresh Testchild");
    env.store.create_referral(&old, &[]).await.unwrap();
    env.store.create_referral(&fresh, &[]).await.unwrap();
    let mailer = cms_aws::SesMailer::new(env.clients.sesv2.clone(), cms_local::resources::LOCAL_SENDER_EMAIL);
    let clock = FixedClock(nz_time(today, 1));
    let first = reopen_scheduler::remind_drafts(&env.store, &mailer, &clock, "http://portal.test").await.unwrap();
    assert_eq!((first.due, first.sent, first.errors), (1, 1, 0), "{first:?}");
    let second = reopen_scheduler::remind_drafts(&env.store, &mailer, &clock, "http://portal.test").await.unwrap();
    assert_eq!(second.sent, 0, "reminded once per save");

    let outbox: serde_json::Value =
        reqwest::get(format!("{}/_local/outbox", std::env::var("AWS_ENDPOINT_URL").unwrap())).await.unwrap().json().await.unwrap();
    let link = format!("http://portal.test/referrals/{}", old.id);
    let mails: Vec<&serde_json::Value> =
        outbox["messages"].as_array().unwrap().iter().filter(|m| m["body"].as_str().unwrap_or_default().contains(&link)).collect();
    assert_eq!(mails.len(), 1, "one reminder for the old draft");
    let lead = cms_local::seed::demo_user(cms_tests::demo::LEAD).unwrap().email;
    assert_eq!(mails[0]["destinations"]["ToAddresses"][0], lead.as_str());
    let body = mails[0]["body"].as_str().unwrap();
    assert!(body.contains("7 September 2026"), "the date it will be deleted: {body}");
    assert!(!body.contains("Reminder Testchild"), "no student details in the email");
    assert!(!outbox.to_string().contains(&format!("/referrals/{}", fresh.id)), "a recent draft is not reminded");
}
