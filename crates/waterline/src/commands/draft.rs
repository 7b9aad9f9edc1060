//! `waterline check-draft`: the adapter over [`waterline_app::draft`]: reads the draft
//! from flags, a file or a content plan (CSV), and prints the verdict and the advisory
//! reception forecast. See `docs/adr/008-draft-check.md`.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context as _, Result, bail};
use serde::Serialize;
use waterline_app::draft::{
    DraftCheck, EXIT_NOT_PUBLISHABLE, EXIT_PUBLISHABLE, Forecast, ReceptionModel, check_context,
    exit_code, forecast_outcome,
};
use waterline_app::workspace::Workspace;
use waterline_enrich::draft::{
    Audience, CheckContext, Draft, DraftProduct, DraftReport, Media, check,
};
use waterline_model::config::CONFIG_FILE;

use crate::cli::CheckDraftArgs;
use crate::output;

/// The workspace in `dir` (or the current directory), or `None` when there is no
/// `waterline.toml` there: the check works without one.
fn optional_workspace(dir: Option<&Path>) -> Result<Option<Workspace>> {
    let root = match dir {
        Some(dir) => dir.to_path_buf(),
        None => std::env::current_dir().context("cannot read the current directory")?,
    };
    if !root.join(CONFIG_FILE).exists() {
        return Ok(None);
    }
    Workspace::open(Some(&root)).map(Some)
}

/// Runs `waterline check-draft`; returns the exit code.
pub fn check_draft(workspace_dir: Option<&Path>, args: &CheckDraftArgs) -> Result<u8> {
    let text = match (&args.text, &args.file) {
        _ if args.plan.is_some() => String::new(),
        (Some(text), _) => text.clone(),
        (None, Some(path)) if path.as_os_str() == "-" => {
            std::io::read_to_string(std::io::stdin()).context("cannot read standard input")?
        }
        (None, Some(path)) => fs_err::read_to_string(path)?,
        (None, None) => {
            bail!("give the draft with --text TEXT or --file FILE, or a plan with --plan FILE.csv")
        }
    };
    let workspace = optional_workspace(workspace_dir)?;
    let context = check_context(workspace.as_ref());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let model = match &workspace {
        Some(workspace) => runtime.block_on(async {
            match waterline_app::measure::open(workspace).await {
                Ok(session) => ReceptionModel::fit(&session, args.account.as_deref()).await,
                Err(error) => Err(error),
            }
        }),
        None => Err(anyhow::anyhow!(
            "no workspace (no `{CONFIG_FILE}` here): the forecast needs the account's own posts"
        )),
    };
    if let Some(plan) = &args.plan {
        return check_plan(plan, args, &context, &model);
    }
    let draft = draft_from_flags(text, args)?;
    let report = check(&draft, &context);
    let forecast = forecast_outcome(&model, &draft);
    let code = exit_code(report.status);
    if args.json {
        output::json(&DraftCheck::new(report, forecast))?;
    } else {
        output::line(&render(&report, &forecast));
    }
    Ok(code)
}

/// A draft from the command line's flags.
fn draft_from_flags(text: String, args: &CheckDraftArgs) -> Result<Draft> {
    let countries: Vec<String> = args
        .countries
        .iter()
        .map(|country| country.trim().to_owned())
        .filter(|country| !country.is_empty())
        .collect();
    let audience = match &args.audience {
        Some(audience) => Some(
            Audience::parse(audience)
                .with_context(|| format!("unknown audience `{audience}` (use public or hcp)"))?,
        ),
        None => None,
    };
    let media = match &args.media {
        Some(media) => Some(
            Media::parse(media)
                .with_context(|| format!("unknown media `{media}` (use image or video)"))?,
        ),
        None => None,
    };
    let products = args
        .products
        .iter()
        .map(|flag| DraftProduct::parse_flag(flag, &countries))
        .collect::<Result<Vec<_>, String>>()
        .map_err(|reason| anyhow::anyhow!("--product {reason}"))?;
    Ok(Draft {
        text,
        countries,
        audience,
        products,
        visa: args.visa.clone(),
        sponsored: args.sponsored,
        influencer: args.influencer,
        account: args.account.clone(),
        references: args.references.clone(),
        media,
    })
}

