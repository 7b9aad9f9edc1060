//! Static word embeddings: one small vector per word, distilled from a sentence-transformer
//! (see `distill.rs` and `docs/adr/004-topics.md`), so that a post's embedding is a weighted
//! mean of table rows: tens of thousands of posts per second on one core, no model at run time.
//!
//! The table is keyed by the hash of a word's folded form (`table::feature`), so it ships no
//! word list; vectors are 8-bit with one scale per dimension, and each word carries a weight
//! (smooth inverse frequency: rare words count more than common ones).

use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::io::{Read, Write};

use crate::table::{IdentityHasher, TableError, feature};
use crate::text::{Kind, Token};
use crate::words;

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
        raw.extend_from_slice(&(self.source.len() as u32).to_le_bytes());
        raw.extend_from_slice(self.source.as_bytes());
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
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        // Writing to a Vec cannot fail.
        let _ = encoder.write_all(&self.raw_bytes());
        encoder.finish().unwrap_or_default()
    }

    /// Reads a compressed table.
    pub fn from_bytes(bytes: &[u8]) -> Result<Embeddings, TableError> {
        let mut raw = Vec::new();
        flate2::read::GzDecoder::new(bytes)
            .read_to_end(&mut raw)
            .map_err(|error| TableError::Format(format!("not a gzip stream: {error}")))?;
        let mut reader = Reader { raw: &raw, at: 0 };
        if reader.take(4)? != MAGIC {
            return Err(TableError::Format("not a Waterline embedding table".into()));
        }
        let source_len = reader.u32()? as usize;
        let source = String::from_utf8_lossy(reader.take(source_len)?).into_owned();
        let dims = reader.u32()? as usize;
        let rows = reader.u32()? as usize;
        let scales = (0..dims).map(|_| reader.f32()).collect::<Result<Vec<_>, _>>()?;
        let keys = (0..rows).map(|_| reader.u32()).collect::<Result<Vec<_>, _>>()?;
        let weights = (0..rows).map(|_| reader.f32()).collect::<Result<Vec<_>, _>>()?;
        let values =
            reader.take(rows * dims)?.iter().map(|byte| i8::from_le_bytes([*byte])).collect();
        if reader.at != raw.len() {
            return Err(TableError::Format("trailing bytes after the embedding table".into()));
        }
        let mut table =
            Embeddings { source, dims, scales, keys, weights, values, index: HashMap::default() };
        table.build_index();
        Ok(table)
    }
}

struct Reader<'a> {
    raw: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, len: usize) -> Result<&'a [u8], TableError> {
        let slice = self
            .raw
            .get(self.at..self.at + len)
            .ok_or_else(|| TableError::Format("embedding table is truncated".into()))?;
        self.at += len;
        Ok(slice)
    }

    fn u32(&mut self) -> Result<u32, TableError> {
        let bytes = self.take(4)?;
        Ok(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    }

    fn f32(&mut self) -> Result<f32, TableError> {
        Ok(f32::from_bits(self.u32()?))
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
