use super::*;
use crate::cbor;
use crate::ctap2::pin_protocol::KeyAgreementKey;
use crate::ctap2::{decode_body, encode_request};
use proptest::prelude::*;

fn h(s: &str) -> Vec<u8> {
    hex::decode(s.replace([' ', '\n'], "")).unwrap()
}

/// Encodes a request's parameters (without the command byte).
fn request_bytes(r: &ClientPinRequest) -> Vec<u8> {
    cbor::encode(&Request::to_cbor(r).unwrap()).unwrap()
}

/// Decodes a request body as the authenticator does.
fn decode_request(hex_body: &str) -> Result<ClientPinRequest, StatusCode> {
    <ClientPinRequest as Request>::from_cbor(decode_body(&h(hex_body), true)?)
}

/// The W3C vectors' authenticator key agreement key (vectors/w3c), a known valid point.
const X: &str = "a30522c2de402b561965c3cf949a1cab020c6f6ea36fcf7e911ac1a0f1515300";
const Y: &str = "9961a929abdb2f42e6566771887d41484d889e735e3248518a53112d2b915f00";

fn known_key() -> EcdhPublicKey {
    EcdhPublicKey::from_coordinates(h(X).try_into().unwrap(), h(Y).try_into().unwrap()).unwrap()
}

fn cose_hex() -> String {
    format!(
        concat!(
            "a5",         // map(5)
            "01 02",      // 1 kty: 2 EC2
            "03 3818",    // 3 alg: -25 ECDH-ES+HKDF-256
            "20 01",      // -1 crv: 1 P-256
            "21 5820 {}", // -2 x: bytes(32)
            "22 5820 {}", // -3 y: bytes(32)
        ),
        X, Y
    )
}

/// A platform and an authenticator that have agreed on a shared secret.
struct Session {
    protocol: PinUvAuthProtocol,
    authenticator: KeyAgreementKey,
    platform_key: EcdhPublicKey,
    shared: Vec<u8>,
}

fn session(protocol: PinUvAuthProtocol) -> Session {
    let authenticator = KeyAgreementKey::generate(protocol).unwrap();
    let (platform_key, shared) = protocol.encapsulate(authenticator.public_key()).unwrap();
    Session {
        protocol,
        authenticator,
        platform_key,
        shared,
    }
}

/// The request as the authenticator receives it: encoded, framed, decoded.
fn over_the_wire(r: &ClientPinRequest) -> ClientPinRequest {
    let message = encode_request(r);
    assert_eq!(message[0], 0x06);
    <ClientPinRequest as Request>::from_cbor(decode_body(&message[1..], true).unwrap()).unwrap()
}

// ---- Encodings ----

#[test]
fn simple_requests_encode_as_annotated() {
    for (request, expected) in [
        (
            get_pin_retries(PinUvAuthProtocol::One),
            concat!("a2", "01 01", /* pinUvAuthProtocol 1 */ "02 01" /* getPINRetries */),
        ),
        (
            get_key_agreement(PinUvAuthProtocol::Two),
            concat!("a2", "01 02", /* pinUvAuthProtocol 2 */ "02 02" /* getKeyAgreement */),
        ),
        (get_uv_retries(), concat!("a1", "02 07" /* getUVRetries */)),
    ] {
        assert_eq!(
            hex::encode(request_bytes(&request)),
            expected.replace(' ', "")
        );
        assert_eq!(encode_request(&request)[0], command::CLIENT_PIN);
    }
}

#[test]
fn uv_token_request_encodes_as_annotated() {
    let request = get_pin_uv_auth_token_using_uv_with_permissions(
        PinUvAuthProtocol::Two,
        &known_key(),
        permission::MAKE_CREDENTIAL | permission::GET_ASSERTION,
        Some("example.org"),
    );
    let expected = format!(
        concat!(
            "a5",
            "01 02",                        // pinUvAuthProtocol: 2
            "02 06",                        // subCommand: getPinUvAuthTokenUsingUvWithPermissions
            "03 {}",                        // keyAgreement: COSE_Key
            "09 03",                        // permissions: mc | ga
            "0a 6b 6578616d706c652e6f7267", // rpId: "example.org"
        ),
        cose_hex()
    );
    assert_eq!(
        hex::encode(request_bytes(&request)),
        expected.replace(' ', "")
    );
    assert_eq!(decode_request(&expected).unwrap(), request);
}

