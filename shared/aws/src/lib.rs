//! AWS adapters for the domain's ports. Clients are built once per cold start (in `main`) and
//! passed in; nothing here reads the system clock or decides a rule.

pub mod dynamo;
pub mod eventbridge;
pub mod telemetry;

pub use dynamo::{DynamoStore, ReferenceItem};
pub use eventbridge::EventBridgeBus;

/// The names a function needs, from its environment (set by template.yaml, or by the local server).
#[derive(Debug, Clone)]
pub struct Env {
    pub table_name: String,
    pub bus_name: String,
}

impl Env {
    pub fn from_env() -> Result<Env, String> {
        let get = |k: &str| std::env::var(k).map_err(|_| format!("environment variable {k} is not set"));
        Ok(Env { table_name: get("TABLE_NAME")?, bus_name: get("EVENT_BUS_NAME")? })
    }
}

/// The SDK configuration from the environment (region, credentials, and `AWS_ENDPOINT_URL` when
/// pointed at the local emulator).
pub async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest()).load().await
}
