//! The portal's local web server (what CloudFront + the private bucket do in AWS): the built SPA
//! from `portal/dist`, `/config.json` written from the running environment, a fallback to
//! `index.html` for paths that are not files (client-side routes such as `/cases/<id>`), and the
//! same security headers as template.yaml's `PortalResponseHeaders` (minus HSTS: this is http).

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::json;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;

type Resp = hyper::Response<Full<Bytes>>;

/// What the portal reads at run time (`/config.json`): never built into the bundle, so one build
/// serves every environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalConfig {
    pub api_url: String,
    pub issuer: String,
    pub client_id: String,
    /// Origins the portal may `fetch` besides itself and the API (the file store's upload URLs).
    pub extra_connect: Vec<String>,
}

impl PortalConfig {
    pub fn json(&self) -> serde_json::Value {
        json!({ "apiUrl": self.api_url, "issuer": self.issuer, "clientId": self.client_id, "redirectPath": "/auth/callback" })
    }

    /// The Content-Security-Policy, as template.yaml's response headers policy has it.
    pub fn csp(&self) -> String {
        let origin = |u: &str| -> String {
            let rest = u.split_once("://").map(|(s, r)| (s, r.split('/').next().unwrap_or(""))).map(|(s, h)| format!("{s}://{h}"));
            rest.unwrap_or_else(|| u.to_string())
        };
        let mut connect = vec!["'self'".to_string(), origin(&self.api_url), origin(&self.issuer)];
        connect.extend(self.extra_connect.iter().map(|u| origin(u)));
        connect.dedup();
        format!(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; \
             connect-src {}; form-action 'self'; frame-ancestors 'none'; base-uri 'self'; object-src 'none'",
            connect.join(" ")
        )
    }
}

#[derive(Debug)]
pub struct PortalSite {
    pub dist: PathBuf,
    pub config: PortalConfig,
}

/// `portal/dist` at the repository root, or `$PORTAL_DIST`.
pub fn default_dist() -> PathBuf {
    std::env::var_os("PORTAL_DIST").map(PathBuf::from).unwrap_or_else(|| crate::template::repo_root().join("portal").join("dist"))
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        "map" => "application/json",
        _ => "application/octet-stream",
    }
}

/// The file under `dist` for a URL path, refusing anything that climbs out of it.
pub fn resolve(dist: &Path, url_path: &str) -> Option<PathBuf> {
    let rel = Path::new(url_path.trim_start_matches('/'));
    if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
        return None;
    }
    Some(dist.join(rel))
}

/// True when the last segment of the path looks like a file name (`/assets/index-1.js`), so a miss
/// is a 404 rather than the SPA's `index.html`.
fn looks_like_file(url_path: &str) -> bool {
    url_path.rsplit('/').next().is_some_and(|seg| seg.contains('.'))
}

impl PortalSite {
    fn headers(&self, b: hyper::http::response::Builder) -> hyper::http::response::Builder {
        b.header("content-security-policy", self.config.csp())
            .header("x-content-type-options", "nosniff")
            .header("x-frame-options", "DENY")
            .header("referrer-policy", "no-referrer")
            .header("permissions-policy", "camera=(), microphone=(), geolocation=()")
    }

    fn file(&self, path: &Path, status: u16) -> Option<Resp> {
        let bytes = std::fs::read(path).ok()?;
        let immutable = path.components().any(|c| c.as_os_str() == "assets");
        let cache = if immutable { "public, max-age=31536000, immutable" } else { "no-cache" };
        Some(
            self.headers(hyper::Response::builder().status(status))
                .header("content-type", content_type(path))
                .header("cache-control", cache)
                .body(Full::new(Bytes::from(bytes)))
                .expect("valid response"),
        )
    }

    fn text(&self, status: u16, ct: &str, body: String) -> Resp {
        self.headers(hyper::Response::builder().status(status))
            .header("content-type", ct)
            .header("cache-control", "no-cache")
            .body(Full::new(Bytes::from(body)))
            .expect("valid response")
    }

