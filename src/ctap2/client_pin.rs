//! authenticatorClientPIN (0x06)
//! ([CTAP 2.1 §6.5.5](https://fidoalliance.org/specs/fido-v2.1-ps-20210615/fido-client-to-authenticator-protocol-v2.1-ps-20210615.html#authenticatorClientPIN)):
//! the request and response messages, the platform-side builders that do the PIN/UV auth
//! protocol crypto ([`set_pin`], [`change_pin`], [`get_pin_token`],
//! [`get_pin_uv_auth_token_using_pin_with_permissions`], [`decrypt_token`], ...), and the
//! authenticator-side checks the software authenticator calls ([`decrypt_new_pin`],
//! [`verify_pin_hash`]).
//!
//! The request keeps `pinUvAuthProtocol` as the raw number and unknown subcommands as
//! [`ClientPinSubCommand::Other`], so that the authenticator can answer with the status of
//! the spec's step order ([`ClientPinRequest::protocol`]).

use aws_lc_rs::{constant_time, digest};

use super::pin_protocol::{EcdhPublicKey, PinProtocolError, PinUvAuthProtocol};
use super::{command, fields, Request, Response, StatusCode};
use crate::cbor::{IntMap, Value};

#[cfg(test)]
mod tests;

/// Minimum PIN length in Unicode code points unless authenticatorConfig raised it (§6.5.1).
pub const DEFAULT_MIN_PIN_LENGTH: usize = 4;
/// Maximum PIN length in UTF-8 bytes (§6.5.1).
pub const MAX_PIN_BYTES: usize = 63;
/// Length of paddedNewPin: the PIN padded on the right with zeros (§6.5.5.5).
pub const PADDED_PIN_LEN: usize = 64;
/// Length of LEFT(SHA-256(PIN), 16), the stored and transmitted PIN hash (§6.5.5.5 step 12).
pub const PIN_HASH_LEN: usize = 16;

/// pinUvAuthToken permission bits (§6.5.5.7 "permissions").
pub mod permission {
    /// mc: authenticatorMakeCredential.
    pub const MAKE_CREDENTIAL: u64 = 0x01;
    /// ga: authenticatorGetAssertion.
    pub const GET_ASSERTION: u64 = 0x02;
    /// cm: authenticatorCredentialManagement.
    pub const CREDENTIAL_MANAGEMENT: u64 = 0x04;
    /// be: authenticatorBioEnrollment.
    pub const BIO_ENROLLMENT: u64 = 0x08;
    /// lbw: authenticatorLargeBlobs write.
    pub const LARGE_BLOB_WRITE: u64 = 0x10;
    /// acfg: authenticatorConfig.
    pub const AUTHENTICATOR_CONFIGURATION: u64 = 0x20;
}

/// Request map keys (§6.5.5).
mod key {
    pub const PIN_UV_AUTH_PROTOCOL: i64 = 0x01;
    pub const SUB_COMMAND: i64 = 0x02;
    pub const KEY_AGREEMENT: i64 = 0x03;
    pub const PIN_UV_AUTH_PARAM: i64 = 0x04;
    pub const NEW_PIN_ENC: i64 = 0x05;
    pub const PIN_HASH_ENC: i64 = 0x06;
    pub const PERMISSIONS: i64 = 0x09;
    pub const RP_ID: i64 = 0x0a;
}

/// Response map keys (§6.5.5).
mod response_key {
    pub const KEY_AGREEMENT: i64 = 0x01;
    pub const PIN_UV_AUTH_TOKEN: i64 = 0x02;
    pub const PIN_RETRIES: i64 = 0x03;
    pub const POWER_CYCLE_STATE: i64 = 0x04;
    pub const UV_RETRIES: i64 = 0x05;
}

