//! `waterline pv …`: the adapter over [`waterline_app::pv`], the pharmacovigilance queue.

use anyhow::{Context as _, Result, bail};
use chrono::Utc;
use waterline_app::pv::{
    self, ActError, Actor, CaseView, Reconciliation, Request, act, alerts, cases, coverage,
    draw_sample, events, evidence, export_csv, export_json, queue, read_receipts, reconcile,
    samples, view,
};
use waterline_app::workspace::Workspace;
use waterline_model::pv::{Case, Event, Status};

use crate::cli::PvAction;
use crate::output;

/// `waterline pv …`.
pub async fn command(workspace: &Workspace, action: PvAction) -> Result<()> {
    let store = waterline_store::Store::open(&workspace.data_dir())
        .await
        .context("cannot open the workspace store")?;
    let state = store.state();
    let config = &workspace.config;
    let now = Utc::now();
    let actor = &Actor::local();
    let status_filter = |status: &Option<String>| -> Result<Option<Status>> {
        status
            .as_deref()
            .map(|text| {
                Status::parse(text).with_context(|| {
                    format!("unknown status `{text}` (new, in_review, forwarded, not_a_case, pending_follow_up)")
                })
            })
            .transpose()
    };
    let apply = |case: String, action: &'static str, request: Request| async move {
        let detail = serde_json::json!({"request": format!("{request:?}")});
        match act(state, &case, actor, request).await {
            Ok(case) => {
                super::record(state, action, &case.id, detail).await?;
                output::line(&format!("{}: {}", case.id, describe(&case)));
                Ok(())
            }
            Err(ActError::Request(error)) => bail!("{error}"),
            Err(ActError::Other(error)) => Err(error),
        }
    };
    match action {
        PvAction::List { status, all, json } => {
            let wanted = status_filter(&status)?;
            let views: Vec<CaseView> = queue(cases(state).await?, config, now)?
                .into_iter()
                .filter(|view| match wanted {
                    Some(status) => view.case.status == status,
                    None => {
                        all || view.case.status.awaits_handoff()
                            || view.case.status == Status::PendingFollowUp
                    }
                })
                .collect();
            let detail = serde_json::json!({"status": status, "all": all, "cases": views.len()});
            super::record(state, "pv.list", "queue", detail).await?;
            if json {
                return output::json(&views);
            }
            if views.is_empty() {
                output::line("no cases in the queue");
            }
            for view in &views {
                let case = &view.case;
                let alerts: Vec<&str> =
                    view.alerts.iter().map(|alert| alert.kind.as_str()).collect();
                output::line(&format!(
                    "{}  {:<17} {:<7} {:<18} D0 {}  hand-off {}  due {} ({} d){}  {}",
                    case.id,
                    case.status.as_str(),
                    if case.serious { "SERIOUS" } else { "" },
                    case.categories.join(","),
                    view.clocks.day_zero,
                    view.clocks.handoff_due,
                    view.clocks.eu_due,
                    view.clocks.eu_days,
                    if alerts.is_empty() {
                        String::new()
                    } else {
                        format!("  [{}]", alerts.join(", "))
                    },
                    excerpt(&case.post.text, 60),
                ));
            }
            Ok(())
        }
        PvAction::Show { case, json } => {
            let opened =
                act(state, &case, actor, Request::View).await.map_err(|error| match error {
                    ActError::Request(error) => anyhow::anyhow!("{error}"),
                    ActError::Other(error) => error,
                })?;
            let view = view(opened, config, now)?;
            let history = events(state, Some(&case)).await?;
            super::record(state, "pv.view", &case, serde_json::json!({})).await?;
            if json {
                return output::json(&serde_json::json!({ "case": view, "events": history }));
            }
            print_case(&view, &history);
            Ok(())
        }
        PvAction::Assign { case, to } => apply(case, "pv.assign", Request::Assign { to }).await,
        PvAction::Decide { case, status, reason, note, reference } => {
            apply(case, "pv.decide", Request::Decide { status, reason, note, reference }).await
        }
        PvAction::FollowUp { case, note } => {
            apply(case, "pv.follow_up", Request::FollowUp { note }).await
        }
        PvAction::DayZero { case, at, reason } => {
            apply(case, "pv.day_zero", Request::DayZero { at, reason }).await
        }
        PvAction::Export { format, out, status } => {
            let wanted = status_filter(&status)?;
            let views: Vec<CaseView> = queue(cases(state).await?, config, now)?
                .into_iter()
                .filter(|view| wanted.is_none_or(|status| view.case.status == status))
                .collect();
            let text = match format.as_str() {
                "csv" => export_csv(&views)?,
                "json" => format!("{}\n", serde_json::to_string_pretty(&export_json(&views, now))?),
                other => bail!("unknown export format `{other}` (csv or json)"),
            };
            let detail =
                serde_json::json!({"format": format, "status": status, "cases": views.len()});
            super::record(state, "pv.export", "queue", detail).await?;
            match out {
                Some(path) => {
                    fs_err::write(&path, text)?;
                    output::line(&format!("{} case(s) written to {}", views.len(), path.display()));
                }
                None => output::line(text.trim_end_matches('\n')),
            }
            Ok(())
        }
        PvAction::Reconcile { receipts, from, to, json } => {
            if let Some(path) = receipts {
                let text = fs_err::read_to_string(&path)?;
                let (rows, problems) = read_receipts(&text)?;
                for problem in &problems {
                    output::error(&format!("{}: {problem}", path.display()));
                }
                let added = state.pv_add_receipts(&rows, now.timestamp_millis()).await?;
                if !json {
                    output::line(&format!(
                        "receipt log: {} read, {added} new, {} rejected",
                        rows.len() + problems.len(),
                        problems.len()
                    ));
                }
            }
            let day = |text: &Option<String>| -> Result<Option<chrono::NaiveDate>> {
                text.as_deref()
                    .map(|text| {
                        chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
                            .with_context(|| format!("`{text}` is not a date (YYYY-MM-DD)"))
                    })
                    .transpose()
            };
            let period = match (day(&from)?, day(&to)?) {
                (None, None) => None,
                (from, to) => Some((
                    from.unwrap_or(chrono::NaiveDate::MIN),
                    to.unwrap_or(chrono::NaiveDate::MAX),
                )),
            };
            let report = reconcile(&cases(state).await?, &state.pv_receipts().await?, period, now);
            super::record(
                state,
                "pv.reconciliation",
                "queue",
                serde_json::json!({"from": from, "to": to}),
            )
            .await?;
            if json {
                return output::json(&report);
            }
            print_reconciliation(&report);
            Ok(())
        }
        PvAction::Alerts { json } => {
            let session = waterline_app::measure::open(workspace).await?;
            let cases = cases(state).await?;
            let coverage = coverage(&session, config, now).await?;
            let alerts = alerts(&cases, &coverage, config, now)?;
            if json {
                return output::json(&alerts);
            }
            if alerts.is_empty() {
                output::line("no PV alerts");
            }
            for alert in &alerts {
                output::line(&format!(
                    "{:<8} {:<15} {}",
                    alert.severity, alert.kind, alert.message
                ));
            }
            Ok(())
        }
        PvAction::Coverage { json } => {
            let session = waterline_app::measure::open(workspace).await?;
            let coverage = coverage(&session, config, now).await?;
            if json {
                return output::json(&coverage);
            }
            if coverage.is_empty() {
                output::line(
                    "no owned channel registered: add [accounts] or [[pharmacovigilance.channels]] to waterline.toml",
                );
            }
            for channel in &coverage {
                output::line(&format!(
                    "{:<32} {:<8} {:>8} posts  last ingested {}{}",
                    channel.channel.name,
                    channel.channel.kind,
                    channel.posts,
                    channel.last_ingested.map_or_else(
                        || "never".to_owned(),
                        |at| at.format("%Y-%m-%d %H:%M").to_string()
                    ),
                    if channel.gap { "  GAP" } else { "" }
                ));
            }
            Ok(())
        }
        PvAction::Scan => {
            let session = waterline_app::measure::open(workspace).await?;
            let outcome = pv::scan(workspace, &session, now).await?;
            output::line(&format!(
                "{} post(s) screened, {} flagged, {} new case(s)",
                outcome.screened, outcome.flagged, outcome.opened
            ));
            Ok(())
        }
        PvAction::Open { post, reason, category } => {
            let session = waterline_app::measure::open(workspace).await?;
            let case_id =
                pv::open_case(workspace, &session, actor, &post, &reason, &category, now).await?;
            output::line(&format!("{post}: case {case_id} opened"));
            Ok(())
        }
        PvAction::Sample { size, days, list, json } => {
            if list {
                let samples = samples(state).await?;
                if json {
                    return output::json(&samples);
                }
                if samples.is_empty() {
                    output::line("no audit sample yet: waterline pv sample");
                }
                for sample in &samples {
                    output::line(&format!(
                        "{}  {} sampled, {} false negative(s) found, rate {:.1}%",
                        sample.name,
                        sample.size,
                        sample.false_negatives,
                        sample.rate * 100.0
                    ));
                }
                return Ok(());
            }
            let session = waterline_app::measure::open(workspace).await?;
            let drawn = draw_sample(&session, state, config, size, days, now).await?;
            if json {
                return output::json(&drawn);
            }
            output::line(&format!(
                "audit sample {}: {} of {} unflagged screened posts from {} to {}; read each, and open a case for any adverse event or special situation: waterline pv open PLATFORM:ID --reason \"FN audit {}\"",
                drawn.name, drawn.size, drawn.population, drawn.from, drawn.to, drawn.name
            ));
            for item in &drawn.items {
                output::line(&format!("{}  {}", item.post, excerpt(&item.text, 100)));
            }
            Ok(())
        }
        PvAction::Log { case, json } => {
            let log = events(state, case.as_deref()).await?;
            for event in &log {
                if json {
                    output::line(&serde_json::to_string(event)?);
                } else {
                    output::line(&format!(
                        "{}  {}  {:<12} {} ({})",
                        event.at.format("%Y-%m-%d %H:%M:%S"),
                        event.case_id,
                        event.action.kind(),
                        event.actor,
                        event.role
                    ));
                }
            }
            Ok(())
        }
    }
}

