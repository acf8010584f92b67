//! Authenticator extensions ([CTAP 2.1 §12 "Defined Extensions"](https://fidoalliance.org/specs/fido-v2.1-ps-20210615/fido-client-to-authenticator-protocol-v2.1-ps-20210615.html#sctn-defined-extensions)):
//! typed inputs (the `extensions` parameter of makeCredential and getAssertion) and outputs
//! (the extensions map at the end of the authenticator data).
//!
//! Inputs and outputs are one struct each for both commands. Where an extension takes a
//! different CBOR type in makeCredential than in getAssertion (`hmac-secret`, `credBlob`), the
//! CBOR type selects the enum variant, so decoding is lossless and needs no command context;
//! whether a variant is allowed for the command at hand is the processing step's business.
//! Extensions this module does not know are kept as raw `(name, value)` pairs.

use crate::cbor::{IntMap, Value};

use super::make_credential::decode;
use super::{fields, StatusCode};

#[cfg(test)]
pub(in crate::ctap2) mod tests;

/// Extension identifiers (§12).
pub mod name {
    /// `credProtect` (§12.1).
    pub const CRED_PROTECT: &str = "credProtect";
    /// `credBlob` (§12.2).
    pub const CRED_BLOB: &str = "credBlob";
    /// `largeBlobKey` (§12.3).
    pub const LARGE_BLOB_KEY: &str = "largeBlobKey";
    /// `minPinLength` (§12.4).
    pub const MIN_PIN_LENGTH: &str = "minPinLength";
    /// `hmac-secret` (§12.5).
    pub const HMAC_SECRET: &str = "hmac-secret";
}

/// Integer keys of the getAssertion `hmac-secret` input map (§12.5).
pub mod hmac_secret_key {
    /// 0x01 `keyAgreement` (COSE_Key, required).
    pub const KEY_AGREEMENT: i64 = 0x01;
    /// 0x02 `saltEnc` (bytes, required).
    pub const SALT_ENC: i64 = 0x02;
    /// 0x03 `saltAuth` (bytes, required).
    pub const SALT_AUTH: i64 = 0x03;
    /// 0x04 `pinUvAuthProtocol` (unsigned, optional; protocol 1 when absent).
    pub const PIN_UV_AUTH_PROTOCOL: i64 = 0x04;
}

/// A credProtect level (§12.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CredProtect {
    /// 0x01 userVerificationOptional: the default, no extra protection.
    UserVerificationOptional,
    /// 0x02 userVerificationOptionalWithCredentialIDList: discoverable only with UV, usable
    /// without UV when the credential ID is supplied.
    UserVerificationOptionalWithCredentialIdList,
    /// 0x03 userVerificationRequired: every use needs UV.
    UserVerificationRequired,
}

impl CredProtect {
    /// The level's wire value (§12.1).
    pub fn to_u64(self) -> u64 {
        match self {
            CredProtect::UserVerificationOptional => 0x01,
            CredProtect::UserVerificationOptionalWithCredentialIdList => 0x02,
            CredProtect::UserVerificationRequired => 0x03,
        }
    }

    /// The level for a wire value (§12.1); `None` outside 1..=3.
    pub fn from_u64(v: u64) -> Option<Self> {
        match v {
            0x01 => Some(CredProtect::UserVerificationOptional),
            0x02 => Some(CredProtect::UserVerificationOptionalWithCredentialIdList),
            0x03 => Some(CredProtect::UserVerificationRequired),
            _ => None,
        }
    }

    /// Decodes a level (§12.1); a value outside 1..=3 is CTAP2_ERR_CBOR_UNEXPECTED_TYPE.
    pub fn from_cbor(value: &Value) -> Result<Self, StatusCode> {
        Self::from_u64(decode::uint(value)?).ok_or(StatusCode::CBOR_UNEXPECTED_TYPE)
    }
}

/// The getAssertion `hmac-secret` input (§12.5).
#[derive(Debug, Clone, PartialEq)]
pub struct HmacSecretGetInput {
    /// 0x01 the platform's key agreement public key, a COSE_Key map kept raw.
    pub key_agreement: Value,
    /// 0x02 the encrypted salt(s).
    pub salt_enc: Vec<u8>,
    /// 0x03 `authenticate(sharedSecret, saltEnc)`.
    pub salt_auth: Vec<u8>,
    /// 0x04 PIN/UV auth protocol version (1 when absent).
    pub pin_uv_auth_protocol: Option<u64>,
}

impl HmacSecretGetInput {
    /// The input as its integer-keyed CBOR map (§12.5).
    pub fn to_cbor(&self) -> Value {
        IntMap::new()
            .insert(hmac_secret_key::KEY_AGREEMENT, self.key_agreement.clone())
            .insert(
                hmac_secret_key::SALT_ENC,
                Value::Bytes(self.salt_enc.clone()),
            )
            .insert(
                hmac_secret_key::SALT_AUTH,
                Value::Bytes(self.salt_auth.clone()),
            )
            .insert_opt(
                hmac_secret_key::PIN_UV_AUTH_PROTOCOL,
                self.pin_uv_auth_protocol,
            )
            .into_value()
    }

