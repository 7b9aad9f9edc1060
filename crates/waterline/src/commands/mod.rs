//! One function per command: each parses what the command line gave, calls the use case in
//! `waterline-app`, and prints.

pub mod alerts;
pub mod draft;
pub mod live;
pub mod measure;
pub mod pv;
pub mod report;
pub mod serve;
pub mod topics;

use std::io::IsTerminal;
use std::path::Path;

use anyhow::{Context, Result, bail};
use waterline_analytics::{Analytics, ExportFormat, to_json, to_table};
use waterline_ingest::{Format, Mapping, RecordKind};
use waterline_model::config::{CONFIG_FILE, EXAMPLE};
use waterline_store::Store;

use crate::cli::{
    Cli, Command, ExportArgs, ExportFormatArg, ImportArgs, RejectsArgs, SqlArgs, StatusArgs,
};
use waterline_app::import::{ImportOptions, run as run_import};
use waterline_app::workspace::Workspace;

use crate::output;

/// Runs the command the command line names.
pub fn run(cli: Cli) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let workspace_dir = cli.workspace.clone();
    match cli.command {
        Command::Init => init(workspace_dir.as_deref()),
        Command::Generate(args) => {
            let options = crate::generate::GenerateOptions {
                posts: args.posts,
                seed: args.seed,
                out: args.out.clone(),
            };
            let summary = if args.calm {
                crate::generate::generate_calm(&options)?
            } else {
                crate::generate::generate(&options)?
            };
            output::line(&format!(
                "wrote {} posts to `{}` ({} files); import them with: waterline --workspace {} import '{}/*.jsonl'",
                summary.posts,
                args.out.display(),
                summary.files.len(),
                args.out.display(),
                args.out.display()
            ));
            Ok(())
        }
        Command::Demo(args) => runtime.block_on(demo(args)),
        Command::Eval(args) => crate::nlp::eval(args.task),
        Command::Train(args) => crate::nlp::train(&args),
        Command::Bench(args) => crate::nlp::bench(args.task),
        Command::Metrics(args) => measure::metrics(&args),
        Command::CheckDraft(args) => draft::check_draft(workspace_dir.as_deref(), &args).map(drop),
        command => {
            let workspace = Workspace::open(workspace_dir.as_deref())?;
            runtime.block_on(run_in_workspace(&workspace, command))
        }
    }
}

async fn run_in_workspace(workspace: &Workspace, command: Command) -> Result<()> {
    match command {
        Command::Import(args) => import(workspace, args).await,
        Command::Status(args) => status(workspace, &args).await,
        Command::Export(args) => export(workspace, &args).await,
        Command::Sql(args) => sql(workspace, &args).await,
        Command::Rejects(args) => rejects(workspace, &args).await,
        Command::Enrich(args) => crate::nlp::enrich(workspace, &args).await,
        Command::Report(args) => report::report(workspace, &args).await,
        Command::Topics(args) => topics::command(workspace, args.command).await,
        Command::Query(args) => measure::query(workspace, &args).await,
        Command::Baseline(args) => measure::baseline(workspace, args.action).await,
        Command::Compare(args) => measure::compare(workspace, &args).await,
        Command::Milestone(args) => measure::milestone(workspace, args.action).await,
        Command::Kpi(args) => measure::kpi(workspace, args.action).await,
        Command::Serve(args) => serve::serve(workspace.clone(), &args).await,
        Command::Listen(args) => live::listen(workspace, &args).await,
        Command::Sources(args) => live::sources(workspace, args.json).await,
        Command::Token(args) => token(workspace, args.action).await,
        Command::Audit(args) => audit(workspace, args.action).await,
        Command::Pv(args) => pv::command(workspace, args.action).await,
        Command::Alerts(args) => alerts::command(workspace, args.command).await,
        Command::Init
        | Command::Generate(_)
        | Command::Demo(_)
        | Command::Eval(_)
        | Command::Train(_)
        | Command::Bench(_)
        | Command::Metrics(_)
        | Command::CheckDraft(_) => Ok(()),
    }
}

