//! Importing a file in random pieces, with a kill and a resume in between, yields the same
//! store as one clean import.

use std::process::{Command, Stdio};
use std::time::Duration;

use proptest::prelude::*;

use crate::support::{Workspace, binary, post_line};

/// Posts with repeated observations: the same ids come back with growing counts.
fn corpus(seed: u64, size: usize) -> Vec<String> {
    let mut lines = Vec::with_capacity(size);
    let mut state = seed | 1;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for index in 0..size {
        let id = next() % (size as u64 / 2).max(1);
        let likes = next() % 3 + index as u64 / 10;
        let platform = ["x", "mastodon", "bluesky"][(id % 3) as usize];
        lines.push(post_line(
            platform,
            &format!("p{id}"),
            (id % 28) as u32 + 1,
            &format!("text of {id}"),
            likes,
        ));
    }
    lines
}

fn latest_state(workspace: &Workspace) -> Vec<serde_json::Value> {
    workspace.sql(
        "SELECT platform, id, author_handle, created_at, text, likes, shares, side FROM posts ORDER BY platform, id",
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, .. ProptestConfig::default() })]

    #[test]
    fn pieces_with_a_kill_equal_a_clean_import(seed in 1u64..1_000_000, cuts in proptest::collection::vec(1usize..299, 1..4), kill_after_ms in 5u64..400) {
        let lines = corpus(seed, 300);
        let clean = Workspace::new();
        let whole = clean.write("all.jsonl", lines.join("\n").as_bytes());
        clean.import(&[&whole, "--batch-size", "25"]);

        let pieces_workspace = Workspace::new();
        let mut cuts = cuts;
        cuts.sort_unstable();
        cuts.dedup();
        let mut bounds = vec![0];
        bounds.extend(cuts);
        bounds.push(lines.len());
        for (number, window) in bounds.windows(2).enumerate() {
            let piece = pieces_workspace.write(&format!("piece{number}.jsonl"), lines[window[0]..window[1]].join("\n").as_bytes());
            if number == 0 {
                // Start the first piece and kill it at a random moment.
                let mut child = Command::new(binary())
                    .arg("--workspace")
                    .arg(pieces_workspace.path())
                    .args(["import", &piece, "--batch-size", "5"])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .unwrap();
                std::thread::sleep(Duration::from_millis(kill_after_ms));
                let _ = child.kill();
                let _ = child.wait();
            }
            pieces_workspace.import(&[&piece, "--batch-size", "7"]);
        }
        prop_assert_eq!(latest_state(&clean), latest_state(&pieces_workspace));
        let count = |workspace: &Workspace| workspace.sql("SELECT count(*) AS n FROM observations")[0]["n"].clone();
        prop_assert_eq!(count(&clean), count(&pieces_workspace));
    }
}
