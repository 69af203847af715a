//! `bench-dashboards [--cases N] [--reads R] [--keep]`: the dashboards' benchmark (not a test;
//! issue 16: "a benchmark at 80,000 cases: AWS calls and time per dashboard read, and the
//! export's run time"). Against the emulator at AWS_ENDPOINT_URL it creates fresh resources from
//! template.yaml, builds N cases through the domain (default 80,000: a term's mix of queued,
//! open, paused and closed cases over the fictional schools' years), writes them, their counted
//! facts and every scope's counters in bulk (`put_counted`: the same facts and deltas the live
//! consumer writes, summed), then times R reads of each dashboard (the counters of its scope:
//! one GetItem, counted here through the store's own client) and the nightly export of all N
//! cases' facts. `infra/bench dashboards` runs it (debug build).

use chrono::{Duration, NaiveDate};
use cms_domain::dashboard::{deltas, CaseFacts, Figures, Scope};
use cms_domain::ports::{DashboardStore, FixedClock};
use cms_domain::schedule::nz_time;
use cms_local::fixtures::{self, CaseSpec, Ends};
use std::collections::BTreeMap;
use std::time::Instant;

const USAGE: &str = "usage: bench-dashboards [--cases N] [--reads R] [--keep]";

/// Counts the DynamoDB requests a client sends (every attempt, as AWS bills and throttles them).
#[derive(Debug, Clone, Default)]
struct Calls(std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl aws_sdk_dynamodb::config::Intercept for Calls {
    fn name(&self) -> &'static str {
        "count-calls"
    }
    fn read_before_transmit(
        &self,
        _: &aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef<'_>,
        _: &aws_sdk_dynamodb::config::RuntimeComponents,
        _: &mut aws_sdk_dynamodb::config::ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }
}

impl Calls {
    fn take(&self) -> usize {
        self.0.swap(0, std::sync::atomic::Ordering::SeqCst)
    }
}

fn spec(i: usize, today: NaiveDate) -> CaseSpec {
    let day = |d: i64| today + Duration::days(d);
    let ends = match i % 10 {
        0 => Ends::ProviderQueue,
        1..=3 => Ends::Open,
        4 => Ends::Transition,
        _ => Ends::Closed,
    };
    // referred over the last year, a few each day
    let at = day(-((i % 365) as i64) - 1);
    CaseSpec {
        date_of_birth: day(-3650 - (i % 1000) as i64),
        at: nz_time(at, 10),
        ends,
        school_met: !i.is_multiple_of(3),
        whanau_met: !i.is_multiple_of(4),
    }
}

fn ms(d: std::time::Duration) -> f64 {
    (d.as_secs_f64() * 100_000.0).round() / 100.0
}

