//! The optional fine-tuned adverse-event classifier (feature `encoder`; ML-1, ML-3;
//! docs/adr/013-fine-tuned-adverse-event-classifier.md).
//!
//! A sentence encoder fine-tuned end to end (`crate::finetune`) on the fast model's six
//! classes, from the PsyTAR rows and the written English examples (seen four times as often,
//! as in the fast model). Its P(relevant) is mixed with the fast model's score in log-odds at
//! [`head::FINE_TUNED_MIX`]; the thresholds of the mix are chosen on drugs the fold's models
//! never saw, as for the frozen-encoder head (`head.rs`).
//!
//! A folder written by [`train`]:
//!
//! - `config.json`, `tokenizer.json`, `model.safetensors`, `head.safetensors`: the
//!   classifier trained on every row (`crate::finetune::Classifier`);
//! - `detector.wlm`: a weightless head table (`head::external`) with the mix's thresholds
//!   and share, written last (its presence marks a finished folder);
//! - `folds/<drug>/`: one classifier per held-out drug, kept so `waterline eval adverse-events
//!   --cross-drug --fine-tuned DIR` can measure the protocol without training again, and so an
//!   interrupted run resumes where it stopped.

use std::path::{Path, PathBuf};

use super::data::{Labelled, WRITTEN_TRAIN, labelled_tsv};
use super::evaluate::{self, Layer, Report};
use super::head::{self, Head};
use super::model::{CLASSES, embeds};
use crate::encoder::{EncoderError, failed};
use crate::finetune::{Classifier, OPTIONS, fine_tune};

/// The thresholds file of a fine-tuned folder.
pub const THRESHOLDS: &str = "detector.wlm";

/// The folder of the per-drug classifiers inside a fine-tuned folder.
pub const FOLDS: &str = "folds";

/// Whether `folder` holds a fine-tuned classifier (and not a plain sentence encoder).
pub fn is_fine_tuned(folder: &Path) -> bool {
    folder.join("head.safetensors").is_file()
}

/// The training examples: the rows `keep` selects, then the written English examples four
/// times (the fast model's weighting), as `(text, class)`.
pub fn examples(rows: &[Labelled], keep: impl Fn(&Labelled) -> bool) -> Vec<(String, usize)> {
    let mut out: Vec<(String, usize)> =
        rows.iter().filter(|row| keep(row)).map(|row| (row.text.clone(), row.kind)).collect();
    let written: Vec<(String, usize)> = labelled_tsv(WRITTEN_TRAIN)
        .into_iter()
        .filter(|example| embeds(&example.language))
        .map(|example| (example.text, example.kind))
        .collect();
    for _ in 0..4 {
        out.extend(written.iter().cloned());
    }
    out
}

/// P(relevant) of each text (the first class).
pub fn relevance(classifier: &Classifier, texts: &[&str]) -> Result<Vec<f32>, EncoderError> {
    Ok(classifier
        .predict(texts)?
        .iter()
        .map(|probabilities| probabilities.first().copied().unwrap_or(f32::NAN))
        .collect())
}

fn io(path: &Path, source: std::io::Error) -> EncoderError {
    EncoderError::Io { path: path.to_owned(), source }
}

/// The folder name of a drug's fold (letters, digits, `-` and `_` kept).
fn fold_name(drug: &str) -> String {
    drug.chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
        .collect()
}

/// The drugs of the rows, sorted.
fn drugs(rows: &[Labelled]) -> Vec<String> {
    let mut drugs: Vec<String> = rows.iter().map(|row| row.group.clone()).collect();
    drugs.sort();
    drugs.dedup();
    drugs
}

/// Progress of a training run: (what, step, steps, loss).
pub type Progress<'a> = &'a mut dyn FnMut(&str, usize, usize, f32);

/// Fine-tunes into `out` unless a finished classifier is there (resumable): trains in
/// `out.partial` and renames it.
fn fine_tune_once(
    base: &Path,
    examples: &[(String, usize)],
    out: &Path,
    what: &str,
    progress: Progress<'_>,
) -> Result<(), EncoderError> {
    if is_fine_tuned(out) {
        return Ok(());
    }
    let partial = PathBuf::from(format!("{}.partial", out.display()));
    if partial.exists() {
        std::fs::remove_dir_all(&partial).map_err(|source| io(&partial, source))?;
    }
    fine_tune(base, examples, CLASSES.len(), &OPTIONS, &partial, |step, steps, loss| {
        progress(what, step, steps, loss)
    })?;
    if out.exists() {
        std::fs::remove_dir_all(out).map_err(|source| io(out, source))?;
    }
    std::fs::rename(&partial, out).map_err(|source| io(out, source))
}

