//! The workspace behind the HTTP server: implements [`Backend`] over the store, the
//! analytics session and the importers, and keeps one snapshot of the posts that it swaps
//! when they change (an import by another process, or an ingest call). The server crate
//! knows HTTP; the use cases it calls are the ones the CLI calls.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use crate::backend::{Backend, BackendResult, NewBaseline, NewMilestone, PostsRequest, ReportKind};
use crate::error::AppError;
use anyhow::Result;
use chrono::NaiveDate;
use serde_json::{Value, json};
use tokio::sync::{Mutex, RwLock};
use waterline_analytics::query::{self, Answer, Filter, Query};
use waterline_store::state::StateDb;

use crate::import::{ImportOptions, run_warm};
use crate::measure::{self, Session};
use crate::workspace::Workspace;

/// Where the answer to one queued ingest body goes.
type IngestReply = tokio::sync::oneshot::Sender<BackendResult<Value>>;

/// One value of a [`Memo`]: computed once; `started` once someone computes it.
struct Entry<V> {
    cell: tokio::sync::OnceCell<V>,
    started: std::sync::atomic::AtomicBool,
}

impl<V> Default for Entry<V> {
    fn default() -> Entry<V> {
        Entry {
            cell: tokio::sync::OnceCell::new(),
            started: std::sync::atomic::AtomicBool::new(false),
        }
    }
}

/// Values computed for one snapshot, by key; emptied when it holds [`KEPT`] of them.
///
/// One computation per key: the first ask computes; an ask that comes while it runs gets
/// the previous snapshot's value of that key when there is one (`earlier`), else waits for
/// the computation. So when posts arrive under load, one request per page pays for the
/// new figures and the others are answered at once from the figures of a moment before,
/// instead of every waiting request computing the same page on every core.
struct Memo<K, V> {
    entries: std::sync::Mutex<HashMap<K, Arc<Entry<V>>>>,
    earlier: HashMap<K, V>,
}

impl<K: std::hash::Hash + Eq + Clone, V: Clone> Memo<K, V> {
    fn new() -> Memo<K, V> {
        Memo { entries: std::sync::Mutex::new(HashMap::new()), earlier: HashMap::new() }
    }

    /// The memo of the next snapshot: empty, with this one's values (or, for keys not
    /// asked here, the ones it inherited) as its earlier values.
    fn successor(&self) -> Memo<K, V> {
        let mut earlier: HashMap<K, V> = HashMap::new();
        if let Ok(entries) = self.entries.lock() {
            for (key, entry) in entries.iter() {
                if let Some(value) = entry.cell.get() {
                    earlier.insert(key.clone(), value.clone());
                }
            }
        }
        for (key, value) in &self.earlier {
            if earlier.len() >= KEPT {
                break;
            }
            earlier.entry(key.clone()).or_insert_with(|| value.clone());
        }
        Memo { entries: std::sync::Mutex::new(HashMap::new()), earlier }
    }

    /// The value of `key`, computed by `compute` unless it is known or being computed
    /// (then the earlier value, or this waits for it). A failed computation is not kept:
    /// the next ask tries again.
    async fn get_or_try<E, F, Fut>(&self, key: K, compute: F) -> Result<V, E>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<V, E>>,
    {
        use std::sync::atomic::Ordering;
        let entry = self.entries.lock().ok().map(|mut entries| {
            if entries.len() >= KEPT && !entries.contains_key(&key) {
                entries.clear();
            }
            entries.entry(key.clone()).or_default().clone()
        });
        let Some(entry) = entry else {
            return compute().await; // a poisoned map: compute without keeping
        };
        if let Some(value) = entry.cell.get() {
            return Ok(value.clone());
        }
        if entry.started.swap(true, Ordering::SeqCst)
            && let Some(value) = self.earlier.get(&key)
        {
            return Ok(value.clone());
        }
        // Should this ask fail or be dropped (its client went away) before the value is
        // known, the next ask computes it.
        let unstart = Unstart(&entry.started);
        let result = entry.cell.get_or_try_init(compute).await.cloned();
        if result.is_ok() {
            std::mem::forget(unstart);
        }
        result
    }
}

/// Clears a [`Memo`] entry's `started` when dropped.
struct Unstart<'a>(&'a std::sync::atomic::AtomicBool);

impl Drop for Unstart<'_> {
    fn drop(&mut self) {
        self.0.store(false, std::sync::atomic::Ordering::SeqCst);
    }
}

/// The most values a snapshot keeps per kind.
const KEPT: usize = 2_000;

/// A report as a snapshot keeps it: kind, period, and the topics a filter picked.
type ReportKey = (ReportKind, Option<NaiveDate>, Option<NaiveDate>, Option<Vec<u32>>);

/// The posts as they were at one store version, with what was computed from them.
struct Snapshot {
    session: Session,
    version: Option<u64>,
    /// Reports by kind and period.
    reports: Memo<ReportKey, Arc<Value>>,
    /// Answers by query (JSON): dashboards ask the same questions.
    answers: Memo<String, Answer>,
    /// Lists of posts by request.
    lists: Memo<String, Value>,
    /// The milestone statuses, once computed.
    milestones: std::sync::Mutex<Option<Arc<Vec<measure::MilestoneStatus>>>>,
    /// The status, once computed.
    status: std::sync::Mutex<Option<crate::status::Status>>,
    /// Its caches hold every post of its version (false while it answers from the caches
    /// of an earlier version): only then are its answers kept on disk ([`crate::kept`]).
    exact: bool,
}

impl Snapshot {
    fn new(session: Session) -> Snapshot {
        let version = session.store.version();
        Snapshot {
            session,
            version,
            reports: Memo::new(),
            answers: Memo::new(),
            lists: Memo::new(),
            milestones: std::sync::Mutex::new(None),
            status: std::sync::Mutex::new(None),
            exact: true,
        }
    }

    /// The snapshot after `previous`: its values are what concurrent asks get while the
    /// first ask computes the new ones.
    fn after(session: Session, previous: &Snapshot) -> Snapshot {
        Snapshot {
            reports: previous.reports.successor(),
            answers: previous.answers.successor(),
            lists: previous.lists.successor(),
            ..Snapshot::new(session)
        }
    }
}

