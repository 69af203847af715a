//! Cases built through the domain's own operations, for integration tests and benchmarks: a CA
//! request of school 1001 is submitted (`Case::open_ca`), allocated to P01 (`Case::allocate`),
//! assigned to `cm-p01` (`lifecycle::decide`), then its meetings are recorded
//! (`activity::record_activity`) and it is paused, moved to transition or closed as asked — all at
//! the instant `at`, so the case's SLA clocks start on `at`'s New Zealand date. Fictional data only.

use chrono::{DateTime, NaiveDate, Utc};
use cms_domain::activity::{record_activity, ActivityInput, ActivityType};
use cms_domain::actor::{Actor, Org, Role};
use cms_domain::case::{By, Case, CaseChange};
use cms_domain::catchment::{AllocationChoice, AllocationRoute};
use cms_domain::ids::{CaseId, CatchmentId, ProviderId, ReferralId, SchoolId, UserId};
use cms_domain::lifecycle::{decide, CloseReason, Command, PauseAttestation};
use cms_domain::ports::{CaseStore, ReferralStore, StoreError};
use cms_domain::referral::{Address, Referral, ReferralForm, ReferralStatus, Student, UserRecord, ValidReferral, Whanau};
use cms_domain::student::{PersonName, YearLevel};

/// Where the case ends up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ends {
    ProviderQueue,
    Open,
    Transition,
    /// Paused (the child must be under six at `at`).
    Paused,
    Closed,
}

/// What to build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseSpec {
    pub date_of_birth: NaiveDate,
    /// When the request was submitted (and every later step happened).
    pub at: DateTime<Utc>,
    pub ends: Ends,
    /// Record the school meeting / whānau meeting on `at`'s date (stops that SLA clock).
    pub school_met: bool,
    pub whanau_met: bool,
}

fn err(what: &str, e: impl std::fmt::Display) -> String {
    format!("{what}: {e}")
}

