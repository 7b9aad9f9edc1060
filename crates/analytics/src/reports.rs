//! The listening, perception-gap and content-audit reports (`waterline report …`), computed
//! by the engine over the stored posts, their annotations and the topics assigned on arrival
//! (`topic_id`). Counts are SQL aggregates; example posts come from bounded top-k queries;
//! only the brand's own original posts (its output, not the audience's) are read row by
//! row, for their reception against the account's own 90-day baseline. No report holds the
//! audience's posts in memory. Definitions follow `PRODUCT.md` section 3; the JSON shapes
//! are documented in `docs/schema.md`.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::Int64Type;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use waterline_model::Config;

use crate::query::{period_bounds, quote};
use crate::topics::{self, TopicModel, round};
use crate::{Analytics, AnalyticsError};

/// Fewest posts a report needs to say anything.
pub const MIN_POSTS: usize = 20;

/// Most engaged posts of each topic among which its representatives are chosen (those
/// nearest the topic's centre).
const CANDIDATES: usize = 24;

/// Audited posts a report lists by default (newest first); its counts and groups cover
/// every one.
pub const AUDIT_LISTED: usize = 500;

/// The period a report covers (inclusive dates in the workspace time zone).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Period {
    /// First day, or the first post's day.
    pub from: Option<NaiveDate>,
    /// Last day, or the last post's day.
    pub to: Option<NaiveDate>,
    /// The workspace time zone.
    pub time_zone: String,
}

/// What a report reads: the engine over the workspace's posts, its configuration and its
/// topic model (names, centroids, seeds).
pub struct Sources<'a> {
    /// The engine with the `posts` view registered.
    pub analytics: &'a Analytics,
    /// The workspace configuration (time zone, competitors, seed topics).
    pub config: &'a Config,
    /// The saved topic model.
    pub model: &'a TopicModel,
    /// The topics a filter picked (by id; `None`: all). Listening and gap list only these
    /// topics (shares and divergence still cover the whole mix); the audit audits only the
    /// own posts on them.
    pub focus: Option<&'a [u32]>,
}

impl Sources<'_> {
    fn in_focus(&self, topic: Option<u32>) -> bool {
        match self.focus {
            None => true,
            Some(ids) => topic.is_some_and(|id| ids.contains(&id)),
        }
    }

    fn focus_note(&self) -> Option<String> {
        self.focus.map(|ids| {
            let names: Vec<String> =
                ids.iter().map(|id| format!("#{id} {}", self.label(*id))).collect();
            format!("filtered to the topics {}", names.join(", "))
        })
    }

    fn label(&self, id: u32) -> String {
        self.model
            .topics
            .iter()
            .find(|topic| topic.id == id)
            .map(|topic| topic.label())
            .unwrap_or_else(|| format!("topic {id}"))
    }

    fn time_zone(&self) -> chrono_tz::Tz {
        self.config.time_zone().unwrap_or(chrono_tz::UTC)
    }
}

/// A report's period as SQL over `posts`, with its bounds filled from the data.
struct Scope {
    period: Period,
    /// The period's condition over `posts` (`TRUE` for all time).
    condition: String,
    /// Start of the period's second half (posts before it are early).
    half: Option<DateTime<Utc>>,
    /// Start of the period (for the 90-day baselines before it).
    start: Option<DateTime<Utc>>,
    /// End of the period (exclusive), when it has one.
    end: Option<DateTime<Utc>>,
}

fn stamp(at: DateTime<Utc>) -> String {
    quote(&at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string())
}

fn micros(at: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(at).unwrap_or_default()
}

/// Runs a query and hands each batch to `each` as it streams (nothing is collected).
async fn stream(
    analytics: &Analytics,
    sql: &str,
    mut each: impl FnMut(&RecordBatch) -> Result<(), AnalyticsError>,
) -> Result<(), AnalyticsError> {
    let started = std::time::Instant::now();
    let frame = analytics.context.sql(sql).await?;
    let mut batches = frame.execute_stream().await?;
    while let Some(batch) = batches.next().await {
        each(&batch?)?;
    }
    // `--log waterline_analytics=debug` shows where a report spends its time.
    tracing::debug!(ms = started.elapsed().as_millis() as u64, sql = %sql.chars().take(160).collect::<String>(), "report query");
    Ok(())
}

/// The value of a `BIGINT` column (the reports' SQL casts every number it reads).
fn int(batch: &RecordBatch, column: usize, row: usize) -> Option<i64> {
    let ints = batch.column(column).as_primitive_opt::<Int64Type>()?;
    (!ints.is_null(row)).then(|| ints.value(row))
}

fn count(batch: &RecordBatch, column: usize, row: usize) -> usize {
    int(batch, column, row).unwrap_or(0).max(0) as usize
}

fn text(batch: &RecordBatch, column: usize, row: usize) -> Option<String> {
    waterline_store::schema::text_value(batch.column(column), row)
}

fn topic_of(batch: &RecordBatch, column: usize, row: usize) -> Option<u32> {
    int(batch, column, row).and_then(|id| u32::try_from(id).ok())
}

/// Ids fetched per scan of the posts (an `IN` list the engine turns into a hash set: each
/// scan reads the whole `id` column, so fewer, larger lists cost less).
const EXAMPLES_PER_SCAN: usize = 10_000;

/// A timestamp as microseconds (`BIGINT`), for reading back.
const CREATED: &str = "arrow_cast(created_at, 'Int64')";

/// True for posts with their own content (not reposts, not empty): those that get a topic.
const HAS_CONTENT: &str = "repost_of IS NULL AND trim(text) <> ''";

/// The engagements of a post (likes + shares + replies + quotes, known parts; 0 when none).
const ENGAGED: &str =
    "coalesce(likes, 0) + coalesce(shares, 0) + coalesce(replies, 0) + coalesce(quotes, 0)";

async fn scope(
    sources: &Sources<'_>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<Scope, AnalyticsError> {
    let tz = sources.time_zone();
    let (start, end) = period_bounds(&tz, from, to);
    let mut conditions = Vec::new();
    if let Some(start) = start {
        conditions.push(format!("created_at >= {}", stamp(start)));
    }
    if let Some(end) = end {
        conditions.push(format!("created_at < {}", stamp(end)));
    }
    let condition =
        if conditions.is_empty() { "TRUE".to_owned() } else { conditions.join(" AND ") };
    let (mut first, mut last) = (None, None);
    if from.is_none() || to.is_none() {
        stream(
            sources.analytics,
            &format!(
                "SELECT arrow_cast(min(created_at), 'Int64'), arrow_cast(max(created_at), 'Int64') \
                 FROM posts WHERE {condition}"
            ),
            |batch| {
                if batch.num_rows() > 0 {
                    first = int(batch, 0, 0).map(|at| micros(at).with_timezone(&tz).date_naive());
                    last = int(batch, 1, 0).map(|at| micros(at).with_timezone(&tz).date_naive());
                }
                Ok(())
            },
        )
        .await?;
    }
    let (from, to) = (from.or(first), to.or(last));
    let half = match (from, to) {
        (Some(from), Some(to)) => {
            let half = from + Duration::days((to - from).num_days() / 2);
            period_bounds(&tz, half.succ_opt(), None).0
        }
        _ => None,
    };
    let start = start.or_else(|| from.and_then(|day| period_bounds(&tz, Some(day), None).0));
    Ok(Scope {
        period: Period { from, to, time_zone: tz.to_string() },
        condition,
        half,
        start,
        end,
    })
}

impl Scope {
    /// `1` for a post in the period's first half, else `0`.
    fn early(&self) -> String {
        match self.half {
            Some(half) => format!("CASE WHEN created_at < {} THEN 1 ELSE 0 END", stamp(half)),
            None => "0".to_owned(),
        }
    }
}

/// Growth of a group between the period's halves relative to a reference group (all the
/// posts of the same halves), so that a rising overall volume does not make every topic
/// grow: (late share + smoothing) ÷ (early share + smoothing) − 1, each share smoothed by one post.
fn growth(early: usize, all: usize, reference: Halves) -> f64 {
    let late = all.saturating_sub(early) as f64;
    let early_share = (early as f64 + 1.0) / (reference.early + 1.0);
    let late_share = (late + 1.0) / (reference.late + 1.0);
    round(late_share / early_share - 1.0)
}

