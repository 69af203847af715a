//! Issue 16: "each dashboard's figures equal a brute-force count over the same seeded cases (a
//! test that computes both); replaying every event twice leaves the aggregates unchanged" — on
//! the emulator, with cases made through the API (so the real consumer counts them from the real
//! events) and the figures read through the API.

use cms_domain::case::{Case, CaseStatus, CaseType};
use cms_domain::ids::CaseId;
use cms_domain::ports::CaseStore;
use cms_domain::sla::{due_date, SlaKind};
use cms_tests::{complete_form, demo, nen_notification, nsn_for, open_case, TestEnv};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Every case in the test's table, read through the store (the brute force's input).
async fn all_cases(env: &TestEnv) -> Vec<Case> {
    let mut out = Vec::new();
    for item in env.items().await {
        let (Some(pk), Some(sk)) = (item.get("PK").and_then(|v| v.as_s().ok()), item.get("SK").and_then(|v| v.as_s().ok())) else {
            continue;
        };
        if sk == "CASE" {
            if let Some(id) = pk.strip_prefix("CASE#") {
                out.push(env.store.case(&CaseId::parse(id).unwrap()).await.unwrap().expect("the case"));
            }
        }
    }
    out
}

fn ty(c: &Case) -> &'static str {
    if c.case_type == CaseType::Ca {
        "ca"
    } else {
        "nen"
    }
}

/// The brute force: what a person counting these cases by hand would write down for a scope.
/// Caseloads and barriers are a provider's figures (`provider`).
fn count(cases: &[&Case], provider: bool) -> Value {
    let mut by_status: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    let mut sla: BTreeMap<&str, BTreeMap<&str, i64>> = BTreeMap::new();
    let mut closures: BTreeMap<String, i64> = BTreeMap::new();
    let mut caseloads: BTreeMap<String, i64> = BTreeMap::new();
    let mut barriers: BTreeMap<String, i64> = BTreeMap::new();
    let mut queue = 0;
    for c in cases {
        let e = by_status.entry(c.status.as_str().to_string()).or_default();
        if ty(c) == "ca" {
            e.0 += 1
        } else {
            e.1 += 1
        }
        if c.provider_id.is_some() {
            for (kind, name, met) in
                [(SlaKind::SchoolMeeting, "school_meeting", c.school_met_on), (SlaKind::WhanauMeeting, "whanau_meeting", c.whanau_met_on)]
            {
                let outcome = match met {
                    Some(d) if d <= due_date(kind, c.referred_at) => "met",
                    Some(_) => "metLate",
                    None if c.breached.contains(&kind) => "breached",
                    None if c.status == CaseStatus::Closed => "notMet",
                    None => "due",
                };
                *sla.entry(name).or_default().entry(outcome).or_default() += 1;
            }
        }
        if c.status == CaseStatus::ProviderQueue {
            queue += 1;
        }
        if let (CaseStatus::Closed, Some(r)) = (c.status, c.close_reason) {
            *closures.entry(r.as_str().to_string()).or_default() += 1;
        }
        if let (Some(cm), true) = (&c.case_manager, matches!(c.status, CaseStatus::Open | CaseStatus::Transition | CaseStatus::Paused)) {
            *caseloads.entry(cm.to_string()).or_default() += 1;
        }
        let mut kinds: Vec<&str> = c.barriers.iter().map(|b| b.kind.as_str()).collect();
        kinds.sort();
        kinds.dedup();
        for k in kinds {
            *barriers.entry(k.to_string()).or_default() += 1;
        }
    }
    json!({
        "total": cases.len(),
        "byStatus": by_status.into_iter().map(|(s, (ca, nen))| (s, json!({"ca": ca, "nen": nen}))).collect::<BTreeMap<_, _>>(),
        "sla": sla,
        "queue": queue,
        "closures": closures,
        "caseloads": if provider { caseloads } else { BTreeMap::new() },
        "barriers": if provider { barriers } else { BTreeMap::new() },
    })
}

