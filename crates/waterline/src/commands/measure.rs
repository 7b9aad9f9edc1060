//! `waterline metrics`, `query`, `baseline`, `compare`, `milestone` and `kpi`: adapters
//! over [`waterline_app::measure`] that parse flags and print.

use anyhow::Result;
use waterline_analytics::compare::Baseline;
use waterline_analytics::metrics;
use waterline_analytics::query::{self, Answer, Context, Query};
use waterline_app::backend::{NewBaseline, NewMilestone};
use waterline_app::measure;
use waterline_app::workspace::Workspace;

use crate::cli::{BaselineAction, CompareArgs, KpiAction, MetricsArgs, MilestoneAction, QueryArgs};
use crate::output;

fn format_value(value: Option<f64>, unit: &str) -> String {
    match value {
        None => "unknown".into(),
        Some(v) if unit == "count" && v.fract() == 0.0 => format!("{v:.0}"),
        Some(v) if unit == "share" => format!("{:.1}%", v * 100.0),
        Some(v) if unit == "percent" => format!("{v:.2}%"),
        Some(v) => format!("{v:.2}"),
    }
}

fn unit_of(name: &str) -> &'static str {
    match metrics::find(name) {
        Some(metric) => metric.unit,
        None if name.starts_with("kpi_share:") => "share",
        None => "number",
    }
}

/// Prints an answer as a table.
fn print_answer(answer: &Answer) {
    let mut header: Vec<String> = answer.dimensions.clone();
    header.extend(answer.metrics.iter().cloned());
    let mut rows: Vec<Vec<String>> = vec![header];
    for row in &answer.rows {
        let mut cells = row.keys.clone();
        for (name, value) in answer.metrics.iter().zip(&row.values) {
            cells.push(format_value(*value, unit_of(name)));
        }
        rows.push(cells);
    }
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0).min(60))
        .collect();
    for (index, row) in rows.iter().enumerate() {
        let cells: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(i, cell)| {
                let cell: String = cell.chars().take(60).collect();
                if i < answer.dimensions.len() {
                    format!("{cell:<width$}", width = widths[i])
                } else {
                    format!("{cell:>width$}", width = widths[i])
                }
            })
            .collect();
        output::line(cells.join("  ").trim_end());
        if index == 0 {
            output::line(&widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>().join("  "));
        }
    }
    for note in &answer.notes {
        output::line(&format!("note: {note}"));
    }
}

/// `waterline metrics`.
pub fn metrics(args: &MetricsArgs) -> Result<()> {
    if args.json {
        let dimensions: Vec<serde_json::Value> = query::DIMENSIONS
            .iter()
            .map(|(name, meaning)| serde_json::json!({"name": name, "meaning": meaning}))
            .collect();
        return output::json(&serde_json::json!({
            "metrics": metrics::catalogue(),
            "dimensions": dimensions,
            "business": "kpi:SERIES (sum of an imported series) and kpi_share:SERIES (the brand's share against the panel)",
        }));
    }
    for metric in metrics::catalogue() {
        output::line(&format!("{} ({}, {})", metric.name, metric.label, metric.unit));
        output::line(&format!("    {}", metric.definition));
        let denominator = if metric.denominator.is_empty() { "-" } else { metric.denominator };
        output::line(&format!("    numerator: {}; denominator: {denominator}", metric.numerator));
        let scope = if metric.scope.is_empty() {
            "every row".to_owned()
        } else {
            metric.scope.iter().map(|(f, v)| format!("{f}={v}")).collect::<Vec<_>>().join(", ")
        };
        output::line(&format!("    time basis: {}; default scope: {scope}", metric.time_basis));
    }
    output::line("");
    output::line(
        "business series: kpi:SERIES (sum), kpi_share:SERIES (the brand's share against the panel)",
    );
    output::line("dimensions:");
    for (name, meaning) in query::DIMENSIONS {
        output::line(&format!("  {name:<10} {meaning}"));
    }
    Ok(())
}

/// `waterline query`.
pub async fn query(workspace: &Workspace, args: &QueryArgs) -> Result<()> {
    let request = Query {
        metrics: args.metrics.clone(),
        by: args.by.clone(),
        filters: waterline_app::measure::parse_filters(&args.filters)?,
        from: args.from,
        to: args.to,
        limit: args.limit,
        parts: false,
    };
    if args.explain {
        let mut context = Context::from_config(&workspace.config);
        context.topics = true;
        context.rollup = !args.scan;
        let plan = query::plan(&request, &context)?;
        for statement in &plan.statements {
            output::line(&format!("-- {:?}: {}", statement.family, statement.metrics.join(", ")));
            output::line(&format!("{};", statement.sql));
        }
        return Ok(());
    }
    let mut session = measure::open(workspace).await?;
    session.context.rollup = !args.scan;
    let started = std::time::Instant::now();
    let answer = session.answer(workspace, &request).await?;
    if args.timing {
        output::error(&format!("query: {:.1} ms", started.elapsed().as_secs_f64() * 1000.0));
    }
    if args.json {
        return output::json(&serde_json::json!({
            "dimensions": answer.dimensions,
            "metrics": answer.metrics,
            "from": args.from,
            "to": args.to,
            "time_zone": workspace.config.time_zone,
            "where": request.filters.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "rows": answer.objects(),
            "definitions": metrics::definitions(&answer.metrics),
            "notes": answer.notes,
        }));
    }
    print_answer(&answer);
    Ok(())
}

