use super::*;
use crate::cbor::DecodeOptions;
use crate::ctap2::extensions::tests::arb_extension_inputs;
use crate::ctap2::extensions::{CredProtect, HmacSecretInput};
use crate::ctap2::{decode_body, encode_request};
use proptest::prelude::*;
use std::fmt::Debug;

// ---------------------------------------------------------------------------------------------
// Helpers shared with the other §6 test modules.

/// Hex with spaces and newlines allowed.
pub(in crate::ctap2) fn h(s: &str) -> Vec<u8> {
    hex::decode(s.replace([' ', '\n'], "")).unwrap()
}

/// Canonical bytes of a value.
pub(in crate::ctap2) fn enc(v: &Value) -> Vec<u8> {
    cbor::encode(v).unwrap()
}

/// A value with its maps in canonical key order, as a canonical decode returns it.
pub(in crate::ctap2) fn canon(v: Value) -> Value {
    cbor::decode(&enc(&v), DecodeOptions::CANONICAL).unwrap()
}

/// A text-keyed map.
pub(in crate::ctap2) fn tmap(entries: Vec<(&str, Value)>) -> Value {
    Value::Map(
        entries
            .into_iter()
            .map(|(k, v)| (Value::Text(k.into()), v))
            .collect(),
    )
}

/// An integer-keyed map.
pub(in crate::ctap2) fn imap(entries: Vec<(i64, Value)>) -> Value {
    Value::Map(
        entries
            .into_iter()
            .map(|(k, v)| (Value::from(k), v))
            .collect(),
    )
}

/// `map` with integer key `k` set to `v` (replaced or appended).
pub(in crate::ctap2) fn with(map: &Value, k: i64, v: Value) -> Value {
    let mut m = fields::map(map.clone()).unwrap();
    m.retain(|(key, _)| key != &Value::from(k));
    m.push((Value::from(k), v));
    Value::Map(m)
}

/// `map` without integer key `k`.
pub(in crate::ctap2) fn without(map: &Value, k: i64) -> Value {
    let mut m = fields::map(map.clone()).unwrap();
    m.retain(|(key, _)| key != &Value::from(k));
    Value::Map(m)
}

/// Encodes a request, checks the command byte, decodes it strictly, and parses it back.
pub(in crate::ctap2) fn request_round_trip<R: Request>(r: &R) -> R {
    let msg = encode_request(r);
    assert_eq!(msg[0], R::CMD);
    R::from_cbor(decode_body(&msg[1..], true).unwrap()).unwrap()
}

/// Encodes a response body canonically, decodes it strictly, and parses it back.
pub(in crate::ctap2) fn response_round_trip<R: Response>(r: &R) -> R {
    let body = r.to_cbor().map(|v| enc(&v)).unwrap_or_default();
    R::from_cbor(decode_body(&body, true).unwrap()).unwrap()
}

/// Parses a request body from canonical bytes.
pub(in crate::ctap2) fn parse_request<R: Request + Debug>(body: &[u8]) -> Result<R, StatusCode> {
    R::from_cbor(decode_body(body, true)?)
}

/// Parses a response body from canonical bytes.
pub(in crate::ctap2) fn parse_response<R: Response + Debug>(body: &[u8]) -> Result<R, StatusCode> {
    R::from_cbor(decode_body(body, true)?)
}

/// Any CTAP2-encodable value, small; maps in canonical order.
pub(in crate::ctap2) fn arb_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        any::<i64>().prop_map(Value::from),
        proptest::collection::vec(any::<u8>(), 0..24).prop_map(Value::Bytes),
        "[a-zA-Z0-9 é]{0,12}".prop_map(Value::Text),
        any::<bool>().prop_map(Value::Bool),
        Just(Value::Null),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map("[a-z]{1,6}", inner.clone(), 0..4).prop_map(|m| {
                Value::Map(m.into_iter().map(|(k, v)| (Value::Text(k), v)).collect())
            }),
            proptest::collection::btree_map(-30i64..30, inner, 0..4)
                .prop_map(|m| Value::Map(m.into_iter().map(|(k, v)| (k.into(), v)).collect())),
        ]
    })
    .prop_map(canon)
}

