//! PIN/UV auth protocols One and Two
//! ([CTAP 2.1 §6.5.6](https://fidoalliance.org/specs/fido-v2.1-ps-20210615/fido-client-to-authenticator-protocol-v2.1-ps-20210615.html#pinProto1),
//! [§6.5.7](https://fidoalliance.org/specs/fido-v2.1-ps-20210615/fido-client-to-authenticator-protocol-v2.1-ps-20210615.html#pinProto2)):
//! the ECDH key agreement between platform and authenticator, the KDF that turns the ECDH
//! x-coordinate into a shared secret, AES-256-CBC encryption and HMAC-SHA-256 authentication.
//!
//! Both sides live here: the platform calls [`PinUvAuthProtocol::encapsulate`], the
//! authenticator keeps a [`KeyAgreementKey`] and calls [`KeyAgreementKey::decapsulate`].
//! The key agreement key travels as the COSE_Key `{1: 2, 3: -25, -1: 1, -2: x, -3: y}`
//! ([`EcdhPublicKey`]), which is not a signature key, so it does not go through
//! [`crate::cose::PublicKey`].
//!
//! Shared secrets are plain byte vectors of [`PinUvAuthProtocol::shared_secret_len`] bytes:
//! 32 (protocol One) or 64 (protocol Two: HMAC key, then AES key). Nothing here panics on
//! input; bad lengths and keys are [`PinProtocolError`]s.

use std::fmt;

use aws_lc_rs::cipher::{
    DecryptingKey, DecryptionContext, EncryptingKey, EncryptionContext, UnboundCipherKey, AES_256,
};
use aws_lc_rs::iv::FixedLength;
use aws_lc_rs::{agreement, constant_time, digest, hkdf, hmac, rand};

use crate::cbor::{MapExt as _, Value};
use crate::ctap2::StatusCode;

#[cfg(test)]
mod tests;

/// Length of one P-256 coordinate and of the ECDH output Z (§6.5.6 `ecdh`).
pub const COORDINATE_LEN: usize = 32;
/// AES block length, which every plaintext and ciphertext must be a multiple of (§6.5.6).
pub const AES_BLOCK_LEN: usize = 16;

/// COSE_Key labels and values of the key agreement key (§6.5.6 `getPublicKey`).
mod cose_label {
    pub const KTY: i64 = 1;
    pub const ALG: i64 = 3;
    pub const CRV: i64 = -1;
    pub const X: i64 = -2;
    pub const Y: i64 = -3;
    /// kty EC2.
    pub const KTY_EC2: i64 = 2;
    /// ECDH-ES+HKDF-256, the value the spec prescribes ("not the algorithm actually used").
    pub const ALG_ECDH_ES_HKDF_256: i64 = -25;
    /// ES256, which some platforms send instead; accepted as OpenSK does.
    pub const ALG_ES256: i64 = -7;
    /// crv P-256.
    pub const CRV_P256: i64 = 1;
}

/// HKDF info strings of protocol Two (§6.5.7 `kdf`).
const HMAC_KEY_INFO: &[u8] = b"CTAP2 HMAC key";
const AES_KEY_INFO: &[u8] = b"CTAP2 AES key";

/// What is wrong with a key agreement COSE_Key (§6.5.6 `ecdh` step 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CoseKeyError {
    /// The value is not a CBOR map.
    NotAMap,
    /// A required label is absent.
    Missing(i64),
    /// A label holds the wrong CBOR type.
    WrongType(i64),
    /// kty is not 2 (EC2).
    UnsupportedKeyType,
    /// alg is neither -25 (ECDH-ES+HKDF-256) nor -7.
    UnsupportedAlgorithm,
    /// crv is not 1 (P-256).
    UnsupportedCurve,
    /// x or y is not 32 bytes.
    CoordinateLength(i64),
}

impl fmt::Display for CoseKeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CoseKeyError::NotAMap => f.write_str("it is not a CBOR map"),
            CoseKeyError::Missing(l) => write!(f, "label {l} is missing"),
            CoseKeyError::WrongType(l) => write!(f, "label {l} has the wrong CBOR type"),
            CoseKeyError::UnsupportedKeyType => f.write_str("kty (1) is not 2 (EC2)"),
            CoseKeyError::UnsupportedAlgorithm => {
                f.write_str("alg (3) is not -25 (ECDH-ES+HKDF-256)")
            }
            CoseKeyError::UnsupportedCurve => f.write_str("crv (-1) is not 1 (P-256)"),
            CoseKeyError::CoordinateLength(l) => {
                write!(f, "coordinate {l} is not {COORDINATE_LEN} bytes")
            }
        }
    }
}

