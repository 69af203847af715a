//! `notify-primary-contact`: EventBridge rules (template.yaml) deliver `CaseStatusChanged`,
//! `CaseAllocated`, `CaseReopened`, and `CommentAdded`/`FileAdded` here. Who gets which email and
//! what it says is the domain's rule ([`cms_domain::notification`]): provider shares and status
//! changes → the School Primary Contact; school comments and files → the Case Manager, or the
//! provider's queue mailbox while the case has none.
//!
//! Once per event and audience: a marker `EMAIL#<eventId>#<audience>` is claimed before sending;
//! a redelivered event finds it and sends nothing. If sending fails the marker is released and the
//! error returned, so EventBridge retries (then the rule's dead-letter queue).
//!
//! A user who chose the daily digest ([`cms_domain::digest`]) gets no email now: the notice is
//! kept as a digest entry, with the same once-only marker in the same transaction, and the
//! nightly job sends one summary. The provider's queue mailbox always gets its email at once.
//!
//! Logs carry ids, the audience and outcome — never an address or any content.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use cms_aws::{DynamoStore, SesMailer};
use cms_domain::case::Marker;
use cms_domain::digest::{DigestEntry, EmailPreference};
use cms_domain::events::EventEnvelope;
use cms_domain::notification::{marker_key, notice_for, recipient, render, Audience, Recipient};
use cms_domain::ports::{CaseStore, Clock, DigestStore, Mailer, ReadLog, ReferenceData, StoreError, SystemClock};
use cms_domain::usecase::record_system_read;

/// The portal's origin when none is configured.
pub const DEFAULT_PORTAL_BASE_URL: &str = "https://portal.attendance.education.govt.nz";

pub struct Deps<S, M, C> {
    pub store: S,
    pub mailer: M,
    pub clock: C,
    pub portal_base_url: String,
}

pub type AwsDeps = Deps<DynamoStore, SesMailer, SystemClock>;

pub fn aws_deps(sdk: &aws_config::SdkConfig, env: &cms_aws::Env) -> AwsDeps {
    Deps {
        store: DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), &env.table_name),
        mailer: SesMailer::from_env(sdk, env),
        clock: SystemClock,
        portal_base_url: env.portal_base_url.clone().unwrap_or_else(|| DEFAULT_PORTAL_BASE_URL.to_string()),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Sent {
        audience: &'static str,
        to_provider_queue: bool,
    },
    /// The recipient chose the daily digest: the notice waits for the nightly summary.
    Digested {
        audience: &'static str,
    },
    /// This event's email was sent (or kept for the digest) before: a redelivery.
    AlreadySent,
    /// Nobody to tell (no School Primary Contact on the case, no provider yet).
    NoRecipient,
    /// The event calls for no email (e.g. an unshared provider comment).
    Ignored,
}

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("the event is malformed: {0}")]
    Malformed(String),
    #[error("case {0} does not exist")]
    CaseMissing(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Mail(String),
}

/// How long the once-only marker is kept (well past EventBridge's retry window).
const MARKER_DAYS: i64 = 30;

pub async fn handle<S, M, C>(deps: &Deps<S, M, C>, event: EventBridgeEvent<serde_json::Value>) -> Result<Outcome, NotifyError>
where
    S: CaseStore + ReferenceData + ReadLog + DigestStore,
    M: Mailer,
    C: Clock,
{
    let env = EventEnvelope::from_parts(&event.detail_type, &event.detail).map_err(NotifyError::Malformed)?;
    let Some(notice) = notice_for(&env.event) else {
        return Ok(Outcome::Ignored);
    };
    let case_id = notice.case_id.clone();
    let case = deps.store.case(&case_id).await?.ok_or_else(|| NotifyError::CaseMissing(case_id.to_string()))?;
    let audience = notice.audience;
    let mut digest_for = None;
    let (to, to_queue) = match recipient(audience, &case) {
        Recipient::User(u) => match deps.store.recipient(&u).await? {
            Some((user, preference)) => {
                if preference == EmailPreference::DailyDigest {
                    digest_for = Some(user.id);
                }
                (user.email, false)
            }
            None => match (audience, &case.provider_id) {
                (Audience::CaseManager, Some(p)) => (queue_email(deps, p).await?, true),
                _ => {
                    tracing::warn!(case_id = %case_id, event_id = %env.event_id, audience = audience.as_str(), "recipient has no user record; no email");
                    return Ok(Outcome::NoRecipient);
                }
            },
        },
        Recipient::ProviderQueue(p) => (queue_email(deps, &p).await?, true),
        Recipient::Nobody => {
            tracing::info!(case_id = %case_id, event_id = %env.event_id, audience = audience.as_str(), "no recipient; no email");
            return Ok(Outcome::NoRecipient);
        }
    };
    let key = marker_key(&env.event_id, audience);
    let marker = Marker {
        key: key.clone(),
        fingerprint: audience.as_str().to_string(),
        answer: None,
        expires_at: Some(deps.clock.now() + chrono::Duration::days(MARKER_DAYS)),
    };
    let request_id = event.id.clone().unwrap_or_else(|| env.event_id.to_string());
    if let Some(user) = digest_for {
        let entry = DigestEntry::new(&notice, &user, &env.event_id, deps.clock.now());
        if !deps.store.add_to_digest(&entry, &marker).await? {
            tracing::info!(case_id = %case_id, event_id = %env.event_id, audience = audience.as_str(), "already kept for the digest; redelivery ignored");
            return Ok(Outcome::AlreadySent);
        }
        tracing::info!(case_id = %case_id, event_id = %env.event_id, audience = audience.as_str(), "kept for the recipient's daily digest");
        record_system_read(&deps.store, "notify-primary-contact", &case_id, "case.notified", &request_id, deps.clock.now()).await;
        return Ok(Outcome::Digested { audience: audience.as_str() });
    }
    if !deps.store.claim_marker(&marker).await? {
        tracing::info!(case_id = %case_id, event_id = %env.event_id, audience = audience.as_str(), "email already sent; redelivery ignored");
        return Ok(Outcome::AlreadySent);
    }
    let email = render(&notice, &to, &deps.portal_base_url);
    if let Err(e) = deps.mailer.send(&email).await {
        // let the retry send it: release the claim (if that fails too, the marker's TTL ends it)
        if let Err(re) = deps.store.release_marker(&key).await {
            tracing::error!(case_id = %case_id, event_id = %env.event_id, error = %re, "could not release the email marker");
        }
        return Err(NotifyError::Mail(e.to_string()));
    }
    tracing::info!(
        case_id = %case_id,
        event_id = %env.event_id,
        detail_type = env.detail_type(),
        audience = audience.as_str(),
        provider_queue = to_queue,
        "email sent"
    );
    // it read the case to find the recipient: that read is on the record, with the event's id
    record_system_read(&deps.store, "notify-primary-contact", &case_id, "case.notified", &request_id, deps.clock.now()).await;
    Ok(Outcome::Sent { audience: audience.as_str(), to_provider_queue: to_queue })
}

async fn queue_email<S: CaseStore + ReferenceData, M, C>(
    deps: &Deps<S, M, C>,
    p: &cms_domain::ids::ProviderId,
) -> Result<String, NotifyError> {
    match deps.store.provider(p).await? {
        Some(provider) => {
            tracing::info!(provider_id = %p, "no Case Manager yet: emailing the provider's queue mailbox");
            Ok(provider.queue_email)
        }
        None => Err(NotifyError::Malformed(format!("provider {p} is not in the reference data"))),
    }
}
