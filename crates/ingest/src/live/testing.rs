//! Fake Jetstream and Mastodon servers on 127.0.0.1, for tests and benchmarks.
//!
//! Both speak just enough HTTP/1.1 and WebSocket to serve the live sources: a request head
//! is read, then the connection is upgraded to a WebSocket, answered with an event stream,
//! or answered with a JSON page and closed. [`FakeOptions`] makes them misbehave (pace,
//! disconnect, send garbage or duplicates, refuse connections), and they remember when each
//! event was first sent so that a benchmark can measure the delay to the store.
//! They must be started inside a Tokio runtime.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;

use super::{id_greater, lock};

/// How a fake server misbehaves; the default serves everything once, as fast as it can.
#[derive(Debug, Clone, Default)]
pub struct FakeOptions {
    /// Events per second (paced sending); `None` sends as fast as possible.
    pub rate_per_second: Option<f64>,
    /// Closes each connection after this many events.
    pub disconnect_after: Option<usize>,
    /// Sends a malformed frame after every N-th event.
    pub garbage_every: Option<usize>,
    /// Sends every N-th event twice.
    pub duplicate_every: Option<usize>,
    /// Accepts each connection and closes it at once.
    pub refuse: bool,
    /// Mastodon: answers the streaming endpoints with `503 Service Unavailable` (the
    /// timelines still answer).
    pub refuse_streams: bool,
    /// Mastodon streams: stream only the last N statuses (the others are history, reachable
    /// by polling the timeline).
    pub stream_last: Option<usize>,
    /// Mastodon streams: extra events (name, data) sent after the statuses, such as
    /// `("delete", "123")`.
    pub extra_events: Vec<(String, String)>,
}

/// What the connections of a fake server share.
#[derive(Debug)]
struct Shared {
    connections: AtomicUsize,
    sent_at: Mutex<Vec<Option<Instant>>>,
    requests: Mutex<Vec<String>>,
    tasks: Mutex<Vec<AbortHandle>>,
}

impl Shared {
    fn new(events: usize) -> Shared {
        Shared {
            connections: AtomicUsize::new(0),
            sent_at: Mutex::new(vec![None; events]),
            requests: Mutex::new(Vec::new()),
            tasks: Mutex::new(Vec::new()),
        }
    }

    fn sent(&self, index: usize) {
        if let Some(slot) = lock(&self.sent_at).get_mut(index) {
            slot.get_or_insert_with(Instant::now);
        }
    }
}

/// A listening fake server: its address and shared state; stops when dropped. Both fakes
/// deref to it for what they share (connections, send times, requests, stopping).
#[derive(Debug)]
pub struct Server {
    address: SocketAddr,
    shared: Arc<Shared>,
}

