//! Pharmacovigilance detection (PHARMA.md PV-1, PV-8 to PV-13, ML-1 to ML-3): for a text
//! about a product, one flag per taxonomy category of PHARMA.md section b.2 with its
//! evidence span, the four ICSR minimum elements (section b.1) as present / absent /
//! uncertain, and one score for "any PV-relevant content" whose operating threshold is
//! set for recall (ML-1).
//!
//! Two layers (ML-3: the lexicon layer is never the only classifier): cue lists written for
//! this project in English and French (`cues.rs`, matched with their guards in `lexicon.rs`)
//! give the category flags and spans; a learned model (`model.rs`,
//! `models/adverse-events.wlm`, trained by `waterline train adverse-events`) scores the text
//! from its words and from the lexicon's language-independent signals. A text is relevant
//! when its score reaches the threshold (the language's own, if the model file has one; a
//! higher one when the lexicon found no evidence: no flag and no reaction cue) and
//! the b.3 guards do not neutralise it entirely, or when it has any flag other than AE
//! (special situations always route, PV-9). `evaluate.rs` holds the metrics, the
//! cross-drug protocol and the shipped model's build; `docs/QUALITY.md` the figures.

use serde::{Deserialize, Serialize};

pub mod cues;
pub mod data;
pub mod evaluate;
#[cfg(feature = "encoder")]
pub mod finetuned;
pub mod head;
pub mod lexicon;
pub mod model;
pub mod scan;

#[cfg(test)]
mod tests;

/// A taxonomy category (PHARMA.md section b.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Category {
    /// Adverse event / suspected adverse reaction.
    #[serde(rename = "AE")]
    Ae,
    /// One of the seriousness criteria (PV-8).
    #[serde(rename = "SAE")]
    Serious,
    /// Exposure during pregnancy, maternal or paternal (PV-10).
    #[serde(rename = "PREG")]
    Pregnancy,
    /// Exposure during breastfeeding (PV-10).
    #[serde(rename = "BF")]
    Breastfeeding,
    /// Use in children.
    #[serde(rename = "PED")]
    Paediatric,
    /// Use in the elderly.
    #[serde(rename = "ELD")]
    Elderly,
    /// Off-label use.
    #[serde(rename = "OFF")]
    OffLabel,
    /// Overdose.
    #[serde(rename = "OD")]
    Overdose,
    /// Abuse.
    #[serde(rename = "ABU")]
    Abuse,
    /// Misuse, including for illegal purposes.
    #[serde(rename = "MIS")]
    Misuse,
    /// Medication error, including near misses.
    #[serde(rename = "ME")]
    MedicationError,
    /// Occupational exposure.
    #[serde(rename = "OCC")]
    Occupational,
    /// Lack of efficacy: an explicit statement that the product did not work (PV-11).
    #[serde(rename = "LOE")]
    LackOfEfficacy,
    /// Drug or food interaction.
    #[serde(rename = "INT")]
    Interaction,
    /// Product quality complaint or suspected falsified product (PV-12).
    #[serde(rename = "PQC")]
    QualityComplaint,
    /// Suspected transmission of an infectious agent (always serious).
    #[serde(rename = "TIA")]
    InfectionTransmission,
}

impl Category {
    /// Every category, in the order of PHARMA.md section b.2.
    pub const ALL: [Category; 16] = [
        Category::Ae,
        Category::Serious,
        Category::Pregnancy,
        Category::Breastfeeding,
        Category::Paediatric,
        Category::Elderly,
        Category::OffLabel,
        Category::Overdose,
        Category::Abuse,
        Category::Misuse,
        Category::MedicationError,
        Category::Occupational,
        Category::LackOfEfficacy,
        Category::Interaction,
        Category::QualityComplaint,
        Category::InfectionTransmission,
    ];

