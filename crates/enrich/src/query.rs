//! Boolean queries over posts: `(ozempic OR semaglutide) AND NOT "price"`.
//!
//! Grammar: terms (words, `#hashtag`, `@handle`), quoted phrases (`"side effect"`: the
//! folded words in a row), `AND`, `OR`, `NOT` (upper case; `-term` is `NOT term`),
//! parentheses, and an implicit `AND` between adjacent terms. `NOT` binds tighter than
//! `AND`, which binds tighter than `OR`. A trailing `*` makes a word a prefix (`ozemp*`).
//!
//! Matching is on folded text (case and accents ignored, as in [`crate::text`]) and on
//! whole words (`pain` does not match `painting`; `l'ozempic` contains `ozempic`; the parts
//! of `cardio-zen` are words). A `#hashtag` term matches the hashtag and the word (or the
//! words of a camel-case hashtag in a row); an `@handle` term matches a mention of the
//! handle, the author, or the author replied to.
//!
//! A post is tokenised once into a [`Haystack`] (its folded words in order, sorted for
//! lookup, its hashtags and handles); every query then evaluates against it without
//! allocating.

use std::fmt;

use waterline_model::Post;

use crate::text::{Kind, Token, fold, split_hashtag, tokenize};

/// Why a query could not be parsed (or a filter built).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// The query has no terms.
    #[error("the query is empty")]
    Empty,
    /// An operator or an opening parenthesis with no term after it.
    #[error("expected a term after {after} at character {at}")]
    Expected {
        /// The operator (`NOT`, `AND`, `OR`, `-`, `(`).
        after: String,
        /// Its position, in characters from 1.
        at: usize,
    },
    /// An operator or parenthesis where a term should be.
    #[error("unexpected {found} at character {at}")]
    Unexpected {
        /// What was found.
        found: String,
        /// Its position, in characters from 1.
        at: usize,
    },
    /// A `"` with no closing `"`.
    #[error("the quote at character {at} is never closed")]
    UnclosedQuote {
        /// Position of the opening quote, in characters from 1.
        at: usize,
    },
    /// A `(` with no closing `)`.
    #[error("the parenthesis at character {at} is never closed")]
    UnclosedParenthesis {
        /// Position of the opening parenthesis, in characters from 1.
        at: usize,
    },
    /// A term with no letters or digits to match (`*`, `""`, `#`).
    #[error("`{term}` at character {at} has no letters or digits to match")]
    NothingToMatch {
        /// The term as written.
        term: String,
        /// Its position, in characters from 1.
        at: usize,
    },
    /// A relevance filter other than `workspace` or `none`.
    #[error("unknown filter `{filter}` (use workspace or none)")]
    UnknownFilter {
        /// The filter as configured.
        filter: String,
    },
    /// One query of a list is wrong.
    #[error("query `{query}`: {source}")]
    InQuery {
        /// The query as written.
        query: String,
        /// What is wrong with it.
        source: Box<QueryError>,
    },
}

/// A parsed Boolean query.
#[derive(Debug, Clone)]
pub struct Query {
    text: String,
    root: Node,
}

#[derive(Debug, Clone)]
enum Node {
    Term(Term),
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
}

#[derive(Debug, Clone)]
enum Term {
    /// Folded words in a row (one word or a phrase); `prefix` applies to the last.
    Words { words: Vec<String>, prefix: bool },
    /// A hashtag (folded body), with the words it splits into.
    Hashtag { tag: String, words: Vec<String>, prefix: bool },
    /// A handle, folded, without `@`.
    Handle(String),
}

impl Query {
    /// Parses a query; the error says what is wrong and at which character.
    pub fn parse(text: &str) -> Result<Query, QueryError> {
        let lexemes = lex(text)?;
        if lexemes.is_empty() {
            return Err(QueryError::Empty);
        }
        let mut parser = Parser { lexemes, next: 0 };
        let root = parser.or()?;
        if let Some(lexeme) = parser.lexemes.get(parser.next) {
            return Err(QueryError::Unexpected { found: lexeme.describe(), at: lexeme.at });
        }
        Ok(Query { text: text.to_owned(), root })
    }