/// The forecast, or why there is none.
/// Cuts a text to `width` characters for a table cell.
fn cell(text: &str, width: usize) -> String {
    let flat: String = text.chars().map(|ch| if ch.is_control() { ' ' } else { ch }).collect();
    if flat.chars().count() <= width {
        return flat;
    }
    let cut: String = flat.chars().take(width.saturating_sub(1)).collect();
    format!("{cut}…")
}

/// The human rendering of a report and its forecast.
pub fn render(report: &DraftReport, forecast: &Result<Forecast, String>) -> String {
    let mut lines = vec![format!("status: {}", report.status.as_str())];
    if !report.products.is_empty() {
        lines.push(format!("products: {}", report.products.join(", ")));
    }
    if !report.findings.is_empty() {
        lines.push(String::new());
        lines.push(format!(
            "{:<8} {:<7} {:<9} {:<26} {}",
            "SEVERITY", "RULE", "JUR.", "SPAN", "MESSAGE / FIX"
        ));
        for finding in &report.findings {
            let span = format!(
                "\"{}\" {}..{}",
                cell(&finding.span.text, 14),
                finding.span.start,
                finding.span.end
            );
            lines.push(format!(
                "{:<8} {:<7} {:<9} {:<26} {}",
                finding.severity.as_str(),
                finding.rule,
                finding.jurisdiction,
                span,
                finding.message
            ));
            lines.push(format!("{:<53} fix: {}", "", finding.fix));
        }
    }
    if !report.needs_review.is_empty() {
        lines.push(String::new());
        lines.push("needs review (not checked by the engine):".to_owned());
        for item in &report.needs_review {
            lines.push(format!("  {:<7} {}", item.rule, item.reason));
        }
    }
    if !report.cannot_assess.is_empty() {
        lines.push(String::new());
        lines.push("cannot assess (missing metadata):".to_owned());
        for item in &report.cannot_assess {
            let required = if item.required { " [required]" } else { "" };
            lines.push(format!("  {:<7} {}{required}", item.rule, item.missing));
        }
    }
    if !report.links.is_empty() {
        lines.push(String::new());
        lines.push(format!("links, tags and hashtags to review: {}", report.links.join(" ")));
    }
    lines.push(String::new());
    match forecast {
        Ok(forecast) => lines.extend(render_forecast(forecast)),
        Err(reason) => lines.push(format!("reception forecast: none ({reason})")),
    }
    lines.join("\n")
}

fn render_forecast(forecast: &Forecast) -> Vec<String> {
    let mut lines = vec![format!(
        "reception forecast (advisory, never overrides the compliance status): percentile {:.0} of {} own posts{} (R² {:.2} in sample, {} cross-validated: {} trust; engagement per {})",
        forecast.percentile,
        forecast.posts,
        forecast.account.as_deref().map(|a| format!(" of @{a}")).unwrap_or_default(),
        forecast.r2,
        forecast.r2_cv.map_or_else(|| "n/a".to_owned(), |r2| format!("{r2:.2}")),
        forecast.trust,
        forecast.denominator,
    )];
    let drivers: Vec<String> = forecast
        .features
        .iter()
        .filter(|feature| feature.contribution.abs() >= 0.5)
        .take(6)
        .map(|feature| format!("{} {:+.1}", feature.name, feature.contribution))
        .collect();
    if !drivers.is_empty() {
        lines.push(format!("  drivers (percentile points): {}", drivers.join(", ")));
    }
    match &forecast.relevance {
        Some(relevance) => lines.push(format!(
            "  relevance to the audience: closer than {:.0}% of audience posts to their centroid (cosine {:.2}); shared words: {}",
            relevance.percentile,
            relevance.similarity,
            if relevance.shared_words.is_empty() { "none".to_owned() } else { relevance.shared_words.join(", ") }
        )),
        None => lines.push("  relevance to the audience: none (no audience posts or no embeddings)".to_owned()),
    }
    lines
}

