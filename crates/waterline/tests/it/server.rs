//! The real server, driven over HTTP: pages, every API endpoint, every error code, every
//! role, live updates, exports, and the OpenAPI document kept true.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::binary;

/// A generated, imported workspace, made once and copied for each server.
fn base() -> &'static Path {
    static BASE: OnceLock<PathBuf> = OnceLock::new();
    BASE.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("waterline-server-it-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let run = |args: &[&str]| {
            let output = Command::new(binary()).args(args).output().unwrap();
            assert!(
                output.status.success(),
                "{args:?}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        };
        let out = dir.to_str().unwrap();
        run(&["generate", "--posts", "4000", "--seed", "11", "--out", out]);
        run(&["--workspace", out, "import", &format!("{out}/*.jsonl")]);
        // Build the query caches and the topics once, before servers share copies.
        run(&["--workspace", out, "query", "--metrics", "posts,inbound", "--by", "topic"]);
        dir
    })
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else if entry.file_name() != "write.lock" {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A server on a copy of the base workspace, stopped when dropped.
pub(crate) struct Server {
    child: Child,
    pub address: String,
    pub dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    pub(crate) fn start(extra: &[&str]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(base(), dir.path());
        Server::start_in(dir, extra)
    }

    pub(crate) fn start_in(dir: tempfile::TempDir, extra: &[&str]) -> Server {
        let mut child = Command::new(binary())
            .arg("--workspace")
            .arg(dir.path())
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        let mut reader = BufReader::new(child.stdout.take().unwrap());
        reader.read_line(&mut line).unwrap();
        // Keep reading what the server prints so it never writes to a closed pipe.
        std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
        let address = line
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .unwrap_or_else(|| panic!("no address in `{line}`"))
            .to_owned();
        Server { child, address, dir }
    }

    /// Stops the server and hands back its workspace.
    pub(crate) fn stop(mut self) -> tempfile::TempDir {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap())
    }

    pub(crate) fn token(&self, role: &str) -> String {
        let output = Command::new(binary())
            .arg("--workspace")
            .arg(self.dir.path())
            .args(["token", "create", "--role", role, "--name", &format!("{role} test"), "--json"])
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let value: Value = serde_json::from_slice(&output.stdout).unwrap();
        value["token"].as_str().unwrap().to_owned()
    }

    pub(crate) fn request(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&[u8]>,
    ) -> Reply {
        request(&self.address, method, path, token, body)
    }

    pub(crate) fn get(&self, path: &str) -> Reply {
        self.request("GET", path, None, None)
    }

    pub(crate) fn post_json(&self, path: &str, token: Option<&str>, body: &Value) -> Reply {
        self.request("POST", path, token, Some(body.to_string().as_bytes()))
    }
}

/// An HTTP answer.
pub(crate) struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub(crate) fn code(&self) -> String {
        self.json()["error"]["code"].as_str().unwrap_or_default().to_owned()
    }
}

/// A tiny HTTP/1.1 client (one request per connection), enough for tests.
pub(crate) fn request(
    address: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&[u8]>,
) -> Reply {
    let mut stream = TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n");
    if let Some(token) = token {
        head.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    let body = body.unwrap_or_default();
    if method != "GET" {
        head.push_str(&format!(
            "Content-Length: {}\r\nContent-Type: application/json\r\n",
            body.len()
        ));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("no header end");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.lines();
    let status: u16 = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':').map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned())))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if headers
        .iter()
        .any(|(n, v)| n.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"))
    {
        let mut decoded = Vec::new();
        let mut rest = &body[..];
        while let Some(end) = rest.windows(2).position(|w| w == b"\r\n") {
            let size = usize::from_str_radix(String::from_utf8_lossy(&rest[..end]).trim(), 16)
                .unwrap_or(0);
            if size == 0 {
                break;
            }
            decoded.extend_from_slice(&rest[end + 2..end + 2 + size]);
            rest = &rest[end + 2 + size + 2..];
        }
        body = decoded;
    }
    Reply { status, headers, body }
}

fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Every `data-query` figure of a page: (metric, query, row keys, shown raw value).
fn figures(html: &str) -> Vec<(String, Value, Value, Option<f64>)> {
    let mut found = Vec::new();
    for chunk in html.split("<span class=\"value\" ").skip(1) {
        let attribute = |name: &str| {
            let start = chunk.find(&format!("{name}=\""))? + name.len() + 2;
            let end = chunk[start..].find('"')? + start;
            Some(unescape(&chunk[start..end]))
        };
        let (Some(metric), Some(query)) = (attribute("data-metric"), attribute("data-query"))
        else {
            continue;
        };
        let row = attribute("data-row").map_or(Value::Null, |r| serde_json::from_str(&r).unwrap());
        let value = attribute("data-value").and_then(|v| v.parse::<f64>().ok());
        found.push((metric, serde_json::from_str(&query).unwrap(), row, value));
    }
    found
}

const PAGES: &[&str] = &[
    "/",
    "/listening",
    "/gap",
    "/audit",
    "/share-of-voice",
    "/audience",
    "/responsiveness",
    "/baselines",
    "/alerts",
    "/pharmacovigilance",
    "/metrics",
];

