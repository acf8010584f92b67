//! authenticatorGetAssertion ([CTAP 2.1 §6.2](https://fidoalliance.org/specs/fido-v2.1-ps-20210615/fido-client-to-authenticator-protocol-v2.1-ps-20210615.html#authenticatorGetAssertion)).
//! The response type is shared with authenticatorGetNextAssertion (§6.3).

use crate::cbor::{IntMap, Value};

use super::extensions::ExtensionInputs;
use super::make_credential::{
    decode, AuthenticatorOptions, PublicKeyCredentialDescriptor, PublicKeyCredentialUserEntity,
};
use super::{command, fields, Request, Response, StatusCode};

#[cfg(test)]
mod tests;

/// Integer keys of the getAssertion request and response maps (§6.2).
pub mod key {
    /// Request 0x01 `rpId` (text, required).
    pub const RP_ID: i64 = 0x01;
    /// Request 0x02 `clientDataHash` (bytes, required).
    pub const CLIENT_DATA_HASH: i64 = 0x02;
    /// Request 0x03 `allowList` (array).
    pub const ALLOW_LIST: i64 = 0x03;
    /// Request 0x04 `extensions` (map).
    pub const EXTENSIONS: i64 = 0x04;
    /// Request 0x05 `options` (map).
    pub const OPTIONS: i64 = 0x05;
    /// Request 0x06 `pinUvAuthParam` (bytes).
    pub const PIN_UV_AUTH_PARAM: i64 = 0x06;
    /// Request 0x07 `pinUvAuthProtocol` (unsigned).
    pub const PIN_UV_AUTH_PROTOCOL: i64 = 0x07;

    /// Response 0x01 `credential` (descriptor).
    pub const CREDENTIAL: i64 = 0x01;
    /// Response 0x02 `authData` (bytes, required).
    pub const AUTH_DATA: i64 = 0x02;
    /// Response 0x03 `signature` (bytes, required).
    pub const SIGNATURE: i64 = 0x03;
    /// Response 0x04 `user` (user entity).
    pub const USER: i64 = 0x04;
    /// Response 0x05 `numberOfCredentials` (unsigned).
    pub const NUMBER_OF_CREDENTIALS: i64 = 0x05;
    /// Response 0x06 `userSelected` (bool).
    pub const USER_SELECTED: i64 = 0x06;
    /// Response 0x07 `largeBlobKey` (bytes).
    pub const LARGE_BLOB_KEY: i64 = 0x07;
}

/// The authenticatorGetAssertion request (§6.2).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GetAssertionRequest {
    /// The relying party identifier (0x01).
    pub rp_id: String,
    /// Hash of the client data (0x02).
    pub client_data_hash: Vec<u8>,
    /// Credentials the RP accepts, most preferred first (0x03).
    pub allow_list: Option<Vec<PublicKeyCredentialDescriptor>>,
    /// Extension inputs (0x04).
    pub extensions: Option<ExtensionInputs>,
    /// Options (0x05); `rk` is not valid here and is reported as received.
    pub options: Option<AuthenticatorOptions>,
    /// `authenticate(pinUvAuthToken, clientDataHash)` (0x06).
    pub pin_uv_auth_param: Option<Vec<u8>>,
    /// PIN/UV auth protocol version (0x07).
    pub pin_uv_auth_protocol: Option<u64>,
}

impl Request for GetAssertionRequest {
    const CMD: u8 = command::GET_ASSERTION;
    type Response = GetAssertionResponse;

    fn to_cbor(&self) -> Option<Value> {
        Some(
            IntMap::new()
                .insert(key::RP_ID, Value::Text(self.rp_id.clone()))
                .insert(
                    key::CLIENT_DATA_HASH,
                    Value::Bytes(self.client_data_hash.clone()),
                )
                .insert_opt(
                    key::ALLOW_LIST,
                    self.allow_list
                        .as_deref()
                        .map(PublicKeyCredentialDescriptor::list_to_cbor),
                )
                .insert_opt(
                    key::EXTENSIONS,
                    self.extensions.as_ref().map(ExtensionInputs::to_cbor),
                )
                .insert_opt(
                    key::OPTIONS,
                    self.options.as_ref().map(AuthenticatorOptions::to_cbor),
                )
                .insert_opt(
                    key::PIN_UV_AUTH_PARAM,
                    self.pin_uv_auth_param.clone().map(Value::Bytes),
                )
                .insert_opt(key::PIN_UV_AUTH_PROTOCOL, self.pin_uv_auth_protocol)
                .into_value(),
        )
    }

