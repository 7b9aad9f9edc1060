//! Social-text normalisation and tokens.
//!
//! One pass turns a post's text into [`Token`]s that every enricher shares: URLs, @mentions
//! and #hashtags (hashtags also split into words: `#JeSuisFatigué` → `je suis fatigué`),
//! emoji and emoticons kept as signals, elongations squashed (`sooooo` → `soo`, flagged),
//! HTML entities decoded, French elision split (`l'équipe` → `l'` + `équipe`), accents folded
//! for matching (`norm`) but kept for display (`text`), and negation scope marked
//! (`not good`, `pas bon`, `ne marche pas`).

use std::borrow::Cow;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A word (letters, possibly with inner apostrophes or hyphens).
    Word,
    /// A word that came from splitting a hashtag.
    HashtagWord,
    /// A whole `#hashtag` (the `#` removed in `norm`).
    Hashtag,
    /// An `@mention` (the `@` removed in `norm`).
    Mention,
    /// A URL.
    Url,
    /// An emoji (one pictograph; skin tones and joiners dropped).
    Emoji,
    /// An ASCII emoticon such as `:)`, `:-(`, `<3`, `xD`.
    Emoticon,
    /// A number.
    Number,
    /// Punctuation; `!` and `?` are kept as signals, sentence ends close a negation scope.
    Punct,
}

/// A piece of a text: byte offsets into it and the words themselves (evidence of a PV
/// flag, the words a draft finding is about).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
    /// `text[start..end]`.
    pub text: String,
}

/// One token.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    /// What it is.
    pub kind: Kind,
    /// The token as written (after HTML decoding).
    pub text: String,
    /// Lower-cased, accents folded, elongations squashed: the form used for matching.
    pub norm: String,
    /// Inside a negation scope (after `not`, `never`, `pas`, `jamais`, … until punctuation).
    pub negated: bool,
    /// A letter was repeated three times or more (`sooooo`).
    pub elongated: bool,
    /// Written in capitals (at least two letters, all upper case).
    pub shouting: bool,
}

/// Decodes HTML entities (`&amp;`, `&#39;`) once.
pub fn decode_html(text: &str) -> Cow<'_, str> {
    if text.contains('&') { html_escape::decode_html_entities(text) } else { Cow::Borrowed(text) }
}

/// Lower-cases and folds accents (`Éléphant` → `elephant`, `ç` → `c`, `œ` → `oe`).
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        if ch.is_ascii() {
            out.push(ch.to_ascii_lowercase());
            continue;
        }
        match ch {
            'œ' | 'Œ' => out.push_str("oe"),
            'æ' | 'Æ' => out.push_str("ae"),
            'ß' => out.push_str("ss"),
            '’' | 'ʼ' | '‘' | '`' => out.push('\''),
            _ => {
                for lower in ch.to_lowercase() {
                    for part in std::iter::once(lower).nfd() {
                        if !is_combining_mark(part) {
                            out.push(part);
                        }
                    }
                }
            }
        }
    }
    out
}

/// True for pictographic emoji and symbols used as emoji.
pub fn is_emoji(ch: char) -> bool {
    matches!(ch as u32,
        0x1F300..=0x1FAFF | 0x2600..=0x27BF | 0x1F000..=0x1F2FF | 0x2B00..=0x2BFF
        | 0x2300..=0x23FF | 0x2190..=0x21FF | 0x3030 | 0x303D | 0x3297 | 0x3299 | 0x00A9 | 0x00AE
        | 0x203C | 0x2049 | 0x2122 | 0x2139)
}

fn is_emoji_modifier(ch: char) -> bool {
    matches!(ch as u32, 0x1F3FB..=0x1F3FF | 0xFE0E | 0xFE0F | 0x200D | 0x20E3 | 0xE0020..=0xE007F)
}

const EMOTICONS: &[&str] = &[
    ":-)", ":)", ":-(", ":(", ":-D", ":D", ";-)", ";)", ":'(", ":'-(", ":-P", ":P", ":p", ":-p",
    ":-/", ":/", ":-|", ":|", ":-O", ":O", ":o", "<3", "</3", "xD", "XD", "^^", "^_^", ":3", "=)",
    "=(", "=D", "-_-", "T_T", ":-*", ":*", ";D", "8)", "B)", ":]", ":[", ">:(", "D:",
];

/// Valence of an emoticon: +1 happy, −1 sad, 0 other.
pub fn emoticon_valence(emoticon: &str) -> i8 {
    match emoticon {
        ":-)" | ":)" | ":-D" | ":D" | ";-)" | ";)" | ":-P" | ":P" | ":p" | ":-p" | "<3" | "xD"
        | "XD" | "^^" | "^_^" | ":3" | "=)" | "=D" | ":-*" | ":*" | ";D" | "8)" | "B)" | ":]" => 1,
        ":-(" | ":(" | ":'(" | ":'-(" | ":-/" | ":/" | "</3" | "=(" | "-_-" | "T_T" | ":["
        | ">:(" | "D:" => -1,
        _ => 0,
    }
}

