//! The `AuditLog` port on DynamoDB: `AUDIT#<caseId> / SEQ#<20-digit seq>`, in a partition of its own
//! (no index keys: audit entries never appear in case queries or lists). The case item carries the
//! chain's head (`auditHead`: seq and hash). A change's entry is written in the change's own
//! transaction (`dynamo.rs`, `change_writes`); an entry on its own (what a system process did
//! without changing the case) is written with an update of the head, in one transaction
//! conditioned on the head it read, so two appends cannot take the same place; the loser re-reads.

use crate::dynamo::{from_item, s, to_item, unavailable, DynamoStore, Item};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use cms_domain::audit::{link, link_after, AuditEntry, AuditHead, AuditRecord};
use cms_domain::ids::CaseId;
use cms_domain::ports::{AuditLog, StoreError};

fn pk(case_id: &CaseId) -> String {
    format!("AUDIT#{case_id}")
}

fn sk(seq: u64) -> String {
    format!("SEQ#{seq:020}")
}

/// The stored form of an entry.
pub(crate) fn entry_item(entry: &AuditEntry) -> Result<Item, StoreError> {
    let mut item: Item = to_item(entry)?;
    item.insert("PK".into(), s(pk(&entry.record.case_id)));
    item.insert("SK".into(), s(sk(entry.seq)));
    item.insert("entity".into(), s("audit"));
    Ok(item)
}

/// The head as the case item's `auditHead` attribute.
pub(crate) fn head_value(head: &AuditHead) -> Result<AttributeValue, StoreError> {
    serde_dynamo::to_attribute_value(head).map_err(|e| StoreError::Corrupt(e.to_string()))
}

impl DynamoStore {
    /// The case item's head, and whether there is a case item at all.
    async fn audit_head(&self, case_id: &CaseId) -> Result<(bool, Option<AuditHead>), StoreError> {
        let out = self
            .client()
            .get_item()
            .table_name(self.table())
            .key("PK", s(format!("CASE#{case_id}")))
            .key("SK", s("CASE"))
            .projection_expression("PK, auditHead")
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        let Some(item) = out.item else { return Ok((false, None)) };
        let head = match item.get("auditHead") {
            Some(v) => Some(serde_dynamo::from_attribute_value(v.clone()).map_err(|e| StoreError::Corrupt(e.to_string()))?),
            None => None,
        };
        Ok((true, head))
    }

    async fn last_audit(&self, case_id: &CaseId) -> Result<Option<AuditEntry>, StoreError> {
        let out = self
            .client()
            .query()
            .table_name(self.table())
            .key_condition_expression("PK = :pk AND begins_with(SK, :seq)")
            .expression_attribute_values(":pk", s(pk(case_id)))
            .expression_attribute_values(":seq", s("SEQ#"))
            .scan_index_forward(false)
            .limit(1)
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        out.items.unwrap_or_default().into_iter().next().map(from_item).transpose()
    }

    /// One attempt: the entry after the head, and the head moved on, or `Ok(None)` when another
    /// append took the place first.
    async fn try_append(&self, record: &AuditRecord) -> Result<Option<AuditEntry>, StoreError> {
        let (case_exists, head) = self.audit_head(&record.case_id).await?;
        if !case_exists {
            // no case item (yet): the chain alone, linked after its last entry
            let prev = self.last_audit(&record.case_id).await?;
            let entry = link(prev.as_ref(), record.clone());
            return Ok(self.put_new(entry_item(&entry)?).await?.then_some(entry));
        }
        let entry = link_after(head.as_ref(), record.clone());
        let build_err = |e: aws_sdk_dynamodb::error::BuildError| StoreError::Corrupt(e.to_string());
        let put = Put::builder()
            .table_name(self.table())
            .set_item(Some(entry_item(&entry)?))
            .condition_expression("attribute_not_exists(PK)")
            .build()
            .map_err(build_err)?;
        let update = Update::builder()
            .table_name(self.table())
            .key("PK", s(format!("CASE#{}", record.case_id)))
            .key("SK", s("CASE"))
            .update_expression("SET auditHead = :new")
            .expression_attribute_values(":new", head_value(&entry.head())?);
        let update = match &head {
            Some(h) => update
                .condition_expression("attribute_exists(PK) AND auditHead.seq = :seq")
                .expression_attribute_values(":seq", AttributeValue::N(h.seq.to_string())),
            None => update.condition_expression("attribute_exists(PK) AND attribute_not_exists(auditHead)"),
        };
        let writes = vec![
            TransactWriteItem::builder().put(put).build(),
            TransactWriteItem::builder().update(update.build().map_err(build_err)?).build(),
        ];
        match self.transact(writes).await {
            Ok(()) => Ok(Some(entry)),
            Err(StoreError::Conflict) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

#[async_trait]
impl AuditLog for DynamoStore {
    async fn append(&self, record: AuditRecord) -> Result<AuditEntry, StoreError> {
        for attempt in 0..10u32 {
            if let Some(entry) = self.try_append(&record).await? {
                return Ok(entry);
            }
            tokio::time::sleep(std::time::Duration::from_millis(5 * u64::from(attempt + 1))).await;
        }
        Err(StoreError::Conflict)
    }

    async fn entries(&self, case_id: &CaseId) -> Result<Vec<AuditEntry>, StoreError> {
        self.query_prefix(pk(case_id), "SEQ#").await?.into_iter().map(from_item).collect()
    }
}
