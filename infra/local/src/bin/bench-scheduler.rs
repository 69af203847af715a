//! `bench-scheduler [--cases N] [--today YYYY-MM-DD] [--seed-tasks T] [--concurrency C]
//! [--due-per-10k D] [--read-only] [--keep]`: the nightly job's benchmark (not a test). Against the
//! emulator at AWS_ENDPOINT_URL it creates fresh resources from template.yaml under a unique
//! prefix, seeds N cases (default 80,000; built through the domain, written with BatchWriteItem,
//! 25 per call, T calls in flight), runs the scheduler once as at 01:00 New Zealand time on
//! `--today`, then once more (the idempotent re-run), and reports items seeded, items read by the
//! scheduler, items due, read ÷ due and the wall times. `--read-only` runs only the job's index
//! reads (no commits). `infra/bench` starts an emulator and runs this (debug build).
//!
//! The mix, per 10,000 cases (fictional students), with D = `--due-per-10k` (default 10: a night's
//! realistic work — ~325 referrals a working day, a fifth of them late; a few paused children
//! turning six):
//!   D/10    paused, the child turned six in the last three days    → due (reopen)
//!   D-D/10  open, referred 30 days ago, whānau meeting not recorded → due (an SLA breach)
//!   800     paused, the child turns six within the next year        → in the due index, not due
//!  1000     referred yesterday, meetings not yet due                → in the due index, not due
//!  3000     open, both meetings recorded                            → not in the index
//!  the rest closed                                                  → not in the index
//!
//! Against bare moto 5.2.5 a commit (TransactWriteItems) deep-copies the whole table and every Query
//! walks every item; the project's emulator layer (infra/emulator, ADR 0006) does neither, so the
//! run's wall time follows the number of due cases.

use chrono::{Duration, NaiveDate};
use cms_domain::case::Case;
use cms_domain::ports::{DueStore, FixedClock};
use cms_domain::schedule::{next_due, nz_time};
use cms_domain::student::parse_date;
use cms_local::fixtures::{self, CaseSpec, Ends};
use std::sync::Arc;
use std::time::Instant;

const USAGE: &str =
    "usage: bench-scheduler [--cases N] [--today YYYY-MM-DD] [--seed-tasks T] [--concurrency C] [--due-per-10k D] [--read-only] [--keep]";

struct Args {
    cases: usize,
    today: NaiveDate,
    seed_tasks: usize,
    concurrency: usize,
    due_per_10k: usize,
    read_only: bool,
    keep: bool,
}

