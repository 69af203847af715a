//! The access policy: which cases a caller may see and which lists they may ask for.
//! Handlers ask here; none decides on its own. A case the caller may not see is reported as
//! not found, so its existence does not leak.

use crate::actor::{Actor, Org, Role};
use crate::case::{Case, CaseStatus};
use crate::ids::{ProviderId, SchoolId, UserId};

/// The one index a caller's case list is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListScope {
    /// Attendance Lead and Office Support: every case of their school.
    School(SchoolId),
    /// School Primary Contact: the cases they are named on.
    PrimaryContact(UserId),
    /// Case Manager and provider admin: their provider's cases (its queue and caseload).
    Provider(ProviderId),
    /// Ministry roles: every case, read status by status.
    National,
    /// The Prosecutions team: the cases referred to it, oldest referral first.
    Prosecutions,
}

pub fn list_scope(actor: &Actor) -> ListScope {
    match actor.role() {
        Role::AttendanceLead | Role::OfficeSupport => match actor.school() {
            Some(s) => ListScope::School(s.clone()),
            None => ListScope::PrimaryContact(actor.user_id().clone()),
        },
        Role::SchoolPrimaryContact => ListScope::PrimaryContact(actor.user_id().clone()),
        Role::CaseManager | Role::ProviderAdmin => match actor.provider() {
            Some(p) => ListScope::Provider(p.clone()),
            None => ListScope::PrimaryContact(actor.user_id().clone()),
        },
        Role::Cit | Role::Regional | Role::National => ListScope::National,
        Role::Prosecutions => ListScope::Prosecutions,
    }
}

/// Everything a person can do to or see of one case. Every handler asks [`permits`]; the table in
/// docs/security.md is this function written out (a test keeps them in step).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CaseAction {
    /// See the case at all (its details, its shared timeline, its files shared with the school).
    View,
    /// See timeline entries and files that were not shared with the school.
    ViewUnshared,
    /// Add a comment.
    Comment,
    /// Attach a file.
    AttachFile,
    /// Record a meeting, call or visit (stops the SLA clocks).
    RecordActivity,
    /// Assign, transition, close, pause, reopen.
    ChangeStatus,
    /// Allocate or close a NEN case, transfer a case (Central Investigations Team).
    CitDecide,
    /// Read the case's audit trail.
    ViewAudit,
    /// Read the safety notes (shown as a warning to those who visit the family).
    ViewSafetyNotes,
    /// Add a safety note.
    AddSafetyNote,
    /// Read health information (Health Information Privacy Code: only those who need it).
    ViewHealth,
    /// Add health information.
    AddHealth,
    /// Confirm or dismiss a possible duplicate (same name and date of birth, another NSN).
    ResolveDuplicate,
    /// Update the whānau contacts and addresses ("keep relevant information on the case up to date").
    UpdateWhanau,
    /// Name another School Primary Contact (when the contact leaves the school, the case needs one).
    ChangePrimaryContact,
    /// Identify a barrier to attendance, or move one forward (the Case Manager's work).
    RecordBarrier,
    /// Escalate: a formal communication to the caregivers, a prosecution, section 19 or
    /// multi-agency forum referral ([`crate::escalations`] says which side may take which step).
    Escalate,
    /// Accept or decline a prosecution referral and record its outcome (the Prosecutions team).
    DecideProsecution,
    /// Record an agency engaged on the case (the case's provider staff).
    RecordAgency,
    /// Ask for an information check with another agency (the provider, CIT).
    RequestAgencyCheck,
    /// Record an agency check's result (CIT).
    RecordAgencyCheck,
    /// See agency checks and their entries (CIT and the case's provider only).
    ViewAgencyChecks,
    /// Spend from the provider's Unmet Basic Needs Fund on the case, or record a refund (the
    /// case's provider staff; [`crate::fund`]).
    SpendFund,
    /// Keep the support plan: goals, steps, reviews (the case's provider staff; [`crate::plan`]).
    RecordPlan,
}

