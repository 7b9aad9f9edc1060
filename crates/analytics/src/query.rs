//! One query shape for every number: metrics × dimensions × filters × date range.
//!
//! [`plan`] is a pure function from a [`Query`] and the workspace [`Context`] to SQL (one
//! statement per metric family; snapshot-tested); [`run`] executes the statements with
//! DataFusion and merges their rows on the dimension values. The CLI (`waterline query`),
//! baselines, milestones, the API and the dashboard all go through here.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::metrics::{self, BusinessMetric, Family, Formula, Metric, VoicePart};
use crate::{Analytics, AnalyticsError};

/// The dimensions a query can split by, in display order.
pub const DIMENSIONS: &[(&str, &str)] = &[
    ("hour", "hour of the post's creation, in the workspace time zone"),
    ("day", "local day (YYYY-MM-DD) in the workspace time zone"),
    ("week", "local week, named by its Monday"),
    ("month", "local month (YYYY-MM)"),
    ("platform", "x, mastodon, bluesky, reddit, …"),
    ("side", "own, competitor or audience"),
    ("language", "detected language (ISO 639-1, `und` when unknown)"),
    ("sentiment", "positive, neutral, negative (`unknown` before enrichment)"),
    ("need", "question, complaint, request or none"),
    (
        "account",
        "the author's handle; for response metrics the owned account addressed or answering",
    ),
    ("post_type", "original, reply, quote or repost"),
    ("topic", "the discovered topic's label (`waterline report listening` keeps the model)"),
    (
        "panel",
        "the brand or a competitor of the fixed panel a post mentions (a post may count for several)",
    ),
];

const TIME_DIMENSIONS: &[&str] = &["hour", "day", "week", "month"];

/// Errors of planning (the query is wrong, not the data).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum QueryError {
    /// An unknown metric name.
    #[error("unknown metric `{0}` (`waterline metrics` lists them)")]
    UnknownMetric(String),
    /// An unknown dimension or filter field.
    #[error("unknown dimension `{0}` (one of: {1})")]
    UnknownDimension(String, String),
    /// A filter that does not parse.
    #[error("bad filter `{0}`: use FIELD=VALUE[,VALUE…] or FIELD!=VALUE[,VALUE…]")]
    BadFilter(String),
    /// A combination the metric cannot answer.
    #[error("{0}")]
    Unsupported(String),
    /// No metric asked.
    #[error("no metric asked (`--metrics posts,engagements`; `waterline metrics` lists them)")]
    NoMetric,
}

/// A filter on a dimension: keep (or drop, when negated) the rows whose value is listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Filter {
    /// A dimension name (not a time bucket).
    pub field: String,
    /// True for `!=`.
    #[serde(default)]
    pub negate: bool,
    /// The values.
    pub values: Vec<String>,
}

impl Filter {
    /// Parses `field=a,b` or `field!=a`.
    pub fn parse(text: &str) -> Result<Filter, QueryError> {
        let (field, negate, values) = if let Some((field, values)) = text.split_once("!=") {
            (field, true, values)
        } else if let Some((field, values)) = text.split_once('=') {
            (field, false, values)
        } else {
            return Err(QueryError::BadFilter(text.to_owned()));
        };
        let field = field.trim().to_lowercase();
        let values: Vec<String> = values
            .split(',')
            .map(|value| value.trim().to_owned())
            .filter(|v| !v.is_empty())
            .collect();
        if field.is_empty() || values.is_empty() {
            return Err(QueryError::BadFilter(text.to_owned()));
        }
        Ok(Filter { field, negate, values })
    }
}

impl std::fmt::Display for Filter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}{}", self.field, if self.negate { "!=" } else { "=" }, self.values.join(","))
    }
}

/// What to compute.
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct Query {
    /// Catalogue names, `kpi:SERIES` or `kpi_share:SERIES`.
    pub metrics: Vec<String>,
    /// Dimension names.
    #[serde(default)]
    pub by: Vec<String>,
    /// Filters.
    #[serde(default, rename = "where")]
    pub filters: Vec<Filter>,
    /// First local day (inclusive).
    #[serde(default)]
    pub from: Option<NaiveDate>,
    /// Last local day (inclusive).
    #[serde(default)]
    pub to: Option<NaiveDate>,
    /// At most this many rows of a breakdown (time series are never cut).
    #[serde(default)]
    pub limit: Option<usize>,
    /// Return a ratio's numerator and denominator sums (`NAME__num`, `NAME__den`) instead
    /// of the ratio (baselines resample them by day).
    #[serde(skip)]
    pub parts: bool,
}

/// One member of the share-of-voice panel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PanelMember {
    /// The brand's or competitor's name.
    pub name: String,
    /// The entity annotations that count as a mention (`brand:…`, `product:…`, `competitor:…`).
    pub entities: Vec<String>,
}

/// The workspace facts the planner needs (built from `waterline.toml` by the caller).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Context {
    /// IANA time zone for buckets and local days.
    pub time_zone: String,
    /// The panel: the brand first, then the competitors.
    pub panel: Vec<PanelMember>,
    /// Owned handles, as configured (without `@`).
    pub own_handles: Vec<String>,
    /// Every audience post addressed to the brand needs a reply (care desks), not only
    /// questions, complaints and requests.
    pub inbound_addressed: bool,
    /// The `topic_names(id, name)` table (and the `post_topics(platform, id, topic)` view) is
    /// registered.
    pub topics: bool,
    /// The daily `rollup` table ([`rollup_sql`]) is registered (or may be built): post
    /// metrics that it can answer read it instead of scanning the posts.
    pub rollup: bool,
}

impl Context {
    /// The facts of a workspace configuration.
    pub fn from_config(config: &waterline_model::Config) -> Context {
        let mut brand = vec![format!("brand:{}", config.brand.trim())];
        brand.extend(config.products.iter().map(|product| format!("product:{}", product.name)));
        let mut panel = vec![PanelMember { name: config.brand.trim().to_owned(), entities: brand }];
        panel.extend(config.competitors.iter().map(|competitor| PanelMember {
            name: competitor.name.clone(),
            entities: vec![format!("competitor:{}", competitor.name)],
        }));
        let own_handles = config
            .accounts
            .values()
            .flatten()
            .map(|handle| handle.trim().trim_start_matches('@').to_owned())
            .collect();
        Context {
            time_zone: config.time_zone.clone(),
            panel,
            own_handles,
            inbound_addressed: config.responses.inbound == waterline_model::Inbound::Addressed,
            topics: false,
            rollup: false,
        }
    }
}

/// One SQL statement of a plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Statement {
    /// The family whose rows it reads.
    pub family: Family,
    /// The metric columns it returns (after the dimension columns).
    pub metrics: Vec<String>,
    /// `rollup` when it reads the daily rollup, else `posts`.
    pub source: &'static str,
    /// The SQL.
    pub sql: String,
}

/// The planned query.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    /// Dimension columns, in order (the query's, plus any a share metric needs).
    pub dimensions: Vec<String>,
    /// Metric columns, in the query's order.
    pub metrics: Vec<String>,
    /// The statements.
    pub statements: Vec<Statement>,
    /// The UTC bounds of the period, `[start, end)`.
    pub start: Option<DateTime<Utc>>,
    /// See `start`.
    pub end: Option<DateTime<Utc>>,
    /// What the planner decided on the user's behalf.
    pub notes: Vec<String>,
}

impl Plan {
    /// True when a statement reads the daily rollup (the caller registers it first).
    pub fn uses_rollup(&self) -> bool {
        self.statements.iter().any(|statement| statement.source == "rollup")
    }

    /// True when a statement reads the conversations cache (the caller registers it first).
    pub fn uses_conversations(&self) -> bool {
        self.statements.iter().any(|statement| statement.source == "conversations")
    }

    /// True when a statement reads the first-interactions cache (the caller registers it
    /// first).
    pub fn uses_first_interactions(&self) -> bool {
        self.statements.iter().any(|statement| statement.source == "first_interactions")
    }
}

