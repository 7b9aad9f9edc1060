//! Per-post annotations computed by the enrichment chain (language, sentiment, needs,
//! entities, near-duplicates). They are derived data: re-importing or `waterline enrich`
//! recomputes them, so an annotation in an imported record is never trusted.

use serde::{Deserialize, Serialize};

/// Negative, neutral or positive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sentiment {
    /// Negative.
    Negative,
    /// Neutral.
    Neutral,
    /// Positive.
    Positive,
}

impl Sentiment {
    /// All three, in label order (0 negative, 1 neutral, 2 positive).
    pub const ALL: [Sentiment; 3] = [Sentiment::Negative, Sentiment::Neutral, Sentiment::Positive];

    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Sentiment::Negative => "negative",
            Sentiment::Neutral => "neutral",
            Sentiment::Positive => "positive",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(text: &str) -> Option<Sentiment> {
        Sentiment::ALL.into_iter().find(|sentiment| sentiment.as_str() == text)
    }

    /// The label number used by the public data sets: 0 negative, 1 neutral, 2 positive.
    pub fn label(self) -> usize {
        self as usize
    }

    /// The sentiment of a label number.
    pub fn from_label(label: usize) -> Option<Sentiment> {
        Sentiment::ALL.get(label).copied()
    }
}

/// What a post asks of the brand, if anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Need {
    /// A question ("how do I…?", "est-ce que…").
    Question,
    /// A complaint: something went wrong and the author holds someone responsible.
    Complaint,
    /// A request for action ("please send…", "merci de…").
    Request,
    /// None of those.
    None,
}

impl Need {
    /// All four.
    pub const ALL: [Need; 4] = [Need::Question, Need::Complaint, Need::Request, Need::None];

    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Need::Question => "question",
            Need::Complaint => "complaint",
            Need::Request => "request",
            Need::None => "none",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(text: &str) -> Option<Need> {
        Need::ALL.into_iter().find(|need| need.as_str() == text)
    }
}

/// The annotations of one post.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Annotations {
    /// ISO 639-1 code of the detected language, or `und` when the text is too short or mixed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Negative, neutral or positive; absent when skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sentiment: Option<Sentiment>,
    /// P(positive) − P(negative), in [-1, 1].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sentiment_score: Option<f32>,
    /// Question, complaint, request or none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub need: Option<Need>,
    /// Brand, product and competitor mentions as `kind:name` (`brand:Acme Health`,
    /// `product:Cardiozen`, `competitor:Rivalis`), each once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entities: Vec<String>,
    /// True when the post is addressed to the brand: it replies to, or mentions, an owned
    /// account, or names the brand or one of its products.
    #[serde(default)]
    pub addressed_to_brand: bool,
    /// 64-bit SimHash of the normalised text (near-duplicate detection).
    #[serde(default)]
    pub simhash: u64,
    /// The near-duplicate group: the id of the first post seen with (nearly) this text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<String>,
    /// Why an enricher skipped the post (`sentiment: empty text`), `; `-separated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    /// The enrichers and versions that produced these annotations (`language@1 sentiment@1`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub enriched_with: String,
    /// The workspace topic the post was assigned when it was stored (stable id of
    /// `.waterline/topics.json`); absent for posts without content and outliers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<u32>,
}

impl Annotations {
    /// Records why an enricher skipped the post.
    pub fn skip(&mut self, enricher: &str, reason: &str) {
        let entry = format!("{enricher}: {reason}");
        match &mut self.skipped {
            Some(skipped) => {
                skipped.push_str("; ");
                skipped.push_str(&entry);
            }
            None => self.skipped = Some(entry),
        }
    }
}
