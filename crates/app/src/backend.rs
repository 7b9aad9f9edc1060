//! The workspace's use cases as the HTTP server calls them: one trait, implemented by
//! [`crate::service::Served`] over the store, the analytics session and the importers (tests
//! may implement it over anything). The CLI calls the same functions underneath.

use std::future::Future;
use std::sync::Arc;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use waterline_analytics::query::{Answer, Query};
use waterline_store::state::StateDb;

use crate::error::AppError;

/// A backend call's result.
pub type BackendResult<T> = Result<T, AppError>;

/// The reports computed over the posts in memory (topics, perception gap, content audit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportKind {
    /// Topics, growth, sentiment, unmet needs.
    Listening,
    /// Own against audience topic mixes.
    Gap,
    /// Every own post's reception against its account's baseline.
    Audit,
}

impl ReportKind {
    /// The name in URLs.
    pub fn name(self) -> &'static str {
        match self {
            ReportKind::Listening => "listening",
            ReportKind::Gap => "gap",
            ReportKind::Audit => "audit",
        }
    }

    /// Parses a URL name.
    pub fn parse(name: &str) -> Option<ReportKind> {
        match name {
            "listening" => Some(ReportKind::Listening),
            "gap" => Some(ReportKind::Gap),
            "audit" => Some(ReportKind::Audit),
            _ => None,
        }
    }
}

/// Which posts to list: the analytics crate's request; a `topic` filter may name topics by
/// id, name or label words here (the service resolves them to ids).
pub use waterline_analytics::posts::PostList as PostsRequest;

/// A new baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewBaseline {
    /// Its name.
    pub name: String,
    /// First day.
    pub from: NaiveDate,
    /// Last day.
    pub to: NaiveDate,
    /// Filters (`field=value`).
    #[serde(default, rename = "where")]
    pub filters: Vec<String>,
}

/// A new milestone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewMilestone {
    /// Its name.
    pub name: String,
    /// A catalogue metric or `kpi:SERIES`.
    pub metric: String,
    /// The target value.
    pub target: f64,
    /// The due date.
    pub by: NaiveDate,
    /// Where progress starts (default: the first week with data).
    #[serde(default)]
    pub since: Option<NaiveDate>,
    /// Filters (`field=value`).
    #[serde(default, rename = "where")]
    pub filters: Vec<String>,
}

