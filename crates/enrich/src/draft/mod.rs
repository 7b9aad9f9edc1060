//! The draft check (PHARMA.md A5 CMP-0a to CMP-0e, section (c) C-01 to C-27): a lint of a
//! draft post before publication, from its text and its declared metadata (target
//! countries, audience, products and their legal status, ANSM visa, sponsorship, the target
//! account, references).
//!
//! Four rule families (see `docs/adr/008-draft-check.md`):
//! - text rules (lexicons and patterns, English and French) that apply whatever the
//!   metadata: C-08 to C-10, C-13, C-14, C-17, C-21, C-22, C-26, C-27 / CMP-0d;
//! - metadata rules: C-01 to C-06, C-12, CMP-0c;
//! - rules that need a label knowledge base or human judgement (C-05 label part, C-07,
//!   C-11, C-15, C-16, C-18 to C-20, C-23 to C-25): reported as "needs review", never as
//!   passed, with a finding and its span when the text gives a strong cue;
//! - CMP-0a: the metadata a rule needs and does not have is listed as "cannot assess".
//!
//! Bad input is data: every text (empty, huge, odd characters) gives a report, never a panic.

mod judged;
mod lexicon;
mod metadata;
mod rules;

pub use judged::links;
#[cfg(test)]
mod tests;

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use waterline_model::config::{LegalStatus, Product, ProductClass, normalise_handle};

/// Who a draft is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// The general public (social media content is public unless access is verified).
    Public,
    /// Verified healthcare professionals only.
    Hcp,
}

impl Audience {
    /// Parses `public` or `hcp` (case-insensitive).
    pub fn parse(text: &str) -> Option<Audience> {
        match text.trim().to_ascii_lowercase().as_str() {
            "public" | "general" | "general-public" | "gp" => Some(Audience::Public),
            "hcp" | "hcps" | "professional" | "professionals" => Some(Audience::Hcp),
            _ => None,
        }
    }
}

/// Declared media of a draft (used by the reception forecast).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Media {
    /// A picture.
    Image,
    /// A video.
    Video,
}

impl Media {
    /// Parses `image` or `video` (case-insensitive).
    pub fn parse(text: &str) -> Option<Media> {
        match text.trim().to_ascii_lowercase().as_str() {
            "image" | "photo" | "picture" => Some(Media::Image),
            "video" => Some(Media::Video),
            _ => None,
        }
    }
}

/// A product a draft names, with its legal status per country.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DraftProduct {
    /// The brand name.
    pub name: String,
    /// Established names (INNs) and other spellings that also name it in a text.
    #[serde(default)]
    pub inns: Vec<String>,
    /// Other spellings.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Legal status per country (ISO 3166 alpha-2; `GB` and `UK` are the same).
    #[serde(default)]
    pub status: std::collections::BTreeMap<String, LegalStatus>,
    /// Availability date `YYYY-MM-DD` (C-14).
    #[serde(default)]
    pub launched: Option<String>,
}

impl DraftProduct {
    /// A product declared on the command line: `NAME=pom|otc[,reimbursed]` for every
    /// target country. Returns `None` with a reason when it does not parse.
    pub fn parse_flag(flag: &str, countries: &[String]) -> Result<DraftProduct, String> {
        let Some((name, status)) = flag.split_once('=') else {
            return Err(format!("`{flag}`: expected NAME=pom|otc[,reimbursed]"));
        };
        let name = name.trim();
        if name.is_empty() {
            return Err(format!("`{flag}`: the product name is empty"));
        }
        let mut class = None;
        let mut reimbursed = false;
        for part in status.split(',').map(|part| part.trim().to_ascii_lowercase()) {
            match part.as_str() {
                "pom" | "rx" => class = Some(ProductClass::Pom),
                "otc" => class = Some(ProductClass::Otc),
                "reimbursed" | "rembourse" | "remboursé" => reimbursed = true,
                "not-reimbursed" | "" => {}
                other => {
                    return Err(format!(
                        "`{flag}`: unknown status `{other}` (use pom or otc, optionally ,reimbursed)"
                    ));
                }
            }
        }
        let Some(class) = class else {
            return Err(format!("`{flag}`: give pom or otc"));
        };
        let status = countries
            .iter()
            .map(|country| (canonical_country(country), LegalStatus { class, reimbursed }))
            .collect();
        Ok(DraftProduct { name: name.to_owned(), status, ..DraftProduct::default() })
    }