/// `waterline baseline …`.
pub async fn baseline(workspace: &Workspace, action: BaselineAction) -> Result<()> {
    let state = workspace.state().await?;
    match action {
        BaselineAction::Create { name, from, to, filters, replace, json } => {
            let session = measure::open(workspace).await?;
            let request = NewBaseline { name: name.clone(), from, to, filters };
            let who = super::cli_principal();
            let frozen =
                measure::create_baseline(workspace, &session, &request, replace, &who).await?;
            if json {
                return output::json(&measure::summary(&frozen));
            }
            output::line(&format!(
                "froze {} metrics as baseline `{name}` ({from} to {to}); compare with: waterline compare --baseline {name} --from … --to …",
                frozen.metrics.len()
            ));
            print_baseline(&frozen);
        }
        BaselineAction::List { json } => {
            let listed = measure::list_baselines(&state).await?;
            if json {
                return output::json(&listed);
            }
            if listed.is_empty() {
                output::line(
                    "no baselines yet: waterline baseline create NAME --from YYYY-MM-DD --to YYYY-MM-DD",
                );
            }
            for entry in listed {
                if let Some(error) = &entry.error {
                    output::line(&format!("{}  DAMAGED: {error}", entry.name));
                    continue;
                }
                let day =
                    |d: Option<chrono::NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
                output::line(&format!(
                    "{}  {} to {}  {} metrics  {:?}",
                    entry.name,
                    day(entry.from),
                    day(entry.to),
                    entry.metrics,
                    entry.filters
                ));
            }
        }
        BaselineAction::Show { name, json } => {
            let baseline = measure::show_baseline(&state, &name).await?;
            if json {
                return output::json(&baseline);
            }
            output::line(&format!(
                "baseline `{name}`: {} to {}, frozen {}",
                baseline.from, baseline.to, baseline.created_at
            ));
            print_baseline(&baseline);
        }
        BaselineAction::Delete { name } => {
            measure::delete_baseline(&state, &name, &super::cli_principal()).await?;
            output::line(&format!("deleted baseline `{name}`"));
        }
    }
    Ok(())
}

fn print_baseline(baseline: &Baseline) {
    for frozen in &baseline.metrics {
        let unit = unit_of(&frozen.metric);
        output::line(&format!("  {:<36} {:>12}", frozen.metric, format_value(frozen.value, unit)));
    }
}

/// `waterline compare`.
pub async fn compare(workspace: &Workspace, args: &CompareArgs) -> Result<()> {
    let session = measure::open(workspace).await?;
    let comparison =
        measure::compare_with(workspace, &session, &args.baseline, args.from, args.to).await?;
    if args.json {
        return output::json(&comparison);
    }
    let baseline = &comparison.baseline;
    output::line(&format!(
        "{} to {} against baseline `{}` ({} to {}); 95% bootstrap intervals",
        args.from, args.to, baseline.name, baseline.from, baseline.to
    ));
    output::line(&format!(
        "{:<36} {:<10} {:>11} {:>11} {:>11} {:>25}  ",
        "metric", "compared", "baseline", "current", "change", "95% interval"
    ));
    for change in &comparison.changes {
        let unit = match unit_of(&change.metric) {
            "count" => "number",
            other => other,
        };
        let interval = match (change.low, change.high) {
            (Some(low), Some(high)) => {
                format!("[{}, {}]", format_value(Some(low), unit), format_value(Some(high), unit))
            }
            _ => "-".into(),
        };
        output::line(&format!(
            "{:<36} {:<10} {:>11} {:>11} {:>11} {:>25}  {}{}",
            change.metric,
            change.compared,
            format_value(change.baseline, unit),
            format_value(change.current, unit),
            format_value(change.change, unit),
            interval,
            if change.significant { "significant" } else { "" },
            if change.definition_changed { " (definition changed since the baseline)" } else { "" },
        ));
    }
    Ok(())
}

