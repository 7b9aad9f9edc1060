//! X (formerly Twitter) payloads: API v2 responses, v1.1 tweets (one object, a JSON array or
//! one tweet per line, with their retweeted and quoted statuses), v1.1 stream notices and the
//! account archive's `tweet.js`.
//!
//! A v2 response yields one record per item of `data` (posts, accounts from a user lookup,
//! rules, spaces), one post per `includes.tweets` item and one `x_api_error` per `errors`
//! item; `includes.users` only fills in the authors of posts and `meta` is not a record.

use std::collections::HashMap;

use serde_json::{Map, Value};
use waterline_model::{Account, Post, Record, platform};

use crate::formats::json::{
    FieldResult, Obj, Sink, TimeFormat, child, clean_lang, decode_entities, expected, missing,
    position, push_unique, raw,
};
use crate::output::{FieldError, Output};

/// Parses one document (a whole file or one JSON line): a v2 response, a v1.1 tweet or stream
/// notice, a JSON array of v1.1 tweets, or an archive array without its `window.YTD` prefix.
pub fn parse_document(doc: &Value, line: Option<u64>, out: &mut Output) {
    let mut parser = Parser { sink: Sink::new(line, out) };
    match doc {
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                parser.object(item, &child("", index));
            }
        }
        _ => parser.object(doc, ""),
    }
}

/// Parses an X archive `tweet.js` (`window.YTD.tweet.part0 = [ {"tweet": {...}}, ... ]`); the
/// bare array is accepted too. Counts and ids are strings there; there is no user object, so
/// the author stays unknown.
pub fn parse_archive(text: &str, out: &mut Output) {
    let body = strip_archive_prefix(text);
    match serde_json::from_str::<Value>(body) {
        Ok(Value::Array(items)) => {
            let mut parser = Parser { sink: Sink::new(None, out) };
            for (index, item) in items.iter().enumerate() {
                parser.object(item, &child("", index));
            }
        }
        Ok(other) => out.reject(
            position(None, ""),
            expected("$", "an array of archive items", &other),
            &raw(&other),
        ),
        Err(error) => out.reject(
            waterline_model::Position::line(error.line() as u64),
            FieldError::new("$", format!("invalid json: {error}")),
            text,
        ),
    }
}

/// The JSON part of an archive file: everything after `window.YTD.<name>.part<n> =`, without a
/// trailing `;`.
fn strip_archive_prefix(text: &str) -> &str {
    let text = text.trim_start_matches('\u{feff}').trim();
    let body = if text.starts_with('[') || text.starts_with('{') {
        text
    } else {
        match text.find('=') {
            Some(equals) => text[equals + 1..].trim(),
            None => text,
        }
    };
    body.trim_end_matches(';').trim_end()
}

/// What `includes.users` says about an author.
#[derive(Debug, Default)]
struct Author {
    handle: Option<String>,
    name: Option<String>,
    followers: Option<u64>,
}

/// Authors by id, read leniently from `includes.users` (they are not records).
type Authors = HashMap<String, Author>;

struct Parser<'o> {
    sink: Sink<'o>,
}

