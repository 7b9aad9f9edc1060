//! Live sources against the fake servers on 127.0.0.1: Jetstream replay, resumption,
//! malformed and duplicate frames, back-pressure, degradation, and the Mastodon transports.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use waterline_ingest::Output;
use waterline_ingest::formats::{bluesky, mastodon};
use waterline_ingest::live::testing::{FakeJetstream, FakeMastodon, FakeOptions, jetstream_post};
use waterline_ingest::live::{LiveBatch, SourceStats, Tuning, run_with};
use waterline_model::Record;
use waterline_model::sources::SourceConfig;

/// A guard against hangs, not a timing assertion.
const PATIENCE: Duration = Duration::from_secs(30);

/// `../shared/data` next to the workspace, or `None` (after a notice) when absent; absent
/// data fails the test under `CI=true`.
#[allow(clippy::print_stderr)]
fn shared_data() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(std::env::var("CI").as_deref() != Ok("true"), "{} is missing under CI", dir.display());
    eprintln!("skipped: {} is absent", dir.display());
    None
}

fn tuning() -> Tuning {
    Tuning {
        idle_timeout: Duration::from_secs(3),
        batch_frames: 1_000,
        batch_wait: Duration::from_millis(20),
        backoff_base: Duration::from_millis(10),
        backoff_cap: Duration::from_millis(100),
        poll_interval: Some(Duration::from_millis(100)),
    }
}