    /// The query as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// True when the post (its text, hashtags, mentions, author and reply target) matches.
    pub fn matches(&self, post: &Post) -> bool {
        let tokens = tokenize(crate::analysed(&post.text), None);
        self.matches_haystack(&Haystack::from_post(post, &tokens))
    }

    /// True when a text matches.
    pub fn matches_text(&self, text: &str) -> bool {
        let tokens = tokenize(crate::analysed(text), None);
        self.matches_haystack(&Haystack::from_tokens(&tokens))
    }

    /// True when a prepared post matches (tokenise once, test many queries).
    pub fn matches_haystack(&self, haystack: &Haystack) -> bool {
        self.root.eval(haystack)
    }
}

impl fmt::Display for Query {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.text)
    }
}

impl Node {
    fn eval(&self, haystack: &Haystack) -> bool {
        match self {
            Node::Term(term) => term.eval(haystack),
            Node::And(nodes) => nodes.iter().all(|node| node.eval(haystack)),
            Node::Or(nodes) => nodes.iter().any(|node| node.eval(haystack)),
            Node::Not(node) => !node.eval(haystack),
        }
    }
}

impl Term {
    fn eval(&self, haystack: &Haystack) -> bool {
        match self {
            Term::Words { words, prefix } => haystack.has_words(words, *prefix),
            Term::Hashtag { tag, words, prefix } => {
                haystack.has_hashtag(tag, *prefix)
                    || haystack.has_words(std::slice::from_ref(tag), *prefix)
                    || (words.len() > 1 && haystack.has_words(words, *prefix))
            }
            Term::Handle(handle) => haystack.has_handle(handle),
        }
    }
}

/// A post prepared for matching: its folded words in order and sorted, its hashtags and
/// the handles it involves, all in one buffer.
#[derive(Debug, Clone, Default)]
pub struct Haystack {
    buffer: String,
    words: Vec<(usize, usize)>,
    sorted: Vec<usize>,
    hashtags: Vec<(usize, usize)>,
    handles: Vec<(usize, usize)>,
}

impl Haystack {
    /// The words, hashtags and mentions of a tokenised text.
    pub fn from_tokens(tokens: &[Token]) -> Haystack {
        let capacity = tokens.iter().map(|token| token.norm.len()).sum();
        let mut haystack = Haystack {
            buffer: String::with_capacity(capacity),
            words: Vec::with_capacity(tokens.len()),
            ..Haystack::default()
        };
        for token in tokens {
            match token.kind {
                Kind::Word | Kind::HashtagWord | Kind::Number => {
                    for part in token.norm.split('-').filter(|part| !part.is_empty()) {
                        let range = haystack.push(part);
                        haystack.words.push(range);
                    }
                }
                Kind::Hashtag => {
                    let range = haystack.push(&token.norm);
                    haystack.hashtags.push(range);
                }
                Kind::Mention => haystack.push_handle(&token.norm),
                _ => {}
            }
        }
        let mut sorted: Vec<usize> = (0..haystack.words.len()).collect();
        sorted.sort_unstable_by(|a, b| haystack.word(*a).cmp(haystack.word(*b)));
        haystack.sorted = sorted;
        haystack
    }

    /// A tokenised post's text plus its hashtags, mentions, author and reply target.
    pub fn from_post(post: &Post, tokens: &[Token]) -> Haystack {
        let mut haystack = Haystack::from_tokens(tokens);
        for hashtag in &post.hashtags {
            let folded = fold(hashtag.trim_start_matches(['#', '＃']));
            let range = haystack.push(&folded);
            haystack.hashtags.push(range);
        }
        for handle in post
            .mentions
            .iter()
            .chain(&post.author_handle)
            .chain(&post.reply_to_author)
            .map(String::as_str)
        {
            haystack.push_handle(&fold(handle));
        }
        haystack
    }