/// A PIN/UV auth protocol failure (§6.5.4 "PIN/UV Auth Protocol Abstract Definition").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PinProtocolError {
    /// The protocol number is not 1 or 2.
    #[error("pinUvAuthProtocol {0} is not supported: use 1 or 2 (see getInfo pinUvAuthProtocols)")]
    UnsupportedProtocol(u64),
    /// A key (shared secret) has the wrong length for the protocol.
    #[error("protocol {protocol} needs a {expected}-byte key, got {actual} bytes: pass the shared secret from encapsulate/decapsulate of the same protocol")]
    KeyLength {
        /// The protocol number.
        protocol: u8,
        /// The length the protocol needs.
        expected: usize,
        /// The length given.
        actual: usize,
    },
    /// A plaintext is not a multiple of the AES block length.
    #[error("plaintext of {0} bytes is not a multiple of the 16-byte AES block: pad it first")]
    PlaintextLength(usize),
    /// A ciphertext is too short or not a multiple of the AES block length.
    #[error("ciphertext of {0} bytes is malformed for this protocol (wrong length)")]
    CiphertextLength(usize),
    /// The peer's key agreement COSE_Key is malformed.
    #[error("invalid key agreement COSE_Key: {0}")]
    CoseKey(CoseKeyError),
    /// The peer's point is not on P-256 (or the scalar is out of range).
    #[error("the key agreement key is not a valid P-256 key")]
    InvalidKey,
    /// The PIN is shorter than 4 code points (§6.5.1).
    #[error("the PIN has {code_points} characters; a PIN needs at least 4")]
    PinTooShort {
        /// The PIN's length in Unicode code points.
        code_points: usize,
    },
    /// The PIN is longer than 63 bytes in UTF-8 (§6.5.1).
    #[error("the PIN is {bytes} bytes in UTF-8; a PIN may have at most 63")]
    PinTooLong {
        /// The PIN's length in UTF-8 bytes.
        bytes: usize,
    },
    /// The cryptographic library failed (should not happen).
    #[error("the cryptographic library failed during {0}")]
    Crypto(&'static str),
}

impl PinProtocolError {
    /// The CTAP status an authenticator answers for this error in a request (§6.5.5: a key
    /// agreement key that cannot be decapsulated is CTAP1_ERR_INVALID_PARAMETER).
    pub fn to_status(&self) -> StatusCode {
        match self {
            PinProtocolError::CoseKey(CoseKeyError::NotAMap | CoseKeyError::WrongType(_)) => {
                StatusCode::CBOR_UNEXPECTED_TYPE
            }
            PinProtocolError::CoseKey(CoseKeyError::Missing(_)) => StatusCode::MISSING_PARAMETER,
            PinProtocolError::Crypto(_) => StatusCode::OTHER,
            _ => StatusCode::INVALID_PARAMETER,
        }
    }
}

/// A P-256 public key agreement key, as the COSE_Key of §6.5.6 `getPublicKey`. Always a valid
/// point on the curve.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct EcdhPublicKey {
    x: [u8; COORDINATE_LEN],
    y: [u8; COORDINATE_LEN],
}

impl fmt::Debug for EcdhPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EcdhPublicKey")
            .field("x", &hex::encode(self.x))
            .field("y", &hex::encode(self.y))
            .finish()
    }
}

impl EcdhPublicKey {
    /// The key with affine coordinates `x`, `y`; an error unless the point is on P-256 (§6.5.6 `ecdh`).
    pub fn from_coordinates(
        x: [u8; COORDINATE_LEN],
        y: [u8; COORDINATE_LEN],
    ) -> Result<Self, PinProtocolError> {
        let key = EcdhPublicKey { x, y };
        let sec1 = key.to_sec1_bytes();
        let unparsed = agreement::UnparsedPublicKey::new(&agreement::ECDH_P256, &sec1[..]);
        agreement::ParsedPublicKey::try_from(&unparsed)
            .map_err(|_| PinProtocolError::InvalidKey)?;
        Ok(key)
    }

