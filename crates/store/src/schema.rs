//! The `records` Delta table: its Arrow schema and conversions between rows and batches.
//!
//! One table holds every stored record so that a batch and its checkpoint are one Delta
//! commit. It is partitioned by `kind`:
//! - `post` rows are full post states. A new post writes one; an update writes another
//!   whose `supersedes` names the previous row's `seq`. The `posts` view keeps the rows
//!   no other row supersedes (and that are not deletions); all post rows together are the
//!   observations of the counts over time.
//! - `event` rows are engagement events (Bluesky likes and reposts), kept so that the same
//!   event applied twice counts once.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanBuilder, Float32Builder, Int32Builder, Int64Builder,
    ListBuilder, RecordBatch, StringBuilder, TimestampMicrosecondBuilder,
};
use datafusion::arrow::datatypes::{
    DataType, Field, Float32Type, Int32Type, Int64Type, Schema, SchemaRef, TimeUnit,
    TimestampMicrosecondType,
};
use waterline_model::{Annotations, Counts, EngagementKind, Need, Post, Sentiment, Side};

use crate::StoreError;

/// Partition value of post rows.
pub const KIND_POST: &str = "post";
/// Partition value of engagement-event rows.
pub const KIND_EVENT: &str = "event";

/// One row to write.
#[derive(Debug, Clone)]
pub struct Row {
    /// `post` or `event`.
    pub kind: &'static str,
    /// Unique, increasing row number.
    pub seq: i64,
    /// The `seq` of the row this one replaces (its own `seq` for an out-of-date observation).
    pub supersedes: Option<i64>,
    /// True for a deletion marker.
    pub deleted: bool,
    /// The post state (for an event row: platform, id = event id, created_at = event time).
    pub post: Post,
    /// `Post::content_fingerprint` of the post.
    pub fingerprint: u64,
    /// The import run that wrote the row.
    pub run_id: std::sync::Arc<str>,
    /// The file or stream the record came from.
    pub source: std::sync::Arc<str>,
    /// The record's position in it.
    pub position: waterline_model::Position,
    /// For event rows: what the event is.
    pub event: Option<EventFields>,
}

/// The fields of an engagement-event row.
#[derive(Debug, Clone)]
pub struct EventFields {
    /// Like or repost.
    pub kind: EngagementKind,
    /// The subject post's native id, when the event names it.
    pub subject_id: Option<String>,
    /// True when the event undoes an earlier one.
    pub undo: bool,
}

fn timestamp() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

fn list() -> DataType {
    DataType::List(Arc::new(Field::new("item", DataType::Utf8, true)))
}

/// The Arrow schema of the `records` table.
pub fn schema() -> SchemaRef {
    let text = |name: &str, nullable: bool| Field::new(name, DataType::Utf8, nullable);
    let int = |name: &str| Field::new(name, DataType::Int64, true);
    Arc::new(Schema::new(vec![
        text("kind", false),
        Field::new("seq", DataType::Int64, false),
        int("supersedes"),
        Field::new("deleted", DataType::Boolean, false),
        text("platform", false),
        text("id", false),
        text("author_id", true),
        text("author_handle", true),
        text("author_name", true),
        int("author_followers"),
        Field::new("created_at", timestamp(), false),
        text("text", false),
        text("lang", true),
        text("url", true),
        text("reply_to", true),
        text("reply_to_author", true),
        text("quote_of", true),
        text("repost_of", true),
        text("conversation_id", true),
        Field::new("hashtags", list(), true),
        Field::new("mentions", list(), true),
        Field::new("links", list(), true),
        Field::new("media_count", DataType::Int32, false),
        int("likes"),
        int("shares"),
        int("replies"),
        int("quotes"),
        int("views"),
        Field::new("observed_at", timestamp(), false),
        text("side", true),
        text("language", true),
        text("sentiment", true),
        Field::new("sentiment_score", DataType::Float32, true),
        text("need", true),
        Field::new("entities", list(), true),
        Field::new("addressed_to_brand", DataType::Boolean, true),
        int("simhash"),
        text("duplicate_of", true),
        text("enrich_skipped", true),
        text("enriched_with", true),
        int("fingerprint"),
        text("import_run", false),
        text("source", false),
        text("source_position", false),
        text("event_kind", true),
        text("subject_id", true),
        Field::new("undo", DataType::Boolean, false),
        // Added after the first release: last, as `upgrade` appends it to older tables.
        int("topic_id"),
    ]))
}

