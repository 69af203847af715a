//! `reopen-scheduler`: the nightly job, run by EventBridge Scheduler at 01:00 Pacific/Auckland
//! (locally: `cargo run -p cms-local --bin run-scheduler`).
//!
//! 1. Reads, shard by shard and page by page, only the cases the sparse `ByDue` index says are due
//!    on or before today (never a Scan), and applies [`cms_domain::schedule::run_due`] to each:
//!    a paused case of a child who turned six reopens; each SLA clock breached by today is reported
//!    once (`SlaBreached`). Each change is one transaction conditioned on the case's version (plus
//!    a once-only marker per breach); on a conflict the case is re-read and decided again once,
//!    then left for the next run.
//! 2. Sweeps the outbox: events committed more than a minute ago and still not confirmed published
//!    (a publish that failed, a crash between commit and publish) are published and cleared.
//! 3. [`remind_drafts`]: a draft untouched for 83 days (it expires at 90) — the `ByDue` index's
//!    draft partition says which — gets one email to its author, once per save (a marker).
//! 4. [`send_digests`]: each user who chose the daily digest gets one email summarising the
//!    updates kept for them since the last one (no child details); sent entries are cleared.
//! 5. [`export_facts`]: every case's de-identified facts, one JSON line each, to the export
//!    bucket under `case-facts/date=<today>/` (docs/export.md), for Athena and DuckDB.
//!
//! Safe to run twice and to resume after a crash: a committed change moves the case's due date past
//! today (or out of the index), so a second run finds nothing for it; whatever was not committed is
//! still in the index; whatever was committed but not published is still in the outbox.
//! Logs counts (and case ids on failures), never a child's details.

use chrono::{DateTime, NaiveDate, Utc};
use cms_aws::{DynamoStore, EventBridgeBus};
use cms_domain::audit::AuditRecord;
use cms_domain::case::Marker;
use cms_domain::case::{Case, CaseChange};
use cms_domain::outbox::publish_and_clear;
use cms_domain::ports::{AuditLog, CaseStore, Clock, DueStore, EventBus, Mailer, ReferenceData, StoreError, SystemClock};
use cms_domain::schedule::{self, SHARDS};
use cms_domain::usecase::{commit_change, held_or_read, Failed, Publish, Ran, Step};
use futures::stream::{self, StreamExt};
use serde::Serialize;

/// What this handler needs from outside (the store, the bus, the clock).
pub use cms_domain::ports::CaseServices as Deps;

pub type AwsDeps = Deps<DynamoStore, EventBridgeBus, SystemClock>;

pub fn aws_deps(sdk: &aws_config::SdkConfig, env: &cms_aws::Env) -> AwsDeps {
    cms_aws::case_services(sdk, env)
}

/// How a run pages and how many cases it works on at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Items per index query (one page).
    pub page_size: u32,
    /// Cases of a page processed concurrently. 1 by default: a night's work is small (tens to
    /// hundreds of cases) and sequential commits never contend with each other. The emulator
    /// (moto) needs 1: its transactions are not safe to run concurrently on one table.
    pub concurrency: usize,
    /// Outbox events younger than this are left to the function that wrote them.
    pub outbox_grace_secs: i64,
}

impl Default for Options {
    fn default() -> Self {
        Options { page_size: 100, concurrency: 1, outbox_grace_secs: 60 }
    }
}

/// What one run did (counts only).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// The New Zealand date the run worked for.
    pub today: NaiveDate,
    /// Index queries made on the due index (pages).
    pub queries: u64,
    /// Cases the due index returned (everything read; the index holds only what is due).
    pub read: u64,
    /// Of those, cases that had something due and were changed.
    pub due: u64,
    pub reopened: u64,
    pub breaches: u64,
    /// Cases another writer changed first, re-read and decided again.
    pub retried: u64,
    /// Cases left for the next run (a second conflict, or the store failing).
    pub errors: u64,
    /// Changes committed whose events could not be published yet (the outbox keeps them).
    pub unpublished: u64,
    /// Stale outbox events found, and how many of them were published now.
    pub outbox_found: u64,
    pub outbox_published: u64,
}

