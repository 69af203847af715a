//! Who is emailed about what, and what the email says.
//!
//! - The provider (or Ministry) shares a comment, file or meeting record, or the case's status
//!   changes (allocated, status changed, reopened) → the case's **School Primary Contact**; a newly
//!   named School Primary Contact is told they are now the contact.
//! - The school adds a comment or file → the case's **Case Manager**; while the case has none, the
//!   provider's queue mailbox.
//! - Anything not shared with the school → nobody.
//!
//! An email says what happened and links to the case in the portal. It carries no child name or
//! detail: events carry only ids and facts, and this module only ever reads those.

use crate::actor::Side;
use crate::case::Case;
use crate::events::{DomainEvent, ReopenTrigger};
use crate::ids::{CaseId, EventId, ProviderId, UserId};

/// One email, ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// Whom an event is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    PrimaryContact,
    CaseManager,
}

impl Audience {
    pub fn as_str(self) -> &'static str {
        match self {
            Audience::PrimaryContact => "primary_contact",
            Audience::CaseManager => "case_manager",
        }
    }
}

/// What to tell, and whom, before the address is looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub audience: Audience,
    pub case_id: CaseId,
    pub subject: String,
    /// The text before the link.
    pub what: String,
    /// Where the link goes.
    pub link: Link,
}

/// Where an email's link goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Link {
    /// The case the notice is about.
    Case,
    /// The portal's home page (a notice about several cases).
    Home,
}

/// The mailbox an audience resolves to on a given case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipient {
    User(UserId),
    /// No Case Manager yet: the provider's queue mailbox.
    ProviderQueue(ProviderId),
    /// Nobody to tell (e.g. a NEN case has no School Primary Contact; an unallocated case no provider).
    Nobody,
}

const PC: &str = "A case you are the School Primary Contact for";

/// The notice an event calls for, if any.
pub fn notice_for(event: &DomainEvent) -> Option<Notice> {
    let pc = |case_id: &CaseId, subject: &str, what: String| Notice {
        audience: Audience::PrimaryContact,
        case_id: case_id.clone(),
        subject: subject.to_string(),
        what,
        link: Link::Case,
    };
    let cm = |case_id: &CaseId, subject: &str, what: &str| Notice {
        audience: Audience::CaseManager,
        case_id: case_id.clone(),
        subject: subject.to_string(),
        what: what.to_string(),
        link: Link::Case,
    };
    match event {
        DomainEvent::CaseStatusChanged { case_id, from, to, .. } => Some(pc(
            case_id,
            &format!("Attendance case status changed: {} → {}", from.name(), to.name()),
            format!("{PC} has changed status: {} → {}.", from.name(), to.name()),
        )),
        DomainEvent::CaseAllocated { case_id, .. } => Some(pc(
            case_id,
            "Attendance case allocated to a provider",
            format!("{PC} has been allocated to an attendance service provider and is in their queue (status: Provider Queue)."),
        )),
        DomainEvent::CaseReopened { case_id, from, trigger, .. } => {
            let why = match trigger {
                ReopenTrigger::Provider => "by the provider",
                ReopenTrigger::Enrolled => "because the student enrolled at a school",
                ReopenTrigger::TurnedSix => "because the child turned six",
                ReopenTrigger::NewRequest => "by a new request from the school",
            };
            Some(pc(case_id, "Attendance case reopened", format!("{PC} has been reopened {why}: {} → Open.", from.name())))
        }
        DomainEvent::CommentAdded { case_id, author_side, shared, .. } => match (author_side, shared) {
            (Side::School, _) => {
                Some(cm(case_id, "New comment from the school", "The school added a comment to a case your provider is working."))
            }
            (Side::Provider, true) => {
                Some(pc(case_id, "New comment from the provider", format!("{PC} has a new comment from the provider.")))
            }
            (Side::Ministry, true) => {
                Some(pc(case_id, "New comment from the Ministry", format!("{PC} has a new comment from the Ministry.")))
            }
            (_, false) => None,
        },
        DomainEvent::FileAdded { case_id, author_side, shared, .. } => match (author_side, shared) {
            (Side::School, _) => {
                Some(cm(case_id, "New document from the school", "The school added a document to a case your provider is working."))
            }
            (Side::Provider, true) => {
                Some(pc(case_id, "New document from the provider", format!("{PC} has a new document from the provider.")))
            }
            (Side::Ministry, true) => {
                Some(pc(case_id, "New document from the Ministry", format!("{PC} has a new document from the Ministry.")))
            }
            (_, false) => None,
        },
        DomainEvent::ActivityRecorded { case_id, author_side: Side::Provider, shared: true, activity, .. } => {
            let what = match activity.as_str() {
                "school_meeting" => "a meeting with the school",
                "whanau_meeting" => "a meeting with the student and whānau",
                "phone_call" => "a phone call",
                "home_visit" => "a home visit",
                _ => "an activity",
            };
            Some(pc(case_id, "New record from the provider", format!("The provider recorded {what} on a case you are the School Primary Contact for.")))
        }
        DomainEvent::CasesReassigned { case_id, cases, .. } => Some(Notice {
            link: Link::Home,
            ..cm(
                case_id,
                &format!("{cases} {} reassigned to you", if *cases == 1 { "case has been" } else { "cases have been" }),
                &format!(
                    "Your provider admin has reassigned {cases} {} to you from another Case Manager. They are in your list of cases assigned to you.",
                    if *cases == 1 { "case" } else { "cases" }
                ),
            )
        }),
        DomainEvent::PrimaryContactChanged { case_id, .. } => Some(pc(
            case_id,
            "You are now the School Primary Contact for an attendance case",
            "You have been named the School Primary Contact for an attendance case: the provider will keep you informed of its progress, and you can add comments and documents.".to_string(),
        )),
        _ => None,
    }
}

