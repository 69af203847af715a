//! The directory the portal's forms need: a school with its catchment, provider and In-School
//! Provision; the providers; an organisation's staff (who may be named School Primary Contact,
//! who may be assigned as Case Manager). Reference data only, never a student.
//!
//! - `GET /schools/{id}` — everyone signed in; `staff` only for the school's own people, the
//!   providers that serve it and the Ministry ([`cms_domain::access::can_read_staff`]).
//! - `GET /providers` — every provider (CIT chooses one to transfer a case to).
//! - `GET /providers/{id}` — one provider; `staff` for its own people and the Ministry.
//! - `GET /providers/{id}/fund` — its Unmet Basic Needs Fund, spent against the cap ([`fund`]).
//! - `GET /providers/{id}/initiatives` — its initiatives for schools and groups ([`initiatives`]).

use cms_domain::access::{can_read_fund, can_read_staff, Directory};
use cms_domain::actor::Actor;
use cms_domain::catchment::Provider;
use cms_domain::fund::ContractYear;
use cms_domain::ids::{ProviderId, SchoolId};
use cms_domain::ports::{FundStore, InitiativeStore, ReferenceData};
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

/// `GET /providers/{id}/fund?year=` — the provider's Unmet Basic Needs Fund for a contract year
/// (`year`: the year it starts in; the current one by default): its cap (3 % of the contract),
/// what is spent net of refunds, what is left. For the provider's staff, its regional office and
/// the national team ([`cms_domain::access::can_read_fund`]); "not found" for anyone else.
pub async fn fund<S: ReferenceData + FundStore>(
    store: &S,
    actor: &Actor,
    req: &Request,
    today: chrono::NaiveDate,
) -> Result<Response<Body>, Problem> {
    let id = cms_http::path_id(req, "id", ProviderId::parse, "provider")?;
    let year = match cms_http::query(req, "year") {
        None => ContractYear::of(today),
        Some(y) => match y.parse::<i32>() {
            Ok(y) if (2000..=2100).contains(&y) => ContractYear(y),
            _ => return Err(Problem::invalid_field("year", "must be the year a contract year starts in, e.g. 2026 for 2026/27")),
        },
    };
    let (p, region) = with_region(store, &id).await?;
    if !can_read_fund(actor, &p.id, region.as_ref()) {
        return Err(Problem::not_found("provider fund"));
    }
    let spent = store.fund_spent(&p.id, year.0).await?;
    Ok(json(200, &cms_domain::fund::summary(&p, year, spent)))
}

/// `GET /providers/{id}/initiatives` — the provider's initiatives the caller may see
/// ([`cms_domain::initiatives::can_see`]: its staff and the Ministry's national and regional
/// teams all of them; a school's Attendance Lead and Office Support those involving their school).
pub async fn initiatives<S: ReferenceData + InitiativeStore>(store: &S, actor: &Actor, req: &Request) -> Result<Response<Body>, Problem> {
    let id = cms_http::path_id(req, "id", ProviderId::parse, "provider")?;
    let (p, region) = with_region(store, &id).await?;
    if !cms_domain::initiatives::can_list(actor, &p.id, region.as_ref()) {
        return Err(Problem::not_found("provider initiatives"));
    }
    let items: Vec<_> =
        store.initiatives(&p.id).await?.into_iter().filter(|i| cms_domain::initiatives::can_see(actor, i, region.as_ref())).collect();
    Ok(json(200, &json!({ "items": items })))
}

/// The provider (404 when there is none) and the region of its catchment, which decides which
/// regional team may see its fund and initiatives.
async fn with_region<S: ReferenceData>(store: &S, id: &ProviderId) -> Result<(Provider, Option<cms_domain::ids::RegionId>), Problem> {
    let p = store.provider(id).await?.ok_or_else(|| Problem::not_found("provider"))?;
    let region = store.catchment(&p.catchment_id).await?.map(|c| c.region_id);
    Ok((p, region))
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
