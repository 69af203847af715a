//! The one state machine: every status change a case can make — by a person (the provider's
//! lifecycle, CIT), by intake (a CA request converting or reopening a case) or by the system
//! (allocation, ENROL, the nightly job) — is a [`Move`], and [`Move::target`] is the one
//! transition table. [`Case::moved`] is the only code that changes a case's status after it is
//! created (a test in this module reads the crate and the functions to keep it so).
//!
//! ```text
//!  Awaiting Allocation ──allocate──▶ Provider Queue ──assign──▶ Open ──transition──▶ Transition ──close──▶ Closed
//!         ▲   CIT Review ──CIT allocate─┘   ▲                  │ ▲ ▲                   │                       │
//!         │        │ └──CIT close──▶ Closed  │            pause │ │ └──────reopen───────┘                       │
//!         └─convert to CA                    │                  ▼ │ reopen (provider, ENROL, sixth birthday)     │
//!                                             │                Paused                                          │
//!   CIT transfer (Provider Queue, Open, Transition, Paused) ──▶ Provider Queue                                 │
//!   a new request within 3 months: Closed ──▶ Provider Queue (same school) or Awaiting Allocation (another) ◀──┘
//!   Open ──close──▶ Closed
//! ```

use super::{Case, CaseStatus};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Why a case was closed (the seeds' three reasons).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CloseReason {
    /// The student is attending regularly.
    AttendingRegularly,
    /// Not attending regularly, but well engaged with the support the school provides.
    EngagedWithSchoolSupport,
    /// A student aged 16 or over chose not to continue receiving support.
    ChoseNotToContinue,
    /// The Central Investigations Team closed a NEN case that needs no provider (its reason is on
    /// the timeline). Not a reason a provider can choose.
    ClosedByCit,
}

impl CloseReason {
    pub fn as_str(self) -> &'static str {
        match self {
            CloseReason::AttendingRegularly => "attending_regularly",
            CloseReason::EngagedWithSchoolSupport => "engaged_with_school_support",
            CloseReason::ChoseNotToContinue => "chose_not_to_continue",
            CloseReason::ClosedByCit => "closed_by_cit",
        }
    }
}

/// The provider's attestation before pausing (all four must hold, per the seeds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PauseAttestation {
    /// The child has been located.
    pub child_located: bool,
    /// The provider has been in contact with the whānau to explore pathways to re-enrolment.
    pub whanau_contacted: bool,
    /// The child is safe and the whānau made an informed choice to wait until the child is older.
    pub safe_and_informed_choice: bool,
    /// The child has been withdrawn from school.
    pub withdrawn_from_school: bool,
}

/// Every way a case's status changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Move {
    /// Automatic allocation of a CA case to its catchment provider or ISP.
    Allocate,
    /// CIT allocates a NEN case to a provider.
    CitAllocate,
    /// CIT closes a NEN case that needs no provider.
    CitClose,
    /// CIT moves an active case to another provider's queue.
    CitTransfer,
    /// Set or replace the Case Manager (the first assignment opens the case).
    Assign,
    /// The provider steps back; the school leads.
    Transition,
    /// The provider closes the case (with one of the seeds' reasons).
    Close,
    /// A child under six withdrawn by their whānau.
    Pause,
    /// The provider reopens a paused or transitioning case.
    Reopen,
    /// ENROL (the child re-enrolled) or the nightly job (the child turned six) reopens a paused case.
    AutoReopen,
    /// A CA request for a NEN case still in CIT review: allocated as a CA case.
    ConvertToCa,
    /// A new request from the same school within 3 months of closing: back to its provider's queue.
    ReopenByRequest,
    /// A new request from the school ENROL reports the student enrolled at: allocated afresh.
    ReopenAtSchool,
}

impl Move {
    pub const ALL: [Move; 13] = [
        Move::Allocate,
        Move::CitAllocate,
        Move::CitClose,
        Move::CitTransfer,
        Move::Assign,
        Move::Transition,
        Move::Close,
        Move::Pause,
        Move::Reopen,
        Move::AutoReopen,
        Move::ConvertToCa,
        Move::ReopenByRequest,
        Move::ReopenAtSchool,
    ];

    /// The transition table: where this move takes a case in status `from`, if it may start there.
    pub fn target(self, from: CaseStatus) -> Option<CaseStatus> {
        use CaseStatus::*;
        match (self, from) {
            (Move::Allocate, AwaitingAllocation) => Some(ProviderQueue),
            (Move::CitAllocate, CitReview) => Some(ProviderQueue),
            (Move::CitClose, CitReview) => Some(Closed),
            (Move::CitTransfer, ProviderQueue | Open | Transition | Paused) => Some(ProviderQueue),
            (Move::Assign, ProviderQueue) => Some(Open),
            // replacing the Case Manager leaves the status as it is
            (Move::Assign, Open | Transition | Paused) => Some(from),
            (Move::Transition, Open) => Some(Transition),
            (Move::Close, Open | Transition) => Some(Closed),
            (Move::Pause, Open) => Some(Paused),
            (Move::Reopen, Paused | Transition) => Some(Open),
            (Move::AutoReopen, Paused) => Some(Open),
            (Move::ConvertToCa, CitReview) => Some(AwaitingAllocation),
            (Move::ReopenByRequest, Closed) => Some(ProviderQueue),
            (Move::ReopenAtSchool, Closed) => Some(AwaitingAllocation),
            _ => None,
        }
    }

