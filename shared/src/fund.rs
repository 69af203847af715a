//! The Unmet Basic Needs Fund (issue 15, item 4).
//!
//! "Providers may use up to **3% of their contract funding** to help meet unmet basic needs when
//! these are significantly affecting attendance" (the guide), "such as clothing, transport, or
//! equipment … when these are significantly affecting attendance and can't be met elsewhere".
//!
//! So:
//! - a provider's contract value per year is in its reference data
//!   ([`crate::catchment::Provider::contract_cents_per_year`]) and its cap is 3 % of it
//!   ([`cap_cents`], rounded down to the cent);
//! - the case's provider staff record a spend on a case ([`spend`]): category, amount in cents,
//!   the day, a note, an optional receipt (a file on the case). It counts in the contract year of
//!   its day ([`ContractYear`]: 1 July – 30 June, the Crown's financial year, ADR 0022);
//! - part or all of a spend may be returned ([`refund`]), which gives the money back to that year;
//! - a spend that would take the provider's total for the year above the cap is refused with the
//!   remaining balance ([`Ledger::spend`]). The total is one counter per provider and year, moved in
//!   the same transaction as the case and only if it still holds the total the decision was made
//!   on ([`FundMove`]): concurrent spends cannot both pass the cap.
//!
//! Spends are the provider's accountability, not the school's business: unshared timeline
//! entries, removed from the school's view of the case, no event.

use crate::access::{permits, CaseAction};
use crate::actor::Actor;
use crate::case::{By, Case, CaseChange, TimelineEntry, TimelineKind};
use crate::catchment::Provider;
use crate::ids::EntryId;
use crate::text::{note, NoteProblem};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::Serialize;

pub use crate::case::fund::{FundCategory, FundMove, FundRefund, FundSpend};

/// The cap: 3 % of the contract value ("up to 3% of their contract funding").
pub const CAP_PERCENT: u64 = 3;
/// The largest single spend accepted, in cents ($100,000: a guard against a mistyped amount).
pub const MAX_SPEND_CENTS: u64 = 10_000_000;
/// The longest note kept.
pub const MAX_NOTE: usize = 500;

/// What a provider may spend from the fund in a contract year.
pub fn cap_cents(contract_cents_per_year: u64) -> u64 {
    contract_cents_per_year / 100 * CAP_PERCENT + contract_cents_per_year % 100 * CAP_PERCENT / 100
}

/// A contract year, 1 July to 30 June, named by the year it starts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ContractYear(pub i32);

impl ContractYear {
    pub fn of(day: NaiveDate) -> ContractYear {
        ContractYear(if day.month() >= 7 { day.year() } else { day.year() - 1 })
    }
    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.0, 7, 1).unwrap_or(NaiveDate::MIN)
    }
    pub fn last_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.0 + 1, 6, 30).unwrap_or(NaiveDate::MAX)
    }
    /// "2026/27".
    pub fn label(self) -> String {
        format!("{}/{:02}", self.0, (self.0 + 1).rem_euclid(100))
    }
}

/// A provider's fund for one contract year: its cap and what is spent (net of refunds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Ledger {
    pub cap_cents: u64,
    pub spent_cents: u64,
}

impl Ledger {
    pub fn remaining_cents(&self) -> u64 {
        self.cap_cents.saturating_sub(self.spent_cents)
    }
    /// The ledger after spending `amount`, or the refusal with what is left.
    pub fn spend(self, amount: u64) -> Result<Ledger, FundError> {
        match self.spent_cents.checked_add(amount) {
            Some(total) if total <= self.cap_cents => Ok(Ledger { spent_cents: total, ..self }),
            _ => Err(FundError::OverCap { remaining_cents: self.remaining_cents(), cap_cents: self.cap_cents }),
        }
    }
    /// The ledger after `amount` is returned (never below nothing).
    pub fn refund(self, amount: u64) -> Result<Ledger, FundError> {
        let spent = self.spent_cents.checked_sub(amount).ok_or(FundError::CounterBehind)?;
        Ok(Ledger { spent_cents: spent, ..self })
    }
}

