//! authenticatorGetInfo ([CTAP 2.1 §6.4](https://fidoalliance.org/specs/fido-v2.1-ps-20210615/fido-client-to-authenticator-protocol-v2.1-ps-20210615.html#authenticatorGetInfo)).

use crate::cbor::{IntMap, Value};
use crate::webauthn::auth_data::Aaguid;

use super::make_credential::{decode, PublicKeyCredentialParameters};
use super::{command, fields, Request, Response, StatusCode};

#[cfg(test)]
mod tests;

/// Integer keys of the getInfo response map (§6.4).
pub mod key {
    /// 0x01 `versions` (array of text, required).
    pub const VERSIONS: i64 = 0x01;
    /// 0x02 `extensions` (array of text).
    pub const EXTENSIONS: i64 = 0x02;
    /// 0x03 `aaguid` (16 bytes, required).
    pub const AAGUID: i64 = 0x03;
    /// 0x04 `options` (map of text to bool).
    pub const OPTIONS: i64 = 0x04;
    /// 0x05 `maxMsgSize` (unsigned).
    pub const MAX_MSG_SIZE: i64 = 0x05;
    /// 0x06 `pinUvAuthProtocols` (array of unsigned).
    pub const PIN_UV_AUTH_PROTOCOLS: i64 = 0x06;
    /// 0x07 `maxCredentialCountInList` (unsigned).
    pub const MAX_CREDENTIAL_COUNT_IN_LIST: i64 = 0x07;
    /// 0x08 `maxCredentialIdLength` (unsigned).
    pub const MAX_CREDENTIAL_ID_LENGTH: i64 = 0x08;
    /// 0x09 `transports` (array of text).
    pub const TRANSPORTS: i64 = 0x09;
    /// 0x0a `algorithms` (array of PublicKeyCredentialParameters).
    pub const ALGORITHMS: i64 = 0x0a;
    /// 0x0b `maxSerializedLargeBlobArray` (unsigned).
    pub const MAX_SERIALIZED_LARGE_BLOB_ARRAY: i64 = 0x0b;
    /// 0x0c `forcePINChange` (bool).
    pub const FORCE_PIN_CHANGE: i64 = 0x0c;
    /// 0x0d `minPINLength` (unsigned).
    pub const MIN_PIN_LENGTH: i64 = 0x0d;
    /// 0x0e `firmwareVersion` (unsigned).
    pub const FIRMWARE_VERSION: i64 = 0x0e;
    /// 0x0f `maxCredBlobLength` (unsigned).
    pub const MAX_CRED_BLOB_LENGTH: i64 = 0x0f;
    /// 0x10 `maxRPIDsForSetMinPINLength` (unsigned).
    pub const MAX_RP_IDS_FOR_SET_MIN_PIN_LENGTH: i64 = 0x10;
    /// 0x11 `preferredPlatformUvAttempts` (unsigned).
    pub const PREFERRED_PLATFORM_UV_ATTEMPTS: i64 = 0x11;
    /// 0x12 `uvModality` (unsigned bit field).
    pub const UV_MODALITY: i64 = 0x12;
    /// 0x13 `certifications` (map).
    pub const CERTIFICATIONS: i64 = 0x13;
    /// 0x14 `remainingDiscoverableCredentials` (unsigned).
    pub const REMAINING_DISCOVERABLE_CREDENTIALS: i64 = 0x14;
    /// 0x15 `vendorPrototypeConfigCommands` (array of unsigned).
    pub const VENDOR_PROTOTYPE_CONFIG_COMMANDS: i64 = 0x15;
}

/// Protocol version strings of `versions` (§6.4).
pub mod version {
    /// CTAP1/U2F.
    pub const U2F_V2: &str = "U2F_V2";
    /// CTAP 2.0.
    pub const FIDO_2_0: &str = "FIDO_2_0";
    /// CTAP 2.1 pre-release (prototype commands).
    pub const FIDO_2_1_PRE: &str = "FIDO_2_1_PRE";
    /// CTAP 2.1.
    pub const FIDO_2_1: &str = "FIDO_2_1";
}

/// The authenticatorGetInfo request (§6.4): no parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GetInfoRequest;

impl Request for GetInfoRequest {
    const CMD: u8 = command::GET_INFO;
    type Response = GetInfoResponse;

    fn to_cbor(&self) -> Option<Value> {
        None
    }

    fn from_cbor(_value: Option<Value>) -> Result<Self, StatusCode> {
        Ok(GetInfoRequest)
    }
}

