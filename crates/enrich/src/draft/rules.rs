//! The rules of the draft check, one function per rule or rule family (PHARMA.md section
//! (c) and A5). Each pushes findings, "needs review" items or "cannot assess" items into an
//! [`Outcome`].

use std::collections::BTreeSet;

use waterline_model::config::ProductClass;

use super::lexicon as lx;
use super::{
    Audience, CannotAssess, CheckContext, Draft, Finding, Folded, Jurisdiction, NeedsReview,
    Resolved, Severity, Span, canonical_country, days_from_date, is_word_char, jurisdictions_of,
};

/// At most this many findings per rule (a long text repeating a word stays readable).
pub(super) const MAX_PER_RULE: usize = 5;

/// What the rules found.
#[derive(Default)]
pub(crate) struct Outcome {
    pub(crate) findings: Vec<Finding>,
    pub(crate) needs_review: Vec<NeedsReview>,
    pub(crate) cannot_assess: Vec<CannotAssess>,
}

impl Outcome {
    pub(super) fn finding(
        &mut self,
        rule: &str,
        severity: Severity,
        jurisdiction: String,
        span: Span,
        message: String,
        fix: &str,
    ) {
        let already = self.findings.iter().filter(|finding| finding.rule == rule).count();
        let duplicate = self.findings.iter().any(|finding| {
            finding.rule == rule && finding.span == span && finding.message == message
        });
        if already >= MAX_PER_RULE || duplicate {
            return;
        }
        self.findings.push(Finding {
            rule: rule.to_owned(),
            severity,
            jurisdiction,
            span,
            message,
            fix: fix.to_owned(),
        });
    }

    pub(super) fn review(&mut self, rule: &str, reason: String) {
        if !self.needs_review.iter().any(|item| item.rule == rule && item.reason == reason) {
            self.needs_review.push(NeedsReview { rule: rule.to_owned(), reason });
        }
    }

    pub(super) fn cannot(&mut self, rule: &str, missing: String, required: bool) {
        if !self.cannot_assess.iter().any(|item| item.rule == rule && item.missing == missing) {
            self.cannot_assess.push(CannotAssess { rule: rule.to_owned(), missing, required });
        }
    }

    /// True when the rule has its maximum of findings: its loop can stop.
    pub(super) fn full(&self, rule: &str) -> bool {
        self.findings.iter().filter(|finding| finding.rule == rule).count() >= MAX_PER_RULE
    }

    pub(super) fn has_rule(&self, rule: &str) -> bool {
        self.findings.iter().any(|finding| finding.rule == rule)
    }
}

/// The target countries and their jurisdictions.
pub(super) struct Targets {
    pub(super) countries: Vec<String>,
    jurisdictions: BTreeSet<Jurisdiction>,
}

impl Targets {
    fn new(countries: &[String]) -> Targets {
        let mut canonical: Vec<String> = countries
            .iter()
            .map(|country| canonical_country(country))
            .filter(|country| !country.is_empty())
            .collect();
        canonical.dedup();
        let jurisdictions =
            canonical.iter().flat_map(|country| jurisdictions_of(country)).collect();
        Targets { countries: canonical, jurisdictions }
    }

    pub(super) fn has(&self, jurisdiction: Jurisdiction) -> bool {
        self.jurisdictions.contains(&jurisdiction)
    }

    /// The rule's jurisdictions that are targeted, or all of the rule's when none is.
    pub(super) fn label(&self, rule: &[Jurisdiction]) -> String {
        if rule.is_empty() {
            return "all".to_owned();
        }
        let targeted: Vec<&str> =
            rule.iter().filter(|j| self.has(**j)).map(|j| j.as_str()).collect();
        if targeted.is_empty() {
            rule.iter().map(|j| j.as_str()).collect::<Vec<_>>().join("/")
        } else {
            targeted.join("/")
        }
    }
}

/// The shared inputs of the rules.
pub(super) struct Input<'a> {
    pub(super) draft: &'a Draft,
    pub(super) context: &'a CheckContext,
    pub(super) folded: &'a Folded<'a>,
    pub(super) products: &'a [Resolved<'a>],
    pub(super) targets: Targets,
}

