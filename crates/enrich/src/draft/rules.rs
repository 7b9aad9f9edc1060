//! The rules of the draft check, one function per rule or rule family (PHARMA.md section
//! (c) and A5). Each pushes findings, "needs review" items or "cannot assess" items into an
//! [`Outcome`].

use std::collections::BTreeSet;

use waterline_model::config::{ProductClass, normalise_handle};

use super::lexicon as lx;
use super::{
    Audience, CannotAssess, CheckContext, Draft, Finding, Folded, Jurisdiction, NeedsReview,
    Resolved, Severity, Span, canonical_country, days_from_date, is_word_char, jurisdictions_of,
};

/// At most this many findings per rule (a long text repeating a word stays readable).
const MAX_PER_RULE: usize = 5;

/// What the rules found.
#[derive(Default)]
pub(crate) struct Outcome {
    pub(crate) findings: Vec<Finding>,
    pub(crate) needs_review: Vec<NeedsReview>,
    pub(crate) cannot_assess: Vec<CannotAssess>,
}

impl Outcome {
    fn finding(
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

    fn review(&mut self, rule: &str, reason: String) {
        if !self.needs_review.iter().any(|item| item.rule == rule && item.reason == reason) {
            self.needs_review.push(NeedsReview { rule: rule.to_owned(), reason });
        }
    }

    fn cannot(&mut self, rule: &str, missing: String, required: bool) {
        if !self.cannot_assess.iter().any(|item| item.rule == rule && item.missing == missing) {
            self.cannot_assess.push(CannotAssess { rule: rule.to_owned(), missing, required });
        }
    }

    /// True when the rule has its maximum of findings: its loop can stop.
    fn full(&self, rule: &str) -> bool {
        self.findings.iter().filter(|finding| finding.rule == rule).count() >= MAX_PER_RULE
    }

    fn has_rule(&self, rule: &str) -> bool {
        self.findings.iter().any(|finding| finding.rule == rule)
    }
}

/// The target countries and their jurisdictions.
struct Targets {
    countries: Vec<String>,
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

    fn has(&self, jurisdiction: Jurisdiction) -> bool {
        self.jurisdictions.contains(&jurisdiction)
    }

    /// The rule's jurisdictions that are targeted, or all of the rule's when none is.
    fn label(&self, rule: &[Jurisdiction]) -> String {
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
struct Input<'a> {
    draft: &'a Draft,
    context: &'a CheckContext,
    folded: &'a Folded<'a>,
    products: &'a [Resolved<'a>],
    targets: Targets,
}

impl Input<'_> {
    fn public(&self) -> bool {
        self.draft.audience == Some(Audience::Public)
    }

    fn hcp(&self) -> bool {
        self.draft.audience == Some(Audience::Hcp)
    }

    /// FR public: where several rules block instead of warning.
    fn fr_public(&self) -> bool {
        self.public() && self.targets.has(Jurisdiction::Fr)
    }

    /// Where a product is named, or the whole text.
    fn product_span(&self, product: &Resolved<'_>) -> Span {
        product
            .mentions
            .first()
            .map_or_else(|| self.folded.whole(), |&(start, end)| self.folded.span(start, end))
    }

    fn mentioned(&self) -> bool {
        self.products.iter().any(|product| !product.mentions.is_empty())
    }

