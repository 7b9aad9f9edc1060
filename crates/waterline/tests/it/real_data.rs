//! Imports of the real exports in `../shared/data` with the documented mappings.

use crate::support::{Workspace, repository, shared_data};

#[test]
fn french_media_imports_with_followers_from_the_accounts_file() {
    let Some(data) = shared_data() else { return };
    let workspace = Workspace::new();
    let mappings = repository().join("testdata/mappings");
    let accounts = workspace.import(&[
        data.join("engagement/french-media/author.csv").to_str().unwrap(),
        "--mapping",
        mappings.join("french-media-accounts.toml").to_str().unwrap(),
    ]);
    assert_eq!(accounts[4], accounts[0], "every account row is an `other` record");
    let tweets = [
        data.join("engagement/french-media/Tweets_1350.csv").to_string_lossy().into_owned(),
        data.join("engagement/french-media/Tweets_2800.csv").to_string_lossy().into_owned(),
    ];
    let mapping = mappings.join("french-media-tweets.toml");
    let counts =
        workspace.import(&[&tweets[0], &tweets[1], "--mapping", mapping.to_str().unwrap()]);
    assert_eq!(counts[0], 4150);
    assert_eq!(counts[5], 0, "no rejects");
    assert_eq!(counts[1] + counts[2] + counts[3], 4150);
    assert_eq!(counts[2] + counts[3], 198, "the 198 tweets in both files are not duplicated");
    let posts = workspace.sql("SELECT count(*) AS n FROM posts");
    assert_eq!(posts[0]["n"], 3952);
    let with_followers = workspace.sql("SELECT count(*) AS n FROM posts WHERE author_followers IS NOT NULL AND author_handle IS NOT NULL");
    assert!(with_followers[0]["n"].as_u64().unwrap() > 3000, "{with_followers:?}");
    let lemonde = workspace
        .sql("SELECT author_followers FROM posts WHERE author_handle = 'lemondefr' LIMIT 1");
    assert_eq!(lemonde[0]["author_followers"], 10125109);
    // A second import of the same files changes nothing.
    let again = workspace.import(&[&tweets[0], &tweets[1], "--mapping", mapping.to_str().unwrap()]);
    assert_eq!(again[3], 4150);
}

#[test]
fn freemobile_imports_with_its_mapping() {
    let Some(data) = shared_data() else { return };
    let workspace = Workspace::new();
    let mapping = repository().join("testdata/mappings/freemobile.toml");
    let file = data.join("engagement/freemobile-fr/free_tweet_export.csv");
    let counts =
        workspace.import(&[file.to_str().unwrap(), "--mapping", mapping.to_str().unwrap()]);
    assert_eq!(counts, [3764, 3764, 0, 0, 0, 0]);
    let rows = workspace.sql("SELECT author_handle, created_at FROM posts WHERE id = '000002'");
    assert_eq!(rows[0]["author_handle"], "Freebox");
    assert_eq!(rows[0]["created_at"], "2021-05-14T10:56:22Z");
}

#[test]
fn every_connector_payload_imports_without_a_fatal_error() {
    let Some(data) = shared_data() else { return };
    let payloads = data.join("connector-payloads");
    let workspace = Workspace::new();
    let mut files = Vec::new();
    // The captures of the formats Waterline reads today. The folders added for the
    // connectors issue (Facebook and Instagram Graph, YouTube Data API, PRAW cassettes, X API
    // v2 captures with error bodies and `.meta.json` files) are that conformance
    // suite, not this one's.
    let supported = [
        "bluesky-jetstream",
        "mastodon-api-docs",
        "reddit-api",
        "x-api-v2-postman",
        "x-archive-tweetjs",
        "x-v1.1",
    ];
    for entry in supported.iter().flat_map(|folder| walk(&payloads.join(folder))) {
        let name = entry.to_string_lossy().into_owned();
        if name.ends_with(".json") && !name.ends_with("_index.json")
            || name.ends_with(".jsonl")
            || name.ends_with(".js")
        {
            files.push(name);
        }
    }
    assert!(files.len() > 30, "{files:?}");
    let mut total_posts = 0;
    for file in &files {
        let counts = workspace.import(&[file]);
        total_posts += counts[1] + counts[2] + counts[3];
    }
    assert!(total_posts > 50, "{total_posts}");
    let platforms = workspace.sql("SELECT DISTINCT platform FROM posts ORDER BY platform");
    let names: Vec<_> =
        platforms.iter().map(|row| row["platform"].as_str().unwrap().to_owned()).collect();
    assert_eq!(names, ["bluesky", "mastodon", "reddit", "x"]);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                files.extend(walk(&path));
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// A workspace with one of the ready-made configurations under `testdata/workspaces/`.
fn workspace_with(config: &str) -> Workspace {
    let workspace = Workspace::new();
    std::fs::copy(
        repository().join("testdata/workspaces").join(config),
        workspace.path().join("waterline.toml"),
    )
    .unwrap();
    workspace
}

#[test]
fn freemobile_gives_a_listening_and_a_gap_report() {
    let Some(data) = shared_data() else { return };
    let workspace = workspace_with("freemobile.toml");
    let mapping = repository().join("testdata/mappings/freemobile.toml");
    let file = data.join("engagement/freemobile-fr/free_tweet_export.csv");
    workspace.import(&[file.to_str().unwrap(), "--mapping", mapping.to_str().unwrap()]);
    let listening = workspace.json(&["report", "listening"]);
    let topics = listening["topics"].as_array().unwrap();
    assert!(topics.len() >= 10, "{}", topics.len());
    assert!(listening["outlier_share"].as_f64().unwrap() < 0.2);
    // The audience of a telecom complains about its connection: the largest topics say so.
    let top: String =
        topics.iter().take(5).map(|t| t["label"].as_str().unwrap()).collect::<Vec<_>>().join(" ");
    assert!(top.contains("internet") || top.contains("fibre") || top.contains("box"), "{top}");
    assert!(listening["unmet_needs"].as_array().unwrap().iter().any(|n| n["need"] == "complaint"));
    let gap = workspace.json(&["report", "gap"]);
    assert!(gap["own_posts"].as_u64().unwrap() > 500, "{}", gap["own_posts"]);
    assert!(gap["divergence"].as_f64().unwrap() > 0.1);
    assert!(!gap["audience_not_you"].as_array().unwrap().is_empty());
}

#[test]
fn french_media_gives_an_audit() {
    let Some(data) = shared_data() else { return };
    let workspace = workspace_with("french-media.toml");
    let mappings = repository().join("testdata/mappings");
    workspace.import(&[
        data.join("engagement/french-media/author.csv").to_str().unwrap(),
        "--mapping",
        mappings.join("french-media-accounts.toml").to_str().unwrap(),
    ]);
    let tweets = data.join("engagement/french-media/Tweets_2800.csv");
    let mapping = mappings.join("french-media-tweets.toml");
    workspace.import(&[tweets.to_str().unwrap(), "--mapping", mapping.to_str().unwrap()]);
    let audit = workspace.json(&["report", "audit"]);
    let labels = &audit["labels"];
    for label in ["warm", "cool", "frosty"] {
        assert!(labels[label].as_u64().unwrap_or(0) > 100, "{labels}");
    }
    let post = audit["audited"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["reception"]["label"] == "warm")
        .unwrap();
    assert_eq!(post["reception"]["basis"], "followers");
    assert!(post["reason"].as_str().unwrap().contains("percentile"));
}