/// The same shape, from a dashboard's figures (rows with nothing in them left out, as the brute
/// force has no row for what it never saw).
fn shown(d: &Value) -> Value {
    let f = &d["figures"];
    let rows = |k: &str| -> BTreeMap<String, i64> {
        f[k].as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|r| (r["key"].as_str().unwrap().to_string(), r["count"].as_i64().unwrap()))
            .collect()
    };
    let mut sla: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
    for r in f["sla"].as_array().unwrap() {
        let held: BTreeMap<String, i64> = ["met", "metLate", "due", "breached", "notMet"]
            .iter()
            .filter_map(|k| r[*k].as_i64().filter(|n| *n > 0).map(|n| (k.to_string(), n)))
            .collect();
        if !held.is_empty() {
            sla.insert(r["kind"].as_str().unwrap().to_string(), held);
        }
    }
    json!({
        "total": f["total"],
        "byStatus": f["byStatus"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["ca"].as_i64().unwrap() + r["nen"].as_i64().unwrap() > 0)
            .map(|r| (r["status"].as_str().unwrap().to_string(), json!({"ca": r["ca"], "nen": r["nen"]})))
            .collect::<BTreeMap<_, _>>(),
        "sla": sla,
        "queue": f["queue"]["cases"],
        "closures": rows("closures"),
        "caseloads": rows("caseloads"),
        "barriers": rows("barriers"),
    })
}

async fn dashboard(env: &TestEnv, user: &str, path: &str) -> Value {
    let r = env.call(user, "GET", path, None).await;
    assert_eq!(r.status, 200, "{path} as {user}: {:?}", r.body);
    r.body
}