impl Parser<'_> {
    /// Dispatches one object by its shape.
    fn object(&mut self, value: &Value, pointer: &str) {
        let Value::Object(map) = value else {
            self.sink.reject(pointer, expected("$", "an object", value), value);
            return;
        };
        let has = |key: &str| map.contains_key(key);
        if has("data") || has("errors") || has("includes") || (has("meta") && !has("id")) {
            self.v2_response(map, pointer);
        } else if map.len() == 1 && map.get("tweet").is_some_and(Value::is_object) {
            // An archive item.
            if let Some(tweet) = map.get("tweet") {
                self.v1_tweet(tweet, &child(pointer, "tweet"));
            }
        } else if has("delete") {
            match delete_notice(value) {
                Ok(id) => {
                    self.sink.push(pointer, Record::Delete { platform: platform::X.to_owned(), id })
                }
                Err(error) => self.sink.reject(pointer, error, value),
            }
        } else if is_v1_tweet(map) {
            self.v1_tweet(value, pointer);
        } else if [
            "limit",
            "scrub_geo",
            "status_withheld",
            "user_withheld",
            "disconnect",
            "warning",
        ]
        .iter()
        .any(|key| has(key))
        {
            self.sink.other(pointer, "x_stream_notice");
        } else if has("id") && (has("text") || has("note_tweet")) {
            self.v2_item(value, pointer, &Authors::new());
        } else if (has("title") && (has("type") || has("detail")))
            || (has("code") && has("message"))
        {
            self.sink.other(pointer, "x_api_error");
        } else {
            self.sink.reject(pointer, FieldError::new("$", "not a recognised x payload"), value);
        }
    }

    /// A v2 response: `data`, `includes`, `errors` and `meta`.
    fn v2_response(&mut self, map: &Map<String, Value>, pointer: &str) {
        let includes = map.get("includes").and_then(Value::as_object);
        let mut authors = Authors::new();
        // Users in `data` (a user lookup) are the authors of the pinned tweets in `includes`.
        for users in [includes.and_then(|includes| includes.get("users")), map.get("data")]
            .into_iter()
            .flatten()
        {
            read_authors(users, &mut authors);
        }

        match map.get("data") {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) => {
                let data = child(pointer, "data");
                for (index, item) in items.iter().enumerate() {
                    self.v2_item(item, &child(&data, index), &authors);
                }
            }
            Some(item @ Value::Object(_)) => self.v2_item(item, &child(pointer, "data"), &authors),
            Some(other) => self.sink.reject(
                &child(pointer, "data"),
                expected("data", "an object or an array", other),
                other,
            ),
        }

        if let Some(tweets) = includes.and_then(|includes| includes.get("tweets")) {
            let tweets_pointer = child(&child(pointer, "includes"), "tweets");
            match tweets {
                Value::Array(items) => {
                    for (index, item) in items.iter().enumerate() {
                        let item_pointer = child(&tweets_pointer, index);
                        match v2_post(item, &authors) {
                            Ok(post) => self.sink.push(&item_pointer, Record::Post(Box::new(post))),
                            Err(error) => self.sink.reject(&item_pointer, error, item),
                        }
                    }
                }
                Value::Null => {}
                other => self.sink.reject(
                    &tweets_pointer,
                    expected("includes.tweets", "an array", other),
                    other,
                ),
            }
        }

        match map.get("errors") {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) => {
                let errors = child(pointer, "errors");
                for index in 0..items.len() {
                    self.sink.other(&child(&errors, index), "x_api_error");
                }
            }
            Some(_) => self.sink.other(&child(pointer, "errors"), "x_api_error"),
        }
    }

    /// One item of a v2 `data`: a post, a user, a rule, a space or something else.
    fn v2_item(&mut self, value: &Value, pointer: &str, authors: &Authors) {
        let Value::Object(map) = value else {
            self.sink.reject(pointer, expected("$", "an object", value), value);
            return;
        };
        let has = |key: &str| map.contains_key(key);
        if has("username") {
            match v2_account(value) {
                Ok(account) => self.sink.push(pointer, Record::Account(account)),
                Err(error) => self.sink.reject(pointer, error, value),
            }
        } else if [
            "text",
            "note_tweet",
            "edit_history_tweet_ids",
            "referenced_tweets",
            "author_id",
            "conversation_id",
        ]
        .iter()
        .any(|key| has(key))
        {
            match v2_post(value, authors) {
                Ok(post) => self.sink.push(pointer, Record::Post(Box::new(post))),
                Err(error) => self.sink.reject(pointer, error, value),
            }
        } else {
            let kind = if has("value") {
                "x_rule"
            } else if has("state") || has("host_ids") || has("creator_id") {
                "x_space"
            } else if has("event_type") {
                "x_dm_event"
            } else if has("follower_count") || has("member_count") {
                "x_list"
            } else if has("media_key") {
                "x_media"
            } else if has("options") && has("voting_status") {
                "x_poll"
            } else if has("place_type") || has("full_name") {
                "x_place"
            } else {
                "x_other"
            };
            self.sink.other(pointer, kind);
        }
    }

    /// A v1.1 (or archive) tweet, then its retweeted and quoted statuses as posts of their own.
    fn v1_tweet(&mut self, value: &Value, pointer: &str) {
        match v1_post(value) {
            Ok(post) => self.sink.push(pointer, Record::Post(Box::new(post))),
            Err(error) => self.sink.reject(pointer, error, value),
        }
        for key in ["retweeted_status", "quoted_status"] {
            if let Some(nested) = value.get(key).filter(|nested| nested.is_object()) {
                self.v1_tweet(nested, &child(pointer, key));
            }
        }
    }
}

