//! Tests of the PV detector against PHARMA.md (requirement IDs in the names).

#![allow(clippy::unwrap_used)]

use super::*;

fn context(language: &str) -> Context<'_> {
    Context { language, author: None, products: Vec::new() }
}

fn detect(text: &str, language: &str) -> Detection {
    Detector::shipped().detect(text, &context(language))
}

fn codes(detection: &Detection) -> Vec<&'static str> {
    detection.categories().into_iter().map(Category::code).collect()
}

/// PHARMA.md section b.2: every example (EN and FR) with the category it must get.
const B2: &[(&str, &str, &str)] = &[
    ("AE", "en", "Two days on Brandix and I've had a pounding headache ever since."),
    ("AE", "fr", "Depuis que je prends Brandix j'ai des maux de tête terribles."),
    ("SAE", "en", "Ended up in A&E overnight after my Brandix shot, couldn't breathe."),
    ("SAE", "fr", "Hospitalisée 3 jours à cause de Brandix, j'ai cru mourir."),
    ("PREG", "en", "Just found out I'm 8 weeks pregnant and I've been on Brandix the whole time."),
    ("PREG", "fr", "Enceinte de 2 mois et je n'ai jamais arrêté Brandix, je panique."),
    ("BF", "en", "Is my baby getting Brandix through my milk? She's been very sleepy."),
    ("BF", "fr", "J'allaite et je prends Brandix, mon bébé dort tout le temps."),
    ("PED", "en", "Our GP gave my 6-year-old half a Brandix tablet."),
    ("PED", "fr", "Le médecin a donné un demi-comprimé de Brandix à mon fils de 6 ans."),
    ("OFF", "en", "My dermatologist put me on Brandix for acne, not what it's for apparently."),
    (
        "OFF",
        "fr",
        "Mon médecin me l'a prescrit pour l'acné, alors que ce n'est pas son indication.",
    ),
    ("OD", "en", "Accidentally took 4 Brandix instead of 1 this morning."),
    ("OD", "fr", "J'ai pris 4 comprimés de Brandix au lieu d'un ce matin."),
    ("ABU", "en", "Taking Brandix by the handful to get a buzz, can't stop."),
    ("ABU", "fr", "J'en prends plein pour planer, je n'arrive plus à arrêter."),
    ("MIS", "en", "I crush Brandix and mix it in my drink so it works faster."),
    ("MIS", "en", "Selling my leftover Brandix, DM me."),
    ("MIS", "fr", "J'écrase Brandix dans mon café pour que ça agisse plus vite."),
    ("MIS", "fr", "Je revends mes Brandix, MP."),
    ("ME", "en", "Pharmacy gave me Brandix 50 instead of 5, took it for a week."),
    ("ME", "fr", "La pharmacie m'a donné du 50 mg au lieu de 5 mg, je l'ai pris une semaine."),
    ("OCC", "en", "As a nurse I got Brandix solution splashed in my eye while preparing it."),
    ("OCC", "fr", "Infirmière, j'ai reçu une projection de Brandix dans l'œil en le préparant."),
    ("LOE", "en", "Brandix did absolutely nothing for my migraines."),
    ("LOE", "fr", "Brandix ne m'a fait aucun effet, zéro."),
    ("INT", "en", "Took Brandix with grapefruit juice and felt dizzy."),
    ("INT", "fr", "Brandix avec mon anticoagulant, j'ai eu plein de bleus."),
    ("PQC", "en", "My new Brandix box has tablets that are a different colour and crumble."),
    ("PQC", "fr", "Les comprimés de la nouvelle boîte sont d'une autre couleur et s'effritent."),
    (
        "TIA",
        "en",
        "Got an infection at the injection site, they said the vial may have been contaminated.",
    ),
    ("TIA", "fr", "Infection au point d'injection, le flacon était peut-être contaminé."),
];

/// PHARMA.md section b.3: negatives that the lexicon guards neutralise (indication only,
/// hypothetical or label talk, news, medical-information questions) or that the model scores
/// low (positive experience): no flag, not relevant.
const B3: &[(&str, &str)] = &[
    ("en", "Brandix changed my life, no complaints."),
    ("fr", "Brandix m'a changé la vie."),
    ("en", "I take Brandix for my blood pressure."),
    ("fr", "Je prends Brandix pour ma tension."),
    ("en", "Brandix can cause headaches apparently, has anyone tried it?"),
    ("fr", "Il paraît que Brandix peut donner des maux de tête ?"),
    ("en", "Brandix maker reports Q3 results."),
    ("fr", "Le fabricant de Brandix publie ses résultats."),
    ("en", "Can I take Brandix with food?"),
    ("fr", "On peut prendre Brandix pendant le repas ?"),
];

