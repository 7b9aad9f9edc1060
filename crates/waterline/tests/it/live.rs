//! Live sources end to end: `waterline listen` against local fake servers (Jetstream over
//! WebSocket), cursors across restarts and kills, degraded sources, alerts with their
//! explanation, webhooks with signed payloads, and the `alert` event on the dashboard's
//! stream.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use waterline_ingest::live::testing::{FakeJetstream, FakeOptions, jetstream_post};

use crate::support::{binary, shared_data};

const BASE_US: u64 = 1_790_000_000_000_000;

/// A Jetstream post event: `index` orders it; `minute` is its creation time in minutes
/// after the base.
fn post_event(index: u64, minute: u64, text: &str) -> String {
    let created = chrono::DateTime::from_timestamp_micros(
        i64::try_from(BASE_US + minute * 60_000_000 + index).unwrap(),
    )
    .unwrap();
    jetstream_post(
        &format!("did:plc:author{}", index % 97),
        &format!("rkey{index:06}"),
        BASE_US + index * 1_000,
        &created.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        text,
    )
}

fn workspace(sources: &str, alerts: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        "brand = \"Cardiozen\"\ntime_zone = \"UTC\"\n\n[accounts]\nbluesky = [\"cardiozen.bsky.social\"]\n\n[[products]]\nname = \"Cardiozen\"\ninns = [\"zentrilol\"]\n\n{sources}\n{alerts}\n"
    );
    std::fs::write(dir.path().join("waterline.toml"), config).unwrap();
    dir
}

fn jetstream_source(name: &str, filter: &str) -> String {
    format!(
        "[[sources]]\nname = \"{name}\"\ntype = \"jetstream\"\nendpoint = \"ws://127.0.0.1:9/subscribe\"\nfilter = \"{filter}\"\ndegraded_after = 2\n"
    )
}

