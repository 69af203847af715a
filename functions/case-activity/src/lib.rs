//! `case-activity`: working a case together.
//!
//! - `POST /cases/{id}/comments` — `{text, shared}`: add a comment. Whatever a school user adds is
//!   shared with the school; provider and Ministry staff choose (default: not shared). Emits
//!   `CommentAdded` (ids, the author's side and the shared flag; never the text).
//! - `GET /cases/{id}/timeline?limit=&cursor=` — the case's history in time order, paged. School
//!   users see only entries shared with the school; provider and Ministry staff see everything.
//! - `POST /cases/{id}/activities` — `{type, date, attendees, notes?, shared?}`: a meeting, call or
//!   visit, recorded by the case's provider staff. A school meeting or whānau meeting stops the
//!   matching SLA clock.
//!
//! - `POST /cases/{id}/barriers` — `{kind, detail?}`: the case's provider staff identify a barrier
//!   to attendance from the maintained list (`other` needs a `detail`); 201 with the barrier.
//! - `PUT /cases/{id}/barriers/{barrierId}` — `{state}`: move it forward (`being_addressed`,
//!   `resolved`); 200 with the barrier. Barriers are not shared with the school: their timeline
//!   entries are unshared, `GET /cases/{id}` shows them to provider and Ministry staff only, and no
//!   event carries them.
//!
//! - `POST /cases/{id}/consultations` — `{about, heldOn, notes?}`: the case's provider staff record
//!   a consultation with the school about a step (`transition`, `formal_communication`,
//!   `prosecution_referral`, `section_19`, `multi_agency_forum`); 201 with it. Each provider step
//!   (moving to Transition, each escalation) uses up one held on or before it.
//! - `POST /cases/{id}/escalations` — `{kind, on, method?, regionalOfficeToldOn?, notes?}`: a formal
//!   communication to the caregivers (provider, with its `method`), a prosecution referral (school
//!   or provider; the provider's after a formal communication, with the date the regional office
//!   was told), a section 19 referral (school or provider) or a multi-agency forum referral
//!   (provider; marked `forumPilot` in the 2026 pilot catchments); 201 with it.
//! - `PUT /cases/{id}/escalations/{escalationId}` — `{decision?, outcome?}`: the Prosecutions team
//!   accepts or declines a referral (once) and records the outcome; on the others, the side that
//!   made it records the outcome. 200 with the escalation.
//!   All three are shared with the school on the timeline (the step, never its words).
//!
//! - `POST /cases/{id}/agencies` — `{agency, detail?, since}`: the case's provider staff record an
//!   agency engaged on the case (`oranga_tamariki`, `police`, `health`, `social_services`, `msd`,
//!   `other` with its name in `detail`); 201. Not shared with the school.
//! - `POST /cases/{id}/agency-checks` — `{agency, question?}`: the provider or CIT asks for an
//!   information check with an agency; 201.
//! - `PUT /cases/{id}/agency-checks/{checkId}` — `{result}`: CIT records the result (once); 200.
//!   Agency checks and their timeline entries are seen by CIT and the case's provider only.
//!
//! - `POST /cases/{id}/fund-spends` — `{category, amountCents, on, note?, receiptFileId?}`: the
//!   case's provider staff spend from the provider's Unmet Basic Needs Fund (`clothing`,
//!   `transport`, `equipment`, `food`, `other` with a note; the receipt a file on the case); 201
//!   with the spend. A spend that would take the provider's total for the contract year above 3 %
//!   of its contract is 409 with the remaining balance.
//! - `POST /cases/{id}/fund-spends/{spendId}/refunds` — `{amountCents, on, note?}`: money of a spend
//!   returned to the fund; 201 with the spend. Neither is shared with the school; no event.
//!   The provider's counter moves in the case's transaction, only from the total the decision
//!   read ([`cms_domain::fund`]).
//!
//! - `POST /cases/{id}/plan/items` — `{kind, text, goalId?, owner?, due?, reviewOn?}`: the case's
//!   provider staff add a goal or a step to the support plan (`action`, `gradual_return`,
//!   `timetable_change`, `transition_planning`, `youth_service_referral`; a step has an `owner` —
//!   `school`, `provider`, `whanau`, `agency` — and a `due` date); 201 with the item.
//! - `PUT /cases/{id}/plan/items/{itemId}` — `{state: done|dropped}`: once; 200 with the item.
//! - `POST /cases/{id}/plan/reviews` — `{heldOn, note, nextReviewOn?}`: a review of the plan; 201.
//!   The plan is shared with the school (its items and reviews, on the case and the timeline).
//!
//! - `POST /providers/{id}/initiatives`, `PUT /providers/{id}/initiatives/{initiativeId}`: the
//!   provider's initiatives for schools and groups of students ([`initiatives`]).
//!
//! - `PUT /me/email-preference`: one email per update or a daily digest ([`preferences`]).
//!
//! - `PUT /cases/{id}/contacts` — `{whanau, homeAddress, alternativeAddress?, version}`: bring the
//!   whānau contacts and addresses up to date (school staff on the case and the provider; checked
//!   as on a request, every problem at once). 200 with the case; unchanged values write nothing.
//! - `POST /cases/{id}/primary-contact` — `{userId, version}`: name another School Primary Contact
//!   (the school's Attendance Lead or the provider); the new contact is emailed.
//!   Both take the version the caller is looking at (`version` or `If-Match`; 409 when stale).
//!
//! A case the caller may not see is "not found". Every addition is one conditional transaction
//! (the case's version, the entry, the outbox), retried on a concurrent change.

mod initiatives;
mod preferences;

use cms_aws::{DynamoStore, EventBridgeBus};
use cms_domain::activity::{can_see_entry, comment, record_activity, ActivityError, ActivityInput, ActivityType};
use cms_domain::actor::Actor;
use cms_domain::agencies::{self, Agency, AgencyError};
use cms_domain::barriers::{self, BarrierError, BarrierKind, BarrierState};
use cms_domain::case::{Case, CaseChange};
use cms_domain::details::{change_primary_contact, update_contacts, ContactsForm};
use cms_domain::escalations::{self, CommMethod, EscalationError, EscalationInput, EscalationKind, ProsecutionDecision, Step};
use cms_domain::fund::{self, ContractYear, FundCategory, FundError, SpendInput};
use cms_domain::ids::{CaseId, UserId};
use cms_domain::plan::{self, ItemInput, PlanError, PlanItemKind, PlanItemState, PlanOwner};
use cms_domain::ports::{
    AuditLog, CaseStore, Clock, DigestStore, EventBus, FileRecords, FundStore, InitiativeStore, ReadLog, ReferenceData, SystemClock,
};
use cms_domain::referral::FieldError;
use cms_http::idempotency::Idempotency;
use cms_http::usecase::{change_case, change_case_with, visible, Basis, Change, Outcome};
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