/// One row of a content plan, checked.
#[derive(Debug, Serialize)]
pub struct PlanRow {
    /// Line of the CSV file (the header is line 1).
    pub line: u64,
    /// The `date` column.
    pub date: String,
    /// The `channel` column.
    pub channel: String,
    /// `PASS`, `WARN`, `CANNOT_ASSESS`, `BLOCK`, or `ERROR` when the row could not be read.
    pub status: String,
    /// Rule IDs of the findings.
    pub rules: Vec<String>,
    /// Why the row could not be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The full report.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<DraftReport>,
    /// The advisory forecast.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forecast: Option<Forecast>,
}

/// The value of a column, if the plan has it and the cell is not empty.
fn column<'r>(
    headers: &HashMap<String, usize>,
    record: &'r csv::StringRecord,
    name: &str,
) -> Option<&'r str> {
    headers
        .get(name)
        .and_then(|&index| record.get(index))
        .map(str::trim)
        .filter(|value| !value.is_empty())
}

fn parse_bool(value: &str, name: &str) -> Result<bool, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "y" | "x" | "oui" => Ok(true),
        "0" | "false" | "no" | "n" | "non" | "" => Ok(false),
        other => Err(format!("`{name}`: `{other}` is not yes/no")),
    }
}

/// A plan row's draft: its cells, the flags for the cells it leaves empty.
fn row_draft(
    headers: &HashMap<String, usize>,
    record: &csv::StringRecord,
    args: &CheckDraftArgs,
) -> Result<Draft, String> {
    let Some(text) = column(headers, record, "text") else {
        return Err("`text` is empty".to_owned());
    };
    let mut draft =
        draft_from_flags(text.to_owned(), &CheckDraftArgs { products: Vec::new(), ..args.clone() })
            .map_err(|error| format!("{error:#}"))?;
    if let Some(countries) = column(headers, record, "countries") {
        draft.countries = countries
            .split([',', ';', ' ', '|'])
            .map(str::trim)
            .filter(|country| !country.is_empty())
            .map(str::to_owned)
            .collect();
    }
    if let Some(audience) = column(headers, record, "audience") {
        draft.audience = Some(
            Audience::parse(audience)
                .ok_or_else(|| format!("`audience`: unknown `{audience}` (use public or hcp)"))?,
        );
    }
    let products: Vec<String> = match column(headers, record, "products") {
        Some(products) => products
            .split(';')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect(),
        None => args.products.clone(),
    };
    draft.products = products
        .iter()
        .map(|flag| DraftProduct::parse_flag(flag, &draft.countries))
        .collect::<Result<Vec<_>, String>>()
        .map_err(|reason| format!("`products`: {reason}"))?;
    if let Some(visa) = column(headers, record, "visa") {
        draft.visa = Some(visa.to_owned());
    }
    if let Some(value) = column(headers, record, "sponsored") {
        draft.sponsored = parse_bool(value, "sponsored")?;
    }
    if let Some(value) = column(headers, record, "influencer") {
        draft.influencer = parse_bool(value, "influencer")?;
    }
    if let Some(account) = column(headers, record, "account") {
        draft.account = Some(account.to_owned());
    }
    if let Some(references) = column(headers, record, "references") {
        draft.references = references
            .split('|')
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_owned)
            .collect();
    }
    if let Some(media) = column(headers, record, "media") {
        draft.media = Some(
            Media::parse(media)
                .ok_or_else(|| format!("`media`: unknown `{media}` (use image or video)"))?,
        );
    }
    Ok(draft)
}

