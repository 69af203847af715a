//! The audit trail: every read and every write of a case records who (user, role, organisation),
//! what (action), which case, which request and when — never the data itself. Per case the entries
//! form a hash chain (each carries the hash of the one before), so an entry edited or removed from
//! the middle of the table is detected by [`verify_chain`]. The store appends with a conditional
//! write on the next sequence number, so concurrent appends cannot fork the chain.

use crate::actor::{Actor, Org};
use crate::ids::CaseId;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The hash a chain starts from.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What happened, as a handler reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditRecord {
    pub case_id: CaseId,
    pub user_id: String,
    pub role: String,
    /// `school:<id>`, `provider:<id>`, `ministry` or `ministry:<region>`, or `system:<process>`.
    pub organisation: String,
    /// e.g. `case.read`, `case.listed`, `case.status.close`, `case.comment.add`.
    pub action: String,
    pub request_id: String,
    pub at: DateTime<Utc>,
}

impl AuditRecord {
    pub fn by(actor: &Actor, case_id: &CaseId, action: &str, request_id: &str, at: DateTime<Utc>) -> AuditRecord {
        AuditRecord {
            case_id: case_id.clone(),
            user_id: actor.user_id().to_string(),
            role: actor.role().as_str().to_string(),
            organisation: org_label(actor.org()),
            action: action.to_string(),
            request_id: request_id.to_string(),
            at,
        }
    }

    pub fn system(process: &str, case_id: &CaseId, action: &str, request_id: &str, at: DateTime<Utc>) -> AuditRecord {
        AuditRecord {
            case_id: case_id.clone(),
            user_id: format!("system:{process}"),
            role: "system".into(),
            organisation: format!("system:{process}"),
            action: action.to_string(),
            request_id: request_id.to_string(),
            at,
        }
    }
}

pub fn org_label(org: &Org) -> String {
    match org {
        Org::School(s) => format!("school:{s}"),
        Org::Provider(p) => format!("provider:{p}"),
        Org::Ministry(Some(r)) => format!("ministry:{r}"),
        Org::Ministry(None) => "ministry".into(),
    }
}

/// One link of a case's chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    /// 1, 2, 3, … per case, without gaps.
    pub seq: u64,
    #[serde(flatten)]
    pub record: AuditRecord,
    pub prev_hash: String,
    pub hash: String,
}

