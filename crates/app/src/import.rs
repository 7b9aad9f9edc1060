//! `waterline import`: read inputs, enrich, and store, with exact accounting.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use chrono::Utc;
use rayon::prelude::*;
use waterline_enrich::accounts::AccountBook;
use waterline_enrich::side::SideEnricher;
use waterline_enrich::{Chain, Enrichment};
use waterline_ingest::{Format, Mapping, Output};
use waterline_model::{ImportReport, Record, Rejected};
use waterline_store::{BatchContext, Identity, Store};

use crate::workspace::{Workspace, WriteLock};

/// What to import and how.
pub struct ImportOptions {
    /// Paths, globs or `-`.
    pub inputs: Vec<String>,
    /// A forced format.
    pub format: Option<Format>,
    /// A column mapping for CSV and generic JSON lines.
    pub mapping: Option<Mapping>,
    /// Records per batch (one Delta commit each).
    pub batch_size: usize,
    /// Told how far each input got (the CLI draws a progress bar with it).
    pub progress: Option<std::sync::Arc<dyn Progress>>,
    /// Annotate posts (language, sentiment, needs, entities, near-duplicates) as they are
    /// imported; without it only the side and author details are derived.
    pub enrich: bool,
}

/// A parsed, enriched chunk with its records' identities, ready to stage.
struct Prepared {
    output: Output,
    identities: Vec<Identity>,
    /// Posts the pharmacovigilance screening flagged (PHARMA.md PV-1).
    candidates: Vec<crate::pv::Candidate>,
    /// The topic model, when assigning this chunk changed it: saved before the chunk is
    /// committed, so that no stored post names a topic the saved model lacks.
    topic_model: Option<waterline_analytics::topics::TopicModel>,
}

/// What the reader thread needs to enrich chunks.
struct Enricher {
    book: AccountBook,
    enrichment: Enrichment,
    screener: Option<crate::pv::Screener>,
}

impl Enricher {
    /// Enriches, assigns topics and screens a chunk. With `detach_model`, a changed topic
    /// model travels with the chunk (its committer saves it) and counts as saved here.
    fn prepare(&mut self, mut output: Output, detach_model: bool, last: bool) -> Prepared {
        if last && let Some(assigner) = self.enrichment.topics.as_mut() {
            assigner.end_with_next_batch();
        }
        for located in &output.records {
            if let Record::Account(account) = &located.record {
                self.book.add(account);
            }
        }
        let mut posts: Vec<&mut waterline_model::Post> = output
            .records
            .iter_mut()
            .filter_map(|located| match &mut located.record {
                Record::Post(post) => Some(post.as_mut()),
                _ => None,
            })
            .collect();
        if !self.book.is_empty() {
            let book = &self.book;
            posts.par_iter_mut().for_each(|post| book.fill(post));
        }
        let started = std::time::Instant::now();
        self.enrichment.run(posts);
        let enrich_seconds = started.elapsed().as_secs_f64();
        let candidates = match &self.screener {
            Some(screener) => output
                .records
                .par_iter()
                .filter_map(|located| match &located.record {
                    Record::Post(post) => screener.screen(post),
                    _ => None,
                })
                .collect(),
            None => Vec::new(),
        };
        tracing::debug!(
            records = output.records.len(),
            enrich_seconds,
            screen_seconds = started.elapsed().as_secs_f64() - enrich_seconds,
            "prepared a batch"
        );
        let identities = waterline_store::identities(&output.records);
        let topic_model = match self.enrichment.topics.as_mut() {
            Some(assigner) if detach_model => {
                let model = assigner.unsaved().cloned();
                assigner.mark_saved();
                model
            }
            _ => None,
        };
        Prepared { output, identities, candidates, topic_model }
    }
}

/// One input's outcome.
#[derive(Debug, Clone, serde::Serialize)]
pub struct InputOutcome {
    /// The input's path.
    pub path: String,
    /// Its detected format.
    pub format: String,
    /// Its accounting.
    pub report: ImportReport,
    /// Records of this input that an earlier run had already committed (from the Delta
    /// transaction id): a re-run after a kill shows how far the killed run got.
    pub previously_committed_records: i64,
    /// Pharmacovigilance cases this input opened (`waterline pv list`).
    pub pv_cases: u64,
}

