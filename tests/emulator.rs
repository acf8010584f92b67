//! The software authenticator through the real CTAPHID framing (in-process loopback), driven
//! by ctapkit's CTAP2 client, its output checked by ctapkit's WebAuthn verifier.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ctapkit::authenticator::{Authenticator, Fault, UserAction, UserSimulation};
use ctapkit::cose::CoseAlgorithm;
use ctapkit::ctap2::client::{ClientError, Ctap2};
use ctapkit::ctap2::client_pin::permission;
use ctapkit::ctap2::{PinUvAuthProtocol, StatusCode};
use ctapkit::ctaphid::KeepaliveStatus;
use ctapkit::platform::{self, CreateOptions, GetOptions};
use ctapkit::transport::loopback::{self, ChannelReports};
use ctapkit::transport::{CtapDevice as _, CtapHid};
use ctapkit::webauthn::authentication::{verify_authentication, AssertionExpectations};
use ctapkit::webauthn::registration::verify_registration;
use ctapkit::webauthn::{Policy, Step, TrustStore, UserVerification};

const ORIGIN: &str = "https://enroll.example.jp";
const RP_ID: &str = "enroll.example.jp";

fn connect(auth: Authenticator) -> Ctap2<CtapHid<ChannelReports>> {
    let faults = auth.hid_faults();
    Ctap2::new(loopback::connect("emulator", auth, faults).unwrap())
}

fn emulator(profile: &str) -> Ctap2<CtapHid<ChannelReports>> {
    connect(Authenticator::with_profile_name(profile).unwrap())
}

fn create_options(uv: bool) -> CreateOptions {
    CreateOptions {
        rp_id: RP_ID.into(),
        rp_name: "HPKI second certificate".into(),
        user_id: vec![9; 16],
        user_name: "999999-jpa".into(),
        user_display_name: "Pharmacist 999999".into(),
        challenge: vec![0x42; 32],
        algorithms: vec![CoseAlgorithm::Es256, CoseAlgorithm::Rs256],
        resident_key: true,
        user_verification_required: uv,
        exclude: vec![],
    }
}

fn policy(uv: UserVerification) -> Policy {
    Policy::new(RP_ID)
        .with_origins([ORIGIN])
        .with_user_verification(uv)
}

fn status(err: ClientError) -> StatusCode {
    match err {
        ClientError::Status(s) => s,
        other => panic!("expected a CTAP status, got {other}"),
    }
}

#[test]
fn every_profile_answers_get_info_canonically() {
    for name in ["ios", "android", "security-key", "no-biometric"] {
        let mut ctap = emulator(name).strict(true);
        let info = ctap.get_info().unwrap();
        assert!(info.versions.iter().any(|v| v == "FIDO_2_1"), "{name}");
        assert_eq!(info.option("up"), Some(true), "{name}");
        assert!(ctap.findings().is_empty(), "{name}: {:?}", ctap.findings());
    }
    let ios = emulator("ios").get_info().unwrap();
    assert_eq!(ios.option("plat"), Some(true));
    assert_eq!(ios.option("uv"), Some(true));
    assert_eq!(
        ios.aaguid.to_string(),
        "00000000-0000-0000-0000-000000000000"
    );
    let android = emulator("android").get_info().unwrap();
    assert_eq!(
        android.aaguid.to_string(),
        "ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4"
    );
    let key = emulator("security-key").get_info().unwrap();
    assert_eq!(key.option("plat"), Some(false));
    assert_eq!(key.option("clientPin"), Some(false));
    assert_eq!(key.pin_uv_auth_protocols, Some(vec![2, 1]));
    assert_eq!(key.remaining_discoverable_credentials, Some(25));
    assert_eq!(
        emulator("no-biometric").get_info().unwrap().option("uv"),
        Some(false)
    );
}

#[test]
fn phone_profiles_register_and_sign_in_under_a_uv_required_policy() {
    for name in ["ios", "android"] {
        let mut ctap = emulator(name);
        let options = create_options(true);
        let reg = platform::create(&mut ctap, ORIGIN, &options, None).unwrap();
        let policy = policy(UserVerification::Required);
        let result = verify_registration(&policy, &options.challenge, &reg)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(result.flags.to_string(), "UP UV BE BS AT", "{name}");
        assert_eq!(result.attestation_format.as_str(), "none");
        assert_eq!(result.credential.sign_count, 0);
        let get = GetOptions {
            rp_id: RP_ID.into(),
            challenge: vec![7; 32],
            allow: vec![result.credential.id.0.clone()],
            user_verification_required: true,
        };
        let assertion = platform::get(&mut ctap, ORIGIN, &get, None).unwrap();
        let expected = AssertionExpectations {
            challenge: &get.challenge,
            allow_credentials: &get.allow,
            user_handle: Some(&options.user_id),
        };
        let auth = verify_authentication(&policy, &expected, &result.credential, &assertion)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(auth.sign_count, 0, "synced passkeys keep the counter at 0");
    }
}

#[test]
fn android_makes_rs256_keys_when_asked_first() {
    let mut ctap = emulator("android");
    let mut options = create_options(true);
    options.algorithms = vec![CoseAlgorithm::Rs256, CoseAlgorithm::Es256];
    let reg = platform::create(&mut ctap, ORIGIN, &options, None).unwrap();
    let result = verify_registration(
        &policy(UserVerification::Required),
        &options.challenge,
        &reg,
    )
    .unwrap();
    assert_eq!(result.credential.public_key.alg(), CoseAlgorithm::Rs256);
}

#[test]
fn no_biometric_phone_fails_registration_with_invalid_option() {
    let mut ctap = emulator("no-biometric");
    let err = platform::create(&mut ctap, ORIGIN, &create_options(true), None).unwrap_err();
    match err {
        platform::PlatformError::Authenticator(e) => {
            assert_eq!(status(e), StatusCode::INVALID_OPTION)
        }
        other => panic!("{other}"),
    }
}

