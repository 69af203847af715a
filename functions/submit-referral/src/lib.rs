//! `submit-referral`: the school's CA request for support.
//!
//! - `POST /referrals` — save a new request as a draft (or submit at once with `"submit": true`)
//! - `GET /referrals?status=draft` — the school's drafts, newest first
//! - `GET /referrals/{id}` — resume a request
//! - `PUT /referrals/{id}` — edit a draft (`version` required; submitted requests are read-only)
//! - `DELETE /referrals/{id}` — discard a draft (`?version=` optional); submitted requests stay.
//!   A draft untouched for [`cms_domain::referral::DRAFT_TTL_DAYS`] days expires by itself.
//! - `POST /referrals/{id}/submit` — check every required field, refuse requests that are not
//!   appropriate, and create the case (one transaction), which is then allocated automatically.
//!   The student (by NSN) decides what a submission does ([`cms_domain::intake`]): a new case; the
//!   reopening of a case closed less than 3 months ago (same school, or a school ENROL reports the
//!   student enrolled at); the conversion of the student's NEN case once they enrolled at this
//!   school; 409 when they have an active case the caller can see; 202 "received" when they have
//!   one the caller cannot see (no oracle). Submitting again returns the first answer.
//!
//! A School Primary Contact reads only the requests they created or are named on; every read of a
//! submitted request is audited on its case.

use cms_aws::{DynamoStore, EventBridgeBus, SecretsManagerStudentKeys};
use cms_domain::access::{can_make_requests, can_read_referral};
use cms_domain::actor::Actor;
use cms_domain::case::{Case, CaseStatus};
use cms_domain::ids::{CaseId, ReferralId, SchoolId};
use cms_domain::intake::{self, StudentRecord};
use cms_domain::ports::{
    AuditLog, CaseStore, Clock, EventBus, ReadLog, ReferenceData, ReferralStore, StoreError, StudentKeySource, SystemClock, Wanted,
};
use cms_domain::referral::{
    check_draft, validate_submission, Referral, ReferralForm, ReferralStatus, Rejection, SubmissionContext, SubmitOutcome, ValidReferral,
};
use cms_domain::student::StudentIdentity;
use cms_domain::usecase::{commit_change, Publish, Ran, Step};
use cms_http::usecase::failed;
use cms_http::Route;
use cms_http::{json, Problem};
use lambda_http::{Body, Request, Response};
use serde_json::{json, Value};

/// What this handler needs from outside: the store, the bus, the clock and the student keys.
pub struct Deps<S, B, C, K> {
    pub store: S,
    pub bus: B,
    pub clock: C,
    pub keys: K,
}

pub type AwsDeps = Deps<DynamoStore, EventBridgeBus, SystemClock, SecretsManagerStudentKeys>;

pub fn aws_deps(sdk: &aws_config::SdkConfig, env: &cms_aws::Env) -> AwsDeps {
    let base = cms_aws::case_services(sdk, env);
    let secret = env.student_key_secret_id.clone().unwrap_or_else(|| "student-keys".into());
    Deps {
        store: base.store,
        bus: base.bus,
        clock: base.clock,
        keys: SecretsManagerStudentKeys::new(aws_sdk_secretsmanager::Client::new(sdk), secret),
    }
}

pub async fn handle<S, B, C, K>(deps: &Deps<S, B, C, K>, req: Request) -> Response<Body>
where
    S: CaseStore + ReferralStore + ReferenceData + AuditLog + ReadLog,
    B: EventBus,
    C: Clock,
    K: StudentKeySource,
{
    cms_http::answer(&req, route(deps, &req)).await
}

