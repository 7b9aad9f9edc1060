//! Bluesky Jetstream events, one JSON object per line (a JSON array of events is accepted too).
//!
//! Commits of `app.bsky.feed.post` (create or update) are posts identified by their `at://`
//! URI, and their deletion is a delete record; likes and reposts are engagement events (their
//! deletion undoes them); every other event (follows, blocks, profiles, identity and account
//! events, other collections) is an `Other` record named after its collection.

use chrono::{DateTime, Utc};
use serde_json::Value;
use waterline_model::{EngagementEvent, EngagementKind, Post, Record, platform};

use crate::formats::json::{
    FieldResult, Obj, TimeFormat, child, clean_lang, expected, from_epoch_micros, missing,
    position, push_unique, raw,
};
use crate::output::{FieldError, Output};

const POST: &str = "app.bsky.feed.post";
const LIKE: &str = "app.bsky.feed.like";
const REPOST: &str = "app.bsky.feed.repost";

/// Parses one document: a Jetstream event (one JSON line), or a JSON array of events.
pub fn parse_document(doc: &Value, line: Option<u64>, out: &mut Output) {
    match doc {
        Value::Array(events) => {
            for (index, event) in events.iter().enumerate() {
                parse_event(event, line, &child("", index), out);
            }
        }
        _ => parse_event(doc, line, "", out),
    }
}

fn parse_event(doc: &Value, line: Option<u64>, pointer: &str, out: &mut Output) {
    match event(doc) {
        Ok(record) => out.push(position(line, pointer), record),
        Err(error) => out.reject(position(line, pointer), error, &raw(doc)),
    }
}

/// One event as a record.
fn event(doc: &Value) -> FieldResult<Record> {
    let event = Obj::new(doc, "")?;
    let kind = match event.req_str("kind")? {
        "commit" => return commit(&event),
        "identity" => "bluesky_identity",
        "account" => "bluesky_account",
        _ => "bluesky_other",
    };
    Ok(Record::Other { kind: kind.to_owned() })
}

/// A commit event.
fn commit(event: &Obj<'_>) -> FieldResult<Record> {
    let did = event.req_str("did")?;
    let time = time_us(event)?;
    let commit = event.obj("commit")?.ok_or_else(|| missing("commit"))?;
    let operation = commit.req_str("operation")?;
    let collection = commit.req_str("collection")?;
    let rkey = commit.req_str("rkey")?;
    let uri = format!("at://{did}/{collection}/{rkey}");
    let engagement = match collection {
        LIKE => Some(EngagementKind::Like),
        REPOST => Some(EngagementKind::Repost),
        _ => None,
    };
    match (collection, operation, engagement) {
        (POST, "create" | "update", _) => {
            let record = commit.obj("record")?.ok_or_else(|| missing("commit.record"))?;
            post(&record, did, rkey, uri, time).map(|post| Record::Post(Box::new(post)))
        }
        (POST, "delete", _) => {
            Ok(Record::Delete { platform: platform::BLUESKY.to_owned(), id: uri })
        }
        (_, "create", Some(kind)) => {
            let record = commit.obj("record")?.ok_or_else(|| missing("commit.record"))?;
            let subject = record.obj("subject")?.ok_or_else(|| missing("commit.record.subject"))?;
            let subject_id = subject.req_str("uri")?.to_owned();
            // The client's `createdAt` when it is readable, else when the network saw it.
            let at = match (record.time("createdAt", TimeFormat::Rfc3339), time) {
                (Ok(Some(at)), _) => at,
                (Ok(None), Some(time)) | (Err(_), Some(time)) => time,
                (Ok(None), None) => return Err(missing("commit.record.createdAt")),
                (Err(error), None) => return Err(error),
            };
            Ok(Record::Engagement(EngagementEvent {
                platform: platform::BLUESKY.to_owned(),
                event_id: uri,
                subject_id: Some(subject_id),
                kind,
                actor: Some(did.to_owned()),
                at,
                undo: false,
            }))
        }
        (_, "delete", Some(kind)) => Ok(Record::Engagement(EngagementEvent {
            platform: platform::BLUESKY.to_owned(),
            event_id: uri,
            subject_id: None,
            kind,
            actor: Some(did.to_owned()),
            at: time.ok_or_else(|| missing("time_us"))?,
            undo: true,
        })),
        _ => Ok(Record::Other { kind: other_kind(collection) }),
    }
}

