//! The `ReadLog` port on DynamoDB. Each process (a Lambda instance, the local API) keeps one read
//! chain, `AUDIT#READS#<chain> / SEQ#<20-digit seq>`, whose head it holds in memory: recording a
//! read is one `PutItem` (conditioned on the key being free), never a read-then-write. A chain is
//! registered with its first entry, in the same transaction (`AUDIT#READCHAINS / CHAIN#<chain>`), so a chain removed as a whole is
//! missed by the verifier as a registered chain without entries. A read naming one case is also
//! put in the `BySchool` index under `READS#<caseId>` so the case's audit view finds it; an entry
//! naming several (a list page) names them in the entry only.
//!
//! When a write's outcome is unknown (an error after the request left), the head is dropped and
//! the next read starts a new chain, so a chain never forks and never has a hole of its own making.

use crate::dynamo::{from_item, s, to_item, ts, DynamoStore, Item};
use crate::schema::{index, part, pk, sk};
use async_trait::async_trait;
use cms_domain::audit::{ChainHead, ReadEntry, ReadRecord};
use cms_domain::ids::CaseId;
use cms_domain::ports::{ReadLog, StoreError};

fn entry_item(e: &ReadEntry) -> Result<Item, StoreError> {
    let mut item: Item = to_item(e)?;
    item.insert("PK".into(), s(pk::read_chain(&e.chain)));
    item.insert("SK".into(), s(sk::seq(e.seq)));
    item.insert("entity".into(), s("read"));
    if let Some(case_id) = e.record.single_case() {
        item.insert("schoolPk".into(), s(part::reads(case_id)));
        // nanoseconds: reads by different processes in the same millisecond keep their order
        let at = e.record.at.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
        item.insert("schoolSk".into(), s(format!("{at}#{}#{}", e.chain, sk::seq(e.seq))));
    }
    Ok(item)
}

/// The item that registers a chain (written with the chain's first entry).
fn registry_item(chain: &str, at: chrono::DateTime<chrono::Utc>) -> Item {
    let mut item = Item::new();
    item.insert("PK".into(), s(pk::READ_CHAINS));
    item.insert("SK".into(), s(format!("{}{chain}", sk::CHAIN)));
    item.insert("entity".into(), s("read-chain"));
    item.insert("startedAt".into(), s(ts(at)));
    item
}

#[async_trait]
impl ReadLog for DynamoStore {
    async fn record_read(&self, record: ReadRecord) -> Result<ReadEntry, StoreError> {
        let mut head = self.read_head().lock().await;
        // a process's first read starts its chain: a new id, registered in the same write as its
        // first entry (one call, and never a registered chain whose first entry failed)
        let starting = head.is_none();
        let h = head.get_or_insert_with(|| ChainHead::start(ulid::Ulid::new().to_string()));
        let entry = h.next(record);
        let mut items = vec![entry_item(&entry)?];
        if starting {
            items.push(registry_item(&entry.chain, entry.record.at));
        }
        match self.put_all_new(items).await {
            Ok(true) => {
                h.advance(&entry);
                Ok(entry)
            }
            // someone wrote into this process's chain, or the write's outcome is unknown: start afresh
            Ok(false) => {
                *head = None;
                Err(StoreError::Conflict)
            }
            Err(e) => {
                *head = None;
                Err(e)
            }
        }
    }

    async fn reads_of(&self, case_id: &CaseId) -> Result<Vec<ReadEntry>, StoreError> {
        self.index_all(index::BY_SCHOOL, part::reads(case_id)).await?.into_iter().map(from_item).collect()
    }

    async fn read_chains(&self) -> Result<Vec<String>, StoreError> {
        let items = self.query_prefix(pk::READ_CHAINS.to_string(), sk::CHAIN).await?;
        Ok(items.into_iter().filter_map(|i| i.get("SK").and_then(|v| v.as_s().ok()?.strip_prefix(sk::CHAIN).map(str::to_string))).collect())
    }

    async fn read_chain(&self, chain: &str) -> Result<Vec<ReadEntry>, StoreError> {
        self.query_prefix(pk::read_chain(chain), sk::SEQ).await?.into_iter().map(from_item).collect()
    }
}