#[test]
fn every_page_answers_html_linked_from_home_and_its_figures_equal_the_api() {
    let server = Server::start(&[]);
    let home = server.get("/");
    assert_eq!(home.status, 200, "{}", home.text());
    assert!(home.header("content-type").unwrap().starts_with("text/html"));
    let html = home.text();
    for page in PAGES {
        assert!(html.contains(&format!("href=\"{page}\"")), "the home page does not link {page}");
        let reply = server.get(page);
        assert_eq!(reply.status, 200, "{page}: {}", reply.text());
        let text = reply.text();
        assert!(text.starts_with("<!doctype html>") && text.contains("</html>"), "{page}");
        assert!(
            !text.contains("https://") || !text.contains("<script src=\"http"),
            "{page} loads a third-party script"
        );
    }
    let mut checked = 0;
    for page in ["/", "/listening", "/share-of-voice", "/audience", "/responsiveness"] {
        for (metric, query, row, shown) in figures(&server.get(page).text()) {
            let answer = server.post_json("/api/v1/query", None, &query);
            assert_eq!(answer.status, 200, "{}", answer.text());
            let answer = answer.json();
            let rows = answer["rows"].as_array().unwrap();
            let found = rows
                .iter()
                .find(|r| row.as_object().is_none_or(|keys| keys.iter().all(|(k, v)| &r[k] == v)));
            let api = found.and_then(|r| r[&metric].as_f64());
            match (shown, api) {
                (Some(a), Some(b)) => {
                    assert!((a - b).abs() <= 1e-9 * b.abs().max(1.0), "{page} {metric}: {a} vs {b}")
                }
                (None, None) => {}
                other => panic!("{page} {metric}: page {other:?}"),
            }
            checked += 1;
        }
    }
    assert!(checked >= 30, "only {checked} figures checked");
    // A filter changes the figures and the query they carry.
    // The topic filter offers the workspace's topics, and applying one works.
    let home = server.get("/").text();
    let marker = "<datalist id=\"topics\"><option value=\"";
    let start = home.find(marker).expect("no topics offered") + marker.len();
    let topic = unescape(&home[start..start + home[start..].find('"').unwrap()]);
    assert!(topic.starts_with('#'), "{topic}");
    let encoded: String =
        topic
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
    let by_topic = server.get(&format!("/?topic={encoded}"));
    assert_eq!(by_topic.status, 200, "{}", by_topic.text());
    let topical = figures(&by_topic.text());
    assert!(topical.iter().all(|(_, q, _, _)| q["where"].to_string().contains("topic")));
    let filtered = server.get("/?platform=x&language=en");
    let with_filter = figures(&filtered.text());
    assert!(with_filter.iter().all(|(_, q, _, _)| q["where"].to_string().contains("\"x\"")));
}

#[test]
fn the_openapi_document_is_public_and_matches_the_routes() {
    let server = Server::start(&[]);
    let document = server.get("/api/v1/openapi.json");
    assert_eq!(document.status, 200);
    let document = document.json();
    assert_eq!(document["openapi"], "3.1.0");
    let admin = server.token("admin");
    let paths = document["paths"].as_object().unwrap();
    let mut operations = 0;
    for (path, methods) in paths {
        for (method, operation) in methods.as_object().unwrap() {
            operations += 1;
            assert!(operation["responses"].is_object(), "{method} {path}");
            if path == "/api/v1/events" {
                continue; // a stream: tested below
            }
            let concrete = path
                .replace("{kind}", "gap")
                .replace("{name}", "nothing")
                .replace("{id}", "tok_none");
            let reply =
                server.request(&method.to_uppercase(), &concrete, Some(&admin), Some(b"{}"));
            assert!(reply.status != 405, "{method} {path} is documented but not served");
            if reply.status == 404 {
                assert!(path.contains('{'), "{method} {path}: 404 {}", reply.text());
            }
            let documented: Vec<&String> =
                operation["responses"].as_object().unwrap().keys().collect();
            assert!(
                documented.iter().any(|code| code.as_str() == reply.status.to_string()),
                "{method} {concrete} answered {} which its document does not list ({documented:?}): {}",
                reply.status,
                reply.text()
            );
        }
    }
    assert_eq!(operations, 35);
    // And what is not documented is not served.
    assert_eq!(server.get("/api/v1/nothing").status, 404);
    assert_eq!(server.get("/api/v1/nothing").code(), "not_found");
    let wrong = server.request("DELETE", "/api/v1/status", Some(&admin), None);
    assert_eq!((wrong.status, wrong.code().as_str()), (405, "method_not_allowed"));
}

