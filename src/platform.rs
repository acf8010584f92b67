//! The browser's part of WebAuthn (the "client" of WebAuthn L3 §5.1.3 / §5.1.4): build
//! clientDataJSON from the origin and challenge, turn the relying party's options into CTAP2
//! requests, and the authenticator's answers into `PublicKeyCredential` JSON
//! ([`crate::webauthn::json`]) that `ctapkit verify` and relying parties read.

mod options_json;

pub use options_json::{AuthenticatorCapabilities, OptionsError};

use crate::cose::CoseAlgorithm;
use crate::ctap2::client::{ClientError, Ctap2, PinUvAuthToken};
use crate::ctap2::extensions::{
    CredBlobInput, CredBlobOutput, ExtensionInputs, ExtensionOutputs, HmacSecretGetInput,
    HmacSecretInput, HmacSecretOutput,
};
use crate::ctap2::{
    AuthenticatorOptions, GetAssertionRequest, GetAssertionResponse, MakeCredentialRequest,
    MakeCredentialResponse, PublicKeyCredentialDescriptor, PublicKeyCredentialParameters,
    PublicKeyCredentialRpEntity, PublicKeyCredentialUserEntity,
};
use crate::transport::CtapDevice;
use crate::webauthn::json::{AssertionResponseJson, AttestationResponseJson};
use crate::webauthn::{
    sha256, AuthenticationResponseJson, Base64Url, CollectedClientData, RegistrationResponseJson,
};

/// What a relying party asks for in `navigator.credentials.create()`.
#[derive(Debug, Clone)]
pub struct CreateOptions {
    /// The RP ID.
    pub rp_id: String,
    /// The RP name.
    pub rp_name: String,
    /// The user handle.
    pub user_id: Vec<u8>,
    /// The user name.
    pub user_name: String,
    /// The user display name.
    pub user_display_name: String,
    /// The challenge.
    pub challenge: Vec<u8>,
    /// Algorithms in preference order.
    pub algorithms: Vec<CoseAlgorithm>,
    /// Require a discoverable credential.
    pub resident_key: bool,
    /// Require user verification.
    pub user_verification_required: bool,
    /// Credentials to exclude.
    pub exclude: Vec<Vec<u8>>,
}

/// What a relying party asks for in `navigator.credentials.get()`.
#[derive(Debug, Clone)]
pub struct GetOptions {
    /// The RP ID.
    pub rp_id: String,
    /// The challenge.
    pub challenge: Vec<u8>,
    /// allowCredentials IDs (empty: discoverable credentials).
    pub allow: Vec<Vec<u8>>,
    /// Require user verification.
    pub user_verification_required: bool,
}