    /// The key from an uncompressed SEC1 point (`04 || x || y`, 65 bytes) (§6.5.6).
    pub fn from_sec1_bytes(bytes: &[u8]) -> Result<Self, PinProtocolError> {
        match bytes {
            [0x04, rest @ ..] if rest.len() == 2 * COORDINATE_LEN => {
                let (x, y) = rest.split_at(COORDINATE_LEN);
                Self::from_coordinates(to_coordinate(x)?, to_coordinate(y)?)
            }
            _ => Err(PinProtocolError::InvalidKey),
        }
    }

    /// The uncompressed SEC1 point `04 || x || y` (§6.5.6).
    pub fn to_sec1_bytes(&self) -> [u8; 1 + 2 * COORDINATE_LEN] {
        let mut out = [0u8; 1 + 2 * COORDINATE_LEN];
        out[0] = 0x04;
        out[1..1 + COORDINATE_LEN].copy_from_slice(&self.x);
        out[1 + COORDINATE_LEN..].copy_from_slice(&self.y);
        out
    }

    /// The x-coordinate (COSE label -2) (§6.5.6 `getPublicKey`).
    pub fn x(&self) -> &[u8; COORDINATE_LEN] {
        &self.x
    }

    /// The y-coordinate (COSE label -3) (§6.5.6 `getPublicKey`).
    pub fn y(&self) -> &[u8; COORDINATE_LEN] {
        &self.y
    }

    /// The COSE_Key `{1: 2, 3: -25, -1: 1, -2: x, -3: y}` (§6.5.6 `getPublicKey`).
    pub fn to_cose_value(&self) -> Value {
        use cose_label::*;
        Value::Map(vec![
            (Value::from(KTY), Value::from(KTY_EC2)),
            (Value::from(ALG), Value::from(ALG_ECDH_ES_HKDF_256)),
            (Value::from(CRV), Value::from(CRV_P256)),
            (Value::from(X), Value::Bytes(self.x.to_vec())),
            (Value::from(Y), Value::Bytes(self.y.to_vec())),
        ])
    }

    /// Parses the COSE_Key of a key agreement key (§6.5.6 `ecdh` step 1). Unknown labels are
    /// ignored; alg may be -25 or, for interoperability, -7; the point must be on P-256.
    pub fn from_cose_value(value: &Value) -> Result<Self, PinProtocolError> {
        use cose_label::*;
        let Value::Map(m) = value else {
            return Err(PinProtocolError::CoseKey(CoseKeyError::NotAMap));
        };
        let int = |label: i64| -> Result<i128, PinProtocolError> {
            match m.get_int(label) {
                Some(Value::Integer(i)) => Ok(i128::from(*i)),
                Some(_) => Err(PinProtocolError::CoseKey(CoseKeyError::WrongType(label))),
                None => Err(PinProtocolError::CoseKey(CoseKeyError::Missing(label))),
            }
        };
        let coordinate = |label: i64| -> Result<[u8; COORDINATE_LEN], PinProtocolError> {
            match m.get_int(label) {
                Some(Value::Bytes(b)) => <[u8; COORDINATE_LEN]>::try_from(b.as_slice())
                    .map_err(|_| PinProtocolError::CoseKey(CoseKeyError::CoordinateLength(label))),
                Some(_) => Err(PinProtocolError::CoseKey(CoseKeyError::WrongType(label))),
                None => Err(PinProtocolError::CoseKey(CoseKeyError::Missing(label))),
            }
        };
        if int(KTY)? != i128::from(KTY_EC2) {
            return Err(PinProtocolError::CoseKey(CoseKeyError::UnsupportedKeyType));
        }
        let alg = int(ALG)?;
        if alg != i128::from(ALG_ECDH_ES_HKDF_256) && alg != i128::from(ALG_ES256) {
            return Err(PinProtocolError::CoseKey(
                CoseKeyError::UnsupportedAlgorithm,
            ));
        }
        if int(CRV)? != i128::from(CRV_P256) {
            return Err(PinProtocolError::CoseKey(CoseKeyError::UnsupportedCurve));
        }
        Self::from_coordinates(coordinate(X)?, coordinate(Y)?)
    }
}

