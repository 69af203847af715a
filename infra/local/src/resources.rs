//! Create the template's resources in the emulator under a name prefix: the table (keys, indexes
//! and TTL from template.yaml), the event bus, and for each EventBridgeRule of each function a rule
//! with the template's pattern whose target is an SQS queue (the emulator cannot invoke Lambda; the
//! poller reads the queue and calls the handler). Idempotent, and safe to call many times on one
//! emulator with different prefixes.

use crate::template::{TableDef, Template};
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType, ScalarAttributeType,
    TableStatus, TimeToLiveSpecification,
};
use aws_sdk_sqs::types::QueueAttributeName;

/// The SDK clients the local environment uses.
#[derive(Clone, Debug)]
pub struct Clients {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub eventbridge: aws_sdk_eventbridge::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub secrets: aws_sdk_secretsmanager::Client,
    pub s3: aws_sdk_s3::Client,
    pub sesv2: aws_sdk_sesv2::Client,
}

impl Clients {
    pub fn new(sdk: &aws_config::SdkConfig) -> Clients {
        Clients {
            dynamodb: aws_sdk_dynamodb::Client::new(sdk),
            eventbridge: aws_sdk_eventbridge::Client::new(sdk),
            sqs: aws_sdk_sqs::Client::new(sdk),
            secrets: aws_sdk_secretsmanager::Client::new(sdk),
            // path-style addressing, as the emulator needs (same as cms_aws::S3FileStore)
            s3: cms_aws::S3FileStore::new(sdk, "").client().clone(),
            sesv2: aws_sdk_sesv2::Client::new(sdk),
        }
    }
}

/// The queue standing in for one EventBridge → Lambda target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleQueue {
    pub function_logical_id: String,
    /// The event's key in the function's `Events`.
    pub event_name: String,
    pub rule_name: String,
    pub queue_url: String,
    pub queue_arn: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalResources {
    pub prefix: String,
    pub table_name: String,
    pub bus_name: String,
    pub rules: Vec<RuleQueue>,
    /// The case-files bucket (template.yaml's `AWS::S3::Bucket`), when the template has one.
    pub bucket_name: Option<String>,
    /// The export bucket (template.yaml's `ExportsBucket`), when the template has one.
    pub export_bucket: Option<String>,
    /// The reference data's bucket (template.yaml's `ReferenceBucket`), when the template has one.
    pub reference_bucket: Option<String>,
}

impl LocalResources {
    /// The names a function reads from its environment.
    pub fn env(&self) -> cms_aws::Env {
        cms_aws::Env {
            table_name: self.table_name.clone(),
            bus_name: self.bus_name.clone(),
            enrol_secret_id: Some(enrol_secret_name(&self.prefix)),
            student_key_secret_id: Some(student_key_secret_name(&self.prefix)),
            bucket_name: self.bucket_name.clone(),
            export_bucket: self.export_bucket.clone(),
            reference_bucket: self.reference_bucket.clone(),
            sender_email: Some(LOCAL_SENDER_EMAIL.to_string()),
            ..Default::default()
        }
    }
}

/// The ENROL webhook's signing secret in the local environment (printed at start-up; never used
/// outside the emulator).
pub const LOCAL_ENROL_SECRET: &str = "local-enrol-signing-secret";

/// The Secrets Manager secret holding the ENROL webhook's signing secrets, for an environment.
pub fn enrol_secret_name(prefix: &str) -> String {
    format!("{prefix}-enrol-webhook")
}

/// The secret of the student keys (keyed HMAC of NSNs) in the local environment; in AWS it is
/// generated (template.yaml's `StudentKeySecret`) and never leaves Secrets Manager.
pub const LOCAL_STUDENT_KEY_SECRET: &str = "local-student-key-secret";

pub fn student_key_secret_name(prefix: &str) -> String {
    format!("{prefix}-student-keys")
}

async fn put_secret(sm: &aws_sdk_secretsmanager::Client, name: &str, value: &str) -> Result<(), String> {
    match sm.create_secret().name(name).secret_string(value).send().await {
        Ok(_) => Ok(()),
        Err(_) => sm
            .put_secret_value()
            .secret_id(name)
            .secret_string(value)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| format!("secret {name}: {}", aws_sdk_secretsmanager::error::DisplayErrorContext(e))),
    }
}

