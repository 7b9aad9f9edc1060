//! The explainable alert engine: windowed spike rules (`volume`, `negative-share`,
//! `topic-growth`) and unanswered questions to the brand (`unanswered`).
//!
//! The engine is pure and incremental: posts go in with [`Engine::observe`] (roughly in
//! time order), and [`Engine::advance`] evaluates every rule at an event time and returns
//! the alerts that start there. `waterline alerts scan` replays stored posts through it and
//! the live runner feeds it as posts arrive; both get the same alerts for the same posts.
//!
//! A spike (PRODUCT.md section 3): the last window's value exceeds the mean of the
//! `reference` windows before it by `k` standard deviations, with a minimum count. Time is
//! cut into buckets of a twelfth of the window; the last window is `(now − window, now]`,
//! the open bucket included, so a burst shows within one batch of its arrival. The
//! standard deviation has a floor so a flat history cannot fire on noise: for counts the
//! larger of √mean (Poisson) and `dispersion` × mean (the ordinary day-to-day variation of
//! social volume), √(p(1−p)/n) for shares. A rule fires only once it has seen the whole
//! reference span of history.
//!
//! Memory is bounded whatever the run length: each rule keeps only the buckets of its span
//! (the reference windows and the last one), each closed bucket keeps its most frequent
//! terms only and its most engaged posts only, and unanswered questions are forgotten once
//! answered or once they are older than the rule's span.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, TimeZone, Utc};
use waterline_enrich::text::{Kind, tokenize};
use waterline_enrich::words::STOP_WORDS;
use waterline_model::alerts::{AlertPost, AlertRule, AlertTerm, Firing};
use waterline_model::{Need, Post, Sentiment, Side};

/// A predicate for a rule's Boolean `query`, built by the query parser.
pub type QueryMatcher = Box<dyn Fn(&Post) -> bool + Send>;

/// Buckets per window.
pub const BUCKETS_PER_WINDOW: i64 = 12;
/// Terms kept per closed bucket (the most frequent).
pub const TERMS_PER_BUCKET: usize = 300;
/// Posts kept per bucket (the most engaged).
pub const POSTS_PER_BUCKET: usize = 10;
/// Posts an alert shows.
pub const POSTS_PER_ALERT: usize = 10;
/// Terms an alert shows.
pub const TERMS_PER_ALERT: usize = 8;
/// The least number of window posts a term must appear in to be shown.
pub const TERM_MIN_POSTS: u64 = 3;
/// The longest text excerpt of a post shown with an alert, in characters.
pub const EXCERPT_CHARS: usize = 200;

/// What a rule measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Measure {
    Volume,
    NegativeShare,
    TopicGrowth,
    Unanswered,
}

/// A post kept as evidence.
#[derive(Debug, Clone)]
struct Kept {
    engagement: u64,
    post: AlertPost,
}

/// One bucket of one series.
#[derive(Debug, Default)]
struct Bucket {
    /// Posts in scope (the denominator of a share).
    total: u64,
    /// Posts with a sentiment (negative-share).
    rated: u64,
    /// Posts that count: all in scope (volume, topic-growth) or the negative ones.
    hits: u64,
    /// Posts among the hits containing each term.
    terms: HashMap<String, u64>,
    /// Hits per topic.
    topics: HashMap<String, u64>,
    /// The most engaged hits.
    posts: Vec<Kept>,
    /// True once its terms were pruned and no post came since.
    pruned: bool,
}

impl Bucket {
    fn prune(&mut self) {
        if self.pruned || self.terms.len() <= TERMS_PER_BUCKET {
            self.pruned = true;
            return;
        }
        let mut entries: Vec<(String, u64)> = self.terms.drain().collect();
        entries.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        entries.truncate(TERMS_PER_BUCKET);
        self.terms = entries.into_iter().collect();
        self.pruned = true;
    }
}

/// The episode state of one (rule, key).
#[derive(Debug, Clone, Copy, Default)]
struct Episode {
    open: bool,
    /// When the last episode ended (milliseconds).
    ended: Option<i64>,
}

/// A question waiting for the brand's reply.
#[derive(Debug)]
struct Question {
    platform: String,
    id: String,
    conversation: String,
    due: i64,
    fired: bool,
    post: AlertPost,
}

/// The state of one rule.
struct RuleState {
    rule: AlertRule,
    measure: Measure,
    window: i64,
    bucket: i64,
    cooldown: i64,
    reference: i64,
    side: Option<Side>,
    matcher: Option<QueryMatcher>,
    /// Buckets per series key (`""` for a rule with one series; a topic for topic-growth).
    series: BTreeMap<String, BTreeMap<i64, Bucket>>,
    episodes: BTreeMap<String, Episode>,
    questions: BTreeMap<String, Question>,
}

/// The alert engine: see the module documentation.
pub struct Engine {
    rules: Vec<RuleState>,
    /// The earliest post time observed (milliseconds).
    first: Option<i64>,
    /// The latest post or evaluation time seen (milliseconds).
    latest: Option<i64>,
}

/// Counts of what the engine keeps, to check that memory stays bounded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Footprint {
    /// Series (rule × key).
    pub series: usize,
    /// Buckets over all series.
    pub buckets: usize,
    /// Term entries over all buckets.
    pub terms: usize,
    /// Posts kept over all buckets.
    pub posts: usize,
    /// Questions waiting (or fired and not answered yet).
    pub questions: usize,
    /// Episode states.
    pub episodes: usize,
}