/// A workspace as the server sees it. Every method may be called concurrently.
pub trait Backend: Send + Sync + 'static {
    /// The brand's name, for page titles.
    fn brand(&self) -> String;

    /// The workspace's IANA time zone.
    fn time_zone(&self) -> String;

    /// The transactional state (tokens, audit log).
    fn state(&self) -> &StateDb;

    /// Reloads the posts when they changed on disk (another process imported); returns the
    /// store version when it changed.
    fn refresh(&self) -> impl Future<Output = BackendResult<Option<u64>>> + Send;

    /// Slow upkeep after a change (rebuilding caches), run by its own task so that it never
    /// delays noticing the next change; returns the store version when what readers see
    /// changed.
    fn maintain(&self) -> impl Future<Output = BackendResult<Option<u64>>> + Send {
        async { Ok(None) }
    }

    /// The names of the workspace's topics as the `topic` dimension spells them
    /// (`#id label`), when they are known; the topic filter offers them.
    fn topics(&self) -> impl Future<Output = Vec<String>> + Send {
        async { Vec::new() }
    }

    /// Counts, import runs, store version.
    fn status(&self) -> impl Future<Output = BackendResult<crate::status::Status>> + Send;

    /// Runs a metric query.
    fn query(&self, query: Query) -> impl Future<Output = BackendResult<Answer>> + Send;

    /// A report as the JSON of `docs/schema.md` (shared: reports are large and cached).
    fn report(
        &self,
        kind: ReportKind,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        topic: Option<String>,
    ) -> impl Future<Output = BackendResult<std::sync::Arc<Value>>> + Send;

    /// A page of posts with their enrichments: `{"total", "page", "per_page", "posts"}`.
    fn posts(&self, request: PostsRequest) -> impl Future<Output = BackendResult<Value>> + Send;

    /// Imports JSON lines (any supported format) as one import run; returns its accounting.
    fn ingest(
        &self,
        body: Vec<u8>,
        principal: crate::access::Principal,
    ) -> impl Future<Output = BackendResult<Value>> + Send;

    /// The baselines (summaries; a damaged one is listed with its error).
    fn baselines(
        &self,
    ) -> impl Future<Output = BackendResult<Vec<crate::measure::BaselineSummary>>> + Send;

    /// Freezes a baseline (its audit row commits with it).
    fn create_baseline(
        &self,
        baseline: NewBaseline,
        principal: crate::access::Principal,
    ) -> impl Future<Output = BackendResult<Value>> + Send;

    /// Deletes a baseline (its audit row commits with it).
    fn delete_baseline(
        &self,
        name: String,
        principal: crate::access::Principal,
    ) -> impl Future<Output = BackendResult<()>> + Send;

    /// Compares a period with a baseline.
    fn compare(
        &self,
        name: String,
        from: NaiveDate,
        to: NaiveDate,
    ) -> impl Future<Output = BackendResult<crate::measure::Comparison>> + Send;

    /// The status of every milestone (and KPI of the configuration with a target).
    fn milestones(
        &self,
    ) -> impl Future<Output = BackendResult<Arc<Vec<crate::measure::MilestoneStatus>>>> + Send;

    /// Adds a milestone (its audit row commits with it).
    fn add_milestone(
        &self,
        milestone: NewMilestone,
        principal: crate::access::Principal,
    ) -> impl Future<Output = BackendResult<()>> + Send;

    /// Removes a milestone (its audit row commits with it).
    fn remove_milestone(
        &self,
        name: String,
        principal: crate::access::Principal,
    ) -> impl Future<Output = BackendResult<()>> + Send;

    /// A random secret kept in the workspace, for pseudonyms that stay stable within it.
    fn pseudonym_salt(&self) -> impl Future<Output = BackendResult<String>> + Send;

    /// The pharmacovigilance queue (PHARMA.md PV-7, PV-8): `{"cases": [...], "counts"}`,
    /// each case with its clocks, alerts and minimum elements; `all` adds closed cases.
    fn pv_queue(&self, all: bool) -> impl Future<Output = BackendResult<Value>> + Send;

    /// One case with its event log: `{"case", "events"}`. `viewer` (actor, role) records
    /// that a person opened it (AUD-2).
    fn pv_case(
        &self,
        id: String,
        viewer: Option<(String, String)>,
    ) -> impl Future<Output = BackendResult<Value>> + Send;

    /// A reviewer's action on a case (`{"action": "assign"|"decide"|"follow_up"|
    /// "day_zero"|"view", …}`): one event appended; answers the case as it now stands.
    fn pv_act(
        &self,
        id: String,
        actor: String,
        role: String,
        request: Value,
    ) -> impl Future<Output = BackendResult<Value>> + Send;

    /// The queue for the safety database: `csv` or `json`; answers (content type, body).
    fn pv_export(
        &self,
        format: String,
    ) -> impl Future<Output = BackendResult<(&'static str, String)>> + Send;

    /// Forwarded cases against PV's receipt log (AUD-3), also when empty.
    fn pv_reconcile(&self) -> impl Future<Output = BackendResult<Value>> + Send;

    /// Owned channels with the time of their last ingested post (SCOPE-1).
    fn coverage(&self) -> impl Future<Output = BackendResult<Value>> + Send;

    /// Alerts: `{"stored": [...], "alerts": [...], "total_alerts": n, "rules": [...]}`. With
    /// a window `(page, per_page)` (1-based), `alerts` holds that page of the clock and
    /// coverage alerts firing now, most urgent first; without one, all of them.
    fn alerts(
        &self,
        window: Option<(u64, u64)>,
    ) -> impl Future<Output = BackendResult<Value>> + Send;

    /// The live sources with their state and counters: `{"sources": [...]}`.
    fn sources(&self) -> impl Future<Output = BackendResult<Value>> + Send;

    /// Checks a draft (the JSON of `check-draft`'s input) against the compliance rules
    /// (PHARMA.md CMP-0a to CMP-0e, C-01 to C-27), with the advisory reception forecast
    /// (ENG-3): the JSON of `check-draft --json`.
    fn check_draft(&self, draft: Value) -> impl Future<Output = BackendResult<Value>> + Send;
}
