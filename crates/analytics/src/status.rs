//! The workspace's headline counts: posts in all, by platform and side, and by local day.

use serde::Serialize;

use crate::{Analytics, AnalyticsError, query, to_json};

/// Posts of one platform and side.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlatformSide {
    /// The platform.
    pub platform: String,
    /// `own`, `competitor` or `audience`.
    pub side: String,
    /// Stored posts.
    pub posts: u64,
}

/// Posts of one local day.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DayCount {
    /// `YYYY-MM-DD` in the workspace's time zone.
    pub day: String,
    /// Stored posts.
    pub posts: u64,
}

/// The counts `status` shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Counts {
    /// Stored posts (the latest version of each).
    pub posts: u64,
    /// The newest post's time (RFC 3339), if any.
    pub latest_post: Option<String>,
    /// Posts by platform and side.
    pub by_platform_side: Vec<PlatformSide>,
    /// Posts by local day, most recent first.
    pub by_day: Vec<DayCount>,
}

fn text(row: &serde_json::Value, key: &str) -> String {
    match row.get(key) {
        Some(serde_json::Value::String(text)) => text.clone(),
        Some(serde_json::Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

fn number(row: &serde_json::Value, key: &str) -> u64 {
    row.get(key).and_then(serde_json::Value::as_u64).unwrap_or(0)
}

/// The counts, with the `days` most recent local days: from the daily rollup when it is
/// registered (a few thousand rows whatever the number of posts; the rollup counts every
/// post under its local day, platform and side), else from the posts (three aggregations).
pub async fn counts(
    analytics: &Analytics,
    time_zone: &str,
    days: usize,
) -> Result<Counts, AnalyticsError> {
    let rollup = analytics.context.table_exist("rollup")?;
    let (posts, day) = if rollup {
        ("CAST(sum(n) AS BIGINT)", "day".to_owned())
    } else {
        (
            "count(*)",
            format!("to_char(created_at AT TIME ZONE {}, '%Y-%m-%d')", query::quote(time_zone)),
        )
    };
    let source = if rollup { "rollup" } else { "posts" };
    // The newest post's time is not in the rollup: a one-column aggregate over the posts.
    let latest = to_json(&analytics.query("SELECT max(created_at) AS latest FROM posts").await?)?;
    let total =
        to_json(&analytics.query(&format!("SELECT {posts} AS posts FROM {source}")).await?)?;
    let sides = to_json(
        &analytics
            .query(&format!(
                "SELECT platform, coalesce(side, 'unknown') AS side, {posts} AS posts FROM {source} \
                 GROUP BY 1, 2 ORDER BY 1, 2"
            ))
            .await?,
    )?;
    let by_day = if days == 0 {
        serde_json::Value::Array(Vec::new())
    } else {
        to_json(
            &analytics
                .query(&format!(
                    "SELECT {day} AS day, {posts} AS posts FROM {source} \
                     GROUP BY 1 ORDER BY 1 DESC LIMIT {days}"
                ))
                .await?,
        )?
    };
    let rows = |value: &serde_json::Value| value.as_array().cloned().unwrap_or_default();
    let first = rows(&total).into_iter().next().unwrap_or_default();
    let latest = text(&rows(&latest).into_iter().next().unwrap_or_default(), "latest");
    Ok(Counts {
        posts: number(&first, "posts"),
        latest_post: (!latest.is_empty()).then_some(latest),
        by_platform_side: rows(&sides)
            .iter()
            .map(|row| PlatformSide {
                platform: text(row, "platform"),
                side: text(row, "side"),
                posts: number(row, "posts"),
            })
            .collect(),
        by_day: rows(&by_day)
            .iter()
            .map(|row| DayCount { day: text(row, "day"), posts: number(row, "posts") })
            .collect(),
    })
}
