use super::*;
use crate::ctap2::encode_request;
use crate::ctap2::make_credential::tests::{
    arb_bytes, arb_descriptor, arb_map_value, arb_rp, arb_user, arb_value, enc, h, imap,
    parse_request, parse_response, request_round_trip, response_round_trip, tmap, with, without,
};
use proptest::prelude::*;

/// SHA-256("example.com").
const EXAMPLE_COM_HASH: &str = "a379a6f6eeafb9a55e378c118034e2751e682fab9f2d30ab13d2125586ce1947";

#[test]
fn subcommand_bytes() {
    use CredentialManagementSubCommand as S;
    let table = [
        (S::GetCredsMetadata, 0x01),
        (S::EnumerateRpsBegin, 0x02),
        (S::EnumerateRpsGetNextRp, 0x03),
        (S::EnumerateCredentialsBegin, 0x04),
        (S::EnumerateCredentialsGetNextCredential, 0x05),
        (S::DeleteCredential, 0x06),
        (S::UpdateUserInformation, 0x07),
    ];
    for (sub, byte) in table {
        assert_eq!(sub.to_u8(), byte);
        assert_eq!(S::from_u8(byte), sub);
    }
    for byte in (0u8..=255).filter(|b| !(1..=7).contains(b)) {
        assert_eq!(S::from_u8(byte), S::Other(byte));
        assert_eq!(S::Other(byte).to_u8(), byte);
    }
}

#[test]
fn enumerate_credentials_begin_known_answer() {
    let body = h(&[
        "a4",            // map(4)
        "01 04",         // 1: subCommand enumerateCredentialsBegin
        "02 a1 01 5820", // 2: subCommandParams {1: rpIDHash, bytes(32)
        EXAMPLE_COM_HASH,
        "03 02",   // 3: pinUvAuthProtocol 2
        "04 5820", // 4: pinUvAuthParam, bytes(32)
        &"ab".repeat(32),
    ]
    .concat());
    let r: CredentialManagementRequest = parse_request(&body).unwrap();
    assert_eq!(
        r,
        CredentialManagementRequest {
            sub_command: CredentialManagementSubCommand::EnumerateCredentialsBegin,
            sub_command_params: Some(CredentialManagementParams {
                rp_id_hash: Some(h(EXAMPLE_COM_HASH)),
                ..Default::default()
            }),
            pin_uv_auth_protocol: Some(2),
            pin_uv_auth_param: Some(vec![0xab; 32]),
        }
    );
    assert_eq!(encode_request(&r), [&[0x0a][..], &body].concat());
    // §6.8: pinUvAuthParam = authenticate(token, enumerateCredentialsBegin || subCommandParams).
    assert_eq!(
        r.pin_uv_auth_message().unwrap(),
        h(&["04 a1 01 5820", EXAMPLE_COM_HASH].concat())
    );
}

#[test]
fn update_user_information_known_answer() {
    let body = h(concat!(
        "a4",                                                                              // map(4)
        "01 07", // 1: updateUserInformation
        "02 a2", // 2: subCommandParams, map(2)
        "02 a2 62 6964 43 010203 64 74797065 6a 7075626c69632d6b6579", // 2: credentialID
        "03 a3 62 6964 42 0a0b 64 6e616d65 63 626f62 6b 646973706c61794e616d65 63 426f62", // 3: user
        "03 01",                                  // 3: pinUvAuthProtocol 1
        "04 50 00112233445566778899aabbccddeeff", // 4: pinUvAuthParam, bytes(16)
    ));
    let r: CredentialManagementRequest = parse_request(&body).unwrap();
    let params = r.sub_command_params.clone().unwrap();
    assert_eq!(
        params.credential_id,
        Some(PublicKeyCredentialDescriptor::public_key(vec![1, 2, 3]))
    );
    assert_eq!(
        params.user,
        Some(PublicKeyCredentialUserEntity {
            id: vec![0x0a, 0x0b],
            name: Some("bob".into()),
            display_name: Some("Bob".into()),
        })
    );
    assert_eq!(encode_request(&r), [&[0x0a][..], &body].concat());
}

#[test]
fn get_creds_metadata_has_no_params() {
    let r = CredentialManagementRequest {
        pin_uv_auth_protocol: Some(2),
        pin_uv_auth_param: Some(vec![1; 32]),
        ..CredentialManagementRequest::new(CredentialManagementSubCommand::GetCredsMetadata)
    };
    assert_eq!(r.pin_uv_auth_message().unwrap(), vec![0x01]);
    let next =
        CredentialManagementRequest::new(CredentialManagementSubCommand::EnumerateRpsGetNextRp);
    assert_eq!(encode_request(&next), h("0a a1 01 03"));
}