/// Checks every row of a content plan.
fn check_plan(
    path: &Path,
    args: &CheckDraftArgs,
    context: &CheckContext,
    model: &Result<ReceptionModel>,
) -> Result<u8> {
    let file = fs_err::File::open(path)?;
    let mut reader =
        csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::Headers).from_reader(file);
    let headers: HashMap<String, usize> = reader
        .headers()
        .with_context(|| format!("cannot read the header of `{}`", path.display()))?
        .iter()
        .enumerate()
        .map(|(index, name)| {
            (name.trim().trim_start_matches('\u{feff}').to_ascii_lowercase(), index)
        })
        .collect();
    let missing: Vec<&str> = ["date", "channel", "text"]
        .into_iter()
        .filter(|name| !headers.contains_key(*name))
        .collect();
    if !missing.is_empty() {
        bail!(
            "`{}` has no column {} (a plan needs date,channel,text)",
            path.display(),
            missing.join(", ")
        );
    }
    let mut rows = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                let line = error.position().map_or(index as u64 + 2, csv::Position::line);
                rows.push(PlanRow {
                    line,
                    date: String::new(),
                    channel: String::new(),
                    status: "ERROR".to_owned(),
                    rules: Vec::new(),
                    error: Some(format!("{error}")),
                    report: None,
                    forecast: None,
                });
                continue;
            }
        };
        let line = record.position().map_or(index as u64 + 2, csv::Position::line);
        let date = column(&headers, &record, "date").unwrap_or_default().to_owned();
        let channel = column(&headers, &record, "channel").unwrap_or_default().to_owned();
        match row_draft(&headers, &record, args) {
            Ok(draft) => {
                let report = check(&draft, context);
                rows.push(PlanRow {
                    line,
                    date,
                    channel,
                    status: report.status.as_str().to_owned(),
                    rules: report.rule_ids(),
                    error: None,
                    forecast: forecast_outcome(model, &draft).ok(),
                    report: Some(report),
                });
            }
            Err(reason) => rows.push(PlanRow {
                line,
                date,
                channel,
                status: "ERROR".to_owned(),
                rules: Vec::new(),
                error: Some(reason),
                report: None,
                forecast: None,
            }),
        }
    }
    let publishable = rows.iter().all(|row| row.status == "PASS" || row.status == "WARN");
    if args.json {
        output::json(&rows)?;
    } else {
        output::line(&render_plan(&rows, model));
    }
    Ok(if publishable { EXIT_PUBLISHABLE } else { EXIT_NOT_PUBLISHABLE })
}

fn render_plan(rows: &[PlanRow], model: &Result<ReceptionModel>) -> String {
    let mut lines = vec![format!(
        "{:<5} {:<11} {:<12} {:<14} {:<10} {}",
        "LINE", "DATE", "CHANNEL", "STATUS", "FORECAST", "RULES / ERROR"
    )];
    for row in rows {
        let forecast = row
            .forecast
            .as_ref()
            .map_or_else(|| "-".to_owned(), |f| format!("p{:.0}", f.percentile));
        let detail = match &row.error {
            Some(error) => error.clone(),
            None => row.rules.join(" "),
        };
        lines.push(format!(
            "{:<5} {:<11} {:<12} {:<14} {:<10} {}",
            row.line,
            cell(&row.date, 11),
            cell(&row.channel, 12),
            row.status,
            forecast,
            detail
        ));
    }
    let blocked = rows.iter().filter(|row| row.status != "PASS" && row.status != "WARN").count();
    lines.push(format!("{} rows, {} not publishable as they are (BLOCK, CANNOT_ASSESS or ERROR); --json for the findings", rows.len(), blocked));
    if let Err(error) = model {
        lines.push(format!("reception forecast: none ({error:#})"));
    }
    lines.join("\n")
}
