//! `update-status`: `POST /cases/{id}/status` — the provider works a case through its lifecycle.
//!
//! Body: `{"action": "assign" | "transition" | "close" | "pause" | "reopen", "version": n,
//! "caseManagerId"?, "reason"?, "note"?, "attestation"?: {childLocated, whanauContacted,
//! safeAndInformedChoice, withdrawnFromSchool}}`. The version the caller is looking at comes from
//! `version` or an `If-Match` header (one is required: 428 without).
//!
//! The status rules are [`cms_domain::lifecycle::decide`]'s; this handler only parses, asks the
//! access policy, and writes the change conditionally on the version (a concurrent change → 409
//! with the case as it now is). `CaseStatusChanged` is published once per change.
//!
//! Answers: 200 the updated case · 400 bad body · 403 a caller who may see the case but not change
//! it · 404 no such case, or not visible to the caller · 409 stale version, or the action is not
//! possible from the case's status · 422 the rules refuse it (closing reasons, pause conditions,
//! who can be assigned) · 428 no version.
//!
//! `POST /providers/{id}/reassignments`: a provider admin moves a Case Manager's cases to another
//! in one request ([`reassign`]).

mod reassign;

use cms_aws::{DynamoStore, EventBridgeBus};
use cms_domain::access::can_view_case;
use cms_domain::actor::{Actor, Role};
use cms_domain::case::Case;
use cms_domain::case::CaseChange;
use cms_domain::ids::{CaseId, UserId};
use cms_domain::lifecycle::{self, Action, CloseReason, Command, LifecycleError, PauseAttestation};
use cms_domain::ports::{AuditLog, CaseStore, Clock, EventBus, ReferenceData, SystemClock};
use cms_http::usecase::{change_case, visible, Basis, Change, Outcome};
use cms_http::Route;
use cms_http::{json, Problem};
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::Value;

/// What this handler needs from outside (the store, the bus, the clock).
pub use cms_domain::ports::CaseServices as Deps;

pub type AwsDeps = Deps<DynamoStore, EventBridgeBus, SystemClock>;

pub fn aws_deps(sdk: &aws_config::SdkConfig, env: &cms_aws::Env) -> AwsDeps {
    cms_aws::case_services(sdk, env)
}

/// Longest note accepted with a status change.
const MAX_NOTE: usize = 2000;

pub async fn handle<S, B, C>(deps: &Deps<S, B, C>, req: Request) -> Response<Body>
where
    S: CaseStore + ReferenceData + AuditLog,
    B: EventBus,
    C: Clock,
{
    cms_http::answer(&req, route(deps, &req)).await
}

async fn route<S, B, C>(deps: &Deps<S, B, C>, req: &Request) -> Result<Response<Body>, Problem>
where
    S: CaseStore + ReferenceData + AuditLog,
    B: EventBus,
    C: Clock,
{
    let actor = cms_http::actor(req)?;
    match Route::of(req) {
        Some(Route::ChangeStatus) => update(deps, req, &actor).await,
        Some(Route::ReassignCases) => reassign::reassign_cases(deps, req, &actor).await,
        _ => Err(Problem::method_not_allowed()),
    }
}

/// The body as sent. Each field is checked by hand so the answer names the field.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct StatusRequest {
    action: Option<String>,
    version: Option<Value>,
    case_manager_id: Option<String>,
    reason: Option<String>,
    note: Option<String>,
    // an object only (a derived struct would also read an array of four booleans)
    #[serde(default, deserialize_with = "cms_domain::referral::objects_only::option")]
    attestation: Option<AttestationForm>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct AttestationForm {
    child_located: Option<bool>,
    whanau_contacted: Option<bool>,
    safe_and_informed_choice: Option<bool>,
    withdrawn_from_school: Option<bool>,
}

