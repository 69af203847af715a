//! `GET /exports/cases?status=` — the caller's case list as CSV ([`cms_domain::csv`]): the same
//! cases `GET /cases` pages through (the list's scope, the policy's last word on each row), read
//! a page at a time and written as they come, recorded as one read naming every case in it. What
//! the list shows (name, year level, status, school, provider, Case Manager, dates, the SLA
//! clocks, the close reason), never health information, safety notes, addresses or contacts.

use cms_domain::access::{can_view_case, list_scope, status_filter};
use cms_domain::actor::Actor;
use cms_domain::csv::{case_line, line, CASE_COLUMNS};
use cms_domain::ids::CaseId;
use cms_domain::ports::{CaseListQuery, CaseStore, ReadLog};
use cms_http::Problem;
use lambda_http::{Body, Request, Response};

/// At most this many cases in one export (one read entry names them all); more is refused with
/// what to do instead.
pub const MAX_ROWS: usize = 5000;

pub async fn cases<S: CaseStore + ReadLog>(
    store: &S,
    actor: &Actor,
    req: &Request,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Response<Body>, Problem> {
    let status = status_filter(cms_http::query(req, "status").as_deref()).map_err(|m| Problem::invalid_field("status", &m))?;
    let today = cms_domain::nz_date(now);
    let mut body = line(&CASE_COLUMNS);
    let mut shown: Vec<CaseId> = Vec::new();
    let mut cursor = None;
    loop {
        let q = CaseListQuery { scope: list_scope(actor), status, limit: 100, cursor: cursor.take() };
        let page = store.list_cases(&q).await?;
        for c in page.items.iter().filter(|c| can_view_case(actor, c)) {
            body.push_str(&case_line(c, today));
            shown.push(c.id.clone());
        }
        if shown.len() > MAX_ROWS {
            return Err(Problem::not_appropriate(&format!(
                "There are more than {MAX_ROWS} cases in this list. Export one status at a time (status=…); for analysis across the service, use the nightly de-identified export."
            )));
        }
        match page.next {
            Some(n) => cursor = Some(n),
            None => break,
        }
    }
    cms_http::audit_list(store, actor, &shown, "case.exported", req, now).await?;
    tracing::info!(role = %actor.role(), rows = shown.len(), "case list exported");
    let name = format!("cases-{}{}.csv", today, status.map(|s| format!("-{}", s.as_str())).unwrap_or_default());
    cms_http::csv_attachment(&name, body)
}