/// Why the client refused or failed a ceremony.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlatformError {
    /// The RP ID is not a registrable suffix of the origin's host (WebAuthn L3 §5.1.3 step 7).
    #[error("RP ID {rp_id:?} is not valid for origin {origin:?}")]
    RpIdNotValidForOrigin {
        /// The RP ID.
        rp_id: String,
        /// The origin.
        origin: String,
    },
    /// The authenticator failed.
    #[error(transparent)]
    Authenticator(#[from] ClientError),
    /// The answer could not be turned into JSON.
    #[error("cannot build the credential JSON: {0}")]
    Encoding(String),
    /// A CTAP1/U2F-only authenticator failed.
    #[error(transparent)]
    U2f(#[from] crate::ctap1::Ctap1Error),
    /// The relying party requires user verification, which a U2F-only key cannot do.
    #[error("this is a CTAP1/U2F-only key: it cannot verify the user (no PIN, no biometrics)")]
    UvUnavailable,
}

/// How long a U2F key may wait for a touch.
const U2F_TOUCH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

fn is_u2f_only<D: CtapDevice>(ctap: &mut Ctap2<D>) -> bool {
    ctap.device_mut().capabilities() & crate::ctaphid::capability::CBOR == 0
}

fn touch_prompt() {
    eprintln!("touch your key…");
}

/// Builds clientDataJSON as a browser does (§5.8.1.1: type, challenge, origin, crossOrigin).
pub fn client_data_json(type_: &str, challenge: &[u8], origin: &str) -> Vec<u8> {
    CollectedClientData {
        type_: type_.to_string(),
        challenge: Base64Url(challenge.to_vec()).encode(),
        origin: origin.to_string(),
        cross_origin: Some(false),
        top_origin: None,
    }
    .to_json_bytes()
}

/// The client's RP ID check: the RP ID equals the origin's host or is a parent domain of it,
/// over HTTPS (or http://localhost).
pub fn check_rp_id(rp_id: &str, origin: &str) -> Result<(), PlatformError> {
    let fail = || PlatformError::RpIdNotValidForOrigin {
        rp_id: rp_id.to_string(),
        origin: origin.to_string(),
    };
    let (scheme, rest) = origin.split_once("://").ok_or_else(fail)?;
    let host = rest.split(['/', ':']).next().unwrap_or("");
    let secure = scheme == "https" || (scheme == "http" && host == "localhost");
    let suffix_ok = host == rp_id || host.ends_with(&format!(".{rp_id}"));
    let is_ip = host.parse::<std::net::IpAddr>().is_ok();
    if secure && suffix_ok && !is_ip && !rp_id.is_empty() {
        Ok(())
    } else {
        Err(fail())
    }
}

/// Runs `navigator.credentials.create()` against `ctap` for `origin`.
pub fn create<D: CtapDevice>(
    ctap: &mut Ctap2<D>,
    origin: &str,
    options: &CreateOptions,
    token: Option<&PinUvAuthToken>,
) -> Result<RegistrationResponseJson, PlatformError> {
    create_with_extensions(ctap, origin, options, token, None)
}

/// [`create`] with CTAP2 extension inputs (credProtect, hmac-secret, credBlob, minPinLength,
/// largeBlobKey); their outputs are in the authenticator data.
pub fn create_with_extensions<D: CtapDevice>(
    ctap: &mut Ctap2<D>,
    origin: &str,
    options: &CreateOptions,
    token: Option<&PinUvAuthToken>,
    extensions: Option<ExtensionInputs>,
) -> Result<RegistrationResponseJson, PlatformError> {
    check_rp_id(&options.rp_id, origin)?;
    let client_data = client_data_json("webauthn.create", &options.challenge, origin);
    let hash = sha256(&client_data).to_vec();
    if is_u2f_only(ctap) {
        // What browsers do for U2F keys: U2F_REGISTER, then a fido-u2f attestation object.
        if options.user_verification_required {
            return Err(PlatformError::UvUnavailable);
        }
        let app = sha256(options.rp_id.as_bytes());
        let answer = crate::ctap1::register(
            ctap.device_mut(),
            sha256(&client_data),
            app,
            U2F_TOUCH_TIMEOUT,
            &mut touch_prompt,
        )?;
        let (attestation_object, auth_data) = answer.attestation_object(app)?;
        let id = answer.key_handle.clone();
        return Ok(RegistrationResponseJson {
            id: Base64Url(id.clone()).encode(),
            raw_id: Base64Url(id),
            response: AttestationResponseJson {
                client_data_json: Base64Url(client_data),
                attestation_object: Base64Url(attestation_object),
                authenticator_data: Some(Base64Url(auth_data)),
                transports: vec!["usb".into()],
                public_key: None,
                public_key_algorithm: None,
            },
            authenticator_attachment: Some("cross-platform".into()),
            client_extension_results: serde_json::Map::new(),
            type_: "public-key".to_string(),
        });
    }
    let request = MakeCredentialRequest {
        client_data_hash: hash.clone(),
        rp: PublicKeyCredentialRpEntity {
            id: options.rp_id.clone(),
            name: Some(options.rp_name.clone()),
        },
        user: PublicKeyCredentialUserEntity {
            id: options.user_id.clone(),
            name: Some(options.user_name.clone()),
            display_name: Some(options.user_display_name.clone()),
        },
        pub_key_cred_params: options
            .algorithms
            .iter()
            .map(|a| PublicKeyCredentialParameters::public_key(*a))
            .collect(),
        exclude_list: (!options.exclude.is_empty()).then(|| {
            options
                .exclude
                .iter()
                .map(|id| PublicKeyCredentialDescriptor::public_key(id.clone()))
                .collect()
        }),
        extensions: extensions.clone(),
        options: Some(AuthenticatorOptions {
            rk: options.resident_key.then_some(true),
            up: None,
            uv: (options.user_verification_required && token.is_none()).then_some(true),
        }),
        pin_uv_auth_param: token.map(|t| t.auth_param(&hash)),
        pin_uv_auth_protocol: token.map(|t| u64::from(t.protocol)),
        enterprise_attestation: None,
    };
    let response = ctap.make_credential(&request)?;
    registration_json(&response, client_data, Vec::new())
}

/// Turns a makeCredential answer into RegistrationResponseJSON.
pub fn registration_json(
    response: &MakeCredentialResponse,
    client_data_json: Vec<u8>,
    transports: Vec<String>,
) -> Result<RegistrationResponseJson, PlatformError> {
    let attestation_object = response
        .attestation_object()
        .map_err(|e| PlatformError::Encoding(e.to_string()))?;
    // The credential ID sits in the attested credential data: rpIdHash(32) flags(1)
    // count(4) aaguid(16) len(2) id.
    let ad = &response.auth_data;
    let id = ad
        .get(53..55)
        .map(|l| usize::from(u16::from_be_bytes([l[0], l[1]])))
        .and_then(|len| ad.get(55..55 + len))
        .ok_or_else(|| PlatformError::Encoding("authenticator data has no credential ID".into()))?
        .to_vec();
    Ok(RegistrationResponseJson {
        id: Base64Url(id.clone()).encode(),
        raw_id: Base64Url(id),
        response: AttestationResponseJson {
            client_data_json: Base64Url(client_data_json),
            attestation_object: Base64Url(attestation_object),
            authenticator_data: Some(Base64Url(response.auth_data.clone())),
            transports,
            public_key: None,
            public_key_algorithm: None,
        },
        authenticator_attachment: None,
        client_extension_results: serde_json::Map::new(),
        type_: "public-key".to_string(),
    })
}

/// Runs `navigator.credentials.get()` against `ctap` for `origin`.
pub fn get<D: CtapDevice>(
    ctap: &mut Ctap2<D>,
    origin: &str,
    options: &GetOptions,
    token: Option<&PinUvAuthToken>,
) -> Result<AuthenticationResponseJson, PlatformError> {
    get_with_extensions(ctap, origin, options, token, &GetExtensions::default())
}

/// Extension requests of a sign-in.
#[derive(Debug, Clone, Default)]
pub struct GetExtensions {
    /// hmac-secret: one or two 32-byte salts; the outputs come back in
    /// `clientExtensionResults.hmacGetSecret` (`output1`, `output2`).
    pub hmac_salts: Vec<Vec<u8>>,
    /// credBlob: ask for the stored blob (`clientExtensionResults.getCredBlob`).
    pub cred_blob: bool,
}

/// [`get`] with extension requests; hmac-secret runs the key agreement and decrypts the
/// outputs as a platform does (CTAP 2.1 §12.5).
pub fn get_with_extensions<D: CtapDevice>(
    ctap: &mut Ctap2<D>,
    origin: &str,
    options: &GetOptions,
    token: Option<&PinUvAuthToken>,
    ext: &GetExtensions,
) -> Result<AuthenticationResponseJson, PlatformError> {
    check_rp_id(&options.rp_id, origin)?;
    let client_data = client_data_json("webauthn.get", &options.challenge, origin);
    let hash = sha256(&client_data).to_vec();
    if is_u2f_only(ctap) {
        if options.user_verification_required {
            return Err(PlatformError::UvUnavailable);
        }
        let app = sha256(options.rp_id.as_bytes());
        let mut last = None;
        for id in &options.allow {
            match crate::ctap1::authenticate(
                ctap.device_mut(),
                sha256(&client_data),
                app,
                id,
                U2F_TOUCH_TIMEOUT,
                &mut touch_prompt,
            ) {
                Ok(answer) => {
                    return Ok(AuthenticationResponseJson {
                        id: Base64Url(id.clone()).encode(),
                        raw_id: Base64Url(id.clone()),
                        response: AssertionResponseJson {
                            client_data_json: Base64Url(client_data),
                            authenticator_data: Base64Url(answer.auth_data(app)),
                            signature: Base64Url(answer.signature),
                            user_handle: None,
                        },
                        authenticator_attachment: Some("cross-platform".into()),
                        client_extension_results: serde_json::Map::new(),
                        type_: "public-key".to_string(),
                    })
                }
                Err(e) => last = Some(e),
            }
        }
        return Err(last.map(PlatformError::U2f).unwrap_or(PlatformError::U2f(
            crate::ctap1::Ctap1Error::Status(crate::ctap1::StatusWord::WRONG_DATA),
        )));
    }
    let mut inputs = ExtensionInputs::default();
    let mut hmac_shared = None;
    if !ext.hmac_salts.is_empty() {
        if ext.hmac_salts.len() > 2 || ext.hmac_salts.iter().any(|s| s.len() != 32) {
            return Err(PlatformError::Encoding(
                "hmac-secret takes one or two 32-byte salts".into(),
            ));
        }
        let info = ctap.get_info()?;
        let protocol = info.preferred_pin_protocol();
        let (platform_key, shared) = ctap.shared_secret(protocol)?;
        let salt_enc = protocol
            .encrypt(&shared, &ext.hmac_salts.concat())
            .map_err(|e| PlatformError::Encoding(e.to_string()))?;
        let salt_auth = protocol.authenticate(&shared, &salt_enc);
        inputs.hmac_secret = Some(HmacSecretInput::Get(HmacSecretGetInput {
            key_agreement: platform_key.to_cose_value(),
            salt_enc,
            salt_auth,
            pin_uv_auth_protocol: Some(u64::from(protocol)),
        }));
        hmac_shared = Some((protocol, shared));
    }
    if ext.cred_blob {
        inputs.cred_blob = Some(CredBlobInput::Get(true));
    }
    let request = GetAssertionRequest {
        rp_id: options.rp_id.clone(),
        client_data_hash: hash.clone(),
        allow_list: (!options.allow.is_empty()).then(|| {
            options
                .allow
                .iter()
                .map(|id| PublicKeyCredentialDescriptor::public_key(id.clone()))
                .collect()
        }),
        extensions: (!inputs.is_empty()).then_some(inputs),
        options: Some(AuthenticatorOptions {
            rk: None,
            up: None,
            uv: (options.user_verification_required && token.is_none()).then_some(true),
        }),
        pin_uv_auth_param: token.map(|t| t.auth_param(&hash)),
        pin_uv_auth_protocol: token.map(|t| u64::from(t.protocol)),
    };
    let response = ctap.get_assertion(&request)?;
    let fallback = options.allow.first().cloned();
    let mut json = authentication_json(&response, client_data, fallback);
    if let Some(outputs) = authenticator_extension_outputs(&response.auth_data) {
        if let (Some((protocol, shared)), Some(HmacSecretOutput::Secret(enc))) =
            (&hmac_shared, &outputs.hmac_secret)
        {
            let plain = protocol
                .decrypt(shared, enc)
                .map_err(|e| PlatformError::Encoding(format!("hmac-secret output: {e}")))?;
            let mut results = serde_json::Map::new();
            for (i, chunk) in plain.chunks(32).enumerate() {
                results.insert(
                    format!("output{}", i + 1),
                    Base64Url(chunk.to_vec()).encode().into(),
                );
            }
            json.client_extension_results
                .insert("hmacGetSecret".into(), serde_json::Value::Object(results));
        }
        if let Some(CredBlobOutput::Blob(blob)) = &outputs.cred_blob {
            json.client_extension_results.insert(
                "getCredBlob".into(),
                Base64Url(blob.clone()).encode().into(),
            );
        }
    }
    Ok(json)
}

/// The extension outputs in assertion authenticator data, when the ED flag is set.
fn authenticator_extension_outputs(auth_data: &[u8]) -> Option<ExtensionOutputs> {
    let parsed = crate::webauthn::AuthenticatorData::from_bytes(auth_data).ok()?;
    ExtensionOutputs::from_cbor(parsed.extensions.as_ref()?).ok()
}

/// Turns a getAssertion answer into AuthenticationResponseJSON.
pub fn authentication_json(
    response: &GetAssertionResponse,
    client_data_json: Vec<u8>,
    single_allowed: Option<Vec<u8>>,
) -> AuthenticationResponseJson {
    // The credential member may be omitted when allowList had exactly one entry.
    let id = response
        .credential
        .as_ref()
        .map(|c| c.id.clone())
        .or(single_allowed)
        .unwrap_or_default();
    AuthenticationResponseJson {
        id: Base64Url(id.clone()).encode(),
        raw_id: Base64Url(id),
        response: AssertionResponseJson {
            client_data_json: Base64Url(client_data_json),
            authenticator_data: Base64Url(response.auth_data.clone()),
            signature: Base64Url(response.signature.clone()),
            user_handle: response.user.as_ref().map(|u| Base64Url(u.id.clone())),
        },
        authenticator_attachment: None,
        client_extension_results: serde_json::Map::new(),
        type_: "public-key".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rp_id_must_fit_the_origin() {
        check_rp_id("example.org", "https://example.org").unwrap();
        check_rp_id("example.org", "https://login.example.org:8443/path").unwrap();
        check_rp_id("localhost", "http://localhost:8080").unwrap();
        for (rp, origin) in [
            ("example.org", "http://example.org"),
            ("example.org", "https://example.org.evil.com"),
            ("evil.com", "https://example.org"),
            ("127.0.0.1", "https://127.0.0.1"),
            ("", "https://example.org"),
            ("example.org", "example.org"),
        ] {
            assert!(check_rp_id(rp, origin).is_err(), "{rp} on {origin}");
        }
    }

    #[test]
    fn client_data_is_what_browsers_send() {
        let cdj = client_data_json("webauthn.create", &[1, 2, 3], "https://example.org");
        assert_eq!(
            std::str::from_utf8(&cdj).unwrap(),
            r#"{"type":"webauthn.create","challenge":"AQID","origin":"https://example.org","crossOrigin":false}"#
        );
    }
}
