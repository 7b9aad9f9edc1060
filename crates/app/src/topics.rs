//! The workspace's topic model (`.waterline/topics.json`): loaded by every writer, which
//! assigns each post its topic as it is stored (ADR 014), saved before the posts assigned
//! with a changed model are committed, and read by every reader for the topics' names.

use std::path::Path;

use anyhow::{Context, Result};
use waterline_analytics::topics::{Assigner, TopicModel, TopicOptions};

use crate::workspace::Workspace;

/// The topic model's file in the data directory.
pub const TOPICS_FILE: &str = "topics.json";

/// The saved model, if any (an unreadable file is logged and treated as none).
pub fn load_model(data_dir: &Path) -> Option<TopicModel> {
    let text = fs_err::read_to_string(data_dir.join(TOPICS_FILE)).ok()?;
    match serde_json::from_str(&text) {
        Ok(model) => Some(model),
        Err(error) => {
            tracing::warn!("ignoring an unreadable topic model ({error}); topics start again");
            None
        }
    }
}

/// Saves the model atomically (a temporary file renamed over the old one). The caller holds
/// the workspace write lock.
pub fn save_model(data_dir: &Path, model: &TopicModel) -> Result<()> {
    let temporary = data_dir.join(format!("{TOPICS_FILE}.{}.tmp", std::process::id()));
    fs_err::write(&temporary, serde_json::to_vec(model)?)?;
    fs_err::rename(&temporary, data_dir.join(TOPICS_FILE))
        .context("cannot save the topic model")?;
    Ok(())
}

/// The generation of the saved model (0 when there is none).
pub fn saved_generation(data_dir: &Path) -> u64 {
    load_model(data_dir).map_or(0, |model| model.generation)
}

/// An assigner continuing the workspace's saved model.
pub fn assigner(workspace: &Workspace) -> Assigner {
    Assigner::new(
        load_model(&workspace.data_dir()),
        waterline_enrich::models::embeddings(),
        Assigner::seeds_of(&workspace.config),
        TopicOptions::default(),
    )
}

/// Under the write lock, before committing posts the assigner labelled: adopts a model
/// another writer saved meanwhile (returns true: the batch must be assigned again), else
/// saves the assigner's model when it changed.
pub fn settle_model(data_dir: &Path, assigner: &mut Assigner) -> Result<bool> {
    let saved = load_model(data_dir);
    let on_disk = saved.as_ref().map_or(0, |model| model.generation);
    if on_disk != assigner.base()
        && let Some(model) = saved
    {
        tracing::info!(
            generation = model.generation,
            "another writer changed the topic model: continuing from it"
        );
        assigner.adopt(model);
        return Ok(true);
    }
    if let Some(model) = assigner.unsaved() {
        save_model(data_dir, model)?;
        assigner.mark_saved();
    }
    Ok(false)
}

/// The topic names of the saved model, as the `topic` dimension spells them (`#id label`).
pub fn topic_names(data_dir: &Path) -> Vec<(u32, String)> {
    load_model(data_dir)
        .map(|model| {
            model
                .topics
                .iter()
                .map(|topic| (topic.id, format!("#{} {}", topic.id, topic.label())))
                .collect()
        })
        .unwrap_or_default()
}

/// One topic as `topics list` shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Listed {
    /// Its stable id.
    pub id: u32,
    /// Its label (top terms, or the seed's name).
    pub label: String,
    /// Its top terms.
    pub terms: Vec<String>,
    /// The configured seed topic it grew from, if any.
    pub seed: Option<String>,
    /// Stored posts assigned to it.
    pub posts: u64,
}

/// The topics with their stored posts, and what the model's refits did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TopicList {
    /// The embedding table's name.
    pub embedding: String,
    /// The model's generation.
    pub generation: u64,
    /// Every topic.
    pub topics: Vec<Listed>,
    /// Stored posts with content and no topic.
    pub posts_without_topic: u64,
    /// Which old topic became which, refit by refit.
    pub lineage: Vec<waterline_analytics::topics::Lineage>,
}