fn as_i64(value: Option<u64>) -> Option<i64> {
    value.map(|value| i64::try_from(value).unwrap_or(i64::MAX))
}

/// Builds one record batch from rows.
pub fn to_batch(rows: &[Row], now: DateTime<Utc>) -> Result<RecordBatch, StoreError> {
    let capacity = rows.len();
    let mut kind = StringBuilder::with_capacity(capacity, capacity * 5);
    let mut seq = Int64Builder::with_capacity(capacity);
    let mut supersedes = Int64Builder::with_capacity(capacity);
    let mut deleted = BooleanBuilder::with_capacity(capacity);
    let mut strings: Vec<StringBuilder> =
        (0..13).map(|_| StringBuilder::with_capacity(capacity, capacity * 16)).collect();
    let mut followers = Int64Builder::with_capacity(capacity);
    let mut created = TimestampMicrosecondBuilder::with_capacity(capacity).with_timezone("UTC");
    let mut lists: Vec<ListBuilder<StringBuilder>> =
        (0..3).map(|_| ListBuilder::new(StringBuilder::new())).collect();
    let mut media = Int32Builder::with_capacity(capacity);
    let mut counts: Vec<Int64Builder> =
        (0..5).map(|_| Int64Builder::with_capacity(capacity)).collect();
    let mut observed = TimestampMicrosecondBuilder::with_capacity(capacity).with_timezone("UTC");
    let mut side = StringBuilder::with_capacity(capacity, capacity * 8);
    let mut notes = AnnotationBuilders::with_capacity(capacity);
    let mut fingerprint = Int64Builder::with_capacity(capacity);
    let mut run = StringBuilder::with_capacity(capacity, capacity * 36);
    let mut source = StringBuilder::with_capacity(capacity, capacity * 16);
    let mut position = StringBuilder::with_capacity(capacity, capacity * 8);
    let mut event_kind = StringBuilder::new();
    let mut subject = StringBuilder::new();
    let mut undo = BooleanBuilder::with_capacity(capacity);
    let mut topic = Int64Builder::with_capacity(capacity);

    for row in rows {
        let post = &row.post;
        kind.append_value(row.kind);
        seq.append_value(row.seq);
        supersedes.append_option(row.supersedes);
        deleted.append_value(row.deleted);
        let texts: [Option<&str>; 13] = [
            Some(post.platform.as_str()),
            Some(post.id.as_str()),
            post.author_id.as_deref(),
            post.author_handle.as_deref(),
            post.author_name.as_deref(),
            Some(post.text.as_str()),
            post.lang.as_deref(),
            post.url.as_deref(),
            post.reply_to.as_deref(),
            post.reply_to_author.as_deref(),
            post.quote_of.as_deref(),
            post.repost_of.as_deref(),
            post.conversation_id.as_deref(),
        ];
        for (builder, value) in strings.iter_mut().zip(texts) {
            builder.append_option(value);
        }
        followers.append_option(as_i64(post.author_followers));
        created.append_value(post.created_at.timestamp_micros());
        for (builder, values) in lists.iter_mut().zip([&post.hashtags, &post.mentions, &post.links])
        {
            if values.is_empty() {
                builder.append_null();
            } else {
                for value in values {
                    builder.values().append_value(value);
                }
                builder.append(true);
            }
        }
        media.append_value(i32::try_from(post.media_count).unwrap_or(i32::MAX));
        for (builder, value) in counts.iter_mut().zip(post.counts.as_array()) {
            builder.append_option(as_i64(value));
        }
        observed.append_value(post.observed_at.unwrap_or(now).timestamp_micros());
        side.append_option(post.side.map(Side::as_str));
        notes.append(post.annotations.as_deref());
        topic.append_option(
            post.annotations.as_deref().and_then(|notes| notes.topic).map(i64::from),
        );
        fingerprint.append_value(row.fingerprint as i64);
        run.append_value(&row.run_id);
        source.append_value(&row.source);
        position.append_value(row.position.to_string());
        match &row.event {
            Some(event) => {
                event_kind.append_value(match event.kind {
                    EngagementKind::Like => "like",
                    EngagementKind::Repost => "repost",
                });
                subject.append_option(event.subject_id.as_deref());
                undo.append_value(event.undo);
            }
            None => {
                event_kind.append_null();
                subject.append_null();
                undo.append_value(false);
            }
        }
    }

    let mut strings = strings.into_iter().map(|mut builder| Arc::new(builder.finish()) as ArrayRef);
    let mut next_string =
        || strings.next().ok_or_else(|| StoreError::Invariant("string column count".into()));
    let platform = next_string()?;
    let id = next_string()?;
    let author_id = next_string()?;
    let author_handle = next_string()?;
    let author_name = next_string()?;
    let text = next_string()?;
    let lang = next_string()?;
    let url = next_string()?;
    let reply_to = next_string()?;
    let reply_to_author = next_string()?;
    let quote_of = next_string()?;
    let repost_of = next_string()?;
    let conversation_id = next_string()?;
    let mut lists = lists.into_iter().map(|mut builder| Arc::new(builder.finish()) as ArrayRef);
    let mut next_list =
        || lists.next().ok_or_else(|| StoreError::Invariant("list column count".into()));
    let hashtags = next_list()?;
    let mentions = next_list()?;
    let links = next_list()?;
    let mut counts = counts.into_iter().map(|mut builder| Arc::new(builder.finish()) as ArrayRef);
    let mut next_count =
        || counts.next().ok_or_else(|| StoreError::Invariant("count column count".into()));
    let likes = next_count()?;
    let shares = next_count()?;
    let replies = next_count()?;
    let quotes = next_count()?;
    let views = next_count()?;

    let mut columns: Vec<ArrayRef> = vec![
        Arc::new(kind.finish()),
        Arc::new(seq.finish()),
        Arc::new(supersedes.finish()),
        Arc::new(deleted.finish()),
        platform,
        id,
        author_id,
        author_handle,
        author_name,
        Arc::new(followers.finish()),
        Arc::new(created.finish()),
        text,
        lang,
        url,
        reply_to,
        reply_to_author,
        quote_of,
        repost_of,
        conversation_id,
        hashtags,
        mentions,
        links,
        Arc::new(media.finish()),
        likes,
        shares,
        replies,
        quotes,
        views,
        Arc::new(observed.finish()),
        Arc::new(side.finish()),
    ];
    columns.extend(notes.finish());
    columns.extend::<[ArrayRef; 8]>([
        Arc::new(fingerprint.finish()),
        Arc::new(run.finish()),
        Arc::new(source.finish()),
        Arc::new(position.finish()),
        Arc::new(event_kind.finish()),
        Arc::new(subject.finish()),
        Arc::new(undo.finish()),
        Arc::new(topic.finish()),
    ]);
    Ok(RecordBatch::try_new(schema(), columns)?)
}

