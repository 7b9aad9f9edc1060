//! Charts as inline SVG, drawn on the server: no script, no font download, readable on a
//! laptop and in print (the page's font, dark strokes on white, values written beside bars).

use std::fmt::Write as _;

use html_escape::encode_text as esc;

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
}

/// A line chart over shared x labels (the first series' labels).
pub fn lines(title: &str, series: &[Series], unit: &str) -> String {
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
    let n = labels.len().max(2) as f64 - 1.0;
    let x = |i: usize| left + plot_w * i as f64 / n;
    let y = |v: f64| top + plot_h * (1.0 - v / top_value);
    let mut svg = open(width, height, title);
    axis(&mut svg, top_value, step, unit, left, width - right, &y);
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
    for (index, s) in series.iter().enumerate() {
        let colour = colour(&s.name, index);
        let mut path = String::new();
        let mut pen_down = false;
        for (i, (label, value)) in s.points.iter().enumerate() {
            match value {
                Some(v) => {
                    let _ = write!(
                        path,
                        "{}{:.1},{:.1} ",
                        if pen_down { "L" } else { "M" },
                        x(i),
                        y(*v)
                    );
                    pen_down = true;
                    let _ = write!(
                        svg,
                        r#"<circle cx="{:.1}" cy="{:.1}" r="2.5" fill="{colour}"><title>{}: {} {}</title></circle>"#,
                        x(i),
                        y(*v),
                        esc(&s.name),
                        esc(label),
                        format(Some(*v), unit)
                    );
                }
                None => pen_down = false,
            }
        }
        let _ = write!(
            svg,
            r#"<path d="{}" fill="none" stroke="{colour}" stroke-width="2"/>"#,
            path.trim_end()
        );
        let lx = left + 8.0 + 170.0 * index as f64;
        let _ = write!(
            svg,
            r#"<rect x="{lx:.1}" y="6" width="12" height="12" fill="{colour}"/><text x="{:.1}" y="16" class="legend">{}</text>"#,
            lx + 16.0,
            esc(&s.name)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Horizontal bars, one per row, with the value written beside each.
pub fn bars(title: &str, rows: &[(String, Option<f64>)], unit: &str) -> String {
    let series: Vec<(String, Vec<Option<f64>>)> =
        rows.iter().map(|(label, value)| (label.clone(), vec![*value])).collect();
    grouped_bars(title, &series, &[], unit)
}

/// Horizontal grouped bars: each row has one bar per named group (legend on top).
pub fn grouped_bars(
    title: &str,
    rows: &[(String, Vec<Option<f64>>)],
    groups: &[&str],
    unit: &str,
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

fn axis(
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
            }],
            "count",
        );
        assert!(chart.starts_with("<svg") && chart.ends_with("</svg>"));
        assert!(chart.contains("x &amp; y") && !chart.contains("<b>"));
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
}
