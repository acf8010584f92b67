//! The commands without parameters: authenticatorGetNextAssertion
//! ([CTAP 2.1 §6.3](https://fidoalliance.org/specs/fido-v2.1-ps-20210615/fido-client-to-authenticator-protocol-v2.1-ps-20210615.html#authenticatorGetNextAssertion)),
//! authenticatorReset ([§6.6](https://fidoalliance.org/specs/fido-v2.1-ps-20210615/fido-client-to-authenticator-protocol-v2.1-ps-20210615.html#authenticatorReset))
//! and authenticatorSelection ([§6.9](https://fidoalliance.org/specs/fido-v2.1-ps-20210615/fido-client-to-authenticator-protocol-v2.1-ps-20210615.html#authenticatorSelection)).
//!
//! Their messages are the command byte alone. A body sent anyway is ignored when decoding.

use crate::cbor::Value;

use super::get_assertion::GetAssertionResponse;
use super::{command, EmptyResponse, Request, StatusCode};

#[cfg(test)]
mod tests;

/// The authenticatorGetNextAssertion request (§6.3): the next of `numberOfCredentials`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GetNextAssertionRequest;

impl Request for GetNextAssertionRequest {
    const CMD: u8 = command::GET_NEXT_ASSERTION;
    type Response = GetAssertionResponse;

    fn to_cbor(&self) -> Option<Value> {
        None
    }

    fn from_cbor(_value: Option<Value>) -> Result<Self, StatusCode> {
        Ok(GetNextAssertionRequest)
    }
}

/// The authenticatorReset request (§6.6): erase all credentials and the PIN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ResetRequest;

impl Request for ResetRequest {
    const CMD: u8 = command::RESET;
    type Response = EmptyResponse;

    fn to_cbor(&self) -> Option<Value> {
        None
    }

    fn from_cbor(_value: Option<Value>) -> Result<Self, StatusCode> {
        Ok(ResetRequest)
    }
}

/// The authenticatorSelection request (§6.9): ask the user to touch this authenticator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SelectionRequest;

impl Request for SelectionRequest {
    const CMD: u8 = command::SELECTION;
    type Response = EmptyResponse;

    fn to_cbor(&self) -> Option<Value> {
        None
    }

    fn from_cbor(_value: Option<Value>) -> Result<Self, StatusCode> {
        Ok(SelectionRequest)
    }
}