/// The UTC instant a local day starts (the earliest, across a daylight-saving change).
pub fn local_day_start(time_zone: &chrono_tz::Tz, day: NaiveDate) -> DateTime<Utc> {
    let midnight = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    match time_zone.from_local_datetime(&midnight) {
        chrono::LocalResult::Single(at) | chrono::LocalResult::Ambiguous(at, _) => {
            at.with_timezone(&Utc)
        }
        // Midnight skipped by a change: the day starts at the first instant that exists.
        chrono::LocalResult::None => (1..=180)
            .find_map(|minutes| {
                time_zone
                    .from_local_datetime(&(midnight + chrono::Duration::minutes(minutes)))
                    .earliest()
            })
            .map(|at| at.with_timezone(&Utc))
            .unwrap_or_else(|| Utc.from_utc_datetime(&midnight)),
    }
}

/// The UTC bounds `[start, end)` of local days `from..=to`.
pub fn period_bounds(
    time_zone: &chrono_tz::Tz,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
    let start = from.map(|day| local_day_start(time_zone, day));
    let end = to.and_then(|day| day.succ_opt()).map(|day| local_day_start(time_zone, day));
    (start, end)
}

/// Quotes a SQL string literal.
pub fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn timestamp(at: DateTime<Utc>) -> String {
    quote(&at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string())
}

/// The expression of a dimension over the rows of the base relation.
fn dimension_sql(name: &str, tz: &str) -> String {
    let bucket = |unit: &str, format: &str| {
        format!("to_char(date_trunc('{unit}', created_at AT TIME ZONE {}), '{format}')", quote(tz))
    };
    match name {
        "hour" => bucket("hour", "%Y-%m-%dT%H:00%:z"),
        "day" => bucket("day", "%Y-%m-%d"),
        "week" => bucket("week", "%Y-%m-%d"),
        "month" => bucket("month", "%Y-%m"),
        "side" => "coalesce(side, 'unknown')".into(),
        "language" => "coalesce(language, 'und')".into(),
        "sentiment" => "coalesce(sentiment, 'unknown')".into(),
        "need" => "coalesce(need, 'none')".into(),
        "account" => "coalesce(author_handle, author_id, 'unknown')".into(),
        "topic" => "coalesce(topic, 'unassigned')".into(),
        // platform, post_type and panel are columns of the base relation.
        other => other.to_owned(),
    }
}

/// The columns of a post that the response family reads (its dimensions, filters,
/// metrics and the addressed account), carried through the conversations' window.
const CONVERSATION_COLUMNS: &[&str] = &[
    "platform",
    "id",
    "author_id",
    "author_handle",
    "created_at",
    "reply_to",
    "reply_to_author",
    "quote_of",
    "repost_of",
    "conversation_id",
    "mentions",
    "likes",
    "shares",
    "replies",
    "quotes",
    "views",
    "side",
    "language",
    "sentiment",
    "need",
    "addressed_to_brand",
    "topic_id",
    "engagements",
    "post_type",
    "mentions_brand",
];

/// The `account` of a response row: the owned account that answered, else the one addressed.
const RESPONSE_ACCOUNT: &str = "coalesce(responder, addressed_account, 'unknown')";

/// The part of a mention a share of voice counts, as a per-row number (a rollup row
/// stands for `n` posts and carries their engagements' sum).
fn voice_part(part: VoicePart, mention: &str, rollup: bool) -> String {
    let (one, engagements) = if rollup { ("n", "eng_sum") } else { ("1", "engagements") };
    match part {
        VoicePart::Mentions => format!("CASE WHEN {mention} THEN {one} ELSE 0 END"),
        VoicePart::Engagement => {
            format!("CASE WHEN {mention} THEN coalesce({engagements}, 0) ELSE 0 END")
        }
        VoicePart::Positive => {
            format!("CASE WHEN {mention} AND sentiment = 'positive' THEN {one} ELSE 0 END")
        }
        VoicePart::Negative => {
            format!("CASE WHEN {mention} AND sentiment = 'negative' THEN {one} ELSE 0 END")
        }
    }
}

/// The one definition of a post's type (the `post_type` dimension and filter, the
/// metrics' scopes and the server's post list): a repost first, then a reply, then a
/// quote, else an original; a reply that quotes is a reply. `table` qualifies the columns
/// (`Some("p")` reads `p.repost_of`).
pub fn post_type_sql(table: Option<&str>) -> String {
    let column = |name: &str| match table {
        Some(table) => format!("{table}.{name}"),
        None => name.to_owned(),
    };
    format!(
        "CASE WHEN {} IS NOT NULL THEN 'repost' WHEN {} IS NOT NULL THEN 'reply' \
         WHEN {} IS NOT NULL THEN 'quote' ELSE 'original' END",
        column("repost_of"),
        column("reply_to"),
        column("quote_of")
    )
}

/// The derived column `engagements`: the sum of the known parts, unknown when none is known.
const ENGAGEMENTS: &str = "CASE WHEN likes IS NULL AND shares IS NULL AND replies IS NULL AND quotes IS NULL THEN NULL \
     ELSE coalesce(likes, 0) + coalesce(shares, 0) + coalesce(replies, 0) + coalesce(quotes, 0) END";

fn mentions_sql(member: &PanelMember) -> String {
    if member.entities.is_empty() {
        return "false".into();
    }
    let list = member.entities.iter().map(|entity| quote(entity)).collect::<Vec<_>>().join(", ");
    format!("coalesce(array_has_any(entities, make_array({list})), false)")
}

/// The brand's (the panel's first member's) mention condition.
fn brand_mentions_sql(context: &Context) -> String {
    context.panel.first().map(mentions_sql).unwrap_or_else(|| "false".into())
}

pub(crate) fn interacts_sql(context: &Context) -> String {
    format!("(coalesce(addressed_to_brand, false) OR {})", brand_mentions_sql(context))
}

/// The posts with the derived columns every family reads (`engagements`, `post_type`,
/// `mentions_brand`).
fn derived_posts_sql(context: &Context) -> String {
    format!(
        "SELECT *, {ENGAGEMENTS} AS engagements, {} AS post_type, {} AS mentions_brand FROM posts",
        post_type_sql(None),
        brand_mentions_sql(context)
    )
}

/// Rows with their topic's name (`#id label`) joined on the topic assigned on arrival.
fn with_topics(sql: &str) -> String {
    format!(
        "SELECT d.*, t.name AS topic FROM topic_names t RIGHT JOIN ({sql}) d ON t.id = d.topic_id"
    )
}

/// `EXPR IN (…)` or `EXPR NOT IN (…)` for a filter's values.
fn in_list(expr: &str, filter: &Filter) -> String {
    let values = filter.values.iter().map(|value| quote(value)).collect::<Vec<_>>().join(", ");
    let not = if filter.negate { "NOT " } else { "" };
    format!("{expr} {not}IN ({values})")
}

/// The owned account a post addresses: the reply target or a mention, as configured.
fn addressed_account_sql(context: &Context) -> String {
    if context.own_handles.is_empty() {
        return "CAST(NULL AS VARCHAR)".into();
    }
    let mut arms = Vec::new();
    for handle in &context.own_handles {
        let lower = handle.to_lowercase();
        arms.push(format!(
            "WHEN lower(reply_to_author) = {} THEN {}",
            quote(&lower),
            quote(handle)
        ));
    }
    for handle in &context.own_handles {
        let mut spellings = vec![quote(handle)];
        let lower = handle.to_lowercase();
        if lower != *handle {
            spellings.push(quote(&lower));
        }
        arms.push(format!(
            "WHEN coalesce(array_has_any(mentions, make_array({})), false) THEN {}",
            spellings.join(", "),
            quote(handle)
        ));
    }
    format!("CASE {} END", arms.join(" "))
}

struct Planner<'a> {
    query: &'a Query,
    context: &'a Context,
    dimensions: Vec<String>,
    /// Post metrics read the daily rollup (a row stands for `n` posts).
    rollup: bool,
    /// Response metrics read the conversations cache (a row is a conversation).
    conversations: bool,
    /// Author metrics read each author's first interaction from the first-interactions
    /// cache instead of grouping every interacting post of all time.
    first_interactions: bool,
}

