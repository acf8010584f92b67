//! The relying party's options as JSON (`PublicKeyCredentialCreationOptionsJSON` /
//! `PublicKeyCredentialRequestOptionsJSON`, WebAuthn L3 §5.1.3 / §5.1.4, as
//! `parseCreationOptionsFromJSON` takes them) turned into what the client sends to the
//! authenticator, deciding the optional parts as a browser does for this authenticator.

use serde_json::Value;

use super::{CreateOptions, GetOptions};
use crate::cose::CoseAlgorithm;
use crate::ctap2::get_info::GetInfoResponse;
use crate::webauthn::Base64Url;

/// What the authenticator offers, for the choices "preferred" leaves to the client.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AuthenticatorCapabilities {
    /// It can store discoverable credentials (getInfo option `rk`).
    pub resident_keys: bool,
    /// It can verify the user: built-in UV configured, or a PIN set.
    pub user_verification: bool,
}

impl AuthenticatorCapabilities {
    /// The capabilities a getInfo answer states.
    pub fn from_info(info: &GetInfoResponse) -> Self {
        AuthenticatorCapabilities {
            resident_keys: info.option("rk") == Some(true),
            user_verification: info.option("uv") == Some(true)
                || info.option("clientPin") == Some(true),
        }
    }
}

/// Options JSON the client cannot use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OptionsError {
    /// The options are not a JSON object.
    #[error("the options are not a JSON object")]
    NotObject,
    /// A member is missing or invalid.
    #[error("the options lack a valid {0}")]
    Member(&'static str),
}

fn bytes(value: &Value, what: &'static str) -> Result<Vec<u8>, OptionsError> {
    value
        .as_str()
        .and_then(|s| Base64Url::decode(s).ok())
        .map(|b| b.0)
        .ok_or(OptionsError::Member(what))
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_string()
}

/// The IDs of a list of `PublicKeyCredentialDescriptorJSON` (absent: none). Descriptors of
/// another type are ignored, as the client does.
fn descriptor_ids(list: &Value, what: &'static str) -> Result<Vec<Vec<u8>>, OptionsError> {
    match list {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => items
            .iter()
            .filter(|d| d["type"].as_str().unwrap_or("public-key") == "public-key")
            .map(|d| bytes(&d["id"], what))
            .collect(),
        _ => Err(OptionsError::Member(what)),
    }
}

/// The host of an origin (`https://host:port` → `host`).
fn origin_host(origin: &str) -> String {
    origin
        .split_once("://")
        .map(|(_, rest)| rest)
        .unwrap_or(origin)
        .split(['/', ':'])
        .next()
        .unwrap_or_default()
        .to_string()
}

/// Whether to ask for user verification: always when required, when preferred if the
/// authenticator can, never when discouraged (§5.8.6; the default is "preferred").
fn wants_uv(value: &Value, caps: AuthenticatorCapabilities) -> Result<bool, OptionsError> {
    match value {
        Value::Null => Ok(caps.user_verification),
        Value::String(s) => Ok(match s.as_str() {
            "required" => true,
            "discouraged" => false,
            // "preferred" and unknown values (§5.8.6: treated as preferred).
            _ => caps.user_verification,
        }),
        _ => Err(OptionsError::Member("userVerification")),
    }
}

impl CreateOptions {
    /// Reads creation options JSON for a page at `origin` (an absent `rp.id` is the origin's
    /// host) and decides residentKey "preferred" and userVerification for `caps`.
    pub fn from_json(
        json: &Value,
        origin: &str,
        caps: AuthenticatorCapabilities,
    ) -> Result<Self, OptionsError> {
        if !json.is_object() {
            return Err(OptionsError::NotObject);
        }
        let selection = &json["authenticatorSelection"];
        let resident = match selection["residentKey"].as_str() {
            Some(r) => r,
            None if selection["requireResidentKey"].as_bool() == Some(true) => "required",
            None => "discouraged",
        };
        let user_id = bytes(&json["user"]["id"], "user.id")?;
        if user_id.is_empty() || user_id.len() > 64 {
            return Err(OptionsError::Member("user.id (1 to 64 bytes)"));
        }
        let algorithms = match &json["pubKeyCredParams"] {
            // §5.1.3 step 10: an empty list means ES256 and RS256.
            Value::Array(list) if list.is_empty() => {
                vec![CoseAlgorithm::Es256, CoseAlgorithm::Rs256]
            }
            Value::Array(list) => list
                .iter()
                .filter(|p| p["type"].as_str() == Some("public-key"))
                .filter_map(|p| p["alg"].as_i64())
                .map(CoseAlgorithm::from_i64)
                .collect(),
            _ => return Err(OptionsError::Member("pubKeyCredParams")),
        };
        if algorithms.is_empty() {
            return Err(OptionsError::Member(
                "pubKeyCredParams (no public-key algorithm)",
            ));
        }
        Ok(CreateOptions {
            rp_id: json["rp"]["id"]
                .as_str()
                .map_or_else(|| origin_host(origin), str::to_string),
            rp_name: text(&json["rp"]["name"]),
            user_id,
            user_name: text(&json["user"]["name"]),
            user_display_name: text(&json["user"]["displayName"]),
            challenge: bytes(&json["challenge"], "challenge")?,
            algorithms,
            resident_key: resident == "required" || (resident == "preferred" && caps.resident_keys),
            user_verification_required: wants_uv(&selection["userVerification"], caps)?,
            exclude: descriptor_ids(&json["excludeCredentials"], "excludeCredentials")?,
        })
    }