/// What [`remind_drafts`] did (counts only).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Reminders {
    /// Drafts whose reminder is due (sent now or before).
    pub due: u64,
    pub sent: u64,
    /// Reminders that could not be sent (left for the next run).
    pub errors: u64,
}

/// Remind each draft's author, once per save, that the draft will expire in
/// [`cms_domain::referral::DRAFT_REMINDER_DAYS`] days (with a link; no student details).
pub async fn remind_drafts<S, M, C>(store: &S, mailer: &M, clock: &C, portal_base_url: &str) -> Result<Reminders, StoreError>
where
    S: CaseStore + DueStore + ReferenceData + cms_domain::ports::ReferralStore,
    M: Mailer,
    C: Clock,
{
    let today = clock.today_nz();
    let mut out = Reminders::default();
    let mut cursor = None;
    loop {
        let page = store.drafts_to_remind(today, 100, cursor.take()).await?;
        for draft in page.items {
            // the index is eventually consistent: only a draft still a draft, at that save
            let Some(draft) = store.referral(&draft.id).await?.filter(|d| d.reminder_due_on().is_some_and(|d| d <= today)) else {
                continue;
            };
            out.due += 1;
            let key = draft.reminder_key();
            if store.marker(&key).await?.is_some() {
                continue;
            }
            let Some(author) = store.user(&draft.created_by).await? else {
                tracing::warn!(referral_id = %draft.id, "draft reminder: its author is no longer a user");
                continue;
            };
            let Some(email) = cms_domain::notification::draft_reminder(&draft, &author.email, portal_base_url) else { continue };
            let expires_at = draft.expires_at().map(|t| t + chrono::Duration::days(30));
            let marker = Marker { key: key.clone(), fingerprint: "draft-reminder".into(), answer: None, expires_at };
            if !store.claim_marker(&marker).await? {
                continue;
            }
            match mailer.send(&email).await {
                Ok(()) => {
                    out.sent += 1;
                    tracing::info!(referral_id = %draft.id, "draft reminder sent");
                }
                Err(e) => {
                    out.errors += 1;
                    tracing::error!(referral_id = %draft.id, error = %e, "draft reminder not sent; left for the next run");
                    let _ = store.release_marker(&key).await;
                }
            }
        }
        match page.next {
            Some(n) => cursor = Some(n),
            None => break Ok(out),
        }
    }
}

/// What [`send_digests`] did (counts only).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Digests {
    /// Users with updates waiting.
    pub users: u64,
    /// Summaries sent now, and the updates they held.
    pub sent: u64,
    pub updates: u64,
    /// Summaries sent earlier tonight (a retried run) whose entries were cleared now.
    pub resumed: u64,
    /// Users no longer in the reference data: their waiting updates were dropped.
    pub dropped: u64,
    /// Summaries that could not be sent or cleared (left for the scheduler's retry or the next run).
    pub errors: u64,
}

/// Send each user who chose the daily digest one email with the updates kept for them, then clear
/// those entries. Once per user and night: a marker naming the entries a summary held is claimed
/// before it is sent (released if sending fails, so nothing is lost); a retry that finds the marker
/// clears those entries without sending them again. Updates kept while the run goes wait for the
/// next one.
pub async fn send_digests<S, M, C>(store: &S, mailer: &M, clock: &C, portal_base_url: &str) -> Result<Digests, StoreError>
where
    S: CaseStore + cms_domain::ports::DigestStore,
    M: Mailer,
    C: Clock,
{
    use cms_domain::digest::by_user;
    let mut out = Digests::default();
    let mut cursor = None;
    // a user's entries may run on to the next page: their run is finished with it
    let mut carry = Vec::new();
    loop {
        let page = store.digest_entries(500, cursor.take()).await?;
        let mut runs = by_user(std::mem::take(&mut carry).into_iter().chain(page.items).collect());
        if page.next.is_some() {
            if let Some((_, last)) = runs.pop() {
                carry = last;
            }
        }
        for (user, entries) in runs {
            out.users += 1;
            send_digest(store, mailer, clock, portal_base_url, &user, &entries, &mut out).await;
        }
        match page.next {
            Some(n) => cursor = Some(n),
            None => break Ok(out),
        }
    }
}