    fn push(&mut self, text: &str) -> (usize, usize) {
        let start = self.buffer.len();
        self.buffer.push_str(text);
        (start, self.buffer.len())
    }

    fn push_handle(&mut self, folded: &str) {
        let handle = folded.trim().trim_start_matches('@');
        if !handle.is_empty() {
            let range = self.push(handle);
            self.handles.push(range);
        }
    }

    fn slice(&self, (start, end): (usize, usize)) -> &str {
        self.buffer.get(start..end).unwrap_or("")
    }

    fn word(&self, index: usize) -> &str {
        self.words.get(index).map_or("", |range| self.slice(*range))
    }

    /// True when a word equal to (or, with `prefix`, starting with) `word` is present.
    fn has_word(&self, word: &str, prefix: bool) -> bool {
        let first = self.sorted.partition_point(|index| self.word(*index) < word);
        self.sorted.get(first).is_some_and(|index| {
            let found = self.word(*index);
            if prefix { found.starts_with(word) } else { found == word }
        })
    }

    /// True when `words` occur in a row; with `prefix` the last one is a prefix.
    fn has_words(&self, words: &[String], prefix: bool) -> bool {
        let Some((last, _)) = words.split_last() else { return false };
        if words.len() == 1 {
            return self.has_word(last, prefix);
        }
        // Cheap rejection: every word must be present somewhere.
        let count = words.len();
        if !words
            .iter()
            .enumerate()
            .all(|(index, word)| self.has_word(word, prefix && index + 1 == count))
        {
            return false;
        }
        (0..=self.words.len().saturating_sub(count)).any(|start| {
            words.iter().enumerate().all(|(offset, wanted)| {
                let found = self.word(start + offset);
                if prefix && offset + 1 == count {
                    found.starts_with(wanted.as_str())
                } else {
                    found == wanted
                }
            })
        })
    }

    fn has_hashtag(&self, tag: &str, prefix: bool) -> bool {
        self.hashtags.iter().any(|range| {
            let found = self.slice(*range);
            if prefix { found.starts_with(tag) } else { found == tag }
        })
    }

    fn has_handle(&self, handle: &str) -> bool {
        self.handles.iter().any(|range| same_handle(self.slice(*range), handle))
    }
}

/// True when two folded handles (without `@`) name the same account: equal, or equal
/// before the server when one of them has none (`acme` and `acme@mastodon.social`).
pub(crate) fn same_handle(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    let (a_local, a_server) = a.split_once('@').unwrap_or((a, ""));
    let (b_local, b_server) = b.split_once('@').unwrap_or((b, ""));
    a_local == b_local && (a_server.is_empty() || b_server.is_empty())
}

// ---- Lexing -------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Lex {
    And,
    Or,
    Not,
    Minus,
    Open,
    Close,
    Word(String),
    Phrase(String),
}

#[derive(Debug, Clone)]
struct Lexeme {
    lex: Lex,
    /// Position in characters from 1.
    at: usize,
}

impl Lexeme {
    fn describe(&self) -> String {
        match &self.lex {
            Lex::And => "AND".to_owned(),
            Lex::Or => "OR".to_owned(),
            Lex::Not => "NOT".to_owned(),
            Lex::Minus => "-".to_owned(),
            Lex::Open => "(".to_owned(),
            Lex::Close => ")".to_owned(),
            Lex::Word(word) => format!("`{word}`"),
            Lex::Phrase(phrase) => format!("\"{phrase}\""),
        }
    }

    fn starts_term(&self) -> bool {
        matches!(self.lex, Lex::Not | Lex::Minus | Lex::Open | Lex::Word(_) | Lex::Phrase(_))
    }
}

