use super::*;
use crate::cose::CoseAlgorithm;
use crate::ctap2::decode_body;
use crate::ctap2::encode_request;
use crate::ctap2::make_credential::tests::{
    arb_alg, arb_map_value, arb_value, enc, h, imap, parse_response, response_round_trip, tmap,
    with, without,
};
use proptest::prelude::*;

/// §6.4 example getInfo response (CTAP 2.0 authenticator; canonical as given).
const SPEC_INFO: &str = concat!(
    "a6",                                     // map(6)
    "01 82",                                  // 1: versions, array(2)
    "66 5532465f5632",                        //   "U2F_V2"
    "68 4649444f5f325f30",                    //   "FIDO_2_0"
    "02 82",                                  // 2: extensions, array(2)
    "63 75766d",                              //   "uvm"
    "6b 686d61632d736563726574",              //   "hmac-secret"
    "03 50 f8a011f38c0a4d15800617111f9edc7d", // 3: aaguid
    "04 a4",                                  // 4: options, map(4)
    "62 726b f5",                             //   "rk": true
    "62 7570 f5",                             //   "up": true
    "64 706c6174 f4",                         //   "plat": false
    "69 636c69656e7450696e f4",               //   "clientPin": false
    "05 1904b0",                              // 5: maxMsgSize 1200
    "06 81 01",                               // 6: pinUvAuthProtocols [1]
);

#[test]
fn spec_example_decodes_and_reencodes() {
    let body = h(SPEC_INFO);
    let info: GetInfoResponse = parse_response(&body).unwrap();
    assert_eq!(
        info,
        GetInfoResponse {
            versions: vec!["U2F_V2".into(), "FIDO_2_0".into()],
            extensions: Some(vec!["uvm".into(), "hmac-secret".into()]),
            aaguid: Aaguid::parse("f8a011f3-8c0a-4d15-8006-17111f9edc7d").unwrap(),
            options: Some(vec![
                ("rk".into(), true),
                ("up".into(), true),
                ("plat".into(), false),
                ("clientPin".into(), false),
            ]),
            max_msg_size: Some(1200),
            pin_uv_auth_protocols: Some(vec![1]),
            ..Default::default()
        }
    );
    assert_eq!(info.option("rk"), Some(true));
    assert_eq!(info.option("clientPin"), Some(false));
    assert_eq!(info.option("uv"), None);
    assert!(info.supports_version(version::FIDO_2_0));
    assert!(info.supports_version(version::U2F_V2));
    assert!(!info.supports_version(version::FIDO_2_1));
    assert!(info.supports_extension("hmac-secret"));
    assert!(!info.supports_extension("credProtect"));
    assert_eq!(enc(&Response::to_cbor(&info).unwrap()), body);
}

