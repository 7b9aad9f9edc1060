//! Many small commits (what a live source leaves) compact into few files with every row and
//! every recorded application progress kept; a second handle on the same table catches up
//! with [`Store::refreshed`].

#![allow(clippy::unwrap_used)]

use chrono::{TimeZone, Utc};
use waterline_model::{Located, Position, Post, Record};
use waterline_store::{BatchContext, PostIndex, Store, identities};

fn post(id: usize) -> Located {
    let at = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
    let mut post = Post::new("bluesky", format!("p{id}"), at);
    post.text = format!("post number {id} about Cardiozen");
    Located { position: Position::line(id as u64 + 1), record: Record::Post(Box::new(post)) }
}

async fn count(store: &Store) -> i64 {
    let context = store.session().await.unwrap();
    let batches =
        waterline_store::collect(&context, "SELECT count(*) FROM records WHERE kind = 'post'")
            .await
            .unwrap();
    batches[0]
        .column(0)
        .as_any()
        .downcast_ref::<datafusion::arrow::array::Int64Array>()
        .unwrap()
        .value(0)
}

#[tokio::test]
async fn small_commits_compact_into_one_file_with_every_row_and_progress_kept() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).await.unwrap();
    let reader = Store::open(dir.path()).await.unwrap();
    let mut index = PostIndex::default();
    let now = Utc::now();
    for commit in 0..12_usize {
        let records: Vec<Located> = (commit * 5..commit * 5 + 5).map(post).collect();
        let ids = identities(&records);
        let context = BatchContext { run_id: "run", source: "live:test", now };
        let staged = store.stage(&mut index, records, &ids, &context).await.unwrap();
        store.commit(staged.rows, "waterline-live:run", commit as i64 + 1, now).await.unwrap();
    }
    assert_eq!(store.file_count(), 12, "one file a commit");
    assert_eq!(store.small_files(waterline_store::COMPACT_TARGET_BYTES), 12);
    // Twelve small files are not yet worth a compaction.
    assert_eq!(store.compact_when_fragmented().await.unwrap(), None);
    assert_eq!(count(&store).await, 60);

    // A handle opened before the commits catches up, reading only what is new.
    assert!(!reader.has_data());
    let reader = reader.refreshed().await.unwrap();
    assert_eq!(reader.version(), store.version());
    assert_eq!(count(&reader).await, 60);

    let (removed, added) = store.compact(16 * 1024 * 1024).await.unwrap();
    assert_eq!((removed, added), (12, 1));
    assert_eq!(store.file_count(), 1);
    assert_eq!(count(&store).await, 60, "compaction keeps every row");
    assert_eq!(store.transaction_version("waterline-live:run").await.unwrap(), Some(12));
    // The index built from the compacted table knows every post.
    assert_eq!(store.load_index().await.unwrap().posts.len(), 60);

    // The older handle follows the compaction too, and a fresh open agrees.
    let reader = reader.refreshed().await.unwrap();
    assert_eq!(reader.file_count(), 1);
    assert_eq!(count(&reader).await, 60);
    let reopened = Store::open(dir.path()).await.unwrap();
    assert_eq!(reopened.version(), store.version());
    assert_eq!(count(&reopened).await, 60);
    // Nothing left to compact: no new commit.
    let version = store.version();
    assert_eq!(store.compact(16 * 1024 * 1024).await.unwrap(), (0, 0));
    assert_eq!(store.version(), version);
}
