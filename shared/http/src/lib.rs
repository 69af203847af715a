//! HTTP glue shared by the API Lambdas: who is calling (from the JWT authorizer's claims), reading
//! bodies and parameters without panicking, and answering with JSON or an RFC 7807 problem.
//! Also builds the exact API Gateway v2 event a Lambda receives (the local API server and the
//! integration tests call handlers through it).

pub mod apigw;
pub mod idempotency;
mod problem;
pub mod routes;
pub mod usecase;

pub use problem::{Problem, CHANGED};
pub use routes::Route;

use cms_domain::actor::{Actor, Org, Role};
use cms_domain::ids::{ProviderId, RegionId, SchoolId, UserId};
use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequestContext;
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Claim names the portal's identity provider puts in the token.
pub const CLAIM_ROLE: &str = "custom:role";
pub const CLAIM_ORG: &str = "custom:org";
pub const CLAIM_REGION: &str = "custom:region";

/// Largest request body any route accepts.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

fn v2_context(req: &Request) -> Option<&ApiGatewayV2httpRequestContext> {
    match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => Some(ctx),
        _ => None,
    }
}

/// `"POST /referrals/{id}/submit"`: the route API Gateway matched.
pub fn route_key(req: &Request) -> String {
    v2_context(req).and_then(|c| c.route_key.clone()).unwrap_or_default()
}

/// API Gateway's request id (for logs and the audit trail).
pub fn request_id(req: &Request) -> String {
    v2_context(req).and_then(|c| c.request_id.clone()).unwrap_or_default()
}

/// The caller, from the claims the HttpApi JWT authorizer verified. A token without a usable role
/// and organisation is refused (403): it authenticated, but it grants nothing here.
pub fn actor(req: &Request) -> Result<Actor, Problem> {
    let claims = v2_context(req)
        .and_then(|c| c.authorizer.as_ref())
        .and_then(|a| a.jwt.as_ref())
        .map(|j| &j.claims)
        .ok_or_else(Problem::unauthenticated)?;
    let denied = || Problem::forbidden("Your account has no Attendance Service CMS role. Ask your Delegated Authoriser to assign one.");
    let sub = claims.get("sub").and_then(|s| UserId::parse(s.as_str()).ok()).ok_or_else(denied)?;
    let role = claims.get(CLAIM_ROLE).and_then(|r| Role::parse(r)).ok_or_else(denied)?;
    let org_claim = claims.get(CLAIM_ORG).map(String::as_str).unwrap_or_default();
    let org = match role.side() {
        cms_domain::actor::Side::School => Org::School(SchoolId::parse(org_claim).map_err(|_| denied())?),
        cms_domain::actor::Side::Provider => Org::Provider(ProviderId::parse(org_claim).map_err(|_| denied())?),
        cms_domain::actor::Side::Ministry => Org::Ministry(claims.get(CLAIM_REGION).and_then(|r| RegionId::parse(r.as_str()).ok())),
    };
    Actor::new(sub, role, org).map_err(|_| denied())
}

/// A path parameter, parsed into an id type; a malformed one is "not found" (it cannot exist).
pub fn path_id<T, E>(req: &Request, name: &str, parse: impl Fn(String) -> Result<T, E>, what: &str) -> Result<T, Problem> {
    req.path_parameters_ref().and_then(|p| p.first(name)).and_then(|s| parse(s.to_string()).ok()).ok_or_else(|| Problem::not_found(what))
}

/// A query string parameter.
pub fn query(req: &Request, name: &str) -> Option<String> {
    req.query_string_parameters_ref().and_then(|q| q.first(name)).map(str::to_string)
}

/// `limit` query parameter: 1..=100, default 25.
pub fn limit(req: &Request) -> Result<u32, Problem> {
    match query(req, "limit") {
        None => Ok(25),
        Some(s) => match s.parse::<u32>() {
            Ok(n) if (1..=100).contains(&n) => Ok(n),
            _ => Err(Problem::invalid_field("limit", "must be a whole number from 1 to 100")),
        },
    }
}

/// The raw body bytes, refusing oversized bodies.
pub fn body_bytes(req: &Request) -> Result<&[u8], Problem> {
    let bytes: &[u8] = match req.body() {
        Body::Empty => &[],
        Body::Text(t) => t.as_bytes(),
        Body::Binary(b) => b,
        _ => &[],
    };
    if bytes.len() > MAX_BODY_BYTES {
        return Err(Problem::new(413, "Request too large", &format!("The request body must be at most {} KB.", MAX_BODY_BYTES / 1024)));
    }
    Ok(bytes)
}

/// Parse a JSON body. Errors say what is wrong in words, with the field when serde names one.
pub fn json_body<T: DeserializeOwned>(req: &Request) -> Result<T, Problem> {
    let bytes = body_bytes(req)?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Problem::bad_request("The request needs a JSON body."));
    }
    parse_json(bytes)
}

