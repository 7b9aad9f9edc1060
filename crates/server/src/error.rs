//! Errors as JSON: `{"error": {"code", "status", "message"}}` with a stable code.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// The stable error codes (documented in the OpenAPI document).
pub const CODES: &[(&str, u16, &str)] = &[
    ("bad_request", 400, "The request is malformed (a parameter, a date, a JSON body)."),
    ("invalid_query", 400, "The query names an unknown metric, dimension or filter."),
    ("unauthorized", 401, "No valid token: send `Authorization: Bearer TOKEN` or log in."),
    ("forbidden", 403, "The token's role does not allow this."),
    ("not_found", 404, "No such page, endpoint, baseline or milestone."),
    ("method_not_allowed", 405, "The endpoint exists but not with this method."),
    (
        "conflict",
        409,
        "The name is taken (baselines never change; use another name), or the alert is already in that state.",
    ),
    (
        "payload_too_large",
        413,
        "The body is over the limit (the ingest limit, or 1 MiB elsewhere).",
    ),
    ("unprocessable", 422, "The body was read but nothing in it could be used."),
    (
        "host_not_allowed",
        403,
        "The Host or Origin is not one of the server's names (`waterline serve --allowed-host`).",
    ),
    (
        "busy",
        503,
        "Over capacity, or another process is writing to the workspace: retry after `Retry-After` seconds.",
    ),
    ("internal", 500, "An unexpected error; the server log has the details."),
];

/// An API error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    /// One of [`CODES`].
    pub code: &'static str,
    /// The HTTP status.
    pub status: u16,
    /// For people.
    pub message: String,
}

impl ApiError {
    /// An error with a code of [`CODES`].
    pub fn new(code: &'static str, message: impl Into<String>) -> ApiError {
        let status = CODES.iter().find(|(c, _, _)| *c == code).map_or(500, |(_, s, _)| *s);
        ApiError { code, status, message: message.into() }
    }

    /// `bad_request`.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new("bad_request", message)
    }

    /// `not_found`.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new("not_found", message)
    }

    /// `internal`: the cause goes to the server log under a reference; the answer carries
    /// the reference only (no paths, no internals).
    pub fn internal(error: impl std::fmt::Display) -> ApiError {
        let reference = hex::encode(rand::random::<[u8; 4]>());
        tracing::error!(reference, "internal error: {error:#}");
        ApiError::new(
            "internal",
            format!("an unexpected error (reference {reference}); the server log has the details"),
        )
    }

    /// The JSON body.
    pub fn body(&self) -> serde_json::Value {
        serde_json::json!({"error": {"code": self.code, "status": self.status, "message": self.message}})
    }
}

impl From<waterline_analytics::query::QueryError> for ApiError {
    fn from(error: waterline_analytics::query::QueryError) -> ApiError {
        ApiError::new("invalid_query", error.to_string())
    }
}

impl From<waterline_app::AppError> for ApiError {
    fn from(error: waterline_app::AppError) -> ApiError {
        if error.kind == waterline_app::ErrorKind::Internal {
            return ApiError::internal(error.message);
        }
        ApiError::new(error.code(), error.message)
    }
}

impl From<waterline_store::StoreError> for ApiError {
    fn from(error: waterline_store::StoreError) -> ApiError {
        ApiError::internal(error)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, Json(self.body())).into_response();
        if matches!(self.status, 429 | 503) {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from_static("1"));
        }
        response
    }
}
