//! `CollectedClientData`, the JSON the client signs over
//! ([WebAuthn L3 §5.8.1](https://www.w3.org/TR/webauthn-3/#dictdef-collectedclientdata)).

use serde::{Deserialize, Serialize};

/// The parsed client data. Unknown members are ignored, as §5.8.1.2 requires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CollectedClientData {
    /// "webauthn.create" or "webauthn.get".
    #[serde(rename = "type")]
    pub type_: String,
    /// The challenge, base64url (as the client wrote it).
    pub challenge: String,
    /// The caller's origin.
    pub origin: String,
    /// True when the caller was not same-origin with its ancestors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cross_origin: Option<bool>,
    /// The top-level origin, present when `crossOrigin` is true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_origin: Option<String>,
}

/// Why clientDataJSON could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientDataError {
    /// The bytes are not UTF-8 (§7.1 step 7).
    #[error("clientDataJSON is not UTF-8")]
    NotUtf8(#[source] std::str::Utf8Error),
    /// The text is not the expected JSON object (§7.1 step 8).
    #[error("clientDataJSON is not a valid CollectedClientData object: {0}")]
    Json(#[source] serde_json::Error),
    /// The JSON is larger than any real client produces.
    #[error("clientDataJSON of {0} bytes exceeds the 64 KiB limit")]
    TooLarge(usize),
}

/// Largest clientDataJSON accepted; real ones are a few hundred bytes.
pub const MAX_CLIENT_DATA_LEN: usize = 64 * 1024;

impl CollectedClientData {
    /// Decodes clientDataJSON as UTF-8 and parses it.
    pub fn from_json_bytes(bytes: &[u8]) -> Result<Self, ClientDataError> {
        if bytes.len() > MAX_CLIENT_DATA_LEN {
            return Err(ClientDataError::TooLarge(bytes.len()));
        }
        let text = std::str::from_utf8(bytes).map_err(ClientDataError::NotUtf8)?;
        serde_json::from_str(text).map_err(ClientDataError::Json)
    }

    /// The JSON a browser writes: members in the order of §5.8.1.1 (type, challenge, origin,
    /// crossOrigin, then topOrigin when cross-origin).
    pub fn to_json_bytes(&self) -> Vec<u8> {
        let esc = |s: &str| serde_json::to_string(s).unwrap_or_default();
        let mut out = format!(
            "{{\"type\":{},\"challenge\":{},\"origin\":{},\"crossOrigin\":{}",
            esc(&self.type_),
            esc(&self.challenge),
            esc(&self.origin),
            self.cross_origin.unwrap_or(false)
        );
        if let Some(top) = &self.top_origin {
            out.push_str(&format!(",\"topOrigin\":{}", esc(top)));
        }
        out.push('}');
        out.into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_ignores_unknown_members() {
        let json = br#"{"type":"webauthn.get","challenge":"AAEC","origin":"https://example.org","crossOrigin":false,"other_keys_can_be_added_here":"x"}"#;
        let c = CollectedClientData::from_json_bytes(json).unwrap();
        assert_eq!(c.type_, "webauthn.get");
        assert_eq!(c.cross_origin, Some(false));
        assert_eq!(c.top_origin, None);
    }

    #[test]
    fn serialises_like_a_browser() {
        let c = CollectedClientData {
            type_: "webauthn.create".into(),
            challenge: "AAEC".into(),
            origin: "https://example.org".into(),
            cross_origin: Some(true),
            top_origin: Some("https://top.example".into()),
        };
        let bytes = c.to_json_bytes();
        assert_eq!(
            std::str::from_utf8(&bytes).unwrap(),
            r#"{"type":"webauthn.create","challenge":"AAEC","origin":"https://example.org","crossOrigin":true,"topOrigin":"https://top.example"}"#
        );
        assert_eq!(CollectedClientData::from_json_bytes(&bytes).unwrap(), c);
    }

    #[test]
    fn bad_input_is_a_typed_error() {
        assert!(matches!(
            CollectedClientData::from_json_bytes(&[0xff, 0xfe]),
            Err(ClientDataError::NotUtf8(_))
        ));
        assert!(matches!(
            CollectedClientData::from_json_bytes(br#"{"type":"webauthn.get"}"#),
            Err(ClientDataError::Json(_))
        ));
        assert!(matches!(
            CollectedClientData::from_json_bytes(b"[1,2"),
            Err(ClientDataError::Json(_))
        ));
    }

    proptest::proptest! {
        #[test]
        fn json_round_trip(
            ty in "webauthn\\.(create|get)",
            challenge in "[A-Za-z0-9_-]{0,64}",
            origin in "\\PC{0,40}",
            cross in proptest::option::of(proptest::bool::ANY),
            top in proptest::option::of("\\PC{0,20}"),
        ) {
            let c = CollectedClientData { type_: ty, challenge, origin, cross_origin: cross.or(Some(false)), top_origin: top };
            let back = CollectedClientData::from_json_bytes(&c.to_json_bytes()).unwrap();
            proptest::prop_assert_eq!(back, c);
        }

        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let _ = CollectedClientData::from_json_bytes(&bytes);
        }
    }
}