/// The workspace's topics with their stored posts (one grouped count in the engine).
pub async fn list(workspace: &Workspace) -> Result<TopicList> {
    let data_dir = workspace.data_dir();
    let model = load_model(&data_dir).unwrap_or_default();
    let store =
        waterline_store::Store::open(&data_dir).await.context("cannot open the workspace store")?;
    let mut counts = std::collections::HashMap::new();
    let mut unassigned = 0;
    if store.has_data() {
        let analytics = waterline_analytics::Analytics::open(&store).await?;
        for (id, n) in waterline_analytics::refit::topic_counts(&analytics).await? {
            match id {
                Some(id) => {
                    counts.insert(id, n);
                }
                None => unassigned += n,
            }
        }
    }
    let topics: Vec<Listed> = model
        .topics
        .iter()
        .map(|topic| Listed {
            id: topic.id,
            label: topic.label(),
            terms: topic.terms.clone(),
            seed: topic.seed.clone(),
            posts: counts.get(&topic.id).copied().unwrap_or(0),
        })
        .collect();
    Ok(TopicList {
        embedding: model.embedding.clone(),
        generation: model.generation,
        topics,
        posts_without_topic: unassigned,
        lineage: model.lineage.clone(),
    })
}

/// Refits the topic model on a bounded sample of the stored posts, keeping the ids of the
/// topics that live on and recording the lineage, then assigns every stored post again in
/// one streaming rewrite. Takes the workspace's write lock.
pub async fn refit(
    workspace: &Workspace,
    sample: usize,
) -> Result<waterline_analytics::refit::Refit> {
    let data_dir = workspace.data_dir();
    let _lock = crate::workspace::WriteLock::acquire(&data_dir)?;
    let mut store =
        waterline_store::Store::open(&data_dir).await.context("cannot open the workspace store")?;
    let old = load_model(&data_dir).unwrap_or_default();
    let analytics = waterline_analytics::Analytics::open(&store).await?;
    let texts = waterline_analytics::refit::sample(&analytics, sample.max(1)).await?;
    let table = waterline_enrich::models::embeddings();
    let seeds = Assigner::seeds_of(&workspace.config);
    let options = old.options.clone().unwrap_or_default();
    let (model, lineage, born) =
        waterline_analytics::refit::fit(&old, &texts, table, &seeds, &options);
    // Saved first: a refit killed before its commit leaves posts naming old ids, which the
    // lineage explains; never posts naming ids the saved model lacks.
    save_model(&data_dir, &model)?;
    let rows = waterline_analytics::refit::reassign(&mut store, &model, table)
        .await
        .context("cannot assign the stored posts again")?;
    Ok(waterline_analytics::refit::Refit {
        sample: texts.len(),
        topics_before: old.topics.len(),
        topics_after: model.topics.len(),
        lineage,
        born,
        rows,
    })
}

/// The topics a filter value names: `#12` or `12` (an id), a whole name as the `topic`
/// dimension spells it (`#12 side effects: …`), else every topic whose label contains all
/// the value's words (case and accents ignored). Empty when it names none.
pub fn resolve(names: &[(u32, String)], value: &str) -> Vec<u32> {
    let value = value.trim();
    let id = value.strip_prefix('#').unwrap_or(value);
    if let Ok(id) = id.parse::<u32>() {
        return names.iter().filter(|(known, _)| *known == id).map(|(id, _)| *id).collect();
    }
    if let Some((id, _)) = names.iter().find(|(_, name)| name == value) {
        return vec![*id];
    }
    let words: Vec<String> = waterline_enrich::text::fold(value)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_owned)
        .collect();
    if words.is_empty() {
        return Vec::new();
    }
    names
        .iter()
        .filter(|(_, name)| {
            let folded = waterline_enrich::text::fold(name);
            words.iter().all(|word| folded.contains(word.as_str()))
        })
        .map(|(id, _)| *id)
        .collect()
}

/// The message for a topic filter that names no topic.
pub fn no_match(value: &str) -> String {
    format!(
        "no topic matches `{value}`: name one by id (#12) or by words of its label (`waterline topics list` shows them)"
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_topic_filter_takes_an_id_a_name_or_words_of_the_label() {
        let names = vec![
            (4, "#4 side effects: effets · effets secondaires".to_owned()),
            (9, "#9 disease awareness: blood pressure · high blood".to_owned()),
            (12, "#12 side effects: bad week · genuine question".to_owned()),
        ];
        assert_eq!(resolve(&names, "#9"), [9]);
        assert_eq!(resolve(&names, "12"), [12]);
        assert_eq!(resolve(&names, "#9 disease awareness: blood pressure · high blood"), [9]);
        assert_eq!(resolve(&names, "Side Effects"), [4, 12]);
        assert_eq!(resolve(&names, "effets secondaires"), [4]);
        assert!(resolve(&names, "#99").is_empty());
        assert!(resolve(&names, "marathon").is_empty());
        assert!(resolve(&names, "  ").is_empty());
    }
}
