//! Verification benchmarks (filled in with the webauthn module).
fn main() {}
