//! Baselines (frozen metric values with the samples later tests need), comparisons with a
//! bootstrap 95 % interval, milestone trends, and lagged correlations.
//!
//! How a metric is resampled follows from its formula:
//! - counts and sums: per-day totals, compared as a daily mean, bootstrap over days;
//! - ratios (shares, response rate, share of voice): per-day numerator and denominator,
//!   Σ numerator ÷ Σ denominator, bootstrap over days (days keep their posts together);
//! - means and percentiles of per-post values (engagement rates, response times):
//!   the values, bootstrap over posts.
//!
//! Bootstraps are seeded, so the same baseline and period give the same interval.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::metrics::{self, Formula, Metric};
use crate::query::{self, Context, Query};
use crate::{Analytics, AnalyticsError};

/// Resamples per comparison.
pub const RESAMPLES: usize = 2000;
/// At most this many per-post values are frozen per metric (evenly spaced order statistics
/// of all of them, so the distribution is kept).
pub const MAX_VALUES: usize = 20_000;

/// What a frozen metric keeps for later tests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Samples {
    /// Per local day: numerator and denominator (1 for counts).
    Days {
        /// `(day, numerator, denominator)`, every day of the period (zeros included).
        days: Vec<(NaiveDate, f64, f64)>,
    },
    /// Per-post values (sorted).
    Values {
        /// The values (at most [`MAX_VALUES`]).
        values: Vec<f64>,
        /// How many there were before thinning.
        count: usize,
    },
}

/// The statistic a metric compares.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Statistic {
    /// Σ numerator ÷ number of days.
    DailyMean,
    /// Σ numerator ÷ Σ denominator × scale.
    Ratio {
        /// Multiplier.
        scale: f64,
    },
    /// Mean of the values.
    Mean,
    /// A percentile of the values (linear interpolation, as SQL `percentile_cont`).
    Percentile {
        /// The fraction.
        fraction: f64,
    },
}

impl Statistic {
    /// The statistic of a catalogue metric, or `None` when it cannot be frozen as one number.
    pub fn of(metric: &Metric) -> Option<Statistic> {
        match metric.formula {
            Formula::Count { .. } | Formula::Sum { .. } | Formula::Distinct { .. } => {
                Some(Statistic::DailyMean)
            }
            Formula::Ratio { scale, .. } => Some(Statistic::Ratio { scale }),
            Formula::Voice { .. } => Some(Statistic::Ratio { scale: 1.0 }),
            Formula::Mean { .. } => Some(Statistic::Mean),
            Formula::Percentile { fraction, .. } => Some(Statistic::Percentile { fraction }),
            Formula::ShareOf { .. } => None,
        }
    }

    /// The statistic over samples; `None` when undefined (no values, no denominator).
    pub fn compute(&self, samples: &Samples) -> Option<f64> {
        match (self, samples) {
            (Statistic::DailyMean, Samples::Days { days }) => (!days.is_empty())
                .then(|| days.iter().map(|d| d.1).sum::<f64>() / days.len() as f64),
            (Statistic::Ratio { scale }, Samples::Days { days }) => {
                let numerator: f64 = days.iter().map(|d| d.1).sum();
                let denominator: f64 = days.iter().map(|d| d.2).sum();
                (denominator != 0.0).then(|| numerator / denominator * scale)
            }
            (Statistic::Mean, Samples::Values { values, .. }) => {
                (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
            }
            (Statistic::Percentile { fraction }, Samples::Values { values, .. }) => {
                let mut sorted = values.clone();
                percentile(&mut sorted, *fraction)
            }
            _ => None,
        }
    }
}

/// The linear-interpolation percentile of values (sorts them).
pub fn percentile(values: &mut [f64], fraction: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let rank = fraction.clamp(0.0, 1.0) * (values.len() - 1) as f64;
    let low = rank.floor() as usize;
    let high = rank.ceil() as usize;
    let (a, b) = (values[low], values[high.min(values.len() - 1)]);
    Some(a + (b - a) * (rank - low as f64))
}

/// One frozen metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Frozen {
    /// Catalogue name.
    pub metric: String,
    /// Its value over the period, as `waterline query` gave it.
    pub value: Option<f64>,
    /// The compared statistic (a daily mean for counts).
    pub statistic: Statistic,
    /// The statistic's value over the samples.
    pub compared_value: Option<f64>,
    /// The samples.
    pub samples: Samples,
}