/// Posts in the first and the second half of a period.
#[derive(Debug, Clone, Copy, Default)]
struct Halves {
    early: f64,
    late: f64,
}

impl Halves {
    fn add(&mut self, early: usize, all: usize) {
        self.early += early as f64;
        self.late += all.saturating_sub(early) as f64;
    }
}

/// The CTEs `nk`, `ok` and `m`: `m` is every post of CTE `n` once, with its `extra`
/// columns and `answered` (1 when an own reply answers it: a direct own reply, or a later
/// own reply in the same conversation addressed to its author by handle or by id; else 0).
/// `n` has platform, id, created_at, author_handle, author_id and conversation_id.
///
/// Each post of `n` gets its three answer keys (`r` + its id; `c` + its conversation and
/// handle; `c` + its conversation and author id) and each own reply its two (`r` + the post
/// it replies to; `c` + its conversation and the author it addresses), so one equi-join
/// finds every answer and `n` is evaluated once (the engine inlines a CTE at each use: the
/// three joins this replaces read the posts seven to eleven times). A key with an unknown
/// part is null (`||` propagates nulls) and matches nothing. The author is part of the key:
/// a long conversation does not pair each of its own replies with each of its posts. An
/// answer comes after the post it answers, so when every post of `n` is at or after
/// `since`, own replies before it are left out. The own replies (few) are the join's left,
/// build side: the engine hashes its left input whole.
fn answered_ctes(since: Option<DateTime<Utc>>, extra: &[&str]) -> String {
    let since = since.map_or_else(String::new, |at| format!(" AND created_at >= {}", stamp(at)));
    let extra: String = extra.iter().map(|column| format!(", nk.{column}")).collect();
    format!(
        "nk AS (SELECT n.*, CASE t.k WHEN 1 THEN 'r' || n.id \
         WHEN 2 THEN 'c' || n.conversation_id || chr(1) || n.author_handle \
         ELSE 'c' || n.conversation_id || chr(1) || n.author_id END AS akey \
         FROM n CROSS JOIN (VALUES (1), (2), (3)) AS t(k)), \
         ok AS (SELECT platform AS o_platform, created_at AS o_at, CASE t.k WHEN 1 THEN 'r' || reply_to \
         ELSE 'c' || conversation_id || chr(1) || reply_to_author END AS okey \
         FROM posts CROSS JOIN (VALUES (1), (2)) AS t(k) \
         WHERE side = 'own' AND reply_to IS NOT NULL{since}), \
         m AS (SELECT nk.platform, nk.id, nk.created_at{extra}, \
         max(CASE WHEN ok.o_at >= nk.created_at THEN 1 ELSE 0 END) AS answered \
         FROM ok RIGHT JOIN nk ON ok.o_platform = nk.platform AND ok.okey = nk.akey \
         GROUP BY nk.platform, nk.id, nk.created_at{extra})"
    )
}

/// The best `k` rows of each group as rows stream by: a bounded top-k (memory: groups × k,
/// whatever the number of rows), in place of a window function that sorts every row of the
/// period. Smaller ranks are better; ties are broken by key.
struct TopK<G, R> {
    k: usize,
    groups: BTreeMap<G, std::collections::BinaryHeap<(R, PostKey)>>,
}

impl<G: Ord, R: Ord> TopK<G, R> {
    fn new(k: usize) -> Self {
        TopK { k, groups: BTreeMap::new() }
    }

    /// Offers a row; its key is copied out of the batch only when the row is kept. Rows
    /// that tie on rank are ordered by key, so the result does not depend on the order in
    /// which the engine's partitions deliver them.
    fn offer(&mut self, group: G, rank: R, platform: &str, id: &str) {
        if self.k == 0 {
            return;
        }
        let heap = self.groups.entry(group).or_default();
        if heap.len() >= self.k
            && let Some((worst, (worst_platform, worst_id))) = heap.peek()
            && (&rank, platform, id) >= (worst, worst_platform.as_str(), worst_id.as_str())
        {
            return;
        }
        heap.push((rank, (platform.to_owned(), id.to_owned())));
        if heap.len() > self.k {
            heap.pop();
        }
    }

    /// Each group's rows, best first.
    fn into_sorted(self) -> BTreeMap<G, Vec<(R, PostKey)>> {
        self.groups.into_iter().map(|(group, heap)| (group, heap.into_sorted_vec())).collect()
    }
}

/// The posts of `keys` as report examples among the posts of `condition` (the report's
/// period), fetched by a hash join with the keys as a `VALUES` table: one scan per
/// [`EXAMPLES_PER_SCAN`] keys (a report asks for a few thousand at most). An `IN` list of
/// that length cost the engine seven times as much (0.7 s against 0.1 s for 1,500 ids over
/// a million posts).
async fn examples(
    analytics: &Analytics,
    keys: &[(String, String)],
    condition: &str,
) -> Result<HashMap<(String, String), Example>, AnalyticsError> {
    let mut found = HashMap::new();
    let wanted: HashSet<&(String, String)> = keys.iter().collect();
    let mut unique: Vec<&(String, String)> = wanted.iter().copied().collect();
    unique.sort_unstable();
    for chunk in unique.chunks(EXAMPLES_PER_SCAN) {
        let rows = chunk
            .iter()
            .map(|(platform, id)| format!("({}, {})", quote(platform), quote(id)))
            .collect::<Vec<_>>()
            .join(", ");
        stream(
            analytics,
            &format!(
                "SELECT platform, id, {CREATED}, coalesce(author_handle, author_id), text \
                 FROM posts JOIN (VALUES {rows}) AS w(w_platform, w_id) \
                 ON platform = w_platform AND id = w_id WHERE {condition}"
            ),
            |batch| {
                for row in 0..batch.num_rows() {
                    let key = (
                        text(batch, 0, row).unwrap_or_default(),
                        text(batch, 1, row).unwrap_or_default(),
                    );
                    if !wanted.contains(&key) {
                        continue;
                    }
                    let example = Example {
                        platform: key.0.clone(),
                        id: key.1.clone(),
                        created_at: micros(int(batch, 2, row).unwrap_or(0)),
                        author: text(batch, 3, row),
                        text: text(batch, 4, row).unwrap_or_default().chars().take(280).collect(),
                    };
                    found.insert(key, example);
                }
                Ok(())
            },
        )
        .await?;
    }
    Ok(found)
}

/// Remarks shared by the reports.
async fn notes_for(
    sources: &Sources<'_>,
    scope: &Scope,
    chosen: usize,
) -> Result<Vec<String>, AnalyticsError> {
    let mut notes = Vec::new();
    if chosen < MIN_POSTS {
        notes.push(format!(
            "too little data: {chosen} posts in the period (a report needs at least {MIN_POSTS}); import more or widen --from/--to"
        ));
    }
    let (mut unannotated, mut all) = (0, 0);
    stream(
        sources.analytics,
        &format!(
            "SELECT CAST(sum(CASE WHEN enriched_with IS NULL OR enriched_with = '' THEN 1 ELSE 0 END) AS BIGINT), \
             CAST(count(*) AS BIGINT) FROM posts WHERE {}",
            scope.condition
        ),
        |batch| {
            if batch.num_rows() > 0 {
                unannotated = count(batch, 0, 0);
                all = count(batch, 1, 0);
            }
            Ok(())
        },
    )
    .await?;
    if unannotated * 2 > all {
        notes.push(format!(
            "{unannotated} of {all} posts have no annotations (imported with --no-enrich): sentiment, needs and topics are missing; run `waterline enrich`"
        ));
    }
    if sources.model.embedding.starts_with("lexical") {
        notes.push("no embedding table is available: topics are lexical (hashed words), expect weaker topics".into());
    }
    if sources.model.topics.is_empty() && all > 0 {
        notes.push(
            "the workspace has no topics yet: they are fitted as posts arrive (or by `waterline topics refit`)"
                .into(),
        );
    }
    Ok(notes)
}

/// A post quoted in a report.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Example {
    /// Platform.
    pub platform: String,
    /// Native id.
    pub id: String,
    /// When it was posted (UTC).
    pub created_at: DateTime<Utc>,
    /// The author's handle, when known.
    pub author: Option<String>,
    /// The text (first 280 characters).
    pub text: String,
}

/// Shares of positive, neutral and negative posts, and net sentiment.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SentimentMix {
    /// Share positive.
    pub positive: f64,
    /// Share neutral.
    pub neutral: f64,
    /// Share negative.
    pub negative: f64,
    /// (positive − negative) ÷ all annotated.
    pub net: f64,
}

