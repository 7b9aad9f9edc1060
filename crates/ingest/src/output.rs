//! What a parser produces: located records and rejections, before file names are attached.

use waterline_model::{Located, Position, Record};

/// Why one record was rejected: the field at fault and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field at fault, as a dotted path (`public_metrics.like_count`), or `$` for the whole record.
    pub field: String,
    /// What was wrong, lowercase, no trailing period (`expected a string, found a number`).
    pub reason: String,
}

impl FieldError {
    /// A new field error.
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> FieldError {
        FieldError { field: field.into(), reason: reason.into() }
    }
}

/// A rejection before the file name is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// Where the record was.
    pub position: Position,
    /// What was wrong.
    pub error: FieldError,
    /// The start of the raw record (at most 200 characters).
    pub excerpt: String,
}

/// Records and rejections in input order. Every record the parser found is in exactly one
/// of the two lists, so `records.len() + rejected.len()` is the number of records read.
#[derive(Debug, Default)]
pub struct Output {
    /// Valid records.
    pub records: Vec<Located>,
    /// Rejected records.
    pub rejected: Vec<Rejection>,
}

impl Output {
    /// Adds a valid record.
    pub fn push(&mut self, position: Position, record: Record) {
        self.records.push(Located { position, record });
    }

    /// Adds a rejected record.
    pub fn reject(&mut self, position: Position, error: FieldError, raw: &str) {
        self.rejected.push(Rejection { position, error, excerpt: excerpt(raw) });
    }

    /// Number of records read (valid and rejected).
    pub fn read(&self) -> u64 {
        (self.records.len() + self.rejected.len()) as u64
    }
}

/// The first 200 characters of a raw record.
pub fn excerpt(raw: &str) -> String {
    raw.chars().take(200).collect()
}
