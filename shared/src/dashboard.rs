//! Dashboards (issue 16): the guide gives school roles "reports and school dashboards", regional
//! teams monitor "service level agreements and contract outcomes", the national team "analyses
//! data to identify trends", providers report "on service delivery, progress, and outcomes".
//!
//! A dashboard is read from a handful of counters, whatever the number of cases. The counters are
//! kept by a consumer of the case events that projects each case onto its [`CaseFacts`] — the
//! de-identified facts a dashboard counts (no name, NSN, address, health or safety information) —
//! and moves every counter by the difference between the facts it counted before and the facts
//! now ([`deltas`]). The projection is of the case as it is, not of the event: replaying an event,
//! or receiving events out of order, cannot count anything twice (the facts carry the case
//! version they were taken at, and an older or equal version changes nothing).
//!
//! Counters are kept per [`Scope`]: a school, a School Primary Contact (their cases), a provider, a
//! region and the nation. Periods are reporting terms ([`term_of`]).

pub use crate::case::facts::{sla_outcome, CaseFacts, SlaOutcome};
use crate::case::{CaseStatus, CaseType};
use crate::ids::{ProviderId, RegionId, SchoolId, UserId};
use crate::sla::SlaKind;
use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use std::collections::BTreeMap;

/// The service's capacity a year, as issue 16 states it: about 45,000 CA and 20,000 NEN cases,
/// about 80,000 students overall.
pub const CA_PER_YEAR: i64 = 45_000;
pub const NEN_PER_YEAR: i64 = 20_000;
pub const OVERALL_PER_YEAR: i64 = 80_000;

/// The reporting term a date falls in: `<year>-T<n>`, each term with the holidays after it. Term
/// 1 from 1 January, term 2 from 20 April, term 3 from 13 July, term 4 from 5 October — the
/// usual start of each school term (the exact dates vary a few days from year to year; a period
/// is a reporting bucket, and every case falls in exactly one).
pub fn term_of(d: NaiveDate) -> String {
    let md = (d.month(), d.day());
    let n = if md >= (10, 5) {
        4
    } else if md >= (7, 13) {
        3
    } else if md >= (4, 20) {
        2
    } else {
        1
    };
    format!("{}-T{n}", d.year())
}

impl CaseFacts {
    /// Every counter these facts add one (or, for the queue's day sum, their referral day) to.
    pub fn counters(&self) -> Vec<(Scope, String, i64)> {
        let t = type_code(self.case_type);
        let s = self.status.as_str();
        let mut common: Vec<(String, i64)> =
            vec![("cases".into(), 1), (format!("st.{s}.{t}"), 1), (format!("referred.{}.{t}", term_of(self.referred_on)), 1)];
        for (kind, o) in [(SlaKind::SchoolMeeting, self.sla_school_meeting), (SlaKind::WhanauMeeting, self.sla_whanau_meeting)] {
            if let Some(o) = o {
                common.push((format!("sla.{}.{}", sla_code(kind), o.as_str()), 1));
            }
        }
        if self.status == CaseStatus::ProviderQueue {
            common.push(("queue.cases".into(), 1));
            common.push(("queue.referredDaySum".into(), i64::from(self.referred_on.num_days_from_ce())));
        }
        if let (Some(r), Some(on)) = (self.close_reason, self.closed_on) {
            common.push((format!("closed.{}", r.as_str()), 1));
            common.push((format!("closedIn.{}", term_of(on)), 1));
        }
        let mut out: Vec<(Scope, String, i64)> = Vec::new();
        let mut add = |scope: Scope, extra: Vec<(String, i64)>| {
            for (k, v) in common.iter().cloned().chain(extra) {
                out.push((scope.clone(), k, v));
            }
        };
        add(Scope::School(self.school_id.clone()), vec![]);
        if let Some(pc) = &self.primary_contact {
            add(Scope::Contact(pc.clone()), vec![]);
        }
        let active = self.status != CaseStatus::Closed;
        let breached = [self.sla_school_meeting, self.sla_whanau_meeting].contains(&Some(SlaOutcome::Breached));
        if let Some(p) = &self.provider_id {
            let mut extra = Vec::new();
            if let (Some(cm), true) =
                (&self.case_manager, matches!(self.status, CaseStatus::Open | CaseStatus::Transition | CaseStatus::Paused))
            {
                extra.push((format!("cm.{cm}"), 1));
            }
            for b in &self.barriers {
                extra.push((format!("barrier.{}", b.as_str()), 1));
            }
            add(Scope::Provider(p.clone()), extra);
        }
        if let Some(r) = &self.region_id {
            let mut extra = Vec::new();
            if let Some(p) = &self.provider_id {
                extra.push((format!("p.{p}.st.{s}"), 1));
                if self.status == CaseStatus::ProviderQueue {
                    extra.push((format!("p.{p}.queueDaySum"), i64::from(self.referred_on.num_days_from_ce())));
                }
                if breached {
                    extra.push((format!("p.{p}.breached"), 1));
                }
            }
            add(Scope::Region(r.clone()), extra);
        }
        let mut extra = Vec::new();
        if active {
            if let Some(c) = &self.catchment_id {
                extra.push((format!("c.{c}.active"), 1));
            }
            if let Some(r) = &self.region_id {
                extra.push((format!("r.{r}.active"), 1));
            }
        }
        add(Scope::National, extra);
        out
    }
}

