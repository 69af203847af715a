//! The local environment (nothing here is deployed): the template's resources in the AWS emulator
//! ([`resources`]), reference data ([`seed`]), a local identity provider ([`jwt`]), and a local API
//! server ([`server`]) plus event poller ([`poller`]) that run the functions' own handlers
//! ([`registry`]) the way API Gateway and EventBridge would.

pub mod audit_check;
pub mod fixtures;
pub mod import;
pub mod jwt;
pub mod oidc;
pub mod portal;
pub mod resources;
pub mod seed;
pub mod template;

pub use jwt::LocalIdp;
pub use resources::{Clients, LocalResources, RuleQueue};
pub use seed::demo;
pub mod poller;
pub mod registry;
pub mod server;

pub use registry::Registry;

/// The SDK configuration for the emulator at `AWS_ENDPOINT_URL`, with a default region and dummy
/// credentials when the environment has none (so the SDK never probes instance metadata).
pub async fn emulator_config() -> Result<aws_config::SdkConfig, String> {
    let endpoint = std::env::var("AWS_ENDPOINT_URL")
        .map_err(|_| "AWS_ENDPOINT_URL is not set: start the emulator (infra/test and infra/up do this)".to_string())?;
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest()).endpoint_url(endpoint);
    if std::env::var_os("AWS_REGION").is_none() && std::env::var_os("AWS_DEFAULT_REGION").is_none() {
        loader = loader.region(aws_config::Region::new("ap-southeast-2"));
    }
    if std::env::var_os("AWS_ACCESS_KEY_ID").is_none() {
        loader = loader.credentials_provider(aws_sdk_sqs::config::Credentials::new("test", "test", None, None, "local"));
    }
    Ok(loader.load().await)
}

/// A fresh, isolated environment in the emulator: every resource under a unique prefix, with the
/// minimal seed loaded. What an integration test starts from.
#[derive(Debug, Clone)]
pub struct TestEnv {
    pub sdk: aws_config::SdkConfig,
    pub clients: Clients,
    pub template: template::Template,
    pub resources: LocalResources,
    pub store: cms_aws::DynamoStore,
}

impl TestEnv {
    /// The names the functions read from their environment.
    pub fn env(&self) -> cms_aws::Env {
        self.resources.env()
    }

    /// Run every queued event through its handler in `registry` (see [`poller::drain_once`]).
    pub async fn drain(&self, registry: &Registry) -> Result<usize, String> {
        poller::drain_once(&self.clients.sqs, &self.resources.rules, registry).await
    }
}

/// Create a [`TestEnv`]: resources from template.yaml under `label` + a random suffix, minimal seed.
pub async fn fresh_env(label: &str) -> Result<TestEnv, String> {
    let sdk = emulator_config().await?;
    let clients = Clients::new(&sdk);
    let template = template::load_default()?;
    let resources = resources::create(&clients, &template, &resources::unique_prefix(label)).await?;
    let store = cms_aws::DynamoStore::new(clients.dynamodb.clone(), &resources.table_name);
    seed::seed_minimal(&store).await.map_err(|e| format!("seeding: {e}"))?;
    Ok(TestEnv { sdk, clients, template, resources, store })
}
