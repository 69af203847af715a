//! ENROL: the notifications ENROL delivers to the webhook — a Non-Enrolment Notification (NEN)
//! creates a NEN case for the Central Investigations Team; an enrolment reopens a paused case and
//! lets the enrolling school turn a NEN case into a CA case.

use crate::case::{By, Case, CaseChange, CaseStatus, CaseStudent, CaseType, Marker, TimelineEntry, TimelineKind};
use crate::events::{DomainEvent, EventEnvelope, ReopenTrigger};
use crate::ids::{CaseId, SchoolId};
use crate::lifecycle::auto_reopen;
use crate::referral::{AddressForm, Checker, FieldError, Whanau, WhanauForm};
use crate::student::{parse_date, parse_date_of_birth, parse_email, parse_phone, Nsn, PersonName, StudentIdentity, StudentKeys};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use sha2::{Digest, Sha256};

pub use crate::case::NenDetails;

/// The webhook body as ENROL sends it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Delivery {
    pub id: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub occurred_at: Option<String>,
    pub data: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct NenForm {
    nsn: Option<String>,
    #[serde(default, deserialize_with = "crate::referral::objects_only::option")]
    student: Option<NenStudentForm>,
    last_school_id: Option<String>,
    last_day_of_attendance: Option<String>,
    withdrawal_reason: Option<String>,
    #[serde(default, deserialize_with = "crate::referral::objects_only::list")]
    caregivers: Vec<WhanauForm>,
    #[serde(default, deserialize_with = "crate::referral::objects_only::list")]
    addresses: Vec<AddressForm>,
    comments: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct NenStudentForm {
    full_name: Option<String>,
    date_of_birth: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct EnrolledForm {
    nsn: Option<String>,
    school_id: Option<String>,
    enrolled_on: Option<String>,
}

/// A checked Non-Enrolment Notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nen {
    pub notification_id: String,
    pub nsn: Nsn,
    pub full_name: PersonName,
    pub date_of_birth: NaiveDate,
    pub last_school_id: SchoolId,
    pub last_day_of_attendance: NaiveDate,
    pub withdrawal_reason: String,
    pub caregivers: Vec<Whanau>,
    pub addresses: Vec<crate::referral::Address>,
    pub comments: Option<String>,
}

/// A checked enrolment report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrolled {
    pub notification_id: String,
    pub nsn: Nsn,
    pub school_id: SchoolId,
    pub enrolled_on: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notification {
    NonEnrolment(Nen),
    StudentEnrolled(Enrolled),
}

impl Notification {
    pub fn id(&self) -> &str {
        match self {
            Notification::NonEnrolment(n) => &n.notification_id,
            Notification::StudentEnrolled(e) => &e.notification_id,
        }
    }
}

/// The idempotency marker of a delivery: same id and same body → the same answer; same id and a
/// different body → a conflict.
pub fn delivery_marker(notification_id: &str, raw_body: &[u8], answer: &serde_json::Value) -> Marker {
    Marker {
        key: format!("ENROL#{notification_id}"),
        fingerprint: fingerprint(raw_body),
        answer: Some(answer.to_string()),
        expires_at: None,
    }
}

/// SHA-256 of the delivery's body, hex.
pub fn fingerprint(raw_body: &[u8]) -> String {
    Sha256::digest(raw_body).iter().map(|b| format!("{b:02x}")).collect()
}

fn notification_id(s: Option<&str>, c: &mut Checker) -> Option<String> {
    match s.map(str::trim) {
        None | Some("") => {
            c.err("id", "is required: ENROL's notification id");
            None
        }
        Some(v) if v.len() > 100 || !v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') => {
            c.err("id", "must be 1 to 100 letters, digits, '-' or '_'");
            None
        }
        Some(v) => Some(v.to_string()),
    }
}

fn required_nsn(s: Option<&str>, c: &mut Checker) -> Option<Nsn> {
    match s {
        None => {
            c.err("data.nsn", "is required");
            None
        }
        Some(v) => Nsn::parse(v).map_err(|m| c.err("data.nsn", m)).ok(),
    }
}

/// How far ahead of our clock ENROL's `occurredAt` may be (clock skew between the systems).
pub const OCCURRED_AT_SKEW_SECS: i64 = 300;