impl CaseAction {
    pub const ALL: [CaseAction; 24] = [
        CaseAction::View,
        CaseAction::ViewUnshared,
        CaseAction::Comment,
        CaseAction::AttachFile,
        CaseAction::RecordActivity,
        CaseAction::ChangeStatus,
        CaseAction::CitDecide,
        CaseAction::ViewAudit,
        CaseAction::ViewSafetyNotes,
        CaseAction::AddSafetyNote,
        CaseAction::ViewHealth,
        CaseAction::AddHealth,
        CaseAction::ResolveDuplicate,
        CaseAction::UpdateWhanau,
        CaseAction::ChangePrimaryContact,
        CaseAction::RecordBarrier,
        CaseAction::Escalate,
        CaseAction::DecideProsecution,
        CaseAction::RecordAgency,
        CaseAction::RequestAgencyCheck,
        CaseAction::RecordAgencyCheck,
        CaseAction::ViewAgencyChecks,
        CaseAction::SpendFund,
        CaseAction::RecordPlan,
    ];
}

/// How a person relates to a case: the basis of every decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Relation {
    /// Staff of the student's school who see all the school's cases (Attendance Lead, Office Support).
    SchoolStaff,
    /// The case's School Primary Contact.
    PrimaryContact,
    /// Attendance Lead or Office Support of a school that referred the case before it moved to
    /// another school: read-only, and only what happened up to the handover.
    FormerSchool,
    /// Case Manager or provider admin of the provider that holds the case.
    ProviderStaff,
    /// Ministry, nationally (CIT, national, prosecutions) or for the case's region (regional).
    Ministry,
    /// Nothing: the case is "not found" for them.
    None,
}

fn relation(actor: &Actor, case: &Case) -> Relation {
    match actor.role() {
        Role::AttendanceLead | Role::OfficeSupport if actor.school() == Some(&case.school_id) => Relation::SchoolStaff,
        Role::SchoolPrimaryContact if actor.school() == Some(&case.school_id) && case.primary_contact.as_ref() == Some(actor.user_id()) => {
            Relation::PrimaryContact
        }
        Role::AttendanceLead | Role::OfficeSupport
            if actor.school().is_some_and(|s| case.former_schools.iter().any(|f| &f.school_id == s)) =>
        {
            Relation::FormerSchool
        }
        Role::CaseManager | Role::ProviderAdmin if actor.provider().is_some() && actor.provider() == case.provider_id.as_ref() => {
            Relation::ProviderStaff
        }
        Role::Cit | Role::National => Relation::Ministry,
        // the Prosecutions team sees only the cases referred to it
        Role::Prosecutions if case.referred_for_prosecution() => Relation::Ministry,
        Role::Regional => match actor.org() {
            Org::Ministry(Some(region)) if case.region_id.as_ref() == Some(region) => Relation::Ministry,
            _ => Relation::None,
        },
        _ => Relation::None,
    }
}

