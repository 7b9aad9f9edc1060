//! Conformance of the X, Mastodon, Bluesky and Reddit parsers against real payloads.
//!
//! The samples live outside the repository, in `shared/data/connector-payloads` next to the
//! workspace, and are read in place. When that folder is absent the tests print a notice and
//! pass, except on CI (`CI=true`), where a missing folder is a failure.

#![allow(clippy::unwrap_used, clippy::print_stderr, clippy::panic)]

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde_json::Value;
use waterline_ingest::{Output, formats};
use waterline_model::{Account, EngagementEvent, EngagementKind, Post, Record};

/// The sample folder `sub`, or `None` (with a notice) when the samples are absent.
fn samples(sub: &str) -> Option<PathBuf> {
    let root = manifest_dir().join("../../../shared/data/connector-payloads");
    if root.is_dir() {
        return Some(root.join(sub));
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("the connector payload samples are missing at {}", root.display());
    }
    eprintln!("notice: {} is absent; skipping the {sub} conformance test", root.display());
    None
}

fn read_json(path: &PathBuf) -> Value {
    serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap()
}

fn time(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
}

/// Parses a JSON-lines file with `parse`, one document per line.
fn parse_lines(path: &PathBuf, parse: fn(&Value, Option<u64>, &mut Output)) -> (Output, u64) {
    let mut out = Output::default();
    let mut lines = 0;
    for (index, line) in fs::read_to_string(path).unwrap().lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        lines += 1;
        parse(&serde_json::from_str(line).unwrap(), Some(index as u64 + 1), &mut out);
    }
    (out, lines)
}

fn parse_file(path: &PathBuf, parse: fn(&Value, Option<u64>, &mut Output)) -> Output {
    let mut out = Output::default();
    parse(&read_json(path), None, &mut out);
    out
}

fn posts(out: &Output) -> Vec<&Post> {
    out.records
        .iter()
        .filter_map(|located| match &located.record {
            Record::Post(post) => Some(post.as_ref()),
            _ => None,
        })
        .collect()
}

fn find<'a>(out: &'a Output, id: &str) -> &'a Post {
    posts(out).into_iter().find(|post| post.id == id).unwrap_or_else(|| panic!("no post {id}"))
}

fn accounts(out: &Output) -> Vec<&Account> {
    out.records
        .iter()
        .filter_map(|located| match &located.record {
            Record::Account(account) => Some(account),
            _ => None,
        })
        .collect()
}

fn engagements(out: &Output) -> Vec<&EngagementEvent> {
    out.records
        .iter()
        .filter_map(|located| match &located.record {
            Record::Engagement(event) => Some(event),
            _ => None,
        })
        .collect()
}

/// Records by kind: `post`, `delete`, `account`, `like`, `repost`, or the `Other` kind.
fn kinds(out: &Output) -> BTreeMap<String, usize> {
    let mut kinds = BTreeMap::new();
    for located in &out.records {
        let kind = match &located.record {
            Record::Post(_) => "post".to_owned(),
            Record::Delete { .. } => "delete".to_owned(),
            Record::Account(_) => "account".to_owned(),
            Record::Engagement(event) => match (event.kind, event.undo) {
                (EngagementKind::Like, false) => "like".to_owned(),
                (EngagementKind::Repost, false) => "repost".to_owned(),
                (kind, true) => format!("undo {kind:?}"),
            },
            Record::Other { kind } => kind.clone(),
        };
        *kinds.entry(kind).or_default() += 1;
    }
    kinds
}

fn counts(pairs: &[(&str, usize)]) -> BTreeMap<String, usize> {
    pairs.iter().map(|(kind, count)| ((*kind).to_owned(), *count)).collect()
}

/// Entities in a v2 response, counted independently of the parser: `data` items,
/// `includes.tweets`, `errors` items, or one error for a bare problem document.
fn v2_entities(doc: &Value) -> usize {
    let len = |value: Option<&Value>| match value {
        Some(Value::Array(items)) => items.len(),
        Some(Value::Object(_)) => 1,
        _ => 0,
    };
    let data = len(doc.get("data"));
    let tweets = len(doc.get("includes").and_then(|includes| includes.get("tweets")));
    let errors = len(doc.get("errors"));
    let problem = doc.get("data").is_none()
        && doc.get("errors").is_none()
        && (doc.get("title").is_some() || doc.get("message").is_some());
    data + tweets + errors + usize::from(problem)
}