/// A named, frozen set of metric values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    /// Its name.
    pub name: String,
    /// First local day.
    pub from: NaiveDate,
    /// Last local day.
    pub to: NaiveDate,
    /// Filters every metric was computed under.
    pub filters: Vec<query::Filter>,
    /// When it was frozen (RFC 3339).
    pub created_at: String,
    /// The metric definitions it was frozen with (name → definition), so a later change of
    /// definition is visible.
    pub definitions: BTreeMap<String, String>,
    /// The metrics.
    pub metrics: Vec<Frozen>,
}

fn days_of(from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
    from.iter_days().take_while(|day| *day <= to).collect()
}

/// Computes the value and the samples of one metric over a period.
pub async fn measure(
    analytics: &Analytics,
    context: &Context,
    metric: &Metric,
    filters: &[query::Filter],
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Option<Frozen>, AnalyticsError> {
    let Some(statistic) = Statistic::of(metric) else { return Ok(None) };
    let base = Query {
        metrics: vec![metric.name.to_owned()],
        by: Vec::new(),
        filters: filters.to_vec(),
        from: Some(from),
        to: Some(to),
        limit: None,
        parts: false,
    };
    let plan = query::plan(&base, context)?;
    let value = query::run(analytics, &plan, None).await?.scalar(metric.name);
    let samples = match statistic {
        Statistic::DailyMean | Statistic::Ratio { .. } => {
            let by_day = Query { by: vec!["day".into()], parts: true, ..base.clone() };
            let plan = query::plan(&by_day, context)?;
            let answer = query::run(analytics, &plan, None).await?;
            let ratio = matches!(statistic, Statistic::Ratio { .. });
            let mut found: BTreeMap<String, (f64, f64)> = BTreeMap::new();
            for row in &answer.rows {
                let get = |i: usize| row.values.get(i).copied().flatten().unwrap_or(0.0);
                let pair = if ratio { (get(0), get(1)) } else { (get(0), 1.0) };
                found.insert(row.keys[0].clone(), pair);
            }
            let days = days_of(from, to)
                .into_iter()
                .map(|day| {
                    let (n, d) = found
                        .get(&day.format("%Y-%m-%d").to_string())
                        .copied()
                        .unwrap_or((0.0, if ratio { 0.0 } else { 1.0 }));
                    (day, n, d)
                })
                .collect();
            Samples::Days { days }
        }
        Statistic::Mean | Statistic::Percentile { .. } => {
            let Some(sql) = query::values_sql(&base, context, metric) else { return Ok(None) };
            let batches = analytics.query(&sql).await?;
            let mut values = Vec::new();
            for batch in &batches {
                if let Some(column) = batch
                    .column(0)
                    .as_any()
                    .downcast_ref::<datafusion::arrow::array::Float64Array>()
                {
                    values.extend(column.iter().flatten().filter(|v| v.is_finite()));
                }
            }
            values.sort_by(f64::total_cmp);
            let count = values.len();
            if count > MAX_VALUES {
                let step = (count - 1) as f64 / (MAX_VALUES - 1) as f64;
                values = (0..MAX_VALUES)
                    .map(|i| values[((i as f64 * step).round() as usize).min(count - 1)])
                    .collect();
            }
            Samples::Values { values, count }
        }
    };
    let compared_value = statistic.compute(&samples).map(crate::topics::round);
    Ok(Some(Frozen { metric: metric.name.to_owned(), value, statistic, compared_value, samples }))
}

/// Freezes every catalogue metric that is one number (shares across a dimension are not).
pub async fn freeze(
    analytics: &Analytics,
    context: &Context,
    name: &str,
    filters: &[query::Filter],
    from: NaiveDate,
    to: NaiveDate,
    created_at: String,
) -> Result<Baseline, AnalyticsError> {
    let mut frozen = Vec::new();
    let mut definitions = BTreeMap::new();
    for metric in metrics::catalogue() {
        if let Some(entry) = measure(analytics, context, metric, filters, from, to).await? {
            definitions.insert(metric.name.to_owned(), metric.definition.to_owned());
            frozen.push(entry);
        }
    }
    Ok(Baseline {
        name: name.to_owned(),
        from,
        to,
        filters: filters.to_vec(),
        created_at,
        definitions,
        metrics: frozen,
    })
}

/// One metric of a comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    /// Catalogue name.
    pub metric: String,
    /// What is compared (`daily mean`, `ratio`, `mean`, `median`, `p90`).
    pub compared: String,
    /// The baseline's statistic.
    pub baseline: Option<f64>,
    /// The period's statistic.
    pub current: Option<f64>,
    /// current − baseline.
    pub change: Option<f64>,
    /// change ÷ baseline, when the baseline is not 0.
    pub relative: Option<f64>,
    /// The 95 % bootstrap interval of the change.
    pub low: Option<f64>,
    /// See `low`.
    pub high: Option<f64>,
    /// The interval excludes 0.
    pub significant: bool,
    /// The definition changed since the baseline was frozen.
    pub definition_changed: bool,
}

