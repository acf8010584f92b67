//! The WebAuthn relying-party side ([WebAuthn Level 3](https://www.w3.org/TR/webauthn-3/)).
//!
//! * [`client_data`]: `CollectedClientData` (§5.8.1);
//! * [`auth_data`]: authenticator data and attested credential data (§6.1);
//! * [`attestation`]: attestation objects and statement formats (§6.5, §8);
//! * [`policy`]: what a relying party accepts;
//! * [`registration`] and [`authentication`]: the ceremonies of §7.1 and §7.2, step by step;
//! * [`json`]: the browser's JSON forms of a `PublicKeyCredential` (§5.1.8, `toJSON()`).

pub mod attestation;
pub mod auth_data;
pub mod authentication;
pub mod client_data;
pub mod error;
pub mod json;
pub mod models;
pub mod policy;
pub mod registration;

pub use attestation::{AttestationFormat, AttestationType, TrustStore};
pub use auth_data::{Aaguid, AuthenticatorData, CredentialId, Flags};
pub use authentication::{
    verify_authentication, AssertionExpectations, AuthenticationResult, CredentialRecord,
};
pub use client_data::CollectedClientData;
pub use error::{CeremonyError, Failure, Step};
pub use json::{AuthenticationResponseJson, Base64Url, RegistrationResponseJson};
pub use policy::{Policy, SignCountPolicy, UserVerification};
pub use registration::{verify_registration, RegistrationResult};

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    out
}
