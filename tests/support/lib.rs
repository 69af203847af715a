//! The test harness: one isolated set of resources per test (unique names) on the shared emulator,
//! created from template.yaml exactly as the local environment does, with the minimal seed. Calls go
//! through the same path as the local API server: route match → API Gateway v2 event → handler,
//! with claims from a token minted and verified by the local identity provider.

use aws_sdk_dynamodb::types::AttributeValue;
use cms_aws::DynamoStore;
use cms_http::apigw::ApiCall;
use cms_local::jwt::LocalIdp;
use cms_local::registry::Registry;
use cms_local::resources::{Clients, LocalResources};
use cms_local::template::Route;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

pub use cms_local::seed::demo;

pub mod contract;
pub mod counting;

pub struct TestEnv {
    pub sdk: aws_config::SdkConfig,
    pub clients: Clients,
    pub res: LocalResources,
    pub store: DynamoStore,
    pub registry: Registry,
    routes: Vec<Route>,
    idp: LocalIdp,
    /// A queue subscribed to every event on the bus (what the bus carried, for assertions).
    spy_queue: String,
    requests: AtomicU64,
}

/// A response: status and JSON body (`Value::Null` when empty).
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
}

impl TestEnv {
    pub async fn new(label: &str) -> TestEnv {
        Self::build(label, true).await
    }

    /// The same, with an empty table: no reference data at all (for the import's tests).
    pub async fn unseeded(label: &str) -> TestEnv {
        Self::build(label, false).await
    }

    async fn build(label: &str, seeded: bool) -> TestEnv {
        if std::env::var("AWS_ENDPOINT_URL").is_err() {
            panic!("AWS_ENDPOINT_URL is not set: integration tests need the emulator. Run them with infra/test, which starts it.");
        }
        let sdk = cms_aws::sdk_config().await;
        let clients = Clients::new(&sdk);
        let template = cms_local::template::load_default().expect("template.yaml parses");
        let prefix = cms_local::resources::unique_prefix(label);
        let res = cms_local::resources::create(&clients, &template, &prefix).await.expect("resources created in the emulator");
        let store = DynamoStore::new(clients.dynamodb.clone(), &res.table_name);
        if seeded {
            cms_local::seed::seed_minimal(&store).await.expect("seeded");
        }
        let registry = cms_local::registry::functions(&sdk, &res.env());
        let spy_queue = spy(&clients, &res).await;
        TestEnv {
            routes: template.routes(),
            idp: LocalIdp::ephemeral("http://127.0.0.1/test-idp").expect("key pair"),
            sdk,
            clients,
            res,
            store,
            registry,
            spy_queue,
            requests: AtomicU64::new(0),
        }
    }

    /// Route these functions' AWS calls through a counting proxy (see [`counting`]), built afresh
    /// like a cold start; the other functions keep calling the emulator directly.
    pub async fn count_calls(&mut self, logical_ids: &[&str]) -> counting::CallCounter {
        let upstream = std::env::var("AWS_ENDPOINT_URL").expect("the emulator's endpoint");
        let counter = counting::CallCounter::start(&upstream).await;
        let counted = cms_local::registry::functions(&counter.sdk().await, &self.res.env());
        let mut registry = std::mem::take(&mut self.registry);
        for id in logical_ids {
            registry = registry.with_function_from(&counted, id);
        }
        self.registry = registry;
        counter
    }

    /// The claims the HttpApi authorizer would pass for this seeded user (minted and verified).
    pub fn claims_of(&self, user_id: &str) -> HashMap<String, String> {
        let user = cms_local::seed::demo_user(user_id).unwrap_or_else(|| panic!("{user_id} is not a seeded demo user"));
        let token = self.idp.mint(&user, std::time::Duration::from_secs(600));
        self.idp.verify(&token).expect("a freshly minted token verifies")
    }

    /// Call the API as a seeded user.
    pub async fn call(&self, user_id: &str, method: &str, path: &str, body: Option<Value>) -> Reply {
        let claims = self.claims_of(user_id);
        self.call_with_claims(Some(claims), method, path, body.map(|b| b.to_string())).await
    }

