//! Brand, product and competitor mentions from the workspace configuration.
//!
//! Names, INNs, aliases, competitor keywords and handles are matched on folded text (case
//! and accents ignored) with Aho-Corasick at word boundaries; single words of five letters
//! or more also match misspellings within one edit (insertion, deletion, substitution or
//! transposition: `cardiozne`, `zenoprill`). Owned handles make a post *addressed to the
//! brand* when it mentions them or replies to them, and so does naming the brand.

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, MatchKind};
use waterline_model::Config;

use crate::text::{Kind, Token, fold};

/// What an entity is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntityKind {
    /// The workspace's brand.
    Brand,
    /// One of the brand's products.
    Product,
    /// A competitor of the panel.
    Competitor,
}

impl EntityKind {
    fn prefix(self) -> &'static str {
        match self {
            EntityKind::Brand => "brand",
            EntityKind::Product => "product",
            EntityKind::Competitor => "competitor",
        }
    }
}

#[derive(Debug, Clone)]
struct Entity {
    kind: EntityKind,
    label: String,
}

/// The entity dictionary of a workspace.
pub struct EntityMatcher {
    entities: Vec<Entity>,
    automaton: Option<AhoCorasick>,
    pattern_entity: Vec<usize>,
    fuzzy: HashMap<String, Vec<(usize, String)>>,
    handles: HashMap<String, usize>,
    owned: std::collections::HashSet<String>,
}

/// What was found in a post.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Found {
    /// `kind:Name` labels, each once: names in the text first, then handles.
    pub entities: Vec<String>,
    /// The post is addressed to the brand.
    pub addressed_to_brand: bool,
}

fn handle_key(handle: &str) -> String {
    let handle = handle.trim_start_matches('@');
    // Mastodon handles may carry their server: `acme@mastodon.social` → `acme`.
    let local = handle.split('@').next().unwrap_or(handle);
    fold(local)
}

impl EntityMatcher {
    /// Builds the dictionary from a workspace configuration.
    pub fn new(config: &Config) -> EntityMatcher {
        let mut entities = Vec::new();
        let mut terms: Vec<(String, usize)> = Vec::new();
        let mut handles = HashMap::new();
        let mut owned = std::collections::HashSet::new();
        if !config.brand.trim().is_empty() {
            entities
                .push(Entity { kind: EntityKind::Brand, label: config.brand.trim().to_owned() });
            terms.push((config.brand.clone(), 0));
            for list in config.accounts.values() {
                for handle in list {
                    handles.insert(handle_key(handle), 0);
                    owned.insert(handle_key(handle));
                }
            }
        }
        for product in &config.products {
            let index = entities.len();
            entities.push(Entity { kind: EntityKind::Product, label: product.name.clone() });
            terms.push((product.name.clone(), index));
            for term in product.inns.iter().chain(&product.aliases) {
                terms.push((term.clone(), index));
            }
        }
        for competitor in &config.competitors {
            let index = entities.len();
            entities.push(Entity { kind: EntityKind::Competitor, label: competitor.name.clone() });
            terms.push((competitor.name.clone(), index));
            for keyword in &competitor.keywords {
                terms.push((keyword.clone(), index));
            }
            for list in competitor.accounts.values() {
                for handle in list {
                    handles.insert(handle_key(handle), index);
                }
            }
        }
        let mut patterns = Vec::new();
        let mut pattern_entity = Vec::new();
        let mut fuzzy: HashMap<String, Vec<(usize, String)>> = HashMap::new();
        for (term, entity) in &terms {
            let folded = fold(term.trim());
            if folded.is_empty() {
                continue;
            }
            patterns.push(folded.clone());
            pattern_entity.push(*entity);
            if folded.chars().count() >= 5 && folded.chars().all(char::is_alphanumeric) {
                for variant in deletions(&folded).into_iter().chain([folded.clone()]) {
                    let entry = fuzzy.entry(variant).or_default();
                    if !entry.iter().any(|(existing, _)| existing == entity) {
                        entry.push((*entity, folded.clone()));
                    }
                }
            }
        }
        let automaton =
            AhoCorasick::builder().match_kind(MatchKind::LeftmostLongest).build(&patterns).ok();
        EntityMatcher { entities, automaton, pattern_entity, fuzzy, handles, owned }
    }

    /// True when the dictionary is empty.
    pub fn is_empty(&self) -> bool {
        self.entities.is_empty()
    }

