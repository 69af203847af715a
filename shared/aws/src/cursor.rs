//! Page cursors (ADR 0008): opaque to clients, signed by the store, bound to the list they page.
//!
//! A cursor is `<payload>.<mac>`, both base64url without padding: the payload is the JSON of where
//! the next page starts (an index's LastEvaluatedKey), the MAC is HMAC-SHA256 over the list's
//! binding (which list: the scope and status of `GET /cases`, the case of a timeline, …) and the
//! payload. A cursor that was altered, made up, or issued for another list fails the MAC and is
//! [`StoreError::InvalidCursor`] (the API answers 400 on the `cursor` field) — it never reaches
//! DynamoDB as an ExclusiveStartKey.
//!
//! The key is derived from `CURSOR_KEY` (template.yaml sets it per stack) or, when unset, a fixed
//! local default, and from the table name, so a cursor of one environment is not valid in another.
//! The MAC protects integrity only: what a caller may list never depends on a cursor.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use cms_domain::ports::StoreError;
use hmac::{Hmac, Mac};
use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::Sha256;
use std::sync::Arc;

/// The environment variable holding the cursor secret.
pub const CURSOR_KEY_ENV: &str = "CURSOR_KEY";
/// Used when `CURSOR_KEY` is not set (the local environment and tests).
pub const LOCAL_CURSOR_SECRET: &str = "cms-local-cursor-secret";
/// A longer cursor is refused before it is decoded.
pub const MAX_CURSOR_CHARS: usize = 2048;

type HmacSha256 = Hmac<Sha256>;

/// Signs and checks the cursors of one table.
#[derive(Clone)]
pub struct CursorSigner {
    key: Arc<[u8]>,
}

impl std::fmt::Debug for CursorSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorSigner(..)")
    }
}

fn mac_of(key: &[u8]) -> HmacSha256 {
    <HmacSha256 as Mac>::new_from_slice(key).expect("HMAC takes keys of any length")
}

impl CursorSigner {
    /// The signer for `table` from a secret.
    pub fn new(secret: &[u8], table: &str) -> CursorSigner {
        let mut mac = mac_of(secret);
        mac.update(b"cms-cursor-key\n");
        mac.update(table.as_bytes());
        CursorSigner { key: mac.finalize().into_bytes().to_vec().into() }
    }

    /// The signer for `table` from `CURSOR_KEY`, or the local default when it is unset or empty.
    pub fn from_env(table: &str) -> CursorSigner {
        let secret = std::env::var(CURSOR_KEY_ENV).ok().filter(|s| !s.is_empty());
        CursorSigner::new(secret.as_deref().unwrap_or(LOCAL_CURSOR_SECRET).as_bytes(), table)
    }

    fn tag(&self, list: &str, payload: &str) -> HmacSha256 {
        let mut mac = mac_of(&self.key);
        mac.update(list.as_bytes());
        mac.update(b"\n");
        mac.update(payload.as_bytes());
        mac
    }

    /// The cursor for `value` in the list named `list`.
    pub fn seal<T: Serialize>(&self, list: &str, value: &T) -> String {
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap_or_default());
        let tag = URL_SAFE_NO_PAD.encode(self.tag(list, &payload).finalize().into_bytes());
        format!("{payload}.{tag}")
    }

    /// What a cursor this signer issued for `list` says; anything else is `InvalidCursor`.
    pub fn open<T: DeserializeOwned>(&self, list: &str, cursor: &str) -> Result<T, StoreError> {
        if cursor.len() > MAX_CURSOR_CHARS {
            return Err(StoreError::InvalidCursor);
        }
        let (payload, tag) = cursor.split_once('.').ok_or(StoreError::InvalidCursor)?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| StoreError::InvalidCursor)?;
        // constant time
        self.tag(list, payload).verify_slice(&tag).map_err(|_| StoreError::InvalidCursor)?;
        let bytes = URL_SAFE_NO_PAD.decode(payload).map_err(|_| StoreError::InvalidCursor)?;
        serde_json::from_slice(&bytes).map_err(|_| StoreError::InvalidCursor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn key() -> HashMap<String, String> {
        HashMap::from([("PK".to_string(), "CASE#1".to_string()), ("statusSk".to_string(), "2026#1".to_string())])
    }

    #[test]
    fn a_cursor_opens_only_for_its_list_and_its_signer() {
        let signer = CursorSigner::new(b"secret", "table");
        let c = signer.seal("cases|school:1001|open", &key());
        assert_eq!(signer.open::<HashMap<String, String>>("cases|school:1001|open", &c).unwrap(), key());
        assert_eq!(signer.open::<HashMap<String, String>>("cases|school:1001|closed", &c), Err(StoreError::InvalidCursor));
        assert_eq!(signer.open::<HashMap<String, String>>("cases|school:1002|open", &c), Err(StoreError::InvalidCursor));
        let other_secret = CursorSigner::new(b"other", "table");
        assert_eq!(other_secret.open::<HashMap<String, String>>("cases|school:1001|open", &c), Err(StoreError::InvalidCursor));
        let other_table = CursorSigner::new(b"secret", "table-2");
        assert_eq!(other_table.open::<HashMap<String, String>>("cases|school:1001|open", &c), Err(StoreError::InvalidCursor));
    }

    #[test]
    fn altered_or_made_up_cursors_are_refused() {
        let signer = CursorSigner::new(b"secret", "table");
        let list = "timeline|C1";
        let c = signer.seal(list, &key());
        let (payload, tag) = c.split_once('.').unwrap();
        // the unsigned form of the old cursors: base64 of the key's JSON
        let unsigned = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&key()).unwrap());
        let mut forged_key = key();
        forged_key.insert("PK".into(), "CASE#2".into());
        let forged_payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged_key).unwrap());
        for bad in [
            unsigned.clone(),
            format!("{forged_payload}.{tag}"),
            format!("{payload}.{}", URL_SAFE_NO_PAD.encode([0u8; 32])),
            format!("{payload}."),
            format!("{payload}.{tag}x"),
            format!("{payload}x.{tag}"),
            ".".to_string(),
            String::new(),
            "not a cursor".to_string(),
            "a".repeat(MAX_CURSOR_CHARS + 1),
        ] {
            assert_eq!(signer.open::<HashMap<String, String>>(list, &bad), Err(StoreError::InvalidCursor), "{bad}");
        }
    }
}
