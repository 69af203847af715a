//! `run-scheduler [--today YYYY-MM-DD]`: run the nightly job (`reopen-scheduler`) once against the
//! emulator, because the emulator never fires EventBridge Scheduler schedules. Needs
//! AWS_ENDPOINT_URL; TABLE_NAME and EVENT_BUS_NAME default to the local environment's
//! `local-cases` and `local-attendance-cases`; EXPORT_BUCKET the export bucket (`local-exportsbucket`). `--today` runs it as at 01:00 New Zealand time on
//! that date (default: now). Prints the run's summary (counts only) as JSON.

use cms_domain::ports::{Clock, FixedClock, SystemClock};
use cms_domain::student::parse_date;

const USAGE: &str = "usage: run-scheduler [--today YYYY-MM-DD]";

async fn run() -> Result<String, String> {
    let mut args = std::env::args().skip(1);
    let mut today = None;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--today" => {
                let d = args.next().ok_or(USAGE)?;
                today = Some(parse_date(&d).map_err(|e| format!("--today {e}"))?);
            }
            _ => return Err(USAGE.into()),
        }
    }
    let sdk = cms_local::emulator_config().await?;
    let env = cms_aws::Env {
        table_name: std::env::var("TABLE_NAME").unwrap_or_else(|_| "local-cases".into()),
        bus_name: std::env::var("EVENT_BUS_NAME").unwrap_or_else(|_| "local-attendance-cases".into()),
        ..Default::default()
    };
    let aws = reopen_scheduler::aws_deps(&sdk, &env);
    let now = match today {
        Some(d) => cms_domain::schedule::nz_time(d, 1),
        None => SystemClock.now(),
    };
    let deps = reopen_scheduler::Deps { store: aws.store, bus: aws.bus, clock: FixedClock(now) };
    let summary = reopen_scheduler::run(&deps, &reopen_scheduler::Options::default()).await.map_err(|e| format!("the run failed: {e}"))?;
    let mailer = cms_aws::SesMailer::new(aws_sdk_sesv2::Client::new(&sdk), cms_local::resources::LOCAL_SENDER_EMAIL);
    let portal = std::env::var("PORTAL_BASE_URL").unwrap_or_else(|_| "http://127.0.0.1:3000".into());
    let reminders =
        reopen_scheduler::remind_drafts(&deps.store, &mailer, &deps.clock, &portal).await.map_err(|e| format!("draft reminders: {e}"))?;
    let digests =
        reopen_scheduler::send_digests(&deps.store, &mailer, &deps.clock, &portal).await.map_err(|e| format!("daily digests: {e}"))?;
    let bucket = std::env::var("EXPORT_BUCKET").unwrap_or_else(|_| cms_local::resources::bucket_name("local", "ExportsBucket"));
    let sink = cms_aws::S3ExportSink::new(&sdk, bucket);
    let exported = reopen_scheduler::export_facts(&deps.store, &sink, &deps.clock).await.map_err(|e| format!("export: {e}"))?;
    let json = serde_json::to_string_pretty(
        &serde_json::json!({ "cases": summary, "draftReminders": reminders, "digests": digests, "export": exported }),
    )
    .unwrap_or_default();
    if summary.errors > 0 {
        return Err(format!("{json}\n{} case(s) were left for the next run", summary.errors));
    }
    Ok(json)
}

#[tokio::main]
async fn main() {
    cms_aws::telemetry::init();
    match run().await {
        Ok(out) => println!("{out}"),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}
