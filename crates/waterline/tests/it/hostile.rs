//! Regression tests of the hostile-request review (issue 23), each named after the defect it
//! keeps fixed: the real server, probed as a security reviewer would.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::{Value, json};

use crate::server::Server;
use crate::support::Workspace;

/// One request with exactly these header lines; answers the status and the body.
fn raw(address: &str, method: &str, path: &str, headers: &[String], body: &[u8]) -> (u16, String) {
    let mut stream = TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n");
    for header in headers {
        head.push_str(header);
        head.push_str("\r\n");
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    stream.write_all(head.as_bytes()).unwrap();
    let _ = stream.write_all(body);
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    (status, body)
}

fn error_code(body: &str) -> String {
    // Chunked bodies: the JSON object sits between the chunk sizes.
    let start = body.find('{').unwrap_or(0);
    let end = body.rfind('}').map_or(body.len(), |i| i + 1);
    let value: Value = serde_json::from_str(&body[start..end])
        .unwrap_or_else(|e| panic!("not the error envelope ({e}): {body}"));
    value["error"]["code"].as_str().unwrap_or_default().to_owned()
}

#[test]
fn a_body_over_the_limit_answers_413_in_the_error_envelope() {
    let server = Server::start(&[]);
    let body = vec![b' '; 2 * 1024 * 1024];
    let reply = server.request("POST", "/api/v1/query", None, Some(&body));
    assert_eq!(reply.status, 413, "{}", reply.text());
    assert_eq!(reply.code(), "payload_too_large");
    assert_eq!(server.get("/api/v1/health").status, 200);
}

#[test]
fn out_of_range_pages_and_dates_answer_400_not_500() {
    let server = Server::start(&[]);
    let analyst = server.token("analyst");
    for path in [
        "/api/v1/posts?page=9223372036854775807",
        "/api/v1/posts?page=99999999999999999999999",
        "/api/v1/posts?page=0",
        "/api/v1/posts?per_page=5000",
        "/api/v1/posts?from=2500-01-01",
        "/api/v1/posts?to=0001-01-01",
        "/api/v1/reports/listening?from=9999-12-31",
    ] {
        let reply = server.get(path);
        assert_eq!((reply.status, reply.code().as_str()), (400, "bad_request"), "{path}");
    }
    assert_eq!(server.get("/posts?page=9223372036854775807").status, 400);
    for body in [
        json!({"metrics": ["posts"], "from": "0001-01-01"}),
        json!({"metrics": ["posts"], "to": "+99999-01-01"}),
    ] {
        let reply = server.post_json("/api/v1/query", None, &body);
        assert_eq!(reply.status, 400, "{body}: {}", reply.text());
    }
    let baseline = json!({"name": "ancient", "from": "0001-01-01", "to": "2026-01-01"});
    let reply = server.post_json("/api/v1/baselines", Some(&analyst), &baseline);
    assert_eq!((reply.status, reply.code().as_str()), (400, "bad_request"), "{}", reply.text());
    let milestone =
        json!({"name": "x".repeat(5_000), "metric": "posts", "target": 1, "by": "2027-01-01"});
    let reply = server.post_json("/api/v1/milestones", Some(&analyst), &milestone);
    assert_eq!(reply.status, 400, "{}", reply.text());
}

#[test]
fn a_rebinding_host_or_a_foreign_origin_is_refused() {
    let server = Server::start(&["--allowed-host", "waterline.test"]);
    let address = &server.address;
    let port = address.rsplit(':').next().unwrap();
    let host = |name: &str| format!("Host: {name}:{port}");
    let (status, body) = raw(address, "GET", "/api/v1/status", &[host("attacker.example")], b"");
    assert_eq!((status, error_code(&body).as_str()), (403, "host_not_allowed"));
    let (status, _) = raw(address, "GET", "/", &[host("attacker.example")], b"");
    assert_eq!(status, 403);
    for name in ["localhost", "127.0.0.1", "waterline.test"] {
        let (status, body) = raw(address, "GET", "/api/v1/status", &[host(name)], b"");
        assert_eq!(status, 200, "{name}: {body}");
    }
    let foreign = [host("127.0.0.1"), "Origin: https://evil.example".to_owned()];
    let (status, body) =
        raw(address, "POST", "/api/v1/query", &foreign, br#"{"metrics":["posts"]}"#);
    assert_eq!((status, error_code(&body).as_str()), (403, "host_not_allowed"));
    let same = [host("127.0.0.1"), format!("Origin: http://127.0.0.1:{port}")];
    let (status, _) = raw(address, "POST", "/api/v1/query", &same, br#"{"metrics":["posts"]}"#);
    assert_eq!(status, 200);
}

#[test]
fn a_lower_case_bearer_is_a_token_and_a_bad_one_is_never_read_as_anonymous() {
    let server = Server::start(&["--require-token"]);
    let viewer = server.token("viewer");
    let address = &server.address;
    let host = format!("Host: {address}");
    for scheme in ["bearer", "BEARER", "Bearer"] {
        let auth = format!("Authorization: {scheme} {viewer}");
        let (status, body) = raw(address, "GET", "/api/v1/status", &[host.clone(), auth], b"");
        assert_eq!(status, 200, "{scheme}: {body}");
    }
    // On loopback without --require-token, a wrong token is refused, not read anonymously.
    let open = Server::start(&[]);
    let host = format!("Host: {}", open.address);
    for auth in
        ["Authorization: bearer wl_wrong", "Authorization: Basic d2w6YWJj", "Authorization: Bearer"]
    {
        let (status, body) =
            raw(&open.address, "GET", "/api/v1/status", &[host.clone(), auth.to_owned()], b"");
        assert_eq!((status, error_code(&body).as_str()), (401, "unauthorized"), "{auth}");
    }
}

#[test]
fn the_ingest_answer_discloses_no_absolute_path() {
    let server = Server::start(&[]);
    let analyst = server.token("analyst");
    let line = json!({"platform": "x", "id": "path-1", "author_handle": "someone", "created_at": "2026-09-01T10:00:00Z", "text": "hello"}).to_string();
    let reply = server.request("POST", "/api/v1/ingest", Some(&analyst), Some(line.as_bytes()));
    assert_eq!(reply.status, 200, "{}", reply.text());
    let text = reply.text();
    let root = server.dir.path().to_string_lossy().into_owned();
    assert!(!text.contains(&root) && !text.contains("/tmp/"), "{text}");
    assert!(reply.json()["file"].as_str().unwrap().starts_with("ingest/imported/"), "{text}");
    let bad = server.request("POST", "/api/v1/ingest", Some(&analyst), Some(b"\x00\x01binary"));
    assert!(!bad.text().contains(&root), "{}", bad.text());
}

/// The handles of the audience's authors, as an admin sees them.
fn audience_handles(server: &Server, admin: &str) -> Vec<String> {
    let posts = server
        .request("GET", "/api/v1/posts?side=audience&per_page=1000&period=all", Some(admin), None)
        .json();
    let mut handles: Vec<String> = posts["posts"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|post| post["author"].as_str())
        .map(|author| author.trim_start_matches('@').to_lowercase())
        .filter(|author| author.len() >= 5)
        .collect();
    handles.sort();
    handles.dedup();
    handles
}

#[test]
fn viewers_and_anonymous_readers_see_no_handle_in_texts_urls_or_query_rows() {
    let server = Server::start(&[]);
    let admin = server.token("admin");
    let viewer = server.token("viewer");
    let handles = audience_handles(&server, &admin);
    assert!(handles.len() > 20, "{handles:?}");
    let leaks = |text: &str| -> Vec<String> {
        let text = text.to_lowercase();
        handles.iter().filter(|handle| text.contains(handle.as_str())).cloned().collect()
    };
    let query = json!({"metrics": ["posts"], "by": ["account"], "limit": 1000});
    for token in [Some(viewer.as_str()), None] {
        let posts =
            server.request("GET", "/api/v1/posts?side=audience&per_page=1000", token, None).text();
        assert_eq!(leaks(&posts), Vec::<String>::new(), "posts as {token:?}");
        let rows = server.post_json("/api/v1/query", token, &query).text();
        assert_eq!(leaks(&rows), Vec::<String>::new(), "query by account as {token:?}");
        let page = server.request("GET", "/posts?side=audience&period=all", token, None).text();
        assert_eq!(leaks(&page), Vec::<String>::new(), "the posts page as {token:?}");
        let alerts = server.request("GET", "/api/v1/alerts", token, None).text();
        assert_eq!(leaks(&alerts), Vec::<String>::new(), "alerts as {token:?}");
    }
    // The operator may let anonymous loopback readers see authors, explicitly.
    let open = Server::start(&["--anonymous-authors"]);
    let posts = open.get("/api/v1/posts?side=audience&per_page=1000").text();
    assert!(!leaks(&posts).is_empty());
}

#[test]
fn an_accepted_ingest_body_left_by_a_crash_is_imported_at_the_next_start() {
    let server = Server::start(&[]);
    let before = server.get("/api/v1/posts?q=recovered&period=all").json()["total"].as_u64();
    assert_eq!(before, Some(0));
    let dir = server.stop();
    // What `POST /api/v1/ingest` leaves when the process is killed after storing the body
    // and before committing its posts.
    let pending = dir.path().join(".waterline/ingest");
    std::fs::create_dir_all(&pending).unwrap();
    let id = "019a0000-0000-7000-8000-000000000001";
    let line = json!({"platform": "x", "id": "recovered-1", "author_handle": "someone", "created_at": "2026-09-01T10:00:00Z", "text": "recovered after a crash"}).to_string();
    std::fs::write(pending.join(format!("{id}.jsonl")), format!("{line}\n")).unwrap();
    std::fs::write(pending.join(format!("{id}.sender.json")), r#"{"actor":"token:t (collector)"}"#)
        .unwrap();
    std::fs::write(pending.join("019a0000-0000-7000-8000-000000000002.part"), "{\"half").unwrap();
    let restarted = Server::start_in(dir, &[]);
    let after = restarted.get("/api/v1/posts?q=recovered&period=all").json();
    assert_eq!(after["total"], 1, "{after}");
    let pending = restarted.dir.path().join(".waterline/ingest");
    assert!(pending.join(format!("imported/{id}.jsonl")).is_file());
    assert!(!pending.join(format!("{id}.jsonl")).exists());
    assert!(!pending.join("019a0000-0000-7000-8000-000000000002.part").exists());
    let admin = restarted.token("admin");
    let log = restarted.request("GET", "/api/v1/audit", Some(&admin), None).json();
    let recovered = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|entry| entry["action"] == "ingest.recover")
        .unwrap_or_else(|| panic!("no recovery in the audit log: {log}"));
    assert!(recovered["actor"].as_str().unwrap().contains("collector"), "{recovered}");
    assert_eq!(recovered["origin"], "system:recovery");
}

#[test]
fn a_truncated_gzip_accounts_for_every_record_decoded_and_rejects_the_corruption() {
    use flate2::write::GzEncoder;
    let workspace = Workspace::new();
    let mut encoder = GzEncoder::new(Vec::new(), flate2::Compression::fast());
    for index in 0..6_000 {
        writeln!(
            encoder,
            r#"{{"platform":"x","id":"gz-{index}","author_handle":"a{}","created_at":"2026-03-02T09:00:00Z","text":"post {index} of a compressed export {}"}}"#,
            index % 89,
            index * 7919 % 10007
        )
        .unwrap();
    }
    let whole = encoder.finish().unwrap();
    let path = workspace.write("cut.jsonl.gz", &whole[..whole.len() * 3 / 4]);
    // Batches of 1,000: the corruption comes several batches in.
    let [read, new, _, _, _, rejected] = workspace.import(&[&path, "--batch-size", "1000"]);
    assert!(new > 2_000 && new < 6_000, "read {read}, new {new}");
    assert_eq!(rejected, 1, "the corruption is one rejected entry");
    assert_eq!(read, new + rejected);
    let rejects = workspace.ok(&["rejects"]);
    assert!(rejects.contains("corrupt or truncated"), "{rejects}");
    // The run is recorded with its real counts.
    let runs = workspace.sql("SELECT count(*) AS n FROM posts");
    assert_eq!(runs[0]["n"].as_u64(), Some(new));
}

/// The state database's files (the database and its write-ahead log, where recent rows may
/// still be), as `(name, bytes)`.
fn state_files(workspace: &Workspace) -> Vec<(&'static str, Vec<u8>)> {
    let data = workspace.path().join(".waterline");
    ["state.db", "state.db-wal"]
        .into_iter()
        .filter_map(|name| std::fs::read(data.join(name)).ok().map(|bytes| (name, bytes)))
        .collect()
}

/// The audit log as the state files hold it (SQLite keeps text as is).
fn state_text(workspace: &Workspace) -> String {
    state_files(workspace).iter().map(|(_, bytes)| String::from_utf8_lossy(bytes)).collect()
}

#[test]
fn cli_writes_are_audited_under_the_os_user_and_a_restored_older_state_is_caught() {
    let workspace = Workspace::new();
    let line = json!({"platform": "x", "id": "a-1", "author_handle": "someone", "created_at": "2026-09-01T10:00:00Z", "text": "hello"}).to_string();
    let file = workspace.write("one.jsonl", format!("{line}\n").as_bytes());
    workspace.import(&[&file]);
    let verified = workspace.json(&["audit", "verify"]);
    assert_eq!(verified["intact"], true, "{verified}");
    assert_eq!(verified["chains"][0]["entries"], 1, "the import is recorded: {verified}");
    let before = state_files(&workspace);

    // A declared name never replaces the operating-system user.
    let run = |args: &[&str]| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_waterline"))
            .arg("--workspace")
            .arg(workspace.path())
            .args(args)
            .env("WATERLINE_USER", "mallory")
            .output()
            .unwrap();
        assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    };
    run(&["baseline", "create", "launch", "--from", "2026-09-01", "--to", "2026-09-30"]);
    run(&["milestone", "add", "q4", "--metric", "posts", "--target", "10", "--by", "2026-12-31"]);
    run(&["milestone", "remove", "q4"]);
    run(&["baseline", "delete", "launch"]);
    let text = state_text(&workspace);
    for action in
        ["import", "baseline.create", "milestone.add", "milestone.remove", "baseline.delete"]
    {
        assert!(text.contains(action), "{action} is not in the audit log");
    }
    assert!(text.contains(" as mallory"), "the declared name is kept beside the OS user");
    assert!(!text.contains("cli:mallory"), "the declared name replaced the OS user");
    let ok = workspace.run(&["audit", "verify"]);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stdout));

    // Restoring the older state file erases those rows: the heads recorded outside the
    // database catch it, and the server refuses to start on it.
    let data = workspace.path().join(".waterline");
    for extra in ["state.db-wal", "state.db-shm"] {
        let _ = std::fs::remove_file(data.join(extra));
    }
    for (name, bytes) in before {
        std::fs::write(data.join(name), bytes).unwrap();
    }
    let broken = workspace.run(&["audit", "verify"]);
    assert_eq!(broken.status.code(), Some(1), "{}", String::from_utf8_lossy(&broken.stdout));
    let refused = workspace.run(&["serve", "--listen", "127.0.0.1:0"]);
    assert!(!refused.status.success(), "serve started on a broken audit trail");
    assert!(String::from_utf8_lossy(&refused.stderr).contains("audit"));
}
