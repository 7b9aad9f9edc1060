//! Hash chains over the audit log and the PV event log (ADR 018): each entry carries its
//! sequence number and the SHA-256 of the entry before it together with its own content,
//! so an edit, a deletion or an insertion anywhere breaks every later link. The head of
//! each chain (its last sequence number and hash) is also written outside the state
//! database, to `chain-heads.json` beside it (and into the posts table's Delta commits), so
//! a truncated tail, or a chain recomputed after an edit, disagrees with a recorded head.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The hash before the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The two chains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Chain {
    /// `audit_log`.
    Audit,
    /// `pv_events`.
    Pv,
}

impl Chain {
    /// Its name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Chain::Audit => "audit log",
            Chain::Pv => "PV event log",
        }
    }
}

/// A chain's head: its last sequence number and hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    /// The last entry's sequence number (1 for the first).
    pub seq: i64,
    /// Its hash.
    pub hash: String,
}

/// The heads recorded outside the state database.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Heads {
    /// The audit log's.
    #[serde(default)]
    pub audit: Option<Head>,
    /// The PV event log's.
    #[serde(default)]
    pub pv: Option<Head>,
}

impl Heads {
    /// One chain's head.
    pub fn of(&self, chain: Chain) -> Option<&Head> {
        match chain {
            Chain::Audit => self.audit.as_ref(),
            Chain::Pv => self.pv.as_ref(),
        }
    }

    fn set(&mut self, chain: Chain, head: Head) {
        match chain {
            Chain::Audit => self.audit = Some(head),
            Chain::Pv => self.pv = Some(head),
        }
    }
}

/// The file of recorded heads beside a state database.
pub fn heads_file(state_db: &Path) -> PathBuf {
    state_db.with_file_name("chain-heads.json")
}

/// Reads the recorded heads (none when the file is missing or unreadable).
pub fn read_heads(file: &Path) -> Heads {
    std::fs::read(file)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default()
}

/// Records a chain's new head, unless the file already holds a later one (another process
/// appended since): written to a temporary file and renamed, so a kill leaves the old or
/// the new file whole.
pub fn record_head(file: &Path, chain: Chain, head: Head) -> std::io::Result<()> {
    let mut heads = read_heads(file);
    if heads.of(chain).is_some_and(|known| known.seq >= head.seq) {
        return Ok(());
    }
    heads.set(chain, head);
    let temporary = file.with_extension(format!("json.{}.tmp", std::process::id()));
    std::fs::write(&temporary, serde_json::to_vec_pretty(&heads).map_err(std::io::Error::other)?)?;
    std::fs::rename(&temporary, file)
}

/// What a verification found in one chain.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ChainReport {
    /// Which chain.
    pub chain: String,
    /// Entries checked.
    pub entries: u64,
    /// Entries written before the chain existed (no hash; not covered).
    pub unchained: u64,
    /// The last entry's sequence number and hash.
    pub head: Option<Head>,
    /// Every problem, in order: an edited entry, a gap (a deletion), a sequence out of
    /// order (an insertion), a recorded head the chain no longer has.
    pub problems: Vec<String>,
}

impl ChainReport {
    /// No problem found.
    pub fn intact(&self) -> bool {
        self.problems.is_empty()
    }
}

/// The link of an entry: `sha256(previous hash, sequence number, fields…)` in hex, the
/// whole serialised as one JSON array (unambiguous whatever the fields contain).
pub fn link_values(previous: &str, seq: i64, fields: &[serde_json::Value]) -> String {
    let mut parts: Vec<serde_json::Value> = Vec::with_capacity(fields.len() + 2);
    parts.push(serde_json::Value::String(previous.to_owned()));
    parts.push(serde_json::Value::from(seq));
    parts.extend(fields.iter().cloned());
    hex::encode(Sha256::digest(serde_json::Value::Array(parts).to_string().as_bytes()))
}

/// A stored entry as verification reads it: sequence number and hash (both `None` for an
/// entry written before the chain existed) and the covered fields in order.
pub type Entry = (Option<i64>, Option<String>, Vec<serde_json::Value>);

/// Checks a chain's entries one at a time (in sequence order, unchained ones first),
/// against each other and against the heads recorded outside the database; holds only the
/// hashes the recorded heads name.
#[derive(Debug)]
pub struct Verifier {
    report: ChainReport,
    previous: String,
    expected_seq: i64,
    recorded: Vec<(String, Head)>,
    found: std::collections::HashMap<i64, String>,
}

impl Verifier {
    /// A verifier of a chain and the heads recorded for it (`(where, head)`).
    pub fn new(chain: Chain, recorded: Vec<(String, Head)>) -> Verifier {
        Verifier {
            report: ChainReport { chain: chain.name().to_owned(), ..ChainReport::default() },
            previous: GENESIS.to_owned(),
            expected_seq: 1,
            recorded,
            found: std::collections::HashMap::new(),
        }
    }

