//! Lambda runtime glue: build the clients once per cold start, then handle events.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use lambda_runtime::{run, service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    cms_aws::telemetry::init();
    let env = cms_aws::Env::from_env()?;
    let sdk = cms_aws::sdk_config().await;
    let deps = update_dashboards::aws_deps(&sdk, &env);
    cms_aws::warm_up_in_background(&deps.store);
    let deps = &deps;
    run(service_fn(move |ev: LambdaEvent<EventBridgeEvent<serde_json::Value>>| async move {
        update_dashboards::handle(deps, ev.payload).await.map(|_| ()).map_err(Error::from)
    }))
    .await
}