/// The authenticatorGetInfo response (§6.4). Optional members the authenticator left out
/// are `None`, distinct from an empty list.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GetInfoResponse {
    /// Supported protocol versions (0x01), see [`version`].
    pub versions: Vec<String>,
    /// Supported extension identifiers (0x02).
    pub extensions: Option<Vec<String>>,
    /// The authenticator model (0x03).
    pub aaguid: Aaguid,
    /// Options (0x04) in the order received, so that a non-canonical answer is reported
    /// faithfully; encoding sorts them canonically.
    pub options: Option<Vec<(String, bool)>>,
    /// Largest message the authenticator accepts (0x05).
    pub max_msg_size: Option<u64>,
    /// Supported PIN/UV auth protocols, most preferred first (0x06).
    pub pin_uv_auth_protocols: Option<Vec<u64>>,
    /// Largest allowList/excludeList (0x07).
    pub max_credential_count_in_list: Option<u64>,
    /// Longest credential ID (0x08).
    pub max_credential_id_length: Option<u64>,
    /// Supported transports (0x09).
    pub transports: Option<Vec<String>>,
    /// Supported algorithms, most preferred first (0x0a); entries of unknown type are skipped.
    pub algorithms: Option<Vec<PublicKeyCredentialParameters>>,
    /// Largest serialized large-blob array (0x0b).
    pub max_serialized_large_blob_array: Option<u64>,
    /// Whether the PIN must be changed before use (0x0c).
    pub force_pin_change: Option<bool>,
    /// Current minimum PIN length in code points (0x0d).
    pub min_pin_length: Option<u64>,
    /// Firmware version (0x0e).
    pub firmware_version: Option<u64>,
    /// Longest credBlob (0x0f).
    pub max_cred_blob_length: Option<u64>,
    /// Most RP IDs setMinPINLength accepts (0x10).
    pub max_rp_ids_for_set_min_pin_length: Option<u64>,
    /// Preferred number of platform UV attempts (0x11).
    pub preferred_platform_uv_attempts: Option<u64>,
    /// User verification modality bit field (0x12, FIDO Registry §3.1).
    pub uv_modality: Option<u64>,
    /// Certifications (0x13), a map kept raw.
    pub certifications: Option<Value>,
    /// Estimated room for more discoverable credentials (0x14).
    pub remaining_discoverable_credentials: Option<u64>,
    /// Vendor prototype authenticatorConfig subcommands (0x15).
    pub vendor_prototype_config_commands: Option<Vec<u64>>,
}

impl GetInfoResponse {
    /// The value of option `name`, or `None` when the authenticator did not list it (§6.4).
    pub fn option(&self, name: &str) -> Option<bool> {
        self.options
            .as_deref()?
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| *v)
    }

    /// Whether `versions` lists `version` (§6.4), e.g. [`version::FIDO_2_1`].
    pub fn supports_version(&self, version: &str) -> bool {
        self.versions.iter().any(|v| v == version)
    }

    /// The PIN/UV auth protocol to use: the first one the device lists that ctapkit speaks
    /// (protocol 1 when it lists none).
    pub fn preferred_pin_protocol(&self) -> crate::ctap2::pin_protocol::PinUvAuthProtocol {
        use crate::ctap2::pin_protocol::PinUvAuthProtocol;
        self.pin_uv_auth_protocols
            .as_deref()
            .unwrap_or_default()
            .iter()
            .find_map(|p| PinUvAuthProtocol::try_from(*p).ok())
            .unwrap_or(PinUvAuthProtocol::One)
    }

    /// Whether `extensions` lists `extension` (§6.4).
    pub fn supports_extension(&self, extension: &str) -> bool {
        self.extensions
            .as_deref()
            .is_some_and(|e| e.iter().any(|v| v == extension))
    }
}

fn text_list(list: &[String]) -> Value {
    Value::Array(list.iter().map(|s| Value::Text(s.clone())).collect())
}

fn uint_list(list: &[u64]) -> Value {
    Value::Array(list.iter().map(|n| Value::from(*n)).collect())
}

fn options_from_cbor(value: &Value) -> Result<Vec<(String, bool)>, StatusCode> {
    decode::map_ref(value)?
        .iter()
        .map(|(k, v)| Ok((fields::text(k)?, fields::boolean(v)?)))
        .collect()
}

fn aaguid_from_cbor(value: &Value) -> Result<Aaguid, StatusCode> {
    let bytes = fields::bytes(value)?;
    // A byte string of the wrong length is not the 16-byte type the member has.
    <[u8; 16]>::try_from(bytes.as_slice())
        .map(Aaguid)
        .map_err(|_| StatusCode::CBOR_UNEXPECTED_TYPE)
}

