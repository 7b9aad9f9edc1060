//! The post list behind every number: a page of posts, newest first, with the total that
//! match the same filters a metric query takes (period, platform, side, language,
//! sentiment, need, account, post type, topic), a text search, or the inbound
//! conversations nobody answered (those the response metrics count as unanswered).

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
    /// The posts that opened an inbound conversation no own post answered (the response
    /// metrics' definition: `inbound` minus the answered ones).
    pub unanswered: bool,
    /// The posts that opened an inbound conversation, answered or not (what `inbound`
    /// counts).
    #[serde(default)]
    pub inbound: bool,
    /// The audience's interactions with the brand: posts addressed to it or mentioning it
    /// (what the author metrics count).
    #[serde(default)]
    pub interacting: bool,
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

/// Most words a text search takes (each is one condition on every post's text: a request
/// with thousands of them made the engine's planner overflow its stack).
pub const MAX_WORDS: usize = 16;
/// Longest word a text search takes.
pub const MAX_WORD_CHARS: usize = 100;

/// The `WHERE` clause of a list over `posts p`.
fn where_sql(request: &PostList, context: &Context) -> Result<String, ListError> {
    let tz: chrono_tz::Tz = context.time_zone.parse().map_err(|_| {
        QueryError::Unsupported(format!("unknown time zone `{}`", context.time_zone))
    })?;
    if request.filters.len() > query::MAX_FILTERS
        || request.filters.iter().any(|f| f.values.len() > query::MAX_FILTER_VALUES)
    {
        return Err(QueryError::Unsupported(format!(
            "a post list takes {} filters of {} values at most",
            query::MAX_FILTERS,
            query::MAX_FILTER_VALUES
        ))
        .into());
    }
    if let Some(text) = &request.text {
        let words = text.split_whitespace().count();
        if words > MAX_WORDS {
            return Err(QueryError::Unsupported(format!(
                "{words} words to search: a search takes {MAX_WORDS} at most"
            ))
            .into());
        }
        if text.split_whitespace().any(|word| word.chars().count() > MAX_WORD_CHARS) {
            return Err(QueryError::Unsupported(format!(
                "a word to search has {MAX_WORD_CHARS} characters at most"
            ))
            .into());
        }
    }
    let mut conditions: Vec<String> = Vec::new();
    if request.interacting {
        conditions.push(format!("p.side = 'audience' AND {}", query::interacts_sql(context)));
    }
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
            // The `account` dimension of the metric queries, so that a split's link lists
            // the posts the split counted.
            "account" => "coalesce(p.author_handle, p.author_id, 'unknown')".to_owned(),
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
            // ILIKE compares without case in place, where `lower(text)` first copies every
            // text of the period lowercased (about a fifth slower at 2 million posts).
            let pattern = format!("%{}%", word.to_lowercase().replace(['%', '_', '\\'], ""));
            conditions.push(format!("p.text ILIKE {}", query::quote(&pattern)));
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
    // Unanswered: the inbound conversations that no own post answered, listed by the post
    // that opened each, under the one definition the response metrics use (`inbound`,
    // `response_rate`): from the conversations cache when it is registered, else computed.
    let conversations =
        if analytics.context.table_exist("conversations").map_err(AnalyticsError::from)? {
            "conversations".to_owned()
        } else {
            format!("({})", query::conversations_sql(context))
        };
    let from = if request.unanswered || request.inbound {
        let answered = if request.unanswered { " WHERE answered_at IS NULL" } else { "" };
        format!(
            "(SELECT platform AS u_platform, id AS u_id FROM {conversations}{answered}) u \
             JOIN posts p ON p.platform = u.u_platform AND p.id = u.u_id"
        )
    } else {
        "posts p".to_owned()
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