async fn send_digest<S, M, C>(
    store: &S,
    mailer: &M,
    clock: &C,
    portal_base_url: &str,
    user: &cms_domain::ids::UserId,
    entries: &[cms_domain::digest::DigestEntry],
    out: &mut Digests,
) where
    S: CaseStore + cms_domain::ports::DigestStore,
    M: Mailer,
    C: Clock,
{
    use cms_domain::digest::{digest_email, held, sent_key, was_held};
    let today = clock.today_nz();
    let key = sent_key(user, today);
    let clear = |list: Vec<cms_domain::digest::DigestEntry>| async move { store.clear_digest(&list).await };
    let result: Result<(), String> = async {
        if let Some((_, answer)) = store.marker(&key).await.map_err(|e| e.to_string())? {
            // sent earlier tonight: clear what it held; anything newer waits for tomorrow
            let sent: Vec<_> = entries.iter().filter(|e| was_held(answer.as_deref().unwrap_or("[]"), e)).cloned().collect();
            if !sent.is_empty() {
                clear(sent).await.map_err(|e| e.to_string())?;
                out.resumed += 1;
            }
            return Ok(());
        }
        let Some((record, _)) = store.recipient(user).await.map_err(|e| e.to_string())? else {
            tracing::warn!(user_id = %user, updates = entries.len(), "digest: the user is no longer in the reference data; their updates are dropped");
            clear(entries.to_vec()).await.map_err(|e| e.to_string())?;
            out.dropped += 1;
            return Ok(());
        };
        let marker = Marker {
            key: key.clone(),
            fingerprint: "daily-digest".into(),
            answer: Some(held(entries)),
            expires_at: Some(clock.now() + chrono::Duration::days(3)),
        };
        if !store.claim_marker(&marker).await.map_err(|e| e.to_string())? {
            return Ok(()); // another run is sending it
        }
        let email = digest_email(entries, &record.email, portal_base_url, today);
        if let Err(e) = mailer.send(&email).await {
            let _ = store.release_marker(&key).await;
            return Err(format!("not sent: {e}"));
        }
        out.sent += 1;
        out.updates += entries.len() as u64;
        tracing::info!(user_id = %user, updates = entries.len(), "daily digest sent");
        // if this fails, a retry tonight finds the marker and clears them without sending again
        clear(entries.to_vec()).await.map_err(|e| format!("sent, not cleared: {e}"))
    }
    .await;
    if let Err(why) = result {
        out.errors += 1;
        tracing::error!(user_id = %user, error = %why, "daily digest left for the retry or the next run");
    }
}

/// What [`export_facts`] wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Exported {
    pub key: String,
    pub rows: u64,
    pub bytes: u64,
    /// Queries made (pages of facts).
    pub queries: u64,
}

/// Write every case's counted facts (de-identified: [`cms_domain::dashboard::export_line`]) to
/// tonight's export file, replacing it: a second run the same night writes the same file again.
/// The facts are read shard by shard, a page at a time (never a Scan).
pub async fn export_facts<S, X, C>(store: &S, sink: &X, clock: &C) -> Result<Exported, StoreError>
where
    S: cms_domain::ports::DashboardStore,
    X: cms_domain::ports::ExportSink,
    C: Clock,
{
    use cms_domain::dashboard::{export_key, export_line};
    let mut body = Vec::new();
    let mut out = Exported { key: export_key(clock.today_nz()), ..Exported::default() };
    for shard in 0..SHARDS {
        let mut cursor = None;
        loop {
            let page = store.facts_page(shard, 1000, cursor.take()).await?;
            out.queries += 1;
            for f in &page.items {
                body.extend_from_slice(export_line(f).as_bytes());
                body.push(b'\n');
                out.rows += 1;
            }
            match page.next {
                Some(n) => cursor = Some(n),
                None => break,
            }
        }
    }
    out.bytes = body.len() as u64;
    sink.put(&out.key, body, "application/x-ndjson").await?;
    tracing::info!(rows = out.rows, bytes = out.bytes, key = %out.key, "case facts exported");
    Ok(out)
}