/// SHA-256 over the fields, each length-prefixed (so no two field lists hash alike), as hex.
fn hash_fields(fields: &[String]) -> String {
    let mut h = Sha256::new();
    for f in fields {
        h.update((f.len() as u64).to_be_bytes());
        h.update(f.as_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn digest(seq: u64, r: &AuditRecord, prev_hash: &str) -> String {
    // a fixed, unambiguous serialisation: fields in order, each length-prefixed
    let fields = [
        seq.to_string(),
        r.case_id.to_string(),
        r.user_id.clone(),
        r.role.clone(),
        r.organisation.clone(),
        r.action.clone(),
        r.request_id.clone(),
        r.at.to_rfc3339_opts(SecondsFormat::Nanos, true),
        prev_hash.to_string(),
    ];
    hash_fields(&fields)
}

/// Where a case's chain stands: its last link's sequence number and hash. The case item carries
/// it, so a change's entry is linked and written in the change's own transaction, with no read of
/// the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditHead {
    pub seq: u64,
    pub hash: String,
}

impl AuditEntry {
    /// The chain's head once this entry is written.
    pub fn head(&self) -> AuditHead {
        AuditHead { seq: self.seq, hash: self.hash.clone() }
    }
}

/// The next link after the chain's head (or the first of the chain).
pub fn link_after(head: Option<&AuditHead>, record: AuditRecord) -> AuditEntry {
    let seq = head.map_or(1, |h| h.seq + 1);
    let prev_hash = head.map_or_else(|| GENESIS.to_string(), |h| h.hash.clone());
    let hash = digest(seq, &record, &prev_hash);
    AuditEntry { seq, record, prev_hash, hash }
}

/// The next link after `prev` (or the first of the chain).
pub fn link(prev: Option<&AuditEntry>, record: AuditRecord) -> AuditEntry {
    let seq = prev.map_or(1, |p| p.seq + 1);
    let prev_hash = prev.map_or_else(|| GENESIS.to_string(), |p| p.hash.clone());
    let hash = digest(seq, &record, &prev_hash);
    AuditEntry { seq, record, prev_hash, hash }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    #[error("entry {seq} does not match its hash: it was changed after it was written")]
    Altered { seq: u64 },
    #[error("entry {seq} does not follow entry {prev}: an entry is missing or out of order")]
    Gap { seq: u64, prev: u64 },
    #[error("entry {seq} does not carry the previous entry's hash")]
    Broken { seq: u64 },
    #[error("entry {seq} belongs to another case")]
    WrongCase { seq: u64 },
    #[error("read {seq} of read chain {chain} does not match its hash: it was changed after it was written")]
    ReadAltered { chain: String, seq: u64 },
}

/// Check a case's whole chain, in sequence order.
pub fn verify_chain(case_id: &CaseId, entries: &[AuditEntry]) -> Result<usize, ChainBreak> {
    verify_links(entries, |e| &e.record.case_id == case_id, |e| digest(e.seq, &e.record, &e.prev_hash) == e.hash)
}

/// One link of either kind of chain, as the check sees it.
trait Link {
    fn seq(&self) -> u64;
    fn prev_hash(&self) -> &str;
    fn hash(&self) -> &str;
}

impl Link for AuditEntry {
    fn seq(&self) -> u64 {
        self.seq
    }
    fn prev_hash(&self) -> &str {
        &self.prev_hash
    }
    fn hash(&self) -> &str {
        &self.hash
    }
}

/// The one chain check: each entry belongs to the chain, follows the one before without a gap,
/// carries its hash, and matches its own hash (`sound`).
fn verify_links<E: Link>(entries: &[E], belongs: impl Fn(&E) -> bool, sound: impl Fn(&E) -> bool) -> Result<usize, ChainBreak> {
    let mut prev: Option<&E> = None;
    for e in entries {
        if !belongs(e) {
            return Err(ChainBreak::WrongCase { seq: e.seq() });
        }
        let want_seq = prev.map_or(1, |p| p.seq() + 1);
        if e.seq() != want_seq {
            return Err(ChainBreak::Gap { seq: e.seq(), prev: want_seq - 1 });
        }
        let want_prev = prev.map_or(GENESIS, |p| p.hash());
        if e.prev_hash() != want_prev {
            return Err(ChainBreak::Broken { seq: e.seq() });
        }
        if !sound(e) {
            return Err(ChainBreak::Altered { seq: e.seq() });
        }
        prev = Some(e);
    }
    Ok(entries.len())
}

/// A read: who saw which cases. One entry per request, naming every case it showed (a list page
/// names each case on it), so a list costs one write whatever its length. Reads are not linked into
/// the case's own chain (that holds the changes, written with them): each reader process keeps a
/// chain of its own ([`ReadEntry::chain`]), linked the same way, so an entry altered or removed
/// from the middle of a read chain is detected by [`verify_read_chain`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadRecord {
    /// The cases shown, in the order shown (one for a read of a single case; none for an empty list).
    pub case_ids: Vec<CaseId>,
    pub user_id: String,
    pub role: String,
    pub organisation: String,
    /// e.g. `case.read`, `case.listed`, `case.timeline.read`.
    pub action: String,
    pub request_id: String,
    pub at: DateTime<Utc>,
}

impl ReadRecord {
    pub fn by(actor: &Actor, case_ids: Vec<CaseId>, action: &str, request_id: &str, at: DateTime<Utc>) -> ReadRecord {
        ReadRecord {
            case_ids,
            user_id: actor.user_id().to_string(),
            role: actor.role().as_str().to_string(),
            organisation: org_label(actor.org()),
            action: action.to_string(),
            request_id: request_id.to_string(),
            at,
        }
    }

    /// What a system process (an event handler, the nightly job) read.
    pub fn system(process: &str, case_ids: Vec<CaseId>, action: &str, request_id: &str, at: DateTime<Utc>) -> ReadRecord {
        ReadRecord {
            case_ids,
            user_id: format!("system:{process}"),
            role: "system".into(),
            organisation: format!("system:{process}"),
            action: action.to_string(),
            request_id: request_id.to_string(),
            at,
        }
    }

    /// The single case this read was of, if it was of one case.
    pub fn single_case(&self) -> Option<&CaseId> {
        match self.case_ids.as_slice() {
            [one] => Some(one),
            _ => None,
        }
    }
}

/// One link of a read chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadEntry {
    /// The read chain (one per reader process, started when it first records a read).
    pub chain: String,
    /// 1, 2, 3, … per chain, without gaps.
    pub seq: u64,
    #[serde(flatten)]
    pub record: ReadRecord,
    pub prev_hash: String,
    pub hash: String,
}

