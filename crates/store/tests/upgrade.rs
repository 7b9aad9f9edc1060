//! A table written by an older Waterline (without the annotation columns) is upgraded when
//! the store opens it, and its rows read the new columns as NULL.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch};
use datafusion::arrow::datatypes::Schema;
use waterline_store::Store;
use waterline_store::schema::{ANNOTATION_COLUMNS, schema};

#[tokio::test]
async fn an_older_table_gains_the_new_columns() {
    let dir = tempfile::tempdir().unwrap();
    let full = schema();
    let old_fields: Vec<_> = full
        .fields()
        .iter()
        .filter(|field| !ANNOTATION_COLUMNS.contains(&field.name().as_str()))
        .cloned()
        .collect();
    let old = Arc::new(Schema::new(old_fields));
    // One row: the non-null columns need values.
    let columns: Vec<ArrayRef> = old
        .fields()
        .iter()
        .map(|field| {
            use datafusion::arrow::array::*;
            let array: ArrayRef = match field.name().as_str() {
                "kind" => Arc::new(StringArray::from(vec!["post"])),
                "seq" => Arc::new(Int64Array::from(vec![0])),
                "deleted" | "undo" => Arc::new(BooleanArray::from(vec![false])),
                "platform" => Arc::new(StringArray::from(vec!["x"])),
                "id" => Arc::new(StringArray::from(vec!["1"])),
                "text" => Arc::new(StringArray::from(vec!["hello"])),
                "import_run" | "source" | "source_position" => {
                    Arc::new(StringArray::from(vec!["old"]))
                }
                "media_count" => Arc::new(Int32Array::from(vec![0])),
                "created_at" | "observed_at" => Arc::new(
                    TimestampMicrosecondArray::from(vec![1_700_000_000_000_000])
                        .with_timezone("UTC"),
                ),
                _ => new_null_array(field.data_type(), 1),
            };
            array
        })
        .collect();
    let batch = RecordBatch::try_new(old, columns).unwrap();
    let path = dir.path().join("records");
    std::fs::create_dir_all(&path).unwrap();
    let url = deltalake::ensure_table_uri(path.to_string_lossy()).unwrap();
    let table = deltalake::DeltaTableBuilder::from_url(url).unwrap().build().unwrap();
    table.write(vec![batch]).with_partition_columns(["kind"]).await.unwrap();

    let store = Store::open(dir.path()).await.unwrap();
    let context = store.session().await.unwrap();
    let rows = context
        .sql("SELECT id, enriched_with, sentiment FROM records")
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    assert_eq!(rows.iter().map(RecordBatch::num_rows).sum::<usize>(), 1);
    assert_eq!(rows[0].column(1).null_count(), 1, "old rows read the new columns as NULL");
    assert_eq!(store.stale_posts("language@1", false).await.unwrap(), (1, 1));
}
