//! `tpm` attestation (§8.3): the TPMS_ATTEST (`certInfo`) and TPMT_PUBLIC (`pubArea`)
//! structures of [TPMv2-Part2], and the AIK certificate requirements of §8.3.1.
//!
//! Every structure is read with bounds-checked cursors: malformed input yields
//! [`AttestationError::Tpm`], never a panic.

use aws_lc_rs::digest;
use aws_lc_rs::signature as sig;
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;
use x509_parser::oid_registry::Oid;
use x509_parser::x509::X509Version;

use super::packed::check_aaguid_extension;
use super::{
    cert, stmt_alg, stmt_bytes, stmt_x5c, AttestationError, AttestationFormat, AttestationType,
    StatementInput, VerifiedStatement,
};
use crate::cbor::{MapExt as _, Value};
use crate::cose::{CoseAlgorithm, EcCurve, KeyMaterial, PublicKey};

#[cfg(test)]
mod tests;

/// `TPM_GENERATED_VALUE` ([TPMv2-Part2] §6.2): `0xff` `"TCG"`.
const TPM_GENERATED_VALUE: u32 = 0xff54_4347;
/// `TPM_ST_ATTEST_CERTIFY` ([TPMv2-Part2] §6.9).
const TPM_ST_ATTEST_CERTIFY: u16 = 0x8017;

// TPM_ALG_ID values ([TPMv2-Part2] §6.3, TCG Algorithm Registry).
const TPM_ALG_RSA: u16 = 0x0001;
const TPM_ALG_SHA1: u16 = 0x0004;
const TPM_ALG_SHA256: u16 = 0x000B;
const TPM_ALG_SHA384: u16 = 0x000C;
const TPM_ALG_SHA512: u16 = 0x000D;
const TPM_ALG_NULL: u16 = 0x0010;
const TPM_ALG_RSAES: u16 = 0x0015;
const TPM_ALG_ECDAA: u16 = 0x001A;
const TPM_ALG_ECC: u16 = 0x0023;
/// Asymmetric schemes whose details are a `TPMS_SCHEME_HASH` (one `TPMI_ALG_HASH`):
/// RSASSA, RSAPSS, OAEP, ECDSA, ECDH, SM2, ECSCHNORR, ECMQV.
const SCHEMES_WITH_HASH: [u16; 8] = [
    0x0014, 0x0016, 0x0017, 0x0018, 0x0019, 0x001B, 0x001C, 0x001D,
];
/// Key derivation schemes, each with a `TPMS_SCHEME_HASH`: MGF1, KDF1_SP800_56A, KDF2,
/// KDF1_SP800_108.
const KDF_SCHEMES: [u16; 4] = [0x0007, 0x0020, 0x0021, 0x0022];

// TPM_ECC_CURVE values ([TPMv2-Part2] §6.4).
const TPM_ECC_NIST_P256: u16 = 0x0003;
const TPM_ECC_NIST_P384: u16 = 0x0004;
const TPM_ECC_NIST_P521: u16 = 0x0005;

/// tcg-kp-AIKCertificate (§8.3.1).
const OID_TCG_KP_AIK_CERTIFICATE: &str = "2.23.133.8.3";
/// tcpaTpmManufacturer ([TPMv2-EK-Profile] §3.2.9).
const OID_TPM_MANUFACTURER: &str = "2.23.133.2.1";
/// tcpaTpmModel.
const OID_TPM_MODEL: &str = "2.23.133.2.2";
/// tcpaTpmVersion.
const OID_TPM_VERSION: &str = "2.23.133.2.3";
/// rsaEncryption, the SPKI algorithm an RSA AIK must have.
const OID_RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.1";

fn tpm_err(reason: impl Into<String>) -> AttestationError {
    AttestationError::Tpm(reason.into())
}

