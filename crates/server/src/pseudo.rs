//! Pseudonymisation for sharing outside the team: authors become stable pseudonyms
//! (`author-1a2b3c4d`, the same within a workspace, not reversible without its secret salt),
//! and @handles and e-mail addresses inside texts are masked.

use serde_json::Value;
use sha2::{Digest, Sha256};

/// Keys whose value is an author.
const AUTHOR_KEYS: &[&str] = &["author", "author_id", "author_handle", "author_name"];
/// Keys whose value is free text.
const TEXT_KEYS: &[&str] = &["text", "excerpt"];

/// A stable pseudonym for an author.
pub fn pseudonym(salt: &str, author: &str) -> String {
    let digest =
        Sha256::digest(format!("{salt}\u{0}{}", author.trim_start_matches('@').to_lowercase()));
    format!("author-{}", &hex::encode(digest)[..8])
}

/// Masks @handles and e-mail addresses in a text (URLs are kept: they are the brand's).
pub fn mask_text(salt: &str, text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (index, word) in text.split(' ').enumerate() {
        if index > 0 {
            out.push(' ');
        }
        let is_url = word.contains("://");
        if !is_url && let Some(at) = word.find('@') {
            let (before, after) = word.split_at(at);
            let handle_end = after[1..]
                .find(|c: char| !(c.is_alphanumeric() || matches!(c, '_' | '.' | '-' | '@')))
                .map_or(after.len(), |i| i + 1);
            let (handle, rest) = after.split_at(handle_end);
            let handle = handle.trim_end_matches('.');
            let tail = &after[handle.len()..];
            if before.is_empty() && handle.len() > 1 {
                // @handle (or @user@server)
                out.push('@');
                out.push_str(&pseudonym(salt, handle));
                out.push_str(tail);
                continue;
            }
            if !before.is_empty() && handle.contains('.') {
                // user@domain: an e-mail address
                out.push_str("[e-mail]");
                out.push_str(tail);
                continue;
            }
            let _ = rest;
        }
        out.push_str(word);
    }
    out
}

/// Pseudonymises a JSON answer in place: author fields and texts, at any depth.
pub fn pseudonymise(salt: &str, value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                if AUTHOR_KEYS.contains(&key.as_str()) {
                    if let Value::String(author) = child
                        && !author.is_empty()
                    {
                        *author = pseudonym(salt, author);
                    }
                } else if TEXT_KEYS.contains(&key.as_str()) {
                    if let Value::String(text) = child {
                        *text = mask_text(salt, text);
                    }
                } else {
                    pseudonymise(salt, child);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| pseudonymise(salt, item)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_and_emails_are_masked_and_stable() {
        let a = pseudonym("s", "@Alice");
        assert_eq!(a, pseudonym("s", "alice"));
        assert_ne!(a, pseudonym("t", "alice"));
        let text =
            mask_text("s", "Hi @alice, mail bob.smith@example.com or see https://x.com/@brand.");
        assert!(!text.contains("alice") && !text.contains("bob.smith"), "{text}");
        assert!(text.contains("[e-mail]") && text.contains("https://x.com/@brand."), "{text}");
        assert!(text.contains(&format!("@{a},")), "{text}");
        let mut value =
            serde_json::json!({"posts": [{"author": "alice", "text": "@bob hi", "likes": 3}]});
        pseudonymise("s", &mut value);
        assert_eq!(value["posts"][0]["author"], serde_json::json!(a));
        assert!(value["posts"][0]["text"].as_str().unwrap().starts_with("@author-"));
        assert_eq!(value["posts"][0]["likes"], 3);
    }
}