#[test]
fn errors_are_json_with_stable_codes() {
    let server = Server::start(&[]);
    let analyst = server.token("analyst");
    let cases: Vec<(Reply, u16, &str)> = vec![
        (
            server.post_json("/api/v1/query", None, &json!({"metrics": ["no_such_metric"]})),
            400,
            "invalid_query",
        ),
        (
            server.post_json(
                "/api/v1/query",
                None,
                &json!({"metrics": ["posts"], "by": ["colour"]}),
            ),
            400,
            "invalid_query",
        ),
        (server.post_json("/api/v1/query", None, &json!({"metrics": []})), 400, "invalid_query"),
        (server.request("POST", "/api/v1/query", None, Some(b"{not json")), 400, "bad_request"),
        (
            server.post_json("/api/v1/query", None, &json!({"metrics": ["posts"], "colour": 1})),
            400,
            "bad_request",
        ),
        (
            server.post_json(
                "/api/v1/query",
                None,
                &json!({"metrics": ["posts"], "from": "2026-05-02", "to": "2026-05-01"}),
            ),
            400,
            "bad_request",
        ),
        (server.get("/api/v1/posts?per_page=0"), 400, "bad_request"),
        (server.get("/api/v1/posts?from=yesterday"), 400, "bad_request"),
        // Requests sized to make the engine's planner recurse out of its stack are refused
        // (issue 23): thousands of words to search, thousands of filters.
        (
            server.get(&format!("/api/v1/posts?q={}", vec!["word"; 2_000].join("+"))),
            400,
            "invalid_query",
        ),
        (
            server.post_json(
                "/api/v1/query",
                None,
                &json!({"metrics": ["posts"], "where": vec!["platform=x"; 3_000]}),
            ),
            400,
            "invalid_query",
        ),
        (server.get("/api/v1/reports/weather"), 404, "not_found"),
        (
            server.get("/api/v1/baselines/none/compare?from=2026-05-01&to=2026-05-31"),
            404,
            "not_found",
        ),
        (server.get("/api/v1/baselines/none/compare"), 400, "bad_request"),
        (
            server.request("POST", "/api/v1/ingest", Some(&analyst), Some(b"  \n")),
            422,
            "unprocessable",
        ),
        (
            server.request(
                "POST",
                "/api/v1/ingest",
                Some(&analyst),
                Some(b"{\"nothing\": true}\n"),
            ),
            422,
            "unprocessable",
        ),
        (
            server.request("DELETE", "/api/v1/milestones/none", Some(&analyst), None),
            404,
            "not_found",
        ),
        (server.request("POST", "/api/v1/ingest", None, Some(b"{}")), 401, "unauthorized"),
        (
            server.request("GET", "/api/v1/status", Some("wl_not_a_token"), None),
            401,
            "unauthorized",
        ),
    ];
    for (reply, status, code) in cases {
        assert_eq!((reply.status, reply.code()), (status, code.to_owned()), "{}", reply.text());
        let error = &reply.json()["error"];
        assert_eq!(error["status"], status);
        assert!(!error["message"].as_str().unwrap().is_empty());
    }
    let baseline = json!({"name": "spring", "from": "2026-05-01", "to": "2026-05-31"});
    assert_eq!(server.post_json("/api/v1/baselines", Some(&analyst), &baseline).status, 201);
    let again = server.post_json("/api/v1/baselines", Some(&analyst), &baseline);
    assert_eq!((again.status, again.code().as_str()), (409, "conflict"));
    let compared = server.get("/api/v1/baselines/spring/compare?from=2026-06-01&to=2026-06-30");
    assert_eq!(compared.status, 200, "{}", compared.text());
    assert!(!compared.json()["changes"].as_array().unwrap().is_empty());
}

#[test]
fn roles_limit_reads_and_writes_and_every_write_is_logged() {
    let server = Server::start(&[]);
    let viewer = server.token("viewer");
    let analyst = server.token("analyst");
    let reviewer = server.token("pv-reviewer");
    let admin = server.token("admin");
    let line = serde_json::json!({"platform": "x", "id": "role-1", "author_handle": "someone", "created_at": "2026-09-01T10:00:00Z", "text": "hello @novarishealth"}).to_string();
    for (token, status) in [(&viewer, 403), (&reviewer, 403), (&analyst, 200), (&admin, 200)] {
        let reply = server.request("POST", "/api/v1/ingest", Some(token), Some(line.as_bytes()));
        assert_eq!(reply.status, status, "{}", reply.text());
    }
    // Viewers read with authors masked; analysts see them.
    let masked = server.request("GET", "/api/v1/posts?per_page=5", Some(&viewer), None).json();
    let open = server.request("GET", "/api/v1/posts?per_page=5", Some(&analyst), None).json();
    assert!(
        masked["posts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["author"].as_str().unwrap().starts_with("author-"))
    );
    assert!(
        open["posts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| !p["author"].as_str().unwrap().starts_with("author-"))
    );
    let page = server.request("GET", "/audit", Some(&viewer), None);
    assert!(page.text().contains("authors are masked for your role"));
    // Baselines and milestones need analyst or admin; tokens and the audit log need admin.
    let milestone = json!({"name": "sov", "metric": "share_of_voice_mentions", "target": 0.8, "by": "2027-06-30"});
    assert_eq!(server.post_json("/api/v1/milestones", Some(&viewer), &milestone).status, 403);
    assert_eq!(server.post_json("/api/v1/milestones", Some(&reviewer), &milestone).status, 403);
    assert_eq!(server.post_json("/api/v1/milestones", Some(&analyst), &milestone).status, 201);
    assert_eq!(server.post_json("/api/v1/milestones", Some(&analyst), &milestone).status, 409);
    assert_eq!(server.post_json("/api/v1/milestones", None, &milestone).status, 401);
    let statuses = server.get("/api/v1/milestones").json();
    assert!(statuses.as_array().unwrap().iter().any(|m| m["name"] == "sov"));
    assert_eq!(
        server.request("DELETE", "/api/v1/milestones/sov", Some(&analyst), None).status,
        204
    );
    for token in [&viewer, &analyst, &reviewer] {
        assert_eq!(server.request("GET", "/api/v1/tokens", Some(token), None).status, 403);
        assert_eq!(server.request("GET", "/api/v1/audit", Some(token), None).status, 403);
    }
    let created = server.post_json(
        "/api/v1/tokens",
        Some(&admin),
        &json!({"name": "collector", "role": "analyst"}),
    );
    assert_eq!(created.status, 201);
    let created = created.json();
    let new_token = created["token"].as_str().unwrap();
    assert_eq!(
        server.request("GET", "/api/v1/whoami", Some(new_token), None).json()["role"],
        "analyst"
    );
    let id = created["record"]["id"].as_str().unwrap();
    assert_eq!(
        server.request("DELETE", &format!("/api/v1/tokens/{id}"), Some(&admin), None).status,
        204
    );
    assert_eq!(server.request("GET", "/api/v1/status", Some(new_token), None).status, 401);
    // Only hashes are stored.
    let tokens = server.request("GET", "/api/v1/tokens", Some(&admin), None).text();
    assert!(!tokens.contains(new_token) && !tokens.contains(&admin));
    let database = std::fs::read(server.dir.path().join(".waterline/state.db")).unwrap();
    assert!(!String::from_utf8_lossy(&database).contains(&admin));
    // Every write: who and when.
    let log = server.request("GET", "/api/v1/audit", Some(&admin), None).json();
    let actions: Vec<(String, String)> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (e["action"].as_str().unwrap().to_owned(), e["actor"].as_str().unwrap().to_owned())
        })
        .collect();
    for action in ["ingest", "milestone.add", "milestone.remove", "token.create", "token.revoke"] {
        assert!(actions.iter().any(|(a, _)| a == action), "{action} not logged: {actions:?}");
    }
    assert!(actions.iter().any(|(a, who)| a == "milestone.add" && who.contains("analyst test")));
    assert!(log["entries"][0]["at"].as_i64().unwrap() > 1_700_000_000_000);
}

