//! Bluesky Jetstream over WebSocket: one event per text frame, resumable from a `time_us`.

use futures::StreamExt;
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;

use super::{Ctx, End, Frame, Incoming};
use crate::formats::bluesky;

/// The subscription URL: the endpoint with the wanted collections and repositories, and the
/// cursor when resuming.
pub(crate) fn url(ctx: &Ctx) -> Result<String, String> {
    let mut url = reqwest::Url::parse(&ctx.spec.endpoint)
        .map_err(|error| format!("bad endpoint `{}`: {error}", ctx.spec.endpoint))?;
    {
        let mut query = url.query_pairs_mut();
        for collection in &ctx.spec.collections {
            query.append_pair("wantedCollections", collection);
        }
        for did in &ctx.spec.dids {
            query.append_pair("wantedDids", did);
        }
        if let Some(cursor) = &ctx.cursor {
            query.append_pair("cursor", cursor);
        }
    }
    Ok(url.into())
}

/// One connection: connect, read until it ends.
pub(crate) async fn session(ctx: &mut Ctx) -> End {
    let url = match url(ctx) {
        Ok(url) => url,
        Err(error) => return End::Closed { frames: 0, failure: Some(error) },
    };
    let ws = match ctx.or_stop(super::websocket(&url)).await {
        None => return End::Stopped,
        Some(Ok(ws)) => ws,
        Some(Err(error)) => return End::Closed { frames: 0, failure: Some(error) },
    };
    ctx.stats.connected();
    let stream = ws.map(|message| match message {
        Ok(Message::Text(text)) => Ok(Incoming::Frame(Frame::Jetstream(text.as_str().to_owned()))),
        Ok(Message::Binary(bytes)) => Ok(Incoming::Frame(match std::str::from_utf8(&bytes) {
            Ok(text) => Frame::Jetstream(text.to_owned()),
            Err(_) => Frame::Unreadable(String::from_utf8_lossy(&bytes).into_owned()),
        })),
        Ok(_) => Ok(Incoming::Heartbeat),
        Err(error) => Err(format!("websocket: {error}")),
    });
    let end = super::drive(ctx, stream).await;
    ctx.stats.disconnected();
    end
}

/// One event frame: its record (or rejection), and the cursor moved to its `time_us`.
pub(crate) fn handle(ctx: &mut Ctx, text: &str) {
    let seq = ctx.next_frame();
    match serde_json::from_str::<Value>(text) {
        Err(error) => ctx.reject_frame(seq, format!("invalid json: {error}"), text),
        Ok(event) => {
            bluesky::parse_document(&event, Some(seq), ctx.output());
            // The position after this event: Jetstream replays from it (inclusively).
            if let Some(time) = event.get("time_us").and_then(Value::as_u64) {
                ctx.set_cursor(time.to_string());
            }
        }
    }
}