async fn demo(args: crate::cli::DemoArgs) -> Result<()> {
    let dir = args.dir.clone().unwrap_or_else(|| Path::new("waterline-demo").to_path_buf());
    if dir.join(CONFIG_FILE).exists() {
        output::line(&format!("reusing the demo workspace `{}`", dir.display()));
    } else {
        let summary = crate::generate::generate(&crate::generate::GenerateOptions {
            posts: args.posts,
            seed: args.seed,
            out: dir.clone(),
        })?;
        output::line(&format!("generated {} posts in `{}`", summary.posts, dir.display()));
    }
    let workspace = Workspace::open(Some(&dir))?;
    let inputs = vec![format!("{}/*.jsonl", dir.display())];
    let started = std::time::Instant::now();
    let options = ImportOptions {
        inputs,
        format: None,
        mapping: None,
        batch_size: 20_000,
        progress: std::io::stderr().is_terminal().then(crate::progress::bar),
        enrich: true,
    };
    let (total, _) = run_import(&workspace, options).await?;
    let seconds = started.elapsed().as_secs_f64();
    output::line(&format!("imported in {seconds:.1} s: {}", total.summary()));
    // A demo folder kept from an older version: bring its annotations up to date.
    let signature = waterline_enrich::models::default_chain(&workspace.config).signature();
    let (stale, _) =
        Store::open(&workspace.data_dir()).await?.stale_posts(&signature, false).await?;
    if stale > 0 {
        crate::nlp::enrich(&workspace, &crate::cli::EnrichArgs { all: false, json: false }).await?;
    }
    status(&workspace, &StatusArgs { json: false, days: 7 }).await?;
    let (_store, analytics) = open_analytics(&workspace).await?;
    let summary = analytics
        .query(
            "SELECT side, language, \
             round(avg(CASE sentiment WHEN 'positive' THEN 1.0 WHEN 'negative' THEN -1.0 ELSE 0.0 END), 3) AS net_sentiment, \
             sum(CASE WHEN need = 'question' THEN 1 ELSE 0 END) AS questions, \
             sum(CASE WHEN need = 'complaint' THEN 1 ELSE 0 END) AS complaints, \
             count(*) AS posts, count(DISTINCT coalesce(duplicate_of, id)) AS voices \
             FROM posts GROUP BY 1, 2 HAVING count(*) >= 100 ORDER BY 1, 6 DESC",
        )
        .await?;
    output::line("annotations by side and language:");
    output::line(&to_table(&summary)?);
    output::line(&format!(
        "next: waterline --workspace {0} report listening   (also: report gap, report audit; \
         sql \"SELECT side, platform, count(*) FROM posts GROUP BY 1, 2\")",
        dir.display()
    ));
    output::line(&format!(
        "metrics: waterline --workspace {0} query --metrics mentions,share_of_voice_mentions,net_sentiment --by panel   \
         (waterline metrics lists them; also baseline, compare, milestone status)",
        dir.display()
    ));
    let state = Store::open(&workspace.data_dir()).await?;
    let cases = waterline_app::pv::cases(state.state()).await?;
    output::line(&format!(
        "pharmacovigilance: {} case(s) in the adverse-event queue: waterline --workspace {} pv list   \
         (the /pharmacovigilance page needs the admin token below or a pv-reviewer one)",
        cases.len(),
        dir.display()
    ));
    if args.no_serve {
        return Ok(());
    }
    let token = create_token(&workspace, "demo admin", "admin", false).await?;
    output::line(&format!(
        "admin token for writes (ingest, baselines, milestones, tokens): {token}\n\
         try: curl -H 'Authorization: Bearer {token}' --data-binary @{}/x.jsonl http://{}/api/v1/ingest",
        dir.display(),
        args.listen
    ));
    let serve = crate::cli::ServeArgs {
        listen: args.listen,
        require_token: false,
        no_listen: true,
        sources: Vec::new(),
        allowed_hosts: Vec::new(),
        anonymous_authors: false,
        max_in_flight: 32,
        accept_broken_audit_trail: false,
    };
    serve::serve(workspace, &serve).await
}

/// The person at the terminal: the workspace's files are theirs, so they act as an admin.
pub fn cli_principal() -> waterline_app::access::Principal {
    waterline_app::access::Principal::new(
        waterline_app::access::cli_actor(),
        Some(waterline_app::access::Role::Admin),
    )
    .from_origin("cli")
}

/// Records a write (or a read of PV data) made at the terminal in the audit log, as the
/// server records those made over HTTP.
pub async fn record(
    state: &waterline_store::state::StateDb,
    action: &str,
    target: &str,
    detail: serde_json::Value,
) -> Result<()> {
    waterline_app::access::audit(state, &cli_principal(), action, target, detail).await?;
    Ok(())
}

