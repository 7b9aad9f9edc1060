//! The compact file format of Waterline's trained models: sparse tables of hashed features
//! with one weight per class, quantised to 16 bits and gzip-compressed.
//!
//! ```text
//! gzip( "WLM1" | name | classes | default weights | sections )
//! section = name | scale f32 | n u32 | keys u32 × n (sorted) | values i16 × n × classes
//! ```
//!
//! Writing is deterministic: the same table gives the same bytes, so a test can check that
//! the shipped file is exactly what the training command produces.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::io::{Read, Write};

/// Errors reading a model file.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    /// The bytes are not a Waterline model.
    #[error("not a Waterline model file: {0}")]
    Format(String),
    /// Reading failed.
    #[error("cannot read the model: {0}")]
    Io(#[from] std::io::Error),
}

/// A hasher for keys that are already hashes.
#[derive(Default)]
pub struct IdentityHasher(u64);

impl Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = (self.0 << 8) | u64::from(*byte);
        }
    }
    fn write_u32(&mut self, value: u32) {
        self.0 = u64::from(value).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// A map from hashed feature to row index.
pub type KeyIndex = HashMap<u32, u32, BuildHasherDefault<IdentityHasher>>;

/// One section: hashed keys and `classes` weights per key.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Section {
    /// The section's name (`features`, `lexicon`).
    pub name: String,
    /// Sorted keys.
    pub keys: Vec<u32>,
    /// `keys.len() × classes` weights.
    pub values: Vec<f32>,
    index: KeyIndex,
}

impl Section {
    /// A section from unsorted `(key, weights)` pairs.
    pub fn new(name: &str, mut rows: Vec<(u32, Vec<f32>)>) -> Section {
        rows.sort_by_key(|(key, _)| *key);
        rows.dedup_by_key(|(key, _)| *key);
        let keys: Vec<u32> = rows.iter().map(|(key, _)| *key).collect();
        let values = rows.into_iter().flat_map(|(_, weights)| weights).collect();
        let mut section =
            Section { name: name.to_owned(), keys, values, index: KeyIndex::default() };
        section.build_index();
        section
    }

    fn build_index(&mut self) {
        self.index = self.keys.iter().enumerate().map(|(row, key)| (*key, row as u32)).collect();
    }

    /// The weights of `key`, when present.
    pub fn get(&self, key: u32, classes: usize) -> Option<&[f32]> {
        let row = *self.index.get(&key)? as usize;
        self.values.get(row * classes..(row + 1) * classes)
    }
}

/// A model: class names, default weights and named sections.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    /// What the model is (`language`, `sentiment`).
    pub name: String,
    /// Class names, in output order.
    pub classes: Vec<String>,
    /// Per-class defaults (a bias, or the log-probability of an unseen feature).
    pub defaults: Vec<f32>,
    /// Sections.
    pub sections: Vec<Section>,
}

impl Table {
    /// The section named `name`.
    pub fn section(&self, name: &str) -> Option<&Section> {
        self.sections.iter().find(|section| section.name == name)
    }

    /// Serialises (deterministically) and compresses.
    pub fn to_bytes(&self) -> Vec<u8> {
        compress(&self.raw_bytes())
    }

    /// The uncompressed serialisation. Compressed bytes may differ between builds (the
    /// gzip backend depends on the build's features); this never does.
    pub fn raw_bytes(&self) -> Vec<u8> {
        let mut raw = Vec::new();
        raw.extend_from_slice(b"WLM1");
        put_str(&mut raw, &self.name);
        raw.extend_from_slice(&(self.classes.len() as u32).to_le_bytes());
        for class in &self.classes {
            put_str(&mut raw, class);
        }
        for value in &self.defaults {
            raw.extend_from_slice(&value.to_le_bytes());
        }
        raw.extend_from_slice(&(self.sections.len() as u32).to_le_bytes());
        for section in &self.sections {
            put_str(&mut raw, &section.name);
            let largest =
                section.values.iter().fold(0f32, |largest, value| largest.max(value.abs()));
            let scale = if largest > 0.0 { largest / f32::from(i16::MAX) } else { 1.0 };
            raw.extend_from_slice(&scale.to_le_bytes());
            raw.extend_from_slice(&(section.keys.len() as u32).to_le_bytes());
            for key in &section.keys {
                raw.extend_from_slice(&key.to_le_bytes());
            }
            for value in &section.values {
                let quantised = (value / scale).round().clamp(-32767.0, 32767.0) as i16;
                raw.extend_from_slice(&quantised.to_le_bytes());
            }
        }
        raw
    }

    /// Decompresses a model file to its raw serialisation (see [`Table::raw_bytes`]).
    pub fn decompress(bytes: &[u8]) -> Result<Vec<u8>, TableError> {
        let mut raw = Vec::new();
        flate2::read::GzDecoder::new(bytes).read_to_end(&mut raw)?;
        Ok(raw)
    }