#[test]
fn responses_encode_as_annotated() {
    let key_agreement = ClientPinResponse {
        key_agreement: Some(known_key()),
        ..Default::default()
    };
    let hex_ka = format!("a1 01 {}", cose_hex()).replace(' ', "");
    let retries = ClientPinResponse {
        pin_retries: Some(8),
        power_cycle_state: Some(false),
        ..Default::default()
    };
    let hex_retries =
        concat!("a2", "03 08", /* pinRetries 8 */ "04 f4" /* powerCycleState false */);
    let token = ClientPinResponse {
        pin_uv_auth_token: Some(vec![0xab; 48]),
        ..Default::default()
    };
    let hex_token = format!("a1 02 5830 {}", "ab".repeat(48)).replace(' ', "");
    let uv = ClientPinResponse {
        uv_retries: Some(3),
        ..Default::default()
    };
    for (response, expected) in [
        (key_agreement, hex_ka),
        (retries, hex_retries.replace(' ', "")),
        (token, hex_token),
        (uv, "a10503".to_owned()),
    ] {
        let bytes = cbor::encode(&response.to_cbor().unwrap()).unwrap();
        assert_eq!(hex::encode(&bytes), expected);
        let decoded =
            <ClientPinResponse as Response>::from_cbor(decode_body(&bytes, true).unwrap()).unwrap();
        assert_eq!(decoded, response);
    }
    // setPIN/changePIN answer with an empty body.
    assert_eq!(ClientPinResponse::default().to_cbor(), None);
    assert_eq!(
        <ClientPinResponse as Response>::from_cbor(None).unwrap(),
        ClientPinResponse::default()
    );
    assert_eq!(
        <ClientPinResponse as Response>::from_cbor(Some(Value::Map(vec![]))).unwrap(),
        ClientPinResponse::default()
    );
}

#[test]
fn full_request_round_trips() {
    let s = session(PinUvAuthProtocol::Two);
    let mut request = change_pin(s.protocol, &s.shared, &s.platform_key, "1234", "56789").unwrap();
    request.permissions = Some(0x3f);
    request.rp_id = Some("example.org".into());
    assert_eq!(over_the_wire(&request), request);
}

#[test]
fn unknown_keys_and_subcommands_are_kept_or_skipped() {
    // Unknown map key 0x07 and 0x20 are skipped; subCommand 0x08 is kept as Other.
    let r = decode_request(concat!("a3", "02 08", "07 f6", "18 20 01")).unwrap();
    assert_eq!(r, ClientPinRequest::new(ClientPinSubCommand::Other(8)));
    assert_eq!(
        hex::encode(request_bytes(&r)),
        "a10208",
        "re-encodes without the unknown keys"
    );
    // Unknown response keys are skipped too.
    let resp = <ClientPinResponse as Response>::from_cbor(
        decode_body(&h(concat!("a2", "03 05", "06 f5")), true).unwrap(),
    )
    .unwrap();
    assert_eq!(resp.pin_retries, Some(5));
}

#[test]
fn sub_command_values_round_trip() {
    for v in 0u8..=255 {
        let s = ClientPinSubCommand::from(v);
        assert_eq!(u8::from(s), v);
        let named = matches!(v, 1..=7 | 9);
        assert_eq!(!matches!(s, ClientPinSubCommand::Other(_)), named, "{v}");
    }
    assert_eq!(
        ClientPinSubCommand::from(9),
        ClientPinSubCommand::GetPinUvAuthTokenUsingPinWithPermissions
    );
    assert_eq!(
        ClientPinSubCommand::from(6),
        ClientPinSubCommand::GetPinUvAuthTokenUsingUvWithPermissions
    );
}

#[test]
fn permission_bits() {
    use permission::*;
    assert_eq!(
        [
            MAKE_CREDENTIAL,
            GET_ASSERTION,
            CREDENTIAL_MANAGEMENT,
            BIO_ENROLLMENT,
            LARGE_BLOB_WRITE,
            AUTHENTICATOR_CONFIGURATION
        ],
        [0x01, 0x02, 0x04, 0x08, 0x10, 0x20]
    );
}

// ---- Decode failures ----