const NEGATORS: &[&str] = &[
    "not",
    "no",
    "never",
    "cannot",
    "cant",
    "can't",
    "dont",
    "don't",
    "doesnt",
    "doesn't",
    "didnt",
    "didn't",
    "isnt",
    "isn't",
    "wasnt",
    "wasn't",
    "arent",
    "aren't",
    "werent",
    "weren't",
    "wont",
    "won't",
    "wouldnt",
    "wouldn't",
    "shouldnt",
    "shouldn't",
    "couldnt",
    "couldn't",
    "havent",
    "haven't",
    "hasnt",
    "hasn't",
    "hadnt",
    "hadn't",
    "aint",
    "ain't",
    "nobody",
    "nothing",
    "nowhere",
    "neither",
    "nor",
    "without",
    "none",
    "hardly",
    "ne",
    "n'",
    "pas",
    "jamais",
    "rien",
    "aucun",
    "aucune",
    "personne",
    "sans",
    "ni",
    "guere",
];

/// True when `norm` opens a negation scope.
pub fn is_negator(norm: &str) -> bool {
    NEGATORS.contains(&norm) || norm.ends_with("n't")
}

const ELIDED: &[&str] =
    &["l", "d", "j", "qu", "n", "s", "c", "m", "t", "jusqu", "lorsqu", "puisqu"];

/// Tokenises a social text. `known` optionally tells whether a folded word is a known word,
/// which lets lower-case hashtags split (`#jesuisfatigue` → `je suis fatigue`).
pub fn tokenize(text: &str, known: Option<&dyn Fn(&str) -> bool>) -> Vec<Token> {
    let decoded = decode_html(text);
    let text = decoded.as_ref();
    let mut tokens = Vec::new();
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut index = 0;
    let end_of = |index: usize| chars.get(index).map_or(text.len(), |(offset, _)| *offset);
    while index < chars.len() {
        let (start, ch) = chars[index];
        if ch.is_whitespace() {
            index += 1;
            continue;
        }
        let rest = &text[start..];
        // URLs.
        if rest.starts_with("http://") || rest.starts_with("https://") || rest.starts_with("www.") {
            let mut stop = index;
            while stop < chars.len() && !chars[stop].1.is_whitespace() {
                stop += 1;
            }
            let url = &text[start..end_of(stop)];
            tokens.push(plain(Kind::Url, url, url.to_ascii_lowercase()));
            index = stop;
            continue;
        }
        // Mentions and hashtags.
        if (ch == '@' || ch == '#' || ch == '＃')
            && chars.get(index + 1).is_some_and(|(_, next)| next.is_alphanumeric() || *next == '_')
        {
            let mut stop = index + 1;
            while stop < chars.len()
                && (chars[stop].1.is_alphanumeric()
                    || chars[stop].1 == '_'
                    || (ch == '@'
                        && chars[stop].1 == '.'
                        && stop + 1 < chars.len()
                        && chars[stop + 1].1.is_alphanumeric()))
            {
                stop += 1;
            }
            let body = &text[end_of(index + 1)..end_of(stop)];
            if ch == '@' {
                tokens.push(plain(Kind::Mention, &text[start..end_of(stop)], fold(body)));
            } else {
                tokens.push(plain(Kind::Hashtag, &text[start..end_of(stop)], fold(body)));
                for word in split_hashtag(body, known) {
                    let norm = fold(&word);
                    tokens.push(Token {
                        kind: Kind::HashtagWord,
                        text: word,
                        norm,
                        negated: false,
                        elongated: false,
                        shouting: false,
                    });
                }
            }
            index = stop;
            continue;
        }
        // Emoticons (before punctuation takes their characters).
        if let Some(emoticon) = EMOTICONS.iter().find(|emoticon| rest.starts_with(**emoticon)) {
            let after = text[start + emoticon.len()..].chars().next();
            let before_ok = index == 0 || chars[index - 1].1.is_whitespace();
            if before_ok && after.is_none_or(|after| !after.is_alphanumeric()) {
                tokens.push(plain(Kind::Emoticon, emoticon, (*emoticon).to_owned()));
                index += emoticon.chars().count();
                continue;
            }
        }
        if is_emoji(ch) {
            tokens.push(plain(Kind::Emoji, &ch.to_string(), ch.to_string()));
            index += 1;
            while index < chars.len() && is_emoji_modifier(chars[index].1) {
                index += 1;
            }
            continue;
        }
        if is_emoji_modifier(ch) {
            index += 1;
            continue;
        }
        if ch.is_alphanumeric() {
            let mut stop = index + 1;
            while stop < chars.len() {
                let next = chars[stop].1;
                let joins = (next == '\'' || next == '’' || next == '-')
                    && chars.get(stop + 1).is_some_and(|(_, after)| after.is_alphanumeric());
                if next.is_alphanumeric() || joins {
                    stop += 1;
                } else {
                    break;
                }
            }
            let word = &text[start..end_of(stop)];
            push_word(&mut tokens, word);
            index = stop;
            continue;
        }
        // Punctuation: runs of the same mark are one token ("!!!").
        let mut stop = index + 1;
        while stop < chars.len() && chars[stop].1 == ch {
            stop += 1;
        }
        let mark = &text[start..end_of(stop)];
        tokens.push(plain(Kind::Punct, mark, ch.to_string()));
        index = stop;
    }
    mark_negation(&mut tokens);
    tokens
}

