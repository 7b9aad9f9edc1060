//! `waterline alerts …`: the adapter over [`waterline_app::alerts`].

use anyhow::Result;
use waterline_app::workspace::Workspace;
use waterline_model::alerts::Firing;

use crate::cli::AlertsCommand;
use crate::output;

/// Runs an `alerts` subcommand.
pub async fn command(workspace: &Workspace, command: AlertsCommand) -> Result<()> {
    match command {
        AlertsCommand::Scan { json, rule } => {
            let firings = waterline_app::alerts::scan(workspace, rule.as_deref()).await?;
            if json {
                output::json(&firings)
            } else {
                print_table(&firings);
                Ok(())
            }
        }
        AlertsCommand::List { status, limit, json } => {
            let state = workspace.state().await?;
            let alerts = waterline_app::alerts::list(&state, status.as_deref(), limit).await?;
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
            let state = workspace.state().await?;
            let alert = waterline_app::alerts::show(&state, &id).await?;
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

/// Acknowledges or resolves an alert as the person at the terminal.
async fn act(workspace: &Workspace, id: &str, note: Option<&str>, resolve: bool) -> Result<()> {
    let state = workspace.state().await?;
    let principal = super::cli_principal();
    let alert = waterline_app::alerts::act(&state, &principal, id, note, resolve).await?;
    output::line(&format!(
        "alert {id} {} by {}",
        alert["status"].as_str().unwrap_or_default(),
        principal.actor
    ));
    Ok(())
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