#[test]
fn request_decode_failures() {
    let off_curve = cose_hex().replace(&Y[56..], "2b915f01");
    let cases: Vec<(String, StatusCode)> = vec![
        // Not a map.
        ("80".into(), StatusCode::CBOR_UNEXPECTED_TYPE),
        ("02".into(), StatusCode::CBOR_UNEXPECTED_TYPE),
        // subCommand missing, of the wrong type, negative, or beyond a byte.
        ("a0".into(), StatusCode::MISSING_PARAMETER),
        ("a1 01 01".into(), StatusCode::MISSING_PARAMETER),
        ("a1 02 61 31".into(), StatusCode::CBOR_UNEXPECTED_TYPE),
        ("a1 02 20".into(), StatusCode::CBOR_UNEXPECTED_TYPE),
        ("a1 02 19 0100".into(), StatusCode::INVALID_SUBCOMMAND),
        // pinUvAuthProtocol not an unsigned integer.
        ("a2 01 41 01 02 01".into(), StatusCode::CBOR_UNEXPECTED_TYPE),
        ("a2 01 20 02 01".into(), StatusCode::CBOR_UNEXPECTED_TYPE),
        // keyAgreement not a map, incomplete, or off the curve.
        ("a2 02 02 03 80".into(), StatusCode::CBOR_UNEXPECTED_TYPE),
        ("a2 02 02 03 a0".into(), StatusCode::MISSING_PARAMETER),
        (
            format!("a2 02 02 03 {off_curve}"),
            StatusCode::INVALID_PARAMETER,
        ),
        // Byte-string members given as text.
        ("a2 02 03 04 61 61".into(), StatusCode::CBOR_UNEXPECTED_TYPE),
        ("a2 02 03 05 61 61".into(), StatusCode::CBOR_UNEXPECTED_TYPE),
        ("a2 02 04 06 61 61".into(), StatusCode::CBOR_UNEXPECTED_TYPE),
        // permissions negative; rpId as bytes.
        ("a2 02 09 09 20".into(), StatusCode::CBOR_UNEXPECTED_TYPE),
        ("a2 02 09 0a 41 61".into(), StatusCode::CBOR_UNEXPECTED_TYPE),
        // Not canonical (keys out of order), truncated, trailing bytes.
        ("a2 02 01 01 01".into(), StatusCode::INVALID_CBOR),
        ("a2 01 01 02".into(), StatusCode::INVALID_CBOR),
        ("a1 02 01 00".into(), StatusCode::INVALID_CBOR),
    ];
    for (hex_body, status) in cases {
        assert_eq!(decode_request(&hex_body), Err(status), "{hex_body}");
    }
    // No parameters at all.
    assert_eq!(
        <ClientPinRequest as Request>::from_cbor(None),
        Err(StatusCode::MISSING_PARAMETER)
    );
}

#[test]
fn response_decode_failures() {
    for (hex_body, status) in [
        ("80", StatusCode::CBOR_UNEXPECTED_TYPE),
        ("a1 01 80", StatusCode::CBOR_UNEXPECTED_TYPE),
        ("a1 02 61 61", StatusCode::CBOR_UNEXPECTED_TYPE),
        ("a1 03 20", StatusCode::CBOR_UNEXPECTED_TYPE),
        ("a1 04 01", StatusCode::CBOR_UNEXPECTED_TYPE),
        ("a1 05 f5", StatusCode::CBOR_UNEXPECTED_TYPE),
    ] {
        let decoded =
            <ClientPinResponse as Response>::from_cbor(decode_body(&h(hex_body), true).unwrap());
        assert_eq!(decoded, Err(status), "{hex_body}");
    }
}

#[test]
fn protocol_is_checked_in_spec_order() {
    let mut r = ClientPinRequest::new(ClientPinSubCommand::SetPin);
    assert_eq!(r.protocol(), Err(StatusCode::MISSING_PARAMETER));
    r.pin_uv_auth_protocol = Some(3);
    assert_eq!(r.protocol(), Err(StatusCode::INVALID_PARAMETER));
    r.pin_uv_auth_protocol = Some(1);
    assert_eq!(r.protocol(), Ok(PinUvAuthProtocol::One));
    // An unsupported protocol number decodes; the authenticator rejects it later.
    assert_eq!(
        decode_request("a2 01 03 02 03")
            .unwrap()
            .pin_uv_auth_protocol,
        Some(3)
    );
}

