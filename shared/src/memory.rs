//! In-memory adapters of the ports, for use-case tests that run in milliseconds (feature `memory`,
//! and the domain crate's own tests). They keep the conditions the DynamoDB adapter's transaction
//! keeps — a case written only at the version and audit head it was read with (or only if new),
//! once-only markers, one active case per student, notes and new file records only if new, a
//! settled file record only while pending — all checked before anything is applied, so a refused
//! commit writes nothing. They are not a substitute for the emulator tests of the real adapter.

use crate::audit::{link_after, AuditEntry};
use crate::case::{Attached, Case, CaseChange, CaseStatus, Marker, TimelineEntry};
use crate::events::EventEnvelope;
use crate::files::{FileRecord, FileStatus};
use crate::ids::{CaseId, EventId, SchoolId};
use crate::ports::{AuditLog, BusError, CaseListQuery, CaseStore, EventBus, Page, StoreError};
use crate::sensitive::SensitiveNote;
use crate::student::{StudentIdentity, StudentKey};
use async_trait::async_trait;
use chrono::NaiveDate;
use std::collections::HashMap;
use std::sync::Mutex;

/// Everything a [`MemoryStore`] holds.
#[derive(Default, Debug, Clone)]
pub struct State {
    pub cases: HashMap<CaseId, Case>,
    pub timeline: HashMap<CaseId, Vec<TimelineEntry>>,
    pub outbox: HashMap<CaseId, Vec<EventEnvelope>>,
    pub markers: HashMap<String, Marker>,
    pub active: HashMap<StudentKey, CaseId>,
    pub enrolments: HashMap<StudentKey, (SchoolId, NaiveDate)>,
    pub audit: HashMap<CaseId, Vec<AuditEntry>>,
    pub notes: HashMap<CaseId, Vec<SensitiveNote>>,
    pub files: HashMap<String, FileRecord>,
    /// Unmet Basic Needs Fund counters by (provider, contract year).
    pub funds: HashMap<(crate::ids::ProviderId, i32), u64>,
    /// Provider initiatives by id.
    pub initiatives: Vec<crate::initiatives::Initiative>,
    /// The dashboards: each case's counted facts, and each scope's counters.
    pub facts: HashMap<CaseId, crate::dashboard::CaseFacts>,
    pub counters: HashMap<String, std::collections::BTreeMap<String, i64>>,
    /// Commits applied and commits refused (a failed condition).
    pub commits: u32,
    pub conflicts: u32,
}

