//! `case-query`: what a signed-in user can see.
//!
//! - `GET /cases?status=&limit=&cursor=` — the caller's cases: a school's Attendance Lead and Office
//!   Support see the school's cases, a School Primary Contact the cases they are named on, provider
//!   staff their provider's queue and caseload, Ministry roles all cases.
//! - `GET /cases/{id}` — one case; a case the caller may not see is "not found". It carries `sla`:
//!   the two SLA clocks (school meeting, 5 working days; student/whānau meeting, 10) with their due
//!   dates and state on today's New Zealand date (met / due / breached). Once a case is closed the
//!   clocks stop: each shows its due date and `met` (with the date) or `not_met`, never `breached`.
//!   `safetyWarning: true` when the case has safety notes and the caller may read them.
//! - `GET /me` — the caller: user id, role, organisation, name, and what they may do (the
//!   portal decides its menus from this; the API still checks every request)
//! - `GET /cases/{id}/audit` — the case's audit trail and whether its hash chain verifies
//!   (national and regional staff).
//! - `GET /cases?q=` — search within the caller's own list: by NSN (exact, through the student's
//!   key), or by name (accent- and case-insensitive, part of the name) — with `dateOfBirth`, an
//!   exact name match through the name key in any scope; without it, over the caller's own list
//!   (up to [`NAME_SCAN_LIMIT`] cases; Ministry-wide name searches need the date of birth).
//! - `GET /exports/cases?status=` — the caller's case list as CSV ([`exports`]).
//! - Dashboards ([`dashboards`]): `GET /dashboards/schools/{id}`, `/providers/{id}`, `/regions/{id}`, `/national`.
//! - The directory ([`directory`]): `GET /schools/{id}`, `GET /providers`, `GET /providers/{id}`, `GET /providers/{id}/fund`.
//!
//! Every read is recorded in the audit trail before the data is returned: a list page as one
//! `case.listed` entry naming every case shown (docs/adr/0012-audit-reads-and-writes.md).

pub mod dashboards;
pub mod directory;
pub mod exports;

use cms_aws::{DynamoStore, SecretsManagerStudentKeys};
use cms_domain::access::{can_view_case, list_scope, sees_only_handover, status_filter, window, CaseAction, ListScope};
use cms_domain::actor::Actor;
use cms_domain::case::{Case, CaseStatus};
use cms_domain::ids::CaseId;
use cms_domain::ports::{
    AuditLog, CaseListQuery, CaseStore, Clock, DashboardStore, DigestStore, FundStore, InitiativeStore, ReadLog, ReferenceData,
    StudentKeySource, SystemClock, Wanted,
};
use cms_domain::sla::{sla_views, SlaState};
use cms_domain::student::{name_matches, parse_date, Nsn, PersonName};
use cms_http::usecase::read_case;
use cms_http::Route;
use cms_http::{json, Problem};
use lambda_http::{Body, Request, Response};
use serde_json::json;

/// A name search without a date of birth reads at most this many of the caller's cases.
pub const NAME_SCAN_LIMIT: usize = 2000;

pub struct Deps<S, C, K> {
    pub store: S,
    pub clock: C,
    pub keys: K,
}

pub type AwsDeps = Deps<DynamoStore, SystemClock, SecretsManagerStudentKeys>;

pub fn aws_deps(sdk: &aws_config::SdkConfig, env: &cms_aws::Env) -> AwsDeps {
    let secret = env.student_key_secret_id.clone().unwrap_or_else(|| "student-keys".into());
    Deps {
        store: DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), &env.table_name),
        clock: SystemClock,
        keys: SecretsManagerStudentKeys::new(aws_sdk_secretsmanager::Client::new(sdk), secret),
    }
}

pub async fn handle<
    S: CaseStore + AuditLog + ReadLog + ReferenceData + FundStore + InitiativeStore + DigestStore + DashboardStore,
    C: Clock,
    K: StudentKeySource,
>(
    deps: &Deps<S, C, K>,
    req: Request,
) -> Response<Body> {
    cms_http::answer(&req, route(deps, &req)).await
}

async fn route<
    S: CaseStore + AuditLog + ReadLog + ReferenceData + FundStore + InitiativeStore + DigestStore + DashboardStore,
    C: Clock,
    K: StudentKeySource,