/// The annotation columns, in schema order.
pub const ANNOTATION_COLUMNS: [&str; 10] = [
    "language",
    "sentiment",
    "sentiment_score",
    "need",
    "entities",
    "addressed_to_brand",
    "simhash",
    "duplicate_of",
    "enrich_skipped",
    "enriched_with",
];

/// The annotation columns of `posts` (in [`ANNOTATION_COLUMNS`] order), then `side`, then
/// `topic`.
pub fn annotation_arrays(posts: &[Post]) -> [ArrayRef; 12] {
    let mut notes = AnnotationBuilders::with_capacity(posts.len());
    let mut side = StringBuilder::with_capacity(posts.len(), posts.len() * 8);
    let mut topic = Int64Builder::with_capacity(posts.len());
    for post in posts {
        notes.append(post.annotations.as_deref());
        side.append_option(post.side.map(Side::as_str));
        topic.append_option(post.annotations.as_deref().and_then(|n| n.topic).map(i64::from));
    }
    let [a, b, c, d, e, f, g, h, i, j] = notes.finish();
    [a, b, c, d, e, f, g, h, i, j, Arc::new(side.finish()), Arc::new(topic.finish())]
}

/// Builders of the annotation columns, in schema order.
struct AnnotationBuilders {
    language: StringBuilder,
    sentiment: StringBuilder,
    score: Float32Builder,
    need: StringBuilder,
    entities: ListBuilder<StringBuilder>,
    addressed: BooleanBuilder,
    simhash: Int64Builder,
    duplicate_of: StringBuilder,
    skipped: StringBuilder,
    enriched_with: StringBuilder,
}

impl AnnotationBuilders {
    fn with_capacity(capacity: usize) -> AnnotationBuilders {
        AnnotationBuilders {
            language: StringBuilder::with_capacity(capacity, capacity * 2),
            sentiment: StringBuilder::with_capacity(capacity, capacity * 8),
            score: Float32Builder::with_capacity(capacity),
            need: StringBuilder::with_capacity(capacity, capacity * 5),
            entities: ListBuilder::new(StringBuilder::new()),
            addressed: BooleanBuilder::with_capacity(capacity),
            simhash: Int64Builder::with_capacity(capacity),
            duplicate_of: StringBuilder::new(),
            skipped: StringBuilder::new(),
            enriched_with: StringBuilder::with_capacity(capacity, capacity * 48),
        }
    }

