//! COSE_Key examples from RFC 9052 Appendix C.7 and the cose-wg Examples (vectors/cose).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod util;

use ctapkit::cbor::{self, DecodeOptions, Value};
use ctapkit::cose::{CoseError, KeyMaterial, PublicKey};

/// The WebAuthn algorithm for a curve (the examples carry no `alg`, WebAuthn requires one).
fn alg_for(crv: &str) -> Option<i64> {
    match crv {
        "P-256" => Some(-7),
        "P-384" => Some(-35),
        "P-521" => Some(-36),
        "Ed25519" => Some(-8),
        _ => None,
    }
}

fn with_alg(key_hex: &str, alg: i64) -> Vec<u8> {
    let bytes = hex::decode(key_hex).unwrap();
    let Value::Map(mut m) = cbor::decode(&bytes, DecodeOptions::CANONICAL).unwrap() else {
        panic!("not a map")
    };
    m.push((Value::from(3), Value::from(alg)));
    cbor::encode(&Value::Map(m)).unwrap()
}

#[test]
fn rfc9052_and_cose_wg_keys() {
    let keys = util::read_json("cose/keys.json");
    let mut parsed = 0;
    for entry in keys.as_array().unwrap() {
        let kid = entry["kid"].as_str().unwrap_or("-");
        let crv = entry["crv"].as_str().unwrap_or("");
        let expect = entry["expect"].as_str().unwrap();
        match expect {
            "symmetric" => {
                let err = PublicKey::from_cose_bytes(&with_alg(
                    entry["cose_key_hex"].as_str().unwrap(),
                    -7,
                ))
                .unwrap_err();
                assert!(
                    matches!(err, CoseError::KeyTypeMismatch { .. }),
                    "{kid}: {err}"
                );
            }
            "note" => {
                // Mislabelled curves or short coordinates: a strict parser refuses them.
                let public = entry["cose_key_public_hex"].as_str().unwrap();
                let err = PublicKey::from_cose_bytes(&with_alg(public, -35)).unwrap_err();
                assert!(
                    matches!(
                        err,
                        CoseError::PointNotOnCurve(_)
                            | CoseError::WrongLength { .. }
                            | CoseError::WrongParameterType("crv")
                    ),
                    "{kid}: {err}"
                );
            }
            _ => {
                let public = entry["cose_key_public_hex"].as_str().unwrap();
                // Without alg: WebAuthn keys must carry one.
                let err = PublicKey::from_cose_bytes(&hex::decode(public).unwrap()).unwrap_err();
                assert!(
                    matches!(err, CoseError::MissingParameter("alg")),
                    "{kid}: {err}"
                );
                let Some(alg) = alg_for(crv) else {
                    let err = PublicKey::from_cose_bytes(&with_alg(public, -8)).unwrap_err();
                    assert!(
                        matches!(err, CoseError::CurveMismatch { .. }),
                        "{kid} ({crv}): {err}"
                    );
                    continue;
                };
                let key = PublicKey::from_cose_bytes(&with_alg(public, alg))
                    .unwrap_or_else(|e| panic!("{kid} ({crv}): {e}"));
                let x = hex::decode(entry["x"].as_str().unwrap()).unwrap();
                match key.material() {
                    KeyMaterial::Ec2 { x: kx, .. } => assert_eq!(*kx, x, "{kid}"),
                    KeyMaterial::Ed25519(kx) => assert_eq!(kx.to_vec(), x, "{kid}"),
                    other => panic!("{kid}: unexpected {other:?}"),
                }
                assert_eq!(
                    PublicKey::from_cose_bytes(&key.to_cose_bytes()).unwrap(),
                    key
                );
                parsed += 1;
            }
        }
    }
    assert!(parsed >= 15, "only {parsed} keys parsed");
}