/// Expands globs; a path that matches nothing is an error naming it.
pub fn expand(inputs: &[String]) -> Result<Vec<String>> {
    let mut paths = Vec::new();
    for input in inputs {
        if input == "-" {
            paths.push(input.clone());
            continue;
        }
        if input.contains(['*', '?', '[']) {
            let mut matched: Vec<PathBuf> = glob::glob(input)
                .with_context(|| format!("invalid glob `{input}`"))?
                .filter_map(std::result::Result::ok)
                .filter(|path| path.is_file())
                .collect();
            if matched.is_empty() {
                bail!("no file matches `{input}`");
            }
            matched.sort();
            paths.extend(matched.into_iter().map(|path| path.to_string_lossy().into_owned()));
        } else {
            let path = Path::new(input);
            if !path.exists() {
                bail!("cannot read `{input}`: no such file");
            }
            paths.push(input.clone());
        }
    }
    Ok(paths)
}

fn application_id(path: &str) -> String {
    if path == "-" {
        return format!("waterline-import:stdin:{}", uuid::Uuid::now_v7());
    }
    let canonical = fs_err::canonicalize(path)
        .map_or_else(|_| path.to_owned(), |path| path.to_string_lossy().into_owned());
    let metadata = std::fs::metadata(path).ok();
    let size = metadata.as_ref().map_or(0, std::fs::Metadata::len);
    format!("waterline-import:{:016x}:{size}", xxhash_rust::xxh3::xxh3_64(canonical.as_bytes()))
}

/// What an import builds before its first record (the index of stored posts, the account
/// book, the near-duplicate leaders), kept by a long-running process between imports: reused
/// while the store is at the version it left it at, rebuilt otherwise.
pub struct Warm {
    version: Option<u64>,
    enrich: bool,
    index: waterline_store::PostIndex,
    enricher: Enricher,
}

/// Runs an import into a workspace and returns the total and per-input accounting. When
/// it stored anything, the query caches that queries, reports and pages read are built
/// before it returns, not by their first reader (a failure to build them is logged: the
/// posts are stored, and readers build what is missing).
pub async fn run(
    workspace: &Workspace,
    options: ImportOptions,
) -> Result<(ImportReport, Vec<InputOutcome>)> {
    let (total, outcomes) = run_warm(workspace, options, &mut None).await?;
    if total.new + total.updated > 0 {
        let started = std::time::Instant::now();
        let built = async { crate::measure::open(workspace).await?.ensure_caches(workspace).await };
        match built.await {
            Ok(_) => {
                tracing::info!(seconds = started.elapsed().as_secs_f64(), "built the query caches")
            }
            Err(error) => tracing::warn!("cannot build the query caches now: {error:#}"),
        }
        let started = std::time::Instant::now();
        match crate::report::prepare(workspace).await {
            Ok(made) => tracing::info!(
                seconds = started.elapsed().as_secs_f64(),
                "prepared {made} default reports"
            ),
            Err(error) => tracing::warn!("cannot prepare the default reports now: {error:#}"),
        }
    }
    Ok((total, outcomes))
}

/// [`run`], reusing (and leaving) the state of the previous import of this process.
pub async fn run_warm(
    workspace: &Workspace,
    options: ImportOptions,
    warm: &mut Option<Warm>,
) -> Result<(ImportReport, Vec<InputOutcome>)> {
    let paths = expand(&options.inputs)?;
    let data_dir = workspace.data_dir();
    let _lock = WriteLock::acquire(&data_dir)?;
    let mut store = Store::open(&data_dir).await.context("cannot open the workspace store")?;
    let run_id = uuid::Uuid::now_v7().to_string();
    let started = Utc::now();
    store.state().begin_run(&run_id, &paths.join(" "), started.timestamp_millis()).await?;
    let result = import_all(&mut store, workspace, &options, &paths, &run_id, warm).await;
    if result.is_ok() {
        // Many small imports (an ingest endpoint's bodies) leave many small files.
        compact(&mut store).await;
        if let Some(kept) = warm.as_mut() {
            kept.version = store.version(); // compaction keeps every row: the index holds
        }
    }
    let finished = Utc::now().timestamp_millis();
    match &result {
        Ok((total, _)) => store.state().finish_run(&run_id, total, "completed", finished).await?,
        Err(_) => {
            store.state().finish_run(&run_id, &ImportReport::default(), "failed", finished).await?
        }
    }
    result
}

