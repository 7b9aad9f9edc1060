//! Logging set-up: human-readable logs on standard error, filtered by `--log`.

use tracing_subscriber::EnvFilter;

/// Installs the subscriber; an invalid filter falls back to `warn`.
pub fn init(filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("warn"));
    let _ =
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}
