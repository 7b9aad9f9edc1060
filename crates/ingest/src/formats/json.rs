//! Small helpers to read fields of untyped JSON with precise errors.
//!
//! Every format parser reads its payloads through [`Obj`], which remembers the dotted path
//! of the object it wraps, so that a wrong type deep inside a record is reported with its
//! full field path (`public_metrics.like_count`) and a lowercase reason
//! (`expected a number, found a string`).

use std::fmt::Display;
use std::io;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::{Map, Value};
use waterline_model::{Position, Record};

use crate::output::{FieldError, Output};

/// A result whose error names the field at fault.
pub type FieldResult<T> = Result<T, FieldError>;

/// How a timestamp is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeFormat {
    /// RFC 3339 / ISO 8601 (`2020-06-24T16:28:14.000Z`); a value without an offset is read as UTC.
    Rfc3339,
    /// X v1.1 and archive (`Sun Oct 07 07:39:51 +0000 2012`); RFC 3339 is also accepted.
    Twitter,
    /// Seconds since the Unix epoch, integer or fractional, as a number or a numeric string.
    EpochSeconds,
}

/// Describes the JSON type of a value for error messages (`a string`, `null`, ...).
pub fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The error for a value of the wrong type: `expected {what}, found {kind}`.
pub fn expected(field: &str, what: &str, found: &Value) -> FieldError {
    FieldError::new(field, format!("expected {what}, found {}", kind_of(found)))
}

/// The error for a required field that is absent or null.
pub fn missing(field: &str) -> FieldError {
    FieldError::new(field, "missing")
}

/// Joins a dotted field path and a key (`public_metrics` + `like_count`).
pub fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() { key.to_owned() } else { format!("{prefix}.{key}") }
}

/// Extends a JSON pointer with one key or index, escaping `~` and `/` as RFC 6901 says.
pub fn child(pointer: &str, key: impl Display) -> String {
    let key = key.to_string();
    if key.contains(['~', '/']) {
        format!("{pointer}/{}", key.replace('~', "~0").replace('/', "~1"))
    } else {
        format!("{pointer}/{key}")
    }
}

/// The position of a record: its line (when the input is line-oriented) and its JSON
/// pointer inside the document (omitted when the record is the whole document).
pub fn position(line: Option<u64>, pointer: &str) -> Position {
    Position {
        line,
        byte_offset: None,
        pointer: if pointer.is_empty() { None } else { Some(pointer.to_owned()) },
    }
}

/// The start of a value's JSON text, for a rejection's excerpt. Serialisation stops after
/// about a kilobyte, so rejecting a huge subtree stays cheap.
pub fn raw(value: &Value) -> String {
    struct Limited(Vec<u8>);
    impl io::Write for Limited {
        fn write(&mut self, data: &[u8]) -> io::Result<usize> {
            const LIMIT: usize = 1024;
            if self.0.len() >= LIMIT {
                return Err(io::Error::other("excerpt is long enough"));
            }
            let take = data.len().min(LIMIT - self.0.len());
            self.0.extend_from_slice(&data[..take]);
            Ok(take)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let mut writer = Limited(Vec::new());
    // An error only means the excerpt reached its limit.
    let _ = serde_json::to_writer(&mut writer, value);
    String::from_utf8_lossy(&writer.0).into_owned()
}

/// Parses an RFC 3339 timestamp; a timestamp without an offset is read as UTC.
pub fn parse_rfc3339(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Some(time.with_timezone(&Utc));
    }
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
        .map(|naive| naive.and_utc())
}

/// Parses X's v1.1 timestamp (`Sun Oct 07 07:39:51 +0000 2012`), or RFC 3339.
pub fn parse_twitter(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_str(text.trim(), "%a %b %d %H:%M:%S %z %Y")
        .ok()
        .map(|time| time.with_timezone(&Utc))
        .or_else(|| parse_rfc3339(text))
}

/// Converts seconds since the epoch (possibly fractional) to a UTC time.
pub fn from_epoch_seconds(seconds: f64) -> Option<DateTime<Utc>> {
    if !seconds.is_finite() {
        return None;
    }
    let micros = (seconds * 1_000_000.0).round();
    // Outside ±2^62 µs the conversion to i64 would saturate; chrono's range is smaller anyway.
    if micros.abs() > 4.0e18 {
        return None;
    }
    DateTime::from_timestamp_micros(micros as i64)
}

/// Converts microseconds since the epoch to a UTC time.
pub fn from_epoch_micros(micros: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_micros(micros)
}

/// The declared language, unless it is one of the codes platforms use for "no language"
/// (`und`, `zxx`, `mul`, `mis`, `art`, and the private-use `qaa`–`qtz` codes X uses, such as
/// `qme` for media-only posts).
pub fn clean_lang(code: &str) -> Option<String> {
    let code = code.trim();
    let lower = code.to_ascii_lowercase();
    let private =
        matches!(lower.as_bytes(), [b'q', b'a'..=b't', last] if last.is_ascii_lowercase());
    if code.is_empty() || private || matches!(lower.as_str(), "und" | "zxx" | "mul" | "mis" | "art")
    {
        None
    } else {
        Some(code.to_owned())
    }
}

/// Decodes HTML character references (`&amp;`, `&#39;`) in text.
pub fn decode_entities(text: &str) -> String {
    if text.contains('&') {
        html_escape::decode_html_entities(text).into_owned()
    } else {
        text.to_owned()
    }
}

/// Appends `value` to `list` unless it is empty or already there.
pub fn push_unique(list: &mut Vec<String>, value: impl Into<String>) {
    let value = value.into();
    if !value.is_empty() && !list.contains(&value) {
        list.push(value);
    }
}

/// A JSON object with the dotted path it was found at, for field errors.
#[derive(Debug, Clone)]
pub struct Obj<'a> {
    map: &'a Map<String, Value>,
    path: String,
}

