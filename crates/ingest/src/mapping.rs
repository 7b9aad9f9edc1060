//! Column mappings for generic CSV and JSON-lines inputs: which column (or JSON path)
//! fills which field of a post or an account. Given as a TOML file (`--mapping FILE`) or
//! as flags (`--map field=column`); documented in `docs/mappings.md`.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::Deserialize;
use waterline_model::{Account, Post, Record};

use crate::output::FieldError;

/// What each row of a mapped input is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    /// Posts (the default).
    #[default]
    Post,
    /// Accounts with their follower counts.
    Account,
}

/// One or several source columns; several are joined with a space (a date and a time column).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Columns {
    /// One column.
    One(String),
    /// Several columns joined with a space.
    Many(Vec<String>),
}

impl Columns {
    /// The source column names.
    pub fn names(&self) -> Vec<&str> {
        match self {
            Columns::One(name) => vec![name.as_str()],
            Columns::Many(names) => names.iter().map(String::as_str).collect(),
        }
    }
}

/// A column mapping.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// Posts or accounts.
    #[serde(default)]
    pub record: RecordKind,
    /// The platform name for every row (unless a `platform` column is mapped).
    #[serde(default)]
    pub platform: Option<String>,
    /// The CSV delimiter; detected from the header when absent.
    #[serde(default)]
    pub delimiter: Option<char>,
    /// A chrono format for `created_at` when the usual forms do not fit.
    #[serde(default)]
    pub time_format: Option<String>,
    /// A URL template for posts with no URL column: `{id}` and `{author_handle}` are replaced.
    #[serde(default)]
    pub url_template: Option<String>,
    /// Target field → source column(s) or JSON path(s) (dotted).
    pub columns: BTreeMap<String, Columns>,
}

/// Fields a post mapping may fill.
pub const POST_FIELDS: &[&str] = &[
    "platform",
    "id",
    "author_id",
    "author_handle",
    "author_name",
    "author_followers",
    "created_at",
    "text",
    "lang",
    "url",
    "reply_to",
    "reply_to_author",
    "quote_of",
    "repost_of",
    "conversation_id",
    "hashtags",
    "mentions",
    "links",
    "media_count",
    "likes",
    "shares",
    "replies",
    "quotes",
    "views",
    "observed_at",
];

/// Fields an account mapping may fill.
pub const ACCOUNT_FIELDS: &[&str] = &["platform", "handle", "id", "name", "followers"];

