//! The single table, described once: each item kind's key (`PK`, `SK`) and the secondary indexes,
//! their key attributes and the partitions the adapter writes into them. Nothing else in the
//! adapter spells a key; template.yaml's indexes are checked against [`Index::ALL`]
//! (infra/local's template tests). docs/architecture.md has the table as a picture.
//!
//! | item | PK | SK |
//! |---|---|---|
//! | case | `CASE#<caseId>` | `CASE` |
//! | timeline entry | `CASE#<caseId>` | `TL#<at>#<entryId>` |
//! | outbox entry | `CASE#<caseId>` | `OUTBOX#<eventId>` |
//! | file record | `CASE#<caseId>` | `FILE#<fileId>` |
//! | safety / health note | `CASE#<caseId>` | `SAFETY#<entryId>` / `HEALTH#<entryId>` |
//! | audit entry (a write) | `AUDIT#<caseId>` | `SEQ#<20 digits>` |
//! | read entry | `AUDIT#READS#<chain>` | `SEQ#<20 digits>` |
//! | read chain | `AUDIT#READCHAINS` | `CHAIN#<chain>` |
//! | CA request | `REFERRAL#<id>` | `REFERRAL` |
//! | student's active case / enrolment | `STUDENT#<key>` | `ACTIVE` / `ENROLMENT` |
//! | once-only marker | its key | `MARKER` |
//! | provider initiative | `INITIATIVES#<providerId>` | `INITIATIVE#<id>` |
//! | Unmet Basic Needs Fund counter | `FUND#<providerId>` | `YEAR#<contract year>` |
//! | a user's email preference | `USER#<userId>` | `PREFS` |
//! | an update waiting for a daily summary | `DIGEST` | `<userId>#<eventId>#<audience>` |
//! | a case's counted facts (dashboards, export) | `FACTS#<shard>` | `<caseId>` |
//! | a dashboard scope's counters | `DASHBOARD#<scope>` | `COUNTERS` |
//! | school, catchment, provider, user, locality | `SCHOOL#<id>` … `LOCALITY#<key>` | `SCHOOL` … `LOCALITY` |

use chrono::{Datelike, NaiveDate};
use cms_domain::case::CaseStatus;
use cms_domain::ids::{CaseId, CatchmentId, ProviderId, ReferralId, SchoolId, UserId};
use cms_domain::student::StudentKey;

/// A secondary index: its name and key attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Index {
    pub name: &'static str,
    pub pk: &'static str,
    pub sk: &'static str,
}

/// Index names and keys (template.yaml defines them; docs/architecture.md says which query uses each).
pub mod index {
    use super::Index;
    pub const BY_PROVIDER: Index = Index { name: "ByProvider", pk: "providerPk", sk: "providerSk" };
    pub const BY_SCHOOL: Index = Index { name: "BySchool", pk: "schoolPk", sk: "schoolSk" };
    pub const BY_CONTACT: Index = Index { name: "ByContact", pk: "contactPk", sk: "contactSk" };
    pub const BY_STUDENT: Index = Index { name: "ByStudent", pk: "studentPk", sk: "studentSk" };
    pub const BY_STUDENT_NAME: Index = Index { name: "ByStudentName", pk: "studentNamePk", sk: "studentSk" };
    pub const BY_STATUS: Index = Index { name: "ByStatus", pk: "statusPk", sk: "statusSk" };
    pub const BY_DUE: Index = Index { name: "ByDue", pk: "duePk", sk: "dueSk" };
    pub const BY_OUTBOX: Index = Index { name: "ByOutbox", pk: "outboxPk", sk: "outboxSk" };
    /// Sparse: the cases referred to a Ministry team (the Prosecutions team's queue).
    pub const BY_TEAM: Index = Index { name: "ByTeam", pk: "teamPk", sk: "teamSk" };
}

impl Index {
    pub const ALL: [Index; 9] = [
        index::BY_PROVIDER,
        index::BY_SCHOOL,
        index::BY_CONTACT,
        index::BY_STUDENT,
        index::BY_STUDENT_NAME,
        index::BY_STATUS,
        index::BY_DUE,
        index::BY_OUTBOX,
        index::BY_TEAM,
    ];
}

