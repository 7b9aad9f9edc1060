//! Reddit API JSON: a Listing, a thread (a JSON array of two Listings: the post, then the
//! comment tree), a `/api/morechildren` response, or a single thing.
//!
//! Posts (`t3`) and comments (`t1`, with their nested `replies`) are posts identified by their
//! fullname (`t3_abc`); `more` stubs, messages (`t4`), subreddits (`t5`) and anything else are
//! `Other` records; users (`t2`) are accounts. Reddit escapes `&`, `<` and `>` in titles and
//! bodies; they are decoded.

use serde_json::{Map, Value};
use waterline_model::{Account, Post, Record, platform};

use crate::formats::json::{
    FieldResult, Obj, Sink, TimeFormat, child, decode_entities, expected, missing, push_unique,
};
use crate::output::Output;

/// Parses one document (a whole file or one JSON line).
pub fn parse_document(doc: &Value, line: Option<u64>, out: &mut Output) {
    Parser { sink: Sink::new(line, out) }.value(doc, "");
}

struct Parser<'o> {
    sink: Sink<'o>,
}

impl Parser<'_> {
    /// A document or an item of an array: a thing, a Listing, an array of them, or a
    /// morechildren response.
    fn value(&mut self, value: &Value, pointer: &str) {
        match value {
            Value::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    self.value(item, &child(pointer, index));
                }
            }
            Value::Object(map) if !map.contains_key("kind") && map.contains_key("json") => {
                self.more_children(map, pointer, value);
            }
            _ => self.thing(value, pointer),
        }
    }

    /// A `/api/morechildren` response: `{"json": {"errors": [...], "data": {"things": [...]}}}`.
    fn more_children(&mut self, map: &Map<String, Value>, pointer: &str, value: &Value) {
        let json_pointer = child(pointer, "json");
        let Some(Value::Object(json)) = map.get("json") else {
            let found = map.get("json").unwrap_or(&Value::Null);
            self.sink.reject(&json_pointer, expected("json", "an object", found), value);
            return;
        };
        if let Some(Value::Array(errors)) = json.get("errors") {
            for index in 0..errors.len() {
                self.sink.other(&child(&child(&json_pointer, "errors"), index), "reddit_api_error");
            }
        }
        let data_pointer = child(&json_pointer, "data");
        match json.get("data").map(|data| data.get("things")) {
            None | Some(None) => {}
            Some(Some(Value::Array(things))) => {
                let things_pointer = child(&data_pointer, "things");
                for (index, thing) in things.iter().enumerate() {
                    self.thing(thing, &child(&things_pointer, index));
                }
            }
            Some(Some(other)) => {
                self.sink.reject(
                    &child(&data_pointer, "things"),
                    expected("json.data.things", "an array", other),
                    other,
                );
            }
        }
    }

    /// One thing (`{"kind": ..., "data": {...}}`), or a Listing of them.
    fn thing(&mut self, value: &Value, pointer: &str) {
        let thing = match Obj::new(value, "") {
            Ok(thing) => thing,
            Err(error) => return self.sink.reject(pointer, error, value),
        };
        let kind = match thing.req_str("kind") {
            Ok(kind) => kind,
            Err(error) => return self.sink.reject(pointer, error, value),
        };
        let data_pointer = child(pointer, "data");
        match kind {
            "Listing" => self.listing(value, pointer),
            "t3" => match submission(&thing) {
                Ok(post) => self.sink.push(pointer, Record::Post(Box::new(post))),
                Err(error) => self.sink.reject(pointer, error, value),
            },
            "t1" => {
                match comment(&thing) {
                    Ok(post) => self.sink.push(pointer, Record::Post(Box::new(post))),
                    Err(error) => self.sink.reject(pointer, error, value),
                }
                // The replies are records of their own, read even when their parent is not.
                if let Some(replies) = value.get("data").and_then(|data| data.get("replies"))
                    && replies.is_object()
                {
                    self.listing(replies, &child(&data_pointer, "replies"));
                }
            }
            "t2" => match user(&thing) {
                Ok(account) => self.sink.push(pointer, Record::Account(account)),
                Err(error) => self.sink.reject(pointer, error, value),
            },
            "more" => self.sink.other(pointer, "reddit_more"),
            "t4" => self.sink.other(pointer, "reddit_message"),
            "t5" => self.sink.other(pointer, "reddit_subreddit"),
            "t6" => self.sink.other(pointer, "reddit_award"),
            _ => self.sink.other(pointer, "reddit_other"),
        }
    }

    /// A Listing: every child of `data.children` is a thing.
    fn listing(&mut self, value: &Value, pointer: &str) {
        let children = Obj::new(value, "")
            .and_then(|listing| listing.obj("data")?.ok_or_else(|| missing("data")))
            .and_then(|data| {
                data.get("children").ok_or_else(|| missing("data.children"))?;
                data.array("children")
            });
        match children {
            Ok(children) => {
                let children_pointer = child(&child(pointer, "data"), "children");
                for (index, thing) in children.iter().enumerate() {
                    self.thing(thing, &child(&children_pointer, index));
                }
            }
            Err(error) => self.sink.reject(pointer, error, value),
        }
    }
}

