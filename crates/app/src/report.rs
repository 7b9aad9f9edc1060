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

/// A report's JSON (the dashboard's and the API's), computed by the engine.
pub async fn report_value(
    workspace: &Workspace,
    analytics: &Analytics,
    kind: ReportKind,
    from: Option<chrono::NaiveDate>,
    to: Option<chrono::NaiveDate>,
    focus: Option<&[u32]>,
) -> Result<serde_json::Value> {
    let report =
        compute(workspace, analytics, kind, from, to, focus, reports::AUDIT_LISTED).await?;
    Ok(serde_json::to_value(report)?)
}