#[tokio::test]
async fn every_dashboard_equals_a_count_by_hand_and_replaying_every_event_twice_changes_nothing() {
    let env = TestEnv::new("dashboards").await;
    let mut events = Vec::new();
    // cases in every state the flows reach: queued, open, met, with a barrier, closed, NEN
    let queued = env.allocated_case().await;
    let _ = queued;
    let met = open_case(&env, "Aroha Dashboardchild").await;
    env.drain().await;
    let today = cms_domain::nz_date(chrono::Utc::now()).to_string();
    let meeting = json!({"type": "school_meeting", "date": today, "attendees": ["Principal"], "shared": false});
    let r = env.call(demo::CASE_MANAGER, "POST", &format!("/cases/{met}/activities"), Some(meeting)).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let r = env.call(demo::CASE_MANAGER, "POST", &format!("/cases/{met}/barriers"), Some(json!({"kind": "transport"}))).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    env.drain().await;
    let closed = open_case(&env, "Wiremu Dashboardchild").await;
    env.drain().await;
    let v = env.version(demo::CASE_MANAGER, &closed).await;
    let r = env.status(demo::CASE_MANAGER, &closed, json!({"action": "close", "version": v, "reason": "attending_regularly"})).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let mut other = complete_form(demo::OTHER_CONTACT);
    other["student"]["fullName"] = json!("Hemi Dashboardchild");
    other["student"]["nsn"] = json!(nsn_for("Hemi Dashboardchild", "2014-05-01"));
    let r = env.submit_new(demo::OTHER_LEAD, other).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    env.nen_case(&nen_notification("dash-nen-1", "7700901", "Nen Dashboardchild")).await;
    env.drain().await;
    events.extend(env.bus_events().await);
    assert!(events.iter().any(|(t, _)| t == "CaseUpdated"), "the barrier and the meeting said the case changed: {events:?}");

    let cases = all_cases(&env).await;
    assert!(cases.len() >= 5, "{}", cases.len());
    let of = |f: &dyn Fn(&Case) -> bool| cases.iter().filter(|c| f(c)).collect::<Vec<_>>();
    let school = demo::SCHOOL;
    let provider = demo::SCHOOL_PROVIDER;
    let region = demo::REGION;
    let checks: Vec<(&str, String, Vec<&Case>)> = vec![
        (demo::LEAD, format!("/dashboards/schools/{school}"), of(&|c| c.school_id.as_str() == school)),
        (
            demo::PRIMARY_CONTACT,
            format!("/dashboards/schools/{school}"),
            of(&|c| c.primary_contact.as_ref().is_some_and(|p| p.as_str() == demo::PRIMARY_CONTACT)),
        ),
        (
            demo::CASE_MANAGER,
            format!("/dashboards/providers/{provider}"),
            of(&|c| c.provider_id.as_ref().is_some_and(|p| p.as_str() == provider)),
        ),
        (demo::REGIONAL, format!("/dashboards/regions/{region}"), of(&|c| c.region_id.as_ref().is_some_and(|r| r.as_str() == region))),
        (demo::NATIONAL, "/dashboards/national".to_string(), of(&|_| true)),
    ];
    let mut before = Vec::new();
    for (user, path, scoped) in &checks {
        let d = dashboard(&env, user, path).await;
        assert_eq!(shown(&d), count(scoped, path.contains("/providers/")), "{path} as {user}:\n{d:#}");
        before.push(d);
    }
    let national = &before[4];
    assert_eq!(national["figures"]["total"], cases.len());
    // the same figures as CSV, one line per figure
    let csv = env.call(demo::NATIONAL, "GET", "/dashboards/national?format=csv", None).await;
    assert_eq!(csv.status, 200, "{:?}", csv.body);
    let text = csv.body.as_str().expect("CSV");
    assert!(text.starts_with("\"Section\",\"Item\",\"Measure\",\"Value\"\r\n"), "{text}");
    assert!(text.contains(&format!("\"Cases\",\"all\",\"cases\",\"{}\"\r\n", cases.len())), "{text}");
    let open_ca = cases.iter().filter(|c| c.status == CaseStatus::Open && c.case_type == CaseType::Ca).count();
    assert!(text.contains(&format!("\"Cases by status\",\"Open\",\"CA\",\"{open_ca}\"\r\n")), "{text}");
    let bad = env.call(demo::NATIONAL, "GET", "/dashboards/national?format=xml", None).await;
    assert_eq!(bad.status, 400, "{:?}", bad.body);
    assert_eq!(national["capacity"]["caPerYear"], 45_000);
    // the region's per provider: the queue and its age, by hand
    let today_day = chrono::Datelike::num_days_from_ce(&cms_domain::nz_date(chrono::Utc::now()));
    for row in before[3]["figures"]["providers"].as_array().unwrap() {
        let p = row["providerId"].as_str().unwrap();
        let queued: Vec<&Case> = cases
            .iter()
            .filter(|c| {
                c.provider_id.as_ref().is_some_and(|x| x.as_str() == p)
                    && c.status == CaseStatus::ProviderQueue
                    && c.region_id.as_ref().is_some_and(|r| r.as_str() == region)
            })
            .collect();
        assert_eq!(row["queue"], queued.len(), "{row}");
        if !queued.is_empty() {
            let mean: f64 = queued
                .iter()
                .map(|c| f64::from(today_day - chrono::Datelike::num_days_from_ce(&cms_domain::nz_date(c.referred_at))))
                .sum::<f64>()
                / queued.len() as f64;
            assert_eq!(row["averageDaysWaiting"].as_f64(), Some((mean * 10.0).round() / 10.0), "{row}");
        }
    }
    let provider_dash = &before[2];
    assert!(provider_dash["fund"]["capCents"].is_i64(), "{provider_dash:?}");
    assert_eq!(
        before[1]["scope"],
        json!({"kind": "primary_contact", "id": demo::PRIMARY_CONTACT}),
        "a School Primary Contact sees their cases' figures"
    );

    // every event again, twice, straight to the consumer (as EventBridge may redeliver)
    let update = env.registry.event("UpdateDashboardsFunction").expect("registered").clone();
    for round in 0..2 {
        for (n, (detail_type, detail)) in events.iter().enumerate() {
            let event: aws_lambda_events::eventbridge::EventBridgeEvent<Value> = serde_json::from_value(json!({
                "version": "0", "id": format!("replay-{round}-{n}"), "detail-type": detail_type, "source": "attendance.cases",
                "account": "123456789012", "time": "2026-03-10T01:00:00Z", "region": "ap-southeast-2", "resources": [],
                "detail": detail,
            }))
            .unwrap();
            update(event).await.expect("a replayed event is handled");
        }
    }
    for ((user, path, _), was) in checks.iter().zip(&before) {
        assert_eq!(&dashboard(&env, user, path).await, was, "{path} as {user} moved on replay");
    }
}

