//! The period a dashboard page covers and how the page says it: the URL's `from` and `to`
//! when given, every date with `period=all`, and otherwise the last 90 days of data, ending
//! at the latest post's day (all time read "2006 to 2026, growth +1130 %" on a real export).

use chrono::{Days, NaiveDate};
use waterline_analytics::query::{Answer, Query};

use crate::{ApiError, Backend};

/// The default period's length: the last this many days of data.
pub const DEFAULT_DAYS: u64 = waterline_app::report::DEFAULT_DAYS;

/// The local days the workspace's posts span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataSpan {
    /// The first day with a post.
    pub first: NaiveDate,
    /// The latest post's day.
    pub last: NaiveDate,
}

/// How the period in force was chosen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Basis {
    /// The dates given (in the URL or on the command line); none given is every date.
    #[default]
    Given,
    /// The dashboard's default: the last this many days of data.
    LastDays(u64),
    /// Every date, asked for with `period=all`.
    AllTime,
}

/// The query that finds the span: posts per local day, every filter off (the default
/// period does not move with the filters). Answers are cached per store version.
fn span_query() -> Query {
    Query { metrics: vec!["posts".into()], by: vec!["day".into()], ..Query::default() }
}

/// The first and last day with posts in an answer of [`span_query`].
fn span_of(answer: &Answer) -> Option<DataSpan> {
    let mut days = answer
        .rows
        .iter()
        .filter(|row| row.values.first().copied().flatten().is_some_and(|posts| posts > 0.0))
        .filter_map(|row| NaiveDate::parse_from_str(row.keys.first()?, "%Y-%m-%d").ok());
    let first = days.next()?;
    let (first, last) = days.fold((first, first), |(low, high), day| (low.min(day), high.max(day)));
    Some(DataSpan { first, last })
}

/// The days the workspace's posts span; `None` when it has none.
pub async fn data_span<B: Backend>(backend: &B) -> Result<Option<DataSpan>, ApiError> {
    let answer = backend.query(span_query()).await?;
    Ok(span_of(&answer))
}

/// Resolves the period: the dates given win, then `period=all`, then the last
/// [`DEFAULT_DAYS`] days of data (every date when there is none). Returns (from, to, basis).
/// The default's end stays open: it is the latest post's day by definition, and a post
/// that arrives on a later day belongs in it at once (a live dashboard shows it before the
/// caches that find the latest day are rebuilt).
pub fn resolve(
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    period: Option<&str>,
    span: Option<DataSpan>,
) -> Result<(Option<NaiveDate>, Option<NaiveDate>, Basis), ApiError> {
    let all = match period.map(str::trim) {
        None | Some("") => false,
        Some("all") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "period `{other}`: use period=all for every date, or from and to (YYYY-MM-DD)."
            )));
        }
    };
    if from.is_some() || to.is_some() {
        return Ok((from, to, Basis::Given));
    }
    if all {
        return Ok((None, None, Basis::AllTime));
    }
    let Some(span) = span else { return Ok((None, None, Basis::Given)) };
    let start = span.last.checked_sub_days(Days::new(DEFAULT_DAYS - 1)).unwrap_or(span.first);
    Ok((Some(start), None, Basis::LastDays(DEFAULT_DAYS)))
}

/// The period in force in words, with the span of the data for open ends.
pub fn describe(
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    basis: Basis,
    span: Option<DataSpan>,
) -> String {
    let (Some(first), Some(last)) = (from.or(span.map(|s| s.first)), to.or(span.map(|s| s.last)))
    else {
        return "all time (no posts yet)".to_owned();
    };
    let range = format!("{first} – {last}");
    match basis {
        Basis::LastDays(days) => {
            format!("{range} (the last {days} days of data, to the latest post's day)")
        }
        Basis::AllTime => format!("{range} (all time: every post)"),
        Basis::Given if from.is_none() && to.is_none() => {
            format!("{range} (all time: every post)")
        }
        Basis::Given => {
            let open = match (from, to) {
                (None, _) => ", from the first post",
                (_, None) => ", to the latest post",
                _ => "",
            };
            format!("{range} (as chosen{open})")
        }
    }
}

