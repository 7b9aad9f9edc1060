//! The listening, perception-gap and content-audit reports (`waterline report …`), computed
//! from the stored posts, their annotations and the workspace's topic model. Definitions
//! follow `PRODUCT.md` section 3; the JSON shapes are documented in `docs/schema.md`.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;
use waterline_enrich::embed::Embeddings;
use waterline_model::{Config, Need, Post, Sentiment, Side};

use crate::topics::{self, SeedTopic, TopicDoc, TopicModel, TopicOptions, round};

/// Fewest posts a report needs to say anything.
pub const MIN_POSTS: usize = 20;

/// The period a report covers (inclusive dates in the workspace time zone).
#[derive(Debug, Clone, Serialize)]
pub struct Period {
    /// First day, or the first post's day.
    pub from: Option<NaiveDate>,
    /// Last day, or the last post's day.
    pub to: Option<NaiveDate>,
    /// The workspace time zone.
    pub time_zone: String,
}

/// Posts, their topic documents and assignments, shared by the three reports.
pub struct Corpus<'a> {
    /// The posts (latest state), in time order.
    pub posts: &'a [Post],
    /// One topic document per post.
    pub docs: Vec<TopicDoc>,
    /// Topic per post.
    pub labels: Vec<Option<u32>>,
    /// The (updated) topic model.
    pub model: TopicModel,
    /// Whether the model changed and should be saved.
    pub model_changed: bool,
    /// Index of a post by (platform, id).
    index: HashMap<(&'a str, &'a str), usize>,
    /// Own replies by the (platform, id) they answer.
    own_replies: HashMap<(&'a str, &'a str), Vec<usize>>,
    /// Audience replies by the (platform, id) they answer.
    audience_replies: HashMap<(&'a str, &'a str), Vec<usize>>,
    /// Own replies by (platform, conversation id).
    own_in_conversation: HashMap<(&'a str, &'a str), Vec<usize>>,
    /// Posts without annotations (imported with `--no-enrich`).
    unannotated: usize,
    time_zone: chrono_tz::Tz,
}

/// True for posts that carry their own content (not reposts, not empty).
fn has_content(post: &Post) -> bool {
    post.repost_of.is_none() && !post.text.trim().is_empty()
}