/// `time_us`, microseconds since the epoch, when present.
fn time_us(event: &Obj<'_>) -> FieldResult<Option<DateTime<Utc>>> {
    match event.get("time_us") {
        None => Ok(None),
        Some(Value::Number(number)) => number
            .as_i64()
            .and_then(from_epoch_micros)
            .map(Some)
            .ok_or_else(|| FieldError::new("time_us", format!("invalid timestamp `{number}`"))),
        Some(other) => Err(expected("time_us", "a number", other)),
    }
}

/// `bluesky_follow` for `app.bsky.graph.follow`, `bluesky_other` outside `app.bsky`.
fn other_kind(collection: &str) -> String {
    match collection.strip_prefix("app.bsky.") {
        Some(rest) => {
            let name = rest.rsplit('.').next().unwrap_or(rest);
            format!("bluesky_{}", name.to_ascii_lowercase())
        }
        None => "bluesky_other".to_owned(),
    }
}

/// A post record.
fn post(
    record: &Obj<'_>,
    did: &str,
    rkey: &str,
    uri: String,
    time: Option<DateTime<Utc>>,
) -> FieldResult<Post> {
    let created_at = record.req_time("createdAt", TimeFormat::Rfc3339)?;
    let mut post = Post::new(platform::BLUESKY, uri, created_at);
    post.author_id = Some(did.to_owned());
    post.text = record.str("text")?.unwrap_or_default().to_owned();
    post.url = Some(format!("https://bsky.app/profile/{did}/post/{rkey}"));
    post.observed_at = time;
    if let Some(first) = record.array("langs")?.first() {
        match first {
            Value::String(lang) => post.lang = clean_lang(lang),
            other => {
                return Err(expected(&format!("{}[0]", record.field("langs")), "a string", other));
            }
        }
    }

    if let Some(reply) = record.obj("reply")? {
        if let Some(parent) = reply.obj("parent")? {
            post.reply_to = Some(parent.req_str("uri")?.to_owned());
        }
        if let Some(root) = reply.obj("root")? {
            post.conversation_id = Some(root.req_str("uri")?.to_owned());
        }
    }
    if post.conversation_id.is_none() {
        post.conversation_id = Some(post.id.clone());
    }

    for facet in record.objects("facets")? {
        for feature in facet.objects("features")? {
            match feature.str("$type")? {
                Some("app.bsky.richtext.facet#tag") => {
                    push_unique(&mut post.hashtags, feature.req_str("tag")?);
                }
                Some("app.bsky.richtext.facet#mention") => {
                    push_unique(&mut post.mentions, feature.req_str("did")?);
                }
                Some("app.bsky.richtext.facet#link") => {
                    push_unique(&mut post.links, feature.req_str("uri")?);
                }
                _ => {}
            }
        }
    }

    if let Some(embed) = record.obj("embed")? {
        match embed.str("$type")? {
            Some("app.bsky.embed.record") => {
                if let Some(quoted) = embed.obj("record")? {
                    post.quote_of = quoted_post(&quoted)?;
                }
            }
            Some("app.bsky.embed.recordWithMedia") => {
                if let Some(outer) = embed.obj("record")?
                    && let Some(quoted) = outer.obj("record")?
                {
                    post.quote_of = quoted_post(&quoted)?;
                }
                if let Some(media) = embed.obj("media")? {
                    add_media(&mut post, &media)?;
                }
            }
            _ => add_media(&mut post, &embed)?,
        }
    }
    Ok(post)
}

/// The URI of a quoted record when it is a post (a record embed may also show a feed or a list).
fn quoted_post(reference: &Obj<'_>) -> FieldResult<Option<String>> {
    let uri = reference.req_str("uri")?;
    Ok(uri.contains(&format!("/{POST}/")).then(|| uri.to_owned()))
}

