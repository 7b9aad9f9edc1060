//! One module per input format. Every JSON format exposes
//! `parse_document(doc: &Value, line: Option<u64>, out: &mut Output)`: `doc` is a whole
//! file's JSON or one line of a JSON-lines file (then `line` is its 1-based number).
//! A parser never fails as a whole: each record found ends in `out.records` or
//! `out.rejected`, with a position (`line` and/or a JSON pointer such as `/data/3`).

pub mod bluesky;
pub mod json;
pub mod mastodon;
pub mod reddit;
pub mod x;