/// The clientPIN subcommand (§6.5.5 `subCommand`). Values without a name are kept as `Other`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ClientPinSubCommand {
    /// getPINRetries (0x01).
    GetPinRetries,
    /// getKeyAgreement (0x02).
    GetKeyAgreement,
    /// setPIN (0x03).
    SetPin,
    /// changePIN (0x04).
    ChangePin,
    /// getPinToken (0x05), the CTAP 2.0 token without permissions.
    GetPinToken,
    /// getPinUvAuthTokenUsingUvWithPermissions (0x06).
    GetPinUvAuthTokenUsingUvWithPermissions,
    /// getUVRetries (0x07).
    GetUvRetries,
    /// getPinUvAuthTokenUsingPinWithPermissions (0x09).
    GetPinUvAuthTokenUsingPinWithPermissions,
    /// Any other value (0x08, 0x0a and up), answered with CTAP2_ERR_INVALID_SUBCOMMAND.
    Other(u8),
}

impl From<u8> for ClientPinSubCommand {
    fn from(v: u8) -> Self {
        use ClientPinSubCommand::*;
        match v {
            0x01 => GetPinRetries,
            0x02 => GetKeyAgreement,
            0x03 => SetPin,
            0x04 => ChangePin,
            0x05 => GetPinToken,
            0x06 => GetPinUvAuthTokenUsingUvWithPermissions,
            0x07 => GetUvRetries,
            0x09 => GetPinUvAuthTokenUsingPinWithPermissions,
            other => Other(other),
        }
    }
}

impl From<ClientPinSubCommand> for u8 {
    fn from(s: ClientPinSubCommand) -> u8 {
        use ClientPinSubCommand::*;
        match s {
            GetPinRetries => 0x01,
            GetKeyAgreement => 0x02,
            SetPin => 0x03,
            ChangePin => 0x04,
            GetPinToken => 0x05,
            GetPinUvAuthTokenUsingUvWithPermissions => 0x06,
            GetUvRetries => 0x07,
            GetPinUvAuthTokenUsingPinWithPermissions => 0x09,
            Other(v) => v,
        }
    }
}

/// The authenticatorClientPIN request parameters (§6.5.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientPinRequest {
    /// 0x01 pinUvAuthProtocol, as sent (see [`ClientPinRequest::protocol`]).
    pub pin_uv_auth_protocol: Option<u64>,
    /// 0x02 subCommand (required).
    pub sub_command: ClientPinSubCommand,
    /// 0x03 keyAgreement: the platform's key agreement key.
    pub key_agreement: Option<EcdhPublicKey>,
    /// 0x04 pinUvAuthParam: `authenticate` over the encrypted fields.
    pub pin_uv_auth_param: Option<Vec<u8>>,
    /// 0x05 newPinEnc: the encrypted, padded new PIN.
    pub new_pin_enc: Option<Vec<u8>>,
    /// 0x06 pinHashEnc: the encrypted LEFT(SHA-256(PIN), 16).
    pub pin_hash_enc: Option<Vec<u8>>,
    /// 0x09 permissions: [`permission`] bits.
    pub permissions: Option<u64>,
    /// 0x0a rpId: the RP ID the permissions are bound to.
    pub rp_id: Option<String>,
}

impl ClientPinRequest {
    /// A request with only `subCommand` set (§6.5.5).
    pub fn new(sub_command: ClientPinSubCommand) -> Self {
        ClientPinRequest {
            pin_uv_auth_protocol: None,
            sub_command,
            key_agreement: None,
            pin_uv_auth_param: None,
            new_pin_enc: None,
            pin_hash_enc: None,
            permissions: None,
            rp_id: None,
        }
    }

    /// The protocol, for subcommands that require it: CTAP2_ERR_MISSING_PARAMETER when absent,
    /// CTAP1_ERR_INVALID_PARAMETER when not 1 or 2 (§6.5.5.5 steps 1-2 and their counterparts).
    pub fn protocol(&self) -> Result<PinUvAuthProtocol, StatusCode> {
        let value = self
            .pin_uv_auth_protocol
            .ok_or(StatusCode::MISSING_PARAMETER)?;
        PinUvAuthProtocol::try_from(value).map_err(|e| e.to_status())
    }
}

