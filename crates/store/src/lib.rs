//! The embedded store: a Delta Lake table for posts and engagement events (read with
//! Apache DataFusion), and SQLite through sqlx for transactional state (import runs,
//! rejected records, accounts; later users, tokens, cases and cursors).
//!
//! Engine types stay inside this crate and `analytics`; callers see `waterline-model` types.

pub mod chain;
pub mod index;
pub mod live;
pub mod schema;
pub mod state;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::Int64Type;
use datafusion::prelude::SessionContext;
use deltalake::DeltaTable;
use deltalake::kernel::Transaction;
use deltalake::kernel::transaction::CommitProperties;
use deltalake::protocol::SaveMode;
use waterline_model::{Located, Post, post_key};

pub use index::{BatchContext, Identity, KeyMap, PostIndex, Staged, identities};
pub use state::StateDb;

/// Errors of the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The Delta table failed.
    #[error("delta table: {0}")]
    Delta(#[from] deltalake::DeltaTableError),
    /// DataFusion failed.
    #[error("query engine: {0}")]
    DataFusion(#[from] datafusion::error::DataFusionError),
    /// Arrow failed.
    #[error("arrow: {0}")]
    Arrow(#[from] datafusion::arrow::error::ArrowError),
    /// The state database failed.
    #[error("state database: {0}")]
    State(#[from] sqlx::Error),
    /// A file-system operation failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The workspace is in use by another import.
    #[error("the workspace `{0}` is locked by another waterline process")]
    Locked(String),
    /// Something that must hold did not.
    #[error("store invariant broken: {0}")]
    Invariant(String),
}

/// Name of the table of stored records inside the data directory.
pub const RECORDS_TABLE: &str = "records";

/// The size small files are compacted into: large enough that a long live run keeps a few
/// files an hour, small enough that one compaction rewrites little (a file this size is not
/// rewritten again).
pub const COMPACT_TARGET_BYTES: u64 = 16 * 1024 * 1024;

/// How many small files make a table worth compacting.
pub const COMPACT_WHEN_SMALL_FILES: usize = 100;

/// The key of the chain heads in a posts commit's metadata.
pub const CHAIN_HEADS_KEY: &str = "waterline.chain_heads";

/// The embedded store of one workspace.
pub struct Store {
    data_dir: PathBuf,
    table: DeltaTable,
    state: StateDb,
}

/// The engine's configuration for every session over the store: DataFusion's defaults,
/// with filters evaluated while the Parquet files are decoded (late materialisation: a
/// query that picks a few posts by id or by period decodes their long text columns only,
/// not every row's), cheapest filters first. `DATAFUSION_*` environment variables override
/// any of it (for example `DATAFUSION_EXECUTION_PARQUET_PUSHDOWN_FILTERS=false`, to compare).
pub fn session_config() -> datafusion::prelude::SessionConfig {
    let mut config = datafusion::prelude::SessionConfig::new();
    config.options_mut().execution.parquet.pushdown_filters = true;
    config.options_mut().execution.parquet.reorder_filters = true;
    match datafusion::config::ConfigOptions::from_env() {
        Ok(from_env) => {
            for entry in from_env.entries() {
                let key = entry.key.replace('.', "_").to_uppercase();
                if std::env::var_os(&key).is_some()
                    && let Some(value) = entry.value
                {
                    let _ = config.options_mut().set(&entry.key, &value);
                }
            }
        }
        Err(error) => tracing::warn!("ignoring the DATAFUSION_* environment: {error}"),
    }
    config
}

impl Store {
    /// Opens (creating when missing) the store under `data_dir`.
    pub async fn open(data_dir: &Path) -> Result<Store, StoreError> {
        fs_err::create_dir_all(data_dir.join(RECORDS_TABLE))?;
        let data_dir = fs_err::canonicalize(data_dir)?;
        let url = deltalake::ensure_table_uri(data_dir.join(RECORDS_TABLE).to_string_lossy())?;
        let mut table = deltalake::DeltaTableBuilder::from_url(url)?.build()?;
        if data_dir.join(RECORDS_TABLE).join("_delta_log").is_dir() {
            table.load().await?;
            table = upgrade(table).await?;
        }
        let state = StateDb::open(&data_dir.join("state.db")).await?;
        Ok(Store { data_dir, table, state })
    }

    /// This store brought up to the newest version on disk: it shares the state database
    /// and reads only the commits made since (a fresh [`Store::open`] replays the log from
    /// its last checkpoint, which under a live source is up to a hundred commit files a
    /// second, each decoded with its own large buffers).
    pub async fn refreshed(&self) -> Result<Store, StoreError> {
        let mut table = self.table.clone();
        if table.version().is_some() {
            table.update_incremental(None).await?;
        } else if self.data_dir.join(RECORDS_TABLE).join("_delta_log").is_dir() {
            table.load().await?;
        }
        Ok(Store { data_dir: self.data_dir.clone(), table, state: self.state.clone() })
    }

    /// Compacts the table's small files (each live commit writes one) into files of up to
    /// `target_bytes`, in one commit; rows are rewritten unchanged, readers of older
    /// versions keep working. Returns how many files it removed and added.
    pub async fn compact(&mut self, target_bytes: u64) -> Result<(u64, u64), StoreError> {
        if !self.has_data() {
            return Ok((0, 0));
        }
        let target = std::num::NonZeroU64::new(target_bytes.max(1))
            .ok_or_else(|| StoreError::Invariant("a zero target size".to_owned()))?;
        let (table, metrics) = self
            .table
            .clone()
            .optimize()
            .with_target_size(target)
            .with_writer_properties(writer_properties())
            .with_max_concurrent_tasks(1)
            .await?;
        self.table = table;
        Ok((metrics.num_files_removed, metrics.num_files_added))
    }

    /// How many data files the current version holds.
    pub fn file_count(&self) -> usize {
        self.table.snapshot().map_or(0, |snapshot| snapshot.log_data().num_files())
    }

    /// How many data files of the current version are smaller than `bytes`.
    pub fn small_files(&self, bytes: u64) -> usize {
        let limit = i64::try_from(bytes).unwrap_or(i64::MAX);
        self.table.snapshot().map_or(0, |snapshot| {
            snapshot.log_data().iter().filter(|file| file.size() < limit).count()
        })
    }

    /// Compacts when the table holds [`COMPACT_WHEN_SMALL_FILES`] files smaller than
    /// [`COMPACT_TARGET_BYTES`] (a live source or an ingest endpoint writes one a commit):
    /// without it every reader's table state, query plans and memory grow with the commits
    /// rather than with the data. `None` when there was nothing to do.
    pub async fn compact_when_fragmented(&mut self) -> Result<Option<(u64, u64)>, StoreError> {
        if self.small_files(COMPACT_TARGET_BYTES) < COMPACT_WHEN_SMALL_FILES {
            return Ok(None);
        }
        self.compact(COMPACT_TARGET_BYTES).await.map(Some)
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The transactional state database.
    pub fn state(&self) -> &StateDb {
        &self.state
    }

    /// The Delta table version, or `None` before the first commit.
    pub fn version(&self) -> Option<u64> {
        self.table.version()
    }

    /// The newest version on disk (another process may have committed since this store
    /// was opened), or `None` before the first commit. Cheap: it probes from the version
    /// this store is at.
    pub async fn latest_version(&self) -> Result<Option<u64>, StoreError> {
        let Some(current) = self.table.version() else {
            let log = self.data_dir.join(RECORDS_TABLE).join("_delta_log");
            let any = fs_err::read_dir(&log).map(|mut entries| entries.next().is_some());
            return Ok(if any.unwrap_or(false) { Some(0) } else { None });
        };
        let latest = self.table.log_store().get_latest_version(current).await?;
        Ok(Some(latest))
    }

    /// True once at least one batch was committed.
    pub fn has_data(&self) -> bool {
        self.table.version().is_some()
    }

    /// The chain heads the posts table's commits recorded: `(where, heads)`, one per
    /// distinct head, read from the table's log.
    pub async fn chain_anchors(&self) -> Result<Vec<(String, chain::Heads)>, StoreError> {
        use futures::TryStreamExt as _;
        let mut anchors: Vec<(String, chain::Heads)> = Vec::new();
        if !self.has_data() {
            return Ok(anchors);
        }
        let mut history = self.table.history(None);
        while let Some(commit) = history.try_next().await? {
            let Some(value) = commit.info.get(CHAIN_HEADS_KEY) else { continue };
            let Ok(heads) = serde_json::from_value::<chain::Heads>(value.clone()) else { continue };
            if heads == chain::Heads::default() || anchors.iter().any(|(_, known)| *known == heads)
            {
                continue;
            }
            let at = commit
                .timestamp
                .and_then(chrono::DateTime::from_timestamp_millis)
                .map_or_else(|| "?".to_owned(), |at| at.to_rfc3339());
            anchors.push((format!("the posts table's commit of {at}"), heads));
        }
        Ok(anchors)
    }

    /// A DataFusion context with the `records` table registered.
    pub async fn session(&self) -> Result<SessionContext, StoreError> {
        let context = SessionContext::new_with_config(session_config());
        if self.has_data() {
            self.table.update_datafusion_session(&context.state())?;
            let provider = self.table.table_provider().await?;
            context.register_table(RECORDS_TABLE, provider)?;
        } else {
            let empty = datafusion::datasource::MemTable::try_new(schema::schema(), vec![vec![]])?;
            context.register_table(RECORDS_TABLE, Arc::new(empty))?;
        }
        Ok(context)
    }

    /// Rebuilds the import index from the table.
    pub async fn load_index(&self) -> Result<PostIndex, StoreError> {
        let mut index = PostIndex::default();
        if !self.has_data() {
            return Ok(index);
        }
        let context = self.session().await?;
        let max_seq = collect(&context, "SELECT max(seq) AS m FROM records").await?;
        index.next_seq = first_i64(&max_seq).map_or(0, |max| max + 1);
        let superseded = collect(
            &context,
            "SELECT supersedes FROM records WHERE kind = 'post' AND supersedes IS NOT NULL",
        )
        .await?;
        let mut superseded_set = std::collections::HashSet::new();
        for batch in &superseded {
            if let Some(column) = batch.column(0).as_primitive_opt::<Int64Type>() {
                superseded_set.extend(column.iter().flatten());
            }
        }
        let posts = collect(
            &context,
            "SELECT platform, id, seq, deleted, fingerprint, likes, shares, replies, quotes, views, \
             author_followers, observed_at FROM records WHERE kind = 'post' ORDER BY seq",
        )
        .await?;
        for batch in &posts {
            let platform = schema::utf8(batch.column(0))?;
            let id = schema::utf8(batch.column(1))?;
            let seq = int64(batch, 2)?;
            let deleted = boolean(batch, 3)?;
            let fingerprint = int64(batch, 4)?;
            let counts =
                (5..11).map(|column| int64(batch, column)).collect::<Result<Vec<_>, _>>()?;
            let observed = batch
                .column(11)
                .as_primitive_opt::<datafusion::arrow::datatypes::TimestampMicrosecondType>()
                .ok_or_else(|| StoreError::Invariant("`observed_at` is not a timestamp".into()))?;
            for row in 0..batch.num_rows() {
                let row_seq = seq.value(row);
                let value = |column: usize| {
                    counts.get(column).and_then(|array| {
                        (!array.is_null(row)).then(|| array.value(row).max(0) as u64)
                    })
                };
                let post_counts = waterline_model::Counts {
                    likes: value(0),
                    shares: value(1),
                    replies: value(2),
                    quotes: value(3),
                    views: value(4),
                };
                let followers = value(5);
                let key = post_key(platform.value(row), id.value(row));
                let row_fingerprint = fingerprint.value(row) as u64;
                let row_counts_hash = index::counts_hash(&post_counts, followers);
                if superseded_set.contains(&row_seq) {
                    let hash = index::observation_hash(row_fingerprint, row_counts_hash);
                    let history = index.history.entry(key).or_default();
                    if !history.contains(&hash) {
                        history.push(hash);
                    }
                    continue;
                }
                index.posts.insert(
                    key,
                    index::Entry {
                        seq: row_seq,
                        fingerprint: row_fingerprint,
                        counts_hash: row_counts_hash,
                        present: index::present_mask(&post_counts, followers),
                        observed_at: observed.value(row),
                        deleted: deleted.value(row),
                    },
                );
            }
        }
        let events = collect(
            &context,
            "SELECT platform, id, subject_id, event_kind, undo FROM records WHERE kind = 'event' ORDER BY seq",
        )
        .await?;
        for batch in &events {
            let platform = schema::utf8(batch.column(0))?;
            let id = schema::utf8(batch.column(1))?;
            let subject = schema::utf8(batch.column(2))?;
            let kind = schema::utf8(batch.column(3))?;
            let undo = boolean(batch, 4)?;
            for row in 0..batch.num_rows() {
                let key = index::event_key(platform.value(row), id.value(row));
                let engagement = if kind.value(row) == "repost" {
                    waterline_model::EngagementKind::Repost
                } else {
                    waterline_model::EngagementKind::Like
                };
                let (subject_key, delta) = if undo.value(row) {
                    match index.events.get(&key).copied() {
                        Some(entry) if entry.active => {
                            index.events.insert(key, index::EventEntry { active: false, ..entry });
                            (entry.subject, -1i64)
                        }
                        _ => (None, 0),
                    }
                } else {
                    let subject_key = (!subject.is_null(row))
                        .then(|| post_key(platform.value(row), subject.value(row)));
                    index.events.insert(
                        key,
                        index::EventEntry { subject: subject_key, kind: engagement, active: true },
                    );
                    (subject_key, 1)
                };
                if let Some(subject_key) = subject_key
                    && delta != 0
                    && !index.posts.contains_key(&subject_key)
                {
                    let pending = index.pending.entry(subject_key).or_default();
                    let counter = match engagement {
                        waterline_model::EngagementKind::Like => &mut pending.likes,
                        waterline_model::EngagementKind::Repost => &mut pending.reposts,
                    };
                    *counter = (*counter as i64 + delta).max(0) as u64;
                }
            }
        }
        Ok(index)
    }

    /// Reads back the stored posts with the given `seq`s, keyed by post key.
    pub async fn fetch(&self, seqs: &[i64]) -> Result<KeyMap<Post>, StoreError> {
        let mut posts = KeyMap::default();
        if seqs.is_empty() || !self.has_data() {
            return Ok(posts);
        }
        let context = self.session().await?;
        for chunk in seqs.chunks(5_000) {
            let list = chunk.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
            let minimum = chunk.first().copied().unwrap_or(0);
            let maximum = chunk.last().copied().unwrap_or(0);
            let sql = format!(
                "SELECT * FROM records WHERE kind = 'post' AND seq BETWEEN {minimum} AND {maximum} AND seq IN ({list})"
            );
            for batch in collect(&context, &sql).await? {
                let reader = schema::RowReader::new(&batch);
                for row in 0..batch.num_rows() {
                    let post = reader.post(row)?;
                    posts.insert(post.key(), post);
                }
            }
        }
        Ok(posts)
    }

    /// Stages a batch against the index (reading back what it needs) and returns the rows.
    pub async fn stage(
        &self,
        index: &mut PostIndex,
        records: Vec<Located>,
        identities: &[Identity],
        context: &BatchContext<'_>,
    ) -> Result<Staged, StoreError> {
        let wanted = index.rows_to_fetch(&records, identities);
        self.stage_fetched(index, records, identities, &wanted, context).await
    }

    /// Like [`Store::stage`], when the caller already has `PostIndex::rows_to_fetch`.
    pub async fn stage_fetched(
        &self,
        index: &mut PostIndex,
        records: Vec<Located>,
        identities: &[Identity],
        wanted: &[i64],
        context: &BatchContext<'_>,
    ) -> Result<Staged, StoreError> {
        let stored = self.fetch(wanted).await?;
        Ok(index::stage(index, records, identities, &stored, context))
    }

    /// Starts the commit of `rows` (with `(app_id, version)`) as a background task, so the
    /// caller can stage the next batch meanwhile. Hand the table the task returns to
    /// [`Store::finish_commit`] before starting another commit or reading the table.
    pub fn spawn_commit(
        &self,
        rows: Vec<schema::Row>,
        app_id: String,
        version: i64,
        now: DateTime<Utc>,
    ) -> Result<Option<CommitTask>, StoreError> {
        Ok(prepare_rows(rows, now)?.map(|prepared| self.spawn_prepared(prepared, app_id, version)))
    }

    /// Starts the commit of rows already converted by [`prepare_rows`] (see
    /// [`Store::spawn_commit`]).
    pub fn spawn_prepared(
        &self,
        prepared: PreparedRows,
        app_id: String,
        version: i64,
    ) -> CommitTask {
        let table = self.table.clone();
        // The audit and PV chains' heads ride along in the commit: a second record, outside
        // the state database, of how far each chain went (ADR 018).
        let heads = serde_json::to_value(self.state.recorded_heads()).unwrap_or_default();
        CommitTask(tokio::spawn(async move {
            let started = std::time::Instant::now();
            let properties = CommitProperties::default()
                .with_application_transaction(Transaction::new(app_id, version))
                .with_metadata([(CHAIN_HEADS_KEY.to_owned(), heads)]);
            let table = table
                .write(prepared.0)
                .with_writer_properties(writer_properties())
                .with_save_mode(SaveMode::Append)
                .with_partition_columns(["kind"])
                .with_commit_properties(properties)
                .await?;
            tracing::debug!(write_seconds = started.elapsed().as_secs_f64(), "wrote a commit");
            Ok(table)
        }))
    }

    /// Waits for a background commit and adopts the table state it produced.
    pub async fn finish_commit(&mut self, task: CommitTask) -> Result<(), StoreError> {
        let table = task.0.await.map_err(|error| {
            StoreError::Invariant(format!("the commit task stopped: {error}"))
        })??;
        self.table = table;
        Ok(())
    }

    /// Appends rows and records `(app_id, version)` in the same Delta commit, and waits for it.
    pub async fn commit(
        &mut self,
        rows: Vec<schema::Row>,
        app_id: &str,
        version: i64,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        match self.spawn_commit(rows, app_id.to_owned(), version, now)? {
            Some(task) => self.finish_commit(task).await,
            None => Ok(()),
        }
    }

    /// The leaders of the stored near-duplicate groups, `(simhash, id)`, oldest first.
    pub async fn near_duplicate_leaders(&self) -> Result<Vec<(u64, String)>, StoreError> {
        if !self.has_data() {
            return Ok(Vec::new());
        }
        let context = self.session().await?;
        let batches = collect(
            &context,
            "SELECT simhash, id, min(seq) AS first FROM records \
             WHERE kind = 'post' AND simhash IS NOT NULL AND simhash <> 0 AND duplicate_of IS NULL \
             GROUP BY simhash, id ORDER BY first",
        )
        .await?;
        let mut leaders = Vec::new();
        for batch in &batches {
            let simhash = int64(batch, 0)?;
            let id = schema::utf8(batch.column(1))?;
            for row in 0..batch.num_rows() {
                leaders.push((simhash.value(row) as u64, id.value(row).to_owned()));
            }
        }
        Ok(leaders)
    }

    /// The number of stored post rows whose annotations were not made by `signature`
    /// (every row when `all`), and the number of post rows.
    pub async fn stale_posts(&self, signature: &str, all: bool) -> Result<(u64, u64), StoreError> {
        if !self.has_data() {
            return Ok((0, 0));
        }
        let context = self.session().await?;
        let quoted = signature.replace('\'', "''");
        let batches = collect(
            &context,
            &format!(
                "SELECT count(*) AS total, \
                 sum(CASE WHEN enriched_with IS NULL OR enriched_with <> '{quoted}' THEN 1 ELSE 0 END) AS stale \
                 FROM records WHERE kind = 'post'"
            ),
        )
        .await?;
        let total = first_i64(&batches).unwrap_or(0).max(0) as u64;
        let stale = batches
            .first()
            .and_then(|batch| batch.column(1).as_primitive_opt::<Int64Type>().cloned())
            .and_then(|column| (!column.is_empty() && !column.is_null(0)).then(|| column.value(0)))
            .unwrap_or(0)
            .max(0) as u64;
        Ok((if all { total } else { stale }, total))
    }

    /// Rewrites every post row with new annotations (and side), in one Delta commit that
    /// replaces the `post` partition: `annotate` gets the posts of each batch in `seq` order
    /// and returns them annotated. Rows keep their `seq`, history and provenance.
    pub async fn rewrite_annotations(
        &mut self,
        mut annotate: impl FnMut(Vec<Post>) -> Vec<Post>,
    ) -> Result<u64, StoreError> {
        use datafusion::arrow::array::ArrayRef;
        if !self.has_data() {
            return Ok(0);
        }
        let target = schema::schema();
        let context = self.session().await?;
        let columns = target
            .fields()
            .iter()
            .map(|field| field.name().as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let batches = collect(
            &context,
            &format!("SELECT {columns} FROM records WHERE kind = 'post' ORDER BY seq"),
        )
        .await?;
        let replaced: Vec<usize> = schema::ANNOTATION_COLUMNS
            .iter()
            .chain(["side", "topic_id"].iter())
            .filter_map(|name| target.index_of(name).ok())
            .collect();
        let mut rewritten = Vec::with_capacity(batches.len());
        let mut rows = 0u64;
        for batch in &batches {
            let reader = schema::RowReader::new(batch);
            let posts =
                (0..batch.num_rows()).map(|row| reader.post(row)).collect::<Result<Vec<_>, _>>()?;
            let posts = annotate(posts);
            let fresh = schema::annotation_arrays(&posts);
            let mut arrays: Vec<ArrayRef> = Vec::with_capacity(target.fields().len());
            for (index, field) in target.fields().iter().enumerate() {
                let column = match replaced.iter().position(|replaced| *replaced == index) {
                    Some(position) => fresh
                        .get(position)
                        .cloned()
                        .ok_or_else(|| StoreError::Invariant("annotation column count".into()))?,
                    None => batch.column(index).clone(),
                };
                arrays.push(datafusion::arrow::compute::cast(&column, field.data_type())?);
            }
            rows += batch.num_rows() as u64;
            rewritten.push(RecordBatch::try_new(target.clone(), arrays)?);
        }
        let table = self
            .table
            .clone()
            .write(rewritten)
            .with_writer_properties(writer_properties())
            .with_save_mode(SaveMode::Overwrite)
            .with_replace_where("kind = 'post'".to_owned())
            .with_partition_columns(["kind"])
            .await?;
        self.table = table;
        Ok(rows)
    }

    /// Rewrites one column of every post row with a scalar function of other columns, in
    /// one Delta commit that replaces the `post` partition, streaming (the engine reads,
    /// computes and writes batch by batch: memory does not grow with the table). Rows keep
    /// everything else. Returns the number of post rows.
    pub async fn rewrite_post_column(
        &mut self,
        column: &str,
        function: datafusion::logical_expr::ScalarUDF,
        arguments: &[&str],
    ) -> Result<u64, StoreError> {
        if !self.has_data() {
            return Ok(0);
        }
        let target = schema::schema();
        if target.index_of(column).is_err() {
            return Err(StoreError::Invariant(format!("no column `{column}` to rewrite")));
        }
        let context = self.session().await?;
        let name = function.name().to_owned();
        context.register_udf(function);
        let rows = first_i64(
            &collect(&context, "SELECT count(*) FROM records WHERE kind = 'post'").await?,
        )
        .unwrap_or(0)
        .max(0) as u64;
        let columns = target
            .fields()
            .iter()
            .map(|field| {
                if field.name() == column {
                    format!(
                        "CAST({name}({}) AS {}) AS {column}",
                        arguments.join(", "),
                        sql_type(field.data_type())
                    )
                } else {
                    field.name().clone()
                }
            })
            .collect::<Vec<_>>()
            .join(", ");
        let frame =
            context.sql(&format!("SELECT {columns} FROM records WHERE kind = 'post'")).await?;
        let plan = frame.logical_plan().clone();
        let table = self
            .table
            .clone()
            .write(Vec::new())
            .with_input_plan(plan)
            .with_writer_properties(writer_properties())
            .with_save_mode(SaveMode::Overwrite)
            .with_replace_where("kind = 'post'".to_owned())
            .with_partition_columns(["kind"])
            .await?;
        self.table = table;
        Ok(rows)
    }

    /// The last version committed for an application id (an input's progress).
    pub async fn transaction_version(&self, app_id: &str) -> Result<Option<i64>, StoreError> {
        if !self.has_data() {
            return Ok(None);
        }
        let snapshot = self.table.snapshot()?;
        Ok(snapshot.transaction_version(self.table.log_store().as_ref(), app_id).await?)
    }
}

/// Adds the columns a newer Waterline defines to a table an older one created (for example
/// the annotation columns); old rows read them as NULL until `waterline enrich` fills them.
async fn upgrade(table: DeltaTable) -> Result<DeltaTable, StoreError> {
    use deltalake::kernel::engine::arrow_conversion::TryIntoKernel as _;
    let existing = table.snapshot()?.schema();
    let mut missing: Vec<deltalake::kernel::StructField> = Vec::new();
    for field in schema::schema().fields() {
        if existing.field(field.name()).is_none() {
            missing.push(field.as_ref().try_into_kernel()?);
        }
    }
    if missing.is_empty() {
        return Ok(table);
    }
    tracing::info!(columns = missing.len(), "adding the columns of a newer schema to the table");
    Ok(table.add_columns().with_fields(missing).await?)
}

/// The SQL name of a column type the rewrite casts to.
fn sql_type(data_type: &datafusion::arrow::datatypes::DataType) -> &'static str {
    use datafusion::arrow::datatypes::DataType;
    match data_type {
        DataType::Int64 => "BIGINT",
        DataType::Int32 => "INT",
        DataType::Float32 => "FLOAT",
        DataType::Boolean => "BOOLEAN",
        _ => "VARCHAR",
    }
}

/// Parquet settings of the `records` files: Snappy, and no dictionary encoding or string
/// statistics for columns whose values are nearly all distinct (texts, ids, positions),
/// where a dictionary is built and thrown away and statistics never prune anything.
fn writer_properties() -> deltalake::parquet::file::properties::WriterProperties {
    use deltalake::parquet::basic::Compression;
    use deltalake::parquet::file::properties::{EnabledStatistics, WriterProperties};
    use deltalake::parquet::schema::types::ColumnPath;
    let mut builder = WriterProperties::builder().set_compression(Compression::SNAPPY);
    for column in [
        "seq",
        "id",
        "text",
        "url",
        "reply_to",
        "quote_of",
        "repost_of",
        "conversation_id",
        "fingerprint",
        "simhash",
        "source_position",
        "duplicate_of",
        "subject_id",
    ] {
        let path = ColumnPath::from(column);
        builder = builder.set_column_dictionary_enabled(path.clone(), false);
        if !matches!(column, "seq" | "id") {
            builder = builder.set_column_statistics_enabled(path, EnabledStatistics::None);
        }
    }
    builder.build()
}

/// Rows converted to Arrow record batches, ready for [`Store::spawn_prepared`].
pub struct PreparedRows(Vec<RecordBatch>);

/// Converts rows to Arrow in parallel (chunks of 5,000 rows), on the caller's thread, so
/// the conversion of one batch overlaps the write of the previous one. `None` for no rows.
pub fn prepare_rows(
    rows: Vec<schema::Row>,
    now: DateTime<Utc>,
) -> Result<Option<PreparedRows>, StoreError> {
    use rayon::prelude::*;
    if rows.is_empty() {
        return Ok(None);
    }
    let started = std::time::Instant::now();
    let batches = rows
        .par_chunks(5_000)
        .map(|chunk| schema::to_batch(chunk, now))
        .collect::<Result<Vec<_>, _>>()?;
    tracing::debug!(arrow_seconds = started.elapsed().as_secs_f64(), "converted rows to Arrow");
    Ok(Some(PreparedRows(batches)))
}

/// A commit running in the background (see [`Store::spawn_commit`]).
pub struct CommitTask(tokio::task::JoinHandle<Result<DeltaTable, StoreError>>);

/// Runs a query and collects its batches.
pub async fn collect(context: &SessionContext, sql: &str) -> Result<Vec<RecordBatch>, StoreError> {
    Ok(context.sql(sql).await?.collect().await?)
}

fn first_i64(batches: &[RecordBatch]) -> Option<i64> {
    let batch = batches.first()?;
    if batch.num_rows() == 0 {
        return None;
    }
    let column = batch.column(0).as_primitive_opt::<Int64Type>()?;
    (!column.is_null(0)).then(|| column.value(0))
}

fn int64(
    batch: &RecordBatch,
    column: usize,
) -> Result<&datafusion::arrow::array::Int64Array, StoreError> {
    batch
        .column(column)
        .as_primitive_opt::<Int64Type>()
        .ok_or_else(|| StoreError::Invariant(format!("column {column} is not int64")))
}

fn boolean(
    batch: &RecordBatch,
    column: usize,
) -> Result<&datafusion::arrow::array::BooleanArray, StoreError> {
    batch
        .column(column)
        .as_boolean_opt()
        .ok_or_else(|| StoreError::Invariant(format!("column {column} is not boolean")))
}