/// True when an object looks like a v1.1 tweet.
fn is_v1_tweet(map: &Map<String, Value>) -> bool {
    ["id_str", "user", "favorite_count", "full_text", "extended_tweet", "retweet_count"]
        .iter()
        .any(|key| map.contains_key(*key))
}

/// Adds the users (objects with a `username`) of `users`, one object or an array, to
/// `authors`, read leniently: a malformed user only loses its details. The first one wins.
fn read_authors(users: &Value, authors: &mut Authors) {
    let users = match users {
        Value::Array(items) => items.as_slice(),
        single => std::slice::from_ref(single),
    };
    for user in users {
        let Ok(user) = Obj::new(user, "") else { continue };
        if !user.has("username") {
            continue;
        }
        let Ok(Some(id)) = user.id("id") else { continue };
        if authors.contains_key(&id) {
            continue;
        }
        let followers = user
            .obj("public_metrics")
            .ok()
            .flatten()
            .and_then(|m| m.count("followers_count").ok().flatten());
        authors.insert(
            id,
            Author {
                handle: user.text("username").ok().flatten().map(str::to_owned),
                name: user.text("name").ok().flatten().map(str::to_owned),
                followers,
            },
        );
    }
}

/// A v2 user (user lookup).
fn v2_account(value: &Value) -> FieldResult<Account> {
    let user = Obj::new(value, "")?;
    let followers = match user.obj("public_metrics")? {
        Some(metrics) => metrics.count("followers_count")?,
        None => None,
    };
    Ok(Account {
        platform: platform::X.to_owned(),
        handle: user.text("username")?.map(|handle| handle.trim_start_matches('@').to_owned()),
        id: user.id("id")?,
        name: user.text("name")?.map(str::to_owned),
        followers,
    })
}