    /// The product of a workspace configuration.
    pub fn from_config(product: &Product) -> DraftProduct {
        DraftProduct {
            name: product.name.clone(),
            inns: product.inns.clone(),
            aliases: product.aliases.clone(),
            status: product
                .status
                .iter()
                .map(|(country, status)| (canonical_country(country), status.clone()))
                .collect(),
            launched: product.launched.clone(),
        }
    }

    /// Its status in a country, `GB` and `UK` alike.
    pub fn status_in(&self, country: &str) -> Option<&LegalStatus> {
        let country = canonical_country(country);
        self.status.iter().find(|(key, _)| canonical_country(key) == country).map(|(_, s)| s)
    }

    /// The names that point at it in a text: brand, INNs, aliases.
    fn names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.name.as_str())
            .chain(self.inns.iter().map(String::as_str))
            .chain(self.aliases.iter().map(String::as_str))
            .filter(|name| name.trim().chars().count() >= 2)
    }
}

/// A draft post and its declared metadata.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Draft {
    /// The text as it would be published.
    pub text: String,
    /// Target countries, ISO 3166 alpha-2 (`FR`, `GB` or `UK`, `US`, `DE`…).
    #[serde(default)]
    pub countries: Vec<String>,
    /// The audience, when declared.
    #[serde(default)]
    pub audience: Option<Audience>,
    /// Declared products (with a configuration, products it names in the text are added).
    #[serde(default)]
    pub products: Vec<DraftProduct>,
    /// ANSM visa reference (C-03).
    #[serde(default)]
    pub visa: Option<String>,
    /// Sponsored content (C-27, CMP-0d).
    #[serde(default)]
    pub sponsored: bool,
    /// An influencer script or employee-advocacy template (CMP-0e).
    #[serde(default)]
    pub influencer: bool,
    /// The account it will be published from (CMP-0c).
    #[serde(default)]
    pub account: Option<String>,
    /// References attached to its claims (C-12).
    #[serde(default)]
    pub references: Vec<String>,
    /// Declared media (the reception forecast's `has_visual`).
    #[serde(default)]
    pub media: Option<Media>,
}

/// What the check knows beyond the draft: the workspace, and today.
#[derive(Debug, Clone, Default)]
pub struct CheckContext {
    /// The workspace's products (a product named in the text gets its status from here).
    pub products: Vec<Product>,
    /// Pharmacovigilance on the workspace's accounts (`None`: no workspace).
    pub pharmacovigilance: Option<PvContext>,
    /// Today as days since 1970-01-01 (C-14); `None` skips the age check.
    pub today: Option<i64>,
}

/// PV monitoring as the workspace declares it (CMP-0c).
#[derive(Debug, Clone, Default)]
pub struct PvContext {
    /// `[pharmacovigilance] enabled`.
    pub enabled: bool,
    /// Owned account handles (normalised: lower case, no `@`), from `[accounts]` and the
    /// handles of `[[pharmacovigilance.channels]]`.
    pub owned_accounts: BTreeSet<String>,
}

impl CheckContext {
    /// The context of a workspace configuration.
    pub fn from_config(config: &waterline_model::Config, today: Option<i64>) -> CheckContext {
        let mut owned_accounts: BTreeSet<String> =
            config.accounts.values().flatten().map(|handle| normalise_handle(handle)).collect();
        owned_accounts.extend(
            config
                .pharmacovigilance
                .channels
                .iter()
                .filter_map(|channel| channel.handle.as_deref())
                .map(normalise_handle),
        );
        CheckContext {
            products: config.products.clone(),
            pharmacovigilance: Some(PvContext {
                enabled: config.pharmacovigilance.enabled,
                owned_accounts,
            }),
            today,
        }
    }
}

/// The outcome of a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    /// No finding, nothing to review: ready to publish.
    Pass,
    /// Needs a reviewer's sign-off.
    Warn,
    /// Required metadata is missing (CMP-0a).
    CannotAssess,
    /// Cannot be published.
    Block,
}

impl Status {
    /// `PASS`, `WARN`, `CANNOT_ASSESS` or `BLOCK`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Warn => "WARN",
            Status::CannotAssess => "CANNOT_ASSESS",
            Status::Block => "BLOCK",
        }
    }
}

/// How bad a finding is (PHARMA.md section (c)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Severity {
    /// Advice.
    Info,
    /// Needs reviewer sign-off.
    Warn,
    /// Cannot publish.
    Block,
}

impl Severity {
    /// `INFO`, `WARN` or `BLOCK`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "INFO",
            Severity::Warn => "WARN",
            Severity::Block => "BLOCK",
        }
    }
}

pub use crate::text::Span;