fn lex(text: &str) -> Result<Vec<Lexeme>, QueryError> {
    let chars: Vec<char> = text.chars().collect();
    let mut lexemes = Vec::new();
    let mut index = 0;
    while let Some(&ch) = chars.get(index) {
        let at = index + 1;
        if ch.is_whitespace() {
            index += 1;
            continue;
        }
        match ch {
            '(' => {
                lexemes.push(Lexeme { lex: Lex::Open, at });
                index += 1;
            }
            ')' => {
                lexemes.push(Lexeme { lex: Lex::Close, at });
                index += 1;
            }
            '-' => {
                lexemes.push(Lexeme { lex: Lex::Minus, at });
                index += 1;
            }
            '"' | '“' | '”' => {
                let close = chars
                    .iter()
                    .skip(index + 1)
                    .position(|ch| matches!(ch, '"' | '“' | '”'))
                    .ok_or(QueryError::UnclosedQuote { at })?;
                let phrase: String = chars[index + 1..index + 1 + close].iter().collect();
                lexemes.push(Lexeme { lex: Lex::Phrase(phrase), at });
                index += close + 2;
            }
            _ => {
                let mut stop = index;
                while chars.get(stop).is_some_and(|ch| {
                    !ch.is_whitespace() && !matches!(ch, '(' | ')' | '"' | '“' | '”')
                }) {
                    stop += 1;
                }
                let word: String = chars[index..stop].iter().collect();
                let lex = match word.as_str() {
                    "AND" => Lex::And,
                    "OR" => Lex::Or,
                    "NOT" => Lex::Not,
                    _ => Lex::Word(word),
                };
                lexemes.push(Lexeme { lex, at });
                index = stop;
            }
        }
    }
    Ok(lexemes)
}

// ---- Parsing ------------------------------------------------------------------------

struct Parser {
    lexemes: Vec<Lexeme>,
    next: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Lexeme> {
        self.lexemes.get(self.next)
    }

    /// After an operator at `operator`, the next lexeme must start a term.
    fn expect_term_after(&self, operator: &Lexeme) -> Result<(), QueryError> {
        if self.peek().is_some_and(Lexeme::starts_term) {
            Ok(())
        } else {
            Err(QueryError::Expected { after: operator.describe(), at: operator.at })
        }
    }

    fn or(&mut self) -> Result<Node, QueryError> {
        let mut nodes = vec![self.and()?];
        while let Some(operator) = self.peek().filter(|lexeme| lexeme.lex == Lex::Or).cloned() {
            self.next += 1;
            self.expect_term_after(&operator)?;
            nodes.push(self.and()?);
        }
        Ok(if nodes.len() == 1 { nodes.swap_remove(0) } else { Node::Or(nodes) })
    }

    fn and(&mut self) -> Result<Node, QueryError> {
        let mut nodes = vec![self.unary()?];
        while let Some(lexeme) = self.peek().cloned() {
            if lexeme.lex == Lex::And {
                self.next += 1;
                self.expect_term_after(&lexeme)?;
            } else if !lexeme.starts_term() {
                break;
            }
            nodes.push(self.unary()?);
        }
        Ok(if nodes.len() == 1 { nodes.swap_remove(0) } else { Node::And(nodes) })
    }

    fn unary(&mut self) -> Result<Node, QueryError> {
        match self.peek().cloned() {
            Some(operator) if matches!(operator.lex, Lex::Not | Lex::Minus) => {
                self.next += 1;
                self.expect_term_after(&operator)?;
                Ok(Node::Not(Box::new(self.unary()?)))
            }
            _ => self.primary(),
        }
    }

