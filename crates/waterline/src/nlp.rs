//! `waterline enrich`, `waterline eval` and `waterline train`: the NLP commands.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use waterline_enrich::Enrichment;
use waterline_enrich::train::{labelled, read_lines};
use waterline_store::Store;

use crate::cli::{BenchTask, EnrichArgs, EvalTask, TrainArgs, TrainModel};
use crate::output;
use waterline_app::workspace::{Workspace, WriteLock};

/// `waterline enrich [--all]`: re-annotates stored posts without re-importing them.
pub async fn enrich(workspace: &Workspace, args: &EnrichArgs) -> Result<()> {
    let data_dir = workspace.data_dir();
    let _lock = WriteLock::acquire(&data_dir)?;
    let mut store = Store::open(&data_dir).await.context("cannot open the workspace store")?;
    let chain = waterline_enrich::models::default_chain(&workspace.config);
    let signature = chain.signature();
    let (stale, total) = store.stale_posts(&signature, args.all).await?;
    let started = std::time::Instant::now();
    let rewritten = if stale == 0 {
        0
    } else {
        let mut enrichment =
            Enrichment { chain, near_duplicates: Default::default(), topics: None };
        store
            .rewrite_annotations(|mut posts| {
                enrichment.run(posts.iter_mut().collect());
                posts
            })
            .await
            .context("cannot rewrite the stored posts")?
    };
    let seconds = started.elapsed().as_secs_f64();
    if args.json {
        return output::json(&serde_json::json!({
            "post_rows": total,
            "stale": stale,
            "rewritten": rewritten,
            "enriched_with": signature,
            "seconds": (seconds * 1000.0).round() / 1000.0,
        }));
    }
    if stale == 0 {
        output::line(&format!(
            "all {total} post rows are annotated by `{signature}`: nothing to do (--all re-annotates anyway)"
        ));
    } else {
        output::line(&format!(
            "re-annotated {rewritten} post rows ({stale} stale) with `{signature}` in {seconds:.1} s"
        ));
    }
    Ok(())
}

