//! `waterline report listening|gap|audit`: loads the posts, updates the workspace's topic
//! model (`.waterline/topics.json`), and prints a report as text tables or JSON.

use std::path::Path;

use anyhow::{Context, Result};
use waterline_analytics::Analytics;
use waterline_analytics::reports::{self, Corpus};
use waterline_analytics::topics::{TopicModel, TopicOptions};
use waterline_store::Store;

use crate::cli::{ReportArgs, ReportKind};
use crate::output;
use crate::workspace::{Workspace, WriteLock};

/// The topic model's file in the data directory.
pub const TOPICS_FILE: &str = "topics.json";

/// The topic names of the saved model, as the `topic` dimension spells them.
pub fn topic_names(workspace: &Workspace) -> Vec<String> {
    load_model(&workspace.data_dir())
        .map(|model| {
            model.topics.iter().map(|topic| format!("#{} {}", topic.id, topic.label())).collect()
        })
        .unwrap_or_default()
}

fn load_model(data_dir: &Path) -> Option<TopicModel> {
    let text = fs_err::read_to_string(data_dir.join(TOPICS_FILE)).ok()?;
    match serde_json::from_str(&text) {
        Ok(model) => Some(model),
        Err(error) => {
            tracing::warn!("ignoring an unreadable topic model ({error}); topics start again");
            None
        }
    }
}

fn save_model(data_dir: &Path, model: &TopicModel) -> Result<()> {
    let temporary = data_dir.join(format!("{TOPICS_FILE}.tmp"));
    fs_err::write(&temporary, serde_json::to_vec(model)?)?;
    fs_err::rename(&temporary, data_dir.join(TOPICS_FILE))?;
    Ok(())
}

/// The posts with their topics, from the workspace's saved model (updated with them) and
/// the shipped embedding table.
fn corpus<'a>(workspace: &Workspace, posts: &'a [waterline_model::Post]) -> Corpus<'a> {
    Corpus::build(
        posts,
        &workspace.config,
        load_model(&workspace.data_dir()),
        waterline_enrich::models::embeddings(),
        &TopicOptions::default(),
    )
}

/// The topic of every post (platform, id, `#id label`), for the `topic` dimension of
/// queries: updates the topic model as a report does, and caches the assignments beside it
/// for the store version they were made at.
pub async fn topic_assignments(
    workspace: &Workspace,
    store: &Store,
    analytics: &Analytics,
) -> Result<Vec<(String, String, String)>> {
    let data_dir = workspace.data_dir();
    let cache = data_dir.join("post_topics.json");
    let version = store.version();
    if let Ok(text) = fs_err::read_to_string(&cache)
        && let Ok((cached_version, rows)) =
            serde_json::from_str::<(Option<u64>, Vec<(String, String, String)>)>(&text)
        && cached_version == version
        && data_dir.join(TOPICS_FILE).exists()
    {
        return Ok(rows);
    }
    let posts = analytics.posts().await?;
    let corpus = corpus(workspace, &posts);
    let names: std::collections::HashMap<u32, String> = corpus
        .model
        .topics
        .iter()
        .map(|topic| (topic.id, format!("#{} {}", topic.id, topic.label())))
        .collect();
    let rows: Vec<(String, String, String)> = posts
        .iter()
        .zip(&corpus.labels)
        .filter_map(|(post, label)| {
            let name = names.get(&(*label)?)?;
            Some((post.platform.clone(), post.id.clone(), name.clone()))
        })
        .collect();
    if let Ok(_lock) = WriteLock::acquire(&data_dir) {
        if corpus.model_changed {
            save_model(&data_dir, &corpus.model)?;
        }
        let temporary = data_dir.join("post_topics.json.tmp");
        fs_err::write(&temporary, serde_json::to_vec(&(version, &rows))?)?;
        fs_err::rename(&temporary, &cache)?;
    }
    Ok(rows)
}