/// The case store in memory.
#[derive(Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// A copy of everything held (to compare before and after).
    pub fn snapshot(&self) -> State {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // a test that panicked while holding the lock must not hide the state from the others
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn file_key(f: &FileRecord) -> String {
    format!("{}/{}", f.case_id, f.file_id)
}

/// Every condition of `change` against `s`; `Conflict` for the first that fails.
fn check(s: &State, change: &CaseChange) -> Result<(), StoreError> {
    let c = &change.case;
    let stored = s.cases.get(&c.id);
    let held = |h: Option<&crate::audit::AuditHead>| h.map(|h| h.seq);
    match (change.expected_version, stored) {
        (None, None) => {}
        (Some(v), Some(old)) if old.version == v && held(old.audit_head.as_ref()) == held(c.audit_head.as_ref()) => {}
        _ => return Err(StoreError::Conflict),
    }
    if let Some(k) = &c.student_key {
        if s.active.get(k).is_some_and(|holder| holder != &c.id) {
            return Err(StoreError::Conflict);
        }
    }
    if change.markers.iter().any(|m| s.markers.contains_key(&m.key)) {
        return Err(StoreError::Conflict);
    }
    for a in &change.attached {
        let ok = match a {
            Attached::Note(n) => !s.notes.get(&c.id).is_some_and(|ns| ns.iter().any(|x| x.id == n.id)),
            Attached::File(f) => s.files.get(&file_key(f)).is_some_and(|r| r.status == FileStatus::Pending),
            Attached::NewFile(f) => !s.files.contains_key(&file_key(f)),
        };
        if !ok {
            return Err(StoreError::Conflict);
        }
    }
    if let Some(m) = &change.fund {
        if s.funds.get(&(m.provider_id.clone(), m.contract_year)).copied().unwrap_or(0) != m.seen_cents {
            return Err(StoreError::Conflict);
        }
    }
    Ok(())
}

#[async_trait]
impl crate::ports::FundStore for MemoryStore {
    async fn fund_spent(&self, provider: &crate::ids::ProviderId, contract_year: i32) -> Result<u64, StoreError> {
        Ok(self.lock().funds.get(&(provider.clone(), contract_year)).copied().unwrap_or(0))
    }
}

#[async_trait]
impl crate::ports::DashboardStore for MemoryStore {
    async fn counted_facts(&self, case: &CaseId) -> Result<Option<crate::dashboard::CaseFacts>, StoreError> {
        Ok(self.lock().facts.get(case).cloned())
    }
    async fn count(
        &self,
        facts: &crate::dashboard::CaseFacts,
        expected_version: Option<u64>,
        deltas: &std::collections::BTreeMap<crate::dashboard::Scope, std::collections::BTreeMap<String, i64>>,
    ) -> Result<(), StoreError> {
        let mut s = self.lock();
        if s.facts.get(&facts.case_id).map(|f| f.version) != expected_version {
            return Err(StoreError::Conflict);
        }
        s.facts.insert(facts.case_id.clone(), facts.clone());
        for (scope, cs) in deltas {
            let kept = s.counters.entry(scope.key()).or_default();
            for (k, v) in cs {
                *kept.entry(k.clone()).or_default() += v;
            }
        }
        Ok(())
    }
    async fn facts_page(&self, shard: u32, _limit: u32, _cursor: Option<String>) -> Result<Page<crate::dashboard::CaseFacts>, StoreError> {
        let mut items: Vec<_> = self.lock().facts.values().filter(|f| crate::schedule::shard(&f.case_id) == shard).cloned().collect();
        items.sort_by(|a, b| a.case_id.as_str().cmp(b.case_id.as_str()));
        Ok(Page { items, next: None })
    }
    async fn counters(&self, scope: &crate::dashboard::Scope) -> Result<std::collections::BTreeMap<String, i64>, StoreError> {
        let mut c = self.lock().counters.get(&scope.key()).cloned().unwrap_or_default();
        c.retain(|_, v| *v != 0);
        Ok(c)
    }
}

#[async_trait]
impl crate::ports::InitiativeStore for MemoryStore {
    async fn create_initiative(&self, i: &crate::initiatives::Initiative) -> Result<(), StoreError> {
        let mut s = self.lock();
        if s.initiatives.iter().any(|x| x.id == i.id) {
            return Err(StoreError::Conflict);
        }
        s.initiatives.push(i.clone());
        Ok(())
    }
    async fn update_initiative(&self, i: &crate::initiatives::Initiative, expected_version: u64) -> Result<(), StoreError> {
        let mut s = self.lock();
        match s.initiatives.iter_mut().find(|x| x.id == i.id && x.provider_id == i.provider_id) {
            Some(x) if x.version == expected_version => {
                *x = i.clone();
                Ok(())
            }
            _ => Err(StoreError::Conflict),
        }
    }
    async fn initiative(
        &self,
        provider: &crate::ids::ProviderId,
        id: &crate::ids::EntryId,
    ) -> Result<Option<crate::initiatives::Initiative>, StoreError> {
        Ok(self.lock().initiatives.iter().find(|x| &x.id == id && &x.provider_id == provider).cloned())
    }
    async fn initiatives(&self, provider: &crate::ids::ProviderId) -> Result<Vec<crate::initiatives::Initiative>, StoreError> {
        Ok(self.lock().initiatives.iter().filter(|x| &x.provider_id == provider).cloned().collect())
    }
}

#[async_trait]
impl CaseStore for MemoryStore {
    async fn case(&self, id: &CaseId) -> Result<Option<Case>, StoreError> {
        Ok(self.lock().cases.get(id).cloned())
    }

    async fn commit(&self, change: &CaseChange) -> Result<(), StoreError> {
        let mut s = self.lock();
        if let Err(e) = check(&s, change) {
            s.conflicts += 1;
            return Err(e);
        }
        let mut case = change.case.clone();
        let mut head = case.audit_head.clone();
        for record in &change.audit {
            let entry = link_after(head.as_ref(), record.clone());
            head = Some(entry.head());
            s.audit.entry(case.id.clone()).or_default().push(entry);
        }
        case.audit_head = head;
        if let Some(k) = &case.student_key {
            if case.status == CaseStatus::Closed {
                s.active.remove(k);
            } else {
                s.active.insert(k.clone(), case.id.clone());
            }
        }
        s.timeline.entry(case.id.clone()).or_default().extend(change.timeline.iter().cloned());
        s.outbox.entry(case.id.clone()).or_default().extend(change.events.iter().cloned());
        for m in &change.markers {
            s.markers.insert(m.key.clone(), m.clone());
        }
        for a in &change.attached {
            match a {
                Attached::Note(n) => s.notes.entry(case.id.clone()).or_default().push(n.clone()),
                Attached::File(f) | Attached::NewFile(f) => {
                    s.files.insert(file_key(f), f.clone());
                }
            }
        }
        if let Some(m) = &change.fund {
            s.funds.insert((m.provider_id.clone(), m.contract_year), m.spent_cents);
        }
        s.cases.insert(case.id.clone(), case);
        s.commits += 1;
        Ok(())
    }

    async fn list_cases(&self, q: &CaseListQuery) -> Result<Page<Case>, StoreError> {
        use crate::access::ListScope;
        let s = self.lock();
        let mut found: Vec<Case> = s
            .cases
            .values()
            .filter(|c| match &q.scope {
                ListScope::School(id) => &c.school_id == id,
                ListScope::PrimaryContact(u) => c.primary_contact.as_ref() == Some(u),
                ListScope::Provider(p) => c.provider_id.as_ref() == Some(p),
                ListScope::National => true,
                ListScope::Prosecutions => c.referred_for_prosecution(),
            })
            .filter(|c| q.status.is_none_or(|st| c.status == st))
            .cloned()
            .collect();
        found.sort_by(|a, b| (a.created_at, a.id.as_str()).cmp(&(b.created_at, b.id.as_str())));
        let start = match &q.cursor {
            None => 0,
            Some(c) => found.iter().position(|x| x.id.as_str() == c).map(|i| i + 1).ok_or(StoreError::InvalidCursor)?,
        };
        let items: Vec<Case> = found.iter().skip(start).take(q.limit as usize).cloned().collect();
        let next = (start + items.len() < found.len()).then(|| items.last().map(|c| c.id.to_string())).flatten();
        Ok(Page { items, next })
    }

    async fn timeline(&self, id: &CaseId) -> Result<Vec<TimelineEntry>, StoreError> {
        Ok(self.lock().timeline.get(id).cloned().unwrap_or_default())
    }

    async fn pending_events(&self, id: &CaseId) -> Result<Vec<EventEnvelope>, StoreError> {
        Ok(self.lock().outbox.get(id).cloned().unwrap_or_default())
    }

    async fn mark_published(&self, id: &CaseId, events: &[EventId]) -> Result<(), StoreError> {
        if let Some(out) = self.lock().outbox.get_mut(id) {
            out.retain(|e| !events.contains(&e.event_id));
        }
        Ok(())
    }

    async fn marker(&self, key: &str) -> Result<Option<(String, Option<String>)>, StoreError> {
        Ok(self.lock().markers.get(key).map(|m| (m.fingerprint.clone(), m.answer.clone())))
    }

    async fn claim_marker(&self, marker: &Marker) -> Result<bool, StoreError> {
        let mut s = self.lock();
        if s.markers.contains_key(&marker.key) {
            return Ok(false);
        }
        s.markers.insert(marker.key.clone(), marker.clone());
        Ok(true)
    }

    async fn release_marker(&self, key: &str) -> Result<(), StoreError> {
        self.lock().markers.remove(key);
        Ok(())
    }

    async fn cases_for_student(&self, who: &StudentIdentity) -> Result<Vec<Case>, StoreError> {
        let s = self.lock();
        let mut out: Vec<Case> = s
            .cases
            .values()
            .filter(|c| (who.nsn_key.is_some() && c.student_key == who.nsn_key) || (who.name_key.is_some() && c.name_key == who.name_key))
            .cloned()
            .collect();
        out.sort_by_key(|c| c.created_at);
        Ok(out)
    }

    async fn active_case(&self, student_key: &StudentKey) -> Result<Option<Case>, StoreError> {
        let s = self.lock();
        Ok(s.active.get(student_key).and_then(|id| s.cases.get(id)).cloned())
    }

    async fn enrolment(&self, student_key: &StudentKey) -> Result<Option<SchoolId>, StoreError> {
        Ok(self.lock().enrolments.get(student_key).map(|(s, _)| s.clone()))
    }

    async fn record_enrolment(&self, student_key: &StudentKey, school: &SchoolId, enrolled_on: NaiveDate) -> Result<(), StoreError> {
        let mut s = self.lock();
        let later = s.enrolments.get(student_key).is_none_or(|(_, on)| *on <= enrolled_on);
        if later {
            s.enrolments.insert(student_key.clone(), (school.clone(), enrolled_on));
        }
        Ok(())
    }
}

#[async_trait]
impl AuditLog for MemoryStore {
    async fn entries(&self, case_id: &CaseId) -> Result<Vec<AuditEntry>, StoreError> {
        Ok(self.lock().audit.get(case_id).cloned().unwrap_or_default())
    }
}

/// The event bus in memory: what was published, in order; `failing` makes every publish fail.
#[derive(Default)]
pub struct MemoryBus {
    pub published: Mutex<Vec<EventEnvelope>>,
    pub failing: std::sync::atomic::AtomicBool,
}

#[async_trait]
impl EventBus for MemoryBus {
    async fn publish(&self, events: &[EventEnvelope]) -> Result<(), BusError> {
        if self.failing.load(std::sync::atomic::Ordering::Relaxed) {
            return Err(BusError("the bus is failing (test)".into()));
        }
        self.published.lock().unwrap_or_else(|p| p.into_inner()).extend(events.iter().cloned());
        Ok(())
    }
}
