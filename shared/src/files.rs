//! Files attached to a case: what may be uploaded, where it is stored, when an upload is accepted,
//! and who may download it.
//!
//! An upload has two steps. The portal asks for an upload form: the request is checked (type,
//! size, name) and a *pending* [`FileRecord`] is written; the browser then posts the file straight
//! to S3 with a presigned POST whose policy S3 enforces (the key, the content type, the size
//! range, the expiry). When S3 reports the object created, [`confirm`] re-checks the stored
//! object against the record — the policy is S3's check, this is ours — and either confirms it
//! (a `File` timeline entry, `FileAdded`) or rejects it (the object is deleted, nothing shown).

use crate::access::can_view_case;
use crate::activity::shared_for;
use crate::actor::Actor;
use crate::case::{By, Case, CaseChange, CaseStatus, TimelineEntry, TimelineKind};
use crate::events::{DomainEvent, EventEnvelope};
use crate::ids::CaseId;
use crate::referral::FieldError;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// Largest file accepted: 20 MB.
pub const MAX_FILE_BYTES: u64 = 20 * 1024 * 1024;
/// How long an upload form stays valid.
pub const UPLOAD_FORM_TTL: std::time::Duration = std::time::Duration::from_secs(15 * 60);
/// How long a download link stays valid.
pub const DOWNLOAD_URL_TTL: std::time::Duration = std::time::Duration::from_secs(5 * 60);
/// Longest file name kept.
pub const MAX_FILE_NAME_CHARS: usize = 200;

/// The content types accepted (PDF, PNG, JPEG, Word .docx, plain text), and what to call them.
pub const ALLOWED_CONTENT_TYPES: [(&str, &str); 5] = [
    ("application/pdf", "PDF"),
    ("image/png", "PNG image"),
    ("image/jpeg", "JPEG image"),
    ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "Word document (.docx)"),
    ("text/plain", "plain text"),
];

/// The allowed content type equal to `s` (ignoring case and surrounding space), if any.
pub fn allowed_content_type(s: &str) -> Option<&'static str> {
    let s = s.trim();
    ALLOWED_CONTENT_TYPES.iter().map(|(t, _)| *t).find(|t| t.eq_ignore_ascii_case(s))
}

pub use crate::case::attached::{FileId, FileRecord, FileStatus};

/// The object key of a case's file: every file of a case lives under `cases/<caseId>/`.
pub fn object_key(case_id: &CaseId, file_id: &FileId) -> String {
    format!("{}{file_id}", case_prefix(case_id))
}

pub fn case_prefix(case_id: &CaseId) -> String {
    format!("cases/{case_id}/")
}

/// The case and file an object key names (`None` for any other key).
pub fn parse_object_key(key: &str) -> Option<(CaseId, FileId)> {
    let rest = key.strip_prefix("cases/")?;
    let (case, file) = rest.split_once('/')?;
    Some((CaseId::parse(case).ok()?, FileId::parse(file).ok()?))
}

/// What the portal asks to upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadRequest {
    pub file_name: String,
    pub content_type: String,
    pub size: u64,
    pub shared: Option<bool>,
}

/// A presigned POST: the form's action URL and the fields to send before the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UploadForm {
    pub url: String,
    /// In order; the `file` field goes last.
    pub fields: Vec<(String, String)>,
    pub expires_at: DateTime<Utc>,
}

/// What the object store says about a stored object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    pub size: u64,
    pub content_type: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    #[error("no such case")]
    NotVisible,
    #[error("{0}")]
    Closed(&'static str),
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
}

fn allowed_list() -> String {
    ALLOWED_CONTENT_TYPES.iter().map(|(t, n)| format!("{n} ({t})")).collect::<Vec<_>>().join(", ")
}

