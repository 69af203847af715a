//! The local identity provider's OpenID Connect endpoints: authorisation code flow with PKCE (S256)
//! only, as the portal uses Education Sector Logon in production. The sign-in page lists the demo
//! users; choosing one redirects back to the portal with a single-use code, which the portal
//! exchanges (with its PKCE verifier) for the same RS256 token the API's JWT authorizer verifies.
//!
//! Routes, under the issuer `http://127.0.0.1:<api port>/local-idp`:
//! `GET /.well-known/openid-configuration`, `GET /jwks.json`, `GET|POST /authorize`, `POST /token`.
//! Nothing here logs a code, a verifier or a token.

use crate::jwt::LocalIdp;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use cms_domain::actor::Role;
use cms_domain::referral::UserRecord;
use http_body_util::Full;
use hyper::body::Bytes;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The path prefix of the local IdP on the API server.
pub const PREFIX: &str = "/local-idp";
/// How long an authorisation code may be exchanged.
pub const CODE_TTL: Duration = Duration::from_secs(60);
/// How long a portal token is valid (a working day; no refresh tokens locally).
pub const TOKEN_TTL: Duration = Duration::from_secs(8 * 3600);

type Resp = hyper::Response<Full<Bytes>>;

#[derive(Debug, Clone)]
struct Pending {
    client_id: String,
    redirect_uri: String,
    challenge: String,
    nonce: Option<String>,
    user: UserRecord,
    expires: Instant,
}

/// Why a token request was refused (the OAuth 2.0 `error` code and a description).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenError {
    pub error: &'static str,
    pub description: String,
}

fn token_error(error: &'static str, description: &str) -> TokenError {
    TokenError { error, description: description.to_string() }
}

/// The PKCE S256 check (RFC 7636 §4.6): BASE64URL(SHA-256(ASCII(code_verifier))) == code_challenge,
/// with a verifier of 43 to 128 unreserved characters.
pub fn pkce_s256_matches(verifier: &str, challenge: &str) -> bool {
    let well_formed = (43..=128).contains(&verifier.len())
        && verifier.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
    if !well_formed {
        return false;
    }
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
    let expected = B64.encode(digest.as_ref());
    // constant-time comparison of the two encodings
    expected.len() == challenge.len()
        && aws_lc_rs::constant_time::verify_slices_are_equal(expected.as_bytes(), challenge.as_bytes()).is_ok()
}

/// A challenge is 43 base64url characters (a SHA-256 digest).
fn challenge_well_formed(c: &str) -> bool {
    c.len() == 43 && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

pub struct Oidc {
    idp: Arc<LocalIdp>,
    client_id: String,
    redirect_uris: Vec<String>,
    users: Vec<UserRecord>,
    codes: Mutex<HashMap<String, Pending>>,
}

impl std::fmt::Debug for Oidc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Oidc").field("client_id", &self.client_id).field("redirect_uris", &self.redirect_uris).finish_non_exhaustive()
    }
}

/// The validated query of an authorisation request.
#[derive(Debug, Clone)]
struct AuthRequest {
    client_id: String,
    redirect_uri: String,
    state: String,
    challenge: String,
    nonce: Option<String>,
    scope: String,
}