#[test]
fn x_api_v2_postman_examples() {
    let Some(dir) = samples("x-api-v2-postman") else { return };
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .filter(|path| path.file_name().is_some_and(|name| name != "_index.json"))
        .collect();
    files.sort();
    assert!(files.len() >= 60, "{} files", files.len());
    let mut total = BTreeMap::new();
    for path in &files {
        let doc = read_json(path);
        let mut out = Output::default();
        formats::x::parse_document(&doc, None, &mut out);
        assert_eq!(out.read() as usize, v2_entities(&doc), "{}", path.display());
        for (kind, count) in kinds(&out) {
            *total.entry(kind).or_insert(0) += count;
        }
        *total.entry("rejected".to_owned()).or_insert(0) += out.rejected.len();
    }
    eprintln!("x v2 totals: {total:?}");

    // Recent search with expansions: authors come from includes.users, includes.tweets are posts.
    let out =
        parse_file(&dir.join("Search_Tweets_Recent_search_1.json"), formats::x::parse_document);
    assert_eq!(kinds(&out), counts(&[("post", 7)]));
    assert!(out.rejected.is_empty());
    let reply = find(&out, "1276035977375477760");
    assert_eq!(reply.platform, "x");
    assert_eq!(reply.author_id.as_deref(), Some("63046977"));
    assert_eq!(reply.author_handle.as_deref(), Some("happycamper"));
    assert_eq!(reply.author_name.as_deref(), Some("Emily Waligoske 🏕"));
    assert_eq!(reply.created_at, time("2020-06-25T06:14:19Z"));
    assert!(reply.text.starts_with("@snowman Ooo, thanks"), "{}", reply.text);
    assert_eq!(reply.reply_to.as_deref(), Some("1275653067283759104"));
    assert_eq!(reply.reply_to_author.as_deref(), Some("17200003"));
    assert_eq!(reply.mentions, ["snowman"]);
    assert_eq!(reply.media_count, 1);
    assert_eq!(reply.lang.as_deref(), Some("en"));
    assert_eq!(reply.url.as_deref(), Some("https://x.com/happycamper/status/1276035977375477760"));
    assert!(reply.counts.is_empty(), "no public_metrics requested: counts unknown");
    assert_eq!(find(&out, "1275763727908798470").lang, None, "`und` is not a language");
    let included = find(&out, "1274086728471461889");
    assert_eq!(included.hashtags, ["fresh"]);
    assert_eq!(included.author_handle.as_deref(), Some("happycamper"));
    assert_eq!(out.records[4].position.pointer.as_deref(), Some("/includes/tweets/0"));

    // Multiple tweets with conversation ids and a thread of replies.
    let out =
        parse_file(&dir.join("Tweet_Lookup_Multiple_Tweets_4.json"), formats::x::parse_document);
    assert_eq!(kinds(&out), counts(&[("post", 58), ("x_api_error", 1)]));
    let first = find(&out, "20");
    assert_eq!(first.text, "just setting up my twttr");
    assert_eq!(first.author_id.as_deref(), Some("12"));
    assert_eq!(first.created_at, time("2006-03-21T20:50:14Z"));
    assert_eq!(first.conversation_id.as_deref(), Some("20"));
    let thread = find(&out, "1274087695145332736");
    assert_eq!(thread.reply_to.as_deref(), Some("1274087694105075714"));
    assert_eq!(thread.conversation_id.as_deref(), Some("1274087687469715457"));
    assert_eq!(thread.mentions, ["YoliZama"]);
    assert_eq!(thread.links, ["https://twitter.com/Twitter/status/1274087695145332736/photo/1"]);
    assert_eq!(thread.media_count, 1);

    // Search results with hashtags.
    let out =
        parse_file(&dir.join("Search_Tweets_Recent_search_0.json"), formats::x::parse_document);
    let retweet = find(&out, "1278020251041570816");
    assert_eq!(retweet.hashtags, ["TLOU2", "TheLastofUsPart2"]);
    assert!(
        retweet.text.starts_with("RT @CritterOfHabit: \"Puppies aren't so scary"),
        "{}",
        retweet.text
    );

    // A single tweet with an expanded link.
    let out = parse_file(&dir.join("Tweet_Lookup_Single_Tweet_0.json"), formats::x::parse_document);
    let single = find(&out, "1275828087666679809");
    assert_eq!(single.author_id.as_deref(), Some("2244994945"));
    assert_eq!(single.created_at, time("2020-06-24T16:28:14Z"));
    assert_eq!(
        single.links,
        [
            "https://blog.twitter.com/developer/en_us/topics/tips/2020/how-to-analyze-the-sentiment-of-your-own-tweets.html"
        ]
    );
    assert_eq!(single.url, None, "no author handle without includes.users");

    // Without created_at (no tweet.fields requested) a tweet is rejected, naming the field.
    let out = parse_file(&dir.join("Tweet_Lookup_Single_Tweet_4.json"), formats::x::parse_document);
    assert!(out.records.is_empty());
    assert_eq!(out.rejected.len(), 1);
    assert_eq!(out.rejected[0].error.field, "created_at");
    assert_eq!(out.rejected[0].error.reason, "missing");
    assert_eq!(out.rejected[0].position.pointer.as_deref(), Some("/data"));

    // User lookup: accounts; the pinned tweet in includes is a post by that user.
    let out = parse_file(&dir.join("User_Lookup_User_by_ID_0.json"), formats::x::parse_document);
    assert_eq!(kinds(&out), counts(&[("account", 1), ("post", 1)]));
    let account = accounts(&out)[0];
    assert_eq!(account.handle.as_deref(), Some("TwitterDev"));
    assert_eq!(account.id.as_deref(), Some("2244994945"));
    assert_eq!(account.name.as_deref(), Some("Twitter Dev"));
    assert_eq!(account.followers, None);
    let pinned = find(&out, "1255542774432063488");
    assert_eq!(pinned.author_handle.as_deref(), Some("TwitterDev"));
    assert_eq!(pinned.conversation_id.as_deref(), Some("1255542774432063488"));
    assert_eq!(pinned.created_at, time("2020-04-29T17:01:38Z"));

    let out = parse_file(&dir.join("User_Lookup_Users_by_ID_4.json"), formats::x::parse_document);
    assert_eq!(kinds(&out), counts(&[("account", 55), ("x_api_error", 336)]));

    // Rules and spaces are other records; a meta-only response has no record.
    let out =
        parse_file(&dir.join("Filtered_Stream_Retrieve_Rules_0.json"), formats::x::parse_document);
    assert_eq!(kinds(&out), counts(&[("x_rule", 2)]));
    let out = parse_file(
        &dir.join("Spaces_Spaces_lookup_Spaces_lookup_by_single_ID_0.json"),
        formats::x::parse_document,
    );
    assert_eq!(kinds(&out), counts(&[("x_space", 1), ("x_api_error", 1)]));
    let out = parse_file(&dir.join("Filtered_Stream_Add_Rules_6.json"), formats::x::parse_document);
    assert_eq!(out.read(), 0);
    let out =
        parse_file(&dir.join("Filtered_Stream_Retrieve_Rules_2.json"), formats::x::parse_document);
    assert_eq!(kinds(&out), counts(&[("x_api_error", 1)]));
}