/// Per row, P(relevant) from the classifier of the fold that held the row's drug out
/// (`folder/folds/<drug>`). With `base`, missing folds are trained first; without, a missing
/// fold is an error.
pub fn fold_probabilities(
    rows: &[Labelled],
    folder: &Path,
    base: Option<&Path>,
    progress: Progress<'_>,
) -> Result<Vec<f32>, EncoderError> {
    let mut out = vec![f32::NAN; rows.len()];
    for drug in drugs(rows) {
        let dir = folder.join(FOLDS).join(fold_name(&drug));
        if let Some(base) = base {
            let training = examples(rows, |row| row.group != drug);
            fine_tune_once(base, &training, &dir, &format!("fold without {drug}"), progress)?;
        }
        if !is_fine_tuned(&dir) {
            return Err(failed(
                &dir.display().to_string(),
                "no fine-tuned fold here: run `waterline train adverse-events-classifier` first",
            ));
        }
        let classifier = Classifier::load(&dir)?;
        let indices: Vec<usize> = rows
            .iter()
            .enumerate()
            .filter(|(_, row)| row.group == drug)
            .map(|(index, _)| index)
            .collect();
        let texts: Vec<&str> = indices
            .iter()
            .filter_map(|index| rows.get(*index).map(|row| row.text.as_str()))
            .collect();
        for (index, probability) in indices.iter().zip(relevance(&classifier, &texts)?) {
            if let Some(slot) = out.get_mut(*index) {
                *slot = probability;
            }
        }
    }
    Ok(out)
}

/// What [`train`] measured and wrote.
#[derive(Debug, Clone)]
pub struct Trained {
    /// The cross-drug report of the mix (each drug at the thresholds of the other folds).
    pub report: Report,
    /// The operating threshold of the mix for texts with lexicon evidence.
    pub threshold: f32,
    /// The operating threshold of the mix for texts without.
    pub without_evidence: f32,
    /// Training examples of the final classifier.
    pub examples: usize,
}

/// Trains the fine-tuned classifier from the encoder in `base` into `out`: one classifier
/// per held-out drug (cross-drug thresholds and report), then one on every row, then the
/// thresholds file. Resumes a run that stopped: finished classifiers are kept.
pub fn train(
    base: &Path,
    rows: &[Labelled],
    out: &Path,
    progress: Progress<'_>,
) -> Result<Trained, EncoderError> {
    std::fs::create_dir_all(out).map_err(|source| io(out, source))?;
    let probabilities = fold_probabilities(rows, out, Some(base), progress)?;
    let folds = evaluate::cross_drug_layer(rows, Some(Layer::Probabilities(&probabilities)));
    let report = evaluate::report_folds(&folds, true);
    let (threshold, without_evidence) = evaluate::mixed_thresholds(&folds);
    let all = examples(rows, |_| true);
    let thresholds = out.join(THRESHOLDS);
    if thresholds.exists() {
        std::fs::remove_file(&thresholds).map_err(|source| io(&thresholds, source))?;
    }
    if !is_fine_tuned(out) {
        // Trained aside, then moved in with `head.safetensors` last (it marks a classifier).
        let full = out.join("all");
        fine_tune_once(base, &all, &full, "all drugs", progress)?;
        for file in ["config.json", "tokenizer.json", "model.safetensors", "head.safetensors"] {
            std::fs::rename(full.join(file), out.join(file))
                .map_err(|source| io(&out.join(file), source))?;
        }
        std::fs::remove_dir_all(&full).map_err(|source| io(&full, source))?;
    }
    let table = head::external(threshold, without_evidence, head::FINE_TUNED_MIX);
    std::fs::write(&thresholds, table.to_bytes()).map_err(|source| io(&thresholds, source))?;
    Ok(Trained { report, threshold, without_evidence, examples: all.len() })
}