/// A YubiKey Bio (firmware 5.5.6) answer, captured and published with the getInfo parser
/// tests of the `ctap-hid-fido2` crate: every CTAP 2.1 member except certifications, in
/// canonical form.
const YUBIKEY_BIO_INFO: &str = concat!(
    "b3",                                                             // map(19)
    "01 84",                                                          // 1: versions, array(4)
    "66 5532465f5632",                                                // U2F_V2
    "68 4649444f5f325f30",                                            // FIDO_2_0
    "6c 4649444f5f325f315f505245",                                    // FIDO_2_1_PRE
    "68 4649444f5f325f31",                                            // FIDO_2_1
    "02 85",                                                          // 2: extensions, array(5)
    "6b 6372656450726f74656374",                                      // credProtect
    "6b 686d61632d736563726574",                                      // hmac-secret
    "6c 6c61726765426c6f624b6579",                                    // largeBlobKey
    "68 63726564426c6f62",                                            // credBlob
    "6c 6d696e50696e4c656e677468",                                    // minPinLength
    "03 50 d8522d9f575b486688a9ba99fa02f35b",                         // 3: aaguid
    "04 b0",                                                          // 4: options, map(16)
    "62 726b f5",                                                     // "rk": true
    "62 7570 f5",                                                     // "up": true
    "62 7576 f5",                                                     // "uv": true
    "64 706c6174 f4",                                                 // "plat": false
    "67 7576546f6b656e f5",                                           // "uvToken": true
    "68 616c776179735576 f5",                                         // "alwaysUv": true
    "68 637265644d676d74 f5",                                         // "credMgmt": true
    "69 617574686e72436667 f5",                                       // "authnrCfg": true
    "69 62696f456e726f6c6c f5",                                       // "bioEnroll": true
    "69 636c69656e7450696e f5",                                       // "clientPin": true
    "6a 6c61726765426c6f6273 f5",                                     // "largeBlobs": true
    "6e 70696e557641757468546f6b656e f5",                             // "pinUvAuthToken": true
    "6f 7365744d696e50494e4c656e677468 f5",                           // "setMinPINLength": true
    "70 6d616b654372656455764e6f74527164 f4",                         // "makeCredUvNotRqd": false
    "75 63726564656e7469616c4d676d7450726576696577 f5", // "credentialMgmtPreview": true
    "781b 75736572566572696669636174696f6e4d676d7450726576696577 f5", // "userVerificationMgmtPreview": true
    "05 1904b0",                                                      // 5: maxMsgSize 1200
    "06 82 02 01",     // 6: pinUvAuthProtocols [2, 1]
    "07 08",           // 7: maxCredentialCountInList 8
    "08 1880",         // 8: maxCredentialIdLength 128
    "09 81 63 757362", // 9: transports ["usb"]
    "0a 82",           // 10: algorithms, array(2)
    "a2 63 616c67 26 64 74797065 6a 7075626c69632d6b6579", // {"alg": -7, "type": "public-key"}
    "a2 63 616c67 27 64 74797065 6a 7075626c69632d6b6579", // {"alg": -8, "type": "public-key"}
    "0b 190400",       // 11: maxSerializedLargeBlobArray 1024
    "0c f4",           // 12: forcePINChange false
    "0d 04",           // 13: minPINLength 4
    "0e 1a00050506",   // 14: firmwareVersion 0x050506
    "0f 1820",         // 15: maxCredBlobLength 32
    "10 01",           // 16: maxRPIDsForSetMinPINLength 1
    "11 03",           // 17: preferredPlatformUvAttempts 3
    "12 02",           // 18: uvModality 2 (fingerprint)
    "14 15",           // 20: remainingDiscoverableCredentials 21
);

#[test]
fn yubikey_bio_capture_decodes_and_reencodes() {
    let body = h(YUBIKEY_BIO_INFO);
    let info: GetInfoResponse = parse_response(&body).unwrap();
    assert_eq!(info.versions.len(), 4);
    assert!(info.supports_version(version::FIDO_2_1));
    assert!(info.supports_version(version::FIDO_2_1_PRE));
    assert_eq!(
        info.aaguid.to_string(),
        "d8522d9f-575b-4866-88a9-ba99fa02f35b"
    );
    let options = info.options.as_deref().unwrap();
    assert_eq!(options.len(), 16);
    assert_eq!(options[0], ("rk".into(), true));
    assert_eq!(options[15], ("userVerificationMgmtPreview".into(), true));
    assert_eq!(info.option("makeCredUvNotRqd"), Some(false));
    assert_eq!(info.option("bioEnroll"), Some(true));
    assert_eq!(info.max_msg_size, Some(1200));
    assert_eq!(info.pin_uv_auth_protocols, Some(vec![2, 1]));
    assert_eq!(info.max_credential_count_in_list, Some(8));
    assert_eq!(info.max_credential_id_length, Some(128));
    assert_eq!(info.transports, Some(vec!["usb".into()]));
    assert_eq!(
        info.algorithms,
        Some(vec![
            PublicKeyCredentialParameters::public_key(CoseAlgorithm::Es256),
            PublicKeyCredentialParameters::public_key(CoseAlgorithm::EdDsa),
        ])
    );
    assert_eq!(info.max_serialized_large_blob_array, Some(1024));
    assert_eq!(info.force_pin_change, Some(false));
    assert_eq!(info.min_pin_length, Some(4));
    assert_eq!(info.firmware_version, Some(0x05_05_06));
    assert_eq!(info.max_cred_blob_length, Some(32));
    assert_eq!(info.max_rp_ids_for_set_min_pin_length, Some(1));
    assert_eq!(info.preferred_platform_uv_attempts, Some(3));
    assert_eq!(info.uv_modality, Some(2));
    assert_eq!(info.certifications, None);
    assert_eq!(info.remaining_discoverable_credentials, Some(21));
    assert_eq!(info.vendor_prototype_config_commands, None);
    assert_eq!(enc(&Response::to_cbor(&info).unwrap()), body);
}

