//! `SensitiveStore` on DynamoDB: `CASE#<id> / SAFETY#<ulid>` and `CASE#<id> / HEALTH#<ulid>`, items
//! with no index keys (no list, timeline or status query can return them), written in the same
//! transaction as the case's version bump.

use crate::dynamo::{from_item, s, to_item, DynamoStore};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use cms_domain::case::CaseChange;
use cms_domain::ids::CaseId;
use cms_domain::ports::{SensitiveStore, StoreError};
use cms_domain::sensitive::{SensitiveKind, SensitiveNote};

fn prefix(kind: SensitiveKind) -> &'static str {
    match kind {
        SensitiveKind::SafetyNote => "SAFETY#",
        SensitiveKind::Health => "HEALTH#",
    }
}

#[async_trait]
impl SensitiveStore for DynamoStore {
    async fn add_sensitive(&self, change: &CaseChange, note: &SensitiveNote) -> Result<(), StoreError> {
        let mut writes = self.change_writes(change)?;
        let mut item = to_item(note)?;
        item.insert("PK".into(), s(format!("CASE#{}", change.case.id)));
        item.insert("SK".into(), s(format!("{}{}", prefix(note.kind), note.id)));
        item.insert("entity".into(), s("sensitive"));
        let put = Put::builder()
            .table_name(self.table())
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(PK)")
            .build()
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        writes.push(TransactWriteItem::builder().put(put).build());
        self.transact(writes).await
    }

    async fn sensitive_notes(&self, case_id: &CaseId, kind: SensitiveKind) -> Result<Vec<SensitiveNote>, StoreError> {
        self.query_prefix(format!("CASE#{case_id}"), prefix(kind)).await?.into_iter().map(from_item).collect()
    }
}