// ---- Platform builders against the authenticator-side checks ----

#[test]
fn set_pin_then_authenticator_recovers_it() {
    for p in PinUvAuthProtocol::ALL {
        for pin in ["1234", "ünïcödé", "🔑🔑🔑🔑", &"7".repeat(63)] {
            let s = session(p);
            let request = over_the_wire(&set_pin(p, &s.shared, &s.platform_key, pin).unwrap());
            assert_eq!(request.sub_command, ClientPinSubCommand::SetPin);
            assert_eq!(request.protocol(), Ok(p));
            let new_pin_enc = request.new_pin_enc.unwrap();
            assert_eq!(new_pin_enc.len(), PADDED_PIN_LEN + p.encryption_overhead());
            // Authenticator: decapsulate, verify, decrypt.
            let shared = s
                .authenticator
                .decapsulate(&request.key_agreement.unwrap())
                .unwrap();
            assert!(p.verify(&shared, &new_pin_enc, &request.pin_uv_auth_param.unwrap()));
            assert_eq!(
                decrypt_new_pin(p, &shared, &new_pin_enc, DEFAULT_MIN_PIN_LENGTH).as_deref(),
                Ok(pin)
            );
        }
    }
}

#[test]
fn change_pin_then_authenticator_checks_both() {
    for p in PinUvAuthProtocol::ALL {
        let s = session(p);
        let request =
            over_the_wire(&change_pin(p, &s.shared, &s.platform_key, "1234", "98765").unwrap());
        let shared = s
            .authenticator
            .decapsulate(&request.key_agreement.unwrap())
            .unwrap();
        let new_pin_enc = request.new_pin_enc.unwrap();
        let pin_hash_enc = request.pin_hash_enc.unwrap();
        let message = [new_pin_enc.as_slice(), &pin_hash_enc].concat();
        let param = request.pin_uv_auth_param.unwrap();
        assert_eq!(param.len(), p.auth_param_len());
        assert!(p.verify(&shared, &message, &param));
        assert!(!p.verify(&shared, &new_pin_enc, &param));
        assert!(verify_pin_hash(
            p,
            &shared,
            &pin_hash_enc,
            &pin_hash("1234")
        ));
        assert!(!verify_pin_hash(
            p,
            &shared,
            &pin_hash_enc,
            &pin_hash("1235")
        ));
        assert_eq!(
            decrypt_new_pin(p, &shared, &new_pin_enc, 4).as_deref(),
            Ok("98765")
        );
    }
}

#[test]
fn pin_token_requests_and_token_decryption() {
    for p in PinUvAuthProtocol::ALL {
        let s = session(p);
        let legacy = get_pin_token(p, &s.shared, &s.platform_key, "1234").unwrap();
        assert_eq!(legacy.sub_command, ClientPinSubCommand::GetPinToken);
        assert_eq!(legacy.permissions, None);
        let request = over_the_wire(
            &get_pin_uv_auth_token_using_pin_with_permissions(
                p,
                &s.shared,
                &s.platform_key,
                "1234",
                permission::GET_ASSERTION,
                Some("example.org"),
            )
            .unwrap(),
        );
        assert_eq!(request.permissions, Some(0x02));
        assert_eq!(request.rp_id.as_deref(), Some("example.org"));
        assert_eq!(request.pin_uv_auth_param, None);
        let shared = s
            .authenticator
            .decapsulate(&request.key_agreement.unwrap())
            .unwrap();
        for r in [&legacy.pin_hash_enc, &request.pin_hash_enc] {
            let enc = r.as_ref().unwrap();
            assert_eq!(enc.len(), PIN_HASH_LEN + p.encryption_overhead());
            assert!(verify_pin_hash(p, &shared, enc, &pin_hash("1234")));
            assert!(!verify_pin_hash(p, &shared, enc, &pin_hash("4321")));
        }
        // The authenticator answers with encrypt(shared, token); the platform decrypts it.
        let token = [0x11u8; 32];
        let response = ClientPinResponse {
            pin_uv_auth_token: Some(p.encrypt(&shared, &token).unwrap()),
            ..Default::default()
        };
        let bytes = cbor::encode(&response.to_cbor().unwrap()).unwrap();
        let received =
            <ClientPinResponse as Response>::from_cbor(decode_body(&bytes, true).unwrap()).unwrap();
        assert_eq!(
            decrypt_token(p, &s.shared, &received.pin_uv_auth_token.unwrap()).unwrap(),
            token
        );
        // Tampered or wrongly sized tokens are errors, not panics.
        assert!(decrypt_token(p, &s.shared, &[0; 15]).is_err());
        assert!(decrypt_token(p, &s.shared[..16], &[0; 48]).is_err());
    }
}

