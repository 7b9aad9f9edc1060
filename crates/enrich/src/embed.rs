//! Static word embeddings: one small vector per word, distilled from a sentence-transformer
//! (see `distill.rs` and `docs/adr/004-topics.md`), so that a post's embedding is a weighted
//! mean of table rows: tens of thousands of posts per second on one core, no model at run time.
//!
//! The table is keyed by the hash of a word's folded form (`table::feature`), so it ships no
//! word list; vectors are 8-bit with one scale per dimension, and each word carries a weight
//! (smooth inverse frequency: rare words count more than common ones).

use crate::table::{Cursor, IdentityHasher, Table, TableError, compress, feature, put_str};
use crate::text::{Kind, Token};
use crate::words;
use std::collections::HashMap;
use std::hash::BuildHasherDefault;

const MAGIC: &[u8; 4] = b"WLE1";

/// A static embedding table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Embeddings {
    /// What the table was distilled from (`all-MiniLM-L6-v2 → 128`).
    pub source: String,
    /// Dimensions per vector.
    pub dims: usize,
    /// Per-dimension scale of the 8-bit values.
    pub scales: Vec<f32>,
    /// Sorted word keys.
    pub keys: Vec<u32>,
    /// One weight per key.
    pub weights: Vec<f32>,
    /// `keys.len() × dims` 8-bit values.
    pub values: Vec<i8>,
    index: HashMap<u32, u32, BuildHasherDefault<IdentityHasher>>,
}

impl Embeddings {
    /// A table from unsorted `(key, weight, vector)` rows of `dims` floats each.
    pub fn new(source: &str, dims: usize, mut rows: Vec<(u32, f32, Vec<f32>)>) -> Embeddings {
        rows.sort_by_key(|(key, _, _)| *key);
        rows.dedup_by_key(|(key, _, _)| *key);
        let mut scales = vec![0f32; dims];
        for (_, _, vector) in &rows {
            for (scale, value) in scales.iter_mut().zip(vector) {
                *scale = scale.max(value.abs() / 127.0);
            }
        }
        for scale in &mut scales {
            if *scale == 0.0 {
                *scale = 1.0;
            }
        }
        let mut table = Embeddings {
            source: source.to_owned(),
            dims,
            scales: scales.clone(),
            keys: rows.iter().map(|(key, _, _)| *key).collect(),
            weights: rows.iter().map(|(_, weight, _)| *weight).collect(),
            values: rows
                .iter()
                .flat_map(|(_, _, vector)| {
                    vector
                        .iter()
                        .zip(&scales)
                        .map(|(value, scale)| (value / scale).round().clamp(-127.0, 127.0) as i8)
                        .collect::<Vec<_>>()
                })
                .collect(),
            index: HashMap::default(),
        };
        table.build_index();
        table
    }

    fn build_index(&mut self) {
        self.index = self.keys.iter().enumerate().map(|(row, key)| (*key, row as u32)).collect();
    }

    /// Number of words.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The row of a folded word.
    pub fn row(&self, word: &str) -> Option<usize> {
        self.index.get(&feature(word)).map(|row| *row as usize)
    }

    /// Adds `weight × row` to `out` (which has `dims` values).
    fn add_row(&self, row: usize, weight: f32, out: &mut [f32]) {
        let Some(values) = self.values.get(row * self.dims..(row + 1) * self.dims) else {
            return;
        };
        for ((slot, value), scale) in out.iter_mut().zip(values).zip(&self.scales) {
            *slot += weight * f32::from(*value) * scale;
        }
    }