async fn update<S, B, C>(deps: &Deps<S, B, C>, req: &Request, actor: &Actor) -> Result<Response<Body>, Problem>
where
    S: CaseStore + ReferenceData + AuditLog,
    B: EventBus,
    C: Clock,
{
    let id = cms_http::path_id(req, "id", CaseId::parse, "case")?;
    let case = visible(&deps.store, actor, &id, None).await?;
    // who may act at all, before anything about the body is said
    if !lifecycle::may_act(actor, &case) {
        return Err(lifecycle_problem(LifecycleError::NotPermitted, actor, &case));
    }
    let body: StatusRequest = cms_http::json_body(req)?;
    let idem = cms_http::idempotency::from_request(req, actor)?;
    let action = parse_action(body.action.as_deref())?;
    let expected = cms_http::expected_version(req, body.version.as_ref())?;
    let cmd = command(deps, actor, action, body).await?;
    let change = Change {
        actor,
        case_id: &id,
        basis: Basis::Version(expected),
        action: &format!("case.status.{}", action.as_str()),
        idempotency: idem.as_ref(),
        answer: &|c: &CaseChange| (200, serde_json::to_value(&c.case).unwrap_or_default()),
        loaded: Some(case.clone()),
    };
    let decide =
        |c: &Case| lifecycle::decide(c, actor, &cmd, deps.clock.now(), deps.clock.today_nz()).map_err(|e| lifecycle_problem(e, actor, c));
    let change = match change_case(&deps.store, &deps.bus, &deps.clock, req, change, decide).await? {
        Outcome::Done(change) => change,
        Outcome::Replayed(resp) => return Ok(resp),
    };
    let next = &change.case;
    tracing::info!(
        case_id = %next.id,
        action = action.as_str(),
        from = case.status.as_str(),
        to = next.status.as_str(),
        role = %actor.role(),
        version = next.version,
        "case status updated"
    );
    let mut resp = json(200, next);
    if let Ok(v) = format!("\"{}\"", next.version).parse() {
        resp.headers_mut().insert("etag", v);
    }
    Ok(resp)
}

fn parse_action(a: Option<&str>) -> Result<Action, Problem> {
    let names = || Action::ALL.iter().map(|a| a.as_str()).collect::<Vec<_>>().join(", ");
    match a {
        None => Err(Problem::invalid_field("action", &format!("is required: one of {}", names()))),
        Some(s) => Action::parse(s.trim()).ok_or_else(|| Problem::invalid_field("action", &format!("must be one of {}", names()))),
    }
}

fn refuse_field(field: &str, present: bool, action: Action) -> Result<(), Problem> {
    if present {
        return Err(Problem::invalid_field(field, &format!("is not used when the action is {}; leave it out", action.as_str())));
    }
    Ok(())
}

fn parse_note(note: Option<String>) -> Result<Option<String>, Problem> {
    match note.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(n) if n.chars().count() > MAX_NOTE => Err(Problem::invalid_field("note", &format!("must be {MAX_NOTE} characters or fewer"))),
        Some(n) if n.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) => {
            Err(Problem::invalid_field("note", "must not contain control characters"))
        }
        Some(n) => Ok(Some(n.to_string())),
    }
}

