//! The local environment against the emulator: resources from template.yaml (twice, side by side),
//! the template's rule patterns routing events to the right queue, seeding, the poller, and the
//! local API gateway (auth, routing, body cap) with stub handlers.
//! Needs AWS_ENDPOINT_URL (infra/test starts the emulator and sets it).

use cms_domain::ids::UserId;
use cms_domain::ports::ReferenceData;
use cms_local::registry::Registry;
use cms_local::{demo, fresh_env, server, LocalIdp, TestEnv};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

async fn env(label: &str) -> TestEnv {
    if std::env::var_os("AWS_ENDPOINT_URL").is_none() {
        panic!("AWS_ENDPOINT_URL is not set: start the emulator: infra/test does this (or infra/start-moto)");
    }
    fresh_env(label).await.expect("create the local resources")
}

async fn put_case_created(env: &TestEnv, case_type: &str, case_id: &str) {
    let entry = aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
        .source("attendance.cases")
        .detail_type("CaseCreated")
        .event_bus_name(&env.resources.bus_name)
        .detail(serde_json::json!({"caseId": case_id, "caseType": case_type, "schoolId": demo::SCHOOL}).to_string())
        .build();
    let out = env.clients.eventbridge.put_events().entries(entry).send().await.expect("PutEvents");
    assert_eq!(out.failed_entry_count(), 0);
}

fn allocate_queue(env: &TestEnv) -> String {
    env.resources
        .rules
        .iter()
        .find(|r| r.function_logical_id == "AllocateFunction")
        .expect("a queue for AllocateFunction's rule")
        .queue_url
        .clone()
}

#[tokio::test]
async fn rules_route_events_per_environment() {
    let a = env("ra").await;
    let b = env("rb").await;
    assert_ne!(a.resources.table_name, b.resources.table_name);
    assert_ne!(allocate_queue(&a), allocate_queue(&b));

    put_case_created(&a, "CA", "case-ca").await;
    put_case_created(&a, "NEN", "case-nen").await;

    // a CA CaseCreated reaches allocate's queue, NEN does not, and nothing leaks into b's queue
    let got = a
        .clients
        .sqs
        .receive_message()
        .queue_url(allocate_queue(&a))
        .max_number_of_messages(10)
        .wait_time_seconds(1)
        .send()
        .await
        .unwrap()
        .messages
        .unwrap_or_default();
    assert_eq!(got.len(), 1, "exactly the CA event is delivered");
    let ev: aws_lambda_events::eventbridge::EventBridgeEvent<serde_json::Value> =
        serde_json::from_str(got[0].body().unwrap()).expect("the body is an EventBridge envelope");
    assert_eq!(ev.detail_type, "CaseCreated");
    assert_eq!(ev.source, "attendance.cases");
    assert_eq!(ev.detail["caseType"], "CA");
    assert_eq!(ev.detail["caseId"], "case-ca");

    let other = b
        .clients
        .sqs
        .receive_message()
        .queue_url(allocate_queue(&b))
        .wait_time_seconds(0)
        .send()
        .await
        .unwrap()
        .messages
        .unwrap_or_default();
    assert!(other.is_empty(), "another environment's queue stays empty");

    // creating the same prefix again is harmless (a restart against the same emulator)
    let again = cms_local::resources::create(&a.clients, &a.template, &a.resources.prefix).await.unwrap();
    assert_eq!(again, a.resources);
}

#[tokio::test]
async fn drain_once_runs_handlers_and_keeps_failures_for_retry() {
    let env = env("dr").await;
    let seen = Arc::new(AtomicUsize::new(0));
    let s = seen.clone();
    let ok =
        Registry::new().with_event("AllocateFunction", move |e: aws_lambda_events::eventbridge::EventBridgeEvent<serde_json::Value>| {
            let s = s.clone();
            async move {
                assert_eq!(e.detail["caseType"], "CA");
                s.fetch_add(1, Ordering::SeqCst);
                Ok::<(), String>(())
            }
        });
    // every case event also reaches the outbox's confirmation (ADR 0016) and the dashboards'
    // consumer (ADR 0025): no-ops here
    let confirm = |r: Registry| {
        r.with_event("OutboxConfirmFunction", |_e| async { Ok::<(), String>(()) })
            .with_event("UpdateDashboardsFunction", |_e| async { Ok::<(), String>(()) })
    };
    let ok = confirm(ok);
    put_case_created(&env, "CA", "c1").await;
    put_case_created(&env, "CA", "c2").await;
    put_case_created(&env, "NEN", "c3").await;
    assert_eq!(env.drain(&ok).await.unwrap(), 2 + 3 + 3, "two allocations, three confirmations, three counts");
    assert_eq!(seen.load(Ordering::SeqCst), 2);
    assert_eq!(env.drain(&ok).await.unwrap(), 0, "handled messages are deleted");

    let failing = confirm(Registry::new().with_event("AllocateFunction", |_e| async { Err::<(), _>("store unavailable") }));
    put_case_created(&env, "CA", "c4").await;
    let err = env.drain(&failing).await.unwrap_err();
    assert!(err.contains("store unavailable"), "{err}");
    // after the visibility timeout the event comes back, and a working handler takes it
    tokio::time::sleep(Duration::from_secs(cms_local::resources::VISIBILITY_TIMEOUT_SECS as u64 + 1)).await;
    assert_eq!(env.drain(&ok).await.unwrap(), 1);
}

