//! `verify-audit [<case-id>...]`: check the audit trail's hash chains, of the given cases or of
//! every case (found status by status through the `ByStatus` index, never a Scan) and every read
//! chain (the reads and lists, see `cms_aws::reads`). Needs
//! AWS_ENDPOINT_URL; TABLE_NAME defaults to the local environment's `local-cases`. Prints counts
//! and each broken chain (case id and what is wrong, never any content); exits 1 when a chain is
//! broken, 2 when the check could not run.

use cms_domain::ids::CaseId;
use cms_local::audit_check::{verify_all, verify_cases};

const USAGE: &str = "usage: verify-audit [<case-id>...]";

/// Cases read per index page when checking every case.
const PAGE_SIZE: u32 = 100;

async fn run() -> Result<bool, String> {
    let mut ids = Vec::new();
    for a in std::env::args().skip(1) {
        if a.starts_with('-') {
            return Err(USAGE.into());
        }
        ids.push(CaseId::parse(&a).map_err(|_| format!("{a:?} is not a case id\n{USAGE}"))?);
    }
    let sdk = cms_local::emulator_config().await?;
    let table = std::env::var("TABLE_NAME").unwrap_or_else(|_| "local-cases".into());
    let store = cms_aws::DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), &table);
    let report = if ids.is_empty() { verify_all(&store, PAGE_SIZE).await } else { verify_cases(&store, &ids).await }
        .map_err(|e| format!("the audit trail could not be read: {e}"))?;
    for (id, problem) in &report.breaks {
        println!("BROKEN  case {id}: {problem}");
    }
    for (chain, problem) in &report.read_breaks {
        println!("BROKEN  read chain {chain}: {problem}");
    }
    if ids.is_empty() {
        println!(
            "{} read chain(s) checked ({} without entries), {} reads recorded, {} broken read chain(s)",
            report.read_chains,
            report.empty_read_chains,
            report.reads,
            report.read_breaks.len()
        );
    }
    println!(
        "{} case(s) checked ({} index queries), {} audit entries, {} case(s) without an audit trail, {} broken chain(s)",
        report.cases,
        report.queries,
        report.entries,
        report.without_trail,
        report.breaks.len()
    );
    Ok(report.intact())
}

#[tokio::main]
async fn main() {
    match run().await {
        Ok(true) => {}
        Ok(false) => std::process::exit(1),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    }
}