/// Rounds to four significant digits (rates by followers of large accounts are tiny).
fn significant(value: f64) -> f64 {
    if value == 0.0 || !value.is_finite() {
        return 0.0;
    }
    let scale = 10f64.powi(3 - value.abs().log10().floor() as i32);
    (value * scale).round() / scale
}

/// A rate for a sentence: three significant digits.
fn show(value: f64) -> String {
    if value == 0.0 {
        return "0".to_owned();
    }
    let decimals = (2 - value.abs().log10().floor() as i32).clamp(0, 8) as usize;
    format!("{value:.decimals$}")
}

/// One topic in the listening report.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ListeningTopic {
    /// Stable id.
    pub id: u32,
    /// Label (seed name and key terms).
    pub label: String,
    /// Key terms and phrases.
    pub terms: Vec<String>,
    /// Posts in the period (all sides).
    pub posts: usize,
    /// Audience posts.
    pub audience_posts: usize,
    /// Own posts.
    pub own_posts: usize,
    /// Competitor posts.
    pub competitor_posts: usize,
    /// Share of the period's audience posts (outliers included in the denominator).
    pub audience_share: f64,
    /// Growth of the topic's posts, second half of the period against the first.
    pub growth: f64,
    /// Audience sentiment.
    pub sentiment: SentimentMix,
    /// Posts nearest the topic's centre.
    pub representative: Vec<Example>,
}

/// One unmet need: a topic's questions, complaints or requests from the audience.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UnmetNeed {
    /// Topic id (`null` for posts outside every topic).
    pub topic_id: Option<u32>,
    /// Topic label.
    pub topic: String,
    /// `question`, `complaint` or `request`.
    pub need: String,
    /// Posts in the period.
    pub posts: usize,
    /// Growth, second half against the first.
    pub growth: f64,
    /// Posts an own account replied to.
    pub answered: usize,
    /// answered ÷ posts.
    pub answered_share: f64,
    /// Unanswered examples first.
    pub examples: Vec<NeedExample>,
}

/// An example of a need.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NeedExample {
    /// The post.
    #[serde(flatten)]
    pub post: Example,
    /// Whether an own account replied.
    pub answered: bool,
}

/// `waterline report listening`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ListeningReport {
    /// The period.
    pub period: Period,
    /// Posts in the period.
    pub posts: usize,
    /// Audience posts in the period.
    pub audience_posts: usize,
    /// What embedded the posts.
    pub embedding: String,
    /// Share of the period's posts with content that fit no topic.
    pub outlier_share: f64,
    /// Topics with posts in the period, by audience posts.
    pub topics: Vec<ListeningTopic>,
    /// Audience needs per topic, by volume then growth.
    pub unmet_needs: Vec<UnmetNeed>,
    /// Remarks (too little data, lexical fallback).
    pub notes: Vec<String>,
}

/// Reception of an own post.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Reception {
    /// `warm`, `cool`, `frosty` or `not enough history`.
    pub label: String,
    /// Percentile (0–100) of its rate among the account's preceding 90 days.
    pub percentile: Option<f64>,
    /// Its engagement rate (per cent), or raw engagements when no denominator is known.
    pub rate: Option<f64>,
    /// `followers`, `impressions` or `engagements`.
    pub basis: Option<String>,
    /// The median rate of the account's preceding 90 days.
    pub baseline_median: Option<f64>,
    /// Earlier posts of the account in the window.
    pub history: usize,
    /// Audience replies and the share of them that are negative.
    pub replies: usize,
    /// Share of negative audience replies.
    pub negative_replies: f64,
}

/// One topic in the gap report.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GapTopic {
    /// Stable id.
    pub id: u32,
    /// Label.
    pub label: String,
    /// Share of the audience's topical posts.
    pub audience_share: f64,
    /// Share of the own topical posts.
    pub own_share: f64,
    /// audience_share − own_share.
    pub gap: f64,
    /// Own posts on the topic.
    pub own_posts: usize,
    /// Share of those own posts with a warm reception (among those with enough history).
    pub own_warm_share: Option<f64>,
    /// Median reception percentile of those own posts.
    pub own_median_percentile: Option<f64>,
    /// `audience talks about this, you do not`, `you push this, nobody engages`, or `aligned`.
    pub verdict: String,
}

/// A competitor against the audience.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CompetitorGap {
    /// Competitor name (or `competitors` when the author is not mapped).
    pub name: String,
    /// Their topical posts in the period.
    pub posts: usize,
    /// JSD of their topic mix against the audience's.
    pub divergence: f64,
    /// Their three largest topics and shares.
    pub top_topics: Vec<(String, f64)>,
}

/// `waterline report gap`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GapReport {
    /// The period.
    pub period: Period,
    /// Own topical posts (originals with a topic).
    pub own_posts: usize,
    /// Audience topical posts.
    pub audience_posts: usize,
    /// Jensen–Shannon divergence, log base 2 (0 same mix, 1 disjoint).
    pub divergence: f64,
    /// Every topic with posts, by |gap|.
    pub topics: Vec<GapTopic>,
    /// Topics the audience talks about and the brand does not.
    pub audience_not_you: Vec<u32>,
    /// Topics the brand pushes and nobody engages with.
    pub you_not_audience: Vec<u32>,
    /// Own topics with the best reception (at least three own posts).
    pub resonates: Vec<GapTopic>,
    /// The workspace's declared (seed) topics: the summed shares of the discovered topics
    /// named after them (a topic is named after the seed most of a quarter of its posts mention).
    pub declared_topics: Vec<DeclaredGap>,
    /// Competitors' mixes against the audience's.
    pub competitors: Vec<CompetitorGap>,
    /// Remarks.
    pub notes: Vec<String>,
}

/// A declared topic of the workspace in the gap report.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeclaredGap {
    /// Its name in `waterline.toml`.
    pub name: String,
    /// Summed audience share of the topics named after it.
    pub audience_share: f64,
    /// Summed own share of those topics.
    pub own_share: f64,
    /// audience_share − own_share.
    pub gap: f64,
    /// Same verdicts as for discovered topics.
    pub verdict: String,
}

/// Jensen–Shannon divergence (log base 2) of two distributions over the same keys.
pub fn jensen_shannon(p: &BTreeMap<u32, f64>, q: &BTreeMap<u32, f64>) -> f64 {
    let keys: HashSet<u32> = p.keys().chain(q.keys()).copied().collect();
    let mut total = 0.0;
    for key in keys {
        let a = p.get(&key).copied().unwrap_or(0.0);
        let b = q.get(&key).copied().unwrap_or(0.0);
        let m = (a + b) / 2.0;
        if a > 0.0 {
            total += 0.5 * a * (a / m).log2();
        }
        if b > 0.0 {
            total += 0.5 * b * (b / m).log2();
        }
    }
    round(total.clamp(0.0, 1.0))
}

/// Phrases of corporate self-talk, folded (English and French).
const SELF_TALK: &[&str] = &[
    "proud to announce",
    "proud to",
    "pleased to announce",
    "we are pleased",
    "we are delighted",
    "delighted to announce",
    "excited to announce",
    "thrilled to",
    "press release",
    "our booth",
    "visit us at",
    "visit our booth",
    "meet us at",
    "come and meet",
    "congress",
    "annual results",
    "our ceo",
    "our team at",
    "milestone",
    "award",
    "partnership with",
    "we are honoured",
    "we are honored",
    "join us at",
    "fiers de",
    "fiere de",
    "heureux d'annoncer",
    "heureux de vous annoncer",
    "ravis d'annoncer",
    "ravis de",
    "nous sommes fiers",
    "communique de presse",
    "notre stand",
    "retrouvez-nous",
    "retrouvez nous",
    "rendez-vous sur notre stand",
    "congres",
    "resultats annuels",
    "notre pdg",
    "partenariat",
    "nous sommes heureux",
    "recompense",
    "felicitations a nos equipes",
];