/// A digest run that could not read its entries, or left summaries unsent, is retried (safely:
/// a summary sent is marked).
pub fn digests_or_retry(r: Result<Digests, StoreError>) -> Result<Digests, SchedulerError> {
    let r = r?;
    if r.errors > 0 {
        return Err(SchedulerError::DigestsLeft(r.errors));
    }
    Ok(r)
}

/// A reminders run that could not read its index, or left reminders unsent, is retried (safely:
/// a reminder sent is marked).
pub fn reminders_or_retry(r: Result<Reminders, StoreError>) -> Result<Reminders, SchedulerError> {
    let r = r?;
    if r.errors > 0 {
        return Err(SchedulerError::RemindersLeft(r.errors));
    }
    Ok(r)
}

#[derive(Debug, thiserror::Error)]
pub enum SchedulerError {
    #[error("{0} draft reminder(s) could not be sent; they are left for the next run")]
    RemindersLeft(u64),
    #[error("{0} daily digest(s) could not be sent or cleared; they are left for the next run")]
    DigestsLeft(u64),
    /// The due index or the outbox could not be read: the run could not see its work.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Some cases were left for the next run; the scheduler's retry (or tomorrow) finishes them.
    #[error("{} case(s) could not be updated and {} event(s) not published; they are left for the next run", .0.errors, .0.outbox_found - .0.outbox_published)]
    Incomplete(Box<Summary>),
}

/// The Lambda entry point: the schedule's input is ignored (the date comes from the clock).
/// A run that left work behind returns `Err`, so EventBridge Scheduler retries it (safely).
pub async fn handle<S, B, C>(deps: &Deps<S, B, C>, _input: serde_json::Value) -> Result<Summary, SchedulerError>
where
    S: CaseStore + DueStore + AuditLog,
    B: EventBus,
    C: Clock,
{
    let summary = run(deps, &Options::default()).await?;
    if summary.errors > 0 || summary.outbox_published < summary.outbox_found {
        return Err(SchedulerError::Incomplete(Box::new(summary)));
    }
    Ok(summary)
}

/// One run for the clock's New Zealand date. `Err` only when an index cannot be read; failures on
/// single cases are counted in the summary and left for the next run.
pub async fn run<S, B, C>(deps: &Deps<S, B, C>, opts: &Options) -> Result<Summary, SchedulerError>
where
    S: CaseStore + DueStore + AuditLog,
    B: EventBus,
    C: Clock,
{
    let now = deps.clock.now();
    let today = deps.clock.today_nz();
    let mut sum = Summary { today, ..Summary::default() };
    // the run's id: every audit entry this run writes carries it
    let run_id = cms_domain::ids::EventId::new_ulid().to_string();
    let result = async {
        for shard in 0..SHARDS {
            let mut cursor = None;
            loop {
                let page = deps.store.due_cases(shard, today, opts.page_size, cursor.take()).await?;
                sum.queries += 1;
                sum.read += page.items.len() as u64;
                let results: Vec<CaseResult> = stream::iter(page.items)
                    .map(|case| process(deps, case, today, now, &run_id))
                    .buffer_unordered(opts.concurrency.max(1))
                    .collect()
                    .await;
                for r in results {
                    sum.add(r);
                }
                match page.next {
                    Some(next) => cursor = Some(next),
                    None => break,
                }
            }
        }
        sweep_outbox(deps, now, opts, &mut sum).await
    }
    .await;
    tracing::info!(
        today = %sum.today,
        queries = sum.queries,
        read = sum.read,
        due = sum.due,
        reopened = sum.reopened,
        breaches = sum.breaches,
        retried = sum.retried,
        errors = sum.errors,
        unpublished = sum.unpublished,
        outbox_found = sum.outbox_found,
        outbox_published = sum.outbox_published,
        complete = result.is_ok(),
        "reopen-scheduler run"
    );
    result.map(|()| sum)
}

/// What happened to one case read from the index.
#[derive(Debug, Clone, Copy, Default)]
struct CaseResult {
    due: bool,
    reopened: bool,
    breaches: u64,
    retried: bool,
    failed: bool,
    unpublished: bool,
}

