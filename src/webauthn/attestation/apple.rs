//! Apple anonymous attestation (§8.8).

use x509_parser::der_parser::ber::BerObjectContent;
use x509_parser::der_parser::der::parse_der;

use super::{
    cert, stmt_x5c, AttestationError, AttestationFormat, AttestationType, StatementInput,
    VerifiedStatement,
};
use crate::webauthn::sha256;

/// The Apple nonce extension.
const OID_APPLE_NONCE: &str = "1.2.840.113635.100.8.2";

pub(super) fn verify(input: &StatementInput<'_>) -> Result<VerifiedStatement, AttestationError> {
    let x5c = stmt_x5c(input.att_stmt)?.ok_or(AttestationError::MissingField("x5c"))?;
    let cred_cert = cert::parse(&x5c[0], 0)?;
    // Steps 2-3: nonce = SHA-256(authenticatorData || clientDataHash).
    let nonce = sha256(&input.signed_data());
    // Step 4: credCert's extension 1.2.840.113635.100.8.2 is
    // SEQUENCE { [1] EXPLICIT OCTET STRING nonce }.
    let ext = cert::extension_value(&cred_cert, OID_APPLE_NONCE)?.ok_or_else(|| {
        AttestationError::CertificateRequirement {
            format: "apple",
            reason: "credCert lacks the nonce extension 1.2.840.113635.100.8.2".into(),
        }
    })?;
    let found = apple_nonce(ext).ok_or_else(|| {
        AttestationError::Malformed(
            "the Apple nonce extension is not SEQUENCE { [1] OCTET STRING }".into(),
        )
    })?;
    if found != nonce {
        return Err(AttestationError::NonceMismatch);
    }
    // Step 5: the credential public key equals the subject public key of credCert.
    let alg = input.credential.public_key.alg();
    let cert_key = cert::public_key(&cred_cert, alg, 0)?;
    if cert_key != input.credential.public_key {
        return Err(AttestationError::PublicKeyMismatch);
    }
    Ok(VerifiedStatement {
        format: AttestationFormat::Apple,
        kind: AttestationType::AnonCa,
        trust_path: x5c,
    })
}

fn apple_nonce(ext: &[u8]) -> Option<Vec<u8>> {
    let (rest, seq) = parse_der(ext).ok()?;
    if !rest.is_empty() {
        return None;
    }
    let items = seq.as_sequence().ok()?;
    let tagged = items.first()?;
    if tagged.header.tag().0 != 1 {
        return None;
    }
    let inner = match &tagged.content {
        BerObjectContent::Tagged(_, _, inner) => inner.as_slice().ok()?.to_vec(),
        BerObjectContent::Unknown(any) => {
            let (_, obj) = parse_der(any.data).ok()?;
            obj.as_slice().ok()?.to_vec()
        }
        _ => return None,
    };
    Some(inner)
}
