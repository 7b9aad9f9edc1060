//! Enrichment through the binary: annotations right after import, `--no-enrich` then
//! `waterline enrich`, `enrich --all`, near-duplicate groups, and `waterline eval`.

use crate::support::{Workspace, binary, repository, shared_data};

fn line(id: &str, author: &str, text: &str) -> String {
    serde_json::json!({
        "platform": "x",
        "id": id,
        "author_handle": author,
        "created_at": "2026-03-01T10:00:00Z",
        "text": text,
        "counts": {"likes": 1},
    })
    .to_string()
}

fn sample(workspace: &Workspace) -> String {
    let lines = [
        line(
            "1",
            "patient1",
            "@acmehealth Mon traitement Cardiozen ne marche pas, c'est inadmissible !!",
        ),
        line("2", "patient2", "I love how quickly the new pen works, thank you so much!"),
        line(
            "3",
            "bot1",
            "Stop the price rise now, sign the petition today and share it with everyone you know",
        ),
        line(
            "4",
            "bot2",
            "Stop the price rise now, sign the petition today and share it with everyone you know!!",
        ),
        line("5", "someone", ""),
        line("6", "doc", "How do I store the zenoprill pen once it is opened?"),
    ];
    workspace.write("posts.jsonl", lines.join("\n").as_bytes())
}

#[test]
fn posts_are_annotated_right_after_import() {
    let workspace = Workspace::new();
    let file = sample(&workspace);
    assert_eq!(workspace.import(&[&file]), [6, 6, 0, 0, 0, 0]);
    let rows = workspace.sql(
        "SELECT id, language, sentiment, need, entities, addressed_to_brand, duplicate_of, enrich_skipped, enriched_with FROM posts ORDER BY id",
    );
    assert_eq!(rows[0]["language"], "fr");
    assert_eq!(rows[0]["sentiment"], "negative");
    assert_eq!(rows[0]["need"], "complaint");
    assert_eq!(rows[0]["addressed_to_brand"], true);
    let entities = rows[0]["entities"].as_array().unwrap();
    assert!(entities.iter().any(|entity| entity == "product:Cardiozen"), "{entities:?}");
    assert_eq!(rows[1]["language"], "en");
    assert_eq!(rows[1]["sentiment"], "positive");
    assert!(rows[2]["duplicate_of"].is_null());
    assert_eq!(rows[3]["duplicate_of"], "3", "a copy is grouped with the first post");
    assert!(rows[4]["enrich_skipped"].as_str().unwrap().contains("no text"));
    assert_eq!(rows[5]["need"], "question");
    let misspelt = rows[5]["entities"].as_array().unwrap();
    assert!(misspelt.iter().any(|entity| entity == "product:Cardiozen"), "{misspelt:?}");
    assert!(
        rows.iter()
            .all(|row| row["enriched_with"].as_str().is_some_and(|s| s.contains("sentiment@")))
    );
    let voices =
        workspace.sql("SELECT count(DISTINCT coalesce(duplicate_of, id)) AS voices FROM posts");
    assert_eq!(voices[0]["voices"], 5);
}

#[test]
fn no_enrich_then_enrich_fills_the_annotations() {
    let workspace = Workspace::new();
    let file = sample(&workspace);
    workspace.import(&["--no-enrich", &file]);
    let rows = workspace.sql("SELECT count(*) AS n FROM posts WHERE enriched_with IS NULL");
    assert_eq!(rows[0]["n"], 6);
    let outcome = workspace.json(&["enrich"]);
    assert_eq!(outcome["stale"], 6);
    assert_eq!(outcome["rewritten"], 6);
    let rows = workspace.sql(
        "SELECT id, sentiment, duplicate_of FROM posts WHERE enriched_with IS NOT NULL ORDER BY id",
    );
    assert_eq!(rows.len(), 6);
    assert_eq!(rows[3]["duplicate_of"], "3");
    let again = workspace.json(&["enrich"]);
    assert_eq!(again["stale"], 0, "nothing is stale after enrich");
    let forced = workspace.json(&["enrich", "--all"]);
    assert_eq!(forced["rewritten"], 6);
    // Re-annotation keeps history and identity: a re-import is still all unchanged.
    assert_eq!(workspace.import(&[&file]), [6, 0, 0, 6, 0, 0]);
    let count = workspace.sql("SELECT count(*) AS n FROM posts");
    assert_eq!(count[0]["n"], 6);
}

