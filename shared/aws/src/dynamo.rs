//! The single-table DynamoDB adapter: cases, their timelines and outboxes, CA requests, and the
//! reference data (schools, catchments, providers, users). Key design: docs/architecture.md.

use crate::cursor::CursorSigner;
use async_trait::async_trait;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, Put, TransactWriteItem};
use aws_sdk_dynamodb::Client;
use chrono::{DateTime, SecondsFormat, Utc};
use cms_domain::access::ListScope;
use cms_domain::case::{Attached, Case, CaseChange, CaseStatus, Marker, TimelineEntry};
use cms_domain::catchment::{Catchment, Locality, Provider, School};
use cms_domain::events::EventEnvelope;
use cms_domain::ids::{CaseId, CatchmentId, EventId, ProviderId, ReferralId, SchoolId, UserId};
use cms_domain::ports::{CaseListQuery, CaseStore, Found, Page, ReferenceData, ReferralStore, StoreError, Wanted};
use cms_domain::referral::{Referral, ReferralStatus, UserRecord};
use cms_domain::student::{StudentIdentity, StudentKey};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::HashMap;

pub(crate) type Item = HashMap<String, AttributeValue>;

pub use crate::schema::index;
use crate::schema::{part, pk, sk, Index};

/// How long a published-or-not outbox record is kept (the sweeper re-publishes before then).
const OUTBOX_TTL_DAYS: i64 = 14;

#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: Client,
    table: String,
    cursors: CursorSigner,
    /// This process's read chain (see `reads.rs`); shared by clones of the store.
    reads: std::sync::Arc<tokio::sync::Mutex<Option<cms_domain::audit::ChainHead>>>,
    /// Reference data read recently (see `reference.rs`); shared by clones of the store.
    refs: std::sync::Arc<crate::reference::ReferenceCache>,
}

pub(crate) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub(crate) fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub(crate) fn unavailable<E>(e: SdkError<E, aws_sdk_dynamodb::config::http::HttpResponse>) -> StoreError
where
    E: std::error::Error + 'static + aws_sdk_dynamodb::error::ProvideErrorMetadata,
{
    tracing::warn!(error = %DisplayErrorContext(&e), "dynamodb call failed");
    StoreError::Unavailable(DisplayErrorContext(&e).to_string())
}

pub(crate) fn to_item<T: Serialize>(v: &T) -> Result<Item, StoreError> {
    serde_dynamo::to_item(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub(crate) fn from_item<T: DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    serde_dynamo::from_item(item).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// A string attribute of an item.
pub(crate) fn text<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name).and_then(|v| v.as_s().ok()).map(String::as_str)
}

/// An item's table key (`PK`, `SK`), when it has one.
fn key_of(item: &Item) -> Option<(&str, &str)> {
    Some((text(item, "PK")?, text(item, "SK")?))
}

/// The case item: its fields plus the keys of every index it belongs in.
pub(crate) fn case_item(c: &Case) -> Result<Item, StoreError> {
    let mut item = to_item(c)?;
    let created = ts(c.created_at);
    item.insert("PK".into(), s(pk::case(&c.id)));
    item.insert("SK".into(), s(sk::CASE));
    item.insert("entity".into(), s("case"));
    item.insert("schoolPk".into(), s(part::school(&c.school_id)));
    item.insert("schoolSk".into(), s(format!("{}{created}#{}", pk::CASE, c.id)));
    if let Some(pc) = &c.primary_contact {
        item.insert("contactPk".into(), s(part::contact(pc)));
        item.insert("contactSk".into(), s(format!("{created}#{}", c.id)));
    }
    if let Some(p) = &c.provider_id {
        item.insert("providerPk".into(), s(part::provider(p)));
        item.insert("providerSk".into(), s(format!("{}#{created}#{}", c.status.as_str(), c.id)));
    }
    // the keys are never serialised with the case (so never shown): stored as attributes here
    if let Some(k) = &c.student_key {
        item.insert("studentKey".into(), s(k.as_str()));
        item.insert("studentPk".into(), s(pk::student(k)));
    }
    item.insert("studentSk".into(), s(format!("{created}#{}", c.id)));
    if let Some(k) = &c.name_key {
        item.insert("nameKey".into(), s(k.as_str()));
        item.insert("studentNamePk".into(), s(pk::student(k)));
    }
    if let Some(head) = &c.audit_head {
        item.insert("auditHead".into(), crate::audit::head_value(head)?);
    }
    item.insert("statusPk".into(), s(part::status(c.status)));
    item.insert("statusSk".into(), s(format!("{created}#{}", c.id)));
    // sparse: only a case referred for prosecution is in ByTeam, by its latest referral
    let referred = c.escalations.iter().filter(|e| e.kind == cms_domain::case::escalation::EscalationKind::ProsecutionReferral);
    if let Some(r) = referred.map(|e| e.at).max() {
        item.insert("teamPk".into(), s(part::PROSECUTIONS));
        item.insert("teamSk".into(), s(format!("{}#{}", ts(r), c.id)));
    }
    // sparse: only a case with something due for the nightly job is in ByDue (see due.rs)
    if let Some(due_sk) = cms_domain::schedule::next_due(c).and_then(|d| part::due_sk(d, &c.id)) {
        item.insert("duePk".into(), s(part::due(cms_domain::schedule::shard(&c.id))));
        item.insert("dueSk".into(), s(due_sk));
    }
    Ok(item)
}

