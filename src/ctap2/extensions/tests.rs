use super::*;
use crate::cbor::DecodeOptions;
use crate::ctap2::make_credential::tests::{arb_bytes, arb_value, canon, enc, h, imap, tmap};
use proptest::prelude::*;

fn decode_hex(s: &str) -> Value {
    crate::cbor::decode(&h(s), DecodeOptions::CANONICAL).unwrap()
}

/// A P-256 COSE_Key as a platform sends it for hmac-secret (§12.5): kty 2, alg -25, crv 1.
fn key_agreement() -> Value {
    canon(imap(vec![
        (1, Value::from(2)),
        (3, Value::from(-25)),
        (-1, Value::from(1)),
        (-2, Value::Bytes(vec![0x11; 32])),
        (-3, Value::Bytes(vec![0x22; 32])),
    ]))
}

fn arb_cred_protect() -> impl Strategy<Value = CredProtect> {
    (1u64..=3).prop_map(|v| CredProtect::from_u64(v).unwrap())
}

/// Unknown extension entries in canonical order, never clashing with a modelled name.
fn arb_unknown() -> impl Strategy<Value = Vec<(String, Value)>> {
    proptest::collection::btree_map("[a-z][a-zA-Z-]{0,10}", arb_value(), 0..3).prop_map(|m| {
        let mut v: Vec<(String, Value)> = m
            .into_iter()
            .filter(|(k, _)| {
                ![
                    name::CRED_PROTECT,
                    name::CRED_BLOB,
                    name::HMAC_SECRET,
                    name::MIN_PIN_LENGTH,
                    name::LARGE_BLOB_KEY,
                ]
                .contains(&k.as_str())
            })
            .collect();
        // CTAP2 canonical order of short text keys: shorter first, then bytewise.
        v.sort_by(|a, b| (a.0.len(), &a.0).cmp(&(b.0.len(), &b.0)));
        v
    })
}

fn arb_hmac_get() -> impl Strategy<Value = HmacSecretGetInput> {
    (arb_bytes(64), arb_bytes(32), proptest::option::of(1u64..3)).prop_map(
        |(salt_enc, salt_auth, pin_uv_auth_protocol)| HmacSecretGetInput {
            key_agreement: key_agreement(),
            salt_enc,
            salt_auth,
            pin_uv_auth_protocol,
        },
    )
}

/// Any extension inputs (used by the makeCredential and getAssertion tests too).
pub(in crate::ctap2) fn arb_extension_inputs() -> impl Strategy<Value = ExtensionInputs> {
    (
        proptest::option::of(arb_cred_protect()),
        proptest::option::of(prop_oneof![
            any::<bool>().prop_map(HmacSecretInput::Create),
            arb_hmac_get().prop_map(HmacSecretInput::Get),
        ]),
        proptest::option::of(prop_oneof![
            arb_bytes(32).prop_map(CredBlobInput::Store),
            any::<bool>().prop_map(CredBlobInput::Get),
        ]),
        proptest::option::of(any::<bool>()),
        proptest::option::of(any::<bool>()),
        arb_unknown(),
    )
        .prop_map(
            |(cred_protect, hmac_secret, cred_blob, min_pin_length, large_blob_key, unknown)| {
                ExtensionInputs {
                    cred_protect,
                    hmac_secret,
                    cred_blob,
                    min_pin_length,
                    large_blob_key,
                    unknown,
                }
            },
        )
}

fn arb_extension_outputs() -> impl Strategy<Value = ExtensionOutputs> {
    (
        proptest::option::of(arb_cred_protect()),
        proptest::option::of(prop_oneof![
            any::<bool>().prop_map(HmacSecretOutput::Created),
            arb_bytes(64).prop_map(HmacSecretOutput::Secret),
        ]),
        proptest::option::of(prop_oneof![
            any::<bool>().prop_map(CredBlobOutput::Stored),
            arb_bytes(32).prop_map(CredBlobOutput::Blob),
        ]),
        proptest::option::of(any::<u64>()),
        arb_unknown(),
    )
        .prop_map(
            |(cred_protect, hmac_secret, cred_blob, min_pin_length, unknown)| ExtensionOutputs {
                cred_protect,
                hmac_secret,
                cred_blob,
                min_pin_length,
                unknown,
            },
        )
}

#[test]
fn make_credential_inputs_known_answer() {
    let hex = concat!(
        "a5",                             // map(5), canonical order
        "68 63726564426c6f62 43 010203",  // "credBlob": h'010203'
        "6b 6372656450726f74656374 03",   // "credProtect": 3
        "6b 686d61632d736563726574 f5",   // "hmac-secret": true
        "6c 6c61726765426c6f624b6579 f5", // "largeBlobKey": true
        "6c 6d696e50696e4c656e677468 f5", // "minPinLength": true
    );
    let inputs = ExtensionInputs {
        cred_protect: Some(CredProtect::UserVerificationRequired),
        hmac_secret: Some(HmacSecretInput::Create(true)),
        cred_blob: Some(CredBlobInput::Store(vec![1, 2, 3])),
        min_pin_length: Some(true),
        large_blob_key: Some(true),
        unknown: vec![],
    };
    assert_eq!(enc(&inputs.to_cbor()), h(hex));
    assert_eq!(ExtensionInputs::from_cbor(&decode_hex(hex)), Ok(inputs));
}

