//! `waterline listen`: runs the workspace's live sources, keeps the relevant posts, stores
//! them, and raises explained alerts as they arrive.
//!
//! One task per source (`waterline_ingest::live`) sends batches with the cursor they end
//! at. The runner filters each batch (`RelevanceFilter`), enriches and screens it, shows its
//! new posts to the alert engine at once (an alert does not wait for the commit), and
//! commits the batches gathered every `commit_interval` (one Delta commit). A source's
//! cursor is stored only after the batch it ends was committed: a kill replays at most the
//! uncommitted batches, which the store recognises (no loss, no duplicate); an alert raised
//! for them before the kill is recognised too (`raise`).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Utc};
use tokio::sync::{Notify, mpsc, watch};
use waterline_analytics::alerts::Engine;
use waterline_enrich::filter::RelevanceFilter;
use waterline_enrich::query::Query;
use waterline_ingest::Output;
use waterline_ingest::live::{LiveBatch, SourceStats, SourceStatus};
use waterline_model::alerts::{AlertRule, Firing};
use waterline_model::sources::SourceConfig;
use waterline_model::{ImportReport, Post, Record};
use waterline_store::live::AlertRow;
use waterline_store::state::StateDb;

use crate::import::{Pending, Sink};
use crate::workspace::Workspace;

/// How `listen` runs.
#[derive(Debug, Clone)]
pub struct ListenOptions {
    /// `NAME=URL`: the endpoint of a declared source replaced (tests point sources at
    /// local fake servers this way).
    pub overrides: Vec<String>,
    /// How often gathered batches are committed (one Delta commit each time).
    pub commit_interval: Duration,
    /// Stop after this long without a batch (tests and replays); never by default.
    pub idle_exit: Option<Duration>,
    /// Stop after this long in all.
    pub duration: Option<Duration>,
}

impl Default for ListenOptions {
    fn default() -> ListenOptions {
        ListenOptions {
            overrides: Vec::new(),
            commit_interval: Duration::from_millis(500),
            idle_exit: None,
            duration: None,
        }
    }
}

/// What a listen run did.
#[derive(Debug, Default, serde::Serialize)]
pub struct ListenSummary {
    /// Accounting of the records kept (read = new + updated + unchanged + other + rejected).
    pub report: ImportReport,
    /// Posts the relevance filters dropped, per source.
    pub filtered: BTreeMap<String, u64>,
    /// Alerts raised.
    pub alerts: u64,
    /// The sources' last status.
    pub sources: Vec<SourceStatus>,
}

/// A body posted to the ingest endpoint while the sources run in the same process: the
/// runner stores it like a live batch (so the alert rules see its posts at once) and
/// answers with its accounting once it is committed.
pub struct IngestRequest {
    /// The parsed body.
    pub output: Output,
    /// The answer: the batch's accounting, or why it failed.
    pub reply: tokio::sync::oneshot::Sender<std::result::Result<ImportReport, String>>,
}

/// The sources of a workspace with the overrides applied.
pub fn sources(workspace: &Workspace, overrides: &[String]) -> Result<Vec<SourceConfig>> {
    let mut sources = workspace.config.sources.clone();
    for item in overrides {
        let Some((name, url)) = item.split_once('=') else {
            bail!("--source takes NAME=URL, not `{item}`");
        };
        let Some(source) = sources.iter_mut().find(|source| source.name == name) else {
            let names: Vec<&str> = sources.iter().map(|source| source.name.as_str()).collect();
            bail!(
                "no source is named `{name}` in waterline.toml (declared: {})",
                if names.is_empty() { "none".to_owned() } else { names.join(", ") }
            );
        };
        source.endpoint = url.to_owned();
    }
    Ok(sources)
}

/// Runs the sources until `stop` turns true, every source ends, or an option says so.
pub async fn listen(
    workspace: &Workspace,
    options: &ListenOptions,
    stop: watch::Receiver<bool>,
) -> Result<ListenSummary> {
    listen_with(workspace, options, stop, None).await
}

