//! Metrics with declared definitions: `waterline query`, `metrics`, `baseline`, `compare`,
//! `milestone` and `kpi`. The planning and the statistics live in `waterline-analytics`;
//! this module reads the workspace, keeps the state and prints.

use anyhow::{Context as _, Result, bail};
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use waterline_analytics::compare::{self, Baseline};
use waterline_analytics::hours::Schedule;
use waterline_analytics::metrics::{self, BusinessMetric, Formula};
use waterline_analytics::query::{self, Answer, Context, Filter, Query};
use waterline_analytics::{Analytics, BusinessPoint};
use waterline_model::{Position, Rejected};
use waterline_store::Store;
use waterline_store::state::BusinessRow;

use crate::cli::{BaselineAction, CompareArgs, KpiAction, MetricsArgs, MilestoneAction, QueryArgs};
use crate::output;
use crate::workspace::Workspace;

pub(crate) const BASELINE: &str = "baseline";
pub(crate) const MILESTONE: &str = "milestone";

pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// The store, a DataFusion session with the business series and the care desk's schedule,
/// and the planner's context.
pub struct Session {
    /// The store.
    pub store: Store,
    /// The session.
    pub analytics: Analytics,
    /// The planner's context.
    pub context: Context,
    /// The rollup is registered.
    rollup_ready: tokio::sync::OnceCell<bool>,
    /// The conversations cache is registered (true when this session built it).
    conversations_ready: tokio::sync::OnceCell<bool>,
    /// The `post_topics` table is registered.
    topics_ready: tokio::sync::OnceCell<()>,
    /// The workspace's data folder.
    data_dir: std::path::PathBuf,
    /// The cache files this session registered, open with a shared lock (see
    /// `ensure_cache`).
    held: std::sync::Mutex<Vec<std::fs::File>>,
}

/// Opens the workspace for queries.
pub async fn open(workspace: &Workspace) -> Result<Session> {
    let store =
        Store::open(&workspace.data_dir()).await.context("cannot open the workspace store")?;
    open_with(workspace, store).await
}

/// Opens the workspace for queries on a store already open (for example one brought up to
/// date with [`Store::refreshed`]).
pub async fn open_with(workspace: &Workspace, store: Store) -> Result<Session> {
    let analytics = Analytics::open(&store).await?;
    let config = &workspace.config;
    let responses = &config.responses;
    let schedule =
        Schedule::parse(config.time_zone()?, &responses.business_hours, &responses.business_days)
            .map_err(|error| anyhow::anyhow!("waterline.toml [responses]: {error}"))?;
    analytics.set_schedule(schedule);
    let points: Vec<BusinessPoint> = store
        .state()
        .business()
        .await?
        .into_iter()
        .filter_map(|row| {
            Some(BusinessPoint {
                day: NaiveDate::parse_from_str(&row.day, "%Y-%m-%d").ok()?,
                series: row.series,
                value: row.value,
                product: (!row.product.is_empty()).then_some(row.product),
                competitor: (!row.competitor.is_empty()).then_some(row.competitor),
            })
        })
        .collect();
    analytics.register_business(&points)?;
    let mut context = Context::from_config(config);
    // The daily rollup is built (or loaded) the first time a query can use it.
    context.rollup = true;
    Ok(Session {
        store,
        analytics,
        context,
        rollup_ready: tokio::sync::OnceCell::new(),
        conversations_ready: tokio::sync::OnceCell::new(),
        topics_ready: tokio::sync::OnceCell::new(),
        data_dir: workspace.data_dir(),
        held: std::sync::Mutex::new(Vec::new()),
    })
}

/// How long a cache file nobody holds is kept after it was last written: it covers the
/// moment between a build's rename and its lock, and a build still writing its temporary
/// file (whose time moves with each write).
const CACHE_GRACE: std::time::Duration = std::time::Duration::from_secs(60);

/// A cache file's name for one build: never reused, so a file is never replaced under a
/// reader (DataFusion opens a registered file by path at each query; replacing it while a
/// query reads its footer failed with "Unexpected struct field type").
fn cache_file_name(name: &str, version: Option<u64>) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos());
    let version = version.map_or_else(|| "none".to_owned(), |v| v.to_string());
    format!("{name}-{version}-{}-{nanos:x}.parquet", std::process::id())
}

/// The cache file the stamp `NAME.json` names, when it exists and (given `expected`) the
/// stamp's version, SQL and extra match.
fn stamped_cache_file(
    data_dir: &std::path::Path,
    name: &str,
    expected: Option<&serde_json::Value>,
) -> Option<std::path::PathBuf> {
    let text = fs_err::read_to_string(data_dir.join(format!("{name}.json"))).ok()?;
    let stamp: serde_json::Value = serde_json::from_str(&text).ok()?;
    if let Some(expected) = expected
        && ["version", "sql", "extra"].iter().any(|key| stamp.get(key) != expected.get(key))
    {
        return None;
    }
    let file = stamp.get("file")?.as_str()?;
    let plain = std::path::Path::new(file).file_name().is_some_and(|only| only == file);
    let path = data_dir.join(file);
    (plain && path.is_file()).then_some(path)
}

/// Opens a cache file with a shared lock, held as long as the session that reads it lives:
/// a sweep (of this process or another) skips a locked file.
fn hold(path: &std::path::Path) -> Result<std::fs::File> {
    let file = std::fs::File::open(path)
        .with_context(|| format!("cannot open the cache file {}", path.display()))?;
    file.lock_shared().with_context(|| format!("cannot lock the cache file {}", path.display()))?;
    Ok(file)
}

