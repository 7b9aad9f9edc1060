//! `waterline alerts scan`: replays the workspace's stored posts in time order through the
//! alert engine ([`waterline_analytics::alerts::Engine`]) with the rules in force, and
//! prints the alerts that would have fired. It stores nothing.
//!
//! The live runner (`waterline listen`) feeds the same engine as posts arrive, so a scan
//! over the same posts shows the alerts the live runner raises (the `pv` and
//! `coverage-gap` rules are raised by the binary elsewhere, not by the engine).

use std::collections::HashMap;

use anyhow::{Context, Result, bail};
use waterline_analytics::Analytics;
use waterline_analytics::alerts::Engine;
use waterline_model::alerts::Firing;
use waterline_store::Store;

use crate::cli::AlertsCommand;
use crate::output;
use crate::workspace::Workspace;

/// Runs an `alerts` subcommand.
pub async fn command(workspace: &Workspace, command: AlertsCommand) -> Result<()> {
    match command {
        AlertsCommand::Scan { json, rule } => {
            let firings = scan(workspace, rule.as_deref()).await?;
            if json {
                output::json(&firings)
            } else {
                print_table(&firings);
                Ok(())
            }
        }
    }
}

/// Replays the stored posts through the rules in force (only `rule` when given) and
/// returns every alert that would have fired, in firing order.
pub async fn scan(workspace: &Workspace, rule: Option<&str>) -> Result<Vec<Firing>> {
    let mut rules = workspace.config.alerts.rules_in_force();
    if let Some(name) = rule {
        rules.retain(|candidate| candidate.name == name);
        if rules.is_empty() {
            bail!("no alert rule in force is named `{name}` (see [alerts] in waterline.toml)");
        }
    }
    let mut engine = Engine::new(&rules).map_err(anyhow::Error::msg)?;
    for rule in &rules {
        if rule.query.is_some() && engine.rule_names().contains(&rule.name) {
            output::error(&format!(
                "note: alert rule `{}` has a query; the scan does not evaluate queries yet, so it matches no post",
                rule.name
            ));
        }
    }
    if engine.rule_names().is_empty() {
        return Ok(Vec::new());
    }
    let store =
        Store::open(&workspace.data_dir()).await.context("cannot open the workspace store")?;
    let analytics = Analytics::open(&store).await?;
    let topics = topics(workspace, &store, &analytics).await?;
    let posts = analytics.posts().await?;
    let step = engine.step().num_milliseconds().max(1);
    let mut firings = Vec::new();
    let Some(first) = posts.first() else {
        return Ok(firings);
    };
    let mut boundary = first.created_at.timestamp_millis().div_euclid(step) * step + step;
    for post in &posts {
        let at = post.created_at.timestamp_millis();
        while at >= boundary {
            firings.extend(engine.advance(time_of(boundary)));
            boundary += step;
        }
        let topic = topics.get(&(post.platform.clone(), post.id.clone())).map(String::as_str);
        engine.observe(post, topic);
    }
    firings.extend(engine.advance(time_of(boundary)));
    Ok(firings)
}

fn time_of(millis: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_millis(millis).unwrap_or_default()
}

/// The topic of each post from the workspace's topic model, when it has one (built by
/// `waterline report`); no topics otherwise.
async fn topics(
    workspace: &Workspace,
    store: &Store,
    analytics: &Analytics,
) -> Result<HashMap<(String, String), String>> {
    if !workspace.data_dir().join(crate::report::TOPICS_FILE).exists() {
        output::error(
            "note: the workspace has no topic model yet (run `waterline report listening`); topic-growth rules see no topics",
        );
        return Ok(HashMap::new());
    }
    let rows = crate::report::topic_assignments(workspace, store, analytics).await?;
    Ok(rows.into_iter().map(|(platform, id, topic)| ((platform, id), topic)).collect())
}

fn print_table(firings: &[Firing]) {
    if firings.is_empty() {
        output::line("no alert would have fired");
        return;
    }
    output::line(&format!("{} alerts would have fired:", firings.len()));
    for firing in firings {
        let key = if firing.key.is_empty() { String::new() } else { format!(" [{}]", firing.key) };
        output::line(&format!(
            "{}  {}{key}: {}",
            firing.fired_at.format("%Y-%m-%d %H:%M"),
            firing.rule,
            firing.summary
        ));
        if let Some(topic) = &firing.topic {
            output::line(&format!("    topic: {topic}"));
        }
        if !firing.terms.is_empty() {
            let terms: Vec<String> = firing
                .terms
                .iter()
                .map(|term| format!("{} ({}, ×{:.1})", term.term, term.window_count, term.lift))
                .collect();
            output::line(&format!("    terms: {}", terms.join(", ")));
        }
        for post in firing.posts.iter().take(3) {
            let author = post.author.as_deref().unwrap_or("?");
            output::line(&format!("    {} @{author}: {}", post.key, post.text));
        }
    }
}