struct Running {
    stats: Arc<SourceStats>,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Running {
    async fn stop(self) {
        let _ = self.stop.send(true);
        let finished = tokio::time::timeout(PATIENCE, self.task).await;
        assert!(matches!(finished, Ok(Ok(()))), "the source did not stop");
        assert_eq!(self.stats.snapshot().state, "stopped");
    }
}

fn start(
    spec: SourceConfig,
    token: Option<String>,
    cursor: Option<String>,
    sender: mpsc::Sender<LiveBatch>,
    tuning: Tuning,
) -> Running {
    let stats = Arc::new(SourceStats::new(&spec.name));
    let (stop, stopped) = watch::channel(false);
    let task =
        tokio::spawn(run_with(spec, token, cursor, sender, Arc::clone(&stats), stopped, tuning));
    Running { stats, stop, task }
}

/// Receives batches until `done` says so.
async fn receive_until(
    receiver: &mut mpsc::Receiver<LiveBatch>,
    mut done: impl FnMut(&[LiveBatch]) -> bool,
) -> Vec<LiveBatch> {
    let mut batches = Vec::new();
    let result = tokio::time::timeout(PATIENCE, async {
        while !done(&batches) {
            match receiver.recv().await {
                Some(batch) => batches.push(batch),
                None => break,
            }
        }
    })
    .await;
    assert!(result.is_ok(), "gave up waiting; received {} batches", batches.len());
    batches
}

fn frames(batches: &[LiveBatch]) -> u64 {
    batches.iter().map(|batch| batch.output.read()).sum()
}

fn records(batches: &[LiveBatch]) -> Vec<Record> {
    batches
        .iter()
        .flat_map(|batch| batch.output.records.iter().map(|located| located.record.clone()))
        .collect()
}

fn keys(records: &[Record]) -> Vec<String> {
    let mut keys: Vec<String> = records.iter().map(|record| format!("{record:?}")).collect();
    keys.sort();
    keys
}

fn post_ids(records: &[Record]) -> BTreeSet<String> {
    records
        .iter()
        .filter_map(|record| match record {
            Record::Post(post) => Some(post.id.clone()),
            _ => None,
        })
        .collect()
}

fn jetstream_events(data: &std::path::Path) -> Vec<String> {
    let path = data.join("connector-payloads/bluesky-jetstream/events.jsonl");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let events: Vec<String> =
        text.lines().filter(|line| !line.trim().is_empty()).map(str::to_owned).collect();
    assert_eq!(events.len(), 76, "{}", path.display());
    events
}

/// The records of parsing the events directly.
fn parse_jetstream(events: &[String]) -> Output {
    let mut output = Output::default();
    for (index, event) in events.iter().enumerate() {
        let value: Value = serde_json::from_str(event).unwrap_or(Value::Null);
        bluesky::parse_document(&value, Some(index as u64 + 1), &mut output);
    }
    output
}

fn synthetic_event(index: u64) -> String {
    jetstream_post(
        "did:plc:testauthor",
        &format!("rkey{index}"),
        1_700_000_000_000_000u64 + index * 1_000,
        "2026-01-01T00:00:00.000Z",
        &format!("synthetic post number {index}"),
    )
}

fn jetstream_spec(url: &str) -> SourceConfig {
    SourceConfig::new("bluesky", "jetstream", url)
}

#[tokio::test]
async fn synthetic_events_parse_as_posts() {
    let events: Vec<String> = (0..3).map(synthetic_event).collect();
    let output = parse_jetstream(&events);
    assert_eq!(output.records.len(), 3, "{:?}", output.rejected);
}

#[tokio::test]
async fn jetstream_replay_equals_parsing_the_file() {
    let Some(data) = shared_data() else { return };
    let events = jetstream_events(&data);
    let expected = parse_jetstream(&events);
    let server = FakeJetstream::start(events.clone(), FakeOptions::default()).expect("server");
    let (sender, mut receiver) = mpsc::channel(16);
    let running = start(jetstream_spec(&server.url()), None, None, sender, tuning());
    let batches = receive_until(&mut receiver, |batches| frames(batches) >= 76).await;
    running.stop().await;

    assert_eq!(frames(&batches), 76);
    assert_eq!(
        keys(&records(&batches)),
        keys(&expected.records.into_iter().map(|l| l.record).collect::<Vec<_>>())
    );
    let rejected: usize = batches.iter().map(|batch| batch.output.rejected.len()).sum();
    assert_eq!(rejected, expected.rejected.len());
    // Lines are the frames' sequence numbers.
    let lines: Vec<u64> = batches
        .iter()
        .flat_map(|batch| batch.output.records.iter().filter_map(|located| located.position.line))
        .collect();
    assert_eq!(lines, (1..=76).collect::<Vec<u64>>());
    // The cursor is the time_us of the last event sent (Jetstream sends in time order).
    let last = events
        .iter()
        .filter_map(|event| serde_json::from_str::<Value>(event).ok()?.get("time_us")?.as_u64())
        .max()
        .map(|time| time.to_string());
    assert_eq!(batches.last().and_then(|batch| batch.cursor.clone()), last);
    let request = server.requests().first().cloned().unwrap_or_default();
    assert!(request.contains("wantedCollections=app.bsky.feed.post"), "{request}");
    assert!(!request.contains("cursor="), "{request}");
    assert!(server.sent_at(0).is_some());
}

#[tokio::test]
async fn jetstream_resumes_from_its_cursor_without_gaps() {
    let Some(data) = shared_data() else { return };
    let events = jetstream_events(&data);
    let expected: BTreeSet<String> =
        keys(&parse_jetstream(&events).records.into_iter().map(|l| l.record).collect::<Vec<_>>())
            .into_iter()
            .collect();
    let options = FakeOptions { disconnect_after: Some(10), ..FakeOptions::default() };
    let server = FakeJetstream::start(events, options).expect("server");
    let (sender, mut receiver) = mpsc::channel(16);
    let running = start(jetstream_spec(&server.url()), None, None, sender, tuning());
    let batches = receive_until(&mut receiver, |batches| {
        let seen: BTreeSet<String> = keys(&records(batches)).into_iter().collect();
        expected.is_subset(&seen)
    })
    .await;
    let status = running.stats.snapshot();
    running.stop().await;

    assert!(server.connections() >= 8, "{} connections", server.connections());
    assert!(status.disconnects >= 7);
    let resumed = server.requests().iter().skip(1).all(|request| request.contains("cursor="));
    assert!(resumed, "{:?}", server.requests());
    // Each reconnection replays its cursor's event: duplicates, never gaps.
    assert!(frames(&batches) > 76);
}

#[tokio::test]
async fn jetstream_starts_from_a_stored_cursor() {
    let events: Vec<String> = (0..10).map(synthetic_event).collect();
    let server = FakeJetstream::start(events, FakeOptions::default()).expect("server");
    let cursor = (1_700_000_000_000_000u64 + 4 * 1_000).to_string();
    let (sender, mut receiver) = mpsc::channel(16);
    let running =
        start(jetstream_spec(&server.url()), None, Some(cursor.clone()), sender, tuning());
    let batches = receive_until(&mut receiver, |batches| frames(batches) >= 6).await;
    running.stop().await;
    let texts: Vec<String> = records(&batches)
        .iter()
        .filter_map(|record| match record {
            Record::Post(post) => Some(post.text.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(texts.first().map(String::as_str), Some("synthetic post number 4"));
    assert_eq!(texts.len(), 6);
    assert!(
        server
            .requests()
            .first()
            .is_some_and(|request| request.contains(&format!("cursor={cursor}")))
    );
}

#[tokio::test]
async fn malformed_and_duplicate_frames_are_kept_apart() {
    let events: Vec<String> = (0..12).map(synthetic_event).collect();
    let options =
        FakeOptions { garbage_every: Some(4), duplicate_every: Some(3), ..FakeOptions::default() };
    let server = FakeJetstream::start(events, options).expect("server");
    let (sender, mut receiver) = mpsc::channel(16);
    let running = start(jetstream_spec(&server.url()), None, None, sender, tuning());
    // 12 events, 4 duplicates, 3 garbage frames.
    let batches = receive_until(&mut receiver, |batches| frames(batches) >= 19).await;
    let status = running.stats.snapshot();
    running.stop().await;

    let rejected: Vec<_> = batches.iter().flat_map(|batch| batch.output.rejected.clone()).collect();
    assert_eq!(rejected.len(), 3);
    for rejection in &rejected {
        assert!(rejection.position.line.is_some());
        assert_eq!(rejection.position.pointer.as_deref(), Some("frame"));
        assert!(rejection.error.reason.starts_with("invalid json"), "{:?}", rejection.error);
    }
    let records = records(&batches);
    assert_eq!(records.len(), 16);
    assert_eq!(post_ids(&records).len(), 12);
    assert_eq!(status.frames, 19);
    assert_eq!(status.records, 16);
    assert_eq!(status.rejected, 3);
    assert_eq!(status.state, "live");
}

#[tokio::test]
async fn a_slow_consumer_loses_nothing() {
    let events: Vec<String> = (0..300).map(synthetic_event).collect();
    let server = FakeJetstream::start(events, FakeOptions::default()).expect("server");
    let (sender, mut receiver) = mpsc::channel(1);
    let small = Tuning { batch_frames: 7, ..tuning() };
    let running = start(jetstream_spec(&server.url()), None, None, sender, small);
    let mut batches = Vec::new();
    let result = tokio::time::timeout(PATIENCE, async {
        while frames(&batches) < 300 {
            let Some(batch) = receiver.recv().await else { break };
            assert!(batch.output.read() <= 7);
            batches.push(batch);
            tokio::time::sleep(Duration::from_millis(3)).await;
        }
    })
    .await;
    assert!(result.is_ok());
    running.stop().await;
    let lines: Vec<u64> = batches
        .iter()
        .flat_map(|batch| batch.output.records.iter().filter_map(|located| located.position.line))
        .collect();
    assert_eq!(lines, (1..=300).collect::<Vec<u64>>());
    assert_eq!(post_ids(&records(&batches)).len(), 300);
}

#[tokio::test]
async fn a_refusing_server_degrades_its_source_while_another_keeps_delivering() {
    let refusing =
        FakeJetstream::start(Vec::new(), FakeOptions { refuse: true, ..FakeOptions::default() })
            .expect("server");
    let events: Vec<String> = (0..40).map(synthetic_event).collect();
    let paced = FakeOptions { rate_per_second: Some(400.0), ..FakeOptions::default() };
    let healthy = FakeJetstream::start(events, paced).expect("server");
    let (sender, mut receiver) = mpsc::channel(4);
    let mut spec = SourceConfig::new("down", "jetstream", &refusing.url());
    spec.degraded_after = 3;
    let down = start(spec, None, None, sender.clone(), tuning());
    let up = start(jetstream_spec(&healthy.url()), None, None, sender, tuning());

    let batches = receive_until(&mut receiver, |batches| frames(batches) >= 40).await;
    assert!(batches.iter().all(|batch| batch.source == "bluesky"));
    let degraded = tokio::time::timeout(PATIENCE, async {
        loop {
            let status = down.stats.snapshot();
            if status.state == "degraded" {
                return status;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the refused source never became degraded");
    assert!(degraded.consecutive_failures >= 3);
    assert!(degraded.last_error.is_some());
    assert_eq!(degraded.frames, 0);
    assert_eq!(degraded.kind, "jetstream");
    assert!(refusing.connections() >= 3);
    assert_eq!(up.stats.snapshot().state, "live");
    down.stop().await;
    up.stop().await;
}

#[tokio::test]
async fn an_idle_connection_is_a_failure_and_reconnects() {
    let events: Vec<String> = (0..2).map(synthetic_event).collect();
    let server = FakeJetstream::start(events, FakeOptions::default()).expect("server");
    let (sender, mut receiver) = mpsc::channel(16);
    let quick = Tuning { idle_timeout: Duration::from_millis(200), ..tuning() };
    let running = start(jetstream_spec(&server.url()), None, None, sender, quick);
    // The server sends two events, then nothing: each connection idles out and resumes.
    let batches = receive_until(&mut receiver, |batches| frames(batches) >= 4).await;
    let status = running.stats.snapshot();
    running.stop().await;
    assert!(server.connections() >= 2);
    assert!(status.last_error.as_deref().is_some_and(|error| error.starts_with("no frame")));
    assert_eq!(post_ids(&records(&batches)).len(), 2);
}

// Mastodon.

fn status_template() -> Option<Value> {
    let data = shared_data()?;
    let path = data.join("connector-payloads/mastodon-api-docs/entities-Status-01.json");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let status: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    assert!(status.is_object(), "{}", path.display());
    Some(status)
}

/// Copies of the status with the ids `ids`.
fn statuses(template: &Value, ids: impl Iterator<Item = u64>) -> Vec<Value> {
    ids.map(|id| {
        let mut status = template.clone();
        status["id"] = Value::String(id.to_string());
        status["uri"] = Value::String(format!("https://example.test/statuses/{id}"));
        status["url"] = Value::String(format!("https://example.test/@someone/{id}"));
        status
    })
    .collect()
}

fn mastodon_spec(kind: &str, url: &str) -> SourceConfig {
    SourceConfig::new("mastodon", kind, url)
}

#[tokio::test]
async fn mastodon_statuses_parse_as_posts() {
    let Some(template) = status_template() else { return };
    let mut output = Output::default();
    mastodon::parse_document(&Value::Array(statuses(&template, 1..=3)), None, &mut output);
    assert_eq!(output.records.len(), 3, "{:?}", output.rejected);
}

#[tokio::test]
async fn mastodon_sse_updates_deletes_and_heartbeats() {
    let Some(template) = status_template() else { return };
    let options = FakeOptions {
        garbage_every: Some(5),
        extra_events: vec![
            ("delete".to_owned(), "12345".to_owned()),
            ("filters_changed".to_owned(), String::new()),
        ],
        ..FakeOptions::default()
    };
    let server = FakeMastodon::start(statuses(&template, 95..105), options).expect("server");
    let (sender, mut receiver) = mpsc::channel(16);
    let token = Some("secret-token".to_owned());
    let running = start(mastodon_spec("mastodon", &server.url()), token, None, sender, tuning());
    // 10 updates (half of them on several data lines), 2 garbage, 1 delete, 1 other.
    let batches = receive_until(&mut receiver, |batches| frames(batches) >= 14).await;
    running.stop().await;

    let records = records(&batches);
    let ids: BTreeSet<String> = (95..105).map(|id: u64| id.to_string()).collect();
    assert_eq!(post_ids(&records), ids);
    assert!(records.iter().all(|record| match record {
        Record::Post(post) => post.platform == "mastodon",
        _ => true,
    }));
    assert!(records.contains(&Record::Delete { platform: "mastodon".into(), id: "12345".into() }));
    assert!(records.contains(&Record::Other { kind: "mastodon_filters_changed".into() }));
    let rejected: usize = batches.iter().map(|batch| batch.output.rejected.len()).sum();
    assert_eq!(rejected, 2);
    // Ids compare as numbers: 104 is greater than 99.
    assert_eq!(batches.last().and_then(|batch| batch.cursor.clone()).as_deref(), Some("104"));
    assert!(server.requests().iter().any(|request| request == "/api/v1/streaming/public"));
}

#[tokio::test]
async fn mastodon_websocket_stream() {
    let Some(template) = status_template() else { return };
    let options = FakeOptions {
        garbage_every: Some(3),
        extra_events: vec![("delete".to_owned(), "777".to_owned())],
        ..FakeOptions::default()
    };
    let server = FakeMastodon::start(statuses(&template, 1..=6), options).expect("server");
    let (sender, mut receiver) = mpsc::channel(16);
    let mut spec = mastodon_spec("mastodon", &server.url());
    spec.transport = "websocket".to_owned();
    spec.stream = "hashtag".to_owned();
    spec.hashtag = Some("ozempic".to_owned());
    let running = start(spec, Some("tok".to_owned()), None, sender, tuning());
    // 6 updates, 2 garbage, 1 delete.
    let batches = receive_until(&mut receiver, |batches| frames(batches) >= 9).await;
    running.stop().await;
    let records = records(&batches);
    assert_eq!(post_ids(&records).len(), 6);
    assert!(records.contains(&Record::Delete { platform: "mastodon".into(), id: "777".into() }));
    let rejected: usize = batches.iter().map(|batch| batch.output.rejected.len()).sum();
    assert_eq!(rejected, 2);
    let request = server.requests().first().cloned().unwrap_or_default();
    assert!(request.starts_with("/api/v1/streaming?stream=hashtag&tag=ozempic"), "{request}");
    assert!(request.contains("access_token=tok"), "{request}");
}

#[tokio::test]
async fn mastodon_reconnection_fills_the_gap_by_polling() {
    let Some(template) = status_template() else { return };
    // History 95..=194; the stream only carries the last 10; the stored cursor is 96.
    let options = FakeOptions { stream_last: Some(10), ..FakeOptions::default() };
    let server = FakeMastodon::start(statuses(&template, 95..=194), options).expect("server");
    let (sender, mut receiver) = mpsc::channel(16);
    let cursor = Some("96".to_owned());
    let running = start(mastodon_spec("mastodon", &server.url()), None, cursor, sender, tuning());
    let expected: BTreeSet<String> = (97..=194).map(|id: u64| id.to_string()).collect();
    let batches =
        receive_until(&mut receiver, |batches| post_ids(&records(batches)) == expected).await;
    running.stop().await;
    assert!(!post_ids(&records(&batches)).contains("96"));
    let polls: Vec<String> = server
        .requests()
        .into_iter()
        .filter(|request| request.starts_with("/api/v1/timelines/public"))
        .collect();
    assert_eq!(
        polls,
        vec![
            "/api/v1/timelines/public?limit=40&min_id=96",
            "/api/v1/timelines/public?limit=40&min_id=136",
            "/api/v1/timelines/public?limit=40&min_id=176",
        ]
    );
    assert_eq!(batches.last().and_then(|batch| batch.cursor.clone()).as_deref(), Some("194"));
}

#[tokio::test]
async fn mastodon_polling_takes_one_page_then_pages_forward() {
    let Some(template) = status_template() else { return };
    let server =
        FakeMastodon::start(statuses(&template, 1..=50), FakeOptions::default()).expect("server");
    let (sender, mut receiver) = mpsc::channel(16);
    let mut spec = mastodon_spec("mastodon-poll", &server.url());
    spec.stream = "public:local".to_owned();
    let running = start(spec, None, None, sender, tuning());
    let batches = receive_until(&mut receiver, |batches| frames(batches) >= 40).await;
    let patience = tokio::time::timeout(PATIENCE, async {
        while server.requests().len() < 2 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert!(patience.is_ok());
    let status = running.stats.snapshot();
    running.stop().await;
    let expected: BTreeSet<String> = (11..=50).map(|id: u64| id.to_string()).collect();
    assert_eq!(post_ids(&records(&batches)), expected);
    let requests = server.requests();
    assert_eq!(
        requests.first().map(String::as_str),
        Some("/api/v1/timelines/public?local=true&limit=40")
    );
    assert_eq!(
        requests.get(1).map(String::as_str),
        Some("/api/v1/timelines/public?local=true&limit=40&min_id=50")
    );
    assert_eq!(status.state, "live");
    assert_eq!(status.cursor.as_deref(), Some("50"));
}

#[tokio::test]
async fn a_dropped_consumer_stops_the_source() {
    let refusing =
        FakeJetstream::start(Vec::new(), FakeOptions { refuse: true, ..FakeOptions::default() })
            .expect("server");
    let (sender, receiver) = mpsc::channel(1);
    let running = start(jetstream_spec(&refusing.url()), None, None, sender, tuning());
    drop(receiver);
    let finished = tokio::time::timeout(PATIENCE, running.task).await;
    assert!(matches!(finished, Ok(Ok(()))));
    assert_eq!(running.stats.snapshot().state, "stopped");
}

#[tokio::test]
async fn a_failed_tls_handshake_is_a_failure_not_a_panic() {
    // The server accepts and closes: the wss:// client builds its TLS configuration, then
    // fails the handshake.
    let refusing =
        FakeJetstream::start(Vec::new(), FakeOptions { refuse: true, ..FakeOptions::default() })
            .expect("server");
    let url = refusing.url().replacen("ws://", "wss://", 1);
    let (sender, _receiver) = mpsc::channel(1);
    let mut spec = jetstream_spec(&url);
    spec.degraded_after = 2;
    let running = start(spec, None, None, sender, tuning());
    let degraded = tokio::time::timeout(PATIENCE, async {
        while running.stats.snapshot().state != "degraded" {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert!(degraded.is_ok());
    assert!(
        running.stats.snapshot().last_error.is_some_and(|error| error.starts_with("websocket"))
    );
    running.stop().await;
}

#[tokio::test]
async fn a_mastodon_stream_that_is_down_falls_back_to_polling() {
    let Some(template) = status_template() else { return };
    let options = FakeOptions { refuse_streams: true, ..FakeOptions::default() };
    let server = FakeMastodon::start(statuses(&template, 1..=5), options).expect("server");
    let (sender, mut receiver) = mpsc::channel(16);
    let mut spec = mastodon_spec("mastodon", &server.url());
    spec.degraded_after = 2;
    let running = start(spec, None, None, sender, tuning());
    let batches = receive_until(&mut receiver, |batches| frames(batches) >= 5).await;
    let degraded = tokio::time::timeout(PATIENCE, async {
        while running.stats.snapshot().state != "degraded" {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert!(degraded.is_ok());
    let status = running.stats.snapshot();
    running.stop().await;
    let expected: BTreeSet<String> = (1..=5).map(|id: u64| id.to_string()).collect();
    assert_eq!(post_ids(&records(&batches)), expected);
    assert!(status.last_error.is_some_and(|error| error.contains("503")));
    assert!(
        server.requests().iter().any(|request| request.starts_with("/api/v1/timelines/public"))
    );
}
