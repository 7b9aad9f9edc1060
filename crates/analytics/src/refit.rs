//! `waterline topics refit`: a new topic model fitted on a bounded sample of the stored
//! posts, matched to the old one so that a topic that lives on keeps its id (topics are
//! kept, merged or retired, never renumbered; the lineage says which), then every stored
//! post assigned again by the engine in one streaming rewrite of the table.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int64Builder};
use datafusion::arrow::datatypes::DataType;
use datafusion::logical_expr::{ColumnarValue, ScalarUDF, Volatility, create_udf};
use serde::Serialize;
use waterline_enrich::embed::Embeddings;
use waterline_store::Store;

use crate::topics::{self, Lineage, SeedTopic, TopicModel, TopicOptions};
use crate::{Analytics, AnalyticsError};

/// Cosine between a new and an old centre for the new topic to keep the old id.
pub const KEEP_SIMILARITY: f32 = 0.8;

/// Cosine between an old centre and the nearest new one for the old topic to count as merged
/// into it (below: retired).
pub const MERGE_SIMILARITY: f32 = 0.6;

/// What a refit did.
#[derive(Debug, Clone, Serialize)]
pub struct Refit {
    /// Posts the new model was fitted on.
    pub sample: usize,
    /// Topics before and after.
    pub topics_before: usize,
    /// Topics after.
    pub topics_after: usize,
    /// Old topics that kept their id, were merged, or were retired.
    pub lineage: Vec<Lineage>,
    /// New topics (fresh ids).
    pub born: Vec<u32>,
    /// Post rows assigned again.
    pub rows: u64,
}

/// Texts of up to `limit` stored posts with content, spread over the table by a fixed
/// pseudo-random order (a bounded top-k: memory holds the sample only).
pub async fn sample(analytics: &Analytics, limit: usize) -> Result<Vec<String>, AnalyticsError> {
    let frame = analytics
        .context
        .sql(&format!(
            "SELECT text FROM posts WHERE repost_of IS NULL AND trim(text) <> '' \
             AND enriched_with IS NOT NULL \
             ORDER BY (arrow_cast(created_at, 'Int64') % 1000003) * 7919 % 1000003, id LIMIT {limit}"
        ))
        .await?;
    let mut texts = Vec::new();
    for batch in frame.collect().await? {
        for row in 0..batch.num_rows() {
            if let Some(text) = waterline_store::schema::text_value(batch.column(0), row) {
                texts.push(text);
            }
        }
    }
    Ok(texts)
}

/// Stored posts with content per topic (`None`: without one).
pub async fn topic_counts(
    analytics: &Analytics,
) -> Result<Vec<(Option<u32>, u64)>, AnalyticsError> {
    use datafusion::arrow::datatypes::Int64Type;
    let batches = analytics
        .context
        .sql(
            "SELECT topic_id, CAST(count(*) AS BIGINT) FROM posts \
             WHERE repost_of IS NULL AND trim(text) <> '' GROUP BY topic_id",
        )
        .await?
        .collect()
        .await?;
    let mut counts = Vec::new();
    for batch in &batches {
        let (Some(ids), Some(ns)) = (
            batch.column(0).as_primitive_opt::<Int64Type>(),
            batch.column(1).as_primitive_opt::<Int64Type>(),
        ) else {
            continue;
        };
        for row in 0..batch.num_rows() {
            let id =
                (!ids.is_null(row)).then(|| ids.value(row)).and_then(|id| u32::try_from(id).ok());
            counts.push((id, ns.value(row).max(0) as u64));
        }
    }
    Ok(counts)
}

/// Fits a new model on `texts` and matches it to `old`: a new topic whose centre is within
/// [`KEEP_SIMILARITY`] of an old one's takes its id (best pairs first); other new topics
/// take fresh ids after the old model's; each old topic is kept, merged into the nearest new
/// one (within [`MERGE_SIMILARITY`]) or retired.
pub fn fit(
    old: &TopicModel,
    texts: &[String],
    table: Option<&Embeddings>,
    seeds: &[SeedTopic],
    options: &TopicOptions,
) -> (TopicModel, Vec<Lineage>, Vec<u32>) {
    let mut docs = topics::prepare(texts, table);
    topics::mark_seeds(&mut docs, texts, seeds);
    let mut fresh = TopicModel {
        embedding: topics::embedding_name(table),
        next_id: old.next_id,
        ..TopicModel::default()
    };
    topics::update(&mut fresh, &docs, options, seeds);
    let generation = old.generation + 1;
    let cosine = |a: &[f32], b: &[f32]| -> f32 { a.iter().zip(b).map(|(x, y)| x * y).sum() };
    let comparable = old.embedding == fresh.embedding;
    // Best pairs first: each old id goes to at most one new topic.
    let mut pairs: Vec<(f32, usize, usize)> = Vec::new();
    if comparable {
        for (n, new) in fresh.topics.iter().enumerate() {
            for (o, earlier) in old.topics.iter().enumerate() {
                let similarity = cosine(&new.centroid, &earlier.centroid);
                if similarity >= KEEP_SIMILARITY {
                    pairs.push((similarity, n, o));
                }
            }
        }
    }
    pairs.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let mut new_to_old: Vec<Option<usize>> = vec![None; fresh.topics.len()];
    let mut taken = vec![false; old.topics.len()];
    for (_, n, o) in pairs {
        if new_to_old[n].is_none() && !taken[o] {
            new_to_old[n] = Some(o);
            taken[o] = true;
        }
    }
    let mut born = Vec::new();
    for (n, matched) in new_to_old.iter().enumerate() {
        match matched {
            Some(o) => fresh.topics[n].id = old.topics[*o].id,
            None => born.push(fresh.topics[n].id),
        }
    }
    fresh.topics.sort_by_key(|topic| topic.id);
    let mut lineage = Vec::new();
    for (o, earlier) in old.topics.iter().enumerate() {
        let label = earlier.label();
        if taken[o] {
            lineage.push(Lineage {
                generation,
                from: earlier.id,
                label,
                to: Some(earlier.id),
                fate: "kept".into(),
            });
            continue;
        }
        let nearest = fresh
            .topics
            .iter()
            .filter(|_| comparable)
            .map(|topic| (cosine(&topic.centroid, &earlier.centroid), topic.id))
            .max_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)));
        match nearest {
            Some((similarity, id)) if similarity >= MERGE_SIMILARITY => lineage.push(Lineage {
                generation,
                from: earlier.id,
                label,
                to: Some(id),
                fate: "merged".into(),
            }),
            _ => lineage.push(Lineage {
                generation,
                from: earlier.id,
                label,
                to: None,
                fate: "retired".into(),
            }),
        }
    }
    fresh.generation = generation;
    fresh.unassigned = 0;
    fresh.lineage = old.lineage.iter().cloned().chain(lineage.iter().cloned()).collect();
    (fresh, lineage, born)
}