#[test]
fn x_v1_original_format() {
    let Some(dir) = samples("x-v1.1") else { return };
    let (out, lines) =
        parse_lines(&dir.join("original_format_examples.json"), formats::x::parse_document);
    assert_eq!(lines, 25);
    // 25 tweets, plus 3 retweeted and 8 quoted statuses embedded in them.
    assert_eq!(kinds(&out), counts(&[("post", 36)]));
    assert!(out.rejected.is_empty(), "{:?}", out.rejected);

    let regular = find(&out, "867468138991964160");
    assert_eq!(regular.text, "A) This is a regular old Tweet. 🐣");
    assert_eq!(regular.author_id.as_deref(), Some("815279070241955840"));
    assert_eq!(regular.author_handle.as_deref(), Some("RobotPrincessFi"));
    assert_eq!(regular.author_name.as_deref(), Some("jk no"));
    assert_eq!(regular.author_followers, Some(1));
    assert_eq!(regular.created_at, time("2017-05-24T19:51:35Z"));
    assert_eq!(
        regular.url.as_deref(),
        Some("https://x.com/RobotPrincessFi/status/867468138991964160")
    );
    assert_eq!(out.records.last().unwrap().position.line, Some(25));

    let quote = find(&out, "872836479608733696");
    assert_eq!(quote.quote_of.as_deref(), Some("872836379595620353"));
    assert_eq!(quote.hashtags, ["QuoteTweet", "hashtags"]);
    assert_eq!(quote.links, ["https://twitter.com/RobotPrincessFi/status/872836379595620353"]);
    assert_eq!(quote.created_at, time("2017-06-08T15:23:27Z"));

    let retweet = find(&out, "867478524235366400");
    assert_eq!(retweet.repost_of.as_deref(), Some("861651727614746624"));
    assert_eq!(retweet.counts.shares, Some(1));
    assert_eq!(retweet.counts.likes, Some(0));
    assert_eq!(retweet.counts.replies, Some(0));
    let original = find(&out, "861651727614746624");
    assert_eq!(original.author_handle.as_deref(), Some("notFromShrek"));
    assert_eq!(original.counts.likes, Some(2));
    assert_eq!(original.created_at, time("2017-05-08T18:39:15Z"));

    let reply = find(&out, "867473446648676352");
    assert_eq!(reply.reply_to.as_deref(), Some("863566329168711681"));
    assert_eq!(reply.reply_to_author.as_deref(), Some("notFromShrek"));
    assert_eq!(reply.mentions, ["notFromShrek", "ericmbudd"]);
    assert!(
        reply.text.contains("H) 140 chars + replies + media!"),
        "extended_tweet.full_text: {}",
        reply.text
    );

    let escaped = find(&out, "867472736871866368");
    assert!(escaped.text.contains("G) 140 chars & replies."), "{}", escaped.text);

    assert_eq!(find(&out, "867833721579122688").media_count, 2, "two photos in extended_entities");
    assert_eq!(find(&out, "867471067178090496").counts.likes, Some(1));
    assert_eq!(find(&out, "867471067178090496").mentions, ["notFromShrek", "Gnip", "Twitter"]);
}

