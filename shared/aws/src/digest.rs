//! Email preferences and daily-summary entries in the single table ([`DigestStore`]):
//! `USER#<userId> / PREFS` beside the user record (one Query reads both), and every waiting entry
//! in the `DIGEST` partition, sorted by user then event, so the nightly job reads a night's
//! entries with one Query per page and each user's run is contiguous.

use crate::dynamo::{from_item, marker_item, s, text, to_item, ts, unavailable, DynamoStore, Item};
use crate::schema::{pk, sk};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{DeleteRequest, Put, TransactWriteItem, WriteRequest};
use chrono::{DateTime, Utc};
use cms_domain::case::Marker;
use cms_domain::digest::{DigestEntry, EmailPreference};
use cms_domain::ids::UserId;
use cms_domain::ports::{DigestStore, Page, StoreError};
use cms_domain::referral::UserRecord;
use std::collections::HashMap;

fn entry_key(e: &DigestEntry) -> Item {
    HashMap::from([("PK".to_string(), s(pk::DIGEST)), ("SK".to_string(), s(sk::digest(&e.user_id, &e.event_id, e.audience.as_str())))])
}

#[async_trait]
impl DigestStore for DynamoStore {
    async fn recipient(&self, id: &UserId) -> Result<Option<(UserRecord, EmailPreference)>, StoreError> {
        let items = self.query_prefix(pk::user(id), "").await?;
        let mut user = None;
        let mut preference = EmailPreference::default();
        for item in items {
            match text(&item, "SK") {
                Some(sk::USER) => user = Some(from_item::<UserRecord>(item)?),
                Some(sk::PREFS) => {
                    if let Some(p) = text(&item, "emailPreference").and_then(EmailPreference::parse) {
                        preference = p;
                    }
                }
                _ => {}
            }
        }
        Ok(user.map(|u| (u, preference)))
    }

    async fn set_email_preference(&self, id: &UserId, preference: EmailPreference, at: DateTime<Utc>) -> Result<(), StoreError> {
        self.client()
            .put_item()
            .table_name(self.table())
            .item("PK", s(pk::user(id)))
            .item("SK", s(sk::PREFS))
            .item("entity", s("preferences"))
            .item("emailPreference", s(preference.as_str()))
            .item("updatedAt", s(ts(at)))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn add_to_digest(&self, entry: &DigestEntry, marker: &Marker) -> Result<bool, StoreError> {
        let mut item = to_item(entry)?;
        item.extend(entry_key(entry));
        item.insert("entity".into(), s("digest_entry"));
        let put = |i: Item| {
            Put::builder()
                .table_name(self.table())
                .set_item(Some(i))
                .condition_expression("attribute_not_exists(PK)")
                .build()
                .map(|p| TransactWriteItem::builder().put(p).build())
                .map_err(|e| StoreError::Corrupt(e.to_string()))
        };
        match self.transact(vec![put(marker_item(marker))?, put(item)?]).await {
            Ok(()) => Ok(true),
            Err(StoreError::Conflict) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn digest_entries(&self, limit: u32, cursor: Option<String>) -> Result<Page<DigestEntry>, StoreError> {
        let (page, next) = self.partition_page(pk::DIGEST.to_string(), "digest", limit, cursor).await?;
        let mut items = Vec::new();
        for item in page {
            let key = text(&item, "SK").unwrap_or_default().to_string();
            match from_item::<DigestEntry>(item) {
                Ok(e) => items.push(e),
                // one unreadable entry must not hold back everyone else's summary
                Err(e) => tracing::error!(sk = %key, error = %e, "a digest entry could not be read; skipped"),
            }
        }
        Ok(Page { items, next })
    }

    async fn clear_digest(&self, entries: &[DigestEntry]) -> Result<(), StoreError> {
        let requests: Vec<WriteRequest> = entries
            .iter()
            .map(|e| {
                DeleteRequest::builder()
                    .set_key(Some(entry_key(e)))
                    .build()
                    .map(|d| WriteRequest::builder().delete_request(d).build())
                    .map_err(|e| StoreError::Corrupt(e.to_string()))
            })
            .collect::<Result<_, _>>()?;
        self.batch_write(requests, "digest entries").await
    }
}