#[test]
fn verify_pin_hash_treats_bad_ciphertext_as_mismatch() {
    for p in PinUvAuthProtocol::ALL {
        let s = session(p);
        let stored = pin_hash("1234");
        for enc in [vec![], vec![0; 15], vec![0; 17], vec![0; 48]] {
            assert!(
                !verify_pin_hash(p, &s.shared, &enc, &stored),
                "{p} {}",
                enc.len()
            );
        }
        // Wrong shared secret length.
        let good = p.encrypt(&s.shared, &stored).unwrap();
        assert!(!verify_pin_hash(p, &s.shared[..16], &good, &stored));
    }
}

#[test]
fn builders_enforce_pin_composition() {
    let s = session(PinUvAuthProtocol::One);
    let p = s.protocol;
    assert_eq!(
        set_pin(p, &s.shared, &s.platform_key, "123"),
        Err(PinProtocolError::PinTooShort { code_points: 3 })
    );
    // Three code points in six bytes is still too short.
    assert_eq!(
        set_pin(p, &s.shared, &s.platform_key, "äöü"),
        Err(PinProtocolError::PinTooShort { code_points: 3 })
    );
    assert_eq!(
        set_pin(p, &s.shared, &s.platform_key, &"1".repeat(64)),
        Err(PinProtocolError::PinTooLong { bytes: 64 })
    );
    assert_eq!(
        change_pin(p, &s.shared, &s.platform_key, "1234", "12"),
        Err(PinProtocolError::PinTooShort { code_points: 2 })
    );
    // A shared secret of the other protocol is refused.
    assert!(matches!(
        set_pin(PinUvAuthProtocol::Two, &s.shared, &s.platform_key, "1234"),
        Err(PinProtocolError::KeyLength { .. })
    ));
}

/// newPinEnc for an arbitrary padded PIN, bypassing the platform-side checks.
fn encrypt_padded(s: &Session, padded: &[u8]) -> Vec<u8> {
    s.protocol.encrypt(&s.shared, padded).unwrap()
}

fn padded(pin: &[u8], len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    out[..pin.len()].copy_from_slice(pin);
    out
}

