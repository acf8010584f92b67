//! Interop with an independent authenticator: 1Password's `passkey-authenticator` (passkey-rs,
//! a dev-dependency) behind ctapkit's device-side CTAPHID server, driven by ctapkit's CTAP2
//! client and browser-side platform, its output checked by ctapkit's WebAuthn verifier.
//!
//! The adapter hands passkey-rs the request exactly as it crossed the HID framing: the command
//! byte selects the call, the CBOR body is decoded with passkey-types' own serde types
//! (ciborium, as passkey-rs's own CTAPHID transport does), and the answer is passkey-types'
//! own serialisation, untouched. Nothing is re-encoded by ctapkit's canonical encoder, so what
//! ctapkit's client sees is passkey-rs's bytes.
//!
//! passkey-rs serialises its option and descriptor maps (serde structs) in field declaration
//! order, which is not the CTAP2 canonical order (CTAP 2.1 §8 "Message Encoding": map keys
//! sorted shorter first, then bytewise). ctapkit's strict mode must refuse those answers with a
//! byte diff, and lenient mode must record the diff and decode them all the same.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};

use ctapkit::authenticator::hid_server::{Handler, HidServer, Presence};
use ctapkit::cose::CoseAlgorithm;
use ctapkit::ctap2::client::{canonical_diff, ClientError, Ctap2, NonCanonical};
use ctapkit::ctaphid::capability;
use ctapkit::platform::{self, CreateOptions, GetOptions};
use ctapkit::transport::loopback::{self, ChannelReports};
use ctapkit::transport::{CtapDevice as _, CtapHid};
use ctapkit::webauthn::authentication::{verify_authentication, AssertionExpectations};
use ctapkit::webauthn::registration::verify_registration;
use ctapkit::webauthn::{Policy, UserVerification};
use futures::executor::block_on;
use passkey_authenticator::{
    Authenticator as PasskeyAuthenticator, MemoryStore, UiHint, UserCheck, UserValidationMethod,
};
use passkey_crypto::rust_crypto::RustCryptoBackend;
use passkey_types::ctap2::{get_assertion, make_credential, Aaguid, Ctap2Error, StatusCode};
use passkey_types::Passkey;

const ORIGIN: &str = "https://login.example.com";
const RP_ID: &str = "example.com";
/// The AAGUID the passkey-rs authenticator claims (ASCII "passkey-rs/ctapk").
const AAGUID: [u8; 16] = *b"passkey-rs/ctapk";

/// CTAP2 command bytes (CTAP 2.1 §6).
const MAKE_CREDENTIAL: u8 = 0x01;
const GET_ASSERTION: u8 = 0x02;
const GET_INFO: u8 = 0x04;

/// A user who approves every request and passes built-in verification when asked.
struct ApprovingUser;

#[async_trait::async_trait]
impl UserValidationMethod for ApprovingUser {
    type PasskeyItem = Passkey;

    async fn check_user<'a>(
        &self,
        _hint: UiHint<'a, Passkey>,
        presence: bool,
        verification: bool,
    ) -> Result<UserCheck, Ctap2Error> {
        Ok(UserCheck {
            presence,
            verification,
        })
    }

    fn is_presence_enabled(&self) -> bool {
        true
    }

    fn is_verification_enabled(&self) -> Option<bool> {
        Some(true)
    }
}

type Inner = PasskeyAuthenticator<MemoryStore, ApprovingUser, RustCryptoBackend>;

/// Every CTAP2 exchange the adapter served: (request, answer) as bytes.
type Log = Arc<Mutex<Vec<(Vec<u8>, Vec<u8>)>>>;

/// passkey-rs as a ctapkit HID [`Handler`]: raw CTAP2 bytes in, passkey-rs's bytes out.
struct PasskeyRsDevice {
    inner: Inner,
    log: Log,
}

