//! X.509 attestation certificates: parsing, public keys, issuer signatures, and chain
//! validation up to the trust anchors a relying party supplies ([`TrustStore`]).

use aws_lc_rs::signature as sig;
use x509_parser::certificate::X509Certificate;
use x509_parser::oid_registry::Oid;
use x509_parser::prelude::FromDer as _;
use x509_parser::public_key::PublicKey as X509PublicKey;
use x509_parser::time::ASN1Time;

use super::AttestationError;
use crate::cose::{CoseAlgorithm, EcCurve, PublicKey};

const OID_P256: &str = "1.2.840.10045.3.1.7";
const OID_P384: &str = "1.3.132.0.34";
const OID_P521: &str = "1.3.132.0.35";
const OID_ED25519: &str = "1.3.101.112";

/// (tag, contents, the whole element, what follows).
type Tlv<'a> = (u8, &'a [u8], &'a [u8], &'a [u8]);

/// One DER TLV with a definite, minimal length.
fn tlv(b: &[u8]) -> Option<Tlv<'_>> {
    let tag = *b.first()?;
    let first = *b.get(1)?;
    let (len, header): (usize, usize) = match first {
        0..=0x7f => (usize::from(first), 2),
        0x81 => {
            let l = *b.get(2)?;
            if l < 0x80 {
                return None;
            }
            (usize::from(l), 3)
        }
        0x82 => {
            let l = usize::from(u16::from_be_bytes([*b.get(2)?, *b.get(3)?]));
            if l < 0x100 {
                return None;
            }
            (l, 4)
        }
        _ => return None,
    };
    let end = header.checked_add(len)?;
    let whole = b.get(..end)?;
    Some((tag, &whole[header..], whole, &b[end..]))
}

/// The unsigned envelope of a certificate (RFC 5280 §4.1): exact SEQUENCE / BIT STRING tags,
/// a well-formed signature algorithm OID, no unused bits in the signature, and the outer
/// signatureAlgorithm identical to the signed `tbsCertificate.signature` (§4.1.1.2). The
/// envelope is not covered by the signature, so it must be checked on its own.
fn check_envelope(der: &[u8]) -> Result<(), &'static str> {
    let (tag, body, _, rest) = tlv(der).ok_or("not a DER element")?;
    if tag != 0x30 || !rest.is_empty() {
        return Err("not a single DER SEQUENCE");
    }
    let (tbs_tag, tbs, _, after_tbs) = tlv(body).ok_or("tbsCertificate is malformed")?;
    let (alg_tag, alg, alg_whole, after_alg) =
        tlv(after_tbs).ok_or("signatureAlgorithm is malformed")?;
    let (sig_tag, sig, _, tail) = tlv(after_alg).ok_or("signatureValue is malformed")?;
    if tbs_tag != 0x30 || alg_tag != 0x30 || sig_tag != 0x03 || !tail.is_empty() {
        return Err("certificate fields have the wrong tags");
    }
    if sig.first() != Some(&0) {
        return Err("signature BIT STRING has unused bits");
    }
    let (oid_tag, oid, _, _) = tlv(alg).ok_or("signature algorithm OID is malformed")?;
    if oid_tag != 0x06 || oid.last().is_none_or(|b| b & 0x80 != 0) {
        return Err("signature algorithm OID is malformed");
    }
    // tbsCertificate: [0] version (optional), serialNumber, signature AlgorithmIdentifier.
    let (mut t, _, _, mut r) = tlv(tbs).ok_or("tbsCertificate is malformed")?;
    if t == 0xa0 {
        (t, _, _, r) = tlv(r).ok_or("tbsCertificate is malformed")?;
    }
    if t != 0x02 {
        return Err("tbsCertificate lacks its serial number");
    }
    let (_, _, inner_alg, _) = tlv(r).ok_or("tbsCertificate lacks its signature algorithm")?;
    if inner_alg != alg_whole {
        return Err("signatureAlgorithm differs from tbsCertificate.signature");
    }
    Ok(())
}

/// Parses one DER certificate (`index` is its position in x5c, for the error).
pub fn parse(der: &[u8], index: usize) -> Result<X509Certificate<'_>, AttestationError> {
    check_envelope(der).map_err(|reason| AttestationError::Certificate {
        index,
        reason: reason.to_string(),
    })?;
    match X509Certificate::from_der(der) {
        Ok(([], cert)) => Ok(cert),
        Ok(_) => Err(AttestationError::Certificate {
            index,
            reason: "trailing bytes after the certificate".into(),
        }),
        Err(e) => Err(AttestationError::Certificate {
            index,
            reason: e.to_string(),
        }),
    }
}