/// One finding (CMP-0b: rule, jurisdiction, span, fix and severity).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Rule ID (`C-08`, `CMP-0c`).
    pub rule: String,
    /// Severity.
    pub severity: Severity,
    /// `UK`, `FR`, `US`, `EU`, `all`, or several joined with `/`.
    pub jurisdiction: String,
    /// The offending text (the whole draft when the finding is about its metadata).
    pub span: Span,
    /// What is wrong.
    pub message: String,
    /// A suggested fix.
    pub fix: String,
}

/// A rule the engine cannot decide alone: a person (or a label knowledge base) must.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NeedsReview {
    /// Rule ID.
    pub rule: String,
    /// Why, and what to look at.
    pub reason: String,
}

/// A rule that could not run for missing metadata (CMP-0a).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CannotAssess {
    /// Rule ID.
    pub rule: String,
    /// What is missing.
    pub missing: String,
    /// Required metadata (countries, audience, product status): the status is
    /// `CANNOT_ASSESS`. Otherwise the draft cannot pass but may warn.
    pub required: bool,
}

/// The report of a check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DraftReport {
    /// BLOCK, else CANNOT_ASSESS, else WARN, else PASS.
    pub status: Status,
    /// Findings, worst first.
    pub findings: Vec<Finding>,
    /// Rules that need a person or a label knowledge base.
    pub needs_review: Vec<NeedsReview>,
    /// Rules that could not run for missing metadata.
    pub cannot_assess: Vec<CannotAssess>,
    /// URLs, @tags and #hashtags for human review (C-23); nothing is fetched.
    pub links: Vec<String>,
    /// The products the check used (declared, or named in the text and found in the
    /// workspace configuration).
    pub products: Vec<String>,
}

impl DraftReport {
    /// Rule IDs of the findings, deduplicated, in order.
    pub fn rule_ids(&self) -> Vec<String> {
        let mut seen = BTreeSet::new();
        self.findings
            .iter()
            .map(|finding| finding.rule.clone())
            .filter(|rule| seen.insert(rule.clone()))
            .collect()
    }
}

/// The most hits of one lexicon a rule looks at.
const MAX_HITS: usize = 64;

/// A jurisdiction of the rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Jurisdiction {
    Eu,
    Uk,
    Fr,
    Us,
}

impl Jurisdiction {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Jurisdiction::Eu => "EU",
            Jurisdiction::Uk => "UK",
            Jurisdiction::Fr => "FR",
            Jurisdiction::Us => "US",
        }
    }
}

/// EU and EEA members (Directive 2001/83/EC applies to the EEA).
const EU_COUNTRIES: &[&str] = &[
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "EL", "HU", "IE", "IT",
    "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "NO", "IS", "LI",
];

/// Upper case, `UK` → `GB`.
pub fn canonical_country(country: &str) -> String {
    let upper = country.trim().to_ascii_uppercase();
    if upper == "UK" { "GB".to_owned() } else { upper }
}

/// The jurisdictions whose rules apply to a country.
pub(crate) fn jurisdictions_of(country: &str) -> Vec<Jurisdiction> {
    let country = canonical_country(country);
    let mut out = Vec::new();
    if country == "GB" {
        out.push(Jurisdiction::Uk);
    }
    if country == "US" {
        out.push(Jurisdiction::Us);
    }
    if country == "FR" {
        out.push(Jurisdiction::Fr);
    }
    // `EU` is not a country, but a plan may target the Union as a whole.
    if EU_COUNTRIES.contains(&country.as_str()) || country == "EU" {
        out.push(Jurisdiction::Eu);
    }
    out
}

/// The draft's text folded for matching (lower case, one kind of apostrophe, runs of
/// spaces as one space), with the way back to the original byte offsets.
pub(crate) struct Folded<'a> {
    pub(crate) original: &'a str,
    pub(crate) text: String,
    /// For each byte of `text`, the original character's first and one-past-last byte.
    origin: Vec<(usize, usize)>,
}