/// Whose mailbox a notice goes to on this case.
pub fn recipient(audience: Audience, case: &Case) -> Recipient {
    match audience {
        Audience::PrimaryContact => case.primary_contact.clone().map_or(Recipient::Nobody, Recipient::User),
        Audience::CaseManager => match (&case.case_manager, &case.provider_id) {
            (Some(u), _) => Recipient::User(u.clone()),
            (None, Some(p)) => Recipient::ProviderQueue(p.clone()),
            (None, None) => Recipient::Nobody,
        },
    }
}

/// The once-only key for this event's email to this audience.
pub fn marker_key(event_id: &EventId, audience: Audience) -> String {
    format!("EMAIL#{event_id}#{}", audience.as_str())
}

/// The email for a notice, addressed to `to`, linking to the case at `portal_base_url`.
pub fn render(notice: &Notice, to: &str, portal_base_url: &str) -> Email {
    let base = portal_base_url.trim_end_matches('/');
    let (where_, link) = match notice.link {
        Link::Case => ("View the case in the Attendance Service Portal", format!("{base}/cases/{}", notice.case_id)),
        Link::Home => ("Open the Attendance Service Portal", format!("{base}/")),
    };
    let body = format!(
        "Kia ora,\n\n{}\n\n{where_}:\n{link}\n\n\
         For privacy this email does not include any student details; sign in to the portal to see them.\n\n\
         Attendance Services (this mailbox is not monitored)\n",
        notice.what
    );
    Email { to: to.to_string(), subject: notice.subject.clone(), body }
}