/// A workspace served over HTTP.
pub struct Served {
    workspace: Workspace,
    state: StateDb,
    current: RwLock<Arc<Snapshot>>,
    /// Serialises reloads and ingests.
    writing: Mutex<()>,
    /// Ingest bodies waiting for the writer, each with where its answer goes: whoever gets
    /// the writer imports all of them in one run (one commit, one reload).
    ingest_queue: std::sync::Mutex<Vec<(std::path::PathBuf, IngestReply)>>,
    /// The Delta log folder's modification time and entry count at the last look.
    seen: std::sync::Mutex<Option<(SystemTime, usize)>>,
    /// The current snapshot answers from caches older than its posts: rebuild them next.
    stale: std::sync::atomic::AtomicBool,
    /// One cache rebuild at a time.
    rebuilding: Mutex<()>,
    /// The import state kept between ingests (the index of stored posts and the rest).
    warm: Mutex<Option<crate::import::Warm>>,
    /// The topic names of the saved model, with the model file's time.
    topic_names: std::sync::Mutex<Option<(SystemTime, Vec<String>)>>,
    /// When the posts were last reloaded and the cache last rebuilt, and what each took:
    /// under a live source the store changes every second, and reloading (or rebuilding)
    /// at every change would leave no time to the pipeline on two cores.
    paced: std::sync::Mutex<Pacing>,
    /// The live runner of this process, when the sources run here: ingest bodies go
    /// through it, so the alert rules see their posts as they arrive.
    runner: Option<tokio::sync::mpsc::Sender<crate::live::IngestRequest>>,
    /// The PV cases with the mark of the event log they were rebuilt from.
    pv_cases: PvMemo,
    /// The PV clock and coverage alerts as last computed: for the log's mark and the
    /// snapshot's version, when, and what fired.
    pv_alerts: std::sync::Mutex<Option<PvAlertsMemo>>,
}

/// PV alerts with what they were computed from: the event log's mark, the snapshot's
/// version and the time (clocks move: they are computed again after [`PV_ALERTS_FRESH`]).
type PvAlertsMemo =
    ((i64, Option<i64>), Option<u64>, std::time::Instant, Arc<Vec<waterline_model::pv::PvAlert>>);

/// How long computed PV alerts are shown again unchanged while their cases and posts
/// stay the same (deadlines are days apart; tens of thousands of cases take a third of a
/// second to go through).
const PV_ALERTS_FRESH: std::time::Duration = std::time::Duration::from_secs(10);

/// PV cases as last rebuilt, with the log's mark then.
type PvMemo = Mutex<
    Option<(
        (i64, Option<i64>),
        Arc<std::collections::BTreeMap<String, waterline_model::pv::Case>>,
    )>,
>;

/// The pacing of reloads and cache rebuilds.
#[derive(Debug, Default)]
struct Pacing {
    reloaded: Option<std::time::Instant>,
    reload_cost: std::time::Duration,
    rebuilt: Option<std::time::Instant>,
    rebuild_cost: std::time::Duration,
}

impl Pacing {
    /// Due when at least a second and three times the last reload's cost have passed.
    fn reload_due(&self) -> bool {
        let gap = (self.reload_cost * 3).max(std::time::Duration::from_secs(1));
        self.reloaded.is_none_or(|at| at.elapsed() >= gap)
    }

    /// Due when at least five seconds and five times the last rebuild's cost have passed.
    fn rebuild_due(&self) -> bool {
        let gap = (self.rebuild_cost * 5).max(std::time::Duration::from_secs(5));
        self.rebuilt.is_none_or(|at| at.elapsed() >= gap)
    }
}

/// A body none of whose records could be used is unprocessable (the rejects say why).
fn all_rejected(total: &waterline_model::ImportReport) -> Result<(), AppError> {
    if total.read > 0 && total.read == total.rejected {
        return Err(AppError::new(
            "unprocessable",
            format!(
                "all {} records were rejected (waterline rejects lists why); {}",
                total.rejected,
                total.summary()
            ),
        ));
    }
    Ok(())
}

/// An error of the workspace code as an API error: planning errors are the caller's,
/// missing or taken names have their codes, anything else is internal.
fn internal(error: anyhow::Error) -> AppError {
    if let Some(query) = error.downcast_ref::<query::QueryError>() {
        return AppError::new("invalid_query", query.to_string());
    }
    if let Some(waterline_analytics::AnalyticsError::Plan(query)) =
        error.downcast_ref::<waterline_analytics::AnalyticsError>()
    {
        return AppError::new("invalid_query", query.to_string());
    }
    let text = format!("{error:#}");
    if text.starts_with("no baseline named") || text.starts_with("no milestone named") {
        return AppError::not_found(text);
    }
    if text.starts_with("unknown metric") {
        return AppError::new("invalid_query", text);
    }
    AppError::internal(text)
}

impl Served {
    /// Opens a workspace for serving (building the query caches now, so the first page is
    /// fast).
    pub async fn open(workspace: Workspace) -> Result<Served> {
        let snapshot = Served::snapshot(&workspace, None, false).await?;
        let state = snapshot.session.store.state().clone();
        let served = Served {
            workspace,
            state,
            current: RwLock::new(Arc::new(snapshot)),
            writing: Mutex::new(()),
            ingest_queue: std::sync::Mutex::new(Vec::new()),
            seen: std::sync::Mutex::new(None),
            stale: std::sync::atomic::AtomicBool::new(false),
            paced: std::sync::Mutex::new(Pacing::default()),
            rebuilding: Mutex::new(()),
            warm: Mutex::new(None),
            topic_names: std::sync::Mutex::new(None),
            runner: None,
            pv_cases: Mutex::new(None),
            pv_alerts: std::sync::Mutex::new(None),
        };
        served.changed_on_disk();
        Ok(served)
    }

    /// Sends ingest bodies through the live runner of this process (the sources run here),
    /// so the alert rules see their posts as they arrive.
    pub fn with_runner(
        mut self,
        runner: Option<tokio::sync::mpsc::Sender<crate::live::IngestRequest>>,
    ) -> Served {
        self.runner = runner;
        self
    }

    /// A snapshot with its caches built; in the background, on one core.
    async fn snapshot(
        workspace: &Workspace,
        from: Option<&Snapshot>,
        background: bool,
    ) -> Result<Snapshot> {
        let session = Served::session(workspace, from).await?;
        if session.store.has_data() {
            if background {
                session.analytics.set_parallelism(1);
            }
            session.ensure_caches(workspace).await?;
            if background {
                let cores = std::thread::available_parallelism().map_or(1, usize::from);
                session.analytics.set_parallelism(cores);
            }
        }
        Ok(match from {
            Some(previous) => Snapshot::after(session, previous),
            None => Snapshot::new(session),
        })
    }