/// `occurredAt`, when given: an RFC 3339 instant with its offset (`2026-11-20T02:00:00Z`), not
/// later than now plus [`OCCURRED_AT_SKEW_SECS`].
fn occurred_at(s: Option<&str>, now: DateTime<Utc>, c: &mut Checker) -> Option<DateTime<Utc>> {
    let s = s?;
    match DateTime::parse_from_rfc3339(s) {
        Err(_) => {
            c.err("occurredAt", "must be a date and time in RFC 3339 form with its offset, for example 2026-11-20T02:00:00Z");
            None
        }
        Ok(t) if t.timestamp() > now.timestamp().saturating_add(OCCURRED_AT_SKEW_SECS) => {
            c.err("occurredAt", "cannot be in the future");
            None
        }
        Ok(t) => Some(t.with_timezone(&Utc)),
    }
}

/// Parse a delivery's JSON into a checked notification, or say what is wrong field by field
/// (`now`: our clock, for `occurredAt`; `today`: the New Zealand date, for the dates in `data`).
pub fn parse(delivery: &Delivery, now: DateTime<Utc>, today: NaiveDate) -> Result<Notification, Vec<FieldError>> {
    let mut c = Checker { errors: Vec::new(), require: true };
    let id = notification_id(delivery.id.as_deref(), &mut c);
    occurred_at(delivery.occurred_at.as_deref(), now, &mut c);
    let data = delivery.data.clone().unwrap_or(serde_json::Value::Null);
    if data.is_null() {
        c.err("data", "is required");
    }
    let out = match delivery.kind.as_deref() {
        Some("non_enrolment_notification") => parse_nen(id, data, today, &mut c).map(Notification::NonEnrolment),
        Some("student_enrolled") => parse_enrolled(id, data, today, &mut c).map(Notification::StudentEnrolled),
        _ => {
            c.err("type", "must be non_enrolment_notification or student_enrolled");
            None
        }
    };
    match out {
        Some(n) if c.errors.is_empty() => Ok(n),
        _ => {
            if c.errors.is_empty() {
                c.err("data", "is incomplete");
            }
            Err(c.errors)
        }
    }
}

fn parse_nen(id: Option<String>, data: serde_json::Value, today: NaiveDate, c: &mut Checker) -> Option<Nen> {
    if data.is_null() {
        return None;
    }
    if !data.is_object() {
        c.err("data", "must be an object: the notification's details");
        return None;
    }
    let f: NenForm = match serde_json::from_value(data) {
        Ok(f) => f,
        Err(e) => {
            c.err("data", format!("does not match a non-enrolment notification: {e}"));
            return None;
        }
    };
    let nsn = required_nsn(f.nsn.as_deref(), c);
    let s = f.student.unwrap_or_default();
    let name = match s.full_name.as_deref() {
        None => {
            c.err("data.student.fullName", "is required");
            None
        }
        Some(n) => PersonName::parse(n).map_err(|m| c.err("data.student.fullName", m)).ok(),
    };
    let dob = match s.date_of_birth.as_deref() {
        None => {
            c.err("data.student.dateOfBirth", "is required");
            None
        }
        Some(d) => parse_date_of_birth(d, today).map_err(|m| c.err("data.student.dateOfBirth", m)).ok(),
    };
    let school = match f.last_school_id.as_deref() {
        None => {
            c.err("data.lastSchoolId", "is required");
            None
        }
        Some(v) => SchoolId::parse(v).map_err(|_| c.err("data.lastSchoolId", "is not a school number")).ok(),
    };
    let last_day = match f.last_day_of_attendance.as_deref() {
        None => {
            c.err("data.lastDayOfAttendance", "is required (the last day the student attended, not the unenrolment date)");
            None
        }
        Some(d) => match parse_date(d) {
            Err(m) => {
                c.err("data.lastDayOfAttendance", m);
                None
            }
            Ok(d) if d > today => {
                c.err("data.lastDayOfAttendance", "cannot be in the future");
                None
            }
            Ok(d) if dob.is_some_and(|b| d <= b) => {
                c.err("data.lastDayOfAttendance", "must be after the date of birth");
                None
            }
            Ok(d) => Some(d),
        },
    };
    let reason = c.text("data.withdrawalReason", "The reason for withdrawal", f.withdrawal_reason.as_ref(), 500);
    let comments = c.optional_text("data.comments", f.comments.as_ref(), 4000);
    let mut caregivers = Vec::new();
    for (i, w) in f.caregivers.iter().enumerate() {
        let p = format!("data.caregivers[{i}]");
        let name = match w.name.as_deref() {
            None => {
                c.err(format!("{p}.name"), "is required");
                None
            }
            Some(n) => PersonName::parse(n).map_err(|m| c.err(format!("{p}.name"), m)).ok(),
        };
        let relationship = c.optional_text(&format!("{p}.relationship"), w.relationship.as_ref(), 200);
        let phone = w
            .phone
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .and_then(|v| parse_phone(v).map_err(|m| c.err(format!("{p}.phone"), m)).ok());
        let email = w
            .email
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .and_then(|v| parse_email(v).map_err(|m| c.err(format!("{p}.email"), m)).ok());
        if let Some(name) = name {
            caregivers.push(Whanau { name, relationship, phone, email });
        }
    }
    if f.caregivers.is_empty() {
        c.err("data.caregivers", "at least one caregiver is required");
    }
    let mut addresses = Vec::new();
    for (i, a) in f.addresses.iter().enumerate() {
        if let Some(a) = c.address(&format!("data.addresses[{i}]"), "The address", Some(a), true) {
            addresses.push(a);
        }
    }
    if f.addresses.is_empty() {
        c.err("data.addresses", "at least one address is required (it decides the provider)");
    }
    Some(Nen {
        notification_id: id?,
        nsn: nsn?,
        full_name: name?,
        date_of_birth: dob?,
        last_school_id: school?,
        last_day_of_attendance: last_day?,
        withdrawal_reason: reason?,
        caregivers,
        addresses,
        comments,
    })
}

