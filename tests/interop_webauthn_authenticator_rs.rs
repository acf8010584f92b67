//! Interop with an independent CTAP2 client: kanidm's `webauthn-authenticator-rs` (a
//! dev-dependency, with its `ctap2-management` feature only: `ctap2` plus the PIN and
//! credential management commands, no system library) drives ctapkit's software authenticator
//! (profile security-key) through ctapkit's device-side CTAPHID server, and kanidm's
//! `webauthn-rs-core` verifies what it returns, as does ctapkit's own verifier.
//!
//! webauthn-authenticator-rs's byte-level abstraction is its `Token` trait (one CTAP2 message
//! in, the answer out); its own CTAPHID framing lives in its `usb` feature, which needs
//! `fido-hid-rs` and so libudev. The [`HidToken`] below is therefore a small, separate
//! CTAPHID client (INIT on the broadcast channel, CBOR messages in 64-byte reports, KEEPALIVE,
//! CANCEL), written against CTAP 2.1 §11.2 and not sharing code with ctapkit's `CtapHid`.
//!
//! Where a step needs something webauthn-authenticator-rs cannot send (it never asks for a
//! discoverable credential: its makeCredential sets only `uv`), ctapkit's own client does it
//! on a second CTAPHID channel of the same device, as a second host application would.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fmt;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ctapkit::authenticator::hid_server::HidServer;
use ctapkit::authenticator::Authenticator;
use ctapkit::cose::CoseAlgorithm;
use ctapkit::ctap2::client::Ctap2;
use ctapkit::ctap2::client_pin::permission;
use ctapkit::ctap2::{PinUvAuthProtocol, StatusCode};
use ctapkit::platform::{self, CreateOptions, GetOptions};
use ctapkit::transport::loopback::{self, ChannelReports};
use ctapkit::transport::{CtapHid, ReportIo};
use ctapkit::webauthn::authentication::{verify_authentication, AssertionExpectations};
use ctapkit::webauthn::json::{AssertionResponseJson, AttestationResponseJson};
use ctapkit::webauthn::registration::verify_registration;
use ctapkit::webauthn::{
    AuthenticationResponseJson, Base64Url, Failure, Policy, RegistrationResponseJson, Step,
    TrustStore, UserVerification,
};
use futures::executor::block_on;
use webauthn_authenticator_rs::ctap2::CtapAuthenticator;
use webauthn_authenticator_rs::error::{CtapError, WebauthnCError};
use webauthn_authenticator_rs::prelude::Url;
use webauthn_authenticator_rs::transport::Token;
use webauthn_authenticator_rs::types::{CableRequestType, CableState, EnrollSampleStatus};
use webauthn_authenticator_rs::ui::UiCallback;
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_rs_core::proto::{
    AttestationCaList, AttestationConveyancePreference, AuthenticatorTransport,
    UserVerificationPolicy,
};
use webauthn_rs_core::WebauthnCore;

const ORIGIN: &str = "https://login.example.net";
const RP_ID: &str = "example.net";
const PIN: &str = "2468";
/// The origin as webauthn-authenticator-rs writes it into clientDataJSON (a URL).
const URL_FORM_ORIGIN: &str = "https://login.example.net/";

// =============================================================================================
// A CTAPHID client for webauthn-authenticator-rs's `Token` trait.
// =============================================================================================

const REPORT_SIZE: usize = 64;
const BROADCAST_CID: u32 = 0xffff_ffff;
const CTAPHID_INIT: u8 = 0x86;
const CTAPHID_CBOR: u8 = 0x90;
const CTAPHID_CANCEL: u8 = 0x91;
const CTAPHID_KEEPALIVE: u8 = 0xbb;
const CTAPHID_ERROR: u8 = 0xbf;
/// CAPABILITY_CBOR in the INIT answer (§11.2.9.1.3).
const CAPABILITY_CBOR: u8 = 0x04;
/// How long the device may stay silent (no answer, no keepalive).
const SILENCE: Duration = Duration::from_secs(10);