/// A v2 tweet.
fn v2_post(value: &Value, authors: &Authors) -> FieldResult<Post> {
    let tweet = Obj::new(value, "")?;
    let id = tweet.req_id("id")?;
    let created_at = tweet.req_time("created_at", TimeFormat::Rfc3339)?;
    let mut post = Post::new(platform::X, id, created_at);

    let note = tweet.obj("note_tweet")?;
    let note_text = match &note {
        Some(note) => note.str("text")?,
        None => None,
    };
    let text = match note_text {
        Some(text) => text,
        None => tweet.str("text")?.unwrap_or_default(),
    };
    post.text = decode_entities(text);
    post.lang = tweet.str("lang")?.and_then(clean_lang);

    post.author_id = tweet.id("author_id")?;
    if let Some(author) = post.author_id.as_ref().and_then(|id| authors.get(id)) {
        post.author_handle.clone_from(&author.handle);
        post.author_name.clone_from(&author.name);
        post.author_followers = author.followers;
    }

    if let Some(metrics) = tweet.obj("public_metrics")? {
        post.counts.likes = metrics.count("like_count")?;
        post.counts.shares = metrics.count("retweet_count")?;
        post.counts.replies = metrics.count("reply_count")?;
        post.counts.quotes = metrics.count("quote_count")?;
        post.counts.views = metrics.count("impression_count")?;
    }

    for reference in tweet.objects("referenced_tweets")? {
        let kind = reference.req_str("type")?;
        let id = reference.req_id("id")?;
        match kind {
            "replied_to" => post.reply_to = Some(id),
            "quoted" => post.quote_of = Some(id),
            "retweeted" => post.repost_of = Some(id),
            _ => {}
        }
    }
    post.reply_to_author = tweet.id("in_reply_to_user_id")?;
    post.conversation_id = tweet.id("conversation_id")?;

    let note_entities = match &note {
        Some(note) => note.obj("entities")?,
        None => None,
    };
    let entities = match note_entities {
        Some(entities) => Some(entities),
        None => tweet.obj("entities")?,
    };
    if let Some(entities) = entities {
        post.hashtags = entities.strings_in("hashtags", "tag")?;
        post.mentions = entities.strings_in("mentions", "username")?;
        post.links = links(&entities)?;
    }
    if let Some(attachments) = tweet.obj("attachments")? {
        post.media_count = media_len(attachments.array("media_keys")?);
    }
    post.url = status_url(post.author_handle.as_deref(), &post.id);
    Ok(post)
}

/// A v1.1 or archive tweet.
fn v1_post(value: &Value) -> FieldResult<Post> {
    let tweet = Obj::new(value, "")?;
    let id = match tweet.id("id_str")? {
        Some(id) => id,
        None => tweet.id("id")?.ok_or_else(|| missing("id_str"))?,
    };
    let created_at = tweet.req_time("created_at", TimeFormat::Twitter)?;
    let mut post = Post::new(platform::X, id, created_at);
    let extended = tweet.obj("extended_tweet")?;

    let extended_text = match &extended {
        Some(extended) => extended.str("full_text")?,
        None => None,
    };
    let text = match extended_text {
        Some(text) => text,
        None => match tweet.str("full_text")? {
            Some(text) => text,
            None => tweet.str("text")?.unwrap_or_default(),
        },
    };
    post.text = decode_entities(text);
    post.lang = tweet.str("lang")?.and_then(clean_lang);

    if let Some(user) = tweet.obj("user")? {
        post.author_id = match user.id("id_str")? {
            Some(id) => Some(id),
            None => user.id("id")?,
        };
        post.author_handle = user.text("screen_name")?.map(str::to_owned);
        post.author_name = user.text("name")?.map(str::to_owned);
        post.author_followers = user.count("followers_count")?;
    }

    post.counts.likes = tweet.count("favorite_count")?;
    post.counts.shares = tweet.count("retweet_count")?;
    post.counts.replies = tweet.count("reply_count")?;
    post.counts.quotes = tweet.count("quote_count")?;

    post.reply_to = first_id(&tweet, &["in_reply_to_status_id_str", "in_reply_to_status_id"])?;
    post.reply_to_author = match tweet.text("in_reply_to_screen_name")? {
        Some(handle) => Some(handle.to_owned()),
        None => first_id(&tweet, &["in_reply_to_user_id_str", "in_reply_to_user_id"])?,
    };
    post.quote_of = first_id(&tweet, &["quoted_status_id_str", "quoted_status_id"])?;
    if post.quote_of.is_none()
        && let Some(quoted) = tweet.obj("quoted_status")?
    {
        post.quote_of = first_id(&quoted, &["id_str", "id"])?;
    }
    if let Some(retweeted) = tweet.obj("retweeted_status")? {
        post.repost_of = Some(
            first_id(&retweeted, &["id_str", "id"])?
                .ok_or_else(|| missing("retweeted_status.id_str"))?,
        );
    }

    let extended_entities = match &extended {
        Some(extended) => extended.obj("entities")?,
        None => None,
    };
    let entities = match extended_entities {
        Some(entities) => Some(entities),
        None => tweet.obj("entities")?,
    };
    if let Some(entities) = &entities {
        post.hashtags = entities.strings_in("hashtags", "text")?;
        post.mentions = entities.strings_in("user_mentions", "screen_name")?;
        post.links = links(entities)?;
    }

    // Media: the fullest list available (extended entities list every photo).
    let mut media_lists = Vec::new();
    if let Some(extended) = &extended
        && let Some(more) = extended.obj("extended_entities")?
    {
        media_lists.push(more.array("media")?);
    }
    if let Some(more) = tweet.obj("extended_entities")? {
        media_lists.push(more.array("media")?);
    }
    if let Some(entities) = &entities {
        media_lists.push(entities.array("media")?);
    }
    post.media_count =
        media_lists.into_iter().find(|list| !list.is_empty()).map(media_len).unwrap_or(0);

    post.url = status_url(post.author_handle.as_deref(), &post.id);
    Ok(post)
}