#[tokio::test]
async fn minimal_seed_is_readable_through_the_adapter() {
    let env = env("sd").await;
    let lead = env.store.user(&UserId::parse(demo::LEAD).unwrap()).await.unwrap().expect("the demo lead");
    assert_eq!(lead.org_id, demo::SCHOOL);
    let isp = env.store.school(&cms_domain::ids::SchoolId::parse(demo::ISP_SCHOOL).unwrap()).await.unwrap().expect("the ISP school");
    assert_eq!(isp.isp_provider_id.unwrap().as_str(), demo::ISP_PROVIDER);
    let p = env.store.provider(&cms_domain::ids::ProviderId::parse(demo::ISP_PROVIDER).unwrap()).await.unwrap().expect("the ISP provider");
    assert_eq!(p.kind, cms_domain::catchment::ProviderKind::InSchoolProvision);
}

#[tokio::test]
async fn local_gateway_authenticates_routes_and_caps_bodies() {
    let tpl = cms_local::template::load_default().unwrap();
    let idp = Arc::new(LocalIdp::ephemeral(cms_local::jwt::issuer_for(0)).unwrap());
    // a stub for the case-query function that echoes what the handler sees
    let registry = Registry::new().with_http("CaseQueryFunction", |req: lambda_http::Request| async move {
        use lambda_http::RequestExt;
        let actor = cms_http::actor(&req);
        let body = serde_json::json!({
            "routeKey": cms_http::route_key(&req),
            "id": req.path_parameters_ref().and_then(|p| p.first("id")).map(str::to_string),
            "user": actor.as_ref().ok().map(|a| a.user_id().to_string()),
            "role": actor.as_ref().ok().map(|a| a.role().as_str()),
        });
        cms_http::json(200, &body)
    });
    let state = Arc::new(server::AppState::new(tpl.routes(), registry, idp.clone()));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let (addr, task) = server::spawn(([127, 0, 0, 1], 0).into(), state, stop_rx).await.unwrap();
    let base = format!("http://{addr}");
    let token = idp.mint(&cms_local::seed::demo_user(demo::CASE_MANAGER).unwrap(), Duration::from_secs(300));

    let (status, body) = http(&base, "GET", "/cases/01ABC", Some(&token), None).await;
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["routeKey"], "GET /cases/{id}");
    assert_eq!(v["id"], "01ABC");
    assert_eq!(v["user"], demo::CASE_MANAGER);
    assert_eq!(v["role"], "case_manager");

    assert_eq!(http(&base, "GET", "/cases", None, None).await.0, 401);
    assert_eq!(http(&base, "GET", "/cases", Some("not-a-jwt"), None).await.0, 401);
    let other_idp = LocalIdp::ephemeral(cms_local::jwt::issuer_for(0)).unwrap();
    let foreign = other_idp.mint(&cms_local::seed::demo_user(demo::CASE_MANAGER).unwrap(), Duration::from_secs(300));
    assert_eq!(http(&base, "GET", "/cases", Some(&foreign), None).await.0, 401);
    let (status, body) = http(&base, "GET", "/nowhere", Some(&token), None).await;
    assert_eq!(status, 404);
    assert!(body.contains("\"status\":404"), "{body}");
    // a route whose function has no local handler yet
    if tpl.routes().iter().any(|r| r.method == "POST" && r.path == "/referrals") {
        assert_eq!(http(&base, "POST", "/referrals", Some(&token), Some("{}".into())).await.0, 501);
    }
    let big = "x".repeat(server::MAX_BODY_BYTES + 1);
    assert_eq!(http(&base, "GET", "/cases", Some(&token), Some(big)).await.0, 413);

    stop_tx.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(5), task).await.expect("the server stops").unwrap();
}

