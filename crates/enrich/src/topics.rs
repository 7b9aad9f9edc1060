//! Topic discovery: posts embedded with the static word table (`crate::embed`),
//! clustered with seeded spherical k-means (the number of topics from a fixed rule of thumb,
//! fitted on a spread sample), labelled with class-based TF-IDF terms, and kept as a [`TopicModel`] whose ids
//! never change: later posts are assigned to the nearest topic, and posts that fit none
//! are clustered again into new topics that take the next free ids.
//! `docs/adr/004-topics.md` records the comparison that chose this method.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::embed::Embeddings;
use crate::text::{Kind, Token, tokenize};
use crate::words;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Settings of topic discovery.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TopicOptions {
    /// Seed of the k-means initialisation.
    pub seed: u64,
    /// Fewest posts a topic needs (smaller clusters become outliers).
    pub min_size: usize,
    /// Most topics one discovery run creates.
    pub max_topics: usize,
    /// A post closer than this (cosine) to every topic is an outlier.
    pub min_similarity: f32,
    /// Posts used to choose the number of topics and fit the centroids (the rest are assigned).
    pub sample: usize,
    /// Seeded k-means starts per clustering (the tightest is kept).
    #[serde(default = "default_restarts")]
    pub restarts: u64,
}

fn default_restarts() -> u64 {
    RESTARTS
}

impl Default for TopicOptions {
    fn default() -> Self {
        TopicOptions {
            seed: 42,
            min_size: 3,
            max_topics: 60,
            min_similarity: 0.2,
            sample: 20_000,
            restarts: RESTARTS,
        }
    }
}

/// One topic.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Topic {
    /// Stable id (never reused or renumbered).
    pub id: u32,
    /// Key terms and phrases, best first.
    pub terms: Vec<String>,
    /// The name of a workspace seed topic that most of its posts match, if any.
    pub seed: Option<String>,
    /// The unit centroid.
    pub centroid: Vec<f32>,
    /// Posts assigned when the topic was created.
    pub created_size: usize,
    /// Least cosine to the centroid a post needs to join: the 3rd percentile of the
    /// members' similarities at creation (at least the model's `min_similarity`).
    #[serde(default)]
    pub threshold: f32,
}

impl Topic {
    /// `seed: term · term · term`, or the terms alone.
    pub fn label(&self) -> String {
        let terms = self.terms.iter().take(4).cloned().collect::<Vec<_>>().join(" · ");
        match &self.seed {
            Some(seed) if terms.is_empty() => seed.clone(),
            Some(seed) => format!("{seed}: {terms}"),
            None if terms.is_empty() => "(no terms)".to_owned(),
            None => terms,
        }
    }
}

/// The topics of a workspace (or of one evaluation run).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct TopicModel {
    /// What embedded the posts (`static:…` or `lexical`).
    pub embedding: String,
    /// Settings used.
    pub options: Option<TopicOptions>,
    /// Topics in id order.
    pub topics: Vec<Topic>,
    /// The next id to give.
    pub next_id: u32,
    /// Posts with words that the last update left outside every topic. A later update forms
    /// new topics only when at least [`NEW_TOPIC_POSTS`] more posts are waiting, so running
    /// again on the same posts changes nothing.
    #[serde(default)]
    pub unassigned: usize,
    /// Raised by every change, so that a writer can tell whether the saved model is still
    /// the one its assignments were made with.
    #[serde(default)]
    pub generation: u64,
    /// What became of earlier topics at refits (`waterline topics refit`), oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lineage: Vec<Lineage>,
}

/// One refit's account of an earlier topic: kept (same id), merged into another, or retired.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Lineage {
    /// The model generation the refit produced.
    pub generation: u64,
    /// The earlier topic's id.
    pub from: u32,
    /// Its label then.
    pub label: String,
    /// The topic it lives on in (itself when kept), or `None` when retired.
    pub to: Option<u32>,
    /// `kept`, `merged` or `retired`.
    pub fate: String,
}

/// A post's text prepared for topics: its tokens' content words and its embedding.
#[derive(Debug, Clone, Default)]
pub struct TopicDoc {
    /// Content words (folded, stop words removed), in order.
    pub words: Vec<String>,
    /// Unit embedding, empty when no word is known.
    pub vector: Vec<f32>,
    /// Indexes of the workspace seed topics whose keywords the text contains.
    pub seeds: Vec<u16>,
}

/// Marks, on each document, the seed topics whose keywords its text contains (folded, whole
/// words; multi-word keywords match as phrases).
pub fn mark_seeds<S: AsRef<str> + Sync>(docs: &mut [TopicDoc], texts: &[S], seeds: &[SeedTopic]) {
    let patterns: Vec<(String, u16)> = seeds
        .iter()
        .enumerate()
        .flat_map(|(index, seed)| {
            seed.keywords
                .iter()
                .filter(|k| !k.trim().is_empty())
                .map(move |k| (k.trim().to_owned(), index as u16))
        })
        .collect();
    if patterns.is_empty() {
        return;
    }
    let Ok(matcher) = aho_corasick::AhoCorasick::builder()
        .match_kind(aho_corasick::MatchKind::LeftmostLongest)
        .build(patterns.iter().map(|(k, _)| k.as_str()))
    else {
        return;
    };
    docs.par_iter_mut().zip(texts.par_iter()).for_each(|(doc, text)| {
        let folded = crate::text::fold(crate::analysed(text.as_ref()));
        let bytes = folded.as_bytes();
        let boundary = |at: Option<&u8>| at.is_none_or(|b| !b.is_ascii_alphanumeric());
        for found in matcher.find_iter(&folded) {
            let before = found.start().checked_sub(1).and_then(|i| bytes.get(i));
            if boundary(before) && boundary(bytes.get(found.end())) {
                let seed = patterns[found.pattern().as_usize()].1;
                if !doc.seeds.contains(&seed) {
                    doc.seeds.push(seed);
                }
            }
        }
    });
}