    /// A session on the posts as they are now: from the snapshot being served when there is
    /// one (its table brought up to date reads only the commits made since, where opening
    /// the store afresh replays up to a hundred commit files each time a live source writes).
    async fn session(workspace: &Workspace, from: Option<&Snapshot>) -> Result<measure::Session> {
        match from {
            Some(snapshot) => match snapshot.session.store.refreshed().await {
                Ok(store) => measure::open_with(workspace, store).await,
                Err(error) => {
                    // The table was replaced under us (say, the data folder restored):
                    // read it afresh.
                    tracing::warn!(%error, "cannot bring the table up to date; reopening it");
                    measure::open(workspace).await
                }
            },
            None => measure::open(workspace).await,
        }
    }

    fn log_dir(&self) -> PathBuf {
        self.workspace.data_dir().join(waterline_store::RECORDS_TABLE).join("_delta_log")
    }

    /// Whether the Delta log changed since the last look (cheap: one `stat` and a listing
    /// only when the folder's time moved).
    fn changed_on_disk(&self) -> bool {
        let dir = self.log_dir();
        let Ok(modified) = std::fs::metadata(&dir).and_then(|m| m.modified()) else { return false };
        let Ok(mut seen) = self.seen.lock() else { return false };
        if let Some((time, _)) = *seen
            && time == modified
        {
            return false;
        }
        let entries = std::fs::read_dir(&dir).map(|d| d.count()).unwrap_or(0);
        let changed = seen.is_some_and(|(_, count)| count != entries) || seen.is_none();
        *seen = Some((modified, entries));
        changed
    }

    async fn current(&self) -> Arc<Snapshot> {
        self.current.read().await.clone()
    }

    /// The current snapshot with caches that hold every post (for baselines and
    /// comparisons, which must be exact).
    async fn exact(&self) -> BackendResult<Arc<Snapshot>> {
        if self.stale.load(std::sync::atomic::Ordering::SeqCst) {
            self.rebuild().await.map_err(internal)?;
        }
        Ok(self.current().await)
    }

    /// Swaps in the posts as they are now. Rebuilding the caches takes seconds on millions
    /// of posts, so the new snapshot first answers from the previous cache files (the latest
    /// posts, the lists and every scan are current at once) and the next call rebuilds them.
    async fn reload(&self) -> Result<Option<u64>> {
        let session = Served::session(&self.workspace, Some(&*self.current().await)).await?;
        let adopted = session.store.has_data() && session.adopt_caches().await?;
        if !adopted && session.store.has_data() {
            session.ensure_caches(&self.workspace).await?;
        }
        self.stale.store(adopted, std::sync::atomic::Ordering::SeqCst);
        let previous = self.current().await;
        let before = previous.version;
        let snapshot = Snapshot { exact: !adopted, ..Snapshot::after(session, &previous) };
        drop(previous);
        let version = snapshot.version;
        *self.current.write().await = Arc::new(snapshot);
        Ok(if version != before { version } else { None })
    }

    /// Rebuilds stale caches into a new snapshot (without holding up ingests) and swaps it in
    /// unless a newer change came meanwhile; its version when it was swapped in.
    async fn rebuild(&self) -> Result<Option<u64>> {
        if !self.stale.load(std::sync::atomic::Ordering::SeqCst) {
            return Ok(None);
        }
        let _one_at_a_time = self.rebuilding.lock().await;
        let from = self.current().await;
        let snapshot = Served::snapshot(&self.workspace, Some(&from), true).await?;
        drop(from);
        let _writing = self.writing.lock().await;
        let mut current = self.current.write().await;
        if snapshot.version < current.version {
            return Ok(None); // newer posts arrived: the next rebuild covers them
        }
        let version = snapshot.version;
        self.stale.store(false, std::sync::atomic::Ordering::SeqCst);
        *current = Arc::new(snapshot);
        Ok(version)
    }

    /// A page of posts, newest first, with the total that match (topic names resolved to
    /// ids here; a name that matches nothing is said, not answered with an empty list).
    async fn list_posts(&self, snapshot: &Snapshot, request: PostsRequest) -> BackendResult<Value> {
        let session = &snapshot.session;
        if !session.store.has_data() {
            return Ok(
                json!({"total": 0, "page": request.page, "per_page": request.per_page, "posts": []}),
            );
        }
        let mut filters = Vec::with_capacity(request.filters.len());
        for filter in request.filters {
            if filter.field != "topic" {
                filters.push(filter);
                continue;
            }
            let names = crate::topics::topic_names(&self.workspace.data_dir());
            let mut ids = Vec::new();
            for value in &filter.values {
                let found = crate::topics::resolve(&names, value);
                if found.is_empty() {
                    return Err(AppError::new("invalid_query", crate::topics::no_match(value)));
                }
                ids.extend(found.iter().map(u32::to_string));
            }
            filters.push(Filter { values: ids, ..filter });
        }
        let list = PostsRequest { filters, ..request };
        let page = waterline_analytics::posts::list(&session.analytics, &session.context, &list)
            .await
            .map_err(|error| match error {
                waterline_analytics::posts::ListError::Query(error) => AppError::from(error),
                waterline_analytics::posts::ListError::Engine(error) => AppError::internal(error),
            })?;
        serde_json::to_value(page).map_err(AppError::internal)
    }

    /// Saves an ingest body as a file of the workspace (`ingest/ID.jsonl`, written whole
    /// before it is named so) and imports it as one run (through the live runner when the
    /// sources run in this process). Imported, the file moves to `ingest/imported/`; one
    /// still in `ingest/` after a crash is imported at the next start
    /// ([`Served::recover_ingests`]). A body that is refused is deleted.
    async fn ingest_body(
        &self,
        body: Vec<u8>,
        principal: crate::access::Principal,
    ) -> BackendResult<Value> {
        let folder = self.workspace.data_dir().join("ingest");
        fs_err::create_dir_all(&folder).map_err(AppError::internal)?;
        let id = uuid::Uuid::now_v7();
        let part = folder.join(format!("{id}.part"));
        let file = folder.join(format!("{id}.jsonl"));
        // Who sent it, for the audit log of a recovery.
        let sender = json!({
            "actor": principal.actor,
            "role": principal.role_name(),
            "origin": principal.origin,
            "bytes": body.len(),
            "received_at": chrono::Utc::now().to_rfc3339(),
        });
        fs_err::write(file.with_extension("sender.json"), sender.to_string())
            .map_err(AppError::internal)?;
        fs_err::write(&part, &body).map_err(AppError::internal)?;
        fs_err::rename(&part, &file).map_err(AppError::internal)?;
        self.ingest_file(&file, &principal, "ingest").await
    }

