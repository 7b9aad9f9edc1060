//! Webhook deliveries of alerts: a JSON payload POSTed to each configured webhook, signed
//! with HMAC-SHA256 when a secret is configured, retried with exponential back-off, and
//! kept in the workspace state (the outbox), so a restart resumes pending deliveries.
//!
//! Headers: `X-Waterline-Event: alert`, `X-Waterline-Delivery: <alert id>`,
//! `X-Waterline-Timestamp: <unix seconds>`, and `X-Waterline-Signature: sha256=<hex>`, the
//! HMAC of `<timestamp>.<body>` (a receiver recomputes it and rejects old timestamps).

use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use chrono::Utc;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::sync::{Notify, watch};
use waterline_model::alerts::Webhook;
use waterline_store::state::StateDb;

/// Attempts before a delivery is given up (`failed`).
pub const MAX_ATTEMPTS: i64 = 8;

/// The signature header's value for a body sent at `timestamp`.
pub fn signature(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return String::new();
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// The delay before attempt `attempts + 1`: 1 s, 2 s, 4 s … at most 10 minutes.
pub fn retry_delay(attempts: i64) -> Duration {
    let exponent = u32::try_from(attempts.clamp(0, 20)).unwrap_or(20);
    Duration::from_secs(2_u64.saturating_pow(exponent)).min(Duration::from_secs(600))
}

/// Delivers due webhooks until `stop` turns true; wakes on `notify` and every second.
pub async fn run(
    state: StateDb,
    brand: String,
    webhooks: Vec<Webhook>,
    notify: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) {
    if webhooks.is_empty() {
        return;
    }
    let client = match reqwest::Client::builder().timeout(Duration::from_secs(10)).build() {
        Ok(client) => client,
        Err(error) => {
            tracing::error!("cannot build the webhook client: {error}");
            return;
        }
    };
    loop {
        if let Err(error) = deliver_due(&state, &client, &brand, &webhooks).await {
            tracing::warn!("webhook deliveries: {error:#}");
        }
        tokio::select! {
            () = notify.notified() => {}
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
            changed = stop.changed() => {
                if changed.is_err() || *stop.borrow() {
                    // One last pass so alerts raised at the end go out.
                    let _ = deliver_due(&state, &client, &brand, &webhooks).await;
                    return;
                }
            }
        }
    }
}

/// Attempts every delivery that is due.
pub async fn deliver_due(
    state: &StateDb,
    client: &reqwest::Client,
    brand: &str,
    webhooks: &[Webhook],
) -> Result<u64> {
    let mut delivered = 0;
    for mut delivery in state.due_deliveries(Utc::now().timestamp_millis()).await? {
        let Some(hook) = webhooks.iter().find(|hook| hook.name == delivery.webhook) else {
            delivery.status = "failed".to_owned();
            delivery.last_error = Some("the webhook is no longer configured".to_owned());
            state.record_delivery(&delivery).await?;
            continue;
        };
        let Some(alert) = state.alert(&delivery.alert_id).await? else { continue };
        let explanation: serde_json::Value =
            serde_json::from_str(&alert.body).unwrap_or(serde_json::Value::Null);
        let body = serde_json::json!({
            "event": "alert",
            "workspace": brand,
            "id": alert.id,
            "rule": alert.rule,
            "kind": alert.kind,
            "key": alert.key,
            "status": alert.status,
            "fired_at": chrono::DateTime::from_timestamp_millis(alert.fired_at).map(|at| at.to_rfc3339()),
            "alert": explanation,
        })
        .to_string();
        let outcome = send(client, hook, &alert.id, body).await;
        delivery.attempts += 1;
        match outcome {
            Ok(()) => {
                delivery.status = "delivered".to_owned();
                delivery.delivered_at = Some(Utc::now().timestamp_millis());
                delivery.last_error = None;
                delivered += 1;
            }
            Err(error) => {
                tracing::warn!(webhook = %hook.name, alert = %alert.id, attempt = delivery.attempts, "webhook delivery failed: {error}");
                delivery.last_error = Some(error);
                if delivery.attempts >= MAX_ATTEMPTS {
                    delivery.status = "failed".to_owned();
                } else {
                    let delay = retry_delay(delivery.attempts - 1);
                    delivery.next_at = Utc::now().timestamp_millis()
                        + i64::try_from(delay.as_millis()).unwrap_or(i64::MAX / 2);
                }
            }
        }
        state.record_delivery(&delivery).await?;
    }
    Ok(delivered)
}

async fn send(
    client: &reqwest::Client,
    hook: &Webhook,
    alert_id: &str,
    body: String,
) -> std::result::Result<(), String> {
    let timestamp = Utc::now().timestamp();
    let mut request = client
        .post(&hook.url)
        .header("Content-Type", "application/json")
        .header("User-Agent", concat!("waterline/", env!("CARGO_PKG_VERSION")))
        .header("X-Waterline-Event", "alert")
        .header("X-Waterline-Delivery", alert_id)
        .header("X-Waterline-Timestamp", timestamp.to_string());
    if let Some(name) = &hook.secret_env {
        match std::env::var(name) {
            Ok(secret) => {
                request = request.header(
                    "X-Waterline-Signature",
                    signature(secret.as_bytes(), timestamp, body.as_bytes()),
                );
            }
            Err(_) => {
                return Err(format!("the environment variable {name} (the secret) is not set"));
            }
        }
    }
    let response = request.body(body).send().await.map_err(|error| error.to_string())?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(format!("the webhook answered {}", response.status()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_covers_the_timestamp_and_the_body() {
        let one = signature(b"secret", 1_700_000_000, b"{}");
        assert!(one.starts_with("sha256="));
        assert_eq!(one.len(), "sha256=".len() + 64);
        assert_ne!(one, signature(b"secret", 1_700_000_001, b"{}"));
        assert_ne!(one, signature(b"other", 1_700_000_000, b"{}"));
        assert_eq!(one, signature(b"secret", 1_700_000_000, b"{}"));
    }

    #[test]
    fn retries_back_off_to_ten_minutes() {
        assert_eq!(retry_delay(0), Duration::from_secs(1));
        assert_eq!(retry_delay(3), Duration::from_secs(8));
        assert_eq!(retry_delay(30), Duration::from_secs(600));
    }
}