    fn append(&mut self, notes: Option<&Annotations>) {
        let Some(notes) = notes else {
            self.language.append_null();
            self.sentiment.append_null();
            self.score.append_null();
            self.need.append_null();
            self.entities.append_null();
            self.addressed.append_null();
            self.simhash.append_null();
            self.duplicate_of.append_null();
            self.skipped.append_null();
            self.enriched_with.append_null();
            return;
        };
        self.language.append_option(notes.language.as_deref());
        self.sentiment.append_option(notes.sentiment.map(Sentiment::as_str));
        self.score.append_option(notes.sentiment_score);
        self.need.append_option(notes.need.map(Need::as_str));
        if notes.entities.is_empty() {
            self.entities.append_null();
        } else {
            for entity in &notes.entities {
                self.entities.values().append_value(entity);
            }
            self.entities.append(true);
        }
        self.addressed.append_value(notes.addressed_to_brand);
        self.simhash.append_value(notes.simhash as i64);
        self.duplicate_of.append_option(notes.duplicate_of.as_deref());
        self.skipped.append_option(notes.skipped.as_deref());
        self.enriched_with.append_value(&notes.enriched_with);
    }

    fn finish(mut self) -> [ArrayRef; 10] {
        [
            Arc::new(self.language.finish()),
            Arc::new(self.sentiment.finish()),
            Arc::new(self.score.finish()),
            Arc::new(self.need.finish()),
            Arc::new(self.entities.finish()),
            Arc::new(self.addressed.finish()),
            Arc::new(self.simhash.finish()),
            Arc::new(self.duplicate_of.finish()),
            Arc::new(self.skipped.finish()),
            Arc::new(self.enriched_with.finish()),
        ]
    }
}

/// Reads a stored post row back (the columns of `schema()` by name).
pub struct RowReader<'a> {
    batch: &'a RecordBatch,
}

impl<'a> RowReader<'a> {
    /// Wraps a batch that has (at least) the post columns of `schema()`.
    pub fn new(batch: &'a RecordBatch) -> RowReader<'a> {
        RowReader { batch }
    }

    fn column(&self, name: &str) -> Result<&'a ArrayRef, StoreError> {
        self.batch
            .column_by_name(name)
            .ok_or_else(|| StoreError::Invariant(format!("missing column `{name}`")))
    }

    fn text(&self, name: &str, row: usize) -> Result<Option<String>, StoreError> {
        let column = self.column(name)?;
        Ok(text_value(column, row))
    }

    fn int(&self, name: &str, row: usize) -> Result<Option<i64>, StoreError> {
        let column = self.column(name)?;
        let ints = column
            .as_primitive_opt::<Int64Type>()
            .ok_or_else(|| StoreError::Invariant(format!("column `{name}` is not int64")))?;
        Ok(if ints.is_null(row) { None } else { Some(ints.value(row)) })
    }

    fn time(&self, name: &str, row: usize) -> Result<Option<DateTime<Utc>>, StoreError> {
        let column = self.column(name)?;
        let times = column
            .as_primitive_opt::<TimestampMicrosecondType>()
            .ok_or_else(|| StoreError::Invariant(format!("column `{name}` is not a timestamp")))?;
        Ok(if times.is_null(row) {
            None
        } else {
            DateTime::from_timestamp_micros(times.value(row))
        })
    }

    fn strings(&self, name: &str, row: usize) -> Result<Vec<String>, StoreError> {
        let column = self.column(name)?;
        let lists = column
            .as_list_opt::<i32>()
            .ok_or_else(|| StoreError::Invariant(format!("column `{name}` is not a list")))?;
        if lists.is_null(row) {
            return Ok(Vec::new());
        }
        let values = lists.value(row);
        Ok((0..values.len()).filter_map(|index| text_value(&values, index)).collect())
    }

