//! Live sources: long-running readers of network streams (Bluesky Jetstream, the Mastodon
//! streaming API, Mastodon timelines polled) that turn frames into records and hand them to
//! a consumer in small batches.
//!
//! [`run`] drives one declared source until it is told to stop. It never fails: a refused
//! connection, an HTTP error, a stream closed before any frame or an idle connection is a
//! failure that is counted in [`SourceStats`] and retried after a [`Backoff`] delay. Frames
//! are grouped in [`LiveBatch`]es of at most [`Tuning::batch_frames`] frames, sent at the
//! latest [`Tuning::batch_wait`] after their first frame; the channel is bounded, so a slow
//! consumer slows the source down and nothing is dropped.

mod jetstream;
mod mastodon;
mod sse;
pub mod testing;

use std::sync::atomic::{AtomicI64, AtomicU8, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use tokio::sync::{mpsc, watch};
use waterline_model::Position;
use waterline_model::sources::SourceConfig;

use crate::output::{FieldError, Output};

/// The records of consecutive frames of one source, and the source position after them.
#[derive(Debug)]
pub struct LiveBatch {
    /// The source's name.
    pub source: String,
    /// Records and rejections of the batch's frames; each position's `line` is the frame's
    /// sequence number (1-based, counted since the process started the source).
    pub output: Output,
    /// The source position after the last frame of the batch (Jetstream: a `time_us`;
    /// Mastodon: the greatest status id seen). Store it once the batch is committed and pass
    /// it back to [`run`] on restart.
    pub cursor: Option<String>,
}

/// The settings of a running source that tests lower; [`Tuning::default`] is what [`run`] uses.
#[derive(Debug, Clone)]
pub struct Tuning {
    /// A connection that delivers nothing (not even a heartbeat) for this long is a failure.
    pub idle_timeout: Duration,
    /// The most frames in one batch.
    pub batch_frames: usize,
    /// The longest a batch waits after its first frame before it is sent.
    pub batch_wait: Duration,
    /// The first back-off ceiling.
    pub backoff_base: Duration,
    /// The greatest back-off ceiling.
    pub backoff_cap: Duration,
    /// Overrides `poll_seconds` of the source when set (tests).
    pub poll_interval: Option<Duration>,
}

/// Seconds without any frame after which a connection is given up.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

impl Default for Tuning {
    fn default() -> Tuning {
        Tuning {
            idle_timeout: IDLE_TIMEOUT,
            batch_frames: 1_000,
            batch_wait: Duration::from_millis(50),
            backoff_base: Duration::from_millis(250),
            backoff_cap: Duration::from_secs(30),
            poll_interval: None,
        }
    }
}

/// Exponential back-off with full jitter: the n-th delay in a row is drawn uniformly from
/// `[0, min(cap, base × 2ⁿ)]`.
#[derive(Debug)]
pub struct Backoff {
    base: Duration,
    cap: Duration,
    attempt: u32,
    rng: StdRng,
}

impl Backoff {
    /// A back-off starting at `base` and never above `cap`.
    pub fn new(base: Duration, cap: Duration) -> Backoff {
        Backoff { base, cap, attempt: 0, rng: StdRng::seed_from_u64(seed()) }
    }

    /// The ceiling of the next delay.
    pub fn ceiling(&self) -> Duration {
        let factor = 1u32.checked_shl(self.attempt.min(30)).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.cap)
    }

    /// The next delay (random, at most [`Backoff::ceiling`]); the ceiling then doubles.
    pub fn next_delay(&mut self) -> Duration {
        let ceiling = self.ceiling();
        self.attempt = self.attempt.saturating_add(1);
        let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(self.rng.random_range(0..=millis))
    }

    /// Back to the first ceiling (after a connection that delivered a frame).
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

impl Default for Backoff {
    /// 250 ms, doubling, at most 30 s.
    fn default() -> Backoff {
        Backoff::new(Duration::from_millis(250), Duration::from_secs(30))
    }
}

fn seed() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
    nanos ^ COUNTER.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
}

const STATES: [&str; 5] = ["starting", "live", "backing-off", "degraded", "stopped"];
const STARTING: u8 = 0;
const LIVE: u8 = 1;
const BACKING_OFF: u8 = 2;
const DEGRADED: u8 = 3;
const STOPPED: u8 = 4;

