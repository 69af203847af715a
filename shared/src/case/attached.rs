//! What a change to a case carries besides the case: a file's record and a safety or health
//! note, each kept apart from the case item and written in the case's transaction
//! ([`super::Attached`]). Their rules are in [`crate::files`] and [`crate::sensitive`].

use super::By;
use crate::actor::{Role, Side};
use crate::ids::{CaseId, EntryId, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A file's id (a ULID).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FileId(String);

impl FileId {
    pub fn new_ulid() -> FileId {
        FileId(ulid::Ulid::new().to_string())
    }
    /// Letters, digits, '-' and '_' only (so it is safe in a key and an object path).
    pub fn parse(s: impl Into<String>) -> Result<FileId, crate::ids::InvalidId> {
        let s = s.into();
        crate::ids::EntryId::parse(s.clone())?;
        Ok(FileId(s))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl TryFrom<String> for FileId {
    type Error = crate::ids::InvalidId;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        FileId::parse(s)
    }
}
impl From<FileId> for String {
    fn from(f: FileId) -> String {
        f.0
    }
}
impl fmt::Display for FileId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileStatus {
    /// Upload form issued; the object has not been confirmed yet. Never shown.
    Pending,
    /// The stored object matched the record: on the timeline, downloadable.
    Confirmed,
    /// The stored object broke the rules: deleted, never shown.
    Rejected,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileRecord {
    pub file_id: FileId,
    pub case_id: CaseId,
    pub key: String,
    pub file_name: String,
    pub content_type: String,
    /// The size the uploader declared.
    pub size: u64,
    pub shared_with_school: bool,
    pub author_side: Side,
    pub uploaded_by: UserId,
    pub uploader_role: Role,
    pub status: FileStatus,
    pub created_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settled_at: Option<DateTime<Utc>>,
    /// Why a file was rejected (a code, never file content).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejected_reason: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SensitiveKind {
    SafetyNote,
    Health,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SensitiveNote {
    pub id: EntryId,
    pub kind: SensitiveKind,
    pub text: String,
    pub at: DateTime<Utc>,
    pub by: By,
}
