//! Helpers: run the binary in a temporary workspace, read JSON output, find shared data.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A temporary workspace with a configuration.
pub(crate) struct Workspace {
    pub dir: tempfile::TempDir,
}

impl Workspace {
    pub(crate) fn new() -> Workspace {
        let dir = tempfile::tempdir().unwrap();
        let output = waterline(dir.path(), &["init"]);
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        Workspace { dir }
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Runs a command and returns its output.
    pub(crate) fn run(&self, args: &[&str]) -> Output {
        waterline(self.path(), args)
    }

    /// Runs a command that must succeed and returns standard output.
    pub(crate) fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(
            output.status.success(),
            "waterline {args:?} failed: {}\n{}",
            String::from_utf8_lossy(&output.stderr),
            String::from_utf8_lossy(&output.stdout)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    /// Runs a command with `--json` and parses its output.
    pub(crate) fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut args = args.to_vec();
        args.push("--json");
        serde_json::from_str(&self.ok(&args)).unwrap()
    }

    /// Runs `import --json` and returns the six counts.
    pub(crate) fn import(&self, args: &[&str]) -> [u64; 6] {
        let mut full = vec!["import"];
        full.extend_from_slice(args);
        let value = self.json(&full);
        let count = |key: &str| value[key].as_u64().unwrap();
        let counts = [
            count("read"),
            count("new"),
            count("updated"),
            count("unchanged"),
            count("other"),
            count("rejected"),
        ];
        assert_eq!(
            counts[0],
            counts[1..].iter().sum::<u64>(),
            "read = new + updated + unchanged + other + rejected"
        );
        counts
    }

    /// Runs `sql --json` and returns the rows.
    pub(crate) fn sql(&self, query: &str) -> Vec<serde_json::Value> {
        match self.json(&["sql", query]) {
            serde_json::Value::Array(rows) => rows,
            other => panic!("not an array: {other}"),
        }
    }

    pub(crate) fn write(&self, name: &str, contents: &[u8]) -> String {
        let path = self.path().join(name);
        std::fs::write(&path, contents).unwrap();
        path.to_string_lossy().into_owned()
    }
}

pub(crate) fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_waterline")
}

pub(crate) fn waterline(dir: &Path, args: &[&str]) -> Output {
    Command::new(binary()).arg("--workspace").arg(dir).args(args).output().unwrap()
}

/// The repository root.
pub(crate) fn repository() -> PathBuf {
    manifest_dir().join("../..")
}

/// `../shared/data`, or `None` (with a notice) when absent; absent data fails under `CI=true`.
pub(crate) fn shared_data() -> Option<PathBuf> {
    let path = repository().join("../shared/data");
    if path.is_dir() {
        return Some(path);
    }
    assert!(std::env::var("CI").as_deref() != Ok("true"), "../shared/data is missing and CI=true");
    eprintln!("notice: ../shared/data is absent; skipping a test that needs it");
    None
}

/// One Waterline JSON line.
pub(crate) fn post_line(platform: &str, id: &str, day: u32, text: &str, likes: u64) -> String {
    serde_json::json!({
        "platform": platform,
        "id": id,
        "author_handle": format!("author{}", id.len() % 7),
        "created_at": format!("2026-03-{:02}T10:00:00Z", day.clamp(1, 28)),
        "text": text,
        "counts": {"likes": likes, "shares": 1},
    })
    .to_string()
}

/// The crate's folder: cargo's run-time variable first (a test binary reused by a build from
/// another clone keeps the compile-time path of that clone), else the compile-time one.
fn manifest_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(
        || std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")),
        std::path::PathBuf::from,
    )
}
