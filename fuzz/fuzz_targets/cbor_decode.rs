//! `ctapkit::cbor::decode` on arbitrary bytes, in both modes.
//!
//! Besides "never panics", checks the codec's round-trip properties:
//! * CANONICAL accepts a subset of what STRUCTURAL accepts, with the same value;
//! * a CANONICAL-accepted input is the unique canonical encoding of its value
//!   (`encode(decode(x)) == x`);
//! * every STRUCTURAL-decoded value encodes, its canonical encoding decodes in CANONICAL mode,
//!   and gives back the same value up to map entry order (`encode` sorts map keys);
//! * error offsets lie within the input.
#![no_main]

use ctapkit::cbor::{self, DecodeOptions, Value};
use libfuzzer_sys::fuzz_target;

/// `value` with every map's entries in CTAP2 canonical key order, for order-blind comparison.
fn normalize(value: &Value) -> Value {
    match value {
        Value::Array(items) => Value::Array(items.iter().map(normalize).collect()),
        Value::Map(entries) => {
            let mut keyed: Vec<(Vec<u8>, Value, Value)> = entries
                .iter()
                .map(|(k, v)| {
                    let key = normalize(k);
                    let enc = cbor::encode(&key).expect("decoded map key must encode");
                    (enc, key, normalize(v))
                })
                .collect();
            keyed.sort_by(|a, b| cbor::canonical_key_order(&a.0, &b.0));
            Value::Map(keyed.into_iter().map(|(_, k, v)| (k, v)).collect())
        }
        other => other.clone(),
    }
}

fuzz_target!(|data: &[u8]| {
    let structural = cbor::decode(data, DecodeOptions::STRUCTURAL);
    let canonical = cbor::decode(data, DecodeOptions::CANONICAL);

    for err in [structural.as_ref().err(), canonical.as_ref().err()]
        .into_iter()
        .flatten()
    {
        assert!(
            err.offset <= data.len(),
            "error offset {} beyond input length {}: {err}",
            err.offset,
            data.len()
        );
    }

    if let Ok(value) = &canonical {
        assert_eq!(
            structural.as_ref().ok(),
            Some(value),
            "CANONICAL accepted an input that STRUCTURAL rejected or read differently"
        );
        let enc = cbor::encode(value).expect("CANONICAL-decoded value must encode");
        assert_eq!(
            enc, data,
            "CANONICAL accepted an input that is not the canonical encoding of its value"
        );
    }

    if let Ok(value) = &structural {
        let enc = cbor::encode(value).expect("STRUCTURAL-decoded value must encode");
        let back = cbor::decode(&enc, DecodeOptions::CANONICAL)
            .expect("canonical re-encoding must decode in CANONICAL mode");
        assert_eq!(
            normalize(&back),
            normalize(value),
            "canonical re-encoding decodes to a different value"
        );
        assert_eq!(
            cbor::encode(&back).expect("re-decoded value must encode"),
            enc,
            "encoding is not idempotent"
        );
    }
});