/// A report's JSON over these posts (the dashboard's and the API's), saving the updated
/// topic model as `report` does.
pub fn report_value(
    workspace: &Workspace,
    posts: &[waterline_model::Post],
    kind: waterline_server::ReportKind,
    from: Option<chrono::NaiveDate>,
    to: Option<chrono::NaiveDate>,
) -> Result<serde_json::Value> {
    let corpus = corpus(workspace, posts);
    if corpus.model_changed
        && let Ok(_lock) = WriteLock::acquire(&workspace.data_dir())
    {
        save_model(&workspace.data_dir(), &corpus.model)?;
    }
    Ok(match kind {
        waterline_server::ReportKind::Listening => {
            serde_json::to_value(reports::listening(&corpus, from, to))?
        }
        waterline_server::ReportKind::Gap => {
            serde_json::to_value(reports::gap(&corpus, &workspace.config, from, to))?
        }
        waterline_server::ReportKind::Audit => {
            serde_json::to_value(reports::audit(&corpus, from, to))?
        }
    })
}

/// Runs a report.
pub async fn report(workspace: &Workspace, args: &ReportArgs) -> Result<()> {
    use crate::cli::ReportFormat;
    if matches!(args.format, ReportFormat::Html | ReportFormat::Csv | ReportFormat::Pdf) {
        return export_view(workspace, args).await;
    }
    if !matches!(args.kind, ReportKind::Listening | ReportKind::Gap | ReportKind::Audit) {
        anyhow::bail!(
            "this view is a dashboard page: use --format html, csv or pdf (its figures are queries: waterline query)"
        );
    }
    let json = args.json || args.format == ReportFormat::Json;
    let data_dir = workspace.data_dir();
    let store = Store::open(&data_dir).await.context("cannot open the workspace store")?;
    let analytics = Analytics::open(&store).await?;
    let started = std::time::Instant::now();
    let posts = analytics.posts().await?;
    tracing::debug!(posts = posts.len(), seconds = started.elapsed().as_secs_f64(), "posts loaded");
    let corpus = corpus(workspace, &posts);
    tracing::debug!(seconds = started.elapsed().as_secs_f64(), "topics assigned");
    if corpus.model_changed {
        // Keep topic ids stable across runs; skip saving while an import holds the workspace.
        match WriteLock::acquire(&data_dir) {
            Ok(_lock) => save_model(&data_dir, &corpus.model)?,
            Err(_) => tracing::warn!("the workspace is busy: the updated topic model is not saved"),
        }
    }
    match args.kind {
        ReportKind::Listening => {
            let report = reports::listening(&corpus, args.from, args.to);
            if json {
                return output::json(&report);
            }
            print_listening(&report, args.limit);
        }
        ReportKind::Gap => {
            let report = reports::gap(&corpus, &workspace.config, args.from, args.to);
            if json {
                return output::json(&report);
            }
            print_gap(&report, args.limit);
        }
        ReportKind::Audit => {
            let report = reports::audit(&corpus, args.from, args.to);
            if json {
                return output::json(&report);
            }
            print_audit(&report, args.limit);
        }
        _ => {}
    }
    tracing::debug!(seconds = started.elapsed().as_secs_f64(), "report done");
    Ok(())
}

