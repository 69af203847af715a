//! The CA request for support ("Referral"): saved as a draft, resumed, edited, then submitted.
//!
//! A draft may be incomplete, but every value it holds must already be well formed. Submitting
//! turns the form into a [`ValidReferral`] — every field the seeds require, parsed — or refuses it
//! with a message per field, or as "not appropriate" with the seeds' reason.

use crate::actor::Role;
use crate::catchment::{AllocationChoice, School};
use crate::ids::{ReferralId, SchoolId, UserId};
use crate::student::{parse_date_of_birth, parse_email, parse_phone, Nsn, PersonName, YearLevel};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// The request form as the school fills it in. Every field is optional so a draft can be saved
/// part-way; unknown fields are refused.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ReferralForm {
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "objects_only::option")]
    pub student: Option<StudentForm>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "objects_only::option_list")]
    pub whanau: Option<Vec<WhanauForm>>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "objects_only::option")]
    pub home_address: Option<AddressForm>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "objects_only::option")]
    pub alternative_address: Option<AddressForm>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actions_taken: Option<String>,
    /// `whole_days` (or a pattern of whole-day absence) or `single_class` (refused: not appropriate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub absence_pattern: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_contact_user_id: Option<String>,
    /// ISP schools only: `catchment` or `in_school_provision`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allocation: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StudentForm {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_of_birth: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nsn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year_level: Option<i64>,
    /// Is the student an international student?
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub international: Option<bool>,
    /// For an international student: do they hold a valid visa to attend school in New Zealand?
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_visa: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WhanauForm {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relationship: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AddressForm {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suburb: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub town: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postcode: Option<String>,
}

/// Nested forms are read from JSON objects only: serde's derived structs would also accept an
/// array (fields by position), so `"homeAddress": []` would pass as an empty address.
pub mod objects_only {
    use serde::de::{DeserializeOwned, Deserializer, Error};
    use serde::Deserialize;
    use serde_json::{Map, Value};

    fn one<T: DeserializeOwned, E: Error>(m: Map<String, Value>) -> Result<T, E> {
        serde_json::from_value(Value::Object(m)).map_err(E::custom)
    }
    pub fn option<'de, D: Deserializer<'de>, T: DeserializeOwned>(d: D) -> Result<Option<T>, D::Error> {
        Option::<Map<String, Value>>::deserialize(d)?.map(one::<T, D::Error>).transpose()
    }
    pub fn option_list<'de, D: Deserializer<'de>, T: DeserializeOwned>(d: D) -> Result<Option<Vec<T>>, D::Error> {
        Option::<Vec<Map<String, Value>>>::deserialize(d)?.map(|l| l.into_iter().map(one::<T, D::Error>).collect()).transpose()
    }
    pub fn list<'de, D: Deserializer<'de>, T: DeserializeOwned>(d: D) -> Result<Vec<T>, D::Error> {
        Vec::<Map<String, Value>>::deserialize(d)?.into_iter().map(one::<T, D::Error>).collect()
    }
}

/// A problem with one field, named by its JSON path (`student.dateOfBirth`, `whanau[0].phone`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// Why the seeds say a request is not appropriate for Attendance Services.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotAppropriate {
    InternationalWithoutVisa,
    SingleClassOnly,
}