// The student's one-active-case item: `STUDENT#<keyed NSN digest> / ACTIVE` naming the case;
// ENROL's last enrolment report for the student: `STUDENT#<key> / ENROLMENT`.

/// The write that keeps "one active case per student" true, in the same transaction as the case:
/// a case that is not closed claims the student's item (it must be free or already this case's);
/// a closed case releases it (only if it is this case's).
fn active_slot_write(table: &str, c: &Case) -> Result<Option<TransactWriteItem>, StoreError> {
    let Some(k) = &c.student_key else { return Ok(None) };
    let cond = "attribute_not_exists(PK) OR caseId = :case";
    let corrupt = |e: aws_sdk_dynamodb::error::BuildError| StoreError::Corrupt(e.to_string());
    let w = if c.status == CaseStatus::Closed {
        let d = aws_sdk_dynamodb::types::Delete::builder()
            .table_name(table)
            .key("PK", s(pk::student(k)))
            .key("SK", s(sk::ACTIVE))
            .condition_expression(cond)
            .expression_attribute_values(":case", s(c.id.as_str()))
            .build()
            .map_err(corrupt)?;
        TransactWriteItem::builder().delete(d).build()
    } else {
        let item = HashMap::from([
            ("PK".to_string(), s(pk::student(k))),
            ("SK".to_string(), s(sk::ACTIVE)),
            ("entity".to_string(), s("active_case")),
            ("caseId".to_string(), s(c.id.as_str())),
        ]);
        let p = Put::builder()
            .table_name(table)
            .set_item(Some(item))
            .condition_expression(cond)
            .expression_attribute_values(":case", s(c.id.as_str()))
            .build()
            .map_err(corrupt)?;
        TransactWriteItem::builder().put(p).build()
    };
    Ok(Some(w))
}

fn referral_item(r: &Referral) -> Result<Item, StoreError> {
    let mut item = to_item(r)?;
    item.insert("PK".into(), s(pk::referral(&r.id)));
    item.insert("SK".into(), s(sk::REFERRAL));
    item.insert("entity".into(), s("referral"));
    // the school's drafts (last saved first) and submitted requests (last submitted first)
    item.insert("schoolPk".into(), s(part::school(&r.school_id)));
    match (r.status, r.submitted_at) {
        (ReferralStatus::Submitted, Some(at)) => item.insert("schoolSk".into(), s(format!("{}{}#{}", sk::SUBMITTED, ts(at), r.id))),
        _ => item.insert("schoolSk".into(), s(format!("{}{}#{}", sk::DRAFT, ts(r.updated_at), r.id))),
    };
    // its author is reminded a week before it expires (the nightly job reads this partition)
    if let Some(day) = r.reminder_due_on() {
        item.insert("duePk".into(), s(part::DRAFT_REMINDERS));
        item.insert("dueSk".into(), s(format!("{}#{}", day.format("%Y-%m-%d"), r.id)));
    }
    // an untouched draft expires (TTL); a submitted request is kept with its case
    if let Some(t) = r.expires_at() {
        item.insert("expiresAt".into(), AttributeValue::N(t.timestamp().to_string()));
    }
    Ok(item)
}

fn timeline_item(e: &TimelineEntry) -> Result<Item, StoreError> {
    let mut item = to_item(e)?;
    item.insert("PK".into(), s(pk::case(&e.case_id)));
    item.insert("SK".into(), s(format!("{}{}#{}", sk::TIMELINE, ts(e.at), e.id)));
    item.insert("entity".into(), s("timeline"));
    Ok(item)
}

pub(crate) fn marker_item(m: &Marker) -> Item {
    let mut item = HashMap::from([
        ("PK".to_string(), s(m.key.clone())),
        ("SK".to_string(), s(sk::MARKER)),
        ("entity".to_string(), s("marker")),
        ("fingerprint".to_string(), s(m.fingerprint.clone())),
    ]);
    if let Some(a) = &m.answer {
        item.insert("answer".into(), s(a.clone()));
    }
    if let Some(t) = m.expires_at {
        item.insert("expiresAt".into(), AttributeValue::N(t.timestamp().to_string()));
    }
    item
}

fn outbox_item(case_id: &CaseId, e: &EventEnvelope) -> Item {
    let occurred = ts(e.occurred_at);
    let expires = (e.occurred_at + chrono::Duration::days(OUTBOX_TTL_DAYS)).timestamp();
    HashMap::from([
        ("PK".into(), s(pk::case(case_id))),
        ("SK".into(), s(format!("{}{}", sk::OUTBOX, e.event_id))),
        ("entity".into(), s("outbox")),
        ("detailType".into(), s(e.detail_type())),
        ("detail".into(), s(e.detail_json().to_string())),
        ("outboxPk".into(), s(part::OUTBOX)),
        ("outboxSk".into(), s(format!("{occurred}#{}", e.event_id))),
        ("expiresAt".into(), AttributeValue::N(expires.to_string())),
    ])
}

