//! `fido-u2f` attestation (§8.6), what CTAP1/U2F authenticators produce.

use crate::cose::{CoseAlgorithm, EcCurve, KeyMaterial};

use super::{
    cert, stmt_bytes, stmt_x5c, AttestationError, AttestationFormat, AttestationType,
    StatementInput, VerifiedStatement,
};

pub(super) fn verify(input: &StatementInput<'_>) -> Result<VerifiedStatement, AttestationError> {
    let signature = stmt_bytes(input.att_stmt, "sig")?;
    let x5c = stmt_x5c(input.att_stmt)?.ok_or(AttestationError::MissingField("x5c"))?;
    // Step 2: x5c has exactly one element, whose key is an EC P-256 key.
    if x5c.len() != 1 {
        return Err(AttestationError::Malformed(format!(
            "fido-u2f x5c must hold exactly one certificate, found {}",
            x5c.len()
        )));
    }
    let att_cert = cert::parse(&x5c[0], 0)?;
    let cert_key = cert::public_key(&att_cert, CoseAlgorithm::Es256, 0).map_err(|_| {
        AttestationError::CertificateRequirement {
            format: "fido-u2f",
            reason: "the attestation certificate key must be an EC P-256 key".into(),
        }
    })?;
    // Step 4: the credential key is EC2 P-256; publicKeyU2F = 0x04 || x || y.
    let (x, y) = match input.credential.public_key.material() {
        KeyMaterial::Ec2 {
            curve: EcCurve::P256,
            x,
            y,
        } => (x, y),
        _ => {
            return Err(AttestationError::Malformed(
                "fido-u2f requires an EC P-256 credential key".into(),
            ))
        }
    };
    // Step 5: verificationData = 0x00 || rpIdHash || clientDataHash || credentialId || publicKeyU2F.
    let mut data = Vec::with_capacity(1 + 32 + 32 + 64 + 65);
    data.push(0x00);
    data.extend_from_slice(&input.auth_data.rp_id_hash);
    data.extend_from_slice(input.client_data_hash);
    data.extend_from_slice(input.credential.credential_id.as_bytes());
    data.push(0x04);
    data.extend_from_slice(x);
    data.extend_from_slice(y);
    // Step 6: verify the signature with the certificate's key.
    cert_key
        .verify(&data, signature)
        .map_err(|_| AttestationError::BadSignature)?;
    Ok(VerifiedStatement {
        format: AttestationFormat::FidoU2f,
        kind: AttestationType::Basic,
        trust_path: x5c,
    })
}
