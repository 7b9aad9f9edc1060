//! The application layer: every use case of a workspace, with typed results and typed
//! errors, and no argument parsing, HTTP or printing. The CLI (`waterline`) and the HTTP
//! server (`waterline-server`) are adapters over it, so each use case exists once:
//!
//! - [`import`] (files, the ingest endpoint) and [`live`] (sources, alerting, webhooks);
//! - [`measure`] (queries, baselines, comparisons, milestones, business KPIs);
//! - [`report`] (listening, perception gap, content audit) and [`topics`];
//! - [`pv`] (the adverse-event queue) and [`alerts`];
//! - [`draft`] (the pre-publication check and the reception forecast);
//! - [`access`] (roles, tokens, the audit log) and [`status`];
//! - [`service`]: the workspace as a long-running server serves it ([`backend::Backend`]).
//!
//! SQL over posts lives in `waterline-analytics`; state lives in `waterline-store`.

pub mod access;
pub mod alerts;
pub mod backend;
pub mod draft;
pub mod error;
pub mod import;
pub mod kept;
pub mod limits;
pub mod live;
pub mod measure;
pub mod pv;
pub mod report;
pub mod service;
pub mod status;
pub mod topics;
pub mod webhooks;
pub mod workspace;

pub use error::{AppError, AppResult, ErrorKind};
