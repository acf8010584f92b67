//! CTAP2 messages ([CTAP 2.1 §6 "Authenticator API"](https://fidoalliance.org/specs/fido-v2.1-ps-20210615/fido-client-to-authenticator-protocol-v2.1-ps-20210615.html#authenticator-api)),
//! one request type and one response type per command, shared by the client
//! ([`crate::transport`]) and the software authenticator, so the two sides cannot drift.
//!
//! Every type encodes to canonical CBOR (`to_cbor`) and decodes from CBOR (`from_cbor`),
//! skipping unknown map keys as the spec requires. Decoding failures are [`StatusCode`]s, the
//! exact status an authenticator answers with (`CTAP2_ERR_MISSING_PARAMETER`,
//! `CTAP2_ERR_CBOR_UNEXPECTED_TYPE`, `CTAP2_ERR_INVALID_CBOR`, ...).

pub mod client;
pub mod status;

pub use status::StatusCode;

use crate::cbor::{self, DecodeOptions, Value};

/// Command bytes (§6).
pub mod command {
    /// authenticatorMakeCredential.
    pub const MAKE_CREDENTIAL: u8 = 0x01;
    /// authenticatorGetAssertion.
    pub const GET_ASSERTION: u8 = 0x02;
    /// authenticatorGetInfo.
    pub const GET_INFO: u8 = 0x04;
    /// authenticatorClientPIN.
    pub const CLIENT_PIN: u8 = 0x06;
    /// authenticatorReset.
    pub const RESET: u8 = 0x07;
    /// authenticatorGetNextAssertion.
    pub const GET_NEXT_ASSERTION: u8 = 0x08;
    /// authenticatorCredentialManagement.
    pub const CREDENTIAL_MANAGEMENT: u8 = 0x0a;
    /// authenticatorSelection.
    pub const SELECTION: u8 = 0x0b;
    /// authenticatorLargeBlobs.
    pub const LARGE_BLOBS: u8 = 0x0c;
    /// authenticatorConfig.
    pub const CONFIG: u8 = 0x0d;
    /// Prototype credential management (CTAP 2.1-PRE), still sent by some platforms.
    pub const CREDENTIAL_MANAGEMENT_PRE: u8 = 0x41;
}

/// A CTAP2 request, tied to its command byte and response type.
pub trait Request {
    /// The command byte.
    const CMD: u8;
    /// The response type.
    type Response: Response;
    /// The request parameters as CBOR (`None` for commands without parameters).
    fn to_cbor(&self) -> Option<Value>;
    /// Decodes the parameters (authenticator side).
    fn from_cbor(value: Option<Value>) -> Result<Self, StatusCode>
    where
        Self: Sized;
}

/// A CTAP2 response body.
pub trait Response: Sized {
    /// The response body as CBOR (`None` for an empty body).
    fn to_cbor(&self) -> Option<Value>;
    /// Decodes the body (client side).
    fn from_cbor(value: Option<Value>) -> Result<Self, StatusCode>;
}

/// The empty response of reset, selection and some clientPIN subcommands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EmptyResponse;

impl Response for EmptyResponse {
    fn to_cbor(&self) -> Option<Value> {
        None
    }
    fn from_cbor(_value: Option<Value>) -> Result<Self, StatusCode> {
        Ok(EmptyResponse)
    }
}

/// Encodes a request as the CTAP2 message body: command byte, then canonical CBOR.
pub fn encode_request<R: Request>(request: &R) -> Vec<u8> {
    let mut out = vec![R::CMD];
    if let Some(v) = request.to_cbor() {
        // Requests are built from integers, strings, bytes, maps and arrays only.
        let _ = cbor::encode_into(&v, &mut out);
    }
    out
}

/// Decodes a CBOR body (after the status or command byte); empty means no parameters.
/// `canonical` applies CTAP2 canonical-form checks.
pub fn decode_body(body: &[u8], canonical: bool) -> Result<Option<Value>, StatusCode> {
    if body.is_empty() {
        return Ok(None);
    }
    let options = if canonical {
        DecodeOptions::CANONICAL
    } else {
        DecodeOptions::STRUCTURAL
    };
    cbor::decode(body, options)
        .map(Some)
        .map_err(|_| StatusCode::INVALID_CBOR)
}

