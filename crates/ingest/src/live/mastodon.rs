//! Mastodon: the streaming API (server-sent events or WebSocket) and timeline polling, which
//! also fills the gap before each streaming connection (streams cannot resume).

use std::collections::VecDeque;
use std::time::Duration;

use futures::{Stream, StreamExt};
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;
use waterline_model::{Position, Record, platform};

use super::sse::{SseItem, SseParser};
use super::{Backoff, CONNECT_TIMEOUT, Ctx, End, Frame, Incoming, id_greater};
use crate::formats::mastodon;

/// Statuses asked for per timeline page (the API's maximum).
pub(crate) const PAGE: usize = 40;

fn base(ctx: &Ctx) -> &str {
    ctx.spec.endpoint.trim_end_matches('/')
}

fn parse(url: &str) -> Result<reqwest::Url, String> {
    reqwest::Url::parse(url).map_err(|error| format!("bad endpoint `{url}`: {error}"))
}

fn hashtag(ctx: &Ctx) -> &str {
    ctx.spec.hashtag.as_deref().unwrap_or_default().trim_start_matches('#')
}

/// The server-sent events URL of the source's stream.
pub(crate) fn sse_url(ctx: &Ctx) -> Result<reqwest::Url, String> {
    let path = match ctx.spec.stream.as_str() {
        "public:local" => "/api/v1/streaming/public/local",
        "hashtag" => "/api/v1/streaming/hashtag",
        "user" => "/api/v1/streaming/user",
        _ => "/api/v1/streaming/public",
    };
    let mut url = parse(&format!("{}{path}", base(ctx)))?;
    if ctx.spec.stream == "hashtag" {
        url.query_pairs_mut().append_pair("tag", hashtag(ctx));
    }
    Ok(url)
}

/// The WebSocket URL of the source's stream, with the access token.
pub(crate) fn ws_url(ctx: &Ctx) -> Result<String, String> {
    let mut url = parse(&format!("{}/api/v1/streaming", base(ctx)))?;
    let scheme = if url.scheme() == "https" || url.scheme() == "wss" { "wss" } else { "ws" };
    url.set_scheme(scheme)
        .map_err(|()| format!("cannot use `{}` over {scheme}", ctx.spec.endpoint))?;
    {
        let mut query = url.query_pairs_mut();
        query.append_pair("stream", &ctx.spec.stream);
        if ctx.spec.stream == "hashtag" {
            query.append_pair("tag", hashtag(ctx));
        }
        if let Some(token) = &ctx.token {
            query.append_pair("access_token", token);
        }
    }
    Ok(url.into())
}

/// The timeline URL of the source's stream, one page newer than `min_id`.
pub(crate) fn timeline_url(ctx: &Ctx, min_id: Option<&str>) -> Result<reqwest::Url, String> {
    let mut url = parse(&format!("{}/api/v1/timelines", base(ctx)))?;
    {
        let mut segments = url
            .path_segments_mut()
            .map_err(|()| format!("bad endpoint `{}`", ctx.spec.endpoint))?;
        match ctx.spec.stream.as_str() {
            "hashtag" => {
                segments.push("tag").push(hashtag(ctx));
            }
            "user" => {
                segments.push("home");
            }
            _ => {
                segments.push("public");
            }
        }
    }
    {
        let mut query = url.query_pairs_mut();
        if ctx.spec.stream == "public:local" {
            query.append_pair("local", "true");
        }
        query.append_pair("limit", &PAGE.to_string());
        if let Some(min_id) = min_id {
            query.append_pair("min_id", min_id);
        }
    }
    Ok(url)
}

fn advance(ctx: &mut Ctx, status: &Value) {
    if let Some(id) = status.get("id").and_then(Value::as_str)
        && ctx.cursor.as_deref().is_none_or(|cursor| id_greater(id, cursor))
    {
        ctx.set_cursor(id.to_owned());
    }
}

/// One streaming event: `update`/`status.update` (a status), `delete` (a status id), or any
/// other event (a record of its kind).
pub(crate) fn handle_event(ctx: &mut Ctx, event: &str, data: &str) {
    let seq = ctx.next_frame();
    match event {
        "update" | "status.update" => match serde_json::from_str::<Value>(data) {
            Ok(status) if status.is_object() => {
                mastodon::parse_document(&status, Some(seq), ctx.output());
                advance(ctx, &status);
            }
            Ok(_) => ctx.reject_frame(seq, "expected a status object".to_owned(), data),
            Err(error) => ctx.reject_frame(seq, format!("invalid json: {error}"), data),
        },
        "delete" => {
            let id = data.trim().trim_matches('"');
            if id.is_empty() {
                ctx.reject_frame(seq, "a delete event without a status id".to_owned(), data);
            } else {
                let record =
                    Record::Delete { platform: platform::MASTODON.to_owned(), id: id.to_owned() };
                ctx.output().push(Position::line(seq), record);
            }
        }
        other => {
            let kind = format!("mastodon_{}", other.replace(['.', ':'], "_"));
            ctx.output().push(Position::line(seq), Record::Other { kind });
        }
    }
}

