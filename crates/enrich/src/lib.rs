//! Enrichment: per-post annotations computed between import and store.
//!
//! Two kinds of steps, each with a stable name and a version:
//! - an [`Enricher`] fixes up the post itself (author details from known accounts, the
//!   side from the workspace's accounts);
//! - an [`Annotator`] reads the post's tokens (shared, computed once) and fills its
//!   [`Annotations`]: language, sentiment, needs, entities, the SimHash.
//!
//! A [`Chain`] runs them in parallel batches with rayon; [`Enrichment`] adds the one serial
//! step, near-duplicate grouping, which needs every earlier post. Steps never fail: a post
//! a step cannot handle gets a recorded skip reason (`Annotations::skipped`).

pub mod accounts;
pub mod annotators;
#[cfg(feature = "distill")]
pub mod distill;
pub mod draft;
pub mod embed;
#[cfg(feature = "encoder")]
pub mod encoder;
pub mod entities;
pub mod eval;
pub mod filter;
#[cfg(feature = "encoder")]
pub mod finetune;
pub mod language;
pub mod models;
pub mod neardup;
pub mod needs;
pub mod pv;
pub mod query;
pub mod sentiment;
pub mod side;
pub mod table;
pub mod text;
pub mod topics;
pub mod train;
pub mod words;

use rayon::prelude::*;
use waterline_model::{Annotations, Post};

pub use annotators::{
    EntitiesAnnotator, LanguageAnnotator, NeedsAnnotator, SentimentAnnotator, SimHashAnnotator,
};

/// Longest text analysed, in bytes; longer texts are analysed on their first part.
pub const MAX_ANALYSED_BYTES: usize = 20_000;