/// Why a mapping cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum MappingError {
    /// The mapping file did not parse.
    #[error("invalid mapping: {0}")]
    Toml(#[from] toml::de::Error),
    /// A `--map` flag was not `field=column`.
    #[error("invalid --map `{0}`: expected FIELD=COLUMN (join columns with +)")]
    Flag(String),
    /// A target field does not exist.
    #[error("unknown field `{field}` in the mapping; known fields: {known}")]
    UnknownField {
        /// The field named.
        field: String,
        /// The fields that exist.
        known: String,
    },
    /// A required field is not mapped.
    #[error("the mapping does not map `{0}`, which is required")]
    Missing(&'static str),
}

impl Mapping {
    /// Parses a mapping file.
    pub fn parse(text: &str) -> Result<Mapping, MappingError> {
        let mapping: Mapping = toml::from_str(text)?;
        mapping.validate()?;
        Ok(mapping)
    }

    /// Adds `--map field=column[+column]` flags (they override the file).
    pub fn apply_flags(&mut self, flags: &[String]) -> Result<(), MappingError> {
        for flag in flags {
            let (field, columns) =
                flag.split_once('=').ok_or_else(|| MappingError::Flag(flag.clone()))?;
            let names: Vec<String> =
                columns.split('+').map(|name| name.trim().to_owned()).collect();
            if field.trim().is_empty() || names.iter().any(String::is_empty) {
                return Err(MappingError::Flag(flag.clone()));
            }
            let columns =
                if names.len() == 1 { Columns::One(names.concat()) } else { Columns::Many(names) };
            self.columns.insert(field.trim().to_owned(), columns);
        }
        Ok(())
    }

    /// Checks the target fields and the required ones.
    pub fn validate(&self) -> Result<(), MappingError> {
        let known = match self.record {
            RecordKind::Post => POST_FIELDS,
            RecordKind::Account => ACCOUNT_FIELDS,
        };
        for field in self.columns.keys() {
            if !known.contains(&field.as_str()) {
                return Err(MappingError::UnknownField {
                    field: field.clone(),
                    known: known.join(", "),
                });
            }
        }
        match self.record {
            RecordKind::Post => {
                for required in ["id", "created_at"] {
                    if !self.columns.contains_key(required) {
                        return Err(MappingError::Missing(required));
                    }
                }
            }
            RecordKind::Account => {
                if !self.columns.contains_key("handle") && !self.columns.contains_key("id") {
                    return Err(MappingError::Missing("handle"));
                }
            }
        }
        Ok(())
    }

    /// Every source column the mapping reads.
    pub fn source_columns(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.columns.values().flat_map(Columns::names).collect();
        names.sort_unstable();
        names.dedup();
        names
    }

    /// Builds a record from a lookup of source values (`None` when absent or empty).
    pub fn build(&self, lookup: &dyn Fn(&str) -> Option<String>) -> Result<Record, FieldError> {
        let value = |field: &str| -> Option<String> {
            let columns = self.columns.get(field)?;
            let parts: Vec<String> = columns.names().into_iter().filter_map(lookup).collect();
            let joined = parts.join(" ");
            let trimmed = joined.trim();
            (!trimmed.is_empty()).then(|| trimmed.to_owned())
        };
        let column_name = |field: &str| {
            self.columns
                .get(field)
                .map(|columns| columns.names().join("+"))
                .unwrap_or_else(|| field.to_owned())
        };
        let number = |field: &str| -> Result<Option<u64>, FieldError> {
            match value(field) {
                None => Ok(None),
                Some(text) => parse_count(&text).map(Some).ok_or_else(|| {
                    FieldError::new(
                        column_name(field),
                        format!("expected a non-negative number, found `{text}`"),
                    )
                }),
            }
        };
        let platform = value("platform")
            .or_else(|| self.platform.clone())
            .unwrap_or_else(|| "generic".to_owned());
        match self.record {
            RecordKind::Account => {
                let account = Account {
                    platform: value("platform")
                        .or_else(|| self.platform.clone())
                        .unwrap_or_default(),
                    handle: value("handle").map(|handle| handle.trim_start_matches('@').to_owned()),
                    id: value("id"),
                    name: value("name"),
                    followers: number("followers")?,
                };
                if account.handle.is_none() && account.id.is_none() {
                    return Err(FieldError::new(column_name("handle"), "empty handle and id"));
                }
                Ok(Record::Account(account))
            }
            RecordKind::Post => {
                let id =
                    value("id").ok_or_else(|| FieldError::new(column_name("id"), "empty id"))?;
                let created_text = value("created_at")
                    .ok_or_else(|| FieldError::new(column_name("created_at"), "empty date"))?;
                let created_at = parse_time(&created_text, self.time_format.as_deref())
                    .ok_or_else(|| {
                        FieldError::new(
                            column_name("created_at"),
                            format!("unrecognised date and time `{created_text}`"),
                        )
                    })?;
                let mut post = Post::new(&platform, id, created_at);
                post.author_id = value("author_id");
                post.author_handle =
                    value("author_handle").map(|handle| handle.trim_start_matches('@').to_owned());
                post.author_name = value("author_name");
                post.author_followers = number("author_followers")?;
                post.text = value("text").unwrap_or_default();
                post.lang = value("lang");
                post.url = value("url");
                post.reply_to = value("reply_to");
                post.reply_to_author = value("reply_to_author");
                post.quote_of = value("quote_of");
                post.repost_of = value("repost_of");
                post.conversation_id = value("conversation_id");
                post.hashtags = list(value("hashtags"), '#');
                post.mentions = list(value("mentions"), '@');
                post.links = list(value("links"), ' ');
                post.media_count = number("media_count")?
                    .map_or(0, |count| u32::try_from(count).unwrap_or(u32::MAX));
                post.counts.likes = number("likes")?;
                post.counts.shares = number("shares")?;
                post.counts.replies = number("replies")?;
                post.counts.quotes = number("quotes")?;
                post.counts.views = number("views")?;
                if let Some(observed) = value("observed_at") {
                    post.observed_at = Some(parse_time(&observed, None).ok_or_else(|| {
                        FieldError::new(
                            column_name("observed_at"),
                            format!("unrecognised date and time `{observed}`"),
                        )
                    })?);
                }
                if post.url.is_none()
                    && let Some(template) = &self.url_template
                {
                    let url = template
                        .replace("{id}", &post.id)
                        .replace("{author_handle}", post.author_handle.as_deref().unwrap_or("i"));
                    post.url = Some(url);
                }
                Ok(Record::Post(Box::new(post)))
            }
        }
    }
}

fn list(value: Option<String>, prefix: char) -> Vec<String> {
    let Some(value) = value else { return Vec::new() };
    value
        .split(|character: char| character == ',' || character == ';' || character.is_whitespace())
        .map(|item| item.trim().trim_start_matches(prefix).to_owned())
        .filter(|item| !item.is_empty())
        .collect()
}

/// Parses a count: an integer, a float with no fraction (`10.0`), or an integer with thousands separators.
pub fn parse_count(text: &str) -> Option<u64> {
    let cleaned: String =
        text.trim().chars().filter(|character| *character != '_' && *character != ',').collect();
    if let Ok(value) = cleaned.parse::<u64>() {
        return Some(value);
    }
    let float = cleaned.parse::<f64>().ok()?;
    (float.is_finite() && float >= 0.0 && float.fract() == 0.0 && float < 1.8e19)
        .then_some(float as u64)
}

/// Parses the date and time forms found in exports: RFC 3339 (with `T` or a space),
/// `YYYY-MM-DD HH:MM:SS` (taken as UTC), X's `Sun Oct 07 07:39:51 +0000 2012`, epoch seconds
/// or milliseconds, a bare date, or `format` when given.
pub fn parse_time(text: &str, format: Option<&str>) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Some(format) = format {
        if let Ok(time) = DateTime::parse_from_str(text, format) {
            return Some(time.with_timezone(&Utc));
        }
        return NaiveDateTime::parse_from_str(text, format).ok().map(|naive| naive.and_utc());
    }
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Some(time.with_timezone(&Utc));
    }
    for zoned in ["%Y-%m-%d %H:%M:%S%.f%:z", "%Y-%m-%d %H:%M:%S%.f%z", "%a %b %d %H:%M:%S %z %Y"] {
        if let Ok(time) = DateTime::parse_from_str(text, zoned) {
            return Some(time.with_timezone(&Utc));
        }
    }
    for naive in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%d/%m/%Y %H:%M:%S",
        "%d/%m/%Y %H:%M",
    ] {
        if let Ok(time) = NaiveDateTime::parse_from_str(text, naive) {
            return Some(time.and_utc());
        }
    }
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return date.and_hms_opt(0, 0, 0).map(|naive| naive.and_utc());
    }
    if let Ok(number) = text.parse::<i64>() {
        // Epoch seconds up to the year 5138; milliseconds beyond.
        return if number.abs() < 100_000_000_000 {
            DateTime::from_timestamp(number, 0)
        } else {
            DateTime::from_timestamp_millis(number)
        };
    }
    None
}

