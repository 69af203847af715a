//! `nen-webhook`: `POST /enrol/events`, called by ENROL (no portal token on this route).
//!
//! 1. Authenticate: HMAC-SHA256 signature over `"{t}.{raw body}"` ([`signature`]), either of two
//!    secrets, timestamp within 5 minutes. Anything else → 401 and nothing stored. Nothing of the
//!    body is read before this (an unsigned body that is not even text is a 401, not a 400).
//! 2. Parse: `Content-Type` other than `application/json` → 415; malformed JSON, missing fields,
//!    impossible or non-canonical dates and NSNs, an `occurredAt` that is not an RFC 3339 instant
//!    or is in the future → 400 with field messages.
//! 3. Exactly once on ENROL's notification id: the first delivery's answer is stored with a digest
//!    of its body in the same transaction as its effect; a repeat gets the same answer, a different
//!    body under a used id gets 409.
//! 4. `non_enrolment_notification` → a NEN case in CIT review (`NenReceived`, `CaseCreated`), or,
//!    when the student (by NSN) already has an active case, a record on that case: one active case
//!    per student. `student_enrolled` → remembered for the student (a closed case may then be
//!    reopened by that school's request); the student's paused case reopens; an active NEN case
//!    moves to the enrolling school, which may then convert it with a CA request.

pub mod signature;

use async_trait::async_trait;
use cms_aws::{DynamoStore, EventBridgeBus, SecretsManagerStudentKeys};
use cms_domain::audit::AuditRecord;
use cms_domain::enrol::{self, delivery_marker, fingerprint, on_enrolled, receive_nen, Delivery, Notification};
use cms_domain::ids::CaseId;
use cms_domain::ports::{AuditLog, CaseStore, Clock, EventBus, ReferenceData, StudentKeySource, SystemClock};
use cms_domain::usecase::{commit_change, held_or_read, Publish, Ran, Step};
use cms_http::usecase::unavailable;
use cms_http::Route;
use cms_http::{json, Problem};
use lambda_http::{Body, Request, Response};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tokio::sync::RwLock;

/// Where the signing secrets come from.
#[async_trait]
pub trait SigningSecrets: Send + Sync {
    async fn secrets(&self) -> Result<Vec<Vec<u8>>, String>;
}

/// Fixed secrets (tests, tools).
pub struct StaticSecrets(pub Vec<Vec<u8>>);

#[async_trait]
impl SigningSecrets for StaticSecrets {
    async fn secrets(&self) -> Result<Vec<Vec<u8>>, String> {
        Ok(self.0.clone())
    }
}

/// The secrets in AWS Secrets Manager (`{"current": "...", "previous": "..."}`), cached for five
/// minutes so a rotation reaches running instances without a redeploy.
pub struct SecretsManagerSecrets {
    client: aws_sdk_secretsmanager::Client,
    secret_id: String,
    cache: RwLock<Option<(Instant, Vec<Vec<u8>>)>>,
}

const SECRET_CACHE: Duration = Duration::from_secs(300);

impl SecretsManagerSecrets {
    pub fn new(client: aws_sdk_secretsmanager::Client, secret_id: impl Into<String>) -> Self {
        SecretsManagerSecrets { client, secret_id: secret_id.into(), cache: RwLock::new(None) }
    }
}

#[async_trait]
impl SigningSecrets for SecretsManagerSecrets {
    async fn secrets(&self) -> Result<Vec<Vec<u8>>, String> {
        if let Some((at, s)) = self.cache.read().await.as_ref() {
            if at.elapsed() < SECRET_CACHE {
                return Ok(s.clone());
            }
        }
        let out = self
            .client
            .get_secret_value()
            .secret_id(&self.secret_id)
            .send()
            .await
            .map_err(|e| format!("reading the ENROL secret: {}", aws_sdk_secretsmanager::error::DisplayErrorContext(e)))?;
        let v: Value =
            serde_json::from_str(out.secret_string().unwrap_or_default()).map_err(|_| "the ENROL secret is not JSON".to_string())?;
        let secrets: Vec<Vec<u8>> = ["current", "previous"]
            .iter()
            .filter_map(|k| v.get(k).and_then(Value::as_str))
            .filter(|s| !s.is_empty())
            .map(|s| s.as_bytes().to_vec())
            .collect();
        if secrets.is_empty() {
            return Err("the ENROL secret has no current value".into());
        }
        *self.cache.write().await = Some((Instant::now(), secrets.clone()));
        Ok(secrets)
    }
}

