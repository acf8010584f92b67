use super::*;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self as sig, KeyPair as _};

fn cose_map(entries: Vec<(i64, Value)>) -> Vec<u8> {
    cbor::encode(&Value::Map(
        entries
            .into_iter()
            .map(|(k, v)| (Value::from(k), v))
            .collect(),
    ))
    .unwrap()
}

fn p256_keypair() -> sig::EcdsaKeyPair {
    let rng = SystemRandom::new();
    let pkcs8 =
        sig::EcdsaKeyPair::generate_pkcs8(&sig::ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
    sig::EcdsaKeyPair::from_pkcs8(&sig::ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref()).unwrap()
}

fn es256_cose(point: &[u8]) -> Vec<u8> {
    cose_map(vec![
        (1, Value::from(2)),
        (3, Value::from(-7)),
        (-1, Value::from(1)),
        (-2, Value::Bytes(point[1..33].to_vec())),
        (-3, Value::Bytes(point[33..].to_vec())),
    ])
}

#[test]
fn es256_round_trip_and_verify() {
    let kp = p256_keypair();
    let point = kp.public_key().as_ref().to_vec();
    let bytes = es256_cose(&point);
    let key = PublicKey::from_cose_bytes(&bytes).unwrap();
    assert_eq!(key.alg(), CoseAlgorithm::Es256);
    assert_eq!(
        key.to_cose_bytes(),
        bytes,
        "canonical re-encoding is identical"
    );
    let msg = b"authenticatorData || clientDataHash";
    let signature = kp.sign(&SystemRandom::new(), msg).unwrap();
    key.verify(msg, signature.as_ref()).unwrap();
    let mut bad = signature.as_ref().to_vec();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    assert_eq!(
        key.verify(msg, &bad),
        Err(SignatureError {
            alg: CoseAlgorithm::Es256
        })
    );
    assert!(key.verify(b"other message", signature.as_ref()).is_err());
    let jwk = key.to_jwk();
    assert_eq!(jwk["kty"], "EC");
    assert_eq!(jwk["crv"], "P-256");
    assert_eq!(
        URL_SAFE_NO_PAD.decode(jwk["x"].as_str().unwrap()).unwrap(),
        point[1..33]
    );
    // coset sees the same key.
    let again = PublicKey::from_cose_key(&key.to_cose_key()).unwrap();
    assert_eq!(again, key);
}

#[test]
fn ed25519_verify() {
    let rng = SystemRandom::new();
    let pkcs8 = sig::Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
    let kp = sig::Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
    let bytes = cose_map(vec![
        (1, Value::from(1)),
        (3, Value::from(-8)),
        (-1, Value::from(6)),
        (-2, Value::Bytes(kp.public_key().as_ref().to_vec())),
    ]);
    let key = PublicKey::from_cose_bytes(&bytes).unwrap();
    assert_eq!(key.to_cose_bytes(), bytes);
    let s = kp.sign(b"m");
    key.verify(b"m", s.as_ref()).unwrap();
    assert!(key.verify(b"n", s.as_ref()).is_err());
    assert_eq!(key.to_jwk()["kty"], "OKP");
}

#[test]
fn rsa_pkcs1_and_pss_verify() {
    let kp = sig::RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
    let n = kp
        .public_key()
        .modulus()
        .big_endian_without_leading_zero()
        .to_vec();
    let e = kp
        .public_key()
        .exponent()
        .big_endian_without_leading_zero()
        .to_vec();
    for (alg, padding) in [
        (-257, &sig::RSA_PKCS1_SHA256 as &dyn sig::RsaEncoding),
        (-37, &sig::RSA_PSS_SHA256),
    ] {
        let bytes = cose_map(vec![
            (1, Value::from(3)),
            (3, Value::from(alg)),
            (-1, Value::Bytes(n.clone())),
            (-2, Value::Bytes(e.clone())),
        ]);
        let key = PublicKey::from_cose_bytes(&bytes).unwrap();
        let mut s = vec![0u8; kp.public_modulus_len()];
        kp.sign(padding, &SystemRandom::new(), b"msg", &mut s)
            .unwrap();
        key.verify(b"msg", &s).unwrap();
        assert!(key.verify(b"msh", &s).is_err());
        assert_eq!(key.to_jwk()["kty"], "RSA");
    }
}

#[test]
fn bad_keys_get_typed_errors() {
    let kp = p256_keypair();
    let p = kp.public_key().as_ref().to_vec();
    let x = Value::Bytes(p[1..33].to_vec());
    let y = Value::Bytes(p[33..].to_vec());
    let mut off_curve_y = p[33..].to_vec();
    off_curve_y[31] ^= 1;
    type Check = fn(&CoseError) -> bool;
    type Case = (&'static str, Vec<(i64, Value)>, Check);
    let cases: Vec<Case> = vec![
        (
            "no alg",
            vec![
                (1, 2.into()),
                (-1, 1.into()),
                (-2, x.clone()),
                (-3, y.clone()),
            ],
            |e| matches!(e, CoseError::MissingParameter("alg")),
        ),
        (
            "unknown alg",
            vec![
                (1, 2.into()),
                (3, (-65535).into()),
                (-1, 1.into()),
                (-2, x.clone()),
                (-3, y.clone()),
            ],
            |e| matches!(e, CoseError::UnsupportedAlgorithm(-65535)),
        ),
        (
            "ES256 on OKP",
            vec![
                (1, 1.into()),
                (3, (-7).into()),
                (-1, 1.into()),
                (-2, x.clone()),
                (-3, y.clone()),
            ],
            |e| matches!(e, CoseError::KeyTypeMismatch { .. }),
        ),
        (
            "ES256 on P-384",
            vec![
                (1, 2.into()),
                (3, (-7).into()),
                (-1, 2.into()),
                (-2, x.clone()),
                (-3, y.clone()),
            ],
            |e| matches!(e, CoseError::CurveMismatch { crv: 2, .. }),
        ),
        (
            "short x",
            vec![
                (1, 2.into()),
                (3, (-7).into()),
                (-1, 1.into()),
                (-2, Value::Bytes(vec![1; 31])),
                (-3, y.clone()),
            ],
            |e| {
                matches!(
                    e,
                    CoseError::WrongLength {
                        param: "x",
                        expected: 32,
                        actual: 31
                    }
                )
            },
        ),
        (
            "compressed",
            vec![
                (1, 2.into()),
                (3, (-7).into()),
                (-1, 1.into()),
                (-2, x.clone()),
                (-3, Value::Bool(true)),
            ],
            |e| matches!(e, CoseError::CompressedPoint),
        ),
        (
            "off curve",
            vec![
                (1, 2.into()),
                (3, (-7).into()),
                (-1, 1.into()),
                (-2, x.clone()),
                (-3, Value::Bytes(off_curve_y)),
            ],
            |e| matches!(e, CoseError::PointNotOnCurve("P-256")),
        ),
        (
            "missing y",
            vec![
                (1, 2.into()),
                (3, (-7).into()),
                (-1, 1.into()),
                (-2, x.clone()),
            ],
            |e| matches!(e, CoseError::MissingParameter("y")),
        ),
        (
            "short RSA",
            vec![
                (1, 3.into()),
                (3, (-257).into()),
                (-1, Value::Bytes(vec![0xc5; 128])),
                (-2, Value::Bytes(vec![1, 0, 1])),
            ],
            |e| matches!(e, CoseError::RsaModulusTooShort { bits: 1024 }),
        ),
        (
            "even exponent",
            vec![
                (1, 3.into()),
                (3, (-257).into()),
                (-1, Value::Bytes(vec![0xc5; 256])),
                (-2, Value::Bytes(vec![1, 0, 0])),
            ],
            |e| matches!(e, CoseError::InvalidRsaExponent),
        ),
        (
            "EdDSA on X25519",
            vec![
                (1, 1.into()),
                (3, (-8).into()),
                (-1, 4.into()),
                (-2, Value::Bytes(vec![9; 32])),
            ],
            |e| matches!(e, CoseError::CurveMismatch { crv: 4, .. }),
        ),
        (
            "symmetric",
            vec![
                (1, 4.into()),
                (3, (-7).into()),
                (-1, Value::Bytes(vec![1; 32])),
            ],
            |e| matches!(e, CoseError::KeyTypeMismatch { .. }),
        ),
    ];
    for (name, entries, check) in cases {
        let err = PublicKey::from_cose_bytes(&cose_map(entries)).unwrap_err();
        assert!(check(&err), "{name}: got {err:?}");
    }
    assert!(matches!(
        PublicKey::from_cose_bytes(&[0xa1, 0x01]),
        Err(CoseError::Cbor(_))
    ));
    assert!(matches!(
        PublicKey::from_cose_bytes(&[0x80]),
        Err(CoseError::Structure(_))
    ));
}

#[test]
fn rfc9052_c7_1_p256_key_is_on_curve() {
    // RFC 9052 Appendix C.7.1, kid "meriadoc.brandybuck@buckland.example".
    let x =
        hex::decode("65eda5a12577c2bae829437fe338701a10aaa375e1bb5b5de108de439c08551d").unwrap();
    let y =
        hex::decode("1e52ed75701163f7f9e40ddf9f341b3dc9ba860af7e0ca7ca7e9eecd0084d19c").unwrap();
    let key = PublicKey::from_ec_coordinates(CoseAlgorithm::Es256, EcCurve::P256, &x, &y).unwrap();
    assert_eq!(
        key.to_jwk()["x"],
        "Ze2loSV3wrroKUN_4zhwGhCqo3Xhu1td4QjeQ5wIVR0"
    );
}

#[test]
fn algorithm_ids_round_trip() {
    for id in [-7, -35, -36, -8, -19, -257, -37, -65535, 42] {
        assert_eq!(CoseAlgorithm::from_i64(id).to_i64(), id);
    }
    assert!(!CoseAlgorithm::from_i64(-65535).is_supported());
    assert_eq!(CoseAlgorithm::Es256.to_string(), "ES256");
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(32))]
    #[test]
    fn generated_p256_keys_round_trip(_seed in proptest::num::u8::ANY) {
        let kp = p256_keypair();
        let bytes = es256_cose(kp.public_key().as_ref());
        let key = PublicKey::from_cose_bytes(&bytes).unwrap();
        proptest::prop_assert_eq!(key.to_cose_bytes(), bytes);
        proptest::prop_assert_eq!(PublicKey::from_cose_key(&key.to_cose_key()).unwrap(), key);
    }

    #[test]
    fn parse_never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
        let _ = PublicKey::from_cose_bytes(&bytes);
    }
}
