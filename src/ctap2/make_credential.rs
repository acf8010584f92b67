//! authenticatorMakeCredential ([CTAP 2.1 §6.1](https://fidoalliance.org/specs/fido-v2.1-ps-20210615/fido-client-to-authenticator-protocol-v2.1-ps-20210615.html#authenticatorMakeCredential)),
//! and the WebAuthn structures the §6 commands share: RP and user entities, credential
//! descriptors, credential parameters and the `options` map.

use crate::cbor::{self, IntMap, MapExt as _, Value};
use crate::cose::CoseAlgorithm;

use super::extensions::ExtensionInputs;
use super::{command, fields, Request, Response, StatusCode};

#[cfg(test)]
pub(in crate::ctap2) mod tests;

/// The only credential type defined so far, `"public-key"` (WebAuthn §5.8.2, CTAP 2.1 §6.1).
pub const PUBLIC_KEY: &str = "public-key";

/// Integer keys of the makeCredential request and response maps (§6.1).
pub mod key {
    /// Request 0x01 `clientDataHash` (bytes, required).
    pub const CLIENT_DATA_HASH: i64 = 0x01;
    /// Request 0x02 `rp` (map, required).
    pub const RP: i64 = 0x02;
    /// Request 0x03 `user` (map, required).
    pub const USER: i64 = 0x03;
    /// Request 0x04 `pubKeyCredParams` (array, required).
    pub const PUB_KEY_CRED_PARAMS: i64 = 0x04;
    /// Request 0x05 `excludeList` (array).
    pub const EXCLUDE_LIST: i64 = 0x05;
    /// Request 0x06 `extensions` (map).
    pub const EXTENSIONS: i64 = 0x06;
    /// Request 0x07 `options` (map).
    pub const OPTIONS: i64 = 0x07;
    /// Request 0x08 `pinUvAuthParam` (bytes).
    pub const PIN_UV_AUTH_PARAM: i64 = 0x08;
    /// Request 0x09 `pinUvAuthProtocol` (unsigned).
    pub const PIN_UV_AUTH_PROTOCOL: i64 = 0x09;
    /// Request 0x0a `enterpriseAttestation` (unsigned).
    pub const ENTERPRISE_ATTESTATION: i64 = 0x0a;

    /// Response 0x01 `fmt` (text, required).
    pub const FMT: i64 = 0x01;
    /// Response 0x02 `authData` (bytes, required).
    pub const AUTH_DATA: i64 = 0x02;
    /// Response 0x03 `attStmt` (map, required).
    pub const ATT_STMT: i64 = 0x03;
    /// Response 0x04 `epAtt` (bool).
    pub const EP_ATT: i64 = 0x04;
    /// Response 0x05 `largeBlobKey` (bytes).
    pub const LARGE_BLOB_KEY: i64 = 0x05;
}

/// Text member names of the WebAuthn structures CTAP2 carries (§6.1, WebAuthn §5.4).
mod member {
    pub const ID: &str = "id";
    pub const NAME: &str = "name";
    pub const DISPLAY_NAME: &str = "displayName";
    pub const TYPE: &str = "type";
    pub const ALG: &str = "alg";
    pub const TRANSPORTS: &str = "transports";
    pub const RK: &str = "rk";
    pub const UP: &str = "up";
    pub const UV: &str = "uv";
}

/// Decoding helpers shared by the §6 command modules.
pub(in crate::ctap2) mod decode {
    use super::super::{fields, StatusCode};
    use crate::cbor::Value;

    /// The top-level parameter map of a request or response; an absent body is a missing
    /// parameter.
    pub(in crate::ctap2) fn top_map(
        value: Option<Value>,
    ) -> Result<Vec<(Value, Value)>, StatusCode> {
        fields::map(value.ok_or(StatusCode::MISSING_PARAMETER)?)
    }

    /// A borrowed map, or CTAP2_ERR_CBOR_UNEXPECTED_TYPE.
    pub(in crate::ctap2) fn map_ref(v: &Value) -> Result<&[(Value, Value)], StatusCode> {
        match v {
            Value::Map(m) => Ok(m),
            _ => Err(StatusCode::CBOR_UNEXPECTED_TYPE),
        }
    }

