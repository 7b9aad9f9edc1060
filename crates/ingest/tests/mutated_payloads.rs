//! Property tests: every parser, fed real payloads from `shared/data` that proptest mutates,
//! answers with records and rejections, never a panic or a hang (issue 23, item 7).
//!
//! Two kinds of mutation:
//! - bytes (flip, cut, delete, duplicate, insert JSON-hostile tokens; optionally gzip and
//!   cut the compressed stream), read through [`waterline_ingest::open`] as an import reads a file,
//!   format detection included;
//! - structure (a node of the parsed document replaced by another type, an empty, huge,
//!   deeply nested or out-of-range value), handed straight to the format's parser.
//!
//! Each property runs `WATERLINE_PROPTEST_CASES` cases (256 by default), so CI spends a
//! bounded time here. The payloads are read in place; when `shared/data` is absent the tests
//! print a notice and pass, except on CI (`CI=true`), where that is a failure.

#![allow(clippy::unwrap_used, clippy::print_stderr, clippy::panic, clippy::expect_used)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::Value;
use waterline_ingest::{Format, Mapping, Output, formats, waterline};

/// At most this many chunks per input: more means the reader does not advance.
const MAX_CHUNKS: usize = 100_000;

fn data_root() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    if root.is_dir() {
        return Some(root);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("the real payloads are missing at {}", root.display());
    }
    eprintln!("notice: {} is absent; skipping the mutated-payload properties", root.display());
    None
}

fn cases() -> u32 {
    std::env::var("WATERLINE_PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256)
}

/// One real payload: its bytes (the first lines of a long JSON-lines or CSV file), and the
/// parser a structural mutation goes to.
struct Payload {
    name: String,
    bytes: Vec<u8>,
    parser: Parser,
}

#[derive(Clone, Copy, Debug)]
enum Parser {
    X,
    XArchive,
    Mastodon,
    Bluesky,
    Reddit,
    Waterline,
    Csv,
    /// Platforms without a dedicated parser yet (YouTube, Facebook, Instagram): detection
    /// must refuse or route them without a panic.
    Detect,
}

/// The first `lines` lines of `path` (whole files when `lines` is 0).
fn head(path: &Path, lines: usize) -> Vec<u8> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if lines == 0 {
        return bytes;
    }
    let mut end = 0;
    for _ in 0..lines {
        match bytes[end..].iter().position(|b| *b == b'\n') {
            Some(at) => end += at + 1,
            None => return bytes,
        }
    }
    bytes[..end].to_vec()
}

fn corpus() -> Option<&'static [Payload]> {
    static CORPUS: OnceLock<Option<Vec<Payload>>> = OnceLock::new();
    CORPUS
        .get_or_init(|| {
            let root = data_root()?;
            let payloads = root.join("connector-payloads");
            let twarc = "x-api-v2-captures/twarc-csv/test-data";
            let mut list: Vec<(String, usize, Parser)> = vec![
                (format!("{twarc}/kpop.jsonl"), 3, Parser::X),
                (format!("{twarc}/edited.jsonl"), 0, Parser::X),
                (format!("{twarc}/quoted_edit.jsonl"), 0, Parser::X),
                (format!("{twarc}/media_tweet.jsonl"), 0, Parser::X),
                (format!("{twarc}/geo_tweets.jsonl"), 0, Parser::X),
                (format!("{twarc}/users.jsonl"), 2, Parser::X),
                (format!("{twarc}/counts.jsonl"), 2, Parser::X),
                ("x-api-v2-postman/Tweet_Lookup_Single_Tweet_0.json".into(), 0, Parser::X),
                ("x-v1.1/original_format_examples.json".into(), 0, Parser::X),
                ("x-archive-tweetjs/tweet.js".into(), 0, Parser::XArchive),
                ("bluesky-jetstream/events.jsonl".into(), 40, Parser::Bluesky),
                ("reddit-api/inbox.json".into(), 0, Parser::Reddit),
                ("reddit-api/user.json".into(), 0, Parser::Reddit),
                ("reddit-api/subreddit.json".into(), 0, Parser::Reddit),
                ("youtube-data-api/videos/videos_info_multi.json".into(), 0, Parser::Detect),
                (
                    "facebook-graph/facebook/apidata/posts/multi_posts_data.json".into(),
                    0,
                    Parser::Detect,
                ),
                (
                    "instagram-graph/instagram/apidata/users/medias_p1.json".into(),
                    0,
                    Parser::Detect,
                ),
            ];
            // Every Mastodon entity the API documentation gives.
            let mut mastodon: Vec<PathBuf> = std::fs::read_dir(payloads.join("mastodon-api-docs"))
                .ok()?
                .filter_map(|entry| entry.ok().map(|e| e.path()))
                .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
                .collect();
            mastodon.sort();
            for path in mastodon {
                let name = format!("mastodon-api-docs/{}", path.file_name()?.to_string_lossy());
                list.push((name, 0, Parser::Mastodon));
            }
            let mut out: Vec<Payload> = list
                .into_iter()
                .map(|(name, lines, parser)| Payload {
                    bytes: head(&payloads.join(&name), lines),
                    name,
                    parser,
                })
                .collect();
            out.push(Payload {
                name: "engagement/freemobile-fr/free_tweet_export.csv".into(),
                bytes: head(&root.join("engagement/freemobile-fr/free_tweet_export.csv"), 40),
                parser: Parser::Csv,
            });
            out.push(Payload {
                name: "testdata/workspaces (Waterline JSON lines)".into(),
                bytes: waterline_lines(),
                parser: Parser::Waterline,
            });
            Some(out)
        })
        .as_deref()
}

