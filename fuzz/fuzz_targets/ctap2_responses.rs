//! The client's decoding of authenticator answers: every CTAP2 response type from arbitrary
//! CBOR, the strict canonical check with its byte diff, and CTAP1/U2F APDUs and answers.
#![no_main]

use ctapkit::ctap1::{Apdu, AuthenticateResponse, RegisterResponse};
use ctapkit::ctap2::client::canonical_diff;
use ctapkit::ctap2::{
    decode_body, ClientPinResponse, CredentialManagementResponse, GetAssertionResponse,
    GetInfoResponse, MakeCredentialResponse, Response,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = canonical_diff(0x04, data);
    if let Ok(value) = decode_body(data, false) {
        let _ = GetInfoResponse::from_cbor(value.clone());
        let _ = MakeCredentialResponse::from_cbor(value.clone());
        let _ = GetAssertionResponse::from_cbor(value.clone());
        let _ = ClientPinResponse::from_cbor(value.clone());
        let _ = CredentialManagementResponse::from_cbor(value);
    }
    let _ = Apdu::parse(data);
    let _ = RegisterResponse::from_bytes(data);
    let _ = AuthenticateResponse::from_bytes(data);
});
