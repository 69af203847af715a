//! The directory the portal's forms need: a school with its catchment, provider and In-School
//! Provision; the providers; an organisation's staff (who may be named School Primary Contact,
//! who may be assigned as Case Manager). Reference data only, never a student.
//!
//! - `GET /schools/{id}` — everyone signed in; `staff` only for the school's own people, the
//!   providers that serve it and the Ministry ([`cms_domain::access::can_read_staff`]).
//! - `GET /providers` — every provider (CIT chooses one to transfer a case to).
//! - `GET /providers/{id}` — one provider; `staff` for its own people and the Ministry.

use cms_domain::access::{can_read_staff, Directory};
use cms_domain::actor::Actor;
use cms_domain::catchment::Provider;
use cms_domain::ids::{ProviderId, SchoolId};
use cms_domain::ports::ReferenceData;
use cms_domain::referral::UserRecord;
use cms_http::{json, Problem};
use lambda_http::{Body, Request, Response};
use serde_json::{json, Value};

pub async fn school<S: ReferenceData>(store: &S, actor: &Actor, req: &Request) -> Result<Response<Body>, Problem> {
    let id = cms_http::path_id(req, "id", SchoolId::parse, "school")?;
    let school = store.school(&id).await?.ok_or_else(|| Problem::not_found("school"))?;
    let catchment = store.catchment(&school.catchment_id).await?;
    let provider = match &catchment {
        Some(c) => store.provider(&c.provider_id).await?,
        None => None,
    };
    let isp = match &school.isp_provider_id {
        Some(p) => store.provider(p).await?,
        None => None,
    };
    let mut body = json!({
        "id": school.id,
        "name": school.name,
        "regionId": school.region_id,
        "catchment": { "id": school.catchment_id, "name": catchment.as_ref().map(|c| c.name.clone()).unwrap_or_default() },
    });
    if let Some(p) = &provider {
        body["provider"] = provider_ref(p);
    }
    if let Some(p) = &isp {
        body["inSchoolProvision"] = provider_ref(p);
    }
    let of =
        Directory::School { school: &school.id, providers: [catchment.as_ref().map(|c| &c.provider_id), school.isp_provider_id.as_ref()] };
    if can_read_staff(actor, of) {
        body["staff"] = staff_list(store, school.id.as_str()).await?;
    }
    Ok(json(200, &body))
}

pub async fn providers<S: ReferenceData>(store: &S) -> Result<Response<Body>, Problem> {
    let all = store.providers().await?;
    Ok(json(200, &json!({ "items": all.iter().map(provider_ref).collect::<Vec<_>>() })))
}

pub async fn provider<S: ReferenceData>(store: &S, actor: &Actor, req: &Request) -> Result<Response<Body>, Problem> {
    let id = cms_http::path_id(req, "id", ProviderId::parse, "provider")?;
    let p = store.provider(&id).await?.ok_or_else(|| Problem::not_found("provider"))?;
    let mut body = provider_ref(&p);
    if can_read_staff(actor, Directory::Provider(&p.id)) {
        body["staff"] = staff_list(store, p.id.as_str()).await?;
    }
    Ok(json(200, &body))
}

fn provider_ref(p: &Provider) -> Value {
    json!({ "id": p.id, "name": p.name, "kind": p.kind, "catchmentId": p.catchment_id })
}

/// Names and roles (no email addresses): enough to choose someone.
async fn staff_list<S: ReferenceData>(store: &S, org: &str) -> Result<Value, Problem> {
    let staff = store.staff(org).await?;
    Ok(json!(staff.iter().map(person).collect::<Vec<_>>()))
}

fn person(u: &UserRecord) -> Value {
    json!({
        "userId": u.id,
        "displayName": u.display_name,
        "role": u.role.as_str(),
        "canBePrimaryContact": u.role.can_be_primary_contact(),
    })
}
