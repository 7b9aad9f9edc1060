//! Metrics with declared definitions: queries, baselines, comparisons, milestones and
//! business KPIs. The planning and the statistics live in `waterline-analytics`; this
//! module reads the workspace and keeps the state; the CLI and the API call the same
//! functions.

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

use waterline_store::state::{AuditedWrite, StateDb};

use crate::backend::{NewBaseline, NewMilestone};
use crate::error::{AppError, AppResult};
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
    /// The first-interactions cache is registered (true when this session built it).
    first_interactions_ready: tokio::sync::OnceCell<bool>,
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
        first_interactions_ready: tokio::sync::OnceCell::new(),
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

    /// Builds or registers each author's first interaction once per session.
    async fn ensure_first_interactions(&self) -> Result<bool> {
        let built = self
            .first_interactions_ready
            .get_or_try_init(|| async {
                let sql = query::first_interactions_sql(&self.context);
                self.ensure_cache("first_interactions", &sql, "").await
            })
            .await?;
        Ok(*built)
    }

    /// Builds or registers every cache (for code that plans without `answer`); true when
    /// any was built (the store changed since they were).
    pub async fn ensure_caches(&self, workspace: &Workspace) -> Result<bool> {
        let rollup = self.ensure_rollup().await?;
        let authors = self.ensure_first_interactions().await?;
        Ok(self.ensure_conversations(workspace).await? | rollup | authors)
    }

    /// Registers the cache files as they are, even when the store moved on since they were
    /// built (the server answers from them for the moment it takes to rebuild them); false
    /// when there are none.
    pub async fn adopt_caches(&self) -> Result<bool> {
        const NAMES: [&str; 3] = ["rollup", "conversations", "first_interactions"];
        let mut files = Vec::new();
        for name in NAMES {
            let Some(file) = stamped_cache_file(&self.data_dir, name, None) else {
                return Ok(false);
            };
            let Ok(held) = hold(&file) else {
                return Ok(false); // swept meanwhile: built again
            };
            files.push((name, file, held));
        }
        for (name, file, held) in files {
            self.keep(held);
            self.analytics.register_cache(name, &file).await?;
        }
        let _ = self.rollup_ready.set(false);
        let _ = self.conversations_ready.set(false);
        let _ = self.first_interactions_ready.set(false);
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
        if plan.uses_first_interactions() {
            self.ensure_first_interactions().await?;
        }
        Ok(query::run(&self.analytics, &plan, query.limit).await?)
    }
}

pub fn parse_filters(filters: &[String]) -> Result<Vec<Filter>> {
    Ok(filters.iter().map(|f| Filter::parse(f)).collect::<Result<Vec<_>, _>>()?)
}

