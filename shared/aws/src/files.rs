//! File records in the single table: `CASE#<caseId> / FILE#<fileId>`, pending until the
//! object-created event settles them (confirmed with the case change in one transaction, or
//! rejected).

use crate::dynamo::{s, to_item, unavailable, DynamoStore, Item};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use cms_domain::case::CaseChange;
use cms_domain::files::{FileId, FileRecord};
use cms_domain::ids::CaseId;
use cms_domain::ports::{FileRecords, StoreError};

fn file_key(case: &CaseId, file: &FileId) -> (String, String) {
    (format!("CASE#{case}"), format!("FILE#{file}"))
}

fn file_item(f: &FileRecord) -> Result<Item, StoreError> {
    let mut item = to_item(f)?;
    let (pk, sk) = file_key(&f.case_id, &f.file_id);
    item.insert("PK".into(), s(pk));
    item.insert("SK".into(), s(sk));
    item.insert("entity".into(), s("file"));
    Ok(item)
}

/// A put of `f` that succeeds only while the stored record is still pending.
fn put_if_pending(store: &DynamoStore, f: &FileRecord) -> Result<Put, StoreError> {
    Put::builder()
        .table_name(store.table())
        .set_item(Some(file_item(f)?))
        .condition_expression("#st = :pending")
        .expression_attribute_names("#st", "status")
        .expression_attribute_values(":pending", s("pending"))
        .build()
        .map_err(|e| StoreError::Corrupt(e.to_string()))
}

#[async_trait]
impl FileRecords for DynamoStore {
    async fn create_file(&self, f: &FileRecord, markers: &[cms_domain::case::Marker]) -> Result<(), StoreError> {
        self.create_with_markers(file_item(f)?, markers).await
    }

    async fn file(&self, case: &CaseId, file_id: &FileId) -> Result<Option<FileRecord>, StoreError> {
        let (pk, sk) = file_key(case, file_id);
        self.get(pk, &sk).await
    }

    async fn commit_with_file(&self, change: &CaseChange, f: &FileRecord) -> Result<(), StoreError> {
        let mut writes = self.change_writes(change)?;
        writes.push(TransactWriteItem::builder().put(put_if_pending(self, f)?).build());
        self.transact(writes).await
    }

    async fn settle_file(&self, f: &FileRecord) -> Result<(), StoreError> {
        self.client()
            .put_item()
            .table_name(self.table())
            .set_item(Some(file_item(f)?))
            .condition_expression("#st = :pending")
            .expression_attribute_names("#st", "status")
            .expression_attribute_values(":pending", AttributeValue::S("pending".into()))
            .send()
            .await
            .map_err(|e| match e.as_service_error() {
                Some(se) if se.is_conditional_check_failed_exception() => StoreError::Conflict,
                _ => unavailable(e),
            })?;
        Ok(())
    }
}
