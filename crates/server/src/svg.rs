//! Charts as inline SVG, drawn on the server: no script, no font download, readable on a
//! laptop and in print (the page's font, dark strokes on white, values written beside bars).

use std::fmt::Write as _;

use chrono::{Datelike as _, Days, Months, NaiveDate};
use html_escape::{encode_double_quoted_attribute as attr, encode_text as esc};

/// Series colours: the brand, the audience, then the others (colour-blind safe).
pub const PALETTE: &[&str] =
    &["#1f5f99", "#d9822b", "#4d9a6a", "#8e5ea2", "#b5474b", "#6b6b6b", "#c9a227", "#2aa1b3"];

/// A series' colour: the brand's sides keep theirs on every chart, others take the palette.
pub fn colour(name: &str, index: usize) -> &'static str {
    match name {
        "own" | "own posts" => PALETTE[0],
        "audience" | "audience posts" => PALETTE[1],
        "competitor" => PALETTE[5],
        "target" => "#b5474b",
        _ => PALETTE[index % PALETTE.len()],
    }
}

/// Formats a value for people by its unit (`count`, `share`, `percent`, `hours`, other).
pub fn format(value: Option<f64>, unit: &str) -> String {
    let Some(v) = value else { return "unknown".into() };
    if !v.is_finite() {
        return "unknown".into();
    }
    match unit {
        "count" if v.fract() == 0.0 => thousands(v),
        "count" => format!("{v:.1}"),
        "share" => format!("{:.1}%", v * 100.0),
        "percent" => format!("{v:.2}%"),
        "hours" => format!("{v:.1} h"),
        _ if v.abs() >= 100.0 => thousands(v.round()),
        _ => format!("{v:.2}"),
    }
}

fn thousands(v: f64) -> String {
    let digits = format!("{:.0}", v.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if v < 0.0 { format!("-{out}") } else { out }
}

/// A "nice" upper bound and step for an axis from 0 to `max`.
fn nice_axis(max: f64) -> (f64, f64) {
    if max.is_nan() || max <= 0.0 || !max.is_finite() {
        return (1.0, 0.25);
    }
    let raw = max / 4.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude);
    ((max / step).ceil() * step, step)
}

/// One line of a line chart.
#[derive(Debug, Clone)]
pub struct Series {
    /// Its name in the legend.
    pub name: String,
    /// (x label, value); `None` is a gap.
    pub points: Vec<(String, Option<f64>)>,
    /// Per point, the post list behind it (`/posts?…`); empty: no links.
    pub links: Vec<Option<String>>,
}

/// The time bucket a line chart's x labels name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    /// A local day, `YYYY-MM-DD`.
    Day,
    /// A local week, named by its Monday (`YYYY-MM-DD`).
    Week,
    /// A local month, `YYYY-MM`.
    Month,
}

impl Bucket {
    /// The first day of the bucket a label names; `None` when the label is not a date.
    pub fn start(self, label: &str) -> Option<NaiveDate> {
        match self {
            Bucket::Day | Bucket::Week => NaiveDate::parse_from_str(label, "%Y-%m-%d").ok(),
            Bucket::Month => {
                let month: String = label.chars().take(7).collect();
                NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d").ok()
            }
        }
    }

    /// The first day after the bucket that starts on `start`.
    pub fn next(self, start: NaiveDate) -> NaiveDate {
        match self {
            Bucket::Day => start + Days::new(1),
            Bucket::Week => start + Days::new(7),
            Bucket::Month => start + Months::new(1),
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Bucket::Day => "day",
            Bucket::Week => "week",
            Bucket::Month => "month",
        }
    }
}

/// The x axis of a line chart over time: positions follow the dates, and a bucket the
/// period in force covers only in part is drawn as partial (a dashed segment to a hollow
/// point), not as a normal point: a week with two days of data is not a plunge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeAxis {
    /// What the labels name.
    pub bucket: Bucket,
    /// The first day of the period in force, when it has one: a bucket that starts before
    /// it is partial.
    pub first_day: Option<NaiveDate>,
    /// The last day of data in the period in force: a bucket that ends after it is partial.
    pub last_day: Option<NaiveDate>,
}

