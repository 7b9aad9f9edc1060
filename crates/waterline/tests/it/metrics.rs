//! `waterline query`, `metrics`, `baseline`, `compare`, `milestone` and `kpi`, end to end
//! through the binary: a hand-made workspace whose figures are worked out by hand, the
//! generated scenario's planted share of voice and spike, and the real data checks.

use std::collections::BTreeMap;

use crate::support::{Workspace, binary, repository, shared_data};

fn metrics_workspace() -> Workspace {
    let workspace = Workspace { dir: tempfile::tempdir().unwrap() };
    let testdata = repository().join("testdata/metrics");
    std::fs::copy(testdata.join("waterline.toml"), workspace.path().join("waterline.toml"))
        .unwrap();
    workspace.import(&[testdata.join("posts.jsonl").to_str().unwrap()]);
    workspace
}

/// The single row of a query without dimensions.
fn scalar(workspace: &Workspace, args: &[&str]) -> serde_json::Value {
    let mut full = vec!["query"];
    full.extend_from_slice(args);
    let answer = workspace.json(&full);
    answer["rows"][0].clone()
}

fn close(value: &serde_json::Value, expected: f64) {
    let actual = value.as_f64().unwrap_or_else(|| panic!("not a number: {value}"));
    assert!((actual - expected).abs() < 1e-3, "{actual} != {expected}");
}

#[test]
fn the_catalogue_declares_every_definition() {
    let output = std::process::Command::new(binary()).args(["metrics", "--json"]).output().unwrap();
    assert!(output.status.success());
    let catalogue: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let metrics = catalogue["metrics"].as_array().unwrap();
    assert!(metrics.len() >= 30, "{}", metrics.len());
    for metric in metrics {
        for key in ["name", "definition", "numerator", "denominator", "time_basis", "unit", "scope"]
        {
            assert!(metric.get(key).is_some(), "{metric} lacks {key}");
        }
    }
    let names: Vec<&str> = metrics.iter().map(|m| m["name"].as_str().unwrap()).collect();
    for name in [
        "engagement_rate_followers",
        "engagement_rate_impressions",
        "conversation_rate_per_1k",
        "interacting_audience",
        "interactors_10_plus",
        "returning_authors",
        "channel_share",
        "share_of_voice_negative",
        "response_rate",
        "first_response_business_hours_p90",
        "net_sentiment",
        "topic_share",
    ] {
        assert!(names.contains(&name), "{name} missing");
    }
}