fn excerpt(text: &str, chars: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= chars {
        return flat;
    }
    let cut: String = flat.chars().take(chars).collect();
    format!("{cut}…")
}

fn describe(case: &Case) -> String {
    let mut text = case.status.as_str().to_owned();
    if let Some(reason) = &case.reason {
        text.push_str(&format!(" ({reason})"));
    }
    if let Some(assignee) = &case.assignee {
        text.push_str(&format!(", assigned to {assignee}"));
    }
    if !case.follow_ups.is_empty() {
        text.push_str(&format!(", {} follow-up(s)", case.follow_ups.len()));
    }
    text
}

fn print_case(view: &CaseView, history: &[Event]) {
    use crate::output::line;
    let case = &view.case;
    line(&format!(
        "case {}  {}{}",
        case.id,
        describe(case),
        if case.serious { "  SERIOUS" } else { "" }
    ));
    line(&format!(
        "post {}:{}  by {}  at {}{}",
        case.post.platform,
        case.post.id,
        case.post.author.as_deref().unwrap_or("?"),
        case.post.posted_at.to_rfc3339(),
        case.post.channel.as_deref().map(|channel| format!("  on {channel}")).unwrap_or_default()
    ));
    if case.post.text.trim().is_empty() {
        line(&format!(
            "  (no text: {} image(s) or video(s) to review, PV-16)",
            case.post.media_count
        ));
    } else {
        line(&format!("  {}", case.post.text));
    }
    if let Some(flags) = case.detection.get("flags").and_then(serde_json::Value::as_array) {
        for flag in flags {
            line(&format!(
                "flag {:<5} \"{}\"{}",
                flag.get("category").and_then(serde_json::Value::as_str).unwrap_or("?"),
                flag.pointer("/span/text").and_then(serde_json::Value::as_str).unwrap_or(""),
                flag.get("detail")
                    .and_then(serde_json::Value::as_str)
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default()
            ));
        }
    }
    for (name, presence) in &view.elements {
        let evidence = evidence(&case.detection, name);
        line(&format!(
            "element {name:<9} {presence:<9} {}",
            if evidence.is_empty() { String::new() } else { format!("\"{evidence}\"") }
        ));
    }
    line(&format!(
        "day zero {} ({})  hand-off due {}  EU due {} ({} d){}",
        view.clocks.day_zero,
        case.day_zero_basis,
        view.clocks.handoff_due,
        view.clocks.eu_due,
        view.clocks.eu_days,
        view.clocks.us_due.map(|due| format!("  US due {due}")).unwrap_or_default()
    ));
    for alert in &view.alerts {
        line(&format!("alert {}: {}", alert.kind, alert.message));
    }
    line(&format!("model {} score {:.3}", case.model, case.score));
    for event in history {
        line(&format!(
            "  {}  {:<12} {} ({})",
            event.at.format("%Y-%m-%d %H:%M:%S"),
            event.action.kind(),
            event.actor,
            event.role
        ));
    }
}

fn print_reconciliation(report: &Reconciliation) {
    use crate::output::line;
    line(&format!(
        "reconciliation generated {}{}",
        report.generated_at.format("%Y-%m-%d %H:%M UTC"),
        report
            .period
            .as_ref()
            .map(|(from, to)| format!(" for forwarding days {from} to {to}"))
            .unwrap_or_default()
    ));
    line(&format!(
        "forwarded: {}  acknowledged by PV: {}  missing in PV's log: {}  unknown to waterline: {}  awaiting hand-off: {}",
        report.forwarded,
        report.acknowledged,
        report.missing_in_pv.len(),
        report.unknown_to_waterline.len(),
        report.awaiting_handoff
    ));
    for row in &report.missing_in_pv {
        line(&format!(
            "missing  {}  forwarded {}  ref {}",
            row.case_id,
            row.forwarded_at.map(|at| at.to_rfc3339()).unwrap_or_default(),
            row.reference.as_deref().unwrap_or("-")
        ));
    }
    for reference in &report.unknown_to_waterline {
        line(&format!("unknown  {reference}"));
    }
}