/// Corporate self-talk score in [0, 1]: self-promotion phrases and first-person-plural density.
pub fn self_talk(text: &str) -> (f64, Vec<&'static str>) {
    let folded = format!(" {} ", waterline_enrich::text::fold(text));
    let cues: Vec<&'static str> =
        SELF_TALK.iter().copied().filter(|cue| folded.contains(cue)).collect();
    let words: Vec<&str> =
        folded.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect();
    let we = words
        .iter()
        .filter(|w| matches!(**w, "we" | "our" | "us" | "nous" | "notre" | "nos"))
        .count();
    let density = we as f64 / words.len().max(1) as f64;
    let score = (cues.len() as f64 * 0.35 + (density * 5.0).min(0.4)).min(1.0);
    (round(score), cues)
}

/// One audited own post.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuditedPost {
    /// The post.
    #[serde(flatten)]
    pub post: Example,
    /// Its reception.
    pub reception: Reception,
    /// Its topic.
    pub topic_id: Option<u32>,
    /// The topic's label.
    pub topic: Option<String>,
    /// Share of the period's audience topical posts on this post's topic (relevance).
    pub audience_topic_share: f64,
    /// Corporate self-talk score (0–1).
    pub self_talk: f64,
    /// Audience replies to it.
    pub replies: usize,
    /// Of those, replies an own account answered.
    pub replies_answered: usize,
    /// One line on why it got its label.
    pub reason: String,
}

/// What distinguishes warm from frosty posts.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AuditGroup {
    /// Posts in the group.
    pub posts: usize,
    /// Mean self-talk score.
    pub self_talk: f64,
    /// Mean audience share of their topics.
    pub audience_topic_share: f64,
    /// Share with a link.
    pub with_link: f64,
    /// Share with media.
    pub with_media: f64,
    /// Share asking a question.
    pub with_question: f64,
    /// Mean length in characters.
    pub length: f64,
    /// Their most common topics.
    pub top_topics: Vec<(String, usize)>,
}

/// `waterline report audit`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuditReport {
    /// The period.
    pub period: Period,
    /// Own original posts audited.
    pub posts: usize,
    /// Posts per label.
    pub labels: BTreeMap<String, usize>,
    /// Every audited post, newest first.
    pub audited: Vec<AuditedPost>,
    /// Warm against frosty.
    pub warm: AuditGroup,
    /// Frosty posts.
    pub frosty: AuditGroup,
    /// Sentences on what distinguishes them.
    pub summary: Vec<String>,
    /// Remarks.
    pub notes: Vec<String>,
}

// ---------------------------------------------------------------------------------------
// Listening.

/// Builds the listening report.
pub async fn listening(
    sources: &Sources<'_>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<ListeningReport, AnalyticsError> {
    let scope = scope(sources, from, to).await?;
    let early = scope.early();
    // Per topic (NULL: none) and side: posts, early posts, content posts, audience sentiment.
    let mut reference = Halves::default();
    let mut audience_reference = Halves::default();
    let (mut chosen, mut audience_posts, mut with_content, mut outliers) = (0, 0, 0, 0);
    #[derive(Default)]
    struct Tally {
        posts: usize,
        early: usize,
        audience: usize,
        own: usize,
        competitor: usize,
        positive: f64,
        neutral: f64,
        negative: f64,
    }
    let mut by_topic: BTreeMap<u32, Tally> = BTreeMap::new();
    stream(
        sources.analytics,
        &format!(
            "SELECT topic_id, side, CAST(count(*) AS BIGINT), CAST(sum({early}) AS BIGINT), \
             CAST(sum(CASE WHEN {HAS_CONTENT} THEN 1 ELSE 0 END) AS BIGINT), \
             CAST(sum(CASE WHEN sentiment = 'positive' THEN 1 ELSE 0 END) AS BIGINT), \
             CAST(sum(CASE WHEN sentiment = 'neutral' THEN 1 ELSE 0 END) AS BIGINT), \
             CAST(sum(CASE WHEN sentiment = 'negative' THEN 1 ELSE 0 END) AS BIGINT) \
             FROM posts WHERE {} GROUP BY topic_id, side",
            scope.condition
        ),
        |batch| {
            for row in 0..batch.num_rows() {
                let topic = topic_of(batch, 0, row);
                let side = text(batch, 1, row).unwrap_or_default();
                let (posts, early, content) =
                    (count(batch, 2, row), count(batch, 3, row), count(batch, 4, row));
                chosen += posts;
                reference.add(early, posts);
                with_content += content;
                if side == "audience" {
                    audience_posts += posts;
                    audience_reference.add(early, posts);
                }
                let Some(topic) = topic else {
                    outliers += content;
                    continue;
                };
                let tally = by_topic.entry(topic).or_default();
                tally.posts += posts;
                tally.early += early;
                match side.as_str() {
                    "audience" => {
                        tally.audience += posts;
                        tally.positive += count(batch, 5, row) as f64;
                        tally.neutral += count(batch, 6, row) as f64;
                        tally.negative += count(batch, 7, row) as f64;
                    }
                    "own" => tally.own += posts,
                    "competitor" => tally.competitor += posts,
                    _ => {}
                }
            }
            Ok(())
        },
    )
    .await?;
    let representatives = representatives(sources, &scope).await?;
    let mut listed: Vec<ListeningTopic> = by_topic
        .iter()
        .map(|(id, tally)| {
            let topic = sources.model.topics.iter().find(|topic| topic.id == *id);
            ListeningTopic {
                id: *id,
                label: sources.label(*id),
                terms: topic.map(|topic| topic.terms.clone()).unwrap_or_default(),
                posts: tally.posts,
                audience_posts: tally.audience,
                own_posts: tally.own,
                competitor_posts: tally.competitor,
                audience_share: round(tally.audience as f64 / audience_posts.max(1) as f64),
                growth: growth(tally.early, tally.posts, reference),
                sentiment: mix(tally.positive, tally.neutral, tally.negative),
                representative: representatives.get(id).cloned().unwrap_or_default(),
            }
        })
        .collect();
    listed.sort_by(|a, b| {
        b.audience_posts.cmp(&a.audience_posts).then(b.posts.cmp(&a.posts)).then(a.id.cmp(&b.id))
    });
    let mut unmet_needs = unmet_needs(sources, &scope, audience_reference).await?;
    listed.retain(|topic| sources.in_focus(Some(topic.id)));
    unmet_needs.retain(|need| sources.in_focus(need.topic_id));
    let mut notes = notes_for(sources, &scope, chosen).await?;
    notes.extend(sources.focus_note());
    Ok(ListeningReport {
        posts: chosen,
        audience_posts,
        embedding: sources.model.embedding.clone(),
        outlier_share: round(outliers as f64 / with_content.max(1) as f64),
        topics: listed,
        unmet_needs,
        notes,
        period: scope.period,
    })
}

fn mix(positive: f64, neutral: f64, negative: f64) -> SentimentMix {
    let all = positive + neutral + negative;
    if all == 0.0 {
        return SentimentMix::default();
    }
    SentimentMix {
        positive: round(positive / all),
        neutral: round(neutral / all),
        negative: round(negative / all),
        net: round((positive - negative) / all),
    }
}

