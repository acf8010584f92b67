//! `packed` attestation (§8.2): full (x5c) or self attestation.

use x509_parser::certificate::X509Certificate;
use x509_parser::x509::X509Version;

use super::{
    cert, stmt_alg, stmt_bytes, stmt_x5c, AttestationError, AttestationFormat, AttestationType,
    StatementInput, VerifiedStatement,
};

/// id-fido-gen-ce-aaguid.
pub(super) const OID_FIDO_GEN_CE_AAGUID: &str = "1.3.6.1.4.1.45724.1.1.4";

pub(super) fn verify(input: &StatementInput<'_>) -> Result<VerifiedStatement, AttestationError> {
    let alg = stmt_alg(input.att_stmt)?;
    let signature = stmt_bytes(input.att_stmt, "sig")?;
    let signed = input.signed_data();
    match stmt_x5c(input.att_stmt)? {
        Some(x5c) => {
            // Full attestation: verify sig with the attestation certificate's key.
            if !alg.is_supported() {
                return Err(AttestationError::UnsupportedAlgorithm(alg.to_i64()));
            }
            let leaf = cert::parse(&x5c[0], 0)?;
            let key = cert::public_key(&leaf, alg, 0)?;
            key.verify(&signed, signature)
                .map_err(|_| AttestationError::BadSignature)?;
            check_certificate(&leaf, input)?;
            Ok(VerifiedStatement {
                format: AttestationFormat::Packed,
                kind: AttestationType::Basic,
                trust_path: x5c,
            })
        }
        None => {
            // Self attestation: alg must be the credential key's, which signs.
            let key = &input.credential.public_key;
            if alg != key.alg() {
                return Err(AttestationError::AlgorithmMismatch {
                    stmt: alg,
                    key: key.alg(),
                });
            }
            key.verify(&signed, signature)
                .map_err(|_| AttestationError::BadSignature)?;
            Ok(VerifiedStatement {
                format: AttestationFormat::Packed,
                kind: AttestationType::SelfAttestation,
                trust_path: Vec::new(),
            })
        }
    }
}

/// §8.2.1 Certificate Requirements for Packed Attestation Statements.
fn check_certificate(
    leaf: &X509Certificate<'_>,
    input: &StatementInput<'_>,
) -> Result<(), AttestationError> {
    let fail = |reason: &str| AttestationError::CertificateRequirement {
        format: "packed",
        reason: reason.into(),
    };
    if leaf.version() != X509Version::V3 {
        return Err(fail("version must be 3"));
    }
    let subject = leaf.subject();
    if subject.iter_country().next().is_none() {
        return Err(fail("subject lacks C (country)"));
    }
    if subject.iter_organization().next().is_none() {
        return Err(fail("subject lacks O (organization)"));
    }
    let ou_ok = subject
        .iter_organizational_unit()
        .any(|ou| ou.as_str().ok() == Some("Authenticator Attestation"));
    if !ou_ok {
        return Err(fail("subject OU must be \"Authenticator Attestation\""));
    }
    if subject.iter_common_name().next().is_none() {
        return Err(fail("subject lacks CN"));
    }
    if leaf.is_ca() {
        return Err(fail("basic constraints must have CA set to false"));
    }
    check_aaguid_extension(leaf, input, "packed")
}

/// If the certificate has id-fido-gen-ce-aaguid, it must be non-critical and match authData.
pub(super) fn check_aaguid_extension(
    leaf: &X509Certificate<'_>,
    input: &StatementInput<'_>,
    format: &'static str,
) -> Result<(), AttestationError> {
    let oid: x509_parser::oid_registry::Oid<'static> = OID_FIDO_GEN_CE_AAGUID
        .parse()
        .map_err(|_| AttestationError::Malformed("bad OID".into()))?;
    let ext = leaf
        .get_extension_unique(&oid)
        .map_err(|e| AttestationError::Certificate {
            index: 0,
            reason: e.to_string(),
        })?;
    if let Some(ext) = ext {
        if ext.critical {
            return Err(AttestationError::CertificateRequirement {
                format,
                reason: "the AAGUID extension must not be critical".into(),
            });
        }
        // The extension value is an OCTET STRING holding the 16-byte AAGUID.
        let value = ext.value;
        let aaguid = match value {
            [0x04, 0x10, rest @ ..] if rest.len() == 16 => rest,
            _ => {
                return Err(AttestationError::CertificateRequirement {
                    format,
                    reason: "the AAGUID extension is not a 16-byte OCTET STRING".into(),
                })
            }
        };
        if aaguid != input.credential.aaguid.0 {
            return Err(AttestationError::AaguidMismatch);
        }
    }
    Ok(())
}