/// Removes the cache files of `name` other than `keep` that no session holds and that were
/// last written more than `grace` ago (also the single file of the layout before
/// builds had their own names, and stamps a killed build left half written). Returns how
/// many it removed.
fn sweep_cache_files(
    data_dir: &std::path::Path,
    name: &str,
    keep: &std::path::Path,
    grace: std::time::Duration,
) -> usize {
    let Ok(entries) = std::fs::read_dir(data_dir) else { return 0 };
    let prefix = format!("{name}-");
    let legacy = format!("{name}.parquet");
    let stamp_prefix = format!("{name}.json.");
    let mut removed = 0;
    for entry in entries.flatten() {
        let path = entry.path();
        let Some(file_name) = path.file_name().and_then(|n| n.to_str()) else { continue };
        let ours = (file_name.starts_with(&prefix)
            && (file_name.ends_with(".parquet") || file_name.ends_with(".parquet.tmp")))
            || file_name == legacy
            || (file_name.starts_with(&stamp_prefix) && file_name.ends_with(".tmp"));
        if !ours || path == keep {
            continue;
        }
        let recent = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|at| at.elapsed().ok())
            .is_none_or(|age| age < grace);
        if recent {
            continue;
        }
        let Ok(file) = std::fs::File::open(&path) else { continue };
        if file.try_lock().is_ok() && std::fs::remove_file(&path).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// Writes a stamp so that a reader never sees it half written.
fn write_stamp(path: &std::path::Path, stamp: &serde_json::Value) -> Result<()> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos());
    let temporary = path.with_extension(format!("json.{}-{nanos:x}.tmp", std::process::id()));
    fs_err::write(&temporary, serde_json::to_vec(stamp)?)?;
    fs_err::rename(&temporary, path)?;
    Ok(())
}

impl Session {
    /// Builds a cache table for the store's version (stamped with the store version, the
    /// SQL and anything else it depends on), or registers the one built before. Returns
    /// whether it was built. Each build writes a file of its own (named in the stamp
    /// `NAME.json`), held locked while this session lives; older files nobody holds are
    /// swept.
    async fn ensure_cache(&self, name: &str, sql: &str, extra: &str) -> Result<bool> {
        let data_dir = &self.data_dir;
        let mut stamp = serde_json::json!({
            "version": self.store.version(),
            "sql": xxhash_rust::xxh3::xxh3_64(sql.as_bytes()),
            "extra": extra,
        });
        // A file swept by another build between the look and the lock is built again.
        if let Some(file) = stamped_cache_file(data_dir, name, Some(&stamp))
            && let Ok(held) = hold(&file)
        {
            self.keep(held);
            self.analytics.register_cache(name, &file).await?;
            return Ok(false);
        }
        let started = std::time::Instant::now();
        let file = data_dir.join(cache_file_name(name, self.store.version()));
        let rows = self.analytics.build_cache(name, sql, &file).await?;
        self.keep(hold(&file)?);
        stamp["file"] =
            serde_json::Value::from(file.file_name().and_then(|n| n.to_str()).unwrap_or_default());
        write_stamp(&data_dir.join(format!("{name}.json")), &stamp)?;
        let swept = sweep_cache_files(data_dir, name, &file, CACHE_GRACE);
        tracing::info!(name, rows, swept, seconds = started.elapsed().as_secs_f64(), "cache built");
        Ok(true)
    }

    fn keep(&self, file: std::fs::File) {
        if let Ok(mut held) = self.held.lock() {
            held.push(file);
        }
    }

    /// Builds or registers the daily rollup once per session; true when it was built.
    async fn ensure_rollup(&self) -> Result<bool> {
        let built = self
            .rollup_ready
            .get_or_try_init(|| async {
                let sql = query::rollup_sql(&self.context);
                self.ensure_cache("rollup", &sql, "").await
            })
            .await?;
        Ok(*built)
    }

    /// Builds or registers the conversations cache once per session (it depends on the
    /// `[responses]` schedule too).
    async fn ensure_conversations(&self, workspace: &Workspace) -> Result<bool> {
        let built = self
            .conversations_ready
            .get_or_try_init(|| async {
                let sql = query::conversations_sql(&self.context);
                let schedule = serde_json::to_string(&workspace.config.responses)?;
                self.ensure_cache("conversations", &sql, &schedule).await
            })
            .await?;
        Ok(*built)
    }

    /// Builds or registers both caches (for code that plans without `answer`); true when
    /// either was built (the store changed since they were).
    pub async fn ensure_caches(&self, workspace: &Workspace) -> Result<bool> {
        let rollup = self.ensure_rollup().await?;
        Ok(self.ensure_conversations(workspace).await? | rollup)
    }

    /// Registers the cache files as they are, even when the store moved on since they were
    /// built (the server answers from them for the moment it takes to rebuild them); false
    /// when there are none.
    pub async fn adopt_caches(&self) -> Result<bool> {
        let (Some(rollup), Some(conversations)) = (
            stamped_cache_file(&self.data_dir, "rollup", None),
            stamped_cache_file(&self.data_dir, "conversations", None),
        ) else {
            return Ok(false);
        };
        let (Ok(held_rollup), Ok(held_conversations)) = (hold(&rollup), hold(&conversations))
        else {
            return Ok(false); // swept meanwhile: built again
        };
        self.keep(held_rollup);
        self.keep(held_conversations);
        self.analytics.register_cache("rollup", &rollup).await?;
        self.analytics.register_cache("conversations", &conversations).await?;
        let _ = self.rollup_ready.set(false);
        let _ = self.conversations_ready.set(false);
        Ok(true)
    }

    /// Registers the topics' names once per session (posts carry their topic from arrival).
    pub async fn ensure_topics(&self, workspace: &Workspace) -> Result<()> {
        self.topics_ready
            .get_or_try_init(|| async {
                let names = crate::topics::topic_names(&workspace.data_dir());
                self.analytics.register_topics(&names).await?;
                anyhow::Ok(())
            })
            .await?;
        Ok(())
    }