async fn route<S, B, C, K>(deps: &Deps<S, B, C, K>, req: &Request) -> Result<Response<Body>, Problem>
where
    S: CaseStore + ReferralStore + ReferenceData + AuditLog + ReadLog,
    B: EventBus,
    C: Clock,
    K: StudentKeySource,
{
    let actor = cms_http::actor(req)?;
    let school = can_make_requests(&actor).cloned().ok_or_else(|| {
        Problem::forbidden("Only school staff (Attendance Lead, School Primary Contact or Office Support) can make requests for support.")
    })?;
    match Route::of(req) {
        Some(Route::CreateReferral) => create(deps, req, &actor, &school).await,
        Some(Route::ListReferrals) => list_requests(deps, req, &actor, &school).await,
        Some(Route::GetReferral) => {
            let r = load(deps, req, &actor).await?;
            if let Some(case_id) = &r.case_id {
                // a submitted request carries the child's details: audited like a case read
                cms_http::audit_read(&deps.store, &actor, case_id, "referral.read", req, deps.clock.now()).await?;
            }
            Ok(json(200, &r))
        }
        Some(Route::EditReferral) => edit(deps, req, &actor).await,
        Some(Route::DeleteReferral) => delete_draft(deps, req, &actor).await,
        Some(Route::SubmitReferral) => {
            let r = load(deps, req, &actor).await?;
            let version = match cms_http::optional_json_body::<Value>(req)? {
                None => None,
                Some(v) => {
                    let mut body = object(v)?;
                    let version = take_version(&mut body, false)?;
                    if !body.is_empty() {
                        return Err(Problem::bad_request(
                            "Submitting takes only the request's version, for example {\"version\": 3}; leave out every other field.",
                        ));
                    }
                    version
                }
            };
            submit(deps, req, r, version, &actor, None).await
        }
        _ => Err(Problem::method_not_allowed()),
    }
}

fn object(v: Value) -> Result<serde_json::Map<String, Value>, Problem> {
    match v {
        Value::Object(m) => Ok(m),
        _ => Err(Problem::bad_request("The request body must be a JSON object.")),
    }
}

fn take_version(body: &mut serde_json::Map<String, Value>, required: bool) -> Result<Option<u64>, Problem> {
    match body.remove("version") {
        None if required => Err(Problem::invalid_field("version", "is required: send the version of the request you are editing")),
        None => Ok(None),
        Some(v) => v.as_u64().map(Some).ok_or_else(|| Problem::invalid_field("version", "must be a whole number")),
    }
}

fn form_from(body: serde_json::Map<String, Value>) -> Result<ReferralForm, Problem> {
    serde_json::from_value(Value::Object(body)).map_err(|e| {
        let msg = e.to_string();
        Problem::bad_request(&format!("The request body does not match the form: {msg}."))
    })
}

async fn known_school<S: ReferenceData>(store: &S, school: &SchoolId) -> Result<cms_domain::catchment::School, Problem> {
    store.school(school).await?.ok_or_else(|| unknown_school(school))
}

fn unknown_school(school: &SchoolId) -> Problem {
    Problem::new(
        422,
        "Unknown school",
        &format!("School {school} is not set up in the Attendance Service CMS. Contact the Ministry's service desk."),
    )
}

