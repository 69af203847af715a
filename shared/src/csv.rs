//! CSV exports (issue 16: "CSV of any list or report the caller may see (streamed, paged,
//! audited as one read, safe against CSV formula injection, no health information or safety
//! notes)"). RFC 4180: every cell quoted, quotes doubled, CRLF line ends; a cell a spreadsheet
//! would run as a formula (starting `=`, `+`, `-`, `@`, a tab or a carriage return) starts with
//! an apostrophe instead (OWASP's advice), so it shows as the text it is.

use crate::case::{Case, CaseStatus};
use crate::sla::{sla_views, SlaState};
use chrono::NaiveDate;

/// One cell, quoted and defused.
pub fn cell(text: &str) -> String {
    let risky = text.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let text = if risky { format!("'{text}") } else { text.to_string() };
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// One line of cells.
pub fn line<S: AsRef<str>>(cells: &[S]) -> String {
    let mut out = cells.iter().map(|c| cell(c.as_ref())).collect::<Vec<_>>().join(",");
    out.push_str("\r\n");
    out
}

/// The columns of a case list export: what the list shows, never health information, safety
/// notes, addresses or whānau contacts.
pub const CASE_COLUMNS: [&str; 13] = [
    "Case",
    "Type",
    "Status",
    "Student",
    "Year level",
    "School",
    "Provider",
    "Case Manager",
    "Referred on",
    "School meeting (5 working days)",
    "Whānau meeting (10 working days)",
    "Closed on",
    "Close reason",
];

/// A case as a line of the list export, its SLA clocks as they stand on `today`.
pub fn case_line(c: &Case, today: NaiveDate) -> String {
    let sla: Vec<String> = sla_views(c.referred_at, c.school_met_on, c.whanau_met_on, today)
        .into_iter()
        .map(|v| match v.state {
            SlaState::Met { on, met_late: false } => format!("met {on}"),
            SlaState::Met { on, met_late: true } => format!("met late {on}"),
            SlaState::Due { by } => format!("due by {by}"),
            _ => format!("breached (due {})", v.due),
        })
        .collect();
    let closed = c.status == CaseStatus::Closed;
    let opt = |s: Option<String>| s.unwrap_or_default();
    line(&[
        c.id.to_string(),
        match c.case_type {
            crate::case::CaseType::Ca => "CA".to_string(),
            crate::case::CaseType::Nen => "NEN".to_string(),
        },
        c.status.name().to_string(),
        c.student.full_name.as_str().to_string(),
        opt(c.student.year_level.map(|y| y.get().to_string())),
        c.school_id.to_string(),
        opt(c.provider_id.as_ref().map(|p| p.to_string())),
        opt(c.case_manager.as_ref().map(|u| u.to_string())),
        crate::nz_date(c.referred_at).to_string(),
        sla.first().cloned().unwrap_or_default(),
        sla.get(1).cloned().unwrap_or_default(),
        opt(c.closed_at.filter(|_| closed).map(|t| crate::nz_date(t).to_string())),
        opt(c.close_reason.filter(|_| closed).map(|r| r.as_str().to_string())),
    ])
}

/// A dashboard's figures as CSV: one line per figure (section, item, measure, value), so every
/// report opens as one flat table. Figures count cases and name no one.
pub fn dashboard_csv(f: &crate::dashboard::Figures) -> String {
    let mut out = line(&["Section", "Item", "Measure", "Value"]);
    let mut row = |section: &str, item: &str, measure: &str, value: String| out.push_str(&line(&[section, item, measure, &value]));
    row("Cases", "all", "cases", f.total.to_string());
    for r in &f.by_status {
        row("Cases by status", r.status.name(), "CA", r.ca.to_string());
        row("Cases by status", r.status.name(), "NEN", r.nen.to_string());
    }
    for r in &f.sla {
        let kind = match r.kind {
            crate::sla::SlaKind::SchoolMeeting => "school meeting (5 working days)",
            crate::sla::SlaKind::WhanauMeeting => "whānau meeting (10 working days)",
        };
        for (m, n) in [("met", r.met), ("met late", r.met_late), ("due", r.due), ("breached", r.breached), ("closed without", r.not_met)] {
            row("SLA clocks", kind, m, n.to_string());
        }
    }
    row("Provider Queue", "waiting", "cases", f.queue.cases.to_string());
    if let Some(d) = f.queue.average_days_waiting {
        row("Provider Queue", "waiting", "average days since referral", d.to_string());
    }
    for c in &f.closures {
        row("Closures by reason", &c.key, "cases", c.count.to_string());
    }
    for t in &f.terms {
        row("By term", &t.term, "referred CA", t.referred_ca.to_string());
        row("By term", &t.term, "referred NEN", t.referred_nen.to_string());
        row("By term", &t.term, "closed", t.closed.to_string());
    }
    for (section, rows) in [
        ("Caseload per Case Manager", &f.caseloads),
        ("Barriers identified", &f.barriers),
        ("Active cases by catchment", &f.catchments),
        ("Active cases by region", &f.regions),
    ] {
        for c in rows {
            row(section, &c.key, "cases", c.count.to_string());
        }
    }
    for p in &f.providers {
        for (m, n) in [("active", p.active), ("in the queue", p.queue), ("closed", p.closed), ("SLA breached", p.breached)] {
            row("Providers", &p.provider_id, m, n.to_string());
        }
        if let Some(d) = p.average_days_waiting {
            row("Providers", &p.provider_id, "average days waiting", d.to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_formula_is_shown_as_text() {
        assert_eq!(cell("=HYPERLINK(\"http://x\")"), "\"'=HYPERLINK(\"\"http://x\"\")\"");
        assert_eq!(cell("+64 21 555"), "\"'+64 21 555\"");
        assert_eq!(cell("@SUM(A1)"), "\"'@SUM(A1)\"");
        assert_eq!(cell("-1"), "\"'-1\"");
        assert_eq!(cell("Aroha Ngata"), "\"Aroha Ngata\"");
        assert_eq!(line(&["a", "b,c"]), "\"a\",\"b,c\"\r\n");
    }

    #[test]
    fn a_case_line_has_every_column_and_no_health_or_contact_details() {
        let c = crate::fixtures::case();
        let l = case_line(&c, crate::fixtures::today());
        assert_eq!(l.matches("\",\"").count() + 1, CASE_COLUMNS.len(), "{l}");
        assert!(l.starts_with("\"C1\",\"CA\",\"Open\",\"Test Child\""), "{l}");
    }

    #[test]
    fn a_dashboard_is_one_flat_table() {
        let mut counters = std::collections::BTreeMap::new();
        counters.insert("cases".to_string(), 3);
        counters.insert("st.open.CA".to_string(), 2);
        counters.insert("st.cit_review.NEN".to_string(), 1);
        counters.insert("closed.attending_regularly".to_string(), 1);
        let f = crate::dashboard::Figures::from_counters(&counters, crate::fixtures::today());
        let csv = dashboard_csv(&f);
        assert!(csv.starts_with("\"Section\",\"Item\",\"Measure\",\"Value\"\r\n\"Cases\",\"all\",\"cases\",\"3\"\r\n"), "{csv}");
        assert!(csv.contains("\"Cases by status\",\"Open\",\"CA\",\"2\"\r\n"), "{csv}");
        assert!(csv.contains("\"Closures by reason\",\"attending_regularly\",\"cases\",\"1\""), "{csv}");
        assert!(csv.lines().all(|l| l.matches("\",\"").count() == 3), "four columns on every line");
    }

    proptest! {
        /// Whatever the text, the cell reads back as one field with the text (or, when it would
        /// run as a formula, the text after an apostrophe), and never starts a formula.
        #[test]
        fn any_text_is_one_safe_cell(text in "\\PC{0,40}") {
            let c = cell(&text);
            prop_assert!(c.starts_with('"') && c.ends_with('"'));
            let inner = &c[1..c.len() - 1];
            prop_assert!(!inner.replace("\"\"", "").contains('"'), "quotes are doubled");
            let back = inner.replace("\"\"", "\"");
            prop_assert!(!back.starts_with(['=', '+', '-', '@', '\t', '\r']));
            let defused = format!("'{}", text);
            prop_assert!(back == text || back == defused);
        }
    }
}