    /// The code used in PHARMA.md and in exports (`AE`, `SAE`, `PREG`, …).
    pub fn code(self) -> &'static str {
        match self {
            Category::Ae => "AE",
            Category::Serious => "SAE",
            Category::Pregnancy => "PREG",
            Category::Breastfeeding => "BF",
            Category::Paediatric => "PED",
            Category::Elderly => "ELD",
            Category::OffLabel => "OFF",
            Category::Overdose => "OD",
            Category::Abuse => "ABU",
            Category::Misuse => "MIS",
            Category::MedicationError => "ME",
            Category::Occupational => "OCC",
            Category::LackOfEfficacy => "LOE",
            Category::Interaction => "INT",
            Category::QualityComplaint => "PQC",
            Category::InfectionTransmission => "TIA",
        }
    }

    /// Parses a code.
    pub fn parse(code: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|category| category.code().eq_ignore_ascii_case(code))
    }

    /// A short English label.
    pub fn label(self) -> &'static str {
        match self {
            Category::Ae => "adverse event",
            Category::Serious => "serious criterion",
            Category::Pregnancy => "pregnancy exposure",
            Category::Breastfeeding => "breastfeeding exposure",
            Category::Paediatric => "use in children",
            Category::Elderly => "use in the elderly",
            Category::OffLabel => "off-label use",
            Category::Overdose => "overdose",
            Category::Abuse => "abuse",
            Category::Misuse => "misuse",
            Category::MedicationError => "medication error",
            Category::Occupational => "occupational exposure",
            Category::LackOfEfficacy => "lack of efficacy",
            Category::Interaction => "interaction",
            Category::QualityComplaint => "quality complaint",
            Category::InfectionTransmission => "infection transmission",
        }
    }

    /// Seriousness: items with these flags go to the top of the queue and get the 15-day
    /// clock (PV-8; TIA is always serious).
    pub fn is_serious(self) -> bool {
        matches!(self, Category::Serious | Category::InfectionTransmission)
    }
}

pub use crate::text::Span;

/// One flag with its evidence (PV-1 ii).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Flag {
    /// The category.
    pub category: Category,
    /// The evidence span.
    pub span: Span,
    /// For `Serious`: which criterion (`death`, `life-threatening`, `hospitalisation`,
    /// `disability`, `congenital anomaly`, `important medical event`, `infection`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Present, absent or uncertain (PV-1 iii).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Presence {
    /// The text holds the element.
    Present,
    /// Nothing in the text suggests it.
    Absent,
    /// A weak or ambiguous cue: PV decides.
    Uncertain,
}

impl Presence {
    /// `present`, `absent` or `uncertain`.
    pub fn as_str(self) -> &'static str {
        match self {
            Presence::Present => "present",
            Presence::Absent => "absent",
            Presence::Uncertain => "uncertain",
        }
    }
}

/// One ICSR minimum element with its evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Element {
    /// Present, absent or uncertain.
    pub presence: Presence,
    /// The evidence, when there is some.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub span: Option<Span>,
}

impl Element {
    /// An absent element.
    pub fn absent() -> Element {
        Element { presence: Presence::Absent, span: None }
    }
}

/// The four ICSR minimum elements (PHARMA.md section b.1; GVP Annex I).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Elements {
    /// An identifiable patient (self, a relation, an age, a sex, initials).
    pub patient: Element,
    /// An identifiable reporter (an account handle, a stated role, contact details).
    pub reporter: Element,
    /// The suspect product (brand, INN, strength, batch).
    pub product: Element,
    /// The suspected reaction or event.
    pub reaction: Element,
}

/// What the detector says about one text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Detection {
    /// Probability-like score of "any PV-relevant content" (0 to 1).
    pub score: f32,
    /// `score` at or above the operating threshold, or a lexicon flag that always routes
    /// to PV (special situations, PV-9): the item goes to the triage queue.
    pub relevant: bool,
    /// Flags per category with their evidence (several flags may share a category).
    pub flags: Vec<Flag>,
    /// The four minimum elements.
    pub elements: Elements,
    /// The detector's name and version, recorded in the audit trail (AUD-1).
    pub model: String,
}

impl Detection {
    /// The distinct categories flagged, in taxonomy order.
    pub fn categories(&self) -> Vec<Category> {
        let mut categories: Vec<Category> = self.flags.iter().map(|flag| flag.category).collect();
        categories.sort();
        categories.dedup();
        categories
    }

