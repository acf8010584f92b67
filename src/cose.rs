//! COSE public keys ([RFC 9052 §7](https://www.rfc-editor.org/rfc/rfc9052#section-7),
//! [RFC 9053](https://www.rfc-editor.org/rfc/rfc9053)) as WebAuthn credentials carry them.
//!
//! [`PublicKey::from_cose_bytes`] parses a `COSE_Key` with `coset` (after a strict
//! [`crate::cbor`] decode) into a typed, validated key: the algorithm matches the key type and
//! curve, coordinates have the right length, EC points lie on their curve (checked with the
//! RustCrypto curve crates), RSA moduli have at least 2048 bits. Unknown algorithms are a
//! distinct [`CoseError::UnsupportedAlgorithm`], not a parse failure. A parsed key is
//! pre-loaded into the signature backend (`aws-lc-rs`), so [`PublicKey::verify`] does no
//! parsing.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use coset::iana::{self, EnumI64 as _};
use coset::{
    AsCborValue as _, CoseKey, KeyType, Label, RegisteredLabel, RegisteredLabelWithPrivate,
};

use crate::cbor::{self, DecodeOptions, Value};

#[cfg(test)]
mod tests;

/// A COSE algorithm identifier ([IANA COSE Algorithms](https://www.iana.org/assignments/cose/cose.xhtml#algorithms)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CoseAlgorithm {
    /// ECDSA with SHA-256 (-7), on P-256 in WebAuthn.
    Es256,
    /// ECDSA with SHA-384 (-35), on P-384.
    Es384,
    /// ECDSA with SHA-512 (-36), on P-521.
    Es512,
    /// EdDSA (-8), Ed25519 in WebAuthn.
    EdDsa,
    /// Ed25519, fully specified (-19).
    Ed25519,
    /// RSASSA-PKCS1-v1_5 with SHA-256 (-257).
    Rs256,
    /// RSASSA-PSS with SHA-256 (-37).
    Ps256,
    /// Any other identifier, kept so that it can be reported.
    Other(i64),
}

impl CoseAlgorithm {
    /// The algorithm for a COSE identifier.
    pub fn from_i64(id: i64) -> Self {
        match id {
            -7 => CoseAlgorithm::Es256,
            -35 => CoseAlgorithm::Es384,
            -36 => CoseAlgorithm::Es512,
            -8 => CoseAlgorithm::EdDsa,
            -19 => CoseAlgorithm::Ed25519,
            -257 => CoseAlgorithm::Rs256,
            -37 => CoseAlgorithm::Ps256,
            other => CoseAlgorithm::Other(other),
        }
    }

    /// The COSE identifier.
    pub fn to_i64(self) -> i64 {
        match self {
            CoseAlgorithm::Es256 => -7,
            CoseAlgorithm::Es384 => -35,
            CoseAlgorithm::Es512 => -36,
            CoseAlgorithm::EdDsa => -8,
            CoseAlgorithm::Ed25519 => -19,
            CoseAlgorithm::Rs256 => -257,
            CoseAlgorithm::Ps256 => -37,
            CoseAlgorithm::Other(id) => id,
        }
    }

    /// The JOSE/COSE name ("ES256", "EdDSA", ...).
    pub fn name(self) -> String {
        match self {
            CoseAlgorithm::Es256 => "ES256".into(),
            CoseAlgorithm::Es384 => "ES384".into(),
            CoseAlgorithm::Es512 => "ES512".into(),
            CoseAlgorithm::EdDsa => "EdDSA".into(),
            CoseAlgorithm::Ed25519 => "Ed25519".into(),
            CoseAlgorithm::Rs256 => "RS256".into(),
            CoseAlgorithm::Ps256 => "PS256".into(),
            CoseAlgorithm::Other(id) => format!("COSE algorithm {id}"),
        }
    }

    /// Whether ctapkit can verify signatures of this algorithm.
    pub fn is_supported(self) -> bool {
        !matches!(self, CoseAlgorithm::Other(_))
    }
}

impl fmt::Display for CoseAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

impl serde::Serialize for CoseAlgorithm {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(self.to_i64())
    }
}

impl<'de> serde::Deserialize<'de> for CoseAlgorithm {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        i64::deserialize(d).map(CoseAlgorithm::from_i64)
    }
}