fn to_coordinate(bytes: &[u8]) -> Result<[u8; COORDINATE_LEN], PinProtocolError> {
    <[u8; COORDINATE_LEN]>::try_from(bytes).map_err(|_| PinProtocolError::InvalidKey)
}

/// A PIN/UV auth protocol (§6.5.4), numbered as in `pinUvAuthProtocol` and getInfo's
/// `pinUvAuthProtocols`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum PinUvAuthProtocol {
    /// PIN/UV Auth Protocol One (1), CTAP 2.0's protocol (§6.5.6).
    One = 1,
    /// PIN/UV Auth Protocol Two (2), added in CTAP 2.1 (§6.5.7).
    Two = 2,
}

impl TryFrom<u64> for PinUvAuthProtocol {
    type Error = PinProtocolError;
    fn try_from(value: u64) -> Result<Self, Self::Error> {
        match value {
            1 => Ok(PinUvAuthProtocol::One),
            2 => Ok(PinUvAuthProtocol::Two),
            other => Err(PinProtocolError::UnsupportedProtocol(other)),
        }
    }
}

impl From<PinUvAuthProtocol> for u64 {
    fn from(p: PinUvAuthProtocol) -> u64 {
        u64::from(p.value())
    }
}

impl fmt::Display for PinUvAuthProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PIN/UV auth protocol {}", self.value())
    }
}

impl PinUvAuthProtocol {
    /// Both protocols, newest first, the order a platform prefers them in (§6.5.4).
    pub const ALL: [PinUvAuthProtocol; 2] = [PinUvAuthProtocol::Two, PinUvAuthProtocol::One];

    /// The protocol number, 1 or 2 (§6.5.5 `pinUvAuthProtocol`).
    pub fn value(self) -> u8 {
        match self {
            PinUvAuthProtocol::One => 1,
            PinUvAuthProtocol::Two => 2,
        }
    }

    /// Length of the shared secret `kdf` returns: 32 (One) or 64 (Two) (§6.5.6/§6.5.7 `kdf`).
    pub fn shared_secret_len(self) -> usize {
        match self {
            PinUvAuthProtocol::One => 32,
            PinUvAuthProtocol::Two => 64,
        }
    }

    /// Length of `authenticate`'s output: 16 (One) or 32 (Two) (§6.5.6/§6.5.7 `authenticate`).
    pub fn auth_param_len(self) -> usize {
        match self {
            PinUvAuthProtocol::One => 16,
            PinUvAuthProtocol::Two => 32,
        }
    }

    /// Bytes `encrypt` adds to the plaintext: 0 (One) or the 16-byte IV (Two) (§6.5.7 `encrypt`).
    pub fn encryption_overhead(self) -> usize {
        match self {
            PinUvAuthProtocol::One => 0,
            PinUvAuthProtocol::Two => AES_BLOCK_LEN,
        }
    }

    /// The shared secret from the ECDH x-coordinate `z`: SHA-256(Z) for One; for Two
    /// HKDF-SHA-256(salt = 32 zero bytes, Z, "CTAP2 HMAC key") || HKDF(.., "CTAP2 AES key")
    /// (§6.5.6/§6.5.7 `kdf`).
    pub fn kdf(self, z: &[u8]) -> Result<Vec<u8>, PinProtocolError> {
        match self {
            PinUvAuthProtocol::One => Ok(digest::digest(&digest::SHA256, z).as_ref().to_vec()),
            PinUvAuthProtocol::Two => {
                let salt = hkdf::Salt::new(hkdf::HKDF_SHA256, &[0u8; 32]);
                let prk = salt.extract(z);
                let mut out = vec![0u8; 64];
                let (hmac_key, aes_key) = out.split_at_mut(32);
                for (info, dest) in [(HMAC_KEY_INFO, hmac_key), (AES_KEY_INFO, aes_key)] {
                    let info = [info];
                    prk.expand(&info, hkdf::HKDF_SHA256)
                        .and_then(|okm| okm.fill(dest))
                        .map_err(|_| PinProtocolError::Crypto("HKDF"))?;
                }
                Ok(out)
            }
        }
    }

    /// Platform side: a fresh key agreement key, its ECDH with `peer` and `kdf`, giving the
    /// platform's public key to send and the shared secret (§6.5.6/§6.5.7 `encapsulate`).
    pub fn encapsulate(
        self,
        peer: &EcdhPublicKey,
    ) -> Result<(EcdhPublicKey, Vec<u8>), PinProtocolError> {
        let ephemeral = KeyAgreementKey::generate(self)?;
        let shared = ephemeral.decapsulate(peer)?;
        Ok((ephemeral.public, shared))
    }

