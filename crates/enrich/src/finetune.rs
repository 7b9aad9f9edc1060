//! Fine-tuning a sentence encoder end to end with a classification head (feature `encoder`).
//!
//! candle-transformers' BERT normalises its layers with candle-nn's fused layer norm, which
//! has no backward pass; this module runs the same BERT forward (same weight names, so a
//! fine-tuned folder still loads in [`crate::encoder::Encoder`]) on differentiable
//! operations, trains every weight with AdamW and a linear-decay rate, and predicts with the
//! same forward. Deterministic for the same input: the head starts at zero, batches follow a
//! seeded shuffle, and no dropout is used. See docs/adr/012-fine-tuned-encoder.md.
//!
//! A fine-tuned folder holds `config.json` and `tokenizer.json` (copied from the base
//! model), `model.safetensors` (the encoder) and `head.safetensors` (`classifier.weight`,
//! `classifier.bias`). It is built by the user from a model they provide; nothing here
//! downloads or ships weights.

use std::path::Path;

use candle_core::{D, DType, Device, Module, Tensor};
use candle_nn::{
    AdamW, Embedding, Init, Linear, Optimizer, ParamsAdamW, VarBuilder, VarMap, embedding, linear,
};
use candle_transformers::models::bert::Config;
use tokenizers::Tokenizer;

use crate::encoder::{EncoderError, failed, read, read_config, read_tokenizer};

/// Training settings.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Passes over the examples.
    pub epochs: usize,
    /// AdamW's starting rate (decays linearly to zero).
    pub learning_rate: f64,
    /// Texts per step.
    pub batch: usize,
    /// Tokens kept per text.
    pub max_tokens: usize,
    /// Seed of the batch order.
    pub seed: u64,
}

/// The settings the shipped commands use: three epochs at 4e-5, batches of 16, as measured
/// in docs/QUALITY.md (chosen before the validation splits were scored with them).
pub const OPTIONS: Options =
    Options { epochs: 3, learning_rate: 4e-5, batch: 16, max_tokens: 96, seed: 13 };

struct LayerNorm {
    weight: Tensor,
    bias: Tensor,
    eps: f32,
}

impl LayerNorm {
    fn new(builder: VarBuilder<'_>, size: usize, eps: f64) -> candle_core::Result<LayerNorm> {
        Ok(LayerNorm {
            weight: builder.get_with_hints(size, "weight", Init::Const(1.0))?,
            bias: builder.get_with_hints(size, "bias", Init::Const(0.0))?,
            eps: eps as f32,
        })
    }

    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        candle_nn::ops::layer_norm_slow(x, &self.weight, &self.bias, self.eps)
    }
}

struct Layer {
    query: Linear,
    key: Linear,
    value: Linear,
    output: Linear,
    attention_norm: LayerNorm,
    intermediate: Linear,
    down: Linear,
    output_norm: LayerNorm,
    heads: usize,
}

impl Layer {
    fn new(builder: VarBuilder<'_>, config: &Config) -> candle_core::Result<Layer> {
        let (hidden, inner) = (config.hidden_size, config.intermediate_size);
        let eps = config.layer_norm_eps;
        Ok(Layer {
            query: linear(hidden, hidden, builder.pp("attention.self.query"))?,
            key: linear(hidden, hidden, builder.pp("attention.self.key"))?,
            value: linear(hidden, hidden, builder.pp("attention.self.value"))?,
            output: linear(hidden, hidden, builder.pp("attention.output.dense"))?,
            attention_norm: LayerNorm::new(builder.pp("attention.output.LayerNorm"), hidden, eps)?,
            intermediate: linear(hidden, inner, builder.pp("intermediate.dense"))?,
            down: linear(inner, hidden, builder.pp("output.dense"))?,
            output_norm: LayerNorm::new(builder.pp("output.LayerNorm"), hidden, eps)?,
            heads: config.num_attention_heads.max(1),
        })
    }