async fn import_all(
    store: &mut Store,
    workspace: &Workspace,
    options: &ImportOptions,
    paths: &[String],
    run_id: &str,
    warm: &mut Option<Warm>,
) -> Result<(ImportReport, Vec<InputOutcome>)> {
    let kept = warm.take().filter(|w| w.version == store.version() && w.enrich == options.enrich);
    let (mut index, mut enricher) = match kept {
        Some(Warm { index, enricher, .. }) => (index, Some(enricher)),
        None => {
            let index = store.load_index().await.context("cannot read the stored posts")?;
            tracing::info!(posts = index.posts.len(), "read the index of stored posts");
            (index, None)
        }
    };
    // Size the index for the inputs up front (about one post per 300 bytes of input) so it
    // is not rehashed again and again as it grows; a wrong guess only costs a rehash.
    let input_bytes: u64 = paths
        .iter()
        .filter_map(|path| std::fs::metadata(path).ok())
        .map(|metadata| metadata.len())
        .sum();
    let expected = usize::try_from(input_bytes / 300).unwrap_or(0).min(50_000_000);
    index.posts.reserve(expected);
    if enricher.is_none() {
        enricher = Some(new_enricher(store, workspace, options).await?);
        tracing::info!("read the account book and the near-duplicate leaders");
    } else if let Some(assigner) =
        enricher.as_mut().and_then(|enricher| enricher.enrichment.topics.as_mut())
    {
        // A warm assigner continues from the model another writer saved meanwhile.
        crate::topics::settle_model(store.data_dir(), assigner)?;
    }
    let screening = enricher.as_ref().is_some_and(|enricher| enricher.screener.is_some());
    let mut known_cases =
        if screening { crate::pv::known_cases(store.state()).await? } else { Default::default() };
    let mut total = ImportReport::default();
    let mut outcomes = Vec::new();
    for (number, path) in paths.iter().enumerate() {
        // Only the last input's last chunk ends the run for topics (one discovery, not one
        // per file).
        let last_input = number + 1 == paths.len();
        let input = waterline_ingest::open(path, options.format, options.mapping.as_ref())?;
        let format_name = input.format().name().to_owned();
        let app_id = application_id(path);
        let previously = store.transaction_version(&app_id).await?.unwrap_or(0);
        let progress = options.progress.clone();
        if let Some(progress) = &progress {
            progress.start(path);
        }
        let mut report = ImportReport::default();
        let mut pv_cases = 0;
        let mut inflight = None;
        // Read and parse the next chunk on a blocking thread while this one is staged and
        // committed: the two stages overlap on two cores.
        let (sender, mut receiver) = tokio::sync::mpsc::channel(1);
        let batch_size = options.batch_size;
        let mut worker = enricher.take().context("internal error: the enricher is gone")?;
        let reader = tokio::task::spawn_blocking(move || {
            let mut input = input;
            // One chunk read ahead, so that the last chunk is known as such when it is
            // prepared (topics discover what waits at the end of a file).
            let mut ahead = input.next_chunk(batch_size);
            loop {
                let chunk = match ahead {
                    Ok(Some(output)) => {
                        ahead = input.next_chunk(batch_size);
                        let last = last_input && !matches!(ahead, Ok(Some(_)));
                        Ok(Some(worker.prepare(output, true, last)))
                    }
                    Ok(None) => Ok(None),
                    Err(error) => {
                        ahead = Ok(None);
                        Err(error)
                    }
                };
                let stop = !matches!(chunk, Ok(Some(_)));
                if sender.blocking_send(chunk).is_err() || stop {
                    break;
                }
            }
            worker
        });
        loop {
            let phase = std::time::Instant::now();
            let Some(chunk) = receiver.recv().await else { break };
            let Some(Prepared { output, identities, candidates, topic_model }) = chunk? else {
                break;
            };
            if let Some(model) = &topic_model {
                crate::topics::save_model(store.data_dir(), model)?;
            }
            let wait_seconds = phase.elapsed().as_secs_f64();
            let now = Utc::now();
            report.read += output.read();
            report.rejected += output.rejected.len() as u64;
            let records = output.records;
            pv_cases += write_state(
                store.state(),
                run_id,
                path,
                output.rejected,
                &records,
                candidates,
                &mut known_cases,
                now,
            )
            .await?;
            let context = BatchContext { run_id, source: path, now };
            let wanted = index.rows_to_fetch(&records, &identities);
            if !wanted.is_empty() {
                // Staging reads stored rows back: the previous commit must be visible first.
                settle(store, &mut inflight).await?;
            }
            let staged =
                store.stage_fetched(&mut index, records, &identities, &wanted, &context).await?;
            let stage_seconds = phase.elapsed().as_secs_f64() - wait_seconds;
            report.new += staged.report.new;
            report.updated += staged.report.updated;
            report.unchanged += staged.report.unchanged;
            report.other += staged.report.other;
            let rows = staged.rows.len();
            // Convert to Arrow while the previous commit is still writing; Delta commits are
            // sequential: wait for it, then start this one in the background while the next
            // chunk is parsed, enriched and staged.
            let prepared = waterline_store::prepare_rows(staged.rows, now)?;
            settle(store, &mut inflight).await?;
            let version = i64::try_from(report.read).unwrap_or(i64::MAX);
            inflight =
                prepared.map(|prepared| store.spawn_prepared(prepared, app_id.clone(), version));
            tracing::debug!(
                input = %path,
                records = report.read,
                rows,
                wait_seconds,
                stage_seconds,
                batch_seconds = phase.elapsed().as_secs_f64(),
                "committed a batch"
            );
            if let Some(progress) = &progress {
                progress.read(report.read);
            }
        }
        settle(store, &mut inflight).await?;
        drop(receiver);
        enricher = Some(reader.await.context("the input reader stopped")?);
        if let Some(progress) = progress {
            progress.finish();
        }
        if !report.balances() {
            bail!("internal error: the accounting of `{path}` does not balance: {report:?}");
        }
        total.add(&report);
        outcomes.push(InputOutcome {
            path: path.clone(),
            format: format_name,
            report,
            previously_committed_records: previously,
            pv_cases,
        });
    }
    tracing::info!(inputs = paths.len(), "stored every input");
    if let Some(mut enricher) = enricher {
        // What waited for a topic may form new ones now (its posts are stored without one).
        if let Some(assigner) = enricher.enrichment.topics.as_mut() {
            assigner.flush();
            crate::topics::settle_model(store.data_dir(), assigner)?;
        }
        *warm = Some(Warm { version: store.version(), enrich: options.enrich, index, enricher });
    }
    Ok((total, outcomes))
}