impl Oidc {
    /// `client_id` is the token audience; `redirect_uris` the exact redirect URIs allowed.
    pub fn new(idp: Arc<LocalIdp>, client_id: impl Into<String>, redirect_uris: Vec<String>, users: Vec<UserRecord>) -> Oidc {
        Oidc { idp, client_id: client_id.into(), redirect_uris, users, codes: Mutex::new(HashMap::new()) }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.idp.issuer())
    }

    pub fn discovery(&self) -> Value {
        json!({
            "issuer": self.idp.issuer(),
            "authorization_endpoint": self.url("/authorize"),
            "token_endpoint": self.url("/token"),
            "jwks_uri": self.url("/jwks.json"),
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["none"],
            "scopes_supported": ["openid", "profile", "email"],
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nonce", "email", "custom:role", "custom:org", "custom:region"]
        })
    }

    /// Check an authorisation request. `Err((redirect_ok, message))`: when the client or the
    /// redirect URI is wrong the error is shown on the page, never sent to the redirect URI.
    fn auth_request(&self, q: &HashMap<String, String>) -> Result<AuthRequest, (bool, String)> {
        let get = |k: &str| q.get(k).map(String::as_str).unwrap_or("");
        if get("client_id") != self.client_id {
            return Err((false, "Unknown client_id.".into()));
        }
        if !self.redirect_uris.iter().any(|u| u == get("redirect_uri")) {
            return Err((false, "This redirect_uri is not registered for the client.".into()));
        }
        if get("response_type") != "code" {
            return Err((true, "response_type must be code.".into()));
        }
        if get("code_challenge_method") != "S256" {
            return Err((true, "PKCE is required: code_challenge_method must be S256.".into()));
        }
        if !challenge_well_formed(get("code_challenge")) {
            return Err((true, "code_challenge must be the base64url SHA-256 of the verifier (43 characters).".into()));
        }
        if !get("scope").split(' ').any(|s| s == "openid") {
            return Err((true, "scope must include openid.".into()));
        }
        Ok(AuthRequest {
            client_id: get("client_id").into(),
            redirect_uri: get("redirect_uri").into(),
            state: get("state").into(),
            challenge: get("code_challenge").into(),
            nonce: q.get("nonce").filter(|n| !n.is_empty()).cloned(),
            scope: get("scope").into(),
        })
    }

    /// Issue a single-use code for `user_id` (the sign-in page's choice).
    fn issue_code(&self, req: &AuthRequest, user_id: &str) -> Option<String> {
        let user = self.users.iter().find(|u| u.id.as_str() == user_id)?.clone();
        let mut raw = [0u8; 32];
        aws_lc_rs::rand::fill(&mut raw).ok()?;
        let code = B64.encode(raw);
        let mut codes = self.codes.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        codes.retain(|_, p| p.expires > now);
        codes.insert(
            code.clone(),
            Pending {
                client_id: req.client_id.clone(),
                redirect_uri: req.redirect_uri.clone(),
                challenge: req.challenge.clone(),
                nonce: req.nonce.clone(),
                user,
                expires: now + CODE_TTL,
            },
        );
        Some(code)
    }

    /// The token endpoint's decision for a form (grant_type, code, code_verifier, redirect_uri,
    /// client_id). The code is consumed whatever the outcome: a code is used once.
    pub fn exchange(&self, form: &HashMap<String, String>) -> Result<Value, TokenError> {
        let get = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
        if get("grant_type") != "authorization_code" {
            return Err(token_error("unsupported_grant_type", "grant_type must be authorization_code"));
        }
        let pending = self.codes.lock().unwrap_or_else(|e| e.into_inner()).remove(get("code"));
        let Some(p) = pending else {
            return Err(token_error("invalid_grant", "the code is unknown, expired or already used"));
        };
        if p.expires <= Instant::now() {
            return Err(token_error("invalid_grant", "the code is unknown, expired or already used"));
        }
        if get("client_id") != p.client_id {
            return Err(token_error("invalid_client", "client_id does not match the code"));
        }
        if get("redirect_uri") != p.redirect_uri {
            return Err(token_error("invalid_grant", "redirect_uri does not match the authorisation request"));
        }
        if !pkce_s256_matches(get("code_verifier"), &p.challenge) {
            return Err(token_error("invalid_grant", "code_verifier does not match the code_challenge"));
        }
        let mut claims = self.idp.claims_for(&p.user, TOKEN_TTL);
        if let Some(n) = &p.nonce {
            claims.insert("nonce".into(), json!(n));
        }
        claims.insert("name".into(), json!(p.user.display_name));
        let token = self.idp.sign(&claims);
        Ok(json!({
            "access_token": token,
            "id_token": token,
            "token_type": "Bearer",
            "expires_in": TOKEN_TTL.as_secs(),
            "scope": "openid"
        }))
    }

    /// Handle a request under [`PREFIX`]; `None` when the path is not one of the IdP's.
    pub fn handle(&self, method: &str, path: &str, query: &str, body: &[u8], jwks: &Value) -> Option<Resp> {
        let sub = path.strip_prefix(PREFIX)?;
        Some(match (method, sub) {
            ("GET", "/.well-known/openid-configuration") => json_resp(200, &self.discovery()),
            ("GET", "/jwks.json") => json_resp(200, jwks),
            ("GET", "/authorize") => {
                let q = parse_form(query.as_bytes());
                match self.auth_request(&q) {
                    Ok(req) => html(200, &self.sign_in_page(&req)),
                    Err(e) => self.auth_error(&q, e),
                }
            }
            ("POST", "/authorize") => {
                let q = parse_form(body);
                match self.auth_request(&q) {
                    Ok(req) => match self.issue_code(&req, q.get("user").map(String::as_str).unwrap_or("")) {
                        Some(code) => redirect(&with_query(&req.redirect_uri, &[("code", &code), ("state", &req.state)])),
                        None => html(400, &page("Sign-in failed", "<p>Choose one of the listed people.</p>")),
                    },
                    Err(e) => self.auth_error(&q, e),
                }
            }
            ("POST", "/token") => match self.exchange(&parse_form(body)) {
                Ok(v) => json_resp(200, &v),
                Err(e) => json_resp(
                    if e.error == "invalid_client" { 401 } else { 400 },
                    &json!({"error": e.error, "error_description": e.description}),
                ),
            },
            _ => json_resp(404, &json!({"error": "not_found"})),
        })
    }

    fn auth_error(&self, q: &HashMap<String, String>, (redirect_ok, msg): (bool, String)) -> Resp {
        if redirect_ok {
            let state = q.get("state").cloned().unwrap_or_default();
            let uri = q.get("redirect_uri").cloned().unwrap_or_default();
            redirect(&with_query(&uri, &[("error", "invalid_request"), ("error_description", &msg), ("state", &state)]))
        } else {
            html(400, &page("Sign-in request not valid", &format!("<p>{}</p>", esc(&msg))))
        }
    }

    fn sign_in_page(&self, req: &AuthRequest) -> String {
        let hidden = [
            ("response_type", "code"),
            ("client_id", req.client_id.as_str()),
            ("redirect_uri", req.redirect_uri.as_str()),
            ("state", req.state.as_str()),
            ("code_challenge", req.challenge.as_str()),
            ("code_challenge_method", "S256"),
            ("scope", req.scope.as_str()),
            ("nonce", req.nonce.as_deref().unwrap_or("")),
        ]
        .iter()
        .map(|(k, v)| format!("<input type=\"hidden\" name=\"{k}\" value=\"{}\">", esc(v)))
        .collect::<String>();
        let mut groups: Vec<(&str, Vec<&UserRecord>)> = vec![("Schools", vec![]), ("Providers", vec![]), ("Ministry of Education", vec![])];
        for u in &self.users {
            let g = match u.role {
                Role::AttendanceLead | Role::SchoolPrimaryContact | Role::OfficeSupport => 0,
                Role::CaseManager | Role::ProviderAdmin => 1,
                _ => 2,
            };
            groups[g].1.push(u);
        }
        let mut body = String::from(
            "<p>This is the local stand-in for Education Sector Logon. Choose who to sign in as. \
             Every person here is made up.</p>",
        );
        for (title, users) in groups {
            body.push_str(&format!("<h2>{title}</h2><ul>"));
            for u in users {
                body.push_str(&format!(
                    "<li><button type=\"submit\" name=\"user\" value=\"{id}\">{name}</button> \
                     <span class=\"meta\">{id} &middot; {role} &middot; {org}</span></li>",
                    id = esc(u.id.as_str()),
                    name = esc(&u.display_name),
                    role = esc(&u.role.as_str().replace('_', " ")),
                    org = esc(&u.org_id),
                ));
            }
            body.push_str("</ul>");
        }
        page("Sign in", &format!("<form method=\"post\" action=\"{PREFIX}/authorize\">{hidden}{body}</form>"))
    }
}