/// Sort keys and sort-key prefixes.
pub mod sk {
    pub const CASE: &str = "CASE";
    pub const REFERRAL: &str = "REFERRAL";
    pub const MARKER: &str = "MARKER";
    pub const ACTIVE: &str = "ACTIVE";
    pub const ENROLMENT: &str = "ENROLMENT";
    pub const TIMELINE: &str = "TL#";
    pub const OUTBOX: &str = "OUTBOX#";
    pub const FILE: &str = "FILE#";
    pub const SEQ: &str = "SEQ#";
    pub const CHAIN: &str = "CHAIN#";
    pub const SCHOOL: &str = "SCHOOL";
    pub const CATCHMENT: &str = "CATCHMENT";
    pub const PROVIDER: &str = "PROVIDER";
    pub const USER: &str = "USER";
    pub const LOCALITY: &str = "LOCALITY";
    /// BySchool sort-key prefixes of a school's CA requests.
    pub const DRAFT: &str = "DRAFT#";
    pub const SUBMITTED: &str = "SUBMITTED#";
    pub const SAFETY: &str = "SAFETY#";
    pub const HEALTH: &str = "HEALTH#";

    /// A user's email preference, beside their user record (`USER#<id>`): a reference-data import
    /// that rewrites the record leaves the choice alone.
    pub const PREFS: &str = "PREFS";
    /// A digest entry: by user, then event (ULIDs sort by time), then audience.
    pub fn digest(user: &cms_domain::ids::UserId, event: &cms_domain::ids::EventId, audience: &str) -> String {
        format!("{user}#{event}#{audience}")
    }

    /// A dashboard scope's counters item.
    pub const COUNTERS: &str = "COUNTERS";

    pub const INITIATIVE: &str = "INITIATIVE#";
    pub fn initiative(id: &cms_domain::ids::EntryId) -> String {
        format!("{INITIATIVE}{id}")
    }

    /// A fund counter's contract year (by its first year: `YEAR#2026` is 2026/27).
    pub fn fund_year(year: i32) -> String {
        format!("YEAR#{year}")
    }

    /// An entry's place in an audit or read chain: `SEQ#` and 20 digits, so text order is number order.
    pub fn seq(n: u64) -> String {
        format!("{SEQ}{n:020}")
    }
}

/// Partition keys of the table.
pub mod pk {
    use super::*;
    pub const CASE: &str = "CASE#";
    pub const READ_CHAINS: &str = "AUDIT#READCHAINS";

    pub fn case(id: &CaseId) -> String {
        format!("{CASE}{id}")
    }
    /// The case a `CASE#…` partition key names.
    pub fn case_of(pk: &str) -> Option<CaseId> {
        CaseId::parse(pk.strip_prefix(CASE)?).ok()
    }
    pub fn audit(case: &CaseId) -> String {
        format!("AUDIT#{case}")
    }
    pub fn read_chain(chain: &str) -> String {
        format!("AUDIT#READS#{chain}")
    }
    pub fn referral(id: &ReferralId) -> String {
        format!("REFERRAL#{id}")
    }
    pub fn student(k: &StudentKey) -> String {
        format!("STUDENT#{}", k.as_str())
    }
    pub fn school(id: &SchoolId) -> String {
        format!("SCHOOL#{id}")
    }
    pub fn catchment(id: &CatchmentId) -> String {
        format!("CATCHMENT#{id}")
    }
    pub fn provider(id: &ProviderId) -> String {
        format!("PROVIDER#{id}")
    }
    pub fn user(id: &UserId) -> String {
        format!("USER#{id}")
    }
    pub fn locality(key: &str) -> String {
        format!("LOCALITY#{key}")
    }
    pub fn initiatives(provider: &ProviderId) -> String {
        format!("INITIATIVES#{provider}")
    }
    pub fn fund(provider: &ProviderId) -> String {
        format!("FUND#{provider}")
    }
    /// Every entry waiting for a daily summary (one partition: a night's entries are one Query).
    pub const DIGEST: &str = "DIGEST";
    /// The facts a case was last counted with, by the case's shard (`cms_domain::schedule::shard`):
    /// the export reads a shard a page at a time.
    pub fn facts(shard: u32) -> String {
        format!("FACTS#{shard}")
    }
    /// A dashboard scope's counters (`school#1001`, `provider#P01`, `national`, …).
    pub fn dashboard(scope_key: &str) -> String {
        format!("DASHBOARD#{scope_key}")
    }
}

