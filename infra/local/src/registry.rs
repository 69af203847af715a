//! Which handler runs for which function of template.yaml (by logical id). [`functions`] is the
//! one place to add a function when its crate exists.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use lambda_http::{Body, Request, Response};
use serde_json::Value;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;
/// An HTTP function's handler: never fails (it answers with a problem response itself).
pub type HttpFn = Arc<dyn Fn(Request) -> BoxFuture<Response<Body>> + Send + Sync>;
/// An EventBridge-triggered function's handler: `Err` = retry (the message is redelivered).
pub type EventFn = Arc<dyn Fn(EventBridgeEvent<Value>) -> BoxFuture<Result<(), String>> + Send + Sync>;

#[derive(Clone, Default)]
pub struct Registry {
    http: HashMap<String, HttpFn>,
    events: HashMap<String, EventFn>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("http", &self.http.keys().collect::<Vec<_>>())
            .field("events", &self.events.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Registry {
    pub fn new() -> Registry {
        Registry::default()
    }

    /// Serve `logical_id`'s HttpApi routes with `f`.
    pub fn with_http<F, Fut>(mut self, logical_id: &str, f: F) -> Registry
    where
        F: Fn(Request) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Response<Body>> + Send + 'static,
    {
        self.http.insert(logical_id.to_string(), Arc::new(move |r| Box::pin(f(r))));
        self
    }

    /// Run `f` for the events `logical_id`'s EventBridge rules match.
    /// (The handler's `Ok` value is ignored; `Err` = retry, as with Lambda.)
    pub fn with_event<F, Fut, T, E>(mut self, logical_id: &str, f: F) -> Registry
    where
        F: Fn(EventBridgeEvent<Value>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
        E: std::fmt::Display,
    {
        let f = Arc::new(f);
        self.events.insert(
            logical_id.to_string(),
            Arc::new(move |e| {
                let fut = f(e);
                Box::pin(async move { fut.await.map(|_| ()).map_err(|e| e.to_string()) })
            }),
        );
        self
    }

    /// This registry with `logical_id`'s handler taken from `other` (e.g. the same function built
    /// with another SDK configuration).
    pub fn with_function_from(mut self, other: &Registry, logical_id: &str) -> Registry {
        if let Some(f) = other.http.get(logical_id) {
            self.http.insert(logical_id.to_string(), f.clone());
        }
        if let Some(f) = other.events.get(logical_id) {
            self.events.insert(logical_id.to_string(), f.clone());
        }
        self
    }

    pub fn http(&self, logical_id: &str) -> Option<&HttpFn> {
        self.http.get(logical_id)
    }

    pub fn event(&self, logical_id: &str) -> Option<&EventFn> {
        self.events.get(logical_id)
    }

    pub fn http_ids(&self) -> Vec<&str> {
        self.http.keys().map(String::as_str).collect()
    }

    pub fn event_ids(&self) -> Vec<&str> {
        self.events.keys().map(String::as_str).collect()
    }
}

/// Every function crate's handler with its AWS dependencies (built once, like a cold start).
/// THE place to add a function: one line per template.yaml logical id.
pub fn functions(sdk: &aws_config::SdkConfig, env: &cms_aws::Env) -> Registry {
    let submit = Arc::new(submit_referral::aws_deps(sdk, env));
    let query = Arc::new(case_query::aws_deps(sdk, env));
    let allocate = Arc::new(allocate::aws_deps(sdk, env));
    let activity = Arc::new(case_activity::aws_deps(sdk, env));
    let upload = Arc::new(upload_file::aws_deps(sdk, env));
    let confirm = Arc::new(confirm_upload::aws_deps(sdk, env));
    let notify = Arc::new(notify_primary_contact::aws_deps(sdk, env));
    let webhook = Arc::new(nen_webhook::aws_deps(sdk, env));
    let cit = Arc::new(cit_review::aws_deps(sdk, env));
    let sensitive = Arc::new(sensitive_info::aws_deps(sdk, env));
    let status = Arc::new(update_status::aws_deps(sdk, env));
    let confirm_published = Arc::new(outbox_confirm::aws_store(sdk, env));
    let dashboards = Arc::new(update_dashboards::aws_deps(sdk, env));
    Registry::new()
        .with_http("SubmitReferralFunction", move |req| {
            let d = submit.clone();
            async move { submit_referral::handle(&*d, req).await }
        })
        .with_http("CaseQueryFunction", move |req| {
            let d = query.clone();
            async move { case_query::handle(&*d, req).await }
        })
        .with_http("CaseActivityFunction", move |req| {
            let d = activity.clone();
            async move { case_activity::handle(&*d, req).await }
        })
        .with_http("UploadFileFunction", move |req| {
            let d = upload.clone();
            async move { upload_file::handle(&*d, req).await }
        })
        .with_event("ConfirmUploadFunction", move |ev| {
            let d = confirm.clone();
            async move { confirm_upload::handle(&*d, ev).await }
        })
        .with_event("NotifyPrimaryContactFunction", move |ev| {
            let d = notify.clone();
            async move { notify_primary_contact::handle(&*d, ev).await }
        })
        .with_http("UpdateStatusFunction", move |req| {
            let d = status.clone();
            async move { update_status::handle(&*d, req).await }
        })
        .with_http("NenWebhookFunction", move |req| {
            let d = webhook.clone();
            async move { nen_webhook::handle(&*d, req).await }
        })
        .with_http("SensitiveInfoFunction", move |req| {
            let d = sensitive.clone();
            async move { sensitive_info::handle(&*d, req).await }
        })
        .with_http("CitReviewFunction", move |req| {
            let d = cit.clone();
            async move { cit_review::handle(&*d, req).await }
        })
        .with_event("OutboxConfirmFunction", move |ev| {
            let d = confirm_published.clone();
            async move { outbox_confirm::handle(&*d, ev).await }
        })
        .with_event("AllocateFunction", move |ev| {
            let d = allocate.clone();
            async move { allocate::handle(&*d, ev).await }
        })
        .with_event("UpdateDashboardsFunction", move |ev| {
            let d = dashboards.clone();
            async move { update_dashboards::handle(&*d, ev).await }
        })
}