/// Create (or replace) the ENROL webhook's secret: `{"current": …, "previous": …}`.
pub async fn put_enrol_secret(
    sm: &aws_sdk_secretsmanager::Client,
    prefix: &str,
    current: &str,
    previous: Option<&str>,
) -> Result<(), String> {
    let value = serde_json::json!({ "current": current, "previous": previous }).to_string();
    put_secret(sm, &enrol_secret_name(prefix), &value).await
}

/// Seconds a received message stays invisible before it is redelivered (failed handler → retry).
pub const VISIBILITY_TIMEOUT_SECS: i32 = 5;

/// A prefix no other test run uses: `label` + 10 random characters (lower-case, so it is valid
/// for every resource name).
pub fn unique_prefix(label: &str) -> String {
    let u = ulid::Ulid::new().to_string().to_lowercase();
    let label: String = label.chars().filter(|c| c.is_ascii_alphanumeric()).take(12).collect();
    format!("{label}{}", &u[u.len() - 10..])
}

/// `{prefix}-{name}`, cut to `max` characters (EventBridge rule names: 64; SQS queue names: 80).
fn name(prefix: &str, rest: &str, max: usize) -> String {
    let mut n = format!("{prefix}-{rest}");
    n.truncate(max);
    n
}

pub async fn create(clients: &Clients, template: &Template, prefix: &str) -> Result<LocalResources, String> {
    let table_name = format!("{prefix}-cases");
    let bus_name = format!("{prefix}-attendance-cases");
    create_table(&clients.dynamodb, &template.table, &table_name).await?;
    create_bus(&clients.eventbridge, &bus_name).await?;
    // template.yaml's EnrolWebhookSecret: generated in AWS; a known value locally
    put_enrol_secret(&clients.secrets, prefix, LOCAL_ENROL_SECRET, None).await?;
    // template.yaml's StudentKeySecret: generated in AWS; a known value locally
    put_secret(&clients.secrets, &student_key_secret_name(prefix), LOCAL_STUDENT_KEY_SECRET).await?;
    let bucket_names = create_buckets(&clients.s3, template, prefix).await?;
    let bucket_name = bucket_names.first().map(|(_, n)| n.clone());
    let export_bucket = bucket_names.iter().find(|(id, _)| id == "ExportsBucket").map(|(_, n)| n.clone());
    let reference_bucket = bucket_names.iter().find(|(id, _)| id == "ReferenceBucket").map(|(_, n)| n.clone());
    verify_sender(&clients.sesv2, LOCAL_SENDER_EMAIL).await?;
    let mut rules = Vec::new();
    for f in &template.functions {
        for r in &f.event_rules {
            let base = format!("{}-{}", f.logical_id, r.event_name);
            let queue_name = name(prefix, &base, 80);
            let rule_name = name(prefix, &base, 64);
            let q = clients
                .sqs
                .create_queue()
                .queue_name(&queue_name)
                .attributes(QueueAttributeName::VisibilityTimeout, VISIBILITY_TIMEOUT_SECS.to_string())
                .send()
                .await
                .map_err(|e| format!("create queue {queue_name}: {}", DisplayErrorContext(e)))?;
            let queue_url = q.queue_url.ok_or("CreateQueue returned no URL")?;
            let attrs = clients
                .sqs
                .get_queue_attributes()
                .queue_url(&queue_url)
                .attribute_names(QueueAttributeName::QueueArn)
                .send()
                .await
                .map_err(|e| format!("queue attributes {queue_name}: {}", DisplayErrorContext(e)))?;
            let queue_arn = attrs.attributes.and_then(|mut a| a.remove(&QueueAttributeName::QueueArn)).ok_or("the queue has no ARN")?;
            let rule = clients
                .eventbridge
                .put_rule()
                .name(&rule_name)
                .event_bus_name(if r.default_bus { "default" } else { bus_name.as_str() })
                .event_pattern(local_pattern(&r.pattern, &bucket_names))
                .state(aws_sdk_eventbridge::types::RuleState::Enabled)
                .send()
                .await
                .map_err(|e| format!("put rule {rule_name}: {}", DisplayErrorContext(e)))?;
            // As in AWS: the queue lets this rule (only) send to it.
            let policy = serde_json::json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Principal": {"Service": "events.amazonaws.com"},
                    "Action": "sqs:SendMessage",
                    "Resource": queue_arn,
                    "Condition": {"ArnEquals": {"aws:SourceArn": rule.rule_arn.clone().unwrap_or_default()}}
                }]
            });
            clients
                .sqs
                .set_queue_attributes()
                .queue_url(&queue_url)
                .attributes(QueueAttributeName::Policy, policy.to_string())
                .send()
                .await
                .map_err(|e| format!("queue policy {queue_name}: {}", DisplayErrorContext(e)))?;
            let target =
                aws_sdk_eventbridge::types::Target::builder().id("local-queue").arn(&queue_arn).build().map_err(|e| e.to_string())?;
            let out = clients
                .eventbridge
                .put_targets()
                .rule(&rule_name)
                .event_bus_name(if r.default_bus { "default" } else { bus_name.as_str() })
                .targets(target)
                .send()
                .await
                .map_err(|e| format!("put targets {rule_name}: {}", DisplayErrorContext(e)))?;
            if out.failed_entry_count > 0 {
                return Err(format!("put targets {rule_name}: {} failed", out.failed_entry_count));
            }
            rules.push(RuleQueue {
                function_logical_id: f.logical_id.clone(),
                event_name: r.event_name.clone(),
                rule_name,
                queue_url,
                queue_arn,
            });
        }
    }
    Ok(LocalResources { prefix: prefix.to_string(), table_name, bus_name, rules, bucket_name, export_bucket, reference_bucket })
}