fn resample(samples: &Samples, rng: &mut ChaCha8Rng) -> Samples {
    match samples {
        Samples::Days { days } => {
            let n = days.len();
            Samples::Days { days: (0..n).map(|_| days[rng.random_range(0..n)]).collect() }
        }
        Samples::Values { values, count } => {
            let n = values.len();
            Samples::Values {
                values: (0..n).map(|_| values[rng.random_range(0..n)]).collect(),
                count: *count,
            }
        }
    }
}

fn is_empty(samples: &Samples) -> bool {
    match samples {
        Samples::Days { days } => days.is_empty(),
        Samples::Values { values, .. } => values.is_empty(),
    }
}

/// Compares a period's samples with a baseline's: the change and its 95 % percentile
/// bootstrap interval (both sides resampled independently, `RESAMPLES` times, seeded).
pub fn change(
    statistic: Statistic,
    baseline: &Samples,
    current: &Samples,
    seed: u64,
) -> (Option<f64>, Option<f64>, Option<f64>) {
    let (Some(before), Some(after)) = (statistic.compute(baseline), statistic.compute(current))
    else {
        return (None, None, None);
    };
    if is_empty(baseline) || is_empty(current) {
        return (Some(after - before), None, None);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut differences: Vec<f64> = (0..RESAMPLES)
        .filter_map(|_| {
            let a = statistic.compute(&resample(baseline, &mut rng))?;
            let b = statistic.compute(&resample(current, &mut rng))?;
            Some(b - a)
        })
        .collect();
    if differences.len() < RESAMPLES / 2 {
        return (Some(after - before), None, None);
    }
    let low = percentile(&mut differences, 0.025);
    let high = percentile(&mut differences, 0.975);
    (Some(after - before), low, high)
}

fn describe(statistic: Statistic) -> String {
    match statistic {
        Statistic::DailyMean => "daily mean".into(),
        Statistic::Ratio { .. } => "ratio".into(),
        Statistic::Mean => "mean".into(),
        Statistic::Percentile { fraction: 0.5 } => "median".into(),
        Statistic::Percentile { fraction } => format!("p{}", (fraction * 100.0).round()),
    }
}

/// Compares a period with a baseline, metric by metric, under the baseline's filters.
pub async fn compare(
    analytics: &Analytics,
    context: &Context,
    baseline: &Baseline,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<Change>, AnalyticsError> {
    let mut changes = Vec::new();
    for frozen in &baseline.metrics {
        let Some(metric) = metrics::find(&frozen.metric) else { continue };
        let Some(current) =
            measure(analytics, context, metric, &baseline.filters, from, to).await?
        else {
            continue;
        };
        let seed = xxhash_rust::xxh3::xxh3_64(frozen.metric.as_bytes());
        let (difference, low, high) =
            change(frozen.statistic, &frozen.samples, &current.samples, seed);
        let before = frozen.compared_value;
        let after = current.compared_value;
        changes.push(Change {
            metric: frozen.metric.clone(),
            compared: describe(frozen.statistic),
            baseline: before,
            current: after,
            change: difference.map(crate::topics::round),
            relative: match (difference, before) {
                (Some(d), Some(b)) if b != 0.0 => Some(crate::topics::round(d / b.abs())),
                _ => None,
            },
            low: low.map(crate::topics::round),
            high: high.map(crate::topics::round),
            significant: matches!((low, high), (Some(l), Some(h)) if l > 0.0 || h < 0.0),
            definition_changed: baseline
                .definitions
                .get(&frozen.metric)
                .is_some_and(|definition| definition != metric.definition),
        });
    }
    Ok(changes)
}

/// An ordinary least-squares line through points, with the slope's 95 % interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Trend {
    /// Value at x = 0.
    pub intercept: f64,
    /// Change per unit of x.
    pub slope: f64,
    /// The slope's 95 % interval (normal approximation), when there are 3 points or more.
    pub slope_low: Option<f64>,
    /// See `slope_low`.
    pub slope_high: Option<f64>,
}

/// Fits a line through `(x, y)` points; `None` with fewer than two distinct x.
pub fn trend(points: &[(f64, f64)]) -> Option<Trend> {
    let n = points.len() as f64;
    if points.len() < 2 {
        return None;
    }
    let mean_x = points.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
    if sxx == 0.0 {
        return None;
    }
    let sxy: f64 = points.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
    let slope = sxy / sxx;
    let intercept = mean_y - slope * mean_x;
    let (slope_low, slope_high) = if points.len() >= 3 {
        let residual: f64 = points.iter().map(|p| (p.1 - intercept - slope * p.0).powi(2)).sum();
        let error = (residual / (n - 2.0) / sxx).sqrt();
        (Some(slope - 1.96 * error), Some(slope + 1.96 * error))
    } else {
        (None, None)
    };
    Some(Trend { intercept, slope, slope_low, slope_high })
}

/// Pearson's correlation of paired values with its 95 % interval (Fisher z).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Correlation {
    /// Pairs used.
    pub n: usize,
    /// Pearson's r.
    pub r: Option<f64>,
    /// 95 % interval (n ≥ 4).
    pub low: Option<f64>,
    /// See `low`.
    pub high: Option<f64>,
}

