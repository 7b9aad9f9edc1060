//! `waterline listen` and `waterline sources`: the adapter over [`waterline_app::live`].

use std::time::Duration;

use anyhow::Result;
use tokio::sync::watch;
use waterline_app::live;
use waterline_app::workspace::Workspace;

use crate::output;

/// `waterline listen`.
pub async fn listen(workspace: &Workspace, args: &crate::cli::ListenArgs) -> Result<()> {
    let options = live::ListenOptions {
        overrides: args.sources.clone(),
        commit_interval: Duration::from_millis(args.commit_interval.max(10)),
        idle_exit: args.idle_exit.map(Duration::from_secs_f64),
        duration: args.duration.map(Duration::from_secs_f64),
    };
    let (stop, stop_rx) = watch::channel(false);
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            output::line("stopping: committing what arrived (Ctrl-C again to abort)");
            let _ = stop.send(true);
        }
    });
    if !args.json {
        let names: Vec<String> = live::sources(workspace, &args.sources)?
            .iter()
            .map(|source| format!("{} ({})", source.name, source.kind))
            .collect();
        output::line(&format!("listening to {}; Ctrl-C stops", names.join(", ")));
    }
    let state = workspace.state().await?;
    let sources = serde_json::json!({"sources": args.sources});
    super::record(&state, "listen.start", "posts", sources).await?;
    let summary = live::listen(workspace, &options, stop_rx).await?;
    let detail = serde_json::json!({"report": summary.report, "alerts": summary.alerts});
    super::record(&state, "listen.stop", "posts", detail).await?;
    if args.json {
        output::line(&serde_json::to_string_pretty(&summary)?);
    } else {
        output::line(&format!("stored: {}", summary.report.summary()));
        for (source, dropped) in &summary.filtered {
            output::line(&format!("{source}: {dropped} posts dropped by the relevance filter"));
        }
        output::line(&format!("alerts raised: {}", summary.alerts));
    }
    Ok(())
}

/// `waterline sources`: the declared sources with their last stored status and cursor.
pub async fn sources(workspace: &Workspace, json: bool) -> Result<()> {
    let rows = live::source_rows(workspace).await?;
    if json {
        output::line(&serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    if rows.is_empty() {
        output::line("no live source is declared ([[sources]] in waterline.toml)");
    }
    for row in rows {
        let get = |key: &str| {
            row.get(key).map_or_else(String::new, |value| match value {
                serde_json::Value::String(text) => text.clone(),
                serde_json::Value::Null => "-".to_owned(),
                other => other.to_string(),
            })
        };
        output::line(&format!(
            "{:<16} {:<14} {:<11} records {:>8}  rejected {:>5}  filtered {:>8}  reconnects {:>4}  cursor {}",
            get("name"),
            get("kind"),
            get("state"),
            get("records"),
            get("rejected"),
            get("filtered"),
            get("disconnects"),
            get("cursor"),
        ));
    }
    Ok(())
}
