//! ENROL's webhook signature: `Enrol-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>` where the
//! HMAC is over `"{t}.{raw body}"` with a shared secret. Two secrets are accepted at once so the
//! secret can be rotated without downtime; the timestamp must be within 5 minutes of now (replay).

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

pub const HEADER: &str = "enrol-signature";
/// How far the signed timestamp may be from now, either way.
pub const TOLERANCE_SECS: i64 = 300;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureError {
    Missing,
    Malformed,
    Stale,
    Mismatch,
}

impl SignatureError {
    /// What the 401 says (no hint about which secret or how close the signature was).
    pub fn message(&self) -> &'static str {
        match self {
            SignatureError::Missing => "The Enrol-Signature header is missing.",
            SignatureError::Malformed => "The Enrol-Signature header must look like t=<unix seconds>,v1=<hex HMAC-SHA256>.",
            SignatureError::Stale => {
                "The signature's timestamp is more than 5 minutes from the current time. Sign each delivery when it is sent."
            }
            SignatureError::Mismatch => "The signature does not match the body.",
        }
    }
}

/// HMAC-SHA256 of `"{t}.{body}"`, hex.
pub fn sign(secret: &[u8], t: i64, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

fn parse_header(h: &str) -> Result<(i64, Vec<Vec<u8>>), SignatureError> {
    let mut t = None;
    let mut sigs = Vec::new();
    for part in h.split(',') {
        let (k, v) = part.trim().split_once('=').ok_or(SignatureError::Malformed)?;
        match k {
            // unix seconds as ASCII digits only (no sign, no padding), short enough that no
            // arithmetic on it can overflow
            "t" if !v.is_empty() && v.len() <= 12 && v.bytes().all(|b| b.is_ascii_digit()) => {
                t = Some(v.parse::<i64>().map_err(|_| SignatureError::Malformed)?)
            }
            "t" => return Err(SignatureError::Malformed),
            "v1" => {
                if v.len() != 64 || !v.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(SignatureError::Malformed);
                }
                let bytes = (0..32)
                    .map(|i| u8::from_str_radix(&v[2 * i..2 * i + 2], 16))
                    .collect::<Result<Vec<u8>, _>>()
                    .map_err(|_| SignatureError::Malformed)?;
                sigs.push(bytes);
            }
            _ => {} // unknown schemes are ignored (forward compatible)
        }
    }
    match (t, sigs.is_empty()) {
        (Some(t), false) => Ok((t, sigs)),
        _ => Err(SignatureError::Malformed),
    }
}

