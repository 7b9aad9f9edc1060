//! The state of live work: source cursors and status, stored alerts with who acknowledged
//! and resolved them, and the webhook outbox (deliveries survive a restart).

use sqlx::Row;

use crate::StoreError;
use crate::state::StateDb;

/// The tables, created with the rest of the state.
pub(crate) const SCHEMA: &[&str] = &[
    // Where each live source resumes: written after the batch it ends was committed.
    "CREATE TABLE IF NOT EXISTS source_cursors (
        source TEXT PRIMARY KEY,
        cursor TEXT NOT NULL,
        updated_at BIGINT NOT NULL
    )",
    // The last status of each source (counters, state), for the status endpoint and pages.
    "CREATE TABLE IF NOT EXISTS source_status (
        source TEXT PRIMARY KEY,
        body TEXT NOT NULL,
        updated_at BIGINT NOT NULL
    )",
    "CREATE TABLE IF NOT EXISTS alerts (
        id TEXT PRIMARY KEY,
        rule TEXT NOT NULL,
        kind TEXT NOT NULL,
        alert_key TEXT NOT NULL,
        fired_at BIGINT NOT NULL,
        created_at BIGINT NOT NULL,
        status TEXT NOT NULL,
        body TEXT NOT NULL,
        acknowledged_by TEXT,
        acknowledged_at BIGINT,
        resolved_by TEXT,
        resolved_at BIGINT,
        note TEXT
    )",
    "CREATE INDEX IF NOT EXISTS alerts_rule_key ON alerts (rule, alert_key, fired_at)",
    "CREATE TABLE IF NOT EXISTS alert_deliveries (
        alert_id TEXT NOT NULL,
        webhook TEXT NOT NULL,
        status TEXT NOT NULL,
        attempts BIGINT NOT NULL,
        next_at BIGINT NOT NULL,
        last_error TEXT,
        delivered_at BIGINT,
        PRIMARY KEY (alert_id, webhook)
    )",
];

/// One stored alert.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AlertRow {
    /// Time-ordered id (a UUID v7).
    pub id: String,
    /// The rule that raised it.
    pub rule: String,
    /// The rule's kind.
    pub kind: String,
    /// What it is about within the rule (a topic, a case, a channel).
    pub key: String,
    /// When it fired (event time), epoch milliseconds.
    pub fired_at: i64,
    /// When it was stored, epoch milliseconds.
    pub created_at: i64,
    /// `open`, `acknowledged` or `resolved`.
    pub status: String,
    /// The explanation (`waterline_model::alerts::Firing` as JSON).
    pub body: String,
    /// Who acknowledged it.
    pub acknowledged_by: Option<String>,
    /// When, epoch milliseconds.
    pub acknowledged_at: Option<i64>,
    /// Who resolved it.
    pub resolved_by: Option<String>,
    /// When, epoch milliseconds.
    pub resolved_at: Option<i64>,
    /// The last note given with an acknowledgement or a resolution.
    pub note: Option<String>,
}

/// One webhook delivery of an alert.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DeliveryRow {
    /// The alert.
    pub alert_id: String,
    /// The webhook's name.
    pub webhook: String,
    /// `pending`, `delivered` or `failed` (gave up).
    pub status: String,
    /// Attempts made.
    pub attempts: i64,
    /// When the next attempt is due, epoch milliseconds.
    pub next_at: i64,
    /// The last failure.
    pub last_error: Option<String>,
    /// When it was delivered.
    pub delivered_at: Option<i64>,
}

/// The columns of an [`AlertRow`], in order.
macro_rules! alert_columns {
    () => {
        "id, rule, kind, alert_key, fired_at, created_at, status, body, acknowledged_by, acknowledged_at, resolved_by, resolved_at, note"
    };
}

