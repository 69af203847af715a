//! `import-reference [--dir DIR] [--dry-run]`: load schools, catchments, providers, localities and
//! users (the Delegated Authoriser's ESL role assignments) from the five CSV files of DIR (default
//! the demo files, infra/reference/demo; docs/reference-data.md) into the table at TABLE_NAME
//! (default `local-cases`) through AWS_ENDPOINT_URL — or, without it, the AWS account and region
//! of the environment. Every problem is printed as `file:line column: problem` and nothing is
//! written while there is one; `--dry-run` only checks. Importing again is safe.
//! `import-reference --write-demo` rewrites the demo files from the minimal seed.

use std::path::PathBuf;

const USAGE: &str = "usage: import-reference [--dir DIR] [--dry-run] | --write-demo";

async fn run() -> Result<String, String> {
    let (mut dir, mut dry, mut write_demo) = (cms_local::import::demo_dir(), false, false);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--dir" => dir = PathBuf::from(args.next().ok_or(USAGE)?),
            "--dry-run" => dry = true,
            "--write-demo" => write_demo = true,
            _ => return Err(USAGE.into()),
        }
    }
    if write_demo {
        let dir = cms_local::import::demo_dir();
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        for (file, text) in cms_local::import::to_files(&cms_local::seed::minimal()) {
            std::fs::write(dir.join(&file), text).map_err(|e| format!("{file}: {e}"))?;
        }
        return Ok(format!("wrote the demo files to {}", dir.display()));
    }
    let files = cms_local::import::read_dir(&dir)?;
    if dry {
        return match cms_local::import::parse(&files) {
            Ok(items) => Ok(format!("{}: {} records, no problems (nothing written: --dry-run)", dir.display(), items.len())),
            Err(problems) => Err(report(&problems)),
        };
    }
    let sdk = match std::env::var("AWS_ENDPOINT_URL") {
        Ok(_) => cms_local::emulator_config().await?,
        Err(_) => cms_aws::sdk_config().await,
    };
    let table = std::env::var("TABLE_NAME").unwrap_or_else(|_| "local-cases".into());
    let store = cms_aws::DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), &table);
    match cms_local::import::import_dir(&store, &dir).await? {
        Ok(n) => Ok(format!("{}: {n} records imported into {table}", dir.display())),
        Err(problems) => Err(report(&problems)),
    }
}

fn report(problems: &[cms_local::import::Problem]) -> String {
    let mut out: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
    out.push(format!("{} problem(s); nothing was written", problems.len()));
    out.join("\n")
}

#[tokio::main]
async fn main() {
    match run().await {
        Ok(out) => println!("{out}"),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}