fn dollars(cents: u64) -> String {
    let d = cents / 100;
    let mut s = d.to_string();
    let mut i = s.len() as isize - 3;
    while i > 0 {
        s.insert(i as usize, ',');
        i -= 3;
    }
    format!("${s}.{:02}", cents % 100)
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FundError {
    #[error("Only the case's provider staff spend from the Unmet Basic Needs Fund.")]
    NotPermitted,
    #[error("This case is closed: it can be read, but nothing more can be added to it.")]
    Closed,
    #[error("The Ministry has not recorded this provider's contract value, so its Unmet Basic Needs Fund cannot be used yet.")]
    NoContract,
    #[error(
        "This spend would take the provider's Unmet Basic Needs Fund above its cap of {} (3 % of the contract) for the year: {} is left.",
        dollars(*cap_cents),
        dollars(*remaining_cents)
    )]
    OverCap { remaining_cents: u64, cap_cents: u64 },
    #[error("The amount must be at least one cent and at most $100,000.00.")]
    Amount,
    #[error("The date cannot be in the future.")]
    FutureDate,
    #[error("Say what the money paid for: a spend of category other needs a note.")]
    NoteRequired,
    #[error("The note is too long: at most {MAX_NOTE} characters.")]
    NoteTooLong,
    #[error("The note must not contain control characters.")]
    ControlCharacters,
    #[error("This case has no spend with that id.")]
    Unknown,
    #[error("The refund cannot be more than what is left of the spend ({}).", dollars(*left_cents))]
    RefundTooLarge { left_cents: u64 },
    #[error("A refund cannot be dated before its spend.")]
    RefundBeforeSpend,
    /// The stored counter holds less than the case's spends (it cannot, unless it was edited by
    /// hand): refused rather than going below zero.
    #[error("The fund's total for the year is out of step with its spends; the Ministry has been told.")]
    CounterBehind,
}

fn text(s: Option<&str>) -> Result<Option<String>, FundError> {
    note(s, MAX_NOTE).map_err(|e| match e {
        NoteProblem::TooLong => FundError::NoteTooLong,
        NoteProblem::ControlCharacters => FundError::ControlCharacters,
    })
}

/// What a spend says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpendInput<'a> {
    pub category: FundCategory,
    pub amount_cents: u64,
    pub on: NaiveDate,
    pub note: Option<&'a str>,
    pub receipt_file_id: Option<String>,
}

fn may_spend(case: &Case, actor: &Actor, provider: &Provider) -> Result<u64, FundError> {
    if !permits(actor, case, CaseAction::SpendFund) || case.provider_id.as_ref() != Some(&provider.id) {
        return Err(FundError::NotPermitted);
    }
    case.still_open(FundError::Closed)?;
    provider.contract_cents_per_year.map(cap_cents).ok_or(FundError::NoContract)
}

/// The case's provider staff spend from the provider's fund; `spent_cents` is the provider's
/// total for the contract year of `input.on` as the store holds it now.
pub fn spend(
    case: &Case,
    actor: &Actor,
    provider: &Provider,
    spent_cents: u64,
    input: SpendInput<'_>,
    now: DateTime<Utc>,
    today: NaiveDate,
) -> Result<CaseChange, FundError> {
    let cap = may_spend(case, actor, provider)?;
    if input.amount_cents == 0 || input.amount_cents > MAX_SPEND_CENTS {
        return Err(FundError::Amount);
    }
    if input.on > today {
        return Err(FundError::FutureDate);
    }
    let note = text(input.note)?;
    if input.category == FundCategory::Other && note.is_none() {
        return Err(FundError::NoteRequired);
    }
    let year = ContractYear::of(input.on);
    let after = Ledger { cap_cents: cap, spent_cents }.spend(input.amount_cents)?;
    let s = FundSpend {
        id: EntryId::new_ulid(),
        category: input.category,
        amount_cents: input.amount_cents,
        on: input.on,
        contract_year: year.0,
        note,
        receipt_file_id: input.receipt_file_id,
        by: By::actor(actor),
        at: now,
        refunded_cents: 0,
        refunds: Vec::new(),
    };
    let entry = TimelineEntry::new(
        &case.id,
        now,
        By::actor(actor),
        false,
        TimelineKind::FundSpent { spend_id: s.id.clone(), category: s.category, amount_cents: s.amount_cents },
    );
    let mut next = case.bumped(now);
    next.fund_spends.push(s);
    let mut change = CaseChange::of(case, next, vec![entry], Vec::new());
    change.fund =
        Some(FundMove { provider_id: provider.id.clone(), contract_year: year.0, seen_cents: spent_cents, spent_cents: after.spent_cents });
    Ok(change)
}