fn alert_row(row: &sqlx::any::AnyRow) -> Result<AlertRow, StoreError> {
    Ok(AlertRow {
        id: row.try_get(0)?,
        rule: row.try_get(1)?,
        kind: row.try_get(2)?,
        key: row.try_get(3)?,
        fired_at: row.try_get(4)?,
        created_at: row.try_get(5)?,
        status: row.try_get(6)?,
        body: row.try_get(7)?,
        acknowledged_by: row.try_get(8)?,
        acknowledged_at: row.try_get(9)?,
        resolved_by: row.try_get(10)?,
        resolved_at: row.try_get(11)?,
        note: row.try_get(12)?,
    })
}

impl StateDb {
    /// The stored cursor of every source.
    pub async fn source_cursors(&self) -> Result<Vec<(String, String)>, StoreError> {
        let rows = sqlx::query("SELECT source, cursor FROM source_cursors ORDER BY source")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|row| Ok((row.try_get(0)?, row.try_get(1)?))).collect()
    }

    /// Stores where a source resumes.
    pub async fn set_source_cursor(
        &self,
        source: &str,
        cursor: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO source_cursors (source, cursor, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (source) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at",
        )
        .bind(source)
        .bind(cursor)
        .bind(now_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Stores a source's status (JSON).
    pub async fn set_source_status(
        &self,
        source: &str,
        body: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO source_status (source, body, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (source) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at",
        )
        .bind(source)
        .bind(body)
        .bind(now_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Every source's last status: (source, JSON, updated at).
    pub async fn source_statuses(&self) -> Result<Vec<(String, String, i64)>, StoreError> {
        let rows =
            sqlx::query("SELECT source, body, updated_at FROM source_status ORDER BY source")
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(|row| Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?))).collect()
    }

    /// The most recent alert of a rule and key, if any.
    pub async fn last_alert(&self, rule: &str, key: &str) -> Result<Option<AlertRow>, StoreError> {
        let sql = concat!(
            "SELECT ",
            alert_columns!(),
            " FROM alerts WHERE rule = $1 AND alert_key = $2 ORDER BY fired_at DESC, id DESC LIMIT 1"
        );
        let row = sqlx::query(sql).bind(rule).bind(key).fetch_optional(&self.pool).await?;
        row.as_ref().map(alert_row).transpose()
    }

    /// Stores a new alert and queues its webhook deliveries, in one transaction.
    pub async fn add_alert(&self, alert: &AlertRow, webhooks: &[String]) -> Result<(), StoreError> {
        let mut transaction = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO alerts (id, rule, kind, alert_key, fired_at, created_at, status, body)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&alert.id)
        .bind(&alert.rule)
        .bind(&alert.kind)
        .bind(&alert.key)
        .bind(alert.fired_at)
        .bind(alert.created_at)
        .bind(&alert.status)
        .bind(&alert.body)
        .execute(&mut *transaction)
        .await?;
        for webhook in webhooks {
            sqlx::query(
                "INSERT INTO alert_deliveries (alert_id, webhook, status, attempts, next_at)
                 VALUES ($1, $2, 'pending', 0, $3)",
            )
            .bind(&alert.id)
            .bind(webhook)
            .bind(alert.created_at)
            .execute(&mut *transaction)
            .await?;
        }
        transaction.commit().await?;
        Ok(())
    }

    /// Stored alerts, newest first: all, or those of one status; at most `limit`.
    pub async fn alerts(
        &self,
        status: Option<&str>,
        limit: i64,
    ) -> Result<Vec<AlertRow>, StoreError> {
        let sql = match status {
            Some(_) => concat!(
                "SELECT ",
                alert_columns!(),
                " FROM alerts WHERE status = $1 ORDER BY id DESC LIMIT $2"
            ),
            None => concat!("SELECT ", alert_columns!(), " FROM alerts ORDER BY id DESC LIMIT $1"),
        };
        let query = sqlx::query(sql);
        let query = match status {
            Some(status) => query.bind(status).bind(limit),
            None => query.bind(limit),
        };
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter().map(alert_row).collect()
    }

    /// Alerts stored after the one with id `after` (ids are time-ordered), oldest first.
    pub async fn alerts_after(&self, after: &str) -> Result<Vec<AlertRow>, StoreError> {
        let sql = concat!(
            "SELECT ",
            alert_columns!(),
            " FROM alerts WHERE id > $1 ORDER BY id LIMIT 500"
        );
        let rows = sqlx::query(sql).bind(after).fetch_all(&self.pool).await?;
        rows.iter().map(alert_row).collect()
    }

    /// The id of the newest alert ('' when none).
    pub async fn last_alert_id(&self) -> Result<String, StoreError> {
        let row = sqlx::query("SELECT MAX(id) FROM alerts").fetch_one(&self.pool).await?;
        Ok(row.try_get::<Option<String>, _>(0)?.unwrap_or_default())
    }

    /// One alert.
    pub async fn alert(&self, id: &str) -> Result<Option<AlertRow>, StoreError> {
        let sql = concat!("SELECT ", alert_columns!(), " FROM alerts WHERE id = $1");
        let row = sqlx::query(sql).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(alert_row).transpose()
    }

    /// Acknowledges an open alert; false when it does not exist or is not open.
    pub async fn acknowledge_alert(
        &self,
        id: &str,
        who: &str,
        note: Option<&str>,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let sql =
            "UPDATE alerts SET status = 'acknowledged', acknowledged_by = $1, acknowledged_at = $2,
             note = COALESCE($3, note) WHERE id = $4 AND status = 'open'";
        self.mark_alert(sql, id, who, note, now_ms).await
    }

    /// Resolves an alert that is not resolved yet; false when it does not exist or is.
    pub async fn resolve_alert(
        &self,
        id: &str,
        who: &str,
        note: Option<&str>,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let sql = "UPDATE alerts SET status = 'resolved', resolved_by = $1, resolved_at = $2,
             note = COALESCE($3, note) WHERE id = $4 AND status <> 'resolved'";
        self.mark_alert(sql, id, who, note, now_ms).await
    }

    /// Runs one of the two status changes above; whether a row changed.
    async fn mark_alert(
        &self,
        sql: &'static str,
        id: &str,
        who: &str,
        note: Option<&str>,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(sql)
            .bind(who)
            .bind(now_ms)
            .bind(note)
            .bind(id)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(done > 0)
    }

    /// Deliveries due at `now_ms`, oldest first.
    pub async fn due_deliveries(&self, now_ms: i64) -> Result<Vec<DeliveryRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT alert_id, webhook, status, attempts, next_at, last_error, delivered_at
             FROM alert_deliveries WHERE status = 'pending' AND next_at <= $1 ORDER BY next_at LIMIT 100",
        )
        .bind(now_ms)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(delivery_row).collect()
    }

    /// Every delivery of an alert.
    pub async fn deliveries(&self, alert_id: &str) -> Result<Vec<DeliveryRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT alert_id, webhook, status, attempts, next_at, last_error, delivered_at
             FROM alert_deliveries WHERE alert_id = $1 ORDER BY webhook",
        )
        .bind(alert_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(delivery_row).collect()
    }

    /// Records an attempt: delivered, retried at `next_at`, or given up (`failed`).
    pub async fn record_delivery(&self, row: &DeliveryRow) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE alert_deliveries SET status = $1, attempts = $2, next_at = $3, last_error = $4,
             delivered_at = $5 WHERE alert_id = $6 AND webhook = $7",
        )
        .bind(&row.status)
        .bind(row.attempts)
        .bind(row.next_at)
        .bind(&row.last_error)
        .bind(row.delivered_at)
        .bind(&row.alert_id)
        .bind(&row.webhook)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

fn delivery_row(row: &sqlx::any::AnyRow) -> Result<DeliveryRow, StoreError> {
    Ok(DeliveryRow {
        alert_id: row.try_get(0)?,
        webhook: row.try_get(1)?,
        status: row.try_get(2)?,
        attempts: row.try_get(3)?,
        next_at: row.try_get(4)?,
        last_error: row.try_get(5)?,
        delivered_at: row.try_get(6)?,
    })
}