/// Counters of one running source, shared between the source and whoever reports on it.
#[derive(Debug)]
pub struct SourceStats {
    name: String,
    kind: Mutex<String>,
    state: AtomicU8,
    connects: AtomicU64,
    disconnects: AtomicU64,
    frames: AtomicU64,
    records: AtomicU64,
    rejected: AtomicU64,
    consecutive_failures: AtomicU32,
    last_event_at: AtomicI64,
    last_error: Mutex<Option<String>>,
    cursor: Mutex<Option<String>>,
}

/// A snapshot of [`SourceStats`], for the status endpoint.
#[derive(Serialize, Clone, Debug)]
pub struct SourceStatus {
    /// The source's name.
    pub name: String,
    /// Its kind (`jetstream`, `mastodon`, `mastodon-poll`), empty before it starts.
    pub kind: String,
    /// `starting`, `live`, `backing-off`, `degraded` or `stopped`.
    pub state: String,
    /// Connections established (or polls answered).
    pub connects: u64,
    /// Connections that ended.
    pub disconnects: u64,
    /// Frames received.
    pub frames: u64,
    /// Records parsed from them.
    pub records: u64,
    /// Frames (or parts of frames) rejected.
    pub rejected: u64,
    /// Failures since the last success.
    pub consecutive_failures: u32,
    /// When the last frame arrived, in milliseconds since the Unix epoch.
    pub last_event_at: Option<i64>,
    /// The last error.
    pub last_error: Option<String>,
    /// The position after the last frame received.
    pub cursor: Option<String>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl SourceStats {
    /// New counters for the source `name`, in the state `starting`.
    pub fn new(name: &str) -> SourceStats {
        SourceStats {
            name: name.to_owned(),
            kind: Mutex::new(String::new()),
            state: AtomicU8::new(STARTING),
            connects: AtomicU64::new(0),
            disconnects: AtomicU64::new(0),
            frames: AtomicU64::new(0),
            records: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
            consecutive_failures: AtomicU32::new(0),
            last_event_at: AtomicI64::new(i64::MIN),
            last_error: Mutex::new(None),
            cursor: Mutex::new(None),
        }
    }

    /// The counters now.
    pub fn snapshot(&self) -> SourceStatus {
        let state = usize::from(self.state.load(Ordering::Relaxed));
        let last = self.last_event_at.load(Ordering::Relaxed);
        SourceStatus {
            name: self.name.clone(),
            kind: lock(&self.kind).clone(),
            state: STATES.get(state).copied().unwrap_or("starting").to_owned(),
            connects: self.connects.load(Ordering::Relaxed),
            disconnects: self.disconnects.load(Ordering::Relaxed),
            frames: self.frames.load(Ordering::Relaxed),
            records: self.records.load(Ordering::Relaxed),
            rejected: self.rejected.load(Ordering::Relaxed),
            consecutive_failures: self.consecutive_failures.load(Ordering::Relaxed),
            last_event_at: (last != i64::MIN).then_some(last),
            last_error: lock(&self.last_error).clone(),
            cursor: lock(&self.cursor).clone(),
        }
    }

    fn set_state(&self, state: u8) {
        self.state.store(state, Ordering::Relaxed);
    }

    fn connected(&self) {
        self.connects.fetch_add(1, Ordering::Relaxed);
    }

    fn disconnected(&self) {
        self.disconnects.fetch_add(1, Ordering::Relaxed);
    }

    fn succeeded(&self) {
        self.consecutive_failures.store(0, Ordering::Relaxed);
        self.set_state(LIVE);
    }

    fn failed(&self, error: String, degraded_after: u32) {
        let failures = self.consecutive_failures.fetch_add(1, Ordering::Relaxed).saturating_add(1);
        *lock(&self.last_error) = Some(error);
        let state = if failures >= degraded_after.max(1) { DEGRADED } else { BACKING_OFF };
        self.set_state(state);
    }

    fn waiting(&self) {
        if self.state.load(Ordering::Relaxed) != DEGRADED {
            self.set_state(BACKING_OFF);
        }
    }
}

/// How a connection (or a poll) ended.
#[derive(Debug)]
pub(crate) enum End {
    /// Told to stop, or the consumer is gone.
    Stopped,
    /// Ended after `frames` frames, with a failure or not.
    Closed { frames: u64, failure: Option<String> },
}

/// The state of one running source shared by its transports: the batch being filled, the
/// frame counter and the cursor.
pub(crate) struct Ctx {
    pub(crate) spec: SourceConfig,
    pub(crate) token: Option<String>,
    pub(crate) tuning: Tuning,
    pub(crate) stats: Arc<SourceStats>,
    sender: mpsc::Sender<LiveBatch>,
    stop: watch::Receiver<bool>,
    pub(crate) cursor: Option<String>,
    seq: u64,
    output: Output,
    frames_in_batch: usize,
    batch_started: Option<Instant>,
    http: Option<reqwest::Client>,
    /// When the timeline was last polled.
    pub(crate) last_poll: Option<Instant>,
}

impl Ctx {
    /// True once told to stop, or once the consumer is gone.
    pub(crate) fn stopping(&self) -> bool {
        *self.stop.borrow() || self.sender.is_closed()
    }