    /// Call with explicit claims (`None`: no authorizer context) and a raw body.
    pub async fn call_with_claims(&self, claims: Option<HashMap<String, String>>, method: &str, path: &str, body: Option<String>) -> Reply {
        self.call_full(claims, method, path, Vec::new(), body).await
    }

    /// Call with claims, extra headers and a raw body (e.g. the ENROL webhook's signature).
    pub async fn call_full(
        &self,
        claims: Option<HashMap<String, String>>,
        method: &str,
        path: &str,
        extra_headers: Vec<(String, String)>,
        body: Option<String>,
    ) -> Reply {
        self.call_bytes(claims, method, path, extra_headers, body.as_deref().map(str::as_bytes)).await
    }

    /// Like [`TestEnv::call_full`] with the body as raw bytes (not UTF-8: base64, as API Gateway
    /// sends it). `content-type: application/json` unless `extra_headers` names another.
    pub async fn call_bytes(
        &self,
        claims: Option<HashMap<String, String>>,
        method: &str,
        path: &str,
        extra_headers: Vec<(String, String)>,
        body: Option<&[u8]>,
    ) -> Reply {
        self.call_reply(claims, method, path, extra_headers, body).await.0
    }

    /// Like [`TestEnv::call_bytes`], also returning the response's headers and its request id.
    pub async fn call_reply(
        &self,
        claims: Option<HashMap<String, String>>,
        method: &str,
        path: &str,
        extra_headers: Vec<(String, String)>,
        body: Option<&[u8]>,
    ) -> (Reply, lambda_http::http::HeaderMap, String) {
        let (path_only, query) = path.split_once('?').unwrap_or((path, ""));
        let (route, params) = cms_local::server::find_route(&self.routes, method, path_only)
            .unwrap_or_else(|| panic!("no route in template.yaml for {method} {path_only}"));
        let n = self.requests.fetch_add(1, Ordering::Relaxed);
        let default_type = if extra_headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("content-type")) {
            vec![]
        } else {
            vec![("content-type".to_string(), "application/json".to_string())]
        };
        let request_id = format!("test-{n}");
        let call = ApiCall {
            method: method.to_string(),
            path: path_only.to_string(),
            route: route.path.clone(),
            path_parameters: params,
            raw_query: query.to_string(),
            headers: [default_type, extra_headers].concat(),
            claims,
            request_id: request_id.clone(),
            source_ip: "127.0.0.1".into(),
            ..ApiCall::default()
        }
        .with_body_bytes(body);
        let req = cms_http::apigw::request(&call).expect("a valid API Gateway v2 event");
        let handler =
            self.registry.http(&route.function_logical_id).unwrap_or_else(|| panic!("{} is not registered", route.function_logical_id));
        let resp = handler(req).await;
        let status = resp.status().as_u16();
        let text = match resp.body() {
            lambda_http::Body::Text(t) => t.clone(),
            lambda_http::Body::Binary(b) => String::from_utf8_lossy(b).into_owned(),
            _ => String::new(),
        };
        // docs/openapi.yaml is the contract: a response it does not describe fails the test
        let content_type = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
        let broken = contract::contract().check(method, &route.path, status, content_type, &text);
        assert!(broken.is_empty(), "the response breaks docs/openapi.yaml:\n{}\nbody: {text}", broken.join("\n"));
        let body = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
        (Reply { status, body }, resp.headers().clone(), request_id)
    }

    /// Run the event flow: deliver what the rules' queues hold to their functions, until quiet.
    pub async fn drain(&self) -> usize {
        let mut total = 0;
        for _ in 0..10 {
            let n = cms_local::poller::drain_once(&self.clients.sqs, &self.res.rules, &self.registry).await.expect("drained");
            total += n;
            if n == 0 {
                break;
            }
        }
        total
    }

    /// Every event the bus carried since the last call (detail-type, detail).
    pub async fn bus_events(&self) -> Vec<(String, Value)> {
        let mut out = Vec::new();
        loop {
            let msgs = self
                .clients
                .sqs
                .receive_message()
                .queue_url(&self.spy_queue)
                .max_number_of_messages(10)
                .wait_time_seconds(0)
                .send()
                .await
                .expect("spy queue readable");
            let batch = msgs.messages.unwrap_or_default();
            if batch.is_empty() {
                break;
            }
            for m in batch {
                let v: Value = serde_json::from_str(m.body().unwrap_or("{}")).expect("event envelope is JSON");
                out.push((v["detail-type"].as_str().unwrap_or_default().to_string(), v["detail"].clone()));
                if let Some(h) = m.receipt_handle() {
                    let _ = self.clients.sqs.delete_message().queue_url(&self.spy_queue).receipt_handle(h).send().await;
                }
            }
        }
        out
    }

    /// Every item in the table (tests only: to prove a refused request wrote nothing).
    pub async fn items(&self) -> Vec<HashMap<String, AttributeValue>> {
        let mut out = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .clients
                .dynamodb
                .scan()
                .table_name(&self.res.table_name)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .expect("scan");
            out.extend(page.items.unwrap_or_default());
            match page.last_evaluated_key {
                Some(k) => start = Some(k),
                None => break,
            }
        }
        out.sort_by_key(|i| format!("{:?}{:?}", i.get("PK"), i.get("SK")));
        out
    }
}