/// The policy: may this caller do this to this case?
pub fn permits(actor: &Actor, case: &Case, action: CaseAction) -> bool {
    use CaseAction::*;
    let rel = relation(actor, case);
    if rel == Relation::None {
        return false;
    }
    let role = actor.role();
    if rel == Relation::FormerSchool {
        return action == View;
    }
    match action {
        View => true,
        ViewUnshared => matches!(rel, Relation::ProviderStaff | Relation::Ministry),
        // everyone on the case collaborates: school, provider and Ministry staff
        Comment | AttachFile => true,
        RecordActivity | ChangeStatus | RecordBarrier | SpendFund | RecordPlan => rel == Relation::ProviderStaff,
        CitDecide => role == Role::Cit,
        ViewAudit => matches!(role, Role::National | Role::Regional),
        // those who visit or contact the family, and the teams who investigate or prosecute
        ViewSafetyNotes => {
            matches!(rel, Relation::SchoolStaff | Relation::PrimaryContact | Relation::ProviderStaff)
                || matches!(role, Role::Cit | Role::Prosecutions)
        }
        AddSafetyNote => matches!(rel, Relation::SchoolStaff | Relation::PrimaryContact | Relation::ProviderStaff),
        // Health Information Privacy Code: provider staff on the case, CIT and prosecutions only
        ViewHealth => rel == Relation::ProviderStaff || matches!(role, Role::Cit | Role::Prosecutions),
        AddHealth => rel == Relation::ProviderStaff,
        ResolveDuplicate => rel == Relation::ProviderStaff || role == Role::Cit,
        // the school staff on the case and the provider keep the contacts current
        UpdateWhanau => matches!(rel, Relation::SchoolStaff | Relation::PrimaryContact | Relation::ProviderStaff),
        // the school's Attendance Lead (who names the contact on a request) or the provider
        ChangePrimaryContact => (rel == Relation::SchoolStaff && role == Role::AttendanceLead) || rel == Relation::ProviderStaff,
        // "Both the school and the provider can refer a case to the Ministry's prosecution team"
        // (the guide); Office Support record, they do not escalate
        Escalate => {
            rel == Relation::ProviderStaff
                || (matches!(rel, Relation::SchoolStaff | Relation::PrimaryContact) && role != Role::OfficeSupport)
        }
        DecideProsecution => role == Role::Prosecutions,
        RecordAgency => rel == Relation::ProviderStaff,
        // "CIT is also responsible for managing information checks with other agencies" (the guide)
        RequestAgencyCheck | ViewAgencyChecks => rel == Relation::ProviderStaff || role == Role::Cit,
        RecordAgencyCheck => role == Role::Cit,
    }
}

/// An organisation whose staff list someone asks for.
#[derive(Debug, Clone, Copy)]
pub enum Directory<'a> {
    /// A school, with the providers that serve it (its catchment's provider and its In-School
    /// Provision, if any).
    School {
        school: &'a SchoolId,
        providers: [Option<&'a ProviderId>; 2],
    },
    Provider(&'a ProviderId),
}

/// Who may read an organisation's staff (names and roles, to name a Primary Contact or assign a
/// Case Manager): its own people, the Ministry, and for a school the providers that serve it.
pub fn can_read_staff(actor: &Actor, of: Directory<'_>) -> bool {
    if actor.role().side() == crate::actor::Side::Ministry {
        return true;
    }
    match of {
        Directory::School { school, providers } => {
            actor.school() == Some(school) || actor.provider().is_some_and(|p| providers.contains(&Some(p)))
        }
        Directory::Provider(p) => actor.provider() == Some(p),
    }
}

/// Who may see a provider's Unmet Basic Needs Fund, spent against its cap ("the provider and its
/// regional office", issue 15): the provider's own staff, the regional team of the provider's
/// region (`region`: its catchment's), and the national team.
pub fn can_read_fund(actor: &Actor, provider: &ProviderId, region: Option<&crate::ids::RegionId>) -> bool {
    match actor.role() {
        Role::CaseManager | Role::ProviderAdmin => actor.provider() == Some(provider),
        Role::Regional => matches!((actor.org(), region), (Org::Ministry(Some(r)), Some(p)) if r == p),
        Role::National => true,
        _ => false,
    }
}

/// The part of a case's history a caller may see: school users of the current school see what
/// happened since their school took the case over (a handover from another school); a former
/// school sees what happened until it handed over. `None` on a side: no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Window {
    pub from: Option<chrono::DateTime<chrono::Utc>>,
    pub until: Option<chrono::DateTime<chrono::Utc>>,
}

impl Window {
    pub fn contains(&self, at: chrono::DateTime<chrono::Utc>) -> bool {
        self.from.is_none_or(|f| at >= f) && self.until.is_none_or(|u| at < u)
    }
}

pub fn window(actor: &Actor, case: &Case) -> Window {
    match relation(actor, case) {
        Relation::SchoolStaff | Relation::PrimaryContact => Window { from: case.school_since, until: None },
        Relation::FormerSchool => {
            let until = actor.school().and_then(|s| case.former_schools.iter().filter(|f| &f.school_id == s).map(|f| f.until).max());
            Window { from: None, until }
        }
        _ => Window::default(),
    }
}

/// Does the caller see only the handed-over part of the case (a former school)? Their view of the
/// case then carries none of its current details.
pub fn sees_only_handover(actor: &Actor, case: &Case) -> bool {
    relation(actor, case) == Relation::FormerSchool
}