    fn any_product(&self) -> bool {
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
    cmp_0a_metadata(&input, out);
    c_01_pom_to_public(&input, out);
    c_02_to_c_04_france_public(&input, out);
    c_05_us_benefit_without_risk(&input, out);
    c_06_hcp_benefit_without_safety(&input, out);
    c_12_references(&input, out);
    cmp_0c_pv_monitoring(&input, out);
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
    judged(&input, out);
}

/// CMP-0a: countries, audience and the status of every product in every target country.
fn cmp_0a_metadata(input: &Input<'_>, out: &mut Outcome) {
    if input.targets.countries.is_empty() {
        out.cannot(
            "CMP-0a",
            "target countries (--countries): C-01 to C-06, C-12 to C-14, C-26 depend on them"
                .to_owned(),
            true,
        );
    }
    for country in &input.targets.countries {
        let valid = country.len() == 2 && country.chars().all(|ch| ch.is_ascii_alphabetic());
        if !valid {
            out.cannot(
                "CMP-0a",
                format!("a valid ISO 3166 country code instead of `{country}`"),
                true,
            );
        } else if jurisdictions_of(country).is_empty() {
            out.review(
                "CMP-0a",
                format!("no country rules for {country}: only the rules for all jurisdictions ran"),
            );
        }
    }
    if input.draft.audience.is_none() {
        out.cannot(
            "CMP-0a",
            "audience (--audience public|hcp): C-01 to C-06, C-12, C-15 to C-20 depend on it"
                .to_owned(),
            true,
        );
    }
    for product in input.products {
        for country in &input.targets.countries {
            if product.product.status_in(country).is_none() {
                out.cannot(
                    "CMP-0a",
                    format!(
                        "legal status of {} in {country} (--product {}=pom|otc[,reimbursed] or the workspace's [[products]] status)",
                        product.product.name, product.product.name
                    ),
                    true,
                );
            }
        }
    }
}

/// C-01: a POM to the public in the EU, the UK or France.
fn c_01_pom_to_public(input: &Input<'_>, out: &mut Outcome) {
    if !input.public() {
        return;
    }
    for product in input.products {
        let countries: Vec<&str> = input
            .targets
            .countries
            .iter()
            .filter(|country| {
                let jurisdictions = jurisdictions_of(country);
                let regulated = jurisdictions
                    .iter()
                    .any(|j| matches!(j, Jurisdiction::Eu | Jurisdiction::Uk | Jurisdiction::Fr));
                regulated
                    && product
                        .product
                        .status_in(country)
                        .is_some_and(|status| status.class == ProductClass::Pom)
            })
            .map(String::as_str)
            .collect();
        if countries.is_empty() {
            continue;
        }
        let jurisdiction =
            input.targets.label(&[Jurisdiction::Eu, Jurisdiction::Uk, Jurisdiction::Fr]);
        out.finding(
            "C-01",
            Severity::Block,
            jurisdiction,
            input.product_span(product),
            format!(
                "{} is prescription-only in {}: it cannot be promoted to the public (brand, INN, image, branded hashtag or product link)",
                product.product.name,
                countries.join(", ")
            ),
            "make it a disease-awareness post with no product reference (\"Talk to your doctor about your options\"), or target verified HCPs only",
        );
    }
}

/// C-02 (reimbursed or POM), C-03 (visa), C-04 (mandatory mentions): France, public.
fn c_02_to_c_04_france_public(input: &Input<'_>, out: &mut Outcome) {
    if !input.fr_public() {
        return;
    }
    let folded = input.folded;
    for product in input.products {
        let Some(status) = product.product.status_in("FR") else { continue };
        let name = &product.product.name;
        if status.reimbursed || status.class == ProductClass::Pom {
            let why = match (status.class, status.reimbursed) {
                (ProductClass::Pom, true) => "prescription-only and reimbursed",
                (ProductClass::Pom, false) => "prescription-only",
                _ => "reimbursed",
            };
            out.finding(
                "C-02",
                Severity::Block,
                "FR".to_owned(),
                input.product_span(product),
                format!(
                    "{name} is {why} in France: public advertising is allowed only for non-prescription, non-reimbursed medicines (CSP L.5122-6)"
                ),
                "do not advertise it to the French public; a disease-awareness post with no product reference may be possible",
            );
            continue;
        }
        let visa = input.draft.visa.as_deref().map(str::trim).unwrap_or_default();
        if visa.is_empty() {
            out.finding(
                "C-03",
                Severity::Block,
                "FR".to_owned(),
                input.product_span(product),
                format!("public advertising for {name} in France needs an ANSM visa (visa GP) and none is declared"),
                "add the visa reference from the approval record (--visa)",
            );
        }
        let mut missing = Vec::new();
        if !folded.contains_any(lx::FR_LEAFLET) {
            missing.push("« Lire attentivement la notice. »");
        }
        if !folded.contains_any(lx::FR_PHARMACIST) {
            missing.push("« Demandez conseil à votre pharmacien. »");
        }
        if !folded.contains_any(lx::FR_PERSIST) {
            missing.push("« Si les symptômes persistent, consultez un médecin. »");
        }
        if !missing.is_empty() {
            out.finding(
                "C-04",
                Severity::Block,
                "FR".to_owned(),
                folded.whole(),
                format!("mandatory mentions missing (CSP R.5122-3): {}", missing.join(" ")),
                "add « Lire attentivement la notice. Demandez conseil à votre pharmacien. Si les symptômes persistent, consultez un médecin. »",
            );
        }
        if !folded.contains_any(lx::FR_MEDICINE) {
            out.finding(
                "C-04",
                Severity::Block,
                "FR".to_owned(),
                folded.whole(),
                format!("{name} is not identified as a medicine (CSP R.5122-3)"),
                "say that it is a medicine (« Ceci est un médicament »)",
            );
        }
        match product.product.inns.as_slice() {
            [] => out.cannot(
                "C-04",
                format!("the INN of {name} (name + INN must both appear; add `inns` to its [[products]] entry)"),
                false,
            ),
            [inn] if product.inn_mentions.is_empty() => out.finding(
                "C-04",
                Severity::Block,
                "FR".to_owned(),
                input.product_span(product),
                format!("{name} is named without its INN ({inn})"),
                "give the name and the INN (« Brandix (exemplimab) »)",
            ),
            _ => {}
        }
        out.review(
            "C-04",
            format!("information for the proper use of {name} and an obvious advertising nature need a reviewer"),
        );
    }
}

/// The folded ranges of benefit or efficacy claims.
fn benefit_claims(folded: &Folded<'_>) -> Vec<(usize, usize)> {
    let mut hits = folded.find_any(lx::BENEFIT);
    hits.extend(quantities(folded));
    hits.sort_unstable();
    hits
}

/// C-05: US, a benefit claim needs brand and established name, the most serious risks and
/// a link to the risk information in the same post.
fn c_05_us_benefit_without_risk(input: &Input<'_>, out: &mut Outcome) {
    if !input.targets.has(Jurisdiction::Us) {
        return;
    }
    let folded = input.folded;
    let claims = benefit_claims(folded);
    for product in input.products {
        let status = product.product.status_in("US");
        if status.is_some_and(|status| status.class == ProductClass::Otc) {
            continue;
        }
        if product.mentions.is_empty() {
            continue;
        }
        out.review(
            "C-05",
            format!(
                "whether the risks given for {} are the most serious ones, with prominence comparable to the benefit, needs the USPI",
                product.product.name
            ),
        );
        let Some(&claim) = claims.first() else { continue };
        let claim_span = folded.span(claim.0, claim.1);
        let mut missing = Vec::new();
        if !product.product.inns.is_empty() && product.inn_mentions.is_empty() {
            missing.push(format!("the established name ({})", product.product.inns.join(", ")));
        }
        if !folded.contains_any(lx::RISK_INFO) {
            missing.push("the most serious risks".to_owned());
        }
        if !has_url(input.draft) {
            missing.push("a link to a page devoted to risk information".to_owned());
        }
        if missing.is_empty() {
            continue;
        }
        out.finding(
            "C-05",
            Severity::Block,
            "US".to_owned(),
            claim_span,
            format!(
                "benefit claim for {} without {} in the same post",
                product.product.name,
                missing.join(", ")
            ),
            "\"Brandix (exemplimab) for moderate-to-severe plaque psoriasis – may cause serious infections www.brandix.example/risk\"; if it cannot fit, do not use this platform",
        );
        if product.product.inns.is_empty() {
            out.cannot(
                "C-05",
                format!("the established name (INN) of {}", product.product.name),
                false,
            );
        }
    }
}

fn has_url(draft: &Draft) -> bool {
    links(&draft.text).iter().any(|link| !link.starts_with('@') && !link.starts_with('#'))
}

/// C-06: HCP in the EU, UK or France, an efficacy claim without safety information or a
/// prescribing-information link.
fn c_06_hcp_benefit_without_safety(input: &Input<'_>, out: &mut Outcome) {
    let rule = [Jurisdiction::Eu, Jurisdiction::Uk, Jurisdiction::Fr];
    if !input.hcp() || !rule.iter().any(|j| input.targets.has(*j)) || !input.mentioned() {
        return;
    }
    let folded = input.folded;
    let Some(&claim) = benefit_claims(folded).first() else { return };
    let mut missing = Vec::new();
    if !folded.contains_any(lx::RISK_INFO) {
        missing.push("safety information");
    }
    if !folded.contains_any(lx::PRESCRIBING_INFO) && !has_url(input.draft) {
        missing.push("a prescribing-information link");
    }
    if missing.is_empty() {
        return;
    }
    out.finding(
        "C-06",
        Severity::Warn,
        input.targets.label(&rule),
        folded.span(claim.0, claim.1),
        format!("efficacy claim without {}", missing.join(" or ")),
        "add the key safety information and a PI link; give the comparator and the absolute numbers",
    );
}

/// Numbers with a unit (`60%`, `12 weeks`, `2x`): quantitative claims.
fn quantities(folded: &Folded<'_>) -> Vec<(usize, usize)> {
    let text = &folded.text;
    let bytes = text.as_bytes();
    let mut hits = Vec::new();
    let mut index = 0;
    while index < bytes.len() {
        if !bytes[index].is_ascii_digit() {
            index += 1;
            continue;
        }
        let start = index;
        let glued = text[..start]
            .chars()
            .next_back()
            .is_some_and(|ch| is_word_char(ch) || ch == '#' || ch == '/' || ch == '°' || ch == '@');
        while index < bytes.len()
            && (bytes[index].is_ascii_digit()
                || ((bytes[index] == b'.' || bytes[index] == b',')
                    && bytes.get(index + 1).is_some_and(u8::is_ascii_digit)))
        {
            index += 1;
        }
        if glued {
            continue;
        }
        let rest = &text[index..];
        let rest_trimmed = rest.trim_start_matches(' ');
        let gap = rest.len() - rest_trimmed.len();
        for unit in lx::QUANTITY_UNITS {
            if !rest_trimmed.starts_with(unit) {
                continue;
            }
            let after = rest_trimmed[unit.len()..].chars().next();
            let unit_is_word = unit.chars().all(is_word_char);
            if unit_is_word && after.is_some_and(is_word_char) {
                continue;
            }
            hits.push((start, index + gap + unit.len()));
            break;
        }
    }
    hits
}

/// C-12: HCP promotion in the UK, EU or France, a quantitative or clinical claim without a
/// reference.
fn c_12_references(input: &Input<'_>, out: &mut Outcome) {
    let rule = [Jurisdiction::Uk, Jurisdiction::Eu, Jurisdiction::Fr];
    if !input.hcp() || !rule.iter().any(|j| input.targets.has(*j)) {
        return;
    }
    let has_reference = input.draft.references.iter().any(|reference| !reference.trim().is_empty());
    if has_reference {
        return;
    }
    let folded = input.folded;
    let mut claims = quantities(folded);
    claims.extend(folded.find_any(lx::CLINICAL_CLAIM));
    claims.sort_unstable();
    for (start, end) in claims {
        if out.full("C-12") {
            break;
        }
        out.finding(
            "C-12",
            Severity::Block,
            input.targets.label(&rule),
            folded.span(start, end),
            "quantitative or clinical claim without an attached reference".to_owned(),
            "attach the reference for each claim (--reference \"Smith et al. 2024; SmPC 5.1\")",
        );
    }
}

/// CMP-0c: PV monitoring must be on for the target account.
fn cmp_0c_pv_monitoring(input: &Input<'_>, out: &mut Outcome) {
    let account = input.draft.account.as_deref().map(str::trim).filter(|a| !a.is_empty());
    let Some(account) = account else {
        out.cannot(
            "CMP-0c",
            "the target account (--account): PV monitoring of its comments cannot be verified"
                .to_owned(),
            false,
        );
        return;
    };
    let Some(pv) = &input.context.pharmacovigilance else {
        out.cannot(
            "CMP-0c",
            format!(
                "a workspace: whether PV monitoring covers @{} cannot be verified",
                normalise_handle(account)
            ),
            false,
        );
        return;
    };
    let handle = normalise_handle(account);
    let message = if !pv.owned_accounts.contains(&handle) {
        format!(
            "@{handle} is not an owned account of this workspace: its comments are not screened for adverse events"
        )
    } else if !pv.enabled {
        format!(
            "pharmacovigilance screening is off in this workspace, so comments on @{handle} are not screened"
        )
    } else {
        return;
    };
    out.finding(
        "CMP-0c",
        Severity::Block,
        "all".to_owned(),
        input.folded.whole(),
        message,
        "register the account under [accounts] (or [[pharmacovigilance.channels]]) with [pharmacovigilance] enabled = true, or publish with comments and replies disabled",
    );
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
        out.finding(
            "C-08",
            Severity::Block,
            "all".to_owned(),
            folded.span(start, end),
            "\"safe\" used about a medicine without qualification (ABPI Cl. 6.4)".to_owned(),
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
    for (start, end) in folded.find_any(lx::SUPERLATIVES) {
        if out.full("C-10") {
            break;
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
        Some(&(start, end)) if start - text_start > lx::DISCLOSURE_START_BYTES => out.finding(
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

/// Rules that need a label knowledge base or a person: needs review, plus a finding where
/// the text gives a strong cue.
fn judged(input: &Input<'_>, out: &mut Outcome) {
    let folded = input.folded;
    let not_hcp = !input.hcp();
    let fr_public = input.fr_public();
    let countries = input.targets.countries.join(", ");

    if input.any_product() {
        let names: Vec<&str> = input.products.iter().map(|p| p.product.name.as_str()).collect();
        out.review(
            "C-07",
            format!(
                "off-label: check every indication, population, dose, route and duration of {} against the SmPC/USPI{}",
                names.join(", "),
                if countries.is_empty() { String::new() } else { format!(" of {countries}") }
            ),
        );
    }

    // C-11: comparisons and disparagement.
    for (start, end) in folded.find_any(lx::DISPARAGING) {
        if out.full("C-11") {
            break;
        }
        let sentence = folded.sentence(start);
        out.finding(
            "C-11",
            Severity::Block,
            "all".to_owned(),
            folded.span(sentence.0.max(start.saturating_sub(40)).min(start), end),
            "disparages a competitor or HCPs".to_owned(),
            "remove the disparaging wording",
        );
    }
    for (start, end) in folded.find_any(lx::COMPARATIVE) {
        if out.full("C-11") {
            break;
        }
        out.finding(
            "C-11",
            if fr_public { Severity::Block } else { Severity::Warn },
            if fr_public { "FR".to_owned() } else { "all".to_owned() },
            folded.span(start, end),
            if fr_public {
                "claims superiority or equality with another treatment to the French public"
                    .to_owned()
            } else {
                "compares with another product: needs references and fairness".to_owned()
            },
            "remove the comparison, or give referenced, fair, like-for-like data (HCP only)",
        );
    }
    if input.any_product() && !out.has_rule("C-11") {
        out.review("C-11", "comparisons with other products the lexicon does not catch".to_owned());
    }

    // C-15, C-16, C-18 to C-20: public advertising (CSP R.5122-4).
    if not_hcp {
        let mut testimonials = folded.find_any(lx::TESTIMONIAL);
        for hit in folded.find_any(lx::TESTIMONIAL_WEAK) {
            if testimonials.len() >= MAX_PER_RULE {
                break;
            }
            let sentence = folded.sentence(hit.0);
            let names_product = input.products.iter().any(|product| {
                product.mentions.iter().any(|&(m, _)| m >= sentence.0 && m < sentence.1)
            });
            if names_product {
                testimonials.push(hit);
            }
        }
        for (start, end) in testimonials {
            if out.full("C-15") {
                break;
            }
            out.finding(
                "C-15",
                if fr_public { Severity::Block } else { Severity::Warn },
                if fr_public { "FR".to_owned() } else { "all".to_owned() },
                folded.span(start, end),
                "testimonial, cure attestation or endorsement by HCPs or celebrities".to_owned(),
                "remove it (an actor playing an HCP must be disclosed)",
            );
        }
        for (start, end) in folded.find_any(lx::CHILDREN) {
            if out.full("C-16") {
                break;
            }
            out.finding(
                "C-16",
                Severity::Warn,
                "all".to_owned(),
                folded.span(start, end),
                "may be aimed at children: a person must judge (BLOCK if it is)".to_owned(),
                "address adults; no mascots or visuals for children",
            );
        }
        for (start, end) in folded.find_any(lx::SELF_DIAGNOSIS) {
            if out.full("C-18") {
                break;
            }
            out.finding(
                "C-18",
                Severity::Block,
                "all".to_owned(),
                folded.span(start, end),
                "invites self-diagnosis, implies a consultation is unnecessary, or offers a diagnosis by message".to_owned(),
                "remove it; refer the reader to a doctor or pharmacist",
            );
        }
        for (start, end) in folded.find_any(lx::NORMAL_HEALTH) {
            if out.full("C-19") {
                break;
            }
            out.finding(
                "C-19",
                Severity::Block,
                "all".to_owned(),
                folded.span(start, end),
                "suggests normal health improves with the product or suffers without it".to_owned(),
                "remove it",
            );
        }
        for (start, end) in folded.find_any(lx::FRIGHTENING) {
            if out.full("C-20") {
                break;
            }
            out.finding(
                "C-20",
                Severity::Warn,
                "all".to_owned(),
                folded.span(start, end),
                "frightening or misleading wording".to_owned(),
                "remove it",
            );
        }
        if input.any_product() {
            for (rule, what) in [
                ("C-15", "testimonials, cure attestations and endorsements (text and visuals)"),
                ("C-16", "content, visuals or mascots aimed at children"),
                ("C-18", "symptom lists inviting self-diagnosis; consultation implied unnecessary"),
                ("C-19", "normal health improved by use or harmed by non-use"),
                ("C-20", "frightening images; exaggerated mechanism of action"),
            ] {
                if !out.has_rule(rule) {
                    out.review(rule, format!("a person must check: {what}"));
                }
            }
        }
    }

    // C-23: every link, tag and hashtag is listed for review; nothing is fetched.
    let links = links(&input.draft.text);
    if !links.is_empty() {
        out.review(
            "C-23",
            format!(
                "resolve {} (expand shorteners); a product-promotional destination to the public is C-01",
                links.join(" ")
            ),
        );
    }

    // C-24: interactivity on product posts.
    if input.public() && input.mentioned() {
        out.review(
            "C-24",
            "product post: disable comments and sharing where required, otherwise keep PV moderation on (CMP-0c)".to_owned(),
        );
    }

    // C-25: corrections of third-party misinformation (US).
    let corrections: Vec<(usize, usize)> = folded
        .find_any(lx::CORRECTION)
        .into_iter()
        .filter(|&hit| folded.slice(hit) != "actually" || input.mentioned())
        .collect();
    for (start, end) in corrections {
        if out.full("C-25") {
            break;
        }
        out.finding(
            "C-25",
            Severity::Warn,
            input.targets.label(&[Jurisdiction::Us]),
            folded.span(start, end),
            "reads as a correction of misinformation: it must be tailored, non-promotional, consistent with the labeling, disclose the company and link to the labeling".to_owned(),
            "\"[Company] here. The claim that Brandix cures X isn't accurate; it's approved for Y. Full info: link\"",
        );
    }
}

/// URLs, @tags and #hashtags, in order, once each (C-23).
pub fn links(text: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    let mut push = |item: String| {
        if !found.contains(&item) {
            found.push(item);
        }
    };
    let trim = |word: &str| -> String {
        word.trim_end_matches(|ch: char| ".,;:!?)]}»\"'’…".contains(ch)).to_owned()
    };
    for word in text.split_whitespace() {
        let word = word.trim_start_matches(|ch: char| "([{«\"'".contains(ch));
        let lower = word.to_ascii_lowercase();
        if lower.starts_with("http://")
            || lower.starts_with("https://")
            || lower.starts_with("www.")
        {
            push(trim(word));
            continue;
        }
        for (index, ch) in word.char_indices() {
            if ch != '#' && ch != '@' {
                continue;
            }
            let glued = word[..index]
                .chars()
                .next_back()
                .is_some_and(|c| is_word_char(c) || c == '#' || c == '@');
            if glued {
                continue;
            }
            let body: String = word[index + 1..]
                .chars()
                .take_while(|&c| is_word_char(c) || (ch == '@' && (c == '.' || c == '-')))
                .collect();
            let body = trim(&body);
            let meaningful =
                if ch == '#' { body.chars().any(char::is_alphabetic) } else { !body.is_empty() };
            if meaningful {
                push(format!("{ch}{body}"));
            }
        }
    }
    found
}