/// The host end of the report pipe, shared by the CTAPHID clients of the test: each allocates
/// its own channel, and they take turns (never two transactions at once).
#[derive(Clone)]
struct SharedReports(Arc<Mutex<ChannelReports>>);

impl ReportIo for SharedReports {
    fn write_report(&mut self, report: &[u8]) -> io::Result<()> {
        self.0.lock().unwrap().write_report(report)
    }

    fn read_report(&mut self, timeout: Duration) -> io::Result<Option<Vec<u8>>> {
        self.0.lock().unwrap().read_report(timeout)
    }

    fn describe(&self) -> String {
        self.0.lock().unwrap().describe()
    }
}

fn io_error(e: io::Error) -> WebauthnCError {
    WebauthnCError::IoError(e.to_string())
}

/// A CTAPHID channel to the device, as a webauthn-authenticator-rs [`Token`].
struct HidToken {
    io: SharedReports,
    cid: u32,
    /// Every CTAP2 exchange, for the assertions below.
    log: Log,
}

/// CTAP2 exchanges: (request, answer with its status byte).
type Log = Arc<Mutex<Vec<(Vec<u8>, Vec<u8>)>>>;

impl fmt::Debug for HidToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HidToken(channel {:08x})", self.cid)
    }
}

impl HidToken {
    fn new(io: SharedReports) -> Self {
        HidToken {
            io,
            cid: BROADCAST_CID,
            log: Arc::default(),
        }
    }

    /// Sends one message: an initialization packet, then continuation packets (§11.2.4).
    fn send(&mut self, cmd: u8, data: &[u8]) -> Result<(), WebauthnCError> {
        let len = u16::try_from(data.len()).map_err(|_| WebauthnCError::MessageTooLarge)?;
        let first = data.len().min(REPORT_SIZE - 7);
        let mut report = vec![0u8; REPORT_SIZE];
        report[..4].copy_from_slice(&self.cid.to_be_bytes());
        report[4] = cmd;
        report[5..7].copy_from_slice(&len.to_be_bytes());
        report[7..7 + first].copy_from_slice(&data[..first]);
        self.io.write_report(&report).map_err(io_error)?;
        for (seq, chunk) in data[first..].chunks(REPORT_SIZE - 5).enumerate() {
            let seq = u8::try_from(seq)
                .ok()
                .filter(|s| *s < 0x80)
                .ok_or(WebauthnCError::MessageTooLarge)?;
            let mut report = vec![0u8; REPORT_SIZE];
            report[..4].copy_from_slice(&self.cid.to_be_bytes());
            report[4] = seq;
            report[5..5 + chunk.len()].copy_from_slice(chunk);
            self.io.write_report(&report).map_err(io_error)?;
        }
        Ok(())
    }

    /// Receives the next whole message on our channel: (command, payload).
    fn receive(&mut self) -> Result<(u8, Vec<u8>), WebauthnCError> {
        let deadline = Instant::now() + SILENCE;
        let mut message: Option<(u8, usize, Vec<u8>, u8)> = None;
        loop {
            if Instant::now() >= deadline {
                return Err(WebauthnCError::IoError("the device stayed silent".into()));
            }
            let Some(report) = self
                .io
                .read_report(Duration::from_millis(100))
                .map_err(io_error)?
            else {
                continue;
            };
            if report.len() < 7 || report[..4] != self.cid.to_be_bytes() {
                continue; // another channel's answer
            }
            match (&mut message, report[4]) {
                (None, cmd) if cmd & 0x80 != 0 => {
                    let len = usize::from(u16::from_be_bytes([report[5], report[6]]));
                    let data = report[7..].iter().copied().take(len).collect();
                    message = Some((cmd, len, data, 0));
                }
                (Some((_, len, data, next_seq)), seq) if seq == *next_seq => {
                    let missing = *len - data.len();
                    data.extend(report[5..].iter().copied().take(missing));
                    *next_seq += 1;
                }
                _ => {
                    return Err(WebauthnCError::IoError(format!(
                        "unexpected CTAPHID packet {}",
                        hex::encode(&report[..8])
                    )))
                }
            }
            if let Some((cmd, len, data, _)) = &message {
                if data.len() == *len {
                    return Ok((*cmd, data.clone()));
                }
            }
        }
    }
}

