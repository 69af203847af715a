//! The S3 adapter for case files: presigned POST forms for uploads (built here: the SDK has no
//! presigned POST), presigned GET links for downloads, HEAD and delete for the confirm step.
//!
//! A presigned POST is a form whose `policy` (base64 JSON) lists conditions S3 enforces on the
//! upload — here the bucket, the exact key, the exact `Content-Type`, a `content-length-range`
//! and an expiry — signed with SigV4 (HMAC-SHA256 over the base64 policy, with the key derived
//! from the secret, the date, the region and `s3`).

use async_trait::async_trait;
use aws_sdk_s3::error::DisplayErrorContext;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sigv4::sign::v4::{calculate_signature, generate_signing_key};
use base64::Engine;
use chrono::{DateTime, Utc};
use cms_domain::files::{ObjectInfo, UploadForm};
use cms_domain::ports::{FileStore, StoreError};

/// What a presigned POST is for, and the credentials that sign it.
#[derive(Debug, Clone)]
pub struct PostPolicyInput<'a> {
    pub bucket: &'a str,
    pub key: &'a str,
    pub content_type: &'a str,
    pub min_bytes: u64,
    pub max_bytes: u64,
    pub region: &'a str,
    pub access_key_id: &'a str,
    pub secret_access_key: &'a str,
    pub session_token: Option<&'a str>,
    pub now: DateTime<Utc>,
    pub expires_in: std::time::Duration,
}

/// The form fields of a presigned POST (in the order to send them, before the file) and when it
/// expires. Pure: the same input always gives the same form.
pub fn presigned_post_fields(p: &PostPolicyInput<'_>) -> (Vec<(String, String)>, DateTime<Utc>) {
    let expires_at = p.now + chrono::Duration::from_std(p.expires_in).unwrap_or_else(|_| chrono::Duration::minutes(15));
    let amz_date = p.now.format("%Y%m%dT%H%M%SZ").to_string();
    let date = p.now.format("%Y%m%d").to_string();
    let credential = format!("{}/{date}/{}/s3/aws4_request", p.access_key_id, p.region);
    let mut conditions = vec![
        serde_json::json!({"bucket": p.bucket}),
        serde_json::json!({"key": p.key}),
        serde_json::json!({"Content-Type": p.content_type}),
        serde_json::json!(["content-length-range", p.min_bytes, p.max_bytes]),
        serde_json::json!({"x-amz-algorithm": "AWS4-HMAC-SHA256"}),
        serde_json::json!({"x-amz-credential": credential}),
        serde_json::json!({"x-amz-date": amz_date}),
    ];
    if let Some(t) = p.session_token {
        conditions.push(serde_json::json!({"x-amz-security-token": t}));
    }
    let policy = serde_json::json!({
        "expiration": expires_at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        "conditions": conditions,
    });
    let policy_b64 = base64::engine::general_purpose::STANDARD.encode(policy.to_string());
    // SigV4 (aws-sigv4): the key derived from the secret, the date, the region and `s3`
    let signing_key = generate_signing_key(p.secret_access_key, std::time::SystemTime::from(p.now), p.region, "s3");
    let signature = calculate_signature(signing_key, policy_b64.as_bytes());
    let mut fields = vec![
        ("key".to_string(), p.key.to_string()),
        ("Content-Type".to_string(), p.content_type.to_string()),
        ("x-amz-algorithm".to_string(), "AWS4-HMAC-SHA256".to_string()),
        ("x-amz-credential".to_string(), credential),
        ("x-amz-date".to_string(), amz_date),
    ];
    if let Some(t) = p.session_token {
        fields.push(("x-amz-security-token".to_string(), t.to_string()));
    }
    fields.push(("policy".to_string(), policy_b64));
    fields.push(("x-amz-signature".to_string(), signature));
    (fields, expires_at)
}

/// Case files in one private bucket.
#[derive(Clone, Debug)]
pub struct S3FileStore {
    client: aws_sdk_s3::Client,
    bucket: String,
    region: String,
    /// The form's action URL (virtual-hosted in AWS; path-style on an emulator endpoint).
    post_url: String,
    credentials: Option<aws_credential_types::provider::SharedCredentialsProvider>,
}

/// An S3 client of the SDK configuration: path-style addressing when `AWS_ENDPOINT_URL` points
/// at the emulator.
pub(crate) fn client(sdk: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    let mut conf = aws_sdk_s3::config::Builder::from(sdk);
    if sdk.endpoint_url().is_some() {
        conf = conf.force_path_style(true);
    }
    aws_sdk_s3::Client::from_conf(conf.build())
}

impl S3FileStore {
    /// The client honours `AWS_ENDPOINT_URL` (then path-style addressing, as the emulator needs).
    pub fn new(sdk: &aws_config::SdkConfig, bucket: impl Into<String>) -> S3FileStore {
        let bucket = bucket.into();
        let region = sdk.region().map(|r| r.to_string()).unwrap_or_else(|| "ap-southeast-2".into());
        let mut conf = aws_sdk_s3::config::Builder::from(sdk);
        let post_url = match sdk.endpoint_url() {
            Some(ep) => {
                conf = conf.force_path_style(true);
                format!("{}/{bucket}", ep.trim_end_matches('/'))
            }
            None => format!("https://{bucket}.s3.{region}.amazonaws.com/"),
        };
        S3FileStore {
            client: aws_sdk_s3::Client::from_conf(conf.build()),
            bucket,
            region,
            post_url,
            credentials: sdk.credentials_provider(),
        }
    }