>(
    deps: &Deps<S, C, K>,
    req: &Request,
) -> Result<Response<Body>, Problem> {
    let actor = cms_http::actor(req)?;
    match Route::of(req) {
        Some(Route::Me) => me(&deps.store, &actor).await,
        Some(Route::School) => directory::school(&deps.store, &actor, req).await,
        Some(Route::Providers) => directory::providers(&deps.store).await,
        Some(Route::Provider) => directory::provider(&deps.store, &actor, req).await,
        Some(Route::ListInitiatives) => directory::initiatives(&deps.store, &actor, req).await,
        Some(Route::ExportCases) => exports::cases(&deps.store, &actor, req, deps.clock.now()).await,
        Some(Route::SchoolDashboard) => dashboards::school(&deps.store, &actor, req, deps.clock.today_nz()).await,
        Some(Route::ProviderDashboard) => dashboards::provider(&deps.store, &actor, req, deps.clock.today_nz()).await,
        Some(Route::RegionDashboard) => dashboards::region(&deps.store, &actor, req, deps.clock.today_nz()).await,
        Some(Route::NationalDashboard) => dashboards::national(&deps.store, &actor, req, deps.clock.today_nz()).await,
        Some(Route::ProviderFund) => directory::fund(&deps.store, &actor, req, deps.clock.today_nz()).await,
        Some(Route::ListCases) => {
            let status = status_filter(cms_http::query(req, "status").as_deref()).map_err(|m| Problem::invalid_field("status", &m))?;
            let limit = cms_http::limit(req)?;
            let (found, next) = match cms_http::query(req, "q") {
                Some(q) => (search(deps, &actor, req, &q, status, limit as usize).await?, None),
                None => {
                    let q = CaseListQuery { scope: list_scope(&actor), status, limit, cursor: cms_http::query(req, "cursor") };
                    let page = deps.store.list_cases(&q).await?;
                    (page.items, page.next)
                }
            };
            // the index chose the rows; the policy still has the last word on each one
            let visible: Vec<&Case> = found.iter().filter(|c| can_view_case(&actor, c)).collect();
            let shown: Vec<CaseId> = visible.iter().map(|c| c.id.clone()).collect();
            cms_http::audit_list(&deps.store, &actor, &shown, "case.listed", req, deps.clock.now()).await?;
            let items: Vec<_> = visible.into_iter().map(summary).collect();
            tracing::info!(role = %actor.role(), count = items.len(), "cases listed");
            Ok(json(200, &json!({ "items": items, "nextCursor": next })))
        }
        Some(Route::GetCase) => {
            let id = cms_http::path_id(req, "id", CaseId::parse, "case")?;
            let c = read_case(&deps.store, &actor, &id, None, "case.read", req, deps.clock.now()).await?;
            tracing::info!(case_id = %c.id, role = %actor.role(), "case viewed");
            if sees_only_handover(&actor, &c) {
                // a school the case moved away from: what it referred, nothing current
                return Ok(json(200, &handed_over_view(&actor, &c)));
            }
            let mut view = case_view(&c, deps.clock.today_nz());
            let names = names(&deps.store, &c).await?;
            if let Some(obj) = view.as_object_mut() {
                obj.insert("names".into(), names);
                cms_http::redact_for(&actor, &c, obj);
            }
            Ok(json(200, &view))
        }
        Some(Route::CaseAudit) => {
            let id = cms_http::path_id(req, "id", CaseId::parse, "case")?;
            let only_ministry = "Only national and regional Ministry staff can read a case's audit trail.";
            let require = Some((CaseAction::ViewAudit, only_ministry));
            let case = read_case(&deps.store, &actor, &id, require, "case.audit.read", req, deps.clock.now()).await?;
            let entries = deps.store.entries(&case.id).await?;
            let reads = deps.store.reads_of(&case.id).await?;
            // the case's chain is checked link by link; each read on its own (its chain, with the
            // other cases' reads and the lists, is checked by the verify-audit command)
            let verified = cms_domain::audit::verify_chain(&case.id, &entries).and_then(|n| {
                match reads.iter().find(|r| !cms_domain::audit::read_entry_sound(r)) {
                    Some(bad) => Err(cms_domain::audit::ChainBreak::ReadAltered { chain: bad.chain.clone(), seq: bad.seq }),
                    None => Ok(n),
                }
            });
            Ok(json(
                200,
                &json!({
                    "caseId": case.id,
                    "entries": entries,
                    "reads": reads,
                    "chain": match &verified {
                        Ok(n) => json!({ "intact": true, "entries": n, "reads": reads.len() }),
                        Err(b) => json!({ "intact": false, "problem": b.to_string() }),
                    },
                }),
            ))
        }
        _ => Err(Problem::method_not_allowed()),
    }
}