#[async_trait::async_trait]
impl Token for HidToken {
    type Id = u32;

    fn get_transport(&self) -> AuthenticatorTransport {
        AuthenticatorTransport::Usb
    }

    async fn transmit_raw<U>(&mut self, cbor: &[u8], ui: &U) -> Result<Vec<u8>, WebauthnCError>
    where
        U: UiCallback,
    {
        self.send(CTAPHID_CBOR, cbor)?;
        loop {
            match self.receive()? {
                (CTAPHID_KEEPALIVE, status) => match status.first() {
                    Some(2) => ui.request_touch(),
                    _ => ui.processing(),
                },
                (CTAPHID_CBOR, answer) => {
                    self.log
                        .lock()
                        .unwrap()
                        .push((cbor.to_vec(), answer.clone()));
                    let (&status, body) = answer
                        .split_first()
                        .ok_or(WebauthnCError::MessageTooShort)?;
                    let status = CtapError::from(status);
                    return if status.is_ok() {
                        Ok(body.to_vec())
                    } else {
                        Err(WebauthnCError::Ctap(status))
                    };
                }
                (CTAPHID_ERROR, code) => {
                    return Err(WebauthnCError::IoError(format!(
                        "CTAPHID_ERROR {}",
                        hex::encode(code)
                    )))
                }
                (cmd, _) => {
                    return Err(WebauthnCError::IoError(format!(
                        "unexpected CTAPHID answer {cmd:#04x}"
                    )))
                }
            }
        }
    }

    async fn cancel(&mut self) -> Result<(), WebauthnCError> {
        self.send(CTAPHID_CANCEL, &[])
    }

    async fn init(&mut self) -> Result<(), WebauthnCError> {
        let nonce: [u8; 8] = *b"interop!";
        self.cid = BROADCAST_CID;
        self.send(CTAPHID_INIT, &nonce)?;
        let (cmd, answer) = self.receive()?;
        // nonce(8) cid(4) protocol(1) major minor build capabilities (§11.2.9.1.3)
        if cmd != CTAPHID_INIT || answer.len() < 17 || answer[..8] != nonce {
            return Err(WebauthnCError::IoError(format!(
                "bad INIT answer {cmd:#04x} {}",
                hex::encode(&answer)
            )));
        }
        self.cid = u32::from_be_bytes([answer[8], answer[9], answer[10], answer[11]]);
        if answer[16] & CAPABILITY_CBOR == 0 {
            return Err(WebauthnCError::NotSupported);
        }
        Ok(())
    }

    async fn close(&mut self) -> Result<(), WebauthnCError> {
        Ok(())
    }
}

/// The user: types the PIN when asked, touches the key (the emulated user always approves).
#[derive(Debug, Default)]
struct User {
    pin: Mutex<Option<String>>,
    pin_requests: AtomicUsize,
}

impl User {
    fn will_type(&self, pin: &str) {
        *self.pin.lock().unwrap() = Some(pin.to_string());
    }

    fn pin_requests(&self) -> usize {
        self.pin_requests.load(Ordering::SeqCst)
    }
}

impl UiCallback for User {
    fn request_pin(&self) -> Option<String> {
        self.pin_requests.fetch_add(1, Ordering::SeqCst);
        self.pin.lock().unwrap().clone()
    }
    fn request_touch(&self) {}
    fn processing(&self) {}
    fn fingerprint_enrollment_feedback(&self, _: u32, _: Option<EnrollSampleStatus>) {}
    fn cable_qr_code(&self, _: CableRequestType, _: String) {}
    fn dismiss_qr_code(&self) {}
    fn cable_status_update(&self, _: CableState) {}
}

// =============================================================================================
// Set-up.
// =============================================================================================

struct Device {
    reports: SharedReports,
    ca_pem: String,
    aaguid: [u8; 16],
}