/// passkey-types' own encoding of an answer: status 0x00 followed by the CBOR passkey-rs's
/// serde types produce (ciborium, the serialiser passkey-rs uses on the wire).
fn ok_answer<T: serde::Serialize>(value: &T) -> Vec<u8> {
    let mut out = vec![0x00];
    match ciborium::ser::into_writer(value, &mut out) {
        Ok(()) => out,
        Err(_) => vec![u8::from(StatusCode::from(Ctap2Error::Other))],
    }
}

fn status_answer(status: StatusCode) -> Vec<u8> {
    vec![u8::from(status)]
}

fn decode<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, StatusCode> {
    ciborium::de::from_reader(body).map_err(|_| StatusCode::from(Ctap2Error::InvalidCbor))
}

impl PasskeyRsDevice {
    fn new(log: Log) -> Self {
        PasskeyRsDevice {
            inner: PasskeyAuthenticator::new(
                Aaguid::from(AAGUID),
                MemoryStore::new(),
                ApprovingUser,
                RustCryptoBackend,
            ),
            log,
        }
    }

    fn serve(&mut self, request: &[u8]) -> Vec<u8> {
        let Some((&cmd, body)) = request.split_first() else {
            return status_answer(StatusCode::from(Ctap2Error::InvalidLength));
        };
        match cmd {
            GET_INFO => ok_answer(&*block_on(self.inner.get_info())),
            MAKE_CREDENTIAL => match decode::<make_credential::Request>(body) {
                Ok(req) => match block_on(self.inner.make_credential(req)) {
                    Ok(resp) => ok_answer(&resp),
                    Err(status) => status_answer(status),
                },
                Err(status) => status_answer(status),
            },
            GET_ASSERTION => match decode::<get_assertion::Request>(body) {
                Ok(req) => match block_on(self.inner.get_assertion(req)) {
                    Ok(resp) => ok_answer(&resp),
                    Err(status) => status_answer(status),
                },
                Err(status) => status_answer(status),
            },
            // passkey-rs implements only the three CTAP 2.0 commands above.
            _ => status_answer(StatusCode::from(Ctap2Error::InvalidCommand)),
        }
    }
}

impl Handler for PasskeyRsDevice {
    fn cbor(&mut self, request: &[u8], _presence: &mut dyn Presence) -> Vec<u8> {
        let answer = self.serve(request);
        self.log
            .lock()
            .unwrap()
            .push((request.to_vec(), answer.clone()));
        answer
    }

    fn msg(&mut self, _apdu: &[u8], _presence: &mut dyn Presence) -> Option<Vec<u8>> {
        None // no CTAP1/U2F
    }

    fn capabilities(&self) -> u8 {
        capability::CBOR | capability::NMSG
    }
}

