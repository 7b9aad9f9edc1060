//! Live updates: a task notices new posts (imported by another process, or ingested here)
//! and every open dashboard hears of it through server-sent events.

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use serde::Serialize;
use tokio::sync::broadcast;

use crate::api::Caller;
use crate::auth::Permission;
use crate::{ApiError, App, Backend};

/// What changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// The store version now.
    pub version: u64,
    /// When it was noticed (RFC 3339).
    pub at: String,
}

/// The broadcast channels: posts changed, and alerts stored.
#[derive(Debug)]
pub struct Live {
    sender: broadcast::Sender<Change>,
    alerts: broadcast::Sender<serde_json::Value>,
}

impl Live {
    /// Channels that keep the last 64 changes and 256 alerts for slow listeners.
    pub fn new() -> Live {
        let (sender, _) = broadcast::channel(64);
        let (alerts, _) = broadcast::channel(256);
        Live { sender, alerts }
    }

    /// Tells every listener of a new alert.
    pub fn publish_alert(&self, alert: serde_json::Value) {
        let _ = self.alerts.send(alert);
    }

    /// Tells every listener.
    pub fn publish(&self, version: u64) {
        let _ = self.sender.send(Change { version, at: chrono::Utc::now().to_rfc3339() });
    }

    /// Listens.
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.sender.subscribe()
    }
}

impl Default for Live {
    fn default() -> Live {
        Live::new()
    }
}

/// Polls the backend for changes made by other processes and publishes them; a second task
/// runs the backend's slow upkeep.
pub async fn watch<B: Backend>(app: Arc<App<B>>) {
    let upkeep = app.clone();
    let maintainer = tokio::spawn(async move {
        let mut interval = tokio::time::interval(upkeep.options.poll);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            match upkeep.backend.maintain().await {
                Ok(Some(version)) => upkeep.live.publish(version),
                Ok(None) => {}
                Err(error) => tracing::warn!("workspace upkeep failed: {error}"),
            }
        }
    });
    let _stop_with_me = AbortOnDrop(maintainer);
    let alerts = app.clone();
    let _alerts_too = AbortOnDrop(tokio::spawn(async move { watch_alerts(alerts).await }));
    let mut interval = tokio::time::interval(app.options.poll);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        match app.backend.refresh().await {
            Ok(Some(version)) => app.live.publish(version),
            Ok(None) => {}
            Err(error) => tracing::warn!("cannot check the workspace for new posts: {error}"),
        }
    }
}

/// Publishes the alerts stored after the server started (by `waterline listen`, in this
/// process or another), polling the state database every 100 ms.
async fn watch_alerts<B: Backend>(app: Arc<App<B>>) {
    let state = app.backend.state();
    let mut last = state.last_alert_id().await.unwrap_or_default();
    let mut interval = tokio::time::interval(std::time::Duration::from_millis(100));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        match state.alerts_after(&last).await {
            Ok(rows) => {
                for row in rows {
                    last.clone_from(&row.id);
                    app.live.publish_alert(waterline_app::alerts::alert_json(&row));
                }
            }
            Err(error) => tracing::warn!("cannot read new alerts: {error}"),
        }
    }
}

/// `GET /api/v1/events`: `alert` events (the stored alert, explained) as alerts fire, `posts` events (`{"version", "at"}`) as the posts change, and a
/// keep-alive comment every 15 seconds.
pub async fn events<B: Backend>(
    State(app): State<Arc<App<B>>>,
    caller: Caller,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    caller.require(Permission::Read)?;
    // A viewer hears alerts with their authors masked, as everywhere else.
    let salt =
        if caller.masks_authors() { Some(app.backend.pseudonym_salt().await?) } else { None };
    let receiver = app.live.subscribe();
    let posts = futures::stream::unfold(receiver, |mut receiver| async move {
        loop {
            match receiver.recv().await {
                Ok(change) => {
                    let data = serde_json::to_string(&change).unwrap_or_default();
                    return Some((Ok(Event::default().event("posts").data(data)), receiver));
                }
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    let alerts = futures::stream::unfold((app.live.alerts.subscribe(), salt), |state| async move {
        let (mut receiver, salt) = state;
        loop {
            match receiver.recv().await {
                Ok(mut alert) => {
                    if let Some(salt) = &salt {
                        crate::pseudo::pseudonymise(salt, &mut alert);
                    }
                    let data = serde_json::to_string(&alert).unwrap_or_default();
                    return Some((
                        Ok(Event::default().event("alert").data(data)),
                        (receiver, salt),
                    ));
                }
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    let stream = futures::stream::select(posts, alerts);
    let hello = futures::stream::once(async { Ok(Event::default().event("hello").data("{}")) });
    Ok(Sse::new(futures::StreamExt::chain(hello, stream))
        .keep_alive(KeepAlive::new().interval(std::time::Duration::from_secs(15))))
}

/// Aborts a task when dropped (the upkeep stops with the watcher).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