/// A map value in canonical order.
pub(in crate::ctap2) fn arb_map_value() -> impl Strategy<Value = Value> {
    proptest::collection::btree_map("[a-z0-9]{1,6}", arb_value(), 0..4).prop_map(|m| {
        canon(Value::Map(
            m.into_iter().map(|(k, v)| (Value::Text(k), v)).collect(),
        ))
    })
}

pub(in crate::ctap2) fn arb_bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..max)
}

pub(in crate::ctap2) fn arb_text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 .@é-]{0,20}"
}

pub(in crate::ctap2) fn arb_rp() -> impl Strategy<Value = PublicKeyCredentialRpEntity> {
    (arb_text(), proptest::option::of(arb_text()))
        .prop_map(|(id, name)| PublicKeyCredentialRpEntity { id, name })
}

pub(in crate::ctap2) fn arb_user() -> impl Strategy<Value = PublicKeyCredentialUserEntity> {
    (
        arb_bytes(65),
        proptest::option::of(arb_text()),
        proptest::option::of(arb_text()),
    )
        .prop_map(|(id, name, display_name)| PublicKeyCredentialUserEntity {
            id,
            name,
            display_name,
        })
}

pub(in crate::ctap2) fn arb_descriptor() -> impl Strategy<Value = PublicKeyCredentialDescriptor> {
    (
        prop_oneof![Just(PUBLIC_KEY.to_owned()), "[a-z-]{1,12}"],
        arb_bytes(80),
        proptest::option::of(proptest::collection::vec(
            prop_oneof![
                Just("usb".to_owned()),
                Just("nfc".to_owned()),
                Just("hybrid".to_owned()),
                "[a-z-]{1,10}"
            ],
            0..4,
        )),
    )
        .prop_map(|(type_, id, transports)| PublicKeyCredentialDescriptor {
            type_,
            id,
            transports,
        })
}

pub(in crate::ctap2) fn arb_alg() -> impl Strategy<Value = CoseAlgorithm> {
    prop_oneof![
        Just(CoseAlgorithm::Es256),
        Just(CoseAlgorithm::EdDsa),
        Just(CoseAlgorithm::Rs256),
        Just(CoseAlgorithm::Es384),
        (-70000i64..70000).prop_map(CoseAlgorithm::from_i64),
    ]
}

/// Only `"public-key"` entries survive decoding, so only those are generated.
pub(in crate::ctap2) fn arb_params() -> impl Strategy<Value = PublicKeyCredentialParameters> {
    arb_alg().prop_map(PublicKeyCredentialParameters::public_key)
}

pub(in crate::ctap2) fn arb_options() -> impl Strategy<Value = AuthenticatorOptions> {
    (
        proptest::option::of(any::<bool>()),
        proptest::option::of(any::<bool>()),
        proptest::option::of(any::<bool>()),
    )
        .prop_map(|(rk, up, uv)| AuthenticatorOptions { rk, up, uv })
}

fn arb_request() -> impl Strategy<Value = MakeCredentialRequest> {
    (
        (
            arb_bytes(40),
            arb_rp(),
            arb_user(),
            proptest::collection::vec(arb_params(), 0..4),
            proptest::option::of(proptest::collection::vec(arb_descriptor(), 0..3)),
        ),
        (
            proptest::option::of(arb_extension_inputs()),
            proptest::option::of(arb_options()),
            proptest::option::of(arb_bytes(33)),
            proptest::option::of(0u64..4),
            proptest::option::of(prop_oneof![Just(1u64), Just(2), any::<u64>()]),
        ),
    )
        .prop_map(
            |(
                (client_data_hash, rp, user, pub_key_cred_params, exclude_list),
                (extensions, options, pin_uv_auth_param, pin_uv_auth_protocol, ep),
            )| MakeCredentialRequest {
                client_data_hash,
                rp,
                user,
                pub_key_cred_params,
                exclude_list,
                extensions,
                options,
                pin_uv_auth_param,
                pin_uv_auth_protocol,
                enterprise_attestation: ep,
            },
        )
}

