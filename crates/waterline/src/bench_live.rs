//! `waterline bench live`: the end-to-end latency from an event arriving at a source to the
//! alert on an open dashboard, the sustained rate one process holds, and its memory.
//!
//! One process runs everything a deployment runs: a local fake Jetstream server sends the
//! events at a set rate, `waterline serve` (with the workspace's source pointed at it) reads,
//! filters, enriches, screens, stores and alerts, and a client holds the dashboard's event
//! stream (`/api/v1/events`) open. Every `pv_every`-th event is an urgent post (a product
//! named with an adverse reaction); its latency is the time from the fake server writing it
//! to the client reading its `alert` event. Resident memory is sampled every second.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use futures::StreamExt;
use serde_json::json;
use waterline_ingest::live::testing::{FakeJetstream, FakeOptions};

use waterline_app::workspace::Workspace;

/// What to run.
#[derive(Debug, Clone)]
pub struct LiveBench {
    /// Events to replay.
    pub events: usize,
    /// Events per second (0: as fast as the pipeline takes them).
    pub rate: f64,
    /// Every this many events, an urgent post.
    pub pv_every: usize,
    /// One event in this many names the brand (the relevance filter keeps it); the others
    /// are firehose noise it drops. 1 keeps everything.
    pub keep_every: usize,
    /// Print JSON.
    pub json: bool,
}

const TEXTS: &[&str] = &[
    "Great walk by the river this morning, the light was unreal",
    "Anyone know a good bakery near the station? Asking for a friend",
    "Match tonight was a disaster, we need a new coach",
    "Finally finished that book, the ending surprised me",
    "Traffic on the ring road is terrible again today",
    "New phone arrived, battery life looks much better so far",
    "Cooking a big pot of soup for the week, recipes welcome",
    "The concert last night was loud and wonderful",
    "Looking for recommendations: quiet cafes to work from",
    "Rain all weekend, so it is a board games weekend",
    "Our team shipped the release, time for a long nap",
    "Is it just me or are trains later every week",
];

fn event(index: usize, created: chrono::DateTime<chrono::Utc>, text: &str) -> String {
    waterline_ingest::live::testing::jetstream_post(
        &format!("did:plc:bench{}", index % 5_000),
        &format!("b{index:09}"),
        1_800_000_000_000_000_u64 + index as u64,
        &created.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        text,
    )
}

fn resident_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted.get(rank.min(sorted.len() - 1)).copied()
}

