//! The HTTP server: the REST API, the dashboard and live updates, served by axum from the
//! one binary (assets built in). It is the only crate that knows HTTP; it reads the
//! workspace through the [`Backend`] trait, which the binary implements.
//!
//! - [`api`]: `/api/v1/…` handlers (JSON, errors with stable codes, roles).
//! - [`pages`]: the dashboard, rendered on the server with inline SVG charts ([`svg`]).
//! - [`live`]: server-sent events when the posts change.
//! - [`auth`]: tokens (hashed), roles, the anonymous loopback reader, the audit log.
//! - [`openapi`]: the OpenAPI document, checked against the routes by a test.

pub mod api;
pub mod auth;
pub use waterline_app::backend;
pub mod error;
pub mod guard;
pub mod live;
pub mod openapi;
pub mod pages;
pub mod pseudo;
pub mod svg;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post};

pub use backend::{Backend, BackendResult, NewBaseline, NewMilestone, PostsRequest, ReportKind};
pub use error::ApiError;

/// How the server runs.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Every request needs a token (set when bound beyond loopback).
    pub require_token: bool,
    /// How often the posts are checked for changes made by other processes.
    pub poll: std::time::Duration,
    /// The largest ingest body, in bytes.
    pub ingest_limit: usize,
    /// The largest body of any other request, in bytes.
    pub body_limit: usize,
    /// The names requests may be addressed to (Host and Origin).
    pub allowed_hosts: guard::AllowedHosts,
    /// Anonymous readers on loopback see authors unmasked (the operator opts in).
    pub anonymous_authors: bool,
    /// Requests handled at once; more wait [`ServeOptions::queue_wait`], then get 503.
    pub max_in_flight: usize,
    /// How long a request waits for a slot.
    pub queue_wait: std::time::Duration,
}

impl Default for ServeOptions {
    fn default() -> ServeOptions {
        ServeOptions {
            require_token: false,
            poll: std::time::Duration::from_millis(250),
            ingest_limit: 64 * 1024 * 1024,
            body_limit: 1024 * 1024,
            allowed_hosts: guard::AllowedHosts::loopback(),
            anonymous_authors: false,
            max_in_flight: 32,
            queue_wait: std::time::Duration::from_millis(500),
        }
    }
}

impl ServeOptions {
    /// The defaults for an address: a token is required unless it is a loopback address;
    /// requests may name the loopback names and the address itself.
    pub fn for_address(address: &SocketAddr) -> ServeOptions {
        ServeOptions {
            require_token: !address.ip().is_loopback(),
            allowed_hosts: guard::AllowedHosts::for_address(address),
            ..ServeOptions::default()
        }
    }
}

/// The server's state: the backend, the options, the token cache and the live channel.
pub struct App<B> {
    /// The workspace.
    pub backend: B,
    /// The options.
    pub options: ServeOptions,
    /// Verified tokens.
    pub tokens: auth::TokenCache,
    /// Live events.
    pub live: live::Live,
    /// The in-flight limit.
    pub limiter: Arc<guard::Limiter>,
}

impl<B: Backend> App<B> {
    /// A new state.
    pub fn new(backend: B, options: ServeOptions) -> Arc<App<B>> {
        let limiter = Arc::new(guard::Limiter::new(options.max_in_flight, options.queue_wait));
        Arc::new(App {
            backend,
            limiter,
            options,
            tokens: auth::TokenCache::default(),
            live: live::Live::new(),
        })
    }
}

/// Every API route: method, path (OpenAPI template), permission needed (`None`: public).
/// The OpenAPI document and the router are checked against it by tests.
pub const API_ROUTES: &[(&str, &str, Option<auth::Permission>)] = {
    use auth::Permission as P;
    &[
        ("get", "/api/v1/health", None),
        ("get", "/api/v1/openapi.json", None),
        ("get", "/api/v1/whoami", None),
        ("post", "/api/v1/login", None),
        ("post", "/api/v1/logout", None),
        ("get", "/api/v1/status", Some(P::Read)),
        ("get", "/api/v1/metrics", Some(P::Read)),
        ("post", "/api/v1/query", Some(P::Read)),
        ("get", "/api/v1/reports/{kind}", Some(P::Read)),
        ("get", "/api/v1/posts", Some(P::Read)),
        ("post", "/api/v1/ingest", Some(P::Ingest)),
        ("get", "/api/v1/events", Some(P::Read)),
        ("get", "/api/v1/baselines", Some(P::Read)),
        ("post", "/api/v1/baselines", Some(P::Measure)),
        ("delete", "/api/v1/baselines/{name}", Some(P::Measure)),
        ("get", "/api/v1/baselines/{name}/compare", Some(P::Read)),
        ("get", "/api/v1/milestones", Some(P::Read)),
        ("post", "/api/v1/milestones", Some(P::Measure)),
        ("delete", "/api/v1/milestones/{name}", Some(P::Measure)),
        ("get", "/api/v1/alerts", Some(P::Read)),
        ("get", "/api/v1/alerts/{id}", Some(P::Read)),
        ("post", "/api/v1/alerts/{id}/acknowledge", Some(P::Alerts)),
        ("post", "/api/v1/alerts/{id}/resolve", Some(P::Alerts)),
        ("get", "/api/v1/sources", Some(P::Read)),
        ("get", "/api/v1/pv/cases", Some(P::Pharmacovigilance)),
        ("get", "/api/v1/pv/cases/{id}", Some(P::Pharmacovigilance)),
        ("post", "/api/v1/pv/cases/{id}/actions", Some(P::Pharmacovigilance)),
        ("get", "/api/v1/pv/export", Some(P::Pharmacovigilance)),
        ("get", "/api/v1/pv/reconciliation", Some(P::Pharmacovigilance)),
        ("get", "/api/v1/pv/coverage", Some(P::Read)),
        ("post", "/api/v1/drafts/check", Some(P::Read)),
        ("get", "/api/v1/tokens", Some(P::Admin)),
        ("post", "/api/v1/tokens", Some(P::Admin)),
        ("delete", "/api/v1/tokens/{id}", Some(P::Admin)),
        ("get", "/api/v1/audit", Some(P::Admin)),
    ]
};