/// Another capture from the same source, from a CTAP 2.1 key that already sends CTAP 2.2's
/// `attestationFormats` (0x16): the unknown member is skipped, so re-encoding drops it.
const INFO_WITH_CTAP22_MEMBER_HEAD: &str = concat!(
    "01 83 66 5532465f5632 68 4649444f5f325f30 68 4649444f5f325f31", // versions
    "02 83 6b 6372656450726f74656374 6b 686d61632d736563726574", // extensions: credProtect, hmac-secret,
    "71 746869726450617274795061796d656e74",                     //   thirdPartyPayment
    "03 50 ec99db19cd1f4c06a2a9940f17a6a30b",                    // aaguid
    "04 a8 62 726b f5 62 7570 f5 64 706c6174 f4 68 637265644d676d74 f5", // options: rk up plat credMgmt
    "69 636c69656e7450696e f5 6a 6c61726765426c6f6273 f4",               //   clientPin largeBlobs
    "6e 70696e557641757468546f6b656e f5 70 6d616b654372656455764e6f74527164 f5", // pinUvAuthToken makeCredUvNotRqd
    "05 190c00",                                                                 // maxMsgSize 3072
    "06 82 02 01",               // pinUvAuthProtocols [2, 1]
    "07 0a",                     // maxCredentialCountInList 10
    "08 18ff",                   // maxCredentialIdLength 255
    "09 82 63 6e6663 63 757362", // transports ["nfc", "usb"]
);
const CTAP22_ATTESTATION_FORMATS: &str = "16 82 66 7061636b6564 64 6e6f6e65"; // 0x16: ["packed", "none"]

#[test]
fn unknown_members_of_a_device_answer_are_skipped() {
    let body = h(&[
        "aa",
        INFO_WITH_CTAP22_MEMBER_HEAD,
        CTAP22_ATTESTATION_FORMATS,
    ]
    .concat());
    let info: GetInfoResponse = parse_response(&body).unwrap();
    assert_eq!(
        info.extensions.as_deref().unwrap()[2],
        "thirdPartyPayment".to_string()
    );
    assert_eq!(info.max_credential_id_length, Some(255));
    assert_eq!(info.transports, Some(vec!["nfc".into(), "usb".into()]));
    assert_eq!(info.option("largeBlobs"), Some(false));
    assert_eq!(
        enc(&Response::to_cbor(&info).unwrap()),
        h(&["a9", INFO_WITH_CTAP22_MEMBER_HEAD].concat())
    );
}