/// Dimensions of the lexical fallback (hashed words).
pub const LEXICAL_DIMS: usize = 512;

/// What embeds posts: the static table, or hashed words when no table is available.
pub fn embedding_name(table: Option<&Embeddings>) -> String {
    match table {
        Some(table) => format!("static: {}", table.source),
        None => format!("lexical: hashed words, {LEXICAL_DIMS} dims"),
    }
}

/// Prepares texts: tokens, content words and embeddings (in parallel). Without a table,
/// the vector is the hashed bag of content words (lexical topics).
pub fn prepare<S: AsRef<str> + Sync>(texts: &[S], table: Option<&Embeddings>) -> Vec<TopicDoc> {
    texts
        .par_iter()
        .map(|text| {
            let tokens = tokenize(crate::analysed(text.as_ref()), None);
            let words = content_words(&tokens);
            let mut vector = Vec::new();
            match table {
                Some(table) => {
                    let used = table.embed_tokens(&tokens, &mut vector);
                    vector.truncate(if used == 0 { 0 } else { vector.len() });
                }
                None if !words.is_empty() => {
                    vector = vec![0f32; LEXICAL_DIMS];
                    for word in &words {
                        let hash = xxhash_rust::xxh3::xxh3_64(word.as_bytes());
                        let sign = if hash >> 63 == 0 { 1.0 } else { -1.0 };
                        vector[(hash % LEXICAL_DIMS as u64) as usize] += sign;
                    }
                    normalise(&mut vector);
                }
                None => {}
            }
            TopicDoc { words, vector, seeds: Vec::new() }
        })
        .collect()
}

/// Words too common in social posts to describe a topic (on top of the stop words).
const TOPIC_STOP_WORDS: &[&str] = &[
    "not", "no", "dont", "cant", "wont", "didnt", "doesnt", "isnt", "like", "just", "really",
    "know", "think", "want", "going", "make", "made", "see", "way", "thing", "things", "good",
    "new", "today", "day", "time", "people", "now", "one", "lol", "pas", "non", "oui", "tres",
    "trop", "fois", "jour", "ils", "elle", "vraiment", "quoi", "tout", "rien", "merci", "bonjour",
    "salut", "depuis", "toujours", "jamais", "dit", "faire", "fais", "suis", "svp", "please",
    "thanks", "thank", "hello", "hey", "still", "ever", "never", "got",
];

fn content_words(tokens: &[Token]) -> Vec<String> {
    tokens
        .iter()
        .filter(|token| matches!(token.kind, Kind::Word | Kind::HashtagWord))
        .filter(|token| {
            token.norm.chars().count() >= 3
                && !token.norm.contains('\'')
                && !words::STOP_WORDS.any(&token.norm)
                && !TOPIC_STOP_WORDS.contains(&token.norm.as_str())
        })
        .map(|token| token.norm.clone())
        .collect()
}

/// The dot product, summed in eight lanes so that the compiler vectorises it (a serial
/// float sum cannot be reordered, so it runs one multiply-add at a time). k-means and the
/// assignment of every stored post spend their time here.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    const LANES: usize = 8;
    let length = a.len().min(b.len());
    let (a, b) = (&a[..length], &b[..length]);
    let mut lanes = [0f32; LANES];
    let mut left = a.chunks_exact(LANES);
    let mut right = b.chunks_exact(LANES);
    for (x, y) in left.by_ref().zip(right.by_ref()) {
        for lane in 0..LANES {
            lanes[lane] += x[lane] * y[lane];
        }
    }
    let tail: f32 = left.remainder().iter().zip(right.remainder()).map(|(x, y)| x * y).sum();
    lanes.iter().sum::<f32>() + tail
}

fn normalise(vector: &mut [f32]) {
    let norm = dot(vector, vector).sqrt();
    if norm > 0.0 {
        vector.iter_mut().for_each(|value| *value /= norm);
    }
}

/// The nearest centroid and its cosine.
fn nearest(vector: &[f32], centroids: &[Vec<f32>]) -> Option<(usize, f32)> {
    centroids
        .iter()
        .enumerate()
        .map(|(index, centroid)| (index, dot(vector, centroid)))
        .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))
}

/// Seeded spherical k-means (k-means++ initialisation); returns unit centroids.
fn kmeans(vectors: &[&[f32]], k: usize, seed: u64, iterations: usize) -> Vec<Vec<f32>> {
    let Some(first) = vectors.first() else { return Vec::new() };
    let dims = first.len();
    let k = k.min(vectors.len()).max(1);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut centroids: Vec<Vec<f32>> = vec![vectors[rng.random_range(0..vectors.len())].to_vec()];
    let mut distance: Vec<f32> =
        vectors.par_iter().map(|vector| (1.0 - dot(vector, &centroids[0])).max(0.0)).collect();
    while centroids.len() < k {
        let total: f64 = distance.iter().map(|d| f64::from(*d)).sum();
        if total <= 0.0 {
            break;
        }
        let mut target = rng.random::<f64>() * total;
        let mut chosen = vectors.len() - 1;
        for (index, d) in distance.iter().enumerate() {
            target -= f64::from(*d);
            if target <= 0.0 {
                chosen = index;
                break;
            }
        }
        let centroid = vectors[chosen].to_vec();
        distance
            .par_iter_mut()
            .zip(vectors.par_iter())
            .for_each(|(d, vector)| *d = d.min((1.0 - dot(vector, &centroid)).max(0.0)));
        centroids.push(centroid);
    }
    let mut assignment = vec![usize::MAX; vectors.len()];
    for _ in 0..iterations {
        let next: Vec<usize> = vectors
            .par_iter()
            .map(|vector| nearest(vector, &centroids).map_or(0, |(index, _)| index))
            .collect();
        let changed = next.iter().zip(&assignment).filter(|(a, b)| a != b).count();
        assignment = next;
        let mut sums = vec![vec![0f32; dims]; centroids.len()];
        for (vector, cluster) in vectors.iter().zip(&assignment) {
            for (slot, value) in sums[*cluster].iter_mut().zip(vector.iter()) {
                *slot += value;
            }
        }
        for (centroid, mut sum) in centroids.iter_mut().zip(sums) {
            if sum.iter().any(|value| *value != 0.0) {
                normalise(&mut sum);
                *centroid = sum;
            }
        }
        if changed == 0 {
            break;
        }
    }
    centroids
}

