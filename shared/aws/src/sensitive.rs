//! `SensitiveStore` on DynamoDB: `CASE#<id> / SAFETY#<ulid>` and `CASE#<id> / HEALTH#<ulid>`, items
//! with no index keys (no list, timeline or status query can return them), written in the same
//! transaction as the case's version bump.

use crate::dynamo::{from_item, s, to_item, DynamoStore};
use crate::schema::{pk, sk};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::Put;
use cms_domain::ids::CaseId;
use cms_domain::ports::{SensitiveStore, StoreError};
use cms_domain::sensitive::{SensitiveKind, SensitiveNote};

fn prefix(kind: SensitiveKind) -> &'static str {
    match kind {
        SensitiveKind::SafetyNote => sk::SAFETY,
        SensitiveKind::Health => sk::HEALTH,
    }
}

/// The put of a new note (written with its case change: [`cms_domain::case::Attached::Note`]).
pub(crate) fn note_put(store: &DynamoStore, case_id: &CaseId, note: &SensitiveNote) -> Result<Put, StoreError> {
    let mut item = to_item(note)?;
    item.insert("PK".into(), s(pk::case(case_id)));
    item.insert("SK".into(), s(format!("{}{}", prefix(note.kind), note.id)));
    item.insert("entity".into(), s("sensitive"));
    Put::builder()
        .table_name(store.table())
        .set_item(Some(item))
        .condition_expression("attribute_not_exists(PK)")
        .build()
        .map_err(|e| StoreError::Corrupt(e.to_string()))
}

#[async_trait]
impl SensitiveStore for DynamoStore {
    async fn sensitive_notes(&self, case_id: &CaseId, kind: SensitiveKind) -> Result<Vec<SensitiveNote>, StoreError> {
        self.query_prefix(pk::case(case_id), prefix(kind)).await?.into_iter().map(from_item).collect()
    }
}
