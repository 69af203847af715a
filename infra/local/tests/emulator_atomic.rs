//! The emulator's DynamoDB is atomic under concurrency (issue 12, ADR 0006): concurrent
//! conflicting transactions, through the real SDK client, on a table made from template.yaml.
//! Each write is what the case store does: a conditional put of the case item (`version = :v`)
//! plus a new timeline item, in one TransactWriteItems.
//! Plain moto 5.2.5 fails these (transactions it refuses leave items, several conflicting ones
//! apply, increments are lost); infra/emulator/server.py passes them.
//! Needs AWS_ENDPOINT_URL (infra/test starts the emulator and sets it).

use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use aws_sdk_dynamodb::Client;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::Barrier;

const WRITERS: usize = 20;

async fn table(label: &str) -> (Client, String) {
    if std::env::var_os("AWS_ENDPOINT_URL").is_none() {
        panic!("AWS_ENDPOINT_URL is not set: start the emulator: infra/test does this (or infra/start-moto)");
    }
    let env = cms_local::fresh_env(label).await.expect("create the local resources");
    (env.clients.dynamodb.clone(), env.resources.table_name.clone())
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: u64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn case_pk(case: &str) -> String {
    format!("CASE#{case}")
}

/// Put a new timeline item `entry` and the case item at version `next` if it is at `expected`.
/// The timeline item goes first: the order of a transaction's operations must not matter, and a
/// condition failing after an operation has been applied is where an emulator's rollback shows.
fn change(table: &str, case: &str, expected: u64, next: u64, entry: &str) -> Vec<TransactWriteItem> {
    let case_item = HashMap::from([
        ("PK".to_string(), s(case_pk(case))),
        ("SK".to_string(), s("META")),
        ("version".to_string(), n(next)),
        ("lastEntry".to_string(), s(entry)),
    ]);
    let timeline_item = HashMap::from([
        ("PK".to_string(), s(case_pk(case))),
        ("SK".to_string(), s(format!("TL#{entry}"))),
        ("fromVersion".to_string(), n(expected)),
    ]);
    let case_put = Put::builder()
        .table_name(table)
        .set_item(Some(case_item))
        .condition_expression("#v = :v")
        .expression_attribute_names("#v", "version")
        .expression_attribute_values(":v", n(expected))
        .build()
        .unwrap();
    let timeline_put =
        Put::builder().table_name(table).set_item(Some(timeline_item)).condition_expression("attribute_not_exists(PK)").build().unwrap();
    vec![TransactWriteItem::builder().put(timeline_put).build(), TransactWriteItem::builder().put(case_put).build()]
}

async fn create_case(db: &Client, table: &str, case: &str, version: u64) {
    db.put_item()
        .table_name(table)
        .item("PK", s(case_pk(case)))
        .item("SK", s("META"))
        .item("version", n(version))
        .send()
        .await
        .expect("put the case item");
}

/// The case item's version and lastEntry (strongly consistent).
async fn case_item(db: &Client, table: &str, case: &str) -> (u64, Option<String>) {
    let out = db
        .get_item()
        .table_name(table)
        .key("PK", s(case_pk(case)))
        .key("SK", s("META"))
        .consistent_read(true)
        .send()
        .await
        .expect("GetItem");
    let item = out.item.expect("the case item exists");
    let version = item["version"].as_n().expect("version is a number").parse().expect("version parses");
    (version, item.get("lastEntry").map(|e| e.as_s().unwrap().clone()))
}

/// The sort keys of the case's timeline items.
async fn timeline(db: &Client, table: &str, case: &str) -> Vec<String> {
    let out = db
        .query()
        .table_name(table)
        .key_condition_expression("PK = :pk AND begins_with(SK, :tl)")
        .expression_attribute_values(":pk", s(case_pk(case)))
        .expression_attribute_values(":tl", s("TL#"))
        .consistent_read(true)
        .send()
        .await
        .expect("Query");
    assert!(out.last_evaluated_key.is_none(), "one page is enough for this test");
    out.items.unwrap_or_default().iter().map(|i| i["SK"].as_s().unwrap().clone()).collect()
}

enum Outcome {
    Applied,
    Refused,
}

/// Run one transaction: applied, or refused by a condition (TransactionCanceledException);
/// any other error fails the test.
async fn transact(db: &Client, writes: Vec<TransactWriteItem>) -> Outcome {
    match db.transact_write_items().set_transact_items(Some(writes)).send().await {
        Ok(_) => Outcome::Applied,
        Err(e) => {
            let text = DisplayErrorContext(&e).to_string();
            match e.into_service_error() {
                x if x.is_transaction_canceled_exception() => Outcome::Refused,
                _ => panic!("TransactWriteItems failed other than by a refused condition: {text}"),
            }
        }
    }
}

/// Rounds of the conflict below, each on its own case (one round shows plain moto's races only
/// now and then; five show them most runs).
const ROUNDS: usize = 5;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_conflicting_transactions_apply_exactly_one() {
    let (db, table) = table("atomic").await;
    for round in 0..ROUNDS {
        let case = format!("C1-{round}");
        create_case(&db, &table, &case, 1).await;

        // all 20 expect version 1; released together
        let start = Arc::new(Barrier::new(WRITERS));
        let mut tasks = Vec::new();
        for i in 0..WRITERS {
            let (db, table, case, start) = (db.clone(), table.clone(), case.clone(), start.clone());
            tasks.push(tokio::spawn(async move {
                start.wait().await;
                let entry = format!("writer-{i:02}");
                (entry.clone(), transact(&db, change(&table, &case, 1, 2, &entry)).await)
            }));
        }
        let mut applied = Vec::new();
        let mut refused = 0;
        for t in tasks {
            match t.await.unwrap() {
                (entry, Outcome::Applied) => applied.push(entry),
                (_, Outcome::Refused) => refused += 1,
            }
        }
        assert_eq!(applied.len(), 1, "round {round}: exactly one of {WRITERS} conflicting transactions applies; applied: {applied:?}");
        assert_eq!(refused, WRITERS - 1, "round {round}: the others are refused");

        // no partial items: the one timeline entry is the applied writer's, and the case item is its
        let (version, last) = case_item(&db, &table, &case).await;
        assert_eq!(version, 2, "round {round}");
        assert_eq!(last.as_deref(), Some(applied[0].as_str()), "round {round}: the case item is the applied writer's");
        assert_eq!(
            timeline(&db, &table, &case).await,
            vec![format!("TL#{}", applied[0])],
            "round {round}: one timeline item, the applied writer's"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_conditional_increments_lose_no_update() {
    let (db, table) = table("lostupd").await;
    let case = "C2";
    let initial = 5;
    create_case(&db, &table, case, initial).await;

    // each writer: read the version, write version + 1 on condition it is unchanged, retry on conflict
    let start = Arc::new(Barrier::new(WRITERS));
    let mut tasks = Vec::new();
    for i in 0..WRITERS {
        let (db, table, start) = (db.clone(), table.clone(), start.clone());
        tasks.push(tokio::spawn(async move {
            start.wait().await;
            for attempt in 0..(WRITERS * 10) {
                let (v, _) = case_item(&db, &table, case).await;
                let entry = format!("writer-{i:02}-try-{attempt:03}");
                if let Outcome::Applied = transact(&db, change(&table, case, v, v + 1, &entry)).await {
                    return attempt;
                }
            }
            panic!("writer {i} never got its increment in");
        }));
    }
    let mut attempts = 0;
    for t in tasks {
        attempts += t.await.unwrap() + 1;
    }
    let (version, _) = case_item(&db, &table, case).await;
    assert_eq!(version, initial + WRITERS as u64, "{WRITERS} applied increments from {initial} ({attempts} attempts in all)");
    let entries = timeline(&db, &table, case).await;
    assert_eq!(entries.len(), WRITERS, "one timeline item per applied increment, none from refused attempts: {entries:?}");
}