    fn from_cbor(value: Option<Value>) -> Result<Self, StatusCode> {
        let m = decode::top_map(value)?;
        Ok(GetAssertionRequest {
            rp_id: fields::text(fields::required(&m, key::RP_ID)?)?,
            client_data_hash: fields::bytes(fields::required(&m, key::CLIENT_DATA_HASH)?)?,
            allow_list: fields::optional(
                &m,
                key::ALLOW_LIST,
                PublicKeyCredentialDescriptor::list_from_cbor,
            )?,
            extensions: fields::optional(&m, key::EXTENSIONS, ExtensionInputs::from_cbor)?,
            options: fields::optional(&m, key::OPTIONS, AuthenticatorOptions::from_cbor)?,
            pin_uv_auth_param: fields::optional(&m, key::PIN_UV_AUTH_PARAM, fields::bytes)?,
            pin_uv_auth_protocol: fields::optional(&m, key::PIN_UV_AUTH_PROTOCOL, decode::uint)?,
        })
    }
}

/// The authenticatorGetAssertion and authenticatorGetNextAssertion response (§6.2, §6.3).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GetAssertionResponse {
    /// The credential used (0x01). CTAP 2.0 let authenticators omit it when the allowList
    /// held exactly one credential, so it is optional here.
    pub credential: Option<PublicKeyCredentialDescriptor>,
    /// Authenticator data (0x02), raw bytes.
    pub auth_data: Vec<u8>,
    /// Signature over `authData || clientDataHash` (0x03).
    pub signature: Vec<u8>,
    /// The user account (0x04), for discoverable credentials.
    pub user: Option<PublicKeyCredentialUserEntity>,
    /// Number of matching credentials (0x05), in the first response only.
    pub number_of_credentials: Option<u64>,
    /// Whether the user selected the credential on the authenticator (0x06).
    pub user_selected: Option<bool>,
    /// The credential's largeBlobKey (0x07, §12.3).
    pub large_blob_key: Option<Vec<u8>>,
}

impl Response for GetAssertionResponse {
    fn to_cbor(&self) -> Option<Value> {
        Some(
            IntMap::new()
                .insert_opt(
                    key::CREDENTIAL,
                    self.credential
                        .as_ref()
                        .map(PublicKeyCredentialDescriptor::to_cbor),
                )
                .insert(key::AUTH_DATA, Value::Bytes(self.auth_data.clone()))
                .insert(key::SIGNATURE, Value::Bytes(self.signature.clone()))
                .insert_opt(
                    key::USER,
                    self.user
                        .as_ref()
                        .map(PublicKeyCredentialUserEntity::to_cbor),
                )
                .insert_opt(key::NUMBER_OF_CREDENTIALS, self.number_of_credentials)
                .insert_opt(key::USER_SELECTED, self.user_selected)
                .insert_opt(
                    key::LARGE_BLOB_KEY,
                    self.large_blob_key.clone().map(Value::Bytes),
                )
                .into_value(),
        )
    }

    fn from_cbor(value: Option<Value>) -> Result<Self, StatusCode> {
        let m = decode::top_map(value)?;
        Ok(GetAssertionResponse {
            credential: fields::optional(
                &m,
                key::CREDENTIAL,
                PublicKeyCredentialDescriptor::from_cbor,
            )?,
            auth_data: fields::bytes(fields::required(&m, key::AUTH_DATA)?)?,
            signature: fields::bytes(fields::required(&m, key::SIGNATURE)?)?,
            user: fields::optional(&m, key::USER, PublicKeyCredentialUserEntity::from_cbor)?,
            number_of_credentials: fields::optional(&m, key::NUMBER_OF_CREDENTIALS, decode::uint)?,
            user_selected: fields::optional(&m, key::USER_SELECTED, fields::boolean)?,
            large_blob_key: fields::optional(&m, key::LARGE_BLOB_KEY, fields::bytes)?,
        })
    }
}
