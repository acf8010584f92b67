//! `RegistrationResponseJSON` from arbitrary bytes, then the whole registration ceremony
//! (`verify_registration`) for RP `example.org`, challenge = 32 zero bytes.
#![no_main]

use ctapkit::webauthn::registration::verify_registration;
use ctapkit::webauthn::{Policy, RegistrationResponseJson};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(resp) = serde_json::from_slice::<RegistrationResponseJson>(data) else {
        return;
    };
    let policy = Policy::new("example.org");
    if let Ok(result) = verify_registration(&policy, &[0u8; 32], &resp) {
        // Serialising the outcome must not panic either.
        let _ = serde_json::to_string(&result.summary());
    }
});
