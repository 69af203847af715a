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
use cms_domain::case::{Attached, Case, CaseChange};
use cms_domain::ids::CaseId;
use cms_domain::ports::{AuditLog, CaseStore, Clock, NoEvents, ReadLog, SensitiveStore, SystemClock};
use cms_domain::sensitive::{add_note, readable_kinds, SensitiveError, SensitiveKind};
use cms_http::usecase::{change_case, unavailable, visible, Basis, Change, Outcome};
use cms_http::Route;
use cms_http::{json, Problem};
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::{json, Value};

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

async fn route<S, C>(deps: &Deps<S, C>, req: &Request) -> Result<Response<Body>, Problem>
where
    S: CaseStore + SensitiveStore + AuditLog + ReadLog,
    C: Clock,
{
    let actor = cms_http::actor(req)?;
    let id = cms_http::path_id(req, "id", CaseId::parse, "case")?;
    let case = visible(&deps.store, &actor, &id, None).await?;
    let kind = match Route::of(req) {
        Some(Route::ReadSensitive) => {
            let kinds = readable_kinds(&actor, &case);
            if kinds.is_empty() {
                return Err(Problem::forbidden("Your role cannot read safety notes or health information."));
            }
            cms_http::audit_read(&deps.store, &actor, &case.id, "case.sensitive.read", req, deps.clock.now()).await?;
            let mut out = serde_json::Map::new();
            out.insert("caseId".into(), json!(case.id));
            for k in kinds {
                let notes = deps.store.sensitive_notes(&case.id, k).await.map_err(unavailable)?;
                let key = match k {
                    SensitiveKind::SafetyNote => "safetyNotes",
                    SensitiveKind::Health => "health",
                };
                out.insert(key.into(), json!(notes));
            }
            return Ok(json(200, &out));
        }
        Some(Route::AddSafetyNote) => SensitiveKind::SafetyNote,
        Some(Route::AddHealth) => SensitiveKind::Health,
        _ => return Err(Problem::method_not_allowed()),
    };
    let body: NoteBody = cms_http::json_body(req)?;
    let idem = cms_http::idempotency::from_request(req, &actor)?;
    let action = match kind {
        SensitiveKind::SafetyNote => "case.safety_note.add",
        SensitiveKind::Health => "case.health.add",
    };
    let change = Change {
        actor: &actor,
        case_id: &id,
        // a note is independent of the rest of the case: added on top of whatever it now is
        basis: Basis::Latest,
        action,
        idempotency: idem.as_ref(),
        answer: &|c: &CaseChange| (201, answer(c)),
        loaded: Some(case),
    };
    let decide = |c: &Case| {
        add_note(c, &actor, kind, body.text.as_deref().unwrap_or_default(), deps.clock.now()).map(|(change, _)| change).map_err(|e| match e
        {
            SensitiveError::NotVisible => Problem::not_found("case"),
            SensitiveError::NotPermitted => Problem::forbidden(&e.to_string()),
            SensitiveError::Invalid => Problem::invalid_field("text", "must be 1 to 4000 characters of text"),
        })
    };
    match change_case(&deps.store, &NoEvents, &deps.clock, req, change, decide).await? {
        Outcome::Done(change) => {
            tracing::info!(case_id = %id, kind = ?kind, "sensitive note added");
            Ok(json(201, &answer(&change)))
        }
        Outcome::Replayed(resp) => Ok(resp),
    }
}

/// The answer to an added note: its id, kind and time, and the case's new version (never its text).
fn answer(c: &CaseChange) -> Value {
    match c.attached.iter().find_map(|a| match a {
        Attached::Note(n) => Some(n),
        _ => None,
    }) {
        Some(n) => json!({ "id": n.id, "kind": n.kind, "at": n.at, "caseVersion": c.case.version }),
        None => json!({ "caseVersion": c.case.version }),
    }
}