impl NotAppropriate {
    pub fn message(self) -> &'static str {
        match self {
            NotAppropriate::InternationalWithoutVisa => "Attendance Services cannot accept this request: an international student who does not hold a valid visa to attend school in New Zealand is not eligible.",
            NotAppropriate::SingleClassOnly => "Attendance Services cannot accept this request: a student who generally attends school but regularly misses a single class only is not eligible. Support this student through the school's Attendance Management Plan.",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    Invalid(Vec<FieldError>),
    NotAppropriate(NotAppropriate),
}

/// The seeded user named as primary contact, as the store knows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserRecord {
    pub id: UserId,
    pub role: Role,
    /// The school, provider or region id the user belongs to.
    pub org_id: String,
    pub email: String,
    pub display_name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    pub street: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suburb: Option<String>,
    pub town: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postcode: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Whanau {
    pub name: PersonName,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relationship: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Student {
    pub full_name: PersonName,
    pub date_of_birth: NaiveDate,
    /// The National Student Number: the student's identity (schools hold it in ENROL and their SMS).
    pub nsn: Nsn,
    pub year_level: YearLevel,
}

/// A complete, checked CA request: what a case is created from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ValidReferral {
    pub school_id: SchoolId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region_id: Option<crate::ids::RegionId>,
    pub student: Student,
    pub whanau: Vec<Whanau>,
    pub home_address: Address,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alternative_address: Option<Address>,
    pub reason: String,
    pub actions_taken: String,
    pub primary_contact: UserId,
    pub allocation: AllocationChoice,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferralStatus {
    Draft,
    Submitted,
}

/// What submitting a request did (kept on the request, so a repeated submit gets the same answer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubmitOutcome {
    /// A new case.
    Created,
    /// The student's case closed less than 3 months ago was reopened.
    Reopened,
    /// The student's NEN case became this school's CA case.
    Converted,
    /// The student already has support the school cannot see: the request was received and the
    /// provider or CIT will link it (the school learns nothing about that case).
    Received,
}

impl SubmitOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            SubmitOutcome::Created => "created",
            SubmitOutcome::Reopened => "reopened",
            SubmitOutcome::Converted => "converted",
            SubmitOutcome::Received => "received",
        }
    }
}

/// A stored request (draft or submitted). Version increments on each save (optimistic locking).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Referral {
    pub id: ReferralId,
    pub school_id: SchoolId,
    pub status: ReferralStatus,
    pub form: ReferralForm,
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submitted_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_id: Option<crate::ids::CaseId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<SubmitOutcome>,
    pub version: u64,
}

impl Referral {
    /// This request as submitted (one version on), pointing at the case it created, reopened or
    /// converted (`None` when it was received for linking to a case the school cannot see).
    pub fn submitted(&self, case_id: Option<&crate::ids::CaseId>, outcome: SubmitOutcome, now: DateTime<Utc>) -> Referral {
        let mut r = self.clone();
        r.status = ReferralStatus::Submitted;
        r.submitted_at = Some(now);
        r.updated_at = now;
        r.case_id = case_id.cloned();
        r.outcome = Some(outcome);
        r.version = self.version + 1;
        r
    }
}

/// A draft left untouched this many days is deleted (DynamoDB TTL): it holds a child's details
/// that nobody is using. Saving the draft again restarts the count.
pub const DRAFT_TTL_DAYS: i64 = 90;

/// Days before a draft expires that its author is reminded (once per save).
pub const DRAFT_REMINDER_DAYS: i64 = 7;

impl Referral {
    /// When the store may delete this request: drafts only, [`DRAFT_TTL_DAYS`] after the last save.
    pub fn expires_at(&self) -> Option<DateTime<Utc>> {
        (self.status == ReferralStatus::Draft).then(|| self.updated_at + chrono::Duration::days(DRAFT_TTL_DAYS))
    }
    /// The New Zealand date its author is reminded that the draft will expire: drafts only,
    /// [`DRAFT_REMINDER_DAYS`] before [`Referral::expires_at`].
    pub fn reminder_due_on(&self) -> Option<NaiveDate> {
        self.expires_at().map(|t| crate::nz_date(t) - chrono::Duration::days(DRAFT_REMINDER_DAYS))
    }
    /// The once-only key of this draft's reminder: a later save makes a new one (and moves it).
    pub fn reminder_key(&self) -> String {
        format!("DRAFT-REMINDER#{}#{}", self.id, self.updated_at.timestamp_millis())
    }
}

const MAX_TEXT: usize = 4000;
const MAX_SHORT: usize = 200;

pub(crate) struct Checker {
    pub(crate) errors: Vec<FieldError>,
    pub(crate) require: bool,
}

