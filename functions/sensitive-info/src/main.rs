//! Lambda runtime glue: build the clients once per cold start, then serve requests.

use lambda_http::{run, service_fn, Error, Request};

#[tokio::main]
async fn main() -> Result<(), Error> {
    cms_aws::telemetry::init();
    let env = cms_aws::Env::from_env()?;
    let sdk = cms_aws::sdk_config().await;
    let deps = sensitive_info::aws_deps(&sdk, &env);
    cms_aws::warm_up_in_background(&deps.store);
    let deps = &deps;
    run(service_fn(move |req: Request| async move { Ok::<_, Error>(sensitive_info::handle(deps, req).await) })).await
}