#[test]
fn x_archive_tweet_js() {
    let Some(dir) = samples("x-archive-tweetjs") else { return };
    let mut out = Output::default();
    formats::x::parse_archive(&fs::read_to_string(dir.join("tweet.js")).unwrap(), &mut out);
    assert_eq!(kinds(&out), counts(&[("post", 2)]));
    assert!(out.rejected.is_empty());
    let first = find(&out, "254848497235398656");
    assert_eq!(first.created_at, time("2012-10-07T07:39:51Z"));
    assert!(first.text.starts_with("RT @nostrich: 2012 is about correcting the typo"));
    assert_eq!(first.mentions, ["nostrich"]);
    assert_eq!(first.counts.likes, Some(0));
    assert_eq!(first.counts.shares, Some(0));
    assert_eq!(first.counts.replies, None);
    assert_eq!(first.author_id, None);
    assert_eq!(first.author_handle, None);
    assert_eq!(first.url, None);
    let second = find(&out, "1276916896974110721");
    assert_eq!(second.counts.likes, Some(2), "string counts");
    assert_eq!(second.created_at, time("2020-06-27T16:34:46Z"));
    assert_eq!(second.mentions, ["syncthing"]);
    assert_eq!(second.lang.as_deref(), Some("en"));
    assert_eq!(out.records[1].position.pointer.as_deref(), Some("/1/tweet"));
}

