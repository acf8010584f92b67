//! Attestation objects (§6.5) and the statement formats of §8: `none`, `packed`, `fido-u2f`,
//! `apple`, `android-key` and `tpm`, plus x5c chain validation against a [`TrustStore`].

use std::fmt;

use crate::cbor::{self, DecodeOptions, MapExt as _, Value};
use crate::cose::CoseAlgorithm;

use super::auth_data::{AttestedCredentialData, AuthDataError, AuthenticatorData};

mod android_key;
mod apple;
pub mod cert;
mod fido_u2f;
mod none;
mod packed;
mod tpm;

pub use cert::{TrustError, TrustStore};

#[cfg(test)]
mod tests;

/// An attestation statement format identifier (§8, IANA "WebAuthn Attestation Statement
/// Format Identifiers").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AttestationFormat {
    /// `none` (§8.7).
    None,
    /// `packed` (§8.2).
    Packed,
    /// `fido-u2f` (§8.6).
    FidoU2f,
    /// `apple` (§8.8).
    Apple,
    /// `android-key` (§8.4).
    AndroidKey,
    /// `tpm` (§8.3).
    Tpm,
}

impl AttestationFormat {
    /// Every format ctapkit verifies.
    pub const ALL: [AttestationFormat; 6] = [
        AttestationFormat::None,
        AttestationFormat::Packed,
        AttestationFormat::FidoU2f,
        AttestationFormat::Apple,
        AttestationFormat::AndroidKey,
        AttestationFormat::Tpm,
    ];

    /// The `fmt` string.
    pub fn as_str(self) -> &'static str {
        match self {
            AttestationFormat::None => "none",
            AttestationFormat::Packed => "packed",
            AttestationFormat::FidoU2f => "fido-u2f",
            AttestationFormat::Apple => "apple",
            AttestationFormat::AndroidKey => "android-key",
            AttestationFormat::Tpm => "tpm",
        }
    }

    /// The format for a `fmt` string, if ctapkit verifies it.
    pub fn from_fmt(fmt: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == fmt)
    }
}

impl fmt::Display for AttestationFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for AttestationFormat {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Attestation types (§6.5.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AttestationType {
    /// No attestation information.
    None,
    /// Signed by the credential key itself.
    #[serde(rename = "self")]
    SelfAttestation,
    /// Signed by an attestation key with a certificate (Basic or AttCA: indistinguishable).
    Basic,
    /// Attestation CA (TPM AIK certificates).
    AttCa,
    /// Anonymization CA (Apple).
    AnonCa,
}

/// A decoded attestation object: `{fmt, attStmt, authData}`.
#[derive(Debug, Clone)]
pub struct AttestationObject {
    /// The format identifier, as sent.
    pub fmt: String,
    /// The statement map.
    pub att_stmt: Vec<(Value, Value)>,
    /// The raw authenticator data (what the statement signs).
    pub auth_data_raw: Vec<u8>,
    /// The parsed authenticator data.
    pub auth_data: AuthenticatorData,
}

/// Why an attestation object could not be decoded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AttestationObjectError {
    /// Not valid CBOR.
    #[error("attestation object is not valid CBOR")]
    Cbor(#[source] cbor::DecodeError),
    /// A member is missing or has the wrong type.
    #[error("attestation object lacks a valid {0:?} member")]
    Member(&'static str),
    /// The authenticator data inside is invalid.
    #[error("authenticator data inside the attestation object is invalid")]
    AuthData(#[source] AuthDataError),
}

impl AttestationObject {
    /// Decodes the CBOR attestation object (§6.5.4) and the authenticator data inside.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, AttestationObjectError> {
        let value =
            cbor::decode(bytes, DecodeOptions::STRUCTURAL).map_err(AttestationObjectError::Cbor)?;
        let Value::Map(map) = value else {
            return Err(AttestationObjectError::Member("attestation object map"));
        };
        let fmt = match map.get_text("fmt") {
            Some(Value::Text(t)) => t.clone(),
            _ => return Err(AttestationObjectError::Member("fmt")),
        };
        let att_stmt = match map.get_text("attStmt") {
            Some(Value::Map(m)) => m.clone(),
            _ => return Err(AttestationObjectError::Member("attStmt")),
        };
        let auth_data_raw = match map.get_text("authData") {
            Some(Value::Bytes(b)) => b.clone(),
            _ => return Err(AttestationObjectError::Member("authData")),
        };
        let auth_data = AuthenticatorData::from_bytes(&auth_data_raw)
            .map_err(AttestationObjectError::AuthData)?;
        Ok(AttestationObject {
            fmt,
            att_stmt,
            auth_data_raw,
            auth_data,
        })
    }
}

/// What a statement verification procedure reads.
#[derive(Debug, Clone, Copy)]
pub struct StatementInput<'a> {
    /// The attStmt map.
    pub att_stmt: &'a [(Value, Value)],
    /// The parsed authenticator data.
    pub auth_data: &'a AuthenticatorData,
    /// The authenticator data bytes.
    pub auth_data_raw: &'a [u8],
    /// SHA-256 of clientDataJSON.
    pub client_data_hash: &'a [u8; 32],
    /// The attested credential (AT must be set for registration).
    pub credential: &'a AttestedCredentialData,
}

impl StatementInput<'_> {
    /// `authenticatorData || clientDataHash`, what most formats sign.
    pub fn signed_data(&self) -> Vec<u8> {
        [self.auth_data_raw, self.client_data_hash.as_slice()].concat()
    }
}

/// A statement that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedStatement {
    /// The format.
    pub format: AttestationFormat,
    /// The attestation type the procedure established.
    pub kind: AttestationType,
    /// The attestation trust path (DER certificates, leaf first); empty for self and none.
    pub trust_path: Vec<Vec<u8>>,
}