fn waterline(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(binary())
        .arg("--workspace")
        .arg(dir)
        .args(args)
        .env("WATERLINE_USER", "tester")
        .env("WATERLINE_WEBHOOK_SECRET", "s3cret")
        .output()
        .unwrap()
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let output = waterline(dir, args);
    assert!(
        output.status.success(),
        "waterline {args:?} failed: {}\n{}",
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn json_of(dir: &Path, args: &[&str]) -> Value {
    let mut args = args.to_vec();
    args.push("--json");
    serde_json::from_str(&ok(dir, &args)).unwrap()
}

fn stored_ids(dir: &Path) -> Vec<String> {
    let rows = json_of(dir, &["sql", "SELECT id FROM posts ORDER BY id"]);
    rows.as_array().unwrap().iter().map(|row| row["id"].as_str().unwrap().to_owned()).collect()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

#[test]
fn listen_stores_the_real_jetstream_replay_and_resumes_from_its_cursor() {
    let Some(shared) = shared_data() else {
        return;
    };
    let data = shared.join("connector-payloads/bluesky-jetstream/events.jsonl");
    let events: Vec<String> = std::fs::read_to_string(data)
        .unwrap()
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(str::to_owned)
        .collect();
    let runtime = runtime();
    let fake = runtime
        .block_on(async { FakeJetstream::start(events.clone(), FakeOptions::default()) })
        .unwrap();
    let dir = workspace(&jetstream_source("bluesky", "none"), "");
    let source = format!("bluesky={}", fake.url());
    let first = json_of(
        dir.path(),
        &["listen", "--source", &source, "--idle-exit", "1.5", "--commit-interval", "50"],
    );
    let report = &first["report"];
    let read = report["read"].as_u64().unwrap();
    let parts: u64 = ["new", "updated", "unchanged", "other", "rejected"]
        .iter()
        .map(|key| report[key].as_u64().unwrap())
        .sum();
    assert_eq!(read, parts, "read = new + updated + unchanged + other + rejected: {report}");
    assert_eq!(read, events.len() as u64, "every event is accounted for: {report}");
    let stored = stored_ids(dir.path());
    assert!(!stored.is_empty());
    // The same as importing the file.
    let file_dir = workspace("", "");
    let file = dir.path().join("events.jsonl");
    std::fs::write(&file, events.join("\n")).unwrap();
    ok(file_dir.path(), &["import", file.to_str().unwrap()]);
    assert_eq!(stored, stored_ids(file_dir.path()), "live and file imports store the same posts");
    // The cursor is stored; a restart resumes from it and stores nothing twice.
    let sources = json_of(dir.path(), &["sources"]);
    let cursor = sources[0]["cursor"].as_str().expect("a stored cursor").to_owned();
    let second = json_of(dir.path(), &["listen", "--source", &source, "--idle-exit", "1.5"]);
    assert_eq!(second["report"]["new"].as_u64(), Some(0), "{second}");
    assert!(
        fake.requests().iter().any(|request| request.contains(&format!("cursor={cursor}"))),
        "the restart asked for the stored cursor: {:?}",
        fake.requests()
    );
    assert_eq!(stored, stored_ids(dir.path()));
}

/// Starts `waterline listen` in the background.
fn spawn_listen(dir: &Path, source: &str) -> Child {
    Command::new(binary())
        .arg("--workspace")
        .arg(dir)
        .args(["listen", "--source", source, "--idle-exit", "2", "--commit-interval", "100"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

#[test]
fn killing_listen_mid_stream_loses_nothing_and_duplicates_nothing() {
    let events: Vec<String> = (0..3_000)
        .map(|index| post_event(index, index / 10, &format!("Cardiozen update number {index}")))
        .collect();
    let runtime = runtime();
    let options = FakeOptions { rate_per_second: Some(1_500.0), ..FakeOptions::default() };
    // A clean run.
    let clean = workspace(&jetstream_source("bluesky", "workspace"), "");
    let fake =
        runtime.block_on(async { FakeJetstream::start(events.clone(), options.clone()) }).unwrap();
    ok(
        clean.path(),
        &["listen", "--source", &format!("bluesky={}", fake.url()), "--idle-exit", "2"],
    );
    let expected = stored_ids(clean.path());
    assert_eq!(expected.len(), events.len());
    // Killed three times mid-stream, restarted each time, then left to finish.
    let killed = workspace(&jetstream_source("bluesky", "workspace"), "");
    let fake = runtime.block_on(async { FakeJetstream::start(events.clone(), options) }).unwrap();
    let source = format!("bluesky={}", fake.url());
    for pause in [700, 500, 900] {
        // Killed once it is connected (a loaded machine may take longer than the pause
        // to start the process), then after the pause: mid-stream.
        let before = fake.connections();
        let mut child = spawn_listen(killed.path(), &source);
        let deadline = Instant::now() + Duration::from_secs(60);
        while fake.connections() == before && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(pause));
        child.kill().unwrap();
        child.wait().unwrap();
    }
    ok(killed.path(), &["listen", "--source", &source, "--idle-exit", "2"]);
    let got = stored_ids(killed.path());
    assert_eq!(got.len(), expected.len(), "no event lost, none duplicated");
    assert_eq!(got, expected);
    let rows = json_of(
        killed.path(),
        &["sql", "SELECT count(*) AS n, count(DISTINCT id) AS d FROM posts"],
    );
    assert_eq!(rows[0]["n"], rows[0]["d"]);
    assert!(fake.connections() >= 4, "it reconnected after each kill");
}

#[test]
fn a_failing_source_is_degraded_and_the_others_keep_delivering() {
    let events: Vec<String> =
        (0..50).map(|index| post_event(index, index, &format!("Cardiozen post {index}"))).collect();
    let runtime = runtime();
    let good =
        runtime.block_on(async { FakeJetstream::start(events, FakeOptions::default()) }).unwrap();
    let bad = runtime
        .block_on(async {
            FakeJetstream::start(Vec::new(), FakeOptions { refuse: true, ..FakeOptions::default() })
        })
        .unwrap();
    let sources = format!(
        "{}\n{}",
        jetstream_source("good", "workspace"),
        jetstream_source("bad", "workspace")
    );
    let dir = workspace(&sources, "");
    let mut child = Command::new(binary())
        .arg("--workspace")
        .arg(dir.path())
        .args([
            "listen",
            "--source",
            &format!("good={}", good.url()),
            "--source",
            &format!("bad={}", bad.url()),
            "--duration",
            "12",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // While it runs, the status says which source is degraded.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut status = Value::Null;
    let by_name = |status: &Value, name: &str| {
        status
            .as_array()
            .and_then(|rows| rows.iter().find(|row| row["name"] == name).cloned())
            .unwrap_or(Value::Null)
    };
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(500));
        status = json_of(dir.path(), &["sources"]);
        if by_name(&status, "bad")["state"] == "degraded"
            && by_name(&status, "good")["records"].as_u64() == Some(50)
        {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(by_name(&status, "bad")["state"], "degraded", "{status}");
    assert!(by_name(&status, "bad")["consecutive_failures"].as_u64().unwrap() >= 2);
    assert_eq!(by_name(&status, "good")["records"].as_u64(), Some(50), "{status}");
    assert_eq!(stored_ids(dir.path()).len(), 50, "the good source's posts are stored");
}

/// A loopback HTTP server that records each request's headers and body and answers
/// `status` (the first `fail_first` requests get 500).
/// Requests a receiver saw: (header lines, body).
type Seen = Arc<Mutex<Vec<(Vec<String>, String)>>>;

fn webhook_receiver(fail_first: usize) -> (String, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let kept = seen.clone();
    std::thread::spawn(move || {
        let mut served = 0;
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut headers = Vec::new();
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                let line = line.trim_end().to_owned();
                if line.is_empty() {
                    break;
                }
                if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = value.trim().parse().unwrap_or(0);
                }
                headers.push(line);
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            served += 1;
            let status = if served <= fail_first { "500 Internal Server Error" } else { "200 OK" };
            kept.lock().unwrap().push((headers, String::from_utf8_lossy(&body).into_owned()));
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
        }
    });
    (url, seen)
}

#[test]
fn a_planted_burst_fires_one_explained_alert_that_reaches_a_signed_webhook() {
    // Twenty quiet minutes (3 posts a minute), then a burst of 80 posts in one minute that
    // share a word, then quiet again.
    let mut events = Vec::new();
    let mut index = 0;
    for minute in 0..30 {
        let count = if minute == 20 { 80 } else { 3 };
        for n in 0..count {
            let text = if minute == 20 {
                format!("Cardiozen advert on tv again tonight, campaign everywhere {n}")
            } else {
                format!("Cardiozen everyday note {index}")
            };
            events.push(post_event(index, minute, &text));
            index += 1;
        }
    }
    // A post naming the product with an adverse reaction: a PV case and its alert.
    events.push(post_event(
        index,
        29,
        "Started Cardiozen last week and now I have terrible dizziness and a rash",
    ));
    let (url, seen) = webhook_receiver(1);
    let alerts = format!(
        "[[alerts.rules]]\nname = \"burst\"\ntype = \"volume\"\nwindow = \"1m\"\nreference = 10\nk = 3.0\nmin_count = 20\ncooldown = \"10m\"\n\n[[alerts.rules]]\nname = \"pharmacovigilance\"\ntype = \"pv\"\n\n[[alerts.webhooks]]\nname = \"desk\"\nurl = \"{url}\"\nsecret_env = \"WATERLINE_WEBHOOK_SECRET\"\n"
    );
    let dir = workspace(&jetstream_source("bluesky", "workspace"), &alerts);
    let runtime = runtime();
    let fake =
        runtime.block_on(async { FakeJetstream::start(events, FakeOptions::default()) }).unwrap();
    let summary = json_of(
        dir.path(),
        &["listen", "--source", &format!("bluesky={}", fake.url()), "--idle-exit", "3"],
    );
    assert!(summary["alerts"].as_u64().unwrap() >= 2, "{summary}");
    let listed = json_of(dir.path(), &["alerts", "list"]);
    let stored = listed.as_array().unwrap();
    let bursts: Vec<&Value> = stored.iter().filter(|alert| alert["rule"] == "burst").collect();
    assert_eq!(bursts.len(), 1, "the burst fires once: {listed}");
    let why = &bursts[0]["explanation"];
    let window_end =
        chrono::DateTime::parse_from_rfc3339(why["window_end"].as_str().unwrap()).unwrap();
    let burst_start =
        chrono::DateTime::from_timestamp_micros(i64::try_from(BASE_US + 20 * 60_000_000).unwrap())
            .unwrap();
    assert!(
        window_end >= burst_start && window_end <= burst_start + chrono::Duration::minutes(2),
        "{why}"
    );
    assert!(why["threshold"].as_f64().unwrap() < why["observed"].as_f64().unwrap(), "{why}");
    assert!(!why["posts"].as_array().unwrap().is_empty(), "{why}");
    let terms: Vec<&str> =
        why["terms"].as_array().unwrap().iter().filter_map(|term| term["term"].as_str()).collect();
    assert!(terms.iter().any(|term| ["advert", "campaign", "tonight"].contains(term)), "{terms:?}");
    let pv: Vec<&Value> = stored.iter().filter(|alert| alert["kind"] == "pv").collect();
    // One alert per case opened (the detector is set for recall, so it flags more posts than
    // the one adverse event), and no case text in an alert (PV-15).
    let cases = json_of(dir.path(), &["pv", "list"]);
    let cases = cases.as_array().map_or_else(|| cases["cases"].as_array().unwrap().len(), Vec::len);
    assert!(cases >= 1);
    assert_eq!(pv.len(), cases, "{listed}");
    assert!(pv.iter().all(|alert| alert["explanation"]["posts"].as_array().unwrap().is_empty()));
    // The webhook got each alert, signed, after one failed attempt was retried.
    let deadline = Instant::now() + Duration::from_secs(20);
    while seen.lock().unwrap().len() < 3 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let seen = seen.lock().unwrap().clone();
    assert!(seen.len() >= 2, "{seen:?}");
    let delivered: Vec<&(Vec<String>, String)> = seen.iter().skip(1).collect();
    for (headers, body) in delivered {
        let header = |name: &str| {
            headers
                .iter()
                .find_map(|line| {
                    line.to_ascii_lowercase()
                        .starts_with(name)
                        .then(|| line[name.len()..].trim().to_owned())
                })
                .unwrap_or_default()
        };
        let timestamp: i64 = header("x-waterline-timestamp:").parse().unwrap();
        let expected = waterline_app::webhooks::signature(b"s3cret", timestamp, body.as_bytes());
        assert_eq!(header("x-waterline-signature:"), expected, "{headers:?}");
        let payload: Value = serde_json::from_str(body).unwrap();
        assert!(payload["alert"]["summary"].is_string(), "{payload}");
    }
    // Acknowledged and resolved, with who and when.
    let id = bursts[0]["id"].as_str().unwrap();
    ok(dir.path(), &["alerts", "ack", id, "--note", "looking"]);
    ok(dir.path(), &["alerts", "resolve", id, "--note", "pharmacy restocked"]);
    let after = json_of(dir.path(), &["alerts", "list"]);
    let alert = after.as_array().unwrap().iter().find(|alert| alert["id"] == id).unwrap().clone();
    assert_eq!(alert["status"], "resolved");
    assert!(alert["acknowledged_by"].as_str().unwrap().contains("tester"), "{alert}");
    assert!(alert["resolved_at"].is_string(), "{alert}");
}

#[test]
fn serve_runs_the_sources_and_an_alert_reaches_open_dashboards_and_is_acknowledged_over_http() {
    use crate::server::Server;
    let mut events = Vec::new();
    let mut index = 0;
    for minute in 0..16 {
        let count = if minute == 14 { 60 } else { 2 };
        for n in 0..count {
            let text = if minute == 14 {
                format!("Cardiozen giveaway scam going around, report it {n}")
            } else {
                format!("Cardiozen daily remark {index}")
            };
            events.push(post_event(index, minute, &text));
            index += 1;
        }
    }
    let runtime = runtime();
    // The fake waits before sending, so the dashboard's event stream is open first.
    let options = FakeOptions { rate_per_second: Some(40.0), ..FakeOptions::default() };
    let fake = runtime.block_on(async { FakeJetstream::start(events, options) }).unwrap();
    let alerts = "[[alerts.rules]]\nname = \"burst\"\ntype = \"volume\"\nwindow = \"1m\"\nreference = 10\nk = 3.0\nmin_count = 20\ncooldown = \"10m\"\n\n[[alerts.rules]]\nname = \"urgent\"\ntype = \"pv\"\n";
    let dir = workspace(&jetstream_source("bluesky", "workspace"), alerts);
    let server = Server::start_in(dir, &["--source", &format!("bluesky={}", fake.url())]);
    let address = server.address.clone();
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut stream = std::net::TcpStream::connect(&address).unwrap();
        write!(
            stream,
            "GET /api/v1/events HTTP/1.1\r\nHost: {address}\r\nAccept: text/event-stream\r\n\r\n"
        )
        .unwrap();
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        let mut event = String::new();
        while reader.read_line(&mut line).unwrap_or(0) > 0 {
            if let Some(name) = line.trim().strip_prefix("event: ") {
                event = name.to_owned();
            } else if let Some(data) = line.trim().strip_prefix("data: ")
                && event == "alert"
            {
                let _ = sender.send(data.to_owned());
            }
            line.clear();
        }
    });
    // Alerts arrive in the order they fire (PV alerts of the quiet posts may come first).
    let wait_for = |wanted: &dyn Fn(&Value) -> bool| -> Value {
        let deadline = Instant::now() + Duration::from_secs(90);
        while Instant::now() < deadline {
            if let Ok(data) = receiver.recv_timeout(Duration::from_secs(1)) {
                let alert: Value = serde_json::from_str(&data).unwrap();
                if wanted(&alert) {
                    return alert;
                }
            }
        }
        panic!("the alert did not arrive; stored: {}", server.get("/api/v1/alerts").text());
    };
    let alert = wait_for(&|alert: &Value| alert["rule"] == "burst");
    assert!(alert["explanation"]["summary"].as_str().unwrap().contains("posts"), "{alert}");
    let id = alert["id"].as_str().unwrap().to_owned();
    // The sources' status, the alerts page, and the actions with their roles.
    let sources = server.get("/api/v1/sources").json();
    assert_eq!(sources["sources"][0]["name"], "bluesky", "{sources}");
    assert!(server.get("/alerts").text().contains(&format!("alert-{id}")));
    let viewer = server.token("viewer");
    let analyst = server.token("analyst");
    let path = format!("/api/v1/alerts/{id}/acknowledge");
    assert_eq!(server.post_json(&path, Some(&viewer), &json!({})).status, 403);
    let acked = server.post_json(&path, Some(&analyst), &json!({"note": "on it"}));
    assert_eq!(acked.status, 200, "{}", acked.text());
    assert_eq!(acked.json()["status"], "acknowledged");
    assert_eq!(server.post_json(&path, Some(&analyst), &json!({})).status, 409);
    let resolved = server.post_json(
        &format!("/api/v1/alerts/{id}/resolve"),
        Some(&analyst),
        &json!({"note": "reported"}),
    );
    assert_eq!(resolved.json()["status"], "resolved", "{}", resolved.text());
    let shown = server.get(&format!("/api/v1/alerts/{id}")).json();
    assert!(shown["acknowledged_by"].as_str().unwrap().contains("analyst"), "{shown}");
    assert!(shown["resolved_at"].is_string(), "{shown}");
    // The ingest endpoint is a source too: its posts go through the same runner, and an
    // adverse-event post raises its alert on the open stream.
    let line = json!({"platform": "mastodon", "id": "collector-1", "author_handle": "someone@example.social", "created_at": "2026-11-01T10:00:00Z", "text": "Since I started Cardiozen I get terrible dizziness and a rash"}).to_string();
    let ingested = server.request("POST", "/api/v1/ingest", Some(&analyst), Some(line.as_bytes()));
    assert_eq!(ingested.status, 200, "{}", ingested.text());
    assert_eq!(ingested.json()["report"]["new"], 1, "{}", ingested.text());
    let case = waterline_model::pv::case_id("mastodon:collector-1");
    let next = wait_for(&|alert: &Value| alert["key"] == case.as_str());
    assert_eq!(next["kind"], "pv", "{next}");
    let sources = server.get("/api/v1/sources").json();
    let ingest =
        sources["sources"].as_array().unwrap().iter().find(|row| row["name"] == "ingest").cloned();
    assert_eq!(ingest.unwrap()["records"], 1, "{sources}");
}