#[tokio::test]
async fn a_dashboard_is_for_its_own_people_only() {
    let env = TestEnv::new("dashaccess").await;
    for (user, path) in [
        (demo::OTHER_LEAD, format!("/dashboards/schools/{}", demo::SCHOOL)),
        (demo::CASE_MANAGER, format!("/dashboards/schools/{}", demo::SCHOOL)),
        (demo::OTHER_CASE_MANAGER, format!("/dashboards/providers/{}", demo::SCHOOL_PROVIDER)),
        (demo::OTHER_REGIONAL, format!("/dashboards/regions/{}", demo::REGION)),
        (demo::OTHER_REGIONAL, format!("/dashboards/providers/{}", demo::SCHOOL_PROVIDER)),
        (demo::REGIONAL, "/dashboards/national".to_string()),
        (demo::CIT, "/dashboards/national".to_string()),
        (demo::PROSECUTIONS, format!("/dashboards/schools/{}", demo::SCHOOL)),
    ] {
        let r = env.call(user, "GET", &path, None).await;
        assert_eq!(r.status, 404, "{path} as {user}: {:?}", r.body);
        assert!(r.body["detail"].as_str().unwrap().contains("dashboard"), "{:?}", r.body);
    }
    // an id that cannot be one is not found either (as for every other id in a path)
    let r = env.call(demo::NATIONAL, "GET", "/dashboards/schools/not-a-school!", None).await;
    assert_eq!(r.status, 404, "{:?}", r.body);
}

/// The example query of docs/export.md, as written there.
fn documented_query() -> String {
    let doc = std::fs::read_to_string(cms_local::template::repo_root().join("docs/export.md")).expect("docs/export.md");
    let start = doc.find("```sql\n").expect("an sql block in docs/export.md") + 7;
    let end = start + doc[start..].find("```").expect("the end of the sql block");
    doc[start..end].to_string()
}