impl Server {
    fn start<F, Fut>(events: usize, refuse: bool, serve: F) -> io::Result<Server>
    where
        F: Fn(TcpStream, Arc<Shared>) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        let runtime = tokio::runtime::Handle::try_current().map_err(io::Error::other)?;
        let _guard = runtime.enter();
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        std_listener.set_nonblocking(true)?;
        let listener = TcpListener::from_std(std_listener)?;
        let address = listener.local_addr()?;
        let shared = Arc::new(Shared::new(events));
        let accepting = Arc::clone(&shared);
        let task = runtime.spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                accepting.connections.fetch_add(1, Ordering::Relaxed);
                if refuse {
                    drop(stream);
                    continue;
                }
                let connection = tokio::spawn(serve(stream, Arc::clone(&accepting)));
                lock(&accepting.tasks).push(connection.abort_handle());
            }
        });
        lock(&shared.tasks).push(task.abort_handle());
        Ok(Server { address, shared })
    }

    /// Stops listening and closes every connection.
    pub fn stop(&self) {
        for task in lock(&self.shared.tasks).drain(..) {
            task.abort();
        }
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::Relaxed)
    }

    /// When the event (Jetstream) or status in id order (Mastodon) at `index` was first sent.
    pub fn sent_at(&self, index: usize) -> Option<Instant> {
        lock(&self.shared.sent_at).get(index).copied().flatten()
    }

    /// When each event was first sent, by index.
    pub fn sent_times(&self) -> Vec<Option<Instant>> {
        lock(&self.shared.sent_at).clone()
    }

    /// The request targets (path and query) received, in order.
    pub fn requests(&self) -> Vec<String> {
        lock(&self.shared.requests).clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A fake Bluesky Jetstream: serves its events over WebSocket at `/subscribe` in `time_us`
/// order (as Jetstream does), from the `cursor` of the request (events whose `time_us` is at
/// least the cursor; events without `time_us` always).
#[derive(Debug)]
pub struct FakeJetstream {
    server: Server,
}

impl FakeJetstream {
    /// Starts serving `events` (one JSON text each) on 127.0.0.1 at a free port.
    pub fn start(events: Vec<String>, options: FakeOptions) -> io::Result<FakeJetstream> {
        let events = Arc::new(events);
        let refuse = options.refuse;
        let options = Arc::new(options);
        let server = Server::start(events.len(), refuse, move |stream, shared| {
            serve_jetstream(stream, Arc::clone(&events), Arc::clone(&options), shared)
        })?;
        Ok(FakeJetstream { server })
    }

    /// The subscription URL (`ws://127.0.0.1:PORT/subscribe`).
    pub fn url(&self) -> String {
        format!("ws://{}/subscribe", self.server.address)
    }
}

impl std::ops::Deref for FakeJetstream {
    type Target = Server;
    fn deref(&self) -> &Server {
        &self.server
    }
}

/// A fake Mastodon instance: the streaming API (server-sent events at
/// `/api/v1/streaming/...`, WebSocket at `/api/v1/streaming`) and the timelines
/// (`/api/v1/timelines/...`, newest first, paged with `min_id` and `limit`).
#[derive(Debug)]
pub struct FakeMastodon {
    server: Server,
}

impl FakeMastodon {
    /// Starts serving `statuses` (sorted by id) on 127.0.0.1 at a free port.
    pub fn start(mut statuses: Vec<Value>, options: FakeOptions) -> io::Result<FakeMastodon> {
        statuses.sort_by(|a, b| {
            let (a, b) = (status_id(a), status_id(b));
            if id_greater(a, b) {
                std::cmp::Ordering::Greater
            } else if id_greater(b, a) {
                std::cmp::Ordering::Less
            } else {
                std::cmp::Ordering::Equal
            }
        });
        let statuses = Arc::new(statuses);
        let refuse = options.refuse;
        let options = Arc::new(options);
        let server = Server::start(statuses.len(), refuse, move |stream, shared| {
            serve_mastodon(stream, Arc::clone(&statuses), Arc::clone(&options), shared)
        })?;
        Ok(FakeMastodon { server })
    }

    /// The instance's base URL (`http://127.0.0.1:PORT`).
    pub fn url(&self) -> String {
        format!("http://{}", self.server.address)
    }
}

impl std::ops::Deref for FakeMastodon {
    type Target = Server;
    fn deref(&self) -> &Server {
        &self.server
    }
}

fn status_id(status: &Value) -> &str {
    status.get("id").and_then(Value::as_str).unwrap_or_default()
}

/// A request head: its target and headers (names lowercase).
struct Head {
    target: String,
    headers: Vec<(String, String)>,
}

impl Head {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }

    fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }

    fn query(&self, name: &str) -> Option<&str> {
        let (_, query) = self.target.split_once('?')?;
        query.split('&').find_map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (key == name).then_some(value)
        })
    }

    fn is_upgrade(&self) -> bool {
        self.header("upgrade").is_some_and(|value| value.eq_ignore_ascii_case("websocket"))
    }
}

/// Reads a request head (up to the blank line).
async fn read_head(stream: &mut TcpStream, shared: &Shared) -> Option<Head> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 1024];
    while !buffer.windows(4).any(|window| window == b"\r\n\r\n") {
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 || buffer.len() > 64 * 1024 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..read]);
    }
    let text = String::from_utf8_lossy(&buffer);
    let mut lines = text.split("\r\n");
    let target = lines.next()?.split(' ').nth(1)?.to_owned();
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    lock(&shared.requests).push(target.clone());
    Some(Head { target, headers })
}

/// Answers a WebSocket handshake and wraps the connection.
async fn upgrade(mut stream: TcpStream, head: &Head) -> Option<WebSocketStream<TcpStream>> {
    let key = head.header("sec-websocket-key")?;
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n\r\n",
        derive_accept_key(key.as_bytes())
    );
    stream.write_all(response.as_bytes()).await.ok()?;
    Some(WebSocketStream::from_raw_socket(stream, Role::Server, None).await)
}

/// One step of what a connection sends.
enum Step {
    /// The event at this index.
    Event(usize),
    /// A malformed frame.
    Garbage,
}

fn every(option: Option<usize>, count: usize) -> bool {
    option.is_some_and(|every| every > 0 && count.is_multiple_of(every))
}