/// Runs the `tpm` verification procedure (§8.3 "Verification procedure").
pub(super) fn verify(input: &StatementInput<'_>) -> Result<VerifiedStatement, AttestationError> {
    // Verify that attStmt is valid CBOR conforming to the syntax (ver "2.0", alg, x5c, sig,
    // certInfo, pubArea) and extract the fields.
    check_version(input.att_stmt)?;
    let alg = stmt_alg(input.att_stmt)?;
    // "Verify that x5c is present" (the syntax requires it too).
    let x5c = stmt_x5c(input.att_stmt)?.ok_or(AttestationError::MissingField("x5c"))?;
    let signature = stmt_bytes(input.att_stmt, "sig")?;
    let cert_info_raw = stmt_bytes(input.att_stmt, "certInfo")?;
    let pub_area_raw = stmt_bytes(input.att_stmt, "pubArea")?;
    let scheme = SignatureScheme::for_alg(alg)?;

    // The public key in pubArea's parameters and unique fields is the credential public key.
    let pub_area = PubArea::parse(pub_area_raw)?;
    pub_area.check_matches(&input.credential.public_key)?;

    // attToBeSigned = authenticatorData || clientDataHash.
    let att_to_be_signed = input.signed_data();

    // certInfo: magic and type (checked while parsing), extraData, attested.name.
    let cert_info = CertInfo::parse(cert_info_raw)?;
    let expected = digest::digest(scheme.hash, &att_to_be_signed);
    if cert_info.extra_data != expected.as_ref() {
        return Err(AttestationError::NonceMismatch);
    }
    let name = tpm_name(pub_area.name_alg, pub_area_raw)?;
    if cert_info.attested_name != name.as_slice() {
        return Err(tpm_err("certInfo.attested.name is not the Name of pubArea"));
    }
    // qualifiedSigner, clockInfo and firmwareVersion are ignored (§8.3).

    // sig is a valid signature over certInfo by aikCert's key with alg.
    let aik_der = x5c.first().ok_or(AttestationError::MissingField("x5c"))?;
    let aik = cert::parse(aik_der, 0)?;
    scheme.verify(&aik, alg, cert_info_raw, signature)?;

    // aikCert meets §8.3.1, and its id-fido-gen-ce-aaguid extension (if any) matches.
    check_aik_certificate(&aik)?;
    check_aaguid_extension(&aik, input, "tpm")?;

    Ok(VerifiedStatement {
        format: AttestationFormat::Tpm,
        kind: AttestationType::AttCa,
        trust_path: x5c,
    })
}

/// `ver` must be the text string "2.0".
fn check_version(att_stmt: &[(Value, Value)]) -> Result<(), AttestationError> {
    match att_stmt.get_text("ver") {
        Some(Value::Text(v)) if v == "2.0" => Ok(()),
        Some(Value::Text(v)) => Err(tpm_err(format!("unsupported TPM version {v:?}"))),
        Some(_) => Err(AttestationError::WrongFieldType("ver")),
        None => Err(AttestationError::MissingField("ver")),
    }
}

/// How `alg` hashes attToBeSigned for extraData and how it verifies `sig`.
struct SignatureScheme {
    /// The hash "employed in alg" for extraData.
    hash: &'static digest::Algorithm,
    /// `None`: verify with [`crate::cose::PublicKey`]; `Some`: RSA algorithms COSE keys do
    /// not cover, verified directly against the AIK's RSA key.
    direct: Option<&'static sig::RsaParameters>,
}

impl SignatureScheme {
    fn for_alg(alg: CoseAlgorithm) -> Result<Self, AttestationError> {
        let (hash, direct): (_, Option<&'static sig::RsaParameters>) = match alg.to_i64() {
            // ES256, RS256, PS256.
            -7 | -257 | -37 => (&digest::SHA256, None),
            // ES384.
            -35 => (&digest::SHA384, None),
            // ES512.
            -36 => (&digest::SHA512, None),
            // RS1 (RSASSA-PKCS1-v1_5 with SHA-1), still used by TPMs.
            -65535 => (
                &digest::SHA1_FOR_LEGACY_USE_ONLY,
                Some(&sig::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY),
            ),
            // RS384, RS512.
            -258 => (&digest::SHA384, Some(&sig::RSA_PKCS1_2048_8192_SHA384)),
            -259 => (&digest::SHA512, Some(&sig::RSA_PKCS1_2048_8192_SHA512)),
            // PS384, PS512.
            -38 => (&digest::SHA384, Some(&sig::RSA_PSS_2048_8192_SHA384)),
            -39 => (&digest::SHA512, Some(&sig::RSA_PSS_2048_8192_SHA512)),
            other => return Err(AttestationError::UnsupportedAlgorithm(other)),
        };
        Ok(SignatureScheme { hash, direct })
    }