#[test]
fn mastodon_api_doc_entities() {
    let Some(dir) = samples("mastodon-api-docs") else { return };
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    let mut total = BTreeMap::new();
    for path in &files {
        let out = parse_file(path, formats::mastodon::parse_document);
        // One entity per file.
        assert_eq!(out.read(), 1, "{}", path.display());
        assert!(out.rejected.is_empty(), "{}: {:?}", path.display(), out.rejected);
        let name = path.file_name().unwrap().to_str().unwrap();
        let kind = kinds(&out).into_keys().next().unwrap();
        let expected = match name.split('-').nth(1).unwrap() {
            "Status" => "post",
            "Account" => "account",
            "MediaAttachment" => "mastodon_media_attachment",
            "Poll" => "mastodon_poll",
            "PreviewCard" => "mastodon_preview_card",
            "Tag" => "mastodon_tag",
            other => panic!("unexpected sample {other}"),
        };
        assert_eq!(kind, expected, "{name}");
        *total.entry(kind).or_insert(0) += 1;
    }
    eprintln!("mastodon totals: {total:?}");

    let out = parse_file(&dir.join("entities-Status-01.json"), formats::mastodon::parse_document);
    let status = find(&out, "103270115826048975");
    assert_eq!(status.platform, "mastodon");
    assert_eq!(status.author_id.as_deref(), Some("1"));
    assert_eq!(status.author_handle.as_deref(), Some("Gargron"));
    assert_eq!(status.author_name.as_deref(), Some("Eugen"));
    assert_eq!(status.author_followers, Some(322930));
    assert_eq!(status.created_at, time("2019-12-08T03:48:33.901Z"));
    assert_eq!(
        status.text,
        "\"I lost my inheritance with one wrong digit on my sort code\"\n\n\
         https://www.theguardian.com/money/2019/dec/07/i-lost-my-193000-inheritance-with-one-wrong-digit-on-my-sort-code"
    );
    assert_eq!(status.lang.as_deref(), Some("en"));
    assert_eq!(status.url.as_deref(), Some("https://mastodon.social/@Gargron/103270115826048975"));
    assert_eq!(status.counts.likes, Some(11));
    assert_eq!(status.counts.shares, Some(6));
    assert_eq!(status.counts.replies, Some(5));
    assert_eq!(status.counts.quotes, Some(2));
    assert_eq!(status.counts.views, None);
    assert_eq!(
        status.links,
        [
            "https://www.theguardian.com/money/2019/dec/07/i-lost-my-193000-inheritance-with-one-wrong-digit-on-my-sort-code"
        ]
    );
    assert_eq!(status.reply_to, None);
    assert_eq!(status.media_count, 0);

    let out = parse_file(&dir.join("entities-Account-01.json"), formats::mastodon::parse_document);
    let account = accounts(&out)[0];
    assert_eq!(account.platform, "mastodon");
    assert_eq!(account.handle.as_deref(), Some("noiob@awoo.space"));
    assert_eq!(account.id.as_deref(), Some("23634"));
    assert_eq!(account.name.as_deref(), Some("ikea shark fan account"));
    assert_eq!(account.followers, Some(547));
    let out = parse_file(&dir.join("entities-Account-02.json"), formats::mastodon::parse_document);
    assert_eq!(accounts(&out)[0].followers, None, "unknown is not zero");

    // A timeline (an array of statuses) is one document too.
    let status = read_json(&dir.join("entities-Status-01.json"));
    let mut out = Output::default();
    formats::mastodon::parse_document(
        &Value::Array(vec![status.clone(), status]),
        Some(4),
        &mut out,
    );
    assert_eq!(kinds(&out), counts(&[("post", 2)]));
    assert_eq!(out.records[1].position.pointer.as_deref(), Some("/1"));
    assert_eq!(out.records[1].position.line, Some(4));
}