/// The business metrics a count moves (issue 17: "business metrics (cases created, allocated,
/// SLA breaches) as Embedded Metric Format"), from the facts before and after: exactly once per
/// change, since a count happens once per case version.
pub fn business_metrics(old: Option<&CaseFacts>, new: &CaseFacts) -> Vec<(&'static str, i64)> {
    let mut out = Vec::new();
    if old.is_none() {
        out.push(("CasesCreated", 1));
    }
    if old.is_none_or(|o| o.provider_id.is_none()) && new.provider_id.is_some() {
        out.push(("CasesAllocated", 1));
    }
    if old.is_none_or(|o| o.status != CaseStatus::Closed) && new.status == CaseStatus::Closed {
        out.push(("CasesClosed", 1));
    }
    let breached = |f: Option<&CaseFacts>| {
        f.map(|f| [f.sla_school_meeting, f.sla_whanau_meeting].iter().filter(|o| **o == Some(SlaOutcome::Breached)).count() as i64)
            .unwrap_or(0)
    };
    let more = breached(Some(new)) - breached(old);
    if more > 0 {
        out.push(("SlaBreaches", more));
    }
    out
}

/// One Embedded Metric Format line (CloudWatch turns it into metrics from the function's log):
/// the metrics, in `namespace`, with no dimension (the namespace names the stack).
pub fn emf_line(namespace: &str, metrics: &[(&'static str, i64)], at_millis: i64) -> Option<String> {
    if metrics.is_empty() {
        return None;
    }
    let defs: Vec<serde_json::Value> = metrics.iter().map(|(n, _)| serde_json::json!({ "Name": n, "Unit": "Count" })).collect();
    let mut v = serde_json::json!({
        "_aws": { "Timestamp": at_millis, "CloudWatchMetrics": [{ "Namespace": namespace, "Dimensions": [[]], "Metrics": defs }] },
    });
    for (n, x) in metrics {
        v[*n] = serde_json::json!(x);
    }
    Some(v.to_string())
}

/// The export of de-identified case facts (issue 16): one JSON object a line, the columns of
/// docs/export.md. The facts without the staff ids (a Case Manager or Primary Contact is not an
/// analyst's business); nothing else of the case is in the facts to begin with.
pub fn export_line(f: &CaseFacts) -> String {
    let row = CaseFacts { primary_contact: None, case_manager: None, ..f.clone() };
    let mut v = serde_json::to_value(&row).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        o.insert("referredTerm".into(), term_of(f.referred_on).into());
        if let Some(on) = f.closed_on {
            o.insert("closedTerm".into(), term_of(on).into());
        }
    }
    v.to_string()
}

/// Where a night's export goes: Hive-style, one folder per day (`date=YYYY-MM-DD`), so Athena
/// reads it as a partitioned table and DuckDB with `read_json_auto('…/date=*/*.jsonl')`.
pub fn export_key(on: NaiveDate) -> String {
    format!("case-facts/date={on}/case-facts.jsonl")
}

fn sla_code(k: SlaKind) -> &'static str {
    match k {
        SlaKind::SchoolMeeting => "school_meeting",
        SlaKind::WhanauMeeting => "whanau_meeting",
    }
}

fn type_code(t: CaseType) -> &'static str {
    match t {
        CaseType::Ca => "CA",
        CaseType::Nen => "NEN",
    }
}

/// Whose figures a set of counters is.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    School(SchoolId),
    /// A School Primary Contact's cases.
    Contact(UserId),
    Provider(ProviderId),
    Region(RegionId),
    National,
}