/// The number of topics for `n` posts: the rule of thumb √(n/2), at most `max_topics` and at
/// most one topic per `min_size` posts. NMI rises with the number of clusters, so the rule
/// is fixed here rather than tuned on the evaluation set (`docs/adr/004-topics.md`).
pub fn topic_count(n: usize, options: &TopicOptions) -> usize {
    let rule = ((n as f64 / 2.0).sqrt().round() as usize).max(2);
    rule.min(options.max_topics).min(n / options.min_size.max(1)).max(1)
}

/// Seeded k-means starts per clustering.
const RESTARTS: u64 = 8;

/// Fits `topic_count` centroids on a spread sample and merges near-identical ones.
fn cluster(vectors: &[&[f32]], options: &TopicOptions) -> Vec<Vec<f32>> {
    if vectors.len() < options.min_size.max(1) {
        return Vec::new();
    }
    let k = topic_count(vectors.len(), options);
    let fit: Vec<&[f32]> = spread_sample(vectors, options.sample);
    // Several seeded starts; keep the tightest (highest total similarity to the centroids).
    let mut best: Option<(f64, Vec<Vec<f32>>)> = None;
    for start in 0..options.restarts.max(1) {
        let centroids = kmeans(&fit, k, options.seed.wrapping_add(start * 7_919), 50);
        // Per-vector scores in parallel, summed serially: the same order on every run.
        let scores: Vec<f64> = fit
            .par_iter()
            .map(|vector| nearest(vector, &centroids).map_or(0.0, |(_, s)| f64::from(s)))
            .collect();
        let fit_score: f64 = scores.iter().sum();
        if best.as_ref().is_none_or(|(score, _)| fit_score > *score) {
            best = Some((fit_score, centroids));
        }
    }
    merge_close(best.map(|(_, centroids)| centroids).unwrap_or_default())
}

/// Merges centroids that are nearly the same direction (k-means splits a tight group when
/// asked for more clusters than there are subjects).
fn merge_close(centroids: Vec<Vec<f32>>) -> Vec<Vec<f32>> {
    let mut kept: Vec<Vec<f32>> = Vec::new();
    for centroid in centroids {
        if kept.iter().all(|other| dot(other, &centroid) < 0.95) {
            kept.push(centroid);
        }
    }
    kept
}

/// Every `n / limit`-th vector (deterministic), or all of them.
fn spread_sample<'a>(vectors: &[&'a [f32]], limit: usize) -> Vec<&'a [f32]> {
    if vectors.len() <= limit {
        return vectors.to_vec();
    }
    let step = vectors.len() as f64 / limit as f64;
    (0..limit).filter_map(|i| vectors.get((i as f64 * step) as usize).copied()).collect()
}

/// Key terms per cluster by class-based TF-IDF over words and two-word phrases.
fn key_terms(docs: &[&TopicDoc], labels: &[Option<usize>], clusters: usize) -> Vec<Vec<String>> {
    let mut per_cluster: Vec<HashMap<String, f64>> = vec![HashMap::new(); clusters];
    let mut overall: HashMap<String, f64> = HashMap::new();
    let mut doc_freq: Vec<HashMap<String, u32>> = vec![HashMap::new(); clusters];
    for (doc, label) in docs.iter().zip(labels) {
        let Some(cluster) = label else { continue };
        let mut seen: Vec<String> = doc.words.clone();
        seen.extend(doc.words.windows(2).map(|pair| format!("{} {}", pair[0], pair[1])));
        seen.sort();
        seen.dedup();
        for term in seen {
            *per_cluster[*cluster].entry(term.clone()).or_default() += 1.0;
            *overall.entry(term.clone()).or_default() += 1.0;
            *doc_freq[*cluster].entry(term).or_default() += 1;
        }
    }
    let average = overall.values().sum::<f64>() / clusters.max(1) as f64;
    per_cluster
        .into_iter()
        .zip(&doc_freq)
        .map(|(terms, freq)| {
            let size: f64 = terms.values().sum::<f64>().max(1.0);
            let mut scored: Vec<(String, f64)> = terms
                .iter()
                .filter(|(term, _)| freq.get(*term).copied().unwrap_or(0) >= 2 || size < 20.0)
                .map(|(term, count)| {
                    let idf = (1.0 + average / overall.get(term).copied().unwrap_or(1.0)).ln();
                    let phrase = if term.contains(' ') { 1.2 } else { 1.0 };
                    (term.clone(), count / size * idf * phrase)
                })
                .collect();
            scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            let mut chosen: Vec<String> = Vec::new();
            for (term, _) in scored {
                // Skip a word already inside a chosen phrase, and a phrase whose words are both chosen.
                if chosen.iter().any(|c| {
                    c.split(' ').any(|w| w == term)
                        || term.split(' ').all(|w| chosen.contains(&w.to_owned()))
                }) {
                    continue;
                }
                chosen.push(term);
                if chosen.len() == 8 {
                    break;
                }
            }
            chosen
        })
        .collect()
}

/// Assigns posts to the model's topics: `Some(id)`, or `None` for an outlier.
pub fn assign(model: &TopicModel, docs: &[TopicDoc], min_similarity: f32) -> Vec<Option<u32>> {
    let centroids: Vec<Vec<f32>> =
        model.topics.iter().map(|topic| topic.centroid.clone()).collect();
    docs.par_iter()
        .map(|doc| {
            if doc.vector.is_empty() {
                return None;
            }
            let (index, similarity) = nearest(&doc.vector, &centroids)?;
            let topic = &model.topics[index];
            (similarity >= min_similarity.max(topic.threshold)).then_some(topic.id)
        })
        .collect()
}

