//! The `waterline` binary.

fn main() {}
