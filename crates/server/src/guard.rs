//! What every request passes before its handler, and every answer after it (ADR 018):
//!
//! - the Host and Origin check: a page on another site that rebinds its name to this
//!   server's address cannot read it (allowed names configurable; loopback names by default);
//! - the in-flight limit: over capacity, a request waits a moment for a slot and is then
//!   answered 503 with `Retry-After`, instead of queueing until clients time out;
//! - a panic inside one request answers 500 in the error envelope and the server goes on;
//! - every error answer is in the envelope (`{"error": {"code", "status", "message"}}`),
//!   also the framework's own (a body over the limit, a malformed path or query).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::Semaphore;

use crate::error::ApiError;

/// The host names a request may be addressed to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedHosts {
    names: Vec<String>,
    any: bool,
}

impl AllowedHosts {
    /// `localhost` (and its subdomains), `127.0.0.1` and `::1`.
    pub fn loopback() -> AllowedHosts {
        AllowedHosts {
            names: vec!["localhost".into(), "127.0.0.1".into(), "::1".into()],
            any: false,
        }
    }

    /// The loopback names plus the address the server binds, when it names one.
    pub fn for_address(address: &SocketAddr) -> AllowedHosts {
        let mut hosts = AllowedHosts::loopback();
        let ip = address.ip();
        if !ip.is_unspecified() && !ip.is_loopback() {
            hosts.allow(&ip.to_string());
        }
        hosts
    }

    /// Allows a name (`*`: any name; a leading `.` allows its subdomains too).
    pub fn allow(&mut self, name: &str) {
        let name = name.trim().trim_start_matches('[').trim_end_matches(']').to_lowercase();
        if name == "*" {
            self.any = true;
        } else if !name.is_empty() && !self.names.contains(&name) {
            self.names.push(name);
        }
    }

    /// Whether a host name (no port) is allowed.
    pub fn allows(&self, host: &str) -> bool {
        if self.any {
            return true;
        }
        let host = host.to_lowercase();
        let host = host.trim_end_matches('.');
        host.ends_with(".localhost")
            || self.names.iter().any(|name| {
                name == host
                    || name.strip_prefix('.').is_some_and(|domain| {
                        host == domain || host.ends_with(&format!(".{domain}"))
                    })
            })
    }

    /// The names, for messages.
    pub fn names(&self) -> String {
        if self.any { "any".to_owned() } else { self.names.join(", ") }
    }
}

/// The host of an authority (`name:port`, `[v6]:port`), without the port.
pub fn host_of(authority: &str) -> &str {
    let authority = authority.trim();
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split(']').next().unwrap_or_default();
    }
    authority.rsplit_once(':').map_or(authority, |(host, port)| {
        if port.bytes().all(|b| b.is_ascii_digit()) { host } else { authority }
    })
}

/// `Ok` when the request's Host and Origin name this server.
pub fn check_host(
    hosts: &AllowedHosts,
    method: &Method,
    headers: &HeaderMap,
) -> Result<(), ApiError> {
    let refuse = |what: &str, value: &str| {
        ApiError::new(
            "host_not_allowed",
            format!(
                "the {what} `{}` is not one of this server's names ({}); start it with --allowed-host NAME",
                value.chars().take(100).collect::<String>(),
                hosts.names()
            ),
        )
    };
    if let Some(host) = headers.get(header::HOST) {
        let host = host.to_str().map_err(|_| refuse("Host", "?"))?;
        if !hosts.allows(host_of(host)) {
            return Err(refuse("Host", host));
        }
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().map_err(|_| refuse("Origin", "?"))?;
        if origin == "null" {
            // Sandboxed frames and some redirects: never for a write.
            if !matches!(*method, Method::GET | Method::HEAD) {
                return Err(refuse("Origin", origin));
            }
        } else {
            let authority = origin.split_once("://").map_or(origin, |(_, rest)| rest);
            let authority = authority.split('/').next().unwrap_or_default();
            if !hosts.allows(host_of(authority)) {
                return Err(refuse("Origin", origin));
            }
        }
    }
    Ok(())
}

