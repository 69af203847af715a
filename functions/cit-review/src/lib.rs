//! `cit-review`: the Central Investigations Team's decisions on a case.
//!
//! - `GET /cases/{id}/allocation` — the catchment provider suggested by the student's address
//! - `POST /cases/{id}/allocation` `{providerId?, version?}` — allocate a NEN case in CIT review to
//!   a provider (the suggestion when `providerId` is left out); status → Provider Queue
//! - `POST /cases/{id}/close` `{reason, version?}` — close a NEN case that needs no provider
//! - `POST /cases/{id}/transfer` `{providerId, reason, version?}` — move an active case to another
//!   provider; the old provider loses access, the new one sees the full history
//!
//! - `POST /cases/{id}/possible-duplicate` `{sameStudent, version?}` — the provider's staff or CIT
//!   decide whether a case flagged `possibleDuplicateOf` (same name and date of birth as another
//!   case, another NSN) is the same student; recorded, flag cleared
//!
//! The CIT queue itself is `GET /cases?status=cit_review` (case-query), oldest first.

use cms_aws::{DynamoStore, EventBridgeBus};
use cms_domain::actor::{Actor, Role};
use cms_domain::case::{Case, CaseChange};
use cms_domain::catchment::{Locality, Provider};
use cms_domain::cit::{self, CitError};
use cms_domain::ids::{CaseId, ProviderId};
use cms_domain::intake::{self, DuplicateError};
use cms_domain::ports::{AuditLog, CaseStore, Clock, EventBus, ReadLog, ReferenceData, SystemClock};
use cms_http::usecase::{change_case, visible, Basis, Change, Outcome};
use cms_http::Route;
use cms_http::{json, Problem};
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::json;

/// What this handler needs from outside (the store, the bus, the clock).
pub use cms_domain::ports::CaseServices as Deps;

pub type AwsDeps = Deps<DynamoStore, EventBridgeBus, SystemClock>;

