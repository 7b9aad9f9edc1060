//! Near-duplicates: copies and templated posts grouped so that counts of voices are not
//! inflated by spam or copy-paste campaigns.
//!
//! Each text gets a 64-bit SimHash of its word 2-shingles (folded words; mentions, URLs and
//! numbers left out, so `@a`/`@b` variants of a template collide). Texts with fewer than
//! [`MIN_WORDS`] words get no SimHash (0): short replies like "thanks!" are separate voices.
//! Two texts are near-duplicates when their SimHashes differ in at most [`MAX_DISTANCE`]
//! bits; a banded index (four 16-bit bands, so any pair within 3 bits shares a band) finds
//! candidates in constant time. A group is named by its first member's id.

use std::collections::HashMap;

use crate::text::{Kind, Token};

/// Words needed before a text is considered for grouping.
pub const MIN_WORDS: usize = 6;
/// Largest Hamming distance between near-duplicates.
pub const MAX_DISTANCE: u32 = 3;

/// The SimHash of a tokenised text, 0 when it is too short.
pub fn simhash(tokens: &[Token]) -> u64 {
    let words: Vec<&str> = tokens
        .iter()
        .filter(|token| matches!(token.kind, Kind::Word | Kind::Emoji))
        .map(|token| token.norm.as_str())
        .collect();
    if words.len() < MIN_WORDS {
        return 0;
    }
    let mut weights = [0i32; 64];
    for pair in words.windows(2) {
        let hash = crate::table::hash_parts(&[pair[0].as_bytes(), b" ", pair[1].as_bytes()]);
        for (bit, weight) in weights.iter_mut().enumerate() {
            *weight += if hash >> bit & 1 == 1 { 1 } else { -1 };
        }
    }
    let mut value = 0u64;
    for (bit, weight) in weights.iter().enumerate() {
        if *weight > 0 {
            value |= 1 << bit;
        }
    }
    // 0 means "no SimHash"; a real all-zero hash is vanishingly rare.
    value.max(1)
}

/// The index of group leaders seen so far.
#[derive(Debug, Default)]
pub struct NearDupIndex {
    leaders: Vec<(u64, String)>,
    bands: [HashMap<u16, Vec<u32>>; 4],
}

impl NearDupIndex {
    /// An empty index.
    pub fn new() -> NearDupIndex {
        NearDupIndex::default()
    }

    /// Number of groups.
    pub fn len(&self) -> usize {
        self.leaders.len()
    }

    /// True when no group is known.
    pub fn is_empty(&self) -> bool {
        self.leaders.is_empty()
    }

    /// Adds a known leader (from the store) without looking it up.
    pub fn add_leader(&mut self, simhash: u64, id: &str) {
        if simhash == 0 {
            return;
        }
        let slot = self.leaders.len() as u32;
        self.leaders.push((simhash, id.to_owned()));
        for (band, map) in self.bands.iter_mut().enumerate() {
            map.entry((simhash >> (band * 16)) as u16).or_default().push(slot);
        }
    }

    /// The group of a post: `Some(leader id)` when an earlier post is a near-duplicate,
    /// `None` when the post leads a new group (it is then remembered) or has no SimHash.
    pub fn assign(&mut self, simhash: u64, id: &str) -> Option<String> {
        if simhash == 0 {
            return None;
        }
        let mut best: Option<(u32, u32)> = None;
        for (band, map) in self.bands.iter().enumerate() {
            let Some(slots) = map.get(&((simhash >> (band * 16)) as u16)) else { continue };
            for slot in slots {
                let Some((leader, _)) = self.leaders.get(*slot as usize) else { continue };
                let distance = (leader ^ simhash).count_ones();
                if distance <= MAX_DISTANCE && best.is_none_or(|(_, current)| distance < current) {
                    best = Some((*slot, distance));
                }
            }
        }
        match best {
            Some((slot, _)) => {
                let leader = self.leaders.get(slot as usize).map(|(_, leader)| leader.clone())?;
                (leader != id).then_some(leader)
            }
            None => {
                self.add_leader(simhash, id);
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::tokenize;

    fn hash(text: &str) -> u64 {
        simhash(&tokenize(text, None))
    }

    #[test]
    fn templates_group_and_short_texts_do_not() {
        let mut index = NearDupIndex::new();
        let a = hash("@bob Stop the price rise now, sign the petition today at https://x.y/1");
        let b = hash("@alice Stop the price rise now, sign the petition today at https://x.y/2");
        let c = hash("I took my first dose this morning and the nausea is already gone");
        assert_eq!(index.assign(a, "1"), None);
        assert_eq!(index.assign(b, "2"), Some("1".to_owned()));
        assert_eq!(index.assign(c, "3"), None);
        assert_eq!(index.assign(a, "1"), None, "a leader is not its own duplicate");
        assert_eq!(hash("thanks!"), 0);
        assert_eq!(index.assign(0, "4"), None);
        assert_eq!(index.len(), 2);
    }
}
