//! authenticatorCredentialManagement ([CTAP 2.1 §6.8](https://fidoalliance.org/specs/fido-v2.1-ps-20210615/fido-client-to-authenticator-protocol-v2.1-ps-20210615.html#authenticatorCredentialManagement)):
//! metadata, enumeration of RPs and credentials, deletion and user-information updates of
//! discoverable credentials.

use crate::cbor::{self, IntMap, Value};

use super::extensions::CredProtect;
use super::make_credential::{
    decode, PublicKeyCredentialDescriptor, PublicKeyCredentialRpEntity,
    PublicKeyCredentialUserEntity,
};
use super::{command, fields, Request, Response, StatusCode};

#[cfg(test)]
mod tests;

/// Integer keys of the credentialManagement request, subcommand-parameter and response maps
/// (§6.8).
pub mod key {
    /// Request 0x01 `subCommand` (unsigned, required).
    pub const SUB_COMMAND: i64 = 0x01;
    /// Request 0x02 `subCommandParams` (map).
    pub const SUB_COMMAND_PARAMS: i64 = 0x02;
    /// Request 0x03 `pinUvAuthProtocol` (unsigned).
    pub const PIN_UV_AUTH_PROTOCOL: i64 = 0x03;
    /// Request 0x04 `pinUvAuthParam` (bytes).
    pub const PIN_UV_AUTH_PARAM: i64 = 0x04;

    /// Parameter 0x01 `rpIDHash` (bytes).
    pub const PARAM_RP_ID_HASH: i64 = 0x01;
    /// Parameter 0x02 `credentialID` (PublicKeyCredentialDescriptor).
    pub const PARAM_CREDENTIAL_ID: i64 = 0x02;
    /// Parameter 0x03 `user` (PublicKeyCredentialUserEntity).
    pub const PARAM_USER: i64 = 0x03;

    /// Response 0x01 `existingResidentCredentialsCount` (unsigned).
    pub const EXISTING_RESIDENT_CREDENTIALS_COUNT: i64 = 0x01;
    /// Response 0x02 `maxPossibleRemainingResidentCredentialsCount` (unsigned).
    pub const MAX_POSSIBLE_REMAINING_RESIDENT_CREDENTIALS_COUNT: i64 = 0x02;
    /// Response 0x03 `rp` (PublicKeyCredentialRpEntity).
    pub const RP: i64 = 0x03;
    /// Response 0x04 `rpIDHash` (bytes).
    pub const RP_ID_HASH: i64 = 0x04;
    /// Response 0x05 `totalRPs` (unsigned).
    pub const TOTAL_RPS: i64 = 0x05;
    /// Response 0x06 `user` (PublicKeyCredentialUserEntity).
    pub const USER: i64 = 0x06;
    /// Response 0x07 `credentialID` (PublicKeyCredentialDescriptor).
    pub const CREDENTIAL_ID: i64 = 0x07;
    /// Response 0x08 `publicKey` (COSE_Key).
    pub const PUBLIC_KEY: i64 = 0x08;
    /// Response 0x09 `totalCredentials` (unsigned).
    pub const TOTAL_CREDENTIALS: i64 = 0x09;
    /// Response 0x0a `credProtect` (unsigned).
    pub const CRED_PROTECT: i64 = 0x0a;
    /// Response 0x0b `largeBlobKey` (bytes).
    pub const LARGE_BLOB_KEY: i64 = 0x0b;
}

/// A credentialManagement subcommand (§6.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CredentialManagementSubCommand {
    /// 0x01 getCredsMetadata.
    GetCredsMetadata,
    /// 0x02 enumerateRPsBegin.
    EnumerateRpsBegin,
    /// 0x03 enumerateRPsGetNextRP.
    EnumerateRpsGetNextRp,
    /// 0x04 enumerateCredentialsBegin.
    EnumerateCredentialsBegin,
    /// 0x05 enumerateCredentialsGetNextCredential.
    EnumerateCredentialsGetNextCredential,
    /// 0x06 deleteCredential.
    DeleteCredential,
    /// 0x07 updateUserInformation.
    UpdateUserInformation,
    /// Any other subcommand byte, kept so the authenticator can answer
    /// CTAP2_ERR_INVALID_SUBCOMMAND and a client can probe.
    Other(u8),
}

impl CredentialManagementSubCommand {
    /// The subcommand byte (§6.8).
    pub fn to_u8(self) -> u8 {
        match self {
            Self::GetCredsMetadata => 0x01,
            Self::EnumerateRpsBegin => 0x02,
            Self::EnumerateRpsGetNextRp => 0x03,
            Self::EnumerateCredentialsBegin => 0x04,
            Self::EnumerateCredentialsGetNextCredential => 0x05,
            Self::DeleteCredential => 0x06,
            Self::UpdateUserInformation => 0x07,
            Self::Other(v) => v,
        }
    }

