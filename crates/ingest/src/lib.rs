//! Importers: format detection and parsers that turn files and streams into records.
//!
//! `open` reads the start of an input (a file, a `.gz` file or standard input), decides its
//! format from the content, and returns an [`Input`] that yields records in chunks, so
//! memory is bounded by the chunk size for line-oriented inputs (JSON lines, CSV).
//! Whole-document formats (an API response, an X archive) are read at once.

pub mod detect;
pub mod formats;
pub mod live;
pub mod mapping;
pub mod output;
mod reader;
pub mod waterline;

pub use detect::Format;
pub use mapping::{Mapping, MappingError, RecordKind};
pub use output::{FieldError, Output, Rejection};
pub use reader::{Input, open};

/// Errors that stop an input (as opposed to rejected records, which never do).
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The input could not be opened or read.
    #[error("cannot read `{path}`: {source}")]
    Io {
        /// The input's path.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The format could not be recognised.
    #[error("unknown format for `{path}`: {hint}")]
    UnknownFormat {
        /// The input's path.
        path: String,
        /// What was seen and what to do.
        hint: String,
    },
    /// A CSV header lacks a column the mapping names.
    #[error(
        "`{path}` has no column `{column}` (the mapping needs it); its columns are: {available}"
    )]
    MissingColumn {
        /// The input's path.
        path: String,
        /// The missing column.
        column: String,
        /// The header's columns.
        available: String,
    },
}
