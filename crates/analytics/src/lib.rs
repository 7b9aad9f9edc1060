//! Analytics: SQL over the store through DataFusion. It defines the `posts` and
//! `observations` views, runs read-only SQL for power users, and writes exports.
//!
//! This is the only crate that writes SQL over the posts (with `store` for its own
//! bookkeeping). Callers get JSON values or files, never engine types.

pub mod alerts;
pub mod compare;
pub mod hours;
pub mod metrics;
pub mod posts;
pub mod query;
pub mod refit;
pub mod reports;
pub mod status;
/// Topic models live with the other annotators (assigned on arrival); re-exported here.
pub use waterline_enrich::topics;

use std::path::Path;
use std::time::{Duration, Instant};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::dataframe::DataFrameWriteOptions;
use datafusion::execution::context::SQLOptions;
use datafusion::prelude::SessionContext;
use waterline_store::{Store, StoreError, collect, schema::RowReader};

/// Errors of analytics.
#[derive(Debug, thiserror::Error)]
pub enum AnalyticsError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The query failed (syntax, unknown column, a write statement).
    #[error("query failed: {0}")]
    Query(#[from] datafusion::error::DataFusionError),
    /// Results could not be rendered.
    #[error("cannot render results: {0}")]
    Render(#[from] datafusion::arrow::error::ArrowError),
    /// A file could not be written.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// JSON failed.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    /// A query could not be planned.
    #[error(transparent)]
    Plan(#[from] query::QueryError),
}

/// The columns of the `posts` view, in order (documented in `docs/schema.md`).
pub const POST_COLUMNS: &[&str] = &[
    "platform",
    "id",
    "author_id",
    "author_handle",
    "author_name",
    "author_followers",
    "created_at",
    "text",
    "lang",
    "url",
    "reply_to",
    "reply_to_author",
    "quote_of",
    "repost_of",
    "conversation_id",
    "hashtags",
    "mentions",
    "links",
    "media_count",
    "likes",
    "shares",
    "replies",
    "quotes",
    "views",
    "side",
    "language",
    "sentiment",
    "sentiment_score",
    "need",
    "entities",
    "addressed_to_brand",
    "duplicate_of",
    "enrich_skipped",
    "enriched_with",
    "topic_id",
    "observed_at",
    "import_run",
    "source",
    "source_position",
];

/// The SQL of the `posts` view: one row per post with its latest state. `with_updates`
/// adds the anti-join that drops superseded rows; without updates every post row is latest.
pub fn posts_view_sql(with_updates: bool) -> String {
    let columns =
        POST_COLUMNS.iter().map(|column| format!("r.{column}")).collect::<Vec<_>>().join(", ");
    if with_updates {
        format!(
            "SELECT {columns} FROM records r \
             LEFT ANTI JOIN (SELECT supersedes FROM records WHERE kind = 'post' AND supersedes IS NOT NULL) s \
             ON r.seq = s.supersedes \
             WHERE r.kind = 'post' AND NOT r.deleted"
        )
    } else {
        format!("SELECT {columns} FROM records r WHERE r.kind = 'post' AND NOT r.deleted")
    }
}

/// The SQL of the `observations` view: every observed state of every post's counts.
pub const OBSERVATIONS_VIEW_SQL: &str = "SELECT platform, id, observed_at, likes, shares, replies, quotes, views, \
     author_followers, import_run FROM records WHERE kind = 'post' AND NOT deleted";

/// Posts streamed batch by batch ([`Analytics::post_batches`]).
pub struct PostBatches {
    stream: datafusion::physical_plan::SendableRecordBatchStream,
}

impl PostBatches {
    /// The next batch of posts, `None` at the end.
    pub async fn next(&mut self) -> Option<Result<Vec<waterline_model::Post>, AnalyticsError>> {
        use futures::StreamExt;
        let batch = match self.stream.next().await? {
            Ok(batch) => batch,
            Err(error) => return Some(Err(error.into())),
        };
        let reader = RowReader::new(&batch);
        Some(
            (0..batch.num_rows())
                .map(|row| reader.post(row).map_err(AnalyticsError::from))
                .collect(),
        )
    }
}

/// A DataFusion session with the workspace's views registered.
pub struct Analytics {
    context: SessionContext,
}

impl Analytics {
    /// Registers the views over a store.
    pub async fn open(store: &Store) -> Result<Analytics, AnalyticsError> {
        let context = store.session().await?;
        let updates = collect(
            &context,
            "SELECT count(*) AS n FROM records WHERE kind = 'post' AND (supersedes IS NOT NULL OR deleted)",
        )
        .await?;
        let with_updates = updates
            .first()
            .and_then(|batch| {
                batch.column(0).as_any().downcast_ref::<datafusion::arrow::array::Int64Array>()
            })
            .is_some_and(|counts| !counts.is_empty() && counts.value(0) > 0);
        context.sql(&format!("CREATE VIEW posts AS {}", posts_view_sql(with_updates))).await?;
        context.sql(&format!("CREATE VIEW observations AS {OBSERVATIONS_VIEW_SQL}")).await?;
        context.register_udf(hours::udf(hours::Schedule::default_utc()));
        let analytics = Analytics { context };
        analytics.register_business(&[])?;
        Ok(analytics)
    }

    /// Sets the care desk's schedule used by `waterline_business_hours`.
    pub fn set_schedule(&self, schedule: hours::Schedule) {
        self.context.register_udf(hours::udf(schedule));
    }

    /// Registers (replacing) the `business` table: imported business series.
    pub fn register_business(&self, points: &[BusinessPoint]) -> Result<(), AnalyticsError> {
        use datafusion::arrow::array::{Date32Builder, Float64Builder, StringBuilder};
        use datafusion::arrow::datatypes::{DataType, Field, Schema};
        use std::sync::Arc;
        let schema = Arc::new(Schema::new(vec![
            Field::new("day", DataType::Date32, false),
            Field::new("series", DataType::Utf8, false),
            Field::new("value", DataType::Float64, false),
            Field::new("product", DataType::Utf8, true),
            Field::new("competitor", DataType::Utf8, true),
        ]));
        let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
        let mut day = Date32Builder::with_capacity(points.len());
        let mut series = StringBuilder::new();
        let mut value = Float64Builder::with_capacity(points.len());
        let mut product = StringBuilder::new();
        let mut competitor = StringBuilder::new();
        for point in points {
            day.append_value((point.day - epoch).num_days() as i32);
            series.append_value(&point.series);
            value.append_value(point.value);
            product.append_option(point.product.as_deref());
            competitor.append_option(point.competitor.as_deref());
        }
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(day.finish()),
                Arc::new(series.finish()),
                Arc::new(value.finish()),
                Arc::new(product.finish()),
                Arc::new(competitor.finish()),
            ],
        )?;
        let table = datafusion::datasource::MemTable::try_new(schema, vec![vec![batch]])?;
        self.context.deregister_table("business")?;
        self.context.register_table("business", Arc::new(table))?;
        Ok(())
    }

    /// Builds a cache table (the daily `rollup` of [`query::rollup_sql`], the
    /// `conversations` of [`query::conversations_sql`]) into one Parquet file and registers
    /// it under `name`. Returns its rows.
    pub async fn build_cache(
        &self,
        name: &str,
        sql: &str,
        path: &Path,
    ) -> Result<u64, AnalyticsError> {
        // Streamed from the query to the file: a cache of millions of conversations is never
        // held in memory.
        let frame = self.context.sql(sql).await?;
        let schema = std::sync::Arc::new(frame.schema().as_arrow().clone());
        let temporary = path.with_extension("parquet.tmp");
        if temporary.exists() {
            fs_err::remove_file(&temporary)?;
        }
        let single = DataFrameWriteOptions::new().with_single_file_output(true);
        let rows = written(&frame.write_parquet(&temporary.to_string_lossy(), single, None).await?);
        if !temporary.exists() {
            // No rows: a file with the columns all the same, so that queries still plan.
            let file = fs_err::File::create(&temporary)?;
            datafusion::parquet::arrow::ArrowWriter::try_new(file, schema, None)
                .and_then(|writer| writer.close().map(|_| ()))
                .map_err(|error| AnalyticsError::Query(error.into()))?;
        }
        fs_err::rename(&temporary, path)?;
        self.register_cache(name, path).await?;
        Ok(rows)
    }

    /// Registers (replacing) a cache file built earlier under `name`.
    pub async fn register_cache(&self, name: &str, path: &Path) -> Result<(), AnalyticsError> {
        self.context.deregister_table(name)?;
        self.context
            .register_parquet(
                name,
                &path.to_string_lossy(),
                datafusion::prelude::ParquetReadOptions::default(),
            )
            .await?;
        Ok(())
    }

    /// Registers (replacing) the workspace's topic names, `topic_names(id, name)` with names
    /// spelled `#id label` as the `topic` dimension shows them, and the view
    /// `post_topics(platform, id, topic)` over the posts' stored assignments.
    pub async fn register_topics(&self, names: &[(u32, String)]) -> Result<(), AnalyticsError> {
        use datafusion::arrow::array::{Int64Builder, StringBuilder};
        use datafusion::arrow::datatypes::{DataType, Field, Schema};
        use std::sync::Arc;
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("name", DataType::Utf8, false),
        ]));
        let mut ids = Int64Builder::with_capacity(names.len());
        let mut labels = StringBuilder::new();
        for (id, name) in names {
            ids.append_value(i64::from(*id));
            labels.append_value(name);
        }
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![Arc::new(ids.finish()), Arc::new(labels.finish())],
        )?;
        let table = datafusion::datasource::MemTable::try_new(schema, vec![vec![batch]])?;
        self.context.deregister_table("topic_names")?;
        self.context.register_table("topic_names", Arc::new(table))?;
        self.context.deregister_table("post_topics")?;
        self.context
            .sql(
                "CREATE VIEW post_topics AS SELECT p.platform, p.id, n.name AS topic \
                 FROM posts p JOIN topic_names n ON n.id = p.topic_id",
            )
            .await?;
        Ok(())
    }

    /// Caps how many partitions (threads) one query runs on: a server rebuilding its caches
    /// in the background leaves the other cores to ingests and readers.
    pub fn set_parallelism(&self, partitions: usize) {
        let state = self.context.state_ref();
        let mut state = state.write();
        state.config_mut().options_mut().execution.target_partitions = partitions.max(1);
    }

    /// Runs one read-only SQL statement (no DDL, DML or other statements).
    pub async fn query(&self, sql: &str) -> Result<Vec<RecordBatch>, AnalyticsError> {
        let options = SQLOptions::new()
            .with_allow_ddl(false)
            .with_allow_dml(false)
            .with_allow_statements(false);
        let frame = self.context.sql_with_options(sql, options).await?;
        Ok(frame.collect().await?)
    }

    /// Runs a query twice and returns the rows and the second (warm) execution time.
    pub async fn query_timed(
        &self,
        sql: &str,
    ) -> Result<(Vec<RecordBatch>, Duration), AnalyticsError> {
        self.query(sql).await?;
        let start = Instant::now();
        let batches = self.query(sql).await?;
        Ok((batches, start.elapsed()))
    }

    /// The posts matching an SQL condition over the `posts` view, oldest first. The caller
    /// bounds the condition (a window, a list of ids): never every post of a workspace.
    pub async fn posts_where(
        &self,
        condition: &str,
    ) -> Result<Vec<waterline_model::Post>, AnalyticsError> {
        use futures::StreamExt;
        let frame = self
            .context
            .sql(&format!(
                "SELECT * FROM posts WHERE {condition} ORDER BY created_at, platform, id"
            ))
            .await?;
        let mut stream = frame.execute_stream().await?;
        let mut posts = Vec::new();
        while let Some(batch) = stream.next().await {
            let batch = batch?;
            let reader = RowReader::new(&batch);
            for row in 0..batch.num_rows() {
                posts.push(reader.post(row)?);
            }
        }
        Ok(posts)
    }

    /// The posts matching an SQL condition over the `posts` view, batch by batch as the
    /// engine streams them, in no particular order: memory holds one batch at a time.
    pub async fn post_batches(&self, condition: &str) -> Result<PostBatches, AnalyticsError> {
        let frame = self.context.sql(&format!("SELECT * FROM posts WHERE {condition}")).await?;
        Ok(PostBatches { stream: frame.execute_stream().await? })
    }

    /// The first and last post times (UTC microseconds) matching a condition.
    pub async fn time_span(&self, condition: &str) -> Result<Option<(i64, i64)>, AnalyticsError> {
        use datafusion::arrow::array::{Array, AsArray};
        use datafusion::arrow::datatypes::Int64Type;
        let batches = self
            .context
            .sql(&format!(
                "SELECT arrow_cast(min(created_at), 'Int64'), arrow_cast(max(created_at), 'Int64') \
                 FROM posts WHERE {condition}"
            ))
            .await?
            .collect()
            .await?;
        let value = |column: usize| {
            let batch = batches.first()?;
            let ints = batch.column(column).as_primitive_opt::<Int64Type>()?;
            (!ints.is_empty() && !ints.is_null(0)).then(|| ints.value(0))
        };
        Ok(value(0).zip(value(1)))
    }

    /// Writes the `posts` view to one file: `csv`, `parquet` or `jsonl` (Waterline JSON lines),
    /// in table order, streaming (memory holds a batch or a row group, not the posts).
    pub async fn export(&self, format: ExportFormat, out: &Path) -> Result<u64, AnalyticsError> {
        let out_text = out.to_string_lossy().to_string();
        let single = DataFrameWriteOptions::new().with_single_file_output(true);
        match format {
            ExportFormat::Parquet => {
                // In table order, streamed: a sort would hold every post (ADR 014).
                let frame = self.context.sql("SELECT * FROM posts").await?;
                Ok(written(&frame.write_parquet(&out_text, single, None).await?))
            }
            ExportFormat::Csv => {
                let columns = POST_COLUMNS
                    .iter()
                    .map(|column| match *column {
                        "hashtags" | "mentions" | "links" | "entities" => {
                            format!("array_to_string({column}, ' ') AS {column}")
                        }
                        other => other.to_owned(),
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                let frame = self.context.sql(&format!("SELECT {columns} FROM posts")).await?;
                Ok(written(&frame.write_csv(&out_text, single, None).await?))
            }
            ExportFormat::Jsonl => {
                use std::io::Write;
                let frame = self.context.sql("SELECT * FROM posts").await?;
                let mut stream = frame.execute_stream().await?;
                let file = fs_err::File::create(out)?;
                let mut writer = std::io::BufWriter::new(file);
                let mut rows = 0u64;
                use futures::StreamExt;
                while let Some(batch) = stream.next().await {
                    let batch = batch?;
                    let reader = RowReader::new(&batch);
                    for row in 0..batch.num_rows() {
                        let post = reader.post(row)?;
                        serde_json::to_writer(&mut writer, &post)?;
                        writer.write_all(b"\n")?;
                        rows += 1;
                    }
                }
                writer.flush()?;
                Ok(rows)
            }
        }
    }
}

/// The rows a DataFusion write reports (its `count` column).
fn written(batches: &[RecordBatch]) -> u64 {
    use datafusion::arrow::array::AsArray;
    use datafusion::arrow::datatypes::UInt64Type;
    batches
        .iter()
        .filter_map(|batch| batch.column(0).as_primitive_opt::<UInt64Type>())
        .flat_map(|counts| counts.values().iter().copied())
        .sum()
}

/// One point of an imported business series (`waterline kpi import`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BusinessPoint {
    /// The local day.
    pub day: chrono::NaiveDate,
    /// The series (`prescriptions`, `sales`, …).
    pub series: String,
    /// The value.
    pub value: f64,
    /// The product it is about, if any.
    pub product: Option<String>,
    /// The competitor it is about (none: the brand).
    pub competitor: Option<String>,
}

/// Export file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// Comma-separated values with a header; lists joined with spaces.
    Csv,
    /// Apache Parquet.
    Parquet,
    /// Waterline JSON lines (imports into any workspace).
    Jsonl,
}

/// Renders batches as a text table.
pub fn to_table(batches: &[RecordBatch]) -> Result<String, AnalyticsError> {
    Ok(pretty_format_batches(batches)?.to_string())
}

/// Renders batches as one JSON array of objects.
pub fn to_json(batches: &[RecordBatch]) -> Result<serde_json::Value, AnalyticsError> {
    let mut buffer = Vec::new();
    {
        let mut writer = arrow_json::ArrayWriter::new(&mut buffer);
        let references: Vec<&RecordBatch> = batches.iter().collect();
        writer.write_batches(&references)?;
        writer.finish()?;
    }
    if buffer.is_empty() {
        return Ok(serde_json::Value::Array(Vec::new()));
    }
    Ok(serde_json::from_slice(&buffer)?)
}

/// Number of rows in batches.
pub fn row_count(batches: &[RecordBatch]) -> usize {
    batches.iter().map(RecordBatch::num_rows).sum()
}