    fn forward(&self, x: &Tensor, mask_bias: &Tensor) -> candle_core::Result<Tensor> {
        let (batch, tokens, hidden) = x.dims3()?;
        let size = hidden / self.heads;
        let split = |y: Tensor| -> candle_core::Result<Tensor> {
            y.reshape((batch, tokens, self.heads, size))?.transpose(1, 2)?.contiguous()
        };
        let query = split(self.query.forward(x)?)?;
        let key = split(self.key.forward(x)?)?;
        let value = split(self.value.forward(x)?)?;
        let scores = (query.matmul(&key.t()?)? / (size as f64).sqrt())?.broadcast_add(mask_bias)?;
        let weights = candle_nn::ops::softmax(&scores, D::Minus1)?;
        let context = weights.matmul(&value)?.transpose(1, 2)?.reshape((batch, tokens, hidden))?;
        let x = self.attention_norm.forward(&(self.output.forward(&context)? + x)?)?;
        let inner = self.intermediate.forward(&x)?.gelu_erf()?;
        self.output_norm.forward(&(self.down.forward(&inner)? + x)?)
    }
}

/// The BERT encoder on differentiable operations, mean-pooled.
struct Bert {
    words: Embedding,
    positions: Embedding,
    types: Embedding,
    norm: LayerNorm,
    layers: Vec<Layer>,
}

impl Bert {
    fn new(builder: VarBuilder<'_>, config: &Config) -> candle_core::Result<Bert> {
        let hidden = config.hidden_size;
        let layers = (0..config.num_hidden_layers)
            .map(|index| Layer::new(builder.pp(format!("encoder.layer.{index}")), config))
            .collect::<candle_core::Result<Vec<_>>>()?;
        Ok(Bert {
            words: embedding(config.vocab_size, hidden, builder.pp("embeddings.word_embeddings"))?,
            positions: embedding(
                config.max_position_embeddings,
                hidden,
                builder.pp("embeddings.position_embeddings"),
            )?,
            types: embedding(
                config.type_vocab_size,
                hidden,
                builder.pp("embeddings.token_type_embeddings"),
            )?,
            norm: LayerNorm::new(
                builder.pp("embeddings.LayerNorm"),
                hidden,
                config.layer_norm_eps,
            )?,
            layers,
        })
    }

    /// Mean-pooled hidden states of token ids `(batch, tokens)` under their mask.
    fn pooled(&self, ids: &Tensor, mask: &Tensor) -> candle_core::Result<Tensor> {
        let (batch, tokens) = ids.dims2()?;
        let device = ids.device();
        let positions = Tensor::arange(0u32, tokens as u32, device)?
            .unsqueeze(0)?
            .broadcast_as((batch, tokens))?
            .contiguous()?;
        let zero = Tensor::zeros((1, 1), DType::U32, device)?;
        let x = (self.words.forward(ids)? + self.positions.forward(&positions)?)?
            .broadcast_add(&self.types.forward(&zero)?)?;
        let mut x = self.norm.forward(&x)?;
        let bias = ((mask - 1.0)? * 10_000.0)?.reshape((batch, 1, 1, tokens))?;
        for layer in &self.layers {
            x = layer.forward(&x, &bias)?;
        }
        let weights = mask.unsqueeze(2)?;
        x.broadcast_mul(&weights)?.sum(1)?.broadcast_div(&weights.sum(1)?)
    }
}

/// Token ids and the mask of a batch, padded to its longest text.
fn batch_tensors(
    tokenizer: &Tokenizer,
    texts: &[&str],
    device: &Device,
) -> Result<(Tensor, Tensor), EncoderError> {
    let inputs: Vec<String> = texts
        .iter()
        .map(|text| if text.trim().is_empty() { ".".to_owned() } else { (*text).to_owned() })
        .collect();
    let encodings =
        tokenizer.encode_batch(inputs, true).map_err(|error| failed("tokenizer", error))?;
    let tokens = encodings.first().map_or(0, |encoding| encoding.get_ids().len());
    let ids: Vec<u32> = encodings.iter().flat_map(|encoding| encoding.get_ids().to_vec()).collect();
    let mask: Vec<f32> = encodings
        .iter()
        .flat_map(|encoding| encoding.get_attention_mask().iter().map(|&value| value as f32))
        .collect();
    let build = || -> candle_core::Result<(Tensor, Tensor)> {
        Ok((
            Tensor::from_vec(ids, (texts.len(), tokens), device)?,
            Tensor::from_vec(mask, (texts.len(), tokens), device)?,
        ))
    };
    build().map_err(|error| failed("batch", error))
}