/// Dimensions the daily rollup keeps.
const ROLLUP_DIMENSIONS: &[&str] = &[
    "day",
    "week",
    "month",
    "platform",
    "side",
    "language",
    "sentiment",
    "need",
    "post_type",
    "panel",
    "account",
];

/// Per-post values the rollup keeps as sums and counts.
const ROLLUP_VALUES: &[&str] = &["likes", "shares", "replies"];

/// The SQL that builds the daily rollup: one row per local day and combination of
/// platform, side, post type, language, sentiment, need, account (own and competitor
/// accounts only; audience authors are too many) and panel mentions, with the count of
/// posts and the sums and counts the additive post metrics need.
pub fn rollup_sql(context: &Context) -> String {
    let mentions: Vec<String> = context
        .panel
        .iter()
        .enumerate()
        .map(|(index, member)| format!("{} AS m{index}", mentions_sql(member)))
        .collect();
    let mut values = vec!["count(*) AS n".to_owned(), "sum(engagements) AS eng_sum".to_owned()];
    for value in ROLLUP_VALUES {
        values.push(format!("sum({value}) AS {value}_sum"));
        values.push(format!("count({value}) AS {value}_n"));
    }
    let keys = 8 + mentions.len();
    format!(
        "SELECT to_char(date_trunc('day', created_at AT TIME ZONE {tz}), '%Y-%m-%d') AS day, platform, \
         coalesce(side, 'unknown') AS side, {post_type} AS post_type, coalesce(language, 'und') AS language, \
         coalesce(sentiment, 'unknown') AS sentiment, coalesce(need, 'none') AS need, \
         CASE WHEN side IN ('own', 'competitor') THEN coalesce(author_handle, author_id, 'unknown') END AS account, \
         {}{} FROM (SELECT *, {ENGAGEMENTS} AS engagements FROM posts) p GROUP BY {}",
        mentions.iter().map(|m| format!("{m}, ")).collect::<String>(),
        values.join(", "),
        (1..=keys).map(|i| i.to_string()).collect::<Vec<_>>().join(", "),
        tz = quote(&context.time_zone),
        post_type = post_type_sql(None),
    )
}

/// The SQL that builds the first-interactions cache: each interacting audience author
/// (`ever_key`) with the time of their first interaction ever (`first_ever`), which tells
/// new authors from returning ones in any period.
pub fn first_interactions_sql(context: &Context) -> String {
    format!(
        "SELECT coalesce(author_id, author_handle) AS ever_key, min(created_at) AS first_ever \
         FROM posts WHERE side = 'audience' AND {} GROUP BY 1",
        interacts_sql(context)
    )
}

/// The SQL that builds the conversations cache: one row per inbound conversation with its
/// attributes, its answer and the hours to it (business hours under the schedule registered
/// when it is built).
pub fn conversations_sql(context: &Context) -> String {
    let query = Query::default();
    let planner = Planner {
        query: &query,
        context,
        dimensions: Vec::new(),
        rollup: false,
        conversations: false,
        first_interactions: false,
    };
    format!(
        "{} SELECT to_char(date_trunc('day', created_at AT TIME ZONE {}), '%Y-%m-%d') AS day, platform, \
         coalesce(side, 'unknown') AS side, coalesce(language, 'und') AS language, coalesce(sentiment, 'unknown') AS sentiment, \
         coalesce(need, 'none') AS need, post_type, {RESPONSE_ACCOUNT} AS account, id, created_at, answered_at, \
         response_hours, response_business_hours FROM x",
        planner.conversations(),
        quote(&context.time_zone)
    )
}

/// Dimensions the conversations cache keeps.
const CONVERSATION_DIMENSIONS: &[&str] = &[
    "day",
    "week",
    "month",
    "platform",
    "side",
    "language",
    "sentiment",
    "need",
    "post_type",
    "account",
];

/// True when the conversations cache answers this query's response metrics.
fn conversations_answer(query: &Query, dimensions: &[String]) -> bool {
    dimensions
        .iter()
        .map(String::as_str)
        .chain(query.filters.iter().map(|f| f.field.as_str()))
        .all(|field| CONVERSATION_DIMENSIONS.contains(&field))
}

/// True when the daily rollup answers these post metrics under this query.
fn rollup_answers(query: &Query, dimensions: &[String], metrics: &[&Metric]) -> bool {
    let fields =
        dimensions.iter().map(String::as_str).chain(query.filters.iter().map(|f| f.field.as_str()));
    if fields.clone().any(|field| !ROLLUP_DIMENSIONS.contains(&field)) {
        return false;
    }
    // Accounts are kept for the brand's and competitors' posts only.
    if fields.clone().any(|field| field == "account")
        && !query.filters.iter().any(|f| {
            f.field == "side"
                && !f.negate
                && f.values.iter().all(|v| v == "own" || v == "competitor")
        })
    {
        return false;
    }
    metrics.iter().all(|metric| match metric.formula {
        Formula::Count { when } => when.is_none_or(|w| w == "mentions_brand"),
        Formula::Sum { value } => value == "engagements",
        Formula::Ratio { .. } | Formula::Voice { .. } | Formula::ShareOf { .. } => true,
        Formula::Mean { value } => ROLLUP_VALUES.contains(&value),
        Formula::Percentile { .. } | Formula::Distinct { .. } => false,
    })
}