/// A seed topic from the workspace: a name and keywords (folded).
#[derive(Debug, Clone)]
pub struct SeedTopic {
    /// Its name.
    pub name: String,
    /// Its keywords, folded.
    pub keywords: Vec<String>,
}

/// Updates the model with posts: assigns them, clusters those that fit no topic, and adds
/// clusters of at least `min_size` posts as new topics (existing ids never change).
/// Returns the assignment of every post.
pub fn update(
    model: &mut TopicModel,
    docs: &[TopicDoc],
    options: &TopicOptions,
    seeds: &[SeedTopic],
) -> Vec<Option<u32>> {
    if model.options.is_none() {
        model.options = Some(options.clone());
    }
    let mut labels = assign(model, docs, options.min_similarity);
    let pending: Vec<usize> =
        (0..docs.len()).filter(|i| labels[*i].is_none() && !docs[*i].vector.is_empty()).collect();
    // With an existing model, only a sizeable group of newly unassigned posts can form new
    // topics, and each new topic needs more posts than at the first discovery.
    let first = model.topics.is_empty();
    let (enough, min_size) = if first {
        (options.min_size, options.min_size)
    } else {
        (model.unassigned + NEW_TOPIC_POSTS, options.min_size.max(NEW_TOPIC_POSTS / 2))
    };
    if pending.len() < enough {
        model.unassigned = model.unassigned.min(pending.len());
        return labels;
    }
    let vectors: Vec<&[f32]> = pending.iter().map(|i| docs[*i].vector.as_slice()).collect();
    let centroids = cluster(&vectors, options);
    let local: Vec<Option<usize>> = vectors
        .par_iter()
        .map(|vector| {
            nearest(vector, &centroids)
                .filter(|(_, similarity)| *similarity >= options.min_similarity)
                .map(|(index, _)| index)
        })
        .collect();
    let mut sizes = vec![0usize; centroids.len()];
    for cluster in local.iter().flatten() {
        sizes[*cluster] += 1;
    }
    // Keep clusters big enough (and, when extending a model, tight enough: the leftovers
    // of earlier updates are loose), largest first (new ids follow that order).
    let mut member_similarities: Vec<Vec<f32>> = vec![Vec::new(); centroids.len()];
    for (vector, label) in vectors.iter().zip(&local) {
        if let Some(cluster) = label {
            member_similarities[*cluster].push(dot(vector, &centroids[*cluster]));
        }
    }
    let median = |values: &mut Vec<f32>| -> f32 {
        values.sort_by(f32::total_cmp);
        values.get(values.len() / 2).copied().unwrap_or(0.0)
    };
    let mut kept: Vec<usize> = (0..centroids.len())
        .filter(|c| sizes[*c] >= min_size)
        .filter(|c| first || median(&mut member_similarities[*c].clone()) >= NEW_TOPIC_COHERENCE)
        .collect();
    kept.sort_by(|a, b| sizes[*b].cmp(&sizes[*a]).then(a.cmp(b)));
    let pending_docs: Vec<&TopicDoc> = pending.iter().map(|i| &docs[*i]).collect();
    let renumber: HashMap<usize, usize> =
        kept.iter().enumerate().map(|(new, old)| (*old, new)).collect();
    let mut local_kept: Vec<Option<usize>> =
        local.iter().map(|label| label.and_then(|c| renumber.get(&c).copied())).collect();
    let mut terms = key_terms(&pending_docs, &local_kept, kept.len());
    distinguish(&mut terms, &model.topics);
    let mut ids = Vec::with_capacity(kept.len());
    let first_new = model.topics.len();
    for (position, old) in kept.iter().enumerate() {
        let id = model.next_id;
        model.next_id += 1;
        ids.push(id);
        let members: Vec<&TopicDoc> = pending_docs
            .iter()
            .zip(&local_kept)
            .filter(|(_, label)| **label == Some(position))
            .map(|(doc, _)| *doc)
            .collect();
        let centroid = centroids[*old].clone();
        let mut similarities: Vec<f32> =
            members.iter().map(|doc| dot(&doc.vector, &centroid)).collect();
        similarities.sort_by(f32::total_cmp);
        let threshold = similarities
            .get(similarities.len() * 3 / 100)
            .copied()
            .unwrap_or(options.min_similarity)
            .max(options.min_similarity);
        model.topics.push(Topic {
            id,
            terms: terms.get(position).cloned().unwrap_or_default(),
            seed: seed_of(&members, seeds),
            centroid,
            created_size: sizes[*old],
            threshold,
        });
    }
    // Posts below their topic's threshold are outliers from now on, as `assign` will see them.
    for (doc, label) in pending_docs.iter().zip(local_kept.iter_mut()) {
        if let Some(position) = *label
            && let Some(topic) = model.topics.get(first_new + position)
            && dot(&doc.vector, &topic.centroid) < topic.threshold
        {
            *label = None;
        }
    }
    for (index, label) in pending.iter().zip(&local_kept) {
        labels[*index] = label.map(|position| ids[position]);
    }
    model.unassigned = pending.iter().filter(|index| labels[**index].is_none()).count();
    labels
}

/// Median cosine to their centre that the posts of a topic added to an existing model need.
pub const NEW_TOPIC_COHERENCE: f32 = 0.6;

/// Newly unassigned posts needed before an existing model forms new topics (a new topic then
/// needs half as many).
pub const NEW_TOPIC_POSTS: usize = 20;