/// An unsigned integer, or CTAP2_ERR_CBOR_UNEXPECTED_TYPE.
fn uint(v: &Value) -> Result<u64, StatusCode> {
    match v {
        Value::Integer(i) => u64::try_from(*i).map_err(|_| StatusCode::CBOR_UNEXPECTED_TYPE),
        _ => Err(StatusCode::CBOR_UNEXPECTED_TYPE),
    }
}

/// A key agreement COSE_Key, or the status of what is wrong with it.
fn ecdh_key(v: &Value) -> Result<EcdhPublicKey, StatusCode> {
    EcdhPublicKey::from_cose_value(v).map_err(|e| e.to_status())
}

impl Request for ClientPinRequest {
    const CMD: u8 = command::CLIENT_PIN;
    type Response = ClientPinResponse;

    fn to_cbor(&self) -> Option<Value> {
        Some(
            IntMap::new()
                .insert_opt(key::PIN_UV_AUTH_PROTOCOL, self.pin_uv_auth_protocol)
                .insert(key::SUB_COMMAND, u8::from(self.sub_command))
                .insert_opt(
                    key::KEY_AGREEMENT,
                    self.key_agreement
                        .as_ref()
                        .map(EcdhPublicKey::to_cose_value),
                )
                .insert_opt(
                    key::PIN_UV_AUTH_PARAM,
                    self.pin_uv_auth_param.clone().map(Value::Bytes),
                )
                .insert_opt(key::NEW_PIN_ENC, self.new_pin_enc.clone().map(Value::Bytes))
                .insert_opt(
                    key::PIN_HASH_ENC,
                    self.pin_hash_enc.clone().map(Value::Bytes),
                )
                .insert_opt(key::PERMISSIONS, self.permissions)
                .insert_opt(key::RP_ID, self.rp_id.clone().map(Value::Text))
                .into_value(),
        )
    }

    fn from_cbor(value: Option<Value>) -> Result<Self, StatusCode> {
        let m = fields::map(value.ok_or(StatusCode::MISSING_PARAMETER)?)?;
        let sub_command = uint(fields::required(&m, key::SUB_COMMAND)?)?;
        let sub_command = u8::try_from(sub_command)
            .map(ClientPinSubCommand::from)
            .map_err(|_| StatusCode::INVALID_SUBCOMMAND)?;
        Ok(ClientPinRequest {
            pin_uv_auth_protocol: fields::optional(&m, key::PIN_UV_AUTH_PROTOCOL, uint)?,
            sub_command,
            key_agreement: fields::optional(&m, key::KEY_AGREEMENT, ecdh_key)?,
            pin_uv_auth_param: fields::optional(&m, key::PIN_UV_AUTH_PARAM, fields::bytes)?,
            new_pin_enc: fields::optional(&m, key::NEW_PIN_ENC, fields::bytes)?,
            pin_hash_enc: fields::optional(&m, key::PIN_HASH_ENC, fields::bytes)?,
            permissions: fields::optional(&m, key::PERMISSIONS, uint)?,
            rp_id: fields::optional(&m, key::RP_ID, fields::text)?,
        })
    }
}

/// The authenticatorClientPIN response (§6.5.5); all members absent is the empty body of
/// setPIN and changePIN.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClientPinResponse {
    /// 0x01 keyAgreement: the authenticator's key agreement key (getKeyAgreement).
    pub key_agreement: Option<EcdhPublicKey>,
    /// 0x02 pinUvAuthToken, encrypted with the shared secret (see [`decrypt_token`]).
    pub pin_uv_auth_token: Option<Vec<u8>>,
    /// 0x03 pinRetries (getPINRetries).
    pub pin_retries: Option<u64>,
    /// 0x04 powerCycleState: a power cycle is needed before the next PIN attempt.
    pub power_cycle_state: Option<bool>,
    /// 0x05 uvRetries (getUVRetries).
    pub uv_retries: Option<u64>,
}

