//! `cold-start-fixture`: the data `infra/bench-cold-start` needs (not a test, nothing deployed).
//! Against the emulator at AWS_ENDPOINT_URL it creates fresh resources from template.yaml under a
//! unique prefix (table, bus, secrets: as the tests do), loads the minimal reference data (the
//! demo schools, catchments, providers and users), commits one open case of school 1001 (submitted
//! by `lead-1001`, allocated to P01, assigned to `cm-p01`, both meetings recorded, built through
//! the domain as `fixtures` does), and prints one JSON object: the functions' environment (the
//! names template.yaml's `Environment` gives them) and the case's id.

use cms_local::fixtures::{self, CaseSpec, Ends};

async fn run() -> Result<serde_json::Value, String> {
    let env = cms_local::fresh_env("coldstart").await?;
    let spec = CaseSpec {
        date_of_birth: chrono::NaiveDate::from_ymd_opt(2015, 3, 9).ok_or("date")?,
        at: cms_domain::schedule::nz_time(chrono::Utc::now().date_naive() - chrono::Duration::days(20), 10),
        ends: Ends::Open,
        school_met: true,
        whanau_met: true,
    };
    let case = fixtures::commit(&env.store, &spec, true).await.map_err(|e| format!("the case: {e}"))?;
    let names = env.env();
    Ok(serde_json::json!({
        "env": {
            "TABLE_NAME": names.table_name,
            "EVENT_BUS_NAME": names.bus_name,
            "STUDENT_KEY_SECRET_ID": names.student_key_secret_id,
        },
        "caseId": case.id.to_string(),
        "schoolId": case.school_id.to_string(),
    }))
}

#[tokio::main]
async fn main() {
    match run().await {
        Ok(report) => println!("{report}"),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}
