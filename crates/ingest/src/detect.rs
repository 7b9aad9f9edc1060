//! Format detection from the content, not the file name.

use serde_json::Value;

/// The input formats Waterline reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Waterline's own JSON lines (one post a line, the fields of the data model).
    Waterline,
    /// X API v2 responses or X v1.1 tweets (objects, arrays or JSON lines).
    X,
    /// The X archive (`tweets.js` / `tweet.js`).
    XArchive,
    /// Mastodon API entities (a status, an array of statuses, JSON lines).
    Mastodon,
    /// Bluesky Jetstream events (JSON lines).
    Bluesky,
    /// Reddit listings and threads.
    Reddit,
    /// CSV with a column mapping.
    Csv,
    /// Generic JSON lines with a column mapping.
    MappedJson,
}

impl Format {
    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Format::Waterline => "waterline",
            Format::X => "x",
            Format::XArchive => "x-archive",
            Format::Mastodon => "mastodon",
            Format::Bluesky => "bluesky",
            Format::Reddit => "reddit",
            Format::Csv => "csv",
            Format::MappedJson => "jsonl",
        }
    }

    /// Parses a name given with `--format`.
    pub fn parse(name: &str) -> Option<Format> {
        [
            Format::Waterline,
            Format::X,
            Format::XArchive,
            Format::Mastodon,
            Format::Bluesky,
            Format::Reddit,
            Format::Csv,
            Format::MappedJson,
        ]
        .into_iter()
        .find(|format| format.name() == name)
    }
}

fn has(object: &serde_json::Map<String, Value>, keys: &[&str]) -> bool {
    keys.iter().all(|key| object.contains_key(*key))
}

/// Recognises a JSON value (a whole document or the first line of JSON lines).
pub fn sniff_value(value: &Value) -> Option<Format> {
    match value {
        Value::Array(items) => match items.first() {
            None => Some(Format::Mastodon),
            Some(Value::Object(object)) if object.contains_key("tweet") => Some(Format::XArchive),
            Some(first) => sniff_value(first),
        },
        Value::Object(object) => {
            if has(object, &["did", "time_us", "kind"]) {
                return Some(Format::Bluesky);
            }
            if has(object, &["platform", "id", "created_at"]) {
                return Some(Format::Waterline);
            }
            if let Some(Value::String(kind)) = object.get("kind")
                && (kind == "Listing"
                    || kind == "more"
                    || (kind.len() == 2 && kind.starts_with('t')))
            {
                return Some(Format::Reddit);
            }
            if let Some(Value::Object(inner)) = object.get("json")
                && let Some(Value::Object(data)) = inner.get("data")
                && data.contains_key("things")
            {
                return Some(Format::Reddit);
            }
            if object.contains_key("tweet") {
                return Some(Format::XArchive);
            }
            // X API v2 responses, including error-only and problem documents.
            if object.contains_key("data")
                || object.contains_key("includes")
                || object.contains_key("errors")
                || object.contains_key("meta")
                || has(object, &["title", "detail", "type"])
                || (object.len() == 2 && has(object, &["code", "message"]))
            {
                return Some(Format::X);
            }
            if object.contains_key("id_str")
                || has(object, &["created_at", "user"])
                || object.contains_key("full_text")
            {
                return Some(Format::X);
            }
            if has(object, &["account", "content"])
                || has(object, &["acct", "avatar"])
                || has(object, &["acct", "username"])
            {
                return Some(Format::Mastodon);
            }
            if object.contains_key("id")
                && ["preview_url", "options", "provider_name", "history", "content"]
                    .iter()
                    .any(|key| object.contains_key(*key))
            {
                return Some(Format::Mastodon);
            }
            if has(object, &["url", "history", "name"]) || has(object, &["url", "title", "type"]) {
                return Some(Format::Mastodon);
            }
            None
        }
        _ => None,
    }
}

/// Where the text starts with the X archive's JavaScript prefix.
pub fn is_x_archive(head: &[u8]) -> bool {
    let trimmed = trim_start(head);
    trimmed.starts_with(b"window.YTD.")
}

/// Skips a UTF-8 byte-order mark and leading white space.
pub fn trim_start(bytes: &[u8]) -> &[u8] {
    let bytes = bytes.strip_prefix(&[0xef, 0xbb, 0xbf]).unwrap_or(bytes);
    let start = bytes.iter().position(|byte| !byte.is_ascii_whitespace()).unwrap_or(bytes.len());
    &bytes[start..]
}

/// True when the bytes look like text rather than a binary file.
pub fn looks_like_text(head: &[u8]) -> bool {
    let sample = &head[..head.len().min(8192)];
    if sample.contains(&0) {
        return false;
    }
    let controls = sample
        .iter()
        .filter(|byte| **byte < 0x20 && !matches!(**byte, b'\n' | b'\r' | b'\t' | 0x0c))
        .count();
    controls * 100 <= sample.len().max(1)
}

/// Picks the CSV delimiter from a header line: the most frequent of `,`, `;`, tab and `|`.
pub fn csv_delimiter(header: &[u8]) -> u8 {
    [b',', b';', b'\t', b'|']
        .into_iter()
        .max_by_key(|delimiter| header.iter().filter(|byte| *byte == delimiter).count())
        .unwrap_or(b',')
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_by_content() {
        let cases = [
            (r#"{"did":"d","time_us":1,"kind":"commit"}"#, Some(Format::Bluesky)),
            (
                r#"{"platform":"x","id":"1","created_at":"2020-01-01T00:00:00Z"}"#,
                Some(Format::Waterline),
            ),
            (r#"{"kind":"Listing","data":{}}"#, Some(Format::Reddit)),
            (r#"{"data":[{"id":"1","text":"a"}]}"#, Some(Format::X)),
            (r#"{"id_str":"1","created_at":"x"}"#, Some(Format::X)),
            (r#"{"id":"1","account":{},"content":"<p>a</p>"}"#, Some(Format::Mastodon)),
            (r#"[{"tweet":{}}]"#, Some(Format::XArchive)),
            (r#"{"colour":"red"}"#, None),
        ];
        for (text, expected) in cases {
            let value: Value = serde_json::from_str(text).unwrap();
            assert_eq!(sniff_value(&value), expected, "{text}");
        }
    }

    #[test]
    fn binary_is_not_text_and_delimiters_are_found() {
        assert!(!looks_like_text(&[0, 1, 2, 3]));
        assert!(looks_like_text(b"a,b\n1,2\n"));
        assert_eq!(csv_delimiter(b"pseudo;id;description;nb_followers"), b';');
        assert_eq!(csv_delimiter(b"a,b,c"), b',');
    }
}
