//! Bulk writers: reference data (the seed, an import) and case items as they are (bulk seeding,
//! benchmarks, test fixtures). Unconditional `BatchWriteItem`s through one writer
//! ([`DynamoStore::batch_put`]), never the path of a change to a live case (that is
//! [`cms_domain::ports::CaseStore::commit`], one conditional transaction).

use crate::dynamo::{case_item, s, to_item, unavailable, DynamoStore, Item};
use crate::schema::{part, pk, sk};
use aws_sdk_dynamodb::types::{DeleteRequest, PutRequest, WriteRequest};
use cms_domain::case::Case;
use cms_domain::catchment::{locality_key, Catchment, Locality, Provider, School};
use cms_domain::ids::UserId;
use cms_domain::ports::StoreError;
use cms_domain::referral::UserRecord;

/// One reference-data record, for seeding.
#[derive(Debug, Clone)]
pub enum ReferenceItem {
    School(School),
    Catchment(Catchment),
    Provider(Provider),
    User(UserRecord),
    Locality(Locality),
}

impl DynamoStore {
    /// Write reference data (the demo seed, an import), each record with its directory keys.
    pub async fn put_reference(&self, items: &[ReferenceItem]) -> Result<(), StoreError> {
        let mut out = Vec::with_capacity(items.len());
        for it in items {
            let (pk, sk, mut item) = match it {
                ReferenceItem::School(x) => (pk::school(&x.id), sk::SCHOOL, to_item(x)?),
                ReferenceItem::Catchment(x) => (pk::catchment(&x.id), sk::CATCHMENT, to_item(x)?),
                ReferenceItem::Provider(x) => (pk::provider(&x.id), sk::PROVIDER, to_item(x)?),
                ReferenceItem::User(x) => (pk::user(&x.id), sk::USER, to_item(x)?),
                ReferenceItem::Locality(x) => (pk::locality(&locality_key(&x.name)), sk::LOCALITY, to_item(x)?),
            };
            item.insert("PK".into(), s(pk));
            item.insert("SK".into(), s(sk));
            item.insert("entity".into(), s(sk.to_lowercase()));
            // the directory: an organisation's staff and the list of providers, in their own
            // partitions of the BySchool index (no case or draft partition starts this way)
            match it {
                ReferenceItem::User(x) => {
                    item.insert("schoolPk".into(), s(part::staff(&x.org_id)));
                    item.insert("schoolSk".into(), s(pk::user(&x.id)));
                    // and every user, in one partition of the ByStatus index: who is on record
                    // (a sync removes those no longer in the Delegated Authoriser's assignments)
                    item.insert("statusPk".into(), s(part::USERS));
                    item.insert("statusSk".into(), s(pk::user(&x.id)));
                }
                ReferenceItem::Provider(x) => {
                    item.insert("schoolPk".into(), s(part::PROVIDERS));
                    item.insert("schoolSk".into(), s(pk::provider(&x.id)));
                }
                _ => {}
            }
            out.push(item);
        }
        self.batch_put(out, "reference data").await
    }

    /// Every user on record (the ByStatus index's users partition; eventually consistent: a
    /// user written a moment ago may be missing, one removed a moment ago may still be listed).
    pub async fn user_ids(&self) -> Result<Vec<UserId>, StoreError> {
        let items = self.index_all(crate::schema::index::BY_STATUS, part::USERS.to_string()).await?;
        let mut ids = Vec::with_capacity(items.len());
        for item in items {
            let key = crate::dynamo::text(&item, "PK").ok_or_else(|| StoreError::Corrupt("a user in the directory has no key".into()))?;
            let id = key.strip_prefix("USER#").and_then(|id| UserId::parse(id.to_string()).ok());
            ids.push(id.ok_or_else(|| StoreError::Corrupt(format!("{key:?} is not a user's key")))?);
        }
        ids.sort();
        ids.dedup();
        Ok(ids)
    }

    /// Remove users (their role assignment ended): the user record and their email preference.
    /// Their past actions keep naming them by id; emails and the staff lists no longer do.
    pub async fn revoke_users(&self, ids: &[UserId]) -> Result<(), StoreError> {
        let mut requests = Vec::with_capacity(ids.len() * 2);
        for id in ids {
            for sk in [sk::USER, sk::PREFS] {
                let key = [("PK".to_string(), s(pk::user(id))), ("SK".to_string(), s(sk))].into_iter().collect();
                let delete = DeleteRequest::builder().set_key(Some(key)).build().map_err(|e| StoreError::Corrupt(e.to_string()))?;
                requests.push(WriteRequest::builder().delete_request(delete).build());
            }
        }
        self.batch_write(requests, "user removals").await
    }

    /// Write counted facts and whole counter items as they are: the dashboards rebuilt in bulk
    /// from cases seeded in bulk (benchmarks, a backfill on a quiet table). The counters replace
    /// what is stored; the live path is [`cms_domain::ports::DashboardStore::count`].
    pub async fn put_counted(
        &self,
        facts: &[cms_domain::dashboard::CaseFacts],
        counters: &std::collections::BTreeMap<cms_domain::dashboard::Scope, std::collections::BTreeMap<String, i64>>,
    ) -> Result<(), StoreError> {
        let mut items = Vec::with_capacity(facts.len() + counters.len());
        for f in facts {
            let mut item = to_item(f)?;
            item.insert("PK".into(), s(pk::facts(cms_domain::schedule::shard(&f.case_id))));
            item.insert("SK".into(), s(f.case_id.as_str()));
            item.insert("entity".into(), s("case_facts"));
            items.push(item);
        }
        for (scope, cs) in counters {
            let mut item: Item = cs
                .iter()
                .map(|(k, v)| (format!("{}{k}", crate::dashboard::COUNTER), aws_sdk_dynamodb::types::AttributeValue::N(v.to_string())))
                .collect();
            item.insert("PK".into(), s(pk::dashboard(&scope.key())));
            item.insert("SK".into(), s(sk::COUNTERS));
            items.push(item);
        }
        self.batch_put(items, "dashboards").await
    }

    /// Write case items as they are (every index key included). For bulk seeding and benchmarks
    /// only.
    pub async fn put_cases(&self, cases: &[Case]) -> Result<(), StoreError> {
        let items = cases.iter().map(case_item).collect::<Result<Vec<_>, _>>()?;
        self.batch_put(items, "cases").await
    }

    async fn batch_put(&self, items: Vec<Item>, what: &str) -> Result<(), StoreError> {
        let mut requests = Vec::with_capacity(items.len());
        for item in items {
            let put = PutRequest::builder().set_item(Some(item)).build().map_err(|e| StoreError::Corrupt(e.to_string()))?;
            requests.push(WriteRequest::builder().put_request(put).build());
        }
        self.batch_write(requests, what).await
    }

    /// The one batch writer: 25 requests a `BatchWriteItem`, what DynamoDB leaves unprocessed
    /// asked again with a growing pause, up to 8 times; then the store is reported unavailable.
    pub(crate) async fn batch_write(&self, requests: Vec<WriteRequest>, what: &str) -> Result<(), StoreError> {
        for chunk in requests.chunks(25) {
            let mut pending = chunk.to_vec();
            for attempt in 0..8 {
                let out =
                    self.client().batch_write_item().request_items(self.table(), pending.clone()).send().await.map_err(unavailable)?;
                pending = out.unprocessed_items.and_then(|mut m| m.remove(self.table())).unwrap_or_default();
                if pending.is_empty() {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(50 << attempt)).await;
            }
            if !pending.is_empty() {
                return Err(StoreError::Unavailable(format!("{what} could not all be written")));
            }
        }
        Ok(())
    }
}
