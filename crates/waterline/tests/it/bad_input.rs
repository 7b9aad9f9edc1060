//! Bad input is data: each case gives a clear message and loses nothing that was valid.

use crate::support::{Workspace, post_line};

fn rejects(workspace: &Workspace) -> Vec<serde_json::Value> {
    match workspace.json(&["rejects"]) {
        serde_json::Value::Array(rows) => rows,
        other => panic!("{other}"),
    }
}

#[test]
fn truncated_json_line_is_rejected_and_the_rest_imported() {
    let workspace = Workspace::new();
    let good = post_line("x", "1", 1, "ok", 1);
    let text = format!("{good}\n{}\n{}", post_line("x", "2", 1, "ok", 1), &good[..good.len() / 2]);
    let file = workspace.write("t.jsonl", text.as_bytes());
    assert_eq!(workspace.import(&[&file]), [3, 2, 0, 0, 0, 1]);
    let rows = rejects(&workspace);
    assert_eq!(rows[0]["position"]["line"], 3);
    assert_eq!(rows[0]["reason"], "truncated JSON");
    assert!(rows[0]["file"].as_str().unwrap().ends_with("t.jsonl"));
}

#[test]
fn wrong_types_name_the_field() {
    let workspace = Workspace::new();
    let bad = r#"{"platform":"x","id":"9","created_at":"2026-01-01T00:00:00Z","counts":{"likes":"lots"}}"#;
    let text = format!("{}\n{bad}\n", post_line("x", "1", 1, "ok", 1));
    let file = workspace.write("w.jsonl", text.as_bytes());
    assert_eq!(workspace.import(&[&file]), [2, 1, 0, 0, 0, 1]);
    let rows = rejects(&workspace);
    assert_eq!(rows[0]["field"], "counts.likes");
    assert_eq!(rows[0]["position"]["line"], 2);
}

#[test]
fn invalid_utf8_is_rejected_with_its_line() {
    let workspace = Workspace::new();
    let mut bytes = post_line("x", "1", 1, "ok", 1).into_bytes();
    bytes.extend_from_slice(b"\n{\"platform\":\"x\",\"id\":\"2\",\"text\":\"\xff\xfe\"}\n");
    let file = workspace.write("u.jsonl", &bytes);
    assert_eq!(workspace.import(&[&file]), [2, 1, 0, 0, 0, 1]);
    assert!(rejects(&workspace)[0]["reason"].as_str().unwrap().contains("UTF-8"));
}

#[test]
fn a_ten_megabyte_field_is_kept() {
    let workspace = Workspace::new();
    let big = "a".repeat(10 * 1024 * 1024);
    let text =
        format!("{}\n{}\n", post_line("x", "big", 1, &big, 1), post_line("x", "small", 1, "s", 1));
    let file = workspace.write("big.jsonl", text.as_bytes());
    assert_eq!(workspace.import(&[&file]), [2, 2, 0, 0, 0, 0]);
    let rows = workspace.sql("SELECT length(text) AS n FROM posts WHERE id = 'big'");
    assert_eq!(rows[0]["n"], 10 * 1024 * 1024);
}

#[test]
fn an_empty_file_imports_nothing_and_succeeds() {
    let workspace = Workspace::new();
    let file = workspace.write("empty.jsonl", b"");
    assert_eq!(workspace.import(&[&file]), [0, 0, 0, 0, 0, 0]);
}

#[test]
fn binary_and_unknown_formats_are_clear_errors_naming_the_path() {
    let workspace = Workspace::new();
    let binary: Vec<u8> = (0..2048u32).map(|value| (value * 7 % 256) as u8).collect();
    let file = workspace.write("image.bin", &binary);
    let output = workspace.run(&["import", &file]);
    assert_eq!(output.status.code(), Some(2));
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(message.contains("image.bin") && message.contains("binary"), "{message}");

    let file = workspace.write("other.json", br#"{"colour":"red"}"#);
    let output = workspace.run(&["import", &file]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown format"));

    let output = workspace.run(&["import", "/nonexistent/file.jsonl"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("/nonexistent/file.jsonl"));

    let output = workspace.run(&["import", workspace.path().to_str().unwrap()]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("directory"));
}

#[test]
fn csv_needs_a_mapping_and_a_missing_mapped_column_is_named() {
    let workspace = Workspace::new();
    let file = workspace
        .write("p.csv", b"tweet_id,date,text\n1,2026-01-01 10:00:00,hello\n2,not a date,bad\n");
    let output = workspace.run(&["import", &file]);
    assert!(String::from_utf8_lossy(&output.stderr).contains("mapping"));

    let output =
        workspace.run(&["import", &file, "--map", "id=tweet_id", "--map", "created_at=when"]);
    assert!(!output.status.success());
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(message.contains("`when`") && message.contains("`tweet_id`"), "{message}");

    let counts = workspace.import(&[
        &file,
        "--platform",
        "x",
        "--map",
        "id=tweet_id",
        "--map",
        "created_at=date",
        "--map",
        "text=text",
    ]);
    assert_eq!(counts, [2, 1, 0, 0, 0, 1]);
    let rows = rejects(&workspace);
    assert_eq!(rows[0]["field"], "date");
    assert_eq!(rows[0]["position"]["line"], 3);
}

#[test]
fn a_truncated_json_array_keeps_its_complete_elements() {
    let workspace = Workspace::new();
    let status = |id: &str| {
        serde_json::json!({
            "id": id, "created_at": "2026-01-01T00:00:00.000Z", "content": "<p>hi</p>", "uri": format!("https://m.example/{id}"),
            "url": format!("https://m.example/@a/{id}"), "account": {"id": "1", "acct": "a", "username": "a", "display_name": "A", "followers_count": 3},
            "favourites_count": 1, "reblogs_count": 0, "replies_count": 0, "media_attachments": [], "mentions": [], "tags": [],
        })
        .to_string()
    };
    let text = format!("[{},{},{}", status("1"), status("2"), &status("3")[..40]);
    let file = workspace.write("timeline.json", text.as_bytes());
    let counts = workspace.import(&[&file]);
    assert_eq!((counts[1], counts[5]), (2, 1), "{counts:?}");
}