/// May this caller read this CA request? Attendance Lead and Office Support: every request of
/// their school; a School Primary Contact: the requests they created or are named on.
pub fn can_read_referral(actor: &Actor, r: &crate::referral::Referral) -> bool {
    if actor.school() != Some(&r.school_id) {
        return false;
    }
    match actor.role() {
        Role::AttendanceLead | Role::OfficeSupport => true,
        Role::SchoolPrimaryContact => {
            &r.created_by == actor.user_id() || r.form.primary_contact_user_id.as_deref() == Some(actor.user_id().as_str())
        }
        _ => false,
    }
}

/// May this caller see this case at all? (A case they may not see is answered "not found".)
pub fn can_view_case(actor: &Actor, case: &Case) -> bool {
    permits(actor, case, CaseAction::View)
}

/// May this caller see this timeline entry (or file), made at `at`, of a case they may see?
pub fn can_see_entry(actor: &Actor, case: &Case, shared_with_school: bool, at: chrono::DateTime<chrono::Utc>) -> bool {
    can_view_case(actor, case) && (shared_with_school || permits(actor, case, CaseAction::ViewUnshared)) && window(actor, case).contains(at)
}

/// Does a listed case belong in this caller's list (re-checked on every row an index returns)?
pub fn in_scope(actor: &Actor, case: &Case) -> bool {
    can_view_case(actor, case)
}

/// Who may choose how case emails reach them (one per update or a daily digest, issue 15): the
/// people case emails are addressed to — those who can be a case's School Primary Contact, and
/// Case Managers.
pub fn can_choose_email_digest(actor: &Actor) -> bool {
    actor.role().can_be_primary_contact() || actor.role() == Role::CaseManager
}

/// A dashboard asked for (issue 16), with the region the school or provider is in.
#[derive(Debug, Clone, Copy)]
pub enum DashboardOf<'a> {
    School(&'a SchoolId, Option<&'a crate::ids::RegionId>),
    Provider(&'a ProviderId, Option<&'a crate::ids::RegionId>),
    Region(&'a crate::ids::RegionId),
    National,
}

/// Whose counters the caller reads for this dashboard, or `None` (they may not: "not found").
/// A school's Attendance Lead and Office Support: the school's; a School Primary Contact of the
/// school: the cases they are named on ("Primary Contact: their cases"); a provider's staff:
/// the provider's; a regional team: the schools, providers and region of its region; the
/// national team: all of them and the nation.
pub fn dashboard_scope(actor: &Actor, of: DashboardOf<'_>) -> Option<crate::dashboard::Scope> {
    use crate::dashboard::Scope;
    let regional_of = |r: Option<&crate::ids::RegionId>| matches!((actor.org(), r), (Org::Ministry(Some(mine)), Some(r)) if mine == r);
    let role = actor.role();
    match of {
        DashboardOf::School(id, region) => match role {
            Role::AttendanceLead | Role::OfficeSupport if actor.school() == Some(id) => Some(Scope::School(id.clone())),
            Role::SchoolPrimaryContact if actor.school() == Some(id) => Some(Scope::Contact(actor.user_id().clone())),
            Role::Regional if regional_of(region) => Some(Scope::School(id.clone())),
            Role::National => Some(Scope::School(id.clone())),
            _ => None,
        },
        DashboardOf::Provider(id, region) => match role {
            Role::CaseManager | Role::ProviderAdmin if actor.provider() == Some(id) => Some(Scope::Provider(id.clone())),
            Role::Regional if regional_of(region) => Some(Scope::Provider(id.clone())),
            Role::National => Some(Scope::Provider(id.clone())),
            _ => None,
        },
        DashboardOf::Region(id) => match role {
            Role::Regional if regional_of(Some(id)) => Some(Scope::Region(id.clone())),
            Role::National => Some(Scope::Region(id.clone())),
            _ => None,
        },
        DashboardOf::National => (role == Role::National).then_some(Scope::National),
    }
}