/// PHARMA.md section b.3: disease talk without a product. No category flag; product
/// matching is the caller's (an empty product list means "about a product"), so the score
/// decides `relevant`: not relevant in French; in English, at the recall-first threshold,
/// "Migraine days are the worst." is routed by its score (docs/QUALITY.md).
const B3_SCORED: &[(&str, &str)] =
    &[("en", "Migraine days are the worst."), ("fr", "Les jours de migraine sont horribles.")];

#[test]
fn pv_1_every_b2_example_gives_its_category() {
    let mut failures = Vec::new();
    for (code, language, text) in B2 {
        let detection = detect(text, language);
        if !codes(&detection).contains(code) {
            failures.push(format!("{code} expected, got {:?}: {text}", codes(&detection)));
        }
        if !detection.relevant {
            failures.push(format!("not relevant (score {}): {text}", detection.score));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn pv_1_b3_negatives_are_not_flagged() {
    let mut failures = Vec::new();
    for (language, text) in B3 {
        let detection = detect(text, language);
        if detection.relevant || !detection.flags.is_empty() {
            failures.push(format!(
                "flagged (score {:.3}, threshold {:.3}, {:?}): {text}",
                detection.score,
                Detector::shipped().threshold_for(language),
                codes(&detection)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn pv_1_b3_disease_talk_gets_no_flag() {
    for (language, text) in B3_SCORED {
        let detection = detect(text, language);
        assert!(detection.flags.is_empty(), "{text}: {:?}", codes(&detection));
        assert_ne!(detection.elements.reaction.presence, Presence::Present, "{text}");
        if *language == "fr" {
            assert!(!detection.relevant, "{text}: {}", detection.score);
        }
    }
}

#[test]
fn pv_1_spans_are_byte_offsets_into_the_text() {
    for (_, language, text) in B2 {
        for flag in detect(text, language).flags {
            assert_eq!(&text[flag.span.start..flag.span.end], flag.span.text, "{text}");
        }
    }
}

#[test]
fn pv_1_minimum_elements() {
    let text = "As a pharmacist I've seen my dad (72) on Brandix get nosebleeds.";
    let products = vec![Span { start: 41, end: 48, text: "Brandix".into() }];
    let detection = Detector::shipped()
        .detect(text, &Context { language: "en", author: None, products: products.clone() });
    let elements = &detection.elements;
    assert_eq!(elements.patient.presence, Presence::Present);
    assert_eq!(elements.patient.span.as_ref().unwrap().text, "my dad");
    assert_eq!(elements.reporter.presence, Presence::Present);
    assert_eq!(elements.reporter.span.as_ref().unwrap().text, "As a pharmacist");
    assert_eq!(elements.product.presence, Presence::Present);
    assert_eq!(elements.product.span.as_ref().unwrap().text, "Brandix");
    assert_eq!(elements.reaction.presence, Presence::Present);
    assert_eq!(elements.reaction.span.as_ref().unwrap().text, "nosebleeds");
    assert!(codes(&detection).contains(&"ELD"), "{:?}", codes(&detection));

    let french = "En tant qu'infirmière, j'ai vu ma patiente saigner du nez sous Brandix.";
    let detection = detect(french, "fr");
    assert_eq!(detection.elements.reporter.presence, Presence::Present);
    assert_eq!(detection.elements.product.presence, Presence::Uncertain);
    assert_eq!(detection.elements.product.span.as_ref().unwrap().text, "Brandix");

    let handle = Detector::shipped().detect(
        "Brandix maker reports Q3 results.",
        &Context { language: "en", author: Some("@someone"), products: Vec::new() },
    );
    assert_eq!(handle.elements.reporter.presence, Presence::Present);
    assert_eq!(handle.elements.patient.presence, Presence::Absent);
    assert_eq!(handle.elements.reaction.presence, Presence::Absent);
}

#[test]
fn pv_8_seriousness_cues() {
    let cases = [
        ("death", "My brother died two days after his first Brandix dose."),
        ("life-threatening", "I nearly died from the reaction to Brandix."),
        ("hospitalisation", "Ended up in the ER after taking Brandix."),
        ("hospitalisation", "Direction les urgences après Brandix, je ne respirais plus."),
        ("disability", "Brandix left me with permanent damage to my nerves."),
        ("congenital anomaly", "My baby was born with a heart defect after I took Brandix."),
        ("important medical event", "Had a seizure on Brandix last night."),
        (
            "infection",
            "Got an infection at the injection site, they said the vial may have been contaminated.",
        ),
    ];
    for (criterion, text) in cases {
        let detection = detect(text, "en");
        assert!(detection.serious(), "{criterion}: {text}");
        assert!(
            detection.flags.iter().any(|flag| flag.detail.as_deref() == Some(criterion)),
            "{criterion}: {text}: {:?}",
            detection.flags
        );
        assert!(detection.relevant, "{text}");
    }
    assert!(!detect("Brandix maker reports Q3 results.", "en").serious());
}

#[test]
fn pv_9_special_situation_without_ae_is_flagged() {
    for text in [
        "Selling my leftover Brandix, DM me.",
        "Accidentally took 4 Brandix instead of 1 this morning.",
        "Pharmacy gave me Brandix 50 instead of 5, took it for a week.",
        "Je revends mes Brandix, MP.",
    ] {
        let detection = detect(text, "en");
        assert!(detection.relevant, "{text}");
        assert!(!codes(&detection).contains(&"AE"), "{text}: {:?}", codes(&detection));
    }
}

#[test]
fn pv_10_pregnancy_and_breastfeeding() {
    assert!(
        codes(&detect("My wife is pregnant and I was on Brandix when we conceived.", "en"))
            .contains(&"PREG")
    );
    assert!(codes(&detect("Je suis enceinte de 3 mois sous Brandix.", "fr")).contains(&"PREG"));
    assert!(codes(&detect("I'm breastfeeding while on Brandix.", "en")).contains(&"BF"));
    assert!(codes(&detect("J'allaite ma fille et je prends Brandix.", "fr")).contains(&"BF"));
    // Intent is not exposure.
    let intent =
        detect("I am looking to get pregnant and do not want to be on any medications.", "en");
    assert!(!codes(&intent).contains(&"PREG"), "{:?}", codes(&intent));
    // A miscarriage is also serious.
    let outcome = detect("Fausse couche à 10 semaines, j'étais sous Brandix.", "fr");
    assert!(outcome.serious());
}

#[test]
fn pv_11_lack_of_efficacy_only_when_explicit() {
    for text in [
        "Brandix did absolutely nothing for my migraines.",
        "It just didn't work for me.",
        "Brandix ne marche pas chez moi.",
    ] {
        assert!(codes(&detect(text, "en")).contains(&"LOE"), "{text}");
    }
    for text in [
        "Not sure yet, it's only been a week on Brandix.",
        "If it doesn't work I'll ask my doctor about another one.",
        "No side effects, Brandix works well.",
        "Aucun effet secondaire avec Brandix.",
        "Pas d'effet indésirable pour le moment.",
    ] {
        assert!(!codes(&detect(text, "en")).contains(&"LOE"), "{text}");
    }
}

#[test]
fn pv_12_quality_complaint_is_a_separate_flag() {
    let detection =
        detect("My new Brandix box has tablets that are a different colour and crumble.", "en");
    assert_eq!(codes(&detection), ["PQC"]);
    assert!(detection.relevant);
    let both =
        detect("The Brandix tablets in this box are a different colour and gave me a rash.", "en");
    assert!(codes(&both).contains(&"PQC") && codes(&both).contains(&"AE"), "{:?}", codes(&both));
}

#[test]
fn negation_and_guards() {
    assert!(!codes(&detect("No headaches at all on Brandix.", "en")).contains(&"AE"));
    assert!(!codes(&detect("Je n'ai jamais eu de nausées avec Brandix.", "fr")).contains(&"AE"));
    assert!(!codes(&detect("Can I take Brandix while pregnant?", "en")).contains(&"AE"));
}

#[test]
fn ml_1_threshold_is_stored_in_the_model_file() {
    let model = model::Model::from_bytes(crate::models::ADVERSE_EVENTS_MODEL).unwrap();
    let threshold = Detector::shipped().threshold();
    assert!((model.threshold() - threshold).abs() < 1e-6);
    assert!(threshold > 0.0 && threshold < 0.5, "a recall-first threshold: {threshold}");
}

#[test]
fn ml_3_lexicon_is_not_the_only_classifier() {
    // The shipped model has word weights besides the lexicon signals, and two texts with the
    // same lexicon signals get different scores from their words.
    let model = model::Model::from_bytes(crate::models::ADVERSE_EVENTS_MODEL).unwrap();
    let weights = model.table().section("features").unwrap();
    assert!(weights.keys.len() > 1000, "{} weights", weights.keys.len());
    let a = "I feel dizzy all the time on this medication.";
    let b = "I feel dizzy all the time on this boat.";
    assert_eq!(lexicon::analyse(a).signals, lexicon::analyse(b).signals);
    let (score_a, score_b) = (detect(a, "en").score, detect(b, "en").score);
    assert!((score_a - score_b).abs() > 1e-3, "{score_a} vs {score_b}");
}

#[test]
fn ml_3_an_encoder_probability_is_mixed_at_the_heads_share_and_thresholds() {
    // A weightless head (a fine-tuned classifier's thresholds, `head::external`).
    let model = model::Model::from_bytes(crate::models::ADVERSE_EVENTS_MODEL).unwrap();
    let table = head::external(0.3, 0.6, head::FINE_TUNED_MIX);
    let head = head::Head::from_bytes(&table.to_bytes()).unwrap();
    assert_eq!(head.dims(), 0);
    assert_eq!(head.version(), head::FINE_TUNED_VERSION);
    let detector = Detector::with_model(model).with_head(head);
    let text = "Started the new tablets last week and honestly feeling a bit off";
    let fast = detector.detect(text, &context("en"));
    assert_eq!(fast.model, VERSION);
    let sure = detector.detect_with_probability(text, &context("en"), Some(0.999));
    let unsure = detector.detect_with_probability(text, &context("en"), Some(0.001));
    let expected = head::mixed(fast.score, 0.999, head::FINE_TUNED_MIX);
    assert!((sure.score - expected).abs() < 1e-5, "{} vs {expected}", sure.score);
    assert!(sure.score > fast.score && unsure.score < fast.score);
    assert!(sure.relevant && !unsure.relevant, "{} / {}", sure.score, unsure.score);
    assert_eq!(sure.model, head::FINE_TUNED_VERSION);
    // No probability, a NaN, or a French text: the fast detector decides.
    for (probability, language) in [(None, "en"), (Some(f32::NAN), "en"), (Some(0.999), "fr")] {
        let detection = detector.detect_with_probability(text, &context(language), probability);
        let alone = detector.detect(text, &context(language));
        assert!((detection.score - alone.score).abs() < 1e-6, "{probability:?} {language}");
        assert_eq!(detection.model, VERSION);
    }
    // A weightless head ignores embeddings.
    let embedded = detector.detect_embedded(text, &context("en"), Some(&[0.5; 384]));
    assert!((embedded.score - fast.score).abs() < 1e-6);
}

#[test]
fn scope_6_french_is_measured_on_its_own_test_set_with_its_negatives() {
    let content =
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/pv/fr-test.tsv"));
    let examples = data::labelled_tsv(content);
    assert!(examples.len() >= 150, "{}", examples.len());
    let scored = evaluate::score(Detector::shipped(), &examples, "fr");
    let report = evaluate::report("fr", &scored, Detector::shipped().threshold_for("fr"));
    assert!(report.recall >= 0.9, "{report:?}");
    assert!(report.precision >= 0.8, "{report:?}");
}

#[test]
fn bad_input_never_panics() {
    for text in ["", " ", "?", "!!!", "é", "\u{0}", "(((", "12 (34", "'", "’a", "a&", "&e", "😷🤒"]
    {
        let detection = detect(text, "en");
        assert!(detection.score.is_finite());
    }
    let long = "I feel sick. ".repeat(5000);
    assert!(detect(&long, "en").score.is_finite());
}

#[test]
fn metrics_and_prevalence() {
    let precision = evaluate::precision_at_prevalence(0.95, 0.05, 0.01);
    assert!((precision - 0.0095 / (0.0095 + 0.0495)).abs() < 1e-9);
    let scored = [
        evaluate::Scored {
            positive: true,
            score: 0.9,
            relevant: true,
            routed: false,
            evidence: true,
            neutral: false,
        },
        evaluate::Scored {
            positive: false,
            score: 0.8,
            relevant: true,
            routed: false,
            evidence: true,
            neutral: false,
        },
        evaluate::Scored {
            positive: true,
            score: 0.3,
            relevant: false,
            routed: false,
            evidence: true,
            neutral: false,
        },
        evaluate::Scored {
            positive: false,
            score: 0.1,
            relevant: false,
            routed: false,
            evidence: true,
            neutral: false,
        },
    ];
    let report = evaluate::report("t", &scored, 0.5);
    assert!((report.precision - 0.5).abs() < 1e-9);
    assert!((report.recall - 0.5).abs() < 1e-9);
    assert!((report.pr_auc - (1.0 * 0.5 + (2.0 / 3.0) * 0.5)).abs() < 1e-9);
    assert!((report.precision_at_recall_95 - 2.0 / 3.0).abs() < 1e-9);
    assert!((evaluate::threshold_for_recall(&scored, 0.95) - 0.3).abs() < 1e-6);
}