/// passkey-rs behind ctapkit's CTAPHID server on a thread, ctapkit's CTAPHID client on the
/// host end of the report pipe.
fn connect() -> (CtapHid<ChannelReports>, Log) {
    let log = Log::default();
    let device_log = Arc::clone(&log);
    let (host, mut device) = loopback::pair("passkey-rs");
    std::thread::Builder::new()
        .name("passkey-rs".into())
        .spawn(move || {
            let mut server = HidServer::new(PasskeyRsDevice::new(device_log), Default::default());
            // Ends when the host end is dropped.
            let _ = server.run(&mut device);
        })
        .unwrap();
    (CtapHid::open(host).unwrap(), log)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn create_options() -> CreateOptions {
    CreateOptions {
        rp_id: RP_ID.into(),
        rp_name: "Example".into(),
        user_id: b"user-4711".to_vec(),
        user_name: "alice@example.com".into(),
        user_display_name: "Alice".into(),
        challenge: vec![0x5a; 32],
        algorithms: vec![CoseAlgorithm::Es256],
        resident_key: true,
        user_verification_required: true,
        exclude: vec![],
    }
}

fn policy() -> Policy {
    Policy::new(RP_ID)
        .with_origins([ORIGIN])
        .with_user_verification(UserVerification::Required)
}

/// The getInfo options map exactly as passkey-rs 0.6 serialises `get_info::Options` (serde
/// field order plat, rk, up, uv), and the same map in CTAP2 canonical order.
const OPTIONS_AS_SENT: &str = "a4\
    64706c6174f4\
    62726bf5\
    627570f5\
    627576f5";
const OPTIONS_CANONICAL: &str = "a4\
    62726bf5\
    627570f5\
    627576f5\
    64706c6174f4";

#[test]
fn get_info_decodes() {
    let (hid, log) = connect();
    let mut ctap = Ctap2::new(hid);
    let info = ctap.get_info().unwrap();
    assert_eq!(info.versions, vec!["FIDO_2_0", "FIDO_2_1"]);
    assert_eq!(info.aaguid.0, AAGUID);
    assert_eq!(
        info.option("rk"),
        Some(true),
        "MemoryStore forces discoverable"
    );
    assert_eq!(info.option("up"), Some(true));
    assert_eq!(info.option("uv"), Some(true));
    assert_eq!(info.option("plat"), Some(false));
    assert_eq!(
        info.option("clientPin"),
        None,
        "passkey-rs has no ClientPIN"
    );
    assert_eq!(info.pin_uv_auth_protocols, None);
    assert_eq!(info.extensions, None);
    assert_eq!(
        info.transports,
        Some(vec!["internal".to_string(), "hybrid".to_string()])
    );
    // RustCryptoBackend's algorithms, ES256 first; the ones ctapkit has no name for are kept.
    let algs: Vec<i64> = info
        .algorithms
        .unwrap()
        .iter()
        .map(|p| p.alg.to_i64())
        .collect();
    assert_eq!(algs.first(), Some(&-7), "{algs:?}");
    assert!(algs.contains(&-8), "EdDSA: {algs:?}");
    // The options map, in the answer exactly as it crossed the HID framing, is in passkey-rs's
    // serde field order.
    let log = log.lock().unwrap();
    let (request, answer) = log.last().unwrap();
    assert_eq!(request, &[GET_INFO]);
    assert_eq!(answer[0], 0x00);
    assert!(
        hex(answer).contains(OPTIONS_AS_SENT),
        "getInfo answer: {}",
        hex(answer)
    );
    // Lenient mode recorded the non-canonical answer.
    assert_eq!(ctap.findings().len(), 1, "{:?}", ctap.findings());
    assert_eq!(ctap.findings()[0].command, GET_INFO);
}

/// The expected diff of passkey-rs's getInfo: the first difference is the options map's first
/// key, "plat" (text of length 4: 0x64) where the canonical order has "rk" (0x62).
fn assert_get_info_diff(finding: &NonCanonical, answer_body: &[u8]) {
    assert_eq!(finding.command, GET_INFO);
    let options_at = hex(answer_body).find(OPTIONS_AS_SENT).unwrap() / 2;
    // The map header a4 is the same; the keys differ right after it.
    assert_eq!(finding.offset, options_at + 1, "{finding}");
    assert!(finding.actual.contains("[64] 70 6c 61 74 f4"), "{finding}");
    assert!(finding.canonical.contains("[62] 72 6b f5"), "{finding}");
    assert!(
        finding
            .reason
            .contains("map keys not in CTAP2 canonical order"),
        "{finding}"
    );
}

/// The second non-canonical region of passkey-rs's getInfo: each `algorithms` entry is
/// serialised {"type", "alg"}, where canonical order puts "alg" (3 bytes) first.
#[test]
fn get_info_algorithms_are_not_canonical_either() {
    let (mut hid, _log) = connect();
    let answer = hid.cbor(&[GET_INFO], &mut |_| {}).unwrap();
    let body = hex(&answer[1..]);
    assert!(body.contains(OPTIONS_AS_SENT));
    // With the options map put in canonical order, the next difference is the first
    // algorithms entry.
    let fixed = body.replacen(OPTIONS_AS_SENT, OPTIONS_CANONICAL, 1);
    let fixed = (0..fixed.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&fixed[i..i + 2], 16).unwrap())
        .collect::<Vec<u8>>();
    let finding = canonical_diff(GET_INFO, &fixed).expect("still non-canonical");
    // a2 {"type": "public-key", "alg": -7} against a2 {"alg": -7, "type": "public-key"}
    assert!(
        finding.actual.contains("0a 87 a2 [64] 74 79 70 65"),
        "{finding}"
    );
    assert!(
        finding.canonical.contains("0a 87 a2 [63] 61 6c 67"),
        "{finding}"
    );
}

