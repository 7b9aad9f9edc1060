//! The post list behind every number: a page of posts, newest first, with the total that
//! match the same filters a metric query takes (period, platform, side, language,
//! sentiment, need, account, post type, topic), a text search, or the audience's
//! unanswered posts addressed to the brand.

use chrono::NaiveDate;

use crate::query::{self, Context, Filter, QueryError};
use crate::{Analytics, AnalyticsError, to_json};

/// Which posts to list.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PostList {
    /// First local day (inclusive).
    pub from: Option<NaiveDate>,
    /// Last local day (inclusive).
    pub to: Option<NaiveDate>,
    /// Filters; a `topic` filter's values are topic ids (the caller resolves names).
    pub filters: Vec<Filter>,
    /// Words the text must contain (case-insensitive).
    pub text: Option<String>,
    /// Audience posts addressed to the brand that need a reply and have none.
    pub unanswered: bool,
    /// 1-based page.
    pub page: u64,
    /// Posts per page.
    pub per_page: u64,
}

/// A page of posts.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PostPage {
    /// Posts that match.
    pub total: u64,
    /// The page.
    pub page: u64,
    /// Posts per page.
    pub per_page: u64,
    /// The page's posts with their annotations (JSON objects).
    pub posts: Vec<serde_json::Value>,
}

/// Why a list cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum ListError {
    /// A filter the list does not take.
    #[error(transparent)]
    Query(#[from] QueryError),
    /// The engine failed.
    #[error(transparent)]
    Engine(#[from] AnalyticsError),
}

/// The `WHERE` clause of a list over `posts p`.
fn where_sql(request: &PostList, context: &Context) -> Result<String, ListError> {
    let tz: chrono_tz::Tz = context.time_zone.parse().map_err(|_| {
        QueryError::Unsupported(format!("unknown time zone `{}`", context.time_zone))
    })?;
    let mut conditions: Vec<String> = Vec::new();
    let (start, end) = query::period_bounds(&tz, request.from, request.to);
    let stamp = |at: chrono::DateTime<chrono::Utc>| {
        query::quote(&at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string())
    };
    if let Some(start) = start {
        conditions.push(format!("p.created_at >= {}", stamp(start)));
    }
    if let Some(end) = end {
        conditions.push(format!("p.created_at < {}", stamp(end)));
    }
    for Filter { field, negate, values } in &request.filters {
        let list = values.iter().map(|v| query::quote(v)).collect::<Vec<_>>().join(", ");
        let not = if *negate { "NOT " } else { "" };
        let column = match field.as_str() {
            "platform" | "side" | "language" | "sentiment" | "need" => format!("p.{field}"),
            "account" => "concat(p.platform, ':', lower(p.author_handle))".to_owned(),
            "post_type" => query::post_type_sql(Some("p")),
            "topic" => {
                let ids = values
                    .iter()
                    .map(|value| {
                        value.parse::<u32>().map_err(|_| {
                            QueryError::Unsupported(format!("`{value}` is not a topic id"))
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let ids = ids.iter().map(u32::to_string).collect::<Vec<_>>().join(", ");
                conditions.push(if *negate {
                    format!("(p.topic_id IS NULL OR p.topic_id NOT IN ({ids}))")
                } else {
                    format!("p.topic_id IN ({ids})")
                });
                continue;
            }
            other => {
                return Err(QueryError::Unsupported(format!(
                    "posts cannot be filtered on `{other}` (platform, side, language, sentiment, need, account, post_type, topic)"
                ))
                .into());
            }
        };
        conditions.push(format!("{column} {not}IN ({list})"));
    }
    if let Some(text) = &request.text {
        for word in text.split_whitespace() {
            let pattern = format!("%{}%", word.to_lowercase().replace(['%', '_'], ""));
            conditions.push(format!("lower(p.text) LIKE {}", query::quote(&pattern)));
        }
    }
    if request.unanswered {
        conditions.push("p.side = 'audience' AND p.addressed_to_brand".to_owned());
        if !context.inbound_addressed {
            conditions.push("p.need IN ('question', 'complaint', 'request')".to_owned());
        }
    }
    Ok(if conditions.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conditions.join(" AND "))
    })
}

/// A page of posts, newest first, with the total that match (two bounded queries: a
/// `LIMIT`/`OFFSET` page and a count).
pub async fn list(
    analytics: &Analytics,
    context: &Context,
    request: &PostList,
) -> Result<PostPage, ListError> {
    let filter = where_sql(request, context)?;
    let from = if request.unanswered {
        "posts p \
         LEFT ANTI JOIN (SELECT DISTINCT platform AS r_platform, reply_to AS r_target FROM posts WHERE side = 'own' AND reply_to IS NOT NULL) r \
         ON p.platform = r.r_platform AND p.id = r.r_target \
         LEFT ANTI JOIN (SELECT DISTINCT platform AS c_platform, conversation_id AS c_conversation FROM posts WHERE side = 'own' AND reply_to IS NOT NULL AND conversation_id IS NOT NULL) c \
         ON p.platform = c.c_platform AND p.conversation_id = c.c_conversation"
    } else {
        "posts p"
    };
    let offset = (request.page.saturating_sub(1)).saturating_mul(request.per_page);
    let sql = format!(
        "SELECT p.platform, p.id, p.url, p.created_at, coalesce(p.author_handle, p.author_name, p.author_id) AS author, p.author_followers, p.text, \
         p.side, p.language, p.sentiment, p.sentiment_score, p.need, p.entities, p.addressed_to_brand, p.reply_to, p.conversation_id, \
         p.likes, p.shares, p.replies, p.quotes, p.views, \
         CASE WHEN p.likes IS NULL AND p.shares IS NULL AND p.replies IS NULL AND p.quotes IS NULL THEN NULL \
         ELSE coalesce(p.likes, 0) + coalesce(p.shares, 0) + coalesce(p.replies, 0) + coalesce(p.quotes, 0) END AS engagements \
         FROM {from} {filter} ORDER BY p.created_at DESC, p.platform, p.id LIMIT {} OFFSET {offset}",
        request.per_page
    );
    let count_sql = format!("SELECT count(*) AS total FROM {from} {filter}");
    let posts = to_json(&analytics.query(&sql).await?)?;
    let total = to_json(&analytics.query(&count_sql).await?)?;
    Ok(PostPage {
        total: total.get(0).and_then(|row| row.get("total")).and_then(|v| v.as_u64()).unwrap_or(0),
        page: request.page,
        per_page: request.per_page,
        posts: posts.as_array().cloned().unwrap_or_default(),
    })
}