/// The contract year a spend on the case counts in (to read its counter before [`refund`]).
pub fn year_of(case: &Case, spend_id: &EntryId) -> Result<ContractYear, FundError> {
    case.fund_spends.iter().find(|s| &s.id == spend_id).map(|s| ContractYear(s.contract_year)).ok_or(FundError::Unknown)
}

/// Part or all of a spend returned to the fund; `spent_cents` is the provider's total for the
/// spend's contract year as the store holds it now.
#[allow(clippy::too_many_arguments)]
pub fn refund(
    case: &Case,
    actor: &Actor,
    provider: &Provider,
    spent_cents: u64,
    spend_id: &EntryId,
    amount_cents: u64,
    on: NaiveDate,
    note: Option<&str>,
    now: DateTime<Utc>,
    today: NaiveDate,
) -> Result<CaseChange, FundError> {
    let cap = may_spend(case, actor, provider)?;
    let current = case.fund_spends.iter().find(|s| &s.id == spend_id).ok_or(FundError::Unknown)?;
    if amount_cents == 0 {
        return Err(FundError::Amount);
    }
    if amount_cents > current.net_cents() {
        return Err(FundError::RefundTooLarge { left_cents: current.net_cents() });
    }
    if on > today {
        return Err(FundError::FutureDate);
    }
    if on < current.on {
        return Err(FundError::RefundBeforeSpend);
    }
    let note = text(note)?;
    let after = Ledger { cap_cents: cap, spent_cents }.refund(amount_cents)?;
    let entry =
        TimelineEntry::new(&case.id, now, By::actor(actor), false, TimelineKind::FundRefunded { spend_id: spend_id.clone(), amount_cents });
    let mut next = case.bumped(now);
    if let Some(s) = next.fund_spends.iter_mut().find(|s| &s.id == spend_id) {
        s.refunded_cents += amount_cents;
        s.refunds.push(FundRefund { amount_cents, on, note, by: By::actor(actor), at: now });
    }
    let mut change = CaseChange::of(case, next, vec![entry], Vec::new());
    change.fund = Some(FundMove {
        provider_id: provider.id.clone(),
        contract_year: current.contract_year,
        seen_cents: spent_cents,
        spent_cents: after.spent_cents,
    });
    Ok(change)
}

/// A provider's fund for a year as its staff and the Ministry see it (`GET /providers/{id}/fund`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FundSummary {
    pub provider_id: crate::ids::ProviderId,
    pub contract_year: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub contract_cents: Option<u64>,
    pub cap_cents: u64,
    pub spent_cents: u64,
    pub remaining_cents: u64,
}