pub struct Deps<S, B, C, K, I = SecretsManagerStudentKeys> {
    pub store: S,
    pub bus: B,
    pub clock: C,
    pub secrets: K,
    /// The student keys (keyed HMAC of the NSN): find the student's active case and cases.
    pub keys: I,
}

pub type AwsDeps = Deps<DynamoStore, EventBridgeBus, SystemClock, SecretsManagerSecrets, SecretsManagerStudentKeys>;

pub fn aws_deps(sdk: &aws_config::SdkConfig, env: &cms_aws::Env) -> AwsDeps {
    Deps {
        store: DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), &env.table_name),
        bus: EventBridgeBus::new(aws_sdk_eventbridge::Client::new(sdk), &env.bus_name),
        clock: SystemClock,
        secrets: SecretsManagerSecrets::new(
            aws_sdk_secretsmanager::Client::new(sdk),
            env.enrol_secret_id.clone().unwrap_or_else(|| "enrol-webhook".into()),
        ),
        keys: SecretsManagerStudentKeys::new(
            aws_sdk_secretsmanager::Client::new(sdk),
            env.student_key_secret_id.clone().unwrap_or_else(|| "student-keys".into()),
        ),
    }
}

pub async fn handle<S, B, C, K, I>(deps: &Deps<S, B, C, K, I>, req: Request) -> Response<Body>
where
    S: CaseStore + ReferenceData + AuditLog,
    B: EventBus,
    C: Clock,
    K: SigningSecrets,
    I: StudentKeySource,
{
    cms_http::answer(&req, receive(deps, &req)).await
}

/// How this process is named in the audit trail.
const PROCESS: &str = "nen-webhook";

/// The marker key of a notification id.
fn key_of(notification_id: &str) -> String {
    format!("ENROL#{notification_id}")
}

/// Is the body declared JSON? `application/json`, parameters (`; charset=utf-8`) allowed.
fn is_json(req: &Request) -> bool {
    req.headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
}

/// A repeat of a delivery: the stored answer, or a conflict if the body differs.
fn repeat(stored: (String, Option<String>), fp: &str) -> Result<Value, Problem> {
    let (stored_fp, answer) = stored;
    if stored_fp != fp {
        return Err(Problem::conflict(
            "This notification id was already used for a different notification. Use a new id for a new notification.",
        ));
    }
    Ok(answer.and_then(|a| serde_json::from_str(&a).ok()).unwrap_or(json!({})))
}