/// Reorders each new topic's terms so that its label (first four terms) differs from the
/// labels before it: terms no earlier label uses move forward, the best term stays first.
fn distinguish(terms: &mut [Vec<String>], existing: &[Topic]) {
    let mut labels: Vec<Vec<String>> =
        existing.iter().map(|topic| topic.terms.iter().take(4).cloned().collect()).collect();
    for list in terms.iter_mut() {
        if list.len() > 4
            && labels.iter().any(|label| list.iter().take(4).all(|t| label.contains(t)))
        {
            let used: HashSet<&String> = labels.iter().flatten().collect();
            let (first, rest) = list.split_at(1);
            let (fresh, stale): (Vec<String>, Vec<String>) =
                rest.iter().cloned().partition(|term| !used.contains(term));
            let reordered: Vec<String> = first.iter().cloned().chain(fresh).chain(stale).collect();
            *list = reordered;
        }
        labels.push(list.iter().take(4).cloned().collect());
    }
}

/// The seed topic that at least a quarter of the members mention (the most mentioned).
fn seed_of(members: &[&TopicDoc], seeds: &[SeedTopic]) -> Option<String> {
    if members.is_empty() {
        return None;
    }
    let mut hits = vec![0usize; seeds.len()];
    for doc in members {
        for seed in &doc.seeds {
            if let Some(count) = hits.get_mut(usize::from(*seed)) {
                *count += 1;
            }
        }
    }
    let (index, most) = hits.iter().enumerate().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(&a.0)))?;
    (*most * 4 >= members.len() && *most > 0).then(|| seeds[index].name.clone())
}

/// Representative posts of each topic: the indexes of the `n` posts nearest its centroid.
pub fn representatives(
    model: &TopicModel,
    docs: &[TopicDoc],
    labels: &[Option<u32>],
    n: usize,
) -> BTreeMap<u32, Vec<usize>> {
    let mut best: BTreeMap<u32, Vec<(f32, usize)>> = BTreeMap::new();
    let centroids: HashMap<u32, &Vec<f32>> =
        model.topics.iter().map(|topic| (topic.id, &topic.centroid)).collect();
    for (index, (doc, label)) in docs.iter().zip(labels).enumerate() {
        let Some(id) = label else { continue };
        let Some(centroid) = centroids.get(id) else { continue };
        let list = best.entry(*id).or_default();
        list.push((dot(&doc.vector, centroid), index));
        if list.len() > n * 8 {
            list.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            list.truncate(n * 2);
        }
    }
    best.into_iter()
        .map(|(id, mut list)| {
            list.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            // Skip exact repeats of a text already chosen.
            let mut chosen: Vec<usize> = Vec::new();
            for (_, index) in list {
                if chosen.iter().all(|c| docs[*c].words != docs[index].words) {
                    chosen.push(index);
                }
                if chosen.len() == n {
                    break;
                }
            }
            (id, chosen)
        })
        .collect()
}

/// Normalised mutual information (arithmetic mean) and adjusted Rand index of two labelings.
pub fn nmi_ari(truth: &[usize], found: &[usize]) -> (f64, f64) {
    let n = truth.len().min(found.len());
    if n == 0 {
        return (0.0, 0.0);
    }
    let mut joint: HashMap<(usize, usize), f64> = HashMap::new();
    let mut a: HashMap<usize, f64> = HashMap::new();
    let mut b: HashMap<usize, f64> = HashMap::new();
    for i in 0..n {
        *joint.entry((truth[i], found[i])).or_default() += 1.0;
        *a.entry(truth[i]).or_default() += 1.0;
        *b.entry(found[i]).or_default() += 1.0;
    }
    let total = n as f64;
    let entropy = |counts: &HashMap<usize, f64>| -> f64 {
        counts.values().map(|c| c / total).filter(|p| *p > 0.0).map(|p| -p * p.ln()).sum()
    };
    let mut mutual = 0.0;
    for ((x, y), count) in &joint {
        let p = count / total;
        mutual += p * (p / ((a[x] / total) * (b[y] / total))).ln();
    }
    let (ha, hb) = (entropy(&a), entropy(&b));
    let nmi = if ha + hb == 0.0 { 1.0 } else { 2.0 * mutual / (ha + hb) };
    let pairs = |x: f64| x * (x - 1.0) / 2.0;
    let index: f64 = joint.values().map(|c| pairs(*c)).sum();
    let sum_a: f64 = a.values().map(|c| pairs(*c)).sum();
    let sum_b: f64 = b.values().map(|c| pairs(*c)).sum();
    let expected = sum_a * sum_b / pairs(total).max(1.0);
    let max = (sum_a + sum_b) / 2.0;
    let ari = if (max - expected).abs() < f64::EPSILON {
        1.0
    } else {
        (index - expected) / (max - expected)
    };
    (nmi.max(0.0), ari)
}

/// What `waterline eval topics` reports.
#[derive(Debug, Clone, Serialize)]
pub struct TopicEval {
    /// Texts clustered.
    pub n: usize,
    /// NMI against the reference labels (outliers count as one cluster).
    pub nmi: f64,
    /// Adjusted Rand index, likewise.
    pub ari: f64,
    /// Share of texts left as outliers.
    pub outlier_share: f64,
    /// Topics found.
    pub topics: usize,
    /// Reference labels present.
    #[serde(skip)]
    pub labels: usize,
    /// Texts per second, embedding included.
    pub docs_per_s: f64,
    /// What embedded the texts.
    #[serde(skip)]
    pub embedding: String,
    /// The topics found, largest first: label and size.
    #[serde(skip)]
    pub found: Vec<(String, usize)>,
}