impl Planner<'_> {
    /// A dimension's expression over the base rows (posts, or the rollup).
    fn dim(&self, name: &str) -> String {
        if self.rollup || self.conversations {
            match name {
                "week" => "to_char(date_trunc('week', CAST(day AS TIMESTAMP)), '%Y-%m-%d')".into(),
                "month" => "substr(day, 1, 7)".into(),
                "account" => "coalesce(account, 'unknown')".into(),
                other => other.to_owned(),
            }
        } else {
            dimension_sql(name, &self.context.time_zone)
        }
    }

    /// A per-row value summed over the base rows: a rollup row carries `engagements` as its
    /// sum.
    fn value(&self, value: &str) -> String {
        if self.rollup && value == "engagements" { "eng_sum".into() } else { value.to_owned() }
    }

    /// A per-post number that depends only on rollup keys, weighted by the posts a row
    /// stands for.
    fn weight(&self, per_post: &str) -> String {
        if self.rollup { format!("({per_post}) * n") } else { per_post.to_owned() }
    }

    /// The rollup's expression of a member's mention, by panel index.
    fn mention(&self, index: usize) -> String {
        if self.rollup {
            format!("m{index}")
        } else {
            self.context.panel.get(index).map(mentions_sql).unwrap_or_else(|| "false".into())
        }
    }

    fn has(&self, field: &str) -> bool {
        self.dimensions.iter().any(|d| d == field)
            || self.query.filters.iter().any(|filter| filter.field == field)
    }

    fn filter_sql(&self, filter: &Filter) -> String {
        in_list(&self.dim(&filter.field), filter)
    }

    /// The period's conditions: local day strings on a cache, UTC bounds on the posts.
    fn period(&self, by_day: bool) -> Vec<String> {
        let mut conditions = Vec::new();
        if by_day {
            if let Some(from) = self.query.from {
                conditions.push(format!("day >= {}", quote(&from.to_string())));
            }
            if let Some(to) = self.query.to {
                conditions.push(format!("day <= {}", quote(&to.to_string())));
            }
        } else {
            let tz: chrono_tz::Tz = self.context.time_zone.parse().unwrap_or(chrono_tz::UTC);
            let (start, end) = period_bounds(&tz, self.query.from, self.query.to);
            if let Some(start) = start {
                conditions.push(format!("created_at >= {}", timestamp(start)));
            }
            if let Some(end) = end {
                conditions.push(format!("created_at < {}", timestamp(end)));
            }
        }
        conditions
    }

    /// The scope condition of a metric, without the pairs the query overrides.
    fn scope(&self, metric: &Metric) -> Option<String> {
        let parts: Vec<String> = metric
            .scope
            .iter()
            .filter(|(field, _)| !self.has(field))
            .map(|(field, value)| format!("{} = {}", self.dim(field), quote(value)))
            .collect();
        (!parts.is_empty()).then(|| parts.join(" AND "))
    }

    /// `WITH b AS (…)`: the posts of the period with derived columns, filtered. Filters on
    /// `skip` fields are left to the caller.
    fn base(&self, skip: &[&str], panel: bool) -> String {
        // Local days are the rollup's keys: there the period is a range of day strings.
        let range = self.period(self.rollup);
        let mut sql = derived_posts_sql(self.context);
        if self.rollup {
            let brand =
                if self.context.panel.is_empty() { "false".to_owned() } else { self.mention(0) };
            sql = format!("SELECT *, {brand} AS mentions_brand FROM rollup");
        }
        if !range.is_empty() {
            sql.push_str(&format!(" WHERE {}", range.join(" AND ")));
        }
        if self.has("topic") {
            sql = with_topics(&sql);
        }
        let filters: Vec<String> = self
            .query
            .filters
            .iter()
            .filter(|filter| filter.field != "panel" && !skip.contains(&filter.field.as_str()))
            .map(|filter| self.filter_sql(filter))
            .collect();
        if !filters.is_empty() {
            sql = format!("SELECT * FROM ({sql}) f WHERE {}", filters.join(" AND "));
        }
        let mut with = format!("WITH b AS ({sql})");
        if panel {
            let wanted = self.query.filters.iter().find(|filter| filter.field == "panel");
            let members: Vec<String> = self
                .context
                .panel
                .iter()
                .enumerate()
                .filter(|(_, member)| {
                    wanted
                        .is_none_or(|filter| filter.values.contains(&member.name) != filter.negate)
                })
                .map(|(index, member)| {
                    format!(
                        "SELECT {} AS panel, * FROM b WHERE {}",
                        quote(&member.name),
                        self.mention(index)
                    )
                })
                .collect();
            let union = if members.is_empty() {
                "SELECT CAST(NULL AS VARCHAR) AS panel, * FROM b WHERE false".to_owned()
            } else {
                members.join(" UNION ALL ")
            };
            with.push_str(&format!(", bp AS ({union})"));
        }
        with
    }

    fn dims_select(&self, skip: &[&str]) -> Vec<String> {
        self.dimensions
            .iter()
            .filter(|d| !skip.contains(&d.as_str()))
            .map(|d| format!("{} AS {}", self.dim(d), quote_ident(d)))
            .collect()
    }

    fn group_by(&self, count: usize) -> String {
        if count == 0 {
            String::new()
        } else {
            format!(
                " GROUP BY {}",
                (1..=count).map(|i| i.to_string()).collect::<Vec<_>>().join(", ")
            )
        }
    }

    fn partition_except(&self, over: &str) -> String {
        // Window partitions see the grouped input: name the dimensions' expressions, not
        // their output aliases.
        let others: Vec<String> =
            self.dimensions.iter().filter(|d| *d != over).map(|d| self.dim(d)).collect();
        if others.is_empty() {
            "OVER ()".into()
        } else {
            format!("OVER (PARTITION BY {})", others.join(", "))
        }
    }

    /// The aggregate expression of a metric over rows with the metric's scope.
    fn aggregate(&self, metric: &Metric, panel: bool) -> String {
        let scope = self.scope(metric);
        let when = |condition: Option<&str>, value: &str| -> String {
            match (scope.as_deref(), condition) {
                (None, None) => value.to_owned(),
                (Some(a), None) | (None, Some(a)) => format!("CASE WHEN {a} THEN {value} END"),
                (Some(a), Some(b)) => format!("CASE WHEN {a} AND ({b}) THEN {value} END"),
            }
        };
        match metric.formula {
            Formula::Count { when: condition } => {
                // Split by panel, every row mentions its member.
                let condition = condition.filter(|c| !(panel && *c == "mentions_brand"));
                if self.rollup {
                    format!("sum({})", when(condition, "n"))
                } else if scope.is_none() && condition.is_none() {
                    "count(*)".into()
                } else {
                    format!("count({})", when(condition, "1"))
                }
            }
            Formula::Sum { value } => format!("sum({})", when(None, &self.value(value))),
            Formula::Ratio { numerator, denominator, scale } => {
                let scale = if scale == 1.0 { String::new() } else { format!(" * {scale:?}") };
                format!(
                    "CAST(sum({}) AS DOUBLE){scale} / nullif(sum({}), 0)",
                    when(None, &self.weight(numerator)),
                    when(None, &self.weight(denominator))
                )
            }
            Formula::Mean { value } if self.rollup => format!(
                "CAST(sum({}) AS DOUBLE) / nullif(sum({}), 0)",
                when(None, &format!("{value}_sum")),
                when(None, &format!("{value}_n"))
            ),
            Formula::Mean { value } => format!("avg(CAST({} AS DOUBLE))", when(None, value)),
            Formula::Percentile { value, fraction } => {
                let value = when(None, &format!("CAST({value} AS DOUBLE)"));
                if fraction == 0.5 {
                    format!("median({value})")
                } else {
                    format!("percentile_cont({fraction:?}) WITHIN GROUP (ORDER BY {value})")
                }
            }
            Formula::Distinct { key } => format!("count(DISTINCT {})", when(None, key)),
            Formula::Voice { part } => {
                let on_row = |mention: &str| voice_part(part, mention, self.rollup);
                if panel {
                    let part = format!("sum({})", when(None, &on_row("true")));
                    format!(
                        "CAST({part} AS DOUBLE) / nullif(sum({part}) {}, 0)",
                        self.partition_except("panel")
                    )
                } else {
                    let members: Vec<String> =
                        (0..self.context.panel.len()).map(|i| on_row(&self.mention(i))).collect();
                    let brand = members.first().cloned().unwrap_or_else(|| "0".into());
                    let total = if members.is_empty() { "0".into() } else { members.join(" + ") };
                    format!(
                        "CAST(sum({}) AS DOUBLE) / nullif(sum({}), 0)",
                        when(None, &brand),
                        when(None, &total)
                    )
                }
            }
            Formula::ShareOf { over, engagements } => {
                let inner = if engagements {
                    format!("sum({})", when(None, &self.value("engagements")))
                } else if self.rollup {
                    format!("sum({})", when(None, "n"))
                } else if scope.is_none() {
                    "count(*)".into()
                } else {
                    format!("count({})", when(None, "1"))
                };
                format!(
                    "CAST({inner} AS DOUBLE) / nullif(sum({inner}) {}, 0)",
                    self.partition_except(over)
                )
            }
        }
    }

    /// The output columns of a metric: the aggregate, or a ratio's two sums in parts mode.
    fn columns(&self, metric: &Metric, panel: bool) -> Vec<String> {
        if self.query.parts
            && !panel
            && let Some((numerator, denominator)) = self.parts(metric)
        {
            return vec![
                format!("{numerator} AS {}", quote_ident(&format!("{}__num", metric.name))),
                format!("{denominator} AS {}", quote_ident(&format!("{}__den", metric.name))),
            ];
        }
        vec![format!("{} AS {}", self.aggregate(metric, panel), quote_ident(metric.name))]
    }

    /// A ratio metric's numerator and denominator sums.
    fn parts(&self, metric: &Metric) -> Option<(String, String)> {
        let scope = self.scope(metric);
        let when = |value: &str| match scope.as_deref() {
            None => value.to_owned(),
            Some(condition) => format!("CASE WHEN {condition} THEN {value} END"),
        };
        match metric.formula {
            Formula::Ratio { numerator, denominator, .. } => Some((
                format!("CAST(sum({}) AS DOUBLE)", when(&self.weight(numerator))),
                format!("CAST(sum({}) AS DOUBLE)", when(&self.weight(denominator))),
            )),
            Formula::Voice { part } => {
                let on_row = |mention: &str| voice_part(part, mention, self.rollup);
                let members: Vec<String> =
                    (0..self.context.panel.len()).map(|i| on_row(&self.mention(i))).collect();
                let brand = members.first().cloned().unwrap_or_else(|| "0".into());
                let total = if members.is_empty() { "0".into() } else { members.join(" + ") };
                Some((
                    format!("CAST(sum({}) AS DOUBLE)", when(&brand)),
                    format!("CAST(sum({}) AS DOUBLE)", when(&total)),
                ))
            }
            _ => None,
        }
    }

    /// Every row's value of a per-row metric (mean or percentile), for resampling.
    fn values_statement(&self, metric: &Metric) -> Option<String> {
        let value = match metric.formula {
            Formula::Mean { value } | Formula::Percentile { value, .. } => value,
            _ => return None,
        };
        let mut conditions = vec![format!("({value}) IS NOT NULL")];
        conditions.extend(self.scope(metric));
        let select = format!(
            "SELECT CAST({value} AS DOUBLE) AS v FROM {{}} WHERE {}",
            conditions.join(" AND ")
        );
        match metric.family {
            Family::Posts => {
                Some(format!("{} {}", self.base(&[], false), select.replace("{}", "b")))
            }
            Family::Responses => {
                Some(format!("{} {}", self.responses_with(), select.replace("{}", "y")))
            }
            _ => None,
        }
    }

    fn posts_statement(&self, metrics: &[&Metric]) -> String {
        let panel = self.dimensions.iter().any(|d| d == "panel");
        let mut columns = self.dims_select(&[]);
        let dims = columns.len();
        for metric in metrics {
            columns.extend(self.columns(metric, panel));
        }
        let from = if panel { "bp" } else { "b" };
        format!(
            "{} SELECT {} FROM {from}{}",
            self.base(&[], panel),
            columns.join(", "),
            self.group_by(dims)
        )
    }

    fn authors_statement(&self, metrics: &[&Metric]) -> String {
        let interacts = interacts_sql(self.context);
        let dims = self.dims_select(&[]);
        let names: Vec<String> = self.dimensions.iter().map(|d| quote_ident(d)).collect();
        let mut inner = dims.clone();
        inner.push("coalesce(author_id, author_handle) AS author_key".into());
        inner.push("count(*) AS n".into());
        inner.push("min(created_at) AS first_here".into());
        let mut outer = names.clone();
        for metric in metrics {
            outer.push(format!(
                "{} AS {}",
                self.aggregate(metric, false),
                quote_ident(metric.name)
            ));
        }
        format!(
            "{}, i AS (SELECT {} FROM b WHERE side = 'audience' AND {interacts}{}), \
             f AS ({}) \
             SELECT {} FROM i JOIN f ON i.author_key = f.ever_key{}",
            self.base(&[], false),
            inner.join(", "),
            self.group_by(dims.len() + 1),
            if self.first_interactions {
                "SELECT ever_key, first_ever FROM first_interactions".to_owned()
            } else {
                first_interactions_sql(self.context)
            },
            outer.join(", "),
            self.group_by(names.len())
        )
    }

    /// The CTEs that find every inbound conversation (ending with `x`: one row per
    /// conversation, from its first inbound post, with its answer), before any period or
    /// filter: a conversation counts once, in the period and under the attributes of the post
    /// that opened it.
    fn conversations(&self) -> String {
        let need = if self.context.inbound_addressed {
            String::new()
        } else {
            " AND d.need IN ('question', 'complaint', 'request')".into()
        };
        let mut posts = derived_posts_sql(self.context);
        let mut columns = CONVERSATION_COLUMNS.iter().map(|c| format!("d.{c}")).collect::<Vec<_>>();
        if self.has("topic") {
            posts = with_topics(&posts);
            columns.push("d.topic".into());
        }
        // Each conversation's first post is found by an aggregate (its id, the first by time
        // then id) and joined back: a window numbering every post of its conversation held
        // and sorted them all (1 GB at 2 million posts, against 0.4 GB, and 3.4 s against
        // 1.0 s); the join back carries only the columns a response query reads. The small
        // side of each join comes first: the engine builds its hash table from the left
        // input when it cannot tell the sizes (`d LEFT JOIN oc` held every audience post:
        // 1.3 GB at 2 million posts, against 0.35 GB for `oc RIGHT JOIN d`).
        let columns = columns.join(", ");
        format!(
            "WITH d AS ({posts}), \
             oc AS (SELECT DISTINCT platform AS oc_platform, coalesce(conversation_id, reply_to) AS oc_conv \
             FROM posts WHERE side = 'own' AND coalesce(conversation_id, reply_to) IS NOT NULL), \
             f AS (SELECT d.platform AS f_platform, first_value(d.id ORDER BY d.created_at, d.id) AS f_id \
             FROM oc RIGHT JOIN d ON oc.oc_platform = d.platform AND oc.oc_conv = coalesce(d.conversation_id, d.id) \
             WHERE d.side = 'audience' AND (coalesce(d.addressed_to_brand, false) OR oc.oc_conv IS NOT NULL){need} \
             GROUP BY d.platform, coalesce(d.conversation_id, d.id)), \
             i AS (SELECT {columns}, coalesce(d.conversation_id, d.id) AS conv FROM f \
             JOIN d ON f.f_platform = d.platform AND f.f_id = d.id), \
             a AS (SELECT i.platform AS platform, i.id AS id, min(r.created_at) AS answered_at, \
             first_value(r.author_handle ORDER BY r.created_at) AS responder FROM i JOIN posts r \
             ON r.platform = i.platform AND coalesce(r.conversation_id, r.reply_to) = i.conv \
             WHERE r.side = 'own' AND r.created_at > i.created_at GROUP BY 1, 2), \
             x AS (SELECT i.*, a.answered_at, a.responder, \
             (date_part('epoch', a.answered_at) - date_part('epoch', i.created_at)) / 3600.0 AS response_hours, \
             waterline_business_hours(i.created_at, a.answered_at) AS response_business_hours, \
             {} AS addressed_account FROM i LEFT JOIN a ON a.platform = i.platform AND a.id = i.id)",
            addressed_account_sql(self.context),
        )
    }

    /// A dimension of the response family (`account`: who answered, else who was addressed).
    fn response_dim(&self, name: &str) -> String {
        match (name, self.conversations) {
            ("account", false) => RESPONSE_ACCOUNT.to_owned(),
            _ => self.dim(name),
        }
    }

    /// `WITH …, y AS (…)`: the inbound conversations of the period under the filters, from
    /// the conversations cache or the posts.
    fn responses_with(&self) -> String {
        let mut conditions = self.period(self.conversations);
        for filter in &self.query.filters {
            conditions.push(in_list(&self.response_dim(&filter.field), filter));
        }
        let filter = if conditions.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", conditions.join(" AND "))
        };
        if self.conversations {
            format!("WITH y AS (SELECT * FROM conversations{filter})")
        } else {
            format!("{}, y AS (SELECT * FROM x{filter})", self.conversations())
        }
    }

    fn responses_statement(&self, metrics: &[&Metric]) -> String {
        let dims: Vec<String> = self
            .dimensions
            .iter()
            .map(|d| format!("{} AS {}", self.response_dim(d), quote_ident(d)))
            .collect();
        let mut columns = dims.clone();
        for metric in metrics {
            columns.extend(self.columns(metric, false));
        }
        format!(
            "{} SELECT {} FROM y{}",
            self.responses_with(),
            columns.join(", "),
            self.group_by(dims.len())
        )
    }

    fn business_statement(
        &self,
        metric: &BusinessMetric,
        name: &str,
    ) -> Result<String, QueryError> {
        for dimension in &self.dimensions {
            if !matches!(dimension.as_str(), "day" | "week" | "month" | "panel") {
                return Err(QueryError::Unsupported(format!(
                    "business metric `{name}` can be split by day, week, month and panel only, not `{dimension}`"
                )));
            }
        }
        if let Some(filter) = self.query.filters.iter().find(|f| f.field != "panel") {
            return Err(QueryError::Unsupported(format!(
                "business metric `{name}` cannot be filtered by `{}`",
                filter.field
            )));
        }
        let brand = self.context.panel.first().map(|m| m.name.clone()).unwrap_or_default();
        let panel = format!("coalesce(competitor, {})", quote(&brand));
        let mut columns = Vec::new();
        let mut others = Vec::new();
        for dimension in &self.dimensions {
            let expr = match dimension.as_str() {
                "day" => "to_char(day, '%Y-%m-%d')".to_owned(),
                "week" => {
                    "to_char(date_trunc('week', CAST(day AS TIMESTAMP)), '%Y-%m-%d')".to_owned()
                }
                "month" => {
                    "to_char(date_trunc('month', CAST(day AS TIMESTAMP)), '%Y-%m')".to_owned()
                }
                _ => panel.clone(),
            };
            if dimension != "panel" {
                others.push(expr.clone());
            }
            columns.push(format!("{expr} AS {}", quote_ident(dimension)));
        }
        let partition = if others.is_empty() {
            "OVER ()".to_owned()
        } else {
            format!("OVER (PARTITION BY {})", others.join(", "))
        };
        let dims = columns.len();
        let has_panel = self.dimensions.iter().any(|d| d == "panel");
        let value = if !metric.share {
            "sum(value)".to_owned()
        } else if has_panel {
            format!("sum(value) / nullif(sum(sum(value)) {partition}, 0)")
        } else {
            "sum(CASE WHEN competitor IS NULL THEN value END) / nullif(sum(value), 0)".to_owned()
        };
        columns.push(format!("{value} AS {}", quote_ident(name)));
        let mut conditions = vec![format!("series = {}", quote(&metric.series))];
        if let Some(from) = self.query.from {
            conditions.push(format!("day >= CAST({} AS DATE)", quote(&from.to_string())));
        }
        if let Some(to) = self.query.to {
            conditions.push(format!("day <= CAST({} AS DATE)", quote(&to.to_string())));
        }
        if let Some(filter) = self.query.filters.iter().find(|f| f.field == "panel") {
            conditions.push(in_list(&panel, filter));
        }
        Ok(format!(
            "SELECT {} FROM business WHERE {}{}",
            columns.join(", "),
            conditions.join(" AND "),
            self.group_by(dims)
        ))
    }
}