/// What one connection sends: the events at `indices` with duplicates and garbage mixed in,
/// and whether the connection closes after them.
fn plan(indices: impl Iterator<Item = usize>, options: &FakeOptions) -> (Vec<Step>, bool) {
    let mut steps = Vec::new();
    for (count, index) in indices.enumerate().map(|(count, index)| (count + 1, index)) {
        steps.push(Step::Event(index));
        if every(options.duplicate_every, count) {
            steps.push(Step::Event(index));
        }
        if every(options.garbage_every, count) {
            steps.push(Step::Garbage);
        }
        if options.disconnect_after.is_some_and(|limit| count >= limit) {
            return (steps, true);
        }
    }
    (steps, false)
}

/// The schedule of a paced connection: event `n` is due `n / rate` seconds after the first,
/// so a timer's coarseness (about a millisecond) does not slow a fast rate down.
#[derive(Debug, Default)]
struct Pacer {
    start: Option<tokio::time::Instant>,
    sent: u32,
}

/// Waits until the next event is due when sending is paced.
async fn pace(options: &FakeOptions, pacer: &mut Pacer) {
    let Some(rate) = options.rate_per_second.filter(|rate| *rate > 0.0) else { return };
    let start = *pacer.start.get_or_insert_with(tokio::time::Instant::now);
    let due = start + Duration::from_secs_f64(f64::from(pacer.sent) / rate);
    pacer.sent = pacer.sent.saturating_add(1);
    if due > tokio::time::Instant::now() + Duration::from_millis(1) {
        tokio::time::sleep_until(due).await;
    }
}

/// Keeps a WebSocket open (answering pings) until the client closes it.
async fn hold(mut socket: WebSocketStream<TcpStream>) {
    while let Some(Ok(message)) = socket.next().await {
        if matches!(message, Message::Close(_)) {
            break;
        }
    }
}

async fn serve_jetstream(
    mut stream: TcpStream,
    events: Arc<Vec<String>>,
    options: Arc<FakeOptions>,
    shared: Arc<Shared>,
) {
    let Some(head) = read_head(&mut stream, &shared).await else { return };
    let cursor = head.query("cursor").and_then(|cursor| cursor.parse::<u64>().ok());
    let Some(mut socket) = upgrade(stream, &head).await else { return };
    // In `time_us` order, as Jetstream sends them; from the cursor on, inclusively.
    let mut wanted: Vec<(usize, Option<u64>)> = events
        .iter()
        .map(|event| {
            serde_json::from_str::<Value>(event)
                .ok()
                .and_then(|event| event.get("time_us").and_then(Value::as_u64))
        })
        .enumerate()
        .filter(|(_, time)| match (cursor, time) {
            (Some(cursor), Some(time)) => *time >= cursor,
            _ => true,
        })
        .collect();
    wanted.sort_by_key(|(_, time)| time.unwrap_or(0));
    let (steps, close) = plan(wanted.into_iter().map(|(index, _)| index), &options);
    let mut first = Pacer::default();
    for step in steps {
        let text = match step {
            Step::Event(index) => {
                pace(&options, &mut first).await;
                shared.sent(index);
                events.get(index).cloned().unwrap_or_default()
            }
            Step::Garbage => "{\"kind\": \"commit\", garbage".to_owned(),
        };
        if socket.send(Message::text(text)).await.is_err() {
            return;
        }
    }
    if close {
        let _ = socket.close(None).await;
        return;
    }
    hold(socket).await;
}

async fn serve_mastodon(
    mut stream: TcpStream,
    statuses: Arc<Vec<Value>>,
    options: Arc<FakeOptions>,
    shared: Arc<Shared>,
) {
    let Some(head) = read_head(&mut stream, &shared).await else { return };
    let path = head.path().to_owned();
    if options.refuse_streams && path.starts_with("/api/v1/streaming") {
        let unavailable = response("503 Service Unavailable", "text/plain", "");
        let _ = stream.write_all(unavailable.as_bytes()).await;
    } else if path == "/api/v1/streaming" && head.is_upgrade() {
        let Some(socket) = upgrade(stream, &head).await else { return };
        mastodon_websocket(socket, &statuses, &options, &shared).await;
    } else if path.starts_with("/api/v1/streaming/") {
        mastodon_sse(stream, &statuses, &options, &shared).await;
    } else if path.starts_with("/api/v1/timelines/") {
        let page = timeline(&head, &statuses, &shared);
        let _ = stream.write_all(response("200 OK", "application/json", &page).as_bytes()).await;
    } else {
        let _ = stream.write_all(response("404 Not Found", "text/plain", "").as_bytes()).await;
    }
}

fn response(status: &str, content_type: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )
}

