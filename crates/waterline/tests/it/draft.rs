//! `waterline check-draft`: the real binary, with and without a workspace, on one draft
//! (`--text`, `--file`, `--json`) and on a content plan (`--plan`).

use std::process::Output;

use crate::support::{Workspace, binary, repository};

/// Runs the binary in a folder with no `waterline.toml`.
fn without_workspace(args: &[&str]) -> (Output, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(binary())
        .arg("--workspace")
        .arg(dir.path())
        .args(args)
        .output()
        .unwrap();
    (output, dir)
}

fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "{error}: {}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

fn fixture(name: &str) -> String {
    repository().join("testdata/drafts").join(name).to_string_lossy().into_owned()
}

#[test]
fn check_draft_json_blocks_a_pom_to_the_public_without_a_workspace() {
    let (output, _dir) = without_workspace(&[
        "check-draft",
        "--text",
        "Ask your doctor about #Brandix for psoriasis!",
        "--countries",
        "GB",
        "--audience",
        "public",
        "--product",
        "Brandix=pom",
        "--json",
    ]);
    assert_eq!(output.status.code(), Some(1), "BLOCK exits with 1");
    let report = json(&output);
    assert_eq!(report["status"], "BLOCK");
    let c01 = report["findings"].as_array().unwrap().iter().find(|f| f["rule"] == "C-01").unwrap();
    assert_eq!(c01["severity"], "BLOCK");
    assert_eq!(c01["jurisdiction"], "UK");
    assert_eq!(c01["span"]["text"], "#Brandix");
    assert_eq!(c01["span"]["start"], 22);
    assert!(c01["fix"].as_str().unwrap().contains("disease-awareness"));
    assert!(report["forecast"].is_null());
    assert!(report["forecast_unavailable"].as_str().unwrap().contains("no workspace"));
    assert_eq!(report["links"], serde_json::json!(["#Brandix"]));
}