fn parse_enrolled(id: Option<String>, data: serde_json::Value, today: NaiveDate, c: &mut Checker) -> Option<Enrolled> {
    if data.is_null() {
        return None;
    }
    if !data.is_object() {
        c.err("data", "must be an object: the notification's details");
        return None;
    }
    let f: EnrolledForm = match serde_json::from_value(data) {
        Ok(f) => f,
        Err(e) => {
            c.err("data", format!("does not match a student_enrolled notification: {e}"));
            return None;
        }
    };
    let nsn = required_nsn(f.nsn.as_deref(), c);
    let school = match f.school_id.as_deref() {
        None => {
            c.err("data.schoolId", "is required");
            None
        }
        Some(v) => SchoolId::parse(v).map_err(|_| c.err("data.schoolId", "is not a school number")).ok(),
    };
    let on = match f.enrolled_on.as_deref() {
        None => {
            c.err("data.enrolledOn", "is required");
            None
        }
        Some(d) => match parse_date(d) {
            Ok(d) if d > today + chrono::Days::new(31) => {
                c.err("data.enrolledOn", "is too far in the future");
                None
            }
            Ok(d) => Some(d),
            Err(m) => {
                c.err("data.enrolledOn", m);
                None
            }
        },
    };
    Some(Enrolled { notification_id: id?, nsn: nsn?, school_id: school?, enrolled_on: on? })
}

impl Nen {
    pub fn identity(&self, keys: &StudentKeys) -> StudentIdentity {
        keys.identify(&self.nsn, &self.full_name, self.date_of_birth)
    }
}

impl Case {
    /// A new NEN case, waiting for the Central Investigations Team.
    pub fn open_nen(id: CaseId, nen: &Nen, who: &StudentIdentity, now: DateTime<Utc>) -> CaseChange {
        let mut addresses = nen.addresses.clone().into_iter();
        let student = CaseStudent {
            full_name: nen.full_name.clone(),
            date_of_birth: nen.date_of_birth,
            nsn: Some(nen.nsn.clone()),
            year_level: None,
        };
        let case = Case {
            case_type: CaseType::Nen,
            status: CaseStatus::CitReview,
            nen: Some(NenDetails {
                notification_id: nen.notification_id.clone(),
                last_day_of_attendance: nen.last_day_of_attendance,
                withdrawal_reason: nen.withdrawal_reason.clone(),
                comments: nen.comments.clone(),
                enrolled_at: None,
                enrolled_on: None,
            }),
            whanau: nen.caregivers.clone(),
            home_address: addresses.next(),
            alternative_address: addresses.next(),
            student_key: who.nsn_key.clone(),
            name_key: who.name_key.clone(),
            ..Case::bare(id.clone(), nen.last_school_id.clone(), student, now)
        };
        let timeline = vec![TimelineEntry::new(
            &id,
            now,
            By::system("enrol"),
            true,
            TimelineKind::CaseCreated { case_type: CaseType::Nen, referral_id: None },
        )];
        let events = vec![
            EventEnvelope::new(
                now,
                DomainEvent::NenReceived {
                    case_id: id.clone(),
                    school_id: nen.last_school_id.clone(),
                    notification_id: nen.notification_id.clone(),
                },
            ),
            EventEnvelope::new(
                now,
                DomainEvent::CaseCreated {
                    case_id: id.clone(),
                    case_type: CaseType::Nen,
                    school_id: nen.last_school_id.clone(),
                    allocation: None,
                },
            ),
        ];
        CaseChange::created(case, timeline, events)
    }
}

