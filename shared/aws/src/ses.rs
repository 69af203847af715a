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
}

impl SesMailer {
    pub fn new(client: aws_sdk_sesv2::Client, from: impl Into<String>) -> SesMailer {
        SesMailer { client, from: from.into() }
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