    /// A map value, kept raw, or CTAP2_ERR_CBOR_UNEXPECTED_TYPE.
    pub(in crate::ctap2) fn raw_map(v: &Value) -> Result<Value, StatusCode> {
        map_ref(v).map(|_| v.clone())
    }

    /// An unsigned integer (major type 0), or CTAP2_ERR_CBOR_UNEXPECTED_TYPE.
    pub(in crate::ctap2) fn uint(v: &Value) -> Result<u64, StatusCode> {
        match v {
            Value::Integer(i) => u64::try_from(*i).map_err(|_| StatusCode::CBOR_UNEXPECTED_TYPE),
            _ => Err(StatusCode::CBOR_UNEXPECTED_TYPE),
        }
    }

    /// An array of text strings.
    pub(in crate::ctap2) fn text_array(v: &Value) -> Result<Vec<String>, StatusCode> {
        fields::array(v)?.iter().map(fields::text).collect()
    }

    /// An array of unsigned integers.
    pub(in crate::ctap2) fn uint_array(v: &Value) -> Result<Vec<u64>, StatusCode> {
        fields::array(v)?.iter().map(uint).collect()
    }
}

/// Encodes a list as a CBOR array, item by item.
fn array_of<T>(items: &[T], f: impl Fn(&T) -> Value) -> Value {
    Value::Array(items.iter().map(f).collect())
}

/// Builds a text-keyed map from the members that are present.
fn text_map(members: Vec<(&str, Option<Value>)>) -> Value {
    Value::Map(
        members
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (Value::Text(k.to_owned()), v)))
            .collect(),
    )
}

/// A relying party as makeCredential names it (§6.1 `rp`, WebAuthn §5.4.2).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PublicKeyCredentialRpEntity {
    /// The RP ID (`"id"`, required).
    pub id: String,
    /// A human-palatable name (`"name"`).
    pub name: Option<String>,
}

impl PublicKeyCredentialRpEntity {
    /// The entity as a CBOR map with text keys (§6.1).
    pub fn to_cbor(&self) -> Value {
        text_map(vec![
            (member::ID, Some(Value::Text(self.id.clone()))),
            (member::NAME, self.name.clone().map(Value::Text)),
        ])
    }

    /// Decodes the entity; unknown members (such as the retired `icon`) are skipped (§6.1).
    pub fn from_cbor(value: &Value) -> Result<Self, StatusCode> {
        let m = decode::map_ref(value)?;
        Ok(PublicKeyCredentialRpEntity {
            id: fields::text(
                m.get_text(member::ID)
                    .ok_or(StatusCode::MISSING_PARAMETER)?,
            )?,
            name: m.get_text(member::NAME).map(fields::text).transpose()?,
        })
    }
}

/// A user account as makeCredential names it (§6.1 `user`, WebAuthn §5.4.3).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PublicKeyCredentialUserEntity {
    /// The user handle (`"id"`, bytes, required).
    pub id: Vec<u8>,
    /// The account name (`"name"`).
    pub name: Option<String>,
    /// The display name (`"displayName"`).
    pub display_name: Option<String>,
}

impl PublicKeyCredentialUserEntity {
    /// The entity as a CBOR map with text keys (§6.1).
    pub fn to_cbor(&self) -> Value {
        text_map(vec![
            (member::ID, Some(Value::Bytes(self.id.clone()))),
            (member::NAME, self.name.clone().map(Value::Text)),
            (
                member::DISPLAY_NAME,
                self.display_name.clone().map(Value::Text),
            ),
        ])
    }

    /// Decodes the entity; unknown members (such as the retired `icon`) are skipped (§6.1).
    pub fn from_cbor(value: &Value) -> Result<Self, StatusCode> {
        let m = decode::map_ref(value)?;
        Ok(PublicKeyCredentialUserEntity {
            id: fields::bytes(
                m.get_text(member::ID)
                    .ok_or(StatusCode::MISSING_PARAMETER)?,
            )?,
            name: m.get_text(member::NAME).map(fields::text).transpose()?,
            display_name: m
                .get_text(member::DISPLAY_NAME)
                .map(fields::text)
                .transpose()?,
        })
    }
}

