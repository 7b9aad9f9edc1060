//! The data model: posts, records, provenance, import accounting and workspace configuration.
//!
//! Plain data with no I/O. Every other crate speaks these types; engine types (Arrow,
//! DataFusion) never appear here.

pub mod alerts;
pub mod annotation;
pub mod config;
pub mod post;
pub mod pv;
pub mod record;
pub mod report;
pub mod sources;

pub use annotation::{Annotations, Need, Sentiment};
pub use config::{Config, ConfigError, Inbound};
pub use post::{Counts, Post, Side, platform, post_key};
pub use record::{Account, EngagementEvent, EngagementKind, Located, Position, Record, Rejected};
pub use report::ImportReport;