    /// Checks `key`'s length for `encrypt`/`decrypt` and returns the AES key part: all 32
    /// bytes (One) or the last 32 of 64 (Two) (§6.5.7 `encrypt` step 1).
    fn aes_key(self, key: &[u8]) -> Result<&[u8], PinProtocolError> {
        let expected = self.shared_secret_len();
        if key.len() != expected {
            return Err(PinProtocolError::KeyLength {
                protocol: self.value(),
                expected,
                actual: key.len(),
            });
        }
        Ok(&key[expected - 32..])
    }

    /// Encrypts with the shared secret: AES-256-CBC with a zero IV (One), or with a random
    /// IV that is prepended (Two). `plaintext` must be a multiple of 16 bytes
    /// (§6.5.6/§6.5.7 `encrypt`).
    pub fn encrypt(self, key: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, PinProtocolError> {
        match self {
            PinUvAuthProtocol::One => self.encrypt_with_iv(key, [0u8; AES_BLOCK_LEN], plaintext),
            PinUvAuthProtocol::Two => {
                let mut iv = [0u8; AES_BLOCK_LEN];
                rand::fill(&mut iv).map_err(|_| PinProtocolError::Crypto("random IV"))?;
                self.encrypt_with_iv(key, iv, plaintext)
            }
        }
    }

    /// `encrypt` with a given IV (Two) or the zero IV (One, where `iv` must be zero).
    fn encrypt_with_iv(
        self,
        key: &[u8],
        iv: [u8; AES_BLOCK_LEN],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, PinProtocolError> {
        let aes_key = self.aes_key(key)?;
        if !plaintext.len().is_multiple_of(AES_BLOCK_LEN) {
            return Err(PinProtocolError::PlaintextLength(plaintext.len()));
        }
        let mut buf = plaintext.to_vec();
        if !buf.is_empty() {
            let cipher_key = UnboundCipherKey::new(&AES_256, aes_key)
                .and_then(EncryptingKey::cbc)
                .map_err(|_| PinProtocolError::Crypto("AES key setup"))?;
            cipher_key
                .less_safe_encrypt(&mut buf, EncryptionContext::Iv128(FixedLength::from(iv)))
                .map_err(|_| PinProtocolError::Crypto("AES-CBC encryption"))?;
        }
        Ok(match self {
            PinUvAuthProtocol::One => buf,
            PinUvAuthProtocol::Two => [iv.as_slice(), &buf].concat(),
        })
    }

    /// Decrypts with the shared secret; the ciphertext must be a multiple of 16 bytes, and for
    /// Two at least the 16-byte IV (§6.5.6/§6.5.7 `decrypt`).
    pub fn decrypt(self, key: &[u8], ciphertext: &[u8]) -> Result<Vec<u8>, PinProtocolError> {
        let aes_key = self.aes_key(key)?;
        let (iv, body) = match self {
            PinUvAuthProtocol::One => ([0u8; AES_BLOCK_LEN], ciphertext),
            PinUvAuthProtocol::Two => {
                let Some((iv, body)) = ciphertext.split_first_chunk::<AES_BLOCK_LEN>() else {
                    return Err(PinProtocolError::CiphertextLength(ciphertext.len()));
                };
                (*iv, body)
            }
        };
        if body.len() % AES_BLOCK_LEN != 0 {
            return Err(PinProtocolError::CiphertextLength(ciphertext.len()));
        }
        let mut buf = body.to_vec();
        if !buf.is_empty() {
            let cipher_key = UnboundCipherKey::new(&AES_256, aes_key)
                .and_then(DecryptingKey::cbc)
                .map_err(|_| PinProtocolError::Crypto("AES key setup"))?;
            let len = cipher_key
                .decrypt(&mut buf, DecryptionContext::Iv128(FixedLength::from(iv)))
                .map_err(|_| PinProtocolError::Crypto("AES-CBC decryption"))?
                .len();
            buf.truncate(len);
        }
        Ok(buf)
    }

    /// HMAC-SHA-256 of `message`: the first 16 bytes (One), or all 32 with `key` cut to its
    /// first 32 bytes, the HMAC-key half of a shared secret (Two) (§6.5.6/§6.5.7 `authenticate`).
    pub fn authenticate(self, key: &[u8], message: &[u8]) -> Vec<u8> {
        let key = match self {
            PinUvAuthProtocol::One => key,
            PinUvAuthProtocol::Two => &key[..key.len().min(32)],
        };
        let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), message);
        tag.as_ref()[..self.auth_param_len()].to_vec()
    }