impl<'a> Folded<'a> {
    pub(crate) fn new(original: &'a str) -> Folded<'a> {
        let mut text = String::with_capacity(original.len());
        let mut origin = Vec::with_capacity(original.len());
        let mut last_space = false;
        for (index, ch) in original.char_indices() {
            let end = index + ch.len_utf8();
            let mapped: Vec<char> = match ch {
                '\u{2019}' | '\u{2018}' | '\u{02bc}' | '`' => vec!['\''],
                '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2013}' => vec!['-'],
                '\n' | '\r' => vec!['\n'],
                ch if ch.is_whitespace() => vec![' '],
                ch => ch.to_lowercase().collect(),
            };
            let is_space = mapped == [' '];
            if is_space && last_space {
                continue;
            }
            last_space = is_space;
            for mapped_char in mapped {
                let mut buffer = [0u8; 4];
                let encoded = mapped_char.encode_utf8(&mut buffer);
                text.push_str(encoded);
                origin.extend(std::iter::repeat_n((index, end), encoded.len()));
            }
        }
        Folded { original, text, origin }
    }

    /// The original span of folded bytes `start..end`.
    pub(crate) fn span(&self, start: usize, end: usize) -> Span {
        if start >= end || start >= self.origin.len() {
            return Span { start: 0, end: 0, text: String::new() };
        }
        let original_start = self.origin[start].0;
        let original_end = self.origin[end.min(self.origin.len()) - 1].1;
        Span {
            start: original_start,
            end: original_end,
            text: self.original.get(original_start..original_end).unwrap_or_default().to_owned(),
        }
    }

    /// The whole text (trimmed), for findings about metadata.
    pub(crate) fn whole(&self) -> Span {
        let start = self.original.len() - self.original.trim_start().len();
        let end = self.original.trim_end().len().max(start);
        Span { start, end, text: self.original.get(start..end).unwrap_or_default().to_owned() }
    }

    /// Every occurrence of `phrase` (already folded) on word boundaries, as folded byte
    /// ranges.
    pub(crate) fn find(&self, phrase: &str) -> Vec<(usize, usize)> {
        if phrase.is_empty() {
            return Vec::new();
        }
        let first_is_word = phrase.chars().next().is_some_and(is_word_char);
        let last_is_word = phrase.chars().last().is_some_and(is_word_char);
        self.text
            .match_indices(phrase)
            .map(|(start, matched)| (start, start + matched.len()))
            .filter(|&(start, end)| {
                let before_ok = !first_is_word
                    || self.text[..start].chars().next_back().is_none_or(|ch| !is_word_char(ch));
                let after_ok = !last_is_word
                    || self.text[end..].chars().next().is_none_or(|ch| !is_word_char(ch));
                before_ok && after_ok
            })
            .collect()
    }

    /// Every occurrence of any of `phrases`, sorted, overlaps dropped (longest first).
    pub(crate) fn find_any(&self, phrases: &[&str]) -> Vec<(usize, usize)> {
        let mut hits: Vec<(usize, usize)> =
            phrases.iter().flat_map(|phrase| self.find(&Folded::new(phrase).text)).collect();
        hits.sort_by_key(|&(start, end)| (start, std::cmp::Reverse(end)));
        let mut kept: Vec<(usize, usize)> = Vec::new();
        for hit in hits {
            if kept.last().is_some_and(|last| hit.0 < last.1) {
                continue;
            }
            kept.push(hit);
        }
        // A rule looks at the first hits only: a pathological text stays linear.
        kept.truncate(MAX_HITS);
        kept
    }

    /// True when any of `phrases` occurs.
    pub(crate) fn contains_any(&self, phrases: &[&str]) -> bool {
        !self.find_any(phrases).is_empty()
    }

    /// The sentence (folded byte range) around a position: up to `.`, `!`, `?`, `;` or a
    /// line break.
    pub(crate) fn sentence(&self, position: usize) -> (usize, usize) {
        let is_end = |ch: char| matches!(ch, '.' | '!' | '?' | ';' | '\n');
        let mut position = position.min(self.text.len());
        while position > 0 && !self.text.is_char_boundary(position) {
            position -= 1;
        }
        let start = self.text[..position]
            .char_indices()
            .rev()
            .find(|&(index, ch)| is_end(ch) && !self.is_decimal_point(index))
            .map_or(0, |(index, ch)| index + ch.len_utf8());
        let end = self.text[position..]
            .char_indices()
            .find(|&(index, ch)| is_end(ch) && !self.is_decimal_point(position + index))
            .map_or(self.text.len(), |(index, _)| position + index);
        (start, end.max(start))
    }

    /// A `.` between two digits (`2.5 mg`) ends no sentence; neither does the dot of a URL.
    fn is_decimal_point(&self, index: usize) -> bool {
        let before = self.text[..index].chars().next_back();
        let after = self.text.get(index + 1..).and_then(|rest| rest.chars().next());
        before.is_some_and(|ch| ch.is_alphanumeric())
            && after.is_some_and(|ch| ch.is_alphanumeric())
    }

    /// The folded text of a range.
    pub(crate) fn slice(&self, range: (usize, usize)) -> &str {
        self.text.get(range.0..range.1).unwrap_or_default()
    }
}

pub(crate) fn is_word_char(ch: char) -> bool {
    ch.is_alphanumeric() || ch == '_'
}

/// A product the check uses, with where the text names it.
pub(crate) struct Resolved<'a> {
    pub(crate) product: &'a DraftProduct,
    /// Folded byte ranges of its mentions (names, INNs, aliases, hashtags containing them).
    pub(crate) mentions: Vec<(usize, usize)>,
    /// Mentions of its INNs only (C-05 established name).
    pub(crate) inn_mentions: Vec<(usize, usize)>,
}

