//! Lambda runtime glue: build the clients once per cold start (and read the signing secrets), then
//! serve deliveries.

use lambda_http::{run, service_fn, Error, Request};
use nen_webhook::SigningSecrets;

#[tokio::main]
async fn main() -> Result<(), Error> {
    cms_aws::telemetry::init();
    let env = cms_aws::Env::from_env()?;
    let sdk = cms_aws::sdk_config().await;
    let deps = nen_webhook::aws_deps(&sdk, &env);
    cms_aws::warm_up_in_background(&deps.store);
    if let Err(e) = deps.secrets.secrets().await {
        tracing::error!(error = %e, "signing secrets not readable at start-up; will retry per request");
    }
    let deps = &deps;
    run(service_fn(move |req: Request| async move { Ok::<_, Error>(nen_webhook::handle(deps, req).await) })).await
}