    fn primary(&mut self) -> Result<Node, QueryError> {
        let Some(lexeme) = self.peek().cloned() else {
            // Callers check that a term follows; an empty query is caught before parsing.
            return Err(QueryError::Empty);
        };
        self.next += 1;
        match &lexeme.lex {
            Lex::Word(word) => Ok(Node::Term(word_term(word, lexeme.at)?)),
            Lex::Phrase(phrase) => {
                let trimmed = phrase.trim_end();
                let body = trimmed.trim_end_matches('*');
                let prefix = body.len() < trimmed.len();
                let words = folded_words(body);
                if words.is_empty() {
                    return Err(QueryError::NothingToMatch {
                        term: format!("\"{phrase}\""),
                        at: lexeme.at,
                    });
                }
                Ok(Node::Term(Term::Words { words, prefix }))
            }
            Lex::Open => {
                if self.peek().is_some_and(|next| next.lex == Lex::Close) {
                    return Err(QueryError::Expected { after: "(".to_owned(), at: lexeme.at });
                }
                let inner = self.or()?;
                match self.peek() {
                    Some(next) if next.lex == Lex::Close => {
                        self.next += 1;
                        Ok(inner)
                    }
                    Some(next) => {
                        Err(QueryError::Unexpected { found: next.describe(), at: next.at })
                    }
                    None => Err(QueryError::UnclosedParenthesis { at: lexeme.at }),
                }
            }
            _ => Err(QueryError::Unexpected { found: lexeme.describe(), at: lexeme.at }),
        }
    }
}

/// The folded words of a piece of query text, as the haystack holds them.
fn folded_words(text: &str) -> Vec<String> {
    tokenize(text, None)
        .iter()
        .filter(|token| matches!(token.kind, Kind::Word | Kind::HashtagWord | Kind::Number))
        .flat_map(|token| token.norm.split('-').filter(|part| !part.is_empty()).map(str::to_owned))
        .collect()
}