/// The `data` of a thing.
fn data<'a>(thing: &Obj<'a>) -> FieldResult<Obj<'a>> {
    thing.obj("data")?.ok_or_else(|| missing("data"))
}

/// The fullname of a thing: `data.name`, else `{prefix}_{data.id}`.
fn fullname(data: &Obj<'_>, prefix: &str) -> FieldResult<String> {
    if let Some(name) = data.id("name")? {
        return Ok(name);
    }
    match data.id("id")? {
        Some(id) => Ok(format!("{prefix}_{id}")),
        None => Err(missing(&data.field("name"))),
    }
}

/// The author's handle, unless the account is gone (`[deleted]`).
fn author(data: &Obj<'_>) -> FieldResult<Option<String>> {
    Ok(data.text("author")?.filter(|author| *author != "[deleted]").map(str::to_owned))
}

/// `https://www.reddit.com` + the thing's permalink.
fn permalink(data: &Obj<'_>) -> FieldResult<Option<String>> {
    Ok(data.text("permalink")?.map(|path| {
        if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("https://www.reddit.com{path}")
        }
    }))
}

/// A post (`t3`).
fn submission(thing: &Obj<'_>) -> FieldResult<Post> {
    let data = data(thing)?;
    let id = fullname(&data, "t3")?;
    let created_at = data.req_time("created_utc", TimeFormat::EpochSeconds)?;
    let mut post = Post::new(platform::REDDIT, id, created_at);
    post.author_handle = author(&data)?;
    post.author_id = data.id("author_fullname")?;
    let title = decode_entities(data.str("title")?.unwrap_or_default());
    let selftext = decode_entities(data.str("selftext")?.unwrap_or_default());
    post.text = if selftext.trim().is_empty() { title } else { format!("{title}\n\n{selftext}") };
    post.url = permalink(&data)?;
    post.conversation_id = Some(post.id.clone());
    post.counts.likes = data.count_clamped("score")?;
    post.counts.replies = data.count("num_comments")?;
    let is_video = data.bool("is_video")?.unwrap_or(false);
    let is_image = data.str("post_hint")? == Some("image");
    post.media_count = u32::from(is_video || is_image);
    if !data.bool("is_self")?.unwrap_or(false)
        && let Some(link) = data.text("url")?
    {
        push_unique(&mut post.links, decode_entities(link));
    }
    Ok(post)
}

/// A comment (`t1`).
fn comment(thing: &Obj<'_>) -> FieldResult<Post> {
    let data = data(thing)?;
    let id = fullname(&data, "t1")?;
    let created_at = data.req_time("created_utc", TimeFormat::EpochSeconds)?;
    let mut post = Post::new(platform::REDDIT, id, created_at);
    post.author_handle = author(&data)?;
    post.author_id = data.id("author_fullname")?;
    post.text = decode_entities(data.str("body")?.unwrap_or_default());
    post.url = permalink(&data)?;
    post.reply_to = data.id("parent_id")?;
    post.conversation_id = data.id("link_id")?;
    post.counts.likes = data.count_clamped("score")?;
    // `replies` is a Listing, or "" when there are none.
    match data.get("replies") {
        None | Some(Value::String(_)) | Some(Value::Object(_)) => {}
        Some(other) => return Err(expected(&data.field("replies"), "a listing", other)),
    }
    Ok(post)
}

