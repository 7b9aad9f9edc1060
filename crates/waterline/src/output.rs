//! Printing to the terminal: the only place that writes to standard output and error.

#![allow(clippy::print_stdout, clippy::print_stderr)]

/// Prints a line (or lines) on standard output. A closed pipe (`waterline sql … | head`)
/// ends the process quietly instead of panicking.
pub fn line(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(error) = writeln!(out, "{text}")
        && error.kind() == std::io::ErrorKind::BrokenPipe
    {
        std::process::exit(0);
    }
}

/// Prints a message on standard error.
pub fn error(text: &str) {
    eprintln!("{text}");
}

/// Prints a progress line on standard error (long commands: training runs).
pub fn progress(text: &str) {
    eprintln!("{text}");
}

/// Prints a value as pretty JSON on standard output.
pub fn json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    line(&serde_json::to_string_pretty(value)?);
    Ok(())
}
