//! Business hours between two instants, in the workspace's time zone, and the SQL function
//! `waterline_business_hours(start, end)` that the response metrics use.

use std::sync::Arc;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Builder};
use datafusion::arrow::datatypes::{DataType, TimeUnit, TimestampMicrosecondType};
use datafusion::logical_expr::{ColumnarValue, ScalarUDF, Volatility, create_udf};

/// When the brand's care desk works.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    /// The time zone the hours are read in.
    pub time_zone: chrono_tz::Tz,
    /// Working days.
    pub days: Vec<Weekday>,
    /// Opening time (local).
    pub opens: NaiveTime,
    /// Closing time (local), after `opens`.
    pub closes: NaiveTime,
}

impl Schedule {
    /// Parses `"09:00-18:00"` and day names (`mon`…`sun`).
    pub fn parse(
        time_zone: chrono_tz::Tz,
        hours: &str,
        days: &[String],
    ) -> Result<Schedule, String> {
        let (opens, closes) = hours
            .split_once('-')
            .ok_or_else(|| format!("business hours `{hours}`: use HH:MM-HH:MM"))?;
        let time = |text: &str| {
            NaiveTime::parse_from_str(text.trim(), "%H:%M")
                .map_err(|_| format!("business hours `{hours}`: `{text}` is not HH:MM"))
        };
        let (opens, closes) = (time(opens)?, time(closes)?);
        if closes <= opens {
            return Err(format!("business hours `{hours}`: closing must come after opening"));
        }
        let days = days
            .iter()
            .map(|day| {
                day.trim().parse::<Weekday>().map_err(|_| format!("unknown business day `{day}`"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Schedule { time_zone, days, opens, closes })
    }

    /// Monday to Friday, 09:00 to 18:00, in UTC.
    pub fn default_utc() -> Schedule {
        Schedule {
            time_zone: chrono_tz::UTC,
            days: vec![Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri],
            opens: NaiveTime::from_hms_opt(9, 0, 0).unwrap_or_default(),
            closes: NaiveTime::from_hms_opt(18, 0, 0).unwrap_or_default(),
        }
    }

    fn local(&self, day: NaiveDate, time: NaiveTime) -> Option<DateTime<Utc>> {
        self.time_zone
            .from_local_datetime(&day.and_time(time))
            .earliest()
            .map(|at| at.with_timezone(&Utc))
    }

    /// Working hours between `start` and `end` (0 when `end` is not after `start`).
    pub fn hours_between(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> f64 {
        if end <= start {
            return 0.0;
        }
        let first = start.with_timezone(&self.time_zone).date_naive();
        let last = end.with_timezone(&self.time_zone).date_naive();
        // A care desk that takes longer than three years is not counted day by day.
        let last = last.min(first + Duration::days(3 * 366));
        let mut seconds = 0i64;
        let mut day = first;
        while day <= last {
            if self.days.contains(&day.weekday())
                && let (Some(opens), Some(closes)) =
                    (self.local(day, self.opens), self.local(day, self.closes))
            {
                let from = opens.max(start);
                let to = closes.min(end);
                if to > from {
                    seconds += (to - from).num_seconds();
                }
            }
            let Some(next) = day.succ_opt() else { break };
            day = next;
        }
        seconds as f64 / 3600.0
    }
}

/// The SQL function `waterline_business_hours(start, end)` for a schedule: NULL when either
/// side is NULL.
pub fn udf(schedule: Schedule) -> ScalarUDF {
    let timestamp = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
    let function =
        Arc::new(move |args: &[ColumnarValue]| -> datafusion::error::Result<ColumnarValue> {
            let arrays = ColumnarValue::values_to_arrays(args)?;
            let (Some(starts), Some(ends)) = (arrays.first(), arrays.get(1)) else {
                return Err(datafusion::error::DataFusionError::Internal(
                    "two arguments expected".into(),
                ));
            };
            let cast = |array: &ArrayRef| {
                datafusion::arrow::compute::cast(
                    array,
                    &DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                )
            };
            let (starts, ends) = (cast(starts)?, cast(ends)?);
            let (starts, ends) = (
                starts.as_primitive::<TimestampMicrosecondType>(),
                ends.as_primitive::<TimestampMicrosecondType>(),
            );
            let mut out = Float64Builder::with_capacity(starts.len());
            for row in 0..starts.len() {
                if starts.is_null(row) || ends.is_null(row) {
                    out.append_null();
                    continue;
                }
                match (
                    DateTime::from_timestamp_micros(starts.value(row)),
                    DateTime::from_timestamp_micros(ends.value(row)),
                ) {
                    (Some(start), Some(end)) => {
                        out.append_value(schedule.hours_between(start, end))
                    }
                    _ => out.append_null(),
                }
            }
            Ok(ColumnarValue::Array(Arc::new(out.finish())))
        });
    create_udf(
        "waterline_business_hours",
        vec![timestamp.clone(), timestamp],
        DataType::Float64,
        Volatility::Immutable,
        function,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).expect("time").with_timezone(&Utc)
    }

    fn paris() -> Schedule {
        let days: Vec<String> =
            ["mon", "tue", "wed", "thu", "fri"].iter().map(|d| d.to_string()).collect();
        Schedule::parse("Europe/Paris".parse().expect("tz"), "09:00-18:00", &days)
            .expect("schedule")
    }

    #[test]
    fn counts_only_open_hours() {
        let schedule = paris();
        // Friday 17:00 Paris (16:00 UTC in winter) to Monday 10:00 Paris: 1 + 1 hours.
        let hours = schedule.hours_between(at("2026-01-09T16:00:00Z"), at("2026-01-12T09:00:00Z"));
        assert!((hours - 2.0).abs() < 1e-9, "{hours}");
        // Inside one working day.
        let hours = schedule.hours_between(at("2026-01-13T08:30:00Z"), at("2026-01-13T10:00:00Z"));
        assert!((hours - 1.5).abs() < 1e-9, "{hours}");
        assert_eq!(
            schedule.hours_between(at("2026-01-13T10:00:00Z"), at("2026-01-13T09:00:00Z")),
            0.0
        );
        // Saturday only.
        assert_eq!(
            schedule.hours_between(at("2026-01-10T08:00:00Z"), at("2026-01-10T20:00:00Z")),
            0.0
        );
    }

    #[test]
    fn follows_daylight_saving() {
        let schedule = paris();
        // Monday 30 March 2026 (summer time, UTC+2): 09:00 Paris is 07:00 UTC.
        let hours = schedule.hours_between(at("2026-03-30T06:00:00Z"), at("2026-03-30T08:00:00Z"));
        assert!((hours - 1.0).abs() < 1e-9, "{hours}");
        // A whole week across the change: five days of nine hours.
        let hours = schedule.hours_between(at("2026-03-23T00:00:00Z"), at("2026-04-03T00:00:00Z"));
        assert!((hours - 9.0 * 9.0).abs() < 1e-9, "{hours}");
    }

    #[test]
    fn bad_schedules_are_errors() {
        let tz = chrono_tz::UTC;
        assert!(Schedule::parse(tz, "18:00-09:00", &[]).is_err());
        assert!(Schedule::parse(tz, "9h-18h", &[]).is_err());
        assert!(Schedule::parse(tz, "09:00-18:00", &["funday".into()]).is_err());
    }
}