#[test]
fn beyond_loopback_the_dashboard_asks_for_a_login() {
    let server = Server::start(&["--require-token"]);
    let home = server.get("/");
    assert_eq!(home.status, 401);
    assert!(home.text().contains("id=\"login\""));
    assert_eq!(server.get("/api/v1/status").code(), "unauthorized");
    assert_eq!(server.get("/api/v1/openapi.json").status, 200);
    assert_eq!(server.get("/api/v1/health").status, 200);
    let viewer = server.token("viewer");
    let login = server.post_json("/api/v1/login", None, &json!({"token": viewer}));
    assert_eq!(login.status, 200);
    let cookie = login.header("set-cookie").unwrap().split(';').next().unwrap().to_owned();
    assert!(login.header("set-cookie").unwrap().contains("HttpOnly"));
    let mut stream = TcpStream::connect(&server.address).unwrap();
    write!(
        stream,
        "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).unwrap();
    assert!(raw.starts_with("HTTP/1.1 200"), "{}", &raw[..raw.len().min(300)]);
    assert_eq!(server.post_json("/api/v1/login", None, &json!({"token": "wl_wrong"})).status, 401);
}

#[test]
fn an_ingested_post_reaches_open_dashboards_live() {
    let server = Server::start(&[]);
    let analyst = server.token("analyst");
    let address = server.address.clone();
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut stream = TcpStream::connect(&address).unwrap();
        write!(
            stream,
            "GET /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n"
        )
        .unwrap();
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap_or(0) > 0 {
            if line.starts_with("event: ") {
                let _ = sender.send(line.trim().to_owned());
            }
            line.clear();
        }
    });
    assert_eq!(receiver.recv_timeout(Duration::from_secs(30)).unwrap(), "event: hello");
    let text = "Live arrival: can I take Cardivex with grapefruit juice?";
    let line = json!({"platform": "mastodon", "id": "live-1", "author_handle": "late@example.social", "created_at": "2026-10-31T23:59:00Z", "text": text}).to_string();
    let started = Instant::now();
    let reply = server.request("POST", "/api/v1/ingest", Some(&analyst), Some(line.as_bytes()));
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["report"]["new"], 1);
    assert_eq!(receiver.recv_timeout(Duration::from_secs(60)).unwrap(), "event: posts");
    eprintln!("ingest to event: {:?}", started.elapsed());
    assert!(server.get("/").text().contains("Live arrival"));
    // An import by another process is noticed too.
    let file = server.dir.path().join("more.jsonl");
    let other = json!({"platform": "x", "id": "live-2", "author_handle": "someone", "created_at": "2026-10-31T23:58:00Z", "text": "Imported by another process"}).to_string();
    std::fs::write(&file, other).unwrap();
    let output = Command::new(binary())
        .arg("--workspace")
        .arg(server.dir.path())
        .arg("import")
        .arg(&file)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    // Events follow (the new posts, then the rebuilt caches); the import is among them.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if server.get("/api/v1/posts?q=another+process").json()["total"] == 1 {
            break;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        assert_eq!(
            receiver.recv_timeout(left).unwrap(),
            "event: posts",
            "the import was not noticed"
        );
    }
}