    /// Imports a stored ingest body; records it in the audit log, then moves it to
    /// `ingest/imported/` (a kill between the commit and the record leaves the body in
    /// `ingest/`, and the next start imports it again, unchanged, and records it).
    async fn ingest_file(
        &self,
        file: &std::path::Path,
        principal: &crate::access::Principal,
        action: &str,
    ) -> BackendResult<Value> {
        let actor = principal.actor.as_str();
        let answer = match &self.runner {
            Some(runner) => self.ingest_live(runner, file, actor).await,
            None => self.ingest_here(file, actor).await,
        };
        let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let sender = file.with_extension("sender.json");
        let detail = match &answer {
            Ok(answer) => json!({"body": name, "outcome": answer}),
            Err(error) => json!({"body": name, "refused": error.to_string()}),
        };
        crate::access::audit(&self.state, principal, action, "posts", detail).await?;
        match answer {
            Ok(mut answer) => {
                let done = file.with_file_name("imported");
                let moved = fs_err::create_dir_all(&done)
                    .and_then(|()| fs_err::rename(file, done.join(&name)));
                if let Err(error) = moved {
                    // Imported twice at the next start at worst: the posts are unchanged.
                    tracing::warn!("cannot file the imported body {name}: {error}");
                }
                let _ = fs_err::remove_file(&sender);
                answer["file"] = json!(format!("ingest/imported/{name}"));
                Ok(answer)
            }
            Err(error) => {
                let _ = fs_err::remove_file(file);
                let _ = fs_err::remove_file(&sender);
                Err(error)
            }
        }
    }

    /// Imports the ingest bodies a previous run accepted but did not import (the process
    /// stopped between storing and committing them); answers each file's outcome.
    pub async fn recover_ingests(&self) -> Vec<(String, BackendResult<Value>)> {
        let folder = self.workspace.data_dir().join("ingest");
        let mut pending: Vec<std::path::PathBuf> = std::fs::read_dir(&folder)
            .into_iter()
            .flatten()
            .flatten()
            .map(|entry| entry.path())
            .filter(|path| path.is_file())
            .collect();
        pending.sort();
        let mut outcomes = Vec::new();
        for path in pending {
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
            let name = name.unwrap_or_default();
            if name.ends_with(".part") {
                // Never acknowledged: the client was not told it was stored.
                let _ = fs_err::remove_file(&path);
                let _ = fs_err::remove_file(path.with_extension("sender.json"));
                continue;
            }
            if !name.ends_with(".jsonl") {
                continue;
            }
            let sender: Value = std::fs::read(path.with_extension("sender.json"))
                .ok()
                .and_then(|bytes| serde_json::from_slice(&bytes).ok())
                .unwrap_or_default();
            // Recorded as the sender's ingest, from the server itself.
            let actor = sender["actor"].as_str().unwrap_or("unknown sender");
            let sender_role = sender["role"].as_str().and_then(crate::access::Role::parse);
            let recovery =
                crate::access::Principal::new(actor, sender_role).from_origin("system:recovery");
            let outcome = self.ingest_file(&path, &recovery, "ingest.recover").await;
            match &outcome {
                Ok(answer) => tracing::info!(
                    "recovered the ingest body {name}: {}",
                    answer["summary"].as_str().unwrap_or_default()
                ),
                Err(error) => tracing::warn!("the ingest body {name} was refused: {error}"),
            }
            outcomes.push((name, outcome));
        }
        outcomes
    }

    /// Imports an ingest body in this process. Bodies that arrive while another import
    /// runs wait for the writer together and are imported in one run (a group commit):
    /// under load, ingests cost one commit and one reload per group, not per body.
    async fn ingest_here(&self, file: &std::path::Path, actor: &str) -> BackendResult<Value> {
        let (reply, mut answer) = tokio::sync::oneshot::channel();
        self.ingest_queue
            .lock()
            .map_err(|_| AppError::internal("the ingest queue is poisoned"))?
            .push((file.to_path_buf(), reply));
        let _writing = self.writing.lock().await;
        // Whoever held the writer before may have imported this body with theirs.
        if let Ok(result) = answer.try_recv() {
            return result;
        }
        let group: Vec<(std::path::PathBuf, IngestReply)> = self
            .ingest_queue
            .lock()
            .map(|mut queue| std::mem::take(&mut *queue))
            .unwrap_or_default();
        let bodies = group.len();
        self.import_group(group).await;
        tracing::info!(actor, bodies, "ingested a group of bodies");
        answer.await.unwrap_or_else(|_| Err(AppError::internal("the ingest answer was lost")))
    }

    /// Imports ingest bodies in one run (the caller holds the writer) and answers each.
    async fn import_group(&self, group: Vec<(std::path::PathBuf, IngestReply)>) {
        // A body whose format cannot be told is refused alone, not with the group.
        let mut files = Vec::with_capacity(group.len());
        for (file, reply) in group {
            let path = file.to_string_lossy().into_owned();
            match waterline_ingest::open(&path, None, None) {
                Ok(_) => files.push((file, path, reply)),
                Err(error) => {
                    let _ = fs_err::remove_file(&file);
                    let text = format!("{error:#}").replace(&path, "the body");
                    let _ = reply.send(Err(AppError::new("unprocessable", text)));
                }
            }
        }
        if files.is_empty() {
            return;
        }
        let outcome = self.import_files(files.iter().map(|(_, path, _)| path.clone())).await;
        match outcome {
            Err(error) => {
                for (file, _, reply) in files {
                    // A busy store leaves the body for the recovery at the next start.
                    if error.kind != crate::error::ErrorKind::Busy {
                        let _ = fs_err::remove_file(&file);
                    }
                    let _ = reply.send(Err(error.clone()));
                }
            }
            Ok(inputs) => {
                for (file, _, reply) in files {
                    let name = file.file_name();
                    let input = inputs
                        .iter()
                        .find(|input| std::path::Path::new(&input.path).file_name() == name);
                    let answer = match input {
                        Some(input) => all_rejected(&input.report).map(|()| {
                            json!({"format": input.format, "report": input.report, "summary": input.report.summary()})
                        }),
                        None => Err(AppError::internal("the body is missing from its import run")),
                    };
                    let _ = reply.send(answer);
                }
            }
        }
    }