/// A user (`t2`).
fn user(thing: &Obj<'_>) -> FieldResult<Account> {
    let data = data(thing)?;
    Ok(Account {
        platform: platform::REDDIT.to_owned(),
        handle: data.text("name")?.map(str::to_owned),
        id: data.id("id")?.map(|id| if id.starts_with("t2_") { id } else { format!("t2_{id}") }),
        name: None,
        followers: None,
    })
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

    fn comment_thing(id: &str, parent: &str, replies: Value) -> Value {
        json!({"kind": "t1", "data": {
            "name": format!("t1_{id}"), "id": id, "author": "bob", "author_fullname": "t2_b",
            "created_utc": 1366045997.0, "body": "a &gt; b", "score": -3,
            "parent_id": parent, "link_id": "t3_p", "replies": replies,
            "permalink": format!("/r/x/comments/p/t/{id}/")
        }})
    }

    fn listing(children: Value) -> Value {
        json!({"kind": "Listing", "data": {"children": children}})
    }

    #[test]
    fn thread_with_nested_replies_and_more_stubs() {
        let post_listing = listing(json!([{"kind": "t3", "data": {
            "name": "t3_p", "author": "alice", "created_utc": 1366044279, "title": "Title &amp; more",
            "selftext": "", "score": 10, "num_comments": 4, "permalink": "/r/x/comments/p/t/",
            "url": "https://i.example/a.jpg", "is_self": false, "post_hint": "image"
        }}]));
        let deep = comment_thing("c3", "t1_c2", json!(""));
        let more = json!({"kind": "more", "data": {"count": 2, "name": "t1_m", "parent_id": "t1_c1", "children": ["m1", "m2"]}});
        let middle = comment_thing("c2", "t1_c1", listing(json!([deep, more])));
        let top = comment_thing("c1", "t3_p", listing(json!([middle])));
        let out = parse(json!([post_listing, listing(json!([top]))]));
        assert!(out.rejected.is_empty());
        assert_eq!(out.records.len(), 5);
        let submission = post(&out, 0);
        assert_eq!(submission.text, "Title & more");
        assert_eq!(submission.conversation_id.as_deref(), Some("t3_p"));
        assert_eq!(submission.links, ["https://i.example/a.jpg"]);
        assert_eq!(submission.media_count, 1);
        assert_eq!(submission.counts.likes, Some(10));
        assert_eq!(submission.counts.replies, Some(4));
        assert_eq!(submission.url.as_deref(), Some("https://www.reddit.com/r/x/comments/p/t/"));
        let c3 = post(&out, 3);
        assert_eq!(c3.id, "t1_c3");
        assert_eq!(c3.reply_to.as_deref(), Some("t1_c2"));
        assert_eq!(c3.conversation_id.as_deref(), Some("t3_p"));
        assert_eq!(c3.text, "a > b");
        assert_eq!(c3.counts.likes, Some(0));
        assert_eq!(c3.counts.replies, None);
        assert_eq!(
            out.records[3].position.pointer.as_deref(),
            Some("/1/data/children/0/data/replies/data/children/0/data/replies/data/children/0")
        );
        assert_eq!(out.records[4].record, Record::Other { kind: "reddit_more".into() });
    }

    #[test]
    fn bad_comment_keeps_its_replies() {
        let mut top =
            comment_thing("c1", "t3_p", listing(json!([comment_thing("c2", "t1_c1", json!(""))])));
        top["data"]["created_utc"] = json!("yesterday");
        let mut wrong = comment_thing("c3", "t3_p", json!(""));
        wrong["data"]["score"] = json!("high");
        let mut nameless = comment_thing("c4", "t3_p", json!(""));
        nameless["data"].as_object_mut().unwrap().remove("name");
        nameless["data"].as_object_mut().unwrap().remove("id");
        let out = parse(listing(json!([top, wrong, nameless, {"data": {}}, 5])));
        assert_eq!(out.records.len(), 1);
        assert_eq!(post(&out, 0).id, "t1_c2");
        let errors: Vec<_> = out
            .rejected
            .iter()
            .map(|r| (r.error.field.as_str(), r.error.reason.as_str()))
            .collect();
        assert_eq!(
            errors,
            [
                ("data.created_utc", "invalid timestamp `yesterday`"),
                ("data.score", "expected an integer, found the string `high`"),
                ("data.name", "missing"),
                ("kind", "missing"),
                ("$", "expected an object, found a number"),
            ]
        );
    }

    #[test]
    fn other_things_and_more_children() {
        let out = parse(json!({"json": {"errors": [], "data": {"things": [
            comment_thing("c1", "t3_p", json!("")),
            {"kind": "more", "data": {"children": []}},
            {"kind": "t2", "data": {"id": "abc", "name": "someone"}},
            {"kind": "t4", "data": {}},
            {"kind": "t5", "data": {}},
            {"kind": "LabeledMulti", "data": {}}
        ]}}}));
        assert_eq!(out.read(), 6);
        assert!(out.rejected.is_empty());
        assert_eq!(
            out.records[2].record,
            Record::Account(Account {
                platform: "reddit".into(),
                handle: Some("someone".into()),
                id: Some("t2_abc".into()),
                name: None,
                followers: None
            })
        );
        let kinds: Vec<_> = out.records[3..]
            .iter()
            .map(|r| match &r.record {
                Record::Other { kind } => kind.as_str(),
                _ => "",
            })
            .collect();
        assert_eq!(kinds, ["reddit_message", "reddit_subreddit", "reddit_other"]);
        assert_eq!(out.records[0].position.pointer.as_deref(), Some("/json/data/things/0"));
    }
}