/// One WebSocket message: `{"stream": [..], "event": "update", "payload": "<json>"}`.
pub(crate) fn handle_message(ctx: &mut Ctx, text: &str) {
    let message = match serde_json::from_str::<Value>(text) {
        Ok(message) => message,
        Err(error) => {
            let seq = ctx.next_frame();
            ctx.reject_frame(seq, format!("invalid json: {error}"), text);
            return;
        }
    };
    let Some(event) = message.get("event").and_then(Value::as_str) else {
        let seq = ctx.next_frame();
        ctx.reject_frame(seq, "expected a streaming message with `event`".to_owned(), text);
        return;
    };
    let data = match message.get("payload") {
        Some(Value::String(payload)) => payload.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    };
    handle_event(ctx, event, &data);
}

/// Polls the timeline newer than the cursor, page after page while pages come back full
/// (one page only when `one_page`); returns the number of statuses read.
pub(crate) async fn poll_pages(ctx: &mut Ctx, one_page: bool) -> Result<u64, String> {
    let client = ctx.http()?;
    ctx.last_poll = Some(std::time::Instant::now());
    let mut frames = 0;
    loop {
        let before = ctx.cursor.clone();
        let url = timeline_url(ctx, before.as_deref())?;
        let mut request = client.get(url).timeout(Duration::from_secs(30));
        if let Some(token) = &ctx.token {
            request = request.bearer_auth(token);
        }
        let fetch = async move {
            let response = request.send().await.map_err(|error| format!("timeline: {error}"))?;
            let status = response.status();
            if !status.is_success() {
                return Err(format!("timeline: HTTP {status}"));
            }
            response.bytes().await.map_err(|error| format!("timeline: {error}"))
        };
        let Some(body) = ctx.or_stop(fetch).await else { return Ok(frames) };
        let body = body?;
        let page: Value = serde_json::from_slice(&body)
            .map_err(|error| format!("timeline: invalid json: {error}"))?;
        let Value::Array(mut statuses) = page else {
            return Err("timeline: expected an array of statuses".to_owned());
        };
        let count = statuses.len();
        // Oldest first, so that the cursor only moves forward.
        statuses.sort_by(|a, b| {
            let id = |status: &Value| status.get("id").and_then(Value::as_str).map(str::to_owned);
            match (id(a), id(b)) {
                (Some(a), Some(b)) if id_greater(&a, &b) => std::cmp::Ordering::Greater,
                (Some(a), Some(b)) if id_greater(&b, &a) => std::cmp::Ordering::Less,
                _ => std::cmp::Ordering::Equal,
            }
        });
        for status in &statuses {
            let seq = ctx.next_frame();
            mastodon::parse_document(status, Some(seq), ctx.output());
            advance(ctx, status);
            frames += 1;
            if ctx.full() && !ctx.flush().await {
                return Ok(frames);
            }
        }
        if !ctx.flush().await || ctx.stopping() {
            return Ok(frames);
        }
        if one_page || count < PAGE || ctx.cursor == before {
            return Ok(frames);
        }
    }
}

/// `mastodon-poll`: polls every `poll_seconds` until stopped.
pub(crate) async fn poll_loop(ctx: &mut Ctx, backoff: &mut Backoff) {
    let interval = poll_interval(ctx);
    while !ctx.stopping() {
        let one_page = ctx.cursor.is_none();
        let delay = match poll_pages(ctx, one_page).await {
            Ok(_) => {
                ctx.stats.connected();
                ctx.stats.succeeded();
                backoff.reset();
                interval
            }
            Err(error) => {
                ctx.stats.failed(error, ctx.spec.degraded_after);
                backoff.next_delay()
            }
        };
        if !ctx.sleep(delay).await {
            break;
        }
    }
}

/// Fills the gap since the cursor (if any) by polling; `Err` ends the connection.
async fn fill_gap(ctx: &mut Ctx) -> Result<u64, End> {
    if ctx.cursor.is_none() {
        return Ok(0);
    }
    match poll_pages(ctx, false).await {
        Ok(frames) => {
            if frames > 0 {
                ctx.stats.succeeded();
            }
            Ok(frames)
        }
        Err(error) => Err(End::Closed { frames: 0, failure: Some(error) }),
    }
}

/// Adds the gap's frames to how a connection ended.
fn with_gap(end: End, gap: u64) -> End {
    match end {
        End::Closed { frames, failure } => End::Closed { frames: frames + gap, failure },
        End::Stopped => End::Stopped,
    }
}