    fn verify(
        &self,
        aik: &X509Certificate<'_>,
        alg: CoseAlgorithm,
        msg: &[u8],
        signature: &[u8],
    ) -> Result<(), AttestationError> {
        match self.direct {
            None => {
                let key = cert::public_key(aik, alg, 0)?;
                key.verify(msg, signature)
                    .map_err(|_| AttestationError::BadSignature)
            }
            Some(params) => {
                let spki = aik.public_key();
                if spki.algorithm.algorithm.to_id_string() != OID_RSA_ENCRYPTION {
                    return Err(AttestationError::Certificate {
                        index: 0,
                        reason: format!("{alg} needs an RSA attestation key"),
                    });
                }
                sig::UnparsedPublicKey::new(params, &spki.subject_public_key.data)
                    .verify(msg, signature)
                    .map_err(|_| AttestationError::BadSignature)
            }
        }
    }
}

/// A bounds-checked big-endian reader over one TPM structure.
struct Reader<'a> {
    buf: &'a [u8],
    what: &'static str,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8], what: &'static str) -> Self {
        Reader { buf, what }
    }

    fn take(&mut self, n: usize, field: &str) -> Result<&'a [u8], AttestationError> {
        if self.buf.len() < n {
            return Err(tpm_err(format!(
                "{} is truncated: {field} needs {n} bytes, {} left",
                self.what,
                self.buf.len()
            )));
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self, field: &str) -> Result<[u8; N], AttestationError> {
        let bytes = self.take(N, field)?;
        <[u8; N]>::try_from(bytes).map_err(|_| tpm_err(format!("{}: bad {field}", self.what)))
    }

    fn u16(&mut self, field: &str) -> Result<u16, AttestationError> {
        self.array(field).map(u16::from_be_bytes)
    }

    fn u32(&mut self, field: &str) -> Result<u32, AttestationError> {
        self.array(field).map(u32::from_be_bytes)
    }

    fn u64(&mut self, field: &str) -> Result<u64, AttestationError> {
        self.array(field).map(u64::from_be_bytes)
    }

    /// A TPM2B_*: a u16 size followed by that many bytes.
    fn sized(&mut self, field: &str) -> Result<&'a [u8], AttestationError> {
        let len = self.u16(field)?;
        self.take(usize::from(len), field)
    }

    fn finish(self) -> Result<(), AttestationError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(tpm_err(format!(
                "{} has {} trailing bytes",
                self.what,
                self.buf.len()
            )))
        }
    }
}

/// The parts of a TPMS_ATTEST of type TPM_ST_ATTEST_CERTIFY ([TPMv2-Part2] §10.12.8) that
/// §8.3 checks.
#[derive(Debug)]
struct CertInfo<'a> {
    /// `extraData` (TPM2B_DATA): the hash of attToBeSigned.
    extra_data: &'a [u8],
    /// `attested.certify.name` (TPM2B_NAME, [TPMv2-Part2] §10.12.3).
    attested_name: &'a [u8],
}

impl<'a> CertInfo<'a> {
    fn parse(raw: &'a [u8]) -> Result<Self, AttestationError> {
        let mut r = Reader::new(raw, "certInfo");
        let magic = r.u32("magic")?;
        if magic != TPM_GENERATED_VALUE {
            return Err(tpm_err(format!(
                "certInfo.magic is {magic:#010x}, not TPM_GENERATED_VALUE"
            )));
        }
        let kind = r.u16("type")?;
        if kind != TPM_ST_ATTEST_CERTIFY {
            return Err(tpm_err(format!(
                "certInfo.type is {kind:#06x}, not TPM_ST_ATTEST_CERTIFY"
            )));
        }
        let _qualified_signer = r.sized("qualifiedSigner")?;
        let extra_data = r.sized("extraData")?;
        // clockInfo: clock u64, resetCount u32, restartCount u32, safe u8 (17 bytes).
        let _clock_info = r.take(17, "clockInfo")?;
        let _firmware_version = r.u64("firmwareVersion")?;
        let attested_name = r.sized("attested.name")?;
        let _qualified_name = r.sized("attested.qualifiedName")?;
        r.finish()?;
        Ok(CertInfo {
            extra_data,
            attested_name,
        })
    }
}

/// The key a TPMT_PUBLIC describes (its `parameters` and `unique` fields).
#[derive(Debug, PartialEq, Eq)]
enum TpmKey<'a> {
    /// TPM_ALG_RSA: the modulus (`unique`) and exponent (0 means 2^16 + 1).
    Rsa { modulus: &'a [u8], exponent: u32 },
    /// TPM_ALG_ECC: the curve and the point (`unique`).
    Ecc {
        curve_id: u16,
        x: &'a [u8],
        y: &'a [u8],
    },
}

/// A parsed TPMT_PUBLIC ([TPMv2-Part2] §12.2.4).
#[derive(Debug)]
struct PubArea<'a> {
    /// `nameAlg`, the hash of the object's Name.
    name_alg: u16,
    /// The public key.
    key: TpmKey<'a>,
}

