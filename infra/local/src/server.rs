//! The local API Gateway: match the template's HttpApi routes, verify the bearer token like the
//! JWT authorizer, build the API Gateway v2 event and call the function's own handler.
//! One access-log line per request (method, path, status, ms) — never bodies, tokens or queries.

use crate::jwt::LocalIdp;
use crate::oidc::Oidc;
use crate::registry::Registry;
use crate::template::CorsDef;
use crate::template::Route;
use cms_http::apigw::{match_route, ApiCall};
use cms_http::Problem;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Largest body the local gateway accepts (API Gateway's own cap is larger; handlers apply theirs).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

pub struct AppState {
    pub routes: Vec<Route>,
    pub registry: Registry,
    pub idp: Arc<LocalIdp>,
    /// The IdP's OpenID Connect endpoints under `/local-idp` (the portal's sign-in), when served.
    pub oidc: Option<Arc<Oidc>>,
    /// The HttpApi's CorsConfiguration from template.yaml, applied as API Gateway does.
    pub cors: Option<CorsDef>,
}

impl AppState {
    /// The gateway alone: routes, handlers and token checks, no IdP pages and no CORS.
    pub fn new(routes: Vec<Route>, registry: Registry, idp: Arc<LocalIdp>) -> AppState {
        AppState { routes, registry, idp, oidc: None, cors: None }
    }
}

/// API Gateway's CORS answer to a preflight (`OPTIONS` with `Origin` and
/// `Access-Control-Request-Method`): the allowed lists when the origin, the method and every
/// requested header are allowed; otherwise a 204 with no CORS headers, which the browser refuses.
pub fn preflight(cors: &CorsDef, origin: &str, method: &str, request_headers: &str) -> Resp {
    let mut b = hyper::Response::builder().status(204);
    let allowed_origin = cors.allow_origins.iter().any(|o| o == "*" || o == origin);
    let allowed_method = cors.allow_methods.iter().any(|m| m == "*" || m.eq_ignore_ascii_case(method));
    let allowed_headers = request_headers
        .split(',')
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .all(|h| cors.allow_headers.iter().any(|a| a == "*" || a.eq_ignore_ascii_case(h)));
    if allowed_origin && allowed_method && allowed_headers {
        b = b
            .header("access-control-allow-origin", origin)
            .header("access-control-allow-methods", cors.allow_methods.join(","))
            .header("access-control-allow-headers", cors.allow_headers.join(",").to_ascii_lowercase());
        if let Some(age) = cors.max_age {
            b = b.header("access-control-max-age", age.to_string());
        }
    }
    b.header("vary", "Origin").body(Full::new(Bytes::new())).expect("valid response")
}

/// The CORS headers API Gateway adds to an actual response for an allowed origin.
pub fn add_cors_headers(cors: &CorsDef, origin: Option<&str>, resp: &mut Resp) {
    let Some(origin) = origin.filter(|o| cors.allow_origins.iter().any(|a| a == "*" || a == o)) else { return };
    let h = resp.headers_mut();
    if let Ok(v) = hyper::header::HeaderValue::from_str(origin) {
        h.insert("access-control-allow-origin", v);
    }
    if !cors.expose_headers.is_empty() {
        if let Ok(v) = hyper::header::HeaderValue::from_str(&cors.expose_headers.join(",").to_ascii_lowercase()) {
            h.insert("access-control-expose-headers", v);
        }
    }
    h.append("vary", hyper::header::HeaderValue::from_static("Origin"));
}

type Resp = hyper::Response<Full<Bytes>>;

fn problem(p: Problem) -> Resp {
    to_hyper(p.into_response())
}

fn to_hyper(r: lambda_http::Response<lambda_http::Body>) -> Resp {
    let (parts, body) = r.into_parts();
    let bytes = match body {
        lambda_http::Body::Empty => Bytes::new(),
        lambda_http::Body::Text(t) => Bytes::from(t),
        lambda_http::Body::Binary(b) => Bytes::from(b),
        _ => Bytes::new(),
    };
    hyper::Response::from_parts(parts, Full::new(bytes))
}

/// The route for a method and path: literal segments win over `{params}`, as in API Gateway.
pub fn find_route<'a>(routes: &'a [Route], method: &str, path: &str) -> Option<(&'a Route, HashMap<String, String>)> {
    routes
        .iter()
        .filter(|r| r.method == method || r.method == "ANY")
        .filter_map(|r| match_route(&r.path, path).map(|p| (r, p)))
        .max_by_key(|(r, _)| (r.path.split('/').filter(|s| !s.starts_with('{')).count(), r.method != "ANY"))
}

/// The methods the routes take at `path`, sorted (empty: no route has this path). A method outside
/// them is answered 405 with these in `Allow` (API Gateway's HttpApi answers its own 404 instead).
pub fn allowed_methods(routes: &[Route], path: &str) -> Vec<String> {
    let mut methods: Vec<String> =
        routes.iter().filter(|r| r.method != "ANY" && match_route(&r.path, path).is_some()).map(|r| r.method.clone()).collect();
    methods.sort();
    methods.dedup();
    methods
}

