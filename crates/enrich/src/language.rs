//! Language identification for short social texts.
//!
//! Scripts decide first (Arabic letters → `ar`, Devanagari → `hi`, Hangul → `ko`, …); Latin
//! text goes to a multinomial naive Bayes over character 1–4-grams and whole words, trained
//! by `waterline train language` on the UMSAB training splits (eight languages, including
//! Hindi written in Latin letters, which general-purpose detectors miss). A text with fewer
//! than three letters, once URLs, mentions, numbers and emoji are removed, is `und`.

use crate::table::{Section, Table, TableError, feature_parts};

/// Languages the model knows (ISO 639-1), in class order.
pub const LANGUAGES: [&str; 8] = ["en", "fr", "de", "es", "it", "pt", "ar", "hi"];

/// The answer for a text that is too short or mixed.
pub const UNDETERMINED: &str = "und";

/// Letters needed before the model answers.
const MIN_LETTERS: usize = 3;

/// Which script a letter belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Script {
    Latin,
    Arabic,
    Devanagari,
    Cyrillic,
    Greek,
    Hebrew,
    Hangul,
    Kana,
    Han,
    Thai,
    Other,
}

fn script(ch: char) -> Script {
    match ch as u32 {
        0x41..=0x5A | 0x61..=0x7A | 0xC0..=0x24F | 0x1E00..=0x1EFF => Script::Latin,
        0x600..=0x6FF | 0x750..=0x77F | 0x8A0..=0x8FF | 0xFB50..=0xFDFF | 0xFE70..=0xFEFF => {
            Script::Arabic
        }
        0x900..=0x97F => Script::Devanagari,
        0x400..=0x4FF => Script::Cyrillic,
        0x370..=0x3FF => Script::Greek,
        0x590..=0x5FF => Script::Hebrew,
        0xAC00..=0xD7AF | 0x1100..=0x11FF => Script::Hangul,
        0x3040..=0x30FF => Script::Kana,
        0x4E00..=0x9FFF => Script::Han,
        0xE00..=0xE7F => Script::Thai,
        _ => Script::Other,
    }
}

/// The text the model sees: letters and apostrophes, lower case, with URLs, mentions,
/// hashtag marks, numbers, emoji and punctuation removed; words separated by one space.
pub fn clean(text: &str) -> String {
    let decoded = crate::text::decode_html(text);
    let mut out = String::with_capacity(decoded.len());
    for word in decoded.split_whitespace() {
        if word.starts_with('@')
            || word.starts_with("http://")
            || word.starts_with("https://")
            || word.starts_with("www.")
            || word.eq_ignore_ascii_case("rt")
        {
            continue;
        }
        let mut pushed = false;
        for ch in word.chars() {
            if ch.is_alphabetic() || ((ch == '\'' || ch == '’') && pushed) {
                if !pushed && !out.is_empty() {
                    out.push(' ');
                }
                pushed = true;
                for lower in ch.to_lowercase() {
                    out.push(if lower == '’' { '\'' } else { lower });
                }
            } else if pushed && !out.ends_with(' ') {
                out.push(' ');
            }
        }
        while out.ends_with(' ') {
            out.pop();
        }
    }
    out
}

/// The hashed features of a cleaned text: character 1–4-grams of ` word ` and the words.
pub fn features(cleaned: &str, out: &mut Vec<u32>) {
    out.clear();
    let mut buffer: Vec<char> = Vec::with_capacity(32);
    for word in cleaned.split(' ').filter(|word| !word.is_empty()) {
        out.push(feature_parts(&[b"w", word.as_bytes()]));
        buffer.clear();
        buffer.push(' ');
        buffer.extend(word.chars());
        buffer.push(' ');
        // Every n-gram starting at `start`, built incrementally: FNV-1a over code points,
        // finished with a mix that spreads the bits (cheap; hundreds per post).
        for start in 0..buffer.len() {
            let mut hash: u32 = 0x811C_9DC5;
            for n in 1..=4 {
                let Some(ch) = buffer.get(start + n - 1) else { break };
                hash = (hash ^ *ch as u32).wrapping_mul(0x0100_0193);
                if n == 1 && *ch == ' ' {
                    continue;
                }
                out.push(mix(hash ^ (n as u32).wrapping_mul(0x9E37_79B9)));
            }
        }
    }
}

/// The finaliser of MurmurHash3: every input bit affects every output bit.
fn mix(mut hash: u32) -> u32 {
    hash ^= hash >> 16;
    hash = hash.wrapping_mul(0x85EB_CA6B);
    hash ^= hash >> 13;
    hash = hash.wrapping_mul(0xC2B2_AE35);
    hash ^ (hash >> 16)
}

/// A language answer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Detection {
    /// ISO 639-1 code or `und`.
    pub language: &'static str,
    /// Posterior probability of the answer among the known languages (1 for a script rule).
    pub confidence: f32,
}

/// The language identifier.
pub struct LanguageModel {
    table: Table,
}

impl LanguageModel {
    /// Loads a model file.
    pub fn from_bytes(bytes: &[u8]) -> Result<LanguageModel, TableError> {
        let table = Table::from_bytes(bytes)?;
        if table.name != "language" || table.section("features").is_none() {
            return Err(TableError::Format("not a language model".into()));
        }
        Ok(LanguageModel { table })
    }