/// Three posts per topic: among its [`CANDIDATES`] most engaged posts of the period (a
/// bounded top-k query), those nearest the topic's centre, distinct in their words.
async fn representatives(
    sources: &Sources<'_>,
    scope: &Scope,
) -> Result<BTreeMap<u32, Vec<Example>>, AnalyticsError> {
    // Most engaged first, then newest, then by key.
    let mut best: TopK<u32, (std::cmp::Reverse<i64>, std::cmp::Reverse<i64>)> =
        TopK::new(CANDIDATES);
    stream(
        sources.analytics,
        &format!(
            "SELECT topic_id, platform, id, CAST({ENGAGED} AS BIGINT), {CREATED} FROM posts \
             WHERE {} AND topic_id IS NOT NULL",
            scope.condition
        ),
        |batch| {
            let platforms = waterline_store::schema::utf8(batch.column(1))?;
            let ids = waterline_store::schema::utf8(batch.column(2))?;
            for row in 0..batch.num_rows() {
                if let Some(topic) = topic_of(batch, 0, row) {
                    let rank = (
                        std::cmp::Reverse(int(batch, 3, row).unwrap_or(0)),
                        std::cmp::Reverse(int(batch, 4, row).unwrap_or(0)),
                    );
                    best.offer(topic, rank, platforms.value(row), ids.value(row));
                }
            }
            Ok(())
        },
    )
    .await?;
    let candidates: Vec<(u32, (String, String))> = best
        .into_sorted()
        .into_iter()
        .flat_map(|(topic, rows)| rows.into_iter().map(move |(_, key)| (topic, key)))
        .collect();
    let keys: Vec<(String, String)> = candidates.iter().map(|(_, key)| key.clone()).collect();
    let found = examples(sources.analytics, &keys, &scope.condition).await?;
    let table = if sources.model.embedding.starts_with("static") {
        waterline_enrich::models::embeddings()
    } else {
        None
    };
    let texts: Vec<&str> = candidates
        .iter()
        .map(|(_, key)| found.get(key).map_or("", |example| example.text.as_str()))
        .collect();
    let docs = topics::prepare(&texts, table);
    let mut scored: BTreeMap<u32, Vec<(f32, usize)>> = BTreeMap::new();
    for (index, ((topic, _), doc)) in candidates.iter().zip(&docs).enumerate() {
        let Some(centre) = sources.model.topics.iter().find(|t| t.id == *topic) else { continue };
        if doc.vector.is_empty() {
            continue;
        }
        let cosine: f32 = doc.vector.iter().zip(&centre.centroid).map(|(a, b)| a * b).sum();
        scored.entry(*topic).or_default().push((cosine, index));
    }
    Ok(scored
        .into_iter()
        .map(|(topic, mut list)| {
            list.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            let mut chosen: Vec<usize> = Vec::new();
            for (_, index) in list {
                if chosen.iter().all(|c| docs[*c].words != docs[index].words) {
                    chosen.push(index);
                }
                if chosen.len() == 3 {
                    break;
                }
            }
            let examples = chosen
                .into_iter()
                .filter_map(|index| found.get(&candidates[index].1).cloned())
                .collect();
            (topic, examples)
        })
        .collect())
}

/// A post's (platform, id).
type PostKey = (String, String);

/// A need group: (topic, need).
type NeedKey = (Option<u32>, String);

/// The audience's questions, complaints and requests per topic in the period, with how
/// many an own account answered, and three examples each (unanswered first, newest first).
async fn unmet_needs(
    sources: &Sources<'_>,
    scope: &Scope,
    audience_reference: Halves,
) -> Result<Vec<UnmetNeed>, AnalyticsError> {
    let early = scope.early();
    // One pass over the period's needs: counts per group in the engine's aggregate would
    // need a second evaluation of the answered joins for the examples, so both come from
    // one stream (memory: the groups and three examples each).
    let mut groups: BTreeMap<NeedKey, (usize, usize, usize)> = BTreeMap::new();
    // Unanswered first, then newest, then by key.
    let mut best: TopK<NeedKey, (i64, std::cmp::Reverse<i64>)> = TopK::new(3);
    stream(
        sources.analytics,
        &format!(
            "WITH n AS (SELECT platform, id, created_at, author_handle, author_id, conversation_id, \
             topic_id, need FROM posts WHERE {} AND side = 'audience' \
             AND need IN ('question', 'complaint', 'request')), {} \
             SELECT topic_id, need, platform, id, CAST({early} AS BIGINT), \
             CAST(answered AS BIGINT), arrow_cast(created_at, 'Int64') FROM m",
            scope.condition,
            answered_ctes(scope.start, &["topic_id", "need"])
        ),
        |batch| {
            let needs = waterline_store::schema::utf8(batch.column(1))?;
            let platforms = waterline_store::schema::utf8(batch.column(2))?;
            let ids = waterline_store::schema::utf8(batch.column(3))?;
            for row in 0..batch.num_rows() {
                let key = (topic_of(batch, 0, row), needs.value(row).to_owned());
                let answered = int(batch, 5, row).unwrap_or(0);
                let group = groups.entry(key.clone()).or_default();
                group.0 += 1;
                group.1 += count(batch, 4, row);
                group.2 += usize::from(answered == 1);
                let rank = (answered, std::cmp::Reverse(int(batch, 6, row).unwrap_or(0)));
                best.offer(key, rank, platforms.value(row), ids.value(row));
            }
            Ok(())
        },
    )
    .await?;
    let picked: BTreeMap<NeedKey, Vec<(PostKey, bool)>> = best
        .into_sorted()
        .into_iter()
        .map(|(group, rows)| {
            (group, rows.into_iter().map(|((answered, _), key)| (key, answered == 1)).collect())
        })
        .collect();
    let keys: Vec<(String, String)> =
        picked.values().flatten().map(|(key, _)| key.clone()).collect();
    let found = examples(sources.analytics, &keys, &scope.condition).await?;
    let mut unmet: Vec<UnmetNeed> = groups
        .into_iter()
        .map(|((topic_id, need), (posts, early, answered))| {
            let mut chosen: Vec<NeedExample> = picked
                .get(&(topic_id, need.clone()))
                .into_iter()
                .flatten()
                .filter_map(|(key, answered)| {
                    found
                        .get(key)
                        .map(|post| NeedExample { post: post.clone(), answered: *answered })
                })
                .collect();
            chosen.sort_by(|a, b| {
                a.answered.cmp(&b.answered).then(b.post.created_at.cmp(&a.post.created_at))
            });
            UnmetNeed {
                topic_id,
                topic: topic_id
                    .map_or_else(|| "(outside every topic)".to_owned(), |id| sources.label(id)),
                need,
                posts,
                growth: growth(early, posts, audience_reference),
                answered,
                answered_share: round(answered as f64 / posts.max(1) as f64),
                examples: chosen,
            }
        })
        .collect();
    unmet.sort_by(|a, b| {
        b.posts.cmp(&a.posts).then(b.growth.total_cmp(&a.growth)).then(a.topic_id.cmp(&b.topic_id))
    });
    Ok(unmet)
}

// ---------------------------------------------------------------------------------------
// Reception (used by the gap and the audit).

/// One own original post of the period, read with what its reception and audit need (the
/// brand's own output: bounded by what it publishes, not by what its audience writes).
#[derive(Debug, Clone)]
struct OwnPost {
    example: Example,
    topic: Option<u32>,
    reception: Reception,
    self_talk: f64,
    cue: Option<&'static str>,
    with_link: bool,
    with_media: bool,
    with_question: bool,
    length: usize,
    replies_answered: usize,
}

/// A post's engagement rate and its basis: by followers, else by impressions, else raw;
/// `None` when no part of its engagements is known.
fn rate(
    parts: [Option<i64>; 4],
    followers: Option<i64>,
    views: Option<i64>,
) -> Option<(f64, &'static str)> {
    if parts.iter().all(Option::is_none) {
        return None;
    }
    let engaged = parts.iter().flatten().map(|part| (*part).max(0)).sum::<i64>() as f64;
    if let Some(followers) = followers.filter(|f| *f > 0) {
        return Some((engaged / followers as f64 * 100.0, "followers"));
    }
    if let Some(views) = views.filter(|v| *v > 0) {
        return Some((engaged / views as f64 * 100.0, "impressions"));
    }
    Some((engaged, "engagements"))
}

/// Minimum earlier posts for a percentile.
pub const MIN_HISTORY: usize = 10;

