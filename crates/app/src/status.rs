//! `status`: what a workspace holds (posts by platform, side and day) and its latest
//! import runs. The CLI and `GET /api/v1/status` answer the same value.

use serde::Serialize;
use waterline_analytics::status::Counts;
use waterline_store::state::RunSummary;

use crate::error::AppResult;
use crate::measure::Session;
use crate::workspace::Workspace;

/// The import runs a status lists.
pub const RUNS: i64 = 5;

/// A workspace's status.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// The brand.
    pub brand: String,
    /// The workspace's IANA time zone (days are counted in it).
    pub time_zone: String,
    /// The counts.
    #[serde(flatten)]
    pub counts: Counts,
    /// The posts table's version.
    pub table_version: Option<u64>,
    /// The latest import runs, newest first.
    pub runs: Vec<RunSummary>,
    /// `current`, or `rebuilding` while a server rebuilds its query caches.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caches: Option<&'static str>,
}

/// The status, with the `days` most recent local days.
pub async fn status(workspace: &Workspace, session: &Session, days: usize) -> AppResult<Status> {
    // The counts come from the daily rollup when it is there (an import builds it); without
    // it, from the posts.
    if session.store.has_data()
        && let Err(error) = session.ensure_caches(workspace).await
    {
        tracing::warn!("cannot build the query caches now: {error:#}");
    }
    let counts =
        waterline_analytics::status::counts(&session.analytics, &workspace.config.time_zone, days)
            .await?;
    Ok(Status {
        brand: workspace.config.brand.clone(),
        time_zone: workspace.config.time_zone.clone(),
        counts,
        table_version: session.store.version(),
        runs: session.store.state().runs(RUNS).await?,
        caches: None,
    })
}
