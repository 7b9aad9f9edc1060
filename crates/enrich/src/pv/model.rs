//! The learned layer (ML-3): a logistic regression over hashed words and bigrams of the text
//! and over the lexicon's language-independent signals, trained with AdaGrad.
//!
//! Every training example is seen twice: once with all its features, once with the lexicon
//! signals only. The second view makes the signals carry the decision on their own, which is
//! what scores texts in a language the words were never trained on (French).
//!
//! Model file (`models/adverse-events.wlm`, the `.wlm` format of `table.rs`): one class
//! (`relevant`), the bias as default, section `features` (weights), section `meta` (the
//! operating threshold under the key `threshold`).

use std::collections::HashMap;

use super::lexicon::{Analysis, Signals};
use super::scan::Scan;
use crate::table::{Section, Table, TableError, feature, feature_parts};

/// A sparse feature: hashed key and value.
pub type Feature = (u32, f32);

/// The model's name in its file.
pub const NAME: &str = "adverse-events";

/// Words replaced by a placeholder: product names vary between drugs (cross-drug transfer).
const PRODUCT: &str = "<product>";

fn bucket(count: u32) -> u8 {
    match count {
        0 => 0,
        1 => 1,
        2 => 2,
        _ => 3,
    }
}

fn signal(out: &mut Vec<Feature>, name: &str, count: u32) {
    let level = bucket(count);
    if level > 0 {
        out.push((feature_parts(&[b"s", name.as_bytes(), &[level]]), 1.0));
    }
}

fn pair(out: &mut Vec<Feature>, first: &str, a: u32, second: &str, b: u32) {
    out.push((
        feature_parts(&[
            b"p",
            first.as_bytes(),
            &[u8::from(a > 0)],
            second.as_bytes(),
            &[u8::from(b > 0)],
        ]),
        1.0,
    ));
}

/// The lexicon-signal features (language independent).
pub fn signal_features(signals: &Signals, out: &mut Vec<Feature>) {
    signal(out, "reactions", signals.reactions);
    signal(out, "ambiguous", signals.ambiguous);
    signal(out, "negated", signals.negated);
    signal(out, "guarded", signals.guarded);
    signal(out, "links", signals.links);
    signal(out, "withdrawal", signals.withdrawal);
    signal(out, "efficacy", signals.efficacy);
    signal(out, "before", signals.before);
    signal(out, "hypothetical", signals.hypothetical);
    signal(out, "medinfo", signals.medinfo);
    signal(out, "news", signals.news);
    signal(out, "indication", signals.indication);
    signal(out, "questions", signals.questions);
    signal(out, "first_person", signals.first_person);
    let reactions = signals.reactions;
    pair(out, "reactions", reactions, "withdrawal", signals.withdrawal);
    pair(out, "reactions", reactions, "links", signals.links);
    pair(out, "reactions", reactions, "efficacy", signals.efficacy);
    pair(out, "reactions", reactions, "before", signals.before);
    pair(out, "reactions", reactions, "first_person", signals.first_person);
    pair(out, "ambiguous", signals.ambiguous, "before", signals.before);
    pair(out, "ambiguous", signals.ambiguous, "withdrawal", signals.withdrawal);
    for category in &signals.categories {
        out.push((feature_parts(&[b"c", category.code().as_bytes()]), 1.0));
    }
    if signals.categories.is_empty() {
        out.push((feature("c:none"), 1.0));
    }
    let length = match signals.words {
        0..=5 => 0u8,
        6..=12 => 1,
        13..=25 => 2,
        _ => 3,
    };
    out.push((feature_parts(&[b"len", &[length]]), 1.0));
}

/// The word features: folded words (marked when negated), product names replaced, bigrams.
pub fn word_features(scanned: &Scan, products: &[(usize, usize)], out: &mut Vec<Feature>) {
    let mut negation_left = 0u8;
    let mut previous: Option<(usize, &str)> = None;
    for word in &scanned.words {
        let in_product = products.iter().any(|(start, end)| word.start < *end && *start < word.end);
        let inn = super::cues::INN_SUFFIXES.iter().any(|suffix| word.norm.ends_with(suffix))
            && word.norm.len() > 5;
        let norm: &str = if in_product || inn { PRODUCT } else { &word.norm };
        if previous.is_some_and(|(sentence, _)| sentence != word.sentence) {
            negation_left = 0;
            previous = None;
        }
        let negated: &[u8] = if negation_left > 0 { b"~" } else { b"" };
        out.push((feature_parts(&[b"w", norm.as_bytes(), negated]), 1.0));
        if let Some((_, before)) = previous {
            out.push((feature_parts(&[b"b", before.as_bytes(), b" ", norm.as_bytes()]), 1.0));
        }
        negation_left = negation_left.saturating_sub(1);
        if super::cues::NEGATORS.contains(&norm) || norm.ends_with("n't") {
            negation_left = 3;
        }
        previous = Some((word.sentence, norm));
    }
}