impl<'a> PubArea<'a> {
    fn parse(raw: &'a [u8]) -> Result<Self, AttestationError> {
        let mut r = Reader::new(raw, "pubArea");
        let kind = r.u16("type")?;
        let name_alg = r.u16("nameAlg")?;
        let _object_attributes = r.u32("objectAttributes")?;
        let _auth_policy = r.sized("authPolicy")?;
        let key = match kind {
            TPM_ALG_RSA => {
                // TPMS_RSA_PARMS: symmetric, scheme, keyBits, exponent.
                skip_symmetric(&mut r)?;
                skip_scheme(&mut r, "parameters.scheme")?;
                let _key_bits = r.u16("parameters.keyBits")?;
                let exponent = r.u32("parameters.exponent")?;
                let modulus = r.sized("unique (RSA modulus)")?;
                TpmKey::Rsa { modulus, exponent }
            }
            TPM_ALG_ECC => {
                // TPMS_ECC_PARMS: symmetric, scheme, curveID, kdf.
                skip_symmetric(&mut r)?;
                skip_scheme(&mut r, "parameters.scheme")?;
                let curve_id = r.u16("parameters.curveID")?;
                let kdf = r.u16("parameters.kdf")?;
                if kdf != TPM_ALG_NULL {
                    if !KDF_SCHEMES.contains(&kdf) {
                        return Err(tpm_err(format!(
                            "pubArea has unknown KDF scheme {kdf:#06x}"
                        )));
                    }
                    let _kdf_hash = r.u16("parameters.kdf.hashAlg")?;
                }
                // TPMS_ECC_POINT.
                let x = r.sized("unique.x")?;
                let y = r.sized("unique.y")?;
                TpmKey::Ecc { curve_id, x, y }
            }
            other => {
                return Err(tpm_err(format!(
                    "pubArea.type {other:#06x} is neither TPM_ALG_RSA nor TPM_ALG_ECC"
                )))
            }
        };
        r.finish()?;
        Ok(PubArea { name_alg, key })
    }

    /// §8.3: the key in `parameters` and `unique` is identical to the credential public key.
    fn check_matches(&self, credential: &PublicKey) -> Result<(), AttestationError> {
        let same = match (&self.key, credential.material()) {
            (TpmKey::Rsa { modulus, exponent }, KeyMaterial::Rsa { n, e }) => {
                let exponent = if *exponent == 0 { 65537 } else { *exponent };
                strip_leading_zeros(modulus) == strip_leading_zeros(n)
                    && strip_leading_zeros(&exponent.to_be_bytes()) == strip_leading_zeros(e)
            }
            (
                TpmKey::Ecc { curve_id, x, y },
                KeyMaterial::Ec2 {
                    curve,
                    x: cx,
                    y: cy,
                },
            ) => {
                let tpm_curve = match *curve_id {
                    TPM_ECC_NIST_P256 => EcCurve::P256,
                    TPM_ECC_NIST_P384 => EcCurve::P384,
                    TPM_ECC_NIST_P521 => EcCurve::P521,
                    other => {
                        return Err(tpm_err(format!(
                            "pubArea has unsupported curve {other:#06x}"
                        )))
                    }
                };
                tpm_curve == *curve
                    && strip_leading_zeros(x) == strip_leading_zeros(cx)
                    && strip_leading_zeros(y) == strip_leading_zeros(cy)
            }
            _ => false,
        };
        if same {
            Ok(())
        } else {
            Err(AttestationError::PublicKeyMismatch)
        }
    }
}

/// Skips a TPMT_SYM_DEF_OBJECT: the algorithm, then keyBits and mode unless it is NULL.
fn skip_symmetric(r: &mut Reader<'_>) -> Result<(), AttestationError> {
    let alg = r.u16("parameters.symmetric")?;
    if alg != TPM_ALG_NULL {
        let _key_bits = r.u16("parameters.symmetric.keyBits")?;
        let _mode = r.u16("parameters.symmetric.mode")?;
    }
    Ok(())
}