#[test]
fn eval_commands_print_the_documented_keys() {
    let dir = tempfile::tempdir().unwrap();
    let texts = dir.path().join("texts.txt");
    std::fs::write(
        &texts,
        "I love this so much\nthis is terrible, I hate it\nthe meeting is on monday\n",
    )
    .unwrap();
    let labels = dir.path().join("labels.txt");
    std::fs::write(&labels, "2\n0\n1\n").unwrap();
    let complaints = dir.path().join("complaints.csv");
    std::fs::write(&complaints, "1,\"@acme my order never arrived, worst service ever\",1,retail\n2,\"@acme thanks, lovely day\",0,retail\n").unwrap();
    let run = |args: &[&str]| -> serde_json::Value {
        let output = std::process::Command::new(binary())
            .current_dir(dir.path())
            .args(args)
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        serde_json::from_slice(&output.stdout).unwrap()
    };
    let language =
        run(&["eval", "language", "--text", texts.to_str().unwrap(), "--lang", "en", "--json"]);
    assert_eq!(keys(&language), ["accuracy", "n", "und_share"]);
    assert_eq!(language["n"], 3);
    let sentiment = run(&[
        "eval",
        "sentiment",
        "--text",
        texts.to_str().unwrap(),
        "--labels",
        labels.to_str().unwrap(),
        "--lang",
        "en",
        "--json",
    ]);
    assert_eq!(
        keys(&sentiment),
        ["accuracy", "macro_f1", "n", "recall_negative", "recall_neutral", "recall_positive"]
    );
    let needs = run(&["eval", "needs", "--complaints-csv", complaints.to_str().unwrap(), "--json"]);
    assert_eq!(keys(&needs), ["accuracy", "f1", "macro_f1", "n", "precision", "recall"]);
    for value in [&language, &sentiment, &needs] {
        for (key, figure) in value.as_object().unwrap() {
            if key != "n" {
                let figure = figure.as_f64().unwrap();
                assert!((0.0..=1.0).contains(&figure), "{key} = {figure}");
            }
        }
    }
}

fn keys(value: &serde_json::Value) -> Vec<String> {
    let mut keys: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    keys
}

#[test]
fn eval_on_the_public_splits_meets_the_floors() {
    let Some(data) = shared_data() else { return };
    let text = data.join("sentiment/umsab-xlmt/french/val_text.txt");
    let output = std::process::Command::new(binary())
        .current_dir(repository())
        .args(["eval", "language", "--text", text.to_str().unwrap(), "--lang", "fr", "--json"])
        .output()
        .unwrap();
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(value["accuracy"].as_f64().unwrap() > 0.95, "{value}");
}

#[test]
fn import_says_when_stored_posts_lack_annotations() {
    let workspace = Workspace::new();
    let file = sample(&workspace);
    workspace.import(&["--no-enrich", &file]);
    let output = workspace.ok(&["import", &file]);
    assert!(output.contains("run `waterline enrich`"), "{output}");
    workspace.ok(&["enrich"]);
    let output = workspace.ok(&["import", &file]);
    assert!(!output.contains("waterline enrich"), "{output}");
}

#[test]
fn the_sentiment_encoder_option_is_refused_clearly_without_the_feature() {
    if cfg!(feature = "encoder") {
        eprintln!("skipped: this test binary was built with the encoder feature");
        return;
    }
    let workspace = Workspace::new();
    let texts = workspace.write("texts.txt", b"I love it\n");
    let labels = workspace.write("labels.txt", b"2\n");
    let eval = workspace.run(&[
        "eval",
        "sentiment",
        "--text",
        &texts,
        "--labels",
        &labels,
        "--lang",
        "en",
        "--encoder",
        "/nonexistent/sentiment-encoder",
    ]);
    assert!(!eval.status.success());
    let stderr = String::from_utf8_lossy(&eval.stderr);
    assert!(stderr.contains("--features encoder"), "{stderr}");

    let config = std::fs::read_to_string(workspace.path().join("waterline.toml")).unwrap();
    workspace.write(
        "waterline.toml",
        format!("{config}\n[enrichment]\nsentiment_encoder = \"/nonexistent/sentiment-encoder\"\n")
            .as_bytes(),
    );
    let file = sample(&workspace);
    let import = workspace.run(&["import", &file]);
    assert!(import.status.success(), "{}", String::from_utf8_lossy(&import.stderr));
    let stderr = String::from_utf8_lossy(&import.stderr);
    assert!(stderr.contains("sentiment_encoder"), "{stderr}");
    let rows = workspace.sql("SELECT enriched_with FROM posts");
    assert!(
        rows.iter()
            .all(|row| row["enriched_with"].as_str().is_some_and(|s| s.contains("sentiment@1"))),
        "{rows:?}"
    );
}
