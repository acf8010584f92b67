//! Authenticator data ([WebAuthn L3 §6.1](https://www.w3.org/TR/webauthn-3/#sctn-authenticator-data))
//! and attested credential data (§6.5.1).

use std::fmt;

use crate::cbor::{self, DecodeOptions, Value};
use crate::cose::{CoseError, PublicKey};

/// Authenticator data flags (§6.1, `flags`).
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct Flags(pub u8);

impl Flags {
    /// User Present (bit 0).
    pub const UP: u8 = 0x01;
    /// User Verified (bit 2).
    pub const UV: u8 = 0x04;
    /// Backup Eligibility (bit 3).
    pub const BE: u8 = 0x08;
    /// Backup State (bit 4).
    pub const BS: u8 = 0x10;
    /// Attested credential data included (bit 6).
    pub const AT: u8 = 0x40;
    /// Extension data included (bit 7).
    pub const ED: u8 = 0x80;

    /// User Present.
    pub fn up(self) -> bool {
        self.0 & Self::UP != 0
    }
    /// User Verified.
    pub fn uv(self) -> bool {
        self.0 & Self::UV != 0
    }
    /// Backup Eligibility.
    pub fn be(self) -> bool {
        self.0 & Self::BE != 0
    }
    /// Backup State.
    pub fn bs(self) -> bool {
        self.0 & Self::BS != 0
    }
    /// Attested credential data present.
    pub fn at(self) -> bool {
        self.0 & Self::AT != 0
    }
    /// Extensions present.
    pub fn ed(self) -> bool {
        self.0 & Self::ED != 0
    }
}

impl fmt::Debug for Flags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Flags({self})")
    }
}

impl fmt::Display for Flags {
    /// `UP UV BE BS AT ED`, each present flag by name, or `-` when none.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = [
            (Self::UP, "UP"),
            (Self::UV, "UV"),
            (Self::BE, "BE"),
            (Self::BS, "BS"),
            (Self::AT, "AT"),
            (Self::ED, "ED"),
        ];
        let set: Vec<&str> = names
            .iter()
            .filter(|(bit, _)| self.0 & bit != 0)
            .map(|(_, n)| *n)
            .collect();
        if set.is_empty() {
            f.write_str("-")
        } else {
            f.write_str(&set.join(" "))
        }
    }
}

/// An authenticator model identifier (§6.5.1), shown in the usual UUID form.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Aaguid(pub [u8; 16]);

impl Aaguid {
    /// The all-zero AAGUID that `none` attestation and many platforms report.
    pub const ZERO: Aaguid = Aaguid([0; 16]);

    /// Parses `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (or 32 hex digits).
    pub fn parse(text: &str) -> Option<Aaguid> {
        let hex: String = text.chars().filter(|c| *c != '-').collect();
        let bytes = hex::decode(hex).ok()?;
        bytes.try_into().ok().map(Aaguid)
    }
}

impl fmt::Display for Aaguid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let h = hex::encode(self.0);
        write!(
            f,
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        )
    }
}

impl fmt::Debug for Aaguid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Aaguid({self})")
    }
}

impl serde::Serialize for Aaguid {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> serde::Deserialize<'de> for Aaguid {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Aaguid::parse(&text).ok_or_else(|| serde::de::Error::custom("invalid AAGUID"))
    }
}

/// A credential ID: at most 1023 bytes (§5.1, step 27 of §7.1).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct CredentialId(Vec<u8>);

impl CredentialId {
    /// Longest credential ID allowed.
    pub const MAX_LEN: usize = 1023;

    /// Wraps `bytes` when at most 1023 bytes long.
    pub fn new(bytes: Vec<u8>) -> Option<Self> {
        (bytes.len() <= Self::MAX_LEN).then_some(CredentialId(bytes))
    }
    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for CredentialId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CredentialId({})", hex::encode(&self.0))
    }
}

/// Attested credential data (§6.5.1).
#[derive(Debug, Clone)]
pub struct AttestedCredentialData {
    /// The authenticator model.
    pub aaguid: Aaguid,
    /// The new credential's ID.
    pub credential_id: CredentialId,
    /// The credential public key, parsed and validated.
    pub public_key: PublicKey,
    /// The credential public key exactly as encoded in the authenticator data.
    pub public_key_cose: Vec<u8>,
}

/// Parsed authenticator data. Keeps nothing borrowed: `raw` is what was signed.
#[derive(Debug, Clone)]
pub struct AuthenticatorData {
    /// SHA-256 of the RP ID the authenticator scoped the credential to.
    pub rp_id_hash: [u8; 32],
    /// The flags byte.
    pub flags: Flags,
    /// The signature counter.
    pub sign_count: u32,
    /// Present when the AT flag is set.
    pub attested_credential_data: Option<AttestedCredentialData>,
    /// Authenticator extension outputs (a CBOR map), present when the ED flag is set.
    pub extensions: Option<Value>,
}

