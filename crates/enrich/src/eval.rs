//! Quality measures: accuracy, macro-F1, per-class precision and recall, and the evaluation
//! routines behind `waterline eval`.

use serde::Serialize;
use waterline_model::Need;

use crate::language::{LanguageModel, UNDETERMINED};
use crate::sentiment::SentimentModel;
use crate::text::{Kind, tokenize};

/// A confusion matrix over `k` classes (rows: truth, columns: prediction).
#[derive(Debug, Clone)]
pub struct Confusion {
    counts: Vec<Vec<u64>>,
}

impl Confusion {
    /// An empty matrix.
    pub fn new(classes: usize) -> Confusion {
        Confusion { counts: vec![vec![0; classes]; classes] }
    }

    /// Counts one example.
    pub fn add(&mut self, truth: usize, predicted: usize) {
        if let Some(cell) = self.counts.get_mut(truth).and_then(|row| row.get_mut(predicted)) {
            *cell += 1;
        }
    }

    /// Number of examples.
    pub fn total(&self) -> u64 {
        self.counts.iter().flatten().sum()
    }

    /// Share of correct predictions.
    pub fn accuracy(&self) -> f64 {
        let correct: u64 = (0..self.counts.len()).map(|class| self.counts[class][class]).sum();
        ratio(correct, self.total())
    }

    /// Precision of a class.
    pub fn precision(&self, class: usize) -> f64 {
        let predicted: u64 = self.counts.iter().map(|row| row[class]).sum();
        ratio(self.counts[class][class], predicted)
    }

    /// Recall of a class.
    pub fn recall(&self, class: usize) -> f64 {
        ratio(self.counts[class][class], self.counts[class].iter().sum())
    }

    /// F1 of a class.
    pub fn f1(&self, class: usize) -> f64 {
        let (precision, recall) = (self.precision(class), self.recall(class));
        if precision + recall == 0.0 {
            0.0
        } else {
            2.0 * precision * recall / (precision + recall)
        }
    }

    /// Mean F1 over classes.
    pub fn macro_f1(&self) -> f64 {
        let classes = self.counts.len();
        (0..classes).map(|class| self.f1(class)).sum::<f64>() / classes as f64
    }
}

fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 { 0.0 } else { part as f64 / whole as f64 }
}

fn round4(value: f64) -> f64 {
    (value * 10_000.0).round() / 10_000.0
}

/// `waterline eval language` figures.
#[derive(Debug, Clone, Serialize)]
pub struct LanguageReport {
    /// Share of texts identified as the expected language (`und` counts as wrong).
    pub accuracy: f64,
    /// Share of `und` answers.
    pub und_share: f64,
    /// Texts evaluated.
    pub n: u64,
    /// Texts per second (single thread).
    #[serde(skip)]
    pub texts_per_second: f64,
}

/// Evaluates language identification on texts that are all in `expected`.
pub fn language(model: &LanguageModel, texts: &[String], expected: &str) -> LanguageReport {
    let started = std::time::Instant::now();
    let mut correct = 0u64;
    let mut undetermined = 0u64;
    for text in texts {
        let answer = model.detect(text).language;
        if answer == expected {
            correct += 1;
        } else if answer == UNDETERMINED {
            undetermined += 1;
        }
    }
    let n = texts.len() as u64;
    LanguageReport {
        accuracy: round4(ratio(correct, n)),
        und_share: round4(ratio(undetermined, n)),
        n,
        texts_per_second: n as f64 / started.elapsed().as_secs_f64().max(1e-9),
    }
}

/// `waterline eval sentiment` figures.
#[derive(Debug, Clone, Serialize)]
pub struct SentimentReport {
    /// Mean F1 over the three classes.
    pub macro_f1: f64,
    /// Share correct.
    pub accuracy: f64,
    /// Recall of negative.
    pub recall_negative: f64,
    /// Recall of neutral.
    pub recall_neutral: f64,
    /// Recall of positive.
    pub recall_positive: f64,
    /// Texts evaluated.
    pub n: u64,
    /// Texts per second (single thread).
    #[serde(skip)]
    pub texts_per_second: f64,
}