impl<'a> Corpus<'a> {
    /// Embeds every post, updates the topic model with them and assigns them.
    pub fn build(
        posts: &'a [Post],
        config: &Config,
        model: Option<TopicModel>,
        table: Option<&Embeddings>,
        options: &TopicOptions,
    ) -> Corpus<'a> {
        let texts: Vec<&str> = posts
            .iter()
            .map(|post| if has_content(post) { post.text.as_str() } else { "" })
            .collect();
        let mut docs = topics::prepare(&texts, table);
        let embedding = topics::embedding_name(table);
        // A model made with another embedding cannot be reused: start again.
        let mut model = match model {
            Some(model) if model.embedding == embedding => model,
            _ => TopicModel { embedding, ..TopicModel::default() },
        };
        let before = model.clone();
        let seeds: Vec<SeedTopic> = config
            .topics
            .iter()
            .map(|seed| SeedTopic {
                name: seed.name.clone(),
                keywords: seed.keywords.iter().map(|k| waterline_enrich::text::fold(k)).collect(),
            })
            .collect();
        topics::mark_seeds(&mut docs, &texts, &seeds);
        let labels = topics::update(&mut model, &docs, options, &seeds);
        let model_changed = model != before;
        let mut index = HashMap::with_capacity(posts.len());
        let mut own_replies: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
        let mut audience_replies: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
        let mut own_in_conversation: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
        for (position, post) in posts.iter().enumerate() {
            if post.side == Some(Side::Own)
                && post.reply_to.is_some()
                && let Some(conversation) = &post.conversation_id
            {
                own_in_conversation
                    .entry((post.platform.as_str(), conversation.as_str()))
                    .or_default()
                    .push(position);
            }
            index.insert((post.platform.as_str(), post.id.as_str()), position);
            if let Some(parent) = &post.reply_to {
                let key = (post.platform.as_str(), parent.as_str());
                match post.side {
                    Some(Side::Own) => own_replies.entry(key).or_default().push(position),
                    Some(Side::Audience) => audience_replies.entry(key).or_default().push(position),
                    _ => {}
                }
            }
        }
        Corpus {
            posts,
            docs,
            labels,
            model,
            model_changed,
            index,
            own_replies,
            audience_replies,
            own_in_conversation,
            unannotated: posts
                .iter()
                .filter(|post| post.annotations.as_ref().is_none_or(|a| a.enriched_with.is_empty()))
                .count(),
            time_zone: config.time_zone().unwrap_or(chrono_tz::UTC),
        }
    }

    fn day(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.time_zone).date_naive()
    }

    /// Positions of the posts inside a period, and the period with its bounds filled.
    fn in_period(&self, from: Option<NaiveDate>, to: Option<NaiveDate>) -> (Vec<usize>, Period) {
        let chosen: Vec<usize> = (0..self.posts.len())
            .filter(|i| {
                let day = self.day(self.posts[*i].created_at);
                from.is_none_or(|from| day >= from) && to.is_none_or(|to| day <= to)
            })
            .collect();
        let first = chosen.iter().map(|i| self.day(self.posts[*i].created_at)).min();
        let last = chosen.iter().map(|i| self.day(self.posts[*i].created_at)).max();
        let period =
            Period { from: from.or(first), to: to.or(last), time_zone: self.time_zone.to_string() };
        (chosen, period)
    }

    /// The earliest own answer to a post: an own reply to it, or a later own post in the
    /// same conversation that replies to its author (a thread answered at its last message
    /// answers the author's earlier messages too).
    fn answered(&self, position: usize) -> Option<&Post> {
        let post = &self.posts[position];
        let direct = self
            .own_replies
            .get(&(post.platform.as_str(), post.id.as_str()))
            .into_iter()
            .flatten()
            .map(|reply| &self.posts[*reply]);
        let author = [post.author_handle.as_deref(), post.author_id.as_deref()];
        let in_thread = post
            .conversation_id
            .as_deref()
            .and_then(|conversation| {
                self.own_in_conversation.get(&(post.platform.as_str(), conversation))
            })
            .into_iter()
            .flatten()
            .map(|reply| &self.posts[*reply])
            .filter(|reply| {
                reply.reply_to_author.as_deref().is_some_and(|to| author.contains(&Some(to)))
            });
        direct
            .chain(in_thread)
            .filter(|reply| reply.created_at >= post.created_at)
            .min_by_key(|reply| reply.created_at)
    }

    fn label(&self, id: u32) -> String {
        self.model
            .topics
            .iter()
            .find(|topic| topic.id == id)
            .map(|topic| topic.label())
            .unwrap_or_default()
    }
}

/// A post quoted in a report.
#[derive(Debug, Clone, Serialize)]
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

fn example(post: &Post) -> Example {
    Example {
        platform: post.platform.clone(),
        id: post.id.clone(),
        created_at: post.created_at,
        author: post.author_handle.clone().or_else(|| post.author_id.clone()),
        text: post.text.chars().take(280).collect(),
    }
}

fn need_of(post: &Post) -> Need {
    post.annotations.as_ref().and_then(|a| a.need).unwrap_or(Need::None)
}

fn sentiment_of(post: &Post) -> Option<Sentiment> {
    post.annotations.as_ref().and_then(|a| a.sentiment)
}

/// Shares of positive, neutral and negative posts, and net sentiment.
#[derive(Debug, Clone, Default, Serialize)]
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

