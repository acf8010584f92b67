//! The JSON forms of a `PublicKeyCredential` that `PublicKeyCredential.toJSON()` returns
//! ([WebAuthn L3 §5.1.8](https://www.w3.org/TR/webauthn-3/#dom-publickeycredential-tojson)):
//! `RegistrationResponseJSON` and `AuthenticationResponseJSON`, with base64url byte fields.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

/// Bytes that travel as base64url text (unpadded when written; padding accepted when read).
#[derive(Clone, PartialEq, Eq, Default, Hash)]
pub struct Base64Url(pub Vec<u8>);

impl Base64Url {
    /// Decodes base64url text, with or without `=` padding.
    pub fn decode(text: &str) -> Result<Self, base64::DecodeError> {
        URL_SAFE_NO_PAD
            .decode(text.trim_end_matches('='))
            .map(Base64Url)
    }
    /// The unpadded base64url text.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(&self.0)
    }
}

impl fmt::Debug for Base64Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "b64u\"{}\"", self.encode())
    }
}

impl From<Vec<u8>> for Base64Url {
    fn from(v: Vec<u8>) -> Self {
        Base64Url(v)
    }
}

impl AsRef<[u8]> for Base64Url {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Serialize for Base64Url {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.encode())
    }
}

impl<'de> Deserialize<'de> for Base64Url {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Base64Url::decode(&text)
            .map_err(|e| serde::de::Error::custom(format!("invalid base64url: {e}")))
    }
}

/// `RegistrationResponseJSON`: what `navigator.credentials.create()` gives, as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistrationResponseJson {
    /// The credential ID, base64url.
    pub id: String,
    /// The credential ID.
    pub raw_id: Base64Url,
    /// The authenticator's response.
    pub response: AttestationResponseJson,
    /// "platform" or "cross-platform", when the client reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authenticator_attachment: Option<String>,
    /// Client extension outputs.
    #[serde(default)]
    pub client_extension_results: serde_json::Map<String, serde_json::Value>,
    /// Always "public-key".
    #[serde(rename = "type")]
    pub type_: String,
}

/// `AuthenticatorAttestationResponseJSON`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttestationResponseJson {
    /// The exact clientDataJSON bytes.
    #[serde(rename = "clientDataJSON")]
    pub client_data_json: Base64Url,
    /// The CBOR attestation object.
    pub attestation_object: Base64Url,
    /// Convenience copy of the authenticator data (not trusted: the attestation object is).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authenticator_data: Option<Base64Url>,
    /// Transports the authenticator reports.
    #[serde(default)]
    pub transports: Vec<String>,
    /// Convenience SPKI copy of the public key (not trusted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<Base64Url>,
    /// Convenience copy of the COSE algorithm (not trusted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key_algorithm: Option<i64>,
}

/// `AuthenticationResponseJSON`: what `navigator.credentials.get()` gives, as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthenticationResponseJson {
    /// The credential ID, base64url.
    pub id: String,
    /// The credential ID.
    pub raw_id: Base64Url,
    /// The authenticator's response.
    pub response: AssertionResponseJson,
    /// "platform" or "cross-platform", when the client reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authenticator_attachment: Option<String>,
    /// Client extension outputs.
    #[serde(default)]
    pub client_extension_results: serde_json::Map<String, serde_json::Value>,
    /// Always "public-key".
    #[serde(rename = "type")]
    pub type_: String,
}

/// `AuthenticatorAssertionResponseJSON`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssertionResponseJson {
    /// The exact clientDataJSON bytes.
    #[serde(rename = "clientDataJSON")]
    pub client_data_json: Base64Url,
    /// The authenticator data that was signed.
    pub authenticator_data: Base64Url,
    /// The assertion signature.
    pub signature: Base64Url,
    /// The user handle, for discoverable credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_handle: Option<Base64Url>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_browser_registration_response() {
        let json = r#"{"id":"AQID","rawId":"AQID","type":"public-key",
            "authenticatorAttachment":"platform","clientExtensionResults":{"credProps":{"rk":true}},
            "response":{"clientDataJSON":"e30","attestationObject":"oA","transports":["internal","hybrid"]}}"#;
        let r: RegistrationResponseJson = serde_json::from_str(json).unwrap();
        assert_eq!(r.raw_id.0, vec![1, 2, 3]);
        assert_eq!(r.response.client_data_json.0, b"{}");
        assert_eq!(r.response.transports, ["internal", "hybrid"]);
        let back = serde_json::to_string(&r).unwrap();
        assert!(back.contains(r#""clientDataJSON":"e30""#));
    }

    #[test]
    fn base64url_accepts_padding_and_rejects_standard_alphabet() {
        assert_eq!(Base64Url::decode("AQ==").unwrap().0, vec![1]);
        assert!(Base64Url::decode("+/8").is_err());
        let err = serde_json::from_str::<Base64Url>(r#""a+b""#).unwrap_err();
        assert!(err.to_string().contains("invalid base64url"));
    }

    proptest::proptest! {
        #[test]
        fn base64url_round_trip(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..100)) {
            let b = Base64Url(bytes);
            proptest::prop_assert_eq!(Base64Url::decode(&b.encode()).unwrap(), b);
        }
    }
}