async fn create<S, B, C, K>(deps: &Deps<S, B, C, K>, req: &Request, actor: &Actor, school: &SchoolId) -> Result<Response<Body>, Problem>
where
    S: CaseStore + ReferralStore + ReferenceData + AuditLog + ReadLog,
    B: EventBus,
    C: Clock,
    K: StudentKeySource,
{
    let mut body = object(cms_http::json_body::<Value>(req)?)?;
    // the same Idempotency-Key and request again: the first answer, nothing new created
    let idem = cms_http::idempotency::from_request(req, actor)?;
    if let Some(i) = &idem {
        if let Some(resp) = i.replay(&deps.store).await? {
            return Ok(resp);
        }
    }
    let submit_now = match body.remove("submit") {
        None => false,
        Some(Value::Bool(b)) => b,
        Some(_) => return Err(Problem::invalid_field("submit", "must be true or false")),
    };
    let form = form_from(body)?;
    let now = deps.clock.now();
    if !submit_now {
        // a draft may be incomplete, but what it holds must be well formed; a submission is
        // checked completely (school included) by `submit`, so every problem is named in one answer
        known_school(&deps.store, school).await?;
        check_draft(&form, deps.clock.today_nz()).map_err(Problem::invalid)?;
    }
    let referral = Referral {
        id: ReferralId::new_ulid(),
        school_id: school.clone(),
        status: ReferralStatus::Draft,
        form,
        created_by: actor.user_id().clone(),
        created_at: now,
        updated_at: now,
        submitted_at: None,
        case_id: None,
        outcome: None,
        version: 1,
    };
    if submit_now {
        // nothing is written unless the submission is: the new request is created in the same
        // transaction as its case (version 0 = "does not exist yet"), so a refused request or a
        // lost race leaves no draft behind
        let location = format!("/referrals/{}", referral.id);
        let unsaved = Referral { version: 0, ..referral };
        return submit(deps, req, unsaved, None, actor, idem.as_ref()).await.map(|r| with_location(r, &location));
    }
    let markers: Vec<_> = idem.iter().map(|i| i.marker(201, &json!(referral), now)).collect();
    let created = deps.store.create_referral(&referral, &markers).await;
    // the same key, committed by a concurrent request a moment ago: its answer
    if let Some(resp) = cms_http::idempotency::settle(idem.as_ref(), &deps.store, created, Problem::from).await? {
        return Ok(resp);
    }
    tracing::info!(referral_id = %referral.id, school_id = %school, "draft saved");
    Ok(with_location(json(201, &referral), &format!("/referrals/{}", referral.id)))
}

/// A 201's `Location`: where the new request can be read (`GET /referrals/{id}`).
fn with_location(mut resp: Response<Body>, location: &str) -> Response<Body> {
    if resp.status() == 201 {
        if let Ok(v) = location.parse() {
            resp.headers_mut().insert("location", v);
        }
    }
    resp
}

async fn list_requests<S, B, C, K>(
    deps: &Deps<S, B, C, K>,
    req: &Request,
    actor: &Actor,
    school: &SchoolId,
) -> Result<Response<Body>, Problem>
where
    S: ReferralStore + AuditLog + ReadLog,
    C: Clock,
{
    let status = match cms_http::query(req, "status").as_deref() {
        None | Some("draft") => ReferralStatus::Draft,
        Some("submitted") => ReferralStatus::Submitted,
        Some(_) => return Err(Problem::invalid_field("status", "must be draft or submitted")),
    };
    let limit = cms_http::limit(req)?;
    let page = deps.store.referrals(school, status, limit, cms_http::query(req, "cursor")).await?;
    // a Primary Contact lists only the requests they started or are named on (a page may be short)
    let items: Vec<&Referral> = page.items.iter().filter(|r| can_read_referral(actor, r)).collect();
    // a submitted request holds a child's details: the page is one read naming each case listed
    let shown: Vec<_> = items.iter().filter_map(|r| r.case_id.clone()).collect();
    cms_http::audit_list(&deps.store, actor, &shown, "referral.listed", req, deps.clock.now()).await?;
    Ok(json(200, &json!({ "items": items, "nextCursor": page.next })))
}

async fn load<S, B, C, K>(deps: &Deps<S, B, C, K>, req: &Request, actor: &Actor) -> Result<Referral, Problem>
where
    S: ReferralStore,
{
    let id = cms_http::path_id(req, "id", ReferralId::parse, "request for support")?;
    match deps.store.referral(&id).await? {
        Some(r) if can_read_referral(actor, &r) => Ok(r),
        _ => Err(Problem::not_found("request for support")),
    }
}

fn read_only(r: &Referral) -> Problem {
    Problem::conflict("This request has already been submitted and can no longer be edited. Add updates to the case instead.")
        .with_current(json!({ "status": "submitted", "caseId": r.case_id, "version": r.version }))
}