pub fn summary(baseline: &Baseline) -> serde_json::Value {
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

pub fn check_metric(name: &str) -> Result<()> {
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

pub async fn milestones(workspace: &Workspace, session: &Session) -> Result<Vec<Milestone>> {
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

pub async fn milestone_status(
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

/// A baseline as lists show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BaselineSummary {
    /// Its name.
    pub name: String,
    /// First day.
    pub from: Option<NaiveDate>,
    /// Last day.
    pub to: Option<NaiveDate>,
    /// Its filters.
    #[serde(rename = "where")]
    pub filters: Vec<String>,
    /// Frozen metrics.
    pub metrics: usize,
    /// When it was frozen.
    pub created_at: Option<String>,
    /// Why it cannot be read, when its stored document is damaged (it is listed, never
    /// hidden, so that the CLI and the API show the same baselines).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Every baseline, in name order; a damaged one is listed with its error.
pub async fn list_baselines(state: &StateDb) -> AppResult<Vec<BaselineSummary>> {
    let mut listed = Vec::new();
    for (name, created, body) in state.documents(BASELINE).await? {
        let created_at = chrono::DateTime::from_timestamp_millis(created).map(|t| t.to_rfc3339());
        listed.push(match serde_json::from_str::<Baseline>(&body) {
            Ok(baseline) => BaselineSummary {
                name,
                from: Some(baseline.from),
                to: Some(baseline.to),
                filters: baseline.filters.iter().map(ToString::to_string).collect(),
                metrics: baseline.metrics.len(),
                created_at,
                error: None,
            },
            Err(error) => BaselineSummary {
                name,
                from: None,
                to: None,
                filters: Vec::new(),
                metrics: 0,
                created_at,
                error: Some(format!("the stored baseline cannot be read: {error}")),
            },
        });
    }
    Ok(listed)
}

/// Freezes a baseline: every catalogue metric over the period, with the filters. A name
/// in use is a conflict unless `replace`.
pub async fn create_baseline(
    workspace: &Workspace,
    session: &Session,
    baseline: &NewBaseline,
    replace: bool,
    principal: &crate::access::Principal,
) -> AppResult<Baseline> {
    crate::limits::check_name(&baseline.name, "name")?;
    crate::limits::check_day(baseline.from, "from")?;
    crate::limits::check_day(baseline.to, "to")?;
    if baseline.to < baseline.from {
        return Err(AppError::bad_request(format!(
            "`to` ({}) is before `from` ({})",
            baseline.to, baseline.from
        )));
    }
    let state = session.store.state();
    if !replace && state.document(BASELINE, &baseline.name).await?.is_some() {
        return Err(AppError::new(
            "conflict",
            format!(
                "a baseline named `{}` exists; a baseline never changes (replace it, or use another name)",
                baseline.name
            ),
        ));
    }
    let filters = parse_filters(&baseline.filters).map_err(invalid_query)?;
    session.ensure_caches(workspace).await?;
    let frozen = compare::freeze(
        &session.analytics,
        &session.context,
        &baseline.name,
        &filters,
        baseline.from,
        baseline.to,
        chrono::Utc::now().to_rfc3339(),
    )
    .await
    .map_err(AppError::internal)?;
    let body = serde_json::to_string(&frozen).map_err(AppError::internal)?;
    let detail = serde_json::json!({"request": baseline, "replace": replace});
    let write = AuditedWrite::PutDocument {
        kind: BASELINE,
        name: &baseline.name,
        body: &body,
        now_ms: now_ms(),
        replace,
    };
    let audit = crate::access::entry(principal, "baseline.create", &baseline.name, &detail);
    if !state.write_audited(write, &audit).await? {
        return Err(AppError::new(
            "conflict",
            format!("a baseline named `{}` exists", baseline.name),
        ));
    }
    Ok(frozen)
}

/// One baseline, whole.
pub async fn show_baseline(state: &StateDb, name: &str) -> AppResult<Baseline> {
    let Some(body) = state.document(BASELINE, name).await? else {
        return Err(AppError::not_found(format!("no baseline named `{name}` (baseline list)")));
    };
    serde_json::from_str(&body).map_err(|error| {
        AppError::internal(format!("the stored baseline `{name}` cannot be read: {error}"))
    })
}

/// Deletes a baseline.
pub async fn delete_baseline(
    state: &StateDb,
    name: &str,
    principal: &crate::access::Principal,
) -> AppResult<()> {
    let write = AuditedWrite::DeleteDocument { kind: BASELINE, name };
    let audit = crate::access::entry(principal, "baseline.delete", name, &serde_json::json!({}));
    if !state.write_audited(write, &audit).await? {
        return Err(AppError::not_found(format!("no baseline named `{name}`")));
    }
    Ok(())
}

/// A period compared with a baseline.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    /// The baseline (without its values).
    pub baseline: BaselineRef,
    /// The period compared.
    pub period: Period,
    /// How intervals are computed.
    pub method: String,
    /// One change per frozen metric.
    pub changes: Vec<compare::Change>,
}

/// A baseline named in a comparison.
#[derive(Debug, Clone, Serialize)]
pub struct BaselineRef {
    /// Its name.
    pub name: String,
    /// First day.
    pub from: NaiveDate,
    /// Last day.
    pub to: NaiveDate,
    /// Its filters.
    #[serde(rename = "where")]
    pub filters: Vec<String>,
}

/// A period of days.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Period {
    /// First day.
    pub from: NaiveDate,
    /// Last day.
    pub to: NaiveDate,
}

/// Compares a period with a baseline (95% bootstrap intervals).
pub async fn compare_with(
    workspace: &Workspace,
    session: &Session,
    name: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<Comparison> {
    if to < from {
        return Err(AppError::bad_request(format!("`to` ({to}) is before `from` ({from})")));
    }
    let baseline = show_baseline(session.store.state(), name).await?;
    session.ensure_caches(workspace).await?;
    let changes = compare::compare(&session.analytics, &session.context, &baseline, from, to)
        .await
        .map_err(AppError::internal)?;
    Ok(Comparison {
        baseline: BaselineRef {
            name: baseline.name.clone(),
            from: baseline.from,
            to: baseline.to,
            filters: baseline.filters.iter().map(ToString::to_string).collect(),
        },
        period: Period { from, to },
        method: format!(
            "95% percentile bootstrap ({} resamples, seeded): counts as daily means and ratios resampled by day, means and percentiles by post",
            compare::RESAMPLES
        ),
        changes,
    })
}

/// Adds a milestone (a KPI of `waterline.toml` cannot be shadowed; a name in use is a
/// conflict unless `replace`).
pub async fn add_milestone(
    workspace: &Workspace,
    state: &StateDb,
    milestone: NewMilestone,
    replace: bool,
    principal: &crate::access::Principal,
) -> AppResult<Milestone> {
    crate::limits::check_name(&milestone.name, "name")?;
    crate::limits::check_day(milestone.by, "by")?;
    if let Some(since) = milestone.since {
        crate::limits::check_day(since, "since")?;
    }
    if !milestone.target.is_finite() {
        return Err(AppError::bad_request("`target` is a finite number"));
    }
    check_metric(&milestone.metric).map_err(invalid_query)?;
    parse_filters(&milestone.filters).map_err(invalid_query)?;
    if workspace.config.kpis.iter().any(|kpi| kpi.name == milestone.name) {
        return Err(AppError::new(
            "conflict",
            format!(
                "`{}` is a KPI of waterline.toml; change it there or pick another name",
                milestone.name
            ),
        ));
    }
    let stored = Milestone {
        name: milestone.name.clone(),
        metric: milestone.metric,
        filters: milestone.filters,
        target: milestone.target,
        by: milestone.by,
        since: milestone.since,
        source: "added".into(),
    };
    let body = serde_json::to_string(&stored).map_err(AppError::internal)?;
    let detail = serde_json::json!({"request": stored, "replace": replace});
    let write = AuditedWrite::PutDocument {
        kind: MILESTONE,
        name: &stored.name,
        body: &body,
        now_ms: now_ms(),
        replace,
    };
    let audit = crate::access::entry(principal, "milestone.add", &stored.name, &detail);
    if !state.write_audited(write, &audit).await? {
        return Err(AppError::new(
            "conflict",
            format!("a milestone named `{}` exists (replace it to change it)", stored.name),
        ));
    }
    Ok(stored)
}

/// Removes an added milestone.
pub async fn remove_milestone(
    state: &StateDb,
    name: &str,
    principal: &crate::access::Principal,
) -> AppResult<()> {
    let write = AuditedWrite::DeleteDocument { kind: MILESTONE, name };
    let audit = crate::access::entry(principal, "milestone.remove", name, &serde_json::json!({}));
    if !state.write_audited(write, &audit).await? {
        return Err(AppError::not_found(format!(
            "no added milestone named `{name}` (KPIs of waterline.toml are changed there)"
        )));
    }
    Ok(())
}

/// The status of every milestone (or of the one named), judged at `as_of` (default: the
/// last day with posts).
pub async fn milestone_statuses(
    workspace: &Workspace,
    session: &Session,
    name: Option<&str>,
    as_of: Option<NaiveDate>,
) -> AppResult<Vec<MilestoneStatus>> {
    let all = milestones(workspace, session).await?;
    let chosen: Vec<&Milestone> = all.iter().filter(|m| name.is_none_or(|n| n == m.name)).collect();
    if let Some(name) = name
        && chosen.is_empty()
    {
        return Err(AppError::not_found(format!("no milestone named `{name}`")));
    }
    let mut statuses = Vec::new();
    for milestone in chosen {
        statuses.push(milestone_status(workspace, session, milestone, as_of).await?);
    }
    Ok(statuses)
}

/// What a business-series import did.
#[derive(Debug, Clone, Serialize)]
pub struct KpiImport {
    /// The import run's id.
    pub run: String,
    /// The accounting: read = new + updated + unchanged + other + rejected.
    pub report: waterline_model::ImportReport,
    /// Every rejected row with line, field and reason.
    pub rejects: Vec<Rejected>,
}

/// Imports a business-series CSV as one import run.
pub async fn import_kpis(state: &StateDb, file: &std::path::Path) -> AppResult<KpiImport> {
    let (rows, rejected, read) =
        read_business_csv(file).map_err(|error| AppError::bad_request(format!("{error:#}")))?;
    // Within one file the last row for a key wins; it counts as one point.
    let mut unique: std::collections::BTreeMap<(String, String, String, String), BusinessRow> =
        std::collections::BTreeMap::new();
    let mut repeated = 0u64;
    for row in rows {
        let key =
            (row.series.clone(), row.day.clone(), row.product.clone(), row.competitor.clone());
        if unique.insert(key, row).is_some() {
            repeated += 1;
        }
    }
    let rows: Vec<BusinessRow> = unique.into_values().collect();
    let run = uuid::Uuid::now_v7().to_string();
    state.begin_run(&run, &format!("kpi import {}", file.display()), now_ms()).await?;
    let outcome = state.upsert_business(&rows, &file.display().to_string(), now_ms()).await?;
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
        return Err(AppError::internal(format!(
            "business import accounting does not balance: {report:?}"
        )));
    }
    state.finish_run(&run, &report, "completed", now_ms()).await?;
    Ok(KpiImport { run, report, rejects: rejected })
}

/// A business series as `kpi list` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct KpiSeries {
    /// Its name.
    pub series: String,
    /// Stored points.
    pub points: usize,
    /// First day.
    pub first: String,
    /// Last day.
    pub last: String,
    /// Sum of the values.
    pub total: f64,
    /// The brand and competitors it has values for.
    pub panel: std::collections::BTreeSet<String>,
}

/// The imported business series.
pub async fn kpi_series(workspace: &Workspace, state: &StateDb) -> AppResult<Vec<KpiSeries>> {
    let mut series: std::collections::BTreeMap<String, KpiSeries> =
        std::collections::BTreeMap::new();
    for row in state.business().await? {
        let entry = series.entry(row.series.clone()).or_insert_with(|| KpiSeries {
            series: row.series.clone(),
            points: 0,
            first: row.day.clone(),
            last: row.day.clone(),
            total: 0.0,
            panel: Default::default(),
        });
        entry.points += 1;
        if row.day < entry.first {
            entry.first = row.day.clone();
        }
        if row.day > entry.last {
            entry.last = row.day.clone();
        }
        entry.total += row.value;
        entry.panel.insert(if row.competitor.is_empty() {
            workspace.config.brand.clone()
        } else {
            row.competitor
        });
    }
    Ok(series.into_values().collect())
}

/// A social metric against a business series, lag by lag.
#[derive(Debug, Clone, Serialize)]
pub struct Correlation {
    /// The business series.
    pub series: String,
    /// The social metric.
    pub metric: String,
    /// `week` or `month`.
    pub bucket: String,
    /// The social metric by bucket.
    pub social: Vec<(String, f64)>,
    /// The business series by bucket.
    pub business: Vec<(String, f64)>,
    /// One correlation per lag.
    pub lags: Vec<LagCorrelation>,
    /// The lag with the strongest correlation.
    pub strongest_lag: Option<i64>,
    /// What a correlation does not say.
    pub caution: &'static str,
}

/// The correlation at one lag.
#[derive(Debug, Clone, Serialize)]
pub struct LagCorrelation {
    /// Buckets the social metric leads by.
    pub lag: i64,
    /// Pairs.
    pub n: usize,
    /// Pearson's r.
    pub r: Option<f64>,
    /// 95% interval.
    pub low: Option<f64>,
    /// See `low`.
    pub high: Option<f64>,
}

/// What to correlate.
#[derive(Debug, Clone)]
pub struct CorrelateRequest {
    /// The business series.
    pub series: String,
    /// The social metric.
    pub metric: String,
    /// Its filters.
    pub filters: Vec<String>,
    /// `week` or `month`.
    pub bucket: String,
    /// The largest lag.
    pub max_lag: usize,
    /// First day.
    pub from: Option<NaiveDate>,
    /// Last day.
    pub to: Option<NaiveDate>,
}

/// Correlates a social metric with a business series, lag by lag.
pub async fn correlate(
    workspace: &Workspace,
    session: &Session,
    request: &CorrelateRequest,
) -> AppResult<Correlation> {
    let bucket = request.bucket.as_str();
    if !matches!(bucket, "week" | "month") {
        return Err(AppError::bad_request(format!("the bucket is week or month, not `{bucket}`")));
    }
    check_metric(&request.metric).map_err(invalid_query)?;
    let ask = |metric: String, filters: Vec<Filter>| Query {
        metrics: vec![metric],
        by: vec![bucket.to_owned()],
        filters,
        from: request.from,
        to: request.to,
        limit: None,
        parts: false,
    };
    let filters = parse_filters(&request.filters).map_err(invalid_query)?;
    let social = session.answer(workspace, &ask(request.metric.clone(), filters)).await?;
    let business =
        session.answer(workspace, &ask(format!("kpi:{}", request.series), Vec::new())).await?;
    let pairs = |answer: &Answer| -> Vec<(String, f64)> {
        answer
            .rows
            .iter()
            .filter_map(|row| Some((row.keys[0].clone(), row.values.first().copied().flatten()?)))
            .collect()
    };
    let (social, business) = (pairs(&social), pairs(&business));
    if business.is_empty() {
        return Err(AppError::not_found(format!(
            "no points of business series `{}` in the period (kpi list)",
            request.series
        )));
    }
    let lags: Vec<LagCorrelation> = compare::lagged(&social, &business, request.max_lag)
        .into_iter()
        .map(|(lag, c)| LagCorrelation { lag, n: c.n, r: c.r, low: c.low, high: c.high })
        .collect();
    let strongest_lag = lags
        .iter()
        .filter(|c| c.r.is_some())
        .max_by(|a, b| a.r.unwrap_or(0.0).abs().total_cmp(&b.r.unwrap_or(0.0).abs()))
        .map(|c| c.lag);
    Ok(Correlation {
        series: request.series.clone(),
        metric: request.metric.clone(),
        bucket: bucket.to_owned(),
        social,
        business,
        lags,
        strongest_lag,
        caution: "correlation, not cause: both series may follow a third factor (season, launches, media); a lag > 0 means the social metric moves first",
    })
}

fn invalid_query(error: anyhow::Error) -> AppError {
    AppError::new("invalid_query", format!("{error:#}"))
}

#[cfg(test)]
fn who() -> crate::access::Principal {
    crate::access::Principal::system("test")
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

#[cfg(test)]
mod use_case_tests {
    use super::*;
    use crate::error::ErrorKind;

    fn workspace() -> Workspace {
        let config = waterline_model::Config::parse(
            r#"
brand = "Brandix"

[[kpis]]
name = "reach"
metric = "mentions"
target = 100.0
by = "2027-01-01"
"#,
        )
        .unwrap();
        Workspace { root: std::path::PathBuf::from("."), config }
    }

    fn milestone(name: &str, metric: &str) -> NewMilestone {
        NewMilestone {
            name: name.into(),
            metric: metric.into(),
            target: 10.0,
            by: NaiveDate::from_ymd_opt(2027, 3, 1).unwrap(),
            since: None,
            filters: vec!["platform=x".into()],
        }
    }

    #[tokio::test]
    async fn milestones_are_added_once_checked_and_removed() {
        let state = StateDb::in_memory().await.unwrap();
        let workspace = workspace();
        let added = add_milestone(&workspace, &state, milestone("q1", "mentions"), false, &who())
            .await
            .unwrap();
        assert_eq!(added.source, "added");
        let taken = add_milestone(&workspace, &state, milestone("q1", "mentions"), false, &who())
            .await
            .unwrap_err();
        assert_eq!(taken.kind, ErrorKind::Conflict);
        add_milestone(&workspace, &state, milestone("q1", "net_sentiment"), true, &who())
            .await
            .unwrap();
        let shadow =
            add_milestone(&workspace, &state, milestone("reach", "mentions"), false, &who())
                .await
                .unwrap_err();
        assert_eq!(shadow.kind, ErrorKind::Conflict, "a KPI of waterline.toml keeps its name");
        let unknown = add_milestone(&workspace, &state, milestone("q2", "nonsense"), false, &who())
            .await
            .unwrap_err();
        assert_eq!(unknown.kind, ErrorKind::InvalidQuery);
        remove_milestone(&state, "q1", &who()).await.unwrap();
        assert_eq!(
            remove_milestone(&state, "q1", &who()).await.unwrap_err().kind,
            ErrorKind::NotFound
        );
        assert_eq!(
            remove_milestone(&state, "reach", &who()).await.unwrap_err().kind,
            ErrorKind::NotFound
        );
    }

    #[tokio::test]
    async fn a_damaged_baseline_is_listed_with_its_error_never_hidden() {
        let state = StateDb::in_memory().await.unwrap();
        state.put_document(BASELINE, "broken", "{not json", 0, false).await.unwrap();
        let listed = list_baselines(&state).await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].name, "broken");
        assert!(listed[0].error.as_deref().is_some_and(|e| e.contains("cannot be read")));
        assert_eq!(show_baseline(&state, "broken").await.unwrap_err().kind, ErrorKind::Internal);
        assert_eq!(show_baseline(&state, "none").await.unwrap_err().kind, ErrorKind::NotFound);
        delete_baseline(&state, "broken", &who()).await.unwrap();
        assert_eq!(
            delete_baseline(&state, "broken", &who()).await.unwrap_err().kind,
            ErrorKind::NotFound
        );
        assert!(list_baselines(&state).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn kpi_imports_account_for_every_row() {
        let state = StateDb::in_memory().await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("sales.csv");
        std::fs::write(
            &file,
            "date,metric,value\n2026-01-05,sales,10\n2026-01-05,sales,12\nnot a date,sales,3\n2026-01-06,sales,x\n2026-01-07,sales,4\n",
        )
        .unwrap();
        let imported = import_kpis(&state, &file).await.unwrap();
        let report = imported.report;
        assert_eq!((report.read, report.new, report.unchanged, report.rejected), (5, 2, 1, 2));
        assert!(report.balances());
        assert_eq!(imported.rejects[0].field, "date");
        assert_eq!(imported.rejects[1].field, "value");
        let series = kpi_series(&workspace(), &state).await.unwrap();
        assert_eq!(series.len(), 1);
        assert_eq!((series[0].points, series[0].total), (2, 16.0));
    }
}
