//! Sentiment (negative / neutral / positive) for social posts.
//!
//! A multinomial logistic regression over hashed sparse features of the shared tokens
//! (words with their negation scope, bigrams, hashtags, emoji, emoticons, `!`/`?`,
//! elongation, capitals) plus lexicon features: the VADER (English) and VADER-FR valences,
//! negation-aware, baked into the model file by `waterline train sentiment` (both lexicons
//! are MIT-licensed). Trained on the UMSAB English and French training splits and the
//! TweetEval validation tweets that UMSAB does not already hold; measured on the held-out
//! UMSAB validation splits. Other languages use the same model (the documented fallback:
//! emoji, emoticons, punctuation and any English or French words carry the signal).

use std::collections::HashMap;

use waterline_model::Sentiment;

use crate::table::{Section, Table, TableError, feature_parts};
use crate::text::{Kind, Token, emoticon_valence, fold, tokenize};

/// A sparse feature: hashed key and value.
pub type Feature = (u32, f32);

const LEXICON_KEYS: [&str; 4] = ["lex:positive", "lex:negative", "lex:compound", "lex:count"];

/// Lexicon evidence summed over a text: positive and negative valence and the number of hits.
#[derive(Default)]
struct Tone {
    positive: f32,
    negative: f32,
    hits: f32,
}

impl Tone {
    fn add(&mut self, valence: f32) {
        if valence > 0.0 {
            self.positive += valence;
        } else {
            self.negative -= valence;
        }
        self.hits += 1.0;
    }

    /// The four lexicon features (none when no lexicon entry was hit).
    fn push_features(&self, out: &mut Vec<Feature>) {
        if self.hits == 0.0 {
            return;
        }
        let sum = self.positive - self.negative;
        let compound = sum / (sum * sum + 15.0).sqrt();
        let values =
            [self.positive / 4.0, self.negative / 4.0, compound * 2.0, (self.hits / 4.0).min(1.0)];
        for (key, value) in LEXICON_KEYS.iter().zip(values) {
            out.push((feature_parts(&[key.as_bytes()]), value));
        }
    }
}

fn bigram(previous: Option<&str>, norm: &str, out: &mut Vec<Feature>) {
    if let Some(previous) = previous {
        out.push((feature_parts(&[b"b", previous.as_bytes(), b" ", norm.as_bytes()]), 1.0));
    }
}

/// The features of a tokenised text. `lexicon` holds valences keyed by language and word.
pub fn features(
    tokens: &[Token],
    language: &str,
    lexicon: Option<&Section>,
    out: &mut Vec<Feature>,
) {
    out.clear();
    let mut previous: Option<&str> = None;
    let mut tone = Tone::default();
    let mut flags = [false; 6];
    for token in tokens {
        match token.kind {
            Kind::Word | Kind::HashtagWord | Kind::Number => {
                let negated: &[u8] = if token.negated { b"~" } else { b"" };
                out.push((feature_parts(&[b"w", token.norm.as_bytes(), negated]), 1.0));
                bigram(previous, &token.norm, out);
                previous = Some(&token.norm);
                if let Some(valence) =
                    lexicon.and_then(|lexicon| lookup(lexicon, language, &token.norm))
                {
                    let mut valence = valence;
                    if token.negated {
                        valence *= -0.74;
                    }
                    if token.shouting {
                        valence *= 1.3;
                    }
                    if token.elongated {
                        valence *= 1.15;
                    }
                    tone.add(valence);
                }
                flags[0] |= token.elongated;
                flags[1] |= token.shouting;
            }
            Kind::Hashtag => out.push((feature_parts(&[b"h", token.norm.as_bytes()]), 1.0)),
            Kind::Emoji => {
                out.push((feature_parts(&[b"e", token.norm.as_bytes()]), 1.0));
                bigram(previous, &token.norm, out);
                previous = Some(&token.norm);
                if let Some(valence) =
                    lexicon.and_then(|lexicon| lookup(lexicon, "emoji", &token.norm))
                {
                    tone.add(valence);
                }
            }
            Kind::Emoticon => {
                let valence = emoticon_valence(&token.norm);
                out.push((feature_parts(&[b"o", &[valence as u8]]), 1.0));
                if valence != 0 {
                    tone.add(f32::from(valence) * 2.0);
                }
            }
            Kind::Punct => {
                if token.norm == "!" {
                    flags[2] = true;
                } else if token.norm == "?" {
                    flags[3] = true;
                }
                previous = None;
            }
            Kind::Mention => flags[4] = true,
            Kind::Url => flags[5] = true,
        }
    }
    for (index, set) in flags.iter().enumerate() {
        if *set {
            out.push((feature_parts(&[b"f", &[index as u8]]), 1.0));
        }
    }
    tone.push_features(out);
}

