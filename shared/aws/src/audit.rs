//! The `AuditLog` port on DynamoDB: `AUDIT#<caseId> / SEQ#<20-digit seq>`, in a partition of its own
//! (no index keys: audit entries never appear in case queries or lists). The case item carries the
//! chain's head (`auditHead`: seq and hash). A change's entry is written in the change's own
//! transaction (`dynamo.rs`, `change_writes`); an entry on its own (what a system process did
//! without changing the case) is written with an update of the head, in one transaction
//! conditioned on the head it read, so two appends cannot take the same place; the loser re-reads.

use crate::dynamo::{from_item, s, to_item, DynamoStore, Item};
use crate::schema::{pk, sk};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use cms_domain::audit::{AuditEntry, AuditHead};
use cms_domain::ids::CaseId;
use cms_domain::ports::{AuditLog, StoreError};

/// The stored form of an entry.
pub(crate) fn entry_item(entry: &AuditEntry) -> Result<Item, StoreError> {
    let mut item: Item = to_item(entry)?;
    item.insert("PK".into(), s(pk::audit(&entry.record.case_id)));
    item.insert("SK".into(), s(sk::seq(entry.seq)));
    item.insert("entity".into(), s("audit"));
    Ok(item)
}

/// The head as the case item's `auditHead` attribute.
pub(crate) fn head_value(head: &AuditHead) -> Result<AttributeValue, StoreError> {
    serde_dynamo::to_attribute_value(head).map_err(|e| StoreError::Corrupt(e.to_string()))
}

#[async_trait]
impl AuditLog for DynamoStore {
    async fn entries(&self, case_id: &CaseId) -> Result<Vec<AuditEntry>, StoreError> {
        self.query_prefix(pk::audit(case_id), sk::SEQ).await?.into_iter().map(from_item).collect()
    }
}