/// [`listen`], also storing the bodies of the server's ingest endpoint (`ingest`).
pub async fn listen_with(
    workspace: &Workspace,
    options: &ListenOptions,
    mut stop: watch::Receiver<bool>,
    mut ingest: Option<mpsc::Receiver<IngestRequest>>,
) -> Result<ListenSummary> {
    let specs = sources(workspace, &options.overrides)?;
    if specs.is_empty() {
        bail!(
            "no live source is declared: add a [[sources]] table to waterline.toml (waterline init shows one)"
        );
    }
    let mut sink = Sink::open(workspace).await?;
    let state = sink.state().clone();
    let stored: HashMap<String, String> = state.source_cursors().await?.into_iter().collect();
    let mut filters = HashMap::new();
    let mut stats = Vec::new();
    let (sender, mut receiver) = mpsc::channel::<LiveBatch>(64);
    let (source_stop, source_stop_rx) = watch::channel(false);
    let mut tasks = Vec::new();
    for spec in specs {
        let filter = RelevanceFilter::new(&workspace.config, &spec.filter, &spec.queries)
            .with_context(|| format!("source `{}`", spec.name))?;
        filters.insert(spec.name.clone(), filter);
        let token = spec.token_env.as_ref().and_then(|name| std::env::var(name).ok());
        if let Some(name) = &spec.token_env
            && token.is_none()
        {
            tracing::warn!(source = %spec.name, "the environment variable {name} is not set: connecting without a token");
        }
        let source_stats = Arc::new(SourceStats::new(&spec.name));
        stats.push((spec.name.clone(), spec.kind.clone(), source_stats.clone()));
        let cursor = stored.get(&spec.name).cloned();
        tracing::info!(source = %spec.name, kind = %spec.kind, endpoint = %spec.endpoint, cursor = ?cursor, "starting");
        tasks.push(tokio::spawn(waterline_ingest::live::run(
            spec,
            token,
            cursor,
            sender.clone(),
            source_stats,
            source_stop_rx.clone(),
        )));
    }
    drop(sender);
    let mut alerts = Alerting::new(workspace, state.clone()).await?;
    alerts.warm_up(workspace).await;
    let deliveries = tokio::spawn(crate::webhooks::run(
        state.clone(),
        workspace.config.brand.clone(),
        workspace.config.alerts.webhooks.clone(),
        alerts.notify.clone(),
        source_stop_rx.clone(),
    ));
    let mut summary = ListenSummary::default();
    let mut queue: Vec<(String, Pending, Option<String>)> = Vec::new();
    let started = Instant::now();
    let mut last_batch = Instant::now();
    let mut last_status = Instant::now();
    let mut last_coverage: Option<Instant> = None;
    let mut tick = tokio::time::interval(options.commit_interval.min(Duration::from_millis(500)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_commit = Instant::now();
    loop {
        tokio::select! {
            batch = receiver.recv() => {
                let Some(batch) = batch else { break };
                last_batch = Instant::now();
                take(batch, &filters, &mut sink, &mut alerts, &mut queue, &mut summary).await?;
                if last_commit.elapsed() >= options.commit_interval {
                    commit(&mut sink, &state, &mut queue, &mut summary).await?;
                    last_commit = Instant::now();
                }
            }
            request = async {
                match ingest.as_mut() {
                    Some(receiver) => receiver.recv().await,
                    None => std::future::pending().await,
                }
            } => {
                let Some(IngestRequest { output, reply }) = request else {
                    ingest = None;
                    continue;
                };
                last_batch = Instant::now();
                let pending = tokio::task::block_in_place(|| sink.prepare(output));
                summary.alerts += alerts.look(&pending).await?;
                commit(&mut sink, &state, &mut queue, &mut summary).await?;
                let answer = sink.commit("ingest", pending).await.map_err(|error| format!("{error:#}"));
                if let Ok(report) = &answer {
                    summary.report.add(&report.report);
                }
                let _ = reply.send(answer.map(|committed| committed.report));
                last_commit = Instant::now();
            }
            _ = tick.tick() => {
                if !queue.is_empty() && last_commit.elapsed() >= options.commit_interval {
                    commit(&mut sink, &state, &mut queue, &mut summary).await?;
                    last_commit = Instant::now();
                }
                summary.alerts += alerts.tick().await?;
                if last_coverage.is_none_or(|at| at.elapsed() >= Duration::from_secs(60)) {
                    last_coverage = Some(Instant::now());
                    summary.alerts += alerts.coverage(workspace).await.unwrap_or_else(|error| {
                        tracing::warn!("cannot check owned-channel coverage: {error:#}");
                        0
                    });
                }
                if last_status.elapsed() >= Duration::from_secs(1) {
                    last_status = Instant::now();
                    save_status(&state, &stats, &summary.filtered).await;
                }
                if options.idle_exit.is_some_and(|idle| last_batch.elapsed() >= idle)
                    || options.duration.is_some_and(|limit| started.elapsed() >= limit)
                {
                    break;
                }
            }
            changed = stop.changed() => {
                if changed.is_err() || *stop.borrow() {
                    break;
                }
            }
        }
    }
    let _ = source_stop.send(true);
    commit(&mut sink, &state, &mut queue, &mut summary).await?;
    // Batches the sources had already sent are stored too (their cursors with them).
    while let Ok(batch) = receiver.try_recv() {
        take(batch, &filters, &mut sink, &mut alerts, &mut queue, &mut summary).await?;
    }
    commit(&mut sink, &state, &mut queue, &mut summary).await?;
    for task in tasks {
        let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
    }
    let _ = tokio::time::timeout(Duration::from_secs(15), deliveries).await;
    save_status(&state, &stats, &summary.filtered).await;
    sink.finish(&summary.report).await?;
    summary.sources = stats.iter().map(|(_, _, stats)| stats.snapshot()).collect();
    Ok(summary)
}

/// Filters a source's batch, enriches and screens it, shows it to the alert rules, and
/// queues it for the next commit.
async fn take(
    batch: LiveBatch,
    filters: &HashMap<String, RelevanceFilter>,
    sink: &mut Sink,
    alerts: &mut Alerting,
    queue: &mut Vec<(String, Pending, Option<String>)>,
    summary: &mut ListenSummary,
) -> Result<()> {
    let LiveBatch { source, output, cursor } = batch;
    let (output, dropped) = match filters.get(&source) {
        Some(filter) => keep_relevant(output, filter),
        None => (output, 0),
    };
    *summary.filtered.entry(source.clone()).or_default() += dropped;
    let pending = tokio::task::block_in_place(|| sink.prepare(output));
    summary.alerts += alerts.look(&pending).await?;
    queue.push((source, pending, cursor));
    Ok(())
}

/// Drops the posts a source's filter does not keep; other records (deletions, likes and
/// reposts, accounts) pass, since they concern posts the store may hold.
fn keep_relevant(mut output: Output, filter: &RelevanceFilter) -> (Output, u64) {
    let before = output.records.len();
    output.records.retain(|located| match &located.record {
        Record::Post(post) => filter.keeps(post),
        _ => true,
    });
    let dropped = (before - output.records.len()) as u64;
    (output, dropped)
}

/// Commits the gathered batches in order, each source's cursor after its batch.
async fn commit(
    sink: &mut Sink,
    state: &StateDb,
    queue: &mut Vec<(String, Pending, Option<String>)>,
    summary: &mut ListenSummary,
) -> Result<()> {
    // One commit per source for everything gathered since the last one.
    let mut merged: Vec<(String, Pending, Option<String>)> = Vec::new();
    for (source, pending, cursor) in queue.drain(..) {
        match merged.iter_mut().find(|(name, _, _)| *name == source) {
            Some((_, gathered, last)) => {
                gathered.absorb(pending);
                if cursor.is_some() {
                    *last = cursor;
                }
            }
            None => merged.push((source, pending, cursor)),
        }
    }
    for (source, pending, cursor) in merged {
        let committed = sink.commit(&source, pending).await?;
        summary.report.add(&committed.report);
        if committed.report.read > 0 {
            // A live source's writes are in the audit log like anyone's (the posts commit
            // first; a kill before this row leaves posts whose arrival the source's cursor
            // and the Delta log still show).
            let principal = crate::access::Principal::system("live");
            let detail = serde_json::json!({"report": committed.report, "cursor": cursor});
            crate::access::audit(state, &principal, "live.commit", &source, detail).await?;
        }
        if let Some(cursor) = cursor {
            state.set_source_cursor(&source, &cursor, Utc::now().timestamp_millis()).await?;
        }
    }
    Ok(())
}

async fn save_status(
    state: &StateDb,
    stats: &[(String, String, Arc<SourceStats>)],
    filtered: &BTreeMap<String, u64>,
) {
    let now = Utc::now().timestamp_millis();
    for (name, _, stats) in stats {
        let snapshot = stats.snapshot();
        let mut body = serde_json::to_value(&snapshot).unwrap_or_default();
        if let Some(object) = body.as_object_mut() {
            object.insert("filtered".to_owned(), filtered.get(name).copied().unwrap_or(0).into());
            object.insert("updated_at".to_owned(), now.into());
        }
        if let Err(error) = state.set_source_status(name, &body.to_string(), now).await {
            tracing::warn!(source = %name, "cannot save the source status: {error}");
        }
    }
}

/// The alert side of the runner: the engine, the rules, and storing what fires.
pub struct Alerting {
    engine: Engine,
    rules: Vec<AlertRule>,
    state: StateDb,
    webhooks: Vec<waterline_model::alerts::Webhook>,
    watermark: Option<DateTime<Utc>>,
    config: waterline_model::Config,
    /// The data directory (the topic model's names).
    data_dir: std::path::PathBuf,
    /// Wakes the webhook sender.
    pub notify: Arc<Notify>,
}

impl Alerting {
    /// The engine with the workspace's rules in force and their queries.
    pub async fn new(workspace: &Workspace, state: StateDb) -> Result<Alerting> {
        let rules = workspace.config.alerts.rules_in_force();
        let mut engine = Engine::new(&rules).map_err(|error| anyhow::anyhow!(error))?;
        for rule in &rules {
            if let Some(text) = &rule.query {
                let query =
                    Query::parse(text).with_context(|| format!("alert rule `{}`", rule.name))?;
                // Only the rules the engine evaluates take a matcher.
                let _ = engine.with_query_matcher(
                    &rule.name,
                    Box::new(move |post: &Post| query.matches(post)),
                );
            }
        }
        Ok(Alerting {
            engine,
            rules,
            state,
            webhooks: workspace.config.alerts.webhooks.clone(),
            watermark: None,
            config: workspace.config.clone(),
            data_dir: workspace.data_dir(),
            notify: Arc::new(Notify::new()),
        })
    }

    /// Shows the engine the stored posts of the span its rules look back over, so the first
    /// live window has a reference; what that history would have fired is not raised again.
    pub async fn warm_up(&mut self, workspace: &Workspace) {
        match crate::alerts::recent_posts(workspace, &self.rules).await {
            Ok(posts) => {
                for (post, topic) in &posts {
                    self.engine.observe(post, topic.as_deref());
                    self.watermark = self.watermark.max(Some(post.created_at));
                }
                if let Some(watermark) = self.watermark {
                    let _ = self.engine.advance(watermark);
                }
                tracing::info!(posts = posts.len(), "alert engine warmed up");
            }
            Err(error) => tracing::warn!("cannot warm the alert engine up: {error:#}"),
        }
    }

    /// Looks at a batch's new posts and flagged cases before they are committed.
    pub async fn look(&mut self, pending: &Pending) -> Result<u64> {
        let mut raised = 0;
        // In time order, evaluating at each step boundary a post crosses: a replay (or a
        // source catching up) that delivers hours in one batch is judged as it happened.
        let mut posts: Vec<&Post> = pending.fresh.iter().collect();
        posts.sort_by_key(|post| post.created_at);
        // Posts carry their topic from arrival: topic-growth rules see them live.
        let names: std::collections::HashMap<u32, String> = if posts
            .iter()
            .any(|post| post.annotations.as_ref().is_some_and(|a| a.topic.is_some()))
        {
            crate::topics::topic_names(&self.data_dir).into_iter().collect()
        } else {
            Default::default()
        };
        let step = self.engine.step().num_milliseconds().max(1);
        let mut firings = Vec::new();
        for post in posts {
            let at = post.created_at.timestamp_millis();
            if let Some(watermark) = self.watermark {
                let mut boundary = watermark.timestamp_millis().div_euclid(step) * step + step;
                while at >= boundary {
                    if let Some(time) = DateTime::from_timestamp_millis(boundary) {
                        firings.extend(self.engine.advance(time));
                    }
                    boundary += step;
                }
            }
            let topic =
                post.annotations.as_ref().and_then(|a| a.topic).and_then(|id| names.get(&id));
            self.engine.observe(post, topic.map(String::as_str));
            self.watermark = self.watermark.max(Some(post.created_at));
        }
        if let Some(watermark) = self.watermark {
            firings.extend(self.engine.advance(watermark));
        }
        for firing in firings {
            raised += u64::from(self.raise(firing).await?);
        }
        for (case_id, post) in &pending.flagged {
            if let Some(rule) = self.rule_of_kind("pv") {
                let firing = pv_firing(&rule, case_id, &post.platform);
                raised += u64::from(self.raise(firing).await?);
            }
        }
        Ok(raised)
    }

    /// Advances the engine to the wall clock when the stream is live (its newest post is
    /// less than an hour old), so time-based rules (unanswered questions) fire in quiet
    /// times too; a replay of old posts keeps to their time.
    pub async fn tick(&mut self) -> Result<u64> {
        let now = Utc::now();
        let Some(watermark) = self.watermark else { return Ok(0) };
        if now - watermark > chrono::Duration::hours(1) || now <= watermark {
            return Ok(0);
        }
        self.watermark = Some(now);
        let mut raised = 0;
        for firing in self.engine.advance(now) {
            raised += u64::from(self.raise(firing).await?);
        }
        Ok(raised)
    }

    /// Raises a coverage-gap alert for each owned channel over its limit (SCOPE-1), once
    /// until a person resolves it.
    pub async fn coverage(&mut self, workspace: &Workspace) -> Result<u64> {
        let Some(rule) = self.rule_of_kind("coverage-gap") else { return Ok(0) };
        if !workspace.config.pharmacovigilance.enabled
            || crate::pv::channels(&self.config).is_empty()
        {
            return Ok(0);
        }
        let session = crate::measure::open(workspace).await?;
        let now = Utc::now();
        let mut raised = 0;
        for coverage in crate::pv::coverage(&session, &self.config, now).await? {
            if !coverage.gap {
                continue;
            }
            let gap = coverage.gap_hours.map_or_else(
                || "never ingested".to_owned(),
                |hours| format!("{hours:.1} h without an ingested post"),
            );
            let firing = Firing {
                rule: rule.name.clone(),
                kind: rule.kind.clone(),
                key: coverage.channel.name.clone(),
                fired_at: now,
                window_start: coverage.last_ingested,
                window_end: Some(now),
                observed: coverage.gap_hours.unwrap_or(f64::INFINITY),
                baseline: None,
                baseline_sd: None,
                threshold: Some(f64::from(self.config.pharmacovigilance.coverage_gap_hours)),
                summary: format!(
                    "Owned channel {} ({} on {}): {gap}, over the {} h limit (SCOPE-1)",
                    coverage.channel.name,
                    coverage.channel.kind,
                    coverage.channel.platform,
                    self.config.pharmacovigilance.coverage_gap_hours
                ),
                posts: Vec::new(),
                terms: Vec::new(),
                topic: None,
            };
            raised += u64::from(self.raise(firing).await?);
        }
        Ok(raised)
    }

    fn rule_of_kind(&self, kind: &str) -> Option<AlertRule> {
        self.rules.iter().find(|rule| rule.kind == kind).cloned()
    }

    /// Stores an alert and queues its webhooks unless its episode is stored already
    /// ([`raise`]); wakes the webhook sender.
    pub async fn raise(&mut self, firing: Firing) -> Result<bool> {
        let raised = raise(&self.state, &self.rules, &self.webhooks, firing).await?;
        if raised && !self.webhooks.is_empty() {
            self.notify.notify_one();
        }
        Ok(raised)
    }
}

/// Stores an alert and queues its webhooks, unless the same episode is already stored (an
/// alert raised before a kill and raised again by the replay, or a standing coverage gap):
/// for windowed rules, an alert of the same rule and key within a window and a cooldown;
/// for PV and unanswered questions, any alert of the same key; for the others, an
/// unresolved alert of the same rule and key.
pub async fn raise(
    state: &StateDb,
    rules: &[AlertRule],
    webhooks: &[waterline_model::alerts::Webhook],
    firing: Firing,
) -> Result<bool> {
    if let Some(last) = state.last_alert(&firing.rule, &firing.key).await? {
        let rule = rules.iter().find(|rule| rule.name == firing.rule);
        let windowed = ["volume", "negative-share", "topic-growth"].contains(&firing.kind.as_str());
        let repeat = if windowed {
            let span = rule
                .and_then(|rule| Some(rule.window_duration()? + rule.cooldown_duration()?))
                .unwrap_or_default();
            let span_ms = i64::try_from(span.as_millis()).unwrap_or(i64::MAX);
            (firing.fired_at.timestamp_millis() - last.fired_at).abs() < span_ms
        } else {
            last.status != "resolved" || firing.kind == "pv" || firing.kind == "unanswered"
        };
        if repeat {
            return Ok(false);
        }
    }
    let hooks: Vec<String> = webhooks
        .iter()
        .filter(|hook| hook.rules.is_empty() || hook.rules.contains(&firing.rule))
        .map(|hook| hook.name.clone())
        .collect();
    let now = Utc::now().timestamp_millis();
    let row = AlertRow {
        id: uuid::Uuid::now_v7().to_string(),
        rule: firing.rule.clone(),
        kind: firing.kind.clone(),
        key: firing.key.clone(),
        fired_at: firing.fired_at.timestamp_millis(),
        created_at: now,
        status: "open".to_owned(),
        body: serde_json::to_string(&firing)?,
        acknowledged_by: None,
        acknowledged_at: None,
        resolved_by: None,
        resolved_at: None,
        note: None,
    };
    state.add_alert(&row, &hooks).await?;
    tracing::info!(rule = %firing.rule, key = %firing.key, "alert: {}", firing.summary);
    Ok(true)
}

/// Raises the `pv` alert of each case in `cases` (case ids with their post's platform), for
/// cases opened outside the live runner (the ingest endpoint); returns how many were stored.
pub async fn raise_pv_cases(
    state: &StateDb,
    config: &waterline_model::Config,
    cases: &[(String, String)],
) -> Result<u64> {
    let rules = config.alerts.rules_in_force();
    let Some(rule) = rules.iter().find(|rule| rule.kind == "pv") else { return Ok(0) };
    let mut raised = 0;
    for (case_id, platform) in cases {
        let firing = pv_firing(rule, case_id, platform);
        raised += u64::from(raise(state, &rules, &config.alerts.webhooks, firing).await?);
    }
    Ok(raised)
}

/// The alert of a post flagged for pharmacovigilance (PV-1). It names the case, never the
/// post's text or author: alerts are read by every role and leave through webhooks, while
/// case contents are for the `pv-reviewer` and `admin` roles only (PV-15).
fn pv_firing(rule: &AlertRule, case_id: &str, platform: &str) -> Firing {
    Firing {
        rule: rule.name.clone(),
        kind: rule.kind.clone(),
        key: case_id.to_owned(),
        fired_at: Utc::now(),
        window_start: None,
        window_end: None,
        observed: 1.0,
        baseline: None,
        baseline_sd: None,
        threshold: None,
        summary: format!(
            "Possible adverse event or special situation in a {platform} post: case {case_id} opened (PV-1); hand it off to PV by the end of the next business day (PV-7)"
        ),
        posts: Vec::new(),
        terms: Vec::new(),
        topic: None,
    }
}

/// Every declared source (and the ingest endpoint when it was used) with its last status.
pub async fn source_rows(workspace: &Workspace) -> Result<Vec<serde_json::Value>> {
    let state = StateDb::open(&workspace.data_dir().join("state.db")).await?;
    source_rows_from(&workspace.config, &state).await
}

/// [`source_rows`] over an open state database.
pub async fn source_rows_from(
    config: &waterline_model::Config,
    state: &StateDb,
) -> Result<Vec<serde_json::Value>> {
    let statuses: HashMap<String, (String, i64)> = state
        .source_statuses()
        .await?
        .into_iter()
        .map(|(name, body, at)| (name, (body, at)))
        .collect();
    let cursors: HashMap<String, String> = state.source_cursors().await?.into_iter().collect();
    let mut rows = Vec::new();
    let mut names: Vec<(String, String, String)> = config
        .sources
        .iter()
        .map(|source| (source.name.clone(), source.kind.clone(), source.endpoint.clone()))
        .collect();
    if statuses.contains_key("ingest") {
        names.push((
            "ingest".to_owned(),
            "http-ingest".to_owned(),
            "POST /api/v1/ingest".to_owned(),
        ));
    }
    for (name, kind, endpoint) in names {
        let mut row = statuses
            .get(&name)
            .and_then(|(body, _)| serde_json::from_str::<serde_json::Value>(body).ok())
            .unwrap_or_else(|| serde_json::json!({"state": "never run"}));
        if let Some(object) = row.as_object_mut() {
            object.insert("name".to_owned(), name.clone().into());
            object.insert("kind".to_owned(), kind.into());
            object.insert("endpoint".to_owned(), endpoint.into());
            object.insert("cursor".to_owned(), cursors.get(&name).cloned().into());
            // A status not refreshed for a minute belongs to a process that stopped.
            if let Some((_, at)) = statuses.get(&name)
                && Utc::now().timestamp_millis() - at > 60_000
                && object.get("state").and_then(|state| state.as_str()) != Some("stopped")
                && name != "ingest"
            {
                object.insert("state".to_owned(), "stopped".into());
            }
        }
        rows.push(row);
    }
    Ok(rows)
}