/// The router: API, pages, assets.
pub fn router<B: Backend>(app: Arc<App<B>>) -> Router {
    let limit = app.options.ingest_limit;
    let api = Router::new()
        .route("/api/v1/health", get(api::health))
        .route("/api/v1/openapi.json", get(api::openapi))
        .route("/api/v1/whoami", get(api::whoami::<B>))
        .route("/api/v1/login", post(api::login::<B>))
        .route("/api/v1/logout", post(api::logout))
        .route("/api/v1/status", get(api::status::<B>))
        .route("/api/v1/metrics", get(api::metrics::<B>))
        .route("/api/v1/query", post(api::query::<B>))
        .route("/api/v1/reports/{kind}", get(api::report::<B>))
        .route("/api/v1/posts", get(api::posts::<B>))
        .route("/api/v1/ingest", post(api::ingest::<B>).layer(DefaultBodyLimit::max(limit)))
        .route("/api/v1/events", get(live::events::<B>))
        .route("/api/v1/baselines", get(api::baselines::<B>).post(api::create_baseline::<B>))
        .route("/api/v1/baselines/{name}", delete(api::delete_baseline::<B>))
        .route("/api/v1/baselines/{name}/compare", get(api::compare::<B>))
        .route("/api/v1/milestones", get(api::milestones::<B>).post(api::add_milestone::<B>))
        .route("/api/v1/milestones/{name}", delete(api::remove_milestone::<B>))
        .route("/api/v1/alerts", get(api::alerts::<B>))
        .route("/api/v1/alerts/{id}", get(api::alert::<B>))
        .route("/api/v1/alerts/{id}/acknowledge", post(api::acknowledge_alert::<B>))
        .route("/api/v1/alerts/{id}/resolve", post(api::resolve_alert::<B>))
        .route("/api/v1/sources", get(api::sources::<B>))
        .route("/api/v1/pv/cases", get(api::pv_cases::<B>))
        .route("/api/v1/pv/cases/{id}", get(api::pv_case::<B>))
        .route("/api/v1/pv/cases/{id}/actions", post(api::pv_act::<B>))
        .route("/api/v1/pv/export", get(api::pv_export::<B>))
        .route("/api/v1/pv/reconciliation", get(api::pv_reconcile::<B>))
        .route("/api/v1/pv/coverage", get(api::coverage::<B>))
        .route("/api/v1/drafts/check", post(api::check_draft::<B>))
        .route("/api/v1/tokens", get(api::tokens::<B>).post(api::create_token::<B>))
        .route("/api/v1/tokens/{id}", delete(api::revoke_token::<B>))
        .route("/api/v1/audit", get(api::audit_log::<B>));
    let pages = pages::routes::<B>();
    let options = app.options.clone();
    let limiter = app.limiter.clone();
    let routes = api
        .merge(pages)
        .fallback(api::not_found)
        .method_not_allowed_fallback(api::method_not_allowed)
        .with_state(app);
    harden(routes, &options, limiter)
}

/// The layers every request passes (outermost last): security headers, the error
/// envelope, the Host and Origin check, the in-flight limit, panics caught, bodies bounded.
pub fn harden(routes: Router, options: &ServeOptions, limiter: Arc<guard::Limiter>) -> Router {
    routes
        .layer(DefaultBodyLimit::max(options.body_limit))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(guard::panicked))
        .layer(axum::middleware::from_fn_with_state(limiter, guard::limit))
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(options.allowed_hosts.clone()),
            guard::hosts,
        ))
        .layer(axum::middleware::map_response(guard::envelope))
        .layer(axum::middleware::map_response(security_headers))
}

/// Every answer: no sniffing, no framing, no referrer, and a content security policy that
/// lets a page load only this server's own stylesheet, script and event stream.
async fn security_headers(mut response: axum::response::Response) -> axum::response::Response {
    use axum::http::HeaderValue;
    let headers = response.headers_mut();
    headers.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    headers.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    // An export carries its stylesheet inline and no script.
    let policy = if headers.contains_key(axum::http::header::CONTENT_DISPOSITION) {
        "default-src 'none'; img-src data:; style-src 'unsafe-inline'; frame-ancestors 'none'"
    } else {
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    };
    headers.insert("content-security-policy", HeaderValue::from_static(policy));
    response
}

/// Serves until the process is stopped (Ctrl-C): the router plus the task that watches the
/// posts for changes made by other processes.
pub async fn serve<B: Backend>(
    app: Arc<App<B>>,
    listener: tokio::net::TcpListener,
) -> std::io::Result<()> {
    let watcher = tokio::spawn(live::watch(app.clone()));
    // The pages' figures, computed in the background (read from disk when an import or an
    // earlier run kept them for this store version), so that their first reader waits less.
    let prepared = app.clone();
    let preparer = tokio::spawn(async move { pages::prepare(&prepared).await });
    let service = router(app).into_make_service_with_connect_info::<SocketAddr>();
    let result = axum::serve(listener, service)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await;
    watcher.abort();
    preparer.abort();
    result
}