/// The period's own original posts with content, each with its reception: the percentile of
/// its engagement rate among the same account's posts of the preceding 90 days (same rate
/// basis), and its audience replies (how many, how negative, how many answered).
async fn own_posts(sources: &Sources<'_>, scope: &Scope) -> Result<Vec<OwnPost>, AnalyticsError> {
    struct Row {
        account: (String, String),
        at: i64,
        rate: Option<(f64, &'static str)>,
        post: Option<OwnPost>,
    }
    let history_start = match scope.start {
        Some(start) => format!("created_at >= {}", stamp(start - Duration::days(90))),
        None => "TRUE".to_owned(),
    };
    let condition = &scope.condition;
    let upper =
        scope.end.map_or_else(|| "TRUE".to_owned(), |end| format!("created_at < {}", stamp(end)));
    let mut rows: Vec<Row> = Vec::new();
    stream(
        sources.analytics,
        &format!(
            "SELECT platform, id, coalesce(author_id, author_handle, ''), {CREATED}, \
             CAST(likes AS BIGINT), CAST(shares AS BIGINT), CAST(replies AS BIGINT), \
             CAST(quotes AS BIGINT), CAST(views AS BIGINT), CAST(author_followers AS BIGINT), \
             topic_id, CASE WHEN {condition} THEN 1 ELSE 0 END, coalesce(author_handle, author_id), \
             CASE WHEN {condition} THEN text END, \
             CAST(CASE WHEN links IS NULL THEN 0 ELSE array_length(links) END AS BIGINT), \
             CAST(media_count AS BIGINT) \
             FROM posts WHERE side = 'own' AND reply_to IS NULL AND {HAS_CONTENT} \
             AND {history_start} AND {upper}"
        ),
        |batch| {
            for row in 0..batch.num_rows() {
                let platform = text(batch, 0, row).unwrap_or_default();
                let id = text(batch, 1, row).unwrap_or_default();
                let at = int(batch, 3, row).unwrap_or(0);
                let parts = [int(batch, 4, row), int(batch, 5, row), int(batch, 6, row), int(batch, 7, row)];
                let rate = rate(parts, int(batch, 9, row), int(batch, 8, row));
                let post = (int(batch, 11, row) == Some(1)).then(|| {
                    let body = text(batch, 13, row).unwrap_or_default();
                    let (self_talk, cues) = self_talk(&body);
                    OwnPost {
                        example: Example {
                            platform: platform.clone(),
                            id: id.clone(),
                            created_at: micros(at),
                            author: text(batch, 12, row),
                            text: body.chars().take(280).collect(),
                        },
                        topic: topic_of(batch, 10, row),
                        reception: Reception {
                            label: String::new(),
                            percentile: None,
                            rate: None,
                            basis: None,
                            baseline_median: None,
                            history: 0,
                            replies: 0,
                            negative_replies: 0.0,
                        },
                        self_talk,
                        cue: cues.first().copied(),
                        with_link: int(batch, 14, row).unwrap_or(0) > 0,
                        with_media: int(batch, 15, row).unwrap_or(0) > 0,
                        with_question: body.contains('?'),
                        length: body.chars().count(),
                        replies_answered: 0,
                    }
                });
                let account = (platform, text(batch, 2, row).unwrap_or_default());
                rows.push(Row { account, at, rate, post });
            }
            Ok(())
        },
    )
    .await?;
    // Audience replies to the period's own posts: how many, how many negative, how many an
    // own account answered.
    let mut replies: HashMap<(String, String), (usize, usize, usize)> = HashMap::new();
    let answered = answered_ctes(scope.start, &["parent", "sentiment"]);
    // A reply comes after its parent: replies before the period cannot answer its posts.
    let after = scope
        .start
        .map_or_else(String::new, |start| format!(" AND p.created_at >= {}", stamp(start)));
    stream(
        sources.analytics,
        &format!(
            "WITH o AS (SELECT platform, id FROM posts WHERE side = 'own' AND reply_to IS NULL \
             AND {HAS_CONTENT} AND {condition}), \
             n AS (SELECT p.platform, p.id, p.reply_to AS parent, p.created_at, p.author_handle, \
             p.author_id, p.conversation_id, p.sentiment FROM o JOIN posts p \
             ON o.platform = p.platform AND o.id = p.reply_to WHERE p.side = 'audience'{after}), \
             {answered} \
             SELECT platform, parent, CAST(count(*) AS BIGINT), \
             CAST(sum(CASE WHEN sentiment = 'negative' THEN 1 ELSE 0 END) AS BIGINT), \
             CAST(sum(answered) AS BIGINT) FROM m GROUP BY platform, parent"
        ),
        |batch| {
            for row in 0..batch.num_rows() {
                let key = (
                    text(batch, 0, row).unwrap_or_default(),
                    text(batch, 1, row).unwrap_or_default(),
                );
                replies.insert(
                    key,
                    (count(batch, 2, row), count(batch, 3, row), count(batch, 4, row)),
                );
            }
            Ok(())
        },
    )
    .await?;
    rows.sort_by(|a, b| a.account.cmp(&b.account).then(a.at.cmp(&b.at)));
    let mut out = Vec::new();
    let window = Duration::days(90).num_microseconds().unwrap_or(i64::MAX);
    // Each account's rates of the last 90 days, by basis, kept sorted as the window slides
    // (one insertion and one removal per post: ranking a post against thousands of earlier
    // ones must not sort them again for every post).
    let mut windows: HashMap<&'static str, Vec<f64>> = HashMap::new();
    let mut start = 0;
    for position in 0..rows.len() {
        if position == 0 || rows[position].account != rows[position - 1].account {
            start = position;
            windows.clear();
        }
        while start < position && rows[start].at < rows[position].at - window {
            if let Some((value, basis)) = rows[start].rate
                && let Some(sorted) = windows.get_mut(basis)
            {
                let at = sorted.partition_point(|h| h.total_cmp(&value).is_lt());
                if at < sorted.len() {
                    sorted.remove(at);
                }
            }
            start += 1;
        }
        let own = rows[position].rate;
        if let Some(mut post) = rows[position].post.take() {
            let history: &[f64] =
                own.and_then(|(_, basis)| windows.get(basis)).map_or(&[], Vec::as_slice);
            let (reply_count, negative, answered) = replies
                .get(&(post.example.platform.clone(), post.example.id.clone()))
                .copied()
                .unwrap_or_default();
            let negative_share = negative as f64 / reply_count.max(1) as f64;
            let (percentile, label) = match own {
                Some((value, _)) if history.len() >= MIN_HISTORY => {
                    let below = history.partition_point(|h| *h < value) as f64;
                    let equal = history.partition_point(|h| *h <= value) as f64 - below;
                    let percentile = (below + equal / 2.0) / history.len() as f64 * 100.0;
                    let label = if reply_count >= 3 && negative_share > 0.5 {
                        "frosty"
                    } else if percentile >= 67.0 {
                        "warm"
                    } else if percentile >= 33.0 {
                        "cool"
                    } else {
                        "frosty"
                    };
                    (Some(round(percentile)), label)
                }
                _ => (None, "not enough history"),
            };
            let median = (!history.is_empty()).then(|| history[history.len() / 2]);
            post.reception = Reception {
                label: label.to_owned(),
                percentile,
                rate: own.map(|(value, _)| significant(value)),
                basis: own.map(|(_, basis)| basis.to_owned()),
                baseline_median: median.map(significant),
                history: history.len(),
                replies: reply_count,
                negative_replies: round(negative_share),
            };
            post.replies_answered = answered;
            out.push(post);
        }
        if let Some((value, basis)) = own {
            let sorted = windows.entry(basis).or_default();
            let at = sorted.partition_point(|h| h.total_cmp(&value).is_lt());
            sorted.insert(at, value);
        }
    }
    Ok(out)
}

/// Topical posts of the period per side and topic: own originals and audience posts with a
/// topic (the gap's and the audit's denominators).
async fn topic_mixes(
    sources: &Sources<'_>,
    scope: &Scope,
) -> Result<(BTreeMap<u32, f64>, usize, BTreeMap<u32, f64>, usize), AnalyticsError> {
    let mut own: BTreeMap<u32, f64> = BTreeMap::new();
    let mut audience: BTreeMap<u32, f64> = BTreeMap::new();
    stream(
        sources.analytics,
        &format!(
            "SELECT side, topic_id, CAST(count(*) AS BIGINT) FROM posts WHERE {} AND topic_id IS NOT NULL \
             AND ((side = 'own' AND reply_to IS NULL) OR side = 'audience') GROUP BY side, topic_id",
            scope.condition
        ),
        |batch| {
            for row in 0..batch.num_rows() {
                let Some(topic) = topic_of(batch, 1, row) else { continue };
                let target = if text(batch, 0, row).as_deref() == Some("own") { &mut own } else { &mut audience };
                *target.entry(topic).or_default() += count(batch, 2, row) as f64;
            }
            Ok(())
        },
    )
    .await?;
    let normalise = |mix: &mut BTreeMap<u32, f64>| -> usize {
        let n: f64 = mix.values().sum();
        mix.values_mut().for_each(|value| *value /= n.max(1.0));
        n as usize
    };
    let own_n = normalise(&mut own);
    let audience_n = normalise(&mut audience);
    Ok((own, own_n, audience, audience_n))
}

// ---------------------------------------------------------------------------------------
// Perception gap.

/// The verdict of a topic from its shares' size and sign (and its own posts' median
/// reception): within a third of each other, or two points apart at most, they are
/// aligned; otherwise the side that talks more about it leads the sentence.
fn verdict(audience_share: f64, own_share: f64, own_median: Option<f64>) -> &'static str {
    let (high, low) = (audience_share.max(own_share), audience_share.min(own_share));
    if (audience_share - own_share).abs() < 0.02 || high <= low * 1.5 {
        "aligned"
    } else if audience_share > own_share {
        if own_share <= audience_share / 2.0 {
            "audience talks about this, you do not"
        } else {
            "audience talks about this more than you"
        }
    } else if audience_share <= own_share / 2.0 {
        if own_median.is_none_or(|m| m < 50.0) {
            "you push this, nobody engages"
        } else {
            "you push this, and your posts on it engage"
        }
    } else {
        "you talk about this more than your audience"
    }
}

