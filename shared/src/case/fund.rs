//! Spends from the provider's Unmet Basic Needs Fund on a case, as the case keeps them (the
//! rules: [`crate::fund`]).

use super::By;
use crate::ids::EntryId;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

codes! {
    /// What a spend paid for ("such as clothing, transport, or equipment", the guide).
    pub enum FundCategory {
        Clothing = "clothing",
        Transport = "transport",
        Equipment = "equipment",
        Food = "food",
        Other = "other",
    }
}

/// Money from the fund spent on an unmet basic need of the case's student.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FundSpend {
    pub id: EntryId,
    pub category: FundCategory,
    /// In cents (NZD, GST inclusive as paid).
    pub amount_cents: u64,
    /// The day it was spent: the contract year it counts in.
    pub on: NaiveDate,
    /// The contract year it counts in, by its first year ("2026" is 1 July 2026 – 30 June 2027).
    pub contract_year: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// A file on the case (the receipt).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt_file_id: Option<String>,
    pub by: By,
    pub at: DateTime<Utc>,
    /// Money returned (part or all of it), in cents.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub refunded_cents: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refunds: Vec<FundRefund>,
}

/// Money of a spend returned to the fund (goods returned, a cheaper option found).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FundRefund {
    pub amount_cents: u64,
    pub on: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub by: By,
    pub at: DateTime<Utc>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl FundSpend {
    /// What the spend still takes from the fund.
    pub fn net_cents(&self) -> u64 {
        self.amount_cents - self.refunded_cents
    }
}

/// The change to a provider's fund counter made with a case change: written only if the counter
/// is still at `seen_cents` (a concurrent spend makes it a conflict, decided again on the new total).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FundMove {
    pub provider_id: crate::ids::ProviderId,
    pub contract_year: i32,
    pub seen_cents: u64,
    pub spent_cents: u64,
}