/// Counts images and videos of a media embed, and takes an external embed's link.
fn add_media(post: &mut Post, embed: &Obj<'_>) -> FieldResult<()> {
    match embed.str("$type")? {
        Some("app.bsky.embed.images") => {
            let images = u32::try_from(embed.array("images")?.len()).unwrap_or(u32::MAX);
            post.media_count = post.media_count.saturating_add(images);
        }
        Some("app.bsky.embed.video") => post.media_count = post.media_count.saturating_add(1),
        Some("app.bsky.embed.external") => {
            if let Some(external) = embed.obj("external")?
                && let Some(uri) = external.text("uri")?
            {
                push_unique(&mut post.links, uri);
            }
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(doc: Value) -> Output {
        let mut out = Output::default();
        parse_document(&doc, Some(3), &mut out);
        out
    }

    fn one(doc: Value) -> Record {
        let out = parse(doc);
        assert!(out.rejected.is_empty(), "{:?}", out.rejected);
        assert_eq!(out.records.len(), 1);
        out.records[0].record.clone()
    }

    fn post_event(operation: &str, record: Value) -> Value {
        json!({
            "did": "did:plc:abc", "time_us": 1725911162329308u64, "kind": "commit",
            "commit": {"rev": "r", "operation": operation, "collection": "app.bsky.feed.post",
                       "rkey": "3l3qo2vuowo2b", "record": record, "cid": "c"}
        })
    }

    #[test]
    fn post_update_is_a_post_with_everything() {
        // Jetstream's documented shape of an update of a post.
        let record = one(post_event(
            "update",
            json!({
                "$type": "app.bsky.feed.post", "createdAt": "2024-09-09T19:46:02.102Z",
                "langs": ["en"], "text": "edited #rust @bob.test example.com",
                "reply": {"parent": {"uri": "at://did:plc:p/app.bsky.feed.post/2"},
                          "root": {"uri": "at://did:plc:r/app.bsky.feed.post/1"}},
                "facets": [
                    {"features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "rust"}], "index": {}},
                    {"features": [{"$type": "app.bsky.richtext.facet#mention", "did": "did:plc:bob"}]},
                    {"features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://example.com"}]}
                ],
                "embed": {"$type": "app.bsky.embed.recordWithMedia",
                          "record": {"$type": "app.bsky.embed.record",
                                     "record": {"uri": "at://did:plc:q/app.bsky.feed.post/9", "cid": "c"}},
                          "media": {"$type": "app.bsky.embed.images", "images": [{}, {}]}}
            }),
        ));
        let Record::Post(post) = record else { panic!("expected a post") };
        assert_eq!(post.id, "at://did:plc:abc/app.bsky.feed.post/3l3qo2vuowo2b");
        assert_eq!(post.author_id.as_deref(), Some("did:plc:abc"));
        assert_eq!(
            post.url.as_deref(),
            Some("https://bsky.app/profile/did:plc:abc/post/3l3qo2vuowo2b")
        );
        assert_eq!(post.created_at.to_rfc3339(), "2024-09-09T19:46:02.102+00:00");
        assert_eq!(post.observed_at.unwrap().timestamp_micros(), 1725911162329308);
        assert_eq!(post.reply_to.as_deref(), Some("at://did:plc:p/app.bsky.feed.post/2"));
        assert_eq!(post.conversation_id.as_deref(), Some("at://did:plc:r/app.bsky.feed.post/1"));
        assert_eq!(post.quote_of.as_deref(), Some("at://did:plc:q/app.bsky.feed.post/9"));
        assert_eq!(post.hashtags, ["rust"]);
        assert_eq!(post.mentions, ["did:plc:bob"]);
        assert_eq!(post.links, ["https://example.com"]);
        assert_eq!(post.media_count, 2);
        assert_eq!(post.lang.as_deref(), Some("en"));
        assert!(post.counts.is_empty());
    }

    #[test]
    fn post_delete_is_a_delete() {
        // Jetstream's documented delete: no record, no cid.
        let record = one(json!({
            "did": "did:plc:abc", "time_us": 1725516666833633u64, "kind": "commit",
            "commit": {"rev": "r", "operation": "delete", "collection": "app.bsky.feed.post", "rkey": "3l3f6nzl3cv2s"}
        }));
        assert_eq!(
            record,
            Record::Delete {
                platform: "bluesky".into(),
                id: "at://did:plc:abc/app.bsky.feed.post/3l3f6nzl3cv2s".into()
            }
        );
    }

    #[test]
    fn like_create_and_delete() {
        let Record::Engagement(like) = one(json!({
            "did": "did:plc:me", "time_us": 1725911162329308u64, "kind": "commit",
            "commit": {"operation": "create", "collection": "app.bsky.feed.like", "rkey": "k",
                       "record": {"$type": "app.bsky.feed.like", "createdAt": "2024-09-09T19:46:02.102Z",
                                  "subject": {"cid": "c", "uri": "at://did:plc:x/app.bsky.feed.post/1"}}}
        })) else {
            panic!("expected an engagement")
        };
        assert_eq!(like.event_id, "at://did:plc:me/app.bsky.feed.like/k");
        assert_eq!(like.subject_id.as_deref(), Some("at://did:plc:x/app.bsky.feed.post/1"));
        assert_eq!(like.kind, EngagementKind::Like);
        assert_eq!(like.actor.as_deref(), Some("did:plc:me"));
        assert_eq!(like.at.to_rfc3339(), "2024-09-09T19:46:02.102+00:00");
        assert!(!like.undo);

        let Record::Engagement(unlike) = one(json!({
            "did": "did:plc:me", "time_us": 1725911162329308u64, "kind": "commit",
            "commit": {"rev": "r", "operation": "delete", "collection": "app.bsky.feed.like", "rkey": "k"}
        })) else {
            panic!("expected an engagement")
        };
        assert_eq!(unlike.event_id, like.event_id);
        assert_eq!(unlike.subject_id, None);
        assert!(unlike.undo);
        assert_eq!(unlike.at.timestamp_micros(), 1725911162329308);

        let Record::Engagement(repost) = one(json!({
            "did": "did:plc:me", "time_us": 1725911162329308u64, "kind": "commit",
            "commit": {"operation": "create", "collection": "app.bsky.feed.repost", "rkey": "r",
                       "record": {"createdAt": "garbage", "subject": {"uri": "at://did:plc:x/app.bsky.feed.post/1"}}}
        })) else {
            panic!("expected an engagement")
        };
        assert_eq!(repost.kind, EngagementKind::Repost);
        assert_eq!(repost.at.timestamp_micros(), 1725911162329308);
    }

    #[test]
    fn other_events() {
        let kinds: Vec<Record> = [
            json!({"did": "d", "time_us": 1, "kind": "identity", "identity": {"did": "d", "handle": "h", "seq": 1}}),
            json!({"did": "d", "time_us": 1, "kind": "account", "account": {"active": true, "did": "d", "seq": 2}}),
            json!({"did": "d", "time_us": 1, "kind": "commit",
                   "commit": {"operation": "delete", "collection": "app.bsky.graph.follow", "rkey": "k"}}),
            json!({"did": "d", "time_us": 1, "kind": "commit",
                   "commit": {"operation": "update", "collection": "app.bsky.actor.profile", "rkey": "self", "record": {}}}),
            json!({"did": "d", "time_us": 1, "kind": "commit",
                   "commit": {"operation": "update", "collection": "fm.teal.alpha.actor.status", "rkey": "self", "record": {}}}),
        ]
        .into_iter()
        .map(one)
        .collect();
        let names: Vec<_> = kinds
            .iter()
            .map(|record| match record {
                Record::Other { kind } => kind.as_str(),
                _ => "not other",
            })
            .collect();
        assert_eq!(
            names,
            [
                "bluesky_identity",
                "bluesky_account",
                "bluesky_follow",
                "bluesky_profile",
                "bluesky_other"
            ]
        );
    }

    #[test]
    fn bad_events_are_rejected() {
        let cases = [
            (
                post_event("create", json!({"text": "no time"})),
                "commit.record.createdAt",
                "missing",
            ),
            (
                post_event("create", json!({"text": "x", "createdAt": "soon"})),
                "commit.record.createdAt",
                "invalid timestamp `soon`",
            ),
            (
                post_event("create", json!({"text": 5, "createdAt": "2024-09-09T19:46:02Z"})),
                "commit.record.text",
                "expected a string, found a number",
            ),
            (
                post_event("create", json!({"langs": [1], "createdAt": "2024-09-09T19:46:02Z"})),
                "commit.record.langs[0]",
                "expected a string, found a number",
            ),
            (
                json!({"did": "d", "kind": "commit", "commit": {"operation": "delete", "collection": "app.bsky.feed.like", "rkey": "k"}}),
                "time_us",
                "missing",
            ),
            (
                json!({"did": "d", "time_us": "x", "kind": "commit", "commit": {}}),
                "time_us",
                "expected a number, found a string",
            ),
            (json!({"time_us": 1, "kind": "commit", "commit": {}}), "did", "missing"),
            (json!({"did": "d", "kind": 3}), "kind", "expected a string, found a number"),
            (json!("x"), "$", "expected an object, found a string"),
        ];
        for (doc, field, reason) in cases {
            let out = parse(doc);
            assert_eq!(out.rejected.len(), 1, "{field}");
            assert_eq!(out.rejected[0].error, FieldError::new(field, reason));
            assert_eq!(out.rejected[0].position, waterline_model::Position::line(3));
        }
    }
}