    /// Whether any flag makes the case serious (PV-8).
    pub fn serious(&self) -> bool {
        self.flags.iter().any(|flag| flag.category.is_serious())
    }
}

/// What the detector knows about the context of a text.
#[derive(Debug, Clone, Default)]
pub struct Context<'a> {
    /// ISO 639-1 language of the text (`en`, `fr`); other languages use both lexicons.
    pub language: &'a str,
    /// The author's handle, if any: evidence of an identifiable reporter.
    pub author: Option<&'a str>,
    /// Product names found in the text (brand, INN, alias), with their spans, if the
    /// caller matched them; empty means "treat the text as about a product" (eval mode).
    pub products: Vec<Span>,
}

/// The detector: lexicon layer plus learned model, with the operating threshold.
#[derive(Debug, Default)]
pub struct Detector {
    threshold: f32,
    without_evidence: f32,
    by_language: Vec<(String, f32)>,
    without_evidence_by_language: Vec<(String, f32)>,
    model: Option<model::Model>,
    head: Option<head::Head>,
}

/// The detector's version, recorded with each detection (AUD-1).
pub const VERSION: &str = "pv-lexicon@1+adverse-events@1";

impl Detector {
    /// The shipped detector (the model compiled into the binary). When the model does not
    /// load, the lexicon alone decides (an AE flag scores 0.9) and the threshold is 0.5.
    pub fn shipped() -> &'static Detector {
        static SHIPPED: std::sync::OnceLock<Detector> = std::sync::OnceLock::new();
        SHIPPED.get_or_init(|| {
            match model::Model::from_bytes(crate::models::ADVERSE_EVENTS_MODEL) {
                Ok(model) => Detector::with_model(model),
                Err(_) => Detector {
                    threshold: 0.5,
                    without_evidence: 0.5,
                    by_language: Vec::new(),
                    without_evidence_by_language: Vec::new(),
                    model: None,
                    head: None,
                },
            }
        })
    }

    /// A detector with this model and the threshold stored in it.
    pub fn with_model(model: model::Model) -> Detector {
        Detector {
            threshold: model.threshold(),
            without_evidence: model.threshold_without_evidence(),
            by_language: model.language_thresholds().to_vec(),
            without_evidence_by_language: model.language_thresholds_without_evidence().to_vec(),
            model: Some(model),
            head: None,
        }
    }

    /// The same detector with the optional sentence-encoder head (`head.rs`): English texts
    /// given an embedding are scored by the mix of both models, at the head's thresholds.
    pub fn with_head(mut self, head: head::Head) -> Detector {
        self.head = Some(head);
        self
    }

    /// The sentence-encoder head, when one was given.
    pub fn head(&self) -> Option<&head::Head> {
        self.head.as_ref()
    }

    /// Whether a text in `language` is scored with an embedding when one is given (a head is
    /// present and the language is English or undetermined).
    pub fn wants_embedding(&self, language: &str) -> bool {
        self.head.is_some() && model::embeds(language)
    }

    /// The same detector at another threshold.
    pub fn at_threshold(mut self, threshold: f32) -> Detector {
        self.threshold = threshold;
        self.without_evidence = threshold;
        self.by_language.clear();
        self.without_evidence_by_language.clear();
        self
    }

    /// The operating threshold on `score` (ML-1: chosen for recall).
    pub fn threshold(&self) -> f32 {
        self.threshold
    }

    /// The operating threshold for a language: French has its own (chosen on out-of-fold
    /// scores of the written French examples, since the word model is English), the others
    /// use [`Detector::threshold`].
    pub fn threshold_for(&self, language: &str) -> f32 {
        self.by_language
            .iter()
            .find(|(code, _)| code == language)
            .map_or(self.threshold, |(_, threshold)| *threshold)
    }

    /// The operating threshold for a text with no lexicon evidence (no flag): the higher of
    /// the language's threshold and the model's threshold for such texts (the language's
    /// own, if the model file has one). A text that names
    /// no reaction and no special situation routes on a much surer score only (shortages,
    /// prices, support programmes, dosing questions are not PV).
    pub fn threshold_without_evidence_for(&self, language: &str) -> f32 {
        let without = self
            .without_evidence_by_language
            .iter()
            .find(|(code, _)| code == language)
            .map_or(self.without_evidence, |(_, threshold)| *threshold);
        self.threshold_for(language).max(without)
    }

    /// Detects PV-relevant content in one text. Never fails.
    pub fn detect(&self, text: &str, context: &Context<'_>) -> Detection {
        self.detect_embedded(text, context, None)
    }

    /// Detects PV-relevant content in one text, with the text's sentence embedding when the
    /// caller ran the encoder (used only with a head and for English or undetermined texts;
    /// otherwise the same as [`Detector::detect`]). Never fails.
    pub fn detect_embedded(
        &self,
        text: &str,
        context: &Context<'_>,
        embedding: Option<&[f32]>,
    ) -> Detection {
        let probability = match (&self.head, embedding) {
            (Some(head), Some(embedding)) if head.dims() > 0 && embedding.len() == head.dims() => {
                Some(head.probability(embedding))
            }
            _ => None,
        };
        self.detect_with_probability(text, context, probability)
    }

    /// Detects PV-relevant content in one text, with the encoder layer's own P(relevant) when
    /// the caller ran it (a fine-tuned classifier, `finetuned.rs`, or a head over an
    /// embedding): mixed with the fast model's score at the head's share and judged at the
    /// head's thresholds, for English or undetermined texts only. Never fails.
    pub fn detect_with_probability(
        &self,
        text: &str,
        context: &Context<'_>,
        probability: Option<f32>,
    ) -> Detection {
        let text = crate::analysed(text);
        let scanned = scan::scan(text);
        let analysis = lexicon::analyse_scanned(text, &scanned);
        let products: Vec<(usize, usize)> =
            context.products.iter().map(|span| (span.start, span.end)).collect();
        let score = match &self.model {
            Some(model) => {
                let mut features = Vec::new();
                model::features(
                    text,
                    context.language,
                    &scanned,
                    &analysis,
                    &products,
                    &mut features,
                );
                model.score(&features)
            }
            None => {
                if analysis.flags.iter().any(|flag| flag.category == Category::Ae) {
                    0.9
                } else {
                    0.1
                }
            }
        };
        let head = match (&self.head, probability) {
            (Some(head), Some(probability))
                if model::embeds(context.language) && probability.is_finite() =>
            {
                Some((head, probability))
            }
            _ => None,
        };
        let score =
            head.map_or(score, |(head, probability)| head::mixed(score, probability, head.share()));
        let routed = analysis.flags.iter().any(|flag| lexicon::routes(flag.category));
        // A text that the b.3 guards neutralise entirely is not routed on its score alone.
        let threshold = match (head, analysis.evidence()) {
            (Some((head, _)), true) => head.threshold(),
            (Some((head, _)), false) => head.threshold_without_evidence(),
            (None, false) => self.threshold_without_evidence_for(context.language),
            (None, true) => self.threshold_for(context.language),
        };
        let relevant = routed || (score >= threshold && !analysis.neutral);
        let product = match context.products.first() {
            Some(span) => Element { presence: Presence::Present, span: Some(span.clone()) },
            None => match &analysis.product_like {
                Some(span) => Element { presence: Presence::Uncertain, span: Some(span.clone()) },
                None => Element::absent(),
            },
        };
        let reporter = match (&analysis.role, context.author) {
            (Some(span), _) => Element { presence: Presence::Present, span: Some(span.clone()) },
            (None, Some(_)) => Element { presence: Presence::Present, span: None },
            (None, None) => Element::absent(),
        };
        let reaction = match analysis.reaction {
            Some(element) => element,
            None if score >= threshold => Element { presence: Presence::Uncertain, span: None },
            None => Element::absent(),
        };
        Detection {
            score,
            relevant,
            flags: analysis.flags,
            elements: Elements {
                patient: analysis.patient.unwrap_or_else(Element::absent),
                reporter,
                product,
                reaction,
            },
            model: match head {
                Some((head, _)) => head.version().into(),
                None => VERSION.into(),
            },
        }
    }
}
