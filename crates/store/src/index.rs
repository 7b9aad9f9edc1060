//! The import index: what is stored, kept in memory during an import, and the pure
//! classification of records into new, updated, unchanged and other.
//!
//! The index is rebuilt from the `records` table when an import starts, so the table is
//! the only durable truth; a killed import leaves nothing to repair.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use chrono::{DateTime, Utc};
use waterline_model::{
    Counts, EngagementKind, ImportReport, Located, Position, Post, Record, post_key,
};

use crate::schema::{EventFields, KIND_EVENT, KIND_POST, Row};

/// A hasher for keys that are already 128-bit hashes: it folds them instead of hashing again.
#[derive(Default)]
pub struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut buffer = [0u8; 8];
            buffer[..chunk.len()].copy_from_slice(chunk);
            self.0 ^= u64::from_le_bytes(buffer);
        }
    }

    fn write_u128(&mut self, value: u128) {
        self.0 = (value as u64) ^ ((value >> 64) as u64);
    }
}

/// A map keyed by 128-bit record keys.
pub type KeyMap<V> = HashMap<u128, V, BuildHasherDefault<KeyHasher>>;

/// What the index knows of a stored post: its latest row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// `seq` of the latest row.
    pub seq: i64,
    /// Content fingerprint of the latest row.
    pub fingerprint: u64,
    /// Hash of the latest row's counts.
    pub counts_hash: u64,
    /// Bit mask of the known counts (bits 0..5: likes, shares, replies, quotes, views; bit 5: followers).
    pub present: u8,
    /// Observation time of the latest row, in microseconds.
    pub observed_at: i64,
    /// True when the post was deleted.
    pub deleted: bool,
}

/// What the index knows of an engagement event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventEntry {
    /// Key of the subject post.
    pub subject: Option<u128>,
    /// Like or repost.
    pub kind: EngagementKind,
    /// False once undone.
    pub active: bool,
}

/// Engagement counted on a subject that is not stored yet.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pending {
    /// Likes waiting for their post.
    pub likes: u64,
    /// Reposts waiting for their post.
    pub reposts: u64,
}

/// The in-memory index of stored posts and events.
#[derive(Debug, Default)]
pub struct PostIndex {
    /// Latest row per post key.
    pub posts: KeyMap<Entry>,
    /// Every engagement event seen.
    pub events: KeyMap<EventEntry>,
    /// Engagement whose subject is not stored yet.
    pub pending: KeyMap<Pending>,
    /// Observation hashes of earlier (no longer latest) states, for posts that have any: a
    /// record without its own observation time that repeats one of them is a replay of an
    /// old export, not a change.
    pub history: KeyMap<Vec<u64>>,
    /// The next free `seq`.
    pub next_seq: i64,
}

/// The hash of one observation: content and counts together.
pub fn observation_hash(fingerprint: u64, counts_hash: u64) -> u64 {
    fingerprint ^ counts_hash.rotate_left(17)
}

/// Hash of a post's counts and follower count.
pub fn counts_hash(counts: &Counts, followers: Option<u64>) -> u64 {
    // One-shot hash of a fixed-size buffer: this runs for every record on the serial path.
    // (Never stored: the index recomputes it from the stored counts.)
    let mut buffer = [0u8; 6 * 9];
    for (slot, value) in counts.as_array().into_iter().chain([followers]).enumerate() {
        if let Some(value) = value {
            buffer[slot * 9] = 1;
            buffer[slot * 9 + 1..slot * 9 + 9].copy_from_slice(&value.to_le_bytes());
        }
    }
    xxhash_rust::xxh3::xxh3_64(&buffer)
}

/// Bit mask of the known counts and follower count.
pub fn present_mask(counts: &Counts, followers: Option<u64>) -> u8 {
    counts
        .as_array()
        .into_iter()
        .chain([followers])
        .enumerate()
        .fold(0u8, |mask, (bit, value)| if value.is_some() { mask | (1 << bit) } else { mask })
}

/// The key of an engagement event.
pub fn event_key(platform: &str, event_id: &str) -> u128 {
    post_key(platform, event_id) ^ 0x5eed_0000_0000_0000_0000_0000_0000_0001
}