/// The changes that build the case, in order; the last one's `case` is the result.
pub fn changes(spec: &CaseSpec) -> Result<Vec<CaseChange>, String> {
    let at = spec.at;
    let today = cms_domain::nz_date(at);
    let school = SchoolId::parse("1001").map_err(|e| err("school", e))?;
    let lead = Actor::new(UserId::parse("lead-1001").map_err(|e| err("user", e))?, Role::AttendanceLead, Org::School(school.clone()))
        .map_err(|e| err("lead", e))?;
    let p01 = ProviderId::parse("P01").map_err(|e| err("provider", e))?;
    let cm_id = UserId::parse("cm-p01").map_err(|e| err("user", e))?;
    let cm = Actor::new(cm_id.clone(), Role::CaseManager, Org::Provider(p01.clone())).map_err(|e| err("case manager", e))?;
    let name = |n: &str| PersonName::parse(n).map_err(|e| err("name", e));
    let referral = Referral {
        id: ReferralId::new_ulid(),
        school_id: school.clone(),
        status: ReferralStatus::Draft,
        form: ReferralForm::default(),
        created_by: lead.user_id().clone(),
        created_at: at,
        updated_at: at,
        submitted_at: None,
        case_id: None,
        outcome: None,
        version: 1,
    };
    // each fixture a different (fictional) student: its own NSN, so its own active-case item
    let nsn = cms_domain::student::Nsn::parse(&format!("{}", 100_000_000 + (ulid::Ulid::new().random() % 900_000_000) as u64))
        .map_err(|e| err("nsn", e))?;
    let valid = ValidReferral {
        school_id: school,
        region_id: None,
        student: Student {
            full_name: name("Tamati Testchild")?,
            date_of_birth: spec.date_of_birth,
            nsn: nsn.clone(),
            year_level: YearLevel::parse(1).map_err(|e| err("year level", e))?,
        },
        whanau: vec![Whanau {
            name: name("Hinewai Testcaregiver")?,
            relationship: Some("mother".into()),
            phone: Some("021 555 0101".into()),
            email: None,
        }],
        home_address: Address { street: "12 Kowhai Lane".into(), suburb: None, town: "Whangarei".into(), postcode: Some("0110".into()) },
        alternative_address: None,
        reason: "Chronic absence (fictional).".into(),
        actions_taken: "Attendance plan (fictional).".into(),
        primary_contact: UserId::parse("contact-1001").map_err(|e| err("user", e))?,
        allocation: AllocationChoice::Catchment,
    };
    let keys = cms_domain::student::StudentKeys::new(crate::resources::LOCAL_STUDENT_KEY_SECRET.as_bytes()).ok_or("student keys")?;
    let who = keys.identify(&nsn, &valid.student.full_name, valid.student.date_of_birth);
    let mut out = vec![Case::open_ca(CaseId::new_ulid(), &referral, &valid, &who, at, &lead)];
    let last = |out: &Vec<CaseChange>| out.last().map(|c| c.case.clone()).ok_or_else(|| "no change".to_string());
    let allocated = last(&out)?
        .allocate(
            p01.clone(),
            CatchmentId::parse("C01").map_err(|e| err("catchment", e))?,
            AllocationRoute::CatchmentOfSchool,
            at,
            By::system("allocate"),
        )
        .map_err(|e| err("allocate", e))?;
    out.push(allocated);
    if spec.ends == Ends::ProviderQueue {
        return Ok(out);
    }
    let record = UserRecord {
        id: cm_id,
        role: Role::CaseManager,
        org_id: "P01".into(),
        email: "cm@provider.example.nz".into(),
        display_name: "Case Manager".into(),
    };
    out.push(decide(&last(&out)?, &cm, &Command::Assign { case_manager: record }, at, today).map_err(|e| err("assign", e))?);
    for (met, kind) in [(spec.school_met, ActivityType::SchoolMeeting), (spec.whanau_met, ActivityType::WhanauMeeting)] {
        if met {
            let input = ActivityInput { kind, date: today, attendees: vec![], notes: None, shared: Some(false) };
            out.push(record_activity(&last(&out)?, &cm, &input, at, today).map_err(|e| err("meeting", format!("{e:?}")))?);
        }
    }
    let cmd = match spec.ends {
        Ends::ProviderQueue | Ends::Open => return Ok(out),
        Ends::Transition => {
            // the provider checks in with the school before the move (the guide)
            let step = cms_domain::escalations::Step::Transition;
            let c = cms_domain::escalations::consult(&last(&out)?, &cm, step, today, None, at, today).map_err(|e| err("consult", e))?;
            out.push(c);
            Command::Transition { note: None }
        }
        Ends::Closed => Command::Close { reason: CloseReason::AttendingRegularly, note: None },
        Ends::Paused => Command::Pause {
            attestation: PauseAttestation {
                child_located: true,
                whanau_contacted: true,
                safe_and_informed_choice: true,
                withdrawn_from_school: true,
            },
            note: None,
        },
    };
    out.push(decide(&last(&out)?, &cm, &cmd, at, today).map_err(|e| err("status", e))?);
    Ok(out)
}

/// The case `spec` describes (its final state only).
pub fn case(spec: &CaseSpec) -> Result<Case, String> {
    changes(spec)?.pop().map(|c| c.case).ok_or_else(|| "no change".into())
}

/// Build the case and commit every step through the store, as the functions would; the steps'
/// events are cleared from the outbox as if they had been published (pass `publish = false` to
/// leave them there, as after a failed publish). Returns the final case.
pub async fn commit<S: CaseStore + ReferralStore + ?Sized>(store: &S, spec: &CaseSpec, publish: bool) -> Result<Case, StoreError> {
    let steps = changes(spec).map_err(StoreError::Corrupt)?;
    let mut last = None;
    for ch in steps {
        // the draft the school saved before submitting it
        if let Some((submitted, draft_version)) = &ch.referral {
            let mut draft = submitted.clone();
            draft.status = ReferralStatus::Draft;
            draft.version = *draft_version;
            draft.submitted_at = None;
            draft.case_id = None;
            store.create_referral(&draft, &[]).await?;
        }
        store.commit(&ch).await?;
        if publish {
            let ids: Vec<_> = ch.events.iter().map(|e| e.event_id.clone()).collect();
            store.mark_published(&ch.case.id, &ids).await?;
        }
        last = Some(ch.case);
    }
    last.ok_or_else(|| StoreError::Corrupt("no change".into()))
}