async fn spy(clients: &Clients, res: &LocalResources) -> String {
    let name = format!("{}-spy", res.prefix);
    let q = clients.sqs.create_queue().queue_name(&name).send().await.expect("spy queue");
    let url = q.queue_url().unwrap_or_default().to_string();
    let attrs = clients
        .sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("spy queue arn");
    let arn = attrs.attributes().and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn)).cloned().unwrap_or_default();
    clients
        .eventbridge
        .put_rule()
        .name(&name)
        .event_bus_name(&res.bus_name)
        .event_pattern(r#"{"source":["attendance.cases"]}"#)
        .send()
        .await
        .expect("spy rule");
    clients
        .eventbridge
        .put_targets()
        .rule(&name)
        .event_bus_name(&res.bus_name)
        .targets(aws_sdk_eventbridge::types::Target::builder().id("spy").arn(arn).build().expect("target"))
        .send()
        .await
        .expect("spy target");
    url
}

/// Post a presigned upload form to the emulator, as a browser does; the HTTP status S3 answered.
pub async fn post_form(upload: &Value, bytes: Vec<u8>, content_type: &str) -> u16 {
    let mut form = reqwest::multipart::Form::new();
    for (k, v) in upload["fields"].as_object().expect("presigned fields") {
        form = form.text(k.clone(), v.as_str().unwrap_or_default().to_string());
    }
    let part = reqwest::multipart::Part::bytes(bytes).file_name("upload").mime_str(content_type).expect("mime type");
    form = form.part("file", part);
    let resp = reqwest::Client::new()
        .post(upload["url"].as_str().expect("presigned url"))
        .multipart(form)
        .send()
        .await
        .expect("POST to the emulator");
    resp.status().as_u16()
}

/// The `Enrol-Signature` header ENROL sends with `body` at Unix time `t` (the local secret).
pub fn enrol_signature(body: &[u8], t: i64) -> String {
    format!("t={t},v1={}", nen_webhook::signature::sign(cms_local::resources::LOCAL_ENROL_SECRET.as_bytes(), t, body))
}

/// A non-enrolment notification as ENROL sends it: student `nsn` called `name` (born 2013-06-15)
/// left school 1001, last attended 30 October 2026; a caregiver, an address in Ahipara (catchment
/// C01, provider P01) and a comment. Every detail in it must stay out of logs, events and emails.
pub fn nen_notification(id: &str, nsn: &str, name: &str) -> Value {
    serde_json::json!({
        "id": id,
        "type": "non_enrolment_notification",
        "occurredAt": "2026-11-20T02:00:00Z",
        "data": {
            "nsn": nsn,
            "student": {"fullName": name, "dateOfBirth": "2013-06-15"},
            "lastSchoolId": demo::SCHOOL,
            "lastDayOfAttendance": "2026-10-30",
            "withdrawalReason": "Continuous absence",
            "caregivers": [{"name": "Aroha Testparent", "relationship": "mother", "phone": "027 555 0199"}],
            "addresses": [{"street": "5 Test Road", "suburb": "Ahipara", "town": "Kaitaia", "postcode": "0481"}],
            "comments": "Grandmother in Kaitaia may know where the family is staying."
        }
    })
}