impl Response for ClientPinResponse {
    fn to_cbor(&self) -> Option<Value> {
        if *self == ClientPinResponse::default() {
            return None;
        }
        Some(
            IntMap::new()
                .insert_opt(
                    response_key::KEY_AGREEMENT,
                    self.key_agreement
                        .as_ref()
                        .map(EcdhPublicKey::to_cose_value),
                )
                .insert_opt(
                    response_key::PIN_UV_AUTH_TOKEN,
                    self.pin_uv_auth_token.clone().map(Value::Bytes),
                )
                .insert_opt(response_key::PIN_RETRIES, self.pin_retries)
                .insert_opt(response_key::POWER_CYCLE_STATE, self.power_cycle_state)
                .insert_opt(response_key::UV_RETRIES, self.uv_retries)
                .into_value(),
        )
    }

    fn from_cbor(value: Option<Value>) -> Result<Self, StatusCode> {
        let Some(value) = value else {
            return Ok(ClientPinResponse::default());
        };
        let m = fields::map(value)?;
        Ok(ClientPinResponse {
            key_agreement: fields::optional(&m, response_key::KEY_AGREEMENT, ecdh_key)?,
            pin_uv_auth_token: fields::optional(
                &m,
                response_key::PIN_UV_AUTH_TOKEN,
                fields::bytes,
            )?,
            pin_retries: fields::optional(&m, response_key::PIN_RETRIES, uint)?,
            power_cycle_state: fields::optional(
                &m,
                response_key::POWER_CYCLE_STATE,
                fields::boolean,
            )?,
            uv_retries: fields::optional(&m, response_key::UV_RETRIES, uint)?,
        })
    }
}

/// LEFT(SHA-256(pin), 16), the PIN hash stored by the authenticator and sent encrypted as
/// pinHashEnc (§6.5.5.5 step 12, §6.5.5.7.1).
pub fn pin_hash(pin: &str) -> [u8; PIN_HASH_LEN] {
    let mut out = [0u8; PIN_HASH_LEN];
    out.copy_from_slice(&digest::digest(&digest::SHA256, pin.as_bytes()).as_ref()[..PIN_HASH_LEN]);
    out
}

/// Checks the PIN composition rules of §6.5.1 (at least 4 code points, at most 63 bytes) and
/// pads the PIN with zeros to 64 bytes (§6.5.5.5 platform step).
fn padded_pin(pin: &str) -> Result<[u8; PADDED_PIN_LEN], PinProtocolError> {
    let code_points = pin.chars().count();
    if code_points < DEFAULT_MIN_PIN_LENGTH {
        return Err(PinProtocolError::PinTooShort { code_points });
    }
    if pin.len() > MAX_PIN_BYTES {
        return Err(PinProtocolError::PinTooLong { bytes: pin.len() });
    }
    let mut out = [0u8; PADDED_PIN_LEN];
    out[..pin.len()].copy_from_slice(pin.as_bytes());
    Ok(out)
}

/// A request that carries the protocol and the platform key agreement key (§6.5.5).
fn keyed_request(
    sub_command: ClientPinSubCommand,
    protocol: PinUvAuthProtocol,
    platform_key: &EcdhPublicKey,
) -> ClientPinRequest {
    ClientPinRequest {
        pin_uv_auth_protocol: Some(u64::from(protocol)),
        key_agreement: Some(platform_key.clone()),
        ..ClientPinRequest::new(sub_command)
    }
}

/// getPINRetries; the protocol is sent too, since CTAP 2.0 authenticators require it (§6.5.5).
pub fn get_pin_retries(protocol: PinUvAuthProtocol) -> ClientPinRequest {
    ClientPinRequest {
        pin_uv_auth_protocol: Some(u64::from(protocol)),
        ..ClientPinRequest::new(ClientPinSubCommand::GetPinRetries)
    }
}

/// getKeyAgreement: asks for the authenticator's key agreement key (§6.5.5).
pub fn get_key_agreement(protocol: PinUvAuthProtocol) -> ClientPinRequest {
    ClientPinRequest {
        pin_uv_auth_protocol: Some(u64::from(protocol)),
        ..ClientPinRequest::new(ClientPinSubCommand::GetKeyAgreement)
    }
}