fn key_schema(k: &[crate::template::KeyElement]) -> Result<Vec<KeySchemaElement>, String> {
    k.iter()
        .map(|k| {
            KeySchemaElement::builder()
                .attribute_name(&k.attribute_name)
                .key_type(KeyType::from(k.key_type.as_str()))
                .build()
                .map_err(|e| e.to_string())
        })
        .collect()
}

async fn create_table(ddb: &aws_sdk_dynamodb::Client, def: &TableDef, table_name: &str) -> Result<(), String> {
    let mut req = ddb
        .create_table()
        .table_name(table_name)
        .billing_mode(BillingMode::PayPerRequest)
        .set_key_schema(Some(key_schema(&def.key_schema)?));
    for (n, t) in &def.attribute_definitions {
        req = req.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(n)
                .attribute_type(ScalarAttributeType::from(t.as_str()))
                .build()
                .map_err(|e| e.to_string())?,
        );
    }
    for g in &def.global_secondary_indexes {
        let mut p = Projection::builder().projection_type(ProjectionType::from(g.projection_type.as_str()));
        for a in &g.non_key_attributes {
            p = p.non_key_attributes(a);
        }
        req = req.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(&g.index_name)
                .set_key_schema(Some(key_schema(&g.key_schema)?))
                .projection(p.build())
                .build()
                .map_err(|e| e.to_string())?,
        );
    }
    match req.send().await {
        Ok(_) => {}
        Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_in_use_exception()) => {}
        Err(e) => return Err(format!("create table {table_name}: {}", DisplayErrorContext(e))),
    }
    for _ in 0..100 {
        let d = ddb
            .describe_table()
            .table_name(table_name)
            .send()
            .await
            .map_err(|e| format!("describe table {table_name}: {}", DisplayErrorContext(e)))?;
        if d.table.and_then(|t| t.table_status) == Some(TableStatus::Active) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    if let Some(attr) = &def.ttl_attribute {
        let spec = TimeToLiveSpecification::builder().attribute_name(attr).enabled(true).build().map_err(|e| e.to_string())?;
        match ddb.update_time_to_live().table_name(table_name).time_to_live_specification(spec).send().await {
            Ok(_) => {}
            // already enabled (second start against the same emulator)
            Err(e) if e.as_service_error().is_some_and(|s| s.meta().code() == Some("ValidationException")) => {}
            Err(e) => return Err(format!("enable TTL on {table_name}: {}", DisplayErrorContext(e))),
        }
    }
    Ok(())
}

async fn create_bus(eb: &aws_sdk_eventbridge::Client, bus_name: &str) -> Result<(), String> {
    match eb.create_event_bus().name(bus_name).send().await {
        Ok(_) => Ok(()),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_already_exists_exception()) => Ok(()),
        Err(e) => Err(format!("create event bus {bus_name}: {}", DisplayErrorContext(e))),
    }
}

/// The SES sender identity locally (template.yaml's `SenderEmail` parameter in AWS).
pub const LOCAL_SENDER_EMAIL: &str = "no-reply@attendance.example.nz";