    /// The post stored in row `row`.
    pub fn post(&self, row: usize) -> Result<Post, StoreError> {
        let unsigned = |value: Option<i64>| value.map(|value| value.max(0) as u64);
        let required = |value: Option<String>, name: &str| {
            value.ok_or_else(|| StoreError::Invariant(format!("null `{name}` in a stored row")))
        };
        let created_at = self
            .time("created_at", row)?
            .ok_or_else(|| StoreError::Invariant("null `created_at` in a stored row".into()))?;
        let media = self.column("media_count")?;
        let media_count = media
            .as_primitive_opt::<Int32Type>()
            .map(|ints| if ints.is_null(row) { 0 } else { ints.value(row).max(0) as u32 })
            .unwrap_or(0);
        Ok(Post {
            platform: required(self.text("platform", row)?, "platform")?,
            id: required(self.text("id", row)?, "id")?,
            author_id: self.text("author_id", row)?,
            author_handle: self.text("author_handle", row)?,
            author_name: self.text("author_name", row)?,
            author_followers: unsigned(self.int("author_followers", row)?),
            created_at,
            text: self.text("text", row)?.unwrap_or_default(),
            lang: self.text("lang", row)?,
            url: self.text("url", row)?,
            reply_to: self.text("reply_to", row)?,
            reply_to_author: self.text("reply_to_author", row)?,
            quote_of: self.text("quote_of", row)?,
            repost_of: self.text("repost_of", row)?,
            conversation_id: self.text("conversation_id", row)?,
            hashtags: self.strings("hashtags", row)?,
            mentions: self.strings("mentions", row)?,
            links: self.strings("links", row)?,
            media_count,
            counts: Counts {
                likes: unsigned(self.int("likes", row)?),
                shares: unsigned(self.int("shares", row)?),
                replies: unsigned(self.int("replies", row)?),
                quotes: unsigned(self.int("quotes", row)?),
                views: unsigned(self.int("views", row)?),
            },
            observed_at: self.time("observed_at", row)?,
            side: self.text("side", row)?.as_deref().and_then(Side::parse),
            annotations: self.annotations(row)?.map(Box::new),
        })
    }

    /// The annotations stored in row `row`, when the row has been enriched.
    pub fn annotations(&self, row: usize) -> Result<Option<Annotations>, StoreError> {
        let Some(enriched_with) = self.text("enriched_with", row)? else { return Ok(None) };
        let score = self.column("sentiment_score")?;
        let sentiment_score = score
            .as_primitive_opt::<Float32Type>()
            .and_then(|scores| (!scores.is_null(row)).then(|| scores.value(row)));
        let addressed = self.column("addressed_to_brand")?;
        let addressed_to_brand =
            addressed.as_boolean_opt().is_some_and(|flags| !flags.is_null(row) && flags.value(row));
        Ok(Some(Annotations {
            language: self.text("language", row)?,
            sentiment: self.text("sentiment", row)?.as_deref().and_then(Sentiment::parse),
            sentiment_score,
            need: self.text("need", row)?.as_deref().and_then(Need::parse),
            entities: self.strings("entities", row)?,
            addressed_to_brand,
            // `simhash` is internal: the `posts` view does not show it.
            simhash: if self.batch.column_by_name("simhash").is_some() {
                self.int("simhash", row)?.unwrap_or(0) as u64
            } else {
                0
            },
            duplicate_of: self.text("duplicate_of", row)?,
            skipped: self.text("enrich_skipped", row)?,
            enriched_with,
            // Optional: views and older tables may not carry it.
            topic: if self.batch.column_by_name("topic_id").is_some() {
                self.int("topic_id", row)?.and_then(|id| u32::try_from(id).ok())
            } else {
                None
            },
        }))
    }

    /// The `seq` of row `row`.
    pub fn seq(&self, row: usize) -> Result<i64, StoreError> {
        self.int("seq", row)?.ok_or_else(|| StoreError::Invariant("null `seq`".into()))
    }
}

/// The text at `row` of a string column, whichever string layout the engine chose
/// (`Utf8`, `LargeUtf8` or `Utf8View`); `None` for a null or a non-text column.
pub fn text_value(column: &ArrayRef, row: usize) -> Option<String> {
    if column.is_null(row) {
        return None;
    }
    if let Some(strings) = column.as_string_opt::<i32>() {
        return Some(strings.value(row).to_owned());
    }
    if let Some(strings) = column.as_string_view_opt() {
        return Some(strings.value(row).to_owned());
    }
    column.as_string_opt::<i64>().map(|strings| strings.value(row).to_owned())
}

/// A string column as `Utf8`, casting other layouts.
pub fn utf8(column: &ArrayRef) -> Result<datafusion::arrow::array::StringArray, StoreError> {
    let cast = datafusion::arrow::compute::cast(column, &DataType::Utf8)?;
    cast.as_string_opt::<i32>()
        .cloned()
        .ok_or_else(|| StoreError::Invariant("a text column could not be read as text".into()))
}