#[test]
fn views_export_as_self_contained_html_csv_and_pseudonymised() {
    // The operator lets anonymous loopback readers see authors (they see a viewer's masked
    // view otherwise), so the plain export and the pseudonymised one differ.
    let server = Server::start(&["--anonymous-authors"]);
    let html = server.get("/listening?export=html");
    assert_eq!(html.status, 200);
    assert!(html.header("content-disposition").unwrap().contains("waterline-listening.html"));
    let text = html.text();
    assert!(text.contains("<style>") && text.contains("<svg"));
    assert!(!text.contains("<script") && !text.contains("/assets/"), "an export must stand alone");
    let csv = server.get("/audit?export=csv");
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    let csv = csv.text();
    assert!(csv.starts_with("date,platform,account,text,reception"));
    let open = server.get("/responsiveness?export=csv&table=1").text();
    let masked = server.get("/responsiveness?export=csv&table=1&pseudonymise=1").text();
    let authors = |csv: &str| -> Vec<String> {
        let mut reader = ::csv::Reader::from_reader(csv.as_bytes());
        reader.records().map(|r| r.unwrap()[3].to_owned()).collect()
    };
    let (open, masked) = (authors(&open), authors(&masked));
    assert!(!open.is_empty() && open.len() == masked.len());
    assert!(masked.iter().all(|a| a.starts_with("author-")), "{masked:?}");
    assert!(open.iter().all(|a| !a.starts_with("author-")));
    assert_eq!(server.get("/?export=pdf").code(), "bad_request");
    // The CLI writes the same.
    let out = server.dir.path().join("gap.html");
    let output = Command::new(binary())
        .arg("--workspace")
        .arg(server.dir.path())
        .args(["report", "listening", "--format", "html", "--pseudonymise", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let file = std::fs::read_to_string(&out).unwrap();
    assert!(
        file.contains("<svg")
            && file.contains("authors pseudonymised")
            && !file.contains("<script")
    );
    for handle in open.iter().take(20) {
        assert!(!file.contains(handle.as_str()), "{handle} in a pseudonymised export");
    }
    let csv = Command::new(binary())
        .arg("--workspace")
        .arg(server.dir.path())
        .args(["report", "share-of-voice", "--format", "csv"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&csv.stdout).starts_with("panel,"));
}

#[test]
fn a_workspace_without_posts_serves_every_page() {
    let dir = tempfile::tempdir().unwrap();
    let init =
        Command::new(binary()).arg("--workspace").arg(dir.path()).arg("init").output().unwrap();
    assert!(init.status.success());
    let server = Server::start_in(dir, &[]);
    for page in PAGES {
        let reply = server.get(page);
        assert_eq!(reply.status, 200, "{page}: {}", reply.text());
    }
    assert!(server.get("/").text().contains("No posts yet"));
    let answer = server
        .post_json("/api/v1/query", None, &json!({"metrics": ["posts", "net_sentiment"]}))
        .json();
    assert_eq!(answer["rows"][0]["posts"], 0);
    assert_eq!(answer["rows"][0]["net_sentiment"], Value::Null);
    assert_eq!(server.get("/api/v1/posts").json()["total"], 0);
}

#[test]
fn ingests_keep_the_import_guarantees_across_calls_and_other_processes() {
    let server = Server::start(&[]);
    let analyst = server.token("analyst");
    let post = |id: &str, likes: u64| {
        json!({"platform": "x", "id": id, "author_handle": "repeat", "created_at": "2026-10-30T10:00:00Z",
            "text": format!("@novarishealth repeated {id}"), "counts": {"likes": likes}})
        .to_string()
    };
    let ingest = |body: String| {
        let reply = server.request("POST", "/api/v1/ingest", Some(&analyst), Some(body.as_bytes()));
        assert_eq!(reply.status, 200, "{}", reply.text());
        let report = reply.json()["report"].clone();
        let count = |key: &str| report[key].as_u64().unwrap();
        assert_eq!(
            count("read"),
            count("new")
                + count("updated")
                + count("unchanged")
                + count("other")
                + count("rejected")
        );
        report
    };
    assert_eq!(ingest(post("w1", 1))["new"], 1);
    assert_eq!(ingest(post("w1", 1))["unchanged"], 1);
    // Another process imports meanwhile: the kept index is stale and must be rebuilt.
    let file = server.dir.path().join("other.jsonl");
    std::fs::write(&file, post("w2", 5)).unwrap();
    let output = Command::new(binary())
        .arg("--workspace")
        .arg(server.dir.path())
        .arg("import")
        .arg(&file)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(ingest(post("w2", 5))["unchanged"], 1);
    assert_eq!(ingest(post("w1", 9))["updated"], 1);
    let mixed = format!("{}\n{}\nnot json\n", post("w1", 9), post("w3", 0));
    let report = ingest(mixed);
    assert_eq!(
        (report["unchanged"].as_u64(), report["new"].as_u64(), report["rejected"].as_u64()),
        (Some(1), Some(1), Some(1))
    );
    let listed = server.get("/api/v1/posts?q=repeated&per_page=10").json();
    assert_eq!(listed["total"], 3);
}

#[test]
fn many_small_ingests_compact_the_table_and_every_post_still_counts_once() {
    let server = Server::start(&[]);
    let analyst = server.token("analyst");
    let post = |id: usize, likes: u64| {
        json!({"platform": "x", "id": format!("c{id}"), "author_handle": "collector",
            "created_at": "2026-10-30T10:00:00Z", "text": format!("@novarishealth compacted {id}"),
            "counts": {"likes": likes}})
        .to_string()
    };
    let ingest = |body: String| {
        let reply = server.request("POST", "/api/v1/ingest", Some(&analyst), Some(body.as_bytes()));
        assert_eq!(reply.status, 200, "{}", reply.text());
        reply.json()["report"].clone()
    };
    // One small commit a body, as a user's collector posting every few seconds makes.
    for id in 0..105 {
        assert_eq!(ingest(post(id, 1))["new"], 1);
    }
    let log = server.dir.path().join(".waterline/records/_delta_log");
    let optimized = std::fs::read_dir(&log)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|entry| entry.path().extension().is_some_and(|ext| ext == "json"))
        .filter(|entry| {
            std::fs::read_to_string(entry.path()).unwrap().contains("\"operation\":\"OPTIMIZE\"")
        })
        .count();
    assert!(optimized >= 1, "a hundred small files were compacted");
    // The compacted rows keep their identity: a replay is unchanged, new counts update.
    assert_eq!(ingest(post(3, 1))["unchanged"], 1);
    assert_eq!(ingest(post(4, 7))["updated"], 1);
    let listed = server.get("/api/v1/posts?q=compacted&per_page=10").json();
    assert_eq!(listed["total"], 105);
}

/// The value of attribute `name` in the first tag that contains `marker`.
fn tag_attribute(html: &str, marker: &str, name: &str) -> Option<String> {
    let at = html.find(marker)?;
    let start = html[..at].rfind('<')?;
    let tag = &html[start..start + html[start..].find('>')?];
    let from = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    Some(unescape(&tag[from..from + tag[from..].find('"')?]))
}

/// The `returning_authors` figure of an audience page: (value shown, its label).
fn returning_tile(html: &str) -> (f64, String) {
    let marker = "data-metric=\"returning_authors\"";
    let at = html.find(marker).expect("no returning tile");
    let value = tag_attribute(html, marker, "data-value").unwrap();
    let label_start = html[at..].find("class=\"label\"").unwrap() + at;
    let label = &html[label_start..];
    let label = &label[label.find('>').unwrap() + 1..label.find("</a>").unwrap()];
    (value.parse().unwrap(), unescape(label))
}

/// Issue 22: the default period is the last 90 days of data (ending at the latest post's
/// day), every page says the period in force, `period=all` and explicit dates still work,
/// the returning-authors tile and the monthly chart use one definition, and the charts mark
/// the partial buckets.
#[test]
fn the_dashboard_covers_the_last_90_days_of_data_by_default_and_says_its_period() {
    let server = Server::start(&[]);
    let days =
        server.post_json("/api/v1/query", None, &json!({"metrics": ["posts"], "by": ["day"]}));
    let days = days.json();
    let latest = days["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["day"].as_str().unwrap().to_owned())
        .max()
        .unwrap();
    let latest = chrono::NaiveDate::parse_from_str(&latest, "%Y-%m-%d").unwrap();
    let start = latest - chrono::Days::new(89);
    // Every page says its period; the figures ask for it.
    for page in PAGES {
        let html = server.get(page).text();
        assert_eq!(
            tag_attribute(&html, "id=\"period\"", "data-basis").as_deref(),
            Some("default"),
            "{page}"
        );
        assert_eq!(
            tag_attribute(&html, "id=\"period\"", "data-from"),
            Some(start.to_string()),
            "{page}"
        );
        // The end stays open: a post arriving on a later day belongs in the period at once.
        assert_eq!(tag_attribute(&html, "id=\"period\"", "data-to").as_deref(), Some(""), "{page}");
        assert!(
            html.contains(&format!("{start} – {latest} (the last 90 days of data")),
            "{page} does not say its period"
        );
    }
    let home = server.get("/").text();
    let shown = figures(&home);
    assert!(!shown.is_empty());
    for (metric, query, _, _) in &shown {
        assert_eq!(query["from"], json!(start.to_string()), "{metric}");
        assert!(query["to"].is_null(), "{metric}");
    }
    // Navigation keeps the default (no frozen dates in the links); all time is one click.
    assert!(home.contains("href=\"/audience\""), "the links freeze the default period");
    assert!(home.contains("href=\"/?period=all\" id=\"period-all\""));
    // The weekly chart marks the partial weeks (90 days never make whole weeks).
    assert!(home.contains("<circle class=\"partial\""), "no partial week marked");
    assert!(home.contains("partial week: only some of its days are in the period"));

    // All time: said, asked, and kept by the links.
    let all = server.get("/?period=all").text();
    assert_eq!(tag_attribute(&all, "id=\"period\"", "data-basis").as_deref(), Some("all"));
    assert!(all.contains("(all time: every post)"));
    assert!(
        figures(&all)
            .iter()
            .all(|(_, query, _, _)| query["from"].is_null() && query["to"].is_null())
    );
    assert!(all.contains("href=\"/audience?period=all\""), "all time is lost on the next page");
    // Explicit dates win and stay in the links.
    let chosen = server.get("/?from=2026-09-01&to=2026-09-30").text();
    assert_eq!(tag_attribute(&chosen, "id=\"period\"", "data-basis").as_deref(), Some("given"));
    assert!(chosen.contains("2026-09-01 – 2026-09-30 (as chosen)"));
    assert!(
        figures(&chosen)
            .iter()
            .all(|(_, query, _, _)| query["from"] == "2026-09-01" && query["to"] == "2026-09-30")
    );
    assert!(chosen.contains("href=\"/audience?from=2026-09-01&amp;to=2026-09-30\""));
    let wrong = server.get("/?period=forever");
    assert_eq!(wrong.status, 400, "{}", wrong.text());

    // Returning authors: one definition (interacted before the period, or the month), so
    // the tile over one whole month equals the chart's point for that month.
    let monthly = server
        .post_json(
            "/api/v1/query",
            None,
            &json!({"metrics": ["new_authors", "returning_authors"], "by": ["month"]}),
        )
        .json();
    let months = monthly["rows"].as_array().unwrap();
    let month = &months[months.len() - 2];
    let name = month["month"].as_str().unwrap();
    let first = chrono::NaiveDate::parse_from_str(&format!("{name}-01"), "%Y-%m-%d").unwrap();
    let last = first + chrono::Months::new(1) - chrono::Days::new(1);
    let audience = server.get(&format!("/audience?from={first}&to={last}")).text();
    let (tile, label) = returning_tile(&audience);
    assert_eq!(
        Some(tile),
        month["returning_authors"].as_f64(),
        "{name}: tile {tile}, chart {month}"
    );
    assert!(tile > 0.0, "{month}");
    assert!(label.contains(&format!("before {first}")), "{label}");
    // Over the default period the tile counts returning authors too, and says since when.
    let (tile, label) = returning_tile(&server.get("/audience").text());
    assert!(tile > 0.0 && label.contains(&format!("before {start}")), "{tile} {label}");
    // Over all time it is 0 by definition, and the page says why.
    let all_time = server.get("/audience?period=all").text();
    assert_eq!(returning_tile(&all_time).0, 0.0);
    assert!(all_time.contains("id=\"returning-all-time\""));
}

/// Issue 22: the alerts page's headline and lists count the same things, and say which:
/// stored alerts by status, and the clock and coverage alerts firing now.
#[test]
fn the_alerts_page_says_what_each_of_its_numbers_counts() {
    let server = Server::start(&[]);
    let answer = server.get("/api/v1/alerts?per_page=1000").json();
    let stored = answer["stored"].as_array().unwrap();
    let firing = answer["alerts"].as_array().unwrap();
    assert_eq!(answer["total_alerts"].as_u64(), Some(firing.len() as u64), "one page holds them");
    let open = stored.iter().filter(|alert| alert["status"] == "open").count();
    let html = server.get("/alerts").text();
    let headline = |name: &str| tag_attribute(&html, "id=\"alerts-headline\"", name).unwrap();
    assert_eq!(headline("data-stored-open"), open.to_string());
    assert_eq!(headline("data-firing"), firing.len().to_string());
    // The API pages the alerts firing now, most urgent first, and says how many there are.
    if firing.len() >= 2 {
        let second = server.get("/api/v1/alerts?page=2&per_page=1").json();
        assert_eq!(second["alerts"].as_array().unwrap().as_slice(), &firing[1..2]);
        assert_eq!(second["total_alerts"], answer["total_alerts"]);
        assert_eq!((second["page"].as_u64(), second["per_page"].as_u64()), (Some(2), Some(1)));
    }
    let beyond = server.get(&format!("/api/v1/alerts?page={}&per_page=1", firing.len() + 1));
    assert!(beyond.json()["alerts"].as_array().unwrap().is_empty());
    for bad in ["per_page=0", "per_page=1001", "page=0", "page=x", "colour=red"] {
        let answer = server.get(&format!("/api/v1/alerts?{bad}"));
        assert_eq!(answer.status, 400, "{bad}: {}", answer.text());
        assert!(answer.json()["error"].is_object(), "{bad}: the error envelope");
    }
    assert!(html.contains(&format!("<strong>{open}</strong> stored alert")), "{html}");
    assert!(html.contains(&format!(
        "<strong>{}</strong> pharmacovigilance clock and coverage alert",
        firing.len()
    )));
    if !firing.is_empty() {
        assert!(
            html.contains(&format!("<strong>{}</strong> clock and coverage alert", firing.len()))
        );
    }
    assert!(html.contains(&format!("<strong>{open}</strong> open, ")), "the list counts otherwise");
}

/// Issue 22: a post that replies and quotes is a reply for the metrics and for the post
/// list alike (one definition of a post's type), so a figure and its posts agree.
#[test]
fn a_metric_by_post_type_and_the_post_list_behind_it_count_the_same_posts() {
    let dir = tempfile::tempdir().unwrap();
    let init =
        Command::new(binary()).arg("--workspace").arg(dir.path()).arg("init").output().unwrap();
    assert!(init.status.success());
    let post = |id: &str, links: Value| {
        let mut post = json!({"platform": "mastodon", "id": id, "author_handle": format!("someone{id}@example.social"),
            "created_at": "2026-10-30T10:00:00Z", "text": format!("post {id}")});
        post.as_object_mut().unwrap().extend(links.as_object().unwrap().clone());
        post.to_string()
    };
    // One inbound question besides: a filtered response metric of the overview needs a
    // conversation in the conversations cache (an empty cache has no columns to filter).
    let question = json!({"platform": "mastodon", "id": "0", "author_handle": "asker@example.social",
        "created_at": "2026-10-29T10:00:00Z", "text": "@acmehealth@mastodon.social how do I renew my prescription?"});
    let lines = [
        question.to_string(),
        post("1", json!({})),
        post("2", json!({"reply_to": "1"})),
        post("3", json!({"quote_of": "1"})),
        post("4", json!({"repost_of": "1"})),
        post("5", json!({"reply_to": "1", "quote_of": "3"})),
        post("6", json!({"repost_of": "1", "reply_to": "2"})),
    ];
    let file = dir.path().join("posts.jsonl");
    std::fs::write(&file, lines.join("\n")).unwrap();
    let import = Command::new(binary())
        .arg("--workspace")
        .arg(dir.path())
        .arg("import")
        .arg(&file)
        .output()
        .unwrap();
    assert!(import.status.success(), "{}", String::from_utf8_lossy(&import.stderr));
    let server = Server::start_in(dir, &[]);
    let answer = server
        .post_json("/api/v1/query", None, &json!({"metrics": ["posts"], "by": ["post_type"]}))
        .json();
    let counted = |kind: &str| {
        answer["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["post_type"] == kind)
            .and_then(|r| r["posts"].as_u64())
            .unwrap_or(0)
    };
    for (kind, expected) in [("original", 2), ("reply", 2), ("quote", 1), ("repost", 2)] {
        assert_eq!(counted(kind), expected, "the metric counts {kind} otherwise: {answer}");
        let html = server.get(&format!("/?period=all&post_type={kind}")).text();
        let listed =
            html.find("<p class=\"count\">").map(|at| &html[at..(at + 60).min(html.len())]);
        assert!(
            html.contains(&format!("<p class=\"count\">{expected} posts match")),
            "the post list of {kind} disagrees with the metric ({expected}): {listed:?} {}",
            if listed.is_none() { &html } else { "" }
        );
    }
}

/// The kept answers of a workspace (`.waterline/cache/answers/answer-*.json`) whose
/// dimensions and metrics are these.
fn kept_answers(dir: &Path, dimensions: &[&str], metrics: &[&str]) -> Vec<PathBuf> {
    let folder = dir.join(".waterline/cache/answers");
    let Ok(entries) = std::fs::read_dir(&folder) else { return Vec::new() };
    entries
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if !(name.starts_with("answer-") && name.ends_with(".json")) {
                return false;
            }
            let answer: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
            answer["dimensions"] == json!(dimensions) && answer["metrics"] == json!(metrics)
        })
        .collect()
}

#[test]
fn a_restarted_server_reads_the_figures_it_kept_and_never_those_of_another_state() {
    let server = Server::start(&[]);
    let ask = |server: &Server| {
        let reply = server.post_json(
            "/api/v1/query",
            None,
            &json!({"metrics": ["posts", "interacting_audience"], "by": ["platform"]}),
        );
        assert_eq!(reply.status, 200, "{}", reply.text());
        reply.json()
    };
    let computed = ask(&server);
    // The pages' figures are computed in the background when a server starts.
    let started = Instant::now();
    while kept_answers(server.dir.path(), &["month"], &["new_authors", "returning_authors"])
        .is_empty()
    {
        assert!(started.elapsed() < Duration::from_secs(120), "the audience page was not prepared");
        std::thread::sleep(Duration::from_millis(200));
    }
    let dir = server.stop();
    let kept = kept_answers(dir.path(), &["platform"], &["posts", "interacting_audience"]);
    assert_eq!(kept.len(), 1, "{kept:?}");
    let mut answer: Value = serde_json::from_slice(&std::fs::read(&kept[0]).unwrap()).unwrap();
    // The API's rows are objects; the kept answer's, keys and values.
    let posts_of = |answer: &Value, platform: &str| -> f64 {
        let row = answer["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|row| row["platform"] == platform)
            .unwrap_or_else(|| panic!("no {platform} in {answer}"));
        row["posts"].as_f64().unwrap()
    };
    let rows = answer["rows"].as_array().unwrap().clone();
    assert_eq!(rows.len(), computed["rows"].as_array().unwrap().len());
    for row in &rows {
        let platform = row["keys"][0].as_str().unwrap();
        assert_eq!(row["values"][0].as_f64().unwrap(), posts_of(&computed, platform), "kept");
    }
    // Mark the kept figure: a restarted server on the same state answers it from the file.
    let marked = rows[0]["keys"][0].as_str().unwrap().to_owned();
    answer["rows"][0]["values"][0] = json!(123456789.0);
    std::fs::write(&kept[0], serde_json::to_vec(&answer).unwrap()).unwrap();
    let server = Server::start_in(dir, &[]);
    let restarted = ask(&server);
    assert_eq!(posts_of(&restarted, &marked), 123456789.0, "{restarted}");
    // Another state (one more post imported): the kept figure is not read.
    let dir = server.stop();
    let file = dir.path().join("one-more.jsonl");
    std::fs::write(&file, crate::support::post_line("bluesky", "kept-1", 3, "one more", 1))
        .unwrap();
    let output = Command::new(binary())
        .arg("--workspace")
        .arg(dir.path())
        .arg("import")
        .arg(&file)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let server = Server::start_in(dir, &[]);
    let moved = ask(&server);
    let total = |answer: &Value| -> f64 {
        answer["rows"].as_array().unwrap().iter().map(|row| row["posts"].as_f64().unwrap()).sum()
    };
    assert_eq!(total(&moved), total(&computed) + 1.0, "{moved}");
}
