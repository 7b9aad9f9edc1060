//! Transactional state in SQLite through sqlx's `Any` driver, so the same SQL runs on
//! PostgreSQL when a deployment outgrows one machine. Timestamps are epoch milliseconds
//! (`BIGINT`); the DDL keeps to the subset both databases share.

use std::path::Path;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Row};
use waterline_model::{Account, ImportReport, Position, Rejected};

use crate::StoreError;

const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS import_runs (
        id TEXT PRIMARY KEY,
        started_at BIGINT NOT NULL,
        finished_at BIGINT,
        inputs TEXT NOT NULL,
        status TEXT NOT NULL,
        read_count BIGINT NOT NULL DEFAULT 0,
        new_count BIGINT NOT NULL DEFAULT 0,
        updated_count BIGINT NOT NULL DEFAULT 0,
        unchanged_count BIGINT NOT NULL DEFAULT 0,
        other_count BIGINT NOT NULL DEFAULT 0,
        rejected_count BIGINT NOT NULL DEFAULT 0
    )",
    "CREATE TABLE IF NOT EXISTS rejects (
        run_id TEXT NOT NULL,
        file TEXT NOT NULL,
        line BIGINT,
        byte_offset BIGINT,
        pointer TEXT,
        field TEXT NOT NULL,
        reason TEXT NOT NULL,
        excerpt TEXT NOT NULL
    )",
    "CREATE INDEX IF NOT EXISTS rejects_run ON rejects (run_id)",
    "CREATE TABLE IF NOT EXISTS accounts (
        account_key TEXT PRIMARY KEY,
        platform TEXT NOT NULL,
        handle TEXT,
        account_id TEXT,
        name TEXT,
        followers BIGINT,
        updated_at BIGINT NOT NULL
    )",
    // Named JSON documents that later data never changes: baselines, milestones.
    "CREATE TABLE IF NOT EXISTS documents (
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        body TEXT NOT NULL,
        PRIMARY KEY (kind, name)
    )",
    // Business series beside the social ones (`waterline kpi import`); '' = none.
    "CREATE TABLE IF NOT EXISTS business_points (
        series TEXT NOT NULL,
        day TEXT NOT NULL,
        product TEXT NOT NULL,
        competitor TEXT NOT NULL,
        value DOUBLE PRECISION NOT NULL,
        source TEXT NOT NULL,
        updated_at BIGINT NOT NULL,
        PRIMARY KEY (series, day, product, competitor)
    )",
    // API tokens, stored as SHA-256 hashes only (the token is shown once, at creation).
    "CREATE TABLE IF NOT EXISTS api_tokens (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        role TEXT NOT NULL,
        token_hash TEXT NOT NULL UNIQUE,
        created_at BIGINT NOT NULL,
        created_by TEXT NOT NULL,
        revoked_at BIGINT
    )",
    // Every write through the server or the token commands: who, when, what.
    "CREATE TABLE IF NOT EXISTS audit_log (
        at BIGINT NOT NULL,
        actor TEXT NOT NULL,
        role TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL,
        detail TEXT NOT NULL
    )",
    "CREATE INDEX IF NOT EXISTS audit_log_at ON audit_log (at)",
    // Pharmacovigilance cases: one row per flagged post (so screening twice opens one
    // case) and the append-only event log every case state is rebuilt from (AUD-1).
    "CREATE TABLE IF NOT EXISTS pv_cases (
        case_id TEXT PRIMARY KEY,
        post_key TEXT NOT NULL UNIQUE,
        captured_at BIGINT NOT NULL
    )",
    "CREATE TABLE IF NOT EXISTS pv_events (
        id TEXT PRIMARY KEY,
        case_id TEXT NOT NULL,
        at BIGINT NOT NULL,
        actor TEXT NOT NULL,
        role TEXT NOT NULL,
        kind TEXT NOT NULL,
        body TEXT NOT NULL
    )",
    "CREATE INDEX IF NOT EXISTS pv_events_case ON pv_events (case_id)",
    // PV's receipt log, imported for reconciliation (AUD-3).
    "CREATE TABLE IF NOT EXISTS pv_receipts (
        reference TEXT PRIMARY KEY,
        case_id TEXT,
        received_at BIGINT,
        imported_at BIGINT NOT NULL
    )",
];

/// The hash-chain columns of the two logs (ADR 018), added to older tables.
const CHAIN_COLUMNS: &[&str] = &[
    "ALTER TABLE audit_log ADD COLUMN origin TEXT",
    "ALTER TABLE audit_log ADD COLUMN seq BIGINT",
    "ALTER TABLE audit_log ADD COLUMN hash TEXT",
    "ALTER TABLE pv_events ADD COLUMN seq BIGINT",
    "ALTER TABLE pv_events ADD COLUMN hash TEXT",
];

/// One entry per sequence number in each chain (entries from before the chain have none).
const CHAIN_INDEXES: &[&str] = &[
    "CREATE UNIQUE INDEX IF NOT EXISTS audit_log_seq ON audit_log (seq)",
    "CREATE UNIQUE INDEX IF NOT EXISTS pv_events_seq ON pv_events (seq)",
];