fn output_names(metrics: &[&Metric], parts: bool, planner: &Planner<'_>) -> Vec<String> {
    let panel = planner.dimensions.iter().any(|d| d == "panel");
    let mut names = Vec::new();
    for metric in metrics {
        if parts && !panel && planner.parts(metric).is_some() {
            names.push(format!("{}__num", metric.name));
            names.push(format!("{}__den", metric.name));
        } else {
            names.push(metric.name.to_owned());
        }
    }
    names
}

/// The SQL listing every row's value of a per-row metric (a mean or a percentile) under the
/// query's filters and period, or `None` for other metrics.
pub fn values_sql(query: &Query, context: &Context, metric: &Metric) -> Option<String> {
    let planner = Planner {
        query,
        context,
        dimensions: Vec::new(),
        rollup: false,
        conversations: false,
        first_interactions: false,
    };
    planner.values_statement(metric)
}

/// Plans a query: checks names, adds the dimensions share metrics need, and writes one
/// SQL statement per metric family. Pure: same query and context, same SQL.
/// Most metrics, dimensions, filters and values per filter one query may ask: far above what
/// a person or a dashboard asks, and low enough that no request can make the engine's planner
/// recurse out of its stack or plan for minutes (a query is a request like any other: its
/// size is bounded).
pub const MAX_METRICS: usize = 64;
/// See [`MAX_METRICS`].
pub const MAX_DIMENSIONS: usize = 8;
/// See [`MAX_METRICS`].
pub const MAX_FILTERS: usize = 32;
/// See [`MAX_METRICS`].
pub const MAX_FILTER_VALUES: usize = 1_000;

