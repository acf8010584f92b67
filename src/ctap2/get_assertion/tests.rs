use super::*;
use crate::ctap2::encode_request;
use crate::ctap2::extensions::tests::arb_extension_inputs;
use crate::ctap2::make_credential::tests::{
    arb_bytes, arb_descriptor, arb_options, arb_text, arb_user, arb_value, enc, h, imap,
    parse_request, parse_response, request_round_trip, response_round_trip, tmap, with, without,
};
use crate::ctap2::simple::GetNextAssertionRequest;
use proptest::prelude::*;

const CLIENT_DATA_HASH: &str = "687134968222ec17202e42505f8ed2b16ae22f16bb05b88c25db9e602645f141";
const CREDENTIAL_ID: &str = concat!(
    "f22006de4f905af68a43942f024f2a5ece603d9c6d4b3df8be08ed01fc442646",
    "d034858ac75bed3fd580bf9808d94fcbee82b9b2ef6677af0adcc35852ea6b9e",
);

/// §6.2 example getAssertion request (canonical as given).
fn spec_request_hex() -> String {
    [
        "a4",                           // map(4)
        "01 6b 6578616d706c652e636f6d", // 1: rpId "example.com"
        "02 5820",                      // 2: clientDataHash, bytes(32)
        CLIENT_DATA_HASH,
        "03 82",           // 3: allowList, array(2)
        "a2 62 6964 5840", // {"id": bytes(64)
        CREDENTIAL_ID,
        "64 74797065 6a 7075626c69632d6b6579", //  "type": "public-key"}
        "a2 62 6964 5832",                     // {"id": bytes(50) of 0x03
        &"03".repeat(50),
        "64 74797065 6a 7075626c69632d6b6579", //  "type": "public-key"}
        "05 a1 62 7576 f5",                    // 5: options {"uv": true}
    ]
    .concat()
}

#[test]
fn spec_example_request_decodes_and_reencodes() {
    let body = h(&spec_request_hex());
    let r: GetAssertionRequest = parse_request(&body).unwrap();
    assert_eq!(
        r,
        GetAssertionRequest {
            rp_id: "example.com".into(),
            client_data_hash: h(CLIENT_DATA_HASH),
            allow_list: Some(vec![
                PublicKeyCredentialDescriptor::public_key(h(CREDENTIAL_ID)),
                PublicKeyCredentialDescriptor::public_key(vec![3; 50]),
            ]),
            extensions: None,
            options: Some(AuthenticatorOptions {
                uv: Some(true),
                ..Default::default()
            }),
            pin_uv_auth_param: None,
            pin_uv_auth_protocol: None,
        }
    );
    assert_eq!(encode_request(&r), [&[0x02][..], &body].concat());
}

/// §6.2 example user entity; like the §6.1 example it still carries the retired `icon`.
const SPEC_USER_WITH_ICON: &str = concat!(
    "a4",
    "62 6964 5820 3082019330820138a0030201023082019330820138a003020102308201933082",
    "64 69636f6e 782b 68747470733a2f2f706963732e6578616d706c652e636f6d2f30302f702f61426a6a6a707150622e706e67",
    "64 6e616d65 76 6a6f686e70736d697468406578616d706c652e636f6d",
    "6b 646973706c61794e616d65 6d 4a6f686e20502e20536d697468",
);

const SPEC_USER_WITHOUT_ICON: &str = concat!(
    "a3",
    "62 6964 5820 3082019330820138a0030201023082019330820138a003020102308201933082",
    "64 6e616d65 76 6a6f686e70736d697468406578616d706c652e636f6d",
    "6b 646973706c61794e616d65 6d 4a6f686e20502e20536d697468",
);

const SPEC_AUTH_DATA: &str = concat!(
    "625ddadf743f5727e66bba8c2e387922d1af43c503d9114a8fba104d84d02bfa", // rpIdHash
    "01",                                                               // flags: UP
    "00000011",                                                         // signCount 17
);

const SPEC_SIGNATURE: &str = concat!(
    "304502204a5a9dd39298149d904769b51a451433006f182a34fbdf66de5fc717d75fb350",
    "022100a46b8ea3c3b933821c6e7f5ef9daae94ab47f18db474c74790eaabb14411e7a0",
);

fn spec_response_hex(user: &str) -> String {
    [
        "a5",                 // map(5)
        "01 a2 62 6964 5840", // 1: credential {"id": bytes(64)
        CREDENTIAL_ID,
        "64 74797065 6a 7075626c69632d6b6579", //  "type": "public-key"}
        "02 5825",                             // 2: authData, bytes(37)
        SPEC_AUTH_DATA,
        "03 5847", // 3: signature, bytes(71)
        SPEC_SIGNATURE,
        "04", // 4: user
        user,
        "05 01", // 5: numberOfCredentials 1
    ]
    .concat()
}

