//! Reports (listening, perception gap, content audit): computed in the engine over the
//! stored posts and the topics they were assigned on arrival.

use anyhow::Result;
use waterline_analytics::Analytics;
use waterline_analytics::reports::{self, Sources};

use crate::backend::ReportKind;
use crate::workspace::Workspace;

/// The topic model's file in the data directory.
pub use crate::topics::TOPICS_FILE;

/// The topic names of the saved model, as the `topic` dimension spells them.
pub fn topic_names(workspace: &Workspace) -> Vec<String> {
    crate::topics::topic_names(&workspace.data_dir()).into_iter().map(|(_, name)| name).collect()
}

/// The topic ids a report's topic filter names (`None`: no filter); an error when it names
/// none.
pub fn focus(workspace: &Workspace, topic: Option<&str>) -> Result<Option<Vec<u32>>> {
    let Some(topic) = topic.filter(|topic| !topic.trim().is_empty()) else { return Ok(None) };
    let names = crate::topics::topic_names(&workspace.data_dir());
    let mut ids = Vec::new();
    for value in topic.split(',') {
        let found = crate::topics::resolve(&names, value);
        if found.is_empty() {
            anyhow::bail!(crate::topics::no_match(value.trim()));
        }
        ids.extend(found);
    }
    ids.sort_unstable();
    ids.dedup();
    Ok(Some(ids))
}

/// A report computed by the engine.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(untagged)]
pub enum Report {
    /// Topics, growth, sentiment, unmet needs.
    Listening(reports::ListeningReport),
    /// Own against audience topic mixes.
    Gap(reports::GapReport),
    /// Own posts' reception against their account's baseline.
    Audit(reports::AuditReport),
}

/// Computes a report over the stored posts (`audited`: how many audited posts to list).
pub async fn compute(
    workspace: &Workspace,
    analytics: &Analytics,
    kind: ReportKind,
    from: Option<chrono::NaiveDate>,
    to: Option<chrono::NaiveDate>,
    focus: Option<&[u32]>,
    audited: usize,
) -> Result<Report> {
    let model = crate::topics::load_model(&workspace.data_dir()).unwrap_or_default();
    let sources = Sources { analytics, config: &workspace.config, model: &model, focus };
    Ok(match kind {
        ReportKind::Listening => Report::Listening(reports::listening(&sources, from, to).await?),
        ReportKind::Gap => Report::Gap(reports::gap(&sources, from, to).await?),
        ReportKind::Audit => Report::Audit(reports::audit(&sources, from, to, audited).await?),
    })
}

// ---------------------------------------------------------------------------------------
// The report cache: reports are computed once per store version and kept on disk, so the
// first reader after an import or a restart finds them made (issue 22, item 5).

/// The dashboard's default period: the last this many days of data.
pub const DEFAULT_DAYS: u64 = 90;

/// Bump when what a report computes changes: older cached reports are then never read.
const CACHE_FORMAT: u32 = 2;

/// This build of the program: its version and its executable's size and modification time,
/// so that a rebuilt program (same version number, other code) never reads the reports an
/// earlier build computed.
pub(crate) fn build() -> &'static str {
    static BUILD: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    BUILD.get_or_init(|| {
        let executable = std::env::current_exe().and_then(std::fs::metadata).ok();
        let modified = executable
            .as_ref()
            .and_then(|metadata| metadata.modified().ok())
            .and_then(|at| at.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |at| at.as_nanos());
        let size = executable.map_or(0, |metadata| metadata.len());
        format!("{} {size} {modified}", env!("CARGO_PKG_VERSION"))
    })
}

/// An import prepares the default reports from this many stored posts (below, a report
/// takes well under a second and its first reader computes it).
pub const PREPARE_FROM_POSTS: u64 = 20_000;

/// Cached reports kept on disk (the newest; older ones go when one is written).
const CACHE_KEPT: usize = 24;

/// A report request: its kind, period, topic focus and the audited posts it lists.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportRequest {
    /// Which report.
    pub kind: ReportKind,
    /// First local day (inclusive), or the first post's.
    pub from: Option<chrono::NaiveDate>,
    /// Last local day (inclusive), or the latest post's.
    pub to: Option<chrono::NaiveDate>,
    /// The topics a filter picked.
    pub focus: Option<Vec<u32>>,
    /// How many audited posts the audit lists.
    pub audited: usize,
}

fn cache_dir(workspace: &Workspace) -> std::path::PathBuf {
    workspace.data_dir().join("cache").join("reports")
}

/// The cached file's name: the request and everything its answer depends on (the store
/// version, the topic model's generation, the configuration, this build of the program).
fn cache_name(workspace: &Workspace, version: Option<u64>, request: &ReportRequest) -> String {
    let generation = crate::topics::saved_generation(&workspace.data_dir());
    let config = serde_json::to_string(&workspace.config).unwrap_or_default();
    let key = serde_json::json!([
        CACHE_FORMAT,
        build(),
        version,
        generation,
        config,
        request.kind.name(),
        request.from,
        request.to,
        request.focus,
        request.audited,
    ])
    .to_string();
    format!("{}-{:032x}.json", request.kind.name(), xxhash_rust::xxh3::xxh3_128(key.as_bytes()))
}