/// Refuses a query larger than the bounds above, naming the bound.
pub fn check_size(query: &Query) -> Result<(), QueryError> {
    let too_many = |what: &str, asked: usize, most: usize| {
        Err(QueryError::Unsupported(format!("{asked} {what} asked: a query takes {most} at most")))
    };
    if query.metrics.len() > MAX_METRICS {
        return too_many("metrics", query.metrics.len(), MAX_METRICS);
    }
    if query.by.len() > MAX_DIMENSIONS {
        return too_many("dimensions", query.by.len(), MAX_DIMENSIONS);
    }
    if query.filters.len() > MAX_FILTERS {
        return too_many("filters", query.filters.len(), MAX_FILTERS);
    }
    if let Some(filter) = query.filters.iter().find(|f| f.values.len() > MAX_FILTER_VALUES) {
        return too_many(
            &format!("values for `{}`", filter.field),
            filter.values.len(),
            MAX_FILTER_VALUES,
        );
    }
    Ok(())
}

pub fn plan(query: &Query, context: &Context) -> Result<Plan, QueryError> {
    check_size(query)?;
    if query.metrics.is_empty() {
        return Err(QueryError::NoMetric);
    }
    let known = || DIMENSIONS.iter().map(|(name, _)| *name).collect::<Vec<_>>().join(", ");
    let mut dimensions: Vec<String> = Vec::new();
    for name in &query.by {
        let name = name.trim().to_lowercase();
        if !DIMENSIONS.iter().any(|(known, _)| *known == name) {
            return Err(QueryError::UnknownDimension(name, known()));
        }
        if !dimensions.contains(&name) {
            dimensions.push(name);
        }
    }
    if dimensions.iter().filter(|d| TIME_DIMENSIONS.contains(&d.as_str())).count() > 1 {
        return Err(QueryError::Unsupported("split by one time bucket at most".into()));
    }
    for filter in &query.filters {
        if !DIMENSIONS.iter().any(|(known, _)| *known == filter.field) {
            return Err(QueryError::UnknownDimension(filter.field.clone(), known()));
        }
        if TIME_DIMENSIONS.contains(&filter.field.as_str()) {
            return Err(QueryError::Unsupported(format!(
                "filter time with --from and --to, not `{}`",
                filter.field
            )));
        }
    }
    let mut notes = Vec::new();
    let mut catalogue: Vec<&Metric> = Vec::new();
    let mut business: Vec<(BusinessMetric, String)> = Vec::new();
    for name in &query.metrics {
        let name = name.trim();
        if let Some(metric) = metrics::find(name) {
            if let Formula::ShareOf { over, .. } = metric.formula
                && !dimensions.iter().any(|d| d == over)
            {
                dimensions.push(over.to_owned());
                notes.push(format!("`{name}` is a share across `{over}`: split by `{over}`"));
            }
            catalogue.push(metric);
        } else if let Some(metric) = BusinessMetric::parse(name) {
            if metric.series.is_empty() {
                return Err(QueryError::UnknownMetric(name.to_owned()));
            }
            business.push((metric, name.to_owned()));
        } else {
            return Err(QueryError::UnknownMetric(name.to_owned()));
        }
    }
    let posts_metrics: Vec<&Metric> =
        catalogue.iter().copied().filter(|metric| metric.family == Family::Posts).collect();
    let rollup = context.rollup
        && !posts_metrics.is_empty()
        && rollup_answers(query, &dimensions, &posts_metrics);
    let mut planner = Planner {
        query,
        context,
        dimensions: dimensions.clone(),
        rollup: false,
        conversations: false,
        first_interactions: false,
    };
    if planner.has("topic") && !context.topics {
        return Err(QueryError::Unsupported(
            "no topics yet: run `waterline report listening` once to discover them".into(),
        ));
    }
    let mut statements = Vec::new();
    for family in [Family::Posts, Family::Authors, Family::Responses] {
        let members: Vec<&Metric> =
            catalogue.iter().copied().filter(|metric| metric.family == family).collect();
        if members.is_empty() {
            continue;
        }
        if family == Family::Authors && planner.has("account") {
            return Err(QueryError::Unsupported(format!(
                "`{}` counts audience authors: it cannot be split or filtered by account",
                members[0].name
            )));
        }
        if family != Family::Posts && planner.has("panel") {
            return Err(QueryError::Unsupported(format!(
                "`{}` cannot be split or filtered by panel (only post metrics can)",
                members[0].name
            )));
        }
        planner.rollup = rollup && family == Family::Posts;
        planner.conversations = family == Family::Responses
            && context.rollup
            && conversations_answer(query, &dimensions);
        planner.first_interactions = family == Family::Authors && context.rollup;
        let sql = match family {
            Family::Posts => planner.posts_statement(&members),
            Family::Authors => planner.authors_statement(&members),
            _ => planner.responses_statement(&members),
        };
        statements.push(Statement {
            family,
            metrics: output_names(&members, query.parts, &planner),
            source: if planner.rollup {
                "rollup"
            } else if planner.conversations {
                "conversations"
            } else if planner.first_interactions {
                "first_interactions"
            } else {
                "posts"
            },
            sql,
        });
        planner.rollup = false;
        planner.conversations = false;
        planner.first_interactions = false;
    }
    for (metric, name) in &business {
        statements.push(Statement {
            family: Family::Business,
            source: "business",
            metrics: vec![name.clone()],
            sql: planner.business_statement(metric, name)?,
        });
    }
    let tz: chrono_tz::Tz = context.time_zone.parse().unwrap_or(chrono_tz::UTC);
    let (start, end) = period_bounds(&tz, query.from, query.to);
    let mut names: Vec<String> = Vec::new();
    for name in &query.metrics {
        let name = name.trim();
        match metrics::find(name) {
            Some(metric) => names.extend(output_names(&[metric], query.parts, &planner)),
            None => names.push(name.to_owned()),
        }
    }
    Ok(Plan { dimensions, metrics: names, statements, start, end, notes })
}

