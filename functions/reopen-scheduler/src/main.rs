//! Lambda runtime glue: build the clients once per cold start, then run the nightly job on each
//! schedule invocation. The response is the run's summary (counts only).

use lambda_runtime::{run, service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    cms_aws::telemetry::init();
    let env = cms_aws::Env::from_env()?;
    let sdk = cms_aws::sdk_config().await;
    let deps = reopen_scheduler::aws_deps(&sdk, &env);
    deps.store.warm_up().await;
    let deps = &deps;
    run(service_fn(move |ev: LambdaEvent<serde_json::Value>| async move {
        reopen_scheduler::handle(deps, ev.payload).await.map_err(Error::from)
    }))
    .await
}