/// The endpoints and states the tests share (one method each; no test file keeps its own copy).
impl TestEnv {
    /// `POST /enrol/events` as ENROL calls it: `raw` signed now.
    pub async fn deliver_enrol_raw(&self, raw: &str) -> Reply {
        let sig = enrol_signature(raw.as_bytes(), chrono::Utc::now().timestamp());
        self.call_full(None, "POST", "/enrol/events", vec![("Enrol-Signature".into(), sig)], Some(raw.to_string())).await
    }

    /// `POST /enrol/events` with `body`, signed.
    pub async fn deliver_enrol(&self, body: &Value) -> Reply {
        self.deliver_enrol_raw(&body.to_string()).await
    }

    /// The NEN case (in CIT review) that ENROL's notification `body` makes; its id.
    pub async fn nen_case(&self, body: &Value) -> String {
        let r = self.deliver_enrol(body).await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        r.body["caseId"].as_str().expect("caseId").to_string()
    }

    /// `POST /referrals` with `form`, submitted at once.
    pub async fn submit_new(&self, user: &str, mut form: Value) -> Reply {
        form["submit"] = serde_json::json!(true);
        self.call(user, "POST", "/referrals", Some(form)).await
    }

    /// A CA case of school 1001 (the complete form, contact-1001 its Primary Contact), submitted
    /// and allocated to P01's queue (events drained); its id.
    pub async fn allocated_case(&self) -> String {
        let r = self.submit_new(demo::LEAD, complete_form(demo::PRIMARY_CONTACT)).await;
        assert_eq!(r.status, 201, "{:?}", r.body);
        let id = r.body["caseId"].as_str().expect("caseId").to_string();
        self.drain().await;
        id
    }

    /// The case's version as `user` sees it (`GET /cases/{id}`, 200 checked).
    pub async fn version(&self, user: &str, case_id: &str) -> Value {
        let c = self.call(user, "GET", &format!("/cases/{case_id}"), None).await;
        assert_eq!(c.status, 200, "{:?}", c.body);
        c.body["version"].clone()
    }

    /// The case's Case Manager consults the school about `about` today (201 checked): what a
    /// provider step (moving to Transition, an escalation) needs first.
    pub async fn consult(&self, case_id: &str, about: &str) {
        let today = cms_domain::nz_date(chrono::Utc::now()).to_string();
        let body = serde_json::json!({"about": about, "heldOn": today, "notes": "Checked in with the Attendance Lead"});
        let r = self.call(demo::CASE_MANAGER, "POST", &format!("/cases/{case_id}/consultations"), Some(body)).await;
        assert_eq!(r.status, 201, "{:?}", r.body);
    }

    /// `POST /cases/{id}/status` with `body` as it is.
    pub async fn status(&self, user: &str, case_id: &str, body: Value) -> Reply {
        self.call(user, "POST", &format!("/cases/{case_id}/status"), Some(body)).await
    }
}

/// A complete CA request form (fictional student) for school 1001 with its primary contact.
pub fn complete_form(primary_contact: &str) -> Value {
    serde_json::json!({
        "student": {"fullName": STUDENT_NAME, "dateOfBirth": "2014-05-01", "nsn": nsn_for(STUDENT_NAME, "2014-05-01"), "yearLevel": 7, "international": false},
        "whanau": [{"name": "Hinewai Testcaregiver", "relationship": "mother", "phone": "021 555 0101", "email": "whanau@example.nz"}],
        "homeAddress": {"street": "12 Kowhai Lane", "suburb": "Testville", "town": "Whangārei", "postcode": "0110"},
        "reason": "Chronic absence: attended 55% of half-days this term.",
        "actionsTaken": "Individual attendance plan, two whānau hui, school counsellor.",
        "absencePattern": "whole_days",
        "primaryContactUserId": primary_contact,
    })
}