/// `waterline token create`: prints the token once (and returns it).
pub async fn create_token(
    workspace: &Workspace,
    name: &str,
    role: &str,
    json: bool,
) -> Result<String> {
    let state = workspace.state().await?;
    let issued = waterline_app::access::issue_token(&state, &cli_principal(), name, role).await?;
    if json {
        output::json(&issued)?;
    } else {
        output::line(&issued.token);
        output::error(&format!(
            "created {} `{}` with role {} (shown once; stored as a hash)",
            issued.record.id, issued.record.name, issued.record.role
        ));
    }
    Ok(issued.token)
}

async fn token(workspace: &Workspace, action: crate::cli::TokenAction) -> Result<()> {
    use crate::cli::TokenAction;
    let state = workspace.state().await?;
    match action {
        TokenAction::Create { role, name, json } => {
            create_token(workspace, &name, &role, json).await?;
        }
        TokenAction::List { json } => {
            let tokens = waterline_app::access::tokens(&state, &cli_principal()).await?;
            if json {
                return output::json(&tokens);
            }
            if tokens.is_empty() {
                output::line(
                    "no tokens: waterline token create --role viewer|analyst|pv-reviewer|admin",
                );
            }
            for token in tokens {
                let when = |ms: i64| {
                    chrono::DateTime::from_timestamp_millis(ms)
                        .map_or_else(String::new, |t| t.format("%Y-%m-%d %H:%M").to_string())
                };
                output::line(&format!(
                    "{}  {:<11} {:<24} created {} by {}{}",
                    token.id,
                    token.role,
                    token.name,
                    when(token.created_at),
                    token.created_by,
                    token
                        .revoked_at
                        .map(|at| format!(", revoked {}", when(at)))
                        .unwrap_or_default()
                ));
            }
        }
        TokenAction::Revoke { id } => {
            waterline_app::access::revoke(&state, &cli_principal(), &id).await?;
            output::line(&format!(
                "revoked {id} (servers forget it within {} s)",
                waterline_server::auth::CACHE_SECONDS
            ));
        }
        TokenAction::Audit { limit, json } => {
            let entries =
                waterline_app::access::audit_entries(&state, &cli_principal(), limit).await?;
            if json {
                return output::json(&entries);
            }
            for entry in entries {
                let at = chrono::DateTime::from_timestamp_millis(entry.at)
                    .map_or_else(String::new, |t| t.to_rfc3339());
                output::line(&format!(
                    "{at}  {} ({})  {} {}  {}",
                    entry.actor, entry.role, entry.action, entry.target, entry.detail
                ));
            }
        }
    }
    Ok(())
}

/// `waterline audit verify`.
async fn audit(workspace: &Workspace, action: crate::cli::AuditAction) -> Result<()> {
    match action {
        crate::cli::AuditAction::Verify { json } => {
            let verification = waterline_app::access::verify(workspace).await?;
            if json {
                output::json(&verification)?;
            } else {
                for chain in &verification.chains {
                    let head = chain
                        .head
                        .as_ref()
                        .map_or_else(|| "empty".to_owned(), |head| format!("entry {}", head.seq));
                    let unchained = if chain.unchained > 0 {
                        format!(", {} written before the chain and not covered", chain.unchained)
                    } else {
                        String::new()
                    };
                    output::line(&format!(
                        "{}: {} entries, head {head}{unchained}: {}",
                        chain.chain,
                        chain.entries,
                        if chain.intact() { "intact" } else { "BROKEN" }
                    ));
                    for problem in &chain.problems {
                        output::line(&format!("  - {problem}"));
                    }
                }
                output::line(&format!(
                    "heads checked in the heads file and {} posts commit(s)",
                    verification.anchors.len()
                ));
            }
            if !verification.intact {
                return Err(AuditAltered.into());
            }
            Ok(())
        }
    }
}

/// `waterline audit verify` found an alteration: the binary exits with code 1 (2 is for
/// errors that kept the check from running).
#[derive(Debug, thiserror::Error)]
#[error("the audit trail was altered (see above)")]
pub struct AuditAltered;

fn init(root: Option<&Path>) -> Result<()> {
    let root = match root {
        Some(root) => root.to_path_buf(),
        None => std::env::current_dir()?,
    };
    fs_err::create_dir_all(&root)?;
    let path = root.join(CONFIG_FILE);
    if path.exists() {
        bail!("`{}` already exists; not overwriting it", path.display());
    }
    fs_err::write(&path, EXAMPLE)?;
    output::line(&format!(
        "wrote `{}`: edit the brand, accounts, competitors and products, then run `waterline import FILE`",
        path.display()
    ));
    Ok(())
}

