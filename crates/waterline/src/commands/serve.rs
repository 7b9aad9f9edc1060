//! `waterline serve`: binds, starts the live sources when they run here, and serves the
//! workspace ([`waterline_app::service::Served`]) over HTTP.

use std::net::SocketAddr;

use anyhow::{Context as _, Result};
use waterline_app::service::Served;
use waterline_app::workspace::Workspace;
use waterline_server::{App, ServeOptions};
use waterline_store::state::StateDb;

use crate::output;

/// Binds, prints the address, and serves until Ctrl-C.
pub async fn serve(workspace: Workspace, args: &crate::cli::ServeArgs) -> Result<()> {
    let (stop_sources, stop_rx) = tokio::sync::watch::channel(false);
    let mut runner = None;
    let live = if args.no_listen || workspace.config.sources.is_empty() {
        None
    } else {
        let (sender, receiver) = tokio::sync::mpsc::channel(8);
        runner = Some(sender);
        let workspace = workspace.clone();
        let options = waterline_app::live::ListenOptions {
            overrides: args.sources.clone(),
            ..waterline_app::live::ListenOptions::default()
        };
        waterline_app::live::sources(&workspace, &options.overrides)?;
        Some(tokio::spawn(async move {
            match waterline_app::live::listen_with(&workspace, &options, stop_rx, Some(receiver))
                .await
            {
                Ok(summary) => tracing::info!("live sources stopped: {}", summary.report.summary()),
                Err(error) => tracing::error!("the live sources stopped: {error:#}"),
            }
        }))
    };
    // Without sources in this process, the server still delivers the webhooks of alerts
    // raised here (ingested cases) or by another process; receivers tell a repeat by its
    // `X-Waterline-Delivery` id.
    let deliveries = if live.is_none() && !workspace.config.alerts.webhooks.is_empty() {
        let state = StateDb::open(&workspace.data_dir().join("state.db")).await?;
        Some(tokio::spawn(waterline_app::webhooks::run(
            state,
            workspace.config.brand.clone(),
            workspace.config.alerts.webhooks.clone(),
            std::sync::Arc::new(tokio::sync::Notify::new()),
            stop_sources.subscribe(),
        )))
    } else {
        None
    };
    let result = serve_only(workspace, args, runner).await;
    let _ = stop_sources.send(true);
    if let Some(deliveries) = deliveries {
        let _ = tokio::time::timeout(std::time::Duration::from_secs(10), deliveries).await;
    }
    if let Some(live) = live {
        let _ = tokio::time::timeout(std::time::Duration::from_secs(20), live).await;
    }
    result
}

async fn serve_only(
    workspace: Workspace,
    args: &crate::cli::ServeArgs,
    runner: Option<tokio::sync::mpsc::Sender<waterline_app::live::IngestRequest>>,
) -> Result<()> {
    let listen: SocketAddr = args.listen;
    // The audit trail is checked before anything is served (ADR 018).
    let verification = waterline_app::access::verify(&workspace).await?;
    if !verification.intact {
        let problems: Vec<String> = verification
            .chains
            .iter()
            .flat_map(|chain| chain.problems.iter().map(move |p| format!("{}: {p}", chain.chain)))
            .collect();
        if !args.accept_broken_audit_trail {
            anyhow::bail!(
                "the audit trail was altered, so the server does not start:\n  {}\n(`waterline audit verify` says the same; `waterline serve --accept-broken-audit-trail` serves anyway and records that it did)",
                problems.join("\n  ")
            );
        }
        tracing::error!("serving with an altered audit trail: {}", problems.join("; "));
        let state = workspace.state().await?;
        waterline_app::access::audit(
            &state,
            &crate::commands::cli_principal(),
            "serve.broken_audit_trail",
            "audit_log",
            serde_json::json!({"problems": problems}),
        )
        .await?;
    }
    let served = Served::open(workspace).await?.with_runner(runner);
    // Bodies accepted before a crash and never imported are imported before serving.
    let recovered = served.recover_ingests().await;
    if !recovered.is_empty() {
        use waterline_app::backend::Backend as _;
        served.refresh().await?;
        let refused = recovered.iter().filter(|(_, outcome)| outcome.is_err()).count();
        output::error(&format!(
            "recovered {} ingest bod{} accepted before the last stop ({refused} refused; see the audit log)",
            recovered.len(),
            if recovered.len() == 1 { "y" } else { "ies" }
        ));
    }
    let mut options = ServeOptions::for_address(&listen);
    options.require_token |= args.require_token;
    for name in &args.allowed_hosts {
        options.allowed_hosts.allow(name);
    }
    options.anonymous_authors = args.anonymous_authors;
    options.max_in_flight = args.max_in_flight;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let address = listener.local_addr()?;
    let app = App::new(served, options.clone());
    output::line(&format!(
        "serving on http://{address}/  (API: http://{address}/api/v1/openapi.json; Ctrl-C stops)"
    ));
    if options.require_token {
        output::line(
            "every request needs a token: waterline token create --role viewer|analyst|pv-reviewer|admin",
        );
    } else {
        output::line(
            "readable without a token on this loopback address; writes need one (waterline token create --role analyst)",
        );
    }
    waterline_server::serve(app, listener).await.context("the server stopped")?;
    Ok(())
}