/// Clusters texts without their labels and scores the result against them.
pub fn evaluate(
    texts: &[String],
    truth: &[usize],
    table: Option<&Embeddings>,
    options: &TopicOptions,
) -> TopicEval {
    let started = std::time::Instant::now();
    let docs = prepare(texts, table);
    let mut model = TopicModel { embedding: embedding_name(table), ..TopicModel::default() };
    let labels = update(&mut model, &docs, options, &[]);
    let seconds = started.elapsed().as_secs_f64();
    let found: Vec<usize> =
        labels.iter().map(|label| label.map_or(usize::MAX, |id| id as usize)).collect();
    let (nmi, ari) = nmi_ari(truth, &found);
    let outliers = labels.iter().filter(|label| label.is_none()).count();
    let mut sizes: BTreeMap<u32, usize> = BTreeMap::new();
    for id in labels.iter().flatten() {
        *sizes.entry(*id).or_default() += 1;
    }
    let mut listed: Vec<(String, usize)> = model
        .topics
        .iter()
        .map(|topic| (topic.label(), sizes.get(&topic.id).copied().unwrap_or(0)))
        .collect();
    listed.sort_by_key(|(_, size)| std::cmp::Reverse(*size));
    let mut distinct = truth.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    TopicEval {
        n: texts.len(),
        nmi: round(nmi),
        ari: round(ari),
        outlier_share: round(outliers as f64 / texts.len().max(1) as f64),
        topics: model.topics.len(),
        labels: distinct.len(),
        docs_per_s: (texts.len() as f64 / seconds.max(1e-9)).round(),
        embedding: model.embedding,
        found: listed,
    }
}

/// Rounds a share or score to four decimals (and `-0` to `0`) for reports.
pub fn round(value: f64) -> f64 {
    (value * 10_000.0).round() / 10_000.0 + 0.0
}

/// Texts, their reference label indexes, and the label names.
pub type TweetTopic = (Vec<String>, Vec<usize>, Vec<String>);

/// Reads the TweetTopic JSON-lines format: a `text` field and one 0/1 field per topic;
/// the reference label of a text is its first positive field in the file's column order.
/// Returns the texts, their label indexes and the label names.
pub fn read_tweettopic(content: &str) -> Result<TweetTopic, String> {
    let mut texts = Vec::new();
    let mut truth = Vec::new();
    let mut names: Vec<String> = Vec::new();
    for (number, line) in content.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let fields: Ordered =
            serde_json::from_str(line).map_err(|error| format!("line {}: {error}", number + 1))?;
        let mut text = None;
        let mut label = None;
        for (key, value) in fields.0 {
            if key == "text" {
                text = value.as_str().map(str::to_owned);
            } else if label.is_none()
                && (value.as_u64() == Some(1) || value.as_bool() == Some(true))
            {
                label = Some(key);
            }
        }
        let text = text.ok_or_else(|| format!("line {}: no `text` field", number + 1))?;
        let label = label.unwrap_or_else(|| "(none)".to_owned());
        let index = match names.iter().position(|name| *name == label) {
            Some(index) => index,
            None => {
                names.push(label);
                names.len() - 1
            }
        };
        texts.push(text);
        truth.push(index);
    }
    Ok((texts, truth, names))
}

/// A JSON object's fields in the order they are written.
struct Ordered(Vec<(String, serde_json::Value)>);

impl<'de> Deserialize<'de> for Ordered {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Ordered;
            fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
                formatter.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Ordered, A::Error> {
                let mut fields = Vec::new();
                while let Some(entry) = map.next_entry::<String, serde_json::Value>()? {
                    fields.push(entry);
                }
                Ok(Ordered(fields))
            }
        }
        deserializer.deserialize_map(Visit)
    }
}

// ---------------------------------------------------------------------------------------
// Topics on arrival.

/// True for posts that carry their own content (not reposts, not empty): the posts that get
/// a topic.
pub fn has_content(post: &waterline_model::Post) -> bool {
    post.repost_of.is_none() && !post.text.trim().is_empty()
}

/// Documents an empty model waits for before its first fit (fewer are fitted by
/// [`Assigner::flush`] at the end of a run).
pub const FIRST_FIT_DOCS: usize = 1_000;

/// Most documents the first fit of an empty model keeps (the latest); the rest of its
/// batch is assigned.
pub const FIRST_FIT_SAMPLE: usize = 20_000;

/// Seeded starts of the k-means that looks for new topics among the waiting outliers of a
/// fitted model (the first fit and refits use [`TopicOptions::restarts`]).
pub const DISCOVERY_RESTARTS: u64 = 2;

/// Most outliers kept waiting for the discovery of new topics (the oldest leave first).
pub const POOL_LIMIT: usize = 2_000;

/// Posts with content assigned between two discovery attempts on an existing model (at least;
/// half the posts seen so far once that is more, so that a long import spends a bounded
/// share of its time clustering).
pub const DISCOVERY_EVERY: usize = 100_000;

/// One outlier waiting in the pool: its document, and its position in the batch being
/// assigned (`None` once that batch has left: it is stored, and keeps no topic until
/// `waterline topics refit`).
struct Waiting {
    doc: TopicDoc,
    position: Option<usize>,
}

/// Assigns each post its topic as it is stored (file import, the ingest endpoint, live
/// sources), from the workspace's [`TopicModel`]. Memory is bounded: the model (centroids),
/// and a pool of at most [`POOL_LIMIT`] outliers from which new topics are born, with the
/// next free ids; existing ids never change. An empty model is fitted on the first
/// [`FIRST_FIT_DOCS`] posts with content (or on what a run brought, at its end).
pub struct Assigner {
    model: TopicModel,
    table: Option<&'static Embeddings>,
    seeds: Vec<SeedTopic>,
    options: TopicOptions,
    pool: std::collections::VecDeque<Waiting>,
    seen: usize,
    seen_since: usize,
    waiting_since: usize,
    /// The generation of the model as last loaded or saved.
    base: u64,
    /// The next batch is the last of its run: it discovers at its end.
    last: bool,
}

impl Assigner {
    /// An assigner continuing `model` (a model made with another embedding starts again).
    pub fn new(
        model: Option<TopicModel>,
        table: Option<&'static Embeddings>,
        seeds: Vec<SeedTopic>,
        options: TopicOptions,
    ) -> Assigner {
        let embedding = embedding_name(table);
        let (model, base) = match model {
            Some(model) if model.embedding == embedding => {
                let base = model.generation;
                (model, base)
            }
            // A model made with another embedding cannot be continued: start again (with a
            // later generation than the one on disk, so that it replaces it).
            Some(old) => {
                let generation = old.generation + 1;
                let next_id = old.next_id;
                (
                    TopicModel { embedding, generation, next_id, ..TopicModel::default() },
                    old.generation,
                )
            }
            None => (TopicModel { embedding, ..TopicModel::default() }, 0),
        };
        Assigner {
            model,
            table,
            seeds,
            options,
            pool: std::collections::VecDeque::new(),
            seen: 0,
            seen_since: 0,
            waiting_since: 0,
            base,
            last: false,
        }
    }

