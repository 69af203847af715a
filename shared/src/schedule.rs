//! The nightly job's rules: what is due for a case, and what the job does about it.
//!
//! Two things fall due on a New Zealand date without anyone touching the case:
//!
//! - a **Paused** case reopens on the child's sixth birthday (29 February → 1 March in a common
//!   year, as [`crate::student::birthday`] says); and
//! - an **SLA clock** that was not met is **breached** on the first day after its due date
//!   ([`crate::sla`]): `SlaBreached` is reported once per clock.
//!
//! [`next_due`] is the earliest such date; the store writes it into the sparse `ByDue` index
//! (`duePk = DUE#<shard>`, `dueSk = <date>#<caseId>`) every time the case is written, so the job
//! reads only the cases due on or before today (the adapter's ByDue sort key) — never a Scan. A case with
//! nothing due is not in the index at all. [`run_due`] makes the change; once made, the case's next
//! due date is in the future (or there is none), so a second run on the same day finds nothing.
//!
//! Which statuses keep the SLA clocks running (the seeds: "meets the school within 5 working days
//! and the student/whānau within 10 business days **of referral**" — a deadline fixed by the
//! referral date, not by the status):
//!
//! - **Provider Queue, Open, Transition**: running. The provider holds the case; a transition
//!   before the meetings does not excuse them.
//! - **Paused**: suspended. The whānau has withdrawn a child under six and chosen to wait; no
//!   breach is reported while paused. If the case reopens with a meeting still unrecorded after its
//!   due date, the breach is reported by the next run (the deadline itself never moves).
//! - **Awaiting allocation, CIT review**: not reported — no provider holds the case yet. Once
//!   allocated, an overdue clock is reported by the next run.
//! - **Closed**: nothing is due.

use crate::case::{By, Case, CaseChange, CaseStatus, Marker, TimelineEntry, TimelineKind};
use crate::events::{DomainEvent, EventEnvelope, ReopenTrigger};
use crate::ids::CaseId;
use crate::sla::{self, SlaKind};
use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};

/// Partitions of the due index, so 80,000 cases do not sit under one partition key.
pub const SHARDS: u32 = 4;

/// The process name the timeline records for the nightly job.
pub const PROCESS: &str = "reopen-scheduler";

/// How long a breach marker is kept (the case's `breached` list is the lasting record; the marker
/// only guards concurrent runs).
const MARKER_DAYS: i64 = 400;

/// The shard of a case: FNV-1a of its id (stable across builds and platforms), modulo [`SHARDS`].
pub fn shard(id: &CaseId) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in id.as_str().bytes() {
        h ^= b as u32;
        h = h.wrapping_mul(0x0100_0193);
    }
    h % SHARDS
}

/// The instant `hour`:00 on `date` in New Zealand (for clocks in tests, the local trigger command
/// and the benchmark); falls back to UTC for an hour that does not exist locally.
pub fn nz_time(date: NaiveDate, hour: u32) -> DateTime<Utc> {
    let naive = date.and_hms_opt(hour.min(23), 0, 0).unwrap_or_default();
    match chrono_tz::Pacific::Auckland.from_local_datetime(&naive).earliest() {
        Some(t) => t.with_timezone(&Utc),
        None => Utc.from_utc_datetime(&naive),
    }
}

/// The date a child born on `dob` turns six (29 February → 1 March in a common year); `None` only
/// at the edge of the calendar.
pub fn sixth_birthday(dob: NaiveDate) -> Option<NaiveDate> {
    let y = dob.year().checked_add(6)?;
    NaiveDate::from_ymd_opt(y, dob.month(), dob.day()).or_else(|| NaiveDate::from_ymd_opt(y, 3, 1))
}

/// Do the SLA clocks run (and get reported) in this status? See the module documentation.
pub fn clocks_run(status: CaseStatus) -> bool {
    matches!(status, CaseStatus::ProviderQueue | CaseStatus::Open | CaseStatus::Transition)
}

fn met_on(case: &Case, kind: SlaKind) -> Option<NaiveDate> {
    match kind {
        SlaKind::SchoolMeeting => case.school_met_on,
        SlaKind::WhanauMeeting => case.whanau_met_on,
    }
}

/// The first day `kind` is breached (the day after its due date), if it can still be breached.
fn breach_day(case: &Case, kind: SlaKind) -> Option<(NaiveDate, NaiveDate)> {
    if met_on(case, kind).is_some() || case.breached.contains(&kind) {
        return None;
    }
    let due = sla::due_date(kind, case.referred_at);
    due.succ_opt().map(|day| (due, day))
}

/// The earliest New Zealand date on which the nightly job has something to do for this case, or
/// `None` when nothing will ever fall due as things stand (the case leaves the due index).
pub fn next_due(case: &Case) -> Option<NaiveDate> {
    match case.status {
        // Paused: the clocks are suspended; only the sixth birthday is due.
        CaseStatus::Paused => sixth_birthday(case.student.date_of_birth),
        s if clocks_run(s) => SlaKind::ALL.into_iter().filter_map(|k| breach_day(case, k).map(|(_, day)| day)).min(),
        _ => None,
    }
}

/// The marker that makes a breach report once-only, even across concurrent runs. The due date is
/// part of the key so a case whose clocks restart (a new referral) can be reported again.
pub fn breach_marker_key(case_id: &CaseId, kind: SlaKind, due: NaiveDate) -> String {
    let kind = match kind {
        SlaKind::SchoolMeeting => "school_meeting",
        SlaKind::WhanauMeeting => "whanau_meeting",
    };
    format!("SLA#{case_id}#{kind}#{due}")
}

/// Do everything due on `today` (a New Zealand date) for this case, as one change: reopen a paused
/// case whose child is six, then report each SLA clock breached by today (once: the clock is added
/// to `breached`, with a once-only marker). `None` when nothing is due — so running twice on the
/// same day changes nothing the second time.
pub fn run_due(case: &Case, today: NaiveDate, now: DateTime<Utc>) -> Option<CaseChange> {
    let mut breaches = 0;
    let mut change = match crate::lifecycle::auto_reopen(case, ReopenTrigger::TurnedSix, now, today) {
        Some(c) => c,
        None => CaseChange::of(case, case.clone(), Vec::new(), Vec::new()),
    };
    if clocks_run(change.case.status) {
        for kind in SlaKind::ALL {
            let Some((due, day)) = breach_day(&change.case, kind) else {
                continue;
            };
            if day > today {
                continue;
            }
            let c = &mut change.case;
            c.breached.push(kind);
            change.timeline.push(TimelineEntry::new(&c.id, now, By::system(PROCESS), false, TimelineKind::SlaBreached { sla: kind, due }));
            change.events.push(EventEnvelope::new(
                now,
                DomainEvent::SlaBreached {
                    case_id: c.id.clone(),
                    case_type: c.case_type,
                    school_id: c.school_id.clone(),
                    provider_id: c.provider_id.clone(),
                    sla: kind,
                    due,
                },
            ));
            change.markers.push(Marker {
                key: breach_marker_key(&c.id, kind, due),
                fingerprint: due.to_string(),
                answer: None,
                expires_at: now.checked_add_signed(chrono::Duration::days(MARKER_DAYS)),
            });
            breaches += 1;
        }
    }
    if change.case.status == case.status && breaches == 0 {
        return None;
    }
    change.case.updated_at = now;
    change.case.version = case.version + 1;
    Some(change)
}

#[cfg(test)]
mod tests;
