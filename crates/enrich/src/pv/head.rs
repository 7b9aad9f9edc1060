//! The optional sentence-encoder head of the adverse-event detector (ML-3, ML-1;
//! docs/adr/011-optional-sentence-encoder.md).
//!
//! A logistic regression over a sentence embedding (all-MiniLM-L6-v2, 384 dimensions, run by
//! `crate::encoder` when the binary is built with the `encoder` feature and a model folder is
//! given) with the fast model's six classes. Its P(relevant) is mixed with the fast model's in
//! log-odds: `logit = (1 − w)·logit(fast) + w·logit(head)`. The two read different things —
//! the fast model words, stems and lexicon signals, the encoder the sentence as a whole — and
//! the mix ranks PsyTAR's held-out drugs better than either (docs/QUALITY.md).
//!
//! The head has its own thresholds (with and without lexicon evidence), chosen like the fast
//! model's on drugs the fold's models never saw. It applies to English texts only (the
//! encoder is English); other languages keep the fast model and its thresholds.
//!
//! File (`models/adverse-events-encoder.wlm`, the `.wlm` format of `table.rs`): the classes of
//! `model::CLASSES`, the bias as defaults, section `weights` keyed by dimension, section
//! `meta` (`threshold`, `threshold:none`, `mix`, `dims`).

use super::model::{CLASSES, TrainOptions, WITHOUT_EVIDENCE, softmax};
use crate::table::{Section, Table, TableError, feature};

/// The head's name in its file.
pub const NAME: &str = "adverse-events-encoder";

/// The share of the head in the mixed log-odds (chosen cross-drug on PsyTAR: 0.3–0.5 gave
/// the same precision at recall 0.95 within 0.01; 0 is the fast model alone, 1 the head alone,
/// 0.04 and 0.08 lower).
pub const MIX: f32 = 0.4;

/// The share of a fine-tuned classifier (`finetuned.rs`) in the mixed log-odds: equal shares,
/// fixed before the cross-drug folds were scored (as for the sentiment option, ADR 012).
pub const FINE_TUNED_MIX: f32 = 0.5;

/// The detector's version when the head took part (AUD-1).
pub const VERSION: &str = "pv-lexicon@1+adverse-events@1+encoder@1";

/// The detector's version when a fine-tuned classifier took part (AUD-1; `finetuned.rs`).
pub const FINE_TUNED_VERSION: &str = "pv-lexicon@1+adverse-events@1+finetuned@1";

/// A trained head.
#[derive(Debug, Clone)]
pub struct Head {
    table: Table,
    dims: usize,
    mix: f32,
    threshold: f32,
    without_evidence: f32,
}

fn meta_value(table: &Table, key: &str) -> Option<f32> {
    table.section("meta")?.get(feature(key), table.classes.len())?.first().copied()
}

fn logit(probability: f32) -> f32 {
    let probability = probability.clamp(1e-6, 1.0 - 1e-6);
    (probability / (1.0 - probability)).ln()
}

impl Head {
    /// Loads a head file.
    pub fn from_bytes(bytes: &[u8]) -> Result<Head, TableError> {
        Head::from_table(Table::from_bytes(bytes)?)
    }

    /// Wraps a table (checked).
    pub fn from_table(table: Table) -> Result<Head, TableError> {
        if table.name != NAME
            || table.classes.len() != CLASSES.len()
            || table.defaults.len() != CLASSES.len()
        {
            return Err(TableError::Format("not an adverse-events encoder head".into()));
        }
        let dims = meta_value(&table, "dims").unwrap_or(0.0).round().max(0.0) as usize;
        let threshold = meta_value(&table, "threshold").unwrap_or(0.5);
        let without_evidence = meta_value(&table, WITHOUT_EVIDENCE).unwrap_or(threshold);
        let mix = meta_value(&table, "mix").unwrap_or(MIX).clamp(0.0, 1.0);
        Ok(Head { table, dims, mix, threshold, without_evidence })
    }

