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
        Box::new(SentimentAnnotator::new(sentiment(), sentiment_multilingual())),
        Box::new(EntitiesAnnotator::new(EntityMatcher::new(config))),
        Box::new(NeedsAnnotator),
        Box::new(SimHashAnnotator),
    ]
}

/// The shipped adverse-event / special-situation model (`waterline train adverse-events`).
pub const ADVERSE_EVENTS_MODEL: &[u8] =
    include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../models/adverse-events.wlm"));

/// The optional sentence-encoder head of the adverse-event detector
/// (`waterline train adverse-events-encoder --model DIR`; used only with an encoder, see
/// `pv::head`). About 10 KB.
pub const ADVERSE_EVENTS_ENCODER_HEAD: &[u8] =
    include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../models/adverse-events-encoder.wlm"));
