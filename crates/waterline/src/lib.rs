//! The waterline command line: reads configuration and flags, and wires the crates
//! together (ingest → enrich → store → analytics → server). This is the only crate that
//! reads configuration files, the environment or flags.

pub mod alerts;
pub mod bench_live;
pub mod cli;
pub mod commands;
pub mod draft;
pub mod generate;
pub mod import;
pub mod live;
pub mod measure;
pub mod nlp;
pub mod output;
pub mod pv;
pub mod report;
pub mod serve;
pub mod telemetry;
pub mod topics;
pub mod webhooks;
pub mod workspace;