/// Writes a dashboard view as one self-contained HTML file, a CSV table or a PDF.
async fn export_view(workspace: &Workspace, args: &ReportArgs) -> Result<()> {
    use crate::cli::ReportFormat;
    use waterline_server::pages::{self, Mode, PageParams};
    let mut params = PageParams { from: args.from, to: args.to, ..PageParams::default() };
    for filter in &args.filters {
        let Some((field, value)) = filter.split_once('=') else {
            anyhow::bail!("--where `{filter}`: FIELD=VALUE");
        };
        let value = Some(value.to_owned());
        match field.trim() {
            "platform" => params.platform = value,
            "language" => params.language = value,
            "side" => params.side = value,
            "topic" => params.topic = value,
            other => anyhow::bail!(
                "--where `{other}`: the views filter on platform, language, side and topic"
            ),
        }
    }
    let served = crate::serve::Served::open(Workspace::open(Some(&workspace.root))?).await?;
    let app = waterline_server::App::new(served, waterline_server::ServeOptions::default());
    let path = args.kind.page();
    // The command line reads the workspace's files: it may see the PV queue.
    let access = pages::Access { pharmacovigilance: true, viewer: None };
    let (body, tables) = pages::render(&app, path, &params, args.pseudonymise, access)
        .await
        .map_err(|error| anyhow::anyhow!("{}", error.message))?;
    let brand = workspace.config.brand.clone();
    let write = |bytes: &[u8]| -> Result<()> {
        match &args.out {
            Some(out) => {
                fs_err::write(out, bytes)?;
                output::error(&format!("wrote `{}`", out.display()));
                Ok(())
            }
            None => {
                use std::io::Write as _;
                std::io::stdout().write_all(bytes)?;
                Ok(())
            }
        }
    };
    match args.format {
        ReportFormat::Csv => {
            let Some(table) = tables.get(args.table) else {
                anyhow::bail!(
                    "this view has {} tables (--table 0 to {})",
                    tables.len(),
                    tables.len().saturating_sub(1)
                );
            };
            write(table.csv().as_bytes())
        }
        ReportFormat::Html => {
            let html = pages::document(
                &brand,
                path,
                &params,
                &body,
                Mode::Export { masked: args.pseudonymise },
            );
            write(html.as_bytes())
        }
        _ => {
            let Some(out) = &args.out else { anyhow::bail!("--format pdf needs --out FILE") };
            let html = pages::document(
                &brand,
                path,
                &params,
                &body,
                Mode::Export { masked: args.pseudonymise },
            );
            print_pdf(&html, out)
        }
    }
}

/// Prints HTML to PDF with headless Chromium (Debian's `chromium`, or Chrome).
fn print_pdf(html: &str, out: &Path) -> Result<()> {
    let browser = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"]
        .iter()
        .find_map(|name| {
            std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths).map(|dir| dir.join(name)).find(|path| path.is_file())
            })
        })
        .context("a PDF needs headless Chromium: install it (Debian: apt install chromium), or export --format html and print that")?;
    let folder = tempfile::tempdir()?;
    let page = folder.path().join("report.html");
    fs_err::write(&page, html)?;
    let out =
        if out.is_absolute() { out.to_path_buf() } else { std::env::current_dir()?.join(out) };
    let status = std::process::Command::new(&browser)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer"])
        .arg(format!("--user-data-dir={}", folder.path().join("profile").display()))
        .arg(format!("--print-to-pdf={}", out.display()))
        .arg(format!("file://{}", page.display()))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .with_context(|| format!("cannot run `{}`", browser.display()))?;
    if !status.success() || !out.exists() {
        anyhow::bail!("`{}` could not print the PDF ({status})", browser.display());
    }
    output::error(&format!("wrote `{}`", out.display()));
    Ok(())
}

fn cut(text: &str, width: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= width {
        flat
    } else {
        format!("{}…", flat.chars().take(width.saturating_sub(1)).collect::<String>())
    }
}

fn period_line(period: &reports::Period) -> String {
    let day = |d: Option<chrono::NaiveDate>| d.map_or_else(|| "-".to_owned(), |d| d.to_string());
    format!("{} to {} ({})", day(period.from), day(period.to), period.time_zone)
}

fn print_notes(notes: &[String]) {
    for note in notes {
        output::line(&format!("note: {note}"));
    }
}

fn print_listening(report: &reports::ListeningReport, limit: usize) {
    output::line(&format!(
        "listening, {}: {} posts, {} from the audience; {} topics, {:.1}% outliers ({})",
        period_line(&report.period),
        report.posts,
        report.audience_posts,
        report.topics.len(),
        report.outlier_share * 100.0,
        report.embedding
    ));
    print_notes(&report.notes);
    output::line("");
    output::line(&format!(
        "{:>4}  {:<52} {:>8} {:>7} {:>6} {:>7} {:>6}",
        "id", "topic", "audience", "share", "own", "growth", "net"
    ));
    for topic in report.topics.iter().take(limit) {
        output::line(&format!(
            "{:>4}  {:<52} {:>8} {:>6.1}% {:>6} {:>+6.0}% {:>+6.2}",
            topic.id,
            cut(&topic.label, 52),
            topic.audience_posts,
            topic.audience_share * 100.0,
            topic.own_posts,
            topic.growth * 100.0,
            topic.sentiment.net
        ));
        if let Some(example) = topic.representative.first() {
            output::line(&format!("        e.g. \"{}\"", cut(&example.text, 90)));
        }
    }
    output::line("");
    output::line("unmet needs (audience questions, complaints and requests per topic):");
    output::line(&format!(
        "{:<10} {:<48} {:>6} {:>7} {:>9}",
        "need", "topic", "posts", "growth", "answered"
    ));
    for need in report.unmet_needs.iter().take(limit) {
        output::line(&format!(
            "{:<10} {:<48} {:>6} {:>+6.0}% {:>8.0}%",
            need.need,
            cut(&need.topic, 48),
            need.posts,
            need.growth * 100.0,
            need.answered_share * 100.0
        ));
        if let Some(example) = need.examples.first() {
            let state = if example.answered { "answered" } else { "unanswered" };
            output::line(&format!("        {state}: \"{}\"", cut(&example.post.text, 90)));
        }
    }
}