/// Runs the benchmark and prints its figures.
pub fn run(bench: &LiveBench) -> Result<()> {
    if bench.events == 0 || bench.pv_every == 0 {
        bail!("--events and --pv-every must be at least 1");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let figures = runtime.block_on(measure(bench))?;
    if bench.json {
        crate::output::line(&serde_json::to_string_pretty(&figures)?);
    } else {
        for (key, value) in figures.as_object().into_iter().flatten() {
            crate::output::line(&format!("{key:<34} {value}"));
        }
    }
    Ok(())
}

async fn measure(bench: &LiveBench) -> Result<serde_json::Value> {
    let dir = tempfile::tempdir()?;
    let config = "brand = \"Cardiozen\"\ntime_zone = \"UTC\"\n\n[[products]]\nname = \"Cardiozen\"\ninns = [\"zentrilol\"]\n\n[[sources]]\nname = \"bench\"\ntype = \"jetstream\"\nendpoint = \"ws://127.0.0.1:9/subscribe\"\nfilter = \"workspace\"\n\n[[alerts.rules]]\nname = \"urgent\"\ntype = \"pv\"\n\n[[alerts.rules]]\nname = \"volume\"\ntype = \"volume\"\nwindow = \"1m\"\nreference = 10\nk = 4.0\nmin_count = 50\ncooldown = \"10m\"\n";
    fs_err::write(dir.path().join("waterline.toml"), config)?;
    let workspace = Workspace::open(Some(dir.path()))?;
    // The events, with event times spread at the replay rate, and the case id each urgent
    // post will open.
    let start = chrono::Utc::now();
    // Event times follow the asked rate; as fast as possible, they are a firehose of 1,000
    // events a second (3.6 million events replay an hour).
    let spacing = if bench.rate > 0.0 { 1.0 / bench.rate } else { 0.001 };
    let mut events = Vec::with_capacity(bench.events);
    let mut urgent: HashMap<String, usize> = HashMap::new();
    for index in 0..bench.events {
        let created = start
            + chrono::Duration::microseconds((index as f64 * spacing * 1e6) as i64)
            + chrono::Duration::seconds(5);
        // Urgent posts start after the first five seconds, once the dashboard listens.
        let settled = (index as f64) * spacing > 5.0 || bench.rate <= 0.0;
        let text = if settled && index % bench.pv_every == bench.pv_every - 1 {
            let text = format!(
                "Started Cardiozen {} days ago and now I have terrible dizziness and a rash",
                index % 90 + 2
            );
            let post_key = format!(
                "bluesky:at://did:plc:bench{}/app.bsky.feed.post/b{index:09}",
                index % 5_000
            );
            urgent.insert(waterline_model::pv::case_id(&post_key), index);
            text
        } else if index % bench.keep_every.max(1) == 0 {
            format!("Cardiozen: {} #{}", TEXTS[index % TEXTS.len()], index % 997)
        } else {
            format!("{} #{}", TEXTS[index % TEXTS.len()], index % 997)
        };
        events.push(event(index, created, &text));
    }
    let options = FakeOptions {
        rate_per_second: (bench.rate > 0.0).then_some(bench.rate),
        ..FakeOptions::default()
    };
    // The server, with its live source pointed at the fake; then the dashboard's stream.
    let probe = std::net::TcpListener::bind("127.0.0.1:0")?;
    let address = probe.local_addr()?;
    drop(probe);
    let args = crate::cli::ServeArgs {
        listen: address,
        require_token: false,
        no_listen: false,
        sources: Vec::new(),
        allowed_hosts: Vec::new(),
        anonymous_authors: false,
        max_in_flight: 32,
        accept_broken_audit_trail: false,
    };
    let client = reqwest::Client::new();
    let mut received: HashMap<String, Instant> = HashMap::new();
    let mut samples: Vec<(f64, f64)> = Vec::new();
    // The fake starts sending once the stream is open (its first connection), so start it
    // first and give its URL to the server.
    let fake = FakeJetstream::start(events, options)?;
    let mut serve_args = args;
    serve_args.sources = vec![format!("bench={}", fake.url())];
    let server_workspace = workspace.clone();
    // `WATERLINE_BENCH_LISTEN_ONLY=1` runs the live runner without the server and the
    // dashboard client (no latency then): memory of the runner alone.
    let listen_only = std::env::var("WATERLINE_BENCH_LISTEN_ONLY").is_ok_and(|value| value == "1");
    let server = if listen_only {
        let (_stop, stop_rx) = tokio::sync::watch::channel(false);
        let options = waterline_app::live::ListenOptions {
            overrides: serve_args.sources.clone(),
            ..waterline_app::live::ListenOptions::default()
        };
        tokio::spawn(async move {
            let _keep = _stop;
            waterline_app::live::listen(&server_workspace, &options, stop_rx).await.map(|_| ())
        })
    } else {
        tokio::spawn(
            async move { crate::commands::serve::serve(server_workspace, &serve_args).await },
        )
    };
    type Chunks = std::pin::Pin<Box<dyn futures::Stream<Item = reqwest::Result<Vec<u8>>> + Send>>;
    let mut stream: Chunks = if listen_only {
        Box::pin(futures::stream::pending())
    } else {
        let url = format!("http://{address}/api/v1/events");
        let response = loop {
            match client.get(&url).send().await {
                Ok(response) => break response,
                Err(_) if !server.is_finished() => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(error) => return Err(error).context("the server did not start"),
            }
        };
        Box::pin(response.bytes_stream().map(|chunk| chunk.map(|bytes| bytes.to_vec())))
    };
    let began = Instant::now();
    let mut buffer = String::new();
    let mut event_name = String::new();
    let mut last_sample = Instant::now();
    let total = bench.events;
    let expected_alerts = urgent.len();
    let mut all_sent_at: Option<Instant> = None;
    loop {
        let next = tokio::time::timeout(Duration::from_millis(200), stream.next()).await;
        if let Ok(Some(Ok(chunk))) = next {
            let now = Instant::now();
            buffer.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buffer.find('\n') {
                let line: String = buffer.drain(..=end).collect();
                let line = line.trim_end();
                if let Some(name) = line.strip_prefix("event: ") {
                    event_name = name.to_owned();
                } else if let Some(data) = line.strip_prefix("data: ")
                    && event_name == "alert"
                    && let Ok(alert) = serde_json::from_str::<serde_json::Value>(data)
                    && let Some(key) = alert["key"].as_str()
                {
                    received.entry(key.to_owned()).or_insert(now);
                }
            }
        }
        if last_sample.elapsed() >= Duration::from_secs(1) {
            if samples.len().is_multiple_of(300) && bench.events > 1_000_000 {
                crate::output::line(&format!(
                    "{:>6.0} s: {} urgent alerts received, resident {:.0} MiB",
                    began.elapsed().as_secs_f64(),
                    received.len(),
                    resident_mib().unwrap_or(0.0)
                ));
            }
            last_sample = Instant::now();
            if let Some(rss) = resident_mib() {
                samples.push((began.elapsed().as_secs_f64(), rss));
            }
        }
        // Cheap: one slot, not a copy of every send time (that copy, every 200 ms, would
        // be the largest allocation of the process and show in its memory).
        if all_sent_at.is_none() && fake.sent_at(total - 1).is_some() {
            all_sent_at = Some(Instant::now());
        }
        let done_alerts = urgent.keys().filter(|key| received.contains_key(*key)).count();
        if let Some(at) = all_sent_at
            && (done_alerts >= expected_alerts || at.elapsed() > Duration::from_secs(60))
        {
            break;
        }
        if began.elapsed() > Duration::from_secs(4 * 3600) {
            break;
        }
    }
    // Wait for the store to hold everything (the cursor reaches the last event).
    let state =
        waterline_store::state::StateDb::open(&workspace.data_dir().join("state.db")).await?;
    let last_cursor = (1_800_000_000_000_000_u64 + total as u64 - 1).to_string();
    let stored_by = loop {
        let cursors = state.source_cursors().await?;
        if cursors.iter().any(|(_, cursor)| *cursor == last_cursor) {
            break Some(began.elapsed());
        }
        if began.elapsed() > Duration::from_secs(4 * 3600) {
            break None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let sent_times = fake.sent_times();
    let first_sent = sent_times.iter().flatten().min().copied();
    let last_sent = sent_times.iter().flatten().max().copied();
    let mut latencies: Vec<f64> = urgent
        .iter()
        .filter_map(|(key, index)| {
            let sent = sent_times.get(*index).copied().flatten()?;
            let got = received.get(key)?;
            Some(got.saturating_duration_since(sent).as_secs_f64() * 1000.0)
        })
        .collect();
    latencies.sort_by(f64::total_cmp);
    let sending = match (first_sent, last_sent) {
        (Some(first), Some(last)) => last.duration_since(first).as_secs_f64(),
        _ => 0.0,
    };
    let processed = match (first_sent, stored_by) {
        (Some(first), Some(_)) => {
            let first_offset = first.saturating_duration_since(began).as_secs_f64();
            stored_by.map(|at| at.as_secs_f64() - first_offset)
        }
        _ => None,
    };
    server.abort();
    let rss_start = samples.first().map(|sample| sample.1);
    let rss_peak = samples
        .iter()
        .map(|sample| sample.1)
        .fold(None, |peak: Option<f64>, value| Some(peak.map_or(value, |p| p.max(value))));
    let rss_end = samples.last().map(|sample| sample.1);
    let half = samples.len() / 2;
    let rss_second_half_growth =
        (samples.len() >= 4).then(|| samples[samples.len() - 1].1 - samples[half].1);
    let at_minute = |minute: f64| {
        samples.iter().find(|sample| sample.0 >= minute * 60.0).map(|sample| sample.1.round())
    };
    Ok(json!({
        "events": total,
        "kept_one_in": bench.keep_every,
        "rss_mib_at_1_5_15_30_60_min": [at_minute(1.0), at_minute(5.0), at_minute(15.0), at_minute(30.0), at_minute(60.0)],
        "rate_asked_per_s": bench.rate,
        "send_seconds": (sending * 100.0).round() / 100.0,
        "stored_all_after_s": processed.map(|s| (s * 100.0).round() / 100.0),
        "sustained_events_per_s": processed.filter(|s| *s > 0.0).map(|s| (total as f64 / s).round()),
        "urgent_posts": expected_alerts,
        "urgent_alerts_received": latencies.len(),
        "latency_ms_median": percentile(&latencies, 50.0).map(|v| (v * 10.0).round() / 10.0),
        "latency_ms_p99": percentile(&latencies, 99.0).map(|v| (v * 10.0).round() / 10.0),
        "latency_ms_max": latencies.last().map(|v| (v * 10.0).round() / 10.0),
        "rss_mib_start": rss_start.map(|v| v.round()),
        "rss_mib_peak": rss_peak.map(|v| v.round()),
        "rss_mib_end": rss_end.map(|v| v.round()),
        "rss_mib_growth_second_half": rss_second_half_growth.map(|v| v.round()),
        "cores": std::thread::available_parallelism().map(std::num::NonZero::get).unwrap_or(1),
    }))
}