/// A fine-tuned encoder and its head.
pub struct Classifier {
    bert: Bert,
    head: Linear,
    tokenizer: Tokenizer,
    device: Device,
    classes: usize,
}

impl std::fmt::Debug for Classifier {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("Classifier").field("classes", &self.classes).finish_non_exhaustive()
    }
}

impl Classifier {
    /// Loads a folder written by [`fine_tune`].
    pub fn load(folder: &Path) -> Result<Classifier, EncoderError> {
        let device = Device::Cpu;
        let config = read_config(folder)?;
        let weights = read(&folder.join("model.safetensors"))?;
        let builder = VarBuilder::from_buffered_safetensors(weights, DType::F32, &device)
            .map_err(|error| failed("model.safetensors", error))?;
        let bert = Bert::new(builder, &config).map_err(|error| failed("model", error))?;
        let head_weights = read(&folder.join("head.safetensors"))?;
        let tensors = candle_core::safetensors::load_buffer(&head_weights, &device)
            .map_err(|error| failed("head.safetensors", error))?;
        let (Some(weight), Some(bias)) =
            (tensors.get("classifier.weight"), tensors.get("classifier.bias"))
        else {
            return Err(failed("head.safetensors", "classifier.weight or classifier.bias missing"));
        };
        let classes = weight.dims().first().copied().unwrap_or(0);
        let head = Linear::new(weight.clone(), Some(bias.clone()));
        let tokenizer = read_tokenizer(folder, OPTIONS.max_tokens)?;
        Ok(Classifier { bert, head, tokenizer, device, classes })
    }

