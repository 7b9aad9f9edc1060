//! Kept answers: the figures a server computed, on disk, keyed by everything they depend
//! on, so that the first call after a restart (or after an import that prepared them)
//! reads what was computed instead of computing it again (issue 22, item 5).
//!
//! A kept value is named by a hash of its kind, its request, the store version, the topic
//! model file, the configuration and this build of the program: a value is never read for
//! a state it was not computed on. The folder is bounded ([`KEPT`] files, the oldest go
//! first) and holds aggregates only (no post text): what the dashboard shows.

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::workspace::Workspace;

/// Bump when what a kept value holds changes: older files are then never read.
const FORMAT: u32 = 1;

/// The most files kept; a write beyond removes the oldest.
pub const KEPT: usize = 1_000;

/// The folder of kept answers.
pub fn dir(workspace: &Workspace) -> PathBuf {
    workspace.data_dir().join("cache").join("answers")
}

/// The topic model file's size and modification time (a refit or a discovery changes
/// both; reading the model itself for each key would cost more than the answer).
fn topics_stamp(data_dir: &Path) -> (u64, u128) {
    let metadata = std::fs::metadata(data_dir.join(crate::topics::TOPICS_FILE)).ok();
    let modified = metadata
        .as_ref()
        .and_then(|metadata| metadata.modified().ok())
        .and_then(|at| at.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |at| at.as_nanos());
    (metadata.map_or(0, |metadata| metadata.len()), modified)
}

/// The file name of one kept value.
pub fn name(workspace: &Workspace, version: Option<u64>, kind: &str, request: &str) -> String {
    let config = serde_json::to_string(&workspace.config).unwrap_or_default();
    let key = serde_json::json!([
        FORMAT,
        crate::report::build(),
        version,
        topics_stamp(&workspace.data_dir()),
        config,
        kind,
        request,
    ])
    .to_string();
    format!("{kind}-{:032x}.json", xxhash_rust::xxh3::xxh3_128(key.as_bytes()))
}

/// The value kept for this request at this version, if any (a file that cannot be read
/// as one is ignored, and computed again).
pub fn read<T: DeserializeOwned>(
    workspace: &Workspace,
    version: Option<u64>,
    kind: &str,
    request: &str,
) -> Option<T> {
    let path = dir(workspace).join(name(workspace, version, kind, request));
    let bytes = std::fs::read(&path).ok()?;
    match serde_json::from_slice(&bytes) {
        Ok(value) => Some(value),
        Err(error) => {
            tracing::warn!("ignoring the kept answer `{}`: {error}", path.display());
            None
        }
    }
}

/// Keeps a value (a temporary file renamed into place: a reader sees all of it or
/// nothing); a failure is logged, never returned (the value was computed).
pub fn keep<T: Serialize>(
    workspace: &Workspace,
    version: Option<u64>,
    kind: &str,
    request: &str,
    value: &T,
) {
    let folder = dir(workspace);
    let path = folder.join(name(workspace, version, kind, request));
    let written = serde_json::to_vec(value)
        .map_err(anyhow::Error::from)
        .and_then(|bytes| write_bounded(&folder, &path, &bytes, KEPT));
    if let Err(error) = written {
        tracing::warn!("cannot keep an answer: {error:#}");
    }
}

/// Writes a cache file whole (a temporary file renamed into place: a reader sees all of it
/// or nothing), then removes the oldest files of its folder beyond `kept` (the kept
/// answers here, the reports' cache too).
pub(crate) fn write_bounded(
    folder: &Path,
    path: &Path,
    bytes: &[u8],
    kept: usize,
) -> anyhow::Result<()> {
    fs_err::create_dir_all(folder)?;
    let temporary = path.with_extension(format!("json.{}.tmp", uuid::Uuid::now_v7().simple()));
    fs_err::write(&temporary, bytes)?;
    fs_err::rename(&temporary, path)?;
    sweep(folder, kept);
    Ok(())
}

/// Removes the oldest files beyond `kept`.
fn sweep(folder: &Path, kept: usize) {
    let Ok(entries) = std::fs::read_dir(folder) else { return };
    let mut files: Vec<(std::time::SystemTime, PathBuf)> = entries
        .filter_map(|entry| entry.ok())
        .filter_map(|entry| Some((entry.metadata().ok()?.modified().ok()?, entry.path())))
        .collect();
    if files.len() <= kept {
        return;
    }
    files.sort_by_key(|file| std::cmp::Reverse(file.0));
    for (_, old) in files.into_iter().skip(kept) {
        let _ = std::fs::remove_file(old);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn workspace(root: &Path) -> Workspace {
        let config = waterline_model::Config::parse("brand = \"Brandix\"\n").unwrap();
        Workspace { root: root.to_path_buf(), config }
    }

    #[test]
    fn a_kept_answer_is_read_back_only_for_the_state_it_was_computed_on() {
        let root = tempfile::tempdir().unwrap();
        let workspace = workspace(root.path());
        keep(&workspace, Some(3), "answer", "{\"metrics\":[\"posts\"]}", &vec![1, 2, 3]);
        let read_back: Option<Vec<i32>> =
            read(&workspace, Some(3), "answer", "{\"metrics\":[\"posts\"]}");
        assert_eq!(read_back, Some(vec![1, 2, 3]));
        assert!(
            read::<Vec<i32>>(&workspace, Some(4), "answer", "{\"metrics\":[\"posts\"]}").is_none()
        );
        assert!(
            read::<Vec<i32>>(&workspace, Some(3), "list", "{\"metrics\":[\"posts\"]}").is_none()
        );
        let mut other = workspace.clone();
        other.config.brand = "Other".into();
        assert!(read::<Vec<i32>>(&other, Some(3), "answer", "{\"metrics\":[\"posts\"]}").is_none());
    }

    #[test]
    fn the_folder_is_bounded() {
        let root = tempfile::tempdir().unwrap();
        let folder = root.path().join("answers");
        std::fs::create_dir_all(&folder).unwrap();
        for i in 0..12 {
            std::fs::write(folder.join(format!("{i}.json")), "1").unwrap();
        }
        sweep(&folder, 5);
        assert_eq!(std::fs::read_dir(&folder).unwrap().count(), 5);
    }
}
