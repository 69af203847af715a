//! The reference-data import from a folder (issue 17): the five CSV files of
//! docs/reference-data.md, checked and synchronised into the table by [`cms_aws::import`] (the
//! same code the scheduled `sync-reference` function runs on the files of its bucket).

pub use cms_aws::import::*;
use cms_aws::DynamoStore;
use std::collections::BTreeMap;
use std::path::Path;

/// The files of a folder (each of [`FILES`] that exists).
pub fn read_dir(dir: &Path) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for (file, _) in FILES {
        let path = dir.join(file);
        if path.exists() {
            out.insert(file.to_string(), std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?);
        }
    }
    Ok(out)
}

/// Check a folder's files and, when there is no problem, synchronise the table with them
/// ([`sync`]): what was written and removed, or every problem.
pub async fn import_dir(store: &DynamoStore, dir: &Path, options: SyncOptions) -> Result<Result<Synced, Vec<Problem>>, String> {
    sync(store, &read_dir(dir)?, options).await.map_err(|e| format!("writing: {e} (nothing is lost: run the import again to finish it)"))
}

/// Where the demo files are kept in the repository.
pub fn demo_dir() -> std::path::PathBuf {
    crate::template::repo_root().join("infra/reference/demo")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> BTreeMap<String, String> {
        to_files(&crate::seed::minimal())
    }

    #[test]
    fn the_demo_files_are_the_minimal_seed_and_import_as_it() {
        let files = read_dir(&demo_dir()).expect("infra/reference/demo");
        assert_eq!(
            files,
            demo(),
            "infra/reference/demo differs from the seed: run `cargo run -p cms-local --bin import-reference -- --write-demo`"
        );
        let items = parse(&files).expect("the demo files have no problem");
        assert_eq!(format!("{:?}", items.len()), format!("{:?}", crate::seed::minimal().len()));
        // the same records as the seed (in the files' order)
        let mut a: Vec<String> = items.iter().map(|i| format!("{i:?}")).collect();
        let mut b: Vec<String> = crate::seed::minimal().iter().map(|i| format!("{i:?}")).collect();
        a.sort();
        b.sort();
        assert_eq!(a, b);
    }

    #[test]
    fn every_problem_is_reported_with_its_file_line_and_column() {
        let mut files = demo();
        let users = files.get_mut("users.csv").unwrap();
        users.push_str("new-1,teacher,1001,new@school.example.nz,New Person\n");
        users.push_str("new-2,attendance_lead,9999,not-an-email,Other Person\n");
        users.push_str("lead-1001,attendance_lead,1001,lead@school.example.nz,Twice\n");
        let schools = files.get_mut("schools.csv").unwrap();
        schools.push_str("2001,New School,NOPE,tai-tokerau,\n");
        let providers = files.get_mut("providers.csv").unwrap();
        providers.push_str("P99,New Provider,catchment,C01,queue@p99.example.nz,-5\n");
        files.remove("localities.csv");
        let problems = parse(&files).unwrap_err();
        let text: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        let has = |needle: &str| assert!(text.iter().any(|t| t.contains(needle)), "{needle:?} not in {text:#?}");
        has("localities.csv: the file is missing");
        has("role: \"teacher\" is not a role");
        has("org_id: \"9999\" is not a school in the files");
        has("email: \"not-an-email\" is not an email address");
        has("id: \"lead-1001\" is also on line");
        has("catchment_id: \"NOPE\" is not a catchment in catchments.csv");
        has("contract_dollars_per_year: \"-5\" is not an amount in dollars");
        assert!(text.iter().all(|t| t.contains(".csv")), "{text:?}");
        // a wrong or missing column is named
        let mut files = demo();
        let c = files.get_mut("catchments.csv").unwrap();
        *c = c.replacen("region_id", "region", 1);
        let text: Vec<String> = parse(&files).unwrap_err().iter().map(|p| p.to_string()).collect();
        assert!(text.iter().any(|t| t == "catchments.csv:1 region_id: this column is missing from the header"), "{text:?}");
    }
}