/// The SQL function `waterline_topic(text, repost_of, enriched_with)`: the topic a model
/// assigns a post (NULL for a repost, an empty or unannotated post, or an outlier).
pub fn topic_function(model: Arc<TopicModel>, table: Option<&'static Embeddings>) -> ScalarUDF {
    let min_similarity = model.options.as_ref().map_or(0.2, |options| options.min_similarity);
    let function =
        Arc::new(move |args: &[ColumnarValue]| -> datafusion::error::Result<ColumnarValue> {
            let arrays = ColumnarValue::values_to_arrays(args)?;
            let cast = |index: usize| -> datafusion::error::Result<ArrayRef> {
                let array = arrays.get(index).ok_or_else(|| {
                    datafusion::error::DataFusionError::Internal("three arguments expected".into())
                })?;
                Ok(datafusion::arrow::compute::cast(array, &DataType::Utf8)?)
            };
            let (texts, reposts, enriched) = (cast(0)?, cast(1)?, cast(2)?);
            let (texts, reposts, enriched) =
                (texts.as_string::<i32>(), reposts.as_string::<i32>(), enriched.as_string::<i32>());
            let wanted: Vec<&str> = (0..texts.len())
                .map(|row| {
                    let content = !texts.is_null(row)
                        && reposts.is_null(row)
                        && !enriched.is_null(row)
                        && !texts.value(row).trim().is_empty();
                    if content { texts.value(row) } else { "" }
                })
                .collect();
            let docs = topics::prepare(&wanted, table);
            let labels = topics::assign(&model, &docs, min_similarity);
            let mut out = Int64Builder::with_capacity(labels.len());
            for label in labels {
                out.append_option(label.map(i64::from));
            }
            Ok(ColumnarValue::Array(Arc::new(out.finish())))
        });
    create_udf(
        "waterline_topic",
        vec![DataType::Utf8, DataType::Utf8, DataType::Utf8],
        DataType::Int64,
        Volatility::Immutable,
        function,
    )
}

/// Assigns every stored post its topic under `model` (one streaming rewrite, one commit).
pub async fn reassign(
    store: &mut Store,
    model: &TopicModel,
    table: Option<&'static Embeddings>,
) -> Result<u64, AnalyticsError> {
    let function = topic_function(Arc::new(model.clone()), table);
    Ok(store
        .rewrite_post_column("topic_id", function, &["text", "repost_of", "enriched_with"])
        .await?)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::topics::Topic;

    fn topic(id: u32, direction: usize) -> Topic {
        let mut centroid = vec![0.0; 4];
        centroid[direction] = 1.0;
        Topic {
            id,
            terms: vec![format!("t{id}")],
            seed: None,
            centroid,
            created_size: 10,
            threshold: 0.2,
        }
    }

    #[test]
    fn lineage_keeps_merges_and_retires() {
        // Replays the matching rule on hand-made centres through `fit`'s pairing by building
        // the models directly.
        let old = TopicModel {
            embedding: "lexical: test".into(),
            topics: vec![topic(0, 0), topic(1, 1), topic(2, 2)],
            next_id: 3,
            generation: 4,
            ..TopicModel::default()
        };
        let (model, lineage, born) = fit(&old, &[], None, &[], &TopicOptions::default());
        // No texts: nothing is fitted, every old topic is retired, nothing is born.
        assert!(model.topics.is_empty());
        assert_eq!(model.generation, 5);
        assert_eq!(model.next_id, 3, "fresh ids continue after the old ones");
        assert!(born.is_empty());
        assert!(lineage.iter().all(|entry| entry.fate == "retired" && entry.to.is_none()));
        assert_eq!(lineage.len(), 3);
    }
}
