//! The `waterline` binary: parses the command line and runs a command.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = waterline::cli::Cli::parse();
    waterline::telemetry::init(&cli.log);
    match waterline::commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            waterline::output::error(&format!("error: {error:#}"));
            ExitCode::from(2)
        }
    }
}
