//! The application layer's typed errors. Each kind has a stable code; the HTTP server maps
//! a kind to its status and the CLI prints the message.

/// What went wrong, by kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// A malformed request (a parameter, a date, a body).
    BadRequest,
    /// A query names an unknown metric, dimension or filter.
    InvalidQuery,
    /// No identity where one is needed.
    Unauthorized,
    /// The identity's role does not allow it.
    Forbidden,
    /// No such baseline, milestone, case, alert or topic.
    NotFound,
    /// The name is taken, or the thing is already in that state.
    Conflict,
    /// Over a size limit.
    TooLarge,
    /// Read, but nothing in it could be used.
    Unprocessable,
    /// Another process holds the workspace's write lock.
    Busy,
    /// Anything else (the message has the cause).
    Internal,
}

impl ErrorKind {
    /// The stable code (documented in the OpenAPI document).
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::BadRequest => "bad_request",
            ErrorKind::InvalidQuery => "invalid_query",
            ErrorKind::Unauthorized => "unauthorized",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::NotFound => "not_found",
            ErrorKind::Conflict => "conflict",
            ErrorKind::TooLarge => "payload_too_large",
            ErrorKind::Unprocessable => "unprocessable",
            ErrorKind::Busy => "busy",
            ErrorKind::Internal => "internal",
        }
    }

    /// The kind of a code; unknown codes are internal.
    pub fn of_code(code: &str) -> ErrorKind {
        match code {
            "bad_request" => ErrorKind::BadRequest,
            "invalid_query" => ErrorKind::InvalidQuery,
            "unauthorized" => ErrorKind::Unauthorized,
            "forbidden" => ErrorKind::Forbidden,
            "not_found" => ErrorKind::NotFound,
            "conflict" => ErrorKind::Conflict,
            "payload_too_large" => ErrorKind::TooLarge,
            "unprocessable" => ErrorKind::Unprocessable,
            "busy" => ErrorKind::Busy,
            _ => ErrorKind::Internal,
        }
    }
}

/// A use case's error: its kind and a message for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", kind.code())]
pub struct AppError {
    /// The kind.
    pub kind: ErrorKind,
    /// For people.
    pub message: String,
}

/// A use case's result.
pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    /// An error of a code (see [`ErrorKind::code`]).
    pub fn new(code: &str, message: impl Into<String>) -> AppError {
        AppError { kind: ErrorKind::of_code(code), message: message.into() }
    }

    /// An error of a kind.
    pub fn of(kind: ErrorKind, message: impl Into<String>) -> AppError {
        AppError { kind, message: message.into() }
    }

    /// `bad_request`.
    pub fn bad_request(message: impl Into<String>) -> AppError {
        AppError::of(ErrorKind::BadRequest, message)
    }

    /// `not_found`.
    pub fn not_found(message: impl Into<String>) -> AppError {
        AppError::of(ErrorKind::NotFound, message)
    }

    /// `internal`, logging the cause.
    pub fn internal(error: impl std::fmt::Display) -> AppError {
        tracing::error!("internal error: {error:#}");
        AppError::of(ErrorKind::Internal, format!("{error:#}"))
    }

    /// The stable code.
    pub fn code(&self) -> &'static str {
        self.kind.code()
    }
}

impl From<waterline_analytics::query::QueryError> for AppError {
    fn from(error: waterline_analytics::query::QueryError) -> AppError {
        AppError::of(ErrorKind::InvalidQuery, error.to_string())
    }
}

impl From<waterline_store::StoreError> for AppError {
    fn from(error: waterline_store::StoreError) -> AppError {
        AppError::internal(error)
    }
}

impl From<waterline_analytics::AnalyticsError> for AppError {
    fn from(error: waterline_analytics::AnalyticsError) -> AppError {
        AppError::internal(error)
    }
}

impl From<anyhow::Error> for AppError {
    fn from(error: anyhow::Error) -> AppError {
        AppError::internal(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for kind in [
            ErrorKind::BadRequest,
            ErrorKind::InvalidQuery,
            ErrorKind::Unauthorized,
            ErrorKind::Forbidden,
            ErrorKind::NotFound,
            ErrorKind::Conflict,
            ErrorKind::TooLarge,
            ErrorKind::Unprocessable,
            ErrorKind::Busy,
            ErrorKind::Internal,
        ] {
            assert_eq!(ErrorKind::of_code(kind.code()), kind);
        }
        assert_eq!(AppError::new("nonsense", "x").kind, ErrorKind::Internal);
    }
}