/// A query's answer: one row per combination of dimension values.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Answer {
    /// Dimension names.
    pub dimensions: Vec<String>,
    /// Metric names.
    pub metrics: Vec<String>,
    /// Rows: dimension values (strings) then metric values (numbers or null for unknown).
    pub rows: Vec<Row>,
    /// Decisions the planner took.
    pub notes: Vec<String>,
}

/// One row of an answer.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Row {
    /// Dimension values, in `Answer::dimensions` order.
    pub keys: Vec<String>,
    /// Metric values, in `Answer::metrics` order; `None` is unknown.
    pub values: Vec<Option<f64>>,
}

impl Answer {
    /// The rows as JSON objects keyed by column name.
    pub fn objects(&self) -> Vec<serde_json::Map<String, Value>> {
        self.rows
            .iter()
            .map(|row| {
                let mut object = serde_json::Map::new();
                for (name, key) in self.dimensions.iter().zip(&row.keys) {
                    object.insert(name.clone(), Value::String(key.clone()));
                }
                for (name, value) in self.metrics.iter().zip(&row.values) {
                    object.insert(name.clone(), value.map_or(Value::Null, json_number));
                }
                object
            })
            .collect()
    }

    /// The value of a metric in the first row (a query without dimensions has one row).
    pub fn scalar(&self, metric: &str) -> Option<f64> {
        let index = self.metrics.iter().position(|name| name == metric)?;
        self.rows.first().and_then(|row| row.values.get(index).copied().flatten())
    }
}

/// A whole number as a JSON integer, anything else to six significant digits.
fn json_number(value: f64) -> Value {
    if value.fract() == 0.0 && value.abs() < 9.0e15 {
        Value::from(value as i64)
    } else {
        significant(value).into()
    }
}

/// A value to six significant digits (shares, rates of a few per million and counts alike).
pub fn significant(value: f64) -> f64 {
    if value == 0.0 || !value.is_finite() {
        return value + 0.0;
    }
    format!("{value:.5e}").parse().unwrap_or(value)
}

fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(number) => number.as_f64(),
        Value::String(text) => text.parse().ok(),
        _ => None,
    }
    .filter(|value| value.is_finite())
}

fn key(value: Option<&Value>) -> String {
    match value {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Null) | None => "unknown".into(),
        Some(other) => other.to_string(),
    }
}