/// An opaque page cursor: the index's LastEvaluatedKey (all string attributes) and, for a
/// national list read status by status, which status it had reached.
#[derive(serde::Serialize, serde::Deserialize, Default)]
struct Cursor {
    #[serde(default)]
    s: usize,
    #[serde(default)]
    k: Option<HashMap<String, String>>,
}

/// Which list a cursor pages (its binding, see [`crate::cursor`]).
fn cases_list(q: &CaseListQuery) -> String {
    let scope = match &q.scope {
        ListScope::School(id) => format!("school:{id}"),
        ListScope::PrimaryContact(id) => format!("contact:{id}"),
        ListScope::Provider(id) => format!("provider:{id}"),
        ListScope::National => "national".to_string(),
        ListScope::Prosecutions => "prosecutions".to_string(),
    };
    format!("cases|{scope}|{}", q.status.map(|s| s.as_str()).unwrap_or("*"))
}

impl DynamoStore {
    fn encode_cursor(&self, list: &str, c: &Cursor) -> String {
        self.cursors.seal(list, c)
    }

    fn decode_cursor(&self, list: &str, s: Option<&str>) -> Result<Cursor, StoreError> {
        match s {
            None => Ok(Cursor::default()),
            Some(s) => self.cursors.open(list, s),
        }
    }

    /// The signer of this table's page cursors.
    pub(crate) fn cursors(&self) -> &CursorSigner {
        &self.cursors
    }

    /// The same store with cursors signed by `secret` (see [`crate::cursor`]); by default the
    /// secret is `CURSOR_KEY` or the local default.
    pub fn with_cursor_secret(mut self, secret: &[u8]) -> Self {
        self.cursors = CursorSigner::new(secret, &self.table);
        self
    }
}

fn key_to_strings(k: &Item) -> HashMap<String, String> {
    k.iter().filter_map(|(n, v)| v.as_s().ok().map(|s| (n.clone(), s.clone()))).collect()
}

