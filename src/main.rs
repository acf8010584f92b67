//! The `ctapkit` command-line tool.
fn main() {}