async fn edit<S, B, C, K>(deps: &Deps<S, B, C, K>, req: &Request, actor: &Actor) -> Result<Response<Body>, Problem>
where
    S: ReferralStore + ReferenceData,
    C: Clock,
{
    let current = load(deps, req, actor).await?;
    let mut body = object(cms_http::json_body::<Value>(req)?)?;
    let version = take_version(&mut body, true)?.unwrap_or_default();
    let form = form_from(body)?;
    if current.status == ReferralStatus::Submitted {
        return Err(read_only(&current));
    }
    if current.version != version {
        return Err(stale(&current));
    }
    check_draft(&form, deps.clock.today_nz()).map_err(Problem::invalid)?;
    let mut updated = current.clone();
    updated.form = form;
    updated.updated_at = deps.clock.now();
    updated.version = current.version + 1;
    match deps.store.update_draft(&updated, version).await {
        Ok(()) => Ok(json(200, &updated)),
        Err(StoreError::Conflict) => {
            // someone else saved or submitted it in between: say which
            let now = deps.store.referral(&current.id).await?;
            match now {
                Some(r) if r.status == ReferralStatus::Submitted => Err(read_only(&r)),
                Some(r) => Err(stale(&r)),
                None => Err(Problem::not_found("request for support")),
            }
        }
        Err(e) => Err(Problem::from(e)),
    }
}

/// Discard a draft: 204. A submitted request cannot be deleted (409); a stale `version` 409.
async fn delete_draft<S, B, C, K>(deps: &Deps<S, B, C, K>, req: &Request, actor: &Actor) -> Result<Response<Body>, Problem>
where
    S: ReferralStore,
{
    let current = load(deps, req, actor).await?;
    if current.status == ReferralStatus::Submitted {
        return Err(read_only(&current));
    }
    let version = match cms_http::query(req, "version") {
        None => None,
        Some(v) => Some(v.parse::<u64>().map_err(|_| Problem::invalid_field("version", "must be a whole number"))?),
    };
    if version.is_some_and(|v| v != current.version) {
        return Err(stale(&current));
    }
    match deps.store.delete_draft(&current.id, version).await {
        Ok(()) => {
            tracing::info!(referral_id = %current.id, "draft deleted");
            Ok(Response::builder().status(204).body(Body::Empty).unwrap_or_default())
        }
        Err(StoreError::Conflict) => match deps.store.referral(&current.id).await? {
            Some(r) if r.status == ReferralStatus::Submitted => Err(read_only(&r)),
            Some(r) => Err(stale(&r)),
            None => Err(Problem::not_found("request for support")),
        },
        Err(e) => Err(Problem::from(e)),
    }
}

fn stale(current: &Referral) -> Problem {
    Problem::conflict("Someone else saved this request after you opened it. Reload it to see their changes, then edit again.")
        .with_current(json!({ "version": current.version, "updatedAt": current.updated_at }))
}

/// Check a request for submission against its school and the Primary Contact it names, both read
/// in one lookup.
async fn validate<S, B, C, K>(deps: &Deps<S, B, C, K>, r: &Referral) -> Result<cms_domain::referral::ValidReferral, Problem>
where
    S: ReferenceData,
    C: Clock,
{
    let pc_id = r.form.primary_contact_user_id.as_deref().and_then(|u| cms_domain::ids::UserId::parse(u).ok());
    let wanted = Wanted { schools: vec![r.school_id.clone()], providers: Vec::new(), users: pc_id.iter().cloned().collect() };
    let found = deps.store.lookup(&wanted).await?;
    let school = found.schools.get(&r.school_id).ok_or_else(|| unknown_school(&r.school_id))?;
    let pc = pc_id.as_ref().and_then(|id| found.users.get(id));
    let ctx = SubmissionContext { school, primary_contact: pc, today: deps.clock.today_nz() };
    validate_submission(&r.form, &ctx).map_err(|rej| match rej {
        Rejection::Invalid(errors) => Problem::invalid(errors),
        Rejection::NotAppropriate(why) => Problem::not_appropriate(why.message()),
    })
}