/// A credential reference in `excludeList`/`allowList` and responses (§6.1, WebAuthn §5.8.3).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PublicKeyCredentialDescriptor {
    /// The credential type (`"type"`, normally [`PUBLIC_KEY`]); kept as text, as the set is open.
    pub type_: String,
    /// The credential ID (`"id"`).
    pub id: Vec<u8>,
    /// Transport hints (`"transports"`), kept as text since new transports keep appearing.
    pub transports: Option<Vec<String>>,
}

impl PublicKeyCredentialDescriptor {
    /// A `"public-key"` descriptor for `id` without transports (§6.1).
    pub fn public_key(id: Vec<u8>) -> Self {
        PublicKeyCredentialDescriptor {
            type_: PUBLIC_KEY.to_owned(),
            id,
            transports: None,
        }
    }

    /// The descriptor as a CBOR map with text keys (§6.1).
    pub fn to_cbor(&self) -> Value {
        text_map(vec![
            (member::ID, Some(Value::Bytes(self.id.clone()))),
            (member::TYPE, Some(Value::Text(self.type_.clone()))),
            (
                member::TRANSPORTS,
                self.transports
                    .as_ref()
                    .map(|t| array_of(t, |s| Value::Text(s.clone()))),
            ),
        ])
    }

    /// Decodes a descriptor: `type` and `id` are required, unknown members skipped (§6.1).
    pub fn from_cbor(value: &Value) -> Result<Self, StatusCode> {
        let m = decode::map_ref(value)?;
        Ok(PublicKeyCredentialDescriptor {
            type_: fields::text(
                m.get_text(member::TYPE)
                    .ok_or(StatusCode::MISSING_PARAMETER)?,
            )?,
            id: fields::bytes(
                m.get_text(member::ID)
                    .ok_or(StatusCode::MISSING_PARAMETER)?,
            )?,
            transports: m
                .get_text(member::TRANSPORTS)
                .map(decode::text_array)
                .transpose()?,
        })
    }

    /// Decodes an array of descriptors (§6.1 `excludeList`, §6.2 `allowList`).
    pub fn list_from_cbor(value: &Value) -> Result<Vec<Self>, StatusCode> {
        fields::array(value)?.iter().map(Self::from_cbor).collect()
    }

    /// Encodes an array of descriptors (§6.1 `excludeList`, §6.2 `allowList`).
    pub fn list_to_cbor(list: &[Self]) -> Value {
        array_of(list, Self::to_cbor)
    }
}

/// One acceptable credential type and algorithm (§6.1 `pubKeyCredParams`, WebAuthn §5.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKeyCredentialParameters {
    /// The credential type (`"type"`, normally [`PUBLIC_KEY`]).
    pub type_: String,
    /// The COSE algorithm (`"alg"`); unknown identifiers are kept as [`CoseAlgorithm::Other`].
    pub alg: CoseAlgorithm,
}

impl PublicKeyCredentialParameters {
    /// A `"public-key"` entry for `alg` (§6.1).
    pub fn public_key(alg: CoseAlgorithm) -> Self {
        PublicKeyCredentialParameters {
            type_: PUBLIC_KEY.to_owned(),
            alg,
        }
    }

    /// The entry as a CBOR map with text keys (§6.1).
    pub fn to_cbor(&self) -> Value {
        text_map(vec![
            (member::ALG, Some(Value::from(self.alg.to_i64()))),
            (member::TYPE, Some(Value::Text(self.type_.clone()))),
        ])
    }

    /// Decodes one entry; `Ok(None)` for an entry of an unknown credential type, which the
    /// caller skips (§6.1.2, pubKeyCredParams validation: every element is checked, elements
    /// of unknown type are ignored).
    pub fn from_cbor(value: &Value) -> Result<Option<Self>, StatusCode> {
        let m = decode::map_ref(value)?;
        let type_ = fields::text(
            m.get_text(member::TYPE)
                .ok_or(StatusCode::MISSING_PARAMETER)?,
        )?;
        // A known member of the wrong type is an error whatever the credential type.
        let alg = m.get_text(member::ALG).map(fields::int).transpose()?;
        if type_ != PUBLIC_KEY {
            return Ok(None);
        }
        let alg = alg.ok_or(StatusCode::MISSING_PARAMETER)?;
        Ok(Some(PublicKeyCredentialParameters {
            type_,
            alg: CoseAlgorithm::from_i64(alg),
        }))
    }