impl PostIndex {
    /// The index entry of a post row.
    pub fn entry_for(post: &Post, seq: i64, deleted: bool, now: DateTime<Utc>) -> Entry {
        Self::entry_with(post, post.content_fingerprint(), seq, deleted, now)
    }

    /// The index entry of a post row whose content fingerprint is known.
    pub fn entry_with(
        post: &Post,
        fingerprint: u64,
        seq: i64,
        deleted: bool,
        now: DateTime<Utc>,
    ) -> Entry {
        Entry {
            seq,
            fingerprint,
            counts_hash: counts_hash(&post.counts, post.author_followers),
            present: present_mask(&post.counts, post.author_followers),
            observed_at: post.observed_at.unwrap_or(now).timestamp_micros(),
            deleted,
        }
    }

    /// The `seq`s of stored rows that staging `records` needs to read back: posts whose
    /// record lacks counts the stored row has, and subjects of engagement events.
    /// `identities` is [`identities`] of the records.
    pub fn rows_to_fetch(&self, records: &[Located], identities: &[Identity]) -> Vec<i64> {
        let mut wanted = Vec::new();
        for (located, identity) in records.iter().zip(identities) {
            match &located.record {
                Record::Post(post) => {
                    if let Some(entry) = self.posts.get(&identity.key) {
                        let mask = present_mask(&post.counts, post.author_followers);
                        if !entry.deleted && entry.present & !mask != 0 {
                            wanted.push(entry.seq);
                        }
                    }
                }
                Record::Engagement(event) => {
                    let subject = match &event.subject_id {
                        Some(subject_id) => Some(post_key(&event.platform, subject_id)),
                        None => self
                            .events
                            .get(&event_key(&event.platform, &event.event_id))
                            .and_then(|entry| entry.subject),
                    };
                    if let Some(entry) = subject.and_then(|subject| self.posts.get(&subject))
                        && !entry.deleted
                    {
                        wanted.push(entry.seq);
                    }
                }
                Record::Delete { platform, id } => {
                    if let Some(entry) = self.posts.get(&post_key(platform, id))
                        && !entry.deleted
                    {
                        wanted.push(entry.seq);
                    }
                }
                Record::Account(_) | Record::Other { .. } => {}
            }
        }
        wanted.sort_unstable();
        wanted.dedup();
        wanted
    }
}

/// A post record's key and content fingerprint, computed in parallel before the serial
/// staging (zero for records that are not posts).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Identity {
    /// `post_key(platform, id)`.
    pub key: u128,
    /// `Post::content_fingerprint`.
    pub fingerprint: u64,
}

/// The identities of a batch's records, computed in parallel (after enrichment, which may
/// fill author details that the fingerprint covers).
pub fn identities(records: &[Located]) -> Vec<Identity> {
    use rayon::prelude::*;
    records
        .par_iter()
        .map(|located| match &located.record {
            Record::Post(post) => {
                Identity { key: post.key(), fingerprint: post.content_fingerprint() }
            }
            _ => Identity::default(),
        })
        .collect()
}

/// Where the records of a batch come from.
#[derive(Debug, Clone)]
pub struct BatchContext<'a> {
    /// The import run.
    pub run_id: &'a str,
    /// The file or stream name.
    pub source: &'a str,
    /// The observation time for records that carry none.
    pub now: DateTime<Utc>,
}

/// The rows a batch writes and its accounting (without `read` and `rejected`).
#[derive(Debug, Default)]
pub struct Staged {
    /// Rows to append, in order.
    pub rows: Vec<Row>,
    /// New, updated, unchanged and other counts.
    pub report: ImportReport,
}

struct Stager<'a, 'b> {
    index: &'a mut PostIndex,
    stored: &'b KeyMap<Post>,
    context: &'b BatchContext<'b>,
    staged: Staged,
    /// Rows written in this batch per post key: the last one is the post's latest state.
    working: KeyMap<usize>,
    run_id: std::sync::Arc<str>,
    source: std::sync::Arc<str>,
}

impl Stager<'_, '_> {
    fn next_seq(&mut self) -> i64 {
        let seq = self.index.next_seq;
        self.index.next_seq += 1;
        seq
    }

    fn push_post_row(
        &mut self,
        post: Post,
        supersedes: Option<i64>,
        deleted: bool,
        position: Position,
    ) -> usize {
        let identity = Identity { key: post.key(), fingerprint: post.content_fingerprint() };
        self.push_identified_row(post, identity, supersedes, deleted, position)
    }