/// The id of a v1.1 stream delete notice (`{"delete": {"status": {"id_str": ...}}}`).
fn delete_notice(value: &Value) -> FieldResult<String> {
    let notice = Obj::new(value, "")?;
    let delete = notice.obj("delete")?.ok_or_else(|| missing("delete"))?;
    let status = delete.obj("status")?.ok_or_else(|| missing("delete.status"))?;
    first_id(&status, &["id_str", "id"])?.ok_or_else(|| missing("delete.status.id_str"))
}

/// The first id present among `keys`.
fn first_id(obj: &Obj<'_>, keys: &[&str]) -> FieldResult<Option<String>> {
    for key in keys {
        if let Some(id) = obj.id(key)? {
            return Ok(Some(id));
        }
    }
    Ok(None)
}

/// Links of an entities object: `expanded_url`, else `url`.
fn links(entities: &Obj<'_>) -> FieldResult<Vec<String>> {
    let mut found = Vec::new();
    for url in entities.objects("urls")? {
        let link = match url.text("expanded_url")? {
            Some(link) => Some(link),
            None => url.text("url")?,
        };
        if let Some(link) = link {
            push_unique(&mut found, link);
        }
    }
    Ok(found)
}

fn media_len(items: &[Value]) -> u32 {
    u32::try_from(items.len()).unwrap_or(u32::MAX)
}

