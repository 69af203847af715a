//! Keeping a case current. The guide asks schools to "keep relevant information on the case up to
//! date": the whānau contacts and addresses change after a request is made, and when the School
//! Primary Contact leaves the school the case needs another.
//!
//! - The whānau contacts and addresses: the school staff on the case and the provider
//!   ([`CaseAction::UpdateWhanau`]), checked exactly as on a request; the timeline says which parts
//!   changed (shared with the school), never the old values.
//! - The School Primary Contact: the school's Attendance Lead or the provider
//!   ([`CaseAction::ChangePrimaryContact`]); the new contact must be an Attendance Lead or School
//!   Primary Contact of the student's school, and is told by email (`PrimaryContactChanged`).
//!
//! Both are made against the version the caller is looking at (the handler checks it), and refused
//! on a closed case.

use crate::access::{can_view_case, permits, CaseAction};
use crate::activity::ActivityError;
use crate::actor::Actor;
use crate::case::{By, Case, CaseChange, CaseStatus, TimelineEntry, TimelineKind};
use crate::events::{DomainEvent, EventEnvelope};
use crate::referral::{parse_whanau, Address, AddressForm, Checker, FieldError, UserRecord, Whanau, WhanauForm};
use chrono::{DateTime, Utc};
use serde::Deserialize;

/// The contacts part of a case as a form sends it (`PUT /cases/{id}/contacts`): the whole list and
/// both addresses, replacing what the case holds.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ContactsForm {
    #[serde(default)]
    pub whanau: Option<Vec<WhanauForm>>,
    #[serde(default)]
    pub home_address: Option<AddressForm>,
    #[serde(default)]
    pub alternative_address: Option<AddressForm>,
    /// The case version the caller is looking at (or an `If-Match` header).
    #[serde(default)]
    pub version: Option<serde_json::Value>,
}

/// Checked contacts: at least one whānau member with a phone or email, a home address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contacts {
    pub whanau: Vec<Whanau>,
    pub home_address: Address,
    pub alternative_address: Option<Address>,
}

/// Every problem with the form at once, or the contacts.
pub fn parse_contacts(f: &ContactsForm) -> Result<Contacts, Vec<FieldError>> {
    let mut c = Checker { errors: Vec::new(), require: true };
    let whanau = parse_whanau(&mut c, f.whanau.as_ref());
    let home = c.address("homeAddress", "The home address", f.home_address.as_ref(), true);
    let alternative = c.address("alternativeAddress", "", f.alternative_address.as_ref(), false);
    match (whanau, home) {
        (Some(whanau), Some(home_address)) if c.errors.is_empty() => {
            Ok(Contacts { whanau, home_address, alternative_address: alternative })
        }
        _ => Err(c.errors),
    }
}

fn may_change(case: &Case, actor: &Actor, action: CaseAction, refused: &'static str) -> Result<(), ActivityError> {
    if !can_view_case(actor, case) {
        return Err(ActivityError::NotVisible);
    }
    if !permits(actor, case, action) {
        return Err(ActivityError::NotPermitted(refused));
    }
    if case.status == CaseStatus::Closed {
        return Err(ActivityError::Closed("This case is closed: it can be read, but not changed. Reopen it first if it is needed again."));
    }
    Ok(())
}

/// Replace the case's whānau contacts and addresses with the form's (who may is decided before
/// what they sent is judged). `Ok(None)`: nothing differs (nothing written).
pub fn update_contacts(case: &Case, actor: &Actor, form: &ContactsForm, now: DateTime<Utc>) -> Result<Option<CaseChange>, ActivityError> {
    may_change(
        case,
        actor,
        CaseAction::UpdateWhanau,
        "Only the school's staff on this case and its provider can update the whānau contacts and addresses.",
    )?;
    let contacts = parse_contacts(form).map_err(ActivityError::Invalid)?;
    let mut fields = Vec::new();
    if case.whanau != contacts.whanau {
        fields.push("whanau".to_string());
    }
    if case.home_address.as_ref() != Some(&contacts.home_address) {
        fields.push("homeAddress".to_string());
    }
    if case.alternative_address != contacts.alternative_address {
        fields.push("alternativeAddress".to_string());
    }
    if fields.is_empty() {
        return Ok(None);
    }
    let mut next = case.bumped(now);
    next.whanau = contacts.whanau;
    next.home_address = Some(contacts.home_address);
    next.alternative_address = contacts.alternative_address;
    let entry = TimelineEntry::new(&case.id, now, By::actor(actor), true, TimelineKind::ContactsUpdated { fields });
    Ok(Some(CaseChange::of(case, next, vec![entry], Vec::new())))
}