/// `waterline eval …`.
pub fn eval(task: EvalTask) -> Result<()> {
    match task {
        EvalTask::Language { text, lang, json } => {
            let model =
                waterline_enrich::models::language().context("the language model did not load")?;
            let texts = read_lines(&text)?;
            let report = waterline_enrich::eval::language(model, &texts, &lang);
            if json {
                return output::json(&report);
            }
            output::line(&format!(
                "language {lang}: accuracy {:.4}, und {:.4}, n {} ({:.0} texts/s, one thread)",
                report.accuracy, report.und_share, report.n, report.texts_per_second
            ));
        }
        EvalTask::Sentiment { text, labels, lang, encoder, json } => {
            let model = waterline_enrich::models::sentiment_for(&lang)
                .context("the sentiment model did not load")?;
            let examples = labelled(&text, &labels)?;
            let how = if encoder.is_some() {
                "fast model mixed with the fine-tuned encoder, all cores"
            } else {
                "one thread"
            };
            let report = match encoder {
                Some(dir) => {
                    if lang != "en" {
                        bail!("the fine-tuned sentiment encoder is English only (--lang en)");
                    }
                    let started = std::time::Instant::now();
                    let predicted = fine_tuned_labels(&dir, model, &examples)?;
                    waterline_enrich::eval::sentiment_of(&examples, &predicted, started.elapsed())
                }
                None => waterline_enrich::eval::sentiment(model, &examples, &lang),
            };
            if json {
                return output::json(&report);
            }
            output::line(&format!(
                "sentiment {lang}: macro-F1 {:.4}, accuracy {:.4}, recall negative {:.4} / neutral {:.4} / positive {:.4}, n {} ({:.0} texts/s, {how})",
                report.macro_f1,
                report.accuracy,
                report.recall_negative,
                report.recall_neutral,
                report.recall_positive,
                report.n,
                report.texts_per_second
            ));
        }
        EvalTask::Topics { jsonl, embeddings, lexical, seed, json } => {
            let content = fs_err::read_to_string(&jsonl)?;
            let (texts, truth, _) = waterline_analytics::topics::read_tweettopic(&content)
                .map_err(|reason| anyhow::anyhow!("`{}`: {reason}", jsonl.display()))?;
            let loaded;
            let table = if lexical {
                None
            } else if let Some(path) = embeddings {
                loaded = waterline_enrich::embed::Embeddings::from_bytes(&fs_err::read(&path)?)
                    .with_context(|| format!("`{}`", path.display()))?;
                Some(&loaded)
            } else {
                waterline_enrich::models::embeddings()
            };
            if table.is_none() && !lexical {
                output::error("no embedding table is available: lexical topics (hashed words)");
            }
            let options = waterline_analytics::topics::TopicOptions {
                seed,
                ..waterline_analytics::topics::TopicOptions::default()
            };
            let report = waterline_analytics::topics::evaluate(&texts, &truth, table, &options);
            if json {
                return output::json(&report);
            }
            output::line(&format!(
                "topics: NMI {:.4}, ARI {:.4}, outliers {:.1}%, {} topics ({} reference labels), {} texts, {:.0} texts/s ({})",
                report.nmi,
                report.ari,
                report.outlier_share * 100.0,
                report.topics,
                report.labels,
                report.n,
                report.docs_per_s,
                report.embedding
            ));
            for (label, size) in report.found.iter().take(25) {
                output::line(&format!("  {size:>6}  {label}"));
            }
        }
        EvalTask::AdverseEvents {
            psytar_csv,
            ade_dir,
            labelled,
            french,
            lang,
            cross_drug,
            errors,
            encoder,
            fine_tuned,
            json,
        } => {
            return eval_adverse_events(
                psytar_csv,
                ade_dir,
                labelled.or(french.clone()),
                if french.is_some() { "fr".into() } else { lang },
                cross_drug,
                errors,
                encoder,
                fine_tuned,
                json,
            );
        }
        EvalTask::Needs { complaints_csv, json } => {
            let examples = read_complaints(&complaints_csv)?;
            let report = waterline_enrich::eval::needs(
                waterline_enrich::models::sentiment(),
                waterline_enrich::models::language(),
                &examples,
            );
            if json {
                return output::json(&report);
            }
            output::line(&format!(
                "complaints: precision {:.4}, recall {:.4}, F1 {:.4}; accuracy {:.4}, macro-F1 {:.4}; n {}",
                report.precision,
                report.recall,
                report.f1,
                report.accuracy,
                report.macro_f1,
                report.n
            ));
            for (domain, part) in &report.by_domain {
                output::line(&format!(
                    "  {domain:<14} precision {:.4}, recall {:.4}, F1 {:.4}; accuracy {:.4}, macro-F1 {:.4}; n {}",
                    part.precision, part.recall, part.f1, part.accuracy, part.macro_f1, part.n
                ));
            }
        }
    }
    Ok(())
}