/// Why authenticator data could not be parsed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthDataError {
    /// Shorter than the 37 fixed bytes.
    #[error("authenticator data is {0} bytes, shorter than the 37-byte minimum")]
    TooShort(usize),
    /// The AT flag is set but the attested credential data is cut short.
    #[error("attested credential data is truncated at byte {0}")]
    TruncatedAttestedData(usize),
    /// The credential ID is longer than 1023 bytes.
    #[error("credential ID of {0} bytes exceeds the 1023-byte maximum")]
    CredentialIdTooLong(usize),
    /// The credential public key is not a usable COSE key.
    #[error("credential public key is invalid: {0}")]
    PublicKey(#[source] CoseError),
    /// The extensions are not valid CBOR.
    #[error("extension data is not valid CBOR")]
    Extensions(#[source] cbor::DecodeError),
    /// The extensions are CBOR but not a map.
    #[error("extension data is not a CBOR map")]
    ExtensionsNotAMap,
    /// Bytes left over after everything the flags announce.
    #[error("{0} unexpected bytes after the authenticator data (flags do not announce them)")]
    TrailingBytes(usize),
    /// The ED flag is set but no extensions follow.
    #[error("ED flag set but no extension data follows")]
    MissingExtensions,
}

impl AuthenticatorData {
    /// Parses authenticator data (§6.1): 32-byte rpIdHash, flags, 4-byte signCount, then
    /// attested credential data (AT) and extensions (ED) as the flags announce, nothing more.
    pub fn from_bytes(raw: &[u8]) -> Result<Self, AuthDataError> {
        if raw.len() < 37 {
            return Err(AuthDataError::TooShort(raw.len()));
        }
        let mut rp_id_hash = [0u8; 32];
        rp_id_hash.copy_from_slice(&raw[..32]);
        let flags = Flags(raw[32]);
        let sign_count = u32::from_be_bytes([raw[33], raw[34], raw[35], raw[36]]);
        let mut pos = 37;
        let attested_credential_data = if flags.at() {
            let (acd, used) = parse_attested(&raw[pos..], pos)?;
            pos += used;
            Some(acd)
        } else {
            None
        };
        let extensions = if flags.ed() {
            if pos == raw.len() {
                return Err(AuthDataError::MissingExtensions);
            }
            let (value, used) = cbor::decode_prefix(&raw[pos..], DecodeOptions::STRUCTURAL)
                .map_err(|e| {
                    AuthDataError::Extensions(cbor::DecodeError {
                        offset: e.offset + pos,
                        kind: e.kind,
                    })
                })?;
            if !matches!(value, Value::Map(_)) {
                return Err(AuthDataError::ExtensionsNotAMap);
            }
            pos += used;
            Some(value)
        } else {
            None
        };
        if pos != raw.len() {
            return Err(AuthDataError::TrailingBytes(raw.len() - pos));
        }
        Ok(AuthenticatorData {
            rp_id_hash,
            flags,
            sign_count,
            attested_credential_data,
            extensions,
        })
    }
}

impl AuthenticatorData {
    /// Encodes the authenticator data (§6.1). The flags byte is written as stored, so a
    /// caller can produce inconsistent data on purpose (fault injection); `from_bytes` of the
    /// result gives back an equal value whenever AT and ED match what is present.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(37 + 200);
        out.extend_from_slice(&self.rp_id_hash);
        out.push(self.flags.0);
        out.extend_from_slice(&self.sign_count.to_be_bytes());
        if let Some(acd) = &self.attested_credential_data {
            out.extend_from_slice(&acd.aaguid.0);
            let id = acd.credential_id.as_bytes();
            // CredentialId holds at most 1023 bytes, so the length fits in u16.
            out.extend_from_slice(&(id.len() as u16).to_be_bytes());
            out.extend_from_slice(id);
            out.extend_from_slice(&acd.public_key_cose);
        }
        if let Some(ext) = &self.extensions {
            // Decoded extensions never hold tags or floats.
            if let Ok(bytes) = cbor::encode(ext) {
                out.extend_from_slice(&bytes);
            }
        }
        out
    }
}

fn parse_attested(
    rest: &[u8],
    base: usize,
) -> Result<(AttestedCredentialData, usize), AuthDataError> {
    if rest.len() < 18 {
        return Err(AuthDataError::TruncatedAttestedData(base + rest.len()));
    }
    let mut aaguid = [0u8; 16];
    aaguid.copy_from_slice(&rest[..16]);
    let id_len = usize::from(u16::from_be_bytes([rest[16], rest[17]]));
    if id_len > CredentialId::MAX_LEN {
        return Err(AuthDataError::CredentialIdTooLong(id_len));
    }
    let id_end = 18 + id_len;
    if rest.len() < id_end {
        return Err(AuthDataError::TruncatedAttestedData(base + rest.len()));
    }
    let credential_id = CredentialId(rest[18..id_end].to_vec());
    let (key_value, key_len) = cbor::decode_prefix(&rest[id_end..], DecodeOptions::STRUCTURAL)
        .map_err(|e| {
            AuthDataError::PublicKey(CoseError::Cbor(cbor::DecodeError {
                offset: e.offset + base + id_end,
                kind: e.kind,
            }))
        })?;
    let public_key_cose = rest[id_end..id_end + key_len].to_vec();
    let public_key = PublicKey::from_cbor_value(key_value).map_err(AuthDataError::PublicKey)?;
    Ok((
        AttestedCredentialData {
            aaguid: Aaguid(aaguid),
            credential_id,
            public_key,
            public_key_cose,
        },
        id_end + key_len,
    ))
}

#[cfg(test)]
mod tests;
