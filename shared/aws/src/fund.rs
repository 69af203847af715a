//! The Unmet Basic Needs Fund counters: `FUND#<providerId> / YEAR#<contract year>`, holding what
//! the provider has spent that year net of refunds (`spentCents`). A case change that spends or
//! refunds writes the counter in its transaction, only if it still holds what the decision read
//! ([`cms_domain::fund::FundMove`]): two concurrent spends cannot both pass the cap.

use crate::dynamo::{s, DynamoStore, Item};
use crate::schema::{pk, sk};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, Put};
use cms_domain::case::fund::FundMove;
use cms_domain::ids::ProviderId;
use cms_domain::ports::{FundStore, StoreError};

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Counter {
    spent_cents: u64,
}

/// The counter's conditional put for a change's fund move.
pub(crate) fn counter_put(store: &DynamoStore, m: &FundMove, at: chrono::DateTime<chrono::Utc>) -> Result<Put, StoreError> {
    let mut item = Item::new();
    item.insert("PK".into(), s(pk::fund(&m.provider_id)));
    item.insert("SK".into(), s(sk::fund_year(m.contract_year)));
    item.insert("entity".into(), s("fund"));
    item.insert("providerId".into(), s(m.provider_id.as_str()));
    item.insert("contractYear".into(), AttributeValue::N(m.contract_year.to_string()));
    item.insert("spentCents".into(), AttributeValue::N(m.spent_cents.to_string()));
    item.insert("updatedAt".into(), s(at.to_rfc3339()));
    let p = Put::builder()
        .table_name(store.table())
        .set_item(Some(item))
        .expression_attribute_names("#spent", "spentCents")
        .expression_attribute_values(":seen", AttributeValue::N(m.seen_cents.to_string()));
    // nothing spent yet reads as 0 whether or not the counter exists
    let p = if m.seen_cents == 0 {
        p.condition_expression("attribute_not_exists(PK) OR #spent = :seen")
    } else {
        p.condition_expression("#spent = :seen")
    };
    p.build().map_err(|e| StoreError::Corrupt(e.to_string()))
}

#[async_trait]
impl FundStore for DynamoStore {
    async fn fund_spent(&self, provider: &ProviderId, contract_year: i32) -> Result<u64, StoreError> {
        let c: Option<Counter> = self.get(pk::fund(provider), &sk::fund_year(contract_year)).await?;
        Ok(c.map(|c| c.spent_cents).unwrap_or(0))
    }
}
