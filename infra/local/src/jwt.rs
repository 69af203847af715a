//! The local "identity provider": an RS256 key pair generated on first start and kept in
//! `.local/` (git-ignored), tokens for seeded users, and verification that checks what the HttpApi
//! JWT authorizer checks (signature, `iss`, `aud`, `exp`, `nbf`) and hands back the claims as the
//! string map API Gateway puts in `requestContext.authorizer.jwt.claims`.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{self, KeyPair as _, UnparsedPublicKey};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use cms_domain::actor::Role;
use cms_domain::referral::UserRecord;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The audience of local tokens (the API's `JwtAudience` locally).
pub const AUDIENCE: &str = "attendance-portal-local";

/// Clock skew allowed on `exp`/`nbf`.
const LEEWAY_SECS: i64 = 5;

/// The issuer URL for a local API on `port`.
pub fn issuer_for(port: u16) -> String {
    format!("http://127.0.0.1:{port}/local-idp")
}

/// `.local/jwt-key.der` at the repository root.
pub fn default_key_path() -> PathBuf {
    crate::template::repo_root().join(".local").join("jwt-key.der")
}

pub struct LocalIdp {
    key: KeyPair,
    public_key: Vec<u8>,
    issuer: String,
    audience: String,
    kid: String,
}

impl std::fmt::Debug for LocalIdp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalIdp").field("issuer", &self.issuer).field("kid", &self.kid).finish_non_exhaustive()
    }
}

impl LocalIdp {
    /// A fresh key that lives only in memory (tests).
    pub fn ephemeral(issuer: impl Into<String>) -> Result<LocalIdp, String> {
        let key = KeyPair::generate(KeySize::Rsa2048).map_err(|_| "RSA key generation failed".to_string())?;
        Ok(Self::from_key(key, issuer.into()))
    }

    /// The key at `path` (PKCS#8 DER), generated and written (mode 0600) if it does not exist yet.
    pub fn load_or_create(path: &Path, issuer: impl Into<String>) -> Result<LocalIdp, String> {
        let key = match std::fs::read(path) {
            Ok(der) => KeyPair::from_pkcs8(&der).map_err(|e| format!("{} is not an RSA PKCS#8 key: {e}", path.display()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = KeyPair::generate(KeySize::Rsa2048).map_err(|_| "RSA key generation failed".to_string())?;
                let der = key.as_der().map_err(|_| "cannot encode the key".to_string())?;
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
                }
                write_private(path, der.as_ref())?;
                key
            }
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        };
        Ok(Self::from_key(key, issuer.into()))
    }

    fn from_key(key: KeyPair, issuer: String) -> LocalIdp {
        let public_key = key.public_key().as_ref().to_vec();
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &public_key);
        let kid = B64.encode(&digest.as_ref()[..12]);
        LocalIdp { key, public_key, issuer, audience: AUDIENCE.to_string(), kid }
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn audience(&self) -> &str {
        &self.audience
    }

    /// The public key as a JWK (RFC 7517), for the IdP's `jwks.json`.
    pub fn jwk(&self) -> Value {
        let (n, e) = rsa_public_components(&self.public_key).unwrap_or_default();
        json!({ "kty": "RSA", "use": "sig", "alg": "RS256", "kid": self.kid, "n": B64.encode(n), "e": B64.encode(e) })
    }

    /// The claims a portal token carries for this user.
    pub fn claims_for(&self, user: &UserRecord, ttl: Duration) -> Map<String, Value> {
        let now = chrono::Utc::now().timestamp();
        let mut c = Map::new();
        c.insert("iss".into(), json!(self.issuer));
        c.insert("aud".into(), json!(self.audience));
        c.insert("sub".into(), json!(user.id.as_str()));
        c.insert("iat".into(), json!(now));
        c.insert("exp".into(), json!(now + ttl.as_secs() as i64));
        c.insert("token_use".into(), json!("id"));
        c.insert(cms_http::CLAIM_ROLE.into(), json!(user.role.as_str()));
        c.insert(cms_http::CLAIM_ORG.into(), json!(user.org_id));
        if user.role == Role::Regional {
            c.insert(cms_http::CLAIM_REGION.into(), json!(user.org_id));
        }
        c.insert("email".into(), json!(user.email));
        c
    }

