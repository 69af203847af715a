//! A request-counting proxy in front of the emulator (issue 14's "AWS calls per operation"): the
//! functions under measurement get an SDK configuration whose endpoint is this proxy, which
//! forwards every request unchanged to the emulator and notes its operation — `dynamodb:GetItem`,
//! `events:PutEvents`, `secretsmanager:GetSecretValue` (from `X-Amz-Target`), `ses:POST /v2/...`,
//! `s3:PUT` (REST APIs: the method and path). Nothing is mocked: the calls are real.

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use std::sync::{Arc, Mutex};

#[derive(Clone)]
pub struct CallCounter {
    calls: Arc<Mutex<Vec<String>>>,
    pub endpoint: String,
}

fn operation(req: &hyper::Request<Incoming>) -> String {
    if let Some(t) = req.headers().get("x-amz-target").and_then(|v| v.to_str().ok()) {
        let (service, op) = t.split_once('.').unwrap_or(("?", t));
        let service = match service {
            s if s.starts_with("DynamoDB") => "dynamodb",
            "AWSEvents" => "events",
            s if s.eq_ignore_ascii_case("secretsmanager") => "secretsmanager",
            s if s.starts_with("AmazonSQS") => "sqs",
            other => other,
        };
        return format!("{service}:{op}");
    }
    let path = req.uri().path();
    if path.starts_with("/v2/email") {
        return format!("ses:{} {path}", req.method());
    }
    format!("s3:{} {}", req.method(), path.split('/').nth(1).unwrap_or_default())
}

impl CallCounter {
    /// Start the proxy on a free loopback port, forwarding to `upstream` (the emulator's URL).
    pub async fn start(upstream: &str) -> CallCounter {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
        let endpoint = format!("http://{}", listener.local_addr().expect("bound"));
        let calls: Arc<Mutex<Vec<String>>> = Arc::default();
        let upstream = upstream.trim_end_matches('/').to_string();
        let http = reqwest::Client::new();
        let noted = calls.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { continue };
                let (upstream, http, noted) = (upstream.clone(), http.clone(), noted.clone());
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
                        let (upstream, http, noted) = (upstream.clone(), http.clone(), noted.clone());
                        async move {
                            noted.lock().expect("counter").push(operation(&req));
                            let method = req.method().clone();
                            let target = format!("{upstream}{}", req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/"));
                            let headers = req.headers().clone();
                            let body = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
                            let mut out = http.request(method, target).body(body);
                            for (k, v) in &headers {
                                if k != hyper::header::HOST && k != hyper::header::CONTENT_LENGTH {
                                    out = out.header(k, v);
                                }
                            }
                            let answer = match out.send().await {
                                Ok(r) => {
                                    let mut b = hyper::Response::builder().status(r.status().as_u16());
                                    for (k, v) in r.headers() {
                                        if k != hyper::header::CONTENT_LENGTH && k != hyper::header::TRANSFER_ENCODING {
                                            b = b.header(k, v);
                                        }
                                    }
                                    let bytes = r.bytes().await.unwrap_or_default();
                                    b.body(Full::new(bytes)).unwrap_or_else(|_| hyper::Response::new(Full::new(Bytes::new())))
                                }
                                Err(_) => {
                                    let mut r = hyper::Response::new(Full::new(Bytes::from_static(b"proxy: emulator unreachable")));
                                    *r.status_mut() = hyper::StatusCode::BAD_GATEWAY;
                                    r
                                }
                            };
                            Ok::<_, std::convert::Infallible>(answer)
                        }
                    });
                    let io = hyper_util::rt::TokioIo::new(stream);
                    let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await;
                });
            }
        });
        CallCounter { calls, endpoint }
    }

    /// The calls made since the last `take`, in order.
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.calls.lock().expect("counter"))
    }

    /// An SDK configuration from the environment (as the functions load theirs) whose calls go
    /// through this proxy. (Set on the loader: an endpoint set on a loaded configuration would
    /// lose to `AWS_ENDPOINT_URL`.)
    pub async fn sdk(&self) -> aws_config::SdkConfig {
        aws_config::defaults(aws_config::BehaviorVersion::latest()).endpoint_url(&self.endpoint).load().await
    }
}