impl Input<'_> {
    pub(super) fn public(&self) -> bool {
        self.draft.audience == Some(Audience::Public)
    }

    pub(super) fn hcp(&self) -> bool {
        self.draft.audience == Some(Audience::Hcp)
    }

    /// FR public: where several rules block instead of warning.
    pub(super) fn fr_public(&self) -> bool {
        self.public() && self.targets.has(Jurisdiction::Fr)
    }

    /// Where a product is named, or the whole text.
    pub(super) fn product_span(&self, product: &Resolved<'_>) -> Span {
        product
            .mentions
            .first()
            .map_or_else(|| self.folded.whole(), |&(start, end)| self.folded.span(start, end))
    }

    pub(super) fn mentioned(&self) -> bool {
        self.products.iter().any(|product| !product.mentions.is_empty())
    }

    pub(super) fn any_product(&self) -> bool {
        !self.products.is_empty()
    }
}

/// Runs every rule.
pub(crate) fn run_all(
    draft: &Draft,
    context: &CheckContext,
    folded: &Folded<'_>,
    products: &[Resolved<'_>],
    out: &mut Outcome,
) {
    let input = Input { draft, context, folded, products, targets: Targets::new(&draft.countries) };
    super::metadata::cmp_0a_metadata(&input, out);
    super::metadata::c_01_pom_to_public(&input, out);
    super::metadata::c_02_to_c_04_france_public(&input, out);
    super::metadata::c_05_us_benefit_without_risk(&input, out);
    super::metadata::c_06_hcp_benefit_without_safety(&input, out);
    super::metadata::c_12_references(&input, out);
    super::metadata::cmp_0c_pv_monitoring(&input, out);
    c_08_safe(&input, out);
    c_09_no_side_effects(&input, out);
    c_10_superlatives(&input, out);
    c_13_relative_risk(&input, out);
    c_14_new(&input, out);
    c_17_natural(&input, out);
    c_21_authorisation(&input, out);
    c_22_ask_for_product(&input, out);
    c_26_ae_statement(&input, out);
    c_27_disclosure(&input, out);
    super::judged::judged(&input, out);
}

/// The word before a folded position.
fn previous_word<'t>(folded: &'t Folded<'_>, position: usize) -> &'t str {
    let before = folded.text[..position].trim_end();
    let start = before
        .char_indices()
        .rev()
        .find(|&(_, ch)| !is_word_char(ch) && ch != '\'')
        .map_or(0, |(index, ch)| index + ch.len_utf8());
    &before[start..]
}

/// The text after a folded position, spaces skipped.
fn after<'t>(folded: &'t Folded<'_>, position: usize) -> &'t str {
    folded.text[position..].trim_start()
}

/// C-08: "safe" / « sûr » / « sans danger » without qualification.
fn c_08_safe(input: &Input<'_>, out: &mut Outcome) {
    let folded = input.folded;
    for (start, end) in folded.find_any(lx::SAFE) {
        if out.full("C-08") {
            break;
        }
        if lx::SAFE_NOT_A_CLAIM_BEFORE.contains(&previous_word(folded, start)) {
            continue;
        }
        let next = after(folded, end);
        let is_sur = folded.slice((start, end)).starts_with("sû");
        if is_sur
            && lx::SAFE_NOT_A_CLAIM_AFTER.iter().any(|word| {
                next.starts_with(word)
                    && next[word.len()..]
                        .chars()
                        .next()
                        .is_none_or(|ch| !is_word_char(ch) || word.ends_with('\''))
            })
        {
            continue;
        }
        let sentence = folded.sentence(start);
        let sentence_text = folded.slice(sentence);
        let qualified = lx::SAFE_QUALIFIERS
            .iter()
            .any(|qualifier| sentence_text.contains(Folded::new(qualifier).text.as_str()));
        if qualified {
            continue;
        }
        // A question asserts nothing by itself, but may still suggest it: a reviewer decides.
        let question = folded.text[sentence.1..].starts_with('?');
        out.finding(
            "C-08",
            if question { Severity::Warn } else { Severity::Block },
            "all".to_owned(),
            folded.span(start, end),
            if question {
                "\"safe\" in a question: check that the post does not imply the medicine is safe without qualification (ABPI Cl. 6.4)".to_owned()
            } else {
                "\"safe\" used about a medicine without qualification (ABPI Cl. 6.4)".to_owned()
            },
            "\"Brandix has a well-characterised safety profile; see the PI for side effects\"",
        );
    }
}

/// C-09: no side effects, no toxicity, no addiction, no risk.
fn c_09_no_side_effects(input: &Input<'_>, out: &mut Outcome) {
    let folded = input.folded;
    for (start, end) in folded.find_any(lx::NO_SIDE_EFFECTS) {
        if out.full("C-09") {
            break;
        }
        out.finding(
            "C-09",
            Severity::Block,
            "all".to_owned(),
            folded.span(start, end),
            "claims the absence of adverse effects, toxicity, dependence or risk".to_owned(),
            "remove the claim; describe the safety profile and refer to the leaflet or PI",
        );
    }
}

/// C-10: absolutes and superlatives: WARN, BLOCK in FR public.
fn c_10_superlatives(input: &Input<'_>, out: &mut Outcome) {
    let folded = input.folded;
    let (severity, jurisdiction) =
        if input.fr_public() { (Severity::Block, "FR") } else { (Severity::Warn, "all") };
    let exceptions: Vec<(usize, usize)> = lx::SUPERLATIVE_EXCEPTIONS
        .iter()
        .flat_map(|phrase| folded.find(&Folded::new(phrase).text))
        .collect();
    for (start, end) in folded.find_any(lx::SUPERLATIVES) {
        if out.full("C-10") {
            break;
        }
        let courtesy = exceptions.iter().any(|&(e_start, e_end)| start >= e_start && end <= e_end);
        if courtesy {
            continue;
        }
        let negated = ["no", "not", "aucun", "aucune", "pas", "sans", "never"]
            .contains(&previous_word(folded, start));
        if negated && !folded.slice((start, end)).starts_with("sans") {
            continue;
        }
        out.finding(
            "C-10",
            severity,
            jurisdiction.to_owned(),
            folded.span(start, end),
            format!(
                "absolute or superlative claim \"{}\": allowed only when tied to a clear, referenced fact{}",
                folded.span(start, end).text,
                if severity == Severity::Block { " (never to the French public)" } else { "" }
            ),
            "\"In study X, Brandix showed … vs placebo (ref)\"",
        );
    }
}

/// Two percentages in a sentence: absolute figures are given (`4% vs 8%`).
fn has_two_percentages(text: &str) -> bool {
    text.matches('%').count() >= 2
}

/// C-13: relative risk without the absolute risk.
fn c_13_relative_risk(input: &Input<'_>, out: &mut Outcome) {
    let folded = input.folded;
    for (start, end) in folded.find_any(lx::RELATIVE_RISK) {
        if out.full("C-13") {
            break;
        }
        let sentence = folded.slice(folded.sentence(start));
        let absolute = has_two_percentages(sentence)
            || lx::ABSOLUTE_RISK.iter().any(|cue| sentence.contains(cue));
        if absolute {
            continue;
        }
        out.finding(
            "C-13",
            Severity::Warn,
            input.targets.label(&[Jurisdiction::Uk, Jurisdiction::Eu]),
            folded.span(start, end),
            "relative risk reduction without the absolute risk".to_owned(),
            "\"Flares: 4% vs 8% (absolute); RRR 50%\"",
        );
    }
}

/// C-14: "new" for a product available for more than twelve months.
fn c_14_new(input: &Input<'_>, out: &mut Outcome) {
    let folded = input.folded;
    let hits = folded.find_any(lx::NEW);
    if hits.is_empty() {
        return;
    }
    for product in input.products {
        let near: Vec<(usize, usize)> = hits
            .iter()
            .copied()
            .filter(|&(start, _)| {
                let sentence = folded.sentence(start);
                product
                    .mentions
                    .iter()
                    .any(|&(m, _)| m >= sentence.0 && m < sentence.1.max(sentence.0 + 1))
            })
            .collect();
        let Some(&(start, end)) = near.first() else { continue };
        let launched = product.product.launched.as_deref().and_then(days_from_date);
        let (Some(launched), Some(today)) = (launched, input.context.today) else {
            out.review(
                "C-14",
                format!("\"new\" is used about {} and its launch date is unknown (set `launched` in its [[products]] entry)", product.product.name),
            );
            continue;
        };
        let age = today - launched;
        if age <= 365 {
            continue;
        }
        out.finding(
            "C-14",
            Severity::Warn,
            input.targets.label(&[Jurisdiction::Uk, Jurisdiction::Fr]),
            folded.span(start, end),
            format!(
                "\"new\" used about {} although it has been available for {} months",
                product.product.name,
                age / 30
            ),
            "remove \"new\" (allowed for twelve months after availability)",
        );
    }
}

/// C-17: "natural, therefore safe".
fn c_17_natural(input: &Input<'_>, out: &mut Outcome) {
    let folded = input.folded;
    for (start, end) in folded.find_any(lx::NATURAL) {
        if out.full("C-17") {
            break;
        }
        let sentence = folded.sentence(start);
        let claim_end = lx::NATURAL_CLAIMS
            .iter()
            .flat_map(|claim| folded.find(&Folded::new(claim).text))
            .filter(|&(claim_start, _)| claim_start >= sentence.0 && claim_start < sentence.1)
            .map(|(_, claim_end)| claim_end)
            .max();
        let Some(claim_end) = claim_end else { continue };
        out.finding(
            "C-17",
            Severity::Block,
            "all".to_owned(),
            folded.span(start.min(claim_end), end.max(claim_end)),
            "safety or efficacy claimed because the product is natural (CSP R.5122-4 8°)"
                .to_owned(),
            "remove the claim: natural origin says nothing about safety",
        );
    }
}

/// C-21: the marketing authorisation used as an argument.
fn c_21_authorisation(input: &Input<'_>, out: &mut Outcome) {
    let folded = input.folded;
    for (start, end) in folded.find_any(lx::AUTHORISATION) {
        if out.full("C-21") {
            break;
        }
        out.finding(
            "C-21",
            Severity::Warn,
            "FR".to_owned(),
            folded.span(start, end),
            "the marketing authorisation is used as an argument (CSP R.5122-4 13°)".to_owned(),
            "remove it",
        );
    }
}

/// C-22: "ask your doctor for <product>".
fn c_22_ask_for_product(input: &Input<'_>, out: &mut Outcome) {
    let folded = input.folded;
    let rule = [Jurisdiction::Uk, Jurisdiction::Eu];
    // French word order: « Demandez Brandix à votre médecin », « Parlez de Brandix à votre
    // médecin ».
    for product in input.products {
        let is_pom_somewhere = input.targets.countries.iter().any(|country| {
            product.product.status_in(country).is_none_or(|s| s.class == ProductClass::Pom)
        });
        if !is_pom_somewhere {
            continue;
        }
        for &(start, end) in &product.mentions {
            let before = folded.text[..start].trim_end();
            let verb = lx::ASK_DOCTOR_FR_BEFORE.iter().find(|verb| {
                before.ends_with(*verb)
                    && before[..before.len() - verb.len()]
                        .chars()
                        .next_back()
                        .is_none_or(|ch| !is_word_char(ch))
            });
            let Some(verb) = verb else { continue };
            let after_text = folded.text[end..].trim_start();
            let Some(doctor) = lx::ASK_DOCTOR_FR_AFTER.iter().find(|d| after_text.starts_with(*d))
            else {
                continue;
            };
            let span_start = before.len() - verb.len();
            let span_end = folded.text.len() - after_text.len() + doctor.len();
            out.finding(
                "C-22",
                Severity::Block,
                input.targets.label(&rule),
                folded.span(span_start, span_end),
                format!(
                    "encourages the reader to request {}, a prescription medicine",
                    product.product.name
                ),
                "« Parlez à votre médecin des options de traitement »",
            );
        }
    }
    for (start, end) in folded.find_any(lx::ASK_DOCTOR) {
        if out.full("C-22") {
            break;
        }
        let rest = &folded.text[end..];
        let object_start = end + (rest.len() - rest.trim_start().len());
        let named = input.products.iter().find(|product| {
            product.mentions.iter().any(|&(m, _)| m >= object_start && m <= object_start + 4)
        });
        if let Some(product) = named {
            let otc_everywhere = !input.targets.countries.is_empty()
                && input.targets.countries.iter().all(|country| {
                    product.product.status_in(country).is_some_and(|s| s.class == ProductClass::Otc)
                });
            if otc_everywhere {
                continue;
            }
            let object_end =
                product.mentions.iter().find(|&&(m, _)| m >= object_start).map_or(end, |&(_, e)| e);
            out.finding(
                "C-22",
                Severity::Block,
                input.targets.label(&rule),
                folded.span(start, object_end),
                format!(
                    "encourages the reader to request {}, a prescription medicine",
                    product.product.name
                ),
                "\"Ask your doctor about treatment options\"",
            );
            continue;
        }
        // Not a known product: a capitalised word or a hashtag may still name one.
        let word_end = folded.text[object_start..]
            .char_indices()
            .skip(1)
            .find(|&(_, ch)| !is_word_char(ch))
            .map_or(folded.text.len(), |(index, _)| object_start + index);
        let original = folded.span(object_start, word_end);
        let word = folded.slice((object_start, word_end));
        let looks_named = original.text.starts_with('#')
            || original.text.chars().next().is_some_and(char::is_uppercase);
        if looks_named && !lx::ASK_DOCTOR_GENERIC.contains(&word) {
            out.finding(
                "C-22",
                Severity::Warn,
                input.targets.label(&rule),
                folded.span(start, word_end),
                format!("\"{}\" may name a product the reader is told to request", original.text),
                "if it is a prescription medicine: \"Ask your doctor about treatment options\"",
            );
        }
    }
}

/// C-26: the AE-reporting statement (US DTC: MedWatch; UK promotion: Yellow Card).
fn c_26_ae_statement(input: &Input<'_>, out: &mut Outcome) {
    if !input.mentioned() {
        return;
    }
    let folded = input.folded;
    let us_pom = input.products.iter().any(|product| {
        product.product.status_in("US").is_some_and(|status| status.class == ProductClass::Pom)
    });
    if input.public()
        && input.targets.has(Jurisdiction::Us)
        && us_pom
        && !folded.contains_any(lx::AE_STATEMENT_US)
    {
        out.finding(
            "C-26",
            Severity::Info,
            "US".to_owned(),
            folded.whole(),
            "no MedWatch statement for reporting side effects".to_owned(),
            "where the format allows: \"Report side effects to FDA at 1-800-FDA-1088 or www.fda.gov/medwatch\"",
        );
    }
    if input.targets.has(Jurisdiction::Uk) && !folded.contains_any(lx::AE_STATEMENT_UK) {
        out.finding(
            "C-26",
            Severity::Warn,
            "UK".to_owned(),
            folded.whole(),
            "no adverse-event reporting statement on UK promotional material".to_owned(),
            "add \"Adverse events should be reported. Reporting forms and information can be found at yellowcard.mhra.gov.uk\"",
        );
    }
}

/// A disclosure opens the post: within its first bytes and after at most two words
/// ("Hi all! #ad …"), not after the content ("Loving my new routine #ad").
fn at_start(folded: &Folded<'_>, text_start: usize, start: usize) -> bool {
    let before = folded.text.get(text_start..start).unwrap_or_default();
    let words = before.split(|ch: char| !is_word_char(ch)).filter(|word| !word.is_empty()).count();
    start - text_start <= lx::DISCLOSURE_START_BYTES && words <= lx::DISCLOSURE_START_WORDS
}

/// C-27 and CMP-0d: sponsorship and influencer content disclosed at the start.
fn c_27_disclosure(input: &Input<'_>, out: &mut Outcome) {
    let folded = input.folded;
    let hits = folded.find_any(lx::DISCLOSURE);
    let text_start = folded.text.len() - folded.text.trim_start().len();
    let declared = input.draft.sponsored || input.draft.influencer;
    match hits.first() {
        None if declared => out.finding(
            "C-27",
            Severity::Block,
            "all".to_owned(),
            folded.whole(),
            format!(
                "{} content without a disclosure of the company's involvement",
                if input.draft.influencer { "influencer" } else { "sponsored" }
            ),
            "start the post with the disclosure (\"Paid partnership with Acme Health:\" / « Partenariat rémunéré avec … »)",
        ),
        Some(&(start, end)) if !at_start(folded, text_start, start) => out.finding(
            "CMP-0d",
            Severity::Block,
            "all".to_owned(),
            folded.span(start, end),
            "the disclosure of company involvement is not at the start of the post".to_owned(),
            "move the disclosure to the very start (a disclaimer only at the end was a breach, PMCPA 2023)",
        ),
        _ => {}
    }
    if input.draft.influencer {
        out.review(
            "CMP-0e",
            "influencer or employee content: the company is responsible for what is finally published; check the published post against this script".to_owned(),
        );
    }
}