    /// Finds the entities of a post: its text (tokenised), mentions and reply target.
    pub fn find(
        &self,
        text: &str,
        tokens: &[Token],
        mentions: &[String],
        reply_to_author: Option<&str>,
    ) -> Found {
        let mut found: Vec<usize> = Vec::new();
        let mut addressed = false;
        let add = |entity: usize, found: &mut Vec<usize>| {
            if !found.contains(&entity) {
                found.push(entity);
            }
        };
        let folded = fold(text);
        if let Some(automaton) = &self.automaton {
            for hit in automaton.find_iter(folded.as_str()) {
                let before = folded[..hit.start()].chars().next_back();
                let after = folded[hit.end()..].chars().next();
                let boundary = |ch: Option<char>| ch.is_none_or(|ch| !ch.is_alphanumeric());
                // `@acme` is a handle, not a name: handles are matched below.
                if boundary(before)
                    && boundary(after)
                    && before != Some('@')
                    && let Some(entity) = self.pattern_entity.get(hit.pattern().as_usize())
                {
                    add(*entity, &mut found);
                    if self.entities.get(*entity).is_some_and(|e| e.kind == EntityKind::Brand) {
                        addressed = true;
                    }
                }
            }
        }
        let mentioned = tokens
            .iter()
            .filter(|token| token.kind == Kind::Mention)
            .map(|token| handle_key(&token.norm))
            .chain(mentions.iter().map(|handle| handle_key(handle)));
        for handle in mentioned.chain(reply_to_author.map(handle_key)) {
            if let Some(entity) = self.handles.get(&handle) {
                add(*entity, &mut found);
            }
            if self.owned.contains(&handle) {
                addressed = true;
            }
        }
        if !self.fuzzy.is_empty() {
            for token in
                tokens.iter().filter(|token| matches!(token.kind, Kind::Word | Kind::HashtagWord))
            {
                let word = &token.norm;
                if word.chars().count() < 5 {
                    continue;
                }
                for variant in deletions(word).into_iter().chain([word.clone()]) {
                    let Some(candidates) = self.fuzzy.get(&variant) else { continue };
                    for (entity, term) in candidates {
                        if within_one_edit(word, term) {
                            add(*entity, &mut found);
                        }
                    }
                }
            }
        }
        let entities = found
            .into_iter()
            .filter_map(|index| self.entities.get(index))
            .map(|entity| format!("{}:{}", entity.kind.prefix(), entity.label))
            .collect();
        Found { entities, addressed_to_brand: addressed }
    }
}

fn deletions(word: &str) -> Vec<String> {
    let chars: Vec<char> = word.chars().collect();
    (0..chars.len())
        .map(|skip| {
            chars
                .iter()
                .enumerate()
                .filter(|(index, _)| *index != skip)
                .map(|(_, ch)| *ch)
                .collect()
        })
        .collect()
}

/// True when `a` and `b` differ by at most one insertion, deletion, substitution or
/// transposition of adjacent letters.
pub fn within_one_edit(a: &str, b: &str) -> bool {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a == b {
        return true;
    }
    let (short, long) = if a.len() <= b.len() { (&a, &b) } else { (&b, &a) };
    match long.len() - short.len() {
        0 => {
            let diffs: Vec<usize> =
                (0..short.len()).filter(|index| short[*index] != long[*index]).collect();
            match diffs.as_slice() {
                [_] => true,
                [first, second] => {
                    *second == first + 1
                        && short[*first] == long[*second]
                        && short[*second] == long[*first]
                }
                _ => false,
            }
        }
        1 => {
            let prefix = short.iter().zip(long.iter()).take_while(|(x, y)| x == y).count();
            short[prefix..] == long[prefix + 1..]
        }
        _ => false,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::text::tokenize;

    fn matcher() -> EntityMatcher {
        EntityMatcher::new(&Config::parse(waterline_model::config::EXAMPLE).unwrap())
    }

    fn find(text: &str) -> Found {
        matcher().find(text, &tokenize(text, None), &[], None)
    }

    #[test]
    fn names_inns_aliases_and_handles() {
        assert_eq!(find("Mon ZÉNOPRIL me donne des vertiges").entities, vec!["product:Cardiozen"]);
        assert_eq!(
            find("cardio-zen or Rivalex?").entities,
            vec!["product:Cardiozen", "competitor:Rivalis"]
        );
        let found = find("@AcmeHealth_fr hello");
        assert!(found.addressed_to_brand);
        assert_eq!(found.entities, vec!["brand:Acme Health"]);
        assert!(find("Acme Health should answer").addressed_to_brand);
        assert!(find("acmehealthy people").entities.is_empty());
        assert!(matcher().find("thanks", &[], &[], Some("acmehealth")).addressed_to_brand);
    }

    #[test]
    fn misspellings_within_one_edit() {
        assert_eq!(find("cardiozne is great").entities, vec!["product:Cardiozen"]);
        assert_eq!(find("zenoprill again").entities, vec!["product:Cardiozen"]);
        assert!(find("cardiology").entities.is_empty());
        assert!(within_one_edit("medicor", "medicro"));
        assert!(!within_one_edit("medicor", "medical"));
    }
}