/// One streaming connection: connect, fill the gap since the cursor, read until it ends.
/// Connecting before polling means statuses posted during the poll wait in the connection.
/// While the stream fails without a frame, the timeline is polled instead, at most every
/// `poll_seconds` (the stream's failures are still counted).
pub(crate) async fn session(ctx: &mut Ctx) -> End {
    let end = if ctx.spec.transport == "websocket" {
        websocket_session(ctx).await
    } else {
        sse_session(ctx).await
    };
    if matches!(end, End::Closed { frames: 0, failure: Some(_) }) && !ctx.stopping() {
        let due = ctx.last_poll.is_none_or(|at| at.elapsed() >= poll_interval(ctx));
        if due {
            let one_page = ctx.cursor.is_none();
            // A failed fallback poll changes nothing: the stream's failure is what is reported.
            let _ = poll_pages(ctx, one_page).await;
        }
    }
    end
}

fn poll_interval(ctx: &Ctx) -> Duration {
    ctx.tuning.poll_interval.unwrap_or(Duration::from_secs(ctx.spec.poll_seconds.max(1)))
}

async fn websocket_session(ctx: &mut Ctx) -> End {
    let url = match ws_url(ctx) {
        Ok(url) => url,
        Err(error) => return End::Closed { frames: 0, failure: Some(error) },
    };
    let socket = match ctx.or_stop(super::websocket(&url)).await {
        None => return End::Stopped,
        Some(Ok(socket)) => socket,
        Some(Err(error)) => return End::Closed { frames: 0, failure: Some(error) },
    };
    ctx.stats.connected();
    let gap = match fill_gap(ctx).await {
        Ok(gap) => gap,
        Err(end) => {
            ctx.stats.disconnected();
            return end;
        }
    };
    let stream = socket.map(|message| match message {
        Ok(Message::Text(text)) => {
            Ok(Incoming::Frame(Frame::MastodonMessage(text.as_str().to_owned())))
        }
        Ok(Message::Binary(bytes)) => Ok(Incoming::Frame(match std::str::from_utf8(&bytes) {
            Ok(text) => Frame::MastodonMessage(text.to_owned()),
            Err(_) => Frame::Unreadable(String::from_utf8_lossy(&bytes).into_owned()),
        })),
        Ok(_) => Ok(Incoming::Heartbeat),
        Err(error) => Err(format!("websocket: {error}")),
    });
    let end = super::drive(ctx, stream).await;
    ctx.stats.disconnected();
    with_gap(end, gap)
}

async fn sse_session(ctx: &mut Ctx) -> End {
    let client = match ctx.http() {
        Ok(client) => client,
        Err(error) => return End::Closed { frames: 0, failure: Some(error) },
    };
    let url = match sse_url(ctx) {
        Ok(url) => url,
        Err(error) => return End::Closed { frames: 0, failure: Some(error) },
    };
    let mut request = client.get(url).header(reqwest::header::ACCEPT, "text/event-stream");
    if let Some(token) = &ctx.token {
        request = request.bearer_auth(token);
    }
    let response = match ctx.or_stop(tokio::time::timeout(CONNECT_TIMEOUT, request.send())).await {
        None => return End::Stopped,
        Some(Err(_)) => {
            return End::Closed { frames: 0, failure: Some("stream: timed out".to_owned()) };
        }
        Some(Ok(Err(error))) => {
            return End::Closed { frames: 0, failure: Some(format!("stream: {error}")) };
        }
        Some(Ok(Ok(response))) => response,
    };
    let status = response.status();
    if !status.is_success() {
        return End::Closed { frames: 0, failure: Some(format!("stream: HTTP {status}")) };
    }
    ctx.stats.connected();
    let gap = match fill_gap(ctx).await {
        Ok(gap) => gap,
        Err(end) => {
            ctx.stats.disconnected();
            return end;
        }
    };
    let end = super::drive(ctx, sse_stream(response.bytes_stream())).await;
    ctx.stats.disconnected();
    with_gap(end, gap)
}

/// Server-sent events over a byte stream.
fn sse_stream<B, E>(body: B) -> impl Stream<Item = Result<Incoming, String>> + Unpin
where
    B: Stream<Item = Result<E, reqwest::Error>> + Unpin,
    E: AsRef<[u8]>,
{
    let state = (body, SseParser::default(), VecDeque::new());
    Box::pin(futures::stream::unfold(state, |(mut body, mut parser, mut queue)| async move {
        loop {
            if let Some(item) = queue.pop_front() {
                return Some((Ok(item), (body, parser, queue)));
            }
            match body.next().await {
                None => return None,
                Some(Err(error)) => {
                    return Some((Err(format!("stream: {error}")), (body, parser, queue)));
                }
                Some(Ok(bytes)) => {
                    for item in parser.feed(bytes.as_ref()) {
                        queue.push_back(match item {
                            SseItem::Event { event, data } => {
                                Incoming::Frame(Frame::Mastodon { event, data })
                            }
                            SseItem::Comment => Incoming::Heartbeat,
                        });
                    }
                    if queue.is_empty() {
                        queue.push_back(Incoming::Heartbeat);
                    }
                }
            }
        }
    }))
}
