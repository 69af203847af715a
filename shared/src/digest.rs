//! Email digests (issue 15, item 8): "a School Primary Contact (or Case Manager) may choose a daily
//! digest instead of one email per event; still no child details in any email."
//!
//! - Each user's [`EmailPreference`]: one email per update (the default) or one daily summary.
//! - A notice for a user who chose the digest becomes a [`DigestEntry`] instead of an email; the
//!   nightly job gathers each user's entries into one email ([`digest_email`]), grouped by case,
//!   each case with its link to the portal. An entry holds only what the per-event email would
//!   have said (fixed sentences and status labels), so the summary names no child either.
//! - Emails to a provider's queue mailbox (no Case Manager yet) are not a person's and are always
//!   sent at once.

use crate::ids::{CaseId, EventId, UserId};
use crate::notification::{Audience, Email, Link, Notice};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

codes! {
    /// How a user wants to hear about updates on their cases.
    #[derive(Default)]
    pub enum EmailPreference {
        /// One email for every update (the default).
        #[default]
        EachUpdate = "each_update",
        /// One email a day summarising the day's updates (sent by the nightly job).
        DailyDigest = "daily_digest",
    }
}

/// At most this many cases are listed in one summary; the rest are counted and the portal has them.
pub const MAX_CASES_LISTED: usize = 50;

/// One update waiting for a user's daily summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DigestEntry {
    pub user_id: UserId,
    /// The event the update is about (with the audience, the entry's identity: a redelivered
    /// event adds nothing).
    pub event_id: EventId,
    pub audience: Audience,
    pub case_id: CaseId,
    /// What the per-event email would have said (no child details).
    pub what: String,
    pub link: Link,
    pub at: DateTime<Utc>,
}

impl DigestEntry {
    pub fn new(notice: &Notice, user_id: &UserId, event_id: &EventId, at: DateTime<Utc>) -> DigestEntry {
        DigestEntry {
            user_id: user_id.clone(),
            event_id: event_id.clone(),
            audience: notice.audience,
            case_id: notice.case_id.clone(),
            what: notice.what.clone(),
            link: notice.link,
            at,
        }
    }
}

/// The once-only key of one user's summary for one night: claimed before it is sent, its answer
/// the entries it holds (a retry the same night clears those and sends nothing again).
pub fn sent_key(user: &UserId, on: NaiveDate) -> String {
    format!("DIGEST-SENT#{user}#{on}")
}

/// One user's summary of `entries` (all theirs, oldest first), addressed to `to`.
pub fn digest_email(entries: &[DigestEntry], to: &str, portal_base_url: &str, on: NaiveDate) -> Email {
    let base = portal_base_url.trim_end_matches('/');
    // cases in the order their first update came, each with its updates in order
    let mut cases: Vec<(&CaseId, Vec<&DigestEntry>)> = Vec::new();
    let mut other: Vec<&DigestEntry> = Vec::new();
    for e in entries {
        if e.link == Link::Home {
            other.push(e);
            continue;
        }
        match cases.iter_mut().find(|(c, _)| *c == &e.case_id) {
            Some((_, list)) => list.push(e),
            None => cases.push((&e.case_id, vec![e])),
        }
    }
    let n = entries.len();
    let plural = |k: usize, one: &str, many: &str| format!("{k} {}", if k == 1 { one } else { many });
    let subject = format!("Attendance Services: your daily summary ({})", plural(n, "update", "updates"));
    let mut body = format!(
        "Kia ora,\n\nYour daily summary of attendance case updates, as you chose in the portal ({} on {}, up to {}).\n",
        plural(n, "update", "updates"),
        plural(cases.len(), "case", "cases"),
        on.format("%-d %B %Y"),
    );
    for (case_id, list) in cases.iter().take(MAX_CASES_LISTED) {
        body.push_str(&format!("\n{}:\n", plural(list.len(), "update on a case", "updates on a case")));
        for e in list {
            body.push_str(&format!("- {}\n", e.what));
        }
        body.push_str(&format!("View the case: {base}/cases/{case_id}\n"));
    }
    if cases.len() > MAX_CASES_LISTED {
        let rest = &cases[MAX_CASES_LISTED..];
        let updates: usize = rest.iter().map(|(_, l)| l.len()).sum();
        body.push_str(&format!(
            "\nAnd {} on {} more: see your cases in the portal.\n",
            plural(updates, "update", "updates"),
            plural(rest.len(), "case", "cases")
        ));
    }
    for e in &other {
        body.push_str(&format!("\n- {}\n", e.what));
    }
    body.push_str(&format!(
        "\nOpen the Attendance Service Portal:\n{base}/\n\n\
         To get one email per update instead, change \"Email updates\" on your profile page in the portal.\n\n\
         For privacy this email does not include any student details; sign in to the portal to see them.\n\n\
         Attendance Services (this mailbox is not monitored)\n"
    ));
    Email { to: to.to_string(), subject, body }
}