/// Helpers for reading integer-keyed CBOR maps into typed fields.
pub mod fields {
    use super::StatusCode;
    use crate::cbor::{MapExt as _, Value};

    /// The value as a map, or CTAP2_ERR_CBOR_UNEXPECTED_TYPE.
    pub fn map(value: Value) -> Result<Vec<(Value, Value)>, StatusCode> {
        match value {
            Value::Map(m) => Ok(m),
            _ => Err(StatusCode::CBOR_UNEXPECTED_TYPE),
        }
    }
    /// A required member, or CTAP2_ERR_MISSING_PARAMETER.
    pub fn required(m: &[(Value, Value)], key: i64) -> Result<&Value, StatusCode> {
        m.get_int(key).ok_or(StatusCode::MISSING_PARAMETER)
    }
    /// Bytes, or CTAP2_ERR_CBOR_UNEXPECTED_TYPE.
    pub fn bytes(v: &Value) -> Result<Vec<u8>, StatusCode> {
        match v {
            Value::Bytes(b) => Ok(b.clone()),
            _ => Err(StatusCode::CBOR_UNEXPECTED_TYPE),
        }
    }
    /// Text, or CTAP2_ERR_CBOR_UNEXPECTED_TYPE.
    pub fn text(v: &Value) -> Result<String, StatusCode> {
        match v {
            Value::Text(t) => Ok(t.clone()),
            _ => Err(StatusCode::CBOR_UNEXPECTED_TYPE),
        }
    }
    /// An integer in i64 range, or CTAP2_ERR_CBOR_UNEXPECTED_TYPE.
    pub fn int(v: &Value) -> Result<i64, StatusCode> {
        match v {
            Value::Integer(i) => i64::try_from(*i).map_err(|_| StatusCode::CBOR_UNEXPECTED_TYPE),
            _ => Err(StatusCode::CBOR_UNEXPECTED_TYPE),
        }
    }
    /// A boolean, or CTAP2_ERR_CBOR_UNEXPECTED_TYPE.
    pub fn boolean(v: &Value) -> Result<bool, StatusCode> {
        match v {
            Value::Bool(b) => Ok(*b),
            _ => Err(StatusCode::CBOR_UNEXPECTED_TYPE),
        }
    }
    /// An array, or CTAP2_ERR_CBOR_UNEXPECTED_TYPE.
    pub fn array(v: &Value) -> Result<&[Value], StatusCode> {
        match v {
            Value::Array(a) => Ok(a),
            _ => Err(StatusCode::CBOR_UNEXPECTED_TYPE),
        }
    }
    /// Optional member through a converter.
    pub fn optional<T>(
        m: &[(Value, Value)],
        key: i64,
        f: impl Fn(&Value) -> Result<T, StatusCode>,
    ) -> Result<Option<T>, StatusCode> {
        m.get_int(key).map(f).transpose()
    }
}

pub mod client_pin;
pub mod pin_protocol;

pub use client_pin::{ClientPinRequest, ClientPinResponse, ClientPinSubCommand};
pub use pin_protocol::{EcdhPublicKey, KeyAgreementKey, PinProtocolError, PinUvAuthProtocol};

pub mod credential_management;
pub mod extensions;
pub mod get_assertion;
pub mod get_info;
pub mod make_credential;
pub mod simple;

pub use credential_management::{
    CredentialManagementParams, CredentialManagementRequest, CredentialManagementResponse,
    CredentialManagementSubCommand,
};
pub use extensions::{
    CredBlobInput, CredBlobOutput, CredProtect, ExtensionInputs, ExtensionOutputs,
    HmacSecretGetInput, HmacSecretInput, HmacSecretOutput,
};
pub use get_assertion::{GetAssertionRequest, GetAssertionResponse};
pub use get_info::{GetInfoRequest, GetInfoResponse};
pub use make_credential::{
    AuthenticatorOptions, MakeCredentialRequest, MakeCredentialResponse,
    PublicKeyCredentialDescriptor, PublicKeyCredentialParameters, PublicKeyCredentialRpEntity,
    PublicKeyCredentialUserEntity,
};
pub use simple::{GetNextAssertionRequest, ResetRequest, SelectionRequest};