/// School-side roles make CA requests for their own school.
pub fn can_make_requests(actor: &Actor) -> Option<&SchoolId> {
    match actor.role() {
        Role::AttendanceLead | Role::SchoolPrimaryContact | Role::OfficeSupport => actor.school(),
        _ => None,
    }
}

/// Which statuses a filter names; `None` means all.
pub fn status_filter(s: Option<&str>) -> Result<Option<CaseStatus>, String> {
    match s {
        None | Some("") => Ok(None),
        Some(v) => CaseStatus::parse(v)
            .map(Some)
            .ok_or_else(|| format!("status must be one of: {}", CaseStatus::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "))),
    }
}

/// The access matrix as a Markdown table: for each role (acting on a case of their own school,
/// provider or region, and named as primary contact where the role is), which actions the policy
/// permits. docs/security.md carries this table; a test keeps it identical.
pub fn matrix_markdown() -> String {
    use crate::actor::Side;
    use crate::case::CaseStudent;
    use crate::ids::{CaseId, RegionId};
    use crate::student::PersonName;
    let school = SchoolId::parse("S1").expect("id");
    let provider = ProviderId::parse("P1").expect("id");
    let region = RegionId::parse("R1").expect("id");
    let user = UserId::parse("U1").expect("id");
    let name = PersonName::parse("Matrix Student").expect("name");
    let dob = chrono::NaiveDate::from_ymd_opt(2015, 1, 1).expect("date");
    let at = chrono::DateTime::<chrono::Utc>::from_timestamp(0, 0).expect("time");
    let case = Case {
        status: CaseStatus::Open,
        region_id: Some(region.clone()),
        provider_id: Some(provider.clone()),
        primary_contact: Some(user.clone()),
        // referred for prosecution, so the Prosecutions team's row shows what it may do on a case
        // referred to it (on any other it has no relation: the case is not found)
        escalations: vec![crate::case::escalation::Escalation {
            id: crate::ids::EntryId::parse("E1").expect("id"),
            kind: crate::case::escalation::EscalationKind::ProsecutionReferral,
            on: dob,
            method: None,
            regional_office_told_on: None,
            forum_pilot: false,
            notes: None,
            by: crate::case::By::system("matrix"),
            at,
            decision: None,
            outcome: None,
            outcome_by: None,
            outcome_at: None,
        }],
        ..Case::bare(
            CaseId::parse("C1").expect("id"),
            school.clone(),
            CaseStudent { full_name: name, date_of_birth: dob, nsn: None, year_level: None },
            at,
        )
    };
    // one column per action: the array's length is the number of actions
    let names: [(CaseAction, &str); CaseAction::ALL.len()] = [
        (CaseAction::View, "view case"),
        (CaseAction::ViewUnshared, "unshared entries"),
        (CaseAction::Comment, "comment"),
        (CaseAction::AttachFile, "attach file"),
        (CaseAction::RecordActivity, "record meeting"),
        (CaseAction::ChangeStatus, "change status"),
        (CaseAction::CitDecide, "CIT decisions"),
        (CaseAction::ViewAudit, "audit trail"),
        (CaseAction::ViewSafetyNotes, "read safety notes"),
        (CaseAction::AddSafetyNote, "add safety note"),
        (CaseAction::ViewHealth, "read health"),
        (CaseAction::AddHealth, "add health"),
        (CaseAction::ResolveDuplicate, "resolve duplicate"),
        (CaseAction::UpdateWhanau, "update whānau"),
        (CaseAction::ChangePrimaryContact, "change primary contact"),
        (CaseAction::RecordBarrier, "record barriers"),
        (CaseAction::Escalate, "escalate"),
        (CaseAction::DecideProsecution, "decide prosecution"),
        (CaseAction::RecordAgency, "record agencies"),
        (CaseAction::RequestAgencyCheck, "ask for agency check"),
        (CaseAction::RecordAgencyCheck, "record agency check"),
        (CaseAction::ViewAgencyChecks, "see agency checks"),
        (CaseAction::SpendFund, "spend fund"),
        (CaseAction::RecordPlan, "keep support plan"),
    ];
    let mut out = String::from("| role (on their own case) |");
    for (_, n) in names {
        out.push_str(&format!(" {n} |"));
    }
    out.push_str("\n|---|");
    for _ in names {
        out.push_str("---|");
    }
    out.push('\n');
    for role in Role::ALL {
        let org = match role.side() {
            Side::School => Org::School(school.clone()),
            Side::Provider => Org::Provider(provider.clone()),
            Side::Ministry => Org::Ministry(Some(region.clone())),
        };
        let actor = Actor::new(user.clone(), role, org).expect("actor");
        out.push_str(&format!("| {} |", role.as_str()));
        for (a, _) in names {
            out.push_str(if permits(&actor, &case, a) { " ✔ |" } else { " · |" });
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_role_reads_the_dashboards_of_its_own_scope_only() {
        use crate::dashboard::Scope;
        let school = SchoolId::parse("1001").unwrap();
        let provider = ProviderId::parse("P01").unwrap();
        let r1 = crate::ids::RegionId::parse("r1").unwrap();
        let r2 = crate::ids::RegionId::parse("r2").unwrap();
        let a = |role: Role, org: &str| crate::fixtures::actor(role, org, "u");
        let of_school = DashboardOf::School(&school, Some(&r1));
        assert_eq!(dashboard_scope(&a(Role::AttendanceLead, "1001"), of_school), Some(Scope::School(school.clone())));
        assert_eq!(dashboard_scope(&a(Role::OfficeSupport, "1001"), of_school), Some(Scope::School(school.clone())));
        assert_eq!(dashboard_scope(&a(Role::SchoolPrimaryContact, "1001"), of_school), Some(Scope::Contact(UserId::parse("u").unwrap())));
        assert_eq!(dashboard_scope(&a(Role::AttendanceLead, "1085"), of_school), None, "another school's");
        assert_eq!(dashboard_scope(&a(Role::CaseManager, "P01"), of_school), None);
        assert_eq!(dashboard_scope(&a(Role::Regional, "r1"), of_school), Some(Scope::School(school.clone())));
        assert_eq!(dashboard_scope(&a(Role::Regional, "r1"), DashboardOf::School(&school, Some(&r2))), None, "another region's");
        for role in [Role::Cit, Role::Prosecutions] {
            assert_eq!(dashboard_scope(&a(role, "r1"), of_school), None, "{role}");
            assert_eq!(dashboard_scope(&a(role, "r1"), DashboardOf::National), None, "{role}");
        }
        let of_provider = DashboardOf::Provider(&provider, Some(&r1));
        assert_eq!(dashboard_scope(&a(Role::ProviderAdmin, "P01"), of_provider), Some(Scope::Provider(provider.clone())));
        assert_eq!(dashboard_scope(&a(Role::CaseManager, "P05"), of_provider), None);
        assert_eq!(dashboard_scope(&a(Role::Regional, "r1"), DashboardOf::Region(&r1)), Some(Scope::Region(r1.clone())));
        assert_eq!(dashboard_scope(&a(Role::Regional, "r1"), DashboardOf::Region(&r2)), None);
        assert_eq!(dashboard_scope(&a(Role::Regional, "r1"), DashboardOf::National), None);
        assert_eq!(dashboard_scope(&a(Role::National, "r1"), DashboardOf::National), Some(Scope::National));
    }

    #[test]
    fn only_those_case_emails_are_addressed_to_choose_a_digest() {
        for role in Role::ALL {
            let org = match role.side() {
                crate::actor::Side::School => "1001",
                crate::actor::Side::Provider => "P01",
                crate::actor::Side::Ministry => "r1",
            };
            let want = matches!(role, Role::AttendanceLead | Role::SchoolPrimaryContact | Role::CaseManager);
            assert_eq!(can_choose_email_digest(&crate::fixtures::actor(role, org, "u")), want, "{role}");
        }
    }

    #[test]
    fn the_security_doc_carries_the_policy_table() {
        let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/security.md")).expect("docs/security.md");
        let table = matrix_markdown();
        assert!(doc.contains(&table), "docs/security.md's access matrix differs from the policy; replace it with:\n\n{table}");
    }
}