/// `GET /cases?q=`: the caller's cases for one student (NSN, or name and date of birth), or whose
/// name contains the words searched for. The caller's own scope only; newest first.
async fn search<S: CaseStore + ReferenceData, C, K: StudentKeySource>(
    deps: &Deps<S, C, K>,
    actor: &Actor,
    req: &Request,
    q: &str,
    status: Option<CaseStatus>,
    limit: usize,
) -> Result<Vec<Case>, Problem> {
    let q = q.trim();
    let dob = cms_http::query(req, "dateOfBirth");
    let keys = || async { deps.keys.keys().await.map_err(Problem::from) };
    let by_key = if q.bytes().all(|b| b.is_ascii_digit()) && !q.is_empty() {
        let nsn = Nsn::parse(q).map_err(|m| Problem::invalid_field("q", m))?;
        Some(keys().await?.nsn_only(&nsn))
    } else {
        let name = PersonName::parse(q)
            .map_err(|_| Problem::invalid_field("q", "must be a National Student Number (digits only) or part of the student's name"))?;
        match dob {
            Some(d) => {
                let dob = parse_date(&d).map_err(|m| Problem::invalid_field("dateOfBirth", m))?;
                Some(keys().await?.name_dob_only(&name, dob))
            }
            None if list_scope(actor) == ListScope::National => {
                return Err(Problem::invalid_field(
                    "dateOfBirth",
                    "is needed to search every case by name: give the student's date of birth as well, or search by NSN",
                ))
            }
            None => return scan_by_name(deps, actor, &name, status, limit).await,
        }
    };
    let who = by_key.expect("a key search");
    let mut found = deps.store.cases_for_student(&who).await?;
    found.retain(|c| status.is_none_or(|s| c.status == s) && can_view_case(actor, c));
    found.reverse();
    found.truncate(limit);
    Ok(found)
}

/// A name search over the caller's own (school, provider or contact) list.
async fn scan_by_name<S: CaseStore, C, K>(
    deps: &Deps<S, C, K>,
    actor: &Actor,
    name: &PersonName,
    status: Option<CaseStatus>,
    limit: usize,
) -> Result<Vec<Case>, Problem> {
    let mut out = Vec::new();
    let mut cursor = None;
    let mut read = 0;
    loop {
        let q = CaseListQuery { scope: list_scope(actor), status, limit: 100, cursor: cursor.take() };
        let page = deps.store.list_cases(&q).await?;
        read += page.items.len();
        out.extend(page.items.into_iter().filter(|c| name_matches(&c.student.full_name, name)));
        match page.next {
            Some(n) if out.len() < limit && read < NAME_SCAN_LIMIT => cursor = Some(n),
            _ => break,
        }
    }
    out.truncate(limit);
    Ok(out)
}

/// Display names for the ids a case view carries (school, provider, Case Manager, Primary
/// Contact): staff and organisations only, from the reference data.
async fn names<S: ReferenceData>(store: &S, c: &Case) -> Result<serde_json::Value, Problem> {
    // one lookup (one round trip for whatever this instance does not already keep)
    let users: Vec<_> = [&c.case_manager, &c.primary_contact].into_iter().flatten().cloned().collect();
    let wanted = Wanted { schools: vec![c.school_id.clone()], providers: c.provider_id.iter().cloned().collect(), users };
    let found = store.lookup(&wanted).await?;
    let mut names = serde_json::Map::new();
    if let Some(s) = found.schools.get(&c.school_id) {
        names.insert("school".into(), json!(s.name));
    }
    if let Some(p) = c.provider_id.as_ref().and_then(|p| found.providers.get(p)) {
        names.insert("provider".into(), json!(p.name));
    }
    for (field, user) in [("caseManager", &c.case_manager), ("primaryContact", &c.primary_contact)] {
        if let Some(u) = user.as_ref().and_then(|u| found.users.get(u)) {
            names.insert(field.into(), json!(u.display_name));
        }
    }
    Ok(serde_json::Value::Object(names))
}

