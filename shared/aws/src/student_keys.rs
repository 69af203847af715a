//! The secret of the student keys (keyed HMAC of the NSN and of name + date of birth), read from
//! AWS Secrets Manager once per cold start and kept for the life of the process: the keys must not
//! change while cases are written under them (rotating it means re-keying the table; ADR 0007).

use async_trait::async_trait;
use cms_domain::ports::{StoreError, StudentKeySource};
use cms_domain::student::StudentKeys;
use tokio::sync::OnceCell;

pub struct SecretsManagerStudentKeys {
    client: aws_sdk_secretsmanager::Client,
    secret_id: String,
    keys: OnceCell<StudentKeys>,
}

impl SecretsManagerStudentKeys {
    pub fn new(client: aws_sdk_secretsmanager::Client, secret_id: impl Into<String>) -> Self {
        SecretsManagerStudentKeys { client, secret_id: secret_id.into(), keys: OnceCell::new() }
    }
}

#[async_trait]
impl StudentKeySource for SecretsManagerStudentKeys {
    async fn keys(&self) -> Result<StudentKeys, StoreError> {
        self.keys
            .get_or_try_init(|| async {
                let out = self.client.get_secret_value().secret_id(&self.secret_id).send().await.map_err(|e| {
                    let msg = aws_sdk_secretsmanager::error::DisplayErrorContext(e).to_string();
                    tracing::error!(error = %msg, "student key secret unreadable");
                    StoreError::Unavailable(msg)
                })?;
                StudentKeys::new(out.secret_string().unwrap_or_default().as_bytes())
                    .ok_or_else(|| StoreError::Unavailable("the student key secret is empty".into()))
            })
            .await
            .cloned()
    }
}