/// The JWKS document for the IdP's key.
pub fn jwks(idp: &LocalIdp) -> Value {
    json!({ "keys": [idp.jwk()] })
}

pub fn parse_form(bytes: &[u8]) -> HashMap<String, String> {
    form_urlencoded::parse(bytes).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

fn with_query(uri: &str, params: &[(&str, &str)]) -> String {
    let q: String = form_urlencoded::Serializer::new(String::new()).extend_pairs(params.iter().filter(|(_, v)| !v.is_empty())).finish();
    let sep = if uri.contains('?') { '&' } else { '?' };
    format!("{uri}{sep}{q}")
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en-NZ\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{t} - Local sign-in</title><style>\
         body{{font-family:system-ui,sans-serif;margin:0;color:#0b0c0c;line-height:1.5}}\
         header{{background:#1f2f5c;color:#fff;padding:1rem}}main{{max-width:40rem;padding:1rem}}\
         ul{{list-style:none;padding:0}}li{{margin:.5rem 0}}\
         button{{font:inherit;padding:.5rem 1rem;border:2px solid #1f2f5c;background:#fff;color:#1f2f5c;cursor:pointer;border-radius:4px}}\
         button:hover{{background:#e8ecf5}}button:focus-visible{{outline:3px solid #fd0;outline-offset:2px;box-shadow:0 0 0 5px #0b0c0c}}\
         .meta{{color:#505a5f;font-size:.9rem;display:block}}</style></head>\
         <body><header><p>Education Sector Logon (local)</p></header><main><h1>{t}</h1>{body}</main></body></html>",
        t = esc(title)
    )
}

fn base(status: u16, content_type: &str, body: Vec<u8>) -> Resp {
    hyper::Response::builder()
        .status(status)
        .header("content-type", content_type)
        .header("cache-control", "no-store")
        .body(Full::new(Bytes::from(body)))
        .expect("valid response")
}

fn json_resp(status: u16, v: &Value) -> Resp {
    base(status, "application/json", serde_json::to_vec(v).unwrap_or_default())
}

fn html(status: u16, s: &str) -> Resp {
    let mut r = base(status, "text/html; charset=utf-8", s.as_bytes().to_vec());
    r.headers_mut().insert("x-frame-options", hyper::header::HeaderValue::from_static("DENY"));
    r.headers_mut().insert(
        "content-security-policy",
        hyper::header::HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' http://127.0.0.1:*; frame-ancestors 'none'",
        ),
    );
    r
}

fn redirect(location: &str) -> Resp {
    let mut r = base(303, "text/plain", Vec::new());
    if let Ok(v) = hyper::header::HeaderValue::from_str(location) {
        r.headers_mut().insert(hyper::header::LOCATION, v);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use cms_domain::ids::UserId;

    const REDIRECT: &str = "http://127.0.0.1:3000/auth/callback";
    // RFC 7636 appendix B
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn user() -> UserRecord {
        UserRecord {
            id: UserId::parse("lead-1001").unwrap(),
            role: Role::AttendanceLead,
            org_id: "1001".into(),
            email: "lead@example.nz".into(),
            display_name: "Alex Example".into(),
        }
    }

    fn oidc() -> Oidc {
        let idp = Arc::new(LocalIdp::ephemeral(crate::jwt::issuer_for(3001)).unwrap());
        Oidc::new(idp, crate::jwt::AUDIENCE, vec![REDIRECT.into()], vec![user()])
    }

    fn q(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn auth_query() -> HashMap<String, String> {
        q(&[
            ("response_type", "code"),
            ("client_id", crate::jwt::AUDIENCE),
            ("redirect_uri", REDIRECT),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
            ("scope", "openid"),
            ("state", "s1"),
            ("nonce", "n1"),
        ])
    }

    fn token_form(code: &str, verifier: &str) -> HashMap<String, String> {
        q(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("code_verifier", verifier),
            ("redirect_uri", REDIRECT),
            ("client_id", crate::jwt::AUDIENCE),
        ])
    }

    #[test]
    fn pkce_s256_matches_rfc_7636_example_and_nothing_else() {
        assert!(pkce_s256_matches(VERIFIER, CHALLENGE));
        // one character off in either
        assert!(!pkce_s256_matches("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXj", CHALLENGE));
        assert!(!pkce_s256_matches(VERIFIER, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cN"));
        // the "plain" method (challenge == verifier) is not accepted
        assert!(!pkce_s256_matches(VERIFIER, VERIFIER));
        // verifiers too short or with characters outside the unreserved set
        assert!(!pkce_s256_matches("short", CHALLENGE));
        assert!(!pkce_s256_matches(&format!("{}+", &VERIFIER[..42]), CHALLENGE));
    }

    #[test]
    fn authorize_validates_the_client_redirect_and_pkce_method() {
        let o = oidc();
        assert!(o.auth_request(&auth_query()).is_ok());
        for (k, v, redirect_ok) in [
            ("client_id", "other", false),
            ("redirect_uri", "http://evil.example/cb", false),
            ("response_type", "token", true),
            ("code_challenge_method", "plain", true),
            ("code_challenge", "abc", true),
            ("scope", "profile", true),
        ] {
            let mut bad = auth_query();
            bad.insert(k.into(), v.into());
            let err = o.auth_request(&bad).unwrap_err();
            assert_eq!(err.0, redirect_ok, "{k}={v}: {}", err.1);
        }
    }

    #[test]
    fn a_code_is_exchanged_once_with_the_right_verifier() {
        let o = oidc();
        let req = o.auth_request(&auth_query()).unwrap();
        assert!(o.issue_code(&req, "nobody").is_none(), "only listed users");
        let code = o.issue_code(&req, "lead-1001").unwrap();
        let answer = o.exchange(&token_form(&code, VERIFIER)).unwrap();
        let token = answer["id_token"].as_str().unwrap();
        assert_eq!(answer["access_token"], answer["id_token"]);
        let claims = o.idp.verify(token).unwrap();
        assert_eq!(claims["sub"], "lead-1001");
        assert_eq!(claims["nonce"], "n1");
        assert_eq!(claims[cms_http::CLAIM_ROLE], "attendance_lead");
        // the same code again: refused
        assert_eq!(o.exchange(&token_form(&code, VERIFIER)).unwrap_err().error, "invalid_grant");
    }

    #[test]
    fn a_wrong_verifier_burns_the_code() {
        let o = oidc();
        let req = o.auth_request(&auth_query()).unwrap();
        let code = o.issue_code(&req, "lead-1001").unwrap();
        let wrong = "x".repeat(43);
        assert!(o.exchange(&token_form(&code, &wrong)).unwrap_err().description.contains("code_verifier"));
        assert_eq!(o.exchange(&token_form(&code, VERIFIER)).unwrap_err().error, "invalid_grant");
    }

    #[test]
    fn redirect_uri_and_client_must_match_and_codes_expire() {
        let o = oidc();
        let req = o.auth_request(&auth_query()).unwrap();
        let code = o.issue_code(&req, "lead-1001").unwrap();
        let mut f = token_form(&code, VERIFIER);
        f.insert("redirect_uri".into(), "http://127.0.0.1:3000/other".into());
        assert_eq!(o.exchange(&f).unwrap_err().error, "invalid_grant");

        let code = o.issue_code(&req, "lead-1001").unwrap();
        let mut f = token_form(&code, VERIFIER);
        f.insert("client_id".into(), "someone-else".into());
        assert_eq!(o.exchange(&f).unwrap_err().error, "invalid_client");

        let code = o.issue_code(&req, "lead-1001").unwrap();
        o.codes.lock().unwrap().get_mut(&code).unwrap().expires = Instant::now() - Duration::from_secs(1);
        assert_eq!(o.exchange(&token_form(&code, VERIFIER)).unwrap_err().error, "invalid_grant");

        let mut f = token_form("whatever", VERIFIER);
        f.insert("grant_type".into(), "password".into());
        assert_eq!(o.exchange(&f).unwrap_err().error, "unsupported_grant_type");
    }

    #[test]
    fn the_sign_in_page_posts_back_the_request_and_escapes() {
        let o = oidc();
        let mut query = auth_query();
        query.insert("state".into(), "\"><script>".into());
        let page = o.sign_in_page(&o.auth_request(&query).unwrap());
        assert!(page.contains("value=\"lead-1001\""));
        assert!(page.contains("&quot;&gt;&lt;script&gt;"));
        assert!(!page.contains("\"><script>"));
        let resp = o
            .handle(
                "POST",
                "/local-idp/authorize",
                "",
                {
                    let mut q = auth_query();
                    q.insert("user".into(), "lead-1001".into());
                    Box::leak(
                        form_urlencoded::Serializer::new(String::new()).extend_pairs(q.iter()).finish().into_bytes().into_boxed_slice(),
                    )
                },
                &json!({}),
            )
            .unwrap();
        assert_eq!(resp.status(), 303);
        let loc = resp.headers()[hyper::header::LOCATION].to_str().unwrap();
        assert!(loc.starts_with("http://127.0.0.1:3000/auth/callback?code="), "{loc}");
        assert!(loc.ends_with("&state=s1"), "{loc}");
    }

    #[test]
    fn jwks_verifies_a_token_by_its_components() {
        let idp = LocalIdp::ephemeral(crate::jwt::issuer_for(3001)).unwrap();
        let k = jwks(&idp)["keys"][0].clone();
        assert_eq!(k["kty"], "RSA");
        assert_eq!(k["alg"], "RS256");
        let n = B64.decode(k["n"].as_str().unwrap()).unwrap();
        let e = B64.decode(k["e"].as_str().unwrap()).unwrap();
        let t = idp.mint(&user(), Duration::from_secs(60));
        let parts: Vec<&str> = t.rsplitn(2, '.').collect();
        let sig = B64.decode(parts[0]).unwrap();
        let pk = aws_lc_rs::signature::RsaPublicKeyComponents { n: &n, e: &e };
        pk.verify(&aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256, parts[1].as_bytes(), &sig).unwrap();
    }
}