/// 405 for a path that exists without this method: `Allow` lists the methods it takes.
fn method_not_allowed(method: &str, allowed: &[String], request_id: &str) -> Resp {
    let p = Problem::new(405, "Method not allowed", &format!("This address does not accept {method}. It accepts: {}.", allowed.join(", ")))
        .for_request(request_id);
    let mut resp = problem(p);
    if let Ok(v) = hyper::header::HeaderValue::from_str(&allowed.join(", ")) {
        resp.headers_mut().insert(hyper::header::ALLOW, v);
    }
    resp
}

fn bearer(headers: &hyper::HeaderMap) -> Option<&str> {
    let v = headers.get(hyper::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(token.trim())
}

async fn handle(state: Arc<AppState>, req: hyper::Request<Incoming>, peer: SocketAddr) -> Resp {
    let origin = req.headers().get(hyper::header::ORIGIN).and_then(|v| v.to_str().ok()).map(str::to_string);
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    if let (Some(cors), Some(o), Some(m), "OPTIONS") =
        (&state.cors, &origin, header("access-control-request-method"), req.method().as_str())
    {
        return preflight(cors, o, &m, &header("access-control-request-headers").unwrap_or_default());
    }
    let cors = state.cors.clone();
    let mut resp = route(state, req, peer).await;
    if let Some(cors) = &cors {
        add_cors_headers(cors, origin.as_deref(), &mut resp);
    }
    resp
}

async fn route(state: Arc<AppState>, req: hyper::Request<Incoming>, peer: SocketAddr) -> Resp {
    // API Gateway's request id: in the gateway's own problems and in the function's
    let request_id = ulid::Ulid::new().to_string();
    let problem = |p: Problem| problem(p.for_request(&request_id));
    let method = req.method().as_str().to_string();
    let path = req.uri().path().to_string();
    let raw_query = req.uri().query().unwrap_or_default().to_string();
    if let Some(oidc) = state.oidc.clone().filter(|_| path.starts_with(crate::oidc::PREFIX)) {
        let body = match Limited::new(req.into_body(), 64 * 1024).collect().await {
            Ok(b) => b.to_bytes(),
            Err(_) => return problem(Problem::bad_request("The request body could not be read.")),
        };
        let jwks = crate::oidc::jwks(&state.idp);
        if let Some(r) = oidc.handle(&method, &path, &raw_query, &body, &jwks) {
            return r;
        }
        return problem(Problem::new(404, "Not found", "There is no such route."));
    }
    let Some((route, params)) = find_route(&state.routes, &method, &path) else {
        let allowed = allowed_methods(&state.routes, &path);
        if !allowed.is_empty() {
            return method_not_allowed(&method, &allowed, &request_id);
        }
        return problem(Problem::new(404, "Not found", "There is no such route."));
    };
    let claims = if route.public {
        None
    } else {
        match bearer(req.headers()).map(|t| state.idp.verify(t)) {
            Some(Ok(c)) => Some(c),
            Some(Err(reason)) => {
                tracing::info!(target: "local.api", %reason, "token refused");
                return problem(Problem::unauthenticated());
            }
            None => return problem(Problem::unauthenticated()),
        }
    };
    let Some(handler) = state.registry.http(&route.function_logical_id).cloned() else {
        return problem(Problem::new(
            501,
            "Not implemented locally",
            &format!("{} has no handler in the local registry (infra/local/src/registry.rs).", route.function_logical_id),
        ));
    };
    let too_large = || problem(Problem::new(413, "Request too large", "The request body must be at most 1 MB."));
    let declared = req.headers().get(hyper::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES) {
        return too_large();
    }
    let (parts, body) = req.into_parts();
    let bytes = match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => return too_large(),
        Err(_) => return problem(Problem::bad_request("The request body could not be read.")),
    };
    let headers = parts.headers.iter().filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str().to_string(), v.to_string()))).collect();
    let call = ApiCall {
        method: method.clone(),
        path: path.clone(),
        route: route.path.clone(),
        path_parameters: params,
        raw_query,
        headers,
        claims,
        request_id: request_id.clone(),
        source_ip: peer.ip().to_string(),
        ..ApiCall::default()
    }
    // as API Gateway does: a body that is not UTF-8 text reaches the function base64-encoded,
    // and the function decides what it means (the ENROL webhook checks its signature first)
    .with_body_bytes((!bytes.is_empty()).then_some(&bytes[..]));
    let lambda_req = match cms_http::apigw::request(&call) {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(target: "local.api", error = %e, "could not build the API Gateway event");
            return problem(Problem::new(500, "Internal error", "The local gateway could not build the event."));
        }
    };
    // A panicking handler is a 500 here, as a crashed Lambda would be a 502/500 behind API Gateway.
    match tokio::spawn(handler(lambda_req)).await {
        Ok(r) => to_hyper(r),
        Err(_) => problem(Problem::new(500, "Internal error", "The function failed.")),
    }
}

