//! Tests against a real USB FIDO key. Run with a key plugged in:
//! `cargo test --test hardware -- --ignored` (touch the key when it blinks; set
//! `CTAPKIT_PIN` if the key has a PIN).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ctapkit::cose::CoseAlgorithm;
use ctapkit::ctap2::client::Ctap2;
use ctapkit::ctap2::client_pin::permission;
use ctapkit::platform::{self, CreateOptions, GetOptions};
use ctapkit::transport::hid;
use ctapkit::webauthn::authentication::{verify_authentication, AssertionExpectations};
use ctapkit::webauthn::registration::verify_registration;
use ctapkit::webauthn::{Policy, UserVerification};

const RP_ID: &str = "ctapkit.test";
const ORIGIN: &str = "https://ctapkit.test";

#[test]
#[ignore = "needs a FIDO2 authenticator"]
fn a_plugged_in_key_answers_get_info_canonically() {
    let mut ctap = Ctap2::new(hid::open_only().unwrap()).strict(true);
    let info = ctap.get_info().unwrap();
    assert!(
        info.versions.iter().any(|v| v.starts_with("FIDO_2")),
        "{:?}",
        info.versions
    );
}

#[test]
#[ignore = "needs a FIDO2 authenticator"]
fn a_plugged_in_key_registers_and_signs_in() {
    let mut ctap = Ctap2::new(hid::open_only().unwrap());
    let info = ctap.get_info().unwrap();
    let token = match (std::env::var("CTAPKIT_PIN"), info.option("clientPin")) {
        (Ok(pin), Some(true)) => {
            let p = info.preferred_pin_protocol();
            let ctap21 = info.versions.iter().any(|v| v == "FIDO_2_1");
            Some(
                ctap.pin_token(
                    p,
                    &pin,
                    permission::MAKE_CREDENTIAL | permission::GET_ASSERTION,
                    Some(RP_ID),
                    ctap21,
                )
                .unwrap(),
            )
        }
        _ => None,
    };
    let options = CreateOptions {
        rp_id: RP_ID.into(),
        rp_name: "ctapkit hardware test".into(),
        user_id: vec![1; 16],
        user_name: "hardware-test".into(),
        user_display_name: "hardware test".into(),
        challenge: vec![0x5a; 32],
        algorithms: vec![
            CoseAlgorithm::Es256,
            CoseAlgorithm::EdDsa,
            CoseAlgorithm::Rs256,
        ],
        resident_key: false,
        user_verification_required: false,
        exclude: vec![],
    };
    eprintln!("touch the key to register…");
    let reg = platform::create(&mut ctap, ORIGIN, &options, token.as_ref()).unwrap();
    let policy = Policy::new(RP_ID)
        .with_origins([ORIGIN])
        .with_user_verification(UserVerification::Discouraged);
    let result = verify_registration(&policy, &options.challenge, &reg).unwrap();
    let get = GetOptions {
        rp_id: RP_ID.into(),
        challenge: vec![0xa5; 32],
        allow: vec![result.credential.id.0.clone()],
        user_verification_required: false,
    };
    eprintln!("touch the key to sign in…");
    let assertion = platform::get(&mut ctap, ORIGIN, &get, token.as_ref()).unwrap();
    let expected = AssertionExpectations {
        challenge: &get.challenge,
        allow_credentials: &get.allow,
        user_handle: None,
    };
    verify_authentication(&policy, &expected, &result.credential, &assertion).unwrap();
}