async fn submit<S, B, C, K>(
    deps: &Deps<S, B, C, K>,
    req: &Request,
    r: Referral,
    version: Option<u64>,
    actor: &Actor,
    idem: Option<&cms_http::idempotency::Idempotency>,
) -> Result<Response<Body>, Problem>
where
    S: CaseStore + ReferralStore + ReferenceData + AuditLog + ReadLog,
    B: EventBus,
    C: Clock,
    K: StudentKeySource,
{
    if r.status == ReferralStatus::Submitted {
        // submitting again (a retry, a double click, a concurrent submit) returns the first answer
        return replay(deps, &r).await;
    }
    if let Some(v) = version {
        if v != r.version {
            return Err(stale(&r));
        }
    }
    // the school and Primary Contact, and the student keys (kept once read): asked at the same time
    let (valid, keys) = tokio::join!(validate(deps, &r), deps.keys.keys());
    let valid = valid?;
    let who = identify(&keys?, &valid);
    // The domain decides from the student's active-case item (read consistently), their earlier
    // cases and ENROL's enrolment. The change is conditioned on the versions it read and claims the
    // student's active-case item, so a concurrent change means: read, decide again.
    let (r, who, valid) = (&r, &who, &valid);
    let ran = commit_change(&deps.store, &deps.bus, Publish::Committed, |n| async move {
        if n > 0 {
            // the same key, committed by a concurrent request a moment ago: its answer
            if let Some(i) = idem {
                if let Some(resp) = i.replay(&deps.store).await? {
                    return Ok(Step::Stop(Some(resp)));
                }
            }
            match deps.store.referral(&r.id).await? {
                Some(cur) if cur.status == ReferralStatus::Submitted => return Ok(Step::Stop(Some(replay(deps, &cur).await?))),
                Some(cur) if cur.version != r.version => return Err(stale(&cur).into()),
                // a request submitted as it is created (version 0) exists nowhere else
                None if r.version != 0 => return Err(Problem::not_found("request for support").into()),
                // the request is as it was: the student's cases changed meanwhile
                _ => {}
            }
        }
        let record = student_record(deps, who, n > 0).await?;
        let mut accepted = match intake::submit(&record, who, r, valid, CaseId::new_ulid(), deps.clock.now(), actor) {
            Ok(a) => a,
            // the active case may be this very request's, submitted a moment ago by a concurrent call
            Err(active) if r.version > 0 && active.referral_id.as_ref() == Some(&r.id) => {
                let cur = deps.store.referral(&r.id).await?.ok_or_else(|| Problem::not_found("request for support"))?;
                return Ok(Step::Stop(Some(replay(deps, &cur).await?)));
            }
            Err(active) => return Err(already_active(&active).into()),
        };
        if let Some(i) = idem {
            // the answer this submission will give, remembered with it for the same key
            let submitted = accepted.change.referral.as_ref().map(|(r, _)| r.clone()).unwrap_or_else(|| r.clone());
            let (status, body) = answer_parts(&submitted, Some(&accepted.change.case));
            accepted.change.markers.push(i.marker(status, &body, deps.clock.now()));
        }
        let action = format!("case.{}", accepted.outcome.as_str());
        let record = cms_http::audit_record(actor, &accepted.change.case.id, &action, req, deps.clock.now());
        let change = accepted.change.audited(record);
        Ok(Step::commit(change, None))
    })
    .await
    .map_err(|f| failed(f, "This student's case was being changed by someone else at the same moment. Submit the request again."))?;
    let change = match ran {
        Ran::Committed { change, .. } => change,
        Ran::Stopped(resp) => return Ok(resp.unwrap_or_else(|| Response::new(Body::Empty))),
    };
    let case = &change.case;
    let outcome = change.audit.first().map(|a| a.action.as_str()).unwrap_or_default();
    tracing::info!(referral_id = %r.id, case_id = %case.id, outcome, "request submitted");
    let referral = change.referral.as_ref().map(|(r, _)| r.clone()).unwrap_or_else(|| r.clone());
    Ok(answer(&referral, Some(case)))
}

/// The answer to a submitted request, the first time and every time after.
fn answer(referral: &Referral, case: Option<&Case>) -> Response<Body> {
    let (status, body) = answer_parts(referral, case);
    json(status, &body)
}