fn arb_response() -> impl Strategy<Value = MakeCredentialResponse> {
    (
        prop_oneof![
            Just("packed".to_owned()),
            Just("none".to_owned()),
            "[a-z-]{1,12}"
        ],
        arb_bytes(200),
        arb_map_value(),
        proptest::option::of(any::<bool>()),
        proptest::option::of(arb_bytes(33)),
    )
        .prop_map(|(fmt, auth_data, att_stmt, ep_att, large_blob_key)| {
            MakeCredentialResponse {
                fmt,
                auth_data,
                att_stmt,
                ep_att,
                large_blob_key,
            }
        })
}

// ---------------------------------------------------------------------------------------------
// Known answers: the CTAP 2.1 §6.1 example request and response.

/// §6.1 example makeCredential request, up to the user entity.
const SPEC_REQUEST_HEAD: &str = concat!(
    "a5",   // map(5)
    "01",   // 1: clientDataHash
    "5820", // bytes(32)
    "687134968222ec17202e42505f8ed2b16ae22f16bb05b88c25db9e602645f141",
    "02",                        // 2: rp
    "a2",                        // map(2)
    "62 6964",                   // "id"
    "6b 6578616d706c652e636f6d", // "example.com"
    "64 6e616d65",               // "name"
    "64 41636d65",               // "Acme"
    "03",                        // 3: user
);

/// §6.1 example user entity: it still carries the `icon` member that WebAuthn L2 and CTAP 2.1
/// retired, so re-encoding it drops `icon` (the map shrinks from 4 to 3 members).
const SPEC_USER_WITH_ICON: &str = concat!(
    "a4",      // map(4)
    "62 6964", // "id"
    "5820 3082019330820138a0030201023082019330820138a003020102308201933082",
    "64 69636f6e", // "icon"
    "782b 68747470733a2f2f706963732e6578616d706c652e636f6d2f30302f702f61426a6a6a707150622e706e67",
    "64 6e616d65",                                     // "name"
    "76 6a6f686e70736d697468406578616d706c652e636f6d", // "johnpsmith@example.com"
    "6b 646973706c61794e616d65",                       // "displayName"
    "6d 4a6f686e20502e20536d697468",                   // "John P. Smith"
);

/// The same user without `icon`, as ctapkit encodes it.
const SPEC_USER_WITHOUT_ICON: &str = concat!(
    "a3",
    "62 6964",
    "5820 3082019330820138a0030201023082019330820138a003020102308201933082",
    "64 6e616d65",
    "76 6a6f686e70736d697468406578616d706c652e636f6d",
    "6b 646973706c61794e616d65",
    "6d 4a6f686e20502e20536d697468",
);

/// §6.1 example request, after the user entity.
const SPEC_REQUEST_TAIL: &str = concat!(
    "04",                                                      // 4: pubKeyCredParams
    "82",                                                      // array(2)
    "a2 63 616c67 26 64 74797065 6a 7075626c69632d6b6579",     // {"alg": -7, "type": "public-key"}
    "a2 63 616c67 390100 64 74797065 6a 7075626c69632d6b6579", // {"alg": -257, "type": "public-key"}
    "07",                                                      // 7: options
    "a1 62 726b f5",                                           // {"rk": true}
);

