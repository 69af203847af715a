//! `PUT /me/email-preference` — `{emailPreference: each_update | daily_digest}`: how case emails
//! reach the caller, one per update or one summary a day ([`cms_domain::digest`]). For those case
//! emails are addressed to (the policy's [`can_choose_email_digest`]); 200 with the choice. It
//! takes effect with the next update; updates already kept for a digest are still sent in it.

use crate::Deps;
use cms_domain::access::can_choose_email_digest;
use cms_domain::actor::Actor;
use cms_domain::digest::EmailPreference;
use cms_domain::ports::{Clock, DigestStore};
use cms_http::{json, Problem};
use lambda_http::{Body, Request, Response};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct PreferenceBody {
    #[serde(default)]
    email_preference: Option<String>,
}

pub async fn set<S: DigestStore, B, C: Clock>(deps: &Deps<S, B, C>, req: &Request, actor: &Actor) -> Result<Response<Body>, Problem> {
    if !can_choose_email_digest(actor) {
        return Err(Problem::forbidden(
            "Case emails go to School Primary Contacts, Attendance Leads and Case Managers; your role gets none, so there is nothing to choose.",
        ));
    }
    let body: PreferenceBody = cms_http::json_body(req)?;
    let choice = body.email_preference.as_deref().map(str::trim).unwrap_or_default();
    let Some(preference) = EmailPreference::parse(choice) else {
        let msg = format!("Choose how you get case emails: emailPreference must be one of {}.", EmailPreference::list());
        return Err(Problem::invalid_field("emailPreference", &msg));
    };
    if deps.store.recipient(actor.user_id()).await?.is_none() {
        return Err(Problem::not_appropriate(
            "Your user account is not set up in the Attendance Service yet, so it has no email address to send to. Ask your administrator to add you.",
        ));
    }
    deps.store.set_email_preference(actor.user_id(), preference, deps.clock.now()).await?;
    tracing::info!(role = %actor.role(), preference = preference.as_str(), "email preference set");
    Ok(json(200, &serde_json::json!({ "emailPreference": preference })))
}
