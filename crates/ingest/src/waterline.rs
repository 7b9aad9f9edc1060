//! Waterline's own JSON lines: one `Post` per line, exactly the data model's fields.

use waterline_model::{Post, Record};

use crate::output::FieldError;

/// Parses one line of Waterline JSON lines.
pub fn parse_line(line: &[u8]) -> Result<Record, FieldError> {
    match serde_json::from_slice::<Post>(line) {
        Ok(post) => validate(post),
        Err(_) => Err(explain(line)),
    }
}

fn validate(post: Post) -> Result<Record, FieldError> {
    if post.platform.trim().is_empty() {
        return Err(FieldError::new("platform", "empty platform"));
    }
    if post.id.trim().is_empty() {
        return Err(FieldError::new("id", "empty id"));
    }
    Ok(Record::Post(Box::new(post)))
}

/// Re-parses a failing line to name the field at fault.
fn explain(line: &[u8]) -> FieldError {
    let mut deserializer = serde_json::Deserializer::from_slice(line);
    match serde_path_to_error::deserialize::<_, Post>(&mut deserializer) {
        Ok(_) => FieldError::new("$", "invalid record"),
        Err(error) => {
            let path = error.path().to_string();
            let field = if path.is_empty() || path == "." { "$".to_owned() } else { path };
            let inner = error.into_inner();
            let reason = if inner.is_eof() {
                "truncated JSON".to_owned()
            } else {
                strip_location(&inner.to_string())
            };
            FieldError::new(field, reason)
        }
    }
}

fn strip_location(message: &str) -> String {
    match message.find(" at line ") {
        Some(index) => message[..index].to_owned(),
        None => message.to_owned(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn names_the_field_at_fault() {
        let error = parse_line(br#"{"platform":"x","id":"1","created_at":"2020-01-01T00:00:00Z","counts":{"likes":"many"}}"#)
            .unwrap_err();
        assert_eq!(error.field, "counts.likes");
        let error = parse_line(br#"{"platform":"x","id":"1","created_at":"#).unwrap_err();
        assert_eq!(error.reason, "truncated JSON");
        let error =
            parse_line(br#"{"platform":"x","created_at":"2020-01-01T00:00:00Z"}"#).unwrap_err();
        assert!(error.reason.contains("id"), "{error:?}");
    }

    #[test]
    fn reads_a_valid_line() {
        let record = parse_line(
            br#"{"platform":"x","id":"1","created_at":"2020-01-01T00:00:00Z","text":"hi"}"#,
        )
        .unwrap();
        assert!(matches!(record, Record::Post(post) if post.text == "hi"));
    }
}
