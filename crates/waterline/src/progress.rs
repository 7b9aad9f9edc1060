//! The import's progress bar on the terminal (the application layer reports progress
//! through [`waterline_app::import::Progress`] and never prints).

use std::sync::{Arc, Mutex};

use indicatif::{ProgressBar, ProgressStyle};

/// A spinner per input: `PATH: N records (R/s)`.
#[derive(Default)]
pub struct Bar(Mutex<Option<ProgressBar>>);

/// A progress bar for an import.
pub fn bar() -> Arc<dyn waterline_app::import::Progress> {
    Arc::new(Bar::default())
}

impl waterline_app::import::Progress for Bar {
    fn start(&self, input: &str) {
        let bar = ProgressBar::new_spinner();
        let style = ProgressStyle::with_template("{spinner} {msg}: {pos} records ({per_sec})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        bar.set_style(style);
        bar.set_message(input.to_owned());
        bar.enable_steady_tick(std::time::Duration::from_millis(200));
        if let Ok(mut current) = self.0.lock() {
            *current = Some(bar);
        }
    }

    fn read(&self, records: u64) {
        if let Ok(current) = self.0.lock()
            && let Some(bar) = current.as_ref()
        {
            bar.set_position(records);
        }
    }

    fn finish(&self) {
        if let Ok(mut current) = self.0.lock()
            && let Some(bar) = current.take()
        {
            bar.finish_and_clear();
        }
    }
}