fn args() -> Result<Args, String> {
    let mut a = Args {
        cases: 80_000,
        today: NaiveDate::from_ymd_opt(2026, 8, 14).ok_or("date")?,
        seed_tasks: 8,
        concurrency: 1,
        due_per_10k: 10,
        read_only: false,
        keep: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(x) = it.next() {
        let mut val = || it.next().ok_or_else(|| USAGE.to_string());
        match x.as_str() {
            "--cases" => a.cases = val()?.replace('_', "").parse().map_err(|_| USAGE)?,
            "--today" => a.today = parse_date(&val()?).map_err(|e| format!("--today {e}"))?,
            "--seed-tasks" => a.seed_tasks = val()?.parse().map_err(|_| USAGE)?,
            "--concurrency" => a.concurrency = val()?.parse().map_err(|_| USAGE)?,
            "--due-per-10k" => a.due_per_10k = val()?.parse().map_err(|_| USAGE)?,
            "--read-only" => a.read_only = true,
            "--keep" => a.keep = true,
            _ => return Err(USAGE.into()),
        }
    }
    Ok(a)
}

fn spec(i: usize, today: NaiveDate, due_per_10k: usize) -> CaseSpec {
    let day = |d: i64| today + Duration::days(d);
    let slot = i % 10_000;
    let k = (i / 10_000) as i64;
    let reopen = due_per_10k / 10;
    let due = due_per_10k.min(2000);
    let born_before = |b: NaiveDate| b - Duration::days(6 * 365 + 2);
    let (dob, at, ends, school_met, whanau_met) = if slot < reopen {
        // turned six 0..2 days ago, paused 200 days before the birthday
        let b = day(-((slot % 3) as i64));
        (born_before(b), b - Duration::days(200), Ends::Paused, true, true)
    } else if slot < due {
        (day(-3650), day(-30), Ends::Open, true, false)
    } else if slot < due + 800 {
        // turns six in 1..=365 days
        let b = day(1 + (slot as i64 * 7 + k) % 365);
        (born_before(b), day(-100), Ends::Paused, true, true)
    } else if slot < due + 1800 {
        (day(-3650), day(-1), if slot.is_multiple_of(2) { Ends::ProviderQueue } else { Ends::Open }, false, false)
    } else if slot < due + 4800 {
        (day(-3650), day(-60), Ends::Open, true, true)
    } else {
        (day(-3650), day(-90), Ends::Closed, slot.is_multiple_of(2), slot.is_multiple_of(2))
    };
    CaseSpec { date_of_birth: dob, at: nz_time(at, 10), ends, school_met, whanau_met }
}

fn secs(d: std::time::Duration) -> f64 {
    (d.as_secs_f64() * 100.0).round() / 100.0
}

async fn run() -> Result<serde_json::Value, String> {
    let a = args()?;
    let sdk = cms_local::emulator_config().await?;
    let clients = cms_local::Clients::new(&sdk);
    let template = cms_local::template::load_default()?;
    let res = cms_local::resources::create(&clients, &template, &cms_local::resources::unique_prefix("bench")).await?;
    let store = cms_aws::DynamoStore::new(clients.dynamodb.clone(), &res.table_name);
    eprintln!("resources: table {} bus {}", res.table_name, res.bus_name);

    // build every case through the domain
    let t = Instant::now();
    let mut cases: Vec<Case> = Vec::with_capacity(a.cases);
    for i in 0..a.cases {
        cases.push(fixtures::case(&spec(i, a.today, a.due_per_10k))?);
    }
    let build_time = t.elapsed();
    let in_index = cases.iter().filter(|c| next_due(c).is_some()).count();
    let expected_due = cases.iter().filter(|c| next_due(c).is_some_and(|d| d <= a.today)).count();
    eprintln!("built {} cases in {:.2} s ({in_index} in the due index, {expected_due} due)", cases.len(), secs(build_time));

    // seed: BatchWriteItem, 25 per call, a bounded number of calls in flight
    let t = Instant::now();
    let sem = Arc::new(tokio::sync::Semaphore::new(a.seed_tasks.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for chunk in cases.chunks(25) {
        let permit = sem.clone().acquire_owned().await.map_err(|e| e.to_string())?;
        let store = store.clone();
        let chunk = chunk.to_vec();
        tasks.spawn(async move {
            let r = store.put_cases(&chunk).await;
            drop(permit);
            r
        });
        while let Some(done) = tasks.try_join_next() {
            done.map_err(|e| e.to_string())?.map_err(|e| format!("seeding: {e}"))?;
        }
    }
    while let Some(done) = tasks.join_next().await {
        done.map_err(|e| e.to_string())?.map_err(|e| format!("seeding: {e}"))?;
    }
    let seed_time = t.elapsed();
    eprintln!("seeded {} cases in {:.2} s", cases.len(), secs(seed_time));

    if a.read_only {
        // only the job's reads: every shard of the due index, page by page, no commits
        let t = Instant::now();
        let (mut read, mut queries) = (0usize, 0usize);
        for shard in 0..cms_domain::schedule::SHARDS {
            let mut cursor = None;
            loop {
                let page = store.due_cases(shard, a.today, 100, cursor.take()).await.map_err(|e| format!("due index: {e}"))?;
                queries += 1;
                read += page.items.len();
                match page.next {
                    Some(n) => cursor = Some(n),
                    None => break,
                }
            }
        }
        let read_time = t.elapsed();
        if !a.keep {
            let _ = clients.dynamodb.delete_table().table_name(&res.table_name).send().await;
        }
        return Ok(serde_json::json!({
            "mode": "read-only (due index queries, no commits)",
            "today": a.today,
            "itemsSeeded": cases.len(),
            "inDueIndex": in_index,
            "expectedDue": expected_due,
            "itemsRead": read,
            "readPerDue": if expected_due == 0 { None } else { Some(read as f64 / expected_due as f64) },
            "indexQueries": queries,
            "readSeconds": secs(read_time),
            "seedSeconds": secs(seed_time),
            "seedItemsPerSecond": (cases.len() as f64 / seed_time.as_secs_f64().max(1e-9)).round(),
            "seedTasks": a.seed_tasks,
            "duePer10k": a.due_per_10k,
        }));
    }
    let aws = reopen_scheduler::aws_deps(&sdk, &res.env());
    let deps = reopen_scheduler::Deps { store: aws.store, bus: aws.bus, clock: FixedClock(nz_time(a.today, 1)) };
    let opts = reopen_scheduler::Options { concurrency: a.concurrency.max(1), ..Default::default() };
    let t = Instant::now();
    let first = reopen_scheduler::run(&deps, &opts).await.map_err(|e| format!("scheduler run: {e}"))?;
    let run_time = t.elapsed();
    let t = Instant::now();
    let second = reopen_scheduler::run(&deps, &opts).await.map_err(|e| format!("second run: {e}"))?;
    let rerun_time = t.elapsed();

    if !a.keep {
        let _ = clients.dynamodb.delete_table().table_name(&res.table_name).send().await;
    }
    let ratio = if first.due == 0 { None } else { Some(first.read as f64 / first.due as f64) };
    Ok(serde_json::json!({
        "today": a.today,
        "itemsSeeded": cases.len(),
        "inDueIndex": in_index,
        "expectedDue": expected_due,
        "itemsRead": first.read,
        "itemsDue": first.due,
        "readPerDue": ratio,
        "reopened": first.reopened,
        "breaches": first.breaches,
        "errors": first.errors,
        "indexQueries": first.queries,
        "seedSeconds": secs(seed_time),
        "seedItemsPerSecond": (cases.len() as f64 / seed_time.as_secs_f64().max(1e-9)).round(),
        "runSeconds": secs(run_time),
        "secondRun": { "itemsRead": second.read, "itemsDue": second.due, "seconds": secs(rerun_time) },
        "seedTasks": a.seed_tasks,
        "concurrency": opts.concurrency,
        "duePer10k": a.due_per_10k,
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