    /// One import run over these files (the caller holds the writer): counts it as
    /// ingests and raises the alerts of the PV cases it opened.
    async fn import_files(
        &self,
        paths: impl Iterator<Item = String>,
    ) -> BackendResult<Vec<crate::import::InputOutcome>> {
        let paths: Vec<String> = paths.collect();
        let mut warm = self.warm.lock().await;
        let cases_before: std::collections::HashSet<String> =
            self.state.pv_post_keys().await?.into_iter().map(|(_, case)| case).collect();
        let mut attempt = 0;
        let (total, inputs) = loop {
            let options = ImportOptions {
                inputs: paths.clone(),
                format: None,
                mapping: None,
                batch_size: 20_000,
                progress: None,
                enrich: true,
            };
            match run_warm(&self.workspace, options, &mut warm).await {
                Ok(outcome) => break outcome,
                Err(error)
                    if format!("{error:#}").contains("being written by another")
                        && attempt < 10 =>
                {
                    attempt += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
                }
                Err(error) if format!("{error:#}").contains("being written by another") => {
                    return Err(AppError::new("busy", format!("{error:#}")));
                }
                Err(error) => {
                    let mut text = format!("{error:#}");
                    for path in &paths {
                        text = text.replace(path.as_str(), "the body");
                    }
                    if text.contains("unknown format") || text.contains("cannot read") {
                        return Err(AppError::new("unprocessable", text));
                    }
                    return Err(internal(error));
                }
            }
        };
        tracing::info!(bodies = paths.len(), "ingested: {}", total.summary());
        self.count_ingest(&total).await;
        // Cases this ingest opened raise their alert, as they do from a live source.
        if inputs.iter().any(|input| input.pv_cases > 0) {
            let opened: Vec<(String, String)> = self
                .state
                .pv_post_keys()
                .await?
                .into_iter()
                .filter(|(_, case)| !cases_before.contains(case))
                .map(|(post_key, case)| {
                    let platform = post_key.split(':').next().unwrap_or_default().to_owned();
                    (case, platform)
                })
                .collect();
            if let Err(error) =
                crate::live::raise_pv_cases(&self.state, &self.workspace.config, &opened).await
            {
                tracing::warn!("cannot raise the alerts of ingested cases: {error:#}");
            }
        }
        Ok(inputs)
    }

    /// An ingest body stored by the live runner: parsed here, enriched, screened, shown to
    /// the alert rules and committed there; answered once committed.
    async fn ingest_live(
        &self,
        runner: &tokio::sync::mpsc::Sender<crate::live::IngestRequest>,
        file: &std::path::Path,
        actor: &str,
    ) -> BackendResult<Value> {
        let path = file.to_string_lossy().into_owned();
        let unprocessable = |error: &dyn std::fmt::Display| {
            let _ = fs_err::remove_file(file);
            AppError::new("unprocessable", format!("{error:#}").replace(&path, "the body"))
        };
        let mut input =
            waterline_ingest::open(&path, None, None).map_err(|error| unprocessable(&error))?;
        let format = input.format().name().to_owned();
        let mut output = waterline_ingest::Output::default();
        while let Some(chunk) = input.next_chunk(20_000).map_err(|error| unprocessable(&error))? {
            output.records.extend(chunk.records);
            output.rejected.extend(chunk.rejected);
        }
        let (reply, answer) = tokio::sync::oneshot::channel();
        runner
            .send(crate::live::IngestRequest { output, reply })
            .await
            .map_err(|_| AppError::new("busy", "the live runner stopped; retry shortly"))?;
        let total = answer
            .await
            .map_err(|_| AppError::new("busy", "the live runner stopped; retry shortly"))?
            .map_err(AppError::internal)?;
        tracing::info!(actor, file = %file.display(), "ingested through the live runner: {}", total.summary());
        self.count_ingest(&total).await;
        all_rejected(&total)?;
        Ok(json!({"format": format, "report": total, "summary": total.summary()}))
    }

    /// Counts an ingest call in the status of the source `ingest` (the HTTP endpoint users'
    /// own collectors post to), and lets the next reload run at once: the ingest answers
    /// after its posts show.
    async fn count_ingest(&self, report: &waterline_model::ImportReport) {
        if let Ok(mut paced) = self.paced.lock() {
            paced.reloaded = None;
        }
        let now = chrono::Utc::now().timestamp_millis();
        let previous = self.state.source_statuses().await.unwrap_or_default();
        let mut body = previous
            .into_iter()
            .find(|(name, _, _)| name == "ingest")
            .and_then(|(_, body, _)| serde_json::from_str::<Value>(&body).ok())
            .unwrap_or_else(
                || json!({"state": "live", "requests": 0, "records": 0, "rejected": 0}),
            );
        let add = |body: &mut Value, key: &str, value: u64| {
            let now = body[key].as_u64().unwrap_or(0);
            body[key] = json!(now + value);
        };
        add(&mut body, "requests", 1);
        add(&mut body, "frames", 1);
        add(&mut body, "records", report.read - report.rejected);
        add(&mut body, "rejected", report.rejected);
        body["last_event_at"] = json!(now);
        body["state"] = json!("live");
        if let Err(error) = self.state.set_source_status("ingest", &body.to_string(), now).await {
            tracing::warn!("cannot count the ingest call: {error}");
        }
    }

    /// Drops the cached milestone statuses (one was added or removed).
    async fn forget_milestones(&self) {
        if let Ok(mut known) = self.current().await.milestones.lock() {
            *known = None;
        }
    }
}

impl Backend for Served {
    fn brand(&self) -> String {
        self.workspace.config.brand.clone()
    }

    fn time_zone(&self) -> String {
        self.workspace.config.time_zone.clone()
    }

    fn state(&self) -> &StateDb {
        &self.state
    }

    async fn refresh(&self) -> BackendResult<Option<u64>> {
        // Look under the lock: a caller that finds no change must also find no reload of
        // someone else's change still under way (an ingest answers after its posts show).
        let _writing = self.writing.lock().await;
        if !self.paced.lock().map(|paced| paced.reload_due()).unwrap_or(true) {
            return Ok(None); // looked at again on the next tick
        }
        if !self.changed_on_disk() {
            return Ok(None);
        }
        let started = std::time::Instant::now();
        let result = self.reload().await.map_err(internal);
        if let Ok(mut paced) = self.paced.lock() {
            paced.reloaded = Some(std::time::Instant::now());
            paced.reload_cost = started.elapsed();
        }
        result
    }