/// SQLite only: the event log and the audit log refuse updates and deletes (PV-2, AUD-1).
/// Triggers can be dropped by whoever holds the file; the hash chains catch what follows.
const SQLITE_APPEND_ONLY: &[&str] = &[
    "CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
     BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log
     BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS pv_events_no_update BEFORE UPDATE ON pv_events
     BEGIN SELECT RAISE(ABORT, 'the PV event log is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS pv_events_no_delete BEFORE DELETE ON pv_events
     BEGIN SELECT RAISE(ABORT, 'the PV event log is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS pv_cases_no_delete BEFORE DELETE ON pv_cases
     BEGIN SELECT RAISE(ABORT, 'PV cases are never deleted'); END",
];

/// One stored PV event: the JSON of a `waterline_model::pv::Event`.
#[derive(Debug, Clone, PartialEq)]
pub struct PvEventRow {
    /// Time-ordered id.
    pub id: String,
    /// Case.
    pub case_id: String,
    /// Epoch milliseconds.
    pub at: i64,
    /// Who.
    pub actor: String,
    /// Role.
    pub role: String,
    /// Event type.
    pub kind: String,
    /// The event as JSON.
    pub body: String,
}

/// One entry of PV's receipt log.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PvReceipt {
    /// PV's reference.
    pub reference: String,
    /// The case it acknowledges, when PV's log names it.
    pub case_id: Option<String>,
    /// When PV received it, epoch milliseconds.
    pub received_at: Option<i64>,
}

/// One stored point of a business series.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct BusinessRow {
    /// Series name.
    pub series: String,
    /// Local day, YYYY-MM-DD.
    pub day: String,
    /// Product ('' when none).
    pub product: String,
    /// Competitor ('' for the brand).
    pub competitor: String,
    /// Value.
    pub value: f64,
}

/// How stored business points changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct BusinessOutcome {
    /// Points not stored before.
    pub new: u64,
    /// Points whose value changed.
    pub updated: u64,
    /// Points stored with the same value.
    pub unchanged: u64,
}

/// A stored import run.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RunSummary {
    /// Run id (a UUID v7).
    pub id: String,
    /// Start time, epoch milliseconds.
    pub started_at: i64,
    /// End time, epoch milliseconds, when it finished.
    pub finished_at: Option<i64>,
    /// The inputs, as given.
    pub inputs: String,
    /// `running`, `completed` or `failed`.
    pub status: String,
    /// Its accounting.
    pub report: ImportReport,
}

/// An API token's record (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TokenRow {
    /// Its public id (shown in lists and in the audit log).
    pub id: String,
    /// A name for people.
    pub name: String,
    /// `viewer`, `analyst`, `pv-reviewer` or `admin`.
    pub role: String,
    /// Epoch milliseconds.
    pub created_at: i64,
    /// Who created it.
    pub created_by: String,
    /// Epoch milliseconds, when revoked.
    pub revoked_at: Option<i64>,
}

/// One entry of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditEntry {
    /// Epoch milliseconds.
    pub at: i64,
    /// The token id and name, or `cli:USER`.
    pub actor: String,
    /// The actor's role.
    pub role: String,
    /// What was done (`ingest`, `baseline.create`, `token.create`, …).
    pub action: String,
    /// What it was done to.
    pub target: String,
    /// Details (JSON).
    pub detail: String,
    /// From where: `cli` (the terminal), the client's address for a request, `system` for
    /// the server's own tasks (recovery, live sources).
    pub origin: String,
}

/// The transactional state database.
#[derive(Debug, Clone)]
pub struct StateDb {
    pub(crate) pool: AnyPool,
    /// Read-only connections for the lookups every request makes (tokens): in WAL mode
    /// they never wait for the writer's connection nor for a write in progress.
    reader: Option<AnyPool>,
    /// SQLite (else PostgreSQL): how a chained append takes the write lock.
    sqlite: bool,
    /// Where the chains' heads are recorded outside the database (file databases only).
    heads: Option<std::path::PathBuf>,
}

/// A write of the state database that commits with its audit row
/// ([`StateDb::write_audited`]).
#[derive(Debug, Clone, Copy)]
pub enum AuditedWrite<'a> {
    /// Stores a named document (baseline, milestone), replacing one only when `replace`.
    PutDocument {
        /// Its kind.
        kind: &'a str,
        /// Its name.
        name: &'a str,
        /// Its body (JSON).
        body: &'a str,
        /// When, in milliseconds since the epoch.
        now_ms: i64,
        /// Replace an existing document of that name.
        replace: bool,
    },
    /// Deletes a named document.
    DeleteDocument {
        /// Its kind.
        kind: &'a str,
        /// Its name.
        name: &'a str,
    },
    /// Stores a new API token (its hash).
    AddToken {
        /// The token's record.
        row: &'a TokenRow,
        /// The hash of its secret.
        token_hash: &'a str,
    },
    /// Revokes a live token.
    RevokeToken {
        /// Its id.
        id: &'a str,
        /// When, in milliseconds since the epoch.
        now_ms: i64,
    },
}