fn parse(kind: ReportKind, bytes: &[u8]) -> serde_json::Result<Report> {
    Ok(match kind {
        ReportKind::Listening => Report::Listening(serde_json::from_slice(bytes)?),
        ReportKind::Gap => Report::Gap(serde_json::from_slice(bytes)?),
        ReportKind::Audit => Report::Audit(serde_json::from_slice(bytes)?),
    })
}

/// Writes a cached report (a temporary file renamed into place: a reader sees the whole
/// file or none) and removes the oldest beyond [`CACHE_KEPT`].
fn keep(dir: &std::path::Path, path: &std::path::Path, report: &Report) -> Result<()> {
    crate::kept::write_bounded(dir, path, &serde_json::to_vec(report)?, CACHE_KEPT)
}

/// A report, from the cache when this request was answered at this store version, else
/// computed (and kept). `version` is the store version the `analytics` session reads.
pub async fn cached(
    workspace: &Workspace,
    analytics: &Analytics,
    version: Option<u64>,
    request: &ReportRequest,
) -> Result<Report> {
    let dir = cache_dir(workspace);
    let path = dir.join(cache_name(workspace, version, request));
    if let Ok(bytes) = std::fs::read(&path) {
        match parse(request.kind, &bytes) {
            Ok(report) => return Ok(report),
            Err(error) => {
                tracing::warn!("ignoring the cached report `{}`: {error}", path.display())
            }
        }
    }
    let report = compute(
        workspace,
        analytics,
        request.kind,
        request.from,
        request.to,
        request.focus.as_deref(),
        request.audited,
    )
    .await?;
    if let Err(error) = keep(&dir, &path, &report) {
        tracing::warn!("cannot keep the report in the cache: {error:#}");
    }
    Ok(report)
}

/// The reports a reader asks for first: each kind over all time (the CLI's default) and
/// over the last [`DEFAULT_DAYS`] days of data (the dashboard's), without a topic filter.
pub fn default_requests(last_day: Option<chrono::NaiveDate>) -> Vec<ReportRequest> {
    let mut requests = Vec::new();
    for kind in [ReportKind::Listening, ReportKind::Gap, ReportKind::Audit] {
        let request = |from| ReportRequest {
            kind,
            from,
            to: None,
            focus: None,
            audited: reports::AUDIT_LISTED,
        };
        requests.push(request(None));
        if let Some(last) = last_day {
            let from = last.checked_sub_days(chrono::Days::new(DEFAULT_DAYS - 1)).unwrap_or(last);
            requests.push(request(Some(from)));
        }
    }
    requests
}

/// Computes the default reports into the cache (after an import, or by a server in the
/// background), so that their first reader does not wait.
pub async fn prepare(workspace: &Workspace) -> Result<usize> {
    let store = waterline_store::Store::open(&workspace.data_dir()).await?;
    if !store.has_data() {
        return Ok(0);
    }
    let analytics = Analytics::open(&store).await?;
    let posts = waterline_analytics::status::counts(&analytics, &workspace.config.time_zone, 0)
        .await?
        .posts;
    if posts < PREPARE_FROM_POSTS {
        return Ok(0); // computed in well under a second by their first reader
    }
    let version = store.version();
    let tz = workspace.config.time_zone()?;
    let last_day = analytics
        .time_span("TRUE")
        .await?
        .and_then(|(_, last)| chrono::DateTime::from_timestamp_micros(last))
        .map(|last| last.with_timezone(&tz).date_naive());
    let requests = default_requests(last_day);
    for request in &requests {
        let started = std::time::Instant::now();
        cached(workspace, &analytics, version, request).await?;
        tracing::info!(
            kind = ?request.kind,
            from = ?request.from,
            seconds = started.elapsed().as_secs_f64(),
            "prepared a default report"
        );
    }
    Ok(requests.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workspace() -> Workspace {
        let config = waterline_model::Config::parse("brand = \"Brandix\"\n").unwrap();
        Workspace { root: std::path::PathBuf::from("/nonexistent"), config }
    }

    #[test]
    fn a_cached_report_is_named_by_everything_its_answer_depends_on() {
        let workspace = workspace();
        let day = chrono::NaiveDate::from_ymd_opt(2026, 10, 31);
        let request = &default_requests(day)[1];
        assert_eq!(request.from, chrono::NaiveDate::from_ymd_opt(2026, 8, 3));
        let name = cache_name(&workspace, Some(7), request);
        assert_eq!(name, cache_name(&workspace, Some(7), request), "stable");
        assert_ne!(name, cache_name(&workspace, Some(8), request), "another store version");
        let focused = ReportRequest { focus: Some(vec![3]), ..request.clone() };
        assert_ne!(name, cache_name(&workspace, Some(7), &focused), "another focus");
        let mut other = workspace.clone();
        other.config.brand = "Other".into();
        assert_ne!(name, cache_name(&other, Some(7), request), "another configuration");
        assert!(name.starts_with("listening-"));
        assert_eq!(default_requests(None).len(), 3, "all time only, without posts");
        assert_eq!(default_requests(day).len(), 6);
    }
}
