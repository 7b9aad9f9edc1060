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

/// An import's batch opens its cases in one transaction: each post opens one case, a post
/// that already has one opens none, and the chained log and its recorded head stay whole.
#[tokio::test]
async fn aud_1_a_batch_of_captures_opens_each_new_case_once_and_keeps_the_chain() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = StateDb::open(&dir.path().join("state.db")).await.expect("open");
    assert!(db.pv_capture("x:1", &event("e1", "pv-1", "captured")).await.expect("capture"));
    let batch = vec![
        ("x:1".to_owned(), event("e2", "pv-1", "captured")),
        ("x:2".to_owned(), event("e3", "pv-2", "captured")),
        ("x:3".to_owned(), event("e4", "pv-3", "captured")),
    ];
    assert_eq!(db.pv_capture_many(&batch).await.expect("batch"), [false, true, true]);
    assert_eq!(db.pv_capture_many(&[]).await.expect("nothing"), Vec::<bool>::new());
    let events = db.pv_events(None).await.expect("events");
    assert_eq!(
        events.iter().map(|event| event.id.as_str()).collect::<Vec<_>>(),
        ["e1", "e3", "e4"]
    );
    let problems: Vec<String> = db
        .verify_chains(&[])
        .await
        .expect("verify")
        .into_iter()
        .flat_map(|report| report.problems)
        .collect();
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(
        db.recorded_heads().of(waterline_store::chain::Chain::Pv).map(|head| head.seq),
        Some(3)
    );
}