fn strings_to_key(k: &HashMap<String, String>) -> Item {
    k.iter().map(|(n, v)| (n.clone(), s(v.clone()))).collect()
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        let table = table.into();
        DynamoStore { client, cursors: CursorSigner::from_env(&table), table, reads: Default::default(), refs: Default::default() }
    }

    pub(crate) fn read_head(&self) -> &tokio::sync::Mutex<Option<cms_domain::audit::ChainHead>> {
        &self.reads
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// The writes of one [`CaseChange`] (audit entries, case, active-case slot, timeline, outbox,
    /// markers, attached items, request), for one transaction.
    pub(crate) fn change_writes(&self, change: &CaseChange) -> Result<Vec<TransactWriteItem>, StoreError> {
        let build = |p: aws_sdk_dynamodb::types::builders::PutBuilder| {
            p.table_name(&self.table).build().map_err(|e| StoreError::Corrupt(e.to_string()))
        };
        let mut writes = Vec::new();
        let mut item = case_item(&change.case)?;
        // the change's audit entries, linked after the head the case was read with: a concurrent
        // audited change took that place first → the transaction is a conflict
        let mut head = change.case.audit_head.clone();
        for record in &change.audit {
            let entry = cms_domain::audit::link_after(head.as_ref(), record.clone());
            let p = Put::builder().set_item(Some(crate::audit::entry_item(&entry)?)).condition_expression("attribute_not_exists(PK)");
            writes.push(TransactWriteItem::builder().put(build(p)?).build());
            head = Some(entry.head());
        }
        if let Some(h) = &head {
            item.insert("auditHead".into(), crate::audit::head_value(h)?);
        }
        let case_put = Put::builder().set_item(Some(item));
        let case_put = match change.expected_version {
            None => case_put.condition_expression("attribute_not_exists(PK)"),
            // ... and on the audit head it was read with: an entry appended since (by a system
            // process, which does not change the version) must not be overwritten
            Some(v) => {
                let p = case_put
                    .expression_attribute_names("#v", "version")
                    .expression_attribute_values(":v", AttributeValue::N(v.to_string()));
                match &change.case.audit_head {
                    Some(h) => p
                        .condition_expression("#v = :v AND auditHead.seq = :seq")
                        .expression_attribute_values(":seq", AttributeValue::N(h.seq.to_string())),
                    None => p.condition_expression("#v = :v AND attribute_not_exists(auditHead)"),
                }
            }
        };
        writes.push(TransactWriteItem::builder().put(build(case_put)?).build());
        writes.extend(active_slot_write(&self.table, &change.case)?);
        for e in &change.timeline {
            let p = Put::builder().set_item(Some(timeline_item(e)?)).condition_expression("attribute_not_exists(PK)");
            writes.push(TransactWriteItem::builder().put(build(p)?).build());
        }
        for e in &change.events {
            let p = Put::builder().set_item(Some(outbox_item(&change.case.id, e)));
            writes.push(TransactWriteItem::builder().put(build(p)?).build());
        }
        for m in &change.markers {
            let p = Put::builder().set_item(Some(marker_item(m))).condition_expression("attribute_not_exists(PK)");
            writes.push(TransactWriteItem::builder().put(build(p)?).build());
        }
        for a in &change.attached {
            let put = match a {
                Attached::Note(note) => crate::sensitive::note_put(self, &change.case.id, note)?,
                Attached::File(f) => crate::files::put_if_pending(self, f)?,
                Attached::NewFile(f) => crate::files::put_new_record(self, f)?,
            };
            writes.push(TransactWriteItem::builder().put(put).build());
        }
        if let Some(m) = &change.fund {
            writes.push(TransactWriteItem::builder().put(crate::fund::counter_put(self, m, change.case.updated_at)?).build());
        }
        if let Some((referral, expected)) = &change.referral {
            let p = Put::builder().set_item(Some(referral_item(referral)?));
            // version 0: a request submitted as it is created, so it must not exist yet
            let p = if *expected == 0 {
                p.condition_expression("attribute_not_exists(PK)")
            } else {
                p.condition_expression("#v = :v AND #status = :draft")
                    .expression_attribute_names("#v", "version")
                    .expression_attribute_names("#status", "status")
                    .expression_attribute_values(":v", AttributeValue::N(expected.to_string()))
                    .expression_attribute_values(":draft", s("draft"))
            };
            writes.push(TransactWriteItem::builder().put(build(p)?).build());
        }
        Ok(writes)
    }

    /// Run a transaction; a failed condition is `Conflict`.
    pub(crate) async fn transact(&self, writes: Vec<TransactWriteItem>) -> Result<(), StoreError> {
        match self.client.transact_write_items().set_transact_items(Some(writes)).send().await {
            Ok(_) => Ok(()),
            Err(e) if is_conflict(&e) => Err(StoreError::Conflict),
            Err(e) => Err(unavailable(e)),
        }
    }

    /// Open the connection during init so the first request does not pay the TLS handshake.
    pub async fn warm_up(&self) {
        let _ = self.client.get_item().table_name(&self.table).key("PK", s("WARMUP")).key("SK", s("WARMUP")).send().await;
    }

    /// Every item of partition `pk` whose sort key starts with `prefix` (`""`: every item), in
    /// sort-key order (strongly consistent, all pages).
    pub(crate) async fn query_prefix(&self, pk: String, prefix: &str) -> Result<Vec<Item>, StoreError> {
        let mut out = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let q = self.client.query().table_name(&self.table).expression_attribute_values(":pk", s(pk.clone()));
            // DynamoDB refuses an empty string in a key condition
            let q = match prefix {
                "" => q.key_condition_expression("PK = :pk"),
                p => q.key_condition_expression("PK = :pk AND begins_with(SK, :prefix)").expression_attribute_values(":prefix", s(p)),
            };
            let page = q.consistent_read(true).set_exclusive_start_key(start.take()).send().await.map_err(unavailable)?;
            out.extend(page.items.unwrap_or_default());
            match page.last_evaluated_key {
                Some(k) => start = Some(k),
                None => break,
            }
        }
        Ok(out)
    }

    /// Every item of an index partition, in sort-key order (all pages).
    pub(crate) async fn index_all(&self, index: Index, pk: String) -> Result<Vec<Item>, StoreError> {
        let mut out = Vec::new();
        let mut start = None;
        loop {
            let (items, next) = self.query_page(index, pk.clone(), None, None, 500, start.take(), false).await?;
            out.extend(items);
            match next {
                Some(k) => start = Some(k),
                None => break Ok(out),
            }
        }
    }

    /// Create an item (its key must be free) and, in the same transaction, its once-only markers
    /// (an `Idempotency-Key`'s): a taken key or marker is a conflict, and nothing is written.
    pub(crate) async fn create_with_markers(&self, item: Item, markers: &[Marker]) -> Result<(), StoreError> {
        let items = std::iter::once(item).chain(markers.iter().map(marker_item)).collect();
        if self.put_all_new(items).await? {
            Ok(())
        } else {
            Err(StoreError::Conflict)
        }
    }

    /// Put items whose keys must all be free, all or none: one `PutItem` for one, else one
    /// transaction. `Ok(false)` when a key was taken (nothing written).
    pub(crate) async fn put_all_new(&self, mut items: Vec<Item>) -> Result<bool, StoreError> {
        if items.len() == 1 {
            return self.put_new(items.remove(0)).await;
        }
        let mut writes = Vec::with_capacity(items.len());
        for i in items {
            let p = Put::builder()
                .table_name(&self.table)
                .set_item(Some(i))
                .condition_expression("attribute_not_exists(PK)")
                .build()
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            writes.push(TransactWriteItem::builder().put(p).build());
        }
        match self.transact(writes).await {
            Ok(()) => Ok(true),
            Err(StoreError::Conflict) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Put an item only if its key is free: `Ok(false)` when it already exists (nothing written).
    pub(crate) async fn put_new(&self, item: Item) -> Result<bool, StoreError> {
        match self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(PK)")
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|se| se.is_conditional_check_failed_exception()) => Ok(false),
            Err(e) => Err(unavailable(e)),
        }
    }

    /// A reference-data record, from the cache when it was read recently.
    async fn reference<T: DeserializeOwned>(&self, pk: String, sk: &str) -> Result<Option<T>, StoreError> {
        let key = format!("{pk}|{sk}");
        if let Some(item) = self.refs.get(&key) {
            return from_item(item).map(Some);
        }
        match self.get_item(pk, sk).await? {
            Some(item) => {
                self.refs.put(&key, &item);
                from_item(item).map(Some)
            }
            None => Ok(None),
        }
    }

    /// Reference-data records by key, by partition key: those kept from the cache, the rest in
    /// one `BatchGetItem` (strongly consistent; 100 keys a request; what DynamoDB leaves
    /// unprocessed asked again, a few times, then the store is reported unavailable).
    async fn references(&self, keys: Vec<(String, &str)>) -> Result<HashMap<String, Item>, StoreError> {
        let mut out = HashMap::new();
        let mut missing: Vec<Item> = Vec::new();
        let mut asked = std::collections::HashSet::new();
        for (pk, sk) in keys {
            if !asked.insert(pk.clone()) {
                continue;
            }
            match self.refs.get(&format!("{pk}|{sk}")) {
                Some(item) => {
                    out.insert(pk, item);
                }
                None => missing.push(HashMap::from([("PK".to_string(), s(pk)), ("SK".to_string(), s(sk))])),
            }
        }
        for item in self.batch_get(missing, "reference data").await? {
            let Some((pk, sk)) = key_of(&item).map(|(pk, sk)| (pk.to_string(), sk.to_string())) else {
                continue;
            };
            self.refs.put(&format!("{pk}|{sk}"), &item);
            out.insert(pk, item);
        }
        Ok(out)
    }

    /// The items at these keys (`PK`, `SK` maps), read consistently: 100 a `BatchGetItem`, the
    /// keys DynamoDB leaves unprocessed asked again (up to 5 times). Items not found are left out;
    /// the order is DynamoDB's.
    pub(crate) async fn batch_get(&self, keys: Vec<Item>, what: &str) -> Result<Vec<Item>, StoreError> {
        let mut out = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(100) {
            let mut ask = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(chunk.to_vec()))
                    .consistent_read(true)
                    .build()
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            );
            for _ in 0..5 {
                let Some(keys) = ask.take() else { break };
                let got = self.client.batch_get_item().request_items(&self.table, keys).send().await.map_err(unavailable)?;
                out.extend(got.responses.and_then(|mut r| r.remove(&self.table)).unwrap_or_default());
                ask = got.unprocessed_keys.and_then(|mut u| u.remove(&self.table)).filter(|k| !k.keys.is_empty());
            }
            if ask.is_some() {
                return Err(StoreError::Unavailable(format!("{what}: keys left unprocessed")));
            }
        }
        Ok(out)
    }

    /// The table's own items behind index items of a keys-only index (`ByStudent`,
    /// `ByStudentName`, `ByDue`: they hold no copy of a child's record), each once, in the order
    /// of the index items, read consistently.
    pub(crate) async fn behind(&self, index_items: Vec<Item>, what: &str) -> Result<Vec<Item>, StoreError> {
        let owned = |(pk, sk): (&str, &str)| (pk.to_string(), sk.to_string());
        let mut seen = std::collections::HashSet::new();
        let order: Vec<(String, String)> =
            index_items.iter().filter_map(|i| key_of(i).map(owned)).filter(|k| seen.insert(k.clone())).collect();
        if order.is_empty() {
            return Ok(Vec::new());
        }
        let keys = order.iter().map(|(pk, sk)| HashMap::from([("PK".to_string(), s(pk)), ("SK".to_string(), s(sk))])).collect();
        let mut got: HashMap<(String, String), Item> =
            self.batch_get(keys, what).await?.into_iter().filter_map(|i| Some((key_of(&i).map(owned)?, i))).collect();
        Ok(order.iter().filter_map(|k| got.remove(k)).collect())
    }

    pub(crate) async fn get<T: DeserializeOwned>(&self, pk: String, sk: &str) -> Result<Option<T>, StoreError> {
        self.get_item(pk, sk).await?.map(from_item).transpose()
    }

    /// One item by its key, read consistently.
    async fn get_item(&self, pk: String, sk: &str) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("PK", s(pk))
            .key("SK", s(sk))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(out.item)
    }

    /// Query one index partition (optionally a sort-key prefix), newest first, one page.
    #[allow(clippy::too_many_arguments)]
    async fn query_page(
        &self,
        index: Index,
        pk: String,
        sk_prefix: Option<String>,
        filter_status: Option<CaseStatus>,
        limit: u32,
        start: Option<HashMap<String, String>>,
        newest_first: bool,
    ) -> Result<(Vec<Item>, Option<HashMap<String, String>>), StoreError> {
        let mut cond = "#pk = :pk".to_string();
        let mut q = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(index.name)
            .expression_attribute_names("#pk", index.pk)
            .expression_attribute_values(":pk", s(pk))
            .scan_index_forward(!newest_first)
            .limit(limit as i32);
        if let Some(prefix) = sk_prefix {
            cond.push_str(" AND begins_with(#sk, :prefix)");
            q = q.expression_attribute_names("#sk", index.sk).expression_attribute_values(":prefix", s(prefix));
        }
        if let Some(st) = filter_status {
            q = q
                .filter_expression("#status = :status")
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":status", s(st.as_str()));
        }
        if let Some(k) = start {
            q = q.set_exclusive_start_key(Some(strings_to_key(&k)));
        }
        let out = q.key_condition_expression(cond).send().await.map_err(unavailable)?;
        Ok((out.items.unwrap_or_default(), out.last_evaluated_key.as_ref().map(key_to_strings)))
    }
}

