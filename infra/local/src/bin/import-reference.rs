//! `import-reference [--dir DIR] [--check | --dry-run] [--allow-mass-revocation]`: load schools, catchments,
//! providers, localities and users (the Delegated Authoriser's ESL role assignments) from the five
//! CSV files of DIR (default the demo files, infra/reference/demo; docs/reference-data.md) into
//! the table at TABLE_NAME (default `local-cases`) through AWS_ENDPOINT_URL — or, without it, the
//! AWS account and region of the environment. Users on record who are not in users.csv are
//! removed (their role ended); more than a fifth of them only with `--allow-mass-revocation`.
//! Every problem is printed as `file:line column: problem` and nothing is written while there is
//! one; `--check` only checks the files (no AWS), `--dry-run` also says what would change in the
//! table, and writes nothing. Importing again is safe.
//! `import-reference --write-demo` rewrites the demo files from the minimal seed.

use std::path::PathBuf;

const USAGE: &str = "usage: import-reference [--dir DIR] [--check | --dry-run] [--allow-mass-revocation] | --write-demo";

async fn run() -> Result<String, String> {
    let (mut dir, mut options, mut write_demo, mut check) =
        (cms_local::import::demo_dir(), cms_local::import::SyncOptions::default(), false, false);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--dir" => dir = PathBuf::from(args.next().ok_or(USAGE)?),
            "--check" => check = true,
            "--dry-run" => options.dry_run = true,
            "--allow-mass-revocation" => options.allow_mass_revocation = true,
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
    if check {
        let files = cms_local::import::read_dir(&dir)?;
        return match cms_local::import::parse(&files) {
            Ok(items) => Ok(format!("{}: {} records, no problems (nothing written: --check)", dir.display(), items.len())),
            Err(problems) => Err(cms_local::import::report(&problems)),
        };
    }
    let sdk = match std::env::var("AWS_ENDPOINT_URL") {
        Ok(_) => cms_local::emulator_config().await?,
        Err(_) => cms_aws::sdk_config().await,
    };
    let table = std::env::var("TABLE_NAME").unwrap_or_else(|_| "local-cases".into());
    let store = cms_aws::DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), &table);
    match cms_local::import::import_dir(&store, &dir, options).await? {
        Ok(synced) => Ok(format!("{} into {table}: {}", dir.display(), synced.summary())),
        Err(problems) => Err(cms_local::import::report(&problems)),
    }
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
