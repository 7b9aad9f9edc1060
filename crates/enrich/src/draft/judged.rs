//! The rules a person (or a label knowledge base) must decide: C-05 label part, C-07,
//! C-11, C-15, C-16, C-18 to C-20, C-23 to C-25. They are listed as "needs review", never
//! as passed; a strong cue in the text raises a finding with its span. Also the link, tag
//! and hashtag list of C-23.

use super::lexicon as lx;
use super::rules::{Input, MAX_PER_RULE, Outcome};
use super::{Jurisdiction, Severity, is_word_char};

/// Rules that need a label knowledge base or a person: needs review, plus a finding where
/// the text gives a strong cue.
pub(super) fn judged(input: &Input<'_>, out: &mut Outcome) {
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
