//! `CreateOptions::from_json` / `GetOptions::from_json` (the relying party's options, as
//! `ctapkit enroll` receives them from a site) on arbitrary JSON: typed errors, no panic, and
//! what is accepted is usable (a challenge, a user handle of 1 to 64 bytes, an algorithm).
#![no_main]

use ctapkit::platform::{AuthenticatorCapabilities, CreateOptions, GetOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    for caps in [
        AuthenticatorCapabilities::default(),
        AuthenticatorCapabilities { resident_keys: true, user_verification: true },
    ] {
        if let Ok(o) = CreateOptions::from_json(&json, "https://example.org", caps) {
            assert!(!o.user_id.is_empty() && o.user_id.len() <= 64);
            assert!(!o.algorithms.is_empty());
            let _ = CreateOptions::attachment(&json);
        }
        let _ = GetOptions::from_json(&json, "http://localhost:8080", caps);
    }
});