    /// Plans and runs a query (discovering topics first when it needs them).
    pub async fn answer(&self, workspace: &Workspace, query: &Query) -> Result<Answer> {
        if !self.store.has_data() {
            // Nothing imported yet: no table to plan against. Counts are 0, the rest unknown.
            query::plan(query, &self.context)?;
            let values = query
                .metrics
                .iter()
                .map(|name| match metrics::find(name) {
                    Some(metric) if metric.unit == "count" => Some(0.0),
                    _ => None,
                })
                .collect();
            let rows = if query.by.is_empty() {
                vec![query::Row { keys: Vec::new(), values }]
            } else {
                Vec::new()
            };
            return Ok(Answer {
                dimensions: query.by.clone(),
                metrics: query.metrics.clone(),
                rows,
                notes: vec!["no posts yet".into()],
            });
        }
        let needs_topics = query.by.iter().any(|d| d == "topic")
            || query.filters.iter().any(|f| f.field == "topic")
            || query.metrics.iter().any(|m| m == "topic_share");
        let mut context = self.context.clone();
        if needs_topics || self.topics_ready.initialized() {
            self.ensure_topics(workspace).await?;
            context.topics = true;
        }
        // A topic filter names topics by id, whole name or words of the label.
        let resolved;
        let query = if query.filters.iter().any(|f| f.field == "topic") {
            let names = crate::topics::topic_names(&workspace.data_dir());
            let mut copy = query.clone();
            for filter in copy.filters.iter_mut().filter(|f| f.field == "topic") {
                let mut values = Vec::new();
                for value in &filter.values {
                    let ids = crate::topics::resolve(&names, value);
                    if ids.is_empty() {
                        anyhow::bail!(crate::topics::no_match(value));
                    }
                    values.extend(
                        names.iter().filter(|(id, _)| ids.contains(id)).map(|(_, n)| n.clone()),
                    );
                }
                filter.values = values;
            }
            resolved = copy;
            &resolved
        } else {
            query
        };
        let plan = query::plan(query, &context)?;
        if plan.uses_rollup() {
            self.ensure_rollup().await?;
        }
        if plan.uses_conversations() {
            self.ensure_conversations(workspace).await?;
        }
        Ok(query::run(&self.analytics, &plan, query.limit).await?)
    }
}

pub(crate) fn parse_filters(filters: &[String]) -> Result<Vec<Filter>> {
    Ok(filters.iter().map(|f| Filter::parse(f)).collect::<Result<Vec<_>, _>>()?)
}

fn format_value(value: Option<f64>, unit: &str) -> String {
    match value {
        None => "unknown".into(),
        Some(v) if unit == "count" && v.fract() == 0.0 => format!("{v:.0}"),
        Some(v) if unit == "share" => format!("{:.1}%", v * 100.0),
        Some(v) if unit == "percent" => format!("{v:.2}%"),
        Some(v) => format!("{v:.2}"),
    }
}

fn unit_of(name: &str) -> &'static str {
    match metrics::find(name) {
        Some(metric) => metric.unit,
        None if name.starts_with("kpi_share:") => "share",
        None => "number",
    }
}

/// Prints an answer as a table.
fn print_answer(answer: &Answer) {
    let mut header: Vec<String> = answer.dimensions.clone();
    header.extend(answer.metrics.iter().cloned());
    let mut rows: Vec<Vec<String>> = vec![header];
    for row in &answer.rows {
        let mut cells = row.keys.clone();
        for (name, value) in answer.metrics.iter().zip(&row.values) {
            cells.push(format_value(*value, unit_of(name)));
        }
        rows.push(cells);
    }
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0).min(60))
        .collect();
    for (index, row) in rows.iter().enumerate() {
        let cells: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(i, cell)| {
                let cell: String = cell.chars().take(60).collect();
                if i < answer.dimensions.len() {
                    format!("{cell:<width$}", width = widths[i])
                } else {
                    format!("{cell:>width$}", width = widths[i])
                }
            })
            .collect();
        output::line(cells.join("  ").trim_end());
        if index == 0 {
            output::line(&widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>().join("  "));
        }
    }
    for note in &answer.notes {
        output::line(&format!("note: {note}"));
    }
}

/// `waterline metrics`.
pub fn metrics(args: &MetricsArgs) -> Result<()> {
    if args.json {
        let dimensions: Vec<serde_json::Value> = query::DIMENSIONS
            .iter()
            .map(|(name, meaning)| serde_json::json!({"name": name, "meaning": meaning}))
            .collect();
        return output::json(&serde_json::json!({
            "metrics": metrics::catalogue(),
            "dimensions": dimensions,
            "business": "kpi:SERIES (sum of an imported series) and kpi_share:SERIES (the brand's share against the panel)",
        }));
    }
    for metric in metrics::catalogue() {
        output::line(&format!("{} ({}, {})", metric.name, metric.label, metric.unit));
        output::line(&format!("    {}", metric.definition));
        let denominator = if metric.denominator.is_empty() { "-" } else { metric.denominator };
        output::line(&format!("    numerator: {}; denominator: {denominator}", metric.numerator));
        let scope = if metric.scope.is_empty() {
            "every row".to_owned()
        } else {
            metric.scope.iter().map(|(f, v)| format!("{f}={v}")).collect::<Vec<_>>().join(", ")
        };
        output::line(&format!("    time basis: {}; default scope: {scope}", metric.time_basis));
    }
    output::line("");
    output::line(
        "business series: kpi:SERIES (sum), kpi_share:SERIES (the brand's share against the panel)",
    );
    output::line("dimensions:");
    for (name, meaning) in query::DIMENSIONS {
        output::line(&format!("  {name:<10} {meaning}"));
    }
    Ok(())
}

/// `waterline query`.
pub async fn query(workspace: &Workspace, args: &QueryArgs) -> Result<()> {
    let request = Query {
        metrics: args.metrics.clone(),
        by: args.by.clone(),
        filters: parse_filters(&args.filters)?,
        from: args.from,
        to: args.to,
        limit: args.limit,
        parts: false,
    };
    if args.explain {
        let mut context = Context::from_config(&workspace.config);
        context.topics = true;
        context.rollup = !args.scan;
        let plan = query::plan(&request, &context)?;
        for statement in &plan.statements {
            output::line(&format!("-- {:?}: {}", statement.family, statement.metrics.join(", ")));
            output::line(&format!("{};", statement.sql));
        }
        return Ok(());
    }
    let mut session = open(workspace).await?;
    session.context.rollup = !args.scan;
    let started = std::time::Instant::now();
    let answer = session.answer(workspace, &request).await?;
    if args.timing {
        output::error(&format!("query: {:.1} ms", started.elapsed().as_secs_f64() * 1000.0));
    }
    if args.json {
        return output::json(&serde_json::json!({
            "dimensions": answer.dimensions,
            "metrics": answer.metrics,
            "from": args.from,
            "to": args.to,
            "time_zone": workspace.config.time_zone,
            "where": request.filters.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "rows": answer.objects(),
            "definitions": metrics::definitions(&answer.metrics),
            "notes": answer.notes,
        }));
    }
    print_answer(&answer);
    Ok(())
}