#[async_trait]
impl ReferenceData for DynamoStore {
    async fn school(&self, id: &SchoolId) -> Result<Option<School>, StoreError> {
        self.reference(pk::school(id), sk::SCHOOL).await
    }
    async fn catchment(&self, id: &CatchmentId) -> Result<Option<Catchment>, StoreError> {
        self.reference(pk::catchment(id), sk::CATCHMENT).await
    }
    async fn provider(&self, id: &ProviderId) -> Result<Option<Provider>, StoreError> {
        self.reference(pk::provider(id), sk::PROVIDER).await
    }
    async fn user(&self, id: &UserId) -> Result<Option<UserRecord>, StoreError> {
        self.reference(pk::user(id), sk::USER).await
    }
    async fn locality(&self, key: &str) -> Result<Option<Locality>, StoreError> {
        self.reference(pk::locality(key), sk::LOCALITY).await
    }
    async fn staff(&self, org_id: &str) -> Result<Vec<UserRecord>, StoreError> {
        self.index_all(index::BY_SCHOOL, part::staff(org_id)).await?.into_iter().map(from_item).collect()
    }
    async fn providers(&self) -> Result<Vec<Provider>, StoreError> {
        self.index_all(index::BY_SCHOOL, part::PROVIDERS.to_string()).await?.into_iter().map(from_item).collect()
    }
    async fn lookup(&self, wanted: &Wanted) -> Result<Found, StoreError> {
        let school = |id: &SchoolId| (pk::school(id), sk::SCHOOL);
        let provider = |id: &ProviderId| (pk::provider(id), sk::PROVIDER);
        let user = |id: &UserId| (pk::user(id), sk::USER);
        let keys = wanted.schools.iter().map(school).chain(wanted.providers.iter().map(provider)).chain(wanted.users.iter().map(user));
        let mut items = self.references(keys.collect()).await?;
        let mut found = Found::default();
        for id in &wanted.schools {
            if let Some(item) = items.remove(&school(id).0) {
                found.schools.insert(id.clone(), from_item(item)?);
            }
        }
        for id in &wanted.providers {
            if let Some(item) = items.remove(&provider(id).0) {
                found.providers.insert(id.clone(), from_item(item)?);
            }
        }
        for id in &wanted.users {
            if let Some(item) = items.remove(&user(id).0) {
                found.users.insert(id.clone(), from_item(item)?);
            }
        }
        Ok(found)
    }
}

