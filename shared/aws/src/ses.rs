//! The SES (v2) adapter: sends a plain-text email from the configured sender identity.
//! Logs carry no addresses and no content (ids are logged by the caller).

use async_trait::async_trait;
use aws_sdk_sesv2::error::DisplayErrorContext;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
use cms_domain::notification::Email;
use cms_domain::ports::{MailError, Mailer};

#[derive(Clone, Debug)]
pub struct SesMailer {
    client: aws_sdk_sesv2::Client,
    from: String,
    /// The SES configuration set every email is sent with (`SES_CONFIGURATION_SET`): its event
    /// destination records bounces and complaints.
    configuration_set: Option<String>,
}

impl SesMailer {
    pub fn new(client: aws_sdk_sesv2::Client, from: impl Into<String>) -> SesMailer {
        SesMailer { client, from: from.into(), configuration_set: None }
    }

    /// Send every email with this configuration set (`None`: without one).
    pub fn with_configuration_set(mut self, set: Option<String>) -> SesMailer {
        self.configuration_set = set;
        self
    }

    /// The mailer a function's environment describes: `SENDER_EMAIL` and `SES_CONFIGURATION_SET`.
    pub fn from_env(sdk: &aws_config::SdkConfig, env: &crate::Env) -> SesMailer {
        SesMailer::new(aws_sdk_sesv2::Client::new(sdk), env.sender_email.clone().unwrap_or_default())
            .with_configuration_set(env.ses_configuration_set.clone())
    }
}

fn content(s: &str) -> Result<Content, MailError> {
    Content::builder().data(s).charset("UTF-8").build().map_err(|e| MailError(e.to_string()))
}

#[async_trait]
impl Mailer for SesMailer {
    async fn send(&self, email: &Email) -> Result<(), MailError> {
        let message =
            Message::builder().subject(content(&email.subject)?).body(Body::builder().text(content(&email.body)?).build()).build();
        self.client
            .send_email()
            .from_email_address(&self.from)
            .set_configuration_set_name(self.configuration_set.clone())
            .destination(Destination::builder().to_addresses(&email.to).build())
            .content(EmailContent::builder().simple(message).build())
            .send()
            .await
            .map_err(|e| {
                tracing::warn!(error = %DisplayErrorContext(&e), "ses send failed");
                MailError(DisplayErrorContext(&e).to_string())
            })?;
        Ok(())
    }
}