    fn push_identified_row(
        &mut self,
        post: Post,
        identity: Identity,
        supersedes: Option<i64>,
        deleted: bool,
        position: Position,
    ) -> usize {
        let seq = self.next_seq();
        let key = identity.key;
        let row = Row {
            kind: KIND_POST,
            seq,
            supersedes,
            deleted,
            fingerprint: identity.fingerprint,
            post,
            run_id: self.run_id.clone(),
            source: self.source.clone(),
            position,
            event: None,
        };
        self.staged.rows.push(row);
        let slot = self.staged.rows.len() - 1;
        self.working.insert(key, slot);
        slot
    }

    /// The latest state of a stored or staged post, for an update that needs it.
    fn latest(&self, key: u128) -> Option<Post> {
        if let Some(slot) = self.working.get(&key) {
            return self.staged.rows.get(*slot).map(|row| row.post.clone());
        }
        self.stored.get(&key).cloned()
    }

    fn remember(&mut self, key: u128, entry: &Entry) {
        let hash = observation_hash(entry.fingerprint, entry.counts_hash);
        let history = self.index.history.entry(key).or_default();
        if !history.contains(&hash) {
            history.push(hash);
        }
    }

    fn post(&mut self, mut post: Post, identity: Identity, position: Position) {
        let key = identity.key;
        let has_own_time = post.observed_at.is_some();
        if post.observed_at.is_none() {
            post.observed_at = Some(self.context.now);
        }
        let Some(entry) = self.index.posts.get(&key).copied() else {
            if let Some(pending) = self.index.pending.remove(&key) {
                if pending.likes > 0 {
                    post.counts.likes = Some(post.counts.likes.unwrap_or(0) + pending.likes);
                }
                if pending.reposts > 0 {
                    post.counts.shares = Some(post.counts.shares.unwrap_or(0) + pending.reposts);
                }
            }
            let slot = self.push_identified_row(post, identity, None, false, position);
            if let Some(row) = self.staged.rows.get(slot) {
                let entry = PostIndex::entry_with(
                    &row.post,
                    row.fingerprint,
                    row.seq,
                    false,
                    self.context.now,
                );
                self.index.posts.insert(key, entry);
            }
            self.staged.report.new += 1;
            return;
        };
        if entry.deleted {
            self.staged.report.unchanged += 1;
            return;
        }
        let record_mask = present_mask(&post.counts, post.author_followers);
        if entry.present & !record_mask != 0
            && let Some(latest) = self.latest(key)
        {
            post.counts = post.counts.or_from(&latest.counts);
            post.author_followers = post.author_followers.or(latest.author_followers);
        }
        let same_content = entry.fingerprint == identity.fingerprint;
        let same_counts = entry.counts_hash == counts_hash(&post.counts, post.author_followers);
        if same_content && same_counts {
            self.staged.report.unchanged += 1;
            return;
        }
        if !has_own_time {
            let hash = observation_hash(
                identity.fingerprint,
                counts_hash(&post.counts, post.author_followers),
            );
            if self.index.history.get(&key).is_some_and(|history| history.contains(&hash)) {
                self.staged.report.unchanged += 1;
                return;
            }
        }
        self.staged.report.updated += 1;
        let observed = post.observed_at.unwrap_or(self.context.now).timestamp_micros();
        if observed < entry.observed_at {
            // An older observation than the one stored: keep it as history only. A row that
            // supersedes itself is never the latest state.
            let stale =
                PostIndex::entry_with(&post, identity.fingerprint, 0, false, self.context.now);
            self.remember(key, &stale);
            let seq = self.index.next_seq;
            self.push_identified_row(post, identity, Some(seq), false, position);
            self.working.remove(&key);
            return;
        }
        self.remember(key, &entry);
        let seq = self.index.next_seq;
        self.index.posts.insert(
            key,
            PostIndex::entry_with(&post, identity.fingerprint, seq, false, self.context.now),
        );
        self.push_identified_row(post, identity, Some(entry.seq), false, position);
    }

