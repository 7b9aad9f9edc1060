//! The lexicon layer: cue matching over scanned words, the guards of PHARMA.md section b.3
//! (hypothetical and label talk, questions to medical information, news, indication only,
//! negation), and the category flags with their evidence spans.
//!
//! The layer also returns [`Signals`]: language-independent counts that the learned model
//! uses as features, so that French is scored without French training data.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::cues;
use super::scan::{Scan, Word, scan};
use super::{Category, Element, Flag, Presence, Span};

/// What a cue list is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// A reaction or symptom.
    Reaction,
    /// A reaction word that is also a disease word.
    Ambiguous,
    /// A word naming the concept of a side effect (a reaction only with first-hand talk).
    Concept,
    /// A first-hand cue shaped like a question (`anyone else`).
    FirstHand,
    /// A cue that makes `side effects` talk about the concept (label, list, forum).
    ConceptGuard,
    /// A seriousness criterion (index into [`cues::SERIOUS`]).
    Serious(usize),
    /// A category cue.
    Category(Category),
    /// An infection.
    Infection,
    /// A contaminated product.
    Contamination,
    /// A link between product and event, or a personal experience.
    Link,
    /// Withdrawal or stopping.
    Withdrawal,
    /// Efficacy, improvement.
    Efficacy,
    /// Before the product / the disease.
    Before,
    /// Hypothetical or label talk.
    Hypothetical,
    /// A question to medical information.
    MedInfo,
    /// News or corporate talk.
    News,
    /// Indication ("for my").
    Indication,
    /// Access talk (supply, price, reimbursement, support programmes).
    Access,
    /// Nothing to report (a positive experience).
    NothingToReport,
    /// Pregnancy intent.
    PregnancyIntent,
    /// The writer is the patient.
    SelfRef,
    /// A relation of the writer.
    Relation,
    /// A sex cue.
    Sex,
    /// A stated reporter role.
    Role,
    /// An age.
    Age,
}

#[derive(Debug, Clone)]
enum Piece {
    Exact(String),
    Prefix(String),
    Upper(String),
    Any,
    Number,
}

impl Piece {
    fn parse(word: &str) -> Piece {
        if word == "_" {
            Piece::Any
        } else if word == "#" {
            Piece::Number
        } else if let Some(upper) = word.strip_prefix('=') {
            Piece::Upper(upper.to_owned())
        } else if let Some(prefix) = word.strip_suffix('*') {
            Piece::Prefix(prefix.to_owned())
        } else {
            Piece::Exact(word.to_owned())
        }
    }

    fn matches(&self, word: &Word, text: &str) -> bool {
        match self {
            Piece::Exact(exact) => word.norm == *exact,
            Piece::Prefix(prefix) => word.norm.starts_with(prefix.as_str()),
            Piece::Upper(upper) => text.get(word.start..word.end) == Some(upper.as_str()),
            Piece::Any => true,
            Piece::Number => word.number,
        }
    }
}

#[derive(Debug, Clone)]
struct Pattern {
    pieces: Vec<Piece>,
    group: Group,
    strong: bool,
    /// The cue holds its own negation (`no libido`, `n'arrive plus à dormir`).
    negation_inside: bool,
}

/// One cue found in a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    /// The cue's group.
    pub group: Group,
    /// First word.
    pub first: usize,
    /// One past the last word.
    pub end: usize,
    /// A strong cue (not cancelled by guards).
    pub strong: bool,
    /// The cue holds its own negation: a negator before it does not cancel it.
    pub negation_inside: bool,
}

/// The compiled cue lists.
pub struct Lexicon {
    by_word: HashMap<String, Vec<usize>>,
    /// Patterns whose first piece is a prefix (`nause*`), by that prefix: a word looks up
    /// each of its own prefixes instead of trying every such pattern.
    by_prefix: HashMap<String, Vec<usize>>,
    /// The shortest and longest of those prefixes, in bytes.
    prefix_lengths: (usize, usize),
    /// Patterns whose first piece matches any word, a number or a cased form: tried at
    /// every word.
    anywhere: Vec<usize>,
    patterns: Vec<Pattern>,
}