fn plain(kind: Kind, text: &str, norm: String) -> Token {
    Token { kind, text: text.to_owned(), norm, negated: false, elongated: false, shouting: false }
}

fn push_word(tokens: &mut Vec<Token>, word: &str) {
    // French elision: l'équipe, d'accord, qu'il, j'adore, aujourd'hui stays whole.
    let folded = fold(word);
    if let Some(apostrophe) = folded.find('\'') {
        let head = &folded[..apostrophe];
        if ELIDED.contains(&head) && folded.len() > apostrophe + 1 {
            let split = word
                .char_indices()
                .find(|(_, ch)| *ch == '\'' || *ch == '’')
                .map_or(0, |(offset, ch)| offset + ch.len_utf8());
            tokens.push(word_token(&word[..split], format!("{head}'")));
            push_word(tokens, &word[split..]);
            return;
        }
    }
    let kind = if word.chars().all(|ch| ch.is_ascii_digit() || ch == '-' || ch == '\'') {
        Kind::Number
    } else {
        Kind::Word
    };
    let mut token = word_token(word, folded);
    token.kind = kind;
    tokens.push(token);
}

fn word_token(word: &str, folded: String) -> Token {
    let (norm, elongated) = squash(&folded);
    let letters = word.chars().filter(|ch| ch.is_alphabetic()).count();
    let shouting = letters >= 2 && word.chars().all(|ch| !ch.is_lowercase());
    Token { kind: Kind::Word, text: word.to_owned(), norm, negated: false, elongated, shouting }
}

/// Squashes runs of three or more identical characters to two.
pub fn squash(word: &str) -> (String, bool) {
    let mut out = String::with_capacity(word.len());
    let mut last = None;
    let mut run = 0;
    let mut elongated = false;
    for ch in word.chars() {
        if Some(ch) == last {
            run += 1;
        } else {
            last = Some(ch);
            run = 1;
        }
        if run <= 2 {
            out.push(ch);
        } else if ch.is_alphabetic() {
            elongated = true;
        }
    }
    (out, elongated)
}

/// Splits a hashtag body into words: camelCase, digits and underscores; a lower-case body
/// is segmented with `known` words when every piece is known.
pub fn split_hashtag(body: &str, known: Option<&dyn Fn(&str) -> bool>) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut previous: Option<char> = None;
    for ch in body.chars() {
        let boundary = match previous {
            None => false,
            Some(previous) => {
                ch == '_'
                    || (ch.is_uppercase() && previous.is_lowercase())
                    || (ch.is_ascii_digit() != previous.is_ascii_digit() && previous != '_')
            }
        };
        if boundary && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        if ch != '_' {
            current.push(ch);
        }
        previous = Some(ch);
    }
    if !current.is_empty() {
        words.push(current);
    }
    if words.len() == 1
        && let Some(known) = known
    {
        let single = &words[0];
        if single.chars().count() >= 6
            && !known(&fold(single))
            && let Some(pieces) = segment(single, known)
        {
            return pieces;
        }
    }
    if words.len() <= 1 && words.first().is_some_and(|word| word == body) {
        return words;
    }
    words
}

/// Segments a lower-case run of letters into known words, fewest pieces first.
fn segment(text: &str, known: &dyn Fn(&str) -> bool) -> Option<Vec<String>> {
    let chars: Vec<char> = text.chars().collect();
    let count = chars.len();
    if count > 40 {
        return None;
    }
    // best[i] = fewest known pieces covering chars[..i].
    let mut best: Vec<Option<(usize, usize)>> = vec![None; count + 1];
    best[0] = Some((0, 0));
    for end in 1..=count {
        for start in end.saturating_sub(20)..end {
            let Some((pieces, _)) = best[start] else { continue };
            let piece: String = chars[start..end].iter().collect();
            let long_enough = end - start >= 2 || matches!(piece.as_str(), "a" | "y" | "i" | "à");
            if long_enough && known(&fold(&piece)) {
                let candidate = (pieces + 1, start);
                if best[end].is_none_or(|(current, _)| candidate.0 < current) {
                    best[end] = Some(candidate);
                }
            }
        }
    }
    let mut pieces = Vec::new();
    let mut end = count;
    while end > 0 {
        let (_, start) = best[end]?;
        pieces.push(chars[start..end].iter().collect::<String>());
        end = start;
    }
    pieces.reverse();
    (pieces.len() >= 2).then_some(pieces)
}