#[test]
fn decrypt_new_pin_failures() {
    for p in PinUvAuthProtocol::ALL {
        let s = session(p);
        let check = |enc: &[u8], min: usize| decrypt_new_pin(p, &s.shared, enc, min);
        let ok = |s: &str| Ok(s.to_owned());
        let cases: Vec<(Vec<u8>, usize, Result<String, StatusCode>)> = vec![
            // Decryption fails: CTAP2_ERR_PIN_AUTH_INVALID (§6.5.5.5 step 6).
            (
                vec![0; 63 + p.encryption_overhead()],
                4,
                Err(StatusCode::PIN_AUTH_INVALID),
            ),
            (vec![0; 15], 4, Err(StatusCode::PIN_AUTH_INVALID)),
            // Decrypts, but paddedNewPin is not 64 bytes (step 7).
            (
                encrypt_padded(&s, &padded(b"1234", 48)),
                4,
                Err(StatusCode::INVALID_PARAMETER),
            ),
            (
                encrypt_padded(&s, &padded(b"1234", 80)),
                4,
                Err(StatusCode::INVALID_PARAMETER),
            ),
            (
                encrypt_padded(&s, &[]),
                4,
                Err(StatusCode::INVALID_PARAMETER),
            ),
            // Too short, in code points (step 9).
            (
                encrypt_padded(&s, &padded(b"123", 64)),
                4,
                Err(StatusCode::PIN_POLICY_VIOLATION),
            ),
            (
                encrypt_padded(&s, &padded(b"", 64)),
                4,
                Err(StatusCode::PIN_POLICY_VIOLATION),
            ),
            (
                encrypt_padded(&s, &padded("äöü".as_bytes(), 64)),
                4,
                Err(StatusCode::PIN_POLICY_VIOLATION),
            ),
            (
                encrypt_padded(&s, &padded(b"12345", 64)),
                6,
                Err(StatusCode::PIN_POLICY_VIOLATION),
            ),
            // A minimum below the spec's 4 does not lower it.
            (
                encrypt_padded(&s, &padded(b"123", 64)),
                1,
                Err(StatusCode::PIN_POLICY_VIOLATION),
            ),
            // No trailing zero: 64 bytes is longer than 63 (step 10, §6.5.1).
            (
                encrypt_padded(&s, &[b'7'; 64]),
                4,
                Err(StatusCode::PIN_POLICY_VIOLATION),
            ),
            // Not UTF-8 (step 10).
            (
                encrypt_padded(&s, &padded(&[0xff, 0xfe, 0xfd, 0xfc], 64)),
                4,
                Err(StatusCode::PIN_POLICY_VIOLATION),
            ),
            // Good ones.
            (
                encrypt_padded(&s, &padded(&[b'7'; 63], 64)),
                4,
                ok(&"7".repeat(63)),
            ),
            (
                encrypt_padded(&s, &padded("äöüß".as_bytes(), 64)),
                4,
                ok("äöüß"),
            ),
            (encrypt_padded(&s, &padded(b"123456", 64)), 6, ok("123456")),
        ];
        for (enc, min, expected) in cases {
            assert_eq!(
                check(&enc, min),
                expected,
                "{p} len {} min {min}",
                enc.len()
            );
        }
        // Only the trailing zeros are padding.
        let inner_zero = encrypt_padded(&s, &padded(b"12\x0034", 64));
        assert_eq!(check(&inner_zero, 4).as_deref(), Ok("12\u{0}34"));
        // A shared secret of the wrong length cannot decrypt.
        let good = encrypt_padded(&s, &padded(b"1234", 64));
        assert_eq!(
            decrypt_new_pin(p, &s.shared[..16], &good, 4),
            Err(StatusCode::PIN_AUTH_INVALID)
        );
    }
}

#[test]
fn pin_hash_is_left_16_of_sha256() {
    // SHA-256("1234") = 03ac674216f3e15c761ee1a5e255f067953623c8b388b4459e13f978d7c846f4.
    assert_eq!(
        hex::encode(pin_hash("1234")),
        "03ac674216f3e15c761ee1a5e255f067"
    );
}

proptest! {
    #[test]
    fn request_decoding_never_panics(body in proptest::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(value) = decode_body(&body, false) {
            let _ = <ClientPinRequest as Request>::from_cbor(value.clone());
            let _ = <ClientPinResponse as Response>::from_cbor(value);
        }
    }

    #[test]
    fn request_round_trips(
        protocol in proptest::option::of(any::<u64>()),
        sub in any::<u8>(),
        param in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..48)),
        new_pin_enc in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..96)),
        pin_hash_enc in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..48)),
        permissions in proptest::option::of(any::<u64>()),
        rp_id in proptest::option::of("[a-z.]{0,20}"),
        with_key in any::<bool>(),
    ) {
        let request = ClientPinRequest {
            pin_uv_auth_protocol: protocol,
            sub_command: ClientPinSubCommand::from(sub),
            key_agreement: with_key.then(known_key),
            pin_uv_auth_param: param,
            new_pin_enc,
            pin_hash_enc,
            permissions,
            rp_id,
        };
        prop_assert_eq!(over_the_wire(&request), request);
    }

    #[test]
    fn response_round_trips(
        token in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..64)),
        pin_retries in proptest::option::of(any::<u64>()),
        power_cycle_state in proptest::option::of(any::<bool>()),
        uv_retries in proptest::option::of(any::<u64>()),
        with_key in any::<bool>(),
    ) {
        let response = ClientPinResponse {
            key_agreement: with_key.then(known_key),
            pin_uv_auth_token: token,
            pin_retries,
            power_cycle_state,
            uv_retries,
        };
        let body = response.to_cbor().map(|v| cbor::encode(&v).unwrap()).unwrap_or_default();
        let decoded = <ClientPinResponse as Response>::from_cbor(decode_body(&body, true).unwrap()).unwrap();
        prop_assert_eq!(decoded, response);
    }
}