    fn delete(&mut self, platform: &str, id: &str, position: Position) {
        self.staged.report.other += 1;
        let key = post_key(platform, id);
        let entry = self.index.posts.get(&key).copied();
        if entry.is_some_and(|entry| entry.deleted) {
            return;
        }
        let mut marker =
            self.latest(key).unwrap_or_else(|| Post::new(platform, id, self.context.now));
        marker.observed_at = Some(self.context.now);
        let seq = self.index.next_seq;
        self.index.posts.insert(key, PostIndex::entry_for(&marker, seq, true, self.context.now));
        self.push_post_row(marker, entry.map(|entry| entry.seq), true, position);
    }

    fn engagement(&mut self, event: &waterline_model::EngagementEvent, position: Position) {
        self.staged.report.other += 1;
        let key = event_key(&event.platform, &event.event_id);
        let known = self.index.events.get(&key).copied();
        let (subject, delta) = match (event.undo, known) {
            (false, Some(_)) => return,
            (false, None) => {
                let subject =
                    event.subject_id.as_deref().map(|subject| post_key(&event.platform, subject));
                self.index
                    .events
                    .insert(key, EventEntry { subject, kind: event.kind, active: true });
                (subject, 1i64)
            }
            (true, Some(entry)) if entry.active => {
                self.index.events.insert(key, EventEntry { active: false, ..entry });
                (entry.subject, -1i64)
            }
            (true, _) => (None, 0),
        };
        self.staged.rows.push(Row {
            kind: KIND_EVENT,
            seq: 0,
            supersedes: None,
            deleted: false,
            fingerprint: 0,
            post: Post::new(&event.platform, event.event_id.clone(), event.at),
            run_id: self.run_id.clone(),
            source: self.source.clone(),
            position,
            event: Some(EventFields {
                kind: event.kind,
                subject_id: event.subject_id.clone(),
                undo: event.undo,
            }),
        });
        let slot = self.staged.rows.len() - 1;
        let seq = self.next_seq();
        if let Some(row) = self.staged.rows.get_mut(slot) {
            row.seq = seq;
            if let Some(actor) = &event.actor {
                row.post.author_id = Some(actor.clone());
            }
        }
        let Some(subject) = subject else { return };
        if delta == 0 {
            return;
        }
        let apply = |value: Option<u64>| {
            let current = value.unwrap_or(0) as i64;
            Some((current + delta).max(0) as u64)
        };
        match self.index.posts.get(&subject).copied() {
            None => {
                let pending = self.index.pending.entry(subject).or_default();
                let counter = match event.kind {
                    EngagementKind::Like => &mut pending.likes,
                    EngagementKind::Repost => &mut pending.reposts,
                };
                *counter = (*counter as i64 + delta).max(0) as u64;
            }
            Some(entry) if entry.deleted => {}
            Some(entry) => {
                let slot = match self.working.get(&subject) {
                    Some(slot) => *slot,
                    None => {
                        let Some(mut latest) = self.stored.get(&subject).cloned() else { return };
                        self.remember(subject, &entry);
                        latest.observed_at = Some(event.at);

                        self.push_post_row(
                            latest,
                            Some(entry.seq),
                            false,
                            Position::pointer(None, "(engagement event)"),
                        )
                    }
                };
                if let Some(row) = self.staged.rows.get_mut(slot) {
                    match event.kind {
                        EngagementKind::Like => {
                            row.post.counts.likes = apply(row.post.counts.likes)
                        }
                        EngagementKind::Repost => {
                            row.post.counts.shares = apply(row.post.counts.shares)
                        }
                    }
                    let updated = PostIndex::entry_for(&row.post, row.seq, false, self.context.now);
                    self.index.posts.insert(subject, updated);
                }
            }
        }
    }
}