/// Computes the dashboard pages' figures for the store as the import left it (kept on disk
/// by the workspace service), so that a server's first reader finds them: from
/// [`waterline_app::report::PREPARE_FROM_POSTS`] stored posts (below, a page takes well
/// under a second). A failure is logged: the posts are stored, and readers compute what is
/// missing.
async fn prepare_pages(workspace: &Workspace) {
    let started = std::time::Instant::now();
    let prepared = async {
        let served = waterline_app::service::Served::open(workspace.clone()).await?;
        let posts = waterline_app::backend::Backend::status(&served).await?.counts.posts;
        if posts < waterline_app::report::PREPARE_FROM_POSTS {
            return anyhow::Ok(0);
        }
        let address = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
        let app = waterline_server::App::new(
            served,
            waterline_server::ServeOptions::for_address(&address),
        );
        anyhow::Ok(waterline_server::pages::prepare(&app).await)
    };
    match prepared.await {
        Ok(pages) => {
            tracing::info!(pages, seconds = started.elapsed().as_secs_f64(), "prepared the pages")
        }
        Err(error) => tracing::warn!("cannot prepare the pages now: {error:#}"),
    }
}

async fn import(workspace: &Workspace, args: ImportArgs) -> Result<()> {
    let format = match &args.format {
        Some(name) => Some(Format::parse(name).with_context(|| {
            format!("unknown format `{name}` (use waterline, x, x-archive, mastodon, bluesky, reddit, csv or jsonl)")
        })?),
        None => None,
    };
    let mapping = build_mapping(&args)?;
    let options = ImportOptions {
        inputs: args.inputs.clone(),
        format,
        mapping,
        batch_size: args.batch_size.max(1),
        progress: (!args.json && std::io::stderr().is_terminal()).then(crate::progress::bar),
        enrich: !args.no_enrich,
    };
    let (total, outcomes) = run_import(workspace, options).await?;
    let inputs: Vec<serde_json::Value> = outcomes
        .iter()
        .map(|o| serde_json::json!({"path": o.path, "format": o.format, "report": o.report}))
        .collect();
    let state = workspace.state().await?;
    record(&state, "import", "posts", serde_json::json!({"total": total, "inputs": inputs}))
        .await?;
    if total.new + total.updated > 0 {
        prepare_pages(workspace).await;
    }
    if args.json {
        let mut value = serde_json::to_value(total)?;
        if let Some(object) = value.as_object_mut() {
            object.insert("inputs".into(), serde_json::to_value(&outcomes)?);
        }
        return output::json(&value);
    }
    for outcome in &outcomes {
        output::line(&format!(
            "{} ({}): {}",
            outcome.path,
            outcome.format,
            outcome.report.summary()
        ));
    }
    if outcomes.len() > 1 {
        output::line(&format!("total: {}", total.summary()));
    }
    if total.rejected > 0 {
        output::line(
            "some records were rejected: `waterline rejects` lists them with file, line, field and reason",
        );
    }
    let flagged: u64 = outcomes.iter().map(|outcome| outcome.pv_cases).sum();
    if flagged > 0 {
        output::line(&format!(
            "{flagged} post(s) flagged for pharmacovigilance review: `waterline pv list` shows the queue"
        ));
    }
    if !args.no_enrich {
        // Posts stored earlier (with --no-enrich, or by an older version) keep their old
        // annotations until `waterline enrich`: say so instead of leaving reports mixed.
        let store = Store::open(&workspace.data_dir()).await?;
        let signature = waterline_enrich::models::default_chain(&workspace.config).signature();
        let (stale, _) = store.stale_posts(&signature, false).await?;
        if stale > 0 {
            output::line(&format!(
                "{stale} stored post rows lack the current annotations (imported with --no-enrich or by an older version): run `waterline enrich`"
            ));
        }
    }
    Ok(())
}

fn build_mapping(args: &ImportArgs) -> Result<Option<Mapping>> {
    if args.mapping.is_none() && args.map.is_empty() {
        if args.accounts || args.platform.is_some() {
            bail!(
                "--accounts and --platform need a column mapping (--mapping FILE or --map FIELD=COLUMN)"
            );
        }
        return Ok(None);
    }
    let mut mapping = match &args.mapping {
        Some(path) => {
            let text = fs_err::read_to_string(path)?;
            Mapping::parse(&text).with_context(|| format!("in `{}`", path.display()))?
        }
        None => Mapping::default(),
    };
    if args.accounts {
        mapping.record = RecordKind::Account;
    }
    if let Some(platform) = &args.platform {
        mapping.platform = Some(platform.clone());
    }
    mapping.apply_flags(&args.map)?;
    mapping.validate()?;
    Ok(Some(mapping))
}

