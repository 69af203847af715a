//! Lambda runtime glue: build the clients once per cold start, then run the nightly job on each
//! schedule invocation. The response is the run's summary (counts only).

use lambda_runtime::{run, service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    cms_aws::telemetry::init();
    let env = cms_aws::Env::from_env()?;
    let sdk = cms_aws::sdk_config().await;
    let deps = reopen_scheduler::aws_deps(&sdk, &env);
    cms_aws::warm_up_in_background(&deps.store);
    let mailer = cms_aws::SesMailer::from_env(&sdk, &env);
    let portal = env.portal_base_url.clone().unwrap_or_else(|| "https://portal.attendance.education.govt.nz".to_string());
    let export = env.export_bucket.as_ref().map(|b| cms_aws::S3ExportSink::new(&sdk, b));
    let (deps, mailer, portal, export) = (&deps, &mailer, portal.as_str(), &export);
    run(service_fn(move |ev: LambdaEvent<serde_json::Value>| async move {
        // the drafts' reminders and the digests do not depend on the cases' work: all run, each resumable
        let reminders = reopen_scheduler::remind_drafts(&deps.store, mailer, &deps.clock, portal).await;
        let digests = reopen_scheduler::send_digests(&deps.store, mailer, &deps.clock, portal).await;
        let summary = reopen_scheduler::handle(deps, ev.payload).await.map_err(Error::from)?;
        let reminders = reopen_scheduler::reminders_or_retry(reminders)?;
        let digests = reopen_scheduler::digests_or_retry(digests)?;
        // the export last: it counts what the night changed (a failure is retried with the run)
        let exported = match export {
            Some(sink) => Some(reopen_scheduler::export_facts(&deps.store, sink, &deps.clock).await.map_err(Error::from)?),
            None => None,
        };
        Ok::<_, Error>(serde_json::json!({ "cases": summary, "draftReminders": reminders, "digests": digests, "export": exported }))
    }))
    .await
}