/// What a page's figures have to do with the period, when they do not follow it.
pub fn independence(path: &str) -> Option<&'static str> {
    match path {
        "/alerts" => Some(
            "This page does not depend on the period: it lists the stored alerts and what is firing now.",
        ),
        "/pharmacovigilance" => {
            Some("This page does not depend on the period: the queue holds every case still open.")
        }
        "/drafts" | "/metrics" => Some("This page does not depend on the period."),
        "/baselines" => Some(
            "Baselines and milestones keep their own dates; the comparison with a baseline uses the period.",
        ),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use waterline_analytics::query::Row;

    use super::*;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    const SPAN: DataSpan = DataSpan {
        first: NaiveDate::from_ymd_opt(2006, 3, 21).unwrap(),
        last: NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(),
    };

    #[test]
    fn the_default_period_is_the_last_90_days_of_data_and_given_dates_win() {
        let cases = [
            // (from, to, period, expected from, expected to, basis)
            (None, None, None, Some("2026-09-02"), None, Basis::LastDays(90)),
            (None, None, Some(""), Some("2026-09-02"), None, Basis::LastDays(90)),
            (None, None, Some("all"), None, None, Basis::AllTime),
            (
                Some("2026-01-01"),
                Some("2026-03-31"),
                None,
                Some("2026-01-01"),
                Some("2026-03-31"),
                Basis::Given,
            ),
            (Some("2026-01-01"), None, Some("all"), Some("2026-01-01"), None, Basis::Given),
            (None, Some("2020-12-31"), None, None, Some("2020-12-31"), Basis::Given),
        ];
        for (from, to, period, want_from, want_to, basis) in cases {
            let resolved = resolve(from.map(day), to.map(day), period, Some(SPAN)).unwrap();
            assert_eq!(
                resolved,
                (want_from.map(day), want_to.map(day), basis),
                "{from:?} {to:?} {period:?}"
            );
        }
        let (from, _, _) = resolve(None, None, None, Some(SPAN)).unwrap();
        assert_eq!((SPAN.last - from.unwrap()).num_days() + 1, 90, "90 days, both ends in");
        // No posts: every date (there is no latest day to end at).
        assert_eq!(resolve(None, None, None, None).unwrap(), (None, None, Basis::Given));
        let error = resolve(None, None, Some("forever"), Some(SPAN)).unwrap_err();
        assert_eq!(error.status, 400);
    }

    #[test]
    fn the_period_is_said_in_words_with_its_dates() {
        let cases = [
            (
                Some("2026-09-02"),
                None,
                Basis::LastDays(90),
                "2026-09-02 – 2026-11-30 (the last 90 days of data, to the latest post's day)",
            ),
            (None, None, Basis::AllTime, "2006-03-21 – 2026-11-30 (all time: every post)"),
            (None, None, Basis::Given, "2006-03-21 – 2026-11-30 (all time: every post)"),
            (
                Some("2026-01-01"),
                Some("2026-03-31"),
                Basis::Given,
                "2026-01-01 – 2026-03-31 (as chosen)",
            ),
            (
                Some("2026-01-01"),
                None,
                Basis::Given,
                "2026-01-01 – 2026-11-30 (as chosen, to the latest post)",
            ),
        ];
        for (from, to, basis, expected) in cases {
            assert_eq!(describe(from.map(day), to.map(day), basis, Some(SPAN)), expected);
        }
        assert_eq!(describe(None, None, Basis::Given, None), "all time (no posts yet)");
    }

    #[test]
    fn the_span_is_the_first_and_last_day_with_posts() {
        let row =
            |key: &str, posts: Option<f64>| Row { keys: vec![key.into()], values: vec![posts] };
        let answer = Answer {
            dimensions: vec!["day".into()],
            metrics: vec!["posts".into()],
            rows: vec![
                row("2026-11-02", Some(4.0)),
                row("2006-03-21", Some(1.0)),
                row("2026-11-30", Some(2.0)),
                row("2026-12-01", Some(0.0)),
            ],
            notes: Vec::new(),
        };
        assert_eq!(span_of(&answer), Some(SPAN));
        assert_eq!(span_of(&Answer { rows: Vec::new(), ..answer }), None);
    }
}