    /// A signed token for a seeded user.
    pub fn mint(&self, user: &UserRecord, ttl: Duration) -> String {
        self.sign(&self.claims_for(user, ttl))
    }

    /// Sign any claims (tests use this for expired, foreign-audience or role-less tokens).
    pub fn sign(&self, claims: &Map<String, Value>) -> String {
        let header = json!({ "alg": "RS256", "typ": "JWT", "kid": self.kid });
        let input = format!(
            "{}.{}",
            B64.encode(serde_json::to_vec(&header).unwrap_or_default()),
            B64.encode(serde_json::to_vec(claims).unwrap_or_default())
        );
        let mut sig = vec![0u8; self.key.public_modulus_len()];
        self.key
            .sign(&signature::RSA_PKCS1_SHA256, &SystemRandom::new(), input.as_bytes(), &mut sig)
            .expect("RSA signing with a valid key");
        format!("{input}.{}", B64.encode(sig))
    }

    /// Verify like the HttpApi JWT authorizer; the claims as strings on success. Error messages
    /// never include claim values.
    pub fn verify(&self, token: &str) -> Result<HashMap<String, String>, String> {
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
            return Err("not a JWT (expected three dot-separated parts)".into());
        };
        let header: Value =
            B64.decode(h).ok().and_then(|b| serde_json::from_slice(&b).ok()).ok_or("the token header is not base64url JSON")?;
        if header.get("alg").and_then(Value::as_str) != Some("RS256") {
            return Err("the token is not signed with RS256".into());
        }
        let sig = B64.decode(s).map_err(|_| "the signature is not base64url")?;
        let signed = &token[..h.len() + 1 + p.len()];
        UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, &self.public_key)
            .verify(signed.as_bytes(), &sig)
            .map_err(|_| "the signature does not verify")?;
        let claims: Map<String, Value> =
            B64.decode(p).ok().and_then(|b| serde_json::from_slice(&b).ok()).ok_or("the token payload is not base64url JSON")?;
        if claims.get("iss").and_then(Value::as_str) != Some(self.issuer.as_str()) {
            return Err("the token was issued by another issuer".into());
        }
        let aud_ok = match claims.get("aud") {
            Some(Value::String(a)) => a == &self.audience,
            Some(Value::Array(a)) => a.iter().any(|x| x.as_str() == Some(self.audience.as_str())),
            _ => false,
        };
        if !aud_ok {
            return Err("the token is for another audience".into());
        }
        let now = chrono::Utc::now().timestamp();
        match claims.get("exp").and_then(Value::as_i64) {
            Some(exp) if exp + LEEWAY_SECS > now => {}
            Some(_) => return Err("the token has expired".into()),
            None => return Err("the token has no exp".into()),
        }
        if let Some(nbf) = claims.get("nbf").and_then(Value::as_i64) {
            if nbf - LEEWAY_SECS > now {
                return Err("the token is not valid yet".into());
            }
        }
        Ok(claims
            .into_iter()
            .map(|(k, v)| {
                let s = match v {
                    Value::String(s) => s,
                    Value::Array(a) => format!(
                        "[{}]",
                        a.iter().map(|x| x.as_str().map(str::to_string).unwrap_or_else(|| x.to_string())).collect::<Vec<_>>().join(" ")
                    ),
                    other => other.to_string(),
                };
                (k, s)
            })
            .collect())
    }
}

