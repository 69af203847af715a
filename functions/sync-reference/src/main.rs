//! Lambda runtime glue: build the clients once per cold start, then sync on each invocation
//! (the schedule's, or an operator's). The response is what was written and removed.

use lambda_runtime::{run, service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    cms_aws::telemetry::init();
    let env = cms_aws::Env::from_env()?;
    let sdk = cms_aws::sdk_config().await;
    let store = cms_aws::DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), &env.table_name);
    let bucket = env.reference_bucket.clone().ok_or("environment variable REFERENCE_BUCKET is not set")?;
    let files = cms_aws::import::S3ReferenceFiles::new(&sdk, bucket);
    let (store, files) = (&store, &files);
    run(service_fn(move |_ev: LambdaEvent<serde_json::Value>| async move {
        let synced = sync_reference::handle(store, files, chrono::Utc::now()).await.map_err(Error::from)?;
        Ok::<_, Error>(serde_json::to_value(synced)?)
    }))
    .await
}