    /// Number of classes.
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// Class probabilities of texts, in order.
    pub fn predict(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EncoderError> {
        let mut out = Vec::with_capacity(texts.len());
        for chunk in texts.chunks(crate::encoder::BATCH) {
            let (ids, mask) = batch_tensors(&self.tokenizer, chunk, &self.device)?;
            let run = || -> candle_core::Result<Vec<Vec<f32>>> {
                let logits = self.head.forward(&self.bert.pooled(&ids, &mask)?)?;
                candle_nn::ops::softmax(&logits, D::Minus1)?.to_vec2::<f32>()
            };
            out.extend(run().map_err(|error| failed("model run", error))?);
        }
        Ok(out)
    }
}

impl crate::annotators::EnglishSentiment for Classifier {
    fn probabilities(&self, text: &str) -> Option<[f32; 3]> {
        let probabilities = self.predict(&[text]).ok()?;
        let first = probabilities.first()?;
        Some([*first.first()?, *first.get(1)?, *first.get(2)?])
    }
}

/// A seeded shuffle (SplitMix64 and Fisher–Yates), so a training run is reproducible.
fn shuffled(count: usize, seed: u64) -> Vec<usize> {
    let mut state = seed;
    let mut next = || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let mut order: Vec<usize> = (0..count).collect();
    for index in (1..count).rev() {
        let other = (next() % (index as u64 + 1)) as usize;
        order.swap(index, other);
    }
    order
}

/// Fine-tunes the encoder in `base` (`config.json`, `tokenizer.json`, `model.safetensors`)
/// with a head of `classes` outputs on `(text, class)` examples, and writes the result to
/// `out`. `progress` is called after each step with (step, steps, loss).
pub fn fine_tune(
    base: &Path,
    examples: &[(String, usize)],
    classes: usize,
    options: &Options,
    out: &Path,
    mut progress: impl FnMut(usize, usize, f32),
) -> Result<(), EncoderError> {
    let device = Device::Cpu;
    let config = read_config(base)?;
    let tokenizer = read_tokenizer(base, options.max_tokens)?;
    let mut encoder_vars = VarMap::new();
    let bert = Bert::new(VarBuilder::from_varmap(&encoder_vars, DType::F32, &device), &config)
        .map_err(|error| failed("model", error))?;
    encoder_vars
        .load(base.join("model.safetensors"))
        .map_err(|error| failed("model.safetensors", error))?;
    let head_vars = VarMap::new();
    let head_builder = VarBuilder::from_varmap(&head_vars, DType::F32, &device);
    let build_head = || -> candle_core::Result<Linear> {
        let weight = head_builder.pp("classifier").get_with_hints(
            (classes, config.hidden_size),
            "weight",
            Init::Const(0.0),
        )?;
        let bias =
            head_builder.pp("classifier").get_with_hints(classes, "bias", Init::Const(0.0))?;
        Ok(Linear::new(weight, Some(bias)))
    };
    let head = build_head().map_err(|error| failed("head", error))?;
    let mut variables = encoder_vars.all_vars();
    variables.extend(head_vars.all_vars());
    let parameters =
        ParamsAdamW { lr: options.learning_rate, weight_decay: 0.01, ..ParamsAdamW::default() };
    let mut optimiser =
        AdamW::new(variables, parameters).map_err(|error| failed("optimiser", error))?;
    let batch = options.batch.max(1);
    let per_epoch = examples.len().div_ceil(batch);
    let steps = per_epoch * options.epochs;
    let mut step = 0;
    for epoch in 0..options.epochs {
        let order = shuffled(examples.len(), options.seed.wrapping_add(epoch as u64));
        for chunk in order.chunks(batch) {
            let texts: Vec<&str> = chunk
                .iter()
                .filter_map(|index| examples.get(*index).map(|(text, _)| text.as_str()))
                .collect();
            let labels: Vec<u32> = chunk
                .iter()
                .filter_map(|index| examples.get(*index).map(|(_, class)| *class as u32))
                .collect();
            let (ids, mask) = batch_tensors(&tokenizer, &texts, &device)?;
            let rate = options.learning_rate * (1.0 - step as f64 / steps.max(1) as f64);
            optimiser.set_learning_rate(rate);
            let mut run = || -> candle_core::Result<f32> {
                let logits = head.forward(&bert.pooled(&ids, &mask)?)?;
                let target = Tensor::from_vec(labels.clone(), labels.len(), &device)?;
                let loss = candle_nn::loss::cross_entropy(&logits, &target)?;
                optimiser.backward_step(&loss)?;
                loss.to_scalar::<f32>()
            };
            let loss = run().map_err(|error| failed("training step", error))?;
            step += 1;
            progress(step, steps, loss);
        }
    }
    std::fs::create_dir_all(out)
        .map_err(|source| EncoderError::Io { path: out.to_owned(), source })?;
    for file in ["config.json", "tokenizer.json"] {
        std::fs::copy(base.join(file), out.join(file))
            .map_err(|source| EncoderError::Io { path: out.join(file), source })?;
    }
    encoder_vars
        .save(out.join("model.safetensors"))
        .map_err(|error| failed("model.safetensors", error))?;
    head_vars
        .save(out.join("head.safetensors"))
        .map_err(|error| failed("head.safetensors", error))?;
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) const WORDS: [&str; 8] =
        ["[PAD]", "[UNK]", "good", "great", "bad", "awful", "the", "day"];