/// Serve on `listener` until `shutdown` turns true.
pub async fn serve(listener: TcpListener, state: Arc<AppState>, mut shutdown: watch::Receiver<bool>) {
    let mut conns = tokio::task::JoinSet::new();
    loop {
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    tracing::warn!(target: "local.api", error = %e, "accept failed");
                    continue;
                }
            },
            _ = shutdown.changed() => break,
        };
        let state = state.clone();
        let mut conn_shutdown = shutdown.clone();
        conns.spawn(async move {
            let svc = service_fn(move |req: hyper::Request<Incoming>| {
                let state = state.clone();
                async move {
                    let started = Instant::now();
                    let (m, p) = (req.method().clone(), req.uri().path().to_string());
                    let resp = handle(state, req, peer).await;
                    tracing::info!(
                        target: "local.api",
                        "{m} {p} {} {}ms",
                        resp.status().as_u16(),
                        started.elapsed().as_millis()
                    );
                    Ok::<_, Infallible>(resp)
                }
            });
            let conn = http1::Builder::new().serve_connection(TokioIo::new(stream), svc);
            tokio::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = conn_shutdown.changed() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
    }
    while conns.join_next().await.is_some() {}
}

/// Bind `addr` (port 0 = any free port) and serve in the background.
pub async fn spawn(
    addr: SocketAddr,
    state: Arc<AppState>,
    shutdown: watch::Receiver<bool>,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    Ok((local, tokio::spawn(serve(listener, state, shutdown))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(m: &str, p: &str, f: &str) -> Route {
        Route { method: m.into(), path: p.into(), function_logical_id: f.into(), public: false }
    }

    fn cors() -> CorsDef {
        CorsDef {
            allow_origins: vec!["http://127.0.0.1:3000".into()],
            allow_methods: vec!["GET".into(), "POST".into(), "PUT".into(), "DELETE".into(), "OPTIONS".into()],
            allow_headers: vec!["Authorization".into(), "Content-Type".into(), "If-Match".into(), "Idempotency-Key".into()],
            expose_headers: vec!["ETag".into(), "Location".into()],
            max_age: Some(600),
        }
    }

    #[test]
    fn preflight_allows_only_the_portal_origin_methods_and_headers() {
        let ok = preflight(&cors(), "http://127.0.0.1:3000", "POST", "authorization, content-type, if-match");
        assert_eq!(ok.status(), 204);
        assert_eq!(ok.headers()["access-control-allow-origin"], "http://127.0.0.1:3000");
        assert_eq!(ok.headers()["access-control-max-age"], "600");
        assert!(ok.headers()["access-control-allow-headers"].to_str().unwrap().contains("if-match"));
        for (origin, method, headers) in [
            ("http://evil.example", "POST", "authorization"),
            ("http://127.0.0.1:3000", "PATCH", ""),
            ("http://127.0.0.1:3000", "GET", "x-custom"),
        ] {
            let r = preflight(&cors(), origin, method, headers);
            assert_eq!(r.status(), 204);
            assert!(r.headers().get("access-control-allow-origin").is_none(), "{origin} {method} {headers}");
        }
        let mut resp = hyper::Response::new(Full::new(Bytes::new()));
        add_cors_headers(&cors(), Some("http://127.0.0.1:3000"), &mut resp);
        assert_eq!(resp.headers()["access-control-expose-headers"], "etag,location");
        let mut other = hyper::Response::new(Full::new(Bytes::new()));
        add_cors_headers(&cors(), Some("http://evil.example"), &mut other);
        assert!(other.headers().get("access-control-allow-origin").is_none());
    }

    #[test]
    fn literal_segments_win() {
        let routes = vec![r("GET", "/referrals/{id}", "A"), r("GET", "/referrals/drafts", "B"), r("POST", "/referrals/{id}", "C")];
        assert_eq!(find_route(&routes, "GET", "/referrals/drafts").unwrap().0.function_logical_id, "B");
        let (route, p) = find_route(&routes, "GET", "/referrals/x1").unwrap();
        assert_eq!(route.function_logical_id, "A");
        assert_eq!(p["id"], "x1");
        assert!(find_route(&routes, "DELETE", "/referrals/x1").is_none());
        assert!(find_route(&routes, "GET", "/nope").is_none());
    }

    #[test]
    fn allowed_methods_are_those_of_every_route_at_the_path() {
        let routes = vec![r("GET", "/referrals/{id}", "A"), r("PUT", "/referrals/{id}", "A"), r("POST", "/referrals/{id}/submit", "C")];
        assert_eq!(allowed_methods(&routes, "/referrals/x1"), vec!["GET", "PUT"]);
        assert_eq!(allowed_methods(&routes, "/referrals/x1/submit"), vec!["POST"]);
        assert!(allowed_methods(&routes, "/referrals").is_empty());
        assert!(allowed_methods(&routes, "/nope/x1").is_empty());
    }
}