/// `waterline eval adverse-events` (one argument per flag of the subcommand).
#[allow(clippy::too_many_arguments)]
fn eval_adverse_events(
    psytar_csv: Option<PathBuf>,
    ade_dir: Option<PathBuf>,
    labelled: Option<PathBuf>,
    lang: String,
    cross_drug: bool,
    errors: bool,
    encoder: Option<PathBuf>,
    fine_tuned: Option<PathBuf>,
    json: bool,
) -> Result<()> {
    use waterline_enrich::pv::{Detector, data, evaluate};
    let (set, examples) = if let Some(path) = &psytar_csv {
        let content = String::from_utf8_lossy(&fs_err::read(path)?).into_owned();
        let rows = data::psytar(&content)
            .map_err(|reason| anyhow::anyhow!("`{}`: {reason}", path.display()))?;
        ("psytar", rows)
    } else if let Some(dir) = &ade_dir {
        let relations =
            String::from_utf8_lossy(&fs_err::read(dir.join("DRUG-AE.rel"))?).into_owned();
        let negatives =
            String::from_utf8_lossy(&fs_err::read(dir.join("ADE-NEG.txt"))?).into_owned();
        ("ade-corpus-v2", data::ade(&relations, &negatives))
    } else if let Some(path) = &labelled {
        let content = String::from_utf8_lossy(&fs_err::read(path)?).into_owned();
        ("labelled", data::labelled_tsv(&content))
    } else {
        bail!("give one of --psytar-csv, --ade-dir, --labelled, --french");
    };
    if examples.is_empty() {
        bail!("no examples to evaluate");
    }
    let started = std::time::Instant::now();
    let embeddings = match &encoder {
        Some(dir) => {
            let texts: Vec<&str> = examples.iter().map(|example| example.text.as_str()).collect();
            Some(embed_texts(dir, &texts)?)
        }
        None => None,
    };
    let report = if cross_drug {
        let written_embeddings = match &encoder {
            Some(dir) => {
                let written = evaluate::written_for_head();
                let texts: Vec<&str> =
                    written.iter().map(|example| example.text.as_str()).collect();
                embed_texts(dir, &texts)?
            }
            None => Vec::new(),
        };
        let embedded = embeddings
            .as_deref()
            .map(|rows| evaluate::Embedded { rows, written: &written_embeddings });
        let fold_probabilities = match &fine_tuned {
            Some(dir) => Some(fine_tuned_fold_probabilities(&examples, dir)?),
            None => None,
        };
        let layer = match &fold_probabilities {
            Some(probabilities) => Some(evaluate::Layer::Probabilities(probabilities)),
            None => embedded.as_ref().map(evaluate::Layer::Embedded),
        };
        if errors {
            for (drug, scored) in evaluate::cross_drug_layer(&examples, layer) {
                let texts: Vec<&str> = examples
                    .iter()
                    .filter(|row| row.group == drug)
                    .map(|row| row.text.as_str())
                    .collect();
                for (text, scored) in texts.iter().zip(&scored) {
                    output::line(&format!(
                        "{drug}\t{}\t{}\t{:.4}\t{}\t{text}",
                        u8::from(scored.positive),
                        u8::from(scored.routed),
                        scored.score,
                        u8::from(scored.neutral)
                    ));
                }
            }
        }
        evaluate::cross_drug_report_layer(&examples, layer)
    } else {
        let with_head;
        let mut probabilities = None;
        let detector = if let Some(dir) = &fine_tuned {
            let model = waterline_enrich::pv::model::Model::from_bytes(
                waterline_enrich::models::ADVERSE_EVENTS_MODEL,
            )?;
            let texts: Vec<&str> = examples.iter().map(|example| example.text.as_str()).collect();
            let (head, scores) = fine_tuned_probabilities(dir, &texts)?;
            probabilities = Some(scores);
            with_head = Detector::with_model(model).with_head(head);
            &with_head
        } else if encoder.is_some() {
            let model = waterline_enrich::pv::model::Model::from_bytes(
                waterline_enrich::models::ADVERSE_EVENTS_MODEL,
            )?;
            let head = waterline_enrich::pv::head::Head::from_bytes(
                waterline_enrich::models::ADVERSE_EVENTS_ENCODER_HEAD,
            )
            .context("the shipped encoder head (models/adverse-events-encoder.wlm)")?;
            with_head = Detector::with_model(model).with_head(head);
            &with_head
        } else {
            Detector::shipped()
        };
        let scored = match &probabilities {
            Some(probabilities) => {
                evaluate::score_with_probabilities(detector, &examples, &lang, Some(probabilities))
            }
            None => evaluate::score_embedded(detector, &examples, &lang, embeddings.as_deref()),
        };
        let seconds = started.elapsed().as_secs_f64();
        let threshold = match detector.head() {
            Some(head) if detector.wants_embedding(&lang) => head.threshold(),
            _ => detector.threshold_for(&lang),
        };
        let mut report = evaluate::report(&format!("{set} ({lang})"), &scored, threshold);
        report.texts_per_second = Some((examples.len() as f64 / seconds.max(1e-9)).round());
        report.by_category = evaluate::category_recall(detector, &examples, &lang);
        if errors {
            for (example, scored) in examples.iter().zip(&scored) {
                if example.positive != scored.relevant {
                    let kind = if example.positive { "missed" } else { "false positive" };
                    output::line(&format!("{kind} ({:.3}): {}", scored.score, example.text));
                }
            }
            for line in evaluate::category_misses(detector, &examples, &lang) {
                output::line(&line);
            }
        }
        report
    };
    if json {
        return output::json(&report);
    }
    print_report(&report);
    for fold in &report.folds {
        print_report(fold);
    }
    Ok(())
}

