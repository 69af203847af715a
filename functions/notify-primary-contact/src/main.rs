//! Lambda runtime glue: build the clients once per cold start, then handle events.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use lambda_runtime::{run, service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    cms_aws::telemetry::init();
    let env = cms_aws::Env::from_env()?;
    if env.sender_email.is_none() {
        return Err("environment variable SENDER_EMAIL is not set".into());
    }
    let sdk = cms_aws::sdk_config().await;
    let deps = notify_primary_contact::aws_deps(&sdk, &env);
    cms_aws::warm_up_in_background(&deps.store);
    let deps = &deps;
    run(service_fn(move |ev: LambdaEvent<EventBridgeEvent<serde_json::Value>>| async move {
        notify_primary_contact::handle(deps, ev.payload).await.map(|_| ()).map_err(Error::from)
    }))
    .await
}