/// Stemmed words (English Snowball): `gained`, `gaining` → `gain`.
fn stem_features(scanned: &Scan, out: &mut Vec<Feature>) {
    static STEMMER: std::sync::OnceLock<Option<rust_stemmers::Stemmer>> =
        std::sync::OnceLock::new();
    let Some(stemmer) = STEMMER.get_or_init(|| crate::words::stemmer("en")) else { return };
    for word in &scanned.words {
        if word.norm.len() > 3 && !word.number {
            out.push((feature_parts(&[b"t", stemmer.stem(&word.norm).as_bytes()]), 1.0));
        }
    }
}

/// The static embedding of the text's words (shipped `embeddings.wle`), as dense features.
fn embedding_features(text: &str, out: &mut Vec<Feature>) {
    let Some(table) = crate::models::embeddings() else { return };
    let tokens = crate::text::tokenize(text, None);
    let mut vector = Vec::new();
    if table.embed_tokens(&tokens, &mut vector) == 0 {
        return;
    }
    // The dimensions' feature keys, hashed once.
    static KEYS: std::sync::OnceLock<Vec<u32>> = std::sync::OnceLock::new();
    let keys = KEYS.get_or_init(|| {
        (0..table.dims).map(|index| feature_parts(&[b"e", &(index as u32).to_le_bytes()])).collect()
    });
    for (index, value) in vector.iter().enumerate() {
        let key = match keys.get(index) {
            Some(key) => *key,
            None => feature_parts(&[b"e", &(index as u32).to_le_bytes()]),
        };
        out.push((key, *value));
    }
}

/// Whether the static embeddings (distilled from an English model) are used for a language.
pub(crate) fn embeds(language: &str) -> bool {
    matches!(language, "en" | "" | "und")
}

/// All features of a text (`language`: ISO 639-1; the static embeddings are used for English
/// and undetermined texts only).
pub fn features(
    text: &str,
    language: &str,
    scanned: &Scan,
    analysis: &Analysis,
    products: &[(usize, usize)],
    out: &mut Vec<Feature>,
) {
    out.clear();
    word_features(scanned, products, out);
    stem_features(scanned, out);
    if embeds(language) {
        embedding_features(text, out);
    }
    signal_features(&analysis.signals, out);
}

fn sigmoid(value: f32) -> f32 {
    1.0 / (1.0 + (-value).exp())
}

/// The trained model.
#[derive(Debug, Clone)]
pub struct Model {
    table: Table,
    threshold: f32,
    without_evidence: f32,
    by_language: Vec<(String, f32)>,
    without_evidence_by_language: Vec<(String, f32)>,
}

/// The `meta` key of the threshold for texts without lexicon evidence (no flag).
pub const WITHOUT_EVIDENCE: &str = "threshold:none";

/// Languages that may have their own threshold in the model file (`threshold:fr`).
pub const THRESHOLD_LANGUAGES: [&str; 1] = ["fr"];

impl Model {
    /// Loads a model file.
    pub fn from_bytes(bytes: &[u8]) -> Result<Model, TableError> {
        Model::from_table(Table::from_bytes(bytes)?)
    }

