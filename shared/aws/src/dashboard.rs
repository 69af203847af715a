//! The dashboards' store ([`DashboardStore`]): each case's counted facts at
//! `FACTS#<shard> / <caseId>`, and each scope's counters as the top-level number attributes
//! (`n:<counter>`) of one item `DASHBOARD#<scope> / COUNTERS`, so a dashboard is one `GetItem` and
//! a count one transaction: the facts (conditional on the version counted before) and an `ADD`
//! on every scope the case moves.

use crate::dynamo::{from_item, s, to_item, unavailable, DynamoStore, Item};
use crate::schema::{pk, sk};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use cms_domain::dashboard::{CaseFacts, Scope};
use cms_domain::ids::CaseId;
use cms_domain::ports::{DashboardStore, Page, StoreError};
use cms_domain::schedule::shard;
use std::collections::{BTreeMap, HashMap};

/// The attribute-name prefix of a counter.
pub(crate) const COUNTER: &str = "n:";

fn facts_key(case: &CaseId) -> Item {
    HashMap::from([("PK".to_string(), s(pk::facts(shard(case)))), ("SK".to_string(), s(case.as_str()))])
}

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

#[async_trait]
impl DashboardStore for DynamoStore {
    async fn counted_facts(&self, case: &CaseId) -> Result<Option<CaseFacts>, StoreError> {
        self.get(pk::facts(shard(case)), case.as_str()).await
    }

    async fn count(
        &self,
        facts: &CaseFacts,
        expected_version: Option<u64>,
        deltas: &BTreeMap<Scope, BTreeMap<String, i64>>,
    ) -> Result<(), StoreError> {
        let mut item = to_item(facts)?;
        item.extend(facts_key(&facts.case_id));
        item.insert("entity".into(), s("case_facts"));
        let mut put = Put::builder().table_name(self.table()).set_item(Some(item));
        put = match expected_version {
            None => put.condition_expression("attribute_not_exists(PK)"),
            Some(v) => put.condition_expression("version = :v").expression_attribute_values(":v", AttributeValue::N(v.to_string())),
        };
        let mut writes = vec![TransactWriteItem::builder().put(put.build().map_err(corrupt)?).build()];
        for (scope, counters) in deltas {
            let mut update =
                Update::builder().table_name(self.table()).key("PK", s(pk::dashboard(&scope.key()))).key("SK", s(sk::COUNTERS));
            let mut adds = Vec::with_capacity(counters.len());
            for (i, (name, delta)) in counters.iter().enumerate() {
                adds.push(format!("#c{i} :d{i}"));
                update = update
                    .expression_attribute_names(format!("#c{i}"), format!("{COUNTER}{name}"))
                    .expression_attribute_values(format!(":d{i}"), AttributeValue::N(delta.to_string()));
            }
            let update = update.update_expression(format!("ADD {}", adds.join(", "))).build().map_err(corrupt)?;
            writes.push(TransactWriteItem::builder().update(update).build());
        }
        self.transact(writes).await
    }

    async fn facts_page(&self, shard: u32, limit: u32, cursor: Option<String>) -> Result<Page<CaseFacts>, StoreError> {
        let (page, next) = self.partition_page(pk::facts(shard), &format!("facts|{shard}"), limit, cursor).await?;
        let items = page.into_iter().map(from_item).collect::<Result<Vec<CaseFacts>, _>>()?;
        Ok(Page { items, next })
    }

    async fn counters(&self, scope: &Scope) -> Result<BTreeMap<String, i64>, StoreError> {
        let out = self
            .client()
            .get_item()
            .table_name(self.table())
            .key("PK", s(pk::dashboard(&scope.key())))
            .key("SK", s(sk::COUNTERS))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        let mut counters = BTreeMap::new();
        for (name, value) in out.item.unwrap_or_default() {
            let Some(counter) = name.strip_prefix(COUNTER) else { continue };
            let n: i64 = value.as_n().map_err(|_| corrupt(format!("counter {counter} is not a number")))?.parse().map_err(corrupt)?;
            if n != 0 {
                counters.insert(counter.to_string(), n);
            }
        }
        Ok(counters)
    }
}