impl Lexicon {
    fn new() -> Lexicon {
        let mut lists: Vec<(Group, &str)> = vec![
            (Group::Reaction, cues::EN_REACTIONS),
            (Group::Reaction, cues::FR_REACTIONS),
            (Group::Concept, cues::CONCEPT),
            (Group::FirstHand, cues::FIRST_HAND),
            (Group::ConceptGuard, cues::CONCEPT_GUARDS),
            (Group::Infection, cues::INFECTION),
            (Group::Contamination, cues::CONTAMINATION),
            (Group::Link, cues::LINKS),
            (Group::Withdrawal, cues::WITHDRAWAL),
            (Group::Efficacy, cues::EFFICACY),
            (Group::Before, cues::BEFORE),
            (Group::Hypothetical, cues::HYPOTHETICAL),
            (Group::MedInfo, cues::MEDINFO),
            (Group::News, cues::NEWS),
            (Group::Indication, cues::INDICATION),
            (Group::Access, cues::ACCESS),
            (Group::NothingToReport, cues::NOTHING_TO_REPORT),
            (Group::PregnancyIntent, cues::PREGNANCY_INTENT),
            (Group::SelfRef, cues::SELF),
            (Group::Relation, cues::RELATIONS),
            (Group::Sex, cues::SEX),
            (Group::Role, cues::ROLES),
            (Group::Age, cues::AGE_UNITS),
        ];
        for (index, (_, list)) in cues::SERIOUS.iter().enumerate() {
            lists.push((Group::Serious(index), list));
        }
        for (code, list) in cues::CATEGORIES {
            if let Some(category) = Category::parse(code) {
                lists.push((Group::Category(category), list));
            }
        }
        let ambiguous: std::collections::HashSet<&str> =
            cues::EN_AMBIGUOUS.split('|').chain(cues::FR_AMBIGUOUS.split('|')).collect();
        let mut lexicon = Lexicon {
            by_word: HashMap::new(),
            by_prefix: HashMap::new(),
            prefix_lengths: (usize::MAX, 0),
            anywhere: Vec::new(),
            patterns: Vec::new(),
        };
        for (group, list) in lists {
            for entry in list.split('|').map(str::trim).filter(|entry| !entry.is_empty()) {
                let (strong, body) = match entry.strip_prefix('!') {
                    Some(body) => (true, body),
                    None => (false, entry),
                };
                let (negation_inside, body) = match body.strip_prefix('~') {
                    Some(body) => (true, body),
                    None => (false, body),
                };
                let group = if group == Group::Reaction && ambiguous.contains(body) {
                    Group::Ambiguous
                } else {
                    group
                };
                let pieces: Vec<Piece> = body.split_whitespace().map(Piece::parse).collect();
                let index = lexicon.patterns.len();
                match pieces.first() {
                    Some(Piece::Exact(word)) => {
                        lexicon.by_word.entry(word.clone()).or_default().push(index)
                    }
                    Some(Piece::Prefix(prefix)) if !prefix.is_empty() => {
                        let (shortest, longest) = lexicon.prefix_lengths;
                        lexicon.prefix_lengths =
                            (shortest.min(prefix.len()), longest.max(prefix.len()));
                        lexicon.by_prefix.entry(prefix.clone()).or_default().push(index)
                    }
                    Some(_) => lexicon.anywhere.push(index),
                    None => continue,
                }
                lexicon.patterns.push(Pattern { pieces, group, strong, negation_inside });
            }
        }
        lexicon
    }