/// A few lines of Waterline's own format (written here: the real corpora are in other
/// formats).
fn waterline_lines() -> Vec<u8> {
    let lines = [
        r#"{"platform":"x","id":"1","author_handle":"brand","created_at":"2026-03-02T09:00:00Z","text":"Nouveau traitement disponible","counts":{"likes":4,"shares":1},"lang":"fr"}"#,
        r#"{"platform":"mastodon","id":"2","author_handle":"a@example.org","created_at":"2026-03-02T10:00:00+01:00","text":"side effects since Monday","reply_to":"1"}"#,
        r#"{"platform":"bluesky","id":"3","author_handle":"b.bsky.social","created_at":"2026-03-03T08:00:00Z","text":"thanks!","quote_of":"1","counts":{"views":120}}"#,
    ];
    lines.join("\n").into_bytes()
}

fn mapping() -> &'static Mapping {
    static MAPPING: OnceLock<Mapping> = OnceLock::new();
    MAPPING.get_or_init(|| {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/mappings/freemobile.toml");
        Mapping::parse(&std::fs::read_to_string(path).unwrap()).unwrap()
    })
}

/// Tokens that break JSON, CSV, dates and numbers in interesting ways.
const HOSTILE: &[&str] = &[
    "\"",
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "null",
    "\n",
    "\r\n",
    "\\",
    "\\u0000",
    "\\ud800",
    "\u{0}",
    "\u{feff}",
    "\u{202e}",
    "\u{1F600}",
    "1e999",
    "-1",
    "-0",
    "NaN",
    "99999999999999999999999",
    "9223372036854775808",
    "\"created_at\":\"0000-00-00\"",
    "\"id\":null",
    "\"text\":{}",
    "\"data\":[]",
    "\u{fffd}",
    "é",
    ";",
    "\t",
    "\"\"",
    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
];

#[derive(Clone, Debug)]
enum ByteEdit {
    Flip(Index, u8),
    Cut(Index),
    Delete(Index, usize),
    Duplicate(Index, usize),
    Insert(Index, usize),
}

fn byte_edit() -> impl Strategy<Value = ByteEdit> {
    prop_oneof![
        3 => (any::<Index>(), any::<u8>()).prop_map(|(at, byte)| ByteEdit::Flip(at, byte)),
        1 => any::<Index>().prop_map(ByteEdit::Cut),
        2 => (any::<Index>(), 1usize..64).prop_map(|(at, len)| ByteEdit::Delete(at, len)),
        1 => (any::<Index>(), 1usize..256).prop_map(|(at, len)| ByteEdit::Duplicate(at, len)),
        3 => (any::<Index>(), 0..HOSTILE.len()).prop_map(|(at, token)| ByteEdit::Insert(at, token)),
    ]
}