/// Looks up a dotted path in a JSON object and renders scalars and arrays as text.
pub fn json_lookup(value: &serde_json::Value, path: &str) -> Option<String> {
    let mut current = value;
    for part in path.split('.') {
        current = match current {
            serde_json::Value::Object(map) => map.get(part)?,
            serde_json::Value::Array(items) => items.get(part.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    match current {
        serde_json::Value::Null => None,
        serde_json::Value::String(text) => Some(text.clone()),
        serde_json::Value::Array(items) => Some(
            items
                .iter()
                .map(|item| match item {
                    serde_json::Value::String(text) => text.clone(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join(" "),
        ),
        other => Some(other.to_string()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn times_in_export_forms_parse() {
        let expected = "2020-12-28T07:26:23Z";
        for text in [
            "2020-12-28 07:26:23+00:00",
            "2020-12-28T07:26:23Z",
            "2020-12-28 07:26:23",
            "1609140383",
        ] {
            assert_eq!(
                parse_time(text, None).unwrap().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                expected
            );
        }
        assert!(parse_time("yesterday", None).is_none());
    }

    #[test]
    fn counts_accept_floats_and_separators() {
        assert_eq!(parse_count("10.0"), Some(10));
        assert_eq!(parse_count("1,234"), Some(1234));
        assert_eq!(parse_count("-3"), None);
        assert_eq!(parse_count("abc"), None);
    }

    #[test]
    fn flags_build_a_mapping_and_unknown_fields_are_errors() {
        let mut mapping = Mapping::default();
        mapping.apply_flags(&["id=tweet_id".into(), "created_at=date+time".into()]).unwrap();
        mapping.validate().unwrap();
        mapping.apply_flags(&["colour=c".into()]).unwrap();
        assert!(mapping.validate().is_err());
        assert!(Mapping::default().apply_flags(&["nonsense".into()]).is_err());
    }
}