/// getUVRetries (§6.5.5).
pub fn get_uv_retries() -> ClientPinRequest {
    ClientPinRequest::new(ClientPinSubCommand::GetUvRetries)
}

/// setPIN: newPinEnc = encrypt(shared, PIN padded to 64 bytes), pinUvAuthParam =
/// authenticate(shared, newPinEnc) (§6.5.5.5). `shared` and `platform_key` come from
/// [`PinUvAuthProtocol::encapsulate`].
pub fn set_pin(
    protocol: PinUvAuthProtocol,
    shared: &[u8],
    platform_key: &EcdhPublicKey,
    pin: &str,
) -> Result<ClientPinRequest, PinProtocolError> {
    let new_pin_enc = protocol.encrypt(shared, &padded_pin(pin)?)?;
    let pin_uv_auth_param = protocol.authenticate(shared, &new_pin_enc);
    Ok(ClientPinRequest {
        pin_uv_auth_param: Some(pin_uv_auth_param),
        new_pin_enc: Some(new_pin_enc),
        ..keyed_request(ClientPinSubCommand::SetPin, protocol, platform_key)
    })
}

/// changePIN: pinHashEnc = encrypt(shared, LEFT(SHA-256(current), 16)), newPinEnc as in
/// setPIN, pinUvAuthParam = authenticate(shared, newPinEnc || pinHashEnc) (§6.5.5.6).
pub fn change_pin(
    protocol: PinUvAuthProtocol,
    shared: &[u8],
    platform_key: &EcdhPublicKey,
    current_pin: &str,
    new_pin: &str,
) -> Result<ClientPinRequest, PinProtocolError> {
    let new_pin_enc = protocol.encrypt(shared, &padded_pin(new_pin)?)?;
    let pin_hash_enc = protocol.encrypt(shared, &pin_hash(current_pin))?;
    let pin_uv_auth_param =
        protocol.authenticate(shared, &[new_pin_enc.as_slice(), &pin_hash_enc].concat());
    Ok(ClientPinRequest {
        pin_uv_auth_param: Some(pin_uv_auth_param),
        new_pin_enc: Some(new_pin_enc),
        pin_hash_enc: Some(pin_hash_enc),
        ..keyed_request(ClientPinSubCommand::ChangePin, protocol, platform_key)
    })
}

/// getPinToken (CTAP 2.0 style, no permissions): pinHashEnc = encrypt(shared,
/// LEFT(SHA-256(pin), 16)) (§6.5.5.7.1).
pub fn get_pin_token(
    protocol: PinUvAuthProtocol,
    shared: &[u8],
    platform_key: &EcdhPublicKey,
    pin: &str,
) -> Result<ClientPinRequest, PinProtocolError> {
    Ok(ClientPinRequest {
        pin_hash_enc: Some(protocol.encrypt(shared, &pin_hash(pin))?),
        ..keyed_request(ClientPinSubCommand::GetPinToken, protocol, platform_key)
    })
}

/// getPinUvAuthTokenUsingPinWithPermissions: pinHashEnc as in getPinToken, plus the
/// [`permission`] bits and the RP ID they are bound to (§6.5.5.7.2).
pub fn get_pin_uv_auth_token_using_pin_with_permissions(
    protocol: PinUvAuthProtocol,
    shared: &[u8],
    platform_key: &EcdhPublicKey,
    pin: &str,
    permissions: u64,
    rp_id: Option<&str>,
) -> Result<ClientPinRequest, PinProtocolError> {
    Ok(ClientPinRequest {
        pin_hash_enc: Some(protocol.encrypt(shared, &pin_hash(pin))?),
        permissions: Some(permissions),
        rp_id: rp_id.map(str::to_owned),
        ..keyed_request(
            ClientPinSubCommand::GetPinUvAuthTokenUsingPinWithPermissions,
            protocol,
            platform_key,
        )
    })
}