/// `waterline baseline …`.
pub async fn baseline(workspace: &Workspace, action: BaselineAction) -> Result<()> {
    let session = open(workspace).await?;
    if matches!(action, BaselineAction::Create { .. }) {
        session.ensure_caches(workspace).await?;
    }
    let state = session.store.state();
    match action {
        BaselineAction::Create { name, from, to, filters, replace, json } => {
            if to < from {
                bail!("--to ({to}) is before --from ({from})");
            }
            if !replace && state.document(BASELINE, &name).await?.is_some() {
                bail!(
                    "a baseline named `{name}` exists; a baseline never changes (use --replace to freeze it again)"
                );
            }
            let filters = parse_filters(&filters)?;
            let frozen = compare::freeze(
                &session.analytics,
                &session.context,
                &name,
                &filters,
                from,
                to,
                chrono::Utc::now().to_rfc3339(),
            )
            .await?;
            state
                .put_document(BASELINE, &name, &serde_json::to_string(&frozen)?, now_ms(), replace)
                .await?;
            if json {
                return output::json(&summary(&frozen));
            }
            output::line(&format!(
                "froze {} metrics as baseline `{name}` ({from} to {to}); compare with: waterline compare --baseline {name} --from … --to …",
                frozen.metrics.len()
            ));
            print_baseline(&frozen);
        }
        BaselineAction::List { json } => {
            let mut listed = Vec::new();
            for (name, created, body) in state.documents(BASELINE).await? {
                let baseline: Baseline = serde_json::from_str(&body)?;
                listed.push(serde_json::json!({
                    "name": name,
                    "from": baseline.from,
                    "to": baseline.to,
                    "where": baseline.filters.iter().map(ToString::to_string).collect::<Vec<_>>(),
                    "metrics": baseline.metrics.len(),
                    "created_at": chrono::DateTime::from_timestamp_millis(created).map(|t| t.to_rfc3339()),
                }));
            }
            if json {
                return output::json(&listed);
            }
            if listed.is_empty() {
                output::line(
                    "no baselines yet: waterline baseline create NAME --from YYYY-MM-DD --to YYYY-MM-DD",
                );
            }
            for entry in listed {
                output::line(&format!(
                    "{}  {} to {}  {} metrics  {}",
                    entry["name"].as_str().unwrap_or_default(),
                    entry["from"].as_str().unwrap_or_default(),
                    entry["to"].as_str().unwrap_or_default(),
                    entry["metrics"],
                    entry["where"]
                ));
            }
        }
        BaselineAction::Show { name, json } => {
            let baseline = load_baseline(&session, &name).await?;
            if json {
                return output::json(&baseline);
            }
            output::line(&format!(
                "baseline `{name}`: {} to {}, frozen {}",
                baseline.from, baseline.to, baseline.created_at
            ));
            print_baseline(&baseline);
        }
        BaselineAction::Delete { name } => {
            if !state.delete_document(BASELINE, &name).await? {
                bail!("no baseline named `{name}`");
            }
            output::line(&format!("deleted baseline `{name}`"));
        }
    }
    Ok(())
}

pub(crate) fn summary(baseline: &Baseline) -> serde_json::Value {
    serde_json::json!({
        "name": baseline.name,
        "from": baseline.from,
        "to": baseline.to,
        "where": baseline.filters.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "created_at": baseline.created_at,
        "metrics": baseline.metrics.iter().map(|m| serde_json::json!({
            "metric": m.metric, "value": m.value, "compared_value": m.compared_value,
        })).collect::<Vec<_>>(),
    })
}

fn print_baseline(baseline: &Baseline) {
    for frozen in &baseline.metrics {
        let unit = unit_of(&frozen.metric);
        output::line(&format!("  {:<36} {:>12}", frozen.metric, format_value(frozen.value, unit)));
    }
}

pub(crate) async fn load_baseline(session: &Session, name: &str) -> Result<Baseline> {
    let Some(body) = session.store.state().document(BASELINE, name).await? else {
        bail!("no baseline named `{name}` (waterline baseline list)");
    };
    Ok(serde_json::from_str(&body)?)
}

/// `waterline compare`.
pub async fn compare(workspace: &Workspace, args: &CompareArgs) -> Result<()> {
    if args.to < args.from {
        bail!("--to ({}) is before --from ({})", args.to, args.from);
    }
    let session = open(workspace).await?;
    session.ensure_caches(workspace).await?;
    let baseline = load_baseline(&session, &args.baseline).await?;
    let changes =
        compare::compare(&session.analytics, &session.context, &baseline, args.from, args.to)
            .await?;
    if args.json {
        return output::json(&serde_json::json!({
            "baseline": {"name": baseline.name, "from": baseline.from, "to": baseline.to,
                "where": baseline.filters.iter().map(ToString::to_string).collect::<Vec<_>>()},
            "period": {"from": args.from, "to": args.to},
            "method": format!("95% percentile bootstrap ({} resamples, seeded): counts as daily means and ratios resampled by day, means and percentiles by post", compare::RESAMPLES),
            "changes": changes,
        }));
    }
    output::line(&format!(
        "{} to {} against baseline `{}` ({} to {}); 95% bootstrap intervals",
        args.from, args.to, baseline.name, baseline.from, baseline.to
    ));
    output::line(&format!(
        "{:<36} {:<10} {:>11} {:>11} {:>11} {:>25}  ",
        "metric", "compared", "baseline", "current", "change", "95% interval"
    ));
    for change in &changes {
        let unit = match unit_of(&change.metric) {
            "count" => "number",
            other => other,
        };
        let interval = match (change.low, change.high) {
            (Some(low), Some(high)) => {
                format!("[{}, {}]", format_value(Some(low), unit), format_value(Some(high), unit))
            }
            _ => "-".into(),
        };
        output::line(&format!(
            "{:<36} {:<10} {:>11} {:>11} {:>11} {:>25}  {}{}",
            change.metric,
            change.compared,
            format_value(change.baseline, unit),
            format_value(change.current, unit),
            format_value(change.change, unit),
            interval,
            if change.significant { "significant" } else { "" },
            if change.definition_changed { " (definition changed since the baseline)" } else { "" },
        ));
    }
    Ok(())
}

