//! Credential and attestation private keys of the emulator (aws-lc-rs), kept as PKCS#8.

use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self as sig, KeyPair as _};

use crate::cose::{CoseAlgorithm, EcCurve, PublicKey};

/// A key operation failed (randomness or an unusable stored key).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("key operation failed: {0}")]
pub struct KeyError(pub String);

/// A private key for one of the algorithms the emulator makes credentials with.
pub enum CredentialKey {
    /// ES256 (P-256).
    Es256(sig::EcdsaKeyPair),
    /// EdDSA (Ed25519).
    Ed25519(sig::Ed25519KeyPair),
    /// RS256 (RSA 2048).
    Rs256(sig::RsaKeyPair),
}

impl CredentialKey {
    /// Generates a key for `alg`; returns it with its PKCS#8 encoding.
    pub fn generate(alg: CoseAlgorithm) -> Result<(Self, Vec<u8>), KeyError> {
        let rng = SystemRandom::new();
        let err = |e: &dyn std::fmt::Display| KeyError(e.to_string());
        let pkcs8 = match alg {
            CoseAlgorithm::Es256 => {
                sig::EcdsaKeyPair::generate_pkcs8(&sig::ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
                    .map_err(|e| err(&e))?
                    .as_ref()
                    .to_vec()
            }
            CoseAlgorithm::EdDsa | CoseAlgorithm::Ed25519 => {
                sig::Ed25519KeyPair::generate_pkcs8(&rng)
                    .map_err(|e| err(&e))?
                    .as_ref()
                    .to_vec()
            }
            CoseAlgorithm::Rs256 => {
                let kp = sig::RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
                    .map_err(|e| err(&e))?;
                kp.as_der().map_err(|e| err(&e))?.as_ref().to_vec()
            }
            other => return Err(KeyError(format!("cannot make {other} keys"))),
        };
        let key = Self::from_pkcs8(alg, &pkcs8)?;
        Ok((key, pkcs8))
    }

    /// Loads a stored key.
    pub fn from_pkcs8(alg: CoseAlgorithm, pkcs8: &[u8]) -> Result<Self, KeyError> {
        let err = |e: &dyn std::fmt::Display| KeyError(e.to_string());
        Ok(match alg {
            CoseAlgorithm::Es256 => CredentialKey::Es256(
                sig::EcdsaKeyPair::from_pkcs8(&sig::ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8)
                    .map_err(|e| err(&e))?,
            ),
            CoseAlgorithm::EdDsa | CoseAlgorithm::Ed25519 => {
                CredentialKey::Ed25519(sig::Ed25519KeyPair::from_pkcs8(pkcs8).map_err(|e| err(&e))?)
            }
            CoseAlgorithm::Rs256 => {
                CredentialKey::Rs256(sig::RsaKeyPair::from_pkcs8(pkcs8).map_err(|e| err(&e))?)
            }
            other => return Err(KeyError(format!("cannot load {other} keys"))),
        })
    }

    /// The COSE algorithm.
    pub fn alg(&self) -> CoseAlgorithm {
        match self {
            CredentialKey::Es256(_) => CoseAlgorithm::Es256,
            CredentialKey::Ed25519(_) => CoseAlgorithm::EdDsa,
            CredentialKey::Rs256(_) => CoseAlgorithm::Rs256,
        }
    }

    /// The public key.
    pub fn public_key(&self) -> Result<PublicKey, KeyError> {
        let err = |e: &dyn std::fmt::Display| KeyError(e.to_string());
        match self {
            CredentialKey::Es256(kp) => PublicKey::from_sec1_uncompressed(
                CoseAlgorithm::Es256,
                EcCurve::P256,
                kp.public_key().as_ref(),
            )
            .map_err(|e| err(&e)),
            CredentialKey::Ed25519(kp) => {
                PublicKey::from_ed25519(CoseAlgorithm::EdDsa, kp.public_key().as_ref())
                    .map_err(|e| err(&e))
            }
            CredentialKey::Rs256(kp) => {
                let pk = kp.public_key();
                PublicKey::from_rsa_components(
                    CoseAlgorithm::Rs256,
                    pk.modulus().big_endian_without_leading_zero(),
                    pk.exponent().big_endian_without_leading_zero(),
                )
                .map_err(|e| err(&e))
            }
        }
    }

    /// Signs `msg` (DER ECDSA, raw Ed25519, PKCS#1 v1.5 SHA-256).
    pub fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, KeyError> {
        let rng = SystemRandom::new();
        let err = |e: &dyn std::fmt::Display| KeyError(e.to_string());
        match self {
            CredentialKey::Es256(kp) => {
                Ok(kp.sign(&rng, msg).map_err(|e| err(&e))?.as_ref().to_vec())
            }
            CredentialKey::Ed25519(kp) => Ok(kp.sign(msg).as_ref().to_vec()),
            CredentialKey::Rs256(kp) => {
                let mut out = vec![0u8; kp.public_modulus_len()];
                kp.sign(&sig::RSA_PKCS1_SHA256, &rng, msg, &mut out)
                    .map_err(|e| err(&e))?;
                Ok(out)
            }
        }
    }
}

/// Random bytes.
pub fn random<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    // aws-lc's DRBG does not fail in practice; zeros would still be a valid (poor) value.
    let _ = aws_lc_rs::rand::fill(&mut out);
    out
}
