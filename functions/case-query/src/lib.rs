//! `case-query`: what a signed-in user can see.
//!
//! - `GET /cases?status=&limit=&cursor=` — the caller's cases: a school's Attendance Lead and Office
//!   Support see the school's cases, a School Primary Contact the cases they are named on, provider
//!   staff their provider's queue and caseload, Ministry roles all cases.
//! - `GET /cases/{id}` — one case; a case the caller may not see is "not found".

use cms_aws::DynamoStore;
use cms_domain::access::{can_view_case, list_scope, status_filter};
use cms_domain::case::Case;
use cms_domain::ids::CaseId;
use cms_domain::ports::{CaseListQuery, CaseStore, StoreError};
use cms_http::{json, respond, Problem};
use lambda_http::{Body, Request, Response};
use serde_json::json;

pub struct Deps<S> {
    pub store: S,
}

pub type AwsDeps = Deps<DynamoStore>;

pub fn aws_deps(sdk: &aws_config::SdkConfig, env: &cms_aws::Env) -> AwsDeps {
    Deps { store: DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), &env.table_name) }
}

pub async fn handle<S: CaseStore>(deps: &Deps<S>, req: Request) -> Response<Body> {
    respond(route(deps, &req).await)
}

async fn route<S: CaseStore>(deps: &Deps<S>, req: &Request) -> Result<Response<Body>, Problem> {
    let actor = cms_http::actor(req)?;
    match cms_http::route_key(req).as_str() {
        "GET /cases" => {
            let status = status_filter(cms_http::query(req, "status").as_deref())
                .map_err(|m| Problem::invalid_field("status", &m))?;
            let q = CaseListQuery {
                scope: list_scope(&actor),
                status,
                limit: cms_http::limit(req)?,
                cursor: cms_http::query(req, "cursor"),
            };
            let page = deps.store.list_cases(&q).await.map_err(store_problem)?;
            // the index chose the rows; the policy still has the last word on each one
            let items: Vec<_> = page.items.iter().filter(|c| can_view_case(&actor, c)).map(summary).collect();
            tracing::info!(role = %actor.role(), count = items.len(), "cases listed");
            Ok(json(200, &json!({ "items": items, "nextCursor": page.next })))
        }
        "GET /cases/{id}" => {
            let id = cms_http::path_id(req, "id", CaseId::parse, "case")?;
            match deps.store.case(&id).await.map_err(store_problem)? {
                Some(c) if can_view_case(&actor, &c) => {
                    tracing::info!(case_id = %c.id, role = %actor.role(), "case viewed");
                    Ok(json(200, &c))
                }
                _ => Err(Problem::not_found("case")),
            }
        }
        _ => Err(Problem::method_not_allowed()),
    }
}

/// What a list row shows: enough to pick the case, no contact details or free text.
fn summary(c: &Case) -> serde_json::Value {
    json!({
        "id": c.id,
        "caseType": c.case_type,
        "status": c.status.as_str(),
        "schoolId": c.school_id,
        "providerId": c.provider_id,
        "caseManager": c.case_manager,
        "primaryContact": c.primary_contact,
        "studentName": c.student.full_name,
        "yearLevel": c.student.year_level,
        "referredAt": c.referred_at,
        "updatedAt": c.updated_at,
        "version": c.version,
    })
}

fn store_problem(e: StoreError) -> Problem {
    match e {
        StoreError::InvalidCursor => Problem::invalid_field("cursor", "is not a cursor this service issued; start from the first page"),
        other => {
            tracing::error!(error = %other, "store failure");
            Problem::unavailable()
        }
    }
}
