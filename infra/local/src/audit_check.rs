//! Verifying audit chains in bulk (the `verify-audit` command): the chains of the given cases, or
//! of every case, found status by status through the `ByStatus` index (a Query per status and
//! page, never a Scan). Reports ids and counts only.

use cms_domain::access::ListScope;
use cms_domain::audit::{verify_chain, verify_read_chain, ChainBreak};
use cms_domain::case::CaseStatus;
use cms_domain::ids::CaseId;
use cms_domain::ports::{AuditLog, CaseListQuery, CaseStore, ReadLog, StoreError};

/// What a verification found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Cases whose chain was checked.
    pub cases: u64,
    /// Audit entries checked, over all those cases.
    pub entries: u64,
    /// Cases with no audit entry at all (written before the audit trail existed).
    pub without_trail: u64,
    /// Index pages read to find the cases (0 when the ids were given).
    pub queries: u64,
    /// Every broken chain: the case and what is wrong with it.
    pub breaks: Vec<(CaseId, ChainBreak)>,
    /// Read chains checked (every one registered; see `cms_aws::reads`), and the reads in them.
    pub read_chains: u64,
    pub reads: u64,
    /// Registered read chains with no entry (a process that stopped before its first read was written).
    pub empty_read_chains: u64,
    /// Every broken read chain: its id and what is wrong with it.
    pub read_breaks: Vec<(String, ChainBreak)>,
}

impl Report {
    pub fn intact(&self) -> bool {
        self.breaks.is_empty() && self.read_breaks.is_empty()
    }

    async fn check<S: AuditLog + ?Sized>(&mut self, store: &S, id: &CaseId) -> Result<(), StoreError> {
        let entries = store.entries(id).await?;
        self.cases += 1;
        self.entries += entries.len() as u64;
        if entries.is_empty() {
            self.without_trail += 1;
        }
        if let Err(b) = verify_chain(id, &entries) {
            self.breaks.push((id.clone(), b));
        }
        Ok(())
    }
}

/// The chains of these cases.
pub async fn verify_cases<S: AuditLog + ?Sized>(store: &S, ids: &[CaseId]) -> Result<Report, StoreError> {
    let mut report = Report::default();
    for id in ids {
        report.check(store, id).await?;
    }
    Ok(report)
}

/// Every read chain (the lists and single-case reads of every reader process).
pub async fn verify_reads<S: ReadLog + ?Sized>(store: &S, report: &mut Report) -> Result<(), StoreError> {
    for chain in store.read_chains().await? {
        let entries = store.read_chain(&chain).await?;
        report.read_chains += 1;
        report.reads += entries.len() as u64;
        if entries.is_empty() {
            report.empty_read_chains += 1;
        }
        if let Err(b) = verify_read_chain(&chain, &entries) {
            report.read_breaks.push((chain, b));
        }
    }
    Ok(())
}

/// The chain of every case (each status's partition of the `ByStatus` index, page by page) and
/// every read chain.
pub async fn verify_all<S: CaseStore + AuditLog + ReadLog + ?Sized>(store: &S, page_size: u32) -> Result<Report, StoreError> {
    let mut report = Report::default();
    verify_reads(store, &mut report).await?;
    for status in CaseStatus::ALL {
        let mut cursor = None;
        loop {
            let q = CaseListQuery { scope: ListScope::National, status: Some(status), limit: page_size.max(1), cursor: cursor.take() };
            let page = store.list_cases(&q).await?;
            report.queries += 1;
            for case in &page.items {
                report.check(store, &case.id).await?;
            }
            match page.next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
    }
    Ok(report)
}