    /// The share of the encoder layer in the mixed log-odds.
    pub fn share(&self) -> f32 {
        self.mix
    }

    /// The detector's version with this head (AUD-1): a head over embeddings, or the
    /// thresholds of a fine-tuned classifier (no weights).
    pub fn version(&self) -> &'static str {
        if self.dims == 0 { FINE_TUNED_VERSION } else { VERSION }
    }

    /// The table.
    pub fn table(&self) -> &Table {
        &self.table
    }

    /// Dimensions of the embeddings it was trained on.
    pub fn dims(&self) -> usize {
        self.dims
    }

    /// The operating threshold of the mixed score for texts with lexicon evidence.
    pub fn threshold(&self) -> f32 {
        self.threshold
    }

    /// The operating threshold of the mixed score for texts without lexicon evidence.
    pub fn threshold_without_evidence(&self) -> f32 {
        self.without_evidence.max(self.threshold)
    }

    /// The head's own P(relevant) for an embedding.
    pub fn probability(&self, embedding: &[f32]) -> f32 {
        let classes = CLASSES.len();
        let mut scores = self.table.defaults.clone();
        if let Some(weights) = self.table.section("weights") {
            for (index, value) in embedding.iter().enumerate() {
                if let Some(row) = weights.get(index as u32, classes) {
                    for (score, weight) in scores.iter_mut().zip(row) {
                        *score += weight * value;
                    }
                }
            }
        }
        softmax(&mut scores);
        scores.first().copied().unwrap_or(0.0)
    }

    /// The mixed score of the fast model's score and an embedding. An embedding of the wrong
    /// size leaves the fast score as it is.
    pub fn mix(&self, fast: f32, embedding: &[f32]) -> f32 {
        if embedding.len() != self.dims || self.dims == 0 {
            return fast;
        }
        mixed(fast, self.probability(embedding), self.mix)
    }
}

/// A head without weights: the thresholds and share of an encoder layer that gives its
/// own probability (a fine-tuned classifier, `finetuned.rs`). Stored with `dims` 0.
pub fn external(threshold: f32, without_evidence: f32, mix: f32) -> Table {
    Table {
        name: NAME.into(),
        classes: CLASSES.iter().map(|class| (*class).to_owned()).collect(),
        defaults: vec![0.0; CLASSES.len()],
        sections: vec![meta(0, mix, threshold, without_evidence)],
    }
}

/// Mixes two probabilities in log-odds with the share `mix` for the second.
pub fn mixed(fast: f32, head: f32, mix: f32) -> f32 {
    let value = (1.0 - mix) * logit(fast) + mix * logit(head);
    1.0 / (1.0 + (-value).exp())
}

/// The head's training settings (the fast model's [`TrainOptions`]). Tried cross-drug on
/// PsyTAR: 20–150 epochs, rates 0.05–0.2, L2 1e-4–1e-3 moved the mixed precision at recall
/// 0.95 by less than 0.01; these converge and regularise.
pub const OPTIONS: TrainOptions =
    TrainOptions { epochs: 60, learning_rate: 0.1, l2: 1e-3, seed: 13 };

