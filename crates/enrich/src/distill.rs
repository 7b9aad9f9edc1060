//! Distils the static embedding table ([`crate::embed::Embeddings`]) from a
//! sentence-transformer run on the CPU with candle (feature `distill`).
//!
//! 1. The vocabulary: the teacher's whole-word tokens plus the words of the corpora Waterline
//!    may train on (UMSAB English and French, TweetEval, the Free Mobile conversations),
//!    folded by Waterline's own tokenizer, so run-time lookups use the same forms.
//! 2. Each word goes through the teacher alone (`[CLS] word [SEP]`, mean pooling, unit
//!    length: `crate::encoder`), as sentence-transformers would embed a one-word sentence.
//! 3. PCA (centred, `nalgebra`'s symmetric eigen-decomposition) keeps the `dims` strongest
//!    directions; the first is dropped when `drop_first` (it mostly encodes frequency).
//! 4. Each word gets a smooth-inverse-frequency weight `a / (a + p(word))` from its corpus
//!    frequency (words seen only in the teacher's vocabulary count as once-seen).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::embed::Embeddings;
use crate::encoder::Encoder;
use crate::table::feature;
use crate::text::{Kind, tokenize};
use crate::train::{TrainError, read_lines};

/// Options of the distillation.
#[derive(Debug, Clone)]
pub struct DistillOptions {
    /// The teacher's folder: `config.json`, `tokenizer.json`, `model.safetensors`.
    pub model: PathBuf,
    /// `../shared/data`.
    pub data: PathBuf,
    /// Dimensions kept.
    pub dims: usize,
    /// Corpus words seen fewer times are left out (teacher words are always kept).
    pub min_count: u32,
    /// The SIF constant `a`.
    pub sif: f32,
    /// Words per forward pass.
    pub batch: usize,
}

impl DistillOptions {
    /// The defaults used for the shipped table.
    pub fn new(model: PathBuf, data: PathBuf) -> DistillOptions {
        DistillOptions { model, data, dims: 128, min_count: 2, sif: 1e-4, batch: 512 }
    }
}

fn failed(what: &str, error: impl std::fmt::Display) -> TrainError {
    TrainError::Data { path: PathBuf::from(what), reason: error.to_string() }
}

/// Word counts of the corpora Waterline may train on (folded forms).
pub fn corpus_counts(data: &Path) -> Result<HashMap<String, u32>, TrainError> {
    let mut texts = Vec::new();
    for folder in ["english", "french"] {
        for split in ["train", "val"] {
            let path = data.join(format!("sentiment/umsab-xlmt/{folder}/{split}_text.txt"));
            texts.extend(read_lines(&path)?);
        }
    }
    texts.extend(read_lines(&data.join("sentiment/tweeteval-en/val_text.txt"))?);
    let free = data.join("engagement/freemobile-fr/free_tweet_export.csv");
    let mut reader = csv::Reader::from_path(&free)
        .map_err(|error| failed(&free.display().to_string(), error))?;
    for record in reader.records() {
        let record = record.map_err(|error| failed(&free.display().to_string(), error))?;
        if let Some(text) = record.get(2) {
            texts.push(text.to_owned());
        }
    }
    let mut counts: HashMap<String, u32> = HashMap::new();
    for text in &texts {
        for token in tokenize(text, None) {
            if matches!(token.kind, Kind::Word | Kind::HashtagWord)
                && token.norm.chars().count() >= 2
                && token.norm.chars().all(char::is_alphabetic)
            {
                *counts.entry(token.norm).or_default() += 1;
            }
        }
    }
    Ok(counts)
}

/// The teacher's whole-word tokens (letters only, two or more).
fn teacher_words(model: &Path) -> Result<Vec<String>, TrainError> {
    let vocab = read_lines(&model.join("vocab.txt"))?;
    Ok(vocab
        .into_iter()
        .filter(|word| word.chars().count() >= 2 && word.chars().all(|ch| ch.is_ascii_lowercase()))
        .collect())
}

