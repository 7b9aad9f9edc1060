//! Enrichment: per-post annotations computed between import and store.
//!
//! An [`Enricher`] adds one kind of annotation. Enrichers are CPU-only, built once, and
//! cannot fail on a post (a post they cannot handle gets a recorded skip reason). The
//! [`Chain`] runs them in parallel batches with rayon. This first chain derives the side
//! of each post and fills author details from known accounts; language, sentiment, needs,
//! entities and near-duplicates join it as further enrichers.

pub mod accounts;
pub mod side;

use rayon::prelude::*;
use waterline_model::Post;

/// Adds one kind of annotation to posts.
pub trait Enricher: Send + Sync {
    /// Stable snake_case name, used in configuration, metrics and stored columns.
    fn name(&self) -> &'static str;
    /// Version of the annotation; a change means stored posts need re-enrichment.
    fn version(&self) -> u32;
    /// Annotates one post. Never fails.
    fn enrich(&self, post: &mut Post);
}

/// Enrichers run in order over batches of posts.
#[derive(Default)]
pub struct Chain {
    enrichers: Vec<Box<dyn Enricher>>,
}

impl Chain {
    /// An empty chain.
    pub fn new() -> Chain {
        Chain::default()
    }

    /// Appends an enricher.
    #[must_use]
    pub fn with(mut self, enricher: Box<dyn Enricher>) -> Chain {
        self.enrichers.push(enricher);
        self
    }

    /// The enrichers' names and versions.
    pub fn describe(&self) -> Vec<(&'static str, u32)> {
        self.enrichers.iter().map(|enricher| (enricher.name(), enricher.version())).collect()
    }

    /// Runs every enricher over every post, in parallel over posts.
    pub fn run<'a>(&self, posts: impl IntoParallelIterator<Item = &'a mut Post>) {
        posts.into_par_iter().for_each(|post| {
            for enricher in &self.enrichers {
                enricher.enrich(post);
            }
        });
    }
}