/// ctapkit's security-key emulator behind ctapkit's CTAPHID server on a thread.
fn security_key() -> Device {
    let auth = Authenticator::with_profile_name("security-key").unwrap();
    let ca_pem = auth.attestation_ca_pem().unwrap();
    let aaguid = auth.profile().aaguid.0;
    let faults = auth.hid_faults();
    let (host, mut device) = loopback::pair("security-key");
    std::thread::Builder::new()
        .name("security-key".into())
        .spawn(move || {
            let mut server = HidServer::new(auth, faults);
            let _ = server.run(&mut device);
        })
        .unwrap();
    Device {
        reports: SharedReports(Arc::new(Mutex::new(host))),
        ca_pem,
        aaguid,
    }
}

fn origin() -> Url {
    Url::parse(ORIGIN).unwrap()
}

fn webauthn_rs() -> WebauthnCore {
    WebauthnCore::new_unsafe_experts_only(
        "ctapkit interop",
        RP_ID,
        vec![origin()],
        Duration::from_secs(60),
        None,
        None,
    )
}

fn our_policy(ca_pem: &str) -> Policy {
    let mut policy = Policy::new(RP_ID)
        .with_origins([ORIGIN])
        .with_user_verification(UserVerification::Required);
    let mut store = TrustStore::new();
    store.add_pem(ca_pem).unwrap();
    policy.trust_store = store;
    policy.require_trusted_attestation = true;
    policy
}

/// The credential ID from attested credential data: rpIdHash(32) flags(1) count(4)
/// aaguid(16) length(2) id.
fn credential_id(auth_data: &[u8]) -> Vec<u8> {
    let len = usize::from(u16::from_be_bytes([auth_data[53], auth_data[54]]));
    auth_data[55..55 + len].to_vec()
}

/// The attestation object's authData (webauthn-authenticator-rs re-serialises the answer with
/// text keys: {"fmt", "authData", "attStmt"}).
fn auth_data_of(attestation_object: &[u8]) -> Vec<u8> {
    let value: ciborium::Value = ciborium::de::from_reader(attestation_object).unwrap();
    value
        .as_map()
        .unwrap()
        .iter()
        .find(|(k, _)| k.as_text() == Some("authData"))
        .and_then(|(_, v)| v.as_bytes().cloned())
        .unwrap()
}

// =============================================================================================
// Tests.
// =============================================================================================

#[test]
fn get_info_through_its_client() {
    let device = security_key();
    let user = User::default();
    let authenticator =
        block_on(CtapAuthenticator::new(HidToken::new(device.reports), &user)).unwrap();
    assert!(
        matches!(authenticator, CtapAuthenticator::Fido21(_)),
        "{authenticator:?}"
    );
    let info = authenticator.get_info();
    for v in ["U2F_V2", "FIDO_2_0", "FIDO_2_1"] {
        assert!(info.versions.contains(v), "{:?}", info.versions);
    }
    assert_eq!(
        info.aaguid.map(|u| *u.as_bytes()),
        Some(device.aaguid),
        "{info:?}"
    );
    assert_eq!(info.get_option("clientPin"), Some(false));
    assert_eq!(info.get_option("pinUvAuthToken"), Some(true));
    assert_eq!(info.get_option("credMgmt"), Some(true));
    assert_eq!(info.get_option("rk"), Some(true));
    assert_eq!(info.get_option("plat"), Some(false));
    assert_eq!(info.pin_protocols, Some(vec![2, 1]));
    assert_eq!(info.remaining_discoverable_credentials, Some(25));
    assert!(info.ctap21_credential_management());
    assert!(authenticator.supports_credential_management());
    assert!(!authenticator.supports_biometrics());
}