#[async_trait]
impl ReferralStore for DynamoStore {
    async fn create_referral(&self, r: &Referral, markers: &[Marker]) -> Result<(), StoreError> {
        self.create_with_markers(referral_item(r)?, markers).await
    }

    async fn update_draft(&self, r: &Referral, expected_version: u64) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(referral_item(r)?))
            .condition_expression("#v = :v AND #status = :draft")
            .expression_attribute_names("#v", "version")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":v", AttributeValue::N(expected_version.to_string()))
            .expression_attribute_values(":draft", s("draft"))
            .send()
            .await
            .map_err(|e| match e.as_service_error() {
                Some(se) if se.is_conditional_check_failed_exception() => StoreError::Conflict,
                _ => unavailable(e),
            })?;
        Ok(())
    }

    async fn referral(&self, id: &ReferralId) -> Result<Option<Referral>, StoreError> {
        self.get(pk::referral(id), sk::REFERRAL).await
    }

    async fn delete_draft(&self, id: &ReferralId, expected_version: Option<u64>) -> Result<(), StoreError> {
        let mut d = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("PK", s(pk::referral(id)))
            .key("SK", s("REFERRAL"))
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":draft", s("draft"));
        d = match expected_version {
            Some(v) => d
                .condition_expression("#status = :draft AND #v = :v")
                .expression_attribute_names("#v", "version")
                .expression_attribute_values(":v", AttributeValue::N(v.to_string())),
            None => d.condition_expression("#status = :draft"),
        };
        d.send().await.map_err(|e| match e.as_service_error() {
            Some(se) if se.is_conditional_check_failed_exception() => StoreError::Conflict,
            _ => unavailable(e),
        })?;
        Ok(())
    }

    async fn referrals(
        &self,
        school: &SchoolId,
        status: ReferralStatus,
        limit: u32,
        cursor: Option<String>,
    ) -> Result<Page<Referral>, StoreError> {
        let prefix = match status {
            ReferralStatus::Draft => sk::DRAFT,
            ReferralStatus::Submitted => sk::SUBMITTED,
        };
        let list = format!("{prefix}|{school}");
        let c = self.decode_cursor(&list, cursor.as_deref())?;
        let (items, next) = self.query_page(index::BY_SCHOOL, part::school(school), Some(prefix.into()), None, limit, c.k, true).await?;
        let items = items.into_iter().map(from_item).collect::<Result<Vec<Referral>, _>>()?;
        Ok(Page { items, next: next.map(|k| self.encode_cursor(&list, &Cursor { s: 0, k: Some(k) })) })
    }
}

