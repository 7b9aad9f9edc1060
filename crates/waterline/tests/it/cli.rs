//! The commands a new user runs: init, import, status, sql, export, rejects.

use crate::support::{Workspace, binary, post_line, repository};

#[test]
fn init_refuses_to_overwrite() {
    let workspace = Workspace::new();
    let output = workspace.run(&["init"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("already exists"));
}

#[test]
fn commands_outside_a_workspace_say_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(binary())
        .current_dir(dir.path())
        .args(["status"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("waterline init"));
}

#[test]
fn unknown_configuration_keys_are_errors() {
    let workspace = Workspace::new();
    workspace.write("waterline.toml", b"brand = \"b\"\ncolour = \"red\"\n");
    let output = workspace.run(&["status"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("colour"));
}

#[test]
fn import_is_idempotent_and_updates_add_observations() {
    let workspace = Workspace::new();
    let lines = [post_line("x", "1", 1, "hello", 1), post_line("x", "2", 2, "world", 5)].join("\n");
    let first = workspace.write("a.jsonl", lines.as_bytes());
    assert_eq!(workspace.import(&[&first]), [2, 2, 0, 0, 0, 0]);
    assert_eq!(workspace.import(&[&first]), [2, 0, 0, 2, 0, 0]);
    let changed = [post_line("x", "1", 1, "hello", 9), post_line("x", "3", 3, "new", 0)].join("\n");
    let second = workspace.write("b.jsonl", changed.as_bytes());
    assert_eq!(workspace.import(&[&second]), [2, 1, 1, 0, 0, 0]);
    let rows = workspace.sql("SELECT id, likes FROM posts ORDER BY id");
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["likes"], 9);
    let observations =
        workspace.sql("SELECT likes FROM observations WHERE id = '1' ORDER BY observed_at");
    assert_eq!(observations.len(), 2, "every observation is kept");
}

#[test]
fn side_comes_from_the_configuration() {
    let workspace = Workspace::new();
    let lines = [
        serde_json::json!({"platform":"x","id":"o","author_handle":"AcmeHealth","created_at":"2026-01-01T00:00:00Z"}).to_string(),
        serde_json::json!({"platform":"x","id":"c","author_handle":"rivalis","created_at":"2026-01-01T00:00:00Z"}).to_string(),
        serde_json::json!({"platform":"x","id":"a","author_handle":"someone","created_at":"2026-01-01T00:00:00Z"}).to_string(),
    ]
    .join("\n");
    let file = workspace.write("s.jsonl", lines.as_bytes());
    workspace.import(&[&file]);
    let rows = workspace.sql("SELECT id, side FROM posts ORDER BY id");
    let sides: Vec<_> = rows.iter().map(|row| row["side"].as_str().unwrap().to_owned()).collect();
    assert_eq!(sides, ["audience", "competitor", "own"]);
}

#[test]
fn standard_input_and_gzip_are_read() {
    use std::io::Write;
    let workspace = Workspace::new();
    let lines = [post_line("x", "10", 1, "from stdin", 1)].join("\n");
    let mut child = std::process::Command::new(binary())
        .arg("--workspace")
        .arg(workspace.path())
        .args(["import", "-", "--json"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(lines.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(value["new"], 1);

    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(post_line("x", "11", 2, "from gzip", 1).as_bytes()).unwrap();
    let gz = workspace.write("posts.jsonl.gz", &encoder.finish().unwrap());
    assert_eq!(workspace.import(&[&gz])[1], 1);
}

#[test]
fn export_round_trips_through_waterline_jsonl() {
    let workspace = Workspace::new();
    let lines: Vec<String> = (0..50)
        .map(|index| post_line("mastodon", &index.to_string(), index % 28, "text", index as u64))
        .collect();
    let file = workspace.write("p.jsonl", lines.join("\n").as_bytes());
    workspace.import(&[&file]);
    let exported = workspace.path().join("export.jsonl");
    workspace.ok(&["export", "--format", "jsonl", "--out", exported.to_str().unwrap()]);
    let other = Workspace::new();
    assert_eq!(other.import(&[exported.to_str().unwrap()]), [50, 50, 0, 0, 0, 0]);
    for format in ["csv", "parquet"] {
        let out = workspace.path().join(format!("export.{format}"));
        let printed = workspace.ok(&["export", "--format", format, "--out", out.to_str().unwrap()]);
        assert!(printed.contains("50 posts"), "{printed}");
        assert!(out.metadata().unwrap().len() > 0);
    }
}

#[test]
fn sql_is_read_only_and_lists_documented_columns() {
    let workspace = Workspace::new();
    let output = workspace.run(&["sql", "DROP VIEW posts"]);
    assert!(!output.status.success());
    let schema = std::fs::read_to_string(repository().join("docs/schema.md")).unwrap();
    let file = workspace.write("p.jsonl", post_line("x", "1", 1, "a", 1).as_bytes());
    workspace.import(&[&file]);
    let rows = workspace.sql("SELECT * FROM posts");
    let columns = rows[0].as_object().unwrap();
    for column in waterline_analytics::POST_COLUMNS {
        assert!(schema.contains(&format!("`{column}`")), "docs/schema.md documents `{column}`");
        let _ = columns;
    }
    let output = workspace.run(&["sql", "SELECT count(*) FROM posts", "--timing"]);
    assert!(String::from_utf8_lossy(&output.stderr).contains("ms"));
}

#[test]
fn status_counts_by_platform_and_side() {
    let workspace = Workspace::new();
    let lines = [post_line("x", "1", 1, "a", 1), post_line("bluesky", "2", 2, "b", 1)].join("\n");
    let file = workspace.write("p.jsonl", lines.as_bytes());
    workspace.import(&[&file]);
    let status = workspace.json(&["status"]);
    assert_eq!(status["posts"], 2);
    assert_eq!(status["by_platform_side"].as_array().unwrap().len(), 2);
}