impl Response for GetInfoResponse {
    fn to_cbor(&self) -> Option<Value> {
        Some(
            IntMap::new()
                .insert(key::VERSIONS, text_list(&self.versions))
                .insert_opt(key::EXTENSIONS, self.extensions.as_deref().map(text_list))
                .insert(key::AAGUID, Value::Bytes(self.aaguid.0.to_vec()))
                .insert_opt(
                    key::OPTIONS,
                    self.options.as_ref().map(|o| {
                        Value::Map(
                            o.iter()
                                .map(|(k, v)| (Value::Text(k.clone()), Value::Bool(*v)))
                                .collect(),
                        )
                    }),
                )
                .insert_opt(key::MAX_MSG_SIZE, self.max_msg_size)
                .insert_opt(
                    key::PIN_UV_AUTH_PROTOCOLS,
                    self.pin_uv_auth_protocols.as_deref().map(uint_list),
                )
                .insert_opt(
                    key::MAX_CREDENTIAL_COUNT_IN_LIST,
                    self.max_credential_count_in_list,
                )
                .insert_opt(key::MAX_CREDENTIAL_ID_LENGTH, self.max_credential_id_length)
                .insert_opt(key::TRANSPORTS, self.transports.as_deref().map(text_list))
                .insert_opt(
                    key::ALGORITHMS,
                    self.algorithms
                        .as_deref()
                        .map(PublicKeyCredentialParameters::list_to_cbor),
                )
                .insert_opt(
                    key::MAX_SERIALIZED_LARGE_BLOB_ARRAY,
                    self.max_serialized_large_blob_array,
                )
                .insert_opt(key::FORCE_PIN_CHANGE, self.force_pin_change)
                .insert_opt(key::MIN_PIN_LENGTH, self.min_pin_length)
                .insert_opt(key::FIRMWARE_VERSION, self.firmware_version)
                .insert_opt(key::MAX_CRED_BLOB_LENGTH, self.max_cred_blob_length)
                .insert_opt(
                    key::MAX_RP_IDS_FOR_SET_MIN_PIN_LENGTH,
                    self.max_rp_ids_for_set_min_pin_length,
                )
                .insert_opt(
                    key::PREFERRED_PLATFORM_UV_ATTEMPTS,
                    self.preferred_platform_uv_attempts,
                )
                .insert_opt(key::UV_MODALITY, self.uv_modality)
                .insert_opt(key::CERTIFICATIONS, self.certifications.clone())
                .insert_opt(
                    key::REMAINING_DISCOVERABLE_CREDENTIALS,
                    self.remaining_discoverable_credentials,
                )
                .insert_opt(
                    key::VENDOR_PROTOTYPE_CONFIG_COMMANDS,
                    self.vendor_prototype_config_commands
                        .as_deref()
                        .map(uint_list),
                )
                .into_value(),
        )
    }

    fn from_cbor(value: Option<Value>) -> Result<Self, StatusCode> {
        let m = decode::top_map(value)?;
        let uint = |k| fields::optional(&m, k, decode::uint);
        Ok(GetInfoResponse {
            versions: decode::text_array(fields::required(&m, key::VERSIONS)?)?,
            extensions: fields::optional(&m, key::EXTENSIONS, decode::text_array)?,
            aaguid: aaguid_from_cbor(fields::required(&m, key::AAGUID)?)?,
            options: fields::optional(&m, key::OPTIONS, options_from_cbor)?,
            max_msg_size: uint(key::MAX_MSG_SIZE)?,
            pin_uv_auth_protocols: fields::optional(
                &m,
                key::PIN_UV_AUTH_PROTOCOLS,
                decode::uint_array,
            )?,
            max_credential_count_in_list: uint(key::MAX_CREDENTIAL_COUNT_IN_LIST)?,
            max_credential_id_length: uint(key::MAX_CREDENTIAL_ID_LENGTH)?,
            transports: fields::optional(&m, key::TRANSPORTS, decode::text_array)?,
            algorithms: fields::optional(
                &m,
                key::ALGORITHMS,
                PublicKeyCredentialParameters::list_from_cbor,
            )?,
            max_serialized_large_blob_array: uint(key::MAX_SERIALIZED_LARGE_BLOB_ARRAY)?,
            force_pin_change: fields::optional(&m, key::FORCE_PIN_CHANGE, fields::boolean)?,
            min_pin_length: uint(key::MIN_PIN_LENGTH)?,
            firmware_version: uint(key::FIRMWARE_VERSION)?,
            max_cred_blob_length: uint(key::MAX_CRED_BLOB_LENGTH)?,
            max_rp_ids_for_set_min_pin_length: uint(key::MAX_RP_IDS_FOR_SET_MIN_PIN_LENGTH)?,
            preferred_platform_uv_attempts: uint(key::PREFERRED_PLATFORM_UV_ATTEMPTS)?,
            uv_modality: uint(key::UV_MODALITY)?,
            certifications: fields::optional(&m, key::CERTIFICATIONS, decode::raw_map)?,
            remaining_discoverable_credentials: uint(key::REMAINING_DISCOVERABLE_CREDENTIALS)?,
            vendor_prototype_config_commands: fields::optional(
                &m,
                key::VENDOR_PROTOTYPE_CONFIG_COMMANDS,
                decode::uint_array,
            )?,
        })
    }
}