/// Evaluates sentiment on labelled texts of one language.
pub fn sentiment(
    model: &SentimentModel,
    examples: &[(String, usize)],
    language: &str,
) -> SentimentReport {
    let started = std::time::Instant::now();
    let predicted: Vec<usize> =
        examples.iter().map(|(text, _)| model.predict(text, language).sentiment.label()).collect();
    sentiment_of(examples, &predicted, started.elapsed())
}

/// The sentiment figures of predicted labels (0 negative, 1 neutral, 2 positive, in the
/// order of `examples`) made in `elapsed`: for a model other than the fast one, such as the
/// optional fine-tuned encoder.
pub fn sentiment_of(
    examples: &[(String, usize)],
    predicted: &[usize],
    elapsed: std::time::Duration,
) -> SentimentReport {
    let mut confusion = Confusion::new(3);
    for ((_, label), predicted) in examples.iter().zip(predicted) {
        confusion.add(*label, *predicted);
    }
    SentimentReport {
        macro_f1: round4(confusion.macro_f1()),
        accuracy: round4(confusion.accuracy()),
        recall_negative: round4(confusion.recall(0)),
        recall_neutral: round4(confusion.recall(1)),
        recall_positive: round4(confusion.recall(2)),
        n: confusion.total(),
        texts_per_second: confusion.total() as f64 / elapsed.as_secs_f64().max(1e-9),
    }
}

/// `waterline eval needs` figures (complaint vs not).
#[derive(Debug, Clone, Serialize)]
pub struct NeedsReport {
    /// Precision of the complaint class.
    pub precision: f64,
    /// Recall of the complaint class.
    pub recall: f64,
    /// F1 of the complaint class.
    pub f1: f64,
    /// Share correct over both classes.
    pub accuracy: f64,
    /// Mean F1 over complaint and not-complaint.
    pub macro_f1: f64,
    /// Texts evaluated.
    pub n: u64,
    /// The same figures per domain (industry), when the examples name one.
    #[serde(skip)]
    pub by_domain: Vec<(String, NeedsReport)>,
}

impl NeedsReport {
    fn from_confusion(confusion: &Confusion) -> NeedsReport {
        NeedsReport {
            precision: round4(confusion.precision(1)),
            recall: round4(confusion.recall(1)),
            f1: round4(confusion.f1(1)),
            accuracy: round4(confusion.accuracy()),
            macro_f1: round4(confusion.macro_f1()),
            n: confusion.total(),
            by_domain: Vec::new(),
        }
    }
}

/// Evaluates complaint detection on `(text, is_complaint)` examples (tweets addressed to
/// brands: a post with an @mention counts as addressed, there being no workspace).
pub fn needs(
    model: Option<&SentimentModel>,
    language: Option<&LanguageModel>,
    examples: &[(String, bool, String)],
) -> NeedsReport {
    let mut confusion = Confusion::new(2);
    let mut domains: std::collections::BTreeMap<&str, Confusion> = Default::default();
    for (text, complaint, domain) in examples {
        let tokens = tokenize(text, None);
        let code = language.map_or("en", |model| model.detect(text).language);
        let probabilities = model.map(|model| model.predict_tokens(&tokens, code).probabilities);
        let addressed = tokens.iter().any(|token| token.kind == Kind::Mention);
        let (need, _) = crate::needs::classify(&tokens, probabilities, addressed);
        let (truth, predicted) = (usize::from(*complaint), usize::from(need == Need::Complaint));
        confusion.add(truth, predicted);
        domains.entry(domain.as_str()).or_insert_with(|| Confusion::new(2)).add(truth, predicted);
    }
    let mut report = NeedsReport::from_confusion(&confusion);
    if domains.len() > 1 {
        report.by_domain = domains
            .into_iter()
            .map(|(domain, confusion)| (domain.to_owned(), NeedsReport::from_confusion(&confusion)))
            .collect();
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macro_f1_of_a_known_matrix() {
        let mut confusion = Confusion::new(2);
        for (truth, predicted) in [(1, 1), (1, 1), (1, 0), (0, 0), (0, 1), (0, 0)] {
            confusion.add(truth, predicted);
        }
        assert!((confusion.accuracy() - 4.0 / 6.0).abs() < 1e-9);
        assert!((confusion.f1(1) - 2.0 / 3.0).abs() < 1e-9);
        assert!((confusion.macro_f1() - 2.0 / 3.0).abs() < 1e-9);
    }
}