/// A KPI target with a date.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Milestone {
    /// Its name.
    pub name: String,
    /// A catalogue metric or `kpi:SERIES`.
    pub metric: String,
    /// Filters (`FIELD=VALUE`).
    #[serde(default, rename = "where")]
    pub filters: Vec<String>,
    /// Target value.
    pub target: f64,
    /// Due date.
    pub by: NaiveDate,
    /// Progress counted from.
    #[serde(default)]
    pub since: Option<NaiveDate>,
    /// `added` or `waterline.toml`.
    #[serde(default)]
    pub source: String,
}

pub(crate) fn check_metric(name: &str) -> Result<()> {
    match metrics::find(name) {
        Some(metric) if matches!(metric.formula, Formula::ShareOf { .. }) => {
            bail!(
                "`{name}` is a share across a dimension; a milestone needs one number (filter it, for example channel mix → a metric with --where platform=…)"
            )
        }
        Some(_) => Ok(()),
        None if BusinessMetric::parse(name).is_some() => Ok(()),
        None => bail!("unknown metric `{name}` (waterline metrics)"),
    }
}

pub(crate) async fn milestones(workspace: &Workspace, session: &Session) -> Result<Vec<Milestone>> {
    let mut all = Vec::new();
    for kpi in &workspace.config.kpis {
        let (Some(target), Some(by)) = (kpi.target, kpi.by.as_deref()) else { continue };
        let day = |key: &str, value: &str| {
            NaiveDate::parse_from_str(value, "%Y-%m-%d").with_context(|| {
                format!(
                    "waterline.toml [[kpis]] `{}`: {key} = \"{value}\" is not a date (YYYY-MM-DD)",
                    kpi.name
                )
            })
        };
        all.push(Milestone {
            name: kpi.name.clone(),
            metric: kpi.metric.clone(),
            filters: kpi.filters.clone(),
            target,
            by: day("by", by)?,
            since: kpi.since.as_deref().map(|since| day("since", since)).transpose()?,
            source: "waterline.toml".into(),
        });
    }
    for (_, _, body) in session.store.state().documents(MILESTONE).await? {
        all.push(serde_json::from_str(&body)?);
    }
    Ok(all)
}

/// Where a milestone stands.
#[derive(Debug, Clone, Serialize)]
pub struct MilestoneStatus {
    /// The milestone.
    #[serde(flatten)]
    pub milestone: Milestone,
    /// The day it is judged at.
    pub as_of: Option<NaiveDate>,
    /// Weekly values (week named by its Monday) from `since` to `as_of`, complete weeks.
    pub weekly: Vec<(String, Option<f64>)>,
    /// The trend line's value at the first week.
    pub start: Option<f64>,
    /// The last complete week's value.
    pub current: Option<f64>,
    /// (current − start) ÷ (target − start).
    pub progress: Option<f64>,
    /// Change per week (least squares over the weekly values) and its 95% interval.
    pub slope_per_week: Option<f64>,
    /// See `slope_per_week`.
    pub slope_low: Option<f64>,
    /// See `slope_per_week`.
    pub slope_high: Option<f64>,
    /// The trend's value at the due date.
    pub projected: Option<f64>,
    /// Change per week still needed from the current value.
    pub needed_per_week: Option<f64>,
    /// `reached`, `on track`, `off track`, `missed` or `not enough data`.
    pub verdict: String,
    /// How the verdict was reached.
    pub explanation: String,
}

async fn data_days(
    session: &Session,
    time_zone: &str,
) -> Result<(Option<NaiveDate>, Option<NaiveDate>)> {
    let sql = format!(
        "SELECT to_char(min(created_at) AT TIME ZONE {tz}, '%Y-%m-%d') AS first, to_char(max(created_at) AT TIME ZONE {tz}, '%Y-%m-%d') AS last FROM posts",
        tz = query::quote(time_zone)
    );
    let rows = waterline_analytics::to_json(&session.analytics.query(&sql).await?)?;
    let day = |key: &str| {
        rows.get(0)
            .and_then(|row| row.get(key))
            .and_then(|v| v.as_str())
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
    };
    Ok((day("first"), day("last")))
}