#[test]
fn pin_registration_authentication_and_credential_management() {
    let device = security_key();
    let user = User::default();
    let token = HidToken::new(device.reports.clone());
    let log = Arc::clone(&token.log);
    let mut authenticator = block_on(CtapAuthenticator::new(token, &user)).unwrap();
    // ctapkit's own client, on a second CTAPHID channel of the same device.
    let mut ctapkit = Ctap2::new(CtapHid::open(device.reports.clone()).unwrap()).strict(true);
    let p = PinUvAuthProtocol::Two;

    // --- Its PIN implementation: set the PIN (protocol 2, the first the key lists).
    block_on(authenticator.set_new_pin(PIN)).unwrap();
    assert_eq!(authenticator.get_info().get_option("clientPin"), Some(true));
    assert_eq!(ctapkit.pin_retries(p).unwrap(), 8);
    // The PIN it set is the PIN ctapkit's client gets a token with.
    ctapkit
        .pin_token(p, PIN, permission::MAKE_CREDENTIAL, Some(RP_ID), true)
        .unwrap();

    // --- Registration through its WebauthnAuthenticator front-end; webauthn-rs verifies.
    let webauthn = webauthn_rs();
    let builder = webauthn
        .new_challenge_register_builder(b"user-0001", "alice", "Alice")
        .unwrap()
        .attestation(AttestationConveyancePreference::Direct)
        .user_verification_policy(UserVerificationPolicy::Required);
    let (ccr, reg_state) = webauthn.generate_challenge_register(builder).unwrap();
    let challenge = ccr.public_key.challenge.to_vec();

    // A wrong PIN first: the key refuses it and counts down.
    user.will_type("1357");
    let err = authenticator
        .do_registration(origin(), ccr.clone())
        .unwrap_err();
    assert!(
        matches!(err, WebauthnCError::Ctap(CtapError::Ctap2PinInvalid)),
        "{err:?}"
    );
    assert_eq!(ctapkit.pin_retries(p).unwrap(), 7);

    user.will_type(PIN);
    let before = user.pin_requests();
    let reg = authenticator.do_registration(origin(), ccr).unwrap();
    assert_eq!(
        user.pin_requests(),
        before + 1,
        "a PIN token for the ceremony"
    );
    assert_eq!(ctapkit.pin_retries(p).unwrap(), 8, "the right PIN resets");
    // Its client obtained the token with getPinUvAuthTokenUsingPinWithPermissions
    // (clientPIN subcommand 0x09) and used it in makeCredential.
    {
        let log = log.lock().unwrap();
        let subcommands: Vec<u8> = log
            .iter()
            .filter(|(req, _)| req.first() == Some(&0x06))
            .filter_map(|(req, _)| {
                let v: ciborium::Value = ciborium::de::from_reader(&req[1..]).ok()?;
                v.as_map()?
                    .iter()
                    .find(|(k, _)| k.as_integer() == Some(2.into()))
                    .and_then(|(_, v)| v.as_integer())
                    .and_then(|i| u8::try_from(i).ok())
            })
            .collect();
        assert!(subcommands.contains(&0x09), "{subcommands:?}");
        assert!(!subcommands.contains(&0x05), "no legacy getPinToken");
    }

    let ca_list = AttestationCaList::try_from(device.ca_pem.as_bytes()).unwrap();
    let cred = webauthn
        .register_credential(&reg, &reg_state, Some(&ca_list))
        .unwrap_or_else(|e| panic!("webauthn-rs refused the registration: {e:?}"));
    assert!(cred.user_verified, "UV through the PIN token");
    assert_eq!(cred.counter, 0);

    // ctapkit's verifier accepts the same registration (the packed attestation chains to the
    // emulator's test CA). The credential ID comes from authData, as a browser fills rawId.
    let attestation_object = reg.response.attestation_object.to_vec();
    let auth_data = auth_data_of(&attestation_object);
    let id = credential_id(&auth_data);
    assert_eq!(id, cred.cred_id.to_vec());
    let ours = RegistrationResponseJson {
        id: Base64Url(id.clone()).encode(),
        raw_id: Base64Url(id.clone()),
        response: AttestationResponseJson {
            client_data_json: Base64Url(reg.response.client_data_json.to_vec()),
            attestation_object: Base64Url(attestation_object),
            authenticator_data: None,
            transports: vec![],
            public_key: None,
            public_key_algorithm: None,
        },
        authenticator_attachment: None,
        client_extension_results: serde_json::Map::new(),
        type_: "public-key".into(),
    };
    // webauthn-authenticator-rs writes C.origin as a URL, "https://login.example.net/",
    // where WebAuthn L3 §5.8.1 wants the serialization of the origin (HTML: no path, so no
    // trailing slash) as browsers send it. webauthn-rs compares parsed origins and accepts
    // it; ctapkit compares the serialization (§7.1 step 11) and refuses it.
    let client_data: serde_json::Value =
        serde_json::from_slice(&reg.response.client_data_json).unwrap();
    assert_eq!(client_data["origin"], URL_FORM_ORIGIN, "{client_data}");
    let err = verify_registration(&our_policy(&device.ca_pem), &challenge, &ours).unwrap_err();
    assert_eq!(err.step, Step::REG_ORIGIN, "{err}");
    assert!(
        matches!(&err.failure, Failure::OriginNotAllowed { origin, .. } if origin == URL_FORM_ORIGIN),
        "{err}"
    );
    // With that form listed as an allowed origin, every other step passes.
    let policy = our_policy(&device.ca_pem).with_origins([ORIGIN, URL_FORM_ORIGIN]);
    let registration = verify_registration(&policy, &challenge, &ours)
        .unwrap_or_else(|e| panic!("ctapkit refused the registration: {e}"));
    assert_eq!(registration.attestation_format.as_str(), "packed");
    assert_eq!(registration.attestation_trusted, Some(true));
    assert_eq!(registration.flags.to_string(), "UP UV AT");
    assert_eq!(
        registration.credential.public_key.alg(),
        CoseAlgorithm::Es256
    );

    // --- Authentication through its front-end; both verifiers accept, counters increase.
    let mut record = registration.credential;
    let mut cred = cred;
    for expected_count in 1..=2u32 {
        let builder = webauthn
            .new_challenge_authenticate_builder(vec![cred.clone()], None)
            .unwrap();
        let (rcr, auth_state) = webauthn.generate_challenge_authenticate(builder).unwrap();
        let challenge = rcr.public_key.challenge.to_vec();
        let assertion = authenticator.do_authentication(origin(), rcr).unwrap();
        let result = webauthn
            .authenticate_credential(&assertion, &auth_state)
            .unwrap_or_else(|e| panic!("webauthn-rs refused the assertion: {e:?}"));
        assert!(result.user_verified());
        assert_eq!(result.counter(), expected_count);
        cred.counter = result.counter();

        let ours = AuthenticationResponseJson {
            id: Base64Url(assertion.raw_id.to_vec()).encode(),
            raw_id: Base64Url(assertion.raw_id.to_vec()),
            response: AssertionResponseJson {
                client_data_json: Base64Url(assertion.response.client_data_json.to_vec()),
                authenticator_data: Base64Url(assertion.response.authenticator_data.to_vec()),
                signature: Base64Url(assertion.response.signature.to_vec()),
                user_handle: None,
            },
            authenticator_attachment: None,
            client_extension_results: serde_json::Map::new(),
            type_: "public-key".into(),
        };
        let allow = [id.clone()];
        let expected = AssertionExpectations {
            challenge: &challenge,
            allow_credentials: &allow,
            user_handle: None,
        };
        let auth = verify_authentication(&policy, &expected, &record, &ours)
            .unwrap_or_else(|e| panic!("ctapkit refused the assertion: {e}"));
        assert_eq!(auth.sign_count, expected_count);
        assert_eq!(auth.flags.to_string(), "UP UV");
        record.update(&auth);
    }

    // --- Credential management through its API. Its makeCredential never asks for a
    // discoverable credential, so ctapkit's client makes one (with the PIN it set).
    let cm_token = ctapkit
        .pin_token(
            p,
            PIN,
            permission::MAKE_CREDENTIAL | permission::GET_ASSERTION,
            Some(RP_ID),
            true,
        )
        .unwrap();
    let bob = CreateOptions {
        rp_id: RP_ID.into(),
        rp_name: "Example Net".into(),
        user_id: b"user-0002".to_vec(),
        user_name: "bob".into(),
        user_display_name: "Bob".into(),
        challenge: vec![3; 32],
        algorithms: vec![CoseAlgorithm::Es256],
        resident_key: true,
        user_verification_required: true,
        exclude: vec![],
    };
    let bob_reg = platform::create(&mut ctapkit, ORIGIN, &bob, Some(&cm_token)).unwrap();
    let bob_id = bob_reg.raw_id.0.clone();

    let cm = authenticator.credential_management().unwrap();
    let metadata = block_on(cm.get_credentials_metadata()).unwrap();
    assert_eq!(
        metadata.existing_resident_credentials_count, 1,
        "only bob's: alice's credential is not discoverable"
    );
    assert_eq!(
        metadata.max_possible_remaining_resident_credentials_count,
        24
    );
    let rps = block_on(cm.enumerate_rps()).unwrap();
    assert_eq!(rps.len(), 1, "{rps:?}");
    assert_eq!(rps[0].id.as_deref(), Some(RP_ID));
    assert_eq!(
        rps[0].hash.map(|h| h.to_vec()),
        Some(ctapkit::webauthn::sha256(RP_ID.as_bytes()).to_vec())
    );
    let creds = block_on(cm.enumerate_credentials_by_rpid(RP_ID)).unwrap();
    assert_eq!(creds.len(), 1, "{creds:?}");
    let listed = &creds[0];
    assert_eq!(
        listed.credential_id.as_ref().map(|d| d.id.clone()),
        Some(bob_id.clone())
    );
    let listed_user = listed.user.as_ref().unwrap();
    assert_eq!(listed_user.id, b"user-0002");
    assert_eq!(listed_user.name.as_deref(), Some("bob"));
    assert!(listed.public_key.is_some());

    block_on(cm.delete_credential(bob_id.clone().into())).unwrap();
    // Nothing left: the key answers enumerateRPsBegin and enumerateCredentialsBegin with
    // CTAP2_ERR_NO_CREDENTIALS (CTAP 2.1 §6.8.3, §6.8.4), which its client reports as empty.
    assert!(block_on(cm.enumerate_rps()).unwrap().is_empty());
    assert!(block_on(cm.enumerate_credentials_by_rpid(RP_ID))
        .unwrap()
        .is_empty());
    {
        let log = log.lock().unwrap();
        // authenticatorCredentialManagement (0x0a) answers' status bytes.
        let statuses: Vec<u8> = log
            .iter()
            .filter(|(req, _)| req.first() == Some(&0x0a))
            .map(|(_, answer)| answer[0])
            .collect();
        assert_eq!(
            statuses[statuses.len() - 2..],
            [0x2e, 0x2e],
            "{statuses:02x?}"
        );
    }
    let metadata = block_on(cm.get_credentials_metadata()).unwrap();
    assert_eq!(metadata.existing_resident_credentials_count, 0);

    // The deleted credential is gone for ctapkit's client too.
    let token = ctapkit
        .pin_token(p, PIN, permission::GET_ASSERTION, Some(RP_ID), true)
        .unwrap();
    let get = GetOptions {
        rp_id: RP_ID.into(),
        challenge: vec![4; 32],
        allow: vec![],
        user_verification_required: true,
    };
    match platform::get(&mut ctapkit, ORIGIN, &get, Some(&token)) {
        Err(platform::PlatformError::Authenticator(
            ctapkit::ctap2::client::ClientError::Status(s),
        )) => assert_eq!(s, StatusCode::NO_CREDENTIALS),
        other => panic!("{other:?}"),
    }

    // --- Its changePIN: the old PIN stops working, the new one works for ctapkit.
    block_on(authenticator.change_pin(PIN, "97531")).unwrap();
    assert!(ctapkit
        .pin_token(p, PIN, permission::GET_ASSERTION, Some(RP_ID), true)
        .is_err());
    ctapkit
        .pin_token(p, "97531", permission::GET_ASSERTION, Some(RP_ID), true)
        .unwrap();
    // Every answer ctapkit's strict client received on its channel was canonical.
    assert!(ctapkit.findings().is_empty(), "{:?}", ctapkit.findings());
}