impl Checker {
    pub(crate) fn err(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.errors.push(FieldError { field: field.into(), message: message.into() });
    }
    pub(crate) fn missing(&mut self, field: &str, what: &str) {
        if self.require {
            self.err(field, format!("{what} is required"));
        }
    }
    pub(crate) fn text(&mut self, field: &str, what: &str, v: Option<&String>, max: usize) -> Option<String> {
        match v.map(|s| s.trim()) {
            None => {
                self.missing(field, what);
                None
            }
            Some(t) if !crate::text::has_visible(t) => {
                // an empty box in a draft is the same as not filled in yet (spaces and invisible
                // characters such as zero-width spaces are empty)
                self.missing(field, what);
                None
            }
            Some(t) if t.chars().count() > max => {
                self.err(field, format!("must be {max} characters or fewer"));
                None
            }
            Some(t) if t.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') => {
                self.err(field, "must not contain control characters");
                None
            }
            Some(t) => Some(t.to_string()),
        }
    }
    pub(crate) fn optional_text(&mut self, field: &str, v: Option<&String>, max: usize) -> Option<String> {
        let saved = self.require;
        self.require = false;
        let r = self.text(field, "", v, max);
        self.require = saved;
        r
    }
    pub(crate) fn address(&mut self, field: &str, what: &str, a: Option<&AddressForm>, required: bool) -> Option<Address> {
        let Some(a) = a else {
            if required {
                self.missing(field, what);
            }
            return None;
        };
        let street = self.text(&format!("{field}.street"), "The street address", a.street.as_ref(), MAX_SHORT);
        let town = self.text(&format!("{field}.town"), "The town or city", a.town.as_ref(), MAX_SHORT);
        let suburb = self.optional_text(&format!("{field}.suburb"), a.suburb.as_ref(), MAX_SHORT);
        let postcode = match a.postcode.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(p) if p.len() == 4 && p.bytes().all(|b| b.is_ascii_digit()) => Some(p.to_string()),
            Some(_) => {
                self.err(format!("{field}.postcode"), "must be a 4-digit New Zealand postcode");
                None
            }
        };
        Some(Address { street: street?, suburb, town: town?, postcode })
    }
}

/// Everything the checks need besides the form itself.
pub struct SubmissionContext<'a> {
    pub school: &'a School,
    /// The user named as primary contact, if they exist.
    pub primary_contact: Option<&'a UserRecord>,
    pub today: NaiveDate,
}

/// Check the values a draft holds (missing fields are fine in a draft).
pub fn check_draft(form: &ReferralForm, today: NaiveDate) -> Result<(), Vec<FieldError>> {
    let mut c = Checker { errors: Vec::new(), require: false };
    parse_fields(&mut c, form, today);
    if c.errors.is_empty() {
        Ok(())
    } else {
        Err(c.errors)
    }
}

struct Parsed {
    student: Option<Student>,
    international: Option<bool>,
    valid_visa: Option<bool>,
    whanau: Option<Vec<Whanau>>,
    home: Option<Address>,
    alternative: Option<Address>,
    reason: Option<String>,
    actions: Option<String>,
    single_class: Option<bool>,
    primary_contact: Option<UserId>,
    allocation: Option<AllocationChoice>,
}