#[test]
fn get_assertion_inputs_known_answer() {
    let hex = concat!(
        "a2",                                                                       // map(2)
        "68 63726564426c6f62 f5",    // "credBlob": true
        "6b 686d61632d736563726574", // "hmac-secret":
        "a4",                        // map(4)
        "01 a5",                     // 1: keyAgreement, map(5)
        "01 02",                     //   kty: EC2
        "03 38 18",                  //   alg: -25 (ECDH-ES+HKDF-256)
        "20 01",                     //   crv: P-256
        "21 5820 1111111111111111111111111111111111111111111111111111111111111111", // x
        "22 5820 2222222222222222222222222222222222222222222222222222222222222222", // y
        "02 5820 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", // saltEnc
        "03 50 bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", // 3: saltAuth, bytes(16)
        "04 02",                     // 4: pinUvAuthProtocol 2
    );
    let inputs = ExtensionInputs {
        hmac_secret: Some(HmacSecretInput::Get(HmacSecretGetInput {
            key_agreement: key_agreement(),
            salt_enc: vec![0xaa; 32],
            salt_auth: vec![0xbb; 16],
            pin_uv_auth_protocol: Some(2),
        })),
        cred_blob: Some(CredBlobInput::Get(true)),
        ..Default::default()
    };
    assert_eq!(enc(&inputs.to_cbor()), h(hex));
    assert_eq!(ExtensionInputs::from_cbor(&decode_hex(hex)), Ok(inputs));
}

#[test]
fn outputs_known_answers() {
    // makeCredential: {"credProtect": 2, "hmac-secret": true}
    let mc = concat!(
        "a2",
        "6b 6372656450726f74656374 02",
        "6b 686d61632d736563726574 f5",
    );
    let out = ExtensionOutputs {
        cred_protect: Some(CredProtect::UserVerificationOptionalWithCredentialIdList),
        hmac_secret: Some(HmacSecretOutput::Created(true)),
        ..Default::default()
    };
    assert_eq!(enc(&out.to_cbor()), h(mc));
    assert_eq!(ExtensionOutputs::from_cbor(&decode_hex(mc)), Ok(out));

    // getAssertion: {"credBlob": h'', "hmac-secret": h'00..', "minPinLength": 6}
    let ga = concat!(
        "a3",
        "68 63726564426c6f62 40",
        "6b 686d61632d736563726574 5820 0000000000000000000000000000000000000000000000000000000000000000",
        "6c 6d696e50696e4c656e677468 06",
    );
    let out = ExtensionOutputs {
        hmac_secret: Some(HmacSecretOutput::Secret(vec![0; 32])),
        cred_blob: Some(CredBlobOutput::Blob(vec![])),
        min_pin_length: Some(6),
        ..Default::default()
    };
    assert_eq!(enc(&out.to_cbor()), h(ga));
    assert_eq!(ExtensionOutputs::from_cbor(&decode_hex(ga)), Ok(out));
}

#[test]
fn unknown_extensions_are_kept_and_non_text_keys_skipped() {
    let v = Value::Map(vec![
        (Value::Text("prf".into()), tmap(vec![("eval", Value::Null)])),
        (Value::from(1), Value::from(2)),
        (Value::Text("credProtect".into()), Value::from(1)),
        (Value::Text("thirdPartyPayment".into()), Value::Bool(true)),
    ]);
    let inputs = ExtensionInputs::from_cbor(&v).unwrap();
    assert_eq!(
        inputs.cred_protect,
        Some(CredProtect::UserVerificationOptional)
    );
    assert_eq!(
        inputs.unknown("prf"),
        Some(&tmap(vec![("eval", Value::Null)]))
    );
    assert_eq!(
        inputs.unknown("thirdPartyPayment"),
        Some(&Value::Bool(true))
    );
    assert_eq!(inputs.unknown.len(), 2);
    assert!(!inputs.is_empty());
    assert!(ExtensionInputs::default().is_empty());

    let outputs = ExtensionOutputs::from_cbor(&v).unwrap();
    assert_eq!(outputs.unknown.len(), 2);
    assert!(ExtensionOutputs::default().is_empty());
}