/// The competitor an author is (by the configured accounts), as SQL over `posts`.
fn competitor_sql(config: &Config) -> String {
    let mut cases = Vec::new();
    for competitor in &config.competitors {
        for (platform, handles) in &competitor.accounts {
            if handles.is_empty() {
                continue;
            }
            let list = handles
                .iter()
                .map(|h| quote(&h.trim_start_matches('@').to_lowercase()))
                .collect::<Vec<_>>()
                .join(", ");
            cases.push(format!(
                "WHEN platform = {} AND lower(ltrim(coalesce(author_handle, ''), '@')) IN ({list}) THEN {}",
                quote(platform),
                quote(&competitor.name)
            ));
        }
    }
    if cases.is_empty() {
        "'competitors'".to_owned()
    } else {
        format!("CASE {} ELSE 'competitors' END", cases.join(" "))
    }
}

/// Builds the gap report.
pub async fn gap(
    sources: &Sources<'_>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<GapReport, AnalyticsError> {
    let scope = scope(sources, from, to).await?;
    let (own_mix, own_n, audience_mix, audience_n) = topic_mixes(sources, &scope).await?;
    let own_posts = own_posts(sources, &scope).await?;
    let ids: std::collections::BTreeSet<u32> =
        own_mix.keys().chain(audience_mix.keys()).copied().collect();
    let mut listed: Vec<GapTopic> = ids
        .iter()
        .map(|id| {
            let audience_share = audience_mix.get(id).copied().unwrap_or(0.0);
            let own_share = own_mix.get(id).copied().unwrap_or(0.0);
            let on_topic: Vec<&Reception> = own_posts
                .iter()
                .filter(|post| post.topic == Some(*id))
                .map(|post| &post.reception)
                .collect();
            let rated: Vec<&&Reception> =
                on_topic.iter().filter(|r| r.percentile.is_some()).collect();
            let warm = (!rated.is_empty()).then(|| {
                round(
                    rated.iter().filter(|r| r.label == "warm").count() as f64 / rated.len() as f64,
                )
            });
            let mut percentiles: Vec<f64> = rated.iter().filter_map(|r| r.percentile).collect();
            percentiles.sort_by(f64::total_cmp);
            let median = (!percentiles.is_empty()).then(|| percentiles[percentiles.len() / 2]);
            GapTopic {
                id: *id,
                label: sources.label(*id),
                audience_share: round(audience_share),
                own_share: round(own_share),
                gap: round(audience_share - own_share),
                own_posts: on_topic.len(),
                own_warm_share: warm,
                own_median_percentile: median,
                verdict: verdict(audience_share, own_share, median).to_owned(),
            }
        })
        .collect();
    listed.sort_by(|a, b| b.gap.abs().total_cmp(&a.gap.abs()).then(a.id.cmp(&b.id)));
    listed.retain(|topic| sources.in_focus(Some(topic.id)));
    let audience_not_you = listed
        .iter()
        .filter(|t| t.verdict.starts_with("audience talks about this, you"))
        .map(|t| t.id)
        .collect();
    let you_not_audience = listed
        .iter()
        .filter(|t| t.verdict.starts_with("you push this, nobody"))
        .map(|t| t.id)
        .collect();
    let mut resonates: Vec<GapTopic> = listed
        .iter()
        .filter(|t| t.own_posts >= 3 && t.own_median_percentile.is_some())
        .cloned()
        .collect();
    resonates.sort_by(|a, b| {
        b.own_median_percentile
            .unwrap_or(0.0)
            .total_cmp(&a.own_median_percentile.unwrap_or(0.0))
            .then(a.id.cmp(&b.id))
    });
    resonates.truncate(5);
    let mut by_competitor: BTreeMap<String, BTreeMap<u32, f64>> = BTreeMap::new();
    stream(
        sources.analytics,
        &format!(
            "SELECT {} AS name, topic_id, CAST(count(*) AS BIGINT) FROM posts WHERE {} \
             AND side = 'competitor' AND topic_id IS NOT NULL GROUP BY 1, 2",
            competitor_sql(sources.config),
            scope.condition
        ),
        |batch| {
            for row in 0..batch.num_rows() {
                let Some(topic) = topic_of(batch, 1, row) else { continue };
                *by_competitor
                    .entry(text(batch, 0, row).unwrap_or_default())
                    .or_default()
                    .entry(topic)
                    .or_default() += count(batch, 2, row) as f64;
            }
            Ok(())
        },
    )
    .await?;
    let competitors = by_competitor
        .into_iter()
        .map(|(name, mut mix)| {
            let n: f64 = mix.values().sum();
            mix.values_mut().for_each(|value| *value /= n.max(1.0));
            let mut top: Vec<(String, f64)> =
                mix.iter().map(|(id, share)| (sources.label(*id), round(*share))).collect();
            top.sort_by(|a, b| b.1.total_cmp(&a.1));
            top.truncate(3);
            CompetitorGap {
                name,
                posts: n as usize,
                divergence: jensen_shannon(&mix, &audience_mix),
                top_topics: top,
            }
        })
        .collect();
    let seed_of: HashMap<u32, &str> = sources
        .model
        .topics
        .iter()
        .filter_map(|topic| topic.seed.as_deref().map(|seed| (topic.id, seed)))
        .collect();
    let mut declared_topics: Vec<DeclaredGap> = sources
        .config
        .topics
        .iter()
        .map(|seed| {
            let sum = |mix: &BTreeMap<u32, f64>| -> f64 {
                mix.iter()
                    .filter(|(id, _)| seed_of.get(id) == Some(&seed.name.as_str()))
                    .map(|(_, share)| share)
                    .sum()
            };
            let (audience_share, own_share) = (sum(&audience_mix), sum(&own_mix));
            DeclaredGap {
                name: seed.name.clone(),
                audience_share: round(audience_share),
                own_share: round(own_share),
                gap: round(audience_share - own_share),
                verdict: verdict(audience_share, own_share, None).to_owned(),
            }
        })
        .collect();
    declared_topics.sort_by(|a, b| b.gap.abs().total_cmp(&a.gap.abs()).then(a.name.cmp(&b.name)));
    let chosen = period_posts(sources, &scope).await?;
    let mut notes = notes_for(sources, &scope, chosen).await?;
    notes.push(format!(
        "shares are of topical posts: {own_n} own original posts and {audience_n} audience posts with a topic in the period"
    ));
    if let Some(note) = sources.focus_note() {
        notes.push(format!("{note} (shares and divergence cover every topic)"));
    }
    if own_n == 0 {
        notes.push(
            "no own posts with a topic in the period: the gap compares against nothing".into(),
        );
    }
    if audience_n == 0 {
        notes.push("no audience posts with a topic in the period".into());
    }
    Ok(GapReport {
        period: scope.period,
        own_posts: own_n,
        audience_posts: audience_n,
        divergence: jensen_shannon(&own_mix, &audience_mix),
        topics: listed,
        audience_not_you,
        you_not_audience,
        resonates,
        declared_topics,
        competitors,
        notes,
    })
}

/// Posts in the period (all sides).
async fn period_posts(sources: &Sources<'_>, scope: &Scope) -> Result<usize, AnalyticsError> {
    let mut n = 0;
    stream(
        sources.analytics,
        &format!("SELECT CAST(count(*) AS BIGINT) FROM posts WHERE {}", scope.condition),
        |batch| {
            if batch.num_rows() > 0 {
                n = count(batch, 0, 0);
            }
            Ok(())
        },
    )
    .await?;
    Ok(n)
}

// ---------------------------------------------------------------------------------------
// Content audit.