fn is_conflict(e: &SdkError<TransactWriteItemsError, aws_sdk_dynamodb::config::http::HttpResponse>) -> bool {
    match e.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(tc)) => tc
            .cancellation_reasons()
            .iter()
            // ConditionalCheckFailed: the version moved on; TransactionConflict: another
            // transaction on the same item is in flight. Either way someone else got there first.
            .any(|r| matches!(r.code(), Some("ConditionalCheckFailed") | Some("TransactionConflict"))),
        _ => false,
    }
}

#[async_trait]
impl CaseStore for DynamoStore {
    async fn case(&self, id: &CaseId) -> Result<Option<Case>, StoreError> {
        self.get(pk::case(id), sk::CASE).await
    }

    async fn commit(&self, change: &CaseChange) -> Result<(), StoreError> {
        let writes = self.change_writes(change)?;
        match self.client.transact_write_items().set_transact_items(Some(writes)).send().await {
            Ok(_) => Ok(()),
            Err(e) if is_conflict(&e) => Err(StoreError::Conflict),
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn list_cases(&self, q: &CaseListQuery) -> Result<Page<Case>, StoreError> {
        let list = cases_list(q);
        let c = self.decode_cursor(&list, q.cursor.as_deref())?;
        let (items, next) = match &q.scope {
            ListScope::School(school) => {
                let (items, k) =
                    self.query_page(index::BY_SCHOOL, part::school(school), Some(pk::CASE.into()), q.status, q.limit, c.k, true).await?;
                (items, k.map(|k| Cursor { s: 0, k: Some(k) }))
            }
            ListScope::PrimaryContact(user) => {
                let (items, k) = self.query_page(index::BY_CONTACT, part::contact(user), None, q.status, q.limit, c.k, true).await?;
                (items, k.map(|k| Cursor { s: 0, k: Some(k) }))
            }
            ListScope::Provider(p) => {
                let prefix = q.status.map(|st| format!("{}#", st.as_str()));
                let (items, k) = self.query_page(index::BY_PROVIDER, part::provider(p), prefix, None, q.limit, c.k, false).await?;
                (items, k.map(|k| Cursor { s: 0, k: Some(k) }))
            }
            ListScope::Prosecutions => {
                // oldest referral first: the team's work queue
                let (items, k) = self.query_page(index::BY_TEAM, part::PROSECUTIONS.into(), None, q.status, q.limit, c.k, false).await?;
                (items, k.map(|k| Cursor { s: 0, k: Some(k) }))
            }
            ListScope::National => {
                // one status partition at a time, oldest first (a work queue's order)
                let statuses: Vec<CaseStatus> = match q.status {
                    Some(st) => vec![st],
                    None => CaseStatus::ALL.to_vec(),
                };
                let mut out = Vec::new();
                let mut idx = c.s;
                let mut start = c.k;
                let mut next = None;
                while idx < statuses.len() && (out.len() as u32) < q.limit {
                    let want = q.limit - out.len() as u32;
                    let (items, k) =
                        self.query_page(index::BY_STATUS, part::status(statuses[idx]), None, None, want, start.take(), false).await?;
                    out.extend(items);
                    match k {
                        Some(k) => {
                            next = Some(Cursor { s: idx, k: Some(k) });
                            if out.len() as u32 >= q.limit {
                                break;
                            }
                            start = next.take().and_then(|c| c.k);
                        }
                        None => {
                            idx += 1;
                            next = (idx < statuses.len()).then_some(Cursor { s: idx, k: None });
                        }
                    }
                }
                (out, next)
            }
        };
        let items = items.into_iter().map(from_item).collect::<Result<Vec<Case>, _>>()?;
        Ok(Page { items, next: next.map(|c| self.encode_cursor(&list, &c)) })
    }

    async fn timeline(&self, id: &CaseId) -> Result<Vec<TimelineEntry>, StoreError> {
        self.query_prefix(pk::case(id), sk::TIMELINE).await?.into_iter().map(from_item).collect()
    }

    async fn timeline_page(&self, id: &CaseId, limit: u32, cursor: Option<String>) -> Result<Page<TimelineEntry>, StoreError> {
        let list = format!("timeline|{id}");
        let c = self.decode_cursor(&list, cursor.as_deref())?;
        let pk = pk::case(id);
        // a cursor from another case's timeline is not accepted
        if let Some(k) = &c.k {
            if k.get("PK") != Some(&pk) || !k.get("SK").is_some_and(|sk| sk.starts_with(sk::TIMELINE)) {
                return Err(StoreError::InvalidCursor);
            }
        }
        let res = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk AND begins_with(SK, :tl)")
            .expression_attribute_values(":pk", s(pk))
            .expression_attribute_values(":tl", s(sk::TIMELINE))
            .scan_index_forward(true)
            .consistent_read(true)
            .limit(limit.max(1) as i32)
            .set_exclusive_start_key(c.k.as_ref().map(strings_to_key))
            .send()
            .await
            .map_err(unavailable)?;
        let items = res.items.unwrap_or_default().into_iter().map(from_item).collect::<Result<Vec<TimelineEntry>, _>>()?;
        let next = res.last_evaluated_key.as_ref().map(|k| self.encode_cursor(&list, &Cursor { s: 0, k: Some(key_to_strings(k)) }));
        Ok(Page { items, next })
    }

    async fn release_marker(&self, key: &str) -> Result<(), StoreError> {
        self.client.delete_item().table_name(&self.table).key("PK", s(key)).key("SK", s("MARKER")).send().await.map_err(unavailable)?;
        Ok(())
    }

    async fn pending_events(&self, id: &CaseId) -> Result<Vec<EventEnvelope>, StoreError> {
        let mut out = Vec::new();
        for item in self.query_prefix(pk::case(id), sk::OUTBOX).await? {
            let dt = item.get("detailType").and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
            let detail: serde_json::Value =
                item.get("detail").and_then(|v| v.as_s().ok()).and_then(|d| serde_json::from_str(d).ok()).unwrap_or_default();
            out.push(EventEnvelope::from_parts(&dt, &detail).map_err(StoreError::Corrupt)?);
        }
        out.sort_by(|a, b| a.occurred_at.cmp(&b.occurred_at).then(a.event_id.cmp(&b.event_id)));
        Ok(out)
    }

    async fn mark_published(&self, id: &CaseId, events: &[EventId]) -> Result<(), StoreError> {
        for e in events {
            self.client
                .delete_item()
                .table_name(&self.table)
                .key("PK", s(pk::case(id)))
                .key("SK", s(format!("{}{e}", sk::OUTBOX)))
                .send()
                .await
                .map_err(unavailable)?;
        }
        Ok(())
    }

    async fn marker(&self, key: &str) -> Result<Option<(String, Option<String>)>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("PK", s(key))
            .key("SK", s("MARKER"))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(out.item.map(|i| {
            let get = |k: &str| i.get(k).and_then(|v| v.as_s().ok()).cloned();
            (get("fingerprint").unwrap_or_default(), get("answer"))
        }))
    }

    async fn claim_marker(&self, marker: &Marker) -> Result<bool, StoreError> {
        self.put_new(marker_item(marker)).await
    }

    async fn active_case(&self, student_key: &StudentKey) -> Result<Option<Case>, StoreError> {
        let slot: Option<HashMap<String, String>> = self.get(pk::student(student_key), sk::ACTIVE).await?;
        match slot.as_ref().and_then(|m| m.get("caseId")).and_then(|id| CaseId::parse(id.clone()).ok()) {
            Some(id) => self.case(&id).await,
            None => Ok(None),
        }
    }

    async fn enrolment(&self, student_key: &StudentKey) -> Result<Option<SchoolId>, StoreError> {
        let e: Option<HashMap<String, String>> = self.get(pk::student(student_key), sk::ENROLMENT).await?;
        Ok(e.as_ref().and_then(|m| m.get("schoolId")).and_then(|id| SchoolId::parse(id.clone()).ok()))
    }

    async fn record_enrolment(
        &self,
        student_key: &StudentKey,
        school: &SchoolId,
        enrolled_on: chrono::NaiveDate,
    ) -> Result<(), StoreError> {
        let on = enrolled_on.to_string();
        let r = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("PK", s(pk::student(student_key)))
            .item("SK", s(sk::ENROLMENT))
            .item("entity", s("enrolment"))
            .item("schoolId", s(school.as_str()))
            .item("enrolledOn", s(on.clone()))
            // a late redelivery of an older enrolment does not overwrite a newer one
            .condition_expression("attribute_not_exists(PK) OR enrolledOn <= :on")
            .expression_attribute_values(":on", s(on))
            .send()
            .await;
        match r {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|se| se.is_conditional_check_failed_exception()) => Ok(()),
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn cases_for_student(&self, who: &StudentIdentity) -> Result<Vec<Case>, StoreError> {
        // the two index lookups are independent: asked at the same time
        let lookup = |index: Index, key: Option<StudentKey>| async move {
            match key {
                Some(k) => self.index_all(index, pk::student(&k)).await,
                None => Ok(Vec::new()),
            }
        };
        let (by_name, by_nsn) =
            tokio::try_join!(lookup(index::BY_STUDENT_NAME, who.name_key.clone()), lookup(index::BY_STUDENT, who.nsn_key.clone()))?;
        // keys-only indexes: the cases themselves are read (consistently) by their keys
        let mut out: Vec<Case> = self
            .behind(by_name.into_iter().chain(by_nsn).collect(), "a student's cases")
            .await?
            .into_iter()
            .map(from_item)
            .collect::<Result<_, _>>()?;
        out.sort_by_key(|a| a.created_at);
        Ok(out)
    }
}