#[test]
fn spec_example_request_decodes() {
    let body = h(&[SPEC_REQUEST_HEAD, SPEC_USER_WITH_ICON, SPEC_REQUEST_TAIL].concat());
    let r: MakeCredentialRequest = parse_request(&body).unwrap();
    assert_eq!(
        r.client_data_hash,
        h("687134968222ec17202e42505f8ed2b16ae22f16bb05b88c25db9e602645f141")
    );
    assert_eq!(
        r.rp,
        PublicKeyCredentialRpEntity {
            id: "example.com".into(),
            name: Some("Acme".into())
        }
    );
    assert_eq!(
        r.user,
        PublicKeyCredentialUserEntity {
            id: h("3082019330820138a0030201023082019330820138a003020102308201933082"),
            name: Some("johnpsmith@example.com".into()),
            display_name: Some("John P. Smith".into()),
        }
    );
    assert_eq!(
        r.pub_key_cred_params,
        vec![
            PublicKeyCredentialParameters::public_key(CoseAlgorithm::Es256),
            PublicKeyCredentialParameters::public_key(CoseAlgorithm::Rs256),
        ]
    );
    assert_eq!(
        r.options,
        Some(AuthenticatorOptions {
            rk: Some(true),
            ..Default::default()
        })
    );
    assert_eq!(r.exclude_list, None);
    assert_eq!(r.extensions, None);
    assert_eq!(r.pin_uv_auth_param, None);

    // Re-encoding gives the example byte for byte, except for the retired `icon`.
    let expected = h(&[SPEC_REQUEST_HEAD, SPEC_USER_WITHOUT_ICON, SPEC_REQUEST_TAIL].concat());
    assert_eq!(encode_request(&r), [&[0x01][..], &expected].concat());
    assert_eq!(request_round_trip(&r), r);
}

/// §6.1 example authenticator data: note its credential public key is the pre-COSE
/// `{"alg": "ES256", "x", "y"}` map of early CTAP2 drafts; the response keeps authData raw.
const SPEC_AUTH_DATA: &str = concat!(
    "c289c5ca9b0460f9346ab4e42d842743404d31f4846825a6d065be597a87051d", // rpIdHash
    "41",                                                               // flags: UP, AT
    "0000000b",                                                         // signCount 11
    "f8a011f38c0a4d15800617111f9edc7d",                                 // aaguid
    "0010",                                                             // credentialIdLength 16
    "8959cead5b5c48164e8abcd6d9435c6f",                                 // credentialId
    "a3 63 616c67 65 4553323536",                                       // {"alg": "ES256",
    "61 78 5820 f7c4f4a6f1d79538dfa4c9ac50848df708bc1c99f5e60e51b42a521b35d3b69a", //  "x": ...,
    "61 79 5820 de7b7d6ca564e70ea321a4d5d96ea00ef0e2db89dd61d4894c15ac585bd23684", //  "y": ...}
);

const SPEC_SIG: &str = concat!(
    "3045022013f73c5d9d530e8cc15cc9bd96ad586d393664e462d5f0561235e6350f2b7289",
    "02210090357ff910ccb56ac5b596511948581c8fddb4a2b79959948078b09f4bdc6229",
);

const SPEC_X5C: &str = concat!(
    "3082019330820138a003020102020900859b726cb24b4c29300a06082a8648ce",
    "3d0403023047310b300906035504061302555331143012060355040a0c0b5975",
    "6269636f205465737431223020060355040b0c1941757468656e74696361746f",
    "72204174746573746174696f6e301e170d3136313230343131353530305a170d",
    "3236313230323131353530305a3047310b300906035504061302555331143012",
    "060355040a0c0b59756269636f205465737431223020060355040b0c19417574",
    "68656e74696361746f72204174746573746174696f6e3059301306072a8648ce",
    "3d020106082a8648ce3d03010703420004ad11eb0e8852e53ad5dfed86b41e61",
    "34a18ec4e1af8f221a3c7d6e636c80ea13c3d504ff2e76211bb44525b196c44c",
    "b4849979cf6f896ecd2bb860de1bf4376ba30d300b30090603551d1304023000",
    "300a06082a8648ce3d0403020349003046022100e9a39f1b03197525f7373e10",
    "ce77e78021731b94d0c03f3fda1fd22db3d030e7022100c4faec3445a820cf43",
    "129cdb00aabefd9ae2d874f9c5d343cb2f113da23723f3",
);

/// §6.1 example attestation statement, `{"alg": -7, "sig": ..., "x5c": [cert]}`.
fn spec_att_stmt_hex() -> String {
    [
        "a3 63 616c67 26", // map(3) "alg": -7
        "63 736967 5847",  // "sig": bytes(71)
        SPEC_SIG,
        "63 783563 81 590197", // "x5c": [bytes(407)]
        SPEC_X5C,
    ]
    .concat()
}

