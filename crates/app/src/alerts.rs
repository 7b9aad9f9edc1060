//! Alerts: the stored alerts (list, show, acknowledge, resolve) and `alerts scan`, which replays the workspace's stored posts in time order through the
//! alert engine ([`waterline_analytics::alerts::Engine`]) with the rules in force, and
//! answers the alerts that would have fired. It stores nothing.
//!
//! The live runner (`waterline listen`) feeds the same engine as posts arrive, so a scan
//! over the same posts shows the alerts the live runner raises (the `pv` and
//! `coverage-gap` rules are raised by the binary elsewhere, not by the engine).

use std::collections::HashMap;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use waterline_analytics::Analytics;
use waterline_analytics::alerts::Engine;
use waterline_model::alerts::Firing;
use waterline_store::Store;

use waterline_store::state::StateDb;

use crate::access::{Permission, Principal};
use crate::error::{AppError, AppResult};
use crate::workspace::Workspace;

/// The stored alerts, newest first, as the API shows them; `status` is `open`,
/// `acknowledged` or `resolved`.
pub async fn list(
    state: &StateDb,
    status: Option<&str>,
    limit: i64,
) -> AppResult<Vec<serde_json::Value>> {
    if let Some(status) = status
        && !["open", "acknowledged", "resolved"].contains(&status)
    {
        return Err(AppError::bad_request(format!(
            "unknown status `{status}` (use open, acknowledged or resolved)"
        )));
    }
    let rows = state.alerts(status, limit.max(1)).await?;
    Ok(rows.iter().map(alert_json).collect())
}

/// One stored alert with its webhook deliveries.
pub async fn show(state: &StateDb, id: &str) -> AppResult<serde_json::Value> {
    let Some(row) = state.alert(id).await? else {
        return Err(AppError::not_found(format!("no alert `{id}`")));
    };
    let mut alert = alert_json(&row);
    alert["deliveries"] =
        serde_json::to_value(state.deliveries(id).await?).map_err(AppError::internal)?;
    Ok(alert)
}

/// Whether alerts of this kind belong to the pharmacovigilance team (adverse events, the
/// regulatory clocks, monitoring coverage).
pub fn is_pharmacovigilance(kind: &str) -> bool {
    kind == "pv" || kind.starts_with("pv_") || kind.starts_with("pv-") || kind == "coverage-gap"
}

/// Acknowledges (`resolve` false) or resolves an alert as `principal`, and logs it in the
/// audit log; answers the alert as it now stands. The CLI and the API both act through here.
/// Adverse-event alerts need the pharmacovigilance permission too (pv-reviewer, admin).
pub async fn act(
    state: &StateDb,
    principal: &Principal,
    id: &str,
    note: Option<&str>,
    resolve: bool,
) -> AppResult<serde_json::Value> {
    principal.require(Permission::Alerts)?;
    let note = note.filter(|note| !note.trim().is_empty());
    if let Some(note) = note {
        crate::limits::check_text(note, "note", crate::limits::NOTE_CHARS)?;
    }
    let Some(before) = state.alert(id).await? else {
        return Err(AppError::not_found(format!("no alert `{id}`")));
    };
    // An adverse-event alert is the pharmacovigilance team's to acknowledge and resolve.
    if is_pharmacovigilance(&before.kind) {
        principal.require(Permission::Pharmacovigilance)?;
    }
    let now = chrono::Utc::now().timestamp_millis();
    let done = if resolve {
        state.resolve_alert(id, &principal.actor, note, now).await?
    } else {
        state.acknowledge_alert(id, &principal.actor, note, now).await?
    };
    let Some(row) = state.alert(id).await? else {
        return Err(AppError::not_found(format!("no alert `{id}`")));
    };
    if !done {
        return Err(AppError::new("conflict", format!("alert `{id}` is {} already", row.status)));
    }
    let action = if resolve { "alert.resolve" } else { "alert.acknowledge" };
    crate::access::audit(state, principal, action, id, serde_json::json!({"note": note})).await?;
    Ok(alert_json(&row))
}

/// A stored alert as the API shows it: the row with its explanation parsed.
pub fn alert_json(row: &waterline_store::live::AlertRow) -> Value {
    let at = |ms: Option<i64>| {
        ms.and_then(chrono::DateTime::from_timestamp_millis).map(|at| at.to_rfc3339())
    };
    json!({
        "id": row.id,
        "rule": row.rule,
        "kind": row.kind,
        "key": row.key,
        "status": row.status,
        "fired_at": at(Some(row.fired_at)),
        "stored_at": at(Some(row.created_at)),
        "acknowledged_by": row.acknowledged_by,
        "acknowledged_at": at(row.acknowledged_at),
        "resolved_by": row.resolved_by,
        "resolved_at": at(row.resolved_at),
        "note": row.note,
        "explanation": serde_json::from_str::<Value>(&row.body).unwrap_or(Value::Null),
    })
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
            tracing::warn!(
                "alert rule `{}` has a query; the scan does not evaluate queries yet, so it matches no post",
                rule.name
            );
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::Role;
    use crate::error::ErrorKind;

    #[tokio::test]
    async fn alert_actions_answer_typed_errors() {
        let state = StateDb::in_memory().await.unwrap();
        let analyst = Principal::new("token:a", Some(Role::Analyst));
        let viewer = Principal::new("token:v", Some(Role::Viewer));
        assert!(list(&state, None, 10).await.unwrap().is_empty());
        assert_eq!(list(&state, Some("closed"), 10).await.unwrap_err().kind, ErrorKind::BadRequest);
        assert_eq!(show(&state, "al_x").await.unwrap_err().kind, ErrorKind::NotFound);
        let missing = act(&state, &analyst, "al_x", Some("on it"), false).await.unwrap_err();
        assert_eq!(missing.kind, ErrorKind::NotFound);
        let denied = act(&state, &viewer, "al_x", None, true).await.unwrap_err();
        assert_eq!(denied.kind, ErrorKind::Forbidden);
    }

    #[tokio::test]
    async fn an_analyst_cannot_acknowledge_or_resolve_a_pharmacovigilance_alert() {
        let state = StateDb::in_memory().await.unwrap();
        let row = |id: &str, kind: &str| waterline_store::live::AlertRow {
            id: id.into(),
            rule: kind.into(),
            kind: kind.into(),
            key: "k".into(),
            fired_at: 1,
            created_at: 1,
            status: "open".into(),
            body: "{}".into(),
            acknowledged_by: None,
            acknowledged_at: None,
            resolved_by: None,
            resolved_at: None,
            note: None,
        };
        state.add_alert(&row("al_pv", "pv"), &[]).await.unwrap();
        state.add_alert(&row("al_spike", "spike"), &[]).await.unwrap();
        let analyst = Principal::new("token:a", Some(Role::Analyst));
        let reviewer = Principal::new("token:r", Some(Role::PvReviewer));
        let denied = act(&state, &analyst, "al_pv", None, false).await.unwrap_err();
        assert_eq!(denied.kind, ErrorKind::Forbidden);
        assert_eq!(show(&state, "al_pv").await.unwrap()["status"], "open");
        act(&state, &reviewer, "al_pv", Some("triaged"), true).await.unwrap();
        act(&state, &analyst, "al_spike", None, false).await.unwrap();
        let long = "x".repeat(crate::limits::NOTE_CHARS + 1);
        let refused = act(&state, &analyst, "al_spike", Some(&long), true).await.unwrap_err();
        assert_eq!(refused.kind, ErrorKind::BadRequest);
    }
}