fn print_report(report: &waterline_enrich::pv::evaluate::Report) {
    output::line(&format!(
        "{}: precision {:.4}, recall {:.4}, f1 {:.4}, pr_auc {:.4}, precision_at_recall_95 {:.4}; FPR {:.4}, flagged {:.1}%, precision at 1% prevalence {:.4}; threshold {:.4}; n {} ({} positive){}",
        report.set,
        report.precision,
        report.recall,
        report.f1,
        report.pr_auc,
        report.precision_at_recall_95,
        report.false_positive_rate,
        report.flagged_share * 100.0,
        report.precision_at_1pct_prevalence,
        report.threshold,
        report.n,
        report.positives,
        report
            .texts_per_second
            .map_or(String::new(), |rate| format!(", {rate:.0} texts/s one thread"))
    ));
    for (code, (found, expected)) in &report.by_category {
        output::line(&format!("  {code:<5} {found}/{expected}"));
    }
}

/// Reads a complaints CSV without header: id, text, complaint (0/1), domain.
fn read_complaints(path: &Path) -> Result<Vec<(String, bool, String)>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_path(path)
        .with_context(|| format!("cannot read `{}`", path.display()))?;
    let mut examples = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let record =
            record.with_context(|| format!("`{}`: record {}", path.display(), index + 1))?;
        let (Some(text), Some(flag)) = (record.get(1), record.get(2)) else {
            bail!("`{}`: record {} has fewer than 3 fields", path.display(), index + 1);
        };
        let complaint = match flag.trim() {
            "1" => true,
            "0" => false,
            other => bail!(
                "`{}`: record {}: complaint must be 0 or 1, found `{other}`",
                path.display(),
                index + 1
            ),
        };
        let domain = record.get(3).unwrap_or("").trim().to_owned();
        examples.push((text.to_owned(), complaint, domain));
    }
    Ok(examples)
}

/// Sentence embeddings of texts with the encoder in `dir` (a build with `--features encoder`).
#[cfg(feature = "encoder")]
fn embed_texts(dir: &Path, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
    let encoder = waterline_enrich::encoder::Encoder::load(dir)
        .with_context(|| format!("the sentence encoder in `{}`", dir.display()))?;
    let started = std::time::Instant::now();
    let embeddings = encoder.embed(texts)?;
    tracing::info!(
        "{} texts embedded in {:.1} s with {}",
        texts.len(),
        started.elapsed().as_secs_f64(),
        encoder.name()
    );
    Ok(embeddings)
}

#[cfg(not(feature = "encoder"))]
fn embed_texts(_dir: &Path, _texts: &[&str]) -> Result<Vec<Vec<f32>>> {
    bail!(
        "this binary was built without the sentence encoder: build with `cargo build --release --features encoder` (docs/adr/011-optional-sentence-encoder.md)"
    )
}