/// Pearson's r of pairs.
pub fn correlation(pairs: &[(f64, f64)]) -> Correlation {
    let n = pairs.len();
    let none = Correlation { n, r: None, low: None, high: None };
    if n < 3 {
        return none;
    }
    let count = n as f64;
    let mean_x = pairs.iter().map(|p| p.0).sum::<f64>() / count;
    let mean_y = pairs.iter().map(|p| p.1).sum::<f64>() / count;
    let sxy: f64 = pairs.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
    let sxx: f64 = pairs.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
    let syy: f64 = pairs.iter().map(|p| (p.1 - mean_y).powi(2)).sum();
    if sxx == 0.0 || syy == 0.0 {
        return none;
    }
    let r = (sxy / (sxx * syy).sqrt()).clamp(-1.0, 1.0);
    let (low, high) = if n >= 4 && r.abs() < 1.0 {
        let z = r.atanh();
        let error = 1.0 / (count - 3.0).sqrt();
        (Some((z - 1.96 * error).tanh()), Some((z + 1.96 * error).tanh()))
    } else {
        (None, None)
    };
    Correlation { n, r: Some(r), low, high }
}

/// Correlations of two series keyed by period at lags `-max_lag..=max_lag`: at lag L the
/// social value of period t is paired with the business value of period t + L (L > 0: social
/// leads). Periods missing from either side are left out.
pub fn lagged(
    social: &[(String, f64)],
    business: &[(String, f64)],
    max_lag: usize,
) -> Vec<(i64, Correlation)> {
    let mut keys: Vec<&String> =
        social.iter().map(|p| &p.0).chain(business.iter().map(|p| &p.0)).collect();
    keys.sort();
    keys.dedup();
    let index: BTreeMap<&String, usize> = keys.iter().enumerate().map(|(i, k)| (*k, i)).collect();
    let mut left = vec![None; keys.len()];
    let mut right = vec![None; keys.len()];
    for (key, value) in social {
        left[index[key]] = Some(*value);
    }
    for (key, value) in business {
        right[index[key]] = Some(*value);
    }
    let max_lag = max_lag as i64;
    (-max_lag..=max_lag)
        .map(|lag| {
            let pairs: Vec<(f64, f64)> = (0..keys.len() as i64)
                .filter_map(|t| {
                    let u = t + lag;
                    if u < 0 || u >= keys.len() as i64 {
                        return None;
                    }
                    Some((left[t as usize]?, right[u as usize]?))
                })
                .collect();
            (lag, correlation(&pairs))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 1, d).expect("day")
    }

    #[test]
    fn percentiles_interpolate_like_sql() {
        let mut values = vec![4.0, 1.0, 3.0, 2.0];
        assert_eq!(percentile(&mut values, 0.5), Some(2.5));
        assert_eq!(percentile(&mut values, 0.9), Some(3.7));
        assert_eq!(percentile(&mut [], 0.5), None);
        assert_eq!(percentile(&mut [7.0], 0.9), Some(7.0));
    }

    #[test]
    fn statistics_over_samples() {
        let days = Samples::Days {
            days: vec![(day(1), 3.0, 10.0), (day(2), 1.0, 10.0), (day(3), 0.0, 0.0)],
        };
        assert_eq!(Statistic::DailyMean.compute(&days), Some(4.0 / 3.0));
        assert_eq!(Statistic::Ratio { scale: 1.0 }.compute(&days), Some(0.2));
        let empty = Samples::Days { days: vec![(day(1), 0.0, 0.0)] };
        assert_eq!(
            Statistic::Ratio { scale: 1.0 }.compute(&empty),
            None,
            "no denominator: unknown"
        );
        let values = Samples::Values { values: vec![1.0, 2.0, 9.0], count: 3 };
        assert_eq!(Statistic::Mean.compute(&values), Some(4.0));
        assert_eq!(Statistic::Percentile { fraction: 0.5 }.compute(&values), Some(2.0));
    }

    #[test]
    fn a_real_change_is_significant_and_no_change_is_not() {
        let before =
            Samples::Values { values: (0..400).map(|i| (i % 20) as f64).collect(), count: 400 };
        let after = Samples::Values {
            values: (0..400).map(|i| (i % 20) as f64 + 5.0).collect(),
            count: 400,
        };
        let (change_value, low, high) = change(Statistic::Mean, &before, &after, 1);
        assert_eq!(change_value, Some(5.0));
        let (low, high) = (low.expect("low"), high.expect("high"));
        assert!(low > 3.5 && high < 6.5 && low < 5.0 && high > 5.0, "{low} {high}");
        let (_, low, high) = change(Statistic::Mean, &before, &before, 1);
        assert!(low.expect("low") < 0.0 && high.expect("high") > 0.0);
        // Same inputs, same interval.
        assert_eq!(
            change(Statistic::Mean, &before, &after, 1),
            change(Statistic::Mean, &before, &after, 1)
        );
    }

    #[test]
    fn ratio_days_are_resampled_together() {
        let before = Samples::Days { days: (1..=28).map(|d| (day(d), 10.0, 100.0)).collect() };
        let after = Samples::Days { days: (1..=28).map(|d| (day(d), 20.0, 100.0)).collect() };
        let (change_value, low, high) = change(Statistic::Ratio { scale: 1.0 }, &before, &after, 3);
        assert!((change_value.expect("change") - 0.1).abs() < 1e-12);
        assert!((low.expect("low") - 0.1).abs() < 1e-9 && (high.expect("high") - 0.1).abs() < 1e-9);
    }

    #[test]
    fn trends_and_correlations() {
        let line = trend(&[(0.0, 1.0), (1.0, 3.0), (2.0, 5.0)]).expect("trend");
        assert!((line.slope - 2.0).abs() < 1e-12 && (line.intercept - 1.0).abs() < 1e-12);
        assert!(trend(&[(1.0, 1.0)]).is_none());
        let perfect = correlation(&[(1.0, 2.0), (2.0, 4.0), (3.0, 6.5), (4.0, 8.0), (5.0, 10.0)]);
        assert!(perfect.r.expect("r") > 0.99);
        assert!(
            correlation(&[(1.0, 1.0), (1.0, 2.0), (1.0, 3.0)]).r.is_none(),
            "constant: undefined"
        );
        // Business follows social by one period.
        let social: Vec<(String, f64)> =
            (0..12).map(|i| (format!("w{i:02}"), [1.0, 5.0, 2.0, 8.0][i % 4] + i as f64)).collect();
        let business: Vec<(String, f64)> = social
            .iter()
            .enumerate()
            .map(|(i, point)| (format!("w{:02}", i + 1), point.1 * 3.0))
            .collect();
        let lags = lagged(&social, &business, 2);
        let best = lags
            .iter()
            .max_by(|a, b| a.1.r.unwrap_or(-2.0).total_cmp(&b.1.r.unwrap_or(-2.0)))
            .expect("best");
        assert_eq!(best.0, 1);
    }
}