    /// A tiny BERT with seeded pseudo-random weights (the same on every run: candle's own
    /// initialisation draws from an unseeded generator) and a word-level tokenizer, written
    /// to `folder`.
    pub(crate) fn tiny_model(folder: &Path) {
        let config = serde_json::json!({
            "vocab_size": WORDS.len(), "hidden_size": 16, "num_hidden_layers": 2,
            "num_attention_heads": 2, "intermediate_size": 32, "hidden_act": "gelu",
            "hidden_dropout_prob": 0.0, "max_position_embeddings": 32, "type_vocab_size": 2,
            "initializer_range": 0.02, "layer_norm_eps": 1e-12, "pad_token_id": 0
        });
        std::fs::write(folder.join("config.json"), config.to_string()).unwrap();
        let vocab: serde_json::Map<String, serde_json::Value> =
            WORDS.iter().enumerate().map(|(id, word)| ((*word).to_owned(), id.into())).collect();
        let tokenizer = serde_json::json!({
            "version": "1.0", "truncation": null, "padding": null, "added_tokens": [],
            "normalizer": null, "pre_tokenizer": {"type": "Whitespace"},
            "post_processor": null, "decoder": null,
            "model": {"type": "WordLevel", "vocab": vocab, "unk_token": "[UNK]"}
        });
        std::fs::write(folder.join("tokenizer.json"), tokenizer.to_string()).unwrap();
        let config: Config = serde_json::from_value(config).unwrap();
        let variables = VarMap::new();
        Bert::new(VarBuilder::from_varmap(&variables, DType::F32, &Device::Cpu), &config).unwrap();
        let data = variables.data().lock().unwrap();
        let mut names: Vec<&String> = data.keys().collect();
        names.sort();
        let mut state = 7u64;
        for name in names {
            let var = &data[name];
            let count = var.elem_count();
            let values: Vec<f32> = if name.ends_with("LayerNorm.weight") {
                vec![1.0; count]
            } else if name.ends_with("bias") {
                vec![0.0; count]
            } else {
                (0..count)
                    .map(|_| {
                        state = state
                            .wrapping_mul(6364136223846793005)
                            .wrapping_add(1442695040888963407);
                        ((state >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 0.2
                    })
                    .collect()
            };
            var.set(&Tensor::from_vec(values, var.shape(), &Device::Cpu).unwrap()).unwrap();
        }
        drop(data);
        variables.save(folder.join("model.safetensors")).unwrap();
    }

    fn examples() -> Vec<(String, usize)> {
        let mut out = Vec::new();
        for _ in 0..6 {
            out.push(("the day good great".to_owned(), 2));
            out.push(("great good".to_owned(), 2));
            out.push(("the day bad awful".to_owned(), 0));
            out.push(("awful bad".to_owned(), 0));
            out.push(("the day".to_owned(), 1));
        }
        out
    }

    #[test]
    fn fine_tuning_learns_writes_a_loadable_folder_and_is_deterministic() {
        let base = tempfile::tempdir().unwrap();
        tiny_model(base.path());
        let options =
            Options { epochs: 20, learning_rate: 3e-3, batch: 5, max_tokens: 16, seed: 1 };
        let (first, second) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let mut losses = Vec::new();
        fine_tune(base.path(), &examples(), 3, &options, first.path(), |_, _, loss| {
            losses.push(loss)
        })
        .unwrap();
        fine_tune(base.path(), &examples(), 3, &options, second.path(), |_, _, _| {}).unwrap();
        assert!(losses.last().unwrap() < &(losses[0] * 0.5), "{losses:?}");
        let classifier = Classifier::load(first.path()).unwrap();
        assert_eq!(classifier.classes(), 3);
        let texts = ["good great the day", "bad the awful", "the day"];
        let predicted = classifier.predict(&texts).unwrap();
        let labels: Vec<usize> = predicted
            .iter()
            .map(|row| (0..3).max_by(|a, b| row[*a].total_cmp(&row[*b])).unwrap())
            .collect();
        assert_eq!(labels, [2, 0, 1], "{predicted:?}");
        assert_eq!(predicted, Classifier::load(second.path()).unwrap().predict(&texts).unwrap());
        // The fine-tuned encoder keeps the weight names: the plain encoder loads it.
        let encoder = crate::encoder::Encoder::load(first.path()).unwrap();
        assert_eq!(encoder.embed(&texts).unwrap().len(), 3);
        // As the chain's English model.
        let english: &dyn crate::annotators::EnglishSentiment = &classifier;
        let probabilities = english.probabilities("good great").unwrap();
        assert!(probabilities[2] > 0.5, "{probabilities:?}");
    }

    #[test]
    fn a_missing_or_broken_folder_is_an_error_not_a_panic() {
        let empty = tempfile::tempdir().unwrap();
        assert!(Classifier::load(empty.path()).is_err());
        let base = tempfile::tempdir().unwrap();
        tiny_model(base.path());
        // A base model is not a fine-tuned folder: no head.
        assert!(Classifier::load(base.path()).is_err());
        let out = tempfile::tempdir().unwrap();
        assert!(
            fine_tune(empty.path(), &examples(), 3, &OPTIONS, out.path(), |_, _, _| {}).is_err()
        );
    }

    #[test]
    fn the_shuffle_is_a_seeded_permutation() {
        let order = shuffled(50, 13);
        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..50).collect::<Vec<_>>());
        assert_eq!(order, shuffled(50, 13));
        assert_ne!(order, shuffled(50, 14));
    }
}