impl<'a> Obj<'a> {
    /// Wraps `value` as the object at `path` (`$` field errors when `path` is empty).
    pub fn new(value: &'a Value, path: impl Into<String>) -> FieldResult<Obj<'a>> {
        let path = path.into();
        match value {
            Value::Object(map) => Ok(Obj { map, path }),
            other => Err(expected(if path.is_empty() { "$" } else { &path }, "an object", other)),
        }
    }

    /// The dotted path of this object (empty for the record itself).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The wrapped map.
    pub fn map(&self) -> &'a Map<String, Value> {
        self.map
    }

    /// The dotted path of `key` in this object.
    pub fn field(&self, key: &str) -> String {
        join(&self.path, key)
    }

    /// True when `key` is present (even as null).
    pub fn has(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }

    /// The value of `key`, or `None` when it is absent or null.
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|value| !value.is_null())
    }

    /// The string at `key` without checking its type (detection only).
    pub fn peek_str(&self, key: &str) -> Option<&'a str> {
        self.map.get(key).and_then(Value::as_str)
    }

    /// An optional string: absent or null is `None`, anything but a string is an error.
    pub fn str(&self, key: &str) -> FieldResult<Option<&'a str>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text)),
            Some(other) => Err(expected(&self.field(key), "a string", other)),
        }
    }

    /// A required string.
    pub fn req_str(&self, key: &str) -> FieldResult<&'a str> {
        self.str(key)?.ok_or_else(|| missing(&self.field(key)))
    }

    /// An optional non-empty string (an empty string is `None`).
    pub fn text(&self, key: &str) -> FieldResult<Option<&'a str>> {
        Ok(self.str(key)?.filter(|text| !text.trim().is_empty()))
    }

    /// An optional boolean.
    pub fn bool(&self, key: &str) -> FieldResult<Option<bool>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(flag)) => Ok(Some(*flag)),
            Some(other) => Err(expected(&self.field(key), "a boolean", other)),
        }
    }

    /// An optional identifier: a non-empty string, or an integer written as a number.
    pub fn id(&self, key: &str) -> FieldResult<Option<String>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(text)) if text.trim().is_empty() => Err(FieldError::new(
                self.field(key),
                "expected a non-empty string, found an empty string",
            )),
            Some(Value::String(text)) => Ok(Some(text.clone())),
            Some(Value::Number(number)) if number.is_u64() || number.is_i64() => {
                Ok(Some(number.to_string()))
            }
            Some(other) => Err(expected(&self.field(key), "a string", other)),
        }
    }

    /// A required identifier.
    pub fn req_id(&self, key: &str) -> FieldResult<String> {
        self.id(key)?.ok_or_else(|| missing(&self.field(key)))
    }

    /// An optional count: a non-negative integer as a number or a numeric string.
    pub fn count(&self, key: &str) -> FieldResult<Option<u64>> {
        self.integer(key)?
            .map(|value| {
                u64::try_from(value).map_err(|_| {
                    FieldError::new(
                        self.field(key),
                        format!("expected a non-negative integer, found {value}"),
                    )
                })
            })
            .transpose()
    }

    /// An optional count that may be negative (a Reddit score); negative values become 0.
    pub fn count_clamped(&self, key: &str) -> FieldResult<Option<u64>> {
        Ok(self.integer(key)?.map(|value| u64::try_from(value).unwrap_or(0)))
    }

    /// An optional integer, as a number (integral floats allowed) or a numeric string.
    fn integer(&self, key: &str) -> FieldResult<Option<i128>> {
        let field = || self.field(key);
        match self.get(key) {
            None => Ok(None),
            Some(Value::Number(number)) => {
                if let Some(value) = number.as_u64() {
                    Ok(Some(i128::from(value)))
                } else if let Some(value) = number.as_i64() {
                    Ok(Some(i128::from(value)))
                } else {
                    match number.as_f64() {
                        Some(value) if value.fract() == 0.0 && value.abs() < 1.0e18 => {
                            Ok(Some(value as i128))
                        }
                        _ => Err(FieldError::new(
                            field(),
                            format!("expected an integer, found {number}"),
                        )),
                    }
                }
            }
            Some(Value::String(text)) => text.trim().parse::<i128>().map(Some).map_err(|_| {
                FieldError::new(
                    field(),
                    format!("expected an integer, found the string `{}`", clip(text)),
                )
            }),
            Some(other) => Err(expected(&field(), "a number", other)),
        }
    }

    /// An optional timestamp in `format`.
    pub fn time(&self, key: &str, format: TimeFormat) -> FieldResult<Option<DateTime<Utc>>> {
        let invalid = |shown: &str| {
            FieldError::new(self.field(key), format!("invalid timestamp `{}`", clip(shown)))
        };
        match (self.get(key), format) {
            (None, _) => Ok(None),
            (Some(Value::String(text)), TimeFormat::Rfc3339) => {
                parse_rfc3339(text).map(Some).ok_or_else(|| invalid(text))
            }
            (Some(Value::String(text)), TimeFormat::Twitter) => {
                parse_twitter(text).map(Some).ok_or_else(|| invalid(text))
            }
            (Some(Value::String(text)), TimeFormat::EpochSeconds) => text
                .trim()
                .parse::<f64>()
                .ok()
                .and_then(from_epoch_seconds)
                .map(Some)
                .ok_or_else(|| invalid(text)),
            (Some(Value::Number(number)), TimeFormat::EpochSeconds) => number
                .as_f64()
                .and_then(from_epoch_seconds)
                .map(Some)
                .ok_or_else(|| invalid(&number.to_string())),
            (Some(other), TimeFormat::EpochSeconds) => {
                Err(expected(&self.field(key), "a number", other))
            }
            (Some(other), _) => Err(expected(&self.field(key), "a string", other)),
        }
    }

    /// A required timestamp.
    pub fn req_time(&self, key: &str, format: TimeFormat) -> FieldResult<DateTime<Utc>> {
        self.time(key, format)?.ok_or_else(|| missing(&self.field(key)))
    }

    /// An optional array: absent or null is empty, anything but an array is an error.
    pub fn array(&self, key: &str) -> FieldResult<&'a [Value]> {
        match self.get(key) {
            None => Ok(&[]),
            Some(Value::Array(items)) => Ok(items),
            Some(other) => Err(expected(&self.field(key), "an array", other)),
        }
    }

    /// An optional nested object (absent or null is `None`).
    pub fn obj(&self, key: &str) -> FieldResult<Option<Obj<'a>>> {
        match self.get(key) {
            None => Ok(None),
            Some(value) => Obj::new(value, self.field(key)).map(Some),
        }
    }

    /// The objects of the array at `key`, each with its path (`key[i]`).
    pub fn objects(&self, key: &str) -> FieldResult<Vec<Obj<'a>>> {
        let field = self.field(key);
        self.array(key)?
            .iter()
            .enumerate()
            .map(|(index, item)| Obj::new(item, format!("{field}[{index}]")))
            .collect()
    }

    /// Reads `key` of every object in the array at `array_key` as a string (items that are
    /// not objects, or lack `key`, are errors naming `array_key[i].key`).
    pub fn strings_in(&self, array_key: &str, key: &str) -> FieldResult<Vec<String>> {
        let mut found = Vec::new();
        for item in self.objects(array_key)? {
            if let Some(text) = item.str(key)? {
                push_unique(&mut found, text);
            }
        }
        Ok(found)
    }
}

