//! The pharmacovigilance queue end to end (PHARMA.md PV-1 to PV-16, AUD-1 to AUD-3,
//! SCOPE-1): screening at import, the reviewers' actions on the command line and over
//! HTTP, clocks, exports, reconciliation, coverage, roles, and the log surviving kills.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use crate::server::Server;
use crate::support::{binary, repository};

/// A copy of `testdata/pv-queue` with its posts imported.
fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for name in ["waterline.toml", "posts.jsonl", "receipts.csv"] {
        std::fs::copy(repository().join("testdata/pv-queue").join(name), dir.path().join(name))
            .unwrap();
    }
    let out = run(dir.path(), &["import", "posts.jsonl"]);
    assert!(out.contains("flagged for pharmacovigilance review"), "{out}");
    dir
}

fn run_raw(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(binary())
        .arg("--workspace")
        .arg(dir)
        .args(args)
        .current_dir(dir)
        .env("WATERLINE_USER", "reviewer-1")
        .output()
        .unwrap()
}

fn run(dir: &Path, args: &[&str]) -> String {
    let output = run_raw(dir, args);
    assert!(
        output.status.success(),
        "waterline {args:?}: {}\n{}",
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn json_of(dir: &Path, args: &[&str]) -> Value {
    let text = run(dir, args);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {text}"))
}

/// Cases by post id.
fn cases(dir: &Path) -> BTreeMap<String, Value> {
    json_of(dir, &["pv", "list", "--all", "--json"])
        .as_array()
        .unwrap()
        .iter()
        .map(|case| (case["post"]["id"].as_str().unwrap().to_owned(), case.clone()))
        .collect()
}

#[test]
fn pv_1_posts_about_company_products_are_screened_and_b3_negatives_are_not_queued() {
    let dir = workspace();
    let cases = cases(dir.path());
    // Adverse event on an owned channel, serious, pregnancy, French, overdose.
    for id in ["101", "102", "103", "104", "110"] {
        assert!(cases.contains_key(id), "post {id} is not queued: {:?}", cases.keys());
    }
    // PHARMA.md b.3: indication only, corporate news, a competitor's product, no product.
    for id in ["105", "106", "107", "108"] {
        assert!(!cases.contains_key(id), "post {id} must not be queued");
    }
    // The brand's own post is never a report.
    assert!(!cases.contains_key("100"));
    let serious = &cases["102"];
    assert_eq!(serious["serious"], true, "{serious}");
    assert!(serious["categories"].as_array().unwrap().iter().any(|c| c == "SAE"));
    assert!(cases["103"]["categories"].as_array().unwrap().iter().any(|c| c == "PREG"));
    assert!(cases["110"]["categories"].as_array().unwrap().iter().any(|c| c == "OD"));
    // PV-1 iii: the four elements, each present, absent or uncertain.
    for case in cases.values() {
        for element in ["patient", "reporter", "product", "reaction"] {
            let presence = case["elements"][element].as_str().unwrap();
            assert!(["present", "absent", "uncertain"].contains(&presence), "{presence}");
        }
    }
    assert_eq!(cases["101"]["elements"]["product"], "present");
    // PV-8: serious cases come first in the queue.
    let queue = json_of(dir.path(), &["pv", "list", "--json"]);
    assert_eq!(queue[0]["serious"], true, "{}", queue[0]);
}

#[test]
fn pv_4_day_zero_is_the_publication_on_owned_channels_and_the_capture_elsewhere() {
    let dir = workspace();
    let cases = cases(dir.path());
    let owned = &cases["101"];
    assert_eq!(owned["post"]["channel"], "x/@brandixcare");
    assert_eq!(owned["day_zero"], "2026-01-09T14:00:00Z");
    // Friday 9 January: 15 or 90 calendar days, hand-off by the end of Monday.
    assert_eq!(owned["clocks"]["handoff_due"], "2026-01-12");
    assert_eq!(owned["clocks"]["day_zero"], "2026-01-09");
    let captured = &cases["102"];
    assert!(captured["post"]["channel"].is_null());
    assert_eq!(captured["day_zero"], captured["captured_at"]);
    // Old owned-channel case never forwarded: breached.
    let kinds: Vec<&str> =
        owned["alerts"].as_array().unwrap().iter().map(|a| a["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"handoff-breach") && kinds.contains(&"due-breach"), "{kinds:?}");
}

#[test]
fn scope_4_public_posts_enter_the_same_workflow_and_coverage_is_not_claimed() {
    let dir = workspace();
    let cases = cases(dir.path());
    // A public post (not on an owned channel) naming the product: the same queue, the
    // same clocks, day zero at capture.
    let public = &cases["102"];
    assert!(public["post"]["channel"].is_null());
    assert_eq!(public["status"], "new");
    assert!(public["clocks"]["handoff_due"].is_string());
    // The coverage report lists owned channels only: public listening claims nothing.
    let coverage = json_of(dir.path(), &["pv", "coverage", "--json"]);
    assert!(coverage.as_array().unwrap().iter().all(|c| c["name"] != "x"));
}

#[test]
fn ml_4_the_false_negative_audit_samples_unflagged_posts_and_measures_the_rate() {
    let dir = workspace();
    let path = dir.path();
    let sample = json_of(path, &["pv", "sample", "--size", "2", "--days", "30", "--json"]);
    assert_eq!(sample["size"], 2);
    let flagged = cases(path);
    let items = sample["items"].as_array().unwrap();
    for item in items {
        let id = item["post"].as_str().unwrap().split(':').nth(1).unwrap();
        assert!(!flagged.contains_key(id), "a flagged post is not sampled");
    }
    // The reviewer finds an adverse event in the first sampled post and opens a case
    // (SCOPE-4: a person's finding enters the same workflow).
    let first = items[0]["post"].as_str().unwrap().to_owned();
    run(path, &["pv", "open", &first, "--reason", "FN audit", "--category", "AE"]);
    let again = run_raw(path, &["pv", "open", &first, "--reason", "twice"]);
    assert!(!again.status.success());
    let listed = json_of(path, &["pv", "sample", "--list", "--json"]);
    assert_eq!(listed[0]["false_negatives"], 1);
    assert_eq!(listed[0]["rate"], 0.5);
    let opened = cases(path);
    let id = first.split(':').nth(1).unwrap();
    let case = &opened[id];
    assert!(case["categories"].as_array().unwrap().iter().any(|c| c == "AE"));
    assert!(case["day_zero_basis"].as_str().unwrap().contains("opened by hand: FN audit"));
    assert!(run_raw(path, &["pv", "open", "x:nope", "--reason", "r"]).status.code() != Some(0));
}

#[test]
fn pv_16_media_only_replies_on_owned_channels_are_queued_for_a_person() {
    let dir = workspace();
    let cases = cases(dir.path());
    let media = &cases["109"];
    assert!(media["categories"].as_array().unwrap().iter().any(|c| c == "MEDIA"), "{media}");
}

#[test]
fn pv_13_a_repeated_post_is_linked_to_the_first_case() {
    let dir = workspace();
    let cases = cases(dir.path());
    let first = cases["101"]["id"].as_str().unwrap();
    assert_eq!(cases["111"]["duplicate_of"], first, "{}", cases["111"]);
}

#[test]
fn pv_2_pv_3_aud_1_reviewer_actions_are_validated_logged_and_replayable() {
    let dir = workspace();
    let path = dir.path();
    let before = cases(path);
    let id = before["101"]["id"].as_str().unwrap().to_owned();
    // PV-2: closing needs a reason code.
    let refused = run_raw(path, &["pv", "decide", &id, "--status", "not_a_case"]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("reason code"));
    let unknown = run_raw(path, &["pv", "decide", "pv-000000000000", "--status", "in_review"]);
    assert!(!unknown.status.success());
    // Opening a case is recorded (AUD-2), and so is everything else.
    let shown = json_of(path, &["pv", "show", &id, "--json"]);
    // The actor is the operating-system user; the declared name follows it.
    let viewer = shown["case"]["first_viewed"][1].as_str().unwrap();
    assert!(viewer.starts_with("cli:") && viewer.ends_with(" as reviewer-1"), "{viewer}");
    run(path, &["pv", "assign", &id, "--to", "alice"]);
    run(path, &["pv", "follow-up", &id, "--note", "replied with the PV contact template"]);
    run(path, &["pv", "decide", &id, "--status", "pending_follow_up"]);
    run(path, &["pv", "decide", &id, "--status", "forwarded", "--reference", "SDB-2026-0001"]);
    assert!(!before.contains_key("106"), "news is not a case");
    let second = before["102"]["id"].as_str().unwrap().to_owned();
    run(path, &["pv", "decide", &second, "--status", "not_a_case", "--reason", "hypothetical"]);
    let after = cases(path);
    let case = &after["101"];
    assert_eq!(case["status"], "forwarded");
    assert_eq!(case["assignee"], "alice");
    assert_eq!(case["follow_ups"].as_array().unwrap().len(), 1);
    assert!(case["follow_ups"][0]["actor"].as_str().unwrap().ends_with(" as reviewer-1"));
    assert_eq!(case["forward_reference"], "SDB-2026-0001");
    assert!(case["alerts"].as_array().unwrap().is_empty(), "forwarded: no clock alert");
    assert_eq!(after["102"]["reason"], "hypothetical");
    // AUD-1: the log holds every step, in order, and nothing else changes the state.
    let log: Vec<Value> = run(path, &["pv", "log", &id, "--json"])
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let kinds: Vec<&str> = log.iter().map(|event| event["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        ["captured", "viewed", "assigned", "follow_up", "decided", "decided"],
        "{log:?}"
    );
    // Importing the same posts again opens no case and changes none (PV-2: never closed
    // or reset by a machine).
    run(path, &["import", "posts.jsonl"]);
    run(path, &["pv", "scan"]);
    let again = cases(path);
    assert_eq!(again.len(), after.len());
    assert_eq!(again["101"]["status"], "forwarded");
}

#[test]
fn aud_3_reconciliation_and_exports_carry_the_four_elements() {
    let dir = workspace();
    let path = dir.path();
    // Produced when nothing was forwarded (AUD-3).
    let empty = json_of(path, &["pv", "reconcile", "--json"]);
    assert_eq!(empty["forwarded"], 0);
    let id = cases(path)["101"]["id"].as_str().unwrap().to_owned();
    run(path, &["pv", "decide", &id, "--status", "forwarded", "--reference", "SDB-2026-0001"]);
    let report = json_of(path, &["pv", "reconcile", "--receipts", "receipts.csv", "--json"]);
    assert_eq!(report["forwarded"], 1);
    assert_eq!(report["acknowledged"], 1);
    assert_eq!(report["unknown_to_waterline"], json!(["SDB-2026-0999"]));
    let csv = run(path, &["pv", "export", "--format", "csv"]);
    let header = csv.lines().next().unwrap();
    for column in ["patient", "reporter", "product", "reaction", "reaction_evidence", "day_zero"] {
        assert!(header.split(',').any(|c| c == column), "{column} in {header}");
    }
    assert!(csv.lines().count() > 5);
    let exported = json_of(path, &["pv", "export", "--format", "json"]);
    assert_eq!(exported["format"], "waterline-pv-export/1");
    let first = &exported["cases"][0];
    for element in ["patient", "reporter", "product", "reaction"] {
        assert!(first["minimum_elements"][element]["presence"].is_string(), "{first}");
    }
}

#[test]
fn scope_1_owned_channels_have_coverage_and_a_gap_raises_an_alert() {
    let dir = workspace();
    let coverage = json_of(dir.path(), &["pv", "coverage", "--json"]);
    let channels: BTreeMap<&str, &Value> =
        coverage.as_array().unwrap().iter().map(|c| (c["name"].as_str().unwrap(), c)).collect();
    assert_eq!(channels["x/@brandixcare"]["posts"], 3);
    assert_eq!(channels["x/@brandixcare"]["gap"], false, "just ingested");
    assert_eq!(channels["Brandix patient website"]["gap"], true, "never ingested");
    let alerts = json_of(dir.path(), &["pv", "alerts", "--json"]);
    assert!(
        alerts.as_array().unwrap().iter().any(|alert| alert["kind"] == "coverage-gap"
            && alert["channel"] == "Brandix patient website")
    );
}

#[test]
fn pv_15_the_queue_over_http_is_for_pv_reviewers_and_every_action_is_audited() {
    let dir = workspace();
    let server = Server::start_in(dir, &[]);
    let viewer = server.token("viewer");
    let analyst = server.token("analyst");
    let reviewer = server.token("pv-reviewer");
    let admin = server.token("admin");
    for token in [&viewer, &analyst] {
        let reply = server.request("GET", "/api/v1/pv/cases", Some(token), None);
        assert_eq!(reply.status, 403, "{}", reply.text());
    }
    // Anonymous on loopback reads the dashboard, not the queue.
    assert_eq!(server.get("/api/v1/pv/cases").status, 401);
    let page = server.get("/pharmacovigilance");
    assert_eq!(page.status, 200);
    assert!(page.text().contains("pv-forbidden"));
    let queue = server.request("GET", "/api/v1/pv/cases", Some(&reviewer), None).json();
    let cases = queue["cases"].as_array().unwrap();
    assert!(cases.len() >= 5, "{queue}");
    let id = cases[0]["id"].as_str().unwrap();
    let opened = server.request("GET", &format!("/api/v1/pv/cases/{id}"), Some(&reviewer), None);
    assert_eq!(opened.status, 200);
    assert!(opened.json()["case"]["first_viewed"][1].is_string());
    let path = format!("/api/v1/pv/cases/{id}/actions");
    let bad = server.post_json(
        &path,
        Some(&reviewer),
        &json!({"action": "decide", "status": "not_a_case"}),
    );
    assert_eq!(bad.status, 400, "{}", bad.text());
    let good = server.post_json(&path, Some(&reviewer), &json!({"action": "assign", "to": "bob"}));
    assert_eq!(good.status, 200, "{}", good.text());
    assert_eq!(good.json()["assignee"], "bob");
    let missing = server.post_json(
        "/api/v1/pv/cases/pv-000000000000/actions",
        Some(&reviewer),
        &json!({"action": "view"}),
    );
    assert_eq!(missing.status, 404);
    let audit = server.request("GET", "/api/v1/audit", Some(&admin), None).json();
    assert!(audit.to_string().contains("pv.assign"), "{audit}");
    let csv = server.request("GET", "/api/v1/pv/export?format=csv", Some(&reviewer), None);
    assert_eq!(csv.status, 200);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    let reconciliation = server.request("GET", "/api/v1/pv/reconciliation", Some(&reviewer), None);
    assert_eq!(reconciliation.json()["forwarded"], 0);
    let alerts = server.request("GET", "/api/v1/alerts", Some(&viewer), None).json();
    assert!(!alerts["alerts"].as_array().unwrap().is_empty());
    assert!(alerts["rules"].as_array().unwrap().len() >= 4);
    // The page for a reviewer: the queue, and one case with its evidence and actions.
    let page = server.request("GET", "/pharmacovigilance", Some(&reviewer), None);
    assert!(page.text().contains(id), "{}", page.text());
    let case_page =
        server.request("GET", &format!("/pharmacovigilance?case={id}"), Some(&reviewer), None);
    let html = case_page.text();
    assert!(html.contains("<mark") && html.contains("pv-action"), "{html}");
    let alerts_page = server.get("/alerts");
    assert!(alerts_page.text().contains("alerts-summary"));
    // The draft check over HTTP and on its page: the product's status comes from the
    // workspace (Brandix is a POM in GB), "safe" is C-08 whatever the metadata.
    let draft =
        json!({"text": "Brandix is safe for everyone", "countries": ["GB"], "audience": "public"});
    let checked = server.post_json("/api/v1/drafts/check", Some(&viewer), &draft);
    assert_eq!(checked.status, 200, "{}", checked.text());
    let checked = checked.json();
    assert_eq!(checked["status"], "BLOCK");
    let rules: Vec<&str> = checked["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"C-01") && rules.contains(&"C-08"), "{rules:?}");
    let bad = server.post_json("/api/v1/drafts/check", Some(&viewer), &json!({"countries": "GB"}));
    assert_eq!(bad.status, 400);
    let page = server.get("/drafts?text=Brandix+is+safe+for+everyone&countries=GB&audience=public");
    assert_eq!(page.status, 200);
    let html = page.text();
    assert!(html.contains(r#"data-status="BLOCK""#) && html.contains("C-08"), "{html}");
    assert!(server.get("/drafts").text().contains("draft-empty"));
}

#[test]
fn aud_1_a_kill_at_any_point_leaves_one_case_per_flagged_post_with_its_log() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    std::fs::copy(
        repository().join("testdata/pv-queue/waterline.toml"),
        path.join("waterline.toml"),
    )
    .unwrap();
    let texts = [
        "Two days on Brandix and I've had a pounding headache ever since.",
        "Ended up in A&E overnight after my Brandix shot, couldn't breathe.",
        "Accidentally took 4 Brandix instead of 1 this morning.",
        "I take Brandix for my blood pressure.",
    ];
    let mut lines = String::new();
    for index in 0..6000 {
        let text = texts[index % texts.len()];
        lines.push_str(
            &json!({"platform": "x", "id": format!("k{index}"), "author_handle": format!("user{index}"),
                "created_at": "2026-02-02T10:00:00Z", "text": text})
            .to_string(),
        );
        lines.push('\n');
    }
    std::fs::write(path.join("many.jsonl"), lines).unwrap();
    for delay in [150, 400, 900] {
        let mut child = Command::new(binary())
            .arg("--workspace")
            .arg(path)
            .args(["import", "many.jsonl", "--batch-size", "500"])
            .current_dir(path)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay));
        let _ = child.kill();
        let _ = child.wait();
    }
    run(path, &["import", "many.jsonl"]);
    run(path, &["pv", "scan"]);
    // Every case has its `captured` event and exactly one; no post has two cases.
    let log: Vec<Value> = run(path, &["pv", "log", "--json"])
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let mut captured: BTreeMap<String, usize> = BTreeMap::new();
    for event in &log {
        if event["type"] == "captured" {
            *captured.entry(event["post"]["id"].as_str().unwrap().to_owned()).or_default() += 1;
        }
    }
    assert!(captured.values().all(|count| *count == 1));
    let listed = cases(path);
    assert_eq!(listed.len(), captured.len());
    // Three texts in four are flagged, and the indication-only one is not.
    assert_eq!(listed.len(), 4500, "one case per flagged post");
    assert!(listed.keys().all(|id| id[1..].parse::<usize>().unwrap() % 4 != 3));
}

#[test]
fn ml_2_the_generated_scenario_queues_every_planted_adverse_event_at_realistic_prevalence() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let generate = Command::new(binary())
        .args(["generate", "--posts", "20000", "--seed", "7", "--out", out])
        .output()
        .unwrap();
    assert!(generate.status.success(), "{}", String::from_utf8_lossy(&generate.stderr));
    run(dir.path(), &["import", &format!("{out}/*.jsonl")]);
    let truth: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("truth.json")).unwrap())
            .unwrap();
    let planted: Vec<String> = truth["adverse_event_posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|post| {
            format!("{}:{}", post["platform"].as_str().unwrap(), post["id"].as_str().unwrap())
        })
        .collect();
    assert!(planted.len() >= 30, "{}", planted.len());
    let queued: std::collections::BTreeSet<String> =
        json_of(dir.path(), &["pv", "list", "--all", "--json"])
            .as_array()
            .unwrap()
            .iter()
            .map(|case| {
                format!(
                    "{}:{}",
                    case["post"]["platform"].as_str().unwrap(),
                    case["post"]["id"].as_str().unwrap()
                )
            })
            .collect();
    let missed: Vec<&String> = planted.iter().filter(|key| !queued.contains(*key)).collect();
    let extra = queued.len() - (planted.len() - missed.len());
    eprintln!(
        "generated scenario: {} planted adverse-event posts, {} queued, {} missed, {} other posts queued",
        planted.len(),
        queued.len(),
        missed.len(),
        extra
    );
    // ML-1: recall first. Every planted post is queued ...
    assert!(missed.is_empty(), "missed planted adverse events: {missed:?}");
    // ... and the queue is not flooded by the general talk about side effects around them.
    assert!(
        extra <= planted.len() * 2,
        "{extra} posts queued beyond the {} planted",
        planted.len()
    );
}

/// ML-3, docs/adr/011-optional-sentence-encoder.md: the encoder layer is an option. A binary
/// built without it says how to get it when asked for it, and a workspace that configures
/// it still screens with the fast detector (the error is logged; each case records which
/// detector read it, AUD-1).
#[test]
fn ml_3_the_optional_encoder_layer_is_refused_clearly_without_the_feature() {
    if cfg!(feature = "encoder") {
        eprintln!("skipped: this test binary was built with the encoder feature");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let eval = Command::new(binary())
        .args(["eval", "adverse-events", "--french"])
        .arg(repository().join("testdata/pv/fr-test.tsv"))
        .args(["--encoder", "/nonexistent/minilm"])
        .output()
        .unwrap();
    assert!(!eval.status.success());
    let stderr = String::from_utf8_lossy(&eval.stderr);
    assert!(stderr.contains("--features encoder"), "{stderr}");

    for name in ["waterline.toml", "posts.jsonl"] {
        std::fs::copy(repository().join("testdata/pv-queue").join(name), dir.path().join(name))
            .unwrap();
    }
    let config = std::fs::read_to_string(dir.path().join("waterline.toml")).unwrap();
    let config = if config.contains("[pharmacovigilance]") {
        config.replace(
            "[pharmacovigilance]",
            "[pharmacovigilance]\nencoder = \"/nonexistent/minilm\"",
        )
    } else {
        format!("{config}\n[pharmacovigilance]\nencoder = \"/nonexistent/minilm\"\n")
    };
    std::fs::write(dir.path().join("waterline.toml"), config).unwrap();
    let import = run_raw(dir.path(), &["import", "posts.jsonl"]);
    assert!(import.status.success(), "{}", String::from_utf8_lossy(&import.stderr));
    let stderr = String::from_utf8_lossy(&import.stderr);
    assert!(stderr.contains("encoder layer is off"), "{stderr}");
    let cases = json_of(dir.path(), &["pv", "list", "--all", "--json"]);
    let cases = cases.as_array().unwrap();
    assert!(!cases.is_empty());
    assert!(cases.iter().all(|case| !case["model"].as_str().unwrap().contains("encoder")));
}

/// ML-3: the fine-tuned classifier (ADR 013) is refused clearly by a binary built without
/// the `encoder` feature: evaluation and training name the build (the workspace setting is
/// the one of the test above).
#[test]
fn ml_3_the_fine_tuned_classifier_is_refused_clearly_without_the_feature() {
    if cfg!(feature = "encoder") {
        eprintln!("skipped: this test binary was built with the encoder feature");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let french = repository().join("testdata/pv/fr-test.tsv");
    let french = french.to_string_lossy().into_owned();
    for args in [
        vec!["eval", "adverse-events", "--french", &french, "--fine-tuned", "/nonexistent/pv"],
        vec!["train", "adverse-events-classifier", "--model", "/nonexistent/m", "--out", "x"],
    ] {
        let output = run_raw(dir.path(), &args);
        assert!(!output.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("--features encoder"), "{args:?}: {stderr}");
    }
    assert!(!dir.path().join("x").exists());
}