    async fn topics(&self) -> Vec<String> {
        let file = self.workspace.data_dir().join(crate::report::TOPICS_FILE);
        let Ok(modified) = std::fs::metadata(&file).and_then(|m| m.modified()) else {
            return Vec::new();
        };
        if let Ok(known) = self.topic_names.lock()
            && let Some((at, names)) = known.as_ref()
            && *at == modified
        {
            return names.clone();
        }
        let names = crate::report::topic_names(&self.workspace);
        if let Ok(mut known) = self.topic_names.lock() {
            *known = Some((modified, names.clone()));
        }
        names
    }

    async fn maintain(&self) -> BackendResult<Option<u64>> {
        if !self.stale.load(std::sync::atomic::Ordering::SeqCst)
            || !self.paced.lock().map(|paced| paced.rebuild_due()).unwrap_or(true)
        {
            return Ok(None);
        }
        let started = std::time::Instant::now();
        let result = self.rebuild().await.map_err(internal);
        if let Ok(mut paced) = self.paced.lock() {
            paced.rebuilt = Some(std::time::Instant::now());
            paced.rebuild_cost = started.elapsed();
        }
        result
    }

    async fn status(&self) -> BackendResult<crate::status::Status> {
        let snapshot = self.current().await;
        // The counts change only with the posts: once per snapshot.
        let known = snapshot.status.lock().ok().and_then(|known| known.clone());
        let mut status = match known {
            Some(status) => status,
            None => {
                let status = crate::status::status(&self.workspace, &snapshot.session, 0).await?;
                if let Ok(mut known) = snapshot.status.lock() {
                    *known = Some(status.clone());
                }
                status
            }
        };
        status.table_version = snapshot.version;
        // Import runs are in the state database: a run that stored nothing changes no post.
        status.runs = self.state.runs(crate::status::RUNS).await?;
        status.caches = Some(if self.stale.load(std::sync::atomic::Ordering::SeqCst) {
            "rebuilding"
        } else {
            "current"
        });
        Ok(status)
    }

    async fn query(&self, query: Query) -> BackendResult<Answer> {
        let snapshot = self.current().await;
        let key = serde_json::to_string(&query).unwrap_or_default();
        let session = &snapshot.session;
        // Business series live in the state database, not in the store's version: answers
        // that read them are not kept on disk.
        let keepable = snapshot.exact
            && !query
                .metrics
                .iter()
                .any(|m| waterline_analytics::metrics::BusinessMetric::parse(m).is_some());
        snapshot
            .answers
            .get_or_try(key.clone(), || async {
                let workspace = &self.workspace;
                if keepable
                    && let Some(answer) =
                        crate::kept::read(workspace, snapshot.version, "answer", &key)
                {
                    return Ok(answer);
                }
                let answer = session.answer(workspace, &query).await.map_err(internal)?;
                if keepable {
                    crate::kept::keep(workspace, snapshot.version, "answer", &key, &answer);
                }
                Ok(answer)
            })
            .await
    }

    async fn report(
        &self,
        kind: ReportKind,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        topic: Option<String>,
    ) -> BackendResult<Arc<Value>> {
        let snapshot = self.current().await;
        let focus = crate::report::focus(&self.workspace, topic.as_deref())
            .map_err(|error| AppError::new("invalid_query", format!("{error:#}")))?;
        let key = (kind, from, to, focus.clone());
        let request = crate::report::ReportRequest {
            kind,
            from,
            to,
            focus,
            audited: waterline_analytics::reports::AUDIT_LISTED,
        };
        let (analytics, version) = (&snapshot.session.analytics, snapshot.version);
        snapshot
            .reports
            .get_or_try(key, || async {
                let report = crate::report::cached(&self.workspace, analytics, version, &request)
                    .await
                    .map_err(internal)?;
                Ok(Arc::new(serde_json::to_value(report).map_err(AppError::internal)?))
            })
            .await
    }

    async fn posts(&self, request: PostsRequest) -> BackendResult<Value> {
        let snapshot = self.current().await;
        let key = format!("posts:{}", serde_json::to_string(&request).unwrap_or_default());
        snapshot.lists.get_or_try(key, || self.list_posts(&snapshot, request)).await
    }

    async fn ingest(
        &self,
        body: Vec<u8>,
        principal: crate::access::Principal,
    ) -> BackendResult<Value> {
        self.ingest_body(body, principal).await
    }

    async fn baselines(&self) -> BackendResult<Vec<measure::BaselineSummary>> {
        measure::list_baselines(&self.state).await
    }

    async fn create_baseline(
        &self,
        baseline: NewBaseline,
        principal: crate::access::Principal,
    ) -> BackendResult<Value> {
        let snapshot = self.exact().await?;
        let session = &snapshot.session;
        let frozen =
            measure::create_baseline(&self.workspace, session, &baseline, false, &principal)
                .await?;
        Ok(measure::summary(&frozen))
    }

    async fn delete_baseline(
        &self,
        name: String,
        principal: crate::access::Principal,
    ) -> BackendResult<()> {
        measure::delete_baseline(&self.state, &name, &principal).await
    }

    async fn compare(
        &self,
        name: String,
        from: NaiveDate,
        to: NaiveDate,
    ) -> BackendResult<measure::Comparison> {
        let snapshot = self.exact().await?;
        measure::compare_with(&self.workspace, &snapshot.session, &name, from, to).await
    }

    async fn milestones(&self) -> BackendResult<Arc<Vec<measure::MilestoneStatus>>> {
        let snapshot = self.current().await;
        if let Some(statuses) = snapshot.milestones.lock().ok().and_then(|known| known.clone()) {
            return Ok(statuses);
        }
        let statuses = Arc::new(
            measure::milestone_statuses(&self.workspace, &snapshot.session, None, None).await?,
        );
        if let Ok(mut known) = snapshot.milestones.lock() {
            *known = Some(statuses.clone());
        }
        Ok(statuses)
    }

    async fn add_milestone(
        &self,
        milestone: NewMilestone,
        principal: crate::access::Principal,
    ) -> BackendResult<()> {
        measure::add_milestone(&self.workspace, &self.state, milestone, false, &principal).await?;
        self.forget_milestones().await;
        Ok(())
    }