/// The local name of a template bucket: `{prefix}-{logical id}`, lower-case (S3's rules).
pub fn bucket_name(prefix: &str, logical_id: &str) -> String {
    let mut n = format!("{prefix}-{}", logical_id.to_ascii_lowercase());
    n.truncate(63);
    n
}

/// An event pattern with each `!Ref <bucket>` replaced by the bucket's local name.
fn local_pattern(pattern: &serde_json::Value, buckets: &[(String, String)]) -> String {
    let mut text = pattern.to_string();
    for (logical_id, name) in buckets {
        text = text.replace(&crate::template::ref_placeholder(logical_id), name);
    }
    text
}

/// Each `AWS::S3::Bucket` of the template, as the template configures it: versioned, encrypted,
/// public access blocked, and sending its events to EventBridge (moto delivers those to matching
/// rules on the default bus, like S3). Returns (logical id, local name) pairs.
async fn create_buckets(s3: &aws_sdk_s3::Client, template: &Template, prefix: &str) -> Result<Vec<(String, String)>, String> {
    use aws_sdk_s3::types::{
        BucketLocationConstraint, BucketVersioningStatus, CreateBucketConfiguration, EventBridgeConfiguration, NotificationConfiguration,
        PublicAccessBlockConfiguration, ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration,
        ServerSideEncryptionRule, VersioningConfiguration,
    };
    let err = |what: &str, name: &str, e: String| format!("{what} {name}: {e}");
    let mut out = Vec::new();
    for id in &template.buckets {
        let name = bucket_name(prefix, id);
        let region = s3.config().region().map(|r| r.to_string()).unwrap_or_else(|| "us-east-1".into());
        let mut req = s3.create_bucket().bucket(&name);
        if region != "us-east-1" {
            req = req.create_bucket_configuration(
                CreateBucketConfiguration::builder().location_constraint(BucketLocationConstraint::from(region.as_str())).build(),
            );
        }
        match req.send().await {
            Ok(_) => {}
            Err(e) if e.as_service_error().is_some_and(|s| s.is_bucket_already_owned_by_you() || s.is_bucket_already_exists()) => {}
            Err(e) => return Err(err("create bucket", &name, aws_sdk_s3::error::DisplayErrorContext(e).to_string())),
        }
        s3.put_bucket_versioning()
            .bucket(&name)
            .versioning_configuration(VersioningConfiguration::builder().status(BucketVersioningStatus::Enabled).build())
            .send()
            .await
            .map_err(|e| err("versioning", &name, aws_sdk_s3::error::DisplayErrorContext(e).to_string()))?;
        let sse =
            ServerSideEncryptionByDefault::builder().sse_algorithm(ServerSideEncryption::Aes256).build().map_err(|e| e.to_string())?;
        s3.put_bucket_encryption()
            .bucket(&name)
            .server_side_encryption_configuration(
                ServerSideEncryptionConfiguration::builder()
                    .rules(ServerSideEncryptionRule::builder().apply_server_side_encryption_by_default(sse).build())
                    .build()
                    .map_err(|e| e.to_string())?,
            )
            .send()
            .await
            .map_err(|e| err("encryption", &name, aws_sdk_s3::error::DisplayErrorContext(e).to_string()))?;
        s3.put_public_access_block()
            .bucket(&name)
            .public_access_block_configuration(
                PublicAccessBlockConfiguration::builder()
                    .block_public_acls(true)
                    .ignore_public_acls(true)
                    .block_public_policy(true)
                    .restrict_public_buckets(true)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| err("public access block", &name, aws_sdk_s3::error::DisplayErrorContext(e).to_string()))?;
        s3.put_bucket_notification_configuration()
            .bucket(&name)
            .notification_configuration(
                NotificationConfiguration::builder().event_bridge_configuration(EventBridgeConfiguration::builder().build()).build(),
            )
            .send()
            .await
            .map_err(|e| err("notifications", &name, aws_sdk_s3::error::DisplayErrorContext(e).to_string()))?;
        out.push((id.clone(), name));
    }
    Ok(out)
}

/// Verify the sender identity in the emulator's SES (as an operator does once in AWS).
async fn verify_sender(ses: &aws_sdk_sesv2::Client, sender: &str) -> Result<(), String> {
    match ses.create_email_identity().email_identity(sender).send().await {
        Ok(_) => Ok(()),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_already_exists_exception()) => Ok(()),
        Err(e) => Err(format!("verify sender {sender}: {}", aws_sdk_sesv2::error::DisplayErrorContext(e))),
    }
}
