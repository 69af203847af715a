//! Provider initiatives in the single table: `INITIATIVES#<providerId> / INITIATIVE#<id>`, one
//! partition per provider (its list is one Query); an update is conditional on the version.

use crate::dynamo::{s, to_item, DynamoStore};
use crate::schema::{pk, sk};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use cms_domain::ids::{EntryId, ProviderId};
use cms_domain::initiatives::Initiative;
use cms_domain::ports::{InitiativeStore, StoreError};

fn item(i: &Initiative) -> Result<crate::dynamo::Item, StoreError> {
    let mut item = to_item(i)?;
    item.insert("PK".into(), s(pk::initiatives(&i.provider_id)));
    item.insert("SK".into(), s(sk::initiative(&i.id)));
    item.insert("entity".into(), s("initiative"));
    Ok(item)
}

#[async_trait]
impl InitiativeStore for DynamoStore {
    async fn create_initiative(&self, i: &Initiative) -> Result<(), StoreError> {
        match self.put_new(item(i)?).await? {
            true => Ok(()),
            false => Err(StoreError::Conflict),
        }
    }

    async fn update_initiative(&self, i: &Initiative, expected_version: u64) -> Result<(), StoreError> {
        self.client()
            .put_item()
            .table_name(self.table())
            .set_item(Some(item(i)?))
            .condition_expression("#v = :v")
            .expression_attribute_names("#v", "version")
            .expression_attribute_values(":v", AttributeValue::N(expected_version.to_string()))
            .send()
            .await
            .map_err(|e| match e.as_service_error() {
                Some(se) if se.is_conditional_check_failed_exception() => StoreError::Conflict,
                _ => crate::dynamo::unavailable(e),
            })?;
        Ok(())
    }

    async fn initiative(&self, provider: &ProviderId, id: &EntryId) -> Result<Option<Initiative>, StoreError> {
        self.get(pk::initiatives(provider), &sk::initiative(id)).await
    }

    async fn initiatives(&self, provider: &ProviderId) -> Result<Vec<Initiative>, StoreError> {
        self.query_prefix(pk::initiatives(provider), sk::INITIATIVE).await?.into_iter().map(crate::dynamo::from_item).collect()
    }
}
