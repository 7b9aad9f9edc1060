//! The waterline command line: parses flags, calls the use cases of `waterline-app`, and
//! prints. This is the only crate that reads flags or the environment, and the only one
//! that writes to the terminal.

pub mod bench_live;
pub mod cli;
pub mod commands;
pub mod generate;
pub mod nlp;
pub mod output;
pub mod progress;
pub mod telemetry;
