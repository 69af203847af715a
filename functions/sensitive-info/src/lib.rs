//! `sensitive-info`: a case's safety notes and health information.
//!
//! - `GET /cases/{id}/sensitive` — the parts the caller may read: safety notes (school and provider
//!   staff on the case, CIT, prosecutions) and health information (provider staff on the case, CIT,
//!   prosecutions). Parts the caller may not read are absent, not empty.
//! - `POST /cases/{id}/safety-notes` `{text}` — school or provider staff on the case.
//! - `POST /cases/{id}/health` `{text}` — provider staff on the case.
//!
//! Every read and write is recorded in the case's audit trail; the text never reaches events,
//! emails or logs.

use cms_aws::DynamoStore;
use cms_domain::access::can_view_case;
use cms_domain::ids::CaseId;
use cms_domain::ports::{AuditLog, CaseStore, Clock, ReadLog, SensitiveStore, StoreError, SystemClock};
use cms_domain::sensitive::{add_note, readable_kinds, SensitiveError, SensitiveKind};
use cms_http::{json, Problem};
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::json;

pub struct Deps<S, C> {
    pub store: S,
    pub clock: C,
}

pub type AwsDeps = Deps<DynamoStore, SystemClock>;

pub fn aws_deps(sdk: &aws_config::SdkConfig, env: &cms_aws::Env) -> AwsDeps {
    Deps { store: DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), &env.table_name), clock: SystemClock }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoteBody {
    text: Option<String>,
}

pub async fn handle<S, C>(deps: &Deps<S, C>, req: Request) -> Response<Body>
where
    S: CaseStore + SensitiveStore + AuditLog + ReadLog,
    C: Clock,
{
    cms_http::answer(&req, route(deps, &req)).await
}

fn store_problem(e: StoreError) -> Problem {
    match e {
        StoreError::Conflict => Problem::conflict("The case was changed by someone else at the same moment. Please try again."),
        other => {
            tracing::error!(error = %other, "store failure");
            Problem::unavailable()
        }
    }
}

async fn route<S, C>(deps: &Deps<S, C>, req: &Request) -> Result<Response<Body>, Problem>
where
    S: CaseStore + SensitiveStore + AuditLog + ReadLog,
    C: Clock,
{
    let actor = cms_http::actor(req)?;
    let id = cms_http::path_id(req, "id", CaseId::parse, "case")?;
    let case = match deps.store.case(&id).await.map_err(store_problem)? {
        Some(c) if can_view_case(&actor, &c) => c,
        _ => return Err(Problem::not_found("case")),
    };
    let kind = match cms_http::route_key(req).as_str() {
        "GET /cases/{id}/sensitive" => {
            let kinds = readable_kinds(&actor, &case);
            if kinds.is_empty() {
                return Err(Problem::forbidden("Your role cannot read safety notes or health information."));
            }
            cms_http::audit_read(&deps.store, &actor, &case.id, "case.sensitive.read", req, deps.clock.now()).await?;
            let mut out = serde_json::Map::new();
            out.insert("caseId".into(), json!(case.id));
            for k in kinds {
                let notes = deps.store.sensitive_notes(&case.id, k).await.map_err(store_problem)?;
                let key = match k {
                    SensitiveKind::SafetyNote => "safetyNotes",
                    SensitiveKind::Health => "health",
                };
                out.insert(key.into(), json!(notes));
            }
            return Ok(json(200, &out));
        }
        "POST /cases/{id}/safety-notes" => SensitiveKind::SafetyNote,
        "POST /cases/{id}/health" => SensitiveKind::Health,
        _ => return Err(Problem::method_not_allowed()),
    };
    let body: NoteBody = cms_http::json_body(req)?;
    let idem = cms_http::idempotency::from_request(req, &actor)?;
    for attempt in 0..4 {
        // the same Idempotency-Key and request again (or committed meanwhile): its first answer
        if let Some(i) = &idem {
            if let Some(resp) = i.replay(&deps.store).await? {
                return Ok(resp);
            }
        }
        if attempt == 3 {
            break;
        }
        let current = if attempt == 0 {
            case.clone()
        } else {
            deps.store.case(&id).await.map_err(store_problem)?.ok_or_else(|| Problem::not_found("case"))?
        };
        let (mut change, note) =
            add_note(&current, &actor, kind, body.text.as_deref().unwrap_or_default(), deps.clock.now()).map_err(|e| match e {
                SensitiveError::NotVisible => Problem::not_found("case"),
                SensitiveError::NotPermitted => Problem::forbidden(&e.to_string()),
                SensitiveError::Invalid => Problem::invalid_field("text", "must be 1 to 4000 characters of text"),
            })?;
        let answer = json!({ "id": note.id, "kind": note.kind, "at": note.at, "caseVersion": change.case.version });
        if let Some(i) = &idem {
            change.markers.push(i.marker(201, &answer, deps.clock.now()));
        }
        let action = match kind {
            SensitiveKind::SafetyNote => "case.safety_note.add",
            SensitiveKind::Health => "case.health.add",
        };
        let change = change.audited(cms_http::audit_record(&actor, &case.id, action, req, deps.clock.now()));
        match deps.store.add_sensitive(&change, &note).await {
            Ok(()) => {
                tracing::info!(case_id = %case.id, kind = ?kind, "sensitive note added");
                return Ok(json(201, &answer));
            }
            // a concurrent change of the case: the note is independent of it, so add it again on top
            Err(StoreError::Conflict) => continue,
            Err(e) => return Err(store_problem(e)),
        }
    }
    Err(Problem::conflict("The case is being changed by someone else right now. Please try again."))
}