/// The partitions written into the indexes (their keys, beside the items' own).
pub mod part {
    use super::*;
    /// BySchool: a school's cases (sort key `CASE#…`) and CA requests (`DRAFT#…`, `SUBMITTED#…`).
    pub fn school(id: &SchoolId) -> String {
        super::pk::school(id)
    }
    /// BySchool: an organisation's users.
    pub fn staff(org_id: &str) -> String {
        format!("STAFF#{org_id}")
    }
    /// BySchool: every provider.
    pub const PROVIDERS: &str = "DIRECTORY#providers";
    /// BySchool: the reads naming one case (its audit view).
    pub fn reads(case: &CaseId) -> String {
        format!("READS#{case}")
    }
    /// ByContact: the cases a School Primary Contact is named on.
    pub fn contact(user: &UserId) -> String {
        format!("CONTACT#{user}")
    }
    /// ByProvider: a provider's queue and caseload (sort key `<status>#…`).
    pub fn provider(id: &ProviderId) -> String {
        super::pk::provider(id)
    }
    /// ByStatus: every case in one status.
    pub fn status(s: CaseStatus) -> String {
        format!("STATUS#{}", s.as_str())
    }
    /// ByStatus: every user on record (no case's status partition starts this way).
    pub const USERS: &str = "DIRECTORY#users";
    /// ByTeam: the cases referred to the Ministry's Prosecutions team (sort key `<referred at>#<caseId>`).
    pub const PROSECUTIONS: &str = "TEAM#prosecutions";
    /// ByOutbox: every outbox entry.
    pub const OUTBOX: &str = "OUTBOX";
    /// ByDue: the drafts whose author is to be reminded.
    pub const DRAFT_REMINDERS: &str = "DRAFT-REMINDERS";
    /// ByDue: a shard of the cases with something due for the nightly job
    /// ([`cms_domain::schedule::shard`]).
    pub fn due(shard: u32) -> String {
        format!("DUE#{shard}")
    }
    /// ByDue's sort key of a case due on `date`; `None` for dates that would not sort as text
    /// (years outside 1000–9999 cannot occur for a real child, and are left out of the index).
    pub fn due_sk(date: NaiveDate, id: &impl std::fmt::Display) -> Option<String> {
        (1000..=9999).contains(&date.year()).then(|| format!("{}#{id}", date.format("%Y-%m-%d")))
    }
    /// The largest ByDue sort key that is due on `today` (`~` sorts after every id character).
    pub fn due_upto(today: NaiveDate) -> String {
        format!("{}#~", today.format("%Y-%m-%d"))
    }
}

#[cfg(test)]
mod tests {
    use super::part::{due, due_sk, due_upto};
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn due_keys_sort_by_date_and_today_includes_every_id() {
        let id = CaseId::parse("01JZZZZZZZZZZZZZZZZZZZZZZZ").unwrap();
        let low = CaseId::parse("0").unwrap();
        let today = date(2026, 3, 13);
        let ub = due_upto(today);
        assert!(due_sk(today, &id).unwrap() <= ub);
        assert!(due_sk(today, &CaseId::parse("zzz_--").unwrap()).unwrap() <= ub);
        assert!(due_sk(date(2026, 3, 14), &low).unwrap() > ub);
        assert!(due_sk(date(2025, 12, 31), &id).unwrap() < ub);
        assert_eq!(due_sk(date(2026, 3, 13), &low).as_deref(), Some("2026-03-13#0"));
        assert_eq!(due_sk(NaiveDate::MAX, &low), None);
        assert_eq!(due(3), "DUE#3");
    }

    #[test]
    fn keys_round_trip_and_sequences_sort_as_numbers() {
        let id = CaseId::parse("01JCASE").unwrap();
        assert_eq!(pk::case_of(&pk::case(&id)), Some(id));
        assert_eq!(pk::case_of("AUDIT#01JCASE"), None);
        assert!(sk::seq(9) < sk::seq(10) && sk::seq(10) < sk::seq(u64::MAX));
    }
}