    /// True when `signature` equals `authenticate(key, message)`, compared in constant time
    /// (§6.5.6/§6.5.7 `verify`).
    pub fn verify(self, key: &[u8], message: &[u8], signature: &[u8]) -> bool {
        let expected = self.authenticate(key, message);
        constant_time::verify_slices_are_equal(&expected, signature).is_ok()
    }
}

/// The authenticator's key agreement key for one protocol (§6.5.6 `initialize`,
/// `regenerate`, `getPublicKey`, `decapsulate`). Reusable: it lives until `regenerate`.
pub struct KeyAgreementKey {
    protocol: PinUvAuthProtocol,
    private: agreement::PrivateKey,
    public: EcdhPublicKey,
}

impl fmt::Debug for KeyAgreementKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyAgreementKey")
            .field("protocol", &self.protocol)
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

impl KeyAgreementKey {
    /// A fresh random P-256 key agreement key (§6.5.6 `initialize`).
    pub fn generate(protocol: PinUvAuthProtocol) -> Result<Self, PinProtocolError> {
        let private = agreement::PrivateKey::generate(&agreement::ECDH_P256)
            .map_err(|_| PinProtocolError::Crypto("P-256 key generation"))?;
        Self::from_private(protocol, private)
    }

    /// The key with the given 32-byte big-endian private scalar, for reproducible tests and
    /// deterministic software authenticators (§6.5.6 `initialize`).
    pub fn from_private_key_bytes(
        protocol: PinUvAuthProtocol,
        scalar: &[u8],
    ) -> Result<Self, PinProtocolError> {
        let private = agreement::PrivateKey::from_private_key(&agreement::ECDH_P256, scalar)
            .map_err(|_| PinProtocolError::InvalidKey)?;
        Self::from_private(protocol, private)
    }

    fn from_private(
        protocol: PinUvAuthProtocol,
        private: agreement::PrivateKey,
    ) -> Result<Self, PinProtocolError> {
        let public = private
            .compute_public_key()
            .map_err(|_| PinProtocolError::Crypto("P-256 public key"))?;
        let public = EcdhPublicKey::from_sec1_bytes(public.as_ref())?;
        Ok(KeyAgreementKey {
            protocol,
            private,
            public,
        })
    }

    /// The protocol this key serves (§6.5.4).
    pub fn protocol(&self) -> PinUvAuthProtocol {
        self.protocol
    }

    /// The public key (§6.5.6 `getPublicKey`).
    pub fn public_key(&self) -> &EcdhPublicKey {
        &self.public
    }

    /// The public key as the COSE_Key sent in getKeyAgreement's response (§6.5.6 `getPublicKey`).
    pub fn public_cose_key(&self) -> Value {
        self.public.to_cose_value()
    }

    /// Replaces the key with a fresh one, as after a wrong PIN (§6.5.6 `regenerate`).
    pub fn regenerate(&mut self) -> Result<(), PinProtocolError> {
        *self = Self::generate(self.protocol)?;
        Ok(())
    }

    /// The ECDH x-coordinate Z with `peer` (§6.5.6 `ecdh` steps 2-3, before `kdf`).
    fn ecdh(&self, peer: &EcdhPublicKey) -> Result<Vec<u8>, PinProtocolError> {
        let sec1 = peer.to_sec1_bytes();
        agreement::agree(
            &self.private,
            agreement::UnparsedPublicKey::new(&agreement::ECDH_P256, &sec1[..]),
            PinProtocolError::InvalidKey,
            |z| Ok(z.to_vec()),
        )
    }

    /// The shared secret with the platform key `peer`: `kdf(ecdh(peer))` (§6.5.6 `decapsulate`).
    pub fn decapsulate(&self, peer: &EcdhPublicKey) -> Result<Vec<u8>, PinProtocolError> {
        let z = self.ecdh(peer)?;
        self.protocol.kdf(&z)
    }
}
