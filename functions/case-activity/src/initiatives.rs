//! Provider initiatives for schools and groups of students ([`cms_domain::initiatives`]):
//! - `POST /providers/{id}/initiatives` — `{title, purpose, schoolIds, group?, startsOn, endsOn?}`:
//!   the provider's staff record one (each school one the provider serves); 201.
//! - `PUT /providers/{id}/initiatives/{initiativeId}` — `{outcome, endsOn?, version}`: its outcome,
//!   conditional on the version the caller saw (409 when stale); 200.
//!
//! An initiative names no student: no case, no audit chain of a child's record; who made each
//! change is kept on it.

use crate::Deps;
use cms_domain::actor::Actor;
use cms_domain::ids::{EntryId, ProviderId, SchoolId};
use cms_domain::initiatives::{self, InitiativeError, InitiativeInput};
use cms_domain::ports::{Clock, InitiativeStore, ReferenceData};
use cms_domain::referral::FieldError;
use cms_http::{json, Problem};
use lambda_http::{Body, Request, Response};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct StartBody {
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    purpose: Option<String>,
    #[serde(default)]
    school_ids: Option<Vec<String>>,
    #[serde(default)]
    group: Option<String>,
    #[serde(default)]
    starts_on: Option<String>,
    #[serde(default)]
    ends_on: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct OutcomeBody {
    #[serde(default)]
    outcome: Option<String>,
    #[serde(default)]
    ends_on: Option<String>,
    #[serde(default)]
    version: Option<serde_json::Value>,
}

fn problem(e: InitiativeError) -> Problem {
    let msg = e.to_string();
    match e {
        InitiativeError::NotPermitted => Problem::forbidden(&msg),
        InitiativeError::Required(f) | InitiativeError::TooLong(f, _) | InitiativeError::ControlCharacters(f) => {
            Problem::invalid_field(f, &msg)
        }
        InitiativeError::Schools | InitiativeError::NotServed(_) => Problem::invalid_field("schoolIds", &msg),
        InitiativeError::EndsBeforeStart => Problem::invalid_field("endsOn", &msg),
    }
}

/// The provider, if the caller is one of its staff (403 in the policy's words otherwise; 404 for
/// a provider that does not exist).
async fn own_provider<S: ReferenceData>(store: &S, actor: &Actor, req: &Request) -> Result<cms_domain::catchment::Provider, Problem> {
    let id = cms_http::path_id(req, "id", ProviderId::parse, "provider")?;
    if !initiatives::is_staff(actor, &id) {
        return Err(problem(InitiativeError::NotPermitted));
    }
    store.provider(&id).await?.ok_or_else(|| Problem::not_found("provider"))
}

pub async fn start<S: ReferenceData + InitiativeStore, B, C: Clock>(
    deps: &Deps<S, B, C>,
    req: &Request,
    actor: &Actor,
) -> Result<Response<Body>, Problem> {
    let provider = own_provider(&deps.store, actor, req).await?;
    let body: StartBody = cms_http::json_body(req)?;
    let mut errors = Vec::new();
    let starts_on = crate::date(body.starts_on.as_deref(), "startsOn", &mut errors);
    let ends_on = crate::optional_date(body.ends_on.as_deref(), "endsOn", &mut errors);
    let ids = match body.school_ids.as_ref().map(|v| v.iter().map(|s| SchoolId::parse(s.trim())).collect::<Result<Vec<_>, _>>()) {
        Some(Ok(ids)) if (1..=initiatives::MAX_SCHOOLS).contains(&ids.len()) => Some(ids),
        _ => {
            errors.push(FieldError { field: "schoolIds".into(), message: InitiativeError::Schools.to_string() });
            None
        }
    };
    let (Some(starts_on), Some(ids)) = (starts_on, ids) else {
        return Err(Problem::invalid(errors));
    };
    if !errors.is_empty() {
        return Err(Problem::invalid(errors));
    }
    let found = deps.store.lookup(&cms_domain::ports::Wanted { schools: ids.clone(), ..Default::default() }).await?;
    let schools = ids.into_iter().map(|id| (id.clone(), found.schools.get(&id).cloned())).collect();
    let input = InitiativeInput {
        title: body.title.as_deref(),
        purpose: body.purpose.as_deref(),
        schools,
        group: body.group.as_deref(),
        starts_on,
        ends_on,
    };
    let i = initiatives::start(actor, &provider, input, deps.clock.now()).map_err(problem)?;
    deps.store.create_initiative(&i).await?;
    tracing::info!(provider_id = %provider.id, role = %actor.role(), schools = i.school_ids.len(), "initiative recorded");
    Ok(json(201, &i))
}

pub async fn record_outcome<S: ReferenceData + InitiativeStore, B, C: Clock>(
    deps: &Deps<S, B, C>,
    req: &Request,
    actor: &Actor,
) -> Result<Response<Body>, Problem> {
    let provider = own_provider(&deps.store, actor, req).await?;
    let id = cms_http::path_id(req, "initiativeId", EntryId::parse, "initiative")?;
    let body: OutcomeBody = cms_http::json_body(req)?;
    let expected = cms_http::expected_version(req, body.version.as_ref())?;
    let mut errors = Vec::new();
    let ends_on = crate::optional_date(body.ends_on.as_deref(), "endsOn", &mut errors);
    if !errors.is_empty() {
        return Err(Problem::invalid(errors));
    }
    let current = deps.store.initiative(&provider.id, &id).await?.ok_or_else(|| Problem::not_found("initiative"))?;
    if current.version != expected {
        return Err(Problem::conflict(cms_http::CHANGED).with_current(serde_json::to_value(&current).unwrap_or_default()));
    }
    let next = initiatives::record_outcome(&current, actor, body.outcome.as_deref(), ends_on).map_err(problem)?;
    deps.store.update_initiative(&next, expected).await?;
    tracing::info!(provider_id = %provider.id, role = %actor.role(), "initiative outcome recorded");
    Ok(json(200, &next))
}