fn parse_fields(c: &mut Checker, f: &ReferralForm, today: NaiveDate) -> Parsed {
    let default_student = StudentForm::default();
    let s = match &f.student {
        Some(s) => s,
        None => {
            c.missing("student", "Information about the student");
            &default_student
        }
    };
    let student_present = f.student.is_some();
    let name = match s.full_name.as_deref() {
        None if student_present => {
            c.missing("student.fullName", "The student's full name");
            None
        }
        None => None,
        Some(n) => match PersonName::parse(n) {
            Ok(n) => Some(n),
            Err(_) if n.trim().is_empty() => {
                c.missing("student.fullName", "The student's full name");
                None
            }
            Err(m) => {
                c.err("student.fullName", m);
                None
            }
        },
    };
    let dob = match s.date_of_birth.as_deref() {
        None if student_present => {
            c.missing("student.dateOfBirth", "The student's date of birth");
            None
        }
        None => None,
        Some(d) => parse_date_of_birth(d, today).map_err(|m| c.err("student.dateOfBirth", m)).ok(),
    };
    // an empty box is "not filled in yet"; anything else must be the NSN exactly (no padding)
    let nsn = match s.nsn.as_deref().filter(|n| !n.trim().is_empty()) {
        None if student_present => {
            c.missing("student.nsn", "The student's National Student Number (NSN, from ENROL or your student management system)");
            None
        }
        None => None,
        Some(n) => Nsn::parse(n).map_err(|m| c.err("student.nsn", m)).ok(),
    };
    let year = match s.year_level {
        None if student_present => {
            c.missing("student.yearLevel", "The student's year level");
            None
        }
        None => None,
        Some(y) => YearLevel::parse(y).map_err(|m| c.err("student.yearLevel", m)).ok(),
    };
    if student_present && s.international.is_none() {
        c.missing("student.international", "Whether the student is an international student");
    }
    if s.international == Some(true) && s.valid_visa.is_none() {
        c.missing("student.validVisa", "For an international student, whether they hold a valid visa");
    }
    let student = match (name, dob, nsn, year) {
        (Some(full_name), Some(date_of_birth), Some(nsn), Some(year_level)) => Some(Student { full_name, date_of_birth, nsn, year_level }),
        _ => None,
    };

    let whanau = parse_whanau(c, f.whanau.as_ref());

    let home = c.address("homeAddress", "The home address", f.home_address.as_ref(), true);
    let alternative = c.address("alternativeAddress", "", f.alternative_address.as_ref(), false);
    let reason = c.text("reason", "The reason for the request", f.reason.as_ref(), MAX_TEXT);
    let actions = c.text("actionsTaken", "A description of the actions the school has already taken", f.actions_taken.as_ref(), MAX_TEXT);
    let single_class = match f.absence_pattern.as_deref() {
        None => {
            c.missing("absencePattern", "The absence pattern (whole_days or single_class)");
            None
        }
        Some("whole_days") => Some(false),
        Some("single_class") => Some(true),
        Some(_) => {
            c.err("absencePattern", "must be whole_days or single_class");
            None
        }
    };
    let primary_contact = match f.primary_contact_user_id.as_deref() {
        None => {
            c.missing("primaryContactUserId", "Exactly one School Primary Contact");
            None
        }
        Some(u) => UserId::parse(u).map_err(|_| c.err("primaryContactUserId", "is not a valid user id")).ok(),
    };
    let allocation = match f.allocation.as_deref() {
        None => None,
        Some(a) => match AllocationChoice::parse(a) {
            Some(x) => Some(x),
            None => {
                c.err("allocation", "must be catchment or in_school_provision");
                None
            }
        },
    };
    Parsed {
        student,
        international: s.international,
        valid_visa: s.valid_visa,
        whanau,
        home,
        alternative,
        reason,
        actions,
        single_class,
        primary_contact,
        allocation,
    }
}

