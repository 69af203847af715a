//! File records in the single table: `CASE#<caseId> / FILE#<fileId>`, pending until the
//! object-created event settles them (confirmed with the case change in one transaction, or
//! rejected).

use crate::dynamo::{s, to_item, DynamoStore, Item};
use crate::schema::{pk, sk};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::Put;
use cms_domain::files::{FileId, FileRecord};
use cms_domain::ids::CaseId;
use cms_domain::ports::{FileRecords, StoreError};

fn file_key(case: &CaseId, file: &FileId) -> (String, String) {
    (pk::case(case), format!("{}{file}", sk::FILE))
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
pub(crate) fn put_if_pending(store: &DynamoStore, f: &FileRecord) -> Result<Put, StoreError> {
    Put::builder()
        .table_name(store.table())
        .set_item(Some(file_item(f)?))
        .condition_expression("#st = :pending")
        .expression_attribute_names("#st", "status")
        .expression_attribute_values(":pending", s("pending"))
        .build()
        .map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// A put of a new record `f` (it must not exist yet).
pub(crate) fn put_new_record(store: &DynamoStore, f: &FileRecord) -> Result<Put, StoreError> {
    Put::builder()
        .table_name(store.table())
        .set_item(Some(file_item(f)?))
        .condition_expression("attribute_not_exists(PK)")
        .build()
        .map_err(|e| StoreError::Corrupt(e.to_string()))
}

#[async_trait]
impl FileRecords for DynamoStore {
    async fn file(&self, case: &CaseId, file_id: &FileId) -> Result<Option<FileRecord>, StoreError> {
        let (pk, sk) = file_key(case, file_id);
        self.get(pk, &sk).await
    }
}