    /// The move in words, for "a case that is … cannot be …".
    pub fn verb(self) -> &'static str {
        match self {
            Move::Allocate | Move::CitAllocate => "allocated",
            Move::CitClose | Move::Close => "closed",
            Move::CitTransfer => "transferred",
            Move::Assign => "assigned",
            Move::Transition => "moved to transition",
            Move::Pause => "paused",
            Move::Reopen | Move::AutoReopen | Move::ReopenByRequest | Move::ReopenAtSchool => "reopened",
            Move::ConvertToCa => "converted to a CA case",
        }
    }
}

/// A move the table does not allow from the case's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("A case that is {} cannot be {}.", .from.words(), .to_do.verb())]
pub struct NotAllowed {
    pub from: CaseStatus,
    pub to_do: Move,
}

impl CaseStatus {
    /// The status's name, as the guide writes it (emails, the portal).
    pub fn name(self) -> &'static str {
        match self {
            CaseStatus::AwaitingAllocation => "Awaiting Allocation",
            CaseStatus::CitReview => "CIT Review",
            CaseStatus::ProviderQueue => "Provider Queue",
            CaseStatus::Open => "Open",
            CaseStatus::Transition => "Transition",
            CaseStatus::Paused => "Paused",
            CaseStatus::Closed => "Closed",
        }
    }

    /// The status in a sentence: "a case that is …".
    pub fn words(self) -> &'static str {
        match self {
            CaseStatus::AwaitingAllocation => "awaiting allocation",
            CaseStatus::CitReview => "in CIT review",
            CaseStatus::ProviderQueue => "in a provider queue",
            CaseStatus::Open => "open",
            CaseStatus::Transition => "in transition",
            CaseStatus::Paused => "paused",
            CaseStatus::Closed => "closed",
        }
    }
}

impl Case {
    /// The case after `m`: the status the table gives, the version bumped, `updated_at` now. The
    /// only way a case's status changes; what else the move changes is its caller's to set.
    pub fn moved(&self, m: Move, now: DateTime<Utc>) -> Result<Case, NotAllowed> {
        let to = m.target(self.status).ok_or(NotAllowed { from: self.status, to_do: m })?;
        Ok(Case { status: to, ..self.bumped(now) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_leaves_a_closed_case_but_a_new_request() {
        // "If a case is closed and the student needs support again within 3 months, the school
        // can submit a new CA request; the case reopens" (the guide): only intake reopens it.
        let from_closed: Vec<Move> = Move::ALL.into_iter().filter(|m| m.target(CaseStatus::Closed).is_some()).collect();
        assert_eq!(from_closed, vec![Move::ReopenByRequest, Move::ReopenAtSchool]);
    }

    #[test]
    fn only_cit_moves_a_case_out_of_cit_review() {
        let out: Vec<Move> = Move::ALL.into_iter().filter(|m| m.target(CaseStatus::CitReview).is_some()).collect();
        assert_eq!(out, vec![Move::CitAllocate, Move::CitClose, Move::ConvertToCa]);
    }

    #[test]
    fn every_status_but_awaiting_allocation_and_cit_review_is_reached_and_every_move_starts_somewhere() {
        for m in Move::ALL {
            assert!(CaseStatus::ALL.into_iter().any(|s| m.target(s).is_some()), "{m:?} starts nowhere");
        }
        for s in CaseStatus::ALL {
            let reached = Move::ALL.into_iter().any(|m| CaseStatus::ALL.into_iter().any(|f| f != s && m.target(f) == Some(s)));
            assert_eq!(reached, s != CaseStatus::CitReview, "{s:?}");
        }
    }

    #[test]
    fn a_refused_move_says_where_the_case_is_in_words() {
        let e = NotAllowed { from: CaseStatus::ProviderQueue, to_do: Move::Transition };
        assert_eq!(e.to_string(), "A case that is in a provider queue cannot be moved to transition.");
    }

    /// The one place: no production code outside this file sets a case's status by hand.
    #[test]
    fn no_code_sets_a_case_status_but_case_moved() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf();
        let mut files = Vec::new();
        let mut dirs = vec![root.join("shared"), root.join("functions")];
        while let Some(d) = dirs.pop() {
            for e in std::fs::read_dir(&d).unwrap().flatten() {
                let p = e.path();
                if p.is_dir() && !p.ends_with("target") {
                    dirs.push(p);
                } else if p.extension().is_some_and(|x| x == "rs") && !p.ends_with("tests.rs") && !p.ends_with("case/status.rs") {
                    files.push(p);
                }
            }
        }
        assert!(files.len() > 40, "read {} files: the walk missed the code", files.len());
        let mut by_hand = Vec::new();
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            // the production part of the file: what comes before its unit tests
            let code = text.split("#[cfg(test)]\nmod tests").next().unwrap_or("");
            let code = code.split("#[cfg(test)]\npub(crate) mod tests").next().unwrap_or("");
            for (i, line) in code.lines().enumerate() {
                let l = line.trim();
                let sets = l.contains(".status = ") && !l.starts_with("//");
                let of_case = sets && !l.contains("FileStatus") && !l.contains("ReferralStatus") && !l.contains("p.status = ");
                if of_case {
                    by_hand.push(format!("{}:{}: {l}", f.display(), i + 1));
                }
            }
        }
        assert!(by_hand.is_empty(), "a case's status set outside Case::moved:\n{}", by_hand.join("\n"));
    }
}