/// The Host and Origin check, as a middleware.
pub async fn hosts(
    State(hosts): State<Arc<AllowedHosts>>,
    request: Request,
    next: Next,
) -> Response {
    match check_host(&hosts, request.method(), request.headers()) {
        Ok(()) => next.run(request).await,
        Err(error) => {
            tracing::warn!("refused a request for {}: {}", request.uri().path(), error.message);
            error.into_response()
        }
    }
}

/// The in-flight limits: at most `slots` requests are handled at once, and a request waits
/// at most `wait` for a slot. Ingest calls have their own, smaller lane: each one waits for
/// the single writer, so letting them take the general slots would starve the pages and
/// queries behind a queue of writes; over their lane's capacity they answer 503 too.
#[derive(Debug)]
pub struct Limiter {
    slots: Arc<Semaphore>,
    writes: Arc<Semaphore>,
    wait: Duration,
}

impl Limiter {
    /// A limiter with this many slots and this wait (and a quarter of the slots, at least
    /// two, for ingest calls).
    pub fn new(slots: usize, wait: Duration) -> Limiter {
        let slots = slots.max(1);
        Limiter {
            slots: Arc::new(Semaphore::new(slots)),
            writes: Arc::new(Semaphore::new((slots / 4).max(2))),
            wait,
        }
    }
}

/// Requests that never wait: health checks, the live event stream (it stays open), assets.
fn unlimited(path: &str) -> bool {
    matches!(path, "/api/v1/health" | "/api/v1/events") || path.starts_with("/assets/")
}

/// The in-flight limit, as a middleware: 503 `busy` with `Retry-After` over capacity.
pub async fn limit(State(limiter): State<Arc<Limiter>>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if unlimited(path) {
        return next.run(request).await;
    }
    let lane = if path == "/api/v1/ingest" { &limiter.writes } else { &limiter.slots };
    match tokio::time::timeout(limiter.wait, lane.clone().acquire_owned()).await {
        Ok(Ok(slot)) => {
            let response = next.run(request).await;
            drop(slot);
            response
        }
        _ => ApiError::new(
            "busy",
            "the server is at capacity; retry after the number of seconds in Retry-After",
        )
        .into_response(),
    }
}

/// The answer of a request whose handler panicked (the panic itself is logged).
pub fn panicked(cause: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let what = cause
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| cause.downcast_ref::<&str>().copied())
        .unwrap_or("a panic");
    tracing::error!("a request failed with a panic: {what}");
    ApiError::new("internal", "the request failed unexpectedly; the server log has the details")
        .into_response()
}

/// The error code of a status the framework answered by itself.
fn code_of(status: StatusCode) -> &'static str {
    match status.as_u16() {
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        409 => "conflict",
        413 => "payload_too_large",
        422 => "unprocessable",
        429 | 503 => "busy",
        400..=499 => "bad_request",
        _ => "internal",
    }
}