#[test]
fn security_key_pin_flow_and_packed_attestation_chain_to_the_test_ca() {
    let auth = Authenticator::with_profile_name("security-key").unwrap();
    let ca = auth.attestation_ca_pem().unwrap();
    let mut ctap = connect(auth);
    let p = PinUvAuthProtocol::Two;
    // A PIN-protected key refuses a discoverable registration without a token.
    ctap.set_pin(p, "1234").unwrap();
    assert_eq!(ctap.get_info().unwrap().option("clientPin"), Some(true));
    let options = create_options(true);
    let err = platform::create(
        &mut ctap,
        ORIGIN,
        &CreateOptions {
            user_verification_required: false,
            ..options.clone()
        },
        None,
    )
    .unwrap_err();
    assert!(err.to_string().contains("CTAP2_ERR_PUAT_REQUIRED"), "{err}");
    // Wrong PIN: retries count down.
    assert_eq!(ctap.pin_retries(p).unwrap(), 8);
    let err = ctap
        .pin_token(p, "9999", permission::MAKE_CREDENTIAL, Some(RP_ID), true)
        .unwrap_err();
    assert_eq!(status(err), StatusCode::PIN_INVALID);
    assert_eq!(ctap.pin_retries(p).unwrap(), 7);
    let token = ctap
        .pin_token(
            p,
            "1234",
            permission::MAKE_CREDENTIAL | permission::GET_ASSERTION,
            Some(RP_ID),
            true,
        )
        .unwrap();
    assert_eq!(ctap.pin_retries(p).unwrap(), 8);
    let reg = platform::create(&mut ctap, ORIGIN, &options, Some(&token)).unwrap();
    let mut policy = policy(UserVerification::Required);
    let mut store = TrustStore::new();
    store.add_pem(&ca).unwrap();
    policy.trust_store = store;
    policy.require_trusted_attestation = true;
    let result = verify_registration(&policy, &options.challenge, &reg).unwrap();
    assert_eq!(result.attestation_format.as_str(), "packed");
    assert_eq!(result.attestation_trusted, Some(true));
    assert_eq!(result.flags.to_string(), "UP UV AT");
    // Counters increase per assertion.
    let mut record = result.credential;
    for expected_count in 1..=2 {
        let get = GetOptions {
            rp_id: RP_ID.into(),
            challenge: vec![expected_count as u8; 32],
            allow: vec![record.id.0.clone()],
            user_verification_required: true,
        };
        let assertion = platform::get(&mut ctap, ORIGIN, &get, Some(&token)).unwrap();
        let expected = AssertionExpectations {
            challenge: &get.challenge,
            allow_credentials: &get.allow,
            user_handle: None,
        };
        let r = verify_authentication(&policy, &expected, &record, &assertion).unwrap();
        assert_eq!(r.sign_count, expected_count);
        record.update(&r);
    }
    // Changing the PIN invalidates the token.
    ctap.change_pin(p, "1234", "5678").unwrap();
    let get = GetOptions {
        rp_id: RP_ID.into(),
        challenge: vec![3; 32],
        allow: vec![record.id.0.clone()],
        user_verification_required: true,
    };
    let err = platform::get(&mut ctap, ORIGIN, &get, Some(&token)).unwrap_err();
    assert!(err.to_string().contains("PIN_AUTH_INVALID"), "{err}");
}

#[test]
fn three_wrong_pins_need_a_power_cycle_and_eight_block() {
    let mut ctap = emulator("security-key");
    let p = PinUvAuthProtocol::One;
    ctap.set_pin(p, "123456").unwrap();
    for _ in 0..2 {
        assert_eq!(
            status(ctap.pin_token(p, "000000", 2, None, false).unwrap_err()),
            StatusCode::PIN_INVALID
        );
    }
    assert_eq!(
        status(ctap.pin_token(p, "000000", 2, None, false).unwrap_err()),
        StatusCode::PIN_AUTH_BLOCKED
    );
    // Even the right PIN is refused until a power cycle.
    assert_eq!(
        status(ctap.pin_token(p, "123456", 2, None, false).unwrap_err()),
        StatusCode::PIN_AUTH_BLOCKED
    );
    assert_eq!(ctap.pin_retries(p).unwrap(), 5);
}

#[test]
fn pin_policy_and_set_twice() {
    let mut ctap = emulator("security-key");
    let p = PinUvAuthProtocol::Two;
    // The client refuses a short PIN itself...
    assert!(matches!(
        ctap.set_pin(p, "12").unwrap_err(),
        ClientError::Pin(_)
    ));
    // ...and so does the authenticator when a client sends one anyway.
    let (key, shared) = ctap.shared_secret(p).unwrap();
    let mut padded = b"12".to_vec();
    padded.resize(64, 0);
    let new_pin_enc = p.encrypt(&shared, &padded).unwrap();
    let request = ctapkit::ctap2::ClientPinRequest {
        pin_uv_auth_protocol: Some(2),
        key_agreement: Some(key),
        pin_uv_auth_param: Some(p.authenticate(&shared, &new_pin_enc)),
        new_pin_enc: Some(new_pin_enc),
        ..ctapkit::ctap2::ClientPinRequest::new(ctapkit::ctap2::ClientPinSubCommand::SetPin)
    };
    assert_eq!(
        status(ctap.client_pin(&request).unwrap_err()),
        StatusCode::PIN_POLICY_VIOLATION
    );
    ctap.set_pin(p, "1234").unwrap();
    assert_eq!(
        status(ctap.set_pin(p, "4321").unwrap_err()),
        StatusCode::NOT_ALLOWED
    );
}

#[test]
fn user_simulation_deny_delay_cancel_and_biometric_mismatch() {
    let auth = Authenticator::with_profile_name("ios").unwrap().with_user(
        UserSimulation::always(UserAction::Approve)
            .then(UserAction::Deny)
            .then(UserAction::ApproveAfter(Duration::from_millis(350)))
            .then(UserAction::BiometricMismatch)
            .then(UserAction::Timeout),
    );
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let mut ctap = connect(auth).on_keepalive(move |s| sink.lock().unwrap().push(s));
    let options = create_options(true);
    let err = platform::create(&mut ctap, ORIGIN, &options, None).unwrap_err();
    assert!(err.to_string().contains("OPERATION_DENIED"), "{err}");
    seen.lock().unwrap().clear();
    platform::create(&mut ctap, ORIGIN, &options, None).unwrap();
    let ups = seen
        .lock()
        .unwrap()
        .iter()
        .filter(|s| **s == KeepaliveStatus::UpNeeded)
        .count();
    assert!(
        ups >= 3,
        "a 350 ms wait sends UPNEEDED keepalives about every 100 ms, saw {ups}"
    );
    let err = platform::create(&mut ctap, ORIGIN, &options, None).unwrap_err();
    assert!(err.to_string().contains("UV_INVALID"), "{err}");
    // Timeout: cancel it from the client side.
    let cancel = ctap.device_mut().cancel_handle();
    let trigger = cancel.clone();
    let mut ctap = ctap.on_keepalive(move |_| trigger.cancel());
    let err = platform::create(&mut ctap, ORIGIN, &options, None).unwrap_err();
    assert!(err.to_string().contains("KEEPALIVE_CANCEL"), "{err}");
}