fn word_term(raw: &str, at: usize) -> Result<Term, QueryError> {
    let nothing = || QueryError::NothingToMatch { term: raw.to_owned(), at };
    let body = raw.trim_end_matches('*');
    let prefix = body.len() < raw.len();
    if let Some(handle) = body.strip_prefix('@') {
        let handle = fold(handle.trim_end_matches(['.', ',', ':', ';', '!', '?']));
        if handle.is_empty() || prefix {
            return Err(nothing());
        }
        return Ok(Term::Handle(handle));
    }
    if let Some(tag) = body.strip_prefix(['#', '＃']) {
        let tag = tag.trim_end_matches(['.', ',', ':', ';', '!', '?']);
        let folded = fold(tag);
        if !folded.chars().any(char::is_alphanumeric) {
            return Err(nothing());
        }
        let words = split_hashtag(tag, None).iter().flat_map(|part| folded_words(part)).collect();
        return Ok(Term::Hashtag { tag: folded, words, prefix });
    }
    let words = folded_words(body);
    if words.is_empty() {
        return Err(nothing());
    }
    Ok(Term::Words { words, prefix })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use chrono::Utc;

    use super::*;

    fn matches(query: &str, text: &str) -> bool {
        Query::parse(query).unwrap().matches_text(text)
    }

    fn error(query: &str) -> String {
        Query::parse(query).unwrap_err().to_string()
    }

    #[test]
    fn words_match_whole_folded_words() {
        assert!(matches("ozempic", "J'ai pris OZEMPIC hier"));
        assert!(matches("cafe", "un café noir"));
        assert!(matches("café", "UN CAFE NOIR"));
        assert!(matches("pain", "so much pain."));
        assert!(!matches("pain", "I love painting"));
        assert!(matches("ozempic", "l'ozempic me donne la nausée"));
        assert!(matches("ozempic", "j’ai arrêté l’Ozempic"));
        assert!(matches("effet", "c'est un effet secondaire"));
        assert!(matches("zen", "cardio-zen works"));
        assert!(matches("cardio-zen", "my Cardio-Zen pills"));
        assert!(!matches("ozempic", "@ozempic hello"), "a mention is not the word");
    }

    #[test]
    fn prefixes_and_phrases() {
        assert!(matches("ozemp*", "Ozempic again"));
        assert!(matches("ozemp*", "#OzempicFace"));
        assert!(!matches("ozemp*", "semaglutide"));
        assert!(matches("\"side effect\"", "a nasty Side-Effect indeed"));
        assert!(matches("\"side effect\"", "side effect"));
        assert!(!matches("\"side effect\"", "effect on my side"));
        assert!(matches("\"effet secondaire\"", "Un EFFET SECONDAIRE grave"));
        assert!(matches("\"l'ozempic\"", "pour l’ozempic"));
        assert!(matches("\"effet second*\"", "effets? non: effet secondaire"));
    }

    #[test]
    fn hashtags_and_handles() {
        assert!(matches("#ozempic", "#Ozempic is trending"));
        assert!(matches("#ozempic", "I take ozempic"));
        assert!(!matches("#ozempic", "I take wegovy"));
        assert!(matches("#SideEffects", "so many side effects"));
        assert!(matches("#sideeffects", "#SideEffects everywhere"));
        assert!(matches("@acme", "hey @ACME help"));
        assert!(!matches("@acme", "acme is great"));
        let mut post = Post::new("mastodon", "1", Utc::now());
        post.text = "nothing here".into();
        post.author_handle = Some("Acme@mastodon.social".into());
        assert!(Query::parse("@acme").unwrap().matches(&post));
        assert!(Query::parse("@acme@mastodon.social").unwrap().matches(&post));
        assert!(!Query::parse("@acme@other.example").unwrap().matches(&post));
        post.author_handle = None;
        post.mentions = vec!["rivalis".into()];
        post.hashtags = vec!["Wegovy".into()];
        assert!(Query::parse("@Rivalis AND #wegovy").unwrap().matches(&post));
    }

    #[test]
    fn operators_and_precedence() {
        // NOT > AND > OR: `a OR b AND NOT c` is `a OR (b AND (NOT c))`.
        let query = Query::parse("alpha OR beta AND NOT gamma").unwrap();
        assert!(query.matches_text("alpha gamma"));
        assert!(query.matches_text("beta"));
        assert!(!query.matches_text("beta gamma"));
        let grouped = Query::parse("(alpha OR beta) AND NOT gamma").unwrap();
        assert!(!grouped.matches_text("alpha gamma"));
        assert!(grouped.matches_text("alpha"));
        // Implicit AND, `-` as NOT.
        assert!(matches("ozempic nausée", "nausée et ozempic"));
        assert!(!matches("ozempic nausée", "ozempic"));
        assert!(matches("ozempic -price", "ozempic works"));
        assert!(!matches("ozempic -price", "ozempic price"));
        assert!(!matches("ozempic -(price OR cost)", "the COST of ozempic"));
        assert!(matches("ozempic NOT NOT price", "ozempic price"));
        // Lower-case operators are words.
        assert!(matches("and", "this and that"));
        let query = Query::parse("(ozempic OR semaglutide) AND NOT \"price\"").unwrap();
        assert!(query.matches_text("Sémaglutide: ça marche"));
        assert!(!query.matches_text("semaglutide price up"));
    }

    #[test]
    fn errors_say_what_and_where() {
        assert_eq!(error("ozempic AND NOT"), "expected a term after NOT at character 13");
        assert_eq!(error("ozempic AND"), "expected a term after AND at character 9");
        assert_eq!(error("OR ozempic"), "unexpected OR at character 1");
        assert_eq!(error("a OR OR b"), "expected a term after OR at character 3");
        assert_eq!(error("(a OR b"), "the parenthesis at character 1 is never closed");
        assert_eq!(error("a OR b)"), "unexpected ) at character 7");
        assert_eq!(error("a ()"), "expected a term after ( at character 3");
        assert_eq!(error("say \"side effect"), "the quote at character 5 is never closed");
        assert_eq!(error("a -"), "expected a term after - at character 3");
        assert_eq!(error("a *"), "`*` at character 3 has no letters or digits to match");
        assert_eq!(error("  "), "the query is empty");
        assert_eq!(error("a \"\""), "`\"\"` at character 3 has no letters or digits to match");
        assert!(Query::parse("é AND NOT").unwrap_err().to_string().contains("character 7"));
    }

    #[test]
    fn handles_compare_with_and_without_server() {
        assert!(same_handle("acme", "acme@mastodon.social"));
        assert!(!same_handle("acme@a.example", "acme@b.example"));
        assert!(!same_handle("acme", "acmes"));
    }
}
