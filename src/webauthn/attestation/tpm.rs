//! Placeholder, being written.

use super::{AttestationError, StatementInput, VerifiedStatement};

pub(super) fn verify(_input: &StatementInput<'_>) -> Result<VerifiedStatement, AttestationError> {
    Err(AttestationError::Malformed("not implemented yet".into()))
}