    /// The `authenticatorSelection.authenticatorAttachment` asked for, if any.
    pub fn attachment(json: &Value) -> Option<&str> {
        json["authenticatorSelection"]["authenticatorAttachment"].as_str()
    }
}

impl GetOptions {
    /// Reads request options JSON for a page at `origin` (an absent `rpId` is the origin's
    /// host) and decides userVerification for `caps`.
    pub fn from_json(
        json: &Value,
        origin: &str,
        caps: AuthenticatorCapabilities,
    ) -> Result<Self, OptionsError> {
        if !json.is_object() {
            return Err(OptionsError::NotObject);
        }
        Ok(GetOptions {
            rp_id: json["rpId"]
                .as_str()
                .map_or_else(|| origin_host(origin), str::to_string),
            challenge: bytes(&json["challenge"], "challenge")?,
            allow: descriptor_ids(&json["allowCredentials"], "allowCredentials")?,
            user_verification_required: wants_uv(&json["userVerification"], caps)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const PHONE: AuthenticatorCapabilities = AuthenticatorCapabilities {
        resident_keys: true,
        user_verification: true,
    };

    #[test]
    fn creation_options_as_a_browser_reads_them() {
        let json = json!({
            "rp": {"name": "Example"},
            "user": {"id": "AQID", "name": "u", "displayName": "U"},
            "challenge": "AAAA",
            "pubKeyCredParams": [{"type": "public-key", "alg": -7}, {"type": "other", "alg": -8}, {"type": "public-key", "alg": -257}],
            "authenticatorSelection": {"residentKey": "preferred", "userVerification": "preferred"},
            "excludeCredentials": [{"type": "public-key", "id": "BBBB"}],
        });
        let o = CreateOptions::from_json(&json, "https://login.example.com:8443", PHONE)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(o.rp_id, "login.example.com");
        assert_eq!(o.user_id, vec![1, 2, 3]);
        assert_eq!(
            o.algorithms,
            vec![CoseAlgorithm::Es256, CoseAlgorithm::Rs256]
        );
        assert!(o.resident_key && o.user_verification_required);
        assert_eq!(o.exclude.len(), 1);
        let key = AuthenticatorCapabilities::default();
        let o = CreateOptions::from_json(&json, "https://x", key).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            !o.resident_key && !o.user_verification_required,
            "preferred, not possible"
        );
    }

    #[test]
    fn empty_algorithm_list_means_es256_and_rs256() {
        let json = json!({"rp": {"id": "x"}, "user": {"id": "AQ"}, "challenge": "AA", "pubKeyCredParams": []});
        let o =
            CreateOptions::from_json(&json, "https://x", PHONE).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            o.algorithms,
            vec![CoseAlgorithm::Es256, CoseAlgorithm::Rs256]
        );
    }

    #[test]
    fn bad_options_are_typed_errors() {
        let base = json!({"rp": {"id": "x"}, "user": {"id": "AQ"}, "challenge": "AA", "pubKeyCredParams": []});
        assert_eq!(
            CreateOptions::from_json(&json!([]), "https://x", PHONE).err(),
            Some(OptionsError::NotObject)
        );
        let mut no_challenge = base.clone();
        no_challenge["challenge"] = json!("not base64url!");
        assert_eq!(
            CreateOptions::from_json(&no_challenge, "https://x", PHONE).err(),
            Some(OptionsError::Member("challenge"))
        );
        let mut long_user = base.clone();
        long_user["user"]["id"] = json!(Base64Url(vec![0; 65]).encode());
        assert!(CreateOptions::from_json(&long_user, "https://x", PHONE).is_err());
        let mut uv = base;
        uv["authenticatorSelection"] = json!({"userVerification": 3});
        assert_eq!(
            CreateOptions::from_json(&uv, "https://x", PHONE).err(),
            Some(OptionsError::Member("userVerification"))
        );
    }

    #[test]
    fn request_options() {
        let json = json!({"challenge": "AAAA", "allowCredentials": [{"type": "public-key", "id": "AQ", "transports": ["internal"]}], "userVerification": "required"});
        let o = GetOptions::from_json(
            &json,
            "http://localhost:8080",
            AuthenticatorCapabilities::default(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(o.rp_id, "localhost");
        assert_eq!(o.allow, vec![vec![1]]);
        assert!(o.user_verification_required);
    }
}