/// Name `to` the case's School Primary Contact.
pub fn change_primary_contact(case: &Case, actor: &Actor, to: &UserRecord, now: DateTime<Utc>) -> Result<CaseChange, ActivityError> {
    may_change(
        case,
        actor,
        CaseAction::ChangePrimaryContact,
        "Only the school's Attendance Lead or the case's provider can change its School Primary Contact.",
    )?;
    let invalid = |m: &str| ActivityError::Invalid(vec![FieldError { field: "userId".into(), message: m.into() }]);
    if to.org_id != case.school_id.as_str() || !to.role.can_be_primary_contact() {
        return Err(invalid("must be an Attendance Lead or School Primary Contact of the student's school"));
    }
    if case.primary_contact.as_ref() == Some(&to.id) {
        return Err(invalid("is already this case's School Primary Contact"));
    }
    let mut next = case.bumped(now);
    next.primary_contact = Some(to.id.clone());
    let entry = TimelineEntry::new(
        &case.id,
        now,
        By::actor(actor),
        true,
        TimelineKind::PrimaryContactChanged { from: case.primary_contact.clone(), to: to.id.clone() },
    );
    let event = EventEnvelope::new(
        now,
        DomainEvent::PrimaryContactChanged { case_id: case.id.clone(), case_type: case.case_type, school_id: case.school_id.clone() },
    );
    Ok(CaseChange::of(case, next, vec![entry], vec![event]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activity::tests::{actor, case};
    use crate::actor::Role;
    use crate::ids::UserId;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 5, 4, 1, 0, 0).unwrap()
    }

    fn form() -> ContactsForm {
        serde_json::from_value(serde_json::json!({
            "whanau": [{"name": "Mere Newcaregiver", "relationship": "aunt", "phone": "021 555 0199"}],
            "homeAddress": {"street": "3 Rimu Road", "town": "Kaitaia"},
        }))
        .unwrap()
    }

    fn user(id: &str, role: Role, org: &str) -> UserRecord {
        UserRecord {
            id: UserId::parse(id).unwrap(),
            role,
            org_id: org.into(),
            email: format!("{id}@example.nz"),
            display_name: "Someone".into(),
        }
    }

    #[test]
    fn every_contact_problem_is_listed_at_once() {
        let f: ContactsForm =
            serde_json::from_value(serde_json::json!({"whanau": [{"name": "Mere"}], "homeAddress": {"street": ""}})).unwrap();
        let errors = parse_contacts(&f).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert!(fields.contains(&"whanau[0].phone") && fields.iter().any(|f| f.starts_with("homeAddress")), "{fields:?}");
    }

    #[test]
    fn school_and_provider_update_contacts_and_the_timeline_says_what_changed() {
        let c = case();
        let school = c.school_id.as_str().to_string();
        let lead = actor(Role::AttendanceLead, &school, "lead");
        let change = update_contacts(&c, &lead, &form(), now()).unwrap().expect("a change");
        assert_eq!(change.case.version, c.version + 1);
        assert_eq!(change.case.whanau[0].name.as_str(), "Mere Newcaregiver");
        assert!(change.timeline[0].shared_with_school);
        assert!(matches!(&change.timeline[0].kind, TimelineKind::ContactsUpdated { fields } if fields.contains(&"whanau".to_string())));
        // the same again: nothing to write
        assert_eq!(update_contacts(&change.case, &lead, &form(), now()).unwrap(), None);
        // office support may too; the Ministry may not; another school does not see the case
        assert!(update_contacts(&c, &actor(Role::OfficeSupport, &school, "off"), &form(), now()).is_ok());
        assert!(matches!(update_contacts(&c, &actor(Role::National, "x", "nat"), &form(), now()), Err(ActivityError::NotPermitted(_))));
        assert_eq!(update_contacts(&c, &actor(Role::AttendanceLead, "other", "l2"), &form(), now()), Err(ActivityError::NotVisible));
    }

    #[test]
    fn a_new_primary_contact_must_be_eligible_staff_of_the_school() {
        let c = case();
        let school = c.school_id.as_str().to_string();
        let lead = actor(Role::AttendanceLead, &school, "lead");
        let ok = change_primary_contact(&c, &lead, &user("newcontact", Role::SchoolPrimaryContact, &school), now()).unwrap();
        assert_eq!(ok.case.primary_contact.as_ref().map(|u| u.as_str()), Some("newcontact"));
        assert!(matches!(ok.events[0].event, DomainEvent::PrimaryContactChanged { .. }));
        for bad in [user("office", Role::OfficeSupport, &school), user("elsewhere", Role::SchoolPrimaryContact, "another-school")] {
            assert!(matches!(change_primary_contact(&c, &lead, &bad, now()), Err(ActivityError::Invalid(_))), "{bad:?}");
        }
        let office = actor(Role::OfficeSupport, &school, "office");
        assert!(matches!(
            change_primary_contact(&c, &office, &user("newcontact", Role::SchoolPrimaryContact, &school), now()),
            Err(ActivityError::NotPermitted(_))
        ));
    }
}