    /// The workspace's seed topics, folded for matching.
    pub fn seeds_of(config: &waterline_model::Config) -> Vec<SeedTopic> {
        config
            .topics
            .iter()
            .map(|seed| SeedTopic {
                name: seed.name.clone(),
                keywords: seed.keywords.iter().map(|k| crate::text::fold(k)).collect(),
            })
            .collect()
    }

    /// The current model.
    pub fn model(&self) -> &TopicModel {
        &self.model
    }

    /// The generation of the model as last loaded or saved: a saved model with another
    /// generation was changed by another writer meanwhile.
    pub fn base(&self) -> u64 {
        self.base
    }

    /// The model when it changed since it was loaded or saved (to be saved before the posts
    /// assigned with it are committed), else `None`.
    pub fn unsaved(&self) -> Option<&TopicModel> {
        (self.model.generation != self.base).then_some(&self.model)
    }

    /// Records that the current model was saved.
    pub fn mark_saved(&mut self) {
        self.base = self.model.generation;
    }

    /// Continues from a model another writer saved (its own unsaved topics are dropped).
    pub fn adopt(&mut self, model: TopicModel) {
        self.base = model.generation;
        self.model = model;
        self.pool.clear();
        self.seen_since = 0;
        self.waiting_since = 0;
    }

    /// Says that the next batch ends a run (the last chunk of a file): the outliers waiting
    /// then, this batch's included, are clustered at its end, so that a new subject's first
    /// posts get the topic they found.
    pub fn end_with_next_batch(&mut self) {
        self.last = true;
    }

    /// Sets `annotations.topic` of each annotated post (posts without content get none).
    pub fn assign(&mut self, posts: &mut [&mut waterline_model::Post]) {
        let texts: Vec<&str> = posts
            .iter()
            .map(|post| if has_content(post) { post.text.as_str() } else { "" })
            .collect();
        let mut docs = prepare(&texts, self.table);
        mark_seeds(&mut docs, &texts, &self.seeds);
        let with_content = docs.iter().filter(|doc| !doc.vector.is_empty()).count();
        self.seen += with_content;
        self.seen_since += with_content;
        let mut labels = if self.model.topics.is_empty() {
            vec![None; docs.len()]
        } else {
            assign(&self.model, &docs, self.options.min_similarity)
        };
        for (position, (doc, label)) in docs.into_iter().zip(&labels).enumerate() {
            if label.is_none() && !doc.vector.is_empty() {
                self.pool.push_back(Waiting { doc, position: Some(position) });
                self.waiting_since += 1;
            }
        }
        let limit = if self.model.topics.is_empty() {
            FIRST_FIT_SAMPLE.min(self.options.sample)
        } else {
            POOL_LIMIT
        };
        while self.pool.len() > limit {
            self.pool.pop_front();
        }
        let due = std::mem::take(&mut self.last)
            || if self.model.topics.is_empty() {
                self.pool.len() >= FIRST_FIT_DOCS
            } else {
                self.seen_since >= DISCOVERY_EVERY.max(self.seen / 2)
            };
        if due {
            self.discover(&mut labels);
        }
        for waiting in &mut self.pool {
            waiting.position = None;
        }
        for (post, label) in posts.iter_mut().zip(labels) {
            if let Some(notes) = post.annotations.as_deref_mut() {
                notes.topic = label;
            }
        }
    }

    /// Fits or extends the model on the waiting posts at the end of a run. The posts already
    /// stored keep no topic until `waterline topics refit`.
    pub fn flush(&mut self) {
        let mut none = Vec::new();
        self.discover(&mut none);
    }

