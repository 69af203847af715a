//! AWS adapters for the domain's ports. Clients are built once per cold start (in `main`) and
//! passed in; nothing here reads the system clock or decides a rule.

pub mod audit;
pub mod bulk;
pub mod cursor;
pub mod dashboard;
pub mod digest;
pub mod due;
pub mod dynamo;
pub mod eventbridge;
pub mod files;
pub mod fund;
pub mod import;
pub mod initiatives;
pub mod reads;
pub mod reference;
pub mod s3;
pub mod schema;
pub mod sensitive;
pub mod ses;
pub mod student_keys;
pub mod telemetry;

pub use bulk::ReferenceItem;
pub use dynamo::DynamoStore;
pub use eventbridge::EventBridgeBus;
pub use s3::{S3ExportSink, S3FileStore};
pub use ses::SesMailer;
pub use student_keys::SecretsManagerStudentKeys;

/// The names a function needs, from its environment (set by template.yaml, or by the local server).
/// Optional names are needed only by some functions (build with `..Default::default()`).
#[derive(Debug, Clone, Default)]
pub struct Env {
    pub table_name: String,
    pub bus_name: String,
    /// Secrets Manager secret holding the ENROL webhook's signing secrets (`ENROL_SECRET_ID`).
    pub enrol_secret_id: Option<String>,
    /// Secrets Manager secret holding the student keys' HMAC secret (`STUDENT_KEY_SECRET_ID`).
    pub student_key_secret_id: Option<String>,
    /// The case-files bucket (`BUCKET_NAME`).
    pub bucket_name: Option<String>,
    /// The bucket of the nightly export of de-identified case facts (`EXPORT_BUCKET`).
    pub export_bucket: Option<String>,
    /// The bucket of the reference data's CSV files and the syncs' reports (`REFERENCE_BUCKET`).
    pub reference_bucket: Option<String>,
    /// The CloudWatch namespace of the business metrics, written as Embedded Metric Format log
    /// lines (`METRICS_NAMESPACE`); none are written without it.
    pub metrics_namespace: Option<String>,
    /// SES sender identity (`SENDER_EMAIL`).
    pub sender_email: Option<String>,
    /// The portal's base URL, for links in emails (`PORTAL_BASE_URL`).
    pub portal_base_url: Option<String>,
    /// The SES configuration set emails are sent with (`SES_CONFIGURATION_SET`).
    pub ses_configuration_set: Option<String>,
}

impl Env {
    pub fn from_env() -> Result<Env, String> {
        let get = |k: &str| std::env::var(k).map_err(|_| format!("environment variable {k} is not set"));
        let opt = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        Ok(Env {
            table_name: get("TABLE_NAME")?,
            bus_name: get("EVENT_BUS_NAME")?,
            enrol_secret_id: opt("ENROL_SECRET_ID"),
            student_key_secret_id: opt("STUDENT_KEY_SECRET_ID"),
            bucket_name: opt("BUCKET_NAME"),
            export_bucket: opt("EXPORT_BUCKET"),
            reference_bucket: opt("REFERENCE_BUCKET"),
            metrics_namespace: opt("METRICS_NAMESPACE"),
            sender_email: opt("SENDER_EMAIL"),
            ses_configuration_set: opt("SES_CONFIGURATION_SET"),
            portal_base_url: opt("PORTAL_BASE_URL"),
        })
    }
}

/// The SDK configuration from the environment (region, credentials, and `AWS_ENDPOINT_URL` when
/// pointed at the local emulator).
pub async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest()).load().await
}

/// Open the store's first connection (credentials resolved, the endpoint, a connection in the
/// pool) in the background while the runtime asks for the first event, instead of before it: a
/// cold start's first request no longer waits for this extra round trip, and an instance started
/// ahead of its first event (provisioned or proactive) still has it done (ADR 0018). Errors are
/// ignored, as the warm-up's always were: the first real call reports its own.
pub fn warm_up_in_background(store: &DynamoStore) {
    let store = store.clone();
    tokio::spawn(async move { store.warm_up().await });
}

/// The AWS adapters most functions need, built once per cold start.
pub fn case_services(
    sdk: &aws_config::SdkConfig,
    env: &Env,
) -> cms_domain::ports::CaseServices<DynamoStore, EventBridgeBus, cms_domain::ports::SystemClock> {
    cms_domain::ports::CaseServices {
        store: DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), &env.table_name),
        bus: EventBridgeBus::new(aws_sdk_eventbridge::Client::new(sdk), &env.bus_name),
        clock: cms_domain::ports::SystemClock,
    }
}