#[test]
fn non_canonical_options_are_reported_in_the_order_received() {
    // {1: ["FIDO_2_1"], 3: aaguid, 4: {"clientPin": true, "rk": true}}: options out of order.
    let body = h(concat!(
        "a3 01 81 68 4649444f5f325f31 03 50 00000000000000000000000000000000",
        "04 a2 69 636c69656e7450696e f5 62 726b f5",
    ));
    // A strict client rejects the answer ...
    assert_eq!(decode_body(&body, true), Err(StatusCode::INVALID_CBOR));
    // ... a lenient one reads it and keeps the order for the report.
    let info = GetInfoResponse::from_cbor(decode_body(&body, false).unwrap()).unwrap();
    assert_eq!(
        info.options,
        Some(vec![("clientPin".into(), true), ("rk".into(), true)])
    );
    assert_eq!(info.option("rk"), Some(true));
    // Re-encoding is canonical.
    assert_eq!(
        enc(&Response::to_cbor(&info).unwrap()),
        h(concat!(
            "a3 01 81 68 4649444f5f325f31 03 50 00000000000000000000000000000000",
            "04 a2 62 726b f5 69 636c69656e7450696e f5",
        ))
    );
}

#[test]
fn decode_failures() {
    let base = imap(vec![
        (key::VERSIONS, Value::Array(vec!["FIDO_2_1".into()])),
        (key::AAGUID, Value::Bytes(vec![0; 16])),
    ]);
    let parse = |v: &Value| parse_response::<GetInfoResponse>(&enc(v));
    assert!(parse(&base).is_ok());
    let cases: Vec<(&str, Value, StatusCode)> = vec![
        (
            "missing versions",
            without(&base, key::VERSIONS),
            StatusCode::MISSING_PARAMETER,
        ),
        (
            "missing aaguid",
            without(&base, key::AAGUID),
            StatusCode::MISSING_PARAMETER,
        ),
        (
            "versions as text",
            with(&base, key::VERSIONS, "FIDO_2_1".into()),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "a version as integer",
            with(&base, key::VERSIONS, Value::Array(vec![21.into()])),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "aaguid of 15 bytes",
            with(&base, key::AAGUID, Value::Bytes(vec![0; 15])),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "aaguid as text",
            with(&base, key::AAGUID, "00".into()),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "extensions as map",
            with(&base, key::EXTENSIONS, tmap(vec![])),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "options as array",
            with(&base, key::OPTIONS, Value::Array(vec![])),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "option value as integer",
            with(&base, key::OPTIONS, tmap(vec![("rk", 1.into())])),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "option name as integer",
            with(&base, key::OPTIONS, imap(vec![(1, Value::Bool(true))])),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "maxMsgSize negative",
            with(&base, key::MAX_MSG_SIZE, (-1).into()),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "maxMsgSize as text",
            with(&base, key::MAX_MSG_SIZE, "1200".into()),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "pinUvAuthProtocols with a negative entry",
            with(
                &base,
                key::PIN_UV_AUTH_PROTOCOLS,
                Value::Array(vec![(-1).into()]),
            ),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "transports as text",
            with(&base, key::TRANSPORTS, "usb".into()),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "algorithms entry without alg",
            with(
                &base,
                key::ALGORITHMS,
                Value::Array(vec![tmap(vec![("type", "public-key".into())])]),
            ),
            StatusCode::MISSING_PARAMETER,
        ),
        (
            "forcePINChange as integer",
            with(&base, key::FORCE_PIN_CHANGE, 0.into()),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "certifications as array",
            with(&base, key::CERTIFICATIONS, Value::Array(vec![])),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "vendorPrototypeConfigCommands as integer",
            with(&base, key::VENDOR_PROTOTYPE_CONFIG_COMMANDS, 1.into()),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "body not a map",
            Value::Array(vec![]),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
    ];
    for (name, value, expected) in cases {
        assert_eq!(parse(&value), Err(expected), "{name}");
    }
    assert_eq!(
        GetInfoResponse::from_cbor(None),
        Err(StatusCode::MISSING_PARAMETER)
    );
}

#[test]
fn algorithms_skip_unknown_types_and_keep_unknown_algorithms() {
    let v = imap(vec![
        (key::VERSIONS, Value::Array(vec!["FIDO_2_1".into()])),
        (key::AAGUID, Value::Bytes(vec![0; 16])),
        (
            key::ALGORITHMS,
            Value::Array(vec![
                tmap(vec![("alg", (-7).into()), ("type", "public-key".into())]),
                tmap(vec![("alg", (-7).into()), ("type", "post-quantum".into())]),
                tmap(vec![("alg", (-48).into()), ("type", "public-key".into())]),
            ]),
        ),
        (
            key::CERTIFICATIONS,
            tmap(vec![("FIDO", 2.into()), ("FIPS-CMVP-2", 2.into())]),
        ),
    ]);
    let info: GetInfoResponse = parse_response(&enc(&v)).unwrap();
    assert_eq!(
        info.algorithms,
        Some(vec![
            PublicKeyCredentialParameters::public_key(CoseAlgorithm::Es256),
            PublicKeyCredentialParameters::public_key(CoseAlgorithm::Other(-48)),
        ])
    );
    assert!(matches!(info.certifications, Some(Value::Map(ref m)) if m.len() == 2));
}

#[test]
fn request_has_no_parameters() {
    assert_eq!(encode_request(&GetInfoRequest), vec![0x04]);
    assert_eq!(GetInfoRequest::from_cbor(None), Ok(GetInfoRequest));
}

fn arb_text_list() -> impl Strategy<Value = Vec<String>> {
    proptest::collection::vec("[A-Za-z0-9_-]{0,14}", 0..5)
}

/// Options with distinct names, in canonical order (shorter first, then bytewise).
fn arb_info_options() -> impl Strategy<Value = Vec<(String, bool)>> {
    proptest::collection::btree_map("[a-zA-Z]{1,16}", any::<bool>(), 0..8).prop_map(|m| {
        let mut v: Vec<(String, bool)> = m.into_iter().collect();
        v.sort_by(|a, b| (a.0.len(), &a.0).cmp(&(b.0.len(), &b.0)));
        v
    })
}

fn arb_info() -> impl Strategy<Value = GetInfoResponse> {
    let opt_u64 = || proptest::option::of(any::<u64>());
    (
        (
            arb_text_list(),
            proptest::option::of(arb_text_list()),
            any::<[u8; 16]>(),
            proptest::option::of(arb_info_options()),
            opt_u64(),
            proptest::option::of(proptest::collection::vec(0u64..5, 0..3)),
            opt_u64(),
            opt_u64(),
        ),
        (
            proptest::option::of(arb_text_list()),
            proptest::option::of(proptest::collection::vec(
                arb_alg().prop_map(PublicKeyCredentialParameters::public_key),
                0..4,
            )),
            opt_u64(),
            proptest::option::of(any::<bool>()),
            opt_u64(),
            opt_u64(),
            opt_u64(),
        ),
        (
            opt_u64(),
            opt_u64(),
            opt_u64(),
            proptest::option::of(arb_map_value()),
            opt_u64(),
            proptest::option::of(proptest::collection::vec(any::<u64>(), 0..3)),
        ),
    )
        .prop_map(|(a, b, c)| GetInfoResponse {
            versions: a.0,
            extensions: a.1,
            aaguid: Aaguid(a.2),
            options: a.3,
            max_msg_size: a.4,
            pin_uv_auth_protocols: a.5,
            max_credential_count_in_list: a.6,
            max_credential_id_length: a.7,
            transports: b.0,
            algorithms: b.1,
            max_serialized_large_blob_array: b.2,
            force_pin_change: b.3,
            min_pin_length: b.4,
            firmware_version: b.5,
            max_cred_blob_length: b.6,
            max_rp_ids_for_set_min_pin_length: c.0,
            preferred_platform_uv_attempts: c.1,
            uv_modality: c.2,
            certifications: c.3,
            remaining_discoverable_credentials: c.4,
            vendor_prototype_config_commands: c.5,
        })
}

proptest! {
    #[test]
    fn round_trips(info in arb_info()) {
        prop_assert_eq!(response_round_trip(&info), info);
    }

    #[test]
    fn parsing_arbitrary_values_never_panics(v in arb_value()) {
        let _ = GetInfoResponse::from_cbor(Some(v));
    }
}