impl TimeAxis {
    /// An axis of `bucket`s with no partial bucket (complete buckets only).
    pub fn complete(bucket: Bucket) -> TimeAxis {
        TimeAxis { bucket, first_day: None, last_day: None }
    }

    /// The days of the bucket starting on `start` that the period covers, when it covers
    /// only some of them: (first, last).
    fn partial(&self, start: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
        let last_of_bucket = self.bucket.next(start).pred_opt()?;
        let first = self.first_day.filter(|first| *first > start).unwrap_or(start);
        let last = self.last_day.filter(|last| *last < last_of_bucket).unwrap_or(last_of_bucket);
        (first != start || last != last_of_bucket).then_some((first, last))
    }
}

/// A line chart over shared x labels (the first series' labels). When every label is a
/// date of the axis' bucket, x is proportional to time (ten years with no post take ten
/// years of width, not one step), lines join adjacent buckets only, and partial buckets
/// are marked; otherwise the labels are evenly spaced.
pub fn lines(title: &str, series: &[Series], unit: &str, axis: &TimeAxis) -> String {
    let (width, height, left, right, top, bottom) = (760.0, 260.0, 64.0, 36.0, 28.0, 44.0);
    let labels: Vec<&str> = series
        .first()
        .map(|s| s.points.iter().map(|(l, _)| l.as_str()).collect())
        .unwrap_or_default();
    let max =
        series.iter().flat_map(|s| s.points.iter().filter_map(|(_, v)| *v)).fold(0.0f64, f64::max);
    let (top_value, step) = nice_axis(max);
    let plot_w = width - left - right;
    let plot_h = height - top - bottom;
    let starts: Option<Vec<NaiveDate>> =
        labels.iter().map(|label| axis.bucket.start(label)).collect();
    let starts = starts.filter(|starts| !starts.is_empty());
    let positions: Vec<f64> = match &starts {
        Some(starts) => {
            let first = starts.iter().min().copied().unwrap_or_default();
            let last = starts.iter().max().copied().unwrap_or_default();
            let span = (last - first).num_days() as f64;
            starts
                .iter()
                .map(|day| {
                    if span > 0.0 {
                        left + plot_w * (*day - first).num_days() as f64 / span
                    } else {
                        left + plot_w / 2.0
                    }
                })
                .collect()
        }
        None => {
            let n = labels.len().max(2) as f64 - 1.0;
            (0..labels.len()).map(|i| left + plot_w * i as f64 / n).collect()
        }
    };
    let x = |i: usize| positions.get(i).copied().unwrap_or(left);
    // Two points are joined when nothing lies between them: the next bucket on a time
    // axis (a bucket with no row is no data, not a straight line across it).
    let joined = |i: usize| match &starts {
        Some(starts) => axis.bucket.next(starts[i - 1]) == starts[i],
        None => true,
    };
    let partial: Vec<Option<(NaiveDate, NaiveDate)>> = match &starts {
        Some(starts) => starts.iter().map(|start| axis.partial(*start)).collect(),
        None => vec![None; labels.len()],
    };
    let y = |v: f64| top + plot_h * (1.0 - v / top_value);
    let mut svg = open(width, height, title);
    axis_lines(&mut svg, top_value, step, unit, left, width - right, &y);
    match &starts {
        Some(starts) => {
            let first = starts.iter().min().copied().unwrap_or_default();
            let last = starts.iter().max().copied().unwrap_or_default();
            let span = (last - first).num_days() as f64;
            for (day, label) in time_ticks(first, last) {
                let tick_x = if span > 0.0 {
                    left + plot_w * (day - first).num_days() as f64 / span
                } else {
                    left + plot_w / 2.0
                };
                let _ = write!(
                    svg,
                    r##"<line x1="{tick_x:.1}" y1="{y0:.1}" x2="{tick_x:.1}" y2="{y1:.1}" stroke="#9aa5b1"/><text x="{tick_x:.1}" y="{:.1}" class="tick" text-anchor="middle">{}</text>"##,
                    height - bottom + 16.0,
                    esc(&label),
                    y0 = height - bottom,
                    y1 = height - bottom + 4.0,
                );
            }
        }
        None => {
            let every = (labels.len() / 8).max(1);
            for (i, label) in labels.iter().enumerate() {
                if i % every == 0 {
                    let _ = write!(
                        svg,
                        r#"<text x="{:.1}" y="{:.1}" class="tick" text-anchor="middle">{}</text>"#,
                        x(i),
                        height - bottom + 16.0,
                        esc(label)
                    );
                }
            }
        }
    }
    let mut any_partial = false;
    for (index, s) in series.iter().enumerate() {
        let colour = colour(&s.name, index);
        let mut solid = String::new();
        let mut dashed = String::new();
        let mut pen_at: Option<usize> = None;
        for i in 1..s.points.len() {
            let (Some(a), Some(b)) = (s.points[i - 1].1, s.points[i].1) else { continue };
            if !joined(i) {
                continue;
            }
            let is_partial = partial.get(i - 1).is_some_and(Option::is_some)
                || partial.get(i).is_some_and(Option::is_some);
            if is_partial {
                let _ = write!(dashed, "M{:.1},{:.1} L{:.1},{:.1} ", x(i - 1), y(a), x(i), y(b));
                continue;
            }
            if pen_at != Some(i - 1) {
                let _ = write!(solid, "M{:.1},{:.1} ", x(i - 1), y(a));
            }
            let _ = write!(solid, "L{:.1},{:.1} ", x(i), y(b));
            pen_at = Some(i);
        }
        if !solid.is_empty() {
            let _ = write!(
                svg,
                r#"<path d="{}" fill="none" stroke="{colour}" stroke-width="2"/>"#,
                solid.trim_end()
            );
        }
        if !dashed.is_empty() {
            let _ = write!(
                svg,
                r#"<path class="partial" d="{}" fill="none" stroke="{colour}" stroke-width="2" stroke-dasharray="5 4"/>"#,
                dashed.trim_end()
            );
        }
        for (i, (label, value)) in s.points.iter().enumerate() {
            let Some(v) = value else { continue };
            let shown = format!("{}: {} {}", s.name, label, format(Some(*v), unit));
            // A point opens the posts behind it.
            let link = s.links.get(i).cloned().flatten();
            if let Some(href) = &link {
                let _ = write!(svg, r#"<a class="posts-link" href="{}">"#, attr(href));
            }
            match partial.get(i).copied().flatten() {
                Some((first, last)) => {
                    any_partial = true;
                    let _ = write!(
                        svg,
                        r##"<circle class="partial" cx="{:.1}" cy="{:.1}" r="3.5" fill="#ffffff" stroke="{colour}" stroke-width="1.5"><title>{} (partial {}: {first} to {last} only)</title></circle>"##,
                        x(i),
                        y(*v),
                        esc(&shown),
                        axis.bucket.noun()
                    );
                }
                None => {
                    let _ = write!(
                        svg,
                        r#"<circle cx="{:.1}" cy="{:.1}" r="{}" fill="{colour}"><title>{}</title></circle>"#,
                        x(i),
                        y(*v),
                        if link.is_some() { "3.5" } else { "2.5" },
                        esc(&shown)
                    );
                }
            }
            if link.is_some() {
                svg.push_str("</a>");
            }
        }
        let lx = left + 8.0 + 170.0 * index as f64;
        let _ = write!(
            svg,
            r#"<rect x="{lx:.1}" y="6" width="12" height="12" fill="{colour}"/><text x="{:.1}" y="16" class="legend">{}</text>"#,
            lx + 16.0,
            esc(&s.name)
        );
    }
    if any_partial {
        let (lx, ly) = (width - right - 380.0, height - 6.0);
        let _ = write!(
            svg,
            r##"<g class="partial-legend"><line x1="{lx:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#5b6775" stroke-width="2" stroke-dasharray="5 4"/><circle cx="{:.1}" cy="{:.1}" r="3.5" fill="#ffffff" stroke="#5b6775" stroke-width="1.5"/><text x="{:.1}" y="{ly:.1}" class="legend">partial {}: only some of its days are in the period</text></g>"##,
            ly - 4.0,
            lx + 22.0,
            ly - 4.0,
            lx + 22.0,
            ly - 4.0,
            lx + 30.0,
            axis.bucket.noun()
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Tick dates and labels for a time axis from `first` to `last`: at most eight, on
/// calendar boundaries (days, Mondays, month starts, year starts).
fn time_ticks(first: NaiveDate, last: NaiveDate) -> Vec<(NaiveDate, String)> {
    if first >= last {
        return vec![(first, first.to_string())];
    }
    let steps: &[(u32, bool)] = &[
        (1, false),
        (7, false),
        (14, false),
        (1, true),
        (3, true),
        (6, true),
        (12, true),
        (24, true),
        (60, true),
        (120, true),
        (240, true),
        (600, true),
    ];
    let mut ticks = Vec::new();
    for (step, months) in steps {
        ticks.clear();
        if *months {
            let mut day = first.with_day(1).unwrap_or(first);
            while day <= last {
                let index = day.year() * 12 + day.month0() as i32;
                if day >= first && index.rem_euclid(*step as i32) == 0 {
                    let label = if *step >= 12 {
                        day.format("%Y").to_string()
                    } else {
                        day.format("%Y-%m").to_string()
                    };
                    ticks.push((day, label));
                }
                day = day + Months::new(1);
            }
        } else {
            let offset = first.weekday().num_days_from_monday();
            let mut day =
                if *step == 1 { first } else { first + Days::new(u64::from((7 - offset) % 7)) };
            while day <= last {
                ticks.push((day, day.to_string()));
                day = day + Days::new(u64::from(*step));
            }
        }
        if ticks.len() <= 8 {
            break;
        }
    }
    ticks
}
/// Horizontal bars, one per row, with the value written beside each.
pub fn bars(title: &str, rows: &[(String, Option<f64>)], unit: &str) -> String {
    bars_linked(title, rows, unit, &[])
}

/// [`bars`] where each bar opens the post list behind it (`links` by row; missing or
/// `None`: no link).
pub fn bars_linked(
    title: &str,
    rows: &[(String, Option<f64>)],
    unit: &str,
    links: &[Option<String>],
) -> String {
    let series: Vec<(String, Vec<Option<f64>>)> =
        rows.iter().map(|(label, value)| (label.clone(), vec![*value])).collect();
    let links: Vec<Vec<Option<String>>> = links.iter().map(|link| vec![link.clone()]).collect();
    grouped_bars_linked(title, &series, &[], unit, &links)
}

/// Horizontal grouped bars: each row has one bar per named group (legend on top).
pub fn grouped_bars(
    title: &str,
    rows: &[(String, Vec<Option<f64>>)],
    groups: &[&str],
    unit: &str,
) -> String {
    grouped_bars_linked(title, rows, groups, unit, &[])
}

/// [`grouped_bars`] where each bar opens the post list behind it (`links` by row, then by
/// group; missing or `None`: no link).
pub fn grouped_bars_linked(
    title: &str,
    rows: &[(String, Vec<Option<f64>>)],
    groups: &[&str],
    unit: &str,
    links: &[Vec<Option<String>>],
) -> String {
    let per_row = rows.iter().map(|(_, v)| v.len()).max().unwrap_or(1).max(1);
    let bar_h = 14.0;
    let row_h = bar_h * per_row as f64 + 10.0;
    let (width, left, right) = (760.0, 260.0, 90.0);
    let top = if groups.is_empty() { 8.0 } else { 28.0 };
    let height = top + row_h * rows.len().max(1) as f64 + 8.0;
    let max = rows.iter().flat_map(|(_, v)| v.iter().filter_map(|v| *v)).fold(0.0f64, f64::max);
    let max = if max > 0.0 { max } else { 1.0 };
    let plot_w = width - left - right;
    let mut svg = open(width, height, title);
    for (index, group) in groups.iter().enumerate() {
        let lx = left + 170.0 * index as f64;
        let _ = write!(
            svg,
            r#"<rect x="{lx:.1}" y="6" width="12" height="12" fill="{}"/><text x="{:.1}" y="16" class="legend">{}</text>"#,
            colour(group, index),
            lx + 16.0,
            esc(group)
        );
    }
    for (r, (label, values)) in rows.iter().enumerate() {
        let y0 = top + row_h * r as f64;
        let shown: String = if label.chars().count() > 34 {
            label.chars().take(33).chain(std::iter::once('…')).collect()
        } else {
            label.clone()
        };
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" class="label" text-anchor="end"><title>{}</title>{}</text>"#,
            left - 8.0,
            y0 + row_h / 2.0,
            esc(label),
            esc(&shown)
        );
        for (g, value) in values.iter().enumerate() {
            let colour = colour(groups.get(g).copied().unwrap_or(""), g);
            let w = value.map_or(0.0, |v| (v.max(0.0) / max) * plot_w);
            let y = y0 + 4.0 + bar_h * g as f64;
            let group = groups.get(g).copied().unwrap_or("");
            let link = links.get(r).and_then(|row| row.get(g)).cloned().flatten();
            if let Some(href) = &link {
                let _ = write!(svg, r#"<a class="posts-link" href="{}">"#, attr(href));
            }
            let _ = write!(
                svg,
                r#"<rect x="{left:.1}" y="{y:.1}" width="{w:.1}" height="{:.1}" fill="{colour}"><title>{} {}: {}</title></rect><text x="{:.1}" y="{:.1}" class="value">{}</text>"#,
                bar_h - 2.0,
                esc(label),
                esc(group),
                format(*value, unit),
                left + w + 4.0,
                y + bar_h - 4.0,
                format(*value, unit)
            );
            if link.is_some() {
                svg.push_str("</a>");
            }
        }
    }
    svg.push_str("</svg>");
    svg
}

/// The iceberg of the overview: what the brand measures above the line, what the audience
/// sees and says below it, each figure sized by nothing but its words.
pub fn iceberg(above: &[(String, String)], below: &[(String, String)]) -> String {
    let (width, line_y) = (760.0, 40.0 + 26.0 * above.len() as f64);
    let height = line_y + 30.0 + 26.0 * below.len() as f64;
    let mut svg = open(width, height, "What the brand measures, and what lies below the waterline");
    let _ = write!(
        svg,
        r##"<polygon points="300,8 380,{a:.1} 220,{a:.1}" fill="#e8f1f8" stroke="#1f5f99"/><rect x="0" y="{line_y:.1}" width="{width}" height="{h:.1}" fill="#dcebf5"/><polygon points="220,{line_y:.1} 380,{line_y:.1} 470,{b:.1} 130,{b:.1}" fill="#f7fbfe" stroke="#1f5f99"/><line x1="0" y1="{line_y:.1}" x2="{width}" y2="{line_y:.1}" stroke="#1f5f99" stroke-width="2" stroke-dasharray="6 4"/><text x="{tx:.1}" y="{ty:.1}" class="legend" text-anchor="end">the waterline</text>"##,
        a = line_y,
        h = height - line_y,
        b = height - 6.0,
        tx = width - 8.0,
        ty = line_y - 6.0
    );
    for (i, (label, value)) in above.iter().enumerate() {
        let y = 30.0 + 26.0 * i as f64;
        let _ = write!(
            svg,
            r#"<text x="400" y="{y:.1}" class="label">{}: <tspan class="strong">{}</tspan></text>"#,
            esc(label),
            esc(value)
        );
    }
    for (i, (label, value)) in below.iter().enumerate() {
        let y = line_y + 28.0 + 26.0 * i as f64;
        let _ = write!(
            svg,
            r#"<text x="490" y="{y:.1}" class="label">{}: <tspan class="strong">{}</tspan></text>"#,
            esc(label),
            esc(value)
        );
    }
    svg.push_str("</svg>");
    svg
}

fn open(width: f64, height: f64, title: &str) -> String {
    format!(
        r#"<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height:.0}" role="img" aria-label="{t}"><title>{t}</title>"#,
        t = html_escape::encode_double_quoted_attribute(title)
    )
}

fn axis_lines(
    svg: &mut String,
    top_value: f64,
    step: f64,
    unit: &str,
    left: f64,
    right: f64,
    y: &dyn Fn(f64) -> f64,
) {
    let mut value = 0.0;
    while value <= top_value + step / 2.0 {
        let _ = write!(
            svg,
            r##"<line x1="{left:.1}" y1="{yy:.1}" x2="{right:.1}" y2="{yy:.1}" stroke="#d0d0d0"/><text x="{:.1}" y="{:.1}" class="tick" text-anchor="end">{}</text>"##,
            left - 6.0,
            y(value) + 4.0,
            format(
                Some(value),
                if unit == "count" && step.fract() != 0.0 { "number" } else { unit }
            ),
            yy = y(value)
        );
        value += step;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_formatted_by_unit() {
        assert_eq!(format(Some(1234567.0), "count"), "1,234,567");
        assert_eq!(format(Some(0.1234), "share"), "12.3%");
        assert_eq!(format(Some(2.5), "hours"), "2.5 h");
        assert_eq!(format(None, "share"), "unknown");
        assert_eq!(format(Some(f64::NAN), "count"), "unknown");
    }

    #[test]
    fn charts_are_well_formed_svg_with_escaped_labels() {
        let chart = lines(
            "a <b>",
            &[Series {
                name: "x & y".into(),
                points: vec![
                    ("w1".into(), Some(1.0)),
                    ("w2".into(), None),
                    ("w3".into(), Some(3.0)),
                ],
                links: vec![Some("/posts?a=1&b=2".into()), None, None],
            }],
            "count",
            &TimeAxis::complete(Bucket::Week),
        );
        assert!(chart.starts_with("<svg") && chart.ends_with("</svg>"));
        assert!(chart.contains("x &amp; y") && !chart.contains("<b>"));
        // A point with a link opens its posts; one without has none.
        assert_eq!(chart.matches(r#"<a class="posts-link" href="/posts?a=1&amp;b=2">"#).count(), 1);
        assert_eq!(chart.matches("<a ").count(), chart.matches("</a>").count());
        let linked = grouped_bars_linked(
            "t",
            &[("topic".into(), vec![Some(0.2), Some(0.1)])],
            &["own", "audience"],
            "share",
            &[vec![None, Some("/posts?topic=3".into())]],
        );
        assert_eq!(linked.matches(r#"href="/posts?topic=3""#).count(), 1);
        let chart = grouped_bars(
            "t",
            &[("topic".into(), vec![Some(0.2), None])],
            &["own", "audience"],
            "share",
        );
        assert!(chart.contains("20.0%") && chart.contains("unknown"));
        let empty = bars("nothing", &[], "count");
        assert!(empty.ends_with("</svg>"));
        assert_eq!(nice_axis(0.0), (1.0, 0.25));
        let (top, step) = nice_axis(87.0);
        assert!(top >= 87.0 && step > 0.0);
    }

    fn weekly(points: &[(&str, f64)]) -> Vec<Series> {
        vec![Series {
            name: "posts".into(),
            points: points
                .iter()
                .map(|(label, value)| ((*label).to_owned(), Some(*value)))
                .collect(),
            links: Vec::new(),
        }]
    }

    /// The x of every point drawn, in order.
    fn point_xs(chart: &str) -> Vec<f64> {
        chart
            .split("<circle ")
            .skip(1)
            .filter_map(|circle| {
                let start = circle.find("cx=\"")? + 4;
                let end = circle[start..].find('"')? + start;
                circle[start..end].parse().ok()
            })
            .collect()
    }

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_time_axis_is_proportional_to_time_not_to_the_index() {
        // Ten years without a post take ten years of width; the next week one week.
        let series = weekly(&[("2006-01-02", 3.0), ("2016-01-04", 5.0), ("2016-01-11", 4.0)]);
        let chart = lines("posts per week", &series, "count", &TimeAxis::complete(Bucket::Week));
        let xs = point_xs(&chart);
        assert_eq!(xs.len(), 3, "{chart}");
        let width = xs[2] - xs[0];
        assert!(width > 600.0, "{xs:?}");
        assert!(xs[2] - xs[1] < width * 0.01, "one week is not a tenth of the axis: {xs:?}");
        // Only adjacent weeks are joined: no straight line across the empty decade.
        let paths: Vec<&str> =
            chart.split("<path d=\"").skip(1).map(|path| path.split('"').next().unwrap()).collect();
        assert_eq!(paths.len(), 1, "{chart}");
        assert_eq!(paths[0].matches('M').count(), 1, "{chart}");
        assert_eq!(paths[0].matches('L').count(), 1, "{chart}");
        // Ticks are calendar years across a decade.
        assert!(chart.contains(">2010</text>"), "{chart}");
        // Month labels place months by their first day.
        let monthly = lines(
            "m",
            &weekly(&[("2026-01", 1.0), ("2026-02", 1.0), ("2026-12", 1.0)]),
            "count",
            &TimeAxis::complete(Bucket::Month),
        );
        let xs = point_xs(&monthly);
        let share = (xs[1] - xs[0]) / (xs[2] - xs[0]);
        assert!((share - 31.0 / 334.0).abs() < 0.01, "{xs:?}");
    }

    #[test]
    fn labels_that_are_not_dates_are_evenly_spaced() {
        let chart = lines(
            "t",
            &weekly(&[("a", 1.0), ("b", 2.0), ("c", 3.0)]),
            "count",
            &TimeAxis::complete(Bucket::Week),
        );
        let xs = point_xs(&chart);
        assert!(((xs[1] - xs[0]) - (xs[2] - xs[1])).abs() < 0.2, "{xs:?}");
    }

    #[test]
    fn a_partial_period_is_drawn_dashed_to_a_hollow_point_with_a_legend() {
        let series = weekly(&[("2026-11-16", 700.0), ("2026-11-23", 710.0), ("2026-11-30", 90.0)]);
        let cases = [
            // (first day, last day of data, partial points, why)
            (None, Some("2026-11-30"), vec![2], "the last week has one day of data"),
            (None, Some("2026-12-06"), vec![], "the last week is complete"),
            (Some("2026-11-18"), Some("2026-12-06"), vec![0], "the period starts mid-week"),
            (Some("2026-11-16"), Some("2026-12-01"), vec![2], "a Monday start is whole"),
            (None, None, vec![], "complete buckets only"),
        ];
        for (first, last, expected, why) in cases {
            let axis = TimeAxis {
                bucket: Bucket::Week,
                first_day: first.map(day),
                last_day: last.map(day),
            };
            let chart = lines("posts per week", &series, "count", &axis);
            let circles: Vec<&str> = chart.split("<circle ").skip(1).collect();
            let partial: Vec<usize> = circles
                .iter()
                .enumerate()
                .filter(|(_, c)| c.starts_with("class=\"partial\""))
                .map(|(i, _)| i)
                .collect();
            assert_eq!(partial, expected, "{why}: {chart}");
            assert_eq!(chart.contains("partial-legend"), !expected.is_empty(), "{why}");
            assert_eq!(chart.contains("stroke-dasharray=\"5 4\"/>"), !expected.is_empty(), "{why}");
            if !expected.is_empty() {
                assert!(chart.contains("partial week: only some of its days"), "{why}");
                assert!(chart.contains(" only)</title>"), "{why}: the tooltip says which days");
            }
        }
        let axis =
            TimeAxis { bucket: Bucket::Week, first_day: None, last_day: Some(day("2026-11-30")) };
        let chart = lines("posts per week", &series, "count", &axis);
        assert!(chart.contains("(partial week: 2026-11-30 to 2026-11-30 only)"), "{chart}");
    }

    #[test]
    fn time_ticks_fall_on_calendar_boundaries() {
        let cases = [
            (
                "2026-11-02",
                "2026-11-05",
                vec!["2026-11-02", "2026-11-03", "2026-11-04", "2026-11-05"],
            ),
            (
                "2026-11-04",
                "2026-11-30",
                vec!["2026-11-09", "2026-11-16", "2026-11-23", "2026-11-30"],
            ),
            (
                "2026-09-02",
                "2026-11-30",
                vec![
                    "2026-09-07",
                    "2026-09-21",
                    "2026-10-05",
                    "2026-10-19",
                    "2026-11-02",
                    "2026-11-16",
                    "2026-11-30",
                ],
            ),
            (
                "2026-01-05",
                "2026-06-29",
                vec!["2026-02", "2026-03", "2026-04", "2026-05", "2026-06"],
            ),
            ("2006-03-06", "2026-11-30", vec!["2010", "2015", "2020", "2025"]),
            ("2026-11-30", "2026-11-30", vec!["2026-11-30"]),
        ];
        for (first, last, expected) in cases {
            let labels: Vec<String> =
                time_ticks(day(first), day(last)).into_iter().map(|(_, label)| label).collect();
            assert_eq!(labels, expected, "{first}..{last}");
        }
    }
}