#[test]
fn spec_example_response_decodes() {
    let r: GetAssertionResponse =
        parse_response(&h(&spec_response_hex(SPEC_USER_WITH_ICON))).unwrap();
    let expected = GetAssertionResponse {
        credential: Some(PublicKeyCredentialDescriptor::public_key(h(CREDENTIAL_ID))),
        auth_data: h(SPEC_AUTH_DATA),
        signature: h(SPEC_SIGNATURE),
        user: Some(PublicKeyCredentialUserEntity {
            id: h("3082019330820138a0030201023082019330820138a003020102308201933082"),
            name: Some("johnpsmith@example.com".into()),
            display_name: Some("John P. Smith".into()),
        }),
        number_of_credentials: Some(1),
        user_selected: None,
        large_blob_key: None,
    };
    assert_eq!(r, expected);
    // Re-encoding matches the example except for the retired `icon` member.
    assert_eq!(
        enc(&Response::to_cbor(&r).unwrap()),
        h(&spec_response_hex(SPEC_USER_WITHOUT_ICON))
    );
}

#[test]
fn python_fido2_response_without_user_decodes() {
    // python-fido2's test vector (tests/test_ctap2.py, `_GA_RESP`): credential, authData and
    // signature only; canonical, so it re-encodes byte for byte.
    let body = h(concat!(
        "a3",
        "01 a2 62 6964 5840",
        "fe3aac036d14c1e1c65518b698dd1da8f596bc33e11072813466c6bf38456915",
        "09b80fb76d59309b8d39e0a93452688f6ca3a39a76f3fc52744fb73948b15783",
        "64 74797065 6a 7075626c69632d6b6579",
        "02 5825 0021f5fc0b85cd22e60623bcd7d1ca48948909249b4776eb515154e57b66ae12 01 0000001d",
        "03 5846",
        "304402206765cbf6e871d3af7f01ae96f06b13c90f26f54b905c5166a2c791274fc23971",
        "02200b143893586cc799fba4da83b119eaea1bd80ac3ce88fcedb3efbd596a1f4f63",
    ));
    let r: GetAssertionResponse = parse_response(&body).unwrap();
    assert_eq!(r.user, None);
    assert_eq!(r.number_of_credentials, None);
    assert_eq!(r.auth_data.len(), 37);
    assert_eq!(r.signature.len(), 70);
    assert_eq!(enc(&Response::to_cbor(&r).unwrap()), body);
}

fn valid_request_value() -> Value {
    imap(vec![
        (key::RP_ID, "example.com".into()),
        (key::CLIENT_DATA_HASH, Value::Bytes(vec![1; 32])),
    ])
}

