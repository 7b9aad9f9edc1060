//! What an importer reads: records (posts and other valid records) and rejected records.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::post::Post;

/// A valid record found in an input.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    /// A post (new, or an update of one already stored).
    Post(Box<Post>),
    /// The author or platform deleted a post.
    Delete {
        /// Platform of the deleted post.
        platform: String,
        /// Native id of the deleted post.
        id: String,
    },
    /// A like or repost counted as engagement on its subject post (Bluesky), or its undoing.
    Engagement(EngagementEvent),
    /// An account with its follower count (accounts files, X v2 `includes.users`).
    Account(Account),
    /// Any other valid record that is not a post: follows, blocks, identity and account
    /// events, Reddit `more` stubs. `kind` says which.
    Other {
        /// What the record was, for the report.
        kind: String,
    },
}

/// Kinds of engagement that arrive as events rather than counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EngagementKind {
    /// A like.
    Like,
    /// A repost.
    Repost,
}

/// One engagement event on a subject post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngagementEvent {
    /// Platform of the event and its subject.
    pub platform: String,
    /// The event's own identity (a Bluesky like's `at://` URI); the same event applied twice counts once.
    pub event_id: String,
    /// Native id of the post the event is about; `None` for a deletion that names only the event.
    pub subject_id: Option<String>,
    /// Like or repost.
    pub kind: EngagementKind,
    /// Who engaged.
    pub actor: Option<String>,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// True when the event is undone (an unlike or an un-repost).
    pub undo: bool,
}

/// An account and what an importer knows of it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Account {
    /// Platform of the account; empty when the accounts file does not say (then it applies to all).
    pub platform: String,
    /// The account's handle without `@`.
    pub handle: Option<String>,
    /// The account's stable id.
    pub id: Option<String>,
    /// Display name.
    pub name: Option<String>,
    /// Follower count.
    pub followers: Option<u64>,
}

/// Where a record stands in its input.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Position {
    /// 1-based line number, when the input is line-oriented or the line is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// Byte offset of the record's start, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub byte_offset: Option<u64>,
    /// JSON pointer of the record inside a whole-document input (for example `/data/3`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
}

impl Position {
    /// A position on a line.
    pub fn line(line: u64) -> Position {
        Position { line: Some(line), byte_offset: None, pointer: None }
    }

    /// A position inside a JSON document.
    pub fn pointer(line: Option<u64>, pointer: impl Into<String>) -> Position {
        Position { line, byte_offset: None, pointer: Some(pointer.into()) }
    }
}

impl std::fmt::Display for Position {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        if let Some(line) = self.line {
            parts.push(format!("line {line}"));
        }
        if let Some(offset) = self.byte_offset {
            parts.push(format!("byte {offset}"));
        }
        if let Some(pointer) = &self.pointer {
            parts.push(format!("at {pointer}"));
        }
        if parts.is_empty() {
            parts.push("whole input".to_owned());
        }
        formatter.write_str(&parts.join(", "))
    }
}

/// A record with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct Located {
    /// Where it was read.
    pub position: Position,
    /// What was read.
    pub record: Record,
}

/// A record that could not be read: kept with its file, position, field and reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejected {
    /// The input's path, or `-` for standard input.
    pub file: String,
    /// Where in the input.
    pub position: Position,
    /// The field at fault (`$` for the whole record).
    pub field: String,
    /// What was wrong, in words.
    pub reason: String,
    /// The start of the raw record (at most 200 characters), for a person to look at.
    #[serde(default)]
    pub excerpt: String,
}