/// The caller as the portal needs them. The name comes from the user record (reference data);
/// for those case emails go to, their email preference with it (one read).
async fn me<S: ReferenceData + DigestStore>(store: &S, actor: &cms_domain::actor::Actor) -> Result<Response<Body>, Problem> {
    use cms_domain::actor::{Org, Role};
    let chooses = cms_domain::access::can_choose_email_digest(actor);
    let (user, preference) = if chooses {
        match store.recipient(actor.user_id()).await? {
            Some((u, p)) => (Some(u), Some(p)),
            None => (None, None),
        }
    } else {
        (store.user(actor.user_id()).await?, None)
    };
    let (kind, id, region) = match actor.org() {
        Org::School(s) => ("school", Some(s.to_string()), None),
        Org::Provider(p) => ("provider", Some(p.to_string()), None),
        Org::Ministry(r) => ("ministry", None, r.as_ref().map(|r| r.to_string())),
    };
    let role = actor.role();
    let mut org = json!({ "kind": kind });
    if let Some(id) = id {
        org["id"] = json!(id);
    }
    if let Some(r) = region {
        org["regionId"] = json!(r);
    }
    let mut body = json!({
        "userId": actor.user_id(),
        "role": role.as_str(),
        "organisation": org,
        "can": {
            "makeRequests": cms_domain::access::can_make_requests(actor).is_some(),
            "listCases": true,
            "citReview": role == Role::Cit,
            "readAudit": matches!(role, Role::National | Role::Regional),
            "assignCaseManagers": role == Role::ProviderAdmin,
            "chooseEmailDigest": chooses,
        },
    });
    if let Some(p) = preference {
        body["emailPreference"] = json!(p);
    }
    if let Some(u) = user {
        body["displayName"] = json!(u.display_name);
    }
    Ok(json(200, &body))
}

/// What a former school sees of a case that moved to another school: that it was handed over and
/// when; its timeline up to then is readable (GET /cases/{id}/timeline), nothing current is shown.
fn handed_over_view(actor: &cms_domain::actor::Actor, c: &Case) -> serde_json::Value {
    json!({
        "id": c.id,
        "caseType": c.case_type,
        "schoolId": actor.school(),
        "handedOver": { "at": window(actor, c).until },
        "version": c.version,
    })
}

/// One case as its viewer sees it: the case and its SLA clocks (the schools it came from are the
/// system's record, not shown).
fn case_view(c: &Case, today: chrono::NaiveDate) -> serde_json::Value {
    let mut v = serde_json::to_value(c).unwrap_or_else(|_| json!({ "id": c.id }));
    if let Some(obj) = v.as_object_mut() {
        obj.remove("formerSchools");
    }
    let closed_on = c.closed_at.filter(|_| c.status == CaseStatus::Closed).map(cms_domain::nz_date);
    let views = sla_views(c.referred_at, c.school_met_on, c.whanau_met_on, closed_on.unwrap_or(today));
    let sla: Vec<serde_json::Value> = views
        .iter()
        .map(|view| match (closed_on, view.state) {
            // closed: the clocks stopped; say whether each meeting happened, not that it is overdue
            (Some(_), SlaState::Due { .. } | SlaState::Breached { .. }) => {
                json!({ "kind": view.kind, "due": view.due, "state": { "state": "not_met" } })
            }
            _ => serde_json::to_value(view).unwrap_or_default(),
        })
        .collect();
    if let Some(obj) = v.as_object_mut() {
        obj.insert("sla".into(), json!(sla));
    }
    v
}

/// What a list row shows: enough to pick the case, no contact details or free text
/// (docs/openapi.yaml `CaseSummary`; absent values are left out, never null).
fn summary(c: &Case) -> serde_json::Value {
    let mut row = json!({
        "id": c.id,
        "caseType": c.case_type,
        "status": c.status.as_str(),
        "schoolId": c.school_id,
        "student": { "fullName": c.student.full_name },
        "referredAt": c.referred_at,
        "updatedAt": c.updated_at,
        "version": c.version,
    });
    let optional = [
        ("providerId", c.provider_id.as_ref().map(|p| json!(p))),
        ("caseManager", c.case_manager.as_ref().map(|u| json!(u))),
        ("primaryContact", c.primary_contact.as_ref().map(|u| json!(u))),
        ("closedAt", c.closed_at.map(|t| json!(t))),
    ];
    if let Some(obj) = row.as_object_mut() {
        for (k, v) in optional {
            if let Some(v) = v {
                obj.insert(k.into(), v);
            }
        }
        if let Some(y) = c.student.year_level {
            obj["student"]["yearLevel"] = json!(y);
        }
    }
    row
}
