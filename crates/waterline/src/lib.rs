//! The waterline command line: wires the crates together.