pub fn summary(provider: &Provider, year: ContractYear, spent_cents: u64) -> FundSummary {
    let cap = provider.contract_cents_per_year.map(cap_cents).unwrap_or(0);
    let l = Ledger { cap_cents: cap, spent_cents };
    FundSummary {
        provider_id: provider.id.clone(),
        contract_year: year.label(),
        from: year.first_day(),
        to: year.last_day(),
        contract_cents: provider.contract_cents_per_year,
        cap_cents: cap,
        spent_cents,
        remaining_cents: l.remaining_cents(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actor::Role;
    use crate::fixtures::{actor, case, cm, now, today};
    use crate::ids::ProviderId;
    use proptest::prelude::*;

    /// A provider with a $100,000 contract: a $3,000.00 cap.
    fn provider() -> Provider {
        crate::fixtures::provider(Some(10_000_000))
    }
    fn input(amount_cents: u64) -> SpendInput<'static> {
        SpendInput { category: FundCategory::Clothing, amount_cents, on: today(), note: None, receipt_file_id: None }
    }

    #[test]
    fn the_cap_is_three_percent_of_the_contract_rounded_down() {
        assert_eq!(cap_cents(10_000_000), 300_000);
        assert_eq!(cap_cents(99), 2);
        assert_eq!(cap_cents(1_999), 59, "3 % of $19.99 is 59.97 cents");
        assert_eq!(cap_cents(u64::MAX), u64::MAX / 100 * 3, "no overflow");
    }

    #[test]
    fn a_contract_year_runs_from_july_to_june() {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(ContractYear::of(d(2026, 6, 30)), ContractYear(2025));
        assert_eq!(ContractYear::of(d(2026, 7, 1)), ContractYear(2026));
        assert_eq!(ContractYear(2026).label(), "2026/27");
        assert_eq!(ContractYear(1999).label(), "1999/00");
        assert_eq!((ContractYear(2026).first_day(), ContractYear(2026).last_day()), (d(2026, 7, 1), d(2027, 6, 30)));
    }

    #[test]
    fn a_spend_is_recorded_unshared_and_moves_the_counter_it_was_decided_on() {
        let ch = spend(&case(), &cm(), &provider(), 1_000, input(12_550), now(), today()).unwrap();
        let s = &ch.case.fund_spends[0];
        assert_eq!((s.amount_cents, s.contract_year, s.category), (12_550, 2026, FundCategory::Clothing));
        assert!(!ch.timeline[0].shared_with_school);
        assert!(ch.events.is_empty(), "no event carries a spend");
        assert_eq!(ch.fund, Some(FundMove { provider_id: provider().id, contract_year: 2026, seen_cents: 1_000, spent_cents: 13_550 }));
    }

    #[test]
    fn a_spend_above_the_cap_is_refused_with_the_remaining_balance() {
        let e = spend(&case(), &cm(), &provider(), 250_000, input(50_001), now(), today()).unwrap_err();
        assert_eq!(e, FundError::OverCap { remaining_cents: 50_000, cap_cents: 300_000 });
        assert_eq!(
            e.to_string(),
            "This spend would take the provider's Unmet Basic Needs Fund above its cap of $3,000.00 (3 % of the contract) for the year: $500.00 is left."
        );
        assert!(spend(&case(), &cm(), &provider(), 250_000, input(50_000), now(), today()).is_ok(), "up to the cap is allowed");
    }

    #[test]
    fn only_the_cases_provider_staff_spend_and_only_with_a_contract_on_record() {
        for who in [
            actor(Role::AttendanceLead, "1001", "lead"),
            actor(Role::CaseManager, "P02", "cm-p02"),
            actor(Role::Cit, "ministry", "cit"),
            actor(Role::Regional, "ministry", "reg"),
        ] {
            assert_eq!(spend(&case(), &who, &provider(), 0, input(100), now(), today()), Err(FundError::NotPermitted), "{who:?}");
        }
        let mut other = provider();
        other.id = ProviderId::parse("P02").unwrap();
        assert_eq!(spend(&case(), &cm(), &other, 0, input(100), now(), today()), Err(FundError::NotPermitted), "another provider's fund");
        let none = Provider { contract_cents_per_year: None, ..provider() };
        assert_eq!(spend(&case(), &cm(), &none, 0, input(100), now(), today()), Err(FundError::NoContract));
        assert!(spend(&case(), &actor(Role::ProviderAdmin, "P01", "adm"), &provider(), 0, input(100), now(), today()).is_ok());
    }

    #[test]
    fn amounts_dates_and_notes_are_checked() {
        let c = case();
        assert_eq!(spend(&c, &cm(), &provider(), 0, input(0), now(), today()), Err(FundError::Amount));
        assert_eq!(spend(&c, &cm(), &provider(), 0, input(MAX_SPEND_CENTS + 1), now(), today()), Err(FundError::Amount));
        let later = SpendInput { on: today().succ_opt().unwrap(), ..input(100) };
        assert_eq!(spend(&c, &cm(), &provider(), 0, later, now(), today()), Err(FundError::FutureDate));
        let other = SpendInput { category: FundCategory::Other, ..input(100) };
        assert_eq!(spend(&c, &cm(), &provider(), 0, other.clone(), now(), today()), Err(FundError::NoteRequired));
        let long = "x".repeat(MAX_NOTE + 1);
        assert_eq!(
            spend(&c, &cm(), &provider(), 0, SpendInput { note: Some(&long), ..other.clone() }, now(), today()),
            Err(FundError::NoteTooLong)
        );
        assert!(spend(&c, &cm(), &provider(), 0, SpendInput { note: Some("School camp fees"), ..other }, now(), today()).is_ok());
    }

    #[test]
    fn a_spend_dated_in_june_counts_in_the_year_before() {
        let june = SpendInput { on: NaiveDate::from_ymd_opt(2026, 6, 30).unwrap(), ..input(100) };
        let ch = spend(&case(), &cm(), &provider(), 0, june, now(), today()).unwrap();
        assert_eq!(ch.fund.unwrap().contract_year, 2025);
        assert_eq!(ch.case.fund_spends[0].contract_year, 2025);
    }

    #[test]
    fn a_refund_returns_money_to_the_spends_year_and_no_more_than_was_spent() {
        let c = spend(&case(), &cm(), &provider(), 0, input(10_000), now(), today()).unwrap().case;
        let id = c.fund_spends[0].id.clone();
        assert_eq!(
            refund(&c, &cm(), &provider(), 10_000, &id, 10_001, today(), None, now(), today()),
            Err(FundError::RefundTooLarge { left_cents: 10_000 })
        );
        let ch = refund(&c, &cm(), &provider(), 10_000, &id, 4_000, today(), Some("Shoes returned"), now(), today()).unwrap();
        assert_eq!(ch.fund.as_ref().map(|f| (f.seen_cents, f.spent_cents)), Some((10_000, 6_000)));
        assert_eq!((ch.case.fund_spends[0].refunded_cents, ch.case.fund_spends[0].net_cents()), (4_000, 6_000));
        let c = ch.case;
        assert_eq!(
            refund(&c, &cm(), &provider(), 6_000, &id, 6_001, today(), None, now(), today()),
            Err(FundError::RefundTooLarge { left_cents: 6_000 })
        );
        let before = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
        assert_eq!(refund(&c, &cm(), &provider(), 6_000, &id, 1, before, None, now(), today()), Err(FundError::RefundBeforeSpend));
        let unknown = EntryId::parse("01JNOTHERE").unwrap();
        assert_eq!(refund(&c, &cm(), &provider(), 6_000, &unknown, 1, today(), None, now(), today()), Err(FundError::Unknown));
        assert_eq!(
            refund(&c, &cm(), &provider(), 10, &id, 20, today(), None, now(), today()),
            Err(FundError::CounterBehind),
            "never below zero"
        );
    }

    #[test]
    fn a_closed_case_takes_no_spend() {
        let c = Case { status: crate::case::CaseStatus::Closed, ..case() };
        assert_eq!(spend(&c, &cm(), &provider(), 0, input(100), now(), today()), Err(FundError::Closed));
    }

    proptest! {
        /// The acceptance rule: under any sequence of spends and refunds, each decided on the
        /// counter as the previous one left it, the provider's total never exceeds 3 % of its
        /// contract, the counter always equals the sum of what the spends still take, and a spend
        /// is refused exactly when it would cross the cap (with the true remaining balance).
        #[test]
        fn the_cap_holds_under_any_sequence_of_spends_and_refunds(
            contract in 0u64..50_000_000,
            ops in proptest::collection::vec((any::<bool>(), 1u64..200_000, 0usize..8), 1..40),
        ) {
            let p = Provider { contract_cents_per_year: Some(contract), ..provider() };
            let cap = cap_cents(contract);
            let mut c = case();
            let mut counter = 0u64;
            for (is_spend, amount, which) in ops {
                if is_spend || c.fund_spends.is_empty() {
                    match spend(&c, &cm(), &p, counter, input(amount), now(), today()) {
                        Ok(ch) => {
                            prop_assert!(counter + amount <= cap);
                            let m = ch.fund.clone().unwrap();
                            prop_assert_eq!(m.seen_cents, counter);
                            counter = m.spent_cents;
                            c = ch.case;
                        }
                        Err(FundError::OverCap { remaining_cents, cap_cents }) => {
                            prop_assert!(counter + amount > cap);
                            prop_assert_eq!((remaining_cents, cap_cents), (cap - counter, cap));
                        }
                        Err(e) => prop_assert!(false, "unexpected {:?}", e),
                    }
                } else {
                    let s = &c.fund_spends[which % c.fund_spends.len()];
                    let (id, left) = (s.id.clone(), s.net_cents());
                    match refund(&c, &cm(), &p, counter, &id, amount, today(), None, now(), today()) {
                        Ok(ch) => {
                            prop_assert!(amount <= left);
                            counter = ch.fund.clone().unwrap().spent_cents;
                            c = ch.case;
                        }
                        Err(FundError::RefundTooLarge { left_cents }) => {
                            prop_assert!(amount > left);
                            prop_assert_eq!(left_cents, left);
                        }
                        Err(e) => prop_assert!(false, "unexpected {:?}", e),
                    }
                }
                prop_assert!(counter <= cap);
                prop_assert_eq!(counter, c.fund_spends.iter().map(FundSpend::net_cents).sum::<u64>());
            }
        }
    }
}
