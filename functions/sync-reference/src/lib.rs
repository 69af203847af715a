//! `sync-reference`: the scheduled reference-data sync (issue 17: "a command (and a Lambda for
//! scheduled syncs) that loads schools, catchments, providers (with contract value), localities
//! and users from documented CSV files into the table, idempotently, with a validation report
//! (row, column, problem) and nothing half-loaded; user roles synchronised from the Delegated
//! Authoriser's assignments").
//!
//! Run by EventBridge Scheduler every morning (05:00 Pacific/Auckland), and by hand whenever the
//! files change (`aws lambda invoke`). Reads the five files of docs/reference-data.md from the
//! reference bucket's `current/` folder (where the Ministry's export of schools and ESL's role
//! assignments are put), checks every row, and only when there is no problem synchronises the
//! table ([`cms_aws::import::sync`]: every record written, users no longer assigned a role
//! removed). Each run writes its report to `reports/latest.txt` and `reports/<time>.txt`; a run
//! with problems returns an error after writing the report, so the function's Errors alarm tells
//! the operators. Logs counts only (the report, in the encrypted bucket, names rows and values).

use chrono::{DateTime, Utc};
use cms_aws::import::{report, sync, S3ReferenceFiles, SyncOptions, Synced, REPORTS};
use cms_aws::DynamoStore;
use cms_domain::ports::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum SyncFailed {
    /// The files have problems: nothing was written; the report says which.
    #[error("{count} problem(s) in the reference files; nothing was written; the report is s3://{bucket}/{REPORTS}latest.txt")]
    Problems { count: usize, bucket: String },
    /// The bucket or the table failed: run again (what was written is written again, the same).
    #[error("the sync did not finish (run it again: nothing is lost): {0}")]
    Store(#[from] StoreError),
}

/// One run: read the files, sync, report.
pub async fn handle(store: &DynamoStore, files: &S3ReferenceFiles, now: DateTime<Utc>) -> Result<Synced, SyncFailed> {
    let texts = files.files().await?;
    match sync(store, &texts, SyncOptions::default()).await? {
        Ok(synced) => {
            files.report(now, &format!("{}\n", synced.summary())).await?;
            tracing::info!(records = synced.records, revoked = synced.revoked.len(), "reference data synchronised");
            Ok(synced)
        }
        Err(problems) => {
            files.report(now, &format!("{}\n", report(&problems))).await?;
            tracing::error!(problems = problems.len(), "reference files refused: nothing written");
            Err(SyncFailed::Problems { count: problems.len(), bucket: files.bucket().to_string() })
        }
    }
}