/// Runs a plan and merges its statements' rows on the dimension values. Rows are in time
/// order when a time bucket is a dimension, else by the first metric, largest first;
/// `limit` cuts a breakdown (never a time series).
pub async fn run(
    analytics: &Analytics,
    plan: &Plan,
    limit: Option<usize>,
) -> Result<Answer, AnalyticsError> {
    let mut merged: BTreeMap<Vec<String>, Vec<Option<f64>>> = BTreeMap::new();
    for statement in &plan.statements {
        let batches = analytics.query(&statement.sql).await?;
        let rows = crate::to_json(&batches)?;
        for row in rows.as_array().into_iter().flatten() {
            let keys: Vec<String> = plan.dimensions.iter().map(|d| key(row.get(d))).collect();
            let entry = merged.entry(keys).or_insert_with(|| vec![None; plan.metrics.len()]);
            for name in &statement.metrics {
                if let Some(index) = plan.metrics.iter().position(|m| m == name) {
                    entry[index] = row.get(name).and_then(number);
                }
            }
        }
    }
    if plan.dimensions.is_empty() && merged.is_empty() {
        merged.insert(Vec::new(), vec![None; plan.metrics.len()]);
    }
    // Counts of an empty period are 0, not unknown.
    let zero_when_empty: Vec<bool> = plan
        .metrics
        .iter()
        .map(|name| {
            metrics::find(name).is_some_and(|metric| {
                matches!(metric.formula, Formula::Count { .. } | Formula::Distinct { .. })
            })
        })
        .collect();
    let mut rows: Vec<Row> = merged
        .into_iter()
        .map(|(keys, mut values)| {
            for (value, zero) in values.iter_mut().zip(&zero_when_empty) {
                if *zero && value.is_none() {
                    *value = Some(0.0);
                }
            }
            Row { keys, values }
        })
        .collect();
    let time = plan.dimensions.iter().position(|d| TIME_DIMENSIONS.contains(&d.as_str()));
    match time {
        Some(index) => {
            rows.sort_by(|a, b| a.keys[index].cmp(&b.keys[index]).then(a.keys.cmp(&b.keys)))
        }
        None => {
            rows.sort_by(|a, b| {
                let first =
                    |row: &Row| row.values.first().copied().flatten().unwrap_or(f64::NEG_INFINITY);
                first(b).total_cmp(&first(a)).then(a.keys.cmp(&b.keys))
            });
            if let Some(limit) = limit {
                rows.truncate(limit);
            }
        }
    }
    Ok(Answer {
        dimensions: plan.dimensions.clone(),
        metrics: plan.metrics.clone(),
        rows,
        notes: plan.notes.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context() -> Context {
        Context {
            time_zone: "Europe/Paris".into(),
            panel: vec![
                PanelMember {
                    name: "Acme".into(),
                    entities: vec!["brand:Acme".into(), "product:Zen".into()],
                },
                PanelMember { name: "Rival".into(), entities: vec!["competitor:Rival".into()] },
            ],
            own_handles: vec!["AcmeCare".into()],
            inbound_addressed: false,
            topics: true,
            rollup: false,
        }
    }

    fn query(metrics: &[&str], by: &[&str], filters: &[&str]) -> Query {
        Query {
            metrics: metrics.iter().map(|m| m.to_string()).collect(),
            by: by.iter().map(|d| d.to_string()).collect(),
            filters: filters.iter().map(|f| Filter::parse(f).expect("filter")).collect(),
            from: NaiveDate::from_ymd_opt(2026, 3, 1),
            to: NaiveDate::from_ymd_opt(2026, 3, 31),
            limit: None,
            parts: false,
        }
    }

    fn sql(plan: &Plan) -> String {
        plan.statements
            .iter()
            .map(|s| format!("-- {:?}: {}\n{}\n", s.family, s.metrics.join(", "), s.sql))
            .collect()
    }

    #[test]
    fn day_by_platform_series() {
        let plan = plan(
            &query(
                &["posts", "engagements", "engagement_rate_followers"],
                &["day", "platform"],
                &[],
            ),
            &context(),
        )
        .expect("plan");
        insta::assert_snapshot!(sql(&plan));
    }

    #[test]
    fn share_of_voice_by_panel() {
        let plan = plan(
            &query(
                &["mentions", "share_of_voice_mentions", "net_sentiment"],
                &["panel"],
                &["platform=x,bluesky"],
            ),
            &context(),
        )
        .expect("plan");
        insta::assert_snapshot!(sql(&plan));
    }

    #[test]
    fn responses_and_authors() {
        let plan = plan(
            &query(
                &[
                    "response_rate",
                    "first_response_hours_p90",
                    "interacting_audience",
                    "new_authors",
                ],
                &["week"],
                &["language=en"],
            ),
            &context(),
        )
        .expect("plan");
        insta::assert_snapshot!(sql(&plan));
    }

    #[test]
    fn author_metrics_read_first_interactions_from_their_cache() {
        let mut ctx = context();
        ctx.rollup = true;
        let query = query(&["interacting_audience", "new_authors"], &["month"], &[]);
        let cached = plan(&query, &ctx).expect("plan");
        assert!(cached.uses_first_interactions());
        let sql = &cached.statements[0].sql;
        assert!(sql.contains("FROM first_interactions"), "{sql}");
        // The cache holds what the statement computes without it.
        ctx.rollup = false;
        let scanned = plan(&query, &ctx).expect("plan");
        assert!(!scanned.uses_first_interactions());
        assert!(scanned.statements[0].sql.contains(&first_interactions_sql(&ctx)));
        assert!(!scanned.statements[0].sql.contains("FROM first_interactions"));
    }

    #[test]
    fn oversized_queries_are_refused_before_planning() {
        let filters: Vec<&str> = vec!["platform=x"; MAX_FILTERS + 1];
        let error = plan(&query(&["posts"], &[], &filters), &context()).unwrap_err();
        assert!(error.to_string().contains("32 at most"), "{error}");
        let values = vec!["v"; MAX_FILTER_VALUES + 1].join(",");
        let filter = format!("platform={values}");
        let error = plan(&query(&["posts"], &[], &[filter.as_str()]), &context()).unwrap_err();
        assert!(error.to_string().contains("values for `platform`"), "{error}");
    }

    #[test]
    fn shares_add_their_dimension_and_scope_yields_to_the_query() {
        let plan =
            plan(&query(&["channel_share", "applause_rate"], &[], &["side=own"]), &context())
                .expect("plan");
        assert_eq!(plan.dimensions, vec!["platform"]);
        assert_eq!(plan.notes.len(), 1);
        let sql = &plan.statements[0].sql;
        // The explicit side filter replaces the default scope's side; post_type stays.
        assert!(sql.contains("coalesce(side, 'unknown') IN ('own')"), "{sql}");
        assert!(!sql.contains("coalesce(side, 'unknown') = 'own'"), "{sql}");
        assert!(sql.contains("post_type = 'original'"), "{sql}");
    }

    #[test]
    fn business_metrics() {
        let plan = plan(
            &query(&["kpi:prescriptions", "kpi_share:prescriptions"], &["month", "panel"], &[]),
            &context(),
        )
        .expect("plan");
        insta::assert_snapshot!(sql(&plan));
        let error = super::plan(&query(&["kpi:sales"], &["platform"], &[]), &context())
            .expect_err("platform");
        assert!(matches!(error, QueryError::Unsupported(_)));
    }

    #[test]
    fn the_rollup_answers_additive_post_metrics_only() {
        let mut ctx = context();
        ctx.rollup = true;
        let plan = plan(
            &query(
                &["posts", "applause_rate", "share_of_voice_mentions"],
                &["week", "platform"],
                &["side=own"],
            ),
            &ctx,
        )
        .expect("plan");
        assert!(plan.uses_rollup());
        insta::assert_snapshot!(sql(&plan));
        insta::assert_snapshot!("rollup_build", rollup_sql(&ctx));
        // Medians, per-1k means, topics and audience accounts need the posts.
        for (metrics, by, filters) in [
            (&["engagement_rate_followers"][..], &[][..], &[][..]),
            (&["applause_rate_per_1k"][..], &[][..], &[][..]),
            (&["posts"][..], &["account"][..], &[][..]),
            (&["posts"][..], &["hour"][..], &[][..]),
        ] {
            let plan = super::plan(&query(metrics, by, filters), &ctx).expect("plan");
            assert!(!plan.uses_rollup(), "{metrics:?} by {by:?}");
        }
        let plan = super::plan(&query(&["posts"], &["account"], &["side=competitor"]), &ctx)
            .expect("plan");
        assert!(plan.uses_rollup());
    }

    #[test]
    fn bad_queries_are_errors() {
        let ctx = context();
        assert_eq!(plan(&query(&[], &[], &[]), &ctx), Err(QueryError::NoMetric));
        assert!(matches!(
            plan(&query(&["nope"], &[], &[]), &ctx),
            Err(QueryError::UnknownMetric(_))
        ));
        assert!(matches!(
            plan(&query(&["posts"], &["colour"], &[]), &ctx),
            Err(QueryError::UnknownDimension(..))
        ));
        assert!(matches!(
            plan(&query(&["posts"], &["day", "week"], &[]), &ctx),
            Err(QueryError::Unsupported(_))
        ));
        assert!(matches!(Filter::parse("platform"), Err(QueryError::BadFilter(_))));
        assert!(matches!(
            plan(&query(&["response_rate"], &["panel"], &[]), &ctx),
            Err(QueryError::Unsupported(_))
        ));
        let mut no_topics = ctx.clone();
        no_topics.topics = false;
        assert!(matches!(
            plan(&query(&["posts"], &["topic"], &[]), &no_topics),
            Err(QueryError::Unsupported(_))
        ));
    }

    #[test]
    fn a_post_type_has_one_definition_repost_then_reply_then_quote() {
        let plain = post_type_sql(None);
        let at = |column: &str| plain.find(column).expect("the definition reads the column");
        assert!(at("repost_of") < at("reply_to") && at("reply_to") < at("quote_of"), "{plain}");
        let qualified = ["repost_of", "reply_to", "quote_of"]
            .iter()
            .fold(plain.clone(), |sql, column| sql.replace(column, &format!("p.{column}")));
        assert_eq!(post_type_sql(Some("p")), qualified);
        // The posts the families read and the rollup derive the type with it.
        let ctx = context();
        assert!(derived_posts_sql(&ctx).contains(&format!("{plain} AS post_type")));
        assert!(rollup_sql(&ctx).contains(&format!("{plain} AS post_type")));
    }

    #[test]
    fn quotes_are_escaped() {
        let plan = plan(&query(&["posts"], &[], &["account=o'brien"]), &context()).expect("plan");
        assert!(plan.statements[0].sql.contains("'o''brien'"));
    }

    #[test]
    fn local_days_across_daylight_saving() {
        let paris: chrono_tz::Tz = "Europe/Paris".parse().expect("tz");
        let day = |d: u32| NaiveDate::from_ymd_opt(2026, 3, d);
        let (start, end) = period_bounds(&paris, day(29), day(29));
        // 29 March 2026 is 23 hours long in Paris.
        assert_eq!(start.expect("start").to_rfc3339(), "2026-03-28T23:00:00+00:00");
        assert_eq!(end.expect("end").to_rfc3339(), "2026-03-29T22:00:00+00:00");
        let (start, end) = period_bounds(
            &paris,
            NaiveDate::from_ymd_opt(2026, 10, 25),
            NaiveDate::from_ymd_opt(2026, 10, 25),
        );
        assert_eq!((end.expect("end") - start.expect("start")).num_hours(), 25);
        // A zone whose midnight is skipped starts the day at 01:00.
        let havana: chrono_tz::Tz = "America/Havana".parse().expect("tz");
        let start = local_day_start(&havana, NaiveDate::from_ymd_opt(2026, 3, 8).expect("day"));
        assert_eq!(start.to_rfc3339(), "2026-03-08T05:00:00+00:00");
    }
}