pub fn aws_deps(sdk: &aws_config::SdkConfig, env: &cms_aws::Env) -> AwsDeps {
    cms_aws::case_services(sdk, env)
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct AllocationBody {
    provider_id: Option<String>,
    version: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CloseBody {
    reason: Option<String>,
    version: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct DuplicateBody {
    same_student: Option<bool>,
    version: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct TransferBody {
    provider_id: Option<String>,
    reason: Option<String>,
    version: Option<u64>,
}

pub async fn handle<S, B, C>(deps: &Deps<S, B, C>, req: Request) -> Response<Body>
where
    S: CaseStore + ReferenceData + AuditLog + ReadLog,
    B: EventBus,
    C: Clock,
{
    cms_http::answer(&req, route(deps, &req)).await
}

fn cit_problem(e: CitError) -> Problem {
    match e {
        CitError::NotCit => Problem::forbidden(&e.to_string()),
        CitError::ReasonRequired => {
            Problem::invalid_field("reason", "is required: say why in 1 to 500 characters, without control characters")
        }
        CitError::NotInReview(_) | CitError::NotTransferable(_) | CitError::SameProvider => Problem::conflict(&e.to_string()),
    }
}

async fn route<S, B, C>(deps: &Deps<S, B, C>, req: &Request) -> Result<Response<Body>, Problem>
where
    S: CaseStore + ReferenceData + AuditLog + ReadLog,
    B: EventBus,
    C: Clock,
{
    let actor = cms_http::actor(req)?;
    if Route::of(req) == Some(Route::ResolveDuplicate) {
        return resolve_duplicate(deps, req, &actor).await;
    }
    // CIT operations: every other role is refused before anything is read
    if actor.role() != Role::Cit {
        return Err(Problem::forbidden("Only the Central Investigations Team can allocate, close or transfer cases here."));
    }
    let id = cms_http::path_id(req, "id", CaseId::parse, "case")?;
    let case = deps.store.case(&id).await?.ok_or_else(|| Problem::not_found("case"))?;
    match Route::of(req) {
        Some(Route::AllocationView) => {
            cms_http::audit_read(&deps.store, &actor, &case.id, "case.allocation.read", req, deps.clock.now()).await?;
            let suggestion = suggest(&deps.store, &case).await?;
            Ok(json(200, &suggestion_json(&case, suggestion)))
        }
        Some(Route::Allocate) => {
            let body: AllocationBody = cms_http::optional_json_body(req)?.unwrap_or_default();
            check_version(&case, body.version)?;
            let provider = match body.provider_id {
                Some(p) => provider(&deps.store, &p).await?,
                None => match suggest(&deps.store, &case).await? {
                    Some((_, p)) => p,
                    None => {
                        return Err(Problem::invalid_field("providerId", "no catchment matches the student's address: choose the provider"))
                    }
                },
            };
            let decide = |c: &Case| cit::allocate(c, &actor, &provider, deps.clock.now()).map_err(cit_problem);
            commit(deps, req, &actor, case, body.version, "allocated", "case.cit.allocate", decide).await
        }
        Some(Route::CitClose) => {
            let body: CloseBody = cms_http::json_body(req)?;
            check_version(&case, body.version)?;
            let reason = body.reason.as_deref().unwrap_or_default();
            let decide = |c: &Case| cit::close(c, &actor, reason, deps.clock.now()).map_err(cit_problem);
            commit(deps, req, &actor, case, body.version, "closed", "case.cit.close", decide).await
        }
        Some(Route::Transfer) => {
            let body: TransferBody = cms_http::json_body(req)?;
            check_version(&case, body.version)?;
            let to = match body.provider_id {
                Some(p) => provider(&deps.store, &p).await?,
                None => return Err(Problem::invalid_field("providerId", "is required: the provider to transfer to")),
            };
            let reason = body.reason.as_deref().unwrap_or_default();
            let decide = |c: &Case| cit::transfer(c, &actor, &to, reason, deps.clock.now()).map_err(cit_problem);
            commit(deps, req, &actor, case, body.version, "transferred", "case.cit.transfer", decide).await
        }
        _ => Err(Problem::method_not_allowed()),
    }
}

/// The provider's staff or CIT: same student or not. Others who see the case 403, the rest 404.
async fn resolve_duplicate<S, B, C>(deps: &Deps<S, B, C>, req: &Request, actor: &Actor) -> Result<Response<Body>, Problem>
where
    S: CaseStore + ReferenceData + AuditLog + ReadLog,
    B: EventBus,
    C: Clock,
{
    let id = cms_http::path_id(req, "id", CaseId::parse, "case")?;
    let case = visible(&deps.store, actor, &id, None).await?;
    let body: DuplicateBody = cms_http::json_body(req)?;
    let same = body.same_student.ok_or_else(|| {
        Problem::invalid_field("sameStudent", "is required: true when both cases are the same student, false when they are not")
    })?;
    check_version(&case, body.version)?;
    let decide = |c: &Case| {
        intake::resolve_duplicate(c, actor, same, deps.clock.now()).map_err(|e| match e {
            DuplicateError::NotPermitted => Problem::forbidden(&e.to_string()),
            DuplicateError::NotFlagged => Problem::conflict(&e.to_string()),
        })
    };
    let action = if same { "case.duplicate.confirmed" } else { "case.duplicate.dismissed" };
    commit(deps, req, actor, case, body.version, "duplicate resolved", action, decide).await
}

fn check_version(case: &Case, version: Option<u64>) -> Result<(), Problem> {
    match version {
        Some(v) if v != case.version => Err(Problem::conflict("The case was changed after you opened it. Reload it and try again.")
            .with_current(json!({ "version": case.version, "status": case.status.as_str() }))),
        _ => Ok(()),
    }
}

async fn provider<S: ReferenceData>(store: &S, id: &str) -> Result<Provider, Problem> {
    let pid = ProviderId::parse(id).map_err(|_| Problem::invalid_field("providerId", "is not a provider id"))?;
    store.provider(&pid).await?.ok_or_else(|| Problem::invalid_field("providerId", "no provider with that id exists"))
}

/// The first locality of the student's address that maps to a catchment, and its provider.
async fn suggest<S: ReferenceData>(store: &S, case: &Case) -> Result<Option<(Locality, Provider)>, Problem> {
    for key in cit::locality_candidates(case) {
        if let Some(loc) = store.locality(&key).await? {
            if let Some(c) = store.catchment(&loc.catchment_id).await? {
                if let Some(p) = store.provider(&c.provider_id).await? {
                    return Ok(Some((loc, p)));
                }
            }
        }
    }
    Ok(None)
}

fn suggestion_json(case: &Case, s: Option<(Locality, Provider)>) -> serde_json::Value {
    match s {
        Some((loc, p)) => json!({
            "caseId": case.id,
            "suggestedProviderId": p.id,
            "suggestedProviderName": p.name,
            "catchmentId": loc.catchment_id,
            "matchedLocality": loc.name,
        }),
        None => {
            json!({ "caseId": case.id, "suggestedProviderId": null, "message": "No catchment matches the student's address; choose the provider." })
        }
    }
}

/// Decide and commit through the one use case (cms_http::usecase): against the version the
/// caller sent, if any (a moved version is theirs to see), else on the case as it is.
#[allow(clippy::too_many_arguments)]
async fn commit<S, B, C>(
    deps: &Deps<S, B, C>,
    req: &Request,
    actor: &Actor,
    case: Case,
    version: Option<u64>,
    what: &str,
    audit_action: &str,
    decide: impl Fn(&Case) -> Result<CaseChange, Problem>,
) -> Result<Response<Body>, Problem>
where
    S: CaseStore,
    B: EventBus,
    C: Clock,
{
    let id = case.id.clone();
    let change = Change {
        actor,
        case_id: &id,
        basis: version.map_or(Basis::Latest, Basis::Version),
        action: audit_action,
        idempotency: None,
        answer: &|_| (200, serde_json::Value::Null),
        loaded: Some(case),
    };
    match change_case(&deps.store, &deps.bus, &deps.clock, req, change, decide).await? {
        Outcome::Done(change) => {
            tracing::info!(case_id = %change.case.id, user_id = %actor.user_id(), action = what, "CIT decision");
            Ok(json(200, &change.case))
        }
        Outcome::Replayed(resp) => Ok(resp),
    }
}
