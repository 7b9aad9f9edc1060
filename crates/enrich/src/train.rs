//! Training the shipped models from the public data in `../shared/data` (see its README for
//! what may train a shipped model). `waterline train language|sentiment` calls these and
//! writes `models/*.wlm`; training is deterministic, so a test rebuilds each model and
//! checks the shipped file is byte for byte what the command produces.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::sentiment::{Example, LexiconEntries, TrainOptions};
use crate::table::Table;

/// The UMSAB language folders and their ISO 639-1 codes.
pub const UMSAB: [(&str, &str); 8] = [
    ("en", "english"),
    ("fr", "french"),
    ("de", "german"),
    ("es", "spanish"),
    ("it", "italian"),
    ("pt", "portuguese"),
    ("ar", "arabic"),
    ("hi", "hindi"),
];

/// Errors reading training data.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// A file could not be read.
    #[error("cannot read `{path}`")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A labels file does not match its texts.
    #[error("`{path}`: {reason}")]
    Data {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// Reads a file's lines (invalid UTF-8 replaced; a trailing empty line dropped).
pub fn read_lines(path: &Path) -> Result<Vec<String>, TrainError> {
    let bytes =
        std::fs::read(path).map_err(|source| TrainError::Io { path: path.to_owned(), source })?;
    let text = String::from_utf8_lossy(&bytes);
    Ok(text.lines().map(|line| line.trim_end_matches('\r').to_owned()).collect())
}

/// Reads labels (0, 1, 2), one a line.
pub fn read_labels(path: &Path) -> Result<Vec<usize>, TrainError> {
    read_lines(path)?
        .iter()
        .enumerate()
        .map(|(index, line)| {
            line.trim().parse::<usize>().ok().filter(|label| *label <= 2).ok_or_else(|| {
                TrainError::Data {
                    path: path.to_owned(),
                    reason: format!("line {}: `{line}` is not a label 0, 1 or 2", index + 1),
                }
            })
        })
        .collect()
}

/// Texts and labels of a split, checked to have the same length.
pub fn labelled(texts: &Path, labels: &Path) -> Result<Vec<(String, usize)>, TrainError> {
    let text_lines = read_lines(texts)?;
    let label_lines = read_labels(labels)?;
    if text_lines.len() != label_lines.len() {
        return Err(TrainError::Data {
            path: labels.to_owned(),
            reason: format!("{} labels for {} texts", label_lines.len(), text_lines.len()),
        });
    }
    Ok(text_lines.into_iter().zip(label_lines).collect())
}

/// One UMSAB split (`train` or `val`) of one language folder.
pub fn umsab(data: &Path, folder: &str, split: &str) -> Result<Vec<(String, usize)>, TrainError> {
    let base = data.join("sentiment/umsab-xlmt").join(folder);
    labelled(&base.join(format!("{split}_text.txt")), &base.join(format!("{split}_labels.txt")))
}

/// The language model's training examples: every UMSAB training split (folder = language).
pub fn language_examples(data: &Path) -> Result<Vec<(String, &'static str)>, TrainError> {
    let mut examples = Vec::new();
    for (code, folder) in UMSAB {
        let base = data.join("sentiment/umsab-xlmt").join(folder);
        for text in read_lines(&base.join("train_text.txt"))? {
            examples.push((text, code));
        }
    }
    Ok(examples)
}

/// Trains the language model.
pub fn train_language(data: &Path) -> Result<Table, TrainError> {
    Ok(crate::language::train(&language_examples(data)?))
}

/// The VADER (English) and VADER-FR lexicons (both MIT-licensed), emoji valences derived
/// from VADER's emoji descriptions (the mean valence of the description's words), and
/// [`EMOJI_VALENCES`] for common emoji.
pub fn lexicon_entries(data: &Path) -> Result<LexiconEntries, TrainError> {
    let base = data.join("lexicons");
    let mut entries = Vec::new();
    let mut english = std::collections::HashMap::new();
    for line in read_lines(&base.join("vader-en/vader_lexicon.txt"))? {
        let mut fields = line.split('\t');
        let (Some(word), Some(valence)) = (fields.next(), fields.next()) else { continue };
        let Ok(valence) = valence.trim().parse::<f32>() else { continue };
        english.insert(word.to_lowercase(), valence);
        entries.push(("en".to_owned(), word.to_lowercase(), valence));
    }
    for line in read_lines(&base.join("vader-fr/fr_lexicon.txt"))? {
        let Some((word, valence)) = line.rsplit_once("->") else { continue };
        let Ok(valence) = valence.trim().parse::<f32>() else { continue };
        entries.push(("fr".to_owned(), word.trim().to_lowercase(), valence));
    }
    for line in read_lines(&base.join("vader-en/emoji_utf8_lexicon.txt"))? {
        let Some((emoji, description)) = line.split_once('\t') else { continue };
        let valences: Vec<f32> = description
            .split_whitespace()
            .filter_map(|word| english.get(&word.to_lowercase()).copied())
            .collect();
        if valences.is_empty() {
            continue;
        }
        let Some(first) = emoji.chars().next() else { continue };
        let mean = valences.iter().sum::<f32>() / valences.len() as f32;
        if !EMOJI_VALENCES.iter().any(|(known, _)| known.starts_with(first)) {
            entries.push(("emoji".to_owned(), first.to_string(), mean));
        }
    }
    for (emoji, valence) in EMOJI_VALENCES {
        entries.push(("emoji".to_owned(), (*emoji).to_owned(), *valence));
    }
    Ok(entries)
}

/// Valences of common emoji, written for this project (VADER's emoji file gives only
/// descriptions, and many of them carry no lexicon word: 😡 is a "pouting face").
pub const EMOJI_VALENCES: &[(&str, f32)] = &[
    ("😀", 2.0),
    ("😃", 2.0),
    ("😄", 2.2),
    ("😁", 2.0),
    ("😆", 2.0),
    ("😂", 1.5),
    ("🤣", 1.5),
    ("😊", 2.2),
    ("🙂", 1.2),
    ("😍", 3.0),
    ("🥰", 3.0),
    ("😘", 2.2),
    ("😎", 1.5),
    ("🤩", 2.8),
    ("🥳", 2.5),
    ("👍", 1.8),
    ("👏", 2.0),
    ("🙏", 1.5),
    ("💪", 1.8),
    ("🎉", 2.5),
    ("✨", 1.2),
    ("❤", 3.0),
    ("💙", 2.5),
    ("💚", 2.5),
    ("💕", 2.8),
    ("💖", 2.8),
    ("🔥", 1.0),
    ("✅", 1.0),
    ("😞", -2.0),
    ("😔", -1.8),
    ("😢", -2.2),
    ("😭", -2.2),
    ("😩", -2.0),
    ("😫", -2.0),
    ("😤", -2.0),
    ("😠", -2.5),
    ("😡", -3.0),
    ("🤬", -3.2),
    ("😒", -1.8),
    ("🙄", -1.5),
    ("😕", -1.2),
    ("🙁", -1.5),
    ("☹", -1.8),
    ("😖", -2.0),
    ("😣", -1.8),
    ("😰", -2.0),
    ("😱", -1.8),
    ("🤢", -2.5),
    ("🤮", -2.8),
    ("💔", -2.8),
    ("👎", -2.0),
    ("😷", -1.0),
    ("🤒", -1.5),
    ("🤕", -1.5),
    ("❌", -1.2),
    ("⚠", -0.8),
];

fn normalise(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// Languages the sentiment model is trained on (training on all eight UMSAB languages
/// lowered English and French cross-validated macro-F1 by 0.02–0.04).
pub const SENTIMENT_LANGUAGES: [(&str, &str); 2] = [("en", "english"), ("fr", "french")];

/// The sentiment model's training examples: the UMSAB English and French training splits,
/// plus the TweetEval validation tweets that are in neither UMSAB English split (1,754 of
/// them are). The UMSAB validation splits are never trained on: `waterline eval` reports them.
pub fn sentiment_examples(data: &Path) -> Result<Vec<Example>, TrainError> {
    sentiment_examples_for(data, &SENTIMENT_LANGUAGES)
}

/// Like [`sentiment_examples`], for the given UMSAB languages.
pub fn sentiment_examples_for(
    data: &Path,
    languages: &[(&str, &str)],
) -> Result<Vec<Example>, TrainError> {
    let mut examples = Vec::new();
    for (code, folder) in languages {
        for (text, label) in umsab(data, folder, "train")? {
            examples.push((text, (*code).to_owned(), label));
        }
    }
    let mut english: HashSet<String> = HashSet::new();
    for split in ["train", "val"] {
        for (text, _) in umsab(data, "english", split)? {
            english.insert(normalise(&text));
        }
    }
    let base = data.join("sentiment/tweeteval-en");
    for (text, label) in labelled(&base.join("val_text.txt"), &base.join("val_labels.txt"))? {
        if !english.contains(&normalise(&text)) {
            examples.push((text, "en".to_owned(), label));
        }
    }
    Ok(examples)
}

/// Trains the sentiment model (English and French).
pub fn train_sentiment(data: &Path) -> Result<Table, TrainError> {
    let examples = sentiment_examples(data)?;
    let lexicon = lexicon_entries(data)?;
    Ok(crate::sentiment::train(&examples, &lexicon, TrainOptions::default()))
}

/// The English sentiment examples (UMSAB English train and the TweetEval tweets not in
/// UMSAB) as `(text, label)`: what the fine-tuned sentence encoder learns from.
pub fn english_sentiment_examples(data: &Path) -> Result<Vec<(String, usize)>, TrainError> {
    Ok(sentiment_examples_for(data, &[("en", "english")])?
        .into_iter()
        .map(|(text, _, label)| (text, label))
        .collect())
}

/// Fine-tunes the sentence encoder in `base` for English sentiment (three classes) and
/// writes the folder `out` (docs/adr/012-fine-tuned-encoder.md). Deterministic for the same
/// data and base model; `progress` gets (step, steps, loss).
#[cfg(feature = "encoder")]
pub fn train_sentiment_encoder(
    data: &Path,
    base: &Path,
    out: &Path,
    progress: impl FnMut(usize, usize, f32),
) -> Result<usize, TrainError> {
    let examples = english_sentiment_examples(data)?;
    crate::finetune::fine_tune(base, &examples, 3, &crate::finetune::OPTIONS, out, progress)
        .map_err(|error| TrainError::Data { path: base.to_owned(), reason: error.to_string() })?;
    Ok(examples.len())
}

/// Trains the fallback sentiment model for other languages, on all eight UMSAB training
/// splits (and the same TweetEval tweets).
pub fn train_sentiment_multilingual(data: &Path) -> Result<Table, TrainError> {
    let examples = sentiment_examples_for(data, &UMSAB)?;
    let lexicon = lexicon_entries(data)?;
    Ok(crate::sentiment::train(&examples, &lexicon, TrainOptions::default()))
}

/// The PsyTAR sentences (`adverse-events/psytar/sentence_labeling.csv`; CC BY 4.0, Zolnoori
/// et al. 2019: the data README allows it for a shipped model).
pub fn psytar_rows(data: &Path) -> Result<Vec<crate::pv::data::Labelled>, TrainError> {
    let path = data.join("adverse-events/psytar/sentence_labeling.csv");
    let bytes =
        std::fs::read(&path).map_err(|source| TrainError::Io { path: path.clone(), source })?;
    crate::pv::data::psytar(&String::from_utf8_lossy(&bytes))
        .map_err(|reason| TrainError::Data { path, reason })
}

/// Trains the adverse-event model on PsyTAR and the written examples of `testdata/pv/`,
/// with the operating threshold chosen cross-drug (see `pv::evaluate::build_shipped`).
pub fn train_adverse_events(data: &Path) -> Result<Table, TrainError> {
    Ok(crate::pv::evaluate::build_shipped(&psytar_rows(data)?))
}

/// Trains the optional encoder head of the adverse-event detector
/// (`models/adverse-events-encoder.wlm`): PsyTAR rows and the written English examples
/// embedded by `encoder`, thresholds chosen cross-drug (`pv::evaluate::build_shipped_head`).
#[cfg(feature = "encoder")]
pub fn train_adverse_events_head(
    data: &Path,
    encoder: &crate::encoder::Encoder,
) -> Result<Table, TrainError> {
    let rows = psytar_rows(data)?;
    let written = crate::pv::evaluate::written_for_head();
    let embed = |texts: Vec<&str>| {
        encoder.embed(&texts).map_err(|error| TrainError::Data {
            path: data.to_owned(),
            reason: format!("sentence encoder: {error}"),
        })
    };
    let row_embeddings = embed(rows.iter().map(|row| row.text.as_str()).collect())?;
    let written_embeddings = embed(written.iter().map(|example| example.text.as_str()).collect())?;
    let embedded =
        crate::pv::evaluate::Embedded { rows: &row_embeddings, written: &written_embeddings };
    Ok(crate::pv::evaluate::build_shipped_head(&rows, &embedded))
}

/// A deterministic shuffler for training passes: Fisher–Yates driven by a xorshift
/// generator, so the same seed gives the same order on every machine.
pub struct Shuffler(u64);

impl Shuffler {
    /// A shuffler from a seed.
    pub fn new(seed: u64) -> Shuffler {
        Shuffler(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// Shuffles `order` in place.
    pub fn shuffle<T>(&mut self, order: &mut [T]) {
        for index in (1..order.len()).rev() {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            let other = (self.0 % (index as u64 + 1)) as usize;
            order.swap(index, other);
        }
    }
}
