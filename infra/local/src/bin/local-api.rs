//! The local environment: resources in the emulator (from template.yaml), seed data, a local
//! identity provider, the functions' handlers behind a local API Gateway, and the event flow.
//! Started by `infra/up`, which runs the emulator and sets the AWS_* variables.

use cms_local::{jwt, oidc, poller, portal, registry, resources, seed, server, template, LocalIdp};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

const PREFIX: &str = "local";
const TOKEN_TTL: Duration = Duration::from_secs(12 * 3600);

fn env_name(id: &str) -> String {
    id.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect()
}

async fn run() -> Result<(), String> {
    let endpoint = std::env::var("AWS_ENDPOINT_URL")
        .map_err(|_| "AWS_ENDPOINT_URL is not set: start the emulator first (infra/up does both)".to_string())?;
    let port_var = |name: &str, default: u16| -> Result<u16, String> {
        match std::env::var(name) {
            Ok(p) => p.parse().map_err(|_| format!("{name}={p} is not a port number")),
            Err(_) => Ok(default),
        }
    };
    // the portal on PORT (3000), the API and its identity provider beside it on API_PORT (3001)
    let portal_port = port_var("PORT", 3000)?;
    let port = port_var("API_PORT", 3001)?;
    let portal_base = std::env::var("PORTAL_BASE_URL").unwrap_or_else(|_| format!("http://127.0.0.1:{portal_port}"));
    let portal_base = portal_base.trim_end_matches('/').to_string();
    let tpl = template::load_default()?;
    let sdk = cms_aws::sdk_config().await;
    let clients = resources::Clients::new(&sdk);
    let res = resources::create(&clients, &tpl, PREFIX).await?;
    let store = cms_aws::DynamoStore::new(clients.dynamodb.clone(), &res.table_name);
    let started = std::time::Instant::now();
    let seeded = seed::seed_full(&store).await.map_err(|e| format!("seeding: {e}"))?;
    tracing::info!(items = seeded, ms = started.elapsed().as_millis() as u64, "reference data seeded");

    let key_path = jwt::default_key_path();
    let idp = Arc::new(LocalIdp::load_or_create(&key_path, jwt::issuer_for(port))?);
    // email links go to the portal's case page: {PORTAL_BASE_URL}/cases/<id>
    let env = cms_aws::Env { portal_base_url: Some(portal_base.clone()), ..res.env() };
    let registry = registry::functions(&sdk, &env);
    for f in &tpl.functions {
        let missing_http = !f.http_routes.is_empty() && registry.http(&f.logical_id).is_none();
        let missing_event = !f.event_rules.is_empty() && registry.event(&f.logical_id).is_none();
        if missing_http || missing_event {
            tracing::warn!(function = %f.logical_id, "no local handler registered: its routes answer 501 / its events stay queued");
        }
    }

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    // CORS exactly as template.yaml's HttpApi has it, PortalBaseUrl being the local portal
    let params = std::collections::HashMap::from([("PortalBaseUrl".to_string(), portal_base.clone())]);
    let tpl_text = std::fs::read_to_string(template::default_path()).map_err(|e| format!("template.yaml: {e}"))?;
    let cors = template::http_api_cors(&tpl_text, &params)?;
    let redirect_uri = format!("{portal_base}/auth/callback");
    let oidc = Arc::new(oidc::Oidc::new(idp.clone(), idp.audience(), vec![redirect_uri], seed::demo_users()));
    let state = Arc::new(server::AppState { routes: tpl.routes(), registry: registry.clone(), idp: idp.clone(), oidc: Some(oidc), cors });
    let (addr, server_task) = server::spawn(SocketAddr::from(([127, 0, 0, 1], port)), state, stop_rx.clone())
        .await
        .map_err(|e| format!("cannot listen on 127.0.0.1:{port}: {e} (set API_PORT to use another port)"))?;
    let site = Arc::new(portal::PortalSite {
        dist: portal::default_dist(),
        config: portal::PortalConfig {
            api_url: format!("http://{addr}"),
            issuer: idp.issuer().to_string(),
            client_id: idp.audience().to_string(),
            extra_connect: vec![endpoint.clone()],
        },
    });
    let (portal_addr, portal_task) = portal::spawn(SocketAddr::from(([127, 0, 0, 1], portal_port)), site, stop_rx.clone())
        .await
        .map_err(|e| format!("cannot listen on 127.0.0.1:{portal_port}: {e} (set PORT to use another port)"))?;
    let poller_task = tokio::spawn(poller::run(clients.sqs.clone(), res.rules.clone(), registry, stop_rx));

    let mut out = String::new();
    out.push_str("\nAttendance Services CMS - local environment\n");
    out.push_str(&format!("  Portal:     http://{portal_addr}/   (sign in as any demo user below)\n"));
    out.push_str(&format!("  API:        http://{addr}\n"));
    out.push_str(&format!("  Emulator:   {endpoint}   (sent emails: {endpoint}/_local/outbox)\n"));
    out.push_str(&format!("  Outbox:     emails are recorded, not delivered: AWS_ENDPOINT_URL={endpoint} infra/outbox [case-id]\n"));
    if let Some(b) = &res.bucket_name {
        out.push_str(&format!("  Files:      bucket {b} (uploads confirmed through S3 -> EventBridge -> confirm-upload)\n"));
    }
    out.push_str(&format!("  Table:      {}\n  Event bus:  {}\n", res.table_name, res.bus_name));
    out.push_str(&format!("  Token issuer {} audience {}\n", idp.issuer(), idp.audience()));
    out.push_str(&format!(
        "  Routes:     {}\n",
        tpl.routes().iter().map(|r| format!("{} {}", r.method, r.path)).collect::<Vec<_>>().join(", ")
    ));
    out.push_str(&format!("  Seeded {seeded} reference items (84 catchments, 2,500 schools, 170 ISPs, demo users)\n\n"));
    out.push_str("Demo users (tokens valid 12 h; more: cargo run -q -p cms-local --bin mint-token -- <user-id>):\n");
    for u in seed::demo_users() {
        out.push_str(&format!("  {:<22} {:<24} {:<14} {}\n", u.id.as_str(), u.role.as_str(), u.org_id, u.display_name));
    }
    out.push('\n');
    let mut exports = format!("export API=http://{addr}\n");
    for u in seed::demo_users() {
        exports.push_str(&format!("export TOKEN_{}={}\n", env_name(u.id.as_str()), idp.mint(&u, TOKEN_TTL)));
    }
    // LOCAL_TOKENS_FILE: infra/test's own stack keeps clear of a running infra/up's file
    let tokens_file = std::env::var_os("LOCAL_TOKENS_FILE")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| template::repo_root().join(".local/tokens.env"));
    std::fs::write(&tokens_file, &exports).map_err(|e| format!("writing {}: {e}", tokens_file.display()))?;
    out.push_str(&exports);
    out.push_str("\nThe same lines are in .local/tokens.env: in another shell, `source .local/tokens.env`.\nTry:  curl -s -H \"Authorization: Bearer $TOKEN_LEAD_1001\" $API/cases\n\nCtrl-C to stop.\n");
    println!("{out}");

    tokio::signal::ctrl_c().await.map_err(|e| e.to_string())?;
    println!("stopping...");
    let _ = stop_tx.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        let _ = server_task.await;
        let _ = poller_task.await;
        let _ = portal_task.await;
    })
    .await;
    Ok(())
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("RUST_LOG").unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_target(false)
        .init();
    if let Err(e) = run().await {
        eprintln!("local-api: {e}");
        std::process::exit(1);
    }
}
