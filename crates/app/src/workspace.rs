//! A workspace on disk: `waterline.toml` and the data directory `.waterline/` beside it.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use waterline_model::Config;
use waterline_model::config::CONFIG_FILE;

/// Name of the data directory inside a workspace.
pub const DATA_DIR: &str = ".waterline";

/// An opened workspace.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// The workspace folder.
    pub root: PathBuf,
    /// Its parsed configuration.
    pub config: Config,
}

impl Workspace {
    /// Opens the workspace in `root` (the current directory by default).
    pub fn open(root: Option<&Path>) -> Result<Workspace> {
        let root = match root {
            Some(root) => root.to_path_buf(),
            None => std::env::current_dir().context("cannot read the current directory")?,
        };
        let config_path = root.join(CONFIG_FILE);
        if !config_path.exists() {
            bail!(
                "no workspace in `{}`: `{CONFIG_FILE}` is missing (run `waterline init` there, or pass --workspace DIR)",
                root.display()
            );
        }
        let text = fs_err::read_to_string(&config_path)?;
        let config =
            Config::parse(&text).with_context(|| format!("in `{}`", config_path.display()))?;
        Ok(Workspace { root, config })
    }

    /// The data directory (Delta tables and the state database).
    pub fn data_dir(&self) -> PathBuf {
        self.root.join(DATA_DIR)
    }

    /// Opens the workspace's transactional state (tokens, audit log, PV log, alerts).
    pub async fn state(&self) -> Result<waterline_store::state::StateDb> {
        Ok(waterline_store::state::StateDb::open(&self.data_dir().join("state.db")).await?)
    }
}

/// Holds an exclusive lock on a workspace's data directory while a command writes to it.
pub struct WriteLock {
    _file: std::fs::File,
}

impl WriteLock {
    /// Takes the lock, failing at once when another process holds it.
    pub fn acquire(data_dir: &Path) -> Result<WriteLock> {
        fs_err::create_dir_all(data_dir)?;
        let path = data_dir.join("write.lock");
        let file = fs_err::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)?
            .into_parts()
            .0;
        match file.try_lock() {
            Ok(()) => Ok(WriteLock { _file: file }),
            Err(_) => bail!(
                "the workspace `{}` is being written by another waterline process",
                data_dir.display()
            ),
        }
    }
}