/// At most 40 characters of a value shown in a reason.
fn clip(text: &str) -> String {
    let mut clipped: String = text.chars().take(40).collect();
    if clipped.len() < text.len() {
        clipped.push('…');
    }
    clipped
}

/// Where a platform parser puts what it finds: records and rejections, positioned by the
/// document's line and a JSON pointer inside it.
pub struct Sink<'o> {
    line: Option<u64>,
    out: &'o mut Output,
}

impl<'o> Sink<'o> {
    /// A sink for one document on `line` (when the input is JSON lines).
    pub fn new(line: Option<u64>, out: &'o mut Output) -> Sink<'o> {
        Sink { line, out }
    }

    /// Adds a valid record found at `pointer`.
    pub fn push(&mut self, pointer: &str, record: Record) {
        self.out.push(position(self.line, pointer), record);
    }

    /// Adds a rejected record found at `pointer`.
    pub fn reject(&mut self, pointer: &str, error: FieldError, value: &Value) {
        self.out.reject(position(self.line, pointer), error, &raw(value));
    }

    /// Adds a valid record that is not a post, named by `kind`.
    pub fn other(&mut self, pointer: &str, kind: &str) {
        self.push(pointer, Record::Other { kind: kind.to_owned() });
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn reads_counts_from_numbers_and_strings() {
        let value =
            json!({"a": 3, "b": "42", "c": 2.0, "d": -1, "e": "x", "f": 1.5, "g": true, "h": null});
        let obj = Obj::new(&value, "m").unwrap();
        assert_eq!(obj.count("a").unwrap(), Some(3));
        assert_eq!(obj.count("b").unwrap(), Some(42));
        assert_eq!(obj.count("c").unwrap(), Some(2));
        assert_eq!(obj.count("h").unwrap(), None);
        assert_eq!(obj.count("zz").unwrap(), None);
        assert_eq!(obj.count_clamped("d").unwrap(), Some(0));
        let error = obj.count("d").unwrap_err();
        assert_eq!(error.field, "m.d");
        assert_eq!(error.reason, "expected a non-negative integer, found -1");
        assert_eq!(obj.count("e").unwrap_err().reason, "expected an integer, found the string `x`");
        assert_eq!(obj.count("f").unwrap_err().reason, "expected an integer, found 1.5");
        assert_eq!(obj.count("g").unwrap_err().reason, "expected a number, found a boolean");
    }

    #[test]
    fn reads_ids_and_strings() {
        let value = json!({"id": 20, "s": "x", "n": 1, "e": ""});
        let obj = Obj::new(&value, "").unwrap();
        assert_eq!(obj.req_id("id").unwrap(), "20");
        assert_eq!(obj.req_id("missing").unwrap_err(), FieldError::new("missing", "missing"));
        assert_eq!(
            obj.str("n").unwrap_err(),
            FieldError::new("n", "expected a string, found a number")
        );
        assert!(obj.id("e").is_err());
        assert_eq!(Obj::new(&json!([1]), "").unwrap_err().field, "$");
    }

    #[test]
    fn reads_timestamps() {
        let value = json!({
            "a": "Sun Oct 07 07:39:51 +0000 2012",
            "b": "2020-06-24T16:28:14.000Z",
            "c": 1366044279.5,
            "d": "yesterday",
            "e": "2026-07-04T14:38:06.240",
        });
        let obj = Obj::new(&value, "").unwrap();
        let a = obj.req_time("a", TimeFormat::Twitter).unwrap();
        assert_eq!(a.to_rfc3339(), "2012-10-07T07:39:51+00:00");
        let b = obj.req_time("b", TimeFormat::Rfc3339).unwrap();
        assert_eq!(b.timestamp(), 1593016094);
        let c = obj.req_time("c", TimeFormat::EpochSeconds).unwrap();
        assert_eq!(c.timestamp_millis(), 1366044279500);
        assert_eq!(
            obj.req_time("d", TimeFormat::Rfc3339).unwrap_err().reason,
            "invalid timestamp `yesterday`"
        );
        assert!(obj.req_time("e", TimeFormat::Rfc3339).is_ok());
        assert_eq!(
            obj.req_time("c", TimeFormat::Rfc3339).unwrap_err().reason,
            "expected a string, found a number"
        );
    }

    #[test]
    fn cleans_languages() {
        assert_eq!(clean_lang("en").as_deref(), Some("en"));
        assert_eq!(clean_lang("und"), None);
        assert_eq!(clean_lang("qme"), None);
        assert_eq!(clean_lang("zxx"), None);
        assert_eq!(clean_lang("qu").as_deref(), Some("qu"));
    }

    #[test]
    fn pointers_and_excerpts() {
        assert_eq!(child("/data", 3), "/data/3");
        assert_eq!(child("", "a/b"), "/a~1b");
        assert_eq!(position(Some(2), ""), Position::line(2));
        let big = Value::String("x".repeat(10_000));
        assert!(raw(&big).len() <= 1024);
    }
}
