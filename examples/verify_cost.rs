//! Instruction-count harness for the verification overhead (run under
//! `valgrind --tool=callgrind`): `verify_cost bare|full ES256|EdDSA|RS256 N`.
//! Used by `scripts/bench-ratio`; criterion (benches/verify.rs) gives wall-clock numbers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use ctapkit::webauthn::authentication::verify_assertion_parts;
use ctapkit::webauthn::registration::verify_registration_parts;
use ctapkit::webauthn::{sha256, Policy, TrustStore};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (mode, alg, n) = (
        args[1].as_str(),
        args[2].as_str(),
        args[3].parse::<usize>().unwrap(),
    );
    let name = match alg {
        "ES256" => "packed-es256",
        "EdDSA" => "packed-eddsa",
        "RS256" => "packed-rs256",
        other => panic!("unknown algorithm {other}"),
    };
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("vectors/w3c/{name}.json"));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let h = |p: &serde_json::Value| hex::decode(p.as_str().unwrap()).unwrap();
    let (r, a) = (&v["registration"], &v["authentication"]);
    let mut policy = Policy::new("example.org");
    let mut store = TrustStore::new();
    for anchor in r["attestation_trust_anchors"].as_array().unwrap() {
        store.add_der(h(anchor)).unwrap();
    }
    policy.trust_store = store;
    policy.attestation_time = Some(1_735_689_600);
    let record = verify_registration_parts(
        &policy,
        &h(&r["challenge"]),
        &h(&r["client_data_json"]),
        &h(&r["attestation_object"]),
        None,
        vec![],
    )
    .unwrap()
    .credential;
    let (challenge, cdj, ad, sig) = (
        h(&a["challenge"]),
        h(&a["client_data_json"]),
        h(&a["authenticator_data"]),
        h(&a["signature"]),
    );
    let signed = [ad.as_slice(), &sha256(&cdj)].concat();
    for _ in 0..n {
        match mode {
            "bare" => record
                .public_key
                .verify(std::hint::black_box(&signed), &sig)
                .unwrap(),
            "full" => {
                verify_assertion_parts(
                    &policy,
                    &challenge,
                    &record,
                    std::hint::black_box(&cdj),
                    &ad,
                    &sig,
                )
                .unwrap();
            }
            "setup" => {}
            other => panic!("unknown mode {other}"),
        }
    }
}