fn spec_response_hex() -> String {
    [
        "a3",                 // map(3)
        "01 66 7061636b6564", // 1: fmt "packed"
        "02 589a",            // 2: authData, bytes(154)
        SPEC_AUTH_DATA,
        "03", // 3: attStmt
        &spec_att_stmt_hex(),
    ]
    .concat()
}

#[test]
fn spec_example_response_decodes_and_reencodes() {
    let body = h(&spec_response_hex());
    let r: MakeCredentialResponse = parse_response(&body).unwrap();
    assert_eq!(r.fmt, "packed");
    assert_eq!(r.auth_data, h(SPEC_AUTH_DATA));
    assert_eq!(r.auth_data.len(), 154);
    let Value::Map(att) = &r.att_stmt else {
        panic!("attStmt is not a map")
    };
    assert_eq!(att.get_text("alg"), Some(&Value::from(-7)));
    assert_eq!(att.get_text("sig"), Some(&Value::Bytes(h(SPEC_SIG))));
    assert_eq!(
        att.get_text("x5c"),
        Some(&Value::Array(vec![Value::Bytes(h(SPEC_X5C))]))
    );
    assert_eq!(r.ep_att, None);
    assert_eq!(r.large_blob_key, None);
    // The example is canonical: re-encoding gives it back byte for byte.
    assert_eq!(enc(&Response::to_cbor(&r).unwrap()), body);
}

#[test]
fn attestation_object_of_the_spec_example() {
    let r: MakeCredentialResponse = parse_response(&h(&spec_response_hex())).unwrap();
    let expected = h(&[
        "a3",                        // map(3), canonical order: fmt, attStmt, authData
        "63 666d74 66 7061636b6564", // "fmt": "packed"
        "67 61747453746d74",         // "attStmt"
        &spec_att_stmt_hex(),
        "68 6175746844617461 589a", // "authData": bytes(154)
        SPEC_AUTH_DATA,
    ]
    .concat());
    let obj = r.attestation_object().unwrap();
    assert_eq!(obj, expected);
    cbor::check_canonical(&obj).unwrap();
}

#[test]
fn attestation_object_rejects_a_float_in_att_stmt() {
    let r = MakeCredentialResponse {
        att_stmt: tmap(vec![("x", Value::Float(1.5))]),
        ..Default::default()
    };
    assert!(r.attestation_object().is_err());
}

// ---------------------------------------------------------------------------------------------
// Decoding failures and liberal decoding.

fn valid_request_value() -> Value {
    imap(vec![
        (key::CLIENT_DATA_HASH, Value::Bytes(vec![7; 32])),
        (key::RP, tmap(vec![("id", "example.com".into())])),
        (key::USER, tmap(vec![("id", Value::Bytes(vec![1, 2]))])),
        (
            key::PUB_KEY_CRED_PARAMS,
            Value::Array(vec![tmap(vec![
                ("alg", Value::from(-7)),
                ("type", "public-key".into()),
            ])]),
        ),
    ])
}

fn parse_value(v: &Value) -> Result<MakeCredentialRequest, StatusCode> {
    parse_request(&enc(v))
}

#[test]
fn minimal_request_decodes() {
    let r = parse_value(&valid_request_value()).unwrap();
    assert_eq!(r.rp.name, None);
    assert_eq!(r.user.name, None);
    assert_eq!(r.options, None);
}