    /// The unit-length embedding of tokens (words and hashtag words that are not stop
    /// words), or `None` when no word is in the table. Returns the words that counted.
    pub fn embed_tokens(&self, tokens: &[Token], out: &mut Vec<f32>) -> usize {
        out.clear();
        out.resize(self.dims, 0.0);
        let mut used = 0;
        for token in tokens {
            if !matches!(token.kind, Kind::Word | Kind::HashtagWord) || token.norm.len() < 2 {
                continue;
            }
            if words::STOP_WORDS.any(&token.norm) {
                continue;
            }
            let Some(row) = self.row(&token.norm) else { continue };
            let weight = self.weights.get(row).copied().unwrap_or(0.0);
            self.add_row(row, weight, out);
            used += 1;
        }
        let norm = out.iter().map(|value| value * value).sum::<f32>().sqrt();
        if used == 0 || norm == 0.0 {
            return 0;
        }
        for value in out.iter_mut() {
            *value /= norm;
        }
        used
    }

    /// The uncompressed serialisation (deterministic).
    pub fn raw_bytes(&self) -> Vec<u8> {
        let mut raw = Vec::with_capacity(16 + self.keys.len() * (8 + self.dims));
        raw.extend_from_slice(MAGIC);
        put_str(&mut raw, &self.source);
        raw.extend_from_slice(&(self.dims as u32).to_le_bytes());
        raw.extend_from_slice(&(self.keys.len() as u32).to_le_bytes());
        for scale in &self.scales {
            raw.extend_from_slice(&scale.to_le_bytes());
        }
        for key in &self.keys {
            raw.extend_from_slice(&key.to_le_bytes());
        }
        for weight in &self.weights {
            raw.extend_from_slice(&weight.to_le_bytes());
        }
        raw.extend(self.values.iter().map(|value| value.to_le_bytes()[0]));
        raw
    }

    /// Serialises and compresses.
    pub fn to_bytes(&self) -> Vec<u8> {
        compress(&self.raw_bytes())
    }

    /// Reads a compressed table.
    pub fn from_bytes(bytes: &[u8]) -> Result<Embeddings, TableError> {
        let raw = Table::decompress(bytes)
            .map_err(|error| TableError::Format(format!("not a gzip stream: {error}")))?;
        let mut cursor = Cursor::new(&raw);
        if cursor.take(4)? != MAGIC {
            return Err(TableError::Format("not a Waterline embedding table".into()));
        }
        let source = cursor.string()?;
        let dims = cursor.u32()? as usize;
        let rows = cursor.u32()? as usize;
        let scales = (0..dims).map(|_| cursor.f32()).collect::<Result<Vec<_>, _>>()?;
        let keys = (0..rows).map(|_| cursor.u32()).collect::<Result<Vec<_>, _>>()?;
        let weights = (0..rows).map(|_| cursor.f32()).collect::<Result<Vec<_>, _>>()?;
        let size = rows.checked_mul(dims).ok_or_else(|| TableError::Format("too large".into()))?;
        let values = cursor.take(size)?.iter().map(|byte| i8::from_le_bytes([*byte])).collect();
        if !cursor.is_done() {
            return Err(TableError::Format("trailing bytes after the embedding table".into()));
        }
        let mut table =
            Embeddings { source, dims, scales, keys, weights, values, index: HashMap::default() };
        table.build_index();
        Ok(table)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::text::tokenize;

    #[test]
    fn round_trip_and_embedding() {
        let rows = vec![
            (feature("cat"), 1.0, vec![1.0, 0.0, 0.0]),
            (feature("dog"), 0.5, vec![0.8, 0.6, 0.0]),
            (feature("car"), 1.0, vec![0.0, 0.0, 1.0]),
        ];
        let table = Embeddings::new("test", 3, rows);
        let back = Embeddings::from_bytes(&table.to_bytes()).unwrap();
        assert_eq!(back, table);
        let mut out = Vec::new();
        assert_eq!(back.embed_tokens(&tokenize("The CAT and the dog!", None), &mut out), 2);
        assert!((out.iter().map(|v| v * v).sum::<f32>() - 1.0).abs() < 1e-4);
        assert!(out[0] > 0.9 && out[2].abs() < 0.01);
        assert_eq!(back.embed_tokens(&tokenize("nothing known here", None), &mut out), 0);
        assert!(Embeddings::from_bytes(b"junk").is_err());
    }
}