fn lookup(lexicon: &Section, language: &str, norm: &str) -> Option<f32> {
    let languages: &[&str] = match language {
        "en" | "fr" | "emoji" => &[language],
        _ => &["en", "fr"],
    };
    languages.iter().find_map(|language| {
        lexicon.get(lexicon_key(language, norm), 3).and_then(|values| values.first().copied())
    })
}

/// The key of a word's valence in the lexicon section.
pub fn lexicon_key(language: &str, norm: &str) -> u32 {
    feature_parts(&[b"L", language.as_bytes(), b":", norm.as_bytes()])
}

/// A prediction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prediction {
    /// The label.
    pub sentiment: Sentiment,
    /// Probabilities of negative, neutral and positive.
    pub probabilities: [f32; 3],
}

/// The share of the optional fine-tuned encoder when it is mixed with the fast model for
/// English (docs/adr/012-fine-tuned-encoder.md): equal shares, fixed before measuring.
pub const ENCODER_SHARE: f32 = 0.5;

/// Mixes the fast model's probabilities with the fine-tuned encoder's: a weighted geometric
/// mean (a sum of log-probabilities, as the adverse-event head mixes in log-odds),
/// normalised to sum to one.
pub fn mixed(fast: [f32; 3], encoder: [f32; 3]) -> [f32; 3] {
    let scores: [f32; 3] = std::array::from_fn(|k| {
        (1.0 - ENCODER_SHARE) * fast[k].max(1e-6).ln() + ENCODER_SHARE * encoder[k].max(1e-6).ln()
    });
    softmax(scores)
}

impl Prediction {
    /// The prediction of probabilities (negative, neutral, positive): the most likely label.
    pub fn from_probabilities(probabilities: [f32; 3]) -> Prediction {
        let best = argmax(&probabilities);
        Prediction {
            sentiment: Sentiment::from_label(best).unwrap_or(Sentiment::Neutral),
            probabilities,
        }
    }

    /// P(positive) − P(negative).
    pub fn score(&self) -> f32 {
        self.probabilities[2] - self.probabilities[0]
    }
}

/// The sentiment model.
pub struct SentimentModel {
    table: Table,
}

impl SentimentModel {
    /// Loads a model file.
    pub fn from_bytes(bytes: &[u8]) -> Result<SentimentModel, TableError> {
        let table = Table::from_bytes(bytes)?;
        if table.name != "sentiment" || table.classes.len() != 3 {
            return Err(TableError::Format("not a sentiment model".into()));
        }
        Ok(SentimentModel { table })
    }

    /// Wraps a freshly trained table.
    pub fn from_table(table: Table) -> SentimentModel {
        SentimentModel { table }
    }

    /// True when `word` (folded) is in the English or French lexicon.
    pub fn knows_word(&self, word: &str) -> bool {
        self.table.section("lexicon").is_some_and(|lexicon| {
            ["en", "fr"]
                .iter()
                .any(|language| lexicon.get(lexicon_key(language, word), 3).is_some())
        })
    }