#[test]
fn request_decode_failures() {
    let base = valid_request_value();
    let params = |entry: Value| with(&base, key::PUB_KEY_CRED_PARAMS, Value::Array(vec![entry]));
    let cases: Vec<(&str, Value, StatusCode)> = vec![
        (
            "missing clientDataHash",
            without(&base, key::CLIENT_DATA_HASH),
            StatusCode::MISSING_PARAMETER,
        ),
        (
            "missing rp",
            without(&base, key::RP),
            StatusCode::MISSING_PARAMETER,
        ),
        (
            "missing user",
            without(&base, key::USER),
            StatusCode::MISSING_PARAMETER,
        ),
        (
            "missing pubKeyCredParams",
            without(&base, key::PUB_KEY_CRED_PARAMS),
            StatusCode::MISSING_PARAMETER,
        ),
        (
            "clientDataHash as text",
            with(&base, key::CLIENT_DATA_HASH, "hash".into()),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "rp not a map",
            with(&base, key::RP, "example.com".into()),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "rp without id",
            with(&base, key::RP, tmap(vec![("name", "Acme".into())])),
            StatusCode::MISSING_PARAMETER,
        ),
        (
            "rp id as bytes",
            with(&base, key::RP, tmap(vec![("id", Value::Bytes(vec![1]))])),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "rp name as integer",
            with(
                &base,
                key::RP,
                tmap(vec![("id", "a".into()), ("name", 1.into())]),
            ),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "user not a map",
            with(&base, key::USER, Value::Array(vec![])),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "user id as text",
            with(&base, key::USER, tmap(vec![("id", "alice".into())])),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "user without id",
            with(&base, key::USER, tmap(vec![("name", "alice".into())])),
            StatusCode::MISSING_PARAMETER,
        ),
        (
            "user displayName as bytes",
            with(
                &base,
                key::USER,
                tmap(vec![
                    ("id", Value::Bytes(vec![1])),
                    ("displayName", Value::Bytes(vec![])),
                ]),
            ),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "pubKeyCredParams not an array",
            with(&base, key::PUB_KEY_CRED_PARAMS, tmap(vec![])),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "pubKeyCredParams entry not a map",
            params(Value::from(-7)),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "public-key entry without alg",
            params(tmap(vec![("type", "public-key".into())])),
            StatusCode::MISSING_PARAMETER,
        ),
        (
            "entry without type",
            params(tmap(vec![("alg", Value::from(-7))])),
            StatusCode::MISSING_PARAMETER,
        ),
        (
            "entry alg as text",
            params(tmap(vec![
                ("alg", "ES256".into()),
                ("type", "public-key".into()),
            ])),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "unknown-type entry with alg of the wrong type",
            params(tmap(vec![("alg", "x".into()), ("type", "future".into())])),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "entry type as integer",
            params(tmap(vec![("alg", Value::from(-7)), ("type", 1.into())])),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "excludeList not an array",
            with(&base, key::EXCLUDE_LIST, Value::Bytes(vec![1])),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "excludeList entry without id",
            with(
                &base,
                key::EXCLUDE_LIST,
                Value::Array(vec![tmap(vec![("type", "public-key".into())])]),
            ),
            StatusCode::MISSING_PARAMETER,
        ),
        (
            "excludeList entry without type",
            with(
                &base,
                key::EXCLUDE_LIST,
                Value::Array(vec![tmap(vec![("id", Value::Bytes(vec![1]))])]),
            ),
            StatusCode::MISSING_PARAMETER,
        ),
        (
            "excludeList transports not an array",
            with(
                &base,
                key::EXCLUDE_LIST,
                Value::Array(vec![tmap(vec![
                    ("id", Value::Bytes(vec![1])),
                    ("type", "public-key".into()),
                    ("transports", "usb".into()),
                ])]),
            ),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "extensions not a map",
            with(&base, key::EXTENSIONS, Value::Array(vec![])),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "credProtect out of range",
            with(
                &base,
                key::EXTENSIONS,
                tmap(vec![("credProtect", Value::from(4))]),
            ),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "options not a map",
            with(&base, key::OPTIONS, Value::Bool(true)),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "option rk as integer",
            with(&base, key::OPTIONS, tmap(vec![("rk", Value::from(1))])),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "option uv as text",
            with(&base, key::OPTIONS, tmap(vec![("uv", "true".into())])),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "pinUvAuthParam as text",
            with(&base, key::PIN_UV_AUTH_PARAM, "x".into()),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "negative pinUvAuthProtocol",
            with(&base, key::PIN_UV_AUTH_PROTOCOL, Value::from(-1)),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "enterpriseAttestation as bool",
            with(&base, key::ENTERPRISE_ATTESTATION, Value::Bool(true)),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "parameters not a map",
            Value::Array(vec![]),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
    ];
    for (name, value, expected) in cases {
        assert_eq!(parse_value(&value), Err(expected), "{name}");
    }
    // No parameters at all.
    assert_eq!(
        MakeCredentialRequest::from_cbor(None),
        Err(StatusCode::MISSING_PARAMETER)
    );
    // Bytes that are not canonical CBOR never reach the parser.
    let mut body = enc(&valid_request_value());
    body[0] = 0xbf; // indefinite-length map
    assert_eq!(
        parse_request::<MakeCredentialRequest>(&body),
        Err(StatusCode::INVALID_CBOR)
    );
}

#[test]
fn unknown_members_are_skipped_and_unknown_algorithms_kept() {
    let base = valid_request_value();
    let v = with(&base, 0x20, "future parameter".into());
    let v = with(
        &v,
        key::RP,
        tmap(vec![
            ("id", "example.com".into()),
            ("icon", "https://x/y.png".into()),
        ]),
    );
    let v = with(
        &v,
        key::USER,
        tmap(vec![
            ("id", Value::Bytes(vec![1, 2])),
            ("icon", Value::from(5)),
            ("future", Value::Null),
        ]),
    );
    let v = with(
        &v,
        key::PUB_KEY_CRED_PARAMS,
        Value::Array(vec![
            tmap(vec![
                ("alg", Value::from(-7)),
                ("type", "future-type".into()),
            ]),
            tmap(vec![("type", "another-type".into())]),
            tmap(vec![
                ("alg", Value::from(-65535)),
                ("type", "public-key".into()),
                ("extra", Value::Bool(true)),
            ]),
            tmap(vec![
                ("alg", Value::from(-8)),
                ("type", "public-key".into()),
            ]),
        ]),
    );
    let v = with(
        &v,
        key::EXCLUDE_LIST,
        Value::Array(vec![tmap(vec![
            ("id", Value::Bytes(vec![9])),
            ("type", "public-key".into()),
            (
                "transports",
                Value::Array(vec!["usb".into(), "smoke-signal".into()]),
            ),
            ("future", Value::from(1)),
        ])]),
    );
    let v = with(
        &v,
        key::OPTIONS,
        tmap(vec![
            ("rk", Value::Bool(false)),
            ("future", Value::from(1)),
            ("ep", Value::Bool(true)),
        ]),
    );
    let mut with_text_key = fields::map(v).unwrap();
    with_text_key.push((Value::Text("text key".into()), Value::from(1)));
    let r = parse_value(&Value::Map(with_text_key)).unwrap();
    assert_eq!(r.rp.id, "example.com");
    assert_eq!(r.user.id, vec![1, 2]);
    assert_eq!(
        r.pub_key_cred_params,
        vec![
            PublicKeyCredentialParameters::public_key(CoseAlgorithm::Other(-65535)),
            PublicKeyCredentialParameters::public_key(CoseAlgorithm::EdDsa),
        ]
    );
    assert_eq!(
        r.exclude_list,
        Some(vec![PublicKeyCredentialDescriptor {
            type_: "public-key".into(),
            id: vec![9],
            transports: Some(vec!["usb".into(), "smoke-signal".into()]),
        }])
    );
    assert_eq!(
        r.options,
        Some(AuthenticatorOptions {
            rk: Some(false),
            up: None,
            uv: None
        })
    );
}

#[test]
fn extensions_in_a_request() {
    let v = with(
        &valid_request_value(),
        key::EXTENSIONS,
        tmap(vec![
            ("credProtect", Value::from(2)),
            ("hmac-secret", Value::Bool(true)),
            ("credBlob", Value::Bytes(vec![1, 2, 3])),
            ("minPinLength", Value::Bool(true)),
            ("largeBlobKey", Value::Bool(true)),
            ("prf", tmap(vec![])),
        ]),
    );
    let r = parse_value(&v).unwrap();
    let ext = r.extensions.clone().unwrap();
    assert_eq!(
        ext.cred_protect,
        Some(CredProtect::UserVerificationOptionalWithCredentialIdList)
    );
    assert_eq!(ext.hmac_secret, Some(HmacSecretInput::Create(true)));
    assert_eq!(ext.unknown("prf"), Some(&tmap(vec![])));
    assert_eq!(request_round_trip(&r), r);
}

#[test]
fn response_decode_failures() {
    let base = imap(vec![
        (key::FMT, "none".into()),
        (key::AUTH_DATA, Value::Bytes(vec![0; 37])),
        (key::ATT_STMT, tmap(vec![])),
    ]);
    let parse = |v: &Value| parse_response::<MakeCredentialResponse>(&enc(v));
    assert!(parse(&base).is_ok());
    let cases: Vec<(&str, Value, StatusCode)> = vec![
        (
            "missing fmt",
            without(&base, key::FMT),
            StatusCode::MISSING_PARAMETER,
        ),
        (
            "missing authData",
            without(&base, key::AUTH_DATA),
            StatusCode::MISSING_PARAMETER,
        ),
        (
            "missing attStmt",
            without(&base, key::ATT_STMT),
            StatusCode::MISSING_PARAMETER,
        ),
        (
            "fmt as bytes",
            with(&base, key::FMT, Value::Bytes(vec![])),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "authData as text",
            with(&base, key::AUTH_DATA, "x".into()),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "attStmt not a map",
            with(&base, key::ATT_STMT, Value::Array(vec![])),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "epAtt as integer",
            with(&base, key::EP_ATT, Value::from(1)),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
        (
            "largeBlobKey as text",
            with(&base, key::LARGE_BLOB_KEY, "k".into()),
            StatusCode::CBOR_UNEXPECTED_TYPE,
        ),
    ];
    for (name, value, expected) in cases {
        assert_eq!(parse(&value), Err(expected), "{name}");
    }
    // Unknown keys (CTAP 2.2's unsignedExtensionOutputs, 0x06, among them) are skipped.
    let r = parse(&with(&base, 0x06, tmap(vec![]))).unwrap();
    assert_eq!(r.fmt, "none");
    assert_eq!(
        MakeCredentialResponse::from_cbor(None),
        Err(StatusCode::MISSING_PARAMETER)
    );
}

#[test]
fn entities_round_trip_with_all_members() {
    let d = PublicKeyCredentialDescriptor {
        type_: PUBLIC_KEY.into(),
        id: vec![1, 2, 3],
        transports: Some(vec!["usb".into(), "nfc".into()]),
    };
    assert_eq!(
        PublicKeyCredentialDescriptor::from_cbor(&d.to_cbor()),
        Ok(d)
    );
    assert_eq!(
        enc(&PublicKeyCredentialDescriptor::public_key(vec![0xaa]).to_cbor()),
        h("a2 62 6964 41 aa 64 74797065 6a 7075626c69632d6b6579")
    );
    assert_eq!(
        enc(&AuthenticatorOptions {
            rk: Some(true),
            up: Some(false),
            uv: Some(true)
        }
        .to_cbor()),
        h("a3 62 726b f5 62 7570 f4 62 7576 f5")
    );
    assert_eq!(enc(&AuthenticatorOptions::default().to_cbor()), h("a0"));
}

proptest! {
    #[test]
    fn request_round_trips(r in arb_request()) {
        prop_assert_eq!(request_round_trip(&r), r);
    }

    #[test]
    fn response_round_trips(r in arb_response()) {
        prop_assert_eq!(response_round_trip(&r), r.clone());
        let obj = r.attestation_object().unwrap();
        prop_assert!(cbor::check_canonical(&obj).is_ok());
    }

    #[test]
    fn parsing_arbitrary_maps_never_panics(v in arb_value()) {
        let _ = MakeCredentialRequest::from_cbor(Some(v.clone()));
        let _ = MakeCredentialResponse::from_cbor(Some(v));
    }
}
