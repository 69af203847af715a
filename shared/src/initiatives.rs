//! Provider initiatives for schools and groups of students (issue 15, item 9): "Providers may also
//! run targeted projects or initiatives to support improved attendance for ākongā. These could be
//! group or school-based activities … purposeful, well documented" (the guide), for example
//! "supporting schools during key transitions", "groups of chronically absent students who have
//! similar needs", "after events that significantly disrupt attendance".
//!
//! An initiative belongs to a provider, not to a case, and names no student: the schools involved
//! (each one the provider serves), its purpose, its dates, and its outcome once recorded.
//! - The provider's staff record and update it ([`start`], [`record_outcome`]).
//! - Who sees it ([`can_see`]): the provider's staff; the Ministry's national team and the regional
//!   team of the provider's region; the staff of a school involved (Attendance Lead, Office
//!   Support), only the initiatives involving their school.

use crate::actor::{Actor, Org, Role};
use crate::case::By;
use crate::catchment::{Provider, School};
use crate::ids::{EntryId, ProviderId, RegionId, SchoolId};
use crate::text::{note, NoteProblem};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

pub const MAX_TITLE: usize = 200;
pub const MAX_TEXT: usize = 2000;
pub const MAX_SCHOOLS: usize = 50;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Initiative {
    pub id: EntryId,
    pub provider_id: ProviderId,
    pub title: String,
    pub purpose: String,
    pub school_ids: Vec<SchoolId>,
    /// The group of students it is for, described without naming anyone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    pub starts_on: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends_on: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome_by: Option<By>,
    pub by: By,
    pub at: DateTime<Utc>,
    pub version: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InitiativeError {
    #[error("Only the provider's staff record its initiatives.")]
    NotPermitted,
    #[error("Give the {0}.")]
    Required(&'static str),
    #[error("The {0} is too long: at most {1} characters.")]
    TooLong(&'static str, usize),
    #[error("The {0} must not contain control characters.")]
    ControlCharacters(&'static str),
    #[error("Name 1 to {MAX_SCHOOLS} schools involved.")]
    Schools,
    #[error("School {0} is not one this provider serves.")]
    NotServed(String),
    #[error("The end date cannot be before the start date.")]
    EndsBeforeStart,
}

fn text(field: &'static str, s: Option<&str>, max: usize) -> Result<Option<String>, InitiativeError> {
    note(s, max).map_err(|e| match e {
        NoteProblem::TooLong => InitiativeError::TooLong(field, max),
        NoteProblem::ControlCharacters => InitiativeError::ControlCharacters(field),
    })
}

/// Is the caller one of the provider's staff (Case Manager or admin), who keep its initiatives?
pub fn is_staff(actor: &Actor, provider: &ProviderId) -> bool {
    matches!(actor.role(), Role::CaseManager | Role::ProviderAdmin) && actor.provider() == Some(provider)
}

/// Does the provider serve this school (its catchment's provider, or its In-School Provision)?
pub fn serves(provider: &Provider, school: &School) -> bool {
    school.catchment_id == provider.catchment_id || school.isp_provider_id.as_ref() == Some(&provider.id)
}

/// What a new initiative says (its schools already looked up: `None` for an id not found).
pub struct InitiativeInput<'a> {
    pub title: Option<&'a str>,
    pub purpose: Option<&'a str>,
    pub schools: Vec<(SchoolId, Option<School>)>,
    pub group: Option<&'a str>,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
}

/// The provider's staff record an initiative.
pub fn start(actor: &Actor, provider: &Provider, input: InitiativeInput<'_>, now: DateTime<Utc>) -> Result<Initiative, InitiativeError> {
    if !is_staff(actor, &provider.id) {
        return Err(InitiativeError::NotPermitted);
    }
    let title = text("title", input.title, MAX_TITLE)?.ok_or(InitiativeError::Required("title"))?;
    let purpose = text("purpose", input.purpose, MAX_TEXT)?.ok_or(InitiativeError::Required("purpose"))?;
    let group = text("group", input.group, MAX_TITLE)?;
    if input.schools.is_empty() || input.schools.len() > MAX_SCHOOLS {
        return Err(InitiativeError::Schools);
    }
    let mut school_ids = Vec::new();
    for (id, found) in input.schools {
        if !found.is_some_and(|s| serves(provider, &s)) {
            return Err(InitiativeError::NotServed(id.to_string()));
        }
        if !school_ids.contains(&id) {
            school_ids.push(id);
        }
    }
    if input.ends_on.is_some_and(|e| e < input.starts_on) {
        return Err(InitiativeError::EndsBeforeStart);
    }
    Ok(Initiative {
        id: EntryId::new_ulid(),
        provider_id: provider.id.clone(),
        title,
        purpose,
        school_ids,
        group,
        starts_on: input.starts_on,
        ends_on: input.ends_on,
        outcome: None,
        outcome_by: None,
        by: By::actor(actor),
        at: now,
        version: 1,
    })
}

/// The provider's staff record (or bring up to date) what the initiative achieved, and its end.
pub fn record_outcome(
    i: &Initiative,
    actor: &Actor,
    outcome: Option<&str>,
    ends_on: Option<NaiveDate>,
) -> Result<Initiative, InitiativeError> {
    if !is_staff(actor, &i.provider_id) {
        return Err(InitiativeError::NotPermitted);
    }
    let outcome = text("outcome", outcome, MAX_TEXT)?.ok_or(InitiativeError::Required("outcome"))?;
    let ends_on = ends_on.or(i.ends_on);
    if ends_on.is_some_and(|e| e < i.starts_on) {
        return Err(InitiativeError::EndsBeforeStart);
    }
    Ok(Initiative { outcome: Some(outcome), outcome_by: Some(By::actor(actor)), ends_on, version: i.version + 1, ..i.clone() })
}

/// May this caller see the provider's initiatives at all (`region`: the provider's)?
pub fn can_list(actor: &Actor, provider: &ProviderId, region: Option<&RegionId>) -> bool {
    match actor.role() {
        Role::CaseManager | Role::ProviderAdmin => actor.provider() == Some(provider),
        Role::National => true,
        Role::Regional => matches!((actor.org(), region), (Org::Ministry(Some(r)), Some(p)) if r == p),
        Role::AttendanceLead | Role::OfficeSupport => true,
        _ => false,
    }
}

/// May this caller see this initiative (of a provider they may list)? School staff: only those
/// involving their school.
pub fn can_see(actor: &Actor, i: &Initiative, region: Option<&RegionId>) -> bool {
    if !can_list(actor, &i.provider_id, region) {
        return false;
    }
    match actor.role() {
        Role::AttendanceLead | Role::OfficeSupport => actor.school().is_some_and(|s| i.school_ids.contains(s)),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{actor, cm, now};
    use crate::ids::CatchmentId;
    use proptest::prelude::*;

    fn provider() -> Provider {
        crate::fixtures::provider(None)
    }
    fn school(id: &str, catchment: &str) -> (SchoolId, Option<School>) {
        let sid = SchoolId::parse(id).unwrap();
        let s = School {
            id: sid.clone(),
            name: id.into(),
            catchment_id: CatchmentId::parse(catchment).unwrap(),
            region_id: RegionId::parse("r1").unwrap(),
            isp_provider_id: None,
        };
        (sid, Some(s))
    }
    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2027, m, day).unwrap()
    }
    fn input(schools: Vec<(SchoolId, Option<School>)>) -> InitiativeInput<'static> {
        InitiativeInput {
            title: Some("Year 8 to 9 transition"),
            purpose: Some("Support the move to college"),
            schools,
            group: Some("Year 8 students"),
            starts_on: d(2, 1),
            ends_on: Some(d(4, 1)),
        }
    }

    #[test]
    fn the_provider_records_an_initiative_for_schools_it_serves() {
        let i = start(&cm(), &provider(), input(vec![school("1001", "c1"), school("1001", "c1"), school("1085", "c1")]), now()).unwrap();
        assert_eq!(i.school_ids.len(), 2, "a school named twice is kept once");
        assert_eq!(start(&cm(), &provider(), input(vec![school("2001", "c9")]), now()), Err(InitiativeError::NotServed("2001".into())));
        let unknown = (SchoolId::parse("9999").unwrap(), None);
        assert_eq!(start(&cm(), &provider(), input(vec![unknown]), now()), Err(InitiativeError::NotServed("9999".into())));
        assert_eq!(start(&cm(), &provider(), input(vec![]), now()), Err(InitiativeError::Schools));
        let backwards = InitiativeInput { ends_on: Some(d(1, 1)), ..input(vec![school("1001", "c1")]) };
        assert_eq!(start(&cm(), &provider(), backwards, now()), Err(InitiativeError::EndsBeforeStart));
        for who in
            [actor(Role::AttendanceLead, "1001", "lead"), actor(Role::CaseManager, "P02", "cm2"), actor(Role::National, "ministry", "n")]
        {
            assert_eq!(start(&who, &provider(), input(vec![school("1001", "c1")]), now()), Err(InitiativeError::NotPermitted));
        }
    }

    #[test]
    fn the_outcome_is_recorded_by_the_providers_staff() {
        let i = start(&cm(), &provider(), input(vec![school("1001", "c1")]), now()).unwrap();
        assert_eq!(record_outcome(&i, &cm(), Some("  "), None), Err(InitiativeError::Required("outcome")));
        let done = record_outcome(&i, &cm(), Some("18 of 22 students attending 90 %"), Some(d(3, 30))).unwrap();
        assert_eq!((done.outcome.as_deref(), done.ends_on, done.version), (Some("18 of 22 students attending 90 %"), Some(d(3, 30)), 2));
        assert_eq!(record_outcome(&i, &actor(Role::CaseManager, "P02", "x"), Some("x"), None), Err(InitiativeError::NotPermitted));
    }

    proptest! {
        /// A school user sees an initiative exactly when it involves their school; provider staff
        /// see all of their provider's, another provider's none.
        #[test]
        fn who_sees_an_initiative(involved in proptest::collection::vec(0usize..4, 1..4), viewer in 0usize..4) {
            let ids = ["1001", "1002", "1003", "1004"];
            let schools = involved.iter().map(|i| school(ids[*i], "c1")).collect();
            let i = start(&cm(), &provider(), input(schools), now()).unwrap();
            let lead = actor(Role::AttendanceLead, ids[viewer], "lead");
            prop_assert_eq!(can_see(&lead, &i, None), involved.contains(&viewer));
            prop_assert!(can_see(&cm(), &i, None));
            prop_assert!(!can_see(&actor(Role::CaseManager, "P02", "other"), &i, None));
            prop_assert!(!can_see(&actor(Role::SchoolPrimaryContact, ids[viewer], "pc"), &i, None));
        }
    }
}