    /// Predicts from tokens (see [`tokenize`]) and the text's language.
    pub fn predict_tokens(&self, tokens: &[Token], language: &str) -> Prediction {
        let mut buffer = Vec::new();
        features(tokens, language, self.table.section("lexicon"), &mut buffer);
        let weights = self.table.section("features");
        let mut scores = [0f32; 3];
        scores.copy_from_slice(&self.table.defaults[..3]);
        if let Some(weights) = weights {
            for (key, value) in &buffer {
                if let Some(row) = weights.get(*key, 3) {
                    for (score, weight) in scores.iter_mut().zip(row) {
                        *score += weight * value;
                    }
                }
            }
        }
        let probabilities = softmax(scores);
        let best = argmax(&probabilities);
        Prediction {
            sentiment: Sentiment::from_label(best).unwrap_or(Sentiment::Neutral),
            probabilities,
        }
    }

    /// Predicts from a raw text.
    pub fn predict(&self, text: &str, language: &str) -> Prediction {
        self.predict_tokens(&tokenize(text, None), language)
    }
}

fn softmax(scores: [f32; 3]) -> [f32; 3] {
    let largest = scores.iter().fold(f32::MIN, |largest, score| largest.max(*score));
    let exps = scores.map(|score| (score - largest).exp());
    let total: f32 = exps.iter().sum();
    exps.map(|value| value / total)
}

fn argmax(values: &[f32]) -> usize {
    let mut best = 0;
    for (index, value) in values.iter().enumerate() {
        if *value > values[best] {
            best = index;
        }
    }
    best
}

/// Lexicons to bake into the model: `(language, word, valence)`; `language` is `en`, `fr`
/// or `emoji`.
pub type LexiconEntries = Vec<(String, String, f32)>;

/// One training example: text, language code, label (0 negative, 1 neutral, 2 positive).
pub type Example = (String, String, usize);

/// Training settings.
#[derive(Debug, Clone, Copy)]
pub struct TrainOptions {
    /// Passes over the data.
    pub epochs: usize,
    /// Initial learning rate (AdaGrad).
    pub learning_rate: f32,
    /// L2 penalty per update.
    pub l2: f32,
    /// Features seen in fewer examples are dropped.
    pub min_count: u32,
    /// Shuffling seed.
    pub seed: u64,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions { epochs: 10, learning_rate: 0.02, l2: 0.0, min_count: 1, seed: 7 }
    }
}

