//! Live sources declared in the workspace configuration (`[[sources]]`).
//!
//! A source is a long-running reader of one network stream (Bluesky Jetstream, the Mastodon
//! streaming API, Mastodon timelines polled) whose position (its cursor) is kept in the
//! workspace state so that a restart resumes where the last committed batch ended. The
//! HTTP ingest endpoint (`POST /api/v1/ingest`) is the third kind: it needs no declaration,
//! and is counted as the source `ingest`.

use serde::{Deserialize, Serialize};

/// The kinds of live source.
pub const SOURCE_KINDS: &[&str] = &["jetstream", "mastodon", "mastodon-poll"];

/// One declared live source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// A unique name (`bluesky`, `mastodon-social`); `--source NAME=URL` overrides its endpoint.
    pub name: String,
    /// One of [`SOURCE_KINDS`]: `jetstream` (Bluesky Jetstream over WebSocket), `mastodon`
    /// (the Mastodon streaming API, with timeline polling to fill the gaps of a reconnection),
    /// `mastodon-poll` (timeline polling only).
    #[serde(rename = "type")]
    pub kind: String,
    /// The endpoint: `wss://jetstream2.us-east.bsky.network/subscribe` for Jetstream, the
    /// instance's base URL (`https://mastodon.social`) for Mastodon.
    pub endpoint: String,
    /// Jetstream: the collections to receive (`wantedCollections`); posts, likes and reposts
    /// by default.
    #[serde(default = "default_collections")]
    pub collections: Vec<String>,
    /// Jetstream: only these repositories (`wantedDids`); empty means all.
    #[serde(default)]
    pub dids: Vec<String>,
    /// Mastodon: `public`, `public:local`, `hashtag` or `user`.
    #[serde(default = "default_stream")]
    pub stream: String,
    /// Mastodon: the hashtag of a `hashtag` stream, without `#`.
    #[serde(default)]
    pub hashtag: Option<String>,
    /// Mastodon: `sse` (server-sent events) or `websocket`.
    #[serde(default = "default_transport")]
    pub transport: String,
    /// Mastodon: seconds between two polls of the timeline (`mastodon-poll`, and the
    /// fallback of `mastodon` while its stream is down).
    #[serde(default = "default_poll_seconds")]
    pub poll_seconds: u64,
    /// The name of the environment variable holding the access token (never the token).
    #[serde(default)]
    pub token_env: Option<String>,
    /// `workspace` keeps only posts that name the brand, a product or a competitor, come
    /// from or address a configured account, or match one of `queries`; `none` keeps all.
    #[serde(default = "default_filter")]
    pub filter: String,
    /// Boolean queries (`(ozempic OR semaglutide) AND NOT "price"`): a post matching any is
    /// kept, on top of the workspace terms.
    #[serde(default)]
    pub queries: Vec<String>,
    /// Failures in a row after which the source is reported as degraded (it keeps retrying).
    #[serde(default = "default_degraded_after")]
    pub degraded_after: u32,
}

fn default_collections() -> Vec<String> {
    ["app.bsky.feed.post", "app.bsky.feed.like", "app.bsky.feed.repost"]
        .iter()
        .map(|collection| (*collection).to_owned())
        .collect()
}

fn default_stream() -> String {
    "public".to_owned()
}

fn default_transport() -> String {
    "sse".to_owned()
}

fn default_poll_seconds() -> u64 {
    60
}

fn default_filter() -> String {
    "workspace".to_owned()
}

fn default_degraded_after() -> u32 {
    5
}

impl SourceConfig {
    /// A source of `kind` at `endpoint` with every other setting at its default.
    pub fn new(name: &str, kind: &str, endpoint: &str) -> SourceConfig {
        SourceConfig {
            name: name.to_owned(),
            kind: kind.to_owned(),
            endpoint: endpoint.to_owned(),
            collections: default_collections(),
            dids: Vec::new(),
            stream: default_stream(),
            hashtag: None,
            transport: default_transport(),
            poll_seconds: default_poll_seconds(),
            token_env: None,
            filter: default_filter(),
            queries: Vec::new(),
            degraded_after: default_degraded_after(),
        }
    }

    /// What is wrong with this declaration, if anything.
    pub fn problem(&self) -> Option<String> {
        if self.name.trim().is_empty() {
            return Some("a source needs a name".to_owned());
        }
        if !SOURCE_KINDS.contains(&self.kind.as_str()) {
            return Some(format!(
                "unknown type `{}` (use one of: {})",
                self.kind,
                SOURCE_KINDS.join(", ")
            ));
        }
        if !["public", "public:local", "hashtag", "user"].contains(&self.stream.as_str()) {
            return Some(format!(
                "unknown stream `{}` (use public, public:local, hashtag or user)",
                self.stream
            ));
        }
        if self.stream == "hashtag" && self.hashtag.as_deref().is_none_or(str::is_empty) {
            return Some("a hashtag stream needs `hashtag`".to_owned());
        }
        if !["sse", "websocket"].contains(&self.transport.as_str()) {
            return Some(format!("unknown transport `{}` (use sse or websocket)", self.transport));
        }
        if !["workspace", "none"].contains(&self.filter.as_str()) {
            return Some(format!("unknown filter `{}` (use workspace or none)", self.filter));
        }
        if self.poll_seconds == 0 {
            return Some("poll_seconds must be at least 1".to_owned());
        }
        None
    }
}
