use cms_domain::referral::FieldError;
use lambda_http::{Body, Response};
use serde::Serialize;

/// An RFC 7807 problem: every error the API returns is one of these, in words a school
/// administrator can act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current: Option<serde_json::Value>,
    /// API Gateway's id of the request, for the service desk: the same id is in the log line
    /// about it. Set by [`crate::respond`].
    #[serde(rename = "requestId", skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl Problem {
    pub fn new(status: u16, title: &str, detail: &str) -> Problem {
        let slug: String = title.to_lowercase().chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
        Problem {
            kind: format!("https://attendance.education.govt.nz/problems/{}", slug.trim_matches('-')),
            title: title.into(),
            status,
            detail: detail.into(),
            errors: Vec::new(),
            current: None,
            request_id: None,
        }
    }
    pub fn bad_request(detail: &str) -> Problem {
        Problem::new(400, "Invalid request", detail)
    }
    pub fn invalid(errors: Vec<FieldError>) -> Problem {
        let n = errors.len();
        let mut p = Problem::new(
            400,
            "Invalid request",
            &format!(
                "{n} field{} need{} attention before this can be saved.",
                if n == 1 { "" } else { "s" },
                if n == 1 { "s" } else { "" }
            ),
        );
        p.errors = errors;
        p
    }
    pub fn invalid_field(field: &str, message: &str) -> Problem {
        Problem::invalid(vec![FieldError { field: field.into(), message: message.into() }])
    }
    pub fn unauthenticated() -> Problem {
        Problem::new(401, "Sign in required", "Sign in with your Education Sector Logon to use the Attendance Service Portal.")
    }
    pub fn forbidden(detail: &str) -> Problem {
        Problem::new(403, "Not permitted", detail)
    }
    pub fn not_found(what: &str) -> Problem {
        Problem::new(404, "Not found", &format!("No {what} with that id exists, or you do not have access to it."))
    }
    pub fn conflict(detail: &str) -> Problem {
        Problem::new(409, "Conflict", detail)
    }
    pub fn with_current(mut self, current: serde_json::Value) -> Problem {
        self.current = Some(current);
        self
    }
    pub fn not_appropriate(detail: &str) -> Problem {
        Problem::new(422, "Request not appropriate", detail)
    }
    pub fn method_not_allowed() -> Problem {
        Problem::new(405, "Not supported", "This operation is not supported on this address.")
    }
    /// The store or bus failed: nothing the caller did; they can try again.
    pub fn unavailable() -> Problem {
        Problem::new(
            503,
            "Temporarily unavailable",
            "The service could not complete this just now. Nothing was saved; please try again in a minute.",
        )
    }
    /// The problem about request `id` (nothing when the id is unknown).
    pub fn for_request(mut self, id: &str) -> Problem {
        if !id.is_empty() {
            self.request_id = Some(id.to_string());
        }
        self
    }
    pub fn into_response(self) -> Response<Body> {
        let body = serde_json::to_string(&self).unwrap_or_default();
        Response::builder()
            .status(self.status)
            .header("content-type", "application/problem+json")
            .header("cache-control", "no-store")
            .body(Body::Text(body))
            .unwrap_or_else(|_| Response::new(Body::Empty))
    }
}

/// What a caller is told when their change met someone else's (the store's `Conflict`).
pub const CHANGED: &str = "This was changed by someone else after you opened it. Reload it and try again.";

/// The one mapping of a store failure to what the caller sees: a concurrent change (409), a
/// cursor this service did not issue (400, on `cursor`), or the store down (503, logged with
/// the error only: no names or details reach a store error).
impl From<cms_domain::ports::StoreError> for Problem {
    fn from(e: cms_domain::ports::StoreError) -> Problem {
        use cms_domain::ports::StoreError;
        match e {
            StoreError::Conflict => Problem::conflict(CHANGED),
            StoreError::InvalidCursor => Problem::invalid_field("cursor", "is not a cursor this service issued; start from the first page"),
            other => {
                tracing::error!(error = %other, "store failure");
                Problem::unavailable()
            }
        }
    }
}