/// An elliptic curve of an EC2 key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EcCurve {
    /// NIST P-256 (COSE crv 1).
    P256,
    /// NIST P-384 (COSE crv 2).
    P384,
    /// NIST P-521 (COSE crv 3).
    P521,
}

impl EcCurve {
    /// Length in bytes of one coordinate.
    pub fn coordinate_len(self) -> usize {
        match self {
            EcCurve::P256 => 32,
            EcCurve::P384 => 48,
            EcCurve::P521 => 66,
        }
    }
    /// The JOSE curve name.
    pub fn name(self) -> &'static str {
        match self {
            EcCurve::P256 => "P-256",
            EcCurve::P384 => "P-384",
            EcCurve::P521 => "P-521",
        }
    }
    fn cose_id(self) -> i64 {
        match self {
            EcCurve::P256 => 1,
            EcCurve::P384 => 2,
            EcCurve::P521 => 3,
        }
    }
}

/// Why a COSE key was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CoseError {
    /// The bytes are not valid CBOR.
    #[error("COSE key is not valid CBOR")]
    Cbor(#[source] cbor::DecodeError),
    /// The CBOR is not a COSE_Key structure.
    #[error("not a COSE_Key structure: {0:?}")]
    Structure(coset::CoseError),
    /// A required parameter is absent.
    #[error("COSE key lacks the {0} parameter")]
    MissingParameter(&'static str),
    /// A parameter has the wrong CBOR type.
    #[error("COSE key parameter {0} has the wrong type")]
    WrongParameterType(&'static str),
    /// The algorithm is not one ctapkit verifies (a valid key, just not supported).
    #[error("unsupported COSE algorithm {0}")]
    UnsupportedAlgorithm(i64),
    /// The key type is not EC2, OKP or RSA.
    #[error("unsupported COSE key type {0}")]
    UnsupportedKeyType(String),
    /// The key type does not fit the algorithm.
    #[error("key type {kty} cannot be used with {alg}")]
    KeyTypeMismatch {
        /// The algorithm.
        alg: CoseAlgorithm,
        /// The key type.
        kty: String,
    },
    /// The curve does not fit the algorithm.
    #[error("curve {crv} cannot be used with {alg}")]
    CurveMismatch {
        /// The algorithm.
        alg: CoseAlgorithm,
        /// The COSE curve identifier.
        crv: i64,
    },
    /// A coordinate or key has the wrong length.
    #[error("{param} must be {expected} bytes, found {actual}")]
    WrongLength {
        /// The parameter.
        param: &'static str,
        /// The required length.
        expected: usize,
        /// The length found.
        actual: usize,
    },
    /// A compressed EC point (y given as a sign bit), which WebAuthn does not use.
    #[error("compressed EC points are not accepted in WebAuthn credential keys")]
    CompressedPoint,
    /// The EC point is not on the curve.
    #[error("the EC point is not on curve {0}")]
    PointNotOnCurve(&'static str),
    /// The Ed25519 public key is not a valid curve point.
    #[error("the Ed25519 public key is not a valid point")]
    InvalidEd25519Point,
    /// The RSA modulus is shorter than 2048 bits.
    #[error("RSA modulus of {bits} bits is shorter than the 2048 bits required")]
    RsaModulusTooShort {
        /// The modulus size found.
        bits: usize,
    },
    /// The RSA public exponent is not usable.
    #[error("RSA public exponent is invalid")]
    InvalidRsaExponent,
    /// The signature backend refused the key.
    #[error("signature backend rejected the key: {0}")]
    Rejected(String),
}

/// A signature that does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{alg} signature does not verify")]
pub struct SignatureError {
    /// The algorithm that was used.
    pub alg: CoseAlgorithm,
}

/// The key material of a [`PublicKey`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyMaterial {
    /// An EC2 key (uncompressed point).
    Ec2 {
        /// The curve.
        curve: EcCurve,
        /// x coordinate, big-endian, full length.
        x: Vec<u8>,
        /// y coordinate, big-endian, full length.
        y: Vec<u8>,
    },
    /// An Ed25519 OKP key.
    Ed25519([u8; 32]),
    /// An RSA key.
    Rsa {
        /// Modulus, big-endian, without leading zeros.
        n: Vec<u8>,
        /// Public exponent, big-endian, without leading zeros.
        e: Vec<u8>,
    },
}

/// A validated public key with the one algorithm it verifies.
#[derive(Clone)]
pub struct PublicKey {
    alg: CoseAlgorithm,
    material: KeyMaterial,
    verifier: aws_lc_rs::signature::ParsedPublicKey,
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey")
            .field("alg", &self.alg)
            .field("material", &self.material)
            .finish()
    }
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.alg == other.alg && self.material == other.material
    }
}