/// Verify the raw body against the header with any of the secrets, at `now` (unix seconds).
pub fn verify(header: Option<&str>, body: &[u8], secrets: &[Vec<u8>], now: i64) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let (t, sigs) = parse_header(header)?;
    if now.abs_diff(t) > TOLERANCE_SECS.unsigned_abs() {
        return Err(SignatureError::Stale);
    }
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("any key length");
        mac.update(t.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        let expected = mac.finalize().into_bytes();
        for sig in &sigs {
            if bool::from(expected.as_slice().ct_eq(sig.as_slice())) {
                return Ok(());
            }
        }
    }
    Err(SignatureError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const NOW: i64 = 1_795_500_000;

    #[test]
    fn worked_example_from_the_readme() {
        // README, "ENROL webhook": the same secret, timestamp and body give this signature
        let body = br#"{"id":"nen-0001","type":"student_enrolled","data":{"nsn":"123456789","schoolId":"1085","enrolledOn":"2026-11-23"}}"#;
        let sig = sign(b"whsec_example", 1_795_500_000, body);
        assert_eq!(sig, "391dd683b209c6f1b851ce4bbb855847aef8ed8b9081b7fbe61e679d82bed169");
        let header = format!("t=1795500000,v1={sig}");
        assert_eq!(verify(Some(&header), body, &[b"whsec_example".to_vec()], 1_795_500_100), Ok(()));
    }

    #[test]
    fn rejections() {
        let secrets = vec![b"new".to_vec(), b"old".to_vec()];
        let body = b"{}";
        let good = |secret: &[u8], t: i64| format!("t={t},v1={}", sign(secret, t, body));
        assert_eq!(verify(None, body, &secrets, NOW), Err(SignatureError::Missing));
        assert_eq!(verify(Some("nonsense"), body, &secrets, NOW), Err(SignatureError::Malformed));
        assert_eq!(verify(Some("t=abc,v1=00"), body, &secrets, NOW), Err(SignatureError::Malformed));
        assert_eq!(verify(Some(&good(b"new", NOW - 301)), body, &secrets, NOW), Err(SignatureError::Stale));
        assert_eq!(verify(Some(&good(b"new", NOW + 301)), body, &secrets, NOW), Err(SignatureError::Stale));
        assert_eq!(verify(Some(&good(b"new", NOW - 300)), body, &secrets, NOW), Ok(()));
        assert_eq!(verify(Some(&good(b"old", NOW)), body, &secrets, NOW), Ok(()), "the previous secret still works during rotation");
        assert_eq!(verify(Some(&good(b"other", NOW)), body, &secrets, NOW), Err(SignatureError::Mismatch));
        assert_eq!(verify(Some(&good(b"new", NOW)), b"{ }", &secrets, NOW), Err(SignatureError::Mismatch), "the raw bytes are signed");
        // a timestamp changed after signing
        let sig = sign(b"new", NOW, body);
        assert_eq!(verify(Some(&format!("t={},v1={sig}", NOW - 1)), body, &secrets, NOW), Err(SignatureError::Mismatch));
        assert_eq!(
            verify(Some(&good(b"", NOW)), body, &[Vec::new()], NOW),
            Err(SignatureError::Mismatch),
            "an empty secret never verifies"
        );
    }

    #[test]
    fn extreme_or_unusual_timestamps_are_refused_without_panicking() {
        let secrets = vec![b"k".to_vec()];
        let sig = "0".repeat(64);
        for t in [
            "-9223372036854775808",
            "9223372036854775807",
            "-1",
            "+1795500000",
            " 1795500000",
            "1795500000.5",
            "",
            "0x1A",
            "99999999999999999999",
        ] {
            assert_eq!(verify(Some(&format!("t={t},v1={sig}")), b"{}", &secrets, NOW), Err(SignatureError::Malformed), "t={t}");
        }
        // far from now in either direction: stale, whatever now is
        assert_eq!(verify(Some(&format!("t=0,v1={sig}")), b"{}", &secrets, NOW), Err(SignatureError::Stale));
        assert_eq!(verify(Some(&format!("t=999999999999,v1={sig}")), b"{}", &secrets, NOW), Err(SignatureError::Stale));
        assert_eq!(verify(Some(&format!("t=0,v1={sig}")), b"{}", &secrets, i64::MIN), Err(SignatureError::Stale));
        assert_eq!(verify(Some(&format!("t=999999999999,v1={sig}")), b"{}", &secrets, i64::MAX), Err(SignatureError::Stale));
    }

    proptest! {
        #[test]
        fn any_timestamp_never_panics(t in any::<i64>(), now in any::<i64>()) {
            let header = format!("t={t},v1={}", sign(b"k", t, b"x"));
            let _ = verify(Some(&header), b"x", &[b"k".to_vec()], now);
        }

        #[test]
        fn only_the_exact_body_verifies(body in proptest::collection::vec(any::<u8>(), 0..200), flip in 0usize..200) {
            let secrets = vec![b"s3cret".to_vec()];
            let header = format!("t={NOW},v1={}", sign(b"s3cret", NOW, &body));
            prop_assert_eq!(verify(Some(&header), &body, &secrets, NOW), Ok(()));
            if !body.is_empty() {
                let mut other = body.clone();
                let i = flip % other.len();
                other[i] ^= 0x01;
                prop_assert_eq!(verify(Some(&header), &other, &secrets, NOW), Err(SignatureError::Mismatch));
            }
        }

        #[test]
        fn arbitrary_headers_never_panic(h in ".{0,150}") {
            let _ = verify(Some(&h), b"x", &[b"k".to_vec()], NOW);
        }
    }
}