pub async fn handle<
    S: CaseStore + AuditLog + ReadLog + ReferenceData + FundStore + FileRecords + InitiativeStore + DigestStore,
    B: EventBus,
    C: Clock,
>(
    deps: &Deps<S, B, C>,
    req: Request,
) -> Response<Body> {
    cms_http::answer(&req, route(deps, &req)).await
}

async fn route<
    S: CaseStore + AuditLog + ReadLog + ReferenceData + FundStore + FileRecords + InitiativeStore + DigestStore,
    B: EventBus,
    C: Clock,
>(
    deps: &Deps<S, B, C>,
    req: &Request,
) -> Result<Response<Body>, Problem> {
    let actor = cms_http::actor(req)?;
    match Route::of(req) {
        Some(Route::EditContacts) => contacts(deps, req, &actor).await,
        Some(Route::ChoosePrimaryContact) => primary_contact(deps, req, &actor).await,
        Some(Route::AddComment) => add_comment(deps, req, &actor).await,
        Some(Route::AddActivity) => add_activity(deps, req, &actor).await,
        Some(Route::AddBarrier) => add_barrier(deps, req, &actor).await,
        Some(Route::UpdateBarrier) => update_barrier(deps, req, &actor).await,
        Some(Route::AddConsultation) => add_consultation(deps, req, &actor).await,
        Some(Route::AddEscalation) => add_escalation(deps, req, &actor).await,
        Some(Route::RecordEscalationOutcome) => record_outcome(deps, req, &actor).await,
        Some(Route::AddAgency) => add_agency(deps, req, &actor).await,
        Some(Route::RequestAgencyCheck) => request_check(deps, req, &actor).await,
        Some(Route::RecordAgencyCheck) => record_check(deps, req, &actor).await,
        Some(Route::SpendFund) => spend_fund(deps, req, &actor).await,
        Some(Route::StartInitiative) => initiatives::start(deps, req, &actor).await,
        Some(Route::SetEmailPreference) => preferences::set(deps, req, &actor).await,
        Some(Route::RecordInitiativeOutcome) => initiatives::record_outcome(deps, req, &actor).await,
        Some(Route::AddPlanItem) => add_plan_item(deps, req, &actor).await,
        Some(Route::UpdatePlanItem) => update_plan_item(deps, req, &actor).await,
        Some(Route::ReviewPlan) => review_plan(deps, req, &actor).await,
        Some(Route::RefundFund) => refund_fund(deps, req, &actor).await,
        Some(Route::CaseTimeline) => timeline(deps, req, &actor).await,
        _ => Err(Problem::method_not_allowed()),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CommentBody {
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    shared: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BarrierBody {
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    detail: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BarrierStateBody {
    #[serde(default)]
    state: Option<String>,
}

fn barrier_problem(e: BarrierError) -> Problem {
    match e {
        BarrierError::NotPermitted => Problem::forbidden(&e.to_string()),
        BarrierError::Unknown => Problem::not_found("barrier"),
        BarrierError::DetailRequired | BarrierError::DetailTooLong | BarrierError::ControlCharacters => {
            Problem::invalid_field("detail", &e.to_string())
        }
        BarrierError::Backwards { .. } => Problem::invalid_field("state", &e.to_string()),
        BarrierError::AlreadyRecorded | BarrierError::Closed => Problem::conflict(&e.to_string()),
    }
}

/// The barrier a change made or moved, as the API shows it.
fn barrier_of(change: &CaseChange) -> serde_json::Value {
    let id = match &change.timeline.first().map(|e| &e.kind) {
        Some(cms_domain::case::TimelineKind::BarrierRecorded { barrier_id, .. }) => Some(barrier_id.clone()),
        _ => None,
    };
    let b = change.case.barriers.iter().find(|b| Some(&b.id) == id.as_ref());
    serde_json::to_value(b).unwrap_or_default()
}

async fn add_barrier<S: CaseStore + AuditLog + ReadLog, B: EventBus, C: Clock>(
    deps: &Deps<S, B, C>,
    req: &Request,
    actor: &Actor,
) -> Result<Response<Body>, Problem> {
    let id = cms_http::path_id(req, "id", CaseId::parse, "case")?;
    let body: BarrierBody = cms_http::json_body(req)?;
    let kind = body.kind.as_deref().and_then(BarrierKind::parse).ok_or_else(|| {
        let allowed = BarrierKind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ");
        Problem::invalid_field("kind", &format!("must be one of: {allowed}"))
    })?;
    let idem = cms_http::idempotency::from_request(req, actor)?;
    let respond = |change: &CaseChange| barrier_of(change);
    let decide = |case: &Case| barriers::identify(case, actor, kind, body.detail.as_deref(), deps.clock.now()).map_err(barrier_problem);
    let change = match add(deps, req, actor, &id, "case.barrier.add", idem.as_ref(), &respond, decide).await? {
        Outcome::Done(change) => change,
        Outcome::Replayed(resp) => return Ok(resp),
    };
    tracing::info!(case_id = %id, role = %actor.role(), "barrier recorded");
    Ok(json(201, &respond(&change)))
}

async fn update_barrier<S: CaseStore + AuditLog + ReadLog, B: EventBus, C: Clock>(
    deps: &Deps<S, B, C>,
    req: &Request,
    actor: &Actor,
) -> Result<Response<Body>, Problem> {
    let id = cms_http::path_id(req, "id", CaseId::parse, "case")?;
    let barrier = cms_http::path_id(req, "barrierId", cms_domain::ids::EntryId::parse, "barrier")?;
    let body: BarrierStateBody = cms_http::json_body(req)?;
    let to = body
        .state
        .as_deref()
        .and_then(BarrierState::parse)
        .ok_or_else(|| Problem::invalid_field("state", "must be one of: being_addressed, resolved (a barrier moves forward only)"))?;
    let respond = |change: &CaseChange| barrier_of(change);
    let decide = |case: &Case| barriers::change_state(case, actor, &barrier, to, deps.clock.now()).map_err(barrier_problem);
    let change = match add(deps, req, actor, &id, "case.barrier.update", None, &respond, decide).await? {
        Outcome::Done(change) => change,
        Outcome::Replayed(resp) => return Ok(resp),
    };
    tracing::info!(case_id = %id, role = %actor.role(), state = to.as_str(), "barrier moved");
    Ok(json(200, &respond(&change)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ConsultationBody {
    #[serde(default)]
    about: Option<String>,
    #[serde(default)]
    held_on: Option<String>,
    #[serde(default)]
    notes: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct EscalationBody {
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    on: Option<String>,
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    regional_office_told_on: Option<String>,
    #[serde(default)]
    notes: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OutcomeBody {
    #[serde(default)]
    decision: Option<String>,
    #[serde(default)]
    outcome: Option<String>,
}

/// A code from a list, or the field's error naming the list.
fn code<T>(value: Option<&str>, field: &str, parse: fn(&str) -> Option<T>, list: String, errors: &mut Vec<FieldError>) -> Option<T> {
    let found = value.and_then(parse);
    if found.is_none() {
        errors.push(FieldError { field: field.into(), message: format!("must be one of: {list}") });
    }
    found
}

/// A date written `YYYY-MM-DD`, or the field's error.
fn date(value: Option<&str>, field: &str, errors: &mut Vec<FieldError>) -> Option<chrono::NaiveDate> {
    match value.map(cms_domain::student::parse_date) {
        Some(Ok(d)) => Some(d),
        Some(Err(m)) => {
            errors.push(FieldError { field: field.into(), message: m.into() });
            None
        }
        None => {
            errors.push(FieldError { field: field.into(), message: "is required: a date written as YYYY-MM-DD".into() });
            None
        }
    }
}

/// `date_field`: the request's date field (`heldOn` or `on`), named in a future-date refusal.
fn escalation_problem(e: EscalationError, date_field: &str) -> Problem {
    let msg = e.to_string();
    match e {
        EscalationError::ConsultNotPermitted
        | EscalationError::NotPermitted
        | EscalationError::ProviderOnly(_)
        | EscalationError::ProsecutionsOnly
        | EscalationError::OtherSide(_) => Problem::forbidden(&msg),
        EscalationError::Closed
        | EscalationError::ConsultFirst(_)
        | EscalationError::FormalCommunicationFirst
        | EscalationError::AlreadyReferred
        | EscalationError::AlreadyDecided(_) => Problem::conflict(&msg),
        EscalationError::Unknown => Problem::not_found("escalation"),
        EscalationError::FutureDate => Problem::invalid_field(date_field, &msg),
        EscalationError::RegionalOfficeRequired | EscalationError::RegionalOfficeAfter | EscalationError::RegionalOfficeNotApplicable => {
            Problem::invalid_field("regionalOfficeToldOn", &msg)
        }
        EscalationError::MethodRequired | EscalationError::MethodNotApplicable => Problem::invalid_field("method", &msg),
        EscalationError::DecisionRequired | EscalationError::DecisionNotApplicable => Problem::invalid_field("decision", &msg),
        EscalationError::OutcomeRequired => Problem::invalid_field("outcome", &msg),
        EscalationError::TooLong(f) | EscalationError::ControlCharacters(f) => Problem::invalid_field(f, &msg),
    }
}

/// The consultation or escalation a change made (by its timeline entry), as this caller may see it.
fn made_by(actor: &Actor, change: &CaseChange) -> serde_json::Value {
    use cms_domain::case::TimelineKind;
    let (list, id) = match change.timeline.first().map(|e| &e.kind) {
        Some(TimelineKind::Consulted { consultation_id, .. }) => ("consultations", consultation_id),
        Some(TimelineKind::Escalated { escalation_id, .. } | TimelineKind::EscalationOutcome { escalation_id, .. }) => {
            ("escalations", escalation_id)
        }
        Some(TimelineKind::AgencyEngaged { involvement_id, .. }) => ("agencies", involvement_id),
        Some(TimelineKind::AgencyCheckRequested { check_id, .. } | TimelineKind::AgencyCheckAnswered { check_id, .. }) => {
            ("agencyChecks", check_id)
        }
        _ => return serde_json::Value::Null,
    };
    let shown = cms_http::case_for(actor, &change.case);
    shown[list].as_array().and_then(|l| l.iter().find(|x| x["id"] == id.as_str()).cloned()).unwrap_or_default()
}

async fn add_consultation<S: CaseStore + AuditLog + ReadLog, B: EventBus, C: Clock>(
    deps: &Deps<S, B, C>,
    req: &Request,
    actor: &Actor,
) -> Result<Response<Body>, Problem> {
    let id = cms_http::path_id(req, "id", CaseId::parse, "case")?;
    let body: ConsultationBody = cms_http::json_body(req)?;
    let mut errors = Vec::new();
    let about = code(body.about.as_deref(), "about", Step::parse, Step::list(), &mut errors);
    let held_on = date(body.held_on.as_deref(), "heldOn", &mut errors);
    let (Some(about), Some(held_on)) = (about, held_on) else {
        return Err(Problem::invalid(errors));
    };
    let idem = cms_http::idempotency::from_request(req, actor)?;
    let respond = |change: &CaseChange| made_by(actor, change);
    let decide = |case: &Case| {
        escalations::consult(case, actor, about, held_on, body.notes.as_deref(), deps.clock.now(), deps.clock.today_nz())
            .map_err(|e| escalation_problem(e, "heldOn"))
    };
    let change = match add(deps, req, actor, &id, "case.consultation.add", idem.as_ref(), &respond, decide).await? {
        Outcome::Done(change) => change,
        Outcome::Replayed(resp) => return Ok(resp),
    };
    tracing::info!(case_id = %id, role = %actor.role(), about = about.as_str(), "consultation recorded");
    Ok(json(201, &respond(&change)))
}

async fn add_escalation<S: CaseStore + AuditLog + ReadLog + ReferenceData, B: EventBus, C: Clock>(
    deps: &Deps<S, B, C>,
    req: &Request,
    actor: &Actor,
) -> Result<Response<Body>, Problem> {
    let id = cms_http::path_id(req, "id", CaseId::parse, "case")?;
    let body: EscalationBody = cms_http::json_body(req)?;
    let mut errors = Vec::new();
    let kind = code(body.kind.as_deref(), "kind", EscalationKind::parse, EscalationKind::list(), &mut errors);
    let on = date(body.on.as_deref(), "on", &mut errors);
    let method = body.method.as_deref().and_then(|m| code(Some(m), "method", CommMethod::parse, CommMethod::list(), &mut errors));
    let told = body.regional_office_told_on.as_deref().and_then(|d| date(Some(d), "regionalOfficeToldOn", &mut errors));
    let (Some(kind), Some(on), true) = (kind, on, errors.is_empty()) else {
        return Err(Problem::invalid(errors));
    };
    let input = EscalationInput { kind, on, method, regional_office_told_on: told, notes: body.notes.clone() };
    let idem = cms_http::idempotency::from_request(req, actor)?;
    // a forum referral is marked when the case's catchment is a pilot: read the case first (the
    // read the change starts from, so it costs nothing more) and its catchment
    let (loaded, forum_pilot) = if kind == EscalationKind::MultiAgencyForum {
        let case = visible(&deps.store, actor, &id, None).await?;
        let pilot = match &case.catchment_id {
            Some(c) => deps.store.catchment(c).await?.is_some_and(|c| c.forum_pilot),
            None => false,
        };
        (Some(case), pilot)
    } else {
        (None, false)
    };
    let respond = |change: &CaseChange| made_by(actor, change);
    let answer = |c: &CaseChange| (201, respond(c));
    let decide = |case: &Case| {
        escalations::escalate(case, actor, &input, forum_pilot, deps.clock.now(), deps.clock.today_nz())
            .map_err(|e| escalation_problem(e, "on"))
    };
    let change = Change {
        actor,
        case_id: &id,
        basis: Basis::Latest,
        action: "case.escalation.add",
        idempotency: idem.as_ref(),
        answer: &answer,
        loaded,
    };
    let change = match change_case(&deps.store, &deps.bus, &deps.clock, req, change, decide).await? {
        Outcome::Done(change) => change,
        Outcome::Replayed(resp) => return Ok(resp),
    };
    tracing::info!(case_id = %id, role = %actor.role(), escalation = kind.as_str(), "escalation recorded");
    Ok(json(201, &respond(&change)))
}

async fn record_outcome<S: CaseStore + AuditLog + ReadLog, B: EventBus, C: Clock>(
    deps: &Deps<S, B, C>,
    req: &Request,
    actor: &Actor,
) -> Result<Response<Body>, Problem> {
    let id = cms_http::path_id(req, "id", CaseId::parse, "case")?;
    let escalation = cms_http::path_id(req, "escalationId", cms_domain::ids::EntryId::parse, "escalation")?;
    let body: OutcomeBody = cms_http::json_body(req)?;
    let mut errors = Vec::new();
    let decision = body
        .decision
        .as_deref()
        .and_then(|d| code(Some(d), "decision", ProsecutionDecision::parse, ProsecutionDecision::list(), &mut errors));
    if !errors.is_empty() {
        return Err(Problem::invalid(errors));
    }
    let respond = |change: &CaseChange| made_by(actor, change);
    let decide = |case: &Case| {
        escalations::record_outcome(case, actor, &escalation, decision, body.outcome.as_deref(), deps.clock.now())
            .map_err(|e| escalation_problem(e, "on"))
    };
    let change = match add(deps, req, actor, &id, "case.escalation.outcome", None, &respond, decide).await? {
        Outcome::Done(change) => change,
        Outcome::Replayed(resp) => return Ok(resp),
    };
    tracing::info!(case_id = %id, role = %actor.role(), decided = decision.is_some(), "escalation outcome recorded");
    Ok(json(200, &respond(&change)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AgencyBody {
    #[serde(default)]
    agency: Option<String>,
    #[serde(default)]
    detail: Option<String>,
    #[serde(default)]
    since: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckBody {
    #[serde(default)]
    agency: Option<String>,
    #[serde(default)]
    question: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckResultBody {
    #[serde(default)]
    result: Option<String>,
}

fn agency_problem(e: AgencyError) -> Problem {
    let msg = e.to_string();
    match e {
        AgencyError::EngageNotPermitted | AgencyError::RequestNotPermitted | AgencyError::RecordNotPermitted => Problem::forbidden(&msg),
        AgencyError::Closed | AgencyError::AlreadyRecorded | AgencyError::AlreadyAnswered => Problem::conflict(&msg),
        AgencyError::Unknown => Problem::not_found("agency check"),
        AgencyError::FutureDate => Problem::invalid_field("since", &msg),
        AgencyError::ResultRequired => Problem::invalid_field("result", &msg),
        AgencyError::DetailRequired => Problem::invalid_field("detail", &msg),
        AgencyError::TooLong(f, _) | AgencyError::ControlCharacters(f) => Problem::invalid_field(f, &msg),
    }
}

async fn add_agency<S: CaseStore + AuditLog + ReadLog, B: EventBus, C: Clock>(
    deps: &Deps<S, B, C>,
    req: &Request,
    actor: &Actor,
) -> Result<Response<Body>, Problem> {
    let id = cms_http::path_id(req, "id", CaseId::parse, "case")?;
    let body: AgencyBody = cms_http::json_body(req)?;
    let mut errors = Vec::new();
    let agency = code(body.agency.as_deref(), "agency", Agency::parse, Agency::list(), &mut errors);
    let since = date(body.since.as_deref(), "since", &mut errors);
    let (Some(agency), Some(since)) = (agency, since) else {
        return Err(Problem::invalid(errors));
    };
    let idem = cms_http::idempotency::from_request(req, actor)?;
    let respond = |change: &CaseChange| made_by(actor, change);
    let decide = |case: &Case| {
        agencies::engage(case, actor, agency, body.detail.as_deref(), since, deps.clock.now(), deps.clock.today_nz())
            .map_err(agency_problem)
    };
    let change = match add(deps, req, actor, &id, "case.agency.add", idem.as_ref(), &respond, decide).await? {
        Outcome::Done(change) => change,
        Outcome::Replayed(resp) => return Ok(resp),
    };
    tracing::info!(case_id = %id, role = %actor.role(), agency = agency.as_str(), "agency recorded");
    Ok(json(201, &respond(&change)))
}

async fn request_check<S: CaseStore + AuditLog + ReadLog, B: EventBus, C: Clock>(
    deps: &Deps<S, B, C>,
    req: &Request,
    actor: &Actor,
) -> Result<Response<Body>, Problem> {
    let id = cms_http::path_id(req, "id", CaseId::parse, "case")?;
    let body: CheckBody = cms_http::json_body(req)?;
    let mut errors = Vec::new();
    let Some(agency) = code(body.agency.as_deref(), "agency", Agency::parse, Agency::list(), &mut errors) else {
        return Err(Problem::invalid(errors));
    };
    let idem = cms_http::idempotency::from_request(req, actor)?;
    let respond = |change: &CaseChange| made_by(actor, change);
    let decide = |case: &Case| {
        agencies::request_check(case, actor, agency, body.question.as_deref(), deps.clock.now()).map_err(|e| match e {
            AgencyError::DetailRequired => Problem::invalid_field("question", &e.to_string()),
            e => agency_problem(e),
        })
    };
    let change = match add(deps, req, actor, &id, "case.agency_check.request", idem.as_ref(), &respond, decide).await? {
        Outcome::Done(change) => change,
        Outcome::Replayed(resp) => return Ok(resp),
    };
    tracing::info!(case_id = %id, role = %actor.role(), agency = agency.as_str(), "agency check requested");
    Ok(json(201, &respond(&change)))
}

async fn record_check<S: CaseStore + AuditLog + ReadLog, B: EventBus, C: Clock>(
    deps: &Deps<S, B, C>,
    req: &Request,
    actor: &Actor,
) -> Result<Response<Body>, Problem> {
    let id = cms_http::path_id(req, "id", CaseId::parse, "case")?;
    let check = cms_http::path_id(req, "checkId", cms_domain::ids::EntryId::parse, "agency check")?;
    let body: CheckResultBody = cms_http::json_body(req)?;
    let respond = |change: &CaseChange| made_by(actor, change);
    let decide =
        |case: &Case| agencies::record_check(case, actor, &check, body.result.as_deref(), deps.clock.now()).map_err(agency_problem);
    let change = match add(deps, req, actor, &id, "case.agency_check.record", None, &respond, decide).await? {
        Outcome::Done(change) => change,
        Outcome::Replayed(resp) => return Ok(resp),
    };
    tracing::info!(case_id = %id, role = %actor.role(), "agency check recorded");
    Ok(json(200, &respond(&change)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct PlanItemBody {
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    goal_id: Option<String>,
    #[serde(default)]
    owner: Option<String>,
    #[serde(default)]
    due: Option<String>,
    #[serde(default)]
    review_on: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanStateBody {
    #[serde(default)]
    state: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct PlanReviewBody {
    #[serde(default)]
    held_on: Option<String>,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    next_review_on: Option<String>,
}

fn plan_problem(e: PlanError, date_field: &str) -> Problem {
    let msg = e.to_string();
    match e {
        PlanError::NotPermitted => Problem::forbidden(&msg),
        PlanError::Unknown => Problem::not_found("plan item"),
        PlanError::Closed | PlanError::AlreadySettled(_) => Problem::conflict(&msg),
        PlanError::TextRequired("review note") | PlanError::TooLong("review note", _) | PlanError::ControlCharacters("review note") => {
            Problem::invalid_field("note", &msg)
        }
        PlanError::TextRequired(_) | PlanError::TooLong(..) | PlanError::ControlCharacters(_) => Problem::invalid_field("text", &msg),
        PlanError::OwnerRequired => Problem::invalid_field("owner", &msg),
        PlanError::GoalTakesNoOwner | PlanError::GoalUnderGoal | PlanError::TooYoung { .. } => Problem::invalid_field("kind", &msg),
        PlanError::DueRequired => Problem::invalid_field("due", &msg),
        PlanError::PastDate | PlanError::FutureDate => Problem::invalid_field(date_field, &msg),
        PlanError::UnknownGoal => Problem::invalid_field("goalId", &msg),
        PlanError::BackToOpen => Problem::invalid_field("state", &msg),
    }
}

/// The plan item or review a change made or moved, as the API shows it.
fn plan_entry_of(change: &CaseChange) -> serde_json::Value {
    use cms_domain::case::TimelineKind;
    match change.timeline.first().map(|e| &e.kind) {
        Some(TimelineKind::PlanItemRecorded { item_id, .. }) => serde_json::to_value(change.case.plan.iter().find(|i| &i.id == item_id)),
        Some(TimelineKind::PlanReviewed { review_id, .. }) => {
            serde_json::to_value(change.case.plan_reviews.iter().find(|r| &r.id == review_id))
        }
        _ => Ok(serde_json::Value::Null),
    }
    .unwrap_or_default()
}

/// An optional date written `YYYY-MM-DD`, or the field's error.
fn optional_date(value: Option<&str>, field: &str, errors: &mut Vec<FieldError>) -> Option<chrono::NaiveDate> {
    value.and_then(|v| date(Some(v), field, errors))
}

async fn add_plan_item<S: CaseStore, B: EventBus, C: Clock>(
    deps: &Deps<S, B, C>,
    req: &Request,
    actor: &Actor,
) -> Result<Response<Body>, Problem> {
    let id = cms_http::path_id(req, "id", CaseId::parse, "case")?;
    let body: PlanItemBody = cms_http::json_body(req)?;
    let mut errors = Vec::new();
    let kind = code(body.kind.as_deref(), "kind", PlanItemKind::parse, PlanItemKind::list(), &mut errors);
    let owner = body.owner.as_deref().and_then(|o| code(Some(o), "owner", PlanOwner::parse, PlanOwner::list(), &mut errors));
    let due = optional_date(body.due.as_deref(), "due", &mut errors);
    let review_on = optional_date(body.review_on.as_deref(), "reviewOn", &mut errors);
    let goal_id = match body.goal_id.as_deref().map(cms_domain::ids::EntryId::parse) {
        None => None,
        Some(Ok(g)) => Some(g),
        Some(Err(_)) => {
            errors.push(FieldError { field: "goalId".into(), message: "is not a goal id".into() });
            None
        }
    };
    let Some(kind) = kind else {
        return Err(Problem::invalid(errors));
    };
    if !errors.is_empty() {
        return Err(Problem::invalid(errors));
    }
    let idem = cms_http::idempotency::from_request(req, actor)?;
    let respond = |change: &CaseChange| plan_entry_of(change);
    let decide = |case: &Case| {
        let input = ItemInput { kind, text: body.text.as_deref(), goal_id: goal_id.clone(), owner, due, review_on };
        let date_field = if due.is_some_and(|d| d < deps.clock.today_nz()) { "due" } else { "reviewOn" };
        plan::add_item(case, actor, input, deps.clock.now(), deps.clock.today_nz()).map_err(|e| plan_problem(e, date_field))
    };
    let change = match add(deps, req, actor, &id, "case.plan.item.add", idem.as_ref(), &respond, decide).await? {
        Outcome::Done(change) => change,
        Outcome::Replayed(resp) => return Ok(resp),
    };
    tracing::info!(case_id = %id, role = %actor.role(), kind = kind.as_str(), "plan item added");
    Ok(json(201, &respond(&change)))
}

async fn update_plan_item<S: CaseStore, B: EventBus, C: Clock>(
    deps: &Deps<S, B, C>,
    req: &Request,
    actor: &Actor,
) -> Result<Response<Body>, Problem> {
    let id = cms_http::path_id(req, "id", CaseId::parse, "case")?;
    let item = cms_http::path_id(req, "itemId", cms_domain::ids::EntryId::parse, "plan item")?;
    let body: PlanStateBody = cms_http::json_body(req)?;
    let to = body
        .state
        .as_deref()
        .and_then(PlanItemState::parse)
        .filter(|s| *s != PlanItemState::Open)
        .ok_or_else(|| Problem::invalid_field("state", "must be one of: done, dropped (an item does not go back to open)"))?;
    let respond = |change: &CaseChange| plan_entry_of(change);
    let decide = |case: &Case| plan::set_state(case, actor, &item, to, deps.clock.now()).map_err(|e| plan_problem(e, "state"));
    let change = match add(deps, req, actor, &id, "case.plan.item.update", None, &respond, decide).await? {
        Outcome::Done(change) => change,
        Outcome::Replayed(resp) => return Ok(resp),
    };
    tracing::info!(case_id = %id, role = %actor.role(), state = to.as_str(), "plan item settled");
    Ok(json(200, &respond(&change)))
}

async fn review_plan<S: CaseStore, B: EventBus, C: Clock>(
    deps: &Deps<S, B, C>,
    req: &Request,
    actor: &Actor,
) -> Result<Response<Body>, Problem> {
    let id = cms_http::path_id(req, "id", CaseId::parse, "case")?;
    let body: PlanReviewBody = cms_http::json_body(req)?;
    let mut errors = Vec::new();
    let held_on = date(body.held_on.as_deref(), "heldOn", &mut errors);
    let next = optional_date(body.next_review_on.as_deref(), "nextReviewOn", &mut errors);
    let Some(held_on) = held_on else {
        return Err(Problem::invalid(errors));
    };
    if !errors.is_empty() {
        return Err(Problem::invalid(errors));
    }
    let idem = cms_http::idempotency::from_request(req, actor)?;
    let respond = |change: &CaseChange| plan_entry_of(change);
    let decide = |case: &Case| {
        let date_field = if held_on > deps.clock.today_nz() { "heldOn" } else { "nextReviewOn" };
        plan::review(case, actor, held_on, body.note.as_deref(), next, deps.clock.now(), deps.clock.today_nz())
            .map_err(|e| plan_problem(e, date_field))
    };
    let change = match add(deps, req, actor, &id, "case.plan.review", idem.as_ref(), &respond, decide).await? {
        Outcome::Done(change) => change,
        Outcome::Replayed(resp) => return Ok(resp),
    };
    tracing::info!(case_id = %id, role = %actor.role(), "plan reviewed");
    Ok(json(201, &respond(&change)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SpendBody {
    #[serde(default)]
    category: Option<String>,
    #[serde(default, rename = "amountCents")]
    amount_cents: Option<serde_json::Value>,
    #[serde(default)]
    on: Option<String>,
    #[serde(default)]
    note: Option<String>,
    #[serde(default, rename = "receiptFileId")]
    receipt_file_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RefundBody {
    #[serde(default, rename = "amountCents")]
    amount_cents: Option<serde_json::Value>,
    #[serde(default)]
    on: Option<String>,
    #[serde(default)]
    note: Option<String>,
}

/// A whole number of cents, or the field's error.
fn cents(value: Option<&serde_json::Value>, errors: &mut Vec<FieldError>) -> Option<u64> {
    let n = value.and_then(serde_json::Value::as_u64).filter(|n| (1..=fund::MAX_SPEND_CENTS).contains(n));
    if n.is_none() {
        let message = "must be the amount in cents, a whole number from 1 to 10000000 ($100,000.00)";
        errors.push(FieldError { field: "amountCents".into(), message: message.into() });
    }
    n
}

fn fund_problem(e: FundError) -> Problem {
    let msg = e.to_string();
    match e {
        FundError::NotPermitted => Problem::forbidden(&msg),
        FundError::Unknown => Problem::not_found("fund spend"),
        FundError::Amount | FundError::RefundTooLarge { .. } => Problem::invalid_field("amountCents", &msg),
        FundError::FutureDate | FundError::RefundBeforeSpend => Problem::invalid_field("on", &msg),
        FundError::NoteRequired | FundError::NoteTooLong | FundError::ControlCharacters => Problem::invalid_field("note", &msg),
        FundError::Closed | FundError::NoContract | FundError::OverCap { .. } => Problem::conflict(&msg),
        FundError::CounterBehind => {
            tracing::error!("fund counter below the case's spends");
            Problem::conflict(&msg)
        }
    }
}

/// The spend a change made or refunded, as the API shows it.
fn spend_of(change: &CaseChange) -> serde_json::Value {
    use cms_domain::case::TimelineKind;
    let id = match change.timeline.first().map(|e| &e.kind) {
        Some(TimelineKind::FundSpent { spend_id, .. } | TimelineKind::FundRefunded { spend_id, .. }) => Some(spend_id),
        _ => None,
    };
    serde_json::to_value(change.case.fund_spends.iter().find(|s| Some(&s.id) == id)).unwrap_or_default()
}

/// What a fund decision needs besides the case: its provider (with the contract value) and the
/// provider's total for the year, read only for those who may spend on the case.
async fn fund_of<S: ReferenceData + FundStore>(
    store: &S,
    actor: &Actor,
    case: &Case,
    year: Result<ContractYear, FundError>,
) -> Result<(cms_domain::catchment::Provider, u64), Problem> {
    use cms_domain::access::{permits, CaseAction};
    let refused = || fund_problem(FundError::NotPermitted);
    if !permits(actor, case, CaseAction::SpendFund) {
        return Err(refused());
    }
    let year = year.map_err(fund_problem)?;
    let provider_id = case.provider_id.as_ref().ok_or_else(refused)?;
    let provider = store.provider(provider_id).await?.ok_or_else(refused)?;
    let spent = store.fund_spent(provider_id, year.0).await?;
    Ok((provider, spent))
}

async fn spend_fund<S: CaseStore + ReferenceData + FundStore + FileRecords, B: EventBus, C: Clock>(
    deps: &Deps<S, B, C>,
    req: &Request,
    actor: &Actor,
) -> Result<Response<Body>, Problem> {
    let id = cms_http::path_id(req, "id", CaseId::parse, "case")?;
    let body: SpendBody = cms_http::json_body(req)?;
    let mut errors = Vec::new();
    let category = code(body.category.as_deref(), "category", FundCategory::parse, FundCategory::list(), &mut errors);
    let amount = cents(body.amount_cents.as_ref(), &mut errors);
    let on = date(body.on.as_deref(), "on", &mut errors);
    let receipt = match body.receipt_file_id.as_deref().map(cms_domain::files::FileId::parse) {
        None => None,
        Some(Ok(f)) => Some(f),
        Some(Err(_)) => {
            errors.push(FieldError { field: "receiptFileId".into(), message: "is not a file id".into() });
            None
        }
    };
    let (Some(category), Some(amount_cents), Some(on)) = (category, amount, on) else {
        return Err(Problem::invalid(errors));
    };
    if !errors.is_empty() {
        return Err(Problem::invalid(errors));
    }
    let idem = cms_http::idempotency::from_request(req, actor)?;
    let answer = |c: &CaseChange| (201, spend_of(c));
    let change = Change {
        actor,
        case_id: &id,
        basis: Basis::Latest,
        action: "case.fund.spend",
        idempotency: idem.as_ref(),
        answer: &answer,
        loaded: None,
    };
    let read = |case: &Case| {
        let (case, receipt) = (case.clone(), receipt.clone());
        async move {
            let found = fund_of(&deps.store, actor, &case, Ok(ContractYear::of(on))).await?;
            if let Some(f) = &receipt {
                let on_case = deps.store.file(&case.id, f).await?;
                if !on_case.is_some_and(|r| r.status == cms_domain::files::FileStatus::Confirmed) {
                    return Err(Problem::invalid_field(
                        "receiptFileId",
                        "is not a file on this case: attach the receipt to the case first",
                    ));
                }
            }
            Ok(found)
        }
    };
    let decide = |case: &Case, (provider, spent): &(cms_domain::catchment::Provider, u64)| {
        let input =
            SpendInput { category, amount_cents, on, note: body.note.as_deref(), receipt_file_id: receipt.as_ref().map(|f| f.to_string()) };
        fund::spend(case, actor, provider, *spent, input, deps.clock.now(), deps.clock.today_nz()).map_err(fund_problem)
    };
    let change = match change_case_with(&deps.store, &deps.bus, &deps.clock, req, change, read, decide).await? {
        Outcome::Done(change) => change,
        Outcome::Replayed(resp) => return Ok(resp),
    };
    tracing::info!(case_id = %id, role = %actor.role(), category = category.as_str(), "fund spend recorded");
    Ok(json(201, &spend_of(&change)))
}

async fn refund_fund<S: CaseStore + ReferenceData + FundStore, B: EventBus, C: Clock>(
    deps: &Deps<S, B, C>,
    req: &Request,
    actor: &Actor,
) -> Result<Response<Body>, Problem> {
    let id = cms_http::path_id(req, "id", CaseId::parse, "case")?;
    let spend = cms_http::path_id(req, "spendId", cms_domain::ids::EntryId::parse, "fund spend")?;
    let body: RefundBody = cms_http::json_body(req)?;
    let mut errors = Vec::new();
    let amount = cents(body.amount_cents.as_ref(), &mut errors);
    let on = date(body.on.as_deref(), "on", &mut errors);
    let (Some(amount_cents), Some(on)) = (amount, on) else {
        return Err(Problem::invalid(errors));
    };
    let idem = cms_http::idempotency::from_request(req, actor)?;
    let answer = |c: &CaseChange| (201, spend_of(c));
    let change = Change {
        actor,
        case_id: &id,
        basis: Basis::Latest,
        action: "case.fund.refund",
        idempotency: idem.as_ref(),
        answer: &answer,
        loaded: None,
    };
    let read = |case: &Case| {
        let (case, spend) = (case.clone(), spend.clone());
        async move { fund_of(&deps.store, actor, &case, fund::year_of(&case, &spend)).await }
    };
    let decide = |case: &Case, (provider, spent): &(cms_domain::catchment::Provider, u64)| {
        fund::refund(case, actor, provider, *spent, &spend, amount_cents, on, body.note.as_deref(), deps.clock.now(), deps.clock.today_nz())
            .map_err(fund_problem)
    };
    let change = match change_case_with(&deps.store, &deps.bus, &deps.clock, req, change, read, decide).await? {
        Outcome::Done(change) => change,
        Outcome::Replayed(resp) => return Ok(resp),
    };
    tracing::info!(case_id = %id, role = %actor.role(), "fund refund recorded");
    Ok(json(201, &spend_of(&change)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ActivityBody {
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    date: Option<String>,
    #[serde(default)]
    attendees: Option<Vec<String>>,
    #[serde(default)]
    notes: Option<String>,
    #[serde(default)]
    shared: Option<bool>,
}

async fn add_comment<S: CaseStore + AuditLog + ReadLog, B: EventBus, C: Clock>(
    deps: &Deps<S, B, C>,
    req: &Request,
    actor: &Actor,
) -> Result<Response<Body>, Problem> {
    let id = cms_http::path_id(req, "id", CaseId::parse, "case")?;
    let body: CommentBody = cms_http::json_body(req)?;
    let text = body.text.ok_or_else(|| Problem::invalid_field("text", "enter the comment"))?;
    let idem = cms_http::idempotency::from_request(req, actor)?;
    let respond = |change: &CaseChange| serde_json::to_value(&change.timeline[0]).unwrap_or_default();
    let decide = |case: &Case| comment(case, actor, &text, body.shared, deps.clock.now()).map_err(activity_problem);
    let change = match add(deps, req, actor, &id, "case.comment.add", idem.as_ref(), &respond, decide).await? {
        Outcome::Done(change) => change,
        Outcome::Replayed(resp) => return Ok(resp),
    };
    let entry = &change.timeline[0];
    tracing::info!(case_id = %id, entry_id = %entry.id, role = %actor.role(), shared = entry.shared_with_school, "comment added");
    Ok(json(201, &respond(&change)))
}

async fn add_activity<S: CaseStore + AuditLog + ReadLog, B: EventBus, C: Clock>(
    deps: &Deps<S, B, C>,
    req: &Request,
    actor: &Actor,
) -> Result<Response<Body>, Problem> {
    let id = cms_http::path_id(req, "id", CaseId::parse, "case")?;
    let body: ActivityBody = cms_http::json_body(req)?;
    let mut errors = Vec::new();
    let kind = match body.kind.as_deref() {
        Some(k) => ActivityType::parse(k),
        None => None,
    };
    if kind.is_none() {
        let allowed = ActivityType::ALL.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(", ");
        errors.push(FieldError { field: "type".into(), message: format!("must be one of: {allowed}") });
    }
    let date = body.date.as_deref().and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
    if date.is_none() {
        errors
            .push(FieldError { field: "date".into(), message: "must be a real date written as YYYY-MM-DD, for example 2026-03-05".into() });
    }
    let (Some(kind), Some(date)) = (kind, date) else {
        return Err(Problem::invalid(errors));
    };
    let input = ActivityInput { kind, date, attendees: body.attendees.unwrap_or_default(), notes: body.notes, shared: body.shared };
    let idem = cms_http::idempotency::from_request(req, actor)?;
    let respond = |change: &CaseChange| {
        let mut out = serde_json::to_value(&change.timeline[0]).unwrap_or_default();
        if let Some(o) = out.as_object_mut() {
            o.insert("caseVersion".into(), json!(change.case.version));
            o.insert("schoolMetOn".into(), json!(change.case.school_met_on));
            o.insert("whanauMetOn".into(), json!(change.case.whanau_met_on));
        }
        out
    };
    let decide = |case: &Case| record_activity(case, actor, &input, deps.clock.now(), deps.clock.today_nz()).map_err(activity_problem);
    let change = match add(deps, req, actor, &id, "case.activity.add", idem.as_ref(), &respond, decide).await? {
        Outcome::Done(change) => change,
        Outcome::Replayed(resp) => return Ok(resp),
    };
    let entry = &change.timeline[0];
    tracing::info!(case_id = %id, entry_id = %entry.id, activity = kind.as_str(), "activity recorded");
    Ok(json(201, &respond(&change)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct PrimaryContactBody {
    #[serde(default)]
    user_id: Option<String>,
    #[serde(default)]
    version: Option<serde_json::Value>,
}

/// The case at the version the caller is looking at (404 unless visible, 409 when it moved on).
async fn case_at<S: CaseStore>(store: &S, id: &CaseId, actor: &Actor, expected: u64) -> Result<Case, Problem> {
    let case = visible(store, actor, id, None).await?;
    if case.version != expected {
        return Err(cms_http::stale_for(actor, &case));
    }
    Ok(case)
}

/// Commit a change made against the caller's version (decided on `case`, as read, and again on
/// a retry that found the same version): a concurrent change is theirs to see (409).
async fn commit_at<S: CaseStore, B: EventBus, C: Clock>(
    deps: &Deps<S, B, C>,
    req: &Request,
    actor: &Actor,
    case: Case,
    expected: u64,
    action: &str,
    decide: impl Fn(&Case) -> Result<CaseChange, Problem>,
) -> Result<Response<Body>, Problem> {
    let change = Change {
        actor,
        case_id: &case.id.clone(),
        basis: Basis::Version(expected),
        action,
        idempotency: None,
        answer: &|_| (200, serde_json::Value::Null),
        loaded: Some(case),
    };
    match change_case(&deps.store, &deps.bus, &deps.clock, req, change, decide).await? {
        Outcome::Done(change) => Ok(with_etag(json(200, &cms_http::case_for(actor, &change.case)), change.case.version)),
        Outcome::Replayed(resp) => Ok(resp),
    }
}

fn with_etag(mut resp: Response<Body>, version: u64) -> Response<Body> {
    if let Ok(v) = format!("\"{version}\"").parse() {
        resp.headers_mut().insert("etag", v);
    }
    resp
}

async fn contacts<S: CaseStore + AuditLog + ReadLog, B: EventBus, C: Clock>(
    deps: &Deps<S, B, C>,
    req: &Request,
    actor: &Actor,
) -> Result<Response<Body>, Problem> {
    let id = cms_http::path_id(req, "id", CaseId::parse, "case")?;
    let form: ContactsForm = cms_http::json_body(req)?;
    let expected = cms_http::expected_version(req, form.version.as_ref())?;
    let case = case_at(&deps.store, &id, actor, expected).await?;
    if update_contacts(&case, actor, &form, deps.clock.now()).map_err(activity_problem)?.is_none() {
        // nothing differs from what the case holds: no change, no new version
        return Ok(with_etag(json(200, &cms_http::case_for(actor, &case)), case.version));
    }
    let decide = |c: &Case| {
        update_contacts(c, actor, &form, deps.clock.now())
            .map_err(activity_problem)?
            .ok_or_else(|| Problem::conflict("The case was changed by someone else. Please try again."))
    };
    let resp = commit_at(deps, req, actor, case, expected, "case.contacts.update", decide).await?;
    tracing::info!(case_id = %id, role = %actor.role(), version = expected + 1, "contacts updated");
    Ok(resp)
}

async fn primary_contact<S: CaseStore + AuditLog + ReadLog + ReferenceData, B: EventBus, C: Clock>(
    deps: &Deps<S, B, C>,
    req: &Request,
    actor: &Actor,
) -> Result<Response<Body>, Problem> {
    let id = cms_http::path_id(req, "id", CaseId::parse, "case")?;
    let body: PrimaryContactBody = cms_http::json_body(req)?;
    let expected = cms_http::expected_version(req, body.version.as_ref())?;
    let case = case_at(&deps.store, &id, actor, expected).await?;
    let not_staff = || Problem::invalid_field("userId", "must be an Attendance Lead or School Primary Contact of the student's school");
    let user_id = match body.user_id.as_deref().map(str::trim) {
        None | Some("") => return Err(Problem::invalid_field("userId", "is required: the user id of the new School Primary Contact")),
        Some(u) => UserId::parse(u).map_err(|_| not_staff())?,
    };
    let u = match deps.store.user(&user_id).await? {
        Some(u) => u,
        // nobody by that id: still ask the policy first, so a refused caller learns nothing
        None => {
            if !cms_domain::access::permits(actor, &case, cms_domain::access::CaseAction::ChangePrimaryContact) {
                return Err(activity_problem(ActivityError::NotPermitted(
                    "Only the school's Attendance Lead or the case's provider can change its School Primary Contact.",
                )));
            }
            return Err(not_staff());
        }
    };
    let decide = |c: &Case| change_primary_contact(c, actor, &u, deps.clock.now()).map_err(activity_problem);
    let resp = commit_at(deps, req, actor, case, expected, "case.primary_contact.change", decide).await?;
    tracing::info!(case_id = %id, role = %actor.role(), "primary contact changed");
    Ok(resp)
}

/// An addition to the case (a comment, an activity): decided on whatever the case is now, with
/// the request's `Idempotency-Key` honoured (see [`cms_http::usecase`]).
#[allow(clippy::too_many_arguments)]
async fn add<S: CaseStore, B: EventBus, C: Clock>(
    deps: &Deps<S, B, C>,
    req: &Request,
    actor: &Actor,
    id: &CaseId,
    action: &str,
    idem: Option<&Idempotency>,
    respond: &(dyn Fn(&CaseChange) -> serde_json::Value + Sync),
    decide: impl Fn(&Case) -> Result<CaseChange, Problem>,
) -> Result<Outcome, Problem> {
    let answer = |c: &CaseChange| (201, respond(c));
    let change = Change { actor, case_id: id, basis: Basis::Latest, action, idempotency: idem, answer: &answer, loaded: None };
    change_case(&deps.store, &deps.bus, &deps.clock, req, change, decide).await
}

async fn timeline<S: CaseStore + AuditLog + ReadLog, B: EventBus, C: Clock>(
    deps: &Deps<S, B, C>,
    req: &Request,
    actor: &Actor,
) -> Result<Response<Body>, Problem> {
    let id = cms_http::path_id(req, "id", CaseId::parse, "case")?;
    let limit = cms_http::limit(req)?;
    let case = visible(&deps.store, actor, &id, None).await?;
    // School users see only shared entries: keep reading until the page is full or the timeline
    // ends, asking each time for no more than the room left (so the cursor never skips an entry).
    let mut items = Vec::new();
    let mut cursor = cms_http::query(req, "cursor");
    for _ in 0..20 {
        let want = limit - items.len() as u32;
        let page = deps.store.timeline_page(&id, want, cursor.take()).await?;
        items.extend(page.items.into_iter().filter(|e| can_see_entry(actor, &case, e)));
        cursor = page.next;
        if cursor.is_none() || items.len() as u32 >= limit {
            break;
        }
    }
    // recorded once the page is read (a refused request, e.g. a bad cursor, shows nothing)
    cms_http::audit_read(&deps.store, actor, &id, "case.timeline.read", req, deps.clock.now()).await?;
    tracing::info!(case_id = %id, role = %actor.role(), count = items.len(), "timeline read");
    Ok(json(200, &json!({ "items": items, "nextCursor": cursor })))
}

fn activity_problem(e: ActivityError) -> Problem {
    match e {
        ActivityError::NotVisible => Problem::not_found("case"),
        ActivityError::NotPermitted(m) => Problem::forbidden(m),
        ActivityError::Closed(m) => Problem::conflict(m),
        ActivityError::Invalid(errors) => Problem::invalid(errors),
    }
}