/// Stores a named document inside `transaction`, refusing to replace one unless
/// `replace`; answers whether it was written.
async fn store_document(
    transaction: &mut sqlx::Transaction<'static, sqlx::Any>,
    kind: &str,
    name: &str,
    body: &str,
    now_ms: i64,
    replace: bool,
) -> Result<bool, StoreError> {
    let existing = sqlx::query("SELECT 1 FROM documents WHERE kind = $1 AND name = $2")
        .bind(kind)
        .bind(name)
        .fetch_optional(&mut **transaction)
        .await?;
    if existing.is_some() && !replace {
        return Ok(false);
    }
    sqlx::query("DELETE FROM documents WHERE kind = $1 AND name = $2")
        .bind(kind)
        .bind(name)
        .execute(&mut **transaction)
        .await?;
    sqlx::query("INSERT INTO documents (kind, name, created_at, body) VALUES ($1, $2, $3, $4)")
        .bind(kind)
        .bind(name)
        .bind(now_ms)
        .bind(body)
        .execute(&mut **transaction)
        .await?;
    Ok(true)
}

/// Appends `entry` to the audit chain inside a transaction that holds the write lock.
async fn append_audit(
    transaction: &mut sqlx::Transaction<'static, sqlx::Any>,
    entry: &AuditEntry,
) -> Result<crate::chain::Head, StoreError> {
    let (last, previous) = chain_tail(transaction, crate::chain::Chain::Audit).await?;
    let seq = last + 1;
    let hash = crate::chain::link_values(&previous, seq, &audit_fields(entry));
    sqlx::query(
        "INSERT INTO audit_log (at, actor, role, action, target, detail, origin, seq, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(entry.at)
    .bind(&entry.actor)
    .bind(&entry.role)
    .bind(&entry.action)
    .bind(&entry.target)
    .bind(&entry.detail)
    .bind(&entry.origin)
    .bind(seq)
    .bind(&hash)
    .execute(&mut **transaction)
    .await?;
    Ok(crate::chain::Head { seq, hash })
}

fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

impl StateDb {
    /// Opens (creating when missing) the SQLite database at `path`.
    pub async fn open(path: &Path) -> Result<StateDb, StoreError> {
        // A command may be the workspace's first writer (`listen` before any import).
        if let Some(parent) = path.parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent)?;
        }
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let mut state = StateDb::connect(&url).await?;
        state.heads = Some(crate::chain::heads_file(path));
        // Write-ahead logging: readers (other processes, the token lookups) do not wait for
        // a write, and a write does not wait for readers. The mode stays with the file.
        // Switching needs the file to itself; when another process holds it, the next open
        // switches.
        let wal = sqlx::query("PRAGMA journal_mode=WAL").fetch_optional(&state.pool).await;
        if wal.is_ok() {
            state.reader = AnyPoolOptions::new()
                .max_connections(2)
                .connect(&format!("sqlite://{}?mode=ro", path.display()))
                .await
                .ok();
        }
        Ok(state)
    }

    /// A state database in memory, gone when dropped: what the application layer's unit
    /// tests run against (the same schema, triggers and queries as a file).
    pub async fn in_memory() -> Result<StateDb, StoreError> {
        install_default_drivers();
        // One connection kept for the pool's whole life: an in-memory SQLite database lives
        // as long as its connection.
        let options = AnyPoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None);
        StateDb::with_pool(options.connect("sqlite::memory:").await?, true).await
    }

    /// Connects to any database URL sqlx knows (`sqlite://…`, `postgres://…`).
    pub async fn connect(url: &str) -> Result<StateDb, StoreError> {
        install_default_drivers();
        let pool = AnyPoolOptions::new().max_connections(1).connect(url).await?;
        StateDb::with_pool(pool, url.starts_with("sqlite:")).await
    }

    async fn with_pool(pool: AnyPool, sqlite: bool) -> Result<StateDb, StoreError> {
        for statement in SCHEMA.iter().chain(crate::live::SCHEMA) {
            sqlx::query(*statement).execute(&pool).await?;
        }
        if sqlite {
            for statement in SQLITE_APPEND_ONLY {
                sqlx::query(*statement).execute(&pool).await?;
            }
        }
        for statement in CHAIN_COLUMNS {
            // Added to tables of older workspaces; already there in newer ones.
            let _ = sqlx::query(*statement).execute(&pool).await;
        }
        for statement in CHAIN_INDEXES {
            sqlx::query(*statement).execute(&pool).await?;
        }
        Ok(StateDb { pool, reader: None, sqlite, heads: None })
    }

    /// Records the start of an import run.
    pub async fn begin_run(&self, id: &str, inputs: &str, now_ms: i64) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO import_runs (id, started_at, inputs, status) VALUES ($1, $2, $3, 'running')")
            .bind(id)
            .bind(now_ms)
            .bind(inputs)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Records the end of an import run.
    pub async fn finish_run(
        &self,
        id: &str,
        report: &ImportReport,
        status: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE import_runs SET finished_at = $1, status = $2, read_count = $3, new_count = $4, \
             updated_count = $5, unchanged_count = $6, other_count = $7, rejected_count = $8 WHERE id = $9",
        )
        .bind(now_ms)
        .bind(status)
        .bind(to_i64(report.read))
        .bind(to_i64(report.new))
        .bind(to_i64(report.updated))
        .bind(to_i64(report.unchanged))
        .bind(to_i64(report.other))
        .bind(to_i64(report.rejected))
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The runs, newest first.
    pub async fn runs(&self, limit: i64) -> Result<Vec<RunSummary>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, started_at, finished_at, inputs, status, read_count, new_count, updated_count, \
             unchanged_count, other_count, rejected_count FROM import_runs ORDER BY started_at DESC, id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let count = |row: &sqlx::any::AnyRow, name: &str| -> Result<u64, StoreError> {
            Ok(row.try_get::<i64, _>(name)?.max(0) as u64)
        };
        rows.iter()
            .map(|row| {
                Ok(RunSummary {
                    id: row.try_get("id")?,
                    started_at: row.try_get("started_at")?,
                    finished_at: row.try_get("finished_at")?,
                    inputs: row.try_get("inputs")?,
                    status: row.try_get("status")?,
                    report: ImportReport {
                        read: count(row, "read_count")?,
                        new: count(row, "new_count")?,
                        updated: count(row, "updated_count")?,
                        unchanged: count(row, "unchanged_count")?,
                        other: count(row, "other_count")?,
                        rejected: count(row, "rejected_count")?,
                    },
                })
            })
            .collect()
    }

    /// Keeps rejected records of a run.
    pub async fn add_rejects(&self, run_id: &str, rejects: &[Rejected]) -> Result<(), StoreError> {
        if rejects.is_empty() {
            return Ok(());
        }
        let mut transaction = self.pool.begin().await?;
        for reject in rejects {
            sqlx::query(
                "INSERT INTO rejects (run_id, file, line, byte_offset, pointer, field, reason, excerpt) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(run_id)
            .bind(&reject.file)
            .bind(reject.position.line.map(to_i64))
            .bind(reject.position.byte_offset.map(to_i64))
            .bind(reject.position.pointer.clone())
            .bind(&reject.field)
            .bind(&reject.reason)
            .bind(&reject.excerpt)
            .execute(&mut *transaction)
            .await?;
        }
        transaction.commit().await?;
        Ok(())
    }

    /// Rejected records of one run, or of every run when `run_id` is `None`.
    pub async fn rejects(
        &self,
        run_id: Option<&str>,
        limit: i64,
    ) -> Result<Vec<(String, Rejected)>, StoreError> {
        let rows = match run_id {
            Some(run_id) => {
                sqlx::query(
                    "SELECT run_id, file, line, byte_offset, pointer, field, reason, excerpt FROM rejects \
                     WHERE run_id = $1 LIMIT $2",
                )
                .bind(run_id)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query(
                    "SELECT run_id, file, line, byte_offset, pointer, field, reason, excerpt FROM rejects LIMIT $1",
                )
                .bind(limit)
                .fetch_all(&self.pool)
                .await?
            }
        };
        rows.iter()
            .map(|row| {
                let unsigned = |value: Option<i64>| value.map(|value| value.max(0) as u64);
                Ok((
                    row.try_get("run_id")?,
                    Rejected {
                        file: row.try_get("file")?,
                        position: Position {
                            line: unsigned(row.try_get("line")?),
                            byte_offset: unsigned(row.try_get("byte_offset")?),
                            pointer: row.try_get("pointer")?,
                        },
                        field: row.try_get("field")?,
                        reason: row.try_get("reason")?,
                        excerpt: row.try_get("excerpt")?,
                    },
                ))
            })
            .collect()
    }

    /// Stores or updates accounts (from accounts files and platform payloads).
    pub async fn upsert_accounts(
        &self,
        accounts: &[Account],
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let mut transaction = self.pool.begin().await?;
        for account in accounts {
            let Some(identity) = account.id.as_deref().or(account.handle.as_deref()) else {
                continue;
            };
            let key = format!("{}|{}", account.platform, identity.to_lowercase());
            sqlx::query(
                "INSERT INTO accounts (account_key, platform, handle, account_id, name, followers, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (account_key) DO UPDATE SET handle = COALESCE(excluded.handle, accounts.handle), \
                 account_id = COALESCE(excluded.account_id, accounts.account_id), \
                 name = COALESCE(excluded.name, accounts.name), \
                 followers = COALESCE(excluded.followers, accounts.followers), updated_at = excluded.updated_at",
            )
            .bind(key)
            .bind(&account.platform)
            .bind(account.handle.clone())
            .bind(account.id.clone())
            .bind(account.name.clone())
            .bind(account.followers.map(to_i64))
            .bind(now_ms)
            .execute(&mut *transaction)
            .await?;
        }
        transaction.commit().await?;
        Ok(())
    }

    /// Every stored account.
    pub async fn accounts(&self) -> Result<Vec<Account>, StoreError> {
        let rows =
            sqlx::query("SELECT platform, handle, account_id, name, followers FROM accounts")
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|row| {
                Ok(Account {
                    platform: row.try_get("platform")?,
                    handle: row.try_get("handle")?,
                    id: row.try_get("account_id")?,
                    name: row.try_get("name")?,
                    followers: row
                        .try_get::<Option<i64>, _>("followers")?
                        .map(|value| value.max(0) as u64),
                })
            })
            .collect()
    }

    /// Stores a named document; refuses to replace one unless `replace`. Returns whether it
    /// was written.
    pub async fn put_document(
        &self,
        kind: &str,
        name: &str,
        body: &str,
        now_ms: i64,
        replace: bool,
    ) -> Result<bool, StoreError> {
        let mut transaction = self.pool.begin().await?;
        let written = store_document(&mut transaction, kind, name, body, now_ms, replace).await?;
        transaction.commit().await?;
        Ok(written)
    }

    /// A named document's body.
    pub async fn document(&self, kind: &str, name: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT body FROM documents WHERE kind = $1 AND name = $2")
            .bind(kind)
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(row) => Some(row.try_get("body")?),
            None => None,
        })
    }

    /// Every document of a kind: (name, created_at, body), by name.
    pub async fn documents(&self, kind: &str) -> Result<Vec<(String, i64, String)>, StoreError> {
        let rows = sqlx::query(
            "SELECT name, created_at, body FROM documents WHERE kind = $1 ORDER BY name",
        )
        .bind(kind)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("name")?, row.try_get("created_at")?, row.try_get("body")?)))
            .collect()
    }

    /// The live (not revoked) token with this hash (from a reader connection when there
    /// is one, from the writer's when that fails).
    pub async fn token_by_hash(&self, token_hash: &str) -> Result<Option<TokenRow>, StoreError> {
        const SQL: &str = "SELECT id, name, role, created_at, created_by, revoked_at FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL";
        if let Some(reader) = &self.reader
            && let Ok(row) = sqlx::query(SQL).bind(token_hash).fetch_optional(reader).await
        {
            return row.as_ref().map(token_row).transpose();
        }
        let row = sqlx::query(SQL).bind(token_hash).fetch_optional(&self.pool).await?;
        row.as_ref().map(token_row).transpose()
    }

    /// Every token, newest first.
    pub async fn tokens(&self) -> Result<Vec<TokenRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, name, role, created_at, created_by, revoked_at FROM api_tokens ORDER BY created_at DESC, id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(token_row).collect()
    }

    /// Appends to the audit log.
    pub async fn audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        let mut transaction = self.begin_append(crate::chain::Chain::Audit).await?;
        let head = append_audit(&mut transaction, entry).await?;
        transaction.commit().await?;
        self.record_head(crate::chain::Chain::Audit, head);
        Ok(())
    }

    /// Makes `write` and appends the audit row that records it, in one transaction: both
    /// or neither. Answers whether the write took effect (`false`: the document exists and
    /// is not replaced, or nothing matched; then nothing is written and nothing audited).
    pub async fn write_audited(
        &self,
        write: AuditedWrite<'_>,
        entry: &AuditEntry,
    ) -> Result<bool, StoreError> {
        let mut transaction = self.begin_append(crate::chain::Chain::Audit).await?;
        let done = match write {
            AuditedWrite::PutDocument { kind, name, body, now_ms, replace } => {
                store_document(&mut transaction, kind, name, body, now_ms, replace).await?
            }
            AuditedWrite::DeleteDocument { kind, name } => {
                sqlx::query("DELETE FROM documents WHERE kind = $1 AND name = $2")
                    .bind(kind)
                    .bind(name)
                    .execute(&mut *transaction)
                    .await?
                    .rows_affected()
                    > 0
            }
            AuditedWrite::AddToken { row, token_hash } => {
                sqlx::query(
                    "INSERT INTO api_tokens (id, name, role, token_hash, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&row.id)
                .bind(&row.name)
                .bind(&row.role)
                .bind(token_hash)
                .bind(row.created_at)
                .bind(&row.created_by)
                .execute(&mut *transaction)
                .await?;
                true
            }
            AuditedWrite::RevokeToken { id, now_ms } => {
                sqlx::query(
                    "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
                )
                .bind(now_ms)
                .bind(id)
                .execute(&mut *transaction)
                .await?
                .rows_affected()
                    > 0
            }
        };
        if !done {
            transaction.rollback().await?;
            return Ok(false);
        }
        let head = append_audit(&mut transaction, entry).await?;
        transaction.commit().await?;
        self.record_head(crate::chain::Chain::Audit, head);
        Ok(true)
    }

    /// A transaction that holds the write lock from its start, so two appenders (in this
    /// process or another) never read the same chain tail.
    async fn begin_append(
        &self,
        chain: crate::chain::Chain,
    ) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
        if self.sqlite {
            return Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?);
        }
        let mut transaction = self.pool.begin().await?;
        let lock = match chain {
            crate::chain::Chain::Audit => "LOCK TABLE audit_log IN SHARE ROW EXCLUSIVE MODE",
            crate::chain::Chain::Pv => "LOCK TABLE pv_events IN SHARE ROW EXCLUSIVE MODE",
        };
        sqlx::query(lock).execute(&mut *transaction).await?;
        Ok(transaction)
    }

    /// Writes a chain's new head outside the database (after the commit: a kill in
    /// between leaves the recorded head behind the chain, never ahead of it).
    fn record_head(&self, chain: crate::chain::Chain, head: crate::chain::Head) {
        if let Some(file) = &self.heads
            && let Err(error) = crate::chain::record_head(file, chain, head)
        {
            tracing::warn!(
                "cannot record the {} head in {}: {error}",
                chain.name(),
                file.display()
            );
        }
    }

    /// The heads recorded outside the database (none for a database in memory).
    pub fn recorded_heads(&self) -> crate::chain::Heads {
        self.heads.as_deref().map(crate::chain::read_heads).unwrap_or_default()
    }

    /// Verifies both chains against themselves, the heads file and `anchors` (heads
    /// recorded elsewhere, such as the posts table's commits: `(where, heads)`), reading
    /// the logs as streams.
    pub async fn verify_chains(
        &self,
        anchors: &[(String, crate::chain::Heads)],
    ) -> Result<Vec<crate::chain::ChainReport>, StoreError> {
        use crate::chain::{Chain, Verifier};
        use futures::TryStreamExt as _;
        let mut reports = Vec::new();
        for chain in [Chain::Audit, Chain::Pv] {
            let mut recorded: Vec<(String, crate::chain::Head)> = Vec::new();
            if let Some(file) = &self.heads
                && let Some(head) = self.recorded_heads().of(chain)
            {
                recorded.push((file.display().to_string(), head.clone()));
            }
            for (place, heads) in anchors {
                if let Some(head) = heads.of(chain) {
                    recorded.push((place.clone(), head.clone()));
                }
            }
            let mut verifier = Verifier::new(chain, recorded);
            let sql = match chain {
                Chain::Audit => {
                    "SELECT seq, hash, at, actor, role, action, target, detail, origin FROM audit_log ORDER BY CASE WHEN seq IS NULL THEN 0 ELSE 1 END, seq, at"
                }
                Chain::Pv => {
                    "SELECT seq, hash, id, case_id, at, actor, role, kind, body FROM pv_events ORDER BY CASE WHEN seq IS NULL THEN 0 ELSE 1 END, seq, at, id"
                }
            };
            let mut rows = sqlx::query(sql).fetch(&self.pool);
            while let Some(row) = rows.try_next().await? {
                let seq: Option<i64> = row.try_get("seq")?;
                let hash: Option<String> = row.try_get("hash")?;
                let fields = match chain {
                    Chain::Audit => audit_fields(&AuditEntry {
                        at: row.try_get("at")?,
                        actor: row.try_get("actor")?,
                        role: row.try_get("role")?,
                        action: row.try_get("action")?,
                        target: row.try_get("target")?,
                        detail: row.try_get("detail")?,
                        origin: row.try_get::<Option<String>, _>("origin")?.unwrap_or_default(),
                    }),
                    Chain::Pv => pv_fields(&PvEventRow {
                        id: row.try_get("id")?,
                        case_id: row.try_get("case_id")?,
                        at: row.try_get("at")?,
                        actor: row.try_get("actor")?,
                        role: row.try_get("role")?,
                        kind: row.try_get("kind")?,
                        body: row.try_get("body")?,
                    }),
                };
                verifier.push(seq, hash, &fields);
            }
            reports.push(verifier.finish());
        }
        Ok(reports)
    }

    /// The latest audit entries, newest first.
    pub async fn audit_log(&self, limit: i64) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT at, actor, role, action, target, detail, origin FROM audit_log ORDER BY at DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(AuditEntry {
                    at: row.try_get("at")?,
                    actor: row.try_get("actor")?,
                    role: row.try_get("role")?,
                    action: row.try_get("action")?,
                    target: row.try_get("target")?,
                    detail: row.try_get("detail")?,
                    origin: row.try_get::<Option<String>, _>("origin")?.unwrap_or_default(),
                })
            })
            .collect()
    }

    /// Opens a case for a post with its first event, unless the post already has one;
    /// returns whether it was opened. One transaction: a kill leaves both or neither.
    pub async fn pv_capture(&self, post_key: &str, event: &PvEventRow) -> Result<bool, StoreError> {
        let opened = self.pv_capture_many(&[(post_key.to_owned(), event.clone())]).await?;
        Ok(opened.first().copied().unwrap_or(false))
    }

    /// Opens several cases in one transaction (an import's batch): each `(post key, first
    /// event)` opens its case unless the post already has one. Returns, in order, whether
    /// each one opened. One commit and one recorded head for the batch instead of one each:
    /// a generated million posts open thousands of cases.
    pub async fn pv_capture_many(
        &self,
        captures: &[(String, PvEventRow)],
    ) -> Result<Vec<bool>, StoreError> {
        if captures.is_empty() {
            return Ok(Vec::new());
        }
        let mut transaction = self.begin_append(crate::chain::Chain::Pv).await?;
        let mut opened = Vec::with_capacity(captures.len());
        let mut head = None;
        for (post_key, event) in captures {
            let inserted = sqlx::query(
                "INSERT INTO pv_cases (case_id, post_key, captured_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            )
            .bind(&event.case_id)
            .bind(post_key)
            .bind(event.at)
            .execute(&mut *transaction)
            .await?
            .rows_affected()
                > 0;
            if inserted {
                head = Some(insert_pv_event(&mut transaction, event).await?);
            }
            opened.push(inserted);
        }
        transaction.commit().await?;
        if let Some(head) = head {
            self.record_head(crate::chain::Chain::Pv, head);
        }
        Ok(opened)
    }

    /// Appends an event to an existing case; returns false when the case does not exist.
    pub async fn pv_append(&self, event: &PvEventRow) -> Result<bool, StoreError> {
        let mut transaction = self.begin_append(crate::chain::Chain::Pv).await?;
        let exists = sqlx::query("SELECT case_id FROM pv_cases WHERE case_id = $1")
            .bind(&event.case_id)
            .fetch_optional(&mut *transaction)
            .await?
            .is_some();
        let head =
            if exists { Some(insert_pv_event(&mut transaction, event).await?) } else { None };
        transaction.commit().await?;
        if let Some(head) = head {
            self.record_head(crate::chain::Chain::Pv, head);
        }
        Ok(exists)
    }

    /// A mark of the PV event log as it stands: its number of events and its latest event
    /// time. The log is append-only, so an unchanged mark means unchanged cases (readers keep
    /// the cases rebuilt from it until the mark moves).
    pub async fn pv_mark(&self) -> Result<(i64, Option<i64>), StoreError> {
        let row = sqlx::query("SELECT count(*) AS n, max(at) AS last FROM pv_events")
            .fetch_one(&self.pool)
            .await?;
        Ok((row.try_get("n")?, row.try_get("last")?))
    }

    /// The event log, in order; one case's or every case's.
    pub async fn pv_events(&self, case_id: Option<&str>) -> Result<Vec<PvEventRow>, StoreError> {
        let rows = match case_id {
            Some(case_id) => {
                sqlx::query(
                    "SELECT id, case_id, at, actor, role, kind, body FROM pv_events WHERE case_id = $1 ORDER BY at, id",
                )
                .bind(case_id)
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query(
                    "SELECT id, case_id, at, actor, role, kind, body FROM pv_events ORDER BY at, id",
                )
                .fetch_all(&self.pool)
                .await?
            }
        };
        rows.iter()
            .map(|row| {
                Ok(PvEventRow {
                    id: row.try_get("id")?,
                    case_id: row.try_get("case_id")?,
                    at: row.try_get("at")?,
                    actor: row.try_get("actor")?,
                    role: row.try_get("role")?,
                    kind: row.try_get("kind")?,
                    body: row.try_get("body")?,
                })
            })
            .collect()
    }

    /// The post keys that already have a case.
    pub async fn pv_post_keys(&self) -> Result<Vec<(String, String)>, StoreError> {
        let rows =
            sqlx::query("SELECT post_key, case_id FROM pv_cases").fetch_all(&self.pool).await?;
        rows.iter().map(|row| Ok((row.try_get("post_key")?, row.try_get("case_id")?))).collect()
    }

    /// Adds entries of PV's receipt log (known references are kept as they were); returns
    /// how many were new.
    pub async fn pv_add_receipts(
        &self,
        receipts: &[PvReceipt],
        now_ms: i64,
    ) -> Result<u64, StoreError> {
        let mut transaction = self.pool.begin().await?;
        let mut added = 0;
        for receipt in receipts {
            added += sqlx::query(
                "INSERT INTO pv_receipts (reference, case_id, received_at, imported_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            )
            .bind(&receipt.reference)
            .bind(&receipt.case_id)
            .bind(receipt.received_at)
            .bind(now_ms)
            .execute(&mut *transaction)
            .await?
            .rows_affected();
        }
        transaction.commit().await?;
        Ok(added)
    }

    /// PV's receipt log.
    pub async fn pv_receipts(&self) -> Result<Vec<PvReceipt>, StoreError> {
        let rows = sqlx::query(
            "SELECT reference, case_id, received_at FROM pv_receipts ORDER BY reference",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(PvReceipt {
                    reference: row.try_get("reference")?,
                    case_id: row.try_get("case_id")?,
                    received_at: row.try_get("received_at")?,
                })
            })
            .collect()
    }

    /// Stores business points (one transaction), keyed by series, day, product and
    /// competitor: a point imported again with the same value is unchanged.
    pub async fn upsert_business(
        &self,
        rows: &[BusinessRow],
        source: &str,
        now_ms: i64,
    ) -> Result<BusinessOutcome, StoreError> {
        let mut outcome = BusinessOutcome::default();
        let mut transaction = self.pool.begin().await?;
        for row in rows {
            let existing = sqlx::query(
                "SELECT value FROM business_points WHERE series = $1 AND day = $2 AND product = $3 AND competitor = $4",
            )
            .bind(&row.series)
            .bind(&row.day)
            .bind(&row.product)
            .bind(&row.competitor)
            .fetch_optional(&mut *transaction)
            .await?;
            let previous: Option<f64> = match existing {
                Some(found) => Some(found.try_get("value")?),
                None => None,
            };
            match previous {
                Some(value) if value == row.value => {
                    outcome.unchanged += 1;
                    continue;
                }
                Some(_) => outcome.updated += 1,
                None => outcome.new += 1,
            }
            sqlx::query(
                "INSERT INTO business_points (series, day, product, competitor, value, source, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (series, day, product, competitor) \
                 DO UPDATE SET value = excluded.value, source = excluded.source, updated_at = excluded.updated_at",
            )
            .bind(&row.series)
            .bind(&row.day)
            .bind(&row.product)
            .bind(&row.competitor)
            .bind(row.value)
            .bind(source)
            .bind(now_ms)
            .execute(&mut *transaction)
            .await?;
        }
        transaction.commit().await?;
        Ok(outcome)
    }

    /// Every stored business point.
    pub async fn business(&self) -> Result<Vec<BusinessRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT series, day, product, competitor, value FROM business_points ORDER BY series, day, competitor, product",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(BusinessRow {
                    series: row.try_get("series")?,
                    day: row.try_get("day")?,
                    product: row.try_get("product")?,
                    competitor: row.try_get("competitor")?,
                    value: row.try_get("value")?,
                })
            })
            .collect()
    }
}