    /// Decodes the input map; unknown keys are skipped (§12.5).
    pub fn from_cbor(value: &Value) -> Result<Self, StatusCode> {
        let m = decode::map_ref(value)?;
        Ok(HmacSecretGetInput {
            key_agreement: decode::raw_map(fields::required(m, hmac_secret_key::KEY_AGREEMENT)?)?,
            salt_enc: fields::bytes(fields::required(m, hmac_secret_key::SALT_ENC)?)?,
            salt_auth: fields::bytes(fields::required(m, hmac_secret_key::SALT_AUTH)?)?,
            pin_uv_auth_protocol: fields::optional(
                m,
                hmac_secret_key::PIN_UV_AUTH_PROTOCOL,
                decode::uint,
            )?,
        })
    }
}

/// The `hmac-secret` input (§12.5): a bool in makeCredential, a map in getAssertion.
#[derive(Debug, Clone, PartialEq)]
pub enum HmacSecretInput {
    /// makeCredential: `true` asks for an hmac-secret-capable credential.
    Create(bool),
    /// getAssertion: compute the HMAC output for the encrypted salts.
    Get(HmacSecretGetInput),
}

/// The `credBlob` input (§12.2): bytes in makeCredential, a bool in getAssertion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredBlobInput {
    /// makeCredential: the blob to store with the credential.
    Store(Vec<u8>),
    /// getAssertion: `true` asks for the stored blob.
    Get(bool),
}

/// The `hmac-secret` output (§12.5): a bool from makeCredential, bytes from getAssertion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HmacSecretOutput {
    /// makeCredential: whether the credential supports hmac-secret.
    Created(bool),
    /// getAssertion: the encrypted HMAC output(s).
    Secret(Vec<u8>),
}

/// The `credBlob` output (§12.2): a bool from makeCredential, bytes from getAssertion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredBlobOutput {
    /// makeCredential: whether the blob was stored.
    Stored(bool),
    /// getAssertion: the stored blob (empty when none).
    Blob(Vec<u8>),
}

/// Extension inputs, the `extensions` request parameter of §6.1 (0x06) and §6.2 (0x04).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ExtensionInputs {
    /// `credProtect` (§12.1, makeCredential).
    pub cred_protect: Option<CredProtect>,
    /// `hmac-secret` (§12.5).
    pub hmac_secret: Option<HmacSecretInput>,
    /// `credBlob` (§12.2).
    pub cred_blob: Option<CredBlobInput>,
    /// `minPinLength` (§12.4, makeCredential).
    pub min_pin_length: Option<bool>,
    /// `largeBlobKey` (§12.3): `true` asks for the key in the response.
    pub large_blob_key: Option<bool>,
    /// Other extensions, by name, with their raw inputs. Must not repeat a name above.
    pub unknown: Vec<(String, Value)>,
}

impl ExtensionInputs {
    /// The inputs as the text-keyed CBOR extensions map (§6.1, §6.2).
    pub fn to_cbor(&self) -> Value {
        let mut m = Vec::new();
        let mut push = |k: &str, v: Value| m.push((Value::Text(k.to_owned()), v));
        if let Some(level) = self.cred_protect {
            push(name::CRED_PROTECT, Value::from(level.to_u64()));
        }
        match &self.hmac_secret {
            Some(HmacSecretInput::Create(b)) => push(name::HMAC_SECRET, Value::Bool(*b)),
            Some(HmacSecretInput::Get(input)) => push(name::HMAC_SECRET, input.to_cbor()),
            None => {}
        }
        match &self.cred_blob {
            Some(CredBlobInput::Store(blob)) => push(name::CRED_BLOB, Value::Bytes(blob.clone())),
            Some(CredBlobInput::Get(b)) => push(name::CRED_BLOB, Value::Bool(*b)),
            None => {}
        }
        if let Some(b) = self.min_pin_length {
            push(name::MIN_PIN_LENGTH, Value::Bool(b));
        }
        if let Some(b) = self.large_blob_key {
            push(name::LARGE_BLOB_KEY, Value::Bool(b));
        }
        for (k, v) in &self.unknown {
            push(k, v.clone());
        }
        Value::Map(m)
    }

