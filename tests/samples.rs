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
    for entry in std::fs::read_dir(events_dir().join("apigw")).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let lr: lambda_http::request::LambdaRequest = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"));
        let req: lambda_http::Request = lr.into();
        let route_key = cms_http::route_key(&req);
        let (method, route) = route_key.split_once(' ').unwrap();
        assert!(routes.iter().any(|r| r.method == method && r.path == route), "{path:?}: {route_key} is not in template.yaml");
        let actor = cms_http::actor(&req);
        assert!(actor.is_ok(), "{path:?}: claims do not make an actor");
        let user = actor.unwrap().user_id().to_string();
        assert!(cms_local::seed::demo_user(&user).is_some(), "{path:?}: {user} is not a seeded user");
        n += 1;
    }
    assert!(n >= 8);
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