/// Check an upload request and make the pending record. Anyone who may see the case may attach a
/// file; a school user's file is always shared with the school.
pub fn request_upload(case: &Case, actor: &Actor, req: &UploadRequest, now: DateTime<Utc>) -> Result<FileRecord, FileError> {
    if !can_view_case(actor, case) {
        return Err(FileError::NotVisible);
    }
    if !crate::access::permits(actor, case, crate::access::CaseAction::AttachFile) {
        return Err(FileError::NotVisible);
    }
    if case.status == CaseStatus::Closed {
        return Err(FileError::Closed("This case is closed: it can be read, but nothing more can be added to it."));
    }
    let mut errors = Vec::new();
    // one Unicode form (NFC): the name a Mac sends decomposed is stored as Windows would send it
    let composed = crate::text::nfc(req.file_name.trim());
    let name = composed.as_str();
    if !crate::text::has_visible(name) {
        errors.push(FieldError { field: "fileName".into(), message: "enter the file's name".into() });
    } else if name.chars().count() > MAX_FILE_NAME_CHARS {
        errors.push(FieldError { field: "fileName".into(), message: format!("must be at most {MAX_FILE_NAME_CHARS} characters") });
    } else if name.chars().any(|c| c.is_control() || c == '/' || c == '\\') {
        errors.push(FieldError { field: "fileName".into(), message: "cannot contain / or \\ or control characters".into() });
    } else if name.chars().any(crate::text::is_bidi_control) {
        // `invoice\u{202E}fdp.exe` would show as `invoiceexe.pdf`
        errors.push(FieldError {
            field: "fileName".into(),
            message: "cannot contain characters that change the direction of the text (they can disguise a file's type)".into(),
        });
    }
    let content_type = allowed_content_type(&req.content_type);
    if content_type.is_none() {
        errors.push(FieldError { field: "contentType".into(), message: format!("must be one of: {}", allowed_list()) });
    }
    if req.size == 0 {
        errors.push(FieldError { field: "size".into(), message: "the file is empty".into() });
    } else if req.size > MAX_FILE_BYTES {
        errors.push(FieldError { field: "size".into(), message: "files can be at most 20 MB".into() });
    }
    if !errors.is_empty() {
        return Err(FileError::Invalid(errors));
    }
    let file_id = FileId::new_ulid();
    Ok(FileRecord {
        key: object_key(&case.id, &file_id),
        file_id,
        case_id: case.id.clone(),
        file_name: name.to_string(),
        content_type: content_type.unwrap_or_default().to_string(),
        size: req.size,
        shared_with_school: shared_for(actor, req.shared),
        author_side: actor.role().side(),
        uploaded_by: actor.user_id().clone(),
        uploader_role: actor.role(),
        status: FileStatus::Pending,
        created_at: now,
        settled_at: None,
        rejected_reason: None,
    })
}

/// What to do with an object S3 reports created.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Matches the record: write the change, which carries the confirmed record, in one transaction.
    Confirm { change: CaseChange, record: FileRecord },
    /// Breaks the rules: delete the object and store the rejected record.
    Reject { record: FileRecord, reason: &'static str },
    /// Already confirmed or rejected (a redelivered event): nothing to do.
    AlreadySettled,
}

/// Decide on a stored object (`object`: `None` when it is already gone).
pub fn confirm(case: &Case, record: &FileRecord, object: Option<&ObjectInfo>, now: DateTime<Utc>) -> Verdict {
    if record.status != FileStatus::Pending {
        return Verdict::AlreadySettled;
    }
    let reject = |reason: &'static str| {
        let mut r = record.clone();
        r.status = FileStatus::Rejected;
        r.settled_at = Some(now);
        r.rejected_reason = Some(reason.to_string());
        Verdict::Reject { record: r, reason }
    };
    let Some(obj) = object else {
        return reject("missing");
    };
    if obj.size == 0 || obj.size > MAX_FILE_BYTES {
        return reject("size_out_of_range");
    }
    if obj.size != record.size {
        return reject("size_mismatch");
    }
    let stored_type = obj.content_type.as_deref().and_then(allowed_content_type);
    if stored_type != Some(record.content_type.as_str()) {
        return reject("content_type_mismatch");
    }
    if case.status == CaseStatus::Closed {
        return reject("case_closed");
    }
    let mut confirmed = record.clone();
    confirmed.status = FileStatus::Confirmed;
    confirmed.settled_at = Some(now);
    let next = case.bumped(now);
    let by = By::User { user_id: record.uploaded_by.clone(), role: record.uploader_role };
    let entry = TimelineEntry::new(
        &case.id,
        now,
        by,
        record.shared_with_school,
        TimelineKind::File {
            file_id: record.file_id.to_string(),
            file_name: record.file_name.clone(),
            content_type: record.content_type.clone(),
            size: obj.size,
            author_side: record.author_side,
        },
    );
    let event = EventEnvelope::new(
        now,
        DomainEvent::FileAdded {
            case_id: case.id.clone(),
            case_type: case.case_type,
            school_id: case.school_id.clone(),
            provider_id: case.provider_id.clone(),
            file_id: record.file_id.to_string(),
            author_side: record.author_side,
            shared: record.shared_with_school,
        },
    );
    let change = CaseChange::of(case, next, vec![entry], vec![event]).attach(crate::case::Attached::File(confirmed.clone()));
    Verdict::Confirm { change, record: confirmed }
}