/// The part of a text that is analysed: at most [`MAX_ANALYSED_BYTES`], cut at a character
/// boundary.
pub fn analysed(text: &str) -> &str {
    let mut end = text.len().min(MAX_ANALYSED_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Fixes up a post (author details, side).
pub trait Enricher: Send + Sync {
    /// Stable snake_case name.
    fn name(&self) -> &'static str;
    /// Version; a change means stored posts need re-enrichment.
    fn version(&self) -> u32;
    /// Enriches one post. Never fails.
    fn enrich(&self, post: &mut Post);
}

/// The shared analysis of one post's text, filled step by step.
#[derive(Debug, Clone, Default)]
pub struct Analysis {
    /// The tokens of the (possibly truncated) text.
    pub tokens: Vec<text::Token>,
    /// The annotations so far.
    pub notes: Annotations,
    /// Sentiment probabilities (negative, neutral, positive), once computed.
    pub probabilities: Option<[f32; 3]>,
}

/// Adds annotations from a post's text.
pub trait Annotator: Send + Sync {
    /// Stable snake_case name (recorded in `enriched_with`).
    fn name(&self) -> &'static str;
    /// Version; a change means stored posts need re-enrichment (`waterline enrich`).
    fn version(&self) -> u32;
    /// Annotates one post. Never fails; records a skip reason instead.
    fn annotate(&self, post: &Post, analysis: &mut Analysis);
}

/// Enrichers then annotators, run over batches in parallel.
#[derive(Default)]
pub struct Chain {
    enrichers: Vec<Box<dyn Enricher>>,
    annotators: Vec<Box<dyn Annotator>>,
    known_word: Option<KnownWord>,
}

/// Tells whether a folded word is known (for splitting lower-case hashtags).
pub type KnownWord = Box<dyn Fn(&str) -> bool + Send + Sync>;

impl Chain {
    /// An empty chain.
    pub fn new() -> Chain {
        Chain::default()
    }

    /// Appends an enricher.
    #[must_use]
    pub fn with(mut self, enricher: Box<dyn Enricher>) -> Chain {
        self.enrichers.push(enricher);
        self
    }

    /// Appends an annotator.
    #[must_use]
    pub fn annotate_with(mut self, annotator: Box<dyn Annotator>) -> Chain {
        self.annotators.push(annotator);
        self
    }

    /// Lets hashtags split into words the function knows.
    #[must_use]
    pub fn with_known_words(mut self, known: KnownWord) -> Chain {
        self.known_word = Some(known);
        self
    }

    /// Names and versions of every step.
    pub fn describe(&self) -> Vec<(&'static str, u32)> {
        self.enrichers
            .iter()
            .map(|enricher| (enricher.name(), enricher.version()))
            .chain(self.annotators.iter().map(|annotator| (annotator.name(), annotator.version())))
            .collect()
    }

    /// The `enriched_with` value this chain records: `language@1 sentiment@1 …`.
    pub fn signature(&self) -> String {
        self.annotators
            .iter()
            .map(|annotator| format!("{}@{}", annotator.name(), annotator.version()))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// True when the chain has annotators.
    pub fn annotates(&self) -> bool {
        !self.annotators.is_empty()
    }

    /// Runs the enrichers, then the annotators, on one post.
    pub fn run_one(&self, post: &mut Post, signature: &str) {
        for enricher in &self.enrichers {
            enricher.enrich(post);
        }
        if self.annotators.is_empty() {
            return;
        }
        let mut analysis = Analysis::default();
        let text = analysed(&post.text);
        if text.len() < post.text.len() {
            analysis.notes.skip("text", &format!("analysed the first {MAX_ANALYSED_BYTES} bytes"));
        }
        let known = self.known_word.as_deref().map(|known| known as &dyn Fn(&str) -> bool);
        analysis.tokens = text::tokenize(text, known);
        for annotator in &self.annotators {
            annotator.annotate(post, &mut analysis);
        }
        analysis.notes.enriched_with = signature.to_owned();
        post.annotations = Some(Box::new(analysis.notes));
    }

    /// Runs the chain over every post, in parallel over posts.
    pub fn run<'a>(&self, posts: impl IntoParallelIterator<Item = &'a mut Post>) {
        let signature = self.signature();
        posts.into_par_iter().for_each(|post| self.run_one(post, &signature));
    }
}

/// The chain plus near-duplicate grouping, which is serial (it needs every earlier post).
pub struct Enrichment {
    /// The parallel steps.
    pub chain: Chain,
    /// Leaders of the near-duplicate groups seen so far.
    pub near_duplicates: neardup::NearDupIndex,
    /// Assigns each annotated post its topic; without it, a post keeps the topic it had.
    pub topics: Option<topics::Assigner>,
}

impl Enrichment {
    /// Enriches a batch: the chain in parallel, then near-duplicate groups in input order,
    /// then topics.
    pub fn run(&mut self, mut posts: Vec<&mut Post>) {
        let kept: Vec<Option<u32>> = match self.topics {
            Some(_) => Vec::new(),
            None => {
                posts.iter().map(|post| post.annotations.as_ref().and_then(|a| a.topic)).collect()
            }
        };
        let started = std::time::Instant::now();
        self.chain.run(posts.par_iter_mut().map(|post| &mut **post));
        if !self.chain.annotates() {
            return;
        }
        let chain_seconds = started.elapsed().as_secs_f64();
        for post in posts.iter_mut() {
            if let Some(notes) = post.annotations.as_deref_mut() {
                notes.duplicate_of = self.near_duplicates.assign(notes.simhash, &post.id);
            }
        }
        let grouped_seconds = started.elapsed().as_secs_f64();
        match &mut self.topics {
            Some(assigner) => {
                assigner.assign(&mut posts);
                tracing::debug!(
                    posts = posts.len(),
                    chain_seconds,
                    near_duplicates_seconds = grouped_seconds - chain_seconds,
                    topics_seconds = started.elapsed().as_secs_f64() - grouped_seconds,
                    "enriched a batch"
                );
            }
            None => {
                for (post, topic) in posts.iter_mut().zip(kept) {
                    if let Some(notes) = post.annotations.as_deref_mut() {
                        notes.topic = topic;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use chrono::Utc;
    use waterline_model::{Config, Sentiment};

    use super::*;

    fn enrichment() -> Enrichment {
        let config = Config::parse(waterline_model::config::EXAMPLE).unwrap();
        Enrichment {
            chain: models::default_chain(&config),
            near_duplicates: Default::default(),
            topics: None,
        }
    }

    fn post(id: &str, text: &str) -> Post {
        let mut post = Post::new("x", id, Utc::now());
        post.text = text.to_owned();
        post
    }

    /// A stand-in for the fine-tuned encoder: certain every text is negative.
    struct Gloomy;

    impl annotators::EnglishSentiment for Gloomy {
        fn probabilities(&self, _text: &str) -> Option<[f32; 3]> {
            Some([0.98, 0.01, 0.01])
        }
    }

    #[test]
    fn an_english_model_is_mixed_in_for_english_posts_only_and_changes_the_signature() {
        static GLOOMY: Gloomy = Gloomy;
        let chain = |english: Option<&'static dyn annotators::EnglishSentiment>| {
            Chain::new()
                .annotate_with(Box::new(LanguageAnnotator::new(models::language())))
                .annotate_with(Box::new(
                    SentimentAnnotator::new(models::sentiment(), models::sentiment_multilingual())
                        .with_english(english),
                ))
        };
        let text_en = "What a lovely day, I really enjoyed the concert with my friends";
        let text_fr = "Quelle belle journée, j'ai adoré le concert avec mes amis";
        let mut plain = [post("1", text_en), post("2", text_fr)];
        let mut mixed = [post("1", text_en), post("2", text_fr)];
        chain(None).run(&mut plain);
        chain(Some(&GLOOMY)).run(&mut mixed);
        let notes = |posts: &[Post; 2], index: usize| posts[index].annotations.clone().unwrap();
        assert_eq!(notes(&plain, 0).sentiment, Some(Sentiment::Positive));
        assert!(notes(&mixed, 0).sentiment_score < notes(&plain, 0).sentiment_score);
        assert_eq!(notes(&mixed, 1).sentiment, notes(&plain, 1).sentiment, "French untouched");
        assert_eq!(chain(None).signature(), "language@1 sentiment@1");
        assert_eq!(chain(Some(&GLOOMY)).signature(), "language@1 sentiment@2");
    }

    #[cfg(not(feature = "encoder"))]
    #[test]
    fn the_sentiment_encoder_option_without_the_feature_keeps_the_fast_model() {
        let mut config = Config::parse(waterline_model::config::EXAMPLE).unwrap();
        config.enrichment.sentiment_encoder = Some("/nonexistent/sentiment-encoder".into());
        assert!(models::english_sentiment(&config).is_none());
        assert!(models::default_chain(&config).signature().contains("sentiment@1"));
    }

    #[test]
    fn bad_inputs_get_skip_reasons_never_panics() {
        let mut enrichment = enrichment();
        let huge = "word ".repeat(20_000);
        let mut posts = [
            post("1", ""),
            post("2", &huge),
            post("3", "😀😀😀"),
            post("4", "\u{0}\u{1}\u{fffd}\u{e000}\u{10ffff}"),
            post("5", "   \n\t "),
            post("6", &"€".repeat(40_000)),
        ];
        enrichment.run(posts.iter_mut().collect());
        let notes: Vec<&Annotations> =
            posts.iter().map(|post| post.annotations.as_deref().unwrap()).collect();
        assert!(notes[0].skipped.as_deref().unwrap().contains("sentiment: no text"));
        assert!(notes[1].skipped.as_deref().unwrap().contains("analysed the first"));
        assert_eq!(notes[2].language.as_deref(), Some("und"));
        assert!(notes[2].sentiment.is_some(), "emoji carry sentiment");
        assert_eq!(notes[3].language.as_deref(), Some("und"));
        assert!(notes[4].skipped.is_some());
        assert!(notes[5].skipped.as_deref().unwrap().contains("analysed the first"));
        assert!(notes.iter().all(|notes| !notes.enriched_with.is_empty()));
    }

    #[test]
    fn a_platform_declaration_settles_short_and_latin_hindi_answers() {
        let mut enrichment = enrichment();
        let mut names =
            post("1", "Altavia Labs completes enrolment in a phase 3 study of rilmisartan");
        names.lang = Some("en".into());
        let mut hinglish = post("2", "yaar ye dawai bahut acchi hai, mujhe bahut aaram mila");
        hinglish.lang = None;
        let mut short = post("3", "ok");
        short.lang = Some("fr".into());
        let mut posts = [names, hinglish, short];
        enrichment.run(posts.iter_mut().collect());
        let languages: Vec<Option<&str>> = posts
            .iter()
            .map(|post| post.annotations.as_deref().and_then(|notes| notes.language.as_deref()))
            .collect();
        assert_eq!(languages, [Some("en"), Some("hi"), Some("fr")]);
    }

    #[test]
    fn a_post_is_annotated_end_to_end() {
        let mut enrichment = enrichment();
        let mut posts = [post(
            "1",
            "@acmehealth_fr Mon traitement Cardiozen ne marche pas, c'est inadmissible !! 😡",
        )];
        enrichment.run(posts.iter_mut().collect());
        let notes = posts[0].annotations.as_deref().unwrap();
        assert_eq!(notes.language.as_deref(), Some("fr"));
        assert_eq!(notes.sentiment, Some(Sentiment::Negative));
        assert_eq!(notes.need, Some(waterline_model::Need::Complaint));
        assert!(notes.addressed_to_brand);
        assert!(notes.entities.contains(&"brand:Acme Health".to_owned()), "{:?}", notes.entities);
        assert!(notes.entities.contains(&"product:Cardiozen".to_owned()), "{:?}", notes.entities);
    }
}