#[test]
fn request_decode_failures() {
    let base = valid_request_value();
    let parse = |v: &Value| parse_request::<GetAssertionRequest>(&enc(v));
    assert!(parse(&base).is_ok());
    let cases: Vec<(&str, Value, StatusCode)> = vec![
        (
            "missing rpId",
            without(&base, key::RP_ID),
            StatusCode::MISSING_PARAMETER,
        ),
        (
            "missing clientDataHash",
            without(&base, key::CLIENT_DATA_HASH),
            StatusCode::MISSING_PARAMETER,
        ),
        (
            "rpId as bytes",
            with(&base, key::RP_ID, Value::Bytes(b"example.com".to_vec())),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "clientDataHash as array",
            with(&base, key::CLIENT_DATA_HASH, Value::Array(vec![])),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "allowList as map",
            with(&base, key::ALLOW_LIST, tmap(vec![])),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "allowList entry without id",
            with(
                &base,
                key::ALLOW_LIST,
                Value::Array(vec![tmap(vec![("type", "public-key".into())])]),
            ),
            StatusCode::MISSING_PARAMETER,
        ),
        (
            "allowList entry id as text",
            with(
                &base,
                key::ALLOW_LIST,
                Value::Array(vec![tmap(vec![
                    ("id", "abc".into()),
                    ("type", "public-key".into()),
                ])]),
            ),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "extensions as bytes",
            with(&base, key::EXTENSIONS, Value::Bytes(vec![])),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "hmac-secret input without saltAuth",
            with(
                &base,
                key::EXTENSIONS,
                tmap(vec![(
                    "hmac-secret",
                    imap(vec![(1, tmap(vec![])), (2, Value::Bytes(vec![0; 32]))]),
                )]),
            ),
            StatusCode::MISSING_PARAMETER,
        ),
        (
            "option up as integer",
            with(&base, key::OPTIONS, tmap(vec![("up", 0.into())])),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "options as array",
            with(&base, key::OPTIONS, Value::Array(vec![])),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "pinUvAuthParam as bool",
            with(&base, key::PIN_UV_AUTH_PARAM, Value::Bool(true)),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "pinUvAuthProtocol as text",
            with(&base, key::PIN_UV_AUTH_PROTOCOL, "2".into()),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
    ];
    for (name, value, expected) in cases {
        assert_eq!(parse(&value), Err(expected), "{name}");
    }
    assert_eq!(
        GetAssertionRequest::from_cbor(None),
        Err(StatusCode::MISSING_PARAMETER)
    );
}

#[test]
fn request_unknown_members_are_skipped() {
    let v = with(&valid_request_value(), 0x08, "hint".into());
    let v = with(
        &v,
        key::OPTIONS,
        tmap(vec![("up", false.into()), ("future", "x".into())]),
    );
    let v = with(
        &v,
        key::ALLOW_LIST,
        Value::Array(vec![tmap(vec![
            ("id", Value::Bytes(vec![5])),
            ("type", "future-type".into()),
            ("extra", Value::Null),
        ])]),
    );
    let r = parse_request::<GetAssertionRequest>(&enc(&v)).unwrap();
    assert_eq!(
        r.options,
        Some(AuthenticatorOptions {
            up: Some(false),
            ..Default::default()
        })
    );
    // Descriptors of other types are kept; the authenticator ignores them when processing.
    assert_eq!(r.allow_list.unwrap()[0].type_, "future-type");
}

#[test]
fn response_decode_failures() {
    let base = imap(vec![
        (key::AUTH_DATA, Value::Bytes(vec![0; 37])),
        (key::SIGNATURE, Value::Bytes(vec![0x30, 0])),
    ]);
    let parse = |v: &Value| parse_response::<GetAssertionResponse>(&enc(v));
    // The credential may be absent (CTAP 2.0, single-entry allowList).
    assert_eq!(parse(&base).unwrap().credential, None);
    let cases: Vec<(&str, Value, StatusCode)> = vec![
        (
            "missing authData",
            without(&base, key::AUTH_DATA),
            StatusCode::MISSING_PARAMETER,
        ),
        (
            "missing signature",
            without(&base, key::SIGNATURE),
            StatusCode::MISSING_PARAMETER,
        ),
        (
            "credential not a map",
            with(&base, key::CREDENTIAL, Value::Bytes(vec![1])),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "user without id",
            with(&base, key::USER, tmap(vec![("name", "a".into())])),
            StatusCode::MISSING_PARAMETER,
        ),
        (
            "numberOfCredentials negative",
            with(&base, key::NUMBER_OF_CREDENTIALS, (-1).into()),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "userSelected as integer",
            with(&base, key::USER_SELECTED, 1.into()),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "largeBlobKey as text",
            with(&base, key::LARGE_BLOB_KEY, "k".into()),
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
    assert!(parse(&with(&base, 0x30, "future".into())).is_ok());
}

#[test]
fn get_next_assertion_shares_the_response() {
    assert_eq!(encode_request(&GetNextAssertionRequest), vec![0x08]);
    let r = GetAssertionResponse {
        auth_data: vec![1; 37],
        signature: vec![2; 70],
        user_selected: Some(true),
        large_blob_key: Some(vec![3; 32]),
        ..Default::default()
    };
    let back: <GetNextAssertionRequest as Request>::Response = response_round_trip(&r);
    assert_eq!(back, r);
}

fn arb_request() -> impl Strategy<Value = GetAssertionRequest> {
    (
        arb_text(),
        arb_bytes(40),
        proptest::option::of(proptest::collection::vec(arb_descriptor(), 0..3)),
        proptest::option::of(arb_extension_inputs()),
        proptest::option::of(arb_options()),
        proptest::option::of(arb_bytes(33)),
        proptest::option::of(0u64..4),
    )
        .prop_map(
            |(
                rp_id,
                client_data_hash,
                allow_list,
                extensions,
                options,
                pin_uv_auth_param,
                pin_uv_auth_protocol,
            )| GetAssertionRequest {
                rp_id,
                client_data_hash,
                allow_list,
                extensions,
                options,
                pin_uv_auth_param,
                pin_uv_auth_protocol,
            },
        )
}

fn arb_response() -> impl Strategy<Value = GetAssertionResponse> {
    (
        proptest::option::of(arb_descriptor()),
        arb_bytes(100),
        arb_bytes(80),
        proptest::option::of(arb_user()),
        proptest::option::of(any::<u64>()),
        proptest::option::of(any::<bool>()),
        proptest::option::of(arb_bytes(33)),
    )
        .prop_map(
            |(
                credential,
                auth_data,
                signature,
                user,
                number_of_credentials,
                user_selected,
                large_blob_key,
            )| GetAssertionResponse {
                credential,
                auth_data,
                signature,
                user,
                number_of_credentials,
                user_selected,
                large_blob_key,
            },
        )
}

proptest! {
    #[test]
    fn request_round_trips(r in arb_request()) {
        prop_assert_eq!(request_round_trip(&r), r);
    }

    #[test]
    fn response_round_trips(r in arb_response()) {
        prop_assert_eq!(response_round_trip(&r), r);
    }

    #[test]
    fn parsing_arbitrary_values_never_panics(v in arb_value()) {
        let _ = GetAssertionRequest::from_cbor(Some(v.clone()));
        let _ = GetAssertionResponse::from_cbor(Some(v));
    }
}