/// Distils the table; `progress` is told how many words are done.
pub fn distill(
    options: &DistillOptions,
    progress: &dyn Fn(usize, usize),
) -> Result<Embeddings, TrainError> {
    let counts = corpus_counts(&options.data)?;
    let mut words: Vec<String> = teacher_words(&options.model)?;
    words.extend(
        counts
            .iter()
            .filter(|(_, count)| **count >= options.min_count)
            .map(|(word, _)| word.clone()),
    );
    words.sort();
    words.dedup();

    // One-word inputs: 16 tokens are plenty.
    let encoder = Encoder::load_with(&options.model, 16).map_err(|error| failed("model", error))?;
    let mut vectors: Vec<Vec<f32>> = Vec::with_capacity(words.len());
    for chunk in words.chunks(options.batch.max(1)) {
        let chunk: Vec<&str> = chunk.iter().map(String::as_str).collect();
        vectors.extend(encoder.embed_batch(&chunk).map_err(|error| failed("model run", error))?);
        progress(vectors.len(), words.len());
    }

    let projected = pca(&vectors, options.dims);
    let total: f64 = counts.values().map(|count| f64::from(*count)).sum::<f64>().max(1.0);
    let rows = words
        .iter()
        .zip(projected)
        .map(|(word, vector)| {
            let count = counts.get(word).copied().unwrap_or(0).max(1);
            let p = (f64::from(count) / total) as f32;
            (feature(word), options.sif / (options.sif + p), vector)
        })
        .collect();
    let source = format!("all-MiniLM-L6-v2 words -> PCA {}", options.dims);
    Ok(Embeddings::new(&source, options.dims, rows))
}

/// Projects unit vectors onto their `dims` principal components.
fn pca(vectors: &[Vec<f32>], dims: usize) -> Vec<Vec<f32>> {
    let width = vectors.first().map_or(0, Vec::len);
    if vectors.is_empty() || width == 0 {
        return Vec::new();
    }
    let n = vectors.len() as f64;
    let mut mean = vec![0f64; width];
    for vector in vectors {
        for (slot, value) in mean.iter_mut().zip(vector) {
            *slot += f64::from(*value) / n;
        }
    }
    let mut covariance = nalgebra::DMatrix::<f64>::zeros(width, width);
    for vector in vectors {
        let centred: Vec<f64> =
            vector.iter().zip(&mean).map(|(value, mean)| f64::from(*value) - mean).collect();
        for i in 0..width {
            for j in i..width {
                covariance[(i, j)] += centred[i] * centred[j];
            }
        }
    }
    for i in 0..width {
        for j in i..width {
            let value = covariance[(i, j)] / n;
            covariance[(i, j)] = value;
            covariance[(j, i)] = value;
        }
    }
    let eigen = nalgebra::SymmetricEigen::new(covariance);
    let mut order: Vec<usize> = (0..width).collect();
    order.sort_by(|a, b| eigen.eigenvalues[*b].total_cmp(&eigen.eigenvalues[*a]));
    let components: Vec<Vec<f64>> = order
        .iter()
        .take(dims.min(width))
        .map(|column| {
            let mut component: Vec<f64> =
                eigen.eigenvectors.column(*column).iter().copied().collect();
            // A deterministic sign: the largest coordinate is positive.
            let largest =
                component.iter().copied().max_by(|a, b| a.abs().total_cmp(&b.abs())).unwrap_or(1.0);
            if largest < 0.0 {
                component.iter_mut().for_each(|value| *value = -*value);
            }
            component
        })
        .collect();
    vectors
        .iter()
        .map(|vector| {
            components
                .iter()
                .map(|component| {
                    vector
                        .iter()
                        .zip(&mean)
                        .zip(component)
                        .map(|((value, mean), weight)| (f64::from(*value) - mean) * weight)
                        .sum::<f64>() as f32
                })
                .collect()
        })
        .collect()
}