fn read_digest(chain: &str, seq: u64, r: &ReadRecord, prev_hash: &str) -> String {
    let ids: Vec<&str> = r.case_ids.iter().map(CaseId::as_str).collect();
    let fields = [
        chain.to_string(),
        seq.to_string(),
        ids.join(","),
        r.user_id.clone(),
        r.role.clone(),
        r.organisation.clone(),
        r.action.clone(),
        r.request_id.clone(),
        r.at.to_rfc3339_opts(SecondsFormat::Nanos, true),
        prev_hash.to_string(),
    ];
    hash_fields(&fields)
}

/// Where a read chain stands: the last link's sequence number and hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainHead {
    pub chain: String,
    pub seq: u64,
    pub hash: String,
}

impl ChainHead {
    /// A chain that has no entry yet.
    pub fn start(chain: impl Into<String>) -> ChainHead {
        ChainHead { chain: chain.into(), seq: 0, hash: GENESIS.to_string() }
    }

    /// The next link of this chain; the head moves on only once the store has it (see
    /// [`ChainHead::advance`]).
    pub fn next(&self, record: ReadRecord) -> ReadEntry {
        let seq = self.seq + 1;
        let hash = read_digest(&self.chain, seq, &record, &self.hash);
        ReadEntry { chain: self.chain.clone(), seq, record, prev_hash: self.hash.clone(), hash }
    }

    pub fn advance(&mut self, written: &ReadEntry) {
        self.seq = written.seq;
        self.hash = written.hash.clone();
    }
}

/// Whether a read entry still matches its own hash (an entry read on its own, out of its chain).
pub fn read_entry_sound(e: &ReadEntry) -> bool {
    read_digest(&e.chain, e.seq, &e.record, &e.prev_hash) == e.hash
}

/// Check a whole read chain, in sequence order.
pub fn verify_read_chain(chain: &str, entries: &[ReadEntry]) -> Result<usize, ChainBreak> {
    verify_links(entries, |e| e.chain == chain, read_entry_sound)
}