    /// The subcommand for a byte (§6.8).
    pub fn from_u8(v: u8) -> Self {
        match v {
            0x01 => Self::GetCredsMetadata,
            0x02 => Self::EnumerateRpsBegin,
            0x03 => Self::EnumerateRpsGetNextRp,
            0x04 => Self::EnumerateCredentialsBegin,
            0x05 => Self::EnumerateCredentialsGetNextCredential,
            0x06 => Self::DeleteCredential,
            0x07 => Self::UpdateUserInformation,
            other => Self::Other(other),
        }
    }
}

/// The `subCommandParams` map (§6.8); which members a subcommand needs is up to it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CredentialManagementParams {
    /// 0x01 SHA-256 of the RP ID (enumerateCredentialsBegin).
    pub rp_id_hash: Option<Vec<u8>>,
    /// 0x02 the credential (deleteCredential, updateUserInformation).
    pub credential_id: Option<PublicKeyCredentialDescriptor>,
    /// 0x03 the new user information (updateUserInformation).
    pub user: Option<PublicKeyCredentialUserEntity>,
}

impl CredentialManagementParams {
    /// The parameters as their integer-keyed CBOR map (§6.8).
    pub fn to_cbor(&self) -> Value {
        IntMap::new()
            .insert_opt(
                key::PARAM_RP_ID_HASH,
                self.rp_id_hash.clone().map(Value::Bytes),
            )
            .insert_opt(
                key::PARAM_CREDENTIAL_ID,
                self.credential_id
                    .as_ref()
                    .map(PublicKeyCredentialDescriptor::to_cbor),
            )
            .insert_opt(
                key::PARAM_USER,
                self.user
                    .as_ref()
                    .map(PublicKeyCredentialUserEntity::to_cbor),
            )
            .into_value()
    }

    /// Decodes the parameters map; unknown keys are skipped (§6.8).
    pub fn from_cbor(value: &Value) -> Result<Self, StatusCode> {
        let m = decode::map_ref(value)?;
        Ok(CredentialManagementParams {
            rp_id_hash: fields::optional(m, key::PARAM_RP_ID_HASH, fields::bytes)?,
            credential_id: fields::optional(
                m,
                key::PARAM_CREDENTIAL_ID,
                PublicKeyCredentialDescriptor::from_cbor,
            )?,
            user: fields::optional(m, key::PARAM_USER, PublicKeyCredentialUserEntity::from_cbor)?,
        })
    }
}

/// The authenticatorCredentialManagement request (§6.8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialManagementRequest {
    /// The subcommand (0x01).
    pub sub_command: CredentialManagementSubCommand,
    /// Its parameters (0x02).
    pub sub_command_params: Option<CredentialManagementParams>,
    /// PIN/UV auth protocol version (0x03).
    pub pin_uv_auth_protocol: Option<u64>,
    /// `authenticate(pinUvAuthToken, subCommand || subCommandParams)` (0x04).
    pub pin_uv_auth_param: Option<Vec<u8>>,
}

impl CredentialManagementRequest {
    /// A request for `sub_command` with no parameters or authentication (§6.8).
    pub fn new(sub_command: CredentialManagementSubCommand) -> Self {
        CredentialManagementRequest {
            sub_command,
            sub_command_params: None,
            pin_uv_auth_protocol: None,
            pin_uv_auth_param: None,
        }
    }

    /// The message `pinUvAuthParam` authenticates (§6.8): the subcommand byte followed by
    /// the canonical CBOR of `subCommandParams` when present.
    pub fn pin_uv_auth_message(&self) -> Result<Vec<u8>, cbor::EncodeError> {
        let mut out = vec![self.sub_command.to_u8()];
        if let Some(params) = &self.sub_command_params {
            cbor::encode_into(&params.to_cbor(), &mut out)?;
        }
        Ok(out)
    }
}

impl Request for CredentialManagementRequest {
    const CMD: u8 = command::CREDENTIAL_MANAGEMENT;
    type Response = CredentialManagementResponse;

    fn to_cbor(&self) -> Option<Value> {
        Some(
            IntMap::new()
                .insert(key::SUB_COMMAND, u64::from(self.sub_command.to_u8()))
                .insert_opt(
                    key::SUB_COMMAND_PARAMS,
                    self.sub_command_params
                        .as_ref()
                        .map(CredentialManagementParams::to_cbor),
                )
                .insert_opt(key::PIN_UV_AUTH_PROTOCOL, self.pin_uv_auth_protocol)
                .insert_opt(
                    key::PIN_UV_AUTH_PARAM,
                    self.pin_uv_auth_param.clone().map(Value::Bytes),
                )
                .into_value(),
        )
    }

    fn from_cbor(value: Option<Value>) -> Result<Self, StatusCode> {
        let m = decode::top_map(value)?;
        let sub_command = decode::uint(fields::required(&m, key::SUB_COMMAND)?)?;
        // No subcommand is defined beyond one byte.
        let sub_command = u8::try_from(sub_command).map_err(|_| StatusCode::INVALID_SUBCOMMAND)?;
        Ok(CredentialManagementRequest {
            sub_command: CredentialManagementSubCommand::from_u8(sub_command),
            sub_command_params: fields::optional(
                &m,
                key::SUB_COMMAND_PARAMS,
                CredentialManagementParams::from_cbor,
            )?,
            pin_uv_auth_protocol: fields::optional(&m, key::PIN_UV_AUTH_PROTOCOL, decode::uint)?,
            pin_uv_auth_param: fields::optional(&m, key::PIN_UV_AUTH_PARAM, fields::bytes)?,
        })
    }
}