async fn run() -> Result<serde_json::Value, String> {
    let (mut cases_n, mut reads, mut keep) = (80_000usize, 20usize, false);
    let mut it = std::env::args().skip(1);
    while let Some(x) = it.next() {
        match x.as_str() {
            "--cases" => cases_n = it.next().ok_or(USAGE)?.replace('_', "").parse().map_err(|_| USAGE)?,
            "--reads" => reads = it.next().ok_or(USAGE)?.parse().map_err(|_| USAGE)?,
            "--keep" => keep = true,
            _ => return Err(USAGE.into()),
        }
    }
    let today = NaiveDate::from_ymd_opt(2026, 11, 20).ok_or("date")?;
    let sdk = cms_local::emulator_config().await?;
    let clients = cms_local::Clients::new(&sdk);
    let template = cms_local::template::load_default()?;
    let res = cms_local::resources::create(&clients, &template, &cms_local::resources::unique_prefix("benchdash")).await?;
    let store = cms_aws::DynamoStore::new(clients.dynamodb.clone(), &res.table_name);

    let t = Instant::now();
    let mut cases = Vec::with_capacity(cases_n);
    let region = cms_domain::ids::RegionId::parse(cms_local::seed::demo::REGION).map_err(|_| "region")?;
    let catchment = cms_domain::ids::CatchmentId::parse(cms_local::seed::demo::SCHOOL_CATCHMENT).map_err(|_| "catchment")?;
    for i in 0..cases_n {
        let mut c = fixtures::case(&spec(i, today))?;
        // the demo school's catchment and region (what intake writes on every case)
        c.region_id.get_or_insert_with(|| region.clone());
        c.catchment_id.get_or_insert_with(|| catchment.clone());
        cases.push(c);
    }
    let facts: Vec<CaseFacts> = cases.iter().map(CaseFacts::of).collect();
    let mut counters: BTreeMap<Scope, BTreeMap<String, i64>> = BTreeMap::new();
    for f in &facts {
        for (scope, cs) in deltas(None, f) {
            let e = counters.entry(scope).or_default();
            for (k, v) in cs {
                *e.entry(k).or_default() += v;
            }
        }
    }
    eprintln!("built {} cases and {} scopes' counters in {:.1} s", cases.len(), counters.len(), t.elapsed().as_secs_f64());
    let t = Instant::now();
    for chunk in cases.chunks(2500) {
        store.put_cases(chunk).await.map_err(|e| format!("cases: {e}"))?;
    }
    store.put_counted(&facts, &counters).await.map_err(|e| format!("counters: {e}"))?;
    let seed = t.elapsed();
    eprintln!("seeded in {:.1} s", seed.as_secs_f64());

    // each dashboard's read: its scope's counters and the figures made of them, through a client
    // that counts its requests
    let calls = Calls::default();
    let counted = aws_sdk_dynamodb::Client::from_conf(aws_sdk_dynamodb::config::Builder::from(&sdk).interceptor(calls.clone()).build());
    let reader = cms_aws::DynamoStore::new(counted, &res.table_name);
    let scopes = [
        ("school", Scope::School(cases[0].school_id.clone())),
        ("provider", Scope::Provider(cases[0].provider_id.clone().ok_or("a provider")?)),
        ("region", Scope::Region(cases[0].region_id.clone().ok_or("a region")?)),
        ("national", Scope::National),
    ];
    let mut out = serde_json::Map::new();
    for (name, scope) in &scopes {
        let mut times = Vec::with_capacity(reads);
        let mut total = 0;
        let mut counter_items = 0;
        let mut most_calls = 0;
        for _ in 0..reads {
            let t = Instant::now();
            calls.take();
            let c = reader.counters(scope).await.map_err(|e| format!("read: {e}"))?;
            most_calls = most_calls.max(calls.take());
            let f = Figures::from_counters(&c, today);
            times.push(t.elapsed());
            total = f.total;
            counter_items = c.len();
        }
        times.sort();
        out.insert(
            name.to_string(),
            serde_json::json!({
                "casesCounted": total,
                "counters": counter_items,
                "awsCallsPerRead": most_calls,
                "p50Ms": ms(times[times.len() / 2]),
                "maxMs": ms(*times.last().ok_or("no reads")?),
            }),
        );
    }
    // the nightly export of every case's facts (to the emulator's S3)
    let bucket = res.export_bucket.clone().ok_or("the ExportsBucket")?;
    let sink = cms_aws::S3ExportSink::new(&sdk, bucket);
    let t = Instant::now();
    let exported =
        reopen_scheduler::export_facts(&store, &sink, &FixedClock(nz_time(today, 1))).await.map_err(|e| format!("export: {e}"))?;
    let export_time = t.elapsed();
    if !keep {
        let _ = clients.dynamodb.delete_table().table_name(&res.table_name).send().await;
    }
    Ok(serde_json::json!({
        "cases": cases_n,
        "scopes": counters.len(),
        "readsPerDashboard": reads,
        "dashboards": out,
        "export": { "rows": exported.rows, "bytes": exported.bytes, "queries": exported.queries, "seconds": (export_time.as_secs_f64() * 100.0).round() / 100.0 },
        "seedSeconds": (seed.as_secs_f64() * 10.0).round() / 10.0,
    }))
}

#[tokio::main]
async fn main() {
    match run().await {
        Ok(report) => println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default()),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}
