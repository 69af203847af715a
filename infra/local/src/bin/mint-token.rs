//! `mint-token <user-id> [--ttl-hours N]`: print a local token for any seeded user (read from the
//! table, so it needs the emulator: AWS_ENDPOINT_URL, and TABLE_NAME, default `local-cases`).
//! The issuer matches the local API on API_PORT (default 3001).

use cms_domain::ids::UserId;
use cms_domain::ports::ReferenceData;
use cms_local::{jwt, LocalIdp};
use std::time::Duration;

const USAGE: &str = "usage: mint-token <user-id> [--ttl-hours N]";

async fn run() -> Result<String, String> {
    let mut args = std::env::args().skip(1);
    let mut user = None;
    let mut ttl_hours: u64 = 12;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--ttl-hours" => {
                ttl_hours = args.next().and_then(|h| h.parse().ok()).ok_or(USAGE)?;
            }
            "-h" | "--help" => return Err(USAGE.into()),
            _ if user.is_none() => user = Some(a),
            _ => return Err(USAGE.into()),
        }
    }
    let user = UserId::parse(user.ok_or(USAGE)?).map_err(|e| format!("user id: {e}"))?;
    if std::env::var_os("AWS_ENDPOINT_URL").is_none() {
        return Err("AWS_ENDPOINT_URL is not set: point it at the running emulator (see infra/up's output)".into());
    }
    let port: u16 = std::env::var("API_PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(3001);
    let table = std::env::var("TABLE_NAME").unwrap_or_else(|_| "local-cases".into());
    let sdk = cms_aws::sdk_config().await;
    let store = cms_aws::DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), &table);
    let record = store
        .user(&user)
        .await
        .map_err(|e| format!("reading the user from {table}: {e}"))?
        .ok_or_else(|| format!("no user {user} in {table}"))?;
    let key = jwt::default_key_path();
    if !key.exists() {
        return Err(format!("{} does not exist yet: start the local API once (infra/up)", key.display()));
    }
    let idp = LocalIdp::load_or_create(&key, jwt::issuer_for(port))?;
    eprintln!("{} ({}, {})", record.id, record.role.as_str(), record.org_id);
    Ok(idp.mint(&record, Duration::from_secs(ttl_hours * 3600)))
}

#[tokio::main]
async fn main() {
    match run().await {
        Ok(t) => println!("{t}"),
        Err(e) => {
            eprintln!("mint-token: {e}");
            std::process::exit(2);
        }
    }
}