fn answer_parts(referral: &Referral, case: Option<&Case>) -> (u16, Value) {
    let outcome = referral.outcome.unwrap_or(SubmitOutcome::Created);
    let message = match (outcome, case.map(|c| c.status)) {
        (SubmitOutcome::Created, _) => "Request submitted. The case is being allocated to the provider.",
        (SubmitOutcome::Reopened, Some(CaseStatus::AwaitingAllocation)) => {
            "Request submitted. This student's previous case closed less than 3 months ago, so it has been reopened for your school and is being allocated to your school's provider."
        }
        (SubmitOutcome::Reopened, _) => {
            "Request submitted. This student's previous case closed less than 3 months ago, so it has been reopened and returned to its provider."
        }
        (SubmitOutcome::Converted, Some(CaseStatus::AwaitingAllocation)) => {
            "Request submitted. The student's non-enrolment case is now your school's case and is being allocated to the provider."
        }
        (SubmitOutcome::Converted, _) => {
            "Request submitted. The student's non-enrolment case is now your school's case and stays with its provider."
        }
        (SubmitOutcome::Received, _) => {
            "Request received. This student is already receiving support, so the Ministry's team or the provider will link your request to it and contact you."
        }
    };
    let status = match outcome {
        SubmitOutcome::Created => 201,
        SubmitOutcome::Received => 202,
        SubmitOutcome::Reopened | SubmitOutcome::Converted => 200,
    };
    // received: nothing about the case the school cannot see
    let case = case.filter(|_| outcome != SubmitOutcome::Received);
    (
        status,
        json!({
            "referral": referral,
            "caseId": case.map(|c| &c.id),
            "caseStatus": case.map(|c| c.status.as_str()),
            "outcome": outcome.as_str(),
            "message": message,
        }),
    )
}

/// A request already submitted: the same answer as the submission that made it.
async fn replay<S, B, C, K>(deps: &Deps<S, B, C, K>, r: &Referral) -> Result<Response<Body>, Problem>
where
    S: CaseStore,
{
    let case = match &r.case_id {
        Some(id) => deps.store.case(id).await?,
        None => None,
    };
    Ok(answer(r, case.as_ref()))
}

/// The student's keys (keyed HMAC of the NSN, and of name + date of birth for candidates).
fn identify(keys: &cms_domain::student::StudentKeys, valid: &ValidReferral) -> StudentIdentity {
    let s = &valid.student;
    keys.identify(&s.nsn, &s.full_name, s.date_of_birth)
}

/// What intake decides from: the student's active case (consistent), their earlier cases and
/// candidates (indexes), and where ENROL last reported them enrolled.
/// What the domain decides from. The student's cases come from the indexes; the active-case item
/// (read consistently: the authority) and ENROL's enrolment matter only for a student who has a
/// case, so a first attempt for a student the index shows no case of skips them — if the index
/// was behind, the commit's claim of the active-case item fails and the retry reads them (`full`).
async fn student_record<S: CaseStore, B, C, K>(
    deps: &Deps<S, B, C, K>,
    who: &StudentIdentity,
    full: bool,
) -> Result<StudentRecord, Problem> {
    let Some(key) = &who.nsn_key else { return Ok(StudentRecord::default()) };
    let previous = deps.store.cases_for_student(who).await?;
    if !full && !previous.iter().any(|c| c.student_key.as_ref() == Some(key)) {
        return Ok(StudentRecord { active: None, previous, enrolled_at: None });
    }
    let (active, enrolled_at) = tokio::try_join!(deps.store.active_case(key), deps.store.enrolment(key))?;
    Ok(StudentRecord { active, previous, enrolled_at })
}

/// 409: one active case per student. Only ever given for a case the caller may see (intake
/// answers "received" for one they may not), so it names the case.
fn already_active(active: &Case) -> Problem {
    tracing::info!(case_id = %active.id, "request refused: the student already has an active case");
    Problem::conflict(
        "This student already has an active case, so a new request for support cannot be made. Add what you know to the existing case, or contact its Case Manager.",
    )
    .with_current(json!({ "caseId": active.id, "caseStatus": active.status.as_str() }))
}