/// The domain command for the request (looking up the person to assign).
async fn command<S, B, C>(deps: &Deps<S, B, C>, actor: &Actor, action: Action, body: StatusRequest) -> Result<Command, Problem>
where
    S: ReferenceData,
{
    if action != Action::Assign {
        refuse_field("caseManagerId", body.case_manager_id.is_some(), action)?;
    }
    if action != Action::Close {
        refuse_field("reason", body.reason.is_some(), action)?;
    }
    if action != Action::Pause {
        refuse_field("attestation", body.attestation.is_some(), action)?;
    }
    let note = parse_note(body.note)?;
    Ok(match action {
        Action::Assign => {
            if note.is_some() {
                refuse_field("note", true, action)?;
            }
            let id = match body.case_manager_id.as_deref().map(str::trim) {
                Some(s) if !s.is_empty() => {
                    UserId::parse(s).map_err(|_| Problem::invalid_field("caseManagerId", "is not a valid user id"))?
                }
                // a Case Manager picking up a case assigns themselves
                _ if actor.role() == Role::CaseManager => actor.user_id().clone(),
                _ => return Err(Problem::invalid_field("caseManagerId", "is required: the user id of the Case Manager to assign")),
            };
            let user = deps
                .store
                .user(&id)
                .await?
                .ok_or_else(|| unprocessable_field("caseManagerId", "is not a user of the Attendance Service Portal"))?;
            Command::Assign { case_manager: user }
        }
        Action::Transition => Command::Transition { note },
        Action::Close => {
            let reason = body.reason.as_deref().map(str::trim).unwrap_or_default();
            let reason = CloseReason::parse(reason).map_err(|e| match e {
                LifecycleError::UnknownCloseReason => Problem::invalid_field("reason", &e.to_string()),
                other => refused(&other.to_string()),
            })?;
            Command::Close { reason, note }
        }
        Action::Pause => {
            let a = body.attestation.ok_or_else(|| {
                Problem::invalid_field(
                    "attestation",
                    "is required to pause: confirm childLocated, whanauContacted, safeAndInformedChoice and withdrawnFromSchool",
                )
            })?;
            let attestation = PauseAttestation {
                child_located: a.child_located.unwrap_or(false),
                whanau_contacted: a.whanau_contacted.unwrap_or(false),
                safe_and_informed_choice: a.safe_and_informed_choice.unwrap_or(false),
                withdrawn_from_school: a.withdrawn_from_school.unwrap_or(false),
            };
            Command::Pause { attestation, note }
        }
        Action::Reopen => Command::Reopen { note },
    })
}

fn refused(detail: &str) -> Problem {
    Problem::new(422, "Status change refused", detail)
}

fn unprocessable_field(field: &str, message: &str) -> Problem {
    let mut p = Problem::invalid_field(field, message);
    p.status = 422;
    p
}

/// The case as the caller may see it, for a 409's `current`.
fn lifecycle_problem(e: LifecycleError, actor: &Actor, case: &Case) -> Problem {
    let msg = e.to_string();
    match e {
        LifecycleError::NotPermitted if can_view_case(actor, case) => Problem::forbidden(&msg),
        LifecycleError::NotPermitted => Problem::not_found("case"),
        LifecycleError::AssignOthersNotPermitted => Problem::forbidden(&msg),
        LifecycleError::NotAllowedFrom { .. } | LifecycleError::NoChange(_) | LifecycleError::ConsultFirst => {
            Problem::conflict(&msg).with_current(cms_http::case_for(actor, case))
        }
        LifecycleError::UnknownCloseReason => Problem::invalid_field("reason", &msg),
        LifecycleError::NotACaseManagerHere => unprocessable_field("caseManagerId", &msg),
        LifecycleError::PauseConditionsNotMet(_) => {
            let mut p = refused(&msg);
            p.errors = vec![cms_domain::referral::FieldError { field: "attestation".into(), message: msg.clone() }];
            p
        }
        _ => refused(&msg),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_are_checked() {
        assert_eq!(parse_note(Some("  ".into())).unwrap(), None);
        assert_eq!(parse_note(Some(" met whanau \n".into())).unwrap().as_deref(), Some("met whanau"));
        assert!(parse_note(Some("x".repeat(MAX_NOTE + 1))).is_err());
        assert!(parse_note(Some("bad\u{0007}".into())).is_err());
    }

    #[test]
    fn actions_parse_with_a_clear_message() {
        assert_eq!(parse_action(Some("close")).unwrap(), Action::Close);
        let p = parse_action(Some("delete")).unwrap_err();
        assert_eq!(p.status, 400);
        assert!(p.errors[0].message.contains("assign, transition, close, pause, reopen"));
        assert_eq!(parse_action(None).unwrap_err().errors[0].field, "action");
    }
}
