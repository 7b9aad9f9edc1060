//! Mastodon API payloads: a Status, an array of statuses (a timeline), a status context
//! (`ancestors`/`descendants`), search results, notifications, streaming events, and the
//! other entities (Account → an account record; MediaAttachment, Poll, PreviewCard, Tag and
//! anything else → `mastodon_<entity>` records).
//!
//! A status's HTML `content` becomes plain text: paragraphs are separated by a blank line,
//! `<br>` becomes a newline, tags are stripped and character references decoded. A reblog is a
//! post of its own (with `repost_of`) and the reblogged status is emitted as a post too.

use memchr::memchr;
use serde_json::{Map, Value};
use waterline_model::{Account, Post, Record, platform};

use crate::formats::json::{
    FieldResult, Obj, Sink, TimeFormat, child, clean_lang, decode_entities, expected, missing,
    push_unique,
};
use crate::output::{FieldError, Output};

/// Parses one document (a whole file or one JSON line).
pub fn parse_document(doc: &Value, line: Option<u64>, out: &mut Output) {
    Parser { sink: Sink::new(line, out) }.entity(doc, "");
}

struct Parser<'o> {
    sink: Sink<'o>,
}

impl Parser<'_> {
    /// Any entity, or an array of entities.
    fn entity(&mut self, value: &Value, pointer: &str) {
        let map = match value {
            Value::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    self.entity(item, &child(pointer, index));
                }
                return;
            }
            Value::Object(map) => map,
            other => {
                self.sink.reject(pointer, expected("$", "an object or an array", other), other);
                return;
            }
        };
        let has = |key: &str| map.contains_key(key);
        if is_status(map) {
            self.status(value, pointer);
        } else if has("ancestors") || has("descendants") {
            // A status context.
            self.lists(map, pointer, &["ancestors", "descendants"]);
        } else if has("statuses") || has("accounts") || has("hashtags") {
            // Search results.
            self.lists(map, pointer, &["accounts", "statuses", "hashtags"]);
        } else if has("event") && has("payload") {
            self.streaming(map, pointer, value);
        } else if has("type") && has("account") {
            // A notification: a record of its own, and its status (if any) as a post.
            self.sink.other(pointer, "mastodon_notification");
            if let Some(status) = map.get("status").filter(|status| status.is_object()) {
                self.status(status, &child(pointer, "status"));
            }
        } else if has("acct") {
            match account(value) {
                Ok(account) => self.sink.push(pointer, Record::Account(account)),
                Err(error) => self.sink.reject(pointer, error, value),
            }
        } else {
            self.sink.other(pointer, other_kind(map));
        }
    }

    /// The arrays at `keys`, each item an entity.
    fn lists(&mut self, map: &Map<String, Value>, pointer: &str, keys: &[&str]) {
        for key in keys {
            match map.get(*key) {
                None | Some(Value::Null) => {}
                Some(list @ Value::Array(_)) => self.entity(list, &child(pointer, key)),
                Some(other) => {
                    self.sink.reject(&child(pointer, key), expected(key, "an array", other), other)
                }
            }
        }
    }

    /// A streaming event: `{"event": "update", "payload": "<json>"}`.
    fn streaming(&mut self, map: &Map<String, Value>, pointer: &str, value: &Value) {
        let event = map.get("event").and_then(Value::as_str).unwrap_or_default();
        let payload = map.get("payload");
        match (event, payload) {
            ("update" | "status.update", Some(Value::String(text))) => {
                match serde_json::from_str::<Value>(text) {
                    Ok(status) if status.is_object() => self.status(&status, pointer),
                    Ok(other) => self.sink.reject(
                        pointer,
                        expected("payload", "a json object", &other),
                        value,
                    ),
                    Err(error) => self.sink.reject(
                        pointer,
                        FieldError::new("payload", format!("invalid json: {error}")),
                        value,
                    ),
                }
            }
            ("update" | "status.update", Some(status @ Value::Object(_))) => {
                self.status(status, &child(pointer, "payload"));
            }
            ("delete", Some(Value::String(id))) if !id.trim().is_empty() => {
                self.sink.push(
                    pointer,
                    Record::Delete { platform: platform::MASTODON.to_owned(), id: id.clone() },
                );
            }
            ("delete", Some(other)) => {
                self.sink.reject(pointer, expected("payload", "a status id", other), value)
            }
            _ => self.sink.other(pointer, "mastodon_event"),
        }
    }

    /// A status, then the status it reblogs and the status it quotes, as posts of their own.
    fn status(&mut self, value: &Value, pointer: &str) {
        match status_post(value) {
            Ok(post) => self.sink.push(pointer, Record::Post(Box::new(post))),
            Err(error) => self.sink.reject(pointer, error, value),
        }
        if let Some(reblog) = value.get("reblog").filter(|reblog| reblog.is_object()) {
            self.status(reblog, &child(pointer, "reblog"));
        }
        if let Some(quote) = value.get("quote").filter(|quote| quote.is_object()) {
            if quote.as_object().is_some_and(is_status) {
                self.status(quote, &child(pointer, "quote"));
            } else if let Some(quoted) =
                quote.get("quoted_status").filter(|quoted| quoted.is_object())
            {
                self.status(quoted, &child(&child(pointer, "quote"), "quoted_status"));
            }
        }
    }
}