/// Trains the model (deterministic for the same examples, lexicon and options).
pub fn train(examples: &[Example], lexicon: &LexiconEntries, options: TrainOptions) -> Table {
    let lexicon_rows: Vec<(u32, Vec<f32>)> = lexicon
        .iter()
        .map(|(language, word, valence)| {
            let norm = if language == "emoji" { word.clone() } else { fold(word) };
            (lexicon_key(language, &norm), vec![*valence, 0.0, 0.0])
        })
        .collect();
    let lexicon_section = Section::new("lexicon", lexicon_rows);
    let mut buffer = Vec::new();
    let encoded: Vec<(Vec<Feature>, usize)> = examples
        .iter()
        .map(|(text, language, label)| {
            features(&tokenize(text, None), language, Some(&lexicon_section), &mut buffer);
            let mut unique = buffer.clone();
            unique.sort_by_key(|(key, _)| *key);
            unique.dedup_by(|later, earlier| {
                if later.0 == earlier.0 {
                    earlier.1 += later.1;
                    true
                } else {
                    false
                }
            });
            (unique, *label)
        })
        .collect();
    let mut document_counts: HashMap<u32, u32> = HashMap::new();
    for (features, _) in &encoded {
        for (key, _) in features {
            *document_counts.entry(*key).or_default() += 1;
        }
    }
    let encoded: Vec<(Vec<Feature>, usize)> = encoded
        .into_iter()
        .map(|(features, label)| {
            let kept = features
                .into_iter()
                .filter(|(key, _)| {
                    document_counts.get(key).copied().unwrap_or(0) >= options.min_count
                })
                .collect();
            (kept, label)
        })
        .collect();

    let mut weights: HashMap<u32, ([f32; 3], [f32; 3])> = HashMap::new();
    let mut bias = [0f32; 3];
    let mut bias_g = [1e-6f32; 3];
    let mut order: Vec<usize> = (0..encoded.len()).collect();
    let mut shuffler = crate::train::Shuffler::new(options.seed);
    for _ in 0..options.epochs {
        shuffler.shuffle(&mut order);
        for &example in &order {
            let (features, label) = &encoded[example];
            let mut scores = bias;
            for (key, value) in features {
                if let Some((row, _)) = weights.get(key) {
                    for class in 0..3 {
                        scores[class] += row[class] * value;
                    }
                }
            }
            let probabilities = softmax(scores);
            for class in 0..3 {
                let target = if class == *label { 1.0 } else { 0.0 };
                let gradient = probabilities[class] - target;
                bias_g[class] += gradient * gradient;
                bias[class] -= options.learning_rate * gradient / bias_g[class].sqrt();
            }
            for (key, value) in features {
                let (row, squares) = weights.entry(*key).or_insert(([0.0; 3], [1e-6; 3]));
                for class in 0..3 {
                    let target = if class == *label { 1.0 } else { 0.0 };
                    let gradient =
                        (probabilities[class] - target) * value + options.l2 * row[class];
                    squares[class] += gradient * gradient;
                    row[class] -= options.learning_rate * gradient / squares[class].sqrt();
                }
            }
        }
    }
    let rows: Vec<(u32, Vec<f32>)> = weights
        .into_iter()
        .filter(|(_, (row, _))| row.iter().any(|weight| weight.abs() > 1e-3))
        .map(|(key, (row, _))| (key, row.to_vec()))
        .collect();
    Table {
        name: "sentiment".into(),
        classes: Sentiment::ALL.iter().map(|sentiment| sentiment.as_str().to_owned()).collect(),
        defaults: bias.to_vec(),
        sections: vec![Section::new("features", rows), lexicon_section],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mixing_with_the_encoder_is_a_normalised_geometric_mean() {
        let mixed = mixed([0.6, 0.3, 0.1], [0.2, 0.3, 0.5]);
        assert!((mixed.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        // Equal shares: the geometric means 0.346, 0.3, 0.224, normalised.
        assert!(mixed[0] > mixed[1] && mixed[1] > mixed[2], "{mixed:?}");
        let same = super::mixed([0.2, 0.5, 0.3], [0.2, 0.5, 0.3]);
        assert!((same[1] - 0.5).abs() < 1e-4, "{same:?}");
    }

    #[test]
    fn a_tiny_model_learns_and_handles_negation() {
        let mut examples = Vec::new();
        for _ in 0..5 {
            examples.push(("I love it, great".to_owned(), "en".to_owned(), 2));
            examples.push(("this is bad, I hate it".to_owned(), "en".to_owned(), 0));
            examples.push(("the meeting is on monday".to_owned(), "en".to_owned(), 1));
        }
        let lexicon = vec![
            ("en".to_owned(), "good".to_owned(), 1.9),
            ("en".to_owned(), "love".to_owned(), 3.2),
            ("en".to_owned(), "hate".to_owned(), -2.7),
        ];
        let table = train(&examples, &lexicon, TrainOptions::default());
        let model = SentimentModel::from_table(table);
        assert_eq!(model.predict("great, I love it", "en").sentiment, Sentiment::Positive);
        assert_eq!(model.predict("I hate it", "en").sentiment, Sentiment::Negative);
        let plain = model.predict("good", "en").score();
        let negated = model.predict("not good", "en").score();
        assert!(negated < plain, "{negated} < {plain}");
    }
}