    pub fn respond(&self, method: &str, url_path: &str) -> Resp {
        if method != "GET" && method != "HEAD" {
            return self.text(405, "text/plain; charset=utf-8", "Method not allowed\n".into());
        }
        if url_path == "/config.json" {
            return self.text(200, "application/json", self.config.json().to_string());
        }
        let index = self.dist.join("index.html");
        if !index.exists() {
            return self.text(
                503,
                "text/plain; charset=utf-8",
                "The portal is not built yet: cd portal && npm ci && npm run build (infra/up does this).\n".into(),
            );
        }
        if let Some(p) = resolve(&self.dist, url_path).filter(|p| p.is_file()) {
            if let Some(r) = self.file(&p, 200) {
                return r;
            }
        }
        if looks_like_file(url_path) {
            return self.text(404, "text/plain; charset=utf-8", "Not found\n".into());
        }
        self.file(&index, 200).unwrap_or_else(|| self.text(500, "text/plain; charset=utf-8", "index.html unreadable\n".into()))
    }
}

/// Serve the portal on `addr` until `shutdown` turns true.
pub async fn spawn(
    addr: SocketAddr,
    site: Arc<PortalSite>,
    mut shutdown: watch::Receiver<bool>,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let task = tokio::spawn(async move {
        loop {
            let stream = tokio::select! {
                r = listener.accept() => match r { Ok((s, _)) => s, Err(_) => continue },
                _ = shutdown.changed() => break,
            };
            let site = site.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req: hyper::Request<Incoming>| {
                    let site = site.clone();
                    async move { Ok::<_, Infallible>(site.respond(req.method().as_str(), req.uri().path())) }
                });
                let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), svc).await;
            });
        }
    });
    Ok((local, task))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site() -> (PortalSite, PathBuf) {
        let dir = std::env::temp_dir().join(format!("cms-portal-{}", ulid::Ulid::new()));
        std::fs::create_dir_all(dir.join("assets")).unwrap();
        std::fs::write(dir.join("index.html"), "<!doctype html><title>Portal</title>").unwrap();
        std::fs::write(dir.join("assets/app-1.js"), "console.log(1)").unwrap();
        let config = PortalConfig {
            api_url: "http://127.0.0.1:3001".into(),
            issuer: "http://127.0.0.1:3001/local-idp".into(),
            client_id: "attendance-portal-local".into(),
            extra_connect: vec!["http://127.0.0.1:5000".into()],
        };
        (PortalSite { dist: dir.clone(), config }, dir)
    }

    fn body(r: &Resp) -> String {
        use http_body_util::BodyExt;
        let b = futures_lite_block(r.body().clone().collect()).unwrap().to_bytes();
        String::from_utf8(b.to_vec()).unwrap()
    }

    fn futures_lite_block<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
    }

    #[test]
    fn files_spa_fallback_config_and_traversal() {
        let (s, dir) = site();
        let r = s.respond("GET", "/assets/app-1.js");
        assert_eq!(r.status(), 200);
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/javascript"));
        assert!(r.headers()["cache-control"].to_str().unwrap().contains("immutable"));
        // a client-side route gets index.html
        let r = s.respond("GET", "/cases/01ABC");
        assert_eq!(r.status(), 200);
        assert!(body(&r).contains("<title>Portal</title>"));
        assert_eq!(r.headers()["cache-control"], "no-cache");
        // a missing file is a 404, not the app
        assert_eq!(s.respond("GET", "/assets/missing.js").status(), 404);
        // no climbing out of dist
        assert!(resolve(&dir, "/../secret").is_none());
        assert_eq!(s.respond("GET", "/../Cargo.toml").status(), 404);
        // config.json from the environment
        let r = s.respond("GET", "/config.json");
        let v: serde_json::Value = serde_json::from_str(&body(&r)).unwrap();
        assert_eq!(v["apiUrl"], "http://127.0.0.1:3001");
        assert_eq!(v["issuer"], "http://127.0.0.1:3001/local-idp");
        assert_eq!(v["clientId"], "attendance-portal-local");
        // the security headers
        let csp = r.headers()["content-security-policy"].to_str().unwrap().to_string();
        assert!(csp.starts_with("default-src 'self'"), "{csp}");
        assert!(csp.contains("connect-src 'self' http://127.0.0.1:3001 http://127.0.0.1:5000;"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"));
        assert_eq!(r.headers()["x-content-type-options"], "nosniff");
        assert_eq!(s.respond("POST", "/").status(), 405);
        let _ = std::fs::remove_dir_all(dir);
    }
}