#[test]
fn biometric_mismatches_block_uv_after_five() {
    let auth = Authenticator::with_profile_name("android")
        .unwrap()
        .with_user(UserSimulation::always(UserAction::BiometricMismatch));
    let mut ctap = connect(auth);
    let options = create_options(true);
    for _ in 0..4 {
        let err = platform::create(&mut ctap, ORIGIN, &options, None).unwrap_err();
        assert!(err.to_string().contains("UV_INVALID"), "{err}");
    }
    let err = platform::create(&mut ctap, ORIGIN, &options, None).unwrap_err();
    assert!(err.to_string().contains("UV_BLOCKED"), "{err}");
}

/// Each verification fault is rejected by the verifier at the step it targets.
#[test]
fn faults_are_caught_by_the_verifier_at_their_step() {
    let cases = [
        (Fault::WrongRpIdHash, Step::REG_RP_ID_HASH),
        (Fault::ClearUp, Step::REG_USER_PRESENT),
        (Fault::ClearUv, Step::REG_USER_VERIFIED),
        (Fault::BsWithoutBe, Step::REG_BACKUP_FLAGS),
    ];
    for (fault, step) in cases {
        let auth = Authenticator::with_profile_name("ios")
            .unwrap()
            .with_faults([fault]);
        let mut ctap = connect(auth);
        let options = create_options(true);
        let reg = platform::create(&mut ctap, ORIGIN, &options, None).unwrap();
        let err = verify_registration(
            &policy(UserVerification::Required),
            &options.challenge,
            &reg,
        )
        .unwrap_err();
        assert_eq!(err.step, step, "{fault}: {err}");
    }
    // Packed attestation with a bad signature, and a wrong AAGUID under the certificate's
    // AAGUID extension.
    for (fault, step) in [
        (Fault::BadSignature, Step::REG_ATTESTATION_STATEMENT),
        (Fault::WrongAaguid, Step::REG_ATTESTATION_STATEMENT),
    ] {
        let auth = Authenticator::with_profile_name("security-key")
            .unwrap()
            .with_faults([fault]);
        let mut ctap = connect(auth);
        let options = CreateOptions {
            resident_key: false,
            user_verification_required: false,
            ..create_options(false)
        };
        let reg = platform::create(&mut ctap, ORIGIN, &options, None).unwrap();
        let err = verify_registration(
            &policy(UserVerification::Preferred),
            &options.challenge,
            &reg,
        )
        .unwrap_err();
        assert_eq!(err.step, step, "{fault}: {err}");
    }
    // Assertion faults.
    for (fault, step) in [
        (Fault::BadSignature, Step::AUTH_SIGNATURE),
        (Fault::SignCountRegression, Step::AUTH_SIGN_COUNT),
    ] {
        let auth = Authenticator::with_profile_name("security-key")
            .unwrap()
            .with_faults([fault]);
        let mut ctap = connect(auth);
        let options = CreateOptions {
            resident_key: false,
            user_verification_required: false,
            ..create_options(false)
        };
        let reg = platform::create(&mut ctap, ORIGIN, &options, None).unwrap();
        let mut policy = policy(UserVerification::Preferred);
        policy.accepted_formats = ctapkit::webauthn::AttestationFormat::ALL.to_vec();
        let result = match verify_registration(&policy, &options.challenge, &reg) {
            Ok(r) => r,
            Err(e) if fault == Fault::BadSignature => {
                assert_eq!(e.step, Step::REG_ATTESTATION_STATEMENT);
                continue;
            }
            Err(e) => panic!("{fault}: {e}"),
        };
        let get = GetOptions {
            rp_id: RP_ID.into(),
            challenge: vec![1; 32],
            allow: vec![result.credential.id.0.clone()],
            user_verification_required: false,
        };
        let assertion = platform::get(&mut ctap, ORIGIN, &get, None).unwrap();
        let expected = AssertionExpectations {
            challenge: &get.challenge,
            allow_credentials: &get.allow,
            user_handle: None,
        };
        let err =
            verify_authentication(&policy, &expected, &result.credential, &assertion).unwrap_err();
        assert_eq!(err.step, step, "{fault}: {err}");
    }
}

#[test]
fn cbor_faults_are_reported_by_strict_mode_with_a_byte_diff() {
    for fault in [Fault::NonCanonicalCbor, Fault::DuplicateKeyCbor] {
        let auth = Authenticator::with_profile_name("ios")
            .unwrap()
            .with_faults([fault]);
        let mut ctap = connect(auth).strict(true);
        let err = ctap.get_info().unwrap_err();
        match err {
            ClientError::NonCanonical(diff) => {
                assert_eq!(diff.command, 0x04);
                assert!(diff.actual.contains('['), "{diff}");
            }
            other => panic!("{fault}: {other}"),
        }
    }
}

#[test]
fn transport_faults_busy_storm_is_retried_and_truncation_times_out() {
    let auth = Authenticator::with_profile_name("ios")
        .unwrap()
        .with_faults([Fault::BusyStorm]);
    let mut ctap = connect(auth);
    ctap.get_info().unwrap();
    let auth = Authenticator::with_profile_name("ios")
        .unwrap()
        .with_faults([Fault::TruncatedResponse]);
    let mut hid = loopback::connect(
        "truncating",
        auth,
        ctapkit::authenticator::HidFaults {
            truncate_responses: true,
            ..Default::default()
        },
    )
    .unwrap();
    hid.set_silence_timeout(Duration::from_millis(300));
    let mut ctap = Ctap2::new(hid);
    assert!(ctap.get_info().is_err());
}