    /// Resolves when told to stop, when the stop sender is dropped, or when the consumer
    /// is gone.
    pub(crate) async fn stopped(&mut self) {
        let sender = self.sender.clone();
        let stop = &mut self.stop;
        let told = async move {
            loop {
                if *stop.borrow_and_update() {
                    return;
                }
                if stop.changed().await.is_err() {
                    return;
                }
            }
        };
        tokio::select! {
            () = told => {}
            () = sender.closed() => {}
        }
    }

    /// Runs `future` unless told to stop first (`None`).
    pub(crate) async fn or_stop<F: std::future::Future>(&mut self, future: F) -> Option<F::Output> {
        tokio::select! {
            output = future => Some(output),
            () = self.stopped() => None,
        }
    }

    /// The HTTP client, built on first use.
    pub(crate) fn http(&mut self) -> Result<reqwest::Client, String> {
        if let Some(client) = &self.http {
            return Ok(client.clone());
        }
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("waterline/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| format!("cannot build an HTTP client: {error}"))?;
        self.http = Some(client.clone());
        Ok(client)
    }

    /// The next frame's sequence number and position; counts the frame.
    pub(crate) fn next_frame(&mut self) -> u64 {
        self.seq += 1;
        self.frames_in_batch += 1;
        if self.batch_started.is_none() {
            self.batch_started = Some(Instant::now());
        }
        self.stats.frames.fetch_add(1, Ordering::Relaxed);
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
        self.stats.last_event_at.store(i64::try_from(now).unwrap_or(i64::MAX), Ordering::Relaxed);
        self.seq
    }

    /// The batch being filled.
    pub(crate) fn output(&mut self) -> &mut Output {
        &mut self.output
    }

    /// Rejects the whole frame `seq`.
    pub(crate) fn reject_frame(&mut self, seq: u64, reason: String, raw: &str) {
        self.output.reject(
            Position::pointer(Some(seq), "frame"),
            FieldError::new("$", reason),
            raw,
        );
    }

    /// Sets the cursor and publishes it.
    pub(crate) fn set_cursor(&mut self, cursor: String) {
        *lock(&self.stats.cursor) = Some(cursor.clone());
        self.cursor = Some(cursor);
    }

    /// When the batch being filled must be sent.
    fn deadline(&self) -> Option<Instant> {
        self.batch_started.map(|started| started + self.tuning.batch_wait)
    }

    /// True when the batch is full.
    pub(crate) fn full(&self) -> bool {
        self.frames_in_batch >= self.tuning.batch_frames.max(1)
    }

    /// Sends the batch being filled (if any); false when stopped or the consumer is gone.
    pub(crate) async fn flush(&mut self) -> bool {
        if self.frames_in_batch == 0 {
            return true;
        }
        let output = std::mem::take(&mut self.output);
        self.frames_in_batch = 0;
        self.batch_started = None;
        self.stats.records.fetch_add(output.records.len() as u64, Ordering::Relaxed);
        self.stats.rejected.fetch_add(output.rejected.len() as u64, Ordering::Relaxed);
        let batch =
            LiveBatch { source: self.spec.name.clone(), output, cursor: self.cursor.clone() };
        let sender = self.sender.clone();
        tokio::select! {
            sent = sender.send(batch) => sent.is_ok(),
            () = self.stopped() => false,
        }
    }

    /// Sleeps `delay`; false when told to stop meanwhile.
    pub(crate) async fn sleep(&mut self, delay: Duration) -> bool {
        tokio::select! {
            () = tokio::time::sleep(delay) => !self.stopping(),
            () = self.stopped() => false,
        }
    }
}

/// Something read from a connection.
pub(crate) enum Incoming {
    /// A data frame.
    Frame(Frame),
    /// A heartbeat, a ping or anything else that only shows the connection is alive.
    Heartbeat,
}

/// A data frame, by transport.
pub(crate) enum Frame {
    /// One Jetstream event (JSON text).
    Jetstream(String),
    /// One Mastodon event: its name and data.
    Mastodon { event: String, data: String },
    /// One Mastodon WebSocket message (JSON text with `event` and `payload`).
    MastodonMessage(String),
    /// A frame that cannot be read (binary data that is not UTF-8).
    Unreadable(String),
}

/// Reads `stream` until it ends, fails, idles, or the source is stopped, turning each frame
/// into records and sending batches on time.
pub(crate) async fn drive<S>(ctx: &mut Ctx, mut stream: S) -> End
where
    S: futures::Stream<Item = Result<Incoming, String>> + Unpin,
{
    use futures::StreamExt;
    let mut frames = 0u64;
    let mut last_activity = Instant::now();
    loop {
        let deadline = ctx.deadline();
        let idle_at = last_activity + ctx.tuning.idle_timeout;
        tokio::select! {
            () = ctx.stopped() => {
                ctx.flush().await;
                return End::Stopped;
            }
            () = sleep_until(deadline) => {
                if !ctx.flush().await {
                    return End::Stopped;
                }
            }
            () = tokio::time::sleep_until(idle_at.into()) => {
                let seconds = ctx.tuning.idle_timeout.as_secs_f64();
                return close(ctx, frames, Some(format!("no frame for {seconds:.1} s"))).await;
            }
            item = stream.next() => {
                last_activity = Instant::now();
                match item {
                    None => {
                        let failure = (frames == 0).then(|| "closed before any frame".to_owned());
                        return close(ctx, frames, failure).await;
                    }
                    Some(Err(error)) => {
                        let failure = if frames == 0 {
                            Some(error)
                        } else {
                            *lock(&ctx.stats.last_error) = Some(error);
                            None
                        };
                        return close(ctx, frames, failure).await;
                    }
                    Some(Ok(Incoming::Heartbeat)) => {}
                    Some(Ok(Incoming::Frame(frame))) => {
                        frames += 1;
                        if frames == 1 {
                            ctx.stats.succeeded();
                        }
                        handle(ctx, frame);
                        if ctx.full() && !ctx.flush().await {
                            return End::Stopped;
                        }
                    }
                }
            }
        }
    }
}

async fn close(ctx: &mut Ctx, frames: u64, failure: Option<String>) -> End {
    if ctx.flush().await { End::Closed { frames, failure } } else { End::Stopped }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline.into()).await,
        None => std::future::pending().await,
    }
}