    /// Decodes the extensions map. A known extension with a CBOR type it never takes is
    /// CTAP2_ERR_CBOR_UNEXPECTED_TYPE; unknown extensions are kept; non-text keys are skipped.
    pub fn from_cbor(value: &Value) -> Result<Self, StatusCode> {
        let m = decode::map_ref(value)?;
        let mut out = ExtensionInputs::default();
        for (k, v) in m {
            let Value::Text(k) = k else { continue };
            match k.as_str() {
                name::CRED_PROTECT => out.cred_protect = Some(CredProtect::from_cbor(v)?),
                name::HMAC_SECRET => {
                    out.hmac_secret = Some(match v {
                        Value::Bool(b) => HmacSecretInput::Create(*b),
                        Value::Map(_) => HmacSecretInput::Get(HmacSecretGetInput::from_cbor(v)?),
                        _ => return Err(StatusCode::CBOR_UNEXPECTED_TYPE),
                    })
                }
                name::CRED_BLOB => {
                    out.cred_blob = Some(match v {
                        Value::Bytes(b) => CredBlobInput::Store(b.clone()),
                        Value::Bool(b) => CredBlobInput::Get(*b),
                        _ => return Err(StatusCode::CBOR_UNEXPECTED_TYPE),
                    })
                }
                name::MIN_PIN_LENGTH => out.min_pin_length = Some(fields::boolean(v)?),
                name::LARGE_BLOB_KEY => out.large_blob_key = Some(fields::boolean(v)?),
                _ => out.unknown.push((k.clone(), v.clone())),
            }
        }
        Ok(out)
    }

    /// The raw input of an extension this module does not model, by name (§12).
    pub fn unknown(&self, name: &str) -> Option<&Value> {
        self.unknown.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// True when no extension is present (§12).
    pub fn is_empty(&self) -> bool {
        *self == ExtensionInputs::default()
    }
}

/// Extension outputs, the CBOR map in the authenticator data's extensions field (§6.1, §6.2,
/// WebAuthn §6.1).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ExtensionOutputs {
    /// `credProtect` (§12.1): the level the credential was created with.
    pub cred_protect: Option<CredProtect>,
    /// `hmac-secret` (§12.5).
    pub hmac_secret: Option<HmacSecretOutput>,
    /// `credBlob` (§12.2).
    pub cred_blob: Option<CredBlobOutput>,
    /// `minPinLength` (§12.4): the current minimum PIN length.
    pub min_pin_length: Option<u64>,
    /// Other extensions, by name, with their raw outputs. Must not repeat a name above.
    pub unknown: Vec<(String, Value)>,
}

impl ExtensionOutputs {
    /// The outputs as the text-keyed CBOR map of the authenticator data (§6.1).
    pub fn to_cbor(&self) -> Value {
        let mut m = Vec::new();
        let mut push = |k: &str, v: Value| m.push((Value::Text(k.to_owned()), v));
        if let Some(level) = self.cred_protect {
            push(name::CRED_PROTECT, Value::from(level.to_u64()));
        }
        match &self.hmac_secret {
            Some(HmacSecretOutput::Created(b)) => push(name::HMAC_SECRET, Value::Bool(*b)),
            Some(HmacSecretOutput::Secret(s)) => push(name::HMAC_SECRET, Value::Bytes(s.clone())),
            None => {}
        }
        match &self.cred_blob {
            Some(CredBlobOutput::Stored(b)) => push(name::CRED_BLOB, Value::Bool(*b)),
            Some(CredBlobOutput::Blob(blob)) => push(name::CRED_BLOB, Value::Bytes(blob.clone())),
            None => {}
        }
        if let Some(n) = self.min_pin_length {
            push(name::MIN_PIN_LENGTH, Value::from(n));
        }
        for (k, v) in &self.unknown {
            push(k, v.clone());
        }
        Value::Map(m)
    }

    /// Decodes the outputs map (§12), on the same terms as [`ExtensionInputs::from_cbor`].
    pub fn from_cbor(value: &Value) -> Result<Self, StatusCode> {
        let m = decode::map_ref(value)?;
        let mut out = ExtensionOutputs::default();
        for (k, v) in m {
            let Value::Text(k) = k else { continue };
            match k.as_str() {
                name::CRED_PROTECT => out.cred_protect = Some(CredProtect::from_cbor(v)?),
                name::HMAC_SECRET => {
                    out.hmac_secret = Some(match v {
                        Value::Bool(b) => HmacSecretOutput::Created(*b),
                        Value::Bytes(s) => HmacSecretOutput::Secret(s.clone()),
                        _ => return Err(StatusCode::CBOR_UNEXPECTED_TYPE),
                    })
                }
                name::CRED_BLOB => {
                    out.cred_blob = Some(match v {
                        Value::Bool(b) => CredBlobOutput::Stored(*b),
                        Value::Bytes(b) => CredBlobOutput::Blob(b.clone()),
                        _ => return Err(StatusCode::CBOR_UNEXPECTED_TYPE),
                    })
                }
                name::MIN_PIN_LENGTH => out.min_pin_length = Some(decode::uint(v)?),
                _ => out.unknown.push((k.clone(), v.clone())),
            }
        }
        Ok(out)
    }

    /// The raw output of an extension this module does not model, by name (§12).
    pub fn unknown(&self, name: &str) -> Option<&Value> {
        self.unknown.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// True when no extension is present (§12).
    pub fn is_empty(&self) -> bool {
        *self == ExtensionOutputs::default()
    }
}