/// Classifies a batch of records against the index, updates the index and returns the
/// rows to append. `stored` holds the stored posts named by `PostIndex::rows_to_fetch`.
pub fn stage(
    index: &mut PostIndex,
    records: Vec<Located>,
    identities: &[Identity],
    stored: &KeyMap<Post>,
    context: &BatchContext<'_>,
) -> Staged {
    index.posts.reserve(records.len());
    let mut stager = Stager {
        index,
        stored,
        context,
        staged: Staged { rows: Vec::with_capacity(records.len()), report: ImportReport::default() },
        working: KeyMap::default(),
        run_id: context.run_id.into(),
        source: context.source.into(),
    };
    for (located, identity) in records.into_iter().zip(identities) {
        let position = located.position;
        match located.record {
            Record::Post(post) => stager.post(*post, *identity, position),
            Record::Delete { platform, id } => stager.delete(&platform, &id, position),
            Record::Engagement(event) => stager.engagement(&event, position),
            Record::Account(_) | Record::Other { .. } => stager.staged.report.other += 1,
        }
    }
    stager.staged
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use chrono::TimeZone;
    use waterline_model::EngagementEvent;

    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap()
    }

    fn post(id: &str, likes: Option<u64>) -> Located {
        let mut post = Post::new("x", id, now());
        post.text = format!("post {id}");
        post.counts.likes = likes;
        Located { position: Position::line(1), record: Record::Post(Box::new(post)) }
    }

    fn like(event: &str, subject: &str, undo: bool) -> Located {
        Located {
            position: Position::line(1),
            record: Record::Engagement(EngagementEvent {
                platform: "x".into(),
                event_id: event.into(),
                subject_id: if undo { None } else { Some(subject.into()) },
                kind: EngagementKind::Like,
                actor: None,
                at: now(),
                undo,
            }),
        }
    }

    fn run(index: &mut PostIndex, records: Vec<Located>) -> Staged {
        let context = BatchContext { run_id: "run", source: "test", now: now() };
        let stored = KeyMap::default();
        let ids = identities(&records);
        stage(index, records, &ids, &stored, &context)
    }

    #[test]
    fn same_post_twice_is_new_then_unchanged() {
        let mut index = PostIndex::default();
        let staged = run(&mut index, vec![post("1", Some(3)), post("1", Some(3))]);
        assert_eq!((staged.report.new, staged.report.unchanged), (1, 1));
        assert_eq!(staged.rows.len(), 1);
        let staged = run(&mut index, vec![post("1", Some(3))]);
        assert_eq!(staged.report.unchanged, 1);
        assert!(staged.rows.is_empty());
    }

    #[test]
    fn changed_counts_are_an_update_superseding_the_last_row() {
        let mut index = PostIndex::default();
        let first = run(&mut index, vec![post("1", Some(3))]);
        let staged = run(&mut index, vec![post("1", Some(5))]);
        assert_eq!(staged.report.updated, 1);
        assert_eq!(staged.rows[0].supersedes, Some(first.rows[0].seq));
    }

    #[test]
    fn likes_before_their_post_are_pending_and_counted_once() {
        let mut index = PostIndex::default();
        let staged = run(
            &mut index,
            vec![like("l1", "1", false), like("l1", "1", false), like("l2", "1", false)],
        );
        assert_eq!(staged.report.other, 3);
        assert_eq!(staged.rows.len(), 2);
        let staged = run(&mut index, vec![post("1", None)]);
        assert_eq!(staged.rows[0].post.counts.likes, Some(2));
        // The unlike needs the stored post back (the store reads it by `seq`).
        let mut stored = KeyMap::default();
        stored.insert(staged.rows[0].post.key(), staged.rows[0].post.clone());
        let context = BatchContext { run_id: "run", source: "test", now: now() };
        let records = vec![like("l2", "1", true)];
        let ids = identities(&records);
        let staged = stage(&mut index, records, &ids, &stored, &context);
        let updated = staged.rows.iter().find(|row| row.kind == KIND_POST).unwrap();
        assert_eq!(updated.post.counts.likes, Some(1));
    }

    #[test]
    fn replaying_an_older_export_changes_nothing() {
        let mut index = PostIndex::default();
        run(&mut index, vec![post("1", Some(3))]);
        run(&mut index, vec![post("1", Some(5))]);
        let staged = run(&mut index, vec![post("1", Some(3)), post("1", Some(5))]);
        assert_eq!(staged.report.unchanged, 2);
        assert!(staged.rows.is_empty());
    }

    #[test]
    fn deletion_hides_the_post_and_a_later_create_stays_deleted() {
        let mut index = PostIndex::default();
        run(&mut index, vec![post("1", None)]);
        let staged = run(
            &mut index,
            vec![Located {
                position: Position::line(2),
                record: Record::Delete { platform: "x".into(), id: "1".into() },
            }],
        );
        assert!(staged.rows[0].deleted);
        let staged = run(&mut index, vec![post("1", None)]);
        assert_eq!(staged.report.unchanged, 1);
    }
}