fn print_gap(report: &reports::GapReport, limit: usize) {
    output::line(&format!(
        "perception gap, {}: {} own and {} audience posts with a topic; Jensen–Shannon divergence {:.3} (0 same mix, 1 disjoint)",
        period_line(&report.period),
        report.own_posts,
        report.audience_posts,
        report.divergence
    ));
    print_notes(&report.notes);
    output::line("");
    output::line(&format!(
        "{:>4}  {:<50} {:>9} {:>7} {:>7}  {}",
        "id", "topic", "audience", "own", "gap", "verdict"
    ));
    for topic in report.topics.iter().take(limit) {
        output::line(&format!(
            "{:>4}  {:<50} {:>8.1}% {:>6.1}% {:>+6.1}  {}",
            topic.id,
            cut(&topic.label, 50),
            topic.audience_share * 100.0,
            topic.own_share * 100.0,
            topic.gap * 100.0,
            topic.verdict
        ));
    }
    if !report.declared_topics.is_empty() {
        output::line("");
        output::line(
            "declared topics (waterline.toml; the discovered topics named after them, summed):",
        );
        for topic in &report.declared_topics {
            output::line(&format!(
                "      {:<50} {:>8.1}% {:>6.1}% {:>+6.1}  {}",
                cut(&topic.name, 50),
                topic.audience_share * 100.0,
                topic.own_share * 100.0,
                topic.gap * 100.0,
                topic.verdict
            ));
        }
    }
    if !report.resonates.is_empty() {
        output::line("");
        output::line("what resonates (own topics by median reception percentile):");
        for topic in &report.resonates {
            output::line(&format!(
                "  {:<56} median percentile {:>3.0}, {} own posts",
                cut(&topic.label, 56),
                topic.own_median_percentile.unwrap_or(0.0),
                topic.own_posts
            ));
        }
    }
    if !report.competitors.is_empty() {
        output::line("");
        output::line("competitors against the audience:");
        for competitor in &report.competitors {
            let top: Vec<String> = competitor
                .top_topics
                .iter()
                .map(|(label, share)| format!("{} {:.0}%", cut(label, 30), share * 100.0))
                .collect();
            output::line(&format!(
                "  {:<20} {:>6} posts, divergence {:.3}; {}",
                competitor.name,
                competitor.posts,
                competitor.divergence,
                top.join(", ")
            ));
        }
    }
}

fn print_audit(report: &reports::AuditReport, limit: usize) {
    let labels: Vec<String> =
        report.labels.iter().map(|(label, count)| format!("{count} {label}")).collect();
    output::line(&format!(
        "content audit, {}: {} own posts ({})",
        period_line(&report.period),
        report.posts,
        labels.join(", ")
    ));
    print_notes(&report.notes);
    output::line("");
    for post in report.audited.iter().take(limit) {
        output::line(&format!(
            "{:<18} {:<8} {:<10} self-talk {:.2}  \"{}\"",
            post.post.created_at.format("%Y-%m-%d %H:%M"),
            post.post.platform,
            post.reception.label,
            post.self_talk,
            cut(&post.post.text, 70)
        ));
        output::line(&format!("        {}", post.reason));
    }
    output::line("");
    output::line("warm against frosty:");
    for line in &report.summary {
        output::line(&format!("  {line}"));
    }
}
