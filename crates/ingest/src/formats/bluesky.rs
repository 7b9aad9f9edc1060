//! Parser for the bluesky format (placeholder until the conformance work lands).

use serde_json::Value;

use crate::output::Output;

/// Parses one document (a whole file or one JSON line).
pub fn parse_document(_doc: &Value, _line: Option<u64>, _out: &mut Output) {}
