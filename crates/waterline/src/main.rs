//! The `waterline` binary: parses the command line and runs a command.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = waterline::cli::Cli::parse();
    waterline::telemetry::init(&cli.log);
    // `check-draft` answers with its own exit code: 0 PASS or WARN, 1 BLOCK or CANNOT_ASSESS.
    if let waterline::cli::Command::CheckDraft(args) = &cli.command {
        return match waterline::draft::check_draft(cli.workspace.as_deref(), args) {
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
            ExitCode::from(2)
        }
    }
}