const KTY_OKP: i64 = 1;
const KTY_EC2: i64 = 2;
const KTY_RSA: i64 = 3;
const CRV_ED25519: i64 = 6;

impl PublicKey {
    /// Parses a COSE_Key from its CBOR encoding (exactly one item).
    pub fn from_cose_bytes(bytes: &[u8]) -> Result<Self, CoseError> {
        let value = cbor::decode(bytes, DecodeOptions::STRUCTURAL).map_err(CoseError::Cbor)?;
        Self::from_cbor_value(value)
    }

    /// Parses a COSE_Key from a decoded CBOR value.
    pub fn from_cbor_value(value: Value) -> Result<Self, CoseError> {
        let key = CoseKey::from_cbor_value(value).map_err(CoseError::Structure)?;
        Self::from_cose_key(&key)
    }

    /// Builds a typed key from a `coset` key, checking every constraint.
    pub fn from_cose_key(key: &CoseKey) -> Result<Self, CoseError> {
        let alg = match &key.alg {
            Some(RegisteredLabelWithPrivate::Assigned(a)) => CoseAlgorithm::from_i64(a.to_i64()),
            Some(RegisteredLabelWithPrivate::PrivateUse(a)) => CoseAlgorithm::from_i64(*a),
            Some(RegisteredLabelWithPrivate::Text(_)) => {
                return Err(CoseError::WrongParameterType("alg"))
            }
            None => return Err(CoseError::MissingParameter("alg")),
        };
        let kty = match &key.kty {
            KeyType::Assigned(k) => k.to_i64(),
            RegisteredLabel::Text(t) => return Err(CoseError::UnsupportedKeyType(t.clone())),
        };
        if let CoseAlgorithm::Other(id) = alg {
            return Err(CoseError::UnsupportedAlgorithm(id));
        }
        let param = |label: i64| {
            key.params
                .iter()
                .find(|(l, _)| *l == Label::Int(label))
                .map(|(_, v)| v)
        };
        let bytes_param = |label: i64, name: &'static str| -> Result<&[u8], CoseError> {
            match param(label) {
                Some(Value::Bytes(b)) => Ok(b.as_slice()),
                Some(_) => Err(CoseError::WrongParameterType(name)),
                None => Err(CoseError::MissingParameter(name)),
            }
        };
        let kty_name = || kty_name(kty);
        match alg {
            CoseAlgorithm::Es256 | CoseAlgorithm::Es384 | CoseAlgorithm::Es512 => {
                if kty != KTY_EC2 {
                    return Err(CoseError::KeyTypeMismatch {
                        alg,
                        kty: kty_name(),
                    });
                }
                let crv = match param(-1) {
                    Some(Value::Integer(i)) => {
                        i64::try_from(*i).map_err(|_| CoseError::WrongParameterType("crv"))?
                    }
                    Some(_) => return Err(CoseError::WrongParameterType("crv")),
                    None => return Err(CoseError::MissingParameter("crv")),
                };
                let curve = match (alg, crv) {
                    (CoseAlgorithm::Es256, 1) => EcCurve::P256,
                    (CoseAlgorithm::Es384, 2) => EcCurve::P384,
                    (CoseAlgorithm::Es512, 3) => EcCurve::P521,
                    _ => return Err(CoseError::CurveMismatch { alg, crv }),
                };
                let x = bytes_param(-2, "x")?;
                let y = match param(-3) {
                    Some(Value::Bytes(b)) => b.as_slice(),
                    Some(Value::Bool(_)) => return Err(CoseError::CompressedPoint),
                    Some(_) => return Err(CoseError::WrongParameterType("y")),
                    None => return Err(CoseError::MissingParameter("y")),
                };
                Self::from_ec_coordinates(alg, curve, x, y)
            }
            CoseAlgorithm::EdDsa | CoseAlgorithm::Ed25519 => {
                if kty != KTY_OKP {
                    return Err(CoseError::KeyTypeMismatch {
                        alg,
                        kty: kty_name(),
                    });
                }
                match param(-1) {
                    Some(Value::Integer(i)) if i128::from(*i) == i128::from(CRV_ED25519) => {}
                    Some(Value::Integer(i)) => {
                        return Err(CoseError::CurveMismatch {
                            alg,
                            crv: i64::try_from(*i).unwrap_or(i64::MIN),
                        })
                    }
                    Some(_) => return Err(CoseError::WrongParameterType("crv")),
                    None => return Err(CoseError::MissingParameter("crv")),
                }
                Self::from_ed25519(alg, bytes_param(-2, "x")?)
            }
            CoseAlgorithm::Rs256 | CoseAlgorithm::Ps256 => {
                if kty != KTY_RSA {
                    return Err(CoseError::KeyTypeMismatch {
                        alg,
                        kty: kty_name(),
                    });
                }
                Self::from_rsa_components(alg, bytes_param(-1, "n")?, bytes_param(-2, "e")?)
            }
            CoseAlgorithm::Other(id) => Err(CoseError::UnsupportedAlgorithm(id)),
        }
    }

    /// An ECDSA key from its affine coordinates.
    pub fn from_ec_coordinates(
        alg: CoseAlgorithm,
        curve: EcCurve,
        x: &[u8],
        y: &[u8],
    ) -> Result<Self, CoseError> {
        let len = curve.coordinate_len();
        for (param, c) in [("x", x), ("y", y)] {
            if c.len() != len {
                return Err(CoseError::WrongLength {
                    param,
                    expected: len,
                    actual: c.len(),
                });
            }
        }
        let mut sec1 = Vec::with_capacity(1 + 2 * len);
        sec1.push(0x04);
        sec1.extend_from_slice(x);
        sec1.extend_from_slice(y);
        Self::from_sec1_uncompressed(alg, curve, &sec1)
    }

    /// An ECDSA key from an uncompressed SEC1 point (`04 || x || y`).
    pub fn from_sec1_uncompressed(
        alg: CoseAlgorithm,
        curve: EcCurve,
        sec1: &[u8],
    ) -> Result<Self, CoseError> {
        use aws_lc_rs::signature as sig;
        let len = curve.coordinate_len();
        if sec1.first() != Some(&0x04) {
            return Err(CoseError::CompressedPoint);
        }
        if sec1.len() != 1 + 2 * len {
            return Err(CoseError::WrongLength {
                param: "EC point",
                expected: 1 + 2 * len,
                actual: sec1.len(),
            });
        }
        let on_curve = match curve {
            EcCurve::P256 => p256::PublicKey::from_sec1_bytes(sec1).is_ok(),
            EcCurve::P384 => p384::PublicKey::from_sec1_bytes(sec1).is_ok(),
            // No RustCrypto P-521 crate in the tree: aws-lc validates the point below.
            EcCurve::P521 => true,
        };
        if !on_curve {
            return Err(CoseError::PointNotOnCurve(curve.name()));
        }
        let algorithm: &'static dyn sig::VerificationAlgorithm = match (alg, curve) {
            (CoseAlgorithm::Es256, EcCurve::P256) => &sig::ECDSA_P256_SHA256_ASN1,
            (CoseAlgorithm::Es384, EcCurve::P384) => &sig::ECDSA_P384_SHA384_ASN1,
            (CoseAlgorithm::Es512, EcCurve::P521) => &sig::ECDSA_P521_SHA512_ASN1,
            _ => {
                return Err(CoseError::CurveMismatch {
                    alg,
                    crv: curve.cose_id(),
                })
            }
        };
        let verifier = sig::ParsedPublicKey::new(algorithm, sec1)
            .map_err(|_| CoseError::PointNotOnCurve(curve.name()))?;
        Ok(PublicKey {
            alg,
            material: KeyMaterial::Ec2 {
                curve,
                x: sec1[1..1 + len].to_vec(),
                y: sec1[1 + len..].to_vec(),
            },
            verifier,
        })
    }

    /// An Ed25519 key from its 32-byte encoding.
    pub fn from_ed25519(alg: CoseAlgorithm, x: &[u8]) -> Result<Self, CoseError> {
        let raw: [u8; 32] = x.try_into().map_err(|_| CoseError::WrongLength {
            param: "x",
            expected: 32,
            actual: x.len(),
        })?;
        ed25519_dalek::VerifyingKey::from_bytes(&raw)
            .map_err(|_| CoseError::InvalidEd25519Point)?;
        let verifier =
            aws_lc_rs::signature::ParsedPublicKey::new(&aws_lc_rs::signature::ED25519, raw)
                .map_err(|e| CoseError::Rejected(e.to_string()))?;
        Ok(PublicKey {
            alg,
            material: KeyMaterial::Ed25519(raw),
            verifier,
        })
    }

    /// An RSA key from its modulus and public exponent (big-endian).
    pub fn from_rsa_components(alg: CoseAlgorithm, n: &[u8], e: &[u8]) -> Result<Self, CoseError> {
        use aws_lc_rs::signature as sig;
        let n = strip_leading_zeros(n);
        let e = strip_leading_zeros(e);
        let bits = n
            .first()
            .map_or(0, |b| n.len() * 8 - b.leading_zeros() as usize);
        if bits < 2048 {
            return Err(CoseError::RsaModulusTooShort { bits });
        }
        // e must be odd, >= 3 and fit in 64 bits (aws-lc caps it further).
        if e.is_empty() || e.len() > 8 || e[e.len() - 1] & 1 == 0 || e == [1] {
            return Err(CoseError::InvalidRsaExponent);
        }
        let algorithm: &'static dyn sig::VerificationAlgorithm = match alg {
            CoseAlgorithm::Rs256 => &sig::RSA_PKCS1_2048_8192_SHA256,
            CoseAlgorithm::Ps256 => &sig::RSA_PSS_2048_8192_SHA256,
            other => {
                return Err(CoseError::KeyTypeMismatch {
                    alg: other,
                    kty: "RSA".into(),
                })
            }
        };
        let der = rsa_public_key_der(n, e);
        let verifier = sig::ParsedPublicKey::new(algorithm, der)
            .map_err(|err| CoseError::Rejected(err.to_string()))?;
        Ok(PublicKey {
            alg,
            material: KeyMaterial::Rsa {
                n: n.to_vec(),
                e: e.to_vec(),
            },
            verifier,
        })
    }

    /// The one algorithm this key verifies.
    pub fn alg(&self) -> CoseAlgorithm {
        self.alg
    }

    /// The key material.
    pub fn material(&self) -> &KeyMaterial {
        &self.material
    }

    /// Verifies `sig` over `msg`: DER ECDSA, raw 64-byte Ed25519, PKCS#1 v1.5 or PSS.
    pub fn verify(&self, msg: &[u8], sig: &[u8]) -> Result<(), SignatureError> {
        self.verifier
            .verify_sig(msg, sig)
            .map_err(|_| SignatureError { alg: self.alg })
    }

    /// The key as a `coset` COSE_Key.
    pub fn to_cose_key(&self) -> CoseKey {
        let alg = alg_label(self.alg);
        let b = |v: &[u8]| Value::Bytes(v.to_vec());
        let (kty, params) = match &self.material {
            KeyMaterial::Ec2 { curve, x, y } => (
                KTY_EC2,
                vec![
                    (Label::Int(-1), Value::from(curve.cose_id())),
                    (Label::Int(-2), b(x)),
                    (Label::Int(-3), b(y)),
                ],
            ),
            KeyMaterial::Ed25519(x) => (
                KTY_OKP,
                vec![
                    (Label::Int(-1), Value::from(CRV_ED25519)),
                    (Label::Int(-2), b(x)),
                ],
            ),
            KeyMaterial::Rsa { n, e } => (
                KTY_RSA,
                vec![(Label::Int(-1), b(n)), (Label::Int(-2), b(e))],
            ),
        };
        CoseKey {
            kty: match iana::KeyType::from_i64(kty) {
                Some(k) => KeyType::Assigned(k),
                None => KeyType::Text(String::new()),
            },
            alg: Some(alg),
            params,
            ..Default::default()
        }
    }

    /// The key as canonical CBOR (CTAP2 order: 1, 3, -1, -2, -3).
    pub fn to_cose_bytes(&self) -> Vec<u8> {
        let mut entries = vec![
            (Value::from(1), Value::from(kty_of(&self.material))),
            (Value::from(3), Value::from(self.alg.to_i64())),
        ];
        let b = |v: &[u8]| Value::Bytes(v.to_vec());
        match &self.material {
            KeyMaterial::Ec2 { curve, x, y } => {
                entries.push((Value::from(-1), Value::from(curve.cose_id())));
                entries.push((Value::from(-2), b(x)));
                entries.push((Value::from(-3), b(y)));
            }
            KeyMaterial::Ed25519(x) => {
                entries.push((Value::from(-1), Value::from(CRV_ED25519)));
                entries.push((Value::from(-2), b(x)));
            }
            KeyMaterial::Rsa { n, e } => {
                entries.push((Value::from(-1), b(n)));
                entries.push((Value::from(-2), b(e)));
            }
        }
        // Integers and byte strings only: canonical encoding cannot fail.
        cbor::encode(&Value::Map(entries)).unwrap_or_default()
    }

    /// The key as a JSON Web Key ([RFC 7517](https://www.rfc-editor.org/rfc/rfc7517)).
    pub fn to_jwk(&self) -> serde_json::Value {
        let b64 = |v: &[u8]| URL_SAFE_NO_PAD.encode(v);
        let alg = match self.alg {
            CoseAlgorithm::Ed25519 => "Ed25519".to_string(),
            other => other.name(),
        };
        match &self.material {
            KeyMaterial::Ec2 { curve, x, y } => serde_json::json!({
                "kty": "EC", "crv": curve.name(), "x": b64(x), "y": b64(y), "alg": alg,
            }),
            KeyMaterial::Ed25519(x) => serde_json::json!({
                "kty": "OKP", "crv": "Ed25519", "x": b64(x), "alg": alg,
            }),
            KeyMaterial::Rsa { n, e } => serde_json::json!({
                "kty": "RSA", "n": b64(n), "e": b64(e), "alg": alg,
            }),
        }
    }
}