/// True when an object is a Status.
fn is_status(map: &Map<String, Value>) -> bool {
    map.contains_key("content") && (map.contains_key("account") || map.contains_key("created_at"))
}

/// The `mastodon_<entity>` kind of an entity that is neither a status nor an account.
fn other_kind(map: &Map<String, Value>) -> &'static str {
    let has = |key: &str| map.contains_key(key);
    let media_type = matches!(
        map.get("type").and_then(Value::as_str),
        Some("image" | "video" | "gifv" | "audio" | "unknown")
    );
    if has("url") && has("title") && (has("provider_name") || has("embed_url") || has("html")) {
        // Checked first: a video card also has a `type` of `video` and a `blurhash`.
        "mastodon_preview_card"
    } else if media_type
        && (has("preview_url") || has("blurhash") || has("meta") || has("remote_url"))
    {
        "mastodon_media_attachment"
    } else if has("options") && (has("expires_at") || has("votes_count") || has("multiple")) {
        "mastodon_poll"
    } else if has("name") && (has("history") || has("following") || has("url")) {
        "mastodon_tag"
    } else if has("error") {
        "mastodon_error"
    } else {
        "mastodon_other"
    }
}

/// An Account entity.
fn account(value: &Value) -> FieldResult<Account> {
    let account = Obj::new(value, "")?;
    Ok(Account {
        platform: platform::MASTODON.to_owned(),
        handle: account.text("acct")?.map(|acct| acct.trim_start_matches('@').to_owned()),
        id: account.id("id")?,
        name: account.text("display_name")?.map(str::to_owned),
        followers: account.count("followers_count")?,
    })
}

