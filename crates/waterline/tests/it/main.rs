//! Integration tests that drive the real `waterline` binary.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr, clippy::print_stdout)]

mod alerts;
mod bad_input;
mod browser;
mod cli;
mod consistency;
mod draft;
mod enrich;
mod hostile;
mod live;
mod metrics;
mod pv;
mod real_data;
mod reports;
mod resume;
mod server;
mod support;
