//! Words with their byte offsets, for evidence spans.
//!
//! The shared tokenizer (`text.rs`) drops offsets; the PV lexicon needs them, so this scanner
//! keeps each word's byte range in the original text, its folded form (lower case, accents
//! folded) and the sentence it belongs to. French elision is split (`j'ai` → `j'` `ai`),
//! English contractions stay whole (`didn't`), `&` joins letters (`A&E`), hyphens split
//! (`flu-like` → `flu` `like`).

use crate::text::fold;

/// One word of a text.
#[derive(Debug, Clone, PartialEq)]
pub struct Word {
    /// First byte in the text.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
    /// Lower-cased, accents folded.
    pub norm: String,
    /// The sentence's index.
    pub sentence: usize,
    /// All letters upper case (at least two letters).
    pub upper: bool,
    /// Digits only.
    pub number: bool,
}

/// One sentence: a range of words and whether it ends with a question mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sentence {
    /// First word.
    pub first: usize,
    /// One past the last word.
    pub end: usize,
    /// Ends with `?`.
    pub question: bool,
}

/// A scanned text.
#[derive(Debug, Clone, Default)]
pub struct Scan {
    /// The words in order.
    pub words: Vec<Word>,
    /// The sentences in order.
    pub sentences: Vec<Sentence>,
}

const ELIDED: &[&str] =
    &["l", "d", "j", "qu", "n", "s", "c", "m", "t", "jusqu", "lorsqu", "puisqu"];

fn is_apostrophe(ch: char) -> bool {
    matches!(ch, '\'' | '’' | 'ʼ' | '‘')
}

/// Scans a text into words and sentences. Never fails.
pub fn scan(text: &str) -> Scan {
    let mut out = Scan::default();
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let end_of = |index: usize| chars.get(index).map_or(text.len(), |(offset, _)| *offset);
    let mut sentence = Sentence::default();
    let mut index = 0;
    while index < chars.len() {
        let (start, ch) = chars[index];
        if ch.is_alphanumeric() {
            let mut stop = index + 1;
            while stop < chars.len() {
                let next = chars[stop].1;
                let joins = (is_apostrophe(next) || next == '&')
                    && chars.get(stop + 1).is_some_and(|(_, after)| after.is_alphanumeric());
                if next.is_alphanumeric() || joins {
                    stop += 1;
                } else {
                    break;
                }
            }
            let sentence_index = out.sentences.len();
            push_word(&mut out, text, start, end_of(stop), sentence_index);
            index = stop;
            continue;
        }
        if matches!(ch, '.' | '!' | '?' | ';' | '\n' | '…') {
            // A full stop between digits ("2.5") does not end a sentence.
            let between_digits = ch == '.'
                && index > 0
                && chars[index - 1].1.is_ascii_digit()
                && chars.get(index + 1).is_some_and(|(_, next)| next.is_ascii_digit());
            if !between_digits {
                sentence.end = out.words.len();
                sentence.question |= ch == '?';
                if sentence.end > sentence.first {
                    out.sentences.push(sentence);
                    sentence = Sentence { first: out.words.len(), end: 0, question: false };
                } else if ch == '?'
                    && let Some(last) = out.sentences.last_mut()
                {
                    last.question = true;
                }
            }
        }
        index += 1;
    }
    sentence.end = out.words.len();
    if sentence.end > sentence.first {
        out.sentences.push(sentence);
    }
    out
}

fn push_word(out: &mut Scan, text: &str, start: usize, end: usize, sentence: usize) {
    let word = &text[start..end];
    if let Some((offset, apostrophe)) = word.char_indices().find(|(_, ch)| is_apostrophe(*ch)) {
        let head = fold(&word[..offset]);
        if ELIDED.contains(&head.as_str()) {
            let split = start + offset + apostrophe.len_utf8();
            out.words.push(make_word(text, start, split, format!("{head}'"), sentence));
            if split < end {
                push_word(out, text, split, end, sentence);
            }
            return;
        }
    }
    out.words.push(make_word(text, start, end, fold(word), sentence));
}

fn make_word(text: &str, start: usize, end: usize, norm: String, sentence: usize) -> Word {
    let raw = &text[start..end];
    let letters = raw.chars().filter(|ch| ch.is_alphabetic()).count();
    let upper = letters >= 2 && raw.chars().all(|ch| !ch.is_lowercase());
    let number = raw.chars().all(|ch| ch.is_ascii_digit());
    Word { start, end, norm, sentence, upper, number }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn offsets_elision_and_sentences() {
        let text = "J’ai pris 2.5 mg… Went to A&E? Didn't help.";
        let scanned = scan(text);
        let norms: Vec<&str> = scanned.words.iter().map(|word| word.norm.as_str()).collect();
        assert_eq!(
            norms,
            ["j'", "ai", "pris", "2", "5", "mg", "went", "to", "a&e", "didn't", "help"]
        );
        let ae = &scanned.words[8];
        assert_eq!(&text[ae.start..ae.end], "A&E");
        assert_eq!(scanned.sentences.len(), 3);
        assert!(scanned.sentences[1].question);
        assert!(!scanned.sentences[2].question);
        assert!(scan("").words.is_empty());
    }
}