/// May this caller download this file? Only confirmed files of a case they may see; school users
/// only files shared with the school.
pub fn can_download(actor: &Actor, case: &Case, record: &FileRecord) -> bool {
    crate::access::can_see_entry(actor, case, record.shared_with_school, record.created_at)
        && record.case_id == case.id
        && record.status == FileStatus::Confirmed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activity::tests::{actor, case};
    use crate::actor::{Role, Side};
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 10, 1, 0, 0).unwrap()
    }

    fn req(ct: &str, size: u64) -> UploadRequest {
        UploadRequest { file_name: "plan.pdf".into(), content_type: ct.into(), size, shared: Some(false) }
    }

    #[test]
    fn upload_requests_are_checked() {
        let c = case();
        let lead = actor(Role::AttendanceLead, "1001", "lead");
        let ok = request_upload(&c, &lead, &req("Application/PDF", 1000), now()).unwrap();
        assert_eq!(ok.content_type, "application/pdf");
        assert!(ok.shared_with_school, "a school user's file is always shared");
        assert_eq!(ok.status, FileStatus::Pending);
        assert_eq!(ok.key, format!("cases/C1/{}", ok.file_id));
        assert_eq!(parse_object_key(&ok.key), Some((c.id.clone(), ok.file_id.clone())));
        let cm = actor(Role::CaseManager, "P01", "cm");
        assert!(!request_upload(&c, &cm, &req("text/plain", 1), now()).unwrap().shared_with_school);
        let fields = |r: Result<FileRecord, FileError>| match r {
            Err(FileError::Invalid(e)) => e.into_iter().map(|e| e.field).collect::<Vec<_>>(),
            other => panic!("{other:?}"),
        };
        assert_eq!(fields(request_upload(&c, &lead, &req("application/zip", 10), now())), vec!["contentType"]);
        assert_eq!(fields(request_upload(&c, &lead, &req("image/png", MAX_FILE_BYTES + 1), now())), vec!["size"]);
        assert_eq!(fields(request_upload(&c, &lead, &req("image/png", 0), now())), vec!["size"]);
        assert!(request_upload(&c, &lead, &req("image/png", MAX_FILE_BYTES), now()).is_ok());
        let mut bad = req("image/png", 5);
        bad.file_name = "../etc/passwd".into();
        assert_eq!(fields(request_upload(&c, &lead, &bad, now())), vec!["fileName"]);
        let other = actor(Role::AttendanceLead, "1085", "x");
        assert_eq!(request_upload(&c, &other, &req("image/png", 5), now()), Err(FileError::NotVisible));
    }

    #[test]
    fn file_names_are_composed_and_cannot_disguise_themselves() {
        let c = case();
        let lead = actor(Role::AttendanceLead, "1001", "lead");
        let named = |n: &str| UploadRequest { file_name: n.into(), ..req("application/pdf", 10) };
        let fields = |r: Result<FileRecord, FileError>| match r {
            Err(FileError::Invalid(e)) => e.into_iter().map(|e| (e.field, e.message)).collect::<Vec<_>>(),
            other => panic!("{other:?}"),
        };
        for bad in ["invoice\u{202E}fdp.exe", "plan\u{2067}.pdf", "a\u{200F}b.pdf", "\u{200B}\u{FEFF}", "\u{0007}plan.pdf"] {
            let e = fields(request_upload(&c, &lead, &named(bad), now()));
            assert_eq!(e.len(), 1, "{bad:?}: {e:?}");
            assert_eq!(e[0].0, "fileName", "{bad:?}");
        }
        assert!(fields(request_upload(&c, &lead, &named("invoice\u{202E}fdp.exe"), now()))[0].1.contains("direction"));
        let decomposed = request_upload(&c, &lead, &named("Hui a\u{0304}-wha\u{0304}nau plan.pdf"), now()).unwrap();
        assert_eq!(decomposed.file_name, "Hui ā-whānau plan.pdf", "stored in NFC");
    }

    #[test]
    fn confirm_checks_the_stored_object_against_the_record() {
        let c = case();
        let cm = actor(Role::CaseManager, "P01", "cm");
        let rec = request_upload(&c, &cm, &req("application/pdf", 1234), now()).unwrap();
        let info = |size, ct: &str| ObjectInfo { size, content_type: Some(ct.into()) };
        match confirm(&c, &rec, Some(&info(1234, "application/pdf")), now()) {
            Verdict::Confirm { change, record } => {
                assert_eq!(record.status, FileStatus::Confirmed);
                assert_eq!(change.case.version, c.version + 1);
                assert!(!change.timeline[0].shared_with_school);
                assert!(matches!(change.events[0].event, DomainEvent::FileAdded { shared: false, author_side: Side::Provider, .. }));
                // ids only in the event
                assert!(!change.events[0].detail_json().to_string().contains("plan.pdf"));
            }
            other => panic!("{other:?}"),
        }
        for (obj, why) in [
            (None, "missing"),
            (Some(info(1234, "application/zip")), "content_type_mismatch"),
            (Some(info(1234, "image/png")), "content_type_mismatch"),
            (Some(info(99, "application/pdf")), "size_mismatch"),
            (Some(info(MAX_FILE_BYTES + 1, "application/pdf")), "size_out_of_range"),
        ] {
            match confirm(&c, &rec, obj.as_ref(), now()) {
                Verdict::Reject { record, reason } => {
                    assert_eq!(reason, why);
                    assert_eq!(record.status, FileStatus::Rejected);
                }
                other => panic!("{other:?}"),
            }
        }
        let mut done = rec.clone();
        done.status = FileStatus::Confirmed;
        assert_eq!(confirm(&c, &done, Some(&info(1234, "application/pdf")), now()), Verdict::AlreadySettled);
        done.status = FileStatus::Rejected;
        assert_eq!(confirm(&c, &done, Some(&info(1234, "application/pdf")), now()), Verdict::AlreadySettled);
    }

    #[test]
    fn downloads_follow_the_case_and_the_shared_flag() {
        let c = case();
        let cm = actor(Role::CaseManager, "P01", "cm");
        let mut rec = request_upload(&c, &cm, &req("application/pdf", 10), now()).unwrap();
        let lead = actor(Role::AttendanceLead, "1001", "lead");
        assert!(!can_download(&cm, &c, &rec), "pending files are not downloadable");
        rec.status = FileStatus::Confirmed;
        assert!(can_download(&cm, &c, &rec));
        assert!(!can_download(&lead, &c, &rec), "unshared: not for the school");
        rec.shared_with_school = true;
        assert!(can_download(&lead, &c, &rec));
        assert!(!can_download(&actor(Role::AttendanceLead, "1085", "x"), &c, &rec), "another school");
        assert!(!can_download(&actor(Role::CaseManager, "P08", "y"), &c, &rec), "another provider");
        assert!(can_download(&actor(Role::National, "ministry", "n"), &c, &rec));
    }

    proptest! {
        #[test]
        fn object_keys_round_trip_and_stay_under_the_case(f in "[A-Za-z0-9_-]{1,64}") {
            let case_id = CaseId::parse("01JCASE").unwrap();
            let file = FileId::parse(f).unwrap();
            let key = object_key(&case_id, &file);
            prop_assert!(key.starts_with(&case_prefix(&case_id)));
            prop_assert_eq!(parse_object_key(&key), Some((case_id, file)));
        }

        #[test]
        fn only_listed_content_types_are_allowed(s in "[a-z/.+-]{1,40}") {
            let listed = ALLOWED_CONTENT_TYPES.iter().any(|(t, _)| *t == s);
            prop_assert_eq!(allowed_content_type(&s).is_some(), listed);
        }
    }
}