#[test]
fn check_draft_missing_metadata_cannot_assess_and_bad_flags_exit_2() {
    let (output, _dir) = without_workspace(&["check-draft", "--text", "Hello", "--json"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(json(&output)["status"], "CANNOT_ASSESS");
    let (output, _dir) =
        without_workspace(&["check-draft", "--text", "Hello", "--audience", "everyone"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown audience"));
    let (output, _dir) = without_workspace(&["check-draft", "--countries", "FR"]);
    assert_eq!(output.status.code(), Some(2), "no text");
}

#[test]
fn check_draft_in_a_workspace_passes_a_disease_awareness_post_on_a_monitored_account() {
    let workspace = Workspace::new();
    let args = [
        "check-draft",
        "--text",
        "Psoriasis affects daily life. Talk to your doctor about your options.",
        "--countries",
        "FR",
        "--audience",
        "public",
        "--account",
        "acmehealth",
        "--json",
    ];
    let output = workspace.run(&args);
    assert_eq!(output.status.code(), Some(0));
    let report = json(&output);
    assert_eq!(report["status"], "PASS", "{report}");
    assert!(report["forecast"].is_null(), "no own posts yet");
    // The workspace's product named in the text gets its status from `waterline.toml`.
    let output = workspace.run(&[
        "check-draft",
        "--text",
        "Cardiozen (zenopril) : demandez à votre médecin",
        "--countries",
        "FR",
        "--audience",
        "public",
        "--json",
    ]);
    let report = json(&output);
    assert_eq!(report["products"], serde_json::json!(["Cardiozen"]));
    let rules: Vec<&str> =
        report["findings"].as_array().unwrap().iter().filter_map(|f| f["rule"].as_str()).collect();
    assert!(rules.contains(&"C-01") && rules.contains(&"C-02"), "{rules:?}");
    // A human table.
    let output = workspace.run(&args[..args.len() - 1]);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.starts_with("status: PASS"), "{text}");
}

#[test]
fn check_draft_file_french_otc_ad_with_visa_and_mentions_warns() {
    let file = fixture("fr-otc-ad.txt");
    let (output, _dir) = without_workspace(&[
        "check-draft",
        "--file",
        &file,
        "--countries",
        "FR",
        "--audience",
        "public",
        "--product",
        "Doloxa=otc",
        "--visa",
        "GP-26-001",
        "--sponsored",
        "--json",
    ]);
    let report = json(&output);
    assert_eq!(report["status"], "WARN", "{report}");
    assert_eq!(output.status.code(), Some(0));
    let rules: Vec<&str> =
        report["findings"].as_array().unwrap().iter().filter_map(|f| f["rule"].as_str()).collect();
    assert!(
        !rules.iter().any(|rule| ["C-03", "C-04", "C-27", "CMP-0d"].contains(rule)),
        "{rules:?}"
    );
    assert!(report["needs_review"].as_array().unwrap().iter().any(|item| item["rule"] == "C-07"));
}

#[test]
fn check_draft_plan_checks_every_row_and_reports_bad_rows_with_their_line() {
    let plan = fixture("plan.csv");
    let (output, _dir) = without_workspace(&["check-draft", "--plan", &plan, "--json"]);
    assert_eq!(output.status.code(), Some(1), "some rows block");
    let rows = json(&output);
    let rows = rows.as_array().unwrap();
    let status = |line: u64| {
        let row = rows.iter().find(|row| row["line"] == line).unwrap();
        row["status"].as_str().unwrap().to_owned()
    };
    assert_eq!(rows.len(), 9);
    assert_eq!(status(2), "WARN");
    assert_eq!(status(3), "BLOCK");
    assert_eq!(status(4), "BLOCK");
    assert_eq!(status(5), "BLOCK");
    assert_eq!(status(6), "WARN");
    for line in [7, 8, 9, 10] {
        assert_eq!(status(line), "ERROR", "line {line}");
    }
    let late = rows.iter().find(|row| row["line"] == 4).unwrap();
    assert!(late["rules"].as_array().unwrap().iter().any(|rule| rule == "CMP-0d"));
    let bad = rows.iter().find(|row| row["line"] == 7).unwrap();
    assert!(bad["error"].as_str().unwrap().contains("audience"));
    // The table.
    let (output, _dir) = without_workspace(&["check-draft", "--plan", &plan]);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("2026-12-02") && text.contains("C-01"), "{text}");
    // A plan without the required columns is an error naming them.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "when,text\n2026-01-01,hello\n").unwrap();
    let (output, _dir) = without_workspace(&["check-draft", "--plan", bad.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("date, channel"));
}

#[test]
fn check_draft_forecasts_from_the_own_posts_of_a_workspace() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ws");
    let out_text = out.to_string_lossy().into_owned();
    let generated = std::process::Command::new(binary())
        .args(["generate", "--posts", "3000", "--seed", "7", "--out", &out_text])
        .output()
        .unwrap();
    assert!(generated.status.success(), "{}", String::from_utf8_lossy(&generated.stderr));
    let workspace = Workspace { dir };
    let pattern = format!("{out_text}/*.jsonl");
    let import = std::process::Command::new(binary())
        .args(["--workspace", &out_text, "import", &pattern])
        .output()
        .unwrap();
    assert!(import.status.success(), "{}", String::from_utf8_lossy(&import.stderr));
    let output = std::process::Command::new(binary())
        .args([
            "--workspace",
            &out_text,
            "check-draft",
            "--text",
            "Living with high blood pressure? Join our webinar to learn more #HeartHealth",
            "--countries",
            "FR",
            "--audience",
            "public",
            "--media",
            "image",
            "--json",
        ])
        .output()
        .unwrap();
    let report = json(&output);
    let forecast = &report["forecast"];
    assert!(forecast.is_object(), "{report}");
    assert_eq!(forecast["advisory"], true);
    let percentile = forecast["percentile"].as_f64().unwrap();
    assert!((0.0..=100.0).contains(&percentile));
    assert!(forecast["r2"].is_number());
    assert_eq!(forecast["features"].as_array().unwrap().len(), 12);
    assert!(forecast["posts"].as_u64().unwrap() >= 20);
    drop(workspace);
}