fn handle(ctx: &mut Ctx, frame: Frame) {
    match frame {
        Frame::Jetstream(text) => jetstream::handle(ctx, &text),
        Frame::Mastodon { event, data } => mastodon::handle_event(ctx, &event, &data),
        Frame::MastodonMessage(text) => mastodon::handle_message(ctx, &text),
        Frame::Unreadable(raw) => {
            let seq = ctx.next_frame();
            ctx.reject_frame(seq, "a frame that is not UTF-8 text".to_owned(), &raw);
        }
    }
}

/// Runs the source `spec` until `stop` becomes true or the receiver of `sender` is dropped.
///
/// `token` is the access token (Mastodon), `cursor` the position stored after the last
/// committed batch. Failures are retried with back-off and counted in `stats`; the function
/// never returns an error. A dropped `stop` sender stops the source too.
pub async fn run(
    spec: SourceConfig,
    token: Option<String>,
    cursor: Option<String>,
    sender: mpsc::Sender<LiveBatch>,
    stats: Arc<SourceStats>,
    stop: watch::Receiver<bool>,
) {
    run_with(spec, token, cursor, sender, stats, stop, Tuning::default()).await;
}

/// [`run`] with explicit [`Tuning`] (shorter timeouts in tests).
pub async fn run_with(
    spec: SourceConfig,
    token: Option<String>,
    cursor: Option<String>,
    sender: mpsc::Sender<LiveBatch>,
    stats: Arc<SourceStats>,
    stop: watch::Receiver<bool>,
    tuning: Tuning,
) {
    *lock(&stats.kind) = spec.kind.clone();
    if let Some(cursor) = &cursor {
        *lock(&stats.cursor) = Some(cursor.clone());
    }
    let mut backoff = Backoff::new(tuning.backoff_base, tuning.backoff_cap);
    let mut ctx = Ctx {
        spec,
        token,
        tuning,
        stats: Arc::clone(&stats),
        sender,
        stop,
        cursor,
        seq: 0,
        output: Output::default(),
        frames_in_batch: 0,
        batch_started: None,
        http: None,
        last_poll: None,
    };
    if ctx.spec.kind == "mastodon-poll" {
        mastodon::poll_loop(&mut ctx, &mut backoff).await;
    } else {
        loop {
            if ctx.stopping() {
                break;
            }
            let end = if ctx.spec.kind == "jetstream" {
                jetstream::session(&mut ctx).await
            } else if ctx.spec.kind == "mastodon" {
                mastodon::session(&mut ctx).await
            } else {
                End::Closed {
                    frames: 0,
                    failure: Some(format!("unknown source type `{}`", ctx.spec.kind)),
                }
            };
            let End::Closed { frames, failure } = end else { break };
            if frames > 0 {
                backoff.reset();
            }
            match failure {
                Some(error) => ctx.stats.failed(error, ctx.spec.degraded_after),
                None => ctx.stats.waiting(),
            }
            let delay = backoff.next_delay();
            if !ctx.sleep(delay).await {
                break;
            }
        }
    }
    ctx.flush().await;
    stats.set_state(STOPPED);
}

