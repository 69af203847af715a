//! `Idempotency-Key` on the POSTs that create something: the same key with the same request gets
//! the first answer again, and the thing is created once; the same key with a different request
//! is refused (422). The key is remembered (as a once-only marker written in the same transaction
//! as what it created, so a crash cannot separate them) for [`KEEP_HOURS`] hours.
//!
//! Keys are per caller: two users sending the same key do not collide.

use crate::Problem;
use cms_domain::actor::Actor;
use cms_domain::case::Marker;
use cms_domain::ports::{CaseStore, StoreError};
use lambda_http::{Body, Request, Response};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// How long a key is remembered.
pub const KEEP_HOURS: i64 = 24;
/// Longest key accepted.
pub const MAX_KEY_CHARS: usize = 255;

/// The caller's `Idempotency-Key` for this request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Idempotency {
    key: String,
    fingerprint: String,
}

/// The request's key, if it sent one (400 when the header is not a usable key).
pub fn from_request(req: &Request, actor: &Actor) -> Result<Option<Idempotency>, Problem> {
    let Some(h) = req.headers().get("idempotency-key") else {
        return Ok(None);
    };
    let bad = || {
        Problem::bad_request(&format!(
            "The Idempotency-Key header must be 1 to {MAX_KEY_CHARS} visible ASCII characters, for example a UUID; use a new one for each new request."
        ))
    };
    let key = h.to_str().map_err(|_| bad())?.trim();
    if key.is_empty() || key.len() > MAX_KEY_CHARS || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(bad());
    }
    let digest = |parts: &[&[u8]]| {
        let mut h = Sha256::new();
        for p in parts {
            h.update((p.len() as u64).to_be_bytes());
            h.update(p);
        }
        hex::encode(h.finalize())
    };
    let body = crate::body_bytes(req)?;
    let route = crate::route_key(req);
    Ok(Some(Idempotency {
        key: format!("IDEMPOTENCY#{}", digest(&[actor.user_id().as_str().as_bytes(), key.as_bytes()])),
        fingerprint: digest(&[route.as_bytes(), req.uri().path().as_bytes(), body]),
    }))
}

impl Idempotency {
    /// The marker to write with what this request creates: its answer, to give again.
    pub fn marker(&self, status: u16, body: &Value, now: chrono::DateTime<chrono::Utc>) -> Marker {
        Marker {
            key: self.key.clone(),
            fingerprint: self.fingerprint.clone(),
            answer: Some(json!({ "status": status, "body": body }).to_string()),
            expires_at: Some(now + chrono::Duration::hours(KEEP_HOURS)),
        }
    }

    /// The first answer, when this key was used before for this request; 422 when it was used for
    /// another one; `None` when it is new.
    pub async fn replay<S: CaseStore + ?Sized>(&self, store: &S) -> Result<Option<Response<Body>>, Problem> {
        let found = store.marker(&self.key).await.map_err(|e| {
            tracing::error!(error = %e, "idempotency marker unreadable");
            Problem::unavailable()
        })?;
        match found {
            None => Ok(None),
            Some((fingerprint, _)) if fingerprint != self.fingerprint => Err(Problem::new(
                422,
                "Idempotency key reused",
                "This Idempotency-Key was already used for a different request. Send a new key with each new request.",
            )),
            Some((_, answer)) => {
                let v: Value = answer.and_then(|a| serde_json::from_str(&a).ok()).unwrap_or_default();
                let status = v["status"].as_u64().and_then(|s| u16::try_from(s).ok()).unwrap_or(200);
                let mut resp = crate::json(status, &v["body"]);
                resp.headers_mut().insert("idempotent-replayed", lambda_http::http::HeaderValue::from_static("true"));
                Ok(Some(resp))
            }
        }
    }
}

/// The outcome of a create that wrote this key's marker with it: `Ok(None)` when it was written;
/// the first answer when it failed because a concurrent request with the same key made it first;
/// otherwise the store's error as the caller maps it.
pub async fn settle<S: CaseStore + ?Sized>(
    idem: Option<&Idempotency>,
    store: &S,
    created: Result<(), StoreError>,
    store_problem: impl Fn(StoreError) -> Problem,
) -> Result<Option<Response<Body>>, Problem> {
    match (created, idem) {
        (Ok(()), _) => Ok(None),
        (Err(StoreError::Conflict), Some(i)) => match i.replay(store).await? {
            Some(resp) => Ok(Some(resp)),
            None => Err(store_problem(StoreError::Conflict)),
        },
        (Err(e), _) => Err(store_problem(e)),
    }
}