    async fn remove_milestone(
        &self,
        name: String,
        principal: crate::access::Principal,
    ) -> BackendResult<()> {
        measure::remove_milestone(&self.state, &name, &principal).await?;
        self.forget_milestones().await;
        Ok(())
    }

    async fn pseudonym_salt(&self) -> BackendResult<String> {
        if let Some(salt) = self.state.document("secret", "pseudonym_salt").await? {
            return Ok(salt);
        }
        let salt = uuid::Uuid::new_v4().simple().to_string();
        self.state
            .put_document("secret", "pseudonym_salt", &salt, measure::now_ms(), false)
            .await?;
        Ok(self.state.document("secret", "pseudonym_salt").await?.unwrap_or(salt))
    }

    async fn pv_queue(&self, all: bool) -> BackendResult<Value> {
        let now = chrono::Utc::now();
        let cases = Arc::unwrap_or_clone(self.pv_cases().await?);
        let views = crate::pv::queue(cases, &self.workspace.config, now).map_err(internal)?;
        let mut counts: std::collections::BTreeMap<&str, u64> =
            waterline_model::pv::Status::ALL.iter().map(|status| (status.as_str(), 0)).collect();
        for view in &views {
            *counts.entry(view.case.status.as_str()).or_default() += 1;
        }
        let serious_open = views
            .iter()
            .filter(|view| view.case.serious && view.case.status.awaits_handoff())
            .count();
        let alerts: usize = views.iter().map(|view| view.alerts.len()).sum();
        let shown: Vec<&crate::pv::CaseView> = views
            .iter()
            .filter(|view| {
                all || view.case.status.awaits_handoff()
                    || view.case.status == waterline_model::pv::Status::PendingFollowUp
            })
            .collect();
        let audit: Vec<Value> = crate::pv::samples(&self.state)
            .await
            .map_err(internal)?
            .into_iter()
            .map(|sample| {
                json!({"name": sample.name, "drawn_at": sample.drawn_at, "from": sample.from, "to": sample.to,
                    "size": sample.size, "false_negatives": sample.false_negatives, "rate": sample.rate})
            })
            .collect();
        Ok(json!({
            "generated_at": now,
            "audit": audit,
            "time_zone": self.workspace.config.time_zone,
            "counts": counts,
            "serious_open": serious_open,
            "alerts": alerts,
            "screening": self.workspace.config.pharmacovigilance.enabled,
            "cases": shown,
        }))
    }

    async fn pv_case(&self, id: String, viewer: Option<(String, String)>) -> BackendResult<Value> {
        let case = match viewer {
            Some((name, role)) => {
                let actor = crate::pv::Actor { name, role };
                crate::pv::act(&self.state, &id, &actor, crate::pv::Request::View)
                    .await
                    .map_err(act_error)?
            }
            None => {
                let events = crate::pv::events(&self.state, Some(&id)).await.map_err(internal)?;
                waterline_model::pv::rebuild(&events)
                    .remove(&id)
                    .ok_or_else(|| AppError::not_found(format!("no case `{id}`")))?
            }
        };
        let events = crate::pv::events(&self.state, Some(&id)).await.map_err(internal)?;
        let view =
            crate::pv::view(case, &self.workspace.config, chrono::Utc::now()).map_err(internal)?;
        Ok(json!({ "case": view, "events": events }))
    }

    async fn pv_act(
        &self,
        id: String,
        actor: String,
        role: String,
        request: Value,
    ) -> BackendResult<Value> {
        let request: crate::pv::Request = serde_json::from_value(request)
            .map_err(|e| AppError::bad_request(format!("invalid action: {e}")))?;
        let actor = crate::pv::Actor { name: actor, role };
        let case = crate::pv::act(&self.state, &id, &actor, request).await.map_err(act_error)?;
        let view =
            crate::pv::view(case, &self.workspace.config, chrono::Utc::now()).map_err(internal)?;
        serde_json::to_value(view).map_err(AppError::internal)
    }

    async fn pv_export(&self, format: String) -> BackendResult<(&'static str, String)> {
        let now = chrono::Utc::now();
        let cases = Arc::unwrap_or_clone(self.pv_cases().await?);
        let views = crate::pv::queue(cases, &self.workspace.config, now).map_err(internal)?;
        match format.as_str() {
            "csv" => {
                Ok(("text/csv; charset=utf-8", crate::pv::export_csv(&views).map_err(internal)?))
            }
            "json" => Ok((
                "application/json",
                serde_json::to_string_pretty(&crate::pv::export_json(&views, now))
                    .map_err(AppError::internal)?,
            )),
            other => Err(AppError::bad_request(format!("export format `{other}`: csv or json"))),
        }
    }

    async fn pv_reconcile(&self) -> BackendResult<Value> {
        let cases = self.pv_cases().await?;
        let receipts = self.state.pv_receipts().await?;
        let report = crate::pv::reconcile(&cases, &receipts, None, chrono::Utc::now());
        serde_json::to_value(report).map_err(AppError::internal)
    }

    async fn coverage(&self) -> BackendResult<Value> {
        let coverage = self.channel_coverage().await?;
        Ok(json!({
            "limit_hours": self.workspace.config.pharmacovigilance.coverage_gap_hours,
            "channels": coverage,
        }))
    }

    async fn alerts(&self, window: Option<(u64, u64)>) -> BackendResult<Value> {
        let now = chrono::Utc::now();
        let config = &self.workspace.config;
        let mark = self.state.pv_mark().await?;
        let version = self.current().await.version;
        let fresh = self.pv_alerts.lock().ok().and_then(|memo| {
            memo.as_ref()
                .filter(|(seen, at, made, _)| {
                    *seen == mark && *at == version && made.elapsed() < PV_ALERTS_FRESH
                })
                .map(|(_, _, _, alerts)| alerts.clone())
        });
        let alerts = match fresh {
            Some(alerts) => alerts,
            None => {
                let cases = self.pv_cases().await?;
                let coverage = self.channel_coverage().await?;
                let alerts =
                    Arc::new(crate::pv::alerts(&cases, &coverage, config, now).map_err(internal)?);
                if let Ok(mut memo) = self.pv_alerts.lock() {
                    *memo = Some((mark, version, std::time::Instant::now(), alerts.clone()));
                }
                alerts
            }
        };
        let stored: Vec<Value> = self
            .state
            .alerts(None, 500)
            .await
            .map_err(AppError::internal)?
            .iter()
            .map(crate::alerts::alert_json)
            .collect();
        let mut rules = crate::pv::alert_rules(config);
        if let Some(list) = rules.as_array_mut() {
            for rule in config.alerts.rules_in_force() {
                list.push(json!({
                    "rule": rule.name,
                    "requirement": rule.kind,
                    "fires": crate::alerts::describe_rule(&rule),
                }));
            }
        }
        let total = alerts.len();
        let shown: &[waterline_model::pv::PvAlert] = match window {
            Some((page, per_page)) => {
                let start = usize::try_from(page.saturating_sub(1).saturating_mul(per_page))
                    .unwrap_or(usize::MAX)
                    .min(total);
                let end = start.saturating_add(usize::try_from(per_page).unwrap_or(usize::MAX));
                &alerts[start..end.min(total)]
            }
            None => &alerts[..],
        };
        let (page, per_page) = window.map_or((1, total as u64), |window| window);
        Ok(json!({
            "generated_at": now,
            "stored": stored,
            "alerts": shown,
            "total_alerts": total,
            "page": page,
            "per_page": per_page,
            "rules": rules,
            "webhooks": config.alerts.webhooks.iter().map(|hook| json!({"name": hook.name, "url": hook.url, "signed": hook.secret_env.is_some(), "rules": hook.rules})).collect::<Vec<_>>(),
        }))
    }

