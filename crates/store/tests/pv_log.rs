//! The PV event log in the state database (PHARMA.md AUD-1, PV-2).

use waterline_store::state::{PvEventRow, StateDb};

fn event(id: &str, case_id: &str, kind: &str) -> PvEventRow {
    PvEventRow {
        id: id.into(),
        case_id: case_id.into(),
        at: 1_000,
        actor: "tester".into(),
        role: "pv-reviewer".into(),
        kind: kind.into(),
        body: "{}".into(),
    }
}

#[tokio::test]
async fn aud_1_the_event_log_is_append_only_and_a_post_opens_one_case() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = StateDb::open(&dir.path().join("state.db")).await.expect("open");
    assert!(db.pv_capture("x:1", &event("e1", "pv-1", "captured")).await.expect("capture"));
    assert!(!db.pv_capture("x:1", &event("e2", "pv-1", "captured")).await.expect("again"));
    assert!(db.pv_append(&event("e3", "pv-1", "viewed")).await.expect("append"));
    assert!(!db.pv_append(&event("e4", "pv-9", "viewed")).await.expect("unknown case"));
    let events = db.pv_events(None).await.expect("events");
    assert_eq!(events.iter().map(|event| event.id.as_str()).collect::<Vec<_>>(), ["e1", "e3"]);
    // PV-2: nothing deletes or rewrites the log, not even SQL written by hand.
    let pool =
        sqlx::AnyPool::connect(&format!("sqlite://{}", dir.path().join("state.db").display()))
            .await
            .expect("pool");
    assert!(sqlx::query("DELETE FROM pv_events").execute(&pool).await.is_err());
    assert!(sqlx::query("UPDATE pv_events SET kind = 'x'").execute(&pool).await.is_err());
    assert!(sqlx::query("DELETE FROM pv_cases").execute(&pool).await.is_err());
    assert_eq!(db.pv_events(Some("pv-1")).await.expect("events").len(), 2);
}