/// (n, e) of a DER PKCS#1 RSAPublicKey (`SEQUENCE { INTEGER n, INTEGER e }`), big-endian with no
/// leading zero bytes.
fn rsa_public_components(der: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    fn tlv(b: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
        let (&t, rest) = b.split_first()?;
        if t != tag {
            return None;
        }
        let (&l, rest) = rest.split_first()?;
        let (len, rest) = if l < 0x80 {
            (l as usize, rest)
        } else {
            let n = (l & 0x7f) as usize;
            if n == 0 || n > 4 || rest.len() < n {
                return None;
            }
            (rest[..n].iter().fold(0usize, |a, &x| (a << 8) | x as usize), &rest[n..])
        };
        (rest.len() >= len).then(|| (&rest[..len], &rest[len..]))
    }
    let (seq, _) = tlv(der, 0x30)?;
    let (n, rest) = tlv(seq, 0x02)?;
    let (e, _) = tlv(rest, 0x02)?;
    let strip = |x: &[u8]| x.iter().skip_while(|&&b| b == 0).copied().collect::<Vec<u8>>();
    Some((strip(n), strip(e)))
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), String> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    f.write_all(bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use cms_domain::ids::UserId;
    use std::sync::OnceLock;

    fn idp() -> &'static LocalIdp {
        static IDP: OnceLock<LocalIdp> = OnceLock::new();
        IDP.get_or_init(|| LocalIdp::ephemeral(issuer_for(3000)).unwrap())
    }

    fn user(role: Role, org: &str) -> UserRecord {
        UserRecord {
            id: UserId::parse("u-test").unwrap(),
            role,
            org_id: org.into(),
            email: "u-test@example.nz".into(),
            display_name: "Test User".into(),
        }
    }

    #[test]
    fn round_trip_gives_the_authorizer_claims() {
        let t = idp().mint(&user(Role::AttendanceLead, "1001"), Duration::from_secs(600));
        let c = idp().verify(&t).unwrap();
        assert_eq!(c["sub"], "u-test");
        assert_eq!(c[cms_http::CLAIM_ROLE], "attendance_lead");
        assert_eq!(c[cms_http::CLAIM_ORG], "1001");
        assert_eq!(c["aud"], AUDIENCE);
        assert!(!c.contains_key(cms_http::CLAIM_REGION));
        assert!(c["exp"].parse::<i64>().is_ok());
        let r = idp().verify(&idp().mint(&user(Role::Regional, "tai-tokerau"), Duration::from_secs(60))).unwrap();
        assert_eq!(r[cms_http::CLAIM_REGION], "tai-tokerau");
    }

    #[test]
    fn rejects_wrong_audience_issuer_expired_and_tampered() {
        let u = user(Role::CaseManager, "P01");
        let mut c = idp().claims_for(&u, Duration::from_secs(600));
        c.insert("aud".into(), json!("someone-else"));
        assert!(idp().verify(&idp().sign(&c)).unwrap_err().contains("audience"));

        let mut c = idp().claims_for(&u, Duration::from_secs(600));
        c.insert("iss".into(), json!("https://evil.example"));
        assert!(idp().verify(&idp().sign(&c)).unwrap_err().contains("issuer"));

        let mut c = idp().claims_for(&u, Duration::from_secs(600));
        c.insert("exp".into(), json!(chrono::Utc::now().timestamp() - 3600));
        assert!(idp().verify(&idp().sign(&c)).unwrap_err().contains("expired"));

        // change the role in the payload, keep the signature
        let t = idp().mint(&u, Duration::from_secs(600));
        let parts: Vec<&str> = t.split('.').collect();
        let mut payload: Map<String, Value> = serde_json::from_slice(&B64.decode(parts[1]).unwrap()).unwrap();
        payload.insert(cms_http::CLAIM_ROLE.into(), json!("national"));
        let forged = format!("{}.{}.{}", parts[0], B64.encode(serde_json::to_vec(&payload).unwrap()), parts[2]);
        assert!(idp().verify(&forged).unwrap_err().contains("signature"));

        // alg none / HS256 are refused outright
        let none = format!("{}.{}.", B64.encode(br#"{"alg":"none"}"#), parts[1]);
        assert!(idp().verify(&none).is_err());
        assert!(idp().verify("garbage").is_err());

        // a token from another key does not verify
        let other = LocalIdp::ephemeral(issuer_for(3000)).unwrap();
        assert!(idp().verify(&other.mint(&u, Duration::from_secs(600))).is_err());
    }

    #[test]
    fn key_is_persisted_and_reused() {
        let dir = std::env::temp_dir().join(format!("cms-local-jwt-{}", ulid::Ulid::new()));
        let path = dir.join("k.der");
        let a = LocalIdp::load_or_create(&path, issuer_for(1)).unwrap();
        let b = LocalIdp::load_or_create(&path, issuer_for(1)).unwrap();
        let t = a.mint(&user(Role::National, "ministry"), Duration::from_secs(60));
        assert!(b.verify(&t).is_ok());
        let _ = std::fs::remove_dir_all(dir);
    }
}