#[test]
fn hand_made_figures() {
    let workspace = metrics_workspace();
    // Own originals: x/1 (20 engagements, 1,000 followers, 2,000 views), x/2 (30, 1,000, no
    // views), bluesky/3 (likes 5 + shares 5, quotes and replies unknown: 10, 500 followers),
    // reddit/4 (no count known: unknown engagements). x/11 is a reply.
    let row = scalar(
        &workspace,
        &[
            "--metrics",
            "posts,engagements,engagement_rate_followers,engagement_rate_followers_mean,engagement_rate_impressions,applause_rate,conversation_rate",
        ],
    );
    assert_eq!(row["posts"], 12, "posts counts every post");
    close(&row["engagements"], 60.0);
    close(&row["engagement_rate_followers"], 2.0); // median of 2, 3, 2
    close(&row["engagement_rate_followers_mean"], 7.0 / 3.0);
    close(&row["engagement_rate_impressions"], 1.0); // only x/1 has impressions
    close(&row["applause_rate"], 45.0 / 3.0); // likes known on three posts
    close(&row["conversation_rate"], 1.5); // replies known on x/1 (3) and x/2 (0)

    // Unknown is not zero: bluesky gives no impressions.
    let by_platform = workspace.json(&[
        "query",
        "--metrics",
        "engagement_rate_impressions,engagements",
        "--by",
        "platform",
    ]);
    let rows: BTreeMap<String, serde_json::Value> = by_platform["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["platform"].as_str().unwrap().to_owned(), r.clone()))
        .collect();
    assert!(rows["bluesky"]["engagement_rate_impressions"].is_null());
    assert!(rows["reddit"]["engagements"].is_null());
    close(&rows["bluesky"]["engagements"], 10.0);

    // Conversations 10, 12 and 13 are addressed to the brand (a mention, a mention, the
    // brand's name); 10 is answered the next morning: 16 calendar hours, and in business
    // hours (Paris, 09:00–18:00) Monday 17:30–18:00 plus Tuesday 09:00–09:30 = 1 hour.
    let row = scalar(
        &workspace,
        &[
            "--metrics",
            "inbound,response_rate,first_response_hours,first_response_business_hours,first_response_hours_p90",
        ],
    );
    assert_eq!(row["inbound"], 3);
    close(&row["response_rate"], 1.0 / 3.0);
    close(&row["first_response_hours"], 16.0);
    close(&row["first_response_hours_p90"], 16.0);
    close(&row["first_response_business_hours"], 1.0);
    let by_account =
        workspace.json(&["query", "--metrics", "inbound,response_rate", "--by", "account"]);
    // 10 was answered by acme, 12 @mentions it; 13 names the brand but no account.
    assert_eq!(by_account["rows"][0]["account"], "acme");
    assert_eq!(by_account["rows"][0]["inbound"], 2);
    assert_eq!(by_account["rows"][1]["account"], "unknown");

    // Share of voice among audience posts: the brand in 10, 12, 13; Rival in 13 and 14.
    let row = scalar(
        &workspace,
        &[
            "--metrics",
            "mentions,share_of_voice_mentions,interacting_audience,interactors_1,interactors_2_3,new_authors",
        ],
    );
    assert_eq!(row["mentions"], 3);
    close(&row["share_of_voice_mentions"], 0.6);
    assert_eq!(row["interacting_audience"], 2); // u1 (10, 13) and u2 (12)
    assert_eq!(row["interactors_1"], 1);
    assert_eq!(row["interactors_2_3"], 1);
    assert_eq!(row["new_authors"], 2);
    let panel = workspace.json(&[
        "query",
        "--metrics",
        "mentions,share_of_voice_mentions",
        "--by",
        "panel",
    ]);
    let rows = panel["rows"].as_array().unwrap();
    assert_eq!(
        (rows[0]["panel"].as_str(), rows[0]["mentions"].as_f64()),
        (Some("Acme"), Some(3.0))
    );
    assert_eq!(
        (rows[1]["panel"].as_str(), rows[1]["mentions"].as_f64()),
        (Some("Rival"), Some(2.0))
    );
    close(&rows[1]["share_of_voice_mentions"], 0.4);

    // Days are local: 29 March 2026 is 23 hours long in Paris; x/15 (23:30 UTC on the 28th)
    // and x/16 belong to it, x/17 (22:30 UTC on the 29th) to the 30th.
    let days = workspace.json(&[
        "query",
        "--metrics",
        "posts",
        "--by",
        "day",
        "--from",
        "2026-03-28",
        "--to",
        "2026-03-31",
    ]);
    let days: Vec<(String, u64)> = days["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["day"].as_str().unwrap().to_owned(), r["posts"].as_u64().unwrap()))
        .collect();
    assert_eq!(days, [("2026-03-29".to_owned(), 2), ("2026-03-30".to_owned(), 1)]);

    // An empty period: counts are 0, rates unknown.
    let row = scalar(
        &workspace,
        &[
            "--metrics",
            "posts,engagement_rate_followers,response_rate",
            "--from",
            "2025-01-01",
            "--to",
            "2025-01-31",
        ],
    );
    assert_eq!(row["posts"], 0);
    assert!(row["engagement_rate_followers"].is_null());
    assert!(row["response_rate"].is_null());

    // The daily rollup and the conversations cache answer what they can with the same
    // figures as a scan.
    for args in [
        vec![
            "--metrics",
            "posts,engagements,applause_rate,conversation_rate,share_of_voice_mentions,net_sentiment",
            "--by",
            "day,platform",
        ],
        vec![
            "--metrics",
            "mentions,share_of_voice_engagement,share_of_voice_negative",
            "--by",
            "panel,week",
        ],
        vec!["--metrics", "channel_share,channel_share_engagements", "--where", "side=own"],
        vec!["--metrics", "posts,engagements", "--by", "account", "--where", "side=own,competitor"],
        vec![
            "--metrics",
            "inbound,response_rate,first_response_hours,first_response_business_hours",
            "--by",
            "account",
        ],
        vec![
            "--metrics",
            "inbound,first_response_hours_p90",
            "--by",
            "week",
            "--where",
            "platform=x",
        ],
    ] {
        let mut rolled = vec!["query"];
        rolled.extend(args.iter().copied());
        let mut scanned = rolled.clone();
        scanned.push("--scan");
        assert_eq!(workspace.json(&rolled)["rows"], workspace.json(&scanned)["rows"], "{args:?}");
        let mut explain = rolled.clone();
        explain.push("--explain");
        let plan = workspace.ok(&explain);
        assert!(
            plan.contains("FROM rollup") || plan.contains("FROM conversations"),
            "{args:?} should use a cache: {plan}"
        );
    }

    // Errors name the problem; --explain prints the SQL without running it.
    let wrong = workspace.run(&["query", "--metrics", "likes_per_fortnight"]);
    assert!(!wrong.status.success());
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("waterline metrics"));
    let explain = workspace.ok(&[
        "query",
        "--metrics",
        "share_of_voice_mentions",
        "--by",
        "week",
        "--explain",
        "--scan",
    ]);
    assert!(explain.contains("array_has_any(entities"), "{explain}");
}

#[test]
fn baselines_stay_frozen_and_comparisons_carry_intervals() {
    let workspace = metrics_workspace();
    let created = workspace.json(&[
        "baseline",
        "create",
        "march",
        "--from",
        "2026-03-01",
        "--to",
        "2026-03-31",
    ]);
    let value = |baseline: &serde_json::Value, name: &str| {
        baseline["metrics"].as_array().unwrap().iter().find(|m| m["metric"] == name).unwrap()["value"].clone()
    };
    close(&value(&created, "engagements"), 60.0);
    // A second baseline of the same name is refused.
    assert!(
        !workspace
            .run(&["baseline", "create", "march", "--from", "2026-03-01", "--to", "2026-03-31"])
            .status
            .success()
    );
    // Later data (an April post, and x/1's likes growing) does not change the baseline...
    workspace.import(&[repository().join("testdata/metrics/later.jsonl").to_str().unwrap()]);
    let shown = workspace.json(&["baseline", "show", "march"]);
    let frozen =
        shown["metrics"].as_array().unwrap().iter().find(|m| m["metric"] == "engagements").unwrap();
    close(&frozen["value"], 60.0);
    // ...but a query over March sees the new counts.
    close(
        &scalar(
            &workspace,
            &["--metrics", "engagements", "--from", "2026-03-01", "--to", "2026-03-31"],
        )["engagements"],
        550.0,
    );
    let listed = workspace.json(&["baseline", "list"]);
    assert_eq!(listed[0]["name"], "march");

    let comparison = workspace.json(&[
        "compare",
        "--baseline",
        "march",
        "--from",
        "2026-04-01",
        "--to",
        "2026-04-30",
    ]);
    let changes = comparison["changes"].as_array().unwrap();
    assert!(changes.len() >= 30);
    for change in changes {
        for key in
            ["metric", "compared", "baseline", "current", "change", "low", "high", "significant"]
        {
            assert!(change.get(key).is_some(), "{change} lacks {key}");
        }
    }
    let posts = changes.iter().find(|c| c["metric"] == "posts").unwrap();
    assert_eq!(posts["compared"], "daily mean");
    close(&posts["baseline"], 12.0 / 31.0);
    close(&posts["current"], 1.0 / 30.0);
    // The same comparison twice gives the same intervals (seeded bootstrap).
    let again = workspace.json(&[
        "compare",
        "--baseline",
        "march",
        "--from",
        "2026-04-01",
        "--to",
        "2026-04-30",
    ]);
    assert_eq!(again["changes"], comparison["changes"]);
    workspace.ok(&["baseline", "delete", "march"]);
    assert_eq!(workspace.json(&["baseline", "list"]), serde_json::json!([]));
}

#[test]
fn milestones_and_business_series() {
    let workspace = metrics_workspace();
    // Business series: one bad value and one impossible date are rejected with their line.
    let csv = repository().join("testdata/metrics/business.csv");
    let imported = workspace.json(&["kpi", "import", csv.to_str().unwrap()]);
    let report = &imported["report"];
    assert_eq!(
        (report["read"].as_u64(), report["new"].as_u64(), report["rejected"].as_u64()),
        (Some(7), Some(5), Some(2))
    );
    let lines: Vec<u64> = imported["rejects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["position"]["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [6, 8]);
    let again = workspace.json(&["kpi", "import", csv.to_str().unwrap()]);
    assert_eq!(again["report"]["unchanged"], 5, "the same points again change nothing");
    // Prescription share beside share of voice, by panel member.
    let panel = workspace.json(&[
        "query",
        "--metrics",
        "share_of_voice_mentions,kpi_share:prescriptions",
        "--by",
        "panel",
    ]);
    let acme =
        panel["rows"].as_array().unwrap().iter().find(|r| r["panel"] == "Acme").unwrap().clone();
    close(&acme["share_of_voice_mentions"], 0.6);
    close(&acme["kpi_share:prescriptions"], 250.0 / 475.0);
    let correlation = workspace.json(&[
        "kpi",
        "correlate",
        "prescriptions",
        "--metric",
        "posts",
        "--max-lag",
        "1",
    ]);
    assert!(correlation["caution"].as_str().unwrap().contains("not cause"));
    assert_eq!(correlation["lags"].as_array().unwrap().len(), 3);

    workspace.ok(&[
        "milestone",
        "add",
        "More applause",
        "--metric",
        "applause_rate",
        "--target",
        "40",
        "--by",
        "2026-12-31",
    ]);
    assert!(
        !workspace
            .run(&[
                "milestone",
                "add",
                "Bad",
                "--metric",
                "nope",
                "--target",
                "1",
                "--by",
                "2026-12-31"
            ])
            .status
            .success()
    );
    let listed = workspace.json(&["milestone", "list"]);
    assert_eq!(listed[0]["name"], "More applause");
    let status = workspace.json(&["milestone", "status", "More applause", "--as-of", "2026-03-31"]);
    let status = &status[0];
    for key in
        ["weekly", "current", "progress", "slope_per_week", "projected", "verdict", "explanation"]
    {
        assert!(status.get(key).is_some(), "{status} lacks {key}");
    }
    let verdict = status["verdict"].as_str().unwrap();
    assert!(
        ["reached", "on track", "off track", "not enough data"].contains(&verdict),
        "{verdict}"
    );
    workspace.ok(&["milestone", "remove", "More applause"]);

    // A KPI of waterline.toml with an impossible date is an error that names it.
    let config = workspace.path().join("waterline.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(
        "\n[[kpis]]\nname = \"Bad date\"\nmetric = \"posts\"\ntarget = 3\nby = \"2027-02-30\"\n",
    );
    std::fs::write(&config, text).unwrap();
    let failed = workspace.run(&["milestone", "status"]);
    assert!(!failed.status.success());
    let message = String::from_utf8_lossy(&failed.stderr);
    assert!(message.contains("[[kpis]] `Bad date`: by = \"2027-02-30\""), "{message}");
}

#[test]
fn the_scenario_plants_its_share_of_voice_and_spike() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("scenario");
    let generate = std::process::Command::new(binary())
        .args(["generate", "--posts", "20000", "--out", scenario.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(generate.status.success(), "{}", String::from_utf8_lossy(&generate.stderr));
    let workspace = Workspace { dir: tempfile::TempDir::new_in(dir.path()).unwrap() };
    std::fs::copy(scenario.join("waterline.toml"), workspace.path().join("waterline.toml"))
        .unwrap();
    workspace.import(&[&format!("{}/*.jsonl", scenario.display())]);
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(scenario.join("truth.json")).unwrap())
            .unwrap();

    // Share of voice: audience posts naming each panel member, exactly as planted.
    let panel = workspace.json(&[
        "query",
        "--metrics",
        "mentions,share_of_voice_mentions",
        "--by",
        "panel",
    ]);
    let planted = truth["share_of_voice_audience"].as_object().unwrap();
    let total: f64 = planted.values().map(|v| v.as_f64().unwrap()).sum();
    let rows = panel["rows"].as_array().unwrap();
    assert_eq!(rows.len(), planted.len());
    for row in rows {
        let name = row["panel"].as_str().unwrap();
        assert_eq!(row["mentions"], planted[name], "{name}");
        close(&row["share_of_voice_mentions"], planted[name].as_f64().unwrap() / total);
    }

    // The spike: the hour series of negative audience posts peaks inside the planted window.
    let start =
        chrono::DateTime::parse_from_rfc3339(truth["spike"]["start"].as_str().unwrap()).unwrap();
    let end =
        chrono::DateTime::parse_from_rfc3339(truth["spike"]["end"].as_str().unwrap()).unwrap();
    let days = workspace.json(&[
        "query",
        "--metrics",
        "posts",
        "--by",
        "day",
        "--where",
        "side=audience",
        "--where",
        "sentiment=negative",
    ]);
    let series: Vec<(String, f64)> = days["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["day"].as_str().unwrap().to_owned(), r["posts"].as_f64().unwrap()))
        .collect();
    // Each day against the 14 before it: the largest excess in standard deviations.
    let mut best = (String::new(), f64::MIN);
    for index in 14..series.len() {
        let window: Vec<f64> = series[index - 14..index].iter().map(|p| p.1).collect();
        let mean = window.iter().sum::<f64>() / 14.0;
        let sd = (window.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 13.0).sqrt().max(1.0);
        let z = (series[index].1 - mean) / sd;
        if z > best.1 {
            best = (series[index].0.clone(), z);
        }
    }
    let paris: chrono_tz::Tz = "Europe/Paris".parse().unwrap();
    let first = start.with_timezone(&paris).date_naive().to_string();
    let last = end.with_timezone(&paris).date_naive().to_string();
    assert!(best.0 >= first && best.0 <= last, "peak {best:?} outside {first}..{last}");
    assert!(best.1 > 3.0, "{best:?}");
}

#[test]
fn ibm_care_desk_response_times_equal_the_independent_script() {
    let Some(data) = shared_data() else { return };
    if std::process::Command::new("python3").arg("--version").output().is_err() {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "python3 is required in CI");
        eprintln!("skipped: python3 is not installed");
        return;
    }
    let dev = data.join("conversations/ibm-customer-care/dev.json");
    let scripts = repository().join("scripts");
    let workspace = Workspace { dir: tempfile::tempdir().unwrap() };
    std::fs::copy(
        repository().join("testdata/workspaces/ibm-customer-care.toml"),
        workspace.path().join("waterline.toml"),
    )
    .unwrap();
    let converted = std::process::Command::new("python3")
        .arg(scripts.join("ibm-customer-care-to-jsonl.py"))
        .arg(&dev)
        .output()
        .unwrap();
    assert!(converted.status.success(), "{}", String::from_utf8_lossy(&converted.stderr));
    let threads = workspace.write("threads.jsonl", &converted.stdout);
    workspace.import(&[&threads]);
    let reference = std::process::Command::new("python3")
        .arg(scripts.join("ibm-response-times.py"))
        .arg(&dev)
        .output()
        .unwrap();
    assert!(reference.status.success(), "{}", String::from_utf8_lossy(&reference.stderr));
    let reference: BTreeMap<String, serde_json::Value> =
        serde_json::from_slice(&reference.stdout).unwrap();
    let ours = workspace.json(&[
        "query",
        "--metrics",
        "inbound,response_rate,first_response_hours,first_response_hours_p90",
        "--by",
        "account",
    ]);
    let ours: BTreeMap<String, serde_json::Value> = ours["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["account"].as_str().unwrap().to_owned(), r.clone()))
        .collect();
    assert_eq!(ours.keys().collect::<Vec<_>>(), reference.keys().collect::<Vec<_>>());
    for (brand, expected) in &reference {
        let row = &ours[brand];
        assert_eq!(row["inbound"], expected["threads"], "{brand}");
        close(&row["response_rate"], expected["response_rate"].as_f64().unwrap());
        close(&row["first_response_hours"], expected["median_hours"].as_f64().unwrap());
        close(&row["first_response_hours_p90"], expected["p90_hours"].as_f64().unwrap());
    }
}

#[test]
fn french_media_engagement_rates_equal_a_hand_calculation() {
    let Some(data) = shared_data() else { return };
    let media = data.join("engagement/french-media");
    let mappings = repository().join("testdata/mappings");
    let workspace = Workspace { dir: tempfile::tempdir().unwrap() };
    std::fs::copy(
        repository().join("testdata/workspaces/french-media.toml"),
        workspace.path().join("waterline.toml"),
    )
    .unwrap();
    workspace.import(&[
        media.join("author.csv").to_str().unwrap(),
        "--mapping",
        mappings.join("french-media-accounts.toml").to_str().unwrap(),
    ]);
    let files = [media.join("Tweets_1350.csv"), media.join("Tweets_2800.csv")];
    workspace.import(&[
        files[0].to_str().unwrap(),
        files[1].to_str().unwrap(),
        "--mapping",
        mappings.join("french-media-tweets.toml").to_str().unwrap(),
    ]);
    // By hand: followers from author.csv; each tweet's engagements are retweets + replies +
    // likes + quotes (a tweet in both files keeps its last counts); rate = ÷ followers × 100.
    let mut followers: BTreeMap<String, (String, f64)> = BTreeMap::new();
    let mut reader =
        csv::ReaderBuilder::new().delimiter(b';').from_path(media.join("author.csv")).unwrap();
    for record in reader.records() {
        let record = record.unwrap();
        followers.insert(record[1].to_owned(), (record[0].to_owned(), record[3].parse().unwrap()));
    }
    let mut tweets: BTreeMap<String, (String, f64)> = BTreeMap::new();
    for file in &files {
        let mut reader = csv::Reader::from_path(file).unwrap();
        for record in reader.records() {
            let record = record.unwrap();
            let count = |i: usize| record[i].parse::<f64>().unwrap();
            tweets.insert(
                record[2].to_owned(),
                (record[1].to_owned(), count(6) + count(7) + count(8) + count(9)),
            );
        }
    }
    let answer = workspace.json(&[
        "query",
        "--metrics",
        "posts,engagement_rate_followers,engagement_rate_followers_mean",
        "--by",
        "account",
    ]);
    let ours: BTreeMap<String, serde_json::Value> = answer["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["account"].as_str().unwrap().to_owned(), r.clone()))
        .collect();
    for handle in ["lemondefr", "franceinfo", "BFMTV"] {
        let (id, (_, count)) = followers.iter().find(|(_, (h, _))| h == handle).unwrap();
        let mut rates: Vec<f64> = tweets
            .values()
            .filter(|(author, _)| author == id)
            .map(|(_, e)| e / count * 100.0)
            .collect();
        rates.sort_by(f64::total_cmp);
        let n = rates.len();
        assert!(n > 10, "{handle}: {n} tweets");
        let median =
            if n % 2 == 1 { rates[n / 2] } else { (rates[n / 2 - 1] + rates[n / 2]) / 2.0 };
        let mean = rates.iter().sum::<f64>() / n as f64;
        let row = &ours[handle];
        assert_eq!(row["posts"].as_u64(), Some(n as u64), "{handle}");
        // Reported to six significant digits.
        let relative = |a: f64, b: f64| (a - b).abs() <= 1e-5 * b.abs();
        assert!(
            relative(row["engagement_rate_followers"].as_f64().unwrap(), median),
            "{handle} median {row}"
        );
        assert!(
            relative(row["engagement_rate_followers_mean"].as_f64().unwrap(), mean),
            "{handle} mean {row}"
        );
    }
}

#[test]
fn additive_metrics_of_a_period_are_the_sums_of_its_parts() {
    use proptest::prelude::*;
    let workspace = metrics_workspace();
    workspace.import(&[repository().join("testdata/metrics/later.jsonl").to_str().unwrap()]);
    let additive = "posts,engagements,mentions,interactions,inbound";
    let total = |from: &str, to: &str| -> Vec<f64> {
        let row = scalar(&workspace, &["--metrics", additive, "--from", from, "--to", to]);
        additive.split(',').map(|name| row[name].as_f64().unwrap_or(0.0)).collect()
    };
    let whole = total("2026-03-01", "2026-04-30");
    let mut runner = proptest::test_runner::TestRunner::new(proptest::test_runner::Config {
        cases: 6,
        ..Default::default()
    });
    runner
        .run(&(0u32..60), |offset| {
            let start = chrono::NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
            let split = start + chrono::Duration::days(i64::from(offset));
            let next = split.succ_opt().unwrap();
            let first = total("2026-03-01", &split.to_string());
            let second = total(&next.to_string(), "2026-04-30");
            let sum: Vec<f64> = first.iter().zip(&second).map(|(a, b)| a + b).collect();
            prop_assert_eq!(&sum, &whole, "split after {}", split);
            Ok(())
        })
        .unwrap();
}