/// The authenticatorCredentialManagement response (§6.8); each subcommand fills a subset.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CredentialManagementResponse {
    /// 0x01 number of discoverable credentials stored (getCredsMetadata).
    pub existing_resident_credentials_count: Option<u64>,
    /// 0x02 room for more discoverable credentials (getCredsMetadata).
    pub max_possible_remaining_resident_credentials_count: Option<u64>,
    /// 0x03 an RP with discoverable credentials (enumerateRPs*).
    pub rp: Option<PublicKeyCredentialRpEntity>,
    /// 0x04 SHA-256 of that RP's ID (enumerateRPs*).
    pub rp_id_hash: Option<Vec<u8>>,
    /// 0x05 number of RPs (enumerateRPsBegin).
    pub total_rps: Option<u64>,
    /// 0x06 the credential's user (enumerateCredentials*).
    pub user: Option<PublicKeyCredentialUserEntity>,
    /// 0x07 the credential (enumerateCredentials*).
    pub credential_id: Option<PublicKeyCredentialDescriptor>,
    /// 0x08 the credential public key, a COSE_Key map kept raw (enumerateCredentials*).
    pub public_key: Option<Value>,
    /// 0x09 number of credentials for the RP (enumerateCredentialsBegin).
    pub total_credentials: Option<u64>,
    /// 0x0a the credential's protection level (enumerateCredentials*).
    pub cred_protect: Option<CredProtect>,
    /// 0x0b the credential's largeBlobKey (enumerateCredentials*).
    pub large_blob_key: Option<Vec<u8>>,
}

impl Response for CredentialManagementResponse {
    fn to_cbor(&self) -> Option<Value> {
        if *self == CredentialManagementResponse::default() {
            // deleteCredential and updateUserInformation answer with an empty body.
            return None;
        }
        Some(
            IntMap::new()
                .insert_opt(
                    key::EXISTING_RESIDENT_CREDENTIALS_COUNT,
                    self.existing_resident_credentials_count,
                )
                .insert_opt(
                    key::MAX_POSSIBLE_REMAINING_RESIDENT_CREDENTIALS_COUNT,
                    self.max_possible_remaining_resident_credentials_count,
                )
                .insert_opt(
                    key::RP,
                    self.rp.as_ref().map(PublicKeyCredentialRpEntity::to_cbor),
                )
                .insert_opt(key::RP_ID_HASH, self.rp_id_hash.clone().map(Value::Bytes))
                .insert_opt(key::TOTAL_RPS, self.total_rps)
                .insert_opt(
                    key::USER,
                    self.user
                        .as_ref()
                        .map(PublicKeyCredentialUserEntity::to_cbor),
                )
                .insert_opt(
                    key::CREDENTIAL_ID,
                    self.credential_id
                        .as_ref()
                        .map(PublicKeyCredentialDescriptor::to_cbor),
                )
                .insert_opt(key::PUBLIC_KEY, self.public_key.clone())
                .insert_opt(key::TOTAL_CREDENTIALS, self.total_credentials)
                .insert_opt(
                    key::CRED_PROTECT,
                    self.cred_protect.map(CredProtect::to_u64),
                )
                .insert_opt(
                    key::LARGE_BLOB_KEY,
                    self.large_blob_key.clone().map(Value::Bytes),
                )
                .into_value(),
        )
    }

    fn from_cbor(value: Option<Value>) -> Result<Self, StatusCode> {
        let Some(value) = value else {
            return Ok(CredentialManagementResponse::default());
        };
        let m = fields::map(value)?;
        let uint = |k| fields::optional(&m, k, decode::uint);
        Ok(CredentialManagementResponse {
            existing_resident_credentials_count: uint(key::EXISTING_RESIDENT_CREDENTIALS_COUNT)?,
            max_possible_remaining_resident_credentials_count: uint(
                key::MAX_POSSIBLE_REMAINING_RESIDENT_CREDENTIALS_COUNT,
            )?,
            rp: fields::optional(&m, key::RP, PublicKeyCredentialRpEntity::from_cbor)?,
            rp_id_hash: fields::optional(&m, key::RP_ID_HASH, fields::bytes)?,
            total_rps: uint(key::TOTAL_RPS)?,
            user: fields::optional(&m, key::USER, PublicKeyCredentialUserEntity::from_cbor)?,
            credential_id: fields::optional(
                &m,
                key::CREDENTIAL_ID,
                PublicKeyCredentialDescriptor::from_cbor,
            )?,
            public_key: fields::optional(&m, key::PUBLIC_KEY, decode::raw_map)?,
            total_credentials: uint(key::TOTAL_CREDENTIALS)?,
            cred_protect: fields::optional(&m, key::CRED_PROTECT, CredProtect::from_cbor)?,
            large_blob_key: fields::optional(&m, key::LARGE_BLOB_KEY, fields::bytes)?,
        })
    }
}