/// Why an attestation statement does not verify.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AttestationError {
    /// A required attStmt member is absent.
    #[error("attStmt lacks {0:?}")]
    MissingField(&'static str),
    /// An attStmt member has the wrong CBOR type.
    #[error("attStmt member {0:?} has the wrong type")]
    WrongFieldType(&'static str),
    /// attStmt is not as the format requires (e.g. `none` with members).
    #[error("attStmt is malformed: {0}")]
    Malformed(String),
    /// attStmt.alg names an algorithm ctapkit does not verify.
    #[error("attestation algorithm {0} is not supported")]
    UnsupportedAlgorithm(i64),
    /// Self attestation with an alg other than the credential's.
    #[error("self attestation alg {stmt} does not match the credential key's {key}")]
    AlgorithmMismatch {
        /// attStmt.alg.
        stmt: CoseAlgorithm,
        /// The credential key's alg.
        key: CoseAlgorithm,
    },
    /// The attestation signature does not verify.
    #[error("attestation signature does not verify")]
    BadSignature,
    /// A certificate could not be parsed.
    #[error("attestation certificate {index} cannot be parsed: {reason}")]
    Certificate {
        /// Index in x5c.
        index: usize,
        /// The parser's complaint.
        reason: String,
    },
    /// A certificate violates the format's requirements.
    #[error("attestation certificate does not meet the {format} requirements: {reason}")]
    CertificateRequirement {
        /// The format whose rules apply.
        format: &'static str,
        /// The violated rule.
        reason: String,
    },
    /// The certificate's AAGUID extension differs from authData's.
    #[error("AAGUID in the attestation certificate does not match the authenticator data")]
    AaguidMismatch,
    /// The credential key is not the key the statement attests.
    #[error("the attested public key does not match the credential public key")]
    PublicKeyMismatch,
    /// A nonce or challenge inside the statement does not match.
    #[error("attestation nonce does not match authenticatorData || clientDataHash")]
    NonceMismatch,
    /// A TPM structure is malformed or inconsistent.
    #[error("TPM attestation is invalid: {0}")]
    Tpm(String),
    /// The Android key attestation extension is malformed or inconsistent.
    #[error("Android key attestation is invalid: {0}")]
    AndroidKey(String),
}

/// Runs the verification procedure of `format` (§7.1 step 24).
pub fn verify_statement(
    format: AttestationFormat,
    input: &StatementInput<'_>,
) -> Result<VerifiedStatement, AttestationError> {
    match format {
        AttestationFormat::None => none::verify(input),
        AttestationFormat::Packed => packed::verify(input),
        AttestationFormat::FidoU2f => fido_u2f::verify(input),
        AttestationFormat::Apple => apple::verify(input),
        AttestationFormat::AndroidKey => android_key::verify(input),
        AttestationFormat::Tpm => tpm::verify(input),
    }
}

/// Reads `alg` (an integer) from attStmt.
fn stmt_alg(att_stmt: &[(Value, Value)]) -> Result<CoseAlgorithm, AttestationError> {
    match att_stmt.get_text("alg") {
        Some(Value::Integer(i)) => i64::try_from(*i)
            .map(CoseAlgorithm::from_i64)
            .map_err(|_| AttestationError::WrongFieldType("alg")),
        Some(_) => Err(AttestationError::WrongFieldType("alg")),
        None => Err(AttestationError::MissingField("alg")),
    }
}

/// Reads a byte-string member from attStmt.
fn stmt_bytes<'a>(
    att_stmt: &'a [(Value, Value)],
    name: &'static str,
) -> Result<&'a [u8], AttestationError> {
    match att_stmt.get_text(name) {
        Some(Value::Bytes(b)) => Ok(b),
        Some(_) => Err(AttestationError::WrongFieldType(name)),
        None => Err(AttestationError::MissingField(name)),
    }
}

/// Reads `x5c` (a non-empty array of DER certificates), if present.
fn stmt_x5c(att_stmt: &[(Value, Value)]) -> Result<Option<Vec<Vec<u8>>>, AttestationError> {
    match att_stmt.get_text("x5c") {
        None => Ok(None),
        Some(Value::Array(items)) if !items.is_empty() => items
            .iter()
            .map(|v| match v {
                Value::Bytes(b) => Ok(b.clone()),
                _ => Err(AttestationError::WrongFieldType("x5c")),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(AttestationError::WrongFieldType("x5c")),
    }
}