/// Where a product is named in the text (including branded hashtags such as
/// `#BrandixWorks`).
fn mentions(folded: &Folded<'_>, product: &DraftProduct) -> Vec<(usize, usize)> {
    let mut hits: Vec<(usize, usize)> =
        product.names().flat_map(|name| find_name(folded, name)).collect();
    hits.sort_unstable();
    hits.dedup();
    hits
}

fn find_name(folded: &Folded<'_>, name: &str) -> Vec<(usize, usize)> {
    let name = Folded::new(name.trim()).text;
    let mut hits = folded.find(&name);
    // A hashtag that contains the name (`#BrandixWorks`) names the product too.
    for (start, _) in folded.text.match_indices('#') {
        let body_end = folded.text[start + 1..]
            .char_indices()
            .find(|&(_, ch)| !is_word_char(ch))
            .map_or(folded.text.len(), |(index, _)| start + 1 + index);
        if folded.text[start + 1..body_end].contains(name.as_str()) {
            hits.push((start, body_end));
        }
    }
    hits
}

/// Checks a draft.
pub fn check(draft: &Draft, context: &CheckContext) -> DraftReport {
    let folded = Folded::new(&draft.text);
    // Declared products first; a configured product named in the text is added, and a
    // declared one that is configured gets the configuration's INNs, aliases, launch date
    // and the status of the countries the flags left out.
    let mut products: Vec<DraftProduct> = Vec::new();
    for declared in &draft.products {
        let mut product = declared.clone();
        if let Some(configured) =
            context.products.iter().find(|p| p.name.eq_ignore_ascii_case(declared.name.trim()))
        {
            let configured = DraftProduct::from_config(configured);
            product.name = configured.name.clone();
            product.inns.extend(configured.inns.iter().cloned());
            product.aliases.extend(configured.aliases.iter().cloned());
            for (country, status) in &configured.status {
                if product.status_in(country).is_none() {
                    product.status.insert(country.clone(), status.clone());
                }
            }
            product.launched = product.launched.or(configured.launched);
        }
        if !products.iter().any(|p| p.name.eq_ignore_ascii_case(&product.name)) {
            products.push(product);
        }
    }
    for configured in &context.products {
        let configured = DraftProduct::from_config(configured);
        let already = products.iter().any(|p| p.name.eq_ignore_ascii_case(&configured.name));
        if !already && !mentions(&folded, &configured).is_empty() {
            products.push(configured);
        }
    }
    let resolved: Vec<Resolved<'_>> = products
        .iter()
        .map(|product| Resolved {
            product,
            mentions: mentions(&folded, product),
            inn_mentions: product.inns.iter().flat_map(|inn| find_name(&folded, inn)).collect(),
        })
        .collect();

    let mut out = rules::Outcome::default();
    rules::run_all(draft, context, &folded, &resolved, &mut out);
    let rules::Outcome { mut findings, needs_review, cannot_assess } = out;
    findings.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.span.start.cmp(&b.span.start)));
    let status = if findings.iter().any(|finding| finding.severity == Severity::Block) {
        Status::Block
    } else if cannot_assess.iter().any(|item| item.required) {
        Status::CannotAssess
    } else if findings.iter().any(|finding| finding.severity == Severity::Warn)
        || !needs_review.is_empty()
        || !cannot_assess.is_empty()
    {
        Status::Warn
    } else {
        Status::Pass
    };
    DraftReport {
        status,
        findings,
        needs_review,
        cannot_assess,
        links: judged::links(&draft.text),
        products: products.iter().map(|product| product.name.clone()).collect(),
    }
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date, or `None`.
pub fn days_from_date(date: &str) -> Option<i64> {
    let mut parts = date.trim().get(..10)?.split('-');
    let year: i64 = parts.next()?.parse().ok()?;
    let month: i64 = parts.next()?.parse().ok()?;
    let day: i64 = parts.next()?.parse().ok()?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    // Howard Hinnant's days_from_civil.
    let year = if month <= 2 { year - 1 } else { year };
    let era = if year >= 0 { year } else { year - 399 } / 400;
    let year_of_era = year - era * 400;
    let shifted_month = (month + 9) % 12;
    let day_of_year = (153 * shifted_month + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    Some(era * 146_097 + day_of_era - 719_468)
}
