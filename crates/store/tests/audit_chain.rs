//! The audit log and the PV event log are hash chains whose heads are also recorded outside
//! the state database (ADR 018): whoever holds the file can drop the triggers and delete,
//! insert or edit rows, even recompute every later hash, and verification still says so.

#![allow(clippy::unwrap_used)]

use waterline_store::chain::{self, Chain};
use waterline_store::state::{AuditEntry, PvEventRow, StateDb};

fn entry(n: i64) -> AuditEntry {
    AuditEntry {
        at: 1_000 + n,
        actor: format!("cli:tester{n}"),
        role: "admin".into(),
        action: "baseline.create".into(),
        target: format!("b{n}"),
        detail: "{}".into(),
        origin: "cli".into(),
    }
}

fn event(id: &str) -> PvEventRow {
    PvEventRow {
        id: id.into(),
        case_id: "pv-1".into(),
        at: 2_000,
        actor: "tester".into(),
        role: "pv-reviewer".into(),
        kind: "viewed".into(),
        body: "{}".into(),
    }
}

async fn problems(state: &StateDb) -> Vec<String> {
    state.verify_chains(&[]).await.unwrap().into_iter().flat_map(|report| report.problems).collect()
}

async fn raw(path: &std::path::Path) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    sqlx::AnyPool::connect(&format!("sqlite://{}", path.display())).await.unwrap()
}

#[tokio::test]
async fn tampering_with_the_audit_log_is_found_even_without_its_triggers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let state = StateDb::open(&path).await.unwrap();
    for n in 1..=6 {
        state.audit(&entry(n)).await.unwrap();
    }
    assert!(state.pv_capture("x:1", &event("e1")).await.unwrap());
    assert!(state.pv_append(&event("e2")).await.unwrap());
    assert_eq!(problems(&state).await, Vec::<String>::new());
    let heads = state.recorded_heads();
    assert_eq!(heads.of(Chain::Audit).unwrap().seq, 6);
    assert_eq!(heads.of(Chain::Pv).unwrap().seq, 2);

    // The triggers refuse a plain DELETE…
    let pool = raw(&path).await;
    assert!(sqlx::query("DELETE FROM audit_log").execute(&pool).await.is_err());
    // …until they are dropped.
    sqlx::query("DROP TRIGGER audit_log_no_delete").execute(&pool).await.unwrap();
    sqlx::query("DROP TRIGGER audit_log_no_update").execute(&pool).await.unwrap();
    sqlx::query("DROP TRIGGER pv_events_no_delete").execute(&pool).await.unwrap();

    // A deletion in the middle.
    sqlx::query("DELETE FROM audit_log WHERE seq = 3").execute(&pool).await.unwrap();
    let found = problems(&state).await;
    assert!(found.iter().any(|p| p.contains("missing (deleted)")), "{found:?}");

    // An edit.
    sqlx::query("UPDATE audit_log SET actor = 'someone else' WHERE seq = 2")
        .execute(&pool)
        .await
        .unwrap();
    let found = problems(&state).await;
    assert!(found.iter().any(|p| p.contains("entry 2 does not match")), "{found:?}");

    // The PV log's tail deleted: the chain is whole, the recorded head is not in it.
    sqlx::query("DELETE FROM pv_events WHERE seq = 2").execute(&pool).await.unwrap();
    let found = problems(&state).await;
    assert!(found.iter().any(|p| p.contains("tail was deleted")), "{found:?}");
}

#[tokio::test]
async fn a_chain_recomputed_after_an_edit_disagrees_with_its_recorded_head() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let state = StateDb::open(&path).await.unwrap();
    for n in 1..=4 {
        state.audit(&entry(n)).await.unwrap();
    }
    let pool = raw(&path).await;
    sqlx::query("DROP TRIGGER audit_log_no_update").execute(&pool).await.unwrap();
    // Edit entry 2 and recompute every hash from there, as a careful forger would.
    let mut forged: Vec<AuditEntry> = (1..=4).map(entry).collect();
    forged[1].actor = "cli:nobody".into();
    let mut previous = chain::GENESIS.to_owned();
    for (index, entry) in forged.iter().enumerate() {
        let seq = index as i64 + 1;
        let fields = vec![
            entry.at.into(),
            entry.actor.clone().into(),
            entry.role.clone().into(),
            entry.action.clone().into(),
            entry.target.clone().into(),
            entry.detail.clone().into(),
            entry.origin.clone().into(),
        ];
        let hash = chain::link_values(&previous, seq, &fields);
        sqlx::query("UPDATE audit_log SET actor = $1, hash = $2 WHERE seq = $3")
            .bind(&entry.actor)
            .bind(&hash)
            .bind(seq)
            .execute(&pool)
            .await
            .unwrap();
        previous = hash;
    }
    // In itself the chain is consistent again; against the recorded head it is not.
    let reports = state.verify_chains(&[]).await.unwrap();
    let audit = &reports[0];
    assert!(
        audit.problems.iter().any(|p| p.contains("recomputed after an edit")),
        "{:?}",
        audit.problems
    );
    // And the heads a posts commit recorded catch it even when the heads file is restored.
    let anchors = vec![("a posts commit".to_owned(), state.recorded_heads())];
    std::fs::remove_file(chain::heads_file(&path)).unwrap();
    let reports = state.verify_chains(&anchors).await.unwrap();
    assert!(reports[0].problems.iter().any(|p| p.contains("a posts commit")), "{reports:?}");
}

#[tokio::test]
async fn rows_from_before_the_chain_are_counted_not_failed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let state = StateDb::open(&path).await.unwrap();
    let pool = raw(&path).await;
    sqlx::query(
        "INSERT INTO audit_log (at, actor, role, action, target, detail) VALUES (1, 'old', 'admin', 'ingest', 'posts', '{}')",
    )
    .execute(&pool)
    .await
    .unwrap();
    state.audit(&entry(1)).await.unwrap();
    let reports = state.verify_chains(&[]).await.unwrap();
    assert!(reports[0].intact(), "{:?}", reports[0]);
    assert_eq!((reports[0].entries, reports[0].unchained), (2, 1));
}
