//! Pseudonymisation for sharing outside the team and for viewers: authors become stable
//! pseudonyms (`author-1a2b3c4d`, the same within a workspace, not reversible without its
//! secret salt); @handles, e-mail addresses and the handles inside profile and post URLs
//! (`x.com/HANDLE/status/…`, `bsky.app/profile/HANDLE/…`, `/@HANDLE`, `reddit.com/user/…`)
//! are masked in texts and in `url` fields.

use serde_json::Value;
use sha2::{Digest, Sha256};

/// Keys whose value is an author.
const AUTHOR_KEYS: &[&str] = &["author", "author_id", "author_handle", "author_name"];
/// Keys whose value is free text.
const TEXT_KEYS: &[&str] = &["text", "excerpt"];
/// Keys whose value is a link to a post or a profile.
const URL_KEYS: &[&str] = &["url", "permalink", "link", "author_url"];

/// Masks the author's handle in a post or profile URL: X and Twitter status links become
/// the handle-free `x.com/i/web/status/ID`; other handles become pseudonyms (the link then
/// no longer resolves, which is the point).
pub fn mask_url(salt: &str, url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let host = authority.to_lowercase();
    let host = host.trim_start_matches("www.").trim_start_matches("mobile.");
    let (path, query) = path.split_once('?').map_or((path, None), |(p, q)| (p, Some(q)));
    let segments: Vec<&str> = path.split('/').collect();
    if matches!(host, "x.com" | "twitter.com") {
        if let Some(at) = segments.iter().position(|s| *s == "status")
            && let Some(id) = segments.get(at + 1)
        {
            return format!("https://x.com/i/web/status/{id}");
        }
        if let Some(first) = segments.first().filter(|s| !s.is_empty() && **s != "i") {
            return format!("https://x.com/{}", pseudonym(salt, first));
        }
        return format!("https://x.com/{}", segments.join("/"));
    }
    let mut masked: Vec<String> = Vec::with_capacity(segments.len());
    let mut next_is_handle = false;
    for segment in &segments {
        let handle = next_is_handle && !segment.is_empty();
        next_is_handle = matches!(*segment, "profile" | "user" | "u" | "users" | "channel" | "c");
        if handle || (segment.starts_with('@') && segment.len() > 1) {
            masked.push(pseudonym(salt, segment));
        } else {
            masked.push((*segment).to_owned());
        }
    }
    // Identifiers of people in the query (`facebook.com/permalink.php?id=…`) go too.
    let query = query.map(|query| {
        query
            .split('&')
            .filter(|pair| {
                let key = pair.split('=').next().unwrap_or_default();
                !matches!(key, "id" | "user" | "user_id" | "author" | "profile_id")
            })
            .collect::<Vec<_>>()
            .join("&")
    });
    let mut out = format!("{scheme}://{authority}/{}", masked.join("/"));
    if let Some(query) = query.filter(|q| !q.is_empty()) {
        out.push('?');
        out.push_str(&query);
    }
    out
}

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
        if is_url {
            out.push_str(&mask_url(salt, word));
            continue;
        }
        if let Some(at) = word.find('@') {
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

/// Pseudonymises a JSON answer in place: author fields, texts and links, at any depth. A
/// link that still names the object's author after masking is removed.
pub fn pseudonymise(salt: &str, value: &mut Value) {
    match value {
        Value::Object(map) => {
            let author = AUTHOR_KEYS
                .iter()
                .filter_map(|key| map.get(*key).and_then(Value::as_str))
                .map(|author| author.trim_start_matches('@').to_lowercase())
                .find(|author| author.chars().count() >= 3);
            for (key, child) in map.iter_mut() {
                if URL_KEYS.contains(&key.as_str()) {
                    if let Value::String(url) = child {
                        let masked = mask_url(salt, url);
                        let leaks =
                            author.as_ref().is_some_and(|a| masked.to_lowercase().contains(a));
                        *child = if leaks { Value::Null } else { Value::String(masked) };
                    }
                    continue;
                }
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

/// Replaces the values of one key in every row of a list with pseudonyms (the `account`
/// column of a query split by account).
pub fn pseudonymise_column(salt: &str, rows: &mut Value, key: &str) {
    for row in rows.as_array_mut().into_iter().flatten() {
        if let Some(Value::String(value)) = row.get_mut(key)
            && !value.is_empty()
        {
            *value = pseudonym(salt, value);
        }
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
            mask_text("s", "Hi @alice, mail bob.smith@example.com or see https://example.com/a.");
        assert!(!text.contains("alice") && !text.contains("bob.smith"), "{text}");
        assert!(text.contains("[e-mail]") && text.contains("https://example.com/a."), "{text}");
        assert!(text.contains(&format!("@{a},")), "{text}");
        let mut value =
            serde_json::json!({"posts": [{"author": "alice", "text": "@bob hi", "likes": 3}]});
        pseudonymise("s", &mut value);
        assert_eq!(value["posts"][0]["author"], serde_json::json!(a));
        assert!(value["posts"][0]["text"].as_str().unwrap().starts_with("@author-"));
        assert_eq!(value["posts"][0]["likes"], 3);
    }

    #[test]
    fn handles_in_post_and_profile_urls_are_masked() {
        let cases = [
            ("https://x.com/alice_b/status/123", "https://x.com/i/web/status/123"),
            ("https://twitter.com/Alice_B/status/9?s=20", "https://x.com/i/web/status/9"),
            (
                "https://www.reddit.com/r/asthma/comments/abc/title/",
                "https://www.reddit.com/r/asthma/comments/abc/title/",
            ),
            ("https://www.youtube.com/watch?v=xyz", "https://www.youtube.com/watch?v=xyz"),
        ];
        for (url, want) in cases {
            assert_eq!(mask_url("s", url), want);
        }
        for url in [
            "https://bsky.app/profile/alice.bsky.social/post/3k2",
            "https://mastodon.social/@alice/1100",
            "https://www.reddit.com/user/alice/",
            "https://www.youtube.com/@alice",
            "https://www.facebook.com/permalink.php?story_fbid=1&id=alice",
            "https://x.com/alice",
        ] {
            let masked = mask_url("s", url);
            assert!(!masked.contains("alice"), "{url} -> {masked}");
        }
        let text = mask_text(
            "s",
            "see https://x.com/alice/status/5 and https://bsky.app/profile/alice.bsky.social",
        );
        assert!(!text.contains("alice"), "{text}");
        // A link that still names its author after masking is dropped.
        let mut value =
            serde_json::json!({"author": "alice", "url": "https://forum.example/alice/post/1"});
        pseudonymise("s", &mut value);
        assert!(value["url"].is_null());
        let mut value =
            serde_json::json!({"author": "alice", "url": "https://x.com/alice/status/7"});
        pseudonymise("s", &mut value);
        assert_eq!(value["url"], "https://x.com/i/web/status/7");
    }
}