/// The account book, the enrichment chain and the near-duplicate leaders of the store.
async fn new_enricher(
    store: &Store,
    workspace: &Workspace,
    options: &ImportOptions,
) -> Result<Enricher> {
    let mut book = AccountBook::default();
    for account in store.state().accounts().await? {
        book.add(&account);
    }
    let chain = if options.enrich {
        waterline_enrich::models::default_chain(&workspace.config)
    } else {
        Chain::new().with(Box::new(SideEnricher::new(workspace.config.side_resolver())))
    };
    let mut near_duplicates = waterline_enrich::neardup::NearDupIndex::new();
    if options.enrich {
        for (simhash, id) in store.near_duplicate_leaders().await? {
            near_duplicates.add_leader(simhash, &id);
        }
    }
    let screener = Some(crate::pv::Screener::new(&workspace.config))
        .filter(|screener| options.enrich && screener.enabled());
    let topics = options.enrich.then(|| crate::topics::assigner(workspace));
    Ok(Enricher { book, enrichment: Enrichment { chain, near_duplicates, topics }, screener })
}

/// What a batch writes to the state database besides its rows: its rejections (with the
/// input they came from), the cases screening opened, and the accounts it carried. Returns
/// the number of cases opened.
#[allow(clippy::too_many_arguments)]
async fn write_state(
    state: &waterline_store::state::StateDb,
    run_id: &str,
    file: &str,
    rejected: Vec<waterline_ingest::Rejection>,
    records: &[waterline_model::Located],
    candidates: Vec<crate::pv::Candidate>,
    known_cases: &mut std::collections::HashMap<String, String>,
    now: chrono::DateTime<Utc>,
) -> Result<u64> {
    let rejects: Vec<Rejected> = rejected
        .into_iter()
        .map(|rejection| Rejected {
            file: file.to_owned(),
            position: rejection.position,
            field: rejection.error.field,
            reason: rejection.error.reason,
            excerpt: rejection.excerpt,
        })
        .collect();
    state.add_rejects(run_id, &rejects).await?;
    let opened = if candidates.is_empty() {
        0
    } else {
        crate::pv::capture(state, candidates, known_cases, now).await?
    };
    let accounts: Vec<_> = records
        .iter()
        .filter_map(|located| match &located.record {
            Record::Account(account) => Some(account.clone()),
            _ => None,
        })
        .collect();
    if !accounts.is_empty() {
        state.upsert_accounts(&accounts, now.timestamp_millis()).await?;
    }
    Ok(opened)
}

