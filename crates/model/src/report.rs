//! Import accounting: read = new + updated + unchanged + other + rejected, always.

use serde::{Deserialize, Serialize};

/// The accounting of one import run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    /// Records read.
    pub read: u64,
    /// Posts never seen before.
    pub new: u64,
    /// Posts seen before whose content or counts changed (a new observation was stored).
    pub updated: u64,
    /// Posts seen before with nothing new.
    pub unchanged: u64,
    /// Valid records that are not posts: engagement events, deletions, accounts, follows,
    /// identity events, `more` stubs.
    pub other: u64,
    /// Records that could not be read (see `waterline rejects`).
    pub rejected: u64,
}

impl ImportReport {
    /// True when read = new + updated + unchanged + other + rejected.
    pub fn balances(&self) -> bool {
        self.read == self.new + self.updated + self.unchanged + self.other + self.rejected
    }

    /// The six counts in words: `read 10, new 8, updated 1, unchanged 0, other 1, rejected 0`.
    pub fn summary(&self) -> String {
        format!(
            "read {}, new {}, updated {}, unchanged {}, other {}, rejected {}",
            self.read, self.new, self.updated, self.unchanged, self.other, self.rejected
        )
    }

    /// Adds another report's counts to this one.
    pub fn add(&mut self, other: &ImportReport) {
        self.read += other.read;
        self.new += other.new;
        self.updated += other.updated;
        self.unchanged += other.unchanged;
        self.other += other.other;
        self.rejected += other.rejected;
    }
}