/// A submitted CA case of school 1001 for `student` (contact-1001 its Primary Contact), allocated to
/// P01 and assigned to cm-p01 (Open); the assignment's events are not yet delivered. Returns its id.
pub async fn open_case(env: &TestEnv, student: &str) -> String {
    let mut form = complete_form(demo::PRIMARY_CONTACT);
    form["student"]["fullName"] = serde_json::json!(student);
    form["student"]["nsn"] = serde_json::json!(nsn_for(student, "2014-05-01"));
    let r = env.submit_new(demo::LEAD, form).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let id = r.body["caseId"].as_str().unwrap().to_string();
    env.drain().await;
    let v = env.version(demo::CASE_MANAGER, &id).await;
    let a = env.status(demo::CASE_MANAGER, &id, serde_json::json!({"action": "assign", "version": v})).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    id
}

/// A fictional NSN for a fictional student, the same for the same name and date of birth (so a
/// test names "the same student" by name and date of birth, and the request carries their NSN).
pub fn nsn_for(name: &str, dob: &str) -> String {
    let mut h: u64 = 1469598103934665603;
    for b in name.bytes().chain(dob.bytes()) {
        h = (h ^ b as u64).wrapping_mul(1099511628211);
    }
    format!("{}", 100_000_000 + h % 900_000_000)
}

/// The student keys of the local environment (the secret infra/local puts in the emulator).
pub fn student_keys() -> cms_domain::student::StudentKeys {
    cms_domain::student::StudentKeys::new(cms_local::resources::LOCAL_STUDENT_KEY_SECRET.as_bytes()).expect("a secret")
}

/// The fictional student's name: it must never appear in an event, a log line or an email.
pub const STUDENT_NAME: &str = "Tamati Testchild";

fn endpoint() -> String {
    std::env::var("AWS_ENDPOINT_URL").expect("AWS_ENDPOINT_URL")
}

/// Every email the emulator recorded: (to, subject, body). Read from the emulator layer's
/// `/_local/outbox` (only the SES messages); a bare moto_server (`MOTO_PLAIN=1`) has no such
/// endpoint, so there they come from the whole state, `/moto-api/data.json`.
pub async fn all_emails() -> Vec<(Vec<String>, String, String)> {
    let outbox = reqwest::get(format!("{}/_local/outbox", endpoint())).await.expect("outbox");
    let messages = if outbox.status() != reqwest::StatusCode::NOT_FOUND {
        let v: Value = outbox.error_for_status().expect("outbox").json().await.expect("outbox json");
        v["messages"].clone()
    } else {
        // moto builds data.json from live objects without a lock: when another test changes the
        // emulator at that moment (e.g. adds an EventBridge rule), it answers 500. Ask again.
        let mut data = Value::Null;
        for attempt in 1..=10 {
            let r = reqwest::get(format!("{}/moto-api/data.json", endpoint())).await.expect("data.json");
            match r.json::<Value>().await {
                Ok(v) => {
                    data = v;
                    break;
                }
                Err(e) if attempt == 10 => panic!("data.json: {e}"),
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
            }
        }
        data["ses"]["Message"].clone()
    };
    messages
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|m| {
            let to = m["destinations"]["ToAddresses"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect();
            (to, m["subject"].as_str().unwrap_or_default().to_string(), m["body"].as_str().unwrap_or_default().to_string())
        })
        .collect()
}

/// The emails that link to this case (`…/cases/<id>` at the end of a line).
pub async fn emails_for(case_id: &str) -> Vec<(Vec<String>, String, String)> {
    all_emails().await.into_iter().filter(|(_, _, body)| body.contains(&format!("/cases/{case_id}\n"))).collect()
}