/// `https://x.com/{handle}/status/{id}` when the handle is known.
fn status_url(handle: Option<&str>, id: &str) -> Option<String> {
    handle.map(|handle| format!("https://x.com/{handle}/status/{id}"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(doc: Value) -> Output {
        let mut out = Output::default();
        parse_document(&doc, None, &mut out);
        out
    }

    fn post(out: &Output, index: usize) -> &Post {
        match &out.records[index].record {
            Record::Post(post) => post,
            other => panic!("expected a post, found {other:?}"),
        }
    }

    #[test]
    fn v2_tweet_with_author_and_metrics() {
        let out = parse(json!({
            "data": [{
                "id": "1", "text": "hi &amp; bye #Tag @bob", "created_at": "2021-01-02T03:04:05.000Z",
                "author_id": "9", "lang": "qme", "conversation_id": "1",
                "public_metrics": {"like_count": 5, "retweet_count": 2, "reply_count": 1, "quote_count": 0},
                "referenced_tweets": [{"type": "replied_to", "id": "0"}, {"type": "quoted", "id": "7"}],
                "in_reply_to_user_id": "8",
                "entities": {"hashtags": [{"tag": "Tag"}], "mentions": [{"username": "bob"}],
                             "urls": [{"url": "https://t.co/x", "expanded_url": "https://example.com"}]},
                "attachments": {"media_keys": ["3_1", "3_2"]},
                "note_tweet": {"text": "the long text"}
            }],
            "includes": {"users": [{"id": "9", "username": "alice", "name": "Alice",
                                    "public_metrics": {"followers_count": 12}}]},
            "meta": {"result_count": 1}
        }));
        assert_eq!(out.records.len(), 1);
        assert!(out.rejected.is_empty());
        let post = post(&out, 0);
        assert_eq!(post.text, "the long text");
        assert_eq!(post.author_handle.as_deref(), Some("alice"));
        assert_eq!(post.author_followers, Some(12));
        assert_eq!(post.lang, None);
        assert_eq!(post.counts.likes, Some(5));
        assert_eq!(post.counts.quotes, Some(0));
        assert_eq!(post.counts.views, None);
        assert_eq!(post.reply_to.as_deref(), Some("0"));
        assert_eq!(post.quote_of.as_deref(), Some("7"));
        assert_eq!(post.reply_to_author.as_deref(), Some("8"));
        assert_eq!(post.hashtags, ["Tag"]);
        assert_eq!(post.mentions, ["bob"]);
        assert_eq!(post.links, ["https://example.com"]);
        assert_eq!(post.media_count, 2);
        assert_eq!(post.url.as_deref(), Some("https://x.com/alice/status/1"));
    }

    #[test]
    fn v2_wrong_types_are_rejected_with_their_field() {
        let out = parse(json!({"data": [
            {"id": "1", "text": "a", "created_at": "2021-01-02T03:04:05Z", "public_metrics": {"like_count": "many"}},
            {"id": "2", "text": "b", "created_at": "not a time"},
            {"text": "c", "created_at": "2021-01-02T03:04:05Z"},
            {"id": "4", "text": "d"},
            {"id": "5", "text": 5, "created_at": "2021-01-02T03:04:05Z"},
            {"id": "6", "text": "f", "created_at": "2021-01-02T03:04:05Z"}
        ]}));
        assert_eq!(out.records.len(), 1);
        let fields: Vec<_> = out.rejected.iter().map(|r| r.error.field.as_str()).collect();
        assert_eq!(fields, ["public_metrics.like_count", "created_at", "id", "created_at", "text"]);
        assert_eq!(out.rejected[0].error.reason, "expected an integer, found the string `many`");
        assert_eq!(out.rejected[3].error.reason, "missing");
        assert_eq!(out.rejected[4].error.reason, "expected a string, found a number");
        assert_eq!(out.rejected[1].position.pointer.as_deref(), Some("/data/1"));
    }

    #[test]
    fn v2_users_rules_errors_and_meta() {
        let out = parse(json!({
            "data": [{"id": "1", "username": "a", "name": "A", "public_metrics": {"followers_count": 3}},
                     {"id": "2", "value": "cats"}],
            "errors": [{"title": "Not Found Error"}],
            "meta": {"sent": "x"}
        }));
        assert_eq!(out.read(), 3);
        assert_eq!(
            out.records[0].record,
            Record::Account(Account {
                platform: "x".into(),
                handle: Some("a".into()),
                id: Some("1".into()),
                name: Some("A".into()),
                followers: Some(3)
            })
        );
        assert_eq!(out.records[1].record, Record::Other { kind: "x_rule".into() });
        assert_eq!(out.records[2].record, Record::Other { kind: "x_api_error".into() });
        assert_eq!(parse(json!({"meta": {"result_count": 0}})).read(), 0);
    }

    #[test]
    fn v1_retweet_and_quote_are_posts_too() {
        let out = parse(json!({
            "id_str": "10", "created_at": "Sun Oct 07 07:39:51 +0000 2012", "text": "RT @b: hi",
            "user": {"id_str": "1", "screen_name": "a", "name": "A", "followers_count": 4},
            "favorite_count": 0, "retweet_count": 3,
            "retweeted_status": {
                "id_str": "11", "created_at": "Sat Oct 06 07:39:51 +0000 2012", "text": "hi",
                "user": {"id_str": "2", "screen_name": "b"},
                "quoted_status_id_str": "12",
                "quoted_status": {"id_str": "12", "created_at": "Fri Oct 05 07:39:51 +0000 2012", "text": "q"}
            }
        }));
        assert_eq!(out.records.len(), 3);
        assert_eq!(post(&out, 0).repost_of.as_deref(), Some("11"));
        assert_eq!(post(&out, 0).counts.replies, None);
        assert_eq!(post(&out, 0).author_followers, Some(4));
        assert_eq!(post(&out, 1).quote_of.as_deref(), Some("12"));
        assert_eq!(
            out.records[2].position.pointer.as_deref(),
            Some("/retweeted_status/quoted_status")
        );
        assert_eq!(post(&out, 2).url, None);
    }

    #[test]
    fn v1_bad_nested_status_does_not_stop_the_outer_one() {
        let out = parse(json!([
            {"id_str": "10", "created_at": "Sun Oct 07 07:39:51 +0000 2012", "text": "a",
             "quoted_status_id_str": "11",
             "quoted_status": {"id_str": "11", "created_at": "garbage"}},
            {"id_str": "12", "created_at": "Sun Oct 07 07:39:51 +0000 2012", "favorite_count": true},
            {"delete": {"status": {"id_str": "13"}}},
            17
        ]));
        assert_eq!(out.records.len(), 2);
        assert_eq!(out.rejected.len(), 3);
        assert_eq!(out.rejected[0].error.field, "created_at");
        assert_eq!(out.rejected[0].position.pointer.as_deref(), Some("/0/quoted_status"));
        assert_eq!(out.rejected[1].error.field, "favorite_count");
        assert_eq!(out.records[1].record, Record::Delete { platform: "x".into(), id: "13".into() });
        assert_eq!(out.rejected[2].error.field, "$");
    }

    #[test]
    fn archive_with_and_without_prefix() {
        let item = r#"{"tweet": {"id_str": "5", "created_at": "Sat Jun 27 16:34:46 +0000 2020",
            "full_text": "a &amp; b", "favorite_count": "2", "retweet_count": "0",
            "in_reply_to_status_id_str": "4", "in_reply_to_screen_name": "z"}}"#;
        for text in [format!("window.YTD.tweet.part0 = [{item}]\n"), format!("[{item}]")] {
            let mut out = Output::default();
            parse_archive(&text, &mut out);
            assert_eq!(out.records.len(), 1, "{text}");
            let post = post(&out, 0);
            assert_eq!(post.text, "a & b");
            assert_eq!(post.counts.likes, Some(2));
            assert_eq!(post.counts.shares, Some(0));
            assert_eq!(post.counts.replies, None);
            assert_eq!(post.reply_to.as_deref(), Some("4"));
            assert_eq!(post.reply_to_author.as_deref(), Some("z"));
            assert_eq!(post.author_handle, None);
            assert_eq!(out.records[0].position.pointer.as_deref(), Some("/0/tweet"));
        }
        let mut out = Output::default();
        parse_archive("window.YTD.tweet.part0 = [ {", &mut out);
        assert_eq!(out.rejected.len(), 1);
        assert!(out.rejected[0].error.reason.starts_with("invalid json"));
        let mut out = Output::default();
        parse_archive(
            r#"[{"tweet": {"id_str": "5", "created_at": "Sat Jun 27 16:34:46 +0000 2020", "favorite_count": "-"}}]"#,
            &mut out,
        );
        assert_eq!(out.rejected[0].error.field, "favorite_count");
    }

    #[test]
    fn scalars_are_rejected() {
        let out = parse(json!("hello"));
        assert_eq!(out.rejected.len(), 1);
        assert_eq!(out.rejected[0].error.reason, "expected an object, found a string");
        let out = parse(json!({"hello": 1}));
        assert_eq!(out.rejected[0].error.reason, "not a recognised x payload");
    }
}