    /// Wraps a table (checked).
    pub fn from_table(table: Table) -> Result<Model, TableError> {
        if table.name != NAME
            || table.classes.is_empty()
            || table.defaults.len() != table.classes.len()
        {
            return Err(TableError::Format("not an adverse-events model".into()));
        }
        let threshold = table
            .section("meta")
            .and_then(|meta| meta.get(feature("threshold"), table.classes.len()))
            .and_then(|values| values.first().copied())
            .unwrap_or(0.5);
        let without_evidence = table
            .section("meta")
            .and_then(|meta| meta.get(feature(WITHOUT_EVIDENCE), table.classes.len()))
            .and_then(|values| values.first().copied())
            .unwrap_or(threshold);
        let by_language = THRESHOLD_LANGUAGES
            .iter()
            .filter_map(|language| {
                let key = feature(&format!("threshold:{language}"));
                let value = table.section("meta")?.get(key, table.classes.len())?.first()?;
                Some(((*language).to_owned(), *value))
            })
            .collect();
        let without_evidence_by_language = THRESHOLD_LANGUAGES
            .iter()
            .filter_map(|language| {
                let key = feature(&format!("{WITHOUT_EVIDENCE}:{language}"));
                let value = table.section("meta")?.get(key, table.classes.len())?.first()?;
                Some(((*language).to_owned(), *value))
            })
            .collect();
        Ok(Model { table, threshold, without_evidence, by_language, without_evidence_by_language })
    }

    /// The table.
    pub fn table(&self) -> &Table {
        &self.table
    }

    /// The operating threshold stored in the file.
    pub fn threshold(&self) -> f32 {
        self.threshold
    }

    /// The threshold for texts with no lexicon evidence (no flag): higher, since such a text
    /// has no reaction a PV reader could check.
    pub fn threshold_without_evidence(&self) -> f32 {
        self.without_evidence
    }

    /// The thresholds of languages that have their own (`fr`).
    pub fn language_thresholds(&self) -> &[(String, f32)] {
        &self.by_language
    }

    /// The no-evidence thresholds of languages that have their own (`fr`).
    pub fn language_thresholds_without_evidence(&self) -> &[(String, f32)] {
        &self.without_evidence_by_language
    }

    /// The probability-like score of features: the probability of the first class.
    pub fn score(&self, features: &[Feature]) -> f32 {
        let classes = self.table.classes.len();
        let mut scores = self.table.defaults.clone();
        if let Some(weights) = self.table.section("features") {
            for (key, value) in features {
                if let Some(row) = weights.get(*key, classes) {
                    for (score, weight) in scores.iter_mut().zip(row) {
                        *score += weight * value;
                    }
                }
            }
        }
        if classes == 1 {
            return sigmoid(scores.first().copied().unwrap_or(0.0));
        }
        softmax(&mut scores);
        scores.first().copied().unwrap_or(0.0)
    }
}

/// The classes of the model: PV-relevant first, then the kinds of other sentences PsyTAR
/// labels (withdrawal, efficacy, inefficacy, disease or symptom talk) and the rest. Only
/// the first class's probability is the score; the others give the model room to tell a
/// withdrawal symptom or a disease symptom from a reaction.
pub const CLASSES: [&str; 6] =
    ["relevant", "withdrawal", "efficacy", "inefficacy", "disease", "other"];

/// The class index of texts that are not PV-relevant and of no particular kind.
pub const OTHER: usize = 5;

/// One training example: features of the full view, of the lexicon-only view, and the class.
#[derive(Debug, Clone)]
pub struct Encoded {
    /// All features.
    pub full: Vec<Feature>,
    /// Lexicon signals only.
    pub signals: Vec<Feature>,
    /// The class (0: PV-relevant; see [`CLASSES`]).
    pub class: usize,
}

/// Training settings.
#[derive(Debug, Clone, Copy)]
pub struct TrainOptions {
    /// Passes over the data.
    pub epochs: usize,
    /// AdaGrad learning rate.
    pub learning_rate: f32,
    /// L2 penalty per update.
    pub l2: f32,
    /// Shuffling seed.
    pub seed: u64,
}

impl Default for TrainOptions {
    fn default() -> Self {
        // A small learning rate: tried 0.005–0.1 cross-drug, 0.01 gave the best precision
        // at recall 0.95.
        TrainOptions { epochs: 12, learning_rate: 0.01, l2: 1e-4, seed: 11 }
    }
}

fn dedup(mut features: Vec<Feature>) -> Vec<Feature> {
    features.sort_by_key(|(key, _)| *key);
    features.dedup_by(|later, earlier| {
        if later.0 == earlier.0 {
            earlier.1 += later.1;
            true
        } else {
            false
        }
    });
    features
}

