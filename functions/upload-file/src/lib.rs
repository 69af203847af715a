//! `upload-file`: files on a case.
//!
//! - `POST /cases/{id}/files` — `{fileName, contentType, size, shared}`: checks the type (PDF, PNG,
//!   JPEG, DOCX, plain text) and size (at most 20 MB), records the file as *pending* and returns a
//!   presigned POST (15 minutes) whose policy makes S3 enforce the exact key under the case's
//!   prefix, the content type and the size range. The file is shown only after `confirm-upload`
//!   has checked the stored object.
//! - `GET /cases/{id}/files/{fileId}` — a presigned GET valid for 5 minutes, for a confirmed file
//!   of a case the caller may see (school users: only files shared with the school).
//!
//! Logs carry ids only: file names may name a child.

use cms_aws::{DynamoStore, S3FileStore};
use cms_domain::case::{Attached, Case, CaseChange};
use cms_domain::files::{
    can_download, request_upload, FileError, FileId, UploadRequest, DOWNLOAD_URL_TTL, MAX_FILE_BYTES, UPLOAD_FORM_TTL,
};
use cms_domain::ids::CaseId;
use cms_domain::ports::NoEvents;
use cms_domain::ports::{AuditLog, CaseStore, Clock, FileRecords, FileStore, ReadLog, SystemClock};
use cms_domain::referral::FieldError;
use cms_http::usecase::{change_case, visible, Basis, Change, Outcome};
use cms_http::Route;
use cms_http::{json, Problem};
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::json;

pub struct Deps<S, F, C> {
    pub store: S,
    pub files: F,
    pub clock: C,
}

pub type AwsDeps = Deps<DynamoStore, S3FileStore, SystemClock>;

pub fn aws_deps(sdk: &aws_config::SdkConfig, env: &cms_aws::Env) -> AwsDeps {
    Deps {
        store: DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), &env.table_name),
        files: S3FileStore::new(sdk, env.bucket_name.clone().unwrap_or_default()),
        clock: SystemClock,
    }
}

pub async fn handle<S: CaseStore + FileRecords + AuditLog + ReadLog, F: FileStore, C: Clock>(
    deps: &Deps<S, F, C>,
    req: Request,
) -> Response<Body> {
    cms_http::answer(&req, route(deps, &req)).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct UploadBody {
    #[serde(default)]
    file_name: Option<String>,
    #[serde(default)]
    content_type: Option<String>,
    #[serde(default)]
    size: Option<u64>,
    #[serde(default)]
    shared: Option<bool>,
}

async fn route<S: CaseStore + FileRecords + AuditLog + ReadLog, F: FileStore, C: Clock>(
    deps: &Deps<S, F, C>,
    req: &Request,
) -> Result<Response<Body>, Problem> {
    let actor = cms_http::actor(req)?;
    match Route::of(req) {
        Some(Route::RequestUpload) => {
            let id = cms_http::path_id(req, "id", CaseId::parse, "case")?;
            let body: UploadBody = cms_http::json_body(req)?;
            let mut missing = Vec::new();
            for (field, present, message) in [
                ("fileName", body.file_name.is_some(), "enter the file's name"),
                ("contentType", body.content_type.is_some(), "give the file's type, for example application/pdf"),
                ("size", body.size.is_some(), "give the file's size in bytes"),
            ] {
                if !present {
                    missing.push(FieldError { field: field.into(), message: message.into() });
                }
            }
            if !missing.is_empty() {
                return Err(Problem::invalid(missing));
            }
            let idem = cms_http::idempotency::from_request(req, &actor)?;
            if let Some(i) = &idem {
                if let Some(resp) = i.replay(&deps.store).await? {
                    return Ok(resp);
                }
            }
            let case = visible(&deps.store, &actor, &id, None).await?;
            let now = deps.clock.now();
            let upload = UploadRequest {
                file_name: body.file_name.unwrap_or_default(),
                content_type: body.content_type.unwrap_or_default(),
                size: body.size.unwrap_or_default(),
                shared: body.shared,
            };
            let record = request_upload(&case, &actor, &upload, now).map_err(file_problem)?;
            // the form first: if it cannot be made, nothing is recorded
            let form = deps.files.upload_form(&record.key, &record.content_type, MAX_FILE_BYTES, now, UPLOAD_FORM_TTL).await?;
            let fields: serde_json::Map<String, serde_json::Value> = form.fields.into_iter().map(|(k, v)| (k, v.into())).collect();
            let answer = json!({
                "fileId": record.file_id,
                "status": "pending",
                "sharedWithSchool": record.shared_with_school,
                "upload": { "url": form.url, "fields": fields, "expiresAt": form.expires_at },
            });
            // the pending record, with its audit entry, on the case as it is (its version unchanged:
            // nothing of the case changes until the file is confirmed); with an Idempotency-Key, the
            // same form again for the same request (until it expires)
            let change = Change {
                actor: &actor,
                case_id: &id,
                basis: Basis::Latest,
                action: "case.file.request",
                idempotency: idem.as_ref(),
                answer: &|_: &CaseChange| (201, answer.clone()),
                loaded: Some(case),
            };
            let decide = |c: &Case| {
                // the rules again on the case as it now is; the record (and its form) stay the first
                request_upload(c, &actor, &upload, now).map_err(file_problem)?;
                Ok(CaseChange::of(c, c.clone(), Vec::new(), Vec::new()).attach(Attached::NewFile(record.clone())))
            };
            if let Outcome::Replayed(resp) = change_case(&deps.store, &NoEvents, &deps.clock, req, change, decide).await? {
                return Ok(resp);
            }
            tracing::info!(case_id = %id, file_id = %record.file_id, role = %actor.role(), size = record.size, "upload form issued");
            Ok(json(201, &answer))
        }
        Some(Route::DownloadFile) => {
            let id = cms_http::path_id(req, "id", CaseId::parse, "case")?;
            let file_id = cms_http::path_id(req, "fileId", FileId::parse, "file")?;
            let case = deps.store.case(&id).await?;
            let record = match &case {
                Some(_) => deps.store.file(&id, &file_id).await?,
                None => None,
            };
            let (Some(case), Some(record)) = (case, record) else {
                return Err(Problem::not_found("file"));
            };
            if !can_download(&actor, &case, &record) {
                return Err(Problem::not_found("file"));
            }
            cms_http::audit_read(&deps.store, &actor, &id, "case.file.read", req, deps.clock.now()).await?;
            let url = deps.files.download_url(&record.key, &record.file_name, DOWNLOAD_URL_TTL).await?;
            tracing::info!(case_id = %id, file_id = %file_id, role = %actor.role(), "file download link issued");
            Ok(json(
                200,
                &json!({
                    "url": url,
                    "expiresInSeconds": DOWNLOAD_URL_TTL.as_secs(),
                    "fileName": record.file_name,
                    "contentType": record.content_type,
                }),
            ))
        }
        _ => Err(Problem::method_not_allowed()),
    }
}

fn file_problem(e: FileError) -> Problem {
    match e {
        FileError::NotVisible => Problem::not_found("case"),
        FileError::Closed(m) => Problem::conflict(m),
        FileError::Invalid(errors) => Problem::invalid(errors),
    }
}
