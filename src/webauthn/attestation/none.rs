//! `none` attestation (§8.7): attStmt must be the empty map.

use super::{
    AttestationError, AttestationFormat, AttestationType, StatementInput, VerifiedStatement,
};

pub(super) fn verify(input: &StatementInput<'_>) -> Result<VerifiedStatement, AttestationError> {
    if !input.att_stmt.is_empty() {
        return Err(AttestationError::Malformed(
            "the none format requires an empty attStmt".into(),
        ));
    }
    Ok(VerifiedStatement {
        format: AttestationFormat::None,
        kind: AttestationType::None,
        trust_path: Vec::new(),
    })
}
