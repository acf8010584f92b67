//! The software authenticator's request decoding and dispatch on arbitrary CTAP2 messages
//! (command byte + CBOR), for a platform profile and the PIN-capable security key. Every
//! answer must be a status byte, followed by canonical CBOR when the status is CTAP2_OK.
#![no_main]

use ctapkit::authenticator::hid_server::NoHost;
use ctapkit::authenticator::Authenticator;
use libfuzzer_sys::fuzz_target;

fn check(answer: &[u8]) {
    let (&status, body) = answer.split_first().expect("an answer has a status byte");
    if status == 0 && !body.is_empty() {
        ctapkit::cbor::check_canonical(body).expect("answers are canonical CBOR");
    }
}

fuzz_target!(|data: &[u8]| {
    // Fresh authenticators each time: the answer must not depend on earlier inputs.
    for profile in ["ios", "security-key"] {
        let mut auth = Authenticator::with_profile_name(profile).expect("profile");
        check(&auth.handle(data, &mut NoHost));
    }
});