    /// Reads a model written by [`Table::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Table, TableError> {
        let raw = Table::decompress(bytes)?;
        let mut cursor = Cursor::new(&raw);
        if cursor.take(4)? != b"WLM1" {
            return Err(TableError::Format("bad magic".into()));
        }
        let name = cursor.string()?;
        let class_count = cursor.u32()? as usize;
        if class_count == 0 || class_count > 64 {
            return Err(TableError::Format(format!("{class_count} classes")));
        }
        let classes = (0..class_count).map(|_| cursor.string()).collect::<Result<Vec<_>, _>>()?;
        let defaults = (0..class_count).map(|_| cursor.f32()).collect::<Result<Vec<_>, _>>()?;
        let section_count = cursor.u32()? as usize;
        let mut sections = Vec::new();
        for _ in 0..section_count.min(16) {
            let name = cursor.string()?;
            let scale = cursor.f32()?;
            let count = cursor.u32()? as usize;
            let keys = (0..count).map(|_| cursor.u32()).collect::<Result<Vec<_>, _>>()?;
            let mut values = Vec::with_capacity(count * class_count);
            for _ in 0..count * class_count {
                let bytes = cursor.take(2)?;
                values.push(f32::from(i16::from_le_bytes([bytes[0], bytes[1]])) * scale);
            }
            let mut section = Section { name, keys, values, index: KeyIndex::default() };
            section.build_index();
            sections.push(section);
        }
        Ok(Table { name, classes, defaults, sections })
    }
}

/// Gzip-compresses a raw serialisation (shared by the model files).
pub(crate) fn compress(raw: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(raw);
    encoder.finish().unwrap_or_default()
}

pub(crate) fn put_str(raw: &mut Vec<u8>, text: &str) {
    raw.extend_from_slice(&(text.len() as u32).to_le_bytes());
    raw.extend_from_slice(text.as_bytes());
}

/// Reads little-endian values from a raw serialisation.
pub(crate) struct Cursor<'a> {
    pub(crate) bytes: &'a [u8],
    pub(crate) at: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Cursor<'a> {
        Cursor { bytes, at: 0 }
    }
    /// True when every byte was read.
    pub(crate) fn is_done(&self) -> bool {
        self.at == self.bytes.len()
    }
    pub(crate) fn take(&mut self, count: usize) -> Result<&'a [u8], TableError> {
        let end = self.at.checked_add(count).filter(|end| *end <= self.bytes.len());
        let end = end.ok_or_else(|| TableError::Format("truncated".into()))?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }
    pub(crate) fn u32(&mut self) -> Result<u32, TableError> {
        let bytes = self.take(4)?;
        Ok(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    }
    pub(crate) fn f32(&mut self) -> Result<f32, TableError> {
        Ok(f32::from_bits(self.u32()?))
    }
    pub(crate) fn string(&mut self) -> Result<String, TableError> {
        let length = self.u32()? as usize;
        let bytes = self.take(length)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| TableError::Format("bad text".into()))
    }
}

/// The 32-bit hash of a feature string.
pub fn feature(text: &str) -> u32 {
    xxhash_rust::xxh3::xxh3_64(text.as_bytes()) as u32
}

/// The 32-bit hash of a feature given as parts: the hash of their concatenation, the same
/// as [`feature`] of the joined text. Short features are joined on the stack and hashed in
/// one call (a streaming hasher's state is half a kilobyte to set up, per feature).
pub fn feature_parts(parts: &[&[u8]]) -> u32 {
    hash_parts(parts) as u32
}

/// The 64-bit XXH3 of the concatenation of `parts` (without allocating for short ones).
pub fn hash_parts(parts: &[&[u8]]) -> u64 {
    const STACK: usize = 128;
    let length: usize = parts.iter().map(|part| part.len()).sum();
    if length <= STACK {
        let mut joined = [0u8; STACK];
        let mut at = 0;
        for part in parts {
            joined[at..at + part.len()].copy_from_slice(part);
            at += part.len();
        }
        return xxhash_rust::xxh3::xxh3_64(&joined[..at]);
    }
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    for part in parts {
        hasher.update(part);
    }
    hasher.digest()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_feature_in_parts_hashes_as_the_joined_text() {
        let long = "x".repeat(300);
        for parts in [vec!["w", "nausea", "~"], vec!["b", "bad", " ", "headache"], vec!["", ""]] {
            let bytes: Vec<&[u8]> = parts.iter().map(|part| part.as_bytes()).collect();
            assert_eq!(feature_parts(&bytes), feature(&parts.concat()));
        }
        assert_eq!(feature_parts(&[b"w", long.as_bytes()]), feature(&format!("w{long}")));
        assert_eq!(
            hash_parts(&[b"side", b" ", b"effects"]),
            xxhash_rust::xxh3::xxh3_64(b"side effects")
        );
    }

    #[test]
    fn round_trip_is_exact_enough_and_deterministic() {
        let table = Table {
            name: "test".into(),
            classes: vec!["a".into(), "b".into()],
            defaults: vec![0.5, -0.5],
            sections: vec![Section::new(
                "features",
                vec![(7, vec![1.0, -2.0]), (3, vec![0.25, 0.0])],
            )],
        };
        let bytes = table.to_bytes();
        assert_eq!(bytes, table.to_bytes());
        let back = Table::from_bytes(&bytes).unwrap();
        assert_eq!(back.classes, table.classes);
        let weights = back.section("features").unwrap().get(7, 2).unwrap();
        assert!((weights[1] + 2.0).abs() < 1e-3);
        assert!(Table::from_bytes(b"nonsense").is_err());
        assert!(Table::from_bytes(&bytes[..bytes.len() / 2]).is_err());
    }
}