/// A Status as a post.
fn status_post(value: &Value) -> FieldResult<Post> {
    let status = Obj::new(value, "")?;
    let id = status.req_id("id")?;
    let created_at = status.req_time("created_at", TimeFormat::Rfc3339)?;
    let mut post = Post::new(platform::MASTODON, id, created_at);

    let author = status.obj("account")?.ok_or_else(|| missing("account"))?;
    post.author_id = author.id("id")?;
    post.author_handle = author.text("acct")?.map(|acct| acct.trim_start_matches('@').to_owned());
    post.author_name = author.text("display_name")?.map(str::to_owned);
    post.author_followers = author.count("followers_count")?;

    let html = html_to_text(status.str("content")?.unwrap_or_default());
    post.text = match status.text("spoiler_text")? {
        Some(spoiler) if html.text.is_empty() => spoiler.to_owned(),
        Some(spoiler) => format!("{spoiler}\n{}", html.text),
        None => html.text,
    };
    post.lang = status.str("language")?.and_then(clean_lang);
    post.url = status.text("url")?.map(str::to_owned);
    post.reply_to = status.id("in_reply_to_id")?;
    post.reply_to_author = status.id("in_reply_to_account_id")?;

    if let Some(reblog) = status.obj("reblog")? {
        post.repost_of = Some(reblog.req_id("id")?);
    }
    if let Some(quote) = status.obj("quote")? {
        post.quote_of = if is_status(quote.map()) {
            quote.id("id")?
        } else {
            match quote.obj("quoted_status")? {
                Some(quoted) => Some(quoted.req_id("id")?),
                None => quote.id("quoted_status_id")?,
            }
        };
    }
    if post.quote_of.is_none() {
        post.quote_of = status.id("quote_id")?;
    }

    post.hashtags = status.strings_in("tags", "name")?;
    post.mentions = status.strings_in("mentions", "acct")?;

    // Links: the preview card, then links in the content that are not mentions or hashtags.
    let mut not_links = status.strings_in("mentions", "url")?;
    not_links.extend(status.strings_in("tags", "url")?);
    if let Some(card) = status.obj("card")?
        && let Some(url) = card.text("url")?
    {
        push_unique(&mut post.links, url);
    }
    for anchor in html.anchors {
        let is_mention_or_tag =
            anchor.class.split_whitespace().any(|class| class == "mention" || class == "hashtag")
                || anchor.rel.split_whitespace().any(|rel| rel == "tag")
                || not_links.contains(&anchor.href);
        if !is_mention_or_tag
            && (anchor.href.starts_with("http://") || anchor.href.starts_with("https://"))
        {
            push_unique(&mut post.links, anchor.href);
        }
    }

    post.media_count = u32::try_from(status.array("media_attachments")?.len()).unwrap_or(u32::MAX);
    post.counts.likes = status.count("favourites_count")?;
    post.counts.shares = status.count("reblogs_count")?;
    post.counts.replies = status.count("replies_count")?;
    post.counts.quotes = status.count("quotes_count")?;
    Ok(post)
}

/// Plain text and links of an HTML fragment.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Html {
    /// The text: paragraphs separated by a blank line, `<br>` as a newline, tags removed,
    /// character references decoded, surrounding whitespace trimmed.
    pub text: String,
    /// The `<a>` elements, in order.
    pub anchors: Vec<Anchor>,
}

/// One `<a>` element of an HTML fragment.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Anchor {
    /// The decoded `href` (empty when absent).
    pub href: String,
    /// The `class` attribute.
    pub class: String,
    /// The `rel` attribute.
    pub rel: String,
}

/// Converts the HTML of a status (Mastodon's sanitised subset) to plain text.
pub fn html_to_text(html: &str) -> Html {
    let mut result = Html::default();
    // Newlines owed before the next text (a paragraph or list item boundary).
    let mut pending = 0usize;
    let mut rest = html;
    let write = |result: &mut Html, pending: &mut usize, segment: &str| {
        if segment.is_empty() {
            return;
        }
        let decoded = decode_entities(segment);
        if *pending > 0 && !result.text.is_empty() {
            let have = result.text.len() - result.text.trim_end_matches('\n').len();
            for _ in have..*pending {
                result.text.push('\n');
            }
        }
        *pending = 0;
        result.text.push_str(&decoded);
    };
    while let Some(start) = memchr(b'<', rest.as_bytes()) {
        write(&mut result, &mut pending, &rest[..start]);
        let tag_and_after = &rest[start..];
        if let Some(comment) = tag_and_after.strip_prefix("<!--") {
            rest = comment.find("-->").map_or("", |end| &comment[end + 3..]);
            continue;
        }
        let Some(end) = memchr(b'>', tag_and_after.as_bytes()) else {
            // A lone `<`: text.
            write(&mut result, &mut pending, tag_and_after);
            rest = "";
            break;
        };
        let tag = &tag_and_after[1..end];
        rest = &tag_and_after[end + 1..];
        let closing = tag.starts_with('/');
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_lowercase())
            .collect();
        match name.as_str() {
            "br" => result.text.push('\n'),
            "p" | "blockquote" | "pre" | "ul" | "ol" | "div" | "h1" | "h2" | "h3" | "h4" | "h5"
            | "h6" => {
                pending = pending.max(2);
            }
            "li" => pending = pending.max(1),
            "a" if !closing => result.anchors.push(Anchor {
                href: attribute(tag, "href").unwrap_or_default(),
                class: attribute(tag, "class").unwrap_or_default(),
                rel: attribute(tag, "rel").unwrap_or_default(),
            }),
            _ => {}
        }
    }
    write(&mut result, &mut pending, rest);
    let trimmed = result.text.trim();
    if trimmed.len() != result.text.len() {
        result.text = trimmed.to_owned();
    }
    result
}