/// Puts every error answer that is not already JSON or a page into the error envelope.
pub async fn envelope(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let kind = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    if kind.starts_with("application/json") || kind.starts_with("text/html") {
        return response;
    }
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, 16 * 1024).await.unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes).trim().to_owned();
    let mut error = ApiError::new(
        code_of(status),
        if text.is_empty() {
            status.canonical_reason().unwrap_or("error").to_owned()
        } else {
            text
        },
    );
    error.status = status.as_u16();
    let mut answer = error.into_response();
    for name in [header::ALLOW, header::RETRY_AFTER, header::WWW_AUTHENTICATE] {
        if let Some(value) = parts.headers.get(&name) {
            answer.headers_mut().insert(name, value.clone());
        }
    }
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(
                axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        map
    }

    #[test]
    fn hosts_strip_ports_and_brackets() {
        assert_eq!(host_of("127.0.0.1:8080"), "127.0.0.1");
        assert_eq!(host_of("[::1]:8080"), "::1");
        assert_eq!(host_of("example.org"), "example.org");
        assert_eq!(host_of("Example.org:443"), "Example.org");
    }

    #[test]
    fn a_rebound_name_is_refused_and_loopback_names_pass() {
        let hosts = AllowedHosts::loopback();
        let get = Method::GET;
        assert!(check_host(&hosts, &get, &headers(&[("host", "127.0.0.1:8080")])).is_ok());
        assert!(check_host(&hosts, &get, &headers(&[("host", "localhost:8080")])).is_ok());
        assert!(check_host(&hosts, &get, &headers(&[("host", "[::1]:8080")])).is_ok());
        assert!(check_host(&hosts, &get, &headers(&[("host", "app.localhost")])).is_ok());
        let rebound = check_host(&hosts, &get, &headers(&[("host", "attacker.example:8080")]));
        assert_eq!(rebound.unwrap_err().status, 403);
        // The Origin of a write must be this server too.
        let post = Method::POST;
        let foreign = headers(&[("host", "127.0.0.1:8080"), ("origin", "https://evil.example")]);
        assert!(check_host(&hosts, &post, &foreign).is_err());
        let null = headers(&[("host", "127.0.0.1:8080"), ("origin", "null")]);
        assert!(check_host(&hosts, &post, &null).is_err());
        assert!(check_host(&hosts, &get, &null).is_ok());
        let same = headers(&[("host", "127.0.0.1:8080"), ("origin", "http://127.0.0.1:8080")]);
        assert!(check_host(&hosts, &post, &same).is_ok());
    }

    #[test]
    fn names_are_added_by_the_operator() {
        let mut hosts = AllowedHosts::for_address(&"10.0.0.5:8080".parse().unwrap());
        assert!(hosts.allows("10.0.0.5"));
        assert!(!hosts.allows("waterline.example.com"));
        hosts.allow("waterline.example.com");
        assert!(hosts.allows("WATERLINE.example.com"));
        hosts.allow(".corp.example");
        assert!(hosts.allows("a.corp.example") && hosts.allows("corp.example"));
        assert!(!hosts.allows("corp.example.evil"));
        hosts.allow("*");
        assert!(hosts.allows("anything"));
        let unspecified = AllowedHosts::for_address(&"0.0.0.0:8080".parse().unwrap());
        assert_eq!(unspecified, AllowedHosts::loopback());
    }

    #[allow(clippy::unused_async)]
    async fn boom() -> &'static str {
        panic!("boom")
    }

    /// Serves a hardened router of test routes on loopback; answers its address.
    async fn serve_test_routes(options: crate::ServeOptions) -> SocketAddr {
        use axum::routing::{get, post};
        let routes = axum::Router::new()
            .route("/boom", get(boom))
            .route("/ok", get(|| async { "ok" }))
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_millis(400)).await;
                    "slow"
                }),
            )
            .route("/echo", post(|body: axum::body::Bytes| async move { body.len().to_string() }))
            .route(
                "/api/v1/ingest",
                post(|| async {
                    tokio::time::sleep(Duration::from_millis(400)).await;
                    "ingested"
                }),
            );
        let limiter = Arc::new(Limiter::new(options.max_in_flight, options.queue_wait));
        let app = crate::harden(routes, &options, limiter);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        address
    }

    /// One HTTP/1.1 request; answers the status, the headers and the body.
    async fn call(address: SocketAddr, request: &str, body: &[u8]) -> (u16, String, String) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
        let head =
            format!("{request}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
        stream.write_all(head.as_bytes()).await.unwrap();
        let _ = stream.write_all(body).await;
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer).await;
        let text = String::from_utf8_lossy(&answer).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        (status, head.to_lowercase(), body.to_owned())
    }

    #[tokio::test]
    async fn a_panic_in_one_request_answers_500_in_the_envelope_and_the_server_goes_on() {
        let address = serve_test_routes(crate::ServeOptions::default()).await;
        let host = format!("Host: 127.0.0.1:{}", address.port());
        let (status, _, body) = call(address, &format!("GET /boom HTTP/1.1\r\n{host}"), b"").await;
        assert_eq!(status, 500);
        let error: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(error["error"]["code"], "internal");
        assert!(!body.contains("boom"), "the panic's message stays in the log: {body}");
        let (status, _, body) = call(address, &format!("GET /ok HTTP/1.1\r\n{host}"), b"").await;
        assert_eq!((status, body.as_str()), (200, "ok"));
    }

    #[tokio::test]
    async fn an_oversized_body_answers_413_in_the_envelope() {
        let options = crate::ServeOptions { body_limit: 1024, ..crate::ServeOptions::default() };
        let address = serve_test_routes(options).await;
        let host = format!("Host: 127.0.0.1:{}", address.port());
        let request = format!("POST /echo HTTP/1.1\r\n{host}");
        let (status, head, body) = call(address, &request, &[b'x'; 4096]).await;
        assert_eq!(status, 413);
        assert!(head.contains("content-type: application/json"), "{head}");
        let error: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(error["error"]["code"], "payload_too_large");
        assert_eq!(error["error"]["status"], 413);
        let (status, _, body) = call(address, &request, &[b'x'; 100]).await;
        assert_eq!((status, body.as_str()), (200, "100"));
    }

    #[tokio::test]
    async fn over_capacity_a_request_gets_503_with_retry_after_not_a_time_out() {
        let options = crate::ServeOptions {
            max_in_flight: 1,
            queue_wait: Duration::from_millis(50),
            ..crate::ServeOptions::default()
        };
        let address = serve_test_routes(options).await;
        let host = format!("Host: 127.0.0.1:{}", address.port());
        let request = format!("GET /slow HTTP/1.1\r\n{host}");
        let first = tokio::spawn({
            let request = request.clone();
            async move { call(address, &request, b"").await }
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        let (status, head, body) = call(address, &request, b"").await;
        assert_eq!(status, 503, "{body}");
        assert!(head.contains("retry-after: 1"), "{head}");
        assert!(body.contains("\"busy\""), "{body}");
        assert_eq!(first.await.unwrap().0, 200);
    }

    #[tokio::test]
    async fn a_rebinding_host_is_refused_before_any_handler() {
        let address = serve_test_routes(crate::ServeOptions::default()).await;
        let request = "GET /ok HTTP/1.1\r\nHost: attacker.example";
        let (status, _, body) = call(address, request, b"").await;
        assert_eq!(status, 403);
        assert!(body.contains("host_not_allowed"), "{body}");
    }

    #[test]
    fn framework_errors_get_a_code() {
        assert_eq!(code_of(StatusCode::PAYLOAD_TOO_LARGE), "payload_too_large");
        assert_eq!(code_of(StatusCode::UNSUPPORTED_MEDIA_TYPE), "bad_request");
        assert_eq!(code_of(StatusCode::SERVICE_UNAVAILABLE), "busy");
        assert_eq!(code_of(StatusCode::BAD_GATEWAY), "internal");
    }

    #[tokio::test]
    async fn a_queue_of_ingest_calls_never_takes_the_pages_slots() {
        // Eight slots: two for ingest calls, the rest for everything else.
        let options = crate::ServeOptions {
            max_in_flight: 8,
            queue_wait: Duration::from_millis(50),
            ..crate::ServeOptions::default()
        };
        let address = serve_test_routes(options).await;
        let host = format!("Host: 127.0.0.1:{}", address.port());
        let ingest = format!("POST /api/v1/ingest HTTP/1.1\r\n{host}");
        let running: Vec<_> = (0..2)
            .map(|_| {
                let ingest = ingest.clone();
                tokio::spawn(async move { call(address, &ingest, b"{}").await })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(100)).await;
        let (status, head, _) = call(address, &ingest, b"{}").await;
        assert_eq!(status, 503, "a third ingest waits no longer than the queue wait");
        assert!(head.contains("retry-after: 1"), "{head}");
        let (status, _, body) = call(address, &format!("GET /ok HTTP/1.1\r\n{host}"), b"").await;
        assert_eq!((status, body.as_str()), (200, "ok"), "pages still have their slots");
        for call in running {
            assert_eq!(call.await.unwrap().0, 200);
        }
    }
}