#[test]
fn state_file_keeps_credentials_across_restarts() {
    let dir = std::env::temp_dir().join(format!("ctapkit-emu-state-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("key.json");
    let _ = std::fs::remove_file(&path);
    let options = CreateOptions {
        resident_key: false,
        user_verification_required: false,
        ..create_options(false)
    };
    let (record, policy) = {
        let auth = Authenticator::with_profile_name("security-key")
            .unwrap()
            .with_state_file(&path)
            .unwrap();
        let mut ctap = connect(auth);
        let reg = platform::create(&mut ctap, ORIGIN, &options, None).unwrap();
        let policy = policy(UserVerification::Preferred);
        (
            verify_registration(&policy, &options.challenge, &reg)
                .unwrap()
                .credential,
            policy,
        )
    };
    // A new process on the same file.
    let auth = Authenticator::with_profile_name("security-key")
        .unwrap()
        .with_state_file(&path)
        .unwrap();
    let mut ctap = connect(auth);
    let get = GetOptions {
        rp_id: RP_ID.into(),
        challenge: vec![5; 32],
        allow: vec![record.id.0.clone()],
        user_verification_required: false,
    };
    let assertion = platform::get(&mut ctap, ORIGIN, &get, None).unwrap();
    let expected = AssertionExpectations {
        challenge: &get.challenge,
        allow_credentials: &get.allow,
        user_handle: None,
    };
    assert_eq!(
        verify_authentication(&policy, &expected, &record, &assertion)
            .unwrap()
            .sign_count,
        1
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn discoverable_credentials_and_get_next_assertion() {
    let mut ctap = emulator("ios");
    for user in 1..=3u8 {
        let mut options = create_options(true);
        options.user_id = vec![user; 8];
        platform::create(&mut ctap, ORIGIN, &options, None).unwrap();
    }
    let get = GetOptions {
        rp_id: RP_ID.into(),
        challenge: vec![1; 32],
        allow: vec![],
        user_verification_required: true,
    };
    let client_data = platform::client_data_json("webauthn.get", &get.challenge, ORIGIN);
    let request = ctapkit::ctap2::GetAssertionRequest {
        rp_id: RP_ID.into(),
        client_data_hash: ctapkit::webauthn::sha256(&client_data).to_vec(),
        allow_list: None,
        extensions: None,
        options: None,
        pin_uv_auth_param: None,
        pin_uv_auth_protocol: None,
    };
    let first = ctap.get_assertion(&request).unwrap();
    assert_eq!(first.number_of_credentials, Some(3));
    assert_eq!(
        first.user.as_ref().unwrap().id,
        vec![3; 8],
        "most recent first"
    );
    let second = ctap.get_next_assertion().unwrap();
    assert_eq!(second.user.unwrap().id, vec![2; 8]);
    ctap.get_next_assertion().unwrap();
    assert_eq!(
        status(ctap.get_next_assertion().unwrap_err()),
        StatusCode::NOT_ALLOWED
    );
    // Nothing for another RP.
    let other = ctapkit::ctap2::GetAssertionRequest {
        rp_id: "other.example".into(),
        ..request
    };
    assert_eq!(
        status(ctap.get_assertion(&other).unwrap_err()),
        StatusCode::NO_CREDENTIALS
    );
}

#[test]
fn reset_forgets_everything() {
    let mut ctap = emulator("security-key");
    ctap.set_pin(PinUvAuthProtocol::Two, "1234").unwrap();
    ctap.reset().unwrap();
    assert_eq!(ctap.get_info().unwrap().option("clientPin"), Some(false));
    ctap.selection().unwrap();
}

#[test]
fn u2f_only_key_registers_with_fido_u2f_attestation_and_signs_in() {
    let auth = Authenticator::with_profile_name("u2f").unwrap();
    let ca = auth.attestation_ca_pem().unwrap();
    let mut ctap = connect(auth);
    assert!(
        matches!(ctap.get_info().unwrap_err(), ClientError::Transport(_)),
        "no CTAP2 on a U2F key"
    );
    assert_eq!(
        ctapkit::ctap1::version(ctap.device_mut()).unwrap(),
        "U2F_V2"
    );
    let options = CreateOptions {
        resident_key: false,
        user_verification_required: false,
        ..create_options(false)
    };
    let reg = platform::create(&mut ctap, ORIGIN, &options, None).unwrap();
    let mut policy = policy(UserVerification::Discouraged);
    let mut store = TrustStore::new();
    store.add_pem(&ca).unwrap();
    policy.trust_store = store;
    let result = verify_registration(&policy, &options.challenge, &reg).unwrap();
    assert_eq!(result.attestation_format.as_str(), "fido-u2f");
    assert_eq!(result.attestation_trusted, Some(true));
    let get = GetOptions {
        rp_id: RP_ID.into(),
        challenge: vec![8; 32],
        allow: vec![vec![0; 64], result.credential.id.0.clone()],
        user_verification_required: false,
    };
    let assertion = platform::get(&mut ctap, ORIGIN, &get, None).unwrap();
    let expected = AssertionExpectations {
        challenge: &get.challenge,
        allow_credentials: &get.allow,
        user_handle: None,
    };
    let r = verify_authentication(&policy, &expected, &result.credential, &assertion).unwrap();
    assert_eq!(r.sign_count, 1);
    // UV cannot be had from a U2F key.
    let err = platform::create(&mut ctap, ORIGIN, &create_options(true), None).unwrap_err();
    assert!(matches!(err, platform::PlatformError::UvUnavailable));
}

#[test]
fn ctaphid_error_paths_of_the_device_side() {
    use ctapkit::ctaphid::{Command, HidError, Message, Packet, BROADCAST_CID};
    use ctapkit::transport::ReportIo as _;
    let auth = Authenticator::with_profile_name("security-key").unwrap();
    let (mut host, mut device) = loopback::pair("raw");
    std::thread::spawn(move || {
        let mut server =
            ctapkit::authenticator::hid_server::HidServer::new(auth, Default::default());
        let _ = server.run(&mut device);
    });
    let mut exchange = |msg: Message| -> Message {
        for r in msg.to_packets(64).unwrap() {
            host.write_report(&r).unwrap();
        }
        let mut asm = ctapkit::ctaphid::Assembler::new(64);
        loop {
            let r = host
                .read_report(Duration::from_secs(2))
                .unwrap()
                .expect("answer");
            if let Some(m) = asm.push(&Packet::parse(&r).unwrap()).unwrap() {
                return m;
            }
        }
    };
    let error_of = |m: &Message| {
        assert_eq!(m.cmd, Command::Error, "{m:?}");
        HidError::from_u8(m.payload[0])
    };
    // A command on an unallocated channel.
    assert_eq!(
        error_of(&exchange(Message::new(
            0x1234_5678,
            Command::Ping,
            b"x".to_vec()
        ))),
        HidError::InvalidChannel
    );
    // Channel 0 is reserved.
    assert_eq!(
        error_of(&exchange(Message::new(0, Command::Init, vec![0; 8]))),
        HidError::InvalidChannel
    );
    // INIT with a wrong nonce length.
    assert_eq!(
        error_of(&exchange(Message::new(
            BROADCAST_CID,
            Command::Init,
            vec![0; 7]
        ))),
        HidError::InvalidLen
    );
    // Allocate a channel.
    let init = exchange(Message::new(
        BROADCAST_CID,
        Command::Init,
        vec![1, 2, 3, 4, 5, 6, 7, 8],
    ));
    let cid = ctapkit::ctaphid::InitResponse::from_bytes(&init.payload)
        .unwrap()
        .cid;
    // PING echoes, WINK answers, unknown command is INVALID_CMD, empty CBOR is INVALID_LEN.
    assert_eq!(
        exchange(Message::new(cid, Command::Ping, vec![7; 200])).payload,
        vec![7; 200]
    );
    assert_eq!(
        exchange(Message::new(cid, Command::Wink, vec![])).cmd,
        Command::Wink
    );
    assert_eq!(
        error_of(&exchange(Message::new(cid, Command::Vendor(0x51), vec![]))),
        HidError::InvalidCmd
    );
    assert_eq!(
        error_of(&exchange(Message::new(cid, Command::Cbor, vec![]))),
        HidError::InvalidLen
    );
    assert_eq!(
        error_of(&exchange(Message::new(cid, Command::Lock, vec![11]))),
        HidError::InvalidPar
    );
    // Broadcast channel for anything but INIT.
    assert_eq!(
        error_of(&exchange(Message::new(
            BROADCAST_CID,
            Command::Ping,
            vec![1]
        ))),
        HidError::InvalidChannel
    );
    // Out-of-sequence continuation.
    let packets = Message::new(cid, Command::Ping, vec![9; 150])
        .to_packets(64)
        .unwrap();
    host.write_report(&packets[0]).unwrap();
    host.write_report(&packets[2]).unwrap();
    let r = host.read_report(Duration::from_secs(2)).unwrap().unwrap();
    let mut asm = ctapkit::ctaphid::Assembler::new(64);
    let m = asm.push(&Packet::parse(&r).unwrap()).unwrap().unwrap();
    assert_eq!(error_of(&m), HidError::InvalidSeq);
    // Busy: another channel's packet while a message is half sent.
    host.write_report(&packets[0]).unwrap();
    let other = Message::new(0x0bad_cafe, Command::Ping, vec![1])
        .to_packets(64)
        .unwrap();
    host.write_report(&other[0]).unwrap();
    let r = host.read_report(Duration::from_secs(2)).unwrap().unwrap();
    let m = asm.push(&Packet::parse(&r).unwrap()).unwrap().unwrap();
    assert_eq!((m.cid, error_of(&m)), (0x0bad_cafe, HidError::ChannelBusy));
    // The half-sent message times out.
    let r = host.read_report(Duration::from_secs(3)).unwrap().unwrap();
    let m = asm.push(&Packet::parse(&r).unwrap()).unwrap().unwrap();
    assert_eq!((m.cid, error_of(&m)), (cid, HidError::MsgTimeout));
}

mod credential_management {
    //! authenticatorCredentialManagement (CTAP 2.1 §6.8) through the loopback: the client
    //! methods against the emulator's security-key profile.

    use super::*;
    use ctapkit::ctap2::client::PinUvAuthToken;
    use ctapkit::ctap2::{
        CredProtect, CredentialManagementParams, CredentialManagementRequest,
        CredentialManagementResponse, CredentialManagementSubCommand as Sub,
        PublicKeyCredentialDescriptor, PublicKeyCredentialUserEntity, Request,
    };
    use ctapkit::webauthn::sha256;

    const PIN: &str = "1234";
    const P: PinUvAuthProtocol = PinUvAuthProtocol::Two;
    const OTHER_RP: &str = "other.example";
    const OTHER_ORIGIN: &str = "https://other.example";

    type Client = Ctap2<CtapHid<ChannelReports>>;

    /// Registers a discoverable credential for `user` at `rp_id` with a fresh mc token;
    /// returns the credential ID and its public key as the verifier sees it.
    fn register(
        ctap: &mut Client,
        rp_id: &str,
        origin: &str,
        user: u8,
        rk: bool,
    ) -> (Vec<u8>, ctapkit::cose::PublicKey) {
        let token = ctap
            .pin_token(P, PIN, permission::MAKE_CREDENTIAL, Some(rp_id), true)
            .unwrap();
        let options = CreateOptions {
            rp_id: rp_id.into(),
            rp_name: format!("{rp_id} site"),
            user_id: vec![user; 16],
            user_name: format!("user{user}"),
            user_display_name: format!("User {user}"),
            resident_key: rk,
            ..create_options(true)
        };
        let reg = platform::create(ctap, origin, &options, Some(&token)).unwrap();
        let policy = Policy::new(rp_id)
            .with_origins([origin])
            .with_user_verification(UserVerification::Required);
        let result = verify_registration(&policy, &options.challenge, &reg).unwrap();
        (result.credential.id.0, result.credential.public_key)
    }

    fn cm_token(ctap: &mut Client, rp_id: Option<&str>) -> PinUvAuthToken {
        ctap.pin_token(P, PIN, permission::CREDENTIAL_MANAGEMENT, rp_id, true)
            .unwrap()
    }

    fn cm_status(
        ctap: &mut Client,
        token: Option<&PinUvAuthToken>,
        sub: Sub,
        params: Option<CredentialManagementParams>,
    ) -> StatusCode {
        status(ctap.credential_management(token, sub, params).unwrap_err())
    }

    fn credential_params(id: &[u8]) -> CredentialManagementParams {
        CredentialManagementParams {
            credential_id: Some(PublicKeyCredentialDescriptor::public_key(id.to_vec())),
            ..Default::default()
        }
    }

    #[test]
    fn metadata_enumeration_delete_and_update() {
        let dir = std::env::temp_dir().join(format!("ctapkit-credmgmt-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("key.json");
        let _ = std::fs::remove_file(&path);
        let auth = Authenticator::with_profile_name("security-key")
            .unwrap()
            .with_state_file(&path)
            .unwrap();
        let mut ctap = connect(auth);
        ctap.set_pin(P, PIN).unwrap();
        let (id1, key1) = register(&mut ctap, RP_ID, ORIGIN, 1, true);
        let (id2, key2) = register(&mut ctap, RP_ID, ORIGIN, 2, true);
        let (id3, _) = register(&mut ctap, OTHER_RP, OTHER_ORIGIN, 3, true);
        // A non-discoverable credential is not managed.
        let (server_side, _) = register(&mut ctap, OTHER_RP, OTHER_ORIGIN, 4, false);

        let token = cm_token(&mut ctap, None);
        let metadata = ctap.creds_metadata(&token).unwrap();
        assert_eq!((metadata.existing, metadata.remaining), (3, 22));

        let rps = ctap.enumerate_rps(&token).unwrap();
        let ids: Vec<&str> = rps.iter().map(|(rp, _)| rp.id.as_str()).collect();
        assert_eq!(ids, [RP_ID, OTHER_RP]);
        for (rp, hash) in &rps {
            assert_eq!(hash.as_slice(), sha256(rp.id.as_bytes()).as_slice());
            assert_eq!(rp.name.as_deref(), Some(format!("{} site", rp.id).as_str()));
        }

        let creds = ctap.enumerate_credentials(&token, &rps[0].1).unwrap();
        assert_eq!(creds.len(), 2);
        assert_eq!(creds[0].credential_id.id, id1);
        assert_eq!(creds[1].credential_id.id, id2);
        assert_eq!(creds[0].user.id, vec![1; 16]);
        assert_eq!(creds[0].user.name.as_deref(), Some("user1"));
        assert_eq!(creds[1].user.display_name.as_deref(), Some("User 2"));
        assert_eq!(creds[0].parsed_public_key().unwrap(), key1);
        assert_eq!(creds[1].parsed_public_key().unwrap(), key2);
        assert_eq!(
            creds[0].cred_protect,
            Some(CredProtect::UserVerificationOptional)
        );
        let other = ctap.enumerate_credentials(&token, &rps[1].1).unwrap();
        let other_ids: Vec<&[u8]> = other
            .iter()
            .map(|c| c.credential_id.id.as_slice())
            .collect();
        assert_eq!(other_ids, [id3.as_slice()]);
        // An RP without credentials: the client reports none, the device NO_CREDENTIALS.
        let nobody = sha256(b"nobody.example").to_vec();
        assert!(ctap
            .enumerate_credentials(&token, &nobody)
            .unwrap()
            .is_empty());
        let params = CredentialManagementParams {
            rp_id_hash: Some(nobody),
            ..Default::default()
        };
        assert_eq!(
            cm_status(
                &mut ctap,
                Some(&token),
                Sub::EnumerateCredentialsBegin,
                Some(params)
            ),
            StatusCode::NO_CREDENTIALS
        );

        // updateUserInformation: the handle must match; absent fields are removed.
        let renamed = PublicKeyCredentialUserEntity {
            id: vec![1; 16],
            name: Some("renamed".into()),
            display_name: None,
        };
        ctap.update_user(&token, &id1, &renamed).unwrap();
        let creds = ctap.enumerate_credentials(&token, &rps[0].1).unwrap();
        assert_eq!(creds[0].user, renamed);
        let wrong_handle = PublicKeyCredentialUserEntity {
            id: vec![2; 16],
            ..renamed.clone()
        };
        assert_eq!(
            status(ctap.update_user(&token, &id1, &wrong_handle).unwrap_err()),
            StatusCode::INVALID_PARAMETER
        );
        assert_eq!(
            status(ctap.update_user(&token, &[7; 32], &renamed).unwrap_err()),
            StatusCode::NO_CREDENTIALS
        );

        // deleteCredential.
        ctap.delete_credential(&token, &id1).unwrap();
        let metadata = ctap.creds_metadata(&token).unwrap();
        assert_eq!((metadata.existing, metadata.remaining), (2, 23));
        let creds = ctap.enumerate_credentials(&token, &rps[0].1).unwrap();
        assert_eq!(creds.len(), 1);
        assert_eq!(creds[0].credential_id.id, id2);
        for gone in [&id1, &server_side] {
            assert_eq!(
                status(ctap.delete_credential(&token, gone).unwrap_err()),
                StatusCode::NO_CREDENTIALS
            );
        }
        // The deleted credential cannot sign in any more.
        let ga = ctap
            .pin_token(P, PIN, permission::GET_ASSERTION, Some(RP_ID), true)
            .unwrap();
        let get = GetOptions {
            rp_id: RP_ID.into(),
            challenge: vec![4; 32],
            allow: vec![id1.clone()],
            user_verification_required: true,
        };
        let err = platform::get(&mut ctap, ORIGIN, &get, Some(&ga)).unwrap_err();
        assert!(err.to_string().contains("NO_CREDENTIALS"), "{err}");
        let get = GetOptions {
            allow: vec![id2.clone()],
            ..get
        };
        platform::get(&mut ctap, ORIGIN, &get, Some(&ga)).unwrap();
        drop(ctap);

        // The changes are in the state file.
        let auth = Authenticator::with_profile_name("security-key")
            .unwrap()
            .with_state_file(&path)
            .unwrap();
        let mut ctap = connect(auth);
        let token = cm_token(&mut ctap, None);
        assert_eq!(ctap.creds_metadata(&token).unwrap().existing, 2);
        let creds = ctap
            .enumerate_credentials(&token, &sha256(RP_ID.as_bytes()))
            .unwrap();
        let ids: Vec<&[u8]> = creds
            .iter()
            .map(|c| c.credential_id.id.as_slice())
            .collect();
        assert_eq!(ids, [id2.as_slice()]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn tokens_permissions_and_rp_binding() {
        let mut ctap = emulator("security-key");
        ctap.set_pin(P, PIN).unwrap();
        // No credentials yet.
        let token = cm_token(&mut ctap, None);
        let metadata = ctap.creds_metadata(&token).unwrap();
        assert_eq!((metadata.existing, metadata.remaining), (0, 25));
        assert!(ctap.enumerate_rps(&token).unwrap().is_empty());
        assert_eq!(
            cm_status(&mut ctap, Some(&token), Sub::EnumerateRpsBegin, None),
            StatusCode::NO_CREDENTIALS
        );
        let (id1, _) = register(&mut ctap, RP_ID, ORIGIN, 1, true);
        let (id3, _) = register(&mut ctap, OTHER_RP, OTHER_ORIGIN, 3, true);

        // Absent, wrong, and permission-less tokens.
        assert_eq!(
            cm_status(&mut ctap, None, Sub::GetCredsMetadata, None),
            StatusCode::PUAT_REQUIRED
        );
        let token = cm_token(&mut ctap, None);
        let forged = PinUvAuthToken {
            protocol: P,
            token: vec![0x55; 32],
        };
        assert_eq!(
            status(ctap.creds_metadata(&forged).unwrap_err()),
            StatusCode::PIN_AUTH_INVALID
        );
        assert_eq!(
            status(ctap.delete_credential(&forged, &id1).unwrap_err()),
            StatusCode::PIN_AUTH_INVALID
        );
        // The right token, but over other parameters than the ones sent.
        let mut request = CredentialManagementRequest {
            sub_command_params: Some(credential_params(&id1)),
            ..CredentialManagementRequest::new(Sub::DeleteCredential)
        };
        request.pin_uv_auth_protocol = Some(u64::from(P.value()));
        request.pin_uv_auth_param = Some(P.authenticate(&token.token, &[0x06]));
        assert_eq!(
            status(ctap.send(&request).unwrap_err()),
            StatusCode::PIN_AUTH_INVALID
        );
        // A token without the cm permission.
        let mc = ctap
            .pin_token(
                P,
                PIN,
                permission::MAKE_CREDENTIAL | permission::GET_ASSERTION,
                None,
                true,
            )
            .unwrap();
        assert_eq!(
            status(ctap.creds_metadata(&mc).unwrap_err()),
            StatusCode::PIN_AUTH_INVALID
        );

        // A token bound to one RP: only that RP's credentials.
        let bound = cm_token(&mut ctap, Some(RP_ID));
        assert_eq!(
            status(ctap.creds_metadata(&bound).unwrap_err()),
            StatusCode::PIN_AUTH_INVALID
        );
        assert_eq!(
            status(ctap.enumerate_rps(&bound).unwrap_err()),
            StatusCode::PIN_AUTH_INVALID
        );
        let mine = ctap
            .enumerate_credentials(&bound, &sha256(RP_ID.as_bytes()))
            .unwrap();
        assert_eq!(mine.len(), 1);
        assert_eq!(
            status(
                ctap.enumerate_credentials(&bound, &sha256(OTHER_RP.as_bytes()))
                    .unwrap_err()
            ),
            StatusCode::PIN_AUTH_INVALID
        );
        assert_eq!(
            status(ctap.delete_credential(&bound, &id3).unwrap_err()),
            StatusCode::PIN_AUTH_INVALID
        );
        ctap.delete_credential(&bound, &id1).unwrap();

        // Missing parameters and unknown subcommands.
        let token = cm_token(&mut ctap, None);
        assert_eq!(
            cm_status(&mut ctap, Some(&token), Sub::DeleteCredential, None),
            StatusCode::MISSING_PARAMETER
        );
        assert_eq!(
            cm_status(
                &mut ctap,
                Some(&token),
                Sub::UpdateUserInformation,
                Some(credential_params(&id3))
            ),
            StatusCode::MISSING_PARAMETER
        );
        assert_eq!(
            cm_status(&mut ctap, Some(&token), Sub::Other(0x20), None),
            StatusCode::INVALID_SUBCOMMAND
        );
    }

    #[test]
    fn continuations_need_their_begin_and_nothing_in_between() {
        let mut ctap = emulator("security-key");
        ctap.set_pin(P, PIN).unwrap();
        assert_eq!(
            cm_status(&mut ctap, None, Sub::EnumerateRpsGetNextRp, None),
            StatusCode::NOT_ALLOWED
        );
        assert_eq!(
            cm_status(
                &mut ctap,
                None,
                Sub::EnumerateCredentialsGetNextCredential,
                None
            ),
            StatusCode::NOT_ALLOWED
        );
        register(&mut ctap, RP_ID, ORIGIN, 1, true);
        register(&mut ctap, RP_ID, ORIGIN, 2, true);
        register(&mut ctap, OTHER_RP, OTHER_ORIGIN, 3, true);
        let token = cm_token(&mut ctap, None);
        // Begin, then the other kind of continuation.
        let first = ctap
            .credential_management(Some(&token), Sub::EnumerateRpsBegin, None)
            .unwrap();
        assert_eq!(first.total_rps, Some(2));
        assert_eq!(
            cm_status(
                &mut ctap,
                None,
                Sub::EnumerateCredentialsGetNextCredential,
                None
            ),
            StatusCode::NOT_ALLOWED
        );
        // Begin, another command, then the continuation.
        ctap.credential_management(Some(&token), Sub::EnumerateRpsBegin, None)
            .unwrap();
        ctap.get_info().unwrap();
        assert_eq!(
            cm_status(&mut ctap, None, Sub::EnumerateRpsGetNextRp, None),
            StatusCode::NOT_ALLOWED
        );
        // Begin, next, and no more.
        ctap.credential_management(Some(&token), Sub::EnumerateRpsBegin, None)
            .unwrap();
        let next = ctap
            .credential_management(None, Sub::EnumerateRpsGetNextRp, None)
            .unwrap();
        assert_eq!(next.rp.unwrap().id, OTHER_RP);
        assert_eq!(next.total_rps, None);
        assert_eq!(
            cm_status(&mut ctap, None, Sub::EnumerateRpsGetNextRp, None),
            StatusCode::NOT_ALLOWED
        );
        // The same for credentials.
        let params = CredentialManagementParams {
            rp_id_hash: Some(sha256(RP_ID.as_bytes()).to_vec()),
            ..Default::default()
        };
        let first = ctap
            .credential_management(Some(&token), Sub::EnumerateCredentialsBegin, Some(params))
            .unwrap();
        assert_eq!(first.total_credentials, Some(2));
        ctap.credential_management(None, Sub::EnumerateCredentialsGetNextCredential, None)
            .unwrap();
        assert_eq!(
            cm_status(
                &mut ctap,
                None,
                Sub::EnumerateCredentialsGetNextCredential,
                None
            ),
            StatusCode::NOT_ALLOWED
        );
    }

    /// The CTAP 2.1-PRE command byte (0x41), as older platforms send it.
    struct Prototype(CredentialManagementRequest);

    impl Request for Prototype {
        const CMD: u8 = ctapkit::ctap2::command::CREDENTIAL_MANAGEMENT_PRE;
        type Response = CredentialManagementResponse;
        fn to_cbor(&self) -> Option<ctapkit::cbor::Value> {
            self.0.to_cbor()
        }
        fn from_cbor(value: Option<ctapkit::cbor::Value>) -> Result<Self, StatusCode> {
            CredentialManagementRequest::from_cbor(value).map(Prototype)
        }
    }

    #[test]
    fn prototype_command_and_profiles_without_credential_management() {
        let mut ctap = emulator("security-key");
        ctap.set_pin(P, PIN).unwrap();
        register(&mut ctap, RP_ID, ORIGIN, 1, true);
        let token = cm_token(&mut ctap, None);
        let mut request = CredentialManagementRequest::new(Sub::GetCredsMetadata);
        let message = request.pin_uv_auth_message().unwrap();
        request.pin_uv_auth_protocol = Some(u64::from(P.value()));
        request.pin_uv_auth_param = Some(P.authenticate(&token.token, &message));
        let metadata = ctap.send(&Prototype(request)).unwrap();
        assert_eq!(metadata.existing_resident_credentials_count, Some(1));

        for name in ["ios", "android", "no-biometric"] {
            let mut ctap = emulator(name);
            assert_eq!(ctap.get_info().unwrap().option("credMgmt"), None, "{name}");
            assert_eq!(
                cm_status(&mut ctap, None, Sub::GetCredsMetadata, None),
                StatusCode::INVALID_COMMAND,
                "{name}"
            );
            if name != "no-biometric" {
                // Nor will they issue a token with the cm permission.
                assert_eq!(
                    status(
                        ctap.uv_token(P, permission::CREDENTIAL_MANAGEMENT, None)
                            .unwrap_err()
                    ),
                    StatusCode::UNAUTHORIZED_PERMISSION,
                    "{name}"
                );
            }
        }
    }

    /// The CLI binary runs its own emulator per invocation (no shared state with this
    /// process), so only its refusals are checked here.
    #[test]
    fn cli_creds_explains_why_it_cannot_manage_credentials() {
        let run = |args: &[&str]| {
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_ctapkit"))
                .args(args)
                .env_remove("CTAPKIT_PIN")
                .output()
                .unwrap();
            (
                out.status.code(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        };
        let (code, err) = run(&["creds", "list", "--device", "emulator:ios", "--pin", PIN]);
        assert_eq!(code, Some(2), "{err}");
        assert!(
            err.contains(
                "this authenticator does not support credential management (getInfo has no credMgmt option)"
            ),
            "{err}"
        );
        let (code, err) = run(&[
            "creds",
            "list",
            "--device",
            "emulator:security-key",
            "--pin",
            PIN,
        ]);
        assert_eq!(code, Some(2), "{err}");
        assert!(err.contains("no PIN is set"), "{err}");
        let (code, err) = run(&["creds", "list", "--device", "emulator:security-key"]);
        assert_eq!(code, Some(2), "{err}");
        assert!(err.contains("pass --pin"), "{err}");
        let (code, err) = run(&[
            "creds",
            "delete",
            "--device",
            "emulator:security-key",
            "--pin",
            PIN,
            "--id",
            "not base64!",
        ]);
        assert_eq!(code, Some(2), "{err}");
        assert!(err.contains("is not base64url"), "{err}");
    }
}

#[test]
fn extensions_hmac_secret_cred_blob_and_cred_protect_round_trip() {
    use ctapkit::ctap2::extensions::{
        CredBlobInput, CredProtect, ExtensionInputs, HmacSecretInput,
    };
    use platform::GetExtensions;
    let mut ctap = emulator("security-key");
    let options = CreateOptions {
        resident_key: true,
        user_verification_required: false,
        ..create_options(false)
    };
    let inputs = ExtensionInputs {
        cred_protect: Some(CredProtect::from_u64(2).unwrap()),
        hmac_secret: Some(HmacSecretInput::Create(true)),
        cred_blob: Some(CredBlobInput::Store(b"blob!".to_vec())),
        ..Default::default()
    };
    let reg =
        platform::create_with_extensions(&mut ctap, ORIGIN, &options, None, Some(inputs)).unwrap();
    let result = verify_registration(
        &policy(UserVerification::Preferred),
        &options.challenge,
        &reg,
    )
    .unwrap();
    assert!(
        result.flags.ed(),
        "extension outputs in the authenticator data"
    );
    let id = result.credential.id.0.clone();
    let get = |salts: Vec<Vec<u8>>, ctap: &mut Ctap2<CtapHid<ChannelReports>>| {
        let options = GetOptions {
            rp_id: RP_ID.into(),
            challenge: vec![4; 32],
            allow: vec![id.clone()],
            user_verification_required: false,
        };
        let ext = GetExtensions {
            hmac_salts: salts,
            cred_blob: true,
        };
        platform::get_with_extensions(ctap, ORIGIN, &options, None, &ext).unwrap()
    };
    let a = get(vec![vec![1; 32]], &mut ctap);
    let b = get(vec![vec![1; 32], vec![2; 32]], &mut ctap);
    let out = |r: &ctapkit::webauthn::AuthenticationResponseJson, k: &str| {
        r.client_extension_results["hmacGetSecret"][k]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        out(&a, "output1"),
        out(&b, "output1"),
        "the same salt gives the same secret"
    );
    assert_ne!(out(&b, "output1"), out(&b, "output2"));
    assert_eq!(
        a.client_extension_results["getCredBlob"],
        ctapkit::webauthn::Base64Url(b"blob!".to_vec()).encode()
    );
    // credProtect level 2: without an allowList and without UV the credential stays hidden.
    let hidden = GetOptions {
        rp_id: RP_ID.into(),
        challenge: vec![4; 32],
        allow: vec![],
        user_verification_required: false,
    };
    let err = platform::get(&mut ctap, ORIGIN, &hidden, None).unwrap_err();
    assert!(err.to_string().contains("NO_CREDENTIALS"), "{err}");
}

#[test]
fn no_keepalive_fault_sends_none_while_waiting() {
    let auth = Authenticator::with_profile_name("ios")
        .unwrap()
        .with_faults([Fault::NoKeepalive])
        .with_user(UserSimulation::always(UserAction::ApproveAfter(
            Duration::from_millis(300),
        )));
    let seen = Arc::new(Mutex::new(0u32));
    let sink = seen.clone();
    let mut ctap = connect(auth).on_keepalive(move |_| *sink.lock().unwrap() += 1);
    platform::create(&mut ctap, ORIGIN, &create_options(true), None).unwrap();
    assert_eq!(
        *seen.lock().unwrap(),
        0,
        "no KEEPALIVE under the no-keepalive fault"
    );
}

#[test]
fn discoverable_sign_in_needs_a_user_handle() {
    let mut ctap = emulator("android");
    let options = create_options(true);
    let reg = platform::create(&mut ctap, ORIGIN, &options, None).unwrap();
    let policy = policy(UserVerification::Required);
    let record = verify_registration(&policy, &options.challenge, &reg)
        .unwrap()
        .credential;
    let get = GetOptions {
        rp_id: RP_ID.into(),
        challenge: vec![6; 32],
        allow: vec![],
        user_verification_required: true,
    };
    let mut assertion = platform::get(&mut ctap, ORIGIN, &get, None).unwrap();
    let expected = AssertionExpectations {
        challenge: &get.challenge,
        allow_credentials: &[],
        user_handle: Some(&options.user_id),
    };
    verify_authentication(&policy, &expected, &record, &assertion).unwrap();
    assertion.response.user_handle = None;
    let err = verify_authentication(&policy, &expected, &record, &assertion).unwrap_err();
    assert_eq!(err.step, Step::AUTH_USER_HANDLE);
    assertion.response.user_handle = Some(ctapkit::webauthn::Base64Url(vec![0xee; 8]));
    let err = verify_authentication(&policy, &expected, &record, &assertion).unwrap_err();
    assert_eq!(err.step, Step::AUTH_USER_HANDLE);
}