#[tokio::test]
async fn the_nightly_export_opens_in_duckdb_and_answers_the_documented_query() {
    let env = TestEnv::new("export").await;
    let _ = open_case(&env, "Rangi Exportchild").await;
    let _ = env.allocated_case().await;
    env.nen_case(&nen_notification("export-nen-1", "7700902", "Nen Exportchild")).await;
    env.drain().await;
    let bucket = env.res.export_bucket.clone().expect("the template's ExportsBucket");
    let sink = cms_aws::S3ExportSink::new(&env.sdk, &bucket);
    let today = cms_domain::nz_date(chrono::Utc::now());
    let clock = cms_domain::ports::FixedClock(cms_domain::schedule::nz_time(today, 1));
    let exported = reopen_scheduler::export_facts(&env.store, &sink, &clock).await.expect("exported");
    let cases = all_cases(&env).await;
    assert_eq!(exported.rows as usize, cases.len(), "{exported:?}");
    assert_eq!(exported.key, format!("case-facts/date={today}/case-facts.jsonl"));

    // the file as S3 holds it, opened by DuckDB (pinned in .venv) with the documented query
    let object = env.clients.s3.get_object().bucket(&bucket).key(&exported.key).send().await.expect("the export object");
    let bytes = object.body.collect().await.unwrap().into_bytes();
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    for name in ["Rangi", "Exportchild", "Tamati", "Testchild", "Kowhai", "021 555"] {
        assert!(!text.contains(name), "the export names {name}");
    }
    let dir = std::env::temp_dir().join(format!("cms-export-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("case-facts.jsonl"), &bytes).unwrap();
    let python = cms_local::template::repo_root().join(".venv/bin/python");
    let script = "import duckdb, json, sys\nrows = duckdb.sql(sys.argv[1]).fetchall()\nprint(json.dumps([list(r) for r in rows]))";
    let out = std::process::Command::new(&python)
        .current_dir(&dir)
        .args(["-c", script, &documented_query()])
        .output()
        .unwrap_or_else(|e| panic!("{python:?} (infra/test installs DuckDB into .venv): {e}"));
    assert!(out.status.success(), "duckdb: {}", String::from_utf8_lossy(&out.stderr));
    let answer: Vec<(String, String, i64)> = serde_json::from_slice(&out.stdout).expect("rows");
    // the same question answered by counting the cases
    let mut by_hand: BTreeMap<(String, String), i64> = BTreeMap::new();
    for c in &cases {
        *by_hand.entry((c.status.as_str().to_string(), ty(c).to_uppercase())).or_default() += 1;
    }
    let by_hand: Vec<(String, String, i64)> = by_hand.into_iter().map(|((s, t), n)| (s, t, n)).collect();
    assert_eq!(answer, by_hand);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_case_list_exports_as_csv_recorded_as_one_read_with_no_health_information() {
    let env = TestEnv::new("csv").await;
    let mine = open_case(&env, "Mere Csvchild").await;
    env.drain().await;
    let h = env.call(demo::CASE_MANAGER, "POST", &format!("/cases/{mine}/health"), Some(json!({"text": "HEALTH-CSV asthma"}))).await;
    assert_eq!(h.status, 201, "{:?}", h.body);
    let mut other = complete_form(demo::LEAD);
    other["student"]["fullName"] = json!("Tui Csvchild");
    other["student"]["nsn"] = json!(nsn_for("Tui Csvchild", "2014-05-01"));
    assert_eq!(env.submit_new(demo::LEAD, other).await.status, 201);
    env.drain().await;

    let r = env.call(demo::LEAD, "GET", "/exports/cases", None).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let csv = r.body.as_str().expect("CSV text").to_string();
    let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert!(lines[0].starts_with("\"Case\",\"Type\",\"Status\",\"Student\""), "{}", lines[0]);
    assert_eq!(lines.len(), 3, "a header and the school's two cases: {csv}");
    assert!(csv.contains("\"Mere Csvchild\"") && csv.contains("\"Tui Csvchild\""), "{csv}");
    assert!(!csv.contains("HEALTH-CSV") && !csv.contains("asthma"), "no health information");
    assert!(!csv.contains("Kōwhai") && !csv.contains("021"), "no address or contact");
    // the Primary Contact of one of them: only theirs
    let r = env.call(demo::PRIMARY_CONTACT, "GET", "/exports/cases?status=open", None).await;
    let csv = r.body.as_str().unwrap();
    assert!(csv.contains("Mere Csvchild") && !csv.contains("Tui Csvchild"), "{csv}");
    // each export recorded as one read naming every case in it
    use cms_domain::ports::ReadLog;
    let mut exports = Vec::new();
    for chain in env.store.read_chains().await.unwrap() {
        for e in env.store.read_chain(&chain).await.unwrap() {
            if e.record.action == "case.exported" {
                exports.push((e.record.user_id.clone(), e.record.case_ids.len()));
            }
        }
    }
    exports.sort();
    assert_eq!(exports, vec![(demo::PRIMARY_CONTACT.to_string(), 1), (demo::LEAD.to_string(), 2)], "one entry per export");
    let bad = env.call(demo::LEAD, "GET", "/exports/cases?status=lost", None).await;
    assert_eq!(bad.status, 400, "{:?}", bad.body);
}
