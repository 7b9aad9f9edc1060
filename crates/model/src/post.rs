//! A post: one item from a platform (post, reply, comment, quote or repost).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Well-known platform names. A column mapping may name any other platform.
pub mod platform {
    /// X (formerly Twitter): API v2, v1.1 and the archive.
    pub const X: &str = "x";
    /// Mastodon and other ActivityPub servers speaking the Mastodon API.
    pub const MASTODON: &str = "mastodon";
    /// Bluesky (AT Protocol).
    pub const BLUESKY: &str = "bluesky";
    /// Reddit.
    pub const REDDIT: &str = "reddit";
}

/// Who wrote a post, relative to the workspace's brand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// An account the brand owns wrote it.
    Own,
    /// A competitor's account wrote it.
    Competitor,
    /// Anyone else.
    Audience,
}

impl Side {
    /// The stored spelling: `own`, `competitor` or `audience`.
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Own => "own",
            Side::Competitor => "competitor",
            Side::Audience => "audience",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(text: &str) -> Option<Side> {
        match text {
            "own" => Some(Side::Own),
            "competitor" => Some(Side::Competitor),
            "audience" => Some(Side::Audience),
            _ => None,
        }
    }
}

/// Raw engagement counts as observed. `None` means the platform did not say (unknown is not zero).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Counts {
    /// Likes, favourites, upvotes (Reddit score).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub likes: Option<u64>,
    /// Reposts, retweets, reblogs, boosts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shares: Option<u64>,
    /// Replies or comments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replies: Option<u64>,
    /// Quotes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quotes: Option<u64>,
    /// Views or impressions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub views: Option<u64>,
}

impl Counts {
    /// The five counts in a fixed order: likes, shares, replies, quotes, views.
    pub fn as_array(&self) -> [Option<u64>; 5] {
        [self.likes, self.shares, self.replies, self.quotes, self.views]
    }

    /// True when no count is known.
    pub fn is_empty(&self) -> bool {
        self.as_array().iter().all(Option::is_none)
    }

    /// Takes every count `self` lacks from `older`: a record that does not report a count
    /// keeps the last known value.
    pub fn or_from(&self, older: &Counts) -> Counts {
        Counts {
            likes: self.likes.or(older.likes),
            shares: self.shares.or(older.shares),
            replies: self.replies.or(older.replies),
            quotes: self.quotes.or(older.quotes),
            views: self.views.or(older.views),
        }
    }
}

/// One post in Waterline's canonical shape. Its identity is `(platform, id)`.
///
/// This is also the line format of Waterline's own JSONL (`waterline export --format jsonl`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Post {
    /// `x`, `mastodon`, `bluesky`, `reddit`, or the name a column mapping gives.
    pub platform: String,
    /// The platform's native id (a Bluesky post uses its `at://` URI).
    pub id: String,
    /// The author's stable platform id, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author_id: Option<String>,
    /// The author's handle without a leading `@`, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author_handle: Option<String>,
    /// The author's display name, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author_name: Option<String>,
    /// The author's follower count when the post was observed, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author_followers: Option<u64>,
    /// When the post was created, in UTC.
    pub created_at: DateTime<Utc>,
    /// The text as plain text (HTML removed, entities decoded).
    #[serde(default)]
    pub text: String,
    /// The language the platform declared, when it did (ISO 639-1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    /// A link to the post on its platform.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The native id of the post this one replies to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    /// The handle (or id) of the author this post replies to, when the format says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to_author: Option<String>,
    /// The native id of the post this one quotes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote_of: Option<String>,
    /// The native id of the post this one reposts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repost_of: Option<String>,
    /// The id of the conversation (thread root) this post belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<String>,
    /// Hashtags without `#`, as written.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hashtags: Vec<String>,
    /// Mentioned handles without `@`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<String>,
    /// Links, expanded where the format gives the expansion.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<String>,
    /// Number of attached images, videos or other media.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub media_count: u32,
    /// Engagement counts as observed.
    #[serde(default)]
    pub counts: Counts,
    /// When the counts were observed, if the record says; the import time otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_at: Option<DateTime<Utc>>,
    /// Own, competitor or audience; derived from the workspace configuration at import.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub side: Option<Side>,
    /// Annotations from the enrichment chain (language, sentiment, needs, entities,
    /// near-duplicates). Derived data: recomputed at import, never trusted from input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Box<crate::Annotations>>,
}

fn is_zero(value: &u32) -> bool {
    *value == 0
}

impl Post {
    /// A post with the required fields and everything else empty.
    pub fn new(platform: &str, id: impl Into<String>, created_at: DateTime<Utc>) -> Post {
        Post {
            platform: platform.to_owned(),
            id: id.into(),
            author_id: None,
            author_handle: None,
            author_name: None,
            author_followers: None,
            created_at,
            text: String::new(),
            lang: None,
            url: None,
            reply_to: None,
            reply_to_author: None,
            quote_of: None,
            repost_of: None,
            conversation_id: None,
            hashtags: Vec::new(),
            mentions: Vec::new(),
            links: Vec::new(),
            media_count: 0,
            counts: Counts::default(),
            observed_at: None,
            side: None,
            annotations: None,
        }
    }

    /// A 64-bit fingerprint of everything but the counts, the observation time and the
    /// derived side: two records with the same content fingerprint and the same counts are
    /// the same observation.
    pub fn content_fingerprint(&self) -> u64 {
        let mut hasher = xxhash_rust::xxh3::Xxh3::new();
        let mut feed = |bytes: &[u8]| {
            hasher.update(bytes);
            hasher.update(&[0xff]);
        };
        feed(self.platform.as_bytes());
        feed(self.id.as_bytes());
        feed(optional(&self.author_id));
        feed(optional(&self.author_handle));
        feed(optional(&self.author_name));
        feed(&self.created_at.timestamp_micros().to_le_bytes());
        feed(self.text.as_bytes());
        feed(optional(&self.lang));
        feed(optional(&self.url));
        feed(optional(&self.reply_to));
        feed(optional(&self.reply_to_author));
        feed(optional(&self.quote_of));
        feed(optional(&self.repost_of));
        feed(optional(&self.conversation_id));
        for list in [&self.hashtags, &self.mentions, &self.links] {
            for item in list {
                feed(item.as_bytes());
            }
            feed(&[0xfe]);
        }
        feed(&self.media_count.to_le_bytes());
        hasher.digest()
    }

    /// The 128-bit key of `(platform, id)`, used by the import index.
    pub fn key(&self) -> u128 {
        post_key(&self.platform, &self.id)
    }
}

/// The 128-bit key of a post's identity `(platform, id)`.
pub fn post_key(platform: &str, id: &str) -> u128 {
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    hasher.update(platform.as_bytes());
    hasher.update(&[0]);
    hasher.update(id.as_bytes());
    hasher.digest128()
}

fn optional(value: &Option<String>) -> &[u8] {
    value.as_deref().unwrap_or("").as_bytes()
}