pub(crate) async fn milestone_status(
    workspace: &Workspace,
    session: &Session,
    milestone: &Milestone,
    as_of: Option<NaiveDate>,
) -> Result<MilestoneStatus> {
    let (first, last) = data_days(session, &workspace.config.time_zone).await?;
    let as_of = as_of.or(last);
    let since = milestone.since.or(first);
    let mut status = MilestoneStatus {
        milestone: milestone.clone(),
        as_of,
        weekly: Vec::new(),
        start: None,
        current: None,
        progress: None,
        slope_per_week: None,
        slope_low: None,
        slope_high: None,
        projected: None,
        needed_per_week: None,
        verdict: "not enough data".into(),
        explanation: String::new(),
    };
    let (Some(since), Some(as_of)) = (since, as_of) else {
        status.explanation = "no posts yet".into();
        return Ok(status);
    };
    // Complete weeks only: from the first Monday on or after `since` to the last Sunday on
    // or before `as_of`.
    let first_monday =
        since + chrono::Duration::days((7 - since.weekday().num_days_from_monday() as i64) % 7);
    let last_sunday =
        as_of - chrono::Duration::days((as_of.weekday().num_days_from_monday() as i64 + 1) % 7);
    if last_sunday < first_monday {
        status.explanation =
            "less than one complete week between the start and the judging day".into();
        return Ok(status);
    }
    let request = Query {
        metrics: vec![milestone.metric.clone()],
        by: vec!["week".into()],
        filters: parse_filters(&milestone.filters)?,
        from: Some(first_monday),
        to: Some(last_sunday),
        limit: None,
        parts: false,
    };
    let answer = session.answer(workspace, &request).await?;
    let mut points = Vec::new();
    for row in &answer.rows {
        let value = row.values.first().copied().flatten();
        if let (Some(value), Ok(monday)) =
            (value, NaiveDate::parse_from_str(&row.keys[0], "%Y-%m-%d"))
        {
            points.push(((monday - first_monday).num_days() as f64 / 7.0, value));
        }
        status.weekly.push((row.keys[0].clone(), value.map(waterline_analytics::topics::round)));
    }
    status.current = points.last().map(|p| p.1);
    let round = waterline_analytics::topics::round;
    let Some(line) = compare::trend(&points) else {
        status.explanation = "fewer than two weeks with a value".into();
        return Ok(status);
    };
    let due = (milestone.by - first_monday).num_days() as f64 / 7.0;
    let now = points.last().map_or(0.0, |p| p.0);
    let start = line.intercept;
    let projected = line.intercept + line.slope * due;
    let current = status.current.unwrap_or(start);
    let target = milestone.target;
    let increase = target >= start;
    let meets = |value: f64| if increase { value >= target } else { value <= target };
    let weeks_left = due - now;
    status.start = Some(round(start));
    status.progress = (target != start).then(|| round((current - start) / (target - start)));
    status.slope_per_week = Some(round(line.slope));
    status.slope_low = line.slope_low.map(round);
    status.slope_high = line.slope_high.map(round);
    status.projected = Some(round(projected));
    status.needed_per_week = (weeks_left > 0.0).then(|| round((target - current) / weeks_left));
    let direction = if increase { "at least" } else { "at most" };
    (status.verdict, status.explanation) = if meets(current) {
        (
            "reached".into(),
            format!(
                "the last complete week is {} ({direction} the target {})",
                round(current),
                target
            ),
        )
    } else if as_of >= milestone.by {
        ("missed".into(), format!("the due date {} has passed at {}", milestone.by, round(current)))
    } else if meets(projected) {
        (
            "on track".into(),
            format!(
                "at {:+} a week the trend reaches {} by {}, {direction} the target {}",
                round(line.slope),
                round(projected),
                milestone.by,
                target
            ),
        )
    } else {
        (
            "off track".into(),
            format!(
                "at {:+} a week the trend reaches {} by {}; {} a week is needed",
                round(line.slope),
                round(projected),
                milestone.by,
                status.needed_per_week.map_or("-".into(), |n| format!("{n:+}"))
            ),
        )
    };
    Ok(status)
}

/// `waterline milestone …`.
pub async fn milestone(workspace: &Workspace, action: MilestoneAction) -> Result<()> {
    let session = open(workspace).await?;
    match action {
        MilestoneAction::Add { name, metric, target, by, since, filters, replace } => {
            check_metric(&metric)?;
            parse_filters(&filters)?;
            if workspace.config.kpis.iter().any(|kpi| kpi.name == name) {
                bail!("`{name}` is a KPI of waterline.toml; change it there or pick another name");
            }
            let milestone = Milestone {
                name: name.clone(),
                metric,
                filters,
                target,
                by,
                since,
                source: "added".into(),
            };
            let written = session
                .store
                .state()
                .put_document(
                    MILESTONE,
                    &name,
                    &serde_json::to_string(&milestone)?,
                    now_ms(),
                    replace,
                )
                .await?;
            if !written {
                bail!("a milestone named `{name}` exists (use --replace to change it)");
            }
            output::line(&format!(
                "added milestone `{name}`; see it with: waterline milestone status"
            ));
        }
        MilestoneAction::List { json } => {
            let all = milestones(workspace, &session).await?;
            if json {
                return output::json(&all);
            }
            if all.is_empty() {
                output::line(
                    "no milestones: waterline milestone add NAME --metric M --target T --by YYYY-MM-DD",
                );
            }
            for m in all {
                output::line(&format!(
                    "{}  {} {} by {}{}  ({})",
                    m.name,
                    m.metric,
                    m.target,
                    m.by,
                    if m.filters.is_empty() {
                        String::new()
                    } else {
                        format!(" where {}", m.filters.join(" "))
                    },
                    m.source
                ));
            }
        }
        MilestoneAction::Status { name, as_of, json } => {
            let all = milestones(workspace, &session).await?;
            let chosen: Vec<&Milestone> =
                all.iter().filter(|m| name.as_ref().is_none_or(|n| *n == m.name)).collect();
            if let Some(name) = &name
                && chosen.is_empty()
            {
                bail!("no milestone named `{name}`");
            }
            let mut statuses = Vec::new();
            for milestone in chosen {
                statuses.push(milestone_status(workspace, &session, milestone, as_of).await?);
            }
            if json {
                return output::json(&statuses);
            }
            for status in statuses {
                let m = &status.milestone;
                let unit = unit_of(&m.metric);
                output::line(&format!(
                    "{}: {} → target {} by {} — {}",
                    m.name,
                    m.metric,
                    format_value(Some(m.target), unit),
                    m.by,
                    status.verdict.to_uppercase()
                ));
                output::line(&format!(
                    "    now {} (weekly), start {}, progress {}, projected {}",
                    format_value(status.current, unit),
                    format_value(status.start, unit),
                    status.progress.map_or("-".into(), |p| format!("{:.0}%", p * 100.0)),
                    format_value(status.projected, unit)
                ));
                output::line(&format!("    {}", status.explanation));
            }
        }
        MilestoneAction::Remove { name } => {
            if !session.store.state().delete_document(MILESTONE, &name).await? {
                bail!("no added milestone named `{name}`");
            }
            output::line(&format!("removed milestone `{name}`"));
        }
    }
    Ok(())
}