fn mark_negation(tokens: &mut [Token]) {
    let mut active = false;
    let mut left = 0;
    for token in tokens.iter_mut() {
        match token.kind {
            Kind::Punct => {
                if matches!(token.norm.as_str(), "." | "," | "!" | "?" | ";" | ":") {
                    active = false;
                }
            }
            Kind::Word | Kind::HashtagWord => {
                if is_negator(&token.norm) {
                    active = true;
                    left = 6;
                } else if active {
                    token.negated = true;
                    left -= 1;
                    if left == 0 {
                        active = false;
                    }
                }
            }
            Kind::Url | Kind::Emoji | Kind::Emoticon => active = false,
            _ => {}
        }
    }
}

/// The words of a text that carry its content: words and hashtag words, folded.
pub fn content_words(tokens: &[Token]) -> impl Iterator<Item = &Token> {
    tokens.iter().filter(|token| matches!(token.kind, Kind::Word | Kind::HashtagWord))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn norms(text: &str) -> Vec<String> {
        tokenize(text, None).into_iter().map(|token| token.norm).collect()
    }

    #[test]
    fn social_entities_are_tokens() {
        let tokens = tokenize("@Novaris_FR help!! https://t.co/x #SideEffects 😡😡 :(", None);
        let kinds: Vec<Kind> = tokens.iter().map(|token| token.kind).collect();
        assert_eq!(
            kinds,
            vec![
                Kind::Mention,
                Kind::Word,
                Kind::Punct,
                Kind::Url,
                Kind::Hashtag,
                Kind::HashtagWord,
                Kind::HashtagWord,
                Kind::Emoji,
                Kind::Emoji,
                Kind::Emoticon
            ]
        );
        assert_eq!(tokens[0].norm, "novaris_fr");
        assert_eq!(tokens[5].norm, "side");
        assert_eq!(tokens[6].norm, "effects");
    }

    #[test]
    fn french_elision_accents_and_entities() {
        assert_eq!(
            norms("L&#39;équipe d’accord qu'il"),
            vec!["l'", "equipe", "d'", "accord", "qu'", "il"]
        );
        assert_eq!(tokenize("Très Élevé", None)[1].text, "Élevé");
        assert_eq!(norms("aujourd'hui"), vec!["aujourd'hui"]);
        assert_eq!(fold("Cœur ÇA"), "coeur ca");
    }

    #[test]
    fn elongation_and_shouting() {
        let tokens = tokenize("sooooo GOOOOD", None);
        assert_eq!(tokens[0].norm, "soo");
        assert!(tokens[0].elongated);
        assert!(tokens[1].shouting && tokens[1].elongated);
        assert_eq!(tokens[1].norm, "good");
    }

    #[test]
    fn negation_scope_ends_at_punctuation() {
        let tokens = tokenize("this is not good at all. great", None);
        let negated: Vec<&str> =
            tokens.iter().filter(|token| token.negated).map(|token| token.norm.as_str()).collect();
        assert_eq!(negated, vec!["good", "at", "all"]);
        let tokens = tokenize("ça ne marche pas du tout !", None);
        let negated: Vec<&str> =
            tokens.iter().filter(|token| token.negated).map(|token| token.norm.as_str()).collect();
        assert_eq!(negated, vec!["marche", "du", "tout"]);
    }

    #[test]
    fn hashtags_split() {
        assert_eq!(split_hashtag("JeSuisFatigué", None), vec!["Je", "Suis", "Fatigué"]);
        assert_eq!(split_hashtag("covid_19", None), vec!["covid", "19"]);
        let known = |word: &str| ["je", "suis", "fatigue", "ras", "le", "bol"].contains(&word);
        assert_eq!(split_hashtag("jesuisfatigue", Some(&known)), vec!["je", "suis", "fatigue"]);
        assert_eq!(split_hashtag("raslebol", Some(&known)), vec!["ras", "le", "bol"]);
        assert_eq!(split_hashtag("zzzqqq", Some(&known)), vec!["zzzqqq"]);
    }

    #[test]
    fn odd_input_never_panics() {
        for text in
            ["", "   ", "😀", "\u{200d}\u{fe0f}", "@", "#", "&amp;&", "'''", "l'", "🏽x", ":)"]
        {
            let _ = tokenize(text, None);
        }
        let long = "a".repeat(100_000);
        assert_eq!(tokenize(&long, None).len(), 1);
    }
}