/// A timeline page: the `limit` statuses just newer than `min_id` (or the newest), newest first.
fn timeline(head: &Head, statuses: &[Value], shared: &Shared) -> String {
    let limit = head.query("limit").and_then(|limit| limit.parse().ok()).unwrap_or(20).min(40);
    let indices: Vec<usize> = match head.query("min_id") {
        Some(min_id) => (0..statuses.len())
            .filter(|index| statuses.get(*index).is_some_and(|s| id_greater(status_id(s), min_id)))
            .take(limit)
            .collect(),
        None => (statuses.len().saturating_sub(limit)..statuses.len()).collect(),
    };
    let page: Vec<Value> = indices
        .iter()
        .rev()
        .filter_map(|index| {
            shared.sent(*index);
            statuses.get(*index).cloned()
        })
        .collect();
    Value::Array(page).to_string()
}

/// The events a Mastodon stream sends: (status index, event, data).
fn mastodon_events(
    statuses: &[Value],
    options: &FakeOptions,
) -> (Vec<(Option<usize>, String, String)>, bool) {
    let first = options.stream_last.map_or(0, |last| statuses.len().saturating_sub(last));
    let (steps, close) = plan(first..statuses.len(), options);
    let mut events: Vec<(Option<usize>, String, String)> = steps
        .into_iter()
        .map(|step| match step {
            Step::Event(index) => {
                let data = statuses.get(index).map(Value::to_string).unwrap_or_default();
                (Some(index), "update".to_owned(), data)
            }
            Step::Garbage => (None, "update".to_owned(), "{\"id\": garbage".to_owned()),
        })
        .collect();
    if !close {
        events.extend(
            options.extra_events.iter().map(|(event, data)| (None, event.clone(), data.clone())),
        );
    }
    (events, close)
}

async fn mastodon_sse(
    mut stream: TcpStream,
    statuses: &[Value],
    options: &FakeOptions,
    shared: &Shared,
) {
    let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n\
                Connection: close\r\n\r\n:)\n\n";
    if stream.write_all(head.as_bytes()).await.is_err() {
        return;
    }
    let (events, close) = mastodon_events(statuses, options);
    let mut first = Pacer::default();
    for (number, (index, event, data)) in events.into_iter().enumerate() {
        if let Some(index) = index {
            pace(options, &mut first).await;
            shared.sent(index);
        }
        // Every other status is pretty-printed: its data spans several `data:` lines.
        let data = match serde_json::from_str::<Value>(&data) {
            Ok(value) if number % 2 == 1 && value.is_object() => {
                serde_json::to_string_pretty(&value).unwrap_or(data)
            }
            _ => data,
        };
        let mut text = format!("event: {event}\n");
        for line in data.split('\n') {
            text.push_str("data: ");
            text.push_str(line);
            text.push('\n');
        }
        text.push('\n');
        if stream.write_all(text.as_bytes()).await.is_err() {
            return;
        }
    }
    if close {
        return;
    }
    // Heartbeats until the client goes away.
    loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        if stream.write_all(b":thump\n\n").await.is_err() {
            return;
        }
    }
}

async fn mastodon_websocket(
    mut socket: WebSocketStream<TcpStream>,
    statuses: &[Value],
    options: &FakeOptions,
    shared: &Shared,
) {
    let (events, close) = mastodon_events(statuses, options);
    let mut first = Pacer::default();
    for (index, event, data) in events {
        let text = match index {
            Some(index) => {
                pace(options, &mut first).await;
                shared.sent(index);
                json!({"stream": ["public"], "event": event, "payload": data}).to_string()
            }
            None if event == "update" && data.contains("garbage") => "not json {".to_owned(),
            None => json!({"stream": ["public"], "event": event, "payload": data}).to_string(),
        };
        if socket.send(Message::text(text)).await.is_err() {
            return;
        }
    }
    if close {
        let _ = socket.close(None).await;
        return;
    }
    hold(socket).await;
}

/// One Jetstream event creating a post (`app.bsky.feed.post`), as the fakes' callers build
/// their streams: the repository `did`, the record key, the event's `time_us`, the post's
/// `createdAt` (RFC 3339) and its text.
pub fn jetstream_post(did: &str, rkey: &str, time_us: u64, created_at: &str, text: &str) -> String {
    serde_json::json!({
        "did": did,
        "time_us": time_us,
        "kind": "commit",
        "commit": {
            "rev": format!("rev-{rkey}"),
            "operation": "create",
            "collection": "app.bsky.feed.post",
            "rkey": rkey,
            "cid": format!("cid-{rkey}"),
            "record": {
                "$type": "app.bsky.feed.post",
                "text": text,
                "createdAt": created_at,
                "langs": ["en"]
            }
        }
    })
    .to_string()
}