fn token_row(row: &sqlx::any::AnyRow) -> Result<TokenRow, StoreError> {
    Ok(TokenRow {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        role: row.try_get("role")?,
        created_at: row.try_get("created_at")?,
        created_by: row.try_get("created_by")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

/// Appends one PV event to the chain, in a transaction that holds the write lock.
async fn insert_pv_event(
    transaction: &mut sqlx::Transaction<'_, sqlx::Any>,
    event: &PvEventRow,
) -> Result<crate::chain::Head, StoreError> {
    let (last, previous) = chain_tail(transaction, crate::chain::Chain::Pv).await?;
    let seq = last + 1;
    let hash = crate::chain::link_values(&previous, seq, &pv_fields(event));
    sqlx::query(
        "INSERT INTO pv_events (id, case_id, at, actor, role, kind, body, seq, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&event.id)
    .bind(&event.case_id)
    .bind(event.at)
    .bind(&event.actor)
    .bind(&event.role)
    .bind(&event.kind)
    .bind(&event.body)
    .bind(seq)
    .bind(&hash)
    .execute(&mut **transaction)
    .await?;
    Ok(crate::chain::Head { seq, hash })
}

/// The last chained entry of a log: its sequence number and hash (0 and the genesis hash
/// for an empty chain).
async fn chain_tail(
    transaction: &mut sqlx::Transaction<'_, sqlx::Any>,
    chain: crate::chain::Chain,
) -> Result<(i64, String), StoreError> {
    let sql = match chain {
        crate::chain::Chain::Audit => {
            "SELECT seq, hash FROM audit_log WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1"
        }
        crate::chain::Chain::Pv => {
            "SELECT seq, hash FROM pv_events WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1"
        }
    };
    let row = sqlx::query(sql).fetch_optional(&mut **transaction).await?;
    Ok(match row {
        Some(row) => (row.try_get("seq")?, row.try_get("hash")?),
        None => (0, crate::chain::GENESIS.to_owned()),
    })
}

/// The fields of an audit entry its link covers, in order.
fn audit_fields(entry: &AuditEntry) -> Vec<serde_json::Value> {
    vec![
        entry.at.into(),
        entry.actor.clone().into(),
        entry.role.clone().into(),
        entry.action.clone().into(),
        entry.target.clone().into(),
        entry.detail.clone().into(),
        entry.origin.clone().into(),
    ]
}

/// The fields of a PV event its link covers, in order.
fn pv_fields(event: &PvEventRow) -> Vec<serde_json::Value> {
    vec![
        event.id.clone().into(),
        event.case_id.clone().into(),
        event.at.into(),
        event.actor.clone().into(),
        event.role.clone().into(),
        event.kind.clone().into(),
        event.body.clone().into(),
    ]
}