#[test]
fn strict_mode_reports_the_non_canonical_get_info_with_a_byte_diff() {
    let (hid, log) = connect();
    let mut strict = Ctap2::new(hid).strict(true);
    let finding = match strict.get_info() {
        Err(ClientError::NonCanonical(finding)) => finding,
        other => panic!("strict mode must refuse passkey-rs's getInfo: {other:?}"),
    };
    let answer = log.lock().unwrap().last().unwrap().1.clone();
    eprintln!("passkey-rs getInfo: {}\n{finding}", hex(&answer));
    assert_get_info_diff(&finding, &answer[1..]);
    let message = ClientError::NonCanonical(finding.clone()).to_string();
    assert!(message.contains("not CTAP2 canonical CBOR"), "{message}");
    assert!(message.contains("first difference at byte"), "{message}");
    // The same diff from the raw bytes.
    assert_eq!(
        canonical_diff(GET_INFO, &answer[1..]),
        Some(finding.clone())
    );
    // Strict mode keeps the finding too.
    assert_eq!(strict.findings(), &[finding]);

    // Lenient mode decodes the answer and records the same diff.
    let (hid, _log) = connect();
    let mut lenient = Ctap2::new(hid);
    let info = lenient.get_info().unwrap();
    assert_eq!(info.option("rk"), Some(true));
    assert_eq!(lenient.findings().len(), 1);
    assert_get_info_diff(&lenient.findings()[0], &answer[1..]);
    // Decoded options keep the order passkey-rs sent them in.
    let names: Vec<&str> = info
        .options
        .as_deref()
        .unwrap()
        .iter()
        .map(|(k, _)| k.as_str())
        .collect();
    assert_eq!(names, ["plat", "rk", "up", "uv"]);
}

#[test]
fn raw_get_info_bytes_over_ctaphid() {
    // The device's bytes through ctapkit's CTAPHID client alone, without the CTAP2 client.
    let (mut hid, log) = connect();
    let answer = hid.cbor(&[GET_INFO], &mut |_| {}).unwrap();
    assert_eq!(&answer, &log.lock().unwrap().last().unwrap().1);
    let finding = canonical_diff(GET_INFO, &answer[1..]).expect("non-canonical");
    assert_get_info_diff(&finding, &answer[1..]);
}

