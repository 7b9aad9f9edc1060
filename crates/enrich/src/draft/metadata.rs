//! The metadata rules of the draft check: CMP-0a (what is missing), C-01 to C-04 (POM to
//! the public; France: reimbursed, visa, mandatory mentions), C-05 and C-06 (benefit
//! without risk, US and HCP), C-12 (references) and CMP-0c (PV monitoring of the account).

use waterline_model::config::{ProductClass, normalise_handle};

use super::lexicon as lx;
use super::rules::{Input, Outcome};
use super::{Draft, Folded, Jurisdiction, Severity, is_word_char, jurisdictions_of};

/// CMP-0a: countries, audience and the status of every product in every target country.
pub(super) fn cmp_0a_metadata(input: &Input<'_>, out: &mut Outcome) {
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
pub(super) fn c_01_pom_to_public(input: &Input<'_>, out: &mut Outcome) {
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
pub(super) fn c_02_to_c_04_france_public(input: &Input<'_>, out: &mut Outcome) {
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
pub(super) fn c_05_us_benefit_without_risk(input: &Input<'_>, out: &mut Outcome) {
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
    super::judged::links(&draft.text)
        .iter()
        .any(|link| !link.starts_with('@') && !link.starts_with('#'))
}

/// C-06: HCP in the EU, UK or France, an efficacy claim without safety information or a
/// prescribing-information link.
pub(super) fn c_06_hcp_benefit_without_safety(input: &Input<'_>, out: &mut Outcome) {
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
pub(super) fn quantities(folded: &Folded<'_>) -> Vec<(usize, usize)> {
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
pub(super) fn c_12_references(input: &Input<'_>, out: &mut Outcome) {
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
        let sentence = folded.slice(folded.sentence(start));
        if let Some(citation) = inline_citation(sentence) {
            out.review(
                "C-12",
                format!(
                    "the claim \"{}\" cites \"{citation}\" in the text: attach that reference to the submission (--reference)",
                    folded.span(start, end).text
                ),
            );
            continue;
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
pub(super) fn cmp_0c_pv_monitoring(input: &Input<'_>, out: &mut Outcome) {
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

/// A citation written in a sentence (`Smith et al.`, `(Smith 2024)`, `[1]`, `SmPC 5.1`,
/// `ref.`), if any.
fn inline_citation(sentence: &str) -> Option<String> {
    for cue in ["et al", "smpc", "rcp", "ref.", "réf.", "ibid"] {
        if let Some(index) = sentence.find(cue) {
            return Some(cue_context(sentence, index, cue.len()));
        }
    }
    let bytes = sentence.as_bytes();
    // `[1]`-style markers.
    for (index, window) in bytes.windows(3).enumerate() {
        if window[0] == b'[' && window[1].is_ascii_digit() && window[2] == b']' {
            return Some(sentence[index..index + 3].to_owned());
        }
    }
    // A year (19xx or 20xx) inside parentheses: `(Smith 2024)`.
    let mut depth = 0usize;
    for (index, ch) in sentence.char_indices() {
        match ch {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            '1' | '2' if depth > 0 => {
                let year = sentence.get(index..index + 4).unwrap_or_default();
                let glued = sentence
                    .get(index + 4..)
                    .and_then(|rest| rest.chars().next())
                    .is_some_and(|c| c.is_ascii_digit());
                if (year.starts_with("19") || year.starts_with("20"))
                    && year.chars().all(|c| c.is_ascii_digit())
                    && !glued
                    && !sentence[..index].ends_with(|c: char| c.is_ascii_digit())
                {
                    return Some(year.to_owned());
                }
            }
            _ => {}
        }
    }
    None
}

fn cue_context(sentence: &str, index: usize, length: usize) -> String {
    let start = sentence[..index].rfind(['(', '[', ',', ';']).map_or(0, |i| i + 1);
    let end = sentence[index + length..]
        .find([')', ']', ',', ';'])
        .map_or(sentence.len(), |i| index + length + i);
    sentence.get(start..end).unwrap_or_default().trim().to_owned()
}