/// How long a connection (TCP, TLS and the WebSocket or HTTP handshake) may take.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A WebSocket client connection.
pub(crate) type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens a WebSocket (`ws://` or `wss://`). The error never repeats the URL, which may hold
/// an access token.
pub(crate) async fn websocket(url: &str) -> Result<Socket, String> {
    if url.starts_with("wss:") {
        // With more than one rustls provider compiled in, rustls needs a process default;
        // an error only says one is installed already.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    }
    match tokio::time::timeout(CONNECT_TIMEOUT, tokio_tungstenite::connect_async(url)).await {
        Err(_) => Err("websocket: connection timed out".to_owned()),
        Ok(Err(error)) => Err(format!("websocket: {error}")),
        Ok(Ok((socket, _response))) => Ok(socket),
    }
}

/// Compares two ids numerically when both are numbers (Mastodon's snowflake ids), else by
/// length then text.
pub(crate) fn id_greater(a: &str, b: &str) -> bool {
    match (a.parse::<u128>(), b.parse::<u128>()) {
        (Ok(a), Ok(b)) => a > b,
        _ => (a.len(), a) > (b.len(), b),
    }
}

/// A source context for unit tests (its channel's receiver is dropped).
#[cfg(test)]
pub(crate) fn test_ctx(spec: SourceConfig, token: Option<&str>, cursor: Option<&str>) -> Ctx {
    let (sender, _receiver) = mpsc::channel(1);
    let (_stop, stop) = watch::channel(false);
    let stats = Arc::new(SourceStats::new(&spec.name));
    Ctx {
        spec,
        token: token.map(str::to_owned),
        tuning: Tuning::default(),
        stats,
        sender,
        stop,
        cursor: cursor.map(str::to_owned),
        seq: 0,
        output: Output::default(),
        frames_in_batch: 0,
        batch_started: None,
        http: None,
        last_poll: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jetstream_url_names_collections_dids_and_cursor() {
        let mut spec = SourceConfig::new("b", "jetstream", "wss://jetstream.example/subscribe");
        spec.dids = vec!["did:plc:abc".to_owned()];
        let ctx = test_ctx(spec, None, Some("1700000000000000"));
        assert_eq!(
            jetstream::url(&ctx).ok().as_deref(),
            Some(
                "wss://jetstream.example/subscribe?wantedCollections=app.bsky.feed.post\
                 &wantedCollections=app.bsky.feed.like&wantedCollections=app.bsky.feed.repost\
                 &wantedDids=did%3Aplc%3Aabc&cursor=1700000000000000"
            )
        );
    }

    #[test]
    fn mastodon_urls_follow_the_stream() {
        let spec = |stream: &str| {
            let mut spec = SourceConfig::new("m", "mastodon", "https://mastodon.example/");
            spec.stream = stream.to_owned();
            spec.hashtag = Some("ozempic".to_owned());
            spec
        };
        let urls = |stream: &str| {
            let ctx = test_ctx(spec(stream), Some("t"), None);
            (
                mastodon::sse_url(&ctx).map(String::from).unwrap_or_default(),
                mastodon::ws_url(&ctx).unwrap_or_default(),
                mastodon::timeline_url(&ctx, Some("42")).map(String::from).unwrap_or_default(),
            )
        };
        let base = "https://mastodon.example/api/v1";
        let ws = "wss://mastodon.example/api/v1/streaming";
        assert_eq!(
            urls("public"),
            (
                format!("{base}/streaming/public"),
                format!("{ws}?stream=public&access_token=t"),
                format!("{base}/timelines/public?limit=40&min_id=42"),
            )
        );
        assert_eq!(
            urls("public:local"),
            (
                format!("{base}/streaming/public/local"),
                format!("{ws}?stream=public%3Alocal&access_token=t"),
                format!("{base}/timelines/public?local=true&limit=40&min_id=42"),
            )
        );
        assert_eq!(
            urls("hashtag"),
            (
                format!("{base}/streaming/hashtag?tag=ozempic"),
                format!("{ws}?stream=hashtag&tag=ozempic&access_token=t"),
                format!("{base}/timelines/tag/ozempic?limit=40&min_id=42"),
            )
        );
        assert_eq!(
            urls("user"),
            (
                format!("{base}/streaming/user"),
                format!("{ws}?stream=user&access_token=t"),
                format!("{base}/timelines/home?limit=40&min_id=42"),
            )
        );
    }

    #[test]
    fn backoff_stays_within_its_ceiling_and_doubles_to_the_cap() {
        let mut backoff = Backoff::default();
        let mut ceilings = Vec::new();
        for _ in 0..12 {
            let ceiling = backoff.ceiling();
            let delay = backoff.next_delay();
            assert!(delay <= ceiling, "{delay:?} > {ceiling:?}");
            ceilings.push(ceiling.as_millis());
        }
        assert_eq!(&ceilings[..5], &[250, 500, 1000, 2000, 4000]);
        assert_eq!(ceilings.last().copied(), Some(30_000));
        backoff.reset();
        assert_eq!(backoff.ceiling(), Duration::from_millis(250));
        for _ in 0..100 {
            assert!(backoff.next_delay() <= Duration::from_secs(30));
        }
    }

    #[test]
    fn ids_compare_as_numbers() {
        assert!(id_greater("110", "99"));
        assert!(!id_greater("99", "110"));
        assert!(!id_greater("5", "5"));
        assert!(id_greater("b", "a"));
    }

    #[test]
    fn stats_degrade_after_failures_and_recover() {
        let stats = SourceStats::new("s");
        assert_eq!(stats.snapshot().state, "starting");
        stats.failed("refused".into(), 2);
        assert_eq!(stats.snapshot().state, "backing-off");
        stats.failed("refused".into(), 2);
        let snapshot = stats.snapshot();
        assert_eq!(snapshot.state, "degraded");
        assert_eq!(snapshot.consecutive_failures, 2);
        assert_eq!(snapshot.last_error.as_deref(), Some("refused"));
        stats.succeeded();
        assert_eq!(stats.snapshot().state, "live");
        assert_eq!(stats.snapshot().consecutive_failures, 0);
    }
}