/// What a NEN does: a new NEN case for CIT review, or, when the student already has an active
/// case (`active`, read from the student's one-active-case item), a record on that case.
pub fn receive_nen(active: Option<&Case>, nen: &Nen, who: &StudentIdentity, new_id: CaseId, now: DateTime<Utc>) -> CaseChange {
    match active.filter(|c| c.status != CaseStatus::Closed) {
        Some(c) => attach_nen(c, nen, now),
        None => Case::open_nen(new_id, nen, who, now),
    }
}

/// A NEN for a student who already has an active case (one active case per student): no second
/// case; the notification is recorded on the existing case for its provider or CIT (not shared
/// with the school, whose student has left it).
pub fn attach_nen(case: &Case, nen: &Nen, now: DateTime<Utc>) -> CaseChange {
    let timeline = vec![TimelineEntry::new(
        &case.id,
        now,
        By::system("enrol"),
        false,
        TimelineKind::NonEnrolmentNotified {
            notification_id: nen.notification_id.clone(),
            last_school_id: nen.last_school_id.clone(),
            last_day_of_attendance: nen.last_day_of_attendance,
        },
    )];
    let events = vec![EventEnvelope::new(
        now,
        DomainEvent::NenReceived {
            case_id: case.id.clone(),
            school_id: nen.last_school_id.clone(),
            notification_id: nen.notification_id.clone(),
        },
    )];
    CaseChange {
        audit: Vec::new(),
        case: case.bumped(now),
        expected_version: Some(case.version),
        timeline,
        events,
        referral: None,
        markers: Vec::new(),
        attached: Vec::new(),
        fund: None,
    }
}

/// What an enrolment does to one of the student's cases: a paused case reopens (the child
/// re-enrolled); an active NEN case records the school, which may then convert it with a CA
/// request. `None`: nothing to do (closed, already recorded): safe on redelivery.
///
/// An active NEN case moves to the enrolling school (`school_region`: that school's region): the
/// guide expects that school to hold a transition meeting and to convert the case with a CA
/// request, so from now its staff see the case (what happens from now on, and its safety notes),
/// and the school the student left sees it no longer.
pub fn on_enrolled(
    case: &Case,
    e: &Enrolled,
    school_region: Option<crate::ids::RegionId>,
    now: DateTime<Utc>,
    today: NaiveDate,
) -> Option<CaseChange> {
    if case.status == CaseStatus::Closed {
        return None;
    }
    if case.status == CaseStatus::Paused {
        let mut change = auto_reopen(case, ReopenTrigger::Enrolled, now, today)?;
        change.timeline.push(TimelineEntry::new(
            &case.id,
            now,
            By::system("enrol"),
            true,
            TimelineKind::Enrolled { school_id: e.school_id.clone(), enrolled_on: e.enrolled_on },
        ));
        return Some(change);
    }
    let nen = case.nen.as_ref().filter(|_| case.case_type == CaseType::Nen)?;
    if nen.enrolled_at.as_ref() == Some(&e.school_id) {
        return None;
    }
    let mut next = case.clone();
    if let Some(n) = next.nen.as_mut() {
        n.enrolled_at = Some(e.school_id.clone());
        n.enrolled_on = Some(e.enrolled_on);
    }
    if case.school_id != e.school_id {
        next.school_id = e.school_id.clone();
        next.region_id = school_region;
        next.school_since = Some(now);
        next.primary_contact = None;
    }
    next.updated_at = now;
    next.version = case.version + 1;
    let timeline = vec![TimelineEntry::new(
        &case.id,
        now,
        By::system("enrol"),
        true,
        TimelineKind::Enrolled { school_id: e.school_id.clone(), enrolled_on: e.enrolled_on },
    )];
    let events = vec![EventEnvelope::new(
        now,
        DomainEvent::StudentEnrolled {
            case_id: case.id.clone(),
            case_type: case.case_type,
            school_id: e.school_id.clone(),
            notification_id: e.notification_id.clone(),
        },
    )];
    Some(CaseChange::of(case, next, timeline, events))
}

#[cfg(test)]
pub(crate) mod tests;