/// The reminder that a draft request will be deleted: to its author, with a link to the draft
/// (no student details, as every email).
pub fn draft_reminder(referral: &crate::referral::Referral, to: &str, portal_base_url: &str) -> Option<Email> {
    let expires = crate::nz_date(referral.expires_at()?);
    let link = format!("{}/referrals/{}", portal_base_url.trim_end_matches('/'), referral.id);
    let body = format!(
        "Kia ora,\n\nA draft request for support you started has not been changed for {} days. Unless it is submitted \
         or saved again, it will be deleted on {} (drafts hold a child's details, so they are not kept for ever).\n\n\
         Open the draft in the Attendance Service Portal:\n{link}\n\n\
         For privacy this email does not include any student details; sign in to the portal to see them.\n\n\
         Attendance Services (this mailbox is not monitored)\n",
        crate::referral::DRAFT_TTL_DAYS - crate::referral::DRAFT_REMINDER_DAYS,
        expires.format("%-d %B %Y"),
    );
    Some(Email { to: to.to_string(), subject: "Your draft request for support will be deleted in 7 days".into(), body })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activity::tests::case;
    use crate::case::{CaseStatus, CaseType};
    use crate::catchment::AllocationRoute;
    use crate::ids::{CatchmentId, EntryId, SchoolId};
    use proptest::prelude::*;

    fn comment(side: Side, shared: bool) -> DomainEvent {
        DomainEvent::CommentAdded {
            case_id: CaseId::parse("C1").unwrap(),
            case_type: CaseType::Ca,
            school_id: SchoolId::parse("1001").unwrap(),
            provider_id: None,
            entry_id: EntryId::parse("E1").unwrap(),
            author_side: side,
            shared,
        }
    }

    #[test]
    fn a_shared_meeting_record_and_a_new_primary_contact_are_emailed_to_the_contact() {
        let activity = |shared: bool| DomainEvent::ActivityRecorded {
            case_id: CaseId::parse("C1").unwrap(),
            case_type: CaseType::Ca,
            school_id: SchoolId::parse("1001").unwrap(),
            provider_id: None,
            entry_id: EntryId::parse("E1").unwrap(),
            activity: "school_meeting".into(),
            author_side: Side::Provider,
            shared,
        };
        let n = notice_for(&activity(true)).expect("a shared meeting record is told");
        assert_eq!(n.audience, Audience::PrimaryContact);
        assert!(n.what.contains("a meeting with the school"), "{}", n.what);
        assert_eq!(notice_for(&activity(false)), None, "an unshared record is not");
        let changed = DomainEvent::PrimaryContactChanged {
            case_id: CaseId::parse("C1").unwrap(),
            case_type: CaseType::Ca,
            school_id: SchoolId::parse("1001").unwrap(),
        };
        assert_eq!(notice_for(&changed).map(|n| n.audience), Some(Audience::PrimaryContact));
    }

    fn file(side: Side, shared: bool) -> DomainEvent {
        DomainEvent::FileAdded {
            case_id: CaseId::parse("C1").unwrap(),
            case_type: CaseType::Ca,
            school_id: SchoolId::parse("1001").unwrap(),
            provider_id: None,
            file_id: "F1".into(),
            author_side: side,
            shared,
        }
    }

    #[test]
    fn who_is_told_what() {
        let aud = |e: DomainEvent| notice_for(&e).map(|n| n.audience);
        assert_eq!(aud(comment(Side::School, true)), Some(Audience::CaseManager));
        assert_eq!(aud(comment(Side::Provider, true)), Some(Audience::PrimaryContact));
        assert_eq!(aud(comment(Side::Provider, false)), None);
        assert_eq!(aud(comment(Side::Ministry, false)), None);
        assert_eq!(aud(file(Side::School, true)), Some(Audience::CaseManager));
        assert_eq!(aud(file(Side::Provider, true)), Some(Audience::PrimaryContact));
        assert_eq!(aud(file(Side::Provider, false)), None);
        let changed = DomainEvent::CaseStatusChanged {
            case_id: CaseId::parse("C1").unwrap(),
            case_type: CaseType::Ca,
            school_id: SchoolId::parse("1001").unwrap(),
            provider_id: None,
            from: CaseStatus::ProviderQueue,
            to: CaseStatus::Open,
            reason: None,
        };
        let n = notice_for(&changed).unwrap();
        assert_eq!(n.audience, Audience::PrimaryContact);
        assert_eq!(n.what, "A case you are the School Primary Contact for has changed status: Provider Queue → Open.");
        let allocated = DomainEvent::CaseAllocated {
            case_id: CaseId::parse("C1").unwrap(),
            case_type: CaseType::Ca,
            provider_id: ProviderId::parse("P01").unwrap(),
            catchment_id: CatchmentId::parse("C01").unwrap(),
            route: AllocationRoute::CatchmentOfSchool,
        };
        assert_eq!(aud(allocated), Some(Audience::PrimaryContact));
        let created = DomainEvent::NenReceived {
            case_id: CaseId::parse("C1").unwrap(),
            school_id: SchoolId::parse("1001").unwrap(),
            notification_id: "n".into(),
        };
        assert_eq!(aud(created), None);
    }

    #[test]
    fn case_manager_falls_back_to_the_provider_queue() {
        let mut c = case();
        assert_eq!(recipient(Audience::CaseManager, &c), Recipient::User(UserId::parse("cm").unwrap()));
        assert_eq!(recipient(Audience::PrimaryContact, &c), Recipient::User(UserId::parse("pc").unwrap()));
        c.case_manager = None;
        assert_eq!(recipient(Audience::CaseManager, &c), Recipient::ProviderQueue(ProviderId::parse("P01").unwrap()));
        c.provider_id = None;
        assert_eq!(recipient(Audience::CaseManager, &c), Recipient::Nobody);
        c.primary_contact = None;
        assert_eq!(recipient(Audience::PrimaryContact, &c), Recipient::Nobody);
    }

    #[test]
    fn email_links_to_the_case_and_names_no_one() {
        let n = notice_for(&comment(Side::School, true)).unwrap();
        let e = render(&n, "cm@example.nz", "https://portal.example/");
        assert_eq!(e.to, "cm@example.nz");
        assert!(e.body.contains("https://portal.example/cases/C1\n"), "{}", e.body);
        assert!(e.body.contains("The school added a comment"));
        assert_eq!(marker_key(&EventId::parse("E9").unwrap(), n.audience), "EMAIL#E9#case_manager");
    }

    proptest! {
        /// School additions always reach the provider; provider and Ministry additions reach the
        /// school only when shared.
        #[test]
        fn additions_notify_the_other_side_only_when_shared(side in prop::sample::select(vec![Side::School, Side::Provider, Side::Ministry]), shared: bool, comment_event: bool) {
            let e = if comment_event { comment(side, shared) } else { file(side, shared) };
            let want = match side {
                Side::School => Some(Audience::CaseManager),
                _ if shared => Some(Audience::PrimaryContact),
                _ => None,
            };
            prop_assert_eq!(notice_for(&e).map(|n| n.audience), want);
        }
    }
}