/// Waits for the commit in flight, if any, and adopts the table state it produced.
async fn settle(
    store: &mut Store,
    inflight: &mut Option<waterline_store::CommitTask>,
) -> Result<()> {
    if let Some(task) = inflight.take() {
        store.finish_commit(task).await.context("cannot write to the store")?;
    }
    Ok(())
}

/// Told how far an import got; the application layer never prints.
pub trait Progress: Send + Sync {
    /// An input starts.
    fn start(&self, input: &str);
    /// Records read so far from the current input.
    fn read(&self, records: u64);
    /// The current input is done.
    fn finish(&self);
}

/// What one live batch did.
#[derive(Debug, Default)]
pub struct Committed {
    /// Its accounting.
    pub report: ImportReport,
}

/// A batch enriched and screened, waiting to be written.
pub struct Pending {
    output: Output,
    identities: Vec<Identity>,
    candidates: Vec<crate::pv::Candidate>,
    /// Posts of the batch the store did not hold (enriched), in batch order.
    pub fresh: Vec<waterline_model::Post>,
    /// Posts screening flagged that have no case yet: (the case id it will open, the post).
    pub flagged: Vec<(String, waterline_model::Post)>,
}

impl Pending {
    /// Appends another prepared batch of the same source, so several batches make one commit.
    pub fn absorb(&mut self, other: Pending) {
        let Pending { output, identities, candidates, fresh, flagged } = other;
        self.output.records.extend(output.records);
        self.output.rejected.extend(output.rejected);
        self.identities.extend(identities);
        self.candidates.extend(candidates);
        self.fresh.extend(fresh);
        self.flagged.extend(flagged);
    }
}

/// Compacts the table's small files once there are many (under the write lock the caller
/// holds): a live source commits about twice a second, and without it every reader's table
/// state, query plans and memory grow with the commits. A failure (another writer rewrote
/// the same files meanwhile) is logged and tried again after a later commit.
pub(crate) async fn compact(store: &mut Store) {
    let started = std::time::Instant::now();
    match store.compact_when_fragmented().await {
        Ok(Some((removed, added))) => tracing::info!(
            removed,
            added,
            seconds = started.elapsed().as_secs_f64(),
            "compacted the table's small files"
        ),
        Ok(None) => {}
        Err(error) => {
            tracing::warn!(%error, "cannot compact the table's small files; trying later");
        }
    }
}

/// The long-running writer of `waterline listen`: the index, the enrichment chain and the
/// screening stay in memory between batches. The workspace write lock is taken for each
/// commit only, so imports and the ingest endpoint may write between two batches; when one
/// did, the index is rebuilt before the next batch is staged.
pub struct Sink {
    data_dir: PathBuf,
    store: Store,
    index: waterline_store::PostIndex,
    enricher: Enricher,
    known_cases: std::collections::HashMap<String, String>,
    run_id: String,
    committed: i64,
}

impl Sink {
    /// Opens the store and builds the index and the enrichment chain (with screening).
    pub async fn open(workspace: &Workspace) -> Result<Sink> {
        let data_dir = workspace.data_dir();
        let store = Store::open(&data_dir).await.context("cannot open the workspace store")?;
        let index = store.load_index().await.context("cannot read the stored posts")?;
        let options = ImportOptions {
            inputs: Vec::new(),
            format: None,
            mapping: None,
            batch_size: 0,
            progress: None,
            enrich: true,
        };
        let enricher = new_enricher(&store, workspace, &options).await?;
        let known_cases = crate::pv::known_cases(store.state()).await?;
        let run_id = uuid::Uuid::now_v7().to_string();
        store.state().begin_run(&run_id, "live sources", Utc::now().timestamp_millis()).await?;
        Ok(Sink { data_dir, store, index, enricher, known_cases, run_id, committed: 0 })
    }

    /// The workspace state.
    pub fn state(&self) -> &waterline_store::state::StateDb {
        self.store.state()
    }