    async fn sources(&self) -> BackendResult<Value> {
        let rows = crate::live::source_rows_from(&self.workspace.config, &self.state)
            .await
            .map_err(internal)?;
        Ok(json!({"sources": rows}))
    }

    async fn check_draft(&self, draft: Value) -> BackendResult<Value> {
        let draft: waterline_enrich::draft::Draft = serde_json::from_value(draft)
            .map_err(|e| AppError::bad_request(format!("invalid draft: {e}")))?;
        let snapshot = self.current().await;
        let checked = crate::draft::check_with_forecast(
            Some(&self.workspace),
            Some(&snapshot.session),
            &draft,
        )
        .await;
        serde_json::to_value(checked).map_err(AppError::internal)
    }
}

fn act_error(error: crate::pv::ActError) -> AppError {
    match error {
        crate::pv::ActError::Request(crate::pv::RequestError::NotFound(id)) => {
            AppError::not_found(format!("no case `{id}`"))
        }
        crate::pv::ActError::Request(crate::pv::RequestError::Invalid(message)) => {
            AppError::bad_request(message)
        }
        crate::pv::ActError::Other(error) => internal(error),
    }
}

impl Served {
    /// Owned-channel coverage: the stored times per snapshot, the gaps against now.
    /// Every PV case, rebuilt from the event log only when the log moved since the last
    /// rebuild (at ten million posts the log holds tens of thousands of cases: rebuilding
    /// it for each page took seconds).
    async fn pv_cases(
        &self,
    ) -> BackendResult<Arc<std::collections::BTreeMap<String, waterline_model::pv::Case>>> {
        let mark = self.state.pv_mark().await?;
        let mut memo = self.pv_cases.lock().await;
        if let Some((seen, cases)) = memo.as_ref()
            && *seen == mark
        {
            return Ok(cases.clone());
        }
        let cases = Arc::new(crate::pv::cases(&self.state).await.map_err(internal)?);
        *memo = Some((mark, cases.clone()));
        Ok(cases)
    }

    async fn channel_coverage(&self) -> BackendResult<Vec<crate::pv::Coverage>> {
        let snapshot = self.current().await;
        let now = chrono::Utc::now();
        let key = "PV_COVERAGE".to_owned();
        let session = &snapshot.session;
        let value = snapshot
            .lists
            .get_or_try(key, || async {
                let (workspace, version) = (&self.workspace, snapshot.version);
                if snapshot.exact
                    && let Some(kept) = crate::kept::read(workspace, version, "coverage", "")
                {
                    return Ok::<Value, AppError>(kept);
                }
                let computed =
                    crate::pv::coverage(session, &workspace.config, now).await.map_err(internal)?;
                let value = serde_json::to_value(&computed).map_err(AppError::internal)?;
                if snapshot.exact {
                    crate::kept::keep(workspace, version, "coverage", "", &value);
                }
                Ok(value)
            })
            .await?;
        let mut coverage: Vec<crate::pv::Coverage> =
            serde_json::from_value(value).map_err(AppError::internal)?;
        crate::pv::regap(&mut coverage, &self.workspace.config, now);
        Ok(coverage)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod memo_tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn one_ask_computes_and_the_others_get_the_earlier_value_meanwhile() {
        let first: Memo<&str, u32> = Memo::new();
        let value = first.get_or_try::<(), _, _>("page", || async { Ok(1) }).await.unwrap();
        assert_eq!(value, 1);
        let next = first.successor();
        let computing = next.get_or_try::<(), _, _>("page", || async {
            tokio::time::sleep(Duration::from_millis(200)).await;
            Ok(2)
        });
        let meanwhile = async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            next.get_or_try::<(), _, _>("page", || async { panic!("computed twice") }).await
        };
        let (computed, earlier) = tokio::join!(computing, meanwhile);
        assert_eq!((computed.unwrap(), earlier.unwrap()), (2, 1));
        // Once known, the new value.
        let known = next.get_or_try::<(), _, _>("page", || async { panic!("again") }).await;
        assert_eq!(known.unwrap(), 2);
        // A key never computed before waits for the one computation instead.
        let (a, b) = tokio::join!(
            next.get_or_try::<(), _, _>("other", || async {
                tokio::time::sleep(Duration::from_millis(50)).await;
                Ok(7)
            }),
            next.get_or_try::<(), _, _>("other", || async { Ok(8) }),
        );
        assert_eq!((a.unwrap(), b.unwrap()), (7, 7));
    }

    #[tokio::test]
    async fn a_failed_or_abandoned_computation_is_tried_again() {
        let first: Memo<&str, u32> = Memo::new();
        first.get_or_try::<(), _, _>("page", || async { Ok(1) }).await.unwrap();
        let next = first.successor();
        assert!(next.get_or_try("page", || async { Err("no") }).await.is_err());
        // Abandoned: the client went away mid-computation.
        let abandoned = tokio::time::timeout(
            Duration::from_millis(20),
            next.get_or_try::<(), _, _>("page", || async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                Ok(9)
            }),
        )
        .await;
        assert!(abandoned.is_err());
        let value = next.get_or_try::<(), _, _>("page", || async { Ok(3) }).await.unwrap();
        assert_eq!(value, 3, "computed, not the earlier value forever");
    }
}
