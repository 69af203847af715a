//! The `AuditLog` port on DynamoDB: `AUDIT#<caseId> / SEQ#<20-digit seq>`, in a partition of its own
//! (no index keys: audit entries never appear in case queries or lists). Each append reads the last
//! link and writes the next with `attribute_not_exists`, so two concurrent appends cannot both take
//! the same sequence number; the loser re-reads and links after the winner.

use crate::dynamo::{from_item, s, to_item, unavailable, DynamoStore, Item};
use async_trait::async_trait;
use cms_domain::audit::{link, AuditEntry, AuditRecord};
use cms_domain::ids::CaseId;
use cms_domain::ports::{AuditLog, StoreError};

fn pk(case_id: &CaseId) -> String {
    format!("AUDIT#{case_id}")
}

fn sk(seq: u64) -> String {
    format!("SEQ#{seq:020}")
}

impl DynamoStore {
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
}

#[async_trait]
impl AuditLog for DynamoStore {
    async fn append(&self, record: AuditRecord) -> Result<AuditEntry, StoreError> {
        for attempt in 0..10u32 {
            let prev = self.last_audit(&record.case_id).await?;
            let entry = link(prev.as_ref(), record.clone());
            let mut item: Item = to_item(&entry)?;
            item.insert("PK".into(), s(pk(&record.case_id)));
            item.insert("SK".into(), s(sk(entry.seq)));
            item.insert("entity".into(), s("audit"));
            match self
                .client()
                .put_item()
                .table_name(self.table())
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(PK)")
                .send()
                .await
            {
                Ok(_) => return Ok(entry),
                Err(e) if e.as_service_error().is_some_and(|se| se.is_conditional_check_failed_exception()) => {
                    tokio::time::sleep(std::time::Duration::from_millis(5 * u64::from(attempt + 1))).await;
                }
                Err(e) => return Err(unavailable(e)),
            }
        }
        Err(StoreError::Conflict)
    }

    async fn entries(&self, case_id: &CaseId) -> Result<Vec<AuditEntry>, StoreError> {
        self.query_prefix(pk(case_id), "SEQ#").await?.into_iter().map(from_item).collect()
    }
}