impl Scope {
    /// The scope's key in the store.
    pub fn key(&self) -> String {
        match self {
            Scope::School(id) => format!("school#{id}"),
            Scope::Contact(id) => format!("contact#{id}"),
            Scope::Provider(id) => format!("provider#{id}"),
            Scope::Region(id) => format!("region#{id}"),
            Scope::National => "national".into(),
        }
    }
}

/// How each scope's counters move when a case's counted facts go from `old` to `new`: only the
/// counters that change, by how much. Applying `deltas(None, a)`, then `deltas(Some(a), b)`, …
/// leaves the counters equal to those of the last facts alone.
pub fn deltas(old: Option<&CaseFacts>, new: &CaseFacts) -> BTreeMap<Scope, BTreeMap<String, i64>> {
    let mut out: BTreeMap<Scope, BTreeMap<String, i64>> = BTreeMap::new();
    for (scope, k, v) in new.counters() {
        *out.entry(scope).or_default().entry(k).or_default() += v;
    }
    for (scope, k, v) in old.map(CaseFacts::counters).unwrap_or_default() {
        *out.entry(scope).or_default().entry(k).or_default() -= v;
    }
    for counters in out.values_mut() {
        counters.retain(|_, v| *v != 0);
    }
    out.retain(|_, c| !c.is_empty());
    out
}

