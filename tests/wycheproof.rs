//! Project Wycheproof signature vectors (vectors/wycheproof) through ctapkit's key parsers
//! and verifiers: every "valid" test verifies, every "invalid" one is rejected.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod util;

use ctapkit::cose::{CoseAlgorithm, CoseError, EcCurve, PublicKey};
use serde_json::Value;

#[derive(Default, Debug)]
struct Tally {
    valid: usize,
    invalid: usize,
    acceptable: usize,
    keys_refused: Vec<String>,
}

fn run(file: &str, key_of: impl Fn(&Value) -> Result<PublicKey, CoseError>) -> Tally {
    let doc = util::read_json(&format!("wycheproof/{file}"));
    let mut tally = Tally::default();
    for group in doc["testGroups"].as_array().unwrap() {
        let key = key_of(group);
        for test in group["tests"].as_array().unwrap() {
            let id = test["tcId"].as_u64().unwrap();
            let msg = hex::decode(test["msg"].as_str().unwrap()).unwrap();
            let sig = hex::decode(test["sig"].as_str().unwrap()).unwrap();
            let result = test["result"].as_str().unwrap();
            let verified = match &key {
                Ok(k) => k.verify(&msg, &sig).is_ok(),
                Err(e) => {
                    tally.keys_refused.push(format!("tcId {id}: {e}"));
                    false
                }
            };
            match result {
                "valid" => {
                    assert!(
                        verified || key.is_err(),
                        "{file} tcId {id} ({}) must verify",
                        test["comment"]
                    );
                    tally.valid += 1;
                }
                "invalid" => {
                    assert!(
                        !verified,
                        "{file} tcId {id} ({}) must be rejected",
                        test["comment"]
                    );
                    tally.invalid += 1;
                }
                _ => tally.acceptable += 1,
            }
        }
    }
    tally
}

fn hex_field(v: &Value, path: &[&str]) -> Vec<u8> {
    let mut cur = v;
    for p in path {
        cur = &cur[*p];
    }
    hex::decode(cur.as_str().unwrap()).unwrap()
}

#[test]
fn ecdsa_p256_sha256_der() {
    let t = run("ecdsa_secp256r1_sha256_test.json", |g| {
        PublicKey::from_sec1_uncompressed(
            CoseAlgorithm::Es256,
            EcCurve::P256,
            &hex_field(g, &["publicKey", "uncompressed"]),
        )
    });
    assert!(t.keys_refused.is_empty(), "{:?}", t.keys_refused);
    assert_eq!((t.valid, t.invalid), (174, 310));
}

#[test]
fn ecdsa_p384_sha384_der() {
    let t = run("ecdsa_secp384r1_sha384_test.json", |g| {
        PublicKey::from_sec1_uncompressed(
            CoseAlgorithm::Es384,
            EcCurve::P384,
            &hex_field(g, &["publicKey", "uncompressed"]),
        )
    });
    assert!(t.keys_refused.is_empty(), "{:?}", t.keys_refused);
    assert_eq!((t.valid, t.invalid), (194, 310));
}

#[test]
fn ed25519() {
    let t = run("ed25519_test.json", |g| {
        PublicKey::from_ed25519(CoseAlgorithm::EdDsa, &hex_field(g, &["publicKey", "pk"]))
    });
    assert!(t.keys_refused.is_empty(), "{:?}", t.keys_refused);
    assert_eq!((t.valid, t.invalid), (88, 63));
}

#[test]
fn rsa_pkcs1_2048_sha256() {
    let t = run("rsa_signature_2048_sha256_test.json", |g| {
        PublicKey::from_rsa_components(
            CoseAlgorithm::Rs256,
            &hex_field(g, &["publicKey", "modulus"]),
            &hex_field(g, &["publicKey", "publicExponent"]),
        )
    });
    assert!(t.keys_refused.is_empty(), "{:?}", t.keys_refused);
    assert_eq!((t.valid, t.invalid, t.acceptable), (9, 249, 1));
}

#[test]
fn rsa_pss_2048_sha256_mgf1_32() {
    let t = run("rsa_pss_2048_sha256_mgf1_32_test.json", |g| {
        PublicKey::from_rsa_components(
            CoseAlgorithm::Ps256,
            &hex_field(g, &["publicKey", "modulus"]),
            &hex_field(g, &["publicKey", "publicExponent"]),
        )
    });
    assert!(t.keys_refused.is_empty(), "{:?}", t.keys_refused);
    assert_eq!((t.valid, t.invalid), (63, 45));
}