fn millis(duration: std::time::Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

fn time_of(millis: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(millis).single().unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

fn engagement(post: &Post) -> u64 {
    let counts = &post.counts;
    [counts.likes, counts.shares, counts.replies, counts.quotes]
        .iter()
        .map(|count| count.unwrap_or(0))
        .sum()
}

fn excerpt(text: &str) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= EXCERPT_CHARS {
        return flat;
    }
    let mut cut: String = flat.chars().take(EXCERPT_CHARS - 1).collect();
    cut.push('…');
    cut
}

fn alert_post(post: &Post) -> AlertPost {
    AlertPost {
        key: format!("{}:{}", post.platform, post.id),
        created_at: post.created_at,
        author: post.author_handle.clone().or_else(|| post.author_id.clone()),
        text: excerpt(&post.text),
    }
}

/// The distinct terms of a text: folded words of three letters or more and `#hashtags`,
/// stop words and numbers left out.
pub fn terms_of(text: &str) -> Vec<String> {
    let mut terms: Vec<String> = tokenize(text, None)
        .into_iter()
        .filter_map(|token| match token.kind {
            Kind::Word
                if token.norm.chars().count() >= 3
                    && !STOP_WORDS.any(&token.norm)
                    && !token.norm.chars().all(|ch| ch.is_ascii_digit()) =>
            {
                Some(token.norm)
            }
            Kind::Hashtag if !token.norm.is_empty() => Some(format!("#{}", token.norm)),
            _ => None,
        })
        .collect();
    terms.sort_unstable();
    terms.dedup();
    terms
}

/// Mean and sample standard deviation.
fn mean_sd(values: &[f64]) -> (f64, f64) {
    if values.is_empty() {
        return (0.0, 0.0);
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    if values.len() < 2 {
        return (mean, 0.0);
    }
    let variance = values.iter().map(|value| (value - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, variance.sqrt())
}

/// A smoothed ratio of rates: how many times more often in the window than in the reference.
fn lift(window: u64, window_total: u64, reference: u64, reference_total: u64) -> f64 {
    ((window as f64 + 0.5) / (window_total as f64 + 1.0))
        / ((reference as f64 + 0.5) / (reference_total as f64 + 1.0))
}

/// Sums of one window of buckets.
#[derive(Debug, Default)]
struct Sums {
    total: u64,
    rated: u64,
    hits: u64,
}

impl RuleState {
    fn new(rule: &AlertRule) -> Result<Option<RuleState>, String> {
        let measure = match rule.kind.as_str() {
            "volume" => Measure::Volume,
            "negative-share" => Measure::NegativeShare,
            "topic-growth" => Measure::TopicGrowth,
            "unanswered" => Measure::Unanswered,
            _ => return Ok(None),
        };
        if let Some(problem) = rule.problem() {
            return Err(format!("alert rule `{}`: {problem}", rule.name));
        }
        let window = rule.window_duration().map(millis).ok_or("unreadable window")?;
        let cooldown = rule.cooldown_duration().map(millis).ok_or("unreadable cooldown")?;
        let side = match &rule.side {
            Some(side) => Some(
                Side::parse(side)
                    .ok_or_else(|| format!("alert rule `{}`: unknown side `{side}`", rule.name))?,
            ),
            None => None,
        };
        Ok(Some(RuleState {
            rule: rule.clone(),
            measure,
            window,
            bucket: (window / BUCKETS_PER_WINDOW).max(1),
            cooldown,
            reference: i64::from(rule.reference),
            side,
            matcher: None,
            series: BTreeMap::new(),
            episodes: BTreeMap::new(),
            questions: BTreeMap::new(),
        }))
    }

    fn buckets_per_window(&self) -> i64 {
        (self.window / self.bucket).max(1)
    }

    /// The span kept, in buckets: the reference windows and the last one.
    fn span_buckets(&self) -> i64 {
        self.buckets_per_window() * (self.reference + 1)
    }

    fn in_scope(&self, post: &Post) -> bool {
        if let Some(side) = self.side
            && post.side != Some(side)
        {
            return false;
        }
        if let Some(platform) = &self.rule.platform
            && &post.platform != platform
        {
            return false;
        }
        if self.rule.query.is_some() {
            return self.matcher.as_ref().is_some_and(|matcher| matcher(post));
        }
        true
    }

    fn observe(
        &mut self,
        post: &Post,
        topic: Option<&str>,
        terms: &[String],
        at: i64,
        latest: i64,
    ) {
        match self.measure {
            Measure::Unanswered => self.observe_question(post, at),
            _ => self.observe_windowed(post, topic, terms, at, latest),
        }
    }

    fn observe_windowed(
        &mut self,
        post: &Post,
        topic: Option<&str>,
        terms: &[String],
        at: i64,
        latest: i64,
    ) {
        if !self.in_scope(post) {
            return;
        }
        let index = at.div_euclid(self.bucket);
        let oldest = latest.div_euclid(self.bucket) - self.span_buckets();
        if index <= oldest {
            return;
        }
        let key = match self.measure {
            Measure::TopicGrowth => match topic {
                Some(topic) => topic.to_owned(),
                None => return,
            },
            _ => String::new(),
        };
        let sentiment = post.annotations.as_ref().and_then(|annotations| annotations.sentiment);
        let hit = match self.measure {
            Measure::NegativeShare => sentiment == Some(Sentiment::Negative),
            _ => true,
        };
        let series = self.series.entry(key).or_default();
        let bucket = series.entry(index).or_default();
        bucket.total += 1;
        if sentiment.is_some() {
            bucket.rated += 1;
        }
        if !hit {
            return;
        }
        bucket.hits += 1;
        bucket.pruned = false;
        for term in terms {
            match bucket.terms.get_mut(term) {
                Some(count) => *count += 1,
                None => {
                    bucket.terms.insert(term.clone(), 1);
                }
            }
        }
        if let Some(topic) = topic {
            *bucket.topics.entry(topic.to_owned()).or_default() += 1;
        }
        let duplicate =
            post.annotations.as_ref().is_some_and(|annotations| annotations.duplicate_of.is_some());
        if !duplicate {
            let kept = Kept { engagement: engagement(post), post: alert_post(post) };
            let weakest = bucket.posts.iter().map(|kept| kept.engagement).min();
            if bucket.posts.len() < POSTS_PER_BUCKET {
                bucket.posts.push(kept);
            } else if weakest.is_some_and(|weakest| kept.engagement > weakest)
                && let Some(position) =
                    bucket.posts.iter().position(|old| Some(old.engagement) == weakest)
            {
                bucket.posts[position] = kept;
            }
        }
    }

    fn observe_question(&mut self, post: &Post, at: i64) {
        if post.side == Some(Side::Own) {
            // An own reply answers the question it replies to, or its thread.
            let conversation = post.conversation_id.as_deref();
            let reply_to = post.reply_to.as_deref();
            if conversation.is_none() && reply_to.is_none() {
                return;
            }
            self.questions.retain(|_, question| {
                let same_platform = question.platform == post.platform;
                let answered = same_platform
                    && at >= question.post.created_at.timestamp_millis()
                    && (reply_to == Some(question.id.as_str())
                        || conversation == Some(question.conversation.as_str()));
                !answered
            });
            return;
        }
        if post.side != Some(Side::Audience) || !self.in_scope(post) {
            return;
        }
        let Some(annotations) = post.annotations.as_ref() else {
            return;
        };
        if annotations.need != Some(Need::Question) || !annotations.addressed_to_brand {
            return;
        }
        let key = format!("{}:{}", post.platform, post.id);
        let due = at.saturating_add(i64::from(self.rule.hours) * 3_600_000);
        self.questions.entry(key).or_insert_with(|| Question {
            platform: post.platform.clone(),
            id: post.id.clone(),
            conversation: post.conversation_id.clone().unwrap_or_else(|| post.id.clone()),
            due,
            fired: false,
            post: alert_post(post),
        });
    }

    /// Drops what is older than the span before `now`.
    fn forget(&mut self, now: i64) {
        let oldest = now.div_euclid(self.bucket) - self.span_buckets();
        for buckets in self.series.values_mut() {
            buckets.retain(|index, _| *index > oldest);
        }
        self.series.retain(|_, buckets| !buckets.is_empty());
        let cooldown = self.cooldown;
        self.episodes.retain(|_, episode| {
            episode.open || episode.ended.is_some_and(|ended| now - ended < cooldown)
        });
        let keep_for = self.window * (self.reference + 1);
        self.questions.retain(|_, question| !question.fired || now - question.due < keep_for);
    }

    fn advance(&mut self, now: i64, first: i64, out: &mut Vec<Firing>) {
        if self.measure == Measure::Unanswered {
            for (key, question) in &mut self.questions {
                if !question.fired && question.due <= now {
                    question.fired = true;
                    out.push(unanswered_firing(&self.rule, key, question, now));
                }
            }
            self.forget(now);
            return;
        }
        self.forget(now);
        let per_window = self.buckets_per_window();
        // The last bucket that starts before `now` (the open one when `now` is inside it).
        let last = (now - 1).div_euclid(self.bucket);
        let history_needed = (last - per_window * (self.reference + 1) + 1) * self.bucket;
        let ready = first <= history_needed;
        let keys: Vec<String> = if self.measure == Measure::TopicGrowth {
            let mut keys: Vec<String> = self.series.keys().cloned().collect();
            for key in self.episodes.keys() {
                if !self.series.contains_key(key) {
                    keys.push(key.clone());
                }
            }
            keys
        } else {
            vec![String::new()]
        };
        for key in keys {
            let evaluation = if ready { self.evaluate(&key, now, last) } else { None };
            let episode = self.episodes.entry(key.clone()).or_default();
            match evaluation {
                Some(firing) => {
                    if !episode.open {
                        let cooling =
                            episode.ended.is_some_and(|ended| now - ended < self.cooldown);
                        episode.open = true;
                        if !cooling {
                            out.push(firing);
                        }
                    }
                }
                None => {
                    if episode.open {
                        episode.open = false;
                        episode.ended = Some(now);
                    }
                }
            }
        }
        self.episodes.retain(|_, episode| episode.open || episode.ended.is_some());
        for buckets in self.series.values_mut() {
            for (index, bucket) in buckets.iter_mut() {
                if *index < last {
                    bucket.prune();
                }
            }
        }
    }

    fn sums(&self, key: &str, from: i64, to: i64) -> Sums {
        let mut sums = Sums::default();
        if let Some(buckets) = self.series.get(key) {
            for (_, bucket) in buckets.range(from..=to) {
                sums.total += bucket.total;
                sums.rated += bucket.rated;
                sums.hits += bucket.hits;
            }
        }
        sums
    }

    /// The firing when the condition holds at `now` for `key`.
    fn evaluate(&self, key: &str, now: i64, last: i64) -> Option<Firing> {
        let per_window = self.buckets_per_window();
        let window = self.sums(key, last - per_window + 1, last);
        let references: Vec<Sums> = (1..=self.reference)
            .map(|j| self.sums(key, last - (j + 1) * per_window + 1, last - j * per_window))
            .collect();
        let (observed, mean, sd, count) = match self.measure {
            Measure::NegativeShare => {
                if window.rated == 0 {
                    return None;
                }
                let shares: Vec<f64> = references
                    .iter()
                    .filter(|sums| sums.rated > 0)
                    .map(|sums| sums.hits as f64 / sums.rated as f64)
                    .collect();
                if shares.len() < 2 {
                    return None;
                }
                let (mean, sd) = mean_sd(&shares);
                let floor = (mean * (1.0 - mean) / window.rated as f64).sqrt();
                (window.hits as f64 / window.rated as f64, mean, sd.max(floor), window.rated)
            }
            _ => {
                let counts: Vec<f64> = references.iter().map(|sums| sums.hits as f64).collect();
                let (mean, sd) = mean_sd(&counts);
                let floor = mean.sqrt().max(self.rule.dispersion * mean).max(1.0);
                (window.hits as f64, mean, sd.max(floor), window.hits)
            }
        };
        let threshold = mean + self.rule.k * sd;
        if !(observed > threshold && count >= self.rule.min_count) {
            return None;
        }
        Some(self.explain(key, now, last, observed, mean, sd, threshold, &window))
    }

    #[allow(clippy::too_many_arguments)]
    fn explain(
        &self,
        key: &str,
        now: i64,
        last: i64,
        observed: f64,
        mean: f64,
        sd: f64,
        threshold: f64,
        window: &Sums,
    ) -> Firing {
        let per_window = self.buckets_per_window();
        let first_window = last - per_window + 1;
        let first_reference = last - (self.reference + 1) * per_window + 1;
        let empty = BTreeMap::new();
        let buckets = self.series.get(key).unwrap_or(&empty);
        let mut window_terms: HashMap<&str, u64> = HashMap::new();
        let mut reference_terms: HashMap<&str, u64> = HashMap::new();
        let mut window_topics: HashMap<&str, u64> = HashMap::new();
        let mut reference_topics: HashMap<&str, u64> = HashMap::new();
        let mut reference_hits = 0;
        let mut posts: Vec<&Kept> = Vec::new();
        for (index, bucket) in buckets.range(first_reference..=last) {
            let inside = *index >= first_window;
            let (terms, topics) = if inside {
                posts.extend(bucket.posts.iter());
                (&mut window_terms, &mut window_topics)
            } else {
                reference_hits += bucket.hits;
                (&mut reference_terms, &mut reference_topics)
            };
            for (term, count) in &bucket.terms {
                *terms.entry(term.as_str()).or_default() += count;
            }
            for (topic, count) in &bucket.topics {
                *topics.entry(topic.as_str()).or_default() += count;
            }
        }
        posts.sort_by(|a, b| {
            b.engagement.cmp(&a.engagement).then_with(|| a.post.created_at.cmp(&b.post.created_at))
        });
        let posts: Vec<AlertPost> =
            posts.into_iter().take(POSTS_PER_ALERT).map(|kept| kept.post.clone()).collect();
        let mut terms: Vec<AlertTerm> = window_terms
            .iter()
            .filter(|(_, count)| **count >= TERM_MIN_POSTS)
            .map(|(term, count)| AlertTerm {
                term: (*term).to_owned(),
                window_count: *count,
                lift: lift(
                    *count,
                    window.hits,
                    reference_terms.get(term).copied().unwrap_or(0),
                    reference_hits,
                ),
            })
            .filter(|term| term.lift > 1.0)
            .collect();
        terms.sort_by(|a, b| {
            b.lift
                .total_cmp(&a.lift)
                .then_with(|| b.window_count.cmp(&a.window_count))
                .then_with(|| a.term.cmp(&b.term))
        });
        terms.truncate(TERMS_PER_ALERT);
        let topic = if self.measure == Measure::TopicGrowth {
            Some(key.to_owned())
        } else {
            let mut best: Option<(&str, f64, u64)> = None;
            for (topic, count) in &window_topics {
                let score = lift(
                    *count,
                    window.hits,
                    reference_topics.get(topic).copied().unwrap_or(0),
                    reference_hits,
                );
                let better = match best {
                    None => true,
                    Some((name, best_score, best_count)) => {
                        score > best_score
                            || (score == best_score
                                && (*count > best_count || (*count == best_count && *topic < name)))
                    }
                };
                if better {
                    best = Some((topic, score, *count));
                }
            }
            best.filter(|(_, score, _)| *score > 1.0).map(|(topic, _, _)| topic.to_owned())
        };
        let summary = self.summary(key, now, observed, mean, sd, threshold, window);
        Firing {
            rule: self.rule.name.clone(),
            kind: self.rule.kind.clone(),
            key: key.to_owned(),
            fired_at: time_of(now),
            window_start: Some(time_of(now - self.window)),
            window_end: Some(time_of(now)),
            observed,
            baseline: Some(mean),
            baseline_sd: Some(sd),
            threshold: Some(threshold),
            summary,
            posts,
            terms,
            topic,
        }
    }

    fn scope_words(&self) -> String {
        let mut words = String::new();
        if let Some(side) = &self.rule.side {
            words.push_str(side);
            words.push(' ');
        }
        words.push_str("posts");
        if let Some(platform) = &self.rule.platform {
            words.push_str(&format!(" on {platform}"));
        }
        if let Some(query) = &self.rule.query {
            words.push_str(&format!(" matching `{query}`"));
        }
        words
    }

    #[allow(clippy::too_many_arguments)]
    fn summary(
        &self,
        key: &str,
        now: i64,
        observed: f64,
        mean: f64,
        sd: f64,
        threshold: f64,
        window: &Sums,
    ) -> String {
        let span = duration_words(self.window);
        let end = time_of(now).format("%Y-%m-%d %H:%M UTC");
        let scope = self.scope_words();
        let before = format!("in the {} windows before", self.reference);
        match self.measure {
            Measure::NegativeShare => format!(
                "{:.0}% of {} {scope} with a sentiment were negative in the {span} to {end}, against {:.0}% ± {:.0}% {before} (threshold {:.0}%)",
                observed * 100.0,
                window.rated,
                mean * 100.0,
                sd * 100.0,
                threshold * 100.0
            ),
            Measure::TopicGrowth => format!(
                "{observed:.0} {scope} about `{key}` in the {span} to {end}, against {mean:.0} ± {sd:.0} {before} (threshold {threshold:.0})"
            ),
            _ => format!(
                "{observed:.0} {scope} in the {span} to {end}, against {mean:.0} ± {sd:.0} {before} (threshold {threshold:.0})"
            ),
        }
    }

    fn footprint(&self, footprint: &mut Footprint) {
        footprint.series += self.series.len();
        for buckets in self.series.values() {
            footprint.buckets += buckets.len();
            for bucket in buckets.values() {
                footprint.terms += bucket.terms.len() + bucket.topics.len();
                footprint.posts += bucket.posts.len();
            }
        }
        footprint.questions += self.questions.len();
        footprint.episodes += self.episodes.len();
    }
}

fn duration_words(millis: i64) -> String {
    if millis % 3_600_000 == 0 {
        format!("{} h", millis / 3_600_000)
    } else if millis % 60_000 == 0 {
        format!("{} min", millis / 60_000)
    } else {
        format!("{} s", millis / 1000)
    }
}

fn unanswered_firing(rule: &AlertRule, key: &str, question: &Question, now: i64) -> Firing {
    let author = question
        .post
        .author
        .as_deref()
        .map(|author| format!(" from @{author}"))
        .unwrap_or_default();
    Firing {
        rule: rule.name.clone(),
        kind: rule.kind.clone(),
        key: key.to_owned(),
        fired_at: time_of(now),
        window_start: Some(question.post.created_at),
        window_end: Some(time_of(question.due)),
        observed: f64::from(rule.hours),
        baseline: None,
        baseline_sd: None,
        threshold: Some(f64::from(rule.hours)),
        summary: format!(
            "A question to the brand{author} on {} at {} has had no reply from an own account for {} h",
            question.platform,
            question.post.created_at.format("%Y-%m-%d %H:%M UTC"),
            rule.hours
        ),
        posts: vec![question.post.clone()],
        terms: Vec::new(),
        topic: None,
    }
}

impl Engine {
    /// An engine for these rules. It evaluates `volume`, `negative-share`, `topic-growth`
    /// and `unanswered` rules and ignores the other kinds (`pv`, `coverage-gap`: the binary
    /// raises those). Fails on an invalid rule.
    pub fn new(rules: &[AlertRule]) -> Result<Engine, String> {
        let mut states = Vec::new();
        for rule in rules {
            if let Some(state) = RuleState::new(rule)? {
                states.push(state);
            }
        }
        Ok(Engine { rules: states, first: None, latest: None })
    }

    /// Gives a rule with a `query` its matcher (built by the query parser). Until it has
    /// one, a rule with a query matches no post. Fails when no evaluated rule has that name.
    pub fn with_query_matcher(
        &mut self,
        rule_name: &str,
        matcher: QueryMatcher,
    ) -> Result<(), String> {
        let state = self
            .rules
            .iter_mut()
            .find(|state| state.rule.name == rule_name)
            .ok_or_else(|| format!("no evaluated alert rule is named `{rule_name}`"))?;
        state.matcher = Some(matcher);
        Ok(())
    }

    /// The names of the rules this engine evaluates.
    pub fn rule_names(&self) -> Vec<String> {
        self.rules.iter().map(|state| state.rule.name.clone()).collect()
    }

    /// Takes one post, with its topic if known. Posts arrive roughly in time order; a late
    /// post still counts while its bucket is within the kept span.
    pub fn observe(&mut self, post: &Post, topic: Option<&str>) {
        let at = post.created_at.timestamp_millis();
        self.first = Some(self.first.map_or(at, |first| first.min(at)));
        let latest = self.latest.map_or(at, |latest| latest.max(at));
        self.latest = Some(latest);
        let windowed = self.rules.iter().any(|state| state.measure != Measure::Unanswered);
        let terms = if windowed { terms_of(&post.text) } else { Vec::new() };
        for state in &mut self.rules {
            state.observe(post, topic, &terms, at, latest);
        }
    }

    /// Evaluates every rule at event time `now` and returns the alerts that start there
    /// (one per episode; none during a rule's cooldown). Call it after each batch.
    pub fn advance(&mut self, now: DateTime<Utc>) -> Vec<Firing> {
        let now = now.timestamp_millis();
        self.latest = Some(self.latest.map_or(now, |latest| latest.max(now)));
        let mut out = Vec::new();
        let Some(first) = self.first else {
            return out;
        };
        for state in &mut self.rules {
            state.advance(now, first, &mut out);
        }
        out
    }

    /// The episodes above threshold now, as (rule, key); for `unanswered`, the questions
    /// that fired and have no reply yet.
    pub fn open(&self) -> Vec<(String, String)> {
        let mut open = Vec::new();
        for state in &self.rules {
            for (key, episode) in &state.episodes {
                if episode.open {
                    open.push((state.rule.name.clone(), key.clone()));
                }
            }
            for (key, question) in &state.questions {
                if question.fired {
                    open.push((state.rule.name.clone(), key.clone()));
                }
            }
        }
        open
    }

    /// What the engine keeps now, counted.
    pub fn footprint(&self) -> Footprint {
        let mut footprint = Footprint::default();
        for state in &self.rules {
            state.footprint(&mut footprint);
        }
        footprint
    }

    /// The width of a rule's buckets, when it is a windowed rule this engine evaluates: the
    /// step at which a replay should advance.
    pub fn bucket_of(&self, rule_name: &str) -> Option<chrono::Duration> {
        self.rules
            .iter()
            .find(|state| state.rule.name == rule_name && state.measure != Measure::Unanswered)
            .map(|state| chrono::Duration::milliseconds(state.bucket))
    }

    /// The narrowest bucket over the evaluated rules (an hour when only `unanswered` rules
    /// are evaluated).
    pub fn step(&self) -> chrono::Duration {
        let bucket = self
            .rules
            .iter()
            .filter(|state| state.measure != Measure::Unanswered)
            .map(|state| state.bucket)
            .min()
            .unwrap_or(3_600_000);
        chrono::Duration::milliseconds(bucket)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use waterline_model::{Annotations, Counts};

    const HOUR: i64 = 3_600_000;
    const DAY: i64 = 24 * HOUR;

    /// A deterministic pseudo-random source (xorshift).
    struct Noise(u64);

    impl Noise {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        /// A Poisson-ish count around `mean` (a sum of coin flips).
        fn count(&mut self, mean: u64) -> u64 {
            (0..mean * 2).filter(|_| self.next().is_multiple_of(2)).count() as u64
        }
    }

    const WORDS: &[&str] = &[
        "weather",
        "breakfast",
        "doctor",
        "walking",
        "garden",
        "music",
        "coffee",
        "train",
        "holiday",
        "reading",
        "cooking",
        "football",
        "pharmacy",
        "refill",
        "morning",
    ];

    fn post(
        id: &str,
        at: i64,
        text: &str,
        side: Side,
        sentiment: Option<Sentiment>,
        likes: u64,
    ) -> Post {
        let mut post = Post::new("x", id, time_of(at));
        post.text = text.to_owned();
        post.side = Some(side);
        post.author_handle = Some(format!("author_{id}"));
        post.counts = Counts { likes: Some(likes), ..Counts::default() };
        post.annotations = Some(Box::new(Annotations { sentiment, ..Annotations::default() }));
        post
    }

    fn rule(name: &str, kind: &str) -> AlertRule {
        let mut rule = AlertRule::new(name, kind);
        rule.reference = 7;
        rule.k = 3.0;
        rule.min_count = 20;
        rule.side = Some("audience".to_owned());
        rule
    }

    /// Everyday audience chatter: `per_hour` posts an hour on average from `from` to `to`
    /// (milliseconds), a quarter of them negative.
    fn chatter(noise: &mut Noise, from: i64, to: i64, per_hour: u64) -> Vec<Post> {
        let mut posts = Vec::new();
        let mut hour = from;
        while hour < to {
            for n in 0..noise.count(per_hour) {
                let at = hour + (noise.next() % HOUR as u64) as i64;
                let word = WORDS[(noise.next() % WORDS.len() as u64) as usize];
                let other = WORDS[(noise.next() % WORDS.len() as u64) as usize];
                // Every fourth post is negative: the share stays near 25%.
                let sentiment = if ((hour / HOUR) as u64 + n).is_multiple_of(4) {
                    Sentiment::Negative
                } else {
                    Sentiment::Neutral
                };
                let text = format!("my {word} and the {other} today");
                posts.push(post(
                    &format!("c{hour}-{n}"),
                    at,
                    &text,
                    Side::Audience,
                    Some(sentiment),
                    noise.next() % 5,
                ));
            }
            hour += HOUR;
        }
        posts
    }

    /// `count` extra posts about an empty pharmacy shelf, evenly from `from` for `hours`.
    fn burst(from: i64, hours: i64, count: i64, prefix: &str) -> Vec<Post> {
        (0..count)
            .map(|n| {
                post(
                    &format!("{prefix}{n}"),
                    from + n * hours * HOUR / count,
                    "Cardivex shortage again, the pharmacy shelf is empty #CardivexShortage",
                    Side::Audience,
                    Some(Sentiment::Negative),
                    50 + n as u64,
                )
            })
            .collect()
    }

    /// Feeds posts in time order, advancing at every bucket boundary (2 h for a 1-day
    /// window) and at the end; returns every firing.
    fn replay(
        engine: &mut Engine,
        mut posts: Vec<Post>,
        topics: &dyn Fn(&Post) -> Option<String>,
    ) -> Vec<Firing> {
        posts.sort_by_key(|post| post.created_at);
        let step = 2 * HOUR;
        let mut firings = Vec::new();
        let Some(first) = posts.first().map(|post| post.created_at.timestamp_millis()) else {
            return firings;
        };
        let mut boundary = first.div_euclid(step) * step + step;
        for post in &posts {
            let at = post.created_at.timestamp_millis();
            while at >= boundary {
                firings.extend(engine.advance(time_of(boundary)));
                boundary += step;
            }
            let topic = topics(post);
            engine.observe(post, topic.as_deref());
        }
        firings.extend(engine.advance(time_of(boundary)));
        firings
    }

    fn no_topic(_: &Post) -> Option<String> {
        None
    }

    #[test]
    fn a_flat_history_fires_nothing() {
        let mut engine = Engine::new(&[
            rule("volume", "volume"),
            rule("negative", "negative-share"),
            rule("topics", "topic-growth"),
        ])
        .unwrap();
        let posts = chatter(&mut Noise(7), 0, 60 * DAY, 4);
        let topics = |post: &Post| {
            Some(
                if post.id.bytes().map(u64::from).sum::<u64>() % 2 == 0 { "a" } else { "b" }
                    .to_owned(),
            )
        };
        let firings = replay(&mut engine, posts, &topics);
        assert!(firings.is_empty(), "{firings:#?}");
        assert!(engine.open().is_empty());
    }

    #[test]
    fn a_planted_burst_fires_once_inside_it_and_explains_itself() {
        let mut engine = Engine::new(&[rule("volume", "volume")]).unwrap();
        let start = 20 * DAY + 6 * HOUR;
        let mut posts = chatter(&mut Noise(11), 0, 40 * DAY, 4);
        posts.extend(burst(start, 12, 80, "burst"));
        let firings = replay(&mut engine, posts, &no_topic);
        assert_eq!(firings.len(), 1, "{firings:#?}");
        let firing = &firings[0];
        let fired = firing.fired_at.timestamp_millis();
        assert!(fired > start && fired <= start + 12 * HOUR, "fired at {}", firing.fired_at);
        assert_eq!(firing.rule, "volume");
        assert!(firing.observed > firing.threshold.unwrap());
        assert!(firing.threshold.unwrap() > firing.baseline.unwrap());
        assert_eq!(firing.window_end, Some(firing.fired_at));
        assert_eq!(firing.posts.len(), POSTS_PER_ALERT);
        assert!(
            firing.posts.iter().all(|post| post.key.starts_with("x:burst")),
            "{:#?}",
            firing.posts
        );
        let terms: Vec<&str> = firing.terms.iter().map(|term| term.term.as_str()).collect();
        assert!(terms.contains(&"shortage"), "{terms:?}");
        assert!(terms.contains(&"#cardivexshortage"), "{terms:?}");
        assert!(!terms.contains(&"the"), "{terms:?}");
        assert!(firing.terms.len() <= TERMS_PER_ALERT);
        assert!(firing.summary.contains("audience posts in the 24 h to"), "{}", firing.summary);
        assert!(firing.summary.contains("in the 7 windows before"), "{}", firing.summary);
    }

    #[test]
    fn the_cooldown_holds_back_a_second_burst() {
        let run = |cooldown: &str| {
            let mut volume = rule("volume", "volume");
            volume.cooldown = cooldown.to_owned();
            let mut engine = Engine::new(&[volume]).unwrap();
            let mut posts = chatter(&mut Noise(5), 0, 40 * DAY, 4);
            posts.extend(burst(20 * DAY, 6, 100, "first"));
            posts.extend(burst(23 * DAY, 6, 400, "second"));
            replay(&mut engine, posts, &no_topic)
        };
        let short = run("1h");
        assert_eq!(short.len(), 2, "{short:#?}");
        assert!(short[1].posts.iter().all(|post| post.key.starts_with("x:second")));
        let long = run("7d");
        assert_eq!(long.len(), 1, "{long:#?}");
    }

    #[test]
    fn a_jump_in_the_negative_share_fires_without_more_volume() {
        let mut engine =
            Engine::new(&[rule("volume", "volume"), rule("negative", "negative-share")]).unwrap();
        let day = 20 * DAY;
        let mut posts: Vec<Post> = chatter(&mut Noise(3), 0, 40 * DAY, 4)
            .into_iter()
            .filter(|post| {
                let at = post.created_at.timestamp_millis();
                !(day..day + DAY).contains(&at)
            })
            .collect();
        // The same volume that day, but two thirds of it negative.
        for n in 0..96 {
            let negative = n % 3 != 0;
            posts.push(post(
                &format!("angry{n}"),
                day + n * DAY / 96,
                if negative { "the refill was refused, awful service" } else { "my coffee today" },
                Side::Audience,
                Some(if negative { Sentiment::Negative } else { Sentiment::Neutral }),
                3,
            ));
        }
        let firings = replay(&mut engine, posts, &no_topic);
        assert_eq!(firings.len(), 1, "{firings:#?}");
        let firing = &firings[0];
        assert_eq!(firing.rule, "negative");
        assert!(firing.observed > firing.threshold.unwrap(), "{firing:#?}");
        assert!(firing.baseline.unwrap() < 0.3, "{firing:#?}");
        let fired = firing.fired_at.timestamp_millis();
        assert!(fired > day && fired <= day + DAY, "fired at {}", firing.fired_at);
        assert!(firing.summary.contains("were negative"), "{}", firing.summary);
        assert!(firing.posts.iter().any(|post| post.key.starts_with("x:angry")));
        let terms: Vec<&str> = firing.terms.iter().map(|term| term.term.as_str()).collect();
        assert!(terms.contains(&"refused"), "{terms:?}");
    }

    #[test]
    fn a_growing_topic_fires_with_its_key() {
        let mut engine = Engine::new(&[rule("topics", "topic-growth")]).unwrap();
        let mut posts = chatter(&mut Noise(13), 0, 40 * DAY, 4);
        posts.extend(burst(20 * DAY, 12, 60, "grow"));
        let topics = |post: &Post| {
            Some(
                if post.id.starts_with("grow")
                    || post.id.bytes().map(u64::from).sum::<u64>() % 2 == 0
                {
                    "b"
                } else {
                    "a"
                }
                .to_owned(),
            )
        };
        let firings = replay(&mut engine, posts, &topics);
        assert_eq!(firings.len(), 1, "{firings:#?}");
        assert_eq!(firings[0].key, "b");
        assert_eq!(firings[0].topic.as_deref(), Some("b"));
        assert!(firings[0].summary.contains("about `b`"), "{}", firings[0].summary);
    }

    #[test]
    fn the_dominant_topic_is_the_most_over_represented_one() {
        let mut engine = Engine::new(&[rule("volume", "volume")]).unwrap();
        let mut posts = chatter(&mut Noise(17), 0, 30 * DAY, 4);
        posts.extend(burst(20 * DAY, 12, 80, "burst"));
        let topics = |post: &Post| {
            Some(if post.id.starts_with("burst") { "shortage" } else { "daily life" }.to_owned())
        };
        let firings = replay(&mut engine, posts, &topics);
        assert_eq!(firings.len(), 1, "{firings:#?}");
        assert_eq!(firings[0].topic.as_deref(), Some("shortage"));
    }

    fn question(id: &str, at: i64, conversation: &str) -> Post {
        let mut post = post(id, at, "@novaris where can I find Cardivex?", Side::Audience, None, 0);
        post.conversation_id = Some(conversation.to_owned());
        if let Some(annotations) = post.annotations.as_mut() {
            annotations.need = Some(Need::Question);
            annotations.addressed_to_brand = true;
        }
        post
    }

    fn own_reply(id: &str, at: i64, reply_to: Option<&str>, conversation: &str) -> Post {
        let mut post = post(id, at, "@someone please call us", Side::Own, None, 0);
        post.reply_to = reply_to.map(str::to_owned);
        post.conversation_id = Some(conversation.to_owned());
        post
    }

    #[test]
    fn an_unanswered_question_fires_and_an_own_reply_clears_it() {
        let mut engine = Engine::new(&[rule("unanswered", "unanswered")]).unwrap();
        engine.observe(&question("q1", 0, "q1"), None);
        engine.observe(&question("q2", HOUR, "q2"), None);
        engine.observe(&question("q3", 2 * HOUR, "root3"), None);
        // A question that is not addressed to the brand never waits.
        let mut aside = question("q4", 2 * HOUR, "q4");
        if let Some(annotations) = aside.annotations.as_mut() {
            annotations.addressed_to_brand = false;
        }
        engine.observe(&aside, None);
        engine.observe(&own_reply("r1", 3 * HOUR, Some("q1"), "q1"), None);
        assert!(engine.advance(time_of(10 * HOUR)).is_empty());
        let firings = engine.advance(time_of(27 * HOUR));
        let keys: Vec<&str> = firings.iter().map(|firing| firing.key.as_str()).collect();
        assert_eq!(keys, ["x:q2", "x:q3"]);
        assert_eq!(firings[0].posts[0].key, "x:q2");
        assert!(firings[0].summary.contains("no reply"), "{}", firings[0].summary);
        assert!(engine.advance(time_of(28 * HOUR)).is_empty(), "one alert per question");
        assert_eq!(engine.open().len(), 2);
        // A late reply in the thread of q3 clears it.
        engine.observe(&own_reply("r3", 30 * HOUR, Some("other"), "root3"), None);
        assert_eq!(engine.open(), vec![("unanswered".to_owned(), "x:q2".to_owned())]);
    }

    #[test]
    fn memory_stays_bounded_over_a_long_run() {
        let mut engine = Engine::new(&[
            rule("volume", "volume"),
            rule("negative", "negative-share"),
            rule("topics", "topic-growth"),
            rule("unanswered", "unanswered"),
        ])
        .unwrap();
        let mut noise = Noise(23);
        let step = 2 * HOUR;
        let mut footprints = Vec::new();
        let mut n = 0_u64;
        for bucket in 0..(240 * DAY / step) {
            let from = bucket * step;
            for _ in 0..noise.count(12) {
                n += 1;
                // Every post brings new words, so term tables would grow without pruning.
                let text = format!("word{n} term{} and common{}", n * 7, n % 10);
                let mut item = post(
                    &format!("p{n}"),
                    from + (n as i64 % step),
                    &text,
                    Side::Audience,
                    Some(Sentiment::Neutral),
                    n % 50,
                );
                if n.is_multiple_of(5) {
                    item = question(&format!("p{n}"), from, &format!("p{n}"));
                }
                let topic = format!("topic {}", n % 4);
                engine.observe(&item, Some(&topic));
            }
            engine.advance(time_of(from + step));
            if bucket % (30 * DAY / step) == 0 && bucket > 0 {
                footprints.push(engine.footprint());
            }
        }
        let span = (BUCKETS_PER_WINDOW * 8) as usize;
        // Three windowed series with one key, plus four topics.
        for footprint in &footprints[1..] {
            assert_eq!(footprint.series, 6);
            assert!(footprint.buckets <= 6 * span, "{footprint:?}");
            assert!(footprint.posts <= footprint.buckets * POSTS_PER_BUCKET, "{footprint:?}");
            assert!(footprint.terms <= footprint.buckets * (TERMS_PER_BUCKET + 4), "{footprint:?}");
            assert!(footprint.questions <= 8 * 12 * 3 * 12, "{footprint:?}");
        }
        let last = footprints[footprints.len() - 1];
        assert_eq!(footprints[1].buckets, last.buckets, "{footprints:?}");
    }

    #[test]
    fn kinds_it_does_not_evaluate_are_ignored_and_bad_rules_refused() {
        let engine = Engine::new(&waterline_model::alerts::default_rules()).unwrap();
        assert_eq!(
            engine.rule_names(),
            ["audience-volume", "negative-share", "topic-growth", "unanswered-questions"]
        );
        let mut bad = rule("bad", "volume");
        bad.window = "soon".to_owned();
        assert!(Engine::new(&[bad]).is_err());
    }

    #[test]
    fn a_query_matcher_scopes_its_rule() {
        let mut only = rule("cardivex", "volume");
        only.query = Some("cardivex".to_owned());
        let mut engine = Engine::new(&[only]).unwrap();
        assert!(engine.with_query_matcher("nope", Box::new(|_| true)).is_err());
        engine
            .with_query_matcher("cardivex", Box::new(|post: &Post| post.text.contains("Cardivex")))
            .unwrap();
        let mut posts = chatter(&mut Noise(29), 0, 30 * DAY, 4);
        // Plenty of chatter that does not match, then a burst that does.
        posts.extend(burst(20 * DAY, 12, 40, "burst"));
        let firings = replay(&mut engine, posts, &no_topic);
        assert_eq!(firings.len(), 1, "{firings:#?}");
        assert!(firings[0].summary.contains("matching `cardivex`"));
    }

    #[test]
    fn excerpts_are_cut_at_200_characters() {
        let long = "word ".repeat(100);
        let cut = excerpt(&long);
        assert_eq!(cut.chars().count(), EXCERPT_CHARS);
        assert!(cut.ends_with('…'));
        assert_eq!(excerpt("short  text"), "short text");
    }
}
