//! `ctapkit::webauthn::attestation::AttestationObject::from_bytes` on arbitrary bytes, then
//! every statement format's verification procedure on what parsed.
//!
//! Two readings of each input:
//! 1. the whole input is the attestation object, clientDataHash = 32 zero bytes;
//! 2. if longer than 32 bytes, the input is `attestationObject || clientDataHash` (the seeds
//!    carry the real hash there, so signatures verify and the fuzzer reaches the certificate
//!    and extension checks that follow a good signature).
#![no_main]

use ctapkit::webauthn::attestation::{
    verify_statement, AttestationFormat, AttestationObject, StatementInput,
};
use libfuzzer_sys::fuzz_target;

fn check(object: &[u8], client_data_hash: &[u8; 32]) {
    let Ok(obj) = AttestationObject::from_bytes(object) else {
        return;
    };
    let Some(credential) = &obj.auth_data.attested_credential_data else {
        return;
    };
    let input = StatementInput {
        att_stmt: &obj.att_stmt,
        auth_data: &obj.auth_data,
        auth_data_raw: &obj.auth_data_raw,
        client_data_hash,
        credential,
    };
    for format in AttestationFormat::ALL {
        let _ = verify_statement(format, &input);
    }
}

fuzz_target!(|data: &[u8]| {
    check(data, &[0u8; 32]);
    if data.len() > 32 {
        let (object, hash) = data.split_at(data.len() - 32);
        let mut h = [0u8; 32];
        h.copy_from_slice(hash);
        check(object, &h);
    }
});