impl Summary {
    fn add(&mut self, r: CaseResult) {
        self.due += u64::from(r.due);
        self.reopened += u64::from(r.reopened);
        self.breaches += r.breaches;
        self.retried += u64::from(r.retried);
        self.errors += u64::from(r.failed);
        self.unpublished += u64::from(r.unpublished);
    }
}

fn counts(change: &CaseChange) -> (bool, u64) {
    let reopened = change.events.iter().any(|e| e.detail_type() == "CaseReopened");
    let breaches = change.events.iter().filter(|e| e.detail_type() == "SlaBreached").count() as u64;
    (reopened, breaches)
}

async fn process<S, B, C>(deps: &Deps<S, B, C>, case: Case, today: NaiveDate, now: DateTime<Utc>, run_id: &str) -> CaseResult
where
    S: CaseStore + DueStore + AuditLog,
    B: EventBus,
    C: Clock,
{
    let mut r = CaseResult::default();
    let id = &case.id.clone();
    let retried = &std::sync::atomic::AtomicBool::new(false);
    // the index copy may be stale: the version condition catches that, then we read it properly
    let mut first = Some(case);
    // a batch job: it clears what it published itself (no one waits on it; the next night's sweep
    // then finds nothing to publish again)
    let ran = commit_change(&deps.store, &deps.bus, Publish::AndClear, |n| {
        let held = if n == 0 { first.take() } else { None };
        async move {
            if held.is_none() {
                retried.store(true, std::sync::atomic::Ordering::Relaxed);
            }
            let Some(case) = held_or_read(&deps.store, id, held).await? else { return Ok(Step::Stop(())) };
            let Some(mut ch) = schedule::run_due(&case, today, now) else { return Ok(Step::Stop(())) };
            let (reopened, breaches) = counts(&ch);
            if reopened {
                ch = ch.audited(AuditRecord::system("reopen-scheduler", id, "case.reopened", run_id, now));
            }
            if breaches > 0 {
                ch = ch.audited(AuditRecord::system("reopen-scheduler", id, "case.sla_breached", run_id, now));
            }
            Ok::<_, Failed<()>>(Step::commit(ch, ()))
        }
    })
    .await;
    r.retried = retried.load(std::sync::atomic::Ordering::Relaxed);
    match ran {
        Ok(Ran::Committed { change, published, .. }) => {
            (r.reopened, r.breaches) = counts(&change);
            r.due = true;
            r.unpublished = !published;
        }
        Ok(Ran::Stopped(())) => {}
        Err(f) => {
            let why = match f {
                Failed::Store(e) => e.to_string(),
                _ => "changed by someone else on every attempt".into(),
            };
            tracing::warn!(case_id = %id, error = %why, "case could not be updated; left for the next run");
            r.failed = true;
        }
    }
    r
}

/// Publish events that have sat in an outbox longer than the grace period (publish failed or the
/// writer crashed), a case at a time, and clear them. Consumers de-duplicate on `eventId`.
async fn sweep_outbox<S, B, C>(deps: &Deps<S, B, C>, now: DateTime<Utc>, opts: &Options, sum: &mut Summary) -> Result<(), SchedulerError>
where
    S: CaseStore + DueStore + AuditLog,
    B: EventBus,
    C: Clock,
{
    let before = now - chrono::Duration::seconds(opts.outbox_grace_secs.max(0));
    let mut cursor = None;
    loop {
        let page = deps.store.stale_outbox(before, opts.page_size, cursor.take()).await?;
        sum.outbox_found += page.items.len() as u64;
        // group by case, keeping the outbox's order
        let mut groups: Vec<(cms_domain::ids::CaseId, Vec<cms_domain::events::EventEnvelope>)> = Vec::new();
        for (case_id, event) in page.items {
            match groups.iter_mut().find(|(c, _)| *c == case_id) {
                Some((_, events)) => events.push(event),
                None => groups.push((case_id, vec![event])),
            }
        }
        for (case_id, events) in groups {
            if publish_and_clear(&deps.store, &deps.bus, &case_id, &events).await {
                sum.outbox_published += events.len() as u64;
            }
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => return Ok(()),
        }
    }
}