async fn open_analytics(workspace: &Workspace) -> Result<(Store, Analytics)> {
    let store =
        Store::open(&workspace.data_dir()).await.context("cannot open the workspace store")?;
    let analytics = Analytics::open(&store).await?;
    Ok((store, analytics))
}

async fn status(workspace: &Workspace, args: &StatusArgs) -> Result<()> {
    let session = waterline_app::measure::open(workspace).await?;
    let status = waterline_app::status::status(workspace, &session, args.days).await?;
    if args.json {
        let mut value = serde_json::to_value(&status)?;
        if let Some(object) = value.as_object_mut() {
            object.insert("workspace".into(), serde_json::to_value(&workspace.root)?);
        }
        return output::json(&value);
    }
    let counts = &status.counts;
    output::line(&format!("workspace `{}` ({})", workspace.root.display(), status.brand));
    output::line(&format!(
        "{} posts{}",
        counts.posts,
        counts.latest_post.as_ref().map(|at| format!(", the latest at {at}")).unwrap_or_default()
    ));
    output::line("by platform and side:");
    for row in &counts.by_platform_side {
        output::line(&format!("  {:<12} {:<11} {:>10}", row.platform, row.side, row.posts));
    }
    output::line(&format!("by day ({}), most recent {}:", status.time_zone, args.days));
    for row in &counts.by_day {
        output::line(&format!("  {}  {:>10}", row.day, row.posts));
    }
    if !status.runs.is_empty() {
        output::line("latest imports:");
        for run in &status.runs {
            output::line(&format!("  {} {}: {}", run.id, run.status, run.report.summary()));
        }
    }
    Ok(())
}

async fn export(workspace: &Workspace, args: &ExportArgs) -> Result<()> {
    let (_store, analytics) = open_analytics(workspace).await?;
    let format = match args.format {
        ExportFormatArg::Csv => ExportFormat::Csv,
        ExportFormatArg::Parquet => ExportFormat::Parquet,
        ExportFormatArg::Jsonl => ExportFormat::Jsonl,
    };
    if let Some(parent) = args.out.parent()
        && !parent.as_os_str().is_empty()
    {
        fs_err::create_dir_all(parent)?;
    }
    let rows = analytics.export(format, &args.out).await?;
    output::line(&format!("wrote {rows} posts to `{}`", args.out.display()));
    Ok(())
}

async fn sql(workspace: &Workspace, args: &SqlArgs) -> Result<()> {
    let (_store, analytics) = open_analytics(workspace).await?;
    let batches = if args.timing {
        let (batches, elapsed) = analytics.query_timed(&args.query).await?;
        output::error(&format!("warm execution: {:.1} ms", elapsed.as_secs_f64() * 1000.0));
        batches
    } else {
        analytics.query(&args.query).await?
    };
    if args.json {
        return output::json(&to_json(&batches)?);
    }
    output::line(&to_table(&batches)?);
    Ok(())
}

async fn rejects(workspace: &Workspace, args: &RejectsArgs) -> Result<()> {
    let store = Store::open(&workspace.data_dir()).await?;
    let run = match (&args.run, args.all) {
        (Some(run), _) => Some(run.clone()),
        (None, true) => None,
        (None, false) => store.state().runs(1).await?.into_iter().next().map(|run| run.id),
    };
    let rows = store.state().rejects(run.as_deref(), args.limit).await?;
    if args.json {
        let values: Vec<_> = rows
            .iter()
            .map(|(run_id, rejected)| {
                let mut value = serde_json::to_value(rejected).unwrap_or_default();
                if let Some(object) = value.as_object_mut() {
                    object.insert("run_id".into(), run_id.clone().into());
                }
                value
            })
            .collect();
        return output::json(&values);
    }
    if rows.is_empty() {
        output::line("no rejected records");
        return Ok(());
    }
    for (_, rejected) in rows {
        output::line(&format!(
            "{}: {}: field `{}`: {}",
            rejected.file, rejected.position, rejected.field, rejected.reason
        ));
    }
    Ok(())
}
