//! `waterline report …`: a report as text tables or JSON (the adapter over
//! [`waterline_app::report`]), or a dashboard view written as HTML, CSV or PDF.

use std::path::Path;

use anyhow::{Context, Result};
use waterline_analytics::Analytics;
use waterline_analytics::reports;
use waterline_app::report::Report;
use waterline_app::workspace::Workspace;
use waterline_store::Store;

use crate::cli::{ReportArgs, ReportKind};
use crate::output;

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
    let kind = match args.kind {
        ReportKind::Listening => waterline_app::backend::ReportKind::Listening,
        ReportKind::Gap => waterline_app::backend::ReportKind::Gap,
        _ => waterline_app::backend::ReportKind::Audit,
    };
    let store =
        Store::open(&workspace.data_dir()).await.context("cannot open the workspace store")?;
    let analytics = Analytics::open(&store).await?;
    let mut topic = None;
    for filter in &args.filters {
        match filter.split_once('=') {
            Some(("topic", value)) => topic = Some(value.to_owned()),
            _ => anyhow::bail!("--where `{filter}`: a report filters on topic=ID, NAME or WORDS"),
        }
    }
    let focus = waterline_app::report::focus(workspace, topic.as_deref())?;
    let started = std::time::Instant::now();
    let request = waterline_app::report::ReportRequest {
        kind,
        from: args.from,
        to: args.to,
        focus,
        audited: args.audited,
    };
    let report =
        waterline_app::report::cached(workspace, &analytics, store.version(), &request).await?;
    if json {
        return output::json(&report);
    }
    match &report {
        Report::Listening(report) => print_listening(report, args.limit),
        Report::Gap(report) => print_gap(report, args.limit),
        Report::Audit(report) => print_audit(report, args.limit),
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
    let served =
        waterline_app::service::Served::open(Workspace::open(Some(&workspace.root))?).await?;
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