    /// True when the model has weights for a hashed feature (see [`features`]).
    pub fn has_feature(&self, key: u32) -> bool {
        self.table
            .section("features")
            .is_some_and(|section| section.get(key, self.table.classes.len()).is_some())
    }

    /// Detects the language of a text.
    pub fn detect(&self, text: &str) -> Detection {
        let cleaned = clean(text);
        let mut counts = [0usize; 11];
        for ch in cleaned.chars().filter(|ch| ch.is_alphabetic()) {
            counts[script(ch) as usize] += 1;
        }
        let letters: usize = counts.iter().sum();
        if letters < MIN_LETTERS {
            return Detection { language: UNDETERMINED, confidence: 0.0 };
        }
        let (top, top_count) = counts
            .iter()
            .enumerate()
            .max_by_key(|(_, count)| **count)
            .map_or((Script::Other as usize, 0), |(index, count)| (index, *count));
        let by_script = match top {
            1 => Some("ar"),
            2 => Some("hi"),
            3 => Some("ru"),
            4 => Some("el"),
            5 => Some("he"),
            6 => Some("ko"),
            7 => Some("ja"),
            8 => Some(if counts[Script::Kana as usize] > 0 { "ja" } else { "zh" }),
            9 => Some("th"),
            10 => Some(UNDETERMINED),
            _ => None,
        };
        if let Some(language) = by_script {
            let share = top_count as f32 / letters as f32;
            return Detection { language, confidence: share };
        }
        let mut features_buffer = Vec::new();
        features(&cleaned, &mut features_buffer);
        let classes = self.table.classes.len();
        let mut scores: Vec<f32> = vec![0.0; classes];
        let Some(section) = self.table.section("features") else {
            return Detection { language: UNDETERMINED, confidence: 0.0 };
        };
        for key in &features_buffer {
            let weights = section.get(*key, classes).unwrap_or(&self.table.defaults);
            for (score, weight) in scores.iter_mut().zip(weights) {
                *score += weight;
            }
        }
        // Latin text: Arabic-script classes cannot win.
        let mut best = 0;
        for (index, score) in scores.iter().enumerate() {
            if self.table.classes.get(index).is_some_and(|class| class == "ar") {
                continue;
            }
            if *score > scores[best] || self.table.classes.get(best).is_some_and(|c| c == "ar") {
                best = index;
            }
        }
        let total: f32 = scores
            .iter()
            .enumerate()
            .filter(|(index, _)| self.table.classes.get(*index).is_some_and(|class| class != "ar"))
            .map(|(_, score)| (score - scores[best]).exp())
            .sum();
        let confidence = if total > 0.0 { 1.0 / total } else { 0.0 };
        let language = self
            .table
            .classes
            .get(best)
            .and_then(|class| LANGUAGES.iter().find(|known| *known == class))
            .copied()
            .unwrap_or(UNDETERMINED);
        Detection { language, confidence }
    }
}

/// Trains the naive Bayes model on `(text, language)` examples (deterministic).
pub fn train(examples: &[(String, &str)]) -> Table {
    use std::collections::BTreeMap;
    let classes: Vec<String> = LANGUAGES.iter().map(|code| (*code).to_owned()).collect();
    let mut counts: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    let mut totals = vec![0u64; classes.len()];
    let mut buffer = Vec::new();
    for (text, language) in examples {
        let Some(class) = LANGUAGES.iter().position(|code| code == language) else { continue };
        features(&clean(text), &mut buffer);
        for key in &buffer {
            counts.entry(*key).or_insert_with(|| vec![0; classes.len()])[class] += 1;
            totals[class] += 1;
        }
    }
    // Keep features seen at least twice; Laplace smoothing over the kept vocabulary.
    counts.retain(|_, per_class| per_class.iter().sum::<u32>() >= 2);
    let vocabulary = counts.len() as f64;
    let alpha = 0.1f64;
    let denominators: Vec<f64> =
        totals.iter().map(|total| *total as f64 + alpha * vocabulary).collect();
    let defaults: Vec<f32> =
        denominators.iter().map(|denominator| (alpha / denominator).ln() as f32).collect();
    let rows = counts
        .into_iter()
        .map(|(key, per_class)| {
            let weights = per_class
                .iter()
                .zip(&denominators)
                .map(|(count, denominator)| ((f64::from(*count) + alpha) / denominator).ln() as f32)
                .collect();
            (key, weights)
        })
        .collect();
    Table {
        name: "language".into(),
        classes,
        defaults,
        sections: vec![Section::new("features", rows)],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleaning_keeps_letters_only() {
        assert_eq!(clean("RT @bob: J'adore ça!!! https://t.co/x 😀 #Top10"), "j'adore ça top");
        assert_eq!(clean("  "), "");
    }

    #[test]
    fn short_and_script_rules() {
        let model = LanguageModel { table: train(&[("hello world".into(), "en")]) };
        assert_eq!(model.detect("ok").language, "und");
        assert_eq!(model.detect("😀😀😀").language, "und");
        assert_eq!(model.detect("مرحبا بكم في الموقع").language, "ar");
        assert_eq!(model.detect("नमस्ते आप कैसे हैं").language, "hi");
        assert_eq!(model.detect("Привет как дела").language, "ru");
    }
}