    /// The shared compiled lexicon.
    pub fn shared() -> &'static Lexicon {
        static LEXICON: OnceLock<Lexicon> = OnceLock::new();
        LEXICON.get_or_init(Lexicon::new)
    }

    /// Every cue hit in a scanned text (within sentences), in text order.
    pub fn hits(&self, text: &str, scanned: &Scan) -> Vec<Hit> {
        let mut hits = Vec::new();
        let mut candidates: Vec<usize> = Vec::new();
        for sentence in &scanned.sentences {
            let words = &scanned.words[sentence.first..sentence.end];
            for at in 0..words.len() {
                let norm = words[at].norm.as_str();
                let exact = self.by_word.get(norm).map_or(&[][..], Vec::as_slice);
                // The patterns whose first piece may match, in the order of the lists (exact
                // words first, then the others), as when every pattern was tried.
                candidates.clear();
                candidates.extend_from_slice(&self.anywhere);
                let (shortest, longest) = self.prefix_lengths;
                for (end, _) in norm.char_indices().skip(1).chain([(norm.len(), ' ')]) {
                    if end < shortest {
                        continue;
                    }
                    if end > longest {
                        break;
                    }
                    if let Some(found) = self.by_prefix.get(&norm[..end]) {
                        candidates.extend_from_slice(found);
                    }
                }
                candidates.sort_unstable();
                for &index in exact.iter().chain(candidates.iter()) {
                    let pattern = &self.patterns[index];
                    let length = pattern.pieces.len();
                    if at + length > words.len() {
                        continue;
                    }
                    let matched = pattern
                        .pieces
                        .iter()
                        .zip(&words[at..at + length])
                        .all(|(piece, word)| piece.matches(word, text));
                    if matched {
                        hits.push(Hit {
                            group: pattern.group,
                            first: sentence.first + at,
                            end: sentence.first + at + length,
                            strong: pattern.strong,
                            negation_inside: pattern.negation_inside,
                        });
                    }
                }
            }
        }
        hits
    }
}

/// Language-independent evidence for the learned model (counts per text).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Signals {
    /// Reaction cues that count (not negated, not guarded).
    pub reactions: u32,
    /// Ambiguous reaction cues (disease words).
    pub ambiguous: u32,
    /// Reaction cues that were negated.
    pub negated: u32,
    /// Reaction cues cancelled by a guard.
    pub guarded: u32,
    /// Link cues.
    pub links: u32,
    /// Withdrawal cues.
    pub withdrawal: u32,
    /// Efficacy cues.
    pub efficacy: u32,
    /// "Before" and disease cues.
    pub before: u32,
    /// Hypothetical cues.
    pub hypothetical: u32,
    /// Medical-information questions.
    pub medinfo: u32,
    /// News cues.
    pub news: u32,
    /// Indication cues.
    pub indication: u32,
    /// Sentences ending with `?`.
    pub questions: u32,
    /// First-person words.
    pub first_person: u32,
    /// Words.
    pub words: u32,
    /// Categories flagged.
    pub categories: Vec<Category>,
}

/// The lexicon's result for one text.
#[derive(Debug, Clone, Default)]
pub struct Analysis {
    /// Flags with spans.
    pub flags: Vec<Flag>,
    /// Signals for the model.
    pub signals: Signals,
    /// The patient element.
    pub patient: Option<Element>,
    /// A stated reporter role.
    pub role: Option<Span>,
    /// A product-like word (when the caller gave no products).
    pub product_like: Option<Span>,
    /// No flag, and every sentence is neutralised by a guard of PHARMA.md section b.3:
    /// hypothetical or label talk, a medical-information question, news, an indication only,
    /// or disease talk (a disease word with no link to a product and no personal
    /// experience). Such a text is not routed on its score alone.
    pub neutral: bool,
    /// The first reaction that counts, or an ambiguous one (uncertain).
    pub reaction: Option<Element>,
}

impl Analysis {
    /// Lexicon evidence: a flag (an AE flag needs a reaction cue that counts; a disease word
    /// not linked to the product is none). A text without any needs a higher score to route
    /// (see `Detector::detect`).
    pub fn evidence(&self) -> bool {
        !self.flags.is_empty()
    }
}

fn span_of(text: &str, words: &[Word], first: usize, end: usize) -> Span {
    let start = words.get(first).map_or(0, |word| word.start);
    let stop = end
        .checked_sub(1)
        .and_then(|last| words.get(last))
        .map_or(start, |word| word.end)
        .max(start);
    Span { start, end: stop, text: text.get(start..stop).unwrap_or_default().to_owned() }
}

/// The categories whose flag alone routes an item to PV: every category but AE (PV-9,
/// PV-10, PV-11, PV-12, the seriousness criteria of PV-8, use in children or the elderly,
/// and interactions, which are flagged only with a reaction). An AE routes by the score.
pub fn routes(category: Category) -> bool {
    category != Category::Ae
}