    pub fn client(&self) -> &aws_sdk_s3::Client {
        &self.client
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }
}

pub(crate) fn s3_error<E: std::error::Error + 'static, R: std::fmt::Debug>(what: &str, e: aws_sdk_s3::error::SdkError<E, R>) -> StoreError {
    tracing::warn!(error = %DisplayErrorContext(&e), "s3 {what} failed");
    StoreError::Unavailable(format!("s3 {what}: {}", DisplayErrorContext(&e)))
}

#[async_trait]
impl FileStore for S3FileStore {
    async fn upload_form(
        &self,
        key: &str,
        content_type: &str,
        max_bytes: u64,
        now: DateTime<Utc>,
        expires_in: std::time::Duration,
    ) -> Result<UploadForm, StoreError> {
        use aws_credential_types::provider::ProvideCredentials;
        let provider = self.credentials.as_ref().ok_or_else(|| StoreError::Unavailable("no AWS credentials to sign with".into()))?;
        let creds = provider.provide_credentials().await.map_err(|e| StoreError::Unavailable(format!("credentials: {e}")))?;
        let (fields, expires_at) = presigned_post_fields(&PostPolicyInput {
            bucket: &self.bucket,
            key,
            content_type,
            min_bytes: 1,
            max_bytes,
            region: &self.region,
            access_key_id: creds.access_key_id(),
            secret_access_key: creds.secret_access_key(),
            session_token: creds.session_token(),
            now,
            expires_in,
        });
        Ok(UploadForm { url: self.post_url.clone(), fields, expires_at })
    }

    async fn download_url(&self, key: &str, file_name: &str, expires_in: std::time::Duration) -> Result<String, StoreError> {
        let cfg = PresigningConfig::expires_in(expires_in).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let req = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .response_content_disposition(content_disposition(file_name))
            .presigned(cfg)
            .await
            .map_err(|e| s3_error("presign", e))?;
        Ok(req.uri().to_string())
    }

