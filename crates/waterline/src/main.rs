//! The `waterline` binary: parses the command line and runs a command.

use std::process::ExitCode;

use clap::Parser;

/// mimalloc rather than the system allocator: under a long live run (many threads, batches
/// allocated on one and freed on another) glibc's per-thread arenas kept freed memory and
/// the process grew for as long as it ran (ADR 009).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = waterline::cli::Cli::parse();
    waterline::telemetry::init(&cli.log);
    // `check-draft` answers with its own exit code: 0 PASS or WARN, 1 BLOCK or CANNOT_ASSESS.
    if let waterline::cli::Command::CheckDraft(args) = &cli.command {
        return match waterline::commands::draft::check_draft(cli.workspace.as_deref(), args) {
            Ok(code) => ExitCode::from(code),
            Err(error) => {
                waterline::output::error(&format!("error: {error:#}"));
                ExitCode::from(2)
            }
        };
    }
    match waterline::commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            waterline::output::error(&format!("error: {error:#}"));
            // A check that ran and found something exits 1; an error that stopped a
            // command, 2.
            if error.downcast_ref::<waterline::commands::AuditAltered>().is_some() {
                ExitCode::from(1)
            } else {
                ExitCode::from(2)
            }
        }
    }
}