impl Link for ReadEntry {
    fn seq(&self) -> u64 {
        self.seq
    }
    fn prev_hash(&self) -> &str {
        &self.prev_hash
    }
    fn hash(&self) -> &str {
        &self.hash
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn rec(i: u32) -> AuditRecord {
        AuditRecord {
            case_id: CaseId::parse("C1").unwrap(),
            user_id: format!("u{i}"),
            role: "case_manager".into(),
            organisation: "provider:P01".into(),
            action: "case.read".into(),
            request_id: format!("r{i}"),
            at: Utc.with_ymd_and_hms(2026, 11, 24, 1, 0, i % 60).unwrap(),
        }
    }

    fn chain(n: u32) -> Vec<AuditEntry> {
        let mut out: Vec<AuditEntry> = Vec::new();
        for i in 0..n {
            let e = link(out.last(), rec(i));
            out.push(e);
        }
        out
    }

    #[test]
    fn an_intact_chain_verifies() {
        let c = chain(5);
        assert_eq!(verify_chain(&CaseId::parse("C1").unwrap(), &c), Ok(5));
        assert_eq!(c[0].prev_hash, GENESIS);
    }

    #[test]
    fn tampering_is_detected() {
        let id = CaseId::parse("C1").unwrap();
        let mut altered = chain(5);
        altered[2].record.user_id = "someone-else".into();
        assert_eq!(verify_chain(&id, &altered), Err(ChainBreak::Altered { seq: 3 }));
        let mut removed = chain(5);
        removed.remove(2);
        assert_eq!(verify_chain(&id, &removed), Err(ChainBreak::Gap { seq: 4, prev: 2 }));
        // rewriting an entry and its own hash still breaks the next link
        let mut rehashed = chain(5);
        rehashed[1].record.action = "case.deleted".into();
        rehashed[1].hash = digest(2, &rehashed[1].record, &rehashed[1].prev_hash);
        assert_eq!(verify_chain(&id, &rehashed), Err(ChainBreak::Broken { seq: 3 }));
    }

    fn read(i: u32, ids: &[&str]) -> ReadRecord {
        ReadRecord {
            case_ids: ids.iter().map(|s| CaseId::parse(*s).unwrap()).collect(),
            user_id: format!("u{i}"),
            role: "case_manager".into(),
            organisation: "provider:P01".into(),
            action: "case.listed".into(),
            request_id: format!("r{i}"),
            at: Utc.with_ymd_and_hms(2026, 11, 24, 1, 0, i % 60).unwrap(),
        }
    }

    fn read_chain(n: u32) -> Vec<ReadEntry> {
        let mut head = ChainHead::start("R1");
        (0..n)
            .map(|i| {
                let e = head.next(read(i, &["C1", "C2", "C3"]));
                head.advance(&e);
                e
            })
            .collect()
    }

    #[test]
    fn a_read_chain_links_and_detects_tampering() {
        let c = read_chain(4);
        assert_eq!(verify_read_chain("R1", &c), Ok(4));
        assert!(c.iter().all(read_entry_sound));
        // a case taken out of what a list showed
        let mut hidden = read_chain(4);
        hidden[1].record.case_ids.remove(1);
        assert_eq!(verify_read_chain("R1", &hidden), Err(ChainBreak::Altered { seq: 2 }));
        assert!(!read_entry_sound(&hidden[1]));
        let mut removed = read_chain(4);
        removed.remove(2);
        assert_eq!(verify_read_chain("R1", &removed), Err(ChainBreak::Gap { seq: 4, prev: 2 }));
        // an entry moved to another chain
        assert!(verify_read_chain("R2", &c).is_err());
        // the order of the cases shown is part of the entry
        let mut reordered = read_chain(1);
        reordered[0].record.case_ids.swap(0, 2);
        assert!(!read_entry_sound(&reordered[0]));
    }

    #[test]
    fn linking_after_a_head_is_linking_after_its_entry() {
        let c = chain(3);
        let from_entry = link(c.last(), rec(9));
        let from_head = link_after(Some(&c[2].head()), rec(9));
        assert_eq!(from_entry, from_head);
        assert_eq!(link_after(None, rec(0)), link(None, rec(0)));
    }

    #[test]
    fn a_single_case_read_names_its_case() {
        assert_eq!(read(1, &["C9"]).single_case().map(CaseId::as_str), Some("C9"));
        assert_eq!(read(1, &["C1", "C2"]).single_case(), None);
        assert_eq!(read(1, &[]).single_case(), None);
    }

    proptest! {
        #[test]
        fn any_single_field_change_breaks_the_chain(n in 2u32..12, pick in 0usize..12, field in 0usize..4) {
            let id = CaseId::parse("C1").unwrap();
            let mut c = chain(n);
            let i = pick % c.len();
            match field {
                0 => c[i].record.user_id.push('x'),
                1 => c[i].record.action.push('x'),
                2 => c[i].record.at += chrono::Duration::nanoseconds(1),
                _ => c[i].record.request_id.push('x'),
            }
            prop_assert!(verify_chain(&id, &c).is_err());
        }
    }
}