#[test]
fn input_decode_failures() {
    let good_hmac = HmacSecretGetInput {
        key_agreement: key_agreement(),
        salt_enc: vec![1; 32],
        salt_auth: vec![2; 16],
        pin_uv_auth_protocol: None,
    }
    .to_cbor();
    let hmac_without = |k: i64| {
        let Value::Map(mut m) = good_hmac.clone() else {
            unreachable!()
        };
        m.retain(|(key, _)| key != &Value::from(k));
        Value::Map(m)
    };
    let hmac_with = |k: i64, v: Value| {
        let Value::Map(mut m) = hmac_without(k) else {
            unreachable!()
        };
        m.push((Value::from(k), v));
        Value::Map(m)
    };
    let cases: Vec<(&str, Value, StatusCode)> = vec![
        (
            "not a map",
            Value::Array(vec![]),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "credProtect as text",
            tmap(vec![("credProtect", "high".into())]),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "credProtect 0",
            tmap(vec![("credProtect", 0.into())]),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "credProtect 4",
            tmap(vec![("credProtect", 4.into())]),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "credProtect -1",
            tmap(vec![("credProtect", (-1).into())]),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "hmac-secret as text",
            tmap(vec![("hmac-secret", "yes".into())]),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "hmac-secret as bytes",
            tmap(vec![("hmac-secret", Value::Bytes(vec![]))]),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "hmac-secret without keyAgreement",
            tmap(vec![("hmac-secret", hmac_without(1))]),
            StatusCode::MISSING_PARAMETER,
        ),
        (
            "hmac-secret without saltEnc",
            tmap(vec![("hmac-secret", hmac_without(2))]),
            StatusCode::MISSING_PARAMETER,
        ),
        (
            "hmac-secret without saltAuth",
            tmap(vec![("hmac-secret", hmac_without(3))]),
            StatusCode::MISSING_PARAMETER,
        ),
        (
            "hmac-secret keyAgreement as bytes",
            tmap(vec![("hmac-secret", hmac_with(1, Value::Bytes(vec![4])))]),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "hmac-secret saltEnc as text",
            tmap(vec![("hmac-secret", hmac_with(2, "salt".into()))]),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "hmac-secret negative pinUvAuthProtocol",
            tmap(vec![("hmac-secret", hmac_with(4, (-2).into()))]),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "credBlob as integer",
            tmap(vec![("credBlob", 1.into())]),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "minPinLength as integer",
            tmap(vec![("minPinLength", 1.into())]),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "largeBlobKey as bytes",
            tmap(vec![("largeBlobKey", Value::Bytes(vec![1]))]),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
    ];
    for (name, value, expected) in cases {
        assert_eq!(ExtensionInputs::from_cbor(&value), Err(expected), "{name}");
    }
    // Unknown keys inside the hmac-secret map are skipped.
    let extra = hmac_with(9, "future".into());
    assert!(HmacSecretGetInput::from_cbor(&extra).is_ok());
}

#[test]
fn output_decode_failures() {
    let cases: Vec<(&str, Value)> = vec![
        ("not a map", Value::Bytes(vec![])),
        ("credProtect 9", tmap(vec![("credProtect", 9.into())])),
        (
            "hmac-secret as map",
            tmap(vec![("hmac-secret", tmap(vec![]))]),
        ),
        ("credBlob as text", tmap(vec![("credBlob", "x".into())])),
        (
            "minPinLength as bool",
            tmap(vec![("minPinLength", true.into())]),
        ),
        (
            "minPinLength negative",
            tmap(vec![("minPinLength", (-4).into())]),
        ),
    ];
    for (name, value) in cases {
        assert_eq!(
            ExtensionOutputs::from_cbor(&value),
            Err(StatusCode::CBOR_UNEXPECTED_TYPE),
            "{name}"
        );
    }
}

#[test]
fn cred_protect_levels() {
    for v in 1..=3 {
        assert_eq!(CredProtect::from_u64(v).unwrap().to_u64(), v);
    }
    assert_eq!(CredProtect::from_u64(0), None);
    assert_eq!(CredProtect::from_u64(4), None);
}

proptest! {
    #[test]
    fn inputs_round_trip(inputs in arb_extension_inputs()) {
        let bytes = enc(&inputs.to_cbor());
        let back = crate::cbor::decode(&bytes, DecodeOptions::CANONICAL).unwrap();
        prop_assert_eq!(ExtensionInputs::from_cbor(&back).unwrap(), inputs);
    }

    #[test]
    fn outputs_round_trip(outputs in arb_extension_outputs()) {
        let bytes = enc(&outputs.to_cbor());
        let back = crate::cbor::decode(&bytes, DecodeOptions::CANONICAL).unwrap();
        prop_assert_eq!(ExtensionOutputs::from_cbor(&back).unwrap(), outputs);
    }

    #[test]
    fn decoding_arbitrary_values_never_panics(v in arb_value()) {
        let _ = ExtensionInputs::from_cbor(&v);
        let _ = ExtensionOutputs::from_cbor(&v);
    }
}
