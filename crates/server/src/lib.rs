//! The HTTP server: the REST API and the dashboard, served by axum from the one binary.
//!
//! This first cut answers health checks only; the API, the dashboard and live updates
//! build on it. It is the only crate that knows HTTP and JSON wire formats.

use axum::routing::get;
use axum::{Json, Router};

/// The server's routes.
pub fn router() -> Router {
    Router::new().route("/api/v1/health", get(health))
}

async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }))
}