/// Reads a business-series CSV: `date, metric, value[, product][, competitor]` with a
/// header (any order, any case). Bad rows are rejected with line, field and reason.
pub fn read_business_csv(path: &std::path::Path) -> Result<(Vec<BusinessRow>, Vec<Rejected>, u64)> {
    let file = path.display().to_string();
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_path(path)
        .with_context(|| format!("cannot read `{file}`"))?;
    let headers: Vec<String> = reader.headers()?.iter().map(|h| h.trim().to_lowercase()).collect();
    let column = |name: &str| headers.iter().position(|h| h == name);
    let (Some(date), Some(metric), Some(value)) =
        (column("date"), column("metric"), column("value"))
    else {
        bail!(
            "`{file}`: the header needs `date`, `metric` and `value` (and optionally `product`, `competitor`); found {headers:?}"
        );
    };
    let (product, competitor) = (column("product"), column("competitor"));
    let mut rows = Vec::new();
    let mut rejected = Vec::new();
    let mut read = 0u64;
    for (index, record) in reader.records().enumerate() {
        read += 1;
        let line = index as u64 + 2;
        let reject = |field: &str, reason: String, excerpt: String| Rejected {
            file: file.clone(),
            position: Position { line: Some(line), byte_offset: None, pointer: None },
            field: field.to_owned(),
            reason,
            excerpt: excerpt.chars().take(200).collect(),
        };
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                rejected.push(reject("$", format!("unreadable CSV row: {error}"), String::new()));
                continue;
            }
        };
        let excerpt = record.iter().collect::<Vec<_>>().join(",");
        let get = |i: Option<usize>| i.and_then(|i| record.get(i)).unwrap_or("").trim().to_owned();
        let day = match NaiveDate::parse_from_str(&get(Some(date)), "%Y-%m-%d") {
            Ok(day) => day,
            Err(_) => {
                rejected.push(reject(
                    "date",
                    format!("`{}` is not a date (YYYY-MM-DD)", get(Some(date))),
                    excerpt,
                ));
                continue;
            }
        };
        let series = get(Some(metric));
        if series.is_empty() {
            rejected.push(reject("metric", "empty metric name".into(), excerpt));
            continue;
        }
        let number = match get(Some(value)).replace('_', "").parse::<f64>() {
            Ok(number) if number.is_finite() => number,
            _ => {
                rejected.push(reject(
                    "value",
                    format!("`{}` is not a number", get(Some(value))),
                    excerpt,
                ));
                continue;
            }
        };
        rows.push(BusinessRow {
            series,
            day: day.format("%Y-%m-%d").to_string(),
            product: get(product),
            competitor: get(competitor),
            value: number,
        });
    }
    Ok((rows, rejected, read))
}

