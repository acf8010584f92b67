#![doc = include_str!("../README.md")]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod authenticator;
pub mod cbor;
pub mod cose;
pub mod ctap1;
pub mod ctap2;
pub mod ctaphid;
pub mod enroll;
pub mod enrollment;
pub mod platform;
pub mod site;
pub mod transport;
pub mod webauthn;
