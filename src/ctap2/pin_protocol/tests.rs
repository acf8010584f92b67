use super::*;
use crate::cbor;
use proptest::prelude::*;

fn h(s: &str) -> Vec<u8> {
    hex::decode(s.replace([' ', '\n'], "")).unwrap()
}

/// The `authentication.other` values of a W3C hmac-secret vector file (vectors/w3c/README.md).
struct W3cVector(serde_json::Map<String, serde_json::Value>);

impl W3cVector {
    fn load(name: &str) -> Self {
        let path = format!("{}/vectors/w3c/{name}.json", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        W3cVector(json["authentication"]["other"].as_object().unwrap().clone())
    }
    fn bytes(&self, key: &str) -> Vec<u8> {
        h(self.0[key].as_str().unwrap_or_else(|| panic!("no {key}")))
    }
    fn protocol(&self) -> PinUvAuthProtocol {
        let n: u64 = self.0["pin_protocol"].as_str().unwrap().parse().unwrap();
        PinUvAuthProtocol::try_from(n).unwrap()
    }
    /// The spec's literal authenticator public key.
    fn authenticator_public(&self) -> EcdhPublicKey {
        EcdhPublicKey::from_coordinates(
            self.bytes("authenticator_key_agreement_public_key.-2")
                .try_into()
                .unwrap(),
            self.bytes("authenticator_key_agreement_public_key.-3")
                .try_into()
                .unwrap(),
        )
        .unwrap()
    }
    /// The platform key from the spec's literal private key.
    fn platform_key(&self) -> KeyAgreementKey {
        KeyAgreementKey::from_private_key_bytes(
            self.protocol(),
            &self.bytes("platform_key_agreement_private_key"),
        )
        .unwrap()
    }
    /// The authenticator key from the transcriber's `derived:` private key (SHA-256(seed || 05)).
    fn authenticator_key(&self) -> KeyAgreementKey {
        KeyAgreementKey::from_private_key_bytes(
            self.protocol(),
            &self.bytes("derived:authenticator_key_agreement_private_key"),
        )
        .unwrap()
    }
}

const VECTORS: [&str; 3] = [
    "prf-hmac-secret-pin-protocol-1-single",
    "prf-hmac-secret-pin-protocol-2-single",
    "prf-hmac-secret-pin-protocol-2-two-inputs",
];

// ---- Known answers: W3C WebAuthn L3 §"CTAP2 hmac-secret extension" test vectors ----

#[test]
fn kat_platform_side_shared_secret() {
    // The platform's ECDH with the authenticator's key, both spec literals, gives the spec's
    // shared secret: checks ecdh (x-coordinate) and kdf for both protocols.
    for name in VECTORS {
        let v = W3cVector::load(name);
        let shared = v
            .platform_key()
            .decapsulate(&v.authenticator_public())
            .unwrap();
        assert_eq!(
            hex::encode(&shared),
            hex::encode(v.bytes("shared_secret")),
            "{name}"
        );
        assert_eq!(shared.len(), v.protocol().shared_secret_len());
    }
}

#[test]
fn kat_authenticator_side_decapsulate() {
    for name in VECTORS {
        let v = W3cVector::load(name);
        let auth = v.authenticator_key();
        // The derived private key matches the spec's literal public key.
        assert_eq!(auth.public_key(), &v.authenticator_public(), "{name}");
        let platform_public = v.platform_key().public_key().clone();
        assert_eq!(
            platform_public.x().as_slice(),
            v.bytes("derived:platform_key_agreement_public_key.-2")
        );
        assert_eq!(
            platform_public.y().as_slice(),
            v.bytes("derived:platform_key_agreement_public_key.-3")
        );
        // decapsulate of the platform key, received as a COSE_Key, gives the same secret.
        let received = EcdhPublicKey::from_cose_value(&platform_public.to_cose_value()).unwrap();
        assert_eq!(
            auth.decapsulate(&received).unwrap(),
            v.bytes("shared_secret"),
            "{name}"
        );
    }
}

#[test]
fn kat_kdf_from_z() {
    for name in VECTORS {
        let v = W3cVector::load(name);
        let z = v.platform_key().ecdh(&v.authenticator_public()).unwrap();
        assert_eq!(z.len(), COORDINATE_LEN);
        assert_eq!(
            v.protocol().kdf(&z).unwrap(),
            v.bytes("shared_secret"),
            "{name}"
        );
    }
    // The two protocols derive unrelated secrets from one Z; Two's halves differ.
    let z = [0x42u8; 32];
    let one = PinUvAuthProtocol::One.kdf(&z).unwrap();
    let two = PinUvAuthProtocol::Two.kdf(&z).unwrap();
    assert_eq!(one, digest::digest(&digest::SHA256, &z).as_ref());
    assert_eq!(two.len(), 64);
    assert_ne!(two[..32], two[32..]);
    assert_ne!(one, two[..32]);
}

#[test]
fn kat_cose_encoding_of_the_authenticator_key() {
    let v = W3cVector::load(VECTORS[0]);
    let encoded = cbor::encode(&v.authenticator_key().public_cose_key()).unwrap();
    assert_eq!(
        hex::encode(&encoded),
        hex::encode(v.bytes("derived:authenticator_key_agreement_public_key_cose_cbor"))
    );
    // Annotated: {1: 2, 3: -25, -1: 1, -2: x, -3: y}.
    assert!(encoded.starts_with(&h(concat!(
        "a5",      // map(5)
        "01 02",   // kty: EC2
        "03 3818", // alg: -25
        "20 01",   // crv: P-256
        "21 5820", // x: bytes(32)
    ))));
}

#[test]
fn kat_encrypt_protocol_one() {
    let v = W3cVector::load("prf-hmac-secret-pin-protocol-1-single");
    let p = PinUvAuthProtocol::One;
    let shared = v.bytes("shared_secret");
    for (plain, enc) in [("salt1", "salt_enc"), ("output1", "output_enc")] {
        assert_eq!(
            hex::encode(p.encrypt(&shared, &v.bytes(plain)).unwrap()),
            hex::encode(v.bytes(enc)),
            "{plain}"
        );
        assert_eq!(p.decrypt(&shared, &v.bytes(enc)).unwrap(), v.bytes(plain));
    }
}

#[test]
fn kat_encrypt_protocol_two_with_the_vector_iv() {
    for (name, salts, outputs) in [
        (
            "prf-hmac-secret-pin-protocol-2-single",
            vec!["salt1"],
            vec!["output1"],
        ),
        (
            "prf-hmac-secret-pin-protocol-2-two-inputs",
            vec!["salt1", "salt2"],
            vec!["output1", "output2"],
        ),
    ] {
        let v = W3cVector::load(name);
        let p = PinUvAuthProtocol::Two;
        let shared = v.bytes("shared_secret");
        for (plains, enc, iv) in [
            (&salts, "salt_enc", "derived:iv_salt_enc"),
            (&outputs, "output_enc", "derived:iv_output_enc"),
        ] {
            let plain: Vec<u8> = plains.iter().flat_map(|k| v.bytes(k)).collect();
            let iv: [u8; 16] = v.bytes(iv).try_into().unwrap();
            assert_eq!(
                hex::encode(p.encrypt_with_iv(&shared, iv, &plain).unwrap()),
                hex::encode(v.bytes(enc)),
                "{name} {enc}"
            );
            assert_eq!(p.decrypt(&shared, &v.bytes(enc)).unwrap(), plain);
        }
    }
}

#[test]
fn kat_authenticate_is_hmac_sha256() {
    // The vectors' output1 = HMAC-SHA-256(cred_random, salt1) with a 32-byte key: exactly
    // protocol Two's authenticate, and protocol One's truncated to 16 bytes.
    for name in VECTORS {
        let v = W3cVector::load(name);
        let (key, msg, mac) = (
            v.bytes("authenticator_cred_random"),
            v.bytes("salt1"),
            v.bytes("output1"),
        );
        assert_eq!(PinUvAuthProtocol::Two.authenticate(&key, &msg), mac);
        assert_eq!(PinUvAuthProtocol::One.authenticate(&key, &msg), mac[..16]);
        assert!(PinUvAuthProtocol::Two.verify(&key, &msg, &mac));
        assert!(PinUvAuthProtocol::One.verify(&key, &msg, &mac[..16]));
        // One's verify wants exactly the 16-byte truncation.
        assert!(!PinUvAuthProtocol::One.verify(&key, &msg, &mac));
        assert!(!PinUvAuthProtocol::Two.verify(&key, &msg, &mac[..16]));
    }
    // RFC 4231 test cases 1 and 2 (keys shorter than 32 bytes are used as they are).
    for (key, msg, mac) in [
        (
            vec![0x0b; 20],
            b"Hi There".as_slice(),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
        ),
        (
            b"Jefe".to_vec(),
            b"what do ya want for nothing?".as_slice(),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
        ),
    ] {
        assert_eq!(
            hex::encode(PinUvAuthProtocol::Two.authenticate(&key, msg)),
            mac
        );
        assert_eq!(
            hex::encode(PinUvAuthProtocol::One.authenticate(&key, msg)),
            mac[..32]
        );
    }
}

#[test]
fn protocol_two_authenticates_with_the_hmac_key_half() {
    let shared: Vec<u8> = (0u8..64).collect();
    let msg = b"newPinEnc";
    let p = PinUvAuthProtocol::Two;
    assert_eq!(
        p.authenticate(&shared, msg),
        p.authenticate(&shared[..32], msg)
    );
    assert_ne!(
        p.authenticate(&shared, msg),
        p.authenticate(&shared[32..], msg)
    );
    // A 32-byte pinUvAuthToken is used whole.
    let token = [7u8; 32];
    assert!(p.verify(&token, msg, &p.authenticate(&token, msg)));
}

// ---- Round trips ----

#[test]
fn encapsulate_and_decapsulate_agree() {
    for p in PinUvAuthProtocol::ALL {
        let authenticator = KeyAgreementKey::generate(p).unwrap();
        assert_eq!(authenticator.protocol(), p);
        let peer = EcdhPublicKey::from_cose_value(&authenticator.public_cose_key()).unwrap();
        let (platform_key, platform_shared) = p.encapsulate(&peer).unwrap();
        let authenticator_shared = authenticator.decapsulate(&platform_key).unwrap();
        assert_eq!(platform_shared, authenticator_shared);
        assert_eq!(platform_shared.len(), p.shared_secret_len());
        // Each encapsulation uses a fresh platform key.
        let (other_key, other_shared) = p.encapsulate(&peer).unwrap();
        assert_ne!(other_key, platform_key);
        assert_ne!(other_shared, platform_shared);
    }
}

#[test]
fn regenerate_replaces_the_key() {
    let mut key = KeyAgreementKey::generate(PinUvAuthProtocol::Two).unwrap();
    let (platform_key, shared) = PinUvAuthProtocol::Two
        .encapsulate(key.public_key())
        .unwrap();
    let before = key.public_key().clone();
    key.regenerate().unwrap();
    assert_ne!(key.public_key(), &before);
    assert_eq!(key.protocol(), PinUvAuthProtocol::Two);
    assert_ne!(key.decapsulate(&platform_key).unwrap(), shared);
    assert!(!format!("{key:?}").contains("private"));
}

#[test]
fn encrypt_decrypt_round_trip() {
    for p in PinUvAuthProtocol::ALL {
        let shared = vec![0x5a; p.shared_secret_len()];
        for len in [0, 16, 32, 64, 256] {
            let plain: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let enc = p.encrypt(&shared, &plain).unwrap();
            assert_eq!(enc.len(), len + p.encryption_overhead(), "{p} {len}");
            assert_eq!(p.decrypt(&shared, &enc).unwrap(), plain, "{p} {len}");
        }
    }
    // Protocol Two draws a fresh IV each time; One is deterministic.
    let shared = [1u8; 64];
    let block = [2u8; 16];
    let two = PinUvAuthProtocol::Two;
    assert_ne!(
        two.encrypt(&shared, &block).unwrap(),
        two.encrypt(&shared, &block).unwrap()
    );
    let one = PinUvAuthProtocol::One;
    assert_eq!(
        one.encrypt(&shared[..32], &block).unwrap(),
        one.encrypt(&shared[..32], &block).unwrap()
    );
}

#[test]
fn protocol_two_encrypts_with_the_aes_key_half() {
    let mut shared = [0u8; 64];
    shared[32..].fill(9);
    let plain = [3u8; 16];
    let enc = PinUvAuthProtocol::Two.encrypt(&shared, &plain).unwrap();
    // One block of CBC is AES(k, P xor IV): protocol One (zero IV) on P xor IV with the AES
    // half gives the same block.
    let iv: [u8; 16] = enc[..16].try_into().unwrap();
    let xored: Vec<u8> = plain.iter().zip(iv).map(|(p, v)| p ^ v).collect();
    assert_eq!(
        enc[16..],
        PinUvAuthProtocol::One
            .encrypt(&shared[32..], &xored)
            .unwrap()
    );
    assert_eq!(
        PinUvAuthProtocol::Two
            .encrypt_with_iv(&shared, iv, &plain)
            .unwrap(),
        enc
    );
    // Changing the HMAC half does not change the ciphertext.
    let mut other = shared;
    other[..32].fill(0xff);
    assert_eq!(
        PinUvAuthProtocol::Two
            .encrypt_with_iv(&other, iv, &plain)
            .unwrap(),
        enc
    );
}

// ---- Typed errors ----

#[test]
fn bad_lengths_are_typed_errors() {
    let one = PinUvAuthProtocol::One;
    let two = PinUvAuthProtocol::Two;
    let k32 = [0u8; 32];
    let k64 = [0u8; 64];
    assert_eq!(
        one.encrypt(&k64, &[0; 16]),
        Err(PinProtocolError::KeyLength {
            protocol: 1,
            expected: 32,
            actual: 64
        })
    );
    assert_eq!(
        two.decrypt(&k32, &[0; 32]),
        Err(PinProtocolError::KeyLength {
            protocol: 2,
            expected: 64,
            actual: 32
        })
    );
    assert_eq!(
        one.encrypt(&k32, &[0; 15]),
        Err(PinProtocolError::PlaintextLength(15))
    );
    assert_eq!(
        two.encrypt(&k64, &[0; 17]),
        Err(PinProtocolError::PlaintextLength(17))
    );
    for (p, key, len) in [
        (one, &k32[..], 15),
        (one, &k32[..], 17),
        (two, &k64[..], 0),
        (two, &k64[..], 15),
        (two, &k64[..], 17),
        (two, &k64[..], 40),
    ] {
        assert_eq!(
            p.decrypt(key, &vec![0; len]),
            Err(PinProtocolError::CiphertextLength(len)),
            "{p} {len}"
        );
    }
    // The IV alone decrypts to nothing.
    assert_eq!(two.decrypt(&k64, &[0; 16]), Ok(vec![]));
    assert_eq!(
        PinUvAuthProtocol::try_from(3),
        Err(PinProtocolError::UnsupportedProtocol(3))
    );
    assert_eq!(PinUvAuthProtocol::try_from(1), Ok(PinUvAuthProtocol::One));
    assert_eq!(u64::from(PinUvAuthProtocol::Two), 2);
    // Errors say what to do.
    assert!(PinProtocolError::UnsupportedProtocol(3)
        .to_string()
        .contains("use 1 or 2"));
}

#[test]
fn private_key_bytes_are_checked() {
    let p = PinUvAuthProtocol::One;
    assert_eq!(
        KeyAgreementKey::from_private_key_bytes(p, &[1; 31]).err(),
        Some(PinProtocolError::InvalidKey)
    );
    assert_eq!(
        KeyAgreementKey::from_private_key_bytes(p, &[0; 32]).err(),
        Some(PinProtocolError::InvalidKey)
    );
    // The group order n is not a valid scalar.
    let n = h("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");
    assert_eq!(
        KeyAgreementKey::from_private_key_bytes(p, &n).err(),
        Some(PinProtocolError::InvalidKey)
    );
}

fn cose(entries: Vec<(i64, Value)>) -> Value {
    Value::Map(
        entries
            .into_iter()
            .map(|(k, v)| (Value::from(k), v))
            .collect(),
    )
}

#[test]
fn cose_key_decode_failures() {
    let good = W3cVector::load(VECTORS[0]).authenticator_public();
    let (x, y) = (
        Value::Bytes(good.x().to_vec()),
        Value::Bytes(good.y().to_vec()),
    );
    let with = |kty: Value, alg: Value, crv: Value, x: Value, y: Value| {
        cose(vec![(1, kty), (3, alg), (-1, crv), (-2, x), (-3, y)])
    };
    let i = Value::from;
    let e = PinProtocolError::CoseKey;
    let cases: Vec<(Value, PinProtocolError, StatusCode)> = vec![
        (
            Value::Array(vec![]),
            e(CoseKeyError::NotAMap),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            cose(vec![
                (3, i(-25)),
                (-1, i(1)),
                (-2, x.clone()),
                (-3, y.clone()),
            ]),
            e(CoseKeyError::Missing(1)),
            StatusCode::MISSING_PARAMETER,
        ),
        (
            cose(vec![
                (1, i(2)),
                (-1, i(1)),
                (-2, x.clone()),
                (-3, y.clone()),
            ]),
            e(CoseKeyError::Missing(3)),
            StatusCode::MISSING_PARAMETER,
        ),
        (
            cose(vec![(1, i(2)), (3, i(-25)), (-1, i(1)), (-2, x.clone())]),
            e(CoseKeyError::Missing(-3)),
            StatusCode::MISSING_PARAMETER,
        ),
        (
            with(
                Value::Text("EC2".into()),
                i(-25),
                i(1),
                x.clone(),
                y.clone(),
            ),
            e(CoseKeyError::WrongType(1)),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            with(i(2), i(-25), i(1), Value::Text("x".into()), y.clone()),
            e(CoseKeyError::WrongType(-2)),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            with(i(1), i(-25), i(1), x.clone(), y.clone()),
            e(CoseKeyError::UnsupportedKeyType),
            StatusCode::INVALID_PARAMETER,
        ),
        (
            with(i(2), i(-8), i(1), x.clone(), y.clone()),
            e(CoseKeyError::UnsupportedAlgorithm),
            StatusCode::INVALID_PARAMETER,
        ),
        (
            with(i(2), i(-25), i(2), x.clone(), y.clone()),
            e(CoseKeyError::UnsupportedCurve),
            StatusCode::INVALID_PARAMETER,
        ),
        (
            with(i(2), i(-25), i(1), Value::Bytes(vec![1; 31]), y.clone()),
            e(CoseKeyError::CoordinateLength(-2)),
            StatusCode::INVALID_PARAMETER,
        ),
        (
            with(i(2), i(-25), i(1), x.clone(), Value::Bytes(vec![1; 33])),
            e(CoseKeyError::CoordinateLength(-3)),
            StatusCode::INVALID_PARAMETER,
        ),
        (
            // (x, y + 1) is not on the curve.
            with(i(2), i(-25), i(1), x.clone(), {
                let mut y = good.y().to_vec();
                y[31] ^= 1;
                Value::Bytes(y)
            }),
            PinProtocolError::InvalidKey,
            StatusCode::INVALID_PARAMETER,
        ),
        (
            with(
                i(2),
                i(-25),
                i(1),
                Value::Bytes(vec![0; 32]),
                Value::Bytes(vec![0; 32]),
            ),
            PinProtocolError::InvalidKey,
            StatusCode::INVALID_PARAMETER,
        ),
    ];
    for (value, error, status) in cases {
        let got = EcdhPublicKey::from_cose_value(&value).unwrap_err();
        assert_eq!(got, error, "{value:?}");
        assert_eq!(got.to_status(), status, "{value:?}");
    }
    // alg -7 (sent by some platforms) is accepted, and unknown labels are skipped.
    let lenient = cose(vec![
        (1, i(2)),
        (3, i(-7)),
        (-1, i(1)),
        (-2, x),
        (-3, y),
        (-4, Value::Bytes(vec![1, 2, 3])),
        (99, Value::Null),
    ]);
    assert_eq!(EcdhPublicKey::from_cose_value(&lenient).unwrap(), good);
}

#[test]
fn sec1_round_trip() {
    let key = KeyAgreementKey::generate(PinUvAuthProtocol::One).unwrap();
    let sec1 = key.public_key().to_sec1_bytes();
    assert_eq!(sec1[0], 0x04);
    assert_eq!(
        &EcdhPublicKey::from_sec1_bytes(&sec1).unwrap(),
        key.public_key()
    );
    assert_eq!(
        EcdhPublicKey::from_sec1_bytes(&sec1[..64]),
        Err(PinProtocolError::InvalidKey)
    );
    let mut compressed = sec1[..33].to_vec();
    compressed[0] = 0x02;
    assert_eq!(
        EcdhPublicKey::from_sec1_bytes(&compressed),
        Err(PinProtocolError::InvalidKey)
    );
}

proptest! {
    #[test]
    fn decrypt_never_panics(
        protocol in prop_oneof![Just(PinUvAuthProtocol::One), Just(PinUvAuthProtocol::Two)],
        key in proptest::collection::vec(any::<u8>(), 0..80),
        ciphertext in proptest::collection::vec(any::<u8>(), 0..200),
    ) {
        let result = protocol.decrypt(&key, &ciphertext);
        if key.len() == protocol.shared_secret_len()
            && ciphertext.len() >= protocol.encryption_overhead()
            && ciphertext.len() % 16 == 0
        {
            prop_assert_eq!(result.unwrap().len(), ciphertext.len() - protocol.encryption_overhead());
        } else {
            prop_assert!(result.is_err());
        }
        let _ = protocol.verify(&key, &ciphertext, &key);
    }

    #[test]
    fn encrypt_decrypt_round_trips(
        protocol in prop_oneof![Just(PinUvAuthProtocol::One), Just(PinUvAuthProtocol::Two)],
        key in proptest::collection::vec(any::<u8>(), 64),
        blocks in proptest::collection::vec(any::<[u8; 16]>(), 0..6),
    ) {
        let key = &key[..protocol.shared_secret_len()];
        let plain = blocks.concat();
        let enc = protocol.encrypt(key, &plain).unwrap();
        prop_assert_eq!(protocol.decrypt(key, &enc).unwrap(), plain);
    }

    #[test]
    fn cose_decode_never_panics(
        entries in proptest::collection::vec(
            (-4i64..5, prop_oneof![
                any::<i64>().prop_map(Value::from),
                proptest::collection::vec(any::<u8>(), 0..40).prop_map(Value::Bytes),
                Just(Value::Null),
            ]),
            0..8,
        ),
    ) {
        let _ = EcdhPublicKey::from_cose_value(&cose(entries));
    }
}