/// One row of counts by a key (a close reason, a Case Manager, a barrier, a catchment, …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Count {
    pub key: String,
    pub count: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusRow {
    pub status: CaseStatus,
    pub ca: i64,
    pub nen: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SlaRow {
    pub kind: SlaKind,
    pub met: i64,
    pub met_late: i64,
    pub due: i64,
    pub breached: i64,
    pub not_met: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueFigures {
    pub cases: i64,
    /// Days since referral, on average, of the cases waiting in the Provider Queue today.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub average_days_waiting: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TermRow {
    pub term: String,
    pub referred_ca: i64,
    pub referred_nen: i64,
    pub closed: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderRow {
    pub provider_id: String,
    /// Cases not closed, of which in the Provider Queue.
    pub active: i64,
    pub queue: i64,
    pub closed: i64,
    /// Cases with an SLA clock reported breached and not met.
    pub breached: i64,
    /// Days since referral, on average, of its cases waiting in the Provider Queue today.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub average_days_waiting: Option<f64>,
}

/// The average age in days on `today` of `n` cases whose days (from the common era) sum to `sum`.
fn average_age(sum: i64, n: i64, today: NaiveDate) -> Option<f64> {
    (n > 0).then(|| ((f64::from(today.num_days_from_ce()) - sum as f64 / n as f64) * 10.0).round() / 10.0)
}

/// A dashboard's figures, from its scope's counters.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Figures {
    pub total: i64,
    pub by_status: Vec<StatusRow>,
    pub sla: Vec<SlaRow>,
    pub queue: QueueFigures,
    pub closures: Vec<Count>,
    pub terms: Vec<TermRow>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub caseloads: Vec<Count>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub barriers: Vec<Count>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub providers: Vec<ProviderRow>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub catchments: Vec<Count>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub regions: Vec<Count>,
}

impl Figures {
    pub fn from_counters(c: &BTreeMap<String, i64>, today: NaiveDate) -> Figures {
        let get = |k: &str| c.get(k).copied().unwrap_or(0);
        let by_prefix = |prefix: &str, suffix: &str| -> Vec<Count> {
            c.iter()
                .filter_map(|(k, v)| {
                    let rest = k.strip_prefix(prefix)?.strip_suffix(suffix)?;
                    (*v != 0 && !rest.contains('.')).then(|| Count { key: rest.to_string(), count: *v })
                })
                .collect()
        };
        let by_status = CaseStatus::ALL
            .iter()
            .map(|s| StatusRow { status: *s, ca: get(&format!("st.{}.CA", s.as_str())), nen: get(&format!("st.{}.NEN", s.as_str())) })
            .collect();
        let sla = SlaKind::ALL
            .iter()
            .map(|k| {
                let n = |o: SlaOutcome| get(&format!("sla.{}.{}", sla_code(*k), o.as_str()));
                SlaRow {
                    kind: *k,
                    met: n(SlaOutcome::Met),
                    met_late: n(SlaOutcome::MetLate),
                    due: n(SlaOutcome::Due),
                    breached: n(SlaOutcome::Breached),
                    not_met: n(SlaOutcome::NotMet),
                }
            })
            .collect();
        let waiting = get("queue.cases");
        let average_days_waiting = average_age(get("queue.referredDaySum"), waiting, today);
        let mut terms: BTreeMap<String, TermRow> = BTreeMap::new();
        let row = |t: &str| TermRow { term: t.to_string(), referred_ca: 0, referred_nen: 0, closed: 0 };
        for (k, v) in c {
            if let Some(rest) = k.strip_prefix("referred.") {
                if let Some((term, ty)) = rest.split_once('.') {
                    let r = terms.entry(term.to_string()).or_insert_with(|| row(term));
                    match ty {
                        "CA" => r.referred_ca += v,
                        _ => r.referred_nen += v,
                    }
                }
            } else if let Some(term) = k.strip_prefix("closedIn.") {
                terms.entry(term.to_string()).or_insert_with(|| row(term)).closed += v;
            }
        }
        let mut providers: BTreeMap<String, ProviderRow> = BTreeMap::new();
        for (k, v) in c {
            let Some(rest) = k.strip_prefix("p.") else { continue };
            let Some((pid, what)) = rest.split_once('.') else { continue };
            let r = providers.entry(pid.to_string()).or_insert_with(|| ProviderRow {
                provider_id: pid.to_string(),
                active: 0,
                queue: 0,
                closed: 0,
                breached: 0,
                average_days_waiting: None,
            });
            match what {
                "breached" => r.breached += v,
                // the queue's ages, made an average below
                "queueDaySum" => {}
                "st.closed" => r.closed += v,
                "st.provider_queue" => {
                    r.queue += v;
                    r.active += v;
                }
                _ => r.active += v,
            }
        }
        for r in providers.values_mut() {
            r.average_days_waiting = average_age(get(&format!("p.{}.queueDaySum", r.provider_id)), r.queue, today);
        }
        Figures {
            total: get("cases"),
            by_status,
            sla,
            queue: QueueFigures { cases: waiting, average_days_waiting },
            closures: by_prefix("closed.", ""),
            terms: terms.into_values().filter(|t| t.referred_ca + t.referred_nen + t.closed != 0).collect(),
            caseloads: by_prefix("cm.", ""),
            barriers: by_prefix("barrier.", ""),
            providers: providers.into_values().filter(|p| p.active + p.closed != 0).collect(),
            catchments: by_prefix("c.", ".active"),
            regions: by_prefix("r.", ".active"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::barrier::BarrierKind;
    use crate::case::{Case, CloseReason};
    use crate::fixtures::case;
    use crate::ids::CatchmentId;
    use crate::sla::due_date;
    use proptest::prelude::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    /// Sum every delta into counters (as the store's ADDs do), dropping zeros.
    fn apply(counters: &mut BTreeMap<Scope, BTreeMap<String, i64>>, d: BTreeMap<Scope, BTreeMap<String, i64>>) {
        for (scope, cs) in d {
            let e = counters.entry(scope).or_default();
            for (k, v) in cs {
                *e.entry(k).or_default() += v;
            }
            e.retain(|_, v| *v != 0);
        }
        counters.retain(|_, c| !c.is_empty());
    }

    #[test]
    fn an_export_line_carries_the_facts_and_no_one() {
        let mut c = case();
        c.status = CaseStatus::Closed;
        c.close_reason = Some(CloseReason::AttendingRegularly);
        c.closed_at = Some(c.referred_at + chrono::Duration::days(30));
        let line = export_line(&CaseFacts::of(&c));
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["caseId"], "C1");
        assert_eq!(v["status"], "closed");
        assert_eq!(v["closeReason"], "attending_regularly");
        assert_eq!(v["referredTerm"], "2026-T1");
        assert!(v.get("caseManager").is_none() && v.get("primaryContact").is_none(), "{line}");
        assert!(!line.contains("Test Child") && !line.contains("2014-05-01"), "no name, no date of birth: {line}");
        assert!(!line.contains('\n'));
        assert_eq!(export_key(day(2026, 12, 5)), "case-facts/date=2026-12-05/case-facts.jsonl");
    }

    #[test]
    fn business_metrics_count_each_change_once() {
        let mut c = case();
        c.provider_id = None;
        c.status = CaseStatus::AwaitingAllocation;
        let created = CaseFacts::of(&c);
        assert_eq!(business_metrics(None, &created), vec![("CasesCreated", 1)]);
        c.provider_id = Some(ProviderId::parse("P01").unwrap());
        c.status = CaseStatus::ProviderQueue;
        let queued = CaseFacts::of(&c);
        assert_eq!(business_metrics(Some(&created), &queued), vec![("CasesAllocated", 1)]);
        c.breached = vec![SlaKind::SchoolMeeting, SlaKind::WhanauMeeting];
        let late = CaseFacts::of(&c);
        assert_eq!(business_metrics(Some(&queued), &late), vec![("SlaBreaches", 2)]);
        assert_eq!(business_metrics(Some(&late), &late), vec![], "the same facts again: nothing");
        c.status = CaseStatus::Closed;
        assert_eq!(business_metrics(Some(&late), &CaseFacts::of(&c)), vec![("CasesClosed", 1)]);
        let line = emf_line("AttendanceCms/test", &[("CasesCreated", 1)], 1_780_000_000_000).unwrap();
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["CasesCreated"], 1);
        assert_eq!(v["_aws"]["CloudWatchMetrics"][0]["Namespace"], "AttendanceCms/test");
        assert_eq!(v["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"], "CasesCreated");
        assert_eq!(emf_line("n", &[], 0), None);
    }

    #[test]
    fn every_date_is_in_one_reporting_term() {
        assert_eq!(term_of(day(2026, 1, 1)), "2026-T1");
        assert_eq!(term_of(day(2026, 4, 19)), "2026-T1");
        assert_eq!(term_of(day(2026, 4, 20)), "2026-T2");
        assert_eq!(term_of(day(2026, 7, 13)), "2026-T3");
        assert_eq!(term_of(day(2026, 10, 4)), "2026-T3");
        assert_eq!(term_of(day(2026, 10, 5)), "2026-T4");
        assert_eq!(term_of(day(2026, 12, 31)), "2026-T4");
    }

    #[test]
    fn sla_outcomes_come_from_the_case_alone() {
        let mut c = case();
        c.school_met_on = None;
        c.whanau_met_on = None;
        c.breached.clear();
        assert_eq!(sla_outcome(&c, SlaKind::SchoolMeeting), Some(SlaOutcome::Due));
        c.breached.push(SlaKind::SchoolMeeting);
        assert_eq!(sla_outcome(&c, SlaKind::SchoolMeeting), Some(SlaOutcome::Breached));
        c.school_met_on = Some(due_date(SlaKind::SchoolMeeting, c.referred_at));
        assert_eq!(sla_outcome(&c, SlaKind::SchoolMeeting), Some(SlaOutcome::Met), "on the due date is on time");
        c.school_met_on = c.school_met_on.and_then(|d| d.succ_opt());
        assert_eq!(sla_outcome(&c, SlaKind::SchoolMeeting), Some(SlaOutcome::MetLate));
        c.status = CaseStatus::Closed;
        assert_eq!(sla_outcome(&c, SlaKind::WhanauMeeting), Some(SlaOutcome::NotMet));
        c.provider_id = None;
        assert_eq!(sla_outcome(&c, SlaKind::WhanauMeeting), None, "no provider yet: no clock reported");
    }

    #[test]
    fn a_case_counts_in_its_school_contact_provider_region_and_the_nation() {
        let mut c = case();
        c.status = CaseStatus::ProviderQueue;
        c.region_id = Some(RegionId::parse("r1").unwrap());
        c.catchment_id = Some(CatchmentId::parse("c1").unwrap());
        let f = CaseFacts::of(&c);
        let d = deltas(None, &f);
        let scopes: Vec<String> = d.keys().map(Scope::key).collect();
        assert_eq!(scopes, vec!["school#1001", "contact#pc", "provider#P01", "region#r1", "national"]);
        let national = &d[&Scope::National];
        assert_eq!(national["cases"], 1);
        assert_eq!(national["st.provider_queue.CA"], 1);
        assert_eq!(national["c.c1.active"], 1);
        let region = &d[&Scope::Region(RegionId::parse("r1").unwrap())];
        assert_eq!(region["p.P01.st.provider_queue"], 1);
        let by_provider = Figures::from_counters(region, f.referred_on + chrono::Duration::days(4)).providers;
        assert_eq!((by_provider[0].queue, by_provider[0].average_days_waiting), (1, Some(4.0)), "the queue's age per provider");
        let figures = Figures::from_counters(national, f.referred_on + chrono::Duration::days(3));
        assert_eq!(figures.queue, QueueFigures { cases: 1, average_days_waiting: Some(3.0) });
        assert_eq!(figures.catchments, vec![Count { key: "c1".into(), count: 1 }]);
        // the same facts again move nothing
        assert!(deltas(Some(&f), &f).is_empty());
    }

    #[test]
    fn a_case_moving_school_and_provider_leaves_the_old_ones() {
        let mut c = case();
        let before = CaseFacts::of(&c);
        c.school_id = SchoolId::parse("1085").unwrap();
        c.provider_id = Some(ProviderId::parse("P05").unwrap());
        c.version += 1;
        let after = CaseFacts::of(&c);
        let d = deltas(Some(&before), &after);
        assert_eq!(d[&Scope::School(SchoolId::parse("1001").unwrap())]["cases"], -1);
        assert_eq!(d[&Scope::School(SchoolId::parse("1085").unwrap())]["cases"], 1);
        assert_eq!(d[&Scope::Provider(ProviderId::parse("P01").unwrap())]["cases"], -1);
        assert!(!d.contains_key(&Scope::National), "the nation's counts do not change");
    }

    fn arb_case() -> impl Strategy<Value = Case> {
        (
            prop::sample::select(CaseStatus::ALL.to_vec()),
            prop::bool::ANY,
            prop::sample::select(vec!["1001", "1085", "1008"]),
            prop::option::of(prop::sample::select(vec!["P01", "P05"])),
            prop::option::of(prop::sample::select(vec!["cm", "cm2"])),
            prop::option::of(0i64..30),
            prop::bool::ANY,
            prop::option::of(prop::sample::select(BarrierKind::ALL.to_vec())),
        )
            .prop_map(|(status, nen, school, provider, cm, met, breached, barrier)| {
                let mut c = case();
                c.status = status;
                c.case_type = if nen { CaseType::Nen } else { CaseType::Ca };
                c.school_id = SchoolId::parse(school).unwrap();
                c.provider_id = provider.map(|p| ProviderId::parse(p).unwrap());
                c.case_manager = cm.map(|u| UserId::parse(u).unwrap());
                c.school_met_on = met.map(|d| crate::nz_date(c.referred_at) + chrono::Duration::days(d));
                c.breached = if breached { vec![SlaKind::WhanauMeeting] } else { vec![] };
                c.close_reason = (status == CaseStatus::Closed).then_some(CloseReason::AttendingRegularly);
                c.closed_at = (status == CaseStatus::Closed).then_some(c.referred_at + chrono::Duration::days(40));
                if let Some(kind) = barrier {
                    c.barriers.push(crate::case::barrier::Barrier {
                        id: crate::ids::EntryId::parse("B1").unwrap(),
                        kind,
                        detail: None,
                        state: crate::case::barrier::BarrierState::Identified,
                        identified_by: crate::case::By::System { process: "test".into() },
                        identified_at: c.referred_at,
                        changed_at: c.referred_at,
                    });
                }
                c
            })
    }

    proptest! {
        /// Whatever sequence of states a case goes through, the counters kept by applying each
        /// step's deltas equal the counters of its last state alone; replaying any step again (an
        /// event delivered twice projects the same facts) changes nothing.
        #[test]
        fn counters_follow_the_last_state_whatever_the_path(states in prop::collection::vec(arb_case(), 1..8)) {
            let mut kept = BTreeMap::new();
            let mut last: Option<CaseFacts> = None;
            for s in &states {
                let f = CaseFacts::of(s);
                apply(&mut kept, deltas(last.as_ref(), &f));
                // a replay: the same facts again
                apply(&mut kept, deltas(Some(&f), &f));
                last = Some(f);
            }
            let mut alone = BTreeMap::new();
            apply(&mut alone, deltas(None, last.as_ref().unwrap()));
            prop_assert_eq!(kept, alone);
        }

        /// The national figures add up: the statuses sum to the total, and so do the SLA outcomes
        /// of the cases a provider holds.
        #[test]
        fn figures_add_up(cases in prop::collection::vec(arb_case(), 0..30)) {
            let mut kept = BTreeMap::new();
            for c in &cases {
                apply(&mut kept, deltas(None, &CaseFacts::of(c)));
            }
            let national = kept.get(&Scope::National).cloned().unwrap_or_default();
            let f = Figures::from_counters(&national, day(2026, 12, 1));
            prop_assert_eq!(f.total, cases.len() as i64);
            prop_assert_eq!(f.by_status.iter().map(|r| r.ca + r.nen).sum::<i64>(), f.total);
            let held = cases.iter().filter(|c| c.provider_id.is_some()).count() as i64;
            for row in &f.sla {
                prop_assert_eq!(row.met + row.met_late + row.due + row.breached + row.not_met, held);
            }
        }
    }
}