/// getPinUvAuthTokenUsingUvWithPermissions: built-in user verification instead of a PIN; the
/// token still comes back encrypted with the shared secret (§6.5.5.7.3).
pub fn get_pin_uv_auth_token_using_uv_with_permissions(
    protocol: PinUvAuthProtocol,
    platform_key: &EcdhPublicKey,
    permissions: u64,
    rp_id: Option<&str>,
) -> ClientPinRequest {
    ClientPinRequest {
        permissions: Some(permissions),
        rp_id: rp_id.map(str::to_owned),
        ..keyed_request(
            ClientPinSubCommand::GetPinUvAuthTokenUsingUvWithPermissions,
            protocol,
            platform_key,
        )
    }
}

/// The pinUvAuthToken from the response's encrypted token: decrypt(shared, pinUvAuthToken)
/// (§6.5.5.7.1 platform steps).
pub fn decrypt_token(
    protocol: PinUvAuthProtocol,
    shared: &[u8],
    pin_uv_auth_token: &[u8],
) -> Result<Vec<u8>, PinProtocolError> {
    protocol.decrypt(shared, pin_uv_auth_token)
}

/// Authenticator side of setPIN/changePIN after pinUvAuthParam is verified: decrypts
/// newPinEnc (error: CTAP2_ERR_PIN_AUTH_INVALID), requires 64 padded bytes
/// (CTAP1_ERR_INVALID_PARAMETER), strips trailing zeros and applies §6.5.1 (at least
/// `max(min_pin_length, 4)` code points, at most 63 bytes, UTF-8; else
/// CTAP2_ERR_PIN_POLICY_VIOLATION) (§6.5.5.5 steps 6-10).
pub fn decrypt_new_pin(
    protocol: PinUvAuthProtocol,
    shared: &[u8],
    new_pin_enc: &[u8],
    min_pin_length: usize,
) -> Result<String, StatusCode> {
    // Step 6: decrypt(shared secret, newPinEnc); an error is CTAP2_ERR_PIN_AUTH_INVALID.
    let padded = protocol
        .decrypt(shared, new_pin_enc)
        .map_err(|_| StatusCode::PIN_AUTH_INVALID)?;
    // Step 7: paddedNewPin must be 64 bytes.
    if padded.len() != PADDED_PIN_LEN {
        return Err(StatusCode::INVALID_PARAMETER);
    }
    // Step 8: drop all trailing 0x00 bytes.
    let len = padded.iter().rposition(|b| *b != 0).map_or(0, |i| i + 1);
    // Step 10 (additional constraints): at most 63 bytes, and valid UTF-8 so that the length
    // in code points is defined.
    if len > MAX_PIN_BYTES {
        return Err(StatusCode::PIN_POLICY_VIOLATION);
    }
    let pin = std::str::from_utf8(&padded[..len]).map_err(|_| StatusCode::PIN_POLICY_VIOLATION)?;
    // Step 9: the minimum length, in code points.
    if pin.chars().count() < min_pin_length.max(DEFAULT_MIN_PIN_LENGTH) {
        return Err(StatusCode::PIN_POLICY_VIOLATION);
    }
    Ok(pin.to_owned())
}

/// Authenticator side of changePIN/getPinToken: true when decrypt(shared, pinHashEnc) equals
/// the stored LEFT(SHA-256(PIN), 16), compared in constant time. False on a decryption error
/// too, which the spec treats as a mismatch (§6.5.5.6 step 7, §6.5.5.7.1). Retry counting
/// and `regenerate` are the caller's.
pub fn verify_pin_hash(
    protocol: PinUvAuthProtocol,
    shared: &[u8],
    pin_hash_enc: &[u8],
    stored_pin_hash: &[u8; PIN_HASH_LEN],
) -> bool {
    match protocol.decrypt(shared, pin_hash_enc) {
        Ok(candidate) => {
            constant_time::verify_slices_are_equal(&candidate, stored_pin_hash).is_ok()
        }
        Err(_) => false,
    }
}