fn apply_bytes(bytes: &mut Vec<u8>, edit: &ByteEdit) {
    if bytes.is_empty() {
        return;
    }
    match edit {
        ByteEdit::Flip(at, byte) => {
            let at = at.index(bytes.len());
            bytes[at] = *byte;
        }
        ByteEdit::Cut(at) => bytes.truncate(at.index(bytes.len())),
        ByteEdit::Delete(at, len) => {
            let at = at.index(bytes.len());
            let end = (at + len).min(bytes.len());
            bytes.drain(at..end);
        }
        ByteEdit::Duplicate(at, len) => {
            let at = at.index(bytes.len());
            let end = (at + len).min(bytes.len());
            let copy = bytes[at..end].to_vec();
            bytes.splice(at..at, copy);
        }
        ByteEdit::Insert(at, token) => {
            let at = at.index(bytes.len() + 1);
            bytes.splice(at..at, HOSTILE[*token].bytes());
        }
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// Reads `bytes` as an import does (format detected, or forced to CSV with the mapping),
/// and checks what comes out. Returns (records, rejected).
fn read_all(bytes: &[u8], csv: bool) -> (usize, usize) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("input");
    std::fs::write(&path, bytes).unwrap();
    let path = path.to_str().unwrap();
    let opened = if csv {
        waterline_ingest::open(path, Some(Format::Csv), Some(mapping()))
    } else {
        waterline_ingest::open(path, None, None)
    };
    // An input whose format cannot be told is refused as a whole, with a reason: fine.
    let Ok(mut input) = opened else { return (0, 0) };
    let (mut records, mut rejected) = (0, 0);
    for _ in 0..MAX_CHUNKS {
        match input.next_chunk(7) {
            Ok(Some(chunk)) => {
                check(&chunk);
                records += chunk.records.len();
                rejected += chunk.rejected.len();
            }
            // The rest of the input is unreadable; the error names it.
            Ok(None) | Err(_) => return (records, rejected),
        }
    }
    panic!("the reader did not reach the end of the input in {MAX_CHUNKS} chunks");
}

/// Every rejection names a field and a reason, and keeps a bounded excerpt.
fn check(out: &Output) {
    for rejection in &out.rejected {
        assert!(!rejection.error.field.is_empty(), "a rejection without a field: {rejection:?}");
        assert!(!rejection.error.reason.is_empty(), "a rejection without a reason: {rejection:?}");
        assert!(rejection.excerpt.chars().count() <= 201, "an unbounded excerpt");
    }
}

/// Structural mutations of a parsed document.
#[derive(Clone, Debug)]
enum Replacement {
    Null,
    Bool,
    Number(f64),
    Integer(i64),
    Text(usize),
    EmptyArray,
    EmptyObject,
    Nested(usize),
    Remove,
}

fn replacement() -> impl Strategy<Value = Replacement> {
    prop_oneof![
        Just(Replacement::Null),
        Just(Replacement::Bool),
        prop_oneof![Just(f64::MAX), Just(-1.0), Just(0.5), Just(1e300), Just(-0.0)]
            .prop_map(Replacement::Number),
        prop_oneof![Just(i64::MIN), Just(i64::MAX), Just(-1), Just(0), Just(253402300800)]
            .prop_map(Replacement::Integer),
        prop_oneof![Just(0usize), Just(1), Just(70_000)].prop_map(Replacement::Text),
        Just(Replacement::EmptyArray),
        Just(Replacement::EmptyObject),
        (1usize..200).prop_map(Replacement::Nested),
        Just(Replacement::Remove),
    ]
}

fn pointers(value: &Value, prefix: String, out: &mut Vec<String>) {
    if out.len() > 20_000 {
        return;
    }
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let pointer = format!("{prefix}/{}", key.replace('~', "~0").replace('/', "~1"));
                out.push(pointer.clone());
                pointers(child, pointer, out);
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                let pointer = format!("{prefix}/{index}");
                out.push(pointer.clone());
                pointers(child, pointer, out);
            }
        }
        _ => {}
    }
}

fn replace(document: &mut Value, pointer: &str, with: &Replacement) {
    let new = match with {
        Replacement::Null => Value::Null,
        Replacement::Bool => Value::Bool(true),
        Replacement::Number(n) => {
            serde_json::Number::from_f64(*n).map_or(Value::Null, Value::Number)
        }
        Replacement::Integer(n) => Value::from(*n),
        Replacement::Text(0) => Value::String(String::new()),
        Replacement::Text(1) => Value::String("\u{0}\u{202e}é\u{1F600}<script>".into()),
        Replacement::Text(len) => Value::String("ab\u{e9} ".repeat(len / 4)),
        Replacement::EmptyArray => Value::Array(Vec::new()),
        Replacement::EmptyObject => Value::Object(serde_json::Map::new()),
        Replacement::Nested(depth) => {
            let mut value = Value::Null;
            for _ in 0..*depth {
                value = Value::Array(vec![value]);
            }
            value
        }
        Replacement::Remove => {
            if let Some((parent, key)) = pointer.rsplit_once('/')
                && let Some(parent) = document.pointer_mut(parent)
            {
                match parent {
                    Value::Object(map) => {
                        map.remove(&key.replace("~1", "/").replace("~0", "~"));
                    }
                    Value::Array(items) => {
                        if let Ok(index) = key.parse::<usize>()
                            && index < items.len()
                        {
                            items.remove(index);
                        }
                    }
                    _ => {}
                }
            }
            return;
        }
    };
    if let Some(slot) = document.pointer_mut(pointer) {
        *slot = new;
    }
}