fn curve_of(cert: &X509Certificate<'_>) -> Option<EcCurve> {
    let params = cert.public_key().algorithm.parameters.as_ref()?;
    let oid = params.as_oid().ok()?.to_id_string();
    match oid.as_str() {
        OID_P256 => Some(EcCurve::P256),
        OID_P384 => Some(EcCurve::P384),
        OID_P521 => Some(EcCurve::P521),
        _ => None,
    }
}

/// The certificate's subject public key as a typed key that verifies `alg`.
pub fn public_key(
    cert: &X509Certificate<'_>,
    alg: CoseAlgorithm,
    index: usize,
) -> Result<PublicKey, AttestationError> {
    let spki = cert.public_key();
    let bad = |reason: String| AttestationError::Certificate { index, reason };
    if spki.algorithm.algorithm.to_id_string() == OID_ED25519 {
        return PublicKey::from_ed25519(alg, &spki.subject_public_key.data)
            .map_err(|e| bad(e.to_string()));
    }
    match spki.parsed().map_err(|e| bad(e.to_string()))? {
        X509PublicKey::EC(point) => {
            let curve = curve_of(cert).ok_or_else(|| bad("unsupported EC curve".into()))?;
            PublicKey::from_sec1_uncompressed(alg, curve, point.data())
                .map_err(|e| bad(e.to_string()))
        }
        X509PublicKey::RSA(rsa) => PublicKey::from_rsa_components(alg, rsa.modulus, rsa.exponent)
            .map_err(|e| bad(e.to_string())),
        _ => Err(bad("unsupported public key type".into())),
    }
}

/// Whether `child` carries a valid signature by `issuer`'s key.
pub fn is_signed_by(child: &X509Certificate<'_>, issuer: &X509Certificate<'_>) -> bool {
    let sig_oid = child.signature_algorithm.algorithm.to_id_string();
    let spki = issuer.public_key();
    let key_bytes: &[u8] = &spki.subject_public_key.data;
    let curve = curve_of(issuer);
    let algorithm: &'static dyn sig::VerificationAlgorithm = match (sig_oid.as_str(), curve) {
        ("1.2.840.10045.4.3.2", Some(EcCurve::P256)) => &sig::ECDSA_P256_SHA256_ASN1,
        ("1.2.840.10045.4.3.3", Some(EcCurve::P256)) => &sig::ECDSA_P256_SHA384_ASN1,
        ("1.2.840.10045.4.3.2", Some(EcCurve::P384)) => &sig::ECDSA_P384_SHA256_ASN1,
        ("1.2.840.10045.4.3.3", Some(EcCurve::P384)) => &sig::ECDSA_P384_SHA384_ASN1,
        ("1.2.840.10045.4.3.4", Some(EcCurve::P384)) => &sig::ECDSA_P384_SHA512_ASN1,
        ("1.2.840.10045.4.3.2", Some(EcCurve::P521)) => &sig::ECDSA_P521_SHA256_ASN1,
        ("1.2.840.10045.4.3.3", Some(EcCurve::P521)) => &sig::ECDSA_P521_SHA384_ASN1,
        ("1.2.840.10045.4.3.4", Some(EcCurve::P521)) => &sig::ECDSA_P521_SHA512_ASN1,
        ("1.2.840.113549.1.1.11", None) => &sig::RSA_PKCS1_2048_8192_SHA256,
        ("1.2.840.113549.1.1.12", None) => &sig::RSA_PKCS1_2048_8192_SHA384,
        ("1.2.840.113549.1.1.13", None) => &sig::RSA_PKCS1_2048_8192_SHA512,
        ("1.2.840.113549.1.1.5", None) => &sig::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
        (OID_ED25519, None) => &sig::ED25519,
        _ => return false,
    };
    sig::UnparsedPublicKey::new(algorithm, key_bytes)
        .verify(child.tbs_certificate.as_ref(), &child.signature_value.data)
        .is_ok()
}

