//! `ctapkit::cose::PublicKey::from_cose_bytes` on arbitrary bytes.
//!
//! When a key parses: its canonical re-encoding (`to_cose_bytes`) is canonical CBOR and parses
//! back to an equal key, the `coset` form (`to_cose_key`) does too, and `to_jwk` and `verify`
//! (with garbage) return without panicking.
#![no_main]

use ctapkit::cbor;
use ctapkit::cose::PublicKey;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(key) = PublicKey::from_cose_bytes(data) else {
        return;
    };

    let bytes = key.to_cose_bytes();
    if let Err(e) = cbor::check_canonical(&bytes) {
        panic!("to_cose_bytes is not canonical CBOR: {e}");
    }
    match PublicKey::from_cose_bytes(&bytes) {
        Ok(again) => assert_eq!(again, key, "to_cose_bytes round trip changed the key"),
        Err(e) => panic!("to_cose_bytes output does not parse: {e:?} ({key:?})"),
    }
    match PublicKey::from_cose_key(&key.to_cose_key()) {
        Ok(again) => assert_eq!(again, key, "to_cose_key round trip changed the key"),
        Err(e) => panic!("to_cose_key output does not parse: {e:?} ({key:?})"),
    }

    let jwk = key.to_jwk();
    assert!(jwk.is_object(), "to_jwk did not give an object");

    let _ = key.verify(data, data);
});