#[test]
fn responses_known_answers() {
    // getCredsMetadata: {1: 3, 2: 22}
    let meta = h("a2 01 03 02 16");
    let r: CredentialManagementResponse = parse_response(&meta).unwrap();
    assert_eq!(r.existing_resident_credentials_count, Some(3));
    assert_eq!(
        r.max_possible_remaining_resident_credentials_count,
        Some(22)
    );
    assert_eq!(enc(&Response::to_cbor(&r).unwrap()), meta);

    // enumerateRPsBegin: {3: {"id": "example.com"}, 4: rpIDHash, 5: 2}
    let rps = h(&[
        "a3 03 a1 62 6964 6b 6578616d706c652e636f6d",
        "04 5820",
        EXAMPLE_COM_HASH,
        "05 02",
    ]
    .concat());
    let r: CredentialManagementResponse = parse_response(&rps).unwrap();
    assert_eq!(
        r.rp,
        Some(PublicKeyCredentialRpEntity {
            id: "example.com".into(),
            name: None
        })
    );
    assert_eq!(r.rp_id_hash, Some(h(EXAMPLE_COM_HASH)));
    assert_eq!(r.total_rps, Some(2));
    assert_eq!(enc(&Response::to_cbor(&r).unwrap()), rps);

    // enumerateCredentialsBegin: user, credentialID, publicKey, totalCredentials, credProtect,
    // largeBlobKey.
    let creds = h(&[
        "a6",
        "06 a1 62 6964 41 01", // 6: user {"id": h'01'}
        "07 a2 62 6964 42 cafe 64 74797065 6a 7075626c69632d6b6579", // 7: credentialID
        "08 a5 01 02 03 26 20 01 21 5820", // 8: publicKey (ES256, P-256)
        &"11".repeat(32),
        "22 5820",
        &"22".repeat(32),
        "09 01",   // 9: totalCredentials 1
        "0a 03",   // 10: credProtect 3
        "0b 5820", // 11: largeBlobKey
        &"33".repeat(32),
    ]
    .concat());
    let r: CredentialManagementResponse = parse_response(&creds).unwrap();
    assert_eq!(r.user.as_ref().unwrap().id, vec![1]);
    assert_eq!(r.credential_id.as_ref().unwrap().id, vec![0xca, 0xfe]);
    assert!(matches!(r.public_key, Some(Value::Map(ref m)) if m.len() == 5));
    assert_eq!(r.total_credentials, Some(1));
    assert_eq!(r.cred_protect, Some(CredProtect::UserVerificationRequired));
    assert_eq!(r.large_blob_key, Some(vec![0x33; 32]));
    assert_eq!(enc(&Response::to_cbor(&r).unwrap()), creds);

    // deleteCredential and updateUserInformation: empty body.
    let empty = CredentialManagementResponse::from_cbor(None).unwrap();
    assert_eq!(empty, CredentialManagementResponse::default());
    assert_eq!(Response::to_cbor(&empty), None);
}