/// `waterline milestone …`.
pub async fn milestone(workspace: &Workspace, action: MilestoneAction) -> Result<()> {
    let state = workspace.state().await?;
    match action {
        MilestoneAction::Add { name, metric, target, by, since, filters, replace } => {
            let request = NewMilestone { name: name.clone(), metric, target, by, since, filters };
            let who = super::cli_principal();
            measure::add_milestone(workspace, &state, request, replace, &who).await?;
            output::line(&format!(
                "added milestone `{name}`; see it with: waterline milestone status"
            ));
        }
        MilestoneAction::List { json } => {
            let session = measure::open(workspace).await?;
            let all = measure::milestones(workspace, &session).await?;
            if json {
                return output::json(&all);
            }
            if all.is_empty() {
                output::line(
                    "no milestones: waterline milestone add NAME --metric M --target T --by YYYY-MM-DD",
                );
            }
            for m in all {
                output::line(&format!(
                    "{}  {} {} by {}{}  ({})",
                    m.name,
                    m.metric,
                    m.target,
                    m.by,
                    if m.filters.is_empty() {
                        String::new()
                    } else {
                        format!(" where {}", m.filters.join(" "))
                    },
                    m.source
                ));
            }
        }
        MilestoneAction::Status { name, as_of, json } => {
            let session = measure::open(workspace).await?;
            let statuses =
                measure::milestone_statuses(workspace, &session, name.as_deref(), as_of).await?;
            if json {
                return output::json(&statuses);
            }
            for status in statuses {
                let m = &status.milestone;
                let unit = unit_of(&m.metric);
                output::line(&format!(
                    "{}: {} → target {} by {} — {}",
                    m.name,
                    m.metric,
                    format_value(Some(m.target), unit),
                    m.by,
                    status.verdict.to_uppercase()
                ));
                output::line(&format!(
                    "    now {} (weekly), start {}, progress {}, projected {}",
                    format_value(status.current, unit),
                    format_value(status.start, unit),
                    status.progress.map_or("-".into(), |p| format!("{:.0}%", p * 100.0)),
                    format_value(status.projected, unit)
                ));
                output::line(&format!("    {}", status.explanation));
            }
        }
        MilestoneAction::Remove { name } => {
            measure::remove_milestone(&state, &name, &super::cli_principal()).await?;
            output::line(&format!("removed milestone `{name}`"));
        }
    }
    Ok(())
}

/// `waterline kpi …`.
pub async fn kpi(workspace: &Workspace, action: KpiAction) -> Result<()> {
    let state = workspace.state().await?;
    match action {
        KpiAction::Import { file, json } => {
            let imported = measure::import_kpis(&state, &file).await?;
            let detail = serde_json::json!({"report": imported.report});
            super::record(&state, "kpi.import", &file.display().to_string(), detail).await?;
            if json {
                return output::json(&imported);
            }
            output::line(&format!("{}: {}", file.display(), imported.report.summary()));
            for reject in imported.rejects.iter().take(10) {
                output::line(&format!(
                    "  rejected line {}: {}: {}",
                    reject.position.line.unwrap_or(0),
                    reject.field,
                    reject.reason
                ));
            }
            if imported.rejects.len() > 10 {
                output::line(&format!(
                    "  … see all with: waterline rejects --run {}",
                    imported.run
                ));
            }
        }
        KpiAction::List { json } => {
            let listed = measure::kpi_series(workspace, &state).await?;
            if json {
                return output::json(&listed);
            }
            if listed.is_empty() {
                output::line(
                    "no business series: waterline kpi import FILE.csv (date, metric, value[, product][, competitor])",
                );
            }
            for entry in listed {
                output::line(&format!(
                    "{}: {} points, {} to {}, total {}, panel {:?}",
                    entry.series, entry.points, entry.first, entry.last, entry.total, entry.panel
                ));
            }
        }
        KpiAction::Correlate { series, metric, filters, bucket, max_lag, from, to, json } => {
            let session = measure::open(workspace).await?;
            let request =
                measure::CorrelateRequest { series, metric, filters, bucket, max_lag, from, to };
            let found = measure::correlate(workspace, &session, &request).await?;
            if json {
                return output::json(&found);
            }
            output::line(&format!(
                "{} against business series `{}`, by {}; {}",
                found.metric, found.series, found.bucket, found.caution
            ));
            output::line(&format!("{:>4} {:>4} {:>7} {:>18}", "lag", "n", "r", "95% interval"));
            for correlation in &found.lags {
                let interval = match (correlation.low, correlation.high) {
                    (Some(low), Some(high)) => format!("[{low:.2}, {high:.2}]"),
                    _ => "-".into(),
                };
                output::line(&format!(
                    "{:>4} {:>4} {:>7} {interval:>18}{}",
                    correlation.lag,
                    correlation.n,
                    correlation.r.map_or("-".into(), |r| format!("{r:.2}")),
                    if found.strongest_lag == Some(correlation.lag) { "  strongest" } else { "" }
                ));
            }
        }
    }
    Ok(())
}