/// The labels of the fast English model mixed with the fine-tuned sentiment encoder, as the
/// enrichment chain computes them with `[enrichment] sentiment_encoder`.
#[cfg(feature = "encoder")]
fn fine_tuned_labels(
    dir: &Path,
    fast: &waterline_enrich::sentiment::SentimentModel,
    examples: &[(String, usize)],
) -> Result<Vec<usize>> {
    let classifier = waterline_enrich::finetune::Classifier::load(dir)
        .with_context(|| format!("the fine-tuned sentiment encoder in `{}`", dir.display()))?;
    let texts: Vec<&str> = examples.iter().map(|(text, _)| text.as_str()).collect();
    let encoded = classifier.predict(&texts)?;
    Ok(texts
        .iter()
        .zip(&encoded)
        .map(|(text, encoder)| {
            let fast = fast.predict(text, "en").probabilities;
            let encoder = [
                encoder.first().copied().unwrap_or(0.0),
                encoder.get(1).copied().unwrap_or(0.0),
                encoder.get(2).copied().unwrap_or(0.0),
            ];
            let prediction = waterline_enrich::sentiment::Prediction::from_probabilities(
                waterline_enrich::sentiment::mixed(fast, encoder),
            );
            prediction.sentiment.label()
        })
        .collect())
}

#[cfg(not(feature = "encoder"))]
fn fine_tuned_labels(
    _dir: &Path,
    _fast: &waterline_enrich::sentiment::SentimentModel,
    _examples: &[(String, usize)],
) -> Result<Vec<usize>> {
    bail!(
        "this binary was built without the sentence encoder: build with `cargo build --release --features encoder` (docs/adr/012-fine-tuned-encoder.md)"
    )
}

/// `waterline train sentiment-encoder --model DIR --out DIR`: fine-tunes the encoder.
#[cfg(feature = "encoder")]
fn train_sentiment_encoder(args: &TrainArgs) -> Result<()> {
    let base = args
        .model_dir
        .clone()
        .context("--model DIR is required: the folder with config.json, tokenizer.json and model.safetensors")?;
    let out = args.out.clone().context(
        "--out DIR is required: the folder to write the fine-tuned model to (about 90 MB)",
    )?;
    let count = waterline_enrich::train::train_sentiment_encoder(
        &args.data,
        &base,
        &out,
        |step, steps, loss| {
            if step % 20 == 0 || step == steps {
                output::progress(&format!("step {step}/{steps}, loss {loss:.4}"));
            }
        },
    )?;
    output::line(&format!(
        "wrote the fine-tuned sentiment encoder to `{}` ({count} English tweets, {} epochs)",
        out.display(),
        waterline_enrich::finetune::OPTIONS.epochs
    ));
    Ok(())
}

#[cfg(not(feature = "encoder"))]
fn train_sentiment_encoder(_args: &TrainArgs) -> Result<()> {
    bail!(
        "this binary was built without the sentence encoder: run `cargo run --release --features encoder -- train sentiment-encoder --model DIR --out DIR`"
    )
}

/// P(relevant) of each PsyTAR row from the fold classifiers of a fine-tuned folder.
#[cfg(feature = "encoder")]
fn fine_tuned_fold_probabilities(
    rows: &[waterline_enrich::pv::data::Labelled],
    dir: &std::path::Path,
) -> Result<Vec<f32>> {
    waterline_enrich::pv::finetuned::fold_probabilities(rows, dir, None, &mut |_, _, _, _| {})
        .with_context(|| format!("the fine-tuned classifier's folds in `{}`", dir.display()))
}

#[cfg(not(feature = "encoder"))]
fn fine_tuned_fold_probabilities(
    _rows: &[waterline_enrich::pv::data::Labelled],
    _dir: &std::path::Path,
) -> Result<Vec<f32>> {
    bail!(FINE_TUNED_NEEDS_FEATURE)
}

/// The thresholds of a fine-tuned folder and the P(relevant) of each text.
#[cfg(feature = "encoder")]
fn fine_tuned_probabilities(
    dir: &std::path::Path,
    texts: &[&str],
) -> Result<(waterline_enrich::pv::head::Head, Vec<f32>)> {
    let (classifier, head) = waterline_enrich::pv::finetuned::load(dir)
        .with_context(|| format!("the fine-tuned classifier in `{}`", dir.display()))?;
    let probabilities = waterline_enrich::pv::finetuned::relevance(&classifier, texts)?;
    Ok((head, probabilities))
}