/// Looks up an extension's raw value (the OCTET STRING contents).
pub fn extension_value<'a>(
    cert: &'a X509Certificate<'a>,
    oid: &str,
) -> Result<Option<&'a [u8]>, AttestationError> {
    let oid: Oid<'static> = oid
        .parse()
        .map_err(|_| AttestationError::Malformed(format!("bad OID {oid}")))?;
    cert.get_extension_unique(&oid)
        .map(|ext| ext.map(|e| e.value))
        .map_err(|e| AttestationError::Certificate {
            index: 0,
            reason: e.to_string(),
        })
}

/// Why an attestation chain is not trusted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TrustError {
    /// The trust store is empty.
    #[error("no trust anchors are configured for attestation")]
    NoAnchors,
    /// The chain is empty (self or none attestation).
    #[error("the attestation has no certificate chain")]
    NoChain,
    /// A certificate cannot be parsed.
    #[error("certificate {0} of the chain cannot be parsed")]
    Unparsable(usize),
    /// A certificate is outside its validity period.
    #[error("certificate {0} of the chain is expired or not yet valid")]
    NotValidNow(usize),
    /// A certificate is not signed by the next one.
    #[error("certificate {0} is not signed by certificate {next}", next = .0 + 1)]
    BrokenChain(usize),
    /// An issuing certificate is not a CA.
    #[error("certificate {0} issues certificates but is not a CA")]
    NotACa(usize),
    /// No trust anchor signed the last certificate.
    #[error("the chain does not end at any configured trust anchor")]
    UnknownRoot,
}

/// Trust anchors for attestation certificate chains (DER certificates).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustStore {
    anchors: Vec<Vec<u8>>,
}

impl TrustStore {
    /// An empty store.
    pub fn new() -> Self {
        TrustStore::default()
    }

    /// Adds one DER certificate, checking that it parses.
    pub fn add_der(&mut self, der: Vec<u8>) -> Result<(), AttestationError> {
        parse(&der, 0)?;
        self.anchors.push(der);
        Ok(())
    }

    /// Adds every `CERTIFICATE` block of a PEM text; returns how many were added.
    pub fn add_pem(&mut self, pem: &str) -> Result<usize, AttestationError> {
        let mut added = 0;
        for block in pem.split("-----BEGIN CERTIFICATE-----").skip(1) {
            let body = block
                .split("-----END CERTIFICATE-----")
                .next()
                .unwrap_or("");
            let b64: String = body.chars().filter(|c| !c.is_whitespace()).collect();
            use base64::Engine as _;
            let der = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map_err(|e| AttestationError::Certificate {
                    index: added,
                    reason: format!("PEM body is not base64: {e}"),
                })?;
            self.add_der(der)?;
            added += 1;
        }
        Ok(added)
    }

    /// Number of anchors.
    pub fn len(&self) -> usize {
        self.anchors.len()
    }

    /// True when there are no anchors.
    pub fn is_empty(&self) -> bool {
        self.anchors.is_empty()
    }

    /// Validates `chain` (leaf first, as x5c) up to an anchor at `time` (Unix seconds).
    pub fn validate(&self, chain: &[Vec<u8>], time: i64) -> Result<(), TrustError> {
        if self.anchors.is_empty() {
            return Err(TrustError::NoAnchors);
        }
        if chain.is_empty() {
            return Err(TrustError::NoChain);
        }
        let at = ASN1Time::from_timestamp(time).map_err(|_| TrustError::NotValidNow(0))?;
        let certs: Vec<X509Certificate<'_>> = chain
            .iter()
            .enumerate()
            .map(|(i, der)| parse(der, i).map_err(|_| TrustError::Unparsable(i)))
            .collect::<Result<_, _>>()?;
        for (i, cert) in certs.iter().enumerate() {
            if !cert.validity().is_valid_at(at) {
                return Err(TrustError::NotValidNow(i));
            }
            if let Some(issuer) = certs.get(i + 1) {
                if !is_signed_by(cert, issuer) {
                    return Err(TrustError::BrokenChain(i));
                }
                if !issuer.is_ca() {
                    return Err(TrustError::NotACa(i + 1));
                }
            }
        }
        let last = &certs[certs.len() - 1];
        let anchored = self.anchors.iter().any(|anchor_der| {
            if anchor_der == &chain[chain.len() - 1] {
                return true;
            }
            match parse(anchor_der, 0) {
                Ok(anchor) => anchor.validity().is_valid_at(at) && is_signed_by(last, &anchor),
                Err(_) => false,
            }
        });
        if anchored {
            Ok(())
        } else {
            Err(TrustError::UnknownRoot)
        }
    }
}