/// Like [`json_body`], but an empty body is `None`.
pub fn optional_json_body<T: DeserializeOwned>(req: &Request) -> Result<Option<T>, Problem> {
    let bytes = body_bytes(req)?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    parse_json(bytes).map(Some)
}

fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Problem> {
    // Every body of this API is a JSON object. serde's derived structs would also accept an
    // array (fields by position), so anything else is refused before it is read as a form.
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|_| Problem::bad_request("The request body is not valid JSON."))?;
    if !value.is_object() {
        return Err(Problem::bad_request("The request body must be a JSON object: the form's fields between { and }."));
    }
    serde_json::from_value(value).map_err(|e| {
        let msg = e.to_string();
        // serde's message ends with " at line L column C"; keep what a person can act on
        let what = msg.split(" at line ").next().unwrap_or(&msg).to_string();
        let detail = if e.is_syntax() || e.is_eof() {
            "The request body is not valid JSON.".to_string()
        } else {
            format!("The request body does not match the form: {what}.")
        };
        Problem::bad_request(&detail)
    })
}

/// A JSON response.
pub fn json<T: Serialize>(status: u16, value: &T) -> Response<Body> {
    let body = serde_json::to_string(value).unwrap_or_else(|_| "{}".into());
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .header("cache-control", "no-store")
        .body(Body::Text(body))
        .unwrap_or_else(|_| Response::new(Body::Empty))
}

/// A CSV file to download (`file_name`, ASCII), never cached.
pub fn csv_attachment(file_name: &str, body: String) -> Result<Response<Body>, Problem> {
    Response::builder()
        .status(200)
        .header("content-type", "text/csv; charset=utf-8")
        .header("content-disposition", format!("attachment; filename=\"{file_name}\""))
        .header("cache-control", "no-store")
        .body(Body::from(body))
        .map_err(|_| Problem::unavailable())
}

/// Turn a handler's outcome into the response, whatever it was. A problem carries the request's
/// id (`requestId`) and is logged with it — one line, ids and status only — so what a school user
/// quotes to the service desk finds the log line (a 5xx at ERROR, a refusal at INFO).
pub fn respond(req: &Request, result: Result<Response<Body>, Problem>) -> Response<Body> {
    match result {
        Ok(r) => r,
        Err(p) => {
            let id = request_id(req);
            if p.status >= 500 {
                tracing::error!(request_id = %id, status = p.status, problem = %p.kind, "request failed");
            } else {
                tracing::info!(request_id = %id, status = p.status, problem = %p.kind, "request refused");
            }
            p.for_request(&id).into_response()
        }
    }
}

/// Run a handler's work in a span that carries the request id (so every line it logs, a store
/// failure's included, names the request), then [`respond`].
pub async fn answer<F>(req: &Request, work: F) -> Response<Body>
where
    F: std::future::Future<Output = Result<Response<Body>, Problem>>,
{
    use tracing::Instrument;
    let span = tracing::info_span!("request", request_id = %request_id(req));
    let result = work.instrument(span.clone()).await;
    span.in_scope(|| respond(req, result))
}

/// Record a read of a case in the audit trail before the data is returned. If the trail cannot
/// be written, the read is refused (503): no access to a child's record goes unaccounted.
pub async fn audit_read<L: cms_domain::ports::ReadLog + ?Sized>(
    log: &L,
    actor: &Actor,
    case_id: &cms_domain::ids::CaseId,
    action: &str,
    req: &Request,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), Problem> {
    audit_list(log, actor, std::slice::from_ref(case_id), action, req, now).await
}

/// Record a read of several cases (a list page, search results) as one entry naming them all,
/// before the data is returned; nothing is recorded when nothing is shown. Refused (503) when the
/// trail cannot be written.
pub async fn audit_list<L: cms_domain::ports::ReadLog + ?Sized>(
    log: &L,
    actor: &Actor,
    case_ids: &[cms_domain::ids::CaseId],
    action: &str,
    req: &Request,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), Problem> {
    if case_ids.is_empty() {
        return Ok(());
    }
    let record = cms_domain::audit::ReadRecord::by(actor, case_ids.to_vec(), action, &request_id(req), now);
    log.record_read(record).await.map(|_| ()).map_err(|e| {
        tracing::error!(cases = case_ids.len(), action, error = %e, "audit trail not written; read refused");
        Problem::unavailable()
    })
}

/// What the caller did to a case, for its audit trail (written with the change: see
/// [`cms_domain::case::CaseChange::audited`]).
pub fn audit_record(
    actor: &Actor,
    case_id: &cms_domain::ids::CaseId,
    action: &str,
    req: &Request,
    now: chrono::DateTime<chrono::Utc>,
) -> cms_domain::audit::AuditRecord {
    cms_domain::audit::AuditRecord::by(actor, case_id, action, &request_id(req), now)
}

