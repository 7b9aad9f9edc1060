//! The annotators of the default chain.

use waterline_model::{Need, Post};

use crate::entities::EntityMatcher;
use crate::language::{LanguageModel, UNDETERMINED};
use crate::sentiment::SentimentModel;
use crate::text::Kind;
use crate::{Analysis, Annotator};

fn has_text(analysis: &Analysis) -> bool {
    !analysis.tokens.is_empty()
}

/// Language identification (see [`crate::language`]).
pub struct LanguageAnnotator {
    model: Option<&'static LanguageModel>,
}

impl LanguageAnnotator {
    /// Uses `model`; without one, every post gets a skip reason.
    pub fn new(model: Option<&'static LanguageModel>) -> LanguageAnnotator {
        LanguageAnnotator { model }
    }
}

impl Annotator for LanguageAnnotator {
    fn name(&self) -> &'static str {
        "language"
    }

    fn version(&self) -> u32 {
        1
    }

    fn annotate(&self, post: &Post, analysis: &mut Analysis) {
        if !has_text(analysis) {
            analysis.notes.skip("language", "no text");
            return;
        }
        let Some(model) = self.model else {
            analysis.notes.skip("language", "model unavailable");
            return;
        };
        let detection = model.detect(crate::analysed(&post.text));
        let mut language = detection.language;
        // Trust the platform's declaration of a known language when the text is too short to
        // tell, or when the model says Latin-script Hindi: that class is the one that catches
        // English heavy with brand and drug names ("Meridian presents Glycora data").
        if (language == UNDETERMINED || language == "hi")
            && let Some(declared) = post.lang.as_deref()
            && let Some(known) = crate::language::LANGUAGES.iter().find(|code| **code == declared)
        {
            language = known;
        }
        if language == UNDETERMINED && !analysis.tokens.iter().any(|token| token.kind == Kind::Word)
        {
            analysis.notes.skip("language", "no words");
        }
        analysis.notes.language = Some(language.to_owned());
    }
}

/// Sentiment (see [`crate::sentiment`]): the English and French model, or the multilingual
/// fallback for other detected languages.
pub struct SentimentAnnotator {
    model: Option<&'static SentimentModel>,
    fallback: Option<&'static SentimentModel>,
    english: Option<&'static dyn EnglishSentiment>,
}

/// A heavier English sentiment model mixed with the fast one for English posts (the
/// optional fine-tuned encoder, `[enrichment] sentiment_encoder`; see
/// [`crate::sentiment::mixed`]).
pub trait EnglishSentiment: Send + Sync {
    /// Probabilities of negative, neutral and positive, or `None` when the text could not
    /// be scored (the fast model then answers).
    fn probabilities(&self, text: &str) -> Option<[f32; 3]>;
}

impl SentimentAnnotator {
    /// Uses `model` for English, French and undetermined texts and `fallback` (when given)
    /// for other languages; without a model, every post gets a skip reason.
    pub fn new(
        model: Option<&'static SentimentModel>,
        fallback: Option<&'static SentimentModel>,
    ) -> SentimentAnnotator {
        SentimentAnnotator { model, fallback, english: None }
    }

    /// Scores English posts with `english` mixed with the fast model.
    pub fn with_english(mut self, english: Option<&'static dyn EnglishSentiment>) -> Self {
        self.english = english;
        self
    }
}

impl Annotator for SentimentAnnotator {
    fn name(&self) -> &'static str {
        "sentiment"
    }

    fn version(&self) -> u32 {
        // A different model for English posts is a different annotation: `waterline enrich
        // --all` re-annotates when the option is switched.
        if self.english.is_some() { 2 } else { 1 }
    }

    fn annotate(&self, post: &Post, analysis: &mut Analysis) {
        if !has_text(analysis) {
            analysis.notes.skip("sentiment", "no text");
            return;
        }
        let language = analysis.notes.language.as_deref().unwrap_or(UNDETERMINED);
        if language == "en"
            && let Some(model) = self.model
            && let Some(probabilities) =
                self.english.and_then(|english| english.probabilities(crate::analysed(&post.text)))
        {
            let fast = model.predict_tokens(&analysis.tokens, language).probabilities;
            let prediction = crate::sentiment::Prediction::from_probabilities(
                crate::sentiment::mixed(fast, probabilities),
            );
            analysis.notes.sentiment = Some(prediction.sentiment);
            analysis.notes.sentiment_score = Some((prediction.score() * 1000.0).round() / 1000.0);
            analysis.probabilities = Some(prediction.probabilities);
            return;
        }
        let model = match language {
            "en" | "fr" | UNDETERMINED => self.model,
            _ => self.fallback.or(self.model),
        };
        let Some(model) = model else {
            analysis.notes.skip("sentiment", "model unavailable");
            return;
        };
        let prediction = model.predict_tokens(&analysis.tokens, language);
        analysis.notes.sentiment = Some(prediction.sentiment);
        analysis.notes.sentiment_score = Some((prediction.score() * 1000.0).round() / 1000.0);
        analysis.probabilities = Some(prediction.probabilities);
    }
}

/// Brand, product and competitor mentions (see [`crate::entities`]).
pub struct EntitiesAnnotator {
    matcher: EntityMatcher,
}

impl EntitiesAnnotator {
    /// Uses a workspace's dictionary.
    pub fn new(matcher: EntityMatcher) -> EntitiesAnnotator {
        EntitiesAnnotator { matcher }
    }
}

impl Annotator for EntitiesAnnotator {
    fn name(&self) -> &'static str {
        "entities"
    }

    fn version(&self) -> u32 {
        1
    }

    fn annotate(&self, post: &Post, analysis: &mut Analysis) {
        let found = self.matcher.find(
            crate::analysed(&post.text),
            &analysis.tokens,
            &post.mentions,
            post.reply_to_author.as_deref(),
        );
        analysis.notes.entities = found.entities;
        analysis.notes.addressed_to_brand = found.addressed_to_brand;
    }
}

/// Question, complaint, request or none (see [`crate::needs`]); runs after sentiment and
/// entities, whose results it uses.
pub struct NeedsAnnotator;

impl Annotator for NeedsAnnotator {
    fn name(&self) -> &'static str {
        "needs"
    }

    fn version(&self) -> u32 {
        1
    }

    fn annotate(&self, _post: &Post, analysis: &mut Analysis) {
        if !has_text(analysis) {
            analysis.notes.skip("needs", "no text");
            analysis.notes.need = Some(Need::None);
            return;
        }
        let (need, _) = crate::needs::classify(
            &analysis.tokens,
            analysis.probabilities,
            analysis.notes.addressed_to_brand,
        );
        analysis.notes.need = Some(need);
    }
}

/// The SimHash for near-duplicate grouping (see [`crate::neardup`]).
pub struct SimHashAnnotator;

impl Annotator for SimHashAnnotator {
    fn name(&self) -> &'static str {
        "near_duplicates"
    }

    fn version(&self) -> u32 {
        1
    }

    fn annotate(&self, _post: &Post, analysis: &mut Analysis) {
        analysis.notes.simhash = crate::neardup::simhash(&analysis.tokens);
    }
}