/// The cross-drug report of a folder written by [`train`] (its fold classifiers score the
/// drugs they never saw; nothing is trained).
pub fn cross_drug_report(rows: &[Labelled], folder: &Path) -> Result<Report, EncoderError> {
    let probabilities = fold_probabilities(rows, folder, None, &mut |_, _, _, _| {})?;
    Ok(evaluate::cross_drug_report_layer(rows, Some(Layer::Probabilities(&probabilities))))
}

/// Loads a finished folder: the classifier and the head carrying its thresholds.
pub fn load(folder: &Path) -> Result<(Classifier, Head), EncoderError> {
    let path = folder.join(THRESHOLDS);
    let bytes = std::fs::read(&path).map_err(|source| io(&path, source))?;
    let head =
        Head::from_bytes(&bytes).map_err(|error| failed(&path.display().to_string(), error))?;
    Ok((Classifier::load(folder)?, head))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows() -> Vec<Labelled> {
        let mut rows = Vec::new();
        for (index, drug) in ["alpha", "beta"].iter().enumerate() {
            for repeat in 0..6 {
                let (text, positive) = match (repeat + index) % 3 {
                    0 => ("the day bad awful", true),
                    1 => ("awful bad bad", true),
                    _ => ("the day good great", false),
                };
                rows.push(Labelled {
                    text: text.into(),
                    positive,
                    group: (*drug).into(),
                    categories: Vec::new(),
                    kind: if positive { 0 } else { super::super::model::OTHER },
                    language: "en".into(),
                });
            }
        }
        rows
    }

    #[test]
    fn ml_3_a_fine_tuned_folder_is_trained_per_fold_resumed_and_loaded() {
        let base = tempfile::tempdir().unwrap();
        crate::finetune::tests::tiny_model(base.path());
        let out = tempfile::tempdir().unwrap();
        let folder = out.path().join("classifier");
        let rows = rows();
        let mut steps = Vec::new();
        let trained =
            train(base.path(), &rows, &folder, &mut |what, _, _, _| steps.push(what.to_owned()))
                .unwrap();
        assert!(steps.iter().any(|what| what == "fold without alpha"));
        assert!(steps.iter().any(|what| what == "all drugs"));
        assert_eq!(trained.report.folds.len(), 2);
        assert_eq!(trained.report.n, rows.len());
        assert!(is_fine_tuned(&folder.join(FOLDS).join("beta")));
        assert!(!folder.join("all").exists());
        // The folder loads; its head carries thresholds and no weights.
        let (classifier, head) = load(&folder).unwrap();
        assert_eq!(classifier.classes(), CLASSES.len());
        assert_eq!(head.dims(), 0);
        assert_eq!(head.version(), head::FINE_TUNED_VERSION);
        assert!((head.threshold() - trained.threshold).abs() < 1e-3);
        let probabilities = relevance(&classifier, &["the day bad", "good"]).unwrap();
        assert!(probabilities.iter().all(|p| (0.0..=1.0).contains(p)));
        // A second run trains nothing (every classifier is there) and writes the same.
        let mut again = Vec::new();
        let second =
            train(base.path(), &rows, &folder, &mut |what, _, _, _| again.push(what.to_owned()))
                .unwrap();
        assert!(again.is_empty(), "{again:?}");
        assert!((second.threshold - trained.threshold).abs() < 1e-6);
        // The cross-drug report reads the folds without training.
        let report = cross_drug_report(&rows, &folder).unwrap();
        assert!((report.precision - trained.report.precision).abs() < 1e-9);
        // A folder without folds is an error, not a panic.
        let empty = out.path().join("empty");
        std::fs::create_dir_all(&empty).unwrap();
        let error = cross_drug_report(&rows, &empty).unwrap_err().to_string();
        assert!(error.contains("train adverse-events-classifier"), "{error}");
        assert!(!is_fine_tuned(base.path()));
    }

    #[test]
    fn ml_3_the_training_examples_weight_the_written_english_examples() {
        let rows = rows();
        let all = examples(&rows, |_| true);
        let alpha = examples(&rows, |row| row.group == "alpha");
        assert_eq!(all.len() - alpha.len(), 6);
        let written = all.len() - rows.len();
        assert!(written > 0 && written.is_multiple_of(4));
        assert_eq!(fold_name("zoloft 50/mg"), "zoloft_50_mg");
    }
}
