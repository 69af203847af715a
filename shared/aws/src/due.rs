//! The nightly job's reads ([`DueStore`]): the sparse `ByDue` index (a case is in it only while
//! something is due for it: `duePk = DUE#<shard>`, `dueSk = <date>#<caseId>`, written by the case
//! item itself) and the `ByOutbox` index (events not yet confirmed published). Both are Queries on
//! a key range — never a Scan.

use crate::dynamo::{from_item, index, s, text, ts, unavailable, DynamoStore, Item};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use cms_domain::case::Case;
use cms_domain::events::EventEnvelope;
use cms_domain::ids::CaseId;
use cms_domain::ports::{DueStore, Page, StoreError};
use cms_domain::referral::Referral;

use crate::schema::{self, part};
use std::collections::HashMap;

/// The signed cursor (see [`crate::cursor`]) of a page of list `list`.
pub(crate) fn encode(store: &DynamoStore, list: &str, k: Option<Item>) -> Option<String> {
    k.map(|k| {
        let m: HashMap<String, String> = k.iter().filter_map(|(n, v)| v.as_s().ok().map(|x| (n.clone(), x.clone()))).collect();
        store.cursors().seal(list, &m)
    })
}

pub(crate) fn decode(store: &DynamoStore, list: &str, c: Option<String>) -> Result<Option<Item>, StoreError> {
    let Some(c) = c else { return Ok(None) };
    let m: HashMap<String, String> = store.cursors().open(list, &c)?;
    Ok(Some(m.into_iter().map(|(n, v)| (n, s(v))).collect()))
}

impl DynamoStore {
    /// One page of a partition of the table itself, in sort-key order, read consistently: its
    /// items and the signed cursor of the next page of list `list`.
    pub(crate) async fn partition_page(
        &self,
        pk: String,
        list: &str,
        limit: u32,
        cursor: Option<String>,
    ) -> Result<(Vec<Item>, Option<String>), StoreError> {
        let out = self
            .client()
            .query()
            .table_name(self.table())
            .key_condition_expression("PK = :pk")
            .expression_attribute_values(":pk", s(pk))
            .consistent_read(true)
            .limit(limit.clamp(1, 1000) as i32)
            .set_exclusive_start_key(decode(self, list, cursor)?)
            .send()
            .await
            .map_err(unavailable)?;
        Ok((out.items.unwrap_or_default(), encode(self, list, out.last_evaluated_key)))
    }

    /// One page of a `ByDue` partition up to the end of `today`, earliest first.
    async fn due_query(
        &self,
        pk: &str,
        today: NaiveDate,
        limit: u32,
        start: Option<Item>,
    ) -> Result<aws_sdk_dynamodb::operation::query::QueryOutput, StoreError> {
        self.client()
            .query()
            .table_name(self.table())
            .index_name(index::BY_DUE.name)
            .key_condition_expression("duePk = :pk AND dueSk <= :upto")
            .expression_attribute_values(":pk", s(pk))
            .expression_attribute_values(":upto", s(part::due_upto(today)))
            .scan_index_forward(true)
            .limit(limit.clamp(1, 1000) as i32)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(unavailable)
    }
}

#[async_trait]
impl DueStore for DynamoStore {
    async fn due_cases(&self, shard: u32, today: NaiveDate, limit: u32, cursor: Option<String>) -> Result<Page<Case>, StoreError> {
        let list = format!("due|{shard}");
        let out = self.due_query(&part::due(shard), today, limit, decode(self, &list, cursor)?).await?;
        // a keys-only index: the cases themselves are read (consistently) by their keys
        let mut items = Vec::new();
        for item in self.behind(out.items.unwrap_or_default(), "due cases").await? {
            let pk = text(&item, "PK").unwrap_or_default().to_string();
            match from_item::<Case>(item) {
                Ok(c) => items.push(c),
                // one unreadable record must not stop the night's work for every other case
                Err(e) => {
                    tracing::error!(pk = %pk, error = %e, "a case in the due index could not be read; skipped")
                }
            }
        }
        Ok(Page { items, next: encode(self, &list, out.last_evaluated_key) })
    }

    async fn drafts_to_remind(&self, today: NaiveDate, limit: u32, cursor: Option<String>) -> Result<Page<Referral>, StoreError> {
        let list = "draft-reminders";
        let out = self.due_query(part::DRAFT_REMINDERS, today, limit, decode(self, list, cursor)?).await?;
        let items = self
            .behind(out.items.unwrap_or_default(), "drafts to remind")
            .await?
            .into_iter()
            .map(from_item)
            .collect::<Result<Vec<Referral>, _>>()?;
        Ok(Page { items, next: encode(self, list, out.last_evaluated_key) })
    }

    async fn stale_outbox(
        &self,
        before: DateTime<Utc>,
        limit: u32,
        cursor: Option<String>,
    ) -> Result<Page<(CaseId, EventEnvelope)>, StoreError> {
        let list = "outbox";
        let out = self
            .client()
            .query()
            .table_name(self.table())
            .index_name(index::BY_OUTBOX.name)
            .key_condition_expression("outboxPk = :pk AND outboxSk < :before")
            .expression_attribute_values(":pk", s(part::OUTBOX))
            .expression_attribute_values(":before", s(ts(before)))
            .scan_index_forward(true)
            .limit(limit.clamp(1, 1000) as i32)
            .set_exclusive_start_key(decode(self, list, cursor)?)
            .send()
            .await
            .map_err(unavailable)?;
        let mut items = Vec::new();
        for item in out.items.unwrap_or_default() {
            let pk = text(&item, "PK").unwrap_or_default();
            let parsed = schema::pk::case_of(pk).ok_or_else(|| format!("outbox item {pk} has no case key")).and_then(|case_id| {
                let detail: serde_json::Value = text(&item, "detail").and_then(|d| serde_json::from_str(d).ok()).unwrap_or_default();
                EventEnvelope::from_parts(text(&item, "detailType").unwrap_or_default(), &detail).map(|e| (case_id, e))
            });
            match parsed {
                Ok(x) => items.push(x),
                Err(e) => {
                    tracing::error!(pk = %pk, error = %e, "an outbox record could not be read; skipped")
                }
            }
        }
        Ok(Page { items, next: encode(self, list, out.last_evaluated_key) })
    }
}