/// Encodes a text for training.
pub fn encode(text: &str, language: &str, class: usize) -> Encoded {
    let text = crate::analysed(text);
    let scanned = super::scan::scan(text);
    let analysis = super::lexicon::analyse_scanned(text, &scanned);
    let mut full = Vec::new();
    features(text, language, &scanned, &analysis, &[], &mut full);
    let mut signals = Vec::new();
    signal_features(&analysis.signals, &mut signals);
    Encoded { full: dedup(full), signals: dedup(signals), class: class.min(CLASSES.len() - 1) }
}

/// Softmax in place (shared with the encoder head).
pub(crate) fn softmax(scores: &mut [f32]) {
    let largest = scores.iter().fold(f32::MIN, |largest, score| largest.max(*score));
    let mut total = 0.0;
    for score in scores.iter_mut() {
        *score = (*score - largest).exp();
        total += *score;
    }
    for score in scores.iter_mut() {
        *score /= total;
    }
}

/// Trains the weights (deterministic for the same examples and options).
pub fn train(examples: &[Encoded], options: TrainOptions, threshold: f32) -> Table {
    const K: usize = CLASSES.len();
    let mut weights: HashMap<u32, ([f32; K], [f32; K])> = HashMap::new();
    let mut bias = [0f32; K];
    let mut bias_squares = [1e-6f32; K];
    let mut views: Vec<(&[Feature], usize)> = Vec::new();
    for example in examples {
        views.push((&example.full, example.class));
        views.push((&example.signals, example.class));
    }
    let mut order: Vec<usize> = (0..views.len()).collect();
    let mut shuffler = crate::train::Shuffler::new(options.seed);
    let mut probabilities = [0f32; K];
    for _ in 0..options.epochs {
        shuffler.shuffle(&mut order);
        for &example in &order {
            let (features, class) = views[example];
            probabilities = bias;
            for (key, value) in features {
                if let Some((row, _)) = weights.get(key) {
                    for (probability, weight) in probabilities.iter_mut().zip(row) {
                        *probability += weight * value;
                    }
                }
            }
            softmax(&mut probabilities);
            let gradients: [f32; K] = std::array::from_fn(|index| {
                probabilities[index] - if index == class { 1.0 } else { 0.0 }
            });
            for index in 0..K {
                bias_squares[index] += gradients[index] * gradients[index];
                bias[index] -=
                    options.learning_rate * gradients[index] / bias_squares[index].sqrt();
            }
            for (key, value) in features {
                let (row, squares) = weights.entry(*key).or_insert(([0.0; K], [1e-6; K]));
                for index in 0..K {
                    let step = gradients[index] * value + options.l2 * row[index];
                    squares[index] += step * step;
                    row[index] -= options.learning_rate * step / squares[index].sqrt();
                }
            }
        }
    }
    let _ = probabilities;
    let rows: Vec<(u32, Vec<f32>)> = weights
        .into_iter()
        .filter(|(_, (row, _))| row.iter().any(|weight| weight.abs() > 1e-3))
        .map(|(key, (row, _))| (key, row.to_vec()))
        .collect();
    Table {
        name: NAME.into(),
        classes: CLASSES.iter().map(|class| (*class).to_owned()).collect(),
        defaults: bias.to_vec(),
        sections: vec![Section::new("features", rows), meta(threshold)],
    }
}

/// Sets the thresholds of a trained table: the default one (texts with lexicon evidence), the
/// one for texts without evidence, and per-language ones.
pub fn with_threshold(
    mut table: Table,
    threshold: f32,
    without_evidence: f32,
    by_language: &[(&str, f32, f32)],
) -> Table {
    table.sections.retain(|section| section.name != "meta");
    let mut rows = vec![
        (feature("threshold"), vec![threshold; CLASSES.len()]),
        (feature(WITHOUT_EVIDENCE), vec![without_evidence; CLASSES.len()]),
    ];
    for (language, value, without) in by_language {
        rows.push((feature(&format!("threshold:{language}")), vec![*value; CLASSES.len()]));
        rows.push((
            feature(&format!("{WITHOUT_EVIDENCE}:{language}")),
            vec![*without; CLASSES.len()],
        ));
    }
    table.sections.push(Section::new("meta", rows));
    table
}

/// The `meta` section: the threshold (repeated per class, as sections hold one value per class).
fn meta(threshold: f32) -> Section {
    Section::new("meta", vec![(feature("threshold"), vec![threshold; CLASSES.len()])])
}
