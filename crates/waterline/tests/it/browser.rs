//! The dashboard in a real browser: Debian's headless Chromium driven by playwright-core
//! (`tests/browser/dashboard.mjs`) against `waterline demo` on a free port. `.ci/run`
//! installs both; elsewhere the test skips with a notice (and fails when `CI=true`).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use crate::support::{binary, repository};

fn available(script: &Path) -> Option<&'static str> {
    let chromium = "/usr/bin/chromium";
    let modules = repository().join("tests/browser/node_modules/playwright-core");
    let node = Command::new("node").arg("--version").output().is_ok_and(|o| o.status.success());
    if Path::new(chromium).exists() && modules.is_dir() && node && script.exists() {
        return Some(chromium);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "browser tests need node, /usr/bin/chromium and tests/browser/node_modules (bash .ci/run installs them)"
    );
    eprintln!(
        "notice: node, /usr/bin/chromium or playwright-core (npm ci --prefix tests/browser) missing; skipping the browser test"
    );
    None
}

#[test]
fn the_dashboard_works_in_chromium() {
    let script = repository().join("tests/browser/dashboard.mjs");
    let Some(chromium) = available(&script) else { return };
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo");
    let mut child = Command::new(binary())
        .current_dir(dir.path())
        .args(["demo", "--posts", "6000", "--dir"])
        .arg(&demo)
        .args(["--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let (mut token, mut address) = (None, None);
    let mut line = String::new();
    while reader.read_line(&mut line).unwrap() > 0 {
        if let Some(rest) =
            line.split("admin token for writes (ingest, baselines, milestones, tokens): ").nth(1)
        {
            token = Some(rest.trim().to_owned());
        }
        if let Some(rest) = line.strip_prefix("serving on http://") {
            address = rest.split('/').next().map(str::to_owned);
            break;
        }
        line.clear();
    }
    std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    let (Some(token), Some(address)) = (token, address) else {
        let _ = child.kill();
        panic!("the demo printed no address or token");
    };
    let shots = repository().join("target/browser");
    let output = Command::new("node")
        .arg(&script)
        .env("WATERLINE_URL", format!("http://{address}"))
        .env("WATERLINE_TOKEN", &token)
        .env("WATERLINE_SHOTS", &shots)
        .env("CHROMIUM", chromium)
        .output()
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    let stdout = String::from_utf8_lossy(&output.stdout);
    eprintln!("browser: {stdout}");
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    for page in
        ["overview", "listening", "gap", "audit", "alerts", "pharmacovigilance", "overview-live"]
    {
        assert!(shots.join(format!("{page}.png")).exists(), "no screenshot of {page}");
    }
    // A view as PDF, printed by the same Chromium.
    let pdf = dir.path().join("gap.pdf");
    let output = Command::new(binary())
        .arg("--workspace")
        .arg(&demo)
        .args(["report", "gap", "--format", "pdf", "--out"])
        .arg(&pdf)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF"));
}
