//! The shipped models and the default chain.
//!
//! `models/language.wlm`, `models/sentiment.wlm` and `models/sentiment-multilingual.wlm`
//! (at the repository root) are built by `waterline train language|sentiment|sentiment-multilingual` from public data the data README allows for a shipped
//! model, and compiled into the binary. A missing or unreadable model never stops the
//! product: its annotator records `model unavailable` as the skip reason.

use std::sync::LazyLock;

use waterline_model::Config;

use crate::entities::EntityMatcher;
use crate::language::LanguageModel;
use crate::sentiment::SentimentModel;
use crate::side::SideEnricher;
use crate::table::feature_parts;
use crate::{
    Annotator, Chain, EntitiesAnnotator, LanguageAnnotator, NeedsAnnotator, SentimentAnnotator,
    SimHashAnnotator,
};

/// The shipped language model file.
pub const LANGUAGE_MODEL: &[u8] =
    include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../models/language.wlm"));
/// The shipped sentiment model file.
pub const SENTIMENT_MODEL: &[u8] =
    include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../models/sentiment.wlm"));

/// The shipped fallback sentiment model (all eight UMSAB languages) for texts in neither
/// English nor French.
pub const SENTIMENT_MULTILINGUAL_MODEL: &[u8] =
    include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../models/sentiment-multilingual.wlm"));

static SENTIMENT_MULTILINGUAL: LazyLock<Option<SentimentModel>> =
    LazyLock::new(|| SentimentModel::from_bytes(SENTIMENT_MULTILINGUAL_MODEL).ok());

/// The shipped static word embeddings (`waterline train embeddings`).
pub const EMBEDDINGS: &[u8] =
    include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../models/embeddings.wle"));

static EMBEDDING_TABLE: LazyLock<Option<crate::embed::Embeddings>> =
    LazyLock::new(|| crate::embed::Embeddings::from_bytes(EMBEDDINGS).ok());

/// The shipped static word embeddings, when they load.
pub fn embeddings() -> Option<&'static crate::embed::Embeddings> {
    EMBEDDING_TABLE.as_ref()
}

static LANGUAGE: LazyLock<Option<LanguageModel>> =
    LazyLock::new(|| LanguageModel::from_bytes(LANGUAGE_MODEL).ok());
static SENTIMENT: LazyLock<Option<SentimentModel>> =
    LazyLock::new(|| SentimentModel::from_bytes(SENTIMENT_MODEL).ok());

/// The shipped language model, when it loads.
pub fn language() -> Option<&'static LanguageModel> {
    LANGUAGE.as_ref()
}

/// The shipped sentiment model, when it loads.
pub fn sentiment() -> Option<&'static SentimentModel> {
    SENTIMENT.as_ref()
}

/// The shipped multilingual fallback sentiment model, when it loads.
pub fn sentiment_multilingual() -> Option<&'static SentimentModel> {
    SENTIMENT_MULTILINGUAL.as_ref()
}

/// The sentiment model for a language: the English and French model for `en`, `fr` and
/// undetermined texts, the multilingual fallback for the others (when it loads).
pub fn sentiment_for(language: &str) -> Option<&'static SentimentModel> {
    match language {
        "en" | "fr" | "und" => sentiment(),
        _ => sentiment_multilingual().or_else(sentiment),
    }
}

/// True when `word` (folded) is a word Waterline knows: a stop word, a lexicon word or a
/// word of the language model's vocabulary. Used to split lower-case hashtags.
pub fn is_known_word(word: &str) -> bool {
    if crate::words::STOP_WORDS.any(word) {
        return true;
    }
    if let Some(model) = sentiment()
        && model.knows_word(word)
    {
        return true;
    }
    language().is_some_and(|model| model.has_feature(feature_parts(&[b"w", word.as_bytes()])))
}

/// The default chain for a workspace: side, then language, sentiment, entities, needs and
/// the SimHash. (Author details from accounts files are prepended by the importer.)
pub fn default_chain(config: &Config) -> Chain {
    default_annotators(config)
        .into_iter()
        .fold(
            Chain::new().with(Box::new(SideEnricher::new(config.side_resolver()))),
            Chain::annotate_with,
        )
        .with_known_words(Box::new(is_known_word))
}

/// The annotators of the default chain, in order: language, sentiment (which needs the
/// language), entities, needs (which need both) and the SimHash.
pub fn default_annotators(config: &Config) -> Vec<Box<dyn Annotator>> {
    vec![
        Box::new(LanguageAnnotator::new(language())),
        Box::new(
            SentimentAnnotator::new(sentiment(), sentiment_multilingual())
                .with_english(english_sentiment(config)),
        ),
        Box::new(EntitiesAnnotator::new(EntityMatcher::new(config))),
        Box::new(NeedsAnnotator),
        Box::new(SimHashAnnotator),
    ]
}

/// The optional fine-tuned English sentiment model of a workspace (`[enrichment]
/// sentiment_encoder`), loaded once per folder and kept for the process. A folder that does
/// not load, or a binary built without the feature, logs why once and leaves the fast model.
pub fn english_sentiment(
    config: &Config,
) -> Option<&'static dyn crate::annotators::EnglishSentiment> {
    let folder = config.enrichment.sentiment_encoder.as_deref()?;
    fine_tuned_sentiment(folder)
}

#[cfg(feature = "encoder")]
fn fine_tuned_sentiment(folder: &str) -> Option<&'static dyn crate::annotators::EnglishSentiment> {
    use std::collections::HashMap;
    use std::sync::Mutex;
    static LOADED: LazyLock<Mutex<HashMap<String, Option<&'static crate::finetune::Classifier>>>> =
        LazyLock::new(Default::default);
    let mut loaded = LOADED.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let classifier = *loaded.entry(folder.to_owned()).or_insert_with(|| {
        match crate::finetune::Classifier::load(std::path::Path::new(folder)) {
            Ok(classifier) if classifier.classes() == 3 => {
                tracing::info!("English sentiment: the fine-tuned encoder in `{folder}`");
                Some(&*Box::leak(Box::new(classifier)))
            }
            Ok(_) => {
                tracing::error!(
                    "`{folder}` is not a three-class sentiment encoder: the fast model scores English posts"
                );
                None
            }
            Err(error) => {
                tracing::error!(
                    "the sentiment encoder in `{folder}` did not load ({error}): the fast model scores English posts"
                );
                None
            }
        }
    });
    classifier.map(|classifier| classifier as &'static dyn crate::annotators::EnglishSentiment)
}

#[cfg(not(feature = "encoder"))]
fn fine_tuned_sentiment(folder: &str) -> Option<&'static dyn crate::annotators::EnglishSentiment> {
    static WARNED: std::sync::Once = std::sync::Once::new();
    WARNED.call_once(|| {
        tracing::error!(
            "[enrichment] sentiment_encoder = `{folder}` needs a binary built with `--features encoder` (docs/adr/012-fine-tuned-encoder.md): the fast model scores English posts"
        );
    });
    None
}

/// The shipped adverse-event / special-situation model (`waterline train adverse-events`).
pub const ADVERSE_EVENTS_MODEL: &[u8] =
    include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../models/adverse-events.wlm"));

/// The optional sentence-encoder head of the adverse-event detector
/// (`waterline train adverse-events-encoder --model DIR`; used only with an encoder, see
/// `pv::head`). About 10 KB.
pub const ADVERSE_EVENTS_ENCODER_HEAD: &[u8] =
    include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../models/adverse-events-encoder.wlm"));
