//! The EventBridge → Lambda leg, locally: each rule delivers to an SQS queue (see [`resources`]);
//! this reads the queues and calls the target function's handler with the event envelope. A
//! message is deleted only when the handler succeeds; otherwise it comes back after the visibility
//! timeout (at-least-once, like EventBridge's retries).
//!
//! [`resources`]: crate::resources

use crate::registry::Registry;
use crate::resources::RuleQueue;
use aws_lambda_events::eventbridge::EventBridgeEvent;
use aws_sdk_sqs::error::DisplayErrorContext;
use serde_json::Value;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// What happened to one message.
enum Outcome {
    Handled,
    Failed(String),
}

async fn handle_one(sqs: &aws_sdk_sqs::Client, q: &RuleQueue, registry: &Registry, msg: aws_sdk_sqs::types::Message) -> Outcome {
    let Some(handler) = registry.event(&q.function_logical_id) else {
        return Outcome::Failed(format!("no handler registered for {} (add it in registry::functions)", q.function_logical_id));
    };
    let body = msg.body.unwrap_or_default();
    let event: EventBridgeEvent<Value> = match serde_json::from_str(&body) {
        Ok(e) => e,
        Err(e) => return Outcome::Failed(format!("{}: message is not an EventBridge event: {e}", q.rule_name)),
    };
    let detail_type = event.detail_type.clone();
    let started = Instant::now();
    let result = handler(event).await;
    let ms = started.elapsed().as_millis();
    match result {
        Ok(()) => {
            tracing::info!(target: "local.events", function = %q.function_logical_id, detail_type = %detail_type, ms, "event handled");
            if let Some(rh) = msg.receipt_handle {
                if let Err(e) = sqs.delete_message().queue_url(&q.queue_url).receipt_handle(rh).send().await {
                    return Outcome::Failed(format!("delete message: {}", DisplayErrorContext(e)));
                }
            }
            Outcome::Handled
        }
        Err(e) => {
            tracing::warn!(target: "local.events", function = %q.function_logical_id, detail_type = %detail_type, ms, error = %e, "event handler failed; it will be redelivered");
            Outcome::Failed(format!("{} failed on {detail_type}: {e}", q.function_logical_id))
        }
    }
}

async fn receive(sqs: &aws_sdk_sqs::Client, q: &RuleQueue, wait_secs: i32) -> Result<Vec<aws_sdk_sqs::types::Message>, String> {
    let out = sqs
        .receive_message()
        .queue_url(&q.queue_url)
        .max_number_of_messages(10)
        .wait_time_seconds(wait_secs)
        .send()
        .await
        .map_err(|e| format!("receive from {}: {}", q.rule_name, DisplayErrorContext(e)))?;
    Ok(out.messages.unwrap_or_default())
}

/// Process everything in the queues now, including events the handlers emit along the way, until
/// a pass over all queues finds nothing. `Ok(n)`: n events handled, none failed. `Err`: at least
/// one handler failed (its message stays for redelivery); the message says which and how many
/// were handled.
pub async fn drain_once(sqs: &aws_sdk_sqs::Client, rules: &[RuleQueue], registry: &Registry) -> Result<usize, String> {
    let mut handled = 0;
    let mut failures = Vec::new();
    for _pass in 0..50 {
        let mut received = 0;
        for q in rules {
            loop {
                let msgs = receive(sqs, q, 0).await?;
                if msgs.is_empty() {
                    break;
                }
                received += msgs.len();
                for m in msgs {
                    match handle_one(sqs, q, registry, m).await {
                        Outcome::Handled => handled += 1,
                        Outcome::Failed(e) => failures.push(e),
                    }
                }
            }
        }
        if received == 0 {
            break;
        }
    }
    if failures.is_empty() {
        Ok(handled)
    } else {
        Err(format!("{handled} event(s) handled, {} failed: {}", failures.len(), failures.join("; ")))
    }
}

/// Poll all queues until `shutdown` turns true (one task per queue, 1 s long polls).
pub async fn run(sqs: aws_sdk_sqs::Client, rules: Vec<RuleQueue>, registry: Registry, shutdown: watch::Receiver<bool>) {
    let mut tasks = Vec::new();
    for q in rules {
        let (sqs, registry, mut shutdown) = (sqs.clone(), registry.clone(), shutdown.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                if *shutdown.borrow() {
                    break;
                }
                let msgs = tokio::select! {
                    r = receive(&sqs, &q, 1) => r,
                    _ = shutdown.changed() => break,
                };
                match msgs {
                    Ok(msgs) => {
                        for m in msgs {
                            if let Outcome::Failed(e) = handle_one(&sqs, &q, &registry, m).await {
                                tracing::warn!(target: "local.events", "{e}");
                            }
                        }
                    }
                    Err(e) => {
                        tracing::warn!(target: "local.events", "{e}");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
}