/// The decoded value of attribute `name` inside a tag's text (`a href="..." class=...`).
fn attribute(tag: &str, name: &str) -> Option<String> {
    // ASCII lowercasing keeps byte offsets, so positions found in `lower` are valid in `tag`.
    let lower = tag.to_ascii_lowercase();
    let mut from = 0;
    while let Some(found) = lower[from..].find(name) {
        let start = from + found;
        let end = start + name.len();
        from = end;
        let preceded_by_space = lower[..start].chars().next_back().is_some_and(char::is_whitespace);
        let after = lower[end..].trim_start();
        if !preceded_by_space || !after.starts_with('=') {
            continue;
        }
        let value = tag[tag.len() - after.len() + 1..].trim_start();
        let raw_value = if let Some(quoted) = value.strip_prefix('"') {
            quoted.split('"').next()
        } else if let Some(quoted) = value.strip_prefix('\'') {
            quoted.split('\'').next()
        } else {
            value.split(|c: char| c.is_whitespace() || c == '/').next()
        };
        return raw_value.map(decode_entities);
    }
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(doc: Value) -> Output {
        let mut out = Output::default();
        parse_document(&doc, Some(7), &mut out);
        out
    }

    fn post(out: &Output, index: usize) -> &Post {
        match &out.records[index].record {
            Record::Post(post) => post,
            other => panic!("expected a post, found {other:?}"),
        }
    }

    fn status(id: &str, content: &str) -> Value {
        json!({
            "id": id, "created_at": "2019-12-08T03:48:33.901Z", "content": content, "spoiler_text": "",
            "account": {"id": "1", "acct": "alice@example.social", "display_name": "Alice", "followers_count": 3},
            "language": "en", "url": format!("https://example.social/@alice/{id}"),
            "replies_count": 1, "reblogs_count": 2, "favourites_count": 3,
            "media_attachments": [], "mentions": [], "tags": [], "reblog": null
        })
    }

    #[test]
    fn html_to_text_handles_paragraphs_breaks_and_entities() {
        let html = html_to_text(
            "<p>Hello &amp; <b>welcome</b>!<br>Second line<br />third</p><p>&quot;Quote&quot; &lt;3 &#39;x&#39;</p>",
        );
        assert_eq!(html.text, "Hello & welcome!\nSecond line\nthird\n\n\"Quote\" <3 'x'");
        let html =
            html_to_text(r#"<p>a <a href="https://e.x/?a=1&amp;b=2" rel="nofollow">link</a></p>"#);
        assert_eq!(html.text, "a link");
        assert_eq!(html.anchors[0].href, "https://e.x/?a=1&b=2");
        assert_eq!(html_to_text("no tags, 1 < 2").text, "no tags, 1 < 2");
        assert_eq!(html_to_text("<p></p>").text, "");
        assert_eq!(html_to_text("<ul><li>a</li><li>b</li></ul><p>c</p>").text, "a\nb\n\nc");
    }

    #[test]
    fn status_links_skip_mentions_and_hashtags() {
        let mut value = status(
            "5",
            r##"<p><span class="h-card"><a href="https://b.example/@bob" class="u-url mention">@<span>bob</span></a></span> see <a href="https://example.social/tags/cats" class="mention hashtag" rel="tag">#<span>cats</span></a> <a href="https://news.example/x" rel="nofollow noopener" target="_blank"><span class="invisible">https://</span>news.example/x</a></p>"##,
        );
        value["mentions"] = json!([{"acct": "bob@b.example", "url": "https://b.example/@bob"}]);
        value["tags"] = json!([{"name": "cats", "url": "https://example.social/tags/cats"}]);
        value["card"] = json!({"url": "https://card.example/"});
        value["spoiler_text"] = json!("cw: cats");
        value["media_attachments"] = json!([{"id": "1"}, {"id": "2"}]);
        let out = parse(value);
        let post = post(&out, 0);
        assert_eq!(post.text, "cw: cats\n@bob see #cats https://news.example/x");
        assert_eq!(post.links, ["https://card.example/", "https://news.example/x"]);
        assert_eq!(post.mentions, ["bob@b.example"]);
        assert_eq!(post.hashtags, ["cats"]);
        assert_eq!(post.media_count, 2);
        assert_eq!(post.counts.likes, Some(3));
        assert_eq!(post.counts.quotes, None);
        assert_eq!(out.records[0].position, waterline_model::Position::line(7));
    }

    #[test]
    fn reblog_is_two_posts() {
        let mut outer = status("10", "");
        outer["reblog"] = status("9", "<p>original</p>");
        outer["url"] = Value::Null;
        let out = parse(json!([outer]));
        assert_eq!(out.records.len(), 2);
        assert_eq!(post(&out, 0).id, "10");
        assert_eq!(post(&out, 0).repost_of.as_deref(), Some("9"));
        assert_eq!(post(&out, 0).url, None);
        assert_eq!(post(&out, 1).id, "9");
        assert_eq!(post(&out, 1).text, "original");
        assert_eq!(out.records[1].position.pointer.as_deref(), Some("/0/reblog"));
    }

    #[test]
    fn quote_sets_quote_of_and_emits_the_quoted_status() {
        let mut outer = status("10", "<p>look</p>");
        outer["quote"] =
            json!({"state": "accepted", "quoted_status": status("8", "<p>quoted</p>")});
        let out = parse(outer);
        assert_eq!(out.records.len(), 2);
        assert_eq!(post(&out, 0).quote_of.as_deref(), Some("8"));
        let mut shallow = status("11", "<p>look</p>");
        shallow["quote"] = json!({"state": "pending", "quoted_status_id": "8"});
        let out = parse(shallow);
        assert_eq!(out.records.len(), 1);
        assert_eq!(post(&out, 0).quote_of.as_deref(), Some("8"));
    }

    #[test]
    fn bad_statuses_are_rejected() {
        let mut wrong = status("1", "x");
        wrong["favourites_count"] = json!("lots");
        let mut no_id = status("2", "x");
        no_id.as_object_mut().unwrap().remove("id");
        let mut bad_time = status("3", "x");
        bad_time["created_at"] = json!("tomorrow");
        let mut no_account = status("4", "x");
        no_account["account"] = json!("alice");
        let out = parse(json!([wrong, no_id, bad_time, no_account, 3]));
        assert!(out.records.is_empty());
        let fields: Vec<_> = out.rejected.iter().map(|r| r.error.field.as_str()).collect();
        assert_eq!(fields, ["favourites_count", "id", "created_at", "account", "$"]);
        assert_eq!(out.rejected[3].error.reason, "expected an object, found a string");
        assert_eq!(out.rejected[2].position.pointer.as_deref(), Some("/2"));
    }

    #[test]
    fn other_entities() {
        let out = parse(json!([
            {"id": "1", "acct": "a", "display_name": "", "followers_count": 5},
            {"id": "2", "type": "image", "url": "u", "preview_url": "p"},
            {"id": "3", "options": [], "expires_at": null},
            {"url": "u", "title": "t", "type": "video", "provider_name": "", "blurhash": "x"},
            {"name": "cats", "url": "u", "history": []},
            {"something": "else"},
            {"event": "delete", "payload": "99"}
        ]));
        let kinds: Vec<_> = out
            .records
            .iter()
            .map(|located| match &located.record {
                Record::Other { kind } => kind.clone(),
                Record::Account(account) => {
                    format!("account {:?} {:?}", account.name, account.followers)
                }
                Record::Delete { id, .. } => format!("delete {id}"),
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "account None Some(5)",
                "mastodon_media_attachment",
                "mastodon_poll",
                "mastodon_preview_card",
                "mastodon_tag",
                "mastodon_other",
                "delete 99"
            ]
        );
    }
}