/// Builds the audit report.
pub async fn audit(
    sources: &Sources<'_>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    listed: usize,
) -> Result<AuditReport, AnalyticsError> {
    let scope = scope(sources, from, to).await?;
    let (_, _, audience_mix, _) = topic_mixes(sources, &scope).await?;
    let mut own = own_posts(sources, &scope).await?;
    own.retain(|post| sources.in_focus(post.topic));
    let mut audited: Vec<(AuditedPost, &OwnPost)> = own
        .iter()
        .map(|post| {
            let reception = &post.reception;
            let topic_id = post.topic;
            let share = topic_id.and_then(|id| audience_mix.get(&id)).copied().unwrap_or(0.0);
            let who = post
                .example
                .author
                .as_deref()
                .map_or_else(|| "the account".to_owned(), |h| format!("@{}", h.trim_start_matches('@')));
            let mut reason = match (reception.label.as_str(), reception.percentile) {
                ("not enough history", _) => format!(
                    "{} earlier posts of {who} in 90 days (needs {MIN_HISTORY})",
                    reception.history
                ),
                ("frosty", _) if reception.replies >= 3 && reception.negative_replies > 0.5 => format!(
                    "{:.0}% of its {} replies are negative",
                    reception.negative_replies * 100.0,
                    reception.replies
                ),
                (label, Some(percentile)) => format!(
                    "{label}: percentile {percentile:.0} of {who}'s last 90 days ({} {} vs median {})",
                    reception.basis.as_deref().map_or("rate", |b| match b {
                        "engagements" => "engagements",
                        "impressions" => "engagement rate by impressions %",
                        _ => "engagement rate by followers %",
                    }),
                    show(reception.rate.unwrap_or(0.0)),
                    show(reception.baseline_median.unwrap_or(0.0))
                ),
                (label, None) => label.to_owned(),
            };
            if let Some(cue) = post.cue {
                reason.push_str(&format!("; self-talk (\"{cue}\")"));
            }
            if topic_id.is_some() && share < 0.02 {
                reason.push_str("; topic barely discussed by the audience");
            } else if share >= 0.1 {
                reason.push_str(&format!("; topic is {:.0}% of audience talk", share * 100.0));
            }
            let audited = AuditedPost {
                post: post.example.clone(),
                reception: reception.clone(),
                topic_id,
                topic: topic_id.map(|id| sources.label(id)),
                audience_topic_share: round(share),
                self_talk: post.self_talk,
                replies: reception.replies,
                replies_answered: post.replies_answered,
                reason,
            };
            (audited, post)
        })
        .collect();
    audited.sort_by(|a, b| {
        b.0.post.created_at.cmp(&a.0.post.created_at).then(a.0.post.id.cmp(&b.0.post.id))
    });
    let mut labels: BTreeMap<String, usize> = BTreeMap::new();
    for (post, _) in &audited {
        *labels.entry(post.reception.label.clone()).or_default() += 1;
    }
    let group = |label: &str| -> AuditGroup {
        let members: Vec<&(AuditedPost, &OwnPost)> =
            audited.iter().filter(|(p, _)| p.reception.label == label).collect();
        let n = members.len().max(1) as f64;
        let share = |test: fn(&OwnPost) -> bool| {
            round(members.iter().filter(|(_, own)| test(own)).count() as f64 / n)
        };
        let mut topics: BTreeMap<String, usize> = BTreeMap::new();
        for (member, _) in &members {
            if let Some(topic) = &member.topic {
                *topics.entry(topic.clone()).or_default() += 1;
            }
        }
        let mut top: Vec<(String, usize)> = topics.into_iter().collect();
        top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        top.truncate(3);
        AuditGroup {
            posts: members.len(),
            self_talk: round(members.iter().map(|(p, _)| p.self_talk).sum::<f64>() / n),
            audience_topic_share: round(
                members.iter().map(|(p, _)| p.audience_topic_share).sum::<f64>() / n,
            ),
            with_link: share(|own| own.with_link),
            with_media: share(|own| own.with_media),
            with_question: share(|own| own.with_question),
            length: round(members.iter().map(|(_, own)| own.length as f64).sum::<f64>() / n),
            top_topics: top,
        }
    };
    let warm = group("warm");
    let frosty = group("frosty");
    let mut summary = Vec::new();
    if warm.posts > 0 && frosty.posts > 0 {
        let compare = |name: &str, w: f64, f: f64, percent: bool| {
            let (w, f) = if percent { (w * 100.0, f * 100.0) } else { (w, f) };
            let unit = if percent { "%" } else { "" };
            format!("{name}: warm {w:.1}{unit}, frosty {f:.1}{unit}")
        };
        summary.push(compare("self-talk score", warm.self_talk, frosty.self_talk, false));
        summary.push(compare(
            "audience share of the topic",
            warm.audience_topic_share,
            frosty.audience_topic_share,
            true,
        ));
        summary.push(compare("with a link", warm.with_link, frosty.with_link, true));
        summary.push(compare("with media", warm.with_media, frosty.with_media, true));
        summary.push(compare("asking a question", warm.with_question, frosty.with_question, true));
        summary.push(compare("length (characters)", warm.length, frosty.length, false));
    } else {
        summary
            .push("no warm/frosty contrast yet: both labels need posts with enough history".into());
    }
    let chosen = period_posts(sources, &scope).await?;
    let mut notes = notes_for(sources, &scope, chosen).await?;
    notes.push(format!(
        "audited: the {} own original posts with content in the period (own replies and reposts are not audited)",
        audited.len()
    ));
    notes.extend(sources.focus_note());
    if audited.is_empty() {
        notes.push(
            "no own original posts in the period (is `accounts` set in waterline.toml?)".into(),
        );
    }
    let posts = audited.len();
    if posts > listed {
        notes.push(format!("the {listed} newest are listed; counts and groups cover all {posts}"));
    }
    let listed = audited.into_iter().take(listed).map(|(post, _)| post).collect();
    Ok(AuditReport {
        period: scope.period,
        posts,
        labels,
        audited: listed,
        warm,
        frosty,
        summary,
        notes,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn top_k_keeps_the_best_of_each_group_whatever_the_order_rows_arrive_in() {
        let rows = [
            (1, 5, "a"),
            (1, 9, "b"),
            (2, 1, "c"),
            (1, 7, "d"),
            (1, 9, "a2"),
            (2, 3, "e"),
            (1, 1, "f"),
        ];
        let run = |order: &mut dyn Iterator<Item = &(u32, i64, &str)>| {
            let mut best: TopK<u32, std::cmp::Reverse<i64>> = TopK::new(2);
            for (group, score, id) in order {
                best.offer(*group, std::cmp::Reverse(*score), "x", id);
            }
            best.into_sorted()
                .into_iter()
                .map(|(group, rows)| {
                    (group, rows.into_iter().map(|(_, (_, id))| id).collect::<Vec<_>>())
                })
                .collect::<Vec<_>>()
        };
        let forward = run(&mut rows.iter());
        // Highest first; a tie on score is broken by key (`a2` before `b`).
        assert_eq!(
            forward,
            vec![
                (1, vec!["a2".to_owned(), "b".to_owned()]),
                (2, vec!["e".to_owned(), "c".to_owned()])
            ]
        );
        assert_eq!(run(&mut rows.iter().rev()), forward);
        let mut none: TopK<u32, i64> = TopK::new(0);
        none.offer(1, 1, "x", "y");
        assert!(none.into_sorted().is_empty());
    }

    #[test]
    fn small_rates_keep_their_digits() {
        assert_eq!(significant(0.000_123_456), 0.000_123_5);
        assert_eq!(show(0.000_123_456), "0.000123");
        assert_eq!(show(12.345), "12.3");
        assert_eq!(show(0.0), "0");
    }

    #[test]
    fn divergence_bounds() {
        let p: BTreeMap<u32, f64> = [(1, 1.0)].into();
        let q: BTreeMap<u32, f64> = [(2, 1.0)].into();
        assert!((jensen_shannon(&p, &q) - 1.0).abs() < 1e-9);
        assert!(jensen_shannon(&p, &p).abs() < 1e-9);
        let r: BTreeMap<u32, f64> = [(1, 0.5), (2, 0.5)].into();
        assert!((jensen_shannon(&p, &r) - 0.3113).abs() < 1e-3);
    }

    #[test]
    fn self_talk_in_both_languages() {
        assert!(self_talk("We are proud to announce our booth at ESC Congress!").0 >= 0.7);
        assert!(
            self_talk("Nous sommes fiers de vous retrouver sur notre stand au congrès").0 >= 0.7
        );
        assert!(self_talk("Salt and walking: three tips for your heart").0 < 0.2);
    }
}