async fn receive<S, B, C, K, I>(deps: &Deps<S, B, C, K, I>, req: &Request) -> Result<Response<Body>, Problem>
where
    S: CaseStore + ReferenceData + AuditLog,
    B: EventBus,
    C: Clock,
    K: SigningSecrets,
    I: StudentKeySource,
{
    if Route::of(req) != Some(Route::EnrolEvents) {
        return Err(Problem::method_not_allowed());
    }
    let body = cms_http::body_bytes(req)?;
    let header = req.headers().get(signature::HEADER).and_then(|v| v.to_str().ok());
    let secrets = deps.secrets.secrets().await.map_err(|e| {
        tracing::error!(error = %e, "signing secrets unavailable");
        Problem::unavailable()
    })?;
    let now = deps.clock.now();
    if let Err(e) = signature::verify(header, body, &secrets, now.timestamp()) {
        tracing::warn!(reason = ?e, "ENROL delivery refused: signature");
        return Err(Problem::new(401, "Signature not accepted", e.message()));
    }
    if !is_json(req) {
        return Err(Problem::new(
            415,
            "Unsupported media type",
            "Send the notification as JSON with the header Content-Type: application/json.",
        ));
    }
    // a JSON object only: serde's derived struct would also read an array (fields by position)
    if body.iter().find(|b| !b.is_ascii_whitespace()).is_none_or(|b| *b != b'{') {
        return Err(Problem::bad_request("The body must be a JSON object: an ENROL notification."));
    }
    let delivery: Delivery = serde_json::from_slice(body).map_err(|e| {
        let what = e.to_string();
        let what = what.split(" at line ").next().unwrap_or_default().to_string();
        Problem::bad_request(&if e.is_syntax() || e.is_eof() {
            "The body is not valid JSON.".to_string()
        } else {
            format!("The body is not an ENROL notification: {what}.")
        })
    })?;
    let notification = enrol::parse(&delivery, now, deps.clock.today_nz()).map_err(Problem::invalid)?;
    let fp = fingerprint(body);
    let key = key_of(notification.id());
    if let Some(stored) = deps.store.marker(&key).await.map_err(unavailable)? {
        tracing::info!(notification_id = %notification.id(), "repeated delivery");
        return repeat(stored, &fp).map(|a| json(200, &a));
    }
    match notification {
        Notification::NonEnrolment(nen) => {
            let keys = deps.keys.keys().await.map_err(unavailable)?;
            let who = nen.identity(&keys);
            let key = who.nsn_key.clone().ok_or_else(Problem::unavailable)?;
            // decide again on a conflict: another change to the student's active case, or a
            // concurrent delivery of the same id (then answer as it did)
            let (nen, who, key, fp) = (&nen, &who, &key, &fp);
            let ran = commit_change(&deps.store, &deps.bus, Publish::Committed, |n| async move {
                if n > 0 {
                    if let Some(stored) = deps.store.marker(&key_of(&nen.notification_id)).await? {
                        return Ok(Step::Stop(repeat(stored, fp)));
                    }
                }
                let active = deps.store.active_case(key).await?;
                let mut change = receive_nen(active.as_ref(), nen, who, CaseId::new_ulid(), now);
                let case_id = change.case.id.clone();
                let created = change.expected_version.is_none();
                let answer = if created {
                    // regional staff see the cases of their region's schools
                    change.case.region_id = deps.store.school(&nen.last_school_id).await?.map(|s| s.region_id);
                    json!({ "notificationId": nen.notification_id, "outcome": "case_created", "caseId": case_id })
                } else {
                    json!({ "notificationId": nen.notification_id, "outcome": "recorded_on_active_case", "caseId": case_id })
                };
                change.markers.push(delivery_marker(&nen.notification_id, body, &answer));
                let action = if created { "case.created" } else { "case.nen_recorded" };
                let change = change.audited(AuditRecord::system(PROCESS, &case_id, action, &cms_http::request_id(req), now));
                Ok(Step::commit(change, Ok(answer)))
            })
            .await
            // ENROL retries a 503 later; a 409 would say its notification is wrong
            .map_err(|f| f.into_error(Problem::unavailable, unavailable))?;
            if let Ran::Committed { change, .. } = &ran {
                let action = change.audit.first().map(|a| a.action.as_str()).unwrap_or_default();
                tracing::info!(notification_id = %nen.notification_id, case_id = %change.case.id, action, "NEN received");
            }
            Ok(json(200, &ran.answer()?))
        }
        Notification::StudentEnrolled(e) => {
            let keys = deps.keys.keys().await.map_err(unavailable)?;
            let who = keys.nsn_only(&e.nsn);
            let key = who.nsn_key.clone().ok_or_else(Problem::unavailable)?;
            // remembered first: a closed case may be reopened by a request from this school
            deps.store.record_enrolment(&key, &e.school_id, e.enrolled_on).await.map_err(unavailable)?;
            let region = deps.store.school(&e.school_id).await.map_err(unavailable)?.map(|s| s.region_id);
            let mut updated = 0;
            for candidate in deps.store.cases_for_student(&who).await.map_err(unavailable)? {
                if candidate.student_key.as_ref() != Some(&key) {
                    continue;
                }
                // decide again on a conflict (a concurrent change of the same case)
                let (e, region, id) = (&e, &region, &candidate.id.clone());
                let mut first = Some(candidate);
                let ran = commit_change(&deps.store, &deps.bus, Publish::Committed, |n| {
                    let held = if n == 0 { first.take() } else { None };
                    async move {
                        let Some(case) = held_or_read(&deps.store, id, held).await? else { return Ok(Step::Stop(())) };
                        let Some(change) = on_enrolled(&case, e, region.clone(), now, deps.clock.today_nz()) else {
                            return Ok(Step::Stop(()));
                        };
                        let action = if change.case.status != case.status { "case.reopened" } else { "case.enrolled" };
                        Ok(Step::commit(
                            change.audited(AuditRecord::system(PROCESS, &case.id, action, &cms_http::request_id(req), now)),
                            (),
                        ))
                    }
                })
                .await
                .map_err(|f| f.into_error(Problem::unavailable, unavailable))?;
                if let Ran::Committed { .. } = ran {
                    updated += 1;
                }
            }
            let answer = json!({ "notificationId": e.notification_id, "outcome": "enrolment_recorded", "casesUpdated": updated });
            let marker = delivery_marker(&e.notification_id, body, &answer);
            if !deps.store.claim_marker(&marker).await.map_err(unavailable)? {
                let stored = deps.store.marker(&key_of(&e.notification_id)).await.map_err(unavailable)?.ok_or_else(Problem::unavailable)?;
                return repeat(stored, &fp).map(|a| json(200, &a));
            }
            tracing::info!(notification_id = %e.notification_id, cases_updated = updated, "enrolment recorded");
            Ok(json(200, &answer))
        }
    }
}