#[test]
fn bluesky_jetstream_events() {
    let Some(dir) = samples("bluesky-jetstream") else { return };
    let (out, lines) = parse_lines(&dir.join("events.jsonl"), formats::bluesky::parse_document);
    assert_eq!(lines, 76);
    assert_eq!(out.read(), 76, "one record per event");
    assert!(out.rejected.is_empty(), "{:?}", out.rejected);
    assert_eq!(
        kinds(&out),
        counts(&[
            ("post", 8),
            ("like", 54),
            ("repost", 8),
            ("bluesky_follow", 4),
            ("bluesky_block", 1),
            ("bluesky_other", 1),
        ])
    );

    let external =
        find(&out, "at://did:plc:dclwtltrt2ggsryagfzk7dp4/app.bsky.feed.post/3mptbyoeyc22k");
    assert_eq!(external.platform, "bluesky");
    assert_eq!(external.author_id.as_deref(), Some("did:plc:dclwtltrt2ggsryagfzk7dp4"));
    assert_eq!(external.created_at, time("2026-07-04T14:38:06.240Z"));
    assert_eq!(external.text, "www.youtube.com/watch?v=V5lD...");
    assert_eq!(external.lang.as_deref(), Some("en"));
    assert_eq!(external.links, ["https://www.youtube.com/watch?v=V5lDo-jw8mA"]);
    assert_eq!(external.conversation_id.as_deref(), Some(external.id.as_str()));
    assert_eq!(
        external.url.as_deref(),
        Some("https://bsky.app/profile/did:plc:dclwtltrt2ggsryagfzk7dp4/post/3mptbyoeyc22k")
    );
    assert_eq!(external.observed_at.unwrap().timestamp_micros(), 1783175888090631);
    assert!(external.counts.is_empty());
    assert_eq!(out.records[1].position.line, Some(2));

    let reply =
        find(&out, "at://did:plc:o2rolxey6s5k7d4lxcz3inl4/app.bsky.feed.post/3mptbyp7lu223");
    assert_eq!(reply.text, "이쁘시네용~~~");
    assert_eq!(reply.lang.as_deref(), Some("ko"));
    assert_eq!(
        reply.reply_to.as_deref(),
        Some("at://did:plc:i5y2f3gtpjxs3qg6fwgb6jb4/app.bsky.feed.post/3mpt7u2vlgs2c")
    );

    let deep = find(&out, "at://did:plc:u4lmvw4wwzaql3z5kcf3r7h4/app.bsky.feed.post/3mptbyoumc22i");
    assert_eq!(
        deep.reply_to.as_deref(),
        Some("at://did:plc:u4lmvw4wwzaql3z5kcf3r7h4/app.bsky.feed.post/3mptbyou7ls2i")
    );
    assert_eq!(
        deep.conversation_id.as_deref(),
        Some("at://did:plc:u4lmvw4wwzaql3z5kcf3r7h4/app.bsky.feed.post/3mptbyospqk2i")
    );

    let tags = find(&out, "at://did:plc:tn3hni2jpphsgl6amfbb7ja6/app.bsky.feed.post/3mptbypfywk2v");
    assert_eq!(tags.hashtags, ["HowToTellAiToShutUp", "IndieRebellion"]);
    assert_eq!(tags.lang.as_deref(), Some("de"));
    assert!(tags.text.starts_with("#HowToTellAiToShutUp!"));

    let like = engagements(&out)[0];
    assert_eq!(like.kind, EngagementKind::Like);
    assert_eq!(
        like.event_id,
        "at://did:plc:wq4aajammjtxdomz3e23667t/app.bsky.feed.like/3mptbyplj5d2a"
    );
    assert_eq!(
        like.subject_id.as_deref(),
        Some("at://did:plc:r2zybk6op3ymzpz6jhqpkoy5/app.bsky.feed.post/3mpsjbtci2c2o")
    );
    assert_eq!(like.actor.as_deref(), Some("did:plc:wq4aajammjtxdomz3e23667t"));
    assert_eq!(like.at, time("2026-07-04T14:38:08.999Z"));
    assert!(!like.undo);
    assert_eq!(out.records[0].position.line, Some(1));
    assert!(engagements(&out).iter().filter(|event| event.kind == EngagementKind::Repost).all(
        |event| { event.subject_id.as_deref().is_some_and(|subject| subject.starts_with("at://")) }
    ));
    // Line 12 is the deletion of a follow.
    assert_eq!(out.records[11].record, Record::Other { kind: "bluesky_follow".into() });
}