#[cfg(not(feature = "encoder"))]
fn fine_tuned_probabilities(
    _dir: &std::path::Path,
    _texts: &[&str],
) -> Result<(waterline_enrich::pv::head::Head, Vec<f32>)> {
    bail!(FINE_TUNED_NEEDS_FEATURE)
}

#[cfg(not(feature = "encoder"))]
const FINE_TUNED_NEEDS_FEATURE: &str = "this binary was built without the sentence encoder: run `cargo build --release --features encoder` and use target/release/waterline";

/// `waterline train adverse-events-classifier --model DIR --out DIR`.
#[cfg(feature = "encoder")]
fn train_adverse_events_classifier(args: &TrainArgs) -> Result<()> {
    let base = args
        .model_dir
        .clone()
        .context("--model DIR is required: the folder with config.json, tokenizer.json and model.safetensors")?;
    let out = args.out.clone().context(
        "--out DIR is required: the folder to write the fine-tuned classifiers to (about 260 MB)",
    )?;
    let rows = waterline_enrich::train::psytar_rows(&args.data)?;
    let trained = waterline_enrich::pv::finetuned::train(
        &base,
        &rows,
        &out,
        &mut |what, step, steps, loss| {
            if step % 20 == 0 || step == steps {
                output::progress(&format!("{what}: step {step}/{steps}, loss {loss:.4}"));
            }
        },
    )?;
    print_report(&trained.report);
    for fold in &trained.report.folds {
        print_report(fold);
    }
    output::line(&format!(
        "wrote the fine-tuned adverse-event classifier to `{}` ({} examples; thresholds {:.4}, without evidence {:.4})",
        out.display(),
        trained.examples,
        trained.threshold,
        trained.without_evidence
    ));
    Ok(())
}

#[cfg(not(feature = "encoder"))]
fn train_adverse_events_classifier(_args: &TrainArgs) -> Result<()> {
    bail!(
        "this binary was built without the sentence encoder: run `cargo run --release --features encoder -- train adverse-events-classifier --model DIR --out DIR`"
    )
}

/// `waterline train adverse-events-encoder --model DIR`: the encoder head.
#[cfg(feature = "encoder")]
fn train_adverse_events_head(args: &TrainArgs) -> Result<waterline_enrich::table::Table> {
    let dir = args
        .model_dir
        .clone()
        .context("--model DIR is required: the folder with config.json, tokenizer.json and model.safetensors")?;
    let encoder = waterline_enrich::encoder::Encoder::load(&dir)
        .with_context(|| format!("the sentence encoder in `{}`", dir.display()))?;
    Ok(waterline_enrich::train::train_adverse_events_head(&args.data, &encoder)?)
}

#[cfg(not(feature = "encoder"))]
fn train_adverse_events_head(_args: &TrainArgs) -> Result<waterline_enrich::table::Table> {
    bail!(
        "this binary was built without the sentence encoder: run `cargo run --release --features encoder -- train adverse-events-encoder --model DIR`"
    )
}

/// `waterline train embeddings --model DIR`: distils the static word embeddings (needs a
/// build with `--features distill`).
#[cfg(feature = "distill")]
fn train_embeddings(args: &TrainArgs) -> Result<()> {
    let model = args
        .model_dir
        .clone()
        .context("--model DIR is required: the folder with config.json, tokenizer.json and model.safetensors")?;
    let mut options = waterline_enrich::distill::DistillOptions::new(model, args.data.clone());
    if let Some(dims) = args.dims {
        options.dims = dims;
    }
    let batch = options.batch;
    let table = waterline_enrich::distill::distill(&options, &|done, all| {
        if done % 8192 < batch || done == all {
            tracing::info!("{done}/{all} words embedded");
        }
    })?;
    let out = args.out.clone().unwrap_or_else(|| PathBuf::from("models/embeddings.wle"));
    let bytes = table.to_bytes();
    fs_err::write(&out, &bytes)?;
    output::line(&format!(
        "wrote the embedding table to `{}`: {} words, {} dimensions, {} bytes",
        out.display(),
        table.len(),
        table.dims,
        bytes.len()
    ));
    Ok(())
}