    /// Enriches and screens a batch (on the calling thread, with rayon), and says which of
    /// its posts the store does not hold yet, so alerts can look at them before the commit.
    pub fn prepare(&mut self, output: Output) -> Pending {
        let Prepared { output, identities, candidates, topic_model: _ } =
            self.enricher.prepare(output, false, false);
        let mut fresh = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (located, identity) in output.records.iter().zip(&identities) {
            if let Record::Post(post) = &located.record
                && !self.index.posts.contains_key(&identity.key)
                && seen.insert(identity.key)
            {
                fresh.push(post.as_ref().clone());
            }
        }
        let flagged = candidates
            .iter()
            .filter(|candidate| !self.known_cases.contains_key(&candidate.post_key))
            .filter_map(|candidate| {
                output.records.iter().find_map(|located| match &located.record {
                    Record::Post(post)
                        if format!("{}:{}", post.platform, post.id) == candidate.post_key =>
                    {
                        Some((candidate.case_id.clone(), post.as_ref().clone()))
                    }
                    _ => None,
                })
            })
            .collect();
        Pending { output, identities, candidates, fresh, flagged }
    }

    /// Writes a prepared batch: rejects, cases, accounts, rows (one Delta commit).
    pub async fn commit(&mut self, source: &str, pending: Pending) -> Result<Committed> {
        let Pending { mut output, identities, candidates, .. } = pending;
        // Another writer (an import, the ingest endpoint) holds the lock for one import at
        // most: wait for it rather than fail the live run.
        let mut waited = 0;
        let _lock = loop {
            match WriteLock::acquire(&self.data_dir) {
                Ok(lock) => break lock,
                Err(error) if waited >= 600 => return Err(error),
                Err(_) => {
                    waited += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
            }
        };
        if self.store.latest_version().await? != self.store.version() {
            // Another process wrote: adopt its table and rebuild the index from it.
            self.store =
                Store::open(&self.data_dir).await.context("cannot reopen the workspace store")?;
            self.index = self.store.load_index().await.context("cannot read the stored posts")?;
            self.known_cases = crate::pv::known_cases(self.store.state()).await?;
            // Staging compares against the index just rebuilt: the identities still hold.
        }
        if let Some(assigner) = self.enricher.enrichment.topics.as_mut() {
            // `prepare` saved nothing: the model is saved here, under the lock, unless another
            // writer changed it meanwhile; then the batch is assigned again with theirs.
            if crate::topics::settle_model(&self.data_dir, assigner)? {
                let mut posts: Vec<&mut waterline_model::Post> = output
                    .records
                    .iter_mut()
                    .filter_map(|located| match &mut located.record {
                        Record::Post(post) if post.annotations.is_some() => Some(post.as_mut()),
                        _ => None,
                    })
                    .collect();
                assigner.assign(&mut posts);
                crate::topics::settle_model(&self.data_dir, assigner)?;
            }
        }
        let now = Utc::now();
        let mut report = ImportReport { read: output.read(), ..ImportReport::default() };
        report.rejected = output.rejected.len() as u64;
        let label = format!("live:{source}");
        let records = output.records;
        write_state(
            self.store.state(),
            &self.run_id,
            &label,
            output.rejected,
            &records,
            candidates,
            &mut self.known_cases,
            now,
        )
        .await?;
        let context = BatchContext { run_id: &self.run_id, source: &label, now };
        let wanted = self.index.rows_to_fetch(&records, &identities);
        let staged = self
            .store
            .stage_fetched(&mut self.index, records, &identities, &wanted, &context)
            .await?;
        report.new += staged.report.new;
        report.updated += staged.report.updated;
        report.unchanged += staged.report.unchanged;
        report.other += staged.report.other;
        if let Some(prepared) = waterline_store::prepare_rows(staged.rows, now)? {
            self.committed += i64::try_from(report.read).unwrap_or(i64::MAX);
            let task = self.store.spawn_prepared(
                prepared,
                format!("waterline-live:{}", self.run_id),
                self.committed,
            );
            self.store.finish_commit(task).await.context("cannot write to the store")?;
            compact(&mut self.store).await;
        }
        if !report.balances() {
            bail!("internal error: the accounting of a live batch does not balance: {report:?}");
        }
        Ok(Committed { report })
    }

    /// Records the end of the live run with its total.
    pub async fn finish(&self, total: &ImportReport) -> Result<()> {
        let now = Utc::now().timestamp_millis();
        self.store.state().finish_run(&self.run_id, total, "completed", now).await?;
        Ok(())
    }
}