/// The JSON documents of a payload (one per line for JSON lines, else the whole file).
fn documents(payload: &Payload) -> Vec<Value> {
    let text = String::from_utf8_lossy(&payload.bytes);
    if let Ok(value) = serde_json::from_str::<Value>(&text) {
        return vec![value];
    }
    text.lines().filter_map(|line| serde_json::from_str(line).ok()).collect()
}

/// Hands a (mutated) document to the payload's parser.
fn parse(parser: Parser, document: &Value) -> Output {
    let mut out = Output::default();
    match parser {
        Parser::X => formats::x::parse_document(document, Some(1), &mut out),
        Parser::Mastodon => formats::mastodon::parse_document(document, Some(1), &mut out),
        Parser::Bluesky => formats::bluesky::parse_document(document, Some(1), &mut out),
        Parser::Reddit => formats::reddit::parse_document(document, Some(1), &mut out),
        Parser::XArchive => {
            let text = format!("window.YTD.tweets.part0 = {document}");
            formats::x::parse_archive(&text, &mut out);
        }
        Parser::Waterline => {
            if let Err(error) = waterline::parse_line(document.to_string().as_bytes()) {
                assert!(!error.field.is_empty() && !error.reason.is_empty(), "{error:?}");
            }
        }
        Parser::Csv | Parser::Detect => {
            // Detection only: whatever it routes to must not panic.
            if let Some(format) = waterline_ingest::detect::sniff_value(document) {
                let _ = format.name();
            }
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    /// Bytes mutated (and sometimes gzipped, then cut) never panic or hang the reader, and
    /// every rejection says where and why.
    #[test]
    fn mutated_bytes_of_real_payloads_are_records_or_rejections(
        which in any::<Index>(),
        edits in prop::collection::vec(byte_edit(), 1..8),
        compress in any::<bool>(),
        cut_compressed in any::<Index>(),
    ) {
        let Some(corpus) = corpus() else { return Ok(()) };
        let payload = &corpus[which.index(corpus.len())];
        let mut bytes = payload.bytes.clone();
        for edit in &edits {
            apply_bytes(&mut bytes, edit);
        }
        let csv = matches!(payload.parser, Parser::Csv);
        let (records, rejected) = read_all(&bytes, csv);
        // The same bytes read twice give the same accounting.
        prop_assert_eq!(read_all(&bytes, csv), (records, rejected), "{}", payload.name);
        if compress {
            let mut packed = gzip(&bytes);
            let keep = cut_compressed.index(packed.len()).max(packed.len() / 2);
            packed.truncate(keep);
            // A stream cut anywhere past its middle: what decodes is read, the cut is a
            // rejection or an error that names the input, never a panic.
            read_all(&packed, csv);
        }
    }

    /// A node of a real document replaced by another type, an empty, huge, deeply nested or
    /// out-of-range value: the parser answers with records and rejections, never a panic,
    /// and a rejection always names its field and reason.
    #[test]
    fn structurally_mutated_real_documents_never_panic_a_parser(
        which in any::<Index>(),
        document in any::<Index>(),
        edits in prop::collection::vec((any::<Index>(), replacement()), 1..6),
    ) {
        let Some(corpus) = corpus() else { return Ok(()) };
        let payload = &corpus[which.index(corpus.len())];
        let documents = documents(payload);
        if documents.is_empty() {
            return Ok(());
        }
        let mut value = documents[document.index(documents.len())].clone();
        for (at, with) in &edits {
            let mut paths = Vec::new();
            pointers(&value, String::new(), &mut paths);
            if paths.is_empty() {
                break;
            }
            let pointer = paths[at.index(paths.len())].clone();
            replace(&mut value, &pointer, with);
        }
        let out = parse(payload.parser, &value);
        check(&out);
    }
}

/// The corpus covers every parser (a payload removed from `shared/data` shows here, not as
/// a silently weaker property).
#[test]
fn the_mutation_corpus_reaches_every_parser() {
    let Some(corpus) = corpus() else { return };
    for parser in ["X", "XArchive", "Mastodon", "Bluesky", "Reddit", "Waterline", "Csv", "Detect"] {
        assert!(
            corpus.iter().any(|p| format!("{:?}", p.parser) == parser && !p.bytes.is_empty()),
            "no payload for the {parser} parser"
        );
    }
    // And each unmutated payload reads with at least one record (the baseline the mutations
    // start from), except the platforms without a parser yet.
    for payload in corpus.iter().filter(|p| !matches!(p.parser, Parser::Detect)) {
        let (records, _) = read_all(&payload.bytes, matches!(payload.parser, Parser::Csv));
        if payload.name.contains("mastodon-api-docs") || payload.name.contains("counts") {
            continue; // entities other than statuses (accounts, tags) carry no post
        }
        assert!(records > 0, "{} read no record unmutated", payload.name);
    }
}
