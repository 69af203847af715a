//! Dashboards (issue 16, [`cms_domain::dashboard`]): a handful of counters whatever the number of
//! cases, kept by `update-dashboards`; who reads which is the policy's
//! ([`cms_domain::access::dashboard_scope`]), anyone else is answered "not found".
//!
//! - `GET /dashboards/schools/{id}` — the school's figures (a School Primary Contact: the cases
//!   they are named on).
//! - `GET /dashboards/providers/{id}` — the provider's, with caseloads, barriers and its Unmet
//!   Basic Needs Fund spent against its cap.
//! - `GET /dashboards/regions/{id}` — the region's, per provider.
//! - `GET /dashboards/national` — the nation's, per catchment and region, against capacity.
//!
//! `?format=csv`: the same figures as one flat CSV table (section, item, measure, value).
//!
//! A read is the scope's counters (one `GetItem`) and the reference data that says whose they are
//! (kept warm); no case is read, so nothing of a child's record is read or audited.

use cms_domain::access::{dashboard_scope, DashboardOf};
use cms_domain::actor::Actor;
use cms_domain::dashboard::{Figures, Scope, CA_PER_YEAR, NEN_PER_YEAR, OVERALL_PER_YEAR};
use cms_domain::fund::ContractYear;
use cms_domain::ids::{ProviderId, RegionId, SchoolId};
use cms_domain::ports::{DashboardStore, FundStore, ReferenceData};
use cms_http::{json, Problem};
use lambda_http::{Body, Request, Response};
use serde_json::{json, Value};

fn scope_json(scope: &Scope) -> Value {
    match scope {
        Scope::School(id) => json!({ "kind": "school", "id": id }),
        Scope::Contact(id) => json!({ "kind": "primary_contact", "id": id }),
        Scope::Provider(id) => json!({ "kind": "provider", "id": id }),
        Scope::Region(id) => json!({ "kind": "region", "id": id }),
        Scope::National => json!({ "kind": "national" }),
    }
}

/// `?format=csv` asks for the figures as CSV ([`cms_domain::csv::dashboard_csv`]); JSON otherwise.
fn wants_csv(req: &Request) -> Result<bool, Problem> {
    match cms_http::query(req, "format").as_deref() {
        None | Some("json") => Ok(false),
        Some("csv") => Ok(true),
        Some(_) => Err(Problem::invalid_field("format", "must be json (the default) or csv")),
    }
}

/// The scope's figures, as JSON (with `extra` fields) or (`csv`, from [`wants_csv`]) CSV.
fn answer(
    actor: &Actor,
    csv: bool,
    scope: &Scope,
    figures: Figures,
    today: chrono::NaiveDate,
    extra: Vec<(&str, Value)>,
) -> Result<Response<Body>, Problem> {
    tracing::info!(role = %actor.role(), scope = %scope.key(), csv, "dashboard read");
    if csv {
        let name = format!("dashboard-{}-{today}.csv", scope.key().replace('#', "-"));
        return cms_http::csv_attachment(&name, cms_domain::csv::dashboard_csv(&figures));
    }
    let mut body = json!({ "scope": scope_json(scope), "asOf": today, "figures": figures });
    for (k, v) in extra {
        body[k] = v;
    }
    Ok(json(200, &body))
}

pub async fn school<S: ReferenceData + DashboardStore>(
    store: &S,
    actor: &Actor,
    req: &Request,
    today: chrono::NaiveDate,
) -> Result<Response<Body>, Problem> {
    let id = cms_http::path_id(req, "id", SchoolId::parse, "school")?;
    // the school's own staff need nothing else; the Ministry's the school's region
    let region = match actor.school() {
        Some(own) if own == &id => None,
        _ => store.school(&id).await?.map(|s| s.region_id),
    };
    let scope = dashboard_scope(actor, DashboardOf::School(&id, region.as_ref())).ok_or_else(|| Problem::not_found("school dashboard"))?;
    // a bad format is refused before anything more is read
    let csv = wants_csv(req)?;
    let figures = Figures::from_counters(&store.counters(&scope).await?, today);
    answer(actor, csv, &scope, figures, today, vec![])
}

pub async fn provider<S: ReferenceData + DashboardStore + FundStore>(
    store: &S,
    actor: &Actor,
    req: &Request,
    today: chrono::NaiveDate,
) -> Result<Response<Body>, Problem> {
    let id = cms_http::path_id(req, "id", ProviderId::parse, "provider")?;
    let p = store.provider(&id).await?.ok_or_else(|| Problem::not_found("provider dashboard"))?;
    let region = match actor.provider() {
        Some(own) if own == &id => None,
        _ => store.catchment(&p.catchment_id).await?.map(|c| c.region_id),
    };
    let scope =
        dashboard_scope(actor, DashboardOf::Provider(&id, region.as_ref())).ok_or_else(|| Problem::not_found("provider dashboard"))?;
    // a bad format is refused before anything more is read
    let csv = wants_csv(req)?;
    let year = ContractYear::of(today);
    let spent = store.fund_spent(&p.id, year.0).await?;
    let figures = Figures::from_counters(&store.counters(&scope).await?, today);
    answer(actor, csv, &scope, figures, today, vec![("fund", json!(cms_domain::fund::summary(&p, year, spent)))])
}

pub async fn region<S: DashboardStore>(
    store: &S,
    actor: &Actor,
    req: &Request,
    today: chrono::NaiveDate,
) -> Result<Response<Body>, Problem> {
    let id = cms_http::path_id(req, "id", RegionId::parse, "region")?;
    let scope = dashboard_scope(actor, DashboardOf::Region(&id)).ok_or_else(|| Problem::not_found("region dashboard"))?;
    // a bad format is refused before anything more is read
    let csv = wants_csv(req)?;
    let figures = Figures::from_counters(&store.counters(&scope).await?, today);
    answer(actor, csv, &scope, figures, today, vec![])
}

pub async fn national<S: DashboardStore>(
    store: &S,
    actor: &Actor,
    req: &Request,
    today: chrono::NaiveDate,
) -> Result<Response<Body>, Problem> {
    let scope = dashboard_scope(actor, DashboardOf::National).ok_or_else(|| Problem::not_found("national dashboard"))?;
    // a bad format is refused before anything more is read
    let csv = wants_csv(req)?;
    // this calendar year's referrals against the service's capacity a year
    let year = chrono::Datelike::year(&today);
    let (mut ca, mut nen) = (0, 0);
    let figures = Figures::from_counters(&store.counters(&scope).await?, today);
    for t in &figures.terms {
        if t.term.starts_with(&format!("{year}-")) {
            ca += t.referred_ca;
            nen += t.referred_nen;
        }
    }
    let capacity = json!({
        "year": year,
        "referredCa": ca,
        "referredNen": nen,
        "caPerYear": CA_PER_YEAR,
        "nenPerYear": NEN_PER_YEAR,
        "overallPerYear": OVERALL_PER_YEAR,
    });
    answer(actor, csv, &scope, figures, today, vec![("capacity", capacity)])
}