fn kty_of(m: &KeyMaterial) -> i64 {
    match m {
        KeyMaterial::Ec2 { .. } => KTY_EC2,
        KeyMaterial::Ed25519(_) => KTY_OKP,
        KeyMaterial::Rsa { .. } => KTY_RSA,
    }
}

fn kty_name(kty: i64) -> String {
    match kty {
        KTY_OKP => "OKP".into(),
        KTY_EC2 => "EC2".into(),
        KTY_RSA => "RSA".into(),
        4 => "Symmetric".into(),
        other => format!("{other}"),
    }
}

fn alg_label(alg: CoseAlgorithm) -> coset::Algorithm {
    match iana::Algorithm::from_i64(alg.to_i64()) {
        Some(a) => RegisteredLabelWithPrivate::Assigned(a),
        None => RegisteredLabelWithPrivate::PrivateUse(alg.to_i64()),
    }
}

fn strip_leading_zeros(v: &[u8]) -> &[u8] {
    let first = v.iter().position(|b| *b != 0).unwrap_or(v.len());
    &v[first..]
}

/// DER `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }` (RFC 8017 A.1.1).
fn rsa_public_key_der(n: &[u8], e: &[u8]) -> Vec<u8> {
    fn integer(out: &mut Vec<u8>, v: &[u8]) {
        let pad = v.first().is_some_and(|b| b & 0x80 != 0);
        out.push(0x02);
        der_len(out, v.len() + usize::from(pad));
        if pad {
            out.push(0);
        }
        out.extend_from_slice(v);
    }
    let mut body = Vec::with_capacity(n.len() + e.len() + 12);
    integer(&mut body, n);
    integer(&mut body, e);
    let mut out = Vec::with_capacity(body.len() + 4);
    out.push(0x30);
    der_len(&mut out, body.len());
    out.extend_from_slice(&body);
    out
}

fn der_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes
            .iter()
            .position(|b| *b != 0)
            .unwrap_or(bytes.len() - 1);
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}