#[tokio::test]
async fn real_functions_run_behind_the_gateway_and_the_poller() {
    let env = env("fx").await;
    let registry = cms_local::registry::functions(&env.sdk, &env.env());
    let idp = Arc::new(LocalIdp::ephemeral(cms_local::jwt::issuer_for(0)).unwrap());
    let state = Arc::new(server::AppState::new(env.template.routes(), registry.clone(), idp.clone()));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let (addr, task) = server::spawn(([127, 0, 0, 1], 0).into(), state, stop_rx).await.unwrap();
    let base = format!("http://{addr}");
    let token = |id: &str| idp.mint(&cms_local::seed::demo_user(id).unwrap(), Duration::from_secs(300));

    let sample = cms_local::template::repo_root().join("events/apigw/create-and-submit-referral.json");
    let sample: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&sample).unwrap()).unwrap();
    let body = sample["body"].as_str().expect("the sample has a body").to_string();
    let (status, resp) = http(&base, "POST", "/referrals", Some(&token(demo::LEAD)), Some(body)).await;
    assert_eq!(status, 201, "{resp}");
    let case_id = serde_json::from_str::<serde_json::Value>(&resp).unwrap()["caseId"].as_str().unwrap().to_string();

    // CaseCreated went through the template's rule to allocate's queue; allocate runs
    assert!(env.drain(&registry).await.unwrap() >= 1);
    let (status, resp) = http(&base, "GET", &format!("/cases/{case_id}"), Some(&token(demo::CASE_MANAGER)), None).await;
    assert_eq!(status, 200, "{resp}");
    assert!(resp.contains("provider_queue"), "{resp}");

    stop_tx.send(true).unwrap();
    let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
}

#[tokio::test]
async fn a_method_an_address_does_not_take_is_405_with_allow() {
    let tpl = cms_local::template::load_default().unwrap();
    let idp = Arc::new(LocalIdp::ephemeral(cms_local::jwt::issuer_for(0)).unwrap());
    let state = Arc::new(server::AppState::new(tpl.routes(), Registry::new(), idp.clone()));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let (addr, task) = server::spawn(([127, 0, 0, 1], 0).into(), state, stop_rx).await.unwrap();
    let base = format!("http://{addr}");
    let token = idp.mint(&cms_local::seed::demo_user(demo::LEAD).unwrap(), Duration::from_secs(300));
    // the address exists (POST only), the method does not: with or without a token
    for t in [Some(token.as_str()), None] {
        let (status, head, body) = http_raw(&base, "GET", "/referrals/r1/submit", t, None).await;
        assert_eq!(status, 405, "{body}");
        assert!(head.lines().any(|l| l.eq_ignore_ascii_case("allow: POST")), "{head}");
        assert!(head.to_ascii_lowercase().contains("content-type: application/problem+json"), "{head}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["status"], 405);
        assert_eq!(v["detail"], "This address does not accept GET. It accepts: POST.");
        assert!(v["requestId"].as_str().is_some_and(|id| !id.is_empty()), "{body}");
    }
    // several methods, listed in the header and the text
    let (status, head, body) = http_raw(&base, "PATCH", "/referrals/r1", Some(&token), None).await;
    assert_eq!(status, 405, "{body}");
    assert!(head.lines().any(|l| l.eq_ignore_ascii_case("allow: DELETE, GET, PUT")), "{head}");
    assert!(body.contains("It accepts: DELETE, GET, PUT."), "{body}");
    // an address that does not exist is still 404, with no Allow
    let (status, head, _) = http_raw(&base, "GET", "/referrals/r1/nowhere", Some(&token), None).await;
    assert_eq!(status, 404);
    assert!(!head.lines().any(|l| l.to_ascii_lowercase().starts_with("allow:")), "{head}");

    stop_tx.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(5), task).await.expect("the server stops").unwrap();
}

/// A minimal HTTP/1.1 client (one request per connection), enough for these checks.
async fn http(base: &str, method: &str, path: &str, token: Option<&str>, body: Option<String>) -> (u16, String) {
    let (status, _, body) = http_raw(base, method, path, token, body).await;
    (status, body)
}

/// [`http`] with the response's status line and headers.
async fn http_raw(base: &str, method: &str, path: &str, token: Option<&str>, body: Option<String>) -> (u16, String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let body = body.unwrap_or_default();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    if let Some(t) = token {
        req.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    req.push_str("Content-Type: application/json\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let _ = s.write_all(body.as_bytes()).await; // the server may answer 413 before reading it all
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out).await;
    let text = String::from_utf8_lossy(&out).to_string();
    let status = text.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let (head, body) = text.split_once("\r\n\r\n").map(|(h, b)| (h.to_string(), b.to_string())).unwrap_or_default();
    (status, head, body)
}