/// Trains a head on `(embedding, class)` examples (deterministic for the same input).
pub fn train(
    examples: &[(&[f32], usize)],
    options: TrainOptions,
    threshold: f32,
    without_evidence: f32,
) -> Table {
    const K: usize = CLASSES.len();
    let dims = examples.iter().map(|(embedding, _)| embedding.len()).max().unwrap_or(0);
    let mut weights = vec![[0f32; K]; dims];
    let mut squares = vec![[1e-6f32; K]; dims];
    let mut bias = [0f32; K];
    let mut bias_squares = [1e-6f32; K];
    let mut order: Vec<usize> = (0..examples.len()).collect();
    let mut shuffler = crate::train::Shuffler::new(options.seed);
    for _ in 0..options.epochs {
        shuffler.shuffle(&mut order);
        for &index in &order {
            let Some((embedding, class)) = examples.get(index) else { continue };
            let class = (*class).min(K - 1);
            let mut probabilities = bias;
            for (value, row) in embedding.iter().zip(&weights) {
                for (probability, weight) in probabilities.iter_mut().zip(row) {
                    *probability += weight * value;
                }
            }
            softmax(&mut probabilities);
            let gradients: [f32; K] =
                std::array::from_fn(|k| probabilities[k] - if k == class { 1.0 } else { 0.0 });
            for k in 0..K {
                bias_squares[k] += gradients[k] * gradients[k];
                bias[k] -= options.learning_rate * gradients[k] / bias_squares[k].sqrt();
            }
            for ((value, row), squares) in embedding.iter().zip(&mut weights).zip(&mut squares) {
                for k in 0..K {
                    let step = gradients[k] * value + options.l2 * row[k];
                    squares[k] += step * step;
                    row[k] -= options.learning_rate * step / squares[k].sqrt();
                }
            }
        }
    }
    let rows: Vec<(u32, Vec<f32>)> =
        weights.into_iter().enumerate().map(|(index, row)| (index as u32, row.to_vec())).collect();
    Table {
        name: NAME.into(),
        classes: CLASSES.iter().map(|class| (*class).to_owned()).collect(),
        defaults: bias.to_vec(),
        sections: vec![Section::new("weights", rows), meta(dims, MIX, threshold, without_evidence)],
    }
}

/// Sets the thresholds of a trained head.
pub fn with_thresholds(mut table: Table, threshold: f32, without_evidence: f32) -> Table {
    let dims = meta_value(&table, "dims").unwrap_or(0.0).round().max(0.0) as usize;
    let mix = meta_value(&table, "mix").unwrap_or(MIX);
    table.sections.retain(|section| section.name != "meta");
    table.sections.push(meta(dims, mix, threshold, without_evidence));
    table
}

fn meta(dims: usize, mix: f32, threshold: f32, without_evidence: f32) -> Section {
    let row = |value: f32| vec![value; CLASSES.len()];
    Section::new(
        "meta",
        vec![
            (feature("threshold"), row(threshold)),
            (feature(WITHOUT_EVIDENCE), row(without_evidence)),
            (feature("mix"), row(mix)),
            (feature("dims"), row(dims as f32)),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_head_learns_a_direction_and_round_trips() {
        let positive = [1.0f32, 0.0, 0.0, 0.0];
        let negative = [0.0f32, 1.0, 0.0, 0.0];
        let examples: Vec<(&[f32], usize)> = (0..40)
            .map(|index| if index % 2 == 0 { (&positive[..], 0) } else { (&negative[..], 5) })
            .collect();
        let table = train(&examples, OPTIONS, 0.3, 0.6);
        let head = Head::from_bytes(&table.to_bytes()).expect("round trip");
        assert_eq!(head.dims(), 4);
        assert!(head.probability(&positive) > 0.8, "{}", head.probability(&positive));
        assert!(head.probability(&negative) < 0.2);
        assert!((head.threshold() - 0.3).abs() < 1e-3);
        assert!((head.threshold_without_evidence() - 0.6).abs() < 1e-3);
        // The mix moves the fast score towards the head's, and a wrong size leaves it.
        assert!(head.mix(0.5, &positive) > 0.5);
        assert!(head.mix(0.5, &negative) < 0.5);
        assert!((head.mix(0.42, &[1.0, 0.0]) - 0.42).abs() < 1e-6);
    }

    #[test]
    fn mixing_is_log_odds_and_bounded() {
        assert!((mixed(0.3, 0.9, 0.0) - 0.3).abs() < 1e-5);
        assert!((mixed(0.3, 0.9, 1.0) - 0.9).abs() < 1e-5);
        assert!((mixed(0.5, 0.5, MIX) - 0.5).abs() < 1e-6);
        for (fast, head) in [(0.0, 1.0), (1.0, 0.0), (0.0, 0.0), (1.0, 1.0)] {
            let value = mixed(fast, head, MIX);
            assert!(value.is_finite() && (0.0..=1.0).contains(&value));
        }
    }
}