    async fn head(&self, key: &str) -> Result<Option<ObjectInfo>, StoreError> {
        match self.client.head_object().bucket(&self.bucket).key(key).send().await {
            Ok(o) => Ok(Some(ObjectInfo {
                size: o.content_length().unwrap_or_default().max(0) as u64,
                content_type: o.content_type().map(str::to_string),
            })),
            Err(e) if e.as_service_error().is_some_and(|se| se.is_not_found()) => Ok(None),
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => Ok(None),
            Err(e) => Err(s3_error("head", e)),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        // versioned bucket: remove every version and delete marker of this key, not just hide it
        let out =
            self.client.list_object_versions().bucket(&self.bucket).prefix(key).send().await.map_err(|e| s3_error("list versions", e))?;
        let mut versions: Vec<Option<String>> = out
            .versions()
            .iter()
            .filter(|v| v.key() == Some(key))
            .map(|v| v.version_id().map(str::to_string))
            .chain(out.delete_markers().iter().filter(|m| m.key() == Some(key)).map(|m| m.version_id().map(str::to_string)))
            .collect();
        if versions.is_empty() {
            versions.push(None);
        }
        for v in versions {
            self.client.delete_object().bucket(&self.bucket).key(key).set_version_id(v).send().await.map_err(|e| s3_error("delete", e))?;
        }
        Ok(())
    }
}

/// `Content-Disposition` for a download, RFC 6266: `filename*=UTF-8''…` (RFC 5987 percent-encoding)
/// carries the name exactly, macrons included (`Hui ā-whānau plan.pdf`); `filename="…"` is the
/// ASCII fallback for old clients (non-ASCII, quotes, backslashes and controls as `_`).
pub fn content_disposition(file_name: &str) -> String {
    let fallback: String =
        file_name.chars().map(|c| if (c.is_ascii_graphic() && c != '"' && c != '\\') || c == ' ' { c } else { '_' }).collect();
    let mut encoded = String::with_capacity(file_name.len() * 3);
    for b in file_name.bytes() {
        // RFC 5987 attr-char: ALPHA / DIGIT / "!" / "#" / "$" / "&" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~"
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn downloads_keep_the_name_exactly_in_filename_star() {
        let d = content_disposition("Hui ā-whānau plan.pdf");
        assert_eq!(d, "attachment; filename=\"Hui _-wh_nau plan.pdf\"; filename*=UTF-8''Hui%20%C4%81-wh%C4%81nau%20plan.pdf");
        // decoding filename* gives the name back, byte for byte
        let star = d.split("filename*=UTF-8''").nth(1).unwrap();
        let mut bytes = Vec::new();
        let mut it = star.bytes();
        while let Some(b) = it.next() {
            if b == b'%' {
                let h: String = [it.next().unwrap() as char, it.next().unwrap() as char].iter().collect();
                bytes.push(u8::from_str_radix(&h, 16).unwrap());
            } else {
                bytes.push(b);
            }
        }
        assert_eq!(String::from_utf8(bytes).unwrap(), "Hui ā-whānau plan.pdf");
        // nothing in a name can end the header value or start another parameter
        let tricky = content_disposition("a\"; filename=evil.exe;\\b.pdf");
        assert_eq!(tricky.matches('"').count(), 2, "{tricky}");
        assert!(!tricky.split("filename*=").nth(1).unwrap().contains(';'), "{tricky}");
    }

    #[test]
    fn signing_key_matches_the_aws_documented_example() {
        // AWS General Reference, "Examples of how to derive a signing key for Signature Version 4"
        let day = std::time::SystemTime::from(Utc.with_ymd_and_hms(2012, 2, 15, 0, 0, 0).unwrap());
        let k = generate_signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", day, "us-east-1", "iam");
        assert_eq!(hex::encode(k), "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
    }

    fn input(now: DateTime<Utc>) -> PostPolicyInput<'static> {
        PostPolicyInput {
            bucket: "files-bucket",
            key: "cases/C1/F1",
            content_type: "application/pdf",
            min_bytes: 1,
            max_bytes: 20 * 1024 * 1024,
            region: "ap-southeast-2",
            access_key_id: "AKIDEXAMPLE",
            secret_access_key: "secret",
            session_token: None,
            now,
            expires_in: std::time::Duration::from_secs(900),
        }
    }

    #[test]
    fn the_policy_carries_the_rules_and_the_signature_covers_it() {
        let now = Utc.with_ymd_and_hms(2026, 3, 10, 1, 2, 3).unwrap();
        let (fields, exp) = presigned_post_fields(&input(now));
        let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap();
        assert_eq!(exp, Utc.with_ymd_and_hms(2026, 3, 10, 1, 17, 3).unwrap());
        let policy: serde_json::Value =
            serde_json::from_slice(&base64::engine::general_purpose::STANDARD.decode(get("policy")).unwrap()).unwrap();
        assert_eq!(policy["expiration"], "2026-03-10T01:17:03.000Z");
        let conds = policy["conditions"].as_array().unwrap();
        assert!(conds.contains(&serde_json::json!(["content-length-range", 1, 20971520])));
        assert!(conds.contains(&serde_json::json!({"Content-Type": "application/pdf"})));
        assert!(conds.contains(&serde_json::json!({"key": "cases/C1/F1"})));
        assert!(conds.contains(&serde_json::json!({"bucket": "files-bucket"})));
        assert_eq!(get("x-amz-credential"), "AKIDEXAMPLE/20260310/ap-southeast-2/s3/aws4_request");
        assert_eq!(get("x-amz-date"), "20260310T010203Z");
        assert_eq!(get("key"), "cases/C1/F1");
        // the signature is HMAC(signing key, base64 policy)
        let day = std::time::SystemTime::from(Utc.with_ymd_and_hms(2026, 3, 10, 23, 0, 0).unwrap());
        let want = calculate_signature(generate_signing_key("secret", day, "ap-southeast-2", "s3"), get("policy").as_bytes());
        assert_eq!(get("x-amz-signature"), want);
        // deterministic, and any change to the policy changes the signature
        assert_eq!(presigned_post_fields(&input(now)).0, fields);
        let mut other = input(now);
        other.content_type = "image/png";
        assert_ne!(presigned_post_fields(&other).0.last(), fields.last());
        assert_eq!(fields.last().unwrap().0, "x-amz-signature");
    }

    #[test]
    fn a_session_token_is_signed_and_sent() {
        let now = Utc.with_ymd_and_hms(2026, 3, 10, 1, 2, 3).unwrap();
        let mut i = input(now);
        i.session_token = Some("TOKEN");
        let (fields, _) = presigned_post_fields(&i);
        assert!(fields.contains(&("x-amz-security-token".into(), "TOKEN".into())));
        let policy = fields.iter().find(|(n, _)| n == "policy").unwrap().1.clone();
        let policy = String::from_utf8(base64::engine::general_purpose::STANDARD.decode(policy).unwrap()).unwrap();
        assert!(policy.contains(r#"{"x-amz-security-token":"TOKEN"}"#));
    }
}

/// The export bucket ([`cms_domain::ports::ExportSink`]): one `PutObject` per export file.
#[derive(Debug, Clone)]
pub struct S3ExportSink {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl S3ExportSink {
    pub fn new(sdk: &aws_config::SdkConfig, bucket: impl Into<String>) -> S3ExportSink {
        S3ExportSink { client: client(sdk), bucket: bucket.into() }
    }
}

#[async_trait]
impl cms_domain::ports::ExportSink for S3ExportSink {
    async fn put(&self, key: &str, body: Vec<u8>, content_type: &str) -> Result<(), StoreError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .body(body.into())
            .send()
            .await
            .map_err(|e| StoreError::Unavailable(format!("the export could not be written: {}", DisplayErrorContext(e))))?;
        Ok(())
    }
}