#[cfg(not(feature = "distill"))]
fn train_embeddings(_args: &TrainArgs) -> Result<()> {
    bail!(
        "this binary was built without distillation: run `cargo run --release --features distill -- train embeddings --model DIR`"
    )
}

/// `waterline train language|sentiment|sentiment-multilingual|embeddings`.
pub fn train(args: &TrainArgs) -> Result<()> {
    let (name, table) = match args.model {
        TrainModel::Embeddings => return train_embeddings(args),
        TrainModel::SentimentEncoder => return train_sentiment_encoder(args),
        TrainModel::AdverseEventsClassifier => return train_adverse_events_classifier(args),
        TrainModel::Language => ("language", waterline_enrich::train::train_language(&args.data)?),
        TrainModel::Sentiment => {
            ("sentiment", waterline_enrich::train::train_sentiment(&args.data)?)
        }
        TrainModel::AdverseEvents => {
            ("adverse-events", waterline_enrich::train::train_adverse_events(&args.data)?)
        }
        TrainModel::AdverseEventsEncoder => {
            ("adverse-events-encoder", train_adverse_events_head(args)?)
        }
        TrainModel::SentimentMultilingual => (
            "sentiment-multilingual",
            waterline_enrich::train::train_sentiment_multilingual(&args.data)?,
        ),
    };
    let out = args.out.clone().unwrap_or_else(|| PathBuf::from(format!("models/{name}.wlm")));
    if let Some(parent) = out.parent().filter(|parent| !parent.as_os_str().is_empty()) {
        fs_err::create_dir_all(parent)?;
    }
    let bytes = table.to_bytes();
    fs_err::write(&out, &bytes)?;
    let features: usize = table.sections.iter().map(|section| section.keys.len()).sum();
    output::line(&format!(
        "wrote the {name} model to `{}`: {} bytes, {features} weighted features, xxh3 {:016x}",
        out.display(),
        bytes.len(),
        xxhash_rust::xxh3::xxh3_64(&bytes)
    ));
    Ok(())
}

