//! `waterline report` and `waterline eval topics`, end to end through the binary.

use crate::support::{Workspace, binary};

fn keys(value: &serde_json::Value) -> Vec<String> {
    let mut keys: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    keys
}

#[test]
fn the_generated_scenario_shows_its_planted_gaps_and_frosty_posts() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("scenario");
    let generate = std::process::Command::new(binary())
        .args(["generate", "--posts", "50000", "--out", scenario.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(generate.status.success(), "{}", String::from_utf8_lossy(&generate.stderr));
    let workspace = Workspace { dir: tempfile::TempDir::new_in(dir.path()).unwrap() };
    std::fs::copy(scenario.join("waterline.toml"), workspace.path().join("waterline.toml"))
        .unwrap();
    let pattern = format!("{}/*.jsonl", scenario.display());
    workspace.import(&[&pattern]);
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(scenario.join("truth.json")).unwrap())
            .unwrap();

    let listening = workspace.json(&["report", "listening"]);
    for key in [
        "period",
        "posts",
        "audience_posts",
        "embedding",
        "outlier_share",
        "topics",
        "unmet_needs",
        "notes",
    ] {
        assert!(listening.get(key).is_some(), "listening lacks `{key}`");
    }
    assert!(listening["topics"].as_array().unwrap().len() >= 5);
    assert!(listening["outlier_share"].as_f64().unwrap() < 0.5);
    assert!(workspace.path().join(".waterline/topics.json").exists());
    // The import computed the default reports (ADR 016); what the cache answers is what a
    // fresh computation gives.
    let cache = workspace.path().join(".waterline/cache/reports");
    let kept = std::fs::read_dir(&cache).unwrap().count();
    assert_eq!(kept, 6, "each kind over all time and over the last 90 days");
    std::fs::remove_dir_all(&cache).unwrap();
    assert_eq!(workspace.json(&["report", "listening"]), listening, "cached = computed");
    // Topic ids are stable from run to run.
    let again = workspace.json(&["report", "listening"]);
    let ids = |report: &serde_json::Value| -> Vec<(u64, String)> {
        report["topics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| (t["id"].as_u64().unwrap(), t["label"].as_str().unwrap().to_owned()))
            .collect()
    };
    assert_eq!(ids(&listening), ids(&again));
    // Posts carry their topic in the store: the `topic_id` column, queried like any other.
    let stored = workspace.json(&["topics", "list"]);
    let listed: u64 =
        stored["topics"].as_array().unwrap().iter().map(|t| t["posts"].as_u64().unwrap()).sum();
    assert!(listed > 20_000, "{listed} posts with a topic");
    // A new subject arrives: it becomes a new topic, the old ids keep their labels.
    let model: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(workspace.path().join(".waterline/topics.json")).unwrap(),
    )
    .unwrap();
    let next_id = model["next_id"].as_u64().unwrap();
    let subjects = ["marathon", "running shoes", "half marathon", "trail running"];
    let mut lines = String::new();
    for i in 0..60 {
        let subject = subjects[i % subjects.len()];
        lines.push_str(&format!(
            "{{\"platform\":\"mastodon\",\"id\":\"new-subject-{i}\",\"author_handle\":\"runner{i}@example.social\",\"created_at\":\"2026-10-2{}T10:00:00Z\",\"text\":\"Training for my {subject}: new running shoes, long runs and race pace, week {i}\"}}\n",
            i % 9
        ));
    }
    let extra = workspace.write("new-subject.jsonl", lines.as_bytes());
    workspace.import(&[&extra]);
    let later = workspace.json(&["report", "listening"]);
    let later_ids = ids(&later);
    for old in ids(&listening) {
        assert!(later_ids.contains(&old), "{old:?} changed");
    }
    let new_topics: Vec<&(u64, String)> =
        later_ids.iter().filter(|(id, _)| *id >= next_id).collect();
    assert!(
        new_topics.iter().any(|(_, label)| label.contains("run") || label.contains("marathon")),
        "{new_topics:?}"
    );
    let needs = listening["unmet_needs"].as_array().unwrap();
    assert!(
        needs
            .iter()
            .any(|need| need["need"] == "question" && need["answered"].as_u64().unwrap() > 0)
    );

    let gap = workspace.json(&["report", "gap"]);
    let divergence = gap["divergence"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&divergence) && divergence > 0.1, "{divergence}");
    let declared = gap["declared_topics"].as_array().unwrap();
    for neglected in truth["neglected_topics"].as_array().unwrap() {
        let row = declared
            .iter()
            .find(|row| row["name"] == *neglected)
            .unwrap_or_else(|| panic!("{neglected} missing"));
        assert_eq!(row["verdict"], "audience talks about this, you do not", "{row}");
    }

    let audit = workspace.json(&["report", "audit", "--audited", "100000"]);
    let labels: std::collections::HashMap<(String, String), String> = audit["audited"]
        .as_array()
        .unwrap()
        .iter()
        .map(|post| {
            (
                (
                    post["platform"].as_str().unwrap().to_owned(),
                    post["id"].as_str().unwrap().to_owned(),
                ),
                post["reception"]["label"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let mut checked = 0;
    for frosty in truth["frosty_posts"].as_array().unwrap() {
        let key = (
            frosty["platform"].as_str().unwrap().to_owned(),
            frosty["id"].as_str().unwrap().to_owned(),
        );
        let label = labels.get(&key).unwrap_or_else(|| panic!("{key:?} not audited"));
        if label != "not enough history" {
            assert_eq!(label, "frosty", "{key:?}");
            checked += 1;
        }
    }
    assert!(checked >= 5, "only {checked} planted frosty posts had enough history");
    assert!(audit["audited"][0]["reason"].as_str().unwrap().len() > 10);

    // A refit on purpose keeps the ids of the topics that live on and says what became of
    // the others; refitting again on the same posts keeps every id.
    let refit = workspace.json(&["topics", "refit"]);
    assert!(refit["rows"].as_u64().unwrap() >= 50_000, "{refit}");
    assert!(!refit["lineage"].as_array().unwrap().is_empty(), "{refit}");
    let refitted = workspace.json(&["report", "listening"]);
    assert!(refitted["topics"].as_array().unwrap().len() >= 5);
    let again = workspace.json(&["topics", "refit"]);
    assert!(again["born"].as_array().unwrap().is_empty(), "{again}");
    assert!(
        again["lineage"].as_array().unwrap().iter().all(|entry| entry["fate"] == "kept"),
        "{again}"
    );
    assert_eq!(ids(&refitted), ids(&workspace.json(&["report", "listening"])));

    // Dates narrow the period; the table output is readable text.
    let narrow =
        workspace.json(&["report", "listening", "--from", "2026-09-01", "--to", "2026-09-30"]);
    assert!(narrow["posts"].as_u64().unwrap() < listening["posts"].as_u64().unwrap());
    let text = workspace.ok(&["report", "gap"]);
    assert!(text.contains("Jensen–Shannon divergence"));
}

#[test]
fn a_workspace_with_too_little_data_says_so() {
    let workspace = Workspace::new();
    for kind in ["listening", "gap", "audit"] {
        let report = workspace.json(&["report", kind]);
        let notes = report["notes"].as_array().unwrap();
        assert!(
            notes.iter().any(|note| note.as_str().unwrap().contains("too little data")),
            "{report}"
        );
    }
}

#[test]
fn eval_topics_prints_the_documented_keys() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tweets.jsonl");
    let mut lines = String::new();
    let subjects = [
        ("sports", "the match tonight was amazing, what a goal by the striker"),
        ("music", "new album dropped, the songs and the guitar are incredible"),
        ("food_&_dining", "best pizza and pasta dinner at the new restaurant downtown"),
    ];
    for round in 0..6 {
        for (label, text) in subjects {
            let flags: Vec<String> = subjects
                .iter()
                .map(|(other, _)| format!("\"{other}\":{}", u8::from(*other == label)))
                .collect();
            lines.push_str(&format!("{{\"text\":\"{text} {round}\",{}}}\n", flags.join(",")));
        }
    }
    std::fs::write(&path, lines).unwrap();
    let output = std::process::Command::new(binary())
        .args(["eval", "topics", "--jsonl", path.to_str().unwrap(), "--json"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(keys(&value), ["ari", "docs_per_s", "n", "nmi", "outlier_share", "topics"]);
    assert!(value["nmi"].as_f64().unwrap() > 0.5, "{value}");
}
