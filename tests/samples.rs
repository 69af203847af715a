//! The sample payloads in events/ are real: each API Gateway sample is accepted by Lambda's own
//! deserialisation and names a route of template.yaml; the EventBridge sample parses as a domain
//! event and drives the allocate handler.

use cms_local::template;
use std::path::PathBuf;

fn events_dir() -> PathBuf {
    template::repo_root().join("events")
}

#[test]
fn every_api_gateway_sample_is_a_v2_event_for_a_template_route() {
    let routes = template::load_default().unwrap().routes();
    let mut n = 0;
    let mut covered = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(events_dir().join("apigw")).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let lr: lambda_http::request::LambdaRequest = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"));
        let req: lambda_http::Request = lr.into();
        let route_key = cms_http::route_key(&req);
        let (method, route) = route_key.split_once(' ').unwrap();
        assert!(routes.iter().any(|r| r.method == method && r.path == route), "{path:?}: {route_key} is not in template.yaml");
        let route_def = routes.iter().find(|r| r.method == method && r.path == route).unwrap();
        if route_def.public {
            assert!(cms_http::actor(&req).is_err(), "{path:?}: a public route's sample carries no token claims");
        } else {
            let actor = cms_http::actor(&req);
            assert!(actor.is_ok(), "{path:?}: claims do not make an actor");
            let user = actor.unwrap().user_id().to_string();
            assert!(cms_local::seed::demo_user(&user).is_some(), "{path:?}: {user} is not a seeded user");
        }
        covered.insert(route_key.clone());
        n += 1;
    }
    assert!(n >= 8);
    // a sample for every route of the template
    let missing: Vec<String> = routes.iter().map(|r| format!("{} {}", r.method, r.path)).filter(|k| !covered.contains(k)).collect();
    assert!(missing.is_empty(), "routes without a sample in events/apigw: {missing:?}");
}

#[test]
fn every_event_sample_is_what_its_consumer_expects() {
    let mut n = 0;
    for entry in std::fs::read_dir(events_dir().join("eventbridge")).unwrap() {
        let path = entry.unwrap().path();
        let ev: aws_lambda_events::eventbridge::EventBridgeEvent<serde_json::Value> =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap_or_else(|e| panic!("{path:?}: {e}"));
        if ev.source == cms_domain::events::SOURCE {
            let env =
                cms_domain::events::EventEnvelope::from_parts(&ev.detail_type, &ev.detail).unwrap_or_else(|e| panic!("{path:?}: {e}"));
            assert_eq!(env.detail_type(), ev.detail_type);
        } else {
            assert_eq!(ev.source, "aws.s3", "{path:?}");
            let key = ev.detail["object"]["key"].as_str().expect("object key");
            assert!(cms_domain::files::parse_object_key(key).is_some(), "{path:?}: not a case-file key");
        }
        n += 1;
    }
    assert!(n >= 4);
    // ENROL's bodies are valid notifications
    for name in ["non-enrolment-notification.json", "student-enrolled.json"] {
        let d: cms_domain::enrol::Delivery =
            serde_json::from_str(&std::fs::read_to_string(events_dir().join("enrol").join(name)).unwrap()).unwrap();
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
        assert!(cms_domain::enrol::parse(&d, today.and_hms_opt(0, 0, 0).unwrap().and_utc(), today).is_ok(), "{name}");
    }
}

#[test]
fn the_case_created_sample_is_a_domain_event() {
    let text = std::fs::read_to_string(events_dir().join("eventbridge/case-created.json")).unwrap();
    let ev: aws_lambda_events::eventbridge::EventBridgeEvent<serde_json::Value> = serde_json::from_str(&text).unwrap();
    let env = cms_domain::events::EventEnvelope::from_parts(&ev.detail_type, &ev.detail).unwrap();
    assert_eq!(env.detail_type(), "CaseCreated");
    assert_eq!(ev.source, cms_domain::events::SOURCE);
}

#[tokio::test]
async fn allocate_retries_a_case_created_for_a_case_it_cannot_find() {
    let env = cms_tests::TestEnv::new("samples").await;
    let text = std::fs::read_to_string(events_dir().join("eventbridge/case-created.json")).unwrap();
    let ev = serde_json::from_str(&text).unwrap();
    let deps = allocate::aws_deps(&env.sdk, &env.res.env());
    let before = env.items().await;
    let r = allocate::handle(&deps, ev).await;
    assert!(matches!(r, Err(allocate::AllocateError::CaseMissing(_))), "{r:?}");
    assert_eq!(env.items().await, before);
}

#[test]
fn the_typed_routes_are_the_template_routes() {
    let template: std::collections::BTreeSet<String> =
        template::load_default().unwrap().routes().iter().map(|r| format!("{} {}", r.method, r.path)).collect();
    let typed: std::collections::BTreeSet<String> = cms_http::Route::ALL.iter().map(|r| r.key().to_string()).collect();
    assert_eq!(typed, template, "cms_http::Route and template.yaml's routes differ");
}
