//! `POST /providers/{id}/reassignments` — `{fromUserId, toUserId, caseIds?, reason}`: a provider
//! admin moves the open cases of one Case Manager (all of them, or those named in `caseIds`) to
//! another of the provider's Case Managers, with a reason ([`cms_domain::reassign`]). Each case is
//! its own conditional change, audited in its own chain; a case that is closed, not the
//! provider's, or no longer with that Case Manager is left alone and listed as `skipped`. At most
//! [`MAX_CASES`] move per request (`remaining` says how many more are waiting). The first case
//! moved carries one `CasesReassigned` event: the new Case Manager gets one summary email.
//!
//! 200 `{reassignmentId, moved: [caseId], skipped: [{caseId, reason}], remaining}`.

use crate::Deps;
use cms_domain::access::ListScope;
use cms_domain::actor::Actor;
use cms_domain::case::{Case, CaseChange};
use cms_domain::ids::{CaseId, ProviderId, UserId};
use cms_domain::ports::{CaseListQuery, CaseStore, Clock, EventBus, ReferenceData};
use cms_domain::reassign::{self, ReassignError, MAX_CASES};
use cms_domain::referral::FieldError;
use cms_http::usecase::{change_case, Basis, Change, Outcome};
use cms_http::{json, Problem};
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ReassignBody {
    #[serde(default)]
    from_user_id: Option<String>,
    #[serde(default)]
    to_user_id: Option<String>,
    #[serde(default)]
    case_ids: Option<Vec<String>>,
    #[serde(default)]
    reason: Option<String>,
}

fn problem(e: ReassignError) -> Problem {
    let msg = e.to_string();
    match e {
        ReassignError::NotPermitted => Problem::forbidden(&msg),
        ReassignError::NotACaseManagerHere | ReassignError::SameCaseManager => Problem::invalid_field("toUserId", &msg),
        ReassignError::ReasonRequired | ReassignError::ReasonTooLong | ReassignError::ControlCharacters => {
            Problem::invalid_field("reason", &msg)
        }
        ReassignError::Closed | ReassignError::NotTheirs | ReassignError::NotThisProvider => Problem::conflict(&msg),
    }
}

fn user_id(value: Option<&str>, field: &str, who: &str, errors: &mut Vec<FieldError>) -> Option<UserId> {
    let found = value.map(str::trim).filter(|s| !s.is_empty()).and_then(|s| UserId::parse(s).ok());
    if found.is_none() {
        errors.push(FieldError { field: field.into(), message: format!("is required: the user id of the Case Manager {who}") });
    }
    found
}

