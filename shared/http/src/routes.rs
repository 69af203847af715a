//! The API's routes, typed: each handler matches on a [`Route`] instead of comparing the route-key
//! string API Gateway sends. The list is the template's (`tests/samples.rs` checks that every
//! route of `template.yaml` is here and every one here is in the template).

macro_rules! routes {
    ($($(#[$doc:meta])* $name:ident => $key:literal),* $(,)?) => {
        /// A route of the HttpApi, as `template.yaml` declares it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Route { $($(#[$doc])* $name),* }

        impl Route {
            /// Every route.
            pub const ALL: &'static [Route] = &[$(Route::$name),*];

            /// `"POST /referrals/{id}/submit"`: the route key API Gateway matches.
            pub fn key(self) -> &'static str {
                match self { $(Route::$name => $key),* }
            }

            /// The route of a route key, if it is one of this API's.
            pub fn parse(key: &str) -> Option<Route> {
                match key { $($key => Some(Route::$name),)* _ => None }
            }
        }
    };
}

routes! {
    /// Start a request for support (draft or submitted at once).
    CreateReferral => "POST /referrals",
    /// The school's requests (drafts and submitted).
    ListReferrals => "GET /referrals",
    /// One request.
    GetReferral => "GET /referrals/{id}",
    /// Save a draft.
    EditReferral => "PUT /referrals/{id}",
    /// Discard a draft.
    DeleteReferral => "DELETE /referrals/{id}",
    /// Submit a draft.
    SubmitReferral => "POST /referrals/{id}/submit",
    /// The caller's case list.
    ListCases => "GET /cases",
    /// One case.
    GetCase => "GET /cases/{id}",
    /// The case's audit trail.
    CaseAudit => "GET /cases/{id}/audit",
    /// The case's timeline.
    CaseTimeline => "GET /cases/{id}/timeline",
    /// A comment on the case.
    AddComment => "POST /cases/{id}/comments",
    /// A recorded activity (visit, call, meeting).
    AddActivity => "POST /cases/{id}/activities",
    /// Identify a barrier to attendance (provider staff).
    AddBarrier => "POST /cases/{id}/barriers",
    /// Move a barrier forward (provider staff).
    UpdateBarrier => "PUT /cases/{id}/barriers/{barrierId}",
    /// A consultation with the school before a step (provider staff).
    AddConsultation => "POST /cases/{id}/consultations",
    /// A formal communication, or a prosecution, section 19 or multi-agency forum referral.
    AddEscalation => "POST /cases/{id}/escalations",
    /// The Prosecutions team's decision, or an escalation's outcome.
    RecordEscalationOutcome => "PUT /cases/{id}/escalations/{escalationId}",
    /// An agency engaged on the case (provider staff).
    AddAgency => "POST /cases/{id}/agencies",
    /// Ask for an information check with an agency (provider staff, CIT).
    RequestAgencyCheck => "POST /cases/{id}/agency-checks",
    /// Record an agency check's result (CIT).
    RecordAgencyCheck => "PUT /cases/{id}/agency-checks/{checkId}",
    /// Spend from the provider's Unmet Basic Needs Fund on the case (provider staff).
    SpendFund => "POST /cases/{id}/fund-spends",
    /// Money of a fund spend returned (provider staff).
    RefundFund => "POST /cases/{id}/fund-spends/{spendId}/refunds",
    /// Add a goal or step to the support plan (provider staff).
    AddPlanItem => "POST /cases/{id}/plan/items",
    /// A plan item done or dropped (provider staff).
    UpdatePlanItem => "PUT /cases/{id}/plan/items/{itemId}",
    /// A review of the support plan (provider staff).
    ReviewPlan => "POST /cases/{id}/plan/reviews",
    /// The case's contacts.
    EditContacts => "PUT /cases/{id}/contacts",
    /// The school's Primary Contact for the case.
    ChoosePrimaryContact => "POST /cases/{id}/primary-contact",
    /// A status change by the provider.
    ChangeStatus => "POST /cases/{id}/status",
    /// CIT: the allocation view of a case.
    AllocationView => "GET /cases/{id}/allocation",
    /// CIT: allocate a case.
    Allocate => "POST /cases/{id}/allocation",
    /// CIT: close a case in review.
    CitClose => "POST /cases/{id}/close",
    /// CIT: transfer a case to another provider.
    Transfer => "POST /cases/{id}/transfer",
    /// CIT: resolve a possible duplicate.
    ResolveDuplicate => "POST /cases/{id}/possible-duplicate",
    /// Safety notes and health information the caller may read.
    ReadSensitive => "GET /cases/{id}/sensitive",
    /// Add a safety note.
    AddSafetyNote => "POST /cases/{id}/safety-notes",
    /// Add health information.
    AddHealth => "POST /cases/{id}/health",
    /// A form to upload a file to the case.
    RequestUpload => "POST /cases/{id}/files",
    /// A link to download a file of the case.
    DownloadFile => "GET /cases/{id}/files/{fileId}",
    /// ENROL's notifications (signed, no portal token).
    EnrolEvents => "POST /enrol/events",
    /// The caller.
    Me => "GET /me",
    /// The caller's choice of one email per update or a daily digest.
    SetEmailPreference => "PUT /me/email-preference",
    /// A school and its staff.
    School => "GET /schools/{id}",
    /// The providers.
    Providers => "GET /providers",
    /// One provider.
    Provider => "GET /providers/{id}",
    /// Move a Case Manager's cases to another Case Manager (provider admin).
    ReassignCases => "POST /providers/{id}/reassignments",
    /// A provider's initiatives for schools and groups of students.
    ListInitiatives => "GET /providers/{id}/initiatives",
    /// Record an initiative (provider staff).
    StartInitiative => "POST /providers/{id}/initiatives",
    /// An initiative's outcome (provider staff).
    RecordInitiativeOutcome => "PUT /providers/{id}/initiatives/{initiativeId}",
    /// A provider's Unmet Basic Needs Fund for a contract year: spent against its cap.
    ProviderFund => "GET /providers/{id}/fund",
    /// A school's dashboard (a School Primary Contact: their cases).
    SchoolDashboard => "GET /dashboards/schools/{id}",
    /// A provider's dashboard.
    ProviderDashboard => "GET /dashboards/providers/{id}",
    /// A region's dashboard.
    RegionDashboard => "GET /dashboards/regions/{id}",
    /// The national dashboard.
    NationalDashboard => "GET /dashboards/national",
    /// The caller's case list as CSV.
    ExportCases => "GET /exports/cases",
}

impl Route {
    /// The route this request was matched to; `None` for a key this API does not have.
    pub fn of(req: &lambda_http::Request) -> Option<Route> {
        Route::parse(&crate::route_key(req))
    }
}

#[cfg(test)]
mod tests {
    use super::Route;

    #[test]
    fn every_route_key_parses_back_to_its_route() {
        for r in Route::ALL {
            assert_eq!(Route::parse(r.key()), Some(*r));
        }
        assert_eq!(Route::parse("GET /nowhere"), None);
        assert_eq!(Route::ALL.len(), 54);
    }
}