#[test]
fn request_decode_failures() {
    let base = imap(vec![
        (key::SUB_COMMAND, 4.into()),
        (
            key::SUB_COMMAND_PARAMS,
            imap(vec![(key::PARAM_RP_ID_HASH, Value::Bytes(vec![0; 32]))]),
        ),
    ]);
    let parse = |v: &Value| parse_request::<CredentialManagementRequest>(&enc(v));
    assert!(parse(&base).is_ok());
    let cases: Vec<(&str, Value, StatusCode)> = vec![
        (
            "missing subCommand",
            without(&base, key::SUB_COMMAND),
            StatusCode::MISSING_PARAMETER,
        ),
        (
            "subCommand as text",
            with(&base, key::SUB_COMMAND, "4".into()),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "negative subCommand",
            with(&base, key::SUB_COMMAND, (-4).into()),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "subCommand beyond one byte",
            with(&base, key::SUB_COMMAND, 0x104.into()),
            StatusCode::INVALID_SUBCOMMAND,
        ),
        (
            "subCommandParams as array",
            with(&base, key::SUB_COMMAND_PARAMS, Value::Array(vec![])),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "rpIDHash as text",
            with(
                &base,
                key::SUB_COMMAND_PARAMS,
                imap(vec![(key::PARAM_RP_ID_HASH, "hash".into())]),
            ),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "credentialID as bytes",
            with(
                &base,
                key::SUB_COMMAND_PARAMS,
                imap(vec![(key::PARAM_CREDENTIAL_ID, Value::Bytes(vec![1]))]),
            ),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "user without id",
            with(
                &base,
                key::SUB_COMMAND_PARAMS,
                imap(vec![(key::PARAM_USER, tmap(vec![("name", "a".into())]))]),
            ),
            StatusCode::MISSING_PARAMETER,
        ),
        (
            "pinUvAuthProtocol as bytes",
            with(&base, key::PIN_UV_AUTH_PROTOCOL, Value::Bytes(vec![2])),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "pinUvAuthParam as integer",
            with(&base, key::PIN_UV_AUTH_PARAM, 0.into()),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
    ];
    for (name, value, expected) in cases {
        assert_eq!(parse(&value), Err(expected), "{name}");
    }
    assert_eq!(
        CredentialManagementRequest::from_cbor(None),
        Err(StatusCode::MISSING_PARAMETER)
    );
    // An undefined subcommand byte decodes, so the authenticator can answer
    // CTAP2_ERR_INVALID_SUBCOMMAND itself; unknown keys are skipped.
    let r = parse(&with(
        &with(&base, key::SUB_COMMAND, 0x42.into()),
        0x09,
        "x".into(),
    ))
    .unwrap();
    assert_eq!(r.sub_command, CredentialManagementSubCommand::Other(0x42));
}

#[test]
fn response_decode_failures() {
    let parse = |v: &Value| parse_response::<CredentialManagementResponse>(&enc(v));
    let cases: Vec<(&str, Value, StatusCode)> = vec![
        (
            "body not a map",
            Value::Array(vec![]),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "count negative",
            imap(vec![(
                key::EXISTING_RESIDENT_CREDENTIALS_COUNT,
                (-1).into(),
            )]),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "rp as text",
            imap(vec![(key::RP, "example.com".into())]),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "rp without id",
            imap(vec![(key::RP, tmap(vec![("name", "x".into())]))]),
            StatusCode::MISSING_PARAMETER,
        ),
        (
            "publicKey as bytes",
            imap(vec![(key::PUBLIC_KEY, Value::Bytes(vec![4]))]),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "credProtect out of range",
            imap(vec![(key::CRED_PROTECT, 7.into())]),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "credentialID without type",
            imap(vec![(
                key::CREDENTIAL_ID,
                tmap(vec![("id", Value::Bytes(vec![1]))]),
            )]),
            StatusCode::MISSING_PARAMETER,
        ),
    ];
    for (name, value, expected) in cases {
        assert_eq!(parse(&value), Err(expected), "{name}");
    }
    // CTAP 2.2's thirdPartyPayment (0x0c) is skipped.
    let r = parse(&imap(vec![(key::TOTAL_RPS, 1.into()), (0x0c, true.into())])).unwrap();
    assert_eq!(r.total_rps, Some(1));
}

fn arb_sub_command() -> impl Strategy<Value = CredentialManagementSubCommand> {
    any::<u8>().prop_map(CredentialManagementSubCommand::from_u8)
}

fn arb_params() -> impl Strategy<Value = CredentialManagementParams> {
    (
        proptest::option::of(arb_bytes(33)),
        proptest::option::of(arb_descriptor()),
        proptest::option::of(arb_user()),
    )
        .prop_map(
            |(rp_id_hash, credential_id, user)| CredentialManagementParams {
                rp_id_hash,
                credential_id,
                user,
            },
        )
}

fn arb_request() -> impl Strategy<Value = CredentialManagementRequest> {
    (
        arb_sub_command(),
        proptest::option::of(arb_params()),
        proptest::option::of(0u64..4),
        proptest::option::of(arb_bytes(33)),
    )
        .prop_map(
            |(sub_command, sub_command_params, pin_uv_auth_protocol, pin_uv_auth_param)| {
                CredentialManagementRequest {
                    sub_command,
                    sub_command_params,
                    pin_uv_auth_protocol,
                    pin_uv_auth_param,
                }
            },
        )
}

fn arb_response() -> impl Strategy<Value = CredentialManagementResponse> {
    let opt_u64 = || proptest::option::of(any::<u64>());
    (
        (
            opt_u64(),
            opt_u64(),
            proptest::option::of(arb_rp()),
            proptest::option::of(arb_bytes(33)),
            opt_u64(),
            proptest::option::of(arb_user()),
        ),
        (
            proptest::option::of(arb_descriptor()),
            proptest::option::of(arb_map_value()),
            opt_u64(),
            proptest::option::of((1u64..=3).prop_map(|v| CredProtect::from_u64(v).unwrap())),
            proptest::option::of(arb_bytes(33)),
        ),
    )
        .prop_map(|(a, b)| CredentialManagementResponse {
            existing_resident_credentials_count: a.0,
            max_possible_remaining_resident_credentials_count: a.1,
            rp: a.2,
            rp_id_hash: a.3,
            total_rps: a.4,
            user: a.5,
            credential_id: b.0,
            public_key: b.1,
            total_credentials: b.2,
            cred_protect: b.3,
            large_blob_key: b.4,
        })
}

proptest! {
    #[test]
    fn request_round_trips(r in arb_request()) {
        prop_assert_eq!(request_round_trip(&r), r.clone());
        let msg = r.pin_uv_auth_message().unwrap();
        prop_assert_eq!(msg[0], r.sub_command.to_u8());
    }

    #[test]
    fn response_round_trips(r in arb_response()) {
        prop_assert_eq!(response_round_trip(&r), r);
    }

    #[test]
    fn parsing_arbitrary_values_never_panics(v in arb_value()) {
        let _ = CredentialManagementRequest::from_cbor(Some(v.clone()));
        let _ = CredentialManagementResponse::from_cbor(Some(v));
    }
}
