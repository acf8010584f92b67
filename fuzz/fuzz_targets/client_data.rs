//! `ctapkit::webauthn::CollectedClientData::from_json_bytes` on arbitrary bytes.
//!
//! When it parses: the browser-style serialisation (`to_json_bytes`) parses back to the same
//! client data (with `crossOrigin` made explicit, as `to_json_bytes` always writes it).
#![no_main]

use ctapkit::webauthn::client_data::MAX_CLIENT_DATA_LEN;
use ctapkit::webauthn::CollectedClientData;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(c) = CollectedClientData::from_json_bytes(data) else {
        return;
    };
    let bytes = c.to_json_bytes();
    if bytes.len() > MAX_CLIENT_DATA_LEN {
        // Escaping can grow the text past the size limit; nothing to compare then.
        return;
    }
    let back = match CollectedClientData::from_json_bytes(&bytes) {
        Ok(b) => b,
        Err(e) => panic!(
            "to_json_bytes output does not parse: {e} ({:?})",
            String::from_utf8_lossy(&bytes)
        ),
    };
    let expected = CollectedClientData {
        cross_origin: Some(c.cross_origin.unwrap_or(false)),
        ..c
    };
    assert_eq!(back, expected, "to_json_bytes round trip changed the client data");
});
