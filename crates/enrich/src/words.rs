//! Stop words and stemming per language.
//!
//! The stop-word lists are Waterline's own (written for social posts, folded: no accents);
//! stemming is Snowball through `rust-stemmers`.

use rust_stemmers::{Algorithm, Stemmer};

const ENGLISH: &str = "a about above after again against all am an and any are as at be because been \
before being below between both but by can could did do does doing down during each few for from \
further had has have having he her here hers herself him himself his how i if in into is it its itself \
just me more most my myself of off on once only or other our ours ourselves out over own same she \
should so some such than that the their theirs them themselves then there these they this those \
through to too under until up very was we were what when where which while who whom why will with \
would you your yours yourself yourselves im ive id ill youre youve theyre its thats theres lets u ur \
rt via amp get got also even still one would could us";

const FRENCH: &str = "a au aux avec ce ces c' cet cette d' dans de des du elle elles en et eux il ils \
j' je l' la le les leur leurs lui m' ma mais me meme mes moi mon n' ne nos notre nous on ou par pour \
qu' que qui s' sa se ses son sur t' ta te tes toi ton tu un une vos votre vous y ete etre avoir ai as \
avons avez ont suis es est sommes etes sont etais etait etions etiez etaient fus fut serai sera serons \
seront serais serait ceci cela ca celui celle ceux celles ici la-bas donc or car quand comme si tres \
tout tous toute toutes aussi alors apres avant chez entre sous sans vers plus moins peu bien ou deja \
encore fait faire faut rt via";

/// True when `norm` (folded) is a stop word of `language` (`en` or `fr`; other languages have none).
pub fn is_stop_word(language: &str, norm: &str) -> bool {
    let list = match language {
        "en" => ENGLISH,
        "fr" => FRENCH,
        _ => return false,
    };
    list.split_ascii_whitespace().any(|word| word == norm)
}

/// A Snowball stemmer for an ISO 639-1 code, when one exists.
pub fn stemmer(language: &str) -> Option<Stemmer> {
    let algorithm = match language {
        "en" => Algorithm::English,
        "fr" => Algorithm::French,
        "de" => Algorithm::German,
        "es" => Algorithm::Spanish,
        "it" => Algorithm::Italian,
        "pt" => Algorithm::Portuguese,
        "ar" => Algorithm::Arabic,
        "nl" => Algorithm::Dutch,
        _ => return None,
    };
    Some(Stemmer::create(algorithm))
}

/// The stop-word sets, built on first use.
pub static STOP_WORDS: std::sync::LazyLock<StopWords> =
    std::sync::LazyLock::new(StopWords::default);

/// Fast stop-word sets (built once).
pub struct StopWords {
    english: std::collections::HashSet<&'static str>,
    french: std::collections::HashSet<&'static str>,
}

impl Default for StopWords {
    fn default() -> Self {
        StopWords {
            english: ENGLISH.split_ascii_whitespace().collect(),
            french: FRENCH.split_ascii_whitespace().collect(),
        }
    }
}

impl StopWords {
    /// True when `norm` is a stop word of `language`.
    pub fn contains(&self, language: &str, norm: &str) -> bool {
        match language {
            "en" => self.english.contains(norm),
            "fr" => self.french.contains(norm),
            _ => false,
        }
    }

    /// True when `norm` is a stop word of any language.
    pub fn any(&self, norm: &str) -> bool {
        self.english.contains(norm) || self.french.contains(norm)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_words_and_stems() {
        assert!(is_stop_word("en", "the"));
        assert!(is_stop_word("fr", "les"));
        assert!(!is_stop_word("fr", "medicament"));
        let stems = stemmer("fr").map(|stemmer| stemmer.stem("médicaments").into_owned());
        assert_eq!(stems.as_deref(), Some("médic"));
        let stems = stemmer("en").map(|stemmer| stemmer.stem("headaches").into_owned());
        assert_eq!(stems.as_deref(), Some("headach"));
    }
}
