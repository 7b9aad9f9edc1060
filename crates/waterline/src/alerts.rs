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
        AlertsCommand::List { status, limit, json } => {
            if let Some(status) = &status
                && !["open", "acknowledged", "resolved"].contains(&status.as_str())
            {
                bail!("unknown status `{status}` (use open, acknowledged or resolved)");
            }
            let state = state(workspace).await?;
            let rows = state.alerts(status.as_deref(), limit.max(1)).await?;
            let alerts: Vec<serde_json::Value> =
                rows.iter().map(waterline_server::api::alert_json).collect();
            if json {
                return output::json(&alerts);
            }
            if alerts.is_empty() {
                output::line(
                    "no alert is stored (waterline listen raises them; waterline alerts scan shows what would fire)",
                );
            }
            for alert in &alerts {
                let text = |key: &str| alert[key].as_str().unwrap_or_default().to_owned();
                output::line(&format!(
                    "{}  {:<12} {:<22} {}  {}",
                    text("fired_at").chars().take(16).collect::<String>().replace('T', " "),
                    text("status"),
                    text("rule"),
                    text("id"),
                    alert["explanation"]["summary"].as_str().unwrap_or_default()
                ));
            }
            Ok(())
        }
        AlertsCommand::Show { id, json } => {
            let state = state(workspace).await?;
            let Some(row) = state.alert(&id).await? else { bail!("no alert `{id}`") };
            let mut alert = waterline_server::api::alert_json(&row);
            alert["deliveries"] = serde_json::to_value(state.deliveries(&id).await?)?;
            if json {
                return output::json(&alert);
            }
            output::line(&serde_json::to_string_pretty(&alert)?);
            Ok(())
        }
        AlertsCommand::Ack { id, note } => act(workspace, &id, note.as_deref(), false).await,
        AlertsCommand::Resolve { id, note } => act(workspace, &id, note.as_deref(), true).await,
    }
}

async fn state(workspace: &Workspace) -> Result<waterline_store::state::StateDb> {
    Ok(waterline_store::state::StateDb::open(&workspace.data_dir().join("state.db")).await?)
}

/// Acknowledges or resolves an alert as the person at the terminal (`WATERLINE_USER` or
/// `USER`), and logs it in the audit log.
async fn act(workspace: &Workspace, id: &str, note: Option<&str>, resolve: bool) -> Result<()> {
    let state = state(workspace).await?;
    let who = format!(
        "cli:{}",
        std::env::var("WATERLINE_USER")
            .or_else(|_| std::env::var("USER"))
            .unwrap_or_else(|_| "unknown".to_owned())
    );
    let now = chrono::Utc::now().timestamp_millis();
    let done = if resolve {
        state.resolve_alert(id, &who, note, now).await?
    } else {
        state.acknowledge_alert(id, &who, note, now).await?
    };
    let Some(row) = state.alert(id).await? else { bail!("no alert `{id}`") };
    if !done {
        bail!("alert `{id}` is {} already", row.status);
    }
    state
        .audit(&waterline_store::state::AuditEntry {
            at: now,
            actor: who.clone(),
            role: "cli".to_owned(),
            action: if resolve { "alert.resolve" } else { "alert.acknowledge" }.to_owned(),
            target: id.to_owned(),
            detail: serde_json::json!({"note": note}).to_string(),
        })
        .await?;
    output::line(&format!("alert {id} {} by {who}", row.status));
    Ok(())
}