/// `waterline bench enrich`: posts/s of tokenisation, of each annotator alone (on
/// pre-computed tokens), and of the whole chain with near-duplicate grouping, using every
/// core (rayon), best of `runs`.
pub fn bench(task: BenchTask) -> Result<()> {
    use rayon::prelude::*;
    use waterline_enrich::{Analysis, models};
    let (inputs, config, runs, json) = match task {
        BenchTask::Enrich { inputs, config, runs, json } => (inputs, config, runs, json),
        BenchTask::Live { events, rate, pv_every, keep_every, json } => {
            return crate::bench_live::run(&crate::bench_live::LiveBench {
                events,
                rate,
                pv_every,
                keep_every,
                json,
            });
        }
    };
    let paths = waterline_app::import::expand(&inputs)?;
    let config_path = config.or_else(|| {
        let beside = Path::new(paths.first()?).parent()?.join(waterline_model::config::CONFIG_FILE);
        beside.exists().then_some(beside)
    });
    let config = match &config_path {
        Some(path) => waterline_model::Config::parse(&fs_err::read_to_string(path)?)
            .with_context(|| format!("`{}`", path.display()))?,
        None => waterline_model::Config::parse(waterline_model::config::EXAMPLE)?,
    };
    let mut posts = Vec::new();
    for path in &paths {
        let mut input = waterline_ingest::open(path, None, None)?;
        while let Some(output) = input.next_chunk(50_000)? {
            posts.extend(output.records.into_iter().filter_map(|located| match located.record {
                waterline_model::Record::Post(post) => Some(*post),
                _ => None,
            }));
        }
    }
    if posts.is_empty() {
        bail!("no posts in the inputs");
    }
    let count = posts.len() as f64;
    let best = |work: &mut dyn FnMut()| -> f64 {
        (0..runs.max(1))
            .map(|_| {
                let started = std::time::Instant::now();
                work();
                started.elapsed().as_secs_f64()
            })
            .fold(f64::MAX, f64::min)
    };
    let known: &(dyn Fn(&str) -> bool + Sync) = &models::is_known_word;
    let mut figures: Vec<(String, f64)> = Vec::new();
    let seconds = best(&mut || {
        posts.par_iter().for_each(|post| {
            std::hint::black_box(waterline_enrich::text::tokenize(&post.text, Some(known)));
        });
    });
    figures.push(("tokenize".into(), count / seconds));
    // Each annotator is timed alone, on tokens and on the language and sentiment it may
    // need (the first two annotators), computed beforehand.
    let annotators = models::default_annotators(&config);
    let analyses: Vec<Analysis> = posts
        .par_iter()
        .map(|post| {
            let mut analysis = Analysis {
                tokens: waterline_enrich::text::tokenize(&post.text, Some(known)),
                ..Analysis::default()
            };
            for annotator in annotators.iter().take(2) {
                annotator.annotate(post, &mut analysis);
            }
            analysis
        })
        .collect();
    for annotator in &annotators {
        let mut fastest = f64::MAX;
        for _ in 0..runs.max(1) {
            let mut work = analyses.clone();
            let started = std::time::Instant::now();
            posts.par_iter().zip(work.par_iter_mut()).for_each(|(post, analysis)| {
                annotator.annotate(post, analysis);
            });
            fastest = fastest.min(started.elapsed().as_secs_f64());
            std::hint::black_box(work);
        }
        figures.push((annotator.name().to_owned(), count / fastest));
    }
    let seconds = best(&mut || {
        let mut batch = posts.clone();
        let mut enrichment = bench_enrichment(&config);
        for chunk in batch.chunks_mut(20_000) {
            enrichment.run(chunk.iter_mut().collect());
        }
        std::hint::black_box(batch);
    });
    figures.push(("whole chain".into(), count / seconds));
    // Topic assignment alone, as an import past its first fit runs it: a model fitted once on
    // these posts, then every post assigned (discoveries in the pool included).
    let mut annotated = posts.clone();
    let mut first = bench_enrichment(&config);
    for chunk in annotated.chunks_mut(20_000) {
        first.run(chunk.iter_mut().collect());
    }
    if let Some(model) = first.topics.as_ref().map(|assigner| assigner.model().clone()) {
        let seconds = best(&mut || {
            let mut batch = annotated.clone();
            let mut assigner = waterline_enrich::topics::Assigner::new(
                Some(model.clone()),
                models::embeddings(),
                Vec::new(),
                waterline_enrich::topics::TopicOptions::default(),
            );
            for chunk in batch.chunks_mut(20_000) {
                assigner.assign(&mut chunk.iter_mut().collect::<Vec<_>>());
            }
            std::hint::black_box(batch);
        });
        figures.push(("topic assignment".into(), count / seconds));
    }
    if json {
        let object: serde_json::Map<String, serde_json::Value> = figures
            .iter()
            .map(|(name, rate)| (name.clone(), serde_json::json!(rate.round())))
            .chain([("posts".to_owned(), serde_json::json!(posts.len()))])
            .collect();
        return output::json(&object);
    }
    output::line(&format!(
        "{} posts, {} threads, best of {runs} (posts/s; annotators alone exclude tokenisation):",
        posts.len(),
        rayon::current_num_threads()
    ));
    for (name, rate) in figures {
        output::line(&format!("  {name:<28} {rate:>12.0}"));
    }
    Ok(())
}

/// The import's enrichment for `bench enrich`: the default chain and a fresh topic assigner.
fn bench_enrichment(config: &waterline_model::Config) -> Enrichment {
    Enrichment {
        chain: waterline_enrich::models::default_chain(config),
        near_duplicates: Default::default(),
        topics: Some(waterline_enrich::topics::Assigner::new(
            None,
            waterline_enrich::models::embeddings(),
            Vec::new(),
            waterline_enrich::topics::TopicOptions::default(),
        )),
    }
}