pub async fn reassign_cases<S: CaseStore + ReferenceData, B: EventBus, C: Clock>(
    deps: &Deps<S, B, C>,
    req: &Request,
    actor: &Actor,
) -> Result<Response<Body>, Problem> {
    let provider = cms_http::path_id(req, "id", ProviderId::parse, "provider")?;
    // who may act at all, before anything about the body is said
    if !reassign::may_reassign(actor, &provider) {
        return Err(problem(ReassignError::NotPermitted));
    }
    let body: ReassignBody = cms_http::json_body(req)?;
    let mut errors = Vec::new();
    let from = user_id(body.from_user_id.as_deref(), "fromUserId", "whose cases move", &mut errors);
    let to = user_id(body.to_user_id.as_deref(), "toUserId", "who takes them", &mut errors);
    // every problem at once: the reason is checked again, with the rest, by the plan
    if body.reason.as_deref().is_none_or(|r| !cms_domain::text::has_visible(r)) {
        errors.push(FieldError { field: "reason".into(), message: ReassignError::ReasonRequired.to_string() });
    }
    let named = match &body.case_ids {
        None => None,
        Some(ids) if ids.is_empty() || ids.len() > MAX_CASES => {
            errors.push(FieldError {
                field: "caseIds".into(),
                message: format!("must name 1 to {MAX_CASES} cases, or be left out to move them all"),
            });
            None
        }
        Some(ids) => match ids.iter().map(|s| CaseId::parse(s.trim())).collect::<Result<Vec<_>, _>>() {
            Ok(mut v) => {
                v.sort();
                v.dedup();
                Some(v)
            }
            Err(_) => {
                errors.push(FieldError { field: "caseIds".into(), message: "must be case ids".into() });
                None
            }
        },
    };
    let (Some(from), Some(to)) = (from, to) else {
        return Err(Problem::invalid(errors));
    };
    if !errors.is_empty() {
        return Err(Problem::invalid(errors));
    }
    let to =
        deps.store.user(&to).await?.ok_or_else(|| Problem::invalid_field("toUserId", "is not a user of the Attendance Service Portal"))?;
    let plan = reassign::plan(actor, &provider, from, to, body.reason.as_deref()).map_err(problem)?;

    // the cases that move: those named that still may, or every open case of the provider with
    // that Case Manager; the count is known before the first moves (the summary email says it)
    let mut skipped = Vec::new();
    let candidates = match named {
        None => theirs(&deps.store, &plan).await?,
        Some(ids) => {
            let mut found = Vec::new();
            for id in ids {
                match cms_http::usecase::visible(&deps.store, actor, &id, None).await {
                    Ok(c) => match reassign::moves(&c, &plan) {
                        Ok(()) => found.push(c),
                        Err(e) => skipped.push(json!({"caseId": id, "reason": e.to_string()})),
                    },
                    Err(p) if p.status == 404 => skipped.push(json!({"caseId": id, "reason": "No case with that id is your provider's."})),
                    Err(p) => return Err(p),
                }
            }
            found
        }
    };
    let remaining = candidates.len().saturating_sub(MAX_CASES);
    let count = candidates.len().min(MAX_CASES) as u32;
    let summary_sent = AtomicBool::new(false);
    let mut moved = Vec::new();
    for case in candidates.into_iter().take(MAX_CASES) {
        let id = case.id.clone();
        let answer = |_: &CaseChange| (200, serde_json::Value::Null);
        // decided first on the case as read (a stale read is a conflict, read again and decided again)
        let change = Change {
            actor,
            case_id: &id,
            basis: Basis::Latest,
            action: "case.reassign",
            idempotency: None,
            answer: &answer,
            loaded: Some(case),
        };
        let decide = |c: &Case| {
            let summary = (!summary_sent.load(Ordering::Relaxed)).then_some(count);
            reassign::reassign(c, actor, &plan, summary, deps.clock.now()).map_err(problem)
        };
        match change_case(&deps.store, &deps.bus, &deps.clock, req, change, decide).await {
            Ok(Outcome::Done(change)) => {
                if !change.events.is_empty() {
                    summary_sent.store(true, Ordering::Relaxed);
                }
                moved.push(id.to_string());
            }
            Ok(Outcome::Replayed(_)) => moved.push(id.to_string()),
            // a case that no longer moves (changed meanwhile) is listed with why; a store failure
            // stops the request (what moved is moved, each case whole; the same request again
            // moves the rest)
            Err(p) if p.status == 503 => return Err(p),
            Err(p) => skipped.push(json!({"caseId": id, "reason": p.detail})),
        }
    }
    tracing::info!(role = %actor.role(), moved = moved.len(), skipped = skipped.len(), remaining, "cases reassigned");
    Ok(json(200, &json!({"reassignmentId": plan.id, "moved": moved, "skipped": skipped, "remaining": remaining})))
}

/// Every open case of the provider with the Case Manager the cases leave (oldest first).
async fn theirs<S: CaseStore>(store: &S, plan: &reassign::Reassignment) -> Result<Vec<Case>, Problem> {
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let q = CaseListQuery { scope: ListScope::Provider(plan.provider_id.clone()), status: None, limit: 100, cursor };
        let page = store.list_cases(&q).await?;
        out.extend(page.items.into_iter().filter(|c| reassign::moves(c, plan).is_ok()));
        match page.next {
            Some(n) => cursor = Some(n),
            None => break,
        }
    }
    out.sort_by(|a, b| (a.referred_at, &a.id).cmp(&(b.referred_at, &b.id)));
    Ok(out)
}