/// One sentence saying when a rule fires, for the dashboard's list of rules.
pub fn describe_rule(rule: &waterline_model::alerts::AlertRule) -> String {
    let scope = [
        rule.side.as_ref().map(|side| format!("{side} posts")),
        rule.platform.as_ref().map(|platform| format!("on {platform}")),
        rule.query.as_ref().map(|query| format!("matching `{query}`")),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ");
    let scope = if scope.is_empty() { "posts".to_owned() } else { scope };
    match rule.kind.as_str() {
        "volume" => format!(
            "the count of {scope} in the last {} exceeds the mean of the {} windows before by {} standard deviations (at least {} posts); once per episode, then a {} cooldown",
            rule.window, rule.reference, rule.k, rule.min_count, rule.cooldown
        ),
        "negative-share" => format!(
            "the share of negative {scope} in the last {} exceeds the mean share of the {} windows before by {} standard deviations (at least {} posts with a sentiment); {} cooldown",
            rule.window, rule.reference, rule.k, rule.min_count, rule.cooldown
        ),
        "topic-growth" => format!(
            "a topic's count of {scope} in the last {} exceeds its mean over the {} windows before by {} standard deviations (at least {} posts); {} cooldown",
            rule.window, rule.reference, rule.k, rule.min_count, rule.cooldown
        ),
        "pv" => "a post is flagged for pharmacovigilance and its case opens (PV-1); the alert names the case, never the text".to_owned(),
        "coverage-gap" => "an owned channel has no ingested post for longer than [pharmacovigilance] coverage_gap_hours (SCOPE-1)".to_owned(),
        "unanswered" => format!(
            "an audience question addressed to the brand has no reply from an owned account after {} hours",
            rule.hours
        ),
        other => other.to_owned(),
    }
}

/// The stored posts of the span the rules look back over (their reference windows and the
/// last one), in time order, with their topics: what the live runner shows the engine
/// before the first live batch.
pub async fn recent_posts(
    workspace: &Workspace,
    rules: &[waterline_model::alerts::AlertRule],
) -> Result<Vec<(waterline_model::Post, Option<String>)>> {
    let span = rules
        .iter()
        .filter(|rule| {
            ["volume", "negative-share", "topic-growth", "unanswered"].contains(&rule.kind.as_str())
        })
        .filter_map(|rule| {
            let window = rule.window_duration()?;
            let windowed = window * (rule.reference + 1);
            Some(windowed.max(std::time::Duration::from_secs(u64::from(rule.hours) * 3600 * 2)))
        })
        .max();
    let Some(span) = span else { return Ok(Vec::new()) };
    let store =
        Store::open(&workspace.data_dir()).await.context("cannot open the workspace store")?;
    if !store.has_data() {
        return Ok(Vec::new());
    }
    let analytics = Analytics::open(&store).await?;
    // Only the window the rules look back over, from the latest post: never every post.
    let seconds = span.as_secs().max(1);
    let posts = analytics
        .posts_where(&format!(
            "created_at > (SELECT max(created_at) FROM posts) - INTERVAL '{seconds} seconds'"
        ))
        .await?;
    let topics = topics(workspace);
    Ok(posts
        .into_iter()
        .map(|post| {
            let topic = topic_name(&topics, &post);
            (post, topic)
        })
        .collect())
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
    let topics = topics(workspace);
    let step = engine.step().num_milliseconds().max(1);
    let mut firings = Vec::new();
    let Some((first, last)) = analytics.time_span("TRUE").await? else {
        return Ok(firings);
    };
    // Replayed in time order a week at a time, so that memory holds one week of posts.
    let week = chrono::Duration::days(7).num_microseconds().unwrap_or(i64::MAX);
    let mut boundary = (first / 1000).div_euclid(step) * step + step;
    let mut start = first;
    while start <= last {
        let end = start.saturating_add(week);
        let stamp = |micros: i64| {
            let at = chrono::DateTime::from_timestamp_micros(micros).unwrap_or_default();
            format!("'{}'", at.format("%Y-%m-%dT%H:%M:%S%.6fZ"))
        };
        let posts = analytics
            .posts_where(&format!("created_at >= {} AND created_at < {}", stamp(start), stamp(end)))
            .await?;
        for post in &posts {
            let at = post.created_at.timestamp_millis();
            while at >= boundary {
                firings.extend(engine.advance(time_of(boundary)));
                boundary += step;
            }
            let topic = topic_name(&topics, post);
            engine.observe(post, topic.as_deref());
        }
        start = end;
    }
    firings.extend(engine.advance(time_of(boundary)));
    Ok(firings)
}

fn time_of(millis: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_millis(millis).unwrap_or_default()
}

/// The names of the workspace's topics by id (posts carry their topic from arrival).
fn topics(workspace: &Workspace) -> HashMap<u32, String> {
    crate::topics::topic_names(&workspace.data_dir()).into_iter().collect()
}

/// The name of a post's topic, as the `topic` dimension spells it.
fn topic_name(topics: &HashMap<u32, String>, post: &waterline_model::Post) -> Option<String> {
    post.annotations.as_ref().and_then(|notes| notes.topic).and_then(|id| topics.get(&id)).cloned()
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