    /// Clusters the pool: new topics take the next ids; waiting posts of the current batch
    /// that join one get its id in `labels`; those that join none keep waiting.
    fn discover(&mut self, labels: &mut [Option<u32>]) {
        if self.waiting_since == 0 {
            return;
        }
        let before = self.model.clone();
        // Only the outliers that arrived since the last attempt may form new topics.
        self.model.unassigned = self.pool.len().saturating_sub(self.waiting_since);
        let docs: Vec<TopicDoc> = self.pool.iter().map(|waiting| waiting.doc.clone()).collect();
        let mut options = self.options.clone();
        if !self.model.topics.is_empty() {
            options.restarts = DISCOVERY_RESTARTS.min(options.restarts);
        }
        let found = update(&mut self.model, &docs, &options, &self.seeds);
        let mut kept = std::collections::VecDeque::with_capacity(self.pool.len());
        for (waiting, label) in std::mem::take(&mut self.pool).into_iter().zip(found) {
            match (label, waiting.position) {
                (Some(id), Some(position)) => {
                    if let Some(slot) = labels.get_mut(position) {
                        *slot = Some(id);
                    }
                }
                (Some(_), None) => {}
                (None, _) => kept.push_back(waiting),
            }
        }
        self.pool = kept;
        self.model.unassigned = self.pool.len();
        self.seen_since = 0;
        self.waiting_since = 0;
        if self.model.topics != before.topics {
            self.model.generation = before.generation.max(self.base) + 1;
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Annotated posts on three subjects (no embedding table: lexical topics).
    fn posts(n: usize, offset: usize) -> Vec<waterline_model::Post> {
        let subjects = [
            "pharmacy shortage stock tablets supply pharmacist",
            "marathon training running shoes race pace",
            "recipe dinner pasta cooking kitchen oven",
        ];
        (0..n)
            .map(|i| {
                let mut post = waterline_model::Post::new(
                    "x",
                    format!("{}", offset + i),
                    chrono::DateTime::from_timestamp(1_700_000_000 + i as i64, 0).unwrap(),
                );
                post.text = format!("{} {}", subjects[i % 3], ["today", "again", "now"][i % 3]);
                post.annotations = Some(Box::default());
                post
            })
            .collect()
    }

    fn assign(assigner: &mut Assigner, posts: &mut [waterline_model::Post]) -> Vec<Option<u32>> {
        assigner.assign(&mut posts.iter_mut().collect::<Vec<_>>());
        posts.iter().map(|post| post.annotations.as_ref().unwrap().topic).collect()
    }

    #[test]
    fn an_assigner_fits_once_enough_posts_wait_and_keeps_its_ids() {
        let mut assigner = Assigner::new(None, None, Vec::new(), TopicOptions::default());
        let mut small = posts(30, 0);
        // Too few posts for the first fit: they wait, without a topic.
        assert!(assign(&mut assigner, &mut small).iter().all(Option::is_none));
        assert!(assigner.unsaved().is_none());
        // The last batch of a run fits on what waits, its own posts included.
        let mut last = posts(30, 100);
        assigner.end_with_next_batch();
        let labels = assign(&mut assigner, &mut last);
        assert!(labels.iter().all(Option::is_some), "{labels:?}");
        let model = assigner.unsaved().expect("a changed model to save").clone();
        assert_eq!(model.generation, 1);
        assigner.mark_saved();
        assert!(assigner.unsaved().is_none());
        // Later posts on the same subjects get the same ids; the model does not change.
        let mut later = posts(30, 200);
        assert_eq!(assign(&mut assigner, &mut later), labels);
        assert!(assigner.unsaved().is_none());
        // A model another writer saved is adopted as it is.
        let mut other = model.clone();
        other.generation = 7;
        assigner.adopt(other);
        assert_eq!(assigner.base(), 7);
        assert!(assigner.unsaved().is_none());
        // Posts without content (reposts) get no topic.
        let mut repost = posts(1, 300);
        repost[0].repost_of = Some("1".into());
        assert_eq!(assign(&mut assigner, &mut repost), [None]);
    }

    #[test]
    fn tweettopic_labels_follow_column_order() {
        let content =
            "{\"text\":\"a\",\"zeta\":1,\"alpha\":1}\n{\"alpha\":1,\"text\":\"b\",\"zeta\":0}\n";
        let (texts, truth, names) = read_tweettopic(content).unwrap();
        assert_eq!(texts, vec!["a", "b"]);
        assert_eq!(names, vec!["zeta", "alpha"]);
        assert_eq!(truth, vec![0, 1]);
        assert!(read_tweettopic("{\"zeta\":1}").is_err());
    }

    #[test]
    fn nmi_and_ari_of_known_labelings() {
        let (nmi, ari) = nmi_ari(&[0, 0, 1, 1], &[5, 5, 7, 7]);
        assert!((nmi - 1.0).abs() < 1e-9 && (ari - 1.0).abs() < 1e-9);
        let (nmi, _) = nmi_ari(&[0, 0, 1, 1], &[0, 1, 0, 1]);
        assert!(nmi.abs() < 1e-9);
        // sklearn: adjusted_rand_score([0,0,1,1,2,2],[0,0,1,2,2,2]) = 0.4444…
        let (_, ari) = nmi_ari(&[0, 0, 1, 1, 2, 2], &[0, 0, 1, 2, 2, 2]);
        assert!((ari - 0.444_444).abs() < 1e-4, "{ari}");
    }

    fn doc(vector: Vec<f32>, words: &[&str]) -> TopicDoc {
        let mut vector = vector;
        normalise(&mut vector);
        TopicDoc {
            words: words.iter().map(|w| (*w).to_owned()).collect(),
            vector,
            seeds: Vec::new(),
        }
    }

    #[test]
    fn topics_are_found_kept_and_extended() {
        let mut docs = Vec::new();
        for i in 0..30 {
            let jitter = (i as f32) * 0.001;
            docs.push(doc(vec![1.0, jitter, 0.0], &["price", "refund"]));
            docs.push(doc(vec![jitter, 1.0, 0.0], &["shortage", "pharmacy"]));
        }
        let options = TopicOptions { min_size: 3, ..TopicOptions::default() };
        let seeds = vec![SeedTopic { name: "access".into(), keywords: vec!["shortage".into()] }];
        let texts: Vec<String> = docs.iter().map(|d| d.words.join(" ")).collect();
        mark_seeds(&mut docs, &texts, &seeds);
        let mut model = TopicModel::default();
        let labels = update(&mut model, &docs, &options, &seeds);
        assert_eq!(model.topics.len(), 2);
        assert!(labels.iter().all(Option::is_some));
        assert_eq!(labels[0], labels[2]);
        assert_ne!(labels[0], labels[1]);
        let access = model.topics.iter().find(|t| t.seed.as_deref() == Some("access")).unwrap();
        assert!(access.terms.iter().any(|t| t.contains("shortage")), "{:?}", access.terms);
        // Same data, same seed: same model; updating again with the same posts changes nothing.
        let mut again = TopicModel::default();
        update(&mut again, &docs, &options, &seeds);
        assert_eq!(again, model);
        let before_again = again.clone();
        update(&mut again, &docs, &options, &seeds);
        assert_eq!(again, before_again);
        // A new subject becomes a new topic; the old ids stay.
        let before: Vec<u32> = model.topics.iter().map(|t| t.id).collect();
        let mut more = docs.clone();
        for i in 0..30 {
            more.push(doc(vec![0.0, (i as f32) * 0.001, 1.0], &["congress", "booth"]));
        }
        assert!(more[1].seeds == vec![0] && more[0].seeds.is_empty());
        let labels = update(&mut model, &more, &options, &seeds);
        assert_eq!(model.topics.len(), 3);
        assert_eq!(model.topics.iter().take(2).map(|t| t.id).collect::<Vec<_>>(), before);
        assert_eq!(labels[more.len() - 1], Some(model.topics[2].id));
    }
}
