//! Build the API Gateway v2 (HttpApi, payload 2.0) event that Lambda hands a function, and turn it
//! into the `lambda_http::Request` the handler sees — the same deserialisation path the Lambda
//! runtime uses. The local API server and the integration tests call handlers through this.

use lambda_http::request::LambdaRequest;
use lambda_http::Request;
use serde_json::{json, Map, Value};
use std::collections::HashMap;

#[derive(Debug, Clone, Default)]
pub struct ApiCall {
    pub method: String,
    /// The raw path, e.g. `/referrals/01J…/submit`.
    pub path: String,
    /// The template route it matched, e.g. `/referrals/{id}/submit`.
    pub route: String,
    pub path_parameters: HashMap<String, String>,
    /// The raw query string without `?`.
    pub raw_query: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
    /// `body` is the base64 of the raw bytes (`isBase64Encoded`): API Gateway sends a body that is
    /// not UTF-8 text this way. See [`ApiCall::with_body_bytes`].
    pub body_is_base64: bool,
    /// Claims the JWT authorizer verified; `None` for a route without an authorizer.
    pub claims: Option<HashMap<String, String>>,
    pub request_id: String,
    pub source_ip: String,
}

impl ApiCall {
    /// Set the body from raw bytes as API Gateway would: UTF-8 text as it is, anything else base64.
    pub fn with_body_bytes(mut self, bytes: Option<&[u8]>) -> ApiCall {
        use base64::Engine;
        match bytes.map(std::str::from_utf8) {
            None => {
                self.body = None;
                self.body_is_base64 = false;
            }
            Some(Ok(text)) => {
                self.body = Some(text.to_string());
                self.body_is_base64 = false;
            }
            Some(Err(_)) => {
                self.body = bytes.map(|b| base64::engine::general_purpose::STANDARD.encode(b));
                self.body_is_base64 = true;
            }
        }
        self
    }
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The event JSON as API Gateway sends it.
pub fn event_json(call: &ApiCall) -> Value {
    let mut headers = Map::new();
    let mut cookies = Vec::new();
    for (k, v) in &call.headers {
        let k = k.to_ascii_lowercase();
        if k == "cookie" {
            cookies.push(Value::String(v.clone()));
            continue;
        }
        match headers.get_mut(&k) {
            Some(Value::String(existing)) => {
                existing.push(',');
                existing.push_str(v);
            }
            _ => {
                headers.insert(k, Value::String(v.clone()));
            }
        }
    }
    let mut query: Map<String, Value> = Map::new();
    for pair in call.raw_query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let (k, v) = (decode(k), decode(v));
        match query.get_mut(&k) {
            Some(Value::String(existing)) => {
                existing.push(',');
                existing.push_str(&v);
            }
            _ => {
                query.insert(k, Value::String(v));
            }
        }
    }
    let now = chrono::Utc::now();
    let authorizer = call.claims.as_ref().map(|claims| json!({ "jwt": { "claims": claims, "scopes": null } }));
    let mut ctx = json!({
        "accountId": "000000000000",
        "apiId": "local",
        "domainName": "localhost",
        "domainPrefix": "localhost",
        "http": {
            "method": call.method.to_ascii_uppercase(),
            "path": call.path,
            "protocol": "HTTP/1.1",
            "sourceIp": if call.source_ip.is_empty() { "127.0.0.1" } else { &call.source_ip },
            "userAgent": headers.get("user-agent").cloned().unwrap_or(Value::String(String::new())),
        },
        "requestId": call.request_id,
        "routeKey": format!("{} {}", call.method.to_ascii_uppercase(), call.route),
        "stage": "$default",
        "time": now.format("%d/%b/%Y:%H:%M:%S %z").to_string(),
        "timeEpoch": now.timestamp_millis(),
    });
    if let Some(a) = authorizer {
        ctx["authorizer"] = a;
    }
    let mut ev = json!({
        "version": "2.0",
        "routeKey": format!("{} {}", call.method.to_ascii_uppercase(), call.route),
        "rawPath": call.path,
        "rawQueryString": call.raw_query,
        "headers": headers,
        "requestContext": ctx,
        "isBase64Encoded": call.body_is_base64 && call.body.is_some(),
    });
    if !cookies.is_empty() {
        ev["cookies"] = Value::Array(cookies);
    }
    if !query.is_empty() {
        ev["queryStringParameters"] = Value::Object(query);
    }
    if !call.path_parameters.is_empty() {
        ev["pathParameters"] = json!(call.path_parameters);
    }
    if let Some(b) = &call.body {
        ev["body"] = Value::String(b.clone());
    }
    ev
}