/// The whānau list of a form: at least one, at most ten, each with a name and a phone number or
/// email address (a request and a later update check it the same way).
pub(crate) fn parse_whanau(c: &mut Checker, list: Option<&Vec<WhanauForm>>) -> Option<Vec<Whanau>> {
    match list {
        None => {
            c.missing("whanau", "At least one whānau or caregiver");
            None
        }
        Some(list) if list.is_empty() => {
            c.missing("whanau", "At least one whānau or caregiver");
            None
        }
        Some(list) if list.len() > 10 => {
            c.err("whanau", "list at most 10 whānau or caregivers");
            None
        }
        Some(list) => {
            let mut out = Vec::new();
            for (i, w) in list.iter().enumerate() {
                let p = format!("whanau[{i}]");
                let name = match w.name.as_deref() {
                    None => {
                        c.missing(&format!("{p}.name"), "The whānau member's name");
                        None
                    }
                    Some(n) => PersonName::parse(n).map_err(|m| c.err(format!("{p}.name"), m)).ok(),
                };
                let relationship = c.optional_text(&format!("{p}.relationship"), w.relationship.as_ref(), MAX_SHORT);
                let phone = match w.phone.as_deref().map(str::trim) {
                    None | Some("") => None,
                    Some(v) => parse_phone(v).map_err(|m| c.err(format!("{p}.phone"), m)).ok(),
                };
                let email = match w.email.as_deref().map(str::trim) {
                    None | Some("") => None,
                    Some(v) => parse_email(v).map_err(|m| c.err(format!("{p}.email"), m)).ok(),
                };
                let no_contact =
                    w.phone.as_deref().is_none_or(|s| s.trim().is_empty()) && w.email.as_deref().is_none_or(|s| s.trim().is_empty());
                if no_contact {
                    c.missing(&format!("{p}.phone"), "A phone number or email address for this whānau member");
                }
                if let Some(name) = name {
                    out.push(Whanau { name, relationship, phone, email });
                }
            }
            Some(out)
        }
    }
}

/// Submit: every required field present and well formed, the primary contact a user of this school
/// who may hold that role, the ISP choice consistent with the school, and the request appropriate.
pub fn validate_submission(form: &ReferralForm, ctx: &SubmissionContext<'_>) -> Result<ValidReferral, Rejection> {
    let mut c = Checker { errors: Vec::new(), require: true };
    let p = parse_fields(&mut c, form, ctx.today);

    if let Some(pc) = &p.primary_contact {
        match ctx.primary_contact {
            Some(u) if &u.id == pc => {
                if u.org_id != ctx.school.id.as_str() {
                    c.err("primaryContactUserId", "must be a staff member of your school");
                } else if !u.role.can_be_primary_contact() {
                    c.err("primaryContactUserId", "must hold the School Primary Contact or Attendance Lead role");
                }
            }
            _ => c.err("primaryContactUserId", "is not a user of the Attendance Service Portal"),
        }
    }
    let allocation = match (ctx.school.has_isp(), p.allocation) {
        (true, None) => {
            c.err("allocation", "Your school has In-School Provision: choose in_school_provision or catchment");
            None
        }
        (false, Some(AllocationChoice::InSchoolProvision)) => {
            c.err("allocation", "Your school does not have In-School Provision; leave this out or choose catchment");
            None
        }
        (_, choice) => Some(choice.unwrap_or(AllocationChoice::Catchment)),
    };

    if !c.errors.is_empty() {
        return Err(Rejection::Invalid(c.errors));
    }
    // Appropriateness is decided only on a complete, valid form.
    if p.international == Some(true) && p.valid_visa == Some(false) {
        return Err(Rejection::NotAppropriate(NotAppropriate::InternationalWithoutVisa));
    }
    if p.single_class == Some(true) {
        return Err(Rejection::NotAppropriate(NotAppropriate::SingleClassOnly));
    }
    match (p.student, p.whanau, p.home, p.reason, p.actions, p.primary_contact, allocation) {
        (Some(student), Some(whanau), Some(home_address), Some(reason), Some(actions_taken), Some(primary_contact), Some(allocation)) => {
            Ok(ValidReferral {
                school_id: ctx.school.id.clone(),
                region_id: Some(ctx.school.region_id.clone()),
                student,
                whanau,
                home_address,
                alternative_address: p.alternative,
                reason,
                actions_taken,
                primary_contact,
                allocation,
            })
        }
        // unreachable while every missing part above records an error; kept total, not panicking
        _ => Err(Rejection::Invalid(vec![FieldError { field: "body".into(), message: "The request is incomplete".into() }])),
    }
}

#[cfg(test)]
mod tests;