#[test]
fn reddit_api_responses() {
    let Some(dir) = samples("reddit-api") else { return };

    let out = parse_file(&dir.join("thread.json"), formats::reddit::parse_document);
    // 1 post, 199 nested comments and 125 `more` stubs.
    assert_eq!(kinds(&out), counts(&[("post", 200), ("reddit_more", 125)]));
    assert!(out.rejected.is_empty(), "{:?}", out.rejected);
    let post = find(&out, "t3_1cebxh");
    assert_eq!(post.platform, "reddit");
    assert_eq!(post.author_handle.as_deref(), Some("hglkgkjd"));
    assert_eq!(post.author_id, None);
    assert_eq!(post.created_at, time("2013-04-15T16:44:39Z"));
    assert!(post.text.starts_with(
        "my wife passed away eight months ago, yesterday I found a post-it note she'd hidden in my office.\n\nit feels like"
    ));
    assert_eq!(post.counts.likes, Some(5730));
    assert_eq!(post.counts.replies, Some(1655));
    assert_eq!(post.conversation_id.as_deref(), Some("t3_1cebxh"));
    assert_eq!(
        post.url.as_deref(),
        Some(
            "https://www.reddit.com/r/self/comments/1cebxh/my_wife_passed_away_eight_months_ago_yesterday_i/"
        )
    );
    assert!(post.links.is_empty(), "a self post links nowhere");
    let comment = find(&out, "t1_c9ftsjg");
    assert_eq!(comment.author_handle.as_deref(), Some("bacon_cake"));
    assert_eq!(comment.reply_to.as_deref(), Some("t3_1cebxh"));
    assert_eq!(comment.conversation_id.as_deref(), Some("t3_1cebxh"));
    assert_eq!(comment.counts.likes, Some(1058));
    assert_eq!(comment.created_at, time("2013-04-15T20:51:28Z"));
    assert!(comment.text.starts_with("Hey man,\n\nBecause of your post"));
    let nested = find(&out, "t1_c9fwx7a");
    assert_eq!(nested.reply_to.as_deref(), Some("t1_c9ftsjg"));
    assert_eq!(nested.author_handle.as_deref(), Some("hglkgkjd"));
    assert_eq!(nested.counts.likes, Some(505));
    assert!(nested.text.starts_with("this actually makes me really happy."));
    // Every comment but the top-level ones replies to another comment of the same thread.
    let ids: Vec<&str> = posts(&out).iter().map(|post| post.id.as_str()).collect();
    for comment in posts(&out).iter().filter(|post| post.id.starts_with("t1_")) {
        assert_eq!(comment.conversation_id.as_deref(), Some("t3_1cebxh"));
        assert!(ids.contains(&comment.reply_to.as_deref().unwrap()), "{}", comment.id);
    }

    let out = parse_file(&dir.join("more.json"), formats::reddit::parse_document);
    assert_eq!(kinds(&out), counts(&[("post", 50), ("reddit_more", 11)]));
    let first = find(&out, "t1_fvbhult");
    assert_eq!(first.author_handle.as_deref(), Some("BigBoyoBonito"));
    assert_eq!(first.author_id.as_deref(), Some("t2_3wz4oggk"));
    assert_eq!(first.text, "America is stupid, what else is new...");
    assert_eq!(first.reply_to.as_deref(), Some("t3_hbo4a7"));
    assert_eq!(first.counts.likes, Some(2));

    let out = parse_file(&dir.join("subreddit.json"), formats::reddit::parse_document);
    assert_eq!(kinds(&out), counts(&[("post", 27)]));
    let link = find(&out, "t3_58o5ub");
    assert_eq!(link.author_handle.as_deref(), Some("kalak55"));
    assert_eq!(link.links, ["https://bugzilla.mozilla.org/show_bug.cgi?id=1311713"]);
    assert_eq!(link.counts.likes, Some(307));
    assert_eq!(link.counts.replies, Some(28));
    assert!(link.text.starts_with("Comodo used broken OCR"));
    assert!(find(&out, "t3_552rz1").links.is_empty());

    let out = parse_file(&dir.join("user.json"), formats::reddit::parse_document);
    assert_eq!(kinds(&out), counts(&[("post", 25)]));
    let upload = find(&out, "t3_58t9kn");
    assert_eq!(
        upload.links,
        [
            "https://i.reddituploads.com/d2c2b73dd9f24c8b9001c6a7304d63fa?fit=max&h=1536&w=1536&s=149d2502db0d068fc27ae6b5276cfc56"
        ]
    );
    assert_eq!(find(&out, "t1_d930yil").text, "Dream Corp* haha");

    let out = parse_file(&dir.join("inbox.json"), formats::reddit::parse_document);
    assert_eq!(kinds(&out), counts(&[("post", 1), ("reddit_message", 4)]));
    let reply = find(&out, "t1_cwup4dd");
    assert_eq!(reply.created_at, time("2015-11-09T23:36:21Z"));
    assert_eq!(reply.counts.likes, None, "no score in the inbox");
}

/// The crate's folder: cargo's run-time variable first (a test binary reused by a build from
/// another clone keeps the compile-time path of that clone), else the compile-time one.
fn manifest_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(
        || std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")),
        std::path::PathBuf::from,
    )
}