    /// Decodes an array of entries, skipping those of unknown type (§6.1, §6.4 `algorithms`).
    pub fn list_from_cbor(value: &Value) -> Result<Vec<Self>, StatusCode> {
        let mut out = Vec::new();
        for item in fields::array(value)? {
            if let Some(p) = Self::from_cbor(item)? {
                out.push(p);
            }
        }
        Ok(out)
    }

    /// Encodes an array of entries (§6.1 `pubKeyCredParams`, §6.4 `algorithms`).
    pub fn list_to_cbor(list: &[Self]) -> Value {
        array_of(list, Self::to_cbor)
    }
}

/// The `options` map of makeCredential (§6.1) and getAssertion (§6.2): each option is
/// absent, true or false; unknown options are skipped when decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AuthenticatorOptions {
    /// `"rk"`: create a discoverable credential (§6.1; invalid in getAssertion).
    pub rk: Option<bool>,
    /// `"up"`: test for user presence (§6.1, §6.2).
    pub up: Option<bool>,
    /// `"uv"`: perform built-in user verification (§6.1, §6.2).
    pub uv: Option<bool>,
}

impl AuthenticatorOptions {
    /// The options as a CBOR map of text to bool (§6.1).
    pub fn to_cbor(&self) -> Value {
        text_map(vec![
            (member::RK, self.rk.map(Value::Bool)),
            (member::UP, self.up.map(Value::Bool)),
            (member::UV, self.uv.map(Value::Bool)),
        ])
    }

    /// Decodes the options; a known option that is not a bool is CTAP2_ERR_CBOR_UNEXPECTED_TYPE,
    /// unknown options are skipped (§6.1).
    pub fn from_cbor(value: &Value) -> Result<Self, StatusCode> {
        let m = decode::map_ref(value)?;
        let get = |name| m.get_text(name).map(fields::boolean).transpose();
        Ok(AuthenticatorOptions {
            rk: get(member::RK)?,
            up: get(member::UP)?,
            uv: get(member::UV)?,
        })
    }
}

/// The authenticatorMakeCredential request (§6.1).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MakeCredentialRequest {
    /// Hash of the client data (0x01).
    pub client_data_hash: Vec<u8>,
    /// The relying party (0x02).
    pub rp: PublicKeyCredentialRpEntity,
    /// The user account (0x03).
    pub user: PublicKeyCredentialUserEntity,
    /// Acceptable credential types and algorithms, most preferred first (0x04).
    pub pub_key_cred_params: Vec<PublicKeyCredentialParameters>,
    /// Credentials that must not be registered again (0x05).
    pub exclude_list: Option<Vec<PublicKeyCredentialDescriptor>>,
    /// Extension inputs (0x06).
    pub extensions: Option<ExtensionInputs>,
    /// Options (0x07).
    pub options: Option<AuthenticatorOptions>,
    /// `authenticate(pinUvAuthToken, clientDataHash)` (0x08).
    pub pin_uv_auth_param: Option<Vec<u8>>,
    /// PIN/UV auth protocol version (0x09).
    pub pin_uv_auth_protocol: Option<u64>,
    /// Enterprise attestation request, 1 (vendor-facilitated) or 2 (platform-managed) (0x0a).
    pub enterprise_attestation: Option<u64>,
}

impl Request for MakeCredentialRequest {
    const CMD: u8 = command::MAKE_CREDENTIAL;
    type Response = MakeCredentialResponse;