/// Split entries (sorted by user, as the store lists them) into each user's run.
pub fn by_user(entries: Vec<DigestEntry>) -> Vec<(UserId, Vec<DigestEntry>)> {
    let mut out: Vec<(UserId, Vec<DigestEntry>)> = Vec::new();
    for e in entries {
        match out.last_mut() {
            Some((u, list)) if *u == e.user_id => list.push(e),
            _ => out.push((e.user_id.clone(), vec![e])),
        }
    }
    out
}

/// The entries a sent summary held, as its marker's answer records them, and back.
pub fn held(entries: &[DigestEntry]) -> String {
    serde_json::to_string(&entries.iter().map(|e| format!("{}#{}", e.event_id, e.audience.as_str())).collect::<Vec<_>>())
        .unwrap_or_default()
}

/// Was this entry in the summary whose marker answered `held`?
pub fn was_held(held: &str, e: &DigestEntry) -> bool {
    let ids: Vec<String> = serde_json::from_str(held).unwrap_or_default();
    ids.contains(&format!("{}#{}", e.event_id, e.audience.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn entry(user: &str, case: &str, what: &str, n: u32) -> DigestEntry {
        DigestEntry {
            user_id: UserId::parse(user).unwrap(),
            event_id: EventId::parse(format!("E{n:04}")).unwrap(),
            audience: Audience::PrimaryContact,
            case_id: CaseId::parse(case).unwrap(),
            what: what.into(),
            link: Link::Case,
            at: DateTime::from_timestamp(1_780_000_000 + i64::from(n), 0).unwrap(),
        }
    }

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 4).unwrap()
    }

    #[test]
    fn the_preference_is_each_update_unless_chosen() {
        assert_eq!(EmailPreference::default(), EmailPreference::EachUpdate);
        assert_eq!(EmailPreference::parse("daily_digest"), Some(EmailPreference::DailyDigest));
        assert_eq!(EmailPreference::parse("weekly"), None);
    }

    #[test]
    fn one_summary_groups_the_updates_by_case_and_links_each() {
        let entries = vec![
            entry("pc", "C1", "A case you are the School Primary Contact for has changed status: Provider Queue → Open.", 1),
            entry("pc", "C2", "A case you are the School Primary Contact for has a new comment from the provider.", 2),
            entry("pc", "C1", "The provider recorded a meeting with the school on a case you are the School Primary Contact for.", 3),
        ];
        let e = digest_email(&entries, "pc@school.nz", "https://portal.example/", day());
        assert_eq!(e.to, "pc@school.nz");
        assert_eq!(e.subject, "Attendance Services: your daily summary (3 updates)");
        assert!(e.body.contains("(3 updates on 2 cases, up to 4 December 2026)"), "{}", e.body);
        let c1 = e.body.find("https://portal.example/cases/C1\n").expect("C1 linked");
        let c2 = e.body.find("https://portal.example/cases/C2\n").expect("C2 linked");
        assert!(c1 < c2, "cases in the order of their first update");
        assert!(e.body.contains("2 updates on a case:\n- A case you are the School Primary Contact for has changed status"), "{}", e.body);
        assert!(e.body.contains("does not include any student details"));
    }

    #[test]
    fn a_long_summary_lists_fifty_cases_and_counts_the_rest() {
        let entries: Vec<_> = (0..60).map(|i| entry("cm", &format!("C{i}"), "The school added a comment.", i)).collect();
        let e = digest_email(&entries, "cm@p.nz", "https://p", day());
        assert!(e.body.contains("https://p/cases/C49\n"));
        assert!(!e.body.contains("https://p/cases/C50\n"));
        assert!(e.body.contains("And 10 updates on 10 cases more"), "{}", e.body);
    }

    #[test]
    fn entries_split_by_user_and_a_sent_summary_knows_its_entries() {
        let all = vec![entry("a", "C1", "x", 1), entry("a", "C2", "y", 2), entry("b", "C1", "z", 3)];
        let runs = by_user(all.clone());
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[0].1.len(), 2);
        let h = held(&runs[0].1);
        assert!(was_held(&h, &all[0]) && was_held(&h, &all[1]));
        assert!(!was_held(&h, &all[2]), "another user's entry was not in it");
        assert_eq!(sent_key(&UserId::parse("a").unwrap(), day()), "DIGEST-SENT#a#2026-12-04");
    }

    proptest! {
        /// Every update is in the summary exactly once and every case listed is linked; nothing
        /// but the fixed sentences goes in (the entries carry no child details to begin with).
        #[test]
        fn every_update_appears_once(cases in prop::collection::vec(0u8..8, 1..40)) {
            let entries: Vec<_> = cases.iter().enumerate().map(|(i, c)| entry("u", &format!("C{c}"), &format!("update number {i:03}."), i as u32)).collect();
            let e = digest_email(&entries, "u@x.nz", "https://p", day());
            for (i, c) in cases.iter().enumerate() {
                let line = format!("- update number {i:03}.\n");
                prop_assert_eq!(e.body.matches(&line).count(), 1);
                let link = format!("https://p/cases/C{c}\n");
                prop_assert!(e.body.contains(&link));
            }
            prop_assert_eq!(by_user(entries.clone()).len(), 1);
        }
    }
}