/// Analyses one text with the lexicon.
pub fn analyse(text: &str) -> Analysis {
    analyse_scanned(text, &scan(text))
}

/// Analyses one text already scanned (see [`scan`]).
pub fn analyse_scanned(text: &str, scanned: &Scan) -> Analysis {
    let lexicon = Lexicon::shared();
    let hits = lexicon.hits(text, scanned);
    let words = &scanned.words;
    let mut out = Analysis::default();
    let signals = &mut out.signals;
    signals.words = words.len() as u32;
    signals.questions =
        scanned.sentences.iter().filter(|sentence| sentence.question).count() as u32;

    // Sentence-level guards.
    let sentence_count = scanned.sentences.len();
    let mut hypothetical = vec![false; sentence_count];
    // The first word of the first hypothetical cue of each sentence: the cue guards what
    // follows it ("if I tried" does not cancel the symptoms listed before it).
    let mut hypothetical_from = vec![usize::MAX; sentence_count];
    let mut medinfo = vec![false; sentence_count];
    let mut news = vec![false; sentence_count];
    let mut personal = vec![false; sentence_count];
    let mut linked = vec![false; sentence_count];
    let mut intent = vec![false; sentence_count];
    let mut text_linked = false;
    let mut indication = vec![false; sentence_count];
    let mut indication_guarded = vec![false; sentence_count];
    let mut reacted = vec![false; sentence_count];
    let mut text_personal = false;
    let access = hits.iter().any(|hit| hit.group == Group::Access);
    let nothing_to_report = hits.iter().any(|hit| hit.group == Group::NothingToReport);
    let mut concept_guarded = vec![false; sentence_count];
    for hit in hits.iter().filter(|hit| hit.group == Group::ConceptGuard) {
        if let Some(word) = words.get(hit.first) {
            concept_guarded[word.sentence] = true;
        }
    }
    let question = |sentence: usize| scanned.sentences.get(sentence).is_some_and(|s| s.question);
    // A first-hand cue beside a word: the writer, a relation, a link (other than `side
    // effects` itself), `anyone else`; in a question only before the word (`… side effects
    // are scary, just me?` is no experience).
    let told_before = |at: usize| {
        let sentence = words.get(at).map_or(0, |word| word.sentence);
        hits.iter().any(|hit| {
            (hit.first < at || (hit.first > at && !question(sentence)))
                && words.get(hit.first).is_some_and(|word| word.sentence == sentence)
                && matches!(
                    hit.group,
                    Group::Link | Group::FirstHand | Group::Relation | Group::SelfRef
                )
                && !hits.iter().any(|concept| {
                    concept.group == Group::Concept
                        && concept.first < hit.end
                        && hit.first < concept.end
                })
        })
    };
    // `side effects` naming the concept: beside a label, list or forum cue, or in a question,
    // with no first-hand cue before it.
    let concept_talk = |hit: &Hit| {
        let sentence = words.get(hit.first).map_or(0, |word| word.sentence);
        let concept = hits.iter().find(|concept| {
            concept.group == Group::Concept && concept.first < hit.end && hit.first < concept.end
        });
        concept.is_some_and(|concept| {
            (concept_guarded[sentence] || question(sentence)) && !told_before(concept.first)
        })
    };
    // A disease word followed by a medicine word names an indication (`high blood pressure
    // meds`): every reaction cue in that span is guarded.
    let indication_spans: Vec<(usize, usize)> = hits
        .iter()
        .filter(|hit| matches!(hit.group, Group::Reaction | Group::Ambiguous))
        .filter(|hit| {
            let sentence = words.get(hit.first).map_or(0, |first| first.sentence);
            let next = words.get(hit.end).filter(|word| word.sentence == sentence);
            let next = match next {
                Some(word) if cues::MEDICINE_DETERMINERS.contains(&word.norm.as_str()) => {
                    words.get(hit.end + 1).filter(|word| word.sentence == sentence)
                }
                other => other,
            };
            next.is_some_and(|word| cues::MEDICINE_WORDS.contains(&word.norm.as_str()))
        })
        .map(|hit| (hit.first, hit.end))
        .collect();
    let first_hand: Vec<(usize, usize)> = hits
        .iter()
        .filter(|hit| hit.group == Group::FirstHand)
        .map(|hit| (hit.first, hit.end))
        .collect();
    for hit in &hits {
        let sentence = words.get(hit.first).map_or(0, |word| word.sentence);
        match hit.group {
            Group::FirstHand => {
                personal[sentence] = true;
                linked[sentence] = true;
                signals.links += 1;
            }
            // `side effects` in concept talk is no link to an experience.
            Group::Link if concept_talk(hit) => {}
            // `Does anyone else get …?` is first-hand talk, not a question to medical
            // information.
            Group::MedInfo
                if first_hand.iter().any(|(first, end)| hit.first < *end && *first < hit.end) => {}
            Group::Hypothetical => {
                hypothetical[sentence] = true;
                hypothetical_from[sentence] = hypothetical_from[sentence].min(hit.first);
                signals.hypothetical += 1;
            }
            Group::MedInfo => {
                medinfo[sentence] = true;
                signals.medinfo += 1;
            }
            Group::News => {
                news[sentence] = true;
                signals.news += 1;
            }
            Group::Link => {
                linked[sentence] = true;
                text_linked = true;
                signals.links += 1;
            }
            Group::SelfRef => {
                personal[sentence] = true;
                text_personal = true;
                signals.first_person += 1;
            }
            Group::Relation => {
                personal[sentence] = true;
                text_personal = true;
            }
            Group::Withdrawal => signals.withdrawal += 1,
            Group::Efficacy => signals.efficacy += 1,
            Group::Before => signals.before += 1,
            Group::Indication => {
                signals.indication += 1;
                indication[sentence] = true;
            }
            Group::PregnancyIntent => intent[sentence] = true,
            _ => {}
        }
    }
    // A sentence is guarded when it is hypothetical, label talk, a medical-information
    // question or news, and holds no personal experience linked to the product.
    let guarded_at = |sentence: usize, first: usize| {
        let soft = hypothetical_from[sentence] <= first || medinfo[sentence] || news[sentence];
        let asks = question(sentence) && !linked[sentence];
        (soft || asks) && !(personal[sentence] && linked[sentence] && !medinfo[sentence])
    };
    let guarded = |sentence: usize| {
        let soft = hypothetical[sentence] || medinfo[sentence] || news[sentence];
        let asks = question(sentence) && !linked[sentence];
        (soft || asks) && !(personal[sentence] && linked[sentence] && !medinfo[sentence])
    };
    let negated_at = |first: usize| {
        let sentence = words.get(first).map_or(0, |word| word.sentence);
        (first.saturating_sub(3)..first).any(|index| {
            words.get(index).is_some_and(|word| {
                word.sentence == sentence && cues::NEGATORS.contains(&word.norm.as_str())
            })
        })
    };
    let indication_before = |first: usize| {
        hits.iter()
            .any(|hit| hit.group == Group::Indication && hit.end <= first && hit.end + 3 > first)
    };

    let mut flags: Vec<Flag> = Vec::new();
    let push = |flags: &mut Vec<Flag>, category: Category, hit: &Hit, detail: Option<&str>| {
        let span = span_of(text, words, hit.first, hit.end);
        if flags.iter().any(|flag| flag.category == category && flag.span == span) {
            return;
        }
        flags.push(Flag { category, span, detail: detail.map(str::to_owned) });
    };
    let any_reaction = hits
        .iter()
        .any(|hit| matches!(hit.group, Group::Reaction | Group::Ambiguous | Group::Concept));

    let mut reaction_element: Option<Element> = None;

    let mut has_infection = false;
    let mut has_contamination = false;
    let mut infection_hit: Option<Hit> = None;
    for hit in &hits {
        let sentence = words.get(hit.first).map_or(0, |word| word.sentence);
        match hit.group {
            Group::Reaction | Group::Ambiguous | Group::Concept => {
                if !hit.negation_inside && negated_at(hit.first) {
                    signals.negated += 1;
                    continue;
                }
                // `side effects` in a question or beside a label cue names the concept, unless a
                // first-hand cue comes before it.
                if hit.group == Group::Concept && concept_talk(hit) {
                    signals.guarded += 1;
                    continue;
                }
                if indication_spans
                    .iter()
                    .any(|(first, end)| *first <= hit.first && hit.end <= *end)
                {
                    signals.guarded += 1;
                    indication_guarded[sentence] = true;
                    continue;
                }
                if indication_before(hit.first) || guarded_at(sentence, hit.first) {
                    signals.guarded += 1;
                    if indication_before(hit.first) {
                        indication_guarded[sentence] = true;
                    }
                    continue;
                }
                if hit.group == Group::Ambiguous {
                    signals.ambiguous += 1;
                    if !(linked[sentence] || (text_linked && text_personal)) {
                        if reaction_element.is_none() {
                            reaction_element = Some(Element {
                                presence: Presence::Uncertain,
                                span: Some(span_of(text, words, hit.first, hit.end)),
                            });
                        }
                        continue;
                    }
                } else {
                    signals.reactions += 1;
                }
                push(&mut flags, Category::Ae, hit, None);
                reacted[sentence] = true;
                if reaction_element
                    .as_ref()
                    .is_none_or(|element| element.presence != Presence::Present)
                {
                    reaction_element = Some(Element {
                        presence: Presence::Present,
                        span: Some(span_of(text, words, hit.first, hit.end)),
                    });
                }
            }
            Group::Serious(index) => {
                if guarded(sentence) && !hit.strong || negated_at(hit.first) {
                    continue;
                }
                if guarded(sentence) && !personal[sentence] {
                    continue;
                }
                let detail = cues::SERIOUS.get(index).map(|(name, _)| *name);
                push(&mut flags, Category::Serious, hit, detail);
            }
            Group::Infection => {
                has_infection = true;
                infection_hit.get_or_insert(*hit);
            }
            Group::Contamination => has_contamination = true,
            Group::Category(category) => {
                let is_guarded = guarded(sentence);
                let keep = match category {
                    Category::Pregnancy => {
                        !intent[sentence] && (hit.strong || !(is_guarded || medinfo[sentence]))
                    }
                    Category::LackOfEfficacy => {
                        let next = words.get(hit.end).map(|word| word.norm.as_str());
                        let about_side_effects = matches!(
                            next,
                            Some(
                                "secondaire"
                                    | "secondaires"
                                    | "indesirable"
                                    | "indesirables"
                                    | "side"
                            )
                        );
                        !about_side_effects && !hypothetical[sentence] && !medinfo[sentence]
                    }
                    Category::Interaction => any_reaction && !medinfo[sentence],
                    Category::Breastfeeding => !medinfo[sentence] || personal[sentence],
                    // Use in children or the elderly with no reaction, in access talk (`is it
                    // in stock? it's for my grandmother`): nothing happened to report.
                    Category::Paediatric | Category::Elderly if access && !any_reaction => false,
                    _ => (!is_guarded || personal[sentence]) && !medinfo[sentence],
                };
                if keep {
                    push(&mut flags, category, hit, None);
                }
            }
            Group::Role => {
                out.role.get_or_insert_with(|| span_of(text, words, hit.first, hit.end));
            }
            Group::Age => {
                let age = words.get(hit.first).and_then(|word| word.norm.parse::<u32>().ok());
                let unit = words.get(hit.first + 1).map_or("", |word| word.norm.as_str());
                let years = match (age, unit) {
                    (Some(age), "mois" | "months" | "month" | "weeks" | "semaines") => {
                        Some(age / 12)
                    }
                    (Some(age), _) => Some(age),
                    _ => None,
                };
                if let Some(years) = years {
                    if years < 18 {
                        push(&mut flags, Category::Paediatric, hit, None);
                    } else if (65..120).contains(&years) {
                        push(&mut flags, Category::Elderly, hit, None);
                    }
                }
            }
            _ => {}
        }
    }
    // An age in brackets after a relation: "My dad (72)".
    for (index, word) in words.iter().enumerate() {
        if !word.number || index == 0 {
            continue;
        }
        let bracketed = text.get(..word.start).is_some_and(|before| before.ends_with('('));
        let after_relation =
            hits.iter().any(|hit| hit.group == Group::Relation && hit.end == index);
        if bracketed
            && after_relation
            && let Ok(age) = word.norm.parse::<u32>()
        {
            let hit = Hit {
                group: Group::Age,
                first: index,
                end: index + 1,
                strong: true,
                negation_inside: false,
            };
            if age < 18 {
                push(&mut flags, Category::Paediatric, &hit, None);
            } else if (65..120).contains(&age) {
                push(&mut flags, Category::Elderly, &hit, None);
            }
        }
    }
    if let Some(hit) = infection_hit.filter(|_| has_infection && has_contamination) {
        push(&mut flags, Category::InfectionTransmission, &hit, Some("infection"));
    }
    // The patient: self or a relation (present), an age or sex only (uncertain).
    let patient_hit = hits
        .iter()
        .find(|hit| matches!(hit.group, Group::Relation))
        .or_else(|| hits.iter().find(|hit| hit.group == Group::SelfRef));
    out.patient = match patient_hit {
        Some(hit) => Some(Element {
            presence: Presence::Present,
            span: Some(span_of(text, words, hit.first, hit.end)),
        }),
        None => hits.iter().find(|hit| matches!(hit.group, Group::Age | Group::Sex)).map(|hit| {
            Element {
                presence: Presence::Uncertain,
                span: Some(span_of(text, words, hit.first, hit.end)),
            }
        }),
    };
    out.product_like = product_like(text, scanned);
    out.reaction = reaction_element;
    flags.sort_by_key(|flag| (flag.category, flag.span.start));
    let mut categories: Vec<Category> = flags.iter().map(|flag| flag.category).collect();
    categories.dedup();
    out.signals.categories = categories;
    // Narrow on purpose: each guard of a neutral text must be unambiguous, since real
    // reports often hold a question or an "if".
    let counted = out.signals.reactions + out.signals.ambiguous;
    // Benefit talk is not neutral: a benefit often comes with a reaction (PHARMA.md, b.3
    // caution; PsyTAR agrees), so the model decides.
    // Access talk (supply, price, reimbursement) with no flag and no reaction (a disease word
    // not linked to the product is none) is neutral.
    // So is a positive experience with nothing to report (`no complaints`).
    out.neutral = ((access || nothing_to_report) && flags.is_empty() && out.signals.reactions == 0)
        || flags.is_empty()
            && counted == 0
            && out.signals.negated == 0
            && (0..sentence_count).all(|sentence| {
                let second_hand =
                    hypothetical[sentence] && !(personal[sentence] && linked[sentence]);
                let asks_medinfo = medinfo[sentence] && question(sentence);
                let corporate = news[sentence] && !text_personal;
                let indication_only = indication[sentence] && indication_guarded[sentence];
                !reacted[sentence] && (second_hand || asks_medinfo || corporate || indication_only)
            });
    out.flags = flags;
    out
}

/// A word that looks like a product name: capitalised but not at a sentence start and not a
/// common word, or ending like an INN.
fn product_like(text: &str, scanned: &Scan) -> Option<Span> {
    static NOT_PRODUCTS: OnceLock<std::collections::HashSet<&'static str>> = OnceLock::new();
    let common = NOT_PRODUCTS.get_or_init(|| cues::NOT_PRODUCTS.split('|').collect());
    for sentence in &scanned.sentences {
        for index in sentence.first..sentence.end {
            let Some(word) = scanned.words.get(index) else { continue };
            if word.norm.len() < 4 || word.number || common.contains(word.norm.as_str()) {
                continue;
            }
            let raw = text.get(word.start..word.end).unwrap_or_default();
            let capitalised = raw.chars().next().is_some_and(char::is_uppercase)
                && raw.chars().skip(1).any(char::is_lowercase);
            let inn = cues::INN_SUFFIXES.iter().any(|suffix| word.norm.ends_with(suffix));
            if (capitalised && index > sentence.first) || inn {
                return Some(Span { start: word.start, end: word.end, text: raw.to_owned() });
            }
        }
    }
    None
}