/// The request a handler receives for this call (through Lambda's own deserialisation).
pub fn request(call: &ApiCall) -> Result<Request, String> {
    let ev = event_json(call);
    let lr: LambdaRequest = serde_json::from_value(ev).map_err(|e| format!("not an API Gateway v2 event: {e}"))?;
    Ok(lr.into())
}

/// Match a concrete path against a template route (`/cases/{id}`), returning the parameters.
pub fn match_route(route: &str, path: &str) -> Option<HashMap<String, String>> {
    let r: Vec<&str> = route.trim_matches('/').split('/').collect();
    let p: Vec<&str> = path.trim_matches('/').split('/').collect();
    if r.len() != p.len() {
        return None;
    }
    let mut params = HashMap::new();
    for (rs, ps) in r.iter().zip(p.iter()) {
        if let Some(name) = rs.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            if ps.is_empty() {
                return None;
            }
            params.insert(name.trim_end_matches('+').to_string(), decode(ps));
        } else if rs != ps {
            return None;
        }
    }
    Some(params)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::RequestExt;

    #[test]
    fn builds_a_request_lambda_http_understands() {
        let mut claims = HashMap::new();
        claims.insert("sub".to_string(), "u1".to_string());
        let call = ApiCall {
            method: "post".into(),
            path: "/referrals/abc/submit".into(),
            route: "/referrals/{id}/submit".into(),
            path_parameters: match_route("/referrals/{id}/submit", "/referrals/abc/submit").unwrap(),
            raw_query: "status=draft&limit=5&q=a%20b".into(),
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: Some("{}".into()),
            body_is_base64: false,
            claims: Some(claims),
            request_id: "r1".into(),
            source_ip: String::new(),
        };
        let req = request(&call).unwrap();
        assert_eq!(req.method(), "POST");
        assert_eq!(req.path_parameters_ref().unwrap().first("id"), Some("abc"));
        assert_eq!(req.query_string_parameters_ref().unwrap().first("q"), Some("a b"));
        assert_eq!(crate::route_key(&req), "POST /referrals/{id}/submit");
        assert_eq!(crate::request_id(&req), "r1");
        let err = crate::actor(&req).unwrap_err();
        assert_eq!(err.status, 403);
    }

    #[test]
    fn a_body_that_is_not_text_arrives_as_the_same_bytes() {
        let bytes: &[u8] = &[0xff, 0xfe, b'{', 0x00, 0x80];
        let call =
            ApiCall { method: "POST".into(), path: "/x".into(), route: "/x".into(), ..Default::default() }.with_body_bytes(Some(bytes));
        assert!(call.body_is_base64);
        let req = request(&call).unwrap();
        assert_eq!(crate::body_bytes(&req).unwrap(), bytes);
        let text =
            ApiCall { method: "POST".into(), path: "/x".into(), route: "/x".into(), ..Default::default() }.with_body_bytes(Some(b"{}"));
        assert!(!text.body_is_base64);
        assert_eq!(crate::body_bytes(&request(&text).unwrap()).unwrap(), b"{}");
    }

    #[test]
    fn route_matching() {
        assert!(match_route("/cases/{id}", "/cases").is_none());
        assert!(match_route("/cases", "/cases/x").is_none());
        assert_eq!(match_route("/cases/{id}", "/cases/x").unwrap()["id"], "x");
    }
}