    fn to_cbor(&self) -> Option<Value> {
        Some(
            IntMap::new()
                .insert(
                    key::CLIENT_DATA_HASH,
                    Value::Bytes(self.client_data_hash.clone()),
                )
                .insert(key::RP, self.rp.to_cbor())
                .insert(key::USER, self.user.to_cbor())
                .insert(
                    key::PUB_KEY_CRED_PARAMS,
                    PublicKeyCredentialParameters::list_to_cbor(&self.pub_key_cred_params),
                )
                .insert_opt(
                    key::EXCLUDE_LIST,
                    self.exclude_list
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
                .insert_opt(key::ENTERPRISE_ATTESTATION, self.enterprise_attestation)
                .into_value(),
        )
    }

    fn from_cbor(value: Option<Value>) -> Result<Self, StatusCode> {
        let m = decode::top_map(value)?;
        Ok(MakeCredentialRequest {
            client_data_hash: fields::bytes(fields::required(&m, key::CLIENT_DATA_HASH)?)?,
            rp: PublicKeyCredentialRpEntity::from_cbor(fields::required(&m, key::RP)?)?,
            user: PublicKeyCredentialUserEntity::from_cbor(fields::required(&m, key::USER)?)?,
            pub_key_cred_params: PublicKeyCredentialParameters::list_from_cbor(fields::required(
                &m,
                key::PUB_KEY_CRED_PARAMS,
            )?)?,
            exclude_list: fields::optional(
                &m,
                key::EXCLUDE_LIST,
                PublicKeyCredentialDescriptor::list_from_cbor,
            )?,
            extensions: fields::optional(&m, key::EXTENSIONS, ExtensionInputs::from_cbor)?,
            options: fields::optional(&m, key::OPTIONS, AuthenticatorOptions::from_cbor)?,
            pin_uv_auth_param: fields::optional(&m, key::PIN_UV_AUTH_PARAM, fields::bytes)?,
            pin_uv_auth_protocol: fields::optional(&m, key::PIN_UV_AUTH_PROTOCOL, decode::uint)?,
            enterprise_attestation: fields::optional(
                &m,
                key::ENTERPRISE_ATTESTATION,
                decode::uint,
            )?,
        })
    }
}

/// The authenticatorMakeCredential response (§6.1).
#[derive(Debug, Clone, PartialEq)]
pub struct MakeCredentialResponse {
    /// Attestation statement format identifier (0x01), e.g. `"packed"`, `"none"`.
    pub fmt: String,
    /// Authenticator data (0x02), raw bytes.
    pub auth_data: Vec<u8>,
    /// Attestation statement (0x03), a CBOR map kept raw; its shape depends on `fmt`.
    pub att_stmt: Value,
    /// Whether an enterprise attestation was returned (0x04).
    pub ep_att: Option<bool>,
    /// The credential's largeBlobKey (0x05, §12.3).
    pub large_blob_key: Option<Vec<u8>>,
}

impl Default for MakeCredentialResponse {
    fn default() -> Self {
        MakeCredentialResponse {
            fmt: "none".to_owned(),
            auth_data: Vec::new(),
            att_stmt: Value::Map(Vec::new()),
            ep_att: None,
            large_blob_key: None,
        }
    }
}

impl MakeCredentialResponse {
    /// The WebAuthn attestation object (WebAuthn §6.5, CTAP 2.1 §6.1: "the attestation object
    /// is created from the response") as canonical CBOR `{"fmt", "attStmt", "authData"}`.
    ///
    /// Fails only when `att_stmt` holds a value CTAP2 CBOR cannot carry (a tag or a float),
    /// which a decoded response never does.
    pub fn attestation_object(&self) -> Result<Vec<u8>, cbor::EncodeError> {
        cbor::encode(&text_map(vec![
            ("fmt", Some(Value::Text(self.fmt.clone()))),
            ("attStmt", Some(self.att_stmt.clone())),
            ("authData", Some(Value::Bytes(self.auth_data.clone()))),
        ]))
    }
}

impl Response for MakeCredentialResponse {
    fn to_cbor(&self) -> Option<Value> {
        Some(
            IntMap::new()
                .insert(key::FMT, Value::Text(self.fmt.clone()))
                .insert(key::AUTH_DATA, Value::Bytes(self.auth_data.clone()))
                .insert(key::ATT_STMT, self.att_stmt.clone())
                .insert_opt(key::EP_ATT, self.ep_att)
                .insert_opt(
                    key::LARGE_BLOB_KEY,
                    self.large_blob_key.clone().map(Value::Bytes),
                )
                .into_value(),
        )
    }

    fn from_cbor(value: Option<Value>) -> Result<Self, StatusCode> {
        let m = decode::top_map(value)?;
        Ok(MakeCredentialResponse {
            fmt: fields::text(fields::required(&m, key::FMT)?)?,
            auth_data: fields::bytes(fields::required(&m, key::AUTH_DATA)?)?,
            att_stmt: decode::raw_map(fields::required(&m, key::ATT_STMT)?)?,
            ep_att: fields::optional(&m, key::EP_ATT, fields::boolean)?,
            large_blob_key: fields::optional(&m, key::LARGE_BLOB_KEY, fields::bytes)?,
        })
    }
}