/// `waterline kpi …`.
pub async fn kpi(workspace: &Workspace, action: KpiAction) -> Result<()> {
    let session = open(workspace).await?;
    match action {
        KpiAction::Import { file, json } => {
            let (rows, rejected, read) = read_business_csv(&file)?;
            // Within one file the last row for a key wins; it counts as one point.
            let mut unique: std::collections::BTreeMap<
                (String, String, String, String),
                BusinessRow,
            > = std::collections::BTreeMap::new();
            let mut repeated = 0u64;
            for row in rows {
                let key = (
                    row.series.clone(),
                    row.day.clone(),
                    row.product.clone(),
                    row.competitor.clone(),
                );
                if unique.insert(key, row).is_some() {
                    repeated += 1;
                }
            }
            let rows: Vec<BusinessRow> = unique.into_values().collect();
            let state = session.store.state();
            let run = uuid::Uuid::now_v7().to_string();
            state.begin_run(&run, &format!("kpi import {}", file.display()), now_ms()).await?;
            let outcome =
                state.upsert_business(&rows, &file.display().to_string(), now_ms()).await?;
            state.add_rejects(&run, &rejected).await?;
            let report = waterline_model::ImportReport {
                read,
                new: outcome.new,
                updated: outcome.updated,
                unchanged: outcome.unchanged + repeated,
                other: 0,
                rejected: rejected.len() as u64,
            };
            if !report.balances() {
                bail!("internal error: business import accounting does not balance: {report:?}");
            }
            state.finish_run(&run, &report, "completed", now_ms()).await?;
            if json {
                return output::json(
                    &serde_json::json!({"run": run, "report": report, "rejects": rejected}),
                );
            }
            output::line(&format!("{}: {}", file.display(), report.summary()));
            for reject in rejected.iter().take(10) {
                output::line(&format!(
                    "  rejected line {}: {}: {}",
                    reject.position.line.unwrap_or(0),
                    reject.field,
                    reject.reason
                ));
            }
            if rejected.len() > 10 {
                output::line(&format!("  … see all with: waterline rejects --run {run}"));
            }
        }
        KpiAction::List { json } => {
            let rows = session.store.state().business().await?;
            let mut series: std::collections::BTreeMap<
                String,
                (usize, String, String, f64, std::collections::BTreeSet<String>),
            > = std::collections::BTreeMap::new();
            for row in rows {
                let entry = series.entry(row.series.clone()).or_insert((
                    0,
                    row.day.clone(),
                    row.day.clone(),
                    0.0,
                    Default::default(),
                ));
                entry.0 += 1;
                if row.day < entry.1 {
                    entry.1 = row.day.clone();
                }
                if row.day > entry.2 {
                    entry.2 = row.day.clone();
                }
                entry.3 += row.value;
                entry.4.insert(if row.competitor.is_empty() {
                    workspace.config.brand.clone()
                } else {
                    row.competitor
                });
            }
            let listed: Vec<serde_json::Value> = series
                .into_iter()
                .map(|(name, (points, first, last, total, panel))| {
                    serde_json::json!({"series": name, "points": points, "first": first, "last": last, "total": total, "panel": panel})
                })
                .collect();
            if json {
                return output::json(&listed);
            }
            if listed.is_empty() {
                output::line(
                    "no business series: waterline kpi import FILE.csv (date, metric, value[, product][, competitor])",
                );
            }
            for entry in listed {
                output::line(&format!(
                    "{}: {} points, {} to {}, total {}, panel {}",
                    entry["series"].as_str().unwrap_or_default(),
                    entry["points"],
                    entry["first"].as_str().unwrap_or_default(),
                    entry["last"].as_str().unwrap_or_default(),
                    entry["total"],
                    entry["panel"]
                ));
            }
        }
        KpiAction::Correlate { series, metric, filters, bucket, max_lag, from, to, json } => {
            if !matches!(bucket.as_str(), "week" | "month") {
                bail!("--bucket is week or month, not `{bucket}`");
            }
            check_metric(&metric)?;
            let social = session
                .answer(
                    workspace,
                    &Query {
                        metrics: vec![metric.clone()],
                        by: vec![bucket.clone()],
                        filters: parse_filters(&filters)?,
                        from,
                        to,
                        limit: None,
                        parts: false,
                    },
                )
                .await?;
            let business_name = format!("kpi:{series}");
            let business = session
                .answer(
                    workspace,
                    &Query {
                        metrics: vec![business_name.clone()],
                        by: vec![bucket.clone()],
                        filters: Vec::new(),
                        from,
                        to,
                        limit: None,
                        parts: false,
                    },
                )
                .await?;
            let pairs = |answer: &Answer| -> Vec<(String, f64)> {
                answer
                    .rows
                    .iter()
                    .filter_map(|row| {
                        Some((row.keys[0].clone(), row.values.first().copied().flatten()?))
                    })
                    .collect()
            };
            let (social, business) = (pairs(&social), pairs(&business));
            if business.is_empty() {
                bail!("no points of business series `{series}` in the period (waterline kpi list)");
            }
            let lags = compare::lagged(&social, &business, max_lag);
            let best = lags
                .iter()
                .filter(|(_, c)| c.r.is_some())
                .max_by(|a, b| a.1.r.unwrap_or(0.0).abs().total_cmp(&b.1.r.unwrap_or(0.0).abs()));
            let caution = "correlation, not cause: both series may follow a third factor (season, launches, media); a lag > 0 means the social metric moves first";
            if json {
                return output::json(&serde_json::json!({
                    "series": series, "metric": metric, "bucket": bucket,
                    "social": social, "business": business,
                    "lags": lags.iter().map(|(lag, c)| serde_json::json!({"lag": lag, "n": c.n, "r": c.r, "low": c.low, "high": c.high})).collect::<Vec<_>>(),
                    "strongest_lag": best.map(|b| b.0),
                    "caution": caution,
                }));
            }
            output::line(&format!(
                "{metric} against business series `{series}`, by {bucket}; {caution}"
            ));
            output::line(&format!("{:>4} {:>4} {:>7} {:>18}", "lag", "n", "r", "95% interval"));
            for (lag, correlation) in &lags {
                let interval = match (correlation.low, correlation.high) {
                    (Some(low), Some(high)) => format!("[{low:.2}, {high:.2}]"),
                    _ => "-".into(),
                };
                output::line(&format!(
                    "{lag:>4} {:>4} {:>7} {interval:>18}{}",
                    correlation.n,
                    correlation.r.map_or("-".into(), |r| format!("{r:.2}")),
                    if best.is_some_and(|b| b.0 == *lag) { "  strongest" } else { "" }
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod cache_file_tests {
    use super::*;
    use std::time::Duration;

    fn stamp(dir: &std::path::Path, name: &str, file: &str) {
        let value = serde_json::json!({"version": 3, "sql": 1, "extra": "", "file": file});
        write_stamp(&dir.join(format!("{name}.json")), &value).unwrap();
    }

    #[test]
    fn each_build_names_a_file_of_its_own() {
        let first = cache_file_name("rollup", Some(3));
        std::thread::sleep(Duration::from_millis(2));
        let second = cache_file_name("rollup", Some(3));
        assert_ne!(first, second);
        assert!(first.starts_with("rollup-3-") && first.ends_with(".parquet"));
    }

    #[test]
    fn the_stamp_names_the_file_and_must_match_what_it_was_built_from() {
        let dir = tempfile::tempdir().unwrap();
        let name = cache_file_name("rollup", Some(3));
        std::fs::write(dir.path().join(&name), b"x").unwrap();
        stamp(dir.path(), "rollup", &name);
        let expected = serde_json::json!({"version": 3, "sql": 1, "extra": ""});
        assert_eq!(
            stamped_cache_file(dir.path(), "rollup", Some(&expected)),
            Some(dir.path().join(&name))
        );
        let newer = serde_json::json!({"version": 4, "sql": 1, "extra": ""});
        assert_eq!(stamped_cache_file(dir.path(), "rollup", Some(&newer)), None);
        // Adopting takes whatever the stamp names; a path outside the folder is refused.
        assert!(stamped_cache_file(dir.path(), "rollup", None).is_some());
        stamp(dir.path(), "rollup", "../elsewhere.parquet");
        assert_eq!(stamped_cache_file(dir.path(), "rollup", None), None);
        // A stamp of the layout before each build had its own file names none.
        std::fs::write(dir.path().join("rollup.json"), br#"{"version":3,"sql":1,"extra":""}"#)
            .unwrap();
        assert_eq!(stamped_cache_file(dir.path(), "rollup", None), None);
    }

    #[test]
    fn a_sweep_keeps_the_current_file_and_every_file_a_session_holds() {
        let dir = tempfile::tempdir().unwrap();
        let path = |name: &str| dir.path().join(name);
        for name in [
            "rollup-1-a.parquet",
            "rollup-2-b.parquet",
            "rollup-3-c.parquet",
            "rollup-4-d.parquet.tmp",
            "rollup.parquet",
            "rollup.json.1-a.tmp",
            "conversations-1-a.parquet",
        ] {
            std::fs::write(path(name), b"x").unwrap();
        }
        let held = hold(&path("rollup-2-b.parquet")).unwrap();
        // Nothing is old enough yet.
        let current = path("rollup-3-c.parquet");
        assert_eq!(sweep_cache_files(dir.path(), "rollup", &current, CACHE_GRACE), 0);
        // Past the grace: the unheld older builds, the abandoned temporary files and the
        // legacy file go; the current one, the held one and the other cache stay.
        assert_eq!(sweep_cache_files(dir.path(), "rollup", &current, Duration::ZERO), 4);
        assert!(current.exists() && path("rollup-2-b.parquet").exists());
        assert!(!path("rollup-1-a.parquet").exists() && !path("rollup.parquet").exists());
        assert!(path("conversations-1-a.parquet").exists());
        drop(held);
        assert_eq!(sweep_cache_files(dir.path(), "rollup", &current, Duration::ZERO), 1);
        assert!(!path("rollup-2-b.parquet").exists());
    }
}
