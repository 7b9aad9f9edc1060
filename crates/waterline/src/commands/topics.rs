//! `waterline topics list|refit`: the adapter over [`waterline_app::topics`].

use anyhow::Result;
use waterline_app::workspace::Workspace;

use crate::cli::TopicsCommand;
use crate::output;

/// Runs a `topics` subcommand.
pub async fn command(workspace: &Workspace, command: TopicsCommand) -> Result<()> {
    match command {
        TopicsCommand::List { json } => list(workspace, json).await,
        TopicsCommand::Refit { sample, json } => refit(workspace, sample, json).await,
    }
}

async fn list(workspace: &Workspace, json: bool) -> Result<()> {
    let listed = waterline_app::topics::list(workspace).await?;
    if json {
        return output::json(&listed);
    }
    if listed.topics.is_empty() {
        output::line(
            "no topics yet: they are fitted as posts with content are stored (`waterline topics refit` fits them on the stored posts)",
        );
    }
    for topic in &listed.topics {
        output::line(&format!("#{:<4} {:>9} posts  {}", topic.id, topic.posts, topic.label));
    }
    output::line(&format!(
        "{} posts with content have no topic (outliers, or stored before their topic was born: `waterline topics refit`)",
        listed.posts_without_topic
    ));
    for entry in &listed.lineage {
        let to = entry.to.map_or_else(|| "-".to_owned(), |id| format!("#{id}"));
        output::line(&format!(
            "refit {}: #{} {} -> {to} ({})",
            entry.generation, entry.from, entry.label, entry.fate
        ));
    }
    Ok(())
}

async fn refit(workspace: &Workspace, sample: usize, json: bool) -> Result<()> {
    let started = std::time::Instant::now();
    let report = waterline_app::topics::refit(workspace, sample).await?;
    let state = workspace.state().await?;
    super::record(&state, "topics.refit", "topics", serde_json::json!({"sample": sample})).await?;
    if json {
        return output::json(&report);
    }
    output::line(&format!(
        "refitted on {} posts in {:.1} s: {} topics before, {} after ({} new); {} post rows assigned again",
        report.sample,
        started.elapsed().as_secs_f64(),
        report.topics_before,
        report.topics_after,
        report.born.len(),
        report.rows
    ));
    for entry in &report.lineage {
        let to = entry.to.map_or_else(|| "-".to_owned(), |id| format!("#{id}"));
        output::line(&format!("  #{} {} -> {to} ({})", entry.from, entry.label, entry.fate));
    }
    Ok(())
}