    /// Checks the next entry.
    pub fn push(&mut self, seq: Option<i64>, hash: Option<String>, fields: &[serde_json::Value]) {
        let report = &mut self.report;
        report.entries += 1;
        let (Some(seq), Some(hash)) = (seq, hash) else {
            report.unchained += 1;
            return;
        };
        if seq > self.expected_seq {
            report.problems.push(format!(
                "entries {} to {} are missing (deleted)",
                self.expected_seq,
                seq - 1
            ));
        } else if seq < self.expected_seq {
            report.problems.push(format!("entry {seq} appears again or out of order (inserted)"));
        }
        if link_values(&self.previous, seq, fields) != hash {
            // This entry was edited, or the one before it was and this link no longer follows.
            report.problems.push(format!(
                "entry {seq} does not match its hash (edited, or the chain was broken before it)"
            ));
        }
        if self.recorded.iter().any(|(_, head)| head.seq == seq) {
            self.found.insert(seq, hash.clone());
        }
        self.previous.clone_from(&hash);
        self.expected_seq = seq + 1;
        report.head = Some(Head { seq, hash });
    }

    /// The report, with the recorded heads compared.
    pub fn finish(mut self) -> ChainReport {
        let last = self.report.head.as_ref().map_or(0, |head| head.seq);
        for (place, head) in &self.recorded {
            match self.found.get(&head.seq) {
                Some(hash) if *hash == head.hash => {}
                Some(_) => self.report.problems.push(format!(
                    "entry {} differs from the head recorded in {place} (the chain was recomputed after an edit)",
                    head.seq
                )),
                None if head.seq > last => self.report.problems.push(format!(
                    "the head recorded in {place} is entry {}, the chain ends at {last} (its tail was deleted)",
                    head.seq
                )),
                None => self.report.problems.push(format!(
                    "entry {} recorded in {place} is missing from the chain",
                    head.seq
                )),
            }
        }
        self.report
    }
}

/// Checks a whole chain at once (see [`Verifier`]).
pub fn verify(chain: Chain, entries: &[Entry], recorded: &[(String, Head)]) -> ChainReport {
    let mut verifier = Verifier::new(chain, recorded.to_vec());
    for (seq, hash, fields) in entries {
        verifier.push(*seq, hash.clone(), fields);
    }
    verifier.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain_of(n: i64) -> Vec<Entry> {
        let mut previous = GENESIS.to_owned();
        (1..=n)
            .map(|seq| {
                let fields =
                    vec![serde_json::json!(format!("entry {seq}")), serde_json::json!(seq)];
                let hash = link_values(&previous, seq, &fields);
                previous.clone_from(&hash);
                (Some(seq), Some(hash), fields)
            })
            .collect()
    }

    #[test]
    fn an_intact_chain_verifies_and_every_tampering_is_found() {
        let chain = chain_of(5);
        let head = Head { seq: 5, hash: chain[4].1.clone().unwrap() };
        let recorded = vec![("chain-heads.json".to_owned(), head.clone())];
        assert!(verify(Chain::Audit, &chain, &recorded).intact());

        let mut edited = chain.clone();
        edited[2].2[0] = serde_json::json!("changed");
        assert!(!verify(Chain::Audit, &edited, &recorded).intact());

        let mut deleted = chain.clone();
        deleted.remove(1);
        let report = verify(Chain::Audit, &deleted, &recorded);
        assert!(report.problems.iter().any(|p| p.contains("missing")), "{report:?}");

        // The tail deleted: the chain is intact in itself, the recorded head says otherwise.
        let truncated: Vec<_> = chain[..3].to_vec();
        let report = verify(Chain::Audit, &truncated, &recorded);
        assert!(report.problems.iter().any(|p| p.contains("tail")), "{report:?}");

        // An edit with every later hash recomputed: only the recorded head catches it.
        let mut recomputed = chain_of(5);
        recomputed[1].2[0] = serde_json::json!("forged");
        let mut previous = recomputed[0].1.clone().unwrap();
        for entry in recomputed.iter_mut().skip(1) {
            let hash = link_values(&previous, entry.0.unwrap(), &entry.2);
            entry.1 = Some(hash.clone());
            previous = hash;
        }
        let report = verify(Chain::Audit, &recomputed, &[]);
        assert!(report.intact());
        let report = verify(Chain::Audit, &recomputed, &recorded);
        assert!(report.problems.iter().any(|p| p.contains("recomputed")), "{report:?}");

        // Entries from before the chain existed are counted, not failed.
        let mut legacy = vec![(None, None, vec![serde_json::json!("old")])];
        legacy.extend(chain);
        let report = verify(Chain::Audit, &legacy, &recorded);
        assert!(report.intact() && report.unchained == 1);
    }

    #[test]
    fn a_recorded_head_never_moves_back() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("chain-heads.json");
        record_head(&file, Chain::Audit, Head { seq: 3, hash: "c".into() }).unwrap();
        record_head(&file, Chain::Audit, Head { seq: 2, hash: "b".into() }).unwrap();
        record_head(&file, Chain::Pv, Head { seq: 1, hash: "p".into() }).unwrap();
        let heads = read_heads(&file);
        assert_eq!(heads.audit.unwrap().seq, 3);
        assert_eq!(heads.pv.unwrap().hash, "p");
    }
}