/// Skips a TPMT_RSA_SCHEME / TPMT_ECC_SCHEME: the scheme, then its details.
fn skip_scheme(r: &mut Reader<'_>, field: &str) -> Result<(), AttestationError> {
    let scheme = r.u16(field)?;
    match scheme {
        TPM_ALG_NULL | TPM_ALG_RSAES => Ok(()),
        TPM_ALG_ECDAA => {
            let _hash = r.u16("parameters.scheme.hashAlg")?;
            let _count = r.u16("parameters.scheme.count")?;
            Ok(())
        }
        s if SCHEMES_WITH_HASH.contains(&s) => r.u16("parameters.scheme.hashAlg").map(drop),
        other => Err(tpm_err(format!("pubArea has unknown scheme {other:#06x}"))),
    }
}

/// The Name of an object ([TPMv2-Part1] §16): `nameAlg || H_nameAlg(pubArea)`.
fn tpm_name(name_alg: u16, pub_area: &[u8]) -> Result<Vec<u8>, AttestationError> {
    let hash: &'static digest::Algorithm = match name_alg {
        TPM_ALG_SHA1 => &digest::SHA1_FOR_LEGACY_USE_ONLY,
        TPM_ALG_SHA256 => &digest::SHA256,
        TPM_ALG_SHA384 => &digest::SHA384,
        TPM_ALG_SHA512 => &digest::SHA512,
        other => {
            return Err(tpm_err(format!(
                "pubArea.nameAlg {other:#06x} is not supported"
            )))
        }
    };
    let mut name = name_alg.to_be_bytes().to_vec();
    name.extend_from_slice(digest::digest(hash, pub_area).as_ref());
    Ok(name)
}

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    bytes.get(start..).unwrap_or_default()
}

/// §8.3.1 TPM Attestation Statement Certificate Requirements for aikCert.
fn check_aik_certificate(aik: &X509Certificate<'_>) -> Result<(), AttestationError> {
    let fail = |reason: &str| AttestationError::CertificateRequirement {
        format: "tpm",
        reason: reason.into(),
    };
    let unparsable = |e: x509_parser::error::X509Error| AttestationError::Certificate {
        index: 0,
        reason: e.to_string(),
    };
    // Version MUST be set to 3.
    if aik.version() != X509Version::V3 {
        return Err(fail("version must be 3"));
    }
    // Subject field MUST be set to empty.
    if aik.subject().iter().next().is_some() {
        return Err(fail("subject must be empty"));
    }
    // The Subject Alternative Name extension MUST be set as defined in [TPMv2-EK-Profile]
    // §3.2.9: critical (the subject is empty), with a directoryName holding the TPM
    // manufacturer, model and version attributes.
    let san = aik
        .subject_alternative_name()
        .map_err(unparsable)?
        .ok_or_else(|| fail("the Subject Alternative Name extension is missing"))?;
    if !san.critical {
        return Err(fail(
            "the Subject Alternative Name extension must be critical when the subject is empty",
        ));
    }
    let wanted = [OID_TPM_MANUFACTURER, OID_TPM_MODEL, OID_TPM_VERSION]
        .map(|oid| oid.parse::<Oid<'static>>());
    let [Ok(manufacturer), Ok(model), Ok(version)] = wanted else {
        return Err(AttestationError::Malformed("bad TPM attribute OID".into()));
    };
    let has_tpm_attributes = san.value.general_names.iter().any(|name| match name {
        GeneralName::DirectoryName(dn) => [&manufacturer, &model, &version].iter().all(|oid| {
            dn.iter_attributes()
                .any(|a| a.attr_type() == *oid && a.as_str().is_ok_and(|s| !s.is_empty()))
        }),
        _ => false,
    });
    if !has_tpm_attributes {
        return Err(fail(
            "the Subject Alternative Name lacks a directoryName with the TPM manufacturer, \
             model and version",
        ));
    }
    // The Extended Key Usage extension MUST contain tcg-kp-AIKCertificate.
    let aik_kp: Oid<'static> = OID_TCG_KP_AIK_CERTIFICATE
        .parse()
        .map_err(|_| AttestationError::Malformed("bad OID".into()))?;
    let eku = aik
        .extended_key_usage()
        .map_err(unparsable)?
        .ok_or_else(|| fail("the Extended Key Usage extension is missing"))?;
    if !eku.value.other.contains(&aik_kp) {
        return Err(fail(
            "the Extended Key Usage extension lacks tcg-kp-AIKCertificate (2.23.133.8.3)",
        ));
    }
    // The Basic Constraints extension MUST have the CA component set to false.
    let bc = aik
        .basic_constraints()
        .map_err(unparsable)?
        .ok_or_else(|| fail("the Basic Constraints extension is missing"))?;
    if bc.value.ca {
        return Err(fail("basic constraints must have CA set to false"));
    }
    Ok(())
}
