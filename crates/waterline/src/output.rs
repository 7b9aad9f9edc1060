//! Printing to the terminal: the only place that writes to standard output and error.

#![allow(clippy::print_stdout, clippy::print_stderr)]

/// Prints a line (or lines) on standard output.
pub fn line(text: &str) {
    println!("{text}");
}

/// Prints a message on standard error.
pub fn error(text: &str) {
    eprintln!("{text}");
}

/// Prints a value as pretty JSON on standard output.
pub fn json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}