/// The version the caller is looking at: the body's `version` or the `If-Match` header.
pub fn expected_version(req: &Request, body: Option<&serde_json::Value>) -> Result<u64, Problem> {
    let from_body = match body {
        None | Some(serde_json::Value::Null) => None,
        Some(v) => Some(v.as_u64().ok_or_else(|| Problem::invalid_field("version", "must be the case's version: a whole number"))?),
    };
    let from_header = match req.headers().get("if-match") {
        None => None,
        Some(h) => Some(
            parse_if_match(h.to_str().unwrap_or_default())
                .ok_or_else(|| Problem::bad_request("The If-Match header must be the case's version, for example If-Match: \"3\"."))?,
        ),
    };
    match (from_body, from_header) {
        (Some(b), Some(h)) if b != h => Err(Problem::bad_request(
            "The version in the body and the If-Match header differ; send the version of the case you are looking at once.",
        )),
        (Some(v), _) | (None, Some(v)) => Ok(v),
        (None, None) => Err(Problem::new(
            428,
            "Version required",
            "Send the version of the case you are looking at (\"version\" in the body, or an If-Match header) so that a change someone else made in the meantime is not overwritten.",
        )),
    }
}

/// `"3"`, `W/"3"` or `3`.
pub fn parse_if_match(h: &str) -> Option<u64> {
    let t = h.trim();
    let t = t.strip_prefix("W/").unwrap_or(t);
    let t = t.strip_prefix('"').and_then(|x| x.strip_suffix('"')).unwrap_or(t);
    t.parse().ok()
}

/// A case as a 409 shows it (the state the caller should reload).
pub fn current(case: &cms_domain::case::Case) -> serde_json::Value {
    serde_json::to_value(case).unwrap_or_else(|_| serde_json::json!({ "id": case.id, "version": case.version }))
}

/// A case as this caller may see it in an answer to a change: as `GET /cases/{id}` shows it
/// ([`redact_for`]), the schools it came from left out.
pub fn case_for(actor: &Actor, case: &cms_domain::case::Case) -> serde_json::Value {
    let mut v = current(case);
    if let Some(obj) = v.as_object_mut() {
        obj.remove("formerSchools");
        redact_for(actor, case, obj);
    }
    v
}

/// What of a case (as serialised) this caller may not see, taken out — the one place every
/// answer showing a case goes through: the safety-notes flag only as the warning for those who
/// may read the notes; for those who may not see unshared entries (school staff), no possible
/// duplicate (it names another case), no barriers, agencies nor Unmet Basic Needs Fund spends
/// (they name the whānau's circumstances), no agency checks but for CIT and the provider, no
/// consultation notes, and no escalation's notes or outcome in words unless the school made it.
pub fn redact_for(actor: &Actor, case: &cms_domain::case::Case, obj: &mut serde_json::Map<String, serde_json::Value>) {
    use cms_domain::access::{permits, CaseAction};
    obj.remove("hasSafetyNotes");
    obj.insert("safetyWarning".into(), (case.has_safety_notes && permits(actor, case, CaseAction::ViewSafetyNotes)).into());
    if !permits(actor, case, CaseAction::ViewAgencyChecks) {
        obj.remove("agencyChecks");
    }
    if permits(actor, case, CaseAction::ViewUnshared) {
        return;
    }
    obj.remove("possibleDuplicateOf");
    obj.remove("agencies");
    obj.remove("barriers");
    obj.remove("fundSpends");
    let strip = |list: Option<&mut serde_json::Value>, keep: &dyn Fn(&serde_json::Value) -> bool, fields: &[&str]| {
        for item in list.and_then(|l| l.as_array_mut()).into_iter().flatten() {
            if !keep(item) {
                if let Some(o) = item.as_object_mut() {
                    for f in fields {
                        o.remove(*f);
                    }
                }
            }
        }
    };
    strip(obj.get_mut("consultations"), &|_| false, &["notes"]);
    let school_made = |e: &serde_json::Value| {
        e["by"]["role"].as_str().and_then(cms_domain::actor::Role::parse).is_some_and(|r| r.side() == cms_domain::actor::Side::School)
    };
    strip(obj.get_mut("escalations"), &school_made, &["notes", "outcome", "outcomeBy"]);
}

/// [`stale`] with the case as this caller may see it ([`case_for`]).
pub fn stale_for(actor: &Actor, case: &cms_domain::case::Case) -> Problem {
    let mut p = stale(case);
    p = p.with_current(case_for(actor, case));
    p
}

/// "Someone else changed it": the 409 for a version the case has moved on from, with the case as it is now.
pub fn stale(case: &cms_domain::case::Case) -> Problem {
    Problem::conflict(&format!(
        "Someone else changed this case after you opened it: it is now {} (version {}). Reload it, check the change, and try again.",
        case.status.as_str(),
        case.version
    ))
    .with_current(current(case))
}

#[cfg(test)]
mod if_match_tests {
    use super::parse_if_match;

    #[test]
    fn if_match_forms() {
        assert_eq!(parse_if_match("\"3\""), Some(3));
        assert_eq!(parse_if_match("W/\"12\""), Some(12));
        assert_eq!(parse_if_match(" 7 "), Some(7));
        assert_eq!(parse_if_match("*"), None);
        assert_eq!(parse_if_match("\"abc\""), None);
    }
}