#[test]
fn make_credential_and_get_assertion_verify() {
    let (hid, log) = connect();
    let mut ctap = Ctap2::new(hid);
    let options = create_options();
    let reg = platform::create(&mut ctap, ORIGIN, &options, None).unwrap();
    let policy = policy();
    let result = verify_registration(&policy, &options.challenge, &reg)
        .unwrap_or_else(|e| panic!("ctapkit's verifier refused passkey-rs's registration: {e}"));
    // passkey-rs: "none" attestation, a synced passkey (BE BS), no signature counter.
    assert_eq!(result.attestation_format.as_str(), "none");
    assert_eq!(result.flags.to_string(), "UP UV BE BS AT");
    assert_eq!(result.credential.sign_count, 0);
    assert_eq!(result.credential.aaguid.0, AAGUID);
    assert_eq!(result.credential.public_key.alg(), CoseAlgorithm::Es256);
    assert_eq!(
        result.credential.id.0.len(),
        16,
        "passkey-rs's default ID length"
    );
    // passkey-rs's makeCredential answer has only integer keys in order: canonical.
    {
        let log = log.lock().unwrap();
        let (request, answer) = log.last().unwrap();
        assert_eq!(request[0], MAKE_CREDENTIAL);
        assert_eq!(answer[0], 0x00);
        assert_eq!(canonical_diff(MAKE_CREDENTIAL, &answer[1..]), None);
    }
    assert!(ctap.findings().iter().all(|f| f.command != MAKE_CREDENTIAL));

    let get = GetOptions {
        rp_id: RP_ID.into(),
        challenge: vec![0xa5; 32],
        allow: vec![result.credential.id.0.clone()],
        user_verification_required: true,
    };
    let mut record = result.credential;
    for _ in 0..2 {
        let assertion = platform::get(&mut ctap, ORIGIN, &get, None).unwrap();
        let expected = AssertionExpectations {
            challenge: &get.challenge,
            allow_credentials: &get.allow,
            user_handle: Some(&options.user_id),
        };
        let auth = verify_authentication(&policy, &expected, &record, &assertion)
            .unwrap_or_else(|e| panic!("ctapkit's verifier refused passkey-rs's assertion: {e}"));
        assert_eq!(auth.sign_count, 0, "passkey-rs keeps no counter by default");
        assert_eq!(auth.flags.to_string(), "UP UV BE BS");
        record.update(&auth);
    }

    // passkey-rs's getAssertion answer is not canonical either: the credential descriptor is
    // serialised {"type", "id"}, where canonical order puts "id" (2 bytes) first.
    let log = log.lock().unwrap();
    let (request, answer) = log.last().unwrap();
    assert_eq!(request[0], GET_ASSERTION);
    let finding = canonical_diff(GET_ASSERTION, &answer[1..]).expect("non-canonical");
    assert!(finding.actual.contains("[64] 74 79 70 65"), "{finding}"); // "type"
    assert!(finding.canonical.contains("[62] 69 64"), "{finding}"); // "id"
    let assertion_findings = ctap
        .findings()
        .iter()
        .filter(|f| f.command == GET_ASSERTION)
        .count();
    assert_eq!(assertion_findings, 2, "{:?}", ctap.findings());
}

#[test]
fn strict_mode_refuses_the_non_canonical_assertion_but_not_the_registration() {
    let (hid, _log) = connect();
    let mut ctap = Ctap2::new(hid).strict(true);
    let options = create_options();
    // makeCredential's answer is canonical: strict mode accepts it.
    let reg = platform::create(&mut ctap, ORIGIN, &options, None).unwrap();
    let result = verify_registration(&policy(), &options.challenge, &reg).unwrap();
    let get = GetOptions {
        rp_id: RP_ID.into(),
        challenge: vec![1; 32],
        allow: vec![result.credential.id.0.clone()],
        user_verification_required: true,
    };
    match platform::get(&mut ctap, ORIGIN, &get, None) {
        Err(platform::PlatformError::Authenticator(ClientError::NonCanonical(f))) => {
            assert_eq!(f.command, GET_ASSERTION);
        }
        other => panic!("strict mode must refuse the assertion: {other:?}"),
    }
}

#[test]
fn unsupported_commands_and_unknown_credentials() {
    let (hid, _log) = connect();
    let mut ctap = Ctap2::new(hid);
    // authenticatorClientPIN: passkey-rs has none.
    let err = ctap
        .pin_retries(ctapkit::ctap2::PinUvAuthProtocol::Two)
        .unwrap_err();
    assert!(
        matches!(err, ClientError::Status(s) if s == ctapkit::ctap2::StatusCode::INVALID_COMMAND),
        "{err}"
    );
    // An assertion for a credential passkey-rs does not hold.
    let get = GetOptions {
        rp_id: RP_ID.into(),
        challenge: vec![2; 32],
        allow: vec![vec![0xee; 16]],
        user_verification_required: false,
    };
    match platform::get(&mut ctap, ORIGIN, &get, None) {
        Err(platform::PlatformError::Authenticator(ClientError::Status(s))) => {
            assert_eq!(s, ctapkit::ctap2::StatusCode::NO_CREDENTIALS)
        }
        other => panic!("{other:?}"),
    }
}