fn sentiment_mix<'p>(posts: impl Iterator<Item = &'p Post>) -> SentimentMix {
    let (mut positive, mut neutral, mut negative) = (0.0, 0.0, 0.0);
    for post in posts {
        match sentiment_of(post) {
            Some(Sentiment::Positive) => positive += 1.0,
            Some(Sentiment::Neutral) => neutral += 1.0,
            Some(Sentiment::Negative) => negative += 1.0,
            None => {}
        }
    }
    let all: f64 = positive + neutral + negative;
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

/// Growth of a group of posts between the first and the second half of a period, relative to
/// all the posts of the same halves (`reference`), so that a rising overall volume does not
/// make every topic grow: (late share + smoothing) ÷ (early share + smoothing) − 1, where each
/// share is the group's posts over the reference posts of that half, smoothed by one post.
fn growth(
    days: &[NaiveDate],
    reference: &Halves,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> f64 {
    let (Some(from), Some(to)) = (from, to) else { return 0.0 };
    let half = from + Duration::days((to - from).num_days() / 2);
    let early = days.iter().filter(|day| **day <= half).count() as f64;
    let late = days.len() as f64 - early;
    let early_share = (early + 1.0) / (reference.early + 1.0);
    let late_share = (late + 1.0) / (reference.late + 1.0);
    round(late_share / early_share - 1.0)
}

/// Posts in the first and the second half of a period.
struct Halves {
    early: f64,
    late: f64,
}

fn halves(
    days: impl Iterator<Item = NaiveDate>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Halves {
    let (Some(from), Some(to)) = (from, to) else { return Halves { early: 0.0, late: 0.0 } };
    let half = from + Duration::days((to - from).num_days() / 2);
    let (mut early, mut late) = (0.0, 0.0);
    for day in days {
        if day <= half {
            early += 1.0;
        } else {
            late += 1.0;
        }
    }
    Halves { early, late }
}

// ---------------------------------------------------------------------------------------
// Listening.

/// One topic in the listening report.
#[derive(Debug, Clone, Serialize)]
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
#[derive(Debug, Clone, Serialize)]
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
#[derive(Debug, Clone, Serialize)]
pub struct NeedExample {
    /// The post.
    #[serde(flatten)]
    pub post: Example,
    /// Whether an own account replied.
    pub answered: bool,
}

/// `waterline report listening`.
#[derive(Debug, Clone, Serialize)]
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

fn notes_for(corpus: &Corpus, chosen: usize) -> Vec<String> {
    let mut notes = Vec::new();
    if chosen < MIN_POSTS {
        notes.push(format!(
            "too little data: {chosen} posts in the period (a report needs at least {MIN_POSTS}); import more or widen --from/--to"
        ));
    }
    if corpus.unannotated * 2 > corpus.posts.len() {
        notes.push(format!(
            "{} of {} posts have no annotations (imported with --no-enrich): sentiment and needs are missing; run `waterline enrich`",
            corpus.unannotated,
            corpus.posts.len()
        ));
    }
    if corpus.model.embedding.starts_with("lexical") {
        notes.push("no embedding table is available: topics are lexical (hashed words), expect weaker topics".into());
    }
    notes
}

/// Builds the listening report.
pub fn listening(
    corpus: &Corpus,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> ListeningReport {
    let (chosen, period) = corpus.in_period(from, to);
    let posts = corpus.posts;
    let audience: Vec<usize> =
        chosen.iter().copied().filter(|i| posts[*i].side == Some(Side::Audience)).collect();
    let reference =
        halves(chosen.iter().map(|i| corpus.day(posts[*i].created_at)), period.from, period.to);
    let audience_reference =
        halves(audience.iter().map(|i| corpus.day(posts[*i].created_at)), period.from, period.to);
    let with_content: Vec<usize> =
        chosen.iter().copied().filter(|i| !corpus.docs[*i].words.is_empty()).collect();
    let outliers = with_content.iter().filter(|i| corpus.labels[**i].is_none()).count();
    let mut by_topic: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
    for i in &chosen {
        if let Some(id) = corpus.labels[*i] {
            by_topic.entry(id).or_default().push(*i);
        }
    }
    let representatives = topics::representatives(&corpus.model, &corpus.docs, &corpus.labels, 12);
    let mut listed: Vec<ListeningTopic> = by_topic
        .iter()
        .map(|(id, members)| {
            let count =
                |side: Side| members.iter().filter(|i| posts[**i].side == Some(side)).count();
            let audience_members: Vec<&Post> = members
                .iter()
                .map(|i| &posts[*i])
                .filter(|p| p.side == Some(Side::Audience))
                .collect();
            let days: Vec<NaiveDate> =
                members.iter().map(|i| corpus.day(posts[*i].created_at)).collect();
            let topic = corpus.model.topics.iter().find(|topic| topic.id == *id);
            ListeningTopic {
                id: *id,
                label: corpus.label(*id),
                terms: topic.map(|topic| topic.terms.clone()).unwrap_or_default(),
                posts: members.len(),
                audience_posts: audience_members.len(),
                own_posts: count(Side::Own),
                competitor_posts: count(Side::Competitor),
                audience_share: round(audience_members.len() as f64 / audience.len().max(1) as f64),
                growth: growth(&days, &reference, period.from, period.to),
                sentiment: sentiment_mix(audience_members.iter().copied()),
                representative: representatives
                    .get(id)
                    .map(|list| {
                        list.iter()
                            .filter(|i| members.binary_search(i).is_ok())
                            .take(3)
                            .map(|i| example(&posts[*i]))
                            .collect()
                    })
                    .unwrap_or_default(),
            }
        })
        .collect();
    listed.sort_by(|a, b| {
        b.audience_posts.cmp(&a.audience_posts).then(b.posts.cmp(&a.posts)).then(a.id.cmp(&b.id))
    });

    let mut needs: BTreeMap<(Option<u32>, &'static str), Vec<usize>> = BTreeMap::new();
    for i in &audience {
        let need = match need_of(&posts[*i]) {
            Need::Question => "question",
            Need::Complaint => "complaint",
            Need::Request => "request",
            Need::None => continue,
        };
        needs.entry((corpus.labels[*i], need)).or_default().push(*i);
    }
    let mut unmet: Vec<UnmetNeed> = needs
        .into_iter()
        .map(|((topic_id, need), members)| {
            let answered: Vec<bool> =
                members.iter().map(|i| corpus.answered(*i).is_some()).collect();
            let answered_count = answered.iter().filter(|a| **a).count();
            let days: Vec<NaiveDate> =
                members.iter().map(|i| corpus.day(posts[*i].created_at)).collect();
            let mut examples: Vec<(bool, usize)> = members
                .iter()
                .copied()
                .zip(answered.iter().copied())
                .map(|(i, a)| (a, i))
                .collect();
            examples.sort_by(|a, b| {
                a.0.cmp(&b.0).then(posts[b.1].created_at.cmp(&posts[a.1].created_at))
            });
            UnmetNeed {
                topic_id,
                topic: topic_id
                    .map_or_else(|| "(outside every topic)".to_owned(), |id| corpus.label(id)),
                need: need.to_owned(),
                posts: members.len(),
                growth: growth(&days, &audience_reference, period.from, period.to),
                answered: answered_count,
                answered_share: round(answered_count as f64 / members.len().max(1) as f64),
                examples: examples
                    .into_iter()
                    .take(3)
                    .map(|(answered, i)| NeedExample { post: example(&posts[i]), answered })
                    .collect(),
            }
        })
        .collect();
    unmet.sort_by(|a, b| {
        b.posts.cmp(&a.posts).then(b.growth.total_cmp(&a.growth)).then(a.topic_id.cmp(&b.topic_id))
    });
    ListeningReport {
        posts: chosen.len(),
        audience_posts: audience.len(),
        embedding: corpus.model.embedding.clone(),
        outlier_share: round(outliers as f64 / with_content.len().max(1) as f64),
        topics: listed,
        unmet_needs: unmet,
        notes: notes_for(corpus, chosen.len()),
        period,
    }
}

// ---------------------------------------------------------------------------------------
// Reception (used by the gap and the audit).

/// Engagements of a post: likes + shares + replies + quotes (known parts); `None` when no
/// part is known.
pub fn engagements(post: &Post) -> Option<u64> {
    let parts = [post.counts.likes, post.counts.shares, post.counts.replies, post.counts.quotes];
    parts.iter().any(Option::is_some).then(|| parts.iter().flatten().sum())
}

/// A post's engagement rate and its basis: by followers, else by impressions, else raw.
fn rate(post: &Post) -> Option<(f64, &'static str)> {
    let engaged = engagements(post)? as f64;
    if let Some(followers) = post.author_followers.filter(|f| *f > 0) {
        return Some((engaged / followers as f64 * 100.0, "followers"));
    }
    if let Some(views) = post.counts.views.filter(|v| *v > 0) {
        return Some((engaged / views as f64 * 100.0, "impressions"));
    }
    Some((engaged, "engagements"))
}

/// Reception of an own post.
#[derive(Debug, Clone, Serialize)]
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

/// Minimum earlier posts for a percentile.
pub const MIN_HISTORY: usize = 10;

/// Reception of every own post with content, by position (others `None`).
fn receptions(corpus: &Corpus) -> HashMap<usize, Reception> {
    let posts = corpus.posts;
    let mut by_account: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
    for (i, post) in posts.iter().enumerate() {
        if post.side == Some(Side::Own) && has_content(post) && post.reply_to.is_none() {
            let author = post.author_id.as_deref().or(post.author_handle.as_deref()).unwrap_or("");
            by_account.entry((post.platform.as_str(), author)).or_default().push(i);
        }
    }
    let mut out = HashMap::new();
    for list in by_account.values_mut() {
        list.sort_by_key(|i| (posts[*i].created_at, *i));
        let rates: Vec<Option<(f64, &'static str)>> =
            list.iter().map(|i| rate(&posts[*i])).collect();
        let mut start = 0;
        for (position, i) in list.iter().enumerate() {
            let at = posts[*i].created_at;
            while start < position && posts[list[start]].created_at < at - Duration::days(90) {
                start += 1;
            }
            let own = rates[position];
            let mut history: Vec<f64> = (start..position)
                .filter_map(|j| {
                    rates[j].filter(|(_, basis)| Some(*basis) == own.map(|o| o.1)).map(|(r, _)| r)
                })
                .collect();
            history.sort_by(f64::total_cmp);
            let replies: Vec<&Post> = corpus
                .audience_replies
                .get(&(posts[*i].platform.as_str(), posts[*i].id.as_str()))
                .map(|list| list.iter().map(|r| &posts[*r]).collect())
                .unwrap_or_default();
            let negative =
                replies.iter().filter(|r| sentiment_of(r) == Some(Sentiment::Negative)).count();
            let negative_share = negative as f64 / replies.len().max(1) as f64;
            let (percentile, label) = match own {
                Some((value, _)) if history.len() >= MIN_HISTORY => {
                    let below = history.iter().filter(|h| **h < value).count() as f64;
                    let equal = history.iter().filter(|h| **h == value).count() as f64;
                    let percentile = (below + equal / 2.0) / history.len() as f64 * 100.0;
                    let label = if replies.len() >= 3 && negative_share > 0.5 {
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
            out.insert(
                *i,
                Reception {
                    label: label.to_owned(),
                    percentile,
                    rate: own.map(|(value, _)| significant(value)),
                    basis: own.map(|(_, basis)| basis.to_owned()),
                    baseline_median: median.map(significant),
                    history: history.len(),
                    replies: replies.len(),
                    negative_replies: round(negative_share),
                },
            );
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Perception gap.

/// One topic in the gap report.
#[derive(Debug, Clone, Serialize)]
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
#[derive(Debug, Clone, Serialize)]
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
#[derive(Debug, Clone, Serialize)]
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
#[derive(Debug, Clone, Serialize)]
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

/// The verdict of a topic from its shares (and its own posts' median reception).
fn verdict(audience_share: f64, own_share: f64, own_median: Option<f64>) -> &'static str {
    if audience_share >= 0.02 && own_share <= audience_share / 2.0 {
        "audience talks about this, you do not"
    } else if own_share >= 0.03
        && audience_share <= own_share / 2.0
        && own_median.is_none_or(|m| m < 50.0)
    {
        "you push this, nobody engages"
    } else {
        "aligned"
    }
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

fn distribution(labels: impl Iterator<Item = u32>) -> (BTreeMap<u32, f64>, usize) {
    let mut counts: BTreeMap<u32, f64> = BTreeMap::new();
    let mut n = 0;
    for id in labels {
        *counts.entry(id).or_default() += 1.0;
        n += 1;
    }
    counts.values_mut().for_each(|value| *value /= n.max(1) as f64);
    (counts, n)
}

fn competitor_name(post: &Post, config: &Config) -> String {
    let handle = post.author_handle.as_deref().unwrap_or("").trim_start_matches('@').to_lowercase();
    config
        .competitors
        .iter()
        .find(|competitor| {
            competitor.accounts.get(&post.platform).is_some_and(|handles| {
                handles.iter().any(|h| h.trim_start_matches('@').to_lowercase() == handle)
            })
        })
        .map_or_else(|| "competitors".to_owned(), |competitor| competitor.name.clone())
}

/// Builds the gap report.
pub fn gap(
    corpus: &Corpus,
    config: &Config,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> GapReport {
    let (chosen, period) = corpus.in_period(from, to);
    let posts = corpus.posts;
    let topical = |side: Side| -> Vec<usize> {
        chosen
            .iter()
            .copied()
            .filter(|i| {
                posts[*i].side == Some(side)
                    && corpus.labels[*i].is_some()
                    && (side != Side::Own || posts[*i].reply_to.is_none())
            })
            .collect()
    };
    let own = topical(Side::Own);
    let audience = topical(Side::Audience);
    let (own_mix, own_n) = distribution(own.iter().filter_map(|i| corpus.labels[*i]));
    let (audience_mix, audience_n) =
        distribution(audience.iter().filter_map(|i| corpus.labels[*i]));
    let receptions = receptions(corpus);
    let ids: Vec<u32> = own_mix
        .keys()
        .chain(audience_mix.keys())
        .copied()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut listed: Vec<GapTopic> = ids
        .iter()
        .map(|id| {
            let audience_share = audience_mix.get(id).copied().unwrap_or(0.0);
            let own_share = own_mix.get(id).copied().unwrap_or(0.0);
            let own_posts: Vec<&Reception> = own
                .iter()
                .filter(|i| corpus.labels[**i] == Some(*id))
                .filter_map(|i| receptions.get(i))
                .collect();
            let rated: Vec<&&Reception> =
                own_posts.iter().filter(|r| r.percentile.is_some()).collect();
            let warm = (!rated.is_empty()).then(|| {
                round(
                    rated.iter().filter(|r| r.label == "warm").count() as f64 / rated.len() as f64,
                )
            });
            let mut percentiles: Vec<f64> = rated.iter().filter_map(|r| r.percentile).collect();
            percentiles.sort_by(f64::total_cmp);
            let median = (!percentiles.is_empty()).then(|| percentiles[percentiles.len() / 2]);
            let verdict = verdict(audience_share, own_share, median);
            GapTopic {
                id: *id,
                label: corpus.label(*id),
                audience_share: round(audience_share),
                own_share: round(own_share),
                gap: round(audience_share - own_share),
                own_posts: own_posts.len(),
                own_warm_share: warm,
                own_median_percentile: median,
                verdict: verdict.to_owned(),
            }
        })
        .collect();
    listed.sort_by(|a, b| b.gap.abs().total_cmp(&a.gap.abs()).then(a.id.cmp(&b.id)));
    let audience_not_you =
        listed.iter().filter(|t| t.verdict.starts_with("audience")).map(|t| t.id).collect();
    let you_not_audience =
        listed.iter().filter(|t| t.verdict.starts_with("you push")).map(|t| t.id).collect();
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
    let mut by_competitor: BTreeMap<String, Vec<u32>> = BTreeMap::new();
    for i in &chosen {
        if posts[*i].side == Some(Side::Competitor)
            && let Some(id) = corpus.labels[*i]
        {
            by_competitor.entry(competitor_name(&posts[*i], config)).or_default().push(id);
        }
    }
    let competitors = by_competitor
        .into_iter()
        .map(|(name, labels)| {
            let (mix, n) = distribution(labels.into_iter());
            let mut top: Vec<(String, f64)> =
                mix.iter().map(|(id, share)| (corpus.label(*id), round(*share))).collect();
            top.sort_by(|a, b| b.1.total_cmp(&a.1));
            top.truncate(3);
            CompetitorGap {
                name,
                posts: n,
                divergence: jensen_shannon(&mix, &audience_mix),
                top_topics: top,
            }
        })
        .collect();
    let seed_of: HashMap<u32, &str> = corpus
        .model
        .topics
        .iter()
        .filter_map(|topic| topic.seed.as_deref().map(|seed| (topic.id, seed)))
        .collect();
    let mut declared_topics: Vec<DeclaredGap> = config
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
    let mut notes = notes_for(corpus, chosen.len());
    if own_n == 0 {
        notes.push(
            "no own posts with a topic in the period: the gap compares against nothing".into(),
        );
    }
    if audience_n == 0 {
        notes.push("no audience posts with a topic in the period".into());
    }
    GapReport {
        period,
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
    }
}

// ---------------------------------------------------------------------------------------
// Content audit.

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
#[derive(Debug, Clone, Serialize)]
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
#[derive(Debug, Clone, Default, Serialize)]
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
#[derive(Debug, Clone, Serialize)]
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

/// Builds the audit report.
pub fn audit(corpus: &Corpus, from: Option<NaiveDate>, to: Option<NaiveDate>) -> AuditReport {
    let (chosen, period) = corpus.in_period(from, to);
    let posts = corpus.posts;
    let receptions = receptions(corpus);
    let (audience_mix, _) = distribution(
        chosen
            .iter()
            .filter(|i| posts[**i].side == Some(Side::Audience))
            .filter_map(|i| corpus.labels[*i]),
    );
    let mut audited: Vec<AuditedPost> = chosen
        .iter()
        .filter_map(|i| receptions.get(i).map(|reception| (*i, reception)))
        .map(|(i, reception)| {
            let post = &posts[i];
            let (score, cues) = self_talk(&post.text);
            let topic_id = corpus.labels[i];
            let share = topic_id.and_then(|id| audience_mix.get(&id)).copied().unwrap_or(0.0);
            let replies: Vec<usize> = corpus
                .audience_replies
                .get(&(post.platform.as_str(), post.id.as_str()))
                .cloned()
                .unwrap_or_default();
            let answered = replies.iter().filter(|r| corpus.answered(**r).is_some()).count();
            let who = post.author_handle.as_deref().map_or_else(|| "the account".to_owned(), |h| format!("@{}", h.trim_start_matches('@')));
            let mut reason = match (reception.label.as_str(), reception.percentile) {
                ("not enough history", _) => format!("{} earlier posts of {who} in 90 days (needs {MIN_HISTORY})", reception.history),
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
            if let Some(cue) = cues.first() {
                reason.push_str(&format!("; self-talk (\"{cue}\")"));
            }
            if topic_id.is_some() && share < 0.02 {
                reason.push_str("; topic barely discussed by the audience");
            } else if share >= 0.1 {
                reason.push_str(&format!("; topic is {:.0}% of audience talk", share * 100.0));
            }
            AuditedPost {
                post: example(post),
                reception: reception.clone(),
                topic_id,
                topic: topic_id.map(|id| corpus.label(id)),
                audience_topic_share: round(share),
                self_talk: score,
                replies: replies.len(),
                replies_answered: answered,
                reason,
            }
        })
        .collect();
    audited
        .sort_by(|a, b| b.post.created_at.cmp(&a.post.created_at).then(a.post.id.cmp(&b.post.id)));
    let mut labels: BTreeMap<String, usize> = BTreeMap::new();
    for post in &audited {
        *labels.entry(post.reception.label.clone()).or_default() += 1;
    }
    let group = |label: &str| -> AuditGroup {
        let members: Vec<&AuditedPost> =
            audited.iter().filter(|p| p.reception.label == label).collect();
        let n = members.len().max(1) as f64;
        let originals: Vec<&Post> = members
            .iter()
            .filter_map(|p| {
                corpus
                    .index
                    .get(&(p.post.platform.as_str(), p.post.id.as_str()))
                    .map(|i| &posts[*i])
            })
            .collect();
        let mut topics: BTreeMap<String, usize> = BTreeMap::new();
        for member in &members {
            if let Some(topic) = &member.topic {
                *topics.entry(topic.clone()).or_default() += 1;
            }
        }
        let mut top: Vec<(String, usize)> = topics.into_iter().collect();
        top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        top.truncate(3);
        AuditGroup {
            posts: members.len(),
            self_talk: round(members.iter().map(|p| p.self_talk).sum::<f64>() / n),
            audience_topic_share: round(
                members.iter().map(|p| p.audience_topic_share).sum::<f64>() / n,
            ),
            with_link: round(originals.iter().filter(|p| !p.links.is_empty()).count() as f64 / n),
            with_media: round(originals.iter().filter(|p| p.media_count > 0).count() as f64 / n),
            with_question: round(
                originals.iter().filter(|p| p.text.contains('?')).count() as f64 / n,
            ),
            length: round(originals.iter().map(|p| p.text.chars().count() as f64).sum::<f64>() / n),
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
    let mut notes = notes_for(corpus, chosen.len());
    if audited.is_empty() {
        notes.push(
            "no own original posts in the period (is `accounts` set in waterline.toml?)".into(),
        );
    }
    AuditReport { period, posts: audited.len(), labels, audited, warm, frosty, summary, notes }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

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
