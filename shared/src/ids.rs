//! Identifiers. Each is a newtype that can only hold a well-formed value, so a key built from one
//! (`CASE#<id>`) can never smuggle a `#` or whitespace into the table.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a string is not a valid identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be 1 to 64 letters, digits, '-' or '_'")]
pub struct InvalidId;

fn check(s: &str) -> Result<(), InvalidId> {
    let ok = !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(InvalidId)
    }
}

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn parse(s: impl Into<String>) -> Result<Self, InvalidId> {
                let s = s.into();
                check(&s)?;
                Ok(Self(s))
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl TryFrom<String> for $name {
            type Error = InvalidId;
            fn try_from(s: String) -> Result<Self, InvalidId> {
                Self::parse(s)
            }
        }
        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_type!(
    /// A case (CA or NEN), a ULID.
    CaseId
);
id_type!(
    /// A CA request (draft or submitted), a ULID.
    ReferralId
);
id_type!(
    /// A school, by its Ministry school number.
    SchoolId
);
id_type!(
    /// An attendance service provider (catchment provider or a school's In-School Provision).
    ProviderId
);
id_type!(
    /// One of the 84 catchments.
    CatchmentId
);
id_type!(
    /// A Ministry region.
    RegionId
);
id_type!(
    /// A portal user (the `sub` of their token).
    UserId
);
id_type!(
    /// A domain event; consumers de-duplicate on it.
    EventId
);
id_type!(
    /// A timeline entry.
    EntryId
);

impl CaseId {
    pub fn new_ulid() -> Self {
        Self(ulid::Ulid::new().to_string())
    }
}
impl ReferralId {
    pub fn new_ulid() -> Self {
        Self(ulid::Ulid::new().to_string())
    }
}
impl EventId {
    pub fn new_ulid() -> Self {
        Self(ulid::Ulid::new().to_string())
    }
}
impl EntryId {
    pub fn new_ulid() -> Self {
        Self(ulid::Ulid::new().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rejects_separators_and_empty() {
        assert!(CaseId::parse("").is_err());
        assert!(CaseId::parse("a#b").is_err());
        assert!(CaseId::parse("a b").is_err());
        assert!(CaseId::parse("x".repeat(65)).is_err());
        assert!(CaseId::parse("01J-abc_9").is_ok());
    }

    proptest! {
        #[test]
        fn parsed_ids_never_contain_key_separators(s in ".{0,80}") {
            if let Ok(id) = SchoolId::parse(s.clone()) {
                prop_assert!(!id.as_str().contains('#'));
                prop_assert_eq!(id.as_str(), s.as_str());
            }
        }
    }
}
